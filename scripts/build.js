#!/usr/bin/env node
// `npm run build` (run by `npm install` and `npm ci` through the `prepare` script): compiles src/, labs/ and
// checks/ to dist/ with tsconfig.build.json, removes compiled files whose source is gone, and stamps the build so
// bin/lab.js can tell a current build from a stale one. `--if-stale` builds only when the stamp says so (the test
// suite's setup uses it). Incremental: an unchanged tree costs a few seconds, a fresh clone about ten.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildProblem, buildTime, distDir, SOURCE_ROOTS, stampFile } from './build-state.js';

const repoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

if (process.argv.includes('--if-stale') && buildProblem(repoDir) === undefined) process.exit(0);

/** Compiled files (x.js from x.ts, x.mjs from x.mts) whose source was deleted or renamed since the last build. */
function removeOrphans() {
  const walk = (dir) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(file);
        continue;
      }
      const source = path.join(repoDir, path.relative(distDir(repoDir), file)).replace(/\.([cm]?)js$/, '.$1ts');
      if (/\.[cm]?js$/.test(entry.name) && !existsSync(source)) rmSync(file);
    }
  };
  for (const root of SOURCE_ROOTS) walk(path.join(distDir(repoDir), root));
}

const startedAt = buildTime(repoDir);
// A failed build leaves no stamp: bin/lab.js then refuses to run a half-written dist/.
rmSync(stampFile(repoDir), { force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(repoDir, 'tsconfig.build.json')], {
  cwd: repoDir,
  stdio: 'inherit',
});
if (result.status !== 0) {
  console.error(
    'The build failed (see the TypeScript errors above): bin/lab.js will not run until `npm run build` succeeds.',
  );
  process.exit(result.status ?? 1);
}
removeOrphans();
writeFileSync(stampFile(repoDir), `${JSON.stringify({ startedAt, node: process.version })}\n`);
