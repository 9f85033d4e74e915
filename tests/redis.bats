#!/usr/bin/env bats
# nedb-redis: every command of the Redis coverage list (SPEC section 7)
# with its replies, errors worded as Redis words them, TTLs, the documents
# and ops behind the keys, the printing of redis-cli, and the same command
# sequences against a real redis-server.

load helper

# A real redis-server on a free loopback port, when one is installed.
setup_file() {
	command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
		return 0
	local port i
	port=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	redis-server --port "$port" --bind 127.0.0.1 --save '' \
		--appendonly no --dir "$BATS_FILE_TMPDIR" \
		>"$BATS_FILE_TMPDIR/redis.log" 2>&1 3>&- &
	echo $! >"$BATS_FILE_TMPDIR/redis.pid"
	for ((i = 0; i < 100; i++)); do
		redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
		sleep 0.05
	done
	echo "$port" >"$BATS_FILE_TMPDIR/redis.port"
}

teardown_file() {
	if [ -f "$BATS_FILE_TMPDIR/redis.pid" ]; then
		kill "$(cat "$BATS_FILE_TMPDIR/redis.pid")" 2>/dev/null || true
	fi
}

# The lines of stdin, run by nedb-redis and by redis-cli against the real
# server (emptied first), must print the same.  Extra arguments (--raw)
# go to both.
same_as_redis() {
	local port input expected
	[ -f "$BATS_FILE_TMPDIR/redis.port" ] ||
		skip "redis-server is not installed"
	port=$(cat "$BATS_FILE_TMPDIR/redis.port")
	input=$(cat)
	redis-cli -p "$port" flushall >/dev/null
	if [[ " $* " == *" --raw "* ]]; then
		expected=$(redis-cli -p "$port" "$@" <<<"$input" 2>&1)
	else
		expected=$(redis-cli -p "$port" --no-raw "$@" <<<"$input" 2>&1)
	fi
	run nedb-redis "$@" <<<"$input"
	assert_output "$expected"
}

# The seq of the newest op.
head_seq() {
	nedb-log -n 1 | jq .seq
}

# ---- strings ------------------------------------------------------------

@test "SET stores a string and GET reads it back; a missing key is nil" {
	run nedb-redis SET greeting hello
	assert_success
	assert_output OK
	run nedb-redis GET greeting
	assert_success
	assert_output '"hello"'
	run nedb-redis GET nosuch
	assert_success
	assert_output '(nil)'
}

@test "SET takes NX, XX and GET as Redis does" {
	nedb-redis SET k v1
	run nedb-redis SET k v2 NX
	assert_output '(nil)'
	run nedb-redis SET new v XX
	assert_output '(nil)'
	run nedb-redis EXISTS new
	assert_output '(integer) 0'
	run nedb-redis SET k v3 xx get
	assert_output '"v1"'
	run nedb-redis SET fresh v NX GET
	assert_output '(nil)'
	run nedb-redis GET fresh
	assert_output '"v"'
	run nedb-redis SET k v4 NX GET
	assert_output '"v3"'
	run nedb-redis GET k
	assert_output '"v3"'
}

@test "SET with EX or PX sets a TTL, KEEPTTL keeps it, a plain SET clears it" {
	nedb-redis SET k v EX 100
	run nedb-redis TTL k
	assert_output --regexp '^\(integer\) (99|100)$'
	nedb-redis SET k v2 KEEPTTL
	run nedb-redis TTL k
	assert_output --regexp '^\(integer\) (99|100)$'
	nedb-redis SET k v3
	run nedb-redis TTL k
	assert_output '(integer) -1'
	nedb-redis SET k v PX 5000
	run nedb-redis PTTL k
	assert_output --regexp '^\(integer\) [34][0-9]{3}$'
}

@test "SET answers bad options and expire times as Redis does" {
	run -1 nedb-redis SET k v EX 0
	assert_output "(error) ERR invalid expire time in 'set' command"
	run -1 nedb-redis SET k v PX -5
	assert_output "(error) ERR invalid expire time in 'set' command"
	run -1 nedb-redis SET k v EX ten
	assert_output '(error) ERR value is not an integer or out of range'
	run -1 nedb-redis SET k v EX 10 PX 100
	assert_output '(error) ERR syntax error'
	run -1 nedb-redis SET k v NX XX
	assert_output '(error) ERR syntax error'
	run -1 nedb-redis SET k v KEEPTTL EX 10
	assert_output '(error) ERR syntax error'
	run -1 nedb-redis SET k v EX
	assert_output '(error) ERR syntax error'
	run -1 nedb-redis SET k v FOREVER
	assert_output '(error) ERR syntax error'
	run nedb-redis EXISTS k
	assert_output '(integer) 0'
}

@test "INCR, INCRBY, DECR and DECRBY count in 64-bit integers" {
	run nedb-redis INCR n
	assert_output '(integer) 1'
	run nedb-redis INCRBY n 41
	assert_output '(integer) 42'
	run nedb-redis DECR n
	assert_output '(integer) 41'
	run nedb-redis DECRBY n -9
	assert_output '(integer) 50'
	run nedb-redis GET n
	assert_output '"50"'
	nedb-redis SET max 9223372036854775807
	run -1 nedb-redis INCR max
	assert_output '(error) ERR increment or decrement would overflow'
	run -1 nedb-redis DECRBY n -9223372036854775808
	assert_output '(error) ERR decrement would overflow'
	run -1 nedb-redis INCRBY n 1.5
	assert_output '(error) ERR value is not an integer or out of range'
	run nedb-redis GET max
	assert_output '"9223372036854775807"'
}

@test "INCR refuses values that are not integers as Redis reads them" {
	local v
	for v in 01 ' 1' 1x '+1' '' 99999999999999999999 -0; do
		nedb-redis SET s "$v"
		run -1 nedb-redis INCR s
		assert_output '(error) ERR value is not an integer or out of range'
	done
	nedb-redis SET s -9223372036854775808
	run nedb-redis INCR s
	assert_output '(integer) -9223372036854775807'
}

@test "MSET sets many keys and MGET reads them, nil for other types" {
	run nedb-redis MSET a 1 b 2 c 3
	assert_output OK
	nedb-redis RPUSH l x
	run nedb-redis MGET a b nosuch l c
	assert_output '1) "1"
2) "2"
3) (nil)
4) (nil)
5) "3"'
	run -1 nedb-redis MSET a 1 b
	assert_output "(error) ERR wrong number of arguments for 'mset' command"
}

@test "SETNX sets only a new key; GETDEL reads a key and deletes it" {
	run nedb-redis SETNX k v
	assert_output '(integer) 1'
	run nedb-redis SETNX k w
	assert_output '(integer) 0'
	run nedb-redis GETDEL k
	assert_output '"v"'
	run nedb-redis GETDEL k
	assert_output '(nil)'
	run nedb-redis EXISTS k
	assert_output '(integer) 0'
}

@test "APPEND extends a string and STRLEN counts its bytes" {
	run nedb-redis APPEND k "hello"
	assert_output '(integer) 5'
	run nedb-redis APPEND k " wörld"
	assert_output '(integer) 12'
	run nedb-redis GET k
	assert_output '"hello w\xc3\xb6rld"'
	run nedb-redis STRLEN k
	assert_output '(integer) 12'
	run nedb-redis STRLEN nosuch
	assert_output '(integer) 0'
}

@test "DEL and EXISTS count keys, a repeated key as often as it is named" {
	nedb-redis MSET a 1 b 2
	run nedb-redis EXISTS a b a nosuch
	assert_output '(integer) 3'
	run nedb-redis DEL a a nosuch b
	assert_output '(integer) 2'
	run nedb-redis EXISTS a b
	assert_output '(integer) 0'
}

@test "OBJECT's arity, unknown subcommands, missing keys and FREQ answer as Redis's" {
	same_as_redis <<-'EOF'
	SET s 1
	OBJECT ENCODING nosuch
	OBJECT REFCOUNT nosuch
	OBJECT IDLETIME nosuch
	OBJECT FREQ nosuch
	OBJECT FREQ s
	OBJECT ENCODING
	OBJECT ENCODING a b
	OBJECT REFCOUNT
	OBJECT FOO s
	OBJECT
	OBJECT HELP x
	EOF
}

@test "OBJECT ENCODING says json or elements; REFCOUNT 1; IDLETIME the seconds since the last write" {
	nedb-redis SET s v
	run nedb-redis OBJECT ENCODING s
	assert_output '"json"'
	run nedb-redis OBJECT REFCOUNT s
	assert_output '(integer) 1'
	# a big set is kept as elements (as the operators tests show)
	for ((i = 0; i < 300; i++)); do echo "SADD big m$i"; done |
		nedb-redis >/dev/null
	run nedb-redis OBJECT ENCODING big
	assert_output '"elements"'
	# idle since its op's time: 0 at once, at least 1 a second later
	# (reads do not count)
	nedb-redis SET old v
	run nedb-redis --raw OBJECT IDLETIME old
	[ "$output" -le 1 ]
	sleep 1.1
	nedb-redis GET old >/dev/null
	run nedb-redis --raw OBJECT IDLETIME old
	[ "$output" -ge 1 ]
	run nedb-redis OBJECT HELP
	assert_success
	assert_line --index 0 --partial 'OBJECT <subcommand>'
}

@test "SAVE and BGSAVE write a checkpoint op; LASTSAVE answers its time (the genesis's before any)" {
	nedb-redis SET a 1
	local genesis
	genesis=$(nedb-log | head -1 | jq '.ts / 1000 | floor')
	run nedb-redis --raw LASTSAVE
	assert_output "$genesis"
	run nedb-redis SAVE
	assert_output OK
	run sh -c 'nedb-log -n 1 | jq -r .op'
	assert_output checkpoint
	run nedb-redis BGSAVE
	assert_output 'Background saving started'
	run nedb-redis BGSAVE SCHEDULE
	assert_output 'Background saving started'
	run sh -c 'nedb-log | jq -r .op | grep -c checkpoint'
	assert_output 3
	run nedb-redis --raw LASTSAVE
	assert_output "$(nedb-log -n 1 | jq '.ts / 1000 | floor')"
	run nedb-verify
	assert_success
	# errors write nothing
	run nedb-redis BGSAVE NOW
	assert_output '(error) ERR syntax error'
	run nedb-redis SAVE x
	assert_output "(error) ERR wrong number of arguments for 'save' command"
	run sh -c 'nedb-log | jq -r .op | grep -c checkpoint'
	assert_output 3
}

@test "SHUTDOWN checks its arguments as Redis and has no server to stop here" {
	run nedb-redis SHUTDOWN FOO
	assert_output '(error) ERR syntax error'
	run nedb-redis SHUTDOWN ABORT
	assert_output '(error) ERR No shutdown in progress.'
	run nedb-redis SHUTDOWN NOW
	assert_failure 1
	assert_output "(error) ERR SHUTDOWN stops a server: nedbd's RESP port"
}

@test "MOVE and COPY ... DB n: one database here, so only their errors and DB 0" {
	nedb-redis SET k v
	run nedb-redis MOVE k 0
	assert_output '(error) ERR source and destination objects are the same'
	run nedb-redis MOVE k 3
	assert_output "(error) ERR move to another database needs nedbd, whose SELECT opens databases by name"
	run nedb-redis MOVE k 16
	assert_output '(error) ERR DB index is out of range'
	run nedb-redis COPY k k2 DB 3
	assert_output "(error) ERR copy to another database needs nedbd, whose SELECT opens databases by name"
	run nedb-redis COPY k k2 DB 0
	assert_output '(integer) 1'
	run nedb-redis EXISTS k k2
	assert_output '(integer) 2'
}

@test "TYPE names the type of each key, none when there is none" {
	nedb-redis SET s v
	nedb-redis HSET h f v
	nedb-redis SADD t m
	nedb-redis LPUSH l e
	run nedb-redis TYPE s
	assert_output string
	run nedb-redis TYPE h
	assert_output hash
	run nedb-redis TYPE t
	assert_output set
	run nedb-redis TYPE l
	assert_output list
	run nedb-redis TYPE nosuch
	assert_output none
}

@test "RENAME moves a key with its value and TTL" {
	nedb-redis HSET h f v
	nedb-redis EXPIRE h 100
	run nedb-redis RENAME h h2
	assert_output OK
	run nedb-redis HGETALL h2
	assert_output '1) "f"
2) "v"'
	run nedb-redis TTL h2
	assert_output --regexp '^\(integer\) (99|100)$'
	run nedb-redis EXISTS h
	assert_output '(integer) 0'
	run nedb-get redis h2
	assert_output '{"_id":"h2","type":"hash","value":{"f":"v"}}'
	run nedb-redis RENAME h2 h2
	assert_output OK
	run -1 nedb-redis RENAME nosuch x
	assert_output '(error) ERR no such key'
}

@test "RENAME onto an existing key replaces it and its TTL" {
	nedb-redis SET a 1
	nedb-redis SET b 2 EX 100
	nedb-redis RENAME a b
	run nedb-redis GET b
	assert_output '"1"'
	run nedb-redis TTL b
	assert_output '(integer) -1'
}

@test "KEYS matches glob patterns and lists keys in byte order" {
	nedb-redis MSET user:1 a user:2 b user:10 c 'a*b' d 'h[x]' e
	run nedb-redis KEYS '*'
	assert_output '1) "a*b"
2) "h[x]"
3) "user:1"
4) "user:10"
5) "user:2"'
	run nedb-redis --raw KEYS 'user:?'
	assert_output 'user:1
user:2'
	run nedb-redis --raw KEYS 'user:[^2]*'
	assert_output 'user:1
user:10'
	run nedb-redis --raw KEYS 'a\*b'
	assert_output 'a*b'
	run nedb-redis --raw KEYS 'h\[*'
	assert_output 'h[x]'
	run nedb-redis KEYS 'zzz*'
	assert_output '(empty array)'
}

@test "DBSIZE counts the live keys, not expired ones awaiting a sweep" {
	nedb-put -q other x '{"n":1}'
	run nedb-redis DBSIZE
	assert_output '(integer) 0'
	nedb-redis MSET a 1 b 2 c 3
	run nedb-redis DBSIZE
	assert_output '(integer) 3'
	nedb-redis PEXPIRE a 100
	sleep 0.3
	run nedb-redis DBSIZE
	assert_output '(integer) 2'
	nedb-sweep >/dev/null
	run nedb-redis DBSIZE
	assert_output '(integer) 2'
}

@test "FLUSHDB deletes every key with one drop op; the past still sees them" {
	nedb-redis MSET a 1 b 2
	nedb-put -q other x '{"n":1}'
	run nedb-redis FLUSHDB
	assert_output OK
	run nedb-redis DBSIZE
	assert_output '(integer) 0'
	run nedb-log -n 1
	assert_output --partial '"op":"drop"'
	assert_output --partial '"coll":"redis"'
	run nedb-get --as-of 3 redis a
	assert_output '{"_id":"a","type":"string","value":"1"}'
	run nedb-get other x
	assert_success
	run nedb-redis FLUSHDB ASYNC
	assert_output OK
	run -1 nedb-redis FLUSHDB NOW
	assert_output '(error) ERR syntax error'
	assert_determinism
}

# ---- hashes -------------------------------------------------------------

@test "HSET, HGET, HMGET, HGETALL, HKEYS, HVALS, HLEN and HEXISTS" {
	run nedb-redis HSET h name Alice lang C
	assert_output '(integer) 2'
	run nedb-redis HSET h lang Go year 2009
	assert_output '(integer) 1'
	run nedb-redis HGET h lang
	assert_output '"Go"'
	run nedb-redis HGET h nosuch
	assert_output '(nil)'
	run nedb-redis HMGET h name nosuch year
	assert_output '1) "Alice"
2) (nil)
3) "2009"'
	run nedb-redis HGETALL h
	assert_output '1) "name"
2) "Alice"
3) "lang"
4) "Go"
5) "year"
6) "2009"'
	run nedb-redis HKEYS h
	assert_output '1) "name"
2) "lang"
3) "year"'
	run nedb-redis HVALS h
	assert_output '1) "Alice"
