#!/usr/bin/env node
// Runs the compiled runner in dist/ (built by `npm run build`, which `npm install` and `npm ci` run). It refuses a
// build older than the sources instead of running it: after a `git pull` without `npm install`, stale code would
// start stale services and grade the learner's work with stale checks.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProblem } from '../scripts/build-state.js';

const repoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const problem = buildProblem(repoDir);
if (problem) {
  const what =
    problem.kind === 'missing'
      ? 'The lab runner is not built: dist/ has no complete build (`npm install --ignore-scripts` skips it, and a failed build leaves none).'
      : `The lab runner's build in dist/ is older than its sources: ${problem.file} changed after the last build.`;
  process.stderr.write(
    `Error: ${what}\nFix: Run \`npm run build\` in ${repoDir} (\`npm install\` builds too, and also installs changed dependencies), then run the command again.\n`,
  );
  process.exitCode = 2;
} else {
  const { main } = await import('../dist/src/cli/main.js');
  process.exitCode = await main(process.argv);
}
