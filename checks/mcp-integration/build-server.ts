import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import { describeError, idsInResult, withMcpClient } from '../lib/mcp-client.js';
import { getJson } from '../lib/http-probe.js';
import { MAX_TOP_K } from '../../src/services/rag-index/search-index.js';
import { graderHeaders, mcpEndpoint } from './grader.js';

const SERVER_FIX = 'Look at `lab logs mcp-server`; the server is restarted from mcp-server/*.ts at every `lab check`.';

function corpusCounts(repoDir: string): Record<string, number> {
  const root = path.join(repoDir, 'fixtures', 'corpus');
  return Object.fromEntries(
    readdirSync(root, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => [e.name, readdirSync(path.join(root, e.name)).filter((f) => f.endsWith('.md')).length]),
  );
}

export const indexReady: CheckDefinition = {
  id: 'index-ready',
  title: 'The RAG index is healthy and holds the whole sample corpus',
  async run(ctx) {
    const expected = corpusCounts(ctx.repoDir);
    const expectedTotal = Object.values(expected).reduce((a, b) => a + b, 0);
    let stats: { documents?: number; collections?: Record<string, number> };
    try {
      const response = await getJson(new URL('/stats', ctx.url('rag-index')), ctx.signal);
      if (response.status !== 200)
        return fail(`rag-index answered /stats with HTTP ${response.status}.`, 'See `lab logs rag-index`.');
      stats = response.body as typeof stats;
    } catch (error) {
      return fail(
        `rag-index is not answering: ${describeError(error)}.`,
        'See `lab logs rag-index`: a mistake in rag-index/collections.ts stops the index from starting.',
      );
    }
    const missing = Object.keys(expected).filter((c) => stats.collections?.[c] !== expected[c]);
    if (stats.documents === expectedTotal && missing.length === 0) {
      return pass(`The index holds ${expectedTotal} documents in ${Object.keys(expected).length} collections.`, {
        collections: stats.collections,
      });
    }
    return fail(
      `The index holds ${stats.documents ?? 0} documents; the sample corpus has ${expectedTotal} in collections ${Object.keys(expected).join(', ')} (missing or incomplete: ${missing.join(', ')}).`,
      'List every collection of fixtures/corpus in rag-index/collections.ts ({ name, dir } each), save, and run `lab check` again: the index reloads.',
      { expected, actual: stats.collections ?? {} },
    );
  },
};

export const mcpInitialize: CheckDefinition = {
  id: 'mcp-initialize',
  title: 'The MCP server completes initialize and offers tools',
  async run(ctx) {
    try {
      return await withMcpClient(mcpEndpoint(ctx), await graderHeaders(ctx), ctx.signal, async (client) => {
        const info = client.getServerVersion();
        if (!client.getServerCapabilities()?.tools) {
          return fail(
            `initialize succeeded (${info?.name} ${info?.version}) but the server declares no "tools" capability: it has no tools yet.`,
            'Register the search_documents tool in mcp-server/tools.ts (step 1); McpServer declares the capability once a tool exists.',
          );
        }
        return pass(`initialize succeeded: ${info?.name} ${info?.version} offers tools.`);
      });
    } catch (error) {
      return fail(
        `The MCP initialize handshake failed at ${mcpEndpoint(ctx).href}: ${describeError(error)}.`,
        SERVER_FIX,
      );
    }
  },
};

