import type { CommandContext } from '../core/context.js';
import { buildImage, builders } from '../images/build-local.js';
import { imageSpec } from '../images/catalog.js';

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
  const outcome = await buildImage(builder, ctx.engine, ctx.docker);
  if (present && outcome === 'built') ctx.io.out(`Rebuilt ${spec.local}: the services' code changed.`);
}
