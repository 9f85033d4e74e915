#!/usr/bin/env bats
# AS OF TIMESTAMP and --as-of @TIME: the last op at or before a time,
# through the view's index of op times; the time forms; writers that
# never let ts go back; encrypted views, rebuilds and prunes.  Ops get
# their times from the NEDB_TEST_NOW hook (the clock ops are stamped
# with), never from sleeping.

load helper

# 2025-12-06T05:46:40.000Z and steps after it
T0=1765000000000

# at MS CMD...: CMD with the op clock at MS
at() {
	NEDB_TEST_NOW=$1 "${@:2}"
}

# A history of t/a and t/b, one op per second from T0:
#   0 genesis, 1 index, 2 unindex (T0)  3 put a v1 (T0+1000)
#   4 put a v2 (T0+2000)  5 put b (T0+3000)  6 delete a (T0+4000)
setup_more() {
	at $T0 nedb-index x f eq >/dev/null	# genesis (and op 1) at T0
	at $T0 nedb-index --drop x f >/dev/null
	at $((T0 + 1000)) nedb-put -q t a '{"v":1}'
	at $((T0 + 2000)) nedb-put -q t a '{"v":2}'
	at $((T0 + 3000)) nedb-put -q t b '{"w":1}'
	at $((T0 + 4000)) nedb-delete -q t a
}

@test "the ops carry the times the test clock gave them" {
	run -0 bash -c 'nedb-log | jq -c "[.seq, .ts]"'
	assert_output "[0,$T0]
[1,$T0]
[2,$T0]
[3,$((T0 + 1000))]
[4,$((T0 + 2000))]
[5,$((T0 + 3000))]
[6,$((T0 + 4000))]"
}

@test "a time exactly at an op's ts reads the database right after that op" {
	run --separate-stderr nedb-get --as-of @$((T0 + 2000)) t a
	assert_success
	assert_output '{"_id":"a","v":2}'
	run -0 nedb-query "FROM t AS OF TIMESTAMP \"$((T0 + 1000))\""
	assert_output '{"_id":"a","v":1}'
}

@test "a time between two ops reads after the earlier one" {
	run -0 nedb-get --as-of @$((T0 + 1999)) t a
	assert_output '{"_id":"a","v":1}'
	run -0 nedb-query "EXPLAIN FROM t AS OF TIMESTAMP \"$((T0 + 3999))\""
	assert_output --partial '"as_of":5'
	run -1 --separate-stderr nedb-get --as-of @$((T0 + 999)) t a
	assert_equal "$stderr" "nedb-get: no document 't/a'"
}

@test "a time shared by the first ops reads after the last of them" {
	run -0 nedb-query "FROM t AS OF TIMESTAMP \"$T0\""
	assert_output ""
	run -0 nedb-query "EXPLAIN FROM t AS OF TIMESTAMP \"2025-12-06T05:46:40Z\""
	assert_output --partial '"as_of":2'
}

@test "a time before the first op is a usage error naming both times" {
	run -2 --separate-stderr nedb-get --as-of @$((T0 - 1)) t a
	assert_output ""
	assert_equal "$stderr" "nedb-get: no op at or before 2025-12-06T05:46:39.999Z: the database begins at 2025-12-06T05:46:40.000Z (seq 0)"
	run -2 --separate-stderr nedb-query 'FROM t AS OF TIMESTAMP "1970-01-01"'
	assert_equal "$stderr" "nedb-query: no op at or before 1970-01-01T00:00:00.000Z: the database begins at 2025-12-06T05:46:40.000Z (seq 0)"
	run -2 --separate-stderr nedb-query --filter '{}' --as-of @1999-12-31 t
	[[ $stderr == *"no op at or before 1999-12-31T00:00:00.000Z"* ]]
	run -2 --separate-stderr nedb-link --out t:a --as-of @0
	[[ $stderr == *"no op at or before 1970-01-01T00:00:00.000Z"* ]]
}

@test "a time after the last op reads the present" {
	run -0 nedb-query 'FROM t AS OF TIMESTAMP "2999-12-31T23:59:59.999Z"'
	assert_output '{"_id":"b","w":1}'
	run -0 nedb-query 'EXPLAIN FROM t AS OF TIMESTAMP "2999-01-01"'
	assert_output --partial '"as_of":6'
}

