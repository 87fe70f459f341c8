import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { Planner, ToolOutcome } from './planner.js';
import type { Transcript } from './transcript.js';
import { currentTraceId } from '../telemetry/tracer.js';
import { recordRunTokens, runTokens, traceListTools, tracePlan, traceToolCall } from './run-tracing.js';

/** Ids the result names: structured `results[].id` / `document.id` when present, else `[id]` markers in text. */
export function resultIds(result: CallToolResult): string[] {
  const structured = result.structuredContent as
    | { results?: Array<{ id?: unknown }>; document?: { id?: unknown } }
    | undefined;
  const ids = [...(structured?.results ?? []).map((r) => r.id), structured?.document?.id].filter(
    (id): id is string => typeof id === 'string',
  );
  if (ids.length > 0) return ids;
  return [...resultText(result).matchAll(/\[([A-Za-z0-9][\w.-]*)\]/g)].map((m) => m[1]!);
}

export function resultText(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('\n');
}

/** Discovery, then plan/act until the planner answers or the step budget runs out. Every move goes to the transcript. */
export async function runAgent(options: {
  client: Client;
  planner: Planner;
  task: string;
  transcript: Transcript;
  maxSteps?: number;
}): Promise<string> {
  const { transcript } = options;
  const tokens = runTokens();
  try {
    return await work(options, tokens);
  } finally {
    recordRunTokens(tokens);
    transcript.write({ type: 'tokens', traceId: currentTraceId() ?? null, ...tokens });
  }
}

async function work(
  { client, planner, task, transcript, maxSteps }: Parameters<typeof runAgent>[0],
  tokens: ReturnType<typeof runTokens>,
): Promise<string> {
  const usage = (planner as { usage?: { prompt: number; completion: number } }).usage;
  transcript.write({
    type: 'connected',
    server: client.getServerVersion() ?? null,
    capabilities: (client.getServerCapabilities() as Record<string, unknown>) ?? null,
  });
  const { tools } = await traceListTools(() => client.listTools());
  transcript.write({ type: 'tools_listed', tools: tools.map((t) => ({ name: t.name, description: t.description })) });
  const history: ToolOutcome[] = [];
  for (let step = 0; step < (maxSteps ?? 6); step++) {
    const action = await tracePlan(tokens, usage, () => planner.next({ task, tools, history }));
    if (action.type === 'finish') {
      transcript.write({ type: 'finished', answer: action.answer });
      return action.answer;
    }
    transcript.write({ type: 'tool_selected', tool: action.tool, reason: action.reason, arguments: action.arguments });
    const started = performance.now();
    const result = await traceToolCall(
      tokens,
      action.tool,
      action.arguments,
      async () => (await client.callTool({ name: action.tool, arguments: action.arguments })) as CallToolResult,
    );
    const outcome: ToolOutcome = {
      ...action,
      isError: result.isError === true,
      text: resultText(result),
      resultIds: resultIds(result),
    };
    transcript.write({
      type: 'tool_called',
      tool: action.tool,
      isError: outcome.isError,
      durationMs: Math.round(performance.now() - started),
      preview: outcome.text.slice(0, 300),
      resultIds: outcome.resultIds,
    });
    history.push(outcome);
  }
  const answer = 'Stopped: the step budget ran out before the planner answered.';
  transcript.write({ type: 'finished', answer });
  return answer;
}
