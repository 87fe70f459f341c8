/**
 * Every image the labs use: the pinned upstream reference (what `lab images pull` fetches on a connected
 * machine), the local tag `lab images build-local` produces from sources this machine reaches, and the
 * environment variable that selects another image (a mirror, a local build) without editing compose files.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoDir } from '../core/paths.js';
import type { ContainerEngine } from '../core/ports.js';

export interface ImageSpec {
  key: 'debian' | 'node' | 'services' | 'opa' | 'spire-server' | 'spire-agent';
  /** Pinned upstream reference; undefined for images only ever built here. */
  upstream?: string;
  local: string;
  env: string;
  version: string;
}

const { version: packageVersion } = JSON.parse(readFileSync(path.join(repoDir, 'package.json'), 'utf8')) as {
  version: string;
};

export const NODE_VERSION = '20.20.2';
export const SPIRE_VERSION = '1.15.3';
export const OPA_VERSION = '1.22.2';
export const DEBIAN_SUITE = 'bookworm';

export const IMAGES: ImageSpec[] = [
  { key: 'debian', local: `ai-infra-labs/debian:${DEBIAN_SUITE}`, env: 'LAB_DEBIAN_IMAGE', version: DEBIAN_SUITE },
  {
    key: 'node',
    upstream: `node:${NODE_VERSION}-${DEBIAN_SUITE}-slim`,
    local: `ai-infra-labs/node:${NODE_VERSION}-${DEBIAN_SUITE}-slim`,
    env: 'LAB_NODE_IMAGE',
    version: NODE_VERSION,
  },
  {
    key: 'services',
    local: `ai-infra-labs/services:${packageVersion}`,
    env: 'LAB_SERVICES_IMAGE',
    version: packageVersion,
  },
  {
    key: 'opa',
    upstream: `openpolicyagent/opa:${OPA_VERSION}`,
    local: `ai-infra-labs/opa:${OPA_VERSION}`,
    env: 'LAB_OPA_IMAGE',
    version: OPA_VERSION,
  },
  {
    key: 'spire-server',
    upstream: `ghcr.io/spiffe/spire-server:${SPIRE_VERSION}`,
    local: `ai-infra-labs/spire-server:${SPIRE_VERSION}`,
    env: 'LAB_SPIRE_SERVER_IMAGE',
    version: SPIRE_VERSION,
  },
  {
    key: 'spire-agent',
    upstream: `ghcr.io/spiffe/spire-agent:${SPIRE_VERSION}`,
    local: `ai-infra-labs/spire-agent:${SPIRE_VERSION}`,
    env: 'LAB_SPIRE_AGENT_IMAGE',
    version: SPIRE_VERSION,
  },
];

export function imageSpec(key: ImageSpec['key']): ImageSpec {
  return IMAGES.find((i) => i.key === key)!;
}

/** Label on every image built here: what it was built from, so an unchanged rebuild is skipped. */
export const SOURCE_LABEL = 'dev.ai-infra-labs.source';

/** The image a lab uses for a spec: the override, else a local build when present, else the pinned upstream. */
export async function selectImage(spec: ImageSpec, env: NodeJS.ProcessEnv, engine: ContainerEngine): Promise<string> {
  const override = env[spec.env];
  if (override) return override;
  if (!spec.upstream || (await engine.image(spec.local)) !== undefined) return spec.local;
  return spec.upstream;
}
