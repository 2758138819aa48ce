import {
  type Authenticator,
  type AuthenticatorContext,
  type AuthInput,
  type AuthProfile,
  ConfigurationError,
  type CredentialProfile,
  type OutgoingRequest,
  PorticoError,
} from '@portico/auth';
import { isSensitiveKey, readLimited, resolvePointer, sleep } from '@portico/auth/internal';
import createFetchClient, {
  type Client,
  defaultBodySerializer,
  type ClientOptions as FetchClientOptions,
  type FetchOptions,
  type FetchResponse,
  type HeadersOptions,
  type MaybeOptionalInit,
  type Middleware,
  mergeHeaders,
  type ParseAs,
  wrapAsPathBasedClient as wrapFetchClient,
} from 'openapi-fetch';
import type { FilterKeys, HttpMethod, MediaType, PathsWithMethod, RequiredKeysOf } from 'openapi-typescript-helpers';
import { MAX_BYTES_HINT, mediaTypeOf, missingXmlCodec, parseBody, serializeForm } from './body.js';
import { apiErrorFor, ConnectionError, EnvelopeError, ResponseParseError, ResponseValidationError, TimeoutError } from './errors.js';
import { createLog, emit, type Logger, type LogLevel } from './log.js';
import type { PaginateOptions, Pagination, paginate } from './pagination.js';
import { type Representation, type Shape, shapeProblems, type XmlCodec } from './shape.js';
import {
  backoffMs,
  type CallPlan,
  Deadline,
  DeadlineClock,
  deliver,
  LeanRequest,
  remember,
  retryDelayAfter,
  type Transport,
} from './transport.js';

/** What the runtime needs to know about one operation, generated from the spec. */
export interface OperationMeta {
  /** Requires the token the auth profile describes. */
  readonly requiresAuth?: true;
  /**
   * The operation's OpenAPI security requirements a credential meets, as
   * lists of scheme names, where the profile has more than one scheme: the
   * credential sent is that of the first requirement the client holds every
   * scheme of.
   */
  readonly security?: readonly (readonly string[])[];
  /** A POST that only reads (`x-portico-retry-safe`), so it may be retried. */
  readonly retrySafe?: true;
  /** Request body is form-encoded. */
  readonly formBody?: true;
  /** XML response schemas by status (or `default`): decoding and required fields. JSON ones are in `ProviderSpec.validation`. */
  readonly shapes?: Readonly<Record<string, Shape>>;
  /** Non-JSON media types the responses declare. */
  readonly accepts?: readonly string[];
  /** Path parameters the caller may omit, with the spec's defaults. */
  readonly defaults?: Readonly<Record<string, string | number | boolean>>;
  readonly representation?: Representation;
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
  /** `xml` from `@portico/runtime/xml`, for a spec that declares XML bodies: other packages' bundles do without it. */
  readonly xml?: XmlCodec;
  /** `paginate` from `@portico/runtime/pagination`, for a spec with paginated operations. */
  readonly paginate?: typeof paginate;
}

/**
 * A client's options: openapi-fetch's (serializers, `Request`,
 * `requestInitExt`, and fetch's own such as `credentials` or `cache`, which
 * go into every request), and Portico's.
 */
export interface ClientOptions<Auth, Throw extends boolean = false> extends Omit<FetchClientOptions, 'baseUrl' | 'fetch' | 'headers'> {
  /** Overrides the spec's server, e.g. a sandbox or a local emulator. */
  baseUrl?: string;
  /**
   * Called as `fetch(url, init)`, the signal (timeout and cancellation) in
   * `init`; with a Request instead while openapi-fetch middleware is in use
   * or a `Request` class is given, since middleware reads and replaces Requests.
   */
  fetch?: typeof fetch;
  /** Credentials or a session; the token is then put on every operation that requires it. */
  auth?: Auth;
  headers?: FetchClientOptions['headers'];
  /** Aborts every call of the client; a call's own `signal` replaces it. */
  signal?: AbortSignal | null;
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
  /**
   * OpenTelemetry traces and metrics of every call: `openTelemetry()` from
   * `@portico/runtime/telemetry`. Without it, none of that code is in a
   * bundle or on a call's path.
   */
  telemetry?: Instrumentation;
}

/**
 * Instruments a new client: made by `openTelemetry()` (`@portico/runtime/telemetry`),
 * which wraps the client's methods and its transport's fetch, authenticator and log.
 */
export type Instrumentation = (client: Record<string, unknown>, state: ClientState) => void;

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
type InitParam<I> =
  RequiredKeysOf<I> extends never ? [(I & RequestExtras & { [key: string]: unknown })?] : [I & RequestExtras & { [key: string]: unknown }];
/** What a call resolves with: openapi-fetch's `{ data, error, response }`, or `{ data, response }` when errors throw. */
export type OperationResult<Op, I, Throw extends boolean, Media extends MediaType = MediaType> =
  // biome-ignore lint/suspicious/noExplicitAny: openapi-fetch's FetchResponse takes the same unconstrained record.
  Op extends Record<string | number, any>
    ? Throw extends true
      ? { data: NonNullable<FetchResponse<Op, I, Media>['data']>; error?: never; response: Response }
      : FetchResponse<Op, I, Media>
    : never;
type OpParams<Paths, P> = P extends keyof Paths ? Paths[P] : never;
/**
 * openapi-fetch's `MaybeOptionalInit`, and the operation, for a method that
 * a path has: written as its own are, so that openapi-fetch's helper types
 * (`MethodResponse`, `wrapAsPathBasedClient`) take a Portico client, and
 * without its constraint that the method be a key, which paths typed `{}`
 * (as openapi-fetch's clients take them) cannot show.
 */
