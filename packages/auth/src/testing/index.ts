// The conformance suite for TokenStore implementations. It is written
// against vitest (`describe`/`it`/`expect` are imported from it), the runner
// Portico's own tests use: run it from a vitest test file.
import { describe, expect, it } from 'vitest';
import type { TokenStore } from '../store.js';
import type { Tokens } from '../tokens.js';

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

/**
 * Registers tests that any TokenStore must pass: get/set/delete round trips,
 * compare-and-set versions (fencing), lock exclusion under concurrency,
 * abortable lock waits and, given `leaseMs`, lease expiry.
 */
export function describeTokenStore(name: string, options: StoreConformanceOptions): void {
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
        await expect(store.get(freshKey())).resolves.toBeUndefined();
      }));

    it('set then get round-trips every field, with a positive version', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        const version = await store.set(key, sample(1), 0);
        expect(version).toBeGreaterThan(0);
        const stored = await peer.get(key);
        expect(stored).toEqual({ tokens: sample(1), version });
      }));

    it('set is compare-and-set: a stale or missing expected version is refused and changes nothing', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        const v1 = (await store.set(key, sample(1), 0))!;
        await expect(peer.set(key, sample(9), 0)).resolves.toBeUndefined();
        const v2 = await peer.set(key, sample(2), v1);
        expect(v2).toBeGreaterThan(0);
        expect(v2).not.toBe(v1);
        // A holder that read v1 and comes back late is fenced off.
        await expect(store.set(key, sample(3), v1)).resolves.toBeUndefined();
        await expect(store.get(key)).resolves.toEqual({ tokens: sample(2), version: v2 });
      }));

    it('of concurrent writers naming the same version, exactly one wins', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        const v1 = (await store.set(key, sample(1), 0))!;
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? peer : store).set(key, sample(10 + i), v1)));
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      }));

    it('delete removes the key; with a version, only while that version is stored', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        const v1 = (await store.set(key, sample(1), 0))!;
        const v2 = (await store.set(key, sample(2), v1))!;
        await peer.delete(key, v1);
        await expect(store.get(key)).resolves.toMatchObject({ version: v2 });
        await peer.delete(key, v2);
        await expect(store.get(key)).resolves.toBeUndefined();
        await store.set(key, sample(3), 0);
        await store.delete(key);
        await expect(peer.get(key)).resolves.toBeUndefined();
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
        expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i));
        expect(most).toBe(1);
        expect(order).toHaveLength(12);
        const boom = new Error('fn failed');
        await expect(store.lock(key, async () => Promise.reject(boom))).rejects.toBe(boom);
        // A failure released the lock too.
        await expect(peer.lock(key, async () => 'after')).resolves.toBe('after');
      }));

    it('lock: a waiter stops waiting when its signal aborts, and the lock still passes on', () =>
      withStore(async (store, peer) => {
        const key = freshKey();
        let release!: () => void;
        const held = store.lock!(key, () => new Promise<void>((resolve) => (release = resolve)));
        await sleep(20);
        const controller = new AbortController();
        const reason = new Error('gave up');
        const waiting = peer.lock!(key, async () => 'never', controller.signal);
        controller.abort(reason);
        await expect(waiting).rejects.toBe(reason);
        release();
        await held;
        await expect(peer.lock!(key, async () => 'next')).resolves.toBe('next');
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
          await expect(long).resolves.toBe(false);
          await second;
          expect(overlapped).toBe(false);
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
          expect(aborted).toBe(true);
          // The next holder got in while the first was still running.
          expect(Date.now() - started).toBeLessThan(lease.ms * 3);
        }));
    }
  });
}
