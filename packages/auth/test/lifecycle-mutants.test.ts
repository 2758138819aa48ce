// The token lifecycle driven directly, with a store whose reads, writes, lock
// and lease a test steers: the header kept per token set, the store's cache,
// the lock, pending tokens after a failed write, the save's retries, the
// reasons a renewal is asked for, and what each failure is called. Each test
// pins behaviour a StrykerJS mutant of src/lifecycle.ts changed without any
// other test noticing.
import { rejectionOf } from '@portico/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, ReauthorizationRequiredError, TokenStoreError, TokenTimeoutError } from '../src/errors.js';
import { createLifecycle, type LifecycleInit, type RenewReason, underLock, unsavedWritten } from '../src/lifecycle.js';
import { type Lease, MemoryTokenStore, type SpendingMark, type StoredTokens, type TokenStore } from '../src/store.js';
import type { Tokens } from '../src/tokens.js';
import { FakeClock } from './helpers.js';

const KEY = 'tenant-1';
const HOUR = 3_600_000;
const SKEW = 60_000;

const tokens = (accessToken: string, extra: Partial<Tokens> = {}): Tokens => ({ accessToken, tokenType: 'bearer', raw: {}, ...extra });
const bearer = (accessToken: string) => ({ name: 'Authorization', value: `Bearer ${accessToken}` });

/**
 * A compare-and-set store whose one entry a test may rewrite at will (as
 * another instance, or a store that breaks its contract), with counted calls,
 * hooks that run before each call (and may throw), and a lease the test can end.
 */
class ProbeStore implements TokenStore {
  entry: StoredTokens | undefined;
  readonly calls = { get: 0, set: 0, delete: 0, lock: 0 };
  beforeGet: (() => void | Promise<void>) | undefined;
  beforeSet: ((tokens: Tokens, spending?: SpendingMark) => void | Promise<void>) | undefined;
  beforeDelete: (() => void | Promise<void>) | undefined;
  beforeLock: (() => void | Promise<void>) | undefined;
  #versions = 0;
  #lease: AbortController | undefined;
  readonly #locks = new MemoryTokenStore();

  constructor(readonly cacheMs?: number) {}

  /** Writes `tokens` (marked as `spending`, if given) as another instance sharing the store would. */
  put(tokens: Tokens, spending?: SpendingMark): void {
    this.entry = spending === undefined ? { tokens, version: ++this.#versions } : { tokens, version: ++this.#versions, spending };
  }

  /** Ends the current holder's lease, as a store does whose lock expired. */
  endLease(reason: unknown = new Error('the lease was lost')): void {
    this.#lease?.abort(reason);
  }

  /** Resolves once no one holds the lock (a renewal's save has given up or finished). */
  idle(): Promise<void> {
    return this.#locks.lock(KEY, async () => undefined);
  }

  async get(): Promise<StoredTokens | undefined> {
    this.calls.get++;
    await this.beforeGet?.();
    return this.entry;
  }

  async set(_key: string, tokens: Tokens, expected: number, spending?: SpendingMark): Promise<number | undefined> {
    this.calls.set++;
    await this.beforeSet?.(tokens, spending);
    if ((this.entry?.version ?? 0) !== expected) return undefined;
    this.put(tokens, spending);
    return this.entry?.version;
  }

  async delete(_key: string, expected?: number): Promise<void> {
    this.calls.delete++;
    await this.beforeDelete?.();
    if (expected === undefined || this.entry?.version === expected) this.entry = undefined;
  }

  async lock<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.calls.lock++;
    await this.beforeLock?.();
    return this.#locks.lock(
      key,
      (lease) => {
        const lost = new AbortController();
        this.#lease = lost;
        lease.signal.addEventListener('abort', () => lost.abort(lease.signal.reason), { once: true });
        return fn({ signal: lost.signal });
      },
      signal,
    );
  }
}

/** A lifecycle on a fake clock whose renewals are recorded and answer with a fresh, hour-long set (renewed-1, renewed-2, ...). */
function lifecycle(init: Partial<LifecycleInit> = {}) {
  const clock = new FakeClock();
  const renewals: { current: Tokens | undefined; reason: RenewReason }[] = [];
  const handed: Tokens[] = [];
  const lc = createLifecycle({
    key: KEY,
    apply: { header: 'Authorization', scheme: 'Bearer' },
    now: clock.now,
    renew: async (current, reason) => {
      renewals.push({ current, reason });
      const n = renewals.length;
      return tokens(`renewed-${n}`, { refreshToken: `refresh-${n}`, expiresAt: clock.time + HOUR });
    },
    onTokens: (t) => {
      handed.push(t);
    },
    ...init,
  });
  return { lc, clock, renewals, handed };
}

