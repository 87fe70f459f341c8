import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { lockFile, withLock, type LockDeps } from '../../src/core/lock.js';
import { fakeProcesses } from '../helpers/fake-processes.js';

let home: string;
beforeEach(() => {
  home = mkdtempSync(path.join(tmpdir(), 'lab-lock-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

const realSleep = {
  now: () => new Date(),
  sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, Math.min(ms, 5))),
};

function deps(control: LockDeps['processes'], pid: number, timeoutMs = 1_000, waiting: string[] = []): LockDeps {
  return { home, processes: control, clock: realSleep, timeoutMs, waiting: (m) => void waiting.push(m), self: { pid } };
}

describe('the home lock', () => {
  it('records pid and start time while held, and is gone afterwards; nested use does not deadlock', async () => {
    const { control } = fakeProcesses([{ pid: 10, startTime: '111' }]);
    await withLock(deps(control, 10), 'check', async () => {
      expect(JSON.parse(readFileSync(lockFile(home), 'utf8'))).toMatchObject({
        pid: 10,
        startTime: '111',
        command: 'check',
      });
      await withLock(deps(control, 10), 'hint', async () => undefined);
      expect(existsSync(lockFile(home))).toBe(true);
    });
    expect(existsSync(lockFile(home))).toBe(false);
  });

  it('makes a second run wait, saying for what, and runs them one after the other', async () => {
    const { control } = fakeProcesses([
      { pid: 10, startTime: '1' },
      { pid: 20, startTime: '2' },
    ]);
    const order: string[] = [];
    const waiting: string[] = [];
    let release!: () => void;
    const first = withLock(deps(control, 10), 'check', async () => {
      order.push('first in');
      await new Promise<void>((r) => (release = r));
      order.push('first out');
    });
    await new Promise((r) => setTimeout(r, 20));
    const second = withLock(deps(control, 20, 5_000, waiting), 'next', async () => void order.push('second'));
    await new Promise((r) => setTimeout(r, 50));
    expect(order).toEqual(['first in']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second']);
    expect(waiting).toEqual(['waiting for `lab check` (pid 10) to finish…']);
  });

  it('gives up after the bound with an error naming the holder', async () => {
    const { control } = fakeProcesses([
      { pid: 10, startTime: '1' },
      { pid: 20, startTime: '2' },
    ]);
    let release!: () => void;
    const first = withLock(deps(control, 10), 'start', () => new Promise<void>((r) => (release = r)));
    await new Promise((r) => setTimeout(r, 20));
    const error = await withLock(deps(control, 20, 100), 'stop', async () => 'ran').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toMatch(/`lab start` \(pid 10\)/);
    release();
    await first;
  });

  it('takes over a lock whose owner is dead, or whose pid now belongs to another process', async () => {
    const { control } = fakeProcesses([
      { pid: 20, startTime: '2' },
      { pid: 30, startTime: '999' },
    ]);
    for (const owner of [
      { pid: 12345, startTime: '1' },
      { pid: 30, startTime: '5' },
    ]) {
      writeFileSync(lockFile(home), JSON.stringify({ ...owner, command: 'check', since: '2026-01-01T00:00:00Z' }));
      const waiting: string[] = [];
      expect(await withLock(deps(control, 20, 1_000, waiting), 'check', async () => 'ran')).toBe('ran');
      expect(waiting).toEqual([]);
      expect(existsSync(lockFile(home))).toBe(false);
    }
  });

  it("takes over a lock file that is not a lock (garbage), and never removes another run's lock on release", async () => {
    const { control } = fakeProcesses([
      { pid: 20, startTime: '2' },
      { pid: 30, startTime: '3' },
    ]);
    writeFileSync(lockFile(home), 'garbage');
    await withLock(deps(control, 20), 'check', async () => {
      // Someone replaced our lock meanwhile (a takeover gone wrong): ours to release no more.
      writeFileSync(lockFile(home), JSON.stringify({ pid: 30, startTime: '3', command: 'hint', since: 'x' }));
    });
    expect(JSON.parse(readFileSync(lockFile(home), 'utf8')).pid).toBe(30);
  });

  it('lets only one of many racing runs in at a time', async () => {
    const pids = [21, 22, 23, 24, 25, 26];
    const { control } = fakeProcesses(pids.map((pid) => ({ pid, startTime: String(pid) })));
    let inside = 0;
    let most = 0;
    await Promise.all(
      pids.map((pid) =>
        withLock(deps(control, pid, 10_000), 'check', async () => {
          inside += 1;
          most = Math.max(most, inside);
          await new Promise((r) => setTimeout(r, 5));
          inside -= 1;
        }),
      ),
    );
    expect(most).toBe(1);
  });
});

describe('a lock path that is not a file', () => {
  it('is an environment error naming the path, not a hang', async () => {
    const { mkdirSync } = await import('node:fs');
    const { control } = fakeProcesses([{ pid: 10, startTime: '1' }]);
    mkdirSync(lockFile(home));
    const error = await withLock(deps(control, 10), 'check', async () => 'ran').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as Error).message).toContain(lockFile(home));
  });
});
