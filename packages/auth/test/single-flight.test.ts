// N concurrent callers needing a token cause exactly one token request; its
// failure reaches every waiter and clears the in-flight state.

import { type DexeroFdEmulator, loadProfile, startDexeroFd } from '@portico/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAuthenticator, MemoryTokenStore, TokenResponseError, type TokenStore, type Tokens } from '../src/index.js';

const { profile } = loadProfile('dexero-fd');
let fd: DexeroFdEmulator;

beforeAll(async () => {
  fd = await startDexeroFd();
});
afterAll(() => fd.close());
beforeEach(() => fd.reset());

const TOKEN = 'POST /oauth/token.action';
const auth = (store?: TokenStore) =>
  createAuthenticator(
    profile,
    { clientId: fd.clientId, clientSecret: fd.clientSecret, tokenUrl: fd.tokenUrl },
    { baseUrl: fd.apiBaseUrl, ...(store ? { store } : {}) },
  );

describe('single-flight token requests', () => {
  it('50 concurrent callers on an empty cache cause one token request and all get its token', async () => {
    fd.latencyMs = 50;
    const authenticator = auth();
    const headers = await Promise.all(Array.from({ length: 50 }, () => authenticator.getAuthorization()));
    expect(fd.count(TOKEN)).toBe(1);
    expect(new Set(headers.map((h) => h.value)).size).toBe(1);
  });

  it('a failing token request rejects all 50 waiters with the same error; the next call tries again', async () => {
    fd.inject(TOKEN, { status: 503, body: 'maintenance' }, { delayMs: 50 });
    const authenticator = auth();
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => authenticator.getAuthorization()));
    expect(results.every((r) => r.status === 'rejected')).toBe(true);
    const reasons = new Set(results.map((r) => (r as PromiseRejectedResult).reason));
    expect(reasons.size).toBe(1);
    expect([...reasons][0]).toBeInstanceOf(TokenResponseError);
    expect([...reasons][0]).toMatchObject({ status: 503 });
    expect(fd.count(TOKEN)).toBe(1);
    await expect(authenticator.getAuthorization()).resolves.toMatchObject({ name: 'Authorization' });
    expect(fd.count(TOKEN)).toBe(2);
  });

  it('a waiter that aborts gets its abort reason; the shared request still serves the others', async () => {
    fd.latencyMs = 80;
    const authenticator = auth();
    const controller = new AbortController();
    const aborted = authenticator.getAuthorization(controller.signal);
    const others = Promise.all(Array.from({ length: 5 }, () => authenticator.getAuthorization()));
    controller.abort(new Error('user went away'));
    await expect(aborted).rejects.toThrow('user went away');
    await expect(others).resolves.toHaveLength(5);
    expect(fd.count(TOKEN)).toBe(1);
  });

  it('two clients sharing one MemoryTokenStore (same credentials) make one token request, via its lock', async () => {
    fd.latencyMs = 30;
    const store = new MemoryTokenStore();
    const [a, b] = [auth(store), auth(store)];
    const headers = await Promise.all([
      ...Array.from({ length: 10 }, () => a.getAuthorization()),
      ...Array.from({ length: 10 }, () => b.getAuthorization()),
    ]);
    expect(fd.count(TOKEN)).toBe(1);
    expect(new Set(headers.map((h) => h.value)).size).toBe(1);
  });

  it("uses a store's lock when it has one, and re-reads the store inside it", async () => {
    const inner = new MemoryTokenStore();
    const locked: string[] = [];
    const store: TokenStore = {
      get: (key) => inner.get(key),
      set: (key, tokens, expected) => inner.set(key, tokens, expected),
      delete: (key) => inner.delete(key),
      lock: (key, fn) => {
        locked.push(key);
        return inner.lock(key, fn);
      },
    };
    await auth(store).getAuthorization();
    expect(locked).toHaveLength(1);
    // Another process stored a token under the same key: a new client uses it instead of fetching.
    const [key] = locked;
    const foreign: Tokens = { accessToken: 'from-another-process', tokenType: 'bearer', expiresAt: Date.now() + 3_600_000, raw: {} };
    await inner.set(key!, foreign, (await inner.get(key!))!.version);
    await expect(auth(store).getAuthorization()).resolves.toEqual({ name: 'Authorization', value: 'Bearer from-another-process' });
    expect(fd.count(TOKEN)).toBe(1);
  });
});
