/** The two helpers every message goes through: errno errors to messages with fixes, and escaping of input. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnvironmentError } from '../../src/core/errors.js';
import { ioErrorToLabError } from '../../src/core/io-errors.js';
import { printable, printableLines } from '../../src/core/printable.js';

const errno = (code: string, syscall: string, file: string) =>
  Object.assign(new Error(`${code}: ${syscall} '${file}'`), { code, syscall, path: file });

describe('errno errors become messages that name the path and a fix', () => {
  it.each([
    'EACCES',
    'EPERM',
    'ENOTDIR',
    'EISDIR',
    'EROFS',
    'ENOSPC',
    'EDQUOT',
    'ENOENT',
    'EEXIST',
    'ENAMETOOLONG',
    'ELOOP',
    'EMFILE',
    'EBUSY',
    'EIO',
  ])('%s', (code) => {
    const error = ioErrorToLabError(errno(code, 'open', '/some/where/state.json'));
    expect(error).toBeInstanceOf(EnvironmentError);
    expect(error!.exitCode).toBe(2);
    expect(error!.message).toContain('/some/where/state.json');
    expect(error!.message).toContain(code);
    expect(error!.fix.length).toBeGreaterThan(20);
  });

  it('names LAB_HOME when it is a file', () => {
    const home = path.join(mkdtempSync(path.join(tmpdir(), 'io-errors-')), 'home');
    writeFileSync(home, 'x');
    const error = ioErrorToLabError(errno('ENOTDIR', 'mkdir', path.join(home, 'lab')), home);
    expect(error!.message).toContain(`LAB_HOME is ${home}, which is a file`);
  });

  it('escapes control characters in the path it names', () => {
    const error = ioErrorToLabError(errno('EACCES', 'open', '/tmp/x\nFix: evil'));
    expect(error!.message).not.toContain('\n');
    expect(error!.fix).not.toContain('\n');
  });

  it('leaves errors without an errno code alone', () => {
    expect(ioErrorToLabError(new Error('plain'))).toBeUndefined();
    expect(ioErrorToLabError('text')).toBeUndefined();
  });
});

describe('printable', () => {
  it('escapes C0, C1, DEL, line separators and bidi overrides, keeps other text', () => {
    expect(printable('a\nb\rc\td\u001b[31me\u0007f\u007fg\u009bh\u2028i\u202ej')).toBe(
      'a\\nb\\rc\\td\\e[31me\\u0007f\\u007fg\\u009bh\\u2028i\\u202ej',
    );
    expect(printable('héllo wörld 日本 ✓')).toBe('héllo wörld 日本 ✓');
  });

  it('shortens absurdly long input when asked', () => {
    expect(printable('x'.repeat(500), 10)).toBe('xxxxxxxxxx… (500 characters)');
  });

  it('keeps the line breaks of multi-line text, escaping within lines', () => {
    expect(printableLines('one\u001b[2J\ntwo')).toBe('one\\e[2J\ntwo');
  });
});
