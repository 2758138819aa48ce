// (11) What OpenTelemetry costs a call: section (2)'s loopback exchange, one
// Portico client with `telemetry: openTelemetry()` against one without, in
// the same process and rounds. The SDK is set up as NodeSDK would be (an
// AsyncLocalStorage context manager, the W3C propagator, a batch span
// processor, a meter provider with a reader), exporting to a no-op
// exporter, so what is measured is Portico's instrumentation and the SDK's
// own span and metric work, not a collector.
//   node --import tsx bench/telemetry.ts [--quick]
import { context, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createClient } from '../packages/dexero-fd/dist/index.js';
import { openTelemetry } from '../packages/runtime/dist/telemetry.js';
import { SEARCH_BODY, SEARCH_QUERY } from './lib/fixtures.ts';
import { load } from './lib/load.ts';
import { type Figure, fmt, verdict, writeResult } from './lib/results.ts';
import { startLoopback } from './lib/spawn-server.ts';

const quick = process.argv.includes('--quick');
const CONCURRENCY = 50;
const REQUESTS = quick ? 2_000 : 10_000;
const ROUNDS = quick ? 1 : 7;
const started = performance.now();

/** Takes every batch and drops it: the SDK's work up to the wire, no wire. */
let exported = 0;
const noop: SpanExporter = {
  export: (spans, done) => {
    exported += spans.length;
    done({ code: 0 });
  },
  shutdown: async () => undefined,
};
class PullReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(noop)] });
const reader = new PullReader();
const meterProvider = new MeterProvider({ readers: [reader] });

const server = await startLoopback(5);
try {
  const base = `${server.url}/services/v6/rest`;
  const auth = { clientId: 'bench-client', clientSecret: 'bench-secret-value', tokenUrl: `${server.url}/oauth/token.action` };
  const off = createClient({ baseUrl: base, auth });
  const on = createClient({ baseUrl: base, auth, telemetry: openTelemetry({ tracerProvider, meterProvider }) });
  // Both clients are called as an app under NodeSDK calls them, within a traced request (here one
  // long-lived span): the context manager carries that context through every promise either way.
  const handling = trace.setSpan(ROOT_CONTEXT, tracerProvider.getTracer('bench').startSpan('incoming request'));
  const call = (client: typeof off) => () =>
    context.with(handling, async () => {
      const { data, error } = await client.GET('/records/search.{format}', { params: { path: { format: 'json' }, query: SEARCH_QUERY } });
      if (error !== undefined) throw new Error(JSON.stringify(error));
      return data;
    });
  const contenders: Record<string, () => Promise<unknown>> = { 'telemetry off': call(off), 'telemetry on': call(on) };
  const expected = JSON.stringify(JSON.parse(SEARCH_BODY));
  for (const [name, run] of Object.entries(contenders))
    if (JSON.stringify(await run()) !== expected) throw new Error(`${name}: unexpected body`);

  for (const run of Object.values(contenders)) await load(run, quick ? 500 : 2_000, CONCURRENCY);
  const NAMES = Object.keys(contenders);
  const runs: Record<string, { rps: number; p50: number; p99: number; cpu: number }[]> = Object.fromEntries(NAMES.map((n) => [n, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = NAMES.map((_, i) => NAMES[(i + round) % NAMES.length]!);
    for (const name of order) runs[name]!.push(await load(contenders[name]!, REQUESTS, CONCURRENCY));
  }
  await tracerProvider.forceFlush();
  const { resourceMetrics } = await reader.collect();
  const requestPoints = resourceMetrics.scopeMetrics
    .flatMap((s) => s.metrics)
    .filter((m) => m.descriptor.name === 'http.client.request.duration')
    .flatMap((m) => m.dataPoints as { value: { count: number } }[]);
  const recorded = requestPoints.reduce((sum, p) => sum + p.value.count, 0);
  // Every call of the "on" client, warm-up included, made a span for the call and one for its request.
  const onCalls = 1 + (quick ? 500 : 2_000) + ROUNDS * REQUESTS;
  if (exported < 2 * onCalls || recorded < onCalls)
    throw new Error(`telemetry on: expected at least ${2 * onCalls} spans and ${onCalls} durations, saw ${exported} and ${recorded}`);

  // CPU per request, the least over the rounds: other work on the machine only adds to it.
  const minCpu = (name: string) => Math.min(...runs[name]!.map((r) => r.cpu));
  const best = (name: string) => runs[name]!.reduce((a, b) => (b.rps > a.rps ? b : a));
  const figures: Figure[] = [
    {
      label: 'telemetry on: client CPU per request (loopback, 50 callers)',
      value: minCpu('telemetry on'),
      unit: 'µs',
      baselineLabel: 'telemetry off',
      baseline: minCpu('telemetry off'),
      better: 'lower',
      note: 'target ≤ 1.10x',
    },
    {
      label: 'telemetry on: throughput (loopback, 50 callers)',
      value: best('telemetry on').rps,
      unit: 'req/s',
      baselineLabel: 'telemetry off',
      baseline: best('telemetry off').rps,
      better: 'higher',
    },
  ];
  const rows = Object.entries(runs).flatMap(([name, rs]) =>
    rs.map(
      (r, i) =>
        `| ${name} | ${i + 1} | ${fmt(r.rps, 'req/s')} | ${r.p50.toFixed(2)} ms | ${r.p99.toFixed(2)} ms | ${r.cpu.toFixed(0)} µs |`,
    ),
  );
  const details = `Section (2)'s server and call (\`GET /records/search.json\` through \`@portico/dexero-fd\` with client credentials, ${CONCURRENCY} concurrent callers, ${REQUESTS.toLocaleString('en-US')} requests per run), made by two clients in one process: one without \`telemetry\`, one with \`telemetry: openTelemetry({ tracerProvider, meterProvider })\`. Both are called within one traced request's context, as an app under NodeSDK calls them while it handles a request, so the context manager's work on every promise is paid by both; outside any context, \`off\` would skip it, and on the same stubbed call (no network) that difference alone was about 25 µs while working on this. The OpenTelemetry SDK 2.x is set up as NodeSDK sets it up: an AsyncLocalStorage context manager, the W3C trace-context propagator (so every request carries a \`traceparent\`), a \`BatchSpanProcessor\` feeding a no-op exporter (${exported.toLocaleString('en-US')} spans taken), and a meter provider whose reader aggregates every recording (${recorded.toLocaleString('en-US')} request durations). Per call the instrumented client makes two spans (the call's and its request's) and one histogram recording. After a warm-up run each, ${ROUNDS} round(s) in rotating order; client CPU per request is \`process.cpuUsage()\` over a run divided by its requests, the least over the rounds.

| client | round | requests/s | p50 | p99 | client CPU per request |
| --- | --- | --- | --- | --- | --- |
${rows.join('\n')}

${figures.map((f) => `- ${f.label}: ${fmt(f.value, f.unit)} vs ${fmt(f.baseline!, f.unit)} with telemetry off: ${verdict(f)}`).join('\n')}
`;
  writeResult({ section: 11, title: 'OpenTelemetry on against off', figures, details, ms: performance.now() - started });
  console.log(details);
} finally {
  server.close();
  await tracerProvider.shutdown();
  await meterProvider.shutdown();
}
