import type { CommandContext } from '../core/context.js';
import { openActiveSession } from '../core/lab-session.js';
import { printStep } from './show-step.js';

export async function stepCommand(ctx: CommandContext, step: number | undefined): Promise<number> {
  const session = await openActiveSession(ctx);
  const state = session.state.read();
  printStep(ctx, session, step ?? state.currentStep);
  return 0;
}
