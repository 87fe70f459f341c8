/**
 * The runner runs compiled JavaScript: bin/lab.js runs dist/ and refuses a build that is missing, failed or older
 * than the sources; `npm run build` picks up new files and drops outputs of deleted ones; runner-owned services
 * run compiled under plain node while the learner's TypeScript goes through tsx. The build tests work on a copy of
 * the repository (node_modules linked), never on this checkout's dist/.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoDir } from '../../src/core/paths.js';
import { cliIn, runtimeRecord, scratchHome } from '../helpers/cli.js';

const version = (JSON.parse(readFileSync(path.join(repoDir, 'package.json'), 'utf8')) as { version: string }).version;

describe('the compiled build', () => {
  let copy: string;
  const lab = async (...args: string[]) => {
    const r = await execa(process.execPath, [path.join(copy, 'bin', 'lab.js'), ...args], {
      reject: false,
      env: { NO_COLOR: '1' },
    });
    return { exitCode: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  // A build of the copy takes seconds, more on a loaded machine: async, so vitest's worker stays responsive.
  const build = async () => {
    const r = await execa(process.execPath, [path.join(copy, 'scripts', 'build.js')], { reject: false, all: true });
    return { exitCode: r.exitCode, output: String(r.all) };
  };
  const BUILD_TIMEOUT_MS = 300_000;
  /** Marks a file as edited now: newer than the build the copy came with. */
  const touch = (rel: string) => {
    const t = new Date();
    utimesSync(path.join(copy, rel), t, t);
  };

  beforeAll(() => {
    // The suite's global setup built this checkout; copy it with its timestamps, so the copy starts current.
    copy = mkdtempSync(path.join(tmpdir(), 'lab-build-'));
    for (const entry of [
      'package.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'bin',
      'scripts',
      'src',
      'labs',
      'checks',
      'fixtures',
      'dist',
    ]) {
      cpSync(path.join(repoDir, entry), path.join(copy, entry), { recursive: true, preserveTimestamps: true });
    }
    symlinkSync(path.join(repoDir, 'node_modules'), path.join(copy, 'node_modules'));
  });
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('runs the current build', async () => {
    const r = await lab('--version');
    expect(r.stderr).toBe('');
    expect([r.exitCode, r.stdout.trim()]).toEqual([0, version]);
  });

  it(
    'refuses a build older than a source, naming the file and `npm run build`, without a stack trace; runs once rebuilt',
    async () => {
      touch('src/cli/output.ts');
      const r = await lab('--version');
      expect(r.exitCode).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('src/cli/output.ts changed after the last build');
      expect(r.stderr).toContain('Fix: Run `npm run build`');
      expect(r.stderr).not.toMatch(/^\s+at /m);
      const b = await build();
      expect(b.exitCode, b.output).toBe(0);
      expect(await lab('--version')).toMatchObject({ exitCode: 0, stderr: '' });
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'rebuilds: a new source file is compiled and the output of a deleted one is removed',
    async () => {
      writeFileSync(path.join(copy, 'src', 'core', 'added-later.ts'), 'export const addedLater = 1;\n');
      writeFileSync(path.join(copy, 'dist', 'src', 'core', 'deleted-since.js'), 'export {};\n');
      expect((await lab('--version')).stderr).toContain('src/core/added-later.ts changed after the last build');
      const b = await build();
      expect(b.exitCode, b.output).toBe(0);
      expect(existsSync(path.join(copy, 'dist', 'src', 'core', 'added-later.js'))).toBe(true);
      expect(existsSync(path.join(copy, 'dist', 'src', 'core', 'deleted-since.js'))).toBe(false);
      expect(await lab('--version')).toMatchObject({ exitCode: 0, stderr: '' });
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'a source dated in the future (a clock running ahead) is stale once, not after every build',
    async () => {
      const ahead = new Date(Date.now() + 3_600_000);
      utimesSync(path.join(copy, 'src', 'cli', 'output.ts'), ahead, ahead);
      expect((await lab('--version')).exitCode).toBe(2);
      const b = await build();
      expect(b.exitCode, b.output).toBe(0);
      expect(await lab('--version')).toMatchObject({ exitCode: 0, stderr: '' });
    },
    BUILD_TIMEOUT_MS,
  );

  it(
    'refuses to run after a failed build (no stamp), and when dist/ was never built',
    async () => {
      writeFileSync(
        path.join(copy, 'src', 'core', 'added-later.ts'),
        'export const addedLater: number = "not a number";\n',
      );
      const b = await build();
      expect(b.exitCode).not.toBe(0);
      expect(b.output).toContain('The build failed');
      const r = await lab('--version');
      expect(r.exitCode).toBe(2);
      expect(r.stderr).toContain('The lab runner is not built');
      rmSync(path.join(copy, 'dist'), { recursive: true });
      expect(await lab('--version')).toMatchObject({
        exitCode: 2,
        stderr: expect.stringContaining('The lab runner is not built'),
      });
    },
    BUILD_TIMEOUT_MS,
  );
});

