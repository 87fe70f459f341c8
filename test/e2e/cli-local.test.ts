/**
 * End to end on the local runtime: the `lab` executable as a subprocess, real services, real checks.
 * One lab run shared by the tests of this file, in order, like a learner's session.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeProcesses } from '../../src/adapters/node-processes.js';
import { repoDir } from '../../src/core/paths.js';
import { cliIn, runtimeRecord, scratchHome } from '../helpers/cli.js';
import { waitFor } from '../helpers/timing.js';

const LAB = 'mcp-integration';
const home = scratchHome();
const lab = cliIn(home);
const ws = (...p: string[]) => path.join(home, LAB, ...p);

afterAll(async () => {
  await lab('stop');
});

describe('lab on the local runtime', () => {
  beforeAll(async () => {
    const started = await lab('start', LAB, '--runtime', 'local');
    expect(started.stderr).toBe('');
    expect(started.exitCode).toBe(0);
  });

  it('starts with healthy services on 127.0.0.1, starter files, and step 1 on screen', async () => {
    const status = await lab('status');
    expect(status.exitCode).toBe(0);
    for (const service of ['auth-server', 'rag-index', 'mcp-server'])
      expect(status.stdout).toMatch(new RegExp(`${service}\\s+running\\s+http://127\\.0\\.0\\.1:\\d+`));
    expect(readFileSync(ws('mcp-server', 'tools.ts'), 'utf8')).toContain(
      'TODO (step 1): offer a tool named "search_documents"',
    );
    expect(readFileSync(ws('mcp-server', 'tools.ts'), 'utf8')).not.toContain('@lab-step');
    const step = await lab('step');
    expect(step.stdout).toContain('Step 1: Build the MCP server');
    // Production mode, as in the services image: no library of a service answers with a stack trace.
    if (process.platform === 'linux') {
      for (const [name, { pid }] of Object.entries(runtimeRecord(home, LAB).services))
        expect(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0'), name).toContain('NODE_ENV=production');
    }
  });

  it('starts again without duplicating anything', async () => {
    const before = runtimeRecord(home, LAB);
    const again = await lab('start', LAB, '--runtime', 'local');
    expect(again.exitCode).toBe(0);
    expect(runtimeRecord(home, LAB).services).toEqual(before.services);
  });

  it('fails every check before any step is done, as JSON that matches the documented schema', async () => {
    const result = await lab('check', '--json', '--junit', ws('junit.xml'));
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout);
    const ajv = new Ajv2020.default({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const schema = JSON.parse(readFileSync(path.join(repoDir, 'docs', 'check-result.schema.json'), 'utf8'));
    const valid = ajv.validate(schema, report);
    expect(ajv.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    const checks = report.steps.flatMap((s: any) => s.checks);
    expect(checks.length).toBeGreaterThanOrEqual(14);
    expect(checks.filter((c: any) => c.status === 'pass').map((c: any) => c.id)).toEqual([]);
    for (const c of checks) expect(c.fix, c.id).toBeTruthy();
    const junit = readFileSync(ws('junit.xml'), 'utf8');
    expect(junit).toContain(`<testsuites name="${LAB}" tests="${checks.length}" failures="${checks.length}"`);
  });

  it('asks before solve replaces learner work, keeps a backup, and the step then passes', async () => {
    const tools = ws('mcp-server', 'tools.ts');
    writeFileSync(tools, `${readFileSync(tools, 'utf8')}\n// my own attempt\n`);
    const refused = await lab('solve', '1');
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('--yes');
    expect(readFileSync(tools, 'utf8')).toContain('// my own attempt');

    const solved = await lab('solve', '1', '--yes');
    expect(solved.exitCode).toBe(0);
    const backups = readdirSync(path.join(home, '.backups', LAB));
    expect(
      backups.some((b) =>
        readFileSync(path.join(home, '.backups', LAB, b, 'mcp-server', 'tools.ts'), 'utf8').includes(
          '// my own attempt',
        ),
      ),
    ).toBe(true);

    const check = await lab('check', '1');
    expect(check.stdout).toContain('5/5 checks passed');
    expect(check.exitCode).toBe(0);
  });

  it('gives hints one at a time', async () => {
    const first = await lab('hint');
    const second = await lab('hint');
    expect(first.stdout).toContain('Hint 1/');
    expect(first.stdout).not.toContain('Hint 2/');
    expect(second.stdout).toContain('Hint 2/');
  });

  it('reports a killed lab service with the fix (exit 2), and start repairs it', async () => {
    const { services } = runtimeRecord(home, LAB);
    const pid = services['auth-server']!.pid;
    process.kill(pid, 'SIGKILL');
    // The signal for "killed" is the process being gone, not a fixed pause.
    await waitFor(`pid ${pid} to exit`, async () => !nodeProcesses.isAlive(pid), { timeoutMs: 5_000, intervalMs: 20 });
    const check = await lab('check', '1');
    expect(check.exitCode).toBe(2);
    expect(check.stderr).toContain('auth-server');
    expect(check.stderr).toContain('lab start');
    const repaired = await lab('start', LAB, '--runtime', 'local');
    expect(repaired.exitCode).toBe(0);
    expect((await lab('status')).stdout).toMatch(/auth-server\s+running/);
  });

  it('reports a busy pinned port (exit 2) and loses no learner file', async () => {
    const before = readFileSync(ws('mcp-server', 'tools.ts'), 'utf8');
    expect((await lab('stop')).exitCode).toBe(0);
    const blocker: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const result = await lab('start', LAB, '--runtime', 'local', '--port', `mcp-server=${port}`);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`Port ${port} on 127.0.0.1 is already in use`);
      expect(result.stderr).toContain('Fix:');
    } finally {
      blocker.close();
    }
    expect(readFileSync(ws('mcp-server', 'tools.ts'), 'utf8')).toBe(before);
    expect((await lab('start', LAB, '--runtime', 'local')).exitCode).toBe(0);
  });

  it('reports a corrupt progress file (exit 2) and reset recovers it without losing files', async () => {
    const tools = readFileSync(ws('mcp-server', 'tools.ts'), 'utf8');
    writeFileSync(ws('.lab', 'state.json'), '{ "version": 1, "lab": "mcp-int');
    const status = await lab('status');
    expect(status.exitCode).toBe(2);
    expect(status.stderr).toContain('corrupt');
    expect(status.stderr).toContain('lab reset');
    const reset = await lab('reset');
    expect(reset.exitCode).toBe(0);
    expect(readdirSync(ws('.lab')).some((f) => f.startsWith('state.json.corrupt-'))).toBe(true);
    expect(readFileSync(ws('mcp-server', 'tools.ts'), 'utf8')).toBe(tools);
    expect((await lab('start', LAB, '--runtime', 'local')).exitCode).toBe(0);
  });

  it('stops every process of the lab and says so', async () => {
    const { runId, services } = runtimeRecord(home, LAB);
    const stopped = await lab('stop');
    expect(stopped.exitCode).toBe(0);
    expect(stopped.stdout).toContain('nothing of it is left running');
    for (const { pid } of Object.values(services)) expect(nodeProcesses.isAlive(pid)).toBe(false);
    expect(nodeProcesses.findByEnv('LAB_RUN_ID', runId)).toEqual([]);
    expect(existsSync(ws('.lab', 'runtime.json'))).toBe(false);
  });

  it('rejects an unknown lab and a step that does not exist with exit 2', async () => {
    const unknown = await lab('start', 'no-such-lab');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('mcp-integration');
    expect((await lab('check', 'zero')).exitCode).toBe(2);
  });
});
