import { abortable, DEFAULT_TOKEN_TIMEOUT_MS, withDeadline } from './deadline.js';
import { ReauthorizationRequiredError, TokenStoreError } from './errors.js';
import type { ApplyRules } from './profile.js';
import { sleep } from './sleep.js';
import { type Lease, MemoryTokenStore, peekMemoryStore, type StoredTokens, type TokenStore } from './store.js';
import { type Tokens, toTokens } from './tokens.js';

/**
 * What goes on a request: a header (or query parameter, or cookie) `name`
 * with `value`; `also`, the other parts of a credential made of several
 * (a client id and a secret, each in its own header), which the runtime
 * leaves behind on another origin as it does the first.
 */
export interface Credential {
  readonly name: string;
  readonly value: string;
  readonly also?: readonly { readonly name: string; readonly value: string }[];
}

export interface Authenticator {
  getAuthorization(signal?: AbortSignal): Promise<Credential>;
  /**
   * What getAuthorization would resolve with, when that is known without
   * waiting on anything (a cached token, not due for renewal); undefined
   * otherwise. Spares each request a round of promises for the common case.
   */
  cachedAuthorization?(): Credential | undefined;
  handleUnauthorized(sentValue: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * For an operation whose `security` lists the schemes it takes (OpenAPI
   * security requirements, each a non-empty list of scheme names): the
   * Authenticator of the first requirement this one holds every scheme of,
   * sending those schemes only; undefined when it holds none.
   * Without it, an Authenticator stands for the profile's `securityScheme`.
   */
  select?(security: readonly (readonly string[])[]): Authenticator | undefined;
  /**
   * Puts the credential on `request` when setting the header `name` is not
   * enough (a query parameter, a cookie). `body` is the serialized body, for a
   * request that has to be rebuilt with a new URL. The runtime follows
   * redirects itself and leaves the credential behind on another origin.
   */
  attach?(request: OutgoingRequest, credential: Credential, body: BodyInit | null | undefined): OutgoingRequest;
}

/**
 * A request on its way out: a Request, or the runtime's stand-in with the
 * same fields, which fetch takes as its init (no Request is built twice).
 */
export interface OutgoingRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: BodyInit | null;
  readonly redirect: RequestRedirect;
  readonly signal?: AbortSignal | undefined;
}

/** Why a token set is being replaced: none stored, about to expire, or refused by the API. */
export type RenewReason = 'missing' | 'expiring' | 'rejected';

export interface LifecycleOptions {
  /** The store key, or how to derive it (once, on first use) when that takes a wait, such as a keyed hash. */
  key: string | (() => Promise<string>);
  store: TokenStore;
  now: () => number;
  refreshSkewMs: number;
  /** Bounds one renewal: the wait for the store's lock and the token request. */
  timeoutMs: number;
  apply: ApplyRules;
  /** The next token set; returning `current` itself keeps using it. `signal` aborts at the deadline. */
  renew(current: Tokens | undefined, reason: RenewReason, signal: AbortSignal): Promise<Tokens>;
  /** Told every new token set once it is stored; bounded by `timeoutMs`, and called again on the next call when it fails. */
  onTokens?: ((tokens: Tokens) => void | Promise<void>) | undefined;
}

/** Renew this long before the expiry, so a request never leaves with a token that expires on the way. */
const DEFAULT_REFRESH_SKEW_MS = 60_000;

/** What a lifecycle needs; store, clock, skew and timeout have defaults. */
export type LifecycleInit = Omit<LifecycleOptions, 'store' | 'now' | 'refreshSkewMs' | 'timeoutMs'> & {
  store?: TokenStore | undefined;
  now?: (() => number) | undefined;
  refreshSkewMs?: number | undefined;
  timeoutMs?: number | undefined;
};

/** The one place a lifecycle is built, so client credentials and sessions get the same defaults. */
export function createLifecycle(init: LifecycleInit): TokenLifecycle {
  return new TokenLifecycle({
    ...init,
    store: init.store ?? new MemoryTokenStore(),
    now: init.now ?? Date.now,
    refreshSkewMs: init.refreshSkewMs ?? DEFAULT_REFRESH_SKEW_MS,
    timeoutMs: init.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS,
  });
}

