/**
 * The runner's OTLP/HTTP trace receiver: POST /v1/traces with an OTLP JSON body (what the services' SDK
 * exporter sends), each span appended as one line to <traces dir>/<trace id>.jsonl. Offline, no collector to
 * install. Protobuf bodies are refused with 415 naming the encoding to use.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { spansFromOtlp, traceFile, type SpanRecord } from '../../core/traces.js';

const MAX_BODY = 8 * 1024 * 1024;

export function writeSpans(dir: string, spans: SpanRecord[]): void {
  const byTrace = new Map<string, string[]>();
  for (const span of spans) byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), JSON.stringify(span)]);
  mkdirSync(dir, { recursive: true });
  for (const [traceId, lines] of byTrace) appendFileSync(traceFile(dir, traceId), `${lines.join('\n')}\n`);
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function handle(dir: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const route = (req.url ?? '/').split('?')[0];
  if (req.method === 'GET' && route === '/health') return answer(res, 200, { status: 'ok' });
  if (route !== '/v1/traces') return answer(res, 404, { error: 'the trace receiver serves POST /v1/traces' });
  if (req.method !== 'POST') return answer(res, 405, { error: 'use POST' });
  if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
    return answer(res, 415, { error: 'send OTLP/HTTP as JSON (content-type application/json), not protobuf' });
  const text = await readBody(req);
  if (text === undefined) return answer(res, 413, { error: `body over ${MAX_BODY} bytes` });
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return answer(res, 400, { error: 'the body is not JSON' });
  }
  writeSpans(dir, spansFromOtlp(body));
  // ExportTraceServiceResponse: an empty object is full success.
  answer(res, 200, {});
}

export function createTraceReceiver(dir: string): Server {
  return createServer((req, res) => {
    handle(dir, req, res).catch((error: unknown) => answer(res, 500, { error: String((error as Error).message) }));
  });
}
