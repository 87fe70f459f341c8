/**
 * How a command declares itself (after Astro's defineCommand): its name, arguments, options, help and examples
 * live beside its code in src/commands/<name>.ts; src/cli/main.ts only registers what src/cli/command-table.ts
 * lists. Options are commander's own (`configure`), so help output is commander's, unchanged.
 */
import { type Command, InvalidArgumentError } from 'commander';
import type { CommandContext } from '../core/context.js';

export interface CommandDefinition {
  name: string;
  description: string;
  /** Arguments, options and extra help, added to the commander command. */
  configure?: (command: Command) => Command;
  /** Shown under "Examples:" in the command's help. */
  examples?: Array<[command: string, what: string]>;
  /** More help after the examples. */
  notes?: string[];
  /** The command itself: commander's action arguments (declared arguments, then options); returns the exit code. */
  // biome-ignore lint/suspicious/noExplicitAny: each command types its own arguments; commander hands them untyped.
  run?: (ctx: CommandContext, ...args: any[]) => Promise<number>;
  subcommands?: CommandDefinition[];
  /** The subcommand run when the parent is given alone (`lab images` = `lab images list`). */
  isDefault?: boolean;
  /** False for commands that never touch LAB_HOME (list, doctor, test, images): a LAB_HOME on a file does not stop them. */
  usesHome?: boolean;
  /** Offered the interactive walkthrough afterwards (unless --no-walkthrough, --json or --watch). */
  walkthrough?: boolean;
}

export const defineCommand = (definition: CommandDefinition): CommandDefinition => definition;

// Digits only: Number() would also take '0x10', '1e3', ' 5' and ''.
export const stepNumber = (value: string): number => {
  if (!/^[1-9]\d{0,5}$/.test(value)) throw new InvalidArgumentError('must be a step number (1, 2, ...).');
  return Number(value);
};

export const positiveCount = (value: string): number => {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('must be a positive whole number.');
  return Number(value);
};
