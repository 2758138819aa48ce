// One attempt of an HTTP exchange with everything a caller should not have
// to think about: the token (only for operations that need it, only to the
// client's own origin), redirects, one replay after a 401, a per-attempt
// deadline; and the retry policy (which answers, how long to wait) that the
// client's call loop follows between attempts.
import type { Authenticator, Credential, OutgoingRequest } from '@portico/auth';
import { redactSecrets } from '@portico/auth/internal';
import type { TimeoutError } from './errors.js';
import { emit, type Log } from './log.js';

export interface Transport {
  /** The fetch plugged in: see `dispatch` for what it is given. */
  fetch: (input: Request | string, init: RequestInit) => Promise<Response>;
  authenticator: Authenticator | undefined;
  ownOrigin: string;
  maxRetryDelayMs: number;
  log: Log;
  /** The Authorization values (and their tokens) lately sent, for redaction: a server may echo them. */
  sent: Set<string>;
  lastSent?: Credential;
}

const REMEMBERED = 8;

const partsOf = (credential: Credential) => (credential.also ? [credential, ...credential.also] : [credential]);

/** Each part's value as sent, and the secret after its scheme or prefix (`Bearer <token>`, `Bot <key>`). */
const secretsOf = (credential: Credential) => partsOf(credential).flatMap(({ value }) => [value, value.slice(value.indexOf(' ') + 1)]);

// An authenticator hands out one object per credential (per token set): the same object is remembered already.
export function remember(transport: Transport, credential: Credential): void {
  if (transport.lastSent === credential) return;
  transport.lastSent = credential;
  const values = secretsOf(credential);
  for (const value of values) {
    transport.sent.delete(value);
    transport.sent.add(value);
  }
  // Tokens renew for as long as the client lives; the oldest no longer matter, but every part of the one held now does.
  while (transport.sent.size > Math.max(REMEMBERED, values.length)) transport.sent.delete(transport.sent.values().next().value!);
}

/** What the transport needs to know about one call, fixed before its first attempt. */
export interface CallPlan {
  readonly method: string;
  /** The path template, for errors and logs. */
  readonly path: string;
  readonly requiresAuth: boolean;
  /** The credential this operation takes, where its `security` chose one of the client's (else the client's own). */
  readonly authenticator?: Authenticator;
  /**
   * The serialized body, kept to send again after a 401 or along a redirect;
   * undefined without a body, and for a one-shot stream (never replayed).
   */
  readonly replayBody: BodyInit | undefined;
  /** The body can be sent again: none, or not a one-shot stream. */
  readonly replayable: boolean;
  /** The call's own `fetch` option, in place of the client's. */
  readonly fetch: Transport['fetch'] | undefined;
}

const isRetryStatus = (status: number) => status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a
// recipient must accept. Only their shape is checked here; Date.parse reads
// all three (asctime has no zone: it is GMT).
const HTTP_DATE =
  /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}))$/;

/**
 * Delay the server asked for, in ms: `retry-after-ms` (digits), else
 * `retry-after` as delay-seconds (digits only) or an HTTP-date (RFC 9110
 * §10.2.3). Anything else is ignored, so the normal backoff applies.
 */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get('retry-after-ms')?.trim();
  if (ms && /^\d+(?:\.\d+)?$/.test(ms)) return Number(ms);
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const form = HTTP_DATE.exec(value);
  const date = form ? Date.parse(form[1] ? `${value} GMT` : value) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Exponential backoff with up to 25 % jitter, so that clients retrying together spread out. */
export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(INITIAL_BACKOFF_MS * 2 ** attempt, MAX_BACKOFF_MS);
  return base * (1 - random() * 0.25);
}

/**
 * What openapi-fetch builds for an attempt in place of a Request (its
 * `Request` option) when no middleware needs a real one: the URL, and the
 * init fetch is then called with. fetch builds a Request of its own from its
 * arguments anyway, and one built before it as well was over a quarter of
 * a stubbed call's time (bench/overhead.ts). Its signal is the deadline's of
 * the attempt sending it, made only when fetch reads it.
 */
export class LeanRequest implements OutgoingRequest {
  readonly url: string;
  readonly method: string;
  readonly headers: Headers;
  readonly body: BodyInit | null;
  readonly redirect: RequestRedirect;
  #deadline: Deadline | undefined;

