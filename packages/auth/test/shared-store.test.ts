// The lifecycle with a store shared by several clients (as several processes
// would share Redis): bounded token requests, no lost rotation when a write
// or onTokens fails, one renewal point for all instances, a safe first write,
// and invalid_grant that first looks for another instance's rotation.

import {
  callApi,
  type DexeroFdEmulator,
  type FinexerEmulator,
  followAuthorization,
  loadProfile,
  startDexeroFd,
  startFinexer,
  tokenReply,
} from '@portico/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createAuthenticator,
  createOAuthFlow,
  MemoryTokenStore,
  ReauthorizationRequiredError,
  type TokenStore,
  type Tokens,
  TokenTimeoutError,
} from '../src/index.js';
import { FakeClock, rejectionOf } from './helpers.js';

const clock = new FakeClock();
const redirectUri = 'https://app.example/callback';
const FD_TOKEN = 'POST /oauth/token.action';
const FX_TOKEN = 'POST /oauth/token';
let fd: DexeroFdEmulator;
let fx: FinexerEmulator;

beforeAll(async () => {
  [fd, fx] = await Promise.all([startDexeroFd({ now: clock.now }), startFinexer({ redirectUris: [redirectUri] })]);
});
afterAll(() => Promise.all([fd.close(), fx.close()]));
beforeEach(() => {
  fd.reset();
  fx.reset();
  fd.expiresIn = 3600;
  fx.rotateRefreshTokens = true;
});

const clientCredentials = (store: TokenStore, options: { timeoutMs?: number } = {}) =>
  createAuthenticator(
    loadProfile('dexero-fd').profile,
    { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl, store, ...options },
    { baseUrl: fd.apiBaseUrl, now: clock.now },
  );

const finexerFlow = (timeoutMs?: number) =>
  createOAuthFlow(loadProfile('finexer').profile, { ...fx.flowOptions(redirectUri), ...(timeoutMs === undefined ? {} : { timeoutMs }) });

async function finexerTokens(): Promise<Tokens> {
  const flow = finexerFlow();
  const request = await flow.authorizationUrl({ scope: 'customer_read' });
  return flow.exchangeCode(await followAuthorization(request.url, redirectUri), { state: request.state });
}

/** A store over `inner` whose `set` fails the next `failures` times. */
function flakyStore(inner: MemoryTokenStore, failures: { set: number }): TokenStore {
  return {
    get: (key) => inner.get(key),
    set: async (key, tokens, expected) => {
      if (failures.set > 0) {
        failures.set -= 1;
        throw new Error('connection reset by the store');
      }
      return inner.set(key, tokens, expected);
    },
    delete: (key, expected) => inner.delete(key, expected),
    lock: (key, fn, signal) => inner.lock(key, fn, signal),
  };
}

