// OpenTelemetry traces and metrics of a Portico client, through
// `@opentelemetry/api` (an optional peer dependency): `createClient({
// telemetry: openTelemetry() })`. A module of its own, so a client made
// without it carries none of this code and takes none of these steps: it
// wraps the new client's methods, and its transport's fetch, authenticator
// and log hook, which the call path already goes through.
//
// What is recorded is chosen, never copied: method, path template, host and
// port, status, Portico's error codes, retry decisions, and the URL with
// every credential in its query redacted. Never a header value (but a
// request id, checked), a body or a secret.
import {
  type Attributes,
  type AttributeValue,
  type Context,
  type Counter,
  context,
  createContextKey,
  type Exception,
  type Histogram,
  INVALID_SPAN_CONTEXT,
  type Link,
  type MeterProvider,
  metrics,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  type SpanStatus,
  SpanStatusCode,
  type TextMapSetter,
  type TimeInput,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { type Authenticator, type AuthTelemetry, PorticoError } from '@portico/auth';
import { heldSecrets, isSensitiveKey, observe, redactSecrets, spellings } from '@portico/auth/internal';
import { type ClientState, type Instrumentation, REQUEST_ID_HEADERS, walkStrings } from './client.js';
import { apiErrorFor } from './errors.js';
import type { Log } from './log.js';
import { retryAfterMs, type Transport } from './transport.js';

export interface TelemetryOptions {
  /** Where spans go; the global one (`trace.getTracerProvider()`, a no-op until an SDK registers one) by default. */
  tracerProvider?: TracerProvider;
  /** Where metrics go; the global one (`metrics.getMeterProvider()`) by default. */
  meterProvider?: MeterProvider;
  /**
   * Put the W3C trace context (the global propagator's headers, such as
   * `traceparent`) on requests to other origins too: a redirect's target, a
   * call's own `baseUrl`, and requests whose redirects fetch follows itself.
   * Off by default: the context goes only to the client's own origin, on
   * requests whose redirects Portico follows hop by hop.
   */
  propagateToOtherOrigins?: boolean;
  /**
   * Send the application's W3C baggage (the `baggage` header a baggage
   * propagator writes) with the trace context. Off by default: baggage is
   * the application's own key-value data (a user id, a tenant), and the
   * provider is a third party; the trace context itself still goes.
   */
  propagateBaggage?: boolean;
  /**
   * Show query values in `url.full`. Off by default: a query often carries
   * personal data (an email, a name, an account id), so each value is
   * `REDACTED` and only the names are kept. Credential-named and signature
   * parameters stay `REDACTED` either way.
   */
  recordQueryValues?: boolean;
}

const NAME = '@portico/runtime';
// The conventions' buckets for http.client.request.duration (seconds).
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
// RFC 9110 and 5789 methods; anything else is `_OTHER`, named `HTTP` (the conventions' rule).
const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH', 'QUERY']);
// Query parameters the conventions say are signatures, beside every credential-named one (isSensitiveKey).
const SIGNED = new Set([
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
  'AWSAccessKeyId',
  'Signature',
  'sig',
  'X-Goog-Signature',
]);
const REDACTED = 'REDACTED';
// A request id or provider code is an identifier: short, and of these characters; anything else is not recorded.
const IDENTIFIER = /^[\w.:/+=@-]{1,128}$/;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// An echo of a string under 8 characters is no secret; one over 128 cannot sit inside an identifier.
const MIN_ECHO = 8;
const MAX_ECHO = 128;
// What a propagator may write: an RFC 9110 field name and a value of visible ASCII (no CR, LF or NUL), never a credential,
// what frames the body or the connection's own fields (RFC 9110 §7.6.1, 9112 §6.1; fetch fails on some of them).
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;
const UNSETTABLE = /^(authorization|proxy-.*|cookie|host|content-.*|transfer-encoding|connection|keep-alive|upgrade|expect|te|trailer)$/i;
const settable = (name: unknown): name is string => typeof name === 'string' && FIELD_NAME.test(name) && !UNSETTABLE.test(name);

/**
 * A client's telemetry, on until a call to its tracer, meter or propagator
 * throws: then off for good, so no fault of theirs changes a call's result,
 * its retries or what is sent.
 */
class Switch {
  on = true;

  run<T>(work: () => T, otherwise: T): T {
    if (!this.on) return otherwise;
    try {
      return work();
    } catch {
      this.on = false;
      return otherwise;
    }
  }
}

type Forwarded =
  | 'setAttribute'
  | 'setAttributes'
  | 'addEvent'
  | 'addLink'
  | 'addLinks'
  | 'setStatus'
  | 'updateName'
  | 'end'
  | 'recordException';

/**
 * A span whose every method goes through the client's switch: a throwing or
 * junk span turns telemetry off, never fails a call. Each method forwards
 * through one guarded call, with no closure made per call: a request calls
 * several.
 */
class GuardedSpan implements Span {
  constructor(
    readonly inner: Span | undefined,
    readonly guard: Switch,
  ) {}

  #do(method: Forwarded, a?: unknown, b?: unknown, c?: unknown): this {
    if (this.guard.on)
      try {
        (this.inner as unknown as Record<Forwarded, (a: unknown, b: unknown, c: unknown) => unknown>)[method](a, b, c);
      } catch {
        this.guard.on = false;
      }
    return this;
  }

  spanContext(): SpanContext {
    if (this.guard.on)
      try {
        return this.inner!.spanContext();
      } catch {
        this.guard.on = false;
      }
    return INVALID_SPAN_CONTEXT;
  }
  setAttribute(key: string, value: AttributeValue): this {
    return this.#do('setAttribute', key, value);
  }
  setAttributes(attributes: Attributes): this {
    return this.#do('setAttributes', attributes);
  }
  addEvent(name: string, attributes?: Attributes | TimeInput, time?: TimeInput): this {
    return this.#do('addEvent', name, attributes, time);
  }
  addLink(link: Link): this {
    return this.#do('addLink', link);
  }
  addLinks(links: Link[]): this {
    return this.#do('addLinks', links);
  }
  setStatus(status: SpanStatus): this {
    return this.#do('setStatus', status);
  }
  updateName(name: string): this {
    return this.#do('updateName', name);
  }
  end(time?: TimeInput): void {
    this.#do('end', time);
  }
  isRecording(): boolean {
    return this.guard.run(() => this.inner!.isRecording() === true, false);
  }
  recordException(exception: Exception, time?: TimeInput): void {
    this.#do('recordException', exception, time);
  }
}

