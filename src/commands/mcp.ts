/**
 * `lab mcp tools` and `lab mcp call <tool> '<json>'`: discovery and execution by hand, with the real MCP SDK client
 * over Streamable HTTP, so the learner sees exactly what the agent sees (names, descriptions, input schemas, call
 * results) and, without a valid token, the 401 or 403 and its WWW-Authenticate challenge.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import type { CommandContext } from '../core/context.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { printable, printableLines, printableName } from '../core/printable.js';
import { openLab1, requestToken, type Lab1 } from './lab1-access.js';
import { defineCommand } from './define.js';

/** --token <jwt>: that token; --no-token: none; neither: one from the lab's authorization server. */
export interface TokenChoice {
  token?: string | boolean;
}

interface Refusal {
  status: number;
  wwwAuthenticate: string | null;
}

async function mcpToolsCommand(ctx: CommandContext, options: TokenChoice & { json?: boolean }): Promise<number> {
  const lab = await openLab1(ctx, 'mcp tools');
  return withClient(ctx, lab, options, async (client) => {
    const { tools } = await client.listTools();
    if (options.json) {
      ctx.io.out(JSON.stringify(tools, null, 2));
      return 0;
    }
    ctx.io.out(
      `${tools.length} tool${tools.length === 1 ? '' : 's'} at ${lab.endpoint.href} (tools/list, what the agent sees):`,
    );
    for (const tool of tools) printTool(ctx, tool);
    return 0;
  });
}

async function mcpCallCommand(
  ctx: CommandContext,
  name: string,
  json: string | undefined,
  options: TokenChoice,
): Promise<number> {
  const args = parseArguments(json ?? '{}');
  const lab = await openLab1(ctx, 'mcp call');
  return withClient(ctx, lab, options, async (client) => {
    const { tools } = await client.listTools();
    if (!tools.some((t) => t.name === name)) {
      throw new UsageError(
        `The server has no tool "${printableName(name)}".`,
        tools.length > 0
          ? `Call one of: ${tools.map((t) => printable(t.name)).join(', ')} (\`npx lab mcp tools\` shows their input schemas).`
          : 'Your server lists no tools yet: register them in mcp-server/tools.ts (step 1).',
      );
    }
    ctx.io.out(`tools/call ${printable(name)} ${JSON.stringify(args)}`);
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
    for (const item of result.content)
      ctx.io.out(item.type === 'text' ? printableLines(item.text) : `[${item.type} content]`);
    if (result.structuredContent !== undefined)
      ctx.io.out(`structuredContent:\n${printableLines(JSON.stringify(result.structuredContent, null, 2))}`);
    if (result.isError) {
      ctx.io.out(
        ctx.io.color.yellow(
          'isError: true - the tool reported a failure (an MCP result, not a protocol error: the agent reads this text).',
        ),
      );
      return 1;
    }
    return 0;
  });
}

/** The tool arguments: one JSON object, checked before anything is sent. */
export function parseArguments(json: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    throw new UsageError(
      `The tool arguments are not valid JSON: ${(error as Error).message}.`,
      `Quote the JSON for the shell, e.g. npx lab mcp call search_documents '{"query": "SPIFFE"}'.`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new UsageError(
      'The tool arguments must be one JSON object (named parameters), e.g. {"query": "SPIFFE"}.',
      "`npx lab mcp tools` shows each tool's input schema: its properties are the names to use.",
    );
  }
  return value as Record<string, unknown>;
}

function printTool(ctx: CommandContext, tool: Tool): void {
  const c = ctx.io.color;
  ctx.io.out('');
  ctx.io.out(`${c.bold(printable(tool.name))}${tool.title ? `  (${printable(tool.title)})` : ''}`);
  if (tool.description) ctx.io.out(`  ${printableLines(tool.description).replace(/\n/g, '\n  ')}`);
  ctx.io.out(`  input schema: ${printableLines(JSON.stringify(tool.inputSchema, null, 2)).replace(/\n/g, '\n  ')}`);
  if (tool.annotations) ctx.io.out(`  annotations: ${printable(JSON.stringify(tool.annotations))}`);
}

