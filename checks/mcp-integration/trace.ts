/**
 * The agent's run is observable: its trace reached the runner's receiver, it is one tree (the agent's run at the
 * root, every parent link intact) across every service of the lab, and its token total is the transcript's.
 * Propagation is the runner's (src/services/telemetry hooks fetch, node:http and McpServer), so a failure here
 * names a broken hop, usually a server or agent that does not use the SDK's client, server or transport.
 */
import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import { awaitTrace, describeHop, judgeTrace, type Hop } from '../lib/trace-evidence.js';
import { agentFailure, agentRun, type TranscriptEntry } from './grader.js';

const run: Hop = { service: 'agent', name: 'agent run' };
const toolCall = (tool: string): Hop => ({ service: 'agent', name: `mcp tools/call ${tool}`, under: run });

/** What an authenticated run crosses: token issuance, discovery, and per tool call server, handler and index. */
function hopsOf(tools: string[]): Hop[] {
  const perTool = tools.flatMap((tool) => {
    const handler: Hop = { service: 'mcp-server', name: `tool ${tool}`, under: toolCall(tool) };
    return [handler, { service: 'rag-index', name: /^rag-index (query|get)$/, under: handler }];
  });
  return [
    { service: 'auth-server', name: 'POST /oauth2/token', under: run },
    { service: 'mcp-server', name: 'POST /mcp', under: { service: 'agent', name: 'mcp tools/list', under: run } },
    ...perTool,
  ];
}

const TRACE_FIX =
  "Run `lab trace --last` to see which hop is missing; `lab logs trace-receiver` and `lab logs <service>` show export errors. Keep the SDK's StreamableHTTPClientTransport in agent/connect.ts and McpServer with registerTool in mcp-server/.";

export const agentRunTraced: CheckDefinition = {
  id: 'agent-run-traced',
  title:
    "The agent's run is one trace across agent, auth-server, mcp-server and rag-index, tokens matching the transcript",
  timeoutMs: 45_000,
  async run(ctx) {
    const agent = await agentRun(ctx);
    const tokens = agent.entries.filter((e) => e.type === 'tokens').at(-1) as
      | (TranscriptEntry & { traceId?: unknown; totalTokens?: unknown })
      | undefined;
    if (agent.exitCode !== 0 || !tokens)
      return fail(
        `The agent did not finish a run to trace: ${agentFailure(agent)}.`,
        'Pass the other checks of this step first.',
      );
    if (typeof tokens.traceId !== 'string')
      return fail('The agent recorded no trace id: its tracing did not start.', TRACE_FIX);
    const served = agent.entries.filter((e) => e.type === 'tool_called' && e.isError === false);
    const tools = [...new Set(served.map((e) => String(e.tool)))];
    const hops = hopsOf(tools);
    const spans = await awaitTrace(ctx, tokens.traceId, hops);
    if (spans.length === 0) return fail(`No span of trace ${tokens.traceId} reached the trace receiver.`, TRACE_FIX);
    const { shape, missing, tokens: counted } = judgeTrace(spans, hops);
    if (shape.roots.length !== 1 || shape.roots[0]!.name !== 'agent run')
      return fail(
        `Trace ${tokens.traceId} has ${shape.roots.length} roots (${shape.roots.map((s) => `${s.service} "${s.name}"`).join(', ')}): context was lost on a hop.`,
        TRACE_FIX,
      );
    if (shape.orphans.length > 0)
      return fail(
        `Trace ${tokens.traceId}: ${shape.orphans.map((s) => `${s.service} "${s.name}"`).join(', ')} name a parent the trace does not hold.`,
        TRACE_FIX,
      );
    if (missing.length > 0)
      return fail(`Trace ${tokens.traceId} lacks ${missing.map(describeHop).join('; ')}.`, TRACE_FIX);
    if (counted.total !== tokens.totalTokens)
      return fail(
        `The trace's spans count ${counted.total} tokens, the transcript ${String(tokens.totalTokens)}: they must be the same run's counts.`,
        TRACE_FIX,
      );
    return pass(
      `Trace ${tokens.traceId}: ${spans.length} spans across ${shape.services.join(', ')}, one tree; ${counted.total} tokens as in the transcript.`,
    );
  },
};
