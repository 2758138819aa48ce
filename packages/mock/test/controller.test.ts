// The controller's faults and queued answers, the web-standard handler on
// its own, and the options a mock refuses, each with its stable code.
import { inspect } from 'node:util';
import { createClient, ResponseParseError, ResponseTooLargeError, ServerError, TimeoutError } from '@portico/dexero-fd';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMock, type Mock, MockError, startMock } from '../src/index.js';
import { mswHandlers } from '../src/msw.js';

const through = (mock: Mock) => ((input: RequestInfo | URL, init?: RequestInit) => mock.handle(new Request(input, init))) as typeof fetch;
const records = { params: { path: { format: 'json' as const } } };

function dexero(mock: Mock, extra: object = {}) {
  return createClient({
    ...mock.clientOptions,
    fetch: through(mock),
    auth: { ...mock.client, ...mock.authOptions } as never,
    throwOnError: true,
    ...extra,
  });
}

describe('faults and queued answers', () => {
  it('answers a queued body, then the documented one again', async () => {
    const mock = createMock('dexero-fd');
    const client = dexero(mock);
    mock.controller.respond('listRecords', { body: { records: [{ id: 7, firstName: 'Queued' }] } }, { times: 2 });
    expect((await client.GET('/records.{format}', records)).data.records[0]?.firstName).toBe('Queued');
    // Queued in JSON terms, written in the representation asked for.
    const xml = await client.GET('/records.{format}', { params: { path: { format: 'xml' } } });
    expect(xml.data.records[0]?.firstName).toBe('Queued');
    expect((await client.GET('/records.{format}', records)).data.records[0]?.id).toBe(1024);
  });

  it('refuses a queued body the schema refuses, an undocumented status body, and an unknown operation', () => {
    const mock = createMock('dexero-fd');
    expect(() => mock.controller.respond('listRecords', { body: { records: 'none' } })).toThrow(
      expect.objectContaining({ code: 'invalid_body' }),
    );
    expect(() => mock.controller.respond('listRecords', { status: 418, body: {} })).toThrow(
      expect.objectContaining({ code: 'invalid_body' }),
    );
    expect(() => mock.controller.respond('nope' as never)).toThrow(expect.objectContaining({ code: 'unknown_operation' }));
    expect(() => mock.controller.fail('*', { kind: 'melt' } as never)).toThrow(expect.objectContaining({ code: 'invalid_option' }));
    expect(() => mock.controller.fail('token', { kind: 'rate-limit', retryAfterSeconds: -1 })).toThrow(
      expect.objectContaining({ code: 'invalid_option' }),
    );
    expect(() => mock.controller.fail('*', { kind: 'hang' }, { times: 0 })).toThrow(expect.objectContaining({ code: 'invalid_option' }));
  });

  it('a 5xx, a malformed body and an oversized one reach the client as its typed errors', async () => {
    const mock = createMock('dexero-fd');
    const client = dexero(mock, { maxRetries: 0 });
    mock.controller.fail('listRecords', { kind: 'server-error', status: 502 });
    await expect(client.GET('/records.{format}', records)).rejects.toBeInstanceOf(ServerError);
    mock.controller.fail('listRecords', { kind: 'malformed' });
    await expect(client.GET('/records.{format}', records)).rejects.toBeInstanceOf(ResponseParseError);
    mock.controller.fail('listRecords', { kind: 'oversized', bytes: 64 * 1024 });
    await expect(dexero(mock, { maxResponseBytes: 1024 }).GET('/records.{format}', records)).rejects.toBeInstanceOf(ResponseTooLargeError);
  });

  it("a fault of the token endpoint ('token') fails the sign-in, and '*' every request", async () => {
    const mock = createMock('dexero-fd');
    mock.controller.fail('token', { kind: 'server-error' });
    await expect(dexero(mock, { maxRetries: 0 }).GET('/records.{format}', records)).rejects.toMatchObject({ status: 500 });
    mock.controller.fail('*', { kind: 'rate-limit', retryAfterSeconds: 0 }, { times: 2 });
    const first = await mock.handle(new Request('http://127.0.0.1/services/v6/rest/records.json'));
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('0');
  });

  it('a hung request waits for its own abort, and reset() releases the others', async () => {
    const mock = createMock('dexero-fd');
    mock.controller.fail('listRecords', { kind: 'hang' });
    await expect(dexero(mock, { timeout: 200, maxRetries: 0 }).GET('/records.{format}', records)).rejects.toBeInstanceOf(TimeoutError);
    mock.controller.fail('listRecords', { kind: 'hang' });
    const hung = mock.handle(new Request('http://127.0.0.1/services/v6/rest/records.json'));
    mock.controller.reset();
    await expect(hung).rejects.toMatchObject({ code: 'closed' });
  });

  it('a slow answer comes after its delay, a queued one after its own', async () => {
    const mock = createMock('dexero-fd');
    // Far apart, so a loaded machine cannot blur them: a 2 s attempt deadline against a 60 s delay.
    const client = dexero(mock, { timeout: 2_000, maxRetries: 0 });
    mock.controller.fail('listRecords', { kind: 'slow', delayMs: 60_000 });
    await expect(client.GET('/records.{format}', records)).rejects.toBeInstanceOf(TimeoutError);
    mock.controller.respond('listRecords', { delayMs: 5 });
    await expect(client.GET('/records.{format}', records)).resolves.toBeDefined();
  });
});

