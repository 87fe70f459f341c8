import type { CommandContext } from '../core/context.js';
import { withServiceProgress } from '../ui/progress.js';
import { renderProblems, renderServices } from '../ui/render.js';
import { UsageError } from '../core/errors.js';
import { printable, printableName } from '../core/printable.js';
import { syncLab } from '../core/grade.js';
import { loadLab, type LoadedLab } from '../core/lab-catalog.js';
import { openSession, readActiveOrSetAside, withHomeLock, writeActive } from '../core/lab-session.js';
import { newState } from '../core/state-store.js';
import { createWorkspace } from '../core/workspace.js';
import { chooseRuntime, type RuntimeChoice } from '../runtimes/create-runtime.js';
import { ensureServicesImage } from './ensure-image.js';
import { printStep } from './show-step.js';
import { runningServices } from '../core/lab-definition.js';
import { Option } from 'commander';
import { RUNTIME_CHOICES } from '../core/runtime.js';
import { defineCommand } from './define.js';

export interface StartOptions {
  runtime?: string;
  port?: string[];
  /** Read by the entry point, which offers the walkthrough after the command (src/cli/main.ts). */
  walkthrough: boolean;
}

export async function startCommand(ctx: CommandContext, labId: string, options: StartOptions): Promise<number> {
  const lab = await loadLab(labId);
  const choice = await chooseRuntime(ctx, options.runtime, lab);
  // Options are validated before anything runs or stops.
  const ports = parsePorts(
    options.port ?? [],
    runningServices(lab.definition).map((s) => s.name),
  );
  return withHomeLock(ctx, 'start', () => start(ctx, lab, choice, ports, options));
}

async function start(
  ctx: CommandContext,
  lab: LoadedLab,
  choice: RuntimeChoice,
  ports: Record<string, number>,
  options: StartOptions,
): Promise<number> {
  const labId = lab.definition.id;
  const kind = choice.kind;
  const active = readActiveOrSetAside(ctx);
  if (active && (active.lab !== labId || active.runtime !== kind)) {
    const other = await openSession(ctx, active.lab, active.runtime);
    if (await other.runtime.isUp()) {
      const what =
        active.lab !== labId
          ? `Lab ${active.lab} is running; one lab runs at a time.`
          : `Lab ${labId} is running on the ${active.runtime} runtime.`;
      throw new UsageError(
        what,
        `Stop it with \`lab stop\` (its work is kept), then run \`lab start ${labId}${options.runtime ? ` --runtime ${options.runtime}` : ''}\`.`,
      );
    }
  }
  if (kind === 'docker') await ensureServicesImage(ctx);

  const session = await openSession(ctx, labId, kind);
  const created = createWorkspace(lab, session.paths);
  if (!session.state.exists()) session.state.write(newState(labId, ctx.clock.now()));
  session.state.read(); // a corrupt progress file stops here, with its fix, before anything starts

  const fresh = !(await session.runtime.isUp());
  // Fresh secrets for every run; a repair (second start) keeps the running ones so issued tokens stay valid.
  if (fresh) await lab.definition.prepare?.(session.paths.secrets);
  const names = runningServices(lab.definition).map((s) => s.name);
  ctx.io.out(
    `${fresh ? 'Starting' : 'Repairing'} ${ctx.io.color.bold(labId)} on the ${kind} runtime (${choice.reason})…`,
  );
  const problems = await withServiceProgress(ctx.io, names, (onProgress) => session.runtime.up({ ports, onProgress }));
  problems.push(...(await syncLab(session, ctx.clock)));
  writeActive(ctx.home, { lab: labId, runtime: kind, since: ctx.clock.now().toISOString() });
  const state = session.state.update((s) =>
    s.events.push({ at: ctx.clock.now().toISOString(), type: fresh ? 'started' : 'repaired' }),
  );

  renderServices(ctx.io, await session.runtime.status());
  renderProblems(ctx.io, problems);
  ctx.io.out(`\nWorkspace: ${printable(session.paths.dir)}`);
  if (created.length > 0) ctx.io.out(`Starter files: ${created.join(', ')}`);
  ctx.io.out('');
  printStep(ctx, session, state.currentStep);
  ctx.io.out(
    ctx.io.color.dim('\nCommands: lab check · lab hint · lab next · lab status · lab logs <service> · lab stop'),
  );
  return 0;
}

export function parsePorts(specs: string[], services: string[]): Record<string, number> {
  const ports: Record<string, number> = {};
  for (const spec of specs) {
    const match = /^([a-z][a-z0-9-]*)=(\d+)$/.exec(spec);
    const port = Number(match?.[2]);
    if (!match || !services.includes(match[1]!) || port < 1024 || port > 65535) {
      throw new UsageError(
        `--port ${printableName(spec)} is not valid.`,
        `Use --port <service>=<1024-65535> with a service of: ${services.join(', ')}.`,
      );
    }
    ports[match[1]!] = port;
  }
  return ports;
}

export const command = defineCommand({
  name: 'start',
  description: "create your workspace (first time), start the lab's services and show the current step",
  configure: (c) =>
    c
      .argument('<lab>', 'lab id, see `lab list`')
      .addOption(
        new Option('--runtime <kind>', 'where services run: auto = docker when the engine answers, else local')
          .choices([...RUNTIME_CHOICES])
          .default('auto'),
      )
      .option('--port <service=port...>', 'pin a service to a port on 127.0.0.1 (default: free ports)')
      .option('--no-walkthrough', 'do not offer the interactive walkthrough'),
  walkthrough: true,
  run: (ctx, lab: string, options: StartOptions) => startCommand(ctx, lab, options),
});
