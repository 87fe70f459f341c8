/**
 * `npx lab` inside a workspace runs this runner, never the unrelated registry package called `lab`: in the
 * default workspace inside the clone and under a custom LAB_HOME, offline and against a registry that serves
 * a `lab` package, with and without a TTY, and after upgrading a workspace made by the old runner.
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLab } from '../../src/core/lab-catalog.js';
import { repoDir, workspacePaths } from '../../src/core/paths.js';
import { createWorkspace } from '../../src/core/workspace.js';
import { startFakeRegistry, type FakeRegistry } from '../helpers/fake-npm-registry.js';

const { version } = JSON.parse(readFileSync(path.join(repoDir, 'package.json'), 'utf8')) as { version: string };
const scratch = mkdtempSync(path.join(tmpdir(), 'cli-npx-'));
const marker = path.join(scratch, 'REGISTRY-PACKAGE-RAN');
// Inside the clone, as the default LAB_HOME is (<repo>/workspace is ignored by git).
const cloneHome = path.join(repoDir, 'workspace', `.npx-test-${process.pid}`);
const customHome = path.join(scratch, 'home');
let registry: FakeRegistry;

beforeAll(async () => {
  registry = await startFakeRegistry(marker);
  const lab = await loadLab('mcp-integration');
  for (const home of [cloneHome, customHome]) createWorkspace(lab, workspacePaths(home, 'mcp-integration'));
});

afterAll(async () => {
  await registry?.close();
  rmSync(cloneHome, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

/** npx with a private npm cache and config, so nothing cached or configured on this machine takes part. */
async function npx(cwd: string, mode: 'offline' | 'registry', tty: boolean, args = ['lab', '--version']) {
  const npmHome = mkdtempSync(path.join(scratch, 'npm-'));
  writeFileSync(path.join(npmHome, 'npmrc'), '');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: npmHome,
    NO_COLOR: '1',
    npm_config_userconfig: path.join(npmHome, 'npmrc'),
    npm_config_cache: path.join(npmHome, 'cache'),
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_registry: registry.url,
    ...(mode === 'offline' ? { npm_config_offline: 'true' } : {}),
  };
  const command = tty
    ? (['script', ['-qec', ['npx', ...args].join(' '), '/dev/null']] as const)
    : (['npx', args] as const);
  const result = await execa(command[0], [...command[1]], {
    cwd,
    env,
    extendEnv: false,
    reject: false,
    stdin: 'ignore',
    timeout: 60_000,
  });
  return { exitCode: result.exitCode, output: `${String(result.stdout)}\n${String(result.stderr)}` };
}

describe('npx lab inside a workspace', () => {
  const cases = [cloneHome, customHome].flatMap((home) =>
    (['offline', 'registry'] as const).flatMap((mode) =>
      [false, true].map((tty) => ({
        where: home === cloneHome ? 'inside the clone' : 'under a custom LAB_HOME',
        home,
        mode,
        tty,
      })),
    ),
  );

  it.each(cases)(
    'runs this runner: workspace $where, $mode, tty=$tty',
    async ({ home, mode, tty }) => {
      const result = await npx(path.join(home, 'mcp-integration'), mode, tty);
      expect(result.output).toContain(version);
      expect(result.output).not.toContain('99.0.0');
      expect(result.exitCode).toBe(0);
      expect(existsSync(marker)).toBe(false);
      expect(registry.requests.filter((r) => r.startsWith('/lab'))).toEqual([]);
    },
    90_000,
  );

  it('runs this runner from a sub-folder of the workspace, with a command', async () => {
    const result = await npx(path.join(customHome, 'mcp-integration', 'mcp-server'), 'registry', false, [
      'lab',
      'list',
    ]);
    expect(result.output).toContain('mcp-integration');
    expect(result.exitCode).toBe(0);
    expect(existsSync(marker)).toBe(false);
  }, 90_000);

  it('upgrades a workspace made by the old runner (node_modules linked whole) on the next start', async () => {
    const home = path.join(scratch, 'old-home');
    const dir = path.join(home, 'mcp-integration');
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ private: true, type: 'module' }));
    symlinkSync(path.join(repoDir, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
    createWorkspace(await loadLab('mcp-integration'), workspacePaths(home, 'mcp-integration'));
    expect(lstatSync(path.join(dir, 'node_modules')).isSymbolicLink()).toBe(false);
    // Learner code still resolves the repository's packages.
    expect(lstatSync(path.join(dir, 'node_modules', 'zod')).isSymbolicLink()).toBe(true);
    const resolved = await execa(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "await import('@modelcontextprotocol/sdk/server/mcp.js'); await import('zod'); console.log('ok')",
      ],
      { cwd: dir, reject: false },
    );
    expect(String(resolved.stdout)).toBe('ok');
    const result = await npx(dir, 'registry', false);
    expect(result.output).toContain(version);
    expect(existsSync(marker)).toBe(false);
  }, 90_000);

  it('fails with a clear message, not a registry package, when the clone has moved', async () => {
    const dir = path.join(scratch, 'moved', 'mcp-integration');
    mkdirSync(path.join(dir, 'node_modules', '.bin'), { recursive: true });
    const { runnerScript } = await import('../../src/core/runner-link.js');
    writeFileSync(path.join(dir, 'node_modules', '.bin', 'lab'), runnerScript('/nonexistent/clone/bin/lab.js'), {
      mode: 0o755,
    });
    const result = await npx(dir, 'registry', false);
    expect(result.exitCode).toBe(2);
    expect(result.output).toContain('no longer at /nonexistent/clone/bin/lab.js');
    expect(result.output).toContain('Fix:');
    expect(existsSync(marker)).toBe(false);
  }, 90_000);
});