type InitOf<Params, M> =
  RequiredKeysOf<FetchOptions<FilterKeys<Params, M>>> extends never
    ? FetchOptions<FilterKeys<Params, M>> | undefined
    : FetchOptions<FilterKeys<Params, M>>;
// Indexed the way openapi-fetch's own methods are, so tsc does the same work per call.
type Method<Paths extends {}, M extends HttpMethod, Throw extends boolean, Media extends MediaType> = <
  P extends PathsWithMethod<Paths, M>,
  I extends InitOf<Paths[P], M>,
>(
  url: P,
  ...init: InitParam<I>
) => Promise<OperationResult<FilterKeys<Paths[P], M>, I, Throw, Media>>;

/**
 * The typed client: openapi-fetch's methods plus pagination. It is an
 * openapi-fetch `Client<Paths, Media>` too, so code written for one (and
 * `wrapAsPathBasedClient`) takes it. `Media` narrows what a response with
 * several media types is typed as (openapi-fetch's second type parameter),
 * e.g. `createClient<false, 'application/ld+json'>()`.
 */
// biome-ignore lint/complexity/noBannedTypes: `{}` as openapi-fetch's own clients constrain `paths` (any non-nullish type), and no pages by default.
export interface PorticoClient<Paths extends {}, Pages = {}, Throw extends boolean = false, Media extends MediaType = MediaType>
  extends Client<Paths, Media> {
  GET: Method<Paths, 'get', Throw, Media>;
  PUT: Method<Paths, 'put', Throw, Media>;
  POST: Method<Paths, 'post', Throw, Media>;
  DELETE: Method<Paths, 'delete', Throw, Media>;
  OPTIONS: Method<Paths, 'options', Throw, Media>;
  HEAD: Method<Paths, 'head', Throw, Media>;
  PATCH: Method<Paths, 'patch', Throw, Media>;
  TRACE: Method<Paths, 'trace', Throw, Media>;
  request<M extends HttpMethod, P extends PathsWithMethod<Paths, M>, I extends InitOf<Paths[P], M>>(
    method: M,
    url: P,
    ...init: InitParam<I>
  ): Promise<OperationResult<FilterKeys<Paths[P], M>, I, Throw, Media>>;
  /** Every item of a list operation, page after page, following the provider's own paging. */
  paginate<P extends keyof Pages & PathsWithMethod<Paths, 'get'>>(
    url: P,
    init?: Init<OpParams<Paths, P>, 'get'>,
    options?: PaginateOptions,
  ): AsyncIterableIterator<Pages[P]>;
  use(...middleware: Middleware[]): void;
  eject(...middleware: Middleware[]): void;
}

/** openapi-fetch's `ClientPathsWithMethod`, for a Portico client: the paths that have `M`. */
export type ClientPathsWithMethod<C, M extends HttpMethod> =
  C extends PorticoClient<infer Paths, infer _Pages, infer _Throw, infer _Media> ? PathsWithMethod<Paths, M> : never;

/** openapi-fetch's `MethodResponse`, for a Portico client: the data a call (with `Options`, e.g. `parseAs`) resolves with. */
export type MethodResponse<C, M extends HttpMethod, P extends ClientPathsWithMethod<C, M>, Options = Record<never, never>> =
  C extends PorticoClient<infer Paths, infer _Pages, infer _Throw, infer Media>
    ? NonNullable<OperationResult<FilterKeys<Paths[P & keyof Paths], M>, Options, false, Media>['data']>
    : never;

/** openapi-fetch's `PathBasedClient`, for a Portico client: `client['/posts/{id}'].GET(init)`. */
export type PathBasedClient<Paths extends {}, Throw extends boolean = false, Media extends MediaType = MediaType> = {
  [P in keyof Paths]: {
    [M in keyof Paths[P] & HttpMethod as Uppercase<M>]: <I extends InitOf<Paths[P], M>>(
      ...init: InitParam<I>
    ) => Promise<OperationResult<FilterKeys<Paths[P], M>, I, Throw, Media>>;
  };
};

/**
 * openapi-fetch's path-based client over a Portico client: each path a key,
 * its methods on it. Nothing of it ships to an app that does not import it.
 */
export function wrapAsPathBasedClient<Paths extends {}, Pages, Throw extends boolean, Media extends MediaType>(
  client: PorticoClient<Paths, Pages, Throw, Media>,
): PathBasedClient<Paths, Throw, Media> {
  return wrapFetchClient(client as never) as never;
}

type Upper = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS' | 'HEAD' | 'PATCH' | 'TRACE';
const METHODS: readonly Upper[] = ['GET', 'PUT', 'POST', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH', 'TRACE'];
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'TRACE']);
export const REQUEST_ID_HEADERS = ['x-request-id', 'request-id', 'x-correlation-id', 'x-amzn-requestid'];
const FORM_TYPE = 'application/x-www-form-urlencoded';
/** The options the runtime takes beside openapi-fetch's (`RequestExtras`): not passed on. */
const EXTRAS = new Set(['timeout', 'maxRetries']);
/** The client options that are Portico's, or that the runtime applies itself: the others go to openapi-fetch, which puts fetch's own into every request. */
const OWN_OPTIONS = new Set([
  'baseUrl',
  'fetch',
  'auth',
  'signal',
  'bodySerializer',
  'maxRetries',
  'timeout',
  'maxRetryDelay',
  'maxResponseBytes',
  'validateResponses',
  'throwOnError',
  'logger',
  'logLevel',
  'telemetry',
]);

/** What a call resolves with before its types are applied: openapi-fetch's `{ data, error, response }`. */
type Raw = { data?: unknown; error?: unknown; response: Response };

