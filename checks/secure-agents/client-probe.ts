/**
 * The agents' TLS client (clientTlsOptions in the learner's mtls/tls.ts, as src/services/secure-agent/main.ts uses
 * it) pointed at servers the grader runs: the real MCP server's identity, a valid SVID of another workload
 * (rag-index), and a certificate naming the MCP server from a CA the lab does not trust. Whether a client went
 * through is read from the grader's servers (did a request arrive?), not from the child's report.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { CheckContext } from '../../src/core/lab-definition.js';
import { createCa, issueCertificate } from '../../src/services/identity/pki.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import type { HarnessClientResult } from '../lib/learner-harness.js';
import { runLearnerCode } from '../lib/learner-code.js';
import { mintSvid } from '../lib/spire.js';

const listen = (server: Server) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

export async function probeAgentClients(ctx: CheckContext): Promise<{ problems: string[]; refused: string[] }> {
  const [research, support, right, wrongId, foreignCa] = await Promise.all([
    mintSvid(ctx, IDS.research),
    mintSvid(ctx, IDS.support),
    mintSvid(ctx, IDS.mcpServer),
    mintSvid(ctx, IDS.ragIndex),
    createCa('not the lab root', { days: 1 }),
  ]);
  const untrusted = await issueCertificate(foreignCa, { uris: [IDS.mcpServer], usage: 'server', days: 1 });
  const targets = [
    { name: 'right', what: `the real ${IDS.mcpServer}`, cert: right.certChainPem, key: right.keyPem },
    { name: 'wrong-id', what: `a valid SVID of ${IDS.ragIndex}`, cert: wrongId.certChainPem, key: wrongId.keyPem },
    {
      name: 'untrusted',
      what: `a certificate naming ${IDS.mcpServer} from a foreign CA`,
      cert: untrusted.certPem,
      key: untrusted.keyPem,
    },
  ];
  const reached = new Map<string, Set<string>>(targets.map((t) => [t.name, new Set<string>()]));
  const servers = targets.map((t) =>
    createServer({ cert: t.cert, key: t.key, minVersion: 'TLSv1.3' }, (req, res) => {
      reached.get(t.name)!.add(new URL(req.url ?? '/', 'https://probe').searchParams.get('as') ?? '?');
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }),
  );
  try {
    const ports = await Promise.all(servers.map(listen));
    const clients = [
      { as: 'research', certChainPem: research.certChainPem, keyPem: research.keyPem, bundlePem: research.bundlePem },
      { as: 'support', certChainPem: support.certChainPem, keyPem: support.keyPem, bundlePem: support.bundlePem },
    ];
    const results = await runLearnerCode<HarnessClientResult[]>('client', {
      tlsModule: path.join(ctx.workspaceDir, 'mtls', 'tls.ts'),
      serverId: IDS.mcpServer,
      svids: clients,
      targets: targets.map((t, i) => ({ name: t.name, url: `https://127.0.0.1:${ports[i]}/mcp` })),
    });
    const problems: string[] = [];
    for (const client of clients) {
      for (const target of targets) {
        const got = reached.get(target.name)!.has(client.as);
        const said = results.find((r) => r.as === client.as && r.target === target.name);
        if (target.name === 'right' && !got)
          problems.push(`agent-${client.as} could not reach ${target.what} (${said?.error ?? 'no request arrived'})`);
        if (target.name !== 'right' && got) problems.push(`agent-${client.as} sent its request to ${target.what}`);
      }
    }
    return { problems, refused: targets.filter((t) => t.name !== 'right').map((t) => t.what) };
  } finally {
    for (const server of servers) {
      server.close();
      server.closeAllConnections();
    }
  }
}