export function authorizationHeader(apply: ApplyRules, accessToken: string): { name: string; value: string } {
  return { name: apply.header, value: apply.scheme ? `${apply.scheme} ${accessToken}` : accessToken };
}

/** A stored token set as checked for a request's header, and the header, kept while the store holds the same set. */
interface Seen {
  readonly version: number;
  readonly accessToken: unknown;
  readonly expiresAt: unknown;
  readonly issuedAt: unknown;
  readonly entry: StoredTokens;
  readonly header: { readonly name: string; readonly value: string };
}

// The same write (version) of the same token, read again: the fields the header and the renewal decision use are unchanged.
const sameSet = (seen: Seen, stored: StoredTokens) =>
  seen.version === stored.version &&
  seen.accessToken === stored.tokens?.accessToken &&
  seen.expiresAt === stored.tokens.expiresAt &&
  seen.issuedAt === stored.tokens.issuedAt;

// New tokens not yet safely stored (or not yet handed to onTokens). They are
// the only copy of a rotated refresh token, so they outlive a failed write.
interface Pending {
  tokens: Tokens;
  /** Before the write: the version it replaces; after: the version written. */
  version: number;
  written: boolean;
}

// A save in flight, and the pending tokens it saves.
interface Flushing {
  readonly pending: Pending | undefined;
  readonly done: Promise<StoredTokens | undefined>;
}

// The lock for stores without one: good within this process.
const localLocks = new WeakMap<TokenStore, MemoryTokenStore>();

function lockOf(store: TokenStore): NonNullable<TokenStore['lock']> {
  if (store.lock) return store.lock.bind(store);
  let local = localLocks.get(store);
  if (local === undefined) localLocks.set(store, (local = new MemoryTokenStore()));
  return local.lock.bind(local);
}

/**
 * The lock's signal for one renewal. Until new tokens are in hand it is the
 * deadline, so a token request that hangs keeps no other instance out. From
 * then on the lock is held until they are saved (the writes settle and the
 * retries run out), deadline or not: released while a write may still land,
 * another instance would read the old refresh token and spend it again.
 */
function renewalHold(deadline: AbortSignal): { signal: AbortSignal; saving(): void } {
  const controller = new AbortController();
  const onDeadline = () => controller.abort(deadline.reason);
  // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal aborts once, so without `once` the listener still runs once; saving() removes it either way
  deadline.addEventListener('abort', onDeadline, { once: true });
  return { signal: controller.signal, saving: () => deadline.removeEventListener('abort', onDeadline) };
}

/** A call to the store; its failure becomes a TokenStoreError. */
export async function storeCall<T>(what: string, op: () => Promise<T>, secrets?: readonly string[]): Promise<T> {
  try {
    return await op();
  } catch (error) {
    throw new TokenStoreError(`the token store failed to ${what}`, error, undefined, secrets);
  }
}

/** What of a token set an error about it must never quote. */
const secretsOf = (tokens: Tokens): string[] => [tokens.accessToken, ...(tokens.refreshToken === undefined ? [] : [tokens.refreshToken])];

/** Runs `fn` under the store's lock for `key`. Lock failures become TokenStoreError; what `fn` throws passes through as it is. */
export async function underLock<T>(store: TokenStore, key: string, fn: (lease: Lease) => Promise<T>, signal: AbortSignal): Promise<T> {
  let failed: { error: unknown } | undefined;
  try {
    return await lockOf(store)(
      key,
      (lease) =>
        fn(lease).catch((error: unknown) => {
          failed = { error };
          throw error;
        }),
      signal,
    );
  } catch (error) {
    if ((failed !== undefined && failed.error === error) || (signal.aborted && signal.reason === error)) throw error;
    throw new TokenStoreError('the token store failed to lock the tokens', error);
  }
}

/**
 * The token lifecycle shared by every kind of credential: cached per store
 * key, renewed a skew before expiry, single-flight in this process and under
 * the store's lock across processes, compare-and-set writes, replay without
 * renewal for a 401 on a token that was already replaced.
 */
