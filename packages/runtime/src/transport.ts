// One HTTP exchange with everything a caller should not have to think about:
// the token (only for operations that need it, only to the client's own
// origin), one replay after a 401, timeouts, and retries with backoff.
import { PorticoError, type Authenticator } from '@portico/auth';
import { ConnectionError, TimeoutError } from './errors.js';
import { emit, type Log } from './log.js';

export interface Transport {
  fetch: typeof fetch;
  authenticator: Authenticator | undefined;
  ownOrigin: string;
  maxRetryDelayMs: number;
  log: Log;
  /** The Authorization values (and their tokens) lately sent, for redaction: a server may echo them. */
  sent: Set<string>;
  lastSent?: string;
}

const REMEMBERED = 8;

function remember(t: Transport, headerValue: string): void {
  if (t.lastSent === headerValue) return;
  t.lastSent = headerValue;
  for (const value of [headerValue, headerValue.slice(headerValue.indexOf(' ') + 1)]) {
    t.sent.delete(value);
    t.sent.add(value);
  }
  // Tokens renew for as long as the client lives; the oldest no longer matter.
  while (t.sent.size > REMEMBERED) t.sent.delete(t.sent.values().next().value!);
}

export interface Exchange {
  method: string;
  /** The path template, for errors and logs. */
  path: string;
  auth: boolean;
  /** Safe to send twice: idempotent by method, or marked so in the spec. */
  retrySafe: boolean;
  /** The body can be sent again (not a one-shot stream). */
  replayable: boolean;
  maxRetries: number;
  timeoutMs: number;
  /** Stops the timeout; called once the body has been read. */
  settle?: () => void;
  /** Aborts the first attempt: its signal is already on the request openapi-fetch built. */
  controller: AbortController;
  /** The caller's own signal, if any. */
  userSignal: AbortSignal | undefined;
  /** The serialized body, kept to send again on a retry or after a 401. */
  body?: BodyInit | null;
}

const RETRY_STATUS = (status: number) => status === 408 || status === 409 || status === 429 || (status >= 500 && status <= 599);
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;

// RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a
// recipient must accept. Only their shape is checked here; Date.parse reads
// all three (asctime has no zone: it is GMT).
const HTTP_DATE = /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{5,8}, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|([A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}))$/;

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

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 5;

/**
 * Follows the redirects of a request that carries a credential (sent with
 * redirect: 'manual', so whatever fetch is plugged in cannot follow them
 * itself): the credential goes along only while the origin stays the API's
 * own; a hop elsewhere drops it, as fetch drops Authorization, but for any
 * header name the profile uses.
 */
async function following(t: Transport, request: Request, response: Response, credential: string, x: Exchange): Promise<Response> {
  let current = request;
  for (let hop = 0; hop < MAX_REDIRECTS && REDIRECTS.has(response.status); hop++) {
    const location = response.headers.get('location');
    const target = location === null ? undefined : URL.parse(location, current.url);
    if (!target || (target.protocol !== 'https:' && target.protocol !== 'http:')) return response;
    // Fetch's rules (WHATWG Fetch §4.4): 303, and 301/302 after a POST, continue as a GET without a body.
    const asGet = (response.status === 303 && current.method !== 'HEAD') || ((response.status === 301 || response.status === 302) && current.method === 'POST');
    if (!asGet && x.body === undefined && current.body !== null) return response;
    const headers = new Headers(current.headers);
    // Cookies are per origin too: an API key sent as one stays behind with the header.
    if (target.origin !== t.ownOrigin) for (const name of [credential, 'cookie']) headers.delete(name);
    if (asGet) for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) headers.delete(name);
    await response.body?.cancel();
    current = new Request(target, { method: asGet ? 'GET' : current.method, headers, body: asGet ? null : (x.body ?? null), redirect: 'manual', signal: current.signal });
    response = await t.fetch(current);
  }
  return response;
}

