#!/usr/bin/env bats
# Reliability: torn tails, crashed writers (kill -9), concurrent writers
# and readers, disk full.  Every scenario ends with nedb-verify
# --determinism.  Timing never decides an outcome: sleeps only vary where
# a kill lands or how a stream is batched.

load helper

LOGTOOL="$BATS_TEST_DIRNAME/lib-rel/logtool"

setup_more() {
	WORK="$BATS_TEST_TMPDIR/work"
	LOG="$NEDB_DIR/log.aof"
	mkdir -p "$WORK"
}

teardown() {
	local p
	if [ -f "$WORK/pids" ]; then
		while read -r p; do
			kill -9 "$p" 2>/dev/null || true
		done < "$WORK/pids"
	fi
	if [ -n "${MNT:-}" ] && mountpoint -q "$MNT"; then
		umount "$MNT" || umount -l "$MNT"
	fi
}

# Remembers a background process for teardown.
started() {
	echo "$1" >> "$WORK/pids"
}

# Mounts a tmpfs of size $1 at $MNT, or skips the test.
mount_tmpfs() {
	[ "$(id -u)" = 0 ] || skip "disk-full tests mount a tmpfs: need root"
	MNT="$BATS_TEST_TMPDIR/mnt"
	mkdir -p "$MNT"
	mount -t tmpfs -o "size=$1" tmpfs "$MNT" 2>/dev/null ||
		skip "cannot mount a tmpfs (not allowed in this container?)"
}

# Fills the file system of $MNT, then frees $1 bytes of it.
fill_but() {
	dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
	truncate -s "-$1" "$MNT/filler"
}

log_size() {
	stat -c %s "$LOG"
}

