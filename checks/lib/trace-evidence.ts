/**
 * Reading an agent run's trace for a check: wait for its spans to arrive at the trace receiver (services export
 * in batches every 100 ms), then judge its shape: one root, no broken parent links, the hops it must cover.
 */
import path from 'node:path';
import type { CheckContext } from '../../src/core/lab-definition.js';
import { agentTokenTotals, traceShape, type TraceShape } from '../../src/core/trace-shape.js';
import { isTraceId, readTrace, type SpanRecord } from '../../src/core/traces.js';

export const tracesDir = (ctx: Pick<CheckContext, 'workspaceDir'>) => path.join(ctx.workspaceDir, '.lab', 'traces');

/** A span the trace must hold: made by `service`, named `name`, below a span matching `under` when given. */
export interface Hop {
  service: string;
  name: string | RegExp;
  under?: Hop;
}

const matches = (span: SpanRecord, hop: Hop) =>
  span.service === hop.service && (typeof hop.name === 'string' ? span.name === hop.name : hop.name.test(span.name));

function ancestors(span: SpanRecord, byId: Map<string, SpanRecord>): SpanRecord[] {
  const out: SpanRecord[] = [];
  for (let p = span.parentSpanId && byId.get(span.parentSpanId); p; p = p.parentSpanId && byId.get(p.parentSpanId))
    out.push(p);
  return out;
}

export const describeHop = (hop: Hop): string =>
  `${hop.service} "${String(hop.name)}"${hop.under ? ` under ${describeHop(hop.under)}` : ''}`;

/** The hops no span of the trace satisfies (parent links followed through the receiver's records). */
export function missingHops(spans: SpanRecord[], hops: Hop[]): Hop[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const found = (hop: Hop): boolean =>
    spans.some(
      (s) =>
        matches(s, hop) && (!hop.under || ancestors(s, byId).some((a) => matches(a, hop.under!) && found(hop.under!))),
    );
  return hops.filter((hop) => !found(hop));
}

/** Polls the receiver's file until every hop is there (or the wait is over), then returns what arrived. */
export async function awaitTrace(
  ctx: CheckContext,
  traceId: string,
  hops: Hop[],
  waitMs = 5_000,
): Promise<SpanRecord[]> {
  if (!isTraceId(traceId)) return [];
  const deadline = ctx.clock.now().getTime() + waitMs;
  for (;;) {
    const spans = readTrace(tracesDir(ctx), traceId);
    if (missingHops(spans, hops).length === 0 || ctx.clock.now().getTime() >= deadline) return spans;
    await ctx.clock.sleep(100);
  }
}

export interface TraceVerdict {
  shape: TraceShape;
  missing: Hop[];
  tokens: ReturnType<typeof agentTokenTotals>;
}

export function judgeTrace(spans: SpanRecord[], hops: Hop[]): TraceVerdict {
  return { shape: traceShape(spans), missing: missingHops(spans, hops), tokens: agentTokenTotals(spans) };
}
