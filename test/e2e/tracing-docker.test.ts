/**
 * Issue 13 on Docker (lab 2): the research agent's calls each make one trace from the agent's task through the
 * MCP server's request and tool handler (mTLS), its OPA decision and the index (mTLS again), collected by the
 * lab's trace receiver on the compose network; the call's audit entry names that trace, with the same decision_id
 * and verified SPIFFE ID on its spans; tool token counts equal cl100k_base's count of the arguments sent.
 * Required under CI; skips loudly on a machine without Docker.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '../../src/core/traces.js';
import { auditLogIn } from '../../src/services/audit/audit-trust.js';
import { readAudit } from '../../src/services/audit/audit-verify.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import { cliIn, scratchHome } from '../helpers/cli.js';
import { STACK_IMAGES } from '../helpers/docker-lab.js';
import {
  announceSkip,
  composeLeftovers,
  dockerRequired,
  missingDockerPrerequisite,
} from '../helpers/docker-prerequisites.js';
import { scaled } from '../helpers/timing.js';
import { composeProject } from '../../src/runtimes/docker-runtime.js';

const LAB = 'secure-agents';
const missing = await missingDockerPrerequisite(STACK_IMAGES);
announceSkip('tracing end-to-end tests on Docker', missing);
const tokens = (text: string) => new Tiktoken(cl100k).encode(text).length;

describe.skipIf(missing !== undefined && !dockerRequired)('tracing on Docker compose (lab 2)', () => {
  const home = scratchHome();
  const lab = cliIn(home);
  let calls: Array<{ query: string; collection: string | null; trace_id: string; outcome: string }> = [];

  beforeAll(async () => {
    if (missing) throw new Error(`Docker prerequisites missing under CI: ${missing}`);
    expect((await lab('start', LAB)).exitCode).toBe(0);
    for (const step of ['1', '2', '3', '4']) expect((await lab('solve', step, '--yes')).exitCode).toBe(0);
    const checked = await lab('check', '4');
    expect(checked.stdout).toMatch(/PASS {2}Each of the agent's calls is one trace/);
    const log = readFileSync(path.join(home, LAB, '.lab', 'logs', 'agent-research.log'), 'utf8');
    const result = log.split('\n').findLast((l) => l.includes('RESULT '))!;
    calls = (JSON.parse(result.slice(result.indexOf('RESULT ') + 7)) as { calls: typeof calls }).calls;
  }, scaled(600_000));
  afterAll(async () => {
    await lab('reset', '--yes');
    expect(await composeLeftovers(composeProject(LAB, home))).toEqual([]);
  });

  it("joins each agent call's trace to its audit entry: one tree across agent, MCP server, OPA decision and index", async () => {
    expect(calls.length).toBe(2);
    const audit = readAudit(auditLogIn(path.join(home, LAB))).entries;
    for (const call of calls) {
      const shown = await lab('trace', call.trace_id, '--json');
      expect(shown.exitCode, shown.stderr).toBe(0);
      const spans = (JSON.parse(shown.stdout) as { spans: SpanRecord[] }).spans;
      const one = (service: string, name: string) => {
        const found = spans.filter((s) => s.service === service && s.name === name);
        expect(found, `${service} "${name}" in ${call.trace_id}`).toHaveLength(1);
        return found[0]!;
      };
      const parentOf = (s: SpanRecord) => spans.find((p) => p.spanId === s.parentSpanId);
      const task = one('agent-research', 'agent task');
      expect(task.parentSpanId).toBeUndefined();
      const post = one('mcp-server', 'POST /mcp');
      expect(parentOf(post)).toBe(task);
      const tool = one('mcp-server', 'tool search_documents');
      expect(parentOf(tool)).toBe(post);
      const opa = one('mcp-server', 'opa decision');
      expect(parentOf(opa)).toBe(tool);
      const entry = audit.find((e) => e.trace_id === call.trace_id)!;
      expect(entry).toBeDefined();
      expect(opa.attributes['opa.decision_id']).toBe(entry.decision_id);
      expect(tool.attributes).toMatchObject({
        'spiffe.id': IDS.research,
        'opa.decision': entry.decision,
        'lab.audited': true,
        'lab.tokens.arguments': tokens(
          JSON.stringify({ query: call.query, top_k: 3, ...(call.collection ? { collection: call.collection } : {}) }),
        ),
      });
      expect(call.outcome).toBe('ok');
      expect(parentOf(parentOf(one('rag-index', 'rag-index query'))!)).toBe(tool);
      const ids = new Set(spans.map((s) => s.spanId));
      expect(spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId))).toEqual([]);
    }
  });

  it('`lab trace <the 8 digits lab audit shows>` draws the call with its SPIFFE ID, OPA decision and audit mark', async () => {
    const shown = await lab('trace', calls[0]!.trace_id.slice(0, 8));
    expect(shown.exitCode).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^trace ${calls[0]!.trace_id} `));
    expect(lines[1]).toMatch(/^services agent-research, mcp-server, rag-index {2}tokens \d+ .*counted by the server/);
    expect(shown.stdout).toMatch(
      new RegExp(
        `tool search_documents .* ok .*\\n\\s+spiffe ${IDS.research} · opa allow · decision [0-9a-f]{8} · audited`,
      ),
    );
    expect(shown.stdout).not.toContain('missing parent');
  });
});
