/**
 * An audit entry of lab 2 and how it is chained: one JSON line per MCP tool call, allowed or denied.
 *
 *   hash = sha256(prev_hash + "\n" + canonicalJSON(entry without hash, sig, signer, signer_chain)), the first
 *   prev_hash is 64 zeros. sig/signer/signer_chain sign that hash (audit-signature.ts).
 *
 * Only digests, identities and decisions are written, never the arguments of a call.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface AuditEvent {
  /** The verified peer identity (from the client certificate), null when there was none. */
  spiffe_id: string | null;
  tool: string;
  /** Digest of the call's arguments (see digestArguments), never the arguments themselves. */
  arguments_sha256: string;
  decision: 'allow' | 'deny';
  /** OPA's decision id when OPA answered. */
  decision_id: string | null;
  reason: string;
  /** W3C trace id: 32 lowercase hex digits. */
  trace_id: string;
  outcome: 'ok' | 'tool_error' | 'denied';
  duration_ms?: number;
}

export interface AuditEntry extends AuditEvent {
  seq: number;
  time: string;
  prev_hash: string;
  hash: string;
  /** The MCP server's signature of `hash` (base64), by the SVID whose leaf has this sha256 (`signer`). */
  sig?: string;
  signer?: string;
  /** The signer's certificates (base64 DER, leaf first), on the first entry it signs after the log was opened. */
  signer_chain?: string[];
}

export interface AuditProblem {
  /** 1-based line number in the file. */
  line: number;
  message: string;
}

export const GENESIS_HASH = '0'.repeat(64);

const HEX64 = /^[0-9a-f]{64}$/;
const TRACE_ID = /^[0-9a-f]{32}$/;
const DECISIONS = ['allow', 'deny'] as const;
const OUTCOMES = ['ok', 'tool_error', 'denied'] as const;
const MAX_TOOL = 128;
// A reason is for a human reading the log; a long one is more likely something (arguments, a token) pasted in.
const MAX_REASON = 300;

