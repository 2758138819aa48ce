import {
  basicCredentials,
  callEndpoint,
  type EndpointResponse,
  extractError,
  parseTokenResponse,
  RFC6749_ERROR,
  type Values,
} from './endpoint.js';
import {
  ConfigurationError,
  ConnectionError,
  OAuthError,
  ReauthorizationRequiredError,
  RevocationError,
  UnsupportedTokenTypeError,
} from './errors.js';
import type { RenewReason } from './lifecycle.js';
import { resolvePointer } from './pointer.js';
import type { AuthProfile, GrantType } from './profile.js';
import { type Tokens, toTokens } from './tokens.js';
import { resolveProfileUrl } from './url.js';

// Single-step functions: one request, one strict answer. They hold no state;
// caching and single-flight live in lifecycle.ts.

export interface ClientConfig {
  profile: AuthProfile;
  /** Base for relative profile URLs. */
  base?: string | undefined;
  tokenUrl?: string | undefined;
  revocationUrl?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  fetch: typeof fetch;
  now: () => number;
}

/** The endpoints, credentials and fetch for the single-step functions, with the defaults filled in once. */
export function clientConfig(
  profile: AuthProfile,
  options: Omit<ClientConfig, 'profile' | 'fetch' | 'now'> & { fetch?: typeof fetch | undefined; now?: (() => number) | undefined },
): ClientConfig {
  // The global fetch is looked up per call, so one installed later (or a test
  // stub) is used, and it is called unbound (Workers refuse another `this`).
  return { ...options, profile, fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)), now: options.now ?? Date.now };
}

/** The client's own secrets: its secret, and the Basic value client_secret_basic sends. */
export const clientSecretsOf = (config: ClientConfig): string[] =>
  config.clientSecret === undefined
    ? []
    : [config.clientSecret, ...(config.clientId === undefined ? [] : [basicCredentials(config.clientId, config.clientSecret)])];

/**
 * The scopes to request: the caller's (a list, or a string split on spaces
 * or commas), else the profile's default, with the profile's required scopes
 * first. Undefined when there are none, so a `{scope}` parameter is omitted.
 */
export function scopeList(
  profile: AuthProfile,
  scope: string | readonly string[] | undefined,
  required: readonly string[] = [],
): string[] | undefined {
  const given = scope === undefined ? (profile.scope?.default ?? []) : typeof scope === 'string' ? scope.split(/[\s,]+/) : scope;
  const list = [...new Set([...required, ...given].filter((s) => s !== ''))];
  return list.length === 0 ? undefined : list;
}

export function joinScope(profile: AuthProfile, scopes: readonly string[] | undefined): string | undefined {
  return scopes?.join(profile.scope?.separator ?? ' ');
}

function grantRequest(profile: AuthProfile, grant: GrantType) {
  const request = profile.token.grants[grant];
  if (!profile.grants.includes(grant) || request === undefined)
    throw new ConfigurationError(`this provider does not support the ${grant} grant`);
  return request;
}

export function tokenEndpointUrl(config: ClientConfig, grant: GrantType): URL {
  const own = grantRequest(config.profile, grant).url;
  if (own !== undefined) return resolveProfileUrl(own, config.base, 'token');
  return config.tokenUrl !== undefined
    ? resolveProfileUrl(config.tokenUrl, config.base, 'token')
    : resolveProfileUrl(config.profile.token.url, config.base, 'token');
}

/** One token endpoint request for `grant`, parsed into Tokens. */
export async function requestTokens(
  config: ClientConfig,
  grant: GrantType,
  values: Values,
  requestedScope?: string[],
  signal?: AbortSignal,
): Promise<Tokens> {
  const { profile } = config;
  const request = grantRequest(profile, grant);
  const response = await callEndpoint({
    url: tokenEndpointUrl(config, grant),
    clientAuthentication: profile.token.clientAuthentication,
    bodyFormat: profile.token.bodyFormat,
    parameters: request.parameters,
    values: { clientId: config.clientId, clientSecret: config.clientSecret, ...values },
    inputs: request.inputs,
    apply: profile.apply,
    fetch: config.fetch,
    what: 'token endpoint',
    signal,
  });
  return parseTokenResponse(profile, response, { now: config.now(), requestedScope });
}

