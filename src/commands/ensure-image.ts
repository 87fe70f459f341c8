import { homedir } from 'node:os';
import path from 'node:path';
import type { CommandContext } from '../core/context.js';
import { withLock } from '../core/lock.js';
import { buildImage, builders } from '../images/build-local.js';
import { imageSpec } from '../images/catalog.js';

/** A build of the Go images from cold takes minutes: a second build waits that long rather than failing. */
const BUILD_LOCK_TIMEOUT_MS = 30 * 60_000;

/**
 * One image build at a time on this machine, whichever home or checkout asks: two concurrent builds break each
 * other (each prunes the dangling images a rebuild leaves, which include the other's build stage in progress).
 * The second waits, then finds the image built (its source label matches) and builds nothing.
 */
export function withImageBuildLock<T>(
  ctx: Pick<CommandContext, 'clock' | 'io' | 'processes'>,
  command: string,
  fn: () => Promise<T>,
): Promise<T> {
  return withLock(
    {
      home: path.join(homedir(), '.cache', 'ai-infra-labs', 'image-builds'),
      processes: ctx.processes,
      clock: ctx.clock,
      waiting: (message) => ctx.io.err(ctx.io.color.yellow(`Another image build is running: ${message}`)),
      timeoutMs: BUILD_LOCK_TIMEOUT_MS,
    },
    command,
    fn,
  );
}

/**
 * The services image is always built from this checkout (it carries the services' code). A first docker start
 * builds it; a checkout whose code changed since rebuilds it (cached otherwise).
 */
export async function ensureServicesImage(ctx: CommandContext): Promise<void> {
  const spec = imageSpec('services');
  if (ctx.env[spec.env]) return;
  const builder = builders({ engine: ctx.engine, cli: ctx.docker, env: ctx.env }).find(
    (b) => b.spec.key === 'services',
  )!;
  const present = (await ctx.engine.image(spec.local)) !== undefined;
  if (!present) ctx.io.out(`Building the services image ${spec.local} (first docker start; about a minute)…`);
  const outcome = await withImageBuildLock(ctx, 'start', () => buildImage(builder, ctx.engine, ctx.docker));
  if (present && outcome === 'built') ctx.io.out(`Rebuilt ${spec.local}: the services' code changed.`);
}