const fresh = (clock: FakeClock, accessToken = 'stored-1', extra: Partial<Tokens> = {}) =>
  tokens(accessToken, { refreshToken: 'stored-refresh', expiresAt: clock.time + HOUR, ...extra });

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('the header of a token set', () => {
  it('is checked and built once per set: the same frozen header while the store holds that set', async () => {
    const { lc } = lifecycle();
    const first = await lc.getAuthorization();
    const again = await lc.getAuthorization();
    expect(again).toEqual(bearer('renewed-1'));
    expect(again).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('follows a new access token even from a store that kept the version (and the expiry) the same', async () => {
    const store = new ProbeStore();
    const { lc, clock } = lifecycle({ store });
    const expiresAt = clock.time + HOUR;
    store.entry = { tokens: tokens('first', { expiresAt, issuedAt: clock.time }), version: 7 };
    expect(await lc.getAuthorization()).toEqual(bearer('first'));
    store.entry = { tokens: tokens('second', { expiresAt, issuedAt: clock.time }), version: 7 };
    expect(await lc.getAuthorization()).toEqual(bearer('second'));
  });

  it('checks a set the store rewrote afresh, even when its access token is unchanged', async () => {
    const store = new ProbeStore();
    const { lc, clock } = lifecycle({ store });
    const good = fresh(clock);
    store.entry = { tokens: good, version: 1 };
    await lc.getAuthorization();
    store.entry = { tokens: { ...good, tokenType: 7 } as unknown as Tokens, version: 2 };
    expect(await rejectionOf(lc.getAuthorization())).toBeInstanceOf(ConfigurationError);
    // A store that lost the token set but kept the version last seen: the same typed error, not a TypeError.
    store.entry = { tokens: undefined as unknown as Tokens, version: 1 };
    expect(await rejectionOf(lc.getAuthorization())).toBeInstanceOf(ConfigurationError);
  });

  it('notices a changed expiry or issue time under the same version, and renews when that makes the set due', async () => {
    const store = new ProbeStore();
    const { lc, clock, renewals } = lifecycle({ store, refreshSkewMs: SKEW });
    // Lifetime 60 s: the skew is capped at half of it, so 40 s left is not yet due.
    const issuedAt = clock.time - 20_000;
    store.entry = { tokens: tokens('a', { expiresAt: clock.time + 40_000, issuedAt }), version: 1 };
    await lc.getAuthorization();
    expect(renewals).toHaveLength(0);
    // Without the issue time the whole 60 s skew applies: due.
    store.entry = { tokens: tokens('a', { expiresAt: clock.time + 40_000 }), version: 1 };
    await lc.getAuthorization();
    expect(renewals).toHaveLength(1);
    store.entry = { tokens: tokens('b', { expiresAt: clock.time + HOUR }), version: 9 };
    await lc.getAuthorization();
    // A shorter expiry alone, same token and version: due again.
    store.entry = { tokens: tokens('b', { expiresAt: clock.time + 30_000 }), version: 9 };
    await lc.getAuthorization();
    expect(renewals.map((r) => r.reason)).toEqual(['expiring', 'expiring']);
  });

  it('is renewed exactly at the skew before expiry, not a millisecond later', async () => {
    const store = new ProbeStore();
    const { lc, clock, renewals } = lifecycle({ store, refreshSkewMs: SKEW });
    const expiresAt = clock.time + HOUR;
    store.put(tokens('a', { expiresAt }));
    clock.time = expiresAt - SKEW - 1;
    await lc.getAuthorization();
    expect(renewals).toHaveLength(0);
    clock.time = expiresAt - SKEW;
    expect(await lc.getAuthorization()).toEqual(bearer('renewed-1'));
  });
});

describe("the store's cache (cacheMs)", () => {
  it('serves the header from what was read for exactly cacheMs, then reads again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new ProbeStore(1000);
    const { lc, clock } = lifecycle({ store });
    store.put(fresh(clock));
    const t0 = Date.now();
    await lc.getAuthorization();
    await lc.getAuthorization();
    vi.setSystemTime(t0 + 999);
    await lc.getAuthorization();
    expect(store.calls.get).toBe(1);
    vi.setSystemTime(t0 + 1000);
    await lc.getAuthorization();
    expect(store.calls.get).toBe(2);
  });

  it('reads a store without cacheMs for every header, even when the wall clock steps back', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new ProbeStore();
    const { lc, clock } = lifecycle({ store });
    store.put(fresh(clock));
    const t0 = Date.now();
    await lc.getAuthorization();
    vi.setSystemTime(t0 - 5000);
    await lc.getAuthorization();
    expect(store.calls.get).toBe(2);
  });

  it('does not cache an empty read: tokens another instance stores next are used without taking the lock', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new ProbeStore(1000);
    const { lc, clock, renewals } = lifecycle({ store });
    expect(await lc.current()).toBeUndefined();
    store.put(fresh(clock, 'from-elsewhere'));
    expect(await lc.getAuthorization()).toEqual(bearer('from-elsewhere'));
    expect(store.calls.lock).toBe(0);
    expect(renewals).toHaveLength(0);
  });

  it('current() reads the store, never the header cache', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new ProbeStore(60_000);
    const { lc, clock } = lifecycle({ store });
    store.put(fresh(clock, 'old'));
    await lc.getAuthorization();
    store.put(fresh(clock, 'new'));
    expect((await lc.current())?.accessToken).toBe('new');
  });

  it('cachedAuthorization answers from the cache for exactly cacheMs after the read, and does not stretch it', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new ProbeStore(1000);
    const { lc, clock } = lifecycle({ store });
    store.put(fresh(clock));
    const t0 = Date.now();
    const header = await lc.getAuthorization();
    expect(lc.cachedAuthorization()).toBe(header);
    vi.setSystemTime(t0 + 600);
    expect(lc.cachedAuthorization()).toBe(header);
    vi.setSystemTime(t0 + 1000);
    expect(lc.cachedAuthorization()).toBeUndefined();
  });

  it('cachedAuthorization from a memory store with cacheMs counts as a read: the next header needs no read for cacheMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    class CachingMemoryStore extends MemoryTokenStore {
      readonly cacheMs = 1000;
    }
    const store = new CachingMemoryStore();
    const { lc } = lifecycle({ store });
    const t0 = Date.now();
    const header = await lc.getAuthorization();
    vi.setSystemTime(t0 + 1500);
    expect(lc.cachedAuthorization()).toBe(header);
    // Spied on the prototype, so the store still counts as a plain memory store.
    const reads = vi.spyOn(MemoryTokenStore.prototype, 'get');
    vi.setSystemTime(t0 + 2000);
    expect(await lc.getAuthorization()).toBe(header);
    expect(reads).not.toHaveBeenCalled();
  });
});

