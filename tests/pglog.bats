#!/usr/bin/env bats
# The log on PostgreSQL (SPEC §10, nedb(7) "THE LOG ON AN ENGINE"): a
# real PostgreSQL on loopback (tests/pg.sh: initdb and pg_ctl as an
# unprivileged user, a free port, the socket in a temporary directory).
# Two "machines" are two database directories on one URL.  Creation,
# reads and writes, concurrent writers on both machines (every
# acknowledged op present exactly once, the chain intact, both ending at
# the same head), lost seqs begun again, the engine down, export and
# import, verify against the engine, kill -9 of writers mid-batch,
# --follow on NOTIFY, libpq loaded only by such databases, and the
# failover of a primary to its synchronous standby.  Waits poll with a
# bound; nothing sleeps and hopes.

load helper

PG=$BATS_TEST_DIRNAME/pg.sh

setup_file() {
	command -v psql >/dev/null && ls /usr/lib/postgresql/*/bin/initdb \
		>/dev/null 2>&1 || skip "PostgreSQL is not installed"
	PGROOT=$(mktemp -d /tmp/nedb-pg.XXXXXX)
	chmod 0755 "$PGROOT"
	export PGROOT
	"$PG" start "$PGROOT/primary"
}

teardown_file() {
	[ -n "${PGROOT:-}" ] || return 0
	local d
	for d in "$PGROOT"/*/; do
		"$PG" stop "$d" 2>/dev/null || true
	done
	rm -rf "$PGROOT"
}

setup_more() {
	hooks_init
	PRIMARY=$PGROOT/primary
	NAME=t$BATS_TEST_NUMBER
	URL=$(cat "$PRIMARY/url")\#$NAME
	A=$BATS_TEST_TMPDIR/a
	B=$BATS_TEST_TMPDIR/b
}

teardown() {
	hooks_teardown
	# a test that stopped the server leaves it running for the next
	"$PG" psql "$PRIMARY" -c 'SELECT 1' >/dev/null 2>&1 ||
		"$PG" restart "$PRIMARY" || true
}

sql() {	# the one value of a query on the primary
	"$PG" psql "$PRIMARY" -At -c "$1"
}

head_of() {	# the head hash of the database in $1
	nedb-verify -d "$1" | jq -r .head
}

# ---- the backend's unit tests --------------------------------------------

@test "the unit tests of lib/log/pglog.c pass against the server" {
	local build="$BATS_TEST_DIRNAME/../${NEDB_UNIT_BUILD:-build}"
	[ "${NEDB_SUITE:-1}" = 2 ] && build="$BATS_TEST_DIRNAME/../build-san"
	if [ ! -x "$build/unit/test_pglog" ]; then
		[ -z "${NEDB_UNIT_BUILD:-}" ] || fail "test_pglog not built in $build"
		skip "unit test pglog not built"
	fi
	NEDB_TEST_PG_URL=$(cat "$PRIMARY/url") run "$build/unit/test_pglog"
	assert_success
	assert_line --regexp '^5 tests, 0 failed checks$'
}

# ---- creation, reads, writes --------------------------------------------

@test "a database created with --log keeps its log on PostgreSQL; reads and writes work unchanged" {
	run nedb-put -d "$A" --log "$URL" users alice '{"age":31}'
	assert_success
	assert_output --partial '"seq":1'
	# the URL is recorded in the directory, and is not needed again
	run cat "$A/engine"
	assert_output "$URL"
	run nedb-put -d "$A" users bob '{"age":25}'
	assert_success
	run sql "SELECT count(*) FROM nedb_$NAME"
	assert_output 3
	# the engine holds the lines exactly as log.aof does
	run sql "SELECT string_agg(convert_from(line, 'UTF8') || chr(10), '' ORDER BY seq) FROM nedb_$NAME"
	assert_output "$(cat "$A/log.aof")"
	run nedb-get -d "$A" users alice
	assert_output '{"_id":"alice","age":31}'
	run nedb-query -d "$A" 'FROM users WHERE age > 30'
	assert_output '{"_id":"alice","age":31}'
	run nedb-verify -d "$A" --view
	assert_success
	assert_output --partial '"ok":true,"seq":2'
}

