import { existsSync } from 'node:fs';
import { auditLogIn } from '../../src/services/audit/audit-trust.js';
import { fail, pass, type CheckContext, type CheckDefinition } from '../../src/core/lab-definition.js';
import { digestArguments, type AuditEntry } from '../../src/services/audit/audit-entry.js';
import { readAudit, verifyAudit } from '../../src/services/audit/audit-verify.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import { callAs, callDecided, inBatches, mintAll, short, type CallSpec, type ProbeCall } from './calls.js';
import { auditEntries, opaDecisions, type OpaDecision } from './evidence.js';
import { OBEYS, probeGuard, SPOOF_HEADERS } from './guard-probe.js';

const STEP4 = 'Complete step 4: record() in mcp-server/guard.ts appends one entry per call with the verified identity.';

const auditFile = (ctx: CheckContext) => auditLogIn(ctx.workspaceDir);
const entriesFor = (ctx: CheckContext, traceId: string): AuditEntry[] =>
  auditEntries(ctx).filter((e) => e.trace_id === traceId);

/** Allowed and denied, both tools, with and without a collection: each field of an entry has a call that shows it. */
const CALLS: Array<{ as: string; spec: CallSpec; decision: 'allow' | 'deny' }> = [
  { as: IDS.research, spec: { tool: 'search_documents', collection: 'internal' }, decision: 'allow' },
  { as: IDS.support, spec: { tool: 'search_documents', collection: 'internal' }, decision: 'deny' },
  { as: IDS.research, spec: { tool: 'search_documents', collection: null }, decision: 'allow' },
  { as: IDS.support, spec: { tool: 'get_document', collection: 'internal' }, decision: 'deny' },
];

async function makeCalls(ctx: CheckContext): Promise<Array<{ call: ProbeCall; decision: 'allow' | 'deny' }>> {
  const svids = await mintAll(ctx, [IDS.research, IDS.support]);
  return inBatches(CALLS, 2, async (c) => ({
    call: await callDecided(ctx, svids.get(c.as)!, c.spec),
    decision: c.decision,
  }));
}

const label = (call: ProbeCall) => `${short(call.as)} ${call.tool} on ${call.collection} (trace ${call.traceId})`;

export const auditEveryCall: CheckDefinition = {
  id: 'audit-every-call',
  title:
    'Every tool call, allowed or denied, is audited once, field by field as it was made: identity, tool, argument digest, decision, reason, trace, outcome',
  timeoutMs: 45_000,
  async run(ctx) {
    const made = await makeCalls(ctx);
    const problems: string[] = [];
    for (const { call, decision } of made) {
      const found = entriesFor(ctx, call.traceId);
      if (found.length === 0) {
        problems.push(`no entry for the ${decision === 'allow' ? 'allowed' : 'denied'} call: ${label(call)}`);
        continue;
      }
      if (found.length > 1) problems.push(`${found.length} entries for one call: ${label(call)}`);
      const entry = found[0]!;
      const outcome = decision === 'allow' ? 'ok' : 'denied';
      const wrong = [
        call.allowed !== (decision === 'allow') &&
          `the call was ${call.allowed ? 'allowed' : 'denied'}, expected ${decision === 'allow' ? 'allowed' : 'denied'} (see policy-matrix)`,
        entry.spiffe_id !== call.as && `spiffe_id is ${entry.spiffe_id}, expected ${call.as}`,
        entry.tool !== call.tool && `tool is ${entry.tool}, expected ${call.tool}`,
        entry.arguments_sha256 !== digestArguments(call.args) &&
          `arguments_sha256 is not the digest of the arguments sent (${JSON.stringify(call.args)})`,
        entry.decision !== decision && `decision is ${entry.decision}, expected ${decision}`,
        !entry.decision_id && 'decision_id is empty (OPA returns one per decision)',
        !entry.reason && 'reason is empty',
        entry.outcome !== outcome && `outcome is ${entry.outcome}, expected ${outcome}`,
      ].filter(Boolean);
      if (wrong.length > 0) problems.push(`${label(call)}: ${wrong.join(', ')}`);
    }
    if (problems.length > 0)
      return fail(
        `The audit log does not match the calls made: ${problems.join('; ')}.`,
        `${STEP4} \`lab audit\` shows what was written.`,
      );
    return pass(
      `${made.length} calls (allowed and denied, search and get_document, with and without a collection) each audited once with every field as sent.`,
    );
  },
};

/** OPA's log may trail the answer by a moment: look again briefly for ids not yet there. */
async function decisionsIncluding(ctx: CheckContext, ids: string[]): Promise<Map<string, OpaDecision>> {
  let decisions = await opaDecisions(ctx);
  for (let i = 0; i < 10 && ids.some((id) => !decisions.has(id)); i++) {
    await ctx.clock.sleep(300);
    decisions = await opaDecisions(ctx);
  }
  return decisions;
}

