package system.authz_test

import data.system.authz

token_sha256 := crypto.sha256("s3cret")

decision_call := {"method": "POST", "path": ["v1", "data", "agents", "authz", "decision"], "identity": "s3cret"}

test_decision_with_token if {
	authz.allow with input as decision_call with data.lab_opa.token_sha256 as token_sha256
}

test_decision_without_token_denied if {
	not authz.allow with input as object.remove(decision_call, ["identity"]) with data.lab_opa.token_sha256 as token_sha256
}

test_decision_wrong_token_denied if {
	not authz.allow with input as object.union(decision_call, {"identity": "guess"}) with data.lab_opa.token_sha256 as token_sha256
}

test_policy_write_denied_even_with_token if {
	not authz.allow with input as {"method": "PUT", "path": ["v1", "policies", "x"], "identity": "s3cret"} with data.lab_opa.token_sha256 as token_sha256
}

test_data_write_denied_even_with_token if {
	not authz.allow with input as {"method": "PUT", "path": ["v1", "data", "agents"], "identity": "s3cret"} with data.lab_opa.token_sha256 as token_sha256
}

test_other_query_denied_even_with_token if {
	not authz.allow with input as {"method": "POST", "path": ["v1", "data", "lab_opa"], "identity": "s3cret"} with data.lab_opa.token_sha256 as token_sha256
}

test_health_open if {
	authz.allow with input as {"method": "GET", "path": ["health"]}
}
