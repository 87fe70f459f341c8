import type { Client } from '@modelcontextprotocol/sdk/client/index.js';

/**
 * Connects a real MCP SDK client (initialize handshake included), runs `use`, always closes.
 * The SDK loads on the first check that connects: commands that only read the lab definition (`lab status`,
 * `lab step`) import this module through lab.ts and would otherwise pay for it.
 */
export async function withMcpClient<T>(
  endpoint: URL,
  headers: Record<string, string>,
  signal: AbortSignal,
  use: (client: Client) => Promise<T>,
): Promise<T> {
  const [{ Client }, { StreamableHTTPClientTransport }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
  ]);
  const client = new Client({ name: 'lab-grader', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(endpoint, { requestInit: { headers, signal } }));
  try {
    return await use(client);
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** How tool results name documents: the agent's own reading of results, so grader and agent agree. */
export { resultIds as idsInResult, resultText as textOf } from '../../src/services/agent/agent.js';

/** A compact reason from a failed connection, for check messages. */
export function describeError(error: unknown): string {
  const e = error as { code?: unknown; message?: string; cause?: { code?: string } };
  if (e.cause?.code === 'ECONNREFUSED') return 'connection refused (the server is not listening)';
  if (String(e.message).includes('-32601'))
    return 'the server does not offer that method: with no tool registered, McpServer has no tools/list or tools/call';
  return (e.message ?? String(error)).split('\n')[0]!.slice(0, 240);
}