/** A call's options as the runtime reads them; the rest are openapi-fetch's, passed through. */
interface CallInit extends RequestExtras {
  params?: { path?: Record<string, unknown>; header?: HeadersOptions; [where: string]: unknown };
  headers?: HeadersOptions;
  body?: unknown;
  /** openapi-fetch calls it with the merged headers too, though its types declare only the body. */
  bodySerializer?: (body: unknown, headers: Headers) => BodyInit;
  parseAs?: ParseAs;
  signal?: AbortSignal | null;
  [option: string]: unknown;
}

/** openapi-fetch with string paths: the typed surface is PorticoClient's, checked where the user calls it. */
interface FetchClient {
  request(method: string, path: string, init: object): Promise<Raw>;
  use(...middleware: Middleware[]): void;
  eject(...middleware: Middleware[]): void;
}

/** A client's settings and parts, fixed by createClient. */
export interface ClientState {
  readonly spec: ProviderSpec<AuthProfile | CredentialProfile>;
  readonly transport: Transport;
  /** Times out the attempts of this client's calls. */
  readonly deadlines: DeadlineClock;
  readonly fetchClient: FetchClient;
  /** The middleware `use` added and `eject` did not remove: while there is any, attempts are real Requests for it to see. */
  readonly middleware: Middleware[];
  /** A `Request` class was given: attempts are made with it, never as LeanRequests. */
  readonly ownRequest: boolean;
  readonly headers: HeadersOptions | undefined;
  readonly bodySerializer: CallInit['bodySerializer'];
  readonly signal: AbortSignal | undefined;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly validate: boolean;
  readonly throwOnError: boolean;
  /** Credential values in the client's own options: cut from error messages. */
  readonly ownSecrets: readonly string[];
  /** The spec's validation module, imported on the first response validated. */
  checks?: ReturnType<NonNullable<ProviderSpec['validation']>>;
  /** Its shapes once imported: later responses are checked without a wait. */
  shapes?: Readonly<Record<string, Readonly<Record<string, Shape>>>>;
}

/** Everything about one call that is fixed before its first attempt. */
interface PreparedCall {
  readonly key: string;
  readonly meta: OperationMeta;
  readonly plan: CallPlan;
  /**
   * openapi-fetch's options for each attempt: the caller's, with path
   * defaults, content type and the body already serialized. Each attempt sets
   * its own `fetch` in it: attempts run one after another.
   */
  readonly fetchInit: Record<string, unknown>;
  /** Retries allowed: none unless the request is safe to send twice and its body can be. */
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly userSignal: AbortSignal | undefined;
  /** The caller reads the body through openapi-fetch (`parseAs`): it is not parsed or checked here. */
  readonly callerParses: boolean;
  /** The call's own middleware, after the client's. */
  readonly ownMiddleware: Middleware[] | undefined;
  /** The call's own `Request` class. */
  readonly ownRequest: unknown;
  /** Credentials an error message must not show; walked only when an error is built. */
  readonly secrets: () => readonly string[];
}

/** One attempt's outcome: the response with openapi-fetch's result, or why it failed and whether trying again is safe. */
type Sent =
  | { readonly raw: Raw; readonly response: Response }
  | { readonly failure: TimeoutError | ConnectionError; readonly retryable: true }
  | { readonly failure: unknown; readonly retryable: false };

// How much of a call's options a walk reads: a body may be large, or point back at itself.
const WALK_NODES = 10_000;
const WALK_CHARS = 1 << 20;

/**
 * Each string in `value` (a call's params, headers, body), a few levels
 * deep, with the key it is under; each object once. False when the walk
 * stopped at its budget: what it missed may be anything, so a check that
 * needed all of it fails closed.
 */
export function walkStrings(value: unknown, visit: (key: string, text: string) => void): boolean {
  const seen = new WeakSet<object>();
  let nodes = 0;
  let chars = 0;
  const walk = (key: string, item: unknown, depth: number): boolean => {
    if (++nodes > WALK_NODES) return false;
    if (typeof item === 'string') {
      chars += item.length;
      if (chars > WALK_CHARS) return false;
      visit(key, item);
      return true;
    }
    if (
      depth > 8 ||
      item === null ||
      typeof item !== 'object' ||
      item instanceof ReadableStream ||
      ArrayBuffer.isView(item) ||
      seen.has(item)
    )
      return true;
    seen.add(item);
    if (item instanceof Headers || item instanceof URLSearchParams) {
      for (const [name, text] of item) if (!walk(name, text, depth + 1)) return false;
      return true;
    }
    // Keys first, each value read as the walk gets to it: past the budget the rest is never read.
    for (const name of Object.keys(item)) if (!walk(name, (item as Record<string, unknown>)[name], depth + 1)) return false;
    return true;
  };
  return walk('', value, 0);
}

/** Values of credential-named fields (clientSecret, appSecret, api_key, ...) anywhere in `value`: what a server echo must not carry into an error. */
function credentialValues(value: unknown): string[] {
  const out: string[] = [];
  walkStrings(value, (key, text) => {
    if (isSensitiveKey(key)) out.push(text);
  });
  return out;
}

function envelopeFailure(envelope: Envelope | undefined, body: unknown): boolean {
  if (!envelope || !body || typeof body !== 'object') return false;
  return envelope.failure.some((rule) => resolvePointer(body, rule.pointer) === rule.equals);
}

function xmlCodec(state: ClientState): XmlCodec {
  if (state.spec.xml) return state.spec.xml;
  throw missingXmlCodec();
}

const metaOf = (state: ClientState, key: string): OperationMeta => state.spec.operations[key] ?? state.spec.operationDefaults ?? {};