  constructor(url: string, init: RequestInit) {
    this.url = url;
    // openapi-fetch always sets these, the headers merged into a Headers.
    this.method = init.method as string;
    this.headers = init.headers as Headers;
    this.body = init.body ?? null;
    this.redirect = init.redirect as RequestRedirect;
    // fetch's other options the caller gave (duplex, cache, keepalive, an undici dispatcher) go along as they are.
    for (const key in init) if (!(key in this)) (this as Record<string, unknown>)[key] = init[key as keyof RequestInit];
  }

  get signal(): AbortSignal | undefined {
    return this.#deadline?.signal();
  }

  sentUnder(deadline: Deadline): this {
    this.#deadline = deadline;
    return this;
  }
}

/**
 * Sends `target` once, raced against the deadline: a LeanRequest is fetch's
 * init itself; a Request (a middleware's, or one rebuilt for a redirect or a
 * query credential) goes with `init`, which carries the deadline's signal.
 * Either way the signal is in fetch's init, not on a Request: a Request that
 * follows a signal costs Node 20 tens of µs (undici links the two).
 */
function dispatch(
  fetch: Transport['fetch'],
  target: OutgoingRequest,
  deadline: Deadline,
  init: RequestInit | undefined,
): Promise<Response> {
  if (target instanceof LeanRequest) return deadline.race(() => fetch(target.url, target.sentUnder(deadline)));
  return deadline.race(() => fetch(target as Request, { ...init, signal: deadline.signal() }));
}

/** What a Request holds itself: an init beside it would override it, and the credential's headers and `redirect: 'manual'` are the transport's. */
const REQUEST_BOUND = new Set(['method', 'headers', 'body', 'redirect', 'signal', 'url', 'duplex']);

/** A LeanRequest is fetch's init itself: it takes the options of `ext` (openapi-fetch's `requestInitExt`) it does not set. */
function mergeExt(request: LeanRequest, ext: RequestInit | undefined): void {
  if (ext)
    for (const key in ext) if (!(key in request)) (request as unknown as Record<string, unknown>)[key] = ext[key as keyof RequestInit];
}

/**
 * fetch's init for a Request sent in place of `request` (a middleware's, or
 * one rebuilt for a redirect, a replay or a query credential):
 * openapi-fetch's `requestInitExt` (an undici `dispatcher`, fetch's own
 * `cache`, ...), and the options a Request has no place for, which
 * openapi-fetch leaves on it (or a LeanRequest holds) as properties of its
 * own; never what a Request holds itself.
 */
function initFor(request: OutgoingRequest, ext: RequestInit | undefined): RequestInit {
  const init: Record<string, unknown> = {};
  for (const source of [ext, request] as (Record<string, unknown> | undefined)[])
    if (source) for (const key of Object.keys(source)) if (!REQUEST_BOUND.has(key)) init[key] = source[key];
  return init;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;
// What fetch itself drops on a redirect to another origin (WHATWG Fetch
// §4.4 drops Authorization; undici the others too), beside the profile's own
// credential header.
const ORIGIN_BOUND_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'host'];

/** Where a chain of redirects ended, and whether the credential was still on the request that got `response`. */
interface Followed {
  readonly response: Response;
  readonly carried: boolean;
}

/**
 * A cross-origin target without the credential's value in its query: a
 * server that copies the request's query into its `Location` would carry a
 * query API key along. Rewritten only when there is something to remove,
 * so another target's query goes as the server wrote it.
 */
function dropFromQuery(target: URL, value: string): void {
  const kept = [...target.searchParams].filter(([, v]) => v !== value);
  if (kept.length < target.searchParams.size) target.search = new URLSearchParams(kept).toString();
}

/**
 * Follows the redirects of a request that carries a credential (sent with
 * redirect: 'manual', so whatever fetch is plugged in cannot follow them
 * itself): the credential goes along only while the origin stays the API's
 * own; a hop elsewhere drops it for good (and what fetch drops), whatever
 * header name or query parameter the profile uses.
 */
