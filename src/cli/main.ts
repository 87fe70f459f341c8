/**
 * The `lab` command line. Each command declares itself in src/commands/<name>.ts (defineCommand) and is listed
 * in src/cli/command-table.ts; this file only registers them, loading the one being run. It is the only place that
 * turns errors into exit codes: 0 all checks pass, 1 a check failed, 2 usage or environment error.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { ExitCode, isLabError, type LabError } from '../core/errors.js';
import { ioErrorToLabError } from '../core/io-errors.js';
import { assertHomeIsFolder } from '../core/make-dirs.js';
import { repoDir } from '../core/paths.js';
import { printable, printableLines } from '../core/printable.js';
import type { CommandDefinition } from '../commands/define.js';
import { COMMANDS } from './command-table.js';
import type { CommandContext } from '../core/context.js';
import { createContext } from './context.js';

const { version } = JSON.parse(readFileSync(path.join(repoDir, 'package.json'), 'utf8')) as { version: string };

export async function buildProgram(
  ctx: CommandContext,
  setExit: (code: number) => void,
  argv: string[] = [],
): Promise<Command> {
  const program = new Command('lab')
    .description('Hands-on labs for running AI agents in production: MCP, workload identity, policy, audit.')
    .version(version)
    .showHelpAfterError('(run `lab --help` for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => process.stdout.write(s),
      writeErr: (s) => process.stderr.write(s),
      outputError: (s, write) => write(commanderMessage(s)),
    });
  program.addHelpText(
    'after',
    '\nExit codes: 0 all checks pass · 1 a check failed · 2 usage or environment error.\nWorkspaces live in $LAB_HOME (default: <repo>/workspace).',
  );
  const register = (parent: Command, definition: CommandDefinition, usesHome: boolean) => {
    const command = parent
      .command(definition.name, definition.isDefault ? { isDefault: true } : {})
      .description(definition.description);
    definition.configure?.(command);
    const help = [
      ...(definition.examples ? ['', 'Examples:', ...examples(definition.examples)] : []),
      ...(definition.notes ? ['', ...definition.notes] : []),
    ];
    if (help.length > 0) command.addHelpText('after', help.join('\n'));
    for (const sub of definition.subcommands ?? []) register(command, sub, usesHome && sub.usesHome !== false);
    const run = definition.run;
    if (!run) return;
    command.action(async (...args: unknown[]) => {
      // LAB_HOME on a file would otherwise mean "no lab is active" to some commands and ENOTDIR to others.
      if (usesHome) assertHomeIsFolder(ctx.home);
      const code = await run(ctx, ...args);
      // The walkthrough may grade again: its verdict (or "done": 0) replaces the command's own.
      const after = definition.walkthrough ? await offerWalkthrough(ctx, command.opts()) : undefined;
      setExit(after ?? code);
    });
  };
  for (const definition of await commandsFor(argv)) register(program, definition, definition.usesHome !== false);
  return program;
}

/**
 * Only the command being run is loaded (its module carries its code); help, an unknown command or no command at
 * all load the whole table, so that help lists every command and a typo gets a suggestion.
 */
async function commandsFor(argv: string[]): Promise<CommandDefinition[]> {
  const words = argv.slice(2).filter((a) => !a.startsWith('-'));
  if (words.length === 0 && argv.slice(2).some((a) => a === '-V' || a === '--version')) return [];
  const named = words[0] === 'help' ? words[1] : words[0];
  const names = named !== undefined && Object.hasOwn(COMMANDS, named) ? [named] : Object.keys(COMMANDS);
  return Promise.all(names.map((name) => COMMANDS[name]!()));
}

/**
 * The one place that decides on the walkthrough: asked for (the default), a person at a terminal, and neither
 * --json nor --watch (their output or their loop owns the terminal).
 */
async function offerWalkthrough(
  ctx: CommandContext,
  options: { walkthrough?: boolean; json?: boolean; watch?: boolean },
): Promise<number | undefined> {
  if (options.walkthrough === false || options.json || options.watch || !ctx.prompter.interactive) return undefined;
  const { openActiveSession } = await import('../core/lab-session.js');
  return (await import('./walkthrough.js')).runWalkthrough(ctx, await openActiveSession(ctx));
}

function examples(rows: Array<[command: string, what: string]>): string[] {
  const width = Math.max(...rows.map(([command]) => command.length));
  return rows.map(([command, what]) => `  ${command.padEnd(width)}  ${what}`);
}

export async function main(argv: string[], ctx: CommandContext = createContext()): Promise<number> {
  let code: number = ExitCode.ok;
  try {
    const program = await buildProgram(ctx, (c) => (code = c), argv);
    await program.parseAsync(argv);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here with code 0; parse errors were already printed by commander.
      return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const labError: LabError | undefined = isLabError(error) ? error : ioErrorToLabError(error, ctx.home);
    if (labError) {
      // Messages may carry user input (names, paths) and log tails: every line is made printable, breaks kept.
      ctx.io.err(ctx.io.color.red(`Error: ${printableLines(labError.message)}`));
      ctx.io.err(`${ctx.io.color.yellow('Fix:')} ${printableLines(labError.fix)}`);
      return labError.exitCode;
    }
    // A bug, not the learner's doing: the stack trace helps only whoever fixes it, so it is shown on request.
    ctx.io.err(
      ctx.io.color.red(
        `Unexpected error: ${printableLines(ctx.env.LAB_DEBUG ? ((error as Error).stack ?? String(error)) : String((error as Error)?.message ?? error))}`,
      ),
    );
    ctx.io.err(
      `This is a bug in the lab runner; please report it${ctx.env.LAB_DEBUG ? ' with the output above' : ' with the output of the same command run with LAB_DEBUG=1'}.`,
    );
    return ExitCode.environment;
  }
}

/**
 * Commander echoes arguments in its errors (unknown command 'x', invalid value 'y'). Those are escaped whole;
 * the only line breaks kept are the ones commander adds itself, before its "(Did you mean ...?)" suggestion.
 */
function commanderMessage(text: string): string {
  return `${text
    .replace(/\n$/, '')
    .split('\n(Did you mean ')
    .map((part) => printable(part))
    .join('\n(Did you mean ')}\n`;
}
