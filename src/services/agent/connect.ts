// How the agent reaches your MCP server. The runner copies this file into your workspace as agent/connect.ts;
// the agent (src/services/agent) calls connect() and then discovers and uses the server's tools on its own.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface ConnectOptions {
  /** The MCP server's endpoint, e.g. http://127.0.0.1:41234/mcp (the runner passes the live one). */
  serverUrl: URL;
  /** Gets this agent's access token from the authorization server (OAuth client credentials). */
  getAccessToken: () => Promise<string>;
}

export async function connect({ serverUrl, getAccessToken }: ConnectOptions): Promise<Client> {
  const client = new Client({ name: 'course-agent', version: '1.0.0' });
  // @lab-step 2
  // TODO: Connect the client to the server over Streamable HTTP:
  // TODO:   await client.connect(new StreamableHTTPClientTransport(serverUrl, { requestInit: { headers } }));
  // TODO: client.connect() performs the MCP initialize handshake.
  const headers: Record<string, string> = {};
  // @lab-step 4
  // TODO: Send the agent's access token with every request: headers.Authorization = `Bearer ${await getAccessToken()}`;
  headers.Authorization = `Bearer ${await getAccessToken()}`;
  // @lab-end
  await client.connect(new StreamableHTTPClientTransport(serverUrl, { requestInit: { headers } }));
  // @lab-end
  return client;
}
