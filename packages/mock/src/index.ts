export type { Fault, MockController, RespondWith, Times, UserInputQuestion } from './controller.js';
export { MockError } from './errors.js';
export type { Providers } from './generated/index.js';
export type { LoggedRequest } from './log.js';
export { createMock, type Mock, type MockOptions, type ProviderSlug } from './mock.js';
export { type RunningMock, type StartOptions, startMock } from './node.js';
export type { Stats } from './oauth.js';
export type { SignedWebhook } from './webhooks.js';
