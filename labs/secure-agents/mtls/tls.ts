// Your mTLS configuration. The MCP server uses serverTlsOptions towards the agents; the MCP server (calling
// rag-index) and both agents (calling the MCP server) use clientTlsOptions. The X.509-SVID comes from the SPIRE
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
  // TODO: Make TLS mutual. Ask every client for a certificate (requestCert), refuse the connection when it has none
  // TODO: or when it does not chain to the trust bundle (rejectUnauthorized), and trust exactly that bundle (ca).
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
  // TODO: Present this workload's own SVID: cert (the chain) and key.
  // TODO: Verify WHO the server is. Node's default checkServerIdentity compares the host name with the certificate's
  // TODO: DNS names, but an SVID names its workload in a URI SAN (spiffe://…), so the default check fails with
  // TODO: ERR_TLS_CERT_ALTNAME_INVALID. Replace it: accept the certificate only when its one URI SAN equals serverId.
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
