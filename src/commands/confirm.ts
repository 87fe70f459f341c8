import type { CommandContext } from '../core/context.js';
import type { UsageError } from '../core/errors.js';

/**
 * Asks before a command replaces the learner's files. Without a person to ask (no TTY, CI) it refuses with
 * `refusal`, which names the flag that confirms; an answer of no prints "Nothing changed." and returns false.
 */
export async function confirmReplace(
  ctx: Pick<CommandContext, 'prompter' | 'io'>,
  question: string,
  refusal: UsageError,
): Promise<boolean> {
  if (!ctx.prompter.interactive) throw refusal;
  if (await ctx.prompter.confirm(question, false)) return true;
  ctx.io.out('Nothing changed.');
  return false;
}
