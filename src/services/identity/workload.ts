/**
 * What every lab 2 service does first: find the SPIRE agent's Workload API (SPIFFE_ENDPOINT_SOCKET, the
 * standard variable), keep its SVID current, answer a liveness probe on the container's own loopback, and
 * load the learner's TLS configuration (mtls/tls.ts).
 */
import { createServer } from 'node:http';
import type { ServerOptions } from 'node:https';
import type { ConnectionOptions } from 'node:tls';
import { importModule } from '../../core/code-files.js';
import { SvidSource } from './svid-source.js';
import type { X509Svid } from './workload-api-client.js';
import { requiredEnv } from '../env.js';

export function workloadSource(service: string): SvidSource {
  const endpoint = requiredEnv(service, 'SPIFFE_ENDPOINT_SOCKET', 'unix:///run/spire/sockets/agent.sock');
  return SvidSource.fromWorkloadApi(endpoint.replace(/^unix:\/\//, ''), (line) => console.log(`${service}: ${line}`));
}

/** Waits as long as it takes: before step 1 there is no registration entry, and the service must stay up. */
export async function awaitIdentity(service: string, source: SvidSource): Promise<X509Svid> {
  for (;;) {
    try {
      const svid = await source.ready(60_000);
      console.log(`${service}: identity ${svid.spiffeId}`);
      return svid;
    } catch (error) {
      console.log(`${service}: still waiting for an identity: ${(error as Error).message}`);
    }
  }
}

/** Liveness and the identity held, on 127.0.0.1 inside the container only (the healthcheck runs there). */
export function serveHealth(source: SvidSource, port: number): void {
  createServer((_req, res) => {
    const svid = source.current();
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ status: 'ok', spiffe_id: svid?.spiffeId ?? null }));
  }).listen(port, '127.0.0.1');
}

/** The learner's mtls/tls.ts. */
export interface TlsConfig {
  serverTlsOptions(svid: X509Svid): ServerOptions;
  clientTlsOptions(svid: X509Svid, serverId: string): ConnectionOptions;
}

export async function loadTlsConfig(service: string): Promise<TlsConfig> {
  const file = requiredEnv(service, 'TLS_MODULE');
  return importModule<TlsConfig>(file);
}
