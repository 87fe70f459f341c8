import { spawn } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProcessControl, ProcessIdentity } from '../core/ports.js';
import { runCommand } from './run-command.js';

/**
 * Linux: identity comes from /proc/<pid>/stat (state, process group, start time) and /proc/<pid>/environ. Where
 * there is no /proc, identify answers undefined, and the runtime then never adopts or signals a process.
 */
function readStat(pid: number): { state: string; pgid: number; startTime: string } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: the fields after it start at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const pgid = Number(fields[2]);
  const startTime = fields[19];
  if (!state || !Number.isInteger(pgid) || !startTime || !/^\d+$/.test(startTime)) return undefined;
  return { state, pgid, startTime };
}

function readMarkers(pid: number): Record<string, string> | undefined {
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
  } catch {
    return undefined;
  }
  const markers: Record<string, string> = {};
  for (const entry of environ.split('\0')) {
    const eq = entry.indexOf('=');
    if (entry.startsWith('LAB_') && eq > 0) markers[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  return markers;
}

function send(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch {
    return false;
  }
}

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
    const stat = readStat(pid);
    return stat === undefined || stat.state !== 'Z';
  },

  identify(pid) {
    if (!Number.isInteger(pid) || pid <= 1) return undefined;
    const stat = readStat(pid);
    if (!stat || stat.state === 'Z') return undefined;
    const markers = readMarkers(pid);
    if (!markers) return undefined;
    // Read the start time again: the environ read above must belong to the same process, not a pid reused in between.
    if (readStat(pid)?.startTime !== stat.startTime) return undefined;
    const identity: ProcessIdentity = { pid, pgid: stat.pgid, startTime: stat.startTime, markers };
    return identity;
  },

  signalGroup(pgid, signal) {
    return pgid > 1 && send(-pgid, signal);
  },

  signal(pid, signal) {
    return pid > 1 && send(pid, signal);
  },

  findByEnv(name, value) {
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
          return (
            readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(needle) &&
            nodeProcesses.isAlive(Number(pid))
          );
        } catch {
          return false;
        }
      })
      .map(Number)
      .filter((pid) => pid !== process.pid);
  },

  async run({ command, args, env, cwd, timeoutMs, logFile }) {
    const result = await runCommand(command, args, { cwd, env, extendEnv: false, timeoutMs });
    const output = result.output;
    if (logFile) appendFileSync(logFile, `${output}\n`);
    if (result.timedOut) return { exitCode: 124, output: `${output}\n(timed out after ${timeoutMs / 1000} s)` };
    return { exitCode: result.exitCode, output };
  },
};
