#!/usr/bin/env bats
# nedb-redis-follow: a real redis-server followed as a replica.  The
# snapshot's import (every type, TTLs, other databases, what cannot be
# mapped), the stream (writes of redis-cli as they happen, MULTI/EXEC
# and scripts as one batch), resuming after a stop, a kill -9 and a cut
# link without loss or repetition, a full resynchronization as a
# difference, registrations, AUTH, --status, and the errors.  Waits
# poll with a bound; nothing sleeps and hopes.

load helper

# ---- servers and followers ------------------------------------------------

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis DIR [ARG...]: a redis-server on DIR/redis.sock and a free
# loopback port (DIR/port), no persistence; returns once it answers PING.
# It pings its replicas hourly, not every 10 s: a PING moves Redis's
# offset but stages nothing, so the follower records it only with its
# next write (nedb-redis-follow.c, Invariant 2), and caught_up below
# would wait for a write that never comes.
# Its pid is in DIR/pid.
start_redis() {
	local dir=$1 port i
	shift
	mkdir -p "$dir"
	port=$(free_port)
	redis-server --port "$port" --bind 127.0.0.1 \
		--unixsocket "$dir/redis.sock" --save '' --appendonly no \
		--dir "$dir" --repl-diskless-sync-delay 0 \
		--repl-ping-replica-period 3600 "$@" \
		>"$dir/redis.log" 2>&1 3>&- &
	echo $! >"$dir/pid"
	echo "$port" >"$dir/port"
	for ((i = 0; i < 200; i++)); do
		redis-cli -s "$dir/redis.sock" --no-auth-warning \
			${REDIS_PASS:+-a "$REDIS_PASS"} ping 2>/dev/null |
			grep -q PONG && return 0
		sleep 0.05
	done
	echo "redis-server in $dir did not start" >&2
	return 1
}

stop_redis() {
	[ -f "$1/pid" ] || return 0
	kill "$(cat "$1/pid")" 2>/dev/null || true
	rm -f "$1/pid"
}

setup_file() {
	start_redis "$BATS_FILE_TMPDIR/redis"
}

teardown_file() {
	stop_redis "$BATS_FILE_TMPDIR/redis"
}

setup_more() {
	RDIR=$BATS_FILE_TMPDIR/redis
	SOCK=$RDIR/redis.sock
	URL=unix://$SOCK
	ERR=$BATS_TEST_TMPDIR/follow.err
	FPIDS=()
	SERVERS=()
	rcli FLUSHALL >/dev/null
	rcli CONFIG SET repl-backlog-size 1mb >/dev/null
}

teardown() {
	local p s
	for p in "${FPIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	for s in "${SERVERS[@]}"; do
		stop_redis "$s"
	done
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -f "$ERR" ]; then
		echo "# follower stderr:" >&2
		sed 's/^/#   /' "$ERR" >&2
	fi
	# a sanitizer report from the follower fails the test
	if [ -f "$ERR" ] &&
		grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$ERR" >&2; then
		return 1
	fi
}

# redis-cli on the file's server.
rcli() {
	redis-cli -s "$SOCK" "$@"
}

# poll SECONDS COMMAND...: runs COMMAND every 0.05 s until it succeeds.
poll() {
	local n=$(($1 * 20)) i
	shift
	for ((i = 0; i < n; i++)); do
		"$@" && return 0
		sleep 0.05
	done
	echo "poll: '$*' did not succeed in time" >&2
	return 1
}

# start_follower [ARG...]: the follower of $URL in the background (its
# pid in FPID), returned once its first import is committed.
start_follower() {
	nedb-redis-follow --no-progress "$@" ${URL:+"$URL"} 2>>"$ERR" 3>&- &
	FPID=$!
	FPIDS+=("$FPID")
	poll 20 synced
}

# The committed state says a snapshot was imported, and none is under way.
synced() {
	doc_is redis_follow state '.syncs >= 1 and .importing == false'
}

# The follower's committed offset equals Redis's: everything is in.
caught_up() {
	local want state
	want=$(rcli INFO replication | tr -d '\r' |
		sed -n 's/^master_repl_offset://p')
	state=$(nedb-get redis_follow state 2>/dev/null) || return 1
	# a snapshot's import commits its offset first, "importing" until
	# its last key is in: not caught up before that
	[ "$(jq .offset <<<"$state")" = "$want" ] &&
		[ "$(jq .importing <<<"$state")" = false ]
}

