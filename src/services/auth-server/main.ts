/**
 * auth-server: the lab's OAuth 2.1 authorization server, client credentials grant only.
 *   GET  /.well-known/oauth-authorization-server  (RFC 8414 metadata)
 *   GET  /jwks.json                               (public signing key)
 *   POST /token  grant_type=client_credentials, client auth (post or basic), scope, resource (RFC 8707)
 * Tokens are audience-bound JWTs that expire after $TOKEN_TTL_SECONDS. Nothing secret is ever logged.
 */
import { createServer, type IncomingMessage } from 'node:http';
import path from 'node:path';
import type { JWK } from 'jose';
import { CLIENTS_FILE, publicJwk, recordIssued, readJson, secretMatches, signAccessToken, SIGNING_KEY_FILE, type RegisteredClient } from './credentials.js';

const env = (name: string, fallback?: string) => {
  const value = process.env[name] ?? fallback;
  if (!value) throw new Error(`auth-server: environment variable ${name} is required`);
  return value;
};

const host = env('HOST', '127.0.0.1');
const port = Number(env('PORT'));
const issuer = env('PUBLIC_URL', `http://127.0.0.1:${port}`).replace(/\/$/, '');
const secretsDir = env('SECRETS_DIR');
const resources = env('ALLOWED_RESOURCES').split(',').map((r) => r.trim());
const ttlSeconds = Number(env('TOKEN_TTL_SECONDS', '600'));
const clients = readJson<RegisteredClient[]>(path.join(secretsDir, CLIENTS_FILE));
const jwks = { keys: [publicJwk(readJson<JWK>(path.join(secretsDir, SIGNING_KEY_FILE)))] };

const metadata = {
  issuer,
  token_endpoint: `${issuer}/token`,
  jwks_uri: `${issuer}/jwks.json`,
  grant_types_supported: ['client_credentials'],
  token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
  scopes_supported: [...new Set(clients.flatMap((c) => c.scopes))],
  response_types_supported: ['token'],
};

class OAuthError extends Error {
  constructor(readonly status: number, readonly code: string, description: string) {
    super(description);
  }
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 16_384) throw new OAuthError(413, 'invalid_request', 'request body too large');
  }
  return new URLSearchParams(body);
}

async function issueToken(req: IncomingMessage) {
  const form = await readForm(req);
  let clientId = form.get('client_id');
  let secret = form.get('client_secret');
  const basic = /^Basic (.+)$/i.exec(req.headers.authorization ?? '');
  if (basic) [clientId, secret] = Buffer.from(basic[1]!, 'base64').toString().split(':').map(decodeURIComponent) as [string, string];
  const client = clients.find((c) => c.client_id === clientId);
  if (!client || !secret || !secretMatches(secret, client.secret_sha256)) throw new OAuthError(401, 'invalid_client', 'unknown client or wrong secret');
  if (form.get('grant_type') !== 'client_credentials') throw new OAuthError(400, 'unsupported_grant_type', 'only client_credentials is supported');
  const resource = form.get('resource');
  if (!resource || !resources.includes(resource)) throw new OAuthError(400, 'invalid_target', `resource must be one of: ${resources.join(', ')}`);
  const requested = (form.get('scope') ?? client.scopes.join(' ')).split(' ').filter(Boolean);
  if (requested.some((s) => !client.scopes.includes(s))) throw new OAuthError(400, 'invalid_scope', `this client may request: ${client.scopes.join(' ')}`);
  const scope = requested.join(' ');
  const accessToken = await signAccessToken(secretsDir, { issuer, audience: resource, subject: client.client_id, scope, ttlSeconds });
  try {
    recordIssued(secretsDir, client.client_id, accessToken);
  } catch (error) {
    console.log(`could not record the issuance for the graders: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  console.log(`token issued to ${client.client_id} for ${resource} (scope ${scope})`);
  return { access_token: accessToken, token_type: 'Bearer', expires_in: ttlSeconds, scope };
}

const server = createServer((req, res) => {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(body));
  };
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method === 'GET' && url.pathname === '/health') return send(200, { status: 'ok' });
  if (req.method === 'GET' && url.pathname === '/.well-known/oauth-authorization-server') return send(200, metadata);
  if (req.method === 'GET' && url.pathname === '/jwks.json') return send(200, jwks);
  if (req.method === 'POST' && url.pathname === '/token') {
    issueToken(req).then(
      (token) => send(200, token),
      (error: unknown) => {
        const e = error instanceof OAuthError ? error : new OAuthError(500, 'server_error', 'token issuance failed');
        console.log(`token request refused: ${e.code}`);
        send(e.status, { error: e.code, error_description: e.message });
      },
    );
    return;
  }
  send(404, { error: 'not_found' });
});

server.listen(port, host, () => console.log(`auth-server listening on ${issuer} (bound to ${host}:${port}; ${clients.length} clients)`));
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
