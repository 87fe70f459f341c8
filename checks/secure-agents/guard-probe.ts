/**
 * The learner's guard (mcp-server/guard.ts) exercised as the MCP server runs it, in a child process, against a
 * policy endpoint and an index the grader runs: the grader's OPA errors, resets, stalls, answers garbage, or
 * answers a decision of its choosing, and records every input it is asked about; the grader's index records
 * whether the tool really ran. So "fails closed", "asks OPA for every call and obeys it", "sends the verified
 * identity" are judged by what reached the grader's servers, not by what the learner's code says.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import path from 'node:path';
import type { CheckContext } from '../../src/core/lab-definition.js';
import { newTraceId } from '../../src/services/audit/audit-entry.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import type { HarnessCall, HarnessCallResult } from '../lib/learner-harness.js';
import { runLearnerCode } from '../lib/learner-code.js';

/** Every header a careless guard or policy might take an identity from, each claiming research. */
export const SPOOF_HEADERS: Record<string, string> = {
  'x-spiffe-id': IDS.research,
  'x-caller-spiffe-id': IDS.research,
  'x-agent-spiffe-id': IDS.research,
  'x-client-spiffe-id': IDS.research,
  'spiffe-id': IDS.research,
  'x-forwarded-client-cert': `By=${IDS.mcpServer};URI=${IDS.research}`,
  'x-client-cert-uri': IDS.research,
  'x-ssl-client-san': `URI:${IDS.research}`,
  'x-agent-id': 'research',
  'x-agent-role': 'research',
  'x-agent': 'research',
  'x-identity': IDS.research,
  'x-user': 'research',
  'x-remote-user': 'research',
  'x-forwarded-user': 'research',
  'x-auth-request-user': 'research',
};

type OpaMode =
  | 'error'
  | 'reset'
  | 'stall'
  | 'garbage'
  | 'undefined'
  | 'non-boolean'
  | 'deny'
  | 'allow'
  | 'course-policy';

export interface Scenario {
  name: string;
  what: string;
  opa: OpaMode;
  as: string | null;
  tool: 'search_documents' | 'get_document';
  args: Record<string, unknown>;
  headers?: Record<string, string>;
  /** The collection the server computes for this call, which OPA must be asked about. */
  collection: string;
  expect: 'allow' | 'deny';
}

const search = (name: string, collection?: string) => ({
  query: `grader probe ${name}`,
  top_k: 1,
  ...(collection ? { collection } : {}),
});

export const FAULTS: Scenario[] = [
  {
    name: 'opa-error',
    what: 'OPA answers HTTP 500',
    opa: 'error',
    as: IDS.research,
    tool: 'search_documents',
    args: search('opa-error', 'internal'),
    collection: 'internal',
    expect: 'deny',
  },
  {
    name: 'opa-reset',
    what: 'OPA drops the connection',
    opa: 'reset',
    as: IDS.research,
    tool: 'search_documents',
    args: search('opa-reset', 'internal'),
    collection: 'internal',
    expect: 'deny',
  },
  {
    name: 'opa-stall',
    what: 'OPA does not answer (timeout)',
    opa: 'stall',
    as: IDS.research,
    tool: 'search_documents',
    args: search('opa-stall', 'internal'),
    collection: 'internal',
    expect: 'deny',
  },
  {
    name: 'opa-garbage',
    what: 'OPA answers something that is not JSON',
    opa: 'garbage',
    as: IDS.research,
    tool: 'search_documents',
    args: search('opa-garbage', 'internal'),
    collection: 'internal',
    expect: 'deny',
  },
  {
    name: 'opa-undefined',
    what: 'OPA answers with no result (undefined decision)',
    opa: 'undefined',
    as: IDS.research,
    tool: 'search_documents',
    args: search('opa-undefined', 'internal'),
    collection: 'internal',
    expect: 'deny',
  },
  {
    name: 'opa-non-boolean',
    what: 'OPA answers allow: "true" (a string)',
    opa: 'non-boolean',
    as: IDS.research,
    tool: 'search_documents',
    args: search('opa-non-boolean', 'internal'),
    collection: 'internal',
    expect: 'deny',
  },
];

