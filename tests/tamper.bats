#!/usr/bin/env bats
# Tampering with log.aof (and one damaged view file): nedb-verify names
# the first bad op and exits 1; every other command refuses damage with
# exit 5 and never returns it as data.

load helper

LOGTOOL="$BATS_TEST_DIRNAME/lib-rel/logtool"

# every_byte ARGS...: logtool every-byte, on each byte in the first suite
# and in the sanitizer suite (the same paths, at twenty times the cost of
# a process) on each third byte of each line, but in the hex digits of a
# hash, prev or ds only on the first and last and on the first of each
# digit: the other digits of a field take the path one of those took
every_byte() {
	if [ "${NEDB_SUITE:-1}" = 1 ]; then
		"$LOGTOOL" every-byte "$@"
	else
		"$LOGTOOL" every-byte --every 3 --hex-runs "$@"
	fi
}

# Two prepared databases, copied by each test:
#  $BASE  - 36 ops: seq i (1..30) puts c/d(i%10) {"_id":…,"v":i}; then
#           31, 32 delete c/d1 and c/d2; 33 a checkpoint; 34, 35 put c/e1
#           and c/e2.
#  $SMALL - genesis and 3 ops (put, put, delete).
setup_file() {
	export BASE="$BATS_FILE_TMPDIR/base" SMALL="$BATS_FILE_TMPDIR/small"
	local i
	for ((i = 1; i <= 30; i++)); do
		printf '{"_id":"d%d","v":%d}\n' $((i % 10)) "$i"
	done > "$BATS_FILE_TMPDIR/docs"
	NEDB_DIR="$BASE" nedb-put -q c < "$BATS_FILE_TMPDIR/docs"
	NEDB_DIR="$BASE" nedb-delete -q c d1 d2
	NEDB_DIR="$BASE" nedb-checkpoint > /dev/null
	printf '{"_id":"e1","v":34}\n{"_id":"e2","v":35}\n' |
		NEDB_DIR="$BASE" nedb-put -q --atomic c
	NEDB_DIR="$SMALL" nedb-put c a '{"x":1}' > /dev/null
	NEDB_DIR="$SMALL" nedb-put --client app --nonce 7 c b '{"y":[1,2]}' \
		> /dev/null
	NEDB_DIR="$SMALL" nedb-delete c a > /dev/null
}

setup_more() {
	cp -a "$BASE" "$NEDB_DIR"
	LOG="$NEDB_DIR/log.aof"
}

# Offset of the middle byte of line K.
mid() {
	local off len
	read -r off len < <("$LOGTOOL" span "$LOG" "$1")
	echo $((off + len / 2))
}

# Keeps lines 0..K-1 and K+1.. (deletes line K).
delete_line() {
	sed -i "$(($1 + 1))d" "$LOG"
}

# nedb-verify exits 1 naming seq K, and so does --determinism.
assert_broken_at() {
	run --separate-stderr nedb-verify
	assert_failure 1
	assert_output --regexp "^\\{\"ok\":false,\"seq\":$1,\"error\":\".+\"\\}\$"
	run --separate-stderr nedb-verify --determinism
	assert_failure 1
	assert_output --regexp "^\\{\"ok\":false,\"seq\":$1,"
}

@test "the prepared database verifies, with head seq 35" {
	run nedb-verify --determinism
	assert_success
	assert_output --regexp '^\{"ok":true,"seq":35,"head":"[0-9a-f]{64}"\}$'
}

@test "a flipped byte in the middle of line K makes verify exit 1 naming seq K" {
	for k in 0 1 12 33 35; do
		rm -rf "$NEDB_DIR"
		setup_more
		"$LOGTOOL" flip "$LOG" "$(mid $k)"
		assert_broken_at $k
	done
}

@test "deleting line K makes verify name seq K" {
	for k in 1 17 35; do
		rm -rf "$NEDB_DIR"
		setup_more
		delete_line $k
		assert_broken_at $k
	done
}

@test "deleting the genesis line makes verify name seq 0" {
	delete_line 0
	assert_broken_at 0
}

@test "swapping lines K and K+1 makes verify name seq K" {
	for k in 0 9 34; do
		rm -rf "$NEDB_DIR"
		setup_more
		sed -i "$((k + 1)){h;d};$((k + 2))G" "$LOG"
		assert_broken_at $k
	done
}

@test "a log truncated to its first K lines (the view ahead of it) makes verify name seq K" {
	for k in 1 20 35; do
		rm -rf "$NEDB_DIR"
		setup_more
		head -n $k "$LOG" > "$LOG.tmp" && cat "$LOG.tmp" > "$LOG"
		assert_broken_at $k
		assert_output --partial 'but the view has ops through seq 35'
	done
}

