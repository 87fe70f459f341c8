/**
 * search_documents compared with the rag-index's own answer to the same request: top_k, the collection
 * filter, the order by score. Part of the queries is drawn at random from the corpus on every run (held out of
 * fixtures/), so a lookup table of the published graded queries cannot pass.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import { describeError, textOf, withMcpClient } from '../lib/mcp-client.js';
import { getJson } from '../lib/http-probe.js';
import { graderHeaders, mcpEndpoint } from './grader.js';

interface Probe {
  query: string;
  top_k?: number;
  collection?: string;
  heldOut: boolean;
}

const pick = <T>(items: T[]): T => items[randomInt(items.length)]!;

/** Corpus documents as (collection, id, body words). */
function corpus(repoDir: string): Array<{ collection: string; id: string; words: string[] }> {
  const root = path.join(repoDir, 'fixtures', 'corpus');
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((d) =>
      readdirSync(path.join(root, d.name))
        .filter((f) => f.endsWith('.md'))
        .map((f) => {
          const body = readFileSync(path.join(root, d.name, f), 'utf8')
            .split(/^---$/m)
            .slice(2)
            .join(' ');
          return {
            collection: d.name,
            id: f.slice(0, -3),
            words: body.split(/\s+/).filter((w) => /^[A-Za-z][A-Za-z-]{3,}$/.test(w)),
          };
        }),
    );
}

/** Held-out queries: a few words of a random document, different on every run. */
function heldOutProbes(repoDir: string, count: number): Probe[] {
  const docs = corpus(repoDir).filter((d) => d.words.length > 12);
  const collections = [...new Set(docs.map((d) => d.collection))];
  return Array.from({ length: count }, (_, i) => {
    const doc = pick(docs);
    const at = randomInt(doc.words.length - 6);
    const query = doc.words.slice(at, at + 3 + randomInt(3)).join(' ');
    return {
      query,
      heldOut: true,
      top_k: i === 0 ? undefined : pick([1, 2, 3, 4, 7, 9, 12]),
      collection: i % 2 === 1 ? pick(collections) : undefined,
    };
  });
}

/**
 * The hits' ids in order: structuredContent when present, else the [id] that starts a line (after a list
 * number or bullet), since a snippet may itself mention another document's [id]; else every [id], once.
 */
function hitIds(result: CallToolResult): string[] {
  const structured = (result.structuredContent as { results?: Array<{ id?: unknown }> } | undefined)?.results;
  if (Array.isArray(structured))
    return structured.map((r) => r.id).filter((id): id is string => typeof id === 'string');
  const text = textOf(result);
  const json = jsonIds(text);
  if (json) return json;
  const leading = text
    .split('\n')
    .map((line) => /^\s*(?:\d+[.)]\s*|[-*]\s*)?\[([A-Za-z0-9][\w.-]*)\]/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  return leading.length > 0 ? leading : [...new Set([...text.matchAll(/\[([A-Za-z0-9][\w.-]*)\]/g)].map((m) => m[1]!))];
}

/** Hits written as JSON text (an array of hits, or { results: [...] }) rather than lines. */
function jsonIds(text: string): string[] | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    const list = Array.isArray(value)
      ? value
      : ((value as { results?: unknown; hits?: unknown }).results ?? (value as { hits?: unknown }).hits);
    if (!Array.isArray(list)) return undefined;
    return list.map((h) => (h as { id?: unknown }).id).filter((id): id is string => typeof id === 'string');
  } catch {
    return undefined;
  }
}

export const searchMatchesIndex: CheckDefinition = {
  id: 'search-matches-index',
  title:
    'search_documents returns what the index returns: top_k, the collection filter and the order, on held-out queries too',
  timeoutMs: 30_000,
  async run(ctx) {
    const published = (
      JSON.parse(readFileSync(path.join(ctx.repoDir, 'fixtures', 'queries.json'), 'utf8')) as {
        queries: Array<{ query: string }>;
      }
    ).queries;
    const probes: Probe[] = [
      { query: pick(published).query, top_k: 3, heldOut: false },
      ...heldOutProbes(ctx.repoDir, 6),
    ];
    const known = new Set(corpus(ctx.repoDir).map((d) => d.id));
    try {
      return await withMcpClient(mcpEndpoint(ctx), await graderHeaders(ctx), ctx.signal, async (client) => {
        const wrong: string[] = [];
        for (const probe of probes) {
          const params = new URLSearchParams({ q: probe.query, k: String(probe.top_k ?? 5) });
          if (probe.collection) params.set('collection', probe.collection);
          const truth = (await getJson(new URL(`/search?${params}`, ctx.url('rag-index')), ctx.signal)).body as {
            hits?: Array<{ id: string }>;
          };
          const expected = (truth.hits ?? []).map((h) => h.id);
          const args: Record<string, unknown> = { query: probe.query };
          if (probe.top_k !== undefined) args.top_k = probe.top_k;
          if (probe.collection) args.collection = probe.collection;
          const result = (await client.callTool({ name: 'search_documents', arguments: args })) as CallToolResult;
          const got = result.isError ? [] : hitIds(result).filter((id) => known.has(id));
          if (got.join(' ') === expected.join(' ')) continue;
          const sameSet = got.length === expected.length && got.every((id) => expected.includes(id));
          const why = result.isError
            ? 'an error result'
            : sameSet
              ? 'the right documents in another order (the index orders by score)'
              : got.length !== expected.length
                ? `${got.length} results where the index returns ${expected.length}${probe.top_k === undefined ? ' (top_k omitted: 5)' : ''}`
                : 'other documents than the index';
          const request = `"${probe.query}"${probe.top_k !== undefined ? ` top_k=${probe.top_k}` : ''}${probe.collection ? ` collection=${probe.collection}` : ''}${probe.heldOut ? ' (held-out)' : ''}`;
          wrong.push(`${request}: ${why}; expected [${expected.join(', ')}], got [${got.join(', ')}]`);
        }
        if (wrong.length > 0) {
          return fail(
            `search_documents differs from the index on ${wrong.length} of ${probes.length} requests: ${wrong.slice(0, 3).join(' | ')}.`,
            'Pass query, top_k (default 5) and collection to index.search unchanged and return the hits in the order the index gives them, each with its id.',
            { wrong },
          );
        }
        return pass(
          `search_documents matched the index on ${probes.length} requests (${probes.filter((p) => p.heldOut).length} held-out queries drawn from the corpus this run).`,
        );
      });
    } catch (error) {
      return fail(`Calling search_documents failed: ${describeError(error)}.`, 'Look at `lab logs mcp-server`.');
    }
  },
};
