// Credentials the user already holds: an API key (header, query, cookie),
// HTTP Basic and a static bearer token, applied as the profile's rules say,
// checked on the wire by a loopback server. Each goes only to operations that
// require it and only to the API's own origin, and never shows in an error,
// an inspect, JSON or a log line.
import { inspect } from 'node:util';
import {
  ConfigurationError,
  type CredentialInput,
  type CredentialProfile,
  type CredentialRules,
  createCredentialAuthenticator,
} from '@portico/auth';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { defineClient, type ProviderSpec } from '../src/index.ts';
import {
  canary,
  expectNoSecretsIn,
  json,
  MemoryLogger,
  type RecordedRequest,
  renderings,
  startServer,
  type TestServer,
} from './helpers.ts';

let api: TestServer;
let other: TestServer;
beforeAll(async () => {
  api = await startServer();
  other = await startServer();
  const echo = (r: RecordedRequest) => json(200, { path: r.path });
  api.on('GET /items', echo).on('POST /items', echo).on('GET /public', echo);
  other.on('GET /elsewhere/items', echo).on('GET /landing', echo);
});
afterAll(() => Promise.all([api.close(), other.close()]));
beforeEach(() => {
  api.reset();
  other.reset();
});

function clientFor(
  credential: CredentialRules,
  auth: CredentialInput,
  extra: { throwOnError?: boolean; logger?: MemoryLogger; fetch?: typeof fetch } = {},
) {
  const spec: ProviderSpec<CredentialProfile> = {
    slug: 'throwaway',
    defaultBaseUrl: api.url,
    auth: { credentials: [{ Key: credential }] },
    operations: { 'GET /items': { requiresAuth: true }, 'POST /items': { requiresAuth: true }, 'GET /public': {} },
  };
  const create = defineClient<any, CredentialInput, Record<never, never>, CredentialProfile>(spec, createCredentialAuthenticator);
  return create({ auth, logLevel: 'debug', ...extra }) as any;
}

const HEADER: CredentialRules = { type: 'apiKey', in: 'header', name: 'X-API-Key' };
const QUERY: CredentialRules = { type: 'apiKey', in: 'query', name: 'api_key' };
const COOKIE: CredentialRules = { type: 'apiKey', in: 'cookie', name: 'key' };
const BASIC: CredentialRules = { type: 'basic' };
const BEARER: CredentialRules = { type: 'bearer', header: 'Authorization', scheme: 'Bearer' };

describe('API key in a header', () => {
  it('goes under the scheme name on operations that require it, and on no other', async () => {
    const c = clientFor(HEADER, { apiKey: 'key-header-0123456789' });
    await c.GET('/items');
    await c.GET('/public');
    const [items, open] = api.requests;
    expect(items!.headers['x-api-key']).toBe('key-header-0123456789');
    expect(items!.headers.authorization).toBeUndefined();
    expect(open!.headers['x-api-key']).toBeUndefined();
  });

  it('is not sent to another origin given per request', async () => {
    const c = clientFor(HEADER, { apiKey: 'key-header-0123456789' });
    await c.GET('/items', { baseUrl: `${other.url}/elsewhere` });
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]!.headers['x-api-key']).toBeUndefined();
  });

  it('stays behind when the API redirects to another origin, and follows a redirect on its own origin', async () => {
    api.inject('GET /items', { status: 302, headers: { location: `${other.url}/landing` } });
    const c = clientFor(HEADER, { apiKey: 'key-header-0123456789' });
    expect((await c.GET('/items')).data).toEqual({ path: '/landing' });
    expect(other.requests[0]!.headers['x-api-key']).toBeUndefined();

    api.reset();
    api.inject('GET /items', { status: 307, headers: { location: '/public' } });
    expect((await c.GET('/items')).data).toEqual({ path: '/public' });
    expect(api.requests.map((r) => r.headers['x-api-key'])).toEqual(['key-header-0123456789', 'key-header-0123456789']);
  });

  it("leaves the caller's Authorization, Proxy-Authorization, Cookie and Host behind on another origin, as fetch does", async () => {
    const own = {
      authorization: 'Basic caller-0123456789',
      'proxy-authorization': 'Basic proxy-0123456789',
      cookie: 'session=s-0123',
      host: 'api.example.test',
    };
    // What the runtime hands fetch: Node's fetch sets Host itself, a custom one may send what it is given.
    const handed: Headers[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      handed.push(new Headers(input instanceof Request ? input.headers : init?.headers));
      return globalThis.fetch(input, init);
    };
    api.inject('GET /items', { status: 302, headers: { location: `${other.url}/landing` } });
    const c = clientFor(HEADER, { apiKey: 'key-header-0123456789' }, { fetch });
    expect((await c.GET('/items', { headers: { ...own, 'x-trace': 't1' } })).data).toEqual({ path: '/landing' });
    expect(Object.fromEntries(handed[0]!)).toMatchObject(own);
    expect([...handed[1]!]).toEqual([['x-trace', 't1']]);
    const landed = other.requests[0]!.headers;
    for (const name of ['authorization', 'proxy-authorization', 'cookie', 'x-api-key']) expect(landed[name], name).toBeUndefined();
    expect(landed['x-trace']).toBe('t1');
  });

  it('a POST redirected with 303 arrives as a GET without the body', async () => {
    api.inject('POST /items', { status: 303, headers: { location: '/items' } });
    const c = clientFor(HEADER, { apiKey: 'key-header-0123456789' });
    expect((await c.POST('/items', { body: { name: 'x' } })).data).toEqual({ path: '/items' });
    expect(api.requests.map((r) => `${r.method} ${r.body}`)).toEqual(['POST {"name":"x"}', 'GET ']);
  });
});

