/**
 * The course agent, run as a job: connect through the learner's agent/connect.ts (which authenticates), discover the
 * tools, let the planner work the task, write the transcript. Exit code 0 when it finished, 1 when it failed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { importModule } from '../../core/code-files.js';
import { repoDir } from '../../core/paths.js';
import { runAgent } from './agent.js';
import { createOpenAIPlanner } from './openai-planner.js';
import { createDeterministicPlanner, type Planner } from './planner.js';
import { Transcript } from './transcript.js';
import { traceRun } from './run-tracing.js';
import { tracingFromEnv } from '../telemetry/from-env.js';
import { loadTokenizer } from '../telemetry/tokens.js';
import type { Connect } from './connect-contract.js';
import type { ClientCredentials } from '../auth-server/credentials.js';
import { serviceEnv } from '../env.js';

const env = serviceEnv('agent');
// Before anything connects: the SDK's transport reads the (traced) global fetch when connect() builds it.
const telemetry = await tracingFromEnv();
// The tokenizer before the first request too: see loadTokenizer.
loadTokenizer();

const DEFAULT_TASK = 'How does a SPIRE agent attest a workload and hand it an X.509 SVID?';

function choosePlanner(): Planner {
  if (process.env.OPENAI_BASE_URL) {
    return createOpenAIPlanner({
      baseUrl: process.env.OPENAI_BASE_URL,
      model: env('OPENAI_MODEL', 'gpt-4o-mini'),
      apiKey: process.env.OPENAI_API_KEY,
    });
  }
  return createDeterministicPlanner();
}

const transcript = new Transcript(env('TRANSCRIPT_FILE'));
const task = env('AGENT_TASK', DEFAULT_TASK);
const planner = choosePlanner();
transcript.write({ type: 'session_started', task, planner: planner.name });

let stage = 'connect';
let client: Client | undefined;
await traceRun(task, async () => {
  try {
    const serverUrl = new URL(env('MCP_SERVER_URL'));
    // The agent gets its client registration only: finding the authorization server and getting a token is the
    // learner's connect() (step 4).
    const credentials = JSON.parse(readFileSync(env('AGENT_CREDENTIALS_FILE'), 'utf8')) as ClientCredentials;
    const { connect } = await importModule<{ connect: Connect }>(
      env('CONNECT_MODULE', path.join(repoDir, 'src', 'services', 'agent', 'connect.ts')),
    );
    client = await connect({
      serverUrl,
      oauthClient: {
        clientId: credentials.client_id,
        clientSecret: credentials.client_secret,
        issuer: env('AUTH_ISSUER'),
      },
    });
    if (!client.getServerVersion())
      throw new Error('connect() returned a client that has not connected (no initialize handshake happened)');
    stage = 'run';
    const answer = await runAgent({ client, planner, task, transcript });
    console.log(`agent finished: ${answer.slice(0, 200)}`);
  } catch (error) {
    const message = (error as Error).message ?? String(error);
    transcript.write({ type: 'error', stage, message });
    console.error(`agent failed during ${stage}: ${message}`);
    process.exitCode = 1;
  } finally {
    await client?.close().catch(() => undefined);
  }
});
await telemetry?.shutdown();
