import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import type { LabSession } from '../core/lab-session.js';
import { printable } from '../core/printable.js';
import { stepOf } from '../core/lab-definition.js';

/**
 * A step's markdown for a terminal: as written (it reads well), except that fenced code blocks (the one style the
 * lab texts use, so that each names its language) print as indented blocks without their fence lines.
 */
export function terminalMarkdown(text: string): string {
  return text.replace(/^```[^\n]*\n([\s\S]*?)^```[ \t]*$/gm, (_block, body: string) =>
    body
      .replace(/\n$/, '')
      .split('\n')
      .map((line) => (line === '' ? '' : `    ${line}`))
      .join('\n'),
  );
}

/** Prints a step's instructions (see terminalMarkdown), headings in bold. */
export function printStep(ctx: CommandContext, session: LabSession, step: number): void {
  const steps = session.lab.definition.steps;
  const def = stepOf(session.lab.definition, step);
  const text = readFileSync(path.join(session.lab.dir, def.instructions), 'utf8');
  ctx.io.out(ctx.io.color.dim(`--- step ${step} of ${steps.length} · workspace ${printable(session.paths.dir)} ---`));
  ctx.io.out(terminalMarkdown(text.trimEnd()).replace(/^(#+ .*)$/gm, (h) => ctx.io.color.bold(h)));
}
