/** The parts of the learner tools that need no running lab: arguments, token decoding, the model endpoint choice. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/core/errors.js';
import { decodeJwt } from '../../src/commands/lab1-access.js';
import { parseArguments } from '../../src/commands/mcp.js';
import { modelFinding, probeModels, resolveModelEndpoint } from '../../src/commands/model-endpoint.js';

describe('lab mcp call arguments', () => {
  it('takes one JSON object and refuses anything else as a usage error', () => {
    expect(parseArguments('{"query":"x","top_k":2}')).toEqual({ query: 'x', top_k: 2 });
    for (const bad of ['{query: x}', '', '[1]', '"text"', 'null', '42'])
      expect(() => parseArguments(bad), bad).toThrow(UsageError);
  });
});

describe('decodeJwt', () => {
  it('shows the header and claims of a JWT and refuses what is not one', () => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(decodeJwt(`${part({ alg: 'EdDSA' })}.${part({ aud: 'x', exp: 1 })}.sig`)).toEqual({
      header: { alg: 'EdDSA' },
      claims: { aud: 'x', exp: 1 },
    });
    expect(() => decodeJwt('not-a-jwt')).toThrow(UsageError);
  });
});

describe('model endpoint', () => {
  it('prefers flags to the environment, reads the key from the named variable, and is absent when nothing is set', () => {
    expect(resolveModelEndpoint({})).toBeUndefined();
    const env = {
      OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1/',
      OPENAI_MODEL: 'qwen',
      OPENAI_API_KEY: 'k1',
      MY_KEY: 'k2',
    };
    expect(resolveModelEndpoint(env)).toEqual({
      baseUrl: 'http://127.0.0.1:11434/v1',
      model: 'qwen',
      apiKey: 'k1',
      apiKeyEnv: 'OPENAI_API_KEY',
      source: 'OPENAI_BASE_URL',
    });
    expect(resolveModelEndpoint(env, { baseUrl: 'http://h:1/v1', model: 'm', apiKeyEnv: 'MY_KEY' })).toMatchObject({
      baseUrl: 'http://h:1/v1',
      model: 'm',
      apiKey: 'k2',
      source: '--base-url',
    });
  });

  it('refuses a model without an endpoint, a base URL that is not http(s), and a key given in place of a variable name', () => {
    expect(() => resolveModelEndpoint({}, { model: 'm' })).toThrow(UsageError);
    expect(() => resolveModelEndpoint({ OPENAI_BASE_URL: 'file:///etc' })).toThrow(UsageError);
    expect(() => resolveModelEndpoint({ OPENAI_BASE_URL: 'nope' })).toThrow(UsageError);
    expect(() => resolveModelEndpoint({ OPENAI_BASE_URL: 'http://h/v1' }, { apiKeyEnv: 'sk-abc 123' })).toThrow(
      UsageError,
    );
  });

  it('lists the models an endpoint serves, and says when it does not answer', async () => {
    const server = createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ data: [{ id: 'a' }, { id: 'b' }] })),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    try {
      expect(await probeModels({ baseUrl: url, apiKeyEnv: 'X', source: 't' })).toEqual({
        reachable: true,
        models: ['a', 'b'],
      });
      expect(await modelFinding({ OPENAI_BASE_URL: url, OPENAI_MODEL: 'c' })).toMatchObject({
        status: 'warn',
        message: expect.stringContaining('models: a, b'),
      });
    } finally {
      server.close();
    }
    expect(await modelFinding({ OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' })).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('does not answer'),
    });
    expect(await modelFinding({})).toMatchObject({
      status: 'ok',
      message: expect.stringContaining('scripted planner'),
    });
  });
});
