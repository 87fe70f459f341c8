// The rag-index HTTP API, shared by the plain service (lab 1) and the mTLS one (lab 2):
//   GET /health, GET /stats, GET /search?q=&k=&collection=, GET /documents/:id
// Every client mistake is a 400/404/405 with a JSON body naming it; searches are bounded by SEARCH_LIMITS.
import type { RequestListener } from 'node:http';
import { SEARCH_LIMITS } from '../mcp-search-server/index-client.js';
import { decodeComponent, HttpError, jsonListener, sendJson } from '../http/json-http.js';
import { MAX_TOP_K, SearchRejected, type SearchIndex } from './search-index.js';
import { spanSync } from '../telemetry/tracer.js';

export function indexApi(index: SearchIndex): RequestListener {
  return jsonListener('rag-index', (req, res, url) => {
    const send = (status: number, body: unknown) => sendJson(res, status, body);
    if (req.method !== 'GET')
      throw new HttpError(405, 'method not allowed: the index answers GET only', { allow: 'GET' });
    if (url.pathname === '/health') return send(200, { status: 'ok', documents: index.stats().documents });
    if (url.pathname === '/stats') return send(200, { ...index.stats(), limits: SEARCH_LIMITS });
    if (url.pathname === '/search') {
      const q = url.searchParams.get('q')?.trim();
      const k = Number(url.searchParams.get('k') ?? 5);
      if (!q) throw new HttpError(400, 'query parameter q is required');
      if (!Number.isInteger(k) || k < 1 || k > MAX_TOP_K)
        throw new HttpError(400, `k must be an integer from 1 to ${MAX_TOP_K}`);
      const collection = url.searchParams.get('collection') ?? undefined;
      try {
        return send(200, {
          query: q,
          hits: traceQuery(q, k, collection, () => index.search(q, { topK: k, collection })),
        });
      } catch (error) {
        if (error instanceof SearchRejected) throw new HttpError(400, error.message);
        throw error;
      }
    }
    const doc = /^\/documents\/([^/]+)$/.exec(url.pathname);
    if (doc) {
      const id = decodeComponent(doc[1]!);
      if (id === undefined) throw new HttpError(400, 'the document id is not valid percent-encoding');
      const found = spanSync(
        'rag-index get',
        { 'rag.document.id': id },
        () => index.get(id),
        (d) => ({ 'rag.found': d !== undefined }),
      );
      return found ? send(200, found) : send(404, { error: `no document with id "${id}"` });
    }
    return send(404, { error: 'not found' });
  });
}

/** The query's own span (inside the request's): what was asked and how many documents came back. */
function traceQuery<T extends unknown[]>(query: string, k: number, collection: string | undefined, search: () => T): T {
  const attributes = { 'rag.query': query, 'rag.top_k': k, ...(collection ? { 'rag.collection': collection } : {}) };
  return spanSync('rag-index query', attributes, search, (hits) => ({ 'rag.hits': hits.length }));
}
