/**
 * The reference MCP server over Streamable HTTP, as real processes with the real authorization server and
 * index, driven by the reference agent connect(), whose SDK OAuth client gets its token by the client credentials grant.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect } from '../../src/services/agent/connect.js';
import {
  agentCredentialsFile,
  authRequests,
  issuedSignatures,
  provisionCredentials,
  signAccessToken,
} from '../../src/services/auth-server/credentials.js';
import { freePort } from '../../src/runtimes/port-check.js';
import { startService } from '../helpers/service-process.js';

const dir = mkdtempSync(path.join(tmpdir(), 'mcp-http-'));
const secrets = path.join(dir, 'secrets');
const stops: Array<() => void> = [];
let endpoint: URL;
let issuer: string;
let mcpLog: () => string;

beforeAll(async () => {
  mkdirSync(path.join(dir, 'corpus', 'public'), { recursive: true });
  for (const [id, title] of [
    ['mtls-001', 'Mutual TLS handshakes'],
    ['opa-001', 'Default deny in Rego'],
  ]) {
    writeFileSync(
      path.join(dir, 'corpus', 'public', `${id}.md`),
      `---\nid: ${id}\ntitle: ${title}\ncollection: public\ntags: [x]\n---\n${title} explained. `.repeat(3),
    );
  }
  writeFileSync(path.join(dir, 'collections.ts'), "export const collections = [{ name: 'public', dir: 'public' }];\n");
  await provisionCredentials(secrets, [{ name: 'agent', scopes: ['docs:read'] }]);
  const mcpPort = await freePort();
  endpoint = new URL(`http://127.0.0.1:${mcpPort}/mcp`);
  const auth = await startService('src/services/auth-server/main.ts', {
    SECRETS_DIR: secrets,
    ALLOWED_RESOURCES: endpoint.href,
  });
  issuer = auth.url;
  const index = await startService('src/services/rag-index/main.ts', {
    CORPUS_DIR: path.join(dir, 'corpus'),
    COLLECTIONS_MODULE: path.join(dir, 'collections.ts'),
  });
  const mcp = await startService(
    'src/services/mcp-search-server/server.ts',
    { RAG_INDEX_URL: index.url, AUTH_ISSUER: issuer },
    mcpPort,
  );
  mcpLog = mcp.output;
  stops.push(auth.stop, index.stop, mcp.stop);
});
afterAll(() => {
  for (const stop of stops) stop();
});

const post = (token?: string) =>
  fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });

describe('MCP server over HTTP with OAuth', () => {
  it('serves the reference agent, whose OAuth client discovers the authorization server on the 401 and asks for a token for this resource', async () => {
    const credentials = JSON.parse(readFileSync(path.join(secrets, agentCredentialsFile('agent')), 'utf8'));
    const client = await connect({
      serverUrl: endpoint,
      oauthClient: { clientId: credentials.client_id, clientSecret: credentials.client_secret, issuer },
    });
    const result = (await client.callTool({
      name: 'search_documents',
      arguments: { query: 'mutual tls' },
    })) as CallToolResult;
    expect((result.structuredContent as { results: Array<{ id: string }> }).results[0]!.id).toBe('mtls-001');
    await client.close();
    // The authorization server's own record: the discovery documents, then one token for this resource.
    const seen = authRequests(secrets).map((r) => `${r.method} ${r.path} ${r.status}`);
    expect(seen).toContain('GET /.well-known/oauth-authorization-server 200');
    expect(seen).toContain('POST /oauth2/token 200');
    const issued = issuedSignatures(secrets).filter((r) => r.client_id === credentials.client_id);
    expect(issued.map((r) => r.resource)).toEqual([endpoint.href]);
    expect(mcpLog()).not.toContain(issued[0]!.signature);
  });

  it('answers 401 with resource_metadata without a token, and serves that metadata', async () => {
    const response = await post();
    expect(response.status).toBe(401);
    const header = response.headers.get('www-authenticate')!;
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(header)![1]!;
    const metadata = await (await fetch(metadataUrl)).json();
    expect(metadata).toMatchObject({
      resource: endpoint.href,
      authorization_servers: [issuer],
      scopes_supported: ['docs:read'],
    });
  });

  it('refuses expired and wrong-audience tokens with 401 and a missing scope with 403', async () => {
    const sign = (o: { audience?: string; scope?: string; ttlSeconds?: number }) =>
      signAccessToken(secrets, {
        issuer,
        audience: o.audience ?? endpoint.href,
        subject: 't',
        scope: o.scope ?? 'docs:read',
        ttlSeconds: o.ttlSeconds ?? 60,
      });
    expect((await post(await sign({ ttlSeconds: -60 }))).status).toBe(401);
    expect((await post(await sign({ audience: 'http://127.0.0.1:1/mcp' }))).status).toBe(401);
    const scoped = await post(await sign({ scope: 'profile' }));
    expect(scoped.status).toBe(403);
    expect(scoped.headers.get('www-authenticate')).toContain('insufficient_scope');
    expect((await post(await sign({}))).status).toBe(200);
  });

  it('refuses token requests for another resource or a scope the client lacks', async () => {
    const credentials = JSON.parse(readFileSync(path.join(secrets, agentCredentialsFile('agent')), 'utf8'));
    const request = (extra: Record<string, string>) =>
      fetch(`${issuer}/oauth2/token`, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_id: credentials.client_id,
          client_secret: credentials.client_secret,
          ...extra,
        }),
      });
    expect((await (await request({ resource: 'http://elsewhere/mcp' })).json()).error).toBe('invalid_target');
    expect((await (await request({ resource: endpoint.href, scope: 'admin' })).json()).error).toBe('invalid_scope');
    expect((await request({ resource: endpoint.href, client_secret: 'wrong' })).status).toBe(401);
  });
});