export class TokenLifecycle implements Authenticator {
  readonly #options: LifecycleOptions;
  #inflight: Promise<StoredTokens> | undefined;
  #pending: Pending | undefined;
  #flushing: Flushing | undefined;
  #cached: { entry: StoredTokens; until: number } | undefined;
  // Checking and copying a token set, and building its header, on every
  // request cost as much as the rest of the token lookup: done once per set.
  #seen: Seen | undefined;
  #key: string | undefined;
  #keying: Promise<string> | undefined;

  constructor(options: LifecycleOptions) {
    this.#options = options;
    if (typeof options.key === 'string') this.#key = options.key;
  }

  #keyed(): string | Promise<string> {
    if (this.#key !== undefined) return this.#key;
    const derive = this.#options.key as () => Promise<string>;
    this.#keying ??= derive().then(
      (key) => (this.#key = key),
      (error: unknown) => {
        this.#keying = undefined;
        throw error;
      },
    );
    return this.#keying;
  }

  // The key is derived before the store is asked, so a failure to derive it is its own error, not the store's.
  async #store<T>(what: string, op: (store: TokenStore, key: string) => Promise<T>, secrets?: readonly string[]): Promise<T> {
    const key = await this.#keyed();
    return storeCall(what, () => op(this.#options.store, key), secrets);
  }

  /** The stored tokens, checked; `forHeader` reuses the last check of the same set (callers who may hand the tokens out get a copy of their own). */
  async #read(forHeader = false): Promise<StoredTokens | undefined> {
    const stored = await this.#store('read the tokens', (store, key) => store.get(key));
    if (stored === undefined) return this.#remember(undefined);
    return this.#remember(forHeader ? this.#checked(stored) : { tokens: toTokens(stored.tokens), version: stored.version });
  }

  #checked(stored: StoredTokens): StoredTokens {
    if (this.#seen !== undefined && sameSet(this.#seen, stored)) return this.#seen.entry;
    const entry = { tokens: toTokens(stored.tokens), version: stored.version };
    const { accessToken, expiresAt, issuedAt } = stored.tokens;
    const header = Object.freeze(authorizationHeader(this.#options.apply, entry.tokens.accessToken));
    this.#seen = { version: stored.version, accessToken, expiresAt, issuedAt, entry, header };
    return entry;
  }

  #headerOf(tokens: Tokens): { name: string; value: string } {
    const seen = this.#seen;
    return seen !== undefined && seen.entry.tokens.accessToken === tokens.accessToken
      ? seen.header
      : authorizationHeader(this.#options.apply, tokens.accessToken);
  }

  #remember(entry: StoredTokens | undefined): StoredTokens | undefined {
    const cacheMs = this.#options.store.cacheMs ?? 0;
    if (cacheMs > 0) this.#cached = entry === undefined ? undefined : { entry, until: Date.now() + cacheMs };
    return entry;
  }

  async #locked<T>(fn: (lease: Lease) => Promise<T>, signal: AbortSignal): Promise<T> {
    return underLock(this.#options.store, await this.#keyed(), fn, signal);
  }

  /**
   * The stored tokens, after saving any that an earlier failure left in
   * memory. `cached` allows the store's short in-process cache: only for the
   * header of a request; every renewal decision re-reads under the lock.
   */
  async #current(cached = false): Promise<StoredTokens | undefined> {
    if (this.#pending !== undefined) {
      const saved = await this.#flush();
      if (saved !== undefined) return saved;
    }
    if (cached && this.#cached !== undefined && Date.now() < this.#cached.until) return this.#cached.entry;
    return this.#read(cached);
  }

  /** The current tokens (after saving any left pending), or undefined once cleared. */
  async current(): Promise<Tokens | undefined> {
    return (await this.#current())?.tokens;
  }

  /** `writeMs` bounds the store's write (default `timeoutMs`). */
  #flush(writeMs = this.#options.timeoutMs): Promise<StoredTokens | undefined> {
    const pending = this.#pending;
    // Joined only for the same tokens: after end(), a renewal's new tokens
    // must not ride on a save of the ended ones still in flight (that would
    // hand out the ended tokens and leave the new ones unsaved). They wait
    // for it, then are saved in their turn.
    if (this.#flushing === undefined || this.#flushing.pending !== pending) {
      const before = this.#flushing?.done.catch(() => undefined);
      const flushing: Flushing = {
        pending,
        done: (before ? before.then(() => this.#flushNow(writeMs)) : this.#flushNow(writeMs)).finally(() => {
          if (this.#flushing === flushing) this.#flushing = undefined;
        }),
      };
      this.#flushing = flushing;
    }
    return this.#flushing.done;
  }

  // Writes the pending tokens (compare-and-set), then hands them to
  // onTokens. Undefined when newer tokens are stored: those win.
  async #flushNow(writeMs: number): Promise<StoredTokens | undefined> {
    const pending = this.#pending;
    if (pending === undefined) return undefined;
    if (!pending.written) {
      // Bounded, though a store's calls must settle: one that never does
      // would hold the renewal's lock, and every later call, for good.
      let version = await this.#store(
        'save renewed tokens (they are kept in memory and saved on the next call)',
        (store, key) => withDeadline('token store write', writeMs, undefined, () => store.set(key, pending.tokens, pending.version)),
        secretsOf(pending.tokens),
      );
      // Refused: another instance won, or an earlier try that failed (a store
      // that stalled, then answered) wrote these very tokens after all.
      if (version === undefined) version = await this.#landed(pending.tokens);
      if (version === undefined) {
        this.#pending = undefined;
        return undefined;
      }
      pending.version = version;
      pending.written = true;
    }
    const { onTokens, timeoutMs } = this.#options;
    try {
      // Bounded: a callback that never settles would hold the lock and every later call.
      if (onTokens) await withDeadline('onTokens', timeoutMs, undefined, async () => onTokens(pending.tokens));
    } catch (error) {
      throw new TokenStoreError(
        'onTokens failed for renewed tokens (it is called again on the next call)',
        error,
        'token_callback_failed',
        secretsOf(pending.tokens),
      );
    }
    if (this.#pending === pending) this.#pending = undefined;
    return this.#remember({ tokens: pending.tokens, version: pending.version });
  }

  /** The stored version, when what is stored is `tokens` (the same access and refresh token). */
  async #landed(tokens: Tokens): Promise<number | undefined> {
    const stored = await this.#store('read the tokens', (store, key) => store.get(key));
    return stored !== undefined && stored.tokens.accessToken === tokens.accessToken && stored.tokens.refreshToken === tokens.refreshToken
      ? stored.version
      : undefined;
  }

