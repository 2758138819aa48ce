import { base64url } from './base64url.js';
import { abortable, DEFAULT_TOKEN_TIMEOUT_MS, withDeadline } from './deadline.js';
import { ReauthorizationRequiredError, TokenStoreError } from './errors.js';
import { holdSecrets } from './held.js';
import type { ApplyRules } from './profile.js';
import { sleep } from './sleep.js';
import {
  type Lease,
  MemoryTokenStore,
  peekMemoryStore,
  type SpendingMark,
  type StoredTokens,
  type TokenStore,
  toSpending,
} from './store.js';
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
  /** What else this lifecycle holds for telemetry to refuse: the client secret, the flow's last code and verifier. */
  secrets?: (() => readonly string[]) | undefined;
}

/**
 * What telemetry is told of the auth layer's own work (`openTelemetry()` of
 * `@portico/runtime/telemetry` is one): plain callbacks, so this package
 * needs no telemetry library. None may throw or change what it is told about.
 */
export interface AuthTelemetry {
  /**
   * A token lifecycle's telemetry, asked for once per lifecycle, with the
   * grant it renews with and the fetch of its token and revocation requests.
   */
  lifecycle(grant: string, fetch: typeof globalThis.fetch): LifecycleTelemetry;
  /** The wait for a store's lock began (a store's own telemetry, such as createRedisStore's): the callback returned is called once, when it is held (no error) or the wait failed. */
  lockWait(): (error?: unknown) => void;
  /** A call to a store failed (as the store saw it, retried or not). */
  storeError(error: unknown): void;
}

/** What one lifecycle's telemetry does: see `AuthTelemetry.lifecycle`. */
export interface LifecycleTelemetry {
  /** Runs one renewal (a waiter joining one in flight is not another; a lifecycle runs one at a time). */
  renewal<T>(reason: RenewReason, renew: () => Promise<T>): Promise<T>;
  /** The fetch its token and revocation requests go through from now on: a request sent during a renewal is that renewal's. */
  readonly fetch: typeof globalThis.fetch;
}

/** What a client's telemetry may observe of its Authenticator: the lifecycle inside, the grant it renews with, and what holds the fetch of its token requests (the lifecycle's own). */
export const observable = new WeakMap<object, [lifecycle: TokenLifecycle, grant: string, config: { fetch: typeof fetch }]>();
const observed = new WeakMap<TokenLifecycle, LifecycleTelemetry>();

/**
 * Gives an Authenticator's lifecycle its telemetry (once: the first client
 * made with telemetry keeps it): its renewals are told, its token requests
 * traced. Called by `@portico/runtime/telemetry`, so a client without
 * telemetry takes none of these steps.
 */
export function observe(authenticator: object, telemetry: AuthTelemetry): void {
  const [lifecycle, grant, config] = observable.get(authenticator) ?? [];
  if (lifecycle === undefined || observed.has(lifecycle)) return;
  const traced = telemetry.lifecycle(grant!, config!.fetch);
  observed.set(lifecycle, traced);
  config!.fetch = traced.fetch;
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
  /** The refresh token spent for them under this instance's spending mark: the others wait on it for this write. */
  spent?: string | undefined;
}

/**
 * A spending mark's beat (see SpendingMark): how often a holder whose lease
 * was lost with its refresh token out rewrites its mark; it retries the
 * write of its rotated tokens every half beat.
 */
const BEAT_MS = 1_000;
/** Beats another instance's mark must stand unchanged, watched without a gap, before it is taken as abandoned. */
const QUIET_BEATS = 3;

/** A stored set, checked field by field, as the lifecycle's own copy. */
function copyOf(stored: StoredTokens): StoredTokens {
  const entry: StoredTokens = { tokens: toTokens(stored.tokens), version: stored.version };
  const spending = toSpending(stored.spending);
  if (spending !== undefined) entry.spending = spending;
  return entry;
}

/** Whether `stored` is what a write of `tokens` left: the same access and refresh token. */
const holds = (stored: StoredTokens, tokens: Tokens): boolean =>
  stored.tokens.accessToken === tokens.accessToken && stored.tokens.refreshToken === tokens.refreshToken;

// A save in flight, and the pending tokens it saves.
interface Flushing {
  readonly pending: Pending | undefined;
  readonly done: Promise<StoredTokens | undefined>;
}

