/**
 * Known-wrong policies, each one mistake away from the course's: the learner's tests must fail against every one
 * of them, or they do not test what step 3 asks (a suite of `true`, only the allowed cases, a mocked rule).
 * Each is a whole agents.authz module with the course's reason and decision rules, so tests of reasons
 * and decisions run against it too.
 */
import { IDS } from '../../labs/secure-agents/spire-layout.js';

export interface WrongPolicy {
  id: string;
  what: string;
  module: string;
}

const ALL_TOOLS = ['search_documents', 'get_document'];

function module(
  agents: Record<string, { tools: string[]; collections: string[] }>,
  extra = '',
  toolRule = 'tool_permitted if input.tool in agents[input.spiffe_id].tools',
): string {
  return `package agents.authz

default allow := false

default known_agent := false

default tool_permitted := false

default collection_permitted := false

agents := ${JSON.stringify(agents)}

known_agent if input.spiffe_id in object.keys(agents)

${toolRule}

collection_permitted if input.collection in agents[input.spiffe_id].collections

allow if {
	known_agent
	tool_permitted
	collection_permitted
}

${extra}

reason := "allowed" if {
	allow
} else := "unknown identity" if {
	not known_agent
} else := "tool not permitted for this agent" if {
	not tool_permitted
} else := "collection not permitted for this agent"

decision := {"allow": allow, "reason": reason}
`;
}

const course = (research: string[], support: string[]) => ({
  [IDS.research]: { tools: ALL_TOOLS, collections: research },
  [IDS.support]: { tools: ALL_TOOLS, collections: support },
});
const RIGHT = { research: ['public', 'internal', '*'], support: ['public'] };

export function wrongPolicies(): WrongPolicy[] {
  return [
    {
      id: 'allow-all',
      what: 'one that allows everything',
      module: module(course(RIGHT.research, RIGHT.support), 'allow if input.tool'),
    },
    { id: 'deny-all', what: 'one that denies everything', module: module({}) },
    {
      id: 'support-star',
      what: 'one that lets support search "*" (all collections)',
      module: module(course(RIGHT.research, ['public', '*'])),
    },
    {
      id: 'support-internal',
      what: 'one that lets support read internal',
      module: module(course(RIGHT.research, ['public', 'internal'])),
    },
    {
      id: 'research-no-internal',
      what: 'one that denies research internal',
      module: module(course(['public', '*'], RIGHT.support)),
    },
    {
      id: 'anyone-public',
      what: 'one that lets any caller, unknown or without identity, read public',
      module: module(course(RIGHT.research, RIGHT.support), 'allow if input.collection == "public"'),
    },
    {
      id: 'any-tool',
      what: 'one that permits every tool to a known agent',
      module: module(course(RIGHT.research, RIGHT.support), '', 'tool_permitted if known_agent'),
    },
  ];
}