@test "every accepted form of a time names the same instant" {
	# T0+2000 is 2025-12-06T05:46:42Z: op 4
	for t in "$((T0 + 2000))" 2025-12-06T05:46:42Z 2025-12-06T05:46:42.000Z \
		2025-12-06T05:46:42.000999999Z 2025-12-06t05:46:42z \
		"2025-12-06 05:46:42" 2025-12-06T05:46:42 2025-12-06T06:46:42+01:00 \
		2025-12-05T23:16:42-06:30 2025-12-06T05:46:42.5; do
		run -0 nedb-query "EXPLAIN FROM t AS OF TIMESTAMP \"$t\""
		assert_output --partial '"as_of":4'
		run -0 nedb-get --as-of "@$t" t a
		assert_output '{"_id":"a","v":2}'
	done
	# to the minute: 05:46:00 is before genesis; 05:47 after op 6
	run -2 nedb-get --as-of @2025-12-06T05:46 t a
	run -0 nedb-query 'EXPLAIN FROM t AS OF TIMESTAMP "2025-12-06T05:47Z"'
	assert_output --partial '"as_of":6'
	# a date is its first instant: the day before is before genesis,
	# the next day after everything
	run -2 nedb-get --as-of @2025-12-06 t a
	run -0 nedb-query 'EXPLAIN FROM t AS OF TIMESTAMP "2025-12-07"'
	assert_output --partial '"as_of":6'
	# a leap second is the next second's first instant
	run -0 nedb-query 'EXPLAIN FROM t AS OF TIMESTAMP "2025-12-06T05:46:40.999Z"'
	assert_output --partial '"as_of":2'
	run -0 nedb-query 'EXPLAIN FROM t AS OF TIMESTAMP "2025-12-06T05:46:60Z"'
	assert_output --partial '"as_of":6'
}

@test "a malformed or impossible time is a usage error naming it" {
	local re="^nedb-get: --as-of: bad time '.*': (want 2026-12-06, 2026-12-06T16:28:40\.123Z \(RFC 3339\) or ms since the epoch|no such date|no such time of day) \(see 'nedb-get --help'\)\$"
	for t in '' yesterday 2025-12-6 2025-13-01 2025-02-29 2025-04-31 \
		2025-12-06T24:00 2025-12-06T05:60 2025-12-06T05:46:61 \
		2025-12-06T05 2025-12-06T05:46:42. 2025-12-06T05:46:42.1234567890 \
		2025-12-06T05:46:42+24:00 2025-12-06T05:46:42+0100 \
		2025-12-06T05:46:42Zx 2025-12-06X05:46 1765000000000x \
		1234567890123456789 -5 '2025-12-06  05:46'; do
		run -2 --separate-stderr nedb-get --as-of "@$t" t a
		assert_output ""
		[[ $stderr =~ $re ]] || fail "'$t': $stderr"
	done
	# a leap day is a date in a leap year only
	run -0 nedb-query 'EXPLAIN FROM t AS OF TIMESTAMP "2028-02-29"'
	assert_output --partial '"as_of":6'
}

@test "a malformed time in AS OF TIMESTAMP is a syntax error at the string" {
	run -2 --separate-stderr nedb-query 'FROM t AS OF TIMESTAMP "2025-02-30"'
	assert_equal "$stderr" "nedb-query: syntax error at column 24: bad time '2025-02-30': no such date"
	run -2 --separate-stderr nedb-query 'FROM t AS OF TIMESTAMP 1765000000000'
	[[ $stderr == *"expected a double-quoted time after AS OF TIMESTAMP"* ]]
	run -2 --separate-stderr nedb-query 'FROM t AS OF TIMESTAMP'
	[[ $stderr == *"expected a double-quoted time after AS OF TIMESTAMP"* ]]
	run -2 --separate-stderr nedb-query "FROM t AS OF TIMESTAMP 'x'"
	[[ $stderr == *"syntax error"* ]]
	run -2 --separate-stderr nedb-query 'FROM t AS OF TIMESTAMP "2025-12-06\u0000"'
	[[ $stderr == *"bad time"* ]]
	run -2 --separate-stderr nedb-query 'FROM t AS OF TIMESTAMP "2025-12-06'
	[[ $stderr == *"unterminated string"* ]]
}

@test "AS OF TIMESTAMP combines with WHERE, ORDER BY and LIMIT" {
	at $((T0 + 5000)) nedb-put -q t c '{"w":3}'
	at $((T0 + 6000)) nedb-put -q t d '{"w":2}'
	run -0 nedb-query "FROM t AS OF TIMESTAMP \"$((T0 + 5500))\" WHERE w > 0 ORDER BY w DESC LIMIT 1"
	assert_output '{"_id":"c","w":3}'
}

@test "--as-of @TIME of nedb-link lists the edges as they stood then" {
	at $((T0 + 5000)) nedb-link t:a knows t:b >/dev/null
	at $((T0 + 6000)) nedb-link --unlink t:a knows t:b >/dev/null
	run -0 nedb-link --out t:a --as-of @$((T0 + 5000))
	assert_output '"t:b"'
	run -0 nedb-link --out t:a --as-of @$((T0 + 6000))
	assert_output ''
	run -2 --separate-stderr nedb-link t:a knows t:b --as-of @$((T0 + 6000))
	[[ $stderr == *"--as-of is for --out and --in"* ]]
}

