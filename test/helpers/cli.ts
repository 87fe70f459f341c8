import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { repoDir } from '../../src/core/paths.js';

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the real `lab` executable in a child process against its own LAB_HOME. */
export function cliIn(home: string, extraEnv: Record<string, string> = {}, timeoutMs = 120_000) {
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

export function scratchHome(): string {
  return mkdtempSync(path.join(tmpdir(), 'lab-e2e-'));
}

export function runtimeRecord(home: string, lab: string): { runId: string; ports: Record<string, number>; services: Record<string, { pid: number }> } {
  return JSON.parse(readFileSync(path.join(home, lab, '.lab', 'runtime.json'), 'utf8'));
}
