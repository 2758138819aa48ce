// One process of two-processes.test.ts: a client of the tests' spec with
// client credentials whose tokens live in a shared Redis, its telemetry in
// the real SDK's memory exporter and a pull reader. It runs one call under
// the trace context its parent put in TRACEPARENT (W3C, through the global
// propagator), then prints what it exported as one JSON line. It says
// `lock-wait` as it starts to wait for the store's lock, so the parent can
// hold the first process's token request until the second one waits.
import { context, propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { createRedisStore } from '../../../redis/src/index.ts';
import { openTelemetry } from '../../src/telemetry.ts';
import { createClient } from './client.ts';
import { registerGlobals, Telemetry } from './otel.ts';

interface Config {
  api: string;
  redis: string;
  traceparent: string;
}

const config = JSON.parse(process.env.PORTICO_TWO_PROCESSES!) as Config;
registerGlobals();
const otel = new Telemetry();
const telemetry = openTelemetry({ tracerProvider: otel.tracerProvider, meterProvider: otel.meterProvider });
const store = createRedisStore({
  url: config.redis,
  telemetry: {
    lockWait: () => {
      process.stdout.write('lock-wait\n');
      return telemetry.lockWait();
    },
    storeError: telemetry.storeError,
  },
});
const client = createClient({
  baseUrl: config.api,
  auth: { clientId: 'two-processes', clientSecret: 'two-processes-secret-0123456789', tokenUrl: `${config.api}/oauth/token`, store },
  telemetry,
});

const parent = propagation.extract(ROOT_CONTEXT, { traceparent: config.traceparent });
const { data } = await context.with(parent, () => client.GET('/items/{id}', { params: { path: { id: 7 } } }));
await store.close();
const spans = otel.spans().map((span) => ({
  name: span.name,
  kind: span.kind,
  traceId: span.spanContext().traceId,
  spanId: span.spanContext().spanId,
  parentSpanId: span.parentSpanContext?.spanId,
  attributes: span.attributes,
  status: span.status.code,
}));
process.stdout.write(`${JSON.stringify({ data, spans, points: await otel.points() })}\n`);
