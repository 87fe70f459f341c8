import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CommandContext } from '../cli/context.js';
import { grade } from '../core/grade.js';
import { loadLab } from '../core/lab-catalog.js';
import { openSession, type LabSession } from '../core/lab-session.js';
import { applySolve, planSolve } from '../core/workspace.js';
import { chooseRuntime } from '../runtimes/create-runtime.js';
import { resetCommand } from './reset.js';
import { startCommand } from './start.js';
import { stopVerified } from './stop.js';

/**
 * Author mode: proves every check of a lab is tied to its step. In a throw-away home: start -> every check
 * fails -> for each step, its checks fail before its solution and pass after (twice) -> reset --hard ->
 * start -> every check fails again. Learner workspaces are never touched.
 */
export async function testCommand(ctx: CommandContext, labId: string, options: { runtime?: string; keep?: boolean }): Promise<number> {
  const lab = await loadLab(labId);
  const { kind } = await chooseRuntime(ctx, options.runtime, lab);
  const home = mkdtempSync(path.join(tmpdir(), `lab-test-${labId}-`));
  const quietIo = { ...ctx.io, quiet: true, out: () => undefined };
  const inner: CommandContext = { ...ctx, home, io: quietIo, prompter: { ...ctx.prompter, interactive: false } };
  const failures: string[] = [];
  const c = ctx.io.color;
  const report = (ok: boolean, text: string) => {
    ctx.io.out(`${ok ? c.green('ok  ') : c.red('FAIL')} ${text}`);
    if (!ok) failures.push(text);
  };
  const expectAll = async (session: LabSession, want: 'pass' | 'fail', step: number | undefined, label: string) => {
    const { report: r, problems } = await grade(session, ctx.clock, { step });
    for (const p of problems) if (want === 'pass') report(false, `${label}: ${p.message}${p.logTail ? `\n${p.logTail}` : ''}`);
    const checks = r.steps.flatMap((s) => s.checks);
    const wrong = checks.filter((ch) => (want === 'pass') !== (ch.status === 'pass'));
    const detail = wrong.map((ch) => `${ch.id}: ${ch.status}${want === 'pass' ? ` (${ch.message})` : ''}`).join('; ');
    report(wrong.length === 0, `${label}: ${checks.length - wrong.length}/${checks.length} checks ${want === 'pass' ? 'pass' : 'fail'}${detail ? ` — unexpected: ${detail}` : ''}`);
  };

  ctx.io.out(`Self-test of ${labId} on the ${kind} runtime (scratch home ${home})`);
  let session: LabSession | undefined;
  try {
    await startCommand(inner, labId, { runtime: kind, walkthrough: false });
    session = await openSession(inner, labId, kind);
    await expectAll(session, 'fail', undefined, 'fresh start, nothing solved');
    for (let step = 1; step <= lab.definition.steps.length; step++) {
      if (step > 1) await expectAll(session, 'fail', step, `step ${step} before its solution`);
      applySolve(planSolve(lab, session.paths, step), session.paths, labId, ctx.clock.now());
      await expectAll(session, 'pass', step, `step ${step} after its solution`);
      await expectAll(session, 'pass', step, `step ${step} after its solution, again`);
    }
    await expectAll(session, 'pass', undefined, 'whole lab solved');
    await resetCommand(inner, labId, { hard: true, yes: true });
    report(!(await session.runtime.isUp()), 'reset --hard leaves nothing running');
    await startCommand(inner, labId, { runtime: kind, walkthrough: false });
    await expectAll(session, 'fail', undefined, 'start after reset: every check fails again');
  } catch (error) {
    report(false, `the self-test stopped: ${(error as Error).message}`);
  } finally {
    if (session) await stopVerified(inner, session).catch((error: Error) => report(false, error.message));
    if (!options.keep) rmSync(home, { recursive: true, force: true });
  }
  ctx.io.out(failures.length === 0 ? c.green(`\n${labId}: self-test passed.`) : c.red(`\n${labId}: self-test failed (${failures.length}).`));
  return failures.length === 0 ? 0 : 1;
}
