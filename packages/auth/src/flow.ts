import { DEFAULT_TOKEN_TIMEOUT_MS, withDeadline } from './deadline.js';
import { fillParameters, safeText } from './endpoint.js';
import {
  AuthorizationCallbackError,
  type AuthorizationCallbackFields,
  AuthorizationDeniedError,
  ConfigurationError,
  StateMismatchError,
} from './errors.js';
import {
  type ClientConfig,
  clientConfig,
  clientSecretsOf,
  joinScope,
  refreshTokens,
  renewSession,
  requestTokens,
  revokeTokens,
  scopeList,
  tokenEndpointUrl,
} from './grants.js';
import { heldSecrets, holdSecrets } from './held.js';
import { type Authenticator, createLifecycle, observable, storeCall, type TokenLifecycle, underLock } from './lifecycle.js';
import { assertCodeVerifier, generateCodeVerifier, generateState, MIN_STATE_LENGTH, pkceChallenge, timingSafeEqual } from './pkce.js';
import type { AuthorizationEndpoint, AuthProfile } from './profile.js';
import { MemoryTokenStore, type TokenStore } from './store.js';
import { type Tokens, toTokens } from './tokens.js';
import { assertRedirectUri, resolveProfileUrl } from './url.js';

export interface OAuthFlowOptions {
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  /** Override the profile's endpoints. */
  authorizationUrl?: string;
  tokenUrl?: string;
  revocationUrl?: string;
  /** Authorization server base URL, for profiles whose endpoints are relative paths. */
  baseUrl?: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Bound on each token-endpoint or revocation request, in ms (default 30 000); past it the call rejects with TokenTimeoutError. */
  timeoutMs?: number;
}

/** For one token-endpoint or revocation call. */
export interface RequestOptions {
  signal?: AbortSignal;
}

export interface AuthorizationRequest {
  /** Send the user here. */
  url: string;
  /** Keep with the user's session (e.g. a signed cookie) and pass to exchangeCode. */
  state: string;
  /** Present when the provider uses PKCE; keep it like the state, never send it to the browser. */
  codeVerifier?: string;
}

/** The redirect back: the full or relative callback URL (`req.url` works), its query string, or its parameters. */
export type CallbackInput = string | URL | URLSearchParams | Record<string, string>;

export interface SessionOptions {
  /** Called with every new token set (after refresh and rotation); persist them here. */
  onTokens?: (tokens: Tokens) => void | Promise<void>;
  store?: TokenStore;
  refreshSkewMs?: number;
  /** Store key for this user's tokens; needed when a store is shared (e.g. `user:${userId}`). Default: a random key. */
  key?: string;
}

/** An authorization-code grant in use: pass it as `createClient({ auth })`. */
export interface Session extends Authenticator {
  /** The current tokens (refreshed ones included), or undefined once cleared. */
  tokens(): Promise<Tokens | undefined>;
  /** Revokes the grant at the provider, and forgets the tokens locally even when revocation fails. */
  revoke(): Promise<void>;
}

/** `Scope` is the provider's documented scopes (a string-literal union in each provider package). */
export interface OAuthFlow<Scope extends string = string> {
  authorizationUrl(params?: { scope?: Scope | Scope[]; state?: string }): Promise<AuthorizationRequest>;
  exchangeCode(callback: CallbackInput, check: { state: string; codeVerifier?: string }, options?: RequestOptions): Promise<Tokens>;
  refresh(tokens: Tokens, options?: RequestOptions): Promise<Tokens>;
  revoke(tokens: Tokens, options?: RequestOptions): Promise<void>;
  session(tokens: Tokens, options?: SessionOptions): Session;
}

/**
 * A user's tokens in use: a lifecycle that renews by refresh, seeded with the
 * tokens the flow obtained, and revoked at the end. It lives here, not in the
 * lifecycle, so a client-credentials bundle carries none of it. A class, not
 * an object of closures: an application may keep one per user, and methods
 * on the prototype cost nothing per session.
 */
class UserSession implements Session {
  readonly #config: ClientConfig;
  readonly #lifecycle: TokenLifecycle;
  readonly #store: TokenStore;
  readonly #key: string;
  readonly #timeoutMs: number;
  /** The tokens the flow obtained, until they are written. */
  #initial: Tokens | undefined;
  #seeded: Promise<void> | undefined;

