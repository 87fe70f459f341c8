/**
 * Loaded before a service's own code when the runtime gives it a trace endpoint (preload.ts on the local
 * runtime, run-service.ts in the services image): starts the SDK and hooks the HTTP and MCP seams.
 */
import { installHttpHooks } from './http-hooks.js';
import { installMcpHooks } from './mcp-hooks.js';
import { startTracing, type Telemetry } from './tracing.js';

export function startServiceTracing(service: string, endpoint: string): Telemetry {
  const telemetry = startTracing(service, endpoint);
  installHttpHooks(telemetry.tracer);
  installMcpHooks();
  return telemetry;
}
