/**
 * rag-index: the course's retrieval service, plain HTTP on 127.0.0.1 (or $HOST); the API is in http-api.ts.
 * It loads the collections named by the module at $COLLECTIONS_MODULE (the learner's rag-index/collections.ts).
 */
import path from 'node:path';
import { importModule } from '../../core/code-files.js';
import { repoDir } from '../../core/paths.js';
import type { CollectionSource } from './collections.js';
import { loadCollections } from './corpus.js';
import { createJsonServer } from '../http/json-http.js';
import { indexApi } from './http-api.js';
import { SearchIndex } from './search-index.js';
import { serviceEnv } from '../env.js';

const env = serviceEnv('rag-index');

const corpusDir = env('CORPUS_DIR');
const modulePath = env('COLLECTIONS_MODULE', path.join(repoDir, 'src', 'services', 'rag-index', 'collections.ts'));
const { collections } = await importModule<{ collections: CollectionSource[] }>(modulePath);
const index = new SearchIndex(loadCollections(corpusDir, collections ?? []));

// The request log is the graders' evidence of what the MCP server really asked (learner code cannot write it):
// each request's path and query, and whether it carried credentials, which an MCP server must never forward
// (the credential itself is never logged).
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
const api = indexApi(index);
const server = createJsonServer((req, res) => {
  const carried = ['authorization', 'proxy-authorization', 'cookie'].filter((h) => req.headers[h] !== undefined);
  if (JWT_LIKE.test(`${req.url ?? ''} ${Object.values(req.headers).join(' ')}`)) carried.push('a JWT-shaped value');
  // Health probes (every second under compose) would bury the requests that matter.
  if (req.url !== '/health' || carried.length > 0) {
    res.on('finish', () => {
      console.log(
        `rag-index request at ${new Date().toISOString()}: ${req.method} ${JSON.stringify((req.url ?? '').slice(0, 300))} -> ${res.statusCode}${carried.length > 0 ? ` CREDENTIALS FORWARDED: ${carried.join(', ')}` : ''}`,
      );
    });
  }
  api(req, res);
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
