#!/usr/bin/env bats
# HELLO, RESP3 and CLIENT's connection commands on nedbd's RESP port
# (issue #18), beside a real redis-server: the replies are compared as
# parsed RESP values with their types (tests/resp3_diff.py), so a null
# that should be "_" or a score that should be a double fails here even
# where redis-cli would print both alike.

load nedbd-helper

# The commands of tests/redis.bats's scripts that compare nedb-redis
# with redis-server, each script followed by a FLUSHALL.
redis_bats_commands() {
	awk '/same_as_redis <<-.EOF./ { f = 1; next }
	     f && /^\tEOF/ { f = 0; print "FLUSHALL"; next }
	     f { sub(/^\t+/, ""); print }' "$BATS_TEST_DIRNAME/redis.bats"
}

# diff_servers PROTO: stdin's commands on nedbd and redis-server after
# HELLO PROTO, every reply the same.
diff_servers() {
	run python3 "$BATS_TEST_DIRNAME/resp3_diff.py" "$RPORT" "$REDIS_PORT" "$1"
	assert_success
	assert_output ''
}

@test "RESP3: every command of redis.bats's scripts answers as redis-server after HELLO 3" {
	start_redis
	start_nedbd NEDBD_DURABILITY=fast
	redis_bats_commands >"$BATS_TEST_TMPDIR/cmds"
	# enough of them to mean something
	[ "$(wc -l <"$BATS_TEST_TMPDIR/cmds")" -gt 1000 ]
	diff_servers 3 <"$BATS_TEST_TMPDIR/cmds"
	# and after HELLO 2, as before it
	redis-cli -p "$REDIS_PORT" flushall >/dev/null
	redis-cli -p "$RPORT" flushall >/dev/null
	diff_servers 2 <"$BATS_TEST_TMPDIR/cmds"
}

@test "RESP3: nulls, doubles, maps, sets and pairs have RESP3's types" {
	start_redis
	start_nedbd NEDBD_DURABILITY=fast
	diff_servers 3 <<-'EOF'
	GET nosuch
	HGET nosuch f
	MGET a nosuch
	LPOP nosuch
	LPOP nosuch 2
	LMPOP 1 nosuch LEFT
	ZADD z 1 a 2.5 b 3 c 4 d
	ZSCORE z b
	ZSCORE z nosuch
	ZMSCORE z a nosuch
	ZINCRBY z 0.5 a
	ZADD z INCR 1 a
	ZRANGE z 0 -1 WITHSCORES
	ZRANGE z 0 -1
	ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 0 2
	ZUNION 1 z WITHSCORES
	ZPOPMIN z
	ZPOPMIN z 1
	ZPOPMAX z 2
	ZPOPMIN nosuch
	ZPOPMIN nosuch 3
	ZADD z 1 a 2 b
	ZMPOP 1 z MIN COUNT 1
	BZPOPMIN z 0.01
	BZPOPMIN z 0.01
	HSET h f v g w
	HGETALL h
	HGETALL nosuch
	HKEYS h
	SADD s a b c
	SMEMBERS s
	SMEMBERS nosuch
	SUNION s nosuch
	SINTER s nosuch
	SDIFF s
	SPOP nosuch 2
	SPOP s 0
	SPOP s 3
	SET a1 ohmytext
	SET b1 mynewtext
	LCS a1 b1 IDX
	LCS a1 b1
	INCRBYFLOAT f 1.5
	HINCRBYFLOAT h n 2.5
	MULTI
	GET a1
	ZSCORE nosuch a
	EXEC
	EOF
}

@test "RESP3: a big sorted set's pops and ranges (kept as elements) answer as redis-server" {
	start_redis
	start_nedbd NEDBD_DURABILITY=fast
	{
		for ((i = 0; i < 400; i++)); do
			echo "ZADD big $i m$i"
		done
		echo "ZPOPMIN big"
		echo "ZPOPMIN big 3"
		echo "ZPOPMAX big"
		echo "ZPOPMAX big 2"
		echo "ZRANGE big 0 4 WITHSCORES"
		echo "ZREVRANGE big 0 2 WITHSCORES"
		echo "ZRANGEBYSCORE big 100 104 WITHSCORES"
		echo "ZMSCORE big m10 nosuch m20"
		echo "ZSCORE big nosuch"
		for ((i = 0; i < 300; i++)); do
			echo "HSET bigh f$i v$i"
		done
		echo "HMGET bigh f1 nosuch f2"
		echo "HGET bigh nosuch"
	} >"$BATS_TEST_TMPDIR/cmds"
	diff_servers 3 <"$BATS_TEST_TMPDIR/cmds"
}

