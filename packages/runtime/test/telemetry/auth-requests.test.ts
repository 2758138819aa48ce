// Review 11: the auth layer's own requests in telemetry. A session observed
// by one client leaves its flow and sibling sessions alone; a token URL
// holding what the request carries never shows it; a fetch answering
// without a promise, a propagator writing the connection's own fields, and
// a caller's headers object are each as without telemetry.
import { propagation, type TextMapPropagator } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type AuthProfile, createOAuthFlow, type Tokens } from '@portico/auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { json, startServer, type TestServer } from '../helpers.ts';
import { createClient, serve } from './client.ts';
import { registerGlobals, Telemetry } from './otel.ts';

registerGlobals();
const otel = new Telemetry();
const SECRET = 'path-secret-0123456789';
let api: TestServer;
let counter = 0;
let issued: string[];

beforeAll(async () => {
  api = await startServer();
});
afterAll(() => api.close());
beforeEach(() => {
  api.reset();
  otel.reset();
  ({ issued } = serve(api, () => `token-${++counter}-0123456789`));
});
const token = () => {
  const issuing = `token-${++counter}-0123456789`;
  issued.push(issuing);
  return json(200, { access_token: issuing, token_type: 'Bearer', expires_in: 3600 });
};

const profile = (tokenPath: string, clientAuthentication: 'client_secret_basic' | 'client_secret_post'): AuthProfile => ({
  grants: ['authorization_code', 'refresh_token'],
  authorization: {
    url: `${api.url}/authorize`,
    pkce: 'required',
    parameters: { client_id: '{clientId}', code_challenge: '{codeChallenge}', code_challenge_method: 'S256', state: '{state}' },
  },
  token: {
    url: `${api.url}${tokenPath}`,
    clientAuthentication,
    bodyFormat: 'form',
    grants: {
      authorization_code: { parameters: { grant_type: 'authorization_code', code: '{code}', code_verifier: '{codeVerifier}' } },
      refresh_token: { parameters: { grant_type: 'refresh_token', refresh_token: '{refreshToken}' } },
    },
    response: { accessToken: '/access_token', tokenType: '/token_type', expiresIn: '/expires_in' },
  },
  apply: { header: 'Authorization', scheme: 'Bearer' },
});
const expired = (n: number): Tokens => ({
  accessToken: `stale-${n}-0123456789`,
  tokenType: 'Bearer',
  refreshToken: `refresh-${n}-0123456789`,
  expiresAt: Date.now() - 60_000,
  raw: {},
});
const posts = () => otel.named('POST');
const item = (client: any) => client.GET('/items/{id}', { params: { path: { id: 7 } } });

describe('a session a client with telemetry observes', () => {
  it('is the only one traced: its sibling sessions and its flow’s own requests make no span and send no trace context', async () => {
    const flow = createOAuthFlow(profile('/oauth/token', 'client_secret_post'), {
      clientId: 'telemetry-client',
      clientSecret: 'telemetry-secret-0123456789',
      redirectUri: 'https://app.example.com/callback',
    });
    // Trace context sent everywhere by this telemetry: a request it traces carries a traceparent.
    const traced = createClient({
      baseUrl: api.url,
      auth: flow.session(expired(1)),
      telemetry: otel.instrumentation({ propagateToOtherOrigins: true }),
    });
    const untraced = createClient({ baseUrl: api.url, auth: flow.session(expired(2)) });
    expect((await item(traced)).data).toEqual({ id: 7 });
    expect((await item(untraced)).data).toEqual({ id: 7 });
    const { state, codeVerifier } = await flow.authorizationUrl();
    await flow.exchangeCode({ code: 'code-0123456789', state }, { state, codeVerifier });

    const tokenRequests = api.seen('POST /oauth/token');
    expect(tokenRequests.map((r) => new URLSearchParams(r.body.toString()).get('grant_type'))).toEqual([
      'refresh_token',
      'refresh_token',
      'authorization_code',
    ]);
    expect(tokenRequests.map((r) => r.headers.traceparent !== undefined)).toEqual([true, false, false]);
    expect(posts()).toHaveLength(1);
    expect(otel.one('portico.auth.renew').attributes['portico.auth.outcome']).toBe('renewed');
  });
});