# wait_doc COLL ID FILTER: until the document exists and FILTER holds.
wait_doc() {
	poll 20 doc_is "$@"
}

# (jq 1.6 -e succeeds on no input at all: the document is read first)
doc_is() {
	local d
	d=$(nedb-get "$1" "$2" 2>/dev/null) && jq -e "$3" <<<"$d" >/dev/null
}

# Stops the follower with SIGTERM and returns its exit status.
stop_follower() {
	kill -TERM "$FPID"
	wait "$FPID"
}

# The ops of the log as compact [seq, op, coll, id, evidence] lines.
ops() {
	nedb-log | jq -c '[.seq, .op, .coll, .id, .evidence]'
}

# ---- the snapshot ---------------------------------------------------------

@test "--once imports every type of key as a backfill put and exits" {
	rcli SET greeting hello >/dev/null
	rcli SET raw $'\xff\x01' >/dev/null
	rcli HSET user:1 name Alice lang C >/dev/null
	rcli RPUSH queue a b 'c d' >/dev/null
	rcli SADD tags x z y >/dev/null
	rcli ZADD board 1.5 ann 3 bob 2 cy >/dev/null
	run --separate-stderr nedb-redis-follow --once "$URL"
	assert_success
	assert_output ""
	assert_equal "$stderr" "nedb-redis-follow: imported the snapshot of $SOCK: 6 keys, 6 puts, 0 deletes, 0 raw ops (backfill)"
	run nedb-get redis greeting raw user:1 queue tags board
	assert_output '{"_id":"greeting","type":"string","value":"hello"}
{"_id":"raw","type":"string","b64":"/wE="}
{"_id":"user:1","type":"hash","value":{"name":"Alice","lang":"C"}}
{"_id":"queue","type":"list","value":["a","b","c d"]}
{"_id":"tags","type":"set","value":["x","y","z"]}
{"_id":"board","type":"zset","value":[["ann",1.5],["cy",2],["bob",3]]}'
	# each a put marked backfill, in atomic batches with the state
	run sh -c "nedb-log | jq -r 'select(.coll == \"redis\") | .evidence' | sort -u"
	assert_output backfill
	# nedb-redis reads them as Redis did
	run nedb-redis --raw ZRANGE board 0 -1
	assert_output "ann
cy
bob"
	run nedb-redis HGET user:1 lang
	assert_output '"C"'
	assert_determinism
}

@test "many keys import in batches of 10000, and a resync of them writes only what changed" {
	local i
	awk 'BEGIN { for (i = 0; i < 25000; i++) print "SET k" i, i }' | rcli >/dev/null
	run nedb-redis-follow --once "$URL"
	assert_success
	assert_output --partial ": 25000 keys, 25000 puts, 0 deletes, 0 raw ops (backfill)"
	# each batch of puts is committed with the state: 2 batches, and
	# the state before them that says an import is under way
	run sh -c "nedb-log | jq -c 'select(.coll == \"redis_follow\") | .doc.importing' | uniq -c | awk '{print \$1, \$2}'"
	assert_output "3 true
1 false"
	for ((i = 0; i < 10; i++)); do echo "DEL k$i"; done | rcli >/dev/null
	rcli SET k3000 changed >/dev/null
	run nedb-redis-follow --once "$URL"
	assert_success
	assert_output --partial ": 24990 keys, 1 puts, 10 deletes, 0 raw ops (resync)"
	run nedb-get redis k3000
	assert_output '{"_id":"k3000","type":"string","value":"changed"}'
	assert_determinism
}

@test "a key's time to live is kept: its expiry is Redis's, within a second" {
	rcli SET session s1 EX 1000 >/dev/null
	rcli HSET cart item 2 >/dev/null
	rcli PEXPIRE cart 500000 >/dev/null
	run nedb-redis-follow --once "$URL"
	assert_success
	local want got
	for k in session cart; do
		want=$(rcli PEXPIRETIME "$k")
		got=$(nedb-get --meta redis "$k" | jq .exp)
		[ $((want - got)) -lt 1000 ] && [ $((got - want)) -lt 1000 ] ||
			fail "$k expires at $got in nedb, $want in Redis"
	done
	run nedb-get --meta redis greeting
	assert_failure 1
}