export const auditMatchesOpa: CheckDefinition = {
  id: 'audit-matches-opa',
  title: "Each audit entry's decision_id is OPA's own, and its decision and reason are the ones in OPA's decision log",
  timeoutMs: 45_000,
  async run(ctx) {
    const [made, [obeyed]] = await Promise.all([makeCalls(ctx), probeGuard(ctx, [OBEYS[0]!])]);
    const entries = made.map(({ call }) => ({ call, entry: entriesFor(ctx, call.traceId)[0] }));
    if (entries.some((e) => !e.entry))
      return fail(
        `Calls just made have no audit entry (${entries
          .filter((e) => !e.entry)
          .map((e) => label(e.call))
          .join('; ')}).`,
        `${STEP4} (check audit-every-call)`,
      );
    const decisions = await decisionsIncluding(
      ctx,
      entries.map((e) => e.entry!.decision_id ?? ''),
    );
    const problems: string[] = [];
    for (const { call, entry } of entries) {
      const logged = decisions.get(entry!.decision_id ?? '');
      if (!logged) {
        problems.push(`${label(call)}: decision_id ${JSON.stringify(entry!.decision_id)} is not in OPA's decision log`);
        continue;
      }
      const input = logged.input ?? {};
      const wrong = [
        input.spiffe_id !== call.as && `OPA decided for ${String(input.spiffe_id)}`,
        input.tool !== call.tool && `OPA decided on tool ${String(input.tool)}`,
        input.collection !== call.collection && `OPA decided on collection ${String(input.collection)}`,
        (logged.result?.allow === true ? 'allow' : 'deny') !== entry!.decision &&
          `OPA said ${logged.result?.allow === true ? 'allow' : 'deny'}, the entry ${entry!.decision}`,
        logged.result?.reason !== entry!.reason &&
          `OPA's reason is "${String(logged.result?.reason)}", the entry's "${entry!.reason}"`,
      ].filter(Boolean);
      if (wrong.length > 0) problems.push(`${label(call)}: ${wrong.join(', ')}`);
    }
    // The same through the guard alone, against the grader's OPA: the id and reason it answered must be recorded.
    const recorded = obeyed?.result?.audit[0];
    if (obeyed && recorded && (recorded.decision_id !== obeyed.decisionId || recorded.reason !== obeyed.reason)) {
      problems.push(
        `with an OPA answering decision ${obeyed.decisionId} ("${obeyed.reason}"), record() wrote decision_id ${JSON.stringify(recorded.decision_id)} and reason "${String(recorded.reason)}"`,
      );
    }
    if (problems.length > 0)
      return fail(
        `The audit does not match OPA's decisions: ${problems.join('; ')}.`,
        `Record the decision authorize() returned: decision_id: decision.decisionId and reason: decision.reason, as OPA gave them. ${STEP4}`,
      );
    return pass(
      `${entries.length} entries joined to OPA's decision log by decision_id: same caller, tool, collection, decision and reason.`,
    );
  },
};

export const auditSpoofedHeader: CheckDefinition = {
  id: 'audit-spoofed-identity',
  title: 'A call that claims another identity in its headers is decided and audited under its real, verified ID',
  timeoutMs: 30_000,
  async run(ctx) {
    const call = await callAs(ctx, IDS.support, { tool: 'search_documents', collection: 'internal' }, SPOOF_HEADERS);
    const entry = entriesFor(ctx, call.traceId)[0];
    if (call.allowed)
      return fail(
        `${IDS.support} claiming to be ${IDS.research} in headers read the internal collection.`,
        `Identity must come from the verified certificate (call.spiffeId), never from call.headers. ${STEP4}`,
      );
    if (!entry) return fail(`The denied call with spoofed headers has no audit entry (trace ${call.traceId}).`, STEP4);
    if (entry.spiffe_id !== IDS.support)
      return fail(
        `The spoofed call is audited under ${entry.spiffe_id}, not the caller's verified ID ${IDS.support}.`,
        `Audit call.spiffeId, the certificate's SPIFFE ID. ${STEP4}`,
      );
    return pass(
      `The call with ${Object.keys(SPOOF_HEADERS).length} spoofed identity headers was denied and audited under ${IDS.support}.`,
    );
  },
};

export const auditChain = {
  id: 'audit-chain',
  title: 'The audit log is hash-chained and the chain verifies (`lab audit --verify`)',
  timeoutMs: 30_000,
  async run(ctx) {
    // Checks run concurrently: make a call of its own so the chain verified here holds at least that entry.
    const call = await callAs(ctx, IDS.research, { tool: 'search_documents', collection: 'public' });
    const file = auditFile(ctx);
    if (!existsSync(file)) return fail('There is no audit log yet (.lab/audit/audit.jsonl).', STEP4);
    const verdict = verifyAudit(file);
    if (verdict.entries === 0 || readAudit(file).entries.every((e) => e.trace_id !== call.traceId))
      return fail(`The audit log has no entry for a call just made (trace ${call.traceId}).`, STEP4);
    if (!verdict.ok)
      return fail(
        `The audit chain is broken: ${verdict.problems
          .slice(0, 2)
          .map((p) => `line ${p.line}: ${p.message}`)
          .join('; ')}.`,
        'Entries must only be appended through audit.append (never edited); `lab reset` starts a new log.',
      );
    return pass(`${verdict.entries} entries, chain intact up to ${verdict.lastHash?.slice(0, 12)}.`);
  },
} satisfies CheckDefinition;
