/**
 * What a trace looks like as a tree: its roots, the spans whose parent is missing (a broken link), each span's
 * depth for the waterfall, and the token counts the agent's spans carry.
 */
import type { SpanRecord } from './traces.js';

export interface TraceShape {
  roots: SpanRecord[];
  /** Spans that name a parent the trace does not hold: context was lost or a span was never exported. */
  orphans: SpanRecord[];
  services: string[];
  /** Depth-first, children in start order: the waterfall's rows. */
  rows: Array<{ span: SpanRecord; depth: number }>;
}

export function traceShape(spans: SpanRecord[]): TraceShape {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  const orphans: SpanRecord[] = [];
  for (const span of [...spans].sort((a, b) => a.startMs - b.startMs)) {
    if (!span.parentSpanId) roots.push(span);
    else if (!ids.has(span.parentSpanId)) orphans.push(span);
    else children.set(span.parentSpanId, [...(children.get(span.parentSpanId) ?? []), span]);
  }
  const rows: TraceShape['rows'] = [];
  const visit = (span: SpanRecord, depth: number) => {
    rows.push({ span, depth });
    for (const child of children.get(span.spanId) ?? []) visit(child, depth + 1);
  };
  for (const top of [...roots, ...orphans]) visit(top, 0);
  return { roots, orphans, services: [...new Set(spans.map((s) => s.service))].sort(), rows };
}

export interface TokenTotals {
  arguments: number;
  result: number;
  prompt: number;
  completion: number;
  total: number;
}

const num = (span: SpanRecord, key: string) => {
  const v = span.attributes[key];
  return typeof v === 'number' ? v : 0;
};

/**
 * Tokens of one agent run, summed over the agent's own spans: each tools/call's arguments and result, each plan
 * step's model usage. The servers' tool spans count the same text again and are not added.
 */
export function agentTokenTotals(spans: SpanRecord[], agentService = 'agent'): TokenTotals {
  const own = spans.filter((s) => s.service === agentService && s.name !== 'agent run');
  const sum = (key: string) => own.reduce((n, s) => n + num(s, key), 0);
  const totals = {
    arguments: sum('lab.tokens.arguments'),
    result: sum('lab.tokens.result'),
    prompt: sum('gen_ai.usage.input_tokens'),
    completion: sum('gen_ai.usage.output_tokens'),
  };
  return { ...totals, total: totals.arguments + totals.result + totals.prompt + totals.completion };
}

/**
 * The tokens a trace's header shows: the agent's own count when it keeps one (lab 1), else the tool handlers'
 * (lab 2's agents count nothing; its MCP server counts every call it serves).
 */
export function traceTokenTotals(spans: SpanRecord[]): TokenTotals & { source: 'agent' | 'server' } {
  const agent = agentTokenTotals(spans);
  if (agent.total > 0) return { ...agent, source: 'agent' };
  const tools = spans.filter((s) => s.name.startsWith('tool '));
  const sum = (key: string) => tools.reduce((n, s) => n + num(s, key), 0);
  const args = sum('lab.tokens.arguments');
  const result = sum('lab.tokens.result');
  return { arguments: args, result, prompt: 0, completion: 0, total: args + result, source: 'server' };
}
