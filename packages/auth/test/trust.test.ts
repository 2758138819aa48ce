// Defects of issue 21 in @portico/auth, each reproduced against the public
// API before its fix: a store key that did not bind the client secret, a
// renewal that kept the lock past its own deadline, an onTokens that could
// hang every call, and token calls outside a flow that had no deadline.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type DexeroFdEmulator, expiredRotatingTokens, loadProfile, startDexeroFd, startRotatingTokenServer } from '@portico/testing';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createAuthenticator,
  createOAuthFlow,
  DEFAULT_TOKEN_TIMEOUT_MS,
  exchangeAccessCode,
  MemoryTokenStore,
  OAuthError,
  revokeToken,
  type StoredTokens,
  type TokenStore,
  TokenTimeoutError,
} from '../src/index.js';
import { expectNoSecrets, rejectionOf } from './helpers.js';

const FD_TOKEN = 'POST /oauth/token.action';
let fd: DexeroFdEmulator;

beforeAll(async () => {
  fd = await startDexeroFd();
});
afterAll(() => fd.close());
beforeEach(() => fd.reset());
afterEach(() => vi.useRealTimers());

/** A MemoryTokenStore that records every key it is asked for. */
class RecordingStore extends MemoryTokenStore {
  readonly keys = new Set<string>();
  override get(key: string): Promise<StoredTokens | undefined> {
    this.keys.add(key);
    return super.get(key);
  }
}

const fdClient = (store: TokenStore, clientSecret: string, extra: { fetch?: typeof fetch; timeoutMs?: number } = {}) =>
  createAuthenticator(
    loadProfile('dexero-fd').profile,
    { clientId: fd.clientId, clientSecret, tokenUrl: fd.tokenUrl, store, ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}) },
    { baseUrl: fd.apiBaseUrl, ...(extra.fetch ? { fetch: extra.fetch } : {}) },
  );

describe('defect 1: the default store key binds the client secret', () => {
  it("a client with another tenant's client id and a wrong secret never gets that tenant's stored token", async () => {
    const store = new RecordingStore();
    const tenant = await fdClient(store, fd.clientSecret).getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(1);
    const intruder = fdClient(store, 'not-the-secret-of-this-tenant');
    const error = await rejectionOf(intruder.getAuthorization());
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ error: 'invalid_client' });
    // The intruder asked the token endpoint, which refused it: it never saw the tenant's token.
    expect(fd.count(FD_TOKEN)).toBe(2);
    expect(tenant.value).toMatch(/^Bearer /);
  });

  it('clients with the same credentials share one token; the key holds neither the secret nor the client id in clear', async () => {
    const store = new RecordingStore();
    const [a, b] = [fdClient(store, fd.clientSecret), fdClient(store, fd.clientSecret)];
    expect(await a.getAuthorization()).toEqual(await b.getAuthorization());
    expect(fd.count(FD_TOKEN)).toBe(1);
    expect(store.keys.size).toBe(1);
    const [key] = store.keys;
    expect(key).toMatch(/^portico:client_credentials:[A-Za-z0-9_-]{43}$/);
    expect(key).not.toContain(fd.clientSecret);
    expect(key).not.toContain(fd.clientId);
  });

  it('the key changes with each of token URL, client id, secret and scope', async () => {
    const profile = loadProfile('dexero-fd').profile;
    const keyOf = async (input: { clientId?: string; clientSecret?: string; tokenUrl?: string; scope?: string }) => {
      const store = new RecordingStore();
      const fetch = async () => new Response(JSON.stringify({ access_token: 'at', token_type: 'Bearer', expires_in: 3600 }));
      const auth = createAuthenticator(
        profile,
        { clientId: 'id', clientSecret: 'secret', tokenUrl: 'https://auth.example/token', store, ...input },
        { baseUrl: 'https://api.example', fetch },
      );
      await auth.getAuthorization();
      return [...store.keys][0];
    };
    const base = await keyOf({});
    const others = await Promise.all([
      keyOf({ clientId: 'id2' }),
      keyOf({ clientSecret: 'secret2' }),
      keyOf({ tokenUrl: 'https://auth.example/token2' }),
      keyOf({ scope: 'other' }),
    ]);
    expect(new Set([base, ...others]).size).toBe(5);
    expect(await keyOf({})).toBe(base);
  });
});

/** A fetch that never settles and ignores its signal (some polyfills and wrappers do). */
const deaf: typeof fetch = () => new Promise<Response>(() => undefined);

