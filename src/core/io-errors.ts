/**
 * Operating-system errors (Node's errno errors: EACCES, ENOTDIR, ...) become EnvironmentErrors here, in one
 * place, so that no I/O failure anywhere ends in a stack trace: the learner reads which path, what is wrong
 * with it and how to fix it. The entry point calls this for every error that is not already a LabError.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from './errors.js';
import { printable } from './printable.js';

function isErrnoError(error: unknown): error is NodeJS.ErrnoException & { code: string } {
  return (
    error instanceof Error &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z0-9]+$/.test((error as NodeJS.ErrnoException).code!)
  );
}

const DOING: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the folder',
  rename: 'replace',
  unlink: 'remove',
  rmdir: 'remove the folder',
  rm: 'remove',
  scandir: 'list',
  symlink: 'create the link',
  copyfile: 'copy',
  cp: 'copy',
  chmod: 'change the mode of',
  access: 'use',
  stat: 'look at',
  lstat: 'look at',
  spawn: 'run',
  watch: 'watch',
  connect: 'connect to',
};

/** The EnvironmentError for an errno error, or undefined when the error is not one. `home` is LAB_HOME. */
export function ioErrorToLabError(error: unknown, home?: string): EnvironmentError | undefined {
  if (!isErrnoError(error)) return undefined;
  const { code } = error;
  const net = error as { dest?: string; address?: string; port?: number };
  const target =
    error.path ?? net.dest ?? (net.address ? `${net.address}${net.port ? `:${net.port}` : ''}` : undefined);
  const where = target ? printable(target) : 'a file';
  const doing = `${DOING[error.syscall ?? ''] ?? error.syscall ?? 'use'} ${where}`;
  const homeHint = home ? ` (LAB_HOME is ${printable(home)})` : '';
  const cause = { cause: error };
  if (code === 'ENOTDIR' && home && isFile(home)) {
    return new EnvironmentError(
      `LAB_HOME is ${printable(home)}, which is a file, not a folder (ENOTDIR while trying to ${doing}).`,
      'Set LAB_HOME to a folder (it is created when missing), or unset it to keep workspaces in the course repository.',
      cause,
    );
  }
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new EnvironmentError(
        `Permission denied: could not ${doing} (${code}).`,
        `Make it writable for your user: \`ls -ld ${where}\` shows its owner and mode; \`chmod u+w\` (or \`chattr -i\` when it is immutable) fixes it. Or set LAB_HOME to a folder you own${homeHint}.`,
        cause,
      );
    case 'EROFS':
      return new EnvironmentError(
        `Could not ${doing}: it is on a read-only file system (EROFS).`,
        `Keep the workspaces on a writable disk: set LAB_HOME to a folder there${homeHint}.`,
        cause,
      );
    case 'ENOTDIR':
      return new EnvironmentError(
        `Could not ${doing}: a part of that path is a file, not a folder (ENOTDIR).`,
        `Move that file out of the way, or set LAB_HOME to a folder${homeHint}.`,
        cause,
      );
    case 'EISDIR':
      return new EnvironmentError(
        `Could not ${doing}: it is a folder where a file belongs (EISDIR).`,
        'Move the folder away (or name a file, not a folder), then run the command again.',
        cause,
      );
    case 'ENOSPC':
    case 'EDQUOT':
      return new EnvironmentError(
        `Could not ${doing}: the disk (or your quota) is full (${code}).`,
        '`df -h` shows which disk; free some space (`docker system prune` often helps), then run the command again.',
        cause,
      );
    case 'ENOENT':
      return new EnvironmentError(
        `Could not ${doing}: it does not exist (ENOENT).`,
        "If it is part of a workspace, `lab start <lab>` recreates the runner's files; otherwise check the path.",
        cause,
      );
    case 'EEXIST':
      return new EnvironmentError(
        `Could not ${doing}: something already exists there (EEXIST).`,
        'Move it out of the way, then run the command again.',
        cause,
      );
    case 'ENAMETOOLONG':
      return new EnvironmentError(
        `Could not ${doing}: the path is too long (ENAMETOOLONG).`,
        `Use a shorter path: shorter names, or a LAB_HOME nearer the root${homeHint}.`,
        cause,
      );
    case 'ELOOP':
      return new EnvironmentError(
        `Could not ${doing}: its symbolic links form a loop (ELOOP).`,
        'Replace the looping link with a real file or folder.',
        cause,
      );
    case 'EMFILE':
    case 'ENFILE':
      return new EnvironmentError(
        `Could not ${doing}: too many open files (${code}).`,
        'Raise the limit (`ulimit -n 4096`) or close other programs, then run the command again.',
        cause,
      );
    case 'EPIPE':
    case 'ECONNRESET':
      return new EnvironmentError(
        `The other end closed while writing to ${where} (${code}).`,
        'Run the command again.',
        cause,
      );
    default:
      return new EnvironmentError(
        `Could not ${doing}: ${printable(error.message)}.`,
        'Check the path and its permissions, then run the command again; `lab doctor` checks the machine.',
        cause,
      );
  }
}

function isFile(file: string): boolean {
  try {
    return !statSync(path.resolve(file)).isDirectory();
  } catch {
    return false;
  }
}