async function redirected(
  transport: Transport,
  send: (target: OutgoingRequest) => Promise<Response>,
  request: OutgoingRequest,
  response: Response,
  credential: Credential,
  plan: CallPlan,
  attach: (target: OutgoingRequest, credential: Credential, body: BodyInit | undefined) => OutgoingRequest,
): Promise<Followed> {
  let current = request;
  let carried = true;
  for (let hop = 0; hop < MAX_REDIRECTS && REDIRECTS.has(response.status); hop++) {
    const location = response.headers.get('location');
    const target = location === null ? undefined : URL.parse(location, current.url);
    if (!target || (target.protocol !== 'https:' && target.protocol !== 'http:')) break;
    // Fetch's rules (WHATWG Fetch §4.4): 303, and 301/302 after a POST, continue as a GET without a body.
    const asGet =
      (response.status === 303 && current.method !== 'HEAD') ||
      ((response.status === 301 || response.status === 302) && current.method === 'POST');
    if (!asGet && plan.replayBody === undefined && current.body !== null) break;
    const headers = new Headers(current.headers);
    const leaving = target.origin !== transport.ownOrigin;
    if (leaving) {
      for (const part of partsOf(credential)) {
        headers.delete(part.name);
        dropFromQuery(target, part.value);
      }
      // A server that writes the credential into the Location any other way
      // (a path segment, a `return_to` URL, encoded): the 3xx is the answer,
      // not a request carrying it elsewhere.
      if (carries(target.href, secretsOf(credential))) break;
      for (const name of ORIGIN_BOUND_HEADERS) headers.delete(name);
      carried = false;
    }
    if (asGet)
      for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'])
        headers.delete(name);
    await response.body?.cancel();
    current = new Request(target, {
      method: asGet ? 'GET' : current.method,
      headers,
      body: asGet ? null : (plan.replayBody ?? null),
      redirect: 'manual',
    });
    // Within the API's origin the whole credential goes along, a query part included, which the new Location may lack.
    if (carried && !leaving) current = attach(current, credential, asGet ? undefined : plan.replayBody);
    response = await send(current);
  }
  return { response, carried };
}