/**
 * The refresh_token grant. The result keeps the old refresh token when the
 * response has none, unless the profile says every refresh rotates (then the
 * old one is dead and keeping it would only hide that). Scope likewise
 * carries over. invalid_grant becomes ReauthorizationRequiredError.
 */
export async function refreshTokens(config: ClientConfig, tokens: Tokens, signal?: AbortSignal): Promise<Tokens> {
  if (tokens.refreshToken === undefined) throw new ReauthorizationRequiredError('there is no refresh token: the user must authorize again');
  let next: Tokens;
  try {
    next = await requestTokens(config, 'refresh_token', { refreshToken: tokens.refreshToken }, tokens.scope, signal);
  } catch (error) {
    if (error instanceof OAuthError && error.error === 'invalid_grant') {
      throw new ReauthorizationRequiredError('the refresh token was rejected (invalid_grant): the user must authorize again', {
        cause: error,
      });
    }
    throw error;
  }
  if (next.refreshToken !== undefined || config.profile.refresh?.rotation === 'always') return next;
  return toTokens({ ...next, refreshToken: tokens.refreshToken });
}

/**
 * How a user's session renews its tokens: by refresh when it holds a refresh
 * token and the provider refreshes; otherwise an expiring token serves until
 * it actually expires, and then (or on a 401) the user must authorize again.
 */
export function renewSession(
  config: ClientConfig,
): (current: Tokens | undefined, reason: RenewReason, signal: AbortSignal) => Promise<Tokens> {
  return async (current, reason, signal) => {
    if (current === undefined) throw new ReauthorizationRequiredError('this session has no tokens any more: the user must authorize again');
    if (current.refreshToken === undefined || !config.profile.grants.includes('refresh_token')) {
      if (reason === 'expiring' && current.expiresAt !== undefined && config.now() < current.expiresAt) return current;
      throw new ReauthorizationRequiredError(
        'the access token is expired or rejected and there is no refresh token: the user must authorize again',
      );
    }
    return refreshTokens(config, current, signal);
  };
}

/**
 * One revocation request. Which token it names follows `revokes`; a refresh
 * token is preferred otherwise because revoking it ends the grant (RFC 7009
 * §2.1). Only the profile's success statuses count as success; for them the
 * body is ignored (RFC 7009 §2.2) unless the profile names a success flag.
 */
export async function revokeTokens(config: ClientConfig, tokens: Tokens, inputs: Values = {}, signal?: AbortSignal): Promise<void> {
  const { profile } = config;
  const revocation = profile.revocation;
  if (revocation === undefined) throw new ConfigurationError('this provider has no revocation endpoint');
  const useAccess = revocation.revokes === 'access_token' || tokens.refreshToken === undefined;
  const url = resolveProfileUrl(config.revocationUrl ?? revocation.url, config.base, 'revocation');
  let response: EndpointResponse;
  try {
    response = await callEndpoint({
      url,
      clientAuthentication: revocation.clientAuthentication,
      bodyFormat: revocation.bodyFormat,
      parameters: revocation.parameters,
      values: {
        clientId: config.clientId,
        clientSecret: config.clientSecret,
        ...inputs,
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        token: useAccess ? tokens.accessToken : tokens.refreshToken,
        tokenTypeHint: useAccess ? 'access_token' : 'refresh_token',
      },
      inputs: revocation.inputs,
      apply: profile.apply,
      fetch: config.fetch,
      what: 'revocation endpoint',
      signal,
    });
  } catch (error) {
    if (error instanceof ConnectionError)
      throw new RevocationError('the revocation request failed before a response', { retryable: true, cause: error });
    throw error;
  }
  const { status, body, secrets } = response;
  const fields = extractError(body, revocation.error ?? profile.token.error ?? RFC6749_ERROR, secrets);
  if (!revocation.successStatus.includes(status)) {
    if (fields.error === 'unsupported_token_type') throw new UnsupportedTokenTypeError({ status, ...fields });
    const retryable = status >= 500 || status === 429;
    throw new RevocationError(`the revocation endpoint answered HTTP ${status}`, { status, ...fields, retryable });
  }
  if (revocation.success !== undefined && resolvePointer(body, revocation.success) !== true) {
    throw new RevocationError('the revocation response reports failure', { status, ...fields, retryable: false });
  }
}
