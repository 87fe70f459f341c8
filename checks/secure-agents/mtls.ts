import { X509Certificate } from 'node:crypto';
import { fail, pass, type CheckContext, type CheckDefinition } from '../../src/core/lab-definition.js';
import { createCa, issueCertificate } from '../../src/services/identity/pki.js';
import { IDS } from '../../labs/secure-agents/spire-layout.js';
import { mintSvid } from '../lib/spire.js';
import { INITIALIZE, requestWith, tlsEndpoint, type ProbeClient, type ServeResult } from '../lib/mtls-probe.js';
import { agentRun } from './agents.js';
import { agentCallsWitnessed } from './evidence.js';
import { probeAgentClients } from './client-probe.js';

const STEP2 = 'Complete step 2 in mtls/tls.ts (serverTlsOptions and clientTlsOptions), then run `lab check 2`.';
const outcome = (r: ServeResult) => (r.served ? `served (HTTP ${r.status})` : `refused (${r.error})`);

/** POST initialize to the MCP server, or GET a search on the index, with the given client credentials. */
function probe(
  ctx: CheckContext,
  service: 'mcp-server' | 'rag-index',
  client: Omit<ProbeClient, 'serverId'>,
): Promise<ServeResult> {
  const endpoint = tlsEndpoint(ctx, service);
  const serverId = service === 'mcp-server' ? IDS.mcpServer : IDS.ragIndex;
  return service === 'mcp-server'
    ? requestWith(endpoint, '/mcp', { ...client, serverId }, { method: 'POST', body: INITIALIZE })
    : requestWith(endpoint, '/search?q=spiffe&k=1', { ...client, serverId });
}

