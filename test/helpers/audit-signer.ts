/** An MCP server "SVID" from a throw-away root, for signing audit logs in tests (SPIRE issues the real one). */
import { createCa, issueCertificate } from '../../src/services/identity/pki.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';

export async function testSigner(spiffeId: string = IDS.mcpServer) {
  const root = await createCa('audit test root');
  const leaf = await issueCertificate(root, { uris: [spiffeId], usage: 'both' });
  return {
    rootPem: root.certPem,
    root: root.cert,
    svid: { spiffeId, certificates: [leaf.cert, root.cert], keyPem: leaf.keyPem },
  };
}
