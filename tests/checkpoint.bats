#!/usr/bin/env bats
# nedb-checkpoint: the checkpoint op and its state digest, rebuilding the
# view from the log, and the failure paths.

load helper

setup_more() {
	cd "$BATS_TEST_TMPDIR"
}

field() {	# field NAME LINE: a string member of a one-line JSON object
	[[ $2 =~ \"$1\":\"([^\"]*)\" ]] && echo "${BASH_REMATCH[1]}"
}

# A history with every kind of write the core knows:
#   puts, a merge, tags, a ttl, idem, client nonces, deletes, a re-put.
mixed_history() {
	seed_users 4
	nedb-put t a '{"v":1}'
	nedb-put --merge t a '{"w":2}'
	nedb-put --tag red t tagged '{"v":1}'
	nedb-put --ttl 3600 t ttl '{"v":1}'
	nedb-put --idem k1 t idem '{"v":1}'
	nedb-put --client app --nonce 7 t n '{"v":1}'
	nedb-delete users u2
	nedb-delete --client app --nonce 8 users u3
	nedb-put t a '{"v":3}'
} >/dev/null

# Everything a reader can ask, with exit statuses, into file $1: HEAD
# reads, --meta, --history, and --as-of every seq up to $2 (the head when
# left out), then the log and verify's answer (only when $2 is left out).
# Runs a command and prints its exit status after its output.
ask() {
	local rc=0
	"$@" || rc=$?
	echo "rc $rc"
}

snapshot() {
	local s upto=$2
	[ -n "$upto" ] || upto=$(nedb-log -n 1 | jq .seq)
	{
		ask nedb-get users u1 u2 u3 u4
		ask nedb-get t a tagged ttl idem n nope
		ask nedb-get --meta t a tagged ttl
		for id in u1 u2 u3; do
			ask nedb-get --history users "$id"
		done
		ask nedb-get --history t a
		for ((s = 0; s <= upto; s++)); do
			echo "as of $s"
			ask nedb-get --as-of "$s" users u1 u2 u3 u4
			ask nedb-get --as-of "$s" t a tagged ttl idem n
			ask nedb-get --meta --as-of "$s" t a
		done
		if [ -z "$2" ]; then
			ask nedb-log
			ask nedb-verify
		fi
	} > "$1" 2>&1
}

@test "checkpoint prints a receipt with op checkpoint and a 64-hex state" {
	seed_users 3
	run --separate-stderr nedb-checkpoint
	assert_success
	assert_output --regexp '^\{"seq":4,"hash":"[0-9a-f]{64}","op":"checkpoint","state":"[0-9a-f]{64}","view":\{"compacted":true,"before":[0-9]+,"after":[0-9]+\}\}$'
	assert_equal "$stderr" ""
	assert_determinism
}

@test "a checkpoint op appears in nedb-log with the receipt's hash and state" {
	seed_users 2
	run nedb-checkpoint
	h=$(field hash "$output")
	state=$(field state "$output")
	run nedb-log -n 1
	assert_output --regexp '^\{"seq":3,.*"op":"checkpoint"'
	assert_equal "$(field hash "$output")" "$h"
	assert_equal "$(field state "$output")" "$state"
	nedb-log > all
	run jq -c 'select(.op == "checkpoint") | .seq' all
	assert_output 3
	assert_determinism
}

@test "verify's head is the checkpoint's hash" {
	seed_users 1
	run nedb-checkpoint
	h=$(field hash "$output")
	run nedb-verify
	assert_output "{\"ok\":true,\"seq\":2,\"head\":\"$h\"}"
	assert_determinism
}

@test "two checkpoints without writes between them have the same state digest" {
	mixed_history
	run nedb-checkpoint
	first="$output"
	run nedb-checkpoint
	second="$output"
	assert_equal "$(field state "$second")" "$(field state "$first")"
	assert_not_equal "$(field hash "$second")" "$(field hash "$first")"
	assert_regex "$first" '^\{"seq":14,'
	assert_regex "$second" '^\{"seq":15,'
	assert_determinism
}

@test "the state digest changes after a write" {
	seed_users 2
	run nedb-checkpoint
	s1=$(field state "$output")
	nedb-put users u3 '{"n":3}'
	run nedb-checkpoint
	s2=$(field state "$output")
	nedb-delete users u1
	run nedb-checkpoint
	s3=$(field state "$output")
	nedb-put --merge users u2 '{"m":1}'
	run nedb-checkpoint
	s4=$(field state "$output")
	assert_not_equal "$s2" "$s1"
	assert_not_equal "$s3" "$s2"
	assert_not_equal "$s4" "$s3"
	assert_not_equal "$s3" "$s1"
	assert_determinism
}

@test "a rejected write does not change the state digest" {
	nedb-put --client app --nonce 5 t a '{"v":1}'
	run nedb-checkpoint
	s1=$(field state "$output")
	run nedb-put --client app --nonce 5 t a '{"v":2}'
	assert_failure 3
	run nedb-put --if-seq 9 t a '{"v":2}'
	assert_failure 3
	run nedb-checkpoint
	assert_equal "$(field state "$output")" "$s1"
	assert_determinism
}

@test "a checkpoint changes no document, history or past answer" {
	mixed_history
	snapshot before 13
	nedb-checkpoint
	nedb-checkpoint
	snapshot after 13
	run diff before after
	assert_success
	assert_output ""
	run nedb-get t a
	assert_output '{"_id":"a","v":3}'
	for s in 14 15; do
		run nedb-get --as-of "$s" t a ttl
		assert_success
		assert_output $'{"_id":"a","v":3}\n{"_id":"ttl","v":1}'
		run nedb-get --as-of "$s" users u2
		assert_failure 1
	done
	assert_determinism
}

@test "deleting the view files makes the next command rebuild it with identical answers" {
	mixed_history
	nedb-checkpoint
	snapshot before
	run nedb-checkpoint
	state_before=$(field state "$output")
	for cmd in nedb-get nedb-log nedb-verify nedb-checkpoint nedb-put nedb-delete; do
		rm -f "$NEDB_DIR"/view.mdb*
		case $cmd in
		nedb-get) run nedb-get users u1 ;;
		nedb-log) run nedb-log -n 1 ;;
		nedb-verify) run nedb-verify ;;
		nedb-checkpoint) run nedb-checkpoint --rebuild ;;
		nedb-put) run nedb-put t x '{"tmp":1}' ;;
		nedb-delete) run nedb-delete t x ;;
		esac
		assert_equal "$cmd: $status" "$cmd: 0"
		[ -e "$NEDB_DIR/view.mdb" ]
	done
	run nedb-get t x
	assert_failure 1
	run nedb-checkpoint
	assert_not_equal "$(field state "$output")" "$state_before"
	assert_determinism
}

