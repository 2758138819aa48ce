// Issue 25: no secret in any exported telemetry. Canaries are planted in
// every input a call has (the client secret, the tokens the token endpoint
// issues, API keys in the query and in a header, an authorization code and a
// PKCE verifier, body fields, a header of the caller's), and a hostile API
// answers with fast-check's choice of statuses, waits, redirects and echoes
// of everything it knows into bodies, error codes, request ids and Location.
// Every span name, attribute, event and status, and every metric attribute
// the real SDK exports, is searched for every canary in every spelling.
import {
  type AuthInput,
  type AuthProfile,
  authenticatorFor,
  type CredentialProfile,
  clientCredentials,
  createCredentialAuthenticator,
  createOAuthFlow,
} from '@portico/auth';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineClient, type ProviderSpec } from '../../src/index.ts';
import { paginate } from '../../src/pagination.ts';
import { canary, expectNoSecretsIn, json, type RecordedRequest, type Reply, startServer, type TestServer } from '../helpers.ts';
import { registerGlobals, Telemetry } from './otel.ts';

registerGlobals();
const otel = new Telemetry();
let api: TestServer;
let other: TestServer;

const CANARIES = {
  clientSecret: canary('client-secret'),
  accessToken: canary('access-token'),
  refreshToken: canary('refresh-token'),
  renewedRefreshToken: canary('renewed-refresh-token'),
  queryKey: canary('query-api-key'),
  headerKey: canary('header-api-key'),
  code: canary('authorization-code'),
  verifier: canary('pkce-verifier'),
  body: canary('body-field'),
  header: canary('caller-header'),
};
const ALL = Object.values(CANARIES);

type Answer = 'ok' | 'error' | 'unauthorized' | 'retry' | 'redirect-away' | 'redirect-home' | 'redirect-echo' | 'reset';
let script: Answer[] = [];
/** How the token endpoint answers, in turn (then `ok`): it echoes what it was sent too. */
type TokenAnswer = 'ok' | 'error' | 'redirect' | 'reset';
let tokenScript: TokenAnswer[] = [];

/** The token requests of this run: the same hostile host issues the tokens, and so knows the client secret. */
let tokenRequests: string[] = [];

/** The canaries a request carried (anywhere: headers, query, body), and what its token requests did. */
function carried(request: RecordedRequest): string[] {
  const text = `${JSON.stringify(request.headers)} ${request.query} ${decodeURIComponent(request.body)} ${tokenRequests.join(' ')}`;
  return ALL.filter((value) => text.includes(value));
}

/** The hostile API: it answers as the script says and echoes every canary its request carried, wherever it can. */
function answer(request: RecordedRequest): Reply {
  const next = script.shift() ?? 'ok';
  const got = carried(request);
  const pick = (i: number) => got[i % got.length] ?? 'req-1';
  const echo = { 'x-request-id': pick(0), 'request-id': pick(1), 'x-correlation-id': pick(2), 'x-amzn-requestid': pick(3) };
  const body = { code: pick(4), error: pick(5), error_code: pick(6), message: request.body, echoed: got };
  switch (next) {
    case 'ok':
      return json(200, { items: got, next: null, id: 7 }, echo);
    case 'error':
      return json(400, body, echo);
    case 'unauthorized':
      return json(401, body, echo);
    case 'retry':
      return json(503, body, { ...echo, 'retry-after': '0' });
    case 'redirect-away':
      return { status: 302, headers: { ...echo, location: `${other.url}/landing?${request.query}` } };
    case 'redirect-home':
      return { status: 307, headers: { ...echo, location: `/items/7?${request.query}` } };
    case 'redirect-echo':
      return { status: 307, headers: { ...echo, location: `/items/7?ref=${encodeURIComponent(pick(7))}` } };
    case 'reset':
      return { status: 200, reset: true };
  }
}

