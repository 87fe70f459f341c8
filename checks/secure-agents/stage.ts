/**
 * Lab 2's own stage, checked from inside it (the README's "threat model of the lab itself"). These are not
 * learner work: `lab test secure-agents` runs them on the solved lab, `lab check` never does. Each looks the way
 * an attacker in one container would: an agent container (a fresh one, made as compose makes the agents) or
 * the MCP server's. The e2e suite (test/e2e/lab2-stage-attacks.test.ts) goes further, on the same stage.
 */
import { copyFileSync, renameSync } from 'node:fs';
import { fail, pass, type CheckContext, type CheckDefinition, type JobResult } from '../../src/core/lab-definition.js';
import { auditLogIn } from '../../src/services/audit/audit-trust.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import { searchAs } from './policy.js';

const AGENT = 'agent-research';
const SOCKET = '/run/spire/sockets/agent.sock';

/** Helpers every probe script starts with: each prints one JSON object. */
const PROBE = `
const fs = require('node:fs'); const net = require('node:net'); const cp = require('node:child_process');
const connect = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 3000 });
  s.on('connect', () => { s.destroy(); resolve('connected'); });
  s.on('timeout', () => { s.destroy(); resolve('timeout'); });
  s.on('error', (e) => resolve(e.code));
});
const attempt = (f) => { try { f(); return 'done'; } catch (e) { return e.code; } };
`;

function json(what: string, result: JobResult): Record<string, unknown> {
  const line = result.output.split('\n').find((l) => l.startsWith('{'));
  if (!line)
    throw new Error(`${what} printed no result (exit ${result.exitCode}): ${result.output.trim().slice(-300)}`);
  return JSON.parse(line) as Record<string, unknown>;
}

async function inAgent(ctx: CheckContext, script: string): Promise<Record<string, unknown>> {
  if (!ctx.probeJob) throw new Error('stage checks need the Docker runtime (a container per workload)');
  return json(`a probe in ${AGENT}'s container`, await ctx.probeJob(AGENT, ['node', '-e', `${PROBE}${script}`]));
}

export const agentHoldsNoSecret: CheckDefinition = {
  id: 'stage-agent-holds-no-secret',
  title: 'An agent container holds no key, is not root, and cannot swap the Workload API socket',
  timeoutMs: 60_000,
  async run(ctx) {
    const seen = await inAgent(
      ctx,
      `const keys = cp.execSync('find / -path /proc -prune -o -path /sys -prune -o -path "*/node_modules" -prune -o \\\\( -name "*.key" -o -name "token-sha256.json" -o -name ".lab" \\\\) -print 2>/dev/null || true').toString().split('\\n').filter(Boolean);
       console.log(JSON.stringify({ keys, uid: process.getuid(), unlink: attempt(() => fs.unlinkSync('${SOCKET}')), plant: attempt(() => fs.writeFileSync('/run/spire/sockets/x', '')) }));`,
    );
    const problems = [
      (seen.keys as string[]).length > 0 && `secret files are visible: ${(seen.keys as string[]).join(', ')}`,
      seen.uid === 0 && 'it runs as root',
      seen.unlink !== 'EROFS' && `removing the Workload API socket gave ${String(seen.unlink)}, not EROFS`,
      seen.plant !== 'EROFS' && `writing beside the socket gave ${String(seen.plant)}, not EROFS`,
    ].filter(Boolean);
    if (problems.length > 0)
      return fail(
        `The agent container is not confined: ${problems.join('; ')}.`,
        'compose/secure-agents.yml: agents mount only mtls/ (read-only) and the socket folder read-only, and run as the learner.',
      );
    return pass(`No key, token or .lab folder, uid ${String(seen.uid)}, the socket folder read-only.`);
  },
};

