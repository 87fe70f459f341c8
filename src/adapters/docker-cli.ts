import { execa } from 'execa';

/** The docker command line, for what the engine API makes awkward: builds, imports, save/load, pull. */
export interface DockerCli {
  build(options: { context: string; dockerfile: string; tag: string; args?: Record<string, string>; labels?: Record<string, string> }): Promise<void>;
  importRootfs(tarball: string, tag: string, labels: Record<string, string>): Promise<void>;
  pull(ref: string): Promise<void>;
  tag(source: string, target: string): Promise<void>;
  save(refs: string[], file: string): Promise<void>;
  load(file: string): Promise<string>;
  run(image: string, args: string[], entrypoint?: string): Promise<string>;
  /** Removes untagged images carrying the label: what a rebuild leaves of the previous build. */
  pruneDangling(label: string): Promise<void>;
}

async function docker(args: string[], output: 'stdout' | 'all' = 'stdout'): Promise<string> {
  // The legacy builder: it needs no buildx plugin, and Debian's engine (20.10) has no BuildKit frontend here.
  const result = await execa('docker', args, {
    env: { DOCKER_BUILDKIT: '0' },
    reject: false,
    all: true,
    stdin: 'ignore',
  });
  if (result.exitCode !== 0) throw new Error(`docker ${args.slice(0, 2).join(' ')} failed:\n${String(result.all).trim().split('\n').slice(-12).join('\n')}`);
  return String(output === 'all' ? result.all : result.stdout);
}

export const dockerCli: DockerCli = {
  async build({ context, dockerfile, tag, args = {}, labels = {} }) {
    await docker([
      'build',
      '-f', dockerfile,
      '-t', tag,
      ...Object.entries(args).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]),
      ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]),
      context,
    ]);
  },
  async importRootfs(tarball, tag, labels) {
    await docker(['import', ...Object.entries(labels).flatMap(([k, v]) => ['--change', `LABEL ${k}=${v}`]), tarball, tag]);
  },
  async pull(ref) {
    await docker(['pull', ref]);
  },
  async tag(source, target) {
    await docker(['tag', source, target]);
  },
  async save(refs, file) {
    await docker(['save', '-o', file, ...refs]);
  },
  async load(file) {
    return docker(['load', '-i', file]);
  },
  async run(image, args, entrypoint) {
    // Some programs (spire-server --version) print to stderr: return both streams.
    return docker(['run', '--rm', '--network', 'none', ...(entrypoint ? ['--entrypoint', entrypoint] : []), image, ...args], 'all');
  },
  async pruneDangling(label) {
    await docker(['image', 'prune', '--force', '--filter', `label=${label}`]);
  },
};
