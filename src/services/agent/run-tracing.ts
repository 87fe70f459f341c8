/**
 * The agent's spans and token counts: `agent run` around everything, `agent plan` per planner step (with the
 * model's reported usage when a model plans), `mcp tools/list` and `mcp tools/call <tool>` per MCP request (with
 * the arguments' and result's size in tokens). The totals go to the run span and to the transcript, from the same
 * sums, so a check can hold one against the other. Without tracing the API's no-op tracer makes the spans free.
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { inSpan } from '../telemetry/tracer.js';
import { argumentsText, countTokens, resultText, TOKEN_ATTRIBUTES, TOKENIZER } from '../telemetry/tokens.js';

export interface RunTokens {
  tokenizer: string;
  toolCalls: number;
  argumentTokens: number;
  resultTokens: number;
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export const runTokens = (): RunTokens => ({
  tokenizer: TOKENIZER,
  toolCalls: 0,
  argumentTokens: 0,
  resultTokens: 0,
  promptTokens: 0,
  completionTokens: 0,
  totalTokens: 0,
});

const spanOf = <T>(
  name: string,
  attributes: Record<string, string>,
  kind: SpanKind,
  work: (span: Span) => Promise<T>,
) => inSpan(name, { kind, attributes }, work);

/** The whole run; the trace id is the run's (the transcript records it). */
export function traceRun<T>(task: string, work: (traceId: string) => Promise<T>): Promise<T> {
  return spanOf('agent run', { 'agent.task': task }, SpanKind.INTERNAL, (span) => work(span.spanContext().traceId));
}

export function traceListTools<T>(list: () => Promise<T>): Promise<T> {
  return spanOf('mcp tools/list', { 'rpc.method': 'tools/list' }, SpanKind.CLIENT, list);
}

/** One planner step; `usage` is the model's running total (an OpenAI-compatible planner), read before and after. */
export function tracePlan<T>(
  tokens: RunTokens,
  usage: { prompt: number; completion: number } | undefined,
  plan: () => Promise<T>,
): Promise<T> {
  return spanOf('agent plan', {}, SpanKind.INTERNAL, async (span) => {
    const before = usage ? { ...usage } : undefined;
    const action = await plan();
    if (usage && before) {
      const prompt = usage.prompt - before.prompt;
      const completion = usage.completion - before.completion;
      span.setAttributes({ [TOKEN_ATTRIBUTES.prompt]: prompt, [TOKEN_ATTRIBUTES.completion]: completion });
      tokens.promptTokens += prompt;
      tokens.completionTokens += completion;
      tokens.totalTokens += prompt + completion;
    }
    return action;
  });
}

export function traceToolCall(
  tokens: RunTokens,
  tool: string,
  args: Record<string, unknown>,
  call: () => Promise<CallToolResult>,
): Promise<CallToolResult> {
  const attributes = { 'rpc.method': 'tools/call', 'mcp.tool.name': tool };
  const argumentTokens = countTokens(argumentsText(args));
  return spanOf(`mcp tools/call ${tool}`, attributes, SpanKind.CLIENT, async (span) => {
    span.setAttribute(TOKEN_ATTRIBUTES.arguments, argumentTokens);
    const result = await call();
    const resultTokens = countTokens(resultText(result));
    span.setAttribute(TOKEN_ATTRIBUTES.result, resultTokens);
    if (result.isError) span.setStatus({ code: SpanStatusCode.ERROR, message: 'isError result' });
    tokens.toolCalls += 1;
    tokens.argumentTokens += argumentTokens;
    tokens.resultTokens += resultTokens;
    tokens.totalTokens += argumentTokens + resultTokens;
    return result;
  });
}

/** The run's totals on its span (called inside traceRun). */
export function recordRunTokens(tokens: RunTokens): void {
  trace.getSpan(context.active())?.setAttributes({
    [TOKEN_ATTRIBUTES.arguments]: tokens.argumentTokens,
    [TOKEN_ATTRIBUTES.result]: tokens.resultTokens,
    [TOKEN_ATTRIBUTES.prompt]: tokens.promptTokens,
    [TOKEN_ATTRIBUTES.completion]: tokens.completionTokens,
    [TOKEN_ATTRIBUTES.total]: tokens.totalTokens,
  });
}
