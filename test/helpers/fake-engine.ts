import type { ContainerEngine } from '../../src/core/ports.js';

/** A container engine that holds the given images and nothing else; `up: false` for a machine without Docker. */
export function fakeEngine({ up = true, images = [] as string[] } = {}): ContainerEngine {
  return {
    ping: async () => up,
    version: async () => ({ server: 'fake', api: 'fake' }),
    containers: async () => [],
    networks: async () => [],
    volumes: async () => [],
    removeAll: async () => [],
    logs: async () => '',
    exec: async () => ({ exitCode: 127, output: 'fake engine: no containers' }),
    image: async (ref) => (images.includes(ref) ? {} : undefined),
  };
}
