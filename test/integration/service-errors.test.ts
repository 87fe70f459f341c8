/**
 * The requests that crashed lab 1's services or leaked their internals (issue 8, "one unauthenticated request
 * crashes a service"), each answered now with a JSON client error, the service still healthy afterwards.
 */
import { connect } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REQUEST_TIMEOUTS } from '../../src/services/http/json-http.js';
import { SEARCH_LIMITS } from '../../src/services/mcp-search-server/index-client.js';
import { BAD_PERCENT, request } from '../fuzz/generators.js';
import { startLab1Services, type Lab1Services, type Service } from '../fuzz/lab1-services.js';
import { sendRaw } from '../fuzz/raw-http.js';

let lab: Lab1Services;
let mcp: Service;
beforeAll(async () => {
  lab = await startLab1Services();
  mcp = await lab.mcp(4);
});
afterAll(() => lab?.stop());

const raw = async (service: Service, target: string, options: Parameters<typeof request>[1] = {}) => {
  const answer = await sendRaw(service.port, request(target, { target, ...options }));
  return { status: answer.status, json: JSON.parse(answer.body) as Record<string, unknown> };
};
const healthy = async (service: Service) => service.alive() && (await fetch(`${service.url}/health`)).ok;
const letters = (n: number) => Array.from({ length: n }, (_, i) => 'abcdefghijklmnopqrstuvwxyz'[i % 26]).join(' ');

describe('auth-server', () => {
  it('answers request targets that are no URL with JSON instead of crashing on "Invalid URL"', async () => {
    expect(await raw(lab.auth, '//x:y')).toEqual({ status: 404, json: { error: 'not_found' } });
    for (const target of ['http://[', 'http://[::1', 'http://x:99999/token', 'http://[zz]/'])
      expect((await raw(lab.auth, target)).status, target).toBe(400);
    expect(await healthy(lab.auth)).toBe(true);
  });

  it('refuses Basic credentials with malformed percent-encoding as invalid_request (was a 500)', async () => {
    for (const credentials of ['%zz:secret', 'client:%E0%A4%A', 'no-colon']) {
      const answer = await raw(lab.auth, '/oauth2/token', {
        method: 'POST',
        headers: {
          Authorization: `Basic ${Buffer.from(credentials).toString('base64')}`,
          'Content-Type': 'application/x-www-form-urlencoded',
        },
        body: 'grant_type=client_credentials',
      });
      expect(answer, credentials).toMatchObject({ status: 400, json: { error: 'invalid_request' } });
    }
  });
});

describe('rag-index', () => {
  it('answers a document id with malformed percent-encoding with 400 instead of crashing on URIError', async () => {
    for (const bad of BAD_PERCENT) expect((await raw(lab.index, `/documents/x${bad}`)).status, bad).toBe(400);
    expect(await healthy(lab.index)).toBe(true);
  });

  it(`refuses a search of 2,000 terms at once, naming the bound of ${SEARCH_LIMITS.maxQueryTerms} terms`, async () => {
    const answer = await raw(lab.index, `/search?q=${encodeURIComponent(letters(2_000))}`);
    expect(answer.status).toBe(400);
    expect(answer.json.error).toContain(`at most ${SEARCH_LIMITS.maxQueryLength}`);
    const terms = await raw(lab.index, `/search?q=${encodeURIComponent(letters(200))}`);
    expect(terms).toMatchObject({
      status: 400,
      json: { error: expect.stringContaining(`at most ${SEARCH_LIMITS.maxQueryTerms}`) },
    });
    expect((await raw(lab.index, '/stats')).json.limits).toEqual(SEARCH_LIMITS);
  });
});

describe('MCP server', () => {
  it('answers invalid JSON on /mcp with a JSON-RPC parse error and no stack trace, before authentication', async () => {
    const answer = await sendRaw(
      mcp.port,
      request('invalid JSON', {
        method: 'POST',
        target: '/mcp',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: '{"jsonrpc":',
      }),
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error: the request body is not valid JSON' },
      id: null,
    });
  });

  it('answers unknown paths and unparseable targets with JSON, not an HTML page', async () => {
    for (const target of ['/nowhere', 'http://[::1'])
      expect(await raw(mcp, target), target).toMatchObject({ status: 404, json: { jsonrpc: '2.0', id: null } });
  });

  it("turns a search past the index's limits into a tool error naming the bound", async () => {
    const client = new Client({ name: 't', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${mcp.url}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${await lab.token()}` } },
      }),
    );
    const result = (await client.callTool({
      name: 'search_documents',
      arguments: { query: letters(250) },
    })) as CallToolResult;
    await client.close();
    expect(result.isError).toBe(true);
    expect((result.content[0] as { text: string }).text).toContain(
      `at most ${SEARCH_LIMITS.maxQueryTerms} are allowed`,
    );
    expect(await healthy(lab.index)).toBe(true);
  });
});

describe('every lab 1 service', () => {
  it('closes a connection whose request stalls, within its request timeouts', async () => {
    const stalled = (service: Service) =>
      new Promise<number>((resolve) => {
        const started = Date.now();
        const socket = connect(service.port, '127.0.0.1', () =>
          socket.write('POST /oauth2/token HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{'),
        );
        socket.on('data', () => undefined);
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(Date.now() - started));
      });
    const closedAfter = await Promise.all([lab.auth, lab.index, mcp].map(stalled));
    for (const ms of closedAfter) expect(ms).toBeLessThan(REQUEST_TIMEOUTS.requestTimeoutMs + 5_000);
  }, 60_000);
});
