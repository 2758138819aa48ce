// The conformance suite for TokenStore implementations. It depends on no
// test runner: pass it the `describe` and `it` of yours (vitest, node:test,
// jest and mocha all fit), and it fails a test by throwing.
import { type Lease, MemoryTokenStore, type StoredTokens, type TokenStore } from '../store.js';
import type { Tokens } from '../tokens.js';

/** The two functions of a test runner the suite uses. */
export interface TestRunner {
  describe(name: string, fn: () => void): unknown;
  it(name: string, fn: () => Promise<void>): unknown;
}

export interface StoreConformanceOptions {
  /** A fresh store (or a fresh key space) for each test. */
  create(): TokenStore | Promise<TokenStore>;
  /** Ends a store made by `create`, e.g. closes its connection. */
  close?(store: TokenStore): void | Promise<void>;
  /**
   * The lease the store was created with: `renewed` when the store renews
   * it while the holder works (a dead holder loses it after `ms`), else a
   * holder overrunning `ms` loses it. Omit for stores without leases.
   */
  lease?: { ms: number; renewed?: boolean };
  /** A second store instance over the same data (another process's view); defaults to the same instance. */
  peer?(store: TokenStore): TokenStore | Promise<TokenStore>;
}

const sample = (n: number): Tokens => ({
  accessToken: `at-${n}`,
  tokenType: 'Bearer',
  refreshToken: `rt-${n}`,
  expiresAt: 1_900_000_000_000 + n,
  issuedAt: 1_800_000_000_000 + n,
  scope: ['read', 'write'],
  raw: { access_token: `at-${n}`, account_id: `acct-${n}` },
});

