/**
 * Type-check as a proof: the compiler finds a learner's errors as file:line:column (`lab check`'s pre-probe stage)
 * and `lab test` proves that every starter and every step's reference of both labs compiles.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { typeCheckSelfTest } from '../../src/commands/test.js';
import { blockedResult, compileGate, typeScriptFiles } from '../../src/core/compile-gate.js';
import { loadLab, type LoadedLab } from '../../src/core/lab-catalog.js';
import { repoDir, workspacePaths } from '../../src/core/paths.js';
import { renderRegions } from '../../src/core/solution-regions.js';
import { formatCompileError, typeCheck } from '../../src/core/type-check.js';

const memory = (files: Record<string, string>) => (rel: string) => files[rel];

describe('typeCheck', () => {
  // The first compile of a process parses TypeScript's libs and @types/node: seconds on a busy machine.
  it('finds a missing return (TS2355) and names file:line:column', async () => {
    const errors = await typeCheck(
      ['a/auth.ts'],
      memory({ 'a/auth.ts': 'export async function f(): Promise<string> {\n  // TODO\n}\n' }),
    );
    expect(errors.map(formatCompileError)).toEqual([
      expect.stringMatching(/^a\/auth\.ts:1:\d+ TS2355 A function whose declared type/),
    ]);
  }, 60_000);

  it('resolves workspace imports through the same reader and packages from the repository', async () => {
    const files = {
      'm/main.ts':
        "import { z } from 'zod';\nimport { n } from './n.js';\nexport const s: string = z.string().parse(n);\n",
      'm/n.ts': 'export const n: number = 1;\n',
    };
    expect(await typeCheck(['m/main.ts'], memory(files))).toEqual([]);
    const errors = await typeCheck(['m/main.ts'], memory({ ...files, 'm/n.ts': 'export const n: number = "x";\n' }));
    expect(errors.map((e) => `${e.file}:${e.line} ${e.code}`)).toEqual(['m/n.ts:1 TS2322']);
  });

  it("uses Node's types and strict mode", async () => {
    const errors = await typeCheck(
      ['t.ts'],
      memory({ 't.ts': "import { createHash } from 'node:crypto';\nexport const f = (x) => createHash(x);\n" }),
    );
    expect(errors.map((e) => e.code)).toEqual(['TS7006']);
  });
});

/** A lab of two files (test/fixtures/type-check/: the reference and a helper it imports) and two steps. */
const fixtureLab = {
  dir: path.join(repoDir, 'test', 'fixtures', 'type-check'),
  file: 'lab.ts',
  definition: {
    files: [
      { source: 'test/fixtures/type-check/reference.ts.txt', path: 'src/reference.ts' },
      { source: 'test/fixtures/type-check/helper.ts', path: 'src/helper.ts' },
    ],
    steps: [{}, {}],
  },
} as unknown as LoadedLab;

describe('lab test: the type-check proof', () => {
  it('passes the starter and step 1 and names the step 2 reference with file:line', async () => {
    const lines: Array<[boolean, string]> = [];
    await typeCheckSelfTest(fixtureLab, (ok, text) => lines.push([ok, text]));
    expect(lines.map(([ok]) => ok)).toEqual([true, true, false]);
    expect(lines[0]![1]).toBe('the starter type-checks (2 TypeScript files)');
    expect(lines[2]![1]).toMatch(
      /^the step 2 reference does not type-check: test\/fixtures\/type-check\/reference\.ts\.txt:17 \(src\/reference\.ts:12:\d+ TS2322 /,
    );
  });

  it.each(['secure-agents', 'mcp-integration'])(
    'proves %s: its starter and every step reference compile',
    async (id) => {
      const lines: Array<[boolean, string]> = [];
      await typeCheckSelfTest(await loadLab(id), (ok, text) => lines.push([ok, text]));
      expect(lines.filter(([ok]) => !ok).map(([, text]) => text)).toEqual([]);
      expect(lines).toHaveLength(5);
    },
    60_000,
  );
});

describe('lab check: the pre-probe stage', () => {
  async function workspaceOf(id: string, step: number, edit?: (file: string, text: string) => string) {
    const lab = await loadLab(id);
    const home = mkdtempSync(path.join(tmpdir(), 'compile-gate-'));
    const paths = workspacePaths(home, id);
    for (const f of typeScriptFiles(lab)) {
      const target = path.join(paths.dir, f.path);
      mkdirSync(path.dirname(target), { recursive: true });
      const text = renderRegions(readFileSync(path.join(repoDir, f.source), 'utf8'), step);
      writeFileSync(target, edit ? edit(f.path, text) : text);
    }
    mkdirSync(paths.meta, { recursive: true });
    return { lab, paths };
  }

  it('a solved lab 2 compiles: nothing is blocked', async () => {
    const { lab, paths } = await workspaceOf('secure-agents', 4);
    const gate = await compileGate(lab, paths);
    expect(gate.errors).toEqual([]);
    expect([...gate.blocked]).toEqual([]);
  });

  it("an error in guard.ts blocks steps 3 and 4 (guard.ts's steps), reported as the root cause", async () => {
    const { lab, paths } = await workspaceOf('secure-agents', 4, (file, text) =>
      file === 'mcp-server/guard.ts' ? text.replace('reason: decision.reason,', 'reason: decision.reasons,') : text,
    );
    const gate = await compileGate(lab, paths);
    expect(gate.errors.map((e) => `${e.file} ${e.code}`)).toEqual(['mcp-server/guard.ts TS2551']);
    expect([...gate.blocked].sort()).toEqual([3, 4]);
    const check = lab.definition.steps[3]!.checks[0]!;
    const result = blockedResult({ step: 4, stepId: 'audit', check }, lab, gate.errors);
    expect(result.status).toBe('fail');
    expect(result.message).toMatch(
      /^Not run: mcp-server\/guard\.ts does not compile \(mcp-server\/guard\.ts:\d+:\d+ TS2551 /,
    );
    expect(result.details).toMatchObject({ rootCause: ['typescript'] });
  });

  it('caches the verdict against every file the compiler read, and a change is seen', async () => {
    const { lab, paths } = await workspaceOf('secure-agents', 2);
    expect((await compileGate(lab, paths)).errors).toEqual([]);
    const cache = JSON.parse(readFileSync(path.join(paths.meta, 'type-check.json'), 'utf8'));
    expect(Object.keys(cache.inputs)).toEqual(expect.arrayContaining(['mtls/tls.ts', 'spire/entries.ts']));
    const tls = path.join(paths.dir, 'mtls', 'tls.ts');
    writeFileSync(tls, `${readFileSync(tls, 'utf8')}\nexport const broken: number = 'x';\n`);
    const gate = await compileGate(lab, paths);
    expect(gate.errors.map((e) => `${e.file} ${e.code}`)).toEqual(['mtls/tls.ts TS2322']);
    expect([...gate.blocked]).toEqual([2]);
  });
});
