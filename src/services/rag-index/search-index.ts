import MiniSearch from 'minisearch';
import type { CorpusDocument } from './corpus.js';

export interface SearchHit {
  id: string;
  title: string;
  collection: string;
  score: number;
  snippet: string;
}

export interface SearchOptions {
  topK?: number;
  collection?: string;
}

export const MAX_TOP_K = 20;

/** BM25 ranking by MiniSearch; titles and tags weigh more than body text, prefixes and small typos still match. */
export const SEARCH_OPTIONS = { boost: { title: 2, tags: 1.5 }, prefix: true, fuzzy: 0.2 } as const;

export function createMiniSearch(): MiniSearch<CorpusDocument> {
  return new MiniSearch<CorpusDocument>({
    fields: ['title', 'body', 'tags'],
    storeFields: ['title', 'collection'],
    extractField: (doc, field) => (field === 'tags' ? doc.tags.join(' ') : (doc as unknown as Record<string, string>)[field]!),
    searchOptions: SEARCH_OPTIONS,
  });
}

export class SearchIndex {
  private readonly mini = createMiniSearch();
  private readonly byId = new Map<string, CorpusDocument>();

  constructor(documents: CorpusDocument[]) {
    for (const doc of documents) {
      if (this.byId.has(doc.id)) throw new Error(`duplicate document id "${doc.id}"`);
      this.byId.set(doc.id, doc);
    }
    this.mini.addAll(documents);
  }

  search(query: string, options: SearchOptions = {}): SearchHit[] {
    const topK = Math.min(Math.max(options.topK ?? 5, 1), MAX_TOP_K);
    const filter = options.collection ? (r: { [key: string]: unknown }) => r.collection === options.collection : undefined;
    return this.mini
      .search(query, filter ? { filter } : {})
      .slice(0, topK)
      .map((r) => {
        const doc = this.byId.get(r.id as string)!;
        return { id: doc.id, title: doc.title, collection: doc.collection, score: Number(r.score.toFixed(4)), snippet: snippet(doc.body, r.terms) };
      });
  }

  get(id: string): CorpusDocument | undefined {
    return this.byId.get(id);
  }

  stats(): { documents: number; collections: Record<string, number> } {
    const collections: Record<string, number> = {};
    for (const doc of this.byId.values()) collections[doc.collection] = (collections[doc.collection] ?? 0) + 1;
    return { documents: this.byId.size, collections };
  }
}

/** The sentence-ish window around the first matched term, so an agent can judge a hit without fetching it. */
function snippet(body: string, terms: string[], width = 220): string {
  const text = body.replace(/\s+/g, ' ');
  const lower = text.toLowerCase();
  const at = terms.map((t) => lower.indexOf(t.toLowerCase())).filter((i) => i >= 0).sort((a, b) => a - b)[0] ?? 0;
  const start = Math.max(0, at - 60);
  return `${start > 0 ? '…' : ''}${text.slice(start, start + width).trim()}${start + width < text.length ? '…' : ''}`;
}
