import type { CommandContext } from '../core/context.js';
import { EnvironmentError } from '../core/errors.js';
import { listLabIds, loadLab } from '../core/lab-catalog.js';
import { clearActive, openSession, readActiveOrSetAside, withHomeLock, type LabSession } from '../core/lab-session.js';
import { composeProject } from '../runtimes/docker-runtime.js';
import type { RuntimeKind } from '../core/runtime.js';
import { defineCommand } from './define.js';

async function stopCommand(ctx: CommandContext): Promise<number> {
  return withHomeLock(ctx, 'stop', async () => {
    const active = readActiveOrSetAside(ctx);
    // Every lab of this home, on every runtime it can use: a lab whose active.json or runtime.json was lost or
    // damaged is found from its run markers and labels all the same.
    const labs = active ? [active.lab, ...listLabIds().filter((id) => id !== active.lab)] : listLabIds();
    const results = [];
    for (const labId of labs) results.push(...(await stopLab(ctx, labId)));
    const left = results.flatMap((r) => r.left.map((what) => `${r.lab} (${r.runtime}): ${what}`));
    for (const r of results.filter((r) => r.stopped.length > 0 && r.lab !== active?.lab)) {
      ctx.io.out(
        `Stopped ${r.lab} on the ${r.runtime} runtime, which was running without a valid record: ${r.stopped.join(', ')}.`,
      );
    }
    if (left.length > 0) throw notStopped(left);
    if (active) clearActive(ctx.home);
    if (active) {
      ctx.io.out(
        `Stopped ${active.lab}; nothing of it is left running. Your work and progress are kept: \`lab start ${active.lab}\` resumes.`,
      );
    } else if (results.every((r) => r.stopped.length === 0)) {
      ctx.io.out('No lab is active, and nothing of this home is running; nothing to stop.');
    } else {
      ctx.io.out('Nothing of this home is left running. Your work and progress are kept.');
    }
    return 0;
  });
}

export interface StopResult {
  lab: string;
  runtime: RuntimeKind;
  stopped: string[];
  left: string[];
}

/**
 * Stops a lab on each runtime it supports (local: processes with the workspace's markers; docker: the
 * compose project's labelled containers), whatever the state files say. Docker is skipped when no engine answers.
 */
export async function stopLab(ctx: CommandContext, labId: string): Promise<StopResult[]> {
  const lab = await loadLab(labId);
  const results: StopResult[] = [];
  for (const kind of lab.definition.runtimes) {
    if (kind === 'docker' && !(await dockerHasAny(ctx, labId))) continue;
    const session = await openSession(ctx, labId, kind);
    const { stopped, left } = await session.runtime.down();
    results.push({ lab: labId, runtime: kind, stopped, left });
  }
  return results;
}

/** Anything labelled with this home's compose project of the lab (a quick engine query; compose is only needed when so). */
async function dockerHasAny(ctx: CommandContext, labId: string): Promise<boolean> {
  if (!(await ctx.engine.ping())) return false;
  const label = `com.docker.compose.project=${composeProject(labId, ctx.home)}`;
  const found = [
    ...(await ctx.engine.containers(label)),
    ...(await ctx.engine.networks(label)),
    ...(await ctx.engine.volumes(label)),
  ];
  return found.length > 0;
}

function notStopped(left: string[]): EnvironmentError {
  return new EnvironmentError(
    `Could not stop everything: still running ${left.join(', ')}.`,
    'Kill them by hand (`kill -9 <pid>`, `docker rm -f <container>`), then run `lab stop` again.',
  );
}

/** Stops every service of one session and proves it: a process that survives is an error, not a footnote. */
export async function stopVerified(session: LabSession): Promise<void> {
  const { left } = await session.runtime.down();
  if (left.length > 0) throw notStopped(left.map((what) => `${session.lab.definition.id}: ${what}`));
}

/** Stops a lab on every runtime, verified. */
export async function stopLabVerified(ctx: CommandContext, labId: string): Promise<StopResult[]> {
  const results = await stopLab(ctx, labId);
  const left = results.flatMap((r) => r.left.map((what) => `${r.lab} (${r.runtime}): ${what}`));
  if (left.length > 0) throw notStopped(left);
  return results;
}

export const command = defineCommand({
  name: 'stop',
  description: "stop the lab's services; work and progress are kept",
  run: (ctx) => stopCommand(ctx),
});