describe('API key in the query', () => {
  it("is added to the query beside the caller's parameters, and replaces one of the same name", async () => {
    const c = clientFor(QUERY, { apiKey: 'key query&=/+ 0123' });
    await c.GET('/items', { params: { query: { page: 2, api_key: 'caller-value' } } });
    const q = api.requests[0]!.query;
    expect(q.getAll('api_key')).toEqual(['key query&=/+ 0123']);
    expect(q.get('page')).toBe('2');
  });

  it('keeps a POST body intact', async () => {
    const c = clientFor(QUERY, { apiKey: 'key-query-0123456789' });
    await c.POST('/items', { body: { name: 'widget' } });
    const [r] = api.requests;
    expect(r!.query.get('api_key')).toBe('key-query-0123456789');
    expect(JSON.parse(r!.body)).toEqual({ name: 'widget' });
    expect(r!.contentType).toBe('application/json');
  });

  it('is not added to a public operation', async () => {
    await clientFor(QUERY, { apiKey: 'key-query-0123456789' }).GET('/public');
    expect([...api.requests[0]!.query.keys()]).toEqual([]);
  });

  it("stays behind when the API copies the request's query into a redirect to another origin, under any name", async () => {
    const key = 'key query&=/+ 0123';
    // A server that forwards its whole query (the key too, once more under another name) to where it redirects.
    api.inject('GET /items', (r) => ({
      status: 302,
      headers: { location: `${other.url}/landing?${r.query}&copy=${encodeURIComponent(key)}&sig=a%20b` },
    }));
    const c = clientFor(QUERY, { apiKey: key });
    expect((await c.GET('/items', { params: { query: { page: 2 } } })).data).toEqual({ path: '/landing' });
    expect(api.requests[0]!.query.get('api_key')).toBe(key);
    expect([...other.requests[0]!.query]).toEqual([
      ['page', '2'],
      ['sig', 'a b'],
    ]);
  });

  it('goes along a redirect on its own origin that keeps the query', async () => {
    api.inject('GET /items', (r) => ({ status: 307, headers: { location: `/public?${r.query}` } }));
    await clientFor(QUERY, { apiKey: 'key-query-0123456789' }).GET('/items');
    expect(api.requests.map((r) => r.query.get('api_key'))).toEqual(['key-query-0123456789', 'key-query-0123456789']);
  });
});

describe('API key in a cookie', () => {
  it("joins the caller's cookies, replacing one of the same name", async () => {
    const c = clientFor(COOKIE, { apiKey: 'key-cookie-0123456789' });
    await c.GET('/items', { headers: { cookie: 'theme=dark; key=caller' } });
    expect(api.requests[0]!.headers.cookie).toBe('theme=dark; key=key-cookie-0123456789');
    await c.GET('/items');
    expect(api.requests[1]!.headers.cookie).toBe('key=key-cookie-0123456789');
  });

  it('refuses a key a cookie cannot carry', () => {
    expect(() => clientFor(COOKIE, { apiKey: 'has;semicolon-0123' })).toThrow(ConfigurationError);
  });
});

