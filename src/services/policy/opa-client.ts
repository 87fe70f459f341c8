/**
 * Asks OPA whether a tool call may proceed: POST /v1/data/<path> {"input": ...} -> {"result": {...}, "decision_id"}.
 *
 * It fails closed: whatever goes wrong (OPA down, slow, an error status, a policy whose rule is undefined or
 * returns the wrong shape) becomes a denial, never an exception and never an allow. An authorization check
 * that lets calls through when the policy engine is unreachable is one an attacker can switch off by
 * overloading or cutting off OPA; a denied call is visible and recoverable, a leaked document is not.
 */

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

export const DEFAULT_POLICY_PATH = 'agents/authz/decision';
export const DEFAULT_POLICY_TIMEOUT_MS = 1500;

export function opaClient(baseUrl: string, options: { path?: string; timeoutMs?: number } = {}): PolicyClient {
  const url = `${baseUrl.replace(/\/+$/, '')}/v1/data/${(options.path ?? DEFAULT_POLICY_PATH).replace(/^\/+/, '')}`;
  const timeoutMs = options.timeoutMs ?? DEFAULT_POLICY_TIMEOUT_MS;
  return {
    async decide(input) {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ input }),
          // Covers the body too: a server that sends headers and then stalls still times out.
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await response.text();
        if (response.status !== 200) return failClosed(`OPA answered HTTP ${response.status}${snippet(text)}`);
        return interpret(JSON.parse(text) as unknown);
      } catch (error) {
        return failClosed(describe(error, timeoutMs));
      }
    },
  };
}

function interpret(body: unknown): PolicyDecision {
  if (!isObject(body)) return failClosed('OPA answered something other than a JSON object');
  const { result } = body;
  // OPA answers 200 without `result` when the rule is undefined (a wrong path, or a policy not loaded).
  if (result === undefined) return failClosed('the policy decision is undefined (is the policy loaded, is the path right?)');
  if (!isObject(result) || typeof result.allow !== 'boolean') return failClosed('the policy decision has no boolean "allow"');
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

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return `no answer from OPA within ${timeoutMs} ms`;
  if (error instanceof SyntaxError) return 'OPA answered invalid JSON';
  // fetch wraps network failures as TypeError("fetch failed") with the system error as cause (ECONNREFUSED...).
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  const code = cause && 'code' in cause ? String(cause.code) : undefined;
  if (code) return `cannot reach OPA (${code})`;
  return `cannot reach OPA (${error instanceof Error ? (cause ?? error).message : String(error)})`;
}

function snippet(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ');
  return trimmed ? `: ${trimmed.slice(0, 200)}` : '';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
