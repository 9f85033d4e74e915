#!/usr/bin/env bats
# nedb-diff SEQ1 SEQ2 [COLL]: the documents added, removed or changed
# between two points of time, checked against a replay of nedb-log's
# ops; points by time; archives; encrypted databases; every failure.

load helper

# 1 put t/a v1, 2 put t/b, 3 put u/x, 4 put t/a v2, 5 delete t/b,
# 6 put t/c, 7 put u/x again with the same text, 8 put t/d,
# 9 delete t/d
small() {
	nedb-put -q t a '{"v":1}'
	nedb-put -q t b '{"w":1}'
	nedb-put -q u x '{"x":1}'
	nedb-put -q t a '{"v":2}'
	nedb-delete -q t b
	nedb-put -q t c '{"c":1}'
	nedb-put -q u x '{"x":1}'
	nedb-put -q t d '{}'
	nedb-delete -q t d
}

# The expected diff from SEQ1 to SEQ2 [COLL], from a replay of every op
# nedb-log prints (puts, deletes, drops), as nedb-diff prints it; of the
# file $REPLAY_LOG instead when set (what nedb-log printed once).
replay_diff() {
	if [ -n "${REPLAY_LOG:-}" ]; then cat "$REPLAY_LOG"; else nedb-log; fi |
		python3 -c '
import json, sys
a, b = int(sys.argv[1]), int(sys.argv[2])
coll = sys.argv[3] if len(sys.argv) > 3 else None
state, snap = {}, {}
def take(seq):
    if seq == a: snap["a"] = dict(state)
    if seq == b: snap["b"] = dict(state)
for line in sys.stdin:
    op = json.loads(line)
    k = op["op"]
    if k == "put":
        state[(op["coll"], op["id"])] = op["doc"]
    elif k == "delete":
        state.pop((op["coll"], op["id"]), None)
    elif k == "drop":
        for key in [key for key in state if key[0] == op["coll"]]:
            del state[key]
    take(op["seq"])
A, B = snap["a"], snap["b"]
def enc(k):
    return (k[0].encode(), k[1].encode())
for key in sorted(set(A) | set(B), key=enc):
    if coll and key[0] != coll: continue
    x, y = A.get(key), B.get(key)
    if x == y: continue
    ch = "added" if x is None else "removed" if y is None else "changed"
    print(json.dumps({"coll": key[0], "id": key[1], "change": ch,
                      "before": x, "after": y}, ensure_ascii=False,
                     separators=(",", ":")))
' "$@"
}

@test "diff prints added, removed and changed documents by collection and id" {
	small
	run --separate-stderr nedb-diff 3 9
	assert_success
	assert_equal "$stderr" ""
	assert_output '{"coll":"t","id":"a","change":"changed","before":{"_id":"a","v":1},"after":{"_id":"a","v":2}}
{"coll":"t","id":"b","change":"removed","before":{"_id":"b","w":1},"after":null}
{"coll":"t","id":"c","change":"added","before":null,"after":{"_id":"c","c":1}}'
	run -0 nedb-diff 0 9
	assert_output '{"coll":"t","id":"a","change":"added","before":null,"after":{"_id":"a","v":2}}
{"coll":"t","id":"c","change":"added","before":null,"after":{"_id":"c","c":1}}
{"coll":"u","id":"x","change":"added","before":null,"after":{"_id":"x","x":1}}'
	run -0 nedb-diff 2 5
	assert_output '{"coll":"t","id":"a","change":"changed","before":{"_id":"a","v":1},"after":{"_id":"a","v":2}}
{"coll":"t","id":"b","change":"removed","before":{"_id":"b","w":1},"after":null}
{"coll":"u","id":"x","change":"added","before":null,"after":{"_id":"x","x":1}}'
}

@test "a document written back with the same text, or added and deleted in between, is no change" {
	small
	run -0 nedb-diff 3 7 u
	assert_output ''
	run -0 nedb-diff 7 9
	assert_output ''
	run -1 nedb-diff -e 7 9
	assert_output ''
	run -1 nedb-diff -e 6 9 t
	assert_output ''
	run -0 nedb-diff --exit-status 0 1
	assert_output --partial '"change":"added"'
}

@test "equal points, and points next to each other, diff one op at most" {
	small
	for i in 0 1 2 3 4 5 6 7 8 9; do
		run -0 nedb-diff $i $i
		assert_output ''
	done
	run -0 nedb-diff 4 5
	assert_output '{"coll":"t","id":"b","change":"removed","before":{"_id":"b","w":1},"after":null}'
}

@test "COLL keeps one collection's documents" {
	small
	run -0 nedb-diff 0 9 u
	assert_output '{"coll":"u","id":"x","change":"added","before":null,"after":{"_id":"x","x":1}}'
	run -0 nedb-diff 0 9 nosuch
	assert_output ''
}