/** OPA decides, the guard obeys: a decision the guard's own table would not make shows who decided. */
export const OBEYS: Scenario[] = [
  {
    name: 'opa-deny',
    what: 'OPA denies research on internal',
    opa: 'deny',
    as: IDS.research,
    tool: 'search_documents',
    args: search('opa-deny', 'internal'),
    collection: 'internal',
    expect: 'deny',
  },
  {
    name: 'opa-allow',
    what: `OPA allows ${IDS.unregistered} on internal`,
    opa: 'allow',
    as: IDS.unregistered,
    tool: 'search_documents',
    args: search('opa-allow', 'internal'),
    collection: 'internal',
    expect: 'allow',
  },
  {
    name: 'get-document',
    what: 'support fetches an internal document by id',
    opa: 'course-policy',
    as: IDS.support,
    tool: 'get_document',
    args: { id: 'grader-internal-get-document' },
    collection: 'internal',
    expect: 'deny',
  },
  {
    name: 'all-collections',
    what: 'support searches without a collection filter (all collections)',
    opa: 'course-policy',
    as: IDS.support,
    tool: 'search_documents',
    args: search('all-collections'),
    collection: '*',
    expect: 'deny',
  },
];

export const SPOOFED: Scenario = {
  name: 'spoofed-headers',
  what: 'support claims research in request headers',
  opa: 'course-policy',
  as: IDS.support,
  tool: 'search_documents',
  args: search('spoofed-headers', 'internal'),
  headers: SPOOF_HEADERS,
  collection: 'internal',
  expect: 'deny',
};

/** The course's matrix, as the grader's OPA answers when asked to decide like the real policy. */
export function coursePolicy(input: Record<string, unknown>): { allow: boolean; reason: string } {
  const collections: Record<string, string[]> = {
    [IDS.research]: ['public', 'internal', '*'],
    [IDS.support]: ['public'],
  };
  const mine = collections[String(input.spiffe_id)];
  if (!mine) return { allow: false, reason: 'unknown identity' };
  if (!['search_documents', 'get_document'].includes(String(input.tool)))
    return { allow: false, reason: 'tool not permitted for this agent' };
  return mine.includes(String(input.collection))
    ? { allow: true, reason: 'allowed' }
    : { allow: false, reason: 'collection not permitted for this agent' };
}

export interface ScenarioVerdict {
  scenario: Scenario;
  /** The tool really ran: the grader's index was asked for the data. */
  ran: boolean;
  opaInputs: Array<Record<string, unknown>>;
  decisionId?: string;
  reason?: string;
  result?: HarnessCallResult;
  problems: string[];
}

const body = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let text = '';
    req
      .setEncoding('utf8')
      .on('data', (c: string) => (text += c))
      .on('end', () => resolve(text));
  });

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

