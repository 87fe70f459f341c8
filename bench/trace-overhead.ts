/**
 * What tracing costs a tool call: two lab 1 runs side by side on the local runtime, one traced (the default:
 * every service exports its spans to the trace receiver) and one with LAB_TRACING=off, the same reference
 * solution (steps 1-3: no token), search_documents calls alternating between them so both see the same machine.
 * The traced client sends a traceparent per call, as the agent does. Prints p50/p99 and the ratio; asserts nothing.
 * Usage: npm run bench:trace [-- --calls 2000]          goal: traced p50 <= 1.10 x untraced p50
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { repoDir } from '../src/core/paths.js';

const LAB = 'mcp-integration';
const calls = process.argv.includes('--calls') ? Number(process.argv[process.argv.indexOf('--calls') + 1]) : 2000;
const quantile = (xs: number[], q: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

function labIn(home: string, env: Record<string, string>) {
  return (...args: string[]) =>
    execa(process.execPath, [path.join(repoDir, 'bin', 'lab.js'), ...args], {
      env: { LAB_HOME: home, NO_COLOR: '1', ...env },
      reject: false,
      stdin: 'ignore',
    });
}

async function startSolved(home: string, env: Record<string, string>): Promise<URL> {
  const lab = labIn(home, env);
  const started = await lab('start', LAB, '--runtime', 'local');
  if (started.exitCode !== 0) throw new Error(`start failed: ${started.stderr}`);
  for (const step of ['1', '2', '3']) await lab('solve', step, '--yes');
  await lab('check', '--json'); // restarts the changed services once, outside any measurement
  const runtime = JSON.parse(readFileSync(path.join(home, LAB, '.lab', 'runtime.json'), 'utf8')) as {
    ports: Record<string, number>;
  };
  return new URL(`http://127.0.0.1:${runtime.ports['mcp-server']}/mcp`);
}

async function connect(endpoint: URL, traced: boolean): Promise<Client> {
  const client = new Client({ name: 'bench', version: '1' });
  // A new trace per call, as the agent makes: the header is read per request.
  const fetchTraced: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    headers.set('traceparent', `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`);
    return fetch(input, { ...init, headers });
  };
  await client.connect(new StreamableHTTPClientTransport(endpoint, traced ? { fetch: fetchTraced } : {}));
  return client;
}

const homes = [
  mkdtempSync(path.join(tmpdir(), 'lab-bench-traced-')),
  mkdtempSync(path.join(tmpdir(), 'lab-bench-plain-')),
];
try {
  console.log(
    `Tracing overhead on ${process.platform}/${process.arch}, Node ${process.versions.node}, ${cpus().length} cores\n`,
  );
  const traced = await connect(await startSolved(homes[0]!, {}), true);
  const plain = await connect(await startSolved(homes[1]!, { LAB_TRACING: 'off' }), false);
  const queries = ['spiffe id', 'default deny policy', 'mtls rotation', 'recall at k', 'audit log', 'tool discovery'];
  const times = { traced: [] as number[], plain: [] as number[] };
  for (let i = 0; i < calls + 200; i++) {
    for (const [name, client] of [
      ['traced', traced],
      ['plain', plain],
    ] as const) {
      const t = performance.now();
      await client.callTool({ name: 'search_documents', arguments: { query: queries[i % queries.length]!, top_k: 5 } });
      if (i >= 200) times[name].push(performance.now() - t); // the first 200 warm the JIT
    }
  }
  await traced.close();
  await plain.close();
  const line = (name: string, xs: number[]) =>
    `${name.padEnd(9)} p50 ${quantile(xs, 0.5).toFixed(2)} ms, p99 ${quantile(xs, 0.99).toFixed(2)} ms over ${xs.length} calls`;
  console.log(line('traced', times.traced));
  console.log(line('untraced', times.plain));
  const ratio = quantile(times.traced, 0.5) / quantile(times.plain, 0.5);
  console.log(`p50 ratio traced/untraced: ${ratio.toFixed(3)}x   goal <= 1.10x`);
} finally {
  for (const home of homes) {
    await labIn(home, {})('stop');
    rmSync(home, { recursive: true, force: true });
  }
}
