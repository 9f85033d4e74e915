#!/usr/bin/env bats
# nedb-log: the ops of the log as NDJSON, ranges, order, output shapes,
# --follow, and every failure path.

load helper

setup_more() {
	cd "$BATS_TEST_TMPDIR"
	follow_pid=
}

teardown() {
	if [ -n "$follow_pid" ]; then
		kill "$follow_pid" 2>/dev/null || true
		wait "$follow_pid" 2>/dev/null || true
	fi
}

# Four user ops after genesis:
#   1 put t/a, 2 put t/b, 3 put t/a, 4 delete t/b
four_ops() {
	nedb-put t a '{"v":1}'
	nedb-put t b '{"v":1}'
	nedb-put t a '{"v":2}'
	nedb-delete t b
} >/dev/null

field() {	# field NAME LINE: a string member of a one-line JSON object
	[[ $2 =~ \"$1\":\"([^\"]*)\" ]] && echo "${BASH_REMATCH[1]}"
}

seq_of() {
	[[ $1 =~ [{,]\"seq\":([0-9]+)[,}] ]] && echo "${BASH_REMATCH[1]}"
}

# The seqs of the lines of $output, space-separated.
seqs() {
	local l out=()
	for l in "${lines[@]}"; do out+=("$(seq_of "$l")"); done
	echo "${out[*]}"
}

# Waits (at most about 20 s) until file $1 has at least $2 lines.
wait_for_lines() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(wc -l < "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $2 lines in $1:" >&2
	cat "$1" >&2
	return 1
}

# Waits (at most about 20 s) until process $1 has the log open, then a
# little longer for it to read the head.
wait_for_open_log() {
	local i f
	for ((i = 0; i < 200; i++)); do
		for f in /proc/"$1"/fd/*; do
			if [ "$(readlink "$f")" = "$NEDB_DIR/log.aof" ]; then
				sleep 0.5
				return 0
			fi
		done
		sleep 0.1
	done
	echo "timed out waiting for $1 to open the log" >&2
	return 1
}

# Waits (at most about 20 s) until file $1 holds the op with seq $2.
wait_for_seq() {
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q "^{\"seq\":$2," "$1" && return 0
		sleep 0.1
	done
	echo "timed out waiting for seq $2 in $1:" >&2
	cat "$1" >&2
	return 1
}

@test "log prints every op oldest first, starting with genesis at seq 0" {
	four_ops
	run --separate-stderr nedb-log
	assert_success
	assert_equal "${#lines[@]}" 5
	assert_equal "$(seqs)" "0 1 2 3 4"
	assert_line --index 0 --partial '"op":"genesis"'
	assert_line --index 1 --regexp '"op":"put".*"coll":"t","id":"a"'
	assert_line --index 2 --regexp '"op":"put".*"coll":"t","id":"b"'
	assert_line --index 3 --regexp '"op":"put".*"coll":"t","id":"a"'
	assert_line --index 4 --regexp '"op":"delete".*"coll":"t","id":"b"'
	assert_equal "$stderr" ""
	assert_determinism
}

@test "genesis has prev of 64 zeros" {
	four_ops
	run nedb-log -n 5
	assert_equal "$(field prev "${lines[0]}")" \
		0000000000000000000000000000000000000000000000000000000000000000
}

@test "every line has seq, op and prev and ends with a 64-hex hash member" {
	four_ops
	run nedb-log
	for l in "${lines[@]}"; do
		assert_regex "$l" '^\{.*"seq":[0-9]+[,}]'
		assert_regex "$l" '[{,]"prev":"[0-9a-f]{64}"[,}]'
		assert_regex "$l" '[{,]"op":"[a-z]+"[,}]'
		assert_regex "$l" ',"hash":"[0-9a-f]{64}"\}$'
	done
}

@test "each line's prev equals the previous line's hash" {
	four_ops
	nedb-checkpoint >/dev/null
	run nedb-log
	assert_equal "${#lines[@]}" 6
	for ((i = 1; i < ${#lines[@]}; i++)); do
		assert_equal "seq $i prev $(field prev "${lines[i]}")" \
			"seq $i prev $(field hash "${lines[i - 1]}")"
	done
	assert_determinism
}

@test "each hash is BLAKE2b-256 of the raw prev bytes and the line's body" {
	four_ops
	run nedb-log
	for l in "${lines[@]}"; do
		prev=$(field prev "$l")
		body="${l:0:${#l}-75}}"
		want=$({ printf '%s' "$prev" | xxd -r -p; printf '%s' "$body"; } |
		       b2sum -l 256 | cut -d' ' -f1)
		assert_equal "$(field hash "$l")" "$want"
	done
}

@test "the receipts' hashes are the hashes of the logged ops" {
	run nedb-put t a '{"v":1}'
	h1=$(field hash "$output")
	run nedb-delete t a
	h2=$(field hash "$output")
	run nedb-log
	assert_equal "$(field hash "${lines[1]}") $(field hash "${lines[2]}")" "$h1 $h2"
	assert_determinism
}

@test "log prints the lines of log.aof exactly" {
	four_ops
	nedb-log > out
	cmp out "$NEDB_DIR/log.aof"
}

@test "log appends nothing" {
	four_ops
	cp "$NEDB_DIR/log.aof" before
	nedb-log > /dev/null
	nedb-log --reverse -n 2 > /dev/null
	cmp before "$NEDB_DIR/log.aof"
	assert_determinism
}

@test "-n N prints the last N ops, oldest first" {
	four_ops
	run nedb-log -n 2
	assert_success
	assert_equal "$(seqs)" "3 4"
	run nedb-log -n 1
	assert_equal "$(seqs)" "4"
	run nedb-log -n 5
	assert_equal "$(seqs)" "0 1 2 3 4"
}

@test "-n larger than the log prints the whole log" {
	four_ops
	run nedb-log -n 1000
	assert_success
	assert_equal "$(seqs)" "0 1 2 3 4"
	run nedb-log -n 18446744073709551615
	assert_success
	assert_equal "$(seqs)" "0 1 2 3 4"
}

@test "-n 0 prints nothing and exits 0" {
	four_ops
	run --separate-stderr nedb-log -n 0
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "--since and --until are inclusive" {
	four_ops
	run nedb-log --since 1 --until 3
	assert_success
	assert_equal "$(seqs)" "1 2 3"
	run nedb-log --since 2 --until 2
	assert_equal "$(seqs)" "2"
	run nedb-log --since 0 --until 0
	assert_equal "$(seqs)" "0"
	assert_line --index 0 --partial '"op":"genesis"'
}

@test "--since alone runs to the head and --until alone starts at genesis" {
	four_ops
	run nedb-log --since 3
	assert_equal "$(seqs)" "3 4"
	run nedb-log --until 1
	assert_equal "$(seqs)" "0 1"
}

@test "--until past the head stops at the head" {
	four_ops
	run nedb-log --since 3 --until 100
	assert_success
	assert_equal "$(seqs)" "3 4"
}

@test "an empty range prints nothing and exits 0" {
	four_ops
	run --separate-stderr nedb-log --since 3 --until 2
	assert_success
	assert_output ""
	run --separate-stderr nedb-log --since 5
	assert_success
	assert_output ""
	assert_equal "$stderr" ""
}

@test "-n combines with --since and --until: the last N of the range" {
	four_ops
	run nedb-log --since 1 --until 3 -n 2
	assert_success
	assert_equal "$(seqs)" "2 3"
	run nedb-log --until 2 -n 1
	assert_equal "$(seqs)" "2"
	run nedb-log --since 3 -n 10
	assert_equal "$(seqs)" "3 4"
	run nedb-log --since 1 --until 3 -n 0
	assert_output ""
}

@test "--reverse prints newest first" {
	four_ops
	run nedb-log --reverse
	assert_success
	assert_equal "$(seqs)" "4 3 2 1 0"
	nedb-log > fwd
	run tac fwd
	fwd_reversed="$output"
	run nedb-log --reverse
	assert_output "$fwd_reversed"
}

@test "--reverse combines with -n, --since and --until" {
	four_ops
	run nedb-log --reverse -n 2
	assert_equal "$(seqs)" "4 3"
	run nedb-log --reverse --since 1 --until 3
	assert_equal "$(seqs)" "3 2 1"
	run nedb-log --reverse --since 1 --until 3 -n 2
	assert_equal "$(seqs)" "3 2"
}

@test "--array prints one JSON array of the ops" {
	four_ops
	run --separate-stderr nedb-log --array
	assert_success
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '^\[\{"seq":0,.*\},\{"seq":1,.*\},\{"seq":4,.*\}\]$'
	nedb-log --array > arr
	run jq -c 'map(.seq)' arr
	assert_output '[0,1,2,3,4]'
	nedb-log > ndjson
	run jq -cs . ndjson
	ndjson_as_array="$output"
	run jq -c . arr
	assert_output "$ndjson_as_array"
}

@test "--array of an empty range prints an empty array" {
	four_ops
	run nedb-log --array -n 0
	assert_success
	assert_output '[]'
	run nedb-log --array --since 9
	assert_output '[]'
}

@test "--pretty indents each op" {
	four_ops
	run nedb-log --pretty --since 0 --until 0
	assert_success
	assert_line --index 0 '{'
	assert_line --index 1 '  "seq": 0,'
	assert_line --index 2 '  "prev": "0000000000000000000000000000000000000000000000000000000000000000",'
	assert_line --index 3 '  "op": "genesis",'
	assert_line --index -1 '}'
	nedb-log --pretty > pretty
	run jq -c .seq pretty
	assert_output $'0\n1\n2\n3\n4'
}

@test "the output pipes into jq" {
	four_ops
	n=$(nedb-log | jq -s length)
	assert_equal "$n" 5
	deletes=$(nedb-log | jq -c 'select(.op=="delete") | .seq')
	assert_equal "$deletes" 4
	ids=$(nedb-log --since 1 | jq -r '"\(.op) \(.id)"')
	assert_equal "$ids" $'put a\nput b\nput a\ndelete b'
}

@test "a log of many ops is printed whole and in order" {
	for ((i = 1; i <= 300; i++)); do
		printf '{"_id":"d%d","i":%d,"pad":"%0200d"}\n' "$i" "$i" 0
	done | nedb-put -q t
	nedb-log > out
	run jq -s 'length == 301 and ([.[].seq] == [range(301)])' out
	assert_output true
	run nedb-log -n 1
	assert_output --regexp '^\{"seq":300,'
	assert_determinism
}

@test "--follow prints the log and then ops written later by other processes" {
	nedb-put t a '{"v":1}'
	nedb-log --follow > follow.out 2> follow.err 3>&- &
	follow_pid=$!
	wait_for_lines follow.out 2
	nedb-put t b '{"v":2}'
	nedb-delete t a
	wait_for_lines follow.out 4
	nedb-checkpoint
	wait_for_lines follow.out 5
	kill "$follow_pid"
	wait "$follow_pid" || true
	follow_pid=
	nedb-log > full.out
	cmp follow.out full.out
	run cat follow.err
	assert_output ""
	assert_determinism
}

@test "--follow -n 0 prints only ops written after it started" {
	nedb-put t a '{"v":1}'
	nedb-log --follow -n 0 > follow.out 2> follow.err 3>&- &
	follow_pid=$!
	wait_for_open_log "$follow_pid"
	nedb-put t b '{"v":2}'
	nedb-put t c '{"v":3}'
	wait_for_lines follow.out 2
	kill "$follow_pid"
	wait "$follow_pid" || true
	follow_pid=
	run cat follow.out
	assert_equal "${#lines[@]}" 2
	assert_line --index 0 --regexp '^\{"seq":2,.*"id":"b"'
	assert_line --index 1 --regexp '^\{"seq":3,.*"id":"c"'
	assert_determinism
}

@test "--follow --since starts at that seq and keeps following" {
	four_ops
	nedb-log -f --since 3 > follow.out 2> follow.err 3>&- &
	follow_pid=$!
	wait_for_lines follow.out 2
	nedb-put t z '{"v":1}'
	wait_for_lines follow.out 3
	kill "$follow_pid"
	wait "$follow_pid" || true
	follow_pid=
	run cat follow.out
	assert_equal "$(seqs)" "3 4 5"
	assert_determinism
}

@test "--follow --since past the head prints nothing before SEQ" {
	nedb-put t a '{"v":1}'
	nedb-log --follow --since 4 > follow.out 2> follow.err 3>&- &
	follow_pid=$!
	wait_for_open_log "$follow_pid"
	for id in b c d e; do nedb-put t "$id" '{"v":1}'; done >/dev/null
	wait_for_seq follow.out 5
	kill "$follow_pid"
	wait "$follow_pid" || true
	follow_pid=
	run cat follow.out
	assert_equal "$(seqs)" "4 5"
	assert_determinism
}

@test "--follow with --reverse is a usage error" {
	four_ops
	run --separate-stderr nedb-log --follow --reverse
	assert_failure 2
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "\\(see 'nedb-log --help'\\)\$"
	run nedb-log --reverse -f
	assert_failure 2
}

@test "--follow with --array is a usage error" {
	four_ops
	run --separate-stderr nedb-log --follow --array
	assert_failure 2
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
}

@test "a missing database exits 5 with 'no such database' and is not created" {
	run --separate-stderr nedb-log
	assert_failure 5
	assert_output ""
	assert_equal "$stderr" "nedb-log: cannot open database '$NEDB_DIR': no such database"
	run nedb-log --follow
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
}

@test "usage errors exit 2 with a hint" {
	four_ops
	run --separate-stderr nedb-log --bogus
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-log: unknown option '--bogus' (see 'nedb-log --help')"
	run --separate-stderr nedb-log extra
	assert_failure 2
	assert_equal "$stderr" "nedb-log: unexpected argument 'extra' (see 'nedb-log --help')"
	for args in '-n x' '-n -1' '--since -1' '--until x' '--since 1.5' '-n'; do
		run --separate-stderr nedb-log $args
		assert_failure 2
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
	done
	run nedb-log --since
	assert_failure 2
}

@test "-n without a count is a usage error saying the count is missing" {
	four_ops
	run --separate-stderr nedb-log -n
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-log: option '-n' needs an argument (see 'nedb-log --help')"
}

@test "a write error on stdout exits 5 with one stderr line" {
	four_ops
	rc=0
	nedb-log > /dev/full 2> err || rc=$?
	assert_equal "$rc" 5
	run cat err
	assert_output "nedb-log: cannot write output: No space left on device"
}

@test "--help prints usage and exits 0; --version prints the version" {
	run --separate-stderr nedb-log --help
	assert_success
	assert_line --index 0 'usage: nedb-log [options]'
	assert_output --partial '--since SEQ'
	assert_output --partial '--follow'
	assert_equal "$stderr" ""
	run nedb-log --version
	assert_success
	assert_output --regexp '^nedb-log \(nedb\) [0-9]+\.[0-9]+\.[0-9]+$'
	[ ! -e "$NEDB_DIR" ]
}
