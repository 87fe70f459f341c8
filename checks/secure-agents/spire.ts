import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import {
  keyOf,
  loadEntries,
  shownEntries,
  workloadSelector,
  type RegistrationEntry,
  type ServerEntry,
} from './registration.js';
import {
  AGENT_HEALTHCHECK,
  AGENT_ID,
  IDS,
  SERVER_SOCKET,
  SPIRE_SERVER,
} from '../../labs/secure-agents/spire-layout.js';
import { attestedAgents } from '../lib/spire.js';
import { presentedIdentity, tlsEndpoint } from '../lib/mtls-probe.js';
import { agentRun } from './agents.js';

const STEP1 = 'Complete step 1 in spire/agent.conf and spire/entries.ts, then run `lab check 1`.';

const BUNDLE_PATH = '/etc/spire/agent-secrets/bundle.pem';

/** The lines of the agent's log since it last started. */
function currentRun(log: string): string[] {
  const lines = log.split('\n');
  const start = lines.map((l) => /msg="Starting agent"/.test(l)).lastIndexOf(true);
  return start < 0 ? lines : lines.slice(start);
}

/** HCL as data: comments dropped, then the two settings that decide whom the agent trusts at bootstrap. */
function bootstrapProblems(conf: string): string | undefined {
  const text = conf
    .split('\n')
    .map((l) => l.replace(/(#|\/\/).*$/, ''))
    .join('\n');
  if (/\binsecure_bootstrap\s*=\s*true\b/.test(text))
    return 'insecure_bootstrap = true (the agent would trust whichever server answers first)';
  const bundle = /\btrust_bundle_path\s*=\s*"([^"]*)"/.exec(text)?.[1];
  if (bundle !== BUNDLE_PATH)
    return bundle ? `trust_bundle_path is ${bundle}, not the lab's bundle ${BUNDLE_PATH}` : 'no trust_bundle_path';
  if (/\btrust_bundle_url\b/.test(text))
    return 'a trust_bundle_url (the bundle must be the one provisioned for this run)';
  return undefined;
}

/** Workload -> the SPIFFE ID and docker label it must be registered with. */
const WORKLOADS = [
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
    if (health.exitCode !== 0)
      return fail(
        `The SPIRE server is not healthy: ${health.output.trim()}`,
        'Run `lab logs spire-server`; `lab start` restarts it.',
      );
    const agents = await attestedAgents(ctx);
    const ours = agents.find((a) => a.spiffeId === AGENT_ID && !a.banned);
    if (!ours) {
      const log = (await ctx.logs('spire-agent'))
        .trim()
        .split('\n')
        .filter((l) => /level=(error|fatal)|error/i.test(l))
        .slice(-2)
        .join(' | ');
      return fail(
        `No agent ${AGENT_ID} is attested (the server knows ${agents.map((a) => a.spiffeId).join(', ') || 'no agents'}).${log ? ` The agent's log says: ${log}` : ''}`,
        `Add NodeAttestor "x509pop" (private_key_path and certificate_path under /etc/spire/agent-secrets/) to spire/agent.conf. ${STEP1}`,
      );
    }
    if (ours.attestationType !== 'x509pop')
      return fail(
        `Agent ${AGENT_ID} was attested by ${ours.attestationType || 'an unknown attestor'}, not x509pop.`,
        `Use NodeAttestor "x509pop" in spire/agent.conf. ${STEP1}`,
      );
    const agentHealth = await ctx
      .exec('spire-agent', AGENT_HEALTHCHECK)
      .catch((e: Error) => ({ exitCode: 1, output: e.message }));
    if (agentHealth.exitCode !== 0)
      return fail(
        `The agent attested once but is not healthy now: ${agentHealth.output.trim()}`,
        'Run `lab logs spire-agent`; fix spire/agent.conf and run `lab check` again.',
      );
    // The server remembers an attestation from an earlier configuration, and the agent reuses the SVID cached
    // in its data directory: what the agent runs with NOW is in its log since its last start.
    const run = currentRun(await ctx.logs('spire-agent'));
    const nodeAttestor = run
      .map((l) => /msg="Plugin loaded".*plugin_name=(\S+) plugin_type=NodeAttestor/.exec(l)?.[1])
      .find(Boolean);
    if (nodeAttestor !== 'x509pop') {
      return fail(
        `The running SPIRE agent ${nodeAttestor ? `loaded NodeAttestor "${nodeAttestor}"` : 'loaded no NodeAttestor (see `lab logs spire-agent`)'}: it works only on the identity cached from an earlier attestation.`,
        `Use NodeAttestor "x509pop" with the node certificate in spire/agent.conf (and keep log_level at INFO or DEBUG). ${STEP1}`,
      );
    }
    // How the agent trusts the server on its first contact only shows on a fresh bootstrap; read it from the
    // configuration the agent runs with (as data, never executed).
    const bootstrap = bootstrapProblems(readFileSync(path.join(ctx.workspaceDir, 'spire', 'agent.conf'), 'utf8'));
    if (bootstrap)
      return fail(
        `The agent's bootstrap trust is wrong: ${bootstrap}.`,
        `Keep trust_bundle_path = "${BUNDLE_PATH}" (the lab's root for this run) and never set insecure_bootstrap. ${STEP1}`,
      );
    return pass(
      `The server is healthy; agent ${AGENT_ID} is attested by x509pop, runs with the x509pop attestor and trusts the lab's bundle.`,
    );
  },
};

