import { describe, expect, it } from 'vitest';
import { scaled } from '../helpers/timing.js';
import { cliIn, scratchHome } from '../helpers/cli.js';

describe('lab test (author self-test) on the local runtime', () => {
  it('proves every check of mcp-integration fails before its step and passes after', async () => {
    const result = await cliIn(scratchHome())('test', 'mcp-integration', '--runtime', 'local');
    expect(result.stdout).not.toContain('FAIL');
    expect(result.stdout).toContain('mcp-integration: self-test passed.');
    expect(result.stdout).toContain('step 4 after its solution, again');
    expect(result.exitCode).toBe(0);
  }, scaled(300_000));
});
