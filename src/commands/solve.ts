import type { CommandContext } from '../core/context.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { labControl } from '../core/grade.js';
import { openActiveSession, withHomeLock, type LabSession } from '../core/lab-session.js';
import { applySolve, planSolve } from '../core/workspace.js';
import { stepOf } from '../core/lab-definition.js';
import { confirmReplace } from './confirm.js';
import { defineCommand, stepNumber } from './define.js';

/** Writes the reference solution of a step. Asks first when it would replace the learner's own work. */
function solveCommand(ctx: CommandContext, step: number | undefined, options: { yes?: boolean }): Promise<number> {
  return withHomeLock(ctx, 'solve', () => solveLocked(ctx, step, options));
}

async function solveLocked(ctx: CommandContext, step: number | undefined, options: { yes?: boolean }): Promise<number> {
  const session = await openActiveSession(ctx);
  const target = step ?? session.state.read().currentStep;
  stepOf(session.lab.definition, target);
  const plan = planSolve(session.lab, session.paths, target);
  const changing = plan.files.filter((f) => f.differs);
  if (changing.length === 0) {
    ctx.io.out(`Your files already match the step ${target} solution.`);
    await solveByHand(ctx, session, target);
    return 0;
  }
  const overwritten = changing.filter((f) => f.learnerChanged).map((f) => f.path);
  if (overwritten.length > 0 && !options.yes) {
    const question = `The step ${target} solution replaces your changes in ${overwritten.join(', ')} (a backup is kept). Continue?`;
    const refusal = new UsageError(
      `Solving step ${target} would replace your work in ${overwritten.join(', ')}.`,
      `Run \`lab solve ${target} --yes\` to confirm; your files are backed up first.`,
    );
    if (!(await confirmReplace(ctx, question, refusal))) return 0;
  }
  const backup = applySolve(plan, session.paths, session.lab.definition.id, ctx.clock.now());
  session.state.update((s) =>
    s.events.push({ at: ctx.clock.now().toISOString(), type: 'solve', detail: `step ${target}` }),
  );
  ctx.io.out(`Wrote the step ${target} solution to ${changing.map((f) => f.path).join(', ')}.`);
  if (backup) ctx.io.out(ctx.io.color.dim(`Previous versions: ${backup}`));
  await solveByHand(ctx, session, target);
  ctx.io.out(`Run \`npx lab check ${target}\` to see it pass.`);
  return 0;
}

/** The part of a step done on the running lab rather than in a file (lab 2 step 1: an entry made by hand). */
async function solveByHand(ctx: CommandContext, session: LabSession, step: number): Promise<void> {
  const byHand = stepOf(session.lab.definition, step).solveByHand;
  if (!byHand) return;
  try {
    ctx.io.out(await byHand(labControl(session, ctx.clock)));
  } catch (error) {
    throw new EnvironmentError(
      `The step ${step} solution's files are written, but its by-hand part failed: ${(error as Error).message}`,
      `Start the lab (\`npx lab start ${session.lab.definition.id}\`: the part runs on its services), then run \`npx lab solve ${step}\` again.`,
    );
  }
}

export const command = defineCommand({
  name: 'solve',
  description:
    'write the reference solution of a step (default: current); asks before replacing your work and keeps a backup',
  configure: (c) => c.argument('[step]', 'step number', stepNumber).option('-y, --yes', 'do not ask'),
  run: (ctx, step: number | undefined, options: { yes?: boolean }) => solveCommand(ctx, step, options),
});
