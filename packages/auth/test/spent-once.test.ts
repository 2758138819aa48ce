// SECURITY.md T28: a rotated refresh token is spent once, though the store
// stops answering while it is being spent. The defect this pins: the lock's
// holder spent RT1, the store went away before RT2 was written, the holder's
// lease ended and the lock passed on, and the next holder read RT1 (all the
// store had) and spent it again; the provider saw the reuse and revoked the
// grant. Now a set is marked before its refresh token goes out (a spending
// mark), and the next holder waits on the mark instead of spending it.
// Here: a store whose outage a test steers (every call fails and the leases
// held end, as when Redis stops), two sessions sharing it, and a token
// endpoint that rotates and revokes a grant whose refresh token it sees twice.
import {
  expiredRotatingTokens,
  loadProfile,
  type RotatingTokenServer,
  rejectionOf,
  rotatingFlowOptions,
  startRotatingTokenServer,
} from '@portico/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createOAuthFlow,
  type Lease,
  MemoryTokenStore,
  type SpendingMark,
  type TokenStore,
  TokenStoreError,
  type Tokens,
} from '../src/index.js';

const KEY = 'user:7';
const bearer = (n: number) => ({ name: 'Authorization', value: `Bearer AT${n}-0123456789` });

/** A memory store a test can take away: meanwhile every call fails and the leases held end, so the lock passes on. */
class OutageStore extends MemoryTokenStore {
  #down = false;
  /** Writes refused while down. */
  refused = 0;
  readonly #held = new Set<AbortController>();