@test "NEDB_LOG names the engine; the URL's fragment names the database, else the directory's name" {
	local dir=$BATS_TEST_TMPDIR/shop_$NAME
	NEDB_LOG=$(cat "$PRIMARY/url") run nedb-put -d "$dir" c x '{}'
	assert_success
	run sql "SELECT count(*) FROM nedb_shop_$NAME"
	assert_output 2
	# an existing database keeps its own log: the variable is ignored
	NEDB_LOG=$URL run nedb-put -d "$A" c x '{}'
	NEDB_LOG=$URL run nedb-put -d "$dir" c y '{}'
	assert_success
	run sql "SELECT count(*) FROM nedb_shop_$NAME"
	assert_output 3
	# bad URLs are usage errors, and leave no database behind
	run nedb-put -d "$BATS_TEST_TMPDIR/bad" --log 'mysql://h/db' c x '{}'
	assert_failure
	assert_output --partial 'bad log URL'
	run nedb-put -d "$BATS_TEST_TMPDIR/bad2" --log "$(cat "$PRIMARY/url")#no/such" c x '{}'
	assert_failure
	assert_output --partial '[A-Za-z0-9_-]'
}

@test "a second machine's directory starts as the engine's copy and sees the first one's writes" {
	nedb-put -d "$A" --log "$URL" users alice '{"n":1}'
	run nedb-put -d "$B" --log "$URL" users bob '{"n":2}'
	assert_success
	assert_output --partial '"seq":2'
	run nedb-get -d "$B" users alice
	assert_output '{"_id":"alice","n":1}'
	# a reader catches up before it reads
	run nedb-get -d "$A" users bob
	assert_output '{"_id":"bob","n":2}'
	assert_equal "$(head_of "$A")" "$(head_of "$B")"
	cmp "$A/log.aof" "$B/log.aof"
}

@test "NEDB_ENGINE_STALE_MS: a copy that caught up within that bound is read as it is, without the engine" {
	nedb-put -d "$A" --log "$URL" users alice '{"n":1}'
	nedb-put -d "$B" --log "$URL" users bob '{"n":2}'
	run nedb-get -d "$B" users alice	# catches up: the record is now
	assert_output '{"_id":"alice","n":1}'
	nedb-put -d "$A" users alice '{"n":3}'
	# within a day of B's last catch-up: B's copy as it is, and libpq
	# never loaded (no connection)
	NEDB_ENGINE_STALE_MS=86400000 run env LD_DEBUG=libs nedb-get -d "$B" users alice
	assert_success
	assert_line '{"_id":"alice","n":1}'
	refute_output --partial libpq
	# unset or 0: every op acknowledged before the command started
	NEDB_ENGINE_STALE_MS=0 run nedb-get -d "$B" users alice
	assert_output '{"_id":"alice","n":3}'
	nedb-put -d "$A" users alice '{"n":4}'
	# a write catches up under the lock whatever the bound says
	NEDB_ENGINE_STALE_MS=86400000 run nedb-put -d "$B" --if-seq 4 users alice '{"n":5}'
	assert_success
	assert_output --partial '"seq":5'
	# a record older than the bound, or from the future (the clock went
	# back), is not trusted
	nedb-put -d "$A" users alice '{"n":7}'
	touch -m -d '-2 days' "$B/engine.synced"
	NEDB_ENGINE_STALE_MS=86400000 run nedb-get -d "$B" users alice
	assert_output '{"_id":"alice","n":7}'
	nedb-put -d "$A" users alice '{"n":8}'
	touch -m -d '+1 hour' "$B/engine.synced"
	NEDB_ENGINE_STALE_MS=86400000 run nedb-get -d "$B" users alice
	assert_output '{"_id":"alice","n":8}'
	# nor is an edit of the URL (the directory pointed at a promoted
	# standby): the record is a file of its own
	nedb-put -d "$A" users alice '{"n":9}'
	touch -m -d '-2 days' "$B/engine.synced"
	echo "$URL" >"$B/engine"
	NEDB_ENGINE_STALE_MS=86400000 run nedb-get -d "$B" users alice
	assert_output '{"_id":"alice","n":9}'
	NEDB_ENGINE_STALE_MS=soon run nedb-get -d "$B" users alice
	assert_failure 2
	assert_output 'nedb-get: bad NEDB_ENGINE_STALE_MS '"'soon'"': want milliseconds, 0 to 86400000'
	assert_equal "$(head_of "$A")" "$(head_of "$B")"
}

