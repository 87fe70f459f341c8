/**
 * The mTLS building blocks of lab 2, over real TLS on loopback with certificates minted here (no SPIRE): a
 * server that takes the caller's identity only from a verified client certificate, clients that check the
 * server's SPIFFE ID, rotation without restart, and the mTLS fetch driving a real MCP SDK client.
 */
import type { IncomingMessage, RequestListener } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FetchLike } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mtlsFetch, type MtlsFetch } from '../../src/services/identity/mtls-fetch.js';
import { listenMtls } from '../../src/services/identity/mtls-server.js';
import { createCa, issueCertificate, type Issued } from '../../src/services/identity/pki.js';
import { peerSpiffeId, spiffeIdOf, spiffeServerCheck, trustDomainOf } from '../../src/services/identity/spiffe-tls.js';
import { svidFromPem } from '../../src/services/identity/svid-pem.js';
import { SvidSource } from '../../src/services/identity/svid-source.js';
import type { X509Svid } from '../../src/services/identity/workload-api-client.js';

const SERVER_ID = 'spiffe://lab.test/mcp-server';
const AGENT_ID = 'spiffe://lab.test/agent/planner';

async function mint(ca: Issued, id: string, usage: 'client' | 'server', bundlePem = ca.certPem): Promise<X509Svid> {
  const leaf = await issueCertificate(ca, { uris: [id], usage });
  return svidFromPem(leaf.certPem, leaf.keyPem, bundlePem);
}

// What the lab's learner writes: demand a client certificate chained to the bundle.
const requireClientCert = (svid: X509Svid): https.ServerOptions => ({
  cert: svid.certChainPem,
  key: svid.keyPem,
  ca: svid.bundlePem,
  requestCert: true,
  rejectUnauthorized: true,
});

// Answers with the identity TLS verified; the serial shows which client certificate was presented.
const whoami: RequestListener = (req, res) => {
  const socket = req.socket as TLSSocket;
  res.setHeader('x-peer-serial', socket.getPeerCertificate().serialNumber ?? '');
  res.end(peerSpiffeId(socket) ?? 'anonymous');
};

const servers: https.Server[] = [];
const fetches: MtlsFetch[] = [];
const sources: SvidSource[] = [];

async function serve(source: SvidSource, handler: RequestListener = whoami): Promise<string> {
  sources.push(source);
  const server = await listenMtls(handler, source, { host: '127.0.0.1', port: 0, tlsOptions: requireClientCert });
  servers.push(server);
  return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

interface Answer {
  status: number;
  body: string;
  serverSerial: string;
  peerSerial: string;
}

/** One request on a fresh connection (agent: false: no pooled socket, no TLS session resumption). */
function get(url: string, tlsOptions: https.RequestOptions): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = https.get(url, { agent: false, ...tlsOptions }, (res) => {
      const serverSerial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, serverSerial, peerSerial: String(res.headers['x-peer-serial']) }),
      );
    });
    request.on('error', reject);
  });
}

const asClient = (
  svid: X509Svid | undefined,
  bundlePem: string,
  check = spiffeServerCheck(SERVER_ID),
): https.RequestOptions => ({
  ...(svid ? { cert: svid.certChainPem, key: svid.keyPem } : {}),
  ca: bundlePem,
  checkServerIdentity: check,
});

let ca: Issued;
let agentSvid: X509Svid;
let url: string;

beforeAll(async () => {
  ca = await createCa('lab.test CA');
  agentSvid = await mint(ca, AGENT_ID, 'client');
  url = await serve(SvidSource.fixed(await mint(ca, SERVER_ID, 'server')));
});

afterAll(async () => {
  await Promise.all(fetches.map((f) => f.close()));
  for (const source of sources) source.close();
  await Promise.all(
    servers.map((server) => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    }),
  );
});

describe('mTLS server: identity only from a verified client certificate', () => {
  it("answers a client with an SVID from the trusted CA with that SVID's SPIFFE ID", async () => {
    const answer = await get(url, asClient(agentSvid, ca.certPem));
    expect(answer.status).toBe(200);
    expect(answer.body).toBe(AGENT_ID);
  });

  it('refuses a client without a certificate: a TLS error, no HTTP response', async () => {
    // TLS 1.3: the client's handshake finishes before the server has checked it, so the refusal arrives as
    // an alert while the request is in flight (certificate required), not as a handshake failure.
    const error = await get(url, asClient(undefined, ca.certPem)).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(error, 'no HTTP response').toBeInstanceOf(Error);
    expect(error!.code).toMatch(/ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED|ECONNRESET/);
  });

  it('refuses a certificate with the right SPIFFE ID from a foreign CA', async () => {
    const foreign = await createCa('lab.test CA');
    const impostor = await mint(foreign, AGENT_ID, 'client');
    // Node's server verifies the client chain after OpenSSL's handshake and then destroys the socket without
    // an alert, so the client sees a reset ("socket hang up"), not an "unknown ca" alert.
    const error = await get(url, asClient(impostor, ca.certPem)).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(error, 'no HTTP response').toBeInstanceOf(Error);
    expect(error!.code).toBe('ECONNRESET');
  });
});