/** The docker selectors each lab container presents (compose labels included): what an entry can match. */
const CONTAINERS = ['spire-server', 'spire-agent', 'opa', 'rag-index', 'mcp-server', 'agent-research', 'agent-support'];
const containerSelectors = (name: string) =>
  new Set([
    `docker:label:dev.ai-infra-labs.workload:${name}`,
    'docker:label:dev.ai-infra-labs.owned:true',
    'docker:label:dev.ai-infra-labs.lab:secure-agents',
    `docker:label:com.docker.compose.service:${name}`,
  ]);

/** Which containers can obtain each entry's SVID: all its selectors must be ones the container presents. */
function obtainable(entries: RegistrationEntry[]): { byContainer: Map<string, Set<string>>; unmatched: string[] } {
  const byContainer = new Map(CONTAINERS.map((c) => [c, new Set<string>()]));
  const unmatched: string[] = [];
  for (const entry of entries) {
    const selectors = entry.selectors.map((s) => `${s.type}:${s.value}`);
    const takers = CONTAINERS.filter((c) => selectors.every((s) => containerSelectors(c).has(s)));
    for (const taker of takers) byContainer.get(taker)!.add(entry.spiffe_id);
    const unknown = selectors.filter((s) => !s.startsWith('docker:label:'));
    if (takers.length === 0)
      unmatched.push(
        `${entry.spiffe_id} selected by ${selectors.join(' + ')}${unknown.length > 0 ? ' (only docker label selectors tie an entry to one container here)' : ''}`,
      );
  }
  return { byContainer, unmatched };
}

/** Why an entry is not one workload's exact registration (its own ID, the agent as parent, only its container). */
function registrationProblem(entry: RegistrationEntry): string | undefined {
  const own = WORKLOADS.find((w) => w.id === entry.spiffe_id);
  if (!own) return `${entry.spiffe_id} is not one of the four workloads' IDs`;
  if (entry.parent_id !== AGENT_ID) return `its parent_id is ${entry.parent_id}, not the agent ${AGENT_ID}`;
  const takers = [...obtainable([entry]).byContainer].filter(([, ids]) => ids.size > 0).map(([c]) => c);
  if (takers.length !== 1 || takers[0] !== own.workload)
    return takers.length === 0
      ? `no lab container matches its selectors (the ${own.workload} container is docker:label:${workloadSelector(own.workload).value})`
      : `the ${takers.join(', ')} container${takers.length > 1 ? 's' : ''} can obtain it`;
  return undefined;
}

/** How to remove an entry made by hand: the sync never deletes those. */
const deleteHint = (e: ServerEntry) => `(made by hand: delete it with \`npx lab spire entry delete -entryID ${e.id}\`)`;

