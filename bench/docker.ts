/**
 * Docker runtime overhead: warm `lab start` and `lab reset` against bare compose on the same file with the same
 * variables (`up -d` then waiting for every healthcheck, as `up --wait` would; `down -v --remove-orphans`).
 * Prints ratios measured in one run; asserts nothing. Needs a Docker engine, compose and the built images.
 * Usage: node --import tsx bench/docker.ts [--runs 3]   (LAB_SERVICES_IMAGE=<tag> benchmarks another services image)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { detectCompose } from '../src/adapters/compose-cli.js';
import { repoDir } from '../src/core/paths.js';
import { imageSpec } from '../src/images/catalog.js';
import { composeProject } from '../src/runtimes/docker-runtime.js';
import { loadLab } from '../src/core/lab-catalog.js';
import { runningServices } from '../src/core/lab-definition.js';

const runs = process.argv.includes('--runs') ? Number(process.argv[process.argv.indexOf('--runs') + 1]) : 3;
const LAB = 'mcp-integration';
const home = mkdtempSync(path.join(tmpdir(), 'lab-bench-docker-'));
const lab = (...args: string[]) =>
  execa(process.execPath, [path.join(repoDir, 'bin', 'lab.js'), ...args], {
    env: { LAB_HOME: home, NO_COLOR: '1' },
    reject: false,
    stdin: 'ignore',
  });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = async (fn: () => Promise<unknown>) => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

// The services `lab start` runs (the lab's long-running ones), so both sides start the same set.
const services = runningServices((await loadLab(LAB)).definition).map((s) => s.name);
const compose = await detectCompose();
if (!compose) throw new Error('no compose installed');
const first = await lab('start', LAB, '--runtime', 'docker');
if (first.exitCode !== 0) throw new Error(first.stderr);
const ports = (
  JSON.parse(readFileSync(path.join(home, LAB, '.lab', 'runtime.json'), 'utf8')) as { ports: Record<string, number> }
).ports;
const project = composeProject(LAB, home);
const env = {
  PATH: process.env.PATH!,
  HOME: process.env.HOME!,
  ...Object.fromEntries(
    Object.entries(ports).map(([n, p]) => [`LAB_PORT_${n.toUpperCase().replace(/-/g, '_')}`, String(p)]),
  ),
  // The image `lab` itself uses: LAB_SERVICES_IMAGE when set (then `lab start` never rebuilds the default tag).
  LAB_SERVICES_IMAGE: process.env.LAB_SERVICES_IMAGE ?? imageSpec('services').local,
  LAB_WORKSPACE: path.join(home, LAB),
  LAB_WORKSPACE_MOUNT: `/app/workspace/${LAB}`,
  LAB_ENV_DIR: path.join(home, LAB, '.lab', 'compose'),
  LAB_UID: String(process.getuid?.() ?? 1000),
  LAB_GID: String(process.getgid?.() ?? 1000),
};
const args = ['-p', project, '-f', path.join(repoDir, 'compose', `${LAB}.yml`)];
const healthy = async () => {
  for (;;) {
    const ps = await execa('docker', [
      'ps',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--format',
      '{{.Status}}',
    ]);
    const lines = String(ps.stdout).trim().split('\n').filter(Boolean);
    if (lines.length === services.length && lines.every((l) => l.includes('(healthy)'))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
};
await lab('stop');

const labStart: number[] = [];
const labReset: number[] = [];
const bareUp: number[] = [];
const bareDown: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    labStart.push(await time(() => lab('start', LAB, '--runtime', 'docker')));
    labReset.push(await time(() => lab('reset', '--yes')));
    bareUp.push(
      await time(async () => {
        await compose.run([...args, 'up', '-d', '--remove-orphans', ...services], { env });
        await healthy();
      }),
    );
    bareDown.push(await time(() => compose.run([...args, 'down', '-v', '--remove-orphans', '-t', '5'], { env })));
  }
  const ms = (n: number) => `${(n / 1000).toFixed(2)} s`;
  console.log(`Docker runtime overhead, ${compose.flavour} ${compose.version}, median of ${runs}\n`);
  console.log(
    `lab start (warm)  ${ms(median(labStart))} vs compose up + healthy ${ms(median(bareUp))} = ${(median(labStart) / median(bareUp)).toFixed(2)}x   goal <= 1.10x`,
  );
  console.log(
    `lab reset         ${ms(median(labReset))} vs compose down -v      ${ms(median(bareDown))} = ${(median(labReset) / median(bareDown)).toFixed(2)}x   goal <= 1.10x`,
  );
} finally {
  await lab('reset', '--yes');
  rmSync(home, { recursive: true, force: true });
}
