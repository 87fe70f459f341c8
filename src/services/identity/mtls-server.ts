/**
 * An HTTPS server whose certificate, key and trust bundle follow the workload's SVID. What the server demands
 * of clients (requestCert, rejectUnauthorized, which CAs) is the caller's `tlsOptions`: in lab 2 the learner
 * writes that function, and this module only keeps it applied to the current SVID.
 */
import type { RequestListener } from 'node:http';
import https from 'node:https';
import type { X509Svid } from './workload-api-client.js';
import type { SvidSource } from './svid-source.js';

export interface MtlsServerOptions {
  host: string;
  port: number;
  tlsOptions: (svid: X509Svid) => https.ServerOptions;
}

/** Waits for the first SVID, then listens. Resolves once listening; rejects on e.g. EADDRINUSE. */
export async function listenMtls(
  handler: RequestListener,
  source: SvidSource,
  options: MtlsServerOptions,
): Promise<https.Server> {
  const svid = await source.ready();
  const server = https.createServer(options.tlsOptions(svid), handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // setSecureContext replaces cert, key and ca for NEW connections only: open connections keep the context
  // they were handshaken with, so rotation needs no restart and drops nobody. requestCert and
  // rejectUnauthorized are server settings, not context ones: they stay as tlsOptions gave them at creation.
  const unsubscribe = source.onUpdate((next) => server.setSecureContext(options.tlsOptions(next)));
  server.once('close', unsubscribe);
  return server;
}
