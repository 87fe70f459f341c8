import { execa } from 'execa';
import type { ComposeTool } from '../core/ports.js';

/**
 * Finds a compose: the v2 plugin (`docker compose`) first, else v1 (`docker-compose`). Both take the project
 * name by -p (v1 rejects a top-level `name:` key, so the compose files have none) and variables from the env.
 */
export async function detectCompose(): Promise<ComposeTool | undefined> {
  const candidates: Array<{ flavour: 'v2' | 'v1'; command: string; prefix: string[] }> = [
    { flavour: 'v2', command: 'docker', prefix: ['compose'] },
    { flavour: 'v1', command: 'docker-compose', prefix: [] },
  ];
  for (const { flavour, command, prefix } of candidates) {
    const probe = await execa(command, [...prefix, 'version', '--short'], { reject: false, timeout: 10_000, stdin: 'ignore' }).catch(() => undefined);
    if (probe && probe.exitCode === 0 && /\d+\.\d+/.test(String(probe.stdout))) {
      return {
        flavour,
        version: String(probe.stdout).trim(),
        async run(args, { env, timeoutMs = 300_000 }) {
          const result = await execa(command, [...prefix, ...args], { env, reject: false, all: true, timeout: timeoutMs, stdin: 'ignore' });
          return { exitCode: result.timedOut ? 124 : (result.exitCode ?? 1), output: String(result.all ?? '') };
        },
      };
    }
  }
  return undefined;
}
