/**
 * Reads and verifies the audit trail (`lab audit`, the checks): every line parsed, the chain followed, and with
 * trust roots every signature checked, and with an anchor the head the writer recorded outside the file found.
 */
import { readFileSync } from 'node:fs';
import type { X509Certificate } from 'node:crypto';
import { entryHash, GENESIS_HASH, shapeProblem, type AuditEntry, type AuditProblem } from './audit-entry.js';
import { SignatureVerifier, type AuditAnchor } from './audit-signature.js';

export interface VerifyOptions {
  /** Check signatures: the lab's trust roots and the one SPIFFE ID that signs (the MCP server's). */
  signatures?: { roots: X509Certificate[]; signerId: string };
  /**
   * The head the writer last recorded outside the file. Read it BEFORE the file: the server may append in
   * between, so the file may be ahead of the anchor, never behind. null: known to be missing.
   */
  anchor?: AuditAnchor | null;
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
      return {
        line,
        text,
        problem:
          'incomplete last line (no newline at its end): a write was cut off, e.g. by a crash; the MCP server moves it aside to <file>.torn-<time> when it next starts',
      };
    }
    if (text.trim() === '')
      return { line, text, problem: 'empty line: the server never writes one, so the file was edited' };
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
export function verifyAudit(
  file: string,
  options: VerifyOptions = {},
): { ok: boolean; entries: number; problems: AuditProblem[]; lastHash?: string } {
  const problems: AuditProblem[] = [];
  const signatures = options.signatures
    ? new SignatureVerifier(options.signatures.roots, options.signatures.signerId)
    : undefined;
  const hashes = new Map<number, string>();
  let lastLine = 0;
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
    lastLine = line;
    hashes.set(value.seq, value.hash);
    const chainProblem =
      signatures && value.signer_chain !== undefined && typeof value.signer === 'string'
        ? signatures.learn(value.signer, value.signer_chain)
        : undefined;
    const message =
      entryHash(value) !== value.hash
        ? 'hash does not match its content: the entry was edited after it was written'
        : value.seq !== expectedSeq
          ? seqMessage(value.seq, expectedSeq, line)
          : expectedPrev !== undefined && value.prev_hash !== expectedPrev
            ? line === 1
              ? 'prev_hash is not the start of a chain (64 zeros): the beginning of the log was removed'
              : `prev_hash is not the hash of line ${previousLine}: an entry before it was rewritten, removed or moved`
            : (chainProblem ?? signatures?.check(value.hash, value));
    if (message) problems.push({ line, message });
    expectedSeq = value.seq + 1;
    expectedPrev = value.hash;
    lastHash = value.hash;
    previousLine = line;
  }
  if (options.anchor) {
    const anchorProblem = anchorMismatch(options.anchor, hashes, signatures);
    if (anchorProblem) problems.push({ line: lastLine + 1, message: anchorProblem });
  }
  return { ok: problems.length === 0, entries, problems, ...(lastHash ? { lastHash } : {}) };
}

/** Why the file does not hold the anchored head, or undefined. */
function anchorMismatch(
  anchor: AuditAnchor,
  hashes: Map<number, string>,
  signatures: SignatureVerifier | undefined,
): string | undefined {
  const forged = signatures
    ? (signatures.learn(anchor.signer, anchor.signer_chain) ?? signatures.check(anchor.hash, anchor))
    : undefined;
  if (forged) return `the anchored head is not the MCP server's: ${forged}`;
  const held = hashes.get(anchor.seq);
  if (held === undefined) {
    const last = Math.max(0, ...hashes.keys());
    return `the log ends at seq ${last}, but its writer recorded seq ${anchor.seq} outside the file: entries were cut off, or the file was replaced`;
  }
  if (held !== anchor.hash)
    return `entry ${anchor.seq} is not the one its writer recorded outside the file: the log was rewritten (hashes recomputed)`;
  return undefined;
}

function seqMessage(seq: number, expected: number, line: number): string {
  if (line === 1) return `the log starts at seq ${seq}, not 1: its beginning was removed`;
  if (seq > expected)
    return `seq ${seq} where ${expected} was expected: an entry was removed here, or lines were moved`;
  return `seq ${seq} comes after seq ${expected - 1}: lines were moved or an entry was copied`;
}

/** "line 7: hash does not match its content: ..." */
export function formatProblem(problem: AuditProblem): string {
  return `line ${problem.line}: ${problem.message}`;
}
