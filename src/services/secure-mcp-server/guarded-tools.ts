/**
 * Puts the learner's guard (mcp-server/guard.ts) around every tool of the lab 1 tool set: authorize before the
 * tool runs, record afterwards, denied calls included. A denied or unauthorizable call never reaches the tool.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { IndexClient } from '../mcp-search-server/index-client.js';
import { registerTools } from '../mcp-search-server/tools.js';
import { markDecision } from '../telemetry/tracer.js';

// The shapes of the learner's guard.ts (labs/secure-agents/mcp-server/guard.ts), loaded at run time.
export type Guard = typeof import('../../../labs/secure-agents/mcp-server/guard.js');
type Call = Parameters<Guard['authorize']>[0];
type Decision = Awaited<ReturnType<Guard['authorize']>>;

export interface GuardContext {
  guard: Guard;
  policy: Parameters<Guard['authorize']>[1];
  audit: Parameters<Guard['record']>[4];
  index: IndexClient;
  /** Why the audit log can record nothing now (it was tampered with), or undefined: the call is then refused. */
  auditProblem?: () => string | undefined;
  /** Per request: the verified caller and the trace. */
  call: Pick<Call, 'spiffeId' | 'traceId' | 'headers'>;
}

type Handler = (args: Record<string, unknown>, extra: unknown) => Promise<CallToolResult>;

/** The collection a call touches, for the policy: a search names it (or means all), a document has one. */
async function collectionOf(tool: string, args: Record<string, unknown>, index: IndexClient): Promise<string> {
  if (tool === 'search_documents')
    return typeof args.collection === 'string' && args.collection !== '' ? args.collection : '*';
  if (tool === 'get_document' && typeof args.id === 'string')
    return (await index.getDocument(args.id).catch(() => undefined))?.collection ?? '*';
  return '*';
}

function refusedUnaudited(why: string): CallToolResult {
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `Refused: the audit log cannot record this call (${why}). The lab's operator must reset it (\`lab reset\`).`,
      },
    ],
  };
}

/**
 * Registers the lab 1 tool set on `server` with every handler wrapped before it reaches the SDK: registerTools
 * (which needs only registerTool) gets a registrar whose registerTool adds the guard, so the SDK's McpServer is
 * used as it is.
 */
export function registerGuardedTools(server: McpServer, context: GuardContext): void {
  const registrar: Pick<McpServer, 'registerTool'> = {
    // The casts only restate the SDK's generic callback type: the guard takes and returns the same arguments and result.
    registerTool: (name, config, handler) =>
      server.registerTool(name, config, guarded(name, handler as Handler, context) as typeof handler),
  };
  registerTools(registrar, context.index);
}

/** The handler with the guard around it: authorize before the tool runs, record afterwards, fail closed. */
function guarded(name: string, handler: Handler, context: GuardContext): Handler {
  return async (args, extra) => {
    // Fail closed on a log that cannot be trusted to record: refuse before the tool runs, and say why.
    const unauditable = context.auditProblem?.();
    if (unauditable) return refusedUnaudited(unauditable);
    const started = performance.now();
    const call: Call = {
      ...context.call,
      tool: name,
      arguments: args,
      collection: await collectionOf(name, args, context.index),
    };
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    let decision: Decision;
    try {
      decision = await context.guard.authorize(call, context.policy);
    } catch (error) {
      // A guard that throws has not said yes: fail closed, like an OPA that does not answer.
      decision = {
        allow: false,
        reason: `authorization failed: ${(error as Error).message}`,
        decisionId: null,
        source: 'fail-closed',
      };
    }
    markDecision(call.spiffeId, decision);
    if (!decision.allow) {
      await context.guard.record(call, decision, 'denied', elapsed(), context.audit);
      const id = decision.decisionId ? ` (OPA decision ${decision.decisionId})` : '';
      return {
        isError: true,
        content: [
          {
            type: 'text',
            text: `Permission denied for ${call.spiffeId ?? 'an unidentified caller'}: ${decision.reason}${id}`,
          },
        ],
      };
    }
    let result: CallToolResult;
    try {
      result = await handler(args, extra);
    } catch (error) {
      await context.guard.record(call, decision, 'tool_error', elapsed(), context.audit);
      throw error;
    }
    await context.guard.record(call, decision, result.isError ? 'tool_error' : 'ok', elapsed(), context.audit);
    // The record may have found the log tampered with (and been refused): the result is then withheld.
    const lost = context.auditProblem?.();
    return lost ? refusedUnaudited(lost) : result;
  };
}
