import { defineLab, type ServiceEnvContext } from '../../src/core/lab-definition.js';
import { ANCHOR_FILE, auditLogIn, startNewAuditLog } from '../../src/services/audit/audit-trust.js';
import {
  agentsConnect,
  agentsVerifyServer,
  foreignCa,
  indexOnlyForMcpServer,
  noClientCertificate,
} from '../../checks/secure-agents/mtls.js';
import { auditChain, auditEveryCall, auditMatchesOpa, auditSpoofedHeader } from '../../checks/secure-agents/audit.js';
import {
  opaTests,
  policyFailClosed,
  policyIgnoresHeaders,
  policyMatrix,
  testsNotVacuous,
} from '../../checks/secure-agents/policy.js';
import { agentAttested, entriesRegistered, workloadsHoldSvids } from '../../checks/secure-agents/spire.js';
import { MCP_PATH, needing } from '../../checks/secure-agents/root-cause.js';
import { STAGE_CHECKS } from '../../checks/secure-agents/stage.js';
import { IDS } from './spire-layout.js';
import { provisionSpire } from './provision.js';
import { applyRegistrations } from '../../checks/secure-agents/registration.js';
import { agentCallsTraced } from '../../checks/secure-agents/trace.js';
import { withTraceReceiver } from '../../src/services/telemetry/lab-services.js';

const TLS_PORT = '8443';
const WORKLOAD_API = 'unix:///run/spire/sockets/agent.sock';
/** The mTLS address of a service on the lab network (its DNS name comes from the runtime). */
const tlsUrl = (ctx: ServiceEnvContext, service: string) => `https://${new URL(ctx.url(service)).hostname}:${TLS_PORT}`;
const agent = (role: 'research' | 'support') => (ctx: ServiceEnvContext) => ({
  AGENT_ROLE: role,
  MCP_SERVER_URL: `${tlsUrl(ctx, 'mcp-server')}/mcp`,
  MCP_SERVER_ID: IDS.mcpServer,
  TLS_MODULE: `${ctx.workspaceDir}/mtls/tls.ts`,
  SPIFFE_ENDPOINT_SOCKET: WORKLOAD_API,
});

