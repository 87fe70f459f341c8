/**
 * Seeded generators of malformed HTTP requests: the same seed gives the same requests, byte for byte. The common
 * classes (request lines, targets, percent-encoding, headers, bodies, slow and truncated clients) come from here;
 * each service's test adds the requests its own routes invite.
 */
import type { FuzzRequest } from './raw-http.js';

export const SEED = Number(process.env.FUZZ_SEED ?? 20261124);

export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(0, 255)));
  }
  word(n: number, alphabet = 'abcdefghijklmnopqrstuvwxyz'): string {
    return Array.from({ length: n }, () => this.pick([...alphabet])).join('');
  }
}

export const BAD_PERCENT = [
  '%',
  '%%',
  '%z',
  '%zz',
  '%E0%A4%A',
  '%C0%AF',
  '%ED%A0%80',
  '%FF%FE',
  '%C3',
  '%F0%9F%98',
  '%0',
  '%u0041',
  '%%41',
  '%G1',
  '%E2%82',
  '%80',
  '%25%',
  '%C0%80',
];

export const BAD_TARGETS = [
  '//x:y',
  'http://[',
  'http://[::1',
  'http://a b/',
  'http://:80/',
  'http://x:99999/health',
  'http://%41/',
  'http://x/%',
  'http://[zz]/',
  '//',
  '///',
  '//@',
  '//:',
  '//x:y/health',
  '/%',
  '/%zz',
  '*',
  'health',
  '?',
  '#',
  '/?%',
  '/../../etc/passwd',
  '/\\..\\x',
  'http://u:p@h:1/x',
  'mailto:x',
  'javascript:alert(1)',
  'file:///etc/passwd',
  'https://\x01/',
  'http://h/\x7f',
  '/\u00e9',
  'ftp://x',
  'http:',
  'http:/',
  'http://',
  'HTTP://LOCALHOST/HEALTH',
  '/health#frag',
  '/health?',
  '/health?a=%',
  '/health;x',
];

const METHODS = [
  'GET',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'HEAD',
  'TRACE',
  'PROPFIND',
  'get',
  'G€T',
  'X'.repeat(300),
  'CONNECT',
];

/** A well-formed request around whatever method, target, headers and body it is given. */
export function request(
  label: string,
  {
    method = 'GET',
    target = '/',
    headers = {},
    body,
    close = true,
    version = 'HTTP/1.1',
  }: {
    method?: string;
    target?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    close?: boolean;
    version?: string;
  },
): FuzzRequest {
  const lines = [`${method} ${target} ${version}`, 'Host: 127.0.0.1'];
  for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
  if (body !== undefined && !Object.keys(headers).some((k) => /^(content-length|transfer-encoding)$/i.test(k)))
    lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  if (close) lines.push('Connection: close');
  const head = `${lines.join('\r\n')}\r\n\r\n`;
  return { label, parts: body === undefined ? [head] : [head, body], head: method === 'HEAD' };
}

