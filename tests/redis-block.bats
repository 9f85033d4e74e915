#!/usr/bin/env bats
# nedbd's blocking commands over RESP2 (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
# BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP), as Redis 7.0 serves them: a
# client with nothing to pop waits without holding up the others, is
# woken by a write of another connection (or of another process, through
# the log), the clients blocked on a key served in the order they
# blocked, and answered nil when its time is up.  Nothing here waits for
# a fixed time: a blocked client is waited for in INFO's blocked_clients.
# (Their replies when there is something to pop, and their errors, are
# checked against redis-server in tests/redis.bats.)

load nedbd-helper

setup() {
	setup_more
	start_nedbd NEDBD_DURABILITY=fast
}

# blocked N: INFO says N clients are blocked.
blocked() {
	rcli INFO clients | tr -d '\r' | grep -qx "blocked_clients:$1"
}

# bg NAME ARG...: redis-cli ARG... in the background, its output in
# $BATS_TEST_TMPDIR/NAME once it is done ($BATS_TEST_TMPDIR/NAME.done).
bg() {
	local name=$1
	shift
	(rcli "$@" >"$BATS_TEST_TMPDIR/$name.out" 2>&1
	 touch "$BATS_TEST_TMPDIR/$name.done") 3>&- &
	EXTRA_PIDS+=($!)
}

# got NAME: waits for the background client NAME; its output in $output.
got() {
	poll 30 test -e "$BATS_TEST_TMPDIR/$1.done"
	output=$(cat "$BATS_TEST_TMPDIR/$1.out")
}

# raw HEX-FREE COMMANDS: the bytes nedbd answers to the commands given
# (one per argument, words split on blanks) on one connection, read
# until the number of replies expected ($REPLIES) came, printed as
# Python's repr of them.
raw() {
	/usr/bin/python3 - "$RPORT" "${REPLIES:-$#}" "$@" <<-'EOF'
		import socket, sys
		port, want, cmds = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
		s = socket.create_connection(("127.0.0.1", port), timeout=60)
		for c in cmds:
		    p = [w.encode() for w in c.split()]
		    s.sendall(b"*%d\r\n" % len(p) +
		              b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in p))
		out = b""
		while out.count(b"\r\n") < want:
		    d = s.recv(65536)
		    if not d:
		        break
		    out += d
		print(repr(out))
	EOF
}

@test "a client blocked in BLPOP is woken by another client's push, and its pop is an op" {
	bg c1 BLPOP k 0
	poll 30 blocked 1
	run rcli CLIENT LIST
	assert_output --regexp 'flags=b db=0 .*cmd=blpop '
	# the server answers the others meanwhile
	run rcli RPUSH k a b
	assert_output '(integer) 2'
	got c1
	assert_output "$(printf '1) "k"\n2) "a"')"
	run rcli LRANGE k 0 -1
	assert_output '1) "b"'
	poll 30 blocked 0
	run nedb-log -d "$DATA/0" -n 1
	assert_output --partial '"b"'
	refute_output --partial '"a"'
}

@test "clients blocked on a key are served in the order they blocked, one element each" {
	bg c1 BRPOP k 0
	poll 30 blocked 1
	bg c2 BLPOP other k 0
	poll 30 blocked 2
	bg c3 BLMPOP 0 1 k LEFT COUNT 5
	poll 30 blocked 3
	run rcli LPUSH k x y
	got c1
	assert_output "$(printf '1) "k"\n2) "x"')"
	got c2
	assert_output "$(printf '1) "k"\n2) "y"')"
	poll 30 blocked 1
	run rcli RPUSH k z w
	got c3
	assert_output "$(printf '1) "k"\n2) 1) "z"\n   2) "w"')"
	run rcli EXISTS k
	assert_output '(integer) 0'
}

@test "a blocked client's timeout answers a nil array, BLMOVE's too; a float timeout counts milliseconds" {
	REPLIES=1 run raw "BLPOP k 0.05"
	assert_output "b'*-1\\r\\n'"
	REPLIES=1 run raw "BLMOVE a b LEFT RIGHT 0.001"
	assert_output "b'*-1\\r\\n'"
	REPLIES=1 run raw "BZMPOP 0.01 2 z1 z2 MIN"
	assert_output "b'*-1\\r\\n'"
	run rcli INFO clients
	assert_output --partial 'blocked_clients:0'
}

