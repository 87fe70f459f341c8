import { existsSync } from 'node:fs';
import { fail, pass, type CheckContext, type CheckDefinition } from '../../src/core/lab-definition.js';
import { auditLogIn } from '../../src/core/paths.js';
import { digestArguments, type AuditEntry } from '../../src/services/audit/audit-entry.js';
import { readAudit, verifyAudit } from '../../src/services/audit/audit-verify.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import { searchAs } from './policy.js';

const STEP4 = 'Complete step 4: record() in mcp-server/guard.ts appends one entry per call with the verified identity.';

const auditFile = (ctx: CheckContext) => auditLogIn(ctx.workspaceDir);
const entryFor = (ctx: CheckContext, traceId: string): AuditEntry | undefined => readAudit(auditFile(ctx)).entries.find((e) => e.trace_id === traceId);

export const auditEveryCall: CheckDefinition = {
  id: 'audit-every-call',
  title: 'Every tool call, allowed or denied, is audited under the verified SPIFFE ID with its OPA decision',
  timeoutMs: 45_000,
  async run(ctx) {
    const allowed = await searchAs(ctx, IDS.research, 'internal');
    const denied = await searchAs(ctx, IDS.support, 'internal');
    const problems: string[] = [];
    for (const [call, decision] of [[allowed, 'allow'], [denied, 'deny']] as const) {
      const entry = entryFor(ctx, call.traceId);
      const args = { query: 'incident response runbook', top_k: 2, collection: call.collection };
      if (!entry) {
        problems.push(`no entry for the ${decision === 'allow' ? 'allowed' : 'denied'} call by ${call.as} (trace ${call.traceId})`);
        continue;
      }
      const wrong = [
        entry.spiffe_id !== call.as && `spiffe_id is ${entry.spiffe_id}, expected ${call.as}`,
        entry.decision !== decision && `decision is ${entry.decision}, expected ${decision}`,
        !entry.decision_id && 'decision_id is empty (OPA returns one per decision)',
        entry.arguments_sha256 !== digestArguments(args) && 'arguments_sha256 is not the digest of the call\'s arguments',
        entry.tool !== 'search_documents' && `tool is ${entry.tool}`,
      ].filter(Boolean);
      if (wrong.length > 0) problems.push(`the entry for trace ${call.traceId}: ${wrong.join(', ')}`);
    }
    if (problems.length > 0) return fail(`The audit log is incomplete: ${problems.join('; ')}.`, `${STEP4} \`lab audit\` shows what was written.`);
    return pass(`Allowed and denied calls audited under ${IDS.research} and ${IDS.support} with OPA decision ids.`);
  },
};

export const auditSpoofedHeader: CheckDefinition = {
  id: 'audit-spoofed-identity',
  title: 'A call that claims another identity in its headers is decided and audited under its real, verified ID',
  timeoutMs: 30_000,
  async run(ctx) {
    const spoof = { 'x-spiffe-id': IDS.research, 'x-agent-id': 'research', 'x-forwarded-client-cert': `URI=${IDS.research}` };
    const call = await searchAs(ctx, IDS.support, 'internal', spoof);
    const entry = entryFor(ctx, call.traceId);
    if (call.allowed) return fail(`${IDS.support} claiming to be ${IDS.research} in a header read the internal collection.`, `Identity must come from the verified certificate (call.spiffeId), never from call.headers. ${STEP4}`);
    if (!entry) return fail(`The denied call with a spoofed header has no audit entry (trace ${call.traceId}).`, STEP4);
    if (entry.spiffe_id !== IDS.support) return fail(`The spoofed call is audited under ${entry.spiffe_id}, not the caller's verified ID ${IDS.support}.`, `Audit call.spiffeId, the certificate's SPIFFE ID. ${STEP4}`);
    return pass(`The spoofed call was denied and audited under ${IDS.support}.`);
  },
};

export const auditChain = {
  id: 'audit-chain',
  title: 'The audit log is hash-chained and the chain verifies (`lab audit --verify`)',
  timeoutMs: 30_000,
  async run(ctx) {
    // Checks run concurrently: make a call of its own so the chain verified here holds at least that entry.
    const call = await searchAs(ctx, IDS.research, 'public');
    const file = auditFile(ctx);
    if (!existsSync(file)) return fail('There is no audit log yet (.lab/audit/audit.jsonl).', STEP4);
    const verdict = verifyAudit(file);
    if (verdict.entries === 0 || !entryFor(ctx, call.traceId)) return fail(`The audit log has no entry for a call just made (trace ${call.traceId}).`, STEP4);
    if (!verdict.ok) return fail(`The audit chain is broken: ${verdict.problems.slice(0, 2).map((p) => `line ${p.line}: ${p.message}`).join('; ')}.`, 'Entries must only be appended through audit.append (never edited); `lab reset` starts a new log.');
    return pass(`${verdict.entries} entries, chain intact up to ${verdict.lastHash?.slice(0, 12)}.`);
  },
} satisfies CheckDefinition;
