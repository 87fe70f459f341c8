import { accessSync, constants, mkdirSync, statfsSync } from 'node:fs';
import type { CommandContext } from '../cli/context.js';
import { EnvironmentError } from '../core/errors.js';
import { loadAllLabs } from '../core/lab-catalog.js';
import { readActive } from '../core/lab-session.js';
import { freePort } from '../runtimes/port-check.js';

interface Finding {
  id: string;
  status: 'ok' | 'warn' | 'fail';
  message: string;
  fix?: string;
}

const MIN_NODE: [number, number] = [20, 19];
const MIN_FREE_BYTES = 500 * 1024 * 1024;

export async function doctorCommand(ctx: CommandContext, options: { json?: boolean }): Promise<number> {
  const findings: Finding[] = [];
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const nodeOk = major > MIN_NODE[0] || (major === MIN_NODE[0] && minor >= MIN_NODE[1]);
  findings.push(nodeOk ? { id: 'node', status: 'ok', message: `Node ${process.versions.node}` } : { id: 'node', status: 'fail', message: `Node ${process.versions.node} is too old`, fix: `Install Node ${MIN_NODE.join('.')} or newer.` });

  for (const dependency of ['tsx', '@modelcontextprotocol/sdk/client/index.js', 'minisearch']) {
    try {
      import.meta.resolve(dependency);
    } catch {
      findings.push({ id: 'dependencies', status: 'fail', message: `${dependency} is not installed`, fix: 'Run `npm install` in the repository.' });
    }
  }
  if (!findings.some((f) => f.id === 'dependencies')) findings.push({ id: 'dependencies', status: 'ok', message: 'npm dependencies installed' });

  try {
    const labs = await loadAllLabs();
    findings.push({ id: 'labs', status: 'ok', message: `${labs.length} lab definitions valid: ${labs.map((l) => l.definition.id).join(', ')}` });
  } catch (error) {
    findings.push({ id: 'labs', status: 'fail', message: (error as Error).message, fix: (error as EnvironmentError).fix ?? 'Fix the lab definition.' });
  }

  try {
    mkdirSync(ctx.home, { recursive: true });
    accessSync(ctx.home, constants.W_OK);
    const { bavail, bsize } = statfsSync(ctx.home);
    const free = bavail * bsize;
    findings.push(
      free >= MIN_FREE_BYTES
        ? { id: 'workspace', status: 'ok', message: `${ctx.home} is writable, ${(free / 2 ** 30).toFixed(1)} GiB free` }
        : { id: 'workspace', status: 'warn', message: `only ${(free / 2 ** 20).toFixed(0)} MiB free at ${ctx.home}`, fix: 'Free some disk space: logs and backups need room.' },
    );
  } catch (error) {
    findings.push({ id: 'workspace', status: 'fail', message: `${ctx.home} is not writable (${(error as Error).message})`, fix: 'Set LAB_HOME to a writable folder.' });
  }

  try {
    const port = await freePort();
    findings.push({ id: 'ports', status: 'ok', message: `free ports on 127.0.0.1 are available (e.g. ${port}); services bind to 127.0.0.1 only` });
  } catch (error) {
    findings.push({ id: 'ports', status: 'fail', message: `cannot listen on 127.0.0.1 (${(error as Error).message})`, fix: 'Check that the loopback interface is up.' });
  }

  findings.push({ id: 'runtime', status: 'ok', message: 'runtime: local processes (the embedded default; the Docker compose runtime is not part of this version)' });
  const active = readActive(ctx.home);
  findings.push({ id: 'active-lab', status: 'ok', message: active ? `active lab: ${active.lab} on ${active.runtime} since ${active.since}` : 'no lab is active' });

  const ok = !findings.some((f) => f.status === 'fail');
  if (options.json) {
    ctx.io.out(JSON.stringify({ schemaVersion: 1, ok, runtime: 'local', findings }, null, 2));
  } else {
    const c = ctx.io.color;
    for (const f of findings) {
      const mark = f.status === 'ok' ? c.green('ok  ') : f.status === 'warn' ? c.yellow('warn') : c.red('FAIL');
      ctx.io.out(`${mark} ${f.message}${f.fix ? `\n     ${c.yellow('Fix:')} ${f.fix}` : ''}`);
    }
  }
  return ok ? 0 : 2;
}
