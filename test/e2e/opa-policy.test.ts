/**
 * Lab 2's policy against the real OPA (the image built here): the reference policy passes its own tests, the
 * rendered starter compiles but has no tests and denies everything, and the OPA client gets real decisions
 * from an OPA server, then fails closed once that server is gone.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoDir } from '../../src/core/paths.js';
import { renderRegions } from '../../src/core/solution-regions.js';
import { imageSpec } from '../../src/images/catalog.js';
import { freePort } from '../../src/runtimes/port-check.js';
import { opaClient, type PolicyInput } from '../../src/services/policy/opa-client.js';
import { scaled, waitFor } from '../helpers/timing.js';
import { announceSkip, dockerRequired, missingDockerPrerequisite } from '../helpers/docker-prerequisites.js';

const missing = await missingDockerPrerequisite(['opa']);
announceSkip('OPA policy tests', missing);

const POLICY_DIR = path.join(repoDir, 'labs', 'secure-agents', 'policy');
const POLICY_FILES = ['agents.rego', 'agents_test.rego'];
const TD = 'spiffe://lab.ai-infra-labs.dev';
const image = imageSpec('opa').local;
const name = `opa-e2e-${process.pid}`;
let starterDir: string;

/** Runs the OPA CLI in a throw-away container with `dir` mounted read-only at /policy. */
const opa = (dir: string, args: string[], stdin?: string) =>
  execa('docker', ['run', '--rm', '-i', '-v', `${dir}:/policy:ro`, image, ...args], {
    reject: false,
    input: stdin ?? '',
  });

const call = (spiffeId: string | null, collection: string, tool = 'search_documents'): PolicyInput => ({
  spiffe_id: spiffeId,
  tool,
  arguments: { query: 'incident response runbook' },
  collection,
});

