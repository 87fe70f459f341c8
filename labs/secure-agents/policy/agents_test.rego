package agents.authz_test

# @lab-step 3
# TODO: Step 3. Test the policy, one test per case of the step's decision matrix: both agents on each collection
# TODO: and tool, an unknown identity, another trust domain's, a null and a missing one, a tool outside the grants, and
# TODO: the reasons. Read: https://www.openpolicyagent.org/docs/policy-testing (test rules, `with input as`).
# TODO: Verify: `npx lab opa test` runs them in the OPA container (`--run <name>` picks some).
import data.agents.authz

research := "spiffe://lab.ai-infra-labs.dev/agent/research"

support := "spiffe://lab.ai-infra-labs.dev/agent/support"

call(spiffe_id, tool, collection) := {"spiffe_id": spiffe_id, "tool": tool, "arguments": {"query": "vacation policy"}, "collection": collection}

test_research_allowed_internal if {
	authz.allow with input as call(research, "search_documents", "internal")
}

test_research_allowed_get_document_public if {
	authz.allow with input as call(research, "get_document", "public")
}

test_research_allowed_all_collections if {
	authz.allow with input as call(research, "search_documents", "*")
}

test_support_allowed_public if {
	authz.allow with input as call(support, "search_documents", "public")
}

test_support_allowed_get_document_public if {
	authz.allow with input as call(support, "get_document", "public")
}

test_support_denied_internal if {
	not authz.allow with input as call(support, "search_documents", "internal")
}

test_support_denied_get_document_internal if {
	not authz.allow with input as call(support, "get_document", "internal")
}

test_support_denied_all_collections if {
	not authz.allow with input as call(support, "search_documents", "*")
}

test_unknown_identity_denied if {
	not authz.allow with input as call("spiffe://lab.ai-infra-labs.dev/agent/intruder", "search_documents", "public")
}

test_other_trust_domain_denied if {
	not authz.allow with input as call("spiffe://evil.example/agent/research", "search_documents", "public")
}

test_null_identity_denied if {
	not authz.allow with input as call(null, "search_documents", "public")
}

test_missing_identity_denied if {
	not authz.allow with input as {"tool": "search_documents", "arguments": {}, "collection": "public"}
}

test_tool_not_in_list_denied if {
	not authz.allow with input as call(research, "delete_document", "public")
}

test_missing_collection_denied if {
	not authz.allow with input as {"spiffe_id": research, "tool": "search_documents", "arguments": {}}
}

test_reason_allowed if {
	authz.decision == {"allow": true, "reason": "allowed"} with input as call(research, "search_documents", "internal")
}

test_reason_unknown_identity if {
	authz.decision == {"allow": false, "reason": "unknown identity"} with input as call(null, "search_documents", "public")
}

test_reason_tool_not_permitted if {
	authz.decision == {"allow": false, "reason": "tool not permitted for this agent"} with input as call(support, "delete_document", "public")
}

test_reason_collection_not_permitted if {
	authz.decision == {"allow": false, "reason": "collection not permitted for this agent"} with input as call(support, "search_documents", "internal")
}

# @lab-end