@test "--as-of @TIME of nedb-query --filter reads the past" {
	run -0 nedb-query --filter '{"v":{"$gte":1}}' --as-of @2025-12-06T05:46:41Z t
	assert_output '{"_id":"a","v":1}'
	run -2 --separate-stderr nedb-query --as-of @2025-12-06 'FROM t'
	[[ $stderr == *"--as-of go with --filter"* ]]
}

@test "ops written with the same time are all at or before it" {
	printf '{"_id":"s%d"}\n' 1 2 3 | at $((T0 + 5000)) nedb-put -q s
	at $((T0 + 5000)) nedb-put -q s s4 '{}'
	at $((T0 + 5000)) nedb-delete -q s s1
	run -0 bash -c 'nedb-log --since 7 | jq -c "[.seq, .ts - '$T0']"'
	assert_output '[7,5000]
[8,5000]
[9,5000]
[10,5000]
[11,5000]'
	run -0 nedb-query "EXPLAIN FROM s AS OF TIMESTAMP \"$((T0 + 5000))\""
	assert_output --partial '"as_of":11'
	run -0 nedb-query "FROM s AS OF TIMESTAMP \"$((T0 + 5000))\""
	assert_output '{"_id":"s2"}
{"_id":"s3"}
{"_id":"s4"}'
	run -0 nedb-query "EXPLAIN FROM s AS OF TIMESTAMP \"$((T0 + 4999))\""
	assert_output --partial '"as_of":6'
	assert_determinism
}

@test "a writer whose clock is behind the last op stamps its op with the last op's time" {
	at $((T0 + 10000)) nedb-put -q t c '{"w":3}'
	at $((T0 + 7000)) nedb-put -q t d '{"w":4}'	# the clock went back
	printf '{"_id":"e%d"}\n' 1 2 | at 5 nedb-put -q t	# far back, a stream
	at $((T0 + 12000)) nedb-put -q t f '{}'
	run -0 bash -c 'nedb-log --since 7 | jq -c "[.seq, .ts - '$T0']"'
	assert_output '[7,10000]
[8,10000]
[9,10000]
[10,10000]
[11,12000]'
	run -0 nedb-get --meta --as-of @$((T0 + 10000)) t e2
	assert_output --partial '"seq":10'
	run -0 nedb-query "EXPLAIN FROM t AS OF TIMESTAMP \"$((T0 + 11999))\""
	assert_output --partial '"as_of":10'
	assert_determinism
}

@test "the genesis op's clock going back is kept by the ops after it" {
	rm -rf "$NEDB_DIR"
	at $((T0 + 9000)) nedb-put -q t a '{}'
	at $T0 nedb-put -q t b '{}'
	run -0 bash -c 'nedb-log | jq -c ".ts - '$T0'"'
	assert_output '9000
9000
9000'
}

@test "a log whose ts goes back (an older writer) is indexed by the latest ts up to each op" {
	at $((T0 + 5000)) nedb-put -q t c '{}'
	# op 7 rewritten to an earlier ts, the chain rewritten after it
	python3 "$BATS_TEST_DIRNAME/rechain.py" "$NEDB_DIR" 7 \
		"\"ts\":$((T0 + 5000))" "\"ts\":$((T0 + 1500))"
	run -0 nedb-checkpoint --rebuild
	run -0 bash -c 'nedb-log --since 6 | jq -c ".ts - '$T0'"'
	assert_output '4000
1500'
	run -0 nedb-verify
	# op 7 is indexed at 4000, with op 6: both at or before T0+4000
	run -0 nedb-query "EXPLAIN FROM t AS OF TIMESTAMP \"$((T0 + 4000))\""
	assert_output --partial '"as_of":7'
	run -0 nedb-query "EXPLAIN FROM t AS OF TIMESTAMP \"$((T0 + 1500))\""
	assert_output --partial '"as_of":3'
	assert_determinism
}

@test "times read the same after nedb-checkpoint --rebuild, and the view matches the log" {
	run -0 nedb-checkpoint --rebuild
	for t in 1000 1999 2000 3000 4000 99999; do
		run -0 nedb-query "EXPLAIN FROM t AS OF TIMESTAMP \"$((T0 + t))\""
		echo "$output" | jq -e ".as_of == $(( t >= 4000 ? 6 : t / 1000 + 2 ))"
	done
	assert_determinism
}

