/**
 * Per-run key material for lab 2, made on every fresh `lab start` and never logged:
 * - the root CA the SPIRE server signs under (UpstreamAuthority "disk"): its certificate is the trust bundle the
 *   agent is given ahead of time, so the agent never bootstraps trust insecurely;
 * - the node CA and the node's certificate for x509pop attestation (CN lab-node names the agent's SPIFFE ID).
 * The server's previous datastore goes with them: it recorded nodes and entries under the old root.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createCa, issueCertificate } from '../../src/services/identity/pki.js';

export const NODE_NAME = 'lab-node';

export async function provisionSpire(secretsDir: string): Promise<void> {
  const server = path.join(secretsDir, 'spire-server');
  const agent = path.join(secretsDir, 'spire-agent');
  const data = path.join(secretsDir, 'spire-server-data');
  for (const dir of [server, agent, data]) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  const root = await createCa('ai-infra-labs secure-agents root', { days: 2 });
  const nodeCa = await createCa('ai-infra-labs secure-agents node CA', { days: 2 });
  const node = await issueCertificate(nodeCa, { commonName: NODE_NAME, usage: 'client', days: 2 });
  const write = (file: string, content: string, mode: number) => writeFileSync(file, content, { mode });
  write(path.join(server, 'upstream-ca.pem'), root.certPem, 0o644);
  write(path.join(server, 'upstream-ca.key'), root.keyPem, 0o600);
  write(path.join(server, 'node-ca.pem'), nodeCa.certPem, 0o644);
  write(path.join(agent, 'bundle.pem'), root.certPem, 0o644);
  write(path.join(agent, 'agent.pem'), node.certPem, 0o644);
  write(path.join(agent, 'agent.key'), node.keyPem, 0o600);
}
