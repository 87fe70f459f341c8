/**
 * Timestamps for a service's log. Loaded first in every long-running service (the local runtime preloads it with
 * --import; the services image's run-service.ts imports it), so a local log file and a container's log stream
 * read the same. Under Docker it also writes the run's section marker (src/core/log-sections.ts), which the local
 * runtime writes itself before it starts a process. Jobs are not stamped: the checks parse their output line by
 * line (`RESULT {...}`).
 */
import { logSectionMarker } from '../../core/log-sections.js';

/**
 * A transform that prefixes every line with an ISO timestamp. A line written in pieces is stamped once, where it
 * begins, so its pieces stay one line.
 */
export function lineStamper(now: () => Date = () => new Date()): (chunk: string) => string {
  let atLineStart = true;
  return (chunk) => {
    let out = '';
    for (const piece of chunk.split(/(?<=\n)/)) {
      if (piece === '') continue;
      out += atLineStart ? `${now().toISOString()} ${piece}` : piece;
      atLineStart = piece.endsWith('\n');
    }
    return out;
  };
}

/** Wraps process.stdout and process.stderr writes; idempotent. `marker`: begin a log section first (Docker). */
export function installLogStamp(service: string, options: { marker: boolean }): void {
  const g = globalThis as { __labLogStamp?: boolean };
  if (g.__labLogStamp) return;
  g.__labLogStamp = true;
  // Written before the streams are wrapped: graders find a marker by its first characters, unstamped.
  if (options.marker) process.stdout.write(logSectionMarker(service, new Date()));
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream) as (chunk: string | Uint8Array, ...rest: unknown[]) => boolean;
    const stamp = lineStamper();
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) =>
      original(
        stamp(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')),
        ...rest,
      )) as typeof stream.write;
  }
}
