import { closeSync, existsSync, openSync, readSync, statSync, watchFile, unwatchFile } from 'node:fs';
import type { CommandContext } from '../cli/context.js';
import { UsageError } from '../core/errors.js';
import { openActiveSession } from '../core/lab-session.js';

export async function logsCommand(ctx: CommandContext, service: string, options: { follow?: boolean; lines: number }): Promise<number> {
  const session = await openActiveSession(ctx);
  const names = session.lab.definition.services.map((s) => s.name);
  if (!names.includes(service)) throw new UsageError(`Lab ${session.lab.definition.id} has no service "${service}".`, `Choose one of: ${names.join(', ')}.`);
  const text = await session.runtime.logs(service);
  const lines = text.trimEnd().split('\n');
  ctx.io.out(text ? lines.slice(-options.lines).join('\n') : `(no log yet for ${service})`);
  if (!options.follow) return 0;
  // Follow by polling the file: works on every filesystem, including ones where fs.watch is unreliable.
  const file = session.runtime.logFile(service);
  let offset = existsSync(file) ? statSync(file).size : 0;
  await new Promise<void>((resolve) => {
    watchFile(file, { interval: 250 }, (current) => {
      if (current.size < offset) offset = 0;
      if (current.size === offset) return;
      const fd = openSync(file, 'r');
      const buffer = Buffer.alloc(current.size - offset);
      readSync(fd, buffer, 0, buffer.length, offset);
      closeSync(fd);
      offset = current.size;
      process.stdout.write(buffer);
    });
    process.once('SIGINT', () => {
      unwatchFile(file);
      resolve();
    });
  });
  return 0;
}