describe('defect 3: a renewal its own deadline gave up on releases the lock', () => {
  it('a token request that ignores its signal: the caller times out, and another client on the store renews at once', async () => {
    const store = new MemoryTokenStore();
    const stuck = fdClient(store, fd.clientSecret, { fetch: deaf, timeoutMs: 100 });
    expect(await rejectionOf(stuck.getAuthorization())).toBeInstanceOf(TokenTimeoutError);
    // Before the fix this one waited on the stuck holder's lock until its own deadline.
    const other = fdClient(store, fd.clientSecret, { timeoutMs: 2_000 });
    await expect(other.getAuthorization()).resolves.toMatchObject({ name: 'Authorization' });
    expect(fd.count(FD_TOKEN)).toBe(1);
  });

  it('an onTokens that never settles is bounded: TokenStoreError, the lock is free, and the tokens are handed over again', async () => {
    const seen: string[] = [];
    let hang = true;
    const store = new MemoryTokenStore();
    const auth = createAuthenticator(
      loadProfile('dexero-fd').profile,
      { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl, store, timeoutMs: 200 },
      {
        baseUrl: fd.apiBaseUrl,
        onTokens: (tokens) => {
          seen.push(tokens.accessToken);
          return hang ? new Promise<void>(() => undefined) : undefined;
        },
      },
    );
    expect(await rejectionOf(auth.getAuthorization())).toBeInstanceOf(TokenTimeoutError);
    hang = false;
    // A call that comes while the hung callback is within its bound joins that attempt and fails with it.
    let header: { value: string } | undefined;
    for (let i = 0; i < 3 && header === undefined; i++) {
      header = await auth.getAuthorization().catch((error: unknown) => {
        expect(error).toMatchObject({ code: 'token_callback_failed' });
        return undefined;
      });
    }
    // The same tokens again (nothing is lost, no second token request), and the lock is free for the next holder.
    expect(header).toBeDefined();
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(header!.value).toBe(`Bearer ${seen[0]}`);
    expect(fd.count(FD_TOKEN)).toBe(1);
    await expect(store.lock('any', async () => 'free', AbortSignal.timeout(1_000))).resolves.toBe('free');
  });

  it('an onTokens that never settles on a pending save outside a renewal fails with TokenStoreError, not a hang', async () => {
    let calls = 0;
    const store = new MemoryTokenStore();
    const set = store.set.bind(store);
    let failSet = true;
    store.set = async (key, tokens, expected) => {
      if (failSet) throw new Error('store write failed');
      return set(key, tokens, expected);
    };
    const auth = createAuthenticator(
      loadProfile('dexero-fd').profile,
      { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl, store, timeoutMs: 200 },
      { baseUrl: fd.apiBaseUrl, onTokens: () => (calls++ === 0 ? new Promise<void>(() => undefined) : undefined) },
    );
    // The save goes on under the lock past the caller's deadline: the caller gets a typed error meanwhile.
    expect(await rejectionOf(auth.getAuthorization())).toMatchObject({ code: expect.stringMatching(/^token_(store_error|timeout)$/) });
    failSet = false;
    const codes: string[] = [];
    let header: unknown;
    for (let i = 0; i < 5 && header === undefined; i++)
      header = await auth.getAuthorization().catch((error: { code: string }) => void codes.push(error.code));
    expect(header).toMatchObject({ name: 'Authorization' });
    // The hung callback surfaced once as its own failure, bounded, and was called again with the same tokens.
    expect(codes).toContain('token_callback_failed');
    expect(codes.every((code) => ['token_callback_failed', 'token_timeout'].includes(code))).toBe(true);
    expect(calls).toBe(2);
    expect(fd.count(FD_TOKEN)).toBe(1);
  });
});

describe('MemoryTokenStore.lock: a waiter whose signal aborts as the lock passes to it', () => {
  it('at any microtask after the release: its fn never runs while another holder has the lock, or its lease has ended', async () => {
    const tick = () => Promise.resolve();
    for (let offset = 0; offset < 30; offset++) {
      const store = new MemoryTokenStore();
      let release!: () => void;
      const first = store.lock('k', () => new Promise<void>((resolve) => (release = resolve)));
      const controller = new AbortController();
      let lease: { signal: AbortSignal } | undefined;
      const waiter = store.lock(
        'k',
        (held) => {
          lease = held;
          return new Promise<never>(() => undefined);
        },
        controller.signal,
      );
      waiter.catch(() => undefined);
      await tick();
      await tick();
      release();
      for (let i = 0; i < offset; i++) await tick();
      controller.abort(new Error('the waiter gave up'));
      await first;
      let third = false;
      await store.lock('k', async () => void (third = true), AbortSignal.timeout(1_000));
      expect(third).toBe(true);
      // Either the waiter never started, or the lock it had is over for it too.
      if (lease !== undefined) expect(lease.signal.aborted, `offset ${offset}`).toBe(true);
    }
  });
});