2) "Go"
3) "2009"'
	run nedb-redis HLEN h
	assert_output '(integer) 3'
	run nedb-redis HEXISTS h name
	assert_output '(integer) 1'
	run nedb-redis HEXISTS h nosuch
	assert_output '(integer) 0'
	run nedb-redis HGETALL nosuch
	assert_output '(empty array)'
	run nedb-redis HMGET nosuch a
	assert_output '1) (nil)'
}

@test "HMSET, HSETNX, HDEL and HINCRBY; a hash without fields is deleted" {
	run nedb-redis HMSET h a 1 b 2
	assert_output OK
	run nedb-redis HSETNX h a 9
	assert_output '(integer) 0'
	run nedb-redis HSETNX h c 3
	assert_output '(integer) 1'
	run nedb-redis HINCRBY h a 10
	assert_output '(integer) 11'
	run nedb-redis HINCRBY h n -2
	assert_output '(integer) -2'
	nedb-redis HSET h s text
	run -1 nedb-redis HINCRBY h s 1
	assert_output '(error) ERR hash value is not an integer'
	run -1 nedb-redis HINCRBY h a x
	assert_output '(error) ERR value is not an integer or out of range'
	run nedb-redis HDEL h a nosuch b
	assert_output '(integer) 2'
	run nedb-redis HDEL h c n s
	assert_output '(integer) 3'
	run nedb-redis EXISTS h
	assert_output '(integer) 0'
	run nedb-redis HDEL h x
	assert_output '(integer) 0'
	run nedb-log -n 1
	assert_output --partial '"op":"delete"'
}

# ---- sets -----------------------------------------------------------------

@test "SADD, SMEMBERS, SISMEMBER, SREM and SCARD keep unique members in order" {
	run nedb-redis SADD s zeta alpha mid alpha
	assert_output '(integer) 3'
	run nedb-redis SADD s alpha
	assert_output '(integer) 0'
	run nedb-redis SMEMBERS s
	assert_output '1) "alpha"
2) "mid"
3) "zeta"'
	run nedb-redis SISMEMBER s mid
	assert_output '(integer) 1'
	run nedb-redis SISMEMBER s nope
	assert_output '(integer) 0'
	run nedb-redis SCARD s
	assert_output '(integer) 3'
	run nedb-redis SREM s mid nope
	assert_output '(integer) 1'
	run nedb-get redis s
	assert_output '{"_id":"s","type":"set","value":["alpha","zeta"]}'
	run nedb-redis SREM s alpha zeta
	assert_output '(integer) 2'
	run nedb-redis EXISTS s
	assert_output '(integer) 0'
	run nedb-redis SMEMBERS s
	assert_output '(empty array)'
}

# The commands of a growing set, list, hash and sorted set, past the size
# at which a change is logged as the bytes it changed (a patch op).
big_values() {
	awk 'BEGIN {
		for (i = 1; i <= 150; i++) {
			printf "SADD s m%03d é%d\n", i, i
			printf "RPUSH l r%d\nLPUSH l é%d\n", i, i
			printf "HSET h f%d v%d\n", i, i
			printf "ZADD z %d z%d\n", i, i
		}
		print "SREM s m007 é9"
		print "HSET h f3 aé"
		print "HSET h f3 aè"
		print "HDEL h f4"
		print "ZADD z 0.5 z150"
		print "ZINCRBY z 100 z1"
		print "LPOP l 2"
		print "RPOP l"
		print "LSET l 5 x"
		print "SCARD s"
		print "SMISMEMBER s m001 m007 é9 é10 nope"
		print "LRANGE l 0 9"
		print "LRANGE l -3 -1"
		print "LLEN l"
		print "HLEN h"
		print "HMGET h f1 f3 f4 f150"
		print "ZRANGE z 0 3 WITHSCORES"
		print "ZREVRANGE z 0 1 WITHSCORES"
		print "ZCARD z"
	}'
}

@test "a change to a large value logs the bytes it changed, and answers as redis-server" {
	local n bytes
	big_values | same_as_redis
	# the changes past 1024 bytes are patches, with a put at times
	run sh -c 'nedb-log | jq -r .op | sort | uniq -c | tr -s " "'
	assert_line --partial ' patch'
	n=$(nedb-log | jq -c 'select(.op == "patch")' | wc -l)
	bytes=$(nedb-log --raw | grep -F '"op":"patch"' | wc -c)
	[ "$n" -gt 300 ] || fail "only $n patches"
	[ $((bytes / n)) -lt 700 ] || fail "$((bytes / n)) bytes a patch"
	# past 128 members a change is a Redis operator (below, the bytes)
	run sh -c 'nedb-log | jq -r "select(.op == \"patch\") | .doc | keys[0]" | sort -u | tr "\n" " "'
	assert_output '$hdel $hset $lpop $lpush $lset $rpop $rpush $sadd $srem $text $zadd '
	# a version of the past, and a rebuild from the log
	seq=$(nedb-log | jq -c 'select(.op == "patch" and .id == "h") | .seq' | sed -n 5p)
	run sh -c "nedb-get --as-of $seq redis h | jq -c '.value | length'"
	assert_output "$(nedb-get --as-of "$seq" redis h >/dev/null &&
		nedb-log --until "$seq" | jq -c 'select(.id == "h")' | wc -l)"
	nedb-checkpoint --rebuild >/dev/null
	run nedb-redis HMGET h f1 f3 f4 f150
	assert_output '1) "v1"
2) "a\xc3\xa8"
3) (nil)
4) "v150"'
	assert_determinism
}

# Random commands on a set, list, hash and sorted set of 200 members and
# more: kept as elements by the view (doc/ochange.md §7), changed by
# Redis operators, read by key.
random_big_values() {
	awk -v seed="$1" -v n="$2" 'BEGIN {
		srand(seed)
		for (i = 1; i <= 200; i++)
			printf "SADD s m%d\nRPUSH l e%d\nRPUSH q p%d\nHSET h f%d v%d\nZADD z %d z%d\n", i, i, i, i, i, i % 13, i
		for (i = 0; i < n; i++) {
			k = int(rand() * 300); k2 = int(rand() * 300)
			r = int(rand() * 1000); op = int(rand() * 71)
			# (no else-if chain: mawk refuses one this long)
			if (op == 0) printf "SADD s m%d m%d m%d é%d\n", k, k2, k, k
			if (op == 1) printf "SREM s m%d m%d é%d\n", k, k2, k
			if (op == 2) printf "SISMEMBER s m%d\n", k
			if (op == 3) print "SCARD s"
			if (op == 4) printf "LPUSH l a%d \"b %d\"\n", k, r
			if (op == 5) printf "RPUSH l c%d\n", k
			if (op == 6) print "LPOP l"
			if (op == 7) printf "RPOP l %d\n", k % 4
			if (op == 8) print "LLEN l"
			if (op == 9) printf "LINDEX l %d\n", k
			if (op == 10) printf "HSET h f%d v%d f%d w%d\n", k, r, k, r
			if (op == 11) printf "HDEL h f%d f%d\n", k, k2
			if (op == 12) printf "HGET h f%d\n", k
			if (op == 13) printf "HINCRBY h n%d %d\n", k % 20, r - 500
			if (op == 14) printf "HINCRBYFLOAT h x%d 1.5\n", k % 20
			if (op == 15) printf "HSETNX h f%d nx\n", k
			if (op == 16) printf "HMGET h f%d f%d nope\n", k, k2
			if (op == 17) printf "HSTRLEN h f%d\n", k
			if (op == 18) printf "ZADD z %s z%d\n", r / 8, k
			if (op == 19) printf "ZADD z XX CH %d z%d %d z%d\n", r, k, r, k2
			if (op == 20) printf "ZINCRBY z 2.5 z%d\n", k
			if (op == 21) printf "ZREM z z%d z%d\n", k, k2
			if (op == 22) printf "ZSCORE z z%d\n", k
			if (op == 23) printf "ZRANK z z%d\n", k
			if (op == 24) printf "LSET l 3 set%d\n", k
			if (op == 25) printf "ZADD z NX %d z%d\n", r, k
			if (op == 26) printf "ZADD z GT %d z%d\n", r % 50, k
			if (op == 27) print "HLEN h"
			if (op == 28) print "ZCARD z"
			if (op == 29) printf "LRANGE l 0 5\n"
			if (op == 30) printf "ZADD z INCR -1 z%d\n", k
			if (op == 31) printf "HEXISTS h f%d\n", k
			if (op == 32) print "LTRIM l 1 -2"
			if (op == 33) printf "LTRIM l 0 %d\n", 150 + k
			if (op == 34) printf "ZPOPMIN z %d\n", k % 3
			if (op == 35) print "ZPOPMAX z"
			if (op == 36) printf "LINDEX l %d\n", k - 300
			if (op == 37) printf "LRANGE l %d %d\n", k - 150, r - 500
			# the whole path over a value kept as elements
			if (op == 38) printf "SMOVE s s2 m%d\n", k
			if (op == 39) printf "ZREMRANGEBYRANK z %d %d\n", k % 50, k % 50 + 1
			if (op == 40) print "COPY h hc REPLACE"
			if (op == 41) printf "HDEL hc f%d\n", k
			# the queue commands over lists kept as elements
			if (op == 43) printf "LMOVE l q %s %s\n", k % 2 ? "LEFT" : "RIGHT", r % 2 ? "LEFT" : "RIGHT"
			if (op == 44) printf "LMOVE q l %s %s\n", k % 2 ? "LEFT" : "RIGHT", r % 2 ? "LEFT" : "RIGHT"
			if (op == 45) printf "RPOPLPUSH %s\n", k % 2 ? "l l" : "q q2"
			if (op == 46) printf "LMOVE q s LEFT LEFT\n"
			if (op == 47) printf "LMPOP 2 nosuch %s %s COUNT %d\n", k % 2 ? "l" : "q", r % 2 ? "LEFT" : "RIGHT", k % 4 + 1
			if (op == 48) printf "BLPOP nosuch %s 0.01\n", k % 2 ? "l" : "q"
			if (op == 49) printf "BRPOP s %s 0.01\n", k % 2 ? "l" : "q"
			if (op == 50) printf "BLMOVE q2 q RIGHT LEFT 0.01\n"
			if (op == 51) printf "SMOVE s2 s m%d\n", k
			if (op == 52) printf "SMOVE s %s m%d\n", k % 3 ? "s" : "h", k
			if (op == 53) printf "ZREMRANGEBYSCORE z %d (%d\n", k % 13, k % 13 + 1
			if (op == 54) printf "ZREMRANGEBYSCORE z (%s +inf\n", 130 + r / 8
			if (op == 55) printf "ZREMRANGEBYRANK z -%d -%d\n", k % 5 + 2, k % 5 + 1
			if (op == 56) printf "ZREMRANGEBYRANK z 0 %d\n", k % 3
			# sorted sets read by key, rank and score
			if (op == 57) printf "ZRANGE z %d %d\n", k - 150, r - 500
			if (op == 58) printf "ZREVRANGE z %d %d WITHSCORES\n", k % 5, k % 5 + r % 10
			if (op == 59) printf "ZRANGE z %d %d BYSCORE LIMIT %d %d WITHSCORES\n", k % 13, k % 13 + 4, r % 3, r % 7 - 1
			if (op == 60) printf("ZRANGEBYSCORE z (%s +inf LIMIT 0 5\n", r / 8)
			if (op == 61) printf "ZREVRANGEBYSCORE z %d -inf WITHSCORES LIMIT 1 3\n", k % 13
			if (op == 62) printf("ZRANGE z +inf (%d BYSCORE REV LIMIT 0 4\n", r / 8)
			if (op == 63) printf "ZCOUNT z %d (%d\n", k % 13, k % 13 + r % 60
			if (op == 64) printf "ZREVRANK z z%d\n", k
			if (op == 65) printf "ZRANGE z -%d -1 REV\n", k % 4 + 1
			if (op == 67) printf "SMISMEMBER s m%d m%d nope\n", k, k2
			if (op == 68) printf "ZMSCORE z z%d z%d nope\n", k, k2
			# the errors of LSET: an index out of range, not a number
			if (op == 69) printf "LSET l %d y%d\n", 2 * k - 300, r
			if (op == 70) printf "LSET l %s y\n", k % 2 ? "x1" : "99999999999999999999"
			if (op == 42 || op == 66) printf "HSET hc f%d c%d\n", k, r
		}
		print "LRANGE l 0 -1"
		print "LRANGE q 0 -1"
		print "LRANGE q2 0 -1"
		print "ZRANGE z 0 -1 WITHSCORES"
	}'
}

@test "values of more than 128 members are kept as elements and answer as redis-server" {
	local port
	random_big_values 7 1500 | same_as_redis
	port=$(cat "$BATS_FILE_TMPDIR/redis.port")
	# orders a hash table leaves to chance, sorted
	for c in "SMEMBERS s" "SMEMBERS s2" "HGETALL h" "HGETALL hc"; do
		diff <(nedb-redis --raw $c | sort) \
			<(redis-cli -p "$port" --raw $c | sort)
	done
	# the changes are Redis operators (and the bytes changed, of values
	# written whole: a small one, a command of the whole path)
	run sh -c 'nedb-log | jq -r "select(.op == \"patch\") | .doc | keys[0]" | sort -u | tr "\n" " "'
	assert_output '$hdel $hset $lpop $lpush $lset $rpop $rpush $sadd $srem $text $zadd $zrem '
	# the view rebuilt from the log holds the same
	nedb-get redis h >h.before
	nedb-checkpoint --rebuild >/dev/null
	nedb-get redis h | cmp - h.before
	assert_determinism
}

@test "a value kept as elements: DEL, redaction, an index, a query and a hand-written one" {
	awk 'BEGIN { for (i = 1; i <= 300; i++) printf "SADD s m%d\nSADD t m%d\nRPUSH q e%d\n", i, i, i }' |
		nedb-redis >/dev/null
	# an index on the collection is kept up by every operator
	nedb-index redis type eq >/dev/null
	nedb-redis SADD s extra >/dev/null
	run sh -c "nedb-query 'FROM redis WHERE type = \"set\"' | jq -r '._id + \" \" + (.value | length | tostring)'"
	assert_output 's 301
t 300'
	nedb-redis RPOP q 2 >/dev/null
	run sh -c "nedb-query 'FROM redis WHERE _id = \"q\"' | jq -c '.value[-2:]'"
	assert_output '["e297","e298"]'
	# a command of another type: WRONGTYPE, and nothing written
	local seq=$(head_seq)
	run -1 nedb-redis SADD q x
	assert_output '(error) WRONGTYPE Operation against a key holding the wrong kind of value'
	run -1 nedb-redis HSET q f v
	assert_output '(error) WRONGTYPE Operation against a key holding the wrong kind of value'
	assert_equal "$(head_seq)" "$seq"
	nedb-redis DEL t >/dev/null
	run sh -c "nedb-query 'FROM redis WHERE type = \"set\"' | jq -r ._id"
	assert_output 's'
	# the HEAD erased: its elements go with it
	nedb-redact redis s --all >/dev/null
	run sh -c 'nedb-get redis s | jq -c "keys"'
	assert_output '["_id","_redacted"]'
	assert_determinism
	# a big set written by hand out of order is read and changed in order
	awk 'BEGIN { printf "{\"_id\":\"h\",\"type\":\"set\",\"value\":["
		for (i = 300; i >= 1; i--) printf "%s\"x%03d\"", i < 300 ? "," : "", i
		print "]}" }' | nedb-put -q redis
	run nedb-redis SADD h x000 x001
	assert_output '(integer) 1'
	run sh -c 'nedb-redis --raw SMEMBERS h | head -3 | tr "\n" " "'
	assert_output 'x000 x001 x002 '
	run nedb-redis SCARD h
	assert_output '(integer) 301'
	assert_determinism
}