describe('cachedAuthorization with a memory store', () => {
  it('defers to getAuthorization once the store no longer holds the set: cleared, or replaced by another instance', async () => {
    const store = new MemoryTokenStore();
    const { lc, clock } = lifecycle({ store });
    const header = await lc.getAuthorization();
    expect(lc.cachedAuthorization()).toBe(header);
    const version = (await store.get(KEY))!.version;
    await store.set(KEY, fresh(clock, 'from-elsewhere'), version);
    expect(lc.cachedAuthorization()).toBeUndefined();
    await store.delete(KEY);
    expect(lc.cachedAuthorization()).toBeUndefined();
  });

  it('defers while renewed tokens wait to be saved, though the store still holds the old, rejected set', async () => {
    class FlakyMemoryStore extends MemoryTokenStore {
      failing = () => false;
      override async set(key: string, tokens: Tokens, expected: number): Promise<number | undefined> {
        if (this.failing()) throw new Error('the store is failing over');
        return super.set(key, tokens, expected);
      }
    }
    const store = new FlakyMemoryStore();
    // A short timeout: the save gives up after twice it, and the lock passes on.
    const { lc, renewals } = lifecycle({ store, timeoutMs: 20 });
    const rejected = await lc.getAuthorization();
    // Failing from when the second token request is out: the set was marked, the renewed tokens cannot be saved.
    store.failing = () => renewals.length > 1;
    await rejectionOf(lc.handleUnauthorized(rejected.value));
    await store.lock(KEY, async () => undefined);
    expect(lc.cachedAuthorization()).toBeUndefined();
    store.failing = () => false;
  });
});

describe('the store lock', () => {
  it('for a store without a lock of its own, lifecycles sharing it in this process renew once', async () => {
    const inner = new MemoryTokenStore();
    const store: TokenStore = {
      get: (key) => inner.get(key),
      set: (key, tokens, expected) => inner.set(key, tokens, expected),
      delete: (key, expected) => inner.delete(key, expected),
    };
    let release!: () => void;
    const slow = new Promise<void>((resolve) => (release = resolve));
    let renewals = 0;
    const renew = async () => {
      renewals++;
      await slow;
      return tokens(`renewed-${renewals}`, { expiresAt: Date.now() + HOUR });
    };
    const [a, b] = [lifecycle({ store, renew }).lc, lifecycle({ store, renew }).lc];
    const both = Promise.all([a.getAuthorization(), b.getAuthorization()]);
    await vi.waitFor(() => expect(renewals).toBe(1));
    release();
    expect(await both).toEqual([bearer('renewed-1'), bearer('renewed-1')]);
    expect(renewals).toBe(1);
  });

  it('a lock that fails is a TokenStoreError that says so', async () => {
    const store = new ProbeStore();
    store.beforeLock = () => {
      throw new Error('lock service down');
    };
    const error = await rejectionOf(lifecycle({ store }).lc.getAuthorization());
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).message).toBe('the token store failed to lock the tokens');
    expect(((error as Error).cause as Error).message).toBe('lock service down');
  });

  it('underLock: a wait for the lock that is aborted rejects with the abort reason itself', async () => {
    const store = new MemoryTokenStore();
    let release!: () => void;
    const held = store.lock(KEY, () => new Promise<void>((resolve) => (release = resolve)));
    const controller = new AbortController();
    const waiting = rejectionOf(underLock(store, KEY, async () => 'ran', controller.signal));
    const reason = new TokenTimeoutError('token renewal', 5);
    controller.abort(reason);
    expect(await waiting).toBe(reason);
    release();
    await held;
  });

  it('underLock: a store whose lock fails in its own way after the abort still reports a store failure', async () => {
    const failure = new Error('connection reset');
    const store: TokenStore = {
      get: async () => undefined,
      set: async () => undefined,
      delete: async () => undefined,
      lock: (_key, _fn, signal) =>
        new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(failure), { once: true })),
    };
    const controller = new AbortController();
    const waiting = rejectionOf(underLock(store, KEY, async () => 'ran', controller.signal));
    controller.abort(new Error('gave up'));
    const error = await waiting;
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).cause).toMatchObject({ message: 'connection reset' });
  });

  it('underLock: a lock that fails in its own way after fn failed (an unlock that fails) reports a store failure', async () => {
    const store: TokenStore = {
      get: async () => undefined,
      set: async () => undefined,
      delete: async () => undefined,
      lock: async (_key, fn) => {
        await fn({ signal: new AbortController().signal }).catch(() => undefined);
        throw new Error('unlock failed');
      },
    };
    const error = await rejectionOf(
      underLock(
        store,
        KEY,
        async () => {
          throw new Error('renewal failed');
        },
        new AbortController().signal,
      ),
    );
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).cause).toMatchObject({ message: 'unlock failed' });
  });

  it('a renewal whose lease the store has already ended spends no refresh token', async () => {
    const store = new ProbeStore();
    const { lc, renewals } = lifecycle({ store });
    const lost = new Error('the lease expired');
    store.beforeGet = () => {
      if (store.calls.lock > 0) store.endLease(lost);
    };
    expect(await rejectionOf(lc.getAuthorization())).toBe(lost);
    expect(renewals).toHaveLength(0);
  });
});

