import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { runCommand } from './run-command.js';
import type { ComposeTool } from '../core/ports.js';

type Flavour = { flavour: 'v2' | 'v1'; command: string; prefix: string[] };

const CACHE = path.join(homedir(), '.cache', 'ai-infra-labs', 'compose.json');
const CACHE_TTL_MS = 24 * 3600_000;

/** Probing v1 costs half a second of Python start-up per command: remember the answer for a day (per PATH). */
function cached(): (Flavour & { version: string }) | undefined {
  try {
    const entry = JSON.parse(readFileSync(CACHE, 'utf8')) as Flavour & { version: string; path: string; at: number };
    return entry.path === process.env.PATH && Date.now() - entry.at < CACHE_TTL_MS ? entry : undefined;
  } catch {
    return undefined;
  }
}

function remember(found: Flavour & { version: string }): void {
  try {
    mkdirSync(path.dirname(CACHE), { recursive: true });
    writeFileSync(CACHE, JSON.stringify({ ...found, path: process.env.PATH, at: Date.now() }));
  } catch {
    /* a read-only home only costs the probe next time */
  }
}

function tool({ flavour, command, prefix, version }: Flavour & { version: string }): ComposeTool {
  return {
    flavour,
    version,
    async run(args, { env, timeoutMs = 300_000 }) {
      const { exitCode, output } = await runCommand(command, [...prefix, ...args], { env, timeoutMs });
      return { exitCode, output };
    },
  };
}

/**
 * Finds a compose: the v2 plugin (`docker compose`) first, else v1 (`docker-compose`). Both take the project
 * name by -p (v1 rejects a top-level `name:` key, so the compose files have none) and variables from the env.
 */
export async function detectCompose(): Promise<ComposeTool | undefined> {
  const known = cached();
  if (known) return tool(known);
  const candidates: Flavour[] = [
    { flavour: 'v2', command: 'docker', prefix: ['compose'] },
    { flavour: 'v1', command: 'docker-compose', prefix: [] },
  ];
  for (const { flavour, command, prefix } of candidates) {
    const probe = await runCommand(command, [...prefix, 'version', '--short'], { timeoutMs: 10_000 }).catch(
      () => undefined,
    );
    if (probe && probe.exitCode === 0 && /\d+\.\d+/.test(probe.stdout)) {
      const found = { flavour, command, prefix, version: probe.stdout.trim() };
      remember(found);
      return tool(found);
    }
  }
  return undefined;
}