@test "an emptied log makes verify name seq 0" {
	: > "$LOG"
	run --separate-stderr nedb-verify
	assert_failure 1
	assert_output --regexp '^\{"ok":false,"seq":0,"error":".+"\}$'
}

@test "a flipped byte in the hash of line K makes verify name seq K" {
	local off len
	for k in 0 12 35; do
		rm -rf "$NEDB_DIR"
		setup_more
		read -r off len < <("$LOGTOOL" span "$LOG" $k)
		# the hash's hex digits are bytes len-66 .. len-3 of the line
		"$LOGTOOL" flip "$LOG" $((off + len - 66))
		assert_broken_at $k
		rm -rf "$NEDB_DIR"
		setup_more
		"$LOGTOOL" flip "$LOG" $((off + len - 3))
		assert_broken_at $k
	done
}

@test "a flipped byte in the prev of line K makes verify name seq K" {
	local off len
	for k in 0 12 35; do
		rm -rf "$NEDB_DIR"
		setup_more
		read -r off len < <("$LOGTOOL" span "$LOG" $k)
		# {"seq":K,"prev":" then 64 hex digits: flip the first one,
		# then change the case of the last one
		"$LOGTOOL" flip "$LOG" $((off + 16 + ${#k}))
		assert_broken_at $k
		rm -rf "$NEDB_DIR"
		setup_more
		"$LOGTOOL" flip "$LOG" $((off + 16 + ${#k} + 63)) 0x20
		assert_broken_at $k
	done
}

@test "every flipped byte of a small log (xor 0x01) is named by verify" {
	rm -rf "$NEDB_DIR"
	cp -a "$SMALL" "$NEDB_DIR"
	run every_byte "$LOG" 0x01 nedb-verify
	assert_success
	assert_output --regexp '^checked [0-9]{3,} bytes$'
}

@test "every flipped byte of a small log (xor 0x20, hex case) is named by verify" {
	rm -rf "$NEDB_DIR"
	cp -a "$SMALL" "$NEDB_DIR"
	run every_byte "$LOG" 0x20 nedb-verify
	assert_success
	assert_output --regexp '^checked [0-9]{3,} bytes$'
}

@test "every flipped byte of the last line makes a write exit 5 and append nothing" {
	rm -rf "$NEDB_DIR"
	cp -a "$SMALL" "$NEDB_DIR"
	cp "$LOG" "$BATS_TEST_TMPDIR/before"
	run every_byte --line 3 --exit 5 "$LOG" 0x01 \
		nedb-put c z '{"z":1}'
	assert_success
	assert_output --regexp '^checked [0-9]{2,} bytes$'
	cmp "$LOG" "$BATS_TEST_TMPDIR/before"
	assert_determinism
}

@test "every flipped byte of a version's line makes get --as-of of it exit 5 and print nothing" {
	rm -rf "$NEDB_DIR"
	cp -a "$SMALL" "$NEDB_DIR"
	run nedb-get --as-of 2 c b
	assert_success
	run every_byte --line 2 --exit 5 "$LOG" 0x01 \
		nedb-get --as-of 2 c b
	assert_success
	assert_output --regexp '^checked [0-9]{2,} bytes$'
	run every_byte --line 1 --exit 5 "$LOG" 0x01 \
		nedb-get --as-of 2 c a
	assert_success
}

@test "a write after a flip in the last line exits 5 naming the seq and appends nothing" {
	"$LOGTOOL" flip "$LOG" "$(mid 35)"
	cp "$LOG" "$BATS_TEST_TMPDIR/before"
	run --separate-stderr nedb-put c new '{"v":1}'
	assert_failure 5
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^nedb-put: .*seq 35'
	run --separate-stderr nedb-delete c e1
	assert_failure 5
	assert_output ""
	run --separate-stderr nedb-checkpoint
	assert_failure 5
	assert_output ""
	run --separate-stderr nedb-checkpoint --rebuild
	assert_failure 5
	assert_output ""
	cmp "$LOG" "$BATS_TEST_TMPDIR/before"
	assert_broken_at 35
}

@test "get --as-of a version whose line was flipped exits 5 and never prints the damaged data" {
	local at
	# seq 12 put c/d2 {"_id":"d2","v":12}; make it read "v":13
	at=$(grep -bo '"v":12}' "$LOG" | cut -d: -f1)
	"$LOGTOOL" flip "$LOG" $((at + 5))
	run --separate-stderr nedb-get --as-of 12 c d2
	assert_failure 5
	assert_output ""
	assert_regex "$stderr" '^nedb-get: .*seq 12'
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr nedb-get --as-of 21 c d2
	assert_failure 5
	assert_output ""
	run --separate-stderr nedb-get --history c d2
	assert_failure 5
	refute_output --partial '"v":13'
	refute_output --partial '"seq":12,'
	# versions on lines that are intact still read
	run nedb-get --as-of 11 c d1
	assert_success
	assert_output '{"_id":"d1","v":11}'
}

@test "nedb-log exits 5 at a flipped line and never prints it" {
	"$LOGTOOL" flip "$LOG" "$(mid 12)"
	run --separate-stderr nedb-log
	assert_failure 5
	assert_equal "${#lines[@]}" 12
	refute_output --partial '"seq":12,'
	assert_regex "$stderr" '^nedb-log: .*seq 12'
	run --separate-stderr nedb-log --reverse
	assert_failure 5
	refute_output --partial '"seq":12,'
	run --separate-stderr nedb-log --since 12 --until 12
	assert_failure 5
	assert_output ""
	run --separate-stderr nedb-log --since 5 --until 11
	assert_success
	assert_equal "${#lines[@]}" 7
}

@test "a log shorter than the view makes every command but verify exit 5" {
	head -n 20 "$LOG" > "$LOG.tmp" && cat "$LOG.tmp" > "$LOG"
	cp "$LOG" "$BATS_TEST_TMPDIR/before"
	run --separate-stderr nedb-get c d3
	assert_failure 5
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	run --separate-stderr nedb-get --as-of 3 c d3
	assert_failure 5
	assert_output ""
	run --separate-stderr nedb-log
	assert_failure 5
	run --separate-stderr nedb-put c new '{"v":1}'
	assert_failure 5
	assert_output ""
	run --separate-stderr nedb-delete c d3
	assert_failure 5
	run --separate-stderr nedb-checkpoint
	assert_failure 5
	cmp "$LOG" "$BATS_TEST_TMPDIR/before"
	assert_broken_at 20
}

@test "checkpoint --rebuild, asked for, takes a view ahead of the log back to the log's end" {
	head -n 20 "$LOG" > "$LOG.tmp" && cat "$LOG.tmp" > "$LOG"
	run --separate-stderr nedb-checkpoint --rebuild
	assert_success
	assert_output --regexp '^\{"rebuilt":true,"seq":19,'
	run nedb-get c d9
	assert_output '{"_id":"d9","v":19}'
	run nedb-put c new '{"v":1}'
	assert_output --partial '"seq":20,'
	assert_determinism
}

@test "a log cut inside line K (view ahead, torn tail) is refused, not repaired" {
	local off len
	read -r off len < <("$LOGTOOL" span "$LOG" 30)
	truncate -s $((off + len / 2)) "$LOG"
	cp "$LOG" "$BATS_TEST_TMPDIR/before"
	run --separate-stderr nedb-put c new '{"v":1}'
	assert_failure 5
	run --separate-stderr nedb-get c d3
	assert_failure 5
	cmp "$LOG" "$BATS_TEST_TMPDIR/before"
	assert_broken_at 30
}

@test "a complete line after the head that is not a valid op: verify names it, a write refuses it" {
	echo '{"seq":36,"garbage":true}' >> "$LOG"
	cp "$LOG" "$BATS_TEST_TMPDIR/before"
	run --separate-stderr nedb-put c new '{"v":1}'
	assert_failure 5
	assert_regex "$stderr" '^nedb-put: .*seq 36'
	cmp "$LOG" "$BATS_TEST_TMPDIR/before"
	run --separate-stderr nedb-verify
	assert_failure 1
	assert_output --regexp '^\{"ok":false,"seq":36,'
}

@test "a write on top of older damage does not hide it from verify" {
	"$LOGTOOL" flip "$LOG" "$(mid 5)"
	run nedb-put c new '{"v":1}'
	assert_broken_at 5
}

@test "a history rewritten with recomputed hashes is caught against the view" {
	local at
	at=$(grep -bo '"v":12}' "$LOG" | cut -d: -f1)
	"$LOGTOOL" flip "$LOG" $((at + 5))
	"$LOGTOOL" rehash "$LOG" 12
	run --separate-stderr nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":12,"error":"hash differs from the one the view recorded"}'
	run --separate-stderr nedb-get --as-of 12 c d2
	assert_failure 5
	assert_output ""
	run --separate-stderr nedb-put c new '{"v":1}'
	assert_failure 5
}

@test "with the view removed, a damaged log is refused rather than rebuilt" {
	rm -f "$NEDB_DIR"/view.mdb*
	"$LOGTOOL" flip "$LOG" "$(mid 12)"
	cp "$LOG" "$BATS_TEST_TMPDIR/before"
	run --separate-stderr nedb-get c d3
	assert_failure 5
	assert_output ""
	assert_regex "$stderr" '^nedb-get: .*seq 12'
	run --separate-stderr nedb-put c new '{"v":1}'
	assert_failure 5
	cmp "$LOG" "$BATS_TEST_TMPDIR/before"
}

@test "checkpoint --rebuild of a damaged log exits 5 and keeps the view" {
	"$LOGTOOL" flip "$LOG" "$(mid 12)"
	run --separate-stderr nedb-checkpoint --rebuild
	assert_failure 5
	assert_output ""
	assert_regex "$stderr" '^nedb-checkpoint: .*seq 12'
	run nedb-get c e2
	assert_success
	assert_output '{"_id":"e2","v":35}'
}

@test "a view file cut short is rebuilt from the log, at the latest by nedb-checkpoint --rebuild" {
	truncate -s 4096 "$NEDB_DIR/view.mdb"
	run --separate-stderr nedb-get c e2
	if [ "$status" != 0 ]; then
		# refusing is fine, if the advised repair works
		assert_failure 5
		assert_output ""
		run --separate-stderr nedb-checkpoint --rebuild
		assert_success
	fi
	run nedb-get c e2
	assert_success
	assert_output '{"_id":"e2","v":35}'
	run nedb-get --as-of 12 c d2
	assert_output '{"_id":"d2","v":12}'
	assert_determinism
}

# A log over 16 MiB is checked in pieces on every core (big_log).
@test "verify of a large log checked in pieces names a damaged op in any of them" {
	export NEDB_DIR="$BATS_TEST_TMPDIR/big"
	LOG="$NEDB_DIR/log.aof"
	big_log
	run nedb-verify
	assert_success
	assert_output --partial '"seq":45000,'
	cp "$LOG" "$BATS_TEST_TMPDIR/clean"
	for k in 1234 40000; do
		cp "$BATS_TEST_TMPDIR/clean" "$LOG"
		"$LOGTOOL" flip "$LOG" "$(mid "$k")"
		run --separate-stderr nedb-verify
		assert_failure 1
		assert_output --regexp "^\{\"ok\":false,\"seq\":$k,"
	done
	# a swap in the second half, and a cut at the halves' seam
	cp "$BATS_TEST_TMPDIR/clean" "$LOG"
	sed -i '40001{h;d};40002{G}' "$LOG"
	run --separate-stderr nedb-verify
	assert_failure 1
	assert_output --regexp '^\{"ok":false,"seq":40000,'
	# a history rewritten from an op in the last piece, its hashes
	# recomputed (ten lines: logtool runs b2sum once a line): the view's
	# record of that op disagrees
	cp "$BATS_TEST_TMPDIR/clean" "$LOG"
	at=$(grep -bo '"pad":"0*44989"' "$LOG" | cut -d: -f1)
	"$LOGTOOL" flip "$LOG" $((at + 12))
	"$LOGTOOL" rehash "$LOG" 44990
	for threads in 1 2 3; do
		run --separate-stderr env NEDB_VERIFY_THREADS=$threads nedb-verify
		assert_failure 1
		assert_output '{"ok":false,"seq":44990,"error":"hash differs from the one the view recorded"}'
	done
}

@test "verify of a large encrypted log checks every op against the view on any number of threads" {
	export NEDB_DIR="$BATS_TEST_TMPDIR/big" NEDB_TMK=$(printf '%064d' 7)
	big_log
	for threads in 1 2 3; do
		run --separate-stderr env NEDB_VERIFY_THREADS=$threads nedb-verify
		assert_success
		assert_output --partial '"seq":45000,'
	done
	# hashing threads that cannot start their work (a cipher context
	# each) leave it to the walking thread, which checks every piece
	run --separate-stderr env NEDB_VERIFY_THREADS=3 \
		NEDB_TEST_FAIL=verify-thread nedb-verify
	assert_success
	assert_output --partial '"seq":45000,'
	LOG="$NEDB_DIR/log.aof"
	"$LOGTOOL" flip "$LOG" "$(mid 40000)"
	run --separate-stderr env NEDB_VERIFY_THREADS=3 \
		NEDB_TEST_FAIL=verify-thread nedb-verify
	assert_failure 1
	assert_output --regexp '^\{"ok":false,"seq":40000,'
}
