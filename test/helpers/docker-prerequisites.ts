import { detectCompose } from '../../src/adapters/compose-cli.js';
import { createDockerEngine } from '../../src/adapters/docker-engine-api.js';
import { IMAGES, type ImageSpec } from '../../src/images/catalog.js';

/** Under CI (or LAB_DOCKER_TESTS=required) a missing Docker prerequisite fails the suite; elsewhere it skips loudly. */
export const dockerRequired = Boolean(process.env.CI) || process.env.LAB_DOCKER_TESTS === 'required';
export const engine = createDockerEngine();

export async function missingDockerPrerequisite(images: Array<ImageSpec['key']>): Promise<string | undefined> {
  if (!(await engine.ping())) return 'no Docker engine answers';
  if (!(await detectCompose())) return 'neither docker compose nor docker-compose is installed';
  for (const key of images) {
    const spec = IMAGES.find((i) => i.key === key)!;
    if (!(await engine.image(spec.local)) && !(spec.upstream && (await engine.image(spec.upstream))))
      return `image ${spec.local} is missing (run \`lab images build-local\`)`;
  }
  return undefined;
}

/** Whatever of a compose project is still there: containers, networks, volumes (by compose's project label). */
export async function composeLeftovers(project: string): Promise<string[]> {
  const label = `com.docker.compose.project=${project}`;
  return [
    ...(await engine.containers(label)).map((c) => `container ${c.name}`),
    ...(await engine.networks(label)).map((n) => `network ${n}`),
    ...(await engine.volumes(label)).map((v) => `volume ${v}`),
  ];
}

export function announceSkip(suite: string, missing: string | undefined): void {
  if (missing && !dockerRequired)
    console.warn(`\n!!! ${suite} SKIPPED: ${missing}. Set LAB_DOCKER_TESTS=required to make this a failure.\n`);
}
