import type { CommandContext } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { openActiveSession, withHomeLock } from '../core/lab-session.js';
import { printStep } from './show-step.js';
import { defineCommand } from './define.js';

export function nextCommand(ctx: CommandContext): Promise<number> {
  return withHomeLock(ctx, 'next', () => nextLocked(ctx));
}

async function nextLocked(ctx: CommandContext): Promise<number> {
  const session = await openActiveSession(ctx);
  const total = session.lab.definition.steps.length;
  const current = session.state.read().currentStep;
  if (current >= total)
    throw new UsageError(`Step ${current} is the last step.`, 'Run `lab check` to grade the whole lab.');
  const state = session.state.update((s) => {
    s.currentStep = current + 1;
    s.events.push({ at: ctx.clock.now().toISOString(), type: 'next', detail: `step ${current + 1}` });
  });
  if (!state.completedSteps.includes(current)) {
    ctx.io.err(
      ctx.io.color.yellow(
        `Note: step ${current}'s checks have not all passed yet; \`lab check ${current}\` shows what is missing.`,
      ),
    );
  }
  printStep(ctx, session, state.currentStep);
  return 0;
}

export const command = defineCommand({
  name: 'next',
  description: 'move to the next step and show it',
  run: (ctx) => nextCommand(ctx),
});
