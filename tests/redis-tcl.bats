#!/usr/bin/env bats
# Redis 7.0.15's own Tcl test suite against nedbd's RESP port (issue
# #18): its framework and units from ../shared/data/redis-tests (BSD,
# see COPYING there) and the units of the same release kept in
# tests/redis-tcl/unit (type/incr, type/zset, keyspace, scan; BSD, see
# COPYING there), run by tests/redis-tcl/run in the suite's
# external-server mode.  Every test of a unit must pass except those
# listed in tests/redis-tcl/expected, each for a command or behaviour
# nedbd does not have (named there); a listed test that starts to pass
# fails this file too, so that the list stays the truth.  The same
# runner against a real redis-server passes every test it runs, so the
# runner itself takes nothing away.  Skipped, with a note, where
# ../shared/data is absent (a user's clone) or tclsh is not installed.

load nedbd-helper

EXPECTED=$BATS_TEST_DIRNAME/redis-tcl/expected

# need_suite: a copy of the suite in $BATS_TEST_TMPDIR/suite, or a skip.
need_suite() {
	local d suite=
	for d in "${NEDB_SHARED_DATA:-}" "$BATS_TEST_DIRNAME/../../shared/data"; do
		if [ -n "$d" ] && [ -f "$d/redis-tests/tests/test_helper.tcl" ]; then
			suite=$d/redis-tests
			break
		fi
	done
	[ -n "$suite" ] || skip "../shared/data/redis-tests is absent (set NEDB_SHARED_DATA)"
	command -v tclsh >/dev/null || skip "tclsh is not installed (Debian's tcl)"
	cp -r "$suite" "$BATS_TEST_TMPDIR/suite"
}

# unit_against_nedbd UNIT: runs it; $OUT holds the results.
unit_against_nedbd() {
	# durability is not what these tests are about: fsync would only
	# make thousands of sequential writes slow
	start_nedbd NEDBD_DURABILITY=fast
	OUT=$BATS_TEST_TMPDIR/results
	"$BATS_TEST_DIRNAME/redis-tcl/run" "$BATS_TEST_TMPDIR/suite" "$RPORT" \
		"$OUT" "$1"
	if [ ! -s "$OUT" ]; then
		echo "the unit ran no test; the runner said:" >&2
		tail -20 "$OUT.log" >&2
		return 1
	fi
}

# check_unit UNIT: the failures are exactly the expected ones, and the
# unit ran as many tests as it has (none lost to an aborted unit).
check_unit() {
	local unit=$1
	# about 140 s a suite: the units test nedbd's answers, which are the
	# same in both builds (the RESP parser is fuzzed under the sanitizers)
	[ "${NEDB_SUITE:-1}" = 1 ] || skip "Redis's Tcl units run in the first suite only"
	need_suite
	unit_against_nedbd "$unit"
	run grep -c "^ok $unit: " "$OUT"
	local ok=$output
	run sed -n "s|^err $unit: ||p" "$OUT"
	local got=$output
	run sed -n "s|^err $unit: \([^	]*\).*|\1|p" "$EXPECTED"
	local want=$output
	if [ "$got" != "$want" ]; then
		echo "failures differ from tests/redis-tcl/expected:" >&2
		diff <(echo "$want") <(echo "$got") >&2 || true
		return 1
	fi
	run sed -n "s|^total $unit \([0-9]*\)$|\1|p" "$EXPECTED"
	local total=$output
	[ -n "$total" ]
	assert_equal "$((ok + $(grep -c "^err $unit: " "$OUT")))" "$total"
}

@test "Redis's unit type/string: every test passes but the listed ones" {
	check_unit type/string
}

@test "Redis's unit type/hash: every test passes but the listed ones" {
	check_unit type/hash
}

@test "Redis's unit type/set: every test passes but the listed ones" {
	check_unit type/set
}

@test "Redis's unit type/list: every test passes but the listed ones" {
	check_unit type/list
}

@test "Redis's unit expire: every test passes but the listed ones" {
	check_unit expire
}

@test "Redis's unit multi: every test passes but the listed ones" {
	check_unit multi
}

@test "Redis's unit protocol: every test passes but the listed ones" {
	check_unit protocol
}

@test "Redis's unit type/incr: every test passes but the listed ones" {
	check_unit type/incr
}

@test "Redis's unit type/zset: every test passes but the listed ones" {
	check_unit type/zset
}

@test "Redis's unit keyspace: every test passes but the listed ones" {
	check_unit keyspace
}

@test "Redis's unit scan: every test passes but the listed ones" {
	check_unit scan
}

@test "the runner passes every test it runs of a unit against a real redis-server" {
	command -v redis-server >/dev/null || skip "redis-server is not installed"
	[ "${NEDB_SUITE:-1}" = 1 ] || skip "no nedb command runs here: once is enough"
	need_suite
	local port i
	port=$(free_port)
	redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
		--dir "$BATS_TEST_TMPDIR" >"$BATS_TEST_TMPDIR/redis.log" 2>&1 3>&- &
	EXTRA_PIDS+=($!)
	for ((i = 0; i < 200; i++)); do
		redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
		sleep 0.05
	done
	"$BATS_TEST_DIRNAME/redis-tcl/run" "$BATS_TEST_TMPDIR/suite" "$port" \
		"$BATS_TEST_TMPDIR/results" type/set multi type/incr keyspace
	run grep -c '^ok ' "$BATS_TEST_TMPDIR/results"
	[ "$output" -gt 100 ]
	run grep '^err ' "$BATS_TEST_TMPDIR/results"
	assert_output ''
}
