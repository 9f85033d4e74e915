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
	assert_line --partial 'db0:keys=2'
	run nedb-redis info keyspace
	assert_output "$(printf '# Keyspace\r\ndb0:keys=2\r')"
	run nedb-redis INFO nosuchsection
	assert_output ''
}

@test "COMMAND describes the table: COUNT, INFO, LIST, DOCS" {
	run nedb-redis COMMAND COUNT
	assert_output '(integer) 86'
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
	assert_equal "${#lines[@]}" 86
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
	run -1 nedb-redis xadd
	assert_output "(error) ERR unknown command 'xadd', with args beginning with: "
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
	for ((i = 0; i < 3000; i++)); do
		echo "SET k$i $i"
		echo "INCR k$i"
	done >cmds
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
	same_as_redis <<-'EOF'
		SADD s1 a b c
		SADD s2 b c d
		SINTERSTORE d s1 s2
		SMEMBERS d
		SDIFFSTORE d s1 s2
		SMEMBERS d
		SINTERSTORE d s1 nosuch
		EXISTS d
		SMOVE s1 s2 a
		SMOVE s1 s2 a
		SMOVE s1 s1 b
		SCARD s2
		SET str x
		SMOVE s1 str b
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

@test "absolute times, UNLINK, RENAMENX and FLUSHALL print as with redis-server" {
	same_as_redis <<-'EOF'
		SET k v PXAT 1
		EXISTS k
		SET k v EXAT 99999999999
		TTL k
		SET k v EX 1 PXAT 5
		SET k v KEEPTTL PXAT 5
		SET k v PXAT 0
		PEXPIREAT k 1
		EXISTS k
		SET k v
		EXPIREAT k 99999999999
		TTL k
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
	assert_output '{"_id":"board","type":"zset","value":{"al":1.5,"ann":1.5,"bob":3,"top":"inf"}}'
	run nedb-redis ZINCRBY board 0.1 al
	assert_output '"1.6000000000000001"'
	run nedb-get redis board
	assert_output '{"_id":"board","type":"zset","value":{"ann":1.5,"al":1.6,"bob":3,"top":"inf"}}'
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