beforeAll(async () => {
  api = await startServer();
  other = await startServer();
  api.on('POST /oauth/token', (request) => {
    const body = decodeURIComponent(request.body);
    tokenRequests.push(`${body} ${request.headers.authorization ?? ''}`);
    // A hostile token endpoint echoes the secrets it was sent (client secret, code, verifier, refresh token) wherever it can.
    const got = carried(request);
    const pick = (i: number) => got[i % got.length] ?? 'req-1';
    const echo = { 'x-request-id': pick(0), 'request-id': pick(1), 'x-correlation-id': pick(2), 'x-amzn-requestid': pick(3) };
    switch (tokenScript.shift() ?? 'ok') {
      case 'error':
        return json(400, { error: pick(4), error_description: body, code: pick(5) }, echo);
      case 'redirect':
        return { status: 302, headers: { ...echo, location: `${other.url}/landing?${body}` } };
      case 'reset':
        return { status: 200, reset: true };
      default: {
        // A refresh rotates the refresh token: the server then knows the spent one and the new one.
        const refreshed = body.includes('grant_type=refresh_token');
        return json(
          200,
          {
            access_token: refreshed ? `${CANARIES.accessToken}-renewed` : CANARIES.accessToken,
            refresh_token: refreshed ? CANARIES.renewedRefreshToken : CANARIES.refreshToken,
            token_type: 'Bearer',
            expires_in: 3600,
          },
          echo,
        );
      }
    }
  });
  for (const route of ['GET /items/7', 'GET /items', 'POST /items']) api.on(route, answer);
  other.on('GET /landing', (request) => json(200, { echoed: carried(request) }, { 'x-request-id': carried(request).at(-1)! }));
});
afterAll(() => Promise.all([api.close(), other.close()]));

const operations = {
  'GET /items': {
    requiresAuth: true as const,
    pagination: { style: 'cursor' as const, items: '/items', cursorParam: 'cursor', nextCursor: '/next' },
  },
  'POST /items': { requiresAuth: true as const, formBody: true as const, retrySafe: true as const },
};

function oauthClient() {
  const spec: ProviderSpec = {
    slug: 'canaries',
    defaultBaseUrl: api.url,
    auth: {
      grants: ['client_credentials'],
      token: {
        url: `${api.url}/oauth/token`,
        clientAuthentication: 'client_secret_post',
        bodyFormat: 'form',
        grants: { client_credentials: { parameters: { grant_type: 'client_credentials' } } },
        response: { accessToken: '/access_token', refreshToken: '/refresh_token', tokenType: '/token_type', expiresIn: '/expires_in' },
        error: { code: '/error', description: '/error_description' },
      },
      apply: { header: 'Authorization', scheme: 'Bearer' },
    },
    operations,
    operationDefaults: { requiresAuth: true },
  };
  return defineClient<any, AuthInput>(
    spec,
    authenticatorFor(clientCredentials),
  )({
    auth: { clientId: 'canary-client', clientSecret: CANARIES.clientSecret, tokenUrl: `${api.url}/oauth/token` },
    headers: { 'X-Caller-Secret': CANARIES.header },
    maxRetries: 2,
    telemetry: otel.instrumentation(),
  });
}

function keyClient() {
  const profile: CredentialProfile = {
    credentials: [
      {
        Query: { type: 'apiKey', in: 'query', name: 'api_key', input: 'queryKey' },
        Header: { type: 'apiKey', in: 'header', name: 'X-Api-Key', input: 'headerKey' },
      },
    ],
  };
  const spec: ProviderSpec<CredentialProfile> = {
    slug: 'canary-keys',
    defaultBaseUrl: api.url,
    auth: profile,
    operations,
    operationDefaults: { requiresAuth: true },
  };
  return defineClient<any, Record<string, string>, Record<never, never>, CredentialProfile>(
    spec,
    createCredentialAuthenticator,
  )({
    auth: { queryKey: CANARIES.queryKey, headerKey: CANARIES.headerKey },
    maxRetries: 2,
    telemetry: otel.instrumentation({ propagateToOtherOrigins: true }),
  });
}

