export {
  defineClient,
  type ClientOptions,
  type Envelope,
  type Init,
  type OperationMeta,
  type OperationResult,
  type PorticoClient,
  type ProviderSpec,
  type RequestExtras,
} from './client.js';
export type { PathsWithMethod } from 'openapi-typescript-helpers';
export {
  ApiError,
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
  type ApiErrorFields,
} from './errors.js';
export type { Logger, LogLevel } from './log.js';
export { PaginationLoopError, type Pagination, type PaginateOptions } from './pagination.js';
export type { Shape, XmlCodec } from './shape.js';
export { defineWithUserInput, UserInputRoundsExceededError, type UserInputOptions, type UserInputRules, type WithUserInput } from './userinput.js';
export {
  defineVerifyWebhook,
  WebhookVerificationError,
  type VerifyOptions,
  type VerifyWebhook,
  type WebhookEvents,
  type WebhookFailure,
  type WebhookSignature,
} from './webhooks.js';
