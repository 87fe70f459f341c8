/**
 * Lab 2 (secure-agents) end to end on a real engine with the SPIRE and OPA images built here: the self-test,
 * then the "done when" cases on a solved lab — OPA stopped (calls denied and audited, fail closed), a
 * SPIRE server restart (the next `lab check` still passes), a verified audit chain, and a reset that leaves
 * nothing. Required under CI; skips loudly on a machine without Docker.
 */
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/services/audit/audit-verify.js';
import { auditLogIn } from '../../src/services/audit/audit-trust.js';
import { searchAs } from '../../checks/secure-agents/policy.js';
import { IMPOSTOR } from '../../checks/secure-agents/calls.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import { catalogueCounts } from '../helpers/catalogue.js';
import { allChecksPassed, cliIn, scratchHome } from '../helpers/cli.js';
import { STACK_IMAGES, runningLab } from '../helpers/docker-lab.js';
import {
  announceSkip,
  composeLeftovers,
  dockerRequired,
  missingDockerPrerequisite,
} from '../helpers/docker-prerequisites.js';
import { scaled } from '../helpers/timing.js';

const LAB = 'secure-agents';
const missing = await missingDockerPrerequisite(STACK_IMAGES);
announceSkip('secure-agents end-to-end tests', missing);

describe.skipIf(missing !== undefined && !dockerRequired)('lab 2 secure-agents on Docker compose', () => {
  const home = scratchHome();
  const lab = cliIn(home);
  const { project, container, probeContext } = runningLab(home, LAB);

  beforeAll(() => {
    if (missing) throw new Error(`Docker prerequisites missing under CI: ${missing}`);
  });
  afterAll(async () => {
    await lab('reset', '--yes');
  });

  it(
    'passes the self-test: every check is tied to its step, every mutant is caught and every variant passes',
    async () => {
      const { mutants, variants } = catalogueCounts(LAB);
      expect(mutants).toBeGreaterThanOrEqual(30);
      expect(variants).toBeGreaterThanOrEqual(3);
      const result = await cliIn(scratchHome(), {}, scaled(1_200_000))('test', LAB);
      expect(result.stdout, result.stderr).not.toContain('FAIL');
      expect(result.stdout).toContain(`mutants caught ${mutants}/${mutants}`);
      expect(result.stdout).toContain(`variants passed ${variants}/${variants}`);
      expect(result.stdout).toContain('self-test passed');
      expect(result.exitCode).toBe(0);
    },
    scaled(1_260_000),
  );

  it('refuses the local runtime with the reason and exit 2', async () => {
    const result = await lab('start', LAB, '--runtime', 'local');
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('cannot run on the local runtime');
    expect(result.stderr).toMatch(/docker workload attestor/);
  });

  it(
    'solved, every check passes, and only the two mTLS ports are published, on 127.0.0.1',
    async () => {
      expect((await lab('start', LAB)).exitCode).toBe(0);
      for (const step of ['1', '2', '3', '4']) expect((await lab('solve', step, '--yes')).exitCode).toBe(0);
      const checked = await lab('check');
      expect(checked.stdout, checked.stdout).toContain(await allChecksPassed(LAB));
      expect(checked.exitCode).toBe(0);
      const ports = await execa('docker', [
        'ps',
        '--filter',
        `label=com.docker.compose.project=${project}`,
        '--format',
        '{{.Names}} {{.Ports}}',
      ]);
      for (const line of String(ports.stdout).trim().split('\n')) {
        const published = line.split(' ').slice(1).join(' ');
        if (published) expect(published).toMatch(/^127\.0\.0\.1:\d+->8443\/tcp$/);
      }
    },
    scaled(240_000),
  );

  it(
    'with OPA stopped, a tool call is denied (fail closed) and audited; the next check restarts OPA',
    async () => {
      await execa('docker', ['stop', '-t', '2', (await container('opa')).id]);
      const call = await searchAs(probeContext(), IDS.research, 'public');
      expect(call.allowed).toBe(false);
      expect(call.text).toMatch(/policy unavailable/);
      const entry = readAudit(auditLogIn(path.join(home, LAB))).entries.find((e) => e.trace_id === call.traceId);
      expect(entry).toMatchObject({ spiffe_id: IDS.research, decision: 'deny', outcome: 'denied', decision_id: null });
      const checked = await lab('check', '3');
      expect(checked.exitCode, checked.stdout).toBe(0);
    },
    scaled(120_000),
  );

  it(
    'after a SPIRE server restart the next lab check still passes',
    async () => {
      await execa('docker', ['restart', '-t', '5', (await container('spire-server')).id]);
      const checked = await lab('check');
      expect(checked.stdout, checked.stdout).toContain(await allChecksPassed(LAB));
    },
    scaled(240_000),
  );

  it(
    'keeps a verifiable audit chain, and reset leaves nothing of the lab behind',
    async () => {
      const verified = await lab('audit', '--verify');
      expect(verified.exitCode, verified.stderr).toBe(0);
      expect(verified.stdout).toMatch(/audit chain verified: \d+ entries/);
      const entries = readAudit(auditLogIn(path.join(home, LAB))).entries;
      expect(new Set(entries.map((e) => e.spiffe_id))).toEqual(
        new Set([IDS.research, IDS.support, IDS.unregistered, IMPOSTOR]),
      );
      expect((await lab('reset', '--yes')).exitCode).toBe(0);
      expect(await composeLeftovers(project)).toEqual([]);
    },
    scaled(120_000),
  );
});
