// Shared test servers: loopback emulators of each provider's auth (and a
// protected endpoint to call), the oidc-provider harness, the five auth
// profiles, a headless browser for authorization redirects, real headless
// Chromium (launchChromium) with a static file server, and callApi, the
// runtime's side of the Authenticator contract. Everything binds to 127.0.0.1.
export { type ApiCall, callApi } from './api.js';
export { followAuthorization } from './browser.js';
export { CHROMIUM_PATH, launchChromium, loopbackOnly, serveDirectory } from './chromium.js';
export { type ConnectResult, DapiEmulator, type DapiOptions, startDapi } from './emulators/dapi.js';
export { DexeroFdEmulator, type DexeroFdOptions, startDexeroFd } from './emulators/dexero-fd.js';
export { ExpertFileEmulator, type ExpertFileOptions, startExpertFile } from './emulators/expertfile.js';
export { FdxEmulator, type FdxOptions, startFdx } from './emulators/fdx.js';
export { FinexerEmulator, type FinexerOptions, startFinexer } from './emulators/finexer.js';
export { TokenBook } from './emulators/tokens.js';
export {
  bearerOf,
  formOf,
  type Handler,
  hasExactly,
  json,
  jsonOf,
  LoopbackServer,
  NO_STORE,
  opaque,
  parseBasic,
  type RecordedRequest,
  type Reply,
  tokenReply,
} from './http.js';
export { OIDC_ACCOUNT, OIDC_CLIENTS, type OidcClientCredentials, OidcHarness, type OidcHarnessOptions, startOidcProvider } from './oidc.js';
export { loadProfile, PROVIDERS, specPath } from './profiles.js';
export { RedisServer, startRedis } from './redis.js';
export { expiredRotatingTokens, type RotatingTokenServer, rotatingFlowOptions, startRotatingTokenServer } from './rotating.js';
export { freePort, rejectionOf, thrownBy } from './util.js';
