import type { CommandContext } from '../core/context.js';
import { openActiveSession, withHomeLock } from '../core/lab-session.js';
import { labCompleteMessage } from './lab-complete.js';
import { printStep } from './show-step.js';
import { defineCommand } from './define.js';

export function nextCommand(ctx: CommandContext): Promise<number> {
  return withHomeLock(ctx, 'next', () => nextLocked(ctx));
}

async function nextLocked(ctx: CommandContext): Promise<number> {
  const session = await openActiveSession(ctx);
  const total = session.lab.definition.steps.length;
  const state0 = session.state.read();
  const current = state0.currentStep;
  if (current >= total) {
    // The end of the lab is a place to be, not an error: say so, and what comes next.
    if (state0.completedSteps.length >= total) {
      ctx.io.out(ctx.io.color.green(labCompleteMessage(session)));
    } else {
      const open = session.lab.definition.steps.map((_, i) => i + 1).filter((n) => !state0.completedSteps.includes(n));
      ctx.io.out(
        `Step ${current} is the last step; step${open.length > 1 ? 's' : ''} ${open.join(', ')} still ${open.length > 1 ? 'have' : 'has'} checks to pass. Run \`npx lab check\` to see what is missing.`,
      );
    }
    return 0;
  }
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
