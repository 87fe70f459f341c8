import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';
import { chooseReaderTool, chooseSearchTool, createDeterministicPlanner } from '../../src/services/agent/planner.js';

const tool = (
  name: string,
  description: string,
  properties: Record<string, { type: string }>,
  required: string[],
): Tool => ({
  name,
  description,
  inputSchema: { type: 'object', properties, required },
});

const lookup = tool(
  'kb_lookup',
  'Look up knowledge base articles matching a question',
  { question: { type: 'string' }, limit: { type: 'integer' } },
  ['question'],
);
const open = tool('open_article', 'Open one article in full', { article_id: { type: 'string' } }, ['article_id']);
const remove = tool('delete_article', 'Delete an article by query', { query: { type: 'string' } }, ['query']);
const clock = tool('now', 'Current time', {}, []);

describe('deterministic planner', () => {
  it('picks the search tool from schemas and descriptions, not from a known name', () => {
    expect(chooseSearchTool([clock, remove, open, lookup])?.tool.name).toBe('kb_lookup');
    expect(chooseSearchTool([clock, remove, open, lookup])?.param).toBe('question');
    expect(chooseReaderTool([clock, lookup, open], 'kb_lookup')?.tool.name).toBe('open_article');
  });

  it('searches, reads the top hit, then answers with sources', async () => {
    const planner = createDeterministicPlanner();
    const tools = [clock, lookup, open];
    const first = await planner.next({ task: 'what is mTLS?', tools, history: [] });
    expect(first).toMatchObject({
      type: 'call',
      tool: 'kb_lookup',
      arguments: { question: 'what is mTLS?', limit: 5 },
    });
    const searched = {
      tool: 'kb_lookup',
      arguments: {},
      callId: 'call-1',
      isError: false,
      text: '[a-1] mTLS',
      resultIds: ['a-1', 'b-2'],
    };
    const second = await planner.next({ task: 'what is mTLS?', tools, history: [searched] });
    expect(second).toMatchObject({ type: 'call', tool: 'open_article', arguments: { article_id: 'a-1' } });
    const read = {
      tool: 'open_article',
      arguments: {},
      callId: 'call-2',
      isError: false,
      text: 'Mutual TLS authenticates both sides.',
      resultIds: ['a-1'],
    };
    const third = await planner.next({ task: 'what is mTLS?', tools, history: [searched, read] });
    expect(third.type).toBe('finish');
    expect(third.type === 'finish' && third.answer).toContain('Mutual TLS authenticates both sides.');
    expect(third.type === 'finish' && third.answer).toContain('a-1');
  });

  it('says so when no tool can search', async () => {
    const action = await createDeterministicPlanner().next({ task: 'x', tools: [clock, remove], history: [] });
    expect(action).toMatchObject({ type: 'finish' });
    expect(action.type === 'finish' && action.answer).toMatch(/no tool/i);
  });
});