# Checks acknowledged ops against the log.  Each line of $WORK/acks* is
# {"w":W,"i":I,"r":RECEIPT} (for puts the document was {"w":W,"i":I}) or
# a bare receipt.  Every receipt must be the log's op at its seq (hash,
# op, coll, id, and the document), seqs are 0..N once each, and the log
# holds exactly the acknowledged ops after the first $1 ops (default 1,
# the genesis).
check_acks() {
	local base=${1:-1}
	nedb-log > "$WORK/log.ndjson"
	jq -c 'if has("r") then . else {r: .} end' "$WORK"/acks* \
		> "$WORK/all-acks"
	run jq -cn --slurpfile log "$WORK/log.ndjson" \
		--slurpfile acks "$WORK/all-acks" --argjson base "$base" '
	  {
	    contiguous: ([$log[].seq] == [range(0; $log | length)]),
	    count: (($acks | length) + $base == ($log | length)),
	    unique: (($acks | map(.r.seq) | unique | length) ==
		     ($acks | length)),
	    wrong: [$acks[] | . as $a | ($log[$a.r.seq] // {}) as $l
		    | select($l.seq != $a.r.seq or $l.hash != $a.r.hash or
			     $l.op != $a.r.op or $l.coll != $a.r.coll or
			     $l.id != $a.r.id or
			     ($a | has("w")) and $a.r.op == "put" and
			     ($l.doc.w != $a.w or $l.doc.i != $a.i))
		    | $a.r]
	  }'
	assert_success
	assert_output '{"contiguous":true,"count":true,"unique":true,"wrong":[]}'
}

# After check_acks: every acknowledged put or delete is a version of its
# document (nedb-get --history: same seq, op and hash; a put's document)
# and every document's HEAD is its last acknowledged op (a put at that
# seq, or absent after a delete).  All acks are in collection c.
check_reads() {
	jq -c 'select(.r.op == "put" or .r.op == "delete")' \
		"$WORK/all-acks" > "$WORK/doc-acks"
	jq -r '.r.id' "$WORK/doc-acks" | sort -u > "$WORK/ids"
	run jq -s 'map(.r.coll) | unique' "$WORK/doc-acks"
	assert_output '[
  "c"
]'
	nedb-get --history c < "$WORK/ids" > "$WORK/versions"
	nedb-get --meta c < "$WORK/ids" > "$WORK/heads" 2>/dev/null || true
	run jq -cn --slurpfile v "$WORK/versions" --slurpfile h "$WORK/heads" \
		--slurpfile acks "$WORK/doc-acks" '
	  (reduce $v[] as $x ({}; ($x.seq | tostring) as $k
	   | setpath([$k]; (.[$k] // []) + [$x]))) as $vs
	  | (reduce $h[] as $x ({}; .[$x.doc._id] = $x.seq)) as $hs
	  | {
	      versions: [$acks[] | . as $a | ($vs[$a.r.seq | tostring] // [])
			 as $m
			 | select(($m | length) != 1 or $m[0].op != $a.r.op or
				  $m[0].hash != $a.r.hash or
				  $a.r.op == "put" and
				  ($m[0].doc._id != $a.r.id or
				   ($a | has("w")) and
				   ($m[0].doc.w != $a.w or
				    $m[0].doc.i != $a.i)))
			 | $a.r],
	      heads: [$acks | group_by(.r.id)[] | max_by(.r.seq).r
		      | select(if .op == "put" then $hs[.id] != .seq
			       else $hs[.id] != null end)
		      | {id, seq, op, head: $hs[.id]}]
	    } | .versions |= .[:5] | .heads |= .[:5]'
	assert_success
	assert_output '{"versions":[],"heads":[]}'
}

# put_loop W N MOD CLIENT STEP [OPTION...]: puts c/wW-I (or c/sJ with
# J = I % MOD when MOD > 0, ids the writers share) = {"w":W,"i":I} for
# I = 1..N; with CLIENT other than "-", as that client with nonce I*STEP+W.
# Acks go to $WORK/acks.W, failures ("I STATUS") to $WORK/fail.W.
put_loop() {
	local w=$1 n=$2 mod=$3 client=$4 step=$5 i id r st
	local -a opt
	shift 5
	for ((i = 1; i <= n; i++)); do
		id="w$w-$i"
		[ "$mod" = 0 ] || id="s$((i % mod))"
		opt=("$@")
		[ "$client" = - ] ||
			opt+=(--client "$client" --nonce $((i * step + w)))
		if r=$(nedb-put "${opt[@]}" c "$id" "{\"w\":$w,\"i\":$i}" \
		    2>>"$WORK/err.$w"); then
			printf '{"w":%d,"i":%d,"r":%s}\n' "$w" "$i" "$r"
		else
			st=$?
			echo "$i $st" >> "$WORK/fail.$w"
		fi
	done >> "$WORK/acks.$w"
}

# delete_loop W N: puts c/wW-I, and deletes it again for even I.
delete_loop() {
	local w=$1 n=$2 i r
	for ((i = 1; i <= n; i++)); do
		r=$(nedb-put c "w$w-$i" "{\"w\":$w,\"i\":$i}" \
			2>>"$WORK/err.$w") || { echo "$i put" >> "$WORK/fail.$w"; continue; }
		printf '{"w":%d,"i":%d,"r":%s}\n' "$w" "$i" "$r"
		((i % 2)) && continue
		r=$(nedb-delete --client "del$w" c "w$w-$i" 2>>"$WORK/err.$w") ||
			{ echo "$i delete" >> "$WORK/fail.$w"; continue; }
		printf '{"w":%d,"i":%d,"r":%s}\n' "$w" "$i" "$r"
	done >> "$WORK/acks.$w"
}

# reader K: until $WORK/stop exists (and at least once), reads and checks
# what it sees: gets exit 0 or 1, nedb-log prints a gapless prefix that
# never shrinks, nedb-verify passes.  Problems go to $WORK/reader-errors.
reader() {
	local k=$1 rc head=0 now
	while :; do
		nedb-get c w1-1 s1 > /dev/null 2>&1 && rc=0 || rc=$?
		[ "$rc" -le 1 ] || echo "reader $k: nedb-get exited $rc"
		nedb-log > "$WORK/snap.$k" 2>> "$WORK/reader-stderr.$k" &&
			rc=0 || rc=$?
		[ "$rc" = 0 ] || echo "reader $k: nedb-log exited $rc"
		now=$(jq -s 'if map(.seq) == [range(0; length)] then
			     length - 1 else "gap" end' "$WORK/snap.$k")
		if [ "$now" = '"gap"' ]; then
			echo "reader $k: nedb-log printed a gap"
		elif [ "$now" -lt "$head" ]; then
			echo "reader $k: head went back from $head to $now"
		else
			head=$now
		fi
		nedb-verify > "$WORK/verify.$k" 2>&1 ||
			echo "reader $k: verify: $(cat "$WORK/verify.$k")"
		echo x >> "$WORK/reads.$k"
		[ ! -e "$WORK/stop" ] || break
	done >> "$WORK/reader-errors"
}

start_readers() {
	reader 1 &
	READERS=$!
	reader 2 &
	READERS="$READERS $!"
	started "${READERS% *}"
	started "${READERS#* }"
}

stop_readers() {
	local p
	touch "$WORK/stop"
	for p in $READERS; do wait "$p"; done
	assert_equal "$(cat "$WORK/reader-errors" 2>/dev/null)" ""
	[ -s "$WORK/reads.1" ] && [ -s "$WORK/reads.2" ]
}

# Fresh writers wait for this file, so that they start together.
go() {
	touch "$WORK/go"
}

wait_go() {
	while [ ! -e "$WORK/go" ]; do sleep 0.01; done
}

# --- torn tails -------------------------------------------------------

@test "a torn tail is invisible to reads, and the next write cuts it off with a one-line warning" {
	seed_users 3
	cp "$LOG" "$WORK/log.before"
	"$LOGTOOL" next "$LOG" '"op":"put","ts":1,"client":"local","nonce":9,"coll":"users","id":"torn","doc":{"_id":"torn","v":1}' > "$WORK/line"
	head -c 100 "$WORK/line" >> "$LOG"
	run --separate-stderr nedb-get users u2
	assert_success
	assert_output '{"_id":"u2","n":2}'
	assert_equal "$stderr" ""
	run --separate-stderr nedb-get --as-of 2 users u2
	assert_success
	run --separate-stderr nedb-log
	assert_success
	assert_equal "${#lines[@]}" 4
	run --separate-stderr nedb-verify
	assert_success
	assert_output --partial '"ok":true,"seq":3,'
	run --separate-stderr nedb-put users u4 '{"n":4}'
	assert_success
	assert_output --partial '"seq":4,'
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^nedb-put: warning: repaired a torn log tail'
	# the log is the old one plus the new line: the torn bytes are gone
	cmp -n "$(stat -c %s "$WORK/log.before")" "$LOG" "$WORK/log.before"
	assert_equal "$(wc -l < "$LOG")" 5
	run nedb-get users torn
	assert_failure 1
	run --separate-stderr nedb-verify
	assert_success
	assert_equal "$stderr" ""
	assert_determinism
}

@test "a complete op missing only its newline is a torn tail: cut off, never applied" {
	seed_users 2
	"$LOGTOOL" next "$LOG" '"op":"put","ts":1,"client":"local","nonce":9,"coll":"users","id":"torn","doc":{"_id":"torn","v":1}' |
		head -c -1 >> "$LOG"
	run --separate-stderr nedb-delete users u1
	assert_success
	assert_output --partial '"seq":3,'
	assert_regex "$stderr" '^nedb-delete: warning: repaired a torn log tail'
	run nedb-get users torn
	assert_failure 1
	assert_determinism
}

@test "a torn tail of a single byte is repaired by a checkpoint" {
	seed_users 2
	printf '{' >> "$LOG"
	run --separate-stderr nedb-checkpoint
	assert_success
	assert_output --partial '"seq":3,'
	assert_regex "$stderr" '^nedb-checkpoint: warning: repaired a torn log tail'
	assert_determinism
}

# --- crashed writers ----------------------------------------------------

@test "a complete op a crashed writer appended is applied by the next write" {
	# format 1: the op below is written by hand, its document last
	NEDB_LOG_FORMAT=1 seed_users 2
	"$LOGTOOL" next "$LOG" "\"op\":\"put\",\"ts\":$(date +%s%3N),\"client\":\"local\",\"nonce\":50,\"coll\":\"users\",\"id\":\"crashed\",\"doc\":{\"_id\":\"crashed\",\"v\":1}" >> "$LOG"
	# a reader sees a consistent prefix: with or without seq 3
	run nedb-get users u1
	assert_success
	run --separate-stderr nedb-put users u3 '{"n":3}'
	assert_success
	assert_output --partial '"seq":4,'
	assert_equal "$stderr" ""
	run nedb-get users crashed
	assert_success
	assert_output '{"_id":"crashed","v":1}'
	run nedb-get --as-of 3 users crashed
	assert_success
	assert_determinism
}

@test "kill -9 of a stream fed slowly: every receipt it printed is durable" {
	mkfifo "$WORK/fifo"
	: > "$WORK/acks"
	nedb-put c < "$WORK/fifo" >> "$WORK/acks" 2> "$WORK/err" &
	local pid=$! tries=0
	started $pid
	(
		for ((i = 1; i <= 5000; i++)); do
			printf '{"_id":"s%d","w":0,"i":%d}\n' "$i" "$i"
			((i % 7)) || sleep 0.002
		done
	) > "$WORK/fifo" &
	started $!
	# wait (for progress, not for time) until some receipts are out
	while [ "$(wc -l < "$WORK/acks")" -lt 50 ] && ((tries++ < 2000)); do
		sleep 0.01
	done
	sleep "0.00$((RANDOM % 10))"
	kill -9 $pid
	wait $pid || true
	[ "$(wc -l < "$WORK/acks")" -ge 50 ]
	# drop a receipt line the kill may have cut short
	sed -i '$ {/}$/!d}' "$WORK/acks"
	run --separate-stderr nedb-verify
	assert_success
	# the first writer after the crash catches up (and repairs a tail);
	# ops the stream wrote but never acknowledged may be there too
	nedb-put c after '{}' > "$WORK/acks.after"
	check_acks $(($(nedb-log | wc -l) - $(cat "$WORK"/acks* | wc -l)))
	check_reads
	assert_determinism
}

@test "kill -9 of large streams at random instants loses only unacknowledged ops" {
	local round pid
	# the database exists first: a kill before the first stream made it
	# would leave nothing to verify (a first open is killed elsewhere)
	nedb-put c seed '{}' > "$WORK/acks.0"
	for round in 1 2 3; do
		# distinct ids per round: an unacknowledged op that landed
		# must not hide an acknowledged one
		seq 1 11000 | awk -v r=$round \
		    '{printf "{\"_id\":\"r%d-%d\",\"pad\":\"%0100d\"}\n", r, $1, $1}' \
			> "$WORK/docs"
		nedb-put c < "$WORK/docs" > "$WORK/acks.$round" 2>/dev/null &
		pid=$!
		started $pid
		sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
		kill -9 $pid 2>/dev/null || true
		wait $pid || true
		sed -i '$ {/}$/!d}' "$WORK/acks.$round"
		run --separate-stderr nedb-verify
		assert_success
	done
	nedb-put c after '{}' >> "$WORK/acks.4"
	check_acks $(( $(nedb-log | wc -l) - $(cat "$WORK"/acks.* | wc -l) ))
	# every acknowledged document reads (ids are distinct)
	jq -r .id "$WORK"/acks.* > "$WORK/ids"
	nedb-get c < "$WORK/ids" > "$WORK/docs.read"
	assert_equal "$(wc -l < "$WORK/docs.read")" "$(wc -l < "$WORK/ids")"
	assert_determinism
}

@test "kill -9 at random instants during single puts: every put that exited 0 is there" {
	local i pid st
	nedb-put c k0 '{"i":0}' > "$WORK/acks.0"
	for ((i = 1; i <= 50; i++)); do
		if ((i % 5)); then
			nedb-put c "k$i" "{\"i\":$i}" > "$WORK/r.$i" 2>/dev/null &
		else
			printf '{"_id":"k%d","i":%d}\n{"_id":"k%d.b"}\n' \
				"$i" "$i" "$i" | nedb-put c > "$WORK/r.$i" 2>/dev/null &
		fi
		pid=$!
		started $pid
		sleep "0.00$((RANDOM % 8))"
		kill -9 $pid 2>/dev/null || true
		wait $pid && st=0 || st=$?
		echo "$i $st" >> "$WORK/statuses"
		[ "$st" != 0 ] || cat "$WORK/r.$i" >> "$WORK/acks.$i"
		# a put that was not killed succeeded
		[ "$st" = 0 ] || [ "$st" = 137 ]
	done
	run --separate-stderr nedb-verify
	assert_success
	nedb-put c last '{}' >> "$WORK/acks.last"
	# killed puts may or may not have landed; acked ones must have
	local acked
	acked=$(cat "$WORK"/acks.* | wc -l)
	check_acks $(( $(nedb-log | wc -l) - acked ))
	check_reads
	assert_determinism
}

@test "kill -9 during a view rebuild or a first open leaves a view that is whole" {
	local round pid st
	seq 1 12000 | awk '{printf "{\"_id\":\"b%d\",\"v\":%d}\n", $1, $1}' |
		nedb-put c > "$WORK/acks.1"
	for round in 1 2 3; do
		nedb-checkpoint --rebuild > /dev/null 2>&1 &
		pid=$!
		started $pid
		sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
		kill -9 $pid 2>/dev/null || true
		wait $pid && st=0 || st=$?
		[ "$st" = 0 ] || [ "$st" = 137 ]
		run nedb-get c b12000
		assert_success
		assert_output '{"_id":"b12000","v":12000}'
	done
	for round in 1 2 3; do
		rm -f "$NEDB_DIR"/view.mdb*
		nedb-get c b1 > /dev/null 2>&1 &
		pid=$!
		started $pid
		sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
		kill -9 $pid 2>/dev/null || true
		wait $pid && st=0 || st=$?
		[ "$st" = 0 ] || [ "$st" = 137 ]
		run nedb-get c b12000
		assert_success
		assert_output '{"_id":"b12000","v":12000}'
	done
	check_acks
	assert_determinism
}

# --- concurrency --------------------------------------------------------

@test "concurrent first writes create one database with one genesis" {
	local p pids=()
	for w in 1 2 3 4 5 6; do
		( wait_go; put_loop "$w" 3 0 - 1 ) &
		pids+=($!)
		started $!
	done
	go
	for p in "${pids[@]}"; do wait "$p"; done
	assert_equal "$(cat "$WORK"/fail.* 2>/dev/null)" ""
	run nedb-log --since 0 --until 0
	assert_output --partial '"op":"genesis"'
	check_acks
	assert_determinism
}

@test "concurrent writers and readers: every acknowledged op is in the log once, seqs contiguous" {
	local p pids=()
	nedb-put c init '{}' > "$WORK/acks.0"
	start_readers
	( wait_go; put_loop 1 15 0 - 1 ) & pids+=($!)
	( wait_go; put_loop 2 15 0 w2 1 ) & pids+=($!)
	( wait_go; put_loop 3 15 5 - 1 ) & pids+=($!)
	( wait_go; put_loop 4 15 5 w4 3 ) & pids+=($!)
	( wait_go; delete_loop 5 12 ) & pids+=($!)
	# two writers sharing one client: stale nonces are rejected (exit 3)
	( wait_go; put_loop 6 15 0 shared 2 ) & pids+=($!)
	( wait_go; put_loop 7 15 7 shared 2 ) & pids+=($!)
	# checkpoints (their digests are checked by --determinism) and
	# view rebuilds among the writes
	(
		wait_go
		for i in 1 2 3 4; do
			nedb-checkpoint || echo "checkpoint $?" >> "$WORK/fail.8"
			nedb-checkpoint --rebuild > /dev/null ||
				echo "rebuild $?" >> "$WORK/fail.8"
		done 2>> "$WORK/err.8" >> "$WORK/acks.8"
	) & pids+=($!)
	for p in "${pids[@]}"; do started "$p"; done
	go
	for p in "${pids[@]}"; do wait "$p"; done
	stop_readers
	# only the writers sharing a client may fail, and only with exit 3
	assert_equal "$(cat "$WORK"/fail.[1-58] 2>/dev/null)" ""
	assert_equal "$(cat "$WORK"/err.[1-58] 2>/dev/null)" ""
	# (whether the two shared-client writers ever collide is up to the
	# scheduler: the files may not exist)
	run awk '$2 != 3' $(ls "$WORK"/fail.[67] 2>/dev/null) /dev/null
	assert_output ""
	run grep -hv "stale nonce" $(ls "$WORK"/err.[67] 2>/dev/null) /dev/null
	assert_output ""
	check_acks
	# a client's nonces increase along the log
	run jq -s 'group_by(.client)[] | select(.[0].client != null)
		   | map(.nonce) | select(. != (sort | unique)) | "bad"' \
		"$WORK/log.ndjson"
	assert_output ""
	check_reads
	assert_determinism
}

@test "concurrent retries with one idempotency key append each op once" {
	local p i pids=()
	nedb-put c init '{}' > "$WORK/acks.0"
	for w in 1 2 3 4; do
		(
			wait_go
			for ((i = 1; i <= 10; i++)); do
				nedb-put --idem "key-$i" c "k$i" "{\"i\":$i}"
			done > "$WORK/r.$w"
		) &
		pids+=($!)
		started $!
	done
	go
	for p in "${pids[@]}"; do wait "$p"; done
	# all four saw the same receipt for each key
	run sort -u "$WORK"/r.[1-4]
	assert_equal "${#lines[@]}" 10
	sort -u "$WORK"/r.[1-4] > "$WORK/acks.1"
	check_acks
	assert_determinism
}

@test "a follower (nedb-log --follow) does not hold up writers and prints every op once" {
	local p pid tries=0 pids=()
	nedb-put c k0 '{}' > "$WORK/acks.0"
	nedb-log --follow > "$WORK/followed" 2> "$WORK/follow-err" &
	pid=$!
	started $pid
	( wait_go; put_loop 1 15 0 - 1 ) & pids+=($!)
	( wait_go; put_loop 2 15 3 - 1 ) & pids+=($!)
	( wait_go; stream 3 100 10 ) & pids+=($!)
	for p in "${pids[@]}"; do started "$p"; done
	go
	for p in "${pids[@]}"; do wait "$p"; done
	assert_equal "$(cat "$WORK"/fail.* "$WORK"/err.* 2>/dev/null)" ""
	# wait (for progress) until the follower has caught up
	while [ "$(wc -l < "$WORK/followed")" -lt 132 ] && ((tries++ < 1000)); do
		sleep 0.01
	done
	kill $pid
	wait $pid || true
	check_acks
	run jq -s 'map(.seq) == [range(0; 132)]' "$WORK/followed"
	assert_output true
	nedb-log | cmp - "$WORK/followed"
	assert_determinism
}

# Starts "nedb-put c" reading $WORK/fifo, receipts to $WORK/acks.1, with
# fd 7 of the test writing to it; returns once the stream has
# acknowledged a first document.
start_idle_stream() {
	local tries=0
	mkfifo "$WORK/fifo"
	: > "$WORK/acks.1"
	nedb-put c < "$WORK/fifo" >> "$WORK/acks.1" 2> "$WORK/err.1" &
	STREAM=$!
	started $STREAM
	exec 7> "$WORK/fifo"
	echo '{"_id":"s1"}' >&7
	while [ ! -s "$WORK/acks.1" ] && ((tries++ < 2000)); do
		sleep 0.01
	done
	[ -s "$WORK/acks.1" ]
}

@test "a stream waiting for input does not hold up other writers" {
	nedb-put c k0 '{}' > "$WORK/acks.0"
	start_idle_stream
	# a bound on a hang, not a timing: the put takes milliseconds
	run timeout 5 nedb-put c single '{"v":1}' 7>&-
	echo '{"_id":"s2"}' >&7
	exec 7>&-
	wait $STREAM
	assert_success
	echo "$output" > "$WORK/acks.2"
	assert_equal "$(wc -l < "$WORK/acks.1")" 2
	check_acks
	assert_determinism
}

@test "a writer killed while it holds the writer lock does not block later writers" {
	nedb-put c k0 '{}' > "$WORK/acks.0"
	start_idle_stream
	kill -9 $STREAM
	wait $STREAM || true
	exec 7>&-
	run timeout 5 nedb-put c single '{"v":1}'
	assert_success
	echo "$output" > "$WORK/acks.2"
	check_acks
	assert_determinism
}

# stream W N CHUNK [OPTION...]: an NDJSON stream of c/wW-1..N
# {"_id":…,"w":W,"i":I} into one nedb-put, fed in chunks of CHUNK
# documents with short pauses so that it commits in batches.
stream() {
	local w=$1 n=$2 chunk=$3 i st
	shift 3
	for ((i = 1; i <= n; i++)); do
		printf '{"_id":"w%d-%d","w":%d,"i":%d}\n' "$w" "$i" "$w" "$i"
		((i % chunk)) || sleep 0.005
	done | nedb-put "$@" c > "$WORK/r.$w" 2> "$WORK/err.$w" && st=0 ||
		st=$?
	echo "$st" > "$WORK/status.$w"
	# a receipt is {seq,hash,op,coll,id}; give it its w and i
	jq -c --argjson w "$w" '{w: $w, i: (.id | sub("^w[0-9]+-"; "")
		| tonumber), r: .}' "$WORK/r.$w" > "$WORK/acks.$w"
}

@test "concurrent bulk streams and single puts interleave without losing or duplicating an op" {
	local p pids=()
	nedb-put c init '{}' > "$WORK/acks.0"
	start_readers
	( wait_go; stream 1 400 25 ) & pids+=($!)
	( wait_go; stream 2 400 40 --client s2 --nonce 1 ) & pids+=($!)
	( wait_go; stream 3 300 30 ) & pids+=($!)
	( wait_go; stream 4 200 200 --atomic ) & pids+=($!)
	( wait_go; put_loop 5 15 0 - 1 ) & pids+=($!)
	for p in "${pids[@]}"; do started "$p"; done
	go
	for p in "${pids[@]}"; do wait "$p"; done
	stop_readers
	assert_equal "$(cat "$WORK"/status.[1-4])" "$(printf '0\n0\n0\n0')"
	assert_equal "$(cat "$WORK"/err.[1-5])" ""
	run cat "$WORK"/r.[1-4]
	assert_equal "${#lines[@]}" 1300
	# each stream's receipts come in increasing seq order
	for w in 1 2 3 4; do
		run jq -s 'map(.seq) | . == sort' "$WORK/r.$w"
		assert_output true
	done
	# an --atomic stream is one batch: contiguous seqs
	run jq -s 'map(.seq) | .[-1] - .[0] + 1 == length' "$WORK/r.4"
	assert_output true
	check_acks
	check_reads
	assert_determinism
}

@test "durability fast and safe keep the chain intact under concurrency" {
	local p pids=()
	nedb-put c init '{}' > "$WORK/acks.0"
	start_readers
	( wait_go; put_loop 1 15 0 - 1 --durability fast ) & pids+=($!)
	( wait_go; put_loop 2 15 5 - 1 --durability fast ) & pids+=($!)
	( wait_go; NEDB_DURABILITY=safe put_loop 3 15 5 w3 1 ) & pids+=($!)
	( wait_go; NEDB_DURABILITY=safe put_loop 4 15 0 - 1 ) & pids+=($!)
	( wait_go; put_loop 5 15 0 - 1 --durability durable ) & pids+=($!)
	( wait_go; stream 6 200 20 --durability fast ) & pids+=($!)
	( wait_go; NEDB_DURABILITY=safe stream 7 200 20 ) & pids+=($!)
	for p in "${pids[@]}"; do started "$p"; done
	go
	for p in "${pids[@]}"; do wait "$p"; done
	stop_readers
	assert_equal "$(cat "$WORK"/fail.* 2>/dev/null)" ""
	assert_equal "$(cat "$WORK"/err.* 2>/dev/null)" ""
	check_acks
	check_reads
	assert_determinism
}

# --- disk full ----------------------------------------------------------

@test "disk full: the failing write exits 5 with a one-line message and every acknowledged write stays" {
	local i st size doc
	mount_tmpfs 2m
	export NEDB_DIR="$MNT/db" LOG="$MNT/db/log.aof"
	nedb-put c k0 '{"i":0}' > "$WORK/acks.0"
	fill_but 192K
	doc=$(printf '{"pad":"%04000d"}' 0)
	for ((i = 1; i <= 300; i++)); do
		size=$(log_size)
		nedb-put c "k$i" "$doc" > "$WORK/r" 2> "$WORK/err" && st=0 ||
			st=$?
		[ "$st" = 0 ] || break
		cat "$WORK/r" >> "$WORK/acks.1"
	done
	assert_equal "$st" 5
	[ "$i" -gt 1 ]
	run cat "$WORK/err"
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '^nedb-put: .*disk full$'
	[ ! -s "$WORK/r" ]
	# the failed write left nothing behind
	assert_equal "$(log_size)" "$size"
	run --separate-stderr nedb-verify
	assert_success
	# while the disk stays full, writes keep failing cleanly
	printf '{"pad":"%0300000d"}' 0 > "$WORK/big"
	run --separate-stderr nedb-put c big < "$WORK/big"
	assert_failure 5
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^nedb-put: .*disk full$'
	assert_equal "$(log_size)" "$size"
	check_acks
	check_reads
	run nedb-get c "k$((i - 1))"
	assert_output "{\"_id\":\"k$((i - 1))\",\"pad\":\"$(printf '%04000d' 0)\"}"
	# free the space: writing works again
	rm "$MNT/filler"
	run nedb-put c big < "$WORK/big"
	assert_success
	assert_determinism
}

@test "disk full: a stream stops with exit 5; every receipt it printed stays, nothing else" {
	mount_tmpfs 2m
	export NEDB_DIR="$MNT/db" LOG="$MNT/db/log.aof"
	nedb-put c k0 '{"i":0}' > "$WORK/acks.0"
	fill_but 256K
	for ((i = 1; i <= 400; i++)); do
		printf '{"_id":"w1-%d","w":1,"i":%d,"pad":"%02000d"}\n' \
			"$i" "$i" 0
		((i % 10)) || sleep 0.002
	done | nedb-put c > "$WORK/r.1" 2> "$WORK/err" && st=0 || st=$?
	assert_equal "$st" 5
	run cat "$WORK/err"
	assert_equal "${#lines[@]}" 1
	assert_output --regexp '^nedb-put: .*disk full$'
	jq -c '{w: 1, i: (.id | sub("^w1-"; "") | tonumber), r: .}' \
		"$WORK/r.1" > "$WORK/acks.1"
	run --separate-stderr nedb-verify
	assert_success
	# genesis, k0 and exactly the receipts printed
	check_acks
	check_reads
	rm "$MNT/filler"
	run nedb-put c after '{}'
	assert_success
	assert_determinism
}

@test "disk full: a write whose log line fits but whose view pages do not is reported as disk full" {
	local size
	mount_tmpfs 2m
	export NEDB_DIR="$MNT/db" LOG="$MNT/db/log.aof"
	nedb-put c k0 '{"i":0}' > "$WORK/acks.0"
	# a 50 kB document: its log line fits in the 64 kB left, its view
	# pages (as much again) then do not
	printf '{"pad":"%050000d"}' 0 > "$WORK/doc"
	fill_but 64K
	size=$(log_size)
	run --separate-stderr nedb-put c big < "$WORK/doc"
	assert_failure 5
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" '^nedb-put: .*disk full$'
	assert_equal "$(log_size)" "$size"
	run --separate-stderr nedb-verify
	assert_success
	check_acks
	rm "$MNT/filler"
	run nedb-put c big < "$WORK/doc"
	assert_success
	assert_determinism
}

@test "disk full while the database is being created exits 5 and leaves no half database" {
	mount_tmpfs 1m
	fill_but 8K
	export NEDB_DIR="$MNT/db"
	run --separate-stderr nedb-put c a '{"v":1}'
	assert_failure 5
	assert_equal "${#stderr_lines[@]}" 1
	rm "$MNT/filler"
	run nedb-put c a '{"v":1}'
	assert_success
	assert_output --partial '"seq":1,'
	assert_determinism
}

# view.sync (lib/engine/db.c): commits do not fsync the view; an OS crash is
# simulated by a record of another boot, with pages of the view garbled.
other_boot() {	# [log-offset]: rewrites view.sync as written in another boot
	local off=${1:-$(stat -c %s "$NEDB_DIR/log.aof")}	# default: all synced
	printf 'nedb view sync 1 boot 00000000-0000-0000-0000-000000000000 log %s ms 1\n' \
		"$off" > "$NEDB_DIR/view.sync"
}
garble_view() {
	python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(8192); f.write(b"\xa5" * 16384)' \
		"$NEDB_DIR/view.mdb"
}

@test "every write's view sync is recorded with this boot and the log's length" {
	seed_users 3
	run cat "$NEDB_DIR/view.sync"
	assert_output --regexp "^nedb view sync 1 boot $(cat /proc/sys/kernel/random/boot_id) log [0-9]+ ms [0-9]+"
}

@test "a view an OS crash left unsynced is rebuilt from the log, with a warning" {
	seed_users 5
	other_boot 10
	garble_view
	run --separate-stderr nedb-get users u4
	assert_success
	assert_output '{"_id":"u4","n":4}'
	assert_equal "$stderr" "nedb-get: warning: the system went down with the view not synced; rebuilding it from the log"
	run cat "$NEDB_DIR/view.sync"
	assert_output --partial "boot $(cat /proc/sys/kernel/random/boot_id) "
	run --separate-stderr nedb-get users u5
	assert_success
	assert_equal "$stderr" ""
	assert_determinism
}

@test "a view synced before the OS went down is trusted as it is" {
	seed_users 3
	other_boot	# the log is no longer than the record says
	ino=$(stat -c %i "$NEDB_DIR/view.mdb")
	run --separate-stderr nedb-get users u2
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(stat -c %i "$NEDB_DIR/view.mdb")" "$ino"
	run nedb-put users u9 '{"n":9}'
	assert_success
	assert_determinism
}

@test "a torn view.sync is read as a crash: the view is rebuilt" {
	seed_users 3
	printf 'nedb view sy' > "$NEDB_DIR/view.sync"
	run --separate-stderr nedb-query 'FROM users'
	assert_success
	assert_equal "${#lines[@]}" 3
	assert_regex "$stderr" 'rebuilding it from the log$'
	assert_determinism
}

@test "after a simulated crash, concurrent first opens rebuild the view once" {
	seed_users 50
	other_boot 10
	garble_view
	for i in 1 2 3 4 5 6; do
		nedb-get users u$((i * 7)) > "out.$i" 2> "err.$i" &
	done
	wait
	for i in 1 2 3 4 5 6; do
		assert_equal "$(cat "out.$i")" "{\"_id\":\"u$((i * 7))\",\"n\":$((i * 7))}"
	done
	assert_equal "$(cat err.* | grep -c 'rebuilding it from the log')" 1
	assert_determinism
}

@test "disk full during the view's compaction: exit 5, one line, the checkpoint and the view intact" {
	mount_tmpfs 4m
	export NEDB_DIR="$MNT/db"
	for ((i = 0; i < 400; i++)); do
		printf '{"_id":"u%d","bio":"%0500d"}\n' "$i" "$i"
	done | nedb-put -q users
	for ((i = 0; i < 400; i += 2)); do echo "u$i"; done | nedb-delete -q users
	fill_but 24K
	run --separate-stderr nedb-checkpoint
	assert_failure 5
	assert_equal "$stderr" "nedb-checkpoint: cannot compact view: disk full"
	# the checkpoint stands: its receipt is printed
	assert_output --regexp '^\{"seq":[0-9]+,"hash":"[0-9a-f]{64}","op":"checkpoint",.*"view":\{"compacted":false,"reason":"cannot compact view: disk full"\}\}$'
	[ ! -e "$NEDB_DIR/view.mdb.compact" ] || fail "the half copy stays"
	rm "$MNT/filler"
	run nedb-log --reverse -n 1
	assert_output --partial '"op":"checkpoint"'
	run nedb-get users u7
	assert_success
	assert_determinism
}
