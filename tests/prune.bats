#!/usr/bin/env bats
# nedb-checkpoint --prune: the log before the latest checkpoint moves to
# zlib segments under archive/; the past, verify and rebuilds still reach
# every op from genesis.

load helper

setup_more() {
	for i in 1 2 3 4 5; do
		nedb-put -q t "d$i" "{\"v\":$i}"
	done
	nedb-put -q t d1 '{"v":11}'
	nedb-delete -q t d2
}

@test "--prune archives the ops before the checkpoint and log.aof starts at it" {
	run nedb-checkpoint --prune
	assert_success
	assert_output --regexp '"op":"checkpoint",.*"archived":\{"ops":8,"first":0,"last":7,"bytes":[0-9]+\},"view":\{"compacted":true,"before":[0-9]+,"after":[0-9]+\}\}$'
	run head -c 9 "$NEDB_DIR/log.aof"
	assert_output '{"seq":8,'
	[ -f "$NEDB_DIR/archive/00000000000000000000-00000000000000000007.seg" ]
	assert_determinism
}

@test "reads of the past before the checkpoint answer from the archive" {
	nedb-checkpoint --prune >/dev/null
	run nedb-get --as-of 1 t d1
	assert_output '{"_id":"d1","v":1}'
	run nedb-get --as-of 6 t d2
	assert_output '{"_id":"d2","v":2}'
	run nedb-get t d2
	assert_failure 1
	run nedb-get --history t d1
	assert_line --index 0 --partial '"seq":1,"op":"put","doc":{"_id":"d1","v":1}'
	run nedb-query 'FROM t AS OF 3'
	assert_equal "${#lines[@]}" 3
}

@test "nedb-log prints every op from genesis across the archive" {
	nedb-checkpoint --prune >/dev/null
	nedb-put -q t d9 '{"v":9}'
	run nedb-log
	assert_equal "${#lines[@]}" 10
	assert_line --index 0 --partial '"seq":0,'
	assert_line --index 9 --partial '"seq":9,'
	run nedb-log --since 6 --until 8
	assert_equal "${#lines[@]}" 3
	run nedb-log --reverse -n 3
	assert_line --index 2 --partial '"seq":7,'
}

@test "a prune's temp file in archive/ is not a segment: readers and the next prune ignore it" {
	nedb-checkpoint --prune >/dev/null
	nedb-put -q t d9 '{"v":9}'
	# what a reader sees while another process's prune is writing: a
	# temp file, which is gone (renamed) by the time the reader opens it
	ln -s gone "$NEDB_DIR/archive/00000000000000000008-00000000000000000009.seg.tmp"
	: >"$NEDB_DIR/archive/notes.txt"
	run -0 nedb-get --as-of 1 t d1
	assert_output '{"_id":"d1","v":1}'
	run -0 nedb-log
	assert_equal "${#lines[@]}" 10
	run -0 nedb-verify
	run -0 nedb-checkpoint --prune
	assert_output --partial '"archived":{"ops":2,"first":8,"last":9,'
	run -0 nedb-get --as-of 9 t d9
	assert_output '{"_id":"d9","v":9}'
	# the stale temp file was replaced, not written through
	[ ! -e "$NEDB_DIR/archive/gone" ]
	[ ! -L "$NEDB_DIR/archive/00000000000000000008-00000000000000000009.seg" ]
}

@test "writes after a prune go on the chain and prune again archives them" {
	nedb-checkpoint --prune >/dev/null
	nedb-put -q t d9 '{"v":9}'
	run nedb-checkpoint --prune
	assert_output --partial '"archived":{"ops":2,"first":8,"last":9,'
	run ls "$NEDB_DIR/archive"
	assert_equal "${#lines[@]}" 2
	run nedb-get --as-of 9 t d9
	assert_output '{"_id":"d9","v":9}'
	assert_determinism
}

@test "a prune with nothing before the checkpoint archives nothing" {
	nedb-checkpoint --prune >/dev/null
	run nedb-checkpoint --prune
	assert_output --partial '"archived":{"ops":1,"first":8,"last":8,'
	run nedb-checkpoint --prune
	assert_success
	assert_determinism
}

