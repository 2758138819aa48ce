// Hand-written mirror of tools/schema/x-portico-auth.schema.json. Keep the two
// in step: the schema validates the specs, this type is what the code reads.

/** Absolute `https://` URL, or a path starting with `/` resolved against the authorization server base (by default the API base). */
export type ProfileUrl = string;

/** JSON Pointer (RFC 6901) into a response body. */
export type JsonPointer = string;

/**
 * Wire name -> value, in wire order. A value is a literal, or a whole-string
 * template `"{name}"` filled from the flow (clientId, clientSecret, scope,
 * state, redirectUri, codeChallenge, code, codeVerifier, refreshToken,
 * accessToken, token, tokenTypeHint) or from an extra input listed under
 * `inputs`. A parameter whose template has no value is omitted.
 */
export type ParameterMap = Record<string, string>;

export type GrantType = 'client_credentials' | 'authorization_code' | 'refresh_token' | 'access_code_exchange';

export type ClientAuthentication = 'client_secret_basic' | 'client_secret_post' | 'bearer' | 'none';

export type BodyFormat = 'form' | 'json';

export interface GrantRequest {
  /** When this grant uses another endpoint than `token.url`. */
  url?: ProfileUrl;
  /** Extra caller inputs this grant needs (beyond the standard ones). */
  inputs?: string[];
  parameters: ParameterMap;
}

export interface TokenResponseMap {
  /** A boolean that must be true, else the response is an error even with HTTP 2xx. */
  success?: JsonPointer;
  accessToken: JsonPointer;
  tokenType?: JsonPointer;
  defaultTokenType?: string;
  refreshToken?: JsonPointer;
  scope?: JsonPointer;
  /** Seconds until expiry (RFC 6749 `expires_in`). Exclusive with `expiresAt`. */
  expiresIn?: JsonPointer;
  /** Absolute expiry time as an ISO 8601 timestamp. Exclusive with `expiresIn`. */
  expiresAt?: JsonPointer;
}

export interface ErrorMap {
  code?: JsonPointer;
  description?: JsonPointer;
  uri?: JsonPointer;
}

export interface AuthorizationCallback {
  code?: string;
  state?: string;
  error?: string;
  errorDescription?: string;
  errorUri?: string;
  /** Provider-specific extra error field, e.g. `error_code`. */
  errorCode?: string;
}

export interface AuthorizationEndpoint {
  url: ProfileUrl;
  operationId?: string;
  /** RFC 7636 with S256 only. */
  pkce: 'required' | 'supported' | 'none';
  /** Provider's minimum code_challenge length (at least 32). */
  codeChallengeMinLength?: number;
  /** Portico always sends state unless 'unsupported'. */
  state: 'required' | 'recommended' | 'unsupported';
  parameters: ParameterMap;
  requiredScopes?: string[];
  callback?: AuthorizationCallback;
}

export interface TokenEndpoint {
  url: ProfileUrl;
  operationId?: string;
  clientAuthentication: ClientAuthentication;
  bodyFormat: BodyFormat;
  /** Body parameters per grant (client_secret_post credentials are added by the clientAuthentication rule). */
  grants: Partial<Record<GrantType, GrantRequest>>;
  response: TokenResponseMap;
  error?: ErrorMap;
}

export interface ScopeRules {
  separator: ' ' | ',';
  default?: string[];
}

export interface RefreshRules {
  /** always: every refresh returns a new refresh token; optional: may; none: never changes. */
  rotation: 'always' | 'optional' | 'none';
  refreshTokenLifetimeSeconds?: number;
}

export interface ExpiryRules {
  /** Documented lifetime, when the token response does not say. */
  accessTokenLifetimeSeconds?: number;
  /** The access token never expires (ends only by revocation). */
  never?: boolean;
}

export interface RevocationEndpoint {
  url: ProfileUrl;
  operationId?: string;
  standard?: 'rfc7009' | 'custom';
  clientAuthentication: ClientAuthentication;
  bodyFormat: BodyFormat;
  parameters: ParameterMap;
  /** Which token the request names; 'grant' means revoking it ends the whole grant. */
  revokes?: 'refresh_token' | 'access_token' | 'grant';
  successStatus: number[];
  error?: ErrorMap;
  /** Extra caller inputs the request needs. */
  inputs?: string[];
  /** A boolean in a 2xx body that must be true. */
  success?: JsonPointer;
}

export interface ApplyRules {
  header: string;
  /** Prefix before the token, e.g. Bearer. */
  scheme: string;
}

/** The `x-portico-auth` extension of a provider spec. */
export interface AuthProfile extends ProfileHeaders {
  description?: string;
  /** The OAuth security scheme: kept in generated code only beside `credentials`, where operations name the scheme they take. */
  securityScheme?: string;
  /** The other ways in: credentials the user holds instead of a grant (e.g. a personal access token). */
  credentials?: HeldCredentials;
  /** In the order a client should prefer them. */
  grants: GrantType[];
  authorization?: AuthorizationEndpoint;
  token: TokenEndpoint;
  scope?: ScopeRules;
  refresh?: RefreshRules;
  expiry?: ExpiryRules;
  revocation?: RevocationEndpoint;
  apply: ApplyRules;
}

/**
 * How a credential the user already holds goes on a request. The generator
 * derives it from the spec's security scheme: an `apiKey` scheme gives `in`
 * and `name`; `http` `basic` gives Basic; `http` `bearer` gives the header and
 * prefix (`apply` in the profile, else `Authorization: Bearer`). `input` names
 * the `createClient({ auth })` field that carries it where it is not the
 * default (`apiKey`, `accessToken`; Basic always takes `username` and
 * `password`); `prefix` goes before an API key with one space.
 */
export type CredentialRules =
  | { type: 'apiKey'; in: 'header' | 'query' | 'cookie'; name: string; prefix?: string; input?: string }
  | { type: 'basic' }
  | { type: 'bearer'; header: string; scheme: string; input?: string };

/**
 * Credentials the user already holds, as OpenAPI security requirements: each
 * alternative maps security scheme names to their rules, and every scheme of
 * the alternative the user passes is sent.
 */
export type HeldCredentials = readonly Readonly<Record<string, CredentialRules>>[];

/** What both kinds of profile may add: constant headers the provider requires on every request. */
interface ProfileHeaders {
  headers?: Readonly<Record<string, string>>;
}

/** An `x-portico-auth` profile with no grant: API keys, HTTP Basic or static bearer tokens, with their rules from the security schemes. */
export interface CredentialProfile extends ProfileHeaders {
  description?: string;
  /** The spec's security scheme; the generator reads it, generated code leaves it out. */
  securityScheme?: string;
  credentials: HeldCredentials;
}
