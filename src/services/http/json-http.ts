/**
 * The request-parsing and error layer of the course's plain node:http services (auth-server, rag-index). A client
 * can send anything; whatever it sends is answered with a JSON status (400, 404, 405, 413, ...), never a crash,
 * a 5xx or a stack trace. Only a fault of our own is a 500, and its body says nothing about the code.
 */
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';

/**
 * Time limits that keep a slow or truncated request from holding a connection for Node's defaults (300 s for a
 * request, 60 s for headers): plenty for any real client on loopback or a compose network.
 */
export const REQUEST_TIMEOUTS = { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, checkIntervalMs: 1_000 } as const;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res
    .writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
    .end(JSON.stringify(body));
}

/**
 * The request target as a URL, or undefined when it cannot be one. Origin-form (`/path?query`) is always a path on
 * this server: `//x:y` is the path "//x:y", not a protocol-relative URL with the port "y" (which `new URL(target,
 * base)` rejects with "Invalid URL"). Absolute-form (`http://host/path`, RFC 9112 3.2.2) is parsed as what it is.
 */
export function requestTarget(req: IncomingMessage): URL | undefined {
  const target = req.url ?? '/';
  try {
    return new URL(target.startsWith('/') ? `http://localhost${target}` : target);
  } catch {
    return undefined;
  }
}

/** A percent-decoded path segment or form component, or undefined when its percent-encoding is malformed. */
export function decodeComponent(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * A request listener that answers every request: the handler may throw (or reject with) an HttpError for a bad
 * request; anything else is our fault, logged by its message only and answered with a bare 500.
 */
export function jsonListener(
  service: string,
  handler: (req: IncomingMessage, res: ServerResponse, url: URL) => void | Promise<void>,
): RequestListener {
  const fail = (res: ServerResponse, error: unknown) => {
    if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message }, error.headers);
    console.error(`${service}: internal error: ${error instanceof Error ? error.message : String(error)}`);
    sendJson(res, 500, { error: 'internal error' });
  };
  return (req, res) => {
    const url = requestTarget(req);
    if (!url) return sendJson(res, 400, { error: 'the request target is not a valid URL or path' });
    try {
      const pending = handler(req, res, url);
      if (pending) pending.catch((error: unknown) => fail(res, error));
    } catch (error) {
      fail(res, error);
    }
  };
}

/** createServer with REQUEST_TIMEOUTS; malformed HTTP itself (bad request line, oversized headers) Node answers 400/431. */
export function createJsonServer(listener: RequestListener): Server {
  return createServer(
    {
      headersTimeout: REQUEST_TIMEOUTS.headersTimeoutMs,
      requestTimeout: REQUEST_TIMEOUTS.requestTimeoutMs,
      connectionsCheckingInterval: REQUEST_TIMEOUTS.checkIntervalMs,
    },
    listener,
  );
}

/** Reads a request body of at most `limit` bytes: 413 beyond it, 400 when the client aborts or the stream fails. */
export async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new HttpError(413, `the request body is larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new HttpError(413, `the request body is larger than ${limit} bytes`);
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof HttpError) throw error;
    throw new HttpError(400, 'the request body could not be read');
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** REQUEST_TIMEOUTS for a server made elsewhere (the mTLS servers of lab 2); Node checks them every 30 s there. */
export function applyRequestTimeouts(server: Server): void {
  server.headersTimeout = REQUEST_TIMEOUTS.headersTimeoutMs;
  server.requestTimeout = REQUEST_TIMEOUTS.requestTimeoutMs;
}

type ExpressError = { status?: number; type?: string; expose?: boolean; message?: string } | undefined;

/**
 * The final handler of an Express app serving JSON-RPC (lab 2's MCP server; lab 1's has the same in the learner's
 * server.ts, whose workspace cannot import this file): whatever Express leaves unanswered, an unknown path, a
 * target it cannot parse or a body its JSON parser cannot read, is answered as JSON. Express's own final handler
 * would answer with an HTML page, and outside production with a stack trace.
 */
// jscpd:ignore-start (lab 1's learner file mcp-server/server.ts writes the same last resort out: it can import
// nothing of ours)
export function jsonRpcLastResort(service: string): (error: unknown, res: ServerResponse) => void {
  return (raw, res) => {
    const error = raw as ExpressError;
    const status = error ? Number(error.status) : 404;
    const clientError = status >= 400 && status < 500;
    if (!clientError) console.error(`${service}: internal error: ${error?.message}`);
    if (res.headersSent) return void res.destroy();
    const [code, message] = !error
      ? [-32600, 'Not found: the MCP endpoint is POST /mcp']
      : error.type === 'entity.parse.failed'
        ? [-32700, 'Parse error: the request body is not valid JSON']
        : clientError
          ? [-32600, `Invalid request: ${error.expose ? error.message : 'the request cannot be read'}`]
          : [-32603, 'Internal error'];
    sendJson(res, clientError ? status : 500, { jsonrpc: '2.0', error: { code, message }, id: null });
  };
}
// jscpd:ignore-end