describe('what a failure is called', () => {
  it('a read that fails: the token store failed to read the tokens', async () => {
    const store = new ProbeStore();
    store.beforeGet = () => {
      throw new Error('connection refused');
    };
    const error = await rejectionOf(lifecycle({ store }).lc.getAuthorization());
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).message).toBe('the token store failed to read the tokens');
  });

  it('a write that fails: the renewed tokens are kept and saved on the next call; the error never quotes them', async () => {
    const store = new ProbeStore();
    // Renewed tokens without a refresh token: only the access token is secret.
    const { lc } = lifecycle({ store, timeoutMs: 20, renew: async () => tokens('renewed-secret-access-token') });
    store.beforeSet = (t) => {
      throw new Error(`refused to write ${t.accessToken}: undefined slot`);
    };
    await rejectionOf(lc.getAuthorization());
    await store.idle();
    const error = await rejectionOf(lc.current());
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).message).toBe(
      'the token store failed to save renewed tokens (they are kept in memory and saved on the next call)',
    );
    const cause = (error as Error).cause as Error;
    expect(cause.message).toContain(': undefined slot');
    expect(cause.message).not.toContain('renewed-secret-access-token');
    store.beforeSet = undefined;
    expect((await lc.current())?.accessToken).toBe('renewed-secret-access-token');
  });

  it('a read that fails while checking whether a refused write landed: the token store failed to read the tokens', async () => {
    const store = new ProbeStore();
    const { lc, clock } = lifecycle({ store, timeoutMs: 20 });
    store.put(fresh(clock));
    store.beforeSet = () => {
      // Another instance wrote first, and then the store went away.
      store.beforeSet = undefined;
      store.put(fresh(clock, 'from-elsewhere'));
      store.beforeGet = () => {
        throw new Error('connection refused');
      };
    };
    await rejectionOf(lc.handleUnauthorized(bearer('stored-1').value));
    await store.idle();
    const error = await rejectionOf(lc.current());
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).message).toBe('the token store failed to read the tokens');
  });

  it('a delete of rejected tokens that fails: the token store failed to delete the rejected tokens', async () => {
    const store = new ProbeStore();
    const { lc, clock } = lifecycle({
      store,
      renew: async () => {
        throw new ReauthorizationRequiredError('invalid_grant');
      },
    });
    store.put(fresh(clock));
    store.beforeDelete = () => {
      throw new Error('read-only replica');
    };
    const error = await rejectionOf(lc.handleUnauthorized(bearer('stored-1').value));
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).message).toBe('the token store failed to delete the rejected tokens');
  });

  it('onTokens that fails: a token_callback_failed error that says it is called again; one that hangs is bounded and named', async () => {
    const failing = lifecycle({
      onTokens: () => {
        throw new Error('database down');
      },
    });
    const error = await rejectionOf(failing.lc.getAuthorization());
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(error).toMatchObject({ code: 'token_callback_failed' });
    expect((error as Error).message).toBe('onTokens failed for renewed tokens (it is called again on the next call)');

    const hanging = lifecycle({ timeoutMs: 20, onTokens: () => new Promise<void>(() => undefined) });
    const timedOut = await rejectionOf(hanging.lc.current().then(() => hanging.lc.getAuthorization()));
    expect(timedOut).toBeInstanceOf(TokenTimeoutError);
    const late = await rejectionOf(hanging.lc.current());
    expect(late).toMatchObject({ code: 'token_callback_failed' });
    expect(((late as Error).cause as Error).message).toBe('the onTokens did not finish within 20 ms');
  });
});

describe('pending tokens (renewed, not yet saved or handed to onTokens)', () => {
  /** A lifecycle holding `renewed-1` pending: its save failed until the window ran out. */
  async function pendingAfterFailedSave() {
    const store = new ProbeStore();
    const made = lifecycle({ store, timeoutMs: 20 });
    store.put(fresh(made.clock));
    store.beforeSet = () => {
      throw new Error('the store is failing over');
    };
    await rejectionOf(made.lc.handleUnauthorized(bearer('stored-1').value));
    await store.idle();
    store.beforeSet = undefined;
    expect(made.handed).toHaveLength(0);
    return { ...made, store };
  }

  it('are saved on the next call and used as saved, without reading them back', async () => {
    const { lc, store, handed } = await pendingAfterFailedSave();
    const { get, set } = store.calls;
    expect((await lc.current())?.accessToken).toBe('renewed-1');
    expect(store.calls).toMatchObject({ get, set: set + 1 });
    expect(handed.map((t) => t.accessToken)).toEqual(['renewed-1']);
  });

  it('are saved once for calls that overlap: they share the one write and its result', async () => {
    const { lc, store, handed } = await pendingAfterFailedSave();
    const { get, set } = store.calls;
    const [a, b, header] = await Promise.all([lc.current(), lc.current(), lc.getAuthorization()]);
    expect([a?.accessToken, b?.accessToken, header]).toEqual(['renewed-1', 'renewed-1', bearer('renewed-1')]);
    expect(store.calls).toMatchObject({ get, set: set + 1 });
    expect(handed).toHaveLength(1);
  });

  it('give way to newer tokens another instance stored meanwhile', async () => {
    const { lc, store, clock, handed } = await pendingAfterFailedSave();
    store.put(fresh(clock, 'from-elsewhere'));
    expect((await lc.current())?.accessToken).toBe('from-elsewhere');
    expect(handed).toHaveLength(0);
  });

  it('give way to a set with the same access token but another refresh token: the write did not land', async () => {
    const { lc, store, clock, handed } = await pendingAfterFailedSave();
    store.put(tokens('renewed-1', { refreshToken: 'refresh-of-elsewhere', expiresAt: clock.time + HOUR }));
    expect((await lc.current())?.refreshToken).toBe('refresh-of-elsewhere');
    expect(handed).toHaveLength(0);
  });

  it('are dropped when the tokens were cleared meanwhile (the session ended elsewhere)', async () => {
    const { lc, store } = await pendingAfterFailedSave();
    store.entry = undefined;
    expect(await lc.current()).toBeUndefined();
  });

  it('once written, are not written again when only onTokens failed', async () => {
    let fail = true;
    const store = new ProbeStore();
    const { lc, handed } = lifecycle({
      store,
      onTokens: (t) => {
        if (fail) throw new Error('callback down');
        handed.push(t);
      },
    });
    await rejectionOf(lc.getAuthorization());
    expect(store.calls.set).toBe(1);
    fail = false;
    expect(await lc.getAuthorization()).toEqual(bearer('renewed-1'));
    expect(store.calls.set).toBe(1);
    expect(handed.map((t) => t.accessToken)).toEqual(['renewed-1']);
  });

  it('saved by another call while the renewal waits to retry: the renewal finds nothing left to save and answers', async () => {
    const store = new ProbeStore();
    const { lc } = lifecycle({ store });
    let failed!: () => void;
    const firstFailure = new Promise<void>((resolve) => (failed = resolve));
    store.beforeSet = () => {
      store.beforeSet = undefined;
      failed();
      throw new Error('a blip');
    };
    const renewing = lc.getAuthorization();
    await firstFailure;
    // Every promise reaction has run: the renewal is asleep before its retry.
    await new Promise((resolve) => setImmediate(resolve));
    expect(await lc.getAuthorization()).toEqual(bearer('renewed-1'));
    expect(await renewing).toEqual(bearer('renewed-1'));
    expect(store.calls.set).toBe(2);
  });

  it('are saved before a renewal decides anything: the refresh token they replaced is never spent again', async () => {
    const store = new ProbeStore();
    const { lc, clock, renewals } = lifecycle({
      store,
      renew: async (current, reason) => {
        renewals.push({ current, reason });
        // The first renewal's lease is lost right after its token request, so its failed write is not retried.
        if (renewals.length === 1) store.endLease();
        return tokens(`renewed-${renewals.length}`, { expiresAt: clock.time + HOUR });
      },
    });
    store.put(fresh(clock, 'due', { expiresAt: clock.time + 1000 }));
    // A header lookup whose read is slow: it sees the old, due set after the renewal below has ended.
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    store.beforeGet = () => {
      store.beforeGet = undefined;
      return gate;
    };
    const slow = lc.getAuthorization();
    store.beforeSet = () => {
      throw new Error('the store is failing over');
    };
    await rejectionOf(lc.handleUnauthorized(bearer('due').value));
    store.beforeSet = undefined;
    release();
    expect(await slow).toEqual(bearer('renewed-1'));
    expect(renewals).toHaveLength(1);
  });
});