/** What a bad client offers: each must be refused by both servers, though it presents a valid SVID. */
const OLD_PROTOCOLS: Array<{ what: string; client: Pick<ProbeClient, 'minVersion' | 'maxVersion' | 'ciphers'> }> = [
  { what: 'TLS 1.2', client: { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' } },
  {
    what: 'TLS 1.2 with CBC/SHA-1 suites',
    client: {
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:AES128-SHA:AES256-SHA',
    },
  },
  { what: 'TLS 1.1', client: { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' } },
];

export const noClientCertificate: CheckDefinition = {
  id: 'mtls-no-client-cert',
  title:
    'The MCP server and rag-index speak only mutual TLS 1.3: no client certificate, TLS 1.2 or weak suites are refused; a valid SVID is served',
  timeoutMs: 30_000,
  async run(ctx) {
    const research = await mintSvid(ctx, IDS.research);
    const valid = { cert: research.certChainPem, key: research.keyPem, ca: research.bundlePem };
    const anonymous = { ca: research.bundlePem };
    const [mcpAnonymous, indexAnonymous, mcpValid] = await Promise.all([
      probe(ctx, 'mcp-server', anonymous),
      probe(ctx, 'rag-index', anonymous),
      probe(ctx, 'mcp-server', valid),
    ]);
    // A valid SVID offering only an old protocol or weak suites: refused by both, whatever else is right.
    const old = await Promise.all(
      (['mcp-server', 'rag-index'] as const).flatMap((service) =>
        OLD_PROTOCOLS.map(async (o) => ({
          service,
          what: o.what,
          result: await probe(ctx, service, { ...valid, ...o.client }),
        })),
      ),
    );
    const problems = [
      mcpAnonymous.served && `the MCP server served a caller without a certificate (${outcome(mcpAnonymous)})`,
      indexAnonymous.served && `rag-index served a caller without a certificate (${outcome(indexAnonymous)})`,
      !(mcpValid.served && mcpValid.status === 200) &&
        `the MCP server did not serve a valid SVID of ${IDS.research}: ${outcome(mcpValid)}`,
      ...old.filter((r) => r.result.served).map((r) => `${r.service} accepted ${r.what} (${outcome(r.result)})`),
    ].filter(Boolean);
    if (problems.length > 0) {
      const weak = old.some((r) => r.result.served);
      return fail(
        `mTLS is not enforced as required: ${problems.join('; ')}.`,
        `serverTlsOptions must set requestCert and rejectUnauthorized to true and ca to the bundle${weak ? ", and keep minVersion: 'TLSv1.3' (TLS 1.3 has only strong suites; do not lower it or add ciphers)" : ''}. ${STEP2}`,
        { mcpAnonymous, indexAnonymous, mcpValid },
      );
    }
    return pass(
      `No certificate: MCP server ${outcome(mcpAnonymous)}, rag-index ${outcome(indexAnonymous)}; ${old.length} TLS 1.2/weak offers refused; valid SVID over TLS 1.3: ${outcome(mcpValid)}.`,
    );
  },
};

export const foreignCa: CheckDefinition = {
  id: 'mtls-foreign-ca',
  title: 'A certificate from a foreign CA, or an expired SVID, even one naming a registered agent, is refused',
  timeoutMs: 30_000,
  async run(ctx) {
    const [research, expiring] = await Promise.all([mintSvid(ctx, IDS.research), mintSvid(ctx, IDS.research, '1s')]);
    // Same SPIFFE ID, same shape, wrong issuer: only the chain to the lab's root tells it apart.
    const foreign = await createCa('not the lab root');
    const impostor = await issueCertificate(foreign, { uris: [IDS.research], usage: 'client', days: 1 });
    const client = { cert: impostor.certPem, key: impostor.keyPem, ca: research.bundlePem };
    const mcp = await probe(ctx, 'mcp-server', client);
    const index = await probe(ctx, 'rag-index', client);
    // A refusal means something only if the real SVID is served: a server that serves nobody refuses everyone.
    const valid = await probe(ctx, 'mcp-server', {
      cert: research.certChainPem,
      key: research.keyPem,
      ca: research.bundlePem,
    });
    if (!(valid.served && valid.status === 200)) {
      return fail(
        `The MCP server does not serve even a valid SVID of ${IDS.research} (${outcome(valid)}), so its refusals prove nothing yet.`,
        `serverTlsOptions must trust the bundle (ca) while requiring client certificates. ${STEP2}`,
      );
    }
    // A real SVID of the lab's SPIRE server, one second to live: expired by the time it is presented.
    await ctx.clock.sleep(
      Math.max(0, new Date(expiryOf(expiring.certChainPem)).getTime() - ctx.clock.now().getTime() + 1_500),
    );
    const expired = { cert: expiring.certChainPem, key: expiring.keyPem, ca: expiring.bundlePem };
    const [mcpExpired, indexExpired] = await Promise.all([
      probe(ctx, 'mcp-server', expired),
      probe(ctx, 'rag-index', expired),
    ]);
    const accepted = [
      mcp.served && `foreign CA by the MCP server (${outcome(mcp)})`,
      index.served && `foreign CA by rag-index (${outcome(index)})`,
      mcpExpired.served && `expired SVID by the MCP server (${outcome(mcpExpired)})`,
      indexExpired.served && `expired SVID by rag-index (${outcome(indexExpired)})`,
    ].filter(Boolean);
    if (accepted.length > 0) {
      return fail(
        `A certificate for ${IDS.research} that must be refused was accepted: ${accepted.join('; ')}.`,
        `Trust exactly the SPIRE bundle and let TLS verify it: ca = svid.bundlePem with rejectUnauthorized: true in serverTlsOptions. ${STEP2}`,
      );
    }
    return pass(
      `Foreign-CA certificate refused (MCP server ${outcome(mcp)}, rag-index ${outcome(index)}); expired SVID refused (${outcome(mcpExpired)}, ${outcome(indexExpired)}).`,
    );
  },
};

export const indexOnlyForMcpServer: CheckDefinition = {
  id: 'mtls-index-callers',
  title: 'rag-index serves the MCP server and refuses other verified identities',
  async run(ctx) {
    const mcp = await mintSvid(ctx, IDS.mcpServer);
    const research = await mintSvid(ctx, IDS.research);
    const asServer = await probe(ctx, 'rag-index', { cert: mcp.certChainPem, key: mcp.keyPem, ca: mcp.bundlePem });
    const asAgent = await probe(ctx, 'rag-index', {
      cert: research.certChainPem,
      key: research.keyPem,
      ca: research.bundlePem,
    });
    const problems = [
      !(asServer.served && asServer.status === 200) &&
        `as ${IDS.mcpServer} the index answered ${outcome(asServer)}${asServer.body ? `: ${asServer.body.slice(0, 120)}` : ''}`,
      asAgent.served &&
        asAgent.status === 200 &&
        `as ${IDS.research} the index served the search: agents must go through the MCP server`,
    ].filter(Boolean);
    if (problems.length > 0)
      return fail(
        `${problems.join('; ')}.`,
        `rag-index reads the caller's SPIFFE ID from its verified certificate, so it must request one: ${STEP2}`,
        { asServer, asAgent },
      );
    return pass(`As ${IDS.mcpServer}: ${outcome(asServer)}; as ${IDS.research}: ${outcome(asAgent)}.`);
  },
};

export const agentsConnect: CheckDefinition = {
  id: 'mtls-agents-connect',
  title: 'Both agents connect over mTLS, verify the server is spiffe://…/mcp-server and discover its tools',
  timeoutMs: 60_000,
  async run(ctx) {
    const runs = await Promise.all([agentRun(ctx, 'research'), agentRun(ctx, 'support')]);
    const broken = runs.filter((r) => !r.connected || !r.tools.includes('search_documents'));
    if (broken.length > 0) {
      const why = broken
        .map((r) => `agent-${r.role}: ${r.error ?? `tools ${r.tools.join(', ') || 'none'}`}`)
        .join('; ');
      const altname = /ERR_TLS_CERT_ALTNAME_INVALID|altnames|Hostname\/IP does not match/i.test(why);
      return fail(
        `The agents could not use the MCP server: ${why}.`,
        altname
          ? `Node checked the server's certificate against its host name, but an SVID names its workload in a URI SAN: give clientTlsOptions a checkServerIdentity that compares the URI SAN with serverId. ${STEP2}`
          : `clientTlsOptions must present the agent's SVID (cert, key) and verify the server's SPIFFE ID. ${STEP2} \`lab logs agent-research\` shows the run.`,
      );
    }
    // The RESULT line is the agents' own word, printed by a process that runs learner code: where the audit is
    // in place, each call it reports must be on the server's record under the agent's verified identity.
    const unwitnessed = (await Promise.all(runs.map((r) => agentCallsWitnessed(ctx, r)))).flat();
    if (unwitnessed.length > 0) {
      return fail(
        `The agents report calls the MCP server never saw: ${unwitnessed.join('; ')}.`,
        `Nothing may rewrite what an agent reports: clientTlsOptions must only return options. ${STEP2} \`lab logs agent-research\` shows the run.`,
      );
    }
    return pass(
      `Both agents connected as ${runs.map((r) => r.spiffe_id).join(' and ')} and listed ${runs[0]!.tools.join(', ')}.`,
    );
  },
};

function expiryOf(pem: string): string {
  return new X509Certificate(pem).validTo;
}

export const agentsVerifyServer: CheckDefinition = {
  id: 'mtls-agents-verify-server',
  title: "Both agents refuse a server whose valid SVID names another workload, and one whose chain is not the lab's",
  timeoutMs: 45_000,
  async run(ctx) {
    const verdict = await probeAgentClients(ctx);
    if (verdict.problems.length > 0) {
      return fail(
        `The agents' TLS client does not verify the server: ${verdict.problems.join('; ')}.`,
        `clientTlsOptions must keep the bundle as ca (with rejectUnauthorized left on) and accept the server only when its one URI SAN equals serverId. ${STEP2}`,
      );
    }
    return pass(`Research and support reached the real ${IDS.mcpServer} and refused ${verdict.refused.join(' and ')}.`);
  },
};