@test "keys of other Redis databases go to redis_dbN, and other types to redis_raw" {
	rcli SET a 0 >/dev/null
	rcli -n 3 SET a 3 >/dev/null
	rcli XADD events '1-1' kind click >/dev/null
	run nedb-redis-follow --once "$URL"
	assert_success
	assert_line --index 0 --partial -- "recorded key 'events' of the snapshot as a raw op (redis_raw/0:events): type 'stream' is not in the mapping"
	run nedb-get redis a
	assert_output '{"_id":"a","type":"string","value":"0"}'
	run nedb-get redis_db3 a
	assert_output '{"_id":"a","type":"string","value":"3"}'
	# the RESTORE that recreates it, its value as DUMP gives it
	run sh -c 'nedb-get redis_raw 0:events | jq -c ".argv[0:3], (.argv[3] | keys)"'
	assert_output '["RESTORE","events","0"]
["b64"]'
	run sh -c 'nedb-get redis_follow state | jq -c "[.syncs, .unmapped, .importing]"'
	assert_output '[1,1,false]'
}

@test "a snapshot Redis writes to disk first is imported as a diskless one is" {
	local d=$BATS_TEST_TMPDIR/disk
	start_redis "$d" --repl-diskless-sync no
	SERVERS+=("$d")
	redis-cli -s "$d/redis.sock" RPUSH l a b >/dev/null
	redis-cli -s "$d/redis.sock" SET s x >/dev/null
	run nedb-redis-follow --once "unix://$d/redis.sock"
	assert_success
	run nedb-get redis l s
	assert_output '{"_id":"l","type":"list","value":["a","b"]}
{"_id":"s","type":"string","value":"x"}'
}

@test "the snapshot's temporary directory and private server are gone afterwards" {
	mkdir "$BATS_TEST_TMPDIR/tmp"
	rcli SET a 1 >/dev/null
	TMPDIR=$BATS_TEST_TMPDIR/tmp run nedb-redis-follow --once "$URL"
	assert_success
	run ls -A "$BATS_TEST_TMPDIR/tmp"
	assert_output ""
	run pgrep -f "$BATS_TEST_TMPDIR/tmp"
	assert_failure
	# a redis-server that cannot load it: one line, exit 5
	NEDB_REDIS_SERVER=/bin/false TMPDIR=$BATS_TEST_TMPDIR/tmp \
		run --separate-stderr nedb-redis-follow --once -d db2 "$URL"
	assert_failure 5
	assert_equal "$stderr" "nedb-redis-follow: cannot load the snapshot of $SOCK with /bin/false: no message"
	run ls -A "$BATS_TEST_TMPDIR/tmp"
	assert_output ""
}

@test "the database is created by the first import, and a second --once imports nothing new" {
	rcli SET a 1 >/dev/null
	[ ! -e "$NEDB_DIR" ]
	run nedb-redis-follow --once "$URL"
	assert_success
	local n
	n=$(nedb-log -n 1 | jq .seq)
	run nedb-redis-follow --once "$URL"
	assert_success
	assert_line --index 0 --partial "full resynchronization with $SOCK: --once imports a snapshot"
	assert_line --index 1 "nedb-redis-follow: imported the snapshot of $SOCK: 1 keys, 0 puts, 0 deletes, 0 raw ops (resync)"
	# only the state moved on: no op for a key
	run sh -c "nedb-log --since $((n + 1)) | jq -c '[.coll, .id]' | sort -u"
	assert_output '["redis_follow","state"]'
}

# ---- the stream -------------------------------------------------------------

@test "writes made while it follows become shadow ops with their replication offsets" {
	rcli SET counter 0 >/dev/null
	start_follower
	rcli INCR counter >/dev/null
	rcli INCR counter >/dev/null
	rcli HSET h f v >/dev/null
	rcli EXPIRE h 100 >/dev/null
	rcli DEL counter >/dev/null
	rcli ZADD z 1 a >/dev/null
	wait_doc redis z '.value == [["a",1]]'
	poll 30 caught_up
	run sh -c "nedb-log | jq -c 'select(.evidence == \"shadow\") | [.op, .id, .doc.value]'"
	assert_output '["put","counter","1"]
["put","counter","2"]
["put","h",{"f":"v"}]
["expire","h",null]
["delete","counter",null]
["put","z",[["a",1]]]'
	# offsets ascend, and the last is Redis's offset after it
	run sh -c "nedb-log | jq -s '[.[] | select(.evidence == \"shadow\") | .repl_offset] | . == sort and (. | unique | length) == 6'"
	assert_output true
	run sh -c "nedb-log | jq -s '[.[] | select(.evidence == \"shadow\")] | last | .repl_offset'"
	assert_output "$(nedb-get redis_follow state | jq .offset)"
	assert_determinism
}

