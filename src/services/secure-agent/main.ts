/**
 * A lab 2 agent (a job): takes its identity from the SPIRE agent's Workload API, connects to the MCP server over
 * mTLS (presenting its SVID, verifying the server's SPIFFE ID), discovers the tools and runs its role's task.
 * Which collections it may read is not its decision: it asks, and the server's policy answers. It prints one
 * line per step and ends with `RESULT {json}` for the checks (the runner keeps the output in .lab/logs/<job>.log);
 * exit 0 when it could talk to the server at all.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { newTraceId, traceparent } from '../audit/audit-entry.js';
import { mtlsFetch } from '../identity/mtls-fetch.js';
import { loadTlsConfig, workloadSource } from '../identity/workload.js';
import { requiredEnv } from '../env.js';
import { tracingFromEnv } from '../telemetry/from-env.js';
import { activeTraceparent, currentTraceId, inNewTrace } from '../telemetry/tracer.js';

const SERVICE = 'agent';
const role = requiredEnv(SERVICE, 'AGENT_ROLE');
const serverUrl = new URL(requiredEnv(SERVICE, 'MCP_SERVER_URL'));
const serverId = requiredEnv(SERVICE, 'MCP_SERVER_ID');
// Tracing when the runtime names a collector: one trace per task, its context on every request (the fetch below).
const telemetry = await tracingFromEnv();

/** Each role's task: research reads the internal runbooks, support answers from public docs and (wrongly) tries internal ones. */
const TASKS: Record<string, Array<{ query: string; collection?: string }>> = {
  research: [
    { query: 'incident response runbook for agent credentials', collection: 'internal' },
    { query: 'SPIFFE workload identity' },
  ],
  support: [
    { query: 'how do MCP clients discover tools', collection: 'public' },
    { query: 'incident response runbook for agent credentials', collection: 'internal' },
  ],
};

interface CallResult {
  query: string;
  collection: string | null;
  trace_id: string;
  outcome: 'ok' | 'denied' | 'error';
  detail: string;
}

const result: {
  role: string;
  spiffe_id: string | null;
  connected: boolean;
  tools: string[];
  calls: CallResult[];
  error?: string;
} = {
  role,
  spiffe_id: null,
  connected: false,
  tools: [],
  calls: [],
};

const source = workloadSource(`agent-${role}`);
let exitCode = 0;
try {
  // Short: a job that has no identity yet should say so quickly (the services, by contrast, wait).
  const svid = await source.ready(8_000);
  result.spiffe_id = svid.spiffeId;
  console.log(`identity: ${svid.spiffeId}`);
  const tls = await loadTlsConfig(SERVICE);
  const fetch = mtlsFetch(source, (current) => tls.clientTlsOptions(current, serverId));
  const client = new Client({ name: `agent-${role}`, version: '2.0.0' });
  let traceId = newTraceId();
  // Every request carries a W3C traceparent: the server's audit entry for a call is found by its trace id.
  const traced: typeof fetch = Object.assign(
    (input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) => {
      const headers = new Headers(init?.headers);
      headers.set('traceparent', activeTraceparent() ?? traceparent(traceId));
      return fetch(input, { ...init, headers });
    },
    { close: fetch.close },
  );
  await client.connect(new StreamableHTTPClientTransport(serverUrl, { fetch: traced }));
  result.connected = true;
  result.tools = (await client.listTools()).tools.map((t) => t.name);
  console.log(`connected to ${serverUrl.href} as ${svid.spiffeId}; tools: ${result.tools.join(', ')}`);
  for (const task of TASKS[role] ?? []) {
    const args = { query: task.query, top_k: 3, ...(task.collection ? { collection: task.collection } : {}) };
    const answer = await inNewTrace('agent task', { 'agent.role': role, 'mcp.tool.name': 'search_documents' }, () => {
      traceId = currentTraceId() ?? newTraceId();
      return client.callTool({ name: 'search_documents', arguments: args });
    });
    const text = (answer.content as Array<{ type: string; text?: string }>).map((c) => c.text ?? '').join(' ');
    const outcome = !answer.isError ? 'ok' : /permission denied/i.test(text) ? 'denied' : 'error';
    result.calls.push({
      query: task.query,
      collection: task.collection ?? null,
      trace_id: traceId,
      outcome,
      detail: text.slice(0, 200),
    });
    console.log(`search_documents ${JSON.stringify(args)} -> ${outcome}: ${text.split('\n')[0]}`);
  }
  await client.close();
  await fetch.close();
} catch (error) {
  const cause = (error as Error & { cause?: Error }).cause;
  result.error = `${(error as Error).message}${cause ? ` (${cause.message})` : ''}`;
  console.log(`agent ${role} failed: ${result.error}`);
  exitCode = 1;
} finally {
  source.close();
}
console.log(`RESULT ${JSON.stringify(result)}`);
await telemetry?.shutdown();
process.exit(exitCode);
