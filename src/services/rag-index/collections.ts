// Which collections of the sample corpus the RAG index loads. The runner copies this file into your workspace
// as rag-index/collections.ts and restarts the index when you change it.
export interface CollectionSource {
  /** The collection name: what search results report and what the `collection` filter matches. */
  name: string;
  /** The folder of Markdown documents, relative to the corpus root (fixtures/corpus). */
  dir: string;
}

export const collections: CollectionSource[] = [
  // @lab-step 1
  // TODO (step 1): the index starts empty. List the collections of the sample corpus so that it loads them: each
  // TODO: folder under fixtures/corpus is one collection. Verify: npx lab check 1 says how many documents it holds.
  { name: 'public', dir: 'public' },
  { name: 'internal', dir: 'internal' },
  // @lab-end
];