@test "a MULTI/EXEC transaction and a script's effects are one atomic batch each" {
	start_follower
	printf '%s\n' MULTI 'SET a 1' 'SET b 2' 'RPUSH l x y' EXEC | rcli >/dev/null
	wait_doc redis l '.value == ["x","y"]'
	rcli EVAL "redis.call('SET','c','3'); redis.call('SADD','s','m'); return 1" 0 >/dev/null
	wait_doc redis s '.value == ["m"]'
	# each block: its ops, then the state that covers them, nothing between
	run sh -c "nedb-log | jq -c 'select(.evidence == \"shadow\" or .coll == \"redis_follow\") | [.coll, .id]' | tail -n 7"
	assert_output '["redis","a"]
["redis","b"]
["redis","l"]
["redis_follow","state"]
["redis","c"]
["redis","s"]
["redis_follow","state"]'
	# consecutive seqs: nothing else got in between
	run sh -c "nedb-log | jq -s '[.[] | select(.id == \"a\" or .id == \"b\" or .id == \"l\") | .seq] | .[2] - .[0]'"
	assert_output 2
}

@test "commands it cannot map are recorded in redis_raw and counted" {
	start_follower
	rcli XADD events '5-1' kind click >/dev/null
	rcli SET after 1 >/dev/null
	wait_doc redis after '.value == "1"'
	run sh -c "nedb-query 'FROM redis_raw' | jq -c '[.argv, .error]'"
	assert_output '[["XADD","events","5-1","kind","click"],null]'
	run sh -c 'nedb-get redis_follow state | jq .unmapped'
	assert_output 1
	run grep -c 'recorded XADD as a raw op' "$ERR"
	assert_output 1
}

@test "SELECT of another Redis database writes its collection, FLUSHALL drops them all" {
	start_follower
	rcli SET a 0 >/dev/null
	rcli -n 5 SET a 5 >/dev/null
	wait_doc redis_db5 a '.value == "5"'
	run nedb-get redis a
	assert_output '{"_id":"a","type":"string","value":"0"}'
	rcli FLUSHALL >/dev/null
	poll 30 caught_up
	run sh -c "nedb-log | jq -c 'select(.op == \"drop\") | [.coll, .evidence]'"
	assert_output '["redis","shadow"]
["redis_db5","shadow"]'
	run nedb-get --as-of 1 redis_db5 a
	assert_failure 1
	assert_determinism
}

@test "a key that expires in Redis is deleted when Redis deletes it" {
	start_follower
	rcli SET brief x PX 100 >/dev/null
	wait_doc redis_follow state '.offset > 0'
	# Redis deletes it (and replicates a DEL) on the next access
	poll 10 sh -c '[ "$(redis-cli -s '"$SOCK"' EXISTS brief)" = 0 ]'
	poll 30 caught_up
	run sh -c "nedb-log | jq -c 'select(.id == \"brief\") | [.op, .evidence]'"
	assert_output '["put","shadow"]
["delete","shadow"]'
}

# ---- stopping and resuming ---------------------------------------------------

@test "WAIT counts a write once it is committed (REPLCONF GETACK, ACK)" {
	start_follower
	run sh -c "printf 'SET w 1\nWAIT 1 10000\n' | redis-cli -s '$SOCK'"
	assert_output "OK
1"
	# no wait here: acknowledged means committed
	run nedb-get redis w
	assert_output '{"_id":"w","type":"string","value":"1"}'
}