describe('a renewal whose deadline passes while its rotated tokens are being saved keeps the lock until they are', () => {
  const expired = expiredRotatingTokens();
  const twoSessions = async (store: TokenStore, tokenUrl: string) => {
    const flow = createOAuthFlow(loadProfile('finexer').profile, {
      clientId: 'cid',
      clientSecret: 'secret-0123456789',
      redirectUri: 'https://app.example/cb',
      tokenUrl,
      timeoutMs: 300,
    });
    const [a, b] = [flow.session(expired, { store, key: 'user:42' }), flow.session(expired, { store, key: 'user:42' })];
    await a.tokens();
    return [a, b] as const;
  };

  it('a store write that stalls past the deadline (within twice the timeout): the other instance waits, and RT1 is presented once', async () => {
    const server = await startRotatingTokenServer();
    const store = new MemoryTokenStore();
    const set = store.set.bind(store);
    store.set = async (key, tokens, expected) => {
      if (tokens.refreshToken === 'RT2-0123456789') await new Promise((resolve) => setTimeout(resolve, 500));
      return set(key, tokens, expected);
    };
    const [a, b] = await twoSessions(store, `${server.url}/token`);
    const first = a.getAuthorization().catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const second = await b.getAuthorization().catch((error: unknown) => error);
    expect(await first).toBeInstanceOf(TokenTimeoutError);
    // The other instance got the lock once the write landed and used the rotated tokens, or timed out waiting: never RT1.
    if (second instanceof Error) expect(second).toBeInstanceOf(TokenTimeoutError);
    else expect(second).toMatchObject({ value: 'Bearer AT2-0123456789' });
    // Bounded: the stalled write settles, and the lock passes on.
    await expect(store.lock('user:42', async () => 'free', AbortSignal.timeout(3_000))).resolves.toBe('free');
    expect(server.spentTwice()).toEqual([]);
    expect((await store.get('user:42'))?.tokens.refreshToken).toBe('RT2-0123456789');
    await server.close();
  });

  it('a slow token endpoint, then writes that fail for a while: retried under the lock past the deadline, RT1 presented once', async () => {
    const server = await startRotatingTokenServer(200);
    const store = new MemoryTokenStore();
    const set = store.set.bind(store);
    let failures = 4;
    store.set = async (key, tokens, expected) => {
      if (tokens.refreshToken === 'RT2-0123456789' && failures-- > 0) throw new Error('ECONNRESET (failover)');
      return set(key, tokens, expected);
    };
    const [a, b] = await twoSessions(store, `${server.url}/token`);
    const first = a.getAuthorization().catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 320));
    await b.getAuthorization().catch(() => undefined);
    await first;
    await expect(store.lock('user:42', async () => 'free', AbortSignal.timeout(3_000))).resolves.toBe('free');
    expect(server.spentTwice()).toEqual([]);
    expect((await store.get('user:42'))?.tokens.refreshToken).toBe('RT2-0123456789');
    await server.close();
  });
});

describe('a store write that never settles (a store that breaks the rule that its calls settle)', () => {
  it('after a rotation: bounded all the same; the lock passes on, and a call with its own signal stops with it', async () => {
    const server = await startRotatingTokenServer();
    const store = new MemoryTokenStore();
    const set = store.set.bind(store);
    store.set = (key, tokens, expected) =>
      tokens.refreshToken === 'RT1-0123456789' ? set(key, tokens, expected) : new Promise<never>(() => undefined);
    const flow = createOAuthFlow(loadProfile('finexer').profile, {
      clientId: 'cid',
      clientSecret: 'secret-0123456789',
      redirectUri: 'https://app.example/cb',
      tokenUrl: `${server.url}/token`,
      timeoutMs: 150,
    });
    const expired = expiredRotatingTokens();
    const session = flow.session(expired, { store, key: 'k' });
    await session.tokens();
    expect(await rejectionOf(session.getAuthorization())).toMatchObject({ code: expect.stringMatching(/^token_(timeout|store_error)$/) });
    // The save gives up within its bound (each write bounded, retries for twice the timeout), and the lock passes on.
    await expect(store.lock('k', async () => 'free', AbortSignal.timeout(5_000))).resolves.toBe('free');
    const reason = new Error('the caller gave up');
    const controller = new AbortController();
    const call = session.getAuthorization(controller.signal);
    controller.abort(reason);
    expect(await rejectionOf(call)).toBe(reason);
    await server.close();
  });
});

