import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProcessControl } from '../core/ports.js';

export const nodeProcesses: ProcessControl = {
  spawnDetached({ command, args, env, cwd, logFile }) {
    mkdirSync(path.dirname(logFile), { recursive: true });
    const fd = openSync(logFile, 'a');
    try {
      const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', fd, fd] });
      if (child.pid === undefined) throw new Error(`could not start ${command}`);
      child.unref();
      return child.pid;
    } finally {
      closeSync(fd);
    }
  },

  isAlive(pid) {
    try {
      process.kill(pid, 0);
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
    // A zombie still answers signal 0: treat it as gone.
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return true;
    }
  },

  signalGroup(pgid, signal) {
    try {
      process.kill(-pgid, signal);
      return true;
    } catch {
      return false;
    }
  },

  findByEnv(name, value) {
    // Linux only: /proc/<pid>/environ. Elsewhere the process-group check in the runtime is what verifies.
    let entries: string[];
    try {
      entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
    } catch {
      return [];
    }
    const needle = `${name}=${value}`;
    return entries
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle) && nodeProcesses.isAlive(Number(pid));
        } catch {
          return false;
        }
      })
      .map(Number)
      .filter((pid) => pid !== process.pid);
  },

  async run({ command, args, env, cwd, timeoutMs, logFile }) {
    // execa loads on the first job run, not with every command that only checks pids (`lab status`).
    const { execa } = await import('execa');
    const result = await execa(command, args, { cwd, env, extendEnv: false, reject: false, all: true, timeout: timeoutMs, stdin: 'ignore' });
    const output = result.all ?? '';
    if (logFile) appendFileSync(logFile, `${output}\n`);
    if (result.timedOut) return { exitCode: 124, output: `${output}\n(timed out after ${timeoutMs / 1000} s)` };
    return { exitCode: result.exitCode ?? 1, output };
  },
};
