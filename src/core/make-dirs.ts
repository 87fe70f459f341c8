import { mkdirSync, type Stats, statSync } from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from './errors.js';
import { printable } from './printable.js';

/**
 * `mkdir -p`, one level at a time. Node's own recursive mkdir loops forever on some pseudo file systems
 * (`/proc/x` answers ENOENT, which it takes for a missing parent); here every failure is an errno error that
 * names its path (src/core/io-errors.ts turns it into a message and a fix).
 */
export function makeDirs(dir: string, mode?: number): void {
  const missing: string[] = [];
  let at = path.resolve(dir);
  while (statSync(at, { throwIfNoEntry: false }) === undefined) {
    missing.unshift(at);
    const up = path.dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const level of missing) mkdirSync(level, mode === undefined ? undefined : { mode });
}

/** LAB_HOME must be a folder (created when missing); a file there gets a message naming the variable. */
export function ensureLabHome(home: string): void {
  assertHomeIsFolder(home);
  try {
    makeDirs(home);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new EnvironmentError(
      `LAB_HOME is ${printable(home)}, and that folder cannot be created (${code} at ${printable((error as NodeJS.ErrnoException).path ?? home)}).`,
      SET_HOME,
      { cause: error },
    );
  }
}

const SET_HOME =
  'Set LAB_HOME to a folder you can write to (it is created when missing), or unset it to keep workspaces in the course repository.';

/** A file (or a path through a file) where LAB_HOME should be a folder. A missing home is fine: start creates it. */
export function assertHomeIsFolder(home: string): void {
  let stat: Stats | undefined;
  try {
    stat = statSync(home, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTDIR') throw error;
    throw new EnvironmentError(`LAB_HOME is ${printable(home)}, a path through a file, not a folder.`, SET_HOME, {
      cause: error,
    });
  }
  if (stat && !stat.isDirectory())
    throw new EnvironmentError(`LAB_HOME is ${printable(home)}, which is a file, not a folder.`, SET_HOME);
}