/**
 * A user's session (review 9, finding 1): the code exchanged with its PKCE
 * verifier by the flow, the client secret sent as client_secret_basic, then
 * `oauth().session()` given to the client, which renews by refresh. The
 * client has no credential-named option: what the session holds is what
 * telemetry must refuse. Resolves with the client and the secrets it made.
 */
async function sessionClient(): Promise<{ client: any; secrets: string[] }> {
  const profile: AuthProfile = {
    grants: ['authorization_code', 'refresh_token'],
    authorization: {
      url: `${api.url}/authorize`,
      pkce: 'required',
      state: 'required',
      parameters: {
        client_id: '{clientId}',
        redirect_uri: '{redirectUri}',
        response_type: 'code',
        code_challenge: '{codeChallenge}',
        code_challenge_method: 'S256',
        state: '{state}',
      },
    },
    token: {
      url: `${api.url}/oauth/token`,
      clientAuthentication: 'client_secret_basic',
      bodyFormat: 'form',
      grants: {
        authorization_code: {
          parameters: { grant_type: 'authorization_code', code: '{code}', code_verifier: '{codeVerifier}', redirect_uri: '{redirectUri}' },
        },
        refresh_token: { parameters: { grant_type: 'refresh_token', refresh_token: '{refreshToken}' } },
      },
      response: { accessToken: '/access_token', refreshToken: '/refresh_token', tokenType: '/token_type', expiresIn: '/expires_in' },
      error: { code: '/error', description: '/error_description' },
    },
    apply: { header: 'Authorization', scheme: 'Bearer' },
  };
  // Its token requests (the code exchange, each refresh) traced too, by a fetch of the telemetry's own.
  const flow = createOAuthFlow(profile, {
    clientId: 'canary-client',
    clientSecret: CANARIES.clientSecret,
    redirectUri: 'https://app.example.com/callback',
    baseUrl: api.url,
    fetch: otel.instrumentation().fetch(),
  });
  const { state, codeVerifier } = await flow.authorizationUrl();
  const tokens = await flow.exchangeCode({ code: CANARIES.code, state }, { state, codeVerifier });
  const spec: ProviderSpec = {
    slug: 'canary-session',
    defaultBaseUrl: api.url,
    auth: profile,
    operations,
    operationDefaults: { requiresAuth: true },
    paginate,
  };
  const client = defineClient<any, AuthInput>(
    spec,
    authenticatorFor(),
  )({
    auth: flow.session(tokens),
    maxRetries: 2,
    telemetry: otel.instrumentation(),
  });
  return { client, secrets: [codeVerifier!, btoa(`canary-client:${CANARIES.clientSecret}`)] };
}

type Call = 'get' | 'post' | 'walk';
async function run(client: any, call: Call): Promise<void> {
  const query = { code_verifier: CANARIES.verifier, q: 'plain' };
  const attempt = async () => {
    if (call === 'get')
      return client.GET('/items/{id}', { params: { path: { id: 7 }, query }, headers: { Authorization2: CANARIES.header } });
    if (call === 'post')
      return client.POST('/items', {
        body: { code: CANARIES.code, code_verifier: CANARIES.verifier, note: CANARIES.body },
        params: { query },
      });
    for await (const _ of client.paginate('/items', { params: { query } }, { maxPages: 2 }));
  };
  await attempt().catch(() => undefined);
}

/** Everything the SDK exported, as text. */
async function exported(): Promise<string[]> {
  const spans = otel.spans().map((span) =>
    JSON.stringify({
      name: span.name,
      attributes: span.attributes,
      events: span.events.map((e) => ({ name: e.name, attributes: e.attributes })),
      status: span.status,
      links: span.links,
    }),
  );
  const points = (await otel.points()).map((p) => JSON.stringify({ name: p.name, attributes: p.attributes }));
  return [...spans, ...points];
}

