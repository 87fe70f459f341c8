// The MCP tools this server exposes over the RAG index. Each tool has a zod input schema (the SDK turns it into
// the JSON Schema that clients discover with tools/list) and a handler; a handler that throws becomes an
// `isError` result the agent can read, not a protocol error.
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { SEARCH_LIMITS, type IndexClient } from './index-client.js';

export function registerTools(server: Pick<McpServer, 'registerTool'>, index: IndexClient): void {
  // @lab-step 1
  // TODO (step 1): offer a tool named "search_documents" that searches the index (index.search) and returns the
  // TODO: hits so that an agent can cite each by its id. Its input schema is the contract agents read: query
  // TODO: (required; no longer than the index accepts, see SEARCH_LIMITS), top_k (optional, 1-20) and collection
  // TODO: (optional). Its description tells an agent when to use it.
  // TODO: Read: https://modelcontextprotocol.io/specification/2025-11-25/server/tools and the SDK README
  // TODO: (https://github.com/modelcontextprotocol/typescript-sdk#tools).
  // TODO: Verify: npx lab mcp tools, then npx lab mcp call search_documents '{"query": "SPIFFE ID"}'.
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
  // TODO (step 3): offer a tool named "get_document" that returns one document in full (title and body) by the id
  // TODO: search_documents reported (input: id). An unknown id is a mistake the agent can recover from: answer with
  // TODO: a tool error (isError: true) whose text names the id, not a protocol error.
  // TODO: Read: https://modelcontextprotocol.io/specification/2025-11-25/server/tools#error-handling
  // TODO: Verify: npx lab mcp call get_document '{"id": "no-such-doc"}'.
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