@test "a rebuilt view answers gets, history and --as-of exactly as before" {
	mixed_history
	nedb-checkpoint
	snapshot before
	rm -f "$NEDB_DIR"/view.mdb*
	snapshot after
	run diff before after
	assert_success
	assert_output ""
	run cat after
	assert_output --partial '{"_id":"a","v":3}'
	assert_determinism
}

@test "checkpoint --rebuild rebuilds the view in place with identical answers" {
	mixed_history
	snapshot before
	cp "$NEDB_DIR/log.aof" log.before
	run --separate-stderr nedb-checkpoint --rebuild
	assert_success
	assert_equal "$stderr" ""
	snapshot after
	run diff before after
	assert_success
	cmp log.before "$NEDB_DIR/log.aof"
	assert_determinism
}

@test "the state digest after a rebuild equals the one before" {
	mixed_history
	run nedb-checkpoint
	s1=$(field state "$output")
	nedb-checkpoint --rebuild
	run nedb-checkpoint
	assert_equal "$(field state "$output")" "$s1"
	rm -f "$NEDB_DIR"/view.mdb*
	run nedb-checkpoint
	assert_equal "$(field state "$output")" "$s1"
	assert_determinism
}

@test "a rebuilt view still rejects stale nonces and replays idempotency keys" {
	nedb-put --client app --nonce 5 t a '{"v":1}'
	run nedb-put --idem k1 t b '{"v":1}'
	first="$output"
	nedb-checkpoint --rebuild
	rm -f "$NEDB_DIR"/view.mdb*
	run nedb-put --client app --nonce 5 t a '{"v":2}'
	assert_failure 3
	run nedb-put --idem k1 t b '{"v":2}'
	assert_success
	assert_output "$first"
	run nedb-get t a b
	assert_output $'{"_id":"a","v":1}\n{"_id":"b","v":1}'
	assert_determinism
}

