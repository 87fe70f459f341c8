/**
 * A local stand-in for an OpenAI-compatible endpoint (/v1/chat/completions, /v1/models). It answers either from a
 * fixed script or through `planningModel`, which plans like a model would from what it is sent: it picks a tool
 * from the offered function schemas by their descriptions, fills in parameters from the question and from earlier
 * tool results, and finishes with an answer citing what it read. It records every request.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Message = { role: string; content: string | null; tool_calls?: unknown[]; tool_call_id?: string };
type Body = {
  model: string;
  messages: Message[];
  tools?: Array<{
    function: {
      name: string;
      description: string;
      parameters: { properties?: Record<string, unknown>; required?: string[] };
    };
  }>;
};

export const SCRIPTED_MODEL = 'scripted-planner';

export function scriptedChatEndpoint(
  script: unknown[] | ((body: Body) => unknown),
): Promise<{ url: string; requests: any[]; server: Server }> {
  const requests: any[] = [];
  const server = createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/v1/models') {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ object: 'list', data: [{ id: SCRIPTED_MODEL, object: 'model' }] }));
      return;
    }
    let body = '';
    for await (const chunk of req) body += chunk;
    const parsed = JSON.parse(body) as Body;
    requests.push({ path: req.url, auth: req.headers.authorization, body: parsed });
    const message = typeof script === 'function' ? script(parsed) : script[requests.length - 1];
    const usage = {
      prompt_tokens: Math.ceil(body.length / 4),
      completion_tokens: Math.ceil(JSON.stringify(message ?? '').length / 4),
    };
    res.writeHead(message ? 200 : 500, { 'content-type': 'application/json' }).end(
      JSON.stringify(
        message
          ? {
              choices: [{ message }],
              usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
            }
          : { error: 'script exhausted' },
      ),
    );
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, requests, server }),
    ),
  );
}

/** Plans from the request alone: search with the question, read the best hit, answer citing it. */
export function planningModel(body: Body): Message {
  const question = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
  const results = body.messages.filter((m) => m.role === 'tool').map((m) => m.content ?? '');
  const tools = body.tools ?? [];
  const search = tools.find(
    (t) => /search/i.test(t.function.description) && t.function.parameters.required?.length === 1,
  );
  const reader = tools.find((t) => t !== search && t.function.parameters.required?.some((p) => /id$/i.test(p)));
  const call = (name: string, args: Record<string, unknown>, why: string): Message => ({
    role: 'assistant',
    content: why,
    tool_calls: [
      { id: `call-${results.length + 1}`, type: 'function', function: { name, arguments: JSON.stringify(args) } },
    ],
  });
  if (search && results.length === 0)
    return call(
      search.function.name,
      { [search.function.parameters.required![0]!]: question },
      `The question needs the documents, and ${search.function.name} searches them.`,
    );
  const firstId = /\[([\w.-]+)\]/.exec(results[0] ?? '')?.[1];
  if (reader && firstId && results.length === 1)
    return call(
      reader.function.name,
      { [reader.function.parameters.required!.find((p) => /id$/i.test(p))!]: firstId },
      `${firstId} looks most relevant; reading it in full.`,
    );
  return {
    role: 'assistant',
    content: firstId ? `According to the course documents, see [${firstId}].` : 'I could not find anything on that.',
  };
}
