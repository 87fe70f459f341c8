import type { CommandContext } from '../core/context.js';
import { UsageError } from '../core/errors.js';
import { openActiveSession } from '../core/lab-session.js';
import { printableName } from '../core/printable.js';
import { lastLines } from '../core/text.js';
import { defineCommand, positiveCount } from './define.js';

const FOLLOW_INTERVAL_MS = 500;

async function logsCommand(
  ctx: CommandContext,
  service: string,
  options: { follow?: boolean; lines: number },
): Promise<number> {
  const session = await openActiveSession(ctx);
  const names = session.lab.definition.services.map((s) => s.name);
  if (!names.includes(service))
    throw new UsageError(
      `Lab ${session.lab.definition.id} has no service "${printableName(service)}".`,
      `Choose one of: ${names.join(', ')}.`,
    );
  let text = await session.runtime.logs(service);
  ctx.io.out(text ? lastLines(text, options.lines).join('\n') : `(no log yet for ${service})`);
  if (!options.follow) return 0;
  // Follow by asking the runtime again: the same for a local log file and a container's log stream.
  let stopped = false;
  process.once('SIGINT', () => (stopped = true));
  // A reader that went away (`lab logs -f x | head`) ends the follow: nothing more can be shown.
  while (!stopped && !ctx.io.closed()) {
    await ctx.clock.sleep(FOLLOW_INTERVAL_MS);
    const next = await session.runtime.logs(service);
    if (next.length < text.length) text = '';
    if (next.length > text.length) ctx.io.write(next.slice(text.length));
    text = next;
  }
  return 0;
}

export const command = defineCommand({
  name: 'logs',
  description: "show a service's log",
  configure: (c) =>
    c
      .argument('<service>', 'service name, see `lab status`')
      .option('-f, --follow', 'keep printing new lines')
      .option('-n, --lines <n>', 'how many lines (default: 100)', positiveCount, 100),
  run: (ctx, service: string, options: { follow?: boolean; lines: number }) => logsCommand(ctx, service, options),
});