describe('HTTP Basic', () => {
  it('sends RFC 7617 credentials: UTF-8 user-pass, base64', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 24, unit: 'grapheme' }).filter((s) => !/[:\r\n\0]/.test(s)),
        fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }).filter((s) => !/[\r\n\0]/.test(s)),
        async (username, password) => {
          api.reset();
          await clientFor(BASIC, { username, password }).GET('/items');
          const header = api.requests[0]!.headers.authorization!;
          expect(header).toMatch(/^Basic [A-Za-z0-9+/]+=*$/);
          expect(Buffer.from(header.slice(6), 'base64').toString('utf8')).toBe(`${username}:${password}`);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses a username with a colon, and missing or empty fields, with ConfigurationError', () => {
    for (const auth of [
      { username: 'a:b', password: 'pw' },
      { username: '', password: 'pw' },
      { username: 'u' },
      { apiKey: 'k' },
      { username: 'u', password: 'line\r\nbreak' },
    ]) {
      const error = (() => {
        try {
          clientFor(BASIC, auth as CredentialInput);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as ConfigurationError).code).toBe('configuration_error');
      expect((error as Error).message).not.toContain('line\r\nbreak');
    }
  });
});

describe('static bearer token', () => {
  it('goes in the header with the scheme the profile gives', async () => {
    await clientFor(BEARER, { accessToken: 'static-token-0123456789' }).GET('/items');
    expect(api.requests[0]!.headers.authorization).toBe('Bearer static-token-0123456789');
    await clientFor({ type: 'bearer', header: 'Authorization', scheme: 'token' }, { accessToken: 'static-token-0123456789' }).GET('/items');
    expect(api.requests[1]!.headers.authorization).toBe('token static-token-0123456789');
  });

  it('a 401 goes to the caller, without a replay', async () => {
    api.inject('GET /items', json(401, { message: 'bad credentials' }));
    const { response } = await clientFor(BEARER, { accessToken: 'static-token-0123456789' }).GET('/items');
    expect(response.status).toBe(401);
    expect(api.requests).toHaveLength(1);
  });

  it('refuses an http:// API on another host before sending anything', () => {
    const spec: ProviderSpec<CredentialProfile> = {
      slug: 't',
      defaultBaseUrl: 'http://api.example.com',
      auth: { credentials: [{ B: BEARER }] },
      operations: {},
    };
    expect(() =>
      defineClient<any, CredentialInput, Record<never, never>, CredentialProfile>(
        spec,
        createCredentialAuthenticator,
      )({ auth: { accessToken: 'static-token-0123456789' } }),
    ).toThrow(/http:\/\/api\.example\.com/);
  });
});

describe('redaction', () => {
  const flavours: [string, CredentialRules, (secret: string) => CredentialInput][] = [
    ['header key', HEADER, (s) => ({ apiKey: s })],
    ['query key', QUERY, (s) => ({ apiKey: s })],
    ['cookie key', COOKIE, (s) => ({ apiKey: s })],
    ['basic password', BASIC, (s) => ({ username: 'user', password: s })],
    ['static token', BEARER, (s) => ({ accessToken: s })],
  ];

  it.each(flavours)(
    '%s: a server that echoes the request never gets it into an error, a log line or a printout',
    async (_name, rules, input) => {
      const secret = canary('credential');
      const logger = new MemoryLogger();
      // The server echoes everything it saw: URL, headers, in the body of an error.
      api.inject('GET /items', (r) => json(500, { url: `${r.path}?${r.query}`, headers: r.headers, seen: r.headers }), { times: 3 });
      const auth = input(secret);
      const c = clientFor(rules, auth, { throwOnError: true, logger });
      const error = await c.GET('/items', { maxRetries: 0 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      const basic = api.requests[0]!.headers.authorization?.split(' ')[1];
      const secrets = [secret, ...(basic ? [basic] : [])];
      expectNoSecretsIn(renderings(error), secrets, 'the error');
      expectNoSecretsIn(logger.texts(), secrets, 'the log');
      expectNoSecretsIn([inspect(c, { depth: Infinity, showHidden: true }), JSON.stringify(c) ?? ''], secrets, 'the client');
      const authenticator = createCredentialAuthenticator({ credentials: [{ K: rules }] }, auth, { baseUrl: api.url });
      expectNoSecretsIn(
        [inspect(authenticator, { depth: Infinity, showHidden: true }), JSON.stringify(authenticator)],
        secrets,
        'the authenticator',
      );
    },
  );

  it('holds for any key the server echoes in any spelling', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 8, maxLength: 48, unit: 'grapheme-ascii' }).filter((s) => s.trim() === s && !/[\s",;\\]/.test(s)),
        fc.constantFrom(HEADER, QUERY, COOKIE),
        async (key, rules) => {
          api.reset();
          api.inject('GET /items', (r) =>
            json(400, { echo: [`${r.query}`, r.headers['x-api-key'], r.headers.cookie, encodeURIComponent(key)] }),
          );
          const error = await clientFor(rules, { apiKey: key }, { throwOnError: true })
            .GET('/items')
            .catch((e: unknown) => e);
          expectNoSecretsIn(renderings(error), [key], 'the error');
        },
      ),
      { numRuns: 40 },
    );
  });
});