@test "a command of two operators on a value that the first leaves whole writes the second to its text" {
	# LTRIM pops from both ends.  Each list, kept as elements at 129 and
	# cut to 40 (a text too short to be kept so when next logged whole),
	# takes patches until their bytes are a few short of its size, a
	# different few for each: for some the first pop logs its full
	# version, which the view keeps whole, and the second pop is written
	# to the text (it was "key changed under the command")
	awk 'BEGIN {
		for (j = 0; j <= 40; j++) {
			k = sprintf("l%02d", j)
			printf "RPUSH %s", k
			for (i = 1; i <= 129; i++) printf " e%03d", i
			printf "\nLTRIM %s 0 39\n", k
			for (i = 0; i < 9; i++) printf "RPUSH %s x\nRPOP %s\n", k, k
			printf "RPUSH %s %s\nRPOP %s\n", k, substr("yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy", 1, j + 1), k
			printf "LTRIM %s 1 -2\nLLEN %s\nLRANGE %s 0 2\n", k, k, k
		}
	}' | same_as_redis
	# it happened: a put right after a first pop, then the second
	run sh -c 'nedb-log | jq -c "[.op, (.doc // {} | if has(\"value\") then \"value\" else (keys[0] // \"\") end)]" | grep -A1 -F "[\"patch\",\"\$lpop\"]" | grep -c -F "[\"put\",\"value\"]"'
	assert_success
	refute_output 0
	assert_determinism
}

@test "SPOP takes members of a set kept as elements at random, by one \$srem" {
	local m lo=0 hi=0
	awk 'BEGIN { for (i = 1; i <= 300; i++) printf "SADD s m%d\n", i }' |
		nedb-redis >/dev/null
	run nedb-redis --raw SPOP s 5
	assert_success
	assert_equal "$(printf '%s\n' "$output" | grep -c '^m[0-9]*$')" 5
	assert_equal "$(printf '%s\n' "$output" | sort -u | wc -l)" 5
	for m in $output; do
		run nedb-redis SISMEMBER s "$m"
		assert_output '(integer) 0'
	done
	run sh -c 'nedb-log -n 1 | jq -c "[.op, (.doc[\"\$srem\"] | length)]"'
	assert_output '["patch",5]'
	run nedb-redis SCARD s
	assert_output '(integer) 295'
	# one at a time, from anywhere in the set (all 100 from one half of
	# it: a chance of 2^-99)
	for m in $(yes 'SPOP s' | head -100 | nedb-redis --raw); do
		if [ "${m#m}" -le 150 ]; then lo=$((lo + 1)); else hi=$((hi + 1)); fi
	done
	assert_equal "$((lo + hi))" 100
	[ "$lo" -gt 0 ] && [ "$hi" -gt 0 ]
	run nedb-redis SCARD s
	assert_output '(integer) 195'
	# a pop that empties the set deletes it (the whole path)
	run sh -c 'nedb-redis --raw SPOP s 1000 | wc -l'
	assert_output 195
	run nedb-redis EXISTS s
	assert_output '(integer) 0'
	assert_determinism
}

@test "an encrypted database keeps big values whole, and answers as a plaintext one" {
	local key=$BATS_TEST_TMPDIR/k
	head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$key"
	random_big_values 3 600 >cmds
	# (a WRONGTYPE among them is an error: both exit 1)
	run -1 sh -c 'nedb-redis <cmds >plain.out'
	run -1 env NEDB_DIR="$BATS_TEST_TMPDIR/enc" NEDB_TMK_FILE="$key" \
		sh -c 'nedb-redis <cmds >enc.out'
	cmp plain.out enc.out
	run sh -c "NEDB_DIR=$BATS_TEST_TMPDIR/enc NEDB_TMK_FILE=$key nedb-get redis s l h z | cksum"
	assert_output "$(nedb-get redis s l h z | cksum)"
	# the encrypted view keeps them whole: its writes are no Redis operators
	run sh -c "NEDB_DIR=$BATS_TEST_TMPDIR/enc NEDB_TMK_FILE=$key nedb-log | jq -r 'select(.op == \"patch\") | .doc | keys[0]' | sort -u | tr '\n' ' '"
	assert_output '$text '
}

@test "a Redis operator that does not apply is a corrupt log, named by its seq" {
	local seq
	awk 'BEGIN { for (i = 1; i <= 200; i++) printf "RPUSH q e%d\n", i; print "LPOP q 100" }' |
		nedb-redis >/dev/null
	seq=$(nedb-log -n 1 | jq .seq)
	run -0 sh -c 'nedb-log -n 1 | jq -c .doc'
	assert_output '{"$lpop":100}'
	# as long a line (format 2's layout), the chain rewritten
	python3 "$BATS_TEST_DIRNAME/rechain.py" "$NEDB_DIR" "$seq" \
		'"$lpop":100' '"$lpop":900'
	rm -f "$NEDB_DIR"/view.mdb*
	run --separate-stderr nedb-get redis q
	assert_failure 5
	assert_output ""
	assert_equal "$stderr" "nedb-get: corrupt log: patch op $seq does not apply to 'redis/q': bad \$lpop patch of key 'q': want N, 1 to the list's length"
	python3 "$BATS_TEST_DIRNAME/format-check.py" file \
		"$BATS_TEST_DIRNAME/../man/nedb-format.5" nedb-replay.py > replay.py
	run --separate-stderr python3 replay.py "$NEDB_DIR/log.aof"
	assert_failure 1
	assert_equal "$stderr" "{\"ok\":false,\"seq\":$seq,\"error\":\"a Redis operator that does not apply\"}"
}

@test "a \$text patch that reaches past its document is a corrupt log, named by its seq" {
	local seq off
	awk 'BEGIN { for (i = 1; i <= 120; i++) printf "HSET h f%03d v%d\n", i, i }' |
		nedb-redis >/dev/null
	seq=$(nedb-log -n 1 | jq .seq)
	off=$(nedb-log -n 1 | jq '.doc["$text"][0]')
	[ "$(nedb-log -n 1 | jq -r .op)" = patch ]
	# the offset made 8000 larger, the line as long, the chain rewritten
	python3 "$BATS_TEST_DIRNAME/rechain.py" "$NEDB_DIR" "$seq" \
		"\"\$text\":[$off," "\"\$text\":[$((off + 8000)),"
	rm -f "$NEDB_DIR"/view.mdb*
	run --separate-stderr nedb-get redis h
	assert_failure 5
	assert_output ""
	assert_equal "$stderr" "nedb-get: corrupt log: patch op $seq does not apply to 'redis/h': bad \$text patch: want [OFFSET,LENGTH,\"TEXT\"] within the document"
	python3 "$BATS_TEST_DIRNAME/format-check.py" file \
		"$BATS_TEST_DIRNAME/../man/nedb-format.5" nedb-replay.py > replay.py
	run --separate-stderr python3 replay.py "$NEDB_DIR/log.aof"
	assert_failure 1
	assert_equal "$stderr" "{\"ok\":false,\"seq\":$seq,\"error\":\"a \$text patch past the document's end\"}"
}

# The documents of keys s l h z after every 7th op and now, as nedb-get
# prints them (a key missing then prints nothing).
versions_of_big_values() {
	local seq last
	last=$(head_seq)
	for ((seq = 1; seq <= last; seq += 7)); do
		echo "as of $seq"
		nedb-get --as-of "$seq" redis s l h z 2>/dev/null || true
	done
	nedb-get redis s l h z
}

@test "a log whose patches are the Redis operators reads, replays and verifies as the same values" {
	local script before
	{ big_values; echo "ZREM z z5 z6 nope"; echo "HDEL h f7 nope"
	  echo "SREM s m011 nope"; } | nedb-redis >/dev/null
	before=$(versions_of_big_values)
	script="$BATS_TEST_TMPDIR/replay.py"
	python3 "$BATS_TEST_DIRNAME/format-check.py" file \
		"$BATS_TEST_DIRNAME/../man/nedb-format.5" nedb-replay.py > "$script"
	# Each $text patch of the log becomes the Redis operator that makes
	# the same value (the format's script checks that it does), laid out
	# in format 2 as log.c lays a patch out, and the chain rehashed: the
	# log the writers of the Redis operators will write.
	python3 - "$script" "$NEDB_DIR/log.aof" <<-'EOF'
		import importlib.util, json, re, sys
		spec = importlib.util.spec_from_file_location("r", sys.argv[1])
		r = importlib.util.module_from_spec(spec)
		spec.loader.exec_module(r)
		def rop(t, a, b):   # the operator that makes value b of a
		    if t == "set":
		        add, rem = sorted(set(b) - set(a)), sorted(set(a) - set(b))
		        return {"$srem": rem} if rem else {"$sadd": add}
		    if t == "list":
		        for k in range(1, len(a) + 1):
		            if b == a[k:]:
		                return {"$lpop": k}
		            if b == a[:-k]:
		                return {"$rpop": k}
		        k = len(b) - len(a)
		        if k > 0 and b[k:] == a:
		            return {"$lpush": b[:k][::-1]}
		        return {"$rpush": b[len(a):]}
		    if t == "zset":
		        a, b = dict(a), dict(b)
		    rem = [f for f in a if f not in b]
		    if rem:
		        return {"$hdel" if t == "hash" else "$zrem": rem}
		    return {"$hset" if t == "hash" else "$zadd":
		            [[f, v] for f, v in b.items() if a.get(f) != v]}
		def relayout(line, doc):    # log.c's format_doc2
		    at, t = line.index(b',"doc":'), line.rfind(b',"ts":')
		    ds = line.rfind(b',"ds":"', 0, t) + 7
		    head = line[:at] + b',"doc":' + doc + b',"ds":"' + line[ds:ds + 32]
		    end = max(len(head) + 1, at + 169)
		    end += (128 - (32 + end) % 128) % 128
		    return head + b"0" * (end - 1 - len(head)) + b'"' + line[t:]
		path = sys.argv[2]
		lines = open(path, "rb").read().split(b"\n")[:-1]
		s = {name: set() if name == "idxdef" else {} for name, tag in r.TAGS}
		s["format"], s["erased"], s["files"] = 1, {}, {}
		prev, out, ops = bytes(32), [], {}
		for seq, line in enumerate(lines):
		    op = json.loads(line)
		    key = (op.get("coll", "") + "\0" + op.get("id", "")).encode()
		    old = s["docs"].get(key, b"")[56:]
		    prev = r.apply(s, seq, line, prev)
		    if op["op"] == "patch" and "$text" in op["doc"]:
		        a, b = json.loads(old), json.loads(s["docs"][key][56:])
		        u = json.dumps(rop(a["type"], a["value"], b["value"]),
		                       ensure_ascii=False, separators=(",", ":"))
		        u = u.encode()
		        if r.patch(old, u) == s["docs"][key][56:]:
		            line = relayout(line, u)
		            ops[u[2:u.index(b'"', 2)]] = True
		    out.append(line)
		prev = bytes(32)
		for i, line in enumerate(out):
		    line = re.sub(rb'"prev":"[0-9a-f]{64}"',
		                  b'"prev":"' + prev.hex().encode() + b'"', line, 1)
		    prev = r.hash_of(line, prev)[0]
		    out[i] = line[:-66] + prev.hex().encode() + b'"}'
		open(path, "wb").write(b"".join(l + b"\n" for l in out))
		r.replay(open(path, "rb").read())
	EOF
	rm -f "$NEDB_DIR"/view.mdb*
	run sh -c 'nedb-log | jq -r "select(.op == \"patch\") | .doc | keys[0]" | sort | uniq -c | wc -l'
	assert_output 11	# the eleven operators
	# the view rebuilt from the log applies them; past versions too, a
	# run of them at a time: every value as it was
	run versions_of_big_values
	assert_output "$before"
	assert_determinism
	# and the format's script agrees with nedb-verify and nedb-get
	run --separate-stderr python3 "$script" "$NEDB_DIR/log.aof"
	assert_success
	assert_equal "$stderr" "$(nedb-verify)"
	assert_equal "$output" "$(nedb-get redis h l s z)"
}

@test "SUNION, SINTER and SDIFF combine sets; a missing key is an empty set" {
	nedb-redis SADD a 1 2 3 4
	nedb-redis SADD b 3 4 5
	nedb-redis SADD c 4 6
	run nedb-redis --raw SUNION a b c nosuch
	assert_output "$(printf '%s\n' 1 2 3 4 5 6)"
	run nedb-redis --raw SINTER a b c
	assert_output 4
	run nedb-redis SINTER a nosuch
	assert_output '(empty array)'
	run nedb-redis --raw SDIFF a b nosuch
	assert_output "$(printf '%s\n' 1 2)"
	run nedb-redis SDIFF nosuch a
	assert_output '(empty array)'
	nedb-redis SET str x
	run -1 nedb-redis SINTER a nosuch str
	assert_output '(error) WRONGTYPE Operation against a key holding the wrong kind of value'
}

# ---- lists ----------------------------------------------------------------

@test "LPUSH, RPUSH, LRANGE, LLEN and LINDEX" {
	run nedb-redis LPUSH l b a
	assert_output '(integer) 2'
	run nedb-redis RPUSH l c d
	assert_output '(integer) 4'
	run nedb-redis --raw LRANGE l 0 -1
	assert_output "$(printf '%s\n' a b c d)"
	run nedb-redis --raw LRANGE l -2 100
	assert_output "$(printf '%s\n' c d)"
	run nedb-redis LRANGE l 3 1
	assert_output '(empty array)'
	run -1 nedb-redis LRANGE l a 1
	assert_output '(error) ERR value is not an integer or out of range'
	run nedb-redis LLEN l
	assert_output '(integer) 4'
	run nedb-redis LINDEX l -1
	assert_output '"d"'
	run nedb-redis LINDEX l 9
	assert_output '(nil)'
	run nedb-redis LLEN nosuch
	assert_output '(integer) 0'
	run nedb-get redis l
	assert_output '{"_id":"l","type":"list","value":["a","b","c","d"]}'
}

@test "LSET, LPOP and RPOP, with and without a count" {
	nedb-redis RPUSH l 1 2 3 4 5
	run nedb-redis LSET l -1 five
	assert_output OK
	run -1 nedb-redis LSET l 5 x
	assert_output '(error) ERR index out of range'
	run -1 nedb-redis LSET nosuch 0 x
	assert_output '(error) ERR no such key'
	run nedb-redis LPOP l
	assert_output '"1"'
	run nedb-redis RPOP l
	assert_output '"five"'
	run nedb-redis LPOP l 0
	assert_output '(empty array)'
	run nedb-redis RPOP l 2
	assert_output '1) "4"
2) "3"'
	run nedb-redis LPOP l 5
	assert_output '1) "2"'
	run nedb-redis EXISTS l
	assert_output '(integer) 0'
	run nedb-redis LPOP l
	assert_output '(nil)'
	run nedb-redis LPOP l 2
	assert_output '(nil)'
	run -1 nedb-redis LPOP l -1
	assert_output '(error) ERR value is out of range, must be positive'
	run -1 nedb-redis RPOP l 1 2
	assert_output "(error) ERR wrong number of arguments for 'rpop' command"
}

# ---- expiry -----------------------------------------------------------------

@test "EXPIRE, TTL, PTTL and PERSIST" {
	nedb-redis SET k v
	run nedb-redis TTL k
	assert_output '(integer) -1'
	run nedb-redis TTL nosuch
	assert_output '(integer) -2'
	run nedb-redis PTTL nosuch
	assert_output '(integer) -2'
	run nedb-redis EXPIRE k 100
	assert_output '(integer) 1'
	run nedb-redis TTL k
	assert_output --regexp '^\(integer\) (99|100)$'
	run nedb-redis PEXPIRE k 50000
	assert_output '(integer) 1'
	run nedb-redis PTTL k
	assert_output --regexp '^\(integer\) (49|50)[0-9]{3}$'
	run nedb-redis PERSIST k
	assert_output '(integer) 1'
	run nedb-redis PERSIST k
	assert_output '(integer) 0'
	run nedb-redis TTL k
	assert_output '(integer) -1'
	run nedb-redis EXPIRE nosuch 10
	assert_output '(integer) 0'
	run nedb-redis PERSIST nosuch
	assert_output '(integer) 0'
	run nedb-log -n 1
	assert_output --regexp '"op":"expire".*"client":"redis".*"exp":0,'
}

