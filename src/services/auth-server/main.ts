/**
 * auth-server: the lab's OAuth 2.1 authorization server, client credentials grant only.
 *   GET  /.well-known/oauth-authorization-server  (RFC 8414 metadata)
 *   GET  /jwks.json                               (public signing key)
 *   POST /oauth2/token  grant_type=client_credentials, client auth (post or basic), scope, resource (RFC 8707)
 * Tokens are audience-bound JWTs that expire after $TOKEN_TTL_SECONDS. Nothing secret is ever logged. Every request
 * and its outcome goes to a record in the secrets folder: the graders' evidence of what the agent's client did.
 * The token endpoint is not at the conventional /token on purpose: a client finds it in the metadata, or not at all.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { JWK } from 'jose';
import { createJsonServer, decodeComponent, HttpError, jsonListener, readBody, sendJson } from '../http/json-http.js';
import {
  CLIENTS_FILE,
  publicJwk,
  recordIssued,
  recordRequest,
  readJson,
  secretMatches,
  signAccessToken,
  SIGNING_KEY_FILE,
  type RegisteredClient,
} from './credentials.js';
import { serviceEnv } from '../env.js';

const env = serviceEnv('auth-server');

const host = env('HOST', '127.0.0.1');
const port = Number(env('PORT'));
const issuer = env('PUBLIC_URL', `http://127.0.0.1:${port}`).replace(/\/$/, '');
const secretsDir = env('SECRETS_DIR');
const resources = env('ALLOWED_RESOURCES')
  .split(',')
  .map((r) => r.trim());
const ttlSeconds = Number(env('TOKEN_TTL_SECONDS', '600'));
const clients = readJson<RegisteredClient[]>(path.join(secretsDir, CLIENTS_FILE));
const jwks = { keys: [publicJwk(readJson<JWK>(path.join(secretsDir, SIGNING_KEY_FILE)))] };
const TOKEN_PATH = '/oauth2/token';

// RFC 8414. This server has no authorization endpoint in use (client credentials only), yet it names one: the
// official SDKs' metadata models require `authorization_endpoint` (the Python SDK drops a document without it
// and then finds no authorization server at all). The endpoint refuses every request with an OAuth error, and
// `response_types_supported` is empty: no response type is offered there.
const metadata = {
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}${TOKEN_PATH}`,
  jwks_uri: `${issuer}/jwks.json`,
  grant_types_supported: ['client_credentials'],
  token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
  scopes_supported: [...new Set(clients.flatMap((c) => c.scopes))],
  response_types_supported: [] as string[],
};

class OAuthError extends HttpError {
  constructor(
    status: number,
    readonly code: string,
    description: string,
  ) {
    super(status, description);
  }
}

const FORM_LIMIT_BYTES = 16_384;

/** RFC 6749 2.3.1: client id and secret are form-encoded, then joined by the first ':' and base64-encoded. */
function basicCredentials(header: string | undefined): { clientId: string; secret: string } | undefined {
  const scheme = /^Basic(?: +(.*))?$/is.exec(header ?? '');
  if (!scheme) return undefined;
  const malformed = new OAuthError(
    400,
    'invalid_request',
    'the Basic credentials must be base64 of "<client_id>:<client_secret>", each form-encoded',
  );
  const token = scheme[1]?.trim() ?? '';
  if (!/^[A-Za-z0-9+/_-]+=*$/.test(token)) throw malformed;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const formDecode = (value: string) => decodeComponent(value.replace(/\+/g, ' '));
  const clientId = formDecode(decoded.slice(0, colon));
  const secret = formDecode(decoded.slice(colon + 1));
  if (colon < 0 || clientId === undefined || secret === undefined) throw malformed;
  return { clientId, secret };
}

/** What each token request came to, for the request record (written when the response is sent). */
const outcomes = new WeakMap<ServerResponse, { client_id?: string; error?: string; resource?: string }>();

