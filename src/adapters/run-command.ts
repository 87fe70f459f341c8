/**
 * The one way src/ runs a program to completion (execa): output interleaved as the terminal would show it,
 * stdin closed, never throwing for a non-zero exit. A timeout is exit code 124, like timeout(1).
 */
import { lastLines } from '../core/text.js';

export interface CommandOptions {
  env?: Record<string, string | undefined>;
  /** false: the program gets env and nothing else of this process's environment. */
  extendEnv?: boolean;
  cwd?: string;
  timeoutMs?: number;
}

export interface CommandResult {
  exitCode: number;
  /** stdout and stderr, interleaved. */
  output: string;
  stdout: string;
  timedOut: boolean;
}

export async function runCommand(
  command: string,
  args: string[],
  options: CommandOptions = {},
): Promise<CommandResult> {
  // Loaded on first use: commands that run no program (`lab status`) never pay for execa.
  const { execa } = await import('execa');
  const result = await execa(command, args, {
    env: options.env,
    extendEnv: options.extendEnv ?? true,
    cwd: options.cwd,
    timeout: options.timeoutMs,
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  const timedOut = result.timedOut === true;
  return {
    exitCode: timedOut ? 124 : (result.exitCode ?? 1),
    output: String(result.all ?? ''),
    stdout: String(result.stdout ?? ''),
    timedOut,
  };
}

/** runCommand for programs whose failure is an error: throws with the command and the end of its output. */
export async function runOrThrow(
  command: string,
  args: string[],
  options: CommandOptions = {},
  tail = 15,
): Promise<CommandResult> {
  const result = await runCommand(command, args, options);
  if (result.exitCode !== 0)
    throw new Error(
      `${command} ${args.slice(0, 3).join(' ')} failed:\n${lastLines(result.output.trim(), tail).join('\n')}`,
    );
  return result;
}
