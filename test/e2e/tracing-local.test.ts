/**
 * Issue 13 end to end on the local runtime: one agent run (through `lab check`) yields one connected trace across
 * every service of lab 1, its spans named as the course documents, and token counts equal to cl100k_base's count of
 * the text that really crossed the wire (re-fetched here over MCP and counted with the tokenizer directly).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100k from 'js-tiktoken/ranks/cl100k_base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpanRecord } from '../../src/core/traces.js';
import { cliIn, runtimeRecord, scratchHome } from '../helpers/cli.js';
import { scaled } from '../helpers/timing.js';

const LAB = 'mcp-integration';
const home = scratchHome();
const lab = cliIn(home);
const ws = (...p: string[]) => path.join(home, LAB, ...p);
const encoder = new Tiktoken(cl100k);
const tokens = (text: string) => encoder.encode(text).length;

interface Entry {
  type: string;
  [key: string]: unknown;
}

let entries: Entry[] = [];
let spans: SpanRecord[] = [];
let traceId = '';

afterAll(async () => {
  await lab('stop');
});

describe('tracing on the local runtime (lab 1)', () => {
  beforeAll(async () => {
    expect((await lab('start', LAB, '--runtime', 'local')).exitCode).toBe(0);
    for (const step of ['1', '2', '3', '4']) expect((await lab('solve', step, '--yes')).exitCode).toBe(0);
    const checked = await lab('check', '4');
    expect(checked.stdout).toContain("PASS  The agent's run is one trace");
    entries = readFileSync(ws('.lab', 'transcripts', 'agent.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Entry);
    traceId = String(entries.find((e) => e.type === 'tokens')?.traceId);
    const shown = await lab('trace', traceId, '--json');
    expect(shown.exitCode).toBe(0);
    spans = (JSON.parse(shown.stdout) as { traceId: string; spans: SpanRecord[] }).spans;
  }, scaled(240_000));

  const one = (service: string, name: string) => {
    const found = spans.filter((s) => s.service === service && s.name === name);
    expect(found, `${service} "${name}"`).toHaveLength(1);
    return found[0]!;
  };
  const parentOf = (span: SpanRecord) => spans.find((s) => s.spanId === span.parentSpanId);

  it('is one tree rooted in the agent run, across agent, auth-server, mcp-server and rag-index', () => {
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([traceId]));
    const ids = new Set(spans.map((s) => s.spanId));
    const roots = spans.filter((s) => !s.parentSpanId);
    expect(roots.map((s) => `${s.service} ${s.name}`)).toEqual(['agent agent run']);
    expect(spans.filter((s) => s.parentSpanId && !ids.has(s.parentSpanId))).toEqual([]);
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['agent', 'auth-server', 'mcp-server', 'rag-index']));
  });

  it('names each hop and links it to its caller: plan, tools/list, tools/call, tool handler, index query', () => {
    const run = one('agent', 'agent run');
    expect(spans.filter((s) => s.name === 'agent plan').every((s) => s.parentSpanId === run.spanId)).toBe(true);
    expect(spans.filter((s) => s.name === 'agent plan').length).toBeGreaterThanOrEqual(2);
    expect(parentOf(one('agent', 'mcp tools/list'))).toBe(run);
    expect(parentOf(one('auth-server', 'POST /oauth2/token'))).toBe(run);
    for (const tool of ['search_documents', 'get_document']) {
      const call = one('agent', `mcp tools/call ${tool}`);
      const handler = one('mcp-server', `tool ${tool}`);
      const post = parentOf(handler)!;
      expect(`${post.service} ${post.name}`).toBe('mcp-server POST /mcp');
      expect(parentOf(post)).toBe(call);
      expect(call.attributes['mcp.tool.name']).toBe(tool);
    }
    const query = one('rag-index', 'rag-index query');
    expect(parentOf(parentOf(query)!)).toBe(one('mcp-server', 'tool search_documents'));
    expect(String(query.attributes['rag.query'])).toBe(
      (entries.find((e) => e.type === 'tool_selected')!.arguments as { query: string }).query,
    );
  });

  it("counts each tool call's arguments and result as cl100k_base counts the text exchanged, on both sides", async () => {
    // The same calls again, over MCP with a token of the agent's kind: the index is deterministic.
    const token = (await lab('token', '--raw')).stdout.trim();
    const url = new URL('/mcp', `http://127.0.0.1:${runtimeRecord(home, LAB).ports['mcp-server']}`);
    const client = new Client({ name: 'trace-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }),
    );
    try {
      let total = 0;
      for (const selected of entries.filter((e) => e.type === 'tool_selected')) {
        const tool = String(selected.tool);
        const args = selected.arguments as Record<string, unknown>;
        const result = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
        const text = result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
        const want = { 'lab.tokens.arguments': tokens(JSON.stringify(args)), 'lab.tokens.result': tokens(text) };
        expect(want['lab.tokens.result']).toBeGreaterThan(20);
        expect(one('agent', `mcp tools/call ${tool}`).attributes).toMatchObject(want);
        expect(one('mcp-server', `tool ${tool}`).attributes).toMatchObject(want);
        total += want['lab.tokens.arguments'] + want['lab.tokens.result'];
      }
      const summary = entries.find((e) => e.type === 'tokens')!;
      expect(summary).toMatchObject({ tokenizer: 'cl100k_base', toolCalls: 2, totalTokens: total });
      expect(one('agent', 'agent run').attributes['lab.tokens.total']).toBe(total);
    } finally {
      await client.close();
    }
  });

  it('`lab trace` draws the waterfall of the last run: every span with service, duration, status and tokens', async () => {
    const shown = await lab('trace');
    expect(shown.exitCode).toBe(0);
    const lines = shown.stdout.split('\n');
    expect(lines[0]).toContain(`trace ${traceId}`);
    expect(lines[1]).toMatch(/^services agent, auth-server, mcp-server, rag-index {2}tokens \d+ /);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(120);
    const call = one('agent', 'mcp tools/call search_documents');
    expect(shown.stdout).toMatch(
      new RegExp(
        `agent\\s+mcp tools/call search_documents\\s+\\d+\\.\\d ms\\s+ok\\s+${call.attributes['lab.tokens.arguments']}→${call.attributes['lab.tokens.result']}`,
      ),
    );
    expect(lines.filter((l) => /ms\s+(ok|ERROR)/.test(l))).toHaveLength(spans.length);
    expect(shown.stdout).not.toContain('missing parent');
    const prefix = await lab('trace', traceId.slice(0, 8));
    expect(prefix.stdout.split('\n')[0]).toBe(lines[0]);
    const bad = await lab('trace', 'not-a-trace');
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('is not a trace id');
  });
});
