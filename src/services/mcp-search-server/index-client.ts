// How the MCP server reaches the RAG index: plain HTTP calls to the rag-index service.
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

export function httpIndexClient(baseUrl: string): IndexClient {
  const call = async (path: string) => {
    const response = await fetch(new URL(path, baseUrl), { signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as Record<string, unknown>;
    return { status: response.status, body };
  };
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
