/**
 * Lab 2's grader pieces that need no Docker: the learner's guard driven in a child process against the grader's
 * own OPA and index (fail-closed, obeys OPA, verified identity only), the known-wrong policies, and root-cause
 * verdicts for a service that is down.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CheckContext, CheckDefinition } from '../../src/core/lab-definition.js';
import { fail } from '../../src/core/lab-definition.js';
import { repoDir } from '../../src/core/paths.js';
import { renderRegions } from '../../src/core/solution-regions.js';
import { FAULTS, OBEYS, probeGuard, SPOOFED } from '../../checks/secure-agents/guard-probe.js';
import { needing } from '../../checks/secure-agents/root-cause.js';
import { wrongPolicies } from '../../checks/secure-agents/wrong-policies.js';
import { scratchHome } from '../helpers/cli.js';

const SOLVED_GUARD = renderRegions(
  readFileSync(path.join(repoDir, 'labs/secure-agents/mcp-server/guard.ts'), 'utf8'),
  99,
);
const DECIDE =
  '  decision = await policy.decide({ spiffe_id: call.spiffeId, tool: call.tool, arguments: call.arguments, collection: call.collection });\n';

function workspaceWithGuard(guard: string): CheckContext {
  const dir = scratchHome('lab-guard-');
  mkdirSync(path.join(dir, 'mcp-server'));
  writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}');
  writeFileSync(path.join(dir, 'mcp-server', 'guard.ts'), guard);
  return { workspaceDir: dir } as CheckContext;
}

const problemsOf = async (guard: string) =>
  (await probeGuard(workspaceWithGuard(guard), [...FAULTS, ...OBEYS, SPOOFED])).flatMap((v) => v.problems);

describe('the learner guard against the grader-run OPA', () => {
  it('the reference guard denies on every OPA failure, obeys OPA and sends the verified identity', async () => {
    expect(SOLVED_GUARD).toContain(DECIDE);
    expect(await problemsOf(SOLVED_GUARD)).toEqual([]);
  }, 60_000);

  it('a guard that fails open when OPA is unavailable is caught by every fault', async () => {
    const open = SOLVED_GUARD.replace(
      DECIDE,
      `${DECIDE}  if (decision.source === 'fail-closed') decision = { ...decision, allow: true };\n`,
    );
    const problems = await problemsOf(open);
    for (const fault of FAULTS) expect(problems.join('\n')).toContain(`${fault.what}: the call went through`);
  }, 60_000);

  it('a guard that decides from its own table, and one that trusts a header, are caught', async () => {
    const table = SOLVED_GUARD.replace(
      DECIDE,
      "  decision = { allow: call.spiffeId?.endsWith('/research') === true, reason: 'table', decisionId: 'x', source: 'opa' };\n",
    );
    expect((await problemsOf(table)).join('\n')).toMatch(/OPA was never asked/);
    const header = SOLVED_GUARD.replace(
      'spiffe_id: call.spiffeId, tool',
      "spiffe_id: String(call.headers['x-spiffe-id'] ?? call.spiffeId), tool",
    );
    expect((await problemsOf(header)).join('\n')).toMatch(
      /support claims research in request headers: the call went through/,
    );
  }, 90_000);
});

describe('known-wrong policies and root causes', () => {
  it('offers distinct wrong policies, each a whole agents.authz module', () => {
    const wrong = wrongPolicies();
    expect(new Set(wrong.map((w) => w.id)).size).toBe(wrong.length);
    for (const w of wrong) expect(w.module).toMatch(/^package agents\.authz\n/);
  });

  it('a failing check whose service is down reports that one cause, its log tail and the check to fix first', async () => {
    const failing: CheckDefinition = {
      id: 'policy-matrix',
      title: 't',
      run: async () => fail('symptom', 'symptom fix'),
    };
    const ctx = {
      secretsDir: '/nonexistent',
      exec: async (service: string) => ({ exitCode: service === 'opa' ? 1 : 0, output: '' }),
      logs: async () => 'line one\nopa: listen tcp 0.0.0.0:8181: bind: address already in use\n',
    } as unknown as CheckContext;
    const outcome = await needing(['spire-server', 'opa'], failing).run(ctx);
    expect(outcome.status).toBe('fail');
    expect(outcome.message).toMatch(/^Not graded: OPA is not running\. Its log ends: .*address already in use/);
    expect(outcome.fix).toMatch(/check policy-opa-test/);
    const thrown: CheckDefinition = {
      ...failing,
      run: async () => {
        throw new Error('socket hang up');
      },
    };
    expect((await needing(['opa'], thrown).run(ctx)).message).toMatch(/OPA is not running/);
  });
});
