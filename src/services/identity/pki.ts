/**
 * A tiny certificate authority: EC P-256 keys, certificates built with @peculiar/x509 over Node's WebCrypto.
 * Two uses: per-run node-attestation material for SPIRE's x509pop attestor (a CA the server trusts and an
 * agent certificate it presents), and "foreign CA" probes in checks and tests (a certificate carrying the
 * right SPIFFE ID from a CA nobody trusts must be refused). Workload SVIDs themselves come from SPIRE.
 */
import { X509Certificate, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

let loaded: Promise<typeof X509> | undefined;
/**
 * @peculiar/x509 (0.25-0.35 s to load) only when a certificate is made: the modules that import this one (lab 2's
 * definition, its checks) are loaded by every command that opens the lab, `lab reset` and `lab status` included.
 */
function x509Library(): Promise<typeof X509> {
  loaded ??= import('@peculiar/x509').then((x509) => {
    // It signs through a WebCrypto provider; Node's is complete, so no polyfill is needed.
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  });
  return loaded;
}

export interface Issued {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
  cert: X509Certificate;
}

export interface IssueOptions {
  commonName?: string;
  uris?: string[];
  dnsNames?: string[];
  days?: number;
  usage: 'client' | 'server' | 'both';
}

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;
// Backdated so a peer whose clock runs a little behind ours (a container, a VM) does not see "not yet valid".
const CLOCK_SKEW_MS = 5 * 60 * 1000;

function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - CLOCK_SKEW_MS), notAfter: new Date(now + days * DAY_MS) };
}

/** 16 random bytes with the top bit clear: DER integers are signed, and RFC 5280 wants a positive serial. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
  return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
}

async function importSigningKey(keyPem: string): Promise<CryptoKey> {
  const der = createPrivateKey(keyPem).export({ format: 'der', type: 'pkcs8' });
  return (await webcrypto.subtle.importKey('pkcs8', der, EC_KEY, false, ['sign'])) as CryptoKey;
}

async function issued(cert: X509.X509Certificate, privateKey: CryptoKey): Promise<Issued> {
  const certPem = `${cert.toString('pem')}\n`;
  return { certPem, keyPem: await pkcs8Pem(privateKey), cert: new X509Certificate(certPem) };
}

/** A self-signed root: basicConstraints CA (critical), keyCertSign + cRLSign, subject key identifier. */
export async function createCa(commonName: string, options: { days?: number } = {}): Promise<Issued> {
  const x509 = await x509Library();
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [commonName] }],
    ...validity(options.days ?? 30),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return issued(cert, keys.privateKey);
}

// The extended key usage OIDs (RFC 5280 4.2.1.12), as @peculiar/x509's ExtendedKeyUsage names them.
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const USAGES: Record<IssueOptions['usage'], string[]> = {
  client: [CLIENT_AUTH],
  server: [SERVER_AUTH],
  both: [SERVER_AUTH, CLIENT_AUTH],
};

/**
 * A leaf signed by `ca`: not a CA, keyUsage digitalSignature only (all an ECDSA key does in TLS, and what
 * SPIRE's x509pop wants of an agent certificate), extendedKeyUsage by `usage`, SANs, key identifiers.
 * Without a common name the subject is empty, so the SAN extension is marked critical (RFC 5280 4.2.1.6).
 */
export async function issueCertificate(ca: Issued, options: IssueOptions): Promise<Issued> {
  const x509 = await x509Library();
  const keys = await generateKeys();
  const caCert = new x509.X509Certificate(ca.certPem);
  const names = [
    ...(options.uris ?? []).map((value) => ({ type: 'url' as const, value })),
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
  ];
  if (!options.commonName && names.length === 0)
    throw new Error('issueCertificate: give a commonName or at least one URI or DNS name');
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(USAGES[options.usage]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, !options.commonName));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: options.commonName ? [{ CN: [options.commonName] }] : [],
    issuer: caCert.subjectName,
    ...validity(options.days ?? 1),
    publicKey: keys.publicKey,
    signingKey: await importSigningKey(ca.keyPem),
    signingAlgorithm: SIGNING,
    extensions,
  });
  return issued(cert, keys.privateKey);
}
