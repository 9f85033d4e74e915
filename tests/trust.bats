#!/usr/bin/env bats
# Trust: the write protocol's edges (issue 9).  No acknowledged op is
# lost, a view that may be torn is rebuilt and never read, damage in the
# view is reported and never committed, and reads can prove what they
# return.  Races are held open with the library's test hooks
# (NEDB_TEST_PAUSE/NEDB_TEST_FAIL, lib/core/util.c), never with sleeps.

load helper

setup_more() {
	hooks_init
}

teardown() {
	hooks_teardown
}

# Waits until process $1 has exited or sleeps in a file lock.
wait_locked_or_gone() {
	local i w
	for ((i = 0; i < 6000; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		w=$(cat "/proc/$1/wchan" 2>/dev/null || true)
		case $w in *lock*) return 0 ;; esac
		sleep 0.01
	done
	return 1
}

@test "a failed view commit never cuts off an op another writer acknowledged meanwhile" {
	nedb-put -q c seed '{}'
	NEDB_TEST_FAIL=view-commit NEDB_TEST_PAUSE=commit-failed \
	NEDB_TEST_DIR="$HOOKS" nedb-put c a '{"v":0}' \
		>"$HOOKS/a.out" 2>"$HOOKS/a.err" &
	a=$!
	PIDS+=($a)
	wait_reached commit-failed
	# writer A failed its commit and sits before its undo; B tries now
	nedb-put c b1 '{"v":1}' >"$HOOKS/b.out" 2>"$HOOKS/b.err" &
	b=$!
	PIDS+=($b)
	wait_locked_or_gone "$b"
	touch "$HOOKS/commit-failed.go"
	# wait in this shell (run's subshell cannot wait for our children)
	rc=0
	wait "$a" || rc=$?
	assert_equal "$rc" 5
	run cat "$HOOKS/a.err"
	assert_output "nedb-put: cannot commit: disk full"
	rc=0
	wait "$b" || rc=$?
	assert_equal "$rc" 0
	run nedb-get c b1
	assert_success
	assert_output '{"_id":"b1","v":1}'
	run -1 nedb-get c a
	run nedb-log
	assert_success
	assert_equal "$(echo "$output" | wc -l)" 3
	assert_determinism
}

@test "a failed view commit leaves the log as it was before the batch" {
	nedb-put -q c seed '{}'
	before=$(cat "$NEDB_DIR/log.aof")
	run -5 bash -c 'printf "{\"_id\":\"x%d\"}\n" 1 2 3 |
		NEDB_TEST_FAIL=view-commit nedb-put c'
	assert_output --partial "cannot commit: disk full"
	assert_equal "$(cat "$NEDB_DIR/log.aof")" "$before"
	run -1 nedb-get c x1
	assert_determinism
}

CRASH_IMAGE="$BATS_TEST_DIRNAME/lib-trust/crash_image.py"

# Pretends the system rebooted: view.sync names another boot.
reboot_record() {
	sed -i 's/boot [^ ]*/boot 00000000-dead-beef-0000-000000000000/' \
		"$NEDB_DIR/view.sync"
}

# 300 documents, then a rebuild: its view file is synced and recorded
# clean.  Saves that file and record as S and S.sync.
synced_base() {
	for ((i = 0; i < 300; i++)); do
		printf '{"_id":"k%d","v":%d,"pad":"%0200d"}\n' "$i" "$i" "$i"
	done | nedb-put -q c
	nedb-checkpoint --rebuild
	cp "$NEDB_DIR/view.mdb" S
	cp "$NEDB_DIR/view.sync" S.sync
	grep -q ' log [0-9]* ' S.sync
}

# Opens crash images of S and V (view.sync as in $1, log as it is now)
# at several fractions of V's pages; each must be rebuilt from the log
# (with the warning) and answer exactly as the log says ($2: expected
# rows of FROM c).
open_images() {
	local rec=$1 want=$2 f seed log
	log=$(cat "$NEDB_DIR/log.aof")
	# every fraction of the pages; the random pick of them with two
	# seeds (one in the sanitizer suite)
	for f in 0 0.1 0.3 0.5 0.7 0.9 1; do
		for ((seed = 1; seed <= $(sample 2); seed++)); do
			python3 "$CRASH_IMAGE" S V "$NEDB_DIR/view.mdb" "$f" "$seed"
			rm -f "$NEDB_DIR/view.mdb-lock"
			cp "$rec" "$NEDB_DIR/view.sync"
			reboot_record
			run --separate-stderr nedb-query 'FROM c ORDER BY _id'
			assert_success
			assert_equal "$stderr" "nedb-query: warning: the system went down with the view not synced; rebuilding it from the log"
			assert_equal "$output" "$want"
			assert_equal "$(cat "$NEDB_DIR/log.aof")" "$log"
		done
	done
	assert_determinism
}

@test "a view sync never vouches for a commit another writer made during it" {
	synced_base
	NEDB_TEST_PAUSE=view-sync NEDB_TEST_DIR="$HOOKS" \
		nedb-checkpoint --rebuild 2>/dev/null &
	a=$!
	PIDS+=($a)
	wait_reached view-sync
	NEDB_DURABILITY=fast nedb-put -q c late '{"v":-1}' &
	b=$!
	PIDS+=($b)
	wait_locked_or_gone "$b"
	touch "$HOOKS/view-sync.go"
	wait "$a"
	wait "$b"
	# the fast put's pages were never synced: after a reboot the view
	# must not be trusted
	run cat "$NEDB_DIR/view.sync"
	assert_output --regexp '^nedb view sync 1 boot [^ ]+ dirty ms '
	reboot_record
	run --separate-stderr nedb-get c late
	assert_success
	assert_output '{"_id":"late","v":-1}'
	assert_regex "$stderr" 'rebuilding it from the log$'
}

@test "crash images of a durable batch's unsynced view are rebuilt, never read" {
	synced_base
	for ((i = 0; i < 300; i += 2)); do
		printf '{"_id":"k%d","v":%d,"new":true}\n' "$i" "$((i * 7))"
	done | nedb-put -q c
	cp "$NEDB_DIR/view.mdb" V
	want=$(nedb-query 'FROM c ORDER BY _id')
	# the batch's own sync may or may not have run: the crash came first
	open_images S.sync "$want"
}

@test "crash images of a rebuild's unsynced view are rebuilt, never read" {
	synced_base
	want=$(nedb-query 'FROM c ORDER BY _id')
	NEDB_TEST_PAUSE=view-sync NEDB_TEST_DIR="$HOOKS" \
		nedb-checkpoint --rebuild 2>/dev/null &
	a=$!
	PIDS+=($a)
	wait_reached view-sync
	cp "$NEDB_DIR/view.mdb" V
	cp "$NEDB_DIR/view.sync" V.sync
	kill -9 "$a"
	wait "$a" || true
	run cat V.sync
	assert_output --regexp ' dirty ms '
	open_images V.sync "$want"
}

@test "crash images after fast writes whose log lines were lost too are rebuilt, never read" {
	synced_base
	want=$(nedb-query 'FROM c ORDER BY _id')
	off=$(sed -n 's/.* log \([0-9]*\) .*/\1/p' S.sync)
	for ((i = 0; i < 300; i += 3)); do
		printf '{"_id":"k%d","v":%d,"fast":true}\n' "$i" "$((i * 3))"
	done | NEDB_DURABILITY=fast nedb-put -q c
	cp "$NEDB_DIR/view.mdb" V
	cp "$NEDB_DIR/view.sync" V.sync
	# the OS went down before the log's fast lines reached the disk
	truncate -s "$off" "$NEDB_DIR/log.aof"
	open_images V.sync "$want"
}

LOGTOOL="$BATS_TEST_DIRNAME/lib-rel/logtool"

# Edits alice's document in the view's docs table (role user -> admn).
edit_view_doc() {
	edit_view docs '"_id":"alice","name":"Alice","role":"user"' \
		'"_id":"alice","name":"Alice","role":"admn"'
}

damaged_view() {
	nedb-put -q users alice '{"name":"Alice","role":"user"}'
	nedb-put -q users bob '{"name":"Bob","role":"user"}'
	nedb-checkpoint >/dev/null
	nedb-put -q users carol '{}'
	edit_view_doc
	run nedb-get users alice
	assert_output '{"_id":"alice","name":"Alice","role":"admn"}'
}

@test "a checkpoint of a damaged view is refused, exit 5, and nothing is written" {
	damaged_view
	log=$(cat "$NEDB_DIR/log.aof")
	run -5 --separate-stderr nedb-checkpoint
	assert_output ''
	assert_equal "$stderr" "nedb-checkpoint: the view does not match the log (a replay gives another state); nothing written: run nedb-checkpoint --rebuild"
	assert_equal "$(cat "$NEDB_DIR/log.aof")" "$log"
	run nedb-checkpoint --rebuild
	assert_success
	run nedb-get users alice
	assert_output '{"_id":"alice","name":"Alice","role":"user"}'
	run nedb-checkpoint
	assert_success
	assert_determinism
}

@test "a rebuild completes from the log past a checkpoint that committed damage, with a warning" {
	nedb-put -q users alice '{"name":"Alice","role":"user"}'
	# a checkpoint an older nedb wrote from a damaged view
	perl "$LOGTOOL" next "$NEDB_DIR/log.aof" \
		'"op":"checkpoint","ts":1,"state":"0000000000000000000000000000000000000000000000000000000000000000"' \
		>> "$NEDB_DIR/log.aof"
	nedb-put -q users bob '{}'
	run -1 nedb-verify --determinism
	assert_output --partial 'state digest at checkpoint seq 2 does not match'
	run --separate-stderr nedb-checkpoint --rebuild
	assert_success
	assert_equal "$stderr" "nedb-checkpoint: warning: the checkpoint at seq 2 does not match the replayed state (it committed a damaged view); the view is built from the log"
	run nedb-get users alice
	assert_output '{"_id":"alice","name":"Alice","role":"user"}'
	run nedb-get users bob
	assert_success
}

three_users() {
	nedb-put -q users alice '{"name":"Alice","role":"user"}'
	nedb-put -q users bob '{"name":"Bob","role":"user"}'
	nedb-put -q users carol '{}'
}

# Points alice's version at seq 1 to seq 2 (bob's op) in the vers table.
edit_view_vers() {
	edit_view vers 'users\x00alice\x00\x00\x00\x00\x00\x00\x00\x00\x01' \
		'users\x00alice\x00\x00\x00\x00\x00\x00\x00\x00\x02'
}

@test "an AS OF read of a version the view points at the wrong op exits 5 and prints nothing" {
	three_users
	edit_view_vers
	msg="corrupt view: it points at seq 2 for a version of 'users/alice', which the log does not hold there; run nedb-checkpoint --rebuild"
	run -5 --separate-stderr nedb-get --as-of 2 users alice
	assert_output ''
	assert_equal "$stderr" "nedb-get: $msg"
	run -5 --separate-stderr nedb-get --meta --as-of 3 users alice
	assert_output ''
	run -5 --separate-stderr nedb-query 'FROM users AS OF 2'
	assert_output ''
	assert_equal "$stderr" "nedb-query: $msg"
	run -5 --separate-stderr nedb-get --history users alice
	assert_equal "$stderr" "nedb-get: $msg"
	nedb-checkpoint --rebuild
	run nedb-get --as-of 2 users alice
	assert_output '{"_id":"alice","name":"Alice","role":"user"}'
}

@test "a verified get or query refuses a document the view holds but the log does not" {
	three_users
	edit_view_doc
	# a plain read trusts the view (nedb(7))
	run nedb-get users alice
	assert_output '{"_id":"alice","name":"Alice","role":"admn"}'
	run -5 --separate-stderr nedb-get --verify users alice
	assert_output ''
	assert_equal "$stderr" "nedb-get: corrupt view: 'users/alice' differs from its op in the log (seq 1); run nedb-checkpoint --rebuild"
	run -5 --separate-stderr nedb-query --verify 'FROM users'
	assert_equal "$stderr" "nedb-query: corrupt view: 'users/alice' differs from its op in the log (seq 1); run nedb-checkpoint --rebuild"
	run -5 nedb-query --verify --filter '{"role":"admn"}' users
	run nedb-get --verify users bob
	assert_success
	assert_output '{"_id":"bob","name":"Bob","role":"user"}'
	run nedb-query --verify 'FROM users WHERE name = "Bob"'
	assert_success
	assert_output '{"_id":"bob","name":"Bob","role":"user"}'
}

@test "a verified get refuses a document the view rolled back to an older version" {
	nedb-put -q users alice '{"v":1}'
	nedb-put -q users alice '{"v":2}'
	# docs: alice's row replaced by her version 1 (its header included)
	# the header's seq is its first 8 bytes (little-endian): 2 -> 1
	edit_view docs '\x02\x00\x00\x00\x00\x00\x00\x00' \
		'\x01\x00\x00\x00\x00\x00\x00\x00'
	edit_view docs '"v":2' '"v":1'
	run nedb-get users alice
	assert_output '{"_id":"alice","v":1}'
	run -5 --separate-stderr nedb-get --verify users alice
	assert_equal "$stderr" "nedb-get: corrupt view: 'users/alice' is served as of seq 1, but its latest version is seq 2; run nedb-checkpoint --rebuild"
}

@test "an idempotent retry answers with the log's receipt, never one the view was edited to hold" {
	for i in 1 2 3 4 5; do nedb-put -q c k$i '{}'; done
	run nedb-put --idem K1 c k6 '{}'
	assert_success
	want=$output
	edit_view idem '"seq":6,' '"seq":2,'
	run -5 --separate-stderr nedb-put --idem K1 c k6 '{}'
	assert_equal "$stderr" "nedb-put: corrupt view: idempotency key 'K1' names seq 2, which the log does not hold it in; run nedb-checkpoint --rebuild"
	nedb-checkpoint --rebuild >/dev/null
	run nedb-put --idem K1 c k6 '{}'
	assert_success
	assert_output "$want"
}

# Runs "$@" in the background, paused right after it opened the
# database; a prune and a write happen; then it goes on.  Its output and
# status are left in prune.out, prune.err, prune.rc.
across_prune() {
	NEDB_TEST_PAUSE=opened NEDB_TEST_DIR="$HOOKS" "$@" \
		>prune.out 2>prune.err &
	local p=$!
	PIDS+=($p)
	wait_reached opened
	nedb-checkpoint --prune >/dev/null
	nedb-put -q c after '{"n":9}'
	touch "$HOOKS/opened.go"
	local rc=0
	wait "$p" || rc=$?
	echo "$rc" > prune.rc
}

@test "a reader that opened the log before a prune reads on after it, with no false corruption" {
	for i in 1 2 3; do nedb-put -q c k$i "{\"n\":$i}"; done
	across_prune nedb-log
	assert_equal "$(cat prune.rc)" 0
	assert_equal "$(cat prune.err)" ""
	assert_equal "$(wc -l < prune.out)" 6
	across_prune nedb-get c after
	assert_equal "$(cat prune.rc)" 0
	assert_equal "$(cat prune.out)" '{"_id":"after","n":9}'
	across_prune nedb-query 'FROM c AS OF 2'
	assert_equal "$(cat prune.rc)" 0
	assert_equal "$(cat prune.out)" '{"_id":"k1","n":1}
{"_id":"k2","n":2}'
	across_prune nedb-get --history c k1
	assert_equal "$(cat prune.rc)" 0
	assert_equal "$(wc -l < prune.out)" 1
	across_prune nedb-put c k4 '{}'
	assert_equal "$(cat prune.rc)" 0
	across_prune nedb-verify
	assert_equal "$(cat prune.rc)" 0
	assert_regex "$(cat prune.out)" '^\{"ok":true,"seq":[0-9]+,'
	across_prune nedb-verify --determinism
	assert_equal "$(cat prune.rc)" 0
	assert_determinism
}

@test "a rebuild restores the newline of a whole, chained last op the view had applied" {
	for i in 1 2 3; do nedb-put -q c k$i "{\"n\":$i}"; done
	truncate -s -1 "$NEDB_DIR/log.aof"
	run -5 nedb-get c k3
	run --separate-stderr nedb-checkpoint --rebuild
	assert_success
	assert_equal "$stderr" "nedb-checkpoint: warning: restored the newline at the end of the log (after seq 3)"
	run nedb-get c k3
	assert_output '{"_id":"k3","n":3}'
	assert_equal "$(tail -c 1 "$NEDB_DIR/log.aof" | od -An -c | tr -d ' ')" '\n'
	assert_determinism
}

@test "a rebuild still cuts a torn last line the view had applied if it is not whole" {
	for i in 1 2 3; do nedb-put -q c k$i "{\"n\":$i}"; done
	size=$(stat -c %s "$NEDB_DIR/log.aof")
	truncate -s -5 "$NEDB_DIR/log.aof"
	run --separate-stderr nedb-checkpoint --rebuild
	assert_success
	assert_regex "$stderr" 'repaired a torn log tail: removed [0-9]+ bytes after seq 2$'
	run -1 nedb-get c k3
	assert_determinism
}

@test "meta.json of an unknown format is refused by every command" {
	nedb-put -q c a '{}'
	printf '{"format":99,"created":1,"options":{}}\n' > "$NEDB_DIR/meta.json"
	run -5 --separate-stderr nedb-get c a
	assert_output ''
	assert_equal "$stderr" "nedb-get: cannot open database '$NEDB_DIR': meta.json says format 99, and this nedb reads formats 1 and 2"
	run -5 nedb-put c b '{}'
	run -5 nedb-checkpoint --rebuild
}

@test "meta.json that is garbage is refused, naming the way out" {
	nedb-put -q c a '{}'
	printf 'garbage' > "$NEDB_DIR/meta.json"
	run -5 --separate-stderr nedb-get c a
	assert_equal "$stderr" "nedb-get: cannot open database '$NEDB_DIR': meta.json is not nedb's (no format); remove it to have it written again"
	rm "$NEDB_DIR/meta.json"
	run --separate-stderr nedb-get c a
	assert_success
	assert_equal "$stderr" "nedb-get: warning: meta.json was missing; it is written again"
}

@test "a missing meta.json is written again with the genesis op's time" {
	nedb-put -q c a '{}'
	want=$(cat "$NEDB_DIR/meta.json")
	rm "$NEDB_DIR/meta.json"
	run --separate-stderr nedb-get c a
	assert_success
	assert_equal "$(cat "$NEDB_DIR/meta.json")" "$want"
	run --separate-stderr nedb-get c a
	assert_equal "$stderr" ""
}

@test "a log.aof that is a symbolic link is refused, and a dangling one creates nothing" {
	nedb-put -q c a '{}'
	mv "$NEDB_DIR/log.aof" real.aof
	ln -s "$PWD/real.aof" "$NEDB_DIR/log.aof"
	run -5 --separate-stderr nedb-get c a
	assert_equal "$stderr" "nedb-get: cannot open database '$NEDB_DIR': log.aof is a symbolic link, which nedb does not follow"
	run -5 nedb-put c b '{}'
	mkdir fresh
	ln -s "$PWD/elsewhere.aof" fresh/log.aof
	run -5 nedb-put -d fresh c a '{}'
	assert [ ! -e elsewhere.aof ]
}

@test "a view.mdb that is a symbolic link is refused" {
	nedb-put -q c a '{}'
	mv "$NEDB_DIR/view.mdb" real.mdb
	ln -s "$PWD/real.mdb" "$NEDB_DIR/view.mdb"
	run -5 --separate-stderr nedb-get c a
	assert_equal "$stderr" "nedb-get: cannot open database '$NEDB_DIR': view.mdb is a symbolic link, which nedb does not follow"
}

@test "a database's directory and files are private to their owner" {
	umask 022
	nedb-put -q c a '{}'
	nedb-checkpoint >/dev/null
	nedb-put -q c b '{}'
	nedb-checkpoint --prune >/dev/null
	assert_equal "$(stat -c %a "$NEDB_DIR")" 700
	run find "$NEDB_DIR" -mindepth 1 -type f ! -perm 600
	assert_output ''
	run find "$NEDB_DIR" -mindepth 1 -type d ! -perm 700
	assert_output ''
}
