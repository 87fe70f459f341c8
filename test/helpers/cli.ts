import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { repoDir } from '../../src/core/paths.js';
import { scaled } from './timing.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `lab` executable in a child process against its own LAB_HOME. The child inherits
 * LAB_TIMEOUT_FACTOR, so the runner's own waits stretch with the test's deadline.
 */
export function cliIn(home: string, extraEnv: Record<string, string> = {}, timeoutMs = scaled(120_000)) {
  return async (...args: string[]): Promise<CliResult> => {
    const result = await execa(process.execPath, [path.join(repoDir, 'bin', 'lab.js'), ...args], {
      env: { LAB_HOME: home, NO_COLOR: '1', ...extraEnv },
      reject: false,
      stdin: 'ignore',
      timeout: timeoutMs,
    });
    return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
  };
}

const scratchHomes: string[] = [];

/** A throw-away LAB_HOME; test/helpers/cleanup.ts removes every one after its test file. */
export function scratchHome(prefix = 'lab-e2e-'): string {
  const home = mkdtempSync(path.join(tmpdir(), prefix));
  scratchHomes.push(home);
  return home;
}

export function removeScratchHomes(): void {
  for (const home of scratchHomes.splice(0)) rmSync(home, { recursive: true, force: true });
}

export function runtimeRecord(
  home: string,
  lab: string,
): { runId: string; ports: Record<string, number>; services: Record<string, { pid: number }> } {
  return JSON.parse(readFileSync(path.join(home, lab, '.lab', 'runtime.json'), 'utf8'));
}

/** "N/N checks passed" for a whole lab, N counted from its definition: a test never goes stale when checks are added. */
export async function allChecksPassed(labId: string): Promise<string> {
  const { loadLab } = await import('../../src/core/lab-catalog.js');
  const lab = await loadLab(labId);
  const count = lab.definition.steps.reduce((sum, step) => sum + step.checks.length, 0);
  return `${count}/${count} checks passed`;
}
