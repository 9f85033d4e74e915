#!/usr/bin/env bats
# PUBLISH, SUBSCRIBE, PSUBSCRIBE, their UNSUBSCRIBEs and PUBSUB on
# nedbd's RESP port (issue #18), beside a real redis-server: scripts of
# several connections run on both (tests/pubsub_diff.py) and every reply
# and message must be the same, read where the script says it must have
# arrived (blocking reads: nothing waits for time).

load nedbd-helper

# same_script: stdin's script on nedbd and on redis-server, alike.
same_script() {
	run python3 "$BATS_TEST_DIRNAME/pubsub_diff.py" "$RPORT" "$REDIS_PORT"
	assert_success
	assert_output ''
}

# The script's connections: A subscribes, B and C publish.
SCRIPT='A: UNSUBSCRIBE
A: PUNSUBSCRIBE
A: SUBSCRIBE a b | 2
A: SUBSCRIBE a
A: PSUBSCRIBE h* a* | 2
A: GET x
A: MULTI
A: PING
A: PING hi
A: SUBSCRIBE
A: NOSUCH
B: PUBLISH a m1
B: PUBLISH hello m2
B: PUBLISH nobody m3
A: | 3
B: PUBSUB CHANNELS a*
B: PUBSUB NUMSUB a b c
B: PUBSUB NUMSUB
B: PUBSUB NUMPAT
B: PUBSUB
B: PUBSUB FOO
B: PUBSUB NUMPAT x
B: PUBSUB CHANNELS a b
B: PUBLISH a
B: SUBSCRIBE a
B: PUBLISH a refused
C: PUBLISH a m4
A: | 2
B: | 1
B: UNSUBSCRIBE a
A: UNSUBSCRIBE a nosuch | 2
A: UNSUBSCRIBE | 1
A: PUNSUBSCRIBE | 2
A: GET x
A: PUBLISH a self'

@test "PUBSUB: subscriptions, messages, patterns and the subscribed context as redis-server (RESP2)" {
	start_redis
	start_nedbd
	same_script <<<"$SCRIPT"
}

@test "PUBSUB: the same under RESP3: push messages, and any command while subscribed" {
	start_redis
	start_nedbd
	same_script <<-'EOF'
	A: HELLO 3
	B: HELLO 3
	A: UNSUBSCRIBE
	A: SUBSCRIBE a b | 2
	A: PSUBSCRIBE a* | 1
	A: GET x
	A: SET x 1
	A: PING
	B: PUBLISH a m1
	A: | 2
	A: PUBLISH b to-myself
	A: | 0
	A: UNSUBSCRIBE b
	A: UNSUBSCRIBE
	A: PUNSUBSCRIBE
	B: PUBLISH a nobody
	EOF
}

@test "PUBSUB: a subscriber that leaves receives nothing more and is counted no more" {
	start_nedbd
	exec 5<>"/dev/tcp/127.0.0.1/$RPORT"
	printf 'SUBSCRIBE news\r\n' >&5
	# its reply: *3, $9, subscribe, $4, news, :1
	local i line
	for i in 1 2 3 4 5 6; do IFS= read -r -t 10 line <&5; done
	assert_equal "$line" $':1\r'
	run redis-cli -p "$RPORT" PUBLISH news one
	assert_output 1
	run redis-cli -p "$RPORT" PUBSUB NUMSUB news
	assert_output $'news\n1'
	exec 5>&-
	# the close is seen in the server's next turn
	poll 10 numsub_is 0
	run redis-cli -p "$RPORT" PUBLISH news two
	assert_output 0
}

numsub_is() {
	[ "$(redis-cli -p "$RPORT" PUBSUB NUMSUB news | tail -1)" = "$1" ]
}

@test "PUBSUB: a Python redis client's pubsub receives messages and pattern messages" {
	redis_python
	start_nedbd
	run "$PY" - "$RPORT" <<'EOF'
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
p = r.pubsub()
p.subscribe("news")
p.psubscribe("ev.*")
print(p.get_message(timeout=10)["type"], p.get_message(timeout=10)["type"])
print(r.publish("news", "hello"), r.publish("ev.x", "pat"), r.publish("other", "x"))
m = p.get_message(timeout=10)
print(m["type"], m["channel"].decode(), m["data"].decode())
m = p.get_message(timeout=10)
print(m["type"], m["pattern"].decode(), m["channel"].decode(), m["data"].decode())
print(r.pubsub_channels(), r.pubsub_numpat())
p.close()
EOF
	assert_success
	assert_output "subscribe psubscribe
1 1 0
message news hello
pmessage ev.* ev.x pat
[b'news'] 1"
}

@test "PUBSUB: with a token, SUBSCRIBE and PUBLISH before AUTH answer NOAUTH" {
	TOKEN=s3cret start_nedbd
	run redis-cli -p "$RPORT" SUBSCRIBE news
	assert_output --partial 'NOAUTH Authentication required.'
	run redis-cli -p "$RPORT" PUBLISH news x
	assert_output --partial 'NOAUTH Authentication required.'
	run redis-cli -p "$RPORT" -a s3cret --no-auth-warning PUBLISH news x
	assert_output 0
}

@test "nedb-redis: PUBLISH reaches nobody (0) and SUBSCRIBE needs nedbd" {
	run nedb-redis PUBLISH news hello
	assert_success
	assert_output '(integer) 0'
	run nedb-redis PUBSUB NUMSUB news
	assert_output $'1) "news"\n2) (integer) 0'
	run nedb-redis SUBSCRIBE news
	assert_failure 1
	assert_output "(error) ERR subscribe needs a connection that stays open: nedbd's RESP port"
	run nedb-redis PUBLISH news
	assert_output "(error) ERR wrong number of arguments for 'publish' command"
}

@test "PUBSUB: a subscriber that does not read is closed past 32 MiB of messages, and nedbd goes on" {
	start_nedbd
	run python3 - "$RPORT" <<-'PY'
	import socket, sys
	port = int(sys.argv[1])
	sub = socket.create_connection(("127.0.0.1", port))
	sub.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
	sub.sendall(b"SUBSCRIBE flood\r\n")
	got = b""
	while not got.endswith(b":1\r\n"):
	    got += sub.recv(100)
	pub = socket.create_connection(("127.0.0.1", port))
	msg = b"x" * (1 << 20)
	cmd = b"*3\r\n$7\r\nPUBLISH\r\n$5\r\nflood\r\n$%d\r\n%s\r\n" % (len(msg), msg)
	counts = []
	buf = b""
	for i in range(64):
	    pub.sendall(cmd)
	    while b"\r\n" not in buf:
	        buf += pub.recv(100)
	    line, _, buf = buf.partition(b"\r\n")
	    counts.append(line)
	# the subscriber was handed at most 32 MiB, then closed
	print(counts[0].decode(), counts[-1].decode())
	pub.sendall(b"PUBSUB NUMSUB flood\r\n")
	out = b""
	while out.count(b"\r\n") < 4:
	    out += pub.recv(100)
	print(out.split(b"\r\n")[3].decode())
	PY
	assert_success
	assert_line --index 0 ':1 :0'
	assert_line --index 1 ':0'
	alive
	ping_ok
}
