import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request, Response } from 'express';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeComponent, jsonRpcLastResort, requestTarget } from '../../src/services/http/json-http.js';
import { request } from '../fuzz/generators.js';
import { sendRaw } from '../fuzz/raw-http.js';

const target = (url: string) => requestTarget({ url } as IncomingMessage);

describe('request parsing', () => {
  it('reads origin-form targets as paths, absolute-form as URLs, and refuses what is neither', () => {
    expect(target('//x:y')?.pathname).toBe('//x:y');
    expect(target('/documents/a?q=1')?.searchParams.get('q')).toBe('1');
    expect(target('http://other:81/health')?.pathname).toBe('/health');
    for (const bad of ['http://[', 'http://[::1', '*', 'health', 'http://x:99999/'])
      expect(target(bad), bad).toBeUndefined();
  });

  it('decodes percent-encoding, or says it is malformed', () => {
    expect(decodeComponent('a%20b')).toBe('a b');
    for (const bad of ['%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF'])
      expect(decodeComponent(bad), bad).toBeUndefined();
  });
});

describe("lab 2's MCP server error layer (jsonRpcLastResort) around the SDK's Express app", () => {
  let server: Server;
  let port: number;
  beforeAll(async () => {
    const app = createMcpExpressApp();
    app.post('/mcp', () => {
      throw new Error('a bug of ours at /srv/app/secret-path.ts');
    });
    const lastResort = jsonRpcLastResort('test');
    server = createServer((req, res) =>
      app(req as Request, res as Response, (error?: unknown) => lastResort(error, res)),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  const post = async (body: string, headers: Record<string, string> = { 'Content-Type': 'application/json' }) => {
    const answer = await sendRaw(port, request('t', { method: 'POST', target: '/mcp', headers, body }));
    return { status: answer.status, json: JSON.parse(answer.body) };
  };

  it('answers invalid JSON with a JSON-RPC parse error', async () => {
    expect(await post('{"jsonrpc":')).toEqual({
      status: 400,
      json: {
        jsonrpc: '2.0',
        error: { code: -32700, message: 'Parse error: the request body is not valid JSON' },
        id: null,
      },
    });
  });

  it('answers a body too large or in an unknown charset with its 4xx as a JSON-RPC error', async () => {
    expect(await post(`"${'a'.repeat(200_000)}"`)).toMatchObject({ status: 413, json: { error: { code: -32600 } } });
    expect(await post('{}', { 'Content-Type': 'application/json; charset=latin-9' })).toMatchObject({
      status: 415,
      json: { error: { code: -32600 } },
    });
  });

  it('answers unknown paths and unparseable targets with a JSON 404', async () => {
    for (const t of ['/nowhere', 'http://[::1']) {
      const answer = await sendRaw(port, request(t, { target: t }));
      expect(answer.status, t).toBe(404);
      expect(JSON.parse(answer.body).error.message, t).toContain('POST /mcp');
    }
  });

  it('answers a fault of its own with a bare 500 that names no code or path', async () => {
    expect(await post('{}')).toEqual({
      status: 500,
      json: { jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null },
    });
  });
});