@test "a rebuilt view still hides expired documents at HEAD but not in the past" {
	nedb-put --ttl 1 t a '{"v":1}'
	nedb-put t b '{"v":1}'
	sleep 1.1
	nedb-checkpoint --rebuild
	run nedb-get t a
	assert_failure 1
	rm -f "$NEDB_DIR"/view.mdb*
	run nedb-get t a
	assert_failure 1
	run nedb-get --as-of 1 t a
	assert_success
	assert_output '{"_id":"a","v":1}'
	assert_determinism
}

@test "writes after a rebuild continue the chain" {
	seed_users 2
	nedb-checkpoint --rebuild
	run nedb-put users u3 '{"n":3}'
	assert_success
	assert_output --partial '"seq":3,'
	rm -f "$NEDB_DIR"/view.mdb*
	run nedb-delete users u1
	assert_output --partial '"seq":4,'
	run nedb-verify
	assert_output --partial '"seq":4,'
	assert_determinism
}

@test "--pretty indents the receipt and --array wraps it" {
	seed_users 1
	run nedb-checkpoint --pretty
	assert_success
	assert_line --index 0 '{'
	assert_line --index 1 '  "seq": 2,'
	run nedb-checkpoint --array
	assert_success
	assert_output --regexp '^\[\{"seq":3,"hash":"[0-9a-f]{64}","op":"checkpoint","state":"[0-9a-f]{64}","view":\{"compacted":true,"before":[0-9]+,"after":[0-9]+\}\}\]$'
	assert_determinism
}

@test "a missing database exits 5 with 'no such database' and is not created" {
	run --separate-stderr nedb-checkpoint
	assert_failure 5
	assert_output ""
	assert_equal "$stderr" "nedb-checkpoint: cannot open database '$NEDB_DIR': no such database"
	run nedb-checkpoint --rebuild
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
}

@test "a write error on stdout exits 5 with one stderr line" {
	seed_users 1
	rc=0
	nedb-checkpoint > /dev/full 2> err || rc=$?
	assert_equal "$rc" 5
	run cat err
	assert_output "nedb-checkpoint: cannot write output: No space left on device"
	assert_determinism
}

@test "usage errors exit 2 with a hint and append nothing" {
	seed_users 1
	cp "$NEDB_DIR/log.aof" before
	run --separate-stderr nedb-checkpoint --bogus
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-checkpoint: unknown option '--bogus' (see 'nedb-checkpoint --help')"
	run --separate-stderr nedb-checkpoint extra
	assert_failure 2
	assert_equal "$stderr" "nedb-checkpoint: unexpected argument 'extra' (see 'nedb-checkpoint --help')"
	run nedb-checkpoint --rebuild=yes
	assert_failure 2
	run nedb-checkpoint --durability never
	assert_failure 2
	cmp before "$NEDB_DIR/log.aof"
	assert_determinism
}

@test "--help prints usage and exits 0; --version prints the version" {
	run --separate-stderr nedb-checkpoint --help
	assert_success
	assert_line --index 0 'usage: nedb-checkpoint [options]'
	assert_output --partial '--rebuild'
	assert_equal "$stderr" ""
	run nedb-checkpoint --version
	assert_success
	assert_output --regexp '^nedb-checkpoint \(nedb\) [0-9]+\.[0-9]+\.[0-9]+$'
	[ ! -e "$NEDB_DIR" ]
}

