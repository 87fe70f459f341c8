import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { fail, pass, type CheckDefinition } from '../../src/core/lab-definition.js';
import { issuedSignatures } from '../../src/services/auth-server/credentials.js';
import { describeError, textOf, withMcpClient } from '../lib/mcp-client.js';
import { postRpc } from '../lib/http-probe.js';
import { agentClientSecret, agentRun, graderToken, indexRequests, mcpEndpoint, mintedSignatures } from './grader.js';

const JWT = /eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/;
const WINDOW = 24;
const STRIDE = 10;

/** The text plus every long base64, base64url or hex run in it decoded: encodings are not protection. */
function withDecodings(text: string): string[] {
  const out = [text];
  for (const [run] of text.matchAll(/[A-Za-z0-9+/_=-]{32,}/g)) {
    out.push(
      Buffer.from(run, 'base64').toString('latin1'),
      Buffer.from(run.replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('latin1'),
    );
    if (/^[0-9a-fA-F]+$/.test(run)) out.push(Buffer.from(run, 'hex').toString('latin1'));
  }
  return out;
}

/** Whether any WINDOW-long stretch of `secret` (taken every STRIDE characters) is in one of the texts. */
const containsPart = (variants: string[], secret: string) => {
  for (let at = 0; at + WINDOW <= secret.length; at += STRIDE) {
    const piece = secret.slice(at, at + WINDOW);
    if (variants.some((v) => v.includes(piece))) return true;
  }
  return false;
};

/**
 * Finds a token in any form: a whole JWT, or any stretch of a known token's signature (only the signature,
 * half of a split token), in the text or in its base64/hex decodings. Windows every STRIDE characters catch a
 * fragment as short as WINDOW + STRIDE - 1 characters. A client secret is looked for the same way (a logged
 * Basic header is its base64).
 */
export function findLeak(
  text: string,
  signatures: Iterable<string>,
  clientSecrets: Iterable<string> = [],
): string | undefined {
  const variants = withDecodings(text);
  if (variants.some((v) => JWT.test(v))) return 'a bearer token (JWT)';
  for (const sig of signatures) if (containsPart(variants, sig)) return "part of a token's signature";
  for (const secret of clientSecrets) if (containsPart(variants, secret)) return "the agent's OAuth client secret";
  return undefined;
}

const SKIP = new Set(['node_modules', 'secrets', 'logs', '.git', 'backups']);

function workspaceFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (at: string, depth: number) => {
    for (const entry of readdirSync(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory() && !SKIP.has(entry.name) && depth < 4) walk(full, depth + 1);
      else if (entry.isFile() && statSync(full).size < 2_000_000) found.push(full);
    }
  };
  walk(dir, 0);
  return found;
}

