/**
 * Lab 2's operator commands on a real engine: `lab status` (https://, "waiting for SVID"), `lab spire` (the
 * server's CLI with its admin socket), `lab identity` (each workload's SVID) and `lab opa test` (the learner's
 * tests in the OPA container), and the services' stamped logs under Docker. Few steps, one lab run: CPU is scarce.
 * Required under CI; skips loudly on a machine without Docker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_ID, IDS } from '../../labs/secure-agents/spire-layout.js';
import { cliIn, scratchHome } from '../helpers/cli.js';
import { announceSkip, dockerRequired, missingDockerPrerequisite } from '../helpers/docker-prerequisites.js';
import { STACK_IMAGES } from '../helpers/docker-lab.js';
import { scaled } from '../helpers/timing.js';

const LAB = 'secure-agents';
const missing = await missingDockerPrerequisite(STACK_IMAGES);
announceSkip('lab 2 operator commands', missing);

describe.skipIf(missing !== undefined && !dockerRequired)('lab 2 operator commands on Docker compose', () => {
  const home = scratchHome();
  const lab = cliIn(home, {}, scaled(240_000));

  beforeAll(async () => {
    if (missing) throw new Error(`Docker prerequisites missing under CI: ${missing}`);
    const started = await lab('start', LAB, '--no-walkthrough');
    expect(started.exitCode, started.stderr).toBe(0);
  }, scaled(300_000));
  afterAll(async () => {
    await lab('reset', '--yes');
  }, scaled(120_000));

  it(
    'before step 1: status shows https:// and "waiting for SVID"; spire and opa test run in their containers',
    async () => {
      const status = await lab('status');
      expect(status.exitCode).toBe(0);
      for (const service of ['mcp-server', 'rag-index'])
        expect(status.stdout).toMatch(
          new RegExp(`${service}\\s+waiting\\s+https://127\\.0\\.0\\.1:\\d+.*waiting for SVID`),
        );
      // Only the runner's trace receiver speaks plain HTTP; every workload port is mTLS.
      const plain = status.stdout.split('\n').filter((l) => /http:\/\/127/.test(l));
      expect(plain.map((l) => l.trim().split(/\s+/)[0])).toEqual(['trace-receiver']);
      const entries = await lab('spire', 'entry', 'show');
      expect(entries.exitCode, entries.stderr).toBe(0);
      expect(entries.stderr).toContain('-socketPath /run/spire/server/api.sock');
      expect((await lab('spire', 'run')).exitCode).toBe(2);
      const tests = await lab('opa', 'test');
      expect(tests.exitCode).toBe(1);
      expect(tests.stdout).toContain('opa test exited with');
    },
    scaled(120_000),
  );

  it(
    "after step 1: identity shows each server's SVID, the agent and the entries; spire creates and deletes an entry by hand, and the sync keeps it",
    async () => {
      expect((await lab('solve', '1', '--yes')).exitCode).toBe(0);
      const check = await lab('check', '1');
      expect(check.exitCode, check.stdout).toBe(0);
      const identity = await lab('identity');
      expect(identity.exitCode, identity.stderr).toBe(0);
      expect(identity.stdout).toContain(AGENT_ID);
      expect(identity.stdout).toMatch(new RegExp(`mcp-server\\s+${IDS.mcpServer}`));
      expect(identity.stdout).toMatch(new RegExp(`rag-index\\s+${IDS.ragIndex}`));
      expect(identity.stdout).toMatch(/serial\s+[0-9A-F]+/);
      expect(identity.stdout).toMatch(/not after\s+\d{4}-\d\d-\d\dT.*\(in /);
      expect(identity.stdout).toMatch(/rotation\s+(in |due now)/);
      expect(identity.stdout).toContain(IDS.research);
      const status = await lab('status');
      expect(status.stdout).toMatch(
        new RegExp(`mcp-server\\s+running\\s+https://127\\.0\\.0\\.1:\\d+\\s+${IDS.mcpServer}`),
      );
      expect(status.stdout).not.toContain('waiting');

      const byHand = 'spiffe://lab.ai-infra-labs.dev/agent/by-hand';
      const created = await lab(
        'spire',
        'entry',
        'create',
        '-parentID',
        AGENT_ID,
        '-spiffeID',
        byHand,
        '-selector',
        'docker:label:dev.ai-infra-labs.workload:by-hand',
      );
      expect(created.exitCode, created.stdout + created.stderr).toBe(0);
      const id = /Entry ID\s*:\s*(\S+)/.exec(created.stdout)?.[1];
      expect(id).toBeTruthy();
      expect((await lab('spire', 'entry', 'show', '-spiffeID', byHand)).stdout).toContain(byHand);
      // The sync of spire/entries.ts never deletes an entry made by hand: the check names it and how to delete it.
      const judged = await lab('check', '1');
      expect(judged.exitCode).toBe(1);
      expect(judged.stdout).toContain(`the entry ${id} for ${byHand}: ${byHand} is not one of the four workloads' IDs`);
      expect(judged.stdout).not.toContain('an entry no lab container matches');
      expect(judged.stdout).toContain(`npx lab spire entry delete -entryID ${id}`);
      expect((await lab('spire', 'entry', 'show', '-spiffeID', byHand)).stdout).toContain(byHand);
      expect((await lab('spire', 'entry', 'delete', '-entryID', id!)).exitCode).toBe(0);
      const gone = await lab('spire', 'entry', 'show', '-spiffeID', byHand);
      expect(gone.stdout).not.toContain(byHand);
    },
    scaled(240_000),
  );

  it(
    "runs the learner's opa tests once written, and stamps the services' logs with a separator per start",
    async () => {
      expect((await lab('solve', '3', '--yes')).exitCode).toBe(0);
      const tests = await lab('opa', 'test');
      expect(tests.exitCode, tests.stdout).toBe(0);
      expect(tests.stdout).toMatch(/PASS: \d+\/\d+/);
      const log = (await lab('logs', 'mcp-server', '-n', '1000')).stdout.split('\n');
      expect(log.some((l) => /^=== lab: mcp-server started \d{4}-\d\d-\d\dT[\d:.]+Z ===$/.test(l))).toBe(true);
      for (const line of log.filter((l) => l.trim() !== '' && !l.startsWith('=== lab: ')))
        expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    },
    scaled(120_000),
  );
});
