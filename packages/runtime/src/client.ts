import createFetchClient, { defaultBodySerializer, type ClientOptions as FetchClientOptions, type FetchResponse, type MaybeOptionalInit, type Middleware } from 'openapi-fetch';
import type { HttpMethod, MediaType, PathsWithMethod, RequiredKeysOf } from 'openapi-typescript-helpers';
import { ConfigurationError, createAuthenticator, isSensitiveKey, resolvePointer, type AuthenticatorContext, type Authenticator, type AuthInput, type AuthProfile, type CredentialProfile } from '@portico/auth';
import { isJsonType, parseBody, serializeForm } from './body.js';
import { apiErrorFor, ConnectionError, EnvelopeError, ResponseParseError, ResponseValidationError, TimeoutError } from './errors.js';
import { createLog, type Logger, type LogLevel } from './log.js';
import { paginate, type Pagination, type PaginateOptions } from './pagination.js';
import { shapeProblems, type Shape } from './shape.js';
import { exchange, type Exchange, type Transport } from './transport.js';
import { encodeXml } from './xml.js';

/** What the runtime needs to know about one operation, generated from the spec. */
export interface OperationMeta {
  /** Requires the token the auth profile describes. */
  readonly auth?: 1;
  /** A POST that only reads (`x-portico-retry-safe`), so it may be retried. */
  readonly retry?: 1;
  /** Request body is form-encoded. */
  readonly form?: 1;
  /** XML response schemas by status (or `default`): decoding and required fields. JSON ones are in `ProviderSpec.validation`. */
  readonly shapes?: Readonly<Record<string, Shape>>;
  /** Non-JSON media types the responses declare. */
  readonly accepts?: readonly string[];
  /** Path parameters the caller may omit, with the spec's defaults. */
  readonly defaults?: Readonly<Record<string, string | number | boolean>>;
  /** A path parameter that selects the representation (`x-portico-representation`): value -> media type, and the request body schema for XML. */
  readonly representation?: { readonly param: string; readonly types: Readonly<Record<string, string>>; readonly body?: Shape };
  readonly pagination?: Pagination;
}

/** A 2xx body that is a failure (`x-portico-envelope`). */
export interface Envelope {
  readonly failure: readonly { readonly pointer: string; readonly equals: string | number | boolean }[];
  readonly message?: string;
  readonly code?: string;
}

/** The constants a provider package is generated with; `Profile` is an OAuth profile, or a credential's (API key, Basic, static token). */
export interface ProviderSpec<Profile extends AuthProfile | CredentialProfile = AuthProfile> {
  readonly slug: string;
  readonly defaultBaseUrl: string;
  readonly auth: Profile;
  readonly envelope?: Envelope;
  /** Keyed by `METHOD /path/template`: the operations whose metadata is not `operationDefaults`. */
  readonly operations: Readonly<Record<string, OperationMeta>>;
  /** The metadata of every operation not in `operations` (most APIs: the credential, and nothing else). */
  readonly operationDefaults?: OperationMeta;
  /** The shapes that validate 2xx JSON bodies, by operation key and status: a module of its own, imported on the first response validated. */
  readonly validation?: () => Promise<{ readonly default: Readonly<Record<string, Readonly<Record<string, Shape>>>> }>;
}

export interface ClientOptions<Auth, Throw extends boolean = false> {
  /** Overrides the spec's server, e.g. a sandbox or a local emulator. */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** Credentials or a session; the token is then put on every operation that requires it. */
  auth?: Auth;
  headers?: FetchClientOptions['headers'];
  /** Retries of a failed request that is safe to repeat (default 2). */
  maxRetries?: number;
  /** Per attempt, in ms (default 60 000). */
  timeout?: number;
  /** A `Retry-After` longer than this (ms, default 60 000) is not waited for: the response is returned. */
  maxRetryDelay?: number;
  /** Larger response bodies are refused with ResponseTooLargeError (default 8 MiB). */
  maxResponseBytes?: number;
  /** Check that 2xx bodies carry the fields the spec marks required, at the top level of the body or of each list item (default true). */
  validateResponses?: boolean;
  /** Throw ApiError subclasses instead of returning `{ error }`; `data` is then always present. */
  throwOnError?: Throw;
  logger?: Logger;
  logLevel?: LogLevel;
}

/** Per-request options, beside openapi-fetch's. */
export interface RequestExtras {
  timeout?: number;
  maxRetries?: number;
}