// The body is serialized before openapi-fetch runs, and handed to it as is:
// the runtime needs the serialized body itself, to send again after a 401 or
// along a redirect, and openapi-fetch keeps nothing but the Request.
const sendAsIs = (body: BodyInit) => body;
// openapi-fetch's default (JSON; form-encoded when the merged content type
// says so) reads the merged headers from a second argument its types leave out.
const serializeDefault: (body: unknown, headers: Headers | undefined) => string = defaultBodySerializer;

/**
 * How the request body goes out: form-encoded (`formBody`), as XML where a
 * representation parameter picks an XML type, else by the caller's
 * serializer or openapi-fetch's default, each given the merged headers as
 * openapi-fetch would.
 */
function serializeBody(
  state: ClientState,
  meta: OperationMeta,
  init: CallInit,
  headers: HeadersOptions | undefined,
  xmlType: string | undefined,
): BodyInit {
  const { body } = init;
  const bodySerializer = init.bodySerializer ?? state.bodySerializer;
  if (meta.formBody && bodySerializer === undefined) return serializeForm(body);
  if (xmlType !== undefined) return xmlCodec(state).encode(body, meta.representation!.body!);
  if (bodySerializer) return bodySerializer(body, mergeHeaders(state.headers, headers, init.params?.header));
  // Merging costs a Headers object: only when there are headers to merge.
  const merged =
    state.headers !== undefined || headers !== undefined || init.params?.header !== undefined
      ? mergeHeaders(state.headers, headers, init.params?.header)
      : undefined;
  return serializeDefault(body, merged);
}

// A path segment URL parsers and servers resolve away, moving the request
// (and its credential) up the path: empty, `.` or `..`, with `%2e` for a dot
// in any case and under any number of `%25` (a proxy may decode once more).
// openapi-fetch percent-encodes every other character a value could use to
// leave its segment (`/`, `?`, `#`, `\`, `%`).
const DOT_SEGMENT = /^(?:\.|%(?:25)*2e){0,2}$/i;

const isScalar = (value: unknown) => typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';

/**
 * The path parameters as they will be sent: each a scalar, or an array of
 * them (checked as openapi-fetch joins it), never a dot segment. An object
 * would be written out by its keys, unencoded, where `../` moves the
 * request; a value the serializer skips (undefined) is left out.
 */
function checkedPath(path: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, given] of Object.entries(path)) {
    const value = Array.isArray(given) ? [...given] : given;
    if (value === undefined) continue;
    if (!(isScalar(value) || (Array.isArray(value) && value.every(isScalar))))
      throw new ConfigurationError(`path parameter ${name} must be a string, number or boolean, or an array of them`);
    if (DOT_SEGMENT.test(String(value))) throw new ConfigurationError(`path parameter ${name} may not be empty, "." or ".."`);
    out[name] = value;
  }
  return out;
}

/**
 * The credential an operation with `security` takes: the client's own
 * Authenticator chooses among the schemes it holds; one without `select`
 * (OAuth's, a session) stands for the profile's OAuth scheme.
 */
function chosenFor(state: ClientState, security: readonly (readonly string[])[]): Authenticator | undefined {
  const held = state.transport.authenticator;
  if (!held) return undefined;
  if (held.select) return held.select(security);
  const scheme = (state.spec.auth as { securityScheme?: string }).securityScheme;
  // Without an OAuth scheme (a profile of held credentials only), the user's own Authenticator answers for every requirement.
  return scheme === undefined || security.some((schemes) => schemes.length === 1 && schemes[0] === scheme) ? held : undefined;
}

/** Step 1: everything a call's attempts share, from the spec's metadata and the caller's options. */
function prepare(state: ClientState, method: string, path: string, init: CallInit): PreparedCall {
  const key = `${method} ${path}`;
  const meta = metaOf(state, key);
  const given = init.params;
  // The path values as checked are the ones sent: each is read once into a
  // copy of our own, so a getter or a Proxy cannot answer the check one way
  // and the serializer another.
  const pathParams = given?.path === undefined && !meta.defaults ? undefined : checkedPath({ ...meta.defaults, ...given?.path });
  const params = pathParams === undefined ? given : { ...given, path: pathParams };
  // A form body is form-encoded whatever the representation.
  const xmlType =
    meta.formBody || init.body === undefined || meta.representation?.body === undefined
      ? undefined
      : xmlCodec(state).requestType(meta.representation, params?.path);
  let headers = init.headers;
  if (xmlType !== undefined) headers = mergeHeaders(headers, { 'content-type': xmlType });
  else if (meta.formBody) {
    const merged = mergeHeaders(headers);
    if (!merged.has('content-type')) merged.set('content-type', FORM_TYPE);
    headers = merged;
  }
  const body = init.body === undefined ? undefined : serializeBody(state, meta, init, headers, xmlType);
  const replayable = !(body instanceof ReadableStream);
  const authenticator = meta.security && chosenFor(state, meta.security);
  const plan: CallPlan = {
    method,
    path,
    requiresAuth: meta.security ? authenticator !== undefined : meta.requiresAuth === true,
    authenticator,
    replayBody: replayable ? body : undefined,
    replayable,
    fetch: init.fetch as CallPlan['fetch'],
  };

  // Parsed here, within maxResponseBytes and by content type (see `read`), unless the caller asked openapi-fetch to.
  const fetchInit: Record<string, unknown> = {
    params,
    headers,
    body,
    bodySerializer: sendAsIs,
    parseAs: init.parseAs ?? 'stream',
    // Set by each attempt (see `send`).
    fetch: undefined,
    Request: undefined,
    middleware: undefined,
  };
  // The caller's other options, copied one by one: a rest pattern and spreads
  // made slow-mode objects, and copying them took a tenth of a stubbed call.
  for (const option of Object.keys(init)) if (!(option in fetchInit) && !EXTRAS.has(option)) fetchInit[option] = init[option];
  // A redirect would carry the token to wherever it points, with any header
  // a custom fetch keeps: requests that carry one are never redirected by
  // fetch, and the transport follows them itself.
  if (plan.requiresAuth && (authenticator ?? state.transport.authenticator)) fetchInit.redirect = 'manual';
  return {
    key,
    meta,
    plan,
    fetchInit,
    maxRetries: (IDEMPOTENT.has(method) || meta.retrySafe === true) && replayable ? (init.maxRetries ?? state.maxRetries) : 0,
    timeoutMs: init.timeout ?? state.timeoutMs,
    userSignal: init.signal ?? state.signal,
    callerParses: init.parseAs !== undefined,
    ownMiddleware: init.middleware as Middleware[] | undefined,
    ownRequest: init.Request,
    secrets: () => [...state.ownSecrets, ...state.transport.sent, ...credentialValues([init.body, init.params, init.headers])],
  };
}

