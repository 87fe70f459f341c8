import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import { describeError, idsInResult, textOf, withMcpClient } from '../lib/mcp-client.js';
import { readdirSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { getJson } from '../lib/http-probe.js';
import { isSentence } from './build-server.js';
import { graderHeaders, mcpEndpoint } from './grader.js';

const squash = (text: string) => text.replace(/\s+/g, ' ').trim();
/** A document written as JSON text ({ title, body, ... }) read as its title and body, so any shape the step allows passes. */
function readable(text: string): string {
  try {
    const doc = JSON.parse(text) as { title?: unknown; body?: unknown; document?: { title?: unknown; body?: unknown } };
    const d = doc.document ?? doc;
    if (typeof d.body === 'string') return `${String(d.title ?? '')}\n${d.body}\n${text}`;
  } catch {
    /* not JSON: plain text */
  }
  return text;
}

/**
 * The ids a get_document result names for itself: its structured document's, a JSON text's own `id`, or an
 * `[id]` outside the body. A body may cite other documents as `[id]` (rag-008 cites [opa-003]), which says
 * nothing about which document was returned.
 */
export function idsNamed(result: CallToolResult, body: string): string[] {
  const structured = (result.structuredContent as { document?: { id?: unknown } } | undefined)?.document?.id;
  if (typeof structured === 'string') return [structured];
  const text = textOf(result);
  try {
    const parsed = JSON.parse(text) as { id?: unknown; document?: { id?: unknown } };
    const id = (parsed.document ?? parsed).id;
    return typeof id === 'string' ? [id] : [];
  } catch {
    /* not JSON: plain text */
  }
  return [
    ...text
      .split(body)
      .join('')
      .matchAll(/\[([a-z]+-\d{3})\]/g),
  ].map((m) => m[1]!);
}

export const getDocument: CheckDefinition = {
  id: 'get-document',
  title: 'get_document returns the document asked for, whole (title and full body), compared with the index',
  async run(ctx) {
    try {
      return await withMcpClient(mcpEndpoint(ctx), await graderHeaders(ctx), ctx.signal, async (client) => {
        const { tools } = await client.listTools();
        const tool = tools.find((t) => t.name === 'get_document');
        if (!tool)
          return fail(
            'tools/list has no "get_document".',
            'Register get_document { id: string } in mcp-server/tools.ts (step 3).',
          );
        if (
          (tool.inputSchema.properties as Record<string, { type?: string }> | undefined)?.id?.type !== 'string' ||
          !tool.inputSchema.required?.includes('id')
        ) {
          return fail('get_document must take a required string "id".', 'Use inputSchema { id: z.string() }.');
        }
        if (!isSentence(tool.description))
          return fail(
            `get_document's description ${JSON.stringify(tool.description ?? '')} does not say what it does in a sentence.`,
            'Describe it, e.g. "Read one document of the knowledge base in full, by the id that search_documents returned."',
          );
        // Several documents, two from the same collection, in random order: identity, not just "some text".
        const search = (await client.callTool({
          name: 'search_documents',
          arguments: { query: 'workload attestation', top_k: 1 },
        })) as CallToolResult;
        if (!idsInResult(search)[0])
          return fail(
            'search_documents returned no document id to read.',
            'Finish step 1 first (see check search-recall).',
          );
        const ids = [...new Set([idsInResult(search)[0]!, ...heldOutIds(ctx.repoDir)])];
        for (const id of ids) {
          const truth = (
            await getJson(new URL(`/documents/${encodeURIComponent(id)}`, ctx.url('rag-index')), ctx.signal)
          ).body as { title: string; body: string };
          const result = (await client.callTool({ name: 'get_document', arguments: { id } })) as CallToolResult;
          const text = readable(textOf(result));
          if (result.isError)
            return fail(
              `get_document("${id}") returned an error: ${text.slice(0, 200)}.`,
              'Call index.getDocument(id) and return its title and body as text content.',
            );
          const named = idsNamed(result, truth.body).filter((x) => /^[a-z]+-\d{3}$/.test(x));
          if (named.length > 0 && named[0] !== id)
            return fail(
              `get_document("${id}") returned document ${named[0]}.`,
              'Return the document the index has for the id you were given; do not cache by anything else.',
            );
          if (!squash(text).includes(squash(truth.title)))
            return fail(
              `get_document("${id}") does not contain that document's title "${truth.title}": it returned another document or none.`,
              'Return the title and the whole body of index.getDocument(id).',
            );
          if (!squash(text).includes(squash(truth.body))) {
            return fail(
              `get_document("${id}") returned ${text.length} characters, but not the document's whole body (${truth.body.length} characters in the index).`,
              'Return the whole body, not a snippet or a truncated version.',
            );
          }
        }
        return pass(`get_document returned ${ids.length} documents whole, each the one asked for.`);
      });
    } catch (error) {
      return fail(`Calling the tools failed: ${describeError(error)}.`, 'Look at `lab logs mcp-server`.');
    }
  },
};

/** Two random documents of one collection and one of another, drawn per run. */
function heldOutIds(repoDir: string): string[] {
  const root = path.join(repoDir, 'fixtures', 'corpus');
  const byCollection = readdirSync(root).map((c) =>
    readdirSync(path.join(root, c))
      .filter((f) => f.endsWith('.md'))
      .map((f) => f.slice(0, -3)),
  );
  const shuffled = (items: string[]) =>
    items
      .map((v) => [randomInt(1_000_000), v] as const)
      .sort((a, b) => a[0] - b[0])
      .map(([, v]) => v);
  const [first, second] = shuffled(byCollection.map((_, i) => String(i))).map(Number);
  return [...shuffled(byCollection[first!]!).slice(0, 2), ...shuffled(byCollection[second ?? first!]!).slice(0, 1)];
}

export const toolErrors: CheckDefinition = {
  id: 'tool-errors',
  title: 'Tool failures come back as isError results that say what went wrong',
  async run(ctx) {
    const missing = 'no-such-document-404';
    try {
      return await withMcpClient(mcpEndpoint(ctx), await graderHeaders(ctx), ctx.signal, async (client) => {
        const result = (await client.callTool({ name: 'get_document', arguments: { id: missing } })) as CallToolResult;
        const text = textOf(result);
        if (!result.isError)
          return fail(
            `get_document("${missing}") did not report an error (it returned: ${text.slice(0, 120) || 'nothing'}).`,
            'When the index has no such document, throw an Error: the SDK returns it as an isError result.',
          );
        if (!text.includes(missing)) {
          return fail(
            `get_document("${missing}") returned isError, but its message does not name the id: "${text.slice(0, 160)}".`,
            `Throw an Error whose message names the id, e.g. No document with id "${missing}", so the agent can recover.`,
          );
        }
        const invalid = (await client.callTool({
          name: 'search_documents',
          arguments: { query: 'mtls', top_k: 500 },
        })) as CallToolResult;
        if (!invalid.isError)
          return fail(
            'search_documents accepted top_k = 500.',
            'Bound top_k in the input schema: z.number().int().min(1).max(20).',
          );
        return pass(`Unknown ids and invalid arguments come back as isError results: "${text.slice(0, 100)}".`);
      });
    } catch (error) {
      return fail(
        `A tool failure broke the MCP exchange instead of returning isError: ${describeError(error)}.`,
        'Throw inside the tool handler rather than crashing the request; see `lab logs mcp-server`.',
      );
    }
  },
};
