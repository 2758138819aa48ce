export type { MediaType, PathsWithMethod } from 'openapi-typescript-helpers';
export {
  type ClientOptions,
  type ClientPathsWithMethod,
  defineClient,
  type Envelope,
  type Init,
  type MethodResponse,
  type OperationMeta,
  type OperationResult,
  type PathBasedClient,
  type PorticoClient,
  type ProviderSpec,
  type RequestExtras,
  wrapAsPathBasedClient,
} from './client.js';
export {
  ApiError,
  type ApiErrorFields,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  ConnectionError,
  EnvelopeError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  ResponseParseError,
  ResponseTooLargeError,
  ResponseValidationError,
  ServerError,
  TimeoutError,
} from './errors.js';
export type { Logger, LogLevel } from './log.js';
export { type PaginateOptions, type Pagination, PaginationLoopError } from './pagination.js';
export type { Representation, Shape, XmlCodec } from './shape.js';
export {
  defineWithUserInput,
  type UserInputOptions,
  UserInputRoundsExceededError,
  type UserInputRules,
  type WithUserInput,
} from './userinput.js';
export {
  defineVerifyWebhook,
  type VerifyOptions,
  type VerifyWebhook,
  type WebhookEvents,
  type WebhookFailure,
  type WebhookSignature,
  WebhookVerificationError,
} from './webhooks.js';
