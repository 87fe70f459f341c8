import type { StartProgress } from '../core/runtime.js';
import type { Output } from '../core/ports.js';

interface Deferred {
  promise: Promise<string>;
  resolve(title: string): void;
  reject(error: Error): void;
}

function deferred(): Deferred {
  let resolve!: (t: string) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<string>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}

/**
 * Shows one listr2 task per service while `work` starts them: an animated list on a terminal, plain lines
 * otherwise (NO_COLOR, CI, pipes), nothing at all when quiet (e.g. --json).
 */
export async function withServiceProgress<T>(
  io: Output,
  services: string[],
  work: (onProgress: StartProgress) => Promise<T>,
  quiet = false,
): Promise<T> {
  const waits = new Map(services.map((s) => [s, deferred()]));
  const onProgress: StartProgress = ({ service, phase, detail }) => {
    const wait = waits.get(service);
    if (!wait) return;
    if (phase === 'healthy') wait.resolve(`${service}: healthy`);
    if (phase === 'kept') wait.resolve(`${service}: already running, up to date`);
    if (phase === 'failed') wait.reject(new Error(`${service}: ${detail ?? 'failed'}`));
  };
  // listr2 loads when a start shows progress, not with every command that imports this module.
  const { Listr } = await import('listr2');
  const list = new Listr(
    services.map((service) => ({
      title: `${service}: starting`,
      task: async (_: unknown, task: { title: string }) => {
        task.title = await waits.get(service)!.promise;
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      renderer: quiet || io.quiet ? 'silent' : io.tty && io.color.level > 0 ? 'default' : 'simple',
      fallbackRenderer: 'simple',
    },
  );
  const shown = list.run().catch(() => undefined);
  try {
    return await work(onProgress);
  } catch (error) {
    for (const wait of waits.values()) wait.reject(new Error('not started'));
    throw error;
  } finally {
    // Services the work never touched (e.g. jobs) must not leave the list waiting.
    for (const [service, wait] of waits) wait.resolve(`${service}: unchanged`);
    await shown;
  }
}
