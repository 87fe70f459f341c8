/**
 * OpenTelemetry for a lab service: the SDK's tracer provider, exporting OTLP/HTTP (JSON) to the endpoint the
 * runtime gives in OTEL_EXPORTER_OTLP_ENDPOINT (the runner's trace receiver), W3C trace context, and an
 * AsyncLocalStorage context so a span started around a request is the parent of everything that request does.
 * Nothing here loads unless a service starts tracing: the CLI never imports this module.
 */
import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { labTracer } from './tracer.js';

export interface Telemetry {
  tracer: Tracer;
  /** Exports what is still buffered; a job calls it before it exits. */
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;

/** Starts tracing for this process once; later calls return the same handle. */
export function startTracing(serviceName: string, endpoint: string): Telemetry {
  if (started) return started;
  const exporter = new OTLPTraceExporter({ url: new URL('/v1/traces', endpoint).href, timeoutMillis: 5_000 });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    // A short delay: a check reads the trace right after the agent run, and spans must be there by then.
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 100, maxExportBatchSize: 256 })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  started = {
    tracer: labTracer(),
    shutdown: () => provider.shutdown(),
  };
  return started;
}
