import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTraceId, readTrace, spansFromOtlp } from '../../src/core/traces.js';
import { createTraceReceiver } from '../../src/services/telemetry/receiver.js';

describe('the OTLP/HTTP trace receiver', () => {
  let dir: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'lab-traces-'));
    server = createTraceReceiver(dir);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("stores what the SDK's OTLP/HTTP exporter sends: ids, parent links, service, times, status, attributes", async () => {
    // A provider of the test's own (not the global one): the SDK's real exporter, JSON over HTTP.
    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'unit-agent' }),
      spanProcessors: [new SimpleSpanProcessor(new OTLPTraceExporter({ url: `${base}/v1/traces` }))],
    });
    const tracer = provider.getTracer('test');
    const parent = tracer.startSpan('agent run');
    const child = tracer.startSpan(
      'mcp tools/call search_documents',
      { attributes: { 'lab.tokens.arguments': 12, 'mcp.tool.name': 'search_documents', ok: true } },
      trace.setSpan(context.active(), parent),
    );
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'index down' });
    child.end();
    parent.end();
    await provider.forceFlush();
    await provider.shutdown();

    const traceId = parent.spanContext().traceId;
    const spans = readTrace(dir, traceId);
    expect(spans.map((s) => s.name).sort()).toEqual(['agent run', 'mcp tools/call search_documents']);
    const [run, call] = [spans.find((s) => s.name === 'agent run')!, spans.find((s) => s.name !== 'agent run')!];
    expect(run.parentSpanId).toBeUndefined();
    expect(call.parentSpanId).toBe(run.spanId);
    expect(call.spanId).toBe(child.spanContext().spanId);
    expect(call.service).toBe('unit-agent');
    expect(call.status).toBe('error');
    expect(call.statusMessage).toBe('index down');
    expect(call.attributes).toMatchObject({
      'lab.tokens.arguments': 12,
      'mcp.tool.name': 'search_documents',
      ok: true,
    });
    // Times in ms since the epoch, within this test's run; the child inside its parent.
    expect(Math.abs(run.startMs - Date.now())).toBeLessThan(60_000);
    expect(call.startMs).toBeGreaterThanOrEqual(run.startMs - 1);
    expect(run.durationMs).toBeGreaterThanOrEqual(call.durationMs);
  });

  it('refuses protobuf bodies, non-JSON and other paths, and answers health probes', async () => {
    const post = (type: string, body: string, at = '/v1/traces') =>
      fetch(`${base}${at}`, { method: 'POST', headers: { 'content-type': type }, body });
    expect((await post('application/x-protobuf', '\x0a\x00')).status).toBe(415);
    expect((await post('application/json', '{not json')).status).toBe(400);
    expect((await post('application/json', '{}', '/v1/metrics')).status).toBe(404);
    expect((await fetch(`${base}/v1/traces`)).status).toBe(405);
    expect((await fetch(`${base}/health`)).status).toBe(200);
  });

  it('never writes a file under a name that is not a trace id (a span cannot choose where it lands)', async () => {
    const before = readdirSync(dir).length;
    const hostile = {
      resourceSpans: [
        {
          scopeSpans: [
            { spans: [{ traceId: '../../escape', spanId: 'aaaaaaaaaaaaaaaa', name: 'x' }] },
            { spans: [{ traceId: 'a'.repeat(32), spanId: '../x', name: 'y' }] },
          ],
        },
      ],
    };
    const res = await fetch(`${base}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(hostile),
    });
    expect(res.status).toBe(200);
    expect(readdirSync(dir).length).toBe(before);
    expect(isTraceId('../../escape')).toBe(false);
  });
});

describe('spansFromOtlp', () => {
  it('stores no bearer token: JWT-shaped text and Bearer credentials in names, statuses and attributes are redacted', () => {
    const jwt = `eyJhbGciOiJFZERTQSJ9.${'eyJzdWIiOiJhZ2VudCJ9'}.${'c2lnbmF0dXJlLXNpZ25hdHVyZQ'}`;
    const [span] = spansFromOtlp({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                {
                  traceId: 'd'.repeat(32),
                  spanId: 'e'.repeat(16),
                  name: `GET /documents/${jwt}`,
                  status: { code: 2, message: `No document (caller ${jwt})` },
                  attributes: [
                    { key: 'rag.query', value: { stringValue: `Bearer abcdefgh12345678 and ${jwt}` } },
                    { key: 'n', value: { intValue: '7' } },
                  ],
                },
              ],
            },
          ],
        },
      ],
    });
    expect(JSON.stringify(span)).not.toMatch(/eyJ|abcdefgh12345678/);
    expect(span!.name).toBe('GET /documents/[redacted JWT]');
    expect(span!.statusMessage).toBe('No document (caller [redacted JWT])');
    expect(span!.attributes).toEqual({ 'rag.query': 'Bearer [redacted] and [redacted JWT]', n: 7 });
  });

  it('reads nanoseconds as strings, numbers or {low, high} halves alike, and unknown services as "unknown"', () => {
    const ns = 1_700_000_000_123_456_789n;
    const span = (start: unknown, end: unknown) => ({
      traceId: 'b'.repeat(32),
      spanId: 'c'.repeat(16),
      name: 's',
      startTimeUnixNano: start,
      endTimeUnixNano: end,
    });
    const low = Number(ns & 0xffffffffn);
    const high = Number(ns >> 32n);
    const endNs = ns + 2_500_000n;
    const [a, b] = spansFromOtlp({
      resourceSpans: [
        {
          scopeSpans: [
            {
              spans: [
                span(String(ns), String(endNs)),
                span({ low, high }, { low: Number(endNs & 0xffffffffn), high: Number(endNs >> 32n) }),
              ],
            },
          ],
        },
      ],
    });
    expect(a!.service).toBe('unknown');
    expect(a!.startMs).toBeCloseTo(1_700_000_000_123.457, 2);
    expect(a!.durationMs).toBeCloseTo(2.5, 2);
    expect(b!.startMs).toBeCloseTo(a!.startMs, 2);
    expect(b!.durationMs).toBeCloseTo(2.5, 2);
  });
});
