export type * from './profile.js';
export type { Tokens } from './tokens.js';
export { MemoryTokenStore, type Lease, type StoredTokens, type TokenStore } from './store.js';
export { DEFAULT_TOKEN_TIMEOUT_MS } from './deadline.js';
export type { Authenticator } from './lifecycle.js';
export {
  createAuthenticator,
  type AuthenticatorContext,
  type AuthInput,
  type ClientCredentialsInput,
  type StaticTokenInput,
} from './authenticator.js';
export { createCredentialAuthenticator, type ApiKeyInput, type BasicAuthInput, type CredentialInput } from './credentials.js';
export {
  createOAuthFlow,
  defineOAuth,
  exchangeAccessCode,
  revokeToken,
  type AuthorizationRequest,
  type CallbackInput,
  type OAuthFlow,
  type OAuthFlowOptions,
  type RequestOptions,
  type RevokeOptions,
  type Session,
  type SessionOptions,
} from './flow.js';
export { generateCodeVerifier, generateState, pkceChallenge } from './pkce.js';
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