describe('no secret in exported telemetry', () => {
  it('whatever the API answers, no canary reaches a span, an event or a metric', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('oauth', 'keys'),
        fc.constantFrom<Call>('get', 'post', 'walk'),
        fc.array(fc.constantFrom<Answer>('ok', 'error', 'unauthorized', 'retry', 'redirect-away', 'redirect-home', 'reset'), {
          maxLength: 4,
        }),
        fc.array(fc.constantFrom<TokenAnswer>('ok', 'error', 'redirect', 'reset'), { maxLength: 2 }),
        async (who, call, answers, tokenAnswers) => {
          runs++;
          otel.reset();
          script = [...answers];
          tokenScript = [...tokenAnswers];
          tokenRequests = [];
          await run(who === 'oauth' ? oauthClient() : keyClient(), call);
          tokenScript = [];
          const texts = await exported();
          expect(texts.length).toBeGreaterThan(0);
          // The auth layer's spans are searched too: each renewal, and each token request as a CLIENT span.
          expect(otel.named('POST').length).toBe(tokenRequests.length);
          if (tokenRequests.length > 0) expect(otel.named('portico.auth.renew').length).toBeGreaterThan(0);
          expectNoSecretsIn(texts, ALL, `telemetry (${who}, ${call}, ${answers.join(' ')}; token ${tokenAnswers.join(' ')})`);
        },
      ),
      { numRuns: 40, seed: 25 },
    );
    console.log(`telemetry canaries: ${runs} runs`);
  });

  it('a user session’s secrets, before and after a refresh, are refused wherever the API echoes them (review 9, finding 1)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Call>('get', 'post', 'walk'),
        fc.array(fc.constantFrom<Answer>('ok', 'error', 'unauthorized', 'retry', 'redirect-home', 'redirect-echo'), { maxLength: 3 }),
        fc.constantFrom<TokenAnswer>('ok', 'error', 'redirect'),
        async (call, answers, refreshAnswer) => {
          otel.reset();
          tokenRequests = [];
          const { client, secrets } = await sessionClient();
          // The first answer is a 401: the session spends its refresh token; the next ones echo the old and the new.
          script = ['unauthorized', ...answers];
          tokenScript = [refreshAnswer];
          await run(client, call);
          tokenScript = [];
          expect(tokenRequests.some((request) => request.includes('grant_type=refresh_token'))).toBe(true);
          // The code exchange and each refresh: one CLIENT span each, the refreshes under the session's renewals.
          expect(otel.named('POST').length).toBe(tokenRequests.length);
          expect(otel.named('portico.auth.renew').map((s) => s.attributes['portico.auth.grant_type'])).toContain('refresh_token');
          expectNoSecretsIn(
            await exported(),
            [...ALL, ...secrets],
            `telemetry (session, ${call}, ${answers.join(' ')}; refresh ${refreshAnswer})`,
          );
        },
      ),
      { numRuns: 25, seed: 9 },
    );
  });

  it('what is recorded of an honest answer stays: the request id, the provider code and the query names', async () => {
    otel.reset();
    api.inject('GET /items/7', json(400, { code: 'bad_item' }, { 'x-request-id': 'req-abc-123' }));
    await run(keyClient(), 'get');
    const request = otel.spans().find((s) => s.attributes['url.full'] !== undefined)!;
    expect(request.attributes['http.response.header.x-request-id']).toEqual(['req-abc-123']);
    expect(request.attributes['url.full']).toBe(`${api.url}/items/7?code_verifier=REDACTED&q=REDACTED&api_key=REDACTED`);
    const call = otel.spans().find((s) => s.attributes['portico.provider.error_code'] !== undefined)!;
    expect(call.attributes['portico.provider.error_code']).toBe('bad_item');
  });
});
