/**
 * The checker's view of the lab's SPIRE: entries and agents as the server lists them, and X.509-SVIDs minted by
 * the server (`spire-server x509 mint`) so probes can call services as any identity in the trust domain — a
 * registered agent, or one nobody registered — with a certificate that really chains to the lab's root.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { CheckContext } from '../../src/core/lab-definition.js';
import { svidFromPem } from '../../src/services/identity/svid-pem.js';
import type { X509Svid } from '../../src/services/identity/workload-api-client.js';
import { SERVER_SOCKET, SPIRE_SERVER } from '../../labs/secure-agents/spire-layout.js';

const pem = (der: string) => new X509Certificate(Buffer.from(der, 'base64')).toString();

/** `ttl` as SPIRE reads durations ("10m", "2s": a short one makes an expired certificate to probe with). */
export async function mintSvid(ctx: Pick<CheckContext, 'exec'>, spiffeId: string, ttl = '10m'): Promise<X509Svid> {
  const minted = await ctx.exec('spire-server', [
    ...SPIRE_SERVER,
    'x509',
    'mint',
    ...SERVER_SOCKET,
    '-spiffeID',
    spiffeId,
    '-ttl',
    ttl,
    '-output',
    'json',
  ]);
  if (minted.exitCode !== 0) throw new Error(`spire-server x509 mint failed: ${minted.output.trim()}`);
  // stdout and stderr arrive together: the JSON document is the line that starts with "{" (a TTL cap is a warning line).
  const json = minted.output.split('\n').find((line) => line.startsWith('{'));
  if (!json) throw new Error(`spire-server x509 mint printed no JSON: ${minted.output.trim()}`);
  const { x509_svid, private_key, root_cas } = JSON.parse(json) as {
    x509_svid: string[];
    private_key: string;
    root_cas: string[];
  };
  const key = createPrivateKey({ key: Buffer.from(private_key, 'base64'), format: 'der', type: 'pkcs8' })
    .export({ format: 'pem', type: 'pkcs8' })
    .toString();
  return svidFromPem(x509_svid.map(pem).join(''), key, root_cas.map(pem).join(''));
}

export interface AttestedAgent {
  spiffeId: string;
  banned: boolean;
  /** How the server attested it: the NodeAttestor plugin (x509pop, join_token, ...). */
  attestationType: string;
}

export async function attestedAgents(ctx: CheckContext): Promise<AttestedAgent[]> {
  const listed = await ctx.exec('spire-server', [
    ...SPIRE_SERVER,
    'agent',
    'list',
    ...SERVER_SOCKET,
    '-output',
    'json',
  ]);
  if (listed.exitCode !== 0) throw new Error(`spire-server agent list failed: ${listed.output.trim()}`);
  const agents =
    (
      JSON.parse(listed.output) as {
        agents?: Array<{ id: { trust_domain: string; path: string }; banned?: boolean; attestation_type?: string }>;
      }
    ).agents ?? [];
  return agents.map((a) => ({
    spiffeId: `spiffe://${a.id.trust_domain}${a.id.path}`,
    banned: a.banned === true,
    attestationType: a.attestation_type ?? '',
  }));
}
