import { mkdtempSync, readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadAllLabs } from '../../src/core/lab-catalog.js';
import { judge, loadCatalogue, parseEntry, unknownChecks } from '../../src/core/mutant-catalogue.js';
import { applyFilePatch, parseUnifiedDiff, PatchError } from '../../src/core/mutant-patch.js';
import { applyEntry } from '../../src/core/mutant-runner.js';
import { repoDir } from '../../src/core/paths.js';
import { renderRegions } from '../../src/core/solution-regions.js';

const original = ['one', 'two', 'three', 'four', 'five', ''].join('\n');
const diff = [
  '--- a/dir/file.ts',
  '+++ b/dir/file.ts',
  '@@ -2,3 +2,3 @@',
  ' two',
  '-three',
  '+THREE',
  ' four',
  '',
].join('\n');
const entryText = (header: string, body = diff) => `${header}\n---\n${body}`;

describe('unified diff', () => {
  it('applies a hunk whose context matches exactly', () => {
    const [file] = parseUnifiedDiff(diff);
    expect(file!.oldPath).toBe('dir/file.ts');
    expect(applyFilePatch(original, file!)).toBe(original.replace('three', 'THREE'));
  });

  it('refuses a hunk whose context drifted, naming file, hunk and line', () => {
    const [file] = parseUnifiedDiff(diff);
    expect(() => applyFilePatch(original.replace('two', 'deux'), file!)).toThrow(
      /dir\/file.ts: hunk 1 .*line 2: expected "two", found "deux"/,
    );
  });

  it('creates and deletes files, and refuses paths that leave the workspace', () => {
    const [created] = parseUnifiedDiff(['--- /dev/null', '+++ b/new.ts', '@@ -0,0 +1,2 @@', '+a', '+b'].join('\n'));
    expect(applyFilePatch(undefined, created!)).toBe('a\nb\n');
    expect(() => applyFilePatch('x', created!)).toThrow(PatchError);
    const [deleted] = parseUnifiedDiff(['--- a/old.ts', '+++ /dev/null', '@@ -1,1 +0,0 @@', '-x'].join('\n'));
    expect(applyFilePatch('x', deleted!)).toBeUndefined();
    expect(() => parseUnifiedDiff(diff.replaceAll('dir/file.ts', '../etc/passwd'))).toThrow(/inside the workspace/);
    expect(() => parseUnifiedDiff(diff.replace('a/dir', 'dir'))).toThrow(/must start with a\//);
  });

  it('rejects a hunk whose line counts disagree with its header', () => {
    expect(() => parseUnifiedDiff(diff.replace('@@ -2,3 +2,3 @@', '@@ -2,4 +2,3 @@'))).toThrow(PatchError);
  });
});

describe('catalogue entries', () => {
  it('reads kind, catches and why', () => {
    const entry = parseEntry('m1', entryText('kind: mutant\ncatches: a, b   # two checks\nwhy: because'));
    expect(entry).toMatchObject({ id: 'm1', kind: 'mutant', catches: ['a', 'b'], why: 'because' });
  });

  it('refuses an entry without a usable header', () => {
    expect(() => parseEntry('m', entryText('kind: mutant\nwhy: x'))).toThrow(/catches/);
    expect(() => parseEntry('m', entryText('kind: variant\ncatches: a\nwhy: x'))).toThrow(/variant/);
    expect(() => parseEntry('m', entryText('kind: sometimes\nwhy: x'))).toThrow(/kind/);
    expect(() => parseEntry('m', diff)).toThrow(/---/);
  });

  it('judges mutants by their named checks and variants by every check', () => {
    const mutant = parseEntry('m', entryText('kind: mutant\ncatches: a\nwhy: x'));
    expect(
      judge(
        mutant,
        new Map([
          ['a', 'fail'],
          ['b', 'pass'],
        ]),
      ).ok,
    ).toBe(true);
    expect(
      judge(
        mutant,
        new Map([
          ['a', 'pass'],
          ['b', 'fail'],
        ]),
      ).detail,
    ).toMatch(/not caught by a/);
    expect(judge(mutant, new Map([['a', 'pass']])).detail).toMatch(/SURVIVED/);
    const variant = parseEntry('v', entryText('kind: variant\nwhy: x'));
    expect(judge(variant, new Map([['a', 'pass']])).ok).toBe(true);
    expect(judge(variant, new Map([['a', 'error']])).ok).toBe(false);
    expect(unknownChecks(mutant, new Set(['b']))).toEqual(['a']);
  });

  it('applies an entry to a workspace and puts it back', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mutant-apply-'));
    mkdirSync(path.join(dir, 'dir'));
    writeFileSync(path.join(dir, 'dir', 'file.ts'), original);
    const entry = parseEntry(
      'm',
      entryText('kind: mutant\ncatches: a\nwhy: x', `${diff}--- /dev/null\n+++ b/extra.ts\n@@ -0,0 +1 @@\n+x\n`),
    );
    const restore = applyEntry(dir, entry);
    expect(readFileSync(path.join(dir, 'dir', 'file.ts'), 'utf8')).toContain('THREE');
    expect(existsSync(path.join(dir, 'extra.ts'))).toBe(true);
    restore();
    expect(readFileSync(path.join(dir, 'dir', 'file.ts'), 'utf8')).toBe(original);
    expect(existsSync(path.join(dir, 'extra.ts'))).toBe(false);
  });
});

describe("the labs' catalogues", async () => {
  for (const lab of await loadAllLabs()) {
    it(`${lab.definition.id}: every entry parses, names real checks and applies to the solved workspace`, () => {
      const { entries, broken } = loadCatalogue(lab.dir);
      expect(broken).toEqual([]);
      const checkIds = new Set(lab.definition.steps.flatMap((s) => s.checks.map((c) => c.id)));
      const solved = new Map(
        lab.definition.files.map((f) => [
          f.path,
          renderRegions(readFileSync(path.join(repoDir, f.source), 'utf8'), lab.definition.steps.length),
        ]),
      );
      for (const entry of entries) {
        expect(unknownChecks(entry, checkIds), entry.id).toEqual([]);
        for (const file of entry.files)
          expect(
            () => applyFilePatch(file.oldPath ? solved.get(file.oldPath) : undefined, file),
            entry.id,
          ).not.toThrow();
      }
    });
  }
});
