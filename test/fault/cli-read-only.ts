import { chmodSync, statSync } from 'node:fs';
import { execaSync } from 'execa';

/**
 * Makes a file or folder unwritable for the user running the tests. Root ignores file modes, so as root the
 * immutable attribute is used instead (it is what gives EPERM on a learner's machine too).
 */
export function makeReadOnly(file: string, undoList: string[]): void {
  if (process.getuid?.() === 0) execaSync('chattr', ['+i', file]);
  else chmodSync(file, statSync(file).isDirectory() ? 0o555 : 0o444);
  undoList.push(file);
}

export function undoReadOnly(file: string): void {
  if (process.getuid?.() === 0) execaSync('chattr', ['-i', file], { reject: false });
  else chmodSync(file, statSync(file).isDirectory() ? 0o755 : 0o644);
}
