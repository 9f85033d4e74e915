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

# Patches (nedb-format(5), Replay): an update of a large document logs
# the update, not the document.

# users/big: a document of more than 2000 bytes, n 0 and an empty list.
seed_big() {
	nedb-put -q users big "{\"n\":0,\"l\":[],\"pad\":\"$(printf '%02000d' 0)\"}"
}

@test "an update of a large document logs a patch: the change, not the document" {
	seed_big
	before=$(stat -c %s "$NEDB_DIR/log.aof")
	run --separate-stderr nedb-update users '{"_id":"big"}' '{"$push":{"l":"x"}, "$inc":{"n":1}}'
	assert_success
	assert_output --regexp '^\{"seq":2,"hash":"[0-9a-f]{64}","op":"patch","coll":"users","id":"big"\}$'
	assert_equal "$stderr" ""
	# the line holds the update (compact) and the version it changes
	run sh -c 'nedb-log | tail -1 | jq -c "[.op, .doc, .base]"'
	assert_output '["patch",{"$push":{"l":"x"},"$inc":{"n":1}},1]'
	grow=$(($(stat -c %s "$NEDB_DIR/log.aof") - before))
	[ "$grow" -lt 600 ] || fail "the patch took $grow bytes of log"
	run sh -c 'nedb-get users big | jq -c "[.n, .l]"'
	assert_output '[1,["x"]]'
	# an update of a quarter of the document or more is a put
	run nedb-update users '{"_id":"big"}' "{\"\$set\":{\"pad\":\"$(printf '%0600d' 1)\"}}"
	assert_success
	assert_output --partial '"op":"put"'
	# and so is one of a small document
	nedb-put -q users small '{"n":0}'
	run nedb-update users '{"_id":"small"}' '{"$inc":{"n":1}}'
	assert_output --partial '"op":"put"'
	assert_determinism
}

@test "a patch keeps the document's expiry, and --many patches every large match" {
	seed_big
	nedb-put -q --ttl 100000 users big2 "{\"n\":5,\"pad\":\"$(printf '%02000d' 0)\"}"
	exp=$(nedb-log | tail -1 | jq .exp)
	run nedb-update --many users '{"n":{"$gte":0}}' '{"$inc":{"n":10}}'
	assert_success
	assert_equal "$(echo "$output" | jq -r .op | sort | uniq -c | tr -s ' ')" " 2 patch"
	run sh -c 'nedb-query --filter "{}" users | jq -c "[._id, .n]"'
	assert_output '["big",10]
["big2",15]'
	# the expiry is the put's, in the view and after a rebuild
	[ "$exp" -gt 0 ]
	run sh -c 'nedb-get --meta users big2 | jq -c "[.seq, .exp]"'
	assert_output "[4,$exp]"
	nedb-checkpoint --rebuild >/dev/null
	run sh -c 'nedb-get --meta users big2 | jq -c "[.seq, .exp]"'
	assert_output "[4,$exp]"
	assert_determinism
}

@test "AS OF, history, diff and queries read every version of a document patched past the full versions" {
	local n=140 i
	[ "${NEDB_SUITE:-1}" = 1 ] || n=70	# past one full version still
	seed_big
	for ((i = 1; i <= n; i++)); do
		nedb-update -q users '{"_id":"big"}' "{\"\$inc\":{\"n\":1},\"\$push\":{\"l\":$i}}"
	done
	# 64 patches in a row, then a put
	run sh -c 'nedb-log | jq -r .op | uniq -c | tr -s " " | tr "\n" ";"'
	if [ "$n" = 140 ]; then
		assert_output ' 1 genesis; 1 put; 64 patch; 1 put; 64 patch; 1 put; 10 patch;'
	else
		assert_output ' 1 genesis; 1 put; 64 patch; 1 put; 5 patch;'
	fi
	# every version: n is seq - 1, l is 1..n
	run sh -c 'nedb-get --history users big | jq -c "select(.doc.n != .seq - 1 or .doc.l != [range(1; .seq)]) | .seq"'
	assert_success
	assert_output ""
	run sh -c 'nedb-get --history users big | wc -l'
	assert_output $((n + 1))
	for i in 2 64 65 66 67 $((n + 1)); do
		run sh -c "nedb-get --as-of $i users big | jq -c '[.n, (.l | length)]'"
		assert_output "[$((i - 1)),$((i - 1))]"
	done
	run sh -c "nedb-query 'FROM users AS OF 40 WHERE n = 39' | jq -c '[._id, (.l | length)]'"
	assert_output '["big",39]'
	run sh -c 'nedb-diff 30 31 users | jq -c "[.change, .before.n, .after.n]"'
	assert_output '["changed",29,30]'
	# a rebuild replays the patches: the same versions
	nedb-checkpoint --rebuild >/dev/null
	run sh -c "nedb-get --as-of 60 users big | jq -c .n"
	assert_output 59
	assert_determinism
}

