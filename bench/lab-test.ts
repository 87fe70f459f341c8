/**
 * `lab test <lab>` with its mutant catalogue, timed end to end, and the self-test's own split (step
 * self-test vs catalogue). Prints figures; asserts nothing. Goal: mcp-integration under 4 min on 2 cores.
 * Usage: node --import tsx bench/lab-test.ts [lab] (default mcp-integration, local runtime)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { repoDir } from '../src/core/paths.js';

const lab = process.argv[2] ?? 'mcp-integration';
const home = mkdtempSync(path.join(tmpdir(), 'lab-bench-test-'));
const started = performance.now();
const result = await execa(process.execPath, [path.join(repoDir, 'bin', 'lab.js'), 'test', lab, '--runtime', 'local'], {
  env: { LAB_HOME: home, NO_COLOR: '1' },
  reject: false,
  stdin: 'ignore',
});
const seconds = (performance.now() - started) / 1000;
rmSync(home, { recursive: true, force: true });
const line = (re: RegExp) => re.exec(result.stdout)?.[0] ?? '(missing)';
console.log(`lab test ${lab}: ${seconds.toFixed(0)} s (goal < 240 s), exit ${result.exitCode}`);
console.log(
  `  ${line(/mutants caught \d+\/\d+/)}, ${line(/variants passed \d+\/\d+/)}, ${line(/catalogue ran in \d+ s/)}`,
);
console.log(
  `  ${availableParallelism()} cores, load average at the end ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
