import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../src/core/paths.js';
import { SEARCH_LIMITS } from '../../src/services/mcp-search-server/index-client.js';
import { loadCollections } from '../../src/services/rag-index/corpus.js';
import {
  checkQuery,
  createMiniSearch,
  SearchIndex,
  SearchRejected,
} from '../../src/services/rag-index/search-index.js';
import { allCollections } from '../helpers/all-collections.js';

const corpusDir = path.join(fixturesDir, 'corpus');
const docs = loadCollections(corpusDir, allCollections(corpusDir));
const index = new SearchIndex(docs);
const letters = (n: number) => Array.from({ length: n }, (_, i) => 'abcdefghijklmnopqrstuvwxyz'[i % 26]).join(' ');

describe('search limits', () => {
  it('refuses a query of more terms than SEARCH_LIMITS allows, naming the bound', () => {
    expect(() => checkQuery(letters(SEARCH_LIMITS.maxQueryTerms))).not.toThrow();
    expect(() => checkQuery(letters(SEARCH_LIMITS.maxQueryTerms + 1))).toThrow(SearchRejected);
    expect(() => index.search(letters(200))).toThrow(`at most ${SEARCH_LIMITS.maxQueryTerms} are allowed`);
    expect(() => index.search(letters(2_000))).toThrow(SearchRejected);
    // Punctuation separates terms as spaces do: the index counts what MiniSearch will search.
    expect(() => checkQuery('a,'.repeat(SEARCH_LIMITS.maxQueryTerms + 1))).toThrow(SearchRejected);
  });

  it('refuses a query longer than SEARCH_LIMITS allows, naming the bound', () => {
    expect(() => checkQuery('x'.repeat(SEARCH_LIMITS.maxQueryLength))).not.toThrow();
    expect(() => index.search('x'.repeat(SEARCH_LIMITS.maxQueryLength + 1))).toThrow(
      `at most ${SEARCH_LIMITS.maxQueryLength} are allowed`,
    );
  });

  it('stops a search that runs past its deadline (the per-term hook into MiniSearch still runs)', () => {
    expect(() => index.search('mutual tls handshake', { deadlineMs: -1 })).toThrow(/deadline/);
    expect(index.search('mutual tls handshake').length).toBeGreaterThan(0);
  });

  it('ranks exactly as MiniSearch does on its own', () => {
    const raw = createMiniSearch();
    raw.addAll(docs);
    for (const q of [
      'mutual tls handshake',
      'opa default deny rego',
      'spiffe id workload attestation',
      'bearer token audience',
    ]) {
      const expected = raw
        .search(q)
        .slice(0, 10)
        .map((r) => [r.id, Number(r.score.toFixed(4))]);
      expect(index.search(q, { topK: 10 }).map((h) => [h.id, h.score])).toEqual(expected);
    }
  });
});