describe('client credentials that cannot make a store key are a ConfigurationError, before any request', () => {
  const build = (input: Record<string, unknown>) =>
    createAuthenticator(
      loadProfile('dexero-fd').profile,
      { clientId: 'id', clientSecret: 'secret', tokenUrl: 'https://auth.example/token', ...input } as never,
      { baseUrl: 'https://api.example', fetch: deaf },
    );
  it.each([
    ['an empty secret', { clientSecret: '' }],
    ['an unset secret (undefined)', { clientSecret: undefined }],
    ['a secret with a NUL (HMAC would pad "s" to "s\\0")', { clientSecret: 's\u0000' }],
    ['an empty client id', { clientId: '' }],
  ])('%s', (_name, input) => {
    expect(() => build(input)).toThrow(expect.objectContaining({ code: 'configuration_error' }));
  });

  it('no WebCrypto: a ConfigurationError naming it, and no token request', async () => {
    let asked = 0;
    const auth = createAuthenticator(
      loadProfile('dexero-fd').profile,
      { clientId: 'id', clientSecret: 'secret', tokenUrl: 'https://auth.example/token' },
      {
        baseUrl: 'https://api.example',
        fetch: async () => {
          asked++;
          return new Response('{}');
        },
      },
    );
    vi.stubGlobal('crypto', {});
    try {
      const error = await rejectionOf(auth.getAuthorization());
      expect(error).toMatchObject({ code: 'configuration_error', message: expect.stringContaining('crypto.subtle') });
    } finally {
      vi.unstubAllGlobals();
    }
    expect(asked).toBe(0);
  });
});

describe('an error about tokens being saved never quotes them', () => {
  it('a store or onTokens error that quotes the rotated tokens: not in the message, inspect, JSON or cause', async () => {
    const server = await startRotatingTokenServer();
    const flow = createOAuthFlow(loadProfile('finexer').profile, {
      clientId: 'cid',
      clientSecret: 'secret-0123456789',
      redirectUri: 'https://app.example/cb',
      tokenUrl: `${server.url}/token`,
    });
    const expired = expiredRotatingTokens();
    const session = flow.session(expired, {
      onTokens: (tokens) => {
        throw new Error(`INSERT failed for ('${tokens.refreshToken}', '${tokens.accessToken}')`);
      },
    });
    const error = await rejectionOf(session.getAuthorization());
    expect(error).toMatchObject({ code: 'token_callback_failed' });
    expectNoSecrets(error, ['RT2-0123456789', 'AT2-0123456789']);
    await server.close();
  });
});

describe('a write that failed but landed', () => {
  it('(a stalled store that answered late): onTokens still gets the tokens, and nothing is renewed again', async () => {
    const store = new MemoryTokenStore();
    const set = store.set.bind(store);
    let landedThenFailed = 1;
    store.set = async (key, tokens, expected) => {
      const version = await set(key, tokens, expected);
      if (landedThenFailed-- > 0) throw new Error('the store did not answer in time');
      return version;
    };
    const seen: string[] = [];
    const auth = createAuthenticator(
      loadProfile('dexero-fd').profile,
      { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl, store },
      { baseUrl: fd.apiBaseUrl, onTokens: (tokens) => void seen.push(tokens.accessToken) },
    );
    const header = await auth.getAuthorization();
    expect(seen).toHaveLength(1);
    expect(header.value).toBe(`Bearer ${seen[0]}`);
    expect(fd.count(FD_TOKEN)).toBe(1);
  });
});

describe('a token set from a store or a file is checked field by field', () => {
  it.each([
    ['scope a number', { scope: 5 }],
    ['scope with a number in it', { scope: ['read', 1] }],
    ['tokenType missing', { tokenType: undefined }],
    ['refreshToken a number', { refreshToken: 42 }],
    ['issuedAt a string', { issuedAt: 'yesterday' }],
    ['raw an array', { raw: [] }],
  ])('%s: a ConfigurationError with its code, never a TypeError', async (_name, garbage) => {
    const store = new MemoryTokenStore();
    await store.set('garbage', { accessToken: 'at-0123456789', tokenType: 'Bearer', raw: {}, ...garbage } as never, 0);
    const auth = createAuthenticator(
      loadProfile('dexero-fd').profile,
      { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl, store, key: 'garbage' },
      { baseUrl: fd.apiBaseUrl },
    );
    const error = await rejectionOf(auth.getAuthorization());
    expect(error).toMatchObject({ code: 'configuration_error', message: expect.stringMatching(/^tokens\./) });
    expect(fd.count(FD_TOKEN)).toBe(0);
  });
});

