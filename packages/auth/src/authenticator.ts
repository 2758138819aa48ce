import { base64url } from './base64url.js';
import { type CredentialInput, credentialText, heldAuthenticator, writtenCredentials } from './credentials.js';
import { ConfigurationError } from './errors.js';
import { clientConfig, clientSecretsOf, joinScope, requestTokens, scopeList, tokenEndpointUrl } from './grants.js';
import { type Authenticator, authorizationHeader, createLifecycle, observable } from './lifecycle.js';
import type { AuthProfile } from './profile.js';
import type { TokenStore } from './store.js';
import { isHeaderToken, type Tokens } from './tokens.js';
import { assertSecureUrl } from './url.js';

/** `createClient({ auth: { clientId, clientSecret } })`: the client fetches and renews its own tokens. */
export interface ClientCredentialsInput<Scope extends string = string> {
  clientId: string;
  clientSecret: string;
  /** A list, or one scope; defaults to the profile's default scopes. */
  scope?: Scope | Scope[];
  /** Overrides the profile's token endpoint. */
  tokenUrl?: string;
  /** Share the token between processes (e.g. `createRedisStore()` from @portico/redis), so they fetch one, not one each. */
  store?: TokenStore;
  /**
   * Store key. The default is a keyed hash (HMAC-SHA-256 under the client
   * secret) of the token URL, client id and scope: clients with the same
   * credentials share a token, and a client with a wrong secret never finds
   * one. A key of your own must bind the credential too: whoever can build
   * a client with your key and your store uses your token without the secret.
   */
  key?: string;
  /** Bound on each token request, lock wait included, in ms (default 30 000). */
  timeoutMs?: number;
}

/** A token obtained elsewhere (e.g. a permanent token). It is never renewed; a 401 goes to the caller. */
export interface StaticTokenInput {
  accessToken: string;
  /** Informational: the wire scheme is always the profile's `apply.scheme`. */
  tokenType?: string;
}

/**
 * A session from `oauth().session()` is an Authenticator too. The fields of one
 * of the profile's `credentials` are named inputs or, for names of the
 * provider's own, a record (typed by the provider package).
 */
export type AuthInput = ClientCredentialsInput | CredentialInput | Readonly<Record<string, string | undefined>>;

export interface AuthenticatorContext {
  /** The API base URL; resolves relative profile URLs unless `authBaseUrl` is given. */
  baseUrl: string;
  authBaseUrl?: string;
  fetch?: typeof fetch;
  now?: () => number;
  refreshSkewMs?: number;
  timeoutMs?: number;
  store?: TokenStore;
  onTokens?: (tokens: Tokens) => void | Promise<void>;
}

function isAuthenticator(input: AuthInput): input is Authenticator {
  return (
    typeof (input as Partial<Authenticator>).getAuthorization === 'function' &&
    typeof (input as Partial<Authenticator>).handleUnauthorized === 'function'
  );
}

/**
 * One kind of `auth` input a client takes. A generated client names the kinds
 * its profile has, so a bundle carries the code of those only: a client with
 * a static token or a session has no token requests to make.
 */
export interface AuthKind {
  /** The input as the user writes it, for the error listing what a client takes. */
  readonly written: string | ((profile: AuthProfile) => string);
  /** The Authenticator for `input`, or undefined when `input` is another kind. */
  build(profile: AuthProfile, input: AuthInput, ctx: AuthenticatorContext): Authenticator | undefined;
}

/** `{ accessToken }`: a token obtained elsewhere, sent as it is and never renewed. */
export const staticToken: AuthKind = {
  written: '{ accessToken }',
  build(profile, input) {
    if (!('accessToken' in input)) return undefined;
    if (!isHeaderToken(input.accessToken))
      throw new ConfigurationError('auth.accessToken must be a non-empty string of visible ASCII characters (RFC 6750 §2.1)');
    const header = authorizationHeader(profile.apply, input.accessToken);
    return {
      getAuthorization: async () => header,
      cachedAuthorization: () => header,
      handleUnauthorized: async () => false,
    };
  },
};

