/** The end of a lab: `lab next` says the lab is complete (exit 0), and a service's log is stamped and separated. */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { lineStamper } from '../../src/services/logging/log-stamp.js';
import { fakeContext } from '../helpers/fake-context.js';

function homeAt(currentStep: number, completedSteps: number[]) {
  const home = mkdtempSync(path.join(tmpdir(), 'finish-'));
  writeFileSync(
    path.join(home, 'active.json'),
    JSON.stringify({ lab: 'mcp-integration', runtime: 'local', since: new Date().toISOString() }),
  );
  mkdirSync(path.join(home, 'mcp-integration', '.lab'), { recursive: true });
  writeFileSync(
    path.join(home, 'mcp-integration', '.lab', 'state.json'),
    JSON.stringify({
      version: 1,
      lab: 'mcp-integration',
      createdAt: new Date().toISOString(),
      currentStep,
      completedSteps,
      hintsShown: {},
      attempts: 0,
      checkRuns: [],
      events: [],
    }),
  );
  return fakeContext(home);
}

describe('lab next at the end of a lab', () => {
  it('exits 0 saying the lab is complete and naming reset and the other lab', async () => {
    const { ctx, stdout, stderr } = homeAt(4, [1, 2, 3, 4]);
    expect(await main(['node', 'lab', 'next'], ctx), stderr.join('\n')).toBe(0);
    const text = stdout.join('\n');
    expect(text).toContain('Lab mcp-integration is complete');
    expect(text).toContain('npx lab reset');
    expect(text).toContain('npx lab start secure-agents');
  });

  it('exits 0 at the last step and names the steps that still fail, without claiming completion', async () => {
    const { ctx, stdout } = homeAt(4, [1, 3]);
    expect(await main(['node', 'lab', 'next'], ctx)).toBe(0);
    const text = stdout.join('\n');
    expect(text).not.toContain('is complete');
    expect(text).toContain('steps 2, 4 still have checks to pass');
  });

  it('still moves on and shows the next step before the end', async () => {
    const { ctx, stdout } = homeAt(2, [1, 2]);
    expect(await main(['node', 'lab', 'next'], ctx)).toBe(0);
    expect(stdout.join('\n')).toContain('step 3 of 4');
  });
});

describe('log stamp', () => {
  it('prefixes each line once with an ISO time, even when a line arrives in pieces', () => {
    const at = new Date('2026-11-24T12:00:00.000Z');
    const stamp = lineStamper(() => at);
    expect(stamp('one\ntwo\n')).toBe('2026-11-24T12:00:00.000Z one\n2026-11-24T12:00:00.000Z two\n');
    expect(stamp('par')).toBe('2026-11-24T12:00:00.000Z par');
    expect(stamp('tial\nnext')).toBe('tial\n2026-11-24T12:00:00.000Z next');
    expect(stamp('')).toBe('');
  });
});