/** What a call was given, walked once: its credential-named values, and every string an identifier could repeat. */
interface Inputs {
  readonly own: readonly string[];
  readonly given: readonly string[];
  /** False when the walk stopped at its budget: an identifier is then never recorded (it might repeat what was not read). */
  readonly complete: boolean;
}

function inputsOf(init: unknown): Inputs {
  const own: string[] = [];
  const given = new Set<string>();
  const complete = walkStrings(init, (key, text) => {
    if (isSensitiveKey(key)) own.push(text);
    if (text.length >= MIN_ECHO && text.length <= MAX_ECHO) given.add(text);
  });
  return { own, given: [...given], complete };
}

/** Every spelling of `texts` (as the wire has them, and Base64) short enough to sit inside an identifier, in lower case: an identifier is compared without case. */
const needlesOf = (texts: readonly string[]): string[] =>
  texts
    .filter((text) => text.length >= MIN_ECHO && text.length <= MAX_ECHO)
    .flatMap((text) => [...spellings(text), ...base64Of(text)].filter((n) => n.length <= MAX_ECHO).map((n) => n.toLowerCase()));

/** `text` in Base64 (without padding), as a server may echo a token; none for text outside Latin-1. */
function base64Of(text: string): string[] {
  try {
    return [btoa(text).replace(/=+$/, '')];
  } catch {
    return [];
  }
}

/**
 * One call, or one page of a walk: the span its requests and waits hang
 * under. Its requests find it through the fetch the call is given, not
 * through the active context, which costs a lookup per request.
 */
class Call {
  /** The span's context, which holds the call itself: the waits a log line or the authenticator report find it there. */
  context: Context = ROOT_CONTEXT;
  /** The first request's URL: later requests to it are the operation's, a redirect's are not. */
  url: string | undefined = undefined;
  sends = 0;
  /** The last response's status, and its headers: a retry reads its Retry-After only when there is one. */
  status: number | undefined = undefined;
  headers: Headers | undefined = undefined;
  /** A retry's wait, until the next request or the end of the call. */
  wait: Span | undefined = undefined;
  #inputs: Inputs | undefined;
  #echoes: readonly string[] | undefined;

  constructor(
    readonly span: Span,
    readonly method: string,
    readonly template: string,
    /** The options the caller gave: walked only when something is recorded that might repeat them. */
    readonly init: unknown,
  ) {}

  /** The call's own credential-named inputs (cut from `url.full`), and what a request id or error code must not repeat. */
  inputs(): Inputs {
    this.#inputs ??= inputsOf(this.init);
    return this.#inputs;
  }

  /** The spellings of every string the call was given: made only when an identifier is about to be recorded. */
  echoes(): readonly string[] {
    this.#echoes ??= needlesOf(this.inputs().given);
    return this.#echoes;
  }
}

/** A `paginate` walk: its pages are calls under its span. */
class Walk {
  context: Context = ROOT_CONTEXT;
  page: Call | undefined = undefined;
  pages = 0;

  constructor(
    readonly span: Span,
    readonly template: string,
    readonly init: unknown,
  ) {}
}

// A context key, not a map from spans: a WeakMap keyed by short-lived spans made every scavenge slower (ephemerons), most of the instrumentation's cost on a loopback call.
const SCOPE = createContextKey('portico call');
const scopeOf = (active: Context) => active.getValue(SCOPE) as Call | Walk | undefined;

/** The call a wait belongs to: the active one, or the page a walk is on. */
function currentCall(): Call | undefined {
  const scope = scopeOf(context.active());
  return scope instanceof Walk ? scope.page : scope;
}

const scratchSetter: TextMapSetter<Record<string, unknown>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const methodOf = (method: string) => (KNOWN_METHODS.has(method) ? method : '_OTHER');
const spanName = (method: string, template?: string) => {
  const known = KNOWN_METHODS.has(method) ? method : 'HTTP';
  return template === undefined ? known : `${known} ${template}`;
};

/**
 * The conventions' `error.type` for a failure: Portico's stable `code`, or
 * `_OTHER`; a foreign error's name or code is the thrower's text, never
 * copied. A caller's abort is no error.
 */
function errorType(error: unknown): string | undefined {
  if (error instanceof Error && error.name === 'AbortError') return undefined;
  return error instanceof PorticoError && IDENTIFIER.test(error.code) ? error.code : '_OTHER';
}

/** A value fit to record as an identifier: short, plain, repeating none of `echoes` (none at all when they are unknown). */
function identifier(value: unknown, echoes: () => readonly string[] | undefined): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) return undefined;
  const needles = echoes();
  const lower = value.toLowerCase();
  return needles === undefined || needles.some((needle) => lower.includes(needle)) ? undefined : value;
}

