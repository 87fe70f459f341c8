/**
 * Per-run credentials of the course's authorization server: an Ed25519 signing key and one confidential client
 * per agent. Created fresh on every lab start (never shipped, never logged), files mode 0600.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
// jose loads when a key is made or a token signed: lab.ts imports this module, and `lab status` never signs.
import type { JWK } from 'jose';
import { writeJsonAtomic } from '../../core/atomic-file.js';

export const SIGNING_KEY_FILE = 'issuer-signing-key.json';
export const CLIENTS_FILE = 'oauth-clients.json';
export const agentCredentialsFile = (agent: string) => `${agent}-client.json`;

export interface RegisteredClient {
  client_id: string;
  /** sha256 of the secret: the server never stores the secret itself. */
  secret_sha256: string;
  scopes: string[];
}

export interface ClientCredentials {
  client_id: string;
  client_secret: string;
}

export async function provisionCredentials(
  secretsDir: string,
  agents: Array<{ name: string; scopes: string[] }>,
): Promise<void> {
  mkdirSync(secretsDir, { recursive: true, mode: 0o700 });
  const { exportJWK, generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  const jwk = await exportJWK(privateKey);
  writeJsonAtomic(
    path.join(secretsDir, SIGNING_KEY_FILE),
    { ...jwk, alg: 'EdDSA', kid: randomBytes(8).toString('hex') },
    0o600,
  );
  const clients: RegisteredClient[] = [];
  for (const agent of agents) {
    const credentials: ClientCredentials = {
      client_id: `${agent.name}-${randomBytes(4).toString('hex')}`,
      client_secret: randomBytes(32).toString('base64url'),
    };
    writeJsonAtomic(path.join(secretsDir, agentCredentialsFile(agent.name)), credentials, 0o600);
    clients.push({
      client_id: credentials.client_id,
      secret_sha256: sha256(credentials.client_secret),
      scopes: agent.scopes,
    });
  }
  writeJsonAtomic(path.join(secretsDir, CLIENTS_FILE), clients, 0o600);
}

export function readJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

export function secretMatches(secret: string, expectedSha256: string): boolean {
  const a = Buffer.from(sha256(secret), 'hex');
  const b = Buffer.from(expectedSha256, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export function publicJwk(privateJwk: JWK): JWK {
  const { d: _private, ...rest } = privateJwk;
  return rest;
}

export interface TokenClaims {
  issuer: string;
  audience: string;
  subject: string;
  scope: string;
  /** Lifetime in seconds; negative for an already expired token (checks use that). */
  ttlSeconds: number;
}

/** Signs an access token (JWT, EdDSA) with the run's key: the authorization server and the graders share this. */
export async function signAccessToken(secretsDir: string, claims: TokenClaims): Promise<string> {
  const { importJWK, SignJWT } = await import('jose');
  const jwk = readJson<JWK>(path.join(secretsDir, SIGNING_KEY_FILE));
  const key = await importJWK(jwk, 'EdDSA');
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: claims.scope, client_id: claims.subject })
    .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer(claims.issuer)
    .setAudience(claims.audience)
    .setSubject(claims.subject)
    .setIssuedAt(Math.min(now, now + claims.ttlSeconds - 60))
    .setExpirationTime(now + claims.ttlSeconds)
    .setJti(randomBytes(12).toString('hex'))
    .sign(key);
}

/**
 * The issuance record graders read (secrets dir, 0600, runner-owned): who got a token for which resource, and its
 * signature segment, by which the leak checks recognise that token in logs, transcripts and tool results. The
 * signature alone is not a credential (it cannot be replayed without the header and payload it signs).
 */
const ISSUED_TOKENS_FILE = 'issued-tokens.jsonl';

export interface IssuedRecord {
  at: string;
  client_id: string;
  /** The RFC 8707 resource the token was issued for (its audience). */
  resource: string;
  signature: string;
}

export function recordIssued(secretsDir: string, clientId: string, token: string, resource: string): void {
  const record: IssuedRecord = {
    at: new Date().toISOString(),
    client_id: clientId,
    resource,
    signature: token.split('.')[2]!,
  };
  appendFileSync(path.join(secretsDir, ISSUED_TOKENS_FILE), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

export function issuedSignatures(secretsDir: string): IssuedRecord[] {
  return readRecords<IssuedRecord>(path.join(secretsDir, ISSUED_TOKENS_FILE));
}

/**
 * Every request the authorization server answered, with its outcome (secrets dir, 0600, runner-owned): the agent's
 * OAuth client is learner code, and this is the evidence of what it really did (which documents it read, where it
 * asked for a token, why a request was refused). Never a secret: no credentials, no tokens, no request bodies.
 */
const REQUESTS_FILE = 'auth-requests.jsonl';

export interface AuthRequestRecord {
  /** When the request arrived (not when it was answered: a document read comes before the token it led to). */
  at: string;
  method: string;
  path: string;
  status: number;
  /** The client that authenticated (or tried to), for token requests. */
  client_id?: string;
  /** The OAuth error code of a refusal (RFC 6749 5.2), e.g. invalid_target. */
  error?: string;
  /** The RFC 8707 resource parameter of a token request, as sent (absent when none was sent). */
  resource?: string;
}

export function recordRequest(secretsDir: string, record: AuthRequestRecord): void {
  appendFileSync(path.join(secretsDir, REQUESTS_FILE), `${JSON.stringify(record)}\n`, { mode: 0o600 });
}

export function authRequests(secretsDir: string): AuthRequestRecord[] {
  return readRecords<AuthRequestRecord>(path.join(secretsDir, REQUESTS_FILE));
}

function readRecords<T>(file: string): T[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as T);
  } catch {
    return [];
  }
}
