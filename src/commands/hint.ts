import type { CommandContext } from '../core/context.js';
import { openActiveSession, withHomeLock } from '../core/lab-session.js';
import { defineCommand } from './define.js';

/** Progressive hints: each call reveals one more for the current step, and shows the ones already seen. */
export function hintCommand(ctx: CommandContext): Promise<number> {
  return withHomeLock(ctx, 'hint', () => hintLocked(ctx));
}

async function hintLocked(ctx: CommandContext): Promise<number> {
  const session = await openActiveSession(ctx);
  const { currentStep } = session.state.read();
  const hints = session.lab.definition.steps[currentStep - 1]!.hints;
  if (hints.length === 0) {
    ctx.io.out(`Step ${currentStep} has no hints; \`lab check ${currentStep}\` says what is missing.`);
    return 0;
  }
  const state = session.state.update((s) => {
    s.hintsShown[currentStep] = Math.min((s.hintsShown[currentStep] ?? 0) + 1, hints.length);
  });
  const shown = state.hintsShown[currentStep]!;
  for (const [i, hint] of hints.slice(0, shown).entries())
    ctx.io.out(`${ctx.io.color.yellow(`Hint ${i + 1}/${hints.length}:`)} ${hint}`);
  if (shown === hints.length)
    ctx.io.out(
      ctx.io.color.dim(
        `That was the last hint. \`lab solve ${currentStep}\` writes the reference solution (with a backup of your files).`,
      ),
    );
  return 0;
}

export const command = defineCommand({
  name: 'hint',
  description: 'show one more hint for the current step',
  run: (ctx) => hintCommand(ctx),
});
