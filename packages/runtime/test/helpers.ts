// Shared by the runtime suites: a loopback server the tests route by hand, a
// logger that keeps every line, the renderings a secret must never reach,
// and a driver that moves vitest's fake clock only when the client sleeps.
import { inspect } from 'node:util';
import { expect, vi } from 'vitest';
import { type Handler, LoopbackServer, type Reply } from '../../testing/src/http.ts';
import type { Logger } from '../src/log.ts';

export { bearerOf, type Handler, json, jsonOf, type RecordedRequest, type Reply } from '../../testing/src/http.ts';

/** A LoopbackServer whose routes a test sets, noting the (possibly fake) clock at each arrival. */
export class TestServer extends LoopbackServer {
  readonly arrivals: number[] = [];

  on(route: string, handler: Handler): this {
    this.route(route, (request) => {
      this.arrivals.push(Date.now());
      return handler(request);
    });
    return this;
  }

  override inject(route: string, reply: Reply | Handler, options?: { times?: number; delayMs?: number }): void {
    super.inject(
      route,
      (request) => {
        this.arrivals.push(Date.now());
        return typeof reply === 'function' ? reply(request) : reply;
      },
      options,
    );
  }

  override reset(): void {
    super.reset();
    this.arrivals.length = 0;
  }

  /** Requests to `route` ("GET /customers"), in order. */
  seen(route: string) {
    return this.requests.filter((r) => `${r.method} ${r.path}` === route);
  }
}

export function startServer(): Promise<TestServer> {
  return new TestServer().start();
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown> | undefined;
}

/** A Logger that keeps every line, for assertions on retry decisions and on what never gets logged. */
export class MemoryLogger implements Logger {
  readonly lines: LogLine[] = [];
  debug(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'debug', message, fields });
  }
  info(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'info', message, fields });
  }
  warn(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level: 'error', message, fields });
  }
  /** Every line as a logger would print it. */
  texts(): string[] {
    return this.lines.map((l) => `${l.level} ${l.message} ${JSON.stringify(l.fields)} ${inspect(l.fields, { depth: Infinity })}`);
  }
  /** The delays of the retries the client announced, in order. */
  retryDelays(): number[] {
    return this.lines.filter((l) => l.message.endsWith('retrying')).map((l) => l.fields!.delayMs as number);
  }
}

/**
 * What a log line or error report shows of an error: message, stack, deep
 * inspect, JSON, down the cause chain. (An ApiError's `body` property itself
 * stays intact for code; only its printed forms are redacted.)
 */
export function renderings(error: unknown): string[] {
  const out: string[] = [];
  let current: unknown = error;
  for (let i = 0; current !== undefined && i < 10; i++) {
    out.push(inspect(current, { depth: Infinity }), JSON.stringify(current) ?? '', String(current));
    if (!(current instanceof Error)) break;
    out.push(current.message, current.stack ?? '');
    current = current.cause;
  }
  return out;
}

/** Each secret in the spellings a server echo or a log could use. */
function spellings(secrets: readonly string[]): string[] {
  return [
    ...new Set(
      secrets.flatMap((s) => [s, encodeURIComponent(s), new URLSearchParams({ v: s }).toString().slice(2), JSON.stringify(s).slice(1, -1)]),
    ),
  ];
}

export function expectNoSecretsIn(texts: readonly string[], secrets: readonly string[], where: string): void {
  for (const text of texts) {
    for (const secret of spellings(secrets)) expect(text.includes(secret), `${where} leaked ${secret}: ${text.slice(0, 400)}`).toBe(false);
  }
}

/** A recognisable secret value: long enough that redaction treats it as a credential. */
export function canary(kind: string): string {
  return `canary-${kind}-${crypto.randomUUID().replace(/-/g, '')}`;
}

// Captured before any test fakes the clock: real waiting for loopback I/O.
const realImmediate = setImmediate;
const realNow = () => performance.now();
const tick = () => new Promise<void>((resolve) => realImmediate(resolve));

/** Waits (in real time, for loopback I/O) until `condition` holds. */
export async function until(condition: () => boolean, what: string, limitMs = 5_000): Promise<void> {
  const start = realNow();
  while (!condition()) {
    if (realNow() - start > limitMs) throw new Error(`gave up waiting for ${what}`);
    await tick();
  }
}

/**
 * Settles `promise` under fake timers: whenever `step` names a delay (the
 * client announced a retry sleep, or a hanging request should now time out),
 * the fake clock moves by exactly that much; otherwise real loopback I/O runs.
 * The clock never moves on its own, so a client that did not sleep, or slept
 * longer than it said, is caught.
 */
export async function drive<T>(promise: Promise<T>, step: () => number | undefined, limitMs = 10_000): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  const start = realNow();
  while (!settled) {
    if (realNow() - start > limitMs) throw new Error('drive: the call neither settled nor asked for the clock to move');
    const ms = step();
    if (ms === undefined) await tick();
    else await vi.advanceTimersByTimeAsync(ms);
  }
  return promise;
}

/** A step for `drive` that advances by each retry delay the client logs, once. */
export function retrySteps(logger: MemoryLogger): () => number | undefined {
  let used = 0;
  return () => {
    const delays = logger.retryDelays();
    return used < delays.length ? delays[used++] : undefined;
  };
}

export { rejectionOf } from '../../testing/src/util.ts';
