# What OPA's decision log keeps (provided). The audit trail promises never to store a tool call's arguments,
# only their digest; OPA's decision log (`lab logs opa`) must not store them either.
package system.log

mask contains "/input/arguments"
