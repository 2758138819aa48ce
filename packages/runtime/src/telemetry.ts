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
  type Context,
  type Counter,
  context,
  createContextKey,
  type Histogram,
  type MeterProvider,
  metrics,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapSetter,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import type { Authenticator } from '@portico/auth';
import { isSensitiveKey, redactSecrets } from '@portico/auth/internal';
import { type ClientState, credentialValues, type Instrumentation, REQUEST_ID_HEADERS } from './client.js';
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

/** One call, or one page of a walk: the span its requests and waits hang under. */
interface Call {
  readonly span: Span;
  readonly context: Context;
  readonly method: string;
  readonly template: string;
  readonly secrets: Secrets;
  /** The first request's URL: later requests to it are the operation's, a redirect's are not. */
  url?: string;
  sends: number;
  /** The last response's status, and whether it asked for a wait (Retry-After). */
  status?: number;
  askedWait: boolean;
  /** A retry's wait, until the next request or the end of the call. */
  wait?: Span;
}

/** A `paginate` walk: its pages are calls under its span. */
interface Walk {
  readonly span: Span;
  readonly context: Context;
  readonly template: string;
  readonly secrets: Secrets;
  page?: Call;
  pages: number;
}

/** What a call's telemetry must not show, walked only when something is recorded. */
interface Secrets {
  /** The client's credentials and the call's credential-named inputs: cut from `url.full`. */
  readonly credentials: () => readonly string[];
  /** Those, and every string the call was given: a request id or error code that repeats one is an echo, not recorded. */
  readonly echoes: () => readonly string[];
}

const SCOPE = createContextKey('portico call');
const scopeOf = (): Call | Walk | undefined => context.active().getValue(SCOPE) as Call | Walk | undefined;
const currentCall = (): Call | undefined => {
  const scope = scopeOf();
  return scope !== undefined && 'pages' in scope ? scope.page : scope;
};

const headerSetter: TextMapSetter<Headers> = { set: (carrier, key, value) => carrier.set(key, value) };

const methodOf = (method: string) => (KNOWN_METHODS.has(method) ? method : '_OTHER');
const spanName = (method: string, template?: string) => {
  const known = KNOWN_METHODS.has(method) ? method : 'HTTP';
  return template === undefined ? known : `${known} ${template}`;
};

/** The conventions' `error.type` for a failure: Portico's stable `code`; a caller's abort is no error. */
function errorType(error: unknown): string | undefined {
  if (error instanceof Error && error.name === 'AbortError') return undefined;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && IDENTIFIER.test(code)) return code;
  return error instanceof Error && IDENTIFIER.test(error.name) ? error.name : '_OTHER';
}

/** A value fit to record as an identifier: short, plain, repeating nothing the call was given. */
function identifier(value: unknown, secrets: Secrets): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) return undefined;
  return redactSecrets(value, secrets.echoes()) === value ? value : undefined;
}

/** Every string in a call's options (params, headers, body), a few levels deep. */
function strings(value: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof value === 'string') out.push(value);
  else if (depth < 8 && value !== null && typeof value === 'object' && !(value instanceof ReadableStream) && !ArrayBuffer.isView(value)) {
    const entries = value instanceof Headers || value instanceof URLSearchParams ? [...value.values()] : Object.values(value);
    for (const item of entries) strings(item, out, depth + 1);
  }
  return out;
}

/** `url` as `url.full` shows it: no user info, every credential-named, signature or credential-valued query parameter `REDACTED`. */
function shownUrl(url: URL, secrets: readonly string[]): string {
  // Rewritten only when there is something to hide: most URLs are shown as they are.
  const hidden = [...url.searchParams].map(([key, value]) => isSensitiveKey(key) || SIGNED.has(key) || secrets.includes(value));
  let href = url.href;
  if (url.username !== '' || url.password !== '' || hidden.includes(true)) {
    const shown = new URL(href);
    if (shown.username !== '' || shown.password !== '') {
      shown.username = REDACTED;
      shown.password = REDACTED;
    }
    if (hidden.includes(true))
      shown.search = new URLSearchParams([...shown.searchParams].map(([key, value], i) => [key, hidden[i] ? REDACTED : value])).toString();
    href = shown.href;
  }
  // A credential anywhere else (a path segment a server's Location put it in), in any spelling; looked for in the decoded URL first.
  const decoded = /[%+]/.test(href) ? safeDecode(href) : href;
  return secrets.some((secret) => secret.length >= 8 && (href.includes(secret) || decoded.includes(secret)))
    ? redactSecrets(href, secrets)
    : href;
}

