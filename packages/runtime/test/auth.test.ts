// Group 8: the token in the client. It goes only to operations whose spec
// requires it and only to the client's own origin; a 401 is replayed once
// with a fresh token (unless the body cannot be sent twice); and no log line
// ever carries the Authorization header, a token or the client secret.
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as dapi from '../../dapi/src/index.ts';
import * as dexero from '../../dexero-fd/src/index.ts';
import * as finexer from '../../finexer/src/index.ts';
import { DapiEmulator } from '../../testing/src/emulators/dapi.ts';
import { DexeroFdEmulator } from '../../testing/src/emulators/dexero-fd.ts';
import { AuthenticationError } from '../src/index.ts';
import {
  bearerOf,
  drive,
  expectNoSecretsIn,
  json,
  MemoryLogger,
  type RecordedRequest,
  rejectionOf,
  renderings,
  retrySteps,
  startServer,
  type TestServer,
} from './helpers.ts';

const CLIENT_ID = 'fd-auth-client';
const CLIENT_SECRET = 'fd-auth-client-secret-0f9e8d7c';
const RECORDS = 'GET /services/v6/rest/records.json';
const TOKEN = 'POST /oauth/token.action';

let fd: DexeroFdEmulator;
let other: TestServer;
let logger: MemoryLogger;
beforeAll(async () => {
  fd = await new DexeroFdEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET }).start();
  other = await startServer();
});
afterAll(() => Promise.all([fd.close(), other.close()]));
beforeEach(() => {
  fd.reset();
  fd.tokens.revokeAll();
  other.reset();
  logger = new MemoryLogger();
});

const client = <T extends boolean = false>(extra: { throwOnError?: T; maxRetries?: number } = {}) =>
  dexero.createClient({
    baseUrl: fd.apiBaseUrl,
    auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: fd.tokenUrl },
    logger,
    logLevel: 'debug',
    ...extra,
  });
const bearers = (route: string) => fd.requests.filter((r) => `${r.method} ${r.path}` === route).map((r) => bearerOf(r));
/** Every token the emulator issued in this test, read from the token endpoint's answers as the client used them. */
const issued = () => [...new Set(fd.requests.map((r) => bearerOf(r)).filter((t): t is string => t !== undefined))];
const guarded = (r: RecordedRequest) =>
  fd.tokens.isValid(bearerOf(r))
    ? json(200, { id: 7 })
    : json(401, { message: 'invalid token' }, { 'www-authenticate': 'Bearer error="invalid_token"' });