// Renewals in flight on stores with spending marks, and rotated tokens not
// saved yet, with the store and the mark owner they go with.
const unsaved = new Map<Promise<void>, { store: TokenStore; owner: string }>();

/**
 * Resolves once the renewals in flight through `store`, or under a mark of
 * one of `owners` (those a store wrote, whatever wrapper the lifecycle was
 * given), have ended, and their rotated tokens are written (or given way on,
 * or given up on): a store's `close()` waits for it, as they are the only
 * copy of a new refresh token. Again until none is left, as a renewal that
 * ends may hand over to a background write; each is bounded by twice its
 * lifecycle's timeoutMs.
 */
export async function unsavedWritten(store: TokenStore, owners: { has(owner: string): boolean } = new Set()): Promise<void> {
  for (let round = 0; round < 10; round++) {
    const waiting = [...unsaved].filter(([, of]) => of.store === store || owners.has(of.owner)).map(([done]) => done);
    if (waiting.length === 0) return;
    await Promise.all(waiting);
  }
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
  // Whose spending marks are this instance's: random, made at its first mark.
  #owner: string | undefined;
  // Another instance's spending mark, as this one has watched it stand.
  #watch: { version: number; since: number; seen: number } | undefined;
  // The refresh tokens lately held: the current one and the one it replaced (a server may echo the spent one).
  #refreshTokens: string[] = [];

  constructor(options: LifecycleOptions) {
    this.#options = options;
    if (typeof options.key === 'string') this.#key = options.key;
    holdSecrets(this, () => [...(options.secrets?.() ?? []), ...this.#refreshTokens]);
  }

  #held(tokens: Tokens | undefined): void {
    const refresh = tokens?.refreshToken;
    if (refresh === undefined || this.#refreshTokens.at(-1) === refresh) return;
    this.#refreshTokens = [...this.#refreshTokens.slice(-1), refresh];
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
    return this.#remember(forHeader ? this.#checked(stored) : copyOf(stored));
  }

  #checked(stored: StoredTokens): StoredTokens {
    if (this.#seen !== undefined && sameSet(this.#seen, stored)) return this.#seen.entry;
    const entry = { tokens: toTokens(stored.tokens), version: stored.version };
    this.#held(entry.tokens);
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
      let version: number | undefined;
      // Twice at most: a refused write is tried again only over a late beat of this instance's own mark.
      for (let tries = 0; tries < 2; tries++) {
        // Bounded, though a store's calls must settle: one that never does
        // would hold the renewal's lock, and every later call, for good.
        version = await this.#store(
          'save renewed tokens (they are kept in memory and saved on the next call)',
          (store, key) => withDeadline('token store write', writeMs, undefined, () => store.set(key, pending.tokens, pending.version)),
          secretsOf(pending.tokens),
        );
        if (version !== undefined) break;
        // Refused: another instance won, or an earlier try that failed (a store
        // that stalled, then answered) wrote these very tokens after all, or
        // a beat of this instance's mark landed late and moved the version on.
        const stored = await this.#store('read the tokens', (store, key) => store.get(key));
        if (stored === undefined) break;
        if (holds(stored, pending.tokens)) {
          version = stored.version;
          break;
        }
        if (pending.spent === undefined || stored.spending?.owner !== this.#owner || stored.tokens.refreshToken !== pending.spent) break;
        pending.version = stored.version;
      }
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
      const renewal = () =>
        withDeadline('token renewal', this.#options.timeoutMs, undefined, (deadline) => {
          const hold = renewalHold(deadline);
          return this.#locked((lease) => this.#renewLocked(stale?.accessToken, reason, lease, deadline, hold.saving), hold.signal);
        });
      const traced = observed.get(this);
      const run = traced ? traced.renewal(reason, renewal) : renewal();
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
    if (!this.#options.store.spendingMarks) return this.#spendLocked(staleAccessToken, reason, lease, deadline, saving);
    // From before the mark is written until the new tokens are saved or handed
    // to #keepSaving, the refresh token may be out: a store's close() waits.
    let settle = () => {};
    this.#unsavedUntil(new Promise<void>((resolve) => (settle = resolve)));
    try {
      return await this.#spendLocked(staleAccessToken, reason, lease, deadline, saving);
    } finally {
      settle();
    }
  }

  async #spendLocked(
    staleAccessToken: string | undefined,
    reason: RenewReason,
    lease: Lease,
    deadline: AbortSignal,
    saving: () => void,
  ): Promise<StoredTokens> {
    const { renew, now, store } = this.#options;
    // Under the lock, the store may show that another client already renewed.
    const renewed = (stored: StoredTokens | undefined): boolean =>
      stored !== undefined && stored.tokens.accessToken !== staleAccessToken && !this.#needsRenewal(stored.tokens);
    let current = (this.#pending !== undefined ? await this.#flush() : undefined) ?? (await this.#read());
    let marked = false;
    // Decided again on whatever another instance wrote meanwhile.
    for (;;) {
      if (renewed(current)) return current!;
      current = await this.#unlessSpent(current, deadline);
      if (renewed(current)) return current!;
      // A lease the store has ended is no licence to spend a refresh token.
      lease.signal.throwIfAborted();
      if (current?.tokens.refreshToken === undefined || !store.spendingMarks) break;
      const spending = this.#spending();
      const version = await this.#mark(current.tokens, current.version, spending);
      if (version !== undefined) {
        current = { tokens: current.tokens, version, spending };
        marked = true;
        break;
      }
      current = await this.#read();
    }
    const beating = marked ? this.#beat(current!, lease, deadline) : undefined;
    let next: Tokens;
    try {
      next = await renew(
        current?.tokens,
        current === undefined ? 'missing' : current.tokens.accessToken === staleAccessToken ? reason : 'expiring',
        deadline,
      );
    } catch (error) {
      if (beating) current = { ...current!, version: await beating.stop() };
      if (!(error instanceof ReauthorizationRequiredError) || current === undefined) {
        // Not spent, or not known to be: the mark is taken off, so the others need not wait it out.
        if (marked) await this.#mark(current!.tokens, current!.version).catch(() => undefined);
        throw error;
      }
      // Another instance may have rotated meanwhile (e.g. while this one's
      // lease had lapsed): its tokens are good, the grant is not lost.
      const latest = await this.#read();
      if (latest !== undefined && latest.version !== current.version) return latest;
      this.#cached = undefined;
      await this.#store('delete the rejected tokens', (store, key) => store.delete(key, current!.version));
      throw error;
    }
    if (beating) current = { ...current!, version: await beating.stop() };
    if (next === current?.tokens) {
      if (marked) await this.#mark(current.tokens, current.version).catch(() => undefined);
      return current;
    }
    saving();
    this.#held(current?.tokens);
    this.#held(next);
    this.#pending = {
      tokens: toTokens({ ...next, issuedAt: next.issuedAt ?? now() }),
      version: current?.version ?? 0,
      written: false,
      spent: marked ? current!.tokens.refreshToken : undefined,
    };
    return (
      (await this.#save(lease, performance.now() + 2 * this.#options.timeoutMs)) ?? (await this.#read()) ?? { tokens: next, version: 0 }
    );
  }

  #spending(): SpendingMark {
    return { owner: (this.#owner ??= base64url(globalThis.crypto.getRandomValues(new Uint8Array(16)))), beatMs: BEAT_MS };
  }

  /**
   * `tokens` written again over `expected`, with `spending` (write-ahead,
   * before their refresh token goes out) or without it (taken off, once it
   * did not go out). Resolves with the new version, or undefined when
   * another instance wrote first.
   */
  #mark(tokens: Tokens, expected: number, spending?: SpendingMark): Promise<number | undefined> {
    return this.#store(
      'mark the tokens as being renewed',
      (store, key) =>
        withDeadline('token store write', this.#options.timeoutMs, undefined, () => store.set(key, tokens, expected, spending)),
      secretsOf(tokens),
    );
  }

  #unsavedUntil(done: Promise<void>): void {
    unsaved.set(done, { store: this.#options.store, owner: this.#spending().owner });
    void done.finally(() => unsaved.delete(done));
  }

  /**
   * Waits while another instance's spending mark stands on the set: it may
   * have spent the refresh token and be about to write the new one. A mark
   * is taken as abandoned once it has stood unchanged for three of its beats,
   * read at least once a beat: a gap (the store not answering, this instance
   * busy elsewhere) starts the count again, as its owner may not have been
   * able to write meanwhile either. Resolves with the set as last read
   * (watching needs no lease: only spending does).
   */
  async #unlessSpent(current: StoredTokens | undefined, deadline: AbortSignal): Promise<StoredTokens | undefined> {
    for (;;) {
      const mark = current?.spending;
      if (current === undefined || mark === undefined || mark.owner === this.#owner) return current;
      const now = performance.now();
      let watch = this.#watch;
      if (watch?.version === current.version && now - watch.seen <= mark.beatMs) watch.seen = now;
      else this.#watch = watch = { version: current.version, since: now, seen: now };
      if (now - watch.since >= QUIET_BEATS * mark.beatMs) return current;
      // Often: the callers waiting on this renewal get the new tokens as soon as they are written.
      await sleep(mark.beatMs / 20, deadline);
      current = await this.#read();
    }
  }

  /**
   * While the token request under this instance's mark is out: once the
   * lease is lost (the store stopped answering, so another instance may get
   * the lock), the mark is written again every beat, until the request
   * settles or its deadline passes, so that whoever reads it waits for this
   * one. `stop` resolves with the version of the mark as last written.
   */
  #beat(marked: StoredTokens, lease: Lease, deadline: AbortSignal): { stop(): Promise<number> } {
    let version = marked.version;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let beat: Promise<void> | undefined;
    const next = () => {
      if (stopped || deadline.aborted) return;
      timer = setTimeout(() => {
        beat = this.#mark(marked.tokens, version, marked.spending).then(
          async (written) => {
            if (written !== undefined) return void (version = written);
            // Refused: another instance took the mark over (this one's write will be refused too),
            // or an earlier beat that timed out landed after all: then this mark stands, at a newer version.
            const stored = await this.#store('read the tokens', (store, key) => store.get(key)).catch(() => undefined);
            if (stored?.spending?.owner === this.#owner && stored?.tokens.refreshToken === marked.tokens.refreshToken)
              version = stored!.version;
            else stopped = true;
          },
          // Not answered: the next beat tries again.
          () => undefined,
        );
        void beat.then(next);
      }, BEAT_MS);
    };
    if (lease.signal.aborted) next();
    else lease.signal.addEventListener('abort', next, { once: true });
    return {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        lease.signal.removeEventListener('abort', next);
        await beat;
        return version;
      },
    };
  }

  // The write of freshly rotated tokens is retried while the lease holds, so
  // no other instance can renew from the old ones meanwhile, past the
  // caller's deadline (the caller has its TokenTimeoutError by then): for
  // twice the timeout, long enough for a store's failover. After that they
  // stay pending in memory, written on the next call, and the lock passes on
  // (those spent under a spending mark keep being written meanwhile).
  async #save(lease: Lease, until: number): Promise<StoredTokens | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        // A write still in flight may yet land: it gets the whole of what is left of the window, not a retry beside it.
        return await this.#flush(Math.max(1, until - performance.now()));
      } catch (error) {
        const pending = this.#pending;
        if (pending === undefined || pending.written) throw error;
        if (lease.signal.aborted || performance.now() >= until) {
          if (pending.spent !== undefined) this.#keepSaving(pending);
          throw error;
        }
      }
      await sleep(Math.min(25 * 2 ** attempt, 250));
    }
  }

  // Rotated tokens spent under this instance's mark are the only copy of the
  // new refresh token, and the others wait on the mark for them: once the
  // renewal gave up saving them, they are written as soon as the store
  // answers again, not only on this instance's next call. Every half beat,
  // until written or given way, for as long again as the renewal's save
  // window; a store that closes meanwhile waits for it (unsavedWritten).
  #keepSaving(pending: Pending): void {
    const until = performance.now() + 2 * this.#options.timeoutMs;
    const saving = (async () => {
      while (this.#pending === pending && !pending.written && performance.now() < until) {
        await new Promise<void>((resolve) => {
          // Keeps no process alive: a process that ends takes its tokens along, unless its store's close() waits.
          const timer: ReturnType<typeof setTimeout> & { unref?(): unknown } = setTimeout(resolve, BEAT_MS / 2);
          timer.unref?.();
        });
        await this.#flush().catch(() => undefined);
      }
    })();
    this.#unsavedUntil(saving);
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
