import type { CommandContext } from '../core/context.js';
import { openActiveSession } from '../core/lab-session.js';
import { printStep } from './show-step.js';
import { defineCommand, stepNumber } from './define.js';

async function stepCommand(ctx: CommandContext, step: number | undefined): Promise<number> {
  const session = await openActiveSession(ctx);
  const state = session.state.read();
  printStep(ctx, session, step ?? state.currentStep);
  return 0;
}

export const command = defineCommand({
  name: 'step',
  description: 'show the instructions of a step (default: the current one)',
  configure: (c) => c.argument('[n]', 'step number', stepNumber),
  run: (ctx, n?: number) => stepCommand(ctx, n),
});
