/**
 * What the lab's own services recorded, for checks that must not take learner-controlled output at its word:
 * OPA's decision log (OPA's console, which no learner code writes) and the MCP server's audit log.
 */
import { auditLogIn } from '../../src/services/audit/audit-trust.js';
import { existsSync } from 'node:fs';
import type { CheckContext } from '../../src/core/lab-definition.js';
import type { AuditEntry } from '../../src/services/audit/audit-entry.js';
import { readAudit } from '../../src/services/audit/audit-verify.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import type { AgentRun } from './agents.js';

export interface OpaDecision {
  decision_id: string;
  path?: string;
  input?: Record<string, unknown>;
  result?: { allow?: unknown; reason?: unknown };
}

/** Every decision OPA logged, by decision_id. */
export async function opaDecisions(ctx: CheckContext): Promise<Map<string, OpaDecision>> {
  const decisions = new Map<string, OpaDecision>();
  for (const line of (await ctx.logs('opa')).split('\n')) {
    const start = line.indexOf('{"');
    if (start < 0 || !line.includes('"Decision Log"')) continue;
    try {
      const entry = JSON.parse(line.slice(start)) as OpaDecision & { msg?: string };
      if (entry.msg === 'Decision Log' && typeof entry.decision_id === 'string')
        decisions.set(entry.decision_id, entry);
    } catch {
      // a line that merely mentions a decision log
    }
  }
  return decisions;
}

export function auditEntries(ctx: CheckContext): AuditEntry[] {
  const file = auditLogIn(ctx.workspaceDir);
  return existsSync(file) ? readAudit(file).entries : [];
}

const AGENT_IDS: Record<string, string> = { research: IDS.research, support: IDS.support };

/**
 * Each call an agent reports must be in the audit log under the agent's verified identity. Before step 4 there
 * is no audit to compare with (an empty log): then the report stands on its own.
 */
export async function agentCallsWitnessed(ctx: CheckContext, run: AgentRun): Promise<string[]> {
  const entries = auditEntries(ctx);
  if (entries.length === 0) return [];
  if (run.calls.length === 0) return [`agent-${run.role} reports no tool call at all`];
  return run.calls.flatMap((call) => {
    const entry = entries.find((e) => e.trace_id === call.trace_id);
    if (!entry) return [`agent-${run.role}'s call (trace ${call.trace_id}) is not in the audit log`];
    if (entry.spiffe_id !== AGENT_IDS[run.role])
      return [`agent-${run.role}'s call (trace ${call.trace_id}) was made as ${entry.spiffe_id}`];
    return [];
  });
}
