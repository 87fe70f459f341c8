/** Tool calls the checker makes through the lab's MCP server, as any identity the lab's SPIRE server can mint. */
import type { CheckContext } from '../../src/core/lab-definition.js';
import { newTraceId, traceparent } from '../../src/services/audit/audit-entry.js';
import type { X509Svid } from '../../src/services/identity/workload-api-client.js';
import { IDS, spiffeId } from '../../labs/secure-agents/spire-layout.js';
import { mintSvid } from '../lib/spire.js';
import { tlsEndpoint, withMcpAs } from '../lib/mtls-probe.js';

export interface ProbeCall {
  as: string;
  tool: string;
  args: Record<string, unknown>;
  /** The collection the server decides on: the search's filter, "*" without one, a document's own. */
  collection: string;
  traceId: string;
  allowed: boolean;
  text: string;
}

/** Ground truth from fixtures/corpus: one document of each collection. */
export const DOCUMENTS = { internal: 'mcp-011', public: 'mcp-001' } as const;
const QUERY = 'incident response runbook';

/** An identity in the lab's trust domain that merely starts like research's: a prefix match would let it in. */
export const IMPOSTOR = `${IDS.research}-impostor`;

export const short = (id: string) => id.replace(spiffeId(''), '');

export type CallSpec =
  | { tool: 'search_documents'; collection: string | null }
  | { tool: 'get_document'; collection: keyof typeof DOCUMENTS };

function argsOf(spec: CallSpec): Record<string, unknown> {
  if (spec.tool === 'get_document') return { id: DOCUMENTS[spec.collection] };
  return { query: QUERY, top_k: 2, ...(spec.collection ? { collection: spec.collection } : {}) };
}

/** One tool call as `who` (a minted SVID, or an ID to mint one for) over mTLS; extra headers optional. */
export async function callAs(
  ctx: CheckContext,
  who: string | X509Svid,
  spec: CallSpec,
  headers: Record<string, string> = {},
): Promise<ProbeCall> {
  const svid = typeof who === 'string' ? await mintSvid(ctx, who) : who;
  const traceId = newTraceId();
  const args = argsOf(spec);
  return withMcpAs(
    tlsEndpoint(ctx, 'mcp-server'),
    svid,
    IDS.mcpServer,
    { ...headers, traceparent: traceparent(traceId) },
    async (client) => {
      const result = await client.callTool({ name: spec.tool, arguments: args });
      const text = (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join(' ');
      return {
        as: svid.spiffeId,
        tool: spec.tool,
        args,
        collection: spec.collection ?? '*',
        traceId,
        allowed: !result.isError,
        text,
      };
    },
  );
}

/**
 * A call the server denied only because OPA did not answer in time (fail closed, as it must) says nothing about
 * the policy: on a loaded machine ask once more before judging.
 */
export async function callDecided(
  ctx: CheckContext,
  who: string | X509Svid,
  spec: CallSpec,
  headers: Record<string, string> = {},
): Promise<ProbeCall> {
  const first = await callAs(ctx, who, spec, headers);
  return !first.allowed && /policy unavailable: no answer from OPA/.test(first.text)
    ? callAs(ctx, who, spec, headers)
    : first;
}

/** Runs `work` over `items` at most `width` at a time (OPA and the MCP server share two cores with everything else). */
export async function inBatches<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]!);
    }),
  );
  return results;
}

/** Mints each identity once for a check that calls as it several times. */
export async function mintAll(ctx: CheckContext, ids: string[]): Promise<Map<string, X509Svid>> {
  return new Map(await Promise.all(ids.map(async (id) => [id, await mintSvid(ctx, id)] as const)));
}
