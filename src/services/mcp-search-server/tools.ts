// The MCP tools this server exposes over the RAG index. Each tool has a zod input schema (the SDK turns it into
// the JSON Schema that clients discover with tools/list) and a handler; a handler that throws becomes an
// `isError` result the agent can read, not a protocol error.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { SEARCH_LIMITS, type IndexClient } from './index-client.js';

export function registerTools(server: Pick<McpServer, 'registerTool'>, index: IndexClient): void {
  // @lab-step 1
  // TODO: Register a tool named "search_documents" with server.registerTool(name, { description, inputSchema }, handler).
  // TODO: inputSchema: query (string, required, at most SEARCH_LIMITS.maxQueryLength characters: the index refuses
  // TODO: longer ones), top_k (integer 1-20, optional), collection (string, optional).
  // TODO: The handler calls index.search(query, { topK: top_k, collection }) and returns the hits as text content.
  server.registerTool(
    'search_documents',
    {
      title: 'Search documents',
      description:
        'Full-text search over the course knowledge base (MCP, SPIFFE/SPIRE, OPA, mTLS, RAG, platform engineering). ' +
        'Returns the best matching documents with id, title, collection and a snippet; read one in full with get_document.',
      inputSchema: {
        query: z.string().min(1).max(SEARCH_LIMITS.maxQueryLength).describe(`What to search for, in keywords or natural language (at most ${SEARCH_LIMITS.maxQueryTerms} words)`),
        top_k: z.number().int().min(1).max(SEARCH_LIMITS.maxTopK).optional().describe('How many results to return (default 5)'),
        collection: z.string().optional().describe('Only search this collection, e.g. "public" or "internal"'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ query, top_k, collection }) => {
      const hits = await index.search(query, { topK: top_k ?? 5, collection });
      const lines = hits.map((h, i) => `${i + 1}. [${h.id}] ${h.title} (${h.collection}, score ${h.score})\n   ${h.snippet}`);
      return {
        content: [{ type: 'text', text: hits.length > 0 ? lines.join('\n') : `No documents match "${query}".` }],
        structuredContent: { results: hits },
      };
    },
  );
  // @lab-end

  // @lab-step 3
  // TODO: Register a tool named "get_document" with inputSchema { id: string } that returns the whole document.
  // TODO: When the index has no such document, throw an Error whose message names the id: the SDK turns it into
  // TODO: an isError result that tells the agent what went wrong.
  server.registerTool(
    'get_document',
    {
      title: 'Get document',
      description: 'Read one document of the knowledge base in full, by the id that search_documents returned.',
      inputSchema: { id: z.string().min(1).describe('Document id, e.g. "mcp-001"') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ id }) => {
      const doc = await index.getDocument(id);
      if (!doc) throw new Error(`No document with id "${id}". Use search_documents to find valid ids.`);
      return {
        content: [{ type: 'text', text: `# ${doc.title}\n\nid: ${doc.id} | collection: ${doc.collection} | tags: ${doc.tags.join(', ')}\n\n${doc.body}` }],
        structuredContent: { document: doc },
      };
    },
  );
  // @lab-end
}
