import { fail, pass, type CheckContext, type CheckDefinition } from '../../src/core/lab-definition.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import { callAs, callDecided, IMPOSTOR, inBatches, mintAll, short, type CallSpec, type ProbeCall } from './calls.js';
import {
  coursePolicy,
  FAULTS,
  OBEYS,
  probeGuard,
  SPOOF_HEADERS,
  SPOOFED,
  type ScenarioVerdict,
} from './guard-probe.js';
import { wrongPolicies } from './wrong-policies.js';

const STEP3 =
  'Complete step 3: the rules in policy/agents.rego, their tests in policy/agents_test.rego, and authorize() in mcp-server/guard.ts.';

export type { ProbeCall } from './calls.js';

/** search_documents as `spiffeId` over mTLS (kept for the e2e tests): see callAs for any tool. */
export function searchAs(
  ctx: CheckContext,
  spiffeId: string,
  collection: string,
  headers: Record<string, string> = {},
): Promise<ProbeCall> {
  return callAs(ctx, spiffeId, { tool: 'search_documents', collection }, headers);
}

/** Every identity the policy is asked about, with every tool and collection: what OPA itself decides. */
const IDENTITIES: Array<string | null> = [
  IDS.research,
  IDS.support,
  IDS.unregistered,
  IMPOSTOR,
  'spiffe://evil.example/agent/research',
  null,
];
const TOOLS = ['search_documents', 'get_document', 'delete_document'];
const COLLECTIONS = ['public', 'internal', '*'];

/** The same matrix through the MCP server: the guard, the server's collection and OPA together. */
const END_TO_END: Array<{ as: string; spec: CallSpec }> = [
  { as: IDS.research, spec: { tool: 'search_documents', collection: 'internal' } },
  { as: IDS.research, spec: { tool: 'search_documents', collection: null } },
  { as: IDS.research, spec: { tool: 'get_document', collection: 'internal' } },
  { as: IDS.support, spec: { tool: 'search_documents', collection: 'public' } },
  { as: IDS.support, spec: { tool: 'search_documents', collection: 'internal' } },
  { as: IDS.support, spec: { tool: 'search_documents', collection: null } },
  { as: IDS.support, spec: { tool: 'get_document', collection: 'public' } },
  { as: IDS.support, spec: { tool: 'get_document', collection: 'internal' } },
  { as: IDS.unregistered, spec: { tool: 'search_documents', collection: 'public' } },
  { as: IMPOSTOR, spec: { tool: 'search_documents', collection: 'public' } },
];

const describeCall = (as: string | null, tool: string, collection: string) =>
  `${as === null ? 'no identity' : short(as)} ${tool} on ${collection === '*' ? '"*" (all collections)' : collection}`;

/** OPA's own decisions for every case, by `opa eval` inside its container on the mounted policy (not the REST API). */
async function evaluatePolicy(
  ctx: CheckContext,
): Promise<Array<{ input: Record<string, unknown>; got?: { allow?: unknown; reason?: unknown } }>> {
  const cases = IDENTITIES.flatMap((spiffe_id) =>
    TOOLS.flatMap((tool) =>
      COLLECTIONS.map((collection) => ({ spiffe_id, tool, arguments: { query: 'grader' }, collection })),
    ),
  );
  const query = '{i: d | some i, c in input.cases; d := data.agents.authz.decision with input as c}';
  const result = await ctx.exec(
    'opa',
    ['/opa', 'eval', '--format', 'json', '--stdin-input', '--data', '/policy', query],
    { input: JSON.stringify({ cases }) },
  );
  if (result.exitCode !== 0)
    throw new Error(
      `opa eval failed (exit ${result.exitCode}): ${result.output.trim().split('\n').slice(0, 3).join(' | ')}`,
    );
  const json = result.output.slice(result.output.indexOf('{'));
  const value =
    (
      JSON.parse(json) as {
        result?: Array<{ expressions: Array<{ value: Record<string, { allow?: unknown; reason?: unknown }> }> }>;
      }
    ).result?.[0]?.expressions[0]?.value ?? {};
  return cases.map((input, i) => ({ input, got: value[String(i)] }));
}