  constructor(shared: ClientConfig, tokens: Tokens, options: SessionOptions, timeoutMs: number, secrets: () => readonly string[]) {
    // A copy of the flow's: telemetry that observes this session wraps its fetch, never the flow's or another session's.
    const config = { ...shared };
    this.#config = config;
    this.#initial = toTokens(tokens);
    this.#key = options.key ?? `portico:session:${generateState()}`;
    this.#store = options.store ?? new MemoryTokenStore();
    this.#timeoutMs = timeoutMs;
    this.#lifecycle = createLifecycle({
      key: this.#key,
      store: this.#store,
      now: config.now,
      refreshSkewMs: options.refreshSkewMs,
      timeoutMs,
      apply: config.profile.apply,
      onTokens: options.onTokens,
      renew: renewSession(config),
      secrets,
    });
    const lifecycle = this.#lifecycle;
    holdSecrets(this, () => heldSecrets(lifecycle));
    observable.set(this, [lifecycle, 'refresh_token', config]);
  }

  // The first write is a check-and-set under the lock: saved tokens from a
  // late starter must not overwrite ones another instance already rotated.
  #seed(): Promise<void> {
    const store = this.#store;
    const key = this.#key;
    this.#seeded ??= withDeadline('wait for the token store lock', this.#timeoutMs, undefined, (deadline) =>
      underLock(
        store,
        key,
        async () => {
          if ((await storeCall('read the tokens', () => store.get(key))) === undefined)
            await storeCall('save the initial tokens', () => store.set(key, this.#initial!, 0));
        },
        deadline,
      ),
    ).then(
      () => {
        this.#initial = undefined;
      },
      (error: unknown) => {
        this.#seeded = undefined;
        throw error;
      },
    );
    return this.#seeded;
  }

  getAuthorization(signal?: AbortSignal): Promise<{ name: string; value: string }> {
    return this.#seed().then(() => this.#lifecycle.getAuthorization(signal));
  }

  // Only once the first write has been asked for: before it, the store may not hold these tokens yet.
  cachedAuthorization(): { name: string; value: string } | undefined {
    return this.#seeded === undefined ? undefined : this.#lifecycle.cachedAuthorization();
  }

  handleUnauthorized(sentValue: string, signal?: AbortSignal): Promise<boolean> {
    return this.#seed().then(() => this.#lifecycle.handleUnauthorized(sentValue, signal));
  }

  tokens(): Promise<Tokens | undefined> {
    return this.#seed().then(() => this.#lifecycle.current());
  }

  // Seeded first, so initial tokens not yet written cannot be written after the end.
  revoke(): Promise<void> {
    return this.#seed().then(() => this.#lifecycle.end((current, signal) => revokeTokens(this.#config, current, {}, signal)));
  }
}

function callbackParameters(callback: CallbackInput): URLSearchParams {
  if (callback instanceof URLSearchParams) return callback;
  if (callback instanceof URL) return callback.searchParams;
  if (typeof callback !== 'string') return new URLSearchParams(callback);
  const query = callback.includes('?') ? callback.slice(callback.indexOf('?') + 1) : callback;
  return new URLSearchParams(query.split('#')[0]);
}

function assertPkceProfile(authorization: AuthorizationEndpoint): void {
  if (authorization.pkce === 'none') return;
  const parameters = Object.entries(authorization.parameters);
  if (!parameters.some(([, value]) => value === '{codeChallenge}')) {
    throw new ConfigurationError('the profile uses PKCE but its authorization parameters have no {codeChallenge}');
  }
  // RFC 7636 §7.2: plain exposes the verifier; S256 is the only method sent.
  const method = parameters.find(([name]) => name === 'code_challenge_method');
  if (method !== undefined && method[1] !== 'S256') throw new ConfigurationError('only the S256 code challenge method is supported');
}

