/**
 * A small, strict unified-diff reader and applier for the mutant catalogue. Strict on purpose: a hunk whose
 * context or removed lines do not match the file exactly is an error (no fuzz), so a mutant that drifted away
 * from the reference solution is reported instead of silently testing something else.
 */
export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** Each line with its marker: ' ' context, '-' removed, '+' added. */
  lines: Array<{ op: ' ' | '-' | '+'; text: string }>;
}

export interface FilePatch {
  /** Workspace-relative path of the file before (undefined: the patch creates it). */
  oldPath?: string;
  /** Workspace-relative path after (undefined: the patch deletes it). */
  newPath?: string;
  hunks: Hunk[];
}

export class PatchError extends Error {}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@/;

function patchPath(raw: string, prefix: 'a/' | 'b/'): string | undefined {
  const name = raw.split('\t')[0]!.trim();
  if (name === '/dev/null') return undefined;
  if (!name.startsWith(prefix))
    throw new PatchError(`path "${name}" must start with ${prefix} (write the diff with paths a/<file> and b/<file>)`);
  const rel = name.slice(prefix.length);
  if (rel === '' || rel.startsWith('/') || rel.split('/').some((part) => part === '..' || part === '')) {
    throw new PatchError(`path "${name}" must stay inside the workspace`);
  }
  return rel;
}

/** Parses `diff -u` / `git diff --no-index` output (git's `diff --git` and `index` lines are skipped). */
export function parseUnifiedDiff(text: string): FilePatch[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n');
  const files: FilePatch[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!line.startsWith('--- ')) {
      if (
        line.trim() !== '' &&
        !/^(diff |index |new file mode|deleted file mode|similarity |rename |old mode|new mode)/.test(line)
      ) {
        throw new PatchError(
          `line ${i + 1}: expected a "--- a/<file>" header, found ${JSON.stringify(line.slice(0, 60))}`,
        );
      }
      i++;
      continue;
    }
    const plus = lines[i + 1];
    if (!plus?.startsWith('+++ ')) throw new PatchError(`line ${i + 2}: "+++ b/<file>" must follow "---"`);
    const file: FilePatch = {
      oldPath: patchPath(line.slice(4), 'a/'),
      newPath: patchPath(plus.slice(4), 'b/'),
      hunks: [],
    };
    if (!file.oldPath && !file.newPath) throw new PatchError(`line ${i + 1}: both sides are /dev/null`);
    i += 2;
    while (i < lines.length && HUNK.test(lines[i]!)) {
      const m = HUNK.exec(lines[i]!)!;
      const hunk: Hunk = {
        oldStart: Number(m[1]),
        oldLines: m[2] === undefined ? 1 : Number(m[2]),
        newStart: Number(m[3]),
        newLines: m[4] === undefined ? 1 : Number(m[4]),
        lines: [],
      };
      const headerLine = i + 1;
      i++;
      let olds = 0;
      let news = 0;
      while (olds < hunk.oldLines || news < hunk.newLines) {
        const body = lines[i];
        if (body === undefined)
          throw new PatchError(
            `hunk at line ${headerLine} ends early: expected ${hunk.oldLines} old and ${hunk.newLines} new lines`,
          );
        if (body.startsWith('\\')) {
          i++;
          continue;
        }
        // An empty line inside a hunk is a context line whose trailing space was trimmed by an editor.
        const op = (body === '' ? ' ' : body[0]) as ' ' | '-' | '+';
        if (op !== ' ' && op !== '-' && op !== '+')
          throw new PatchError(`line ${i + 1}: hunk line must start with " ", "-" or "+"`);
        hunk.lines.push({ op, text: body.slice(1) });
        if (op !== '+') olds++;
        if (op !== '-') news++;
        i++;
      }
      if (olds !== hunk.oldLines || news !== hunk.newLines)
        throw new PatchError(`hunk at line ${headerLine}: its line counts do not match its header`);
      while (lines[i]?.startsWith('\\')) i++;
      file.hunks.push(hunk);
    }
    if (file.hunks.length === 0) throw new PatchError(`the diff of ${file.newPath ?? file.oldPath} has no hunk`);
    files.push(file);
  }
  if (files.length === 0) throw new PatchError('the patch holds no diff');
  return files;
}

/** Applies one file's hunks to its content (undefined: the file does not exist); throws PatchError naming the hunk that does not fit. */
export function applyFilePatch(content: string | undefined, patch: FilePatch): string | undefined {
  const name = patch.newPath ?? patch.oldPath!;
  if (patch.oldPath && content === undefined)
    throw new PatchError(`${name}: the file does not exist in the solved workspace`);
  if (!patch.oldPath && content !== undefined)
    throw new PatchError(`${name}: the patch creates it, but it already exists`);
  const source = content === undefined ? [] : content.split('\n');
  const out: string[] = [];
  let cursor = 0;
  for (const [n, hunk] of patch.hunks.entries()) {
    const expected = hunk.lines.filter((l) => l.op !== '+').map((l) => l.text);
    const at = hunk.oldLines === 0 ? hunk.oldStart : hunk.oldStart - 1;
    const matches = expected.every((text, k) => source[at + k] === text);
    if (at < cursor || !matches) {
      const firstDiff = expected.findIndex((text, k) => source[at + k] !== text);
      const where = at + Math.max(firstDiff, 0);
      throw new PatchError(
        `${name}: hunk ${n + 1} (@@ -${hunk.oldStart},${hunk.oldLines}) does not match the solved file at line ${where + 1}: expected ${JSON.stringify(expected[Math.max(firstDiff, 0)] ?? '')}, found ${JSON.stringify(source[where] ?? '<end of file>')}`,
      );
    }
    out.push(...source.slice(cursor, at));
    out.push(...hunk.lines.filter((l) => l.op !== '-').map((l) => l.text));
    cursor = at + expected.length;
  }
  out.push(...source.slice(cursor));
  if (!patch.newPath) return undefined;
  // A created file ends with a newline like any file the diff was made from.
  if (content === undefined && out.at(-1) !== '') out.push('');
  return out.join('\n');
}
