// Issue 25: `telemetry: openTelemetry()` against the real OpenTelemetry SDK
// (in-memory exporter and reader) and a loopback API: the spans a call, a
// retry, a 401 renewal, a failure, a redirect and a walk of pages make, how
// they nest, the W3C context sent (only where it may go), and the metrics.
import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { type AuthProfile, createOAuthFlow } from '@portico/auth';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { rejectionOf, startServer, type TestServer } from '../helpers.ts';
import { createClient, serve } from './client.ts';
import { registerGlobals, Telemetry } from './otel.ts';

let api: TestServer;
let other: TestServer;
let issued: string[];
let counter = 0;
const otel = new Telemetry();
registerGlobals();

beforeAll(async () => {
  api = await startServer();
  other = await startServer();
  other.on('GET /landing', () => ({ status: 200, body: { id: 7 } }));
});
afterAll(() => Promise.all([api.close(), other.close()]));
beforeEach(() => {
  api.reset();
  other.reset();
  otel.reset();
  issued = serve(api, () => `token-${++counter}-0123456789`).issued;
});

const client = (extra: Record<string, unknown> = {}) =>
  createClient({
    baseUrl: api.url,
    auth: { clientId: 'telemetry-client', clientSecret: 'telemetry-secret-0123456789', tokenUrl: `${api.url}/oauth/token` },
    telemetry: otel.instrumentation(),
    ...extra,
  });
const item = (c: ReturnType<typeof client>) => c.GET('/items/{id}', { params: { path: { id: 7 } } });
const port = () => Number(new URL(api.url).port);
const traceparent = (span: { spanContext(): { traceId: string; spanId: string } }) =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

describe('a call', () => {
  it('is one INTERNAL span named by its template, under the caller’s, with a CLIENT span for its request and one for the token wait', async () => {
    const c = client();
    await otel.tracer.startActiveSpan('caller', async (caller) => {
      expect((await item(c)).data).toEqual({ id: 7 });
      caller.end();
    });
    expect(otel.outline()).toBe(
      ['caller', '  GET /items/{id}', '    portico.auth.wait', '      portico.auth.renew', '        POST', '    GET /items/{id}'].join(
        '\n',
      ),
    );
    const [call, request] = otel.named('GET /items/{id}').sort((a, b) => a.kind - b.kind);
    expect(call!.kind).toBe(SpanKind.INTERNAL);
    expect(call!.attributes).toEqual({
      'http.request.method': 'GET',
      'url.template': '/items/{id}',
      'server.address': '127.0.0.1',
      'server.port': port(),
      'http.response.status_code': 200,
    });
    expect(call!.status.code).toBe(SpanStatusCode.UNSET);
    expect(request!.kind).toBe(SpanKind.CLIENT);
    expect(request!.attributes).toEqual({
      'http.request.method': 'GET',
      'server.address': '127.0.0.1',
      'server.port': port(),
      'url.full': `${api.url}/items/7`,
      'url.template': '/items/{id}',
      'http.response.status_code': 200,
      'http.response.header.x-request-id': ['req-7'],
    });
    expect(otel.one('portico.auth.wait').attributes).toEqual({ 'portico.auth.trigger': 'token' });
    // The first token is a renewal (none stored) by the client's grant; its token request a CLIENT span of its own, no body or answer in it.
    expect(otel.one('portico.auth.renew').attributes).toEqual({
      'portico.auth.grant_type': 'client_credentials',
      'portico.auth.reason': 'missing',
      'portico.auth.outcome': 'renewed',
    });
    const token = otel.one('POST');
    expect(token.kind).toBe(SpanKind.CLIENT);
    expect(token.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'server.port': port(),
      'url.full': `${api.url}/oauth/token`,
      'http.response.status_code': 200,
    });
    // No trace context to the token endpoint: it is not the API's origin to the client (here it happens to be).
    expect(api.seen('POST /oauth/token')[0]!.headers.traceparent).toBeUndefined();
    // The W3C context the API received is the request span's.
    expect(api.seen('GET /items/7')[0]!.headers.traceparent).toBe(traceparent(request!));
  });

  it('a cached token costs no wait: the second call has its request span only', async () => {
    const c = client();
    await item(c);
    otel.reset();
    await item(c);
    expect(otel.outline()).toBe(['GET /items/{id}', '  GET /items/{id}'].join('\n'));
  });

  it('records http.client.request.duration per request, in seconds, and the token wait', async () => {
    await item(client());
    const points = await otel.points();
    const request = points.find((p) => p.name === 'http.client.request.duration' && p.attributes['url.template'] === '/items/{id}');
    expect(request).toMatchObject({
      unit: 's',
      attributes: {
        'http.request.method': 'GET',
        'server.address': '127.0.0.1',
        'server.port': port(),
        'http.response.status_code': 200,
      },
    });
    expect(points.find((p) => p.name === 'portico.auth.wait.duration')).toMatchObject({ attributes: { 'portico.auth.trigger': 'token' } });
  });
});