/** The authorization_code grant: build the authorization URL, check the callback, exchange, refresh, revoke. */
export function createOAuthFlow<Scope extends string = string>(profile: AuthProfile, options: OAuthFlowOptions): OAuthFlow<Scope> {
  const authorization = profile.authorization;
  if (authorization === undefined || !profile.grants.includes('authorization_code')) {
    throw new ConfigurationError('this provider does not support the authorization_code grant');
  }
  assertPkceProfile(authorization);
  assertRedirectUri(options.redirectUri);

  const timeoutMs = options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS;
  const config = clientConfig(profile, {
    base: options.baseUrl,
    tokenUrl: options.tokenUrl,
    revocationUrl: options.revocationUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    fetch: options.fetch,
    now: options.now,
  });
  // The last code exchanged and its verifier: the sessions made from this flow hold them, for telemetry to refuse an echo of.
  let exchanged: readonly string[] = [];
  // The client secret and its Basic form, made once: telemetry asks for them on every request.
  const held = clientSecretsOf(config);
  // Resolved up front so a relative URL without a base, or http://, fails here.
  const authorizationEndpoint = resolveProfileUrl(options.authorizationUrl ?? authorization.url, options.baseUrl, 'authorization');
  tokenEndpointUrl(config, 'authorization_code');

  const callbackName = {
    code: authorization.callback?.code ?? 'code',
    state: authorization.callback?.state ?? 'state',
    error: authorization.callback?.error ?? 'error',
    errorDescription: authorization.callback?.errorDescription ?? 'error_description',
    errorUri: authorization.callback?.errorUri ?? 'error_uri',
    errorCode: authorization.callback?.errorCode,
  };
  const usesState = authorization.state !== 'unsupported';

  const flow: OAuthFlow = {
    async authorizationUrl(params = {}) {
      const state = params.state ?? generateState();
      if (state.length < MIN_STATE_LENGTH)
        throw new ConfigurationError(`a caller-chosen state needs at least ${MIN_STATE_LENGTH} random base64url characters (128 bits)`);
      let codeVerifier: string | undefined;
      let codeChallenge: string | undefined;
      if (authorization.pkce !== 'none') {
        codeVerifier = generateCodeVerifier();
        codeChallenge = await pkceChallenge(codeVerifier);
        if (codeChallenge.length < (authorization.codeChallengeMinLength ?? 0)) {
          throw new ConfigurationError(
            `the provider wants a code challenge of at least ${authorization.codeChallengeMinLength} characters; S256 gives ${codeChallenge.length}`,
          );
        }
      }
      const url = new URL(authorizationEndpoint.href);
      // Only public values can land in the URL: no secret is among the values given here.
      const values = {
        clientId: options.clientId,
        redirectUri: options.redirectUri,
        scope: joinScope(profile, scopeList(profile, params.scope, authorization.requiredScopes)),
        state: usesState ? state : undefined,
        codeChallenge,
      };
      for (const [name, value] of fillParameters(authorization.parameters, values)) url.searchParams.append(name, value);
      return codeVerifier === undefined ? { url: url.href, state } : { url: url.href, state, codeVerifier };
    },

    async exchangeCode(callback, check, requestOptions = {}) {
      const parameters = callbackParameters(callback);
      // The code is a credential too: a provider may echo it into the error fields.
      const secrets = [
        options.clientSecret,
        ...(check.codeVerifier === undefined ? [] : [check.codeVerifier]),
        ...parameters.getAll(callbackName.code),
      ];
      const single = (name: string | undefined): string | undefined => {
        if (name === undefined) return undefined;
        const all = parameters.getAll(name);
        if (all.length > 1)
          throw new AuthorizationCallbackError({
            error: 'invalid_request',
            errorDescription: `the callback repeats the ${name} parameter`,
          });
        return all[0];
      };
      const state = single(callbackName.state);
      const error = single(callbackName.error);
      const code = single(callbackName.code);

      if (usesState) {
        if (!check.state) throw new ConfigurationError('exchangeCode needs the state that authorizationUrl() returned');
        if (state !== undefined && !timingSafeEqual(state, check.state))
          throw new StateMismatchError('the callback state does not match this authorization request');
      }
      // An error callback may lack state (some providers drop it on denial); it carries no code, so nothing is accepted from it.
      if (error !== undefined) {
        const fields: AuthorizationCallbackFields = { error: safeText(error, secrets) ?? 'unknown_error' };
        const description = safeText(single(callbackName.errorDescription), secrets);
        const uri = safeText(single(callbackName.errorUri), secrets);
        const providerCode = safeText(single(callbackName.errorCode), secrets);
        if (description !== undefined) fields.errorDescription = description;
        if (uri !== undefined) fields.errorUri = uri;
        if (providerCode !== undefined) fields.errorCode = providerCode;
        throw error === 'access_denied' ? new AuthorizationDeniedError(fields) : new AuthorizationCallbackError(fields);
      }
      if (usesState && state === undefined) throw new StateMismatchError('the callback has a code but no state');
      if (code === undefined || code === '')
        throw new AuthorizationCallbackError({
          error: 'invalid_request',
          errorDescription: 'the callback has neither a code nor an error',
        });

      let codeVerifier: string | undefined;
      if (authorization.pkce !== 'none') {
        if (check.codeVerifier === undefined)
          throw new ConfigurationError('exchangeCode needs the codeVerifier that authorizationUrl() returned');
        assertCodeVerifier(check.codeVerifier);
        codeVerifier = check.codeVerifier;
      }
      exchanged = codeVerifier === undefined ? [code] : [code, codeVerifier];
      return withDeadline('code exchange', timeoutMs, requestOptions.signal, (signal) =>
        requestTokens(config, 'authorization_code', { code, codeVerifier, redirectUri: options.redirectUri }, undefined, signal),
      );
    },

    refresh: (tokens, requestOptions = {}) =>
      withDeadline('refresh', timeoutMs, requestOptions.signal, (signal) => refreshTokens(config, toTokens(tokens), signal)),

    revoke: (tokens, requestOptions = {}) =>
      withDeadline('revocation', timeoutMs, requestOptions.signal, (signal) => revokeTokens(config, toTokens(tokens), {}, signal)),

    session: (tokens, sessionOptions = {}) => new UserSession(config, tokens, sessionOptions, timeoutMs, () => [...held, ...exchanged]),
  };
  return flow;
}

