/**
 * Makes `npx lab` inside a workspace run this runner, never a registry package.
 *
 * npm 11's `npm exec` (libnpmexec) resolves a bare command in this order: a `bin` of that name in the package
 * at the local prefix (the nearest folder with a package.json or a node_modules), then
 * `<folder>/node_modules/.bin/<name>` walking up from that prefix, then the global bin folder, and only then
 * the registry, which it installs from without asking when there is no TTY. A workspace with a package.json or
 * node_modules of its own is such a prefix, so it must hold `node_modules/.bin/lab` itself: then the registry
 * is never consulted, online or offline.
 *
 * Learner code must still resolve the SDK, zod and jose. Inside the clone Node finds them by walking up to the
 * repository's node_modules. A workspace elsewhere ($LAB_HOME) gets a package.json (ESM) and a node_modules
 * folder with one link per package of the repository's node_modules. (Older runners linked node_modules as a
 * whole to the repository's; that left no place for `.bin/lab`, and is replaced here.)
 */
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { repoDir } from './paths.js';

/** The runner's entry point, as npm's bin field names it. */
const runnerEntry = path.join(repoDir, 'bin', 'lab.js');

export function linkWorkspaceModules(dir: string, outsideClone: boolean): void {
  const modules = path.join(dir, 'node_modules');
  if (outsideClone) {
    const manifest = path.join(dir, 'package.json');
    if (!existsSync(manifest))
      writeFileSync(manifest, `${JSON.stringify({ private: true, type: 'module' }, null, 2)}\n`);
  }
  if (isSymlink(modules)) unlinkSync(modules);
  mkdirSync(path.join(modules, '.bin'), { recursive: true });
  writeIfChanged(path.join(modules, '.bin', 'lab'), runnerScript(runnerEntry), 0o755);
  if (outsideClone) linkPackages(modules, path.join(repoDir, 'node_modules'));
}

/**
 * A shell script rather than a symlink: npm only sees a bin that exists, so a dangling link (the clone moved)
 * would send npx to the registry again; the script instead says what happened.
 */
export function runnerScript(entry: string): string {
  const quoted = `'${entry.replaceAll("'", `'\\''`)}'`;
  return [
    '#!/bin/sh',
    '# Written by the lab runner: `npx lab` in this workspace runs the course runner, never a registry package.',
    `runner=${quoted}`,
    'if [ ! -f "$runner" ]; then',
    '  echo "Error: the lab runner that made this workspace is no longer at $runner." >&2',
    '  echo "Fix: run \\`node <your clone>/bin/lab.js start <lab>\\` from the course repository; it links this workspace to it again." >&2',
    '  exit 2',
    'fi',
    'exec node "$runner" "$@"',
    '',
  ].join('\n');
}

/** One link per package; links to packages the repository no longer has are removed, learner installs kept. */
function linkPackages(modules: string, source: string): void {
  const wanted = new Set(existsSync(source) ? readdirSync(source).filter((name) => !name.startsWith('.')) : []);
  for (const name of readdirSync(modules)) {
    const link = path.join(modules, name);
    if (name.startsWith('.') || !isSymlink(link)) continue;
    const target = path.resolve(modules, readlinkSync(link));
    if (path.dirname(target) === source && !wanted.has(name)) unlinkSync(link);
  }
  for (const name of wanted) {
    const link = path.join(modules, name);
    if (isSymlink(link) || existsSync(link)) continue;
    symlinkSync(path.join(source, name), link, 'dir');
  }
}

function writeIfChanged(file: string, content: string, mode: number): void {
  if (existsSync(file) && !isSymlink(file) && readFileSync(file, 'utf8') === content) {
    chmodSync(file, mode);
    return;
  }
  rmSync(file, { force: true });
  writeFileSync(file, content, { mode });
  chmodSync(file, mode);
}

function isSymlink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
