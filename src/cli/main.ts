/**
 * The `lab` command line. Each command lives in src/commands/<name>.ts and is imported only when used, so
 * `lab --help` stays fast. This is the only place that turns errors into exit codes:
 * 0 all checks pass, 1 a check failed, 2 usage or environment error.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ExitCode, isLabError, type LabError } from '../core/errors.js';
import { ioErrorToLabError } from '../core/io-errors.js';
import { assertHomeIsFolder } from '../core/make-dirs.js';
import { repoDir } from '../core/paths.js';
import { printable, printableLines } from '../core/printable.js';
import { RUNTIME_CHOICES } from '../core/runtime.js';
import type { CommandContext } from '../core/context.js';
import { createContext } from './context.js';

const { version } = JSON.parse(readFileSync(path.join(repoDir, 'package.json'), 'utf8')) as { version: string };

// Digits only: Number() would also take '0x10', '1e3', ' 5' and ''.
const stepNumber = (value: string): number => {
  if (!/^[1-9]\d{0,5}$/.test(value)) throw new InvalidArgumentError('must be a step number (1, 2, ...).');
  return Number(value);
};

const positiveCount = (value: string): number => {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw new InvalidArgumentError('must be a positive whole number.');
  return Number(value);
};

export function buildProgram(ctx: CommandContext, setExit: (code: number) => void): Command {
  const run = <A extends unknown[]>(load: () => Promise<(...args: A) => Promise<number>>) =>
    async (...args: A) => setExit(await (await load())(...args));

  // The one place that decides on the walkthrough: asked for (the default), a person at a terminal, and neither
  // --json nor --watch (their output or their loop owns the terminal).
  const offerWalkthrough = async (o: { walkthrough: boolean; json?: boolean; watch?: boolean }) => {
    if (!o.walkthrough || o.json || o.watch || !ctx.prompter.interactive) return;
    const { openActiveSession } = await import('../core/lab-session.js');
    await (await import('./walkthrough.js')).runWalkthrough(ctx, await openActiveSession(ctx));
  };

  const program = new Command('lab')
    .description('Hands-on labs for running AI agents in production: MCP, workload identity, policy, audit.')
    .version(version)
    .showHelpAfterError('(run `lab --help` for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(commanderMessage(s)) });
  // LAB_HOME on a file would otherwise mean "no lab is active" to some commands and ENOTDIR to others.
  program.hook('preAction', (_program, command) => {
    const usesHome = !['list', 'doctor', 'test'].includes(command.name()) && command.parent?.name() !== 'images';
    if (usesHome) assertHomeIsFolder(ctx.home);
  });
  program.addHelpText('after', '\nExit codes: 0 all checks pass · 1 a check failed · 2 usage or environment error.\nWorkspaces live in $LAB_HOME (default: <repo>/workspace).');

  program.command('list').description('list the labs').action(run(async () => async () => (await import('../commands/list.js')).listCommand(ctx)));

  program
    .command('start')
    .description('create your workspace (first time), start the lab\'s services and show the current step')
    .argument('<lab>', 'lab id, see `lab list`')
    .addOption(new Option('--runtime <kind>', 'where services run: auto = docker when the engine answers, else local').choices([...RUNTIME_CHOICES]).default('auto'))
    .option('--port <service=port...>', 'pin a service to a port on 127.0.0.1 (default: free ports)')
    .option('--no-walkthrough', 'do not offer the interactive walkthrough')
    .action(
      run(async () => async (lab: string, o: { runtime: string; port?: string[]; walkthrough: boolean }) => {
        const code = await (await import('../commands/start.js')).startCommand(ctx, lab, o);
        await offerWalkthrough(o);
        return code;
      }),
    );

  program.command('status').description('show the active lab, its services and your progress').action(run(async () => async () => (await import('../commands/status.js')).statusCommand(ctx)));

  program
    .command('step')
    .description('show the instructions of a step (default: the current one)')
    .argument('[n]', 'step number', stepNumber)
    .action(run(async () => async (n?: number) => (await import('../commands/step.js')).stepCommand(ctx, n)));

  program.command('next').description('move to the next step and show it').action(run(async () => async () => (await import('../commands/next.js')).nextCommand(ctx)));
  program.command('hint').description('show one more hint for the current step').action(run(async () => async () => (await import('../commands/hint.js')).hintCommand(ctx)));

  program
    .command('check')
    .description('run the checks (all steps, or one) and report what is wrong and what to do')
    .argument('[step]', 'only this step', stepNumber)
    .option('--json', 'print the result as JSON (schema: docs/check-result.schema.json) on stdout')
    .option('--junit <file>', 'also write a JUnit XML report')
    .option('--watch', 'check again whenever a workspace file changes')
    .option('--no-walkthrough', 'do not offer the interactive walkthrough afterwards')
    .action(
      run(async () => async (step: number | undefined, o: { json?: boolean; junit?: string; watch?: boolean; walkthrough: boolean }) => {
        // A bad report target fails before any check runs, never after minutes of grading (checked again on writing).
        if (o.junit !== undefined) {
          const { checkReportTarget, junitReport } = await import('../core/report-target.js');
          checkReportTarget(o.junit, ctx.home, junitReport);
        }
        const code = await (await import('../commands/check.js')).checkCommand(ctx, step, o);
        await offerWalkthrough(o);
        return code;
      }),
    );

  program
    .command('solve')
    .description('write the reference solution of a step (default: current); asks before replacing your work and keeps a backup')
    .argument('[step]', 'step number', stepNumber)
    .option('-y, --yes', 'do not ask')
    .action(run(async () => async (step: number | undefined, o: { yes?: boolean }) => (await import('../commands/solve.js')).solveCommand(ctx, step, o)));

  program
    .command('reset')
    .description('stop the lab, verify nothing is left running, restart progress (files kept unless --hard)')
    .argument('[lab]', 'lab id (default: the active lab)')
    .option('--hard', 'also replace your workspace with fresh starter files (a backup is kept)')
    .option('-y, --yes', 'do not ask')
    .action(run(async () => async (lab: string | undefined, o: { hard?: boolean; yes?: boolean }) => (await import('../commands/reset.js')).resetCommand(ctx, lab, o)));

  program.command('stop').description('stop the lab\'s services; work and progress are kept').action(run(async () => async () => (await import('../commands/stop.js')).stopCommand(ctx)));

  program
    .command('logs')
    .description('show a service\'s log')
    .argument('<service>', 'service name, see `lab status`')
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --lines <n>', 'how many lines (default: 100)', positiveCount, 100)
    .action(run(async () => async (service: string, o: { follow?: boolean; lines: number }) => (await import('../commands/logs.js')).logsCommand(ctx, service, o)));

  program
    .command('audit')
    .description('show the audit trail of the lab\'s MCP server (one entry per tool call) or verify its hash chain')
    .option('--verify', 'check the hash chain of the whole log: exit 0 when intact, 1 when an entry was changed, removed or moved')
    .option('--json', 'print entries as JSON, one per line (all matching unless --tail); with --verify, the result')
    .option('-n, --tail <count>', 'show the last <count> matching entries (default: 20 in the table)', positiveCount)
    .option('--agent <text>', 'only entries whose SPIFFE ID contains <text>')
    .option('--denied', 'only denied calls')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  lab audit                              the last 20 tool calls',
        '  lab audit --denied --agent summarizer  what the summarizer agent was refused',
        '  lab audit --json | jq .reason          every entry, for scripts',
        '  lab audit --verify                     was any entry changed after it was written?',
        '',
        'The log is <workspace>/.lab/audit/audit.jsonl. Entries hold a digest of the arguments, never the arguments.',
        'Exit codes: 0 shown or verified · 1 chain broken or no log to verify · 2 usage or environment error.',
      ].join('\n'),
    )
    .action(run(async () => async (o: { verify?: boolean; json?: boolean; tail?: number; agent?: string; denied?: boolean }) => (await import('../commands/audit.js')).auditCommand(ctx, o)));

  program
    .command('doctor')
    .description('check this machine for what the labs need, with a fix for each problem')
    .option('--json', 'print findings as JSON')
    .action(run(async () => async (o: { json?: boolean }) => (await import('../commands/doctor.js')).doctorCommand(ctx, o)));

  program
    .command('test')
    .description('author self-test: every check fails before its step is solved and passes after; every mutant of labs/<lab>/mutants is caught, every variant passes')
    .argument('<lab>', 'lab id')
    .addOption(new Option('--runtime <kind>', 'where services run: auto = docker when the engine answers, else local').choices([...RUNTIME_CHOICES]).default('auto'))
    .option('--keep', 'keep the scratch workspace for inspection')
    .option('--only <id>', 'run only this mutant or variant of the catalogue (for authors)')
    .option('--no-mutants', 'skip the mutant catalogue (the step self-test only)')
    .action(run(async () => async (lab: string, o: { runtime: string; keep?: boolean; only?: string; mutants: boolean }) => (await import('../commands/test.js')).testCommand(ctx, lab, o)));

  const images = program.command('images').description('the container images of the labs: list, pull, save/load for offline classrooms, build-local from sources');
  images
    .command('list', { isDefault: true })
    .description('which image each part uses, and whether it is present')
    .option('--json', 'print as JSON')
    .action(run(async () => async (o: { json?: boolean }) => (await import('../commands/images.js')).imagesListCommand(ctx, o)));
  images.command('pull').description('pre-fetch the pinned upstream images (needs a registry)').action(run(async () => async () => (await import('../commands/images.js')).imagesPullCommand(ctx)));
  images
    .command('save')
    .description('write every present lab image into one tarball, for machines without a registry')
    .argument('<file>', 'tarball to write')
    .action(run(async () => async (file: string) => (await import('../commands/images.js')).imagesSaveCommand(ctx, file)));
  images
    .command('load')
    .description('load images from a tarball made by `lab images save`')
    .argument('<file>', 'tarball to read')
    .action(run(async () => async (file: string) => (await import('../commands/images.js')).imagesLoadCommand(ctx, file)));
  images
    .command('build-local')
    .description('build the images from sources this machine reaches (Debian packages, npm, the Go module proxy); cached')
    .argument('[images...]', 'debian, node, services, opa, spire-server, spire-agent (default: all)')
    .action(run(async () => async (names: string[]) => (await import('../commands/images.js')).imagesBuildLocalCommand(ctx, names)));

  return program;
}

export async function main(argv: string[], ctx: CommandContext = createContext()): Promise<number> {
  let code: number = ExitCode.ok;
  try {
    await buildProgram(ctx, (c) => (code = c)).parseAsync(argv);
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
    ctx.io.err(ctx.io.color.red(`Unexpected error: ${printableLines(ctx.env.LAB_DEBUG ? ((error as Error).stack ?? String(error)) : String((error as Error)?.message ?? error))}`));
    ctx.io.err(`This is a bug in the lab runner; please report it${ctx.env.LAB_DEBUG ? ' with the output above' : ' with the output of the same command run with LAB_DEBUG=1'}.`);
    return ExitCode.environment;
  }
}

/**
 * Commander echoes arguments in its errors (unknown command 'x', invalid value 'y'). Those are escaped whole;
 * the only line breaks kept are the ones commander adds itself, before its "(Did you mean ...?)" suggestion.
 */
function commanderMessage(text: string): string {
  return `${text.replace(/\n$/, '').split('\n(Did you mean ').map((part) => printable(part)).join('\n(Did you mean ')}\n`;
}