@test "SIGTERM stops it with exit 0, everything Redis was told committed" {
	start_follower
	for i in 1 2 3 4 5; do rcli INCR n >/dev/null; done
	wait_doc redis n '.value == "5"'
	# Redis knows the replica has all of it (REPLCONF ACK)
	poll 30 sh -c "redis-cli -s '$SOCK' INFO replication | tr -d '\r' |
		awk -F'[=,:]' '/^slave0:/ { a = \$9 } /^master_repl_offset:/ { m = \$2 } END { exit a != m }'"
	stop_follower || fail "the follower exited $?"
	caught_up
	run nedb-verify
	assert_success
}

@test "a second follower of the same database is refused: exit 5, one line" {
	start_follower
	run --separate-stderr nedb-redis-follow --once "$URL"
	assert_failure 5
	assert_equal "$stderr" "nedb-redis-follow: '$NEDB_DIR' is followed already: another nedb-redis-follow holds '$NEDB_DIR/redis-follow.lock'"
	# another database is another matter
	run nedb-redis-follow --once -d "$BATS_TEST_TMPDIR/other" "$URL"
	assert_success
}

@test "a restart continues the stream (PSYNC) with no import and no op twice" {
	start_follower
	rcli SET a 1 >/dev/null
	wait_doc redis a '.value == "1"'
	stop_follower
	rcli SET a 2 >/dev/null
	rcli INCR c >/dev/null
	: >"$ERR"
	# no URL: the Redis the database follows
	URL= start_follower
	wait_doc redis c '.value == "1"'
	poll 30 caught_up
	run cat "$ERR"
	assert_output ""
	run sh -c "nedb-log | jq -c 'select(.coll == \"redis\") | [.id, .doc.value, .evidence]'"
	assert_output '["a","1","shadow"]
["a","2","shadow"]
["c","1","shadow"]'
	run sh -c 'nedb-get redis_follow state | jq .syncs'
	assert_output 1
}

@test "kill -9 and cut links lose no write and repeat none" {
	local i k
	start_follower
	for ((k = 0; k < 3; k++)); do
		for ((i = 0; i < 30; i++)); do
			rcli INCR hits >/dev/null
			rcli RPUSH log "$k.$i" >/dev/null
		done
		if ((k == 0)); then
			kill -KILL "$FPID"
			wait "$FPID" || true
			start_follower
		else
			rcli CLIENT KILL TYPE replica >/dev/null
		fi
	done
	poll 20 caught_up
	run nedb-get redis hits
	assert_output '{"_id":"hits","type":"string","value":"90"}'
	# one version per INCR, in order
	run sh -c 'nedb-get --history redis hits | jq -r .doc.value | paste -sd, -'
	assert_output "$(seq -s, 1 90)"
	run sh -c 'nedb-get redis log | jq ".value | length"'
	assert_output 90
	run sh -c 'nedb-get redis_follow state | jq .syncs'
	assert_output 1
	grep -q 'link to .* lost' "$ERR"
	assert_determinism
}

@test "a seeded writer's mixed writes through kill -9s and cut links: Redis's every key, each write once" {
	local n=3000 off
	[ -n "${NEDB_CHECK_FULL:-}" ] && n=30000
	# the fault run tests the follower's resumption, not its memory
	# (the other tests cover that under the sanitizers)
	[ "${NEDB_SUITE:-1}" = 1 ] || skip "the fault run runs in the first suite only"
	start_follower
	python3 "$BATS_TEST_DIRNAME/redis_fault.py" write "$SOCK" 16 "$n" \
		writes.json 3>&- &
	local writer=$!
	FPIDS+=("$writer")
	for fault in kill cut kill cut; do
		# some of the writes in, then the fault
		off=$(nedb-get redis_follow state | jq .offset)
		poll 20 sh -c "[ \"\$(nedb-get redis_follow state | jq .offset)\" -gt $off ] ||
			! kill -0 $writer"
		if [ "$fault" = kill ]; then
			kill -KILL "$FPID"
			wait "$FPID" || true
			start_follower
		else
			rcli CLIENT KILL TYPE replica >/dev/null
		fi
	done
	wait "$writer"
	poll 30 caught_up
	run python3 "$BATS_TEST_DIRNAME/redis_fault.py" compare "$SOCK" writes.json
	assert_success
	assert_output --regexp ' 0 differences$'
	run sh -c 'nedb-get redis_follow state | jq .syncs'
	assert_output 1
	assert_determinism
	# a backlog too small to continue: a resync, and still Redis's keys
	stop_follower
	rcli CONFIG SET repl-backlog-size 16384 >/dev/null
	python3 "$BATS_TEST_DIRNAME/redis_fault.py" write "$SOCK" 17 2000 more.json
	start_follower
	poll 30 caught_up
	grep -q 'full resynchronization' "$ERR"
	run python3 "$BATS_TEST_DIRNAME/redis_fault.py" compare "$SOCK"
	assert_success
	run sh -c "nedb-log | jq -r 'select(.evidence == \"resync\") | .evidence' | uniq"
	assert_output resync
	assert_determinism
}

