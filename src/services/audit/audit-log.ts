/**
 * Writes the audit trail of lab 2 (entries and chaining: audit-entry.ts). Appends are serialised and each is
 * fdatasync'd before append() resolves. One AuditLog writes one file and is its only writer: two processes
 * appending to the same file would fork the chain.
 */
import { chmodSync, closeSync, existsSync, fchmodSync, fdatasync, fsyncSync, ftruncate, ftruncateSync, mkdirSync, openSync, readFileSync, write, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cleanEvent, entryHash, GENESIS_HASH, shapeProblem, type AuditEntry, type AuditEvent } from './audit-entry.js';

const writeAsync = promisify(write);
const datasyncAsync = promisify(fdatasync);
const truncateAsync = promisify(ftruncate);

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
