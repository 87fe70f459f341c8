// The rag-index HTTP API, shared by the plain service (lab 1) and the mTLS one (lab 2):
//   GET /health, GET /stats, GET /search?q=&k=&collection=, GET /documents/:id
import type { IncomingMessage, ServerResponse } from 'node:http';
import { MAX_TOP_K, type SearchIndex } from './search-index.js';

export function indexApi(index: SearchIndex): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method !== 'GET') return send(405, { error: 'method not allowed' });
    if (url.pathname === '/health') return send(200, { status: 'ok', documents: index.stats().documents });
    if (url.pathname === '/stats') return send(200, index.stats());
    if (url.pathname === '/search') {
      const q = url.searchParams.get('q')?.trim();
      const k = Number(url.searchParams.get('k') ?? 5);
      if (!q) return send(400, { error: 'query parameter q is required' });
      if (!Number.isInteger(k) || k < 1 || k > MAX_TOP_K) return send(400, { error: `k must be an integer from 1 to ${MAX_TOP_K}` });
      const collection = url.searchParams.get('collection') ?? undefined;
      return send(200, { query: q, hits: index.search(q, { topK: k, collection }) });
    }
    const doc = /^\/documents\/([^/]+)$/.exec(url.pathname);
    if (doc) {
      const found = index.get(decodeURIComponent(doc[1]!));
      return found ? send(200, found) : send(404, { error: `no document with id "${decodeURIComponent(doc[1]!)}"` });
    }
    return send(404, { error: 'not found' });
  };
}
