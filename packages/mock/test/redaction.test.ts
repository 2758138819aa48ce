// Secrets never reach the request log, util.inspect or JSON of the mock and
// its controller, nor a MockError: fast-check plants client secrets and app
// secrets of any visible characters, and every token, code and verifier the
// flows carry is looked for in every spelling (raw, percent-, form- and
// JSON-encoded).
import { inspect } from 'node:util';
import * as dapi from '@portico/dapi';
import * as dexeroFd from '@portico/dexero-fd';
import * as expertfile from '@portico/expertfile';
import * as fdx from '@portico/fdx';
import * as finexer from '@portico/finexer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMock, type Mock, MockError, type ProviderSlug, startMock } from '../src/index.js';

// Visible ASCII with the characters that encodings change (% + : / = & ? "), at least 12 long.
const secret = fc.stringMatching(/^[\x21-\x7e]{12,40}$/).filter((s) => !s.includes('\\'));

/** Every spelling of a secret on the wire. */
const spellings = (value: string) => [
  value,
  encodeURIComponent(value),
  new URLSearchParams({ v: value }).toString().slice(2),
  JSON.stringify(value).slice(1, -1),
];

function expectNone(mock: Mock, secrets: readonly string[], extra: unknown[] = []): void {
  const texts = [
    JSON.stringify(mock.controller.requests),
    inspect(mock.controller.requests, { depth: Number.POSITIVE_INFINITY }),
    inspect(mock, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    inspect(mock.controller, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
    JSON.stringify(mock),
    JSON.stringify(mock.controller),
    ...extra.map((e) => `${inspect(e, { depth: Number.POSITIVE_INFINITY })} ${JSON.stringify(e)} ${(e as Error)?.message}`),
  ];
  for (const value of secrets.filter((s) => s.length >= 8)) {
    for (const spelling of spellings(value)) for (const text of texts) expect(text).not.toContain(spelling);
  }
}

/** A fetch that hands requests straight to the mock's handler. */
const through = (mock: Mock) => ((input: RequestInfo | URL, init?: RequestInit) => mock.handle(new Request(input, init))) as typeof fetch;

/** Each provider's flow: sign in, call, renew, end; returns every secret the client held. */
const flows: Record<ProviderSlug, (mock: Mock, planted: string) => Promise<string[]>> = {
  fdx: async (mock, planted) => {
    const f = fdx.oauth({ ...mock.client, ...(mock.authOptions as object), fetch: through(mock) });
    const request = await f.authorizationUrl({ scope: ['customers'] });
    const callback = mock.controller.approve(request.url);
    const tokens = await f.exchangeCode(callback, { state: request.state, codeVerifier: request.codeVerifier! });
    const rotated = await f.refresh(tokens);
    await fdx.createClient({ ...mock.clientOptions, fetch: through(mock), auth: f.session(rotated) }).GET('/customers/current');
    await f.refresh(tokens).catch(() => undefined);
    await f.revoke(rotated);
    return [
      planted,
      request.codeVerifier!,
      new URL(callback).searchParams.get('code')!,
      tokens.accessToken,
      tokens.refreshToken!,
      rotated.accessToken,
      rotated.refreshToken!,
    ];
  },
  finexer: async (mock, planted) => {
    const f = finexer.oauth({ ...mock.client, ...(mock.authOptions as object), fetch: through(mock) });
    const request = await f.authorizationUrl({ scope: ['customer_read'] });
    const callback = mock.controller.approve(request.url);
    const tokens = await f.exchangeCode(callback, { state: request.state });
    await finexer.createClient({ ...mock.clientOptions, fetch: through(mock), auth: f.session(tokens) }).GET('/customers');
    await f.revoke(tokens);
    const signed = await mock.controller.signWebhook('consent.accepted');
    return [
      planted,
      mock.client.webhookSecret!,
      new URL(callback).searchParams.get('code')!,
      tokens.accessToken,
      tokens.refreshToken!,
      signed.headers['fx-signature']!,
    ];
  },
  'dexero-fd': async (mock, planted) => {
    const client = dexeroFd.createClient({
      ...mock.clientOptions,
      fetch: through(mock),
      auth: { ...mock.client, ...(mock.authOptions as object) } as never,
    });
    await client.GET('/records.{format}', { params: { path: { format: 'xml' } } });
    await dexeroFd
      .createClient({
        ...mock.clientOptions,
        fetch: through(mock),
        auth: { ...mock.client, ...(mock.authOptions as object), clientSecret: `${planted}x` } as never,
      })
      .GET('/records.{format}', { params: { path: { format: 'json' } } })
      .catch((error: unknown) => expectNone(mock, [planted], [error]));
    return [planted];
  },
  expertfile: async (mock, planted) => {
    const client = expertfile.createClient({
      ...mock.clientOptions,
      fetch: through(mock),
      auth: { ...mock.client, ...(mock.authOptions as object) } as never,
    });
    await client.GET('/organization/{corporation}/expert', { params: { path: { corporation: 1 } } });
    return [planted];
  },
  dapi: async (mock, planted) => {
    const linked = mock.controller.connect();
    const options = { ...(mock.authOptions as object), fetch: through(mock) };
    const tokens = await dapi.exchangeToken({ appSecret: planted, ...linked }, options);
    const client = dapi.createClient({ ...mock.clientOptions, fetch: through(mock), auth: { accessToken: tokens.accessToken } });
    await client.POST('/data/identity/get', { body: { appSecret: planted, userSecret: linked.userSecret } });
    await dapi.revokeGrant(tokens, { appSecret: planted, userSecret: linked.userSecret }, options);
    return [planted, tokens.accessToken, linked.accessCode, linked.userSecret];
  },
};

describe('a credential-named field the mock does not know is cut from the log, whatever the body', () => {
  // The user's own secret, sent by mistake: a value the mock has never seen, so only its field's name can cut it.
  const unknown = fc.stringMatching(/^[\x20-\x7e]{12,32}$/).map((s) => `REAL-${s}`);
  const field = fc.constantFrom(
    'client_secret',
    'appSecret',
    'refresh_token',
    'access_token',
    'code_verifier',
    'password',
    'userSecret',
    'apiKey',
  );
  const deep = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
  type Shape = (name: string, value: string) => string;
  const shapes: Record<string, Shape> = {
    json: (name, value) => JSON.stringify({ grant_type: 'client_credentials', [name]: value, other: 'x' }),
    'pretty json': (name, value) => JSON.stringify({ nested: { list: [{ [name]: value }] } }, null, 2),
    'json with a trailing comma': (name, value) => `{"a":"b",${JSON.stringify(name)}:${JSON.stringify(value)},}`,
    'json nested 100000 deep beside it': (name, value) => `{${JSON.stringify(name)}:${JSON.stringify(value)},"x":${deep(100_000)}}`,
    'json with the name escaped': (name, value) =>
      `{"${[...name].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}":${JSON.stringify(value)}}`,
    'json with the value in a list': (name, value) => JSON.stringify({ [name]: [value, { deeper: value }] }),
    'json cut short': (name, value) => `{"a":1,${JSON.stringify(name)}:${JSON.stringify(value).slice(0, -1)}`,
    form: (name, value) => new URLSearchParams({ grant_type: 'refresh_token', [name]: value, scope: 'a b' }).toString(),
    'form, name bracketed': (name, value) => new URLSearchParams({ [`user[${name}]`]: value }).toString(),
    'form, name percent-encoded': (name, value) =>
      `a=1&${[...name].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('')}=${encodeURIComponent(value)}`,
    xml: (name, value) => `<request><${name}>${value.replace(/[<&]/g, '')}</${name}></request>`,
  };
  const types = fc.constantFrom(
    undefined,
    'application/json',
    'application/x-www-form-urlencoded',
    'text/plain;charset=UTF-8',
    'application/xml',
  );
  // The token endpoint and an API operation of each, as a client reaches them.
  const targets: [ProviderSlug, string][] = [
    ['dapi', '/v2/auth/ExchangeToken'],
    ['dapi', '/v2/data/accounts/get'],
    ['finexer', '/oauth/token'],
    ['finexer', '/customers'],
    ['fdx', '/oauth2/v4/token'],
    ['expertfile', '/v2/organization/1/expert'],
    ['dexero-fd', '/services/v6/rest/records.xml'],
  ];

  it('JSON that parses or not, any depth, a form under any content type, XML', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets),
        fc.constantFrom(...Object.keys(shapes)),
        field,
        unknown,
        types,
        async ([slug, path], shape, name, value, type) => {
          const mock = createMock(slug);
          const body = shapes[shape]!(name, value);
          await mock.handle(
            new Request(`http://127.0.0.1${path}`, { method: 'POST', headers: type ? { 'content-type': type } : {}, body }),
          );
          expect(mock.controller.requests).toHaveLength(1);
          const logged = JSON.stringify(mock.controller.requests);
          for (const spelling of spellings(value)) expect(logged, `${shape} as ${type}`).not.toContain(spelling);
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});

describe('the request log, inspect and JSON carry no secret', () => {
  for (const slug of Object.keys(flows) as ProviderSlug[]) {
    it(`${slug}: planted client secrets and every token of the flow`, async () => {
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(secret, async (planted) => {
          runs += 1;
          const field = slug === 'dapi' ? 'appSecret' : 'clientSecret';
          const mock = createMock(slug, { client: { [field]: planted } });
          const secrets = await flows[slug](mock, planted);
          expectNone(mock, secrets);
        }),
        { numRuns: 15, seed: 24 },
      );
      console.log(`${slug}: ${runs} planted secrets, none in the log, inspect or JSON`);
    });
  }

  it('a client secret written into a URL, a header or a body is cut in the spelling the URL parser gives it', async () => {
    // Visible ASCII and spaces; in a URL, without the characters that end a path or query (?, #) or that it rewrites (\\, /, %).
    const planted = fc.stringMatching(/^[\x20-\x7e]{12,32}$/).filter((s) => s.trim() === s && !/[\\#?/%]/.test(s));
    const where = fc.constantFrom('path', 'query', 'header', 'text body', 'json body');
    const urlSpellings = (value: string) => [new URL(`http://h/${value}`).pathname.slice(1), new URL(`http://h/?${value}`).search.slice(1)];
    await fc.assert(
      fc.asyncProperty(planted, where, async (value, at) => {
        const mock = createMock('fdx', { client: { clientSecret: value } });
        const base = 'http://127.0.0.1/fdx/v4';
        const request = {
          path: () => new Request(`${base}/accounts/${value}`),
          query: () => new Request(`${base}/accounts?filter=${value}`),
          header: () => new Request(`${base}/accounts`, { headers: { 'x-debug': value } }),
          'text body': () =>
            new Request(`${base}/accounts`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: `debug ${value}` }),
          'json body': () =>
            new Request(`${base}/accounts`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ note: value }),
            }),
        }[at]();
        await mock.handle(request);
        const logged = `${JSON.stringify(mock.controller.requests)} ${inspect(mock.controller.requests, { depth: Number.POSITIVE_INFINITY })}`;
        for (const spelling of [...spellings(value), ...urlSpellings(value)]) expect(logged, at).not.toContain(spelling);
      }),
      { numRuns: 400, seed: 7 },
    );
  });

  it("startMock's running mock: JSON, inspect, a spread and Object.entries show no secret", async () => {
    const planted = 'CANARY-client-secret-7f3a9b2c';
    await using running = await startMock('finexer', { client: { clientSecret: planted } });
    const { webhookSecret } = running.client;
    expect(running.client.clientSecret).toBe(planted);
    const texts = [
      JSON.stringify(running),
      inspect(running, { depth: Number.POSITIVE_INFINITY, showHidden: true }),
      JSON.stringify({ ...running }),
      inspect({ ...running }, { depth: Number.POSITIVE_INFINITY }),
      JSON.stringify(Object.entries(running)),
      JSON.stringify(Object.fromEntries(Object.keys(running).map((key) => [key, (running as unknown as Record<string, unknown>)[key]]))),
    ];
    for (const text of texts) for (const secret of [planted, webhookSecret!]) expect(text).not.toContain(secret);
    expect(JSON.parse(JSON.stringify(running))).toEqual({ provider: 'finexer', url: running.url, requests: 0 });
    // What it always did: the getters and the bound functions.
    const { handle, close } = running;
    expect((await handle(new Request(`${running.url}/customers`))).status).toBe(401);
    expect(running.clientOptions.baseUrl).toBe(running.url);
    expect(typeof close).toBe('function');
  });

  it('a MockError about bad options never quotes the value it refuses', () => {
    fc.assert(
      fc.property(secret, (planted) => {
        const attempts = [
          () => createMock('fdx', { client: { clientSecret: `${planted}\n` } }),
          () => createMock('fdx', { baseUrl: `http://u:${planted}@127.0.0.1` }),
          () => createMock(planted as ProviderSlug),
          () => createMock('fdx').controller.respond(planted as never),
        ];
        for (const attempt of attempts) {
          let thrown: unknown;
          try {
            attempt();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(MockError);
          // The provider name is echoed (shortened), as it is no secret; nothing else is.
          if (attempt !== attempts[2] && attempt !== attempts[3])
            expect(`${(thrown as Error).message} ${inspect(thrown)}`).not.toContain(planted);
        }
      }),
      { numRuns: 50, seed: 24 },
    );
  });
});
