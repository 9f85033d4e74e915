#!/usr/bin/env bats
# nedb-link: adding and removing edges, listing neighbours both ways,
# time travel over edges, and the failure paths.

load helper

# The number of lines of the log (genesis included).
log_lines() {
	wc -l < "$NEDB_DIR/log.aof"
}

@test "link prints a receipt and appends a link op" {
	run --separate-stderr nedb-link users:alice follows users:bob
	assert_success
	assert_output --regexp '^\{"seq":1,"hash":"[0-9a-f]{64}","op":"link","from":"users:alice","rel":"follows","to":"users:bob"\}$'
	assert_equal "$stderr" ""
	run nedb-log -n 1
	assert_output --regexp '"op":"link",.*"from":"users:alice","rel":"follows","to":"users:bob"'
	assert_determinism
}

@test "link does not need the documents to exist" {
	run nedb-link users:ghost follows posts:nothing
	assert_success
	run nedb-link --out users:ghost
	assert_output '"posts:nothing"'
	assert_determinism
}

@test "--out lists the nodes a node links to, one JSON string per line" {
	nedb-link users:alice follows users:bob
	nedb-link users:alice follows users:carol
	nedb-link users:alice likes posts:p1
	nedb-link users:bob follows users:carol
	run --separate-stderr nedb-link --out users:alice
	assert_success
	assert_output '"users:bob"
"users:carol"
"posts:p1"'
	assert_equal "$stderr" ""
	assert_determinism
}

@test "--out REL lists only the edges of that relation" {
	nedb-link users:alice follows users:bob
	nedb-link users:alice likes posts:p1
	nedb-link users:alice follows users:carol
	run nedb-link --out users:alice follows
	assert_output '"users:bob"
"users:carol"'
	run nedb-link --out users:alice likes
	assert_output '"posts:p1"'
	run --separate-stderr nedb-link --out users:alice blocks
	assert_success
	assert_output ""
	assert_determinism
}

@test "--in lists the nodes linking to a node, with or without REL" {
	nedb-link users:alice follows users:carol
	nedb-link users:bob follows users:carol
	nedb-link users:dave likes users:carol
	run nedb-link --in users:carol
	assert_output '"users:alice"
"users:bob"
"users:dave"'
	run nedb-link --in users:carol follows
	assert_output '"users:alice"
"users:bob"'
	run nedb-link --in users:alice
	assert_success
	assert_output ""
	assert_determinism
}

@test "--array wraps the neighbours in one array" {
	nedb-link users:alice follows users:bob
	nedb-link users:alice follows users:carol
	run nedb-link --array --out users:alice
	assert_output '["users:bob","users:carol"]'
	assert_determinism
}

@test "a node id may contain colons: the collection ends at the first" {
	nedb-link users:a:b refers posts:x:y
	run nedb-link --in posts:x:y
	assert_output '"users:a:b"'
	run nedb-link --out users:a:b refers
	assert_output '"posts:x:y"'
	assert_determinism
}

@test "--unlink removes an edge and prints a receipt" {
	nedb-link users:alice follows users:bob
	nedb-link users:alice follows users:carol
	run --separate-stderr nedb-link --unlink users:alice follows users:bob
	assert_success
	assert_output --regexp '^\{"seq":3,"hash":"[0-9a-f]{64}","op":"unlink","from":"users:alice","rel":"follows","to":"users:bob"\}$'
	run nedb-link --out users:alice
	assert_output '"users:carol"'
	run nedb-link --in users:bob
	assert_output ""
	assert_determinism
}

@test "--unlink of an edge that does not exist exits 1 and appends nothing" {
	nedb-link users:alice follows users:bob
	n=$(log_lines)
	run --separate-stderr nedb-link --unlink users:alice likes users:bob
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "nedb-link: no edge users:alice -likes-> users:bob"
	run nedb-link --unlink users:bob follows users:alice
	assert_failure 1
	assert_equal "$(log_lines)" "$n"
	nedb-link --unlink users:alice follows users:bob
	run nedb-link --unlink users:alice follows users:bob
	assert_failure 1
	assert_determinism
}

@test "an edge can be linked again after it was removed" {
	nedb-link users:alice follows users:bob
	nedb-link --unlink users:alice follows users:bob
	run nedb-link users:alice follows users:bob
	assert_success
	run nedb-link --out users:alice
	assert_output '"users:bob"'
	assert_determinism
}

