import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoDir } from '../../src/core/paths.js';
import { freePort } from '../../src/runtimes/port-check.js';
import { scaled, waitFor } from './timing.js';

const tsx = createRequire(import.meta.url).resolve('tsx');

/** Starts one service entry (a .ts file) as a real process on a free loopback port and waits for /health. */
export async function startService(
  entry: string,
  env: Record<string, string>,
  port?: number,
): Promise<{ url: string; port: number; stop: () => void; output: () => string; alive: () => boolean }> {
  const chosen = port ?? (await freePort());
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, path.resolve(repoDir, entry)], {
    env: { PATH: process.env.PATH!, HOST: '127.0.0.1', PORT: String(chosen), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${chosen}`;
  try {
    await waitFor(
      `${entry} to answer /health`,
      async () => {
        if (child.exitCode !== null) throw Object.assign(new Error(`${entry} exited: ${output}`), { fatal: true });
        const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(scaled(1_000)) }).catch(
          () => undefined,
        );
        return response?.ok === true;
      },
      { timeoutMs: 15_000, intervalMs: 50 },
    );
  } catch (error) {
    child.kill();
    throw new Error(`${entry} did not become healthy: ${(error as Error).message}\n${output}`);
  }
  return {
    url,
    port: chosen,
    stop: () => child.kill(),
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}