export const searchToolSchema: CheckDefinition = {
  id: 'search-tool-schema',
  title: 'tools/list shows search_documents with the right input schema',
  async run(ctx) {
    try {
      return await withMcpClient(mcpEndpoint(ctx), await graderHeaders(ctx), ctx.signal, async (client) => {
        const { tools } = await client.listTools();
        const tool = tools.find((t) => t.name === 'search_documents');
        if (!tool) {
          return fail(
            `tools/list has no "search_documents" (it lists: ${tools.map((t) => t.name).join(', ') || 'nothing'}).`,
            'Register it with server.registerTool("search_documents", ...) in mcp-server/tools.ts.',
          );
        }
        const props = (tool.inputSchema.properties ?? {}) as Record<
          string,
          { type?: string; maximum?: number; minimum?: number; exclusiveMaximum?: number }
        >;
        const topK = props.top_k ?? {};
        const max = topK.maximum ?? (topK.exclusiveMaximum !== undefined ? topK.exclusiveMaximum - 1 : undefined);
        const required = tool.inputSchema.required ?? [];
        const problems = [
          props.query?.type !== 'string' && 'query must be a string',
          !required.includes('query') && 'query must be required',
          !['integer', 'number'].includes(props.top_k?.type ?? '') && 'top_k must be an integer',
          required.includes('top_k') && 'top_k must be optional',
          (max === undefined || max > MAX_TOP_K || max < 1) &&
            `top_k must advertise its bounds (maximum ${MAX_TOP_K}, what the index accepts), so agents see the limit before calling`,
          (topK.minimum === undefined || topK.minimum < 1) && 'top_k must advertise minimum 1',
          props.collection?.type !== 'string' && 'collection must be a string',
          required.includes('collection') && 'collection must be optional',
          !isSentence(tool.description) &&
            'the tool needs a description that says what it does in a sentence (agents choose tools by it)',
        ].filter(Boolean);
        if (problems.length > 0) {
          return fail(
            `search_documents' input schema is not right: ${problems.join('; ')}.`,
            'Use inputSchema { query: z.string(), top_k: z.number().int().min(1).max(20).optional(), collection: z.string().optional() } and a description.',
            { inputSchema: tool.inputSchema },
          );
        }
        return pass('search_documents takes query (required), top_k and collection (optional), and describes itself.');
      });
    } catch (error) {
      return fail(`tools/list failed: ${describeError(error)}.`, SERVER_FIX);
    }
  },
};

/** A description agents can choose by: several words, not a placeholder. */
export function isSentence(text: string | undefined): boolean {
  const words = (text ?? '')
    .trim()
    .split(/\s+/)
    .filter((w) => /[a-z]/i.test(w));
  return words.length >= 5 && !/^(todo|tbd|fixme|description)\b/i.test((text ?? '').trim());
}

interface GradedQuery {
  id: string;
  query: string;
  relevant: string[];
}

const RECALL_TARGET = 0.8;

export const searchRecall: CheckDefinition = {
  id: 'search-recall',
  title: `tools/call search_documents finds the expected documents (recall@5 >= ${RECALL_TARGET})`,
  timeoutMs: 30_000,
  async run(ctx) {
    const { queries } = (await import(path.join(ctx.repoDir, 'fixtures', 'queries.json'), { with: { type: 'json' } }))
      .default as { queries: GradedQuery[] };
    try {
      return await withMcpClient(mcpEndpoint(ctx), await graderHeaders(ctx), ctx.signal, async (client) => {
        const scored = await Promise.all(
          queries.map(async (q) => {
            const result = (await client.callTool({
              name: 'search_documents',
              arguments: { query: q.query, top_k: 5 },
            })) as CallToolResult;
            const found = result.isError ? [] : idsInResult(result).slice(0, 5);
            return {
              id: q.id,
              query: q.query,
              recall: q.relevant.filter((r) => found.includes(r)).length / q.relevant.length,
            };
          }),
        );
        const mean = scored.reduce((s, q) => s + q.recall, 0) / scored.length;
        const worst = scored
          .filter((q) => q.recall < 1)
          .sort((a, b) => a.recall - b.recall)
          .slice(0, 3);
        const details = {
          meanRecallAt5: Number(mean.toFixed(3)),
          perQuery: scored.map(({ id, recall }) => ({ id, recall })),
        };
        if (mean >= RECALL_TARGET)
          return pass(`Mean recall@5 is ${mean.toFixed(2)} over ${scored.length} graded queries.`, details);
        return fail(
          `Mean recall@5 is ${mean.toFixed(2)} over ${scored.length} graded queries (needs ${RECALL_TARGET}). Weakest: ${worst.map((q) => `"${q.query}" ${q.recall.toFixed(2)}`).join('; ')}.`,
          'search_documents must pass query and top_k to the index and return each hit with its id, as "[id] title" text or structuredContent { results: [{ id, ... }] }.',
          details,
        );
      });
    } catch (error) {
      return fail(`Calling search_documents failed: ${describeError(error)}.`, SERVER_FIX);
    }
  },
};
