import { abortable } from './deadline.js';
import { ConfigurationError } from './errors.js';
import type { Tokens } from './tokens.js';

/**
 * Written with a token set, before its refresh token is spent (a
 * write-ahead mark): who is spending it. Once the spender's lease is lost
 * (the store stopped answering), it rewrites the mark every `beatMs` until
 * its token request settles, and retries the write of the rotated tokens
 * every half beat, so another instance that reads the mark waits for that
 * write instead of spending the same refresh token. Only a mark that stood
 * unchanged for three beats, watched without a gap while the store answered,
 * is taken as abandoned (its spender died).
 */
export interface SpendingMark {
  /** Random, one per token lifecycle. */
  readonly owner: string;
  readonly beatMs: number;
}

/** A token set as stored, with the version its next compare-and-set write must name. */
export interface StoredTokens {
  tokens: Tokens;
  /** Positive, and different after every write; 0 in `set` means "nothing stored yet". */
  version: number;
  /** Present while an instance spends this set's refresh token (a store with `spendingMarks`). */
  spending?: SpendingMark;
}

/** Beats are a second today: a mark asking for a beat outside these is not one this code wrote (a waiter would wait it out for ever, or not at all). */
const LEAST_BEAT_MS = 100;
const MOST_BEAT_MS = 10_000;

/** `value`, checked as a spending mark read from a store; a ConfigurationError naming the field otherwise. */
export function toSpending(value: unknown): SpendingMark | undefined {
  if (value === undefined) return undefined;
  const { owner, beatMs } = (value ?? {}) as Partial<Record<keyof SpendingMark, unknown>>;
  if (typeof owner !== 'string' || owner === '') throw new ConfigurationError('a stored spending mark needs a non-empty owner string');
  if (!(typeof beatMs === 'number' && beatMs >= LEAST_BEAT_MS && beatMs <= MOST_BEAT_MS))
    throw new ConfigurationError(`a stored spending mark needs a beatMs from ${LEAST_BEAT_MS} to ${MOST_BEAT_MS}`);
  return { owner, beatMs };
}

/**
 * Held while a store's lock is held. When the store knows the lease is over
 * (it expired, or could not be renewed) `signal` aborts: the holder must not
 * start new work, and its writes are fenced by their version.
 */
export interface Lease {
  readonly signal: AbortSignal;
}

/**
 * Where token sets live between requests. Share one store (and key) between
 * processes to share tokens: its lock makes one of them renew at a time, and
 * its compare-and-set writes keep a holder whose lease ran out from writing
 * over newer tokens. With rotating refresh tokens both matter: a refresh
 * token spent twice revokes the grant. Check a store of your own with the
 * conformance suite in `@portico/auth/testing`.
 */
export interface TokenStore {
  // Every operation must settle, and soon: a renewal holds the lock until its
  // writes have settled (a write still in flight may yet land), so a store
  // whose calls can hang bounds them itself, as @portico/redis does.
  get(key: string): Promise<StoredTokens | undefined>;
  /**
   * Compare-and-set: writes `tokens` only if the stored version is
   * `expected` (0: nothing stored). Resolves with the new version, or
   * undefined when refused; rejects only when the store itself failed.
   * A store with `spendingMarks` keeps `spending` with the set (`get`
   * returns it, to every instance over the same data) until the next write
   * (one without a mark clears it), never dropping it after a while.
   */
  set(key: string, tokens: Tokens, expected: number, spending?: SpendingMark): Promise<number | undefined>;
  /** Deletes the key; given a version, only while that version is stored. */
  delete(key: string, expected?: number): Promise<void>;
  /**
   * Runs `fn` while holding the key's lock, one holder at a time across
   * everyone sharing the store. `signal` bounds the wait and the hold alike:
   * once it aborts, waiting stops, or the lease ends (its signal aborts with
   * the same reason and the lock is released for the next holder) and `lock`
   * rejects with that reason, even if `fn` never settles. Without `lock`,
   * clients lock in this process only: fine for a store that only one
   * process uses.
   */
  lock?<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T>;
  /**
   * For a remote store: how long (ms) a client may reuse tokens it read for
   * the header of its next requests without reading again. Renewals always
   * re-read under the lock, and a 401 re-reads too, so a longer cache only
   * delays noticing another instance's new access token. Default 0.
   */
  readonly cacheMs?: number;
  /**
   * True when `set` keeps the spending mark it is given (see SpendingMark).
   * Then a set is marked before its refresh token is spent, and the others
   * wait on the mark: rotated tokens that a holder could not save before its
   * lease ended (a store that stopped answering for longer than the lease)
   * are written once the store answers, and the refresh token they replace
   * is not spent again. Without it, nothing is marked (one write fewer per
   * renewal), and after such an outage another instance may spend that
   * refresh token again: a provider that detects the reuse revokes the grant.
   */
  readonly spendingMarks?: boolean;
}

