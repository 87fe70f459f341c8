/**
 * A single step's `lab check N` in lab 2, once its services are ready: the learner's loop (edit, check one step).
 * Solves the lab in a scratch home on Docker, runs one whole `lab check` (services up to date, SVIDs issued),
 * then times `lab check N --json` for each step, whole process wall time, median of --runs (default 5). Also
 * prints the checks' own time (the report's durationMs) and the slowest check, so the rest (Node start, loading,
 * the type-check, bringing the services up to date, applying spire/entries.ts) is visible. Goal: <= 5 s.
 * Prints figures; asserts nothing. Needs Docker, compose and the built images.
 * Usage: node --import tsx bench/lab2-step-check.ts [--runs 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { repoDir } from '../src/core/paths.js';

const LAB = 'secure-agents';
const GOAL_MS = 5_000;
const runs = process.argv.includes('--runs') ? Number(process.argv[process.argv.indexOf('--runs') + 1]) : 5;
const home = mkdtempSync(path.join(tmpdir(), 'lab-bench-step-'));
const lab = (...args: string[]) =>
  execa(process.execPath, [path.join(repoDir, 'bin', 'lab.js'), ...args], {
    env: { LAB_HOME: home, NO_COLOR: '1' },
    reject: false,
    stdin: 'ignore',
  });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

interface Report {
  durationMs: number;
  verdict: string;
  steps: Array<{ number: number; checks: Array<{ id: string; status: string; durationMs: number }> }>;
}

try {
  const started = await lab('start', LAB, '--no-walkthrough');
  if (started.exitCode !== 0) throw new Error(`lab start failed:\n${started.stdout}\n${started.stderr}`);
  for (let step = 1; step <= 4; step++) {
    const solved = await lab('solve', String(step), '--yes');
    if (solved.exitCode !== 0) throw new Error(`lab solve ${step} failed:\n${solved.stderr}`);
  }
  // The whole check restarts what the solutions changed and waits for every SVID: afterwards the services are ready.
  const whole = await lab('check', '--no-walkthrough');
  if (whole.exitCode !== 0) throw new Error(`the solved lab does not pass:\n${whole.stdout}`);

  console.log(`lab check N of the solved ${LAB}, services ready: whole process wall time, median of ${runs}`);
  console.log('step | wall median (min-max) | checks only (median) | slowest check | goal 5 s');
  for (let step = 1; step <= 4; step++) {
    const walls: number[] = [];
    const checks: number[] = [];
    let slowest = { id: '', durationMs: 0 };
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      const run = await lab('check', String(step), '--json');
      walls.push(performance.now() - t);
      const report = JSON.parse(run.stdout) as Report;
      if (report.verdict !== 'pass') throw new Error(`step ${step} did not pass: ${run.stdout}`);
      checks.push(report.durationMs);
      for (const check of report.steps.flatMap((s) => s.checks))
        if (check.durationMs > slowest.durationMs) slowest = check;
    }
    const wall = median(walls);
    console.log(
      `${step}    | ${seconds(wall)} (${seconds(Math.min(...walls))}-${seconds(Math.max(...walls))}) | ${seconds(median(checks))} | ${slowest.id} ${seconds(slowest.durationMs)} | ${wall <= GOAL_MS ? 'met' : 'missed'}`,
    );
  }
} finally {
  await lab('reset', '--yes');
  rmSync(home, { recursive: true, force: true });
}
