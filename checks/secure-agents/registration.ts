/**
 * Applies the learner's spire/entries.ts to the SPIRE server (the lab's `sync` hook): entries the file lists and
 * the server lacks are created, entries the server holds that the file no longer lists are deleted, so the
 * server always matches the file. Runs through `spire-server` inside its container (the admin API socket never
 * leaves it). Whatever cannot be applied is returned as a problem the learner sees, never thrown.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { LabControl } from '../../src/core/lab-definition.js';
import { AGENT_HEALTHCHECK, SERVER_SOCKET, SPIRE_SERVER, spiffeId } from '../../labs/secure-agents/spire-layout.js';
import { presentedIdentity } from '../lib/mtls-probe.js';
import { runLearnerCode } from '../lib/learner-code.js';
import { lastLines } from '../../src/core/text.js';

const TRUST_DOMAIN_PREFIX = spiffeId('');
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
}

const idOf = (id: { trust_domain: string; path: string }) => `spiffe://${id.trust_domain}${id.path}`;
export const keyOf = (e: { spiffe_id: string; parent_id: string; selectors: Array<{ type: string; value: string }> }) =>
  JSON.stringify([e.spiffe_id, e.parent_id, e.selectors.map((s) => `${s.type}:${s.value}`).sort()]);

/**
 * The learner's entries, loaded in a child process and returned as data: the module is learner code, and loaded
 * into `lab check` itself it could change the grader's own objects (its exit code, JSON.parse). A fresh process
 * each time also means a changed file is always read anew.
 */
export async function loadEntries(workspaceDir: string): Promise<RegistrationEntry[]> {
  const file = path.join(workspaceDir, 'spire', 'entries.ts');
  const loaded = await runLearnerCode<{ entries: unknown }>('entries', { file }).catch((error: Error) => {
    throw new Error(`spire/entries.ts could not be loaded: ${error.message}`);
  });
  const parsed = z.array(entrySchema).safeParse(loaded.entries ?? []);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`spire/entries.ts: entries[${issue.path.join('.')}] ${issue.message}`);
  }
  return parsed.data;
}

export async function shownEntries(
  control: Pick<LabControl, 'exec'>,
): Promise<Array<RegistrationEntry & { id: string }>> {
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
    const currentKeys = new Set(current.map(keyOf));
    for (const stale of current.filter((e) => !wantedKeys.has(keyOf(e)))) {
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
        { input: JSON.stringify({ entries: missing }) },
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