/** The URL with its percent-escapes decoded (and `+` as a space, as a query has it), or as it is where one is malformed. */
function safeDecode(href: string): string {
  try {
    return decodeURIComponent(href.replace(/\+/g, ' '));
  } catch {
    return href;
  }
}

/** The provider's own error code in an error body (`code`, `error_code`, `error` as RFC 6749 has it, `error.code`), when it is an identifier. */
function providerCode(body: unknown, secrets: Secrets): string | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  const nested = b.error !== null && typeof b.error === 'object' ? (b.error as Record<string, unknown>).code : undefined;
  for (const value of [b.code, b.error_code, b.errorCode, typeof b.error === 'string' ? b.error : nested]) {
    const code = identifier(value, secrets);
    if (code !== undefined) return code;
  }
  return undefined;
}

/** The response's request id headers (`x-request-id` and friends), as the conventions name a response header. */
function requestIds(headers: Headers, secrets: Secrets): Attributes {
  const out: Attributes = {};
  for (const name of REQUEST_ID_HEADERS) {
    const value = identifier(headers.get(name), secrets);
    if (value !== undefined) out[`http.response.header.${name}`] = [value];
  }
  return out;
}

interface Instruments {
  readonly tracer: Tracer;
  readonly requestDuration: Histogram;
  readonly retries: Counter;
  readonly authWait: Histogram;
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
    renewals: meter.createCounter('portico.auth.renewals', {
      unit: '{renewal}',
      description: 'Credentials renewed after the API refused them (401).',
    }),
    storeErrors: meter.createCounter('portico.auth.store.errors', { unit: '{error}', description: 'Token store failures a call saw.' }),
  };
}

/**
 * Traces and metrics for every call, following the OpenTelemetry HTTP client
 * conventions: `createClient({ telemetry: openTelemetry({ tracerProvider, meterProvider }) })`,
 * or `openTelemetry()` for the global providers an SDK registered.
 */
export function openTelemetry(options: TelemetryOptions = {}): Instrumentation {
  const made = instruments(options);
  return (client, state) => instrument(made, options, client, state);
}

