import { inspectCustom, redactSecrets } from './redact.js';

// Every field of every error here is safe to print: messages and fields are
// built from non-secret data, and anything a server sent back is passed
// through redactSecrets first. Causes are our own errors or sanitized copies,
// so `err.cause` chains cannot smuggle a request body or header out either.

type InspectFn = (value: unknown, options?: object) => string;

/**
 * Base of every error a Portico client throws (auth and runtime alike), the
 * only base: `code` is stable; match on it or on the class. Each subclass
 * states its name as data (`static errorName`), because a minifier renames
 * classes and `constructor.name` would then read `e` or `t`.
 */
export class PorticoError extends Error {
  static readonly errorName: string = 'PorticoError';

  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }

  // A getter, not a static block writing `prototype.name`: a class with a
  // static block is code a bundler must keep, so every error class would
  // ship whether used or not.
  override get name(): string {
    return (this.constructor as typeof PorticoError).errorName;
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

function plainErrorView(value: unknown): Record<string, unknown> {
  if (!(value instanceof Error)) {
    // A test runner may swap the cause for its own serialized copy, an object String() cannot convert.
    const message = (value as { message?: unknown } | null | undefined)?.message;
    return { message: typeof message === 'string' ? message : typeof value === 'object' ? '[object]' : String(value) };
  }
  const code = (value as { code?: unknown }).code;
  return {
    name: value.name,
    message: value.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(value.cause === undefined ? {} : { cause: plainErrorView(value.cause) }),
  };
}

/** Sets the fields that have a value: an absent one stays absent from `view()` and JSON. */
function setDefined(error: PorticoError, fields: object, names: readonly string[]): void {
  for (const name of names) {
    const value = (fields as Record<string, unknown>)[name];
    if (value !== undefined) Object.assign(error, { [name]: value });
  }
}

/** `message`, then the server's description when it sent one. */
const described = (message: string, description: string | undefined) => (description ? `${message}: ${description}` : message);

/**
 * A copy of a foreign error (a fetch TypeError, a DOMException, a socket
 * error, ...) with known secrets cut out: of the same class, so `instanceof`
 * still tells a TypeError from an AbortError, with its name, message, stack
 * and cause chain, and its own scalar fields (`code`, `errno`, `syscall`,
 * `address`, `port`, ...) that code branches on. Foreign errors can carry
 * arbitrary objects (request options, sockets, headers): the copy carries
 * none of them.
 */
function sanitizeError(error: unknown, secrets: readonly string[], depth = 0): Error {
  // Any read of a foreign value may run its code (a getter, a Proxy trap, a toString) and throw: each falls back.
  if (safely(() => error instanceof PorticoError, false)) return error as PorticoError;
  if (!safely(() => error instanceof Error, false))
    return new Error(
      redactSecrets(
        safely(() => String(error), '[a thrown value that cannot be printed]'),
        secrets,
      ),
    );
  const source = error as Error;
  const copy: Error = Object.create(safely(() => Object.getPrototypeOf(source) as object | null, null) ?? Error.prototype);
  const own = (name: string | symbol, value: unknown, enumerable = false) =>
    Object.defineProperty(copy, name, {
      value: typeof value === 'string' ? redactSecrets(value, secrets) : value,
      writable: true,
      configurable: true,
      enumerable,
    });
  for (const name of safely(() => Object.getOwnPropertyNames(source), [] as string[])) {
    // Data properties only: a getter is code of the thrower's, run by nobody here.
    const field = safely(() => Object.getOwnPropertyDescriptor(source, name), undefined);
    const value = field?.value;
    const scalar =
      field !== undefined && 'value' in field && (value === null || (typeof value !== 'object' && typeof value !== 'function'));
    // A field named with a secret is left out, name and all.
    if (scalar && redactSecrets(name, secrets) === name) own(name, value, field.enumerable);
  }
  // Read through the source and set on the copy: a DOMException keeps these
  // in getters that throw on any object but a real DOMException.
  const text = (read: () => unknown, fallback: string) => {
    const value = safely(read, fallback);
    return typeof value === 'string' ? value : fallback;
  };
  const name = text(() => source.name, 'Error');
  const message = text(() => source.message, '');
  own('name', name);
  own('message', message);
  own(
    'stack',
    text(() => source.stack, `${name}: ${message}`),
  );
  const code = safely(() => (source as { code?: unknown }).code, undefined);
  if (typeof code === 'string' || typeof code === 'number') own('code', code, true);
  const cause = safely(() => source.cause, undefined);
  if (depth < 5 && cause !== undefined) own('cause', sanitizeError(cause, secrets, depth + 1));
  // The class's own printing and serializing would run on a copy without the
  // original's private state: the copy is printed and serialized as data.
  own(inspectCustom, undefined);
  own('toJSON', undefined);
  return copy;
}

/** `read()`, or `fallback` if it throws. */
function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

/**
 * A response body larger than the limit: `maxResponseBytes` for API calls,
 * 1 MiB for token and revocation endpoints. Shared by auth and the runtime.
 */
export class ResponseTooLargeError extends PorticoError {
  static override readonly errorName = 'ResponseTooLargeError';
  readonly status: number;
  readonly limitBytes: number;

  constructor(status: number, limitBytes: number, hint?: string) {
    super('response_too_large', `The HTTP ${status} response body is larger than ${limitBytes} bytes${hint ? `; ${hint}` : ''}.`);
    this.status = status;
    this.limitBytes = limitBytes;
  }
}

/** The profile or the call is unusable (missing input, relative URL without a base, ...). */
export class ConfigurationError extends PorticoError {
  static override readonly errorName = 'ConfigurationError';
  constructor(message: string) {
    super('configuration_error', message);
  }
}

/** An `http://` URL to a host other than 127.0.0.1, ::1 or localhost, or another non-https scheme. */
export class InsecureUrlError extends PorticoError {
  static override readonly errorName = 'InsecureUrlError';
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
export class OAuthError extends PorticoError {
  static override readonly errorName = 'OAuthError';
  readonly error: string;
  declare readonly errorDescription?: string;
  declare readonly errorUri?: string;
  readonly status: number;

  constructor(fields: OAuthErrorFields) {
    super('oauth_error', `${described(fields.error, fields.errorDescription)} (HTTP ${fields.status})`);
    this.error = fields.error;
    this.status = fields.status;
    setDefined(this, fields, ['errorDescription', 'errorUri']);
  }
}

export interface TokenResponseErrorFields {
  status: number;
  error?: string;
  errorDescription?: string;
}

/** A token response that cannot be used: not JSON, no access token, `success` not true, a redirect, an unexpected status. */
export class TokenResponseError extends PorticoError {
  static override readonly errorName = 'TokenResponseError';
  readonly status: number;
  declare readonly error?: string;
  declare readonly errorDescription?: string;

  constructor(message: string, fields: TokenResponseErrorFields) {
    super('token_response_error', described(message, fields.errorDescription));
    this.status = fields.status;
    setDefined(this, fields, ['error', 'errorDescription']);
  }
}

/**
 * The request never got an HTTP response: DNS, a refused or reset
 * connection, TLS. The same class for API calls and for token, refresh and
 * revocation requests. `path` is the operation's path template (API calls)
 * or the endpoint's URL without its query (token endpoints).
 */
export class ConnectionError extends PorticoError {
  static override readonly errorName = 'ConnectionError';
  readonly method: string;
  readonly path: string;

  /** `secrets`: what the request carried, cut from the message and the cause chain (fetch quotes a header value it refuses). */
  constructor(method: string, path: string, cause: unknown, secrets: readonly string[] = []) {
    const safe = sanitizeError(cause, secrets);
    super('connection_error', `${method} ${path}: the connection failed (${safe.message})`, { cause: safe });
    this.method = method;
    this.path = path;
  }
}

export interface AuthorizationCallbackFields {
  error: string;
  errorDescription?: string;
  errorUri?: string;
  /** Provider-specific extra error field from the callback (profile `callback.errorCode`). */
  errorCode?: string;
}

/**
 * The authorization callback (the user's redirect back from the provider)
 * carried an error (RFC 6749 §4.1.2.1) or no code. Not an HTTP status: an
 * API's 401 is the runtime's AuthenticationError, its 403 PermissionDeniedError.
 */
export class AuthorizationCallbackError extends PorticoError {
  static override readonly errorName: string = 'AuthorizationCallbackError';
  readonly error: string;
  declare readonly errorDescription?: string;
  declare readonly errorUri?: string;
  declare readonly errorCode?: string;

  constructor(fields: AuthorizationCallbackFields, code = 'authorization_error') {
    super(code, `authorization failed: ${described(fields.error, fields.errorDescription)}`);
    this.error = fields.error;
    setDefined(this, fields, ['errorDescription', 'errorUri', 'errorCode']);
  }
}

/** The user (or the provider for them) refused: `error=access_denied`. */
export class AuthorizationDeniedError extends AuthorizationCallbackError {
  static override readonly errorName = 'AuthorizationDeniedError';
  constructor(fields: AuthorizationCallbackFields) {
    super(fields, 'authorization_denied');
  }
}

/** The callback's `state` is missing or is not the one this authorization request sent (CSRF). */
export class StateMismatchError extends PorticoError {
  static override readonly errorName = 'StateMismatchError';
  constructor(message: string) {
    super('state_mismatch', message);
  }
}

/** The grant is gone (invalid_grant on refresh, no refresh token, tokens cleared): send the user through authorization again. */
export class ReauthorizationRequiredError extends PorticoError {
  static override readonly errorName = 'ReauthorizationRequiredError';
  constructor(message: string, options?: { cause?: PorticoError }) {
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
export class RevocationError extends PorticoError {
  static override readonly errorName: string = 'RevocationError';
  declare readonly status?: number;
  declare readonly error?: string;
  declare readonly errorDescription?: string;
  readonly retryable: boolean;

  constructor(message: string, fields: RevocationErrorFields, code = 'revocation_error') {
    super(code, described(message, fields.errorDescription), fields.cause ? { cause: fields.cause } : undefined);
    setDefined(this, fields, ['status', 'error', 'errorDescription']);
    this.retryable = fields.retryable;
  }
}

/** RFC 7009 §2.2.1 `unsupported_token_type`: the server does not revoke this kind of token. */
export class UnsupportedTokenTypeError extends RevocationError {
  static override readonly errorName = 'UnsupportedTokenTypeError';
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
export class TokenStoreError extends PorticoError {
  static override readonly errorName = 'TokenStoreError';
  /** `secrets`: the tokens being written, which a store's or a callback's own error may quote. */
  constructor(message: string, cause: unknown, code = 'token_store_error', secrets: readonly string[] = []) {
    super(code, message, { cause: cause instanceof PorticoError ? cause : sanitizeError(cause, secrets) });
  }
}

/** A token, refresh, exchange or revocation request (or the wait for the store's lock) took longer than its timeout. */
export class TokenTimeoutError extends PorticoError {
  static override readonly errorName = 'TokenTimeoutError';
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number) {
    super('token_timeout', `the ${what} did not finish within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}
