import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { printable } from '../core/printable.js';
import { grade, labControl } from '../core/grade.js';
import { loadLab, type LoadedLab } from '../core/lab-catalog.js';
import { loadCatalogue } from '../core/mutant-catalogue.js';
import { runCatalogue, type ScratchLab } from '../core/mutant-runner.js';
import { openSession, type LabSession } from '../core/lab-session.js';
import { applySolve, planSolve } from '../core/workspace.js';
import { typeScriptFiles } from '../core/compile-gate.js';
import { repoDir } from '../core/paths.js';
import { renderRegionsMapped } from '../core/solution-regions.js';
import { formatCompileError, typeCheck, type CompileError } from '../core/type-check.js';
import { chooseRuntime } from '../runtimes/create-runtime.js';
import type { RuntimeKind } from '../core/runtime.js';
import { resetCommand } from './reset.js';
import { startCommand } from './start.js';
import { stopVerified } from './stop.js';
import { Option } from 'commander';
import { RUNTIME_CHOICES } from '../core/runtime.js';
import { defineCommand } from './define.js';

/**
 * Author mode, in throw-away homes (learner workspaces are never touched):
 * 1. every check is tied to its step: start -> every check fails -> for each step, its checks fail before its
 *    solution and pass after (twice) -> reset --hard -> start -> every check fails again;
 * 2. the mutant catalogue (labs/<lab>/mutants): every wrong solution is caught by the checks it names, every
 *    other correct solution passes. `--only <id>` runs one catalogue entry and nothing else.
 */
async function testCommand(
  ctx: CommandContext,
  labId: string,
  options: { runtime?: string; keep?: boolean; only?: string; mutants?: boolean },
): Promise<number> {
  const lab = await loadLab(labId);
  const { kind } = await chooseRuntime(ctx, options.runtime, lab);
  const failures: string[] = [];
  const c = ctx.io.color;
  const report = (ok: boolean, text: string) => {
    ctx.io.out(`${ok ? c.green('ok  ') : c.red('FAIL')} ${text}`);
    if (!ok) failures.push(text);
  };
  if (options.only === undefined) {
    await typeCheckSelfTest(lab, report);
    await stepSelfTest(ctx, lab, kind, options, report);
  }
  if (options.mutants !== false) await catalogueSelfTest(ctx, lab, kind, options, report);
  ctx.io.out(
    failures.length === 0
      ? c.green(`\n${labId}: self-test passed.`)
      : c.red(`\n${labId}: self-test failed (${failures.length}).`),
  );
  return failures.length === 0 ? 0 : 1;
}

type Report = (ok: boolean, text: string) => void;

/**
 * The starter and every step's reference (the solution up to that step) compile: rendered in memory from the
 * reference sources and type-checked as `lab check` type-checks a learner's workspace. A failure names file:line.
 */
export async function typeCheckSelfTest(lab: LoadedLab, report: Report): Promise<void> {
  const files = typeScriptFiles(lab);
  if (files.length === 0) return;
  const sources = new Map(files.map((f) => [f.path, readFileSync(path.join(repoDir, f.source), 'utf8')]));
  for (let step = 0; step <= lab.definition.steps.length; step++) {
    const label = step === 0 ? 'the starter' : `the step ${step} reference`;
    const rendered = new Map([...sources].map(([file, source]) => [file, renderRegionsMapped(source, step)]));
    const errors = await typeCheck([...sources.keys()], (rel) => rendered.get(rel)?.text);
    // Named at the reference source's line (what an author edits), the workspace file's line beside it.
    const where = (e: CompileError) => {
      const file = files.find((f) => f.path === e.file);
      const line = rendered.get(e.file)?.sourceLines[e.line - 1];
      return file && line ? `${file.source}:${line} (${formatCompileError(e)})` : formatCompileError(e);
    };
    report(
      errors.length === 0,
      errors.length === 0
        ? `${label} type-checks (${files.length} TypeScript files)`
        : `${label} does not type-check: ${errors.map(where).join('; ')}`,
    );
  }
}

function scratchContext(ctx: CommandContext, labId: string): CommandContext {
  const home = mkdtempSync(path.join(tmpdir(), `lab-test-${labId}-`));
  return {
    ...ctx,
    home,
    io: { ...ctx.io, quiet: true, out: () => undefined },
    prompter: { ...ctx.prompter, interactive: false },
  };
}