/**
 * `createOAuthFlow` bound to a provider's auth profile: what a generated
 * client exports as `oauth`. It takes the spec rather than `spec.auth`
 * because bundlers keep a pure call whose argument reads a property (it
 * might run a getter), and that would ship this flow, PKCE and revocation
 * to every user of `createClient`.
 */
export function defineOAuth<Scope extends string = string>(spec: { auth: AuthProfile }): (options: OAuthFlowOptions) => OAuthFlow<Scope> {
  return (options) => createOAuthFlow<Scope>(spec.auth, options);
}

/** The access_code_exchange grant (e.g. a Connect-style front end hands the app a short-lived code): one request, the tokens back. */
export function exchangeAccessCode(
  profile: AuthProfile,
  inputs: Record<string, string>,
  options: { baseUrl: string } & StandaloneRequestOptions,
): Promise<Tokens> {
  const config = clientConfig(profile, { base: options.baseUrl, fetch: options.fetch });
  return withDeadline('access code exchange', options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS, options.signal, (signal) =>
    requestTokens(config, 'access_code_exchange', inputs, undefined, signal),
  );
}

/** A token-endpoint or revocation call outside a flow, bounded as a flow bounds its own. */
export interface StandaloneRequestOptions extends RequestOptions {
  /** In ms (default 30 000): a token endpoint that answers slowly, or trickles bytes, fails with TokenTimeoutError by then. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface RevokeOptions extends StandaloneRequestOptions {
  /** Base for a relative revocation URL (the API base unless the provider says otherwise). */
  baseUrl?: string;
  revocationUrl?: string;
  clientId?: string;
  clientSecret?: string;
  /** Extra inputs the profile's revocation lists (e.g. appSecret, userSecret). */
  inputs?: Record<string, string>;
}

/** Revocation outside an OAuth flow, e.g. for a token from exchangeAccessCode. */
export function revokeToken(profile: AuthProfile, tokens: Tokens, options: RevokeOptions = {}): Promise<void> {
  const config = clientConfig(profile, {
    base: options.baseUrl,
    revocationUrl: options.revocationUrl,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    fetch: options.fetch,
  });
  return withDeadline('revocation', options.timeoutMs ?? DEFAULT_TOKEN_TIMEOUT_MS, options.signal, (signal) =>
    revokeTokens(config, toTokens(tokens), options.inputs, signal),
  );
}