export const noTokenLeaks: CheckDefinition = {
  id: 'no-token-leaks',
  title:
    'No token or client secret, in any form, appears in logs, transcripts or tool results; no token reaches the index',
  timeoutMs: 45_000,
  async run(ctx) {
    const started = ctx.clock.now().getTime();
    const anonymous = await postRpc(mcpEndpoint(ctx), 'initialize', ctx.signal);
    if (anonymous.status !== 401)
      return fail(
        `Authentication is not enforced (an anonymous call got HTTP ${anonymous.status}): see check auth-no-token first.`,
        'Complete step 4 first.',
      );
    // Traffic of our own, with a token like the agent's, so the server has something to leak.
    const results: string[] = [];
    try {
      await withMcpClient(
        mcpEndpoint(ctx),
        { authorization: `Bearer ${await graderToken(ctx)}` },
        ctx.signal,
        async (client) => {
          await client.listTools();
          const search = (await client.callTool({
            name: 'search_documents',
            arguments: { query: 'bearer token audience', top_k: 3 },
          })) as CallToolResult;
          results.push(textOf(search), JSON.stringify(search.structuredContent ?? {}));
          const read = (await client.callTool({
            name: 'get_document',
            arguments: { id: 'mcp-007' },
          })) as CallToolResult;
          results.push(textOf(read), JSON.stringify(read.structuredContent ?? {}));
          const missing = (await client.callTool({
            name: 'get_document',
            arguments: { id: 'no-such-document-404' },
          })) as CallToolResult;
          results.push(textOf(missing));
          results.push(JSON.stringify(await client.listTools()));
        },
      );
    } catch (error) {
      return fail(
        `A valid token was not served, so leaks cannot be looked for: ${describeError(error)} (see check auth-valid-token).`,
        'Fix auth-valid-token first.',
      );
    }
    // Raw, to see response headers too (a debug header echoing the token is a leak).
    const raw = await postRpc(mcpEndpoint(ctx), 'tools/list', ctx.signal, { token: await graderToken(ctx) });
    results.push([...raw.headers].map(([k, v]) => `${k}: ${v}`).join('\n'), raw.body);
    const run = await agentRun(ctx);
    const signatures = new Set([
      ...mintedSignatures,
      ...issuedSignatures(ctx.secretsDir)
        .slice(-50)
        .map((r) => r.signature),
    ]);
    const clientSecret = agentClientSecret(ctx);
    const places: Array<[string, string]> = [];
    for (const service of ['mcp-server', 'rag-index', 'auth-server', 'agent'])
      places.push([`the ${service} log`, await ctx.logs(service)]);
    // Every other file in the workspace (transcripts, files learner code wrote), the secrets folder and older log sections aside.
    for (const file of workspaceFiles(ctx.workspaceDir))
      places.push([`the file ${path.relative(ctx.workspaceDir, file)}`, readFileSync(file, 'utf8')]);
    places.push(["the agent's output", run.output], ['a tool result', results.join('\n')]);
    for (const [where, text] of places) {
      const leak = findLeak(text, signatures, [clientSecret]);
      if (leak)
        return fail(
          `${where[0]!.toUpperCase()}${where.slice(1)} contains ${leak}.`,
          'Never log, print, echo or encode tokens, client secrets or Authorization headers (not even a part, not even base64); remove that code.',
        );
    }
    const forwarded = (await indexRequests(ctx, Math.min(started, run.since))).find((r) =>
      r.line.includes('CREDENTIALS FORWARDED'),
    );
    if (forwarded)
      return fail(
        `The MCP server forwarded credentials to the rag-index (${forwarded.line.split('CREDENTIALS FORWARDED: ')[1]}).`,
        "Never pass the client's token upstream (MCP spec: no token passthrough); call the index without an Authorization header.",
      );
    return pass(
      `No token or client secret appears in the logs, transcripts or tool results (${signatures.size} tokens looked for), and no token reached the index.`,
    );
  },
};

/** Paths a second endpoint tends to live at; the MCP endpoint itself and the metadata documents are not among them. */
const OTHER_PATHS = [
  '/',
  '/mcp/',
  '/mcp2',
  '/mcp-public',
  '/public',
  '/public/mcp',
  '/sse',
  '/messages',
  '/message',
  '/rpc',
  '/jsonrpc',
  '/api',
  '/api/mcp',
  '/v1/mcp',
  '/mcp/v1',
  '/search',
  '/api/search',
  '/v1/search',
  '/api/v1/search',
  '/query',
  '/api/query',
  '/mcp/search',
  '/search_documents',
  '/documents',
  '/api/documents',
  '/documents/mcp-001',
  '/api/documents/mcp-001',
  '/document',
  '/get_document',
  '/tools',
  '/api/tools',
  '/mcp/tools',
  '/debug',
  '/internal',
  '/status',
];

export const otherPathsProtected: CheckDefinition = {
  id: 'auth-other-paths',
  title: 'No other path of the server answers tool calls or searches without a token',
  async run(ctx) {
    const anonymous = await postRpc(mcpEndpoint(ctx), 'initialize', ctx.signal);
    if (anonymous.status !== 401)
      return fail(
        `Authentication is not enforced on /mcp (an anonymous call got HTTP ${anonymous.status}): see check auth-no-token first.`,
        'Complete step 4 first.',
      );
    const base = ctx.url('mcp-server');
    const open: string[] = [];
    for (const p of OTHER_PATHS) {
      const rpc = await postRpc(new URL(p, base), 'tools/call', ctx.signal).catch(() => undefined);
      const get = await fetch(new URL(`${p}?q=workload+attestation&query=workload+attestation&id=mcp-001`, base), {
        signal: ctx.signal,
      }).then(
        async (r) => ({ status: r.status, body: await r.text() }),
        () => undefined,
      );
      for (const [how, r] of [
        ['POST tools/call', rpc],
        ['GET', get],
      ] as const) {
        // A document id or a JSON-RPC result in a 2xx answer means data was served without a token.
        if (
          r &&
          r.status >= 200 &&
          r.status < 300 &&
          (/"result"\s*:/.test(r.body) || /\b(?:mcp|spiffe|opa|mtls|rag|platform)-\d{3}\b/.test(r.body))
        )
          open.push(`${how} ${p}`);
      }
    }
    if (open.length > 0)
      return fail(
        `These paths answered without a token: ${open.join(', ')}. Every endpoint that reaches the index must require the same token as /mcp.`,
        'Remove the extra endpoint, or put the same guard in front of it.',
      );
    return pass(`${OTHER_PATHS.length} other paths serve no data without a token.`);
  },
};