let keys = 0;
const run = Math.random().toString(36).slice(2);
const freshKey = () => `conformance:${run}:${++keys}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class ConformanceError extends Error {
  override readonly name = 'ConformanceError';
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new ConformanceError(what);
}

// Stored tokens are JSON data: equal when their JSON is, key order aside.
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}

function same(actual: StoredTokens | undefined, expected: StoredTokens | undefined, what: string): void {
  check(canonical(actual) === canonical(expected), `${what}: expected ${canonical(expected)}, got ${canonical(actual)}`);
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new ConformanceError('expected a rejection, but it resolved');
}

/** What `promise` settles with, or 'timed out' after `ms`: a store that hangs fails its test instead of the run. */
async function within(promise: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise((resolve) => (timer = setTimeout(resolve, ms, 'timed out')))]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Registers tests that any TokenStore must pass: get/set/delete round trips,
 * compare-and-set versions (fencing), spending marks kept with their set
 * (for a store that says it keeps them), lock exclusion under concurrency,
 * abortable lock waits, a holder's signal ending its hold and, given
 * `lease`, lease expiry. Pass your runner's
 * `describe` and `it`.
 */
export function describeTokenStore(name: string, options: StoreConformanceOptions, { describe, it }: TestRunner): void {
  async function withStore(fn: (store: TokenStore, peer: TokenStore) => Promise<void>): Promise<void> {
    const store = await options.create();
    const peer = options.peer ? await options.peer(store) : store;
    try {
      await fn(store, peer);
    } finally {
      if (peer !== store) await options.close?.(peer);
      await options.close?.(store);
    }
  }

  describe(`TokenStore conformance: ${name}`, () => {
    it('get of an unknown key is undefined', () =>
      withStore(async (store) => {
        same(await store.get(freshKey()), undefined, 'get of an unknown key');
      }));

    it('set then get round-trips every field, with a positive version', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        const version = await store.set(key, sample(1), 0);
        check(typeof version === 'number' && version > 0, 'set resolves with a positive version');
        same(await peer.get(key), { tokens: sample(1), version: version! }, 'get after set');
      }));

    it('set is compare-and-set: a stale or missing expected version is refused and changes nothing', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        const v1 = (await store.set(key, sample(1), 0))!;
        check((await peer.set(key, sample(9), 0)) === undefined, 'set with expected 0 over a stored value is refused');
        const v2 = await peer.set(key, sample(2), v1);
        check(typeof v2 === 'number' && v2 > 0 && v2 !== v1, 'set with the stored version writes a new version');
        // A holder that read v1 and comes back late is fenced off.
        check((await store.set(key, sample(3), v1)) === undefined, 'set with a stale version is refused');
        same(await store.get(key), { tokens: sample(2), version: v2! }, 'a refused set changes nothing');
      }));

    it('of concurrent writers naming the same version, exactly one wins', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        const v1 = (await store.set(key, sample(1), 0))!;
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? peer : store).set(key, sample(10 + i), v1)));
        check(
          results.filter((r) => r !== undefined).length === 1,
          `exactly one of 10 concurrent writers wins (saw ${results.filter((r) => r !== undefined).length})`,
        );
      }));

    it('delete removes the key; with a version, only while that version is stored', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        const v1 = (await store.set(key, sample(1), 0))!;
        const v2 = (await store.set(key, sample(2), v1))!;
        await peer.delete(key, v1);
        check((await store.get(key))?.version === v2, 'delete naming an old version leaves the key');
        await peer.delete(key, v2);
        same(await store.get(key), undefined, 'delete naming the stored version');
        check((await store.set(key, sample(3), 0)) !== undefined, 'set with expected 0 after a delete');
        await store.delete(key);
        same(await peer.get(key), undefined, 'delete without a version');
      }));

    it('spending marks (a store with spendingMarks): a set keeps the mark it was given, for every instance and until the next write, and a set without one clears it', () =>
      withStore(async (store, peer) => {
        if (!store.spendingMarks) return;
        // Marks are for other processes to read: one instance's view proves nothing, but for the in-process store.
        check(
          peer !== store || store instanceof MemoryTokenStore,
          'a store with spendingMarks is tested with `peer`, another instance over the same data',
        );
        const key = freshKey();
        const mark = { owner: 'instance-a', beatMs: 1_000 };
        const v1 = (await store.set(key, sample(1), 0))!;
        const v2 = await store.set(key, sample(1), v1, mark);
        check(typeof v2 === 'number' && v2 > 0 && v2 !== v1, 'a marked set is written as a new version');
        same(await peer.get(key), { tokens: sample(1), version: v2!, spending: mark }, 'get after a marked set');
        // A waiter takes a mark as abandoned only after three of its beats unchanged: it must stand that long.
        await sleep(3.5 * mark.beatMs);
        same(
          await peer.get(key),
          { tokens: sample(1), version: v2!, spending: mark },
          'get more than three beats after a marked set, with no write since',
        );
        check(
          (await peer.set(key, sample(2), v1, { owner: 'instance-b', beatMs: 1_000 })) === undefined,
          'a marked set is compare-and-set',
        );
        const v3 = await peer.set(key, sample(2), v2!);
        same(await store.get(key), { tokens: sample(2), version: v3! }, 'get after a set without a mark');
      }));

    it('lock: one holder at a time under concurrency, and the result or error of fn comes back', () =>
      withStore(async (store, peer) => {
        if (!store.lock || !peer.lock) throw new Error('this store has no lock: it is fit for one process only');
        const key = freshKey();
        let inside = 0;
        let most = 0;
        const order: number[] = [];
        const run = (s: TokenStore, i: number) =>
          s.lock!(key, async () => {
            inside += 1;
            most = Math.max(most, inside);
            await sleep(5);
            order.push(i);
            inside -= 1;
            return i;
          });
        const results = await Promise.all(Array.from({ length: 12 }, (_, i) => run(i % 2 ? peer : store, i)));
        check(
          results.every((r, i) => r === i),
          'lock resolves with what fn returns',
        );
        check(most === 1, `one holder at a time (saw ${most} at once)`);
        check(order.length === 12, 'every holder ran');
        const boom = new Error('fn failed');
        check((await rejection(store.lock(key, async () => Promise.reject(boom)))) === boom, 'lock rejects with what fn throws');
        // A failure released the lock too.
        check((await peer.lock(key, async () => 'after')) === 'after', 'the lock is free after fn failed');
      }));

    it('lock: a waiter stops waiting when its signal aborts, and the lock still passes on', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        let release: (() => void) | undefined;
        const held = store.lock!(key, () => new Promise<void>((resolve) => (release = resolve)));
        // Bounded: a remote store's first lock takes a connection.
        for (let i = 0; i < 500 && release === undefined; i++) await sleep(10);
        check(release !== undefined, 'the first holder got the lock');
        const controller = new AbortController();
        const reason = new Error('gave up');
        const waiting = peer.lock!(key, async () => 'never', controller.signal);
        controller.abort(reason);
        check((await rejection(waiting)) === reason, "a waiter's lock rejects with its signal's reason");
        release!();
        await held;
        check((await peer.lock!(key, async () => 'next')) === 'next', 'the lock passes on after an aborted waiter');
      }));

    it("lock: when the holder's signal aborts, its lease ends and the next holder gets in, though fn never settles", () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        const controller = new AbortController();
        const reason = new Error('the holder gave up');
        let held: Lease | undefined;
        // A holder stuck for good: a fetch that ignores its signal, a callback that never returns.
        const stuck = store.lock!(
          key,
          (lease) => {
            held = lease;
            return new Promise<never>(() => undefined);
          },
          controller.signal,
        );
        for (let i = 0; i < 500 && held === undefined; i++) await sleep(10);
        check(held !== undefined, 'the first holder got the lock');
        controller.abort(reason);
        check((await within(rejection(stuck), 5_000)) === reason, "lock rejects with the holder's signal's reason");
        check(held!.signal.aborted && held!.signal.reason === reason, "the lease's signal aborts with the same reason");
        const bound = new AbortController();
        const timer = setTimeout(() => bound.abort(new ConformanceError('the lock was never released')), 5_000);
        try {
          check((await peer.lock!(key, async () => 'next', bound.signal)) === 'next', 'the next holder gets the lock');
        } finally {
          clearTimeout(timer);
        }
      }));

    const lease = options.lease;
    if (lease?.renewed) {
      it('lease: a holder still working keeps the lock past its lease (the store renews it)', () =>
        withStore(async (store, peer) => {
          const key = freshKey();
          let busy = false;
          let overlapped = false;
          const long = store.lock!(key, async (held) => {
            busy = true;
            await sleep(lease.ms * 3);
            busy = false;
            return held.signal.aborted;
          });
          await sleep(lease.ms / 2);
          const second = peer.lock!(key, async () => {
            overlapped = busy;
          });
          check((await long) === false, "a working holder's lease signal stays unaborted");
          await second;
          check(!overlapped, 'nobody else held the lock while the holder worked past its lease');
        }));
    } else if (lease) {
      it('lease: a holder that overruns its lease loses the lock to the next one and sees its signal abort', () =>
        withStore(async (store, peer) => {
          const key = freshKey();
          let aborted = false;
          const long = store.lock!(key, async (held) => {
            await sleep(lease.ms * 3);
            aborted = held.signal.aborted;
          });
          await sleep(lease.ms / 2);
          const started = Date.now();
          await peer.lock!(key, async () => undefined);
          await long;
          check(aborted, "an overrunning holder's lease signal aborts");
          // The next holder got in while the first was still running.
          check(Date.now() - started < lease.ms * 3, 'the next holder got the lock when the lease ran out');
        }));
    }
  });
}