@test "EXPIRE takes NX, XX, GT and LT as Redis does" {
	nedb-redis SET k v
	run nedb-redis EXPIRE k 100 XX
	assert_output '(integer) 0'
	run nedb-redis EXPIRE k 100 GT
	assert_output '(integer) 0'
	run nedb-redis EXPIRE k 100 NX
	assert_output '(integer) 1'
	run nedb-redis EXPIRE k 200 NX
	assert_output '(integer) 0'
	run nedb-redis EXPIRE k 50 GT
	assert_output '(integer) 0'
	run nedb-redis EXPIRE k 200 gt
	assert_output '(integer) 1'
	run nedb-redis EXPIRE k 300 LT
	assert_output '(integer) 0'
	run nedb-redis EXPIRE k 150 LT
	assert_output '(integer) 1'
	run nedb-redis TTL k
	assert_output --regexp '^\(integer\) (149|150)$'
	run -1 nedb-redis EXPIRE k 10 NX XX
	assert_output '(error) ERR NX and XX, GT or LT options at the same time are not compatible'
	run -1 nedb-redis EXPIRE k 10 GT LT
	assert_output '(error) ERR GT and LT options at the same time are not compatible'
	run -1 nedb-redis EXPIRE k 10 SOON
	assert_output '(error) ERR Unsupported option SOON'
	run -1 nedb-redis EXPIRE k 99999999999999999
	assert_output "(error) ERR invalid expire time in 'expire' command"
	run -1 nedb-redis PEXPIRE k 9223372036854775807
	assert_output "(error) ERR invalid expire time in 'pexpire' command"
}

@test "EXPIRE with a time that has passed deletes the key" {
	nedb-redis SET k v
	run nedb-redis EXPIRE k -1
	assert_output '(integer) 1'
	run nedb-redis EXISTS k
	assert_output '(integer) 0'
	run nedb-log -n 1
	assert_output --partial '"op":"delete"'
}

@test "an expired key is missing at once, and nedb-sweep deletes its document" {
	nedb-redis SET k v PX 200
	nedb-redis RPUSH l a
	nedb-redis PEXPIRE l 200
	sleep 0.4
	run nedb-redis GET k
	assert_output '(nil)'
	run nedb-redis TTL k
	assert_output '(integer) -2'
	run nedb-redis EXISTS k l
	assert_output '(integer) 0'
	run nedb-redis LPUSH l b
	assert_output '(integer) 1'
	run nedb-redis TTL l
	assert_output '(integer) -1'
	run nedb-redis KEYS '*'
	assert_output '1) "l"'
	run nedb-sweep
	assert_output '{"deleted":1}'
	run nedb-get --as-of 1 redis k
	assert_output '{"_id":"k","type":"string","value":"v"}'
	assert_determinism
}

@test "commands that change a value keep its TTL" {
	local cmd
	nedb-redis SET s 1
	nedb-redis HSET h f 1
	nedb-redis SADD t a
	nedb-redis RPUSH l a b
	local key
	for cmd in "APPEND s x" "SET s 2 KEEPTTL" "INCR s" "HSET h g 2" \
		"HDEL h g" "HINCRBY h f 1" "SADD t b" "SREM t b" "LPUSH l z" \
		"LSET l 0 y" "RPOP l"; do
		key=$(echo "$cmd" | cut -d' ' -f2)
		nedb-redis EXPIRE "$key" 100
		nedb-redis $cmd
		run nedb-redis TTL "$key"
		[[ $output =~ ^\(integer\)\ (99|100)$ ]] ||
			fail "$cmd: TTL is $output"
	done
	nedb-redis SET s plain
	run nedb-redis TTL s
	assert_output '(integer) -1'
}

# ---- server and connection -----------------------------------------------------

@test "PING, ECHO and QUIT" {
	run nedb-redis PING
	assert_output PONG
	run nedb-redis ping "hello there"
	assert_output '"hello there"'
	run nedb-redis ECHO 'a"b'
	assert_output '"a\"b"'
	run nedb-redis QUIT
	assert_output OK
}

@test "SELECT answers OK for the database's own name only" {
	mkdir -p "$BATS_TEST_TMPDIR/dbs"
	run nedb-redis -d "$BATS_TEST_TMPDIR/dbs/shop/" SELECT shop
	assert_success
	assert_output OK
	run -1 nedb-redis -d "$BATS_TEST_TMPDIR/dbs/shop" SELECT 0
	assert_output "(error) ERR cannot select '0': only database 'shop' is open here"
}

@test "INFO prints its sections as they are, the keys counted as db0" {
	nedb-redis MSET a 1 b 2
	run nedb-redis INFO
	assert_success
	assert_line --partial 'redis_version:7.0.0'
	assert_line --partial 'redis_mode:standalone'
	assert_line --partial 'role:master'
	assert_line --partial 'db0:keys=2,expires=0,avg_ttl=0'
	run nedb-redis info keyspace
	assert_output "$(printf '# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r')"
	# expires counts the live keys with a TTL; avg_ttl is their mean, in ms
	nedb-redis SET c 3 EX 1000 >/dev/null
	nedb-redis SET d 4 PX 3000000 >/dev/null
	nedb-redis SET x 5 PX 1 >/dev/null
	nedb-redis HSET h f v >/dev/null
	nedb-put -q users u1 '{}' --ttl 100
	run nedb-redis INFO keyspace
	assert_output --regexp $'^# Keyspace\r\ndb0:keys=5,expires=2,avg_ttl=(1999[0-9]{3}|2000000)\r$'
	run nedb-redis INFO nosuchsection
	assert_output ''
}

@test "COMMAND describes the table: COUNT, INFO, LIST, DOCS" {
	local count
	count=$(nedb-redis --raw COMMAND COUNT)
	run nedb-redis COMMAND INFO get mset nosuch
	assert_output '1) 1) "get"
   2) (integer) 2
   3) 1) readonly
   4) (integer) 1
   5) (integer) 1
   6) (integer) 1
   7) (empty array)
2) 1) "mset"
   2) (integer) -3
   3) 1) write
   4) (integer) 1
   5) (integer) -1
   6) (integer) 2
   7) (empty array)
3) (nil)'
	run nedb-redis --raw COMMAND LIST
	assert_line set
	assert_line eval
	assert_line zadd
	assert_equal "${#lines[@]}" "$count"
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | wc -l)" "$count"
	run nedb-redis COMMAND DOCS
	assert_output '(empty array)'
	run -1 nedb-redis COMMAND NOSUCH
	assert_output --partial "(error) ERR unknown subcommand or wrong number of arguments for 'NOSUCH'"
}

@test "AUTH without a password configured answers as Redis does" {
	run -1 nedb-redis AUTH secret
	assert_output '(error) ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?'
	run nedb-redis AUTH default anything
	assert_output OK
	run -1 nedb-redis AUTH someone else
	assert_output '(error) WRONGPASS invalid username-password pair or user is disabled.'
	run -1 nedb-redis AUTH a b c
	assert_output '(error) ERR syntax error'
}

@test "EVAL runs an NQL query and answers its rows as JSON strings" {
	nedb-redis MSET a 1 b 2
	nedb-redis HSET h f v
	nedb-put -q users alice '{"age":31}'
	run nedb-redis EVAL 'FROM redis WHERE type = "string" ORDER BY _id' 0
	assert_output '1) "{\"_id\":\"a\",\"type\":\"string\",\"value\":\"1\"}"
2) "{\"_id\":\"b\",\"type\":\"string\",\"value\":\"2\"}"'
	run nedb-redis --raw eval 'FROM users' 0
	assert_output '{"_id":"alice","age":31}'
	run nedb-redis --raw EVAL 'FROM redis AS OF 1' 0
	assert_output '{"_id":"a","type":"string","value":"1"}'
	run nedb-redis EVAL 'FROM nothing' 0
	assert_output '(empty array)'
	run -1 nedb-redis EVAL 'FROM redis WHERE' 0
	assert_output --regexp '^\(error\) ERR syntax error at column [0-9]+: '
	run -1 nedb-redis EVAL 'FROM redis' 1 a
	assert_output '(error) ERR EVAL runs one NQL query here: it takes numkeys 0 and no arguments'
	run -1 nedb-redis EVAL 'FROM redis' 2 a
	assert_output "(error) ERR Number of keys can't be greater than number of args"
	run -1 nedb-redis EVAL 'FROM redis' x
	assert_output '(error) ERR value is not an integer or out of range'
}

# ---- errors -----------------------------------------------------------------------

@test "an unknown command is answered as Redis words it, with exit status 1" {
	run --separate-stderr nedb-redis FOO a 'b c'
	assert_failure 1
	assert_output "(error) ERR unknown command 'FOO', with args beginning with: 'a' 'b c' "
	assert_equal "$stderr" ""
	run -1 nedb-redis debug
	assert_output "(error) ERR unknown command 'debug', with args beginning with: "
	run -1 nedb-redis FOO "$(printf 'x%.0s' {1..200})"
	assert_output "(error) ERR unknown command 'FOO', with args beginning with: '$(printf 'x%.0s' {1..128})' "
}

@test "a wrong number of arguments is answered as Redis words it" {
	local cmd name
	for cmd in GET "GET a b" "SET a" "HSET h f" "HSET h f v g" "HMSET h" \
		"HGET h" "HINCRBY h f" "SADD s" "SISMEMBER s" "LPUSH l" \
		"LRANGE l 0" "LSET l 0" "EXPIRE k" "TTL" "PERSIST" "RENAME a" \
		"ECHO" "PING a b" "SELECT" "AUTH" "EVAL x" "KEYS" "DBSIZE x" \
		"MGET" "DEL" "EXISTS" "APPEND k" "STRLEN" "INCRBY k" "SUNION"; do
		name=$(echo "${cmd%% *}" | tr A-Z a-z)
		run -1 nedb-redis $cmd
		assert_output "(error) ERR wrong number of arguments for '$name' command"
	done
}

@test "every command of a type answers WRONGTYPE on a key of another type" {
	local before
	nedb-redis SET s text
	nedb-redis RPUSH l item
	before=$(head_seq)
	run -1 nedb-redis <<-'EOF'
		GET l
		INCR l
		INCRBY l 1
		DECR l
		DECRBY l 1
		APPEND l x
		STRLEN l
		GETDEL l
		SET l v GET
		HSET s f v
		HMSET s f v
		HSETNX s f v
		HGET s f
		HMGET s f
		HGETALL s
		HDEL s f
		HEXISTS s f
		HKEYS s
		HVALS s
		HLEN s
		HINCRBY s f 1
		SADD s m
		SMEMBERS s
		SISMEMBER s m
		SREM s m
		SCARD s
		SUNION s
		SINTER s
		SDIFF s
		LPUSH s x
		RPUSH s x
		LRANGE s 0 -1
		LLEN s
		LINDEX s 0
		LSET s 0 x
		LPOP s
		RPOP s 2
	EOF
	assert_equal "${#lines[@]}" 37
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u)" \
		'(error) WRONGTYPE Operation against a key holding the wrong kind of value'
	assert_equal "$(head_seq)" "$before"
}

@test "keys that are not nedb ids are refused with an error" {
	run -1 nedb-redis SET '' v
	assert_output '(error) ERR bad key: empty'
	run -1 nedb-redis SET "$(printf 'a\tb')" v
	assert_output '(error) ERR bad key: control character at byte 2'
	run -1 nedb-redis GET "$(printf 'k%.0s' {1..401})"
	assert_output --regexp "^\(error\) ERR bad key 'k+\.\.\.': longer than 400 bytes$"
	run -1 nedb-redis <<<'MSET good 1 "bad\xff" 2'
	assert_output '(error) ERR bad key: not valid UTF-8'
	run -1 nedb-redis <<<'RENAME good "\x01"'
	assert_output '(error) ERR bad key: control character at byte 1'
	run nedb-redis EXISTS good
	assert_output '(integer) 0'
	run nedb-redis SET "$(printf 'k%.0s' {1..400})" v
	assert_output OK
}

@test "a document of another shape is of type unknown" {
	nedb-put -q redis doc '{"name":"Alice"}'
	nedb-put -q redis num '{"type":"string","value":5}'
	run nedb-redis TYPE doc
	assert_output unknown
	run -1 nedb-redis GET num
	assert_output '(error) WRONGTYPE Operation against a key holding the wrong kind of value'
	run nedb-redis EXISTS doc num
	assert_output '(integer) 2'
	run nedb-redis --raw KEYS '*'
	assert_output "$(printf '%s\n' doc num)"
	run nedb-redis RENAME doc doc2
	assert_output OK
	run nedb-get redis doc2
	assert_output '{"_id":"doc2","name":"Alice"}'
	run nedb-redis SET num 6
	assert_output OK
	run nedb-redis GET num
	assert_output '"6"'
}

@test "a hand-written set is read sorted and without repeats" {
	nedb-put -q redis s '{"type":"set","value":["b","a","b"]}'
	run nedb-redis SMEMBERS s
	assert_output '1) "a"
2) "b"'
	run nedb-redis SCARD s
	assert_output '(integer) 2'
}

# ---- documents and ops ----------------------------------------------------------------

@test "every write is a document of the collection redis, read by nedb-get" {
	nedb-redis SET s 'say "hi"\now'
	nedb-redis HSET h "a b" 1 c 2
	nedb-redis SADD t y x
	nedb-redis RPUSH l 1 2 1
	nedb-redis SET 'ünï' 'cödé'
	run nedb-get redis s h t l 'ünï'
	assert_success
	assert_output '{"_id":"s","type":"string","value":"say \"hi\"\\now"}
{"_id":"h","type":"hash","value":{"a b":"1","c":"2"}}
{"_id":"t","type":"set","value":["x","y"]}
{"_id":"l","type":"list","value":["1","2","1"]}
{"_id":"ünï","type":"string","value":"cödé"}'
}

@test "a value that is not UTF-8 is stored in base64 and read back byte for byte" {
	run nedb-redis <<-'EOF'
		SET bin "\xff\x00\x01a"
		GET bin
		APPEND text "\xc3"
		GET text
		APPEND text "\xa9"
		HSET h "\xfe" "\x80"
		HGETALL h
		SADD s b "\xff" a
		SMEMBERS s
		RPUSH l ok "\x00\xff"
		LRANGE l 0 -1
	EOF
	assert_success
	assert_output 'OK
"\xff\x00\x01a"
(integer) 1
"\xc3"
(integer) 2
(integer) 1
1) "\xfe"
2) "\x80"
(integer) 3
1) "a"
2) "b"
3) "\xff"
(integer) 2
1) "ok"
2) "\x00\xff"'
	run nedb-get redis bin text h s l
	assert_output '{"_id":"bin","type":"string","b64":"/wABYQ=="}
{"_id":"text","type":"string","value":"é"}
{"_id":"h","type":"hash","b64":{"/g==":"gA=="}}
{"_id":"s","type":"set","b64":["YQ==","Yg==","/w=="]}
{"_id":"l","type":"list","b64":["b2s=","AP8="]}'
	nedb-redis --raw GET bin >out
	run od -An -tx1 out
	assert_output ' ff 00 01 61 0a'
	assert_determinism
}

@test "every write is an op of client redis, and reads append nothing" {
	local before
	nedb-redis SET a 1
	nedb-redis HSET h f v
	nedb-redis EXPIRE a 100
	nedb-redis DEL h
	run sh -c 'nedb-log | jq -c "select(.seq > 0) | [.seq, .op, .client, .coll, .id]"'
	assert_output '[1,"put","redis","redis","a"]
[2,"put","redis","redis","h"]
[3,"expire","redis","redis","a"]
[4,"delete","redis","redis","h"]'
	before=$(head_seq)
	run -1 nedb-redis <<-'EOF'
		GET a
		MGET a b
		EXISTS a
		TTL a
		KEYS *
		DBSIZE
		SETNX a 2
		SET a 2 NX
		SADD s
		HDEL nosuch f
		SREM nosuch m
		PERSIST nosuch
		EXPIRE nosuch 10
		EVAL "FROM redis" 0
	EOF
	assert_equal "$(head_seq)" "$before"
}

@test "the chain verifies after every kind of command" {
	nedb-redis <<-'EOF'
		SET a 1 EX 100
		MSET b 2 c 3
		INCR b
		APPEND c x
		SETNX d 4
		GETDEL d
		RENAME c c2
		HSET h f 1 g 2
		HINCRBY h f 5
		HDEL h g
		SADD s x y z
		SREM s y
		LPUSH l a b c
		LSET l 0 z
		LPOP l
		RPOP l 1
		EXPIRE b 100
		PERSIST b
		DEL a
		FLUSHDB
		SET after 1
	EOF
	assert_determinism
	run nedb-verify
	assert_output --partial '"seq":23,'
}

