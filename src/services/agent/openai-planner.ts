/**
 * Planner backed by any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, LiteLLM...). MCP tool
 * schemas are offered as functions; the model's tool call is the next action. Configured by environment:
 * OPENAI_BASE_URL (e.g. http://127.0.0.1:11434/v1), OPENAI_MODEL, OPENAI_API_KEY (optional).
 */
import type { Planner, ToolOutcome } from './planner.js';

export interface OpenAIPlannerConfig {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
}

interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

const SYSTEM_PROMPT =
  'You are a research agent for a platform-security team. Use the tools to find and read documents, then answer ' +
  'the task in a few sentences and cite the document ids you used in square brackets.';

function replay(task: string, history: ToolOutcome[]): ChatMessage[] {
  const messages: ChatMessage[] = [
    { role: 'system', content: SYSTEM_PROMPT },
    { role: 'user', content: task },
  ];
  for (const h of history) {
    messages.push({
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: h.callId, type: 'function', function: { name: h.tool, arguments: JSON.stringify(h.arguments) } },
      ],
    });
    messages.push({ role: 'tool', tool_call_id: h.callId, content: h.isError ? `ERROR: ${h.text}` : h.text });
  }
  return messages;
}

/** Tokens the endpoint reported (its `usage`), summed over the run: what a question cost. */
export interface TokenUsage {
  calls: number;
  prompt: number;
  completion: number;
  total: number;
}

export function createOpenAIPlanner(config: OpenAIPlannerConfig): Planner & { usage: TokenUsage } {
  const endpoint = `${config.baseUrl.replace(/\/$/, '')}/chat/completions`;
  const usage: TokenUsage = { calls: 0, prompt: 0, completion: 0, total: 0 };
  return {
    name: `openai:${config.model}`,
    usage,
    async next({ task, tools, history }) {
      const response = await fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(config.apiKey ? { authorization: `Bearer ${config.apiKey}` } : {}),
        },
        body: JSON.stringify({
          model: config.model,
          messages: replay(task, history),
          tools: tools.map((t) => ({
            type: 'function',
            function: { name: t.name, description: t.description ?? '', parameters: t.inputSchema },
          })),
          tool_choice: 'auto',
        }),
        signal: AbortSignal.timeout(config.timeoutMs ?? 60_000),
      });
      if (!response.ok)
        throw new Error(
          `chat completions at ${endpoint} answered HTTP ${response.status}: ${(await response.text()).slice(0, 200)}`,
        );
      const body = (await response.json()) as {
        choices?: Array<{ message?: ChatMessage }>;
        usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number };
      };
      usage.calls += 1;
      usage.prompt += body.usage?.prompt_tokens ?? 0;
      usage.completion += body.usage?.completion_tokens ?? 0;
      usage.total +=
        body.usage?.total_tokens ?? (body.usage?.prompt_tokens ?? 0) + (body.usage?.completion_tokens ?? 0);
      const message = body.choices?.[0]?.message;
      if (!message) throw new Error(`chat completions at ${endpoint} returned no choices`);
      const call = message.tool_calls?.[0];
      if (!call) return { type: 'finish', answer: message.content ?? '' };
      let args: Record<string, unknown>;
      try {
        args = JSON.parse(call.function.arguments || '{}') as Record<string, unknown>;
      } catch {
        throw new Error(`the model sent invalid JSON arguments for ${call.function.name}`);
      }
      // Some models say why alongside the call; that text is the reason the transcript shows.
      const said = message.content?.trim();
      return {
        type: 'call',
        tool: call.function.name,
        arguments: args,
        reason: said ? `${config.model}: ${said}` : `chosen by ${config.model}`,
        callId: call.id,
      };
    },
  };
}
