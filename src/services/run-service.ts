/**
 * The services image's entrypoint: `node dist/src/services/run-service.js <entry>`, where <entry> is what the
 * compose file names. A runner-owned service is named by its source (src/services/rag-index/main.ts) and runs
 * compiled under plain node; a learner's file in the mounted workspace (mcp-server/server.ts) is TypeScript and
 * loads through tsx. The same mapping serves the local runtime (service-graph.ts), so compose files and lab
 * definitions name services the same way.
 */
import { importModule, runnableFile } from '../core/code-files.js';
import { installLogStamp } from './logging/log-stamp.js';
import { tracingFromEnv } from './telemetry/from-env.js';

// Long-running services only (the runtime sets the name): a log section per start and timestamps, see log-stamp.ts.
if (process.env.LAB_SERVICE_NAME) installLogStamp(process.env.LAB_SERVICE_NAME, { marker: true });

const entry = process.argv[2];
if (entry === undefined) {
  console.error(
    "run-service: name the service entry module, e.g. src/services/rag-index/main.ts (the compose file's command).",
  );
  process.exitCode = 2;
} else {
  // A job (the agent) starts its own tracing to flush it before exit; a long-running service is traced from here.
  if (process.env.LAB_SERVICE_NAME) await tracingFromEnv();
  await importModule(runnableFile(entry));
}