// Percent-escapes of ASCII undone (at most 4 rounds: `%2574` is `%74` is `t`),
// so a credential escaped any way a URL allows is still seen. Credentials
// are header-safe ASCII, so the bytes above 0x7f never need decoding.
function unescapedAscii(text: string): string {
  for (let round = 0; round < 4; round++) {
    const next = text.replace(/%([0-7][0-9a-f])/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
    if (next === text) break;
    text = next;
  }
  return text;
}

/** Whether `href` holds any of `secrets`, as written or with its escapes undone. */
function carries(href: string, secrets: readonly string[]): boolean {
  const plain = unescapedAscii(href);
  return redactSecrets(href, secrets) !== href || redactSecrets(plain, secrets) !== plain;
}

/**
 * Sends one attempt: the credential only on operations that need it and
 * only to the API's own origin, redirects followed by hand, and one replay
 * with a fresh token after a 401 to a request that carried the credential.
 * Resolves once the headers are in. A fetch plugged in that ignores its
 * signal is still raced against the deadline.
 */
export async function deliver(
  transport: Transport,
  request: OutgoingRequest,
  plan: CallPlan,
  deadline: Deadline,
  ext?: RequestInit,
): Promise<Response> {
  const authenticator = plan.authenticator ?? transport.authenticator;
  const fetch = plan.fetch ?? transport.fetch;
  if (request instanceof LeanRequest) mergeExt(request, ext);
  // Made when a Request is first sent: a redirect's hop, a replay or a query credential's rebuilt Request carries the same options.
  let init: RequestInit | undefined;
  const send = (target: OutgoingRequest) =>
    dispatch(fetch, target, deadline, target instanceof LeanRequest ? undefined : (init ??= initFor(request, ext)));
  // The client's base URL is normalised (and so is a Request's URL), so an
  // origin check is a prefix check, up to the `/` that ends the origin; a
  // call's own unnormalised `baseUrl` at worst goes without the credential.
  if (!plan.requiresAuth || !authenticator || !request.url.startsWith(`${transport.ownOrigin}/`)) return send(request);
  // Raced, not given the signal: a token request is shared by every call
  // waiting for it, so one call's deadline only stops that call's wait.
  const header = authenticator.cachedAuthorization?.() ?? (await deadline.race(() => authenticator.getAuthorization()));
  remember(transport, header);
  // `body`: what a rebuilt Request (a query credential) sends; undefined keeps the target's own.
  const attach = (target: OutgoingRequest, credential: Credential, body: BodyInit | undefined) => {
    if (authenticator.attach) return authenticator.attach(target, credential, body);
    target.headers.set(credential.name, credential.value);
    return target;
  };
  const asked = request.url;
  const sent = attach(request, header, plan.replayBody);
  // A credential in the query would show in the response's `url` (util.inspect, a logging middleware's line).
  const shown = sent.url === asked ? (r: Response) => r : unexposed;
  let response = await send(sent);
  let carried = true;
  if (REDIRECTS.has(response.status)) ({ response, carried } = await redirected(transport, send, sent, response, header, plan, attach));
  // Only the API's own answer to the credential says anything about it: a
  // 401 from where a redirect took the request without it must not make a
  // foreign host decide how often a refresh token is spent.
  if (response.status !== 401 || !carried || !plan.replayable) return shown(response, header);
  if (!(await deadline.race(() => authenticator.handleUnauthorized(header.value)))) return shown(response, header);
  // A LeanRequest's body is the replayable one itself, and the fresh credential replaces the stale one on it.
  const replay =
    request instanceof LeanRequest
      ? request
      : plan.replayBody === undefined
        ? new Request(request as Request)
        : new Request(request as Request, { body: plan.replayBody });
  const fresh = await deadline.race(() => authenticator.getAuthorization());
  remember(transport, fresh);
  await response.body?.cancel();
  emit(transport.log, 'debug', 'replaying after 401 with a new token', { method: plan.method, path: plan.path });
  const sentReplay = attach(replay, fresh, plan.replayBody);
  const replayed = await send(sentReplay);
  return shown(
    REDIRECTS.has(replayed.status) ? (await redirected(transport, send, sentReplay, replayed, fresh, plan, attach)).response : replayed,
    fresh,
  );
}

/** `response` with a `url` that holds no part of `credential`: the query parameters that carry one are left out. */
function unexposed(response: Response, credential: Credential): Response {
  const secrets = secretsOf(credential);
  if (redactSecrets(response.url, secrets) === response.url) return response;
  const url = new URL(response.url);
  for (const part of partsOf(credential)) dropFromQuery(url, part.value);
  Object.defineProperty(response, 'url', { value: redactSecrets(url.href, secrets) });
  return response;
}

/**
 * How long to wait before sending `response`'s request again, or undefined
 * when it is final: not a retryable status (or the server's
 * `x-should-retry` says no), or a `Retry-After` past `maxRetryDelay`.
 */
export function retryDelayAfter(transport: Transport, plan: CallPlan, response: Response, attempt: number): number | undefined {
  const shouldRetry = response.headers.get('x-should-retry');
  if (shouldRetry === 'false' || (shouldRetry !== 'true' && !isRetryStatus(response.status))) return undefined;
  const asked = retryAfterMs(response.headers);
  if (asked !== undefined && asked > transport.maxRetryDelayMs) {
    emit(transport.log, 'warn', 'not retrying: the server asks to wait longer than maxRetryDelay', {
      method: plan.method,
      path: plan.path,
      status: response.status,
      retryAfterMs: asked,
    });
    return undefined;
  }
  return asked ?? backoffMs(attempt);
}

// Node's setTimeout runs a delay outside 1 ms .. 2^31-1 ms after 1 ms; so do deadlines.
const TIMER_MAX_MS = 2 ** 31 - 1;

/** What the clock needs of a timer: Node's and Bun's can stop holding the process open; a browser's or Deno's (a number) cannot. */
type Timer = ReturnType<typeof setTimeout> & { unref?(): unknown; ref?(): unknown };

/**
 * The deadlines of one client's attempts, earliest first, under one timer.
 * Nearly every attempt ends long before its timeout, and a timer of its own
 * (made, listed and torn down per attempt) cost it more than the rest of its
 * deadline: here an attempt that ends in time costs a list insertion and a
 * removal. The timer, set for the earliest deadline, is left running when
 * attempts end; when it fires it times out those due and is set for the
 * next. It holds the process open only while an attempt is under way (a
 * timer that cannot be unref'd is cleared instead). Deadlines are kept in
 * Date.now() time, which fake clocks move with their timers; the timer keeps
 * monotonic time, so what it was set for is due when it fires even if the
 * wall clock was set back meanwhile.
 */
export class DeadlineClock {
  #head: Deadline | undefined;
  #tail: Deadline | undefined;
  #running = 0;
  #timer: Timer | undefined;
  #timerAt = 0;

  add(deadline: Deadline, timeoutMs: number): void {
    const at = Date.now() + (timeoutMs >= 1 && timeoutMs <= TIMER_MAX_MS ? timeoutMs : 1);
    deadline.at = at;
    // Searched from the end: attempts mostly share their client's timeout, so a new one is mostly the latest.
    let before = this.#tail;
    while (before !== undefined && before.at > at) before = before.prev;
    const after = before === undefined ? this.#head : before.next;
    deadline.prev = before;
    deadline.next = after;
    if (before === undefined) this.#head = deadline;
    else before.next = deadline;
    if (after === undefined) this.#tail = deadline;
    else after.prev = deadline;
    deadline.listed = true;
    if (this.#running++ === 0) this.#timer?.ref?.();
    if (this.#timer === undefined || at < this.#timerAt) this.#arm(at);
  }

  remove(deadline: Deadline): void {
    if (!deadline.listed) return;
    deadline.listed = false;
    const { prev, next } = deadline;
    if (prev === undefined) this.#head = next;
    else prev.next = next;
    if (next === undefined) this.#tail = prev;
    else next.prev = prev;
    deadline.prev = undefined;
    deadline.next = undefined;
    if (--this.#running > 0 || this.#timer === undefined) return;
    if (this.#timer.unref) this.#timer.unref();
    else {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(at: number): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#fire, at - Date.now());
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const due = Math.max(Date.now(), this.#timerAt);
    for (let first = this.#head; first !== undefined && first.at <= due; first = this.#head) {
      this.remove(first);
      first.expire();
    }
    if (this.#head !== undefined) this.#arm(this.#head.at);
  };
}

/** One attempt's clock: aborts on its timeout or with the caller's signal, until stopped. Waits are raced, with no listener on the signal. */
export class Deadline {
  /** Timed out, or aborted by the caller. */
  aborted = false;
  /** The error the timeout made, once it fired. */
  timedOut: TimeoutError | undefined;
  /** When it falls due, and its place in its clock's list: the clock's to set. */
  at = 0;
  prev: Deadline | undefined = undefined;
  next: Deadline | undefined = undefined;
  // Stryker disable next-line BooleanLiteral: the constructor puts it on its clock, which sets this, before anything reads it
  listed = false;
  // Made with the signal: a stubbed or signal-less fetch needs neither.
  #controller: AbortController | undefined;
  readonly #clock: DeadlineClock;
  readonly #onTimeout: () => TimeoutError;
  readonly #userSignal: AbortSignal | undefined;
  readonly #onUserAbort: (() => void) | undefined;
  #reason: unknown;
  #rejectRace: ((reason: unknown) => void) | undefined;

  constructor(clock: DeadlineClock, timeoutMs: number, userSignal: AbortSignal | undefined, onTimeout: () => TimeoutError) {
    this.#clock = clock;
    this.#onTimeout = onTimeout;
    this.#userSignal = userSignal;
    // A comment before an else is no marker to StrykerJS: this pair holds { once: true } only.
    // Stryker disable ObjectLiteral,BooleanLiteral: a signal fires 'abort' once, and stop() removes the listener
    if (userSignal?.aborted) this.#abort(userSignal.reason);
    else if (userSignal) userSignal.addEventListener('abort', (this.#onUserAbort = () => this.#abort(userSignal.reason)), { once: true });
    // Stryker restore ObjectLiteral,BooleanLiteral
    clock.add(this, timeoutMs);
  }

  /** Aborts with the deadline; made on first use, aborted already if the deadline has passed. */
  signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Starts `work` unless the deadline has passed; rejects with the abort reason as soon as it does, whether or not `work` watches a signal. */
  race<T>(work: () => Promise<T>): Promise<T> {
    if (this.aborted) return Promise.reject(this.#reason);
    return new Promise((resolve, reject) => {
      this.#rejectRace = reject;
      work().then(resolve, reject);
    });
  }

  /** Its clock calls this when it falls due. */
  expire(): void {
    if (this.aborted) return;
    this.timedOut = this.#onTimeout();
    this.#abort(this.timedOut);
  }

  stop(): void {
    this.#clock.remove(this);
    if (this.#onUserAbort) this.#userSignal!.removeEventListener('abort', this.#onUserAbort);
  }

  #abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#rejectRace?.(reason);
  }
}
