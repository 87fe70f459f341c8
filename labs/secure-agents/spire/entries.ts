// Registration entries: which workload receives which SPIFFE ID. `lab start` and every `lab check` apply this
// list to the SPIRE server (creating, and deleting entries that are no longer listed), as
// `spire-server entry create -data` would: the field names are SPIRE's own.

export interface RegistrationEntry {
  spiffe_id: string;
  /** The SPIRE agent that may issue this identity: only workloads on that node can get it. */
  parent_id: string;
  /** What the agent must observe about the calling process, e.g. { type: 'docker', value: 'label:<key>:<value>' }. */
  selectors: Array<{ type: string; value: string }>;
  x509_svid_ttl?: number;
}

export const TRUST_DOMAIN = 'lab.ai-infra-labs.dev';

/** The SPIRE agent's own ID after x509pop node attestation (agent_path_template uses the certificate's CN, lab-node). */
export const AGENT_ID = `spiffe://${TRUST_DOMAIN}/spire/agent/x509pop/lab-node`;

/** Every lab container carries the label dev.ai-infra-labs.workload=<name> (compose/secure-agents.yml). */
const workloadLabel = (name: string) => ({ type: 'docker', value: `label:dev.ai-infra-labs.workload:${name}` });

export const entries: RegistrationEntry[] = [
  // @lab-step 1
  // TODO: One entry per workload, each with parent_id AGENT_ID and a docker label selector (workloadLabel(name)):
  // TODO:   spiffe://lab.ai-infra-labs.dev/mcp-server      for the container labelled mcp-server
  // TODO:   spiffe://lab.ai-infra-labs.dev/rag-index       for rag-index
  // TODO:   spiffe://lab.ai-infra-labs.dev/agent/research  for agent-research
  // TODO:   spiffe://lab.ai-infra-labs.dev/agent/support   for agent-support
  { spiffe_id: `spiffe://${TRUST_DOMAIN}/mcp-server`, parent_id: AGENT_ID, selectors: [workloadLabel('mcp-server')] },
  { spiffe_id: `spiffe://${TRUST_DOMAIN}/rag-index`, parent_id: AGENT_ID, selectors: [workloadLabel('rag-index')] },
  { spiffe_id: `spiffe://${TRUST_DOMAIN}/agent/research`, parent_id: AGENT_ID, selectors: [workloadLabel('agent-research')] },
  { spiffe_id: `spiffe://${TRUST_DOMAIN}/agent/support`, parent_id: AGENT_ID, selectors: [workloadLabel('agent-support')] },
  // @lab-end
];
