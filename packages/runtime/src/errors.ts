// Errors the runtime raises. API errors carry the provider's (typed) error
// body; transport and parse errors carry what went wrong, never a secret.
import { PorticoError } from '@portico/auth';
import { redact, redactSecrets } from '@portico/auth/internal';

// One class per concept across both packages: a failed connection is the same
// ConnectionError whether it hit the API or the token endpoint.
export { ConnectionError, ResponseTooLargeError } from '@portico/auth';

const SNIPPET = 200;

/** A short, printable excerpt of a body: enough to recognise a proxy page, never a whole payload. */
function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > SNIPPET ? `${flat.slice(0, SNIPPET)}…` : flat;
}

export interface ApiErrorFields<Body> {
  status: number;
  body: Body;
  method: string;
  /** The operation's path template, e.g. `/accounts/{accountId}`. */
  path: string;
  requestId?: string;
  message?: string;
  /** Credentials the server may have echoed into the body: cut from the message and from what inspect and JSON show. */
  secrets?: readonly string[];
}

/**
 * An HTTP error response (or a 2xx whose body says it failed), thrown in the
 * throwing style. Subclasses per status family; `body` is the parsed error body.
 */
export class ApiError<Body = unknown> extends PorticoError {
  static override readonly errorName: string = 'ApiError';
  /** The `code` of this class's errors. */
  static readonly code: string = 'api_error';
  readonly status: number;
  readonly body: Body;
  readonly method: string;
  readonly path: string;
  readonly requestId: string | undefined;
  readonly #shownBody: unknown;

  constructor(fields: ApiErrorFields<Body>, code = (new.target as typeof ApiError).code) {
    const secrets = fields.secrets ?? [];
    const detail = redactSecrets(fields.message ?? describeBody(fields.body), secrets);
    super(
      code,
      `${fields.method} ${fields.path} failed with HTTP ${fields.status}${detail ? `: ${detail}` : ''}${fields.requestId ? ` (request id ${fields.requestId})` : ''}`,
    );
    this.status = fields.status;
    this.body = fields.body;
    this.method = fields.method;
    this.path = fields.path;
    this.requestId = fields.requestId;
    this.#shownBody = redactStrings(redact(fields.body), secrets);
  }

  // Error bodies can echo credentials (a token endpoint's reply, a body that
  // repeats the request): shown redacted, kept intact on `body` for code.
  protected override view(): Record<string, unknown> {
    return { ...super.view(), body: this.#shownBody };
  }
}

function redactStrings(value: unknown, secrets: readonly string[]): unknown {
  if (secrets.length === 0) return value;
  if (typeof value === 'string') return redactSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, secrets));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactStrings(v, secrets)]));
  return value;
}

function describeBody(body: unknown): string {
  if (typeof body === 'string') return snippet(body);
  if (!body || typeof body !== 'object') return '';
  const b = body as Record<string, unknown>;
  const nested = b.error && typeof b.error === 'object' ? (b.error as Record<string, unknown>) : undefined;
  const text = [b.message, b.msg, b.error_description, nested?.message, typeof b.error === 'string' ? b.error : undefined].find(
    (v) => typeof v === 'string',
  );
  return typeof text === 'string' ? snippet(text) : '';
}

/** HTTP 400 or 422: the provider refused the request as sent. */
export class BadRequestError<Body = unknown> extends ApiError<Body> {
  static override readonly errorName = 'BadRequestError';
  static override readonly code = 'bad_request';
}
/** HTTP 401: the API did not accept the credential (a renewable token was renewed and the call replayed once first). The OAuth redirect's errors are AuthorizationCallbackError. */
export class AuthenticationError<Body = unknown> extends ApiError<Body> {
  static override readonly errorName = 'AuthenticationError';
  static override readonly code = 'authentication_failed';
}
/** HTTP 403: the credential is valid but may not do this (scope, account). */
export class PermissionDeniedError<Body = unknown> extends ApiError<Body> {
  static override readonly errorName = 'PermissionDeniedError';
  static override readonly code = 'permission_denied';
}
/** HTTP 404. */
export class NotFoundError<Body = unknown> extends ApiError<Body> {
  static override readonly errorName = 'NotFoundError';
  static override readonly code = 'not_found';
}
/** HTTP 409. */
export class ConflictError<Body = unknown> extends ApiError<Body> {
  static override readonly errorName = 'ConflictError';
  static override readonly code = 'conflict';
}
/** HTTP 429, after the retries allowed. */
export class RateLimitError<Body = unknown> extends ApiError<Body> {
  static override readonly errorName = 'RateLimitError';
  static override readonly code = 'rate_limited';
}
/** HTTP 5xx, after the retries allowed. */
export class ServerError<Body = unknown> extends ApiError<Body> {
  static override readonly errorName = 'ServerError';
  static override readonly code = 'server_error';
}
/** HTTP 2xx whose body reports a failure (the spec's `x-portico-envelope`). */
export class EnvelopeError<Body = unknown> extends ApiError<Body> {
  static override readonly errorName = 'EnvelopeError';
  static override readonly code = 'envelope_failure';
  readonly providerCode: unknown;
  constructor(fields: ApiErrorFields<Body> & { providerCode?: unknown }) {
    super(fields);
    this.providerCode = fields.providerCode;
  }
}

/** The class for a status: what the throwing style raises. */
export function apiErrorFor<Body>(fields: ApiErrorFields<Body>): ApiError<Body> {
  const s = fields.status;
  if (s === 400 || s === 422) return new BadRequestError(fields);
  if (s === 401) return new AuthenticationError(fields);
  if (s === 403) return new PermissionDeniedError(fields);
  if (s === 404) return new NotFoundError(fields);
  if (s === 409) return new ConflictError(fields);
  if (s === 429) return new RateLimitError(fields);
  if (s >= 500) return new ServerError(fields);
  return new ApiError(fields);
}

export class TimeoutError extends PorticoError {
  static override readonly errorName = 'TimeoutError';
  readonly method: string;
  readonly path: string;
  readonly timeoutMs: number;
  constructor(method: string, path: string, timeoutMs: number) {
    super('timeout', `${method} ${path}: no response within ${timeoutMs} ms`);
    this.method = method;
    this.path = path;
    this.timeoutMs = timeoutMs;
  }
}

export class ResponseParseError extends PorticoError {
  static override readonly errorName = 'ResponseParseError';
  readonly status: number;
  readonly contentType: string;
  readonly snippet: string;

  constructor(fields: { status: number; contentType: string; body: string; reason: string }) {
    const excerpt = snippet(fields.body);
    super(
      'response_parse_error',
      `Could not parse the HTTP ${fields.status} response (${fields.contentType || 'no content type'}): ${fields.reason}. Body starts: ${JSON.stringify(excerpt)}`,
    );
    this.status = fields.status;
    this.contentType = fields.contentType;
    this.snippet = excerpt;
  }
}

/** A 2xx body that lacks fields the spec says are always there. */
export class ResponseValidationError extends PorticoError {
  static override readonly errorName = 'ResponseValidationError';
  readonly status: number;
  readonly problems: readonly string[];
  constructor(status: number, method: string, path: string, problems: readonly string[]) {
    super(
      'response_shape_mismatch',
      `${method} ${path}: the HTTP ${status} response does not match the spec: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`,
    );
    this.status = status;
    this.problems = problems;
  }
}
