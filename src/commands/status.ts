import type { CommandContext } from '../core/context.js';
import { renderServices } from '../ui/render.js';
import { readActive } from '../core/lab-session.js';
import { openActiveSession } from '../core/lab-session.js';
import { printable } from '../core/printable.js';
import { defineCommand } from './define.js';

async function statusCommand(ctx: CommandContext): Promise<number> {
  if (!readActive(ctx.home)) {
    ctx.io.out('No lab is active. Start one with `lab start <lab>` (see `lab list`).');
    return 0;
  }
  const session = await openActiveSession(ctx);
  const state = session.state.read();
  const steps = session.lab.definition.steps;
  const c = ctx.io.color;
  ctx.io.out(`${c.bold(session.lab.definition.id)} on the ${session.runtimeKind} runtime`);
  ctx.io.out(`  workspace  ${printable(session.paths.dir)}`);
  ctx.io.out(`  step       ${state.currentStep} of ${steps.length}: ${steps[state.currentStep - 1]!.title}`);
  ctx.io.out(`  completed  ${state.completedSteps.length > 0 ? state.completedSteps.join(', ') : 'none yet'}`);
  const last = state.checkRuns.at(-1);
  if (last) ctx.io.out(`  last check ${last.at} (${last.scope}): ${last.passed}/${last.passed + last.failed} passed`);
  ctx.io.out('services:');
  let services = await session.runtime.status();
  // mTLS services (lab 2) run long before they hold an SVID: say so rather than "running".
  if (session.lab.definition.services.some((s) => s.tls))
    services = await (await import('./identity.js')).markWaitingForSvid(session, services);
  renderServices(ctx.io, services);
  return 0;
}

export const command = defineCommand({
  name: 'status',
  description: 'show the active lab, its services and your progress',
  run: (ctx) => statusCommand(ctx),
});