@test "points may be times: the last op at or before each" {
	NEDB_TEST_NOW=1765000000000 nedb-put -q t a '{"v":1}'
	NEDB_TEST_NOW=1765000001000 nedb-put -q t a '{"v":2}'
	NEDB_TEST_NOW=1765000002000 nedb-put -q t b '{}'
	run -0 nedb-diff @2025-12-06T05:46:40Z @2025-12-06T05:46:41.500Z
	assert_output '{"coll":"t","id":"a","change":"changed","before":{"_id":"a","v":1},"after":{"_id":"a","v":2}}'
	run -0 nedb-diff 1 @1765000002000
	assert_output '{"coll":"t","id":"a","change":"changed","before":{"_id":"a","v":1},"after":{"_id":"a","v":2}}
{"coll":"t","id":"b","change":"added","before":null,"after":{"_id":"b"}}'
	run -0 nedb-diff @2025-12-06T05:46:41Z "@2999-01-01"
	assert_output '{"coll":"t","id":"b","change":"added","before":null,"after":{"_id":"b"}}'
	run -2 --separate-stderr nedb-diff @2025-12-06 3
	assert_equal "$stderr" "nedb-diff: no op at or before 2025-12-06T00:00:00.000Z: the database begins at 2025-12-06T05:46:40.000Z (seq 0)"
	run -2 --separate-stderr nedb-diff 0 @noon
	assert_equal "$stderr" "nedb-diff: SEQ2: bad time 'noon': want 2026-12-06, 2026-12-06T16:28:40.123Z (RFC 3339) or ms since the epoch (see 'nedb-diff --help')"
}

@test "a dropped collection's documents are removed, and only the drop's" {
	small
	nedb-coll --drop t >/dev/null		# 10
	nedb-put -q t e '{"e":1}'		# 11
	run -0 nedb-diff 9 11
	assert_output '{"coll":"t","id":"a","change":"removed","before":{"_id":"a","v":2},"after":null}
{"coll":"t","id":"c","change":"removed","before":{"_id":"c","c":1},"after":null}
{"coll":"t","id":"e","change":"added","before":null,"after":{"_id":"e","e":1}}'
	run -0 nedb-diff 9 11 u
	assert_output ''
	run -0 nedb-diff 10 11
	assert_output '{"coll":"t","id":"e","change":"added","before":null,"after":{"_id":"e","e":1}}'
}

@test "ids and texts that need escaping come out as JSON" {
	nedb-put -q t 'q"uo\te é' '{"s":"é\n"}'
	nedb-put -q t 'q"uo\te é' '{"s":2}'
	run -0 nedb-diff 0 2
	assert_output '{"coll":"t","id":"q\"uo\\te é","change":"added","before":null,"after":{"_id":"q\"uo\\te é","s":2}}'
	run -0 nedb-diff 1 2
	assert_output '{"coll":"t","id":"q\"uo\\te é","change":"changed","before":{"_id":"q\"uo\\te é","s":"é\n"},"after":{"_id":"q\"uo\\te é","s":2}}'
}

@test "--array and --pretty shape the output as for every command" {
	small
	run -0 nedb-diff --array 4 5
	assert_output '[{"coll":"t","id":"b","change":"removed","before":{"_id":"b","w":1},"after":null}]'
	run -0 nedb-diff --array 7 9
	assert_output '[]'
	run -0 nedb-diff --pretty 4 5
	assert_line --index 0 '{'
	assert_line --index 1 '  "coll": "t",'
}

@test "nedb-diff equals a replay of the log over a random history" {
	python3 - "$(sample 300)" <<-'EOF' | sh
	import random, sys
	r = random.Random(12)
	for i in range(int(sys.argv[1])):
	    c = r.choice(["p", "q", "r"])
	    d = r.randrange(12)
	    k = r.random()
	    if k < 0.6:
	        print(f"nedb-put -q {c} d{d} '{{\"n\":{r.randrange(3)}}}'")
	    elif k < 0.9:
	        print(f"nedb-delete -q {c} d{d} 2>/dev/null")
	    elif k < 0.93:
	        print(f"nedb-coll --drop {c} >/dev/null 2>&1")
	    elif k < 0.96:
	        print(f"nedb-link {c}:d{d} knows p:d1 >/dev/null")
	    else:
	        print("nedb-checkpoint >/dev/null")
	EOF
	local head REPLAY_LOG=$BATS_TEST_TMPDIR/replay.log
	head=$(nedb-log -n 1 | jq .seq)
	# the log, printed once for every replay below: nothing writes now
	nedb-log >"$REPLAY_LOG"
	for pair in "0 $head" "1 2" "10 40" "40 10x" \
		"$((head / 3)) $((head / 3 + 1))" "5 $((head - 5))" \
		"$((head * 3 / 5)) $head" "$((head / 2)) $((head / 2 + 30))"; do
		set -- $pair
		[ "$2" = 10x ] && continue
		run -0 nedb-diff "$1" "$2"
		assert_output "$(replay_diff "$1" "$2")"
		run -0 nedb-diff "$1" "$2" q
		assert_output "$(replay_diff "$1" "$2" q)"
	done
	assert_determinism
}

