// Shared test servers: loopback emulators of each provider's auth (and a
// protected endpoint to call), the oidc-provider harness, the five auth
// profiles, a headless browser for authorization redirects, real headless
// Chromium (launchChromium) with a static file server, and callApi, the
// runtime's side of the Authenticator contract. Everything binds to 127.0.0.1.
export { callApi, type ApiCall } from './api.js';
export { followAuthorization } from './browser.js';
export {
  bearerOf,
  formOf,
  hasExactly,
  json,
  jsonOf,
  LoopbackServer,
  NO_STORE,
  opaque,
  parseBasic,
  tokenReply,
  type Handler,
  type RecordedRequest,
  type Reply,
} from './http.js';
export { DapiEmulator, startDapi, type ConnectResult, type DapiOptions } from './emulators/dapi.js';
export { DexeroFdEmulator, startDexeroFd, type DexeroFdOptions } from './emulators/dexero-fd.js';
export { ExpertFileEmulator, startExpertFile, type ExpertFileOptions } from './emulators/expertfile.js';
export { FdxEmulator, startFdx, type FdxOptions } from './emulators/fdx.js';
export { FinexerEmulator, startFinexer, type FinexerOptions } from './emulators/finexer.js';
export { TokenBook } from './emulators/tokens.js';
export { OIDC_ACCOUNT, OIDC_CLIENTS, OidcHarness, startOidcProvider, type OidcClientCredentials, type OidcHarnessOptions } from './oidc.js';
export { loadProfile, PROVIDERS, specPath } from './profiles.js';
export { freePort, rejectionOf } from './util.js';
export { CHROMIUM_PATH, launchChromium, loopbackOnly, serveDirectory } from './chromium.js';
export { RedisServer, startRedis } from './redis.js';
