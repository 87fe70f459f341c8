import { get } from 'node:http';

/**
 * True when `url` (plain HTTP) answers 2xx within the timeout. node:http rather than fetch(): Node compiles its
 * bundled undici on the first fetch() of a process, which costs `lab status` more than all its other work.
 */
export function probe(url: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(url, { timeout: timeoutMs, agent: false }, (response) => {
      response.resume();
      resolve(response.statusCode !== undefined && response.statusCode >= 200 && response.statusCode < 300);
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(false));
  });
}
