import { readdirSync } from 'node:fs';
import type { CollectionSource } from '../../src/services/rag-index/collections.js';

/** Every collection folder under the corpus root: what a fully configured index holds (tests and benches). */
export function allCollections(corpusDir: string): CollectionSource[] {
  return readdirSync(corpusDir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => ({ name: e.name, dir: e.name }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
