// Issue 25: a shared-store lock wait across two processes, traced from the
// parent. Two child processes (two-processes-worker.ts, run from source)
// share one client-credentials grant in a real redis-server; each runs one
// call under the trace context this process sends it (W3C traceparent in an
// environment variable) and prints its exported spans and metrics. The first
// takes the lock and asks for a token, which the token endpoint holds until
// the second says it waits for the lock; the second then finds the first's
// token under the lock and asks for none.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedis } from '../../../testing/src/redis.ts';
import { json, startServer, type TestServer, until } from '../helpers.ts';
import { registerGlobals, Telemetry } from './otel.ts';

registerGlobals();
const otel = new Telemetry();
const WORKER = fileURLToPath(new URL('./two-processes-worker.ts', import.meta.url));
const TOKEN = 'two-processes-token-0123456789';

interface Exported {
  data: unknown;
  spans: { name: string; kind: SpanKind; traceId: string; spanId: string; parentSpanId?: string; attributes: Record<string, unknown> }[];
  points: { name: string; attributes: Record<string, unknown>; value: unknown }[];
}

/** A child process of the worker, its stdout read line by line. */
class Worker {
  readonly lines: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  #stderr = '';

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--conditions=@portico/source', '--import', 'tsx', WORKER], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let rest = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      const text = rest + chunk.toString();
      const lines = text.split('\n');
      rest = lines.pop()!;
      this.lines.push(...lines);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', resolve));
  }

  /** Resolves once a line `line` was printed; bounded. */
  async said(line: string, limitMs = 30_000): Promise<void> {
    const until = Date.now() + limitMs;
    while (!this.lines.includes(line)) {
      if (this.child.exitCode !== null || Date.now() > until) throw new Error(`the worker never said ${line}: ${this.#stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async exported(): Promise<Exported> {
    const code = await Promise.race([this.exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 60_000))]);
    if (code !== 0) throw new Error(`the worker ended with ${String(code)}: ${this.#stderr}`);
    return JSON.parse(this.lines.find((line) => line.startsWith('{'))!) as Exported;
  }
}

let redis: RedisServer;
let api: TestServer;
let releaseToken: () => void = () => undefined;
let tokenRequests = 0;

beforeAll(async () => {
  redis = await startRedis();
  api = await startServer();
  const released = new Promise<void>((resolve) => (releaseToken = resolve));
  api
    .on('POST /oauth/token', async () => {
      tokenRequests++;
      await released;
      return json(200, { access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 }, { 'cache-control': 'no-store' });
    })
    .on('GET /items/7', (request) =>
      request.headers.authorization === `Bearer ${TOKEN}` ? json(200, { id: 7 }) : json(401, { error: 'invalid_token' }),
    );
}, 60_000);
afterAll(async () => {
  releaseToken();
  await api?.close();
  await redis?.stop();
});

describe('two processes sharing one grant in Redis', () => {
  it('the second waits for the lock under the parent’s trace, then finds the first’s token', async () => {
    const root = otel.tracer.startSpan('two processes');
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(ROOT_CONTEXT, root), carrier);
    const env = { PORTICO_TWO_PROCESSES: JSON.stringify({ api: api.url, redis: redis.url, traceparent: carrier.traceparent }) };

    const first = new Worker(env);
    try {
      // The first has the lock and its token request is out (held).
      await first.said('lock-wait');
      await until(() => tokenRequests === 1, 'the first process’s token request', 30_000);
      const second = new Worker(env);
      try {
        await second.said('lock-wait');
        releaseToken();
        const [a, b] = await Promise.all([first.exported(), second.exported()]);
        root.end();
        expect([a.data, b.data]).toEqual([{ id: 7 }, { id: 7 }]);
        expect(tokenRequests).toBe(1);

        const { traceId, spanId } = root.spanContext();
        for (const { spans } of [a, b]) {
          // One trace: every span of both processes is in the parent's, each call right under the parent's span.
          expect(spans.every((span) => span.traceId === traceId)).toBe(true);
          expect(spans.find((span) => span.name === 'GET /items/{id}' && span.kind === SpanKind.INTERNAL)!.parentSpanId).toBe(spanId);
        }
        expect(outline(a.spans)).toBe(
          [
            'GET /items/{id}',
            '  portico.auth.wait',
            '    portico.auth.renew',
            '      portico.auth.lock.wait',
            '      POST',
            '  GET /items/{id}',
          ].join('\n'),
        );
        // The second waited for the lock the first held, within its renewal, and asked for no token.
        expect(outline(b.spans)).toBe(
          ['GET /items/{id}', '  portico.auth.wait', '    portico.auth.renew', '      portico.auth.lock.wait', '  GET /items/{id}'].join(
            '\n',
          ),
        );
        const renewal = (spans: Exported['spans']) => spans.find((span) => span.name === 'portico.auth.renew')!.attributes;
        expect(renewal(a.spans)).toMatchObject({ 'portico.auth.grant_type': 'client_credentials', 'portico.auth.outcome': 'renewed' });
        expect(renewal(b.spans)).toMatchObject({ 'portico.auth.grant_type': 'client_credentials', 'portico.auth.outcome': 'found' });
        expect(b.points.find((p) => p.name === 'portico.auth.lock.wait.duration')).toMatchObject({ value: { count: 1 } });
        expect(b.points.find((p) => p.name === 'portico.auth.renewals')).toMatchObject({
          value: 1,
          attributes: { 'portico.auth.outcome': 'found', 'portico.auth.reason': 'missing' },
        });
      } finally {
        second.child.kill();
      }
    } finally {
      first.child.kill();
    }
  }, 120_000);
});

/** The spans as an indented outline from the call down, children in the order they were exported (ended) within their parent. */
function outline(spans: Exported['spans']): string {
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    for (const span of spans)
      if (span.parentSpanId === parent) {
        lines.push(`${'  '.repeat(depth)}${span.name}`);
        walk(span.spanId, depth + 1);
      }
  };
  const call = spans.find((span) => span.name === 'GET /items/{id}' && span.kind === SpanKind.INTERNAL)!;
  lines.push(call.name);
  walk(call.spanId, 1);
  return lines.join('\n');
}
