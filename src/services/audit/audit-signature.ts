/**
 * Signatures on the audit trail of lab 2. A hash chain alone proves nothing against whoever can write the file:
 * they edit an entry and recompute every later hash. So the MCP server signs each entry's hash with the private
 * key of its X.509-SVID, which only it holds (SPIRE hands it to that workload alone), and the verifier checks
 * the signature, that the certificate chains to the lab's trust roots, and that it names the MCP server.
 *
 *   sig = base64(ECDSA-SHA256(key, entry.hash)), signer = sha256(leaf DER) hex,
 *   signer_chain = [base64 DER, leaf first] on the first entry a signer writes after the server opened the log.
 *
 * The anchor is the head the writer last recorded outside the file (a copy of the last entry's seq, hash and
 * signature): cutting entries off the end leaves a valid chain, which only a head kept elsewhere shows.
 */
import { X509Certificate, createHash, sign, verify } from 'node:crypto';
import { spiffeIdOf } from '../identity/spiffe-tls.js';

/** What signs: the parts of an X509Svid the writer needs. */
export interface AuditSigner {
  spiffeId: string;
  /** Leaf first. */
  certificates: X509Certificate[];
  keyPem: string;
}

export interface EntrySignature {
  sig: string;
  signer: string;
  signer_chain?: string[];
}

/** The head the writer last recorded outside the file. */
export interface AuditAnchor {
  seq: number;
  hash: string;
  time: string;
  sig: string;
  signer: string;
  signer_chain: string[];
}

const fingerprintOf = (cert: X509Certificate) => createHash('sha256').update(cert.raw).digest('hex');

export function signHash(hash: string, signer: AuditSigner): { sig: string; signer: string; chain: string[] } {
  const leaf = signer.certificates[0];
  if (!leaf) throw new Error('audit: the signing SVID has no certificate');
  return {
    sig: sign('sha256', Buffer.from(hash, 'utf8'), signer.keyPem).toString('base64'),
    signer: fingerprintOf(leaf),
    chain: signer.certificates.map((c) => c.raw.toString('base64')),
  };
}

/** Certificates (PEM, any number per text) to X509Certificate objects. */
export function certificatesFromPem(texts: string[]): X509Certificate[] {
  return texts.flatMap((text) =>
    (text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
      (pem) => new X509Certificate(pem),
    ),
  );
}

/**
 * Checks signatures against trust roots, remembering chains by fingerprint (an entry names its signer; the
 * chain itself comes once, on an earlier entry or in the anchor).
 */
export class SignatureVerifier {
  private readonly chains = new Map<string, X509Certificate[]>();
  private readonly verdicts = new Map<string, string | undefined>();

  constructor(
    private readonly roots: X509Certificate[],
    /** The only identity whose signature counts: the MCP server's SPIFFE ID. */
    private readonly signerId: string,
  ) {}

  /** Remembers a chain that came with an entry or an anchor; a problem when it is not what it says. */
  learn(signer: string, chain: unknown): string | undefined {
    if (!Array.isArray(chain) || chain.length === 0 || !chain.every((c) => typeof c === 'string'))
      return 'signer_chain is not a list of base64 certificates';
    let certificates: X509Certificate[];
    try {
      certificates = chain.map((c: string) => new X509Certificate(Buffer.from(c, 'base64')));
    } catch {
      return 'signer_chain holds something that is not a certificate';
    }
    if (fingerprintOf(certificates[0]!) !== signer) return "signer_chain does not start with the signer's certificate";
    this.chains.set(signer, certificates);
    return undefined;
  }

  /** undefined when `sig` is the signer's signature of `hash`, by a certificate that chains to the roots. */
  check(hash: string, signature: { sig?: unknown; signer?: unknown }): string | undefined {
    if (typeof signature.sig !== 'string' || typeof signature.signer !== 'string')
      return 'not signed: the MCP server signs every entry, so this one was written by someone else';
    const chain = this.chains.get(signature.signer);
    if (!chain) return 'signed by an unknown certificate (no signer_chain for it earlier in the log)';
    const trusted = this.trust(signature.signer, chain);
    if (trusted) return trusted;
    const ok = verify('sha256', Buffer.from(hash, 'utf8'), chain[0]!.publicKey, Buffer.from(signature.sig, 'base64'));
    return ok ? undefined : 'signature does not match: the entry was changed after the MCP server signed it';
  }

  private trust(fingerprint: string, chain: X509Certificate[]): string | undefined {
    if (!this.verdicts.has(fingerprint)) this.verdicts.set(fingerprint, chainProblem(chain, this.roots, this.signerId));
    return this.verdicts.get(fingerprint);
  }
}

function chainProblem(chain: X509Certificate[], roots: X509Certificate[], signerId: string): string | undefined {
  const id = spiffeIdOf(chain[0]!);
  if (id !== signerId)
    return `signed by ${id ?? 'a certificate without a SPIFFE ID'}, not by the MCP server (${signerId})`;
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i + 1]!.ca || !chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey))
      return 'signer_chain is not a certificate chain';
  }
  const top = chain[chain.length - 1]!;
  const anchored = roots.some(
    (root) => top.fingerprint256 === root.fingerprint256 || (top.checkIssued(root) && top.verify(root.publicKey)),
  );
  return anchored
    ? undefined
    : "signed by a certificate that does not chain to the lab's trust roots (.lab/secrets/audit-trust)";
}
