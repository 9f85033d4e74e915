#!/usr/bin/env bats
# The bugs outside tests found in the library's seams (issue 10), each
# with the test that failed before its fix.

load helper

@test "a find sorted on a dotted path frees its paths once (no abort)" {
	nedb-put -q t a '{"a":{"b":2}}'
	nedb-put -q t b '{"a":{"b":1}}'
	run nedb-query --filter '{}' --sort '{"a.b":1}' t
	assert_success
	assert_output '{"_id":"b","a":{"b":1}}
{"_id":"a","a":{"b":2}}'
	run nedb-query --filter '{"a.b":{"$gte":1}}' --sort '{"a.b":-1}' t
	assert_success
	assert_output '{"_id":"a","a":{"b":2}}
{"_id":"b","a":{"b":1}}'
}
