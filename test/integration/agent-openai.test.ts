import { mkdtempSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { runAgent } from '../../src/services/agent/agent.js';
import { createOpenAIPlanner } from '../../src/services/agent/openai-planner.js';
import { Transcript } from '../../src/services/agent/transcript.js';
import { registerTools } from '../../src/services/mcp-search-server/tools.js';
import { fakeIndex, sampleDocuments } from '../helpers/fake-index.js';
import { scriptedChatEndpoint } from '../helpers/scripted-chat.js';

let server: Server | undefined;
afterEach(() => server?.close());

describe('agent with the OpenAI-compatible planner', () => {
  it("offers the discovered MCP tools as functions, executes the model's tool call and feeds the result back", async () => {
    const endpoint = await scriptedChatEndpoint([
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'tc-1',
            type: 'function',
            function: { name: 'search_documents', arguments: '{"query":"default deny","top_k":2}' },
          },
        ],
      },
      { role: 'assistant', content: 'Start from default deny [opa-001].' },
    ]);
    server = endpoint.server;
    const mcp = new McpServer({ name: 'docs', version: '1.0.0' });
    registerTools(mcp, fakeIndex(sampleDocuments));
    const [a, b] = InMemoryTransport.createLinkedPair();
    const client = new Client({ name: 'agent', version: '1.0.0' });
    await Promise.all([mcp.connect(b), client.connect(a)]);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'agent-')), 'transcript.jsonl');

    const answer = await runAgent({
      client,
      planner: createOpenAIPlanner({ baseUrl: endpoint.url, model: 'scripted', apiKey: 'sk-local' }),
      task: 'How should policies start?',
      transcript: new Transcript(file),
    });

    expect(answer).toBe('Start from default deny [opa-001].');
    const [first, second] = endpoint.requests;
    expect(first.path).toBe('/v1/chat/completions');
    expect(first.auth).toBe('Bearer sk-local');
    expect(first.body.model).toBe('scripted');
    expect(first.body.tools.map((t: any) => t.function.name).sort()).toEqual(['get_document', 'search_documents']);
    expect(
      first.body.tools.find((t: any) => t.function.name === 'search_documents').function.parameters.required,
    ).toEqual(['query']);
    const toolMessage = second.body.messages.find((m: any) => m.role === 'tool');
    expect(toolMessage.tool_call_id).toBe('tc-1');
    expect(toolMessage.content).toContain('[opa-001]');
    const events = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(events.map((e) => e.type)).toEqual([
      'connected',
      'tools_listed',
      'tool_selected',
      'tool_called',
      'finished',
      // The run's token totals (issue 13): the model's reported usage and the tool traffic.
      'tokens',
    ]);
    expect(events[3]).toMatchObject({ tool: 'search_documents', isError: false, resultIds: ['opa-001'] });
    await client.close();
  });

  it('reports an endpoint failure with its status', async () => {
    const endpoint = await scriptedChatEndpoint([]);
    server = endpoint.server;
    const planner = createOpenAIPlanner({ baseUrl: endpoint.url, model: 'scripted' });
    await expect(planner.next({ task: 'x', tools: [], history: [] })).rejects.toThrow(/HTTP 500/);
  });
});
