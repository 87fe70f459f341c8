/**
 * Writes the audit trail of lab 2 (entries and chaining: audit-entry.ts). Appends are serialised and each is
 * fdatasync'd before append() resolves. One AuditLog writes one file and is its only writer: two processes
 * appending to the same file would fork the chain.
 *
 * With a signer (the MCP server's SVID) every entry is signed, and with an anchor file the head is recorded
 * outside the log after each append (audit-signature.ts). The writer holds the file and, before each append,
 * checks that the path still names the file it holds, at the size it wrote: a log replaced, moved or
 * truncated behind its back would otherwise silently stop recording. Then it fails closed: every later append
 * is refused with the reason (problem() tells callers to refuse the call first), until the lab is reset.
 */
import { fileStamp } from '../../core/file-stamp.js';
import {
  chmodSync,
  closeSync,
  existsSync,
  fchmodSync,
  fdatasync,
  fstatSync,
  fsyncSync,
  ftruncate,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  type Stats,
  statSync,
  write,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanEvent, entryHash, GENESIS_HASH, shapeProblem, type AuditEntry, type AuditEvent } from './audit-entry.js';
import { signHash, type AuditAnchor, type AuditSigner } from './audit-signature.js';

export interface AuditLogOptions {
  /** The current signing SVID; undefined (no identity yet) makes appends fail. Without the option: unsigned. */
  signer?: () => AuditSigner | undefined;
  /** Where the head is recorded after every append, outside the log (lab 2: a volume only the MCP server mounts). */
  anchorFile?: string;
  /** Told once when tampering is detected (the MCP server logs it). */
  onTamper?: (reason: string) => void;
}

const writeAsync = promisify(write);
const datasyncAsync = promisify(fdatasync);
const truncateAsync = promisify(ftruncate);

