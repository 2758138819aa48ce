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
}

const REMEMBERED = 8;

function remember(t: Transport, headerValue: string): void {
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

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function authorized(t: Transport, request: Request, x: Exchange, bytes: ArrayBuffer | undefined): Promise<Response> {
  const authenticator = t.authenticator;
  if (!x.auth || !authenticator || new URL(request.url).origin !== t.ownOrigin) return t.fetch(request);
  const header = await authenticator.getAuthorization(request.signal);
  remember(t, header.value);
  request.headers.set(header.name, header.value);
  const response = await t.fetch(request);
  if (response.status !== 401 || !x.replayable) return response;
  if (!(await authenticator.handleUnauthorized(header.value, request.signal))) return response;
  // Copied only now that it is needed: a body from its bytes, no body as is.
  const replay = bytes === undefined ? request.clone() : new Request(request, { body: bytes });
  const fresh = await authenticator.getAuthorization(request.signal);
  remember(t, fresh.value);
  replay.headers.set(fresh.name, fresh.value);
  await response.body?.cancel();
  emit(t.log, 'debug', 'replaying after 401 with a new token', { method: x.method, path: x.path });
  return t.fetch(replay);
}

/** Sends `request`, retrying where that is safe; resolves with the final response. */
export async function exchange(t: Transport, request: Request, x: Exchange): Promise<Response> {
  const userSignal = request.signal;
  const retries = x.retrySafe && x.replayable ? x.maxRetries : 0;
  // A body that may be sent again is read once; each attempt (and a replay
  // after a 401) gets a Request of its own from the bytes. Cloning would tee
  // the stream, and a Request made from a Request pipes its body through a
  // TransformStream: both cost more than the call itself with a fast server.
  const bytes = x.replayable && request.body !== null ? await request.arrayBuffer() : undefined;
  for (let attempt = 0; ; attempt++) {
    const timeout = new AbortController();
    // The attempt aborts on the caller's signal too. A listener, not
    // AbortSignal.any(), which costs tens of µs per call on Node 20.
    const onAbort = () => timeout.abort(userSignal.reason);
    if (userSignal.aborted) onAbort();
    else userSignal.addEventListener('abort', onAbort, { once: true });
    const timer = setTimeout(() => timeout.abort(new TimeoutError(x.method, x.path, x.timeoutMs)), x.timeoutMs);
    const settle = (x.settle = () => {
      clearTimeout(timer);
      userSignal.removeEventListener('abort', onAbort);
    });
    const attemptRequest =
      bytes === undefined ? new Request(request, { signal: timeout.signal }) : new Request(request, { signal: timeout.signal, body: bytes });
    const started = Date.now();
    emit(t.log, 'debug', 'request', { method: x.method, path: x.path, attempt: attempt + 1 });
    let failure: Error;
    try {
      const response = await authorized(t, attemptRequest, x, bytes);
      emit(t.log, 'info', 'response', { method: x.method, path: x.path, status: response.status, ms: Date.now() - started, attempt: attempt + 1 });
      const shouldRetry = response.headers.get('x-should-retry');
      if (attempt >= retries || shouldRetry === 'false' || (shouldRetry !== 'true' && !RETRY_STATUS(response.status))) return response;
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
      if (userSignal.aborted) throw userSignal.reason ?? e;
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