@test "diff reads archived ops and versions after a prune" {
	small
	nedb-checkpoint --prune >/dev/null	# 10: ops 0-9 archived
	nedb-put -q t a '{"v":3}'		# 11
	ls "$NEDB_DIR"/archive/*.seg >/dev/null
	run -0 nedb-diff 1 9
	assert_output "$(replay_diff 1 9)"
	run -0 nedb-diff 3 11
	assert_output "$(replay_diff 3 11)"
	assert_output --partial '"before":{"_id":"a","v":1},"after":{"_id":"a","v":3}'
}

@test "diff works on an encrypted database" {
	export NEDB_TMK=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
	small
	run -0 nedb-diff 3 9
	assert_output '{"coll":"t","id":"a","change":"changed","before":{"_id":"a","v":1},"after":{"_id":"a","v":2}}
{"coll":"t","id":"b","change":"removed","before":{"_id":"b","w":1},"after":null}
{"coll":"t","id":"c","change":"added","before":null,"after":{"_id":"c","c":1}}'
	assert_determinism
	unset NEDB_TMK
	run -5 --separate-stderr nedb-diff 1 9
	assert_output ''
}

@test "SEQ1 after SEQ2 is a usage error" {
	small
	run -2 --separate-stderr nedb-diff 5 4
	assert_output ''
	assert_equal "$stderr" "nedb-diff: seq 5 is after seq 4: give the earlier point first"
}

@test "a point beyond the head is a usage error naming the head" {
	small
	run -2 --separate-stderr nedb-diff 1 10
	assert_equal "$stderr" "nedb-diff: no op 10 yet: the head is seq 9"
	run -2 --separate-stderr nedb-diff 18446744073709551615 18446744073709551615
	assert_equal "$stderr" "nedb-diff: no op 18446744073709551615 yet: the head is seq 9"
}

@test "a point that is neither a seq nor @TIME is a usage error" {
	small
	run -2 --separate-stderr nedb-diff x 2
	assert_equal "$stderr" "nedb-diff: bad SEQ1 'x': want a non-negative integer (see 'nedb-diff --help')"
	run -2 --separate-stderr nedb-diff 1 -3
	assert_equal "$stderr" "nedb-diff: unknown option '-3' (see 'nedb-diff --help')"
	run -2 --separate-stderr nedb-diff 1 99999999999999999999
	assert_equal "$stderr" "nedb-diff: bad SEQ2 '99999999999999999999': want a non-negative integer (see 'nedb-diff --help')"
}

@test "missing or extra arguments and unknown options are usage errors" {
	small
	run -2 --separate-stderr nedb-diff
	assert_equal "$stderr" "nedb-diff: missing SEQ1 and SEQ2 (see 'nedb-diff --help')"
	run -2 --separate-stderr nedb-diff 1
	assert_equal "$stderr" "nedb-diff: missing SEQ2 (see 'nedb-diff --help')"
	run -2 --separate-stderr nedb-diff 1 2 t extra
	assert_equal "$stderr" "nedb-diff: unexpected argument 'extra' (see 'nedb-diff --help')"
	run -2 --separate-stderr nedb-diff --nope 1 2
	assert_equal "$stderr" "nedb-diff: unknown option '--nope' (see 'nedb-diff --help')"
}

@test "a bad collection name exits 4" {
	small
	run -4 --separate-stderr nedb-diff 1 2 'bad-name'
	assert_output ''
	[[ $stderr == "nedb-diff: bad collection name 'bad-name'"* ]]
}

@test "no database exits 5" {
	run -5 --separate-stderr nedb-diff 0 0
	[[ $stderr == "nedb-diff: cannot open database"* ]]
}

@test "a damaged line between the points exits 5 naming its seq" {
	small
	# op 4's document text changed in the log, its hash not
	sed -i 's/{"_id":"a","v":2}/{"_id":"a","v":7}/' "$NEDB_DIR/log.aof"
	run -5 --separate-stderr nedb-diff 3 5
	assert_output ''
	[[ $stderr == *"corrupt log at seq 4"* ]]
	# points that do not reach it still diff
	run -0 nedb-diff 5 9
}

@test "--help prints the usage and exits 0" {
	run -0 nedb-diff --help
	assert_line --index 0 'usage: nedb-diff [options] SEQ1 SEQ2 [COLL]'
}
