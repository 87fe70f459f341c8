import { fail, pass, type CheckContext, type CheckDefinition } from '../../src/core/lab-definition.js';
import { newTraceId, traceparent } from '../../src/services/audit/audit-entry.js';
import { IDS, spiffeId } from '../../labs/secure-agents/spire-layout.js';
import { mintSvid } from '../lib/spire.js';
import { tlsEndpoint, withMcpAs } from '../lib/mtls-probe.js';

const STEP3 = 'Complete step 3: the rules in policy/agents.rego, their tests in policy/agents_test.rego, and authorize() in mcp-server/guard.ts.';

export interface ProbeCall {
  as: string;
  collection: string;
  traceId: string;
  allowed: boolean;
  text: string;
}

/** search_documents as `spiffeId` (an SVID minted by the lab's SPIRE server) over mTLS; extra headers optional. */
export async function searchAs(ctx: CheckContext, spiffeId: string, collection: string, headers: Record<string, string> = {}): Promise<ProbeCall> {
  const svid = await mintSvid(ctx, spiffeId);
  const traceId = newTraceId();
  return withMcpAs(tlsEndpoint(ctx, 'mcp-server'), svid, IDS.mcpServer, { ...headers, traceparent: traceparent(traceId) }, async (client) => {
    const result = await client.callTool({ name: 'search_documents', arguments: { query: 'incident response runbook', top_k: 2, collection } });
    const text = (result.content as Array<{ text?: string }>).map((c) => c.text ?? '').join(' ');
    return { as: spiffeId, collection, traceId, allowed: !result.isError, text };
  });
}

/** The allow/deny matrix the course's policy must produce, end to end through the MCP server. */
export const MATRIX = [
  { as: IDS.research, collection: 'internal', allow: true },
  { as: IDS.research, collection: 'public', allow: true },
  { as: IDS.support, collection: 'public', allow: true },
  { as: IDS.support, collection: 'internal', allow: false },
  { as: IDS.unregistered, collection: 'public', allow: false },
];

export const policyMatrix: CheckDefinition = {
  id: 'policy-matrix',
  title: 'Per-agent policy end to end: research reads internal, support only public, an unregistered identity nothing',
  timeoutMs: 45_000,
  async run(ctx) {
    const results = [];
    for (const cell of MATRIX) results.push({ ...cell, got: await searchAs(ctx, cell.as, cell.collection) });
    const wrong = results.filter((r) => r.got.allowed !== r.allow);
    const short = (id: string) => id.replace(spiffeId(''), '');
    const table = results.map((r) => `${short(r.as)} on ${r.collection}: ${r.got.allowed ? 'allowed' : 'denied'}`).join('; ');
    if (wrong.length > 0) {
      const details = wrong.map((r) => `${short(r.as)} on ${r.collection} was ${r.got.allowed ? 'ALLOWED' : 'DENIED'} (expected ${r.allow ? 'allowed' : 'denied'})${r.got.allowed ? '' : `: ${r.got.text.slice(0, 140)}`}`);
      const nothingDenied = results.every((r) => r.got.allowed);
      return fail(
        `The policy is not enforced as required: ${details.join('; ')}.`,
        nothingDenied ? `Nothing was denied: authorize() in mcp-server/guard.ts must ask OPA. ${STEP3}` : `Compare your rules with the matrix (lab step 3); \`lab logs opa\` shows each decision with its input. ${STEP3}`,
        { matrix: table },
      );
    }
    return pass(`Matrix holds: ${table}.`);
  },
};

export const opaTests: CheckDefinition = {
  id: 'policy-opa-test',
  title: '`opa test` passes on policy/ with at least 5 tests',
  async run(ctx) {
    // --fail-on-empty: without it OPA 1.x exits 0 when there is not a single test.
    const result = await ctx.exec('opa', ['/opa', 'test', '--fail-on-empty', '/policy', '-v']);
    const summary = /PASS: (\d+)\/(\d+)/.exec(result.output);
    const passed = Number(summary?.[1] ?? 0);
    if (result.exitCode !== 0) {
      const failing = result.output.split('\n').filter((l) => /FAIL|ERROR|rego_/i.test(l)).slice(0, 4).join(' | ');
      return fail(`opa test failed (exit ${result.exitCode}): ${failing || result.output.trim().slice(0, 200) || 'no test cases found'}.`, `Write tests in policy/agents_test.rego (test_… if { … with input as … }) and make them pass. ${STEP3}`);
    }
    if (passed < 5) return fail(`opa test ran only ${passed} test(s).`, `Cover the matrix: research internal, support public, support internal (denied), unknown identity, null identity. ${STEP3}`);
    return pass(`opa test: ${passed}/${summary?.[2]} passed.`);
  },
};