/** A call's second argument: openapi-fetch's options plus per-request extras. */
export type Init<Params, M> = (M extends keyof Params ? MaybeOptionalInit<Params, M> : never) & RequestExtras;
// The extras join the init here, after inference, rather than in the type
// parameter's constraint: a conditional constraint per call cost tsc a third
// more types than openapi-fetch on a 5,000-operation client (bench/typecheck.ts).
type InitParam<I> = RequiredKeysOf<I> extends never ? [(I & RequestExtras & { [key: string]: unknown })?] : [I & RequestExtras & { [key: string]: unknown }];
/** What a call resolves with: openapi-fetch's `{ data, error, response }`, or `{ data, response }` when errors throw. */
export type OperationResult<Op, I, Throw extends boolean> = Op extends Record<string | number, any>
  ? Throw extends true
    ? { data: NonNullable<FetchResponse<Op, I, MediaType>['data']>; error?: never; response: Response }
    : FetchResponse<Op, I, MediaType>
  : never;
type OpParams<Paths, P> = P extends keyof Paths ? Paths[P] : never;
// Indexed the way openapi-fetch's own methods are, so tsc does the same work per call.
type Method<Paths extends {}, M extends HttpMethod, Throw extends boolean> = <P extends PathsWithMethod<Paths, M>, I extends MaybeOptionalInit<Paths[P], M & keyof Paths[P]>>(
  url: P,
  ...init: InitParam<I>
) => Promise<OperationResult<Paths[P][M & keyof Paths[P]], I, Throw>>;

/** The typed client: openapi-fetch's methods plus pagination. */
export interface PorticoClient<Paths extends {}, Pages = {}, Throw extends boolean = false> {
  GET: Method<Paths, 'get', Throw>;
  PUT: Method<Paths, 'put', Throw>;
  POST: Method<Paths, 'post', Throw>;
  DELETE: Method<Paths, 'delete', Throw>;
  OPTIONS: Method<Paths, 'options', Throw>;
  HEAD: Method<Paths, 'head', Throw>;
  PATCH: Method<Paths, 'patch', Throw>;
  TRACE: Method<Paths, 'trace', Throw>;
  request<M extends HttpMethod, P extends PathsWithMethod<Paths, M>, I extends MaybeOptionalInit<Paths[P], M & keyof Paths[P]>>(
    method: M,
    url: P,
    ...init: InitParam<I>
  ): Promise<OperationResult<Paths[P][M & keyof Paths[P]], I, Throw>>;
  /** Every item of a list operation, page after page, following the provider's own paging. */
  paginate<P extends keyof Pages & PathsWithMethod<Paths, 'get'>>(url: P, init?: Init<OpParams<Paths, P>, 'get'>, options?: PaginateOptions): AsyncIterableIterator<Pages[P]>;
  use(...middleware: Middleware[]): void;
  eject(...middleware: Middleware[]): void;
}

type Upper = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS' | 'HEAD' | 'PATCH' | 'TRACE';
const METHODS: readonly Upper[] = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'];
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
const REQUEST_ID_HEADERS = ['x-request-id', 'request-id', 'x-correlation-id', 'x-amzn-requestid'];
type Raw = { data?: unknown; error?: unknown; response: Response };

/** Values of credential-named fields (clientSecret, appSecret, api_key, ...) anywhere in `value`: what a server echo must not carry into an error. */
function credentialValues(value: unknown, out: string[] = [], depth = 0): string[] {
  if (depth > 8 || !value || typeof value !== 'object' || value instanceof ReadableStream || ArrayBuffer.isView(value)) return out;
  const entries = value instanceof Headers ? [...value.entries()] : Object.entries(value);
  for (const [key, item] of entries) {
    if (typeof item === 'string') {
      if (isSensitiveKey(key)) out.push(item);
    } else credentialValues(item, out, depth + 1);
  }
  return out;
}

function envelopeFailure(envelope: Envelope | undefined, body: unknown): boolean {
  if (!envelope || !body || typeof body !== 'object') return false;
  return envelope.failure.some((rule) => resolvePointer(body, rule.pointer) === rule.equals);
}

/**
 * Binds a provider's generated spec constants to openapi-fetch. The provider
 * package exports the result as its `createClient`.
 */
