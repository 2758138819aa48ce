// Review 9, finding 3: a tracer, meter or propagator that throws, answers
// with junk or writes hostile headers never changes a call's result, its
// retries or what is sent. fast-check picks a fault of one provider method
// and a call (a GET, a POST that must not be retried, a 503 then 200, a
// redirect to another origin, a walk of pages); the outcome and the requests
// the API saw are compared with the same call made without telemetry.
import { propagation, type TextMapPropagator } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTelemetry } from '../../src/telemetry.ts';
import { json, type RecordedRequest, startServer, type TestServer } from '../helpers.ts';
import { createClient } from './client.ts';
import { registerGlobals, Telemetry } from './otel.ts';

registerGlobals();
const real = new Telemetry();
let api: TestServer;
let other: TestServer;
let flaky = 0;
const TOKEN = 'static-token-0123456789';

beforeAll(async () => {
  api = await startServer();
  other = await startServer();
  api
    .on('GET /items/7', () => json(200, { id: 7 }, { 'x-request-id': 'req-7' }))
    .on('POST /items', () => json(201, { id: 8 }))
    .on('GET /items/3', () => (flaky++ % 2 === 0 ? json(503, { code: 'busy' }, { 'retry-after': '0' }) : json(200, { id: 3 })))
    .on('GET /items/4', () => ({ status: 302, headers: { location: `${other.url}/landing` } }))
    .on('GET /items', (request) => {
      const at = Number(request.query.get('cursor') ?? 0);
      return json(200, { items: [at], next: at < 2 ? String(at + 1) : null });
    });
  other.on('GET /landing', () => json(200, { landed: true }));
});
afterAll(() => Promise.all([api.close(), other.close()]));

const fault = (what: string) => () => {
  throw new Error(`telemetry fault: ${what}`);
};
const SPAN_METHODS = ['setAttribute', 'setAttributes', 'setStatus', 'addEvent', 'end', 'spanContext', 'isRecording', 'updateName'];

/** A tracer provider whose spans (or whose tracer) fail in one way. */
function tracerWith(broken: string): object {
  return {
    getTracer: (...args: unknown[]) => {
      if (broken === 'getTracer') throw new Error('telemetry fault: getTracer');
      const tracer = real.tracerProvider.getTracer(...(args as [string]));
      return {
        startActiveSpan: fault('startActiveSpan'),
        startSpan: (...span: unknown[]) => {
          if (broken === 'startSpan') throw new Error('telemetry fault: startSpan');
          if (broken === 'startSpan junk') return {};
          const made = (tracer.startSpan as (...a: unknown[]) => Record<string, unknown>)(...span);
          return new Proxy(made, {
            get: (target, key) => {
              if (key === broken) return fault(broken);
              const value = target[key as string];
              return typeof value === 'function' ? value.bind(target) : value;
            },
          });
        },
      };
    },
  };
}

/** A meter provider whose meter or instruments fail in one way. */
function meterWith(broken: string): object {
  const instrument = { record: broken === 'record' ? fault('record') : () => {}, add: broken === 'add' ? fault('add') : () => {} };
  return {
    getMeter: () => {
      if (broken === 'getMeter') throw new Error('telemetry fault: getMeter');
      return {
        createHistogram: () => (broken === 'junk instruments' ? undefined : instrument),
        createCounter: () => (broken === 'junk instruments' ? undefined : instrument),
      };
    },
  };
}

type Setter = { set(carrier: unknown, key: string, value: string): void };
const injecting = (
  inject: (carrier: unknown, setter: Setter) => void,
  fields: () => string[] = () => ['traceparent'],
): TextMapPropagator => ({
  inject: (_context, carrier, setter) => inject(carrier, setter as Setter),
  extract: (active) => active,
  fields,
});

