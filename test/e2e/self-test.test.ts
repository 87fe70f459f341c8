import { describe, expect, it } from 'vitest';
import { scaled } from '../helpers/timing.js';
import { catalogueCounts } from '../helpers/catalogue.js';
import { cliIn, scratchHome } from '../helpers/cli.js';

describe('lab test (author self-test) on the local runtime', () => {
  it(
    'proves the starter and references compile, every check of mcp-integration is tied to its step, catches every mutant and passes every variant',
    async () => {
      const { mutants, variants } = catalogueCounts('mcp-integration');
      expect(mutants).toBeGreaterThanOrEqual(30);
      expect(variants).toBeGreaterThanOrEqual(4);
      const result = await cliIn(scratchHome(), {}, scaled(900_000))('test', 'mcp-integration', '--runtime', 'local');
      expect(result.stdout).not.toContain('FAIL');
      // The type-check proof: the starter and every step's reference compile.
      for (const rendering of ['the starter', 'the step 1 reference', 'the step 4 reference'])
        expect(result.stdout).toContain(`ok   ${rendering} type-checks (6 TypeScript files)`);
      expect(result.stdout).toContain('step 4 after its solution, again');
      expect(result.stdout).toContain(`mutants caught ${mutants}/${mutants}`);
      expect(result.stdout).toContain(`variants passed ${variants}/${variants}`);
      expect(result.stdout).toContain('mcp-integration: self-test passed.');
      expect(result.exitCode).toBe(0);
    },
    scaled(960_000),
  );
});
