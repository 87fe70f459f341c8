/**
 * What lab 2's SPIRE names and where it lives, for the runner, the checks, the tests and the benchmark alike:
 * the trust domain, the SPIFFE IDs the workloads must get, and the SPIRE CLIs as they sit in their containers.
 * (The learner's spire/entries.ts spells the same IDs out itself: it is their file to write.)
 */
export const TRUST_DOMAIN = 'lab.ai-infra-labs.dev';
export const spiffeId = (path: string) => `spiffe://${TRUST_DOMAIN}/${path}`;

/** The SPIRE agent after x509pop attestation: agent_path_template uses the node certificate's CN, lab-node. */
export const AGENT_ID = spiffeId('spire/agent/x509pop/lab-node');

export const IDS = {
  mcpServer: spiffeId('mcp-server'),
  ragIndex: spiffeId('rag-index'),
  research: spiffeId('agent/research'),
  support: spiffeId('agent/support'),
  unregistered: spiffeId('agent/unregistered-probe'),
} as const;

/** `spire-server <command> ...SERVER_SOCKET`: the admin API socket never leaves the server's container. */
export const SPIRE_SERVER = ['/opt/spire/bin/spire-server'];
export const SERVER_SOCKET = ['-socketPath', '/run/spire/server/api.sock'];
export const AGENT_HEALTHCHECK = [
  '/opt/spire/bin/spire-agent',
  'healthcheck',
  '-socketPath',
  '/run/spire/sockets/agent.sock',
];