/** `{ clientId, clientSecret }`: the client_credentials grant, renewed by the client itself. */
export const clientCredentials: AuthKind = {
  written: '{ clientId, clientSecret }',
  build(profile, written, ctx) {
    if (!('clientId' in written && 'clientSecret' in written)) return undefined;
    const input = written as ClientCredentialsInput;
    // An unset environment variable is undefined here: say so now, not as a failed key derivation or a 401 later.
    const clientSecret = credentialText(input, 'clientSecret', 'the client secret');
    credentialText(input, 'clientId', 'the client id');
    const config = clientConfig(profile, {
      base: ctx.authBaseUrl ?? ctx.baseUrl,
      tokenUrl: input.tokenUrl,
      clientId: input.clientId,
      clientSecret: input.clientSecret,
      fetch: ctx.fetch,
      now: ctx.now,
    });
    const scopes = scopeList(profile, input.scope);
    const scope = joinScope(profile, scopes);
    // Resolved now so a bad profile or an http:// URL fails at createClient, not at the first call.
    const tokenUrl = tokenEndpointUrl(config, 'client_credentials');
    // Made once: telemetry asks for them on every request.
    const held = clientSecretsOf(config);
    const lifecycle = createLifecycle({
      key: input.key ?? (() => credentialKey(clientSecret, [tokenUrl.href, input.clientId, scope ?? ''])),
      store: input.store ?? ctx.store,
      now: config.now,
      refreshSkewMs: ctx.refreshSkewMs,
      timeoutMs: input.timeoutMs ?? ctx.timeoutMs,
      apply: profile.apply,
      // Client credentials have no refresh token: a new grant is the renewal, for expiry and 401 alike.
      renew: (_current, _reason, signal) => requestTokens(config, 'client_credentials', { scope }, scopes, signal),
      onTokens: ctx.onTokens,
      secrets: () => held,
    });
    observable.set(lifecycle, [lifecycle, 'client_credentials', config]);
    return lifecycle;
  },
};

/** The fields of one of the profile's `credentials` (e.g. a personal access token instead of a grant): sent as they are, never renewed. */
export const heldCredentials: AuthKind = {
  written: (profile) => writtenCredentials(profile.credentials ?? []),
  build: (profile, input) => (profile.credentials ? heldAuthenticator(profile.credentials, input) : undefined),
};

/**
 * The default store key of a client credential: without the secret in it, a
 * client with another tenant's (public) client id and any secret would read
 * that tenant's token from a shared store and never ask the token endpoint.
 * Hashed, so the store never holds the secret itself.
 */
async function credentialKey(secret: string, parts: string[]): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (subtle === undefined)
    throw new ConfigurationError(
      'the default token store key needs WebCrypto (crypto.subtle): pass auth.key, or run where WebCrypto is available',
    );
  const encoder = new TextEncoder();
  // Keyed with the secret's digest, not the secret: HMAC pads a short key with
  // zeros, so "s" and "s\0" would be one key; a digest is always 32 bytes.
  const digest = await subtle.digest('SHA-256', encoder.encode(secret));
  const key = await subtle.importKey('raw', digest, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return `portico:client_credentials:${base64url(new Uint8Array(await subtle.sign('HMAC', key, encoder.encode(JSON.stringify(parts)))))}`;
}

/** Builds what the runtime asks for a header before each request and after each 401: an Authenticator (a session is one) as it is, else by the first of `kinds` that takes the input. */
export function authenticatorFor(
  ...kinds: AuthKind[]
): (profile: AuthProfile, input: AuthInput, ctx: AuthenticatorContext) => Authenticator {
  return (profile, input, ctx) => {
    assertSecureUrl(ctx.baseUrl);
    const refused = () =>
      new ConfigurationError(
        `auth must be ${kinds.map((kind) => `${typeof kind.written === 'string' ? kind.written : kind.written(profile)}, `).join('')}or an Authenticator (a session from oauth().session() is one)`,
      );
    // `auth: process.env.TOKEN` is a string: never let a TypeError from `in` quote it.
    if (typeof input !== 'object' || input === null) throw refused();
    if (isAuthenticator(input)) return input;
    for (const kind of kinds) {
      const authenticator = kind.build(profile, input, ctx);
      if (authenticator) return authenticator;
    }
    throw refused();
  };
}

/** Every kind of OAuth input: client credentials, a static token, or an Authenticator such as a session. */
export function createAuthenticator(profile: AuthProfile, input: AuthInput, ctx: AuthenticatorContext): Authenticator {
  return authenticatorFor(clientCredentials, staticToken)(profile, input, ctx);
}