/** Connects as the agent would (or without a token), runs `use`, and turns a 401/403 into what the agent would see. */
async function withClient(
  ctx: CommandContext,
  lab: Lab1,
  options: TokenChoice,
  use: (client: Client) => Promise<number>,
): Promise<number> {
  const headers: Record<string, string> = {};
  if (typeof options.token === 'string') {
    headers.Authorization = `Bearer ${options.token}`;
    ctx.io.err(ctx.io.color.dim('Token: the one given with --token.'));
  } else if (options.token === false) {
    ctx.io.err(
      ctx.io.color.dim("Token: none (--no-token): the request goes out as an unauthenticated client's would."),
    );
  } else {
    const issued = await requestToken(lab);
    headers.Authorization = `Bearer ${issued.token}`;
    ctx.io.err(
      ctx.io.color.dim(
        `Token: from the lab's authorization server, as the agent gets one (client credentials as ${issued.clientId}, scope "${issued.scope}", resource ${lab.resource.href}); --no-token or --token <jwt> to try others; \`npx lab token\` shows its claims.`,
      ),
    );
  }
  let refusal: Refusal | undefined;
  // The SDK's error says only "HTTP 401"; the challenge header is what tells a client where to get a token.
  const watch = async (url: string | URL, init?: RequestInit) => {
    const response = await fetch(url, init);
    if (response.status === 401 || response.status === 403)
      refusal = { status: response.status, wwwAuthenticate: response.headers.get('www-authenticate') };
    return response;
  };
  // The SDK loads when a command talks to the server, not when `lab --help` lists this command.
  const [{ Client }, { StreamableHTTPClientTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);
  const client = new Client({ name: 'lab-cli', version: '1.0.0' });
  try {
    await client.connect(new StreamableHTTPClientTransport(lab.endpoint, { requestInit: { headers }, fetch: watch }));
    return await use(client);
  } catch (error) {
    if (refusal) return showRefusal(ctx, refusal);
    if (error instanceof UsageError || error instanceof EnvironmentError) throw error;
    if ((error as { code?: unknown }).code === -32601) {
      throw new EnvironmentError(
        `Your MCP server at ${lab.endpoint.href} answered "Method not found": it declares no tools yet.`,
        'Register the tools in mcp-server/tools.ts (step 1; `npx lab step 1`), then run this again: the server restarts from your files.',
      );
    }
    throw new EnvironmentError(
      `The MCP exchange with ${lab.endpoint.href} failed: ${(error as Error).message}.`,
      '`npx lab logs mcp-server` shows what the server saw; `npx lab check` says which step is not done yet.',
    );
  } finally {
    await client.close().catch(() => undefined);
  }
}

function showRefusal(ctx: CommandContext, refusal: Refusal): number {
  const c = ctx.io.color;
  ctx.io.out(c.yellow(`HTTP ${refusal.status} ${refusal.status === 401 ? 'Unauthorized' : 'Forbidden'}`));
  ctx.io.out(
    `WWW-Authenticate: ${refusal.wwwAuthenticate === null ? '(none: a client cannot tell where to get a token)' : printable(refusal.wwwAuthenticate)}`,
  );
  const metadata = /resource_metadata="([^"]+)"/.exec(refusal.wwwAuthenticate ?? '')?.[1];
  if (metadata)
    ctx.io.out(
      `An MCP client reads the protected-resource metadata (RFC 9728) at ${printable(metadata)} to find the authorization server.`,
    );
  const missing = /Missing Authorization/i.test(refusal.wwwAuthenticate ?? '');
  ctx.io.out(
    refusal.status === 403
      ? 'The token is valid but lacks a scope the server requires (error="insufficient_scope").'
      : missing
        ? 'The server wants a bearer token: this is what the agent meets before it authenticates.'
        : 'The server refused this token (error_description says why): an agent would ask the authorization server for a new one.',
  );
  return 1;
}

export const command = defineCommand({
  name: 'mcp',
  description: "lab 1: list and call your MCP server's tools by hand, as the agent does",
  subcommands: [
    {
      name: 'tools',
      description: 'list the tools (names, descriptions, input schemas) the agent would see',
      configure: (c) =>
        c
          .option(
            '--token <jwt>',
            "send this access token (default: get one from the lab's authorization server, as the agent does)",
          )
          .option('--no-token', 'send no token: see the 401 and its WWW-Authenticate challenge')
          .option('--json', 'print the tools/list result as JSON'),
      examples: [
        ['lab mcp tools', 'with a token got as the agent gets one'],
        ['lab mcp tools --no-token', 'the 401 and its WWW-Authenticate challenge'],
      ],
      run: (ctx, options: TokenChoice & { json?: boolean }) => mcpToolsCommand(ctx, options),
    },
    {
      name: 'call',
      description: 'call a tool with JSON arguments and print its result',
      configure: (c) =>
        c
          .argument('<tool>', 'tool name, see `lab mcp tools`')
          .argument('[json]', 'the arguments, one JSON object', '{}')
          .option(
            '--token <jwt>',
            "send this access token (default: get one from the lab's authorization server, as the agent does)",
          )
          .option('--no-token', 'send no token: see the 401 and its WWW-Authenticate challenge'),
      examples: [['lab mcp call search_documents \'{"query": "SPIFFE ID", "top_k": 3}\'', 'one tools/call']],
      run: (ctx, tool: string, json: string, options: TokenChoice) => mcpCallCommand(ctx, tool, json, options),
    },
  ],
});
