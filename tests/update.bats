#!/usr/bin/env bats
# nedb-update: each operator, dotted paths, first match or --many,
# --upsert, replacement documents, exact numbers, and failure paths that
# write nothing.

load helper

# The number of lines of the log (genesis included).
log_lines() {
	wc -l < "$NEDB_DIR/log.aof"
}

seed_t() {
	nedb-put -q t <<'EOF'
{"_id":"a","n":1,"s":"x","tags":["r","g","r"],"o":{"p":1}}
{"_id":"b","n":2,"s":"y"}
{"_id":"c","n":3,"s":"x"}
EOF
}

@test "\$set sets members and prints a put receipt" {
	seed_t
	run --separate-stderr nedb-update t '{"_id":"a"}' '{"$set":{"s":"z","new":[1,{"k":null}]}}'
	assert_success
	assert_output --regexp '^\{"seq":4,"hash":"[0-9a-f]{64}","op":"put","coll":"t","id":"a"\}$'
	assert_equal "$stderr" ""
	run nedb-get t a
	assert_output '{"_id":"a","n":1,"s":"z","tags":["r","g","r"],"o":{"p":1},"new":[1,{"k":null}]}'
	assert_determinism
}

@test "\$set with a dotted path sets a nested member, creating objects on the way" {
	seed_t
	nedb-update t '{"_id":"a"}' '{"$set":{"o.q":2,"x.y.z":true}}'
	run nedb-get t a
	assert_output '{"_id":"a","n":1,"s":"x","tags":["r","g","r"],"o":{"p":1,"q":2},"x":{"y":{"z":true}}}'
	assert_determinism
}

@test "\$unset removes members, dotted ones too, and ignores missing ones" {
	seed_t
	nedb-update t '{"_id":"a"}' '{"$unset":{"s":"","o.p":1,"missing":1,"o.none.deeper":1}}'
	run nedb-get t a
	assert_output '{"_id":"a","n":1,"tags":["r","g","r"],"o":{}}'
	assert_determinism
}

@test "\$inc adds to numbers, creating a missing member" {
	seed_t
	nedb-update t '{"_id":"a"}' '{"$inc":{"n":5,"m":-2,"o.p":0.5}}'
	run nedb-get t a
	assert_output '{"_id":"a","n":6,"s":"x","tags":["r","g","r"],"o":{"p":1.5},"m":-2}'
	nedb-update t '{"_id":"a"}' '{"$inc":{"n":-6}}'
	run nedb-get t a
	assert_output --partial '"n":0,'
	assert_determinism
}

@test "\$push appends to an array, creating a missing one" {
	seed_t
	nedb-update t '{"_id":"a"}' '{"$push":{"tags":"b","more":{"k":1}}}'
	run nedb-get t a
	assert_output '{"_id":"a","n":1,"s":"x","tags":["r","g","r","b"],"o":{"p":1},"more":[{"k":1}]}'
	assert_determinism
}

@test "\$pull removes every element = the value" {
	nedb-put t a '{"v":[1,3,"3",3.0,[3],2]}'
	nedb-update t '{"_id":"a"}' '{"$pull":{"v":3}}'
	run nedb-get t a
	assert_output '{"_id":"a","v":[1,"3",[3],2]}'
	assert_determinism
}

@test "several operators apply in one update and one put" {
	seed_t
	n=$(log_lines)
	run nedb-update t '{"_id":"a"}' '{"$set":{"o.q":2},"$inc":{"n":1},"$push":{"tags":"z"},"$pull":{"tags":"r"},"$unset":{"s":1}}'
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_equal "$(log_lines)" "$((n + 1))"
	run nedb-get t a
	assert_output '{"_id":"a","n":2,"tags":["g","z"],"o":{"p":1,"q":2}}'
	assert_determinism
}

@test "a plain object replaces the whole document, keeping its _id" {
	seed_t
	nedb-update t '{"_id":"b"}' '{"whole":"new","n":12345678901234567890}'
	run nedb-get t b
	assert_output '{"_id":"b","whole":"new","n":12345678901234567890}'
	assert_determinism
}

