/**
 * A file the user names for a report (`lab check --junit FILE`): checked before any work, so a bad target fails
 * fast and never half-way, and never replaces something that is not a report. Refused: folders, anything that
 * is not a regular file (devices, FIFOs, /proc), a folder that does not exist (it is never created: creating
 * folders under /proc hangs Node), unwritable places, the runner's own files (any workspace's .lab/, the home's
 * active.json and backups), and existing files that are not an earlier report of the same kind.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fsyncSync,
  openSync,
  readSync,
  realpathSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { UsageError } from './errors.js';
import { ioErrorToLabError } from './io-errors.js';
import { printable } from './printable.js';

export interface ReportKind {
  /** The option, for messages: `--junit`. */
  option: string;
  /** What it writes, for messages, and a file name to suggest. */
  noun: string;
  example: string;
  /** Whether the first bytes of an existing file show it is an earlier report (safe to replace). */
  isReport(head: string): boolean;
}

export const junitReport: ReportKind = {
  option: '--junit',
  noun: 'report',
  example: 'report.xml',
  isReport: (head) => /^\s*(<\?xml[^>]*>\s*)?<testsuites?[\s>]/.test(head),
};

/** `lab images save FILE`: a tar archive (the "ustar" magic of its first header) may be replaced. */
export const imageTarball: ReportKind = {
  option: 'images save',
  noun: 'image tarball',
  example: 'lab-images.tar',
  isReport: (head) => head.slice(257, 262) === 'ustar',
};

/** A file to read (`lab images load FILE`): it must exist and be a regular file. */
export function checkInputFile(file: string, what: string): string {
  const target = path.resolve(file);
  const stat = statOrUndefined(target);
  if (!stat)
    throw new UsageError(`${what} ${printable(file)}: no such file.`, 'Name the tarball written by `lab images save`.');
  if (!stat.isFile())
    throw new UsageError(
      `${what} ${printable(file)}: not a regular file.`,
      'Name the tarball written by `lab images save`.',
    );
  return target;
}

/** The absolute path to write, or a UsageError saying why not. `home` is LAB_HOME. */
export function checkReportTarget(file: string, home: string, kind: ReportKind): string {
  const shown = printable(file);
  const refuse = (problem: string, fix: string) => new UsageError(`${kind.option} ${shown}: ${problem}`, fix);
  if (file.trim() === '' || file.endsWith('/') || file.endsWith(path.sep))
    throw refuse('names a folder, not a file.', `Name a file, e.g. \`${kind.option} ${kind.example}\`.`);
  const target = path.resolve(file);
  const parent = path.dirname(target);
  let parentStat: Stats;
  try {
    parentStat = statSync(parent);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw refuse(
        `the folder ${printable(parent)} does not exist.`,
        `Create it first (\`mkdir -p ${printable(parent)}\`) or name a file in an existing folder.`,
      );
    if (code === 'ENOTDIR')
      throw refuse(`a part of ${printable(parent)} is a file, not a folder.`, 'Name a file in an existing folder.');
    throw ioErrorToLabError(error, home) ?? error;
  }
  if (!parentStat.isDirectory())
    throw refuse(`${printable(parent)} is not a folder.`, 'Name a file in an existing folder.');
  const real = path.join(realpathSync(parent), path.basename(target));
  const existing = statOrUndefined(target);
  if (existing?.isDirectory())
    throw refuse(
      'is a folder.',
      `Name a file inside it, e.g. \`${kind.option} ${printable(path.join(file, kind.example))}\`.`,
    );
  if (existing && !existing.isFile())
    throw refuse('is not a regular file (a device, pipe or system file).', 'Name an ordinary file.');
  for (const candidate of new Set([real, existing ? realpathSync(target) : real])) {
    if (isRunnerFile(candidate, home))
      throw refuse(
        "is one of the lab runner's own files (progress, state, logs, secrets).",
        `Write the ${kind.noun} outside the workspace's .lab folder, e.g. \`${kind.option} ${kind.example}\`.`,
      );
  }
  if (existing && existing.size > 0 && !kind.isReport(readHead(target))) {
    throw refuse(
      `already exists and is not an earlier ${kind.noun}; it is not replaced.`,
      'Name a new file, or move that one away first.',
    );
  }
  try {
    // The true test (root ignores modes, not immutable files or read-only mounts): create the temporary file.
    if (existing) accessSync(target, constants.W_OK);
    closeSync(openSync(tempFile(target), 'wx', 0o644));
  } catch (error) {
    throw refuse(
      `cannot be written (${(error as NodeJS.ErrnoException).code ?? 'denied'}).`,
      'Name a file in a folder you can write to, e.g. in the current folder.',
    );
  } finally {
    rmSync(tempFile(target), { force: true });
  }
  return target;
}

/** Writes through a temporary file beside the target and renames it over; the temporary file never stays. */
export function writeReport(target: string, content: string): void {
  const tmp = tempFile(target);
  try {
    const fd = openSync(tmp, 'wx', 0o644);
    try {
      writeSync(fd, content);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, target);
  } finally {
    rmSync(tmp, { force: true });
  }
}

const tempFile = (target: string) => path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.tmp`);

/** Anything under <home>/<lab>/.lab/, the home's own records (active.json, .backups) or the home itself. */
function isRunnerFile(file: string, home: string): boolean {
  const homes = new Set([path.resolve(home)]);
  if (existsSync(home)) homes.add(realpathSync(home));
  for (const h of homes) {
    const rel = path.relative(h, file);
    if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) continue;
    const parts = rel.split(path.sep);
    if (parts[0] === 'active.json' || parts[0]!.startsWith('.') || parts[1] === '.lab') return true;
  }
  // A workspace's .lab seen through any other path (a symlinked home, a workspace of another home).
  const parts = file.split(path.sep);
  return parts.some(
    (part, i) =>
      part === '.lab' &&
      i < parts.length - 1 &&
      ['state.json', 'runtime.json'].some((f) =>
        existsSync(path.join(parts.slice(0, i + 1).join(path.sep) || path.sep, f)),
      ),
  );
}

function statOrUndefined(file: string) {
  return statSync(file, { throwIfNoEntry: false });
}

function readHead(file: string): string {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(512);
    return buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, 0)).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