const hidden = (key: string, value: string, secrets: readonly string[]) =>
  isSensitiveKey(key) || SIGNED.has(key) || secrets.includes(value);

/**
 * `href` as `url.full` shows it: no user info, each query value `REDACTED`
 * (with `values`, only credential-named, signature or credential-valued
 * ones). `parsed` is the URL parsed, for one that may have user info (none
 * does that starts with the client's own origin); otherwise only the query
 * is read.
 */
function shownUrl(href: string, parsed: URL | null, secrets: readonly string[], values: boolean): string {
  let shown = href;
  if (parsed !== null && (parsed.username !== '' || parsed.password !== '')) {
    parsed.username = REDACTED;
    parsed.password = REDACTED;
    shown = parsed.href;
  }
  // Rewritten only when there is something to hide: most URLs are shown as they are.
  const query = shown.indexOf('?');
  if (query !== -1) {
    const end = shown.indexOf('#', query);
    const rest = end === -1 ? '' : shown.slice(end);
    const search = shown.slice(query + 1, end === -1 ? undefined : end);
    if (!values) {
      // Every value goes, each name stays as it was written: no parsing needed.
      shown = `${shown.slice(0, query + 1)}${search.replace(/=[^&]+/g, `=${REDACTED}`)}${rest}`;
    } else {
      const params = new URLSearchParams(search);
      let hide = false;
      for (const [key, value] of params) hide ||= hidden(key, value, secrets);
      if (hide) {
        const kept = new URLSearchParams();
        for (const [key, value] of params) kept.append(key, value !== '' && hidden(key, value, secrets) ? REDACTED : value);
        shown = `${shown.slice(0, query + 1)}${kept}${rest}`;
      }
    }
  }
  // A credential anywhere else (a path segment a server's Location put it in), in any spelling; looked for in the decoded URL first.
  if (!carries(shown, secrets)) return shown;
  const cut = redactSecrets(shown, secrets);
  // Still there once decoded (a spelling redactSecrets does not know, such as one escaped character): nothing of the path is shown.
  return carries(cut, secrets) ? `${URL.parse(href)?.origin ?? ''}/${REDACTED}` : cut;
}

const carries = (url: string, secrets: readonly string[]) => {
  // Decoded as a path has it (`+` is itself) and as a query has it (`+` is a space).
  const texts = /[%+]/.test(url) ? [url, safeDecode(url), safeDecode(url.replace(/\+/g, ' '))] : [url];
  return secrets.some((secret) => secret.length >= MIN_ECHO && texts.some((text) => text.includes(secret)));
};

/** The URL with its percent-escapes decoded, or as it is where one is malformed. */
function safeDecode(href: string): string {
  try {
    return decodeURIComponent(href);
  } catch {
    return href;
  }
}

/** The provider's own error code in an error body (`code`, `error_code`, `error` as RFC 6749 has it, `error.code`), when it is an identifier. */
function providerCode(body: unknown, echoes: () => readonly string[] | undefined): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const nested = b.error !== null && typeof b.error === 'object' ? (b.error as Record<string, unknown>).code : undefined;
  for (const value of [b.code, b.error_code, b.errorCode, typeof b.error === 'string' ? b.error : nested]) {
    const code = identifier(value, echoes);
    if (code !== undefined) return code;
  }
  return undefined;
}

interface Instruments {
  readonly tracer: Tracer;
  readonly requestDuration: Histogram;
  readonly retries: Counter;
  readonly authWait: Histogram;
  readonly lockWait: Histogram;
  readonly renewals: Counter;
  readonly storeErrors: Counter;
}

function instruments(options: TelemetryOptions): Instruments {
  const meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter(NAME);
  const seconds = (name: string, description: string) =>
    meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: DURATION_BUCKETS } });
  return {
    tracer: (options.tracerProvider ?? trace.getTracerProvider()).getTracer(NAME),
    requestDuration: seconds('http.client.request.duration', 'Duration of HTTP client requests.'),
    retries: meter.createCounter('portico.client.retries', {
      unit: '{retry}',
      description: 'Requests sent again after a retryable answer or failure.',
    }),
    authWait: seconds('portico.auth.wait.duration', 'Time a request waited for its credential: a token read, a renewal, the store lock.'),
    lockWait: seconds('portico.auth.lock.wait.duration', "Time a renewal waited for the token store's lock."),
    renewals: meter.createCounter('portico.auth.renewals', {
      unit: '{renewal}',
      description: 'Token renewals: renewed here, found renewed by another instance under the lock, or failed.',
    }),
    storeErrors: meter.createCounter('portico.auth.store.errors', {
      unit: '{error}',
      description: 'Failed token store commands, as the store saw them (retried or not).',
    }),
  };
}

/**
 * What `openTelemetry()` makes: `createClient({ telemetry })` takes it as
 * an Instrumentation, `createRedisStore({ telemetry })` for its lock waits
 * and failures; `fetch()` is a fetch whose requests are spans, for the
 * token requests of `oauth({ fetch })`, `revokeToken` and
 * `exchangeAccessCode` (a client's own renewals are traced without it).
 */
export type Telemetry = Instrumentation &
  AuthTelemetry & {
    /** `base` (the global fetch, looked up per request, by default), each request a CLIENT span; no trace context is sent unless `propagateToOtherOrigins`. */
    fetch(base?: typeof globalThis.fetch): typeof globalThis.fetch;
  };

// The global fetch, looked up per request (one installed later is used) and called unbound (Workers refuse another `this`).
const globalFetch = (input: RequestInfo | URL, init?: RequestInit) => globalThis.fetch(input, init);

