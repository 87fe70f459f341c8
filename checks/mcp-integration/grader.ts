/**
 * What the mcp-integration checks share: where the services are, a valid token for the grader (so earlier
 * steps' checks keep passing once step 4 requires authentication), and the agent's transcript.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CheckContext } from '../../src/core/lab-definition.js';
import { signAccessToken } from '../../src/services/auth-server/credentials.js';

export const REQUIRED_SCOPE = 'docs:read';

/** Where the checker reaches the MCP endpoint. */
export const mcpEndpoint = (ctx: CheckContext) => new URL('/mcp', ctx.url('mcp-server'));
/** The MCP endpoint's identity: the resource (token audience) as the lab's agents know it. */
export const mcpResource = (ctx: CheckContext) => new URL('/mcp', ctx.serviceUrl('mcp-server'));
export const issuerOf = (ctx: CheckContext) => ctx.serviceUrl('auth-server').origin;

export function graderToken(ctx: CheckContext, overrides: { scope?: string; ttlSeconds?: number; audience?: string } = {}): Promise<string> {
  return signAccessToken(ctx.secretsDir, {
    issuer: issuerOf(ctx),
    audience: overrides.audience ?? mcpResource(ctx).href,
    subject: 'lab-grader',
    scope: overrides.scope ?? REQUIRED_SCOPE,
    ttlSeconds: overrides.ttlSeconds ?? 120,
  });
}

export async function graderHeaders(ctx: CheckContext): Promise<Record<string, string>> {
  return { authorization: `Bearer ${await graderToken(ctx)}` };
}

export interface TranscriptEntry {
  type: string;
  [key: string]: unknown;
}

/** Runs the agent (once per `lab check`: the context memoises jobs) and reads what it wrote. */
export async function agentRun(ctx: CheckContext): Promise<{ exitCode: number; output: string; entries: TranscriptEntry[] }> {
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
    .map((line) => JSON.parse(line) as TranscriptEntry);
  return { ...job, entries };
}

export function agentFailure(run: { output: string; entries: TranscriptEntry[] }): string {
  const error = run.entries.find((e) => e.type === 'error');
  if (error) return `the agent failed during ${String(error.stage)}: ${String(error.message)}`;
  const last = run.output.trim().split('\n').slice(-3).join(' | ');
  return `the agent wrote no transcript${last ? ` (output: ${last})` : ''}`;
}
