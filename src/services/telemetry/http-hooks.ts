/**
 * Where trace context crosses process boundaries, hooked from runner-owned code so that learner code (the MCP
 * server, the agent's connect()) carries it without writing any: every incoming HTTP(S) request gets a SERVER span
 * whose parent is the caller's `traceparent`, and every outgoing request (fetch, or node:http through an Agent)
 * carries the active span's `traceparent`. The span format, ids and header are the OpenTelemetry SDK's.
 */
import http from 'node:http';
import https from 'node:https';
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';

type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/** Requests not worth a trace: the runtime's health probes. */
const untraced = (req: http.IncomingMessage) => req.method === 'GET' && (req.url ?? '').startsWith('/health');

function wrapEmit(proto: { emit: Emit }, tracer: Tracer): void {
  const original = proto.emit;
  proto.emit = function (this: unknown, event, ...args) {
    const [req, res] = args as [http.IncomingMessage, http.ServerResponse];
    if (event !== 'request' || untraced(req)) return original.call(this, event, ...args);
    const parent = propagation.extract(ROOT_CONTEXT, req.headers);
    const route = (req.url ?? '/').split('?')[0]!;
    const span = tracer.startSpan(
      `${req.method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method ?? '', 'url.path': route } },
      parent,
    );
    let ended = false;
    res.once('close', () => {
      if (ended) return;
      ended = true;
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    return context.with(trace.setSpan(parent, span), () => original.call(this, event, ...args));
  };
}

interface AgentInternals {
  addRequest(this: http.Agent, req: http.ClientRequest, options: unknown): void;
}

/** node:http clients (the MCP server's index client): the header goes on before the request is written. */
function wrapAgent(): void {
  const proto = http.Agent.prototype as unknown as AgentInternals;
  const original = proto.addRequest;
  proto.addRequest = function (req, options) {
    if (!req.headersSent && !req.getHeader('traceparent'))
      propagation.inject(context.active(), req, { set: (r, key, value) => r.setHeader(key, value) });
    return original.call(this, req, options);
  };
}

/** fetch (the MCP SDK's client transport, the token request): read at each call, so wrapping the global suffices. */
function wrapFetch(): void {
  const original = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    if (!carrier.traceparent) return original(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    for (const [key, value] of Object.entries(carrier)) if (!headers.has(key)) headers.set(key, value);
    return original(input, { ...init, headers });
  };
}

let installed = false;

export function installHttpHooks(tracer: Tracer): void {
  if (installed) return;
  installed = true;
  wrapEmit(http.Server.prototype as unknown as { emit: Emit }, tracer);
  wrapEmit(https.Server.prototype as unknown as { emit: Emit }, tracer);
  wrapAgent();
  wrapFetch();
}