describe('auth in the client', () => {
  it('a failing token store is a TokenStoreError for the caller, not a ConnectionError retried like the network', async () => {
    const store = {
      get: async () => {
        throw new Error('store down');
      },
      set: async () => undefined,
      delete: async () => undefined,
    };
    const c = dexero.createClient({
      baseUrl: fd.apiBaseUrl,
      auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: fd.tokenUrl, store },
      logger,
      logLevel: 'debug',
      throwOnError: true,
    });
    const error = await rejectionOf(c.GET('/records.{format}', {}));
    expect(error).toMatchObject({ name: 'TokenStoreError', code: 'token_store_error' });
    expect(fd.requests).toHaveLength(0);
    expect(logger.lines.filter((l) => l.message === 'retrying')).toEqual([]);
  });

  it('client credentials share a store given in auth: two clients, one token request', async () => {
    const { MemoryTokenStore } = await import('@portico/auth');
    const store = new MemoryTokenStore();
    const make = () =>
      dexero.createClient({
        baseUrl: fd.apiBaseUrl,
        auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: fd.tokenUrl, store, key: 'reports' },
      });
    for (const c of [make(), make()]) expect((await c.GET('/records.{format}', {})).data).toEqual({ records: [] });
    expect(fd.count(TOKEN)).toBe(1);
    expect(new Set(bearers(RECORDS)).size).toBe(1);
  });

  it('an operation that requires the token gets it, fetched once and cached', async () => {
    const c = client();
    for (let i = 0; i < 3; i++) expect((await c.GET('/records.{format}', {})).data).toEqual({ records: [] });
    expect(fd.count(TOKEN)).toBe(1);
    const sent = bearers(RECORDS);
    expect(sent).toHaveLength(3);
    expect(new Set(sent).size).toBe(1);
    expect(sent[0]).toMatch(/^dexero_at_/);
  });

  it('an operation that does not require it gets no Authorization header, and no token is fetched for it', async () => {
    fd.inject('POST /services/v6/rest/oauth/token.action', json(400, { error: 'invalid_request' }));
    await client().POST('/oauth/token.action', { body: { grant_type: 'client_credentials', scope: 'read' } } as never);
    expect(fd.requests).toHaveLength(1);
    expect(fd.requests[0]!.headers.authorization).toBeUndefined();
    expect(fd.count(TOKEN)).toBe(0);
  });

  it('a static token is not sent to the public operations of Finexer and Dapi', async () => {
    other.on('GET /', () => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>Finexer</html>' }));
    const fx = finexer.createClient({ baseUrl: other.url, auth: { accessToken: 'finexer-static-token' } });
    expect((await fx.GET('/', { params: { query: { client_id: 'app_1' } } })).data).toBe('<html>Finexer</html>');
    expect(other.requests[0]!.headers.authorization).toBeUndefined();

    // Dapi's emulator refuses an ExchangeToken call that carries any Authorization header.
    const emulator = await new DapiEmulator({ appSecret: 'dapi-app-secret-for-auth' }).start();
    try {
      const link = emulator.connect();
      const d = dapi.createClient({ baseUrl: emulator.apiBaseUrl, auth: { accessToken: 'dapi-static-token' } });
      const { data } = await d.POST('/auth/ExchangeToken', {
        body: { appSecret: 'dapi-app-secret-for-auth', accessCode: link.accessCode, connectionID: link.connectionID },
      });
      expect(data).toMatchObject({ success: true });
      expect(emulator.requests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await emulator.close();
    }
  });

  it('a per-request baseUrl on another origin gets no Authorization header; one on the same origin does', async () => {
    other.on('GET /elsewhere/records.json', () => json(200, { records: [] }));
    const c = client();
    const away = await c.GET('/records.{format}', { baseUrl: `${other.url}/elsewhere` });
    expect(away.response.status).toBe(200);
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]!.headers.authorization).toBeUndefined();

    fd.inject('GET /v7/records.json', (r) => json(200, { records: [], sawToken: bearerOf(r) !== undefined }));
    const home = await c.GET('/records.{format}', { baseUrl: `${fd.url}/v7` });
    expect(home.data).toMatchObject({ sawToken: true });
  });

  it('a redirect to another origin does not carry the token along', async () => {
    other.on('GET /moved/records.json', () => json(200, { records: [] }));
    fd.inject(RECORDS, { status: 302, headers: { location: `${other.url}/moved/records.json` } });
    const { data } = await client().GET('/records.{format}', {});
    expect(data).toEqual({ records: [] });
    expect(bearers(RECORDS)).toHaveLength(1);
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]!.headers.authorization).toBeUndefined();
  });

  it("another origin's 401, after a redirect that dropped the token, renews nothing and is not replayed", async () => {
    other.on('GET /moved/records.json', () => json(401, { message: 'who are you?' }));
    fd.inject(RECORDS, { status: 302, headers: { location: `${other.url}/moved/records.json` } }, { times: 3 });
    const c = client();
    for (let call = 0; call < 3; call++) expect((await c.GET('/records.{format}', {})).response.status).toBe(401);
    expect(fd.count(TOKEN)).toBe(1);
    expect(fd.count(RECORDS)).toBe(3);
    expect(other.requests).toHaveLength(3);
  });

  it('nor does a 401 from the API origin once a redirect through another origin dropped the token', async () => {
    other.on('GET /bounce', () => ({ status: 302, headers: { location: `${fd.url}/services/v6/rest/landing` } }));
    fd.inject(RECORDS, { status: 302, headers: { location: `${other.url}/bounce` } });
    fd.inject('GET /services/v6/rest/landing', (r) => json(401, { message: 'no token', sawToken: bearerOf(r) !== undefined }));
    const { response, error } = await client().GET('/records.{format}', {});
    expect(response.status).toBe(401);
    expect(error).toMatchObject({ sawToken: false });
    expect(fd.count(TOKEN)).toBe(1);
  });

  it('a 401 after a redirect within the API origin, token carried along, is renewed and replayed', async () => {
    const c = client();
    await c.GET('/records.{format}', {});
    fd.tokens.revokeAll();
    fd.inject(RECORDS, { status: 307, headers: { location: '/services/v6/rest/current' } }, { times: 2 });
    fd.inject('GET /services/v6/rest/current', (r) => (fd.tokens.isValid(bearerOf(r)) ? json(200, { records: [] }) : json(401, {})), {
      times: 2,
    });
    const { data } = await c.GET('/records.{format}', {});
    expect(data).toEqual({ records: [] });
    expect(fd.count(TOKEN)).toBe(2);
    const [rejected, replayed] = bearers('GET /services/v6/rest/current');
    expect(replayed).not.toBe(rejected);
  });

  it('concurrent 401s share one renewal', async () => {
    const c = client();
    await c.GET('/records.{format}', {});
    fd.tokens.revokeAll();
    const results = await Promise.all([1, 2, 3].map(() => c.GET('/records.{format}', {})));
    expect(results.map((r) => r.response.status)).toEqual([200, 200, 200]);
    expect(fd.count(TOKEN)).toBe(2);
  });

  it('a 401 is replayed once with a fresh token', async () => {
    const c = client();
    await c.GET('/records.{format}', {});
    fd.tokens.revokeAll(); // the server forgets the token the client has cached
    const { data, response } = await c.GET('/records.{format}', {});
    expect(response.status).toBe(200);
    expect(data).toEqual({ records: [] });
    const [first, rejected, replayed] = bearers(RECORDS);
    expect(rejected).toBe(first);
    expect(replayed).not.toBe(rejected);
    expect(fd.count(TOKEN)).toBe(2);
    expect(fd.count('GET /services/v6/rest/records.json')).toBe(3);
  });

  it('only once: a second 401 goes to the caller', async () => {
    fd.inject(RECORDS, json(401, { message: 'nope' }), { times: 5 });
    const error = await rejectionOf(client({ throwOnError: true }).GET('/records.{format}', {}));
    expect(error).toBeInstanceOf(AuthenticationError);
    expect(error).toMatchObject({ status: 401, body: { message: 'nope' } });
    expect(fd.count(RECORDS)).toBe(2);
    expect(fd.count(TOKEN)).toBe(2);
    const [a, b] = bearers(RECORDS);
    expect(a).not.toBe(b);
  });

  it('a static token cannot be renewed, so its 401 is not replayed', async () => {
    other.on('GET /customers/cus_1', () => json(401, { error: { message: 'expired' } }));
    const fx = finexer.createClient({ baseUrl: other.url, auth: { accessToken: 'finexer-expired-token' } });
    expect((await fx.GET('/customers/{id}', { params: { path: { id: 'cus_1' } } })).response.status).toBe(401);
    expect(other.requests).toHaveLength(1);
  });

  it('a ReadableStream body is not replayed after a 401', async () => {
    fd.inject('PUT /services/v6/rest/records/7.json', guarded, { times: 3 });
    const c = client();
    await c.GET('/records.{format}', {});
    fd.tokens.revokeAll();
    const { response } = await c.PUT('/records/{recordId}.{format}', {
      params: { path: { recordId: 7 } },
      body: new Blob(['{"firstName":"Marie"}']).stream() as never,
      bodySerializer: (body: unknown) => body,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as never);
    expect(response.status).toBe(401);
    const puts = fd.requests.filter((r) => r.method === 'PUT');
    expect(puts).toHaveLength(1);
    expect(puts[0]!.body).toBe('{"firstName":"Marie"}');
    // Nor was a new token fetched for a replay that cannot happen.
    expect(fd.count(TOKEN)).toBe(1);
  });

  it('a replayable PUT body is sent again, whole, with the fresh token', async () => {
    fd.inject('PUT /services/v6/rest/records/7.json', guarded, { times: 3 });
    const c = client();
    await c.GET('/records.{format}', {});
    fd.tokens.revokeAll();
    const { data } = await c.PUT('/records/{recordId}.{format}', { params: { path: { recordId: 7 } }, body: { firstName: 'Marie' } });
    expect(data).toEqual({ id: 7 });
    const puts = fd.requests.filter((r) => r.method === 'PUT');
    expect(puts.map((r) => r.body)).toEqual(['{"firstName":"Marie"}', '{"firstName":"Marie"}']);
    expect(bearerOf(puts[0]!)).not.toBe(bearerOf(puts[1]!));
  });

  it('logging, at debug level, never shows the Authorization header, a token or the client secret', async () => {
    const c = client({ maxRetries: 1 });
    await c.GET('/records.{format}', {});
    fd.tokens.revokeAll();
    await c.GET('/records.{format}', {}); // 401, renewal, replay
    // The retry sleeps run on the fake clock, so this stays fast.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const sleeps = retrySteps(logger);
      fd.inject(RECORDS, json(503, { message: 'maintenance' }));
      await drive(c.GET('/records.{format}', {}), sleeps); // a retry
      fd.inject(RECORDS, { status: 0, reset: true }, { times: 2 });
      await rejectionOf(drive(c.GET('/records.{format}', {}), sleeps)); // a connection failure, retried, then thrown
    } finally {
      vi.useRealTimers();
    }

    const tokens = issued();
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    expect(logger.lines.length).toBeGreaterThan(8);
    expect(logger.lines.some((l) => l.message.includes('401'))).toBe(true);
    const texts = logger.texts();
    expectNoSecretsIn(texts, [...tokens, CLIENT_SECRET], 'the log');
    for (const text of texts) expect(text).not.toMatch(/authorization|bearer|basic /i);
  });

  it('the logger gets only the levels asked for, and nothing when off', async () => {
    fd.inject(RECORDS, json(503, { message: 'maintenance' }, { 'retry-after-ms': '1' }));
    const warnOnly = new MemoryLogger();
    await dexero
      .createClient({
        baseUrl: fd.apiBaseUrl,
        auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: fd.tokenUrl },
        logger: warnOnly,
        logLevel: 'warn',
      })
      .GET('/records.{format}', {});
    expect(warnOnly.lines.map((l) => l.level)).toEqual(['warn']);
    expect(warnOnly.lines[0]).toMatchObject({
      message: '[portico] retrying',
      fields: { method: 'GET', path: '/records.{format}', status: 503, attempt: 1, delayMs: 1 },
    });

    const byDefault = new MemoryLogger();
    await dexero
      .createClient({
        baseUrl: fd.apiBaseUrl,
        auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: fd.tokenUrl },
        logger: byDefault,
      })
      .GET('/records.{format}', {});
    expect(byDefault.lines.map((l) => `${l.level} ${l.message}`)).toEqual(['info [portico] response']);

    const off = new MemoryLogger();
    await dexero
      .createClient({
        baseUrl: fd.apiBaseUrl,
        auth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, tokenUrl: fd.tokenUrl },
        logger: off,
        logLevel: 'off',
      })
      .GET('/records.{format}', {});
    expect(off.lines).toEqual([]);
  });

  it('a rejected client secret surfaces as the auth error, without the secret in any rendering', async () => {
    const c = dexero.createClient({
      baseUrl: fd.apiBaseUrl,
      auth: { clientId: CLIENT_ID, clientSecret: 'wrong-secret-3c2b1a09', tokenUrl: fd.tokenUrl },
      logger,
      logLevel: 'debug',
    });
    const error = await rejectionOf(c.GET('/records.{format}', {}));
    expect(error).toBeInstanceOf(dexero.PorticoError);
    expect(fd.count(RECORDS)).toBe(0);
    expectNoSecretsIn(renderings(error), ['wrong-secret-3c2b1a09'], 'the error');
    expectNoSecretsIn(logger.texts(), ['wrong-secret-3c2b1a09'], 'the log');
  });
});
