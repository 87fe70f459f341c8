/**
 * The tracer spans are made with (the SDK's once tracing.ts started it, the API's no-op one otherwise) and the
 * one way a span wraps work here: ended when the work ends, ERROR with the message when it throws.
 */
import { SpanStatusCode, trace, type Attributes, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';

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