describe('a retried call', () => {
  it('429 with Retry-After: a span per request, the second with http.request.resend_count, and the wait between as its own span', async () => {
    const c = client();
    await item(c);
    otel.reset();
    api.inject('GET /items/7', { status: 429, body: { error: 'slow_down' }, headers: { 'retry-after': '0' } }, { times: 1 });
    expect((await item(c)).data).toEqual({ id: 7 });
    expect(otel.outline()).toBe(['GET /items/{id}', '  GET /items/{id}', '  portico.retry.wait', '  GET /items/{id}'].join('\n'));
    const requests = otel.named('GET /items/{id}').filter((s) => s.kind === SpanKind.CLIENT);
    expect(requests.map((s) => [s.attributes['http.response.status_code'], s.attributes['http.request.resend_count']])).toEqual([
      [429, undefined],
      [200, 1],
    ]);
    expect(requests[0]!.attributes['error.type']).toBe('429');
    expect(requests[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(otel.one('portico.retry.wait').attributes).toEqual({
      'portico.retry.reason': 'retry_after',
      'http.response.status_code': 429,
      'portico.retry.delay_ms': 0,
      'portico.retry.attempt': 1,
    });
    const retries = (await otel.points()).filter((p) => p.name === 'portico.client.retries');
    expect(retries).toEqual([
      expect.objectContaining({
        unit: '{retry}',
        value: 1,
        attributes: {
          'http.request.method': 'GET',
          'url.template': '/items/{id}',
          'portico.retry.reason': 'retry_after',
          'http.response.status_code': 429,
        },
      }),
    ]);
  });

  it('a lost connection: the wait is a backoff, named by the failure’s code', async () => {
    const c = client();
    await item(c);
    otel.reset();
    api.inject('GET /items/7', { status: 200, reset: true }, { times: 1 });
    expect((await item(c)).data).toEqual({ id: 7 });
    expect(otel.one('portico.retry.wait').attributes).toMatchObject({
      'portico.retry.reason': 'backoff',
      'error.type': 'connection_error',
    });
    const [failed] = otel.named('GET /items/{id}').filter((s) => s.kind === SpanKind.CLIENT);
    expect(failed!.attributes['error.type']).toBe('connection_error');
  });
});

describe('a 401', () => {
  it('renews and replays: the refused request, the wait for the new token, the replay with http.request.resend_count', async () => {
    const c = client();
    await item(c);
    otel.reset();
    api.inject('GET /items/7', { status: 401, body: { error: 'invalid_token' } }, { times: 1 });
    expect((await item(c)).data).toEqual({ id: 7 });
    expect(issued).toHaveLength(2);
    // The renewal after the 401, then the read of the new token the replay carries.
    expect(otel.outline()).toBe(
      [
        'GET /items/{id}',
        '  GET /items/{id}',
        '  portico.auth.wait',
        '    portico.auth.renew',
        '      POST',
        '  portico.auth.wait',
        '  GET /items/{id}',
      ].join('\n'),
    );
    expect(otel.named('portico.auth.wait').map((s) => s.attributes)).toEqual([
      { 'portico.auth.trigger': 'unauthorized', 'portico.auth.outcome': 'replayed' },
      { 'portico.auth.trigger': 'token' },
    ]);
    const requests = otel.named('GET /items/{id}').filter((s) => s.kind === SpanKind.CLIENT);
    expect(requests.map((s) => s.attributes['http.request.resend_count'])).toEqual([undefined, 1]);
    // Each request carried its own span's context.
    expect(
      api
        .seen('GET /items/7')
        .slice(-2)
        .map((r) => r.headers.traceparent),
    ).toEqual(requests.map(traceparent));
    expect(otel.one('portico.auth.renew').attributes).toMatchObject({
      'portico.auth.reason': 'rejected',
      'portico.auth.outcome': 'renewed',
    });
    // Counted by grant type, reason and outcome (the metrics add up over this file: one renewal after a 401 so far).
    expect(
      (await otel.points()).find((p) => p.name === 'portico.auth.renewals' && p.attributes['portico.auth.reason'] === 'rejected'),
    ).toMatchObject({
      value: 1,
      attributes: { 'portico.auth.grant_type': 'client_credentials', 'portico.auth.outcome': 'renewed' },
    });
  });
});

describe('a failed call', () => {
  it('thrown: error.type is the Portico error code, the provider’s own code beside it, the status Error', async () => {
    api.inject('GET /items/7', { status: 404, body: { code: 'item_missing', message: 'no such item' } });
    const error = await rejectionOf(item(client({ throwOnError: true })));
    expect(error).toMatchObject({ code: 'not_found' });
    const [call, request] = otel.named('GET /items/{id}').sort((a, b) => a.kind - b.kind);
    expect(call!.attributes).toMatchObject({
      'error.type': 'not_found',
      'http.response.status_code': 404,
      'portico.provider.error_code': 'item_missing',
    });
    expect(call!.status.code).toBe(SpanStatusCode.ERROR);
    expect(request!.attributes['error.type']).toBe('404');
  });

  it('returned as `{ error }`: the same error.type as the throwing style would raise', async () => {
    api.inject('GET /items/7', { status: 403, body: { error: 'not_yours' } });
    const { error } = await item(client());
    expect(error).toEqual({ error: 'not_yours' });
    const call = otel.named('GET /items/{id}').find((s) => s.kind === SpanKind.INTERNAL)!;
    expect(call.attributes).toMatchObject({ 'error.type': 'permission_denied', 'portico.provider.error_code': 'not_yours' });
  });

  it('no server: connection_error on the call and on its request, and in the duration metric', async () => {
    const closed = await startServer();
    await closed.close();
    const c = createClient({
      baseUrl: closed.url,
      auth: { accessToken: 'static-token-0123456789' },
      maxRetries: 0,
      telemetry: otel.instrumentation(),
    });
    expect(await rejectionOf(item(c))).toMatchObject({ code: 'connection_error' });
    for (const span of otel.named('GET /items/{id}')) expect(span.attributes['error.type']).toBe('connection_error');
    const port = Number(new URL(closed.url).port);
    expect(
      (await otel.points()).find((p) => p.name === 'http.client.request.duration' && p.attributes['server.port'] === port),
    ).toMatchObject({ attributes: { 'error.type': 'connection_error' } });
  });

  it('a caller’s abort is no error: the status stays unset', async () => {
    const aborted = new AbortController();
    aborted.abort();
    await rejectionOf(client().GET('/items/{id}', { params: { path: { id: 7 } }, signal: aborted.signal }));
    const call = otel.named('GET /items/{id}').find((s) => s.kind === SpanKind.INTERNAL)!;
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
    expect(call.attributes['error.type']).toBeUndefined();
  });
});

describe('pages', () => {
  it('a walk is one span, each page a call under it with its requests', async () => {
    const seen: unknown[] = [];
    for await (const value of client().paginate('/items', {})) seen.push(value);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
    expect(otel.outline()).toBe(
      [
        'portico.paginate',
        '  GET /items',
        '    portico.auth.wait',
        '      portico.auth.renew',
        '        POST',
        '    GET /items',
        '  GET /items',
        '    GET /items',
        '  GET /items',
        '    GET /items',
      ].join('\n'),
    );
    expect(otel.one('portico.paginate').attributes).toMatchObject({ 'url.template': '/items', 'portico.pages': 3 });
    const pages = otel.named('GET /items').filter((s) => s.kind === SpanKind.INTERNAL);
    expect(pages.map((s) => s.attributes['portico.page'])).toEqual([1, 2, 3]);
    expect(
      otel
        .named('GET /items')
        .filter((s) => s.kind === SpanKind.CLIENT)
        .map((s) => s.attributes['url.full']),
    ).toEqual([`${api.url}/items`, `${api.url}/items?cursor=REDACTED`, `${api.url}/items?cursor=REDACTED`]);
  });

  it('a walk stopped early ends its span with the pages read', async () => {
    for await (const value of client().paginate('/items', {})) if (value === 2) break;
    expect(otel.one('portico.paginate').attributes['portico.pages']).toBe(2);
    expect(otel.spans().every((s) => s.ended)).toBe(true);
  });
});

describe('a user session’s own token requests', () => {
  it('the code exchange (through telemetry.fetch()) and the revocation are CLIENT spans of their endpoints; what they send and get is not recorded', async () => {
    api.on('POST /oauth/revoke', () => ({ status: 200 }));
    const profile: AuthProfile = {
      grants: ['authorization_code'],
      authorization: {
        url: `${api.url}/authorize`,
        pkce: 'required',
        parameters: { client_id: '{clientId}', code_challenge: '{codeChallenge}', code_challenge_method: 'S256', state: '{state}' },
      },
      token: {
        url: `${api.url}/oauth/token`,
        clientAuthentication: 'client_secret_post',
        bodyFormat: 'form',
        grants: {
          authorization_code: { parameters: { grant_type: 'authorization_code', code: '{code}', code_verifier: '{codeVerifier}' } },
        },
        response: { accessToken: '/access_token', tokenType: '/token_type', expiresIn: '/expires_in' },
      },
      revocation: {
        url: `${api.url}/oauth/revoke`,
        clientAuthentication: 'client_secret_post',
        bodyFormat: 'form',
        parameters: { token: '{token}' },
        successStatus: [200],
      },
      apply: { header: 'Authorization', scheme: 'Bearer' },
    };
    const telemetry = otel.instrumentation();
    const flow = createOAuthFlow(profile, {
      clientId: 'telemetry-client',
      clientSecret: 'telemetry-secret-0123456789',
      redirectUri: 'https://app.example.com/callback',
      fetch: telemetry.fetch(),
    });
    const { state, codeVerifier } = await flow.authorizationUrl();
    const session = flow.session(await flow.exchangeCode({ code: 'code-0123456789', state }, { state, codeVerifier }));
    expect((await item(createClient({ baseUrl: api.url, auth: session, telemetry }))).data).toEqual({ id: 7 });
    await session.revoke();
    const posts = otel.named('POST');
    expect(posts.map((span) => [span.kind, span.attributes['url.full'], span.attributes['http.response.status_code']])).toEqual([
      [SpanKind.CLIENT, `${api.url}/oauth/token`, 200],
      [SpanKind.CLIENT, `${api.url}/oauth/revoke`, 200],
    ]);
    // The session's token was at hand: no wait, no renewal.
    expect(otel.named('portico.auth.renew')).toEqual([]);
    expect(JSON.stringify(posts.map((span) => span.attributes))).not.toMatch(/code-0123456789|telemetry-secret|token-\d/);
  });
});

describe('redirects and the W3C context', () => {
  it('a hop within the API’s origin is its own request span and gets the context; a hop elsewhere gets none', async () => {
    const c = client();
    await item(c);
    otel.reset();
    // 307 to another path of the API, whose answer is a 302 away.
    api.inject('GET /items/7', { status: 307, headers: { location: '/moved' } }, { times: 1 });
    api.on('GET /moved', () => ({ status: 302, headers: { location: `${other.url}/landing` } }));
    expect((await item(c)).data).toEqual({ id: 7 });
    const requests = otel.spans().filter((s) => s.kind === SpanKind.CLIENT);
    expect(requests.map((s) => [s.name, s.attributes['http.response.status_code'], s.attributes['http.request.resend_count']])).toEqual([
      ['GET /items/{id}', 307, undefined],
      ['GET', 302, 1],
      ['GET', 200, 2],
    ]);
    expect(requests.map((s) => s.attributes['url.full'])).toEqual([`${api.url}/items/7`, `${api.url}/moved`, `${other.url}/landing`]);
    expect(api.seen('GET /moved')[0]!.headers.traceparent).toBe(traceparent(requests[1]!));
    expect(other.seen('GET /landing')[0]!.headers.traceparent).toBeUndefined();
    const call = otel.named('GET /items/{id}').find((s) => s.kind === SpanKind.INTERNAL)!;
    expect(call.events.map((e) => [e.name, e.attributes?.['http.response.status_code']])).toEqual([
      ['portico.redirect', 307],
      ['portico.redirect', 302],
    ]);
  });

  it('a redirect to another origin: no traceparent there, unless propagateToOtherOrigins', async () => {
    for (const propagateToOtherOrigins of [false, true]) {
      other.reset();
      const c = client({ telemetry: otel.instrumentation({ propagateToOtherOrigins }) });
      api.inject('GET /items/7', { status: 302, headers: { location: `${other.url}/landing` } }, { times: 1 });
      expect((await item(c)).data).toEqual({ id: 7 });
      expect(api.seen('GET /items/7').at(-1)!.headers.traceparent).toBeDefined();
      expect(other.seen('GET /landing')[0]!.headers.traceparent !== undefined).toBe(propagateToOtherOrigins);
    }
  });

  it('the application’s baggage goes only with propagateBaggage; the trace context goes either way', async () => {
    // A global is set once: replaced only after disable().
    propagation.disable();
    propagation.setGlobalPropagator(
      new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
    );
    try {
      const baggage = propagation.createBaggage({ 'app.user': { value: 'user-4711' } });
      for (const propagateBaggage of [undefined, false, true]) {
        api.reset();
        const c = client({ telemetry: otel.instrumentation(propagateBaggage === undefined ? {} : { propagateBaggage }) });
        await context.with(propagation.setBaggage(context.active(), baggage), () => item(c));
        const sent = api.seen('GET /items/7')[0]!.headers;
        expect(sent.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
        expect(sent.baggage).toBe(propagateBaggage === true ? 'app.user=user-4711' : undefined);
        // The token request (another origin's, by the profile) gets neither.
        expect(api.seen('POST /oauth/token').every((r) => r.headers.baggage === undefined)).toBe(true);
      }
    } finally {
      propagation.disable();
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
  });

  it('no propagator set, no context sent; no telemetry, no context and no span', async () => {
    propagation.disable();
    try {
      await item(client());
      expect(api.seen('GET /items/7')[0]!.headers.traceparent).toBeUndefined();
    } finally {
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
    otel.reset();
    await item(client({ telemetry: undefined }));
    expect(api.seen('GET /items/7')[1]!.headers.traceparent).toBeUndefined();
    expect(otel.spans()).toEqual([]);
  });
});
