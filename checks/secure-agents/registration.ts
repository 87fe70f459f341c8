/**
 * Applies the learner's spire/entries.ts to the SPIRE server (the lab's `sync` hook): entries the file lists and
 * the server lacks are created, marked with the hint SYNC_HINT; entries so marked that the file no longer lists
 * are deleted. Entries the learner created by hand (`npx lab spire entry create`, no such hint) are never
 * deleted, and an entry the file lists that the server already holds, however made, is not created twice.
 * Runs through `spire-server` inside its container (the admin API socket never leaves it). Whatever cannot be
 * applied is returned as a problem the learner sees, never thrown.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { LabControl } from '../../src/core/lab-definition.js';
import {
  AGENT_HEALTHCHECK,
  AGENT_ID,
  SERVER_SOCKET,
  SPIRE_SERVER,
  spiffeId,
} from '../../labs/secure-agents/spire-layout.js';
import { presentedIdentity } from '../lib/mtls-probe.js';
import { runLearnerCode } from '../lib/learner-code.js';
import { lastLines } from '../../src/core/text.js';

const TRUST_DOMAIN_PREFIX = spiffeId('');
/**
 * The hint (a free-form field of SPIRE entries, shown by `entry show`) on every entry the sync creates: how the
 * sync tells its own entries from those made by hand, which it leaves alone.
 */
export const SYNC_HINT = 'spire/entries.ts';
/** The workloads that serve mTLS: their SVID must be in place before anything talks to them. */
const SERVERS = ['rag-index', 'mcp-server'];

const entrySchema = z.object({
  spiffe_id: z
    .string()
    .startsWith(TRUST_DOMAIN_PREFIX, `must be a SPIFFE ID in the lab's trust domain (${TRUST_DOMAIN_PREFIX}…)`),
  parent_id: z.string().startsWith(TRUST_DOMAIN_PREFIX, 'must be the SPIFFE ID of the SPIRE agent (AGENT_ID)'),
  selectors: z
    .array(z.object({ type: z.string().min(1), value: z.string().min(1) }))
    .min(1, 'needs at least one selector, or every workload would match'),
  x509_svid_ttl: z.number().int().positive().optional(),
});
export type RegistrationEntry = z.infer<typeof entrySchema>;

/** An entry as `spire-server entry show -output json` prints it. */
interface ShownEntry {
  id: string;
  spiffe_id: { trust_domain: string; path: string };
  parent_id: { trust_domain: string; path: string };
  selectors: Array<{ type: string; value: string }>;
  x509_svid_ttl?: number;
  hint?: string;
}

/** An entry as the server holds it: its ID, and whether the sync made it (else it was made by hand). */
export type ServerEntry = RegistrationEntry & { id: string; synced: boolean };

const idOf = (id: { trust_domain: string; path: string }) => `spiffe://${id.trust_domain}${id.path}`;
export const keyOf = (e: { spiffe_id: string; parent_id: string; selectors: Array<{ type: string; value: string }> }) =>
  JSON.stringify([e.spiffe_id, e.parent_id, e.selectors.map((s) => `${s.type}:${s.value}`).sort()]);

/**
 * The learner's entries, loaded in a child process and returned as data: the module is learner code, and loaded
 * into `lab check` itself it could change the grader's own objects (its exit code, JSON.parse). A fresh process
 * each time the file changes means a changed file is always read anew; an unchanged one is loaded once per `lab
 * check` (the sync and the spire-entries check read the same file; a child process costs about a second).
 */
export async function loadEntries(workspaceDir: string): Promise<RegistrationEntry[]> {
  const file = path.join(workspaceDir, 'spire', 'entries.ts');
  const key = `${file}\0${existsSync(file) ? createHash('sha256').update(readFileSync(file)).digest('hex') : ''}`;
  if (!loaded.has(key)) {
    loaded.set(key, loadEntriesOnce(file));
    // A failed load is not kept: the next call tries again (and says why again).
    loaded.get(key)!.catch(() => loaded.delete(key));
  }
  return loaded.get(key)!;
}

const loaded = new Map<string, Promise<RegistrationEntry[]>>();

async function loadEntriesOnce(file: string): Promise<RegistrationEntry[]> {
  const result = await runLearnerCode<{ entries: unknown }>('entries', { file }).catch((error: Error) => {
    throw new Error(`spire/entries.ts could not be loaded: ${error.message}`);
  });
  const parsed = z.array(entrySchema).safeParse(result.entries ?? []);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`spire/entries.ts: entries[${issue.path.join('.')}] ${issue.message}`);
  }
  return parsed.data;
}

export async function shownEntries(control: Pick<LabControl, 'exec'>): Promise<ServerEntry[]> {
  const shown = await control.exec('spire-server', [
    ...SPIRE_SERVER,
    'entry',
    'show',
    ...SERVER_SOCKET,
    '-output',
    'json',
  ]);
  if (shown.exitCode !== 0) throw new Error(`the SPIRE server did not list its entries: ${shown.output.trim()}`);
  const entries = (JSON.parse(shown.output) as { entries?: ShownEntry[] }).entries ?? [];
  return entries.map((e) => ({
    id: e.id,
    spiffe_id: idOf(e.spiffe_id),
    parent_id: idOf(e.parent_id),
    selectors: e.selectors,
    ...(e.x509_svid_ttl ? { x509_svid_ttl: e.x509_svid_ttl } : {}),
    synced: e.hint === SYNC_HINT,
  }));
}

