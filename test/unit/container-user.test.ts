import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogueWidth } from '../../src/commands/test.js';
import { containerUser, handOverTree, UNPRIVILEGED_ID } from '../../src/runtimes/container-user.js';

describe('which user the containers run as', () => {
  it('is the learner, unless the runner is root: then an unprivileged uid that the workspace is handed to', () => {
    expect(containerUser({ uid: 1000, gid: 1001 })).toEqual({ uid: 1000, gid: 1001, handOver: false });
    expect(containerUser({ uid: 0, gid: 0 })).toEqual({ uid: UNPRIVILEGED_ID, gid: UNPRIVILEGED_ID, handOver: true });
  });
});

describe.runIf(process.getuid?.() === 0)('handing the workspace over (root only: chown)', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('changes every file and folder of the tree, and a link only itself, never what it points to', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lab-handover-'));
    const outside = path.join(dir, 'outside.txt');
    writeFileSync(outside, 'host file');
    const tree = path.join(dir, 'ws');
    mkdirSync(path.join(tree, '.lab', 'secrets'), { recursive: true });
    writeFileSync(path.join(tree, '.lab', 'secrets', 'key'), 'k', { mode: 0o600 });
    symlinkSync(outside, path.join(tree, 'link'));
    handOverTree(tree, containerUser({ uid: 0, gid: 0 }));
    for (const p of [tree, path.join(tree, '.lab'), path.join(tree, '.lab', 'secrets', 'key')])
      expect(statSync(p).uid, p).toBe(UNPRIVILEGED_ID);
    expect(statSync(outside).uid).toBe(0);
  });

  it('does nothing for a runner that is not root', () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lab-handover-'));
    handOverTree(dir, containerUser({ uid: 1000, gid: 1000 }));
    expect(statSync(dir).uid).toBe(0);
  });
});

describe('how many scratch labs grade a catalogue side by side', () => {
  it('defaults to 2 on Docker and one per core (up to 4) locally; LAB_TEST_WIDTH overrides within 1..16', () => {
    expect(catalogueWidth('docker', undefined)).toBe(2);
    expect(catalogueWidth('local', undefined)).toBeGreaterThanOrEqual(1);
    expect(catalogueWidth('local', undefined)).toBeLessThanOrEqual(4);
    expect(catalogueWidth('docker', '3')).toBe(3);
    expect(catalogueWidth('docker', '')).toBe(2);
    for (const bad of ['0', '17', 'x', '1.5', '-1'])
      expect(() => catalogueWidth('docker', bad), bad).toThrow(/LAB_TEST_WIDTH/);
  });
});
