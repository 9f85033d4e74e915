#!/usr/bin/env bats
# Progress on stderr (SPEC §12, cli/progress.c): on a terminal (a pty
# from script(1)) by default, never in a pipe or a file, --progress and
# --no-progress to say otherwise.

load helper

# n documents {"_id":"kI","n":I} in docs.ndjson
docs() {
	seq 1 "$1" | awk '{ printf "{\"_id\":\"k%d\",\"n\":%d}\n", $1, $1 }' \
		> docs.ndjson
}

# Runs a command line on a terminal: its output as the terminal got it.
on_tty() {
	script -qec "$1" /dev/null < /dev/null
}

@test "a bulk put shows its progress on a terminal, and erases it at the end" {
	docs 2000
	run on_tty "nedb-put -q big < docs.ndjson"
	assert_success
	# a count, a percentage of the file read, the line erased at the end
	assert_output --regexp $'\rput: 64 documents(, [0-9,]+/s)?, [0-9]+%'
	[[ $output == *$'\r\e[K' ]] || fail "the progress line is not erased"
	run nedb-query 'FROM big GROUP BY n COUNT' --jq 'length'
	[ "${#lines[@]}" -eq 2000 ]
}

@test "no progress in a pipe or a file" {
	docs 2000
	run --separate-stderr nedb-put -q big < docs.ndjson
	assert_success
	assert_equal "$stderr" ""
	nedb-put -q big2 < docs.ndjson 2> err
	[ ! -s err ]
	run --separate-stderr nedb-verify
	assert_equal "$stderr" ""
}

@test "--progress shows it in a file, --no-progress never on a terminal" {
	docs 300
	nedb-put -q --progress big < docs.ndjson 2> err
	run cat err
	assert_output --regexp $'^\rput: 64 documents'
	run on_tty "nedb-put -q --no-progress big2 < docs.ndjson; nedb-verify --no-progress"
	assert_success
	refute_output --partial "put:"
	refute_output --partial "verify:"
	assert_output --regexp '^\{"ok":true,"seq":600,'
}

@test "verify, checkpoint, --rebuild and --prune show the library's progress on a terminal" {
	docs 5000
	nedb-put -q big < docs.ndjson
	run on_tty "nedb-verify"
	assert_success
	assert_output --regexp $'\rverify: 4,096 ops(, [0-9,]+/s)?, 81%'
	assert_output --regexp '\{"ok":true,"seq":5000,"head":"[0-9a-f]{64}"\}'
	run on_tty "nedb-checkpoint --rebuild"
	assert_success
	assert_output --regexp $'\rreplay: 4,096 ops'
	assert_output --partial '{"rebuilt":true,"seq":5000,'
	run on_tty "nedb-checkpoint"
	assert_output --regexp $'\rreplay: 4,096 ops'
	assert_output --partial '"op":"checkpoint"'
	run on_tty "nedb-checkpoint --prune"
	assert_success
	assert_output --regexp $'\rprune: [0-9,]+ ops, [0-9]+%'
	assert_output --partial '"archived":{"ops":5002,'
}

@test "nedb-file put and get show their bytes on a terminal, never in a pipe" {
	head -c 3000000 /dev/urandom > blob
	run on_tty "nedb-file put blob blob"
	assert_success
	assert_output --regexp $'\rput: [0-9,]+ bytes(, [0-9,]+/s)?, [0-9]+%'
	assert_output --regexp '"name":"blob","version":1,"size":3000000,'
	run on_tty "nedb-file get blob -o copy"
	assert_success
	assert_output --regexp $'\rget: [0-9,]+ bytes(, [0-9,]+/s)?, [0-9]+%'
	cmp blob copy
	run --separate-stderr nedb-file put blob - < blob
	assert_success
	assert_equal "$stderr" ""
	run --separate-stderr sh -c 'nedb-file get blob | cmp - blob'
	assert_success
	assert_equal "$stderr" ""
}

@test "a SQL script shows its statements and how far into it on a terminal, never in a pipe" {
	{
		echo "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); BEGIN;"
		seq 1 3000 | awk '{ printf "INSERT INTO t VALUES (%d, '"'"'v%d'"'"');\n", $1, $1 }'
		echo "COMMIT;"
	} > script.sql
	run on_tty "nedb-sql < script.sql"
	assert_success
	assert_output --regexp $'\rsql: [0-9,]+ statements(, [0-9,]+/s)?, [0-9]+%'
	[[ $output == *$'\r\e[K' ]] || fail "the progress line is not erased"
	run --separate-stderr nedb-sql "SELECT count(*) FROM t"
	assert_output '{"count(*)":3000}'
	assert_equal "$stderr" ""
	run --separate-stderr nedb-sql < script.sql
	assert_failure
	refute_output --partial "sql:"
	[[ $stderr != *"sql: "*statements* ]] || fail "progress in a pipe"
}
