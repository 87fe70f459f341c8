import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { filterEntries, formatAuditTable } from '../../src/commands/audit.js';
import { writeActive } from '../../src/core/lab-session.js';
import { workspacePaths } from '../../src/core/paths.js';
import {
  digestArguments,
  entryHash,
  newTraceId,
  traceIdFrom,
  traceparent,
  type AuditEntry,
  type AuditEvent,
} from '../../src/services/audit/audit-entry.js';
import { formatProblem, readAudit, verifyAudit } from '../../src/services/audit/audit-verify.js';
import { AuditLog } from '../../src/services/audit/audit-log.js';
import { fakeContext } from '../helpers/fake-context.js';
import { auditLogIn, auditTrustDir } from '../../src/services/audit/audit-trust.js';
import { testSigner } from '../helpers/audit-signer.js';

const scratch = () => mkdtempSync(path.join(tmpdir(), 'audit-'));
const auditFile = () => path.join(scratch(), '.lab', 'audit', 'audit.jsonl');

const event = (n: number, overrides: Partial<AuditEvent> = {}): AuditEvent => ({
  spiffe_id: n % 3 === 0 ? 'spiffe://lab.local/agent/summarizer' : 'spiffe://lab.local/agent/reader',
  tool: 'search_documents',
  arguments_sha256: digestArguments({ query: `q${n}`, limit: 3 }),
  decision: n % 3 === 0 ? 'deny' : 'allow',
  decision_id: `d-${n}`,
  reason: n % 3 === 0 ? 'tool not allowed for this agent' : 'allowed by policy',
  trace_id: newTraceId(),
  outcome: n % 3 === 0 ? 'denied' : 'ok',
  duration_ms: n,
  ...overrides,
});

async function writeLog(file: string, count: number, options: Parameters<typeof AuditLog.open>[2] = {}): Promise<void> {
  const log = AuditLog.open(file, undefined, options);
  for (let i = 1; i <= count; i++) await log.append(event(i));
  await log.close();
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const rewrite = (file: string, content: string[]) => writeFileSync(file, content.map((l) => `${l}\n`).join(''));

afterEach(() => vi.restoreAllMocks());

describe('AuditLog', () => {
  it('keeps one chain through 200 concurrent appends: seq 1..200, in file order, verified', async () => {
    const file = auditFile();
    const log = AuditLog.open(file);
    const appended = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append(event(i + 1))));
    await log.close();
    expect(appended.map((e) => e.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const { entries, problems } = readAudit(file);
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.seq)).toEqual(appended.map((e) => e.seq));
    expect(entries[0]!.prev_hash).toBe('0'.repeat(64));
    expect(entries[1]!.prev_hash).toBe(entries[0]!.hash);
    expect(verifyAudit(file)).toEqual({ ok: true, entries: 200, problems: [], lastHash: entries[199]!.hash });
  });

  it('continues the chain after a restart', async () => {
    const file = auditFile();
    await writeLog(file, 3);
    const reopened = AuditLog.open(file);
    const fourth = await reopened.append(event(4));
    await reopened.close();
    expect(fourth.seq).toBe(4);
    expect(fourth.prev_hash).toBe(readAudit(file).entries[2]!.hash);
    expect(verifyAudit(file).ok).toBe(true);
  });

  it('writes the file 0600 in a 0700 directory', async () => {
    if (process.platform === 'win32') return;
    const file = auditFile();
    await writeLog(file, 1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  });

  it('takes the time from its clock and writes only the known fields, no secrets', async () => {
    const file = auditFile();
    const log = AuditLog.open(file, () => new Date('2030-01-02T03:04:05.678Z'));
    const sneaky = {
      ...event(1),
      arguments: { password: 'hunter2' },
      reason: 'upstream said: Bearer abc.def-123 and eyJhbGciOi.eyJzdWIiOiJ4In0.c2ln',
    } as AuditEvent;
    const entry = await log.append(sneaky);
    await log.close();
    const text = readFileSync(file, 'utf8');
    expect(entry.time).toBe('2030-01-02T03:04:05.678Z');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('abc.def-123');
    expect(text).not.toContain('eyJhbGciOi');
    expect(Object.keys(JSON.parse(text) as object).sort()).toEqual(
      [
        'arguments_sha256',
        'decision',
        'decision_id',
        'duration_ms',
        'hash',
        'outcome',
        'prev_hash',
        'reason',
        'seq',
        'spiffe_id',
        'time',
        'tool',
        'trace_id',
      ].sort(),
    );
    expect(verifyAudit(file).ok).toBe(true);
  });

  it('rejects a malformed event without writing it, and goes on with the next', async () => {
    const file = auditFile();
    const log = AuditLog.open(file);
    await expect(log.append(event(1, { arguments_sha256: '{"query":"raw"}' }))).rejects.toThrow(/arguments_sha256/);
    await expect(log.append(event(1, { trace_id: 'nope' }))).rejects.toThrow(/trace_id/);
    expect((await log.append(event(1))).seq).toBe(1);
    await log.close();
    await expect(log.append(event(2))).rejects.toThrow(/closed/);
    expect(verifyAudit(file)).toMatchObject({ ok: true, entries: 1 });
  });

  it('close waits for the appends already queued', async () => {
    const file = auditFile();
    const log = AuditLog.open(file);
    const pending = [log.append(event(1)), log.append(event(2)), log.append(event(3))];
    await log.close();
    await Promise.all(pending);
    expect(lines(file)).toHaveLength(3);
  });
});

