# OPA's own access policy (provided; not part of your workspace). OPA runs with --authentication=token and
# --authorization=basic: every API request is decided here first, with input.identity = the bearer token.
# Only the MCP server holds the token (a per-run secret); OPA holds only its sha256 (data.lab_opa.token_sha256),
# so neither this policy nor OPA's data API can leak it. The one thing the token may do is ask for the
# agents' decision: the policy itself comes from files, so no one may write policies or data over the API.
package system.authz

default allow := false

# Liveness, for the runner and humans: says nothing about the policy.
allow if {
	input.method == "GET"
	input.path == ["health"]
}

allow if {
	input.method == "POST"
	input.path == ["v1", "data", "agents", "authz", "decision"]
	crypto.sha256(input.identity) == data.lab_opa.token_sha256
}