@test "a view of the previous format, without the times table, is rebuilt with it at open" {
	# the view as an earlier format left it: copied table by table
	# but times and elems, its format number (in "applied") made the
	# one before
	mdb_dump -n -a "$NEDB_DIR/view.mdb" | python3 -c '
import sys
out = []
for sec in sys.stdin.read().split("VERSION=3\n")[1:]:
    if "\ndatabase=" not in "\n" + sec or "\ndatabase=times\n" in "\n" + sec or "\ndatabase=elems\n" in "\n" + sec:
        continue
    lines = sec.split("\n")
    for i, l in enumerate(lines):
        if l == " " + b"applied".hex():
            v = bytearray.fromhex(lines[i + 1][1:])
            assert v[48:52] == bytes([11, 0, 0, 0])
            v[48:52] = bytes([10, 0, 0, 0])
            lines[i + 1] = " " + v.hex()
    out.append("VERSION=3\n" + "\n".join(lines))
sys.stdout.write("".join(out))' > old.dump
	rm -f "$NEDB_DIR"/view.mdb*
	mdb_load -n -f old.dump "$NEDB_DIR/view.mdb" 2>/dev/null
	run -0 mdb_dump -n -l "$NEDB_DIR/view.mdb"
	refute_line times
	run -0 nedb-get --as-of @$((T0 + 2000)) t a
	assert_output '{"_id":"a","v":2}'
	assert_determinism
}

@test "a view of this format that lost its times says so and names the way out" {
	mdb_dump -n -a "$NEDB_DIR/view.mdb" | python3 -c '
import sys
for sec in sys.stdin.read().split("VERSION=3\n")[1:]:
    if "\ndatabase=" in "\n" + sec and "\ndatabase=times\n" not in "\n" + sec:
        sys.stdout.write("VERSION=3\n" + sec)' > cut.dump
	rm -f "$NEDB_DIR"/view.mdb*
	mdb_load -n -f cut.dump "$NEDB_DIR/view.mdb" 2>/dev/null
	run -5 --separate-stderr nedb-get --as-of @$((T0 + 2000)) t a
	assert_equal "$stderr" "nedb-get: corrupt view: it has no times; run nedb-checkpoint --rebuild"
	run -0 nedb-checkpoint --rebuild
	run -0 nedb-get --as-of @$((T0 + 2000)) t a
	assert_output '{"_id":"a","v":2}'
}

@test "times before a prune's horizon read the archive" {
	at $((T0 + 5000)) nedb-checkpoint --prune >/dev/null	# op 7
	at $((T0 + 6000)) nedb-put -q t a '{"v":3}'
	ls "$NEDB_DIR"/archive/*.seg >/dev/null
	run -0 nedb-get --as-of @$((T0 + 1500)) t a
	assert_output '{"_id":"a","v":1}'
	run -0 nedb-query "FROM t AS OF TIMESTAMP \"$((T0 + 3000))\""
	assert_output '{"_id":"a","v":2}
{"_id":"b","w":1}'
	run -0 nedb-get --as-of @$((T0 + 6000)) t a
	assert_output '{"_id":"a","v":3}'
	run -0 nedb-checkpoint --rebuild
	run -0 nedb-get --as-of @$((T0 + 2500)) t a
	assert_output '{"_id":"a","v":2}'
	assert_determinism
}

@test "an encrypted database reads by time, and its view does not show the times" {
	rm -rf "$NEDB_DIR"
	export NEDB_TMK=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
	local t=1765432101234
	at $t nedb-put -q t a '{"v":1}'
	at $((t + 1000)) nedb-put -q t a '{"v":2}'
	at $((t + 1000)) nedb-put -q t b '{}'
	run -0 nedb-get --as-of @$t t a
	assert_output '{"_id":"a","v":1}'
	run -0 nedb-query "EXPLAIN FROM t AS OF TIMESTAMP \"$((t + 1000))\""
	assert_output --partial '"as_of":3'
	run -2 nedb-get --as-of @$((t - 1)) t a
	nedb-checkpoint >/dev/null
	assert_determinism
	# neither byte order of either time, anywhere in the directory
	run -1 python3 - "$NEDB_DIR" $t $((t + 1000)) <<-'EOF'
	import os, struct, sys
	pats = [struct.pack(f, int(x)) for x in sys.argv[2:] for f in ("<q", ">q")]
	for d, _, fs in os.walk(sys.argv[1]):
	    for f in fs:
	        b = open(os.path.join(d, f), "rb").read()
	        for p in pats:
	            if p in b:
	                print(f, p.hex()); sys.exit(0)
	sys.exit(1)
	EOF
	assert_output ""
}

@test "a plaintext view holds the times in clear (what the encrypted test looks for)" {
	run -0 python3 - "$NEDB_DIR/view.mdb" $((T0 + 3000)) <<-'EOF'
	import struct, sys
	b = open(sys.argv[1], "rb").read()
	sys.exit(0 if struct.pack(">q", int(sys.argv[2])) in b else 1)
	EOF
}