@test "HELLO: versions, options and errors as Redis 7.0" {
	start_redis
	start_nedbd
	diff_servers 3 <<-'EOF'
	HELLO 2
	HELLO 3
	HELLO
	HELLO 4
	HELLO 1
	HELLO x
	HELLO 4 FOO
	HELLO 3 FOO
	HELLO 3 SETNAME
	HELLO 3 AUTH default
	HELLO 3 SETNAME "a b"
	HELLO 3 AUTH default x SETNAME "a b"
	HELLO 3 AUTH bob x
	HELLO 3 AUTH default anything
	HELLO 3 SETNAME first SETNAME second
	CLIENT GETNAME
	EOF
}

@test "HELLO with a token: NOAUTH until it authenticates, WRONGPASS for a wrong one" {
	start_redis s3cret
	TOKEN=s3cret start_nedbd
	# HELLO 3 of resp3_diff.py fails alike on both: not authenticated
	diff_servers 3 <<-'EOF'
	HELLO
	HELLO 3
	GET a
	CLIENT SETNAME x
	HELLO 3 SETNAME "a b"
	HELLO 3 AUTH default wrong
	HELLO 3 AUTH bob s3cret
	GET a
	HELLO 3 AUTH default s3cret SETNAME app
	CLIENT GETNAME
	GET a
	HGETALL nosuch
	EOF
}

@test "CLIENT SETNAME, GETNAME, NO-EVICT and their errors as Redis 7.0" {
	start_redis
	start_nedbd
	diff_servers 2 <<-'EOF'
	CLIENT GETNAME
	CLIENT SETNAME app-1
	CLIENT GETNAME
	CLIENT SETNAME
	CLIENT SETNAME a b
	CLIENT SETNAME "a b"
	CLIENT SETNAME "a\nb"
	CLIENT GETNAME
	CLIENT GETNAME x
	CLIENT SETNAME ""
	CLIENT GETNAME
	CLIENT NO-EVICT on
	CLIENT NO-EVICT OFF
	CLIENT NO-EVICT maybe
	CLIENT NO-EVICT
	CLIENT INFO x
	CLIENT ID x
	CLIENT
	CLIENT NOSUCH
	EOF
}

@test "CLIENT LIST and CLIENT INFO show each connection's name and protocol" {
	start_nedbd
	exec 5<>"/dev/tcp/127.0.0.1/$RPORT"
	printf 'HELLO 3 SETNAME worker-7\r\n' >&5
	# the map's first line; the rest is read by the LIST that follows
	run timeout 5 head -c 1 <&5
	assert_output '%'
	run redis-cli -p "$RPORT" CLIENT LIST
	assert_success
	assert_line --regexp '^id=[0-9]+ .* name=worker-7 .* resp=3$'
	assert_line --regexp '^id=[0-9]+ .* name= .* cmd=client\|list .* resp=2$'
	# every field Redis 7.0 prints, in its order
	assert_line --regexp '^id=[0-9]+ addr=127\.0\.0\.1:[0-9]+ laddr=127\.0\.0\.1:[0-9]+ fd=[0-9]+ name= age=[0-9]+ idle=[0-9]+ flags=N db=[^ ]+ sub=0 psub=0 ssub=0 multi=-1 qbuf=[0-9]+ qbuf-free=[0-9]+ argv-mem=[0-9]+ multi-mem=[0-9]+ rbs=[0-9]+ rbp=[0-9]+ obl=[0-9]+ oll=[0-9]+ omem=[0-9]+ tot-mem=[0-9]+ events=r cmd=client\|list user=default redir=-1 resp=2$'
	run redis-cli -p "$RPORT" CLIENT INFO
	assert_success
	assert_output --regexp '^id=[0-9]+ .* cmd=client\|info .* resp=2$'
	[ "${#lines[@]}" -eq 1 ]
	exec 5>&-
}

