/**
 * What the mcp-integration checks share: where the services are, tokens for the grader (so earlier steps'
 * checks keep passing once step 4 requires authentication), the agent's run and the runner-owned evidence of
 * what really happened (the auth-server's issuance and request records, the rag-index request log).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
// jose loads when a token is signed: lab.ts imports this module, and `lab status` never signs.
import type { JWK } from 'jose';
import type { CheckContext } from '../../src/core/lab-definition.js';
import {
  agentCredentialsFile,
  authRequests,
  CLIENTS_FILE,
  issuedSignatures,
  readJson,
  SIGNING_KEY_FILE,
  type AuthRequestRecord,
  type ClientCredentials,
  type IssuedRecord,
  type RegisteredClient,
} from '../../src/services/auth-server/credentials.js';
import { lastLines } from '../../src/core/text.js';

/** The scope the lab's agent is provisioned with and the learner's server requires (its own REQUIRED_SCOPES). */
export const REQUIRED_SCOPE = 'docs:read';
/** As the auth-server issues them: a grader token must not be told apart from the agent's by its lifetime. */
const TOKEN_TTL_SECONDS = 600;

/** Where the checker reaches the MCP endpoint. */
export const mcpEndpoint = (ctx: CheckContext) => new URL('/mcp', ctx.url('mcp-server'));
/** The MCP endpoint's identity: the resource (token audience) as the lab's agents know it. */
export const mcpResource = (ctx: CheckContext) => new URL('/mcp', ctx.serviceUrl('mcp-server'));
export const issuerOf = (ctx: CheckContext) => ctx.serviceUrl('auth-server').origin;

/** The agent's OAuth client id: grader tokens carry it too, so a server cannot treat the grader differently. */
export function agentClientId(ctx: CheckContext): string {
  return readJson<RegisteredClient[]>(path.join(ctx.secretsDir, CLIENTS_FILE))[0]!.client_id;
}

/** Signature segments of every token this grader process minted: the leak checks look for them. */
export const mintedSignatures = new Set<string>();

export interface TokenOverrides {
  scope?: string;
  ttlSeconds?: number;
  audience?: string;
  issuer?: string;
  /** Seconds from now before which the token is not valid (nbf). */
  notBeforeIn?: number;
}

/** A token exactly like the auth-server's (same key, claims, subject and lifetime), with overrides for negative probes. */
export async function graderToken(ctx: CheckContext, overrides: TokenOverrides = {}): Promise<string> {
  const jwk = readJson<JWK>(path.join(ctx.secretsDir, SIGNING_KEY_FILE));
  const { importJWK, SignJWT } = await import('jose');
  const key = await importJWK(jwk, 'EdDSA');
  const clientId = agentClientId(ctx);
  const now = Math.floor(ctx.clock.now().getTime() / 1000);
  const ttl = overrides.ttlSeconds ?? TOKEN_TTL_SECONDS;
  const jwt = new SignJWT({ scope: overrides.scope ?? REQUIRED_SCOPE, client_id: clientId })
    .setProtectedHeader({ alg: 'EdDSA', kid: jwk.kid, typ: 'at+jwt' })
    .setIssuer(overrides.issuer ?? issuerOf(ctx))
    .setAudience(overrides.audience ?? mcpResource(ctx).href)
    .setSubject(clientId)
    .setIssuedAt(Math.min(now, now + ttl - 60))
    .setExpirationTime(now + ttl)
    .setJti(randomBytes(12).toString('hex'));
  if (overrides.notBeforeIn !== undefined) jwt.setNotBefore(now + overrides.notBeforeIn);
  const token = await jwt.sign(key);
  mintedSignatures.add(token.split('.')[2]!);
  return token;
}

export async function graderHeaders(ctx: CheckContext): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await graderToken(ctx)}` };
}

export interface TranscriptEntry {
  type: string;
  [key: string]: unknown;
}

export interface AgentRun {
  exitCode: number;
  output: string;
  entries: TranscriptEntry[];
  /** When the grader asked for the run (issuance and index evidence must be at least this recent). */
  since: number;
}

/** Runs the agent (once per `lab check`: the context memoises jobs) and reads what it wrote. */
export async function agentRun(ctx: CheckContext): Promise<AgentRun> {
  const job = await ctx.runJob('agent');
  let text = '';
  try {
    text = readFileSync(path.join(ctx.workspaceDir, '.lab', 'transcripts', 'agent.jsonl'), 'utf8');
  } catch {
    /* no transcript: reported by the checks */
  }
  const entries = text
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as TranscriptEntry];
      } catch {
        return [];
      }
    });
  return {
    exitCode: job.exitCode,
    output: job.output,
    entries,
    since: job.startedAt ?? ctx.clock.now().getTime() - 60_000,
  };
}

export function agentFailure(run: { exitCode?: number; output: string; entries: TranscriptEntry[] }): string {
  const error = run.entries.find((e) => e.type === 'error');
  if (error) return `the agent failed during ${String(error.stage)}: ${String(error.message)}`;
  const last = lastLines(run.output, 3).join(' | ');
  if (run.exitCode !== undefined && run.exitCode !== 0)
    return `the agent exited with status ${run.exitCode}${last ? ` (output: ${last})` : ''}`;
  return `the agent wrote no usable transcript${last ? ` (output: ${last})` : ''}`;
}

export interface IndexRequest {
  at: number;
  url: URL;
  line: string;
}

/**
 * The rag-index's own request log (runner code): what the MCP server really asked for, from `since` (epoch
 * ms) on. The index is not restarted between grading passes, so older lines belong to earlier solutions.
 */
export async function indexRequests(ctx: CheckContext, since: number): Promise<IndexRequest[]> {
  const log = await ctx.logs('rag-index');
  // Each line may begin with the log stamp's ISO time (src/services/logging/log-stamp.ts).
  return (
    [...log.matchAll(/^(?:\d{4}-\d\d-\d\dT[\d:.]+Z )?rag-index request at (\S+): [A-Z]+ ("(?:[^"\\]|\\.)*").*$/gm)]
      .map((m) => ({
        at: Date.parse(m[1]!.replace(/:$/, '')),
        url: new URL(JSON.parse(m[2]!) as string, 'http://index'),
        line: m[0],
      }))
      // No slack before `since`: one host clock stamps both, and a line from just before this pass is an earlier
      // solution's (the mutant runner grades the next entry within a second of the last).
      .filter((r) => r.at >= since)
  );
}

/** Tokens the auth-server issued to the agent at or after `since` (its issuance record, runner-owned). */
export function issuedToAgentSince(ctx: CheckContext, since: number): IssuedRecord[] {
  const agent = agentClientId(ctx);
  return issuedSignatures(ctx.secretsDir).filter((r) => r.client_id === agent && Date.parse(r.at) >= since - 1000);
}

/**
 * What the auth-server answered at or after `since` (its request record, runner-owned; health polls aside). No
 * slack before `since`: the MCP server reads the authorization server's metadata as it starts, just before.
 */
export function authRequestsSince(ctx: CheckContext, since: number): AuthRequestRecord[] {
  return authRequests(ctx.secretsDir).filter((r) => Date.parse(r.at) >= since);
}

/** The agent's client secret for this run: the leak checks look for it as they look for tokens. */
export function agentClientSecret(ctx: CheckContext): string {
  return readJson<ClientCredentials>(path.join(ctx.secretsDir, agentCredentialsFile('agent'))).client_secret;
}
