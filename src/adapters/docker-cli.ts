import type { DockerCli } from '../core/ports.js';
import { runOrThrow } from './run-command.js';

async function docker(args: string[], output: 'stdout' | 'all' = 'stdout'): Promise<string> {
  // The legacy builder: it needs no buildx plugin, and Debian's engine (20.10) has no BuildKit frontend here.
  const result = await runOrThrow('docker', args, { env: { DOCKER_BUILDKIT: '0' } }, 12);
  return output === 'all' ? result.output : result.stdout;
}

export const dockerCli: DockerCli = {
  async build({ context, dockerfile, tag, args = {}, labels = {} }) {
    await docker([
      'build',
      '-f',
      dockerfile,
      '-t',
      tag,
      ...Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      context,
    ]);
  },
  async importRootfs(tarball, tag, labels) {
    await docker([
      'import',
      ...Object.entries(labels).flatMap(([k, v]) => ['--change', `LABEL ${k}=${v}`]),
      tarball,
      tag,
    ]);
  },
  async pull(ref) {
    await docker(['pull', ref]);
  },
  async save(refs, file) {
    await docker(['save', '-o', file, ...refs]);
  },
  async load(file) {
    return docker(['load', '-i', file]);
  },
  async run(image, args, entrypoint) {
    // Some programs (spire-server --version) print to stderr: return both streams.
    return docker(
      ['run', '--rm', '--network', 'none', ...(entrypoint ? ['--entrypoint', entrypoint] : []), image, ...args],
      'all',
    );
  },
  async pruneDangling(label) {
    await docker(['image', 'prune', '--force', '--filter', `label=${label}`]);
  },
};