describe('end() while an earlier save still waits on onTokens', () => {
  it('tokens renewed afterwards are saved and served, not the ended ones, and handed over only once their callback is done', async () => {
    const store = new ProbeStore();
    // Every onTokens call waits until the test lets the calls for its token return.
    const events: string[] = [];
    const waiting = new Map<string, (() => void)[]>();
    const letReturn = (accessToken: string) => {
      for (const resolve of waiting.get(accessToken) ?? []) resolve();
    };
    const { lc, clock, renewals } = lifecycle({
      store,
      renew: async (current, reason) => {
        renewals.push({ current, reason });
        // The first renewal's lease is lost right after its token request, so its failed write is not retried.
        if (renewals.length === 1) store.endLease();
        return tokens(`renewed-${renewals.length}`, { expiresAt: clock.time + HOUR });
      },
      onTokens: async (t) => {
        events.push(`start ${t.accessToken}`);
        await new Promise<void>((resolve) => waiting.set(t.accessToken, [...(waiting.get(t.accessToken) ?? []), resolve]));
        events.push(`end ${t.accessToken}`);
      },
    });
    store.put(fresh(clock));
    store.beforeSet = () => {
      throw new Error('the store is failing over');
    };
    await rejectionOf(lc.handleUnauthorized(bearer('stored-1').value));
    store.beforeSet = undefined;
    // The pending renewed-1 is written; its onTokens hangs on.
    const saving = lc.current();
    await vi.waitFor(() => expect(events).toEqual(['start renewed-1']));
    await lc.end(async () => undefined);
    const next = lc.getAuthorization();
    await vi.waitFor(() => expect(renewals).toHaveLength(2));
    await new Promise((resolve) => setImmediate(resolve));
    expect(events).toEqual(['start renewed-1']);
    letReturn('renewed-1');
    await vi.waitFor(() => expect(events).toContain('start renewed-2'));
    // A call meanwhile shares the save of renewed-2 under way.
    const meanwhile = lc.current();
    letReturn('renewed-2');
    await saving;
    expect(await next).toEqual(bearer('renewed-2'));
    expect((await meanwhile)?.accessToken).toBe('renewed-2');
    expect(store.entry?.tokens.accessToken).toBe('renewed-2');
    expect(events).toEqual(['start renewed-1', 'end renewed-1', 'start renewed-2', 'end renewed-2']);
  });
});

describe('the save of renewed tokens', () => {
  it('retries a failing write after 50, 100, 200, then every 250 ms, until twice the timeout has passed', async () => {
    vi.useFakeTimers();
    const store = new ProbeStore();
    const { lc } = lifecycle({ store, timeoutMs: 300 });
    const attempts: number[] = [];
    store.beforeSet = () => {
      attempts.push(Date.now());
      throw new Error('the store is failing over');
    };
    const call = rejectionOf(lc.getAuthorization());
    await vi.advanceTimersByTimeAsync(2000);
    expect(await call).toBeInstanceOf(TokenTimeoutError);
    const start = attempts[0]!;
    expect(attempts.map((t) => t - start)).toEqual([0, 50, 150, 350, 600]);
  });
});

