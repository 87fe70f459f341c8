// How the agent reaches your MCP server. The runner copies this file into your workspace as agent/connect.ts;
// the agent (src/services/agent) calls connect() and then discovers and uses the server's tools on its own.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport, type StreamableHTTPClientTransportOptions } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
// @lab-step 4
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
// @lab-end

export interface ConnectOptions {
  /** The MCP server's endpoint, e.g. http://127.0.0.1:41234/mcp (the runner passes the live one). */
  serverUrl: URL;
  /**
   * The agent's OAuth client, registered for this run at the lab's authorization server (`issuer`). A secret:
   * never log it, and never send it anywhere but that authorization server's token endpoint.
   */
  oauthClient: { clientId: string; clientSecret: string; issuer: string };
}

export async function connect({ serverUrl, oauthClient }: ConnectOptions): Promise<Client> {
  const client = new Client({ name: 'course-agent', version: '1.0.0' });
  // @lab-step 2
  // TODO (step 2): connect `client` to the MCP server at serverUrl over Streamable HTTP, so that the
  // TODO: initialize handshake has happened when connect() returns. Read: the SDK README's "Writing MCP
  // TODO: clients" (https://github.com/modelcontextprotocol/typescript-sdk#writing-mcp-clients).
  // TODO: Verify: npx lab agent ask "How does a SPIRE agent attest a workload?"
  const transport: StreamableHTTPClientTransportOptions = {};
  // @lab-step 4
  // TODO (step 4): when the server answers 401, get an access token for it as oauthClient and retry:
  // TODO: read resource_metadata from WWW-Authenticate, fetch that document (RFC 9728), fetch the metadata of the
  // TODO: authorization server it names (RFC 8414), and ask its token endpoint for a client-credentials token
  // TODO: with resource = the server's resource URL (RFC 8707). The SDK can do this for you: find out how.
  // TODO: Spec: https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
  const { clientId, clientSecret, issuer } = oauthClient;
  transport.authProvider = new ClientCredentialsProvider({ clientId, clientSecret, expectedIssuer: issuer });
  // @lab-end
  await client.connect(new StreamableHTTPClientTransport(serverUrl, transport));
  // @lab-end
  return client;
}