/** Node's --import hook that reports every module a process loads (one `LOAD <url>` line on stderr each). */
const TRACE_LOADS = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent('export async function resolve(s, c, next) { const r = await next(s, c); process._rawDebug("LOAD " + r.url); return r; }'));`,
)}`;

/** The packages (and dist/ folders) a `lab` command loads. */
async function packagesLoaded(home: string, ...args: string[]): Promise<string[]> {
  const r = await execa(process.execPath, ['--import', TRACE_LOADS, path.join(repoDir, 'bin', 'lab.js'), ...args], {
    reject: false,
    env: { LAB_HOME: home, NO_COLOR: '1' },
  });
  expect(r.exitCode, String(r.stderr)).toBe(0);
  const urls = String(r.stderr)
    .split('\n')
    .filter((l) => l.startsWith('LOAD '))
    .map((l) => l.slice(5));
  return [
    ...new Set(
      urls.map(
        (u) =>
          /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1] ??
          (u.includes('/dist/') ? `dist/${u.split('/dist/')[1]!.split('/').slice(0, 2).join('/')}` : u),
      ),
    ),
  ];
}

const HEAVY = ['execa', '@inquirer/prompts', 'listr2', '@modelcontextprotocol/sdk', 'jose', 'undici'];
const among = (loaded: string[], names: string[]) =>
  loaded.filter((l) => names.some((n) => l === n || l.startsWith(`${n}/`)));

describe('commands import only what they use', () => {
  it('--version loads commander and chalk: no command, lab, schema, Docker, process or prompt library', async () => {
    const loaded = await packagesLoaded(scratchHome(), '--version');
    expect(loaded).toContain('commander');
    expect(among(loaded, [...HEAVY, 'zod', 'dist/labs', 'dist/checks', 'dist/src/commands'])).toEqual([]);
  });

  it("--help loads the commands' declarations (each lives beside its code) but no check, Docker, MCP, JWT, process or prompt library", async () => {
    const loaded = await packagesLoaded(scratchHome(), '--help');
    expect(loaded).toContain('dist/src/commands');
    expect(among(loaded, [...HEAVY, 'dist/checks', '@grpc/grpc-js'])).toEqual([]);
  });
});

describe('opening a lab loads its definition, not what its checks use', () => {
  it('`lab list` loads both labs (their checks included) but no MCP client, gRPC, undici, X.509 builder or Docker library', async () => {
    const loaded = await packagesLoaded(scratchHome(), 'list');
    expect(loaded).toEqual(expect.arrayContaining(['dist/labs/mcp-integration', 'dist/labs/secure-agents']));
    // What `lab reset` and `lab status` pay for on every run: these load only when a check or a service uses them.
    expect(among(loaded, [...HEAVY, '@grpc/grpc-js', '@grpc/proto-loader', '@peculiar/x509'])).toEqual([]);
  });
});

describe('services on the local runtime', () => {
  const home = scratchHome();
  const lab = cliIn(home);
  afterAll(() => lab('stop'));

  it("run runner-owned services compiled under plain node, and the learner's TypeScript through tsx", async () => {
    const start = await lab('start', 'mcp-integration', '--runtime', 'local', '--no-walkthrough');
    expect(start.exitCode, start.stderr).toBe(0);
    const argv = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const { services } = runtimeRecord(home, 'mcp-integration');
    for (const name of ['auth-server', 'rag-index']) {
      // The only preload is the compiled log stamp (timestamps on every log line): no tsx for runner-owned code.
      const stamp = pathToFileURL(path.join(repoDir, 'dist', 'src', 'services', 'logging', 'preload.js')).href;
      expect(argv(services[name]!.pid), name).toEqual([
        process.execPath,
        '--import',
        stamp,
        path.join(repoDir, 'dist', 'src', 'services', name, 'main.js'),
      ]);
    }
    const learner = argv(services['mcp-server']!.pid);
    expect(learner.at(-1)).toBe(path.join(home, 'mcp-integration', 'mcp-server', 'server.ts'));
    expect(learner.slice(1, 3)).toEqual(['--import', expect.stringContaining('/node_modules/tsx/')]);
    // rag-index, compiled, imports the learner's rag-index/collections.ts (TypeScript) before it listens.
    expect(readFileSync(path.join(home, 'mcp-integration', '.lab', 'logs', 'rag-index.log'), 'utf8')).toMatch(
      /rag-index listening on .* with \d+ documents/,
    );
  });

  it('`lab status` of the running lab loads its definition but no MCP client, JWT, Docker, process or prompt library', async () => {
    const loaded = await packagesLoaded(home, 'status');
    expect(loaded).toContain('dist/labs/mcp-integration');
    expect(among(loaded, HEAVY)).toEqual([]);
  });
});
