/**
 * The audit trail of lab 2: one JSON line per MCP tool call, allowed or denied, hash-chained so that an entry
 * edited, removed or moved after it was written is detected by `lab audit --verify`.
 *
 *   hash = sha256(prev_hash + "\n" + canonicalJSON(entry without hash)), the first prev_hash is 64 zeros.
 *
 * One AuditLog writes one file; it is the only writer (two processes appending to the same file would fork the
 * chain). Only digests, identities and decisions are written, never the arguments of a call.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fchmodSync, fdatasync, fsyncSync, ftruncate, ftruncateSync, mkdirSync, openSync, readFileSync, write, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

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

const writeAsync = promisify(write);
const datasyncAsync = promisify(fdatasync);
const truncateAsync = promisify(ftruncate);

/** JSON with object keys sorted at every depth, so equal values always give the same text (and digest). */
export function canonicalJSON(value: unknown): string {
  if (value === undefined) return 'null';
  if (value !== null && typeof value === 'object') {
    const withToJSON = value as { toJSON?: () => unknown };
    if (typeof withToJSON.toJSON === 'function') return canonicalJSON(withToJSON.toJSON());
    if (Array.isArray(value)) return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : canonicalJSON(v))).join(',')}]`;
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

export function entryHash(entry: Omit<AuditEntry, 'hash'> & { hash?: string }): string {
  const { hash: _ignored, ...rest } = entry;
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
function cleanEvent(event: AuditEvent): AuditEvent {
  const fail = (what: string) => {
    throw new TypeError(`audit event: ${what}`);
  };
  if (event.spiffe_id !== null && (typeof event.spiffe_id !== 'string' || !event.spiffe_id.startsWith('spiffe://'))) fail('spiffe_id must be a spiffe:// URI or null');
  if (typeof event.tool !== 'string' || event.tool === '' || event.tool.length > MAX_TOOL) fail(`tool must be a name of 1 to ${MAX_TOOL} characters`);
  if (typeof event.arguments_sha256 !== 'string' || !HEX64.test(event.arguments_sha256)) fail('arguments_sha256 must be a sha256 hex digest (use digestArguments)');
  if (!DECISIONS.includes(event.decision)) fail(`decision must be one of ${DECISIONS.join(', ')}`);
  if (event.decision_id !== null && typeof event.decision_id !== 'string') fail('decision_id must be a string or null');
  if (typeof event.reason !== 'string') fail('reason must be a string');
  if (typeof event.trace_id !== 'string' || !TRACE_ID.test(event.trace_id)) fail('trace_id must be 32 lowercase hex digits (use newTraceId)');
  if (!OUTCOMES.includes(event.outcome)) fail(`outcome must be one of ${OUTCOMES.join(', ')}`);
  if (event.duration_ms !== undefined && (typeof event.duration_ms !== 'number' || !Number.isFinite(event.duration_ms) || event.duration_ms < 0)) fail('duration_ms must be a number >= 0');
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
function shapeProblem(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not an audit entry (not a JSON object)';
  const e = value as Record<string, unknown>;
  if (!Number.isInteger(e.seq) || (e.seq as number) < 1) return 'not an audit entry: seq is missing or not a positive integer';
  for (const field of ['time', 'tool', 'reason', 'trace_id', 'decision', 'outcome', 'arguments_sha256'] as const) {
    if (typeof e[field] !== 'string') return `not an audit entry: ${field} is missing or not a string`;
  }
  if (typeof e.prev_hash !== 'string' || !HEX64.test(e.prev_hash)) return 'not an audit entry: prev_hash is missing or not a sha256 hex digest';
  if (typeof e.hash !== 'string' || !HEX64.test(e.hash)) return 'not an audit entry: hash is missing or not a sha256 hex digest';
  return undefined;
}

export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Set when a failed write could not be undone: appending more would put an entry after half a line. */
  private broken: Error | undefined;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly clock: () => Date,
    private seq: number,
    private lastHash: string,
    private size: number,
  ) {}

  /**
   * Opens (or creates) the log and continues its chain. A torn last line (a crash in the middle of a write) is
   * moved to <file>.torn-<time>, so the intact prefix verifies and the chain continues after it.
   */
  static open(file: string, clock: () => Date = () => new Date()): AuditLog {
    const dir = path.dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    tryChmod(() => chmodSync(dir, 0o700));
    const content = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    let intact = content;
    const lastNewline = content.lastIndexOf(0x0a);
    if (lastNewline !== content.length - 1) {
      intact = content.subarray(0, lastNewline + 1);
      const torn = content.subarray(lastNewline + 1);
      const aside = `${file}.torn-${clock().toISOString().replace(/[:.]/g, '-')}`;
      // Keep the torn bytes first (durably), then cut them off: a crash in between loses nothing.
      writeFileSync(aside, torn, { mode: 0o600, flag: 'wx', flush: true });
      const fdTrunc = openSync(file, 'r+');
      try {
        ftruncateSync(fdTrunc, intact.length);
        fsyncSync(fdTrunc);
      } finally {
        closeSync(fdTrunc);
      }
      process.stderr.write(`audit: ${file} ended with an incomplete line (${torn.length} bytes, a write cut off by a crash); moved it to ${aside} and continued after entry ${countLines(intact)}.\n`);
    }
    let seq = 0;
    let lastHash = GENESIS_HASH;
    const lines = intact.toString('utf8').split('\n');
    const last = lines.length >= 2 ? lines[lines.length - 2]! : undefined;
    if (last !== undefined) {
      let parsed: unknown;
      let problem: string | undefined;
      try {
        parsed = JSON.parse(last);
        problem = shapeProblem(parsed);
      } catch {
        problem = 'not valid JSON';
      }
      // Refusing is better than guessing: an entry chained to a guessed hash would hide the damage.
      if (problem) throw new Error(`audit: the last line of ${file} (line ${lines.length - 1}) is ${problem}, so the chain cannot continue from it. Move the file aside (keep it: it is evidence); a new log then starts.`);
      seq = (parsed as AuditEntry).seq;
      lastHash = (parsed as AuditEntry).hash;
    }
    const fd = openSync(file, 'a', 0o600);
    tryChmod(() => fchmodSync(fd, 0o600));
    return new AuditLog(file, fd, clock, seq, lastHash, intact.length);
  }

  /** Appends one entry; resolves once it is on disk. Calls are serialised, so concurrent calls extend one chain. */
  append(event: AuditEvent): Promise<AuditEntry> {
    if (this.closed) return Promise.reject(new Error(`audit: ${this.file} is closed`));
    let clean: AuditEvent;
    try {
      clean = cleanEvent(event);
    } catch (error) {
      return Promise.reject(error);
    }
    const result = this.queue.then(() => this.write(clean));
    // The queue goes on after a failed append; the failure is the caller's, through `result`.
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Waits for pending appends, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    closeSync(this.fd);
  }

  private async write(clean: AuditEvent): Promise<AuditEntry> {
    if (this.broken) throw new Error(`audit: the log is unusable after an earlier write failed: ${this.broken.message}`);
    const unhashed = { seq: this.seq + 1, time: this.clock().toISOString(), ...clean, prev_hash: this.lastHash };
    const entry: AuditEntry = { ...unhashed, hash: entryHash(unhashed) };
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    try {
      // One write call for the whole line; a regular file takes it whole, the loop is for the rare short write.
      let written = 0;
      while (written < line.length) written += (await writeAsync(this.fd, line, written, line.length - written)).bytesWritten;
      await datasyncAsync(this.fd);
    } catch (error) {
      // Undo a partial line, so the next entry does not start in the middle of it.
      try {
        await truncateAsync(this.fd, this.size);
      } catch {
        this.broken = error as Error;
      }
      throw error;
    }
    this.size += line.length;
    this.seq = entry.seq;
    this.lastHash = entry.hash;
    return entry;
  }
}


function tryChmod(change: () => void): void {
  try {
    change();
  } catch {
    // A directory or file made by another user (say a container running as root) keeps its mode; not a reason
    // to stop auditing.
  }
}

function countLines(content: Buffer): number {
  let n = 0;
  for (const byte of content) if (byte === 0x0a) n++;
  return n;
}

/** Every entry that parses, and a problem for each line that does not. Throws when the file cannot be read. */
export function readAudit(file: string): { entries: AuditEntry[]; problems: AuditProblem[] } {
  const entries: AuditEntry[] = [];
  const problems: AuditProblem[] = [];
  for (const { line, text, value, problem } of parseLines(readFileSync(file, 'utf8'))) {
    if (problem) problems.push({ line, message: problem });
    else if (text !== '') entries.push(value as AuditEntry);
  }
  return { entries, problems };
}

interface ParsedLine {
  line: number;
  text: string;
  value?: AuditEntry;
  problem?: string;
}

function parseLines(content: string): ParsedLine[] {
  const texts = content.split('\n');
  const complete = content.endsWith('\n') || content === '';
  // After a final newline, split leaves one empty string that is not a line.
  if (complete) texts.pop();
  return texts.map((text, i) => {
    const line = i + 1;
    if (!complete && i === texts.length - 1) {
      return { line, text, problem: 'incomplete last line (no newline at its end): a write was cut off, e.g. by a crash; the MCP server moves it aside to <file>.torn-<time> when it next starts' };
    }
    if (text.trim() === '') return { line, text, problem: 'empty line: the server never writes one, so the file was edited' };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { line, text, problem: 'not valid JSON: the line was edited or damaged' };
    }
    const problem = shapeProblem(value);
    return problem ? { line, text, problem } : { line, text, value: value as AuditEntry };
  });
}

/**
 * Checks the whole chain: every line parses, seq goes 1, 2, 3..., each prev_hash is the hash of the line
 * before, each hash matches its content. One problem per damaged line, the first one being where it breaks;
 * after a damaged line the check continues from that line's own values, so one edit is reported once.
 */
export function verifyAudit(file: string): { ok: boolean; entries: number; problems: AuditProblem[]; lastHash?: string } {
  const problems: AuditProblem[] = [];
  let entries = 0;
  let expectedSeq = 1;
  let expectedPrev: string | undefined = GENESIS_HASH;
  let previousLine = 0;
  let lastHash: string | undefined;
  for (const { line, value, problem } of parseLines(readFileSync(file, 'utf8'))) {
    if (problem || !value) {
      problems.push({ line, message: problem ?? 'not an audit entry' });
      expectedSeq++;
      // The hash of an unreadable line is unknown: the next line's link cannot be checked.
      expectedPrev = undefined;
      previousLine = line;
      continue;
    }
    entries++;
    const message =
      entryHash(value) !== value.hash
        ? 'hash does not match its content: the entry was edited after it was written'
        : value.seq !== expectedSeq
          ? seqMessage(value.seq, expectedSeq, line)
          : expectedPrev !== undefined && value.prev_hash !== expectedPrev
            ? line === 1
              ? 'prev_hash is not the start of a chain (64 zeros): the beginning of the log was removed'
              : `prev_hash is not the hash of line ${previousLine}: an entry before it was rewritten, removed or moved`
            : undefined;
    if (message) problems.push({ line, message });
    expectedSeq = value.seq + 1;
    expectedPrev = value.hash;
    lastHash = value.hash;
    previousLine = line;
  }
  return { ok: problems.length === 0, entries, problems, ...(lastHash ? { lastHash } : {}) };
}

function seqMessage(seq: number, expected: number, line: number): string {
  if (line === 1) return `the log starts at seq ${seq}, not 1: its beginning was removed`;
  if (seq > expected) return `seq ${seq} where ${expected} was expected: an entry was removed here, or lines were moved`;
  return `seq ${seq} comes after seq ${expected - 1}: lines were moved or an entry was copied`;
}

/** "line 7: hash does not match its content: ..." */
export function formatProblem(problem: AuditProblem): string {
  return `line ${problem.line}: ${problem.message}`;
}