describe('verifyAudit', () => {
  it('finds an edited field at its line', async () => {
    const file = auditFile();
    await writeLog(file, 10);
    const content = lines(file);
    content[6] = content[6]!.replace('"decision":"allow"', '"decision":"deny"');
    rewrite(file, content);
    const result = verifyAudit(file);
    expect(result.ok).toBe(false);
    expect(result.problems).toHaveLength(1);
    expect(formatProblem(result.problems[0]!)).toBe(
      'line 7: hash does not match its content: the entry was edited after it was written',
    );
  });

  it('finds an edit whose hash was recomputed at the next line', async () => {
    const file = auditFile();
    await writeLog(file, 10);
    const content = lines(file);
    const edited = { ...(JSON.parse(content[6]!) as AuditEntry), reason: 'nothing to see' };
    content[6] = JSON.stringify({ ...edited, hash: entryHash(edited) });
    rewrite(file, content);
    expect(verifyAudit(file).problems).toEqual([
      { line: 8, message: 'prev_hash is not the hash of line 7: an entry before it was rewritten, removed or moved' },
    ]);
  });

  it('finds a deleted line where the gap is', async () => {
    const file = auditFile();
    await writeLog(file, 10);
    const content = lines(file);
    content.splice(4, 1);
    rewrite(file, content);
    expect(verifyAudit(file)).toMatchObject({
      ok: false,
      entries: 9,
      problems: [{ line: 5, message: expect.stringContaining('seq 6 where 5 was expected') }],
    });
    rewrite(file, lines(file).slice(1));
    expect(verifyAudit(file).problems[0]).toEqual({
      line: 1,
      message: 'the log starts at seq 2, not 1: its beginning was removed',
    });
  });

  it('finds two swapped lines at the first of them', async () => {
    const file = auditFile();
    await writeLog(file, 10);
    const content = lines(file);
    [content[2], content[3]] = [content[3]!, content[2]!];
    rewrite(file, content);
    const { problems } = verifyAudit(file);
    expect(problems[0]).toEqual({ line: 3, message: expect.stringContaining('seq 4 where 3 was expected') });
    expect(problems[1]).toEqual({ line: 4, message: expect.stringContaining('seq 3 comes after seq 4') });
  });

  it('names lines that are not entries, and an incomplete last line', async () => {
    const file = auditFile();
    await writeLog(file, 3);
    appendFileSync(file, 'hello\n{"seq":5');
    const problems = verifyAudit(file).problems;
    expect(problems.map((p) => p.line)).toEqual([4, 5]);
    expect(problems[0]!.message).toContain('not valid JSON');
    expect(problems[1]!.message).toContain('incomplete last line');
    expect(readAudit(file).entries).toHaveLength(3);
  });
});

