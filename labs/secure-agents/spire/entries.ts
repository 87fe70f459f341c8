// Registration entries: which workload receives which SPIFFE ID. `npx lab start` and every `npx lab check` apply
// this list to the SPIRE server, as `spire-server entry create -data` would (the field names are SPIRE's own): they
// create what is missing and delete the entries they created earlier that the list no longer holds. Entries you
// create by hand with `npx lab spire entry create` are yours: they are never deleted for you.

export interface RegistrationEntry {
  spiffe_id: string;
  /** The SPIRE agent that may issue this identity: only workloads on that node can get it. */
  parent_id: string;
  /** What the agent must observe about the calling process, e.g. { type: 'docker', value: 'label:<key>:<value>' }. */
  selectors: Array<{ type: string; value: string }>;
  x509_svid_ttl?: number;
}

export const TRUST_DOMAIN = 'lab.ai-infra-labs.dev';

// @lab-step 1
// TODO: Step 1. Register here the workloads you did not register by hand: one entry per workload, with its SPIFFE ID
// TODO: (the table in the step), as parent the SPIRE agent that may issue it (its own SPIFFE ID, once it attested:
// TODO: `npx lab spire agent list`), and selectors that match its container and no other (the docker workload
// TODO: attestor's selectors). Read: https://spiffe.io/docs/latest/deploying/registering/ and the SPIFFE ID spec,
// TODO: https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md
// TODO: Verify: `npx lab check 1` applies this list; `npx lab spire entry show` lists what the server holds.
/** The SPIRE agent's own ID after x509pop node attestation (agent_path_template uses the certificate's CN, lab-node). */
const AGENT_ID = `spiffe://${TRUST_DOMAIN}/spire/agent/x509pop/lab-node`;

/** Every lab container carries the label dev.ai-infra-labs.workload=<name> (compose/secure-agents.yml). */
const workloadLabel = (name: string) => ({ type: 'docker', value: `label:dev.ai-infra-labs.workload:${name}` });
// @lab-end

export const entries: RegistrationEntry[] = [
  // @lab-step 1
  // TODO: your entries (step 1)
  { spiffe_id: `spiffe://${TRUST_DOMAIN}/mcp-server`, parent_id: AGENT_ID, selectors: [workloadLabel('mcp-server')] },
  { spiffe_id: `spiffe://${TRUST_DOMAIN}/rag-index`, parent_id: AGENT_ID, selectors: [workloadLabel('rag-index')] },
  { spiffe_id: `spiffe://${TRUST_DOMAIN}/agent/research`, parent_id: AGENT_ID, selectors: [workloadLabel('agent-research')] },
  // agent-support is registered by hand: `npx lab spire entry create ...` (step 1, "Try it by hand").
  // @lab-end
];
