/**
 * One state-changing CLI run at a time per lab home (start, stop, reset, check, solve, next, hint): they all
 * read and write the same active.json, runtime.json, state.json and services. Reads (status, logs, audit,
 * list, doctor) take no lock. The lock is a file naming its owner's pid and start time, so a lock left by a
 * run that died (Ctrl-C, kill -9) - or whose pid was since reused by another program - is recognised as
 * stale and taken over. It covers the whole home rather than one workspace because active.json, which says
 * which lab runs, is shared by every workspace of the home.
 */
import { closeSync, linkSync, openSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { EnvironmentError } from './errors.js';
import { ioErrorToLabError } from './io-errors.js';
import { ensureLabHome } from './make-dirs.js';
import type { Clock, ProcessControl } from './ports.js';

const ownerSchema = z.object({ pid: z.number().int(), startTime: z.string(), command: z.string(), since: z.string() });
export type LockOwner = z.infer<typeof ownerSchema>;

export interface LockDeps {
  home: string;
  processes: ProcessControl;
  clock: Clock;
  /** Told once when the lock is busy, so a waiting command says why it waits (stderr). */
  waiting: (message: string) => void;
  /** How long to wait for another run before giving up with exit 2. */
  timeoutMs: number;
  /** This process, as the lock records it (tests pass another). */
  self?: { pid: number };
}

export const DEFAULT_LOCK_TIMEOUT_S = 300;
const POLL_MS = 150;
/** A takeover guard older than this was left by a run that died mid-takeover (it holds it for microseconds). */
const GUARD_STALE_MS = 10_000;

/** Nesting: a command that runs another (start's walkthrough runs hint) already holds the lock of this home. */
const held = new Map<string, number>();

export function lockFile(home: string): string {
  return path.join(home, '.lab-lock');
}

export async function withLock<T>(deps: LockDeps, command: string, fn: () => Promise<T>): Promise<T> {
  const file = lockFile(deps.home);
  const key = `${deps.self?.pid ?? process.pid}:${file}`;
  const depth = held.get(key) ?? 0;
  if (depth === 0) await acquire(deps, file, command);
  held.set(key, depth + 1);
  try {
    return await fn();
  } finally {
    held.set(key, (held.get(key) ?? 1) - 1);
    if (held.get(key) === 0) {
      held.delete(key);
      release(deps, file);
    }
  }
}

function me(deps: LockDeps, command: string): LockOwner {
  const pid = deps.self?.pid ?? process.pid;
  return {
    pid,
    startTime: deps.processes.identify(pid)?.startTime ?? '',
    command,
    since: deps.clock.now().toISOString(),
  };
}

/** The owner still runs: same pid AND same start time (where start times can be read; else the pid is alive). */
function ownerAlive(processes: ProcessControl, owner: LockOwner): boolean {
  const identity = processes.identify(owner.pid);
  if (identity) return identity.startTime === owner.startTime;
  return owner.startTime === '' && processes.isAlive(owner.pid);
}

/** The lock's content; undefined when there is none (any other read error is the environment's, and said so). */
function readOwner(file: string): { text: string; owner?: LockOwner } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw lockError(file, error as NodeJS.ErrnoException);
  }
  try {
    const parsed = ownerSchema.safeParse(JSON.parse(text));
    return { text, owner: parsed.success ? parsed.data : undefined };
  } catch {
    return { text };
  }
}

async function acquire(deps: LockDeps, file: string, command: string): Promise<void> {
  const owner = me(deps, command);
  // Written whole, then hard-linked into place: the link either creates the lock atomically (like O_EXCL) or
  // fails with EEXIST, and a reader never sees a half-written lock.
  const tmp = `${file}.${owner.pid}.${randomBytes(4).toString('hex')}.tmp`;
  // The home is made level by level (make-dirs.ts says why), and a folder that cannot be written is said as such.
  ensureLabHome(deps.home);
  try {
    writeFileSync(tmp, `${JSON.stringify(owner)}\n`);
  } catch (error) {
    throw ioErrorToLabError(error, deps.home) ?? lockError(file, error as NodeJS.ErrnoException);
  }
  const started = deps.clock.now().getTime();
  let told = false;
  try {
    for (;;) {
      try {
        linkSync(tmp, file);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(file, error as NodeJS.ErrnoException);
      }
      const current = readOwner(file);
      if (!current) continue; // released between the link and the read: try again at once
      if (current.owner && ownerAlive(deps.processes, current.owner)) {
        const { pid, command: other } = current.owner;
        const waited = deps.clock.now().getTime() - started;
        if (waited >= deps.timeoutMs) {
          throw new EnvironmentError(
            `Another lab command is still running for ${deps.home}: \`lab ${other}\` (pid ${pid}); waited ${Math.round(waited / 1000)} s for it.`,
            `Let it finish, then run this again. If it hangs, stop it (\`kill ${pid}\`); set LAB_LOCK_TIMEOUT=<seconds> to wait longer.`,
          );
        }
        if (!told) deps.waiting(`waiting for \`lab ${other}\` (pid ${pid}) to finish…`);
        told = true;
        await deps.clock.sleep(POLL_MS);
        continue;
      }
      if (!takeOver(file, current.text)) await deps.clock.sleep(POLL_MS);
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  }
}

/**
 * Removes a stale lock, but only the one judged stale: under a guard file, it is read again and removed only if
 * unchanged. Two runs that both found it stale cannot then remove each other's fresh lock.
 */
function takeOver(file: string, staleText: string): boolean {
  const guard = `${file}.takeover`;
  try {
    closeSync(openSync(guard, 'wx'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(guard, error as NodeJS.ErrnoException);
    try {
      // A file's time is the system clock's, so it is compared with that clock, not the injected one.
      // eslint-disable-next-line no-restricted-properties -- mtime is the system clock's
      if (Date.now() - statSync(guard).mtimeMs > GUARD_STALE_MS) unlinkSync(guard);
    } catch {
      /* another run removed it */
    }
    return false;
  }
  try {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === staleText) unlinkSync(file);
    return true;
  } finally {
    unlinkSync(guard);
  }
}

function release(deps: LockDeps, file: string): void {
  let current: ReturnType<typeof readOwner>;
  try {
    current = readOwner(file);
  } catch {
    return; // not readable any more: nothing of ours to remove
  }
  const pid = deps.self?.pid ?? process.pid;
  // Only our own lock: never one that another run took over meanwhile.
  if (current?.owner?.pid === pid) {
    try {
      unlinkSync(file);
    } catch {
      /* gone already */
    }
  }
}

function lockError(file: string, error: NodeJS.ErrnoException): EnvironmentError {
  return new EnvironmentError(
    `Cannot use the lab's lock file ${file} (${error.code ?? error.message}).`,
    `It must be a file that you can read and write in a folder you can write: fix its owner and permissions (or remove it if it is not a file), then run the command again.`,
  );
}
