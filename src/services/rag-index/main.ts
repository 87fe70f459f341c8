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

const env = (name: string, fallback?: string) => {
  const value = process.env[name] ?? fallback;
  if (value === undefined) throw new Error(`rag-index: environment variable ${name} is required`);
  return value;
};

const corpusDir = env('CORPUS_DIR');
const modulePath = env('COLLECTIONS_MODULE', path.join(repoDir, 'src', 'services', 'rag-index', 'collections.ts'));
const { collections } = await importModule<{ collections: CollectionSource[] }>(modulePath);
const index = new SearchIndex(loadCollections(corpusDir, collections ?? []));

const server = createJsonServer(indexApi(index));

const host = env('HOST', '127.0.0.1');
const port = Number(env('PORT'));
server.listen(port, host, () => {
  const { documents, collections: counts } = index.stats();
  console.log(`rag-index listening on http://${host}:${port} with ${documents} documents ${JSON.stringify(counts)}`);
});
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
