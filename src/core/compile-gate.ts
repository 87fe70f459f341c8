/**
 * The pre-probe stage of `lab check`: the learner's TypeScript files are type-checked first, and a file that does
 * not compile is the root cause of its step's failures. The checks of the steps that own such a file (the steps
 * with a region in its reference source) are not run; each is reported as blocked by the compile errors, which
 * the report lists as `file:line message` first. The result is cached in .lab/ against the content of every file
 * the compiler read, so an unchanged workspace is not compiled again.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeJsonAtomic } from './atomic-file.js';
import type { CheckResult, PlannedCheck } from './check-engine.js';
import type { LoadedLab } from './lab-catalog.js';
import { repoDir, type WorkspacePaths } from './paths.js';
import { stepsInSource } from './solution-regions.js';
import { formatCompileError, typeCheckWithInputs, type CompileError } from './type-check.js';

export interface CompileGate {
  errors: CompileError[];
  /** Steps whose checks are not run: they own a file that does not compile. */
  blocked: Set<number>;
}

interface Cache {
  version: 1;
  /** Every workspace path the compiler asked for, with its content's sha256 (null: it did not exist). */
  inputs: Record<string, string | null>;
  errors: CompileError[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The lab's TypeScript workspace files (those that have a reference source). */
export function typeScriptFiles(lab: LoadedLab): Array<{ path: string; source: string }> {
  return lab.definition.files.filter((f) => f.path.endsWith('.ts'));
}

function readWorkspace(dir: string, asked: Record<string, string | null>) {
  return (relative: string): string | undefined => {
    const file = path.resolve(dir, relative);
    const rel = path.relative(dir, file);
    // Only the workspace itself: the runner's own folders are not learner code.
    const inside = !rel.startsWith('..') && !path.isAbsolute(rel) && !/^(\.lab|node_modules)([/\\]|$)/.test(rel);
    const text = inside && existsSync(file) && statSync(file).isFile() ? readFileSync(file, 'utf8') : undefined;
    asked[relative] = text === undefined ? null : sha256(text);
    return text;
  };
}

function readCache(file: string): Cache | undefined {
  try {
    const cache = JSON.parse(readFileSync(file, 'utf8')) as Cache;
    return cache.version === 1 && typeof cache.inputs === 'object' && Array.isArray(cache.errors) ? cache : undefined;
  } catch {
    return undefined;
  }
}

async function compileErrors(lab: LoadedLab, paths: WorkspacePaths): Promise<CompileError[]> {
  const files = typeScriptFiles(lab).map((f) => f.path);
  if (files.length === 0) return [];
  const cacheFile = path.join(paths.meta, 'type-check.json');
  const cached = readCache(cacheFile);
  if (cached) {
    const now: Record<string, string | null> = {};
    const read = readWorkspace(paths.dir, now);
    // Valid when every root and every file the last compile asked for is as it was then.
    if (
      files.every((f) => f in cached.inputs) &&
      Object.keys(cached.inputs).every((f) => {
        read(f);
        return now[f] === cached.inputs[f];
      })
    )
      return cached.errors;
  }
  const asked: Record<string, string | null> = {};
  const { errors } = await typeCheckWithInputs(files, readWorkspace(paths.dir, asked));
  try {
    writeJsonAtomic(cacheFile, { version: 1, inputs: asked, errors } satisfies Cache);
  } catch {
    // A cache that cannot be written only costs the next check a compile.
  }
  return errors;
}

/** The steps that own `file`: those with a region in its reference source; a file of the learner's own: all. */
function owningSteps(lab: LoadedLab, file: string): number[] {
  const own = typeScriptFiles(lab).find((f) => f.path === file);
  const sources = own ? [own] : typeScriptFiles(lab);
  return sources.flatMap((f) => [...stepsInSource(readFileSync(path.join(repoDir, f.source), 'utf8'))]);
}

export async function compileGate(lab: LoadedLab, paths: WorkspacePaths): Promise<CompileGate> {
  const errors = await compileErrors(lab, paths);
  return { errors, blocked: new Set(errors.flatMap((e) => owningSteps(lab, e.file))) };
}

/** The result of a check that was not run because its step's code does not compile. */
export function blockedResult(
  { step, stepId, check }: PlannedCheck,
  lab: LoadedLab,
  errors: CompileError[],
): CheckResult {
  const own = errors.filter((e) => owningSteps(lab, e.file).includes(step));
  const files = [...new Set(own.map((e) => e.file))];
  return {
    id: check.id,
    title: check.title,
    step,
    stepId,
    status: 'fail',
    durationMs: 0,
    message: `Not run: ${files.join(' and ')} ${files.length > 1 ? 'do' : 'does'} not compile (${formatCompileError(own[0]!).replace(/\.$/, '')}${own.length > 1 ? `, and ${own.length - 1} more` : ''}). That is the root cause: this check would only report a symptom of it.`,
    fix: 'Fix the compile errors listed above (file:line:column, as your editor shows them), then run `npx lab check` again.',
    details: { rootCause: ['typescript'], compileErrors: own.map(formatCompileError) },
  };
}
