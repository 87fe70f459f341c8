import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DefinitionError, UsageError } from '../../src/core/errors.js';
import { loadLab, validateLab } from '../../src/core/lab-catalog.js';
import { renderRegions } from '../../src/core/solution-regions.js';
import { readFileSync } from 'node:fs';
import { repoDir } from '../../src/core/paths.js';

const makeCheck = () => ({ id: 'c-1', title: 'a check', run: async () => ({ status: 'pass' as const, message: '' }) });
const valid = () => ({
  id: 'demo',
  title: 'Demo',
  summary: 'A demo lab',
  minutes: 5,
  runtimes: ['local'],
  files: [{ source: 'src/services/agent/connect.ts', path: 'agent/connect.ts' }],
  services: [{ name: 'svc', role: 'lab', entry: 'repo:src/services/rag-index/main.ts', env: () => ({}) }],
  steps: [{ id: 'one', title: 'One', instructions: 'steps/1-build-server.md', hints: [], checks: [makeCheck()] }],
});
const file = path.join(repoDir, 'labs', 'mcp-integration', 'lab.ts');

describe('lab definitions', () => {
  it('accepts a valid definition', () => {
    expect(validateLab(valid(), file).id).toBe('demo');
  });

  it.each([
    ['a wrong type', (d: any) => (d.minutes = 'ten'), 'minutes'],
    ['a step without checks', (d: any) => (d.steps[0].checks = []), 'steps[0].checks'],
    ['a bad check id', (d: any) => (d.steps[0].checks[0].id = 'Not Kebab'), 'steps[0].checks[0].id'],
    [
      'a missing instructions file',
      (d: any) => (d.steps[0].instructions = 'steps/missing.md'),
      'steps[0].instructions',
    ],
    ['an unknown dependency', (d: any) => (d.services[0].dependsOn = ['ghost']), 'services[0].dependsOn[0]'],
    ['a workspace file outside the workspace', (d: any) => (d.files[0].path = '../escape.ts'), 'files[0].path'],
    [
      'a duplicate check id',
      (d: any) => d.steps.push({ ...d.steps[0], id: 'two', checks: [makeCheck()] }),
      'steps[1].checks[0].id',
    ],
    [
      'an image-only service in a lab that lists the local runtime',
      (d: any) => delete d.services[0].entry,
      'services[0].entry',
    ],
  ])('names the file and field for %s', (_name, mutate, field) => {
    const def = valid();
    mutate(def);
    let error: unknown;
    try {
      validateLab(def, file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DefinitionError);
    expect((error as Error).message).toContain('labs/mcp-integration/lab.ts');
    expect((error as Error).message).toContain(`${field}:`);
  });

  it('reports a lab module without a default export', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'labs-'));
    mkdirSync(path.join(dir, 'broken'));
    writeFileSync(path.join(dir, 'broken', 'lab.ts'), 'export const x = 1;\n');
    await expect(loadLab('broken', dir)).rejects.toThrow(/default export/);
  });

  it('rejects an unknown lab with the list of known ones', async () => {
    await expect(loadLab('no-such-lab')).rejects.toThrow(UsageError);
    await expect(loadLab('no-such-lab')).rejects.toThrow(/no lab called "no-such-lab"/);
  });

  it('loads the real mcp-integration lab, whose starter files differ from their solutions', async () => {
    const lab = await loadLab('mcp-integration');
    expect(lab.definition.steps.map((s) => s.id)).toEqual([
      'build-server',
      'connect-agent',
      'tool-execution',
      'authentication',
    ]);
    for (const f of lab.definition.files.filter((f) => !f.source.endsWith('index-client.ts'))) {
      const source = readFileSync(path.join(repoDir, f.source), 'utf8');
      expect(renderRegions(source, 0), f.source).not.toBe(renderRegions(source, 4));
    }
  });
});
