/**
 * Concurrent CLI runs on one home: state-changing commands take turns under a lock (pid + start time), so
 * checks grade correctly and lose no progress; option values are refused before anything stops; a lock left
 * by a dead run, or by a pid now reused, is taken over.
 */
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/runtimes/port-check.js';
import { cliIn, scratchHome } from '../helpers/cli.js';
import { scaled } from '../helpers/timing.js';
import { alive, bystander, endBystanders, startTimeOf } from '../helpers/process-fixtures.js';
import { createServer, type Server } from 'node:net';

const LAB = 'mcp-integration';
const home = scratchHome('lab-fault-');
const lab = cliIn(home, {}, scaled(300_000));
const ws = path.join(home, LAB);
const lockPath = path.join(home, '.lab-lock');
const state = () => JSON.parse(readFileSync(path.join(ws, '.lab', 'state.json'), 'utf8'));
const services = () =>
  JSON.parse(readFileSync(path.join(ws, '.lab', 'runtime.json'), 'utf8')).services as Record<
    string,
    { pid: number; port: number }
  >;

beforeAll(async () => {
  expect((await lab('start', LAB, '--runtime', 'local', '--no-walkthrough')).exitCode).toBe(0);
  for (const step of ['1', '2', '3', '4']) expect((await lab('solve', step, '--yes')).exitCode).toBe(0);
}, scaled(300_000));

afterAll(async () => {
  await lab('stop');
  endBystanders();
}, scaled(120_000));

describe('concurrent commands', { timeout: 240_000 }, () => {
  it(
    'five concurrent `lab check` right after an edit all grade the solved lab fully, and every run is recorded',
    async () => {
      const before = state();
      // An edit: every check must restart mcp-server, the race that graded a correct solution 3/14.
      appendFileSync(path.join(ws, 'mcp-server', 'tools.ts'), '\n// edited\n');
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => lab('check', '--json')));
      for (const result of results) {
        expect(result.stderr).not.toMatch(/Error/);
        expect(result.exitCode).toBe(0);
        const report = JSON.parse(result.stdout);
        expect(report.summary.total).toBeGreaterThanOrEqual(14);
        expect(report.summary.passed).toBe(report.summary.total);
      }
      expect(
        results.filter((r) => /waiting for `lab check` \(pid \d+\) to finish/.test(r.stderr)).length,
      ).toBeGreaterThanOrEqual(1);
      const after = state();
      expect(after.attempts).toBe(before.attempts + 5);
      expect(after.checkRuns.length).toBe(before.checkRuns.length + 5);
    },
    scaled(600_000),
  );

  it('concurrent hints lose no update', async () => {
    const before = state().hintsShown;
    const results = await Promise.all([1, 2, 3].map(() => lab('hint')));
    for (const r of results) expect(r.exitCode).toBe(0);
    const step = String(state().currentStep);
    const total = Number(/Hint \d+\/(\d+)/.exec(results[0]!.stdout)?.[1]);
    expect(total).toBeGreaterThanOrEqual(1);
    expect(state().hintsShown[step]).toBe(Math.min((before[step] ?? 0) + 3, total));
  });
});

describe('options are validated before anything stops', { timeout: 240_000 }, () => {
  let blocker: Server;
  afterAll(() => blocker?.close());

  it('a refused --port leaves the running service alone', async () => {
    const port = await freePort();
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    const before = services();
    for (const args of [
      ['--port', `mcp-server=${port}`],
      ['--port', 'rag-index=70000'],
      ['--port', `rag-index=${port}`, '--port', 'nope=5000'],
    ]) {
      const refused = await lab('start', LAB, '--runtime', 'local', '--no-walkthrough', ...args);
      expect(refused.exitCode).toBe(2);
      expect(services()).toEqual(before);
      for (const s of Object.values(before)) expect(alive(s.pid)).toBe(true);
    }
    expect((await lab('status')).stdout).toMatch(/mcp-server\s+running/);
  });
});

describe('a lock left behind', { timeout: 240_000 }, () => {
  const lockOf = (pid: number, startTime: string) =>
    JSON.stringify({ pid, startTime, command: 'check', since: '2026-01-01T00:00:00.000Z' });

  it('whose owner is dead is taken over at once', async () => {
    writeFileSync(lockPath, lockOf(2_000_000, '1'));
    const hint = await lab('hint');
    expect(hint.exitCode).toBe(0);
    expect(hint.stderr).not.toContain('waiting');
    expect(existsSync(lockPath)).toBe(false); // taken over, then released
  });

  it('whose pid now belongs to another process is taken over, and that process is left alone', async () => {
    const other = bystander();
    writeFileSync(lockPath, lockOf(other, String(Number(startTimeOf(other)) - 100)));
    const hint = await lab('hint');
    expect(hint.exitCode).toBe(0);
    expect(hint.stderr).not.toContain('waiting');
    expect(existsSync(lockPath)).toBe(false); // taken over, then released
    expect(alive(other)).toBe(true);
  });

  it('held by a live run makes others wait, then give up with exit 2 and the holder named', async () => {
    const holder = bystander();
    writeFileSync(lockPath, lockOf(holder, startTimeOf(holder)));
    const blocked = await cliIn(home, { LAB_LOCK_TIMEOUT: '1' })('next');
    expect(blocked.exitCode).toBe(2);
    expect(blocked.stderr).toContain(`waiting for \`lab check\` (pid ${holder}) to finish`);
    expect(blocked.stderr).toMatch(new RegExp(`Another lab command is still running .*pid ${holder}`));
    // Reads stay lock-free.
    expect((await lab('status')).exitCode).toBe(0);
    expect(alive(holder)).toBe(true);
    writeFileSync(lockPath, lockOf(2_000_000, '1'));
  });
});
