/**
 * The child-process side of learner-code.ts: loads a learner module and exercises it exactly as the lab's services
 * do, against servers the grader runs, then prints `HARNESS {json}`. Never imported by the grader itself.
 *   entries  {file}                                   -> the module's `entries` export, as JSON
 *   guard    {guardModule, opaBase, indexBase, calls}  -> each call through the MCP server's guarded tools
 *   client   {tlsModule, serverId, svids, targets}     -> each agent's client options against each target
 */
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { digestArguments } from '../../src/services/audit/audit-entry.js';
import { mtlsFetch } from '../../src/services/identity/mtls-fetch.js';
import { svidFromPem } from '../../src/services/identity/svid-pem.js';
import { SvidSource } from '../../src/services/identity/svid-source.js';
import { httpIndexClient } from '../../src/services/mcp-search-server/index-client.js';
import { opaClient } from '../../src/services/policy/opa-client.js';
import { registerGuardedTools, type Guard } from '../../src/services/secure-mcp-server/guarded-tools.js';
import type { TlsConfig } from '../../src/services/identity/workload.js';

export interface HarnessCall {
  name: string;
  spiffeId: string | null;
  tool: string;
  args: Record<string, unknown>;
  headers: Record<string, string>;
  traceId: string;
  /** How long the policy client waits for the grader's OPA (the server's own default for the stall probe). */
  opaTimeoutMs?: number;
}

export interface HarnessCallResult {
  name: string;
  isError: boolean;
  text: string;
  audit: Array<Record<string, unknown>>;
  error?: string;
}

export interface HarnessClientResult {
  as: string;
  target: string;
  status?: number;
  error?: string;
}

const load = async <T>(file: string): Promise<T> => (await import(pathToFileURL(file).href)) as T;

async function entries(payload: { file: string }): Promise<unknown> {
  const module = await load<{ entries?: unknown }>(payload.file);
  return { entries: module.entries ?? null };
}

async function guardCalls(payload: {
  guardModule: string;
  opaBase: string;
  indexBase: string;
  calls: HarnessCall[];
}): Promise<HarnessCallResult[]> {
  const guard = await load<Guard>(payload.guardModule);
  const index = httpIndexClient(payload.indexBase);
  return Promise.all(
    payload.calls.map(async (call): Promise<HarnessCallResult> => {
      const audit: Array<Record<string, unknown>> = [];
      const server = new McpServer({ name: 'course-docs-search', version: '2.0.0' });
      // As the MCP server does per request (src/services/secure-mcp-server/main.ts), with a policy at the grader's OPA.
      registerGuardedTools(server, {
        guard,
        policy: opaClient(`${payload.opaBase}/${call.name}`, call.opaTimeoutMs ? { timeoutMs: call.opaTimeoutMs } : {}),
        audit: { append: async (entry) => void audit.push({ ...entry }), digest: digestArguments },
        index,
        call: { spiffeId: call.spiffeId, traceId: call.traceId, headers: call.headers },
      });
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      const client = new Client({ name: 'lab-grader', version: '1.0.0' });
      try {
        await server.connect(serverSide);
        await client.connect(clientSide);
        const result = await client.callTool({ name: call.tool, arguments: call.args });
        const text = (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join(' ');
        return { name: call.name, isError: result.isError === true, text: text.slice(0, 300), audit };
      } catch (error) {
        return { name: call.name, isError: true, text: '', audit, error: (error as Error).message };
      } finally {
        await client.close().catch(() => undefined);
      }
    }),
  );
}

async function clientConnections(payload: {
  tlsModule: string;
  serverId: string;
  svids: Array<{ as: string; certChainPem: string; keyPem: string; bundlePem: string }>;
  targets: Array<{ name: string; url: string }>;
}): Promise<HarnessClientResult[]> {
  const tls = await load<TlsConfig>(payload.tlsModule);
  const results: HarnessClientResult[] = [];
  for (const { as, certChainPem, keyPem, bundlePem } of payload.svids) {
    const svid = svidFromPem(certChainPem, keyPem, bundlePem);
    for (const target of payload.targets) {
      // What an agent does (src/services/secure-agent/main.ts): mtlsFetch with the learner's client options.
      const fetch = mtlsFetch(SvidSource.fixed(svid), (current) => tls.clientTlsOptions(current, payload.serverId));
      try {
        const url = new URL(target.url);
        url.searchParams.set('as', as);
        const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
        await response.text();
        results.push({ as, target: target.name, status: response.status });
      } catch (error) {
        const cause = (error as Error & { cause?: Error & { code?: string } }).cause;
        results.push({ as, target: target.name, error: cause?.code ?? cause?.message ?? (error as Error).message });
      } finally {
        await fetch.close();
      }
    }
  }
  return results;
}

const ACTIONS: Record<string, (payload: never) => Promise<unknown>> = {
  entries,
  guard: guardCalls,
  client: clientConnections,
};

let input = '';
process.stdin.setEncoding('utf8');
for await (const chunk of process.stdin) input += chunk;
const action = ACTIONS[process.argv[2] ?? ''];
if (!action) throw new Error(`unknown action ${process.argv[2]}`);
const result = await action(JSON.parse(input) as never);
process.stdout.write(`\nHARNESS ${JSON.stringify(result)}\n`);
process.exit(0);
