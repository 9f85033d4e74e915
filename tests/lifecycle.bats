#!/usr/bin/env bats
# nedb-expire, nedb-sweep, nedb-stats and nedb-index --auto: the life
# cycle commands, with every failure path.

load helper

@test "nedb-expire sets a ttl: HEAD reads stop seeing the document, the past still does" {
	nedb-put -q t a '{"v":1}'
	run nedb-expire t a 1
	assert_success
	assert_output --regexp '^\{"seq":2,"hash":"[0-9a-f]{64}","op":"expire","coll":"t","id":"a","exp":[0-9]+\}$'
	run nedb-get t a
	assert_success
	sleep 1.1
	run --separate-stderr nedb-get t a
	assert_failure 1
	assert_equal "$stderr" "nedb-get: no document 't/a'"
	run nedb-get --as-of 2 t a
	assert_output '{"_id":"a","v":1}'
	assert_determinism
}

@test "nedb-expire --persist clears a ttl set by a put" {
	nedb-put -q --ttl 1 t a '{"v":1}'
	run nedb-expire --persist t a
	assert_success
	assert_output --partial '"op":"expire","coll":"t","id":"a","exp":0}'
	sleep 1.1
	run nedb-get t a
	assert_output '{"_id":"a","v":1}'
	run nedb-stats
	assert_output --partial '"expired_pending":0}'
	assert_determinism
}

@test "nedb-expire of a missing or expired document exits 1 and appends nothing" {
	nedb-put -q --ttl 1 t gone '{"v":1}'
	sleep 1.1
	for id in nope gone; do
		run --separate-stderr nedb-expire t "$id" 5
		assert_failure 1
		assert_equal "$stderr" "nedb-expire: no document 't/$id'"
	done
	run nedb-log -n 1
	assert_output --partial '"seq":1,'
}

@test "nedb-expire rejects bad arguments with the documented exit codes" {
	nedb-put -q t a '{}'
	run --separate-stderr nedb-expire t a
	assert_failure 2
	assert_equal "$stderr" "nedb-expire: want COLL ID SECONDS (see 'nedb-expire --help')"
	run --separate-stderr nedb-expire t a 0
	assert_failure 2
	assert_equal "$stderr" "nedb-expire: bad seconds '0': want a number > 0 (or --persist) (see 'nedb-expire --help')"
	run nedb-expire t a -5
	assert_failure 2
	run nedb-expire --persist t a 5
	assert_failure 2
	run --separate-stderr nedb-expire 1t a 5
	assert_failure 4
	assert_equal "${#stderr_lines[@]}" 1
	run nedb-expire --client app --nonce 3 t a 5
	assert_success
	run --separate-stderr nedb-expire --client app --nonce 3 t a 5
	assert_failure 3
	run nedb-log -n 1
	assert_output --partial '"seq":2,'
	run --separate-stderr nedb-expire -d "$BATS_TEST_TMPDIR/none" t a 5
	assert_failure 5
	assert_output ""
}

@test "nedb-expire --idem repeats the first receipt and appends nothing" {
	nedb-put -q t a '{}'
	run nedb-expire --idem k t a 60
	first=$output
	run nedb-expire --idem k t a 90
	assert_success
	assert_output "$first"
	run nedb-log -n 1
	assert_output --partial '"seq":2,'
}

@test "nedb-sweep deletes only expired documents, one delete op each" {
	nedb-put -q --ttl 1 t a '{"v":1}'
	nedb-put -q --ttl 1 t b '{"v":2}'
	nedb-put -q --ttl 600 t c '{"v":3}'
	nedb-put -q t d '{"v":4}'
	run nedb-sweep
	assert_output '{"deleted":0}'
	sleep 1.1
	run nedb-stats
	assert_output --partial '"expired_pending":2}'
	run nedb-sweep
	assert_success
	assert_output '{"deleted":2}'
	run nedb-sweep
	assert_output '{"deleted":0}'
	run nedb-log -n 2
	assert_line --index 0 --partial '"op":"delete","ts":'
	assert_line --index 1 --partial '"id":"b"'
	run nedb-get t c d
	assert_success
	run nedb-get --as-of 3 t a
	assert_output '{"_id":"a","v":1}'
	run nedb-stats
	assert_output --partial '"expired_pending":0}'
	assert_determinism
}