/** Deeply nested JSON: arrays or objects, `depth` levels. */
export function nested(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Requests that break HTTP itself, whatever the service: request lines, targets, headers, framing, slow clients. */
export function commonRequests(rng: Rng, paths: string[], count: number): FuzzRequest[] {
  const makers: Array<() => FuzzRequest> = [
    () => ({ label: 'garbage request line', parts: [rng.bytes(rng.int(1, 200)), '\r\n\r\n'] }),
    () => ({ label: 'request line without version', parts: [`${rng.pick(METHODS)} ${rng.pick(paths)}\r\n\r\n`] }),
    () =>
      request('bad version', {
        target: rng.pick(paths),
        version: rng.pick(['HTTP/9.9', 'HTTP/1', 'HTTPS/1.1', 'HTTP/1.1 extra', 'http/1.1', '']),
      }),
    () => request('bad target', { method: rng.pick(['GET', 'POST', 'HEAD']), target: rng.pick(BAD_TARGETS) }),
    () =>
      request('bad percent-encoding in the path', {
        target: `${rng.pick(paths)}${rng.pick(['', '/'])}${rng.pick(BAD_PERCENT)}${rng.word(rng.int(0, 4))}`,
      }),
    () =>
      request('bad percent-encoding in the query', {
        target: `${rng.pick(paths)}?${rng.word(2)}=${rng.pick(BAD_PERCENT)}&${rng.pick(BAD_PERCENT)}=1`,
      }),
    () =>
      request('odd method', {
        method: rng.pick(METHODS),
        target: rng.pick(paths),
        body: rng.chance(0.5) ? rng.word(20) : undefined,
      }),
    () =>
      request('very long target', {
        target: `${rng.pick(paths)}${rng.pick(['/', '?q='])}${'a'.repeat(rng.pick([8_000, 17_000, 70_000]))}`,
      }),
    () =>
      request('oversized header', {
        target: rng.pick(paths),
        headers: { 'X-Big': 'b'.repeat(rng.pick([9_000, 20_000, 100_000])) },
      }),
    () =>
      request('many headers', {
        target: rng.pick(paths),
        headers: Object.fromEntries(Array.from({ length: rng.pick([100, 2_500]) }, (_, i) => [`X-H${i}`, 'v'])),
      }),
    () => ({
      label: 'header without colon',
      parts: [`GET ${rng.pick(paths)} HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n`],
    }),
    () => ({
      label: 'control bytes in a header',
      parts: [`GET ${rng.pick(paths)} HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\x07\r\n\r\n`],
    }),
    () => ({ label: 'bare LF line ends', parts: [`GET ${rng.pick(paths)} HTTP/1.1\nHost: x\n\n`] }),
    () => ({ label: 'missing Host', parts: [`GET ${rng.pick(paths)} HTTP/1.1\r\nConnection: close\r\n\r\n`] }),
    () =>
      request('conflicting content-length', {
        method: 'POST',
        target: rng.pick(paths),
        headers: { 'Content-Length': '5', 'content-length': '7' },
        body: 'abcde',
      }),
    () =>
      request('bad content-length', {
        method: 'POST',
        target: rng.pick(paths),
        headers: { 'Content-Length': rng.pick(['-1', 'abc', '1e3', '99999999999999999999', ' 4 ']) },
        body: 'abcd',
      }),
    () =>
      request('content-length and chunked', {
        method: 'POST',
        target: rng.pick(paths),
        headers: { 'Content-Length': '4', 'Transfer-Encoding': 'chunked' },
        body: '0\r\n\r\n',
      }),
    () =>
      request('bad chunk size', {
        method: 'POST',
        target: rng.pick(paths),
        headers: { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/json' },
        body: `${rng.pick(['zz', '-1', '4;x', '4 x'])}\r\nabcd\r\n0\r\n\r\n`,
      }),
    () => ({
      ...request('chunk larger than sent', {
        method: 'POST',
        target: rng.pick(paths),
        headers: { 'Transfer-Encoding': 'chunked', 'Content-Type': 'application/json' },
        body: `fffffffffffffff\r\nabcd\r\n0\r\n\r\n`,
      }),
      truncated: true,
    }),
    () => ({
      ...request('truncated body', {
        method: 'POST',
        target: rng.pick(paths),
        headers: {
          'Content-Type': rng.pick(['application/json', 'application/x-www-form-urlencoded']),
          'Content-Length': String(rng.int(50, 5_000)),
          Accept: 'application/json, text/event-stream',
        },
        body: '{"jsonrpc":"2.0","id":1,',
      }),
      truncated: true,
    }),
    () => {
      const r = request('slow body', {
        method: 'POST',
        target: rng.pick(paths),
        headers: {
          'Content-Type': 'application/json',
          'Content-Length': '40',
          Accept: 'application/json, text/event-stream',
        },
      });
      return { ...r, parts: [...r.parts, '{"jsonrpc":', 100, '"2.0",', 100], truncated: true };
    },
    () => ({
      label: 'slow headers',
      parts: [`GET ${rng.pick(paths)} HTTP/1.1\r\n`, 100, 'Host: x\r\n', 100],
      truncated: true,
    }),
    () =>
      request('random bytes body', {
        method: 'POST',
        target: rng.pick(paths),
        headers: {
          'Content-Type': rng.pick([
            'application/json',
            'application/x-www-form-urlencoded',
            'text/plain',
            'application/octet-stream',
          ]),
        },
        body: rng.bytes(rng.int(1, 3_000)),
      }),
    () =>
      request('odd Accept', {
        target: rng.pick(paths),
        headers: {
          Accept: rng.pick(['text/html', '*/*;q=x', 'application/xml', '', '\u00ff/\u00ff', 'a'.repeat(5_000)]),
        },
      }),
    () =>
      request('odd Authorization', {
        target: rng.pick(paths),
        headers: {
          Authorization: rng.pick([
            'Bearer',
            'Bearer ',
            'Basic',
            'Basic %%%',
            'Bearer a.b.c',
            'Negotiate xyz',
            `Bearer ${'x'.repeat(12_000)}`,
            '\u00ff\u00fe',
          ]),
        },
      }),
  ];
  return Array.from({ length: count }, () => rng.pick(makers)());
}
