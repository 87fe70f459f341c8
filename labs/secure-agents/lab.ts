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
import { agentAttested, entriesRegistered, entryByHand, workloadsHoldSvids } from '../../checks/secure-agents/spire.js';
import { MCP_PATH, needing } from '../../checks/secure-agents/root-cause.js';
import { STAGE_CHECKS } from '../../checks/secure-agents/stage.js';
import { IDS } from './spire-layout.js';
import { provisionSpire } from './provision.js';
import { applyRegistrations, registerByHand } from '../../checks/secure-agents/registration.js';
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
        "`npx lab logs spire-agent` says why the agent stops: without a NodeAttestor it cannot join. The x509pop plugin takes two settings in its plugin_data, the paths of the node key and certificate (/etc/spire/agent-secrets/agent.key and agent.pem in the agent's container); the docker workload attestor needs none.",
        'Once the agent attested, `npx lab spire agent list` prints its SPIFFE ID (spiffe://lab.ai-infra-labs.dev/spire/agent/x509pop/lab-node): every entry\'s parent. The docker attestor\'s selectors read `docker:label:<key>:<value>` on the command line and { type: "docker", value: "label:<key>:<value>" } in entries.ts, with the key dev.ai-infra-labs.workload.',
        'By hand: `npx lab spire entry create -parentID spiffe://lab.ai-infra-labs.dev/spire/agent/x509pop/lab-node -spiffeID spiffe://lab.ai-infra-labs.dev/agent/support -selector docker:label:dev.ai-infra-labs.workload:agent-support`. In entries.ts, one object per other workload: { spiffe_id: "spiffe://lab.ai-infra-labs.dev/mcp-server", parent_id: <the agent ID>, selectors: [{ type: "docker", value: "label:dev.ai-infra-labs.workload:mcp-server" }] }.',
        'The answer for agent.conf, inside plugins { }: NodeAttestor "x509pop" { plugin_data { private_key_path = "/etc/spire/agent-secrets/agent.key"  certificate_path = "/etc/spire/agent-secrets/agent.pem" } } and WorkloadAttestor "docker" { plugin_data {} } (one setting per line).',
      ],
      checks: [
        needing(['spire-server'], agentAttested),
        needing(['spire-server'], entriesRegistered),
        needing(['spire-server'], entryByHand),
        needing(['spire-server', 'spire-agent'], workloadsHoldSvids),
      ],
      // The reference registers agent-support by hand; spire/entries.ts lists the other three.
      solveByHand: (control) => registerByHand(control, 'agent-support', IDS.support),
    },
    {
      id: 'mtls',
      title: 'Configure mTLS between agents and services',
      instructions: 'steps/2-mtls.md',
      hints: [
        'Server side, three options of tls.createServer / createSecureContext: which CA to trust for client certificates (ca: the bundle), whether to ask for a client certificate (requestCert) and whether to refuse a connection without a valid one (rejectUnauthorized).',
        'Client side: cert and key present the SVID (svid.certChainPem, svid.keyPem). checkServerIdentity(host, cert) replaces the host-name check: cert.subjectaltname is a string such as "URI:spiffe://lab.ai-infra-labs.dev/mcp-server"; return undefined to accept, an Error to refuse.',
        'Accept only when the certificate has exactly one URI SAN and it equals serverId: split subjectaltname on ", ", keep the entries that start with "URI:", and compare what follows.',
        'The answer: options.ca = svid.bundlePem; options.requestCert = true; options.rejectUnauthorized = true (server). options.cert = svid.certChainPem; options.key = svid.keyPem; options.checkServerIdentity = (_host, cert) => { const uris = (cert.subjectaltname ?? "").split(", ").filter((s) => s.startsWith("URI:")).map((s) => s.slice(4)); return uris.length === 1 && uris[0] === serverId ? undefined : new Error("not " + serverId); } (client).',
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
        "A rule whose body lists several conditions holds when all of them do; `x in s` tests membership of a set; an object keyed by SPIFFE ID can hold each agent's tools and collections, so agents[input.spiffe_id] is undefined for any other caller (and every rule using it then fails: denied).",
        'Tests are rules named test_* that must hold: test_support_denied_internal if { not allow with input as {"spiffe_id": "spiffe://lab.ai-infra-labs.dev/agent/support", "tool": "search_documents", "arguments": {}, "collection": "internal"} } (in package agents.authz_test, after import data.agents.authz: authz.allow).',
        'In guard.ts: decision = await policy.decide({ spiffe_id: call.spiffeId, tool: call.tool, arguments: call.arguments, collection: call.collection }). `npx lab logs opa` shows every decision with its input.',
        'The answer: agents := {"spiffe://lab.ai-infra-labs.dev/agent/research": {"tools": {"search_documents", "get_document"}, "collections": {"public", "internal", "*"}}, "spiffe://lab.ai-infra-labs.dev/agent/support": {"tools": {"search_documents", "get_document"}, "collections": {"public"}}}; known_agent if input.spiffe_id in object.keys(agents); tool_permitted if input.tool in agents[input.spiffe_id].tools; collection_permitted if input.collection in agents[input.spiffe_id].collections; allow if { known_agent; tool_permitted; collection_permitted } (one condition per line).',
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
        'record() runs for every call, denied ones too, after the tool: append with audit.append({...}); the parameter type of append lists every field the entry needs.',
        'spiffe_id is call.spiffeId (the check sends a header claiming to be the research agent and expects the entry under the real caller); arguments_sha256 is audit.digest(call.arguments); decision is "allow" or "deny" from decision.allow; decision_id is decision.decisionId.',
        'The answer: await audit.append({ spiffe_id: call.spiffeId, tool: call.tool, arguments_sha256: audit.digest(call.arguments), decision: decision.allow ? "allow" : "deny", decision_id: decision.decisionId, reason: decision.reason, trace_id: call.traceId, outcome, duration_ms: durationMs }).',
      ],
      checks: [auditEveryCall, auditMatchesOpa, auditSpoofedHeader, auditChain, agentCallsTraced].map((check) =>
        needing(MCP_PATH, check),
      ),
    },
  ],
});
