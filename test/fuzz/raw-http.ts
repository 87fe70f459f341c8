/**
 * Sends fuzzed requests as raw bytes over TCP (so that request lines, targets and headers no HTTP client would
 * send reach the server) and judges every answer: no 5xx, no stack trace, no absolute path, no HTML error page.
 */
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoDir } from '../../src/core/paths.js';

/** One request: bytes to write in order; a number is a pause in ms (a slow client). */
export interface FuzzRequest {
  label: string;
  parts: Array<Buffer | string | number>;
  /** The request ends early (truncated or stalled body): the client gives up after its last part, unanswered is fine. */
  truncated?: boolean;
  /** HEAD: an answer has no body whatever its content-length. */
  head?: boolean;
}

export interface FuzzAnswer {
  status?: number;
  body: string;
  /** The connection ended (or the client gave up) without a status line. */
  unanswered: boolean;
}

const ANSWER_TIMEOUT_MS = 15_000;
const TRUNCATED_WAIT_MS = 300;

/** Reads one response (status, headers, a content-length or chunked body) or whatever arrives before close. */
export function sendRaw(port: number, request: FuzzRequest): Promise<FuzzAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(parse(received, true));
    };
    const complete = () => {
      const answer = parse(received, false, request.head);
      if (answer) {
        done = true;
        clearTimeout(timer);
        socket.destroy();
        resolve(answer);
      }
    };
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      complete();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.on('connect', async () => {
      for (const part of request.parts) {
        if (done) return;
        if (typeof part === 'number') await new Promise((r) => setTimeout(r, part));
        else if (!socket.destroyed) socket.write(part);
      }
      timer = setTimeout(finish, request.truncated ? TRUNCATED_WAIT_MS : ANSWER_TIMEOUT_MS);
    });
  });
}

function parse(bytes: Buffer, atClose: true, head?: boolean): FuzzAnswer;
function parse(bytes: Buffer, atClose: false, head?: boolean): FuzzAnswer | undefined;
function parse(bytes: Buffer, atClose: boolean, head = false): FuzzAnswer | undefined {
  let text = bytes.toString('latin1');
  // Skip interim answers (100 Continue).
  while (/^HTTP\/1\.[01] 1\d\d /.test(text) && text.includes('\r\n\r\n'))
    text = text.slice(text.indexOf('\r\n\r\n') + 4);
  const end = text.indexOf('\r\n\r\n');
  const status = /^HTTP\/1\.[01] (\d{3}) /.exec(text);
  if (end < 0 || !status)
    return atClose ? { status: status ? Number(status[1]) : undefined, body: text, unanswered: !status } : undefined;
  const headers = text.slice(0, end).toLowerCase();
  const body = text.slice(end + 4);
  const answer = { status: Number(status[1]), body, unanswered: false };
  if (atClose || head || /^HTTP\/1\.[01] (204|304) /.test(text)) return answer;
  const length = /\r\ncontent-length: *(\d+)/.exec(headers);
  if (length) return Buffer.byteLength(body, 'latin1') >= Number(length[1]) ? answer : undefined;
  if (/\r\ntransfer-encoding: *chunked/.test(headers))
    return /(^|\r\n)0\r\n\r\n$/.test(body) ? { ...answer, body: dechunk(body) } : undefined;
  return undefined; // a body delimited by close
}

function dechunk(body: string): string {
  let out = '';
  for (let at = 0; at < body.length; ) {
    const lineEnd = body.indexOf('\r\n', at);
    const size = parseInt(body.slice(at, lineEnd), 16);
    if (!(size > 0)) break;
    out += body.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
  return out;
}

/** What must never be in an answer: a stack frame, a path of this machine, an HTML error page. */
const LEAKS: Array<[string, RegExp]> = [
  ['a stack trace', /\n\s+at \S|\bat (?:\S+ )?\(?(?:file:|node:|\/)[^)\s]*:\d+:\d+/],
  ['an HTML error page', /<!DOCTYPE|<html|<pre>/i],
  [
    'an absolute path',
    new RegExp(
      [repoDir, path.join(tmpdir(), 'lab-'), '/node_modules/', 'file://']
        .map((s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'))
        .join('|'),
    ),
  ],
];

export interface FuzzFailure {
  label: string;
  request: string;
  problem: string;
  answer: string;
}

/** Judges one answer; a leak counts only when the request did not itself contain the text (an echoed id). */
export function judge(request: FuzzRequest, answer: FuzzAnswer): FuzzFailure | undefined {
  const sent = request.parts
    .filter((p) => typeof p !== 'number')
    .map((p) => (Buffer.isBuffer(p) ? p.toString('latin1') : p))
    .join('');
  const fail = (problem: string) => ({
    label: request.label,
    request: JSON.stringify(sent.slice(0, 300)),
    problem,
    answer: JSON.stringify(answer.body.slice(0, 300)),
  });
  // Node closes a CONNECT (a proxy tunnel) to a server without a 'connect' listener: refused, not a crash.
  if (answer.unanswered && !request.truncated && !sent.startsWith('CONNECT ')) return fail('no answer');
  if (answer.status !== undefined && answer.status >= 500) return fail(`HTTP ${answer.status}`);
  for (const [what, pattern] of LEAKS) {
    const found = pattern.exec(answer.body);
    if (found && !sent.includes(found[0])) return fail(`the answer holds ${what}: ${JSON.stringify(found[0])}`);
  }
  return undefined;
}

/** Sends every request, `concurrency` at a time, and returns the failures and a tally of statuses. */
export async function fuzz(
  port: number,
  requests: FuzzRequest[],
  concurrency = 8,
): Promise<{ failures: FuzzFailure[]; statuses: Record<string, number> }> {
  const failures: FuzzFailure[] = [];
  const statuses: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const answer = await sendRaw(port, request);
      const key = answer.status === undefined ? 'none' : String(answer.status);
      statuses[key] = (statuses[key] ?? 0) + 1;
      const failure = judge(request, answer);
      if (failure) failures.push(failure);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { failures, statuses };
}

/** A readable summary for an assertion message: the first failures, each reproducible from its request bytes. */
export function describeFailures(failures: FuzzFailure[], seed: number): string {
  return `${failures.length} failures (seed ${seed}):\n${failures
    .slice(0, 8)
    .map((f) => `- [${f.label}] ${f.problem}\n  request ${f.request}\n  answer  ${f.answer}`)
    .join('\n')}`;
}
