import type { CommandContext } from '../core/context.js';
import { loadAllLabs } from '../core/lab-catalog.js';
import { readActive } from '../core/lab-session.js';
import { defineCommand } from './define.js';

async function listCommand(ctx: CommandContext): Promise<number> {
  const active = readActive(ctx.home);
  for (const { definition: lab } of await loadAllLabs()) {
    const tag = active?.lab === lab.id ? ctx.io.color.green(' (active)') : '';
    ctx.io.out(`${ctx.io.color.bold(lab.id)}${tag}  ${lab.title}`);
    ctx.io.out(`  ${lab.summary}`);
    ctx.io.out(
      ctx.io.color.dim(`  ${lab.steps.length} steps, about ${lab.minutes} min, runtimes: ${lab.runtimes.join(', ')}`),
    );
  }
  ctx.io.out(`\nStart one with: npx lab start <lab>`);
  return 0;
}

export const command = defineCommand({
  name: 'list',
  description: 'list the labs',
  usesHome: false,
  run: (ctx) => listCommand(ctx),
});