@test "nedb-sweep rejects arguments and a missing database" {
	run --separate-stderr nedb-sweep extra
	assert_failure 2
	assert_equal "$stderr" "nedb-sweep: unexpected argument 'extra' (see 'nedb-sweep --help')"
	run --separate-stderr nedb-sweep --bogus
	assert_failure 2
	run --separate-stderr nedb-sweep
	assert_failure 5
	assert_output ""
	[ ! -e "$NEDB_DIR" ]
}

@test "nedb-stats prints seq, head, sizes, collections, indexes and the last checkpoint" {
	nedb-put -q t a '{"v":1}'
	nedb-put -q u b '{"v":2}'
	nedb-index t v ordered >/dev/null
	run nedb-stats
	assert_success
	assert_output --regexp '^\{"seq":3,"head":"[0-9a-f]{64}","ops":4,"log_bytes":[0-9]+,"view_bytes":[0-9]+,"collections":\[\{"coll":"t","count":1\},\{"coll":"u","count":1\}\],"indexes":\[\{"coll":"t","field":"v","kind":"ordered","entries":1\}\],"last_checkpoint":null,"expired_pending":0\}$'
	head=$(nedb-log -n 1 | jq -r .hash)
	run nedb-stats
	assert_output --partial "\"head\":\"$head\""
	nedb-checkpoint >/dev/null
	run nedb-stats
	assert_output --partial '"last_checkpoint":4,'
}

@test "nedb-stats rejects arguments and a missing database" {
	run --separate-stderr nedb-stats extra
	assert_failure 2
	run --separate-stderr nedb-stats
	assert_failure 5
	assert_equal "${#stderr_lines[@]}" 1
	assert_output ""
}

@test "nedb-index --auto indexes a field once queries have used it N times" {
	nedb-put -q t a '{"k":1,"n":5}'
	run nedb-index --auto 2
	assert_output '{"auto_index":2}'
	run cat "$NEDB_DIR/meta.json"
	assert_output --partial '"options":{"auto_index":2}'
	nedb-query 'FROM t WHERE k = 1' >/dev/null
	nedb-query 'FROM t WHERE n != 3 ORDER BY n' >/dev/null
	run nedb-index --list
	assert_output ""
	nedb-query 'FROM t WHERE k = 1 ORDER BY n' >/dev/null
	run nedb-index --list
	assert_line --index 0 '{"coll":"t","field":"k","kind":"eq","entries":1}'
	assert_line --index 1 '{"coll":"t","field":"n","kind":"ordered","entries":1}'
	assert_equal "${#lines[@]}" 2
	run nedb-query --explain 'FROM t WHERE k = 1'
	assert_output --partial '"plan":"index"'
	assert_determinism
}

@test "auto-indexing ignores != and queries of the past, and --auto 0 turns it off" {
	nedb-put -q t a '{"k":1}'
	nedb-index --auto 1 >/dev/null
	nedb-query 'FROM t WHERE k != 2' >/dev/null
	nedb-query 'FROM t AS OF 1 WHERE k = 1' >/dev/null
	run nedb-index --list
	assert_output ""
	nedb-index --auto 0 >/dev/null
	nedb-query 'FROM t WHERE k = 1' >/dev/null
	run nedb-index --list
	assert_output ""
	run cat "$NEDB_DIR/meta.json"
	assert_output --partial '"options":{}'
}

@test "nedb-index --auto rejects other arguments, bad counts and a missing database" {
	nedb-put -q t a '{}'
	run --separate-stderr nedb-index --auto 2 t a eq
	assert_failure 2
	assert_equal "$stderr" "nedb-index: --auto takes no other arguments (see 'nedb-index --help')"
	run nedb-index --auto x
	assert_failure 2
	run nedb-index --auto -1
	assert_failure 2
	run --separate-stderr nedb-index -d "$BATS_TEST_TMPDIR/none" --auto 2
	assert_failure 5
	assert_output ""
}

@test "nedb-checkpoint --rebuild and --prune exclude each other" {
	nedb-put -q t a '{}'
	run --separate-stderr nedb-checkpoint --rebuild --prune
	assert_failure 2
	assert_equal "$stderr" "nedb-checkpoint: --rebuild and --prune exclude each other (see 'nedb-checkpoint --help')"
	run nedb-log -n 1
	assert_output --partial '"seq":1,'
}