# ---- the command line ---------------------------------------------------------------

@test "--raw prints values one per line, unquoted, nil as an empty line" {
	nedb-redis RPUSH l a '' 'b c'
	run nedb-redis --raw LRANGE l 0 -1
	assert_output 'a

b c'
	run nedb-redis --raw GET nosuch
	assert_output ''
	run nedb-redis --raw LLEN l
	assert_output 3
	run -1 nedb-redis --raw GET l
	assert_output 'WRONGTYPE Operation against a key holding the wrong kind of value'
}

@test "arrays of ten or more are numbered aligned, nested ones indented" {
	nedb-redis RPUSH l 1 2 3 4 5 6 7 8 9 10 11
	run nedb-redis LRANGE l 0 -1
	assert_line --index 0 ' 1) "1"'
	assert_line --index 9 '10) "10"'
	assert_line --index 10 '11) "11"'
	run nedb-redis COMMAND INFO ping
	assert_output '1) 1) "ping"
   2) (integer) -1
   3) 1) no_auth
   4) (integer) 0
   5) (integer) 0
   6) (integer) 0
   7) (empty array)'
}

@test "strings are printed with redis-cli's escapes" {
	run nedb-redis <<-'EOF'
		ECHO "tab\there \"q\" back\\slash\r\n\a\b \x7f\x01"
	EOF
	assert_output '"tab\there \"q\" back\\slash\r\n\a\b \x7f\x01"'
}

@test "commands on stdin are split as redis-cli splits them" {
	run nedb-redis <<-'EOF'
		ECHO plain

		ECHO "two words"
		ECHO 'single \'quoted\''
		  SET   k   "a\x41\n"
		GET k
		ECHO "\q"
		ECHO it"s joined"
	EOF
	assert_success
	assert_output '"plain"
"two words"
"single '"'quoted'"'"
OK
"aA\n"
"q"
"its joined"'
}

@test "an unbalanced quote on stdin is reported with its line number, exit 4" {
	run --separate-stderr nedb-redis <<-'EOF'
		SET a 1
		SET b "open
		GET a
		ECHO "x"y
	EOF
	assert_failure 4
	assert_output 'OK
"1"'
	assert_equal "$stderr" "nedb-redis: line 2: invalid argument(s): unbalanced quotes
nedb-redis: line 4: invalid argument(s): unbalanced quotes"
}

@test "a NUL byte on stdin is reported with its line number, exit 4" {
	printf 'SET a\0b 1\nPING\n' >cmds
	run --separate-stderr nedb-redis <cmds
	assert_failure 4
	assert_output PONG
	assert_equal "$stderr" 'nedb-redis: line 1: invalid argument(s): a NUL byte (write it as "\x00")'
}

@test "commands on stdin see the writes of their batch, and QUIT ends them" {
	run nedb-redis <<-'EOF'
		SET n 1
		INCR n
		GET n
		RPUSH l a
		LPOP l
		EXISTS l
		QUIT
		SET never 1
	EOF
	assert_success
	assert_output 'OK
(integer) 2
"2"
(integer) 1
"a"
(integer) 0
OK'
	run nedb-redis EXISTS never
	assert_output '(integer) 0'
	assert_determinism
}

@test "many commands on stdin are committed in batches" {
	local i
	awk 'BEGIN { for (i = 0; i < 3000; i++) print "SET k" i, i "\nINCR k" i }' >cmds
	run nedb-redis <cmds
	assert_success
	assert_equal "${#lines[@]}" 6000
	assert_line --index 5999 '(integer) 3000'
	run nedb-redis DBSIZE
	assert_output '(integer) 3000'
	run nedb-redis GET k2999
	assert_output '"3000"'
	assert_determinism
}

@test "arguments may start with a dash: options end at COMMAND" {
	nedb-redis SET n 10
	run nedb-redis DECRBY n -5
	assert_output '(integer) 15'
	run nedb-redis SET -d -h
	assert_output OK
	run nedb-redis GET -d
	assert_output '"-h"'
}

@test "a read of a missing database exits 5; the first write creates it" {
	run --separate-stderr nedb-redis GET k
	assert_failure 5
	assert_output ''
	assert_equal "$stderr" "nedb-redis: cannot open database '$NEDB_DIR': no such database"
	[ ! -e "$NEDB_DIR" ]
	run -1 nedb-redis GET
	assert_output "(error) ERR wrong number of arguments for 'get' command"
	run -1 nedb-redis GET ''
	assert_output '(error) ERR bad key: empty'
	run --separate-stderr nedb-redis <<<'GET k'
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
	run nedb-redis PING
	assert_output PONG
	run nedb-redis SET k v
	assert_output OK
	[ -f "$NEDB_DIR/log.aof" ]
}

@test "--help prints the usage; a bad option is a usage error" {
	run nedb-redis --help
	assert_success
	assert_line --index 0 'usage: nedb-redis [options] COMMAND [ARG...]'
	assert_line --index 1 '       nedb-redis [options] < COMMANDS'
	run --separate-stderr nedb-redis --bogus GET k
	assert_failure 2
	assert_equal "$stderr" "nedb-redis: unknown option '--bogus' (see 'nedb-redis --help')"
	run nedb-redis --version
	assert_output --regexp '^nedb-redis \(nedb\) '
}

# ---- against a real redis-server -----------------------------------------------------------

@test "strings print as with redis-server" {
	same_as_redis <<-'EOF'
		SET a 1
		GET a
		SET a 2 NX
		SET a 3 XX GET
		SET b v XX
		INCR a
		INCRBY a -10
		DECR a
		DECRBY a 3
		INCR fresh
		MSET k1 v1 k2 "v 2"
		MGET k1 k2 nosuch
		SETNX k1 z
		SETNX k3 z
		GETDEL k3
		GETDEL k3
		APPEND k1 "  tail\n"
		GET k1
		STRLEN k1
		TYPE k1
		TYPE nosuch
		EXISTS k1 k2 nosuch k1
		DEL k1 nosuch
		RENAME k2 k9
		GET k9
		SET e ""
		GET e
		SET u "\xc3\xa9\x00"
		GET u
		DBSIZE
		FLUSHDB
		DBSIZE
	EOF
}

@test "hashes, sets and lists print as with redis-server" {
	same_as_redis <<-'EOF'
		HSET h z 1 a 2 m 3
		HSET h a 5 q 4
		HGETALL h
		HKEYS h
		HVALS h
		HMGET h a nosuch q
		HMSET h x 1
		HSETNX h x 2
		HINCRBY h n 7
		HDEL h z nosuch
		HLEN h
		HEXISTS h q
		HGET h q
		SADD s b a c
		SADD s a
		SISMEMBER s b
		SREM s b x
		SCARD s
		SADD s2 c
		SINTER s s2
		SDIFF s s2
		SUNION nosuch s2
		SMEMBERS nosuch
		LPUSH l 1 2 3
		RPUSH l 4 5
		LRANGE l 0 -1
		LRANGE l -2 -1
		LRANGE l 5 1
		LINDEX l -1
		LINDEX l 99
		LSET l 0 z
		LPOP l
		RPOP l
		LPOP l 2
		RPOP l 5
		LPOP l 0
		LPOP l
		LPOP l 3
		LLEN l
	EOF
}

@test "errors print as with redis-server" {
	same_as_redis <<-'EOF'
		SET s text
		LPUSH l x
		GET l
		INCR s
		HSET s f v
		SADD l m
		LPUSH s x
		SET l v GET
		SET m 9223372036854775807
		INCR m
		INCRBY m x
		DECRBY m -9223372036854775808
		HSET h f text
		HINCRBY h f 1
		SET k v EX 0
		SET k v EX x
		SET k v NX XX
		SET k v FOREVER
		LSET nosuch 0 x
		LSET l 9 x
		LPOP l -1
		LPOP l 1 2
		RENAME nosuch x
		EXPIRE s 10 NX XX
		EXPIRE s 10 GT LT
		EXPIRE s 10 SOON
		EXPIRE s 99999999999999999
		MSET a
		HSET h f
		GET
		PING a b
		ECHO
		FLUSHDB NOW
		FOO bar "baz qux"
		AUTH a b c
		EVAL "x" 2 a
	EOF
}

@test "expiry prints as with redis-server" {
	same_as_redis <<-'EOF'
		SET k v
		TTL k
		PTTL nosuch
		TTL nosuch
		EXPIRE nosuch 10
		EXPIRE k 100 XX
		EXPIRE k 100 NX
		TTL k
		EXPIRE k 200 NX
		EXPIRE k 50 GT
		EXPIRE k 200 GT
		EXPIRE k 300 LT
		PERSIST k
		PERSIST k
		TTL k
		SET t v EX 100
		TTL t
		SET t v2 KEEPTTL
		TTL t
		APPEND t x
		TTL t
		SET t v3
		TTL t
		EXPIRE k -1
		EXISTS k
	EOF
}

@test "the list commands a replica sees print as with redis-server" {
	same_as_redis <<-'EOF'
		RPUSH l a b c a b c a
		LREM l -2 a
		LRANGE l 0 -1
		LREM l 0 b
		LREM l 1 c
		LRANGE l 0 -1
		LINSERT l BEFORE a X
		LINSERT l AFTER zz Y
		LINSERT l MIDDLE a Y
		LINSERT nosuch AFTER a Y
		LTRIM l 1 -1
		LRANGE l 0 -1
		LTRIM l 5 10
		EXISTS l
		RPUSH q 1 2 3
		LMOVE q q2 LEFT RIGHT
		RPOPLPUSH q q2
		LRANGE q2 0 -1
		LMOVE q q RIGHT LEFT
		LMOVE q q2 UP DOWN
		LRANGE q 0 -1
		LPUSHX nope a
		RPUSHX q2 z
		LRANGE q2 0 -1
		SET s x
		LMOVE q s LEFT LEFT
		RPOPLPUSH nosuch q
	EOF
}

@test "the set commands a replica sees print as with redis-server" {
	# integers: redis-server lists a small set of them in order (another
	# set in the order of a hash seeded at random)
	same_as_redis <<-'EOF'
		SADD s1 1 2 3
		SADD s2 2 3 4
		SINTERSTORE d s1 s2
		SMEMBERS d
		SDIFFSTORE d s1 s2
		SMEMBERS d
		SINTERSTORE d s1 nosuch
		EXISTS d
		SMOVE s1 s2 1
		SMOVE s1 s2 1
		SMOVE s1 s1 2
		SCARD s2
		SET str x
		SMOVE s1 str 2
		SUNIONSTORE str s1
		TYPE str
	EOF
}

