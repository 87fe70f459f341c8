/**
 * Two runs that both need an image build (two homes' `lab start`, or `lab images build-local` beside a start)
 * must not build at once: each prunes the dangling images a rebuild leaves, the other's build stage included.
 * Two real processes take the machine's image-build lock; their builds must not overlap.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoDir } from '../../src/core/paths.js';

const dist = (file: string) => pathToFileURL(path.join(repoDir, 'dist', 'src', file)).href;

/** A process that takes the lock, writes "start <name>", holds it for `holdMs`, writes "end <name>". */
function builder(home: string, log: string, name: string, holdMs: number): Promise<number> {
  const script = `
    const { withImageBuildLock } = await import(${JSON.stringify(dist('commands/ensure-image.js'))});
    const { nodeProcesses } = await import(${JSON.stringify(dist('adapters/node-processes.js'))});
    const { systemClock } = await import(${JSON.stringify(dist('adapters/system-clock.js'))});
    const { appendFileSync } = await import('node:fs');
    const io = { err: (m) => appendFileSync(${JSON.stringify(log)}, 'waited ${name}\\n'), color: { yellow: (m) => m } };
    await withImageBuildLock({ clock: systemClock, io, processes: nodeProcesses }, 'start', async () => {
      appendFileSync(${JSON.stringify(log)}, 'start ${name}\\n');
      await new Promise((r) => setTimeout(r, ${holdMs}));
      appendFileSync(${JSON.stringify(log)}, 'end ${name}\\n');
    });
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { ...process.env, HOME: home },
      stdio: 'inherit',
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

describe('the image-build lock', () => {
  it('lets one build run at a time on the machine: the second waits for the first, then runs', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'lab-build-lock-'));
    const log = path.join(home, 'log');
    const first = builder(home, log, 'a', 1_500);
    await new Promise((r) => setTimeout(r, 400));
    const codes = await Promise.all([first, builder(home, log, 'b', 100)]);
    expect(codes).toEqual([0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines.filter((l) => !l.startsWith('waited'))).toEqual(['start a', 'end a', 'start b', 'end b']);
    expect(lines).toContain('waited b');
  }, 60_000);
});