@test "nonces, idempotency keys and --if-seq are checked against the engine's head" {
	nedb-put -d "$A" --log "$URL" users x '{"v":1}'
	nedb-put -d "$B" --log "$URL" users y '{}'
	# B saw A's write of x (seq 1): --if-seq holds for it
	run nedb-put -d "$B" --if-seq 1 users x '{"v":2}'
	assert_success
	# A's view of x is stale until it catches up, which it does first
	run nedb-put -d "$A" --if-seq 1 users x '{"v":3}'
	assert_failure 3
	run nedb-put -d "$A" --client app --nonce 7 users z '{}'
	assert_success
	run nedb-put -d "$B" --client app --nonce 7 users z '{}'
	assert_failure 3
	run nedb-put -d "$A" --idem k1 users i '{"first":true}'
	assert_success
	local first=$output
	run nedb-put -d "$B" --idem k1 users i '{"first":false}'
	assert_success
	assert_output "$first"
	run nedb-get -d "$B" users i
	assert_output '{"_id":"i","first":true}'
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
# (with its idempotency key: a commit whose answer was lost is not made
# twice) until it is acknowledged, for up to ~20 s
retrying_writers() {
	local dir=$1 tag=$2 n=$3 m=$4 i
	for ((i = 0; i < n; i++)); do
		(
			local j k
			for ((j = 0; j < m; j++)); do
				for ((k = 0; k < 400; k++)); do
					nedb-put -d "$dir" --idem "$tag-$i-$j" w "$tag-$i-$j" \
						"{\"w\":\"$tag\"}" 2>/dev/null && break
					sleep 0.05
				done
			done >"$BATS_TEST_TMPDIR/acked.$tag.$i"
		) &
		PIDS+=($!)
	done
}

# Every acknowledged op is in both copies and on the engine exactly
# once, at the seq and with the hash its receipt said; both copies are
# whole and end at the same head, the engine's.
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
	# every acknowledged op is present, at its seq, with its hash
	run comm -23 "$BATS_TEST_TMPDIR/acked" "$BATS_TEST_TMPDIR/present"
	assert_output ''
	# and no id was written twice
	run bash -c "jq -r 'select(.op == \"put\") | .id' '$BATS_TEST_TMPDIR/exported' | sort | uniq -d"
	assert_output ''
	n=$(wc -l <"$BATS_TEST_TMPDIR/exported")
	run sql "SELECT count(*), max(seq) FROM nedb_$NAME"
	assert_output "$n|$((n - 1))"
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

@test "writers that do not take the engine's lock lose seqs, begin again, and still fork nothing" {
	nedb-put -d "$A" --log "$URL" w seed '{}' >"$BATS_TEST_TMPDIR/acked.seed"
	nedb-put -d "$B" --log "$URL" w seed2 '{}' >"$BATS_TEST_TMPDIR/acked.seed2"
	# A stops before its commit (its INSERT is sent with the COMMIT, in
	# one round trip); B, which takes no lock either, wins seq 3; A's
	# insert then finds seq 3 taken: it begins again, at seq 4
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
	NEDB_TEST_FAIL=engine-lock writers "$A" a 3 8
	NEDB_TEST_FAIL=engine-lock writers "$B" b 3 8
	wait "${PIDS[@]}"
	PIDS=()
	check_acked
}

# ---- failures ------------------------------------------------------------

# lose_seq K CMD...: CMD, run on A taking no lock, stops before its
# commit; a put on B, taking no lock either, wins the seq (its receipt
# in won.K); CMD then finds the seq taken, begins again through
# nedb_write_run and ends (its output in out.K, its status in rc.K).
lose_seq() {
	local k=$1 h=$HOOKS/$1 pid
	shift
	mkdir -p "$h"
	( rc=0
	  NEDB_TEST_FAIL=engine-lock NEDB_TEST_DIR=$h \
		NEDB_TEST_PAUSE=engine-commit "$@" >"$BATS_TEST_TMPDIR/out.$k" 2>&1 ||
		rc=$?
	  echo $rc >"$BATS_TEST_TMPDIR/rc.$k" ) &
	pid=$!
	PIDS+=($pid)
	HOOKS=$h wait_reached engine-commit
	NEDB_TEST_FAIL=engine-lock nedb-put -d "$B" w "won_$k" '{}' \
		>"$BATS_TEST_TMPDIR/won.$k"
	touch "$h/engine-commit.go"
	wait "$pid"
}

@test "every writer begins again after a lost seq, checked anew: delete, link, update, put --if-seq, --nonce" {
	nedb-put -d "$A" --log "$URL" w d1 '{"n":1}'
	nedb-put -d "$A" w u1 '{"n":1}'
	nedb-put -d "$B" --log "$URL" w x '{}'
	local k won
	lose_seq del nedb-delete -d "$A" w d1
	lose_seq link nedb-link -d "$A" w:u1 knows w:x
	lose_seq upd nedb-update -d "$A" w '{"_id":"u1"}' '{"$inc":{"n":1}}'
	lose_seq ifseq nedb-put -d "$A" --if-seq 3 w x '{"v":2}'
	lose_seq nonce nedb-put -d "$A" --client c --nonce 7 w y '{}'
	# a stream's batch is staged again whole, every document after
	# the seq it lost, with the client's nonces in the same order
	lose_seq bulk sh -c 'printf "%s\n" "{\"_id\":\"s1\"}" "{\"_id\":\"s2\"}" "{\"_id\":\"s3\"}" |
		nedb-put -d "$1" --client b --nonce 5 w' sh "$A"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc.bulk")" 0
	won=$(jq .seq "$BATS_TEST_TMPDIR/won.bulk")
	run jq -c '[.seq, .id]' "$BATS_TEST_TMPDIR/out.bulk"
	assert_output "[$((won + 1)),\"s1\"]
[$((won + 2)),\"s2\"]
[$((won + 3)),\"s3\"]"
	run nedb-log -d "$B" --since $((won + 1)) --until $((won + 3))
	assert_equal "$(jq -c '[.client, .nonce]' <<<"$output" | paste -sd' ')" \
		'["b",5] ["b",6] ["b",7]'
	for k in del link upd ifseq nonce; do
		assert_equal "$(cat "$BATS_TEST_TMPDIR/rc.$k")" 0
		# its op is the one after the seq it lost
		won=$(jq .seq "$BATS_TEST_TMPDIR/won.$k")
		assert_equal "$(jq .seq "$BATS_TEST_TMPDIR/out.$k")" $((won + 1))
	done
	run nedb-get -d "$B" w u1
	assert_output '{"_id":"u1","n":2}'
	run nedb-get -d "$B" w d1
	assert_failure 1
	run nedb-link -d "$B" --out w:u1 knows
	assert_output '"w:x"'
	# checked anew: the document --if-seq says is absent was written by
	# the winner meanwhile, so the put that lost its seq is refused,
	# and nothing of it is written
	lose_seq moved nedb-put -d "$A" --if-seq 0 w won_moved '{"v":3}'
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc.moved")" 3
	run cat "$BATS_TEST_TMPDIR/out.moved"
	assert_output --partial "precondition failed: 'w/won_moved' is at seq"
	run nedb-get -d "$B" w won_moved
	assert_output '{"_id":"won_moved"}'
	# a nonce is checked anew too: the same client's nonce, used by
	# the winner, is stale for the loser
	mkdir -p "$HOOKS/stale"
	( rc=0
	  NEDB_TEST_FAIL=engine-lock NEDB_TEST_DIR=$HOOKS/stale \
		NEDB_TEST_PAUSE=engine-commit nedb-put -d "$A" --client c --nonce 9 w z '{}' \
		>"$BATS_TEST_TMPDIR/out.stale" 2>&1 || rc=$?
	  echo $rc >"$BATS_TEST_TMPDIR/rc.stale" ) &
	PIDS+=($!)
	HOOKS=$HOOKS/stale wait_reached engine-commit
	NEDB_TEST_FAIL=engine-lock nedb-put -d "$B" --client c --nonce 9 w zz '{}'
	touch "$HOOKS/stale/engine-commit.go"
	wait "${PIDS[-1]}"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc.stale")" 3
	run nedb-get -d "$B" w z
	assert_failure 1
	nedb-verify -d "$A" >/dev/null
	nedb-verify -d "$B" >/dev/null
	assert_equal "$(head_of "$A")" "$(head_of "$B")"
}

@test "the engine down: exit 5 with a clear message, nothing acknowledged; the next command works once it is back" {
	nedb-put -d "$A" --log "$URL" users alice '{}'
	"$PG" stop "$PRIMARY"
	run nedb-put -d "$A" users bob '{}'
	assert_failure 5
	assert_output --regexp "^nedb-put: the log engine postgresql://.*#$NAME cannot be reached: "
	[ "${#lines[@]}" -eq 1 ]
	run nedb-get -d "$A" users alice
	assert_failure 5
	assert_output --partial 'cannot be reached'
	# nothing of the failed write went anywhere
	run grep -c bob "$A/log.aof"
	assert_output 0
	"$PG" restart "$PRIMARY"
	run nedb-get -d "$A" users bob
	assert_failure 1
	run nedb-put -d "$A" users bob '{}'
	assert_success
	assert_output --partial '"seq":2'
	run nedb-verify -d "$A"
	assert_success
}

@test "a password in the URL is not shown in messages" {
	local port
	port=$(cat "$PRIMARY/port")
	run nedb-put -d "$A" --log "postgresql://nedb:s3cret@127.0.0.1:1/postgres#$NAME" c x '{}'
	assert_failure 5
	assert_output --partial 'nedb:***@127.0.0.1:1'
	refute_output --partial s3cret
}

@test "a copy holding ops the engine lost refuses to go on, naming the seqs; nedb-verify names the first that differs" {
	nedb-put -d "$A" --log "$URL" users a '{}'
	nedb-put -d "$A" users b '{}'
	nedb-put -d "$A" users c '{}'
	# the engine loses seq 3 (as a failover to an unsynced standby would)
	sql "DELETE FROM nedb_$NAME WHERE seq = 3"
	run nedb-get -d "$A" users a
	assert_failure 5
	assert_output --partial 'holds seqs 3 to 3, which the log engine'
	run nedb-put -d "$A" users d '{}'
	assert_failure 5
	run nedb-verify -d "$A"
	assert_failure 1
	assert_output --regexp '^\{"ok":false,"seq":3,"error":".*lacks'
	# another op at seq 3 (another writer went on from seq 2): a fork
	# the copy refuses
	head -3 "$A/log.aof" >"$BATS_TEST_TMPDIR/two"
	nedb-log --import -d "$B" <"$BATS_TEST_TMPDIR/two"
	nedb-put -d "$B" users other '{}'
	"$PG" psql "$PRIMARY" -c "INSERT INTO nedb_$NAME SELECT 3, convert_to('$(sed -n 4p "$B/log.aof" | sed "s/'/''/g")', 'UTF8'), decode('$(sed -n 4p "$B/log.aof" | jq -r .hash)', 'hex')" >/dev/null
	run nedb-get -d "$A" users a
	assert_failure 5
	assert_output --partial 'differ from seq 3 on'
	run nedb-verify -d "$A"
	assert_failure 1
	assert_output --partial '"seq":3,'
	assert_output --partial 'differs from this copy'
	# a damaged line on the engine is named too
	sql "UPDATE nedb_$NAME SET line = line || ' '::bytea WHERE seq = 1" >/dev/null
	run nedb-verify -d "$A"
	assert_failure 1
	assert_output --regexp '"seq":1,"error":"this copy and the log engine differ at seq 1: the engine.s op is bad'
}

@test "kill -9 of a writer mid-batch: before the commit nothing stays, after it the ops are caught up; no fork" {
	nedb-put -d "$A" --log "$URL" w seed '{}'
	nedb-put -d "$B" --log "$URL" w seed2 '{}'
	# killed with its batch inserted, not committed
	seq 1 50 | jq -c '{_id: "k\(.)", n: .}' >"$BATS_TEST_TMPDIR/docs"
	NEDB_TEST_DIR=$HOOKS NEDB_TEST_PAUSE=engine-commit \
		nedb-put -d "$A" w <"$BATS_TEST_TMPDIR/docs" >/dev/null &
	local p=$!
	PIDS+=($p)
	wait_reached engine-commit
	kill -9 "$p"
	wait "$p" || true
	run nedb-put -d "$B" w after1 '{}'
	assert_success
	assert_output --partial '"seq":3'
	run nedb-get -d "$A" w k1
	assert_failure 1
	# killed after the engine's commit, before its own copy's append:
	# not acknowledged, but in the log, and caught up by the next command
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
	# killed at whatever point a long batch reached
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

# ---- moving a database ---------------------------------------------------

@test "export and import move a database onto the engine and back; the head hash does not change" {
	local f=$BATS_TEST_TMPDIR/file back=$BATS_TEST_TMPDIR/back h
	nedb-put -d "$f" users alice '{"n":1}'
	nedb-link -d "$f" users:alice knows users:bob
	nedb-index -d "$f" users n ordered
	printf '{"_id":"u%d","n":%d}\n' 1 1 2 2 3 3 | nedb-put -q -d "$f" users
	nedb-checkpoint -d "$f" >/dev/null
	h=$(head_of "$f")
	nedb-log --export -d "$f" >"$BATS_TEST_TMPDIR/lines"
	cmp "$BATS_TEST_TMPDIR/lines" "$f/log.aof"
	run nedb-log --import -d "$A" --log "$URL" <"$BATS_TEST_TMPDIR/lines"
	assert_success
	assert_output "{\"seq\":$(nedb-stats -d "$f" | jq .seq),\"head\":\"$h\"}"
	assert_equal "$(head_of "$A")" "$h"
	run sql "SELECT count(*) FROM nedb_$NAME"
	assert_output "$(wc -l <"$BATS_TEST_TMPDIR/lines")"
	# the other machine joins, writes; then back to a file database
	nedb-put -d "$B" --log "$URL" users carol '{}'
	run nedb-query -d "$B" 'FROM users WHERE n >= 2'
	assert_line '{"_id":"u2","n":2}'
	h=$(head_of "$B")
	nedb-log --export -d "$A" | nedb-log --import -d "$back"
	assert_equal "$(head_of "$back")" "$h"
	[ ! -e "$back/engine" ]
	run nedb-get -d "$back" users carol
	assert_success
	run nedb-link -d "$back" --out users:alice
	assert_output '"users:bob"'
	# a broken line stops the import, naming it; nothing is left behind
	run bash -c "sed '3s/alice/alicf/' '$BATS_TEST_TMPDIR/lines' | nedb-log --import -d '$BATS_TEST_TMPDIR/bad' --log '${URL}x'"
	assert_failure 4
	assert_output --partial 'line 3'
	[ ! -e "$BATS_TEST_TMPDIR/bad" ]
	run sql "SELECT to_regclass('nedb_${NAME}x') IS NULL"
	assert_output t
	# an engine that already holds the name is not overwritten
	run nedb-log --import -d "$BATS_TEST_TMPDIR/again" --log "$URL" <"$BATS_TEST_TMPDIR/lines"
	assert_failure 2
	assert_output --partial 'already holds'
	run nedb-log --import -d "$back" <"$BATS_TEST_TMPDIR/lines"
	assert_failure 2
}

# ---- following, loading ---------------------------------------------------

@test "nedb-log --follow on one machine wakes on the other's writes (LISTEN/NOTIFY)" {
	nedb-put -d "$A" --log "$URL" users alice '{}'
	nedb-put -d "$B" --log "$URL" users bob '{}'
	nedb-log -d "$B" --follow --since 3 >"$BATS_TEST_TMPDIR/followed" &
	PIDS+=($!)
	nedb-put -d "$A" users carol '{}'
	nedb-put -d "$A" users dave '{}'
	for ((i = 0; i < 400; i++)); do
		[ "$(wc -l <"$BATS_TEST_TMPDIR/followed")" -ge 2 ] && break
		sleep 0.02
	done
	run jq -r .id "$BATS_TEST_TMPDIR/followed"
	assert_output $'carol\ndave'
}

@test "libpq is loaded only by a database whose log is on PostgreSQL" {
	nedb-put -d "$A" --log "$URL" users alice '{}'
	nedb-put -d "$B" users alice '{}'
	run env LD_DEBUG=libs nedb-get -d "$B" users alice
	assert_success
	refute_output --partial libpq
	run env LD_DEBUG=libs nedb-get -d "$A" users alice
	assert_success
	assert_output --partial libpq.so.5
	ldd "$(command -v nedb-get)" | { ! grep -q libpq; }
}

@test "nedbd serves a database whose log is on PostgreSQL: its writes reach the other machine, the other's reach its reads" {
	local data=$BATS_TEST_TMPDIR/data port pid i
	mkdir -p "$data"
	nedb-put -d "$data/shop" --log "$URL" users alice '{"n":1}'
	NEDBD_HOST=127.0.0.1 NEDBD_PORT=0 NEDBD_RESP2_PORT=0 NEDBD_DATA=$data \
		nedbd 3>&- 2>"$BATS_TEST_TMPDIR/nedbd.err" &
	pid=$!
	PIDS+=($pid)
	for ((i = 0; i < 200; i++)); do
		port=$(sed -n 's|.*http://[^ ]*:\([0-9]*\).*|\1|p' "$BATS_TEST_TMPDIR/nedbd.err")
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

# ---- failover ------------------------------------------------------------

# Writers on both machines while the primary is killed (kill -9) and
# its synchronous standby promoted; the URL (multi-host, read-write
# target) is repointed at the new primary and a new standby.  Every
# acknowledged op survives every round.
@test "kill -9 of the primary, its synchronous standby promoted: no acknowledged op lost" {
	[ "${NEDB_SUITE:-1}" = 1 ] || skip "failover rounds run in suite 1"
	local root=$PGROOT/fo$BATS_TEST_NUMBER round cur next url
	cur=$root/s0
	"$PG" start "$cur"
	next=$root/s1
	"$PG" standby "$cur" "$next"
	url="postgresql://nedb@127.0.0.1:$(cat "$cur/port"),127.0.0.1:$(cat "$next/port")/postgres?target_session_attrs=read-write#fo"
	nedb-put -d "$A" --log "$url" w seed '{}' >"$BATS_TEST_TMPDIR/acked.seed"
	nedb-put -d "$B" --log "$url" w seed2 '{}' >"$BATS_TEST_TMPDIR/acked.seed2"
	# rounds: 2, or NEDB_PG_ROUNDS (NEDB_CHECK_FULL: 5)
	local rounds=${NEDB_PG_ROUNDS:-$([ -n "${NEDB_CHECK_FULL:-}" ] && echo 5 || echo 2)}
	for ((round = 1; round <= rounds; round++)); do
		retrying_writers "$A" "a$round" 2 10
		retrying_writers "$B" "b$round" 2 10
		# wait until some ops of this round are acknowledged
		for ((i = 0; i < 400; i++)); do
			[ "$(cat "$BATS_TEST_TMPDIR"/acked.[ab]$round.* | wc -l)" -ge 6 ] && break
			sleep 0.01
		done
		"$PG" kill "$cur"
		"$PG" promote "$next"
		wait "${PIDS[@]}" 2>/dev/null || true
		PIDS=()
		cur=$next
		next=$root/s$((round + 1))
		"$PG" standby "$cur" "$next"
		url="postgresql://nedb@127.0.0.1:$(cat "$cur/port"),127.0.0.1:$(cat "$next/port")/postgres?target_session_attrs=read-write#fo"
		echo "$url" >"$A/engine"
		echo "$url" >"$B/engine"
	done
	PRIMARY=$cur NAME=fo check_acked
	# every put was acknowledged in the end, once
	run bash -c "cat '$BATS_TEST_TMPDIR'/acked.[ab]* | wc -l"
	assert_output $((rounds * 40))
	echo "# failover: $(cat "$BATS_TEST_TMPDIR"/acked.* | wc -l) acknowledged ops, $rounds rounds, none lost" >&3
	for d in "$root"/s*; do "$PG" stop "$d"; done
}