@test "the sorted set commands print as with redis-server" {
	same_as_redis <<-'EOF'
		ZADD z 1 a 2 b 3 c
		ZADD z XX CH 5 a 1 new
		ZADD z NX 10 a 4 d
		ZADD z GT 1 b 7 c
		ZADD z LT INCR -1 c
		ZADD z XX INCR 1 nosuch
		ZINCRBY z 0.5 d
		ZRANGE z 0 -1 WITHSCORES
		ZSCORE z c
		ZSCORE z nosuch
		ZCARD z
		ZREM z a nope
		ZPOPMIN z
		ZPOPMAX z 2
		ZPOPMIN nosuch
		ZADD z 1 x 2 y 3 w 4 v
		ZREMRANGEBYSCORE z (1 3
		ZRANGE z 0 -1
		ZREMRANGEBYRANK z 0 0
		ZRANGE z 0 -1 WITHSCORES
		ZADD z inf big -inf small
		ZRANGE z 0 -1 WITHSCORES
		ZADD z 1.1 f
		ZSCORE z f
		ZINCRBY z -inf big
		ZADD z nan c
		ZADD z XX NX 1 a
		ZADD z GT LT 1 a
		ZADD z INCR 1 a 2 b
		ZADD z 1
		ZREMRANGEBYSCORE z a b
		SET str x
		ZADD str 1 a
		ZRANGE z -2 -1
		ZREMRANGEBYSCORE z -inf +inf
		EXISTS z
	EOF
}

# (EXPIRETIME, not TTL: a TTL read in each server's own second could
# differ by one when the clock ticks between the two runs)
@test "absolute times, UNLINK, RENAMENX and FLUSHALL print as with redis-server" {
	same_as_redis <<-'EOF'
		SET k v PXAT 1
		EXISTS k
		SET k v EXAT 99999999999
		EXPIRETIME k
		SET k v EX 1 PXAT 5
		SET k v KEEPTTL PXAT 5
		SET k v PXAT 0
		PEXPIREAT k 1
		EXISTS k
		SET k v
		EXPIREAT k 99999999999
		EXPIRETIME k
		EXPIREAT k 10000000000000000
		PEXPIREAT k 99999999999999 NX
		UNLINK k nope
		SET a 1
		SET b 2
		RENAMENX a b
		RENAMENX a c
		RENAMENX nosuch c
		GET c
		FLUSHALL
		DBSIZE
		FLUSHALL NOW
	EOF
}

@test "a sorted set is a document of its members and their scores" {
	run nedb-redis ZADD board 3 bob 1.5 ann 1.5 al inf top
	assert_output '(integer) 4'
	run nedb-get redis board
	assert_output '{"_id":"board","type":"zset","value":[["al",1.5],["ann",1.5],["bob",3],["top","inf"]]}'
	run nedb-redis ZINCRBY board 0.1 al
	assert_output '"1.6000000000000001"'
	run nedb-get redis board
	assert_output '{"_id":"board","type":"zset","value":[["ann",1.5],["al",1.6],["bob",3],["top","inf"]]}'
	run nedb-redis TYPE board
	assert_output zset
	run nedb-redis ZREM board al ann bob top
	assert_output '(integer) 4'
	run -1 nedb-get redis board
}

@test "--raw prints as redis-cli --raw with redis-server" {
	same_as_redis --raw <<-'EOF'
		SET a "x y"
		GET a
		GET nosuch
		RPUSH l 1 "" 3
		LRANGE l 0 -1
		LRANGE nosuch 0 -1
		HSET h f v
		HGETALL h
		INCR n
		GET l
		FOO
		PING
		LPOP nosuch 2
	EOF
}

@test "KEYS patterns match the keys redis-server matches" {
	local port pat a b
	[ -f "$BATS_FILE_TMPDIR/redis.port" ] ||
		skip "redis-server is not installed"
	port=$(cat "$BATS_FILE_TMPDIR/redis.port")
	redis-cli -p "$port" flushall >/dev/null
	for k in a1 b2 'a*' 'a?' 'h[x]' 'a\b' ab abc abcd xyz 'a-b' ']' '^' \
		'é' 'aé'; do
		redis-cli -p "$port" set "$k" 1 >/dev/null
		nedb-redis SET "$k" 1 >/dev/null
	done
	for pat in '*' 'a*' 'a\*' 'a\?' 'a?' '[ab]?' '[^a]*' 'h\[*' '[a-b]1' \
		'[b-a]1' 'a[' 'a[]' '*b*' '*c' 'a*c*' '?' '??' '[\]]' '[]]' \
		'[^]' 'a\\b' 'a[\-]b' '[a-]*' '*[' 'a\' '**a**' 'ab*cd' \
		'a?c?' '\*' 'a[^b' '[é]' 'a??' '*\' '[' '[^' '\'; do
		a=$(redis-cli -p "$port" --raw keys "$pat" | LC_ALL=C sort)
		b=$(nedb-redis --raw KEYS "$pat")
		assert_equal "$pat: $b" "$pat: $a"
	done
}

@test "RANDOMKEY answers a key, or nil when there is none, as with redis-server" {
	# Redis's unit keyspace: "RANDOMKEY against empty DB", "RANDOMKEY
	# regression 1" (nedbd had no RANDOMKEY)
	# a database that has been written to and is empty again
	nedb-redis SET y 1 >/dev/null
	nedb-redis DEL y >/dev/null
	same_as_redis <<'EOF'
RANDOMKEY
SET x 10
RANDOMKEY
DEL x
RANDOMKEY
RANDOMKEY x
EOF
}

@test "RANDOMKEY comes to every key" {
	nedb-redis MSET a 1 b 2 c 3 >/dev/null
	# each of 300 picks misses a given key with a chance of 2/3
	run sh -c 'seq 300 | awk "{ print \"RANDOMKEY\" }" |
		nedb-redis --raw | LC_ALL=C sort -u'
	assert_success
	assert_output "$(printf 'a\nb\nc')"
}

@test "SET EXAT/PXAT, SETEX, PSETEX, GETSET, UNLINK, EXPIREAT, PEXPIREAT and EXPIRETIME as with redis-server" {
	same_as_redis <<-'EOF'
		SET a 1 EXAT 4102444800
		EXPIRETIME a
		PEXPIRETIME a
		SET a 1 PXAT 4102444800123
		PEXPIRETIME a
		SET a 2 EXAT 1
		GET a
		EXISTS a
		SET a 3 EX 10 PXAT 4102444800000
		SET a 3 KEEPTTL EXAT 4102444800
		SET a 3 EXAT 0
		SET a 3 PXAT -5
		SET a 3 EXAT notanumber
		SETEX s 100 v
		TTL s
		GET s
		SETEX s 0 v
		SETEX s -1 v
		PSETEX p 100000 w
		TTL p
		PSETEX p 0 w
		GETSET s new
		TTL s
		GETSET fresh x
		HSET h f v
		GETSET h x
		UNLINK s p fresh nosuch
		EXISTS s p fresh
		SET e v
		EXPIRETIME e
		EXPIRETIME nosuch
		EXPIREAT e 4102444800
		EXPIRETIME e
		EXPIREAT e 4102444801 NX
		EXPIREAT e 4102444801 GT
		PEXPIREAT e 4102444802000
		PEXPIRETIME e
		EXPIREAT e 1
		EXISTS e
		EXPIREAT nosuch 4102444800
		SETEX s v
		EXPIRETIME
	EOF
}

# ---- sorted sets ------------------------------------------------------------

@test "ZADD, ZINCRBY, ZSCORE, ZMSCORE, ZREM and ZCARD as with redis-server" {
	same_as_redis <<-'EOF'
		ZADD z 1 a 2 b 3 c
		ZADD z 1.1 d -0 e 1e20 f inf g -inf h 0.1 i
		ZRANGE z 0 -1 WITHSCORES
		ZSCORE z d
		ZSCORE z e
		ZSCORE z nosuch
		ZSCORE nosuch a
		ZMSCORE z a d nosuch
		ZMSCORE nosuch a b
		ZADD z NX 5 a 6 x
		ZADD z XX CH 5 a 6 y
		ZADD z GT CH 4 a 7 b
		ZADD z LT CH 4 a 7 c
		ZADD z CH 5 a 5 b
		ZADD z INCR 2.5 a
		ZADD z INCR NX 2.5 a
		ZADD z INCR XX 1 nosuch
		ZADD z INCR GT -1 a
		ZADD nosuch XX 1 a
		ZINCRBY z 10 b
		ZINCRBY z -inf g
		ZINCRBY z 1 fresh
		ZINCRBY z -0 zero
		ZINCRBY z 0.1 i
		ZADD z 0x10 hex 1e-400 tiny " 1e3" sp .5 dot 5. pt 4.9e-324 sub
		ZADD z 123456789012345678 big 1.7976931348623157e308 max 3.14159 pi
		ZRANGE z 0 -1 WITHSCORES
		ZCARD z
		ZCARD nosuch
		ZREM z a nosuch b
		ZREM nosuch a
		ZREM z a
		ZCARD z
		TYPE z
		ZADD one 1 m
		ZREM one m
		EXISTS one
		TYPE one
	EOF
}

@test "ZRANGE by index, score and lex, ZCOUNT, ZLEXCOUNT, ZRANK and ZPOP as with redis-server" {
	same_as_redis <<-'EOF'
		ZADD z 1 a 2 b 3 c 3 cc 4 d -inf lo +inf hi
		ZRANGE z 0 2
		ZRANGE z -3 -1 WITHSCORES
		ZRANGE z 2 1
		ZRANGE z 0 -1 REV
		ZRANGE z 5 100
		ZRANGE z (1 +inf BYSCORE
		ZRANGE z +inf (1 BYSCORE REV WITHSCORES
		ZRANGE z -inf +inf BYSCORE LIMIT 1 2
		ZRANGE z -inf +inf BYSCORE LIMIT -1 2
		ZRANGE z -inf +inf BYSCORE LIMIT 0 -1
		ZRANGE z -inf +inf BYSCORE LIMIT 7 1
		ZRANGE z 3 1 BYSCORE
		ZRANGE z (3 3 BYSCORE
		ZRANGE z "" ( BYSCORE
		ZRANGEBYSCORE z 1 3 WITHSCORES
		ZRANGEBYSCORE z 1 3 LIMIT 1 1
		ZRANGEBYSCORE z (1 (3
		ZREVRANGEBYSCORE z 3 1 WITHSCORES
		ZREVRANGEBYSCORE z 3 (1 LIMIT 1 5
		ZREVRANGE z 0 1 WITHSCORES
		ZREVRANGE z -2 -1
		ZRANGEBYSCORE nosuch 0 1
		ZCOUNT z -inf +inf
		ZCOUNT z (1 3
		ZCOUNT z 1 (3
		ZCOUNT nosuch 0 1
		ZRANK z a
		ZRANK z cc
		ZREVRANK z a
		ZRANK z nosuch
		ZRANK nosuch a
		ZADD l 0 a 0 b 0 c 0 d 0 e 0 f 0 g
		ZRANGEBYLEX l - +
		ZRANGEBYLEX l [b (e
		ZRANGEBYLEX l (b [e LIMIT 1 2
		ZREVRANGEBYLEX l + -
		ZREVRANGEBYLEX l [e (b
		ZRANGE l + [c BYLEX REV
		ZRANGE l [c + BYLEX LIMIT 0 2
		ZRANGEBYLEX l [e [b
		ZRANGEBYLEX l (b (b
		ZLEXCOUNT l - +
		ZLEXCOUNT l [b (f
		ZADD m 1 z 2 a 3 m 4 b
		ZRANGEBYLEX m [a [m
		ZRANGEBYLEX m [b [z
		ZREVRANGEBYLEX m [m [a
		ZLEXCOUNT m [a [z
		ZPOPMIN z
		ZPOPMAX z 2
		ZPOPMIN z 0
		ZPOPMIN nosuch
		ZPOPMAX nosuch 2
		ZPOPMAX z 100
		EXISTS z
	EOF
}

@test "sorted set errors print as with redis-server" {
	same_as_redis <<-'EOF'
		SET s x
		ZADD z 1 a
		ZADD s 1 a
		ZINCRBY s 1 a
		ZREM s a
		ZCARD s
		ZSCORE s a
		ZMSCORE s a
		ZRANK s a
		ZREVRANK s a
		ZCOUNT s 0 1
		ZLEXCOUNT s - +
		ZRANGE s 0 1
		ZRANGEBYSCORE s 0 1
		ZREVRANGEBYLEX s + -
		ZPOPMIN s
		GET z
		LPUSH z x
		SADD z x
		HSET z f v
		INCR z
		ZADD z XX NX 1 a
		ZADD z GT LT 1 a
		ZADD z NX GT 1 a
		ZADD z INCR 1 a 2 b
		ZADD z 1 a 2
		ZADD z NX
		ZADD z abc a
		ZADD z nan a
		ZADD z 1 a x b
		ZADD z inf a
		ZADD z INCR -inf a
		ZINCRBY z x a
		ZINCRBY z nx a
		ZCOUNT z x 3
		ZCOUNT z 1 [3
		ZLEXCOUNT z a b
		ZLEXCOUNT z -x +
		ZRANGE z 0 x
		ZRANGE z a b BYSCORE
		ZRANGE z a b BYLEX
		ZRANGE z 0 1 LIMIT 0 1
		ZRANGE z - + BYLEX WITHSCORES
		ZRANGE z 0 1 BYSCORE BYLEX
		ZRANGE z 0 1 REV REV
		ZRANGE z 0 1 LIMIT 0
		ZRANGE z 0 1 BYSCORE LIMIT x 1
		ZRANGEBYSCORE z 0 1 REV
		ZREVRANGE z 0 1 LIMIT 0 1
		ZRANGEBYSCORE z 0 1 BYLEX
		ZPOPMIN z -1
		ZPOPMIN z x
		ZPOPMIN z 1 2
		ZADD z
		ZSCORE z
		ZRANK z a b
		ZCOUNT z 1
	EOF
}

@test "a sorted set is a document ordered by score, infinities as strings" {
	nedb-redis ZADD z 1.1 a 2 b inf c -inf d 1e-7 "x y" 0.1 e
	run nedb-get redis z
	assert_output '{"_id":"z","type":"zset","value":[["d","-inf"],["x y",1e-07],["e",0.1],["a",1.1],["b",2],["c","inf"]]}'
	nedb-redis <<<'ZADD z 5 "\xff"'
	run nedb-get redis z
	assert_output '{"_id":"z","type":"zset","b64":[["ZA==","-inf"],["eCB5",1e-07],["ZQ==",0.1],["YQ==",1.1],["Yg==",2],["/w==",5],["Yw==","inf"]]}'
	run nedb-redis <<<'ZSCORE z "\xff"'
	assert_output '"5"'
	nedb-redis ZPOPMAX z 7
	run nedb-redis TYPE z
	assert_output none
	run nedb-log -n 1
	assert_output --partial '"op":"delete"'
	assert_determinism
}

@test "a hand-written sorted set is read in order; a repeated member makes it unknown" {
	nedb-put -q redis h '{"type":"zset","value":[["b",2],["a",1],["c","inf"]]}'
	run nedb-redis --raw ZRANGE h 0 -1 WITHSCORES
	assert_output "$(printf '%s\n' a 1 b 2 c inf)"
	nedb-put -q redis d '{"type":"zset","value":[["b",2],["b",1]]}'
	nedb-put -q redis s '{"type":"zset","value":[["b","2"]]}'
	run nedb-redis TYPE d
	assert_output unknown
	run nedb-redis TYPE s
	assert_output unknown
	run -1 nedb-redis ZCARD s
	assert_output '(error) WRONGTYPE Operation against a key holding the wrong kind of value'
	nedb-put -q redis z '{"type":"zset","value":[["a",-0],["b",1e999],["c",123456789012345678901234567890]]}'
	run nedb-redis --raw ZRANGE z 0 -1 WITHSCORES
	assert_output "$(printf '%s\n' a 0 c 1.2345678901234568e+29 b inf)"
	nedb-redis ZADD z 1 d
	run nedb-get redis z
	assert_output '{"_id":"z","type":"zset","value":[["a",0],["d",1],["c",1.2345678901234568e+29],["b","inf"]]}'
}

@test "sorted set commands keep the TTL and write only on change" {
	local before
	nedb-redis ZADD z 1 a 2 b
	nedb-redis EXPIRE z 100
	nedb-redis ZADD z 3 c
	nedb-redis ZINCRBY z 1 a
	nedb-redis ZREM z b
	nedb-redis ZPOPMIN z
	run nedb-redis TTL z
	assert_output --regexp '^\(integer\) (99|100)$'
	before=$(head_seq)
	nedb-redis ZADD z 3 c
	nedb-redis ZADD z NX 9 c
	nedb-redis ZADD z GT 1 c
	nedb-redis ZREM z nosuch
	nedb-redis ZRANGE z 0 -1
	assert_equal "$(head_seq)" "$before"
}

# ---- more strings and keys ------------------------------------------------------

@test "INCRBYFLOAT, GETRANGE, SETRANGE, MSETNX, RENAMENX and COPY as with redis-server" {
	same_as_redis <<-'EOF'
		SET f 10.5
		INCRBYFLOAT f 0.1
		INCRBYFLOAT f -5
		INCRBYFLOAT f 5.0e3
		INCRBYFLOAT f 1e-20
		INCRBYFLOAT new 3
		INCRBYFLOAT new2 -0.0
		SET h 0x10
		INCRBYFLOAT h 1
		SET e 5
		EXPIRE e 100
		INCRBYFLOAT e 1.5
		TTL e
		SET g "Hello World"
		GETRANGE g 0 4
		GETRANGE g -5 -1
		GETRANGE g -1 -5
		GETRANGE g 5 1
		GETRANGE g 0 100
		GETRANGE g -100 2
		GETRANGE g 20 30
		GETRANGE nosuch 0 1
		SET e2 ""
		GETRANGE e2 0 -1
		SETRANGE g 6 Redis
		GET g
		SETRANGE g 15 "!!"
		GET g
		SETRANGE n 3 abc
		GET n
		SETRANGE n2 3 ""
		EXISTS n2
		SETRANGE g 0 ""
		EXPIRE g 100
		SETRANGE g 0 h
		TTL g
		MSETNX a 1 b 2
		MSETNX b 3 c 4
		MGET a b c
		RENAMENX a z
		RENAMENX b z
		RENAMENX b b
		MGET a b z
		COPY z zz
		COPY z zz
		SET z new
		COPY z zz REPLACE
		GET zz
		COPY nosuch q
		COPY z q DB 0
		LPUSH ll 1 2 3
		EXPIRE ll 100
		COPY ll ll2
		LRANGE ll2 0 -1
		TTL ll2
		TYPE ll2
		FLUSHALL
		DBSIZE
		SET x 1
		FLUSHALL ASYNC
		DBSIZE
	EOF
}

@test "GETEX and the repeated expiry options of SET as with redis-server" {
	same_as_redis <<-'EOF'
		SET k v
		GETEX k
		TTL k
		GETEX k EX 100
		TTL k
		GETEX k PX 200000
		TTL k
		GETEX k PERSIST
		TTL k
		GETEX k PERSIST
		GETEX k EXAT 4102444800
		EXPIRETIME k
		GETEX k PXAT 4102444800123
		PEXPIRETIME k
		GETEX k EX 10 EX 20
		TTL k
		GETEX k PERSIST PERSIST
		TTL k
		GETEX nosuch EX 10
		GETEX k EXAT 1
		EXISTS k
		SET a 1 EX 10 EX 20
		TTL a
		SET a 1 KEEPTTL KEEPTTL
		TTL a
	EOF
}

@test "string and key errors print as with redis-server" {
	same_as_redis <<-'EOF'
		SET f 1
		SET s abc
		LPUSH l x
		INCRBYFLOAT f abc
		INCRBYFLOAT f inf
		INCRBYFLOAT f 1e400
		INCRBYFLOAT f " 1"
		INCRBYFLOAT s 1
		INCRBYFLOAT l 1
		SET big 1e308
		INCRBYFLOAT big 1e308
		INCRBYFLOAT big 1e308
		GETRANGE s x 1
		GETRANGE l 0 1
		SETRANGE s -1 x
		SETRANGE s x x
		SETRANGE l 0 x
		SETRANGE s 536870912 x
		MSETNX a
		MSETNX x 1 y
		RENAMENX nosuch q
		COPY s s
		COPY s q DB x
		COPY s q DB 99
		COPY s q DB -1
		COPY s q REPLACE EXTRA
		COPY s q DB
		FLUSHALL NOW
		GETEX s EX 10 PX 20
		GETEX s PERSIST EX 10
		GETEX s EX 10 PERSIST
		GETEX s EX 0
		GETEX s EX -1
		GETEX s EX x
		GETEX s EX
		GETEX s FOO
		GETEX nosuch EX x
		GETEX nosuch FOO
		GETEX l EX 10
		GETEX l EX x
		GETEX s EX 99999999999999999
		SET a 1 EX 10 KEEPTTL
		INCRBYFLOAT f
		GETRANGE f 0
		COPY f
		GETEX
	EOF
}

@test "HSCAN, SSCAN and ZSCAN answer everything in one call, as redis-server does for small values" {
	same_as_redis <<-'EOF'
		HSET h a 1 b 2 c 3 ab 4
		HSCAN h 0
		HSCAN h 0 MATCH a*
		HSCAN h 0 COUNT 1
		HSCAN h 0 COUNT 0
		HSCAN h 0 COUNT x
		HSCAN h x
		HSCAN h " 0"
		HSCAN h -1
		HSCAN h 0 TYPE string
		HSCAN h 0 MATCH
		HSCAN nosuch 0 COUNT 0
		SET s x
		HSCAN s 0
		HSCAN s x
		SSCAN s 0
		ZSCAN s 0
		ZADD z 1 a 2.5 b inf c -1 d 1e17 e 1e20 f 0.1 g -0 h
		ZSCAN z 0
		ZSCAN z 0 MATCH [ab]
		SADD st x
		SSCAN st 0
		SSCAN st 0 MATCH y
		SSCAN nosuch 0
		SCAN 0 TYPE
		SCAN x
		SCAN 0 COUNT 0
		SCAN 0 FOO
		SCAN 0 MATCH
	EOF
}

@test "SCAN visits every key once in byte order, with MATCH, TYPE and COUNT as a hint" {
	local c=0 out all='' calls=0 port
	{
		for i in $(seq 1 40); do echo "SET k$i v"; done
		for i in $(seq 1 12); do echo "SET session:$i v"; done
		echo 'SADD aset x'
		echo 'ZADD zs 1 a'
		echo 'RPUSH li x'
	} >cmds
	nedb-redis <cmds >/dev/null
	while :; do
		out=$(nedb-redis --raw SCAN "$c" COUNT 5)
		c=$(head -1 <<<"$out")
		all+=$(tail -n +2 <<<"$out")$'\n'
		calls=$((calls + 1))
		[ "$c" = 0 ] && break
	done
	# keys sharing their first 8 bytes come in one reply
	[ "$calls" -ge 8 ] && [ "$calls" -le 12 ]
	assert_equal "$(grep -c . <<<"$all")" 55
	assert_equal "$(grep . <<<"$all")" "$(nedb-redis --raw KEYS '*')"
	run nedb-redis --raw SCAN 0 TYPE zset COUNT 1000
	assert_output "$(printf '0\nzs')"
	run nedb-redis --raw SCAN 0 MATCH 'k1*' COUNT 1000
	assert_output "$(printf '0\nk1\nk10\nk11\nk12\nk13\nk14\nk15\nk16\nk17\nk18\nk19')"
	run nedb-redis SCAN 0 COUNT 2
	assert_line --index 0 --regexp '^1\) "[1-9][0-9]*"$'
	assert_line --index 1 '2) 1) "aset"'
	[ -f "$BATS_FILE_TMPDIR/redis.port" ] || return 0
	# the same keys as redis-server's SCAN, for each MATCH and TYPE
	port=$(cat "$BATS_FILE_TMPDIR/redis.port")
	redis-cli -p "$port" flushall >/dev/null
	redis-cli -p "$port" <cmds >/dev/null
	for opt in "MATCH k1*" "TYPE set" "TYPE string" "MATCH *:1?"; do
		assert_equal "$(nedb-redis --raw SCAN 0 $opt COUNT 100 | tail -n +2)" \
			"$(redis-cli -p "$port" --raw SCAN 0 $opt COUNT 100 | tail -n +2 | LC_ALL=C sort)"
	done
}

# ---- more hashes, lists and sets ------------------------------------------------

@test "HSTRLEN, HINCRBYFLOAT and HRANDFIELD's errors as with redis-server" {
	same_as_redis <<-'EOF'
		HSET h a 1 b 2.5 c x d 10
		HSTRLEN h a
		HSTRLEN h c
		HSTRLEN h nosuch
		HSTRLEN nosuch a
		HINCRBYFLOAT h a 0.5
		HINCRBYFLOAT h b 1e3
		HINCRBYFLOAT h new -3.25
		HINCRBYFLOAT nosuch f 2
		HGETALL h
		EXPIRE h 100
		HINCRBYFLOAT h a 1
		TTL h
		HINCRBYFLOAT h c 1
		HINCRBYFLOAT h a x
		HINCRBYFLOAT h a inf
		HINCRBYFLOAT h a nan
		HSET big f 1e4000
		HINCRBYFLOAT big f 1e4000
		SET s x
		HSTRLEN s a
		HINCRBYFLOAT s a 1
		HRANDFIELD nosuch
		HRANDFIELD nosuch 5
		HRANDFIELD nosuch 5 WITHVALUES
		HRANDFIELD h 0
		HRANDFIELD s
		HRANDFIELD s 1
		HRANDFIELD h x
		HRANDFIELD h 1 FOO
		HRANDFIELD h 1 WITHVALUES x
		HRANDFIELD h 9223372036854775807 WITHVALUES
		HRANDFIELD h -9223372036854775808
		HSET one f v
		HRANDFIELD one
		HRANDFIELD one 1 WITHVALUES
		HRANDFIELD one -3
		HRANDFIELD one -2 WITHVALUES
		HSTRLEN h
		HINCRBYFLOAT h a
	EOF
}

@test "HRANDFIELD picks distinct fields for a count, repeats for a negative one" {
	nedb-redis HSET h a 1 b 2 c 3 d 4 e 5
	run nedb-redis --raw HRANDFIELD h
	assert_output --regexp '^[a-e]$'
	run nedb-redis --raw HRANDFIELD h 3
	assert_equal "${#lines[@]}" 3
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | grep -c '^[a-e]$')" 3
	run nedb-redis --raw HRANDFIELD h 9
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort)" "$(printf '%s\n' a b c d e)"
	run nedb-redis --raw HRANDFIELD h -8
	assert_equal "${#lines[@]}" 8
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -vc '^[a-e]$')" 0
	run nedb-redis --raw HRANDFIELD h 2 WITHVALUES
	assert_equal "${#lines[@]}" 4
	for i in 0 2; do
		assert_equal "$(nedb-redis --raw HGET h "${lines[i]}")" "${lines[i + 1]}"
	done
	run nedb-redis --raw HRANDFIELD h -3 WITHVALUES
	assert_equal "${#lines[@]}" 6
}

@test "LTRIM, LREM, LPOS, LINSERT, LPUSHX, RPUSHX, LMOVE and RPOPLPUSH as with redis-server" {
	same_as_redis <<-'EOF'
		RPUSH l a b a c a d a
		LREM l 2 a
		LRANGE l 0 -1
		LREM l -1 a
		LRANGE l 0 -1
		LREM l 0 a
		LRANGE l 0 -1
		LREM l 0 zz
		LREM nosuch 1 a
		RPUSH m a a
		LREM m 0 a
		EXISTS m
		RPUSH t 1 2 3 4 5 6
		EXPIRE t 100
		LTRIM t 1 -2
		LRANGE t 0 -1
		TTL t
		LTRIM t -100 100
		LRANGE t 0 -1
		LTRIM t 2 1
		EXISTS t
		LTRIM nosuch 0 1
		RPUSH p a b c 1 2 3 c c
		LPOS p c
		LPOS p c RANK 2
		LPOS p c RANK -1
		LPOS p c COUNT 2
		LPOS p c COUNT 0
		LPOS p c RANK -1 COUNT 0
		LPOS p c RANK -2 COUNT 2
		LPOS p c MAXLEN 1
		LPOS p c COUNT 0 MAXLEN 3
		LPOS p zz
		LPOS p zz COUNT 2
		LPOS nosuch a
		LPOS nosuch a COUNT 1
		LINSERT p BEFORE c X
		LINSERT p AFTER c Y
		LRANGE p 0 -1
		LINSERT p AFTER zz Y
		LINSERT nosuch AFTER a b
		LPUSHX p 0
		LPUSHX nosuch 0
		RPUSHX p 9 10
		RPUSHX nosuch 9
		LRANGE p 0 -1
		EXISTS nosuch
		RPUSH a 1 2 3
		LMOVE a b LEFT RIGHT
		LMOVE a b RIGHT LEFT
		LRANGE a 0 -1
		LRANGE b 0 -1
		RPUSH a 4 5
		LMOVE a a LEFT RIGHT
		LRANGE a 0 -1
		LMOVE a a RIGHT LEFT
		LRANGE a 0 -1
		LMOVE nosuch b LEFT LEFT
		RPOPLPUSH a b
		RPOPLPUSH a b
		RPOPLPUSH a b
		EXISTS a
		LRANGE b 0 -1
		RPOPLPUSH b b
		LRANGE b 0 -1
	EOF
}

@test "list errors print as with redis-server" {
	same_as_redis <<-'EOF'
		RPUSH p a b c
		SET s x
		LREM p x a
		LTRIM p x 1
		LTRIM p 0 x
		LPOS p c RANK 0
		LPOS p c COUNT -1
		LPOS p c COUNT x
		LPOS p c MAXLEN -1
		LPOS p c MAXLEN x
		LPOS p c RANK x
		LPOS p c FOO
		LPOS p c RANK
		LINSERT p MIDDLE c X
		LMOVE p b UP DOWN
		LMOVE p b LEFT DOWN
		LMOVE p s LEFT LEFT
		LMOVE s p LEFT LEFT
		RPOPLPUSH p s
		RPOPLPUSH s p
		LPUSHX s x
		RPUSHX s x
		LINSERT s BEFORE a b
		LTRIM s 0 1
		LREM s 0 a
		LPOS s a
		LRANGE p 0 -1
		LTRIM p 0
		LREM p 0
		LINSERT p BEFORE a
		LMOVE p q LEFT
		RPOPLPUSH p
		LPUSHX p
		LPOS p
	EOF
}

@test "SINTERSTORE, SUNIONSTORE, SDIFFSTORE, SINTERCARD, SMISMEMBER and SMOVE as with redis-server" {
	same_as_redis <<-'EOF'
		SADD a 1 2 3 4
		SADD b 3 4 5
		SADD c 4 5 6
		SINTERSTORE d a b
		SMEMBERS d
		SUNIONSTORE d a c
		SMEMBERS d
		SDIFFSTORE d a b
		SMEMBERS d
		EXPIRE d 100
		SDIFFSTORE d a b
		TTL d
		SINTERSTORE d a nosuch
		EXISTS d
		SET str x
		SUNIONSTORE str a
		TYPE str
		SDIFFSTORE x nosuch a
		EXISTS x
		SINTERSTORE d a a
		SMEMBERS d
		SINTERCARD 2 a b
		SINTERCARD 3 a b c
		SINTERCARD 1 a LIMIT 2
		SINTERCARD 1 a LIMIT 0
		SINTERCARD 2 a nosuch
		SMISMEMBER a 1 9 4
		SMISMEMBER nosuch 1 2
		SMOVE a b 1
		SMOVE a b 9
		SMOVE nosuch b 1
		SMOVE a a 2
		SMOVE a a 9
		SMOVE a b 3
		SMEMBERS a
		SMEMBERS b
		SADD one x
		SMOVE one new x
		EXISTS one
		SMEMBERS new
		SPOP nosuch
		SPOP nosuch 2
		SPOP a 0
		SRANDMEMBER nosuch
		SRANDMEMBER nosuch 3
		SRANDMEMBER a 0
		SADD solo z
		SRANDMEMBER solo
		SRANDMEMBER solo -3
		SRANDMEMBER solo 5
		SPOP solo
		EXISTS solo
		SADD two p
		SPOP two 5
		EXISTS two
	EOF
}

@test "set errors print as with redis-server" {
	same_as_redis <<-'EOF'
		SADD a 1 2
		SET s x
		SUNIONSTORE x s
		SINTERSTORE x a s
		SDIFFSTORE x s a
		SINTERCARD 0 a
		SINTERCARD x a
		SINTERCARD 3 a b
		SINTERCARD 1 a LIMIT -1
		SINTERCARD 1 a LIMIT x
		SINTERCARD 1 a FOO 1
		SINTERCARD 1 a LIMIT
		SINTERCARD 2 a s
		SMISMEMBER s 1
		SMOVE a s 2
		SMOVE s a 2
		SMOVE nosuch s 2
		SPOP s
		SPOP a x
		SPOP a -1
		SPOP a 1 2
		SRANDMEMBER s
		SRANDMEMBER a x
		SRANDMEMBER a 1 2
		SRANDMEMBER a -9223372036854775808
		SINTERSTORE
		SINTERCARD 1
		SMISMEMBER a
		SMOVE a b
	EOF
}

@test "SPOP and SRANDMEMBER pick members at random, distinct for a count" {
	nedb-redis SADD s a b c d e
	run nedb-redis --raw SRANDMEMBER s
	assert_output --regexp '^[a-e]$'
	run nedb-redis --raw SRANDMEMBER s 3
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u | grep -c '^[a-e]$')" 3
	run nedb-redis --raw SRANDMEMBER s -7
	assert_equal "${#lines[@]}" 7
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -vc '^[a-e]$')" 0
	run nedb-redis --raw SPOP s 2
	assert_equal "${#lines[@]}" 2
	run nedb-redis --raw SMISMEMBER s "${lines[0]}" "${lines[1]}"
	assert_output "$(printf '0\n0')"
	run nedb-redis SCARD s
	assert_output '(integer) 3'
	run nedb-redis --raw SPOP s
	assert_output --regexp '^[a-e]$'
	nedb-redis SPOP s 5
	run nedb-redis EXISTS s
	assert_output '(integer) 0'
	assert_determinism
}

@test "every new command of a type answers WRONGTYPE on a key of another type and writes nothing" {
	local before
	nedb-redis SET s text
	nedb-redis ZADD z 1 m
	before=$(head_seq)
	run -1 nedb-redis <<-'EOF'
		ZADD s 1 m
		ZINCRBY s 1 m
		ZREM s m
		ZCARD s
		ZSCORE s m
		ZMSCORE s m
		ZRANK s m
		ZREVRANK s m
		ZCOUNT s 0 1
		ZLEXCOUNT s - +
		ZRANGE s 0 1
		ZREVRANGE s 0 1
		ZRANGEBYSCORE s 0 1
		ZREVRANGEBYSCORE s 1 0
		ZRANGEBYLEX s - +
		ZREVRANGEBYLEX s + -
		ZPOPMIN s
		ZPOPMAX s 2
		ZSCAN s 0
		ZREMRANGEBYRANK s 0 1
		ZREMRANGEBYSCORE s 0 1
		ZREMRANGEBYLEX s - +
		ZRANDMEMBER s
		INCRBYFLOAT z 1
		GETRANGE z 0 1
		SETRANGE z 0 x
		GETEX z EX 10
		HSTRLEN z f
		HINCRBYFLOAT z f 1
		HRANDFIELD z
		HSCAN z 0
		LPUSHX z x
		RPUSHX z x
		LINSERT z BEFORE a b
		LTRIM z 0 1
		LREM z 0 x
		LPOS z x
		LMOVE z s LEFT LEFT
		RPOPLPUSH z s
		SMISMEMBER z m
		SMOVE z s m
		SPOP z
		SRANDMEMBER z
		SSCAN z 0
		SINTERSTORE d z
		SUNIONSTORE d z
		SDIFFSTORE d z
		SINTERCARD 1 z
	EOF
	assert_equal "${#lines[@]}" 48
	assert_equal "$(printf '%s\n' "${lines[@]}" | sort -u)" \
		'(error) WRONGTYPE Operation against a key holding the wrong kind of value'
	assert_equal "$(head_seq)" "$before"
}

@test "HRANDFIELD and SRANDMEMBER refuse more than 2^20 picks with repeats" {
	nedb-redis HSET h f v
	nedb-redis SADD s m
	run -1 nedb-redis SRANDMEMBER s -1048577
	assert_output '(error) ERR count is too large: at most 1048576 picks with repeats here'
	run -1 nedb-redis HRANDFIELD h -9223372036854775807
	assert_output '(error) ERR count is too large: at most 1048576 picks with repeats here'
	run nedb-redis SRANDMEMBER nosuch -9223372036854775807
	assert_output '(empty array)'
	run nedb-redis --raw SRANDMEMBER s 9223372036854775807
	assert_output m
}

@test "ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX as with redis-server" {
	same_as_redis <<-'EOF'
		ZADD z 1 a 2 b 3 c 4 d 5 e 6 f
		EXPIRE z 100
		ZREMRANGEBYRANK z 0 1
		ZRANGE z 0 -1
		TTL z
		ZREMRANGEBYRANK z -2 -1
		ZRANGE z 0 -1
		ZREMRANGEBYRANK z 5 10
		ZREMRANGEBYRANK z 1 0
		ZREMRANGEBYSCORE z (3 4
		ZRANGE z 0 -1 WITHSCORES
		ZREMRANGEBYSCORE z -inf +inf
		EXISTS z
		ZREMRANGEBYSCORE nosuch 0 1
		ZADD l 0 a 0 b 0 c 0 d
		ZREMRANGEBYLEX l [b (d
		ZRANGE l 0 -1
		ZREMRANGEBYLEX l - +
		EXISTS l
		ZADD m 0 a 0 b
		ZREMRANGEBYLEX m x y
		ZREMRANGEBYSCORE m x 1
		ZREMRANGEBYRANK m x 1
		SET s x
		ZREMRANGEBYRANK s 0 1
		ZREMRANGEBYSCORE s 0 1
		ZREMRANGEBYLEX s - +
		ZREMRANGEBYRANK s x 1
		ZREMRANGEBYLEX m [a
		ZREMRANGEBYRANK nosuch x 1
	EOF
}

@test "ZRANDMEMBER as with redis-server on one member; distinct picks for a count, repeats for a negative one" {
	same_as_redis <<-'EOF'
		ZADD z 1.5 a
		ZRANDMEMBER z
		ZRANDMEMBER z 1 WITHSCORES
		ZRANDMEMBER z -3 WITHSCORES
		ZRANDMEMBER z 5
		ZRANDMEMBER z 0
		ZRANDMEMBER nosuch
		ZRANDMEMBER nosuch 3
		ZRANDMEMBER nosuch 3 WITHSCORES
		ZRANDMEMBER z x
		ZRANDMEMBER z 1 FOO
		ZRANDMEMBER z 1 WITHSCORES x
		ZRANDMEMBER z 9223372036854775807 WITHSCORES
		ZRANDMEMBER z -9223372036854775808
		ZRANDMEMBER z 1 WITHVALUES
		SET s x
		ZRANDMEMBER s
		ZRANDMEMBER s 1
	EOF
	nedb-redis ZADD y 1 a 2 b 3 c 4 d
	run nedb-redis --raw ZRANDMEMBER y 3 WITHSCORES
	assert_equal "${#lines[@]}" 6
	for i in 0 2 4; do
		assert_equal "$(nedb-redis --raw ZSCORE y "${lines[i]}")" "${lines[i + 1]}"
	done
	assert_equal "$(printf '%s\n' "${lines[0]}" "${lines[2]}" "${lines[4]}" | sort -u | wc -l)" 3
	run nedb-redis --raw ZRANDMEMBER y -9
	assert_equal "${#lines[@]}" 9
	assert_equal "$(printf '%s\n' "${lines[@]}" | grep -vc '^[a-d]$')" 0
}

@test "ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZUNION, ZINTER, ZDIFF and ZINTERCARD as with redis-server" {
	same_as_redis <<-'EOF'
		ZADD a 1 x 2 y 3 z
		ZADD b 10 y 20 z 30 w
		SADD s x w q
		ZUNIONSTORE d 2 a b
		ZRANGE d 0 -1 WITHSCORES
		ZINTERSTORE d 2 a b
		ZRANGE d 0 -1 WITHSCORES
		ZDIFFSTORE d 2 a b
		ZRANGE d 0 -1 WITHSCORES
		ZUNIONSTORE d 3 a b s WEIGHTS 2 0.5 -1
		ZRANGE d 0 -1 WITHSCORES
		ZUNIONSTORE d 2 a b AGGREGATE MIN
		ZRANGE d 0 -1 WITHSCORES
		ZINTERSTORE d 2 a b WEIGHTS 1 2 AGGREGATE MAX
		ZRANGE d 0 -1 WITHSCORES
		ZINTERSTORE d 2 a nosuch
		EXISTS d
		ZUNION 2 a b WITHSCORES
		ZINTER 2 a b
		ZINTER 2 a s WITHSCORES
		ZDIFF 2 b a WITHSCORES
		ZDIFF 1 s
		ZINTERCARD 2 a b
		ZINTERCARD 2 a b LIMIT 1
		ZINTERCARD 1 s
		ZADD i 1 m
		ZADD j inf m
		ZADD k -inf m
		ZUNION 3 i j k WITHSCORES
		ZUNION 2 j k WITHSCORES
		ZUNION 2 i j WEIGHTS 0 0 WITHSCORES
		ZINTER 2 j k WITHSCORES
		ZUNION 2 i i WITHSCORES
		ZUNION 2 a b WEIGHTS -0 1 WITHSCORES
		ZUNIONSTORE d 2 a b WEIGHTS -0 1
		ZRANGE d 0 -1 WITHSCORES
		SET str v
		EXPIRE str 100
		ZUNIONSTORE str 1 a
		TYPE str
		TTL str
		ZUNIONSTORE d 1 nosuch
		EXISTS d
		ZUNION 1 nosuch
		ZINTERCARD 1 nosuch
	EOF
}

@test "sorted set algebra errors print as with redis-server" {
	same_as_redis <<-'EOF'
		ZADD a 1 x
		ZADD b 2 x
		SET str v
		ZUNIONSTORE d 1 str
		ZUNION 2 a str
		ZINTERCARD 1 str
		ZUNIONSTORE d 0 a
		ZUNIONSTORE d x a
		ZUNIONSTORE d 3 a b
		ZUNIONSTORE d 2 a b WEIGHTS 1
		ZUNIONSTORE d 2 a b WEIGHTS 1 x
		ZUNIONSTORE d 2 a b AGGREGATE AVG
		ZUNIONSTORE d 2 a b AGGREGATE
		ZUNIONSTORE d 2 a b WITHSCORES
		ZDIFFSTORE d 2 a b WEIGHTS 1 1
		ZDIFF 2 a b AGGREGATE SUM
		ZINTERCARD 2 a b WITHSCORES
		ZINTERCARD 2 a b LIMIT -1
		ZINTERCARD 2 a b LIMIT x
		ZINTERCARD 0 a
		ZINTER 0 a
		ZUNION 1 a FOO
		ZUNIONSTORE d 2 a str WEIGHTS x
		ZUNIONSTORE d
		ZUNION 1
		ZINTERCARD 1
	EOF
}

@test "ZRANGESTORE as with redis-server" {
	same_as_redis <<-'EOF'
		ZADD z 1 a 2 b 3 c 4 d
		ZRANGESTORE d z 0 1
		ZRANGE d 0 -1 WITHSCORES
		ZRANGESTORE d z (1 +inf BYSCORE LIMIT 1 2
		ZRANGE d 0 -1 WITHSCORES
		ZRANGESTORE d z +inf -inf BYSCORE REV LIMIT 0 3
		ZRANGE d 0 -1 WITHSCORES
		ZRANGESTORE d z [b + BYLEX
		ZRANGE d 0 -1 WITHSCORES
		SET str x
		EXPIRE str 100
		ZRANGESTORE str z 0 0
		TYPE str
		TTL str
		ZRANGESTORE d z 5 9
		EXISTS d
		ZRANGESTORE d nosuch 0 -1
		ZRANGESTORE d z 0 1 WITHSCORES
		ZRANGESTORE d z 0 1 LIMIT 0 1
		ZRANGESTORE d z a b BYSCORE
		ZRANGESTORE d z 0 x
		LPUSH l x
		ZRANGESTORE d l 0 1
		ZRANGESTORE d z 0
		ZRANGESTORE z z 1 2
		ZRANGE z 0 -1 WITHSCORES
	EOF
}

@test "SETBIT, GETBIT, BITCOUNT and TIME as with redis-server" {
	same_as_redis <<-'EOF'
		SETBIT k 7 1
		GET k
		SETBIT k 7 0
		SETBIT k 7 0
		SETBIT k 100 1
		STRLEN k
		GETBIT k 100
		GETBIT k 101
		GETBIT k 99999
		GETBIT nosuch 3
		SETBIT k -1 1
		SETBIT k 4294967296 1
		SETBIT k 1 2
		SETBIT k 1 x
		GETBIT k x
		SET s foobar
		BITCOUNT s
		BITCOUNT s 0 0
		BITCOUNT s 1 1
		BITCOUNT s 1 -1
		BITCOUNT s 5 30 BIT
		BITCOUNT s -10 -3 BIT
		BITCOUNT s 0
		BITCOUNT s 0 1 WORD
		BITCOUNT s a b
		BITCOUNT nosuch
		BITCOUNT s 4 1
		HSET h f v
		SETBIT h 1 1
		GETBIT h 1
		BITCOUNT h
		SETBIT s 3 1
		GET s
	EOF
	run nedb-redis TIME
	assert_success
	assert_line --index 0 --regexp '^1\) "[0-9]{10}"$'
	assert_line --index 1 --regexp '^2\) "[0-9]{1,6}"$'
}

@test "BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, LMPOP and BLMPOP as with redis-server when there is something to pop" {
	same_as_redis <<-'EOF'
		RPUSH a 1 2 3 4 5
		RPUSH b x y
		BLPOP nosuch a b 0
		BRPOP nosuch b a 1.5
		BLPOP a a 0
		LMPOP 2 nosuch a LEFT
		LMPOP 2 nosuch a RIGHT COUNT 1
		LMPOP 1 b left count 10
		EXISTS b
		RPUSH b x y z
		BLMPOP 0 2 nosuch b RIGHT COUNT 2
		BLMPOP 0.5 1 b LEFT
		LMPOP 1 b LEFT
		LRANGE a 0 -1
		RPUSH c p q r
		BLMOVE c d LEFT RIGHT 0
		BLMOVE c d RIGHT LEFT 0
		BRPOPLPUSH c d 0
		LRANGE d 0 -1
		EXISTS c
		BRPOPLPUSH d d 0
		LRANGE d 0 -1
		BLPOP nosuch 0.01
		BLMPOP 0.01 1 nosuch LEFT
		BLMOVE nosuch d LEFT LEFT 0.01
		BRPOPLPUSH nosuch d 0.01
	EOF
}

@test "BZPOPMIN, BZPOPMAX, ZMPOP and BZMPOP as with redis-server when there is something to pop" {
	same_as_redis <<-'EOF'
		ZADD z 1 a 2 b 3 c 4 d 5 e
		ZADD y 7 x
		BZPOPMIN nosuch z 0
		BZPOPMAX nosuch z 1
		ZMPOP 2 nosuch z MIN
		ZMPOP 1 z max COUNT 2
		BZMPOP 0 2 nosuch y MIN COUNT 5
		EXISTS y
		ZRANGE z 0 -1 WITHSCORES
		ZMPOP 1 nosuch MIN
		BZPOPMIN nosuch 0.01
		BZMPOP 0.01 1 nosuch MAX
	EOF
}

@test "blocking and multi-key pop errors print as with redis-server" {
	same_as_redis <<-'EOF'
		SET s x
		RPUSH l a b c
		ZADD z 1 a
		BLPOP l -1
		BLPOP l abc
		BLPOP l " 1"
		BLPOP l 1e30
		BLPOP l inf
		BLPOP l nan
		BRPOP s l 0
		BLPOP nosuch s 0
		BLPOP l s 0
		BLPOP l
		BRPOPLPUSH l s 0
		BRPOPLPUSH s l 0
		BRPOPLPUSH l d -1
		BLMOVE l d UP LEFT 0
		BLMOVE l d LEFT LEFT x
		BLMOVE l d LEFT LEFT
		BLMPOP x 1 l LEFT
		BLMPOP 0 0 l LEFT
		BLMPOP 0 x l LEFT
		BLMPOP 0 2 l LEFT
		BLMPOP 0 1 l UP
		BLMPOP 0 1 l LEFT COUNT 0
		BLMPOP 0 1 l LEFT COUNT x
		BLMPOP 0 1 l LEFT COUNT 1 COUNT 2
		BLMPOP 0 1 l LEFT junk
		BLMPOP 0 1 s LEFT
		BLMPOP 0 1 l
		LMPOP 0 l LEFT
		LMPOP 1 s LEFT
		LMPOP 1 l LEFT COUNT -1
		LMPOP 1 l
		BZPOPMIN z -1
		BZPOPMAX s 0
		BZPOPMIN l z 0
		ZMPOP 1 z MID
		ZMPOP 1 s MIN
		ZMPOP 1 z MIN COUNT 0
		BZMPOP 0 1 z MIN COUNT -1
		BZMPOP -1 1 z MIN
		BZMPOP 0 1 l MAX
		LRANGE l 0 -1
		ZRANGE z 0 -1
	EOF
}

@test "a blocking command that has nothing to pop answers nil at once in nedb-redis, as Redis does in MULTI" {
	run nedb-redis BLPOP nosuch 0
	assert_success
	assert_output '(nil)'
	run nedb-redis BLMOVE nosuch d LEFT LEFT 0
	assert_output '(nil)'
	run nedb-redis BZMPOP 0 1 nosuch MIN
	assert_output '(nil)'
	run nedb-log -n 1
	refute_output --partial nosuch
}

@test "SORT and SORT_RO with BY, GET, LIMIT, ASC, DESC, ALPHA and STORE as with redis-server" {
	same_as_redis <<-'EOF'
		RPUSH l 3 1 2 10 -5 2.5
		SORT l
		SORT l DESC
		SORT l LIMIT 1 3
		SORT l LIMIT -1 2 DESC
		SORT l LIMIT 10 2
		SORT l LIMIT 0 -1
		SORT l ALPHA
		SORT l ALPHA DESC LIMIT 0 2
		SORT_RO l DESC
		SADD s b a c 5
		SORT s ALPHA
		SORT s
		RPUSH n x y 1
		SORT n
		SORT n ALPHA
		MSET w_1 30 w_2 10 w_3 20 w_10 5 w_-5 1 w_2.5 7
		SORT l BY w_*
		SORT l BY w_* DESC GET # GET w_*
		SORT l BY nosort
		SORT l BY nosort DESC LIMIT 1 2
		SORT l BY nosort GET w_*
		HSET h_1 f 9 g a
		HSET h_2 f 3
		SORT l BY h_*->f GET h_*->f GET # GET h_*->g
		SORT l BY h_*->f ALPHA
		SORT l BY w_* ALPHA
		SORT l BY w_* STORE dst
		LRANGE dst 0 -1
		SORT l GET w_* STORE dst2
		LRANGE dst2 0 -1
		SORT nosuch STORE dst
		EXISTS dst
		SET str x
		SORT str
		SORT l LIMIT 1
		SORT l LIMIT a b
		SORT l FOO
		SORT_RO l STORE x
		SORT l BY
		ZADD z 3 c 1 a 2 b
		SORT z BY nosort
		SORT z BY nosort DESC
		SORT z ALPHA
		SORT z BY nosort LIMIT 1 1
		SORT s BY nosort STORE sd
		LRANGE sd 0 -1
		SORT l GET nosuchpattern
	EOF
}

@test "LCS with LEN, IDX, MINMATCHLEN and WITHMATCHLEN, and its errors, as with redis-server" {
	same_as_redis <<-'EOF'
		RPUSH l a
		SET a1 ohmytext
		SET b1 mynewtext
		LCS a1 b1
		LCS a1 b1 LEN
		LCS a1 b1 IDX
		LCS a1 b1 IDX WITHMATCHLEN
		LCS a1 b1 IDX MINMATCHLEN 4 WITHMATCHLEN
		LCS a1 b1 IDX MINMATCHLEN -3
		LCS a1 b1 LEN IDX
		LCS a1 nosuch
		LCS a1 l
		LCS a1 b1 FOO
		LCS a1 b1 MINMATCHLEN x
		LCS nosuch nosuch2 IDX
		SET ga1 "ATTGCACGTAAGCTTACGGTTAACCTGA"
		SET gb1 "GATCCTAGAACGTTTTTACGTAAGCTCGATCG"
		LCS ga1 gb1
		LCS ga1 gb1 IDX WITHMATCHLEN
	EOF
}

@test "SWAPDB needs a server: nedb-redis has one database" {
	run nedb-redis SWAPDB 0 1
	assert_failure
	assert_output "(error) ERR SWAPDB needs a server: only database 'db' is open here"
	run nedb-redis SWAPDB 0 a/b
	assert_output '(error) ERR invalid second DB index'
	run nedb-redis SWAPDB 0
	assert_output "(error) ERR wrong number of arguments for 'swapdb' command"
}
