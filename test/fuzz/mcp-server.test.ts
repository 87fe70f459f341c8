/**
 * Fuzzes lab 1's MCP server as the learner's workspace runs it, before and after the authentication step:
 * malformed HTTP, bodies that are not JSON (or are huge, deeply nested, truncated), JSON-RPC of the wrong shape,
 * wrong content types and Accept headers, bad bearer tokens, and tool calls whose arguments push the index past
 * its limits. It must answer every request below 500, as JSON without a stack trace, and stay healthy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SEARCH_LIMITS } from '../../src/services/mcp-search-server/index-client.js';
import { commonRequests, nested, request, Rng, SEED } from './generators.js';
import { startLab1Services, type Lab1Services } from './lab1-services.js';
import { describeFailures, fuzz, type FuzzRequest } from './raw-http.js';

const PATHS = ['/mcp', '/health', '/.well-known/oauth-protected-resource/mcp', '/nowhere'];
const ACCEPT = 'application/json, text/event-stream';
let lab: Lab1Services;

beforeAll(async () => {
  lab = await startLab1Services();
});
afterAll(() => lab?.stop());

function mcpRequests(rng: Rng, count: number, token: string): FuzzRequest[] {
  const rpc = (method: unknown, params: unknown, id: unknown = rng.int(1, 99)) =>
    JSON.stringify({ jsonrpc: '2.0', id, method, params });
  const letters = (n: number) => Array.from({ length: n }, (_, i) => 'abcdefghijklmnopqrstuvwxyz'[i % 26]).join(' ');
  const toolCall = () =>
    rng.pick([
      rpc('tools/call', {
        name: 'search_documents',
        arguments: {
          query: rng.pick([
            letters(250),
            letters(2_000),
            'x'.repeat(SEARCH_LIMITS.maxQueryLength + 1),
            '%zz',
            '\u0000',
            '',
            'mtls',
          ]),
          top_k: rng.pick([5, 0, -1, 1e9, '5', null, 2.5]),
        },
      }),
      rpc('tools/call', {
        name: 'search_documents',
        arguments: { query: 'mtls', collection: rng.pick(['%', '../internal', '\u0000', 'x'.repeat(5_000), 7]) },
      }),
      rpc('tools/call', {
        name: 'get_document',
        arguments: {
          id: rng.pick(['%', '%zz', '../etc/passwd', 'a/b', '\u0000', '\ud800', 'x'.repeat(30_000), 42, null]),
        },
      }),
      rpc('tools/call', { name: rng.pick(['nope', '', '__proto__', 7]), arguments: rng.pick([{}, [], null, 'x']) }),
      rpc('tools/call', { name: 'search_documents', arguments: JSON.parse(nested(rng.pick([50, 500]), 'object')) }),
    ]);
  const body = () =>
    rng.pick([
      rng.pick([
        '{',
        '{"jsonrpc":',
        '}',
        'null',
        'true',
        '"x"',
        '1',
        '[]',
        '[1,2]',
        '{"a":1}{',
        '\u00ff\u00fe{}',
        '{"jsonrpc":"2.0","id":1,"method":"tools/list"',
        '',
      ]),
      nested(rng.pick([100, 2_000, 20_000, 49_000]), rng.pick(['array', 'object'] as const)),
      `{"jsonrpc":"2.0","id":1,"method":"x","params":{"p":"${'a'.repeat(rng.pick([90_000, 150_000, 400_000]))}"}}`,
      rpc(
        rng.pick(['initialize', 'tools/list', 'ping', 'resources/list', 'nope', 7, null, '']),
        rng.pick([{}, [], null, 'x', { protocolVersion: 7 }]),
      ),
      rpc('tools/list', {}, rng.pick([null, {}, [], 1.5, 'x'.repeat(1_000), true])),
      JSON.stringify(Array.from({ length: rng.int(0, 40) }, () => ({ jsonrpc: '2.0', id: 1, method: 'ping' }))),
      JSON.stringify({ jsonrpc: rng.pick(['1.0', 2, null]), id: 1, method: 'ping' }),
      toolCall(),
    ]);
  const contentType = () =>
    rng.pick([
      'application/json',
      'application/json',
      'text/plain',
      'application/json; charset=utf-16',
      'application/json; charset=latin-9',
      'application/x-www-form-urlencoded',
      'multipart/form-data',
      '',
      'application/json; charset=',
    ]);
  const accept = () => rng.pick([ACCEPT, ACCEPT, 'application/json', 'text/event-stream', 'text/html', '*/*', '']);
  const authorization = () =>
    rng.pick([
      `Bearer ${token}`,
      `Bearer ${token}`,
      `bearer ${token}`,
      `Bearer ${token}x`,
      'Bearer',
      'Bearer a.b.c',
      'Bearer eyJhbGciOiJub25lIn0.e30.',
      'Basic eDp5',
      `Bearer ${'A'.repeat(9_000)}`,
    ]);
  const makers: Array<() => FuzzRequest> = [
    () =>
      request('JSON-RPC body', {
        method: 'POST',
        target: '/mcp',
        headers: { 'Content-Type': contentType(), Accept: accept(), Authorization: authorization() },
        body: body(),
      }),
    () =>
      request('tool call', {
        method: 'POST',
        target: '/mcp',
        headers: { 'Content-Type': 'application/json', Accept: ACCEPT, Authorization: `Bearer ${token}` },
        body: toolCall(),
      }),
    () =>
      request('unauthenticated body', {
        method: 'POST',
        target: '/mcp',
        headers: { 'Content-Type': 'application/json', Accept: accept() },
        body: body(),
      }),
    () =>
      request('gzip that is not', {
        method: 'POST',
        target: '/mcp',
        headers: {
          'Content-Type': 'application/json',
          'Content-Encoding': rng.pick(['gzip', 'deflate', 'br', 'x']),
          Accept: ACCEPT,
          Authorization: `Bearer ${token}`,
        },
        body: rng.bytes(64),
      }),
    () =>
      request('other method', {
        method: rng.pick(['GET', 'DELETE', 'PUT', 'OPTIONS', 'HEAD', 'PATCH']),
        target: rng.pick(PATHS),
        headers: { Accept: accept(), Authorization: authorization(), 'Mcp-Session-Id': rng.pick(['x', '\u00ff', '']) },
      }),
    () =>
      request('unknown path', {
        method: rng.pick(['GET', 'POST']),
        target: `/${rng.word(rng.int(1, 10))}`,
        headers: { 'Content-Type': 'application/json' },
        body: rng.chance(0.5) ? '{' : undefined,
      }),
  ];
  return Array.from({ length: count }, () => rng.pick(makers)());
}

describe.each([
  { step: 3, auth: 'without authentication (steps 1-3 solved)' },
  { step: 4, auth: 'with authentication (all steps solved)' },
])('the MCP server $auth under fuzzed requests', ({ step }) => {
  it('answers 1,100 malformed requests below 500 as JSON without a stack trace, and stays healthy', async () => {
    const mcp = await lab.mcp(step);
    const seed = SEED + 10 + step;
    const rng = new Rng(seed);
    const requests = [...commonRequests(rng, PATHS, 400), ...mcpRequests(rng, 700, await lab.token())];
    const { failures } = await fuzz(mcp.port, requests);
    expect(failures, describeFailures(failures, seed)).toEqual([]);
    expect(mcp.alive(), mcp.output()).toBe(true);
    expect((await fetch(`${mcp.url}/health`)).status).toBe(200);
    expect(lab.index.alive() && lab.auth.alive()).toBe(true);
  });
});
