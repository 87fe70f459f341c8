import type { Prompter } from '../core/ports.js';

/**
 * Prompts on a TTY; never under CI or without a terminal (then callers need flags such as --yes).
 * @inquirer/prompts loads on the first question only: most commands never ask one.
 */
export function createPrompter(env: NodeJS.ProcessEnv = process.env): Prompter {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !env.CI;
  return {
    interactive,
    async confirm(message, defaultValue) {
      if (!interactive) return false;
      const { confirm } = await import('@inquirer/prompts');
      return confirm({ message, default: defaultValue });
    },
    async select(message, choices, initial) {
      if (!interactive) throw new Error('cannot prompt without a terminal');
      const { select } = await import('@inquirer/prompts');
      return select({ message, choices, ...(initial === undefined ? {} : { default: initial }) });
    },
  };
}
