#!/usr/bin/env bats
# The libFuzzer targets (tests/fuzz), each run for a bounded time under
# ASan+UBSan from its seed corpus.  Built by `make fuzz`; run once, in the
# first suite of `make check`.

load helper

fuzz() {
	local name=$1 bin="$BATS_TEST_DIRNAME/../build/fuzz/fuzz_$1"
	[ -x "$bin" ] || skip "fuzzer not built (make fuzz)"
	[ "${NEDB_SUITE:-1}" = 1 ] || skip "fuzzers run in the first suite only"
	mkdir -p "$BATS_TEST_TMPDIR/corpus"
	cp "$BATS_TEST_DIRNAME/fuzz/corpus/$name/"* "$BATS_TEST_TMPDIR/corpus/"
	cd "$BATS_TEST_TMPDIR"
	LSAN_OPTIONS="suppressions=$BATS_TEST_DIRNAME/fuzz/lsan.supp" \
	ASAN_OPTIONS=detect_leaks=1 \
	run "$bin" -max_total_time="${NEDB_FUZZ_SECONDS:-15}" -timeout=10 \
		-rss_limit_mb=1024 corpus
	assert_success
	assert_output --partial "Done "
}

@test "the document input fuzzer finds nothing" {
	fuzz doc
}

@test "the log line fuzzer finds nothing" {
	fuzz logline
}

@test "the encrypted log line fuzzer finds nothing" {
	fuzz encline
}

@test "the NQL parser fuzzer finds nothing" {
	fuzz nql
}

@test "the SQL parser and evaluator fuzzer finds nothing" {
	fuzz sql
}

@test "the RESP request fuzzer finds nothing" {
	fuzz resp
}

@test "the HTTP body fuzzer finds nothing" {
	fuzz http
}

@test "the proof, checkpoint and note parser fuzzer finds nothing" {
	fuzz note
}

@test "the file store's manifest page and chunk proof fuzzer finds nothing" {
	fuzz fileproof
}

@test "the Redis operators' fuzzer finds nothing" {
	fuzz rops
}
