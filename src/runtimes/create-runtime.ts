import type { CommandContext } from '../core/context.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import type { LoadedLab } from '../core/lab-catalog.js';
import type { WorkspacePaths } from '../core/paths.js';
import { IMAGES, selectImage } from '../images/catalog.js';
import { DockerRuntime } from './docker-runtime.js';
import { LocalRuntime } from './local-runtime.js';
import type { Runtime, RuntimeKind } from '../core/runtime.js';

export interface RuntimeChoice {
  kind: RuntimeKind;
  reason: string;
}

/** Docker compose when the engine answers and a compose is installed; else the local process runtime. */
export async function chooseRuntime(
  ctx: Pick<CommandContext, 'engine' | 'compose'>,
  requested: string | undefined,
  lab: LoadedLab,
): Promise<RuntimeChoice> {
  const supports = (kind: RuntimeKind) => lab.definition.runtimes.includes(kind);
  const wanted = requested ?? 'auto';
  if (wanted === 'local') {
    if (!supports('local')) {
      const why = lab.definition.dockerOnly ? ` ${lab.definition.dockerOnly}` : '';
      throw new UsageError(
        `Lab ${lab.definition.id} cannot run on the local runtime.${why}`,
        `Start Docker and run \`lab start ${lab.definition.id}\` (or --runtime docker); \`lab doctor\` checks the engine, compose and images.`,
      );
    }
    return { kind: 'local', reason: 'asked for with --runtime local' };
  }
  const engineUp = await ctx.engine.ping();
  const compose = engineUp ? await ctx.compose() : undefined;
  if (wanted === 'docker') {
    if (!supports('docker'))
      throw new UsageError(`Lab ${lab.definition.id} has no Docker compose setup.`, 'Use --runtime local.');
    if (!engineUp)
      throw new EnvironmentError(
        'The Docker engine is not answering, so the docker runtime cannot start.',
        'Start Docker (`sudo systemctl start docker`, Docker Desktop, or `sudo dockerd &`), or use --runtime local. `lab doctor` says more.',
      );
    if (!compose)
      throw new EnvironmentError(
        'Neither `docker compose` (v2) nor `docker-compose` (v1) is installed.',
        'Install one (Debian: `sudo apt-get install docker-compose`), or use --runtime local.',
      );
    return { kind: 'docker', reason: 'asked for with --runtime docker' };
  }
  if (supports('docker') && engineUp && compose)
    return {
      kind: 'docker',
      reason: `the Docker engine answers and ${compose.flavour === 'v2' ? 'docker compose' : 'docker-compose'} ${compose.version} is installed`,
    };
  if (!supports('local'))
    throw new EnvironmentError(
      `Lab ${lab.definition.id} needs Docker, and ${engineUp ? 'no compose is installed' : 'the Docker engine is not answering'}.`,
      'Start Docker and install compose; `lab doctor` checks both.',
    );
  const why = !supports('docker')
    ? `lab ${lab.definition.id} has no compose setup yet`
    : !engineUp
      ? 'no Docker engine answers'
      : 'no compose is installed';
  return { kind: 'local', reason: `${why}, so the embedded local runtime is used` };
}

export async function createRuntime(
  kind: RuntimeKind,
  lab: LoadedLab,
  paths: WorkspacePaths,
  ctx: Pick<CommandContext, 'io' | 'processes' | 'clock' | 'engine' | 'compose' | 'env'>,
): Promise<Runtime> {
  const notice = (message: string) => ctx.io.err(ctx.io.color.yellow(message));
  if (kind === 'local') return new LocalRuntime(lab, paths, ctx.processes, ctx.clock, notice);
  const compose = await ctx.compose();
  if (!compose)
    throw new EnvironmentError(
      'Neither `docker compose` (v2) nor `docker-compose` (v1) is installed.',
      'Install one, or use --runtime local.',
    );
  const images = Object.fromEntries(
    await Promise.all(IMAGES.map(async (spec) => [spec.env, await selectImage(spec, ctx.env, ctx.engine)])),
  );
  return new DockerRuntime(lab, paths, ctx.engine, compose, ctx.clock, images, notice);
}