export const agentReachesOnlyMcp: CheckDefinition = {
  id: 'stage-agent-reaches-only-mcp',
  title: 'An agent reaches the MCP server, and neither OPA nor rag-index, by name or by address',
  timeoutMs: 60_000,
  async run(ctx) {
    const lookup = await ctx.exec('mcp-server', [
      'node',
      '-e',
      `require('node:dns').promises.lookup('opa').then(async (o) => console.log(JSON.stringify({ opa: o.address, rag: (await require('node:dns').promises.lookup('rag-index')).address })))`,
    ]);
    const ips = json('a DNS lookup in the MCP server', lookup) as { opa: string; rag: string };
    const seen = await inAgent(
      ctx,
      `(async () => console.log(JSON.stringify({ mcp: await connect('mcp-server', 8443), opa: await connect('opa', 8181), rag: await connect('rag-index', 8443), opaIp: await connect('${ips.opa}', 8181), ragIp: await connect('${ips.rag}', 8443) })))();`,
    );
    const reached = Object.entries(seen)
      .filter(([k, v]) => k !== 'mcp' && v === 'connected')
      .map(([k]) => k);
    if (seen.mcp !== 'connected')
      return fail(
        `The agent cannot reach the MCP server (${String(seen.mcp)}), so its isolation proves nothing.`,
        'Start the lab again: `lab start secure-agents`.',
      );
    if (reached.length > 0)
      return fail(
        `An agent container connected to ${reached.join(', ')}.`,
        'compose/secure-agents.yml: agents belong to the `front` network only.',
      );
    return pass(
      `MCP server connected; OPA ${String(seen.opa)}/${String(seen.opaIp)}, rag-index ${String(seen.rag)}/${String(seen.ragIp)}.`,
    );
  },
};

export const opaIsDecisionPoint: CheckDefinition = {
  id: 'stage-opa-refuses-writes',
  title: "OPA refuses policy and data writes, even with the MCP server's token, and decides only for that token",
  timeoutMs: 30_000,
  async run(ctx) {
    const script = `
      const token = require('node:fs').readFileSync('/run/secrets/opa-token', 'utf8').trim();
      const call = (method, p, body, auth) => fetch('http://opa:8181' + p, { method, body, headers: auth ? { authorization: 'Bearer ' + token } : {} }).then((r) => r.status, (e) => e.message);
      const input = JSON.stringify({ input: { spiffe_id: '${IDS.support}', tool: 'search_documents', arguments: {}, collection: 'internal' } });
      (async () => console.log(JSON.stringify({
        putPolicy: await call('PUT', '/v1/policies/x', 'package agents.authz\\nimport rego.v1\\ndecision := {"allow": true}', false),
        putPolicyToken: await call('PUT', '/v1/policies/x', 'package agents.authz\\nimport rego.v1\\ndecision := {"allow": true}', true),
        putDataToken: await call('PUT', '/v1/data/agents', '{}', true),
        readDataToken: await call('GET', '/v1/data', undefined, true),
        decideNoToken: await call('POST', '/v1/data/agents/authz/decision', input, false),
        decideToken: await call('POST', '/v1/data/agents/authz/decision', input, true),
      })))();`;
    const seen = json("a probe in the MCP server's container", await ctx.exec('mcp-server', ['node', '-e', script]));
    const expected: Record<string, number> = {
      putPolicy: 401,
      putPolicyToken: 401,
      putDataToken: 401,
      readDataToken: 401,
      decideNoToken: 401,
      decideToken: 200,
    };
    const wrong = Object.entries(expected)
      .filter(([k, v]) => seen[k] !== v)
      .map(([k, v]) => `${k}: ${String(seen[k])} (expected ${v})`);
    if (wrong.length > 0)
      return fail(
        `OPA is not only a decision point: ${wrong.join('; ')}.`,
        'OPA runs with --authentication=token --authorization=basic and labs/secure-agents/opa-system/authz.rego.',
      );
    return pass('Writes and reads refused (401) with and without the token; a decision answered only with it.');
  },
};

export const auditReplacementDetected: CheckDefinition = {
  id: 'stage-audit-replacement-detected',
  title: 'Replacing the audit file behind the writer is detected: the next call is refused, not recorded elsewhere',
  timeoutMs: 60_000,
  async run(ctx) {
    const before = await searchAs(ctx, IDS.research, 'public');
    if (!before.allowed)
      return fail(
        `A call allowed by the policy was refused before the file was touched: ${before.text}`,
        'Solve the lab first (`lab solve 4`).',
      );
    // Leaves the audit refused until `lab reset`, as tampering should: `lab test` resets right after.
    const file = auditLogIn(ctx.workspaceDir);
    renameSync(file, `${file}.moved`);
    copyFileSync(`${file}.moved`, file);
    const after = await searchAs(ctx, IDS.research, 'public');
    if (after.allowed || !/replaced/.test(after.text))
      return fail(
        `After the audit file was replaced, the call was ${after.allowed ? 'allowed' : `refused for another reason (${after.text})`}.`,
        'The audit writer must compare inode and size before each append and fail closed.',
      );
    return pass(`Refused: ${after.text.slice(0, 160)}`);
  },
};

export const STAGE_CHECKS = [agentHoldsNoSecret, agentReachesOnlyMcp, opaIsDecisionPoint, auditReplacementDetected];
