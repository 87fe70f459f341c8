import { describe, expect, it } from 'vitest';
import { agentTokenTotals, traceShape } from '../../src/core/trace-shape.js';
import type { SpanRecord } from '../../src/core/traces.js';
import { renderWaterfall, spanTokens } from '../../src/ui/trace-waterfall.js';

const TRACE = 'f'.repeat(32);
let next = 0;
function span(
  name: string,
  service: string,
  parent: SpanRecord | undefined,
  at: number,
  ms: number,
  extra: Partial<SpanRecord> = {},
): SpanRecord {
  next += 1;
  return {
    traceId: TRACE,
    spanId: next.toString(16).padStart(16, '0'),
    ...(parent ? { parentSpanId: parent.spanId } : {}),
    name,
    kind: 1,
    service,
    startMs: 1_000 + at,
    durationMs: ms,
    status: 'unset',
    attributes: {},
    ...extra,
  };
}

function agentRun() {
  const run = span('agent run', 'agent', undefined, 0, 100, { attributes: { 'lab.tokens.total': 30 } });
  const call = span('mcp tools/call search_documents', 'agent', run, 50, 40, {
    attributes: { 'lab.tokens.arguments': 10, 'lab.tokens.result': 15 },
  });
  const plan = span('agent plan', 'agent', run, 10, 5, {
    attributes: { 'gen_ai.usage.input_tokens': 4, 'gen_ai.usage.output_tokens': 1 },
  });
  const post = span('POST /mcp', 'mcp-server', call, 55, 30);
  const tool = span('tool search_documents', 'mcp-server', post, 56, 20, {
    status: 'error',
    attributes: {
      'lab.tokens.arguments': 10,
      'lab.tokens.result': 15,
      'spiffe.id': 'spiffe://lab/agent',
      'opa.decision': 'allow',
    },
  });
  const index = span('rag-index query', 'rag-index', tool, 60, 10);
  // Out of order on purpose: the receiver appends spans as they end.
  return { run, call, plan, post, tool, index, all: [index, tool, post, call, plan, run] };
}

describe('traceShape', () => {
  it('orders rows depth-first, children by start time, and finds roots and broken parent links', () => {
    const { all, run } = agentRun();
    const shape = traceShape(all);
    expect(shape.rows.map((r) => `${r.depth}:${r.span.name}`)).toEqual([
      '0:agent run',
      '1:agent plan',
      '1:mcp tools/call search_documents',
      '2:POST /mcp',
      '3:tool search_documents',
      '4:rag-index query',
    ]);
    expect(shape.roots).toEqual([run]);
    expect(shape.orphans).toEqual([]);
    expect(shape.services).toEqual(['agent', 'mcp-server', 'rag-index']);

    const lost = span('GET /search', 'rag-index', { spanId: 'dead00000000beef' } as SpanRecord, 70, 1);
    expect(traceShape([...all, lost]).orphans).toEqual([lost]);
  });

  it("sums the agent's tokens once: its tool calls and plan steps, not the servers' recount nor the run's total", () => {
    expect(agentTokenTotals(agentRun().all)).toEqual({
      arguments: 10,
      result: 15,
      prompt: 4,
      completion: 1,
      total: 30,
    });
  });
});

describe('renderWaterfall', () => {
  it('draws one row per span, indented, with duration, status, tokens, lab 2 facts and a bar on the timeline', () => {
    const { all } = agentRun();
    const lines = renderWaterfall(all, { width: 120 });
    expect(lines[0]).toBe(`trace ${TRACE}  100.0 ms  6 spans`);
    expect(lines[1]).toBe(
      'services agent, mcp-server, rag-index  tokens 30 (10 in tool arguments, 15 in results, 4 prompt, 1 completion)',
    );
    expect(lines[2]).toMatch(/^service\s+span\s+duration\s+status\s+tokens\s+timeline$/);
    const rows = lines.slice(3);
    expect(rows).toHaveLength(7);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    // The run spans the whole timeline; the call starts halfway and lasts 40% of it.
    const full = rows[0]!.match(/█+$/)![0].length;
    expect(rows[0]).toMatch(/^agent\s+agent run\s+100\.0 ms\s+ok\s+30 total\s+█+$/);
    expect(rows[2]).toMatch(/^agent\s+ {2}mcp tools\/call search_documents\s+40\.0 ms\s+ok\s+10→15\s+█+$/);
    const callBar = rows[2]!.match(/█+$/)![0].length;
    expect(Math.abs(callBar - 0.4 * full)).toBeLessThanOrEqual(1);
    expect(rows[2]!.indexOf('█') - rows[0]!.indexOf('█')).toBe(Math.floor(0.5 * full));
    expect(rows[4]).toMatch(/^mcp-server\s+ {6}tool search_documents\s+20\.0 ms\s+ERROR\s+10→15\s+█+$/);
    expect(rows[5]).toMatch(/^\s+spiffe spiffe:\/\/lab\/agent · opa allow$/);
    expect(rows[1]).toContain('in 4/out 1');
    expect(lines.join('\n')).not.toContain('missing parent');
  });

  it("heads a lab 2 trace (its agents count nothing) with the server's tool counts, and marks the audited span", () => {
    const task = span('agent task', 'agent-research', undefined, 0, 50);
    const tool = span('tool search_documents', 'mcp-server', task, 10, 30, {
      attributes: {
        'lab.tokens.arguments': 20,
        'lab.tokens.result': 243,
        'lab.audited': true,
        'opa.decision_id': '26121aad-126d',
      },
    });
    const lines = renderWaterfall([task, tool]);
    expect(lines[1]).toContain('tokens 263 (20 in tool arguments, 243 in results, counted by the server)');
    expect(lines.at(-2)).toMatch(/tool search_documents .*20→243/);
    expect(lines.at(-1)).toMatch(/^\s+decision 26121aad · audited$/);
  });

  it('says so when the trace is not one tree, and draws nothing for no spans', () => {
    const { all, run } = agentRun();
    const lines = renderWaterfall(all.filter((s) => s !== run));
    expect(lines.at(-2)).toMatch(/0 root spans and 2 spans with a missing parent/);
    expect(renderWaterfall([])).toEqual([]);
    expect(spanTokens(span('x', 'y', undefined, 0, 1))).toBe('');
  });
});
