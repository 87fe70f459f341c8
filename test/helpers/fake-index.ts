import type { IndexClient, IndexDocument } from '../../src/services/mcp-search-server/index-client.js';

/** A hand-written in-memory index for in-process MCP tests: substring match, ranked by occurrences. */
export function fakeIndex(
  documents: IndexDocument[],
): IndexClient & { searches: Array<{ query: string; topK?: number; collection?: string }> } {
  const searches: Array<{ query: string; topK?: number; collection?: string }> = [];
  return {
    searches,
    async search(query, options) {
      searches.push({ query, ...options });
      const words = query.toLowerCase().split(/\W+/).filter(Boolean);
      return documents
        .filter((d) => !options.collection || d.collection === options.collection)
        .map((d) => ({ d, score: words.filter((w) => `${d.title} ${d.body}`.toLowerCase().includes(w)).length }))
        .filter((x) => x.score > 0)
        .sort((a, b) => b.score - a.score)
        .slice(0, options.topK ?? 5)
        .map(({ d, score }) => ({
          id: d.id,
          title: d.title,
          collection: d.collection,
          score,
          snippet: d.body.slice(0, 80),
        }));
    },
    async getDocument(id) {
      return documents.find((d) => d.id === id);
    },
  };
}

export const sampleDocuments: IndexDocument[] = [
  {
    id: 'spiffe-001',
    title: 'SPIFFE IDs',
    collection: 'public',
    tags: ['spiffe'],
    body: 'A SPIFFE ID names a workload: spiffe://trust-domain/path. '.repeat(10),
  },
  {
    id: 'opa-001',
    title: 'Default deny in Rego',
    collection: 'public',
    tags: ['opa'],
    body: 'Policies start from default allow := false so that undefined means deny. '.repeat(10),
  },
  {
    id: 'platform-009',
    title: 'Internal key rotation runbook',
    collection: 'internal',
    tags: ['platform'],
    body: 'Rotate the signing key every 90 days; the workload identity bundle follows. '.repeat(10),
  },
];
