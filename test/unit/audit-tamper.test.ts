/**
 * The audit trail against whoever can write its file: entries signed by the MCP server's SVID, the head anchored
 * outside the file, and a writer that notices its file replaced, moved or cut, and then refuses to go on.
 */
import {
  copyFileSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  digestArguments,
  entryHash,
  newTraceId,
  type AuditEntry,
  type AuditEvent,
} from '../../src/services/audit/audit-entry.js';
import { AuditLog, type AuditLogOptions } from '../../src/services/audit/audit-log.js';
import type { AuditAnchor } from '../../src/services/audit/audit-signature.js';
import { verifyAudit } from '../../src/services/audit/audit-verify.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import { testSigner } from '../helpers/audit-signer.js';

const event = (n: number): AuditEvent => ({
  spiffe_id: IDS.research,
  tool: 'search_documents',
  arguments_sha256: digestArguments({ n }),
  decision: n % 2 ? 'allow' : 'deny',
  decision_id: `d-${n}`,
  reason: n % 2 ? 'allowed' : 'collection not permitted for this agent',
  trace_id: newTraceId(),
  outcome: n % 2 ? 'ok' : 'denied',
});

async function setup(count: number) {
  const dir = mkdtempSync(path.join(tmpdir(), 'audit-tamper-'));
  const file = path.join(dir, 'audit', 'audit.jsonl');
  const anchorFile = path.join(dir, 'anchor.json');
  const signer = await testSigner();
  const tampered = vi.fn();
  const options: AuditLogOptions = { signer: () => signer.svid, anchorFile, onTamper: tampered };
  const log = AuditLog.open(file, undefined, options);
  for (let i = 1; i <= count; i++) await log.append(event(i));
  const verify = (anchor = true) =>
    verifyAudit(file, {
      signatures: { roots: [signer.root], signerId: IDS.mcpServer },
      ...(anchor ? { anchor: JSON.parse(readFileSync(anchorFile, 'utf8')) as AuditAnchor } : {}),
    });
  return { dir, file, anchorFile, signer, log, options, tampered, verify };
}

const lines = (file: string) => readFileSync(file, 'utf8').trimEnd().split('\n');
const write = (file: string, content: string[]) => writeFileSync(file, content.map((l) => `${l}\n`).join(''));

afterEach(() => vi.restoreAllMocks());

