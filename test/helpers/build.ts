import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { repoDir } from '../../src/core/paths.js';

/**
 * Vitest global setup. Tests import the TypeScript sources directly, but the CLI they spawn (bin/lab.js) and the
 * services it starts run the compiled build in dist/. So the suite first brings dist/ up to date with the sources:
 * `scripts/build.js --if-stale` compiles only when a source is newer than the last build (incremental: seconds).
 * This covers `npm test` and single files (`npx vitest run test/e2e/...`) alike; and bin/lab.js refuses a stale
 * build on its own, so no test can pass against stale output.
 */
export default function buildIfStale(): void {
  execFileSync(process.execPath, [path.join(repoDir, 'scripts', 'build.js'), '--if-stale'], { stdio: 'inherit' });
}
