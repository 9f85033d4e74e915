#!/usr/bin/env bats
# nedb-verify: the ok output, --determinism after every kind of write,
# and the failure paths that are not tampering (see tamper.bats).

load helper

setup_more() {
	cd "$BATS_TEST_TMPDIR"
}

hash_of() {
	[[ $1 =~ \"hash\":\"([0-9a-f]{64})\" ]] && echo "${BASH_REMATCH[1]}"
}

@test "verify prints ok, the head seq and the head hash" {
	nedb-put t a '{"v":1}'
	nedb-put t b '{"v":1}'
	run nedb-put t a '{"v":2}'
	last_hash=$(hash_of "$output")
	run --separate-stderr nedb-verify
	assert_success
	assert_output "{\"ok\":true,\"seq\":3,\"head\":\"$last_hash\"}"
	assert_equal "$stderr" ""
	assert_determinism
}

@test "verify's head is the hash of the last receipt of whatever kind" {
	nedb-put t a '{"v":1}'
	run nedb-delete t a
	h=$(hash_of "$output")
	run nedb-verify
	assert_output "{\"ok\":true,\"seq\":2,\"head\":\"$h\"}"
	run nedb-checkpoint
	h=$(hash_of "$output")
	run nedb-verify
	assert_output "{\"ok\":true,\"seq\":3,\"head\":\"$h\"}"
	assert_determinism
}

@test "verify's head is the hash on the last line of the log" {
	seed_users 5
	run nedb-log -n 1
	h=$(hash_of "$output")
	run nedb-verify
	assert_success
	assert_output "{\"ok\":true,\"seq\":5,\"head\":\"$h\"}"
	assert_determinism
}

@test "verify --determinism prints the same ok object" {
	seed_users 3
	run nedb-verify
	plain="$output"
	run --separate-stderr nedb-verify --determinism
	assert_success
	assert_output "$plain"
	assert_equal "$stderr" ""
}

@test "verify --determinism is ok after puts, deletes, merges, ttl, tags, idem, nonces and checkpoints" {
	seed_users 5
	nedb-put t a '{"x":1,"y":{"z":[1,2]}}'
	nedb-put --merge t a '{"y":null,"w":"é"}'
	nedb-put --merge t new '{"m":1}'
	nedb-put --tag red --tag blue t tagged '{"v":1}'
	nedb-put --ttl 1 t short '{"v":1}'
	nedb-put --ttl 3600 t long '{"v":1}'
	nedb-put --idem k1 t i '{"v":1}'
	nedb-put --idem k1 t i '{"v":2}'
	nedb-put --client app --nonce 3 t n '{"v":1}'
	nedb-put --client app --nonce 3 t n '{"v":2}' || true
	nedb-put --if-seq 999 t a '{"v":9}' || true
	nedb-checkpoint
	nedb-delete users u1 u2
	nedb-delete --client app --nonce 4 users u3
	nedb-delete --idem k2 users u4
	nedb-delete --idem k2 users u4
	nedb-delete t a
	nedb-put t a '{"again":true}'
	printf '{"_id":"s1"}\n{"_id":"s2"}\n' | nedb-put -q s
	printf '{"_id":"s3"}\nbad\n' | nedb-put -q s || true
	printf '{"_id":"s4"}\n[1]\n' | nedb-put -q --atomic s || true
	nedb-checkpoint
	nedb-checkpoint
	sleep 1.1
	run nedb-get t short
	assert_failure 1
	run nedb-log -n 1
	head_hash=$(hash_of "$output")
	run --separate-stderr nedb-verify --determinism
	assert_success
	assert_output --regexp "^\\{\"ok\":true,\"seq\":[0-9]+,\"head\":\"$head_hash\"\\}\$"
	assert_equal "$stderr" ""
}

@test "verify --determinism is ok after the view was rebuilt" {
	seed_users 3
	nedb-delete users u2
	nedb-checkpoint
	rm -f "$NEDB_DIR"/view.mdb*
	assert_determinism
	nedb-checkpoint --rebuild
	assert_determinism
}

@test "verify's seq counts every op of a long log" {
	for ((i = 1; i <= 250; i++)); do printf '{"_id":"d%d"}\n' "$i"; done |
		nedb-put -q t
	nedb-delete t d1 d2
	run nedb-verify
	assert_success
	assert_output --regexp '^\{"ok":true,"seq":252,"head":"[0-9a-f]{64}"\}$'
	assert_determinism
}

@test "verify appends nothing and changes nothing" {
	seed_users 2
	cp "$NEDB_DIR/log.aof" before
	nedb-verify
	nedb-verify --determinism
	cmp before "$NEDB_DIR/log.aof"
	run nedb-get users u1 u2
	assert_success
}

@test "verify --pretty indents the result" {
	seed_users 1
	run nedb-verify --pretty
	assert_success
	assert_line --index 0 '{'
	assert_line --index 1 '  "ok": true,'
	assert_line --index 2 '  "seq": 1,'
	assert_line --index 3 --regexp '^  "head": "[0-9a-f]{64}"$'
	assert_line --index 4 '}'
}

@test "verify's output parses as JSON" {
	seed_users 2
	nedb-verify > out
	run jq -r '"\(.ok) \(.seq) \(.head | length)"' out
	assert_output 'true 2 64'
}

@test "a missing database exits 5 with 'no such database' and is not created" {
	run --separate-stderr nedb-verify
	assert_failure 5
	assert_output ""
	assert_equal "$stderr" "nedb-verify: cannot open database '$NEDB_DIR': no such database"
	run --separate-stderr nedb-verify --determinism
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
}

@test "a directory without a log is not a database: exit 5" {
	mkdir "$NEDB_DIR"
	run --separate-stderr nedb-verify
	assert_failure 5
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^nedb-verify: .*no such database"
	[ ! -e "$NEDB_DIR/log.aof" ]
}

@test "-d chooses the database to verify" {
	nedb-put -d "$BATS_TEST_TMPDIR/other" t a '{"v":1}'
	run nedb-verify -d "$BATS_TEST_TMPDIR/other"
	assert_success
	assert_output --partial '"seq":1,'
	run nedb-verify
	assert_failure 5
}

@test "a write error on stdout exits 5 with one stderr line" {
	seed_users 1
	rc=0
	nedb-verify > /dev/full 2> err || rc=$?
	assert_equal "$rc" 5
	run cat err
	assert_output "nedb-verify: cannot write output: No space left on device"
}

@test "usage errors exit 2 with a hint" {
	seed_users 1
	run --separate-stderr nedb-verify --bogus
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-verify: unknown option '--bogus' (see 'nedb-verify --help')"
	run --separate-stderr nedb-verify extra
	assert_failure 2
	assert_equal "$stderr" "nedb-verify: unexpected argument 'extra' (see 'nedb-verify --help')"
	run nedb-verify -x
	assert_failure 2
}

@test "--help prints usage and exits 0; --version prints the version" {
	run --separate-stderr nedb-verify --help
	assert_success
	assert_line --index 0 'usage: nedb-verify [options]'
	assert_output --partial '--determinism'
	assert_equal "$stderr" ""
	run nedb-verify --version
	assert_success
	assert_output --regexp '^nedb-verify \(nedb\) [0-9]+\.[0-9]+\.[0-9]+$'
	[ ! -e "$NEDB_DIR" ]
}
