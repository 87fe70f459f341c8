/**
 * An X.509-SVID read from PEM text: a pure function of its input, kept apart from the Workload API client so that
 * what only reads certificates (the checks, `lab identity`) does not load gRPC.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { spiffeIdOf } from './spiffe-tls.js';
import type { X509Svid } from './workload-api-client.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

function certificatesIn(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new Error(`${what}: no PEM certificate found`);
  return blocks.map((block) => new X509Certificate(block));
}

/**
 * An X509Svid from PEM files (e.g. what `spire-agent api fetch x509 -write` or spiffe-helper writes:
 * svid.0.pem, svid.0.key, bundle.0.pem). The SPIFFE ID is read from the leaf, which must match the key.
 */
export function svidFromPem(certChainPem: string, keyPem: string, bundlePem: string): X509Svid {
  const certificates = certificatesIn(certChainPem, 'SVID certificate chain');
  const bundle = certificatesIn(bundlePem, 'trust bundle');
  const leaf = certificates[0]!;
  const spiffeId = spiffeIdOf(leaf);
  if (!spiffeId)
    throw new Error(
      `SVID certificate chain: the leaf has no single spiffe:// URI SAN (subjectAltName: ${leaf.subjectAltName ?? 'none'})`,
    );
  const key = createPrivateKey(keyPem);
  // A mismatched pair only fails later, deep inside a handshake; say so here instead.
  if (!leaf.checkPrivateKey(key)) throw new Error(`SVID key does not belong to the certificate for ${spiffeId}`);
  return {
    spiffeId,
    certificates,
    certChainPem: certificates.map((c) => c.toString()).join(''),
    keyPem: key.export({ format: 'pem', type: 'pkcs8' }).toString(),
    bundle,
    bundlePem: bundle.map((c) => c.toString()).join(''),
  };
}
