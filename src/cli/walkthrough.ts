import { checkOnce } from '../commands/check.js';
import { hintCommand } from '../commands/hint.js';
import { nextCommand } from '../commands/next.js';
import type { LabSession } from '../core/lab-session.js';
import type { CommandContext } from '../core/context.js';

/** The interactive loop offered on a terminal after start and check: never entered without a TTY or under CI. */
export async function runWalkthrough(ctx: CommandContext, session: LabSession): Promise<void> {
  for (;;) {
    const { currentStep } = session.state.read();
    const last = currentStep >= session.lab.definition.steps.length;
    const choice = await ctx.prompter.select(`Step ${currentStep}: what next?`, [
      {
        value: 'check',
        name: `Check step ${currentStep}`,
        description: "Run this step's checks (your services restart if you changed files)",
      },
      { value: 'hint', name: 'Show a hint', description: 'One more hint each time' },
      ...(last ? [] : [{ value: 'next' as const, name: 'Next step' }]),
      { value: 'quit', name: 'Quit (the lab keeps running; `lab check` any time)' },
    ]);
    if (choice === 'quit') return;
    if (choice === 'check') await checkOnce(ctx, session, currentStep, {});
    if (choice === 'hint') await hintCommand(ctx);
    if (choice === 'next') await nextCommand(ctx);
  }
}