export async function applyRegistrations(control: LabControl): Promise<Array<{ service: string; message: string }>> {
  let wanted: RegistrationEntry[];
  try {
    wanted = await loadEntries(control.workspaceDir);
  } catch (error) {
    return [{ service: 'spire-server', message: `Registration entries not applied: ${(error as Error).message}` }];
  }
  try {
    const current = await shownEntries(control);
    const wantedKeys = new Set(wanted.map(keyOf));
    // Any entry already on the server counts, the learner's own included: SPIRE refuses a similar second one.
    const currentKeys = new Set(current.map(keyOf));
    for (const stale of current.filter((e) => e.synced && !wantedKeys.has(keyOf(e)))) {
      const deleted = await control.exec('spire-server', [
        ...SPIRE_SERVER,
        'entry',
        'delete',
        ...SERVER_SOCKET,
        '-entryID',
        stale.id,
      ]);
      if (deleted.exitCode !== 0)
        throw new Error(`could not delete the entry for ${stale.spiffe_id}: ${deleted.output.trim()}`);
    }
    const missing = wanted.filter((e) => !currentKeys.has(keyOf(e)));
    if (missing.length > 0) {
      const created = await control.exec(
        'spire-server',
        [...SPIRE_SERVER, 'entry', 'create', ...SERVER_SOCKET, '-data', '-'],
        { input: JSON.stringify({ entries: missing.map((e) => ({ ...e, hint: SYNC_HINT })) }) },
      );
      if (created.exitCode !== 0)
        throw new Error(`could not create entries: ${lastLines(created.output, 3).join(' ')}`);
    }
  } catch (error) {
    return [{ service: 'spire-server', message: `Registration entries not applied: ${(error as Error).message}` }];
  }
  await serversReady(control, wanted);
  return [];
}

/**
 * A new entry, or a restarted server, needs a few seconds before the server holds its SVID and listens (the
 * agent syncs entries every 5 s; the service retries its Workload API stream with back-off). Wait for the
 * registered servers to present their SVIDs, so the checks that follow see the state the learner made rather
 * than a race. Bounded: a server that never gets one is the checks' to report.
 */
async function serversReady(control: LabControl, wanted: RegistrationEntry[]): Promise<void> {
  const bundleFile = path.join(control.secretsDir, 'spire-agent', 'bundle.pem');
  if (!existsSync(bundleFile)) return;
  // No healthy agent (step 1 not done yet): no server can get an SVID, nothing to wait for.
  const agent = await control.exec('spire-agent', AGENT_HEALTHCHECK).catch(() => undefined);
  if (agent?.exitCode !== 0) return;
  const bundle = readFileSync(bundleFile, 'utf8');
  const deadline = control.clock.now().getTime() + 20_000;
  for (const service of SERVERS) {
    const id = spiffeId(service);
    if (!wanted.some((e) => e.spiffe_id === id)) continue;
    const endpoint = new URL(`https://127.0.0.1:${control.url(service).port}`);
    while (
      (await presentedIdentity(endpoint, bundle, AbortSignal.timeout(5_000))).id !== id &&
      control.clock.now().getTime() < deadline
    ) {
      await control.clock.sleep(250);
    }
  }
}

/** The docker selector of a lab container: every one carries the label dev.ai-infra-labs.workload=<name>. */
export const workloadSelector = (workload: string) => ({
  type: 'docker',
  value: `label:dev.ai-infra-labs.workload:${workload}`,
});

/** `spire-server entry create` as a learner types it for one workload (after `npx lab spire`). */
export function byHandCommand(workload: string, spiffe: string): string[] {
  const selector = workloadSelector(workload);
  return ['entry', 'create', '-parentID', AGENT_ID, '-spiffeID', spiffe, '-selector', `docker:${selector.value}`];
}

/**
 * Step 1's by-hand part, done for `lab solve 1` and `lab test`: registers `workload` as a learner would, through
 * `spire-server entry create` without the sync's hint. An entry the sync made for it first is replaced; one made
 * by hand is kept. Returns what was done; throws when the server refuses.
 */
export async function registerByHand(control: Pick<LabControl, 'exec'>, workload: string, spiffe: string) {
  const key = keyOf({ spiffe_id: spiffe, parent_id: AGENT_ID, selectors: [workloadSelector(workload)] });
  const same = (await shownEntries(control)).filter((e) => keyOf(e) === key);
  if (same.some((e) => !e.synced)) return `${spiffe} was already registered by hand.`;
  for (const e of same) {
    const deleted = await control.exec('spire-server', [
      ...SPIRE_SERVER,
      'entry',
      'delete',
      ...SERVER_SOCKET,
      '-entryID',
      e.id,
    ]);
    if (deleted.exitCode !== 0)
      throw new Error(`could not delete the synced entry for ${spiffe}: ${deleted.output.trim()}`);
  }
  const [verb, sub, ...flags] = byHandCommand(workload, spiffe);
  const created = await control.exec('spire-server', [...SPIRE_SERVER, verb!, sub!, ...SERVER_SOCKET, ...flags]);
  if (created.exitCode !== 0)
    throw new Error(`spire-server entry create failed: ${lastLines(created.output, 3).join(' ')}`);
  return `Registered ${spiffe} by hand: npx lab spire ${byHandCommand(workload, spiffe).join(' ')}`;
}
