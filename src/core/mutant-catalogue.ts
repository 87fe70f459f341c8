/**
 * The mutant catalogue of a lab: labs/<lab>/mutants/<id>.patch, each a wrong solution (kind: mutant, which
 * `lab check` must fail with every check named in `catches` failing) or another correct solution (kind:
 * variant, which must pass). A header of `key: value` lines, a line `---`, then a unified diff against the
 * solved workspace. Format: README "What `lab test` proves".
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseUnifiedDiff, PatchError, type FilePatch } from './mutant-patch.js';

export interface CatalogueEntry {
  id: string;
  kind: 'mutant' | 'variant';
  /** Check ids that must fail (mutants; empty for variants). */
  catches: string[];
  why: string;
  files: FilePatch[];
}

/** A catalogue file that cannot be used; the self-test reports it by file and fails. */
export interface BrokenEntry {
  id: string;
  problem: string;
}

const mutantsDir = (labDir: string) => path.join(labDir, 'mutants');

export function parseEntry(id: string, text: string): CatalogueEntry {
  const normalized = text.replace(/\r\n/g, '\n');
  const split = normalized.indexOf('\n---\n');
  if (split < 0) throw new PatchError('the header must end with a line "---" before the diff');
  const header: Record<string, string> = {};
  for (const [n, line] of normalized.slice(0, split).split('\n').entries()) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const m = /^([a-z]+):\s*(.*)$/.exec(line);
    if (!m) throw new PatchError(`header line ${n + 1} is not "key: value": ${JSON.stringify(line.slice(0, 60))}`);
    if (!['kind', 'catches', 'why'].includes(m[1]!))
      throw new PatchError(`header key "${m[1]}" is unknown (use kind, catches, why)`);
    header[m[1]!] = m[2]!.replace(/\s+#.*$/, '').trim();
  }
  const kind = header.kind;
  if (kind !== 'mutant' && kind !== 'variant')
    throw new PatchError(`kind must be "mutant" or "variant", not ${JSON.stringify(kind ?? '')}`);
  const catches = (header.catches ?? '')
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  if (kind === 'mutant' && catches.length === 0)
    throw new PatchError('a mutant must name the checks that catch it (catches: id, id)');
  if (kind === 'variant' && catches.length > 0)
    throw new PatchError('a variant must pass every check: remove "catches"');
  if (!header.why) throw new PatchError('say why it is wrong (or why it is still correct) in "why:"');
  return { id, kind, catches, why: header.why, files: parseUnifiedDiff(normalized.slice(split + 5)) };
}

/** Every entry of the lab's catalogue, sorted by id; unreadable ones come back as broken entries. */
export function loadCatalogue(labDir: string): { entries: CatalogueEntry[]; broken: BrokenEntry[] } {
  const dir = mutantsDir(labDir);
  const entries: CatalogueEntry[] = [];
  const broken: BrokenEntry[] = [];
  if (!existsSync(dir)) return { entries, broken };
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.patch'))
    .sort()) {
    const id = name.slice(0, -'.patch'.length);
    try {
      entries.push(parseEntry(id, readFileSync(path.join(dir, name), 'utf8')));
    } catch (error) {
      broken.push({ id, problem: (error as Error).message });
    }
  }
  return { entries, broken };
}

/** Problems of an entry that are knowable without running it: checks it names that the lab does not have. */
export function unknownChecks(entry: CatalogueEntry, checkIds: Set<string>): string[] {
  return entry.catches.filter((id) => !checkIds.has(id));
}

/** The verdict on one entry from the checks' statuses (id -> status) of one `lab check` pass. */
export function judge(entry: CatalogueEntry, statuses: Map<string, string>): { ok: boolean; detail: string } {
  const failing = [...statuses].filter(([, s]) => s !== 'pass').map(([id]) => id);
  if (entry.kind === 'variant') {
    return failing.length === 0
      ? { ok: true, detail: 'every check passes' }
      : { ok: false, detail: `a correct solution failed ${failing.join(', ')}` };
  }
  const missed = entry.catches.filter((id) => statuses.get(id) === 'pass');
  if (failing.length === 0) return { ok: false, detail: 'SURVIVED: every check passed' };
  if (missed.length > 0)
    return { ok: false, detail: `not caught by ${missed.join(', ')} (failed only: ${failing.join(', ')})` };
  return { ok: true, detail: `failed ${failing.join(', ')}` };
}