/** JSON with object keys sorted at every depth, so equal values always give the same text (and digest). */
function canonicalJSON(value: unknown): string {
  if (value === undefined) return 'null';
  if (value !== null && typeof value === 'object') {
    const withToJSON = value as { toJSON?: () => unknown };
    if (typeof withToJSON.toJSON === 'function') return canonicalJSON(withToJSON.toJSON());
    if (Array.isArray(value))
      return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJSON(v))).join(',')}]`;
    const keys = Object.keys(value).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const v = (value as Record<string, unknown>)[key];
      if (v === undefined || typeof v === 'function' || typeof v === 'symbol') continue;
      parts.push(`${JSON.stringify(key)}:${canonicalJSON(v)}`);
    }
    return `{${parts.join(',')}}`;
  }
  // Strings, numbers (non-finite become null), booleans, null; a bigint throws, as in JSON.stringify.
  return JSON.stringify(value) ?? 'null';
}

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The sha256 (hex) of the canonical JSON of a call's arguments: the same for any key order; no arguments = null. */
export function digestArguments(args: unknown): string {
  return sha256(canonicalJSON(args));
}

/** A new random W3C trace id (32 hex digits, never all zeros, which the spec reserves as invalid). */
export function newTraceId(): string {
  for (;;) {
    const id = randomBytes(16).toString('hex');
    if (id !== '0'.repeat(32)) return id;
  }
}

/** A W3C traceparent header for a trace id (a fixed parent span: callers here start one span per call). */
export const traceparent = (traceId: string) => `00-${traceId}-${'0'.repeat(15)}1-01`;

/** The trace id of a W3C traceparent header, undefined when the header is absent or malformed. */
export const traceIdFrom = (header: unknown) =>
  /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(String(header ?? ''))?.[1];

export function entryHash(entry: Omit<AuditEntry, 'hash'> & { hash?: string }): string {
  const { hash: _hash, sig: _sig, signer: _signer, signer_chain: _chain, ...rest } = entry;
  return sha256(`${entry.prev_hash}\n${canonicalJSON(rest)}`);
}

/** Bearer tokens and JWTs in a reason (e.g. quoted from an error) are blanked: the log must never hold secrets. */
function scrubReason(reason: string): string {
  const scrubbed = reason
    .replace(/\b(bearer)\s+[A-Za-z0-9._~+/=-]+/gi, '$1 [redacted]')
    .replace(/\beyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, '[redacted jwt]')
    .replace(/[\r\n]+/g, ' ');
  return scrubbed.length > MAX_REASON ? `${scrubbed.slice(0, MAX_REASON - 1)}…` : scrubbed;
}

/**
 * Copies only the known fields, checked: a caller spreading a bigger object (say one with the raw arguments)
 * must not get anything else into the file.
 */
export function cleanEvent(event: AuditEvent): AuditEvent {
  const fail = (what: string) => {
    throw new TypeError(`audit event: ${what}`);
  };
  if (event.spiffe_id !== null && (typeof event.spiffe_id !== 'string' || !event.spiffe_id.startsWith('spiffe://')))
    fail('spiffe_id must be a spiffe:// URI or null');
  if (typeof event.tool !== 'string' || event.tool === '' || event.tool.length > MAX_TOOL)
    fail(`tool must be a name of 1 to ${MAX_TOOL} characters`);
  if (typeof event.arguments_sha256 !== 'string' || !HEX64.test(event.arguments_sha256))
    fail('arguments_sha256 must be a sha256 hex digest (use digestArguments)');
  if (!DECISIONS.includes(event.decision)) fail(`decision must be one of ${DECISIONS.join(', ')}`);
  if (event.decision_id !== null && typeof event.decision_id !== 'string') fail('decision_id must be a string or null');
  if (typeof event.reason !== 'string') fail('reason must be a string');
  if (typeof event.trace_id !== 'string' || !TRACE_ID.test(event.trace_id))
    fail('trace_id must be 32 lowercase hex digits (use newTraceId)');
  if (!OUTCOMES.includes(event.outcome)) fail(`outcome must be one of ${OUTCOMES.join(', ')}`);
  if (
    event.duration_ms !== undefined &&
    (typeof event.duration_ms !== 'number' || !Number.isFinite(event.duration_ms) || event.duration_ms < 0)
  )
    fail('duration_ms must be a number >= 0');
  const clean: AuditEvent = {
    spiffe_id: event.spiffe_id,
    tool: event.tool,
    arguments_sha256: event.arguments_sha256,
    decision: event.decision,
    decision_id: event.decision_id === null ? null : event.decision_id.slice(0, MAX_TOOL),
    reason: scrubReason(event.reason),
    trace_id: event.trace_id,
    outcome: event.outcome,
  };
  if (event.duration_ms !== undefined) clean.duration_ms = Math.round(event.duration_ms * 1000) / 1000;
  return clean;
}

/** Whether a parsed line has the shape of an entry; the problem if not. */
export function shapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'not an audit entry (not a JSON object)';
  const e = value as Record<string, unknown>;
  if (!Number.isInteger(e.seq) || (e.seq as number) < 1)
    return 'not an audit entry: seq is missing or not a positive integer';
  for (const field of ['time', 'tool', 'reason', 'trace_id', 'decision', 'outcome', 'arguments_sha256'] as const) {
    if (typeof e[field] !== 'string') return `not an audit entry: ${field} is missing or not a string`;
  }
  if (typeof e.prev_hash !== 'string' || !HEX64.test(e.prev_hash))
    return 'not an audit entry: prev_hash is missing or not a sha256 hex digest';
  if (typeof e.hash !== 'string' || !HEX64.test(e.hash))
    return 'not an audit entry: hash is missing or not a sha256 hex digest';
  return undefined;
}