describe('torn last line', () => {
  it('is moved aside on open, said on stderr, and the chain continues after the intact prefix', async () => {
    const file = auditFile();
    await writeLog(file, 5);
    const torn = JSON.stringify({ seq: 6, time: new Date().toISOString(), tool: 'search_documents' }).slice(0, 40);
    appendFileSync(file, torn);
    expect(verifyAudit(file).ok).toBe(false);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const log = AuditLog.open(file, () => new Date('2030-01-01T00:00:00.000Z'));
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(
      /incomplete line .* moved it to .*audit\.jsonl\.torn-2030-01-01T00-00-00-000Z and continued after entry 5/,
    );
    const aside = `${file}.torn-2030-01-01T00-00-00-000Z`;
    expect(readFileSync(aside, 'utf8')).toBe(torn);
    expect(verifyAudit(file)).toMatchObject({ ok: true, entries: 5 });
    expect((await log.append(event(6))).seq).toBe(6);
    await log.close();
    expect(verifyAudit(file)).toMatchObject({ ok: true, entries: 6 });
  });

  it('of a log holding only a torn line starts a new chain', async () => {
    const file = auditFile();
    await writeLog(file, 1);
    writeFileSync(file, '{"seq":1,"ti');
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const log = AuditLog.open(file);
    expect(await log.append(event(1))).toMatchObject({ seq: 1, prev_hash: '0'.repeat(64) });
    await log.close();
    expect(readdirSync(path.dirname(file)).filter((f) => f.includes('.torn-'))).toHaveLength(1);
    expect(verifyAudit(file).ok).toBe(true);
  });

  it('is not confused with a damaged complete last line, which open refuses to chain from', async () => {
    const file = auditFile();
    await writeLog(file, 2);
    appendFileSync(file, 'garbage\n');
    expect(() => AuditLog.open(file)).toThrow(/line 3\) is not valid JSON/);
  });
});

