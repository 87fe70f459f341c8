/**
 * CLI start-up: whole-process wall time of `lab --version`, `lab --help` and `lab status` (lab 1 running on the
 * local runtime in a scratch LAB_HOME) against `node -e 0`, measured in the same run, round-robin so that the
 * machine's load falls on every command alike. Prints medians; asserts nothing (goals are for people to read).
 * Usage: npm run bench:cli [-- --runs 21]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/**
 * CPU time (user + system, ms) of the children this process has waited for, from /proc/self/stat (Linux): unlike
 * wall time it hardly moves when other work loads the machine. Undefined elsewhere.
 */
function childrenCpuMs(): number | undefined {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / 100; // cutime, cstime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

function once(args: string[]): { wall: number; cpu?: number } {
  const cpuBefore = childrenCpuMs();
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const cpuAfter = childrenCpuMs();
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}: ${String(result.stderr)}`);
  return { wall, cpu: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
}

const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

const started = spawnSync(process.execPath, [bin, 'start', LAB, '--runtime', 'local', '--no-walkthrough'], {
  env,
  stdio: ['ignore', 'ignore', 'pipe'],
});
try {
  if (started.status !== 0) throw new Error(`lab start failed: ${String(started.stderr)}`);
  const times = commands.map(() => [] as Array<{ wall: number; cpu?: number }>);
  for (const c of commands) once(c.args); // warm the page cache; not counted
  for (let i = 0; i < runs; i++) for (const [j, c] of commands.entries()) times[j]!.push(once(c.args));
  const wall = (j: number, q = 0.5) =>
    quantile(
      times[j]!.map((t) => t.wall),
      q,
    );
  const cpu = (j: number) =>
    times[j]!.every((t) => t.cpu !== undefined)
      ? `, CPU ${quantile(
          times[j]!.map((t) => t.cpu!),
          0.5,
        )
          .toFixed(0)
          .padStart(4)} ms`
      : '';
  console.log(`CLI start-up, Node ${process.version}, median of ${runs} whole-process runs (round-robin)\n`);
  commands.forEach((c, j) => {
    const over = j === 0 ? '' : `  (+${(wall(j) - wall(0)).toFixed(0)} ms over node -e 0)`;
    const goal = c.goal === undefined ? '' : `   goal <= ${c.goal} ms${wall(j) <= c.goal ? '' : ' (missed)'}`;
    console.log(
      `${c.name.padEnd(14)} wall ${wall(j).toFixed(0).padStart(4)} ms (p90 ${wall(j, 0.9).toFixed(0).padStart(4)})${cpu(j)}${over}${goal}`,
    );
  });
} finally {
  spawnSync(process.execPath, [bin, 'stop'], { env, stdio: 'ignore' });
  rmSync(home, { recursive: true, force: true });
}
