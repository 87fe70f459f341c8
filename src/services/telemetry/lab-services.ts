/**
 * Tracing for a lab's services, added to its definition in one place: the trace receiver as a lab service, and
 * every service of the runner's image told where to export (OTEL_EXPORTER_OTLP_ENDPOINT) under its own name
 * (OTEL_SERVICE_NAME). Upstream images (no entry: SPIRE, OPA) are left as the compose file describes them.
 */
import path from 'node:path';
import type { ServiceDefinition } from '../../core/lab-definition.js';

export const TRACE_RECEIVER = 'trace-receiver';

const receiver: ServiceDefinition = {
  name: TRACE_RECEIVER,
  role: 'lab',
  entry: 'repo:src/services/telemetry/receiver-main.ts',
  healthPath: '/health',
  env: ({ workspaceDir }) => ({ TRACES_DIR: path.join(workspaceDir, '.lab', 'traces') }),
};

/** LAB_TRACING=off runs the lab untraced (no receiver, no SDK in the services): the overhead benchmark's baseline. */
export function withTraceReceiver(services: ServiceDefinition[]): ServiceDefinition[] {
  if (process.env.LAB_TRACING === 'off') return services;
  return [
    receiver,
    ...services.map(
      (service): ServiceDefinition =>
        service.entry === undefined
          ? service
          : {
              ...service,
              dependsOn: [...(service.dependsOn ?? []), TRACE_RECEIVER],
              env: (ctx) => ({
                ...service.env(ctx),
                OTEL_EXPORTER_OTLP_ENDPOINT: ctx.url(TRACE_RECEIVER),
                OTEL_SERVICE_NAME: service.name,
              }),
            },
    ),
  ];
}
