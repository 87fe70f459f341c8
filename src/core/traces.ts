/**
 * Traces as the runner stores them: the trace receiver turns each OTLP/HTTP (JSON) export into one line per span
 * in <workspace>/.lab/traces/<trace id>.jsonl; `lab trace` and the trace checks read them back. One flat record
 * per span, the fields of OTLP that a waterfall and a check need.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface SpanRecord {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  /** The resource's service.name. */
  service: string;
  /** Start, in milliseconds since the epoch (fractional: OTLP gives nanoseconds). */
  startMs: number;
  durationMs: number;
  status: 'unset' | 'ok' | 'error';
  statusMessage?: string;
  attributes: Record<string, string | number | boolean>;
}

const HEX_TRACE_ID = /^[0-9a-f]{32}$/;

export const isTraceId = (id: string): boolean => HEX_TRACE_ID.test(id);

type OtlpValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};
type OtlpAttribute = { key: string; value?: OtlpValue };
type OtlpNanos = string | number | { low: number; high: number };
interface OtlpSpan {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  kind?: number;
  startTimeUnixNano?: OtlpNanos;
  endTimeUnixNano?: OtlpNanos;
  attributes?: OtlpAttribute[];
  status?: { code?: number; message?: string };
}
interface OtlpBody {
  resourceSpans?: Array<{
    resource?: { attributes?: OtlpAttribute[] };
    scopeSpans?: Array<{ spans?: OtlpSpan[] }>;
  }>;
}

function attributeValue(value: OtlpValue | undefined): string | number | boolean | undefined {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.boolValue !== undefined) return value.boolValue;
  return undefined;
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    const v = attributeValue(value);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

/** Nanoseconds as OTLP JSON writes them (a decimal string, a number, or {low, high} 32-bit halves), in ms. */
function millis(nanos: OtlpNanos | undefined): number {
  if (nanos === undefined) return 0;
  if (typeof nanos === 'object') return (nanos.high * 2 ** 32 + (nanos.low >>> 0)) / 1e6;
  return typeof nanos === 'string' ? Number(BigInt(nanos) / 1000n) / 1e3 : nanos / 1e6;
}

const STATUS = ['unset', 'ok', 'error'] as const;

const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * A trace is a log: whatever a service put in a span name, status or attribute, a bearer token or anything shaped
 * like a JWT is stored redacted. The services keep free text out of spans; this is the receiver's own backstop.
 */
export const redactSecrets = (text: string): string =>
  text.replace(JWT_LIKE, '[redacted JWT]').replace(BEARER, '$1 [redacted]');

function redacted(record: Record<string, string | number | boolean>): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, typeof v === 'string' ? redactSecrets(v) : v]));
}

/**
 * The spans of one OTLP/HTTP JSON export request (ExportTraceServiceRequest), flattened. Ids must be hex (the
 * JSON encoding of OTLP); a span without a valid trace or span id is dropped, never written under a bad name.
 */
export function spansFromOtlp(body: unknown): SpanRecord[] {
  const out: SpanRecord[] = [];
  for (const rs of (body as OtlpBody)?.resourceSpans ?? []) {
    const service = String(attributes(rs.resource?.attributes)['service.name'] ?? 'unknown');
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const traceId = s.traceId?.toLowerCase() ?? '';
        if (!isTraceId(traceId) || !/^[0-9a-f]{16}$/i.test(s.spanId ?? '')) continue;
        const startMs = millis(s.startTimeUnixNano);
        const parent = s.parentSpanId?.toLowerCase();
        out.push({
          traceId,
          spanId: s.spanId!.toLowerCase(),
          ...(parent && /^[0-9a-f]{16}$/.test(parent) ? { parentSpanId: parent } : {}),
          name: redactSecrets(String(s.name ?? '')),
          kind: Number(s.kind ?? 0),
          service,
          startMs,
          durationMs: Math.max(0, millis(s.endTimeUnixNano) - startMs),
          status: STATUS[s.status?.code ?? 0] ?? 'unset',
          ...(s.status?.message ? { statusMessage: redactSecrets(s.status.message) } : {}),
          attributes: redacted(attributes(s.attributes)),
        });
      }
    }
  }
  return out;
}

export function traceFile(dir: string, traceId: string): string {
  if (!isTraceId(traceId)) throw new Error(`not a trace id: ${traceId}`);
  return path.join(dir, `${traceId}.jsonl`);
}

/** The spans of one trace, in start order; [] when the receiver has none. */
export function readTrace(dir: string, traceId: string): SpanRecord[] {
  const file = traceFile(dir, traceId);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as SpanRecord];
      } catch {
        return [];
      }
    })
    .sort((a, b) => a.startMs - b.startMs);
}

/** Trace ids on disk, most recently written first. */
export function listTraces(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl') && isTraceId(f.slice(0, -6)))
    .map((f) => ({ id: f.slice(0, -6), at: statSync(path.join(dir, f)).mtimeMs }))
    .sort((a, b) => b.at - a.at)
    .map((t) => t.id);
}

export const AGENT_RUN_SPAN = 'agent run';

/** The newest trace whose root is an agent run (checks and probes make traces of their own). */
export function lastAgentTrace(dir: string): string | undefined {
  return listTraces(dir).find((id) => readTrace(dir, id).some((s) => s.name === AGENT_RUN_SPAN && !s.parentSpanId));
}

/** Trace ids that start with `prefix` (`lab audit` shows 8 digits of an entry's trace id). */
export function tracesStartingWith(dir: string, prefix: string): string[] {
  const p = prefix.toLowerCase();
  return listTraces(dir).filter((id) => id.startsWith(p));
}
