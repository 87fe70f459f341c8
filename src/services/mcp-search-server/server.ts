// The MCP search server: Streamable HTTP at /mcp, one stateless McpServer per request (no session state to
// lose across restarts), JSON responses. Configured by environment: PORT, HOST, PUBLIC_URL, RAG_INDEX_URL,
// AUTH_ISSUER.
import { createServer, type ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { protect } from './auth.js';
import { httpIndexClient } from './index-client.js';
import { registerTools } from './tools.js';

const env = (name: string, fallback?: string): string => {
  const value = process.env[name] ?? fallback;
  if (!value) throw new Error(`mcp-server: environment variable ${name} is required`);
  return value;
};

const host = env('HOST', '127.0.0.1');
const port = Number(env('PORT'));
const publicUrl = env('PUBLIC_URL', `http://127.0.0.1:${port}`);
const resourceUrl = new URL('/mcp', publicUrl);
const index = httpIndexClient(env('RAG_INDEX_URL'));

// On loopback the SDK rejects foreign Host headers (DNS rebinding); elsewhere (a container) allow our own name.
const app = createMcpExpressApp(host === '127.0.0.1' ? { host } : { host, allowedHosts: [new URL(publicUrl).hostname, 'localhost', '127.0.0.1'] });
app.get('/health', (_req, res) => {
  res.json({ status: 'ok' });
});

const guards: RequestHandler[] = [];
// @lab-step 4
// TODO (step 4): require a valid access token on /mcp: guard it with what protect() (mcp-server/auth.ts) returns,
// TODO: for this server's resourceUrl and the authorization server named by the AUTH_ISSUER environment variable.
guards.push(await protect(app, { resourceUrl, issuer: env('AUTH_ISSUER') }));
// @lab-end

app.all('/mcp', ...guards, async (req, res) => {
  if (req.method !== 'POST') {
    res.status(405).set('Allow', 'POST').json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: this server is stateless, use POST' }, id: null });
    return;
  }
  const server = new McpServer({ name: 'course-docs-search', version: '1.0.0' });
  registerTools(server, index);
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  res.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});

// Whatever Express leaves unanswered ends here, as JSON: an unknown path, a request target it cannot parse, a body
// its JSON parser (which runs before any guard) cannot read. Express's own final handler would answer with an
// HTML page, and outside production with a stack trace.
function lastResort(error: { status?: number; type?: string; expose?: boolean; message?: string } | undefined, res: ServerResponse): void {
  const status = error ? Number(error.status) : 404;
  const clientError = status >= 400 && status < 500;
  if (!clientError) console.error(`mcp-server: internal error: ${error?.message}`);
  if (res.headersSent) return void res.destroy();
  const [code, message] =
    !error ? [-32600, 'Not found: the MCP endpoint is POST /mcp']
    : error.type === 'entity.parse.failed' ? [-32700, 'Parse error: the request body is not valid JSON']
    : clientError ? [-32600, `Invalid request: ${error.expose ? error.message : 'the request cannot be read'}`]
    : [-32603, 'Internal error'];
  res.writeHead(clientError ? status : 500, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

// A slow or truncated request holds its connection for seconds, not Node's default 300 s.
const listener = createServer({ headersTimeout: 10_000, requestTimeout: 15_000, connectionsCheckingInterval: 1_000 }, (req, res) => app(req as Request, res as Response, (error?: unknown) => lastResort(error as Parameters<typeof lastResort>[0], res)));
listener.listen(port, host, () => {
  console.log(`mcp-server listening on ${resourceUrl.href} (bound to ${host}:${port}; auth ${guards.length > 0 ? 'required' : 'off'})`);
});
const shutdown = () => listener.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