  stop(): void {
    this.#down = true;
    for (const holder of this.#held) holder.abort(new Error('the store stopped answering'));
  }

  start(): void {
    this.#down = false;
  }

  #answer(): void {
    if (this.#down) throw new Error('connect ECONNREFUSED');
  }

  override async get(key: string) {
    this.#answer();
    return super.get(key);
  }

  override async set(key: string, tokens: Tokens, expected: number, spending?: SpendingMark) {
    if (this.#down) this.refused += 1;
    this.#answer();
    return super.set(key, tokens, expected, spending);
  }

  override async delete(key: string, expected?: number) {
    this.#answer();
    return super.delete(key, expected);
  }

  override async lock<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    this.#answer();
    const lost = new AbortController();
    this.#held.add(lost);
    try {
      return await super.lock(key, fn, signal ? AbortSignal.any([signal, lost.signal]) : lost.signal);
    } finally {
      this.#held.delete(lost);
    }
  }
}

let server: RotatingTokenServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Two sessions (two processes) sharing `store`, on the grant of a fresh rotating token server; the first call renews RT1. */
async function twoSessions(store: TokenStore, options: { timeoutMs?: number; fetch?: typeof fetch } = {}) {
  server = await startRotatingTokenServer();
  const flow = createOAuthFlow(loadProfile('finexer').profile, {
    ...rotatingFlowOptions(server, options.timeoutMs ?? 5_000),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const [a, b] = [flow.session(expiredRotatingTokens(), { store, key: KEY }), flow.session(expiredRotatingTokens(), { store, key: KEY })];
  await Promise.all([a.tokens(), b.tokens()]);
  return { a, b, server };
}

describe('the store stops answering while a refresh token is being spent', () => {
  it("the lock passes on before the rotated tokens are written: the next holder waits on the holder's mark, they are written once the store answers, RT1 is presented once", async () => {
    const store = new OutageStore();
    const { a, b, server } = await twoSessions(store);
    server.hold();
    const first = rejectionOf(a.getAuthorization());
    await vi.waitFor(() => expect(server.presented).toEqual(['RT1-0123456789']));
    // While RT1 is out: the store goes away, A's lease ends, and its write of RT2 fails.
    store.stop();
    server.release();
    expect(await first).toBeInstanceOf(TokenStoreError);
    await vi.waitFor(() => expect(store.refused).toBeGreaterThan(0));
    store.start();
    // No call of A's from here: A writes RT2 on its own, once the store answers.
    expect(await b.getAuthorization()).toEqual(bearer(2));
    expect(server.presented).toEqual(['RT1-0123456789']);
    expect(server.spentTwice()).toEqual([]);
    expect((await store.get(KEY))?.tokens.refreshToken).toBe('RT2-0123456789');
    expect(await a.getAuthorization()).toEqual(bearer(2));
  });

  it('the lease is lost while RT1 is out, for longer than three beats: the holder keeps its mark beating, and the next holder waits for its tokens', async () => {
    const store = new OutageStore();
    const { a, b, server } = await twoSessions(store, { timeoutMs: 15_000 });
    server.hold();
    const first = rejectionOf(a.getAuthorization());
    await vi.waitFor(() => expect(server.presented).toEqual(['RT1-0123456789']));
    // A blip: A's lease ends, the lock is free, and B takes it while RT1 is still out.
    store.stop();
    store.start();
    expect(await first).toBeInstanceOf(TokenStoreError);
    const second = b.getAuthorization();
    // A mark nobody rewrote for three beats (3 s) B would take as abandoned, and spend RT1; A's beats keep it waiting.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    expect(server.presented).toEqual(['RT1-0123456789']);
    server.release();
    expect(await second).toEqual(bearer(2));
    expect(server.spentTwice()).toEqual([]);
  });
});

describe('a spending mark', () => {
  it('of a holder that died after marking, before its refresh went out: waited out for three beats, then RT1 is spent, once', async () => {
    const store = new MemoryTokenStore();
    const { b, server } = await twoSessions(store);
    const { tokens, version } = (await store.get(KEY))!;
    await store.set(KEY, tokens, version, { owner: 'a-process-that-died', beatMs: 100 });
    expect(await b.getAuthorization()).toEqual(bearer(2));
    expect(server.presented).toEqual(['RT1-0123456789']);
    expect((await store.get(KEY))?.spending).toBeUndefined();
  });

  it('of a holder still beating keeps the others off its refresh token; once the beats stop, it is waited out and RT1 spent once', async () => {
    const store = new MemoryTokenStore();
    const { b, server } = await twoSessions(store);
    const mark = { owner: 'a-holder-still-at-work', beatMs: 100 };
    const { tokens, version: read } = (await store.get(KEY))!;
    let version = (await store.set(KEY, tokens, read, mark))!;
    const renewed = b.getAuthorization();
    // Ten beats: more than three beats' time, so B would have spent RT1 by now had it not seen them.
    for (let beat = 0; beat < 10; beat++) {
      await new Promise((resolve) => setTimeout(resolve, mark.beatMs));
      version = (await store.set(KEY, tokens, version, mark))!;
    }
    const presentedWhileBeating = [...server.presented];
    expect(await renewed).toEqual(bearer(2));
    expect(presentedWhileBeating).toEqual([]);
    expect(server.presented).toEqual(['RT1-0123456789']);
  });

  it('that cannot be written: no refresh token is spent', async () => {
    const store = new MemoryTokenStore();
    const { b, server } = await twoSessions(store);
    const set = store.set.bind(store);
    store.set = async (key, tokens, expected, spending) => {
      if (spending !== undefined) throw new Error('READONLY You cannot write against a read only replica');
      return set(key, tokens, expected, spending);
    };
    const error = await rejectionOf(b.getAuthorization());
    expect(error).toBeInstanceOf(TokenStoreError);
    expect((error as Error).message).toBe('the token store failed to mark the tokens as being renewed');
    expect(server.presented).toEqual([]);
  });

  it('is taken off when the token request fails: the next call spends RT1 at once, and once', async () => {
    let failures = 1;
    const store = new MemoryTokenStore();
    const { b, server } = await twoSessions(store, {
      fetch: async (input, init) => {
        if (failures-- > 0) throw new TypeError('fetch failed');
        return fetch(input, init);
      },
    });
    await rejectionOf(b.getAuthorization());
    expect((await store.get(KEY))?.spending).toBeUndefined();
    expect(await b.getAuthorization()).toEqual(bearer(2));
    expect(server.presented).toEqual(['RT1-0123456789']);
  });
});