@test "without --many only the first match in _id order changes" {
	seed_t
	run nedb-update t '{"s":"x"}' '{"$inc":{"n":10}}'
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output --partial '"id":"a"'
	run nedb-query --jq .n 'FROM t'
	assert_output '11
2
3'
	assert_determinism
}

@test "--many changes every match and prints a receipt each" {
	seed_t
	run nedb-update --many t '{"s":"x"}' '{"$inc":{"n":10}}'
	assert_success
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --regexp '"seq":4,.*"id":"a"'
	assert_line --index 1 --regexp '"seq":5,.*"id":"c"'
	run nedb-query --jq .n 'FROM t'
	assert_output '11
2
13'
	assert_determinism
}

@test "the filter uses the comparison semantics of --filter" {
	seed_t
	nedb-put t d '{"n":"2"}'
	nedb-update --many t '{"n":{"$gte":2.0}}' '{"$set":{"hit":true}}'
	run nedb-query --jq ._id 'FROM t WHERE hit = true'
	assert_output '"b"
"c"'
	nedb-update --many t '{"o.p":1}' '{"$set":{"deep":1}}'
	run nedb-query --jq ._id 'FROM t WHERE deep EXISTS'
	assert_output '"a"'
	assert_determinism
}

@test "no match exits 1 and writes nothing" {
	seed_t
	n=$(log_lines)
	run --separate-stderr nedb-update t '{"n":99}' '{"$set":{"x":1}}'
	assert_failure 1
	assert_output ""
	assert_equal "$stderr" "nedb-update: no document matches"
	run nedb-update --many t '{"s":"nothing"}' '{"$set":{"x":1}}'
	assert_failure 1
	run nedb-update other '{}' '{"$set":{"x":1}}'
	assert_failure 1
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "--upsert with _id in the filter inserts that document when nothing matches" {
	seed_t
	run --separate-stderr nedb-update --upsert t '{"_id":"z","kind":"new"}' '{"$set":{"x":1},"$inc":{"n":2}}'
	assert_success
	assert_output --regexp '^\{"seq":4,"hash":"[0-9a-f]{64}","op":"put","coll":"t","id":"z"\}$'
	run nedb-get t z
	assert_output '{"_id":"z","kind":"new","x":1,"n":2}'
	assert_determinism
}

@test "--upsert without _id inserts a document with a new id" {
	seed_t
	run nedb-update --upsert t '{"kind":"w","n":{"$gt":5}}' '{"$set":{"x":1}}'
	assert_success
	assert_output --regexp '"op":"put","coll":"t","id":"[^"]+"\}$'
	run nedb-query --jq 'del(._id)' 'FROM t WHERE kind = "w"'
	assert_output '{"kind":"w","x":1}'
	run nedb-query --jq ._id 'FROM t WHERE kind = "w"'
	assert_output --regexp '^"[^"]+"$'
	assert_determinism
}

@test "--upsert updates the match when there is one" {
	seed_t
	run nedb-update --upsert t '{"_id":"b"}' '{"$set":{"x":1}}'
	assert_success
	assert_output --partial '"id":"b"'
	run nedb-get t b
	assert_output '{"_id":"b","n":2,"s":"y","x":1}'
	run nedb-query --jq ._id 'FROM t'
	assert_output '"a"
"b"
"c"'
	assert_determinism
}

@test "--upsert on a missing database creates it" {
	run nedb-update --upsert t '{"_id":"a"}' '{"$set":{"x":1}}'
	assert_success
	run nedb-get t a
	assert_output '{"_id":"a","x":1}'
	assert_determinism
}

@test "numbers an update does not touch keep their exact text" {
	nedb-put t a '{"big":12345678901234567890,"f":1.50,"e":1E+3,"z":-0.0,"arr":[1.10,2e2],"o":{"d":0.10}}'
	nedb-update t '{"_id":"a"}' '{"$set":{"s":"x"},"$inc":{"n":1}}'
	run nedb-get t a
	assert_output '{"_id":"a","big":12345678901234567890,"f":1.50,"e":1E+3,"z":-0.0,"arr":[1.10,2e2],"o":{"d":0.10},"s":"x","n":1}'
	nedb-update t '{"big":12345678901234567890}' '{"$set":{"o.e":1}}'
	run nedb-get t a
	assert_output '{"_id":"a","big":12345678901234567890,"f":1.50,"e":1E+3,"z":-0.0,"arr":[1.10,2e2],"o":{"d":0.10,"e":1},"s":"x","n":1}'
	assert_determinism
}

@test "an update that changes nothing appends nothing" {
	seed_t
	n=$(log_lines)
	run nedb-update t '{"_id":"b"}' '{"$set":{"n":2}}'
	assert_success
	assert_output ""
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "a bad operator exits 2 and writes nothing" {
	seed_t
	n=$(log_lines)
	run --separate-stderr nedb-update t '{"_id":"a"}' '{"$bogus":{"s":1}}'
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-update: unknown update operator '\$bogus': want \$set \$unset \$inc \$push \$pull"
	run nedb-update t '{"_id":"a"}' '{"$set":{"x":1},"plain":2}'
	assert_failure 2
	run nedb-update t '{"_id":"a"}' '{"$set":1}'
	assert_failure 2
	run nedb-update t '{"_id":"a"}' '{"$inc":{"n":"x"}}'
	assert_failure 2
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "a bad update or filter exits 2 with a clean one-line message" {
	seed_t
	n=$(log_lines)
	run --separate-stderr nedb-update t '{}' 'notjson'
	assert_failure 2
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^nedb-update: bad update: not JSON: Invalid'
	refute_regex "$stderr" 'bad update: bad update'
	run --separate-stderr nedb-update t 'notjson' '{"$set":{"x":1}}'
	assert_failure 2
	assert_regex "$stderr" '^nedb-update: bad filter: not JSON: Invalid'
	run --separate-stderr nedb-update t '{"$bad":1}' '{"$set":{"x":1}}'
	assert_failure 2
	run --separate-stderr nedb-update --upsert t '{"a":1}' 'zz'
	assert_failure 2
	refute_regex "$stderr" 'bad update: bad update'
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "\$inc on a string exits 4 and writes nothing" {
	seed_t
	n=$(log_lines)
	run --separate-stderr nedb-update t '{"_id":"b"}' '{"$inc":{"s":1}}'
	assert_failure 4
	assert_output ""
	assert_equal "$stderr" "nedb-update: cannot \$inc 's': it is not a number"
	run nedb-get t b
	assert_output '{"_id":"b","n":2,"s":"y"}'
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "\$inc beyond the range of a double exits 4 naming the field and writes nothing" {
	nedb-put -q t a '{"x":1e308}'
	nedb-put -q t b '{"x":1e308}'
	n=$(log_lines)
	run --separate-stderr nedb-update --many t '{}' '{"$inc":{"x":1e308}}'
	assert_failure 4
	assert_output ""
	assert_equal "$stderr" "nedb-update: cannot \$inc 'x': the result is beyond the range of a double (about 1.8e308)"
	assert_equal "$(log_lines)" "$n"
	# a value already beyond it cannot be incremented either
	nedb-put -q t c '{"x":1e400}'
	run --separate-stderr nedb-update t '{"_id":"c"}' '{"$inc":{"x":1}}'
	assert_failure 4
	assert_equal "$stderr" "nedb-update: cannot \$inc 'x': the result is beyond the range of a double (about 1.8e308)"
	# within range, the sum is the shortest text that reads back as it
	run nedb-update t '{"_id":"a"}' '{"$inc":{"x":-1e307,"y":0.1}}'
	assert_success
	nedb-update t '{"_id":"a"}' '{"$inc":{"y":0.2}}'
	run nedb-get t a
	assert_output '{"_id":"a","x":9e+307,"y":0.30000000000000004}'
	assert_determinism
}

@test "a --many update failing on a later document writes none of them" {
	seed_t
	nedb-put t d '{"s":"x","n":"four"}'
	n=$(log_lines)
	run --separate-stderr nedb-update --many t '{"s":"x"}' '{"$inc":{"n":1}}'
	assert_failure 4
	assert_output ""
	assert_equal "$(log_lines)" "$n"
	run nedb-query --jq .n 'FROM t'
	assert_output '1
2
3
"four"'
	assert_determinism
}

@test "\$push to a non-array exits 4 and writes nothing" {
	seed_t
	n=$(log_lines)
	run --separate-stderr nedb-update t '{"_id":"a"}' '{"$push":{"s":1}}'
	assert_failure 4
	assert_equal "$stderr" "nedb-update: cannot \$push to 's': it is not an array"
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "an update cannot change _id" {
	seed_t
	n=$(log_lines)
	run --separate-stderr nedb-update t '{"_id":"a"}' '{"$set":{"_id":"zz"}}'
	assert_failure 2
	run nedb-get t a
	assert_success
	assert_equal "$(log_lines)" "$n"
	assert_determinism
}

@test "history shows each change as an ordinary put" {
	seed_t
	nedb-update t '{"_id":"b"}' '{"$inc":{"n":1}}'
	nedb-update t '{"_id":"b"}' '{"$set":{"s":"w"}}'
	run nedb-get --history t b
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --regexp '^\{"seq":2,"op":"put","doc":\{"_id":"b","n":2,"s":"y"\}'
	assert_line --index 1 --regexp '^\{"seq":4,"op":"put","doc":\{"_id":"b","n":3,"s":"y"\}'
	assert_line --index 2 --regexp '^\{"seq":5,"op":"put","doc":\{"_id":"b","n":3,"s":"w"\}'
	run nedb-log --since 4
	assert_line --index 0 --regexp '"op":"put",.*"coll":"t","id":"b"'
	assert_line --index 1 --regexp '"op":"put",.*"coll":"t","id":"b"'
	run nedb-query 'FROM t AS OF 4 WHERE _id = "b"'
	assert_output '{"_id":"b","n":3,"s":"y"}'
	assert_determinism
}

@test "--client --nonce protect updates from replay; --many takes consecutive nonces" {
	seed_t
	run nedb-update --many --client app --nonce 10 t '{"s":"x"}' '{"$inc":{"n":1}}'
	assert_success
	run --separate-stderr nedb-update --client app --nonce 11 t '{"_id":"b"}' '{"$inc":{"n":1}}'
	assert_failure 3
	run nedb-get t b
	assert_output '{"_id":"b","n":2,"s":"y"}'
	run nedb-update --client app --nonce 12 t '{"_id":"b"}' '{"$inc":{"n":1}}'
	assert_success
	assert_determinism
}

@test "-q prints no receipts" {
	seed_t
	run --separate-stderr nedb-update -q --many t '{}' '{"$inc":{"n":1}}'
	assert_success
	assert_output ""
	run nedb-query --jq .n 'FROM t'
	assert_output '2
3
4'
	assert_determinism
}

@test "usage errors exit 2, bad collections 4, a missing database 5" {
	run --separate-stderr nedb-update t '{}'
	assert_failure 2
	assert_equal "$stderr" "nedb-update: want COLL FILTER UPDATE (see 'nedb-update --help')"
	run nedb-update t '{}' '{}' extra
	assert_failure 2
	run nedb-update --bogus t '{}' '{"$set":{"a":1}}'
	assert_failure 2
	run nedb-update 'bad-coll' '{}' '{"$set":{"a":1}}'
	assert_failure 4
	run --separate-stderr nedb-update t '{}' '{"$set":{"a":1}}'
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
}

@test "--help prints usage and exits 0" {
	run nedb-update --help
	assert_success
	assert_line --index 0 'usage: nedb-update [options] COLL FILTER UPDATE'
}

@test "an update keeps the document's expiry" {
	nedb-put -q --ttl 1000 users a '{"n":1}'
	exp=$(nedb-log | tail -1 | jq .exp)
	[ "$exp" != null ] || fail "the put has no expiry"
	run nedb-update users '{"_id":"a"}' '{"$inc":{"n":1}}'
	assert_success
	assert_equal "$(nedb-log | tail -1 | jq .exp)" "$exp"
	run nedb-get users a
	assert_output '{"_id":"a","n":2}'
	assert_determinism
}
