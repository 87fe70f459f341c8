import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import { shownEntries } from '../../labs/secure-agents/registration.js';
import { AGENT_HEALTHCHECK, AGENT_ID, IDS, SERVER_SOCKET, SPIRE_SERVER } from '../../labs/secure-agents/spire-layout.js';
import { attestedAgents } from '../lib/spire.js';
import { presentedIdentity, tlsEndpoint } from '../lib/mtls-probe.js';
import { agentRun } from './agents.js';

const STEP1 = 'Complete step 1 in spire/agent.conf and spire/entries.ts, then run `lab check 1`.';

/** Workload -> the SPIFFE ID and docker label it must be registered with. */
export const WORKLOADS = [
  { workload: 'mcp-server', id: IDS.mcpServer },
  { workload: 'rag-index', id: IDS.ragIndex },
  { workload: 'agent-research', id: IDS.research },
  { workload: 'agent-support', id: IDS.support },
];

export const agentAttested: CheckDefinition = {
  id: 'spire-agent-attested',
  title: 'The SPIRE server is healthy and the agent attested its node (x509pop)',
  async run(ctx) {
    const health = await ctx.exec('spire-server', [...SPIRE_SERVER, 'healthcheck', ...SERVER_SOCKET]);
    if (health.exitCode !== 0) return fail(`The SPIRE server is not healthy: ${health.output.trim()}`, 'Run `lab logs spire-server`; `lab start` restarts it.');
    const agents = await attestedAgents(ctx);
    const ours = agents.find((a) => a.spiffeId === AGENT_ID && !a.banned);
    if (!ours) {
      const log = (await ctx.logs('spire-agent')).trim().split('\n').filter((l) => /level=(error|fatal)|error/i.test(l)).slice(-2).join(' | ');
      return fail(
        `No agent ${AGENT_ID} is attested (the server knows ${agents.map((a) => a.spiffeId).join(', ') || 'no agents'}).${log ? ` The agent's log says: ${log}` : ''}`,
        `Add NodeAttestor "x509pop" (private_key_path and certificate_path under /etc/spire/agent-secrets/) to spire/agent.conf. ${STEP1}`,
      );
    }
    const agentHealth = await ctx.exec('spire-agent', AGENT_HEALTHCHECK).catch((e: Error) => ({ exitCode: 1, output: e.message }));
    if (agentHealth.exitCode !== 0) return fail(`The agent attested once but is not healthy now: ${agentHealth.output.trim()}`, 'Run `lab logs spire-agent`; fix spire/agent.conf and run `lab check` again.');
    return pass(`The server is healthy and agent ${AGENT_ID} is attested.`);
  },
};

export const entriesRegistered: CheckDefinition = {
  id: 'spire-entries',
  title: 'Registration entries give each workload its SPIFFE ID, parented by the agent and selected by docker label',
  async run(ctx) {
    const entries = await shownEntries(ctx);
    const problems = WORKLOADS.flatMap(({ workload, id }) => {
      const entry = entries.find((e) => e.spiffe_id === id);
      if (!entry) return [`no entry for ${id}`];
      const wrong = [
        entry.parent_id !== AGENT_ID && `its parent_id is ${entry.parent_id}, not the agent ${AGENT_ID}`,
        !entry.selectors.some((s) => s.type === 'docker' && s.value === `label:dev.ai-infra-labs.workload:${workload}`) &&
          `no selector docker:label:dev.ai-infra-labs.workload:${workload} (it has ${entry.selectors.map((s) => `${s.type}:${s.value}`).join(', ')})`,
      ].filter(Boolean);
      return wrong.length > 0 ? [`${id}: ${wrong.join('; ')}`] : [];
    });
    if (problems.length > 0) return fail(`Registration entries are missing or wrong: ${problems.join('. ')}.`, `List the four workloads in spire/entries.ts (lab check applies the file to the server). ${STEP1}`, { entries });
    return pass(`${WORKLOADS.length} entries registered: ${WORKLOADS.map((w) => w.id).join(', ')}.`);
  },
};

export const workloadsHoldSvids: CheckDefinition = {
  id: 'spire-workloads-svids',
  title: 'Each workload holds its X.509-SVID: servers present it, agents are issued theirs',
  timeoutMs: 60_000,
  async run(ctx) {
    const bundle = readFileSync(path.join(ctx.secretsDir, 'spire-agent', 'bundle.pem'), 'utf8');
    const problems: string[] = [];
    // The lab's sync (registration.ts) has already waited for registered servers to take up their SVIDs.
    for (const [service, expected] of [['mcp-server', IDS.mcpServer], ['rag-index', IDS.ragIndex]] as const) {
      const seen = await presentedIdentity(tlsEndpoint(ctx, service), bundle, ctx.signal);
      const state = seen.error === 'ECONNRESET' || seen.error === 'ECONNREFUSED' ? 'is not serving TLS yet (it has no SVID)' : `presents no SVID (${seen.error})`;
      if (seen.id !== expected) problems.push(`${service} ${seen.id ? `presents ${seen.id}` : state}, expected ${expected}`);
    }
    const runs = await Promise.all([agentRun(ctx, 'research'), agentRun(ctx, 'support')]);
    for (const run of runs) {
      const role = run.role as 'research' | 'support';
      const expected = role === 'research' ? IDS.research : IDS.support;
      if (run.spiffe_id !== expected) problems.push(`agent-${role} ${run.spiffe_id ? `holds ${run.spiffe_id}` : `holds no SVID (${run.error ?? 'no identity issued'})`}, expected ${expected}`);
    }
    if (problems.length > 0) {
      return fail(`Not every workload has its identity: ${problems.join('; ')}.`, `Check that the agent has WorkloadAttestor "docker" and that entries.ts matches each container's label. ${STEP1} \`lab logs spire-agent\` shows each attestation.`);
    }
    return pass('mcp-server and rag-index present their SVIDs (verified against the lab root); both agents were issued theirs.');
  },
};
