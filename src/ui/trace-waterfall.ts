/**
 * A trace as a terminal waterfall: one row per span in tree order (children indented under their parent), with
 * its service, duration, status, tokens, what lab 2 adds (the caller's SPIFFE ID, the OPA decision) and a bar
 * placed on the trace's timeline.
 */
import type { ChalkInstance } from 'chalk';
import { traceShape, traceTokenTotals } from '../core/trace-shape.js';
import type { SpanRecord } from '../core/traces.js';

type Paint = Pick<ChalkInstance, 'bold' | 'dim' | 'red' | 'cyan'>;

const num = (span: SpanRecord, key: string) => {
  const v = span.attributes[key];
  return typeof v === 'number' ? v : undefined;
};

/** Tool traffic as arguments→result, model usage as in/out. */
export function spanTokens(span: SpanRecord): string {
  const args = num(span, 'lab.tokens.arguments');
  const result = num(span, 'lab.tokens.result');
  const prompt = num(span, 'gen_ai.usage.input_tokens');
  const completion = num(span, 'gen_ai.usage.output_tokens');
  const total = num(span, 'lab.tokens.total');
  if (total !== undefined) return `${total} total`;
  const parts = [
    args !== undefined || result !== undefined ? `${args ?? 0}→${result ?? 0}` : '',
    prompt || completion ? `in ${prompt ?? 0}/out ${completion ?? 0}` : '',
  ];
  return parts.filter(Boolean).join(' ');
}

/** Lab 2's identity and policy facts, when a span carries them. */
function spanFacts(span: SpanRecord): string {
  const a = span.attributes;
  return [
    a['spiffe.id'] !== undefined ? `spiffe ${String(a['spiffe.id'])}` : '',
    a['opa.decision'] !== undefined ? `opa ${String(a['opa.decision'])}` : '',
    a['opa.decision_id'] !== undefined ? `decision ${String(a['opa.decision_id']).slice(0, 8)}` : '',
    a['lab.audited'] === true ? 'audited' : '',
  ]
    .filter(Boolean)
    .join(' · ');
}

function bar(span: SpanRecord, start: number, total: number, width: number): string {
  const from = Math.min(width - 1, Math.floor(((span.startMs - start) / total) * width));
  const length = Math.max(1, Math.min(width - from, Math.round((span.durationMs / total) * width)));
  return `${' '.repeat(from)}${'█'.repeat(length)}`;
}

/**
 * `width` is the terminal's (default 120): the timeline takes what the table leaves, 8 to 40 columns. Lab 2's
 * facts go on a line of their own under the span, so a long SPIFFE ID never pushes the table out of line.
 */
export function renderWaterfall(spans: SpanRecord[], options: { width?: number; color?: Paint } = {}): string[] {
  if (spans.length === 0) return [];
  const { rows, services, orphans, roots } = traceShape(spans);
  const start = Math.min(...spans.map((s) => s.startMs));
  const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
  const total = Math.max(end - start, 0.001);
  const paint = options.color;
  const tokens = traceTokenTotals(spans);
  const table = rows.map(({ span, depth }) => [
    span.service,
    `${'  '.repeat(depth)}${span.name}`,
    `${span.durationMs.toFixed(1)} ms`,
    span.status === 'error' ? 'ERROR' : 'ok',
    spanTokens(span),
  ]);
  const header = ['service', 'span', 'duration', 'status', 'tokens'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const cells = (r: string[]) => r.map((c, i) => (i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const tableWidth = widths.reduce((a, b) => a + b, 0) + 2 * widths.length;
  const barWidth = Math.max(8, Math.min(40, (options.width ?? 120) - tableWidth));
  const factsIndent = ' '.repeat(widths[0]! + 2);
  const lines = [
    `trace ${spans[0]!.traceId}  ${total.toFixed(1)} ms  ${spans.length} spans`,
    `services ${services.join(', ')}  tokens ${tokens.total} (${tokens.arguments} in tool arguments, ${tokens.result} in results${tokens.prompt + tokens.completion > 0 ? `, ${tokens.prompt} prompt, ${tokens.completion} completion` : ''}${tokens.source === 'server' ? ', counted by the server' : ''})`,
    paint ? paint.bold(`${cells(header)}  timeline`) : `${cells(header)}  timeline`,
    ...rows.flatMap(({ span, depth }, i) => {
      const facts = spanFacts(span);
      const line = `${cells(table[i]!)}  ${bar(span, start, total, barWidth)}`.trimEnd();
      const row = span.status === 'error' && paint ? paint.red(line) : line;
      return facts ? [row, `${factsIndent}${'  '.repeat(depth + 1)}${paint ? paint.dim(facts) : facts}`] : [row];
    }),
  ];
  if (roots.length !== 1 || orphans.length > 0)
    lines.push(
      `${roots.length} root spans and ${orphans.length} spans with a missing parent: a hop lost the context, spans are`,
      "still arriving, or the caller is not traced (the checker's own requests).",
    );
  return lines;
}
