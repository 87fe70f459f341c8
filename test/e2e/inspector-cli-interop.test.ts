/**
 * Outside clients: the MCP Inspector's CLI against the solved lab 1 server, with a bearer token in a header (the
 * Inspector's own OAuth is the interactive authorization-code flow only, so it cannot get a client-credentials
 * token itself: `lab token --raw` gets one, as a learner would). The Inspector 2.x line needs Node >= 22; the
 * separately published @modelcontextprotocol/inspector-cli 1.0.3 (pinned devDependency, no install scripts,
 * no engines field) runs on the Node 20 this course supports.
 */
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoDir } from '../../src/core/paths.js';
import { cliIn, runtimeRecord, scratchHome } from '../helpers/cli.js';
import { scaled } from '../helpers/timing.js';

const BUILD = path.join(repoDir, 'node_modules', '@modelcontextprotocol', 'inspector-cli', 'build');

describe('the MCP Inspector CLI against the solved lab 1 server', () => {
  const home = scratchHome();
  const lab = cliIn(home);
  let endpoint: string;
  let token: string;

  const inspector = (...args: string[]) =>
    execa('node', [path.join(BUILD, 'cli.js'), '--cli', endpoint, '--transport', 'http', ...args], {
      // 1.0.3 tests for its package.json relative to the working directory but imports it relative to itself.
      cwd: BUILD,
      reject: false,
      all: true,
      timeout: scaled(60_000),
    });

  beforeAll(async () => {
    expect((await lab('start', 'mcp-integration', '--runtime', 'local')).exitCode).toBe(0);
    for (const step of ['1', '2', '3', '4']) expect((await lab('solve', step, '--yes')).exitCode).toBe(0);
    // `lab token` restarts the server from the solved files first, then gets a token as the agent does.
    const issued = await lab('token', '--raw');
    expect(issued.exitCode, issued.stderr).toBe(0);
    token = issued.stdout.trim();
    endpoint = `http://127.0.0.1:${runtimeRecord(home, 'mcp-integration').ports['mcp-server']}/mcp`;
  }, scaled(180_000));
  afterAll(async () => {
    await lab('reset', '--yes');
  }, scaled(60_000));

  it(
    'lists and calls the tools with the token in an Authorization header',
    async () => {
      const listed = await inspector('--method', 'tools/list', '--header', `Authorization: Bearer ${token}`);
      expect(listed.exitCode, String(listed.all)).toBe(0);
      const { tools } = JSON.parse(listed.stdout) as { tools: Array<{ name: string }> };
      expect(tools.map((t) => t.name).sort()).toEqual(['get_document', 'search_documents']);

      const called = await inspector(
        '--method',
        'tools/call',
        '--tool-name',
        'search_documents',
        '--tool-arg',
        'query=SPIFFE ID',
        '--header',
        `Authorization: Bearer ${token}`,
      );
      expect(called.exitCode, String(called.all)).toBe(0);
      const result = JSON.parse(called.stdout) as { isError?: boolean; content: Array<{ text?: string }> };
      expect(result.isError ?? false).toBe(false);
      expect(result.content[0]?.text).toMatch(/\[spiffe-\d+\]/);
    },
    scaled(120_000),
  );

  it(
    'is refused without the header',
    async () => {
      const refused = await inspector('--method', 'tools/list');
      expect(refused.exitCode).not.toBe(0);
      expect(String(refused.all)).toMatch(/invalid_token.*Missing Authorization header/);
    },
    scaled(60_000),
  );
});
