// The tokens file as the session's TokenStore, so `portico call`s sharing
// one file refresh like clients sharing any store: under a lock that holds
// across processes, re-reading the file under it, writing compare-and-set.
// Each process seeding a memory store of its own from the file would spend
// a rotating refresh token once per process, and a server that detects the
// reuse revokes the whole grant.
import { AsyncLocalStorage } from 'node:async_hooks';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Lease, StoredTokens, TokenStore, Tokens } from '@portico/auth';
import { abortable, sleep } from '@portico/auth/internal';
import { lock as lockFile } from 'proper-lockfile';
import {
  assertReplaceable,
  loadTokensFile,
  notLoggedIn,
  recoverTokens,
  replaceFile,
  type TokensFile,
  tokensText,
  unwritable,
} from './tokens-file.js';

/**
 * A lock whose holder stopped refreshing it this long ago is taken over: the
 * holder died (kill -9, power loss) without removing it. proper-lockfile
 * refreshes a live holder's lock every half of this.
 */
const STALE_MS = 10_000;
/** Bound on the wait for the lock when the caller gives no signal. */
const LOCK_WAIT_MS = 30_000;

// The file's version is derived from its bytes: whatever a write changes (the
// rotated tokens, at least) changes it, and another process's write is seen
// without a counter of its own in the file.
const versionOf = (text: string) => createHash('sha256').update(text).digest().readUIntBE(0, 6) + 1;

interface Hold {
  store: TokensFileStore;
  lease: AbortController;
}

// Which store's lock the current async call chain holds: a write made under
// it needs no lock of its own (proper-lockfile's lock is not reentrant).
const holding = new AsyncLocalStorage<Hold>();

export class TokensFileStore implements TokenStore {
  readonly #path: string;
  readonly #initial: TokensFile;

  /** `initial`: the file as read at the start, whose other fields a write keeps if the file is gone by then. */
  constructor(path: string, initial: TokensFile) {
    this.#path = path;
    this.#initial = initial;
  }

  async get(): Promise<StoredTokens | undefined> {
    const loaded = loadTokensFile(this.#path, this.#initial.provider);
    return loaded && { tokens: loaded.content.tokens, version: versionOf(loaded.text) };
  }

  set(_key: string, tokens: Tokens, expected: number): Promise<number | undefined> {
    return this.#exclusive(async (hold) => {
      const loaded = loadTokensFile(this.#path, this.#initial.provider);
      if ((loaded ? versionOf(loaded.text) : 0) !== expected) return undefined;
      const content = { ...(loaded?.content ?? this.#initial), tokens };
      const text = tokensText(content);
      try {
        replaceFile(this.#path, text);
      } catch (error) {
        const failure = recoverTokens(this.#path, content, error);
        // The new tokens are safe (or reported lost): a one-shot command
        // gains nothing from the session retrying the write until its
        // deadline, so the lease ends and the session gives up at once.
        hold?.lease.abort(failure);
        throw failure;
      }
      return versionOf(text);
    });
  }

  delete(_key: string, expected?: number): Promise<void> {
    return this.#exclusive(async () => {
      const loaded = loadTokensFile(this.#path, this.#initial.provider);
      if (loaded !== undefined && (expected === undefined || versionOf(loaded.text) === expected)) rmSync(this.#path, { force: true });
    });
  }

  /**
   * Holds the file's lock while `fn` runs, after checking that the file can
   * be replaced: the session takes this lock before it spends a refresh
   * token, and a save that cannot happen must fail before that, not after.
   */
  async lock<T>(_key: string, fn: (lease: Lease) => Promise<T>, signal: AbortSignal = AbortSignal.timeout(LOCK_WAIT_MS)): Promise<T> {
    const lease = new AbortController();
    return this.#held(signal, lease, async () => {
      assertReplaceable(this.#path);
      return holding.run({ store: this, lease }, () => fn({ signal: lease.signal }));
    });
  }

  /** Runs `fn` under the lock: the one already held by this call chain, else a new one. */
  #exclusive<T>(fn: (hold: Hold | undefined) => Promise<T>): Promise<T> {
    const hold = holding.getStore();
    if (hold?.store === this && !hold.lease.signal.aborted) return fn(hold);
    return this.#held(AbortSignal.timeout(LOCK_WAIT_MS), new AbortController(), () => fn(undefined));
  }

  // `signal` bounds the wait and the hold: once it aborts, the lease ends,
  // the lock is released for the next holder and this call rejects, even if
  // `fn` never settles.
  async #held<T>(signal: AbortSignal, lease: AbortController, fn: () => Promise<T>): Promise<T> {
    const release = await this.#acquire(signal, (error) => lease.abort(error));
    const end = () => lease.abort(signal.reason);
    try {
      signal.throwIfAborted();
      signal.addEventListener('abort', end, { once: true });
      return await abortable(fn(), signal);
    } finally {
      signal.removeEventListener('abort', end);
      // A lock that cannot be removed (its directory turned read-only) goes stale and is taken over.
      await release().catch(() => undefined);
    }
  }

  async #acquire(signal: AbortSignal, onCompromised: (error: Error) => void): Promise<() => Promise<void>> {
    for (let attempt = 0; ; attempt++) {
      signal.throwIfAborted();
      try {
        return await lockFile(this.#path, { stale: STALE_MS, onCompromised });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') throw notLoggedIn(this.#path, this.#initial.provider);
        // Could not create the lock beside the file: the file cannot be replaced either.
        if (code !== 'ELOCKED') throw unwritable(this.#path, error);
      }
      await sleep(Math.min(20 * 2 ** attempt, 250), signal);
    }
  }
}
