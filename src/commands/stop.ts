import type { CommandContext } from '../cli/context.js';
import { EnvironmentError } from '../core/errors.js';
import { clearActive, openActiveSession, readActive, type LabSession } from '../core/lab-session.js';

export async function stopCommand(ctx: CommandContext): Promise<number> {
  if (!readActive(ctx.home)) {
    ctx.io.out('No lab is active; nothing to stop.');
    return 0;
  }
  const session = await openActiveSession(ctx);
  await stopVerified(ctx, session);
  clearActive(ctx.home);
  ctx.io.out(`Stopped ${session.lab.definition.id}; nothing of it is left running. Your work and progress are kept: \`lab start ${session.lab.definition.id}\` resumes.`);
  return 0;
}

/** Stops every service and proves it: a process that survives is an error, not a footnote. */
export async function stopVerified(ctx: CommandContext, session: LabSession): Promise<void> {
  const left = await session.runtime.down();
  if (left.length > 0) {
    throw new EnvironmentError(`Could not stop everything of ${session.lab.definition.id}: still running ${left.join(', ')}.`, `Kill them by hand (\`kill -9 <pid>\`), then run \`lab reset\` again.`);
  }
}
