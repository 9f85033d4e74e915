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

@test "input that is not JSON says so with the position, whatever its first byte" {
	run -4 --separate-stderr nedb-put c x '[NaN]'
	assert_equal "$stderr" "nedb-put: not JSON: invalid literal at line 1, column 2"
	run -4 --separate-stderr nedb-put c x '[-01]'
	assert_equal "$stderr" "nedb-put: not JSON: invalid literal at line 1, column 2"
	run -4 --separate-stderr bash -c "printf '123\\0' | nedb-put c x"
	assert_regex "$stderr" '^nedb-put: not JSON: '
	run -4 --separate-stderr nedb-put c x '[1]'
	assert_equal "$stderr" "nedb-put: not an object: got array"
	run -1 nedb-get c x
}

@test "a lone surrogate escape is refused, high or low, in documents as in NQL" {
	run -4 --separate-stderr nedb-put c x '{"a":"\uDFAA"}'
	assert_equal "$stderr" "nedb-put: not JSON: lone surrogate in a string at line 1, column 7"
	run -4 --separate-stderr nedb-put c x '{"a":"\uD800"}'
	assert_regex "$stderr" '^nedb-put: not JSON: '
	run -4 nedb-put c x '{"a":"x\uDC00"}'
	run -2 nedb-query 'FROM c WHERE a = "\uDFAA"'
	run -2 nedb-query 'FROM c WHERE a = "\uD800"'
	# a pair is one character; an escaped backslash is no escape
	run nedb-put -q c x '{"a":"\uD83D\uDE00 \\uDFAA \ud83d\ude00"}'
	assert_success
	run nedb-get c x
	assert_output '{"_id":"x","a":"\uD83D\uDE00 \\uDFAA \ud83d\ude00"}'
}

@test "a document nests at most 255 levels, as nedb(7) says" {
	python3 -c 'print("{\"a\":" + "[" * 254 + "]" * 254 + "}")' > ok.json
	python3 -c 'print("{\"a\":" + "[" * 255 + "]" * 255 + "}")' > deep.json
	run nedb-put -q c ok < ok.json
	assert_success
	run -4 --separate-stderr nedb-put c deep < deep.json
	assert_regex "$stderr" '^nedb-put: not JSON: Exceeds depth limit'
}

@test "a filter can name any member a document can hold: empty names and NULs" {
	nedb-put -q c e '{"":0}'
	nedb-put -q c n '{"a\u0000b":1}'
	nedb-put -q c z '{"a":{"":{"b":5}}}'
	nedb-put -q c a '{"a":1}'
	nedb-index c a eq >/dev/null
	run nedb-query --filter '{"":0}' c
	assert_success
	assert_output '{"_id":"e","":0}'
	run nedb-query --filter '{"a\u0000b":1}' c
	assert_success
	assert_output '{"_id":"n","a\u0000b":1}'
	run nedb-query --filter '{"a..b":5}' c
	assert_output '{"_id":"z","a":{"":{"b":5}}}'
	# a name with a NUL is never looked up in the index of its prefix
	run nedb-query --filter '{"a\u0000":1}' c
	assert_success
	assert_output ''
}

@test "without libjq the library reports it: one line, exit 5, nothing written" {
	nedb-put -q c a '{"x":1}'
	log=$(cat "$NEDB_DIR/log.aof")
	# a document the one-pass check leaves to jq's parser (a \u escape)
	run -5 --separate-stderr env NEDB_TEST_FAIL=libjq nedb-put c b '{"x":"\u00e9"}'
	assert_equal "$stderr" "nedb-put: cannot load libjq.so.1: cannot open shared object file (test)"
	assert_equal "$(cat "$NEDB_DIR/log.aof")" "$log"
	run -5 --separate-stderr env NEDB_TEST_FAIL=libjq nedb-query --jq .x 'FROM c'
	assert_equal "$stderr" "nedb-query: cannot load libjq.so.1: cannot open shared object file (test)"
	run -5 --separate-stderr env NEDB_TEST_FAIL=libjq nedb-verify --determinism
	assert_equal "$stderr" "nedb-verify: cannot load libjq.so.1: cannot open shared object file (test)"
	# what needs no JSON parser works without it
	run env NEDB_TEST_FAIL=libjq nedb-get c a
	assert_success
	assert_output '{"_id":"a","x":1}'
	run env NEDB_TEST_FAIL=libjq nedb-verify
	assert_success
	# nor does a put of a document the one-pass check accepts
	run env NEDB_TEST_FAIL=libjq nedb-put -q c b '{"x":2}'
	assert_success
	run nedb-get c b
	assert_output '{"_id":"b","x":2}'
}

@test "a bad NEDB_MAPSIZE is a usage error with one line, and nothing is written" {
	nedb-put -q c a '{}'
	log=$(cat "$NEDB_DIR/log.aof")
	for v in 12abc -5 1000 99999999999999999999999; do
		run -2 --separate-stderr env NEDB_MAPSIZE=$v nedb-put c b '{}'
		assert_equal "$stderr" "nedb-put: bad NEDB_MAPSIZE '$v': want a number of bytes, at least 16777216"
	done
	assert_equal "$(cat "$NEDB_DIR/log.aof")" "$log"
	run env NEDB_MAPSIZE=67108864 nedb-get c a
	assert_success
	assert_output '{"_id":"a"}'
}

@test "a directory sync that fails is reported, never ignored: create, options, prune" {
	run -5 --separate-stderr env NEDB_TEST_FAIL=fsync-dir nedb-put -d new c a '{}'
	assert_equal "$stderr" "nedb-put: cannot sync directory: Input/output error"
	assert_output ""
	# the next writer finishes what the failed creation began
	run --separate-stderr nedb-put -d new c a '{}'
	assert_success
	assert_equal "$stderr" "nedb-put: warning: meta.json was missing; it is written again"
	nedb-put c a '{"x":1}'
	run -5 --separate-stderr env NEDB_TEST_FAIL=fsync-dir nedb-index --auto 3
	assert_equal "$stderr" "nedb-index: cannot sync directory: Input/output error"
	nedb-checkpoint >/dev/null
	run -5 --separate-stderr env NEDB_TEST_FAIL=fsync-dir nedb-checkpoint --prune
	assert_equal "$stderr" "nedb-checkpoint: cannot sync directory: Input/output error"
	assert_output ""
	# what each did is whole: the log verifies across its archive
	run nedb-verify
	assert_success
	run nedb-get c a
	assert_output '{"_id":"a","x":1}'
	assert_determinism
}