@test "when Redis cannot continue, the snapshot is imported as the difference, and said" {
	local n
	rcli SET keep same >/dev/null
	rcli SET change old >/dev/null
	rcli SET drop me >/dev/null
	start_follower
	stop_follower
	n=$(nedb-log -n 1 | jq .seq)
	# more than the backlog holds: Redis answers FULLRESYNC
	rcli CONFIG SET repl-backlog-size 16384 >/dev/null
	for i in $(seq 1 300); do echo "SET filler $i$(printf 'x%.0s' {1..100})"; done | rcli >/dev/null
	rcli SET change new >/dev/null
	rcli DEL drop >/dev/null
	start_follower
	poll 10 doc_is redis_follow state '.syncs == 2'
	grep -q "full resynchronization with $SOCK: Redis cannot continue" "$ERR"
	# (the puts in SCAN's order, the deletes after them)
	run sh -c "nedb-log --since $((n + 1)) | jq -c 'select(.coll != \"redis_follow\") | [.op, .id, .evidence]' | sort"
	assert_output '["delete","drop","resync"]
["put","change","resync"]
["put","filler","resync"]'
	run nedb-get redis keep change
	assert_output '{"_id":"keep","type":"string","value":"same"}
{"_id":"change","type":"string","value":"new"}'
	assert_determinism
}

# ---- registrations ---------------------------------------------------------------

@test "--map registers key patterns as collections of their own" {
	cat >map.json <<-'EOF'
	[{"pattern":"driver:*","collection":"driver","type":"json","id":"suffix"},
	 {"pattern":"user:*","collection":"users","type":"hash"},
	 {"pattern":"flag:*","collection":"flags","type":"string","id":"key"}]
	EOF
	rcli SET driver:7 '{"name":"Ann","car":"K-1"}' >/dev/null
	rcli HSET user:1 name Bob >/dev/null
	start_follower --map map.json
	rcli SET flag:dark on >/dev/null
	rcli HSET user:1 age 40 >/dev/null
	rcli SET driver:7 '{"name":"Ann","car":"K-2"}' >/dev/null
	rcli SET other 1 >/dev/null
	rcli LPUSH user:2 x >/dev/null
	wait_doc redis other '.value == "1"'
	run nedb-get driver 7
	assert_output '{"_id":"7","name":"Ann","car":"K-2"}'
	run nedb-get users 1
	assert_output '{"_id":"1","name":"Bob","age":"40"}'
	run nedb-get flags flag:dark
	assert_output '{"_id":"flag:dark","value":"on"}'
	run nedb-query 'FROM driver WHERE car = "K-2"'
	assert_output '{"_id":"7","name":"Ann","car":"K-2"}'
	# a list where a hash is registered cannot be held: recorded raw
	run sh -c "nedb-query 'FROM redis_raw' | jq -c '[.argv, .error]'"
	assert_output '[["LPUSH","user:2","x"],"ERR key '"'"'user:2'"'"' is registered as hash in collection '"'"'users'"'"': it cannot hold a value of another type"]'
	assert_determinism
}

@test "a bad map file is one line and exit 4; a missing one exit 5; nothing is written" {
	echo '[{"pattern":"a:*","collection":"a","type":"xml"}]' >bad.json
	run --separate-stderr nedb-redis-follow --map bad.json "$URL"
	assert_failure 4
	assert_equal "$stderr" "nedb-redis-follow: bad map 'bad.json': rule 1: bad type 'xml': want json, hash or string"
	echo '[{"pattern":"a:*"' >bad.json
	run --separate-stderr nedb-redis-follow --map bad.json "$URL"
	assert_failure 4
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_equal "${stderr:0:47}" "nedb-redis-follow: bad map 'bad.json': not JSON"
	echo '[{"pattern":"a:*","collection":"redis","type":"hash"}]' >bad.json
	run -4 nedb-redis-follow --map bad.json "$URL"
	run --separate-stderr nedb-redis-follow --map nosuch.json "$URL"
	assert_failure 5
	assert_equal "${stderr:0:50}" "nedb-redis-follow: cannot open 'nosuch.json': No s"
	[ ! -e "$NEDB_DIR" ]
}