/**
 * What openapi-fetch gets to see of a response. It reads an error body whole,
 * with no size limit (an endless one until the timeout, in memory); its
 * extension points cannot stop that (a response middleware runs after the
 * fetch this is, costs every call an id and a frozen options object, and
 * could only do the same swap): so, unless the caller asked it to parse, it
 * gets an empty stand-in with the same status and headers, and `read`
 * parses the real body within maxResponseBytes.
 */
function forOpenapiFetch(response: Response, callerParses: boolean): Response | Promise<never> {
  // Node's HTTP parser takes any three digits; RFC 9110 §15 and the Response constructor stop at 599.
  if (response.status > 599) {
    const error = new ResponseParseError({
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: '',
      reason: 'HTTP status codes end at 599',
    });
    return (response.body?.cancel() ?? Promise.resolve()).then(() => Promise.reject(error));
  }
  if (response.ok || callerParses || response.status < 200) return response;
  return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
}

/**
 * One attempt as middleware sees it: the response `received` from the API,
 * its body read within maxResponseBytes (`bytes`, unless the caller parses),
 * the copy of it `handed` to the middleware, and the response the middleware
 * `settled` on, which the caller gets.
 */
interface Seen {
  received?: Response;
  bytes?: Uint8Array;
  handed?: Response;
  settled?: Response;
  readonly callerParses: boolean;
}

/** The fetch openapi-fetch is given for an attempt that middleware sees: its `options.fetch`, by which `settle` finds the attempt. */
type SeenFetch = ((request: OutgoingRequest, ext?: RequestInit) => Promise<Response>) & { readonly seen: Seen };

/** A response with `bytes` for its body and `from`'s status, headers and URL. */
function withBody(from: Response, bytes: Uint8Array): Response {
  // RFC 9110 §15.3.5, §15.4.5: these carry no content, and the Response constructor refuses any.
  const empty = from.status === 204 || from.status === 205 || from.status === 304;
  const copy = new Response(empty ? null : (bytes as Uint8Array<ArrayBuffer>), {
    status: from.status,
    statusText: from.statusText,
    headers: from.headers,
  });
  Object.defineProperty(copy, 'url', { value: from.url });
  return copy;
}

/**
 * The client's first middleware while it has any, so its onResponse runs
 * after every other: it notes the response they settled on (a fresh copy of
 * the received one when they returned none and read, or hold a reader on,
 * the copy they were handed), and gives openapi-fetch what
 * `forOpenapiFetch` lets it see of that.
 */
const settle: Middleware = {
  onResponse({ response, options }) {
    const { seen } = options.fetch as unknown as Partial<SeenFetch>;
    // An attempt that began before the client had middleware has nothing to settle.
    if (seen === undefined) return undefined;
    const spent = response === seen.handed && seen.bytes !== undefined && (response.bodyUsed || response.body?.locked === true);
    seen.settled = spent ? withBody(seen.received!, seen.bytes!) : response;
    return forOpenapiFetch(seen.settled, seen.callerParses);
  },
};

/** One of Portico's errors; `instanceof` itself throws on some foreign values (a revoked Proxy). */
function isOwn(error: unknown): boolean {
  try {
    return error instanceof PorticoError;
  } catch {
    return false;
  }
}

/** A body read cut off by the network (fetch's TypeError) is a ConnectionError; a timeout or an oversized body is itself. */
function bodyFailure(call: PreparedCall, error: unknown, response: Response | undefined): unknown {
  if (error instanceof TypeError) return new ConnectionError(call.plan.method, call.plan.path, error, call.secrets());
  // openapi-fetch parsing a body a caller asked it to (`parseAs: 'json'`) that is not JSON: typed, as Portico's own parsing is.
  if (error instanceof SyntaxError && response !== undefined)
    return new ResponseParseError({
      status: response.status,
      contentType: response.headers.get('content-type') ?? '',
      body: '',
      reason: 'the body is not valid JSON',
    });
  return error;
}

/** A body, within maxResponseBytes and the attempt's deadline. */
function readWhole(state: ClientState, call: PreparedCall, deadline: Deadline, response: Response): Promise<Uint8Array> {
  return deadline
    .race(() => readLimited(response, state.maxBytes, MAX_BYTES_HINT))
    .catch((error: unknown) => {
      throw deadline.timedOut ?? bodyFailure(call, error, response);
    });
}

/** openapi-fetch reads this body itself (a caller's `parseAs`): all but a 2xx stream, handed over as it comes. */
function readByOpenapiFetch(call: PreparedCall, response: Response): boolean {
  return call.callerParses && response.status <= 599 && !(call.fetchInit.parseAs === 'stream' && response.ok);
}