describe('a token URL that holds what its request carries', () => {
  const path = `/t/${SECRET}/oauth/token`;
  beforeEach(() => {
    api.on(`POST ${path}`, token);
  });

  it.each([
    ['client_secret_post', undefined],
    ['client_secret_basic', undefined],
    ['client_secret_basic', true],
  ] as const)(
    '(%s, recordQueryValues %s): url.full shows neither the secret in its path nor in its query',
    async (method, recordQueryValues) => {
      const telemetry = otel.instrumentation(recordQueryValues === undefined ? {} : { recordQueryValues });
      // The secret as a path segment and a query value: a profile's odd URL, or one an attacker could steer.
      const flow = createOAuthFlow(profile(`${path}?cs=${SECRET}&tenant=acme`, method), {
        clientId: 'telemetry-client',
        clientSecret: SECRET,
        redirectUri: 'https://app.example.com/callback',
        fetch: telemetry.fetch(),
      });
      const { state, codeVerifier } = await flow.authorizationUrl();
      const session = flow.session(await flow.exchangeCode({ code: 'code-0123456789', state }, { state, codeVerifier }));
      await item(createClient({ baseUrl: api.url, auth: session, telemetry }));
      expect(api.seen(`POST ${path}`)).toHaveLength(1);
      const [exchange] = posts();
      expect(exchange!.attributes['url.full']).not.toContain(SECRET);
      expect(JSON.stringify(otel.spans().map((span) => [span.name, span.attributes, span.events]))).not.toContain(SECRET);
    },
  );

  it('a lifecycle’s own token request: client credentials whose token URL holds the client secret', async () => {
    const client = createClient({
      baseUrl: api.url,
      auth: { clientId: 'telemetry-client', clientSecret: SECRET, tokenUrl: `${api.url}${path}?cs=${SECRET}` },
      telemetry: otel.instrumentation({ recordQueryValues: true }),
    });
    expect((await item(client)).data).toEqual({ id: 7 });
    const [request] = posts();
    expect(request!.attributes['url.full']).toBeDefined();
    expect(JSON.stringify(otel.spans().map((span) => span.attributes))).not.toContain(SECRET);
  });
});

describe('as without telemetry', () => {
  it('a token fetch that answers without a promise', async () => {
    // The flow's fetch, as a test stub or an adapter may be written: a Response, not a promise of one.
    const fetch = (() =>
      new Response(JSON.stringify(token().body), {
        headers: { 'content-type': 'application/json' },
      })) as unknown as typeof globalThis.fetch;
    for (const telemetry of [undefined, otel.instrumentation()]) {
      const flow = createOAuthFlow(profile('/oauth/token', 'client_secret_post'), {
        clientId: 'telemetry-client',
        clientSecret: 'telemetry-secret-0123456789',
        redirectUri: 'https://app.example.com/callback',
        fetch,
      });
      expect((await item(createClient({ baseUrl: api.url, auth: flow.session(expired(3)), telemetry }))).data).toEqual({ id: 7 });
    }
    expect(otel.one('portico.auth.renew').attributes['portico.auth.outcome']).toBe('renewed');
  });

  it('a propagator writing the connection’s own fields, or what frames the body: none is sent, the trace context is', async () => {
    const hostile: TextMapPropagator = {
      inject: (ctx, carrier, setter) => {
        new W3CTraceContextPropagator().inject(ctx, carrier, setter);
        for (const [name, value] of [
          ['transfer-encoding', 'chunked'],
          ['connection', 'upgrade'],
          ['keep-alive', 'timeout=5'],
          ['upgrade', 'h2c'],
          ['expect', '100-continue'],
          ['te', 'trailers'],
          ['trailer', 'x-sum'],
          ['proxy-connection', 'close'],
        ])
          setter.set(carrier, name!, value!);
      },
      extract: (ctx) => ctx,
      fields: () => [
        'traceparent',
        'transfer-encoding',
        'connection',
        'keep-alive',
        'upgrade',
        'expect',
        'te',
        'trailer',
        'proxy-connection',
      ],
    };
    propagation.disable();
    propagation.setGlobalPropagator(hostile);
    try {
      const client = createClient({
        baseUrl: api.url,
        auth: { clientId: 'telemetry-client', clientSecret: 'telemetry-secret-0123456789', tokenUrl: `${api.url}/oauth/token` },
        telemetry: otel.instrumentation({ propagateToOtherOrigins: true }),
      });
      expect((await item(client)).data).toEqual({ id: 7 });
      for (const request of [...api.seen('POST /oauth/token'), ...api.seen('GET /items/7')]) {
        expect(request.headers.traceparent).toBeDefined();
        for (const name of ['transfer-encoding', 'keep-alive', 'upgrade', 'expect', 'te', 'trailer', 'proxy-connection'])
          expect(request.headers[name]).toBeUndefined();
        expect(request.headers.connection).not.toBe('upgrade');
      }
    } finally {
      propagation.disable();
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
  });

  it('fetch() writes the trace context into a copy, never into the caller’s headers', async () => {
    const fetch = otel.instrumentation({ propagateToOtherOrigins: true }).fetch();
    const record: Record<string, string> = { accept: 'application/json' };
    const headers = new Headers({ accept: 'application/json' });
    const request = new Request(`${api.url}/items/7`, { headers: { accept: 'application/json' } });
    for (const sent of [fetch(`${api.url}/items/7`, { headers: record }), fetch(`${api.url}/items/7`, { headers }), fetch(request)])
      await (await sent).arrayBuffer();
    expect(api.seen('GET /items/7').map((r) => r.headers.traceparent !== undefined)).toEqual([true, true, true]);
    expect(record).toEqual({ accept: 'application/json' });
    expect([...headers.keys()]).toEqual(['accept']);
    expect([...request.headers.keys()]).toEqual(['accept']);
  });
});