async function stepSelfTest(
  ctx: CommandContext,
  lab: LoadedLab,
  kind: RuntimeKind,
  options: { keep?: boolean },
  report: Report,
): Promise<void> {
  const labId = lab.definition.id;
  const inner = scratchContext(ctx, labId);
  const home = inner.home;
  const expectAll = async (session: LabSession, want: 'pass' | 'fail', step: number | undefined, label: string) => {
    const { report: r, problems } = await grade(session, ctx.clock, { step });
    for (const p of problems)
      if (want === 'pass') report(false, `${label}: ${p.message}${p.logTail ? `\n${p.logTail}` : ''}`);
    const checks = r.steps.flatMap((s) => s.checks);
    const wrong = checks.filter((ch) => (want === 'pass') !== (ch.status === 'pass'));
    const detail = wrong.map((ch) => `${ch.id}: ${ch.status}${want === 'pass' ? ` (${ch.message})` : ''}`).join('; ');
    report(
      wrong.length === 0,
      `${label}: ${checks.length - wrong.length}/${checks.length} checks ${want === 'pass' ? 'pass' : 'fail'}${detail ? ` — unexpected: ${detail}` : ''}`,
    );
  };

  ctx.io.out(`Self-test of ${labId} on the ${kind} runtime (scratch home ${home})`);
  let session: LabSession | undefined;
  try {
    await startCommand(inner, labId, { runtime: kind, walkthrough: false });
    session = await openSession(inner, labId, kind);
    await expectAll(session, 'fail', undefined, 'fresh start, nothing solved');
    for (let step = 1; step <= lab.definition.steps.length; step++) {
      if (step > 1) await expectAll(session, 'fail', step, `step ${step} before its solution`);
      await solveStep(session, step, ctx);
      await expectAll(session, 'pass', step, `step ${step} after its solution`);
      await expectAll(session, 'pass', step, `step ${step} after its solution, again`);
    }
    await expectAll(session, 'pass', undefined, 'whole lab solved');
    if (lab.definition.stageChecks?.length) {
      // The lab's own stage, on the solved lab (its threat model: what a workload can read, reach or change).
      const { report: r } = await grade(session, ctx.clock, { stage: true });
      for (const ch of r.steps.flatMap((st) => st.checks))
        report(ch.status === 'pass', `stage: ${ch.title}${ch.status === 'pass' ? '' : ` — ${ch.message}`}`);
    }
    await resetCommand(inner, labId, { hard: true, yes: true });
    report(!(await session.runtime.isUp()), 'reset --hard leaves nothing running');
    await startCommand(inner, labId, { runtime: kind, walkthrough: false });
    await expectAll(session, 'fail', undefined, 'start after reset: every check fails again');
  } catch (error) {
    report(false, `the self-test stopped: ${(error as Error).message}`);
  } finally {
    if (session) await stopVerified(session).catch((error: Error) => report(false, error.message));
    if (!options.keep) rmSync(home, { recursive: true, force: true });
  }
}

/** A step's solution as `lab solve` writes it: its files, then what the step asks to be done by hand. */
async function solveStep(session: LabSession, step: number, ctx: CommandContext): Promise<void> {
  applySolve(planSolve(session.lab, session.paths, step), session.paths, session.lab.definition.id, ctx.clock.now());
  await session.lab.definition.steps[step - 1]!.solveByHand?.(labControl(session, ctx.clock));
}

/** Starting is serialised across workers: two homes choosing free ports at the same moment could pick the same one. */
let startQueue: Promise<unknown> = Promise.resolve();

async function openScratchLab(
  ctx: CommandContext,
  lab: LoadedLab,
  kind: RuntimeKind,
  keep: boolean,
): Promise<ScratchLab> {
  const labId = lab.definition.id;
  const inner = scratchContext(ctx, labId);
  const starting = startQueue.then(() => startCommand(inner, labId, { runtime: kind, walkthrough: false }));
  startQueue = starting.catch(() => undefined);
  let session: LabSession | undefined;
  try {
    await starting;
    session = await openSession(inner, labId, kind);
    for (let step = 1; step <= lab.definition.steps.length; step++) await solveStep(session, step, ctx);
  } catch (error) {
    if (session) await stopVerified(session).catch(() => undefined);
    if (!keep) rmSync(inner.home, { recursive: true, force: true });
    throw error;
  }
  const opened = session;
  return {
    workspaceDir: opened.paths.dir,
    grade: (checks) => grade(opened, ctx.clock, { checks }),
    close: async () => {
      try {
        await stopVerified(opened);
      } finally {
        if (!keep) rmSync(inner.home, { recursive: true, force: true });
      }
    },
  };
}