describe('a store write that is slow or hangs', () => {
  it('within a renewal, a slow write is waited for over what is left of the save window, not retried beside it', async () => {
    const store = new ProbeStore();
    const { lc } = lifecycle({ store, timeoutMs: 1000 });
    store.beforeSet = () => new Promise((resolve) => setTimeout(resolve, 30));
    expect(await lc.getAuthorization()).toEqual(bearer('renewed-1'));
    expect(store.calls.set).toBe(1);
  });

  it('one that hangs is bounded, and the failure names the token store write', async () => {
    const store = new ProbeStore();
    const { lc } = lifecycle({ store, timeoutMs: 20 });
    store.beforeSet = () => new Promise<void>(() => undefined);
    await rejectionOf(lc.getAuthorization());
    await store.idle();
    const error = await rejectionOf(lc.current());
    expect(error).toBeInstanceOf(TokenStoreError);
    expect(((error as Error).cause as Error).message).toBe('the token store write did not finish within 20 ms');
  });
});

describe('renewal', () => {
  it('asks for tokens as missing when none are stored, and as rejected after a 401 on the current token', async () => {
    const { lc, renewals } = lifecycle();
    const header = await lc.getAuthorization();
    await lc.handleUnauthorized(header.value);
    expect(renewals.map((r) => r.reason)).toEqual(['missing', 'rejected']);
  });

  it('asks as expiring when, under the lock, the store holds another set that is due', async () => {
    const store = new ProbeStore();
    const { lc, clock, renewals } = lifecycle({ store });
    store.put(fresh(clock, 'rejected-one'));
    store.beforeLock = () => {
      store.put(fresh(clock, 'due-one', { expiresAt: clock.time + 1000 }));
    };
    await lc.handleUnauthorized(bearer('rejected-one').value);
    expect(renewals).toEqual([{ current: expect.objectContaining({ accessToken: 'due-one' }), reason: 'expiring' }]);
  });

  it('a token request that hangs is bounded: a TokenTimeoutError that names the token renewal', async () => {
    const { lc } = lifecycle({ timeoutMs: 20, renew: () => new Promise<Tokens>(() => undefined) });
    const error = await rejectionOf(lc.getAuthorization());
    expect(error).toBeInstanceOf(TokenTimeoutError);
    expect((error as Error).message).toBe('the token renewal did not finish within 20 ms');
  });

  it('a renew that hands back the current set keeps it: no write, no onTokens', async () => {
    const store = new ProbeStore();
    const { lc, clock, handed } = lifecycle({ store, renew: async (current) => current! });
    store.put(fresh(clock));
    expect(await lc.handleUnauthorized(bearer('stored-1').value)).toBe(true);
    expect(store.calls.set).toBe(0);
    expect(handed).toHaveLength(0);
  });

  it('answers with the new token though the store was cleared meanwhile and it could not be saved', async () => {
    const store = new ProbeStore();
    const { lc, clock } = lifecycle({
      store,
      renew: async () => {
        store.entry = undefined;
        return tokens('renewed-unsaved', { expiresAt: clock.time + HOUR });
      },
    });
    store.put(fresh(clock, 'due', { expiresAt: clock.time + 1000 }));
    expect(await lc.getAuthorization()).toEqual(bearer('renewed-unsaved'));
  });

  it('invalid_grant after another instance cleared the tokens: the ReauthorizationRequiredError itself', async () => {
    const store = new ProbeStore();
    const refused = new ReauthorizationRequiredError('invalid_grant');
    const { lc, clock } = lifecycle({
      store,
      renew: async () => {
        store.entry = undefined;
        throw refused;
      },
    });
    store.put(fresh(clock));
    expect(await rejectionOf(lc.handleUnauthorized(bearer('stored-1').value))).toBe(refused);
  });
});

describe('end', () => {
  it('with nothing stored or pending: finish is not called, and the key is deleted', async () => {
    const store = new ProbeStore();
    const finish = vi.fn(async () => undefined);
    await lifecycle({ store }).lc.end(finish);
    expect(finish).not.toHaveBeenCalled();
    expect(store.calls.delete).toBe(1);
  });

  it('a finish that hangs is bounded: a TokenTimeoutError for the revocation, and the tokens are deleted', async () => {
    const store = new ProbeStore();
    const { lc, clock } = lifecycle({ store, timeoutMs: 20 });
    store.put(fresh(clock));
    const error = await rejectionOf(lc.end(() => new Promise<void>(() => undefined)));
    expect(error).toBeInstanceOf(TokenTimeoutError);
    expect((error as Error).message).toBe('the revocation did not finish within 20 ms');
  });

  it('a delete that fails: the token store failed to delete the tokens', async () => {
    const store = new ProbeStore();
    store.beforeDelete = () => {
      throw new Error('read-only replica');
    };
    const error = await rejectionOf(lifecycle({ store }).lc.end(async () => undefined));
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).message).toBe('the token store failed to delete the tokens');
  });
});

/** A ProbeStore that keeps spending marks, as MemoryTokenStore and the Redis store do. */
class MarkingStore extends ProbeStore {
  readonly spendingMarks = true;
}