@test "RESP3: a blocked command's timeout and an EXEC voided by WATCH answer _" {
	start_nedbd
	exec 5<>"/dev/tcp/127.0.0.1/$RPORT"
	printf 'HELLO 3\r\n' >&5
	# the map of 7 pairs: 15 lines after its header, the last "*0"
	run timeout 5 sh -c 'while IFS= read -r l; do
		case $l in "*0"*) exit 0 ;; esac
	done' <&5
	assert_success
	printf 'BLPOP nosuch 0.05\r\n' >&5
	IFS= read -r -t 10 line <&5
	assert_equal "$line" $'_\r'
	printf 'WATCH w\r\nMULTI\r\n' >&5
	IFS= read -r -t 10 line <&5
	assert_equal "$line" $'+OK\r'
	IFS= read -r -t 10 line <&5
	assert_equal "$line" $'+OK\r'
	redis-cli -p "$RPORT" SET w changed >/dev/null
	printf 'GET w\r\nEXEC\r\n' >&5
	IFS= read -r -t 10 line <&5
	assert_equal "$line" $'+QUEUED\r'
	IFS= read -r -t 10 line <&5
	assert_equal "$line" $'_\r'
	exec 5>&-
}

@test "a Python redis client that names its connection (client_name) works" {
	redis_python
	start_nedbd
	run "$PY" - "$RPORT" <<'EOF'
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), client_name="app")
r.set("k", "v")
print(r.get("k").decode(), r.client_getname(),
      [c["name"] for c in r.client_list()], r.client_info()["name"])
EOF
	assert_success
	assert_output "v app ['app'] app"
}

@test "nedb-redis prints RESP3 replies after HELLO 3 as redis-cli does" {
	start_redis
	local script got want
	script=$(cat <<-'EOF'
	HELLO 3
	ZADD z 1 a 2.5 b
	ZRANGE z 0 -1 WITHSCORES
	ZSCORE z b
	HSET h f v g w
	HGETALL h
	HGETALL nosuch
	SADD s x
	SMEMBERS s
	SMEMBERS nosuch
	SET a1 ohmytext
	SET b1 mynewtext
	LCS a1 b1 IDX
	LCS nosuch1 nosuch2 IDX
	GET nosuch
	INFO keyspace
	EOF
	)
	for raw in --no-raw --raw; do
		redis-cli -p "$REDIS_PORT" flushall >/dev/null
		# the HELLO map's version and id are each server's own
		want=$(redis-cli -p "$REDIS_PORT" $raw <<<"$script" 2>&1 |
			grep -v 'version\|"id"\|^id \|^db0:')
		rm -rf "$BATS_TEST_TMPDIR/db"
		got=$(nedb-redis ${raw/--no-raw/} -d "$BATS_TEST_TMPDIR/db" \
			<<<"$script" 2>&1 | grep -v 'version\|"id"\|^id \|^db0:')
		assert_equal "$got" "$want"
		if [ "$raw" = --no-raw ]; then
			# a map, a set and a double were printed as such
			[[ $got == *'1# "f" => "v"'* ]]
			[[ $got == *'1~ "x"'* ]]
			[[ $got == *'(double) 2.5'* ]]
		fi
	done
}

@test "a protocol error that quotes a newline of the request is one line, as Redis's" {
	start_redis
	start_nedbd
	local port
	for port in "$RPORT" "$REDIS_PORT"; do
		# "$1" then two bytes: the LF of "ab\r\n" is where '$' should be
		run python3 - "$port" <<-'PY'
		import socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
		s.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nab\r\n$1\r\nc\r\n")
		got = b""
		while True:
		    d = s.recv(4096)
		    if not d:
		        break
		    got += d
		print(repr(got))
		PY
		assert_output "b\"-ERR Protocol error: expected '\$', got ' '\\r\\n\""
	done
}