/** Step 2: one attempt through openapi-fetch, with the transport as its fetch; resolves once the headers are in. */
async function send(state: ClientState, call: PreparedCall, deadline: Deadline, attempt: number): Promise<Sent> {
  const { transport } = state;
  const { method, path } = call.plan;
  let received: Response | undefined;
  const deliverOnce = async (request: OutgoingRequest, ext?: RequestInit) => {
    try {
      // A middleware's Request, or one of a custom class, is rebuilt before it
      // carries the credential: as fetch reads it (its URL, not what a getter
      // says), and never to be redirected by fetch itself. What it carried
      // beside the request (an undici dispatcher, say) goes along.
      if (call.plan.requiresAuth && (call.plan.authenticator ?? transport.authenticator) && !(request instanceof LeanRequest)) {
        ext = { ...ext, ...request };
        const { replayBody } = call.plan;
        request = new Request(
          request as Request,
          replayBody === undefined ? { redirect: 'manual' } : { redirect: 'manual', body: replayBody },
        );
      }
      received = await deliver(transport, request, call.plan, deadline, ext);
    } catch (error) {
      // Token errors (re-authorization needed, a rejected grant) are not transport failures: they reach the caller as they are.
      throw deadline.aborted || isOwn(error) ? error : new ConnectionError(method, path, error, call.secrets());
    }
    return received;
  };
  // Decided per attempt, as openapi-fetch takes its middleware list: `use` or `eject` during a retry's wait counts from the next attempt.
  const { ownMiddleware } = call;
  const middleware = state.middleware.length > 0 || (ownMiddleware !== undefined && ownMiddleware.length > 0);
  const { fetchInit } = call;
  // Unset, openapi-fetch makes real Requests with the client's class (or the global one).
  fetchInit.Request = call.ownRequest ?? (middleware || state.ownRequest ? undefined : LeanRequest);
  // The settling middleware is the client's first while it has any; a call's own comes after the client's.
  fetchInit.middleware = middleware && state.middleware.length === 0 ? [settle, ...ownMiddleware!] : ownMiddleware;
  const seen: Seen | undefined = middleware ? { callerParses: call.callerParses } : undefined;
  fetchInit.fetch = seen
    ? Object.assign(
        async (request: OutgoingRequest, ext?: RequestInit) => {
          const response = await deliverOnce(request, ext);
          seen.received = response;
          // A stream the caller takes as it comes, and a status of 600 or more that `settle` refuses, are handed over unread.
          if (response.status > 599 || (call.callerParses && !readByOpenapiFetch(call, response))) return response;
          // Read first: middleware that reads the copy, or holds a reader on it, then costs nothing.
          seen.bytes = await readWhole(state, call, deadline, response);
          seen.handed = withBody(response, seen.bytes);
          return seen.handed;
        },
        { seen },
      )
    : async (request: OutgoingRequest, ext?: RequestInit) => {
        const response = await deliverOnce(request, ext);
        return readByOpenapiFetch(call, response)
          ? withBody(response, await readWhole(state, call, deadline, response))
          : forOpenapiFetch(response, call.callerParses);
      };
  // Guarded: the fields object alone is a cost every call would pay with logging off.
  const started = transport.log ? Date.now() : 0;
  if (transport.log) emit(transport.log, 'debug', 'request', { method, path, attempt: attempt + 1 });
  try {
    const raw = await state.fetchClient.request(method, path, fetchInit);
    // A request middleware may answer without calling fetch; an error middleware, with a response of its own.
    const response = seen?.settled ?? received ?? raw.response;
    if (transport.log)
      emit(transport.log, 'info', 'response', { method, path, status: response.status, ms: Date.now() - started, attempt: attempt + 1 });
    return { raw, response };
  } catch (error) {
    if (call.userSignal?.aborted) throw call.userSignal.reason ?? error;
    // Failures before the headers may be tried again; once openapi-fetch reads the body (`parseAs`), they end the call.
    if (deadline.timedOut)
      return received === undefined ? { failure: deadline.timedOut, retryable: true } : { failure: deadline.timedOut, retryable: false };
    if (received === undefined)
      return error instanceof ConnectionError ? { failure: error, retryable: true } : { failure: error, retryable: false };
    return { failure: bodyFailure(call, error, received), retryable: false };
  }
}

/** Step 3: the body, parsed by content type within maxResponseBytes, while the attempt's deadline still runs. */
async function read(state: ClientState, call: PreparedCall, raw: Raw, response: Response, deadline: Deadline): Promise<Raw> {
  if (call.callerParses) return raw;
  const shape = call.meta.shapes?.[String(response.status)] ?? call.meta.shapes?.default;
  const parse = { shape, xml: state.spec.xml, accepts: call.meta.accepts, maxBytes: state.maxBytes, secrets: call.secrets };
  try {
    if (response.ok) return raw.data === undefined ? raw : { data: await deadline.race(() => parseBody(response, parse)), response };
    // The stand-in openapi-fetch saw; a proxy's HTML page is as much a failed response as a JSON error body.
    if (response !== raw.response) return { error: await deadline.race(() => parseBody(response, { ...parse, orText: true })), response };
    return raw;
  } catch (error) {
    if (call.userSignal?.aborted) throw error;
    // The deadline covers reading the body too; a body cut off by it is a timeout.
    if (deadline.timedOut) throw deadline.timedOut;
    // Fetch reports a network failure as a TypeError; once the headers are in, that is the body being cut off (a reset, a closed socket).
    if (error instanceof TypeError) throw new ConnectionError(call.plan.method, call.plan.path, error, call.secrets());
    throw error;
  }
}

/** Waits before the next attempt, saying why; a caller's abort ends the wait. */
async function backOff(state: ClientState, call: PreparedCall, delay: number, fields: Record<string, unknown>): Promise<void> {
  emit(state.transport.log, 'warn', 'retrying', { method: call.plan.method, path: call.plan.path, ...fields, delayMs: Math.round(delay) });
  await sleep(delay, call.userSignal);
}