export const policyMatrix: CheckDefinition = {
  id: 'policy-matrix',
  title: 'Per-agent policy for every identity, tool and collection ("*" included): in OPA itself and end to end',
  timeoutMs: 45_000,
  async run(ctx) {
    const evaluated = await evaluatePolicy(ctx).catch((error: Error) => error);
    if (evaluated instanceof Error)
      return fail(
        `OPA could not evaluate policy/agents.rego: ${evaluated.message}.`,
        `Run \`npx lab opa test\` and fix the errors it shows. ${STEP3}`,
      );
    const wrongInOpa = evaluated.flatMap(({ input, got }) => {
      const want = coursePolicy(input);
      const label = describeCall(input.spiffe_id as string | null, String(input.tool), String(input.collection));
      if (got?.allow !== want.allow)
        return [
          `${label}: ${got?.allow === true ? 'ALLOWED' : got === undefined ? 'undefined' : 'denied'} (expected ${want.allow ? 'allowed' : 'denied'})`,
        ];
      if (got.reason !== want.reason) return [`${label}: reason "${String(got.reason)}" (expected "${want.reason}")`];
      return [];
    });
    const svids = await mintAll(ctx, [...new Set(END_TO_END.map((c) => c.as))]);
    const calls = await inBatches(END_TO_END, 3, async (cell) => ({
      cell,
      got: await callDecided(ctx, svids.get(cell.as)!, cell.spec),
    }));
    const wrongEndToEnd = calls.flatMap(({ cell, got }) => {
      const want = coursePolicy({ spiffe_id: cell.as, tool: cell.spec.tool, collection: got.collection }).allow;
      if (got.allowed === want) return [];
      return [
        `${describeCall(cell.as, cell.spec.tool, got.collection)} through the MCP server was ${got.allowed ? 'ALLOWED' : `denied (${got.text.slice(0, 120)})`}`,
      ];
    });
    const problems = [...wrongInOpa.slice(0, 6), ...wrongEndToEnd.slice(0, 6)];
    if (problems.length > 0) {
      const more = wrongInOpa.length + wrongEndToEnd.length - problems.length;
      const where =
        wrongInOpa.length > 0
          ? `Compare your rules with the matrix in step 3 ("*" means every collection, and only research may use it; identities must match exactly). ${STEP3}`
          : `OPA decides right but the MCP server does not: authorize() in mcp-server/guard.ts must ask OPA about every call with the call's own identity, tool and collection. ${STEP3}`;
      return fail(
        `The policy is not enforced as required: ${problems.join('; ')}${more > 0 ? `; and ${more} more` : ''}.`,
        where,
      );
    }
    return pass(
      `${evaluated.length} decisions in OPA and ${calls.length} calls through the MCP server match the matrix (both agents, an unregistered and a look-alike identity, none; both tools; public, internal and "*").`,
    );
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
      const failing = result.output
        .split('\n')
        .filter((l) => /FAIL|ERROR|rego_/i.test(l))
        .slice(0, 4)
        .join(' | ');
      return fail(
        `opa test failed (exit ${result.exitCode}): ${failing || result.output.trim().slice(0, 200) || 'no test cases found'}.`,
        `Write tests in policy/agents_test.rego (test_… if { … with input as … }) and make them pass. ${STEP3}`,
      );
    }
    if (passed < 5)
      return fail(
        `opa test ran only ${passed} test(s).`,
        `Cover the matrix: research internal, support public, support internal (denied), unknown identity, null identity. ${STEP3}`,
      );
    return pass(`opa test: ${passed}/${summary?.[2]} passed.`);
  },
};