async function issueToken(req: IncomingMessage, res: ServerResponse) {
  const outcome: { client_id?: string; error?: string; resource?: string } = {};
  outcomes.set(res, outcome);
  const form = new URLSearchParams(await readBody(req, FORM_LIMIT_BYTES));
  const basic = basicCredentials(req.headers.authorization);
  const clientId = basic ? basic.clientId : form.get('client_id');
  const secret = basic ? basic.secret : form.get('client_secret');
  if (clientId) outcome.client_id = clientId;
  if (form.has('resource')) outcome.resource = form.get('resource')!.slice(0, 300);
  const client = clients.find((c) => c.client_id === clientId);
  if (!client || !secret || !secretMatches(secret, client.secret_sha256))
    throw new OAuthError(401, 'invalid_client', 'unknown client or wrong secret');
  if (form.get('grant_type') !== 'client_credentials')
    throw new OAuthError(400, 'unsupported_grant_type', 'only client_credentials is supported');
  const resource = form.get('resource');
  if (!resource || !resources.includes(resource))
    throw new OAuthError(400, 'invalid_target', `resource must be one of: ${resources.join(', ')}`);
  const requested = (form.get('scope') ?? client.scopes.join(' ')).split(' ').filter(Boolean);
  if (requested.some((s) => !client.scopes.includes(s)))
    throw new OAuthError(400, 'invalid_scope', `this client may request: ${client.scopes.join(' ')}`);
  const scope = requested.join(' ');
  const accessToken = await signAccessToken(secretsDir, {
    issuer,
    audience: resource,
    subject: client.client_id,
    scope,
    ttlSeconds,
  });
  try {
    recordIssued(secretsDir, client.client_id, accessToken, resource);
  } catch (error) {
    console.log(`could not record the issuance for the graders: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  console.log(`token issued to ${client.client_id} for ${resource} (scope ${scope})`);
  return { access_token: accessToken, token_type: 'Bearer', expires_in: ttlSeconds, scope };
}

/** OAuth errors as RFC 6749 5.2 bodies; a body that cannot be read is invalid_request like any other bad request. */
function refuse(res: ServerResponse, error: unknown): void {
  if (!(error instanceof HttpError)) throw error;
  const e = error instanceof OAuthError ? error : new OAuthError(error.status, 'invalid_request', error.message);
  const outcome = outcomes.get(res);
  if (outcome) outcome.error = e.code;
  console.log(`token request refused: ${e.code} (${e.message})`);
  sendJson(res, e.status, { error: e.code, error_description: e.message });
}

const routes: Record<
  string,
  { method: string; answer: (req: IncomingMessage, res: ServerResponse) => void | Promise<void> }
> = {
  '/health': { method: 'GET', answer: (_req, res) => sendJson(res, 200, { status: 'ok' }) },
  '/.well-known/oauth-authorization-server': { method: 'GET', answer: (_req, res) => sendJson(res, 200, metadata) },
  '/jwks.json': { method: 'GET', answer: (_req, res) => sendJson(res, 200, jwks) },
  '/authorize': {
    method: 'GET',
    answer: (_req, res) =>
      sendJson(res, 400, {
        error: 'unsupported_response_type',
        error_description: `this authorization server issues tokens only by the client credentials grant, at ${TOKEN_PATH}`,
      }),
  },
  [TOKEN_PATH]: {
    method: 'POST',
    answer: (req, res) =>
      issueToken(req, res).then(
        (token) => sendJson(res, 200, token),
        (error: unknown) => refuse(res, error),
      ),
  },
};

function record(req: IncomingMessage, res: ServerResponse, url: URL, at: string): void {
  try {
    recordRequest(secretsDir, {
      at,
      method: req.method ?? '?',
      path: url.pathname.slice(0, 200),
      status: res.statusCode,
      ...outcomes.get(res),
    });
  } catch (error) {
    console.log(`could not record a request for the graders: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

const server = createJsonServer(
  jsonListener('auth-server', (req, res, url) => {
    // Health polls are the runner's own; everything else may be the agent's.
    const arrived = new Date().toISOString();
    if (url.pathname !== '/health') res.on('finish', () => record(req, res, url, arrived));
    const route = Object.hasOwn(routes, url.pathname) ? routes[url.pathname]! : undefined;
    if (!route) return sendJson(res, 404, { error: 'not_found' });
    if (req.method !== route.method)
      return sendJson(
        res,
        405,
        { error: 'method_not_allowed', error_description: `use ${route.method}` },
        { allow: route.method },
      );
    return route.answer(req, res);
  }),
);

server.listen(port, host, () =>
  console.log(`auth-server listening on ${issuer} (bound to ${host}:${port}; ${clients.length} clients)`),
);
const shutdown = () => server.close(() => process.exit(0));
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
