#!/usr/bin/env bats
# nedbd's group commit under pipelining (nedbd(8), One thread, group
# commit): whatever the turns a connection's requests are split over,
# replies come in order on each connection, a read sees the writes sent
# before it on its connection, no write is acknowledged before its fsync
# (kill -9 loses none), and a batch that cannot be written (disk full) is
# answered with an error for each of its requests and writes nothing,
# while the batches after it go on.  The daemon is durable here (the
# default).  Clients: tests/nedbd_pipeline.py (plain sockets).

load nedbd-helper

PIPE=${BATS_TEST_DIRNAME}/nedbd_pipeline.py

setup() {
	setup_more
	MNT=
}

# nedbd-helper's teardown (nedbd stopped), then the tmpfs unmounted
eval "$(declare -f teardown | sed '1s/teardown/helper_teardown/')"
teardown() {
	local st=0
	helper_teardown || st=$?
	if [ -n "$MNT" ] && mountpoint -q "$MNT"; then
		umount "$MNT" || umount -l "$MNT"
	fi
	return "$st"
}

# acks_at_least N: the load has N acknowledged keys.
acks_at_least() {
	[ "$(wc -l < "$BATS_TEST_TMPDIR/acks")" -ge "$1" ]
}

@test "replies come in order on every connection, pipelined across many batches" {
	start_nedbd
	run python3 "$PIPE" order "$RPORT" 8 300
	assert_success
	assert_output "ok 2400"
	# what they wrote is there, once each
	run rcli GET ctr5
	assert_output '"100"'
	run rcli GET o7-297
	assert_output '"v297"'
}

@test "a write then a read on one connection, pipelined: the read sees the write" {
	start_nedbd
	resp_open
	# one packet: both in the same turn, the read in the write's batch
	resp_send SET rw 1
	resp_send GET rw
	run resp_read
	assert_output "+OK"
	run resp_read
	assert_output "1"
	# the next write, then at once a read: the read waits for the
	# write's batch, whichever turn it lands in
	resp_send SET rw 2
	resp_send INCR rw
	resp_send GET rw
	run resp_read
	assert_output "+OK"
	run resp_read
	assert_output ":3"
	run resp_read
	assert_output "3"
	resp_close
}

@test "disk full: each request of the batch that cannot be written is an error, and writes nothing; the next batch goes on" {
	[ "$(id -u)" = 0 ] || skip "disk-full tests mount a tmpfs: need root"
	MNT=$BATS_TEST_TMPDIR/mnt
	mkdir -p "$MNT"
	mount -t tmpfs -o size=4m tmpfs "$MNT" 2>/dev/null ||
		skip "cannot mount a tmpfs (not allowed in this container?)"
	DATA=$MNT/data
	start_nedbd
	run rcli SET before 1
	assert_output "OK"
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
	run python3 "$PIPE" acked "$RPORT" f1 f2 f3 f4
	assert_success
	assert_equal "${#lines[@]}" 4
	for l in "${lines[@]}"; do
		assert_regex "$l" '^-ERR .*(disk full|No space left)'
	done
	# nothing of it was written
	run rcli EXISTS f1 f2 f3 f4
	assert_output "(integer) 0"
	rm "$MNT/filler"
	run python3 "$PIPE" acked "$RPORT" n1 n2 n3
	assert_success
	assert_output "$(printf '+OK\n+OK\n+OK')"
	run rcli MGET before f1 n1 n3
	assert_output "$(printf '1) "1"\n2) (nil)\n3) "v-n1"\n4) "v-n3"')"
	stop_nedbd TERM
	assert_equal "$STATUS" 0
	run nedb-verify -d "$DATA/0"
	assert_success
}

@test "kill -9 under load from many connections loses no acknowledged write" {
	local acks=$BATS_TEST_TMPDIR/acks load
	start_nedbd
	: > "$acks"
	python3 "$PIPE" load "$RPORT" 16 "$acks" 3>&- &
	load=$!
	EXTRA_PIDS+=("$load")
	poll 60 acks_at_least 3000
	kill -KILL "$NEDBD_PID"
	wait "$NEDBD_PID" || true
	NEDBD_PID=
	wait "$load"
	start_nedbd
	run python3 "$PIPE" check "$RPORT" "$acks"
	assert_success
	assert_output --regexp '^ok [0-9]+$'
	run nedb-verify -d "$DATA/0"
	assert_success
}
