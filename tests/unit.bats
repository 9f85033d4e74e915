#!/usr/bin/env bats
# Runs each library unit test program (tests/unit/test_*.c), built by
# `make unit` into the build directory under test.

load helper

run_unit() {
	local build="$BATS_TEST_DIRNAME/../${NEDB_UNIT_BUILD:-build}"
	[ "${NEDB_SUITE:-1}" = 2 ] && build="$BATS_TEST_DIRNAME/../build-san"
	# a program's random rounds: a third of them in the sanitizer suite,
	# as sample (helper.bash) gives the bats tests (unit_rounds, unit.h)
	if [ "${NEDB_SUITE:-1}" = 2 ]; then
		export NEDB_UNIT_SAMPLE=3
	else
		unset NEDB_UNIT_SAMPLE
	fi
	local bin="$build/unit/test_$1"
	if [ ! -x "$bin" ]; then
		# make check builds them first: missing there is a failure
		[ -z "${NEDB_UNIT_BUILD:-}" ] || fail "unit test $1 not built in $build"
		skip "unit test $1 not built"
	fi
	run "$bin"
	assert_success
	# the harness's last line: every test ran and no check failed
	assert_line --regexp '^[1-9][0-9]* tests, 0 failed checks$'
}

@test "value semantics unit tests pass" {
	run_unit value
}

@test "NQL parser unit tests pass" {
	run_unit nql
}

@test "the index of op times unit tests pass" {
	run_unit timeidx
}

@test "Mongo filter compiler unit tests pass" {
	run_unit filter
}

@test "Redis command table unit tests pass" {
	run_unit redis
}

@test "the Redis operators of patch ops unit tests pass" {
	run_unit rops
}

@test "write protocol unit tests pass" {
	run_unit write
}

@test "out-of-memory policy unit tests pass" {
	run_unit alloc
}

@test "view codec unit tests pass" {
	run_unit codec
}

@test "request layer and update-many unit tests pass" {
	run_unit request
}

@test "log interface and chain walker unit tests pass" {
	run_unit log
}

@test "op table unit tests pass" {
	run_unit optab
}

@test "LMDB error mapping unit tests pass" {
	run_unit errors
}

@test "encryption primitives and key file unit tests pass" {
	run_unit crypt
}

@test "encrypted view kv layer unit tests pass" {
	run_unit kv
}

@test "Merkle tree storage unit tests pass" {
	run_unit tree
}

@test "time parsing and formatting unit tests pass" {
	run_unit time
}

@test "offline verification unit tests pass" {
	run_unit proof
}

@test "content-defined chunking, chunk trees and manifest pages unit tests pass" {
	run_unit cdc
	# the codec with zlib, as where libisal2 is not installed
	NEDB_TEST_FAIL=isal run_unit cdc
}

@test "documents' one-pass check gives the full path's answer, text and error on every input" {
	run_unit doc
}

@test "file store puts staged in a caller's write and pulled reads unit tests pass" {
	run_unit file
	NEDB_TEST_FAIL=isal run_unit file
	# with no store thread: the caller stores, as where none can start
	NEDB_TEST_FAIL=file-thread run_unit file
}

@test "every unit test program has its test here: none is built and never run" {
	local f name missing=()
	for f in "$BATS_TEST_DIRNAME"/unit/test_*.c; do
		name=${f##*/test_}
		name=${name%.c}
		grep -qx "	run_unit $name" "$BATS_TEST_FILENAME" || missing+=("$name")
	done
	assert_equal "${missing[*]}" ""
}

@test "the log engine's unit tests pass (URL parsing; the rest in pglog.bats)" {
	run_unit pglog
}

@test "the log on Redis's unit tests pass (URL parsing; the rest in redislog.bats)" {
	run_unit redislog
}
