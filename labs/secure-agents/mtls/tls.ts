// Your mTLS configuration. The MCP server and rag-index use serverTlsOptions towards their callers; the MCP server
// (calling rag-index) and both agents (calling the MCP server) use clientTlsOptions. The X.509-SVID comes from the SPIRE
// agent's Workload API and the services call these functions again on every rotation, so keep them pure.
import type { ServerOptions } from 'node:https';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';

/** What the Workload API hands a workload, as PEM: its certificate chain and key, and the trust bundle. */
export interface Svid {
  spiffeId: string;
  certChainPem: string;
  keyPem: string;
  bundlePem: string;
}

/** TLS options of a server that presents its SVID. */
export function serverTlsOptions(svid: Svid): ServerOptions {
  const options: ServerOptions = { cert: svid.certChainPem, key: svid.keyPem, minVersion: 'TLSv1.3' };
  // @lab-step 2
  // TODO: Step 2. Make TLS mutual: a client that presents no certificate, or one that does not chain to this trust
  // TODO: domain's bundle (svid.bundlePem), must not complete the handshake. Read the server and secure-context
  // TODO: options of https://nodejs.org/docs/latest-v20.x/api/tls.html#tlscreateserveroptions-secureconnectionlistener
  // TODO: Verify: `npx lab check 2` connects without a certificate and with a foreign CA's; both must be refused.
  options.ca = svid.bundlePem;
  options.requestCert = true;
  options.rejectUnauthorized = true;
  // @lab-end
  return options;
}

/** TLS options of a client that must reach the workload whose SPIFFE ID is serverId. */
export function clientTlsOptions(svid: Svid, serverId: string): ConnectionOptions {
  const options: ConnectionOptions = { ca: svid.bundlePem, minVersion: 'TLSv1.3' };
  // @lab-step 2
  // TODO: Step 2. Present this workload's own SVID, and accept the server only if it is the workload serverId. An
  // TODO: X.509-SVID names its workload in a URI SAN (spiffe://…), not a DNS name, so Node's default host-name check
  // TODO: cannot tell (it fails with ERR_TLS_CERT_ALTNAME_INVALID): verify the SPIFFE ID yourself. Read the X.509-SVID
  // TODO: spec, https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md (SPIFFE ID, verification), and
  // TODO: tls.connect's options: https://nodejs.org/docs/latest-v20.x/api/tls.html#tlsconnectoptions-callback
  // TODO: Verify: `npx lab identity` shows the ID each server presents; `npx lab check 2`.
  options.cert = svid.certChainPem;
  options.key = svid.keyPem;
  options.checkServerIdentity = (_host, cert) => checkSpiffeId(cert, serverId);
  // @lab-end
  return options;
}

// @lab-step 2
/** undefined when the certificate's only URI SAN is `expected`; else the error that aborts the handshake. */
function checkSpiffeId(cert: PeerCertificate, expected: string): Error | undefined {
  const uris = (cert.subjectaltname ?? '').split(', ').filter((san) => san.startsWith('URI:')).map((san) => san.slice(4));
  if (uris.length === 1 && uris[0] === expected) return undefined;
  return new Error(`the server presented ${uris.join(', ') || 'no SPIFFE ID'}, expected ${expected}`);
}
// @lab-end