export function defineClient<Paths extends {}, Auth = AuthInput, Pages = {}, Profile extends AuthProfile | CredentialProfile = AuthProfile>(
  spec: ProviderSpec<Profile>,
  // Passed in by the provider package, so a bundle carries only its own kind of auth.
  authenticate: (profile: Profile, input: Auth, ctx: AuthenticatorContext) => Authenticator = createAuthenticator as never,
) {
  return function createClient<Throw extends boolean = false>(options: ClientOptions<Auth, Throw> = {}): PorticoClient<Paths, Pages, Throw> {
    // The URL as parsed, not as written: what the origin and scheme checks see is what requests go to.
    const base = URL.parse(options.baseUrl ?? spec.defaultBaseUrl);
    if (base === null) throw new ConfigurationError('baseUrl must be an absolute URL, e.g. https://api.example.com/v1');
    const baseUrl = base.href.replace(/\/+$/, '');
    const baseFetch = options.fetch ?? globalThis.fetch;
    const transport: Transport = {
      fetch: (request) => baseFetch(request),
      authenticator: options.auth === undefined ? undefined : authenticate(spec.auth, options.auth, { baseUrl, fetch: baseFetch }),
      ownOrigin: base.origin,
      maxRetryDelayMs: options.maxRetryDelay ?? 60_000,
      log: createLog(options.logger, options.logLevel),
      sent: new Set(),
    };
    const ownSecrets = credentialValues([options.auth, options.headers]);
    // Looked up only when an error is being built: walking a large request
    // body on every call would cost more than the call.
    const secretsOf = (init: unknown) => () => [...ownSecrets, ...transport.sent, ...credentialValues(init)];
    const client = createFetchClient<Paths>({ baseUrl, fetch: baseFetch, headers: options.headers });
    const maxBytes = options.maxResponseBytes ?? 8 * 1024 * 1024;
    const metaOf = (key: string): OperationMeta => spec.operations[key] ?? spec.operationDefaults ?? {};
    let checks: ReturnType<NonNullable<ProviderSpec['validation']>> | undefined;
    // Imported once; a failed import (a chunk that did not load) is tried again on the next response.
    const checksOf = async (key: string, status: string) =>
      (
        await (checks ??= spec.validation!().catch((error: unknown) => {
          checks = undefined;
          throw error;
        }))
      ).default[key]?.[status];

    const call = (method: Upper) => async (path: string, init: Record<string, unknown> = {}) => {
      const key = `${method} ${path}`;
      const meta = metaOf(key);
      const { timeout, maxRetries, ...rest } = init as RequestExtras & Record<string, unknown>;
      const secrets = secretsOf([rest.body, rest.params, rest.headers]);
      const x = {
        method,
        path,
        auth: meta.auth === 1,
        retrySafe: IDEMPOTENT.has(method) || meta.retry === 1,
        replayable: !(rest.body instanceof ReadableStream),
        maxRetries: maxRetries ?? options.maxRetries ?? 2,
        timeoutMs: timeout ?? options.timeout ?? 60_000,
        controller: new AbortController(),
        userSignal: (rest.signal ?? undefined) as AbortSignal | undefined,
      } as Exchange;
      const userParseAs = rest.parseAs;
      let errorResponse: Response | undefined;
      let responded = false;
      const extra: Record<string, unknown> = {
        fetch: async (request: Request) => {
          const response = await exchange(transport, request, x);
          responded = true;
          // Node's HTTP parser takes any three digits; RFC 9110 §15 and the Response constructor stop at 599.
          if (response.status > 599) {
            await response.body?.cancel();
            throw new ResponseParseError({ status: response.status, contentType: response.headers.get('content-type') ?? '', body: '', reason: 'HTTP status codes end at 599' });
          }
          if (response.ok || userParseAs !== undefined || response.status < 200) return response;
          // openapi-fetch would read an error body whole, with no size limit
          // (an endless one until the timeout, in memory): it gets an empty
          // stand-in, and the body is parsed below by content type, within
          // maxResponseBytes.
          errorResponse = response;
          return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
        },
      };
      if (meta.defaults) {
        const params = (rest.params ?? {}) as Record<string, Record<string, unknown> | undefined>;
        extra.params = { ...params, path: { ...meta.defaults, ...params.path } };
      }
      const headers = new Headers(rest.headers as HeadersInit | undefined);
      const chosen = meta.representation && ((extra.params ?? rest.params) as { path?: Record<string, unknown> } | undefined)?.path?.[meta.representation.param];
      const representation = chosen === undefined ? undefined : meta.representation!.types[String(chosen)];
      if (meta.form) {
        if (!headers.has('content-type')) headers.set('content-type', 'application/x-www-form-urlencoded');
        if (rest.bodySerializer === undefined) extra.bodySerializer = serializeForm;
      } else if (representation && !isJsonType(representation) && meta.representation!.body && rest.body !== undefined) {
        const shape = meta.representation!.body;
        headers.set('content-type', representation);
        extra.bodySerializer = (body: unknown) => `<?xml version="1.0" encoding="UTF-8"?>${encodeXml(body, shape)}`;
      }
      extra.headers = headers;
      extra.signal = x.controller.signal;
      // A redirect would carry the token to wherever it points, with any
      // header a custom fetch keeps: requests that carry one are never
      // redirected, and the 3xx comes back as a failed response.
      if (x.auth && transport.authenticator) extra.redirect = 'manual';
      // The serialized body is kept, so a retry or a replay after a 401 sends
      // it again without reading the request back.
      const serialize = (extra.bodySerializer ?? rest.bodySerializer ?? defaultBodySerializer) as (body: unknown, headers?: Headers) => BodyInit;
      extra.bodySerializer = (body: unknown, merged?: Headers) => {
        const out = serialize(body, merged);
        if (out instanceof ReadableStream) x.replayable = false;
        else x.body = out;
        return out;
      };
      if (userParseAs === undefined) extra.parseAs = 'stream';
      let result: Raw;
      try {
        result = (await (client[method] as (p: string, i: object) => Promise<Raw>)(path, { ...rest, ...extra })) as Raw;
        if (userParseAs !== undefined) {
          if (options.throwOnError && !result.response.ok) throw errorFor(result.error, result.response, method, path, secrets());
          return result;
        }
        const { response } = result;
        const shape = meta.shapes?.[String(response.status)] ?? meta.shapes?.default;
        const parse = { shape, accepts: meta.accepts, maxBytes, secrets };
        if (response.ok) {
          if (result.data !== undefined) result.data = await parseBody(response, parse);
        } else if (errorResponse) {
          result.response = errorResponse;
          // A proxy's HTML page is as much a failed response as a JSON error body.
          result.error = await parseBody(errorResponse, { ...parse, orText: true });
        }
      } catch (e) {
        const userAborted = (rest.signal as AbortSignal | undefined)?.aborted;
        // The timeout covers reading the body too; a body cut off by it is a timeout.
        if (e instanceof DOMException && e.name === 'AbortError' && !userAborted) throw new TimeoutError(method, path, x.timeoutMs);
        // Fetch reports a network failure as a TypeError; once the headers
        // are in, that is the body being cut off (a reset, a closed socket).
        if (responded && !userAborted && e instanceof TypeError) throw new ConnectionError(method, path, e, secrets());
        throw e;
      } finally {
        x.settle?.();
      }
      const { response } = result;
      if (response.ok && envelopeFailure(spec.envelope, result.data)) {
        result.error = result.data;
        delete result.data;
      } else if (response.ok && result.data !== undefined && options.validateResponses !== false) {
        const status = String(response.status);
        const shape = meta.shapes?.[status] ?? (spec.validation && (await checksOf(key, status)));
        const problems = shape ? shapeProblems(result.data, shape) : [];
        if (problems.length) throw new ResponseValidationError(response.status, method, path, problems);
      }
      // An error status with an empty body leaves `error` undefined (as in
      // openapi-fetch), but is no less an error.
      if (options.throwOnError && (result.error !== undefined || !response.ok)) throw errorFor(result.error, response, method, path, secrets());
      return result;
    };

    function errorFor(body: unknown, response: Response, method: string, path: string, secrets: readonly string[]) {
      const requestId = REQUEST_ID_HEADERS.map((h) => response.headers.get(h)).find((v) => v) ?? undefined;
      const fields = { status: response.status, body, method, path, requestId, secrets };
      if (!response.ok) return apiErrorFor(fields);
      const envelope = spec.envelope!;
      const message = envelope.message ? resolvePointer(body, envelope.message) : undefined;
      return new EnvelopeError({ ...fields, message: typeof message === 'string' ? message : undefined, providerCode: envelope.code ? resolvePointer(body, envelope.code) : undefined });
    }

    const wrapped: Record<string, unknown> = { use: client.use, eject: client.eject };
    for (const method of METHODS) wrapped[method] = call(method);
    wrapped.request = (method: string, path: string, init?: Record<string, unknown>) => call(method.toUpperCase() as Upper)(path, init);
    wrapped.paginate = (path: string, init: Record<string, unknown> | undefined, paging?: PaginateOptions) => {
      const rules = metaOf(`GET ${path}`).pagination;
      if (!rules) throw new TypeError(`GET ${path} is not a paginated operation of ${spec.slug}`);
      const secrets = secretsOf(init);
      return paginate(rules, (next) => call('GET')(path, next) as Promise<Raw>, init ?? {}, paging ?? {}, (body, response) => errorFor(body, response, 'GET', path, secrets()));
    };
    return wrapped as unknown as PorticoClient<Paths, Pages, Throw>;
  };
}
