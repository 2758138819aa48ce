import { ReauthorizationRequiredError } from './errors.js';
import type { ApplyRules } from './profile.js';
import type { TokenStore } from './store.js';
import { toTokens, type Tokens } from './tokens.js';

/**
 * What a client needs per request. The runtime calls getAuthorization()
 * before each request that needs the token, and handleUnauthorized(sentValue)
 * after a 401: true means replay once with a fresh getAuthorization(), false
 * means give the 401 to the caller. A rejection (e.g.
 * ReauthorizationRequiredError) is the error to surface.
 */
export interface Authenticator {
  getAuthorization(signal?: AbortSignal): Promise<{ name: string; value: string }>;
  handleUnauthorized(sentValue: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * Sends `request` with the credential on it, when setting the header `name`
   * is not enough (a query parameter, a cookie, a header fetch would carry to
   * another origin on a redirect). `body` is the serialized body, to send
   * again; `ownOrigin` is where the credential may go.
   */
  send?(request: Request, credential: { name: string; value: string }, context: { fetch: typeof fetch; ownOrigin: string; body: BodyInit | null | undefined }): Promise<Response>;
}

/** Why a token set is being replaced: none stored, about to expire, or refused by the API. */
export type RenewReason = 'missing' | 'expiring' | 'rejected';

export interface LifecycleOptions {
  key: string;
  store: TokenStore;
  now: () => number;
  refreshSkewMs: number;
  apply: ApplyRules;
  /** The next token set; returning `current` itself keeps using it. */
  renew(current: Tokens | undefined, reason: RenewReason): Promise<Tokens>;
  onTokens?: ((tokens: Tokens) => void | Promise<void>) | undefined;
  /** Written to the store on first use unless the store already holds newer tokens under the key. */
  initial?: Tokens | undefined;
}

export function authorizationHeader(apply: ApplyRules, accessToken: string): { name: string; value: string } {
  return { name: apply.header, value: apply.scheme ? `${apply.scheme} ${accessToken}` : accessToken };
}

// A waiter may give up; the shared request carries on for the others.
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * The token lifecycle shared by every kind of credential: cached per store
 * key, renewed a skew before expiry, single-flight in this process and under
 * the store's lock across processes, replay-without-renewal for a 401 on a
 * token that was already replaced.
 */
export class TokenLifecycle implements Authenticator {
  readonly #options: LifecycleOptions;
  #ready: Promise<void> | undefined;
  #inflight: Promise<Tokens> | undefined;
  // When we obtained the newest token; bounds the skew to half its lifetime.
  #issued: { accessToken: string; at: number } | undefined;

  constructor(options: LifecycleOptions) {
    this.#options = options;
  }

  #init(): Promise<void> {
    this.#ready ??= (async () => {
      const { initial, store, key } = this.#options;
      if (initial !== undefined && (await store.get(key)) === undefined) await store.set(key, initial);
    })().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  protected async current(): Promise<Tokens | undefined> {
    await this.#init();
    const stored = await this.#options.store.get(this.#options.key);
    return stored === undefined ? undefined : toTokens(stored);
  }

  #needsRenewal(tokens: Tokens): boolean {
    if (tokens.expiresAt === undefined) return false;
    const { refreshSkewMs, now } = this.#options;
    // A token shorter-lived than the skew would otherwise be renewed as soon
    // as it arrives, forever: cap the skew at half the lifetime we saw.
    const issuedAt = this.#issued?.accessToken === tokens.accessToken ? this.#issued.at : undefined;
    const skew = issuedAt === undefined ? refreshSkewMs : Math.min(refreshSkewMs, (tokens.expiresAt - issuedAt) / 2);
    return now() >= tokens.expiresAt - skew;
  }

  async getAuthorization(signal?: AbortSignal): Promise<{ name: string; value: string }> {
    signal?.throwIfAborted();
    let tokens = await this.current();
    if (tokens === undefined || this.#needsRenewal(tokens)) {
      tokens = await this.#renew(tokens, tokens === undefined ? 'missing' : 'expiring', signal);
    }
    return authorizationHeader(this.#options.apply, tokens.accessToken);
  }

  async handleUnauthorized(sentValue: string, signal?: AbortSignal): Promise<boolean> {
    signal?.throwIfAborted();
    const tokens = await this.current();
    // The 401 was for a token that has since been replaced: just replay.
    if (tokens !== undefined && authorizationHeader(this.#options.apply, tokens.accessToken).value !== sentValue) return true;
    await this.#renew(tokens, tokens === undefined ? 'missing' : 'rejected', signal);
    return true;
  }

  #renew(stale: Tokens | undefined, reason: RenewReason, signal: AbortSignal | undefined): Promise<Tokens> {
    if (this.#inflight === undefined) {
      const run = this.#renewNow(stale?.accessToken, reason);
      this.#inflight = run;
      const clear = () => {
        if (this.#inflight === run) this.#inflight = undefined;
      };
      run.then(clear, clear);
    }
    return abortable(this.#inflight, signal);
  }

  #renewNow(staleAccessToken: string | undefined, reason: RenewReason): Promise<Tokens> {
    const { store, key, renew, onTokens, now } = this.#options;
    const work = async (): Promise<Tokens> => {
      const current = await this.current();
      // Under the lock, the store may show that another client already renewed.
      if (current !== undefined && current.accessToken !== staleAccessToken && !this.#needsRenewal(current)) return current;
      let next: Tokens;
      try {
        next = await renew(current, current === undefined ? 'missing' : current.accessToken === staleAccessToken ? reason : 'expiring');
      } catch (error) {
        if (error instanceof ReauthorizationRequiredError) await store.delete(key);
        throw error;
      }
      if (next === current) return current;
      this.#issued = { accessToken: next.accessToken, at: now() };
      await store.set(key, next);
      await onTokens?.(next);
      return next;
    };
    return store.lock ? store.lock(key, work) : work();
  }

  /** Runs `finish` on the current tokens (after any renewal in flight), then forgets them even if `finish` fails. */
  protected async end(finish: (tokens: Tokens) => Promise<void>): Promise<void> {
    await this.#inflight?.catch(() => undefined);
    const { store, key } = this.#options;
    const work = async () => {
      const tokens = await this.current();
      try {
        if (tokens !== undefined) await finish(tokens);
      } finally {
        await store.delete(key);
      }
    };
    return store.lock ? store.lock(key, work) : work();
  }
}
