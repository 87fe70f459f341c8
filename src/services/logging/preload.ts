/**
 * `node --import <this> service.js` (local runtime): stamps the service's log before its own code runs (see
 * log-stamp.ts); the runtime has already written the run's section marker. LAB_SERVICE_NAME is set for
 * long-running services only.
 */
import { tracingFromEnv } from '../telemetry/from-env.js';
import { installLogStamp } from './log-stamp.js';

const service = process.env.LAB_SERVICE_NAME;
if (service) installLogStamp(service, { marker: false });
// Tracing, when the runtime named a trace endpoint (src/services/telemetry): before the service's code, so its
// HTTP server and MCP tools are hooked.
await tracingFromEnv();
