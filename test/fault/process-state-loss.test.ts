/**
 * The lab's state files damaged or deleted while its services run: stop and reset still find every process
 * (from the markers in their environment), stop them, and say so truthfully; bad files are set aside, never a
 * stack trace.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliIn, scratchHome } from '../helpers/cli.js';
import { alive, lab1ServiceCount, labProcessesOf } from '../helpers/process-fixtures.js';

const LAB = 'mcp-integration';

async function running() {
  const home = scratchHome('lab-fault-');
  const lab = cliIn(home);
  const ws = path.join(home, LAB);
  const started = await lab('start', LAB, '--runtime', 'local', '--no-walkthrough');
  expect(started.exitCode).toBe(0);
  const record = JSON.parse(readFileSync(path.join(ws, '.lab', 'runtime.json'), 'utf8'));
  const pids = Object.values(record.services as Record<string, { pid: number }>).map((s) => s.pid);
  expect(pids).toHaveLength(await lab1ServiceCount());
  for (const pid of pids) expect(alive(pid)).toBe(true);
  return { home, lab, ws, pids };
}

const homes: Array<{ lab: ReturnType<typeof cliIn>; ws: string }> = [];
afterEach(async () => {
  // A safety net for a failed test only: a passing one has stopped everything already.
  for (const h of homes.splice(0)) if (labProcessesOf(h.ws).length > 0) await h.lab('stop');
});

function expectAllGone(ws: string, pids: number[]): void {
  for (const pid of pids) expect(alive(pid)).toBe(false);
  expect(labProcessesOf(ws)).toEqual([]);
}

function noStackTrace(output: string): void {
  expect(output).not.toMatch(/TypeError|Unexpected error|\n\s+at /);
}

describe('stop with runtime.json damaged or gone', { timeout: 240_000 }, () => {
  const damage: Array<[string, (ws: string) => void]> = [
    ['unparseable', (ws) => writeFileSync(path.join(ws, '.lab', 'runtime.json'), '{"kind": "local", "serv')],
    [
      'wrong-typed',
      (ws) =>
        writeFileSync(
          path.join(ws, '.lab', 'runtime.json'),
          JSON.stringify({ kind: 'local', runId: 5, ports: [], services: 'x' }),
        ),
    ],
    // Names a pid that no process has, without a start time (as an older runner wrote): nothing to adopt or signal.
    // (Never pid 1 or a negative pid in a test: the old runner would have signalled every process of the machine.)
    [
      'naming a pid that does not exist',
      (ws) =>
        writeFileSync(
          path.join(ws, '.lab', 'runtime.json'),
          JSON.stringify({
            kind: 'local',
            runId: '0123456789abcdef',
            startedAt: 'x',
            ports: {},
            services: { 'auth-server': { pid: 4_000_000, port: 1024, fingerprint: '', startedAt: '' } },
          }),
        ),
    ],
    ['deleted', (ws) => rmSync(path.join(ws, '.lab', 'runtime.json'))],
    ['.lab deleted', (ws) => rmSync(path.join(ws, '.lab'), { recursive: true })],
    ['the workspace deleted', (ws) => rmSync(ws, { recursive: true })],
  ];
  for (const [what, apply] of damage) {
    it(`${what}: stops every service and says so`, async () => {
      const run = await running();
      homes.push(run);
      apply(run.ws);
      const stopped = await run.lab('stop');
      noStackTrace(stopped.stderr + stopped.stdout);
      expect(stopped.exitCode).toBe(0);
      expect(stopped.stdout).toContain(`Stopped ${LAB}; nothing of it is left running`);
      expectAllGone(run.ws, run.pids);
      if (what === 'unparseable' || what === 'wrong-typed') {
        expect(stopped.stderr).toMatch(/runtime record .* was unusable .*kept it as .*runtime\.json\.corrupt-/);
        expect(readdirSync(path.join(run.ws, '.lab')).some((f) => f.startsWith('runtime.json.corrupt-'))).toBe(true);
      }
      if (what === 'the workspace deleted') expect(existsSync(run.ws)).toBe(false); // not recreated by stop
    });
  }

  it('reset <lab> with runtime.json corrupt stops everything and resets progress', async () => {
    const run = await running();
    homes.push(run);
    writeFileSync(path.join(run.ws, '.lab', 'runtime.json'), 'garbage');
    const reset = await run.lab('reset', LAB);
    noStackTrace(reset.stderr + reset.stdout);
    expect(reset.exitCode).toBe(0);
    expect(reset.stdout).toContain('nothing of it is running');
    expectAllGone(run.ws, run.pids);
  });
});

describe('stop and reset with active.json bad', { timeout: 240_000 }, () => {
  const bad: Array<[string, (home: string) => void]> = [
    [
      'hostile (lab "../../etc")',
      (home) =>
        writeFileSync(
          path.join(home, 'active.json'),
          JSON.stringify({ lab: '../../etc', runtime: 'local', since: 'x' }),
        ),
    ],
    [
      'wrong-typed',
      (home) => writeFileSync(path.join(home, 'active.json'), JSON.stringify({ lab: 42, runtime: ['local'] })),
    ],
    [
      'unreadable (a directory)',
      (home) => {
        rmSync(path.join(home, 'active.json'));
        mkdirSync(path.join(home, 'active.json'));
      },
    ],
    ['deleted', (home) => rmSync(path.join(home, 'active.json'))],
  ];
  for (const [what, apply] of bad) {
    it(`${what}: stop still finds and stops the running services of this home`, async () => {
      const run = await running();
      homes.push(run);
      apply(run.home);
      const stopped = await run.lab('stop');
      noStackTrace(stopped.stderr + stopped.stdout);
      expect(stopped.exitCode).toBe(0);
      expect(stopped.stdout).toMatch(new RegExp(`Stopped ${LAB} on the local runtime`));
      expect(stopped.stdout).not.toContain('nothing to stop');
      expectAllGone(run.ws, run.pids);
      if (what !== 'deleted')
        expect(stopped.stderr).toMatch(/active-lab record .* was unusable .*kept it as .*active\.json\.corrupt-/);
      // The lab is usable again at once: no file to remove by hand.
      expect((await run.lab('start', LAB, '--runtime', 'local', '--no-walkthrough')).exitCode).toBe(0);
    });
  }

  it('reset without a lab, active.json hostile: stops what runs, then asks for the lab (exit 2)', async () => {
    const run = await running();
    homes.push(run);
    writeFileSync(
      path.join(run.home, 'active.json'),
      JSON.stringify({ lab: '../../etc', runtime: 'local', since: 'x' }),
    );
    const reset = await run.lab('reset');
    noStackTrace(reset.stderr + reset.stdout);
    expect(reset.exitCode).toBe(2);
    expect(reset.stdout).toMatch(new RegExp(`Stopped ${LAB} on the local runtime`));
    expect(reset.stderr).toContain('lab reset <lab>');
    expectAllGone(run.ws, run.pids);
  });
});

describe('state.json with a step the lab does not have', { timeout: 240_000 }, () => {
  it('is reported with its fix (exit 2, no TypeError), and reset sets it aside', async () => {
    const run = await running();
    homes.push(run);
    const file = path.join(run.ws, '.lab', 'state.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), currentStep: 99 }));
    for (const command of [['status'], ['hint'], ['step'], ['next']]) {
      const result = await run.lab(...command);
      noStackTrace(result.stderr + result.stdout);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/state\.json is corrupt \(currentStep/);
    }
    const reset = await run.lab('reset');
    expect(reset.exitCode).toBe(0);
    expect(reset.stdout).toMatch(/kept it as .*state\.json\.corrupt-/);
    expect((await run.lab('status')).exitCode).toBe(0);
  });
});