describe('digestArguments and trace ids', () => {
  it('does not depend on key order, at any depth', () => {
    const a = digestArguments({ query: 'spire', filters: { lang: 'en', tags: ['a', 'b'] }, limit: 3 });
    const b = digestArguments({ limit: 3, filters: { tags: ['a', 'b'], lang: 'en' }, query: 'spire' });
    expect(a).toBe(b);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(digestArguments({ filters: { tags: ['b', 'a'] } })).not.toBe(
      digestArguments({ filters: { tags: ['a', 'b'] } }),
    );
    expect(digestArguments({ q: 1 })).not.toBe(digestArguments({ q: '1' }));
    expect(digestArguments(undefined)).toBe(digestArguments(null));
  });

  it('makes W3C trace ids', () => {
    const ids = new Set(Array.from({ length: 50 }, newTraceId));
    expect(ids.size).toBe(50);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('lab audit', () => {
  const entry = (n: number, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
    ...event(n),
    seq: n,
    time: '2030-01-02T03:04:05.678Z',
    prev_hash: '0'.repeat(64),
    hash: 'f'.repeat(64),
    ...overrides,
  });

  it('formats a table and filters by agent and denial', () => {
    const entries = [entry(1), entry(3), entry(4, { spiffe_id: null, reason: 'x'.repeat(80) })];
    const table = formatAuditTable(entries);
    expect(table[0]).toMatch(/^time \(UTC\)\s+spiffe id\s+tool\s+decision\s+outcome\s+reason\s+trace$/);
    expect(table[1]).toContain('2030-01-02 03:04:05  spiffe://lab.local/agent/reader');
    expect(table[2]).toMatch(/deny\s+denied\s+tool not allowed/);
    expect(table[3]).toContain('(none)');
    expect(table[3]).toContain(`${'x'.repeat(47)}…`);
    expect(table[1]!.endsWith(entries[0]!.trace_id.slice(0, 8))).toBe(true);
    expect(filterEntries(entries, { denied: true }).map((e) => e.seq)).toEqual([3]);
    expect(filterEntries(entries, { agent: 'READER' }).map((e) => e.seq)).toEqual([1]);
  });

  /** A home whose audit log is signed by an MCP server SVID from a root kept in its trust folder. */
  const lab = async (setup?: (file: string, signer: Awaited<ReturnType<typeof testSigner>>) => Promise<void>) => {
    const home = scratch();
    writeActive(home, { lab: 'mcp-integration', runtime: 'local', since: new Date().toISOString() });
    const paths = workspacePaths(home, 'mcp-integration');
    const signer = await testSigner();
    mkdirSync(auditTrustDir(paths.secrets), { recursive: true });
    writeFileSync(path.join(auditTrustDir(paths.secrets), 'root.pem'), signer.rootPem);
    await setup?.(auditLogIn(paths.dir), signer);
    return async (...args: string[]) => {
      const { ctx, stdout, stderr } = fakeContext(home);
      const commander = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      try {
        const code = await main(['node', 'lab', 'audit', ...args], ctx);
        return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
      } finally {
        commander.mockRestore();
      }
    };
  };

  it('without a log: shows exit 0, verify exit 1 with a fix', async () => {
    const audit = await lab();
    const shown = await audit();
    expect(shown).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(
        'No audit entries yet: the MCP server writes one per tool call once step 4 is done',
      ),
    });
    const verified = await audit('--verify');
    expect(verified.code).toBe(1);
    expect(verified.stderr).toContain('Fix: The MCP server writes one entry per tool call once step 4 is done');
  });

  it('shows, filters, prints JSON and verifies', async () => {
    const audit = await lab((file, signer) => writeLog(file, 30, { signer: () => signer.svid }));
    const table = await audit();
    expect(table.code).toBe(0);
    expect(table.stdout).toContain('20 of 30 entries, newest last');
    expect(table.stdout.split('\n')).toHaveLength(22);
    const json = await audit('--json', '--denied');
    expect(json.stdout.split('\n').map((l) => (JSON.parse(l) as AuditEntry).seq)).toEqual([
      3, 6, 9, 12, 15, 18, 21, 24, 27, 30,
    ]);
    const tail = await audit('--json', '-n', '2', '--agent', 'reader');
    expect(tail.stdout.split('\n').map((l) => (JSON.parse(l) as AuditEntry).seq)).toEqual([28, 29]);
    const ok = await audit('--verify');
    expect(ok).toMatchObject({
      code: 0,
      stdout: expect.stringMatching(
        /^audit chain verified: 30 entries, each signed by spiffe:\/\/lab\.ai-infra-labs\.dev\/mcp-server, last hash [0-9a-f]{12}$/,
      ),
    });
    // No running lab here: the head cannot be compared with the server's record, and it says so.
    expect(ok.stderr).toContain('Warning: the head was not compared');
  });

  it('exits 1 with the broken line when the chain is broken, and 2 for bad options', async () => {
    const audit = await lab(async (file, signer) => {
      await writeLog(file, 5, { signer: () => signer.svid });
      const content = lines(file);
      content[2] = content[2]!.replace('tool not allowed for this agent', 'allowed after all');
      expect(content[2]).toContain('allowed after all');
      rewrite(file, content);
    });
    const broken = await audit('--verify');
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe('line 3: hash does not match its content: the entry was edited after it was written');
    expect(broken.stderr).toContain('does not verify at line 3');
    expect(broken.stderr).toContain('Fix: The log was changed after it was written');
    const shown = await audit();
    expect(shown.code).toBe(0);
    expect(shown.stderr).toContain('Warning: the audit chain does not verify (line 3:');
    expect((await audit('--verify', '--denied')).code).toBe(2);
    expect((await audit('-n', '0')).code).toBe(2);
  });

  it('leaves no stray files beside the log', async () => {
    const file = auditFile();
    await writeLog(file, 2);
    expect(readdirSync(path.dirname(file))).toEqual(['audit.jsonl']);
    expect(existsSync(`${file}.torn`)).toBe(false);
  });

  it('reads back the trace id of a traceparent it wrote, and nothing from a malformed one', () => {
    const id = newTraceId();
    expect(traceIdFrom(traceparent(id))).toBe(id);
    expect(traceIdFrom(`00-${id}-short-01`)).toBeUndefined();
    expect(traceIdFrom(undefined)).toBeUndefined();
  });
});
