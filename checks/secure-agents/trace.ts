/**
 * Lab 2's calls are traced: each of the research agent's tool calls is one trace from the agent's task through
 * the MCP server's tool handler and its OPA decision to the index, and the audit entry of the call names that
 * trace: the trace's OPA span carries the entry's decision_id, its tool span the entry's verified SPIFFE ID.
 * Propagation is the runner's (the agent's mTLS fetch, the https server and agent hooks), so this check reads
 * the learner's work only through the audit entry it joins.
 */
import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import type { SpanRecord } from '../../src/core/traces.js';
import { awaitTrace, describeHop, judgeTrace, type Hop } from '../lib/trace-evidence.js';
import { agentRun, AGENT_JOBS } from './agents.js';
import { auditEntries } from './evidence.js';

const task: Hop = { service: AGENT_JOBS.research, name: 'agent task' };
const handler: Hop = { service: 'mcp-server', name: 'tool search_documents', under: task };
const decision: Hop = { service: 'mcp-server', name: 'opa decision', under: handler };
const query: Hop = { service: 'rag-index', name: 'rag-index query', under: handler };

const FIX =
  '`lab trace <trace id>` draws the call (`lab audit` shows the first 8 digits); `lab logs trace-receiver` and `lab logs mcp-server` show export errors. Complete step 4 first: the trace is joined to its audit entry.';

function problemsOf(
  traceId: string,
  spans: SpanRecord[],
  hops: Hop[],
  entry: { decision_id: string | null; spiffe_id: string | null },
): string[] {
  const { shape, missing } = judgeTrace(spans, hops);
  const tool = spans.find((s) => s.service === 'mcp-server' && s.name === 'tool search_documents');
  const opa = spans.find((s) => s.service === 'mcp-server' && s.name === 'opa decision');
  return [
    spans.length === 0 && `no span of trace ${traceId} reached the trace receiver`,
    spans.length > 0 &&
      (shape.roots.length !== 1 || shape.roots[0]!.name !== 'agent task') &&
      `trace ${traceId} has ${shape.roots.length} roots: context was lost on a hop`,
    shape.orphans.length > 0 &&
      `trace ${traceId}: ${shape.orphans.map((s) => `${s.service} "${s.name}"`).join(', ')} name a missing parent`,
    missing.length > 0 && `trace ${traceId} lacks ${missing.map(describeHop).join('; ')}`,
    opa &&
      opa.attributes['opa.decision_id'] !== (entry.decision_id ?? undefined) &&
      `trace ${traceId}'s OPA span has decision_id ${String(opa.attributes['opa.decision_id'])}, its audit entry ${entry.decision_id}`,
    tool &&
      (tool.attributes['spiffe.id'] !== entry.spiffe_id || tool.attributes['lab.audited'] !== true) &&
      `trace ${traceId}'s tool span names caller ${String(tool.attributes['spiffe.id'])}, its audit entry ${entry.spiffe_id}`,
  ].filter((p): p is string => typeof p === 'string');
}

export const agentCallsTraced: CheckDefinition = {
  id: 'agent-calls-traced',
  title:
    "Each of the agent's calls is one trace (agent, MCP server, OPA decision, index) that its audit entry names, same decision_id",
  timeoutMs: 45_000,
  async run(ctx) {
    const run = await agentRun(ctx, 'research');
    if (!run.connected || run.calls.length === 0)
      return fail(
        `The research agent made no call to trace: ${run.error ?? 'no calls'}.`,
        'Pass the other checks of this step first.',
      );
    const problems: string[] = [];
    for (const call of run.calls) {
      const entry = auditEntries(ctx).find((e) => e.trace_id === call.trace_id);
      if (!entry) {
        problems.push(`no audit entry names trace ${call.trace_id} (${call.query})`);
        continue;
      }
      const hops = [handler, decision, ...(call.outcome === 'ok' ? [query] : [])];
      problems.push(...problemsOf(call.trace_id, await awaitTrace(ctx, call.trace_id, hops), hops, entry));
    }
    if (problems.length > 0) return fail(`The agent's calls are not traced end to end: ${problems.join('; ')}.`, FIX);
    return pass(
      `${run.calls.length} calls, each one trace from the agent through the tool handler and OPA to the index, joined to its audit entry by trace id and decision_id.`,
    );
  },
};