export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** Set when a failed write could not be undone: appending more would put an entry after half a line. */
  private broken: Error | undefined;

  /** Why the log may no longer be written (tampering seen), for good. */
  private tampered: string | undefined;
  /** Signers whose chain this file already holds since open. */
  private readonly chained = new Set<string>();
  /** A line is being written: its bytes may be on disk before `size` counts them. */
  private writing = false;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    private readonly clock: () => Date,
    private seq: number,
    private lastHash: string,
    private size: number,
    private readonly options: AuditLogOptions,
  ) {}

  /** Why a tool call must be refused now (the log was tampered with), or undefined. Checks the file itself. */
  problem(): string | undefined {
    if (!this.tampered) {
      const found = this.fileProblem();
      if (found) this.markTampered(found);
    }
    return this.tampered;
  }

  /**
   * Opens (or creates) the log and continues its chain. A torn last line (a crash in the middle of a write) is
   * moved to <file>.torn-<time>, so the intact prefix verifies and the chain continues after it.
   */
  static open(file: string, clock: () => Date = () => new Date(), options: AuditLogOptions = {}): AuditLog {
    const dir = path.dirname(file);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    tryChmod(() => chmodSync(dir, 0o700));
    const content = existsSync(file) ? readFileSync(file) : Buffer.alloc(0);
    let intact = content;
    const lastNewline = content.lastIndexOf(0x0a);
    if (lastNewline !== content.length - 1) {
      intact = content.subarray(0, lastNewline + 1);
      const torn = content.subarray(lastNewline + 1);
      const aside = `${file}.torn-${fileStamp(clock())}`;
      // Keep the torn bytes first (durably), then cut them off: a crash in between loses nothing.
      writeFileSync(aside, torn, { mode: 0o600, flag: 'wx', flush: true });
      const fdTrunc = openSync(file, 'r+');
      try {
        ftruncateSync(fdTrunc, intact.length);
        fsyncSync(fdTrunc);
      } finally {
        closeSync(fdTrunc);
      }
      process.stderr.write(
        `audit: ${file} ended with an incomplete line (${torn.length} bytes, a write cut off by a crash); moved it to ${aside} and continued after entry ${countLines(intact)}.\n`,
      );
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
      if (problem)
        throw new Error(
          `audit: the last line of ${file} (line ${lines.length - 1}) is ${problem}, so the chain cannot continue from it. Move the file aside (keep it: it is evidence); a new log then starts.`,
        );
      seq = (parsed as AuditEntry).seq;
      lastHash = (parsed as AuditEntry).hash;
    }
    const fd = openSync(file, 'a', 0o600);
    tryChmod(() => fchmodSync(fd, 0o600));
    const log = new AuditLog(file, fd, clock, seq, lastHash, intact.length, options);
    log.checkAnchor(lines.slice(0, -1));
    return log;
  }

  /**
   * The log must still hold the head recorded outside it: fewer entries means it was cut, another hash that it
   * was rewritten, more that someone else appended. No anchor (a new anchor volume: the lab was stopped) means
   * nothing to compare: the current head is anchored from here on, and said so.
   */
  private checkAnchor(lines: string[]): void {
    const anchorFile = this.options.anchorFile;
    if (!anchorFile) return;
    let anchor: AuditAnchor | undefined;
    try {
      anchor = JSON.parse(readFileSync(anchorFile, 'utf8')) as AuditAnchor;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.markTampered(`the anchored head ${anchorFile} is unreadable (${(error as Error).message})`);
        return;
      }
      if (this.seq > 0)
        process.stderr.write(
          `audit: no anchored head yet (a new lab run); anchoring ${this.file} at seq ${this.seq}.\n`,
        );
      return;
    }
    const entry = lines
      .map((line) => {
        try {
          return JSON.parse(line) as AuditEntry;
        } catch {
          return undefined;
        }
      })
      .find((e) => e?.seq === anchor.seq);
    if (this.seq < anchor.seq)
      this.markTampered(
        `${this.file} ends at seq ${this.seq}, but the writer last recorded seq ${anchor.seq}: entries were cut off or the file was replaced`,
      );
    else if (entry?.hash !== anchor.hash)
      this.markTampered(
        `entry ${anchor.seq} of ${this.file} is not the one the writer recorded: the log was rewritten`,
      );
    else if (this.seq > anchor.seq)
      this.markTampered(
        `${this.file} holds entries after seq ${anchor.seq} that the writer did not record: someone else appended`,
      );
  }

  private fileProblem(): string | undefined {
    let onDisk: Stats;
    try {
      onDisk = statSync(this.file);
    } catch {
      return `${this.file} was moved or deleted while the server held it open`;
    }
    const held = fstatSync(this.fd);
    if (this.writing)
      return onDisk.ino !== held.ino || onDisk.dev !== held.dev
        ? `${this.file} was replaced: the path names another file than the one the server writes`
        : undefined;
    if (onDisk.ino !== held.ino || onDisk.dev !== held.dev)
      return `${this.file} was replaced: the path names another file than the one the server writes`;
    if (held.size < this.size) return `${this.file} was truncated (${held.size} bytes; the server wrote ${this.size})`;
    if (held.size > this.size)
      return `${this.file} was written by someone else (${held.size} bytes; the server wrote ${this.size})`;
    return undefined;
  }

  private markTampered(reason: string): void {
    if (this.tampered) return;
    this.tampered = reason;
    process.stderr.write(
      `audit: TAMPERING DETECTED: ${reason}. Every tool call is refused until the lab is reset (\`lab reset\` keeps this log as evidence).\n`,
    );
    this.options.onTamper?.(reason);
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
    if (this.broken)
      throw new Error(`audit: the log is unusable after an earlier write failed: ${this.broken.message}`);
    const tampered = this.problem();
    if (tampered) throw new Error(`audit: refusing to write: ${tampered}`);
    const unhashed = { seq: this.seq + 1, time: this.clock().toISOString(), ...clean, prev_hash: this.lastHash };
    const entry: AuditEntry = { ...unhashed, hash: entryHash(unhashed) };
    const signed = this.sign(entry);
    this.writing = true;
    try {
      return await this.writeLine(entry, signed);
    } catch (error) {
      // The chain never reached the file: the next entry of this signer carries it.
      if (entry.signer_chain) this.chained.delete(entry.signer!);
      throw error;
    } finally {
      this.writing = false;
    }
  }

  private async writeLine(entry: AuditEntry, signed: { chain: string[] } | undefined): Promise<AuditEntry> {
    const line = Buffer.from(`${JSON.stringify(entry)}\n`, 'utf8');
    try {
      // One write call for the whole line; a regular file takes it whole, the loop is for the rare short write.
      let written = 0;
      while (written < line.length)
        written += (await writeAsync(this.fd, line, written, line.length - written)).bytesWritten;
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
    if (signed) this.recordHead(entry, signed.chain);
    return entry;
  }

  /** Adds sig/signer (and the chain, the first time this signer writes here) to the entry; throws without an SVID. */
  private sign(entry: AuditEntry): { chain: string[] } | undefined {
    if (!this.options.signer) return undefined;
    const signer = this.options.signer();
    if (!signer) throw new Error('audit: no SVID to sign with yet; the call is refused rather than recorded unsigned');
    const { sig, signer: fingerprint, chain } = signHash(entry.hash, signer);
    entry.sig = sig;
    entry.signer = fingerprint;
    if (!this.chained.has(fingerprint)) entry.signer_chain = chain;
    this.chained.add(fingerprint);
    return { chain };
  }

  /** The head, outside the file: written to a temporary file and renamed, so a reader sees the old or the new. */
  private recordHead(entry: AuditEntry, chain: string[]): void {
    const anchorFile = this.options.anchorFile;
    if (!anchorFile) return;
    const anchor: AuditAnchor = {
      seq: entry.seq,
      hash: entry.hash,
      time: entry.time,
      sig: entry.sig!,
      signer: entry.signer!,
      signer_chain: chain,
    };
    const temporary = `${anchorFile}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(anchor), { mode: 0o600 });
    renameSync(temporary, anchorFile);
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
