/**
 * CLI start-up: whole-process wall time of `lab --version`, `lab --help` and `lab status` (lab 1 running on the
 * local runtime in a scratch LAB_HOME) against `node -e 0`, measured in the same run, round-robin so that the
 * machine's load falls on every command alike. Prints medians; asserts nothing (goals are for people to read).
 * Usage: npm run bench:cli [-- --runs 21]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoDir } from '../src/core/paths.js';

const runs = process.argv.includes('--runs') ? Number(process.argv[process.argv.indexOf('--runs') + 1]) : 21;
const LAB = 'mcp-integration';
const bin = path.join(repoDir, 'bin', 'lab.js');
const home = mkdtempSync(path.join(tmpdir(), 'lab-bench-cli-'));
const env = { ...process.env, LAB_HOME: home, NO_COLOR: '1' };

// The figures are for the build the CLI runs: make sure it is the current one.
execFileSync(process.execPath, [path.join(repoDir, 'scripts', 'build.js'), '--if-stale'], { stdio: 'inherit' });

const commands: Array<{ name: string; args: string[]; goal?: number }> = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'lab --version', args: [bin, '--version'], goal: 150 },
  { name: 'lab --help', args: [bin, '--help'] },
  { name: 'lab status', args: [bin, 'status'], goal: 300 },
];

function once(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${String(result.stderr)}`);
  return elapsed;
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const started = spawnSync(process.execPath, [bin, 'start', LAB, '--runtime', 'local', '--no-walkthrough'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
try {
  if (started.status !== 0) throw new Error(`lab start failed: ${String(started.stderr)}`);
  const times = commands.map(() => [] as number[]);
  for (const c of commands) once(c.args); // warm the page cache; not counted
  for (let i = 0; i < runs; i++) commands.forEach((c, j) => times[j]!.push(once(c.args)));
  const base = quantile(times[0]!, 0.5);
  console.log(`CLI start-up, Node ${process.version}, median of ${runs} whole-process runs (round-robin)\n`);
  commands.forEach((c, j) => {
    const median = quantile(times[j]!, 0.5);
    const over = j === 0 ? '' : `  (+${(median - base).toFixed(0)} ms over node -e 0)`;
    const goal = c.goal === undefined ? '' : `   goal <= ${c.goal} ms${median <= c.goal ? '' : ' (missed)'}`;
    console.log(`${c.name.padEnd(14)} median ${median.toFixed(0).padStart(4)} ms, p90 ${quantile(times[j]!, 0.9).toFixed(0).padStart(4)} ms${over}${goal}`);
  });
} finally {
  spawnSync(process.execPath, [bin, 'stop'], { env, stdio: 'ignore' });
  rmSync(home, { recursive: true, force: true });
}
