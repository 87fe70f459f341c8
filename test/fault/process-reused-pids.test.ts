/**
 * runtime.json outlives its processes and the pids are reused by unrelated programs: the runner must neither
 * adopt them ("already running") nor signal them, let alone their process groups.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliIn, scratchHome } from '../helpers/cli.js';
import { scaled } from '../helpers/timing.js';
import {
  alive,
  bystander,
  endBystanders,
  lab1ServiceCount,
  labProcessesOf,
  startTimeOf,
} from '../helpers/process-fixtures.js';

const LAB = 'mcp-integration';
const home = scratchHome('lab-fault-');
const lab = cliIn(home);
const ws = path.join(home, LAB);
const recordFile = path.join(ws, '.lab', 'runtime.json');

let runId: string;
let sleeps: number[];

/** A runtime.json naming the sleeps as the lab's services: one with this run's id but another start time, one
 * with the right start time but no lab environment, one with the run id in a record of an older runner. */
function writeStaleRecord(): void {
  const [a, b, c] = sleeps as [number, number, number];
  const service = (pid: number, port: number, startTime?: string) => ({
    pid,
    port,
    fingerprint: 'stale',
    startedAt: '2026-01-01T00:00:00.000Z',
    ...(startTime ? { startTime } : {}),
  });
  writeFileSync(
    recordFile,
    JSON.stringify({
      kind: 'local',
      runId,
      startedAt: '2026-01-01T00:00:00.000Z',
      ports: { 'auth-server': 41001, 'rag-index': 41002, 'mcp-server': 41003 },
      services: {
        'auth-server': service(a, 41001, '1'),
        'rag-index': service(b, 41002, startTimeOf(b)),
        'mcp-server': service(c, 41003),
      },
    }),
  );
}

beforeAll(async () => {
  const started = await lab('start', LAB, '--runtime', 'local', '--no-walkthrough');
  expect(started.exitCode).toBe(0);
  runId = JSON.parse(readFileSync(recordFile, 'utf8')).runId;
  expect((await lab('stop')).exitCode).toBe(0);
  sleeps = [bystander({ LAB_RUN_ID: runId }), bystander(), bystander({ LAB_RUN_ID: runId })];
}, scaled(240_000));

afterAll(async () => {
  await lab('stop');
  endBystanders();
}, scaled(120_000));

describe('reused pids in runtime.json', { timeout: 240_000 }, () => {
  it("start adopts none of them and starts the lab's own services; the unrelated processes live on", async () => {
    writeStaleRecord();
    const started = await lab('start', LAB, '--runtime', 'local', '--no-walkthrough');
    expect(started.exitCode).toBe(0);
    expect(started.stdout).toContain('Starting');
    const record = JSON.parse(readFileSync(recordFile, 'utf8'));
    const pids = Object.values(record.services as Record<string, { pid: number }>).map((s) => s.pid);
    expect(pids).toHaveLength(await lab1ServiceCount());
    for (const pid of pids) expect(sleeps).not.toContain(pid);
    for (const pid of sleeps) expect(alive(pid)).toBe(true);
    expect((await lab('status')).stdout).toMatch(/mcp-server\s+running/);
  });

  it("stop signals none of them, and stops the lab's own services", async () => {
    writeStaleRecord();
    const stopped = await lab('stop');
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stdout).toContain('nothing of it is left running');
    for (const pid of sleeps) expect(alive(pid)).toBe(true);
    expect(labProcessesOf(ws)).toEqual([]);
  });

  it('reset signals none of them', async () => {
    writeStaleRecord();
    const reset = await lab('reset', LAB);
    expect(reset.exitCode).toBe(0);
    for (const pid of sleeps) expect(alive(pid)).toBe(true);
  });

  it('start over a record naming them while the lab runs replaces the unrecorded services, and spares them', async () => {
    expect((await lab('start', LAB, '--runtime', 'local', '--no-walkthrough')).exitCode).toBe(0);
    const before = Object.values(
      JSON.parse(readFileSync(recordFile, 'utf8')).services as Record<string, { pid: number }>,
    ).map((s) => s.pid);
    expect(before).toHaveLength(await lab1ServiceCount());
    writeStaleRecord(); // the running services are now named nowhere: orphans of this workspace
    const again = await lab('start', LAB, '--runtime', 'local', '--no-walkthrough');
    expect(again.exitCode).toBe(0);
    for (const pid of before) expect(alive(pid)).toBe(false);
    expect(labProcessesOf(ws).length).toBeGreaterThanOrEqual(3);
    for (const pid of sleeps) expect(alive(pid)).toBe(true);
    expect((await lab('stop')).exitCode).toBe(0);
    for (const pid of sleeps) expect(alive(pid)).toBe(true);
    expect(labProcessesOf(ws)).toEqual([]);
  });
});
