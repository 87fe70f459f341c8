/**
 * Fuzzes lab 1's RAG index: malformed HTTP, bad percent-encoding in /documents/:id and in queries, searches past
 * SEARCH_LIMITS (thousands of terms, long queries), bad k and collection values, every method on every route.
 * It must answer every request below 500, with no stack trace or path, and still be healthy afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_LIMITS } from '../../src/services/mcp-search-server/index-client.js';
import { BAD_PERCENT, commonRequests, request, Rng, SEED } from './generators.js';
import { startLab1Services, type Lab1Services } from './lab1-services.js';
import { describeFailures, fuzz, type FuzzRequest } from './raw-http.js';

const PATHS = ['/health', '/stats', '/search', '/search?q=mtls', '/documents/mcp-001', '/documents/', '/nowhere'];
let lab: Lab1Services;

beforeAll(async () => {
  lab = await startLab1Services();
});
afterAll(() => lab?.stop());

function indexRequests(rng: Rng, count: number): FuzzRequest[] {
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const manyTerms = (n: number) =>
    Array.from({ length: n }, (_, i) => letters[i % 26]).join(rng.pick(['+', '%20', ',', '.']));
  const query = () =>
    rng.pick([
      manyTerms(rng.pick([SEARCH_LIMITS.maxQueryTerms, SEARCH_LIMITS.maxQueryTerms + 1, 250, 2_000])),
      rng.word(rng.pick([SEARCH_LIMITS.maxQueryLength, SEARCH_LIMITS.maxQueryLength + 1, 4_000])),
      `${rng.word(4)}${rng.pick(BAD_PERCENT)}`,
      encodeURIComponent(rng.bytes(rng.int(1, 60)).toString('latin1')),
      '%00',
      '%20%20',
      '*',
      '"',
      '~1',
      '-',
      'mtls~',
      '((((',
      '\\',
      '',
    ]);
  const k = () => rng.pick(['5', '0', '-1', '21', '1.5', 'NaN', '1e309', '0x10', '', '%', '9'.repeat(400), ' 3']);
  const makers: Array<() => FuzzRequest> = [
    () =>
      request('search', {
        target: `/search?q=${query()}${rng.chance(0.5) ? `&k=${k()}` : ''}${rng.chance(0.3) ? `&collection=${rng.pick(['public', 'internal', '', '%', rng.word(5)])}` : ''}`,
      }),
    () => request('repeated parameters', { target: `/search?q=a&q=${query()}&k=1&k=${k()}` }),
    () =>
      request('document id with bad percent-encoding', {
        target: `/documents/${rng.word(rng.int(0, 6))}${rng.pick(BAD_PERCENT)}${rng.word(rng.int(0, 3))}`,
      }),
    () =>
      request('document id of odd bytes', {
        target: `/documents/${encodeURIComponent(rng.bytes(rng.int(1, 200)).toString('latin1'))}`,
      }),
    () =>
      request('document path of many segments', {
        target: `/documents/${rng.pick(['a/b', '..', '%2F..%2F', '.', 'mcp-001/', '%2e%2e'])}`,
      }),
    () =>
      request('wrong method', {
        method: rng.pick(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']),
        target: rng.pick(PATHS),
        body: rng.chance(0.5) ? '{"q":"x"}' : undefined,
      }),
  ];
  return Array.from({ length: count }, () => rng.pick(makers)());
}

describe('rag-index under fuzzed requests', () => {
  it('answers 1,200 malformed requests below 500 without a stack trace, and stays healthy', async () => {
    const rng = new Rng(SEED + 1);
    const requests = [...commonRequests(rng, PATHS, 500), ...indexRequests(rng, 700)];
    const { failures } = await fuzz(lab.index.port, requests);
    expect(failures, describeFailures(failures, SEED + 1)).toEqual([]);
    expect(lab.index.alive(), lab.index.output()).toBe(true);
    expect((await fetch(`${lab.index.url}/health`)).status).toBe(200);
  });
});