/** Steps 2 and 3 for each attempt, until one is final: a response not worth retrying, or a failure that cannot be. */
async function exchange(state: ClientState, call: PreparedCall): Promise<Raw> {
  const { method, path } = call.plan;
  for (let attempt = 0; ; attempt++) {
    const deadline = new Deadline(state.deadlines, call.timeoutMs, call.userSignal, () => new TimeoutError(method, path, call.timeoutMs));
    try {
      const sent = await send(state, call, deadline, attempt);
      if ('failure' in sent) {
        if (!sent.retryable) throw sent.failure;
        if (attempt >= call.maxRetries) {
          emit(state.transport.log, 'error', sent.failure.message, { method, path, attempt: attempt + 1 });
          throw sent.failure;
        }
        deadline.stop();
        await backOff(state, call, backoffMs(attempt), { reason: sent.failure.code, attempt: attempt + 1 });
        continue;
      }
      const delay = attempt < call.maxRetries ? retryDelayAfter(state.transport, call.plan, sent.response, attempt) : undefined;
      if (delay === undefined) return await read(state, call, sent.raw, sent.response, deadline);
      deadline.stop();
      // Not awaited: a body a middleware still holds a reader on would never finish cancelling.
      sent.response.body?.cancel().catch(() => undefined);
      await backOff(state, call, delay, { status: sent.response.status, attempt: attempt + 1 });
    } finally {
      deadline.stop();
    }
  }
}

/**
 * Step 4: a 2xx body that the provider's envelope marks as a failure becomes
 * the error; other 2xx bodies must carry the fields the spec requires. Waits
 * only for the first import of the validation module.
 */
function check(state: ClientState, call: PreparedCall, raw: Raw): Raw | Promise<Raw> {
  const { response } = raw;
  if (call.callerParses || !response.ok) return raw;
  if (envelopeFailure(state.spec.envelope, raw.data)) return { error: raw.data, response };
  if (raw.data === undefined || !state.validate) return raw;
  const status = String(response.status);
  const own = checkOf(call.meta.shapes, status, response, call.meta);
  if (own !== undefined || !state.spec.validation) return validated(call, raw, own);
  if (state.shapes !== undefined) return validated(call, raw, checkOf(state.shapes[call.key], status, response, call.meta));
  return validationShapes(state).then((shapes) => validated(call, raw, checkOf(shapes[call.key], status, response, call.meta)));
}

/**
 * The checks of a 2xx body: its status's; where the spec negotiates
 * content, its status's for the media type that came back, or, when that
 * type has none (missing, unlisted, several), all of that status's, of which
 * the body must pass one: a server does not get to turn validation off.
 */
function checkOf(
  shapes: Readonly<Record<string, Shape>> | undefined,
  status: string,
  response: Response,
  meta: OperationMeta,
): Shape | readonly Shape[] | undefined {
  if (shapes === undefined) return undefined;
  const type = mediaTypeOf(response.headers.get('content-type') ?? '');
  const own = shapes[status] ?? shapes[`${status} ${type}`];
  // A body of a non-JSON type the operation declares (text, say) is checked by none of the JSON schemas.
  if (own !== undefined || meta.accepts?.includes(type)) return own;
  const negotiated = Object.keys(shapes)
    .filter((key) => key.startsWith(`${status} `))
    .map((key) => shapes[key]!);
  return negotiated.length > 0 ? negotiated : undefined;
}

const NO_SHAPES: readonly Shape[] = [];

function validated(call: PreparedCall, raw: Raw, checks: Shape | readonly Shape[] | undefined): Raw {
  if (checks === undefined) return raw;
  // One shape is nearly every check: no array made for it.
  const all: readonly Shape[] = Array.isArray(checks) ? checks : NO_SHAPES;
  let problems = all.length === 0 ? shapeProblems(raw.data, checks as Shape) : shapeProblems(raw.data, all[0]!);
  for (let i = 1; problems.length > 0 && i < all.length; i++) if (shapeProblems(raw.data, all[i]!).length === 0) problems = [];
  if (problems.length) throw new ResponseValidationError(raw.response.status, call.plan.method, call.plan.path, problems);
  return raw;
}

/** The spec's validation module's shapes: imported once; a failed import (a chunk that did not load) is tried again on the next response. */
async function validationShapes(state: ClientState): Promise<NonNullable<ClientState['shapes']>> {
  state.checks ??= state.spec.validation!().catch((error: unknown) => {
    state.checks = undefined;
    throw error;
  });
  state.shapes = (await state.checks).default;
  return state.shapes;
}

/** Step 5: in the throwing style, any failure is an ApiError; otherwise openapi-fetch's `{ data, error, response }`. */
function finish(state: ClientState, call: PreparedCall, raw: Raw): Raw {
  // An error status with an empty body leaves `error` undefined (as in openapi-fetch), but is no less an error.
  if (state.throwOnError && (raw.error !== undefined || !raw.response.ok))
    throw errorFor(state, raw.error, raw.response, call.plan.method, call.plan.path, call.secrets());
  return raw;
}

function errorFor(state: ClientState, body: unknown, response: Response, method: string, path: string, secrets: readonly string[]): Error {
  const requestId = REQUEST_ID_HEADERS.map((name) => response.headers.get(name)).find((value) => value) ?? undefined;
  const fields = { status: response.status, body, method, path, requestId, secrets };
  if (!response.ok) return apiErrorFor(fields);
  const envelope = state.spec.envelope!;
  const message = envelope.message ? resolvePointer(body, envelope.message) : undefined;
  return new EnvelopeError({
    ...fields,
    message: typeof message === 'string' ? message : undefined,
    providerCode: envelope.code ? resolvePointer(body, envelope.code) : undefined,
  });
}