describe("mTLS client: the server's SPIFFE ID is checked", () => {
  it('refuses a server with another SPIFFE ID, saying which was expected and which it got', async () => {
    const error = await get(
      url,
      asClient(agentSvid, ca.certPem, spiffeServerCheck('spiffe://lab.test/rag-index')),
    ).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toContain('expected SPIFFE ID spiffe://lab.test/rag-index');
    expect(error?.message).toContain(`got ${SERVER_ID}`);
    expect((error as NodeJS.ErrnoException).code).toBe('ERR_SPIFFE_ID_MISMATCH');
  });

  it('accepts a predicate, e.g. any workload of the trust domain', async () => {
    const sameDomain = (id: string) => trustDomainOf(id) === 'lab.test';
    expect((await get(url, asClient(agentSvid, ca.certPem, spiffeServerCheck(sameDomain)))).body).toBe(AGENT_ID);
  });

  it("fails with Node's default checkServerIdentity, which ignores URI SANs (why the custom check exists)", async () => {
    const { checkServerIdentity: _custom, ...defaults } = asClient(agentSvid, ca.certPem);
    const error = await get(url, defaults).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(error?.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
  });
});

describe('rotation without restart', () => {
  it('serves a new connection with the new server SVID after source.update, signed by a new CA', async () => {
    const source = SvidSource.fixed(await mint(ca, SERVER_ID, 'server'));
    const rotatingUrl = await serve(source);
    const before = await get(rotatingUrl, asClient(agentSvid, ca.certPem));

    // As in a SPIRE CA rotation, the bundle carries the new CA and the old one while old SVIDs are live.
    const newCa = await createCa('lab.test CA 2');
    const bundle = newCa.certPem + ca.certPem;
    source.update(await mint(newCa, SERVER_ID, 'server', bundle));

    const after = await get(rotatingUrl, asClient(agentSvid, bundle));
    expect(after.body).toBe(AGENT_ID);
    expect(after.serverSerial).not.toBe(before.serverSerial);
    // Only the new CA can vouch for it now: a client still trusting just the old CA refuses it. (The server
    // sends the new root along, as OpenSSL completes its chain from `ca`, hence "self-signed ... in chain".)
    const stale = await get(rotatingUrl, asClient(agentSvid, ca.certPem)).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(stale?.code).toMatch(/SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  it('mtlsFetch presents the client SVID current at request time', async () => {
    const clientSource = SvidSource.fixed(agentSvid);
    sources.push(clientSource);
    const fetchMtls = mtlsFetch(clientSource, (svid) => ({
      cert: svid.certChainPem,
      key: svid.keyPem,
      ca: svid.bundlePem,
      checkServerIdentity: spiffeServerCheck(SERVER_ID),
    }));
    fetches.push(fetchMtls);

    const first = await fetchMtls(url);
    expect(await first.text()).toBe(AGENT_ID);
    const rotated = await mint(ca, 'spiffe://lab.test/agent/planner-v2', 'client');
    clientSource.update(rotated);
    const second = await fetchMtls(new URL('/again', url), { headers: new Headers({ accept: 'text/plain' }) });
    expect(await second.text()).toBe('spiffe://lab.test/agent/planner-v2');
    expect(second.headers.get('x-peer-serial')).toBe(rotated.certificates[0]!.serialNumber);
    expect(first.headers.get('x-peer-serial')).toBe(agentSvid.certificates[0]!.serialNumber);
  });

  it("mtlsFetch surfaces a wrong server as fetch's TypeError with the SPIFFE mismatch as cause", async () => {
    const source = SvidSource.fixed(agentSvid);
    sources.push(source);
    const fetchMtls = mtlsFetch(source, (svid) => ({
      cert: svid.certChainPem,
      key: svid.keyPem,
      ca: svid.bundlePem,
      checkServerIdentity: spiffeServerCheck('spiffe://lab.test/rag-index'),
    }));
    fetches.push(fetchMtls);
    const error = await fetchMtls(url).then(
      () => undefined,
      (e: Error & { cause?: Error }) => e,
    );
    expect(error?.message).toBe('fetch failed');
    expect(error?.cause?.message).toContain(`expected SPIFFE ID spiffe://lab.test/rag-index, got ${SERVER_ID}`);
  });
});

describe("mtlsFetch as the MCP SDK transport's fetch", () => {
  it("carries a real MCP client, and the server's tool sees the agent's verified SPIFFE ID", async () => {
    // Stateless Streamable HTTP: one McpServer per request, the caller's identity read off the TLS socket.
    const mcp: RequestListener = async (req: IncomingMessage, res) => {
      const caller = peerSpiffeId(req.socket as TLSSocket);
      const server = new McpServer({ name: 'whoami', version: '0.0.0' });
      server.registerTool('whoami', { description: "the caller's SPIFFE ID" }, async () => ({
        content: [{ type: 'text', text: caller ?? 'anonymous' }],
      }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      res.on('close', () => void server.close());
      await server.connect(transport);
      await transport.handleRequest(req, res);
    };
    const mcpUrl = await serve(SvidSource.fixed(await mint(ca, SERVER_ID, 'server')), mcp);
    const source = SvidSource.fixed(agentSvid);
    sources.push(source);
    const fetchMtls = mtlsFetch(source, (svid) => ({
      cert: svid.certChainPem,
      key: svid.keyPem,
      ca: svid.bundlePem,
      checkServerIdentity: spiffeServerCheck(SERVER_ID),
    }));
    fetches.push(fetchMtls);
    const fetchLike: FetchLike = fetchMtls; // compiles: the SDK's FetchLike accepts it without a cast

    const client = new Client({ name: 'planner', version: '0.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL('/mcp', mcpUrl), { fetch: fetchLike }));
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as CallToolResult;
    expect(result.content[0]).toEqual({ type: 'text', text: AGENT_ID });
    await client.close();
  });
});

describe('SvidSource', () => {
  it('rejects ready() naming the socket and the Workload API error when no agent answers', async () => {
    const lines: string[] = [];
    const source = SvidSource.fromWorkloadApi('/nonexistent/agent.sock', (line) => lines.push(line));
    sources.push(source);
    const error = await source.ready(1_500).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toMatch(
      /no X\.509-SVID from the Workload API at \/nonexistent\/agent\.sock within 1\.5 s: .*Unavailable.*SPIRE agent running/,
    );
    expect(lines.length, 'each distinct error logged once, not on every retry').toBe(1);
  });

  it('hands the first SVID to waiters and each later one to listeners', async () => {
    const source = SvidSource.fixed(agentSvid);
    const seen: string[] = [];
    const unsubscribe = source.onUpdate((svid) => seen.push(svid.certificates[0]!.serialNumber));
    expect(await source.ready()).toBe(agentSvid);
    const next = await mint(ca, AGENT_ID, 'client');
    source.update(next);
    unsubscribe();
    source.update(agentSvid);
    expect(seen).toEqual([next.certificates[0]!.serialNumber]);
    source.close();
  });
});

describe('spiffeIdOf', () => {
  const cert = (subjectaltname?: string): Pick<PeerCertificate, 'subjectaltname'> => ({ subjectaltname });

  it('reads the one spiffe:// URI SAN', () => {
    expect(spiffeIdOf(cert('URI:spiffe://lab.test/agent'))).toBe('spiffe://lab.test/agent');
    expect(spiffeIdOf(cert('DNS:mcp.local, URI:spiffe://lab.test/agent, IP Address:127.0.0.1'))).toBe(
      'spiffe://lab.test/agent',
    );
    expect(spiffeIdOf(agentSvid.certificates[0])).toBe(AGENT_ID);
  });

  it('gives undefined without a URI SAN, with several (an X509-SVID has exactly one), or with a non-SPIFFE URI', () => {
    expect(spiffeIdOf(undefined)).toBeUndefined();
    expect(spiffeIdOf(cert())).toBeUndefined();
    expect(spiffeIdOf(cert('DNS:mcp.local'))).toBeUndefined();
    expect(spiffeIdOf(cert('URI:spiffe://lab.test/a, URI:spiffe://lab.test/b'))).toBeUndefined();
    expect(spiffeIdOf(cert('URI:spiffe://lab.test/a, URI:https://lab.test/b'))).toBeUndefined();
    expect(spiffeIdOf(cert('URI:https://lab.test/agent'))).toBeUndefined();
  });

  it('is not fooled by one crafted URI SAN that Node prints escaped, nor by malformed SPIFFE IDs', () => {
    expect(spiffeIdOf(cert('URI:"spiffe://lab.test/a, URI:spiffe://lab.test/b"'))).toBeUndefined();
    expect(spiffeIdOf(cert('URI:spiffe://Lab.Test/agent'))).toBeUndefined();
    expect(spiffeIdOf(cert('URI:spiffe://lab.test/../admin'))).toBeUndefined();
    expect(spiffeIdOf(cert('URI:spiffe://lab.test/agent?x=1'))).toBeUndefined();
  });

  it('trustDomainOf takes the trust domain and rejects non-IDs', () => {
    expect(trustDomainOf('spiffe://lab.test/agent')).toBe('lab.test');
    expect(() => trustDomainOf('https://lab.test/agent')).toThrow(/not a SPIFFE ID/);
  });
});
