// What the MCP server does around every tool call: authorize() asks the policy before the tool runs (step 3),
// record() writes the audit entry afterwards, for allowed and denied calls alike (step 4). The server hands you
// the call with the caller's identity already taken from its verified client certificate.

export interface ToolCall {
  /** The caller's SPIFFE ID from its verified client certificate; null when it presented none. */
  spiffeId: string | null;
  tool: string;
  arguments: Record<string, unknown>;
  /** The collection the call touches: "public", "internal", or "*" for a search across all collections. */
  collection: string;
  /** W3C trace id of the call (from the caller's traceparent header, or new). */
  traceId: string;
  /** The request's HTTP headers: whatever is in them is claimed by the caller, never verified. */
  headers: Record<string, string | string[] | undefined>;
}

export interface Decision {
  allow: boolean;
  reason: string;
  /** OPA's decision_id: the link between this call's audit entry and OPA's decision log. */
  decisionId: string | null;
  source: string;
}

export interface Policy {
  /** POST /v1/data/agents/authz/decision on OPA. Fails closed: allow is false when OPA does not answer. */
  decide(input: { spiffe_id: string | null; tool: string; arguments: Record<string, unknown>; collection: string }): Promise<Decision>;
}

export interface Audit {
  /** Appends one hash-chained entry to .lab/audit/audit.jsonl (durable before it resolves). */
  append(entry: {
    spiffe_id: string | null;
    tool: string;
    arguments_sha256: string;
    decision: 'allow' | 'deny';
    decision_id: string | null;
    reason: string;
    trace_id: string;
    outcome: Outcome;
    duration_ms?: number;
  }): Promise<unknown>;
  /** SHA-256 of the arguments: the audit proves what was asked without storing it. */
  digest(args: unknown): string;
}

export type Outcome = 'ok' | 'tool_error' | 'denied';

export async function authorize(call: ToolCall, policy: Policy): Promise<Decision> {
  // Until step 3 every call is allowed: any workload with a certificate can read every collection.
  let decision: Decision = { allow: true, reason: 'no policy enforced yet', decisionId: null, source: 'none' };
  // @lab-step 3
  // TODO: Step 3. Ask the policy (the Policy interface above) about this call before the tool runs, and return its
  // TODO: decision. The caller is whom its verified certificate names; call.headers hold claims anyone can write.
  // TODO: Verify: `npx lab logs opa` shows each decision's input; `npx lab check 3`.
  decision = await policy.decide({ spiffe_id: call.spiffeId, tool: call.tool, arguments: call.arguments, collection: call.collection });
  // @lab-end
  return decision;
}

export async function record(call: ToolCall, decision: Decision, outcome: Outcome, durationMs: number, audit: Audit): Promise<void> {
  // @lab-step 4
  // TODO: Step 4. Record this call, allowed or denied, in the audit log (the Audit interface above is the record's
  // TODO: contract): who called (verified), what was asked (proved, never stored), what was decided and why (OPA's
  // TODO: decision id links the two logs), and how it ended. Verify: `npx lab audit`, `npx lab audit --verify`.
  await audit.append({
    spiffe_id: call.spiffeId,
    tool: call.tool,
    arguments_sha256: audit.digest(call.arguments),
    decision: decision.allow ? 'allow' : 'deny',
    decision_id: decision.decisionId,
    reason: decision.reason,
    trace_id: call.traceId,
    outcome,
    duration_ms: durationMs,
  });
  // @lab-end
}
