/**
 * The lab 2 MCP server: the lab 1 tools over Streamable HTTP, served only over mTLS with the workload's SVID.
 * The caller's identity is the SPIFFE ID of its verified client certificate; every tool call goes through the
 * learner's guard (OPA decision, audit entry). It reaches rag-index over mTLS as well, verifying the index's
 * SPIFFE ID. Configuration: TLS_MODULE, GUARD_MODULE, RAG_INDEX_URL, RAG_INDEX_ID, OPA_URL, OPA_TOKEN_FILE (the bearer
 * token OPA requires; a compose secret), AUDIT_FILE, AUDIT_ANCHOR (the head recorded outside the file), PORT (health), TLS_PORT.
 */
import { readFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Request, Response } from 'express';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { importModule } from '../../core/code-files.js';
import { applyRequestTimeouts, jsonRpcLastResort } from '../http/json-http.js';
import { digestArguments, newTraceId, traceIdFrom } from '../audit/audit-entry.js';
import { currentTraceId } from '../telemetry/tracer.js';
import { AuditLog } from '../audit/audit-log.js';
import { mtlsAgent } from '../identity/mtls-agent.js';
import { listenMtls } from '../identity/mtls-server.js';
import { peerSpiffeId } from '../identity/spiffe-tls.js';
import { awaitIdentity, loadTlsConfig, serveHealth, workloadSource } from '../identity/workload.js';
import { httpIndexClient } from '../mcp-search-server/index-client.js';
import { opaClient } from '../policy/opa-client.js';
import { registerGuardedTools, type Guard } from './guarded-tools.js';
import { requiredEnv } from '../env.js';

const SERVICE = 'mcp-server';
const env = (name: string, fallback?: string) => requiredEnv(SERVICE, name, fallback);

const tls = await loadTlsConfig(SERVICE);
const guard = await importModule<Guard>(env('GUARD_MODULE'));
const policy = opaClient(env('OPA_URL'), { token: readFileSync(env('OPA_TOKEN_FILE'), 'utf8').trim() });
const source = workloadSource(SERVICE);
// Every entry is signed with this workload's SVID key (only it holds one for this ID), and the head is anchored
// outside the audit folder after each append; tampering with the file makes every call fail closed.
const auditLog = AuditLog.open(env('AUDIT_FILE'), undefined, {
  signer: () => source.current(),
  anchorFile: env('AUDIT_ANCHOR'),
});
const audit = { append: (entry: Parameters<AuditLog['append']>[0]) => auditLog.append(entry), digest: digestArguments };
serveHealth(source, Number(env('PORT')));

const indexId = env('RAG_INDEX_ID');
const index = httpIndexClient(env('RAG_INDEX_URL'), {
  agent: mtlsAgent(source, (svid) => tls.clientTlsOptions(svid, indexId)),
});

const app = createMcpExpressApp({ host: '0.0.0.0', allowedHosts: [SERVICE, 'localhost', '127.0.0.1'] });
// jscpd:ignore-start (the same stateless handler as src/services/mcp-search-server/server.ts, which is the
// learner's mcp-server/server.ts in lab 1 and so can import nothing of ours to share it)
app.all('/mcp', async (req, res) => {
  if (req.method !== 'POST') {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed: this server is stateless, use POST' },
        id: null,
      });
    return;
  }
  // The request's span (tracing on) continues the caller's trace or starts one: the audit entry names that trace.
  const traceId = currentTraceId() ?? traceIdFrom(req.headers.traceparent) ?? newTraceId();
  const server = new McpServer({ name: 'course-docs-search', version: '2.0.0' });
  registerGuardedTools(server, {
    guard,
    policy,
    audit,
    auditProblem: () => auditLog.problem(),
    index,
    call: { spiffeId: peerSpiffeId(req.socket as TLSSocket) ?? null, traceId, headers: req.headers },
  });
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
// jscpd:ignore-end

await awaitIdentity(SERVICE, source);
const lastResort = jsonRpcLastResort(SERVICE);
const handler: RequestListener = (req, res) =>
  app(req as Request, res as Response, (error?: unknown) => lastResort(error, res));
const listener = await listenMtls(handler, source, {
  host: env('HOST', '0.0.0.0'),
  port: Number(env('TLS_PORT', '8443')),
  tlsOptions: (svid) => tls.serverTlsOptions(svid),
});
applyRequestTimeouts(listener);
console.log(
  `${SERVICE}: mTLS on ${JSON.stringify(listener.address())}; index ${env('RAG_INDEX_URL')} (${indexId}); policy ${env('OPA_URL')}; audit ${env('AUDIT_FILE')}`,
);
const shutdown = () => listener.close(() => void auditLog.close().finally(() => process.exit(0)));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
