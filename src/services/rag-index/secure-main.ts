/**
 * rag-index for lab 2: the same API as lab 1 (http-api.ts), served only over mTLS with the workload's SVID and
 * only to the callers named in ALLOWED_CALLERS (the MCP server): the caller's identity is its verified client
 * certificate's SPIFFE ID, never anything it sends.
 */
import type { TLSSocket } from 'node:tls';
import { peerSpiffeId } from '../identity/spiffe-tls.js';
import { awaitIdentity, loadTlsConfig, serveHealth, workloadSource } from '../identity/workload.js';
import { listenMtls } from '../identity/mtls-server.js';
import { applyRequestTimeouts } from '../http/json-http.js';
import { loadCollections } from './corpus.js';
import { indexApi } from './http-api.js';
import { SearchIndex } from './search-index.js';
import { collections } from './collections.js';
import { requiredEnv } from '../env.js';

const SERVICE = 'rag-index';
const allowed = new Set(requiredEnv(SERVICE, 'ALLOWED_CALLERS').split(','));
const index = new SearchIndex(loadCollections(requiredEnv(SERVICE, 'CORPUS_DIR'), collections));
const api = indexApi(index);
const tls = await loadTlsConfig(SERVICE);
const source = workloadSource(SERVICE);
serveHealth(source, Number(requiredEnv(SERVICE, 'PORT')));

await awaitIdentity(SERVICE, source);
const server = await listenMtls(
  (req, res) => {
    const caller = peerSpiffeId(req.socket as TLSSocket);
    if (!caller || !allowed.has(caller)) {
      const error = `caller ${caller ?? 'without a verified client certificate'} may not use the index`;
      res.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
      return;
    }
    api(req, res);
  },
  source,
  {
    host: requiredEnv(SERVICE, 'HOST', '0.0.0.0'),
    port: Number(requiredEnv(SERVICE, 'TLS_PORT', '8443')),
    tlsOptions: (svid) => tls.serverTlsOptions(svid),
  },
);
applyRequestTimeouts(server);
console.log(
  `${SERVICE}: mTLS on ${JSON.stringify(server.address())}, ${index.stats().documents} documents, callers: ${[...allowed].join(', ')}`,
);
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
