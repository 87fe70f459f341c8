import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import type { LabSession } from '../core/lab-session.js';
import { printable } from '../core/printable.js';

/** Prints a step's instructions, markdown as written (it reads well in a terminal). */
export function printStep(ctx: CommandContext, session: LabSession, step: number): void {
  const steps = session.lab.definition.steps;
  const def = steps[step - 1];
  if (!def) throw new UsageError(`Lab ${session.lab.definition.id} has no step ${step}.`, `Choose a step from 1 to ${steps.length}.`);
  const text = readFileSync(path.join(session.lab.dir, def.instructions), 'utf8');
  ctx.io.out(ctx.io.color.dim(`--- step ${step} of ${steps.length} · workspace ${printable(session.paths.dir)} ---`));
  ctx.io.out(text.trimEnd().replace(/^(#+ .*)$/gm, (h) => ctx.io.color.bold(h)));
}
