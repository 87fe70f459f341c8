import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoDir } from '../../src/core/paths.js';
import { freePort } from '../../src/runtimes/port-check.js';

const tsx = createRequire(import.meta.url).resolve('tsx');

/** Starts one service entry (a .ts file) as a real process on a free loopback port and waits for /health. */
export async function startService(entry: string, env: Record<string, string>, port?: number): Promise<{ url: string; port: number; stop: () => void; output: () => string; alive: () => boolean }> {
  const chosen = port ?? (await freePort());
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', tsx, path.resolve(repoDir, entry)], {
    env: { PATH: process.env.PATH!, HOST: '127.0.0.1', PORT: String(chosen), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const url = `http://127.0.0.1:${chosen}`;
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${entry} exited: ${output}`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, port: chosen, stop: () => child.kill(), output: () => output, alive: () => child.exitCode === null && child.signalCode === null };
    } catch {
      /* not yet listening */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill();
  throw new Error(`${entry} did not become healthy: ${output}`);
}