async function authorized(t: Transport, request: Request, x: Exchange): Promise<Response> {
  const authenticator = t.authenticator;
  // The URL is normalised by Request, so an origin check is a prefix check.
  if (!x.auth || !authenticator || !request.url.startsWith(`${t.ownOrigin}/`)) return t.fetch(request);
  const header = await authenticator.getAuthorization(request.signal);
  remember(t, header.value);
  const attach = (r: Request, credential: { name: string; value: string }) =>
    authenticator.attach ? authenticator.attach(r, credential, x.body) : (r.headers.set(credential.name, credential.value), r);
  const sent = attach(request, header);
  const response = await following(t, sent, await t.fetch(sent), header.name, x);
  if (response.status !== 401 || !x.replayable) return response;
  if (!(await authenticator.handleUnauthorized(header.value, request.signal))) return response;
  const replay = x.body === undefined ? new Request(request) : new Request(request, { body: x.body });
  const fresh = await authenticator.getAuthorization(request.signal);
  remember(t, fresh.value);
  await response.body?.cancel();
  if (t.log) emit(t.log, 'debug', 'replaying after 401 with a new token', { method: x.method, path: x.path });
  const sentReplay = attach(replay, fresh);
  return following(t, sentReplay, await t.fetch(sentReplay), fresh.name, x);
}

/** Sends `request`, retrying where that is safe; resolves with the final response. */
export async function exchange(t: Transport, request: Request, x: Exchange): Promise<Response> {
  const userSignal = x.userSignal;
  const retries = x.retrySafe && x.replayable ? x.maxRetries : 0;
  for (let attempt = 0; ; attempt++) {
    // The first attempt is the request as built, already carrying the
    // controller's signal: making Requests and AbortSignals is most of a
    // call's cost on Node 20, so a new one is made only for a retry.
    const timeout = attempt === 0 ? x.controller : new AbortController();
    const onAbort = userSignal && (() => timeout.abort(userSignal.reason));
    if (userSignal?.aborted) onAbort!();
    else if (onAbort) userSignal!.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => timeout.abort(new TimeoutError(x.method, x.path, x.timeoutMs)), x.timeoutMs);
    const settle = (x.settle = () => {
      clearTimeout(timer);
      if (onAbort) userSignal!.removeEventListener('abort', onAbort);
    });
    const attemptRequest = attempt === 0 ? request : new Request(request, x.body === undefined ? { signal: timeout.signal } : { signal: timeout.signal, body: x.body });
    const started = t.log ? Date.now() : 0;
    if (t.log) emit(t.log, 'debug', 'request', { method: x.method, path: x.path, attempt: attempt + 1 });
    let failure: Error;
    try {
      const response = await authorized(t, attemptRequest, x);
      if (t.log) emit(t.log, 'info', 'response', { method: x.method, path: x.path, status: response.status, ms: Date.now() - started, attempt: attempt + 1 });
      if (attempt >= retries) return response;
      const shouldRetry = response.headers.get('x-should-retry');
      if (shouldRetry === 'false' || (shouldRetry !== 'true' && !RETRY_STATUS(response.status))) return response;
      const asked = retryAfterMs(response.headers);
      if (asked !== undefined && asked > t.maxRetryDelayMs) {
        emit(t.log, 'warn', 'not retrying: the server asks to wait longer than maxRetryDelay', { method: x.method, path: x.path, status: response.status, retryAfterMs: asked });
        return response;
      }
      settle();
      await response.body?.cancel();
      const delay = asked ?? backoffMs(attempt);
      emit(t.log, 'warn', 'retrying', { method: x.method, path: x.path, status: response.status, attempt: attempt + 1, delayMs: Math.round(delay) });
      await sleep(delay, userSignal);
      continue;
    } catch (e) {
      settle();
      if (userSignal?.aborted) throw userSignal.reason ?? e;
      // Token errors (re-authorization needed, a rejected grant) are not
      // transport failures: they reach the caller as they are.
      if (!timeout.signal.aborted && e instanceof PorticoError) throw e;
      failure = timeout.signal.aborted ? (timeout.signal.reason as TimeoutError) : new ConnectionError(x.method, x.path, e, [...t.sent]);
    }
    if (attempt >= retries) {
      emit(t.log, 'error', failure.message, { method: x.method, path: x.path, attempt: attempt + 1 });
      throw failure;
    }
    const delay = backoffMs(attempt);
    emit(t.log, 'warn', 'retrying', { method: x.method, path: x.path, reason: (failure as { code?: string }).code, attempt: attempt + 1, delayMs: Math.round(delay) });
    await sleep(delay, userSignal);
  }
}
