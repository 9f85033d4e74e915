# tests/nedbd-helper.bash - what the nedbd suites (tests/nedbd*.bats)
# share: a daemon of their own per test on free loopback ports over its
# own data root ($DATA), stopped in teardown, and clients for both of its
# protocols.  Nothing here sleeps and hopes: waits poll with a bound.

load helper

setup_more() {
	DATA=$BATS_TEST_TMPDIR/data
	ERR=$BATS_TEST_TMPDIR/nedbd.err
	NEDBD_PID=
	EXTRA_PIDS=()
	TOKEN=
	PORT=
	RPORT=
	NEDBD_ARGS=()	# nedbd's arguments (--tmk-file)
}

teardown() {
	local p
	for p in "${EXTRA_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$NEDBD_PID" ]; then
		stop_nedbd TERM
	fi
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -f "$ERR" ]; then
		echo "# nedbd stderr:" >&2
		sed 's/^/#   /' "$ERR" >&2
	fi
	# a sanitizer report from the daemon fails the test
	if [ -f "$ERR" ] &&
		grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$ERR" >&2; then
		return 1
	fi
}

# ---- helpers -------------------------------------------------------------

free_port() {
	python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# True while the process $1 (nedbd unless given) runs (a zombie is not).
alive() {
	local pid=${1:-$NEDBD_PID}
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
		[ "$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null)" != Z ]
}

# poll SECONDS COMMAND...: runs COMMAND every 0.05s until it succeeds;
# fails after SECONDS.
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

# start_nedbd [NAME=VALUE...]: nedbd over $DATA with the environment
# given and the arguments in $NEDBD_ARGS, HTTP on a port the kernel
# picks ($PORT), RESP2 on a free port ($RPORT; empty when
# NEDBD_RESP2_PORT=0 is given); returns once /health and PING answer.
start_nedbd() {
	local i
	for _ in 1 2 3; do
		RPORT=$(free_port)
		# a previous daemon's lines must not be taken for this one's
		rm -f "$ERR"
		env NEDBD_HOST=127.0.0.1 NEDBD_PORT=0 \
			NEDBD_RESP2_PORT="$RPORT" NEDBD_DATA="$DATA" \
			NEDBD_TOKEN="$TOKEN" "$@" nedbd "${NEDBD_ARGS[@]}" \
			3>&- 2>"$ERR" &
		NEDBD_PID=$!
		for ((i = 0; i < 600; i++)); do
			grep -qs '^nedbd: serving' "$ERR" && break
			alive || break
			sleep 0.05
		done
		grep -q '^nedbd: serving' "$ERR" && break
		# not serving: never wait for a daemon that may still run
		kill -KILL "$NEDBD_PID" 2>/dev/null || true
		wait "$NEDBD_PID" || true
		NEDBD_PID=
		# the RESP2 port was taken in the meantime: another one
		grep -q 'Address already in use' "$ERR" || break
	done
	if [ -z "$NEDBD_PID" ]; then
		echo "nedbd did not start:" >&2
		cat "$ERR" >&2
		return 1
	fi
	PORT=$(sed -n 's|.*http://[^ ]*:\([0-9]*\).*|\1|p' "$ERR")
	RPORT=$(sed -n 's|.*redis://[^ ]*:\([0-9]*\).*|\1|p' "$ERR")
	poll 30 health_ok
	if [ -n "$RPORT" ]; then
		poll 30 ping_ok
	fi
}

health_ok() {
	curl -s "http://127.0.0.1:$PORT/health" | grep -q '"ok":true'
}

ping_ok() {
	redis-cli -p "$RPORT" ping 2>/dev/null | grep -q PONG
}

# stop_nedbd [SIGNAL]: signals nedbd (TERM) and waits for it (bounded;
# then SIGKILL); its exit status in $STATUS.
stop_nedbd() {
	local i
	kill -"${1:-TERM}" "$NEDBD_PID" 2>/dev/null || true
	for ((i = 0; i < 600; i++)); do
		alive || break
		sleep 0.05
	done
	if alive; then
		echo "nedbd did not stop on SIG${1:-TERM}: killed" >&2
		kill -KILL "$NEDBD_PID"
	fi
	STATUS=0
	wait "$NEDBD_PID" || STATUS=$?
	NEDBD_PID=
}

# http METHOD PATH [CURL-ARG...]: one request (with the bearer token when
# $TOKEN is set, and a JSON Content-Type unless $CTYPE says another, or
# none when it is empty); the status in $CODE, the body in $BODY, the
# response headers in $HEADERS.
http() {
	local m=$1 p=$2 auth=() ct=()
	shift 2
	if [ -n "$TOKEN" ]; then
		auth=(-H "Authorization: Bearer $TOKEN")
	fi
	ct=(-H "Content-Type:${CTYPE-" application/json"}")
	CODE=$(curl -sS --max-time 120 --path-as-is -o "$BATS_TEST_TMPDIR/body" \
		-D "$BATS_TEST_TMPDIR/headers" -w '%{http_code}' -X "$m" \
		"${auth[@]}" "${ct[@]}" "$@" "http://127.0.0.1:$PORT$p")
	BODY=$(cat "$BATS_TEST_TMPDIR/body")
	HEADERS=$(tr -d '\r' <"$BATS_TEST_TMPDIR/headers")
}

# expect STATUS [JQ...]: the last response had STATUS, and every jq
# filter is true of its body.
expect() {
	local f
	if [ "$CODE" != "$1" ]; then
		echo "want HTTP $1, got $CODE: $BODY" >&2
		return 1
	fi
	shift
	for f; do
		if ! jq -e "$f" <<<"$BODY" >/dev/null; then
			echo "jq '$f' is not true of: $BODY" >&2
			return 1
		fi
	done
}

# expect_error STATUS: the last response had STATUS and an error body.
expect_error() {
	expect "$1" '.error | type == "string" and length > 0' 'keys == ["error"]'
}

# create NAME [INIT-JSON]: creates a database over HTTP.
create() {
	if [ $# -gt 1 ]; then
		http POST /v1/databases -d "{\"name\":\"$1\",\"init\":$2}"
	else
		http POST /v1/databases -d "{\"name\":\"$1\"}"
	fi
	expect 201
}

# query DB NQL: runs NQL over HTTP (200 expected).
query() {
	http POST "/v1/databases/$1/query" --data-binary \
		"$(jq -cn --arg q "$2" '{nql: $q}')"
	expect 200
}

# rcli ARG...: redis-cli on the RESP2 port, replies typed.
rcli() {
	redis-cli -p "$RPORT" --no-raw "$@"
}

# rdb DB LINE: the reply of the command LINE run by redis-cli on
# database DB (redis-cli -n takes only numbers).
rdb() {
	printf 'SELECT %s\n%s\n' "$1" "$2" | rcli | tail -n +2
}

# last_op DIR: the op (a JSON object) at the end of the log of DIR.
last_op() {
	nedb-log -d "$1" -n 1
}

# A connection of our own on fd 5, for commands sent one at a time.
resp_open() {
	exec 5<>"/dev/tcp/127.0.0.1/$RPORT"
}

resp_close() {
	exec 5>&- 5<&-
}

# resp_send ARG...: one command, as a RESP2 array of bulk strings.
resp_send() {
	local LC_ALL=C a out
	out=$(printf '*%d\r\n' $#; for a; do printf '$%d\r\n%s\r\n' "${#a}" "$a"; done; echo .)
	printf '%s' "${out%.}" >&5
}

# resp_read: one simple reply (status, error, integer, bulk) from fd 5,
# printed as it came, bulk strings as their text and nil as (nil).
resp_read() {
	local l
	IFS= read -r -t 30 l <&5 || { echo "resp_read: no reply" >&2; return 1; }
	l=${l%$'\r'}
	case $l in
	'$-1') echo '(nil)' ;;
	'$'*)
		IFS= read -r -t 30 l <&5
		echo "${l%$'\r'}"
		;;
	*) echo "$l" ;;
	esac
}

