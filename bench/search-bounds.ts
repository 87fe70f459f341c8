/**
 * What one hostile search costs rag-index, without and with SEARCH_LIMITS. Prints figures; asserts nothing.
 * Each measurement runs in a fresh process over the course corpus: wall time of the search and the growth of the
 * process's peak RSS (VmHWM). "unbounded" is the index as it was (MiniSearch with the same options, no limits);
 * "bounded" is SearchIndex.search, which refuses the query (or, for queries within bounds, runs it).
 * Usage: npx tsx bench/search-bounds.ts [--runs 3]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixturesDir } from '../src/core/paths.js';
import { SEARCH_LIMITS } from '../src/services/mcp-search-server/index-client.js';
import { loadCollections } from '../src/services/rag-index/corpus.js';
import { createMiniSearch, SearchIndex } from '../src/services/rag-index/search-index.js';
import { allCollections } from '../test/helpers/all-collections.js';

const letters = (n: number) => Array.from({ length: n }, (_, i) => 'abcdefghijklmnopqrstuvwxyz'[i % 26]).join(' ');
const prefixes = (n: number) => {
  const words = loadCollections(
    path.join(fixturesDir, 'corpus'),
    allCollections(path.join(fixturesDir, 'corpus')),
  ).flatMap((d) => d.body.toLowerCase().split(/[^a-z]+/));
  const unique = [...new Set(words.filter((w) => w.length >= 3).map((w) => w.slice(0, 3)))];
  return Array.from({ length: n }, (_, i) => unique[i % unique.length]).join(' ');
};
const QUERIES: Record<string, () => string> = {
  '2,000 one-letter terms (4 kB)': () => letters(2_000),
  '2,000 three-letter prefixes (8 kB)': () => prefixes(2_000),
  [`${SEARCH_LIMITS.maxQueryTerms} one-letter terms (the worst within bounds)`]: () =>
    letters(SEARCH_LIMITS.maxQueryTerms),
  [`${SEARCH_LIMITS.maxQueryTerms} three-letter prefixes`]: () => prefixes(SEARCH_LIMITS.maxQueryTerms),
};

const peakRssMb = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]) / 1024;

function measure(mode: string, name: string): void {
  const corpus = path.join(fixturesDir, 'corpus');
  const docs = loadCollections(corpus, allCollections(corpus));
  const query = QUERIES[name]!();
  const search =
    mode === 'unbounded'
      ? (() => {
          const mini = createMiniSearch();
          mini.addAll(docs);
          return () => `${mini.search(query).length} hits`;
        })()
      : (() => {
          const index = new SearchIndex(docs);
          return () => {
            try {
              return `${index.search(query, { topK: 5 }).length} hits`;
            } catch (error) {
              return `refused: ${(error as Error).message}`;
            }
          };
        })();
  const before = peakRssMb();
  const started = performance.now();
  const outcome = search();
  const ms = performance.now() - started;
  console.log(JSON.stringify({ ms, rssMb: peakRssMb() - before, outcome }));
}

if (process.argv[2] === '--measure') {
  measure(process.argv[3]!, process.argv[4]!);
} else {
  const runs = process.argv.includes('--runs') ? Number(process.argv[process.argv.indexOf('--runs') + 1]) : 3;
  const tsx = createRequire(import.meta.url).resolve('tsx');
  const self = fileURLToPath(import.meta.url);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`rag-index search cost, median of ${runs} fresh processes (limits: ${JSON.stringify(SEARCH_LIMITS)})`);
  for (const name of Object.keys(QUERIES)) {
    for (const mode of ['unbounded', 'bounded']) {
      const results = Array.from(
        { length: runs },
        () =>
          JSON.parse(
            execFileSync(process.execPath, ['--import', tsx, self, '--measure', mode, name], { encoding: 'utf8' }),
          ) as { ms: number; rssMb: number; outcome: string },
      );
      const outcome = results[0]!.outcome.length > 60 ? `${results[0]!.outcome.slice(0, 60)}…` : results[0]!.outcome;
      console.log(
        `  ${name.padEnd(52)} ${mode.padEnd(9)} ${median(results.map((r) => r.ms))
          .toFixed(1)
          .padStart(8)} ms  +${median(results.map((r) => r.rssMb))
          .toFixed(0)
          .padStart(4)} MB peak RSS  (${outcome})`,
      );
    }
  }
}
