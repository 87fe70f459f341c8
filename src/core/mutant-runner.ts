/**
 * Runs a lab's mutant catalogue: each entry is applied to a solved scratch workspace, graded with the lab's
 * own checks, and reverted. Workers each own a scratch home (their own services on their own ports) and take
 * entries from one queue, so entries run side by side where the runtime allows.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { GradeResult } from './grade.js';
import { judge, unknownChecks, type CatalogueEntry } from './mutant-catalogue.js';
import { applyFilePatch, PatchError } from './mutant-patch.js';

export interface ScratchLab {
  /** The solved workspace the entries are applied to. */
  workspaceDir: string;
  /** One grading pass; `checks` narrows it to those ids. */
  grade(checks?: string[]): Promise<GradeResult>;
  close(): Promise<void>;
}

export interface EntryOutcome {
  entry: CatalogueEntry;
  ok: boolean;
  detail: string;
  durationMs: number;
}

/**
 * Applies every file of the entry, all or nothing; returns the function that puts the workspace back.
 * Throws PatchError naming the first hunk that does not fit.
 */
export function applyEntry(workspaceDir: string, entry: CatalogueEntry): () => void {
  const planned = entry.files.map((file) => {
    const before = file.oldPath ? path.join(workspaceDir, file.oldPath) : undefined;
    const original = before && existsSync(before) ? readFileSync(before, 'utf8') : undefined;
    const after = file.newPath ? path.join(workspaceDir, file.newPath) : undefined;
    const replaced = after && after !== before && existsSync(after) ? readFileSync(after, 'utf8') : undefined;
    return { before, after, original, replaced, next: applyFilePatch(original, file) };
  });
  for (const p of planned) {
    if (p.before && p.before !== p.after) rmSync(p.before, { force: true });
    if (p.after) {
      mkdirSync(path.dirname(p.after), { recursive: true });
      writeFileSync(p.after, p.next!);
    }
  }
  return () => {
    for (const p of planned.slice().reverse()) {
      if (p.after) {
        if (p.replaced !== undefined) writeFileSync(p.after, p.replaced);
        else if (p.after !== p.before) rmSync(p.after, { force: true });
      }
      if (p.before && p.original !== undefined) writeFileSync(p.before, p.original);
    }
  };
}

async function runEntry(lab: ScratchLab, entry: CatalogueEntry, checkIds: Set<string>): Promise<EntryOutcome> {
  const started = performance.now();
  const done = (ok: boolean, detail: string): EntryOutcome => ({
    entry,
    ok,
    detail,
    durationMs: Math.round(performance.now() - started),
  });
  const unknown = unknownChecks(entry, checkIds);
  if (unknown.length > 0) return done(false, `names checks this lab does not have: ${unknown.join(', ')}`);
  let restore: () => void;
  try {
    restore = applyEntry(lab.workspaceDir, entry);
  } catch (error) {
    if (error instanceof PatchError) return done(false, `does not apply: ${error.message}`);
    throw error;
  }
  try {
    // A mutant's verdict needs only the checks it names (they fail, so `lab check` exits 1); a variant needs all.
    const { report, problems } = await lab.grade(entry.kind === 'mutant' ? entry.catches : undefined);
    const statuses = new Map(report.steps.flatMap((s) => s.checks.map((c) => [c.id, c.status] as [string, string])));
    const verdict = judge(entry, statuses);
    const notes =
      entry.kind === 'variant' && !verdict.ok
        ? report.steps.flatMap((s) => s.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.message}`))
        : [];
    const serviceNotes = problems.map((p) => `${p.service}: ${p.message}`);
    return done(verdict.ok, [verdict.detail, ...notes, ...(verdict.ok ? [] : serviceNotes)].join('\n       '));
  } finally {
    restore();
  }
}

/** Runs the entries on `width` scratch labs; `onResult` hears each outcome as it lands. */
export async function runCatalogue(options: {
  entries: CatalogueEntry[];
  checkIds: Set<string>;
  width: number;
  openScratch: (worker: number) => Promise<ScratchLab>;
  onResult: (outcome: EntryOutcome) => void;
}): Promise<EntryOutcome[]> {
  const queue = [...options.entries];
  const outcomes: EntryOutcome[] = [];
  const worker = async (n: number) => {
    if (queue.length === 0) return;
    const lab = await options.openScratch(n);
    try {
      for (let entry = queue.shift(); entry; entry = queue.shift()) {
        const outcome = await runEntry(lab, entry, options.checkIds);
        outcomes.push(outcome);
        options.onResult(outcome);
      }
    } finally {
      await lab.close();
    }
  };
  const width = Math.max(1, Math.min(options.width, options.entries.length));
  await Promise.all(Array.from({ length: width }, (_, n) => worker(n)));
  return outcomes;
}