# resp_cmd ARG...: sends a command on fd 5 and prints its reply.
resp_cmd() {
	resp_send "$@"
	resp_read
}

# start_redis [PASSWORD]: a redis-server of the test's own on
# $REDIS_PORT (with --requirepass PASSWORD when given), stopped in
# teardown, to compare nedbd with; the test is skipped without one.
start_redis() {
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
		skip "redis-server is not installed"
	REDIS_PORT=$(free_port)
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
		--appendonly no --dir "$BATS_TEST_TMPDIR" \
		${1:+--requirepass "$1"} >"$BATS_TEST_TMPDIR/redis.log" 2>&1 3>&- &
	EXTRA_PIDS+=($!)
	poll 30 redis_up "$1"
}

redis_up() {
	redis-cli -p "$REDIS_PORT" ${1:+-a "$1" --no-auth-warning} ping \
		2>/dev/null | grep -q PONG
}

# A python3 with the redis module in $PY, or the test is skipped.
redis_python() {
	local py
	for py in python3 /usr/bin/python3; do
		if "$py" -c 'import redis' 2>/dev/null; then
			PY=$py
			return 0
		fi
	done
	skip "no python3 with the redis module"
}


# lock_held DIR: true while a process holds the writer lock of the
# database in DIR (the flock on DIR/lock that every writer takes).
lock_held() {
	! flock -n "$1/lock" true
}
