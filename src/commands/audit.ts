/**
 * `lab audit`: the audit trail the MCP server of lab 2 writes, one entry per tool call. Shows the last entries
 * as a table or as JSON lines, and verifies it (exit 1 when it does not verify, like a failed check): the hash
 * chain, each entry's signature by the MCP server's SVID against the lab's trust roots, and the head the server
 * last recorded outside the file (so entries cut off the end are found too).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ChalkInstance } from 'chalk';
import type { CommandContext } from '../core/context.js';
import { AuditNotVerified, EnvironmentError, UsageError } from '../core/errors.js';
import { openActiveSession } from '../core/lab-session.js';
import type { AuditEntry, AuditProblem } from '../services/audit/audit-entry.js';
import { formatProblem, readAudit, verifyAudit } from '../services/audit/audit-verify.js';
import { auditLogIn, verifyLabAudit } from '../services/audit/audit-trust.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import type { LabSession } from '../core/lab-session.js';
import { defineCommand, positiveCount } from './define.js';

export interface AuditOptions {
  verify?: boolean;
  json?: boolean;
  tail?: number;
  agent?: string;
  denied?: boolean;
}

const DEFAULT_TAIL = 20;
const REASON_WIDTH = 48;
const SHOWN_PROBLEMS = 10;

async function auditCommand(ctx: CommandContext, options: AuditOptions): Promise<number> {
  const session = await openActiveSession(ctx);
  const file = auditLogIn(session.paths.dir);
  if (options.verify) {
    if (options.agent !== undefined || options.denied || options.tail !== undefined) {
      throw new UsageError(
        '--verify checks the whole log, so --agent, --denied and --tail do not apply to it.',
        'Run `lab audit --verify` alone, or show entries without --verify.',
      );
    }
    return verifyCommand(ctx, session, file, options.json === true);
  }
  if (!existsSync(file)) {
    // Not an error: before step 4 there is simply nothing to show. Stdout stays empty for --json pipelines.
    (options.json ? ctx.io.err : ctx.io.out)(noEntriesYet(file));
    return 0;
  }
  const { entries } = guardedRead(file, readAudit);
  const matching = filterEntries(entries, options);
  // --json is for tools: every matching entry unless a tail was asked for; the table is for eyes: the last 20.
  const count = options.tail ?? (options.json ? Infinity : DEFAULT_TAIL);
  const shown = count >= matching.length ? matching : matching.slice(-count);
  if (options.json) {
    for (const entry of shown) ctx.io.out(JSON.stringify(entry));
  } else if (entries.length === 0) {
    ctx.io.out(noEntriesYet(file));
  } else if (shown.length === 0) {
    ctx.io.out(`No entries match ${describeFilters(options)} (of ${entries.length} in ${file}).`);
  } else {
    const filters = describeFilters(options);
    ctx.io.out(
      ctx.io.color.dim(
        `${shown.length} of ${matching.length} entries${filters ? ` matching ${filters}` : ''}, newest last (${file})`,
      ),
    );
    for (const line of formatAuditTable(shown, ctx.io.color)) ctx.io.out(line);
  }
  // Showing is not verifying, but a broken chain is worth a word whenever someone looks.
  const check = guardedRead(file, verifyAudit);
  if (!check.ok)
    ctx.io.err(
      ctx.io.color.yellow(
        `Warning: the audit chain does not verify (${formatProblem(check.problems[0]!)}). Run \`lab audit --verify\`.`,
      ),
    );
  return 0;
}

async function verifyCommand(ctx: CommandContext, session: LabSession, file: string, json: boolean): Promise<number> {
  if (!existsSync(file)) {
    if (json) ctx.io.out(JSON.stringify({ file, exists: false, ok: false, entries: 0, problems: [] }));
    throw new AuditNotVerified(
      `No audit log at ${file}, so there is nothing to verify.`,
      'The MCP server writes one entry per tool call once step 4 is done: finish it (`lab check 4`), make a tool call, then run `lab audit --verify` again.',
    );
  }
  const control = {
    secretsDir: session.paths.secrets,
    exec: (service: string, argv: string[]) => session.runtime.exec(service, argv),
  };
  const result = await guardedRead(file, (f) => verifyLabAudit(control, f, IDS.mcpServer));
  if (json) ctx.io.out(JSON.stringify({ file, exists: true, ...result }));
  if (result.ok) {
    if (!json) {
      ctx.io.out(
        `audit chain verified: ${result.entries} entries, each signed by ${IDS.mcpServer}${result.lastHash ? `, last hash ${result.lastHash.slice(0, 12)}` : ''}`,
      );
      if (result.anchor.checked)
        ctx.io.out(`head matches the one the MCP server recorded outside the file (seq ${result.anchor.seq})`);
      else
        ctx.io.err(
          ctx.io.color.yellow(
            `Warning: the head was not compared with the MCP server's record (${result.anchor.why}), so entries cut off the end since then would not show. Run it while the lab is running.`,
          ),
        );
    }
    return 0;
  }
  if (!json) {
    for (const problem of result.problems.slice(0, SHOWN_PROBLEMS))
      ctx.io.out(ctx.io.color.red(formatProblem(problem)));
    if (result.problems.length > SHOWN_PROBLEMS) ctx.io.out(`... and ${result.problems.length - SHOWN_PROBLEMS} more`);
  }
  const first = result.problems[0]!;
  throw new AuditNotVerified(
    `The audit trail of ${file} does not verify at line ${first.line} (${result.problems.length} damaged line${result.problems.length === 1 ? '' : 's'}).`,
    fixFor(result.problems),
  );
}

function fixFor(problems: AuditProblem[]): string {
  if (problems.length === 1 && problems[0]!.message.startsWith('incomplete last line')) {
    return 'A write was cut off (the MCP server stopped in the middle of one). Restart the lab (`lab stop`, then `lab start`): the server moves the cut-off line aside and the chain verifies again.';
  }
  return `The log was changed after it was written; the lines above say where. \`lab reset\` keeps it as evidence beside a new chain (your files stay), then \`lab start\` again.`;
}

function noEntriesYet(file: string): string {
  return `No audit entries yet: the MCP server writes one per tool call once step 4 is done (${file}).`;
}

/** A log the learner cannot read (say, written as root by a container) is an environment problem, exit 2. */
function guardedRead<T>(file: string, read: (file: string) => T): T {
  try {
    const value = read(file);
    return (value instanceof Promise ? value.catch((error: unknown) => readFailed(file, error)) : value) as T;
  } catch (error) {
    return readFailed(file, error);
  }
}

