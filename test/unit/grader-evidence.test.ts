import { describe, expect, it } from 'vitest';
import { findLeak } from '../../checks/mcp-integration/secrets.js';
import type { CheckResult } from '../../src/core/check-engine.js';
import { attributeRootCause } from '../../src/core/grade.js';
import { currentLogSection, logSectionMarker } from '../../src/core/log-sections.js';

const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: 'at+jwt' })).toString('base64url');
const payload = Buffer.from(JSON.stringify({ sub: 'agent-1234', scope: 'docs:read', exp: 1_900_000_000 })).toString(
  'base64url',
);
const signature = 'q3Z8mN1vR4tY7uI0oP2aS5dF8gH1jK4lZ7xC0vB3nM6qW9eR2tY5uI8oP1aS4dF7gH0jK3lZ6xC9vB2nM5qW8e';
const token = `${header}.${payload}.${signature}`;

describe('token leak detection', () => {
  it('finds a token in every form a careless server writes it', () => {
    const forms = {
      whole: `request with Bearer ${token}`,
      'signature only': `request id ${signature}`,
      base64: `auth ${Buffer.from(`Bearer ${token}`).toString('base64')}`,
      'split in halves': `part 1: ${token.slice(0, token.length / 2)}\npart 2: ${token.slice(token.length / 2)}`,
      hex: `sig ${Buffer.from(signature).toString('hex')}`,
    };
    for (const [form, text] of Object.entries(forms)) expect(findLeak(text, [signature]), form).toBeDefined();
  });

  it("finds the agent's client secret as written, in a logged Basic header and in part", () => {
    const secret = 'Zx8Qw3Er6Ty9Ui2Op5As8Df1Gh4Jk7Lz0Xc3Vb6Nm9Qw';
    const forms = {
      whole: `oauth client agent-1a2b secret=${secret}`,
      'basic header': `authorization: Basic ${Buffer.from(`agent-1a2b:${secret}`).toString('base64')}`,
      'first half': `secret starts ${secret.slice(0, 30)}`,
    };
    for (const [form, text] of Object.entries(forms))
      expect(findLeak(text, [], [secret]), form).toBe("the agent's OAuth client secret");
    expect(findLeak('client agent-1a2b authenticated', [], [secret])).toBeUndefined();
  });

  it('does not flag ordinary log lines', () => {
    const log =
      'mcp-server listening on http://127.0.0.1:41234/mcp (auth required)\ntoken issued to agent-1a2b3c4d for http://127.0.0.1:41234/mcp (scope docs:read)\n';
    expect(findLeak(log, [signature])).toBeUndefined();
  });
});

describe('per-run log sections', () => {
  it('reads only the lines after the last start marker', () => {
    const log = `${logSectionMarker('mcp-server', new Date(0))}old leak\n${logSectionMarker('mcp-server', new Date(1000))}fresh line\n`;
    expect(currentLogSection(log)).toBe('fresh line\n');
    expect(currentLogSection('no markers\n')).toBe('no markers\n');
  });
});

describe('root-cause verdicts', () => {
  const result = (id: string, status: CheckResult['status'], message: string): CheckResult => ({
    id,
    title: id,
    step: 1,
    stepId: 's',
    status,
    message,
    durationMs: 1,
  });

  it('names the crashed service and its log tail in every check that did not pass, keeping the symptom', () => {
    const results = [result('a', 'pass', 'fine'), result('b', 'error', 'fetch failed'), result('c', 'timeout', 'slow')];
    const out = attributeRootCause(results, [
      { service: 'mcp-server', message: 'mcp-server exited during startup', logTail: 'SyntaxError: Unexpected token' },
    ]);
    expect(out[0]).toEqual(results[0]);
    for (const r of out.slice(1)) {
      expect(r.status).toBe('fail');
      expect(r.message).toContain('mcp-server is not running');
      expect(r.message).toContain('SyntaxError: Unexpected token');
      expect(r.fix).toContain('Fix mcp-server first');
      expect(r.fix).not.toMatch(/bug in the check/);
    }
    expect(out[1]!.details).toMatchObject({ rootCause: ['mcp-server'], symptom: 'fetch failed' });
  });

  it('leaves results alone when every service is up', () => {
    const results = [result('b', 'fail', 'wrong')];
    expect(attributeRootCause(results, [])).toBe(results);
  });
});

describe("get_document's own id", () => {
  const body = 'SPIRE issues SVIDs; see [opa-003] for the policy side.';
  const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
  it('comes from the structured document, a JSON text, or an [id] outside the body, never a citation in it', async () => {
    const { idsNamed } = await import('../../checks/mcp-integration/tool-execution.js');
    expect(idsNamed({ ...text(body), structuredContent: { document: { id: 'rag-008' } } }, body)).toEqual(['rag-008']);
    expect(idsNamed(text(JSON.stringify({ id: 'rag-008', title: 'T', body })), body)).toEqual(['rag-008']);
    expect(idsNamed(text(JSON.stringify({ title: 'T', body })), body)).toEqual([]);
    expect(idsNamed(text(`T\n\n${body}`), body)).toEqual([]);
    expect(idsNamed(text(`[rag-008] T\n\n${body}`), body)).toEqual(['rag-008']);
    // A wrong document still names itself.
    expect(idsNamed(text(`[opa-001] Other\n\nother body`), body)).toEqual(['opa-001']);
  });
});