describe('signed, anchored audit log', () => {
  it('signs every entry, carries the chain once, anchors the head, and verifies against the root', async () => {
    const { file, anchorFile, log, verify } = await setup(4);
    await log.close();
    const entries = lines(file).map((l) => JSON.parse(l) as AuditEntry);
    expect(entries.every((e) => typeof e.sig === 'string' && e.signer === entries[0]!.signer)).toBe(true);
    expect(entries.map((e) => e.signer_chain !== undefined)).toEqual([true, false, false, false]);
    expect(JSON.parse(readFileSync(anchorFile, 'utf8'))).toMatchObject({
      seq: 4,
      hash: entries[3]!.hash,
      sig: entries[3]!.sig,
    });
    expect(verify()).toMatchObject({ ok: true, entries: 4, problems: [] });
  });

  it('finds an edit whose hashes were all recomputed, and one stripped of its signatures', async () => {
    const { file, log, verify } = await setup(4);
    await log.close();
    const rechain = (strip: boolean) => {
      let prev = '0'.repeat(64);
      return lines(file).map((line, i) => {
        const e = JSON.parse(line) as AuditEntry;
        if (i === 1) e.decision = 'allow';
        e.prev_hash = prev;
        e.hash = entryHash(e);
        prev = e.hash;
        return JSON.stringify(strip ? { ...e, sig: undefined, signer: undefined, signer_chain: undefined } : e);
      });
    };
    const original = lines(file);
    write(file, rechain(false));
    expect(verifyAudit(file).ok).toBe(true); // the chain alone is fooled
    expect(verify(false).problems[0]).toEqual({
      line: 2,
      message: expect.stringContaining('signature does not match'),
    });
    write(file, original);
    write(file, rechain(true));
    expect(verify(false).problems[0]).toEqual({ line: 1, message: expect.stringContaining('not signed') });
  });

  it('refuses a signature by another identity or from another root', async () => {
    const { file, log } = await setup(2);
    await log.close();
    const other = await testSigner(IDS.research);
    expect(
      verifyAudit(file, { signatures: { roots: [other.root], signerId: IDS.mcpServer } }).problems[0]!.message,
    ).toMatch(/does not chain to the lab's trust roots/);
    const dir = mkdtempSync(path.join(tmpdir(), 'audit-tamper-'));
    const byAgent = path.join(dir, 'audit.jsonl');
    const agentLog = AuditLog.open(byAgent, undefined, { signer: () => other.svid });
    await agentLog.append(event(1));
    await agentLog.close();
    expect(
      verifyAudit(byAgent, { signatures: { roots: [other.root], signerId: IDS.mcpServer } }).problems[0]!.message,
    ).toMatch(/not by the MCP server/);
  });

  it('--verify with the anchor finds entries cut off the end, which leave a valid chain', async () => {
    const { file, log, verify } = await setup(5);
    await log.close();
    write(file, lines(file).slice(0, 3));
    expect(verifyAudit(file).ok).toBe(true);
    expect(verify().problems).toEqual([
      { line: 4, message: expect.stringContaining('the log ends at seq 3, but its writer recorded seq 5') },
    ]);
  });

  it.each([
    ['truncated', (file: string) => truncateSync(file, statSync(file).size - 10), /truncated/],
    [
      'replaced by a renamed copy',
      (file: string) => {
        renameSync(file, `${file}.old`);
        copyFileSync(`${file}.old`, file);
      },
      /replaced/,
    ],
    ['moved away', (file: string) => renameSync(file, `${file}.old`), /moved or deleted/],
    [
      'appended to by someone else',
      (file: string) => writeFileSync(file, '{"forged":true}\n', { flag: 'a' }),
      /written by someone else/,
    ],
  ])(
    'a writer whose file was %s refuses every later append, says why once, and problem() reports it',
    async (_what, tamper, reason) => {
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const { file, log, tampered } = await setup(3);
      const size = statSync(file).size;
      tamper(file);
      expect(log.problem()).toMatch(reason);
      await expect(log.append(event(4))).rejects.toThrow(reason);
      await expect(log.append(event(5))).rejects.toThrow(/refusing to write/);
      expect(tampered).toHaveBeenCalledTimes(1);
      expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toMatch(/TAMPERING DETECTED/);
      if (_what === 'replaced by a renamed copy') expect(statSync(`${file}.old`).size).toBe(size);
      await log.close();
    },
  );

  it('on restart, compares the file with the anchored head: a cut file is refused, an intact one continues', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const { file, anchorFile, log, options, verify } = await setup(3);
    await log.close();
    const intact = AuditLog.open(file, undefined, options);
    expect(intact.problem()).toBeUndefined();
    await intact.append(event(4));
    await intact.close();
    expect(verify().ok).toBe(true);
    write(file, lines(file).slice(0, 2));
    const cut = AuditLog.open(file, undefined, options);
    expect(cut.problem()).toMatch(/ends at seq 2, but the writer last recorded seq 4/);
    await expect(cut.append(event(5))).rejects.toThrow(/refusing to write/);
    await cut.close();
    // A new run (the anchor volume is new): nothing to compare, the current head is anchored from here on.
    rmSync(anchorFile);
    const fresh = AuditLog.open(file, undefined, options);
    expect(fresh.problem()).toBeUndefined();
    await fresh.close();
  });

  it('refuses to write unsigned when the signer has no SVID yet', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'audit-tamper-'));
    const log = AuditLog.open(path.join(dir, 'audit.jsonl'), undefined, { signer: () => undefined });
    await expect(log.append(event(1))).rejects.toThrow(/no SVID to sign with/);
    await log.close();
  });
});
