# Per-agent authorization for MCP tool calls. The MCP search server asks OPA before every tool call:
#   POST /v1/data/agents/authz/decision {"input": <the input below>} -> {"result": {"allow": bool, "reason": string}}
#
# Input:
#   spiffe_id   the caller's SPIFFE ID from its mTLS certificate, or null when it presented none
#   tool        the MCP tool called, e.g. "search_documents"
#   arguments   the tool call's arguments (an object), for rules that look at them
#   collection  the collection the call touches: "public", "internal", or "*" for all of them
#               (a search without a collection filter reads every collection)
package agents.authz

# Deny unless a rule below says otherwise: an undefined allow would reach the server as "no result".
default allow := false

# The reason rules use these three; the defaults keep every request denied until they are written.
default known_agent := false

default tool_permitted := false

default collection_permitted := false

# @lab-step 3
# TODO: Step 3. Decide per agent, from its verified SPIFFE ID alone: the research agent may call search_documents and
# TODO: get_document on every collection ("public", "internal", and "*" for a search over all of them); the support
# TODO: agent the same tools on "public" only; any other caller, or none, nothing. Define allow and the three rules the
# TODO: reason below reads (known_agent, tool_permitted, collection_permitted). Grants kept as data, one per SPIFFE
# TODO: ID, make the next agent a one-line change. Read: https://www.openpolicyagent.org/docs/policy-language
# TODO: Verify: `npx lab opa test` (write the tests in agents_test.rego), `npx lab logs opa`, `npx lab check 3`.
agents := {
	"spiffe://lab.ai-infra-labs.dev/agent/research": {
		"tools": {"search_documents", "get_document"},
		"collections": {"public", "internal", "*"},
	},
	"spiffe://lab.ai-infra-labs.dev/agent/support": {
		"tools": {"search_documents", "get_document"},
		# "*" is not granted: a search over every collection would reach internal documents.
		"collections": {"public"},
	},
}

known_agent if input.spiffe_id in object.keys(agents)

tool_permitted if input.tool in agents[input.spiffe_id].tools

collection_permitted if input.collection in agents[input.spiffe_id].collections

allow if {
	known_agent
	tool_permitted
	collection_permitted
}

# @lab-end

# The first failing condition, so a denial in the audit log says what to change.
reason := "allowed" if {
	allow
} else := "unknown identity" if {
	not known_agent
} else := "tool not permitted for this agent" if {
	not tool_permitted
} else := "collection not permitted for this agent"

decision := {"allow": allow, "reason": reason}
