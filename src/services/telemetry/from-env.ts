/**
 * Tracing switched on by the environment the runtime sets: OTEL_EXPORTER_OTLP_ENDPOINT (the trace receiver or
 * collector) and OTEL_SERVICE_NAME. Without them nothing of OpenTelemetry is loaded.
 */
import type { Telemetry } from './tracing.js';

export async function tracingFromEnv(): Promise<Telemetry | undefined> {
  const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const service = process.env.OTEL_SERVICE_NAME;
  if (!endpoint || !service) return undefined;
  const { startServiceTracing } = await import('./auto.js');
  return startServiceTracing(service, endpoint);
}
