#!/usr/bin/env bats
# nedb-get: documents by id, now and as of any past op; --meta,
# --history, output shapes and every failure path.

load helper

setup_more() {
	cd "$BATS_TEST_TMPDIR"
}

# The hash member of a receipt (or of any one-line JSON object).
hash_of() {
	[[ $1 =~ \"hash\":\"([0-9a-f]{64})\" ]] && echo "${BASH_REMATCH[1]}"
}

# A small history of t/a and t/b:
#   1 put a v1, 2 put b v1, 3 put a v2, 4 delete a, 5 put b v2
small_history() {
	nedb-put t a '{"v":1}'
	nedb-put t b '{"w":1}'
	nedb-put t a '{"v":2}'
	nedb-delete t a
	nedb-put t b '{"w":2}'
} >/dev/null

@test "get prints each found document, one per line, in argument order" {
	seed_users 3
	run --separate-stderr nedb-get users u3 u1 u2
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 '{"_id":"u3","n":3}'
	assert_line --index 1 '{"_id":"u1","n":1}'
	assert_line --index 2 '{"_id":"u2","n":2}'
	assert_equal "$stderr" ""
}

@test "get reads ids one per line from stdin when none are given, skipping blank lines" {
	seed_users 3
	run --separate-stderr nedb-get users <<< $'u2\n\nu1\nu3'
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 '{"_id":"u2","n":2}'
	assert_line --index 1 '{"_id":"u1","n":1}'
	assert_line --index 2 '{"_id":"u3","n":3}'
}

@test "get reads the last stdin id even without a final newline" {
	seed_users 2
	run nedb-get users < <(printf 'u1\nu2')
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 '{"_id":"u2","n":2}'
}

@test "get with no ids and empty stdin prints nothing and exits 0" {
	seed_users 1
	run --separate-stderr nedb-get users < /dev/null
	assert_success
	assert_output ""
}

@test "a missing id exits 1, still prints the found ones, and says so on one stderr line each" {
	seed_users 3
	run --separate-stderr nedb-get users u1 nope u3 gone
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 '{"_id":"u1","n":1}'
	assert_line --index 1 '{"_id":"u3","n":3}'
	assert_equal "${#stderr_lines[@]}" 2
	assert_equal "${stderr_lines[0]}" "nedb-get: no document 'users/nope'"
	assert_equal "${stderr_lines[1]}" "nedb-get: no document 'users/gone'"
}

@test "a missing id on stdin exits 1 and the found ones are printed" {
	seed_users 2
	run --separate-stderr nedb-get users <<< $'u1\nnope\nu2'
	assert_failure 1
	assert_equal "${#lines[@]}" 2
	assert_equal "$stderr" "nedb-get: no document 'users/nope'"
}

@test "an id from another collection is not found" {
	seed_users 1
	run nedb-get other u1
	assert_failure 1
}

@test "ids may hold any UTF-8 text, spaces and slashes" {
	nedb-put t 'é ü/x:y' '{"v":1}'
	run nedb-get t 'é ü/x:y'
	assert_success
	assert_output '{"_id":"é ü/x:y","v":1}'
	assert_determinism
}

@test "a 400-byte id is found" {
	id=$(printf 'x%.0s' {1..400})
	nedb-put t "$id" '{"v":1}'
	run nedb-get t "$id"
	assert_success
	assert_output "{\"_id\":\"$id\",\"v\":1}"
	assert_determinism
}

@test "get reads the latest version at HEAD" {
	nedb-put t a '{"v":1}'
	nedb-put t a '{"v":2}'
	run nedb-get t a
	assert_success
	assert_output '{"_id":"a","v":2}'
	assert_determinism
}

@test "get appends nothing to the log" {
	seed_users 2
	cp "$NEDB_DIR/log.aof" before
	nedb-get users u1 u2 >/dev/null
	nedb-get --meta users u1 >/dev/null
	nedb-get --history users u1 >/dev/null
	nedb-get --as-of 1 users u1 >/dev/null
	nedb-get users nope >/dev/null 2>&1 || true
	cmp before "$NEDB_DIR/log.aof"
	assert_determinism
}

@test "--as-of answers at every seq of a small history exactly as the database stood" {
	small_history
	local -a want_a=(
		'1 '
		'0 {"_id":"a","v":1}'
		'0 {"_id":"a","v":1}'
		'0 {"_id":"a","v":2}'
		'1 '
		'1 '
	)
	local -a want_b=(
		'1 '
		'1 '
		'0 {"_id":"b","w":1}'
		'0 {"_id":"b","w":1}'
		'0 {"_id":"b","w":1}'
		'0 {"_id":"b","w":2}'
	)
	for s in 0 1 2 3 4 5; do
		run --separate-stderr nedb-get --as-of "$s" t a
		assert_equal "as of $s, t/a: $status $output" \
			"as of $s, t/a: ${want_a[s]}"
		run --separate-stderr nedb-get --as-of "$s" t b
		assert_equal "as of $s, t/b: $status $output" \
			"as of $s, t/b: ${want_b[s]}"
	done
	assert_determinism
}

@test "--as-of 0 sees an empty database" {
	seed_users 3
	run --separate-stderr nedb-get --as-of 0 users u1 u2 u3
	assert_failure 1
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 3
	assert_determinism
}

@test "after a delete the document is gone at HEAD but present as of earlier seqs" {
	nedb-put t a '{"v":1}'
	nedb-put t a '{"v":2}'
	nedb-delete t a
	run nedb-get t a
	assert_failure 1
	run nedb-get --as-of 3 t a
	assert_failure 1
	run nedb-get --as-of 2 t a
	assert_success
	assert_output '{"_id":"a","v":2}'
	run nedb-get --as-of 1 t a
	assert_success
	assert_output '{"_id":"a","v":1}'
	assert_determinism
}

@test "a document deleted and put again is missing only between the delete and the new put" {
	nedb-put t a '{"v":1}'
	nedb-delete t a
	nedb-put t b '{"w":1}'
	nedb-put t a '{"v":2}'
	run nedb-get --as-of 1 t a
	assert_output '{"_id":"a","v":1}'
	run nedb-get --as-of 2 t a
	assert_failure 1
	run nedb-get --as-of 3 t a
	assert_failure 1
	run nedb-get --as-of 4 t a
	assert_success
	assert_output '{"_id":"a","v":2}'
	run nedb-get t a
	assert_output '{"_id":"a","v":2}'
	assert_determinism
}

@test "--as-of the head seq answers like a HEAD read" {
	small_history
	run nedb-get t b
	head_out="$output"
	run nedb-get --as-of 5 t b
	assert_success
	assert_output "$head_out"
	run nedb-get --as-of 5 t a
	assert_failure 1
	assert_determinism
}

@test "--as-of several ids prints the ones that existed then and exits 1 for the others" {
	small_history
	run --separate-stderr nedb-get --as-of 1 t b a
	assert_failure 1
	assert_output '{"_id":"a","v":1}'
	assert_equal "$stderr" "nedb-get: no document 't/b'"
	assert_determinism
}

@test "--as-of reads ids from stdin too" {
	small_history
	run nedb-get --as-of 3 t <<< $'a\nb'
	assert_success
	assert_line --index 0 '{"_id":"a","v":2}'
	assert_line --index 1 '{"_id":"b","w":1}'
	assert_determinism
}

@test "--as-of beyond the head exits 2 and prints nothing" {
	small_history
	run --separate-stderr nedb-get --as-of 6 t b
	assert_failure 2
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "$stderr" "nedb-get: no op 6 yet: the head is seq 5"
	run nedb-get --as-of 18446744073709551614 t b
	assert_failure 2
	assert_determinism
}

@test "--as-of the largest 64-bit seq is beyond the head too, not a HEAD read" {
	small_history
	run --separate-stderr nedb-get --as-of 18446744073709551615 t b
	assert_failure 2
	assert_output ""
	assert_determinism
}

@test "--as-of with a value that is not a seq is a usage error" {
	nedb-put t a '{"v":1}'
	for s in x -1 1.5 '' 99999999999999999999999; do
		run --separate-stderr nedb-get --as-of "$s" t a
		assert_failure 2
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
	done
	assert_determinism
}

@test "--meta prints doc, seq, hash and ts of the current version" {
	nedb-put t a '{"v":1}'
	nedb-put t b '{"w":1}'
	nedb-put t a '{"v":2}'
	run --separate-stderr nedb-get --meta t a
	assert_success
	assert_output --regexp '^\{"doc":\{"_id":"a","v":2\},"seq":3,"hash":"[0-9a-f]{64}","ts":[0-9]+\}$'
	assert_equal "$stderr" ""
	assert_determinism
}

@test "--meta hash equals the hash in the write's receipt" {
	nedb-put t a '{"v":1}'
	run nedb-put t a '{"v":2}'
	receipt_hash=$(hash_of "$output")
	nedb-put t b '{"w":1}'
	run nedb-get --meta t a
	assert_success
	assert_equal "$(hash_of "$output")" "$receipt_hash"
	assert_determinism
}

@test "--meta ts and hash are those of the op in the log" {
	nedb-put t a '{"v":1}'
	nedb-put t a '{"v":2}'
	nedb-get --meta t a > meta.json
	nedb-log --since 2 --until 2 > op.json
	run jq -r '"\(.seq) \(.ts) \(.hash)"' meta.json
	meta_line="$output"
	run jq -r '"\(.seq) \(.ts) \(.hash)"' op.json
	assert_output "$meta_line"
	assert_determinism
}

@test "--meta --as-of prints the version that was current at that seq" {
	run nedb-put t a '{"v":1}'
	first_hash=$(hash_of "$output")
	nedb-put t b '{"w":1}'
	nedb-put t a '{"v":2}'
	run nedb-get --meta --as-of 2 t a
	assert_success
	assert_output --regexp '^\{"doc":\{"_id":"a","v":1\},"seq":1,"hash":"[0-9a-f]{64}","ts":[0-9]+\}$'
	assert_equal "$(hash_of "$output")" "$first_hash"
	assert_determinism
}

@test "--meta of a missing or deleted document exits 1" {
	nedb-put t a '{"v":1}'
	nedb-delete t a
	run --separate-stderr nedb-get --meta t a nope
	assert_failure 1
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 2
	assert_determinism
}

@test "--history prints every version oldest first, deletes included, each with seq, op, hash and ts" {
	run nedb-put t a '{"v":1}'
	h1=$(hash_of "$output")
	nedb-put t other '{"x":1}'
	run nedb-put t a '{"v":2}'
	h3=$(hash_of "$output")
	run nedb-delete t a
	h4=$(hash_of "$output")
	run nedb-put t a '{"v":3}'
	h5=$(hash_of "$output")
	run --separate-stderr nedb-get --history t a
	assert_success
	assert_equal "${#lines[@]}" 4
	assert_line --index 0 --regexp '^\{"seq":1,"op":"put","doc":\{"_id":"a","v":1\},"hash":"[0-9a-f]{64}","ts":[0-9]+\}$'
	assert_line --index 1 --regexp '^\{"seq":3,"op":"put","doc":\{"_id":"a","v":2\},"hash":"[0-9a-f]{64}","ts":[0-9]+\}$'
	assert_line --index 2 --regexp '^\{"seq":4,"op":"delete","hash":"[0-9a-f]{64}","ts":[0-9]+\}$'
	assert_line --index 3 --regexp '^\{"seq":5,"op":"put","doc":\{"_id":"a","v":3\},"hash":"[0-9a-f]{64}","ts":[0-9]+\}$'
	assert_equal "$(hash_of "${lines[0]}") $(hash_of "${lines[1]}") $(hash_of "${lines[2]}") $(hash_of "${lines[3]}")" \
		"$h1 $h3 $h4 $h5"
	assert_equal "$stderr" ""
	assert_determinism
}

@test "--history timestamps never go backwards" {
	for v in 1 2 3 4; do nedb-put t a "{\"v\":$v}"; done >/dev/null
	nedb-get --history t a > hist
	run jq -s '[.[].ts] | . == sort' hist
	assert_output true
	assert_determinism
}

@test "--history of several ids prints each document's versions in turn" {
	small_history
	run nedb-get --history t b a
	assert_success
	assert_equal "${#lines[@]}" 5
	assert_line --index 0 --partial '"seq":2,"op":"put"'
	assert_line --index 1 --partial '"seq":5,"op":"put"'
	assert_line --index 2 --partial '"seq":1,"op":"put"'
	assert_line --index 3 --partial '"seq":3,"op":"put"'
	assert_line --index 4 --partial '"seq":4,"op":"delete"'
	assert_determinism
}

@test "--history of a document that never existed exits 1" {
	nedb-put t a '{"v":1}'
	run --separate-stderr nedb-get --history t nope
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "nedb-get: no document 't/nope'"
	assert_determinism
}

@test "--history --array prints one JSON array of versions" {
	small_history
	run nedb-get --history --array t a
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '^\[\{"seq":1,.*\},\{"seq":3,.*\},\{"seq":4,"op":"delete",.*\}\]$'
	assert_determinism
}

@test "--history with --as-of is a usage error" {
	small_history
	run --separate-stderr nedb-get --history --as-of 2 t a
	assert_failure 2
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	run nedb-get --as-of 2 --history t a
	assert_failure 2
	assert_determinism
}

@test "--history with --meta is a usage error" {
	small_history
	run --separate-stderr nedb-get --history --meta t a
	assert_failure 2
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_determinism
}

@test "--pretty indents each document" {
	seed_users 2
	run nedb-get --pretty users u1 u2
	assert_success
	assert_equal "${#lines[@]}" 8
	assert_line --index 0 '{'
	assert_line --index 1 '  "_id": "u1",'
	assert_line --index 2 '  "n": 1'
	assert_line --index 3 '}'
	assert_line --index 4 '{'
	nedb-get --pretty users u1 u2 > out
	run jq -c . out
	assert_line --index 0 '{"_id":"u1","n":1}'
	assert_line --index 1 '{"_id":"u2","n":2}'
}

@test "--pretty changes only whitespace: numbers print exactly as stored" {
	nedb-put t a '{"big":12345678901234567890,"f":1.50,"e":1E+3}'
	run nedb-get --pretty t a
	assert_success
	assert_output $'{\n  "_id": "a",\n  "big": 12345678901234567890,\n  "f": 1.50,\n  "e": 1E+3\n}'
	assert_determinism
}

@test "--pretty --meta indents the meta object" {
	seed_users 1
	run nedb-get --pretty --meta users u1
	assert_success
	assert_line --index 0 '{'
	assert_line --index 1 '  "doc": {'
	assert_line --index 2 '    "_id": "u1",'
}

@test "--array prints the found documents as one JSON array" {
	seed_users 3
	run --separate-stderr nedb-get --array users u1 u3
	assert_success
	assert_output '[{"_id":"u1","n":1},{"_id":"u3","n":3}]'
}

@test "--array prints the found ones and exits 1 when some are missing" {
	seed_users 2
	run --separate-stderr nedb-get --array users u1 nope
	assert_failure 1
	assert_output '[{"_id":"u1","n":1}]'
	assert_equal "$stderr" "nedb-get: no document 'users/nope'"
}

@test "--array prints an empty array when nothing is found" {
	seed_users 1
	run --separate-stderr nedb-get --array users nope gone
	assert_failure 1
	assert_output '[]'
	assert_equal "${#stderr_lines[@]}" 2
	run --separate-stderr nedb-get --array --as-of 0 users u1
	assert_failure 1
	assert_output '[]'
}

@test "--array --pretty prints one valid indented JSON array" {
	seed_users 2
	nedb-get --array --pretty users u1 u2 > out
	run wc -l < out
	[ "$output" -gt 2 ]
	run jq -c . out
	assert_success
	assert_output '[{"_id":"u1","n":1},{"_id":"u2","n":2}]'
}

@test "a missing database exits 5 with 'no such database' and is not created" {
	run --separate-stderr nedb-get users u1
	assert_failure 5
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "$stderr" "nedb-get: cannot open database '$NEDB_DIR': no such database"
	[ ! -e "$NEDB_DIR" ]
	run --separate-stderr nedb-get --history users u1
	assert_failure 5
	run --separate-stderr nedb-get --as-of 0 users u1
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
}

@test "bad collection names exit 4 with one stderr line" {
	seed_users 1
	for c in 1abc 'a-b' 'a b' '' "$(printf 'x%.0s' {1..65})"; do
		run --separate-stderr nedb-get "$c" u1
		assert_failure 4
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
	done
	run --separate-stderr nedb-get 1abc u1
	assert_equal "$stderr" "nedb-get: bad collection name '1abc': want [A-Za-z_][A-Za-z0-9_]*, 1-64 chars"
}

@test "a bad collection name exits 4 even without a database" {
	run nedb-get 1abc u1
	assert_failure 4
	[ ! -e "$NEDB_DIR" ]
}

@test "bad ids exit 4" {
	seed_users 1
	for id in "$(printf 'a\tb')" "$(printf 'a\x7fb')" "$(printf 'x%.0s' {1..401})" \
	    "$(printf 'a\xffb')" ''; do
		run --separate-stderr nedb-get users "$id"
		assert_failure 4
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
	done
	run --separate-stderr nedb-get users "$(printf 'a\tb')"
	assert_equal "$stderr" "nedb-get: bad id: control character at byte 2"
}

@test "a bad id on stdin exits 4" {
	seed_users 1
	run nedb-get users <<< "$(printf 'a\x01b')"
	assert_failure 4
}

@test "an id on stdin with a NUL byte is a bad id: exit 4, nothing printed" {
	seed_users 1
	printf 'u1\0junk\n' > ids
	run --separate-stderr nedb-get users < ids
	assert_failure 4
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
}

@test "a write error on stdout exits 5 with one stderr line" {
	seed_users 1
	rc=0
	nedb-get users u1 > /dev/full 2> err || rc=$?
	assert_equal "$rc" 5
	run cat err
	assert_output "nedb-get: cannot write output: No space left on device"
	rc=0
	nedb-get --history users u1 > /dev/full 2> err || rc=$?
	assert_equal "$rc" 5
}

@test "usage errors exit 2 with a hint" {
	seed_users 1
	run --separate-stderr nedb-get
	assert_failure 2
	assert_equal "$stderr" "nedb-get: missing collection (see 'nedb-get --help')"
	run --separate-stderr nedb-get --bogus users u1
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-get: unknown option '--bogus' (see 'nedb-get --help')"
	run --separate-stderr nedb-get -x users u1
	assert_failure 2
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr nedb-get users u1 --as-of
	assert_failure 2
	assert_equal "${#stderr_lines[@]}" 1
	run nedb-get --durability never users u1
	assert_failure 2
}

@test "--help prints usage and exits 0; --version prints the version" {
	run --separate-stderr nedb-get --help
	assert_success
	assert_line --index 0 'usage: nedb-get [options] COLL [ID...]'
	assert_output --partial '--as-of SEQ'
	assert_output --partial '--meta'
	assert_output --partial '--history'
	assert_equal "$stderr" ""
	run nedb-get -h
	assert_success
	assert_line --index 0 'usage: nedb-get [options] COLL [ID...]'
	run nedb-get --version
	assert_success
	assert_output --regexp '^nedb-get \(nedb\) [0-9]+\.[0-9]+\.[0-9]+$'
	[ ! -e "$NEDB_DIR" ]
}