/** Runs the scenarios through the learner's guard; one child process, the grader's servers for OPA and the index. */
export async function probeGuard(ctx: CheckContext, scenarios: Scenario[]): Promise<ScenarioVerdict[]> {
  const inputs = new Map<string, Array<Record<string, unknown>>>();
  const answers = new Map<string, { decisionId: string; reason: string }>();
  const searched = new Set<string>();
  const fetched = new Map<string, number>();
  const stalled: ServerResponse[] = [];
  const byName = new Map(scenarios.map((s) => [s.name, s]));

  const opa = createServer(async (req, res) => {
    const name = (req.url ?? '').split('/')[1] ?? '';
    const scenario = byName.get(name);
    let input: Record<string, unknown> = {};
    try {
      input = (JSON.parse(await body(req)) as { input?: Record<string, unknown> }).input ?? {};
    } catch {
      // recorded as an empty input: the guard sent something that is not OPA's request shape
    }
    inputs.set(name, [...(inputs.get(name) ?? []), input]);
    const decisionId = randomUUID();
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    switch (scenario?.opa) {
      case 'error':
        return json(500, { code: 'internal_error', message: 'grader: injected failure' });
      case 'reset':
        return req.socket.destroy();
      case 'stall':
        return void stalled.push(res);
      case 'garbage':
        return res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not a decision');
      case 'undefined':
        return json(200, { decision_id: decisionId });
      case 'non-boolean':
        return json(200, { result: { allow: 'true', reason: 'allowed' }, decision_id: decisionId });
      case 'deny':
      case 'allow': {
        const reason = `grader: ${scenario.opa} ${decisionId.slice(0, 8)}`;
        answers.set(name, { decisionId, reason });
        return json(200, { result: { allow: scenario.opa === 'allow', reason }, decision_id: decisionId });
      }
      case 'course-policy': {
        const decision = coursePolicy(input);
        answers.set(name, { decisionId, reason: decision.reason });
        return json(200, { result: decision, decision_id: decisionId });
      }
      default:
        return json(404, { code: 'resource_not_found' });
    }
  });
  const index = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://index');
    const json = (status: number, value: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
    if (url.pathname === '/search') {
      searched.add(url.searchParams.get('q') ?? '');
      return json(200, {
        hits: [
          { id: 'grader-public-doc', title: 'Grader document', collection: 'public', score: 1, snippet: 'grader' },
        ],
      });
    }
    const id = decodeURIComponent(url.pathname.replace(/^\/documents\//, ''));
    fetched.set(id, (fetched.get(id) ?? 0) + 1);
    return json(200, {
      id,
      title: 'Grader document',
      collection: id.startsWith('grader-internal') ? 'internal' : 'public',
      tags: [],
      body: 'grader',
    });
  });
  const [opaPort, indexPort] = await Promise.all([listen(opa), listen(index)]);
  try {
    // Patient with the grader's own OPA (the machine may be loaded), except where stalling is the probe.
    const calls: HarnessCall[] = scenarios.map((s) => ({
      name: s.name,
      spiffeId: s.as,
      tool: s.tool,
      args: s.args,
      headers: s.headers ?? {},
      traceId: newTraceId(),
      ...(s.opa === 'stall' ? {} : { opaTimeoutMs: 10_000 }),
    }));
    const results = await runLearnerCode<HarnessCallResult[]>('guard', {
      guardModule: path.join(ctx.workspaceDir, 'mcp-server', 'guard.ts'),
      opaBase: `http://127.0.0.1:${opaPort}`,
      indexBase: `http://127.0.0.1:${indexPort}`,
      calls,
    });
    return scenarios.map((scenario) => {
      // search: the index saw the query; get_document: the server looks the document up once to learn its
      // collection, the tool a second time.
      const ran =
        scenario.tool === 'search_documents'
          ? searched.has(String(scenario.args.query))
          : (fetched.get(String(scenario.args.id)) ?? 0) >= 2;
      const opaInputs = inputs.get(scenario.name) ?? [];
      const answer = answers.get(scenario.name);
      const problems: string[] = [];
      if (scenario.expect === 'deny' && ran) problems.push(`${scenario.what}: the call went through`);
      if (scenario.expect === 'allow' && !ran)
        problems.push(`${scenario.what}: the call was refused, so the guard is not following OPA`);
      if (opaInputs.length === 0) problems.push(`${scenario.what}: OPA was never asked`);
      else if (opaInputs.length > 1)
        problems.push(`${scenario.what}: OPA was asked ${opaInputs.length} times for one call`);
      const sent = opaInputs[0];
      if (sent) {
        const expected = {
          spiffe_id: scenario.as,
          tool: scenario.tool,
          arguments: scenario.args,
          collection: scenario.collection,
        };
        const wrong = Object.entries(expected)
          .filter(([key, value]) => !isDeepStrictEqual(sent[key], value))
          .map(([key, value]) => `${key} ${JSON.stringify(sent[key])} (expected ${JSON.stringify(value)})`);
        if (wrong.length > 0) problems.push(`${scenario.what}: OPA was asked with ${wrong.join(', ')}`);
      }
      return { scenario, ran, opaInputs, ...answer, result: results.find((r) => r.name === scenario.name), problems };
    });
  } finally {
    for (const res of stalled) res.destroy();
    opa.close();
    index.close();
    opa.closeAllConnections();
    index.closeAllConnections();
  }
}
