import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobResult, LabControl } from '../../src/core/lab-definition.js';
import { applyRegistrations, loadEntries, SYNC_HINT } from '../../checks/secure-agents/registration.js';
import { scratchHome } from '../helpers/cli.js';
import { fakeClock } from '../helpers/fake-processes.js';

const TD = 'spiffe://lab.ai-infra-labs.dev';
const AGENT = `${TD}/spire/agent/x509pop/lab-node`;

function workspaceWith(entries: string): string {
  const dir = scratchHome('lab-entries-');
  mkdirSync(path.join(dir, 'spire'));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(path.join(dir, 'spire', 'entries.ts'), `export const entries = ${entries};\n`);
  return dir;
}

/** A SPIRE server that holds entries in memory and answers the three CLI calls the sync makes. */
function fakeSpire(
  existing: Array<{
    id: string;
    spiffe_id: string;
    parent_id: string;
    selectors: Array<{ type: string; value: string }>;
    hint?: string;
  }>,
) {
  const calls: string[][] = [];
  const inputs: string[] = [];
  const split = (id: string) => ({ trust_domain: 'lab.ai-infra-labs.dev', path: id.slice(TD.length) });
  const control: LabControl = {
    workspaceDir: '',
    secretsDir: '/nonexistent',
    url: () => new URL('http://127.0.0.1:1'),
    clock: fakeClock(),
    exec: async (_service, argv, options): Promise<JobResult> => {
      calls.push(argv);
      if (argv.includes('show'))
        return {
          exitCode: 0,
          output: JSON.stringify({
            entries: existing.map((e) => ({ ...e, spiffe_id: split(e.spiffe_id), parent_id: split(e.parent_id) })),
          }),
        };
      if (argv.includes('delete')) return { exitCode: 0, output: '' };
      if (argv.includes('create')) {
        inputs.push(options?.input ?? '');
        return { exitCode: 0, output: options?.input ?? '' };
      }
      return { exitCode: 1, output: 'unexpected' };
    },
  };
  return { control, calls, inputs };
}

describe('registration entries (lab 2 sync)', () => {
  it('explains an invalid entries file by index and field', async () => {
    const dir = workspaceWith(
      `[{ spiffe_id: 'spiffe://elsewhere/x', parent_id: '${AGENT}', selectors: [{ type: 'docker', value: 'label:a:b' }] }]`,
    );
    await expect(loadEntries(dir)).rejects.toThrow(/entries\[0\.spiffe_id\].*trust domain/);
    const empty = workspaceWith(`[{ spiffe_id: '${TD}/x', parent_id: '${AGENT}', selectors: [] }]`);
    await expect(loadEntries(empty)).rejects.toThrow(/selector/);
    // Each load is a child process (learner code never runs inside the grader): slow on a loaded machine.
  }, 60_000);

  it('creates what is missing, deletes what is no longer listed, keeps what matches', async () => {
    const keep = {
      spiffe_id: `${TD}/mcp-server`,
      parent_id: AGENT,
      selectors: [{ type: 'docker', value: 'label:dev.ai-infra-labs.workload:mcp-server' }],
    };
    const dir = workspaceWith(
      JSON.stringify([
        keep,
        { ...keep, spiffe_id: `${TD}/agent/research`, selectors: [{ type: 'docker', value: 'label:w:research' }] },
      ]),
    );
    const { control, calls, inputs } = fakeSpire([
      { id: 'keep-1', ...keep, hint: SYNC_HINT },
      { id: 'stale-1', ...keep, spiffe_id: `${TD}/old`, hint: SYNC_HINT },
    ]);
    const problems = await applyRegistrations({ ...control, workspaceDir: dir });
    expect(problems).toEqual([]);
    expect(calls.filter((c) => c.includes('delete')).map((c) => c.at(-1))).toEqual(['stale-1']);
    const created = calls.find((c) => c.includes('create'));
    expect(created).toContain('-data');
    // What it creates carries the sync's hint: that is how a later sync tells its entries from the learner's.
    expect(JSON.parse(inputs[0]!).entries).toEqual([
      expect.objectContaining({ spiffe_id: `${TD}/agent/research`, hint: SYNC_HINT }),
    ]);
  }, 60_000);

  it('never deletes an entry made by hand, and never creates a second one beside it', async () => {
    const support = {
      spiffe_id: `${TD}/agent/support`,
      parent_id: AGENT,
      selectors: [{ type: 'docker', value: 'label:dev.ai-infra-labs.workload:agent-support' }],
    };
    const other = { ...support, spiffe_id: `${TD}/agent/by-hand-not-in-file` };
    // The file lists support too: the hand-made entry already answers for it.
    const dir = workspaceWith(JSON.stringify([support]));
    const { control, calls } = fakeSpire([
      { id: 'hand-1', ...support, hint: 'by-hand' },
      { id: 'hand-2', ...other },
    ]);
    expect(await applyRegistrations({ ...control, workspaceDir: dir })).toEqual([]);
    expect(calls.filter((c) => c.includes('delete') || c.includes('create'))).toEqual([]);
  }, 60_000);

  it('reports, never throws, when the server cannot be reached', async () => {
    const dir = workspaceWith('[]');
    const control: LabControl = {
      workspaceDir: dir,
      secretsDir: '/nonexistent',
      url: () => new URL('http://127.0.0.1:1'),
      clock: fakeClock(),
      exec: async () => ({ exitCode: 1, output: 'connection refused' }),
    };
    const problems = await applyRegistrations(control);
    expect(problems[0]?.message).toMatch(/did not list its entries: connection refused/);
  }, 60_000);
});

describe('learner code runs outside the grader', () => {
  it('loads entries.ts in a child process: what the module does to its process never reaches lab check', async () => {
    const dir =
      workspaceWith(`[{ spiffe_id: '${TD}/mcp-server', parent_id: '${AGENT}', selectors: [{ type: 'docker', value: 'label:a:b' }] }];
process.exitCode = 0; process.on('exit', () => { process.exitCode = 0; }); JSON.parse = () => ({ entries: [] }); (globalThis as Record<string, unknown>).graderPatched = true`);
    const before = process.exitCode;
    const entries = await loadEntries(dir);
    expect(entries.map((e) => e.spiffe_id)).toEqual([`${TD}/mcp-server`]);
    expect((globalThis as Record<string, unknown>).graderPatched).toBeUndefined();
    expect(JSON.parse('{"a":1}')).toEqual({ a: 1 });
    expect(process.exitCode).toBe(before);
  }, 60_000);

  it('loads an unchanged file once per process (the sync and the check share it), a changed one anew', async () => {
    const entry = `{ spiffe_id: '${TD}/mcp-server', parent_id: '${AGENT}', selectors: [{ type: 'docker', value: 'label:a:b' }] }`;
    const dir = workspaceWith(`[${entry}]`);
    const first = await loadEntries(dir);
    expect(await loadEntries(dir)).toBe(first);
    writeFileSync(
      path.join(dir, 'spire', 'entries.ts'),
      `export const entries = [${entry}, ${entry.replace('mcp-server', 'rag-index')}];\n`,
    );
    expect((await loadEntries(dir)).map((e) => e.spiffe_id)).toEqual([`${TD}/mcp-server`, `${TD}/rag-index`]);
  }, 60_000);

  it('a module that throws is reported with its message, so a stale server is never taken for the file', async () => {
    const dir = workspaceWith(`[];\nthrow new Error('half-written entries')`);
    await expect(loadEntries(dir)).rejects.toThrow(/could not be loaded: .*half-written entries/);
  }, 60_000);
});
