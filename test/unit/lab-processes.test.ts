import { describe, expect, it } from 'vitest';
import { findLabProcesses, stopLabProcesses, verifyRecorded } from '../../src/runtimes/lab-processes.js';
import { fakeProcesses, instantClock } from '../helpers/fake-processes.js';

const WS = '/home/u/workspace/mcp-integration';
const RUN = '0123456789abcdef';
const ours = { LAB_RUN_ID: RUN, LAB_WORKSPACE: WS, LAB_HOME: '/home/u/workspace' };
const MARKERS = { workspace: WS, home: '/home/u/workspace' };

describe('process identity', () => {
  it('verifies a recorded pid only with the same start time and this run id', () => {
    const { control } = fakeProcesses([
      { pid: 100, startTime: '5000', markers: ours },
      { pid: 101, startTime: '9999', markers: ours },
      { pid: 102, startTime: '5000', markers: { LAB_RUN_ID: 'ffffffffffffffff' } },
      { pid: 103, startTime: '5000' },
    ]);
    expect(verifyRecorded(control, 100, { startTime: '5000', runId: RUN })?.pid).toBe(100);
    expect(verifyRecorded(control, 101, { startTime: '5000', runId: RUN })).toBeUndefined(); // reused pid, same env by chance
    expect(verifyRecorded(control, 102, { startTime: '5000', runId: RUN })).toBeUndefined(); // another run
    expect(verifyRecorded(control, 103, { startTime: '5000', runId: RUN })).toBeUndefined(); // an unrelated process
    expect(verifyRecorded(control, 104, { startTime: '5000', runId: RUN })).toBeUndefined(); // gone
    expect(verifyRecorded(control, 100, { startTime: undefined, runId: RUN })).toBeUndefined(); // record of an older runner
  });

  it("finds the workspace's processes by their workspace and home markers, nothing else", () => {
    const { control } = fakeProcesses([
      { pid: 100, startTime: '1', markers: ours },
      { pid: 200, startTime: '1', markers: { LAB_RUN_ID: RUN } },
      { pid: 300, startTime: '1', markers: { ...ours, LAB_WORKSPACE: '/home/u/workspace/secure-agents' } },
      { pid: 301, startTime: '1', markers: { ...ours, LAB_HOME: '/elsewhere' } },
      { pid: 400, startTime: '1' },
    ]);
    expect(findLabProcesses(control, MARKERS).map((p) => p.pid)).toEqual([100]);
  });
});

describe('stopping', () => {
  it('signals a group only through a verified leader, a member alone otherwise, and never an unrelated process', async () => {
    const { control, signals, alive } = fakeProcesses([
      { pid: 100, startTime: '1', markers: ours },
      { pid: 101, pgid: 100, startTime: '2', markers: ours },
      { pid: 500, startTime: '1' },
      // A lab process that joined an unrelated group: signalled alone, the group's leader (500) untouched.
      { pid: 501, pgid: 500, startTime: '3', markers: ours },
    ]);
    const targets = findLabProcesses(control, MARKERS);
    const left = await stopLabProcesses(control, instantClock, targets, 0);
    expect(left).toEqual([]);
    expect(alive(100) || alive(101) || alive(501)).toBe(false);
    expect(alive(500)).toBe(true);
    expect(signals.filter((s) => s.group).map((s) => s.target)).toEqual([100]);
    expect(signals.some((s) => s.target === 500)).toBe(false);
  });

  it('does not signal a pid that was reused between finding and signalling', async () => {
    const { control, signals, table, add, alive } = fakeProcesses([{ pid: 100, startTime: '1', markers: ours }]);
    const targets = findLabProcesses(control, MARKERS);
    table.delete(100);
    add({ pid: 100, startTime: '77' }); // another program now has the pid
    await stopLabProcesses(control, instantClock, targets, 0);
    expect(signals).toEqual([]);
    expect(alive(100)).toBe(true);
  });

  it('kills what ignores SIGTERM after the grace period and reports what survives', async () => {
    const { control, signals, alive } = fakeProcesses([{ pid: 100, startTime: '1', markers: ours, stubborn: true }]);
    const left = await stopLabProcesses(control, instantClock, findLabProcesses(control, MARKERS), 0);
    expect(left).toEqual([]);
    expect(signals.map((s) => s.signal)).toEqual(['SIGTERM', 'SIGKILL']);
    expect(alive(100)).toBe(false);
  });
});