@test "--as-of lists the edges as they stood then" {
	nedb-link users:alice follows users:bob		# 1
	nedb-link users:alice follows users:carol	# 2
	nedb-link --unlink users:alice follows users:bob	# 3
	nedb-link users:dave follows users:bob		# 4
	run nedb-link --out users:alice --as-of 2
	assert_output '"users:bob"
"users:carol"'
	run nedb-link --out users:alice follows --as-of 1
	assert_output '"users:bob"'
	run nedb-link --out users:alice --as-of 3
	assert_output '"users:carol"'
	run nedb-link --in users:bob --as-of 2
	assert_output '"users:alice"'
	run nedb-link --in users:bob --as-of 4
	assert_output '"users:dave"'
	run --separate-stderr nedb-link --out users:alice --as-of 0
	assert_success
	assert_output ""
	run nedb-link --out users:alice
	assert_output '"users:carol"'
	assert_determinism
}

@test "--as-of beyond the head exits 2" {
	nedb-link users:alice follows users:bob
	run --separate-stderr nedb-link --out users:alice --as-of 5
	assert_failure 2
	assert_output ""
	assert_determinism
}

@test "--as-of goes with --out and --in only" {
	nedb-link users:alice follows users:bob
	run --separate-stderr nedb-link --as-of 1 users:alice follows users:carol
	assert_failure 2
	run nedb-link --out users:alice
	assert_output '"users:bob"'
	assert_determinism
}

@test "a bad node exits 4 and appends nothing" {
	nedb-link users:alice follows users:bob
	n=$(log_lines)
	for node in nocolon ':id' 'users:' '1bad:x' 'bad-coll:x' "users:$(printf 'a\tb')"; do
		run --separate-stderr nedb-link "$node" follows users:bob
		assert_failure 4
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
		run nedb-link users:alice follows "$node"
		assert_failure 4
		run nedb-link --out "$node"
		assert_failure 4
		run nedb-link --in "$node"
		assert_failure 4
	done
	run --separate-stderr nedb-link nocolon follows users:bob
	assert_equal "$stderr" "nedb-link: bad node 'nocolon': want COLL:ID"
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "a bad relation exits 4 and appends nothing" {
	nedb-link users:alice follows users:bob
	n=$(log_lines)
	for rel in '' 'two words' '1st' "$(printf 'r%.0s' {1..65})" 'a/b'; do
		run --separate-stderr nedb-link users:alice "$rel" users:bob
		assert_failure 4
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
	done
	run --separate-stderr nedb-link users:alice 'two words' users:bob
	assert_equal "$stderr" "nedb-link: bad relation 'two words': want [A-Za-z_][A-Za-z0-9_:-]*, 1-64 chars"
	assert_equal "$(log_lines)" "$n"
	run nedb-link users:alice 'is-a:kind_of' users:bob
	assert_success
	assert_determinism
}

@test "--idem makes a retried link a no-op that prints the original receipt" {
	run nedb-link --idem k1 users:alice follows users:bob
	first=$output
	n=$(log_lines)
	run nedb-link --idem k1 users:alice follows users:bob
	assert_success
	assert_output "$first"
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "--client --nonce reject a stale nonce with exit 3" {
	run nedb-link --client app --nonce 4 users:alice follows users:bob
	assert_success
	run --separate-stderr nedb-link --client app --nonce 4 users:alice follows users:carol
	assert_failure 3
	run nedb-link --out users:alice
	assert_output '"users:bob"'
	run nedb-link --client app --nonce 5 --unlink users:alice follows users:bob
	assert_success
	assert_determinism
}

@test "usage errors exit 2" {
	run --separate-stderr nedb-link users:alice follows
	assert_failure 2
	run nedb-link users:alice follows users:bob extra
	assert_failure 2
	run nedb-link --out
	assert_failure 2
	run nedb-link --out users:alice follows extra
	assert_failure 2
	run nedb-link --out --in users:alice
	assert_failure 2
	run nedb-link --unlink --out users:alice
	assert_failure 2
	run nedb-link --bogus users:a r users:b
	assert_failure 2
	[ ! -e "$NEDB_DIR" ]
}

@test "listing neighbours of a missing database exits 5" {
	run --separate-stderr nedb-link --out users:alice
	assert_failure 5
	assert_output ""
	[ ! -e "$NEDB_DIR" ]
}

@test "--help prints usage and exits 0" {
	run nedb-link --help
	assert_success
	assert_line --index 0 'usage: nedb-link [options] FROM REL TO'
}

@test "linking an edge that exists appends nothing and says so" {
	nedb-put -q users alice '{}'
	nedb-put -q users bob '{}'
	nedb-link users:alice follows users:bob
	seq=$(nedb-log | tail -1 | jq .seq)
	run nedb-link users:alice follows users:bob
	assert_success
	assert_output '{"op":"link","from":"users:alice","rel":"follows","to":"users:bob","exists":true}'
	assert_equal "$(nedb-log | tail -1 | jq .seq)" "$seq"
	assert_determinism
}