describe.skipIf(missing !== undefined && !dockerRequired)('lab 2 OPA policy', () => {
  beforeAll(() => {
    if (missing) throw new Error(`Docker prerequisites missing under CI: ${missing}`);
    starterDir = mkdtempSync(path.join(tmpdir(), 'opa-starter-'));
    for (const file of POLICY_FILES)
      writeFileSync(path.join(starterDir, file), renderRegions(readFileSync(path.join(POLICY_DIR, file), 'utf8'), 0));
    // mkdtemp makes the directory 0700; OPA images may run as a non-root user.
    chmodSync(starterDir, 0o755);
  });

  afterAll(async () => {
    await execa('docker', ['rm', '-f', name], { reject: false });
    if (starterDir) rmSync(starterDir, { recursive: true, force: true });
  });

  it('the reference policy passes its own tests', async () => {
    const run = await opa(POLICY_DIR, ['test', '/policy', '-v', '--fail-on-empty']);
    expect(run.exitCode, String(run.stdout) + String(run.stderr)).toBe(0);
    const [, passed, total] = /^PASS: (\d+)\/(\d+)$/m.exec(String(run.stdout)) ?? [];
    expect(Number(passed)).toBe(Number(total));
    expect(Number(passed)).toBeGreaterThanOrEqual(8);
  });

  it('the rendered starter compiles, has no tests and denies everything', async () => {
    const check = await opa(starterDir, ['check', '--strict', '/policy']);
    expect(check.exitCode, String(check.stderr)).toBe(0);
    // `opa test` finds no tests and still exits 0 in OPA 1.22; only --fail-on-empty turns that into a failure.
    const plain = await opa(starterDir, ['test', '/policy', '-v']);
    expect(String(plain.stdout)).not.toMatch(/PASS:/);
    const strict = await opa(starterDir, ['test', '/policy', '--fail-on-empty']);
    expect(strict.exitCode).not.toBe(0);
    expect(String(strict.stderr)).toMatch(/no tests were run/);
    // reason and decision still evaluate without the step's rules.
    const decision = await opa(
      starterDir,
      ['eval', '-f', 'raw', '-I', '-d', '/policy', 'data.agents.authz.decision'],
      JSON.stringify(call(`${TD}/agent/research`, 'public')),
    );
    expect(JSON.parse(String(decision.stdout))).toEqual({ allow: false, reason: 'unknown identity' });
  });

  describe('the OPA client against an OPA server', () => {
    let baseUrl: string;

    beforeAll(async () => {
      // Docker picks the host port (127.0.0.1::8181), so no other process can take it between choosing and binding.
      await execa('docker', [
        'run',
        '-d',
        '--name',
        name,
        '--label',
        'dev.ai-infra-labs.owned=true',
        '-p',
        '127.0.0.1::8181',
        '-v',
        `${POLICY_DIR}:/policy:ro`,
        image,
        'run',
        '--server',
        '--addr=0.0.0.0:8181',
        '--set=decision_logs.console=true',
        '/policy',
      ]);
      const published = String((await execa('docker', ['port', name, '8181/tcp'])).stdout).split('\n')[0]!;
      baseUrl = `http://${published.trim()}`;
      // Each probe is bounded: docker-proxy accepts a connection before OPA listens, and an unbounded fetch would wait on it.
      await waitFor(
        `OPA at ${baseUrl} to answer /health`,
        async () =>
          (await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(scaled(1_000)) }).catch(() => undefined))
            ?.ok === true,
        { timeoutMs: 30_000 },
      ).catch(async (error: Error) => {
        throw new Error(
          `${error.message}\n${String((await execa('docker', ['logs', name], { reject: false, all: true })).all)}`,
        );
      });
    }, scaled(90_000));

    it.each([
      ['research reads internal', call(`${TD}/agent/research`, 'internal'), true, 'allowed'],
      ['research searches every collection', call(`${TD}/agent/research`, '*'), true, 'allowed'],
      ['support reads public', call(`${TD}/agent/support`, 'public', 'get_document'), true, 'allowed'],
      [
        'support reads internal',
        call(`${TD}/agent/support`, 'internal'),
        false,
        'collection not permitted for this agent',
      ],
      [
        'support searches every collection',
        call(`${TD}/agent/support`, '*'),
        false,
        'collection not permitted for this agent',
      ],
      ['an unknown agent', call(`${TD}/agent/intruder`, 'public'), false, 'unknown identity'],
      ['a caller without identity', call(null, 'public'), false, 'unknown identity'],
      [
        'a tool outside the list',
        call(`${TD}/agent/research`, 'public', 'delete_document'),
        false,
        'tool not permitted for this agent',
      ],
    ])('decides %s', async (_what, input, allow, reason) => {
      const decision = await opaClient(baseUrl).decide(input);
      expect(decision).toMatchObject({ allow, reason, source: 'opa' });
      expect(decision.decisionId).toMatch(/\S/);
    });

    it("the decision id joins the answer to OPA's decision log", async () => {
      const decision = await opaClient(baseUrl).decide(call(`${TD}/agent/support`, 'internal'));
      const logs = String((await execa('docker', ['logs', name], { all: true })).all);
      const entry = logs
        .split('\n')
        .filter((line) => line.includes(decision.decisionId!))
        .map((line) => JSON.parse(line) as Record<string, unknown>)[0];
      expect(entry).toMatchObject({
        msg: 'Decision Log',
        path: 'agents/authz/decision',
        result: { allow: false, reason: 'collection not permitted for this agent' },
      });
    });

    it('fails closed, without throwing, once OPA is stopped', async () => {
      await execa('docker', ['stop', '-t', '1', name]);
      const started = Date.now();
      const decision = await opaClient(baseUrl, { timeoutMs: 1_000 }).decide(call(`${TD}/agent/research`, 'internal'));
      expect(decision).toMatchObject({ allow: false, source: 'fail-closed', decisionId: null });
      expect(decision.reason).toMatch(/^policy unavailable: /);
      expect(Date.now() - started).toBeLessThan(1_500);
    });

    it('fails closed against a port where nothing listens', async () => {
      const decision = await opaClient(`http://127.0.0.1:${await freePort()}`).decide(
        call(`${TD}/agent/research`, 'public'),
      );
      expect(decision).toEqual({
        allow: false,
        reason: 'policy unavailable: cannot reach OPA (ECONNREFUSED)',
        decisionId: null,
        source: 'fail-closed',
      });
    });
  });
});
