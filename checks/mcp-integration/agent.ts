import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import { agentFailure, agentRun } from './grader.js';

const CONNECT_FIX = 'Complete agent/connect.ts (step 2): connect the Client with a StreamableHTTPClientTransport to serverUrl. `lab logs agent` shows the last run.';

export const agentDiscovers: CheckDefinition = {
  id: 'agent-discovers-and-searches',
  title: 'The agent connects, discovers the tools and runs a successful search',
  timeoutMs: 45_000,
  async run(ctx) {
    const run = await agentRun(ctx);
    const connected = run.entries.find((e) => e.type === 'connected');
    const listed = run.entries.find((e) => e.type === 'tools_listed') as { tools?: Array<{ name: string }> } | undefined;
    const searched = run.entries.find((e) => e.type === 'tool_called' && e.isError === false && Array.isArray(e.resultIds) && e.resultIds.length > 0);
    if (!connected || !listed) return fail(`The agent did not get through discovery: ${agentFailure(run)}.`, CONNECT_FIX);
    if (!searched) {
      return fail(
        `The agent discovered ${listed.tools?.map((t) => t.name).join(', ') || 'no tools'} but made no successful search call: ${agentFailure(run)}.`,
        'The agent picks a tool whose schema takes a required text query; make sure search_documents (step 1) works, then run `lab check` again.',
      );
    }
    return pass(`The agent discovered ${listed.tools?.length} tools and called ${String(searched.tool)}, which returned ${(searched.resultIds as string[]).length} documents.`);
  },
};

export const agentReadsDocument: CheckDefinition = {
  id: 'agent-reads-document',
  title: 'The agent reads the top search hit in full with a tool it discovered',
  timeoutMs: 45_000,
  async run(ctx) {
    const run = await agentRun(ctx);
    const calls = run.entries.filter((e) => e.type === 'tool_called');
    // The agent searches first; anything after that is its follow-up on the top hit.
    const search = calls.find((e) => e.isError === false && Array.isArray(e.resultIds) && (e.resultIds as string[]).length > 0);
    const later = calls.slice(search ? calls.indexOf(search) + 1 : calls.length);
    const read = later.find((e) => e.isError === false);
    if (!search) return fail(`The agent made no successful search: ${agentFailure(run)}.`, 'Finish steps 1 and 2 first.');
    const topHit = (search.resultIds as string[])[0];
    if (!read) {
      const tried = later[0];
      return fail(
        tried ? `The agent tried ${String(tried.tool)} for ${topHit} but it failed: ${String(tried.preview)}.` : 'The agent found no tool that reads a document by id, so it answered from snippets only.',
        'Register get_document { id } in mcp-server/tools.ts (step 3) with a description that says it reads a document.',
      );
    }
    if ((read.resultIds as string[])[0] !== topHit) return fail(`The agent read ${String((read.resultIds as string[])[0])}, not the top hit ${topHit}.`, 'get_document must return the document it was asked for, with its id.');
    return pass(`The agent read ${topHit} with ${String(read.tool)}.`);
  },
};