/** A token endpoint that sends its headers, then one byte every `everyMs`, forever (until closed). */
async function trickle(everyMs: number): Promise<{ url: string; close(): Promise<void> }> {
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{');
    const timer = setInterval(() => res.write(' '), everyMs);
    timers.add(timer);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const timer of timers) clearInterval(timer);
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

describe('defect 12: token calls outside a flow have a deadline', () => {
  const dapi = loadProfile('dapi').profile;
  const inputs = { appSecret: 'app-secret-0123456789', accessCode: 'code-0123456789', connectionID: 'conn' };
  const tokens = { accessToken: 'at-0123456789', tokenType: 'Bearer', raw: {} };
  let slow: Awaited<ReturnType<typeof trickle>>;
  beforeAll(async () => {
    slow = await trickle(20);
  });
  afterAll(() => slow.close());

  it('exchangeAccessCode against an endpoint that trickles bytes: TokenTimeoutError at timeoutMs', async () => {
    const error = await rejectionOf(exchangeAccessCode(dapi, inputs, { baseUrl: slow.url, timeoutMs: 150 }));
    expect(error).toBeInstanceOf(TokenTimeoutError);
    expect(error).toMatchObject({ code: 'token_timeout', timeoutMs: 150 });
  });

  it('revokeToken against an endpoint that trickles bytes: TokenTimeoutError at timeoutMs', async () => {
    const error = await rejectionOf(
      revokeToken(dapi, tokens, { baseUrl: slow.url, inputs: { appSecret: 'a', userSecret: 'u' }, timeoutMs: 150 }),
    );
    expect(error).toMatchObject({ code: 'token_timeout', timeoutMs: 150 });
  });

  it("both stop with the caller's signal, with its reason", async () => {
    const reason = new Error('the user left');
    const controller = new AbortController();
    const exchange = exchangeAccessCode(dapi, inputs, { baseUrl: slow.url, signal: controller.signal });
    const revoke = revokeToken(dapi, tokens, { baseUrl: slow.url, inputs: { appSecret: 'a', userSecret: 'u' }, signal: controller.signal });
    controller.abort(reason);
    expect(await rejectionOf(exchange)).toBe(reason);
    expect(await rejectionOf(revoke)).toBe(reason);
  });
});

describe('the default token timeout applies to every token call that is given none', () => {
  // Fake timers, and a fetch that never answers: the deadline is the only thing that can end each call.
  const expectDefault = async (call: () => Promise<unknown>) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let settled: unknown;
    const pending = call().then(
      () => (settled = 'resolved'),
      (error: unknown) => (settled = error),
    );
    // Key derivation and the like run off the timer queue: wait (bounded) until the deadline is set.
    const since = Date.now();
    while (vi.getTimerCount() === 0 && Date.now() - since < 10_000) await new Promise((resolve) => setImmediate(resolve));
    expect(vi.getTimerCount(), 'the deadline was set').toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(DEFAULT_TOKEN_TIMEOUT_MS - 1);
    expect(settled).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(settled).toBeInstanceOf(TokenTimeoutError);
    expect(settled).toMatchObject({ timeoutMs: 30_000 });
  };
  const dapi = loadProfile('dapi').profile;
  const finexer = loadProfile('finexer').profile;
  const tokens = { accessToken: 'at-0123456789', refreshToken: 'rt-0123456789', tokenType: 'Bearer', raw: {} };

  it('client credentials', () =>
    expectDefault(() =>
      createAuthenticator(
        loadProfile('dexero-fd').profile,
        { clientId: 'id', clientSecret: 'secret', tokenUrl: 'https://auth.example/token' },
        { baseUrl: 'https://api.example', fetch: deaf },
      ).getAuthorization(),
    ));
  it('a flow: refresh and revoke', async () => {
    const flow = createOAuthFlow(finexer, { clientId: 'id', clientSecret: 'secret', redirectUri: 'https://app.example/cb', fetch: deaf });
    await expectDefault(() => flow.refresh(tokens));
    await expectDefault(() => flow.revoke(tokens));
  });
  it('exchangeAccessCode and revokeToken', async () => {
    await expectDefault(() =>
      exchangeAccessCode(dapi, { appSecret: 'a', accessCode: 'c', connectionID: 'x' }, { baseUrl: 'https://api.example', fetch: deaf }),
    );
    await expectDefault(() =>
      revokeToken(dapi, tokens, { baseUrl: 'https://api.example', inputs: { appSecret: 'a', userSecret: 'u' }, fetch: deaf }),
    );
  });
});
