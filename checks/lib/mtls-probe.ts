/**
 * Probes of an mTLS endpoint from the checker: what the server presents, whether it serves a caller with a given
 * client certificate (or none), and MCP calls made as a given SVID.
 */
import https from 'node:https';
import tls, { type PeerCertificate } from 'node:tls';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CheckContext } from '../../src/core/lab-definition.js';
import { spiffeIdOf, spiffeServerCheck } from '../../src/services/identity/spiffe-tls.js';
import type { X509Svid } from '../../src/services/identity/workload-api-client.js';

/** The published mTLS port of a service (the runtime gives http://127.0.0.1:<port>). */
export function tlsEndpoint(ctx: CheckContext, service: string): URL {
  const url = ctx.url(service);
  return new URL(`https://127.0.0.1:${url.port}`);
}

/**
 * The SPIFFE ID of the certificate the server presents, verified against `bundlePem`, and the certificate itself
 * (serial, issuer, validity: what `lab identity` shows); undefined with the reason when none.
 */
export function presentedIdentity(
  endpoint: URL,
  bundlePem: string,
  signal: AbortSignal,
): Promise<{ id?: string; error?: string; certificate?: PeerCertificate }> {
  return new Promise((resolve) => {
    let seen: PeerCertificate | undefined;
    const socket = tls.connect({
      host: endpoint.hostname,
      port: Number(endpoint.port),
      ca: bundlePem,
      // Only look: the certificate has already been verified against the bundle when this runs.
      checkServerIdentity: (_host, cert) => {
        seen = cert;
        return undefined;
      },
      timeout: 5_000,
    });
    const abort = () => socket.destroy();
    const finish = (result: { id?: string; error?: string; certificate?: PeerCertificate }) => {
      signal.removeEventListener('abort', abort);
      socket.destroy();
      resolve(result);
    };
    signal.addEventListener('abort', abort, { once: true });
    socket.once('timeout', () => finish({ error: 'timeout' }));
    socket.once('secureConnect', () => finish({ id: spiffeIdOf(seen), certificate: seen }));
    socket.once('error', (error) =>
      finish(
        seen
          ? { id: spiffeIdOf(seen), certificate: seen }
          : { error: (error as NodeJS.ErrnoException).code ?? error.message },
      ),
    );
  });
}

export interface ServeResult {
  served: boolean;
  status?: number;
  body?: string;
  error?: string;
}

/**
 * One HTTPS request with the given client credentials (or none). `served` means an HTTP response came back;
 * a refused handshake surfaces as an error (TLS 1.3 reports a missing or untrusted client certificate after
 * the client's side of the handshake, as an alert or a reset on the first read).
 */
export interface ProbeClient {
  cert?: string;
  key?: string;
  ca: string;
  serverId: string;
  /** Protocol and suites the probe offers (a bad client's TLS 1.2, weak ciphers); Node's defaults otherwise. */
  minVersion?: tls.SecureVersion;
  maxVersion?: tls.SecureVersion;
  ciphers?: string;
}

export function requestWith(
  endpoint: URL,
  path: string,
  client: ProbeClient,
  init: { method?: string; body?: string } = {},
): Promise<ServeResult> {
  return new Promise((resolve) => {
    const request = https.request(
      new URL(path, endpoint),
      {
        method: init.method ?? 'GET',
        cert: client.cert,
        key: client.key,
        ca: client.ca,
        checkServerIdentity: spiffeServerCheck(client.serverId),
        ...(client.minVersion ? { minVersion: client.minVersion } : {}),
        ...(client.maxVersion ? { maxVersion: client.maxVersion } : {}),
        ...(client.ciphers ? { ciphers: client.ciphers } : {}),
        agent: false,
        timeout: 5_000,
        headers: init.body ? { 'content-type': 'application/json', accept: 'application/json, text/event-stream' } : {},
      },
      (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ served: true, status: response.statusCode, body }));
        response.on('error', (error) =>
          resolve({ served: false, error: (error as NodeJS.ErrnoException).code ?? error.message }),
        );
      },
    );
    request.on('timeout', () => request.destroy(new Error('timeout')));
    request.on('error', (error) =>
      resolve({ served: false, error: (error as NodeJS.ErrnoException).code ?? error.message }),
    );
    request.end(init.body);
  });
}

export const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'lab-grader', version: '1.0.0' } },
});

/** An MCP client that is `svid` (client certificate) and verifies the server is `serverId`; optional extra headers. */
export async function withMcpAs<T>(
  endpoint: URL,
  svid: X509Svid,
  serverId: string,
  headers: Record<string, string>,
  use: (client: Client) => Promise<T>,
): Promise<T> {
  // The MCP SDK, undici and gRPC load when a check makes such a call: `lab reset` and `lab status` load the
  // lab's checks without running them.
  const [{ Client }, { StreamableHTTPClientTransport }, { mtlsFetch }, { SvidSource }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/client/streamableHttp.js'),
    import('../../src/services/identity/mtls-fetch.js'),
    import('../../src/services/identity/svid-source.js'),
  ]);
  const fetch = mtlsFetch(SvidSource.fixed(svid), (s) => ({
    cert: s.certChainPem,
    key: s.keyPem,
    ca: s.bundlePem,
    checkServerIdentity: spiffeServerCheck(serverId),
  }));
  const client = new Client({ name: 'lab-grader', version: '1.0.0' });
  try {
    await client.connect(
      new StreamableHTTPClientTransport(new URL('/mcp', endpoint), { fetch, requestInit: { headers } }),
    );
    return await use(client);
  } finally {
    await client.close().catch(() => undefined);
    await fetch.close();
  }
}