export default defineLab({
  id: 'secure-agents',
  title: 'Secure agents: SPIRE workload identity, mTLS, per-agent OPA policy, audit with verified identity',
  summary:
    'Deploy SPIRE and register two AI agents, enforce mTLS between agents and services, control each agent with an OPA policy, and audit every tool call under its verified identity.',
  minutes: 35,
  runtimes: ['docker'],
  dockerOnly:
    "Its agents are told apart by SPIRE's docker workload attestor (container labels). On the local runtime every service is a process of the same user, so SPIRE could not give the two agents different identities.",
  files: [
    { source: 'labs/secure-agents/spire/agent.conf', path: 'spire/agent.conf' },
    { source: 'labs/secure-agents/spire/entries.ts', path: 'spire/entries.ts' },
    { source: 'labs/secure-agents/mtls/tls.ts', path: 'mtls/tls.ts' },
    { source: 'labs/secure-agents/policy/agents.rego', path: 'policy/agents.rego' },
    { source: 'labs/secure-agents/policy/agents_test.rego', path: 'policy/agents_test.rego' },
    { source: 'labs/secure-agents/mcp-server/guard.ts', path: 'mcp-server/guard.ts' },
  ],
  // The Node services and agents export their spans to the runner's trace receiver (`lab trace`).
  services: withTraceReceiver([
    { name: 'spire-server', role: 'lab', env: () => ({}) },
    { name: 'spire-agent', role: 'learner', env: () => ({}), dependsOn: ['spire-server'], watch: ['spire/agent.conf'] },
    { name: 'opa', role: 'learner', env: () => ({}), watch: ['policy'] },
    {
      name: 'rag-index',
      role: 'learner',
      entry: 'repo:src/services/rag-index/secure-main.ts',
      healthPath: '/health',
      tls: true,
      dependsOn: ['spire-agent'],
      watch: ['mtls'],
      env: ({ repoDir, workspaceDir }) => ({
        CORPUS_DIR: `${repoDir}/fixtures/corpus`,
        TLS_MODULE: `${workspaceDir}/mtls/tls.ts`,
        ALLOWED_CALLERS: IDS.mcpServer,
        SPIFFE_ENDPOINT_SOCKET: WORKLOAD_API,
        TLS_PORT,
      }),
    },
    {
      name: 'mcp-server',
      role: 'learner',
      entry: 'repo:src/services/secure-mcp-server/main.ts',
      healthPath: '/health',
      tls: true,
      dependsOn: ['rag-index', 'opa'],
      watch: ['mtls', 'mcp-server'],
      env: (ctx) => ({
        TLS_MODULE: `${ctx.workspaceDir}/mtls/tls.ts`,
        GUARD_MODULE: `${ctx.workspaceDir}/mcp-server/guard.ts`,
        RAG_INDEX_URL: tlsUrl(ctx, 'rag-index'),
        RAG_INDEX_ID: IDS.ragIndex,
        OPA_URL: `http://${new URL(ctx.url('opa')).hostname}:8181`,
        // A compose secret (compose/secure-agents.yml): OPA answers only to this token.
        OPA_TOKEN_FILE: '/run/secrets/opa-token',
        AUDIT_FILE: auditLogIn(ctx.workspaceDir),
        AUDIT_ANCHOR: ANCHOR_FILE,
        SPIFFE_ENDPOINT_SOCKET: WORKLOAD_API,
        TLS_PORT,
      }),
    },
    {
      name: 'agent-research',
      role: 'job',
      entry: 'repo:src/services/secure-agent/main.ts',
      dependsOn: ['mcp-server'],
      env: agent('research'),
    },
    {
      name: 'agent-support',
      role: 'job',
      entry: 'repo:src/services/secure-agent/main.ts',
      dependsOn: ['mcp-server'],
      env: agent('support'),
    },
  ]),
  prepare: provisionSpire,
  sync: applyRegistrations,
  onReset: ({ workspaceDir, now }) => {
    const kept = startNewAuditLog(workspaceDir, now);
    return kept ? [`Started a new audit log; the previous one is ${kept}.`] : [];
  },
  // The stage itself (not learner work): `lab test secure-agents` runs these on the solved lab.
  stageChecks: STAGE_CHECKS,
  steps: [
    {
      id: 'register-workloads',
      title: 'Deploy SPIRE and register the agent workloads',
      instructions: 'steps/1-register-workloads.md',
      hints: [
        '`lab logs spire-agent` says why the agent stopped: without a NodeAttestor it cannot join the server. The node certificate and key are in /etc/spire/agent-secrets/ inside the agent container.',
        'The agent\'s own SPIFFE ID is AGENT_ID in spire/entries.ts: every entry uses it as parent_id. Selectors look like { type: "docker", value: "label:dev.ai-infra-labs.workload:mcp-server" }.',
        'Each `npx lab check` applies spire/entries.ts to the server; `npx lab spire entry show` lists what it holds, `npx lab identity` which workloads hold their SVID, and `npx lab logs spire-agent` shows "PID attested to have selectors" for each workload that asked.',
      ],
      checks: [
        needing(['spire-server'], agentAttested),
        needing(['spire-server'], entriesRegistered),
        needing(['spire-server', 'spire-agent'], workloadsHoldSvids),
      ],
    },
    {
      id: 'mtls',
      title: 'Configure mTLS between agents and services',
      instructions: 'steps/2-mtls.md',
      hints: [
        'Server side: options.ca = svid.bundlePem; options.requestCert = true; options.rejectUnauthorized = true.',
        'Client side: options.cert = svid.certChainPem; options.key = svid.keyPem; and checkServerIdentity(host, cert) reading cert.subjectaltname ("URI:spiffe://…").',
        'checkServerIdentity returns undefined to accept and an Error to refuse; it must accept only when the one URI SAN equals serverId.',
      ],
      checks: [
        ...[noClientCertificate, foreignCa, indexOnlyForMcpServer].map((check) =>
          needing(['spire-server', 'mcp-server', 'rag-index'], check),
        ),
        needing(['spire-agent', 'mcp-server'], agentsConnect),
        needing(['spire-server'], agentsVerifyServer),
      ],
    },
    {
      id: 'policy',
      title: 'Add an OPA policy controlling per-agent access',
      instructions: 'steps/3-policy.md',
      hints: [
        'A map from SPIFFE ID to { "tools": {...}, "collections": {...} } keeps the policy data-driven; allow if { agent := agents[input.spiffe_id]; input.tool in agent.tools; input.collection in agent.collections }.',
        'Tests: test_support_denied_internal if { not allow with input as {"spiffe_id": "spiffe://lab.ai-infra-labs.dev/agent/support", "tool": "search_documents", "arguments": {}, "collection": "internal"} }.',
        'In guard.ts, authorize() passes call.spiffeId (verified) to policy.decide; `npx lab opa test` runs your tests in the OPA container, and `npx lab logs opa` shows every decision with its input.',
      ],
      checks: [
        needing(['opa'], opaTests),
        needing(['opa'], testsNotVacuous),
        needing(MCP_PATH, policyMatrix),
        needing(MCP_PATH, policyIgnoresHeaders),
        policyFailClosed,
      ],
    },
    {
      id: 'audit',
      title: 'Audit agent tool usage with verified identity',
      instructions: 'steps/4-audit.md',
      hints: [
        'record() is called for every call, denied ones included, with the decision and outcome: append them with audit.append({...}).',
        'spiffe_id must be call.spiffeId; the checker sends a header claiming to be the research agent and expects the entry under the real caller.',
        '`lab audit` shows the entries; `lab audit --verify` checks the hash chain.',
      ],
      checks: [auditEveryCall, auditMatchesOpa, auditSpoofedHeader, auditChain, agentCallsTraced].map((check) =>
        needing(MCP_PATH, check),
      ),
    },
  ],
});
