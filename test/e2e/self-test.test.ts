import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scaled } from '../helpers/timing.js';
import { labsDir } from '../../src/core/paths.js';
import { cliIn, scratchHome } from '../helpers/cli.js';

/** How many entries of each kind the catalogue holds, read from the files (not from the code under test). */
function catalogueCounts(lab: string): { mutants: number; variants: number } {
  const dir = path.join(labsDir, lab, 'mutants');
  const kinds = readdirSync(dir)
    .filter((f) => f.endsWith('.patch'))
    .map((f) => /^kind:\s*(\w+)/m.exec(readFileSync(path.join(dir, f), 'utf8'))?.[1]);
  return { mutants: kinds.filter((k) => k === 'mutant').length, variants: kinds.filter((k) => k === 'variant').length };
}

describe('lab test (author self-test) on the local runtime', () => {
  it('proves every check of mcp-integration is tied to its step, catches every mutant and passes every variant', async () => {
    const { mutants, variants } = catalogueCounts('mcp-integration');
    expect(mutants).toBeGreaterThanOrEqual(30);
    expect(variants).toBeGreaterThanOrEqual(4);
    const result = await cliIn(scratchHome(), {}, 900_000)('test', 'mcp-integration', '--runtime', 'local');
    expect(result.stdout).not.toContain('FAIL');
    expect(result.stdout).toContain('step 4 after its solution, again');
    expect(result.stdout).toContain(`mutants caught ${mutants}/${mutants}`);
    expect(result.stdout).toContain(`variants passed ${variants}/${variants}`);
    expect(result.stdout).toContain('mcp-integration: self-test passed.');
    expect(result.exitCode).toBe(0);
  }, scaled(960_000));
});
