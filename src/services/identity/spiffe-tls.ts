/**
 * SPIFFE identity read from TLS certificates. The only trustworthy source of a peer's identity is a
 * certificate whose chain the TLS layer verified against the trust bundle; headers or claimed names are not.
 */
import type { X509Certificate } from 'node:crypto';
import type { PeerCertificate, TLSSocket } from 'node:tls';

// SPIFFE ID syntax (SPIFFE-ID spec, section 2): lowercase trust domain, path segments of [A-Za-z0-9._-], no
// query, fragment, port or userinfo. Checking it also rules out URI SANs crafted to look like a list.
const SPIFFE_ID = /^spiffe:\/\/([a-z0-9._-]+)((?:\/[A-Za-z0-9._-]+)*)$/;

function isSpiffeId(value: string): boolean {
  const match = SPIFFE_ID.exec(value);
  return match !== null && !match[2]!.split('/').some((segment) => segment === '.' || segment === '..');
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold raw control characters (RFC 8259).
const JSON_STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;

/**
 * Splits Node's subjectaltname string ("URI:a, DNS:b") into entries. Since Node 17.3 a value holding a comma
 * or a quote is written as a JSON string (URI:"spiffe://td/a, URI:spiffe://td/b"), so a naive split on ", "
 * would let one crafted SAN pose as two. Same algorithm as Node's own (lib/tls.js splitEscapedAltNames).
 */
function splitAltNames(altNames: string): string[] {
  const result: string[] = [];
  let current = '';
  let offset = 0;
  while (offset < altNames.length) {
    const nextSeparator = altNames.indexOf(',', offset);
    const nextQuote = altNames.indexOf('"', offset);
    if (nextQuote !== -1 && (nextSeparator === -1 || nextQuote < nextSeparator)) {
      current += altNames.substring(offset, nextQuote);
      const match = JSON_STRING.exec(altNames.substring(nextQuote));
      if (!match) throw new Error(`malformed subjectAltName: ${altNames}`);
      current += JSON.parse(match[0]) as string;
      offset = nextQuote + match[0].length;
    } else if (nextSeparator !== -1) {
      current += altNames.substring(offset, nextSeparator);
      result.push(current);
      current = '';
      offset = nextSeparator + 2;
    } else {
      current += altNames.substring(offset);
      offset = altNames.length;
    }
  }
  if (current || result.length > 0) result.push(current);
  return result;
}

function altNamesOf(cert: { subjectaltname?: string } | X509Certificate): string | undefined {
  return 'subjectAltName' in cert ? cert.subjectAltName : cert.subjectaltname;
}

/**
 * The SPIFFE ID of an X509-SVID: its one URI SAN, when that is a well-formed spiffe:// ID. An X509-SVID has
 * exactly one URI SAN (X509-SVID spec, 2), so a certificate with several (even one spiffe:// among them) is
 * not an SVID and gets undefined, as does one with none. Works on node:crypto X509Certificate and on
 * tls PeerCertificate. Says nothing about trust: only use it on a chain TLS has verified.
 */
export function spiffeIdOf(cert: { subjectaltname?: string } | X509Certificate | undefined): string | undefined {
  const altNames = cert ? altNamesOf(cert) : undefined;
  if (!altNames) return undefined;
  let uris: string[];
  try {
    uris = splitAltNames(altNames)
      .filter((entry) => entry.startsWith('URI:'))
      .map((entry) => entry.slice('URI:'.length));
  } catch {
    return undefined;
  }
  return uris.length === 1 && isSpiffeId(uris[0]!) ? uris[0] : undefined;
}

/**
 * The verified SPIFFE ID of the peer on a TLS socket, or undefined. `authorized` is true only when the peer
 * sent a certificate whose chain verified against the configured `ca`; with rejectUnauthorized: false a
 * server still completes handshakes with unverified (or absent) certificates, and those must not count.
 */
export function peerSpiffeId(socket: TLSSocket): string | undefined {
  if (!socket.authorized) return undefined;
  return spiffeIdOf(socket.getPeerCertificate());
}

/**
 * A checkServerIdentity for clients of SPIFFE servers. Node's default check compares the host name with DNS
 * and IP SANs and ignores URI SANs, so an SVID (URI SAN only) fails it with ERR_TLS_CERT_ALTNAME_INVALID.
 * This compares the server's SPIFFE ID instead. Node calls it only after the chain verified against `ca`.
 */
export function spiffeServerCheck(
  expected: string | ((id: string) => boolean),
): (host: string, cert: PeerCertificate) => Error | undefined {
  const accepts = typeof expected === 'string' ? (id: string) => id === expected : expected;
  const wanted = typeof expected === 'string' ? expected : `an ID accepted by ${expected.name || 'the given check'}`;
  return (host, cert) => {
    const id = spiffeIdOf(cert);
    if (id && accepts(id)) return undefined;
    const got = id ?? `no SPIFFE ID (subjectAltName: ${cert.subjectaltname || 'none'})`;
    return Object.assign(
      new Error(`server ${host || '(no name)'} is not the expected workload: expected SPIFFE ID ${wanted}, got ${got}`),
      {
        code: 'ERR_SPIFFE_ID_MISMATCH',
        expected: wanted,
        got: id,
      },
    );
  };
}

/** "spiffe://example.org/agent" -> "example.org". Throws on anything that is not a SPIFFE ID. */
export function trustDomainOf(id: string): string {
  const match = SPIFFE_ID.exec(id);
  if (!match || !isSpiffeId(id)) throw new Error(`not a SPIFFE ID: ${JSON.stringify(id)}`);
  return match[1]!;
}