@test "a bad timeout is refused before anything blocks" {
	REPLIES=4 run raw "BLPOP k -1" "BLPOP k abc" "BRPOPLPUSH a b 1e30" \
		"BLMPOP x 1 k LEFT"
	assert_output "b'-ERR timeout is negative\\r\\n-ERR timeout is not a float or out of range\\r\\n-ERR timeout is negative\\r\\n-ERR timeout is not a float or out of range\\r\\n'"
}

@test "in MULTI a blocking command does not block: it answers as on a timeout" {
	REPLIES=9 run raw MULTI "BLPOP k 0" "BLMOVE a b LEFT LEFT 0" \
		"BRPOPLPUSH a b 0" "BZPOPMIN z 0" "BLMPOP 0 1 k LEFT" EXEC
	assert_output "b'+OK\\r\\n+QUEUED\\r\\n+QUEUED\\r\\n+QUEUED\\r\\n+QUEUED\\r\\n+QUEUED\\r\\n*5\\r\\n*-1\\r\\n\$-1\\r\\n\$-1\\r\\n*-1\\r\\n*-1\\r\\n'"
}

@test "a push and a delete in one transaction wake nobody; the pushes of one are served after its EXEC" {
	bg c1 BLPOP k 0
	poll 30 blocked 1
	printf 'MULTI\nLPUSH k a\nDEL k\nEXEC\n' | rcli >/dev/null
	run rcli INFO clients
	assert_output --partial 'blocked_clients:1'
	printf 'MULTI\nLPUSH k a\nLPUSH k b\nLPUSH k c\nEXEC\n' | rcli >/dev/null
	got c1
	assert_output "$(printf '1) "k"\n2) "c"')"
	run rcli LRANGE k 0 -1
	assert_output "$(printf '1) "b"\n2) "a"')"
}

@test "an element BLMOVE moves wakes the client blocked on its destination" {
	bg c1 BLMOVE l1 l2 RIGHT LEFT 0
	poll 30 blocked 1
	bg c2 BLPOP l2 0
	poll 30 blocked 2
	rcli RPUSH l1 foo
	got c1
	assert_output '"foo"'
	got c2
	assert_output "$(printf '1) "l2"\n2) "foo"')"
	run rcli EXISTS l1 l2
	assert_output '(integer) 0'
}

@test "clients blocked on a list of more than 128 elements are served by its operators, not by rewriting it" {
	local elems
	elems=$(seq -f 'e%g' 1 200)
	bg c1 BLMOVE big dst RIGHT LEFT 0
	poll 30 blocked 1
	bg c2 BLPOP big 0
	poll 30 blocked 2
	# one push makes a list the view keeps as elements, which both pop
	rcli RPUSH big $elems >/dev/null
	got c1
	assert_output '"e200"'
	got c2
	assert_output "$(printf '1) "big"\n2) "e1"')"
	run rcli LLEN big
	assert_output '(integer) 198'
	run rcli LRANGE dst 0 -1
	assert_output '1) "e200"'
	run sh -c "nedb-log -d '$DATA/0' -n 3 | jq -c '[.id, .op, (.doc | if has(\"value\") then .value else . end)]'"
	assert_output '["big","patch",{"$rpop":1}]
["dst","put",["e200"]]
["big","patch",{"$lpop":1}]'
	# and the other way: BLMOVE into it pushes one element
	bg c3 BLMOVE src big LEFT LEFT 0
	poll 30 blocked 1
	rcli RPUSH src x >/dev/null
	got c3
	assert_output '"x"'
	run sh -c "nedb-log -d '$DATA/0' -n 1 | jq -c .doc"
	assert_output '{"$lpush":["x"]}'
	run rcli LINDEX big 0
	assert_output '"x"'
}

@test "a blocked BRPOPLPUSH whose destination holds another type is WRONGTYPE, and the element stays" {
	rcli SET t x
	bg c1 BRPOPLPUSH src t 0
	poll 30 blocked 1
	rcli RPUSH src a b
	got c1
	assert_output '(error) WRONGTYPE Operation against a key holding the wrong kind of value'
	run rcli LRANGE src 0 -1
	assert_output "$(printf '1) "a"\n2) "b"')"
}

@test "a key that becomes a list by RENAME wakes a blocked client; one of another type does not" {
	bg c1 BLPOP k 0
	poll 30 blocked 1
	rcli SET k str
	rcli DEL k
	rcli RPUSH tmp x y
	rcli RENAME tmp k
	got c1
	assert_output "$(printf '1) "k"\n2) "x"')"
}