  #needsRenewal(tokens: Tokens): boolean {
    if (tokens.expiresAt === undefined) return false;
    const { refreshSkewMs, now } = this.#options;
    // A token shorter-lived than the skew would otherwise be renewed as soon
    // as it arrives, forever: cap the skew at half its lifetime. The issue
    // time is stored with the tokens, so every instance caps alike.
    const skew = tokens.issuedAt === undefined ? refreshSkewMs : Math.min(refreshSkewMs, (tokens.expiresAt - tokens.issuedAt) / 2);
    return now() >= tokens.expiresAt - skew;
  }

  async getAuthorization(signal?: AbortSignal): Promise<{ name: string; value: string }> {
    signal?.throwIfAborted();
    let tokens = (await abortable(this.#current(true), signal))?.tokens;
    if (tokens === undefined || this.#needsRenewal(tokens)) {
      // Checked as a read would be, so the next call can take the fast path.
      tokens = this.#checked(await this.#renew(tokens, tokens === undefined ? 'missing' : 'expiring', signal)).tokens;
    }
    return this.#headerOf(tokens);
  }

  /**
   * The header without a wait: when nothing is left to save, the tokens are
   * at hand (the store's short cache, or the memory store's map) as last
   * checked, and not due for renewal. Otherwise getAuthorization reads,
   * renews (single-flight) and saves as always.
   */
  cachedAuthorization(): { name: string; value: string } | undefined {
    const seen = this.#seen;
    const key = this.#key;
    if (this.#pending !== undefined || seen === undefined || key === undefined) return undefined;
    const cached = this.#cached;
    const fromCache = cached !== undefined && Date.now() < cached.until;
    const stored = fromCache ? cached.entry : peekMemoryStore(this.#options.store, key);
    if (stored === undefined || !sameSet(seen, stored) || this.#needsRenewal(seen.entry.tokens)) return undefined;
    // As a read would: a store with a cache has it kept fresh.
    if (!fromCache) this.#remember(seen.entry);
    return seen.header;
  }

  async handleUnauthorized(sentValue: string, signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    const tokens = await this.current();
    // The 401 was for a token that has since been replaced: just replay.
    if (tokens !== undefined && authorizationHeader(this.#options.apply, tokens.accessToken).value !== sentValue) return true;
    await this.#renew(tokens, tokens === undefined ? 'missing' : 'rejected', signal);
    return true;
  }

  #renew(stale: Tokens | undefined, reason: RenewReason, signal: AbortSignal | undefined): Promise<StoredTokens> {
    if (this.#inflight === undefined) {
      const run = withDeadline('token renewal', this.#options.timeoutMs, undefined, (deadline) => {
        const hold = renewalHold(deadline);
        return this.#locked((lease) => this.#renewLocked(stale?.accessToken, reason, lease, deadline, hold.saving), hold.signal);
      });
      this.#inflight = run;
      const clear = () => {
        if (this.#inflight === run) this.#inflight = undefined;
      };
      run.then(clear, clear);
    }
    // A waiter may give up; the shared renewal carries on for the others.
    return abortable(this.#inflight, signal);
  }

  async #renewLocked(
    staleAccessToken: string | undefined,
    reason: RenewReason,
    lease: Lease,
    deadline: AbortSignal,
    saving: () => void,
  ): Promise<StoredTokens> {
    const { renew, now } = this.#options;
    // Under the lock, the store may show that another client already renewed.
    const current = (this.#pending !== undefined ? await this.#flush() : undefined) ?? (await this.#read());
    if (current !== undefined && current.tokens.accessToken !== staleAccessToken && !this.#needsRenewal(current.tokens)) return current;
    // A lease the store has ended is no licence to spend a refresh token.
    lease.signal.throwIfAborted();
    let next: Tokens;
    try {
      next = await renew(
        current?.tokens,
        current === undefined ? 'missing' : current.tokens.accessToken === staleAccessToken ? reason : 'expiring',
        deadline,
      );
    } catch (error) {
      if (!(error instanceof ReauthorizationRequiredError) || current === undefined) throw error;
      // Another instance may have rotated meanwhile (e.g. while this one's
      // lease had lapsed): its tokens are good, the grant is not lost.
      const latest = await this.#read();
      if (latest !== undefined && latest.version !== current.version) return latest;
      this.#cached = undefined;
      await this.#store('delete the rejected tokens', (store, key) => store.delete(key, current.version));
      throw error;
    }
    if (next === current?.tokens) return current;
    saving();
    this.#pending = { tokens: toTokens({ ...next, issuedAt: next.issuedAt ?? now() }), version: current?.version ?? 0, written: false };
    return (await this.#save(lease, Date.now() + 2 * this.#options.timeoutMs)) ?? (await this.#read()) ?? { tokens: next, version: 0 };
  }

  // The write of freshly rotated tokens is retried while the lease holds, so
  // no other instance can renew from the old ones meanwhile, past the
  // caller's deadline (the caller has its TokenTimeoutError by then): for
  // twice the timeout, long enough for a store's failover. After that they
  // stay pending in memory, written on the next call, and the lock passes on.
  async #save(lease: Lease, until: number): Promise<StoredTokens | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        // A write still in flight may yet land: it gets the whole of what is left of the window, not a retry beside it.
        return await this.#flush(Math.max(1, until - Date.now()));
      } catch (error) {
        const pending = this.#pending;
        if (pending === undefined || pending.written || lease.signal.aborted || Date.now() >= until) throw error;
      }
      await sleep(Math.min(25 * 2 ** attempt, 250));
    }
  }

  /** Runs `finish` on the current tokens (after any renewal in flight), then forgets them even if `finish` fails. */
  async end(finish: (tokens: Tokens, signal: AbortSignal) => Promise<void>): Promise<void> {
    await this.#inflight?.catch(() => undefined);
    await withDeadline('revocation', this.#options.timeoutMs, undefined, (deadline) =>
      this.#locked(async () => {
        const tokens = this.#pending?.tokens ?? (await this.#read())?.tokens;
        this.#pending = undefined;
        this.#cached = undefined;
        try {
          if (tokens !== undefined) await finish(tokens, deadline);
        } finally {
          await this.#store('delete the tokens', (store, key) => store.delete(key));
        }
      }, deadline),
    );
  }
}