describe('the handler on its own', () => {
  it('answers under a base path, 404 outside the provider, 405 for a method the path lacks', async () => {
    const mock = createMock('finexer', { baseUrl: 'https://tests.example/fake/finexer' });
    expect(mock.clientOptions.baseUrl).toBe('https://tests.example/fake/finexer');
    expect(mock.authOptions).toEqual({
      authorizationUrl: 'https://tests.example/fake/finexer/oauth/',
      tokenUrl: 'https://tests.example/fake/finexer/oauth/token',
      revocationUrl: 'https://tests.example/fake/finexer/oauth/revoke',
    });
    expect((await mock.handle(new Request('https://tests.example/elsewhere/customers'))).status).toBe(404);
    expect((await mock.handle(new Request('https://tests.example/fake/finexer/nothing'))).status).toBe(404);
    const wrong = await mock.handle(new Request('https://tests.example/fake/finexer/customers', { method: 'DELETE' }));
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toContain('GET');
    const anonymous = await mock.handle(new Request('https://tests.example/fake/finexer/customers'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('json');
  });

  it('with a seed, the same codes and tokens every run', async () => {
    const run = async () => {
      const mock = createMock('fdx', { seed: 7 });
      return mock.controller.approve(
        `http://127.0.0.1/oauth2/v4/authorize?client_id=mock-client&redirect_uri=${encodeURIComponent(mock.client.redirectUri)}&response_type=code&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&scope=openid&state=s`,
      );
    };
    expect(await run()).toBe(await run());
  });

  it('approve() refuses a URL the provider would not redirect for; connect() and signWebhook() where the provider has none', () => {
    const fdx = createMock('fdx');
    expect(() => fdx.controller.approve('http://127.0.0.1/oauth2/v4/authorize?client_id=stranger')).toThrow(
      expect.objectContaining({ code: 'authorization_refused' }),
    );
    expect(() => fdx.controller.connect()).toThrow(expect.objectContaining({ code: 'unsupported' }));
    expect(() => fdx.controller.requireUserInput('listAccounts', [{ id: 'otp' }])).toThrow(
      expect.objectContaining({ code: 'unsupported' }),
    );
    return expect(fdx.controller.signWebhook({})).rejects.toMatchObject({ code: 'unsupported' });
  });

  it('refuses bad options with a MockError and a stable code', async () => {
    const cases: [() => unknown, string][] = [
      [() => createMock('nobody' as never), 'unknown_provider'],
      [() => createMock('fdx', { baseUrl: 'ftp://x' }), 'invalid_option'],
      [() => createMock('fdx', { baseUrl: 'not a url' }), 'invalid_option'],
      [() => createMock('fdx', { accessTokenLifetimeSeconds: 0 }), 'invalid_option'],
      [() => createMock('fdx', { rotateRefreshTokens: false }), 'invalid_option'],
      [() => createMock('fdx', { listLength: -1 }), 'invalid_option'],
      [() => createMock('fdx', { seed: 1.5 }), 'invalid_option'],
      [() => createMock('fdx', { client: { redirectUris: [] } }), 'invalid_option'],
      [() => createMock('fdx', { client: { clientId: '' } }), 'invalid_option'],
      [() => createMock('fdx', { now: 5 as never }), 'invalid_option'],
    ];
    for (const [make, code] of cases) {
      let thrown: unknown;
      try {
        make();
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(MockError);
      expect(thrown).toMatchObject({ code, name: 'MockError' });
    }
    await expect(startMock('fdx', { port: 70_000 })).rejects.toMatchObject({ code: 'invalid_option' });
    await expect(startMock('fdx', { baseUrl: 'http://x' } as never)).rejects.toMatchObject({ code: 'invalid_option' });
    expect(() => mswHandlers({ handle: async () => new Response() })).toThrow(expect.objectContaining({ code: 'invalid_option' }));
  });

  it('util.inspect shows the provider, not the client', async () => {
    const mock = createMock('finexer');
    expect(inspect(mock)).toContain('finexer');
    expect(inspect(mock)).not.toContain(mock.client.clientSecret);
    await using running = await startMock('dapi');
    expect(inspect(running)).toContain(running.url);
    expect(inspect(running, { showHidden: true, depth: 5 })).not.toContain(running.client.appSecret);
    expect(inspect(running.controller)).toMatch(/^MockController/);
  });

  it('after close() a mock answers 503, and startMock frees its port', async () => {
    const running = await startMock('expertfile');
    await running.close();
    await expect(fetch(`${running.url}/v2/oauth/token`, { method: 'POST' })).rejects.toThrow();
    const mock = createMock('expertfile');
    mock.close();
    expect((await mock.handle(new Request('http://127.0.0.1/v2/oauth/token', { method: 'POST' }))).status).toBe(503);
  });
});

describe('lifetimes on the mock clock', () => {
  it("an access token lives as long as the options say, a refresh token as long as the profile's 30 days", async () => {
    let now = Date.UTC(2026, 0, 1);
    const mock = createMock('fdx', { now: () => now, accessTokenLifetimeSeconds: 60 });
    const { oauth, ReauthorizationRequiredError } = await import('@portico/fdx');
    const f = oauth({ ...mock.client, ...mock.authOptions, fetch: through(mock), now: () => now });
    const request = await f.authorizationUrl({ scope: ['customers'] });
    const tokens = await f.exchangeCode(mock.controller.approve(request.url), {
      state: request.state,
      codeVerifier: request.codeVerifier!,
    });
    expect(tokens.expiresAt).toBe(now + 60_000);
    const call = () =>
      mock.handle(
        new Request(`${mock.clientOptions.baseUrl}/customers/current`, { headers: { authorization: `Bearer ${tokens.accessToken}` } }),
      );
    expect((await call()).status).toBe(200);
    now += 61_000;
    expect((await call()).status).toBe(401);
    now += 30 * 24 * 3600_000;
    await expect(f.refresh(tokens)).rejects.toBeInstanceOf(ReauthorizationRequiredError);
  });

  it("Dapi's access code lives the 30 minutes its profile's codeLifetimeSeconds says", async () => {
    let now = Date.UTC(2026, 0, 1);
    const mock = createMock('dapi', { now: () => now });
    const { exchangeToken } = await import('@portico/dapi');
    const exchange = (linked: Record<string, string>) =>
      exchangeToken({ appSecret: mock.client.appSecret, ...linked } as never, { ...mock.authOptions, fetch: through(mock) });
    const early = mock.controller.connect();
    const late = mock.controller.connect();
    // At 29 minutes, past RFC 6749's 10, the code still exchanges; at 30 it is refused.
    now += 29 * 60_000;
    expect((await exchange(early)).accessToken).toEqual(expect.any(String));
    now += 60_000;
    await expect(exchange(late)).rejects.toMatchObject({ code: 'token_response_error' });
  });

  it("an authorization code lives RFC 6749's 10 minutes where the profile does not say (FDX)", async () => {
    let now = Date.UTC(2026, 0, 1);
    const mock = createMock('fdx', { now: () => now });
    const { oauth } = await import('@portico/fdx');
    const f = oauth({ ...mock.client, ...mock.authOptions, fetch: through(mock), now: () => now });
    const codeFor = async () => {
      const request = await f.authorizationUrl({ scope: ['customers'] });
      return { callback: mock.controller.approve(request.url), request };
    };
    const inTime = await codeFor();
    const tooLate = await codeFor();
    now += 9 * 60_000;
    const tokens = await f.exchangeCode(inTime.callback, { state: inTime.request.state, codeVerifier: inTime.request.codeVerifier! });
    expect(tokens.accessToken).toEqual(expect.any(String));
    now += 60_000;
    await expect(
      f.exchangeCode(tooLate.callback, { state: tooLate.request.state, codeVerifier: tooLate.request.codeVerifier! }),
    ).rejects.toMatchObject({ code: 'oauth_error', message: expect.stringContaining('the authorization code expired') });
  });
});

describe('any value a caller passes', () => {
  // Anything, with the values the review found raw errors behind: a lifetime past what a Date holds, a BigInt, a cycle.
  const cyclic: Record<string, unknown> = { id: 'evt_1' };
  cyclic.self = cyclic;
  const value = fc.oneof(
    fc.anything({
      withBigInt: true,
      withNullPrototype: true,
      withBoxedValues: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
    }),
    fc.constantFrom(1e13, 2 ** 31, Number.MAX_VALUE, -0, Number.NaN, 1n, cyclic, { amount: 1n }, Symbol('s'), () => 1, null),
  );
  /** Settles as a result or a MockError, never a raw error; what it settled as. */
  const outcome = async (call: () => unknown): Promise<'ok' | string> => {
    try {
      await call();
      return 'ok';
    } catch (error) {
      expect(error, String((error as Error)?.message)).toBeInstanceOf(MockError);
      return (error as MockError).code;
    }
  };
  const signInRequest = (mock: Mock) =>
    new Request('http://127.0.0.1/v2/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: mock.client.clientId!,
        client_secret: mock.client.clientSecret!,
      }),
    });

  it("createMock's options: a MockError, or a mock whose token answer works", async () => {
    const options = fc.record(
      {
        accessTokenLifetimeSeconds: fc.oneof(value, fc.double(), fc.constantFrom(3_155_760_000, 3_155_760_001)),
        listLength: value,
        seed: value,
        rotateRefreshTokens: value,
        baseUrl: value,
        client: fc.oneof(value, fc.record({ clientId: value, clientSecret: value, redirectUris: value }, { requiredKeys: [] })),
        now: fc.oneof(
          value,
          fc.constantFrom(
            () => Number.NaN,
            () => 8.64e15 + 1,
            () => 'soon',
            () => Date.UTC(2026, 0, 1),
          ),
        ),
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(options, value), async (given) => {
        let mock: Mock | undefined;
        await outcome(() => {
          mock = createMock('expertfile', given as never);
        });
        if (mock) await outcome(async () => (await mock!.handle(signInRequest(mock!))).status);
      }),
      { numRuns: 300, seed: 13 },
    );
  });

  it('each controller method: a MockError or a result; an answer it queued is sent', async () => {
    const mock = createMock('finexer');
    const calls: Record<string, (a: unknown, b: unknown, c: unknown) => unknown> = {
      respond: (a, b, c) => mock.controller.respond(a as never, b as never, c as never),
      'respond listCustomers': (a, b) => mock.controller.respond('listCustomers', a as never, b as never),
      fail: (a, b, c) => mock.controller.fail(a as never, b as never, c as never),
      'fail listCustomers': (a, b) => mock.controller.fail('listCustomers', a as never, b as never),
      approve: (a, b) => mock.controller.approve(a as never, b as never),
      requireUserInput: (a, b) => mock.controller.requireUserInput(a as never, b as never),
      signWebhook: (a, b) => mock.controller.signWebhook(a as never, b as never),
      deliverWebhook: (a, b) => mock.controller.deliverWebhook(a as never, b as never),
    };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(calls)), value, value, value, async (method, a, b, c) => {
        await outcome(() => calls[method]!(a, b, c));
        // Whatever it accepted is answered, or its fault applied: the handler never fails with a raw error.
        await outcome(async () => (await mock.handle(new Request('http://127.0.0.1/customers'))).status);
        mock.controller.reset();
      }),
      { numRuns: 400, seed: 13 },
    );
    expect(await outcome(() => mock.controller.signWebhook({ amount: 1n }))).toBe('invalid_option');
    expect(await outcome(() => mock.controller.signWebhook(cyclic))).toBe('invalid_option');
    expect(await outcome(() => createMock('expertfile', { accessTokenLifetimeSeconds: 1e13 }))).toBe('invalid_option');
  });
});
