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

export function withTraceReceiver(services: ServiceDefinition[]): ServiceDefinition[] {
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