/** The auth layer's telemetry of a provider that failed at the start: as without telemetry. */
const NO_AUTH_TELEMETRY = {
  lifecycle: (_grant: string, fetch: typeof globalThis.fetch) => ({
    renewal: <T>(_reason: string, renew: () => Promise<T>) => renew(),
    fetch,
  }),
  fetch: (base?: typeof globalThis.fetch) => base ?? globalFetch,
  lockWait: () => () => {},
  storeError: () => {},
};

// The fetches `fetch()` made, of every openTelemetry(), and the fetch each sends through.
const TRACED = new WeakMap<object, typeof globalThis.fetch>();

/** A lifecycle's renewal in flight: its span's context, and whether it sent a token request (renewed here) or found another instance's tokens. */
interface Renewing {
  readonly context: Context;
  requested: boolean;
}

/**
 * One renewal of a token lifecycle: a span, and a count by grant type,
 * reason and outcome. `slot` is the lifecycle's: its token requests find
 * the renewal there, with or without a context manager.
 */
function renewal<T>(
  site: Site,
  grant: string,
  reason: string,
  renew: () => Promise<T>,
  slot: { current?: Renewing | undefined },
): Promise<T> {
  const parent = context.active();
  const attributes: Attributes = { 'portico.auth.grant_type': grant, 'portico.auth.reason': reason };
  const span = spanOf(site, 'portico.auth.renew', { kind: SpanKind.INTERNAL, attributes }, parent);
  const mark: Renewing = { context: trace.setSpan(parent, span), requested: false };
  slot.current = mark;
  const ended = (outcome: string, failed: boolean) => {
    if (slot.current === mark) slot.current = undefined;
    site.guard.run(() => {
      span.setAttribute('portico.auth.outcome', outcome);
      if (failed) {
        span.setAttribute('error.type', outcome);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
      site.made.renewals.add(1, { ...attributes, 'portico.auth.outcome': outcome }, parent);
    }, undefined);
  };
  return context.with(mark.context, renew).then(
    (value) => {
      ended(mark.requested ? 'renewed' : 'found', false);
      return value;
    },
    (error: unknown) => {
      ended(errorType(error) ?? '_OTHER', true);
      throw error;
    },
  );
}

/**
 * `send`, each request a CLIENT span of `site`. The request's headers are
 * copied first: the trace context is written into the copy, never into
 * headers the caller may send elsewhere.
 */
function tracedFetch(site: Site, send: typeof globalThis.fetch): typeof globalThis.fetch {
  const traced = (input: RequestInfo | URL, init: RequestInit = {}) => {
    let target: Request | string = input instanceof URL ? input.href : input;
    let options = init;
    try {
      if (typeof target !== 'string') target = new Request(target);
      if (init.headers !== undefined) options = { ...init, headers: new Headers(init.headers) };
    } catch {
      // Headers fetch itself refuses: it reports them, as without telemetry.
    }
    return request(site, undefined, send, target, options);
  };
  TRACED.set(traced, send);
  return traced;
}

/**
 * What a token or revocation request carries, which its `url.full` must not
 * show: every value of its body (form or JSON), its Authorization, and a
 * Basic one's client id and secret (form-encoded before they were joined,
 * RFC 6749 §2.3.1).
 */
function carried(init: RequestInit, sent: Request | undefined): string[] {
  const out: string[] = [];
  const { body } = init;
  if (typeof body === 'string' || body instanceof URLSearchParams) {
    for (const [, value] of new URLSearchParams(body)) out.push(value);
    if (typeof body === 'string')
      try {
        walkStrings(JSON.parse(body), (_key, text) => out.push(text));
      } catch {
        // Not JSON: its form values are taken above.
      }
  }
  let authorization: string | null = null;
  try {
    authorization = (sent?.headers ?? new Headers(init.headers)).get('authorization');
  } catch {
    // Headers fetch refuses: the request does not go.
  }
  if (authorization === null) return out;
  out.push(authorization);
  const basic = /^basic\s+(\S+)$/i.exec(authorization)?.[1];
  try {
    const pair = basic === undefined ? '' : atob(basic);
    const colon = pair.indexOf(':');
    if (colon !== -1)
      for (const part of [pair.slice(0, colon), pair.slice(colon + 1)]) out.push(part, safeDecode(part.replace(/\+/g, ' ')));
  } catch {
    // Not Base64: the value itself is taken above.
  }
  return out;
}

/** A wait for a store's lock, from its start until `done` (with the error, if it failed): a span under the renewal, and its duration. */
function lockWait(site: Site): (error?: unknown) => void {
  const parent = context.active();
  const span = spanOf(site, 'portico.auth.lock.wait', { kind: SpanKind.INTERNAL }, parent);
  const start = performance.now();
  let done = false;
  return (error) => {
    if (done) return;
    done = true;
    site.guard.run(() => {
      const attributes: Attributes = {};
      const type = error === undefined ? undefined : errorType(error);
      if (type !== undefined) {
        attributes['error.type'] = type;
        span.setAttribute('error.type', type);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
      site.made.lockWait.record((performance.now() - start) / 1000, attributes, parent);
    }, undefined);
  };
}

/**
 * Traces and metrics for every call, following the OpenTelemetry HTTP client
 * conventions: `createClient({ telemetry: openTelemetry({ tracerProvider, meterProvider }) })`,
 * or `openTelemetry()` for the global providers an SDK registered.
 */
export function openTelemetry(options: TelemetryOptions = {}): Telemetry {
  let made: Instruments;
  try {
    made = instruments(options);
  } catch {
    // A provider that fails at the start: the clients made with it are as without telemetry.
    return Object.assign(() => {}, NO_AUTH_TELEMETRY);
  }
  // The auth layer's token and revocation requests, renewals, lock waits and store failures: one switch for them all.
  const site: Site = {
    made,
    options,
    guard: new Switch(),
    configured: true,
    credentials: (_call, init, sent) => carried(init, sent),
    echoes: () => () => undefined,
  };
  const telemetry: Telemetry = Object.assign(
    (client: Record<string, unknown>, state: ClientState) => instrument(made, options, telemetry, client, state),
    {
      // Traced already: one span per request, not two.
      fetch: (base?: typeof globalThis.fetch) => (base !== undefined && TRACED.has(base) ? base : tracedFetch(site, base ?? globalFetch)),
      lifecycle: (grant: string, base: typeof globalThis.fetch) => {
        const slot: { current?: Renewing | undefined } = {};
        const own: Site = { ...site, renewing: () => slot.current };
        return {
          renewal: <T>(reason: string, renew: () => Promise<T>) => renewal(own, grant, reason, renew, slot),
          // A flow given `fetch()`: its session's requests are traced here, once.
          fetch: tracedFetch(own, TRACED.get(base) ?? base),
        };
      },
      lockWait: () => lockWait(site),
      storeError: (error: unknown) =>
        site.guard.run(() => made.storeErrors.add(1, { 'error.type': errorType(error) ?? '_OTHER' }, context.active()), undefined),
    },
  );
  return telemetry;
}

function instrument(
  made: Instruments,
  options: TelemetryOptions,
  auth: AuthTelemetry,
  client: Record<string, unknown>,
  state: ClientState,
): void {
  const guard = new Switch();
  const { transport } = state;
  const authenticator = transport.authenticator;
  const plain = transport.fetch;
  const parsed = URL.parse(transport.ownOrigin);
  let walking = 0;
  /** Every credential a URL must not show: the client's own, those lately sent (a renewal adds one), those its authenticator holds, the call's. */
  const credentials = (call: Call | undefined) => {
    const known = [...state.ownSecrets, ...transport.sent, ...(authenticator === undefined ? [] : heldSecrets(authenticator))];
    return call === undefined ? known : known.concat(call.inputs().own);
  };
  const site: Site = {
    made,
    options,
    guard,
    // A request to the client's own origin (nearly all) needs no URL parsed: its server is this one, and it has no user info.
    own: parsed === null ? undefined : { prefix: `${transport.ownOrigin}/`, address: parsed.hostname, port: portOf(parsed) },
    credentials,
    /** What an identifier must not repeat: every credential, and all the call was given; undefined when that is not known in full (or the call is not). */
    echoes: (call) => () => {
      if (call === undefined) return undefined;
      const inputs = call.inputs();
      return inputs.complete ? needlesOf(credentials(call)).concat(call.echoes()) : undefined;
    },
  };
  const startSpan = (name: string, spanOptions: Parameters<Tracer['startSpan']>[1], parent: Context) =>
    spanOf(site, name, spanOptions, parent);
  const add = (counter: Counter, attributes: Attributes, parent: Context) => guard.run(() => counter.add(1, attributes, parent), undefined);
  const record = (histogram: Histogram, value: number, attributes: Attributes, parent: Context) =>
    guard.run(() => histogram.record(value, attributes, parent), undefined);
  const echoes = site.echoes;
  const address = site.own?.address;
  const port = site.own?.port;

  const attributesOf = (method: string, template: string): Attributes =>
    address === undefined
      ? { 'http.request.method': methodOf(method), 'url.template': template }
      : { 'http.request.method': methodOf(method), 'url.template': template, 'server.address': address, 'server.port': port };

  function startCall(method: string, template: string, parent: Context, init: unknown, page?: number): Call {
    const attributes = attributesOf(method, template);
    if (page !== undefined) attributes['portico.page'] = page;
    const span = startSpan(spanName(method, template), { kind: SpanKind.INTERNAL, attributes }, parent);
    const call = new Call(span, method, template, init);
    call.context = trace.setSpan(parent, span).setValue(SCOPE, call);
    return call;
  }

  /** Ends a call's span with how it ended: a response (whose error, if any, `failed` names), or a thrown error. */
  function endCall(call: Call, outcome: { status?: number; failed?: string; thrown?: unknown; body?: unknown }): void {
    call.wait?.end();
    // Method, template and server were set at the start.
    const status = outcome.status ?? call.status;
    if (status !== undefined) call.span.setAttribute('http.response.status_code', status);
    const type = 'thrown' in outcome ? errorType(outcome.thrown) : outcome.failed;
    if (type !== undefined) call.span.setAttribute('error.type', type);
    const code = providerCode(outcome.body, echoes(call));
    if (code !== undefined) call.span.setAttribute('portico.provider.error_code', code);
    if (type !== undefined) call.span.setStatus({ code: SpanStatusCode.ERROR });
    call.span.end();
  }

  /** What a call that returned ended with: the error the throwing style would have raised, by its code. */
  function settled(call: Call, raw: { error?: unknown; response?: Response } | undefined): void {
    const response = raw?.response;
    if (!(response instanceof Response)) {
      endCall(call, {});
      return;
    }
    const failed =
      raw!.error === undefined && response.ok
        ? undefined
        : response.ok
          ? 'envelope_failure'
          : apiErrorFor({ status: response.status, body: undefined, method: call.method, path: call.template }).code;
    endCall(call, { status: response.status, failed, body: raw!.error });
  }

  function thrown(call: Call, error: unknown): void {
    const fields = error as { status?: unknown; body?: unknown; providerCode?: unknown };
    endCall(call, {
      status: typeof fields?.status === 'number' ? fields.status : undefined,
      thrown: error,
      body: fields?.providerCode !== undefined ? { code: fields.providerCode } : fields?.body,
    });
  }

  // The waits Portico adds: a retry's (backoff or Retry-After) from the log
  // hook's `retrying`, and each page of a walk from its first `request`.
  const log: Log = transport.log;
  transport.log = (level, message, fields) => {
    if (message === 'retrying') guard.run(() => retrying(fields), undefined);
    else if (walking > 0 && message === 'request' && fields.attempt === 1) guard.run(nextPage, undefined);
    log?.(level, message, fields);
  };

  function retrying(fields: Record<string, unknown>): void {
    const call = currentCall();
    if (call === undefined) return;
    const asked = typeof fields.status === 'number' && call.headers !== undefined && retryAfterMs(call.headers) !== undefined;
    // Why: the status that came back, or the failure's code (a timeout, a lost connection).
    const why: Attributes = { 'portico.retry.reason': asked ? 'retry_after' : 'backoff' };
    if (typeof fields.status === 'number') why['http.response.status_code'] = fields.status;
    if (typeof fields.reason === 'string') why['error.type'] = fields.reason;
    call.wait?.end();
    call.wait = startSpan(
      'portico.retry.wait',
      {
        kind: SpanKind.INTERNAL,
        attributes: { ...why, 'portico.retry.delay_ms': Number(fields.delayMs), 'portico.retry.attempt': Number(fields.attempt) },
      },
      call.context,
    );
    add(made.retries, { 'http.request.method': methodOf(call.method), 'url.template': call.template, ...why }, call.context);
  }

  function nextPage(): void {
    const walk = scopeOf(context.active());
    if (!(walk instanceof Walk)) return;
    if (walk.page !== undefined) settledPage(walk.page);
    walk.pages++;
    walk.page = startCall('GET', walk.template, walk.context, walk.init, walk.pages);
  }

  const settledPage = (page: Call) =>
    endCall(page, {
      failed: page.status !== undefined && page.status >= 400 ? String(page.status) : undefined,
    });

  // Waits for a credential: a token read or renewal, and the renewal after a 401.
  const wrapped = new WeakMap<Authenticator, Authenticator>();
  function tracedAuth(inner: Authenticator): Authenticator {
    const known = wrapped.get(inner);
    if (known !== undefined) return known;
    const outer: Authenticator = {
      // A credential at hand (as after a renewal) is no wait.
      getAuthorization: (signal) => {
        const cached = inner.cachedAuthorization?.();
        return cached === undefined ? waited('token', () => inner.getAuthorization(signal)) : Promise.resolve(cached);
      },
      handleUnauthorized: (sent, signal) =>
        waited('unauthorized', async (span) => {
          const replay = await inner.handleUnauthorized(sent, signal);
          span.setAttribute('portico.auth.outcome', replay ? 'replayed' : 'refused');
          return replay;
        }),
    };
    // The optional methods stay absent where they are: the transport treats an Authenticator with `attach` differently.
    if (inner.cachedAuthorization) outer.cachedAuthorization = () => inner.cachedAuthorization!();
    if (inner.attach) outer.attach = (request, credential, body) => inner.attach!(request, credential, body);
    if (inner.select)
      outer.select = (security) => {
        const chosen = inner.select!(security);
        return chosen === undefined ? undefined : tracedAuth(chosen);
      };
    wrapped.set(inner, outer);
    return outer;
  }

  async function waited<T>(trigger: 'token' | 'unauthorized', work: (span: Span) => Promise<T>): Promise<T> {
    const parent = currentCall()?.context ?? context.active();
    const span = startSpan('portico.auth.wait', { kind: SpanKind.INTERNAL, attributes: { 'portico.auth.trigger': trigger } }, parent);
    const started = performance.now();
    const attributes: Attributes = { 'portico.auth.trigger': trigger };
    try {
      return await context.with(trace.setSpan(parent, span), () => work(span));
    } catch (error) {
      const type = errorType(error);
      if (type !== undefined) {
        attributes['error.type'] = type;
        span.setAttribute('error.type', type);
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      throw error;
    } finally {
      span.end();
      record(made.authWait, (performance.now() - started) / 1000, attributes, parent);
    }
  }

  if (authenticator !== undefined) {
    transport.authenticator = tracedAuth(authenticator);
    // A token lifecycle inside (client credentials, a session): its renewals and token requests too.
    observe(authenticator, auth);
  }

  /** The call's options, with a fetch that tells its requests which call they belong to: the caller's own fetch, or the client's. */
  const boundTo = (init: unknown, call: () => Call | undefined) => {
    const given = (init as { fetch?: Transport['fetch'] } | undefined)?.fetch ?? plain;
    // Copied key by key, as the client copies a call's options: a spread made an object every later read of it was slower on.
    const bound: Record<string, unknown> = {};
    if (init !== undefined && init !== null) for (const name of Object.keys(init)) bound[name] = (init as Record<string, unknown>)[name];
    bound.fetch = (input: Request | string, sent: RequestInit) => request(site, call(), given, input, sent);
    return bound;
  };

  // Calls: one span each, the scope of everything above.
  const run = (method: string, path: string, init: unknown, send: (init: unknown) => Promise<unknown>) => {
    const call = guard.run(() => startCall(method, path, context.active(), init), undefined);
    if (call === undefined) return send(init);
    return context
      .with(
        call.context,
        send,
        undefined,
        boundTo(init, () => call),
      )
      .then(
        (raw) => {
          guard.run(() => settled(call, raw as { error?: unknown; response?: Response }), undefined);
          return raw;
        },
        (error: unknown) => {
          guard.run(() => thrown(call, error), undefined);
          throw error;
        },
      );
  };
  for (const name of Object.keys(client)) {
    const original = client[name] as (...args: unknown[]) => Promise<unknown>;
    if (/^[A-Z]+$/.test(name)) client[name] = (path: string, init?: unknown) => run(name, path, init, (sent) => original(path, sent));
  }
  const request_ = client.request as (method: string, path: string, init?: unknown) => Promise<unknown>;
  client.request = (method: string, path: string, init?: unknown) =>
    run(method.toUpperCase(), path, init, (sent) => request_(method, path, sent));

  // A spec's own paging may return a plain async iterator: `return` and `throw` are then absent.
  const paginate = client.paginate as (
    path: string,
    init: unknown,
    paging: unknown,
  ) => Partial<AsyncGenerator<unknown>> & AsyncIterator<unknown>;
  client.paginate = (path: string, init: unknown, paging: unknown) => {
    if (!guard.on) return paginate(path, init, paging);
    let walk: Walk | undefined;
    const pages = paginate(
      path,
      boundTo(init, () => walk?.page),
      paging,
    );
    let ended = false;
    const step = (next: () => Promise<IteratorResult<unknown>>): Promise<IteratorResult<unknown>> => {
      // After the walk's end, its iterator answers as it will: nothing more to record.
      if (ended) return next();
      walk ??= guard.run(() => startWalk(path, init), undefined);
      if (walk === undefined) return next();
      const current = walk;
      const endOnce = (error?: unknown) => {
        if (ended) return;
        ended = true;
        guard.run(() => endWalk(current, error), undefined);
      };
      return context.with(current.context, next).then(
        (result) => {
          if (result.done) endOnce();
          return result;
        },
        (error: unknown) => {
          endOnce(error);
          throw error;
        },
      );
    };
    // The walk's own generator underneath, as without telemetry: its prototype gives the AsyncGenerator's tag, iterator and disposal.
    const own = (value: unknown) => ({ value, writable: true, configurable: true });
    const walker = Object.create(Object.getPrototypeOf(pages) as object, {
      next: own(() => step(() => pages.next())),
      return: own((value?: unknown) => step(() => pages.return?.(value) ?? Promise.resolve({ done: true, value }))),
      throw: own((error?: unknown) => step(() => pages.throw?.(error) ?? Promise.reject(error))),
      [Symbol.asyncIterator]: own(() => walker),
    }) as AsyncGenerator<unknown>;
    return walker;
  };

  function startWalk(path: string, init: unknown): Walk {
    const parent = context.active();
    const span = startSpan('portico.paginate', { kind: SpanKind.INTERNAL, attributes: attributesOf('GET', path) }, parent);
    const walk = new Walk(span, path, init);
    walk.context = trace.setSpan(parent, span).setValue(SCOPE, walk);
    walking++;
    return walk;
  }

  function endWalk(walk: Walk, error?: unknown): void {
    walking--;
    if (walk.page !== undefined) {
      if (error === undefined) settledPage(walk.page);
      else thrown(walk.page, error);
      walk.page = undefined;
    }
    walk.span.setAttribute('portico.pages', walk.pages);
    const type = error === undefined ? undefined : errorType(error);
    if (type !== undefined) {
      walk.span.setAttribute('error.type', type);
      walk.span.setStatus({ code: SpanStatusCode.ERROR });
    }
    walk.span.end();
  }
}

/**
 * Where requests are sent from, for their spans: a client (its own origin,
 * its credentials and its switch), or the auth layer (token and revocation
 * requests, to the endpoints the profile or the caller configured).
 */
interface Site {
  readonly made: Instruments;
  readonly options: TelemetryOptions;
  readonly guard: Switch;
  /** The client's own origin, with the `/` that ends it, and its host and port. */
  readonly own?: { readonly prefix: string; readonly address: string; readonly port: number } | undefined;
  /** The URLs are configured, not chosen by a server: their host may be a metric's. */
  readonly configured?: boolean;
  /** What `url.full` must not show of a request (of `call`, if it has one). */
  readonly credentials: (call: Call | undefined, init: RequestInit, sent: Request | undefined) => readonly string[];
  /** A token lifecycle's renewal in flight, whose requests are its own. */
  readonly renewing?: () => Renewing | undefined;
  readonly echoes: (call: Call | undefined) => () => readonly string[] | undefined;
}

/** A span of `site`'s tracer, guarded by its switch. */
const spanOf = (site: Site, name: string, options: Parameters<Tracer['startSpan']>[1], parent: Context): Span =>
  new GuardedSpan(
    site.guard.run(() => site.made.tracer.startSpan(name, options, parent), undefined),
    site.guard,
  );

/** What a request's headers come as: a Headers, or (the auth layer's) a plain record. */
type Carrier = Headers | Record<string, string>;

function setField(headers: Carrier, name: string, value: string | undefined): void {
  if (headers instanceof Headers) {
    if (value === undefined) headers.delete(name);
    else headers.set(name, value);
  } else if (value === undefined) {
    for (const key of Object.keys(headers)) if (key.toLowerCase() === name.toLowerCase()) delete headers[key];
  } else headers[name] = value;
}

/**
 * A physical request: one CLIENT span, resends counted (the conventions'
 * http.request.resend_count), and its duration. `call` is the call it
 * belongs to; without one it hangs under the active span.
 */
function request(
  site: Site,
  call: Call | undefined,
  fetch: Transport['fetch'],
  input: Request | string,
  init: RequestInit,
): Promise<Response> {
  const traced = site.guard.run(() => started(site, call, input, init), undefined);
  if (traced === undefined) return fetch(input, init);
  let response: Promise<Response>;
  try {
    // A fetch of the caller's may answer without a promise: awaited as without telemetry.
    response = Promise.resolve(fetch(input, init));
  } catch (error) {
    response = Promise.reject(error);
  }
  return response.then(
    (response) => {
      site.guard.run(() => traced.answered(response), undefined);
      return response;
    },
    (error: unknown) => {
      site.guard.run(() => traced.failed(error), undefined);
      throw error;
    },
  );
}

/** A request's CLIENT span started, its context put on the request, and how to end it. */
function started(site: Site, call: Call | undefined, input: Request | string, init: RequestInit) {
  const { own, options } = site;
  const sent = typeof input === 'string' ? undefined : input;
  const href = sent === undefined ? (input as string) : sent.url;
  const method = (sent ?? init).method?.toUpperCase() ?? 'GET';
  const ours = own !== undefined && href.startsWith(own.prefix);
  const url = ours ? null : URL.parse(href);
  let templated = false;
  if (call !== undefined) {
    call.wait?.end();
    call.wait = undefined;
    call.url ??= href;
    templated = call.url === href;
  }
  const attributes: Attributes = {
    'http.request.method': methodOf(method),
    'server.address': ours ? own.address : (url?.hostname ?? ''),
    'server.port': ours ? own.port : url === null ? undefined : portOf(url),
    'url.full': shownUrl(href, url, site.credentials(call, init, sent), options.recordQueryValues === true),
  };
  if (templated) attributes['url.template'] = call!.template;
  if (call !== undefined && call.sends++ > 0) attributes['http.request.resend_count'] = call.sends - 1;
  // A token request a renewal sends: it renewed here, rather than finding another instance's tokens.
  const renewing = call === undefined ? site.renewing?.() : undefined;
  if (renewing !== undefined) renewing.requested = true;
  const parent = call?.context ?? renewing?.context ?? context.active();
  const span = spanOf(site, spanName(method, templated ? call!.template : undefined), { kind: SpanKind.CLIENT, attributes }, parent);
  propagate(site, span, parent, ours, sent?.headers ?? (init.headers as Carrier | undefined), (sent ?? init).redirect);
  const start = performance.now();
  const ended = (status: number | undefined, type: string | undefined) => {
    if (type !== undefined) {
      span.setAttribute('error.type', type);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
    // A hop off the client's origin is the server's choice: its host in a metric would be a series per answer.
    // The auth layer's requests go where the profile or the caller says (and follow no redirect).
    const metric: Attributes =
      ours || site.configured === true
        ? {
            'http.request.method': attributes['http.request.method'],
            'server.address': attributes['server.address'],
            'server.port': attributes['server.port'],
          }
        : { 'http.request.method': attributes['http.request.method'], 'server.address': '_OTHER' };
    if (templated) metric['url.template'] = call!.template;
    if (status !== undefined) metric['http.response.status_code'] = status;
    if (type !== undefined) metric['error.type'] = type;
    site.guard.run(() => site.made.requestDuration.record((performance.now() - start) / 1000, metric, parent), undefined);
  };
  return {
    answered(response: Response): void {
      const { status } = response;
      span.setAttribute('http.response.status_code', status);
      for (const name of REQUEST_ID_HEADERS) {
        const value = response.headers.get(name);
        const id = value === null ? undefined : identifier(value, site.echoes(call));
        if (id !== undefined) span.setAttribute(`http.response.header.${name}`, [id]);
      }
      if (call !== undefined) {
        call.status = status;
        call.headers = response.headers;
        if (REDIRECTS.has(status)) call.span.addEvent('portico.redirect', { 'http.response.status_code': status });
      }
      ended(status, status >= 400 ? String(status) : undefined);
    },
    failed(error: unknown): void {
      // Fetch reports a network failure as a TypeError: the call reports a ConnectionError for it.
      ended(undefined, error instanceof TypeError ? 'connection_error' : errorType(error));
    },
  };
}

/**
 * The W3C trace context, when the user's propagator is set (the global
 * one; a no-op otherwise): only on requests to the client's own origin
 * that Portico follows redirects of itself, unless allowed everywhere. A
 * hop elsewhere loses what an earlier hop was given.
 */
function propagate(
  site: Site,
  span: Span,
  parent: Context,
  ours: boolean,
  headers: Carrier | undefined,
  redirect: RequestRedirect | undefined,
): void {
  if (headers === undefined) return;
  if (site.options.propagateToOtherOrigins === true || (ours && redirect !== 'follow' && redirect !== undefined)) {
    // Into a scratch carrier first (a plain object: a Headers of its own cost a request more than the rest of this):
    // what the propagator writes, by the setter or not, is copied only where it is a valid field that is neither a credential nor the body's framing.
    const scratch: Record<string, unknown> = Object.create(null);
    const traced = trace.setSpan(parent, span);
    const asIs = site.options.propagateBaggage === true || propagation.getBaggage(traced) === undefined;
    propagation.inject(asIs ? traced : propagation.deleteBaggage(traced), scratch, scratchSetter);
    for (const name of Object.keys(scratch)) {
      const value = scratch[name];
      if (settable(name) && typeof value === 'string' && FIELD_VALUE.test(value)) setField(headers, name, value);
    }
  } else for (const field of propagation.fields()) if (settable(field)) setField(headers, field, undefined);
}

const portOf = (url: URL) => (url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port));
