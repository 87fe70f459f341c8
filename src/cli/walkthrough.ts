import { checkOnce } from '../commands/check.js';
import { hintCommand } from '../commands/hint.js';
import { labCompleteMessage } from '../commands/lab-complete.js';
import { nextCommand } from '../commands/next.js';
import type { LabSession } from '../core/lab-session.js';
import type { CommandContext } from '../core/context.js';

export type WalkthroughChoice = 'check' | 'hint' | 'next' | 'done' | 'quit';

/** What each choice runs; the real commands by default, fakes in tests (a check needs running services). */
export interface WalkthroughActions {
  /** Grades `step` (undefined: every step); returns the check's exit code. */
  check(step: number | undefined): Promise<number>;
  hint(): Promise<unknown>;
  next(): Promise<unknown>;
}

const commandActions = (ctx: CommandContext, session: LabSession): WalkthroughActions => ({
  check: (step) => checkOnce(ctx, session, step, {}),
  hint: () => hintCommand(ctx),
  next: () => nextCommand(ctx),
});

interface Progress {
  currentStep: number;
  completedSteps: number[];
}

/**
 * Where the cursor starts: the action a learner most likely wants now, so that Enter moves them on. All steps
 * passed: done. This step passed and another follows: next. Otherwise: check (again, after editing).
 */
export function sensibleChoice(progress: Progress, total: number): WalkthroughChoice {
  if (isComplete(progress, total)) return 'done';
  if (progress.completedSteps.includes(progress.currentStep) && progress.currentStep < total) return 'next';
  return 'check';
}

const isComplete = (progress: Progress, total: number) =>
  Array.from({ length: total }, (_, i) => i + 1).every((n) => progress.completedSteps.includes(n));

/**
 * The interactive loop offered on a terminal after start and check: never entered without a TTY or under CI.
 * Returns the exit code the command should end with: 0 when the learner leaves through "done" (the lab is
 * complete), the last check's code when they quit after checking here, undefined to keep the command's own.
 */
export async function runWalkthrough(
  ctx: CommandContext,
  session: LabSession,
  actions: WalkthroughActions = commandActions(ctx, session),
): Promise<number | undefined> {
  const total = session.lab.definition.steps.length;
  let code: number | undefined;
  for (;;) {
    const progress = session.state.read();
    const { currentStep } = progress;
    const complete = isComplete(progress, total);
    // At the last step with earlier steps still failing, one check of every step shows what is left.
    const checkAll = currentStep >= total && progress.completedSteps.includes(currentStep) && !complete;
    const choice = await ctx.prompter.select<WalkthroughChoice>(
      complete ? `Lab ${session.lab.definition.id} is complete: what next?` : `Step ${currentStep}: what next?`,
      [
        ...(complete
          ? [{ value: 'done' as const, name: 'Done', description: 'Leave the walkthrough: the lab is complete' }]
          : []),
        {
          value: 'check',
          name: checkAll ? 'Check every step' : `Check step ${currentStep}`,
          description: checkAll
            ? 'Run every step’s checks: the steps still open say what is missing'
            : "Run this step's checks (your services restart if you changed files)",
        },
        { value: 'hint', name: 'Show a hint', description: 'One more hint each time' },
        ...(currentStep >= total ? [] : [{ value: 'next' as const, name: `Next step (${currentStep + 1})` }]),
        { value: 'quit', name: 'Quit (the lab keeps running; `npx lab check` any time)' },
      ],
      sensibleChoice(progress, total),
    );
    if (choice === 'done') {
      ctx.io.out(ctx.io.color.green(labCompleteMessage(session)));
      return 0;
    }
    if (choice === 'quit') return code;
    if (choice === 'check') code = await actions.check(checkAll ? undefined : currentStep);
    if (choice === 'hint') await actions.hint();
    if (choice === 'next') await actions.next();
  }
}