export const testsNotVacuous: CheckDefinition = {
  id: 'policy-tests-not-vacuous',
  title:
    'The tests in policy/agents_test.rego fail against each known-wrong policy (they test the policy, not themselves)',
  timeoutMs: 30_000,
  async run(ctx) {
    // The learner's test file with a wrong policy in place of agents.rego, read by OPA from stdin.
    const runs = await Promise.all(
      wrongPolicies().map(async (wrong) => ({
        wrong,
        result: await ctx.exec('opa', ['/opa', 'test', '--fail-on-empty', '/policy/agents_test.rego', '/dev/stdin'], {
          input: wrong.module,
        }),
      })),
    );
    const own = await ctx.exec('opa', ['/opa', 'test', '--fail-on-empty', '/policy', '-v']);
    if (own.exitCode !== 0)
      return fail(
        'Your own `opa test` does not pass yet, so it says nothing about wrong policies.',
        `Make \`npx lab opa test\` pass first (check policy-opa-test). ${STEP3}`,
      );
    const survived = runs.filter((r) => r.result.exitCode === 0);
    if (survived.length > 0) {
      return fail(
        `Your tests pass against ${survived.length} of ${runs.length} wrong policies: ${survived.map((r) => r.wrong.what).join('; ')}.`,
        `Add a test that fails for each: assert the denials too (not authz.allow with input as …), for "*", an unknown and a null identity and a tool outside the list, and never replace the rule under test with \`with authz.allow as …\`. ${STEP3}`,
      );
    }
    return pass(
      `Your tests fail against all ${runs.length} wrong policies (${runs.map((r) => r.wrong.id).join(', ')}).`,
    );
  },
};

export const policyIgnoresHeaders: CheckDefinition = {
  id: 'policy-ignores-headers',
  title: 'No request header changes a decision: support claiming research in every identity header is still denied',
  timeoutMs: 30_000,
  async run(ctx) {
    const [endToEnd, harness] = await Promise.all([
      callAs(ctx, IDS.support, { tool: 'search_documents', collection: 'internal' }, SPOOF_HEADERS),
      probeGuard(ctx, [SPOOFED]),
    ]);
    const problems = [
      endToEnd.allowed &&
        `through the MCP server, ${short(IDS.support)} with headers ${Object.keys(SPOOF_HEADERS).join(', ')} read the internal collection`,
      ...harness.flatMap((v) => v.problems),
    ].filter(Boolean);
    if (problems.length > 0)
      return fail(
        `A caller-written header changed a decision: ${problems.join('; ')}.`,
        `Identity comes only from the verified certificate: pass call.spiffeId to OPA, never anything from call.headers, and let no rule read input headers. ${STEP3}`,
      );
    return pass(
      `${Object.keys(SPOOF_HEADERS).length} identity headers claiming research changed nothing: support was denied, and OPA was asked about support.`,
    );
  },
};

const summarize = (verdicts: ScenarioVerdict[]) => verdicts.flatMap((v) => v.problems);

export const policyFailClosed: CheckDefinition = {
  id: 'policy-fail-closed',
  title: 'The guard asks OPA about every call and obeys it, and denies when OPA errors, stalls or answers garbage',
  timeoutMs: 30_000,
  async run(ctx) {
    const verdicts = await probeGuard(ctx, [...FAULTS, ...OBEYS]);
    const problems = summarize(verdicts);
    if (problems.length > 0) {
      return fail(
        `The guard does not leave the decision to OPA: ${problems.slice(0, 6).join('; ')}${problems.length > 6 ? `; and ${problems.length - 6} more` : ''}.`,
        `authorize() must return what policy.decide(...) answers, for every tool, and never turn a failed decision (source "fail-closed") into an allow. ${STEP3}`,
      );
    }
    return pass(
      `With OPA failing in ${FAULTS.length} ways every call was denied; OPA's own allow and deny were obeyed for ${OBEYS.length} calls, get_document and "*" included.`,
    );
  },
};
