/**
 * Asks OPA whether a tool call may proceed: POST /v1/data/<path> {"input": ...} -> {"result": {...}, "decision_id"}.
 *
 * It fails closed: whatever goes wrong (OPA down, slow, an error status, a policy whose rule is undefined or
 * returns the wrong shape) becomes a denial, never an exception and never an allow. An authorization check
 * that lets calls through when the policy engine is unreachable is one an attacker can switch off by
 * overloading or cutting off OPA; a denied call is visible and recoverable, a leaked document is not.
 */

import { Agent, request as httpRequest } from 'node:http';
import { SpanKind } from '@opentelemetry/api';
import { inSpan } from '../telemetry/tracer.js';

export interface PolicyInput {
  spiffe_id: string | null;
  tool: string;
  arguments: Record<string, unknown>;
  /** The collection the call touches: "public", "internal", or "*" for all of them. */
  collection: string;
}

export interface PolicyDecision {
  allow: boolean;
  reason: string;
  /** OPA's decision id (present when decision logging is on), to join the audit record to OPA's log. */
  decisionId: string | null;
  /** 'fail-closed' when OPA gave no usable answer and the client denied on its own. */
  source: 'opa' | 'fail-closed';
}

export interface PolicyClient {
  decide(input: PolicyInput): Promise<PolicyDecision>;
}

const DEFAULT_POLICY_PATH = 'agents/authz/decision';
const DEFAULT_POLICY_TIMEOUT_MS = 1500;

/**
 * `token`: the bearer token OPA's --authentication=token expects (lab 2: a per-run secret only the MCP server
 * holds; OPA's system.authz policy lets it ask for this one decision and nothing else).
 */
export function opaClient(
  baseUrl: string,
  options: { path?: string; timeoutMs?: number; token?: string } = {},
): PolicyClient {
  const url = new URL(
    `${baseUrl.replace(/\/+$/, '')}/v1/data/${(options.path ?? DEFAULT_POLICY_PATH).replace(/^\/+/, '')}`,
  );
  const timeoutMs = options.timeoutMs ?? DEFAULT_POLICY_TIMEOUT_MS;
  // node:http over kept-alive connections, not fetch(): every tool call waits for this answer, and fetch costs
  // about half a millisecond more per call here (measured from the MCP server's container: bench/secure-agents.ts).
  const agent = new Agent({ keepAlive: true, maxSockets: 32 });
  const auth: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  return { decide: (input) => traceDecision(() => decide(input)) };

  function decide(input: PolicyInput): Promise<PolicyDecision> {
    return new Promise<PolicyDecision>((resolve) => {
      const body = JSON.stringify({ input });
      let request: ReturnType<typeof httpRequest>;
      // One timer covers connecting, the headers and the body (and the one retry below): a server that answers
      // and then stalls still times out.
      const timer = setTimeout(() => {
        request.destroy();
        resolve(failClosed(`no answer from OPA within ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = (decision: PolicyDecision) => {
        clearTimeout(timer);
        resolve(decision);
      };
      const send = (retry: boolean) => {
        request = httpRequest(
          url,
          {
            method: 'POST',
            agent,
            headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
          },
          (response) => {
            let text = '';
            response.setEncoding('utf8');
            response.on('data', (chunk: string) => (text += chunk));
            response.on('error', (error) => settle(failClosed(describe(error))));
            response.on('end', () => {
              if (response.statusCode !== 200)
                return settle(failClosed(`OPA answered HTTP ${response.statusCode}${snippet(text)}`));
              let parsed: unknown;
              try {
                parsed = JSON.parse(text);
              } catch {
                return settle(failClosed('OPA answered invalid JSON'));
              }
              settle(interpret(parsed));
            });
          },
        );
        request.on('error', (error: NodeJS.ErrnoException) => {
          // A kept-alive connection OPA closed as it was being reused: the request never reached OPA (no
          // response began), so asking once more on a fresh connection is safe. Node's documented remedy.
          if (retry && request.reusedSocket && error.code === 'ECONNRESET') return send(false);
          settle(failClosed(describe(error)));
        });
        request.end(body);
      };
      send(true);
    });
  }
}

/** The decision in its own span (the request to OPA carries its traceparent): allow/deny and OPA's decision_id. */
function traceDecision(deciding: () => Promise<PolicyDecision>): Promise<PolicyDecision> {
  return inSpan('opa decision', { kind: SpanKind.CLIENT }, async (span) => {
    const decision = await deciding();
    span.setAttributes({
      'opa.decision': decision.allow ? 'allow' : 'deny',
      'opa.source': decision.source,
      ...(decision.decisionId ? { 'opa.decision_id': decision.decisionId } : {}),
    });
    return decision;
  });
}

function interpret(body: unknown): PolicyDecision {
  if (!isObject(body)) return failClosed('OPA answered something other than a JSON object');
  const { result } = body;
  // OPA answers 200 without `result` when the rule is undefined (a wrong path, or a policy not loaded).
  if (result === undefined)
    return failClosed('the policy decision is undefined (is the policy loaded, is the path right?)');
  if (!isObject(result) || typeof result.allow !== 'boolean')
    return failClosed('the policy decision has no boolean "allow"');
  return {
    allow: result.allow,
    reason: typeof result.reason === 'string' ? result.reason : result.allow ? 'allowed' : 'denied',
    decisionId: typeof body.decision_id === 'string' && body.decision_id !== '' ? body.decision_id : null,
    source: 'opa',
  };
}

function failClosed(what: string): PolicyDecision {
  return { allow: false, reason: `policy unavailable: ${what}`, decisionId: null, source: 'fail-closed' };
}

function describe(error: Error & { code?: string }): string {
  return `cannot reach OPA (${error.code ?? error.message})`;
}

function snippet(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  return trimmed ? `: ${trimmed.slice(0, 200)}` : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
