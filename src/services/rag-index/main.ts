/**
 * rag-index: the course's retrieval service. HTTP on 127.0.0.1 (or $HOST):
 *   GET /health, GET /stats, GET /search?q=&k=&collection=, GET /documents/:id
 * It loads the collections named by the module at $COLLECTIONS_MODULE (the learner's rag-index/collections.ts).
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { CollectionSource } from './collections.js';
import { loadCollections } from './corpus.js';
import { MAX_TOP_K, SearchIndex } from './search-index.js';

const env = (name: string, fallback?: string) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`rag-index: environment variable ${name} is required`);
  return value;
};

const corpusDir = env('CORPUS_DIR');
const modulePath = env('COLLECTIONS_MODULE', new URL('./collections.ts', import.meta.url).pathname);
const { collections } = (await import(pathToFileURL(modulePath).href)) as { collections: CollectionSource[] };
const index = new SearchIndex(loadCollections(corpusDir, collections ?? []));

const server = createServer((req, res) => {
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
});

const host = env('HOST', '127.0.0.1');
const port = Number(env('PORT'));
server.listen(port, host, () => {
  const { documents, collections: counts } = index.stats();
  console.log(`rag-index listening on http://${host}:${port} with ${documents} documents ${JSON.stringify(counts)}`);
});
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