function instrument(made: Instruments, options: TelemetryOptions, client: Record<string, unknown>, state: ClientState): void {
  const { tracer } = made;
  const { transport } = state;
  const own = URL.parse(transport.ownOrigin);
  const server: Attributes = own === null ? {} : { 'server.address': own.hostname, 'server.port': portOf(own) };
  const secretsFor = (init: unknown): Secrets => {
    // The call's own are read once; the client's are read as they are now (a renewal adds a token).
    let own: readonly string[] | undefined;
    const credentials = () => [...state.ownSecrets, ...transport.sent, ...(own ??= credentialValues(init))];
    return { credentials, echoes: () => [...credentials(), ...strings(init)] };
  };

  /** A span under the current call, or under whatever is active. */
  const child = (name: string, attributes: Attributes, kind = SpanKind.INTERNAL) =>
    tracer.startSpan(name, { kind, attributes }, currentCall()?.context ?? context.active());

  function startCall(method: string, template: string, parent: Context, secrets: Secrets, extra?: Attributes): Call {
    const attributes: Attributes = { 'http.request.method': methodOf(method), 'url.template': template, ...server, ...extra };
    const span = tracer.startSpan(spanName(method, template), { kind: SpanKind.INTERNAL, attributes }, parent);
    const call = { span, method, template, secrets, sends: 0, askedWait: false } as Call & { context: Context };
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
    const code = providerCode(outcome.body, call.secrets);
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

  // Physical requests: one CLIENT span each, resends counted (the conventions' http.request.resend_count).
  const traced =
    (fetch: Transport['fetch']): Transport['fetch'] =>
    async (input, init) => {
      const call = currentCall();
      const request = typeof input === 'string' ? undefined : input;
      const url = new URL(request?.url ?? (input as string));
      const method = (request ?? init).method?.toUpperCase() ?? 'GET';
      const secrets = call?.secrets ?? secretsFor(undefined);
      call?.wait?.end();
      if (call !== undefined) call.url ??= url.href;
      const templated = call !== undefined && call.url === url.href;
      const attributes: Attributes = {
        'http.request.method': methodOf(method),
        'server.address': url.hostname,
        'server.port': portOf(url),
        'url.full': shownUrl(url, secrets.credentials()),
      };
      if (templated) attributes['url.template'] = call.template;
      if (call !== undefined && call.sends > 0) attributes['http.request.resend_count'] = call.sends;
      if (call !== undefined) call.sends++;
      const span = tracer.startSpan(
        spanName(method, templated ? call.template : undefined),
        { kind: SpanKind.CLIENT, attributes },
        call?.context ?? context.active(),
      );
      propagate(span, url, request?.headers ?? (init.headers as Headers | undefined), (request ?? init).redirect);
      const metric: Attributes = {
        'http.request.method': attributes['http.request.method'],
        ...pick(attributes, 'server.address', 'server.port', 'url.template'),
      };
      const started = performance.now();
      try {
        const response = await fetch(input, init);
        metric['http.response.status_code'] = response.status;
        span.setAttributes({ 'http.response.status_code': response.status, ...requestIds(response.headers, secrets) });
        if (response.status >= 400) {
          metric['error.type'] = String(response.status);
          span.setAttribute('error.type', String(response.status));
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        if (call !== undefined) {
          call.status = response.status;
          call.askedWait = retryAfterMs(response.headers) !== undefined;
          if (REDIRECTS.has(response.status)) call.span.addEvent('portico.redirect', { 'http.response.status_code': response.status });
        }
        return response;
      } catch (error) {
        // Fetch reports a network failure as a TypeError: the call reports a ConnectionError for it.
        const type = error instanceof TypeError ? 'connection_error' : errorType(error);
        if (type !== undefined) {
          metric['error.type'] = type;
          span.setAttribute('error.type', type);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        throw error;
      } finally {
        span.end();
        made.requestDuration.record((performance.now() - started) / 1000, metric);
      }
    };

  /**
   * The W3C trace context, when the user's propagator is set (the global
   * one; a no-op otherwise): only on requests to the client's own origin
   * that Portico follows redirects of itself, unless allowed everywhere. A
   * hop elsewhere loses what an earlier hop was given.
   */
  function propagate(span: Span, url: URL, headers: Headers | undefined, redirect: RequestRedirect | undefined): void {
    if (headers === undefined) return;
    const allowed =
      options.propagateToOtherOrigins === true || (url.origin === transport.ownOrigin && redirect !== 'follow' && redirect !== undefined);
    if (allowed) propagation.inject(trace.setSpan(context.active(), span), headers, headerSetter);
    else for (const field of propagation.fields()) headers.delete(field);
  }

  transport.fetch = traced(transport.fetch);

  // The waits Portico adds: a retry's (backoff or Retry-After) from the log
  // hook's `retrying`, and each page of a walk from its first `request`.
  const log: Log = transport.log;
  transport.log = (level, message, fields) => {
    if (message === 'retrying') retrying(fields);
    else if (message === 'request' && fields.attempt === 1) nextPage();
    log?.(level, message, fields);
  };

  function retrying(fields: Record<string, unknown>): void {
    const call = currentCall();
    if (call === undefined) return;
    const asked = call.askedWait && typeof fields.status === 'number';
    // Why: the status that came back, or the failure's code (a timeout, a lost connection).
    const why: Attributes = { 'portico.retry.reason': asked ? 'retry_after' : 'backoff' };
    if (typeof fields.status === 'number') why['http.response.status_code'] = fields.status;
    if (typeof fields.reason === 'string') why['error.type'] = fields.reason;
    call.wait?.end();
    call.wait = tracer.startSpan(
      'portico.retry.wait',
      {
        kind: SpanKind.INTERNAL,
        attributes: { ...why, 'portico.retry.delay_ms': Number(fields.delayMs), 'portico.retry.attempt': Number(fields.attempt) },
      },
      call.context,
    );
    made.retries.add(1, { 'http.request.method': methodOf(call.method), 'url.template': call.template, ...why });
  }

  function nextPage(): void {
    const walk = scopeOf();
    if (walk === undefined || !('pages' in walk)) return;
    if (walk.page !== undefined) settledPage(walk.page);
    walk.pages++;
    walk.page = startCall('GET', walk.template, walk.context, walk.secrets, { 'portico.page': walk.pages });
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
          const outcome = replay ? 'replayed' : 'refused';
          span.setAttribute('portico.auth.outcome', outcome);
          made.renewals.add(1, { 'portico.auth.outcome': outcome });
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
    const span = child('portico.auth.wait', { 'portico.auth.trigger': trigger });
    const started = performance.now();
    const attributes: Attributes = { 'portico.auth.trigger': trigger };
    try {
      return await context.with(trace.setSpan(currentCall()?.context ?? context.active(), span), () => work(span));
    } catch (error) {
      const type = errorType(error);
      if (type !== undefined) {
        attributes['error.type'] = type;
        span.setAttribute('error.type', type);
        span.setStatus({ code: SpanStatusCode.ERROR });
        if (type === 'token_store_error' || type === 'token_callback_failed') made.storeErrors.add(1, { 'error.type': type });
        if (trigger === 'unauthorized') made.renewals.add(1, { 'portico.auth.outcome': type });
      }
      throw error;
    } finally {
      span.end();
      made.authWait.record((performance.now() - started) / 1000, attributes);
    }
  }

  if (transport.authenticator !== undefined) transport.authenticator = tracedAuth(transport.authenticator);

  // Calls: one span each, the scope of everything above.
  const withFetch = (init: unknown) => {
    const given = init as { fetch?: Transport['fetch'] } | undefined;
    return given?.fetch === undefined ? init : { ...given, fetch: traced(given.fetch) };
  };
  const run = (method: string, path: string, init: unknown, send: (init: unknown) => Promise<unknown>) => {
    const call = startCall(method, path, context.active(), secretsFor(init));
    return context
      .with(call.context, () => send(withFetch(init)))
      .then(
        (raw) => {
          settled(call, raw as { error?: unknown; response?: Response });
          return raw;
        },
        (error: unknown) => {
          thrown(call, error);
          throw error;
        },
      );
  };
  for (const name of Object.keys(client)) {
    const original = client[name] as (...args: unknown[]) => Promise<unknown>;
    if (/^[A-Z]+$/.test(name)) client[name] = (path: string, init?: unknown) => run(name, path, init, (sent) => original(path, sent));
  }
  const request = client.request as (method: string, path: string, init?: unknown) => Promise<unknown>;
  client.request = (method: string, path: string, init?: unknown) =>
    run(method.toUpperCase(), path, init, (sent) => request(method, path, sent));

  const paginate = client.paginate as (path: string, init: unknown, paging: unknown) => AsyncIterableIterator<unknown>;
  client.paginate = (path: string, init: unknown, paging: unknown) => {
    const pages = paginate(path, withFetch(init), paging);
    let walk: Walk | undefined;
    let ended = false;
    const step = (next: () => Promise<IteratorResult<unknown>>): Promise<IteratorResult<unknown>> => {
      // After the walk's end, its iterator answers as it will: nothing more to record.
      if (ended) return next();
      walk ??= startWalk(path, secretsFor(init));
      const current = walk;
      const endOnce = (error?: unknown) => {
        if (ended) return;
        ended = true;
        endWalk(current, error);
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
    const walker: AsyncIterableIterator<unknown> = {
      next: () => step(() => pages.next()),
      return: (value?: unknown) => step(() => pages.return?.(value) ?? Promise.resolve({ done: true, value })),
      [Symbol.asyncIterator]: () => walker,
    };
    return walker;
  };

  function startWalk(path: string, secrets: Secrets): Walk {
    const parent = context.active();
    const span = tracer.startSpan(
      'portico.paginate',
      { kind: SpanKind.INTERNAL, attributes: { 'http.request.method': 'GET', 'url.template': path, ...server } },
      parent,
    );
    const walk = { span, template: path, secrets, pages: 0 } as Walk & { context: Context };
    walk.context = trace.setSpan(parent, span).setValue(SCOPE, walk);
    return walk;
  }

  function endWalk(walk: Walk, error?: unknown): void {
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

const portOf = (url: URL) => (url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port));

function pick(from: Attributes, ...keys: string[]): Attributes {
  const out: Attributes = {};
  for (const key of keys) if (from[key] !== undefined) out[key] = from[key];
  return out;
}