describe('spending marks', () => {
  const due = (clock: FakeClock) => fresh(clock, 'due', { expiresAt: clock.time + 1000 });

  it('a set is marked by a write of its own before its refresh token is spent, and the renewed tokens replace the mark', async () => {
    const store = new MarkingStore();
    const seen: (SpendingMark | undefined)[] = [];
    const { lc, clock, renewals } = lifecycle({
      store,
      renew: async () => {
        seen.push(store.entry?.spending);
        renewals.push({ current: undefined, reason: 'expiring' });
        return tokens('renewed-1', { refreshToken: 'refresh-1', expiresAt: clock.time + HOUR });
      },
    });
    store.put(due(clock));
    expect(await lc.getAuthorization()).toEqual(bearer('renewed-1'));
    expect(seen).toEqual([{ owner: expect.stringMatching(/^[\w-]{22}$/), beatMs: 1_000 }]);
    expect(store.calls.set).toBe(2);
    expect(store.entry).toEqual({ tokens: expect.objectContaining({ accessToken: 'renewed-1' }), version: 3 });
  });

  it('a store without spendingMarks, or a set without a refresh token, is renewed without one', async () => {
    for (const [store, stored] of [
      [new ProbeStore(), (clock: FakeClock) => due(clock)],
      [new MarkingStore(), (clock: FakeClock) => fresh(clock, 'due', { refreshToken: undefined, expiresAt: clock.time + 1000 })],
    ] as const) {
      const { lc, clock } = lifecycle({ store });
      store.put(stored(clock));
      expect(await lc.getAuthorization()).toEqual(bearer('renewed-1'));
      expect(store.calls.set).toBe(1);
    }
  });

  it("another instance's mark is waited out: its refresh token is spent only after three beats unchanged, read at least each beat", async () => {
    vi.useFakeTimers();
    const store = new MarkingStore();
    const { lc, clock, renewals } = lifecycle({ store });
    store.put(due(clock), { owner: 'elsewhere', beatMs: 100 });
    const renewing = lc.getAuthorization();
    await vi.advanceTimersByTimeAsync(299);
    expect(renewals).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(30);
    expect(renewals).toHaveLength(1);
    expect(await renewing).toEqual(bearer('renewed-1'));
    // Read every twentieth of a beat while waiting.
    expect(store.calls.get).toBeGreaterThanOrEqual(60);
  });

  it('a beat (a new version of the mark) starts the count again; new tokens in its place end the wait', async () => {
    vi.useFakeTimers();
    const store = new MarkingStore();
    const { lc, clock, renewals } = lifecycle({ store });
    const mark = { owner: 'elsewhere', beatMs: 100 };
    store.put(due(clock), mark);
    const renewing = lc.getAuthorization();
    for (let beat = 0; beat < 5; beat++) {
      await vi.advanceTimersByTimeAsync(250);
      store.put(due(clock), mark);
    }
    expect(renewals).toHaveLength(0);
    store.put(fresh(clock, 'from-elsewhere'));
    await vi.advanceTimersByTimeAsync(25);
    expect(await renewing).toEqual(bearer('from-elsewhere'));
    expect(renewals).toHaveLength(0);
  });

  it('a gap of more than a beat between reads (a renewal that timed out, the store not answering) starts the count again', async () => {
    vi.useFakeTimers();
    const store = new MarkingStore();
    const { lc, clock, renewals } = lifecycle({ store, timeoutMs: 250 });
    store.put(due(clock), { owner: 'elsewhere', beatMs: 100 });
    // Watched for 250 of the 300 ms, then the caller's deadline.
    const first = rejectionOf(lc.getAuthorization());
    await vi.advanceTimersByTimeAsync(250);
    expect(await first).toBeInstanceOf(TokenTimeoutError);
    await vi.advanceTimersByTimeAsync(150);
    // A new renewal after a gap: three more beats, not the 50 ms left; its own 250 ms are not enough.
    const second = rejectionOf(lc.getAuthorization());
    await vi.advanceTimersByTimeAsync(250);
    expect(await second).toBeInstanceOf(TokenTimeoutError);
    expect(renewals).toHaveLength(0);
    // The next one, at once, goes on counting.
    const third = lc.getAuthorization();
    await vi.advanceTimersByTimeAsync(75);
    expect(renewals).toHaveLength(1);
    expect(await third).toEqual(bearer('renewed-1'));
  });

  it('watched across renewals without a gap, the count goes on', async () => {
    vi.useFakeTimers();
    const store = new MarkingStore();
    const { lc, clock, renewals } = lifecycle({ store, timeoutMs: 250 });
    store.put(due(clock), { owner: 'elsewhere', beatMs: 100 });
    const first = rejectionOf(lc.getAuthorization());
    await vi.advanceTimersByTimeAsync(250);
    expect(await first).toBeInstanceOf(TokenTimeoutError);
    const second = lc.getAuthorization();
    await vi.advanceTimersByTimeAsync(75);
    expect(renewals).toHaveLength(1);
    expect(await second).toEqual(bearer('renewed-1'));
  });

  it("this instance's own mark (left by a renewal whose token request failed) is no reason to wait", async () => {
    vi.useFakeTimers();
    const store = new MarkingStore();
    let fail = true;
    const { lc, clock, renewals } = lifecycle({
      store,
      renew: async () => {
        renewals.push({ current: undefined, reason: 'expiring' });
        if (fail) throw new Error('fetch failed');
        return tokens('renewed', { refreshToken: 'refresh', expiresAt: clock.time + HOUR });
      },
    });
    store.put(due(clock));
    // The mark cannot be taken off: the write without it fails.
    store.beforeSet = (_tokens, spending) => {
      if (spending === undefined) throw new Error('the store is failing over');
    };
    await rejectionOf(lc.getAuthorization());
    expect(store.entry?.spending?.beatMs).toBe(1_000);
    fail = false;
    store.beforeSet = undefined;
    const again = lc.getAuthorization();
    await vi.advanceTimersByTimeAsync(0);
    expect(await again).toEqual(bearer('renewed'));
    expect(renewals).toHaveLength(2);
  });

  it('is taken off when the token request fails or hands back the set, so that no one waits it out', async () => {
    const store = new MarkingStore();
    let answer: 'fail' | 'same' = 'fail';
    const { lc, clock } = lifecycle({
      store,
      renew: async (current) => {
        if (answer === 'fail') throw new Error('fetch failed');
        return current!;
      },
    });
    store.put(due(clock));
    await rejectionOf(lc.getAuthorization());
    expect(store.entry).toMatchObject({ version: 3, tokens: { accessToken: 'due' } });
    expect(store.entry?.spending).toBeUndefined();
    answer = 'same';
    expect(await lc.getAuthorization()).toEqual(bearer('due'));
    expect(store.entry).toMatchObject({ version: 5, tokens: { accessToken: 'due' } });
    expect(store.entry?.spending).toBeUndefined();
  });

  it('invalid_grant after marking: another instance writing over the mark counts as its rotation; otherwise the marked set is deleted', async () => {
    const refused = new ReauthorizationRequiredError('invalid_grant');
    const store = new MarkingStore();
    let elsewhere = true;
    const { lc, clock } = lifecycle({
      store,
      renew: async () => {
        if (elsewhere) store.put(fresh(clock, 'from-elsewhere'));
        throw refused;
      },
    });
    store.put(due(clock));
    expect(await lc.getAuthorization()).toEqual(bearer('from-elsewhere'));
    elsewhere = false;
    store.put(due(clock));
    expect(await rejectionOf(lc.getAuthorization())).toBe(refused);
    expect(store.entry).toBeUndefined();
  });

  it('a holder that lost its lease while its refresh token is out writes its mark again every beat, until the request settles', async () => {
    vi.useFakeTimers();
    const store = new MarkingStore();
    let answer!: (t: Tokens) => void;
    const { lc, clock } = lifecycle({ store, timeoutMs: 10_000, renew: () => new Promise<Tokens>((resolve) => (answer = resolve)) });
    store.put(due(clock));
    const renewing = lc.getAuthorization();
    await vi.advanceTimersByTimeAsync(1);
    const marked = store.entry!;
    expect(marked.spending).toBeDefined();
    // Not while the lease holds: no one else can take the lock to read it.
    await vi.advanceTimersByTimeAsync(2_500);
    expect(store.entry).toBe(marked);
    store.endLease();
    await vi.advanceTimersByTimeAsync(999);
    expect(store.entry).toBe(marked);
    await vi.advanceTimersByTimeAsync(1);
    expect(store.entry).toEqual({ ...marked, version: marked.version + 1 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(store.entry?.version).toBe(marked.version + 2);
    answer(tokens('renewed', { refreshToken: 'refresh', expiresAt: clock.time + HOUR }));
    expect(await renewing).toEqual(bearer('renewed'));
    // Written over the last beat's version; no beat after it.
    expect(store.entry).toEqual({ tokens: expect.objectContaining({ accessToken: 'renewed' }), version: marked.version + 3 });
    await vi.advanceTimersByTimeAsync(3_000);
    expect(store.entry?.version).toBe(marked.version + 3);
  });

  it('rotated tokens that a lost lease left unsaved are written every half beat, without a call, until they land', async () => {
    vi.useFakeTimers();
    const store = new MarkingStore();
    const { lc, clock, renewals } = lifecycle({
      store,
      timeoutMs: 1_000,
      renew: async () => {
        renewals.push({ current: undefined, reason: 'expiring' });
        store.endLease();
        return tokens('renewed', { refreshToken: 'refresh', expiresAt: clock.time + HOUR });
      },
    });
    store.put(due(clock));
    const writes: number[] = [];
    store.beforeSet = (t) => {
      if (t.accessToken !== 'renewed') return;
      writes.push(Date.now());
      if (writes.length < 4) throw new Error('the store is failing over');
    };
    const call = rejectionOf(lc.getAuthorization());
    await vi.advanceTimersByTimeAsync(0);
    expect(await call).toBeInstanceOf(TokenStoreError);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(writes.map((t) => t - writes[0]!)).toEqual([0, 500, 1_000, 1_500]);
    expect(store.entry?.tokens.accessToken).toBe('renewed');
    expect(renewals).toHaveLength(1);
  });

  it('a store that closes waits for them (unsavedWritten): until they land, or twice the timeout after the renewal gave up', async () => {
    vi.useFakeTimers();
    for (const recovers of [true, false]) {
      const store = new MarkingStore();
      const { lc, clock } = lifecycle({
        store,
        timeoutMs: 1_000,
        renew: async () => {
          store.endLease();
          return tokens('renewed', { refreshToken: 'refresh', expiresAt: clock.time + HOUR });
        },
      });
      store.put(due(clock));
      store.beforeSet = (t) => {
        if (t.accessToken === 'renewed') throw new Error('the store is failing over');
      };
      await rejectionOf(lc.getAuthorization());
      let written = false;
      void unsavedWritten(store).then(() => (written = true));
      await vi.advanceTimersByTimeAsync(1_500);
      expect(written).toBe(false);
      if (recovers) store.beforeSet = undefined;
      await vi.advanceTimersByTimeAsync(recovers ? 500 : 499);
      expect(written).toBe(recovers);
      await vi.advanceTimersByTimeAsync(1);
      expect(written).toBe(true);
      expect(store.entry?.tokens.accessToken).toBe(recovers ? 'renewed' : 'due');
    }
    await expect(unsavedWritten(new MemoryTokenStore())).resolves.toBeUndefined();
  });

  it("a refused write over this instance's own mark, moved on by a late beat, is written again over it; over another's mark, it gives way", async () => {
    for (const owner of ['own', 'elsewhere'] as const) {
      const store = new MarkingStore();
      const { lc, clock } = lifecycle({
        store,
        renew: async () => tokens('renewed', { refreshToken: 'refresh', expiresAt: clock.time + HOUR }),
      });
      store.put(due(clock));
      store.beforeSet = (t) => {
        if (t.accessToken !== 'renewed') return;
        store.beforeSet = undefined;
        // The store applies a write the lifecycle had given up on, just before this one.
        const spending = owner === 'own' ? store.entry!.spending! : { owner, beatMs: 1_000 };
        store.put(store.entry!.tokens, spending);
      };
      const header = await lc.getAuthorization();
      if (owner === 'own') {
        expect(header).toEqual(bearer('renewed'));
        expect(store.entry?.tokens.accessToken).toBe('renewed');
      } else {
        expect(store.entry?.spending?.owner).toBe('elsewhere');
        expect(store.calls.set).toBe(2);
      }
    }
  });
});