export const entriesRegistered: CheckDefinition = {
  id: 'spire-entries',
  title:
    'The server holds the entries of spire/entries.ts and those made by hand: one SPIFFE ID per workload container, parented by the agent, none shared or overbroad',
  timeoutMs: 30_000,
  async run(ctx) {
    const fromFile = await loadEntries(ctx.workspaceDir).catch((error: Error) => error);
    if (fromFile instanceof Error)
      return fail(
        `${fromFile.message}, so it was not applied: the server still holds whatever was applied before.`,
        `Fix spire/entries.ts so that it loads and exports \`entries\`. ${STEP1}`,
      );
    // Read back from the server, never from the file: the server is what issues SVIDs.
    const entries = await shownEntries(ctx);
    const onServer = new Set(entries.map(keyOf));
    const inFile = new Set(fromFile.map(keyOf));
    const unapplied = [...inFile].filter((k) => !onServer.has(k)).length;
    const stale = entries.filter((e) => e.synced && !inFile.has(keyOf(e))).length;
    if (unapplied > 0 || stale > 0) {
      return fail(
        `The SPIRE server does not hold what spire/entries.ts lists (${unapplied} of its ${fromFile.length} entries missing, ${stale} no longer listed still there): the file's latest version was not applied.`,
        `Run \`npx lab check\` again and read the sync message above the checks. ${STEP1}`,
        { entries },
      );
    }
    const problems = WORKLOADS.flatMap(({ id }) => {
      const entry = entries.find((e) => e.spiffe_id === id);
      if (!entry) return [`no entry for ${id}`];
      const wrongParent = entries.filter((e) => e.spiffe_id === id && e.parent_id !== AGENT_ID);
      return wrongParent.length > 0 ? [`${id}: parent_id ${wrongParent[0]!.parent_id}, not the agent ${AGENT_ID}`] : [];
    });
    const { byContainer, unmatched } = obtainable(entries);
    for (const container of CONTAINERS) {
      const own = WORKLOADS.find((w) => w.workload === container)?.id;
      const ids = [...byContainer.get(container)!];
      const extra = ids.filter((id) => id !== own);
      if (extra.length > 0)
        problems.push(
          `the ${container} container can obtain ${extra.join(', ')}${own ? ` besides its own ${own}` : ''}`,
        );
      if (own && !ids.includes(own))
        problems.push(
          `no entry selects the ${container} container for ${own} (its label is docker:label:dev.ai-infra-labs.workload:${container})`,
        );
    }
    // Entries made by hand are named below, with how to delete them.
    const fromSync = new Set(obtainable(entries.filter((e) => e.synced)).unmatched);
    problems.push(...unmatched.filter((u) => fromSync.has(u)).map((u) => `an entry no lab container matches: ${u}`));
    // An entry made by hand stays until the learner deletes it: say which one, and how.
    const wrongByHand = entries.filter((e) => !e.synced && registrationProblem(e));
    problems.push(
      ...wrongByHand.map((e) => `the entry ${e.id} for ${e.spiffe_id}: ${registrationProblem(e)} ${deleteHint(e)}`),
    );
    if (problems.length > 0)
      return fail(
        `Registration entries are missing, shared or overbroad: ${problems.join('. ')}.`,
        `Register exactly the four workloads, each selected by its own workload label: in spire/entries.ts (lab check applies it) or by hand. ${STEP1}`,
        { entries },
      );
    const byHand = entries.filter((e) => !e.synced).length;
    return pass(
      `${entries.length} entries on the server (${entries.length - byHand} from spire/entries.ts, ${byHand} made by hand); each workload container can obtain only its own ID.`,
    );
  },
};

export const entryByHand: CheckDefinition = {
  id: 'spire-entry-by-hand',
  title: 'At least one workload is registered by hand with spire-server entry create, correctly',
  async run(ctx) {
    const entries = await shownEntries(ctx);
    const byHand = entries.filter((e) => !e.synced);
    const good = byHand.filter((e) => !registrationProblem(e));
    if (good.length > 0)
      return pass(
        `Registered by hand: ${good.map((e) => `${e.spiffe_id} (entry ${e.id})`).join(', ')}. The sync leaves such entries alone.`,
      );
    return fail(
      byHand.length === 0
        ? 'Every entry on the server came from spire/entries.ts: no workload was registered by hand.'
        : `The entries made by hand register no workload correctly: ${byHand.map((e) => `${e.id} for ${e.spiffe_id}: ${registrationProblem(e)}`).join('; ')}.`,
      'Register one workload yourself: `npx lab spire entry create -parentID <the agent, as `npx lab spire agent list` names it> -spiffeID <its SPIFFE ID> -selector docker:label:<key>:<value>` (step 1, "Try it by hand"). For a workload spire/entries.ts lists, delete the entry the file made first (`npx lab spire entry show`, then `npx lab spire entry delete -entryID <id>`): the sync adds no second one beside yours.',
      { entries: byHand },
    );
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
    for (const [service, expected] of [
      ['mcp-server', IDS.mcpServer],
      ['rag-index', IDS.ragIndex],
    ] as const) {
      const seen = await presentedIdentity(tlsEndpoint(ctx, service), bundle, ctx.signal);
      const state =
        seen.error === 'ECONNRESET' || seen.error === 'ECONNREFUSED'
          ? 'is not serving TLS yet (it has no SVID)'
          : `presents no SVID (${seen.error})`;
      if (seen.id !== expected)
        problems.push(`${service} ${seen.id ? `presents ${seen.id}` : state}, expected ${expected}`);
    }
    const runs = await Promise.all([agentRun(ctx, 'research'), agentRun(ctx, 'support')]);
    for (const run of runs) {
      const role = run.role as 'research' | 'support';
      const expected = role === 'research' ? IDS.research : IDS.support;
      if (run.spiffe_id !== expected)
        problems.push(
          `agent-${role} ${run.spiffe_id ? `holds ${run.spiffe_id}` : `holds no SVID (${run.error ?? 'no identity issued'})`}, expected ${expected}`,
        );
    }
    if (problems.length > 0) {
      return fail(
        `Not every workload has its identity: ${problems.join('; ')}.`,
        `Check that the agent has WorkloadAttestor "docker" and that entries.ts matches each container's label. ${STEP1} \`lab logs spire-agent\` shows each attestation.`,
      );
    }
    return pass(
      'mcp-server and rag-index present their SVIDs (verified against the lab root); both agents were issued theirs.',
    );
  },
};
