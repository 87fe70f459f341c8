import { confirm, select } from '@inquirer/prompts';
import type { Prompter } from '../core/ports.js';

/** Prompts on a TTY; never under CI or without a terminal (then callers need flags such as --yes). */
export function createPrompter(env: NodeJS.ProcessEnv = process.env): Prompter {
  const interactive = Boolean(process.stdin.isTTY && process.stdout.isTTY) && !env.CI;
  return {
    interactive,
    async confirm(message, defaultValue) {
      if (!interactive) return false;
      return confirm({ message, default: defaultValue });
    },
    async select(message, choices) {
      if (!interactive) throw new Error('cannot prompt without a terminal');
      return select({ message, choices });
    },
  };
}