/**
 * How many scratch labs grade the catalogue side by side. Local: one per core (up to 4). Docker: 2 by default;
 * a lab 2 stack spends most of a mutant's time waiting (container restarts, SVID issuance), not computing.
 * LAB_TEST_WIDTH overrides both.
 */
export function catalogueWidth(kind: RuntimeKind, override: string | undefined): number {
  if (override !== undefined && override !== '') {
    const n = Number(override);
    if (!Number.isInteger(n) || n < 1 || n > 16)
      throw new UsageError(
        `LAB_TEST_WIDTH is ${printable(override)}; it must be a whole number from 1 to 16.`,
        'Unset it for the default (local: one per core, up to 4; Docker: 2).',
      );
    return n;
  }
  return kind === 'local' ? Math.max(1, Math.min(availableParallelism(), 4)) : 2;
}

async function catalogueSelfTest(
  ctx: CommandContext,
  lab: LoadedLab,
  kind: RuntimeKind,
  options: { keep?: boolean; only?: string },
  report: Report,
): Promise<void> {
  const { entries: all, broken } = loadCatalogue(lab.dir);
  const entries = options.only === undefined ? all : all.filter((e) => e.id === options.only);
  if (options.only !== undefined && entries.length === 0) {
    const names = [...all.map((e) => e.id), ...broken.map((b) => b.id)];
    if (!broken.some((b) => b.id === options.only))
      throw new UsageError(
        `Lab ${lab.definition.id} has no mutant or variant "${options.only}".`,
        `Choose one of: ${names.join(', ') || '(the catalogue is empty)'}.`,
      );
  }
  for (const b of broken.filter((b) => options.only === undefined || b.id === options.only))
    report(false, `catalogue entry ${b.id}.patch cannot be read: ${b.problem}`);
  if (entries.length === 0) return;
  // Each worker has a scratch home of its own: local services on free ports, or a compose project of its own.
  const width = catalogueWidth(kind, ctx.env.LAB_TEST_WIDTH);
  const checkIds = new Set(lab.definition.steps.flatMap((s) => s.checks.map((ch) => ch.id)));
  ctx.io.out(
    `\nMutant catalogue of ${lab.definition.id}: ${entries.length} entries on ${Math.min(width, entries.length)} scratch lab(s)`,
  );
  const started = performance.now();
  let outcomes: Awaited<ReturnType<typeof runCatalogue>> = [];
  try {
    outcomes = await runCatalogue({
      entries,
      checkIds,
      width,
      openScratch: () => openScratchLab(ctx, lab, kind, options.keep === true),
      onResult: (o) =>
        report(o.ok, `${o.entry.kind} ${o.entry.id} (${(o.durationMs / 1000).toFixed(1)} s): ${o.detail}`),
    });
  } catch (error) {
    report(false, `the catalogue run stopped: ${(error as Error).message}`);
  }
  const ran = new Set(outcomes.map((o) => o.entry.id));
  for (const e of entries.filter((e) => !ran.has(e.id))) report(false, `${e.kind} ${e.id} did not run`);
  const count = (kindOf: 'mutant' | 'variant') => {
    const of = entries.filter((e) => e.kind === kindOf);
    return `${outcomes.filter((o) => o.entry.kind === kindOf && o.ok).length}/${of.length}`;
  };
  ctx.io.out(`mutants caught ${count('mutant')}`);
  ctx.io.out(`variants passed ${count('variant')}`);
  ctx.io.out(ctx.io.color.dim(`catalogue ran in ${((performance.now() - started) / 1000).toFixed(0)} s`));
}

export const command = defineCommand({
  name: 'test',
  description:
    'author self-test: every check fails before its step is solved and passes after; every mutant of labs/<lab>/mutants is caught, every variant passes',
  configure: (c) =>
    c
      .argument('<lab>', 'lab id')
      .addOption(
        new Option('--runtime <kind>', 'where services run: auto = docker when the engine answers, else local')
          .choices([...RUNTIME_CHOICES])
          .default('auto'),
      )
      .option('--keep', 'keep the scratch workspace for inspection')
      .option('--only <id>', 'run only this mutant or variant of the catalogue (for authors)')
      .option('--no-mutants', 'skip the mutant catalogue (the step self-test only)'),
  usesHome: false,
  run: (ctx, lab: string, options: { runtime: string; keep?: boolean; only?: string; mutants: boolean }) =>
    testCommand(ctx, lab, options),
});
