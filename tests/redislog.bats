#!/usr/bin/env bats
# The log on a Redis Stream (SPEC §10, nedb(7) "THE LOG ON AN ENGINE"):
# a real redis-server on a free loopback port (AOF with appendfsync
# always, in a temporary directory), and a replica where a test needs
# one.  Two "machines" are two database directories on one URL.
# Creation, reads and writes, concurrent writers on both machines (every
# acknowledged op present exactly once, the chain intact, both ending at
# the same head), lost races begun again, the server down, a copy
# holding ops a promoted replica never had, export and import, kill -9
# of writers mid-batch and of Redis mid-write, WAIT for replicas,
# --follow on XREAD BLOCK, nedbd, libhiredis loaded only by such
# databases.
# Waits poll with a bound; nothing sleeps and hopes.

load helper

free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_redis DIR [ARG...]: a redis-server on a free loopback port
# (DIR/port; kept across restarts), its AOF in DIR; returns once it
# answers PING.  Its pid is in DIR/pid.
start_redis() {
	local dir=$1 port i
	shift
	mkdir -p "$dir"
	[ -s "$dir/port" ] || free_port >"$dir/port"
	port=$(cat "$dir/port")
	redis-server --port "$port" --bind 127.0.0.1 --save '' \
		--appendonly yes --appendfsync always --dir "$dir" \
		--repl-diskless-sync-delay 0 "$@" \
		>>"$dir/redis.log" 2>&1 3>&- &
	echo $! >"$dir/pid"
	for ((i = 0; i < 400; i++)); do
		redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	echo "redis-server in $dir did not start" >&2
	return 1
}