@test "--rebuild repairs a view left ahead of a log that lost its tail" {
	nedb-put t a '{"v":1}'
	nedb-put t b '{"v":2}'
	# what an OS crash in safe or fast mode can leave: the last line gone
	head -n 2 "$NEDB_DIR/log.aof" > cut && cat cut > "$NEDB_DIR/log.aof"
	run --separate-stderr nedb-get t a
	assert_failure 5
	run nedb-checkpoint --rebuild
	assert_success
	assert_output --partial '"seq":1,'
	run nedb-get t a
	assert_output '{"_id":"a","v":1}'
	run nedb-get t b
	assert_failure 1
	assert_determinism
}

@test "--rebuild refuses a log damaged in the middle" {
	nedb-put t a '{"v":1}'
	nedb-put t b '{"v":2}'
	sed -i '2s/"v":1/"v":7/' "$NEDB_DIR/log.aof"
	run --separate-stderr nedb-checkpoint --rebuild
	assert_failure 5
	assert_equal "$stderr" "nedb-checkpoint: corrupt log at seq 1: hash mismatch"
}

@test "checkpoint compacts the view: smaller, same state, new files" {
	awk 'BEGIN { for (i = 0; i < 2000; i++)
		printf "{\"_id\":\"u%d\",\"bio\":\"%0200d\"}\n", i, i }' |
		nedb-put -q users
	seq -f 'u%g' 0 2 1999 | nedb-delete -q users
	before=$(stat -c %s "$NEDB_DIR/view.mdb")
	ino=$(stat -c %i "$NEDB_DIR/view.mdb")
	run nedb-checkpoint
	assert_success
	# before: the view with the checkpoint's own op applied
	assert_output --regexp '"view":\{"compacted":true,"before":[0-9]+,"after":[0-9]+\}\}$'
	[ "$(jq .view.before <<<"$output")" -ge "$before" ] || fail "before < $before"
	after=$(stat -c %s "$NEDB_DIR/view.mdb")
	assert_equal "$(jq .view.after <<<"$output")" "$after"
	[ "$after" -lt "$before" ] || fail "view not smaller: $before -> $after"
	[ "$(stat -c %i "$NEDB_DIR/view.mdb")" != "$ino" ] || fail "view.mdb not replaced"
	[ ! -e "$NEDB_DIR/view.mdb.compact" ] || fail "a temporary file stays"
	run nedb-get users u7
	assert_success
	assert_output --partial '"_id":"u7"'
	run nedb-get users u8
	assert_failure 1
	assert_determinism
}

@test "checkpoint leaves a view in use by another process as it is" {
	seed_users 5
	nedb-log --follow > follow.out 3>&- &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		[ -s follow.out ] && break
		sleep 0.05
	done
	ino=$(stat -c %i "$NEDB_DIR/view.mdb")
	run nedb-checkpoint
	kill "$pid"; wait "$pid" || true
	assert_success
	assert_output --partial '"view":{"compacted":false,"reason":"in use by other processes"}}'
	assert_equal "$(stat -c %i "$NEDB_DIR/view.mdb")" "$ino"
	assert_determinism
}

@test "compaction under concurrent readers and writers loses nothing" {
	seed_users 200
	(for ((i = 0; i < 60; i++)); do nedb-put -q users "w$i" "{\"n\":$i}" || echo "put $i failed"; done) > writers.err 2>&1 3>&- &
	w=$!
	(for ((i = 0; i < 60; i++)); do nedb-get users u$((i % 200 + 1)) > /dev/null || echo "get $i failed"; done) > readers.err 2>&1 3>&- &
	r=$!
	for ((i = 0; i < 8; i++)); do nedb-checkpoint > /dev/null || echo "checkpoint $i failed"; done > ckpt.err 2>&1
	wait "$w" "$r"
	assert_equal "$(cat writers.err readers.err ckpt.err)" ""
	run nedb-query 'FROM users WHERE n >= 0'
	assert_equal "${#lines[@]}" 260
	run nedb-verify
	assert_success
	assert_determinism
}
