import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import { describeError, idsInResult, textOf, withMcpClient } from '../lib/mcp-client.js';
import { graderHeaders, mcpEndpoint } from './grader.js';

export const getDocument: CheckDefinition = {
  id: 'get-document',
  title: 'get_document returns a whole document found by search',
  async run(ctx) {
    try {
      return await withMcpClient(mcpEndpoint(ctx), await graderHeaders(ctx), ctx.signal, async (client) => {
        const { tools } = await client.listTools();
        const tool = tools.find((t) => t.name === 'get_document');
        if (!tool) return fail('tools/list has no "get_document".', 'Register get_document { id: string } in mcp-server/tools.ts (step 3).');
        if ((tool.inputSchema.properties as Record<string, { type?: string }> | undefined)?.id?.type !== 'string' || !tool.inputSchema.required?.includes('id')) {
          return fail('get_document must take a required string "id".', 'Use inputSchema { id: z.string() }.');
        }
        const search = (await client.callTool({ name: 'search_documents', arguments: { query: 'workload attestation', top_k: 1 } })) as CallToolResult;
        const id = idsInResult(search)[0];
        if (!id) return fail('search_documents returned no document id to read.', 'Finish step 1 first.');
        const result = (await client.callTool({ name: 'get_document', arguments: { id } })) as CallToolResult;
        const text = textOf(result);
        if (result.isError) return fail(`get_document("${id}") returned an error: ${text.slice(0, 200)}.`, 'Call index.getDocument(id) and return its title and body as text content.');
        if (text.length < 400) return fail(`get_document("${id}") returned only ${text.length} characters: that is not the whole document.`, 'Return the document body, not just the title or snippet.');
        return pass(`get_document("${id}") returned ${text.length} characters.`);
      });
    } catch (error) {
      return fail(`Calling the tools failed: ${describeError(error)}.`, 'Look at `lab logs mcp-server`.');
    }
  },
};

export const toolErrors: CheckDefinition = {
  id: 'tool-errors',
  title: 'Tool failures come back as isError results that say what went wrong',
  async run(ctx) {
    const missing = 'no-such-document-404';
    try {
      return await withMcpClient(mcpEndpoint(ctx), await graderHeaders(ctx), ctx.signal, async (client) => {
        const result = (await client.callTool({ name: 'get_document', arguments: { id: missing } })) as CallToolResult;
        const text = textOf(result);
        if (!result.isError) return fail(`get_document("${missing}") did not report an error (it returned: ${text.slice(0, 120) || 'nothing'}).`, 'When the index has no such document, throw an Error: the SDK returns it as an isError result.');
        if (!text.includes(missing)) {
          return fail(`get_document("${missing}") returned isError, but its message does not name the id: "${text.slice(0, 160)}".`, `Throw an Error whose message names the id, e.g. No document with id "${missing}", so the agent can recover.`);
        }
        const invalid = (await client.callTool({ name: 'search_documents', arguments: { query: 'mtls', top_k: 500 } })) as CallToolResult;
        if (!invalid.isError) return fail('search_documents accepted top_k = 500.', 'Bound top_k in the input schema: z.number().int().min(1).max(20).');
        return pass(`Unknown ids and invalid arguments come back as isError results: "${text.slice(0, 100)}".`);
      });
    } catch (error) {
      return fail(`A tool failure broke the MCP exchange instead of returning isError: ${describeError(error)}.`, 'Throw inside the tool handler rather than crashing the request; see `lab logs mcp-server`.');
    }
  },
};
