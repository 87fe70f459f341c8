/**
 * Per-run key material for lab 2, made on every fresh `lab start` and never logged. Each secret goes to the one
 * container that needs it (compose/secure-agents.yml mounts them one by one; no workload sees this folder):
 * - spire-server/: the root CA the SPIRE server signs under (UpstreamAuthority "disk") with its key, and the node
 *   CA it trusts for x509pop attestation; only spire-server mounts it;
 * - spire-agent/: the root (the agent's trust bundle, given ahead of time: no insecure bootstrap) and the node's
 *   certificate and key (CN lab-node names the agent's SPIFFE ID); only spire-agent mounts it;
 * - opa/: the token only the MCP server may present to OPA, and its sha256 (all OPA holds);
 * - audit-trust/: every root this workspace has used, kept across runs, so `lab audit --verify` can check the
 *   signatures of entries written under an earlier run's root. Host-side only.
 * The server's previous datastore goes with them: it recorded nodes and entries under the old root.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { auditTrustDir } from '../../src/services/audit/audit-trust.js';
import { createCa, issueCertificate } from '../../src/services/identity/pki.js';

export const NODE_NAME = 'lab-node';

/** The OPA token the MCP server presents (a compose secret file). */
export const opaTokenFile = (secretsDir: string) => path.join(secretsDir, 'opa', 'token');

export async function provisionSpire(secretsDir: string): Promise<void> {
  const server = path.join(secretsDir, 'spire-server');
  const agent = path.join(secretsDir, 'spire-agent');
  const data = path.join(secretsDir, 'spire-server-data');
  const opa = path.dirname(opaTokenFile(secretsDir));
  for (const dir of [server, agent, data, opa]) {
    rmSync(dir, { recursive: true, force: true });
    // The spire-agent runs as root without capabilities, in the learner's group (compose file): root cannot read
    // another user's 0600 file without CAP_DAC_OVERRIDE, so its folder and key are group-readable instead.
    mkdirSync(dir, { recursive: true, mode: dir === agent ? 0o750 : 0o700 });
  }
  mkdirSync(auditTrustDir(secretsDir), { recursive: true, mode: 0o700 });
  // The audit folder is the MCP server's to write: made here, as the learner, before compose would make it as root.
  mkdirSync(path.join(path.dirname(secretsDir), 'audit'), { recursive: true, mode: 0o700 });
  // The trace receiver's folder, made here as the learner's: a bind mount Docker creates itself is root's.
  mkdirSync(path.join(path.dirname(secretsDir), 'traces'), { recursive: true, mode: 0o700 });
  const root = await createCa('ai-infra-labs secure-agents root', { days: 2 });
  const nodeCa = await createCa('ai-infra-labs secure-agents node CA', { days: 2 });
  const node = await issueCertificate(nodeCa, { commonName: NODE_NAME, usage: 'client', days: 2 });
  const write = (file: string, content: string, mode: number) => writeFileSync(file, content, { mode });
  write(path.join(server, 'upstream-ca.pem'), root.certPem, 0o644);
  write(path.join(server, 'upstream-ca.key'), root.keyPem, 0o600);
  write(path.join(server, 'node-ca.pem'), nodeCa.certPem, 0o644);
  write(path.join(agent, 'bundle.pem'), root.certPem, 0o644);
  write(path.join(agent, 'agent.pem'), node.certPem, 0o644);
  write(path.join(agent, 'agent.key'), node.keyPem, 0o640);
  write(
    path.join(
      auditTrustDir(secretsDir),
      `root-${root.cert.fingerprint256.replace(/:/g, '').slice(0, 16).toLowerCase()}.pem`,
    ),
    root.certPem,
    0o644,
  );
  const token = randomBytes(32).toString('base64url');
  write(opaTokenFile(secretsDir), token, 0o600);
  // OPA loads this file as data (data.lab_opa.token_sha256); its system.authz policy compares against it.
  write(
    path.join(opa, 'token-sha256.json'),
    JSON.stringify({ lab_opa: { token_sha256: createHash('sha256').update(token).digest('hex') } }),
    0o600,
  );
}