const FAULTS: Record<string, { tracerProvider?: object; meterProvider?: object; propagator?: TextMapPropagator }> = {
  ...Object.fromEntries(
    ['getTracer', 'startSpan', 'startSpan junk', ...SPAN_METHODS].map((m) => [`tracer ${m}`, { tracerProvider: tracerWith(m) }]),
  ),
  ...Object.fromEntries(['getMeter', 'record', 'add', 'junk instruments'].map((m) => [`meter ${m}`, { meterProvider: meterWith(m) }])),
  'propagator inject throws': { propagator: injecting(fault('inject')) },
  'propagator fields throws': { propagator: injecting(() => {}, fault('fields')) },
  'propagator fields lists authorization': {
    propagator: injecting(
      () => {},
      () => ['authorization', 'content-type'],
    ),
  },
  'propagator CRLF value': { propagator: injecting((c, s) => s.set(c, 'traceparent', 'x\r\nInjected: 1')) },
  'propagator invalid name': { propagator: injecting((c, s) => s.set(c, 'trace parent', '1')) },
  'propagator authorization': { propagator: injecting((c, s) => s.set(c, 'authorization', 'Bearer attacker')) },
  'propagator Cookie': { propagator: injecting((c, s) => s.set(c, 'Cookie', 'session=attacker')) },
  'propagator proxy-authorization': { propagator: injecting((c, s) => s.set(c, 'proxy-authorization', 'Basic attacker')) },
  'propagator host': { propagator: injecting((c, s) => s.set(c, 'host', 'internal.example')) },
  'propagator content-type': { propagator: injecting((c, s) => s.set(c, 'content-type', 'text/attacker')) },
  'propagator content-length': { propagator: injecting((c, s) => s.set(c, 'Content-Length', '0')) },
};

const CALLS: Record<string, (c: any) => Promise<unknown>> = {
  'GET 200': (c) => c.GET('/items/{id}', { params: { path: { id: 7 } } }),
  'POST 201': (c) => c.POST('/items', { body: { a: '1' } }),
  'GET 503 then 200': (c) => c.GET('/items/{id}', { params: { path: { id: 3 } } }),
  'GET 302 to another origin': (c) => c.GET('/items/{id}', { params: { path: { id: 4 } } }),
  walk: async (c) => {
    const seen: unknown[] = [];
    for await (const item of c.paginate('/items', {})) seen.push(item);
    return { data: seen };
  },
};

/** What the caller and the servers saw: the result or error, and each request's method, path, and headers that matter. */
async function observe(call: string, telemetry: unknown): Promise<unknown> {
  api.reset();
  other.reset();
  flaky = 0;
  const c = createClient({ baseUrl: api.url, auth: { accessToken: TOKEN }, maxRetries: 2, telemetry });
  let outcome: unknown;
  try {
    const raw = (await CALLS[call]!(c)) as { data?: unknown; error?: unknown; response?: Response };
    outcome = { data: raw.data, error: raw.error, status: raw.response?.status };
  } catch (error) {
    outcome = { thrown: (error as Error).name, code: (error as { code?: unknown }).code };
  }
  const seen = (request: RecordedRequest) => ({
    method: request.method,
    path: request.path,
    query: String(request.query),
    body: request.body,
    headers: Object.fromEntries(
      Object.entries(request.headers).filter(([name]) => !['traceparent', 'tracestate', 'baggage', 'injected'].includes(name)),
    ),
  });
  return { outcome, api: api.requests.map(seen), other: other.requests.map(seen) };
}

describe('a hostile or broken tracer, meter or propagator (review 9, finding 3)', () => {
  it('never changes a call’s result, its retries or what is sent', async () => {
    const baseline = new Map<string, unknown>();
    propagation.disable();
    for (const call of Object.keys(CALLS)) baseline.set(call, await observe(call, undefined));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(FAULTS)), fc.constantFrom(...Object.keys(CALLS)), async (name, call) => {
        const chosen = FAULTS[name]!;
        propagation.disable();
        propagation.setGlobalPropagator(chosen.propagator ?? new W3CTraceContextPropagator());
        try {
          const telemetry = openTelemetry({
            tracerProvider: (chosen.tracerProvider ?? real.tracerProvider) as never,
            meterProvider: (chosen.meterProvider ?? real.meterProvider) as never,
            propagateToOtherOrigins: true,
          });
          const seen = (await observe(call, telemetry)) as { api: { headers: Record<string, string> }[] };
          expect(seen).toEqual(baseline.get(call));
          for (const request of seen.api) expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
        } finally {
          propagation.disable();
          propagation.setGlobalPropagator(new W3CTraceContextPropagator());
        }
      }),
      { numRuns: 120 },
    );
  });
});
