import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import type { LabSession } from '../core/lab-session.js';
import { printable } from '../core/printable.js';
import { stepOf } from '../core/lab-definition.js';

/** Prints a step's instructions, markdown as written (it reads well in a terminal). */
export function printStep(ctx: CommandContext, session: LabSession, step: number): void {
  const steps = session.lab.definition.steps;
  const def = stepOf(session.lab.definition, step);
  const text = readFileSync(path.join(session.lab.dir, def.instructions), 'utf8');
  ctx.io.out(ctx.io.color.dim(`--- step ${step} of ${steps.length} · workspace ${printable(session.paths.dir)} ---`));
  ctx.io.out(text.trimEnd().replace(/^(#+ .*)$/gm, (h) => ctx.io.color.bold(h)));
}
