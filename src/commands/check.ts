import { watch } from 'node:fs';
import type { CommandContext } from '../core/context.js';
import { checkReportTarget, junitReport, writeReport } from '../core/report-target.js';
import { withServiceProgress } from '../ui/progress.js';
import { renderCompileErrors, renderProblems, renderReport } from '../ui/render.js';
import { toJUnit } from '../core/check-report.js';
import { grade } from '../core/grade.js';
import { openActiveSession, withHomeLock, type LabSession } from '../core/lab-session.js';
import { runningServices } from '../core/lab-definition.js';
import { defineCommand, stepNumber } from './define.js';
import { labCompleteMessage } from './lab-complete.js';

export interface CheckOptions {
  json?: boolean;
  junit?: string;
  watch?: boolean;
}

/** Exit 0 when every check in scope passed, 1 when any failed (2 comes from errors, via the entry point). */
async function checkCommand(ctx: CommandContext, step: number | undefined, options: CheckOptions): Promise<number> {
  // A bad report target fails before any check runs, never after minutes of grading (checked again on writing).
  if (options.junit !== undefined) checkReportTarget(options.junit, ctx.home, junitReport);
  // Under the lock only while grading: --watch waits between passes without holding it (hint, next stay usable).
  const { session, code } = await withHomeLock(ctx, 'check', async () => {
    const session = await openActiveSession(ctx);
    return { session, code: await checkOnce(ctx, session, step, options) };
  });
  if (!options.watch) return code;
  return watchAndCheck(ctx, session, step, options);
}

/** One grading pass and its report; restarts services and records progress, so it runs under the home's lock. */
export function checkOnce(
  ctx: CommandContext,
  session: LabSession,
  step: number | undefined,
  options: CheckOptions,
): Promise<number> {
  return withHomeLock(ctx, 'check', () => checkLocked(ctx, session, step, options));
}

async function checkLocked(
  ctx: CommandContext,
  session: LabSession,
  step: number | undefined,
  options: CheckOptions,
): Promise<number> {
  const names = runningServices(session.lab.definition).map((s) => s.name);
  const quiet = Boolean(options.json) || !ctx.io.tty;
  const { report, problems, compileErrors } = await withServiceProgress(
    ctx.io,
    names,
    (onProgress) => grade(session, ctx.clock, { step, onProgress }),
    quiet,
  );
  if (options.junit !== undefined)
    writeReport(checkReportTarget(options.junit, ctx.home, junitReport), toJUnit(report));
  if (options.json) {
    ctx.io.out(JSON.stringify(report, null, 2));
  } else {
    renderCompileErrors(ctx.io, compileErrors);
    renderProblems(ctx.io, problems);
    renderReport(ctx.io, report);
    const total = session.lab.definition.steps.length;
    const current = report.steps.find((s) => s.number === report.currentStep);
    // Every step has passed at some point (state.completedSteps, just updated by grade): the lab is complete.
    const open = Array.from({ length: total }, (_, i) => i + 1).filter(
      (n) => !session.state.read().completedSteps.includes(n),
    );
    if (open.length === 0 && (current?.verdict === 'pass' || report.verdict === 'pass')) {
      ctx.io.out(ctx.io.color.green(labCompleteMessage(session)));
    } else if (current?.verdict === 'pass' && report.currentStep < total) {
      ctx.io.out(
        ctx.io.color.green(
          `Step ${report.currentStep} is done. Run \`npx lab next\` for step ${report.currentStep + 1}.`,
        ),
      );
    } else if (current?.verdict === 'pass') {
      ctx.io.out(
        `Step ${report.currentStep} is done; step${open.length > 1 ? 's' : ''} ${open.join(', ')} still fail${open.length > 1 ? '' : 's'}: \`npx lab check\` shows what is missing.`,
      );
    }
  }
  return report.verdict === 'pass' ? 0 : 1;
}

/** Re-checks whenever a workspace file changes; Ctrl-C ends it with the last verdict as exit code. */
async function watchAndCheck(
  ctx: CommandContext,
  session: LabSession,
  step: number | undefined,
  options: CheckOptions,
): Promise<number> {
  let last = 1;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  ctx.io.err(ctx.io.color.dim(`Watching ${session.paths.dir} for changes (Ctrl-C to stop)…`));
  const rerun = () => {
    running = running.then(async () => {
      last = await checkOnce(ctx, session, step, options).catch((error: Error) => {
        ctx.io.err(ctx.io.color.red(error.message));
        return 2;
      });
      ctx.io.err(ctx.io.color.dim('Watching for changes…'));
    });
  };
  let watcher: ReturnType<typeof watch>;
  try {
    watcher = watch(session.paths.dir, { recursive: true }, (_event, file) => {
      if (!file || file.startsWith('.lab') || file.startsWith('node_modules')) return;
      clearTimeout(timer);
      timer = setTimeout(rerun, 300);
    });
  } catch (error) {
    ctx.io.err(
      `Watching is not supported here (${(error as Error).message}); run \`lab check\` after each change instead.`,
    );
    return last;
  }
  await new Promise<void>((resolve) => process.once('SIGINT', resolve));
  watcher.close();
  clearTimeout(timer);
  await running;
  return last;
}

export const command = defineCommand({
  name: 'check',
  description: 'run the checks (all steps, or one) and report what is wrong and what to do',
  configure: (c) =>
    c
      .argument('[step]', 'only this step', stepNumber)
      .option('--json', 'print the result as JSON (schema: docs/check-result.schema.json) on stdout')
      .option('--junit <file>', 'also write a JUnit XML report')
      .option('--watch', 'check again whenever a workspace file changes')
      .option('--no-walkthrough', 'do not offer the interactive walkthrough afterwards'),
  walkthrough: true,
  run: (ctx, step: number | undefined, options: CheckOptions) => checkCommand(ctx, step, options),
});
