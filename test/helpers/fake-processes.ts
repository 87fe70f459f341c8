import type { Clock, ProcessControl, ProcessIdentity } from '../../src/core/ports.js';

export interface FakeProcess {
  pid: number;
  pgid?: number;
  startTime: string;
  markers?: Record<string, string>;
  /** Ignores SIGTERM (only SIGKILL ends it). */
  stubborn?: boolean;
}

/** A process table in memory: which signals went where, and who died of them. */
export function fakeProcesses(initial: FakeProcess[]) {
  const table = new Map<number, Required<FakeProcess>>();
  const signals: Array<{ target: number; group: boolean; signal: NodeJS.Signals }> = [];
  const add = (p: FakeProcess) => table.set(p.pid, { pgid: p.pid, markers: {}, stubborn: false, ...p });
  for (const p of initial) add(p);
  const deliver = (p: Required<FakeProcess>, signal: NodeJS.Signals) => {
    if (signal === 'SIGKILL' || !p.stubborn) table.delete(p.pid);
  };
  const control: ProcessControl = {
    spawnDetached: () => {
      throw new Error('not in the fake');
    },
    isAlive: (pid) => table.has(pid),
    identify: (pid): ProcessIdentity | undefined => {
      const p = table.get(pid);
      return p ? { pid: p.pid, pgid: p.pgid, startTime: p.startTime, markers: { ...p.markers } } : undefined;
    },
    signalGroup: (pgid, signal) => {
      signals.push({ target: pgid, group: true, signal });
      const members = [...table.values()].filter((p) => p.pgid === pgid);
      for (const p of members) deliver(p, signal);
      return members.length > 0;
    },
    signal: (pid, signal) => {
      signals.push({ target: pid, group: false, signal });
      const p = table.get(pid);
      if (p) deliver(p, signal);
      return p !== undefined;
    },
    findByEnv: (name, value) => [...table.values()].filter((p) => p.markers[name] === value).map((p) => p.pid),
    run: async () => ({ exitCode: 0, output: '' }),
  };
  return { control, signals, table, add, alive: (pid: number) => table.has(pid) };
}

/** A clock whose sleeps return at once and move its time on by as much: deadlines pass without waiting. */
export function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')): Clock & { sleeps: number[] } {
  let now = start;
  const sleeps: number[] = [];
  return {
    now: () => new Date(now),
    sleep: async (ms) => {
      sleeps.push(ms);
      now += ms;
    },
    sleeps,
  };
}

export const instantClock = fakeClock();
