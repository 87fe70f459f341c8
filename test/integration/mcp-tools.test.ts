import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SEARCH_LIMITS } from '../../src/services/mcp-search-server/index-client.js';
import { registerTools } from '../../src/services/mcp-search-server/tools.js';
import { fakeIndex, sampleDocuments } from '../helpers/fake-index.js';

let client: Client;
let index: ReturnType<typeof fakeIndex>;

beforeEach(async () => {
  index = fakeIndex(sampleDocuments);
  const server = new McpServer({ name: 'test', version: '0.0.0' });
  registerTools(server, index);
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  client = new Client({ name: 'test-client', version: '0.0.0' });
  await Promise.all([server.connect(serverSide), client.connect(clientSide)]);
});
afterEach(async () => client.close());

describe('the reference MCP tools, in process with a real SDK client', () => {
  it('advertises search_documents and get_document with their input schemas', async () => {
    const { tools } = await client.listTools();
    const search = tools.find((t) => t.name === 'search_documents')!;
    expect(search.inputSchema.required).toEqual(['query']);
    expect(Object.keys(search.inputSchema.properties ?? {}).sort()).toEqual(['collection', 'query', 'top_k']);
    expect((search.inputSchema.properties as Record<string, { type: string }>).top_k!.type).toBe('integer');
    expect(tools.find((t) => t.name === 'get_document')!.inputSchema.required).toEqual(['id']);
  });

  it("advertises the index's search limits in the search tool's schema and refuses a longer query", async () => {
    const { tools } = await client.listTools();
    const properties = tools.find((t) => t.name === 'search_documents')!.inputSchema.properties as Record<
      string,
      { maxLength?: number; maximum?: number; description?: string }
    >;
    expect(properties.query!.maxLength).toBe(SEARCH_LIMITS.maxQueryLength);
    expect(properties.query!.description).toContain(`${SEARCH_LIMITS.maxQueryTerms} words`);
    expect(properties.top_k!.maximum).toBe(SEARCH_LIMITS.maxTopK);
    const result = (await client.callTool({
      name: 'search_documents',
      arguments: { query: 'x'.repeat(SEARCH_LIMITS.maxQueryLength + 1) },
    })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(index.searches).toEqual([]);
  });

  it('passes query, top_k and collection to the index and returns ids in text and structured form', async () => {
    const result = (await client.callTool({
      name: 'search_documents',
      arguments: { query: 'key rotation', top_k: 2, collection: 'internal' },
    })) as CallToolResult;
    expect(index.searches).toEqual([{ query: 'key rotation', topK: 2, collection: 'internal' }]);
    expect(result.isError).toBeFalsy();
    expect((result.content[0] as { text: string }).text).toContain('[platform-009]');
    expect((result.structuredContent as { results: Array<{ id: string }> }).results.map((r) => r.id)).toEqual([
      'platform-009',
    ]);
  });

  it('returns a whole document, and an isError result naming an unknown id', async () => {
    const found = (await client.callTool({ name: 'get_document', arguments: { id: 'opa-001' } })) as CallToolResult;
    expect((found.content[0] as { text: string }).text).toContain(sampleDocuments[1]!.body);
    const missing = (await client.callTool({ name: 'get_document', arguments: { id: 'nope-42' } })) as CallToolResult;
    expect(missing.isError).toBe(true);
    expect((missing.content[0] as { text: string }).text).toContain('nope-42');
  });

  it('rejects out-of-range arguments as an isError result, without calling the index', async () => {
    const result = (await client.callTool({
      name: 'search_documents',
      arguments: { query: 'x', top_k: 500 },
    })) as CallToolResult;
    expect(result.isError).toBe(true);
    expect(index.searches).toHaveLength(0);
  });
});
