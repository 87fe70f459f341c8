/**
 * Fuzzes lab 1's authorization server: malformed HTTP, request targets that are no URL, bad form bodies and
 * client credentials (Basic with bad base64 or percent-encoding), oversized and truncated bodies. It must answer
 * every request below 500, with no stack trace or path, and still be healthy afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commonRequests, BAD_PERCENT, request, Rng, SEED } from './generators.js';
import { startLab1Services, type Lab1Services } from './lab1-services.js';
import { describeFailures, fuzz, type FuzzRequest } from './raw-http.js';

const PATHS = ['/health', '/oauth2/token', '/jwks.json', '/.well-known/oauth-authorization-server', '/nowhere'];
let lab: Lab1Services;

beforeAll(async () => {
  lab = await startLab1Services();
});
afterAll(() => lab?.stop());

function tokenRequests(rng: Rng, count: number): FuzzRequest[] {
  const field = () =>
    rng.pick([
      'grant_type',
      'client_id',
      'client_secret',
      'resource',
      'scope',
      rng.word(3),
      '',
      '%',
      rng.pick(BAD_PERCENT),
    ]);
  const value = () =>
    rng.pick([
      rng.word(rng.int(0, 12)),
      rng.pick(BAD_PERCENT),
      'client_credentials',
      'docs:read',
      'http://127.0.0.1:1/mcp',
      '+',
      '=',
      '&',
      '\u00e9',
      'a'.repeat(rng.int(100, 3_000)),
    ]);
  const form = () =>
    Array.from({ length: rng.int(0, 8) }, () => `${field()}=${value()}`).join(rng.pick(['&', '&&', ';', '']));
  const basic = () => {
    const raw = rng.pick([
      `${rng.pick(BAD_PERCENT)}:x`,
      `x:${rng.pick(BAD_PERCENT)}`,
      'nocolon',
      ':',
      `${rng.word(8)}:${rng.word(8)}`,
      rng.bytes(16).toString('latin1'),
      '%zz:%zz',
    ]);
    return rng.pick([
      `Basic ${Buffer.from(raw, 'latin1').toString('base64')}`,
      `Basic ${raw}`,
      `basic ${Buffer.from(raw).toString('base64url')}`,
      'Basic',
      'Basic ====',
      `Basic ${'QUFB'.repeat(2_000)}`,
    ]);
  };
  const makers: Array<() => FuzzRequest> = [
    () =>
      request('token form', {
        method: 'POST',
        target: '/oauth2/token',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: form(),
      }),
    () =>
      request('token with Basic credentials', {
        method: 'POST',
        target: '/oauth2/token',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Authorization: basic() },
        body: 'grant_type=client_credentials',
      }),
    () =>
      request('token with a JSON body', {
        method: 'POST',
        target: '/oauth2/token',
        headers: { 'Content-Type': rng.pick(['application/json', 'text/plain', 'multipart/form-data; boundary=x']) },
        body: rng.pick(['{"grant_type":"client_credentials"}', '{', '[]', 'null']),
      }),
    () =>
      request('token body too large', {
        method: 'POST',
        target: '/oauth2/token',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: `scope=${'a'.repeat(rng.pick([16_400, 40_000, 300_000]))}`,
      }),
    () => {
      const end = rng.pick(['0\r\n\r\n', 'zz\r\n', '1\r\n=']);
      return {
        ...request('token chunked', {
          method: 'POST',
          target: '/oauth2/token',
          headers: { 'Transfer-Encoding': 'chunked' },
          body: `5\r\nscope\r\n${end}`,
        }),
        truncated: end === '1\r\n=',
      };
    },
    () =>
      request('wrong method', {
        method: rng.pick(['GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']),
        target: rng.pick(PATHS),
      }),
    () => request('query on a route', { method: rng.pick(['GET', 'POST']), target: `${rng.pick(PATHS)}?${form()}` }),
  ];
  return Array.from({ length: count }, () => rng.pick(makers)());
}

describe('auth-server under fuzzed requests', () => {
  it('answers 1,200 malformed requests below 500 without a stack trace, and stays healthy', async () => {
    const rng = new Rng(SEED);
    const requests = [...commonRequests(rng, PATHS, 600), ...tokenRequests(rng, 600)];
    const { failures } = await fuzz(lab.auth.port, requests);
    expect(failures, describeFailures(failures, SEED)).toEqual([]);
    expect(lab.auth.alive(), lab.auth.output()).toBe(true);
    expect((await fetch(`${lab.auth.url}/health`)).status).toBe(200);
  });
});
