/**
 * The runner runs compiled JavaScript (dist/, made by `npm run build`) yet names its modules by their TypeScript
 * sources everywhere: lab definitions' `repo:` entries, compose commands, labs/<id>/lab.ts. This module maps a
 * source to the file that runs, and imports the TypeScript that is never compiled: the learner's workspace files.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { codeDir, repoDir, runsCompiled } from './paths.js';

/** The folders `npm run build` compiles (tsconfig.build.json's include): each .ts there has a .js twin in dist/. */
const COMPILED_ROOTS = ['src', 'labs', 'checks'];

export const isTypeScript = (file: string): boolean => /\.[cm]?ts$/.test(file);

/**
 * The file that runs for a module of this repository, given by its source path (absolute, or relative to the
 * repository): its compiled twin when this process runs compiled, else the source. Anything outside the compiled
 * folders (a learner's workspace, even one under <repo>/workspace) is returned as it is.
 */
export function runnableFile(sourceFile: string): string {
  const file = path.resolve(repoDir, sourceFile);
  const rel = path.relative(repoDir, file);
  if (!runsCompiled || !isTypeScript(rel) || !COMPILED_ROOTS.includes(rel.split(path.sep)[0]!)) return file;
  return path.join(codeDir, rel.replace(/\.([cm]?)ts$/, '.$1js'));
}

let typeScriptLoader: Promise<void> | undefined;

/**
 * Imports a module by path; a TypeScript one (the learner's code) through tsx. Compiled processes run under plain
 * node, so tsx's loader is registered on the first TypeScript import only: services and commands that never load
 * learner code never pay for it. From sources a loader is already active (tsx, vitest).
 * `query` is appended to the URL (a cache-busting version, for modules re-read after an edit).
 */
export async function importModule<T>(file: string, query = ''): Promise<T> {
  if (runsCompiled && isTypeScript(file)) {
    typeScriptLoader ??= import('tsx/esm/api').then((tsx) => void tsx.register());
    await typeScriptLoader;
  }
  return (await import(pathToFileURL(file).href + query)) as T;
}
