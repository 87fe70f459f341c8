import MiniSearch from 'minisearch';
import { SEARCH_LIMITS, type SearchHit } from '../mcp-search-server/index-client.js';
import type { CorpusDocument } from './corpus.js';

export interface SearchOptions {
  topK?: number;
  collection?: string;
  /** Overrides SEARCH_LIMITS.deadlineMs (tests). */
  deadlineMs?: number;
}

export const MAX_TOP_K = SEARCH_LIMITS.maxTopK;

/** A search the index will not run or did not finish: the caller's query is at fault (HTTP 400). */
export class SearchRejected extends Error {}

const tokenize = MiniSearch.getDefault('tokenize') as (text: string) => string[];

/** Refuses a query beyond SEARCH_LIMITS before any work: its length first, so that counting terms is cheap too. */
export function checkQuery(query: string): void {
  const { maxQueryLength, maxQueryTerms } = SEARCH_LIMITS;
  if (query.length > maxQueryLength)
    throw new SearchRejected(`the query has ${query.length} characters; at most ${maxQueryLength} are allowed`);
  const terms = tokenize(query).filter(Boolean).length;
  if (terms > maxQueryTerms)
    throw new SearchRejected(`the query has ${terms} terms; at most ${maxQueryTerms} are allowed`);
}

/** BM25 ranking by MiniSearch; titles and tags weigh more than body text, prefixes and small typos still match. */
const SEARCH_OPTIONS = { boost: { title: 2, tags: 1.5 }, prefix: true, fuzzy: 0.2 } as const;

export function createMiniSearch(): MiniSearch<CorpusDocument> {
  return new MiniSearch<CorpusDocument>({
    fields: ['title', 'body', 'tags'],
    storeFields: ['title', 'collection'],
    extractField: (doc, field) =>
      field === 'tags' ? doc.tags.join(' ') : (doc as unknown as Record<string, string>)[field]!,
    searchOptions: SEARCH_OPTIONS,
  });
}

export class SearchIndex {
  private readonly mini = createMiniSearch();
  private readonly byId = new Map<string, CorpusDocument>();
  private deadline = Infinity;

  constructor(documents: CorpusDocument[]) {
    // A search is synchronous: the only way to stop one part-way is between its terms. MiniSearch (7.x) runs each
    // term of a query through executeQuerySpec, so the clock is checked there; scores stay MiniSearch's own.
    // test/unit/search-limits.test.ts fails if an update of MiniSearch stops calling it.
    const mini = this.mini as unknown as { executeQuerySpec: (...args: unknown[]) => unknown };
    const searchTerm = mini.executeQuerySpec.bind(mini);
    mini.executeQuerySpec = (...args) => {
      if (performance.now() > this.deadline)
        throw new SearchRejected(
          `the search ran past its deadline (${SEARCH_LIMITS.deadlineMs} ms) and was stopped; use fewer or more specific terms`,
        );
      return searchTerm(...args);
    };
    for (const doc of documents) {
      if (this.byId.has(doc.id)) throw new Error(`duplicate document id "${doc.id}"`);
      this.byId.set(doc.id, doc);
    }
    this.mini.addAll(documents);
  }

  search(query: string, options: SearchOptions = {}): SearchHit[] {
    const topK = Math.min(Math.max(options.topK ?? 5, 1), MAX_TOP_K);
    const filter = options.collection
      ? (r: { [key: string]: unknown }) => r.collection === options.collection
      : undefined;
    checkQuery(query);
    this.deadline = performance.now() + (options.deadlineMs ?? SEARCH_LIMITS.deadlineMs);
    let results: ReturnType<MiniSearch['search']>;
    try {
      results = this.mini.search(query, filter ? { filter } : {});
    } finally {
      this.deadline = Infinity;
    }
    return results.slice(0, topK).map((r) => {
      const doc = this.byId.get(r.id as string)!;
      return {
        id: doc.id,
        title: doc.title,
        collection: doc.collection,
        score: Number(r.score.toFixed(4)),
        snippet: snippet(doc.body, r.terms),
      };
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
  const at =
    terms
      .map((t) => lower.indexOf(t.toLowerCase()))
      .filter((i) => i >= 0)
      .sort((a, b) => a - b)[0] ?? 0;
  const start = Math.max(0, at - 60);
  return `${start > 0 ? '…' : ''}${text.slice(start, start + width).trim()}${start + width < text.length ? '…' : ''}`;
}