# stop_redis DIR [SIGNAL]: stops it and waits until it is gone.
stop_redis() {
	local pid i
	[ -f "$1/pid" ] || return 0
	pid=$(cat "$1/pid")
	kill "-${2:-TERM}" "$pid" 2>/dev/null || true
	for ((i = 0; i < 400; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	rm -f "$1/pid"
}

setup_file() {
	command -v redis-server >/dev/null || skip "redis-server is not installed"
	start_redis "$BATS_FILE_TMPDIR/primary"
}

teardown_file() {
	local d
	for d in "$BATS_FILE_TMPDIR"/*/; do
		stop_redis "$d" KILL
	done
}

setup_more() {
	hooks_init
	PRIMARY=$BATS_FILE_TMPDIR/primary
	PORT=$(cat "$PRIMARY/port")
	NAME=t$BATS_TEST_NUMBER
	URL=redis://127.0.0.1:$PORT/0\#$NAME
	A=$BATS_TEST_TMPDIR/a
	B=$BATS_TEST_TMPDIR/b
	SERVERS=()
}

teardown() {
	local s
	hooks_teardown
	for s in "${SERVERS[@]}"; do
		stop_redis "$s" KILL
	done
	# a test that stopped the server leaves it running for the next
	redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG ||
		start_redis "$PRIMARY" || true
}

# wait_link DIR: until the replica in DIR has synced with its primary.
wait_link() {
	local i
	for ((i = 0; i < 600; i++)); do
		redis-cli -p "$(cat "$1/port")" INFO replication |
			grep -q '^master_link_status:up' && return 0
		sleep 0.05
	done
	echo "the replica in $1 never synced" >&2
	return 1
}

rcli() {	# redis-cli on the primary
	redis-cli -p "$PORT" "$@"
}

head_of() {	# the head hash of the database in $1
	nedb-verify -d "$1" | jq -r .head
}

# The stream's lines, each "\n"-terminated, as log.aof holds them.
stream_lines() {
	/usr/bin/python3 -c '
import sys, redis
r = redis.Redis(port=int(sys.argv[1]))
for _, f in r.xrange(sys.argv[2]):
    sys.stdout.buffer.write(f[b"line"] + b"\n")' "${2:-$PORT}" "nedb:$1:oplog"
}

# ---- the backend's unit tests --------------------------------------------

@test "the unit tests of lib/log/redislog.c pass against the server" {
	local build="$BATS_TEST_DIRNAME/../${NEDB_UNIT_BUILD:-build}"
	[ "${NEDB_SUITE:-1}" = 2 ] && build="$BATS_TEST_DIRNAME/../build-san"
	if [ ! -x "$build/unit/test_redislog" ]; then
		[ -z "${NEDB_UNIT_BUILD:-}" ] || fail "test_redislog not built in $build"
		skip "unit test redislog not built"
	fi
	NEDB_TEST_REDIS_URL=redis://127.0.0.1:$PORT run "$build/unit/test_redislog"
	assert_success
	assert_line --regexp '^7 tests, 0 failed checks$'
}

# ---- creation, reads, writes --------------------------------------------

@test "a database created with --log redis:// keeps its log in a stream; reads and writes work unchanged" {
	run nedb-put -d "$A" --log "$URL" users alice '{"age":31}'
	assert_success
	assert_output --partial '"seq":1'
	run cat "$A/engine"
	assert_output "$URL"
	run nedb-put -d "$A" users bob '{"age":25}'
	assert_success
	# one entry per op, id <seq>-1, the line and its hash as fields
	run rcli XLEN "nedb:$NAME:oplog"
	assert_output 3
	run rcli --raw XRANGE "nedb:$NAME:oplog" 2-1 2-1
	assert_line --index 0 2-1
	assert_line --index 1 line
	assert_line --index 3 hash
	assert_line --index 4 "$(sed -n 3p "$A/log.aof" | jq -r .hash)"
	assert_equal "$(stream_lines "$NAME")" "$(cat "$A/log.aof")"
	run nedb-get -d "$A" users alice
	assert_output '{"_id":"alice","age":31}'
	run nedb-query -d "$A" 'FROM users WHERE age > 30'
	assert_output '{"_id":"alice","age":31}'
	run nedb-verify -d "$A" --view
	assert_success
	assert_output --partial '"ok":true,"seq":2'
}

@test "a second machine's directory starts as the stream's copy; each sees the other's writes" {
	nedb-put -d "$A" --log "$URL" users alice '{"n":1}'
	NEDB_LOG=$URL run nedb-put -d "$B" users bob '{"n":2}'
	assert_success
	assert_output --partial '"seq":2'
	run nedb-get -d "$B" users alice
	assert_output '{"_id":"alice","n":1}'
	run nedb-get -d "$A" users bob
	assert_output '{"_id":"bob","n":2}'
	assert_equal "$(head_of "$A")" "$(head_of "$B")"
	cmp "$A/log.aof" "$B/log.aof"
	# bad URLs are usage errors, and leave no database behind
	run nedb-put -d "$BATS_TEST_TMPDIR/bad" --log "redis://127.0.0.1:$PORT?wait=x#$NAME" c x '{}'
	assert_failure 2
	assert_output --partial 'unknown or bad parameter'
	[ ! -e "$BATS_TEST_TMPDIR/bad/engine" ]
}

@test "NEDB_ENGINE_STALE_MS: a copy that caught up within that bound is read as it is, without Redis" {
	nedb-put -d "$A" --log "$URL" users alice '{"n":1}'
	nedb-put -d "$B" --log "$URL" users bob '{"n":2}'
	nedb-put -d "$A" users alice '{"n":3}'
	NEDB_ENGINE_STALE_MS=86400000 run env LD_DEBUG=libs nedb-get -d "$B" users alice
	assert_success
	assert_line '{"_id":"alice","n":1}'
	refute_output --partial libhiredis
	run nedb-get -d "$B" users alice
	assert_output '{"_id":"alice","n":3}'
	touch -m -d '-2 days' "$B/engine.synced"
	nedb-put -d "$A" users alice '{"n":4}'
	NEDB_ENGINE_STALE_MS=86400000 run nedb-get -d "$B" users alice
	assert_output '{"_id":"alice","n":4}'
}

# ---- many writers on two machines -----------------------------------------

# writers DIR TAG N M: N processes each putting M documents into DIR,
# their receipts (acknowledged ops) in $BATS_TEST_TMPDIR/acked.TAG.*
writers() {
	local dir=$1 tag=$2 n=$3 m=$4 i
	for ((i = 0; i < n; i++)); do
		(
			local j
			for ((j = 0; j < m; j++)); do
				nedb-put -d "$dir" w "$tag-$i-$j" "{\"w\":\"$tag\"}" \
					2>>"$BATS_TEST_TMPDIR/errors" || true
			done >"$BATS_TEST_TMPDIR/acked.$tag.$i"
		) &
		PIDS+=($!)
	done
}

# retrying_writers DIR TAG N M: as writers, but each put is tried again
# (with its idempotency key) until it is acknowledged, for up to ~30 s
retrying_writers() {
	local dir=$1 tag=$2 n=$3 m=$4 i
	for ((i = 0; i < n; i++)); do
		(
			local j k
			for ((j = 0; j < m; j++)); do
				for ((k = 0; k < 600; k++)); do
					nedb-put -d "$dir" --idem "$tag-$i-$j" w "$tag-$i-$j" \
						"{\"w\":\"$tag\"}" 2>/dev/null && break
					sleep 0.05
				done
			done >"$BATS_TEST_TMPDIR/acked.$tag.$i"
		) &
		PIDS+=($!)
	done
}

# Every acknowledged op is in both copies and in the stream exactly
# once, at the seq and with the hash its receipt said; both copies are
# whole and end at the same head, the stream's.
check_acked() {
	local n
	nedb-verify -d "$A" >/dev/null
	nedb-verify -d "$B" >/dev/null
	run nedb-verify -d "$A"
	assert_success
	run nedb-verify -d "$B"
	assert_success
	assert_equal "$(head_of "$A")" "$(head_of "$B")"
	cmp "$A/log.aof" "$B/log.aof"
	nedb-log --export -d "$A" >"$BATS_TEST_TMPDIR/exported"
	cat "$BATS_TEST_TMPDIR"/acked.* | jq -c '[.seq, .hash, .id]' | sort \
		>"$BATS_TEST_TMPDIR/acked"
	jq -c 'select(.op == "put") | [.seq, .hash, .id]' \
		"$BATS_TEST_TMPDIR/exported" | sort >"$BATS_TEST_TMPDIR/present"
	run comm -23 "$BATS_TEST_TMPDIR/acked" "$BATS_TEST_TMPDIR/present"
	assert_output ''
	run bash -c "jq -r 'select(.op == \"put\") | .id' '$BATS_TEST_TMPDIR/exported' | sort | uniq -d"
	assert_output ''
	n=$(wc -l <"$BATS_TEST_TMPDIR/exported")
	run rcli XLEN "nedb:$NAME:oplog"
	assert_output "$n"
	run rcli --raw XREVRANGE "nedb:$NAME:oplog" + - COUNT 1
	assert_line --index 0 "$((n - 1))-1"
	assert_equal "$(stream_lines "$NAME")" "$(cat "$A/log.aof")"
}

@test "two machines writing at once: every acknowledged op present exactly once, the chain intact, the same head" {
	nedb-put -d "$A" --log "$URL" w seed '{}' >"$BATS_TEST_TMPDIR/acked.seed"
	nedb-put -d "$B" --log "$URL" w seed2 '{}' >"$BATS_TEST_TMPDIR/acked.seed2"
	writers "$A" a 4 12
	writers "$B" b 4 12
	wait "${PIDS[@]}"
	PIDS=()
	run cat "$BATS_TEST_TMPDIR/errors"
	assert_output ''
	check_acked
	run bash -c "cat '$BATS_TEST_TMPDIR'/acked.[ab].* | wc -l"
	assert_output 96
}

@test "writers that take no lock lose races to the script, begin again, and still fork nothing" {
	nedb-put -d "$A" --log "$URL" w seed '{}' >"$BATS_TEST_TMPDIR/acked.seed"
	nedb-put -d "$B" --log "$URL" w seed2 '{}' >"$BATS_TEST_TMPDIR/acked.seed2"
	# A staged seq 3 and stops before its script; B appends seq 3
	# first; A's script then finds the stream past it: A begins again
	NEDB_TEST_FAIL=engine-lock NEDB_TEST_DIR=$HOOKS \
	NEDB_TEST_PAUSE=engine-commit \
		nedb-put -d "$A" w first '{}' >"$BATS_TEST_TMPDIR/acked.first" &
	PIDS+=($!)
	wait_reached engine-commit
	NEDB_TEST_FAIL=engine-lock \
		nedb-put -d "$B" w second '{}' >"$BATS_TEST_TMPDIR/acked.second"
	touch "$HOOKS/engine-commit.go"
	wait "${PIDS[0]}"
	run jq .seq "$BATS_TEST_TMPDIR/acked.second"
	assert_output 3
	run jq .seq "$BATS_TEST_TMPDIR/acked.first"
	assert_output 4
	# and many of them at once
	PIDS=()
	NEDB_TEST_FAIL=engine-lock writers "$A" a 3 8
	NEDB_TEST_FAIL=engine-lock writers "$B" b 3 8
	wait "${PIDS[@]}"
	PIDS=()
	check_acked
}

# ---- failures ------------------------------------------------------------

@test "Redis down: exit 5 with a clear message, nothing acknowledged; the next command works once it is back" {
	nedb-put -d "$A" --log "$URL" users alice '{}'
	stop_redis "$PRIMARY"
	run nedb-put -d "$A" users bob '{}'
	assert_failure 5
	assert_output "nedb-put: the log engine redis://127.0.0.1:$PORT/0#$NAME cannot be reached: Connection refused"
	run nedb-get -d "$A" users alice
	assert_failure 5
	assert_output --partial 'cannot be reached'
	run grep -c bob "$A/log.aof"
	assert_output 0
	start_redis "$PRIMARY"
	run nedb-get -d "$A" users bob
	assert_failure 1
	run nedb-put -d "$A" users bob '{}'
	assert_success
	assert_output --partial '"seq":2'
	run nedb-verify -d "$A"
	assert_success
	# a password is not shown
	run nedb-put -d "$B" --log "redis://nedb:s3cret@127.0.0.1:1#$NAME" c x '{}'
	assert_failure 5
	assert_output --partial 'nedb:***@127.0.0.1:1'
	refute_output --partial s3cret
}

@test "a copy holding ops a promoted replica never had refuses to go on, naming the seqs; so after FLUSHALL" {
	local r=$BATS_TEST_TMPDIR/replica rport
	start_redis "$r" --replicaof 127.0.0.1 "$PORT"
	SERVERS+=("$r")
	wait_link "$r"
	rport=$(cat "$r/port")
	# acknowledged once the replica has them
	nedb-put -d "$A" --log "redis://127.0.0.1:$PORT?wait=1&wait_ms=30000#$NAME" users a '{}'
	nedb-put -d "$A" users b '{}'
	# the replica is promoted (as a failover would); the old primary
	# acknowledges one more op (wait=1 no longer holds: exit 5) ...
	redis-cli -p "$rport" REPLICAOF NO ONE >/dev/null
	echo "redis://127.0.0.1:$PORT#$NAME" >"$A/engine"
	nedb-put -d "$A" users c '{}'
	# ... and the application moves to the new primary
	echo "redis://127.0.0.1:$rport#$NAME" >"$A/engine"
	run nedb-get -d "$A" users a
	assert_failure 5
	assert_output --partial 'holds seqs 3 to 3, which the log engine redis://127.0.0.1:'"$rport"
	run nedb-put -d "$A" users d '{}'
	assert_failure 5
	assert_output --partial 'holds seqs 3 to 3'
	run nedb-verify -d "$A"
	assert_failure 1
	assert_output --regexp '^\{"ok":false,"seq":3,"error":".*lacks'
	# another machine went on from seq 2 on the new primary: a fork
	# the copy refuses, naming where
	NEDB_LOG=redis://127.0.0.1:$rport\#$NAME nedb-put -d "$B" users other '{}'
	run nedb-get -d "$A" users a
	assert_failure 5
	assert_output --partial 'differ from seq 3 on'
	# an engine that lost everything
	echo "$URL" >"$A/engine"
	rcli FLUSHALL >/dev/null
	run nedb-get -d "$A" users a
	assert_failure 5
	assert_output --partial 'holds seqs 0 to 3, which the log engine'
}

@test "WAIT for replicas: a write is acknowledged once the replica has it; without it exit 5, caught up later" {
	local r=$BATS_TEST_TMPDIR/replica u
	start_redis "$r" --replicaof 127.0.0.1 "$PORT"
	SERVERS+=("$r")
	wait_link "$r"
	u="redis://127.0.0.1:$PORT?wait=1&wait_ms=2000#$NAME"
	run nedb-put -d "$A" --log "$u" users a '{}'
	assert_success
	run redis-cli -p "$(cat "$r/port")" XLEN "nedb:$NAME:oplog"
	assert_output 2
	stop_redis "$r" KILL
	run nedb-put -d "$A" users b '{}'
	assert_failure 5
	assert_output --partial '0 of 1 replicas had the write after 2000 ms'
	# on the primary all the same: the next command catches up with it
	run nedb-get -d "$A" users b
	assert_success
	run nedb-verify -d "$A"
	assert_success
}

@test "kill -9 of a writer mid-batch: before the script nothing stays (its lock freed at once), after it the ops are caught up" {
	nedb-put -d "$A" --log "$URL" w seed '{}'
	nedb-put -d "$B" --log "$URL" w seed2 '{}'
	seq 1 50 | jq -c '{_id: "k\(.)", n: .}' >"$BATS_TEST_TMPDIR/docs"
	NEDB_TEST_DIR=$HOOKS NEDB_TEST_PAUSE=engine-commit \
		nedb-put -d "$A" w <"$BATS_TEST_TMPDIR/docs" >/dev/null &
	local p=$!
	PIDS+=($p)
	wait_reached engine-commit
	run rcli EXISTS "nedb:$NAME:lock"
	assert_output 1
	kill -9 "$p"
	wait "$p" || true
	# the dead writer's lock does not hold B back
	run nedb-put -d "$B" w after1 '{}'
	assert_success
	assert_output --partial '"seq":3'
	run nedb-get -d "$A" w k1
	assert_failure 1
	rm -f "$HOOKS"/*
	NEDB_TEST_DIR=$HOOKS NEDB_TEST_PAUSE=engine-committed \
		nedb-put -d "$A" w <"$BATS_TEST_TMPDIR/docs" >/dev/null &
	p=$!
	PIDS+=($p)
	wait_reached engine-committed
	kill -9 "$p"
	wait "$p" || true
	run nedb-get -d "$A" w k50
	assert_success
	run nedb-get -d "$B" w k50
	assert_success
	seq 51 20000 | jq -c '{_id: "k\(.)", n: .}' | nedb-put -d "$A" w \
		>"$BATS_TEST_TMPDIR/acked.bulk" &
	p=$!
	PIDS+=($p)
	for ((i = 0; i < 400; i++)); do
		[ -s "$BATS_TEST_TMPDIR/acked.bulk" ] && break
		sleep 0.01
	done
	kill -9 "$p" 2>/dev/null || true
	wait "$p" || true
	writers "$B" b 2 5
	wait "${PIDS[@]}" 2>/dev/null || true
	PIDS=()
	nedb-get -d "$A" w seed >/dev/null
	check_acked
}

@test "kill -9 of Redis mid-write (AOF, appendfsync always): no acknowledged op lost, none twice" {
	[ "${NEDB_SUITE:-1}" = 1 ] || skip "the Redis kill round runs in suite 1"
	nedb-put -d "$A" --log "$URL" w seed '{}' >"$BATS_TEST_TMPDIR/acked.seed"
	nedb-put -d "$B" --log "$URL" w seed2 '{}' >"$BATS_TEST_TMPDIR/acked.seed2"
	retrying_writers "$A" a 2 10
	retrying_writers "$B" b 2 10
	for ((i = 0; i < 400; i++)); do
		[ "$(cat "$BATS_TEST_TMPDIR"/acked.[ab].* | wc -l)" -ge 6 ] && break
		sleep 0.01
	done
	stop_redis "$PRIMARY" KILL
	start_redis "$PRIMARY"
	wait "${PIDS[@]}"
	PIDS=()
	check_acked
	run bash -c "cat '$BATS_TEST_TMPDIR'/acked.[ab].* | wc -l"
	assert_output 40
}

# ---- moving a database ---------------------------------------------------

@test "export and import move a database onto the stream and back; the head hash does not change" {
	local f=$BATS_TEST_TMPDIR/file back=$BATS_TEST_TMPDIR/back h
	nedb-put -d "$f" users alice '{"n":1}'
	nedb-link -d "$f" users:alice knows users:bob
	printf '{"_id":"u%d","n":%d}\n' 1 1 2 2 3 3 | nedb-put -q -d "$f" users
	nedb-checkpoint -d "$f" >/dev/null
	h=$(head_of "$f")
	nedb-log --export -d "$f" >"$BATS_TEST_TMPDIR/lines"
	run nedb-log --import -d "$A" --log "$URL" <"$BATS_TEST_TMPDIR/lines"
	assert_success
	assert_output "{\"seq\":$(nedb-stats -d "$f" | jq .seq),\"head\":\"$h\"}"
	assert_equal "$(stream_lines "$NAME")" "$(cat "$BATS_TEST_TMPDIR/lines")"
	nedb-put -d "$B" --log "$URL" users carol '{}'
	h=$(head_of "$B")
	nedb-log --export -d "$A" | nedb-log --import -d "$back"
	assert_equal "$(head_of "$back")" "$h"
	[ ! -e "$back/engine" ]
	run nedb-get -d "$back" users carol
	assert_success
	# a broken line stops the import; nothing is left, on disk or in Redis
	run bash -c "sed '3s/alice/alicf/' '$BATS_TEST_TMPDIR/lines' | nedb-log --import -d '$BATS_TEST_TMPDIR/bad' --log '${URL}x'"
	assert_failure 4
	assert_output --partial 'line 3'
	[ ! -e "$BATS_TEST_TMPDIR/bad" ]
	run rcli EXISTS "nedb:${NAME}x:oplog"
	assert_output 0
	run nedb-log --import -d "$BATS_TEST_TMPDIR/again" --log "$URL" <"$BATS_TEST_TMPDIR/lines"
	assert_failure 2
	assert_output --partial 'already holds'
}

# ---- following, loading ---------------------------------------------------

@test "nedb-log --follow on one machine wakes on the other's writes (XREAD BLOCK)" {
	nedb-put -d "$A" --log "$URL" users alice '{}'
	nedb-put -d "$B" --log "$URL" users bob '{}'
	nedb-log -d "$B" --follow --since 3 >"$BATS_TEST_TMPDIR/followed" &
	PIDS+=($!)
	# the follower blocks in XREAD on the stream
	for ((i = 0; i < 400; i++)); do
		rcli CLIENT LIST | grep -q 'cmd=xread' && break
		sleep 0.02
	done
	nedb-put -d "$A" users carol '{}'
	nedb-put -d "$A" users dave '{}'
	for ((i = 0; i < 400; i++)); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/followed")" -ge 2 ] && break
		sleep 0.02
	done
	run jq -r .id "$BATS_TEST_TMPDIR/followed"
	assert_output $'carol\ndave'
}

@test "nedbd serves a database whose log is on Redis: its writes reach the other machine, the other's reach its reads" {
	local data=$BATS_TEST_TMPDIR/data port pid i
	mkdir -p "$data"
	nedb-put -d "$data/shop" --log "$URL" users alice '{"n":1}'
	NEDBD_HOST=127.0.0.1 NEDBD_PORT=0 NEDBD_RESP2_PORT=0 NEDBD_DATA=$data \
		nedbd 3>&- 2>"$BATS_TEST_TMPDIR/nedbd.err" &
	pid=$!
	PIDS+=($pid)
	for ((i = 0; i < 200; i++)); do
		# (the file appears once the shell has forked nedbd)
		port=$(sed -n 's|.*http://[^ ]*:\([0-9]*\).*|\1|p' \
			"$BATS_TEST_TMPDIR/nedbd.err" 2>/dev/null || true)
		[ -n "$port" ] && curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
		sleep 0.05
	done
	run curl -sf -H 'Content-Type: application/json' \
		"http://127.0.0.1:$port/v1/databases/shop/put" \
		-d '{"coll":"users","id":"bob","doc":{"n":2}}'
	assert_success
	assert_output --partial '"seq":2'
	nedb-put -d "$B" --log "$URL" users carol '{"n":3}'
	run nedb-get -d "$B" users bob
	assert_output '{"_id":"bob","n":2}'
	run curl -sf -H 'Content-Type: application/json' \
		"http://127.0.0.1:$port/v1/databases/shop/query" \
		-d '{"nql":"FROM users WHERE n >= 2 ORDER BY n"}'
	assert_success
	assert_output --partial '"rows":[{"_id":"bob","n":2},{"_id":"carol","n":3}]'
	kill -TERM "$pid"
	wait "$pid"
	run nedb-verify -d "$data/shop"
	assert_success
	assert_equal "$(head_of "$data/shop")" "$(head_of "$B")"
}

@test "libhiredis is loaded only by a database whose log is on Redis" {
	nedb-put -d "$A" --log "$URL" users alice '{}'
	nedb-put -d "$B" users alice '{}'
	run env LD_DEBUG=libs nedb-get -d "$B" users alice
	assert_success
	refute_output --partial libhiredis
	run env LD_DEBUG=libs nedb-get -d "$A" users alice
	assert_success
	assert_output --partial libhiredis.so.0.14
	ldd "$(command -v nedb-get)" | { ! grep -q hiredis; }
}