describe('token requests are bounded', () => {
  it('a token endpoint that does not answer: every waiter gets TokenTimeoutError, the lock is released, the next call starts afresh', async () => {
    // Every token request hangs, so the outcome does not depend on which waiters a loaded machine lets join the first one.
    fd.inject(FD_TOKEN, { status: 200, body: '{}' }, { delayMs: 1_500, times: 100 });
    const store = new MemoryTokenStore();
    const [a, b] = [clientCredentials(store, { timeoutMs: 150 }), clientCredentials(store, { timeoutMs: 150 })];
    const results = await Promise.allSettled([...Array.from({ length: 5 }, () => a.getAuthorization()), b.getAuthorization()]);
    const reasons = results.slice(0, 5).map((r) => (r as PromiseRejectedResult).reason);
    expect(reasons.every((reason) => reason instanceof TokenTimeoutError)).toBe(true);
    expect(reasons[0]).toMatchObject({ code: 'token_timeout', timeoutMs: 150 });
    // The other client waited for the lock, which the hung holder gave up at its deadline: it timed out too, or got in just then.
    const other = results[5]!;
    if (other.status === 'rejected') expect(other.reason).toBeInstanceOf(TokenTimeoutError);
    // Both clients go on at once: nothing waits for the hung requests.
    fd.reset();
    await expect(a.getAuthorization()).resolves.toMatchObject({ name: 'Authorization' });
    await expect(b.getAuthorization()).resolves.toEqual(await a.getAuthorization());
  });

  it('the default timeout applies when none is given', async () => {
    const { DEFAULT_TOKEN_TIMEOUT_MS } = await import('../src/index.js');
    expect(DEFAULT_TOKEN_TIMEOUT_MS).toBe(30_000);
  });

  it('exchangeCode, refresh and revoke take a signal and a timeout', async () => {
    const tokens = await finexerTokens();
    fx.latencyMs = 1_000;
    const slow = finexerFlow(100);
    expect(await rejectionOf(slow.refresh(tokens))).toBeInstanceOf(TokenTimeoutError);
    expect(await rejectionOf(slow.revoke(tokens))).toMatchObject({ code: 'token_timeout' });
    const controller = new AbortController();
    const reason = new Error('the user left');
    const pending = finexerFlow().refresh(tokens, { signal: controller.signal });
    controller.abort(reason);
    expect(await rejectionOf(pending)).toBe(reason);
    expect(await rejectionOf(finexerFlow().revoke(tokens, { signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(await rejectionOf(finexerFlow().exchangeCode('?code=c&state=s', { state: 's' }, { signal: AbortSignal.abort(reason) }))).toBe(
      reason,
    );
  });
});

describe('rotated tokens are never lost', () => {
  it('a failed store write after a rotation: a typed error, the new tokens stay in memory and are written on the next call', async () => {
    const inner = new MemoryTokenStore();
    const failures = { set: 0 };
    // A short timeout bounds how long the write is retried while the lock is held.
    const session = finexerFlow(400).session(await finexerTokens(), { store: flakyStore(inner, failures), key: 'user-1' });
    const first = (await session.getAuthorization()).value;
    fx.tokens.revokeAll();
    failures.set = Number.POSITIVE_INFINITY;
    // The write is retried under the lock past the caller's deadline (twice the timeout), so the caller may time out first.
    const error = await rejectionOf(session.handleUnauthorized(first));
    expect(error).toMatchObject({ code: expect.stringMatching(/^token_(store_error|timeout)$/) });
    const refreshes = fx.count(FX_TOKEN);
    // The store works again: the next call saves RT1 and uses it, no second refresh, no invalid_grant.
    failures.set = 0;
    const next = await session.getAuthorization();
    expect(next.value).not.toBe(first);
    const stored = (await inner.get('user-1'))!.tokens;
    expect(next.value).toBe(`Bearer ${stored.accessToken}`);
    expect(fx.count(FX_TOKEN)).toBe(refreshes);
    expect((await callApi(session, `${fx.apiBaseUrl}/customers`)).response.status).toBe(200);
    // RT1 is the live refresh token: the grant survived.
    await expect(finexerFlow().refresh(stored)).resolves.toMatchObject({ tokenType: 'bearer' });
  });

  it('a failing onTokens is a TokenStoreError (not a network error), and is called again with the same tokens', async () => {
    const persisted: Tokens[] = [];
    let fail = true;
    const session = finexerFlow().session(await finexerTokens(), {
      onTokens: (tokens) => {
        if (fail) throw new Error('database down');
        persisted.push(tokens);
      },
    });
    const first = (await session.getAuthorization()).value;
    fx.tokens.revokeAll();
    expect(await rejectionOf(session.handleUnauthorized(first))).toMatchObject({ name: 'TokenStoreError', code: 'token_callback_failed' });
    fail = false;
    const next = await session.getAuthorization();
    expect(persisted).toHaveLength(1);
    expect(next.value).toBe(`Bearer ${persisted[0]!.accessToken}`);
    expect(fx.count(FX_TOKEN)).toBe(2);
  });
});

describe('instances sharing a store', () => {
  it('renew at the same point: the issue time is stored, so the skew cap holds in every instance', async () => {
    fd.expiresIn = 30;
    const store = new MemoryTokenStore();
    const instances = [clientCredentials(store), clientCredentials(store)];
    for (let i = 0; i < 10; i++) await instances[i % 2]!.getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(1);
    clock.advance(16_000);
    for (let i = 0; i < 10; i++) await instances[i % 2]!.getAuthorization();
    expect(fd.count(FD_TOKEN)).toBe(2);
  });

  it("a late starter's saved tokens never overwrite tokens another instance rotated meanwhile", async () => {
    const inner = new MemoryTokenStore();
    const original = await finexerTokens();
    // The late starter reads an empty store, then is slow to go on.
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const slowFirstRead: TokenStore = {
      get: async (key) => {
        const value = await inner.get(key);
        await gate;
        return value;
      },
      set: (key, tokens, expected) => inner.set(key, tokens, expected),
      delete: (key, expected) => inner.delete(key, expected),
      lock: (key, fn, signal) => inner.lock(key, fn, signal),
    };
    const late = finexerFlow().session(original, { store: slowFirstRead, key: 'user-2' });
    const early = finexerFlow().session(original, { store: inner, key: 'user-2' });
    const lateRead = late.tokens();
    setTimeout(open, 150);
    const sent = (await early.getAuthorization()).value;
    fx.tokens.revokeAll();
    await early.handleUnauthorized(sent);
    await lateRead;
    const stored = (await inner.get('user-2'))!.tokens;
    expect(stored.refreshToken).not.toBe(original.refreshToken);
    await expect(late.tokens()).resolves.toMatchObject({ refreshToken: stored.refreshToken });
    await expect(finexerFlow().refresh(stored)).resolves.toMatchObject({ tokenType: 'bearer' });
  });

  it('invalid_grant because another instance already rotated: its tokens are used, nothing is deleted', async () => {
    // A lease shorter than the token request lets a second instance in (a stalled holder).
    const store = new MemoryTokenStore({ leaseMs: 40 });
    const tokens = await finexerTokens();
    const [a, b] = [finexerFlow().session(tokens, { store, key: 'user-3' }), finexerFlow().session(tokens, { store, key: 'user-3' })];
    const sent = (await a.getAuthorization()).value;
    fx.tokens.revokeAll();
    fx.latencyMs = 150;
    const [ra, rb] = await Promise.allSettled([
      a.handleUnauthorized(sent),
      new Promise((r) => setTimeout(r, 60)).then(() => b.handleUnauthorized(sent)),
    ]);
    expect([ra.status, rb.status]).toEqual(['fulfilled', 'fulfilled']);
    fx.latencyMs = 0;
    const stored = (await store.get('user-3'))!.tokens;
    await expect(b.getAuthorization()).resolves.toEqual({ name: 'Authorization', value: `Bearer ${stored.accessToken}` });
    expect((await callApi(a, `${fx.apiBaseUrl}/customers`)).response.status).toBe(200);
  });

  it('invalid_grant with nothing newer stored is ReauthorizationRequiredError, and the tokens are deleted', async () => {
    const store = new MemoryTokenStore();
    const session = finexerFlow().session(await finexerTokens(), { store, key: 'user-4' });
    const sent = (await session.getAuthorization()).value;
    fx.tokens.revokeAll();
    await finexerFlow().refresh((await store.get('user-4'))!.tokens);
    expect(await rejectionOf(session.handleUnauthorized(sent))).toBeInstanceOf(ReauthorizationRequiredError);
    await expect(store.get('user-4')).resolves.toBeUndefined();
  });

  it('fencing: a holder whose lease ran out cannot overwrite newer tokens', async () => {
    const store = new MemoryTokenStore({ leaseMs: 40 });
    const [a, b] = [clientCredentials(store), clientCredentials(store)];
    fd.inject(FD_TOKEN, tokenReply(200, { access_token: 'stale-from-a', token_type: 'bearer', expires_in: 3600 }), { delayMs: 200 });
    const slow = a.getAuthorization();
    await new Promise((r) => setTimeout(r, 80));
    const fresh = await b.getAuthorization();
    // A's late write names the version it read (none): refused; A uses what B stored.
    await expect(slow).resolves.toEqual(fresh);
    expect(fresh.value).not.toBe('Bearer stale-from-a');
  });
});
