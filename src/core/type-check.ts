/**
 * Type-checks a lab's TypeScript workspace files with the TypeScript compiler API, without writing anything:
 * `lab test` proves that every starter and every step's reference compiles (their text rendered in memory), and
 * `lab check` finds a learner's compile errors before any probe runs. The learner's services load through tsx,
 * which strips types without checking them, so without this a type error shows up only as some later symptom.
 *
 * The files are served from a folder that does not exist, inside the repository, so that packages resolve from
 * the repository's node_modules wherever the workspace is ($LAB_HOME); every other file comes from the disk.
 * `typescript` is loaded on the first check only: `lab --help` and most commands never pay for it.
 */
import path from 'node:path';
import { repoDir } from './paths.js';

export interface CompileError {
  /** Workspace-relative path, with forward slashes. */
  file: string;
  line: number;
  column: number;
  /** e.g. TS2355 */
  code: string;
  message: string;
}

/**
 * Parsed files from the disk (TypeScript's libs, @types/node, the packages' declarations), kept for the process:
 * they do not change while it runs, and parsing them is most of a check's time (`lab test` checks ten renderings).
 */
const diskFiles = new Map<string, unknown>();

/** Where the workspace's files appear to the compiler (never created on disk). */
const VIRTUAL_ROOT = path.join(repoDir, '.lab-type-check');

/**
 * The options the learner's code is held to: the repository's strictness (strict mode, Node's ESM resolution,
 * Node's types), minus what would only make a learner's half-written code noisy (unchecked index access).
 */
async function compilerOptions() {
  const ts = (await import('typescript')).default;
  return {
    ts,
    options: {
      target: ts.ScriptTarget.ES2023,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      esModuleInterop: true,
      isolatedModules: true,
      types: ['node'],
      typeRoots: [path.join(repoDir, 'node_modules', '@types')],
    },
  };
}

/**
 * Compile errors of `files` (workspace-relative .ts paths). `read` gives a workspace file's text (undefined when it
 * does not exist); files they import from the workspace are read through it too.
 */
export async function typeCheck(
  files: string[],
  read: (relative: string) => string | undefined,
): Promise<CompileError[]> {
  return (await typeCheckWithInputs(files, read)).errors;
}

/** The errors, and every workspace file the compiler read (the roots and what they import): a cache's key. */
export async function typeCheckWithInputs(
  files: string[],
  read: (relative: string) => string | undefined,
): Promise<{ errors: CompileError[]; inputs: string[] }> {
  if (files.length === 0) return { errors: [], inputs: [] };
  const { ts, options } = await compilerOptions();
  const host = ts.createCompilerHost(options, true);
  const relativeOf = (file: string) => {
    const rel = path.relative(VIRTUAL_ROOT, path.resolve(file));
    return rel.startsWith('..') || path.isAbsolute(rel) ? undefined : rel;
  };
  const inputs = new Set<string>();
  const virtualText = (file: string) => {
    const rel = relativeOf(file);
    if (rel === undefined) return undefined;
    const text = read(rel.split(path.sep).join('/')) ?? null;
    if (text !== null) inputs.add(rel.split(path.sep).join('/'));
    return text;
  };
  const { fileExists, readFile, directoryExists, getSourceFile, realpath } = host;
  host.fileExists = (file) => {
    const text = virtualText(file);
    return text === undefined ? fileExists.call(host, file) : text !== null;
  };
  host.readFile = (file) => {
    const text = virtualText(file);
    return text === undefined ? readFile.call(host, file) : (text ?? undefined);
  };
  host.directoryExists = (dir) =>
    relativeOf(dir) !== undefined
      ? !/(^|[/\\])node_modules([/\\]|$)/.test(dir)
      : (directoryExists?.call(host, dir) ?? true);
  host.realpath = (file) => (relativeOf(file) !== undefined ? file : (realpath?.call(host, file) ?? file));
  host.getSourceFile = (file, language, onError, create) => {
    const text = virtualText(file);
    if (text === undefined) {
      const key = `${file}\0${JSON.stringify(language)}`;
      if (!diskFiles.has(key)) diskFiles.set(key, getSourceFile.call(host, file, language, onError, create));
      return diskFiles.get(key) as ReturnType<typeof getSourceFile>;
    }
    return text === null ? undefined : ts.createSourceFile(file, text, language, true);
  };
  const roots = files.map((f) => path.join(VIRTUAL_ROOT, f));
  const program = ts.createProgram({ rootNames: roots, options, host });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  const errors = diagnostics
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      const where =
        d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : { line: 0, character: 0 };
      const rel = d.file ? relativeOf(d.file.fileName) : undefined;
      return {
        file: rel === undefined ? (d.file?.fileName ?? '(options)') : rel.split(path.sep).join('/'),
        line: where.line + 1,
        column: where.character + 1,
        code: `TS${d.code}`,
        message: ts.flattenDiagnosticMessageText(d.messageText, ' '),
      };
    });
  return { errors, inputs: [...inputs].sort() };
}

/** One line per error, as editors and tsc print them: `file:line:column TS1234 message`. */
export function formatCompileError(e: CompileError): string {
  return `${e.file}:${e.line}:${e.column} ${e.code} ${e.message}`;
}
