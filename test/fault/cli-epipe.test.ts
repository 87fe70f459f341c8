/**
 * `lab start | head -1`: the reader goes away after one line, every later write fails with EPIPE. The
 * runner must finish its work (services up, lab recorded active, progress updated) and exit 0 without a stack
 * trace; `lab status | head -1` and `lab logs | head -1` on the running lab likewise.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { repoDir } from '../../src/core/paths.js';
import { cliIn, scratchHome } from '../helpers/cli.js';

// biome-ignore lint/suspicious/noTemplateCurlyInString: a bash script, expanded by bash.
const INTO_HEAD = '"$@" 2>&1 | head -1; exit "${PIPESTATUS[0]}"';

const LAB = 'mcp-integration';
const home = scratchHome('cli-epipe-');
const lab = cliIn(home);

/** Runs `lab ...args | head -1` (stderr too) and returns lab's own exit code and what head let through. */
async function labIntoHead(...args: string[]) {
  const result = await execa(
    'bash',
    ['-c', INTO_HEAD, 'bash', process.execPath, path.join(repoDir, 'bin', 'lab.js'), ...args],
    {
      env: { LAB_HOME: home, NO_COLOR: '1' },
      reject: false,
      stdin: 'ignore',
      timeout: 240_000,
    },
  );
  return { exitCode: result.exitCode, output: `${String(result.stdout)}${String(result.stderr)}` };
}

afterAll(async () => {
  await lab('stop');
}, 120_000);

describe('a reader that closes the pipe early', () => {
  it('lets `lab start` finish its work and exit 0 without a trace', async () => {
    const started = await labIntoHead('start', LAB, '--runtime', 'local', '--no-walkthrough');
    expect(started.output).not.toMatch(/^\s+at |EPIPE|Unexpected error/m);
    expect(started.exitCode).toBe(0);
    // The work after the first line happened: services up, lab active, the start recorded.
    const status = await lab('status');
    expect(status.exitCode).toBe(0);
    for (const service of ['auth-server', 'rag-index', 'mcp-server'])
      expect(status.stdout).toMatch(new RegExp(`${service}\\s+running`));
    const active = JSON.parse(readFileSync(path.join(home, 'active.json'), 'utf8')) as { lab: string };
    expect(active.lab).toBe(LAB);
    const state = JSON.parse(readFileSync(path.join(home, LAB, '.lab', 'state.json'), 'utf8')) as {
      events: Array<{ type: string }>;
    };
    expect(state.events.map((e) => e.type)).toContain('started');
  }, 300_000);

  it.each([['status'], ['step'], ['logs', 'rag-index'], ['--help']])(
    'ends `lab %s | head -1` quietly with exit 0',
    async (...args) => {
      const result = await labIntoHead(...args);
      expect(result.output).not.toMatch(/^\s+at |EPIPE|Unexpected error/m);
      expect(result.exitCode).toBe(0);
    },
    120_000,
  );
});
