import { fail, pass, type CheckContext, type CheckDefinition } from '../../src/core/lab-definition.js';
import { postRpc } from '../lib/http-probe.js';
import { agentOAuthProblem } from './agent-oauth.js';
import { agentFailure, agentRun, indexRequests, mcpResource, type AgentRun, type TranscriptEntry } from './grader.js';

const TOKEN_SENT_FIX =
  'Send the token on every request to the MCP server as `Authorization: Bearer <token>` (the SDK transport does when given an authProvider); `npx lab logs agent` shows the last run.';

const CONNECT_FIX =
  'Complete agent/connect.ts (step 2): connect the Client with a StreamableHTTPClientTransport to serverUrl. `lab logs agent` shows the last run.';

const searchCall = (run: AgentRun) =>
  run.entries.find(
    (e) =>
      e.type === 'tool_called' &&
      e.isError === false &&
      Array.isArray(e.resultIds) &&
      (e.resultIds as string[]).length > 0,
  );
/** The query the agent chose for its search (the transcript entry before the call). */
const searchQuery = (run: AgentRun, call: TranscriptEntry | undefined): string | undefined => {
  const selected = run.entries
    .slice(0, call ? run.entries.indexOf(call) : 0)
    .filter((e) => e.type === 'tool_selected')
    .at(-1);
  const q = (selected?.arguments as { query?: unknown } | undefined)?.query;
  return typeof q === 'string' ? q.trim() : undefined;
};

/**
 * The transcript is written inside the agent process, next to learner code: it is a claim, not evidence. The
 * evidence is what runner-owned services saw: the rag-index received the agent's search (and read).
 */
async function indexSaw(ctx: CheckContext, run: AgentRun, want: (url: URL) => boolean): Promise<boolean> {
  return (await indexRequests(ctx, run.since)).some((r) => want(r.url));
}

export const agentDiscovers: CheckDefinition = {
  id: 'agent-discovers-and-searches',
  title: 'The agent connects, discovers the tools and runs a successful search (seen by the index)',
  timeoutMs: 45_000,
  async run(ctx) {
    const run = await agentRun(ctx);
    const connected = run.entries.find((e) => e.type === 'connected');
    const listed = run.entries.find((e) => e.type === 'tools_listed') as
      | { tools?: Array<{ name: string }> }
      | undefined;
    const searched = searchCall(run);
    if (run.exitCode !== 0 || !connected || !listed)
      return fail(`The agent did not get through discovery: ${agentFailure(run)}.`, CONNECT_FIX);
    if (!searched) {
      return fail(
        `The agent discovered ${listed.tools?.map((t) => t.name).join(', ') || 'no tools'} but made no successful search call: ${agentFailure(run)}.`,
        'The agent picks a tool whose schema takes a required text query; make sure search_documents (step 1) works, then run `lab check` again.',
      );
    }
    const query = searchQuery(run, searched);
    if (
      !query ||
      !(await indexSaw(ctx, run, (u) => u.pathname === '/search' && u.searchParams.get('q')?.trim() === query))
    ) {
      return fail(
        `The agent's transcript reports a search${query ? ` for "${query}"` : ''}, but the rag-index never received it: the results did not come from your MCP server.`,
        'connect() must return the SDK Client connected to serverUrl; do not answer tool calls inside the agent.',
      );
    }
    return pass(
      `The agent discovered ${listed.tools?.length} tools and called ${String(searched.tool)}, which returned ${(searched.resultIds as string[]).length} documents (the index served the query).`,
    );
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
    const search = searchCall(run);
    const later = calls.slice(search ? calls.indexOf(search) + 1 : calls.length);
    const read = later.find((e) => e.isError === false);
    if (!search)
      return fail(
        `The agent made no successful search: ${agentFailure(run)}.`,
        'Finish steps 1 and 2 first (see check agent-discovers-and-searches).',
      );
    const topHit = (search.resultIds as string[])[0]!;
    if (!read) {
      const tried = later[0];
      return fail(
        tried
          ? `The agent tried ${String(tried.tool)} for ${topHit} but it failed: ${String(tried.preview)}.`
          : 'The agent found no tool that reads a document by id, so it answered from snippets only.',
        'Register get_document { id } in mcp-server/tools.ts (step 3) with a description that says it reads a document.',
      );
    }
    const ids = (read.resultIds as string[] | undefined) ?? [];
    if (ids.length > 0 && ids[0] !== topHit)
      return fail(
        `The agent read ${ids[0]}, not the top hit ${topHit}.`,
        'get_document must return the document it was asked for.',
      );
    if (!(await indexSaw(ctx, run, (u) => decodeURIComponent(u.pathname) === `/documents/${topHit}`))) {
      return fail(
        `The transcript reports reading ${topHit}, but the rag-index never served that document: the read did not come from your MCP server.`,
        'get_document must fetch the document from the index (index.getDocument(id)).',
      );
    }
    return pass(`The agent read ${topHit} with ${String(read.tool)} (the index served it).`);
  },
};

export const agentAuthenticated: CheckDefinition = {
  id: 'agent-authenticated',
  title: 'The agent discovers the authorization server, gets its own token for the MCP endpoint and uses it',
  timeoutMs: 45_000,
  async run(ctx) {
    const anonymous = await postRpc(new URL('/mcp', ctx.url('mcp-server')), 'initialize', ctx.signal);
    if (anonymous.status !== 401)
      return fail(
        `Authentication is not enforced (an anonymous call got HTTP ${anonymous.status}): see check auth-no-token first.`,
        'Complete step 4: protect() in mcp-server/auth.ts and the guard in mcp-server/server.ts.',
      );
    const run = await agentRun(ctx);
    const used = run.entries.some((e) => e.type === 'tool_called' && e.isError === false);
    const problem = agentOAuthProblem(ctx, run.since);
    if (problem)
      return fail(
        `${problem.what}${run.exitCode !== 0 || !used ? ` So the agent could not use the protected server (${agentFailure(run)}).` : ''}`,
        problem.fix,
      );
    if (run.exitCode !== 0 || !used)
      return fail(
        `The agent got its token for ${mcpResource(ctx).href} but could not use the protected server: ${agentFailure(run)}.`,
        TOKEN_SENT_FIX,
      );
    const query = searchQuery(run, searchCall(run));
    if (
      !query ||
      !(await indexSaw(ctx, run, (u) => u.pathname === '/search' && u.searchParams.get('q')?.trim() === query))
    ) {
      return fail(
        'The agent reports success, but its search never reached the rag-index through your MCP server.',
        'connect() must return the SDK Client connected to serverUrl, authenticating with its token.',
      );
    }
    return pass(
      'The agent obtained its own token from the authorization server and the protected server answered its calls.',
    );
  },
};
