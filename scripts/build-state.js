// Is dist/ a build of the current sources? Plain JavaScript with no dependencies: bin/lab.js asks this before it
// loads any compiled code, so it must run without a build and cost a few milliseconds.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/** What `npm run build` compiles (tsconfig.build.json's include) and the settings that shape its output. */
export const SOURCE_ROOTS = ['src', 'labs', 'checks'];
const CONFIG_FILES = ['tsconfig.json', 'tsconfig.build.json'];

export const distDir = (repoDir) => path.join(repoDir, 'dist');
/** Written last by a successful build; holds the time the build started (a file edited during it counts as newer). */
export const stampFile = (repoDir) => path.join(distDir(repoDir), '.build-stamp.json');

/** The first source or config file for which `stop(file, mtimeMs)` is true, or undefined. */
function findSource(repoDir, stop) {
  const mtime = (file) => {
    try {
      return statSync(file).mtimeMs;
    } catch {
      return undefined; // an optional config file, or a file deleted meanwhile
    }
  };
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return undefined;
    }
    for (const entry of entries) {
      const file = path.join(dir, entry.name);
      const found = entry.isDirectory()
        ? walk(file)
        : /\.[cm]?ts$/.test(entry.name) && mtime(file) !== undefined && stop(file, mtime(file))
          ? file
          : undefined;
      if (found) return found;
    }
    return undefined;
  };
  for (const file of CONFIG_FILES.map((f) => path.join(repoDir, f))) {
    const m = mtime(file);
    if (m !== undefined && stop(file, m)) return file;
  }
  for (const root of SOURCE_ROOTS) {
    const found = walk(path.join(repoDir, root));
    if (found) return found;
  }
  return undefined;
}

/**
 * The time a build starting now must record: now, or later when a source's mtime lies in the future (files
 * unpacked from a machine whose clock runs ahead) - else that file would make every build look stale forever.
 */
export function buildTime(repoDir) {
  let newest = Date.now();
  findSource(repoDir, (_file, mtimeMs) => {
    newest = Math.max(newest, mtimeMs);
  });
  return newest;
}

/**
 * Why dist/ cannot be run, or undefined when it is a build of the current sources:
 * `{ kind: 'missing' }` (never built, or the last build failed) or `{ kind: 'stale', file }` (a source changed since).
 */
export function buildProblem(repoDir) {
  let startedAt;
  try {
    startedAt = JSON.parse(readFileSync(stampFile(repoDir), 'utf8')).startedAt;
  } catch {
    return { kind: 'missing' };
  }
  if (typeof startedAt !== 'number') return { kind: 'missing' };
  const file = findSource(repoDir, (_file, mtimeMs) => mtimeMs > startedAt);
  return file ? { kind: 'stale', file: path.relative(repoDir, file) } : undefined;
}
