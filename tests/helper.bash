bats_require_minimum_version 1.5.0
# Common set-up for the bats suite: each test gets its own database
# under $BATS_TEST_TMPDIR, and NEDB_DIR points at it.
bats_load_library bats-support
bats_load_library bats-assert

setup() {
	export NEDB_DIR="$BATS_TEST_TMPDIR/db"
	unset NEDB_DURABILITY
	cd "$BATS_TEST_TMPDIR"
	if declare -F setup_more >/dev/null; then setup_more; fi
}

# sample N: how many rounds a randomised test runs: N in the first
# suite; a third of N (at least 1) in the sanitizer suite, which looks
# for memory errors along the same paths, at twenty times the cost of a
# process.
sample() {
	if [ "${NEDB_SUITE:-1}" = 1 ]; then
		echo "$1"
	else
		echo $((($1 + 2) / 3))
	fi
}

# stream_around_a_put: one nedb-put stream of t/a1..a300 (receipts in
# ./receipts) with a put of other/x by another client once the first 50
# are committed: the stream's reader formatted ahead ops the other put
# made wrong.
stream_around_a_put() {
	local i
	mkfifo feed
	nedb-put t < feed > receipts 3>&- &
	exec 4> feed
	for i in $(seq 1 50); do echo "{\"_id\":\"a$i\",\"v\":$i}"; done >&4
	for _ in $(seq 600); do
		[ "$(wc -l < receipts)" -ge 50 ] && break
		sleep 0.05
	done
	run wc -l < receipts
	assert_output 50
	nedb-put -q --client other other x '{"v":0}'
	for i in $(seq 51 300); do echo "{\"_id\":\"a$i\",\"v\":$i}"; done >&4
	exec 4>&-
	wait
}

# Every scenario ends with the view equal to a replay of the log.
# A log over 16 MiB (45,000 puts of 200-digit pads to collection c):
# long enough for nedb-verify to check it in pieces on every core.
big_log() {
	awk 'BEGIN { for (i = 0; i < 45000; i++)
		printf "{\"_id\":\"k%05d\",\"pad\":\"%0200d\"}\n", i, i }' |
		nedb-put -q c
}

assert_determinism() {
	run nedb-verify --determinism
	assert_success
	assert_output --partial '"ok":true'
}

# A database with n documents users/u1..un ({"n":i}).
seed_users() {
	local n=${1:-3} i
	for ((i = 1; i <= n; i++)); do
		printf '{"_id":"u%d","n":%d}\n' "$i" "$i"
	done | nedb-put -q users
}

# Rewrites one table of the view with LMDB's own tools, behind nedb's
# back, as ADVERSARIAL.md finding 4 did: the bytes FROM become TO in
# every key and value (\xNN escapes allowed).  mdb_dump's hex form: its
# printable form does not escape a backslash, which a document's binary
# header may hold, and mdb_load then fails.
edit_view() {	# table from to
	mdb_dump -n -s "$1" "$NEDB_DIR/view.mdb" | python3 -c '
import sys
a, b = (x.encode("latin-1").decode("unicode_escape").encode("latin-1")
        for x in sys.argv[1:3])
for line in sys.stdin:
    if line.startswith(" "):
        line = " " + bytes.fromhex(line[1:]).replace(a, b).hex() + "\n"
    sys.stdout.write(line)' "$2" "$3" |
		mdb_load -n -s "$1" "$NEDB_DIR/view.mdb" 2>/dev/null
}

# The library's test hooks (NEDB_TEST_PAUSE with NEDB_TEST_DIR=$HOOKS):
# hooks_init in setup_more, hooks_teardown in teardown; background
# processes a test starts go in PIDS.
hooks_init() {
	HOOKS="$BATS_TEST_TMPDIR/hooks"
	mkdir -p "$HOOKS"
	PIDS=()
}

# Lets every paused process go on, then kills what is left.
hooks_teardown() {
	local f p
	for f in "$HOOKS"/*.reached; do
		[ -e "$f" ] && touch "${f%.reached}.go"
	done
	for p in "${PIDS[@]}"; do
		kill -9 "$p" 2>/dev/null || true
	done
}

# Waits (up to a minute) until the hook point $1 has been reached.
wait_reached() {
	local i
	for ((i = 0; i < 6000; i++)); do
		[ -e "$HOOKS/$1.reached" ] && return 0
		sleep 0.01
	done
	echo "hook point $1 never reached" >&2
	return 1
}
