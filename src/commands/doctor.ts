import { accessSync, constants, mkdirSync, statfsSync } from 'node:fs';
import type { CommandContext } from '../core/context.js';
import type { EnvironmentError } from '../core/errors.js';
import { loadAllLabs, type LoadedLab } from '../core/lab-catalog.js';
import { IMAGES, selectImage, SOURCE_LABEL } from '../images/catalog.js';
import { chooseRuntime } from '../runtimes/create-runtime.js';
import { readActive } from '../core/lab-session.js';
import { freePort } from '../runtimes/port-check.js';
import { defineCommand } from './define.js';

interface Finding {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

const MIN_NODE: [number, number] = [20, 19];
const MIN_FREE_BYTES = 500 * 1024 * 1024;

async function doctorCommand(ctx: CommandContext, options: { json?: boolean }): Promise<number> {
  const findings: Finding[] = [];
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const nodeOk = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  findings.push(
    nodeOk
      ? { id: 'node', status: 'ok', message: `Node ${process.versions.node}` }
      : {
          id: 'node',
          status: 'fail',
          message: `Node ${process.versions.node} is too old`,
          fix: `Install Node ${MIN_NODE.join('.')} or newer.`,
        },
  );

  for (const dependency of ['tsx', '@modelcontextprotocol/sdk/client/index.js', 'minisearch']) {
    try {
      import.meta.resolve(dependency);
    } catch {
      findings.push({
        id: 'dependencies',
        status: 'fail',
        message: `${dependency} is not installed`,
        fix: 'Run `npm install` in the repository.',
      });
    }
  }
  if (!findings.some((f) => f.id === 'dependencies'))
    findings.push({ id: 'dependencies', status: 'ok', message: 'npm dependencies installed' });

  let labs: LoadedLab[] = [];
  try {
    labs = await loadAllLabs();
    findings.push({
      id: 'labs',
      status: 'ok',
      message: `${labs.length} lab definitions valid: ${labs.map((l) => l.definition.id).join(', ')}`,
    });
  } catch (error) {
    findings.push({
      id: 'labs',
      status: 'fail',
      message: (error as Error).message,
      fix: (error as EnvironmentError).fix ?? 'Fix the lab definition.',
    });
  }

  try {
    mkdirSync(ctx.home, { recursive: true });
    accessSync(ctx.home, constants.W_OK);
    const { bavail, bsize } = statfsSync(ctx.home);
    const free = bavail * bsize;
    findings.push(
      free >= MIN_FREE_BYTES
        ? { id: 'workspace', status: 'ok', message: `${ctx.home} is writable, ${(free / 2 ** 30).toFixed(1)} GiB free` }
        : {
            id: 'workspace',
            status: 'warn',
            message: `only ${(free / 2 ** 20).toFixed(0)} MiB free at ${ctx.home}`,
            fix: 'Free some disk space: logs and backups need room.',
          },
    );
  } catch (error) {
    findings.push({
      id: 'workspace',
      status: 'fail',
      message: `${ctx.home} is not writable (${(error as Error).message})`,
      fix: 'Set LAB_HOME to a writable folder.',
    });
  }

  try {
    const port = await freePort();
    findings.push({
      id: 'ports',
      status: 'ok',
      message: `free ports on 127.0.0.1 are available (e.g. ${port}); services bind to 127.0.0.1 only`,
    });
  } catch (error) {
    findings.push({
      id: 'ports',
      status: 'fail',
      message: `cannot listen on 127.0.0.1 (${(error as Error).message})`,
      fix: 'Check that the loopback interface is up.',
    });
  }

  findings.push(...(await dockerFindings(ctx)));
  const runtimes = await runtimeFindings(ctx, labs, findings);
  findings.push(await (await import('./model-endpoint.js')).modelFinding(ctx.env));
  const active = readActive(ctx.home);
  findings.push({
    id: 'active-lab',
    status: 'ok',
    message: active ? `active lab: ${active.lab} on ${active.runtime} since ${active.since}` : 'no lab is active',
  });

  const ok = !findings.some((f) => f.status === 'fail');
  if (options.json) {
    ctx.io.out(JSON.stringify({ schemaVersion: 1, ok, runtimes, findings }, null, 2));
  } else {
    const c = ctx.io.color;
    for (const f of findings) {
      const mark = f.status === 'ok' ? c.green('ok  ') : f.status === 'warn' ? c.yellow('warn') : c.red('FAIL');
      ctx.io.out(`${mark} ${f.message}${f.fix ? `\n     ${c.yellow('Fix:')} ${f.fix}` : ''}`);
    }
  }
  return ok ? 0 : 2;
}

/** Docker is optional (lab 1 runs locally without it): its absence is a warning with the fix, not a failure. */
async function dockerFindings(ctx: CommandContext): Promise<Finding[]> {
  if (!(await ctx.engine.ping())) {
    return [
      {
        id: 'docker-engine',
        status: 'warn',
        message: 'no Docker engine answers: labs run on the local runtime (lab 1 only)',
        fix: 'Start Docker (Docker Desktop, `sudo systemctl start docker`, or `sudo dockerd &`) for the compose runtime.',
      },
    ];
  }
  const findings: Finding[] = [];
  const { server, api } = await ctx.engine.version();
  findings.push({ id: 'docker-engine', status: 'ok', message: `Docker engine ${server} (API ${api}) answers` });
  const compose = await ctx.compose();
  findings.push(
    compose
      ? {
          id: 'compose',
          status: 'ok',
          message: `${compose.flavour === 'v2' ? 'docker compose' : 'docker-compose'} ${compose.version} (${compose.flavour})`,
        }
      : {
          id: 'compose',
          status: 'warn',
          message: 'no compose is installed',
          fix: "Install the compose plugin (v2) or Debian's docker-compose (v1).",
        },
  );
  for (const spec of IMAGES) {
    // The image the runtime would run (the same choice as compose and `lab images list`).
    const selected = await selectImage(spec, ctx.env, ctx.engine);
    const labels = await ctx.engine.image(selected);
    const why = ctx.env[spec.env]
      ? ` (from ${spec.env})`
      : selected === spec.upstream
        ? ' (pinned upstream)'
        : labels?.[SOURCE_LABEL]
          ? ' (built here)'
          : '';
    if (labels) findings.push({ id: `image-${spec.key}`, status: 'ok', message: `image ${selected} present${why}` });
    else
      findings.push({
        id: `image-${spec.key}`,
        status: 'warn',
        message: `image ${selected}${why} missing`,
        fix: 'Run `lab images build-local` (no registry needed), `lab images pull`, or `lab images load FILE`.',
      });
  }
  return findings;
}

/**
 * Which runtime `lab start <lab>` would pick, for every lab of the catalogue (each lab says which runtimes it
 * supports). A lab that cannot run here is a warning while another lab can: Docker is optional for lab 1.
 */
async function runtimeFindings(
  ctx: CommandContext,
  labs: LoadedLab[],
  findings: Finding[],
): Promise<Record<string, string | null>> {
  const runtimes: Record<string, string | null> = {};
  const own: Finding[] = [];
  for (const lab of labs) {
    const id = lab.definition.id;
    try {
      const choice = await chooseRuntime(ctx, 'auto', lab);
      runtimes[id] = choice.kind;
      own.push({
        id: `runtime-${id}`,
        status: 'ok',
        message: `${id}: runtime ${choice.kind}, because ${choice.reason}`,
      });
    } catch (error) {
      runtimes[id] = null;
      own.push({
        id: `runtime-${id}`,
        status: 'warn',
        message: `${id}: ${(error as Error).message}`,
        fix: (error as EnvironmentError).fix,
      });
    }
  }
  if (labs.length > 0 && Object.values(runtimes).every((kind) => kind === null)) for (const f of own) f.status = 'fail';
  findings.push(...own);
  return runtimes;
}

export const command = defineCommand({
  name: 'doctor',
  description: 'check this machine for what the labs need, with a fix for each problem',
  configure: (c) => c.option('--json', 'print findings as JSON'),
  usesHome: false,
  run: (ctx, options: { json?: boolean }) => doctorCommand(ctx, options),
});
