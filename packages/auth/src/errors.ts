import { inspectCustom, redactSecrets } from './redact.js';

// Every field of every error here is safe to print: messages and fields are
// built from non-secret data, and anything a server sent back is passed
// through redactSecrets first. Causes are our own errors or sanitized copies,
// so `err.cause` chains cannot smuggle a request body or header out either.

type InspectFn = (value: unknown, options?: object) => string;

/**
 * Base of every error a Portico client throws (auth and runtime alike). `code`
 * is stable; match on it or on the class.
 */
export class PorticoError extends Error {
  static {
    this.prototype.name = 'PorticoError';
  }

  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  /** The safe view: name, message and the error's own fields, with the cause chain. */
  toJSON(): Record<string, unknown> {
    const cause = this.cause;
    return {
      name: this.name,
      message: this.message,
      ...this.view(),
      ...(cause === undefined ? {} : { cause: cause instanceof PorticoError ? cause.toJSON() : plainErrorView(cause) }),
    };
  }

  /** The fields `toJSON` and `util.inspect` show; a subclass whose fields may hold credentials redacts them here. */
  protected view(): Record<string, unknown> {
    return Object.fromEntries(Object.entries(this));
  }

  [inspectCustom](_depth: number, options: object, inspect?: InspectFn): string {
    const fields = this.view();
    let out = this.stack ?? `${this.name}: ${this.message}`;
    if (!inspect) return out;
    out += ` ${inspect(fields, options)}`;
    if (this.cause !== undefined) out += `\n  [cause]: ${inspect(this.cause, options).split('\n').join('\n  ')}`;
    return out;
  }
}

/** Base of every error thrown by @portico/auth. */
export class PorticoAuthError extends PorticoError {
  static {
    this.prototype.name = 'PorticoAuthError';
  }
}

function plainErrorView(value: unknown): Record<string, unknown> {
  if (!(value instanceof Error)) return { message: String(value) };
  const code = (value as { code?: unknown }).code;
  return {
    name: value.name,
    message: value.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(value.cause === undefined ? {} : { cause: plainErrorView(value.cause) }),
  };
}

/**
 * A copy of a foreign error (a fetch TypeError, a DOMException, ...) that
 * keeps its name, message, code and cause chain, with known secrets cut out.
 * Foreign errors can carry arbitrary properties (request options, sockets);
 * the copy carries none of them.
 */
export function sanitizeError(error: unknown, secrets: readonly string[], depth = 0): Error {
  if (error instanceof PorticoAuthError) return error;
  const source = error instanceof Error ? error : new Error(String(error));
  const cause = depth < 5 && source.cause !== undefined ? sanitizeError(source.cause, secrets, depth + 1) : undefined;
  const copy = new Error(redactSecrets(source.message, secrets), cause === undefined ? undefined : { cause });
  copy.name = source.name;
  const code = (source as { code?: unknown }).code;
  if (typeof code === 'string') Object.assign(copy, { code });
  copy.stack = redactSecrets(source.stack ?? `${copy.name}: ${copy.message}`, secrets);
  return copy;
}

/**
 * A response body larger than the limit: `maxResponseBytes` for API calls,
 * 1 MiB for token and revocation endpoints. Shared by auth and the runtime,
 * so it extends PorticoError rather than PorticoAuthError.
 */
export class ResponseTooLargeError extends PorticoError {
  static {
    this.prototype.name = 'ResponseTooLargeError';
  }

  readonly status: number;
  readonly limitBytes: number;

  constructor(status: number, limitBytes: number, hint?: string) {
    super('response_too_large', `The HTTP ${status} response body is larger than ${limitBytes} bytes${hint ? `; ${hint}` : ''}.`);
    this.status = status;
    this.limitBytes = limitBytes;
  }
}

/** The profile or the call is unusable (missing input, relative URL without a base, ...). */
export class ConfigurationError extends PorticoAuthError {
  static {
    this.prototype.name = 'ConfigurationError';
  }

  constructor(message: string) {
    super('configuration_error', message);
  }
}

/** An `http://` URL to a host other than 127.0.0.1, ::1 or localhost, or another non-https scheme. */
export class InsecureUrlError extends PorticoAuthError {
  static {
    this.prototype.name = 'InsecureUrlError';
  }

  /** Scheme and host only; paths and queries may carry data. */
  readonly origin: string;

  constructor(origin: string) {
    super('insecure_url', `refusing ${origin}: only https:// URLs, or http:// to 127.0.0.1, ::1 or localhost, are allowed`);
    this.origin = origin;
  }
}

export interface OAuthErrorFields {
  error: string;
  errorDescription?: string;
  errorUri?: string;
  status: number;
}

/** An RFC 6749 §5.2 error response (invalid_request, invalid_client, invalid_grant, unauthorized_client, unsupported_grant_type, invalid_scope) or a provider's own code. */
export class OAuthError extends PorticoAuthError {
  static {
    this.prototype.name = 'OAuthError';
  }

  readonly error: string;
  declare readonly errorDescription?: string;
  declare readonly errorUri?: string;
  readonly status: number;

  constructor(fields: OAuthErrorFields) {
    super('oauth_error', `${fields.error}${fields.errorDescription ? `: ${fields.errorDescription}` : ''} (HTTP ${fields.status})`);
    this.error = fields.error;
    if (fields.errorDescription !== undefined) this.errorDescription = fields.errorDescription;
    if (fields.errorUri !== undefined) this.errorUri = fields.errorUri;
    this.status = fields.status;
  }
}

