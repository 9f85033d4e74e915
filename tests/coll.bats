#!/usr/bin/env bats
# nedb-coll: listing collections with their row counts, and dropping one
# (an op: the past still sees the documents).

load helper

# The number of lines of the log (genesis included).
log_lines() {
	wc -l < "$NEDB_DIR/log.aof"
}

@test "nedb-coll lists each collection with its row count" {
	seed_users 3
	nedb-put -q orders <<'EOF'
{"_id":"o1"}
{"_id":"o2"}
EOF
	nedb-put a_first x '{}'
	run --separate-stderr nedb-coll
	assert_success
	assert_output '{"coll":"a_first","count":1}
{"coll":"orders","count":2}
{"coll":"users","count":3}'
	assert_equal "$stderr" ""
	assert_determinism
}

@test "--array wraps the list in one array" {
	seed_users 2
	run nedb-coll --array
	assert_output '[{"coll":"users","count":2}]'
	assert_determinism
}

@test "counts follow puts, replacements and deletes" {
	seed_users 3
	nedb-put users u1 '{"n":10}'
	nedb-put users u9 '{"n":9}'
	nedb-delete users u2
	run nedb-coll
	assert_output '{"coll":"users","count":3}'
	nedb-delete users u1 u3 u9
	run --separate-stderr nedb-coll
	assert_success
	assert_output ""
	assert_determinism
}

@test "an empty database lists nothing" {
	nedb-link users:a follows users:b
	run --separate-stderr nedb-coll
	assert_success
	assert_output ""
	assert_determinism
}

@test "--drop prints a receipt and the collection is gone" {
	seed_users 3
	nedb-put other x '{"k":1}'
	run --separate-stderr nedb-coll --drop users
	assert_success
	assert_output --regexp '^\{"seq":5,"hash":"[0-9a-f]{64}","op":"drop","coll":"users"\}$'
	assert_equal "$stderr" ""
	run nedb-coll
	assert_output '{"coll":"other","count":1}'
	run --separate-stderr nedb-query 'FROM users'
	assert_success
	assert_output ""
	run nedb-get users u1
	assert_failure 1
	run nedb-get other x
	assert_success
	assert_determinism
}

@test "AS OF before a drop still sees the documents" {
	seed_users 3
	nedb-coll --drop users
	run nedb-query 'FROM users AS OF 3'
	assert_output '{"_id":"u1","n":1}
{"_id":"u2","n":2}
{"_id":"u3","n":3}'
	run nedb-query 'FROM users AS OF 3 WHERE n >= 2 ORDER BY n DESC'
	assert_output '{"_id":"u3","n":3}
{"_id":"u2","n":2}'
	run nedb-get --as-of 3 users u2
	assert_output '{"_id":"u2","n":2}'
	run nedb-query 'FROM users AS OF 4'
	assert_output ""
	assert_determinism
}

@test "a dropped collection can be filled again, and the past keeps both lives" {
	seed_users 2		# 1-2
	nedb-coll --drop users	# 3
	nedb-put users u9 '{"n":9}'	# 4
	run nedb-query 'FROM users'
	assert_output '{"_id":"u9","n":9}'
	run nedb-coll
	assert_output '{"coll":"users","count":1}'
	run nedb-query --jq ._id 'FROM users AS OF 2'
	assert_output '"u1"
"u2"'
	run nedb-get --history users u1
	assert_line --index 0 --partial '"seq":1,'
	assert_determinism
}

@test "--drop of a collection that does not exist exits 1 and appends nothing" {
	seed_users 1
	n=$(log_lines)
	run --separate-stderr nedb-coll --drop nothing
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "nedb-coll: no collection 'nothing'"
	nedb-delete users u1
	run nedb-coll --drop users
	assert_failure 1
	assert_equal "$(log_lines)" "$((n + 1))"
	assert_determinism
}

@test "--drop of a collection dropped already exits 1" {
	seed_users 2
	nedb-coll --drop users
	run --separate-stderr nedb-coll --drop users
	assert_failure 1
	assert_equal "$stderr" "nedb-coll: no collection 'users'"
	assert_determinism
}

@test "a bad collection name exits 4" {
	seed_users 1
	for c in 1abc 'a-b' "$(printf 'x%.0s' {1..65})"; do
		run --separate-stderr nedb-coll --drop "$c"
		assert_failure 4
		assert_output ""
	done
	assert_determinism
}

@test "--client --nonce protect a drop from replay" {
	seed_users 2
	nedb-put --client adm --nonce 3 other x '{}'
	run --separate-stderr nedb-coll --client adm --nonce 3 --drop users
	assert_failure 3
	run nedb-coll
	assert_output --partial '"coll":"users","count":2'
	run nedb-coll --client adm --nonce 4 --drop users
	assert_success
	assert_determinism
}

@test "usage errors exit 2 and a missing database 5" {
	run --separate-stderr nedb-coll users
	assert_failure 2
	run nedb-coll --drop
	assert_failure 2
	run nedb-coll --drop a b
	assert_failure 2
	run nedb-coll --bogus
	assert_failure 2
	run --separate-stderr nedb-coll
	assert_failure 5
	run nedb-coll --drop users
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
}

@test "--help prints usage and exits 0" {
	run nedb-coll --help
	assert_success
	assert_line --index 0 'usage: nedb-coll [options]'
}
