import { EnvironmentError } from '../core/errors.js';
import { createServer } from 'node:net';

/** Asks the kernel for a free port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** A pinned port must be free; otherwise the previous port if still free, else any free one. */
export async function choosePort(service: string, preferred: number | undefined, pinned: boolean): Promise<number> {
  if (preferred !== undefined && (await isPortFree(preferred))) return preferred;
  if (pinned) throw busyPort(preferred!, service);
  return freePort();
}

export function busyPort(port: number, service: string): EnvironmentError {
  return new EnvironmentError(
    `Port ${port} on 127.0.0.1 is already in use, so ${service} cannot listen there.`,
    `Stop the program using it (find it with \`ss -ltnp 'sport = :${port}'\` or \`lsof -i :${port}\`), or start without --port ${service}=${port} to let the lab choose a free port.`,
  );
}
