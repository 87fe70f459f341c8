import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentOAuthProblem } from '../../checks/mcp-integration/agent-oauth.js';
import type { CheckContext } from '../../src/core/lab-definition.js';
import { CLIENTS_FILE, recordIssued, recordRequest } from '../../src/services/auth-server/credentials.js';

const RESOURCE = 'http://127.0.0.1:41234/mcp';
const CLIENT = 'agent-1a2b3c4d';
const TOKEN = 'eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhZ2VudCJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbi1mb3ItdGVzdHM';

/** A secrets folder as the auth-server leaves it, and the part of a check context the diagnosis reads. */
function run(records: (secrets: string) => void) {
  const secrets = mkdtempSync(path.join(tmpdir(), 'oauth-evidence-'));
  writeFileSync(
    path.join(secrets, CLIENTS_FILE),
    JSON.stringify([{ client_id: CLIENT, secret_sha256: 'x', scopes: [] }]),
  );
  const ctx = { secretsDir: secrets, serviceUrl: () => new URL('http://127.0.0.1:41234') } as unknown as CheckContext;
  const since = Date.now() - 1;
  records(secrets);
  return agentOAuthProblem(ctx, since);
}

const metadata = (s: string) =>
  recordRequest(s, {
    at: new Date().toISOString(),
    method: 'GET',
    path: '/.well-known/oauth-authorization-server',
    status: 200,
  });

describe("the agent's OAuth client, judged by the authorization server's records", () => {
  it('accepts discovery followed by a token for the MCP endpoint', () => {
    expect(
      run((s) => {
        metadata(s);
        recordIssued(s, CLIENT, TOKEN, RESOURCE);
        recordRequest(s, {
          at: new Date().toISOString(),
          method: 'POST',
          path: '/oauth2/token',
          status: 200,
          client_id: CLIENT,
          resource: RESOURCE,
        });
      }),
    ).toBeUndefined();
  });

  it('names each root cause', () => {
    expect(run(() => undefined)?.what).toMatch(/never looked for a token/);
    expect(
      run((s) => {
        metadata(s);
        recordRequest(s, { at: new Date().toISOString(), method: 'POST', path: '/token', status: 404 });
      })?.what,
    ).toMatch(/POST \/token \(HTTP 404\).*guessed, not read from its metadata/);
    expect(
      run((s) => {
        metadata(s);
        recordRequest(s, {
          at: new Date().toISOString(),
          method: 'POST',
          path: '/oauth2/token',
          status: 400,
          client_id: CLIENT,
          error: 'invalid_target',
        });
      })?.what,
    ).toMatch(/no resource parameter/);
    expect(
      run((s) => {
        recordIssued(s, CLIENT, TOKEN, RESOURCE);
        recordRequest(s, {
          at: new Date().toISOString(),
          method: 'POST',
          path: '/oauth2/token',
          status: 200,
          client_id: CLIENT,
          resource: RESOURCE,
        });
      })?.what,
    ).toMatch(/without reading the authorization server metadata/);
    expect(
      run((s) => {
        metadata(s);
        recordRequest(s, {
          at: new Date().toISOString(),
          method: 'POST',
          path: '/oauth2/token',
          status: 401,
          error: 'invalid_client',
        });
      })?.what,
    ).toMatch(/client id or secret/);
    expect(
      run((s) => {
        metadata(s);
        recordIssued(s, CLIENT, TOKEN, 'http://127.0.0.1:1/other');
      })?.what,
    ).toMatch(/issued for http:\/\/127.0.0.1:1\/other/);
  });
});
