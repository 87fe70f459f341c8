import type { CommandContext } from '../core/context.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { printable, printableName } from '../core/printable.js';
import { checkInputFile, checkReportTarget, imageTarball } from '../core/report-target.js';
import { IMAGES, selectImage, SOURCE_LABEL } from '../images/catalog.js';
import { buildImage, builders } from '../images/build-local.js';
import { withImageBuildLock } from './ensure-image.js';
import { engineUnavailable } from '../adapters/docker-engine-api.js';
import { defineCommand } from './define.js';

async function requireEngine(ctx: CommandContext): Promise<void> {
  if (!(await ctx.engine.ping())) throw engineUnavailable(new Error('no answer on the Docker socket'));
}

async function imagesListCommand(ctx: CommandContext, options: { json?: boolean }): Promise<number> {
  await requireEngine(ctx);
  const rows = await Promise.all(
    IMAGES.map(async (spec) => {
      const local = await ctx.engine.image(spec.local);
      const upstream = spec.upstream ? await ctx.engine.image(spec.upstream) : undefined;
      return {
        key: spec.key,
        version: spec.version,
        selected: await selectImage(spec, ctx.env, ctx.engine),
        local: spec.local,
        localPresent: local !== undefined,
        localBuild: local?.[SOURCE_LABEL] !== undefined,
        upstream: spec.upstream ?? null,
        upstreamPresent: upstream !== undefined,
        env: spec.env,
      };
    }),
  );
  if (options.json) ctx.io.out(JSON.stringify({ schemaVersion: 1, images: rows }, null, 2));
  else
    for (const r of rows)
      ctx.io.out(
        `${r.key.padEnd(13)} ${r.localPresent || r.upstreamPresent ? ctx.io.color.green('present') : ctx.io.color.red('missing')}  uses ${r.selected}${r.localBuild ? ctx.io.color.dim(' (built here)') : ''}  ${ctx.io.color.dim(`override: ${r.env}`)}`,
      );
  return 0;
}

async function imagesBuildLocalCommand(ctx: CommandContext, names: string[]): Promise<number> {
  await requireEngine(ctx);
  const all = builders({ engine: ctx.engine, cli: ctx.docker, env: ctx.env });
  const unknown = names.filter((n) => !all.some((b) => b.spec.key === n));
  if (unknown.length > 0)
    throw new UsageError(
      `Unknown image: ${unknown.map((n) => printableName(n)).join(', ')}.`,
      `Choose from: ${all.map((b) => b.spec.key).join(', ')} (default: all).`,
    );
  const chosen = names.length > 0 ? all.filter((b) => names.includes(b.spec.key)) : all;
  const results: string[] = [];
  const { Listr } = await import('listr2');
  const list = new Listr(
    chosen.map((builder) => ({
      title: `${builder.spec.key}: ${builder.spec.local}`,
      task: async (_: unknown, task: { title: string }) => {
        const started = ctx.clock.now().getTime();
        const outcome = await withImageBuildLock(ctx, 'images build-local', () =>
          buildImage(builder, ctx.engine, ctx.docker),
        );
        const version = builder.verify ? await builder.verify() : '';
        task.title = `${builder.spec.key}: ${builder.spec.local} ${outcome === 'cached' ? '(unchanged, cached)' : `built in ${((ctx.clock.now().getTime() - started) / 1000).toFixed(0)} s`}${version ? ` — reports ${version}` : ''}`;
        results.push(task.title);
      },
    })),
    { concurrent: false, exitOnError: false, renderer: ctx.io.tty && ctx.io.color.level > 0 ? 'default' : 'simple' },
  );
  await list.run();
  const failed = list.errors;
  for (const e of failed) ctx.io.err(ctx.io.color.red(`! ${e.message}`));
  if (failed.length > 0)
    throw new EnvironmentError(
      `${failed.length} of ${chosen.length} images could not be built (see above).`,
      'Fix what the message says and run `lab images build-local` again: images already built are kept.',
    );
  return 0;
}

async function imagesPullCommand(ctx: CommandContext): Promise<number> {
  await requireEngine(ctx);
  for (const spec of IMAGES.filter((s) => s.upstream)) {
    ctx.io.out(`pulling ${spec.upstream}`);
    await ctx.docker.pull(spec.upstream!).catch((error: Error) => {
      throw new EnvironmentError(
        `Could not pull ${spec.upstream}: ${error.message.split('\n').at(-1)}`,
        'Without a registry, build the images here with `lab images build-local`, or load a classroom tarball with `lab images load FILE`.',
      );
    });
  }
  return 0;
}

async function imagesSaveCommand(ctx: CommandContext, file: string): Promise<number> {
  const target = checkReportTarget(file, ctx.home, imageTarball);
  await requireEngine(ctx);
  const refs: string[] = [];
  for (const spec of IMAGES) {
    for (const ref of [spec.local, spec.upstream].filter((r): r is string => r !== undefined))
      if (await ctx.engine.image(ref)) refs.push(ref);
  }
  if (refs.length === 0)
    throw new EnvironmentError(
      'No lab image is present to save.',
      'Run `lab images pull` or `lab images build-local` first.',
    );
  await ctx.docker.save(refs, target);
  ctx.io.out(`Saved ${refs.length} images to ${printable(target)}: ${refs.join(', ')}`);
  return 0;
}

async function imagesLoadCommand(ctx: CommandContext, file: string): Promise<number> {
  const source = checkInputFile(file, 'images load');
  await requireEngine(ctx);
  ctx.io.out((await ctx.docker.load(source)).trim());
  return 0;
}

export const command = defineCommand({
  name: 'images',
  description:
    'the container images of the labs: list, pull, save/load for offline classrooms, build-local from sources',
  usesHome: false,
  subcommands: [
    defineCommand({
      name: 'list',
      isDefault: true,
      description: 'which image each part uses, and whether it is present',
      configure: (c) => c.option('--json', 'print as JSON'),
      run: (ctx, options: { json?: boolean }) => imagesListCommand(ctx, options),
    }),
    defineCommand({
      name: 'pull',
      description: 'pre-fetch the pinned upstream images (needs a registry)',
      run: (ctx) => imagesPullCommand(ctx),
    }),
    defineCommand({
      name: 'save',
      description: 'write every present lab image into one tarball, for machines without a registry',
      configure: (c) => c.argument('<file>', 'tarball to write'),
      run: (ctx, file: string) => imagesSaveCommand(ctx, file),
    }),
    defineCommand({
      name: 'load',
      description: 'load images from a tarball made by `lab images save`',
      configure: (c) => c.argument('<file>', 'tarball to read'),
      run: (ctx, file: string) => imagesLoadCommand(ctx, file),
    }),
    defineCommand({
      name: 'build-local',
      description:
        'build the images from sources this machine reaches (Debian packages, npm, the Go module proxy); cached',
      configure: (c) =>
        c.argument('[images...]', 'debian, node, services, opa, spire-server, spire-agent (default: all)'),
      run: (ctx, names: string[]) => imagesBuildLocalCommand(ctx, names),
    }),
  ],
});
