import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { parsePorts } from '../../src/commands/start.js';
import { UsageError } from '../../src/core/errors.js';
import { fakeContext } from '../helpers/fake-context.js';

const run = async (...args: string[]) => {
  const { ctx, stdout, stderr } = fakeContext(mkdtempSync(path.join(tmpdir(), 'cli-')));
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const writeOut = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const code = await main(['node', 'lab', ...args], ctx);
    return {
      code,
      stdout: stdout.join('\n'),
      stderr: stderr.join('\n'),
      commander: write.mock.calls.map((c) => String(c[0])).join(''),
    };
  } finally {
    write.mockRestore();
    writeOut.mockRestore();
  }
};

describe('command line parsing', () => {
  it('exits 0 for --help and --version', async () => {
    expect((await run('--help')).code).toBe(0);
    expect((await run('--version')).code).toBe(0);
  });

  it('exits 2 for an unknown command, a missing argument, a bad step or a bad runtime', async () => {
    const unknown = await run('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.commander).toContain("unknown command 'frobnicate'");
    expect((await run('start')).code).toBe(2);
    const step = await run('check', 'two');
    expect(step.code).toBe(2);
    expect(step.commander).toContain('must be a step number');
    expect((await run('start', 'mcp-integration', '--runtime', 'kubernetes')).code).toBe(2);
  });

  it('turns a LabError into its message, its fix and exit 2', async () => {
    const result = await run('status', '--nope');
    expect(result.code).toBe(2);
    const noLab = await run('check');
    expect(noLab.code).toBe(2);
    expect(noLab.stderr).toContain('No lab is active');
    expect(noLab.stderr).toContain('Fix: Start one with `lab start <lab>`');
  });

  it('parses --port pins and rejects bad ones with the list of services', () => {
    expect(parsePorts(['mcp-server=8100', 'rag-index=8101'], ['mcp-server', 'rag-index'])).toEqual({
      'mcp-server': 8100,
      'rag-index': 8101,
    });
    for (const bad of ['mcp-server', 'mcp-server=80', 'mcp-server=70000', 'ghost=8100']) {
      expect(() => parsePorts([bad], ['mcp-server', 'rag-index'])).toThrow(UsageError);
    }
    try {
      parsePorts(['ghost=8100'], ['mcp-server']);
    } catch (error) {
      expect((error as UsageError).fix).toContain('mcp-server');
    }
    expect.assertions(6);
  });
});