@test "a patch that does not apply to the document's latest version is a corrupt log" {
	local script
	seed_big
	nedb-update -q users '{"_id":"big"}' '{"$inc":{"n":1}}'
	nedb-update -q users '{"_id":"big"}' '{"$inc":{"n":1}}'
	# op 3 claims to change op 1, which op 2 replaced, and the chain is
	# rewritten after it: the view's record names the op, and a view
	# rebuilt from the log cannot apply it
	python3 "$BATS_TEST_DIRNAME/rechain.py" "$NEDB_DIR" 3 '"base":2' '"base":1'
	run nedb-verify
	assert_failure 1
	assert_output --partial '{"ok":false,"seq":3,'
	rm -f "$NEDB_DIR"/view.mdb*
	run --separate-stderr nedb-get users big
	assert_failure 5
	assert_equal "$stderr" "nedb-get: corrupt log: patch op 3 changes seq 1 of 'users/big', which is not its latest version"
	python3 "$BATS_TEST_DIRNAME/format-check.py" file \
		"$BATS_TEST_DIRNAME/../man/nedb-format.5" nedb-replay.py > replay.py
	run --separate-stderr python3 replay.py "$NEDB_DIR/log.aof"
	assert_failure 1
	assert_equal "$stderr" '{"ok":false,"seq":3,"error":"patch of a version that is not the latest"}'
	# an update that does not apply to its base ($inc of a string)
	rm -rf "$NEDB_DIR"
	seed_big
	nedb-update -q users '{"_id":"big"}' '{"$push":{"l":1}}'
	python3 "$BATS_TEST_DIRNAME/rechain.py" "$NEDB_DIR" 1 '"l":[]' '"l":{}'
	rm -f "$NEDB_DIR"/view.mdb*
	run --separate-stderr nedb-get users big
	assert_failure 5
	assert_equal "$stderr" "nedb-get: corrupt log: patch op 2 does not apply to 'users/big': cannot \$push to 'l': it is not an array"
}

@test "redacting a version erases the patches after it, up to the next put" {
	seed_big
	nedb-update -q users '{"_id":"big"}' '{"$push":{"l":"secret1"}}'
	nedb-update -q users '{"_id":"big"}' '{"$push":{"l":"secret2"}}'
	run nedb-redact --seq 2 users big
	assert_success
	run sh -c 'nedb-log | jq -c "[.seq, .op, .redacted]"'
	assert_output '[0,"genesis",null]
[1,"put",null]
[2,"patch",4]
[3,"patch",4]
[4,"redact",null]'
	! grep -q secret "$NEDB_DIR/log.aof" || fail "the update's text is still in the log"
	run nedb-get --as-of 1 users big
	assert_output --partial '"n":0,"l":[]'
	run nedb-get --as-of 3 users big
	assert_output '{"_id":"big","_redacted":{"seq":4}}'
	run nedb-get users big
	assert_output '{"_id":"big","_redacted":{"seq":4}}'
	run nedb-verify
	assert_success
	assert_determinism
}

@test "patches on an encrypted database: no update in plaintext on disk, the same versions" {
	export NEDB_TMK=$(printf '%064d' 7)
	seed_big
	nedb-update -q users '{"_id":"big"}' '{"$push":{"l":"canaryzq"}}'
	run sh -c 'nedb-log | tail -1 | jq -c "[.op, .doc]"'
	assert_output '["patch",{"$push":{"l":"canaryzq"}}]'
	! grep -rqa canaryzq "$NEDB_DIR" || fail "the update is on disk in plaintext"
	run sh -c 'nedb-get --as-of 2 users big | jq -c .l'
	assert_output '["canaryzq"]'
	nedb-checkpoint --rebuild >/dev/null
	assert_determinism
}