function readFailed(file: string, error: unknown): never {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') {
    throw new EnvironmentError(
      `Cannot read the audit log ${file}: permission denied.`,
      `It belongs to another user (the container that wrote it?). Take it back: \`sudo chown -R "$USER" ${path.dirname(file)}\`.`,
      { cause: error },
    );
  }
  throw error;
}

/** Entries of one agent (SPIFFE ID substring, any case) and/or denials only. */
export function filterEntries(entries: AuditEntry[], filters: Pick<AuditOptions, 'agent' | 'denied'>): AuditEntry[] {
  const agent = filters.agent?.toLowerCase();
  return entries.filter(
    (e) =>
      (agent === undefined || (e.spiffe_id ?? '').toLowerCase().includes(agent)) &&
      (!filters.denied || e.decision === 'deny'),
  );
}

function describeFilters(options: AuditOptions): string {
  return [
    options.agent !== undefined ? `--agent ${JSON.stringify(options.agent)}` : '',
    options.denied ? '--denied' : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** The human table: one line per entry, aligned columns, times in UTC, trace ids shortened to 8 digits. */
export function formatAuditTable(
  entries: AuditEntry[],
  color?: Pick<ChalkInstance, 'green' | 'red' | 'bold'>,
): string[] {
  const header = ['time (UTC)', 'spiffe id', 'tool', 'decision', 'outcome', 'reason', 'trace'];
  const rows = entries.map((e) => [
    e.time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ''),
    e.spiffe_id ?? '(none)',
    e.tool,
    e.decision,
    e.outcome,
    e.reason.length > REASON_WIDTH ? `${e.reason.slice(0, REASON_WIDTH - 1)}…` : e.reason || '-',
    e.trace_id.slice(0, 8),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], paint: (cell: string, i: number) => string) =>
    cells
      .map((cell, i) => paint(i === cells.length - 1 ? cell : cell.padEnd(widths[i]!), i))
      .join('  ')
      .trimEnd();
  const decisionColumn = header.indexOf('decision');
  return [
    line(header, (cell) => (color ? color.bold(cell) : cell)),
    ...rows.map((cells) =>
      line(cells, (cell, i) => {
        // Colour after padding, so the escape codes do not count as width.
        if (!color || i !== decisionColumn) return cell;
        return cell.startsWith('deny') ? color.red(cell) : color.green(cell);
      }),
    ),
  ];
}

export const command = defineCommand({
  name: 'audit',
  description: "show the audit trail of the lab's MCP server (one entry per tool call) or verify its hash chain",
  configure: (c) =>
    c
      .option(
        '--verify',
        'check the hash chain of the whole log: exit 0 when intact, 1 when an entry was changed, removed or moved',
      )
      .option('--json', 'print entries as JSON, one per line (all matching unless --tail); with --verify, the result')
      .option('-n, --tail <count>', 'show the last <count> matching entries (default: 20 in the table)', positiveCount)
      .option('--agent <text>', 'only entries whose SPIFFE ID contains <text>')
      .option('--denied', 'only denied calls'),
  examples: [
    ['lab audit', 'the last 20 tool calls'],
    ['lab audit --denied --agent summarizer', 'what the summarizer agent was refused'],
    ['lab audit --json | jq .reason', 'every entry, for scripts'],
    ['lab audit --verify', 'was any entry changed after it was written?'],
  ],
  notes: [
    'The log is <workspace>/.lab/audit/audit.jsonl. Entries hold a digest of the arguments, never the arguments.',
    "The trace column is the first 8 digits of the call's W3C trace id: `lab trace <those digits>` draws that trace.",
    'Exit codes: 0 shown or verified · 1 chain broken or no log to verify · 2 usage or environment error.',
  ],
  run: (ctx, options: AuditOptions) => auditCommand(ctx, options),
});