export interface TokenResponseErrorFields {
  status: number;
  error?: string;
  errorDescription?: string;
}

/** A token response that cannot be used: not JSON, no access token, `success` not true, a redirect, an unexpected status. */
export class TokenResponseError extends PorticoAuthError {
  static {
    this.prototype.name = 'TokenResponseError';
  }

  readonly status: number;
  declare readonly error?: string;
  declare readonly errorDescription?: string;

  constructor(message: string, fields: TokenResponseErrorFields) {
    super('token_response_error', fields.errorDescription ? `${message}: ${fields.errorDescription}` : message);
    this.status = fields.status;
    if (fields.error !== undefined) this.error = fields.error;
    if (fields.errorDescription !== undefined) this.errorDescription = fields.errorDescription;
  }
}

/** The request never got an HTTP response (DNS, connection refused, TLS). */
export class NetworkError extends PorticoAuthError {
  static {
    this.prototype.name = 'NetworkError';
  }

  constructor(message: string, cause: Error) {
    super('network_error', message, { cause });
  }
}

export interface AuthorizationErrorFields {
  error: string;
  errorDescription?: string;
  errorUri?: string;
  /** Provider-specific extra error field from the callback (profile `callback.errorCode`). */
  errorCode?: string;
}

/** The authorization callback carried an error (RFC 6749 §4.1.2.1) or no code. */
export class AuthorizationError extends PorticoAuthError {
  static {
    this.prototype.name = 'AuthorizationError';
  }

  readonly error: string;
  declare readonly errorDescription?: string;
  declare readonly errorUri?: string;
  declare readonly errorCode?: string;

  constructor(fields: AuthorizationErrorFields, code = 'authorization_error') {
    super(code, `authorization failed: ${fields.error}${fields.errorDescription ? `: ${fields.errorDescription}` : ''}`);
    this.error = fields.error;
    if (fields.errorDescription !== undefined) this.errorDescription = fields.errorDescription;
    if (fields.errorUri !== undefined) this.errorUri = fields.errorUri;
    if (fields.errorCode !== undefined) this.errorCode = fields.errorCode;
  }
}

/** The user (or the provider for them) refused: `error=access_denied`. */
export class AuthorizationDeniedError extends AuthorizationError {
  static {
    this.prototype.name = 'AuthorizationDeniedError';
  }

  constructor(fields: AuthorizationErrorFields) {
    super(fields, 'authorization_denied');
  }
}

/** The callback's `state` is missing or is not the one this authorization request sent (CSRF). */
export class StateMismatchError extends PorticoAuthError {
  static {
    this.prototype.name = 'StateMismatchError';
  }

  constructor(message: string) {
    super('state_mismatch', message);
  }
}

/** The grant is gone (invalid_grant on refresh, no refresh token, tokens cleared): send the user through authorization again. */
export class ReauthorizationRequiredError extends PorticoAuthError {
  static {
    this.prototype.name = 'ReauthorizationRequiredError';
  }

  constructor(message: string, options?: { cause?: PorticoAuthError }) {
    super('reauthorization_required', message, options);
  }
}

export interface RevocationErrorFields {
  status?: number;
  error?: string;
  errorDescription?: string;
  retryable: boolean;
  cause?: Error;
}

/** Revocation did not succeed. `retryable` is true for 5xx, 429 and network failures. */
export class RevocationError extends PorticoAuthError {
  static {
    this.prototype.name = 'RevocationError';
  }

  declare readonly status?: number;
  declare readonly error?: string;
  declare readonly errorDescription?: string;
  readonly retryable: boolean;

  constructor(message: string, fields: RevocationErrorFields, code = 'revocation_error') {
    super(code, fields.errorDescription ? `${message}: ${fields.errorDescription}` : message, fields.cause ? { cause: fields.cause } : undefined);
    if (fields.status !== undefined) this.status = fields.status;
    if (fields.error !== undefined) this.error = fields.error;
    if (fields.errorDescription !== undefined) this.errorDescription = fields.errorDescription;
    this.retryable = fields.retryable;
  }
}

/** RFC 7009 §2.2.1 `unsupported_token_type`: the server does not revoke this kind of token. */
export class UnsupportedTokenTypeError extends RevocationError {
  static {
    this.prototype.name = 'UnsupportedTokenTypeError';
  }

  constructor(fields: Omit<RevocationErrorFields, 'retryable'>) {
    super('the revocation endpoint does not support this token type', { ...fields, retryable: false }, 'unsupported_token_type');
  }
}

/**
 * The token store (or the `onTokens` callback) failed. Tokens already
 * obtained are kept in memory and written again on the next call, so nothing
 * is lost; the call that saw the failure gets this error and is not retried
 * as a network failure.
 */
export class TokenStoreError extends PorticoAuthError {
  static {
    this.prototype.name = 'TokenStoreError';
  }

  constructor(message: string, cause: unknown, code = 'token_store_error') {
    super(code, message, { cause: cause instanceof PorticoError ? cause : sanitizeError(cause, []) });
  }
}

/** A token, refresh, exchange or revocation request (or the wait for the store's lock) took longer than its timeout. */
export class TokenTimeoutError extends PorticoAuthError {
  static {
    this.prototype.name = 'TokenTimeoutError';
  }

  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super('token_timeout', `the ${what} did not finish within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}
