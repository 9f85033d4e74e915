#!/usr/bin/env bats
# nedb-delete: receipts, missing ids, ids on stdin, replay protection,
# idempotency, and what history and AS OF see afterwards.

load helper

setup_more() {
	cd "$BATS_TEST_TMPDIR"
}

hash_of() {
	[[ $1 =~ \"hash\":\"([0-9a-f]{64})\" ]] && echo "${BASH_REMATCH[1]}"
}

# The number of lines of the log (genesis included).
log_lines() {
	wc -l < "$NEDB_DIR/log.aof"
}

@test "delete prints a receipt for each document deleted" {
	seed_users 3
	run --separate-stderr nedb-delete users u1 u3
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --regexp '^\{"seq":4,"hash":"[0-9a-f]{64}","op":"delete","coll":"users","id":"u1"\}$'
	assert_line --index 1 --regexp '^\{"seq":5,"hash":"[0-9a-f]{64}","op":"delete","coll":"users","id":"u3"\}$'
	assert_equal "$stderr" ""
	assert_determinism
}

@test "deleted documents are gone at HEAD and the others stay" {
	seed_users 3
	nedb-delete users u1 u3
	run nedb-get users u1
	assert_failure 1
	run nedb-get users u3
	assert_failure 1
	run nedb-get users u2
	assert_success
	assert_output '{"_id":"u2","n":2}'
	assert_determinism
}

@test "the receipt's hash is the hash of the delete op in the log" {
	seed_users 1
	run nedb-delete users u1
	receipt_hash=$(hash_of "$output")
	run nedb-log -n 1
	assert_output --regexp '"op":"delete"'
	assert_equal "$(hash_of "$output")" "$receipt_hash"
	run nedb-verify
	assert_output --partial "\"head\":\"$receipt_hash\""
	assert_determinism
}

@test "a missing id exits 1 with one stderr line while the others are deleted" {
	seed_users 3
	run --separate-stderr nedb-delete users u1 nope u2
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --partial '"seq":4,'
	assert_line --index 0 --partial '"id":"u1"'
	assert_line --index 1 --partial '"seq":5,'
	assert_line --index 1 --partial '"id":"u2"'
	assert_equal "$stderr" "nedb-delete: no document 'users/nope'"
	run nedb-get users u1
	assert_failure 1
	run nedb-get users u2
	assert_failure 1
	run nedb-get users u3
	assert_success
	assert_equal "$(log_lines)" 6
	assert_determinism
}

@test "deleting only missing ids exits 1 and appends nothing" {
	seed_users 1
	run --separate-stderr nedb-delete users nope gone
	assert_failure 1
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "${stderr_lines[1]}" "nedb-delete: no document 'users/gone'"
	assert_equal "$(log_lines)" 2
	assert_determinism
}

@test "ids come one per line from stdin when none are given, blank lines skipped" {
	seed_users 4
	run --separate-stderr nedb-delete users <<< $'u2\n\nu4'
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --partial '"id":"u2"'
	assert_line --index 1 --partial '"id":"u4"'
	run nedb-get users u1 u3
	assert_success
	run nedb-get users u2
	assert_failure 1
	run nedb-get users u4
	assert_failure 1
	assert_determinism
}

@test "a missing id on stdin exits 1 and the others are deleted" {
	seed_users 2
	run --separate-stderr nedb-delete users < <(printf 'u1\nnope\nu2')
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_equal "$stderr" "nedb-delete: no document 'users/nope'"
	run nedb-get users u2
	assert_failure 1
	assert_determinism
}

@test "no ids and empty stdin deletes nothing and exits 0" {
	seed_users 1
	run --separate-stderr nedb-delete users < /dev/null
	assert_success
	assert_output ""
	assert_equal "$(log_lines)" 2
	assert_determinism
}

@test "deleting twice: the second delete exits 1 and appends nothing" {
	seed_users 1
	run nedb-delete users u1
	assert_success
	run --separate-stderr nedb-delete users u1
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "nedb-delete: no document 'users/u1'"
	assert_equal "$(log_lines)" 3
	assert_determinism
}

@test "naming one id twice deletes it once and reports the second as missing" {
	seed_users 1
	run --separate-stderr nedb-delete users u1 u1
	assert_failure 1
	assert_equal "${#lines[@]}" 1
	assert_equal "$stderr" "nedb-delete: no document 'users/u1'"
	assert_equal "$(log_lines)" 3
	assert_determinism
}

@test "a deleted document can be put again" {
	nedb-put t a '{"v":1}'
	nedb-delete t a
	nedb-put t a '{"v":2}'
	run nedb-get t a
	assert_success
	assert_output '{"_id":"a","v":2}'
	assert_determinism
}

@test "--history shows the delete with the receipt's seq and hash" {
	nedb-put t a '{"v":1}'
	run nedb-delete t a
	delete_hash=$(hash_of "$output")
	nedb-put t a '{"v":2}'
	run nedb-get --history t a
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --partial '"seq":1,"op":"put"'
	assert_line --index 1 --regexp "^\\{\"seq\":2,\"op\":\"delete\",\"hash\":\"$delete_hash\",\"ts\":[0-9]+\\}\$"
	assert_line --index 2 --partial '"seq":3,"op":"put"'
	assert_determinism
}

@test "AS OF before the delete still reads the document; AS OF the delete does not" {
	nedb-put t a '{"v":1}'
	nedb-put t a '{"v":2}'
	nedb-delete t a
	run nedb-get --as-of 2 t a
	assert_success
	assert_output '{"_id":"a","v":2}'
	run nedb-get --as-of 1 t a
	assert_output '{"_id":"a","v":1}'
	run nedb-get --as-of 3 t a
	assert_failure 1
	assert_determinism
}

@test "--client --nonce accepts a fresh nonce" {
	seed_users 2
	run nedb-delete --client app --nonce 5 users u1
	assert_success
	assert_output --partial '"op":"delete"'
	run nedb-get users u1
	assert_failure 1
	assert_determinism
}

@test "a stale or repeated nonce exits 3 and deletes nothing" {
	seed_users 2
	nedb-delete --client app --nonce 5 users u1
	run --separate-stderr nedb-delete --client app --nonce 5 users u2
	assert_failure 3
	assert_output ""
	assert_equal "$stderr" "nedb-delete: stale nonce 5 for client 'app': last seen is 5"
	run --separate-stderr nedb-delete --client app --nonce 4 users u2
	assert_failure 3
	assert_equal "$stderr" "nedb-delete: stale nonce 4 for client 'app': last seen is 5"
	run nedb-get users u2
	assert_success
	assert_equal "$(log_lines)" 4
	assert_determinism
}

@test "nonces seen by put count for delete and the other way round" {
	nedb-put --client app --nonce 7 t a '{"v":1}'
	nedb-put t b '{"v":1}'
	run nedb-delete --client app --nonce 7 t a
	assert_failure 3
	run nedb-delete --client app --nonce 8 t a
	assert_success
	run nedb-put --client app --nonce 8 t b '{"v":2}'
	assert_failure 3
	run nedb-get t b
	assert_output '{"_id":"b","v":1}'
	assert_determinism
}

@test "deleting several ids with --nonce N uses N, N+1, ..." {
	seed_users 3
	run nedb-delete --client app --nonce 10 users u1 u2
	assert_success
	run nedb-put --client app --nonce 11 users u3 '{}'
	assert_failure 3
	run nedb-put --client app --nonce 12 users u3 '{}'
	assert_success
	assert_determinism
}

@test "after the largest nonce every nonce of that client is stale" {
	seed_users 3
	run nedb-delete --client app --nonce 18446744073709551615 users u1 u2
	run nedb-put --client app --nonce 1 users u3 '{"replayed":true}'
	assert_failure 3
	run nedb-get users u3
	assert_output '{"_id":"u3","n":3}'
	assert_determinism
}

@test "nonces are per client" {
	seed_users 2
	nedb-delete --client one --nonce 5 users u1
	run nedb-delete --client two --nonce 1 users u2
	assert_success
	assert_determinism
}

@test "--idem repeated prints the original receipt, appends nothing and exits 0" {
	nedb-put t a '{"v":1}'
	run --separate-stderr nedb-delete --idem k1 t a
	assert_success
	first="$output"
	nedb-put t a '{"v":2}'
	run --separate-stderr nedb-delete --idem k1 t a
	assert_success
	assert_output "$first"
	assert_equal "$stderr" ""
	run nedb-get t a
	assert_success
	assert_output '{"_id":"a","v":2}'
	assert_equal "$(log_lines)" 4
	assert_determinism
}

@test "--idem keys are shared with put: a put's key repeated on delete returns the put's receipt" {
	run nedb-put --idem k1 t a '{"v":1}'
	first="$output"
	run nedb-delete --idem k1 t a
	assert_success
	assert_output "$first"
	run nedb-get t a
	assert_success
	assert_determinism
}

@test "--idem on a missing document exits 1 and does not record the key" {
	nedb-put t b '{"v":1}'
	run nedb-delete --idem k1 t a
	assert_failure 1
	nedb-put t a '{"v":1}'
	run nedb-delete --idem k1 t a
	assert_success
	assert_output --partial '"op":"delete","coll":"t","id":"a"'
	run nedb-get t a
	assert_failure 1
	assert_determinism
}

@test "--idem with more than one id is a usage error" {
	seed_users 2
	run --separate-stderr nedb-delete --idem k users u1 u2
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-delete: --idem needs exactly one ID (see 'nedb-delete --help')"
	run nedb-get users u1 u2
	assert_success
	assert_determinism
}

@test "-q and --quiet print no receipts but still delete" {
	seed_users 2
	run --separate-stderr nedb-delete -q users u1
	assert_success
	assert_output ""
	run --separate-stderr nedb-delete --quiet users u2
	assert_success
	assert_output ""
	run nedb-get users u1
	assert_failure 1
	run nedb-get users u2
	assert_failure 1
	assert_determinism
}

@test "--array wraps the receipts in one JSON array and --pretty indents them" {
	seed_users 3
	run nedb-delete --array users u1 u2
	assert_success
	assert_output --regexp '^\[\{"seq":4,[^]]*"id":"u1"\},\{"seq":5,[^]]*"id":"u2"\}\]$'
	run nedb-delete --pretty users u3
	assert_success
	assert_line --index 0 '{'
	assert_line --index 1 '  "seq": 6,'
	assert_determinism
}

@test "--array prints an empty array when nothing was deleted" {
	seed_users 1
	run --separate-stderr nedb-delete --array users nope
	assert_failure 1
	assert_output '[]'
	assert_determinism
}

@test "a missing database exits 5 with 'no such database' and is not created" {
	run --separate-stderr nedb-delete users u1
	assert_failure 5
	assert_output ""
	assert_equal "$stderr" "nedb-delete: cannot open database '$NEDB_DIR': no such database"
	[ ! -e "$NEDB_DIR" ]
}

@test "bad collection names exit 4 and delete nothing" {
	seed_users 1
	for c in 1abc 'a-b' '' "$(printf 'x%.0s' {1..65})"; do
		run --separate-stderr nedb-delete "$c" u1
		assert_failure 4
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
	done
	assert_equal "$(log_lines)" 2
	assert_determinism
}

@test "bad ids exit 4 and delete nothing" {
	seed_users 1
	for id in "$(printf 'a\tb')" "$(printf 'x%.0s' {1..401})" \
	    "$(printf 'a\xffb')"; do
		run --separate-stderr nedb-delete users "$id"
		assert_failure 4
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
	done
	run --separate-stderr nedb-delete users "$(printf 'a\tb')"
	assert_equal "$stderr" "nedb-delete: bad id: control character at byte 2"
	assert_equal "$(log_lines)" 2
	assert_determinism
}

@test "an id on stdin with a NUL byte is a bad id: exit 4, nothing deleted" {
	seed_users 1
	printf 'u1\0junk\n' > ids
	run --separate-stderr nedb-delete users < ids
	assert_failure 4
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	run nedb-get users u1
	assert_success
	assert_equal "$(log_lines)" 2
	assert_determinism
}

@test "a write error on stdout exits 5 with one stderr line" {
	seed_users 1
	rc=0
	nedb-delete users u1 > /dev/full 2> err || rc=$?
	assert_equal "$rc" 5
	run cat err
	assert_output "nedb-delete: cannot write output: No space left on device"
	assert_determinism
}

@test "usage errors exit 2 with a hint and delete nothing" {
	seed_users 1
	run --separate-stderr nedb-delete
	assert_failure 2
	assert_equal "$stderr" "nedb-delete: missing collection (see 'nedb-delete --help')"
	run --separate-stderr nedb-delete --bogus users u1
	assert_failure 2
	assert_equal "$stderr" "nedb-delete: unknown option '--bogus' (see 'nedb-delete --help')"
	run --separate-stderr nedb-delete --nonce 0 users u1
	assert_failure 2
	assert_equal "${#stderr_lines[@]}" 1
	run nedb-delete --nonce x users u1
	assert_failure 2
	run nedb-delete --nonce -3 users u1
	assert_failure 2
	run nedb-delete users u1 --client
	assert_failure 2
	run nedb-delete --durability never users u1
	assert_failure 2
	run nedb-get users u1
	assert_success
	assert_equal "$(log_lines)" 2
	assert_determinism
}

@test "--help prints usage and exits 0; --version prints the version" {
	run --separate-stderr nedb-delete --help
	assert_success
	assert_line --index 0 'usage: nedb-delete [options] COLL [ID...]'
	assert_output --partial '--nonce N'
	assert_output --partial '--idem KEY'
	assert_equal "$stderr" ""
	run nedb-delete --version
	assert_success
	assert_output --regexp '^nedb-delete \(nedb\) [0-9]+\.[0-9]+\.[0-9]+$'
	[ ! -e "$NEDB_DIR" ]
}