@test "BZPOPMIN and BZMPOP blocked are woken by ZADD; a list does not wake them" {
	bg c1 BZPOPMIN z 0
	poll 30 blocked 1
	bg c2 BZMPOP 0 1 z MAX COUNT 2
	poll 30 blocked 2
	rcli RPUSH z notazset >/dev/null
	run rcli INFO clients
	assert_output --partial 'blocked_clients:2'
	rcli DEL z
	rcli ZADD z 3 c 1 a 2 b
	got c1
	assert_output "$(printf '1) "z"\n2) "a"\n3) "1"')"
	got c2
	assert_output "$(printf '1) "z"\n2) 1) 1) "c"\n      2) "3"\n   2) 1) "b"\n      2) "2"')"
}

@test "a blocked client that goes away is forgotten" {
	redis-cli -p "$RPORT" BLPOP k 0 >/dev/null 2>&1 3>&- &
	EXTRA_PIDS+=($!)
	poll 30 blocked 1
	kill "${EXTRA_PIDS[-1]}"
	poll 30 blocked 0
	rcli RPUSH k a
	run rcli LRANGE k 0 -1
	assert_output '1) "a"'
}

@test "CLIENT UNBLOCK ends a wait with nil or an error; 0 for a client that does not wait" {
	bg c1 BLPOP k 0
	poll 30 blocked 1
	id=$(rcli CLIENT LIST | sed -n 's/^id=\([0-9]*\) .*flags=b .*/\1/p')
	run rcli CLIENT UNBLOCK "$id"
	assert_output '(integer) 1'
	got c1
	assert_output '(nil)'
	bg c2 BLMOVE k d LEFT LEFT 0
	poll 30 blocked 1
	id=$(rcli CLIENT LIST | sed -n 's/^id=\([0-9]*\) .*flags=b .*/\1/p')
	run rcli CLIENT UNBLOCK "$id" ERROR
	assert_output '(integer) 1'
	got c2
	assert_output '(error) UNBLOCKED client unblocked via CLIENT UNBLOCK'
	run rcli CLIENT UNBLOCK "$id"
	assert_output '(integer) 0'
	run rcli CLIENT UNBLOCK x
	assert_output '(error) ERR value is not an integer or out of range'
	run rcli CLIENT UNBLOCK 1 LATER
	assert_output '(error) ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR'
}

@test "a push by another process (nedb-redis on the same database) wakes a blocked client" {
	bg c1 BLPOP k 0
	poll 30 blocked 1
	nedb-redis -d "$DATA/0" RPUSH k fromcli
	got c1
	assert_output "$(printf '1) "k"\n2) "fromcli"')"
	run rcli EXISTS k
	assert_output '(integer) 0'
}

@test "a blocked client waits on its own database: a push to the same key elsewhere does not wake it" {
	bg c1 BLPOP k 0
	poll 30 blocked 1
	run rdb other 'RPUSH k a'
	assert_output '(integer) 1'
	run rcli INFO clients
	assert_output --partial 'blocked_clients:1'
	rcli RPUSH k b
	got c1
	assert_output "$(printf '1) "k"\n2) "b"')"
}

@test "a client blocked on a database that is deleted does not create it again, and times out" {
	bg c1 BLPOP k 1
	poll 30 blocked 1
	[ -d "$DATA/0" ]
	http DELETE /v1/databases/0
	expect 200
	got c1
	assert_output '(nil)'
	[ ! -e "$DATA/0" ]
}

@test "SORT ... STORE wakes a client blocked on its destination" {
	bg c1 BLPOP dst 0
	poll 30 blocked 1
	rcli RPUSH src 3 1 2
	rcli SORT src STORE dst
	got c1
	assert_output "$(printf '1) "dst"\n2) "1"')"
}

@test "SWAPDB exchanges two databases for every connection and wakes a client blocked on a key the swap brings" {
	run rdb 1 'RPUSH k hello'
	assert_output '(integer) 1'
	run rdb 9 'SET only9 x'
	bg c1 BRPOP k 0
	poll 30 blocked 1
	run rcli SWAPDB 1 0
	assert_output 'OK'
	got c1
	assert_output "$(printf '1) "k"\n2) "hello"')"
	run rdb 1 'DBSIZE'
	assert_output '(integer) 0'
	run rcli SWAPDB 9 new
	assert_output 'OK'
	run rdb new 'GET only9'
	assert_output '"x"'
	[ ! -e "$DATA/9" ]
	run rcli SWAPDB 0 ../x
	assert_output '(error) ERR invalid second DB index'
	run sh -c "printf 'MULTI\nSWAPDB 0 1\nEXEC\n' | redis-cli -p $RPORT"
	assert_output "$(printf 'OK\nQUEUED\nERR SWAPDB cannot run inside MULTI here')"
}
