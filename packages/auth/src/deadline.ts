import { TokenTimeoutError } from './errors.js';

/** Default bound on one token-endpoint call (and on the wait for the store's lock before it). */
export const DEFAULT_TOKEN_TIMEOUT_MS = 30_000;

/** Settles like `promise`, or rejects with `signal`'s reason first: a waiter may give up while the work it waits on carries on. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * Runs `fn` with a signal that aborts when `signal` does or after
 * `timeoutMs` (with a TokenTimeoutError). It settles by then even if `fn`
 * ignores its signal, e.g. a server that trickles bytes forever.
 */
export async function withDeadline<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  signal?.throwIfAborted();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TokenTimeoutError(what, timeoutMs)), timeoutMs);
  const onAbort = () => controller.abort(signal!.reason);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await abortable(fn(controller.signal), controller.signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}
