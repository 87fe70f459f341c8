import { Chalk } from 'chalk';
import type { Output } from '../core/ports.js';

export function terminalOutput(env: NodeJS.ProcessEnv = process.env): Output {
  ignoreClosedOutput();
  const tty = Boolean(process.stdout.isTTY) && env.TERM !== 'dumb';
  const plain = !tty || env.NO_COLOR !== undefined || env.CI !== undefined;
  return {
    color: new Chalk({ level: plain ? 0 : 1 }),
    tty,
    out: (text) => void process.stdout.write(`${text}\n`),
    err: (text) => void process.stderr.write(`${text}\n`),
    write: (text) => void process.stdout.write(text),
    closed: () => process.stdout.destroyed,
  };
}

let ignoring = false;

/**
 * A reader that goes away early (`lab start | head -1`) makes the next write fail with EPIPE, emitted as an
 * 'error' event that would end the process with a stack trace, part-way through its work. Output is a side
 * channel: the command finishes what it does and exits with its own code; what it would have printed is lost.
 * (Node ignores SIGPIPE, so the event is the only sign.)
 */
function ignoreClosedOutput(): void {
  if (ignoring) return;
  ignoring = true;
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}