# ---- connecting ---------------------------------------------------------------

@test "AUTH: the password of the URL; a wrong one is exit 5 and writes nothing" {
	local d=$BATS_TEST_TMPDIR/secure port
	REDIS_PASS='s3 cr%t' start_redis "$d" --requirepass 's3 cr%t'
	SERVERS+=("$d")
	port=$(cat "$d/port")
	redis-cli -s "$d/redis.sock" --no-auth-warning -a 's3 cr%t' SET k v >/dev/null
	run --separate-stderr nedb-redis-follow --once "redis://:wrong@127.0.0.1:$port"
	assert_failure 5
	assert_equal "$stderr" "nedb-redis-follow: 127.0.0.1:$port: cannot authenticate: WRONGPASS invalid username-password pair or user is disabled."
	run --separate-stderr nedb-redis-follow --once "redis://127.0.0.1:$port"
	assert_failure 5
	assert_equal "$stderr" "nedb-redis-follow: 127.0.0.1:$port: refused as a replica: NOAUTH Authentication required."
	[ ! -e "$NEDB_DIR" ]
	run nedb-redis-follow --once "redis://default:s3%20cr%25t@127.0.0.1:$port"
	assert_success
	run nedb-get redis k
	assert_output '{"_id":"k","type":"string","value":"v"}'
}

@test "an unreachable Redis is exit 5 with one line, and nothing is written" {
	local port
	port=$(free_port)
	run --separate-stderr nedb-redis-follow "redis://127.0.0.1:$port"
	assert_failure 5
	assert_equal "$stderr" "nedb-redis-follow: 127.0.0.1:$port: cannot connect: Connection refused"
	run --separate-stderr nedb-redis-follow --once "unix://$BATS_TEST_TMPDIR/none.sock"
	assert_failure 5
	assert_equal "$stderr" "nedb-redis-follow: $BATS_TEST_TMPDIR/none.sock: cannot connect: No such file or directory"
	[ ! -e "$NEDB_DIR" ]
}

@test "a bad URL or option is a usage error (exit 2)" {
	run --separate-stderr nedb-redis-follow http://example.com
	assert_failure 2
	assert_equal "$stderr" "nedb-redis-follow: bad URL 'http://example.com': want redis://[USER:PASSWORD@]HOST[:PORT] or unix://[USER:PASSWORD@]PATH (see 'nedb-redis-follow --help')"
	run -2 nedb-redis-follow redis://host:99999
	run -2 nedb-redis-follow redis://host:6379/2
	run -2 nedb-redis-follow rediss://host
	run -2 nedb-redis-follow redis://a redis://b
	run -2 nedb-redis-follow --nope
	[ ! -e "$NEDB_DIR" ]
}

@test "it follows over TCP as over a unix socket" {
	URL=redis://127.0.0.1:$(cat "$RDIR/port")
	rcli SET a 1 >/dev/null
	start_follower
	rcli SET a 2 >/dev/null
	wait_doc redis a '.value == "2"'
	run sh -c 'nedb-get redis_follow state | jq -r .source'
	assert_output "127.0.0.1:$(cat "$RDIR/port")"
}

@test "--status prints the state and the lag behind Redis" {
	start_follower
	rcli SET a 1 >/dev/null
	poll 30 caught_up
	run nedb-redis-follow --status
	assert_success
	assert_output --regexp '^\{"source":"[^"]*","replid":"[0-9a-f]{40}","applied":[0-9]+,"syncs":1,"unmapped":0,"importing":false,"redis_replid":"[0-9a-f]{40}","redis_offset":[0-9]+,"lag":0\}$'
	# a database that follows nothing, and none at all
	nedb-put -q -d "$BATS_TEST_TMPDIR/other" c x '{}'
	run -1 nedb-redis-follow --status -d "$BATS_TEST_TMPDIR/other" "$URL"
	run -5 nedb-redis-follow --status -d "$BATS_TEST_TMPDIR/none" "$URL"
}
