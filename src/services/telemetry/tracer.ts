/**
 * The tracer spans are made with (the SDK's once tracing.ts started it, the API's no-op one otherwise) and the
 * one way a span wraps work here: ended when the work ends, ERROR with the message when it throws.
 */
import {
  context,
  propagation,
  SpanStatusCode,
  trace,
  type Attributes,
  type Span,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';

export const labTracer = (): Tracer => trace.getTracer('ai-infra-labs', '0.1.0');

/**
 * ERROR with the error's class only: a message can carry what a trace must never hold (a learner's handler that
 * names the caller's token in its error, for one); the service's log and the tool result say what went wrong.
 */
export const failed = (span: Span, error: unknown) =>
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.name : typeof error });

/** Async work in an active span (its children nest under it). */
export function inSpan<T>(name: string, options: SpanOptions, work: (span: Span) => Promise<T>): Promise<T> {
  return labTracer().startActiveSpan(name, options, async (span) => {
    try {
      return await work(span);
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Synchronous work in a span (the index's in-memory query); `describe` adds what the result tells. */
export function spanSync<T>(
  name: string,
  attributes: Attributes,
  work: () => T,
  describe?: (result: T) => Attributes,
): T {
  return labTracer().startActiveSpan(name, { attributes }, (span) => {
    try {
      const result = work();
      if (describe) span.setAttributes(describe(result));
      return result;
    } catch (error) {
      failed(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** The active span's trace id, when tracing is on and a span is active. */
export function currentTraceId(): string | undefined {
  const id = trace.getSpan(context.active())?.spanContext().traceId;
  return id && !/^0+$/.test(id) ? id : undefined;
}

/** The W3C traceparent of the active span, for a transport that sets its own headers (lab 2's mTLS fetch). */
export function activeTraceparent(): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/** Work as the root of a new trace (lab 2's agent: one trace per task, as its audit entries are keyed). */
export function inNewTrace<T>(name: string, attributes: Attributes, work: () => Promise<T>): Promise<T> {
  return inSpan(name, { root: true, attributes }, work);
}

/** Lab 2's facts on the active span (the tool handler's): who called, what OPA decided, that it was audited. */
export function markDecision(spiffeId: string | null, decision: { allow: boolean; decisionId: string | null }): void {
  trace.getSpan(context.active())?.setAttributes({
    'spiffe.id': spiffeId ?? '(none)',
    'opa.decision': decision.allow ? 'allow' : 'deny',
    ...(decision.decisionId ? { 'opa.decision_id': decision.decisionId } : {}),
    'lab.audited': true,
  });
}
