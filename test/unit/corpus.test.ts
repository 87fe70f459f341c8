import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixturesDir } from '../../src/core/paths.js';
import { loadCollections } from '../../src/services/rag-index/corpus.js';
import { SearchIndex } from '../../src/services/rag-index/search-index.js';
import { allCollections } from '../helpers/all-collections.js';

const corpusDir = path.join(fixturesDir, 'corpus');
const docs = loadCollections(corpusDir, allCollections(corpusDir));
const { queries } = JSON.parse(readFileSync(path.join(fixturesDir, 'queries.json'), 'utf8')) as {
  queries: Array<{ id: string; query: string; relevant: string[] }>;
};

describe('the course corpus and graded queries', () => {
  it('has at least 60 documents over the course topics, in public and internal collections', () => {
    expect(docs.length).toBeGreaterThanOrEqual(60);
    const topics = new Set(docs.map((d) => d.id.split('-')[0]));
    expect([...topics].sort()).toEqual(['mcp', 'mtls', 'opa', 'platform', 'rag', 'spiffe']);
    expect(new Set(docs.map((d) => d.collection))).toEqual(new Set(['internal', 'public']));
    for (const d of docs) expect(d.body.split(/\s+/).length, d.id).toBeGreaterThan(100);
  });

  it('grades only ids that exist', () => {
    const ids = new Set(docs.map((d) => d.id));
    for (const q of queries) for (const id of q.relevant) expect(ids.has(id), `${q.id}: ${id}`).toBe(true);
  });

  it('is answerable by the reference index above the check threshold (recall@5 >= 0.8)', () => {
    const index = new SearchIndex(docs);
    const recalls = queries.map((q) => {
      const top = index.search(q.query, { topK: 5 }).map((h) => h.id);
      return q.relevant.filter((id) => top.includes(id)).length / q.relevant.length;
    });
    expect(recalls.reduce((a, b) => a + b, 0) / recalls.length).toBeGreaterThanOrEqual(0.8);
  });

  it('filters by collection', () => {
    const index = new SearchIndex(docs);
    const hits = index.search('key rotation runbook', { topK: 10, collection: 'internal' });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.collection === 'internal')).toBe(true);
  });
});
