export {
  type AuthenticatorContext,
  type AuthInput,
  type AuthKind,
  authenticatorFor,
  type ClientCredentialsInput,
  clientCredentials,
  createAuthenticator,
  heldCredentials,
  type StaticTokenInput,
  staticToken,
} from './authenticator.js';
export { type ApiKeyInput, type BasicAuthInput, type CredentialInput, createCredentialAuthenticator } from './credentials.js';
export { DEFAULT_TOKEN_TIMEOUT_MS } from './deadline.js';
export {
  AuthorizationCallbackError,
  AuthorizationDeniedError,
  ConfigurationError,
  ConnectionError,
  InsecureUrlError,
  OAuthError,
  PorticoError,
  ReauthorizationRequiredError,
  ResponseTooLargeError,
  RevocationError,
  StateMismatchError,
  TokenResponseError,
  TokenStoreError,
  TokenTimeoutError,
  UnsupportedTokenTypeError,
} from './errors.js';
export {
  type AuthorizationRequest,
  type CallbackInput,
  createOAuthFlow,
  defineOAuth,
  exchangeAccessCode,
  type OAuthFlow,
  type OAuthFlowOptions,
  type RequestOptions,
  type RevokeOptions,
  revokeToken,
  type Session,
  type SessionOptions,
  type StandaloneRequestOptions,
} from './flow.js';
export type { Authenticator, AuthTelemetry, Credential, LifecycleTelemetry, OutgoingRequest } from './lifecycle.js';
export { generateCodeVerifier, generateState, pkceChallenge } from './pkce.js';
export type * from './profile.js';
export { type Lease, MemoryTokenStore, type SpendingMark, type StoredTokens, type TokenStore } from './store.js';
export type { Tokens } from './tokens.js';
