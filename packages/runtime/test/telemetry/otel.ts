// The real OpenTelemetry SDK, exporting to memory: spans through
// InMemorySpanExporter, metrics through a reader collected on demand; the
// context manager and W3C propagator a NodeSDK would register.
import { context, propagation } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { type DataPoint, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { openTelemetry, type TelemetryOptions } from '../../src/telemetry.ts';

/** A pull reader: `collect()` is the export. */
class MemoryReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

/** Registers the global context manager and propagator (once per test file), as NodeSDK does. */
export function registerGlobals(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

export interface Point {
  readonly name: string;
  readonly unit: string;
  readonly attributes: Record<string, unknown>;
  readonly value: unknown;
}

export class Telemetry {
  readonly exporter = new InMemorySpanExporter();
  readonly tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.exporter)] });
  readonly reader = new MemoryReader();
  readonly meterProvider = new MeterProvider({ readers: [this.reader] });
  readonly tracer = this.tracerProvider.getTracer('test');

  instrumentation(options: Omit<TelemetryOptions, 'tracerProvider' | 'meterProvider'> = {}) {
    return openTelemetry({ tracerProvider: this.tracerProvider, meterProvider: this.meterProvider, ...options });
  }

  spans(): ReadableSpan[] {
    return this.exporter.getFinishedSpans();
  }

  named(name: string): ReadableSpan[] {
    return this.spans().filter((span) => span.name === name);
  }

  one(name: string): ReadableSpan {
    const found = this.named(name);
    if (found.length !== 1)
      throw new Error(
        `expected one span ${name}, found ${found.length}: ${this.spans()
          .map((s) => s.name)
          .join(', ')}`,
      );
    return found[0]!;
  }

  parentOf(span: ReadableSpan): ReadableSpan | undefined {
    const id = span.parentSpanContext?.spanId;
    return this.spans().find((other) => other.spanContext().spanId === id);
  }

  /** The spans as an indented outline, children in start order: how the docs say they nest. */
  outline(): string {
    const spans = [...this.spans()].sort((a, b) => hr(a.startTime) - hr(b.startTime));
    const ids = new Set(spans.map((s) => s.spanContext().spanId));
    const lines: string[] = [];
    const walk = (parent: string | undefined, depth: number) => {
      for (const span of spans)
        if (parent === undefined ? !ids.has(span.parentSpanContext?.spanId ?? '') : span.parentSpanContext?.spanId === parent) {
          lines.push(`${'  '.repeat(depth)}${span.name}`);
          walk(span.spanContext().spanId, depth + 1);
        }
    };
    walk(undefined, 0);
    return lines.join('\n');
  }

  async points(): Promise<Point[]> {
    const { resourceMetrics } = await this.reader.collect();
    return resourceMetrics.scopeMetrics.flatMap((scope) =>
      scope.metrics.flatMap((metric) =>
        (metric.dataPoints as DataPoint<unknown>[]).map((point) => ({
          name: metric.descriptor.name,
          unit: metric.descriptor.unit,
          attributes: point.attributes,
          value: point.value,
        })),
      ),
    );
  }

  reset(): void {
    this.exporter.reset();
  }
}

const hr = ([seconds, nanos]: [number, number]) => seconds * 1e9 + nanos;
