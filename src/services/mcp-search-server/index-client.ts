// How the MCP server reaches the RAG index: HTTP calls to the rag-index service, over kept-alive connections
// (node:http with a keep-alive agent costs a fraction of fetch() per call on loopback). Lab 2 passes an
// https.Agent carrying the SVID for mTLS, as a function so that a rotated SVID brings a new agent.
import { Agent, get } from 'node:http';
import { get as getHttps } from 'node:https';

/**
 * What one search may ask of the index: the index refuses more (HTTP 400 naming the bound) and stops a search
 * that runs past the deadline; the search tool's input schema advertises the same bounds. They live here because
 * this file is the one both the index and your workspace's MCP server can import.
 */
export const SEARCH_LIMITS = {
  /** Characters in a query. */
  maxQueryLength: 500,
  /** Words in a query (as the index splits them: on spaces and punctuation). */
  maxQueryTerms: 32,
  /** Results per search (top_k, the index's k). */
  maxTopK: 20,
  /** How long one search may run before the index stops it. */
  deadlineMs: 1_000,
} as const;

export interface SearchHit {
  id: string;
  title: string;
  collection: string;
  score: number;
  snippet: string;
}

export interface IndexDocument {
  id: string;
  title: string;
  collection: string;
  tags: string[];
  body: string;
}

export interface IndexClient {
  search(query: string, options: { topK?: number; collection?: string }): Promise<SearchHit[]>;
  /** undefined when the index has no such document. */
  getDocument(id: string): Promise<IndexDocument | undefined>;
}

export function httpIndexClient(baseUrl: string, options: { agent?: () => Agent } = {}): IndexClient {
  const plain = new Agent({ keepAlive: true, maxSockets: 32 });
  const agent = options.agent ?? (() => plain);
  const send = new URL(baseUrl).protocol === 'https:' ? getHttps : get;
  const call = (path: string) =>
    new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
      const request = send(new URL(path, baseUrl), { agent: agent(), timeout: 5_000 }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => {
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
          } catch {
            reject(new Error(`the index sent a response that is not JSON (HTTP ${response.statusCode})`));
          }
        });
      });
      request.on('timeout', () => request.destroy(new Error('the index did not answer within 5 s')));
      request.on('error', reject);
    });
  return {
    async search(query, { topK = 5, collection }) {
      const params = new URLSearchParams({ q: query, k: String(topK) });
      if (collection) params.set('collection', collection);
      const { status, body } = await call(`/search?${params}`);
      if (status !== 200) throw new Error(`the index rejected the search: ${String(body.error ?? status)}`);
      return body.hits as SearchHit[];
    },
    async getDocument(id) {
      const { status, body } = await call(`/documents/${encodeURIComponent(id)}`);
      if (status === 404) return undefined;
      if (status !== 200) throw new Error(`the index failed to return "${id}": ${String(body.error ?? status)}`);
      return body as unknown as IndexDocument;
    },
  };
}