let entryOf: (store: MemoryTokenStore, key: string) => StoredTokens | undefined;

/**
 * What `store.get(key)` would resolve with, now: for a plain
 * MemoryTokenStore, whose read waits on nothing, so the token lifecycle can
 * put a cached token on a request without a round of promises. Undefined for
 * any other store, or one whose `get` was replaced: those are read as usual.
 */
export function peekMemoryStore(store: TokenStore, key: string): StoredTokens | undefined {
  return store.get === MemoryTokenStore.prototype.get && store instanceof MemoryTokenStore ? entryOf(store, key) : undefined;
}

/** The default store: a Map, with a per-key lock so clients sharing it in one process refresh once. */
export class MemoryTokenStore implements TokenStore {
  static {
    entryOf = (store, key) => store.#entries.get(key);
  }
  readonly #entries = new Map<string, StoredTokens>();
  readonly #locks = new Map<string, Promise<void>>();
  readonly #leaseMs: number | undefined;
  readonly spendingMarks = true;
  #versions = 0;

  /** `leaseMs` bounds how long a holder keeps the lock (default: until it is done), for tests of lease expiry. */
  constructor(options: { leaseMs?: number } = {}) {
    this.#leaseMs = options.leaseMs;
  }

  async get(key: string): Promise<StoredTokens | undefined> {
    return this.#entries.get(key);
  }

  async set(key: string, tokens: Tokens, expected: number, spending?: SpendingMark): Promise<number | undefined> {
    if ((this.#entries.get(key)?.version ?? 0) !== expected) return undefined;
    const version = ++this.#versions;
    this.#entries.set(key, spending === undefined ? { tokens, version } : { tokens, version, spending });
    return version;
  }

  async delete(key: string, expected?: number): Promise<void> {
    if (expected === undefined || this.#entries.get(key)?.version === expected) this.#entries.delete(key);
  }

  async lock<T>(key: string, fn: (lease: Lease) => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const previous = this.#locks.get(key) ?? Promise.resolve();
    const tail = previous.then(() => mine);
    this.#locks.set(key, tail);
    const done = () => {
      release();
      if (this.#locks.get(key) === tail) this.#locks.delete(key);
    };
    try {
      await abortable(previous, signal);
    } catch (error) {
      // Our place in the queue passes on as soon as the one before us is done.
      void previous.then(done);
      throw error;
    }
    const controller = new AbortController();
    // An ended lease lets the next holder in while this one may still run:
    // a holder that hangs must not keep every other caller out.
    const end = (reason: unknown) => {
      controller.abort(reason);
      done();
    };
    const timer = this.#leaseMs === undefined ? undefined : setTimeout(end, this.#leaseMs, new Error('the lease expired'));
    const onAbort = () => end(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      // Aborted between getting the lock and here, the listener never fires: fn must not start.
      signal?.throwIfAborted();
      return await abortable(fn({ signal: controller.signal }), signal);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      done();
    }
  }
}
