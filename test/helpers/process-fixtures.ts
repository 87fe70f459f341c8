import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { nodeProcesses } from '../../src/adapters/node-processes.js';

/** Processes this test owns: each in its own process group (as the lab's services are), ended by the test. */
const spawned: ChildProcess[] = [];

/** An unrelated `sleep`, its own group leader, with the environment given (e.g. a lab run id). */
export function bystander(env: Record<string, string> = {}): number {
  const child = spawn('sleep', ['600'], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
  });
  spawned.push(child);
  return child.pid!;
}

export function endBystanders(): void {
  for (const child of spawned.splice(0)) child.kill('SIGKILL');
}

/** The start time the kernel reports for a pid (/proc/<pid>/stat field 22). */
export function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

/** Live processes carrying a workspace's marker: what `lab stop` must leave at zero. */
export function labProcessesOf(workspace: string): number[] {
  return nodeProcesses.findByEnv('LAB_WORKSPACE', workspace);
}

export const alive = (pid: number) => nodeProcesses.isAlive(pid);

/** How many long-running services lab 1 starts on the local runtime, as its definition says. */
export async function lab1ServiceCount(): Promise<number> {
  const { loadLab } = await import('../../src/core/lab-catalog.js');
  const { runningServices } = await import('../../src/core/lab-definition.js');
  return runningServices((await loadLab('mcp-integration')).definition).length;
}