/** One call, top to bottom. */
async function call(state: ClientState, method: string, path: string, init: CallInit = {}): Promise<Raw> {
  const prepared = prepare(state, method, path, init);
  const checked = check(state, prepared, await exchange(state, prepared));
  // Awaited only when it is a promise: a value costs an await a turn of the microtask queue.
  return finish(state, prepared, checked instanceof Promise ? await checked : checked);
}

/**
 * Binds a provider's generated spec constants to openapi-fetch. The provider
 * package exports the result as its `createClient`.
 */
// biome-ignore lint/complexity/noBannedTypes: the same `{}` constraints as PorticoClient.
export function defineClient<Paths extends {}, Auth = AuthInput, Pages = {}, Profile extends AuthProfile | CredentialProfile = AuthProfile>(
  spec: ProviderSpec<Profile>,
  // Passed in by the provider package (e.g. `authenticatorFor(clientCredentials)`), so a bundle carries only its own kinds of auth.
  authenticate: (profile: Profile, input: Auth, ctx: AuthenticatorContext) => Authenticator,
) {
  return function createClient<Throw extends boolean = false, Media extends MediaType = MediaType>(
    options: ClientOptions<Auth, Throw> = {},
  ): PorticoClient<Paths, Pages, Throw, Media> {
    // The URL as parsed, not as written: what the origin and scheme checks see is what requests go to.
    const base = URL.parse(options.baseUrl ?? spec.defaultBaseUrl);
    if (base === null) throw new ConfigurationError('baseUrl must be an absolute URL, e.g. https://api.example.com/v1');
    const baseUrl = base.href.replace(/\/+$/, '');
    const baseFetch = options.fetch ?? globalThis.fetch;
    // openapi-fetch's options go to it as they are; never Portico's, since it copies what it does not know into every request.
    const fetchOptions: Record<string, unknown> = { baseUrl, fetch: baseFetch };
    for (const option of Object.keys(options)) if (!OWN_OPTIONS.has(option)) fetchOptions[option] = options[option as keyof typeof options];
    // The provider's constant headers (an API version) go first, so a client's own header of the same name wins.
    const constant = spec.auth.headers;
    if (constant) fetchOptions.headers = mergeHeaders(constant, options.headers);
    // Paths are typed where the user calls PorticoClient's methods; inside, a path is any string.
    const fetchClient = createFetchClient<Paths>(fetchOptions) as unknown as FetchClient;
    const state: ClientState = {
      spec,
      transport: {
        fetch: (request, init) => baseFetch(request, init),
        authenticator: options.auth === undefined ? undefined : authenticate(spec.auth, options.auth, { baseUrl, fetch: baseFetch }),
        ownOrigin: base.origin,
        maxRetryDelayMs: options.maxRetryDelay ?? 60_000,
        log: createLog(options.logger, options.logLevel),
        sent: new Set(),
      },
      deadlines: new DeadlineClock(),
      fetchClient,
      middleware: [],
      ownRequest: options.Request !== undefined,
      headers: fetchOptions.headers as ClientOptions<Auth>['headers'],
      bodySerializer: options.bodySerializer as CallInit['bodySerializer'],
      signal: options.signal ?? undefined,
      maxRetries: options.maxRetries ?? 2,
      timeoutMs: options.timeout ?? 60_000,
      maxBytes: options.maxResponseBytes ?? 8 * 1024 * 1024,
      validate: options.validateResponses !== false,
      throwOnError: options.throwOnError === true,
      ownSecrets: credentialValues([options.auth, options.headers]),
    };
    // A credential known now (one the user holds, under whatever field name) is redacted from the start, not from its first send.
    const known = state.transport.authenticator?.cachedAuthorization?.();
    if (known) remember(state.transport, known);
    const client = {
      use: (...middleware: Middleware[]) => {
        const added = middleware.filter(Boolean);
        if (added.length > 0 && state.middleware.length === 0) fetchClient.use(settle);
        try {
          fetchClient.use(...middleware);
        } catch (error) {
          // openapi-fetch refuses a middleware with no hook after taking the ones before it: none is taken.
          fetchClient.eject(...middleware);
          if (state.middleware.length === 0) fetchClient.eject(settle);
          throw error;
        }
        state.middleware.push(...added);
      },
      eject: (...middleware: Middleware[]) => {
        fetchClient.eject(...middleware);
        for (const removed of middleware) {
          const at = state.middleware.indexOf(removed);
          if (at !== -1) state.middleware.splice(at, 1);
        }
        if (state.middleware.length === 0) fetchClient.eject(settle);
      },
      request: (method: string, path: string, init?: CallInit) => call(state, method.toUpperCase(), path, init),
      paginate: (path: string, init: CallInit | undefined, paging?: PaginateOptions) => {
        const rules = metaOf(state, `GET ${path}`).pagination;
        if (!rules || !spec.paginate) throw new TypeError(`GET ${path} is not a paginated operation of ${spec.slug}`);
        return spec.paginate(
          rules,
          (next) => call(state, 'GET', path, next),
          init ?? {},
          paging ?? {},
          (body, response) =>
            errorFor(state, body, response, 'GET', path, [...state.ownSecrets, ...state.transport.sent, ...credentialValues(init)]),
        );
      },
      ...Object.fromEntries(METHODS.map((method) => [method, (path: string, init?: CallInit) => call(state, method, path, init)])),
    };
    options.telemetry?.(client, state);
    // The methods' types come from Paths; the implementation takes any path string.
    return client as unknown as PorticoClient<Paths, Pages, Throw, Media>;
  };
}
