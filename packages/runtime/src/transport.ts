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

const RETRY_STATUS = (status: number) => status === 408 || status === 409 || status === 429 || status >= 500;
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 8_000;

/** Delay the server asked for (`retry-after-ms`, `retry-after` seconds or HTTP date), in ms. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (value.trim() !== '' && Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
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

async function authorized(t: Transport, request: Request, x: Exchange): Promise<Response> {
  const authenticator = t.authenticator;
  // The URL is normalised by Request, so an origin check is a prefix check.
  if (!x.auth || !authenticator || !request.url.startsWith(`${t.ownOrigin}/`)) return t.fetch(request);
  const header = await authenticator.getAuthorization(request.signal);
  remember(t, header.value);
  const send = (r: Request, credential: { name: string; value: string }) =>
    authenticator.send ? authenticator.send(r, credential, { fetch: t.fetch, ownOrigin: t.ownOrigin, body: x.body }) : (r.headers.set(credential.name, credential.value), t.fetch(r));
  const response = await send(request, header);
  if (response.status !== 401 || !x.replayable) return response;
  if (!(await authenticator.handleUnauthorized(header.value, request.signal))) return response;
  const replay = x.body === undefined ? new Request(request) : new Request(request, { body: x.body });
  const fresh = await authenticator.getAuthorization(request.signal);
  remember(t, fresh.value);
  await response.body?.cancel();
  if (t.log) emit(t.log, 'debug', 'replaying after 401 with a new token', { method: x.method, path: x.path });
  return send(replay, fresh);
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
      failure = timeout.signal.aborted ? (timeout.signal.reason as TimeoutError) : new ConnectionError(x.method, x.path, e);
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
