import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CollectionSource } from './collections.js';

export interface CorpusDocument {
  id: string;
  title: string;
  collection: string;
  tags: string[];
  body: string;
}

export type { CollectionSource };

/** Parses the corpus format: a `---` front matter block of `key: value` lines (tags as `[a, b]`), then Markdown. */
function parseDocument(text: string, file: string): CorpusDocument {
  const match = /^---\n([\s\S]*?)\n---\n?([\s\S]*)$/.exec(text.replace(/\r\n/g, '\n'));
  if (!match) throw new Error(`${file}: missing front matter`);
  const fields = new Map<string, string>();
  for (const line of match[1]!.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const required = (key: string) => {
    const value = fields.get(key);
    if (!value) throw new Error(`${file}: front matter has no "${key}"`);
    return value;
  };
  const tags = (fields.get('tags') ?? '')
    .replace(/^\[|\]$/g, '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  return {
    id: required('id'),
    title: required('title'),
    collection: required('collection'),
    tags,
    body: match[2]!.trim(),
  };
}

export function loadCollections(corpusDir: string, sources: CollectionSource[]): CorpusDocument[] {
  return sources.flatMap((source) => {
    const dir = path.resolve(corpusDir, source.dir);
    return readdirSync(dir)
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => ({
        ...parseDocument(readFileSync(path.join(dir, f), 'utf8'), path.join(dir, f)),
        collection: source.name,
      }));
  });
}