@test "a lost view is rebuilt from the archive and log.aof" {
	nedb-checkpoint --prune >/dev/null
	rm -f "$NEDB_DIR"/view.mdb*
	run nedb-get --as-of 1 t d1
	assert_output '{"_id":"d1","v":1}'
	run nedb-get t d1
	assert_output '{"_id":"d1","v":11}'
	run nedb-checkpoint --rebuild
	assert_success
	assert_determinism
}

@test "a damaged archive is found by verify and never read as data" {
	nedb-checkpoint --prune >/dev/null
	seg=$(ls "$NEDB_DIR"/archive/*.seg)
	printf '\x00\x00' | dd of="$seg" bs=1 seek=40 conv=notrunc 2>/dev/null
	run --separate-stderr nedb-verify
	assert_failure 1
	assert_output --regexp '^\{"ok":false,"seq":0,"error":"corrupt archive'
	run --separate-stderr nedb-get --as-of 1 t d1
	assert_failure 5
	assert_output ""
}

@test "a writer that opened the log before a prune writes to the new log" {
	mkfifo feed
	nedb-put t < feed > receipts 3>&- &
	exec 4> feed
	echo '{"_id":"w1"}' >&4
	# w1 committed (its receipt printed) before the prune
	for _ in $(seq 600); do
		[ -s receipts ] && break
		sleep 0.05
	done
	run grep -c '"seq"' receipts
	assert_output 1
	nedb-checkpoint --prune >/dev/null
	echo '{"_id":"w2"}' >&4
	exec 4>&-
	wait
	run nedb-get t w1 w2
	assert_success
	run grep -c '"seq"' receipts
	assert_output 2
	assert_determinism
}

@test "nedb-log --follow keeps following across a prune" {
	nedb-log --follow --since 8 > followed 3>&- &
	pid=$!
	nedb-checkpoint --prune >/dev/null
	nedb-put -q t f1 '{"v":1}'
	for _ in $(seq 100); do
		grep -q '"id":"f1"' followed && break
		sleep 0.1
	done
	kill "$pid"
	run grep -c '"seq"' followed
	assert_output 2
}

@test "a prune killed at any instant leaves a database that verifies" {
	for i in $(seq 200); do
		printf '{"_id":"b%d","v":%d}\n' "$i" "$i"
	done | nedb-put -q t
	for round in 1 2 3 4 5 6; do
		nedb-put -q t "r$round" '{"v":1}'
		nedb-checkpoint --prune >/dev/null &
		pid=$!
		sleep "0.00$((RANDOM % 9))"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		run nedb-verify --determinism
		assert_success
		run nedb-get --as-of 1 t d1
		assert_output '{"_id":"d1","v":1}'
	done
	run nedb-get t b200 r6
	assert_success
}

teardown() {
	if mountpoint -q "$BATS_TEST_TMPDIR/small" 2>/dev/null; then
		umount "$BATS_TEST_TMPDIR/small"
	fi
}

@test "a prune on a full disk says 'disk full', leaves nothing behind, and can be run again" {
	[ "$(id -u)" = 0 ] || skip "mounting a tmpfs needs root"
	mkdir small
	mount -t tmpfs -o size=8m tmpfs small || skip "cannot mount a tmpfs"
	export NEDB_DIR="$BATS_TEST_TMPDIR/small/db"
	# about 1 MB of log that zlib cannot shrink much
	python3 -c '
import base64, random
r = random.Random(7)
for i in range(1500):
    b = base64.b64encode(bytes(r.getrandbits(8) for _ in range(600)))
    print("{\"_id\":\"r%d\",\"b\":\"%s\"}" % (i, b.decode()))' | nedb-put -q t
	nedb-checkpoint >/dev/null
	avail=$(df --output=avail -B1 small | tail -n 1)
	head -c $((avail - 200000)) /dev/zero > small/filler
	run --separate-stderr nedb-checkpoint --prune
	assert_failure 5
	assert_output ""
	assert_equal "$stderr" "nedb-checkpoint: cannot write archive: disk full"
	rm small/filler
	run ls -A "$NEDB_DIR/archive"
	assert_output ""
	run nedb-verify
	assert_success
	run nedb-checkpoint --prune
	assert_success
	assert_output --partial '"archived":{"ops":'
	run nedb-get --as-of 1 t r0
	assert_success
	assert_determinism
}

# Several segments of several blocks each (a block holds about 256 KiB of
# lines), and ops after them in log.aof.
many_segments() {
	python3 -c '
for i in range(3000):
    print("{\"_id\":\"m%04d\",\"v\":%d,\"pad\":\"%s\"}" % (i, i, "p" * 150))' |
		nedb-put -q m
	nedb-checkpoint >/dev/null
	nedb-log > before.1
	nedb-checkpoint --prune >/dev/null
	python3 -c '
for i in range(2000):
    print("{\"_id\":\"m%04d\",\"v\":-%d,\"pad\":\"%s\"}" % (i, i, "q" * 150))' |
		nedb-put -q m
	nedb-checkpoint >/dev/null
	nedb-put -q m tail1 '{"v":1}'
	nedb-log > before.2
	nedb-checkpoint --prune >/dev/null
	nedb-put -q m tail2 '{"v":2}'
}

@test "nedb-log reads every op across segments, blocks and log.aof, as before the prune" {
	many_segments
	[ "$(ls "$NEDB_DIR"/archive/*.seg | wc -l)" -eq 2 ]
	run --separate-stderr nedb-log
	assert_success
	assert_equal "$stderr" ""
	nedb-log > after
	# the archived lines are the lines the log held, byte for byte
	cmp before.2 <(head -n "$(wc -l < before.2)" after)
	cmp before.1 <(head -n "$(wc -l < before.1)" after)
	assert_equal "$(wc -l < after)" "$(($(wc -l < before.2) + 2))"
	run jq -s '[.[].seq] == [range(0; length)]' after
	assert_output true
	run tail -n 1 after
	assert_output --partial '"id":"tail2"'
	assert_determinism
}

@test "nedb-log --reverse, --since and --until agree with the forward log over the archive" {
	many_segments
	nedb-log > all
	nedb-log --reverse > rev
	cmp rev <(tac all)
	# ranges inside a block, across blocks, across the two segments and
	# into log.aof
	n=$(wc -l < all)
	for r in "5 9" "1000 2600" "3000 3020" "2990 $((n - 1))" "$((n - 3)) $((n - 1))" "0 0"; do
		set -- $r
		nedb-log --since "$1" --until "$2" > part
		cmp part <(sed -n "$(($1 + 1)),$(($2 + 1))p" all)
		nedb-log --reverse --since "$1" --until "$2" > part
		cmp part <(sed -n "$(($1 + 1)),$(($2 + 1))p" all | tac)
	done
	run nedb-log -n 3
	assert_equal "${#lines[@]}" 3
	assert_line --index 0 --partial "\"seq\":$((n - 3)),"
}

@test "reads of the past over many archived blocks answer as before the prune" {
	python3 -c '
for i in range(3000):
    print("{\"_id\":\"m%04d\",\"v\":%d,\"pad\":\"%s\"}" % (i, i, "p" * 150))' |
		nedb-put -q m
	s=$(nedb-log -n 1 | jq .seq)
	nedb-put -q m m0005 '{"v":"new"}'
	nedb-checkpoint >/dev/null
	nedb-query "FROM m AS OF $s" > past.before
	nedb-get --history m m0005 > hist.before
	nedb-checkpoint --prune >/dev/null
	nedb-query "FROM m AS OF $s" > past.after
	cmp past.before past.after
	[ "$(wc -l < past.after)" -eq 3000 ]
	nedb-get --history m m0005 > hist.after
	cmp hist.before hist.after
	run nedb-get --as-of "$s" m m1998 m0005
	assert_output '{"_id":"m1998","v":1998,"pad":"'"$(printf 'p%.0s' {1..150})"'"}
{"_id":"m0005","v":5,"pad":"'"$(printf 'p%.0s' {1..150})"'"}'
}

@test "nedb-log stops at a damaged archived block and prints none of its ops" {
	nedb-checkpoint --prune >/dev/null
	seg=$(ls "$NEDB_DIR"/archive/*.seg)
	printf '\x00\x00' | dd of="$seg" bs=1 seek=40 conv=notrunc 2>/dev/null
	run --separate-stderr nedb-log
	assert_failure 5
	assert_output ""
	assert_regex "$stderr" "^nedb-log: corrupt archive"
	run --separate-stderr nedb-log --reverse
	assert_failure 5
	refute_output --partial '"seq":7,'
}
