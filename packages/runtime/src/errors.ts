// Errors the runtime raises. API errors carry the provider's (typed) error
// body; transport and parse errors carry what went wrong, never a secret.
import { PorticoError, redact, redactSecrets } from '@portico/auth';

export { ResponseTooLargeError } from '@portico/auth';

const SNIPPET = 200;

/** A short, printable excerpt of a body: enough to recognise a proxy page, never a whole payload. */
export function snippet(text: string): string {
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
  static {
    this.prototype.name = 'ApiError';
  }
  readonly status: number;
  readonly body: Body;
  readonly method: string;
  readonly path: string;
  readonly requestId: string | undefined;
  readonly #shownBody: unknown;

  constructor(fields: ApiErrorFields<Body>, code = 'api_error') {
    const secrets = fields.secrets ?? [];
    const detail = redactSecrets(fields.message ?? describeBody(fields.body), secrets);
    super(code, `${fields.method} ${fields.path} failed with HTTP ${fields.status}${detail ? `: ${detail}` : ''}${fields.requestId ? ` (request id ${fields.requestId})` : ''}`);
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
  const text = [b.message, b.msg, b.error_description, nested?.message, typeof b.error === 'string' ? b.error : undefined].find((v) => typeof v === 'string');
  return typeof text === 'string' ? snippet(text) : '';
}

export class BadRequestError<Body = unknown> extends ApiError<Body> {
  static {
    this.prototype.name = 'BadRequestError';
  }
  constructor(fields: ApiErrorFields<Body>) {
    super(fields, 'bad_request');
  }
}
export class AuthenticationError<Body = unknown> extends ApiError<Body> {
  static {
    this.prototype.name = 'AuthenticationError';
  }
  constructor(fields: ApiErrorFields<Body>) {
    super(fields, 'authentication_failed');
  }
}
export class PermissionDeniedError<Body = unknown> extends ApiError<Body> {
  static {
    this.prototype.name = 'PermissionDeniedError';
  }
  constructor(fields: ApiErrorFields<Body>) {
    super(fields, 'permission_denied');
  }
}
export class NotFoundError<Body = unknown> extends ApiError<Body> {
  static {
    this.prototype.name = 'NotFoundError';
  }
  constructor(fields: ApiErrorFields<Body>) {
    super(fields, 'not_found');
  }
}
export class ConflictError<Body = unknown> extends ApiError<Body> {
  static {
    this.prototype.name = 'ConflictError';
  }
  constructor(fields: ApiErrorFields<Body>) {
    super(fields, 'conflict');
  }
}
export class RateLimitError<Body = unknown> extends ApiError<Body> {
  static {
    this.prototype.name = 'RateLimitError';
  }
  constructor(fields: ApiErrorFields<Body>) {
    super(fields, 'rate_limited');
  }
}
export class ServerError<Body = unknown> extends ApiError<Body> {
  static {
    this.prototype.name = 'ServerError';
  }
  constructor(fields: ApiErrorFields<Body>) {
    super(fields, 'server_error');
  }
}
/** HTTP 2xx whose body reports a failure (the spec's `x-portico-envelope`). */
export class EnvelopeError<Body = unknown> extends ApiError<Body> {
  static {
    this.prototype.name = 'EnvelopeError';
  }
  readonly providerCode: unknown;
  constructor(fields: ApiErrorFields<Body> & { providerCode?: unknown }) {
    super(fields, 'envelope_failure');
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

/** The request never got a response: DNS, refused or reset connection, TLS. */
export class ConnectionError extends PorticoError {
  static {
    this.prototype.name = 'ConnectionError';
  }
  readonly method: string;
  readonly path: string;
  /** `secrets`: what the request carried (its Authorization value, say), cut from the message: fetch quotes a header value it refuses. */
  constructor(method: string, path: string, cause: unknown, secrets: readonly string[] = []) {
    super('connection_error', `${method} ${path}: the connection failed (${redactSecrets(cause instanceof Error ? cause.message : String(cause), secrets)})`, { cause: plainCause(cause, secrets) });
    this.method = method;
    this.path = path;
  }
}

export class TimeoutError extends PorticoError {
  static {
    this.prototype.name = 'TimeoutError';
  }
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

// A fetch failure's cause can hold sockets and request options; keep only
// what explains it.
function plainCause(cause: unknown, secrets: readonly string[]): Error | undefined {
  if (!(cause instanceof Error)) return undefined;
  const inner = cause.cause as { code?: unknown; message?: unknown } | undefined;
  const copy = new Error(redactSecrets(cause.message, secrets));
  copy.name = cause.name;
  copy.stack = `${copy.name}: ${copy.message}`;
  if (inner && typeof inner.message === 'string') copy.cause = Object.assign(new Error(redactSecrets(inner.message, secrets)), typeof inner.code === 'string' ? { code: inner.code } : {});
  return copy;
}

export class ResponseParseError extends PorticoError {
  static {
    this.prototype.name = 'ResponseParseError';
  }
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
  static {
    this.prototype.name = 'ResponseValidationError';
  }
  readonly status: number;
  readonly problems: readonly string[];
  constructor(status: number, method: string, path: string, problems: readonly string[]) {
    super('response_shape_mismatch', `${method} ${path}: the HTTP ${status} response does not match the spec: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
    this.status = status;
    this.problems = problems;
  }
}
