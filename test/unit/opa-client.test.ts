/**
 * The OPA client's fail-closed paths, against a throw-away local HTTP server that misbehaves on purpose
 * (the real OPA is exercised in test/e2e/opa-policy.test.ts).
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opaClient, type PolicyInput } from '../../src/services/policy/opa-client.js';

const input: PolicyInput = {
  spiffe_id: 'spiffe://lab.ai-infra-labs.dev/agent/research',
  tool: 'search_documents',
  arguments: { query: 'q' },
  collection: 'public',
};
const received: unknown[] = [];
let server: Server;
let baseUrl: string;

const routes: Record<string, (reply: (status: number, body: string) => void, res: ServerResponse) => void> = {
  '/v1/data/ok': (reply) =>
    reply(200, JSON.stringify({ result: { allow: true, reason: 'allowed' }, decision_id: 'd-1' })),
  '/v1/data/no-result': (reply) => reply(200, '{}'),
  '/v1/data/error': (reply) => reply(500, JSON.stringify({ code: 'internal_error', message: 'boom' })),
  '/v1/data/non-boolean': (reply) => reply(200, JSON.stringify({ result: { allow: 'yes', reason: 'allowed' } })),
  '/v1/data/not-json': (reply) => reply(200, '<html>proxy error</html>'),
  // The second request on a kept-alive connection finds it closed, as when OPA drops an idle connection at the
  // moment the client reuses it; a request on a fresh connection is answered.
  '/v1/data/drops-reused': (reply, res) => {
    const socket = res.socket!;
    const seen = (socket as unknown as { answered?: number }).answered ?? 0;
    (socket as unknown as { answered?: number }).answered = seen + 1;
    if (seen > 0) return void socket.destroy();
    reply(200, JSON.stringify({ result: { allow: true, reason: 'allowed' }, decision_id: `d-${received.length}` }));
  },
  '/v1/data/slow': (reply) =>
    void setTimeout(() => reply(200, JSON.stringify({ result: { allow: true } })), 2_000).unref(),
  // Headers arrive in time, the body never does: the timeout must cover reading the body as well.
  '/v1/data/stalled-body': (_reply, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"result": {"allow": tr');
  },
};

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body));
      const reply = (status: number, text: string) =>
        res.writeHead(status, { 'content-type': 'application/json' }).end(text);
      (routes[req.url ?? ''] ?? ((r) => r(404, '{}')))(reply, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('opaClient', () => {
  it('asks again on a fresh connection when a kept-alive one was closed under it (the request never reached OPA)', async () => {
    const client = opaClient(baseUrl, { path: 'drops-reused' });
    expect((await client.decide(input)).allow).toBe(true);
    const second = await client.decide(input);
    expect(second).toMatchObject({ allow: true, source: 'opa' });
  });

  it('posts {"input": ...} and returns OPA\'s decision with its decision id', async () => {
    const decision = await opaClient(baseUrl, { path: 'ok' }).decide(input);
    expect(decision).toEqual({ allow: true, reason: 'allowed', decisionId: 'd-1', source: 'opa' });
    expect(received.at(-1)).toEqual({ input });
  });

  it.each([
    ['a 200 without result (undefined rule)', 'no-result', /undefined/],
    ['HTTP 500', 'error', /HTTP 500: .*boom/],
    ['an "allow" that is not a boolean', 'non-boolean', /boolean/],
    ['a body that is not JSON', 'not-json', /invalid JSON/],
    ['an unknown path (404)', 'missing', /HTTP 404/],
  ])('fails closed on %s', async (_what, path, reason) => {
    const decision = await opaClient(baseUrl, { path }).decide(input);
    expect(decision).toMatchObject({ allow: false, source: 'fail-closed', decisionId: null });
    expect(decision.reason).toMatch(/^policy unavailable: /);
    expect(decision.reason).toMatch(reason);
  });

  it.each(['slow', 'stalled-body'])('fails closed when OPA is too slow (%s) instead of waiting', async (path) => {
    const started = Date.now();
    const decision = await opaClient(baseUrl, { path, timeoutMs: 200 }).decide(input);
    expect(decision).toMatchObject({
      allow: false,
      source: 'fail-closed',
      reason: 'policy unavailable: no answer from OPA within 200 ms',
    });
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});
