/**
 * The MCP server's tool handlers, traced from the runner's side: McpServer registers every tool (registerTool and
 * the older tool()) through one internal method, and wrapping the handler it is given makes a `tool <name>` span
 * around each call, with the argument and result sizes in tokens. The learner's server.ts and tools.ts stay
 * as they are.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { failed, labTracer } from './tracer.js';
import { argumentsText, countTokens, resultText, TOKEN_ATTRIBUTES } from './tokens.js';

type Handler = (...args: unknown[]) => unknown;
type CreateTool = (this: unknown, name: string, ...rest: unknown[]) => unknown;

/**
 * A tool's handler in a span: `tool <name>`, ERROR when it throws or returns isError, and the arguments' and
 * result's size in tokens. Counting (about 1 ms per kB with js-tiktoken) is done after the result is handed back,
 * off the caller's wait; the span still ends at the moment the handler did.
 */
export function traceToolHandler(name: string, withInput: boolean, handler: Handler): Handler {
  return (...args) =>
    labTracer().startActiveSpan(`tool ${name}`, { attributes: { 'mcp.tool.name': name } }, async (span) => {
      let result: Parameters<typeof resultText>[0] & { isError?: boolean };
      try {
        result = (await handler(...args)) as typeof result;
      } catch (error) {
        failed(span, error);
        span.end();
        throw error;
      }
      const endedAt = performance.now();
      // The result's text stays out of the trace (see tracer.ts `failed`): only that it is an error.
      if (result?.isError) span.setStatus({ code: SpanStatusCode.ERROR, message: 'isError result' });
      setImmediate(() => {
        span.setAttribute(TOKEN_ATTRIBUTES.arguments, countTokens(argumentsText(withInput ? args[0] : {})));
        span.setAttribute(TOKEN_ATTRIBUTES.result, countTokens(resultText(result)));
        span.end(endedAt);
      });
      return result;
    });
}

export function installMcpHooks(): void {
  const proto = McpServer.prototype as unknown as { _createRegisteredTool?: CreateTool; __labTraced?: boolean };
  const original = proto._createRegisteredTool;
  if (!original || proto.__labTraced) return;
  proto.__labTraced = true;
  // (name, title, description, inputSchema, outputSchema, annotations, execution, _meta, handler)
  proto._createRegisteredTool = function (name, ...rest) {
    const handler = rest.at(-1);
    if (typeof handler === 'function')
      rest[rest.length - 1] = traceToolHandler(name, rest[2] !== undefined, handler as Handler);
    return original.call(this, name, ...rest);
  };
}
