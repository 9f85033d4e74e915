#!/usr/bin/env bats
# nedbd closed to strangers (SPEC section 7, ADVERSARIAL findings 7 and
# 8): nothing large is buffered before a request is authenticated, idle
# and slow connections time out and cannot keep others out, web pages of
# other sites get no CORS permission and no way in (Origin, Host,
# Content-Type), the Redis port closes on an HTTP request, and what
# nedbd creates is private.

load nedbd-helper

# raw_http LINES...: sends the lines (CRLF-ended, then an empty line) on
# a connection of its own and prints the status line of the answer, or
# "closed" when the server hung up without one; bounded by 20 seconds
# ("timeout" then).
raw_http() {
	python3 - "$PORT" "$@" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
s.sendall(("".join(l + "\r\n" for l in sys.argv[2:]) + "\r\n").encode())
try:
    got = s.recv(65536)
    print(got.split(b"\r\n")[0].decode() if got else "closed")
except socket.timeout:
    print("timeout")
except ConnectionResetError:
    print("closed")
PY
}

# raw_resp BYTES: sends BYTES (a Python bytes literal) on a connection of
# its own and prints what came back until the server closed it (bounded
# by 20 seconds: then "timeout"), CRs dropped.
raw_resp() {
	python3 - "$RPORT" "$1" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(20)
try:
    s.sendall(eval(sys.argv[2], {"__builtins__": {}}))
except (BrokenPipeError, ConnectionResetError):
    pass
got = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    sys.stdout.write(got.decode(errors="replace").replace("\r", ""))
    print("closed")
except socket.timeout:
    sys.stdout.write(got.decode(errors="replace").replace("\r", ""))
    print("timeout")
except ConnectionResetError:
    sys.stdout.write(got.decode(errors="replace").replace("\r", ""))
    print("closed")
PY
}

# ---- before authentication --------------------------------------------------

@test "with a token, a request without it is answered 401 before its body is read" {
	start_nedbd NEDBD_TOKEN=s3cret
	# 30 MB announced, none sent: the answer cannot wait for them
	run raw_http 'POST /v1/databases HTTP/1.1' 'Host: 127.0.0.1' \
		'Content-Type: application/json' 'Content-Length: 30000000'
	assert_output 'HTTP/1.1 401 Unauthorized'
	run raw_http 'POST /v1/databases/x/put HTTP/1.1' 'Host: 127.0.0.1' \
		'Authorization: Bearer nope' 'Content-Length: 1000000'
	assert_output 'HTTP/1.1 401 Unauthorized'
	# a path outside /v1 takes no body either
	run raw_http 'POST /nope HTTP/1.1' 'Host: 127.0.0.1' \
		'Content-Length: 30000000'
	assert_output 'HTTP/1.1 404 Not Found'
	# with the token the body is awaited (and a short one served)
	run raw_http 'POST /v1/databases HTTP/1.1' 'Host: 127.0.0.1' \
		'Authorization: Bearer s3cret' 'Content-Length: 12' \
		'' '{"name":"a"}'
	assert_output 'HTTP/1.1 201 Created'
}

@test "RESP before AUTH: more than 10 arguments or an argument over 16 KiB is a protocol error that closes" {
	start_nedbd NEDBD_TOKEN=s3cret
	run raw_resp 'b"*11\r\n$4\r\nPING\r\n"'
	assert_output "-ERR Protocol error: unauthenticated multibulk length
closed"
	run raw_resp 'b"*2\r\n$4\r\nECHO\r\n$16385\r\n"'
	assert_output "-ERR Protocol error: unauthenticated bulk length
closed"
	# 16 KiB is still fine (NOAUTH), and so is all of it after AUTH
	run raw_resp 'b"*2\r\n$4\r\nECHO\r\n$16384\r\n" + b"x" * 16384 + b"\r\nQUIT\r\n"'
	assert_output "-NOAUTH Authentication required.
+OK
closed"
	run raw_resp 'b"AUTH s3cret\r\n*13\r\n$4\r\nMSET\r\n" + b"$1\r\nk\r\n$20000\r\n" + b"v" * 20000 + b"\r\n" + b"$1\r\nk\r\n$1\r\nv\r\n" * 4 + b"$1\r\nz\r\n$1\r\nz\r\nQUIT\r\n"'
	assert_output "+OK
+OK
+OK
closed"
}

@test "RESP: a request larger than NEDBD_MAX_BODY is a protocol error that closes" {
	start_nedbd NEDBD_MAX_BODY=100000
	run raw_resp 'b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100001\r\n"'
	assert_output "-ERR Protocol error: invalid bulk length
closed"
	run raw_resp 'b"*5\r\n$4\r\nMSET\r\n$1\r\nk\r\n$60000\r\n" + b"v" * 60000 + b"\r\n$1\r\nj\r\n$60000\r\n"'
	assert_output "-ERR Protocol error: too big request
closed"
	run raw_resp 'b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$99990\r\n" + b"v" * 99990 + b"\r\nSTRLEN k\r\nQUIT\r\n"'
	assert_output "+OK
:99990
+OK
closed"
}

# ---- idle and slow connections ------------------------------------------------

@test "HTTP: request headers that come too slowly close the connection after NEDBD_TIMEOUT" {
	start_nedbd NEDBD_TIMEOUT=1
	# a byte every 0.2 s never leaves the connection idle for a second
	run python3 - "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
for i in range(200):
    try:
        s.send(b"GET /health HTTP/1.1\r\nX-Slow: " if i == 0 else b"a")
    except (BrokenPipeError, ConnectionResetError):
        print("closed")
        break
    s.settimeout(0.2)
    try:
        if s.recv(1) == b"":
            print("closed")
            break
    except socket.timeout:
        pass
    except ConnectionResetError:
        print("closed")
        break
else:
    print("still open after 40 s")
PY
	assert_output closed
	health_ok
}

@test "HTTP: connections that send nothing cannot keep a client out" {
	start_nedbd NEDBD_MAX_CONNECTIONS=4
	# eight idle connections, twice the most there may be
	python3 - "$PORT" "$BATS_TEST_TMPDIR/idle.ready" <<'PY' 3>&- &
import socket, sys, time
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1])))
         for _ in range(8)]
open(sys.argv[2], "w").close()
time.sleep(120)
PY
	EXTRA_PIDS+=($!)
	poll 30 test -e "$BATS_TEST_TMPDIR/idle.ready"
	http GET /health
	expect 200 '.ok == true'
	http GET /v1/databases
	expect 200 '.count == 0'
}

@test "RESP: with a token, a connection that does not AUTH in NEDBD_TIMEOUT is closed; one that did stays" {
	start_nedbd NEDBD_TOKEN=s3cret NEDBD_TIMEOUT=1
	resp_open
	run resp_cmd AUTH s3cret
	assert_output +OK
	run raw_resp 'b"PING\r\n"'
	assert_output "+PONG
closed"
	run resp_cmd PING
	assert_output +PONG
	resp_close
}

@test "RESP: with a token, when every slot is taken the oldest unauthenticated connection makes room" {
	# three strangers fill the three slots
	start_nedbd NEDBD_TOKEN=s3cret NEDBD_MAX_CONNECTIONS=3
	python3 - "$RPORT" "$BATS_TEST_TMPDIR/idle.ready" <<'PY' 3>&- &
import socket, sys, time
socks = []
for _ in range(3):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"PING\r\n")
    assert s.recv(100) == b"+PONG\r\n"
    socks.append(s)
open(sys.argv[2], "w").close()
time.sleep(120)
PY
	EXTRA_PIDS+=($!)
	poll 30 test -e "$BATS_TEST_TMPDIR/idle.ready"
	run redis-cli -p "$RPORT" -a s3cret --no-auth-warning SET k v
	assert_output OK
	run redis-cli -p "$RPORT" -a s3cret --no-auth-warning GET k
	assert_output v
}

# ---- web pages of other sites ---------------------------------------------------

@test "without a token no other origin gets CORS permission; NEDBD_CORS_ORIGINS lists those that do" {
	start_nedbd
	http GET /health
	! grep -qi '^Access-Control-Allow' <<<"$HEADERS"
	# its preflight fails, and so does a simple request of its
	http OPTIONS /v1/databases -H 'Origin: http://evil.example' \
		-H 'Access-Control-Request-Method: DELETE'
	expect_error 403
	! grep -qi '^Access-Control-Allow' <<<"$HEADERS"
	http GET /v1/databases -H 'Origin: http://evil.example'
	expect_error 403
	! grep -qi '^Access-Control-Allow' <<<"$HEADERS"
	http POST /v1/databases -H 'Origin: http://evil.example' \
		-d '{"name":"victim"}'
	expect_error 403
	[ ! -e "$DATA/victim" ]
	# the server's own origin may
	http GET /v1/databases -H "Origin: http://127.0.0.1:$PORT"
	expect 200 '.count == 0'
	stop_nedbd
	start_nedbd NEDBD_CORS_ORIGINS='http://app.example, https://b.example'
	http OPTIONS /v1/databases -H 'Origin: http://app.example' \
		-H 'Access-Control-Request-Method: POST'
	expect 204
	[ -z "$BODY" ]
	grep -q '^Access-Control-Allow-Origin: http://app.example$' <<<"$HEADERS"
	grep -q '^Access-Control-Allow-Methods: .*POST' <<<"$HEADERS"
	grep -q '^Access-Control-Allow-Headers: .*Authorization' <<<"$HEADERS"
	grep -q '^Vary: Origin$' <<<"$HEADERS"
	http POST /v1/databases -H 'Origin: https://b.example' -d '{"name":"ok"}'
	expect 201
	grep -q '^Access-Control-Allow-Origin: https://b.example$' <<<"$HEADERS"
	http GET /v1/databases -H 'Origin: http://evil.example'
	expect_error 403
}

@test "with a token any origin gets CORS permission (the token guards); a preflight needs no token" {
	start_nedbd NEDBD_TOKEN=tok
	http OPTIONS /v1/databases/x/query -H 'Origin: http://app.example'
	expect 204
	grep -q '^Access-Control-Allow-Origin: \*$' <<<"$HEADERS"
	http GET /v1/databases -H 'Origin: http://app.example'
	expect_error 401
	grep -q '^Access-Control-Allow-Origin: \*$' <<<"$HEADERS"
	TOKEN=tok
	http GET /v1/databases -H 'Origin: http://app.example'
	expect 200 '.count == 0'
}

@test "a POST whose Content-Type is not JSON answers 415 and writes nothing" {
	start_nedbd
	create shop
	local t
	for t in text/plain application/x-www-form-urlencoded \
		'multipart/form-data; boundary=x' 'text/plain; charset=utf-8'; do
		CTYPE=" $t" http POST /v1/databases -d '{"name":"victim"}'
		expect_error 415
		CTYPE=" $t" http POST /v1/databases/shop/put \
			-d '{"coll":"c","id":"x","doc":{}}'
		expect_error 415
		CTYPE=" $t" http POST /v1/databases/shop/checkpoint
		expect_error 415
	done
	[ ! -e "$DATA/victim" ]
	http GET /v1/databases/shop
	expect 200 '.seq == 0'
	# JSON, with parameters or in any case, and none at all, are taken
	CTYPE=' Application/JSON; charset=utf-8' http POST /v1/databases/shop/put \
		-d '{"coll":"c","id":"a","doc":{}}'
	expect 200 '.seq == 1'
	CTYPE= http POST /v1/databases/shop/put --data-binary \
		'{"coll":"c","id":"b","doc":{}}'
	expect 200 '.seq == 2'
}

@test "on loopback a Host header that is not this server is refused (DNS rebinding)" {
	start_nedbd
	local h
	for h in evil.example "evil.example:$PORT" 127.0.0.1.evil.example \
		'localhost.:1' 'localhost:x'; do
		http GET /v1/databases -H "Host: $h"
		expect_error 403
		http POST /v1/databases -H "Host: $h" -d '{"name":"victim"}'
		expect_error 403
	done
	[ ! -e "$DATA/victim" ]
	for h in localhost "localhost:$PORT" LOCALHOST 127.0.0.1 \
		"127.0.0.1:$PORT" '[::1]' "[::1]:$PORT"; do
		http GET /v1/databases -H "Host: $h"
		expect 200 '.count == 0'
	done
	# off loopback, names are not checked (many may lead to the host)
	stop_nedbd
	start_nedbd NEDBD_HOST=0.0.0.0
	http GET /v1/databases -H 'Host: db.example'
	expect 200 '.count == 0'
}

@test "the RESP port closes on an HTTP request, running nothing of it" {
	start_nedbd
	run raw_resp 'b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 32\r\n\r\nSET pwned 1\r\nSELECT victim\r\nFLUSHDB\r\n"'
	assert_output closed
	run raw_resp 'b"GET /x HTTP/1.1\r\nSET pwned 1\r\n"'
	assert_output closed
	run raw_resp 'b"Host: evil.example\r\nSET pwned 1\r\n"'
	assert_output closed
	run raw_resp 'b"*2\r\n$4\r\nPOST\r\n$1\r\n/\r\n*3\r\n$3\r\nSET\r\n$5\r\npwned\r\n$1\r\n1\r\n"'
	assert_output closed
	run rcli EXISTS pwned
	assert_output '(integer) 0'
	[ ! -e "$DATA/victim" ]
	grep -q 'possible SECURITY ATTACK detected' "$ERR"
	# GET as a command is still GET
	run raw_resp 'b"GET pwned\r\nQUIT\r\n"'
	assert_output "\$-1
+OK
closed"
}

# ---- files ------------------------------------------------------------------------

@test "what nedbd creates is private: directories 0700, files 0600" {
	umask 022
	start_nedbd
	create shop '{"seed":{"users":[{"_id":"u1"}]}}'
	http POST /v1/databases/shop/checkpoint
	expect 200
	rcli SET k v
	printf 'SELECT other\nSET k v\n' | rcli
	run stat -c '%a %n' "$DATA" "$DATA/shop" "$DATA/0" "$DATA/other"
	assert_output "700 $DATA
700 $DATA/shop
700 $DATA/0
700 $DATA/other"
	run find "$DATA" -type f ! -perm 600
	assert_output ''
	run find "$DATA" -type d ! -perm 700
	assert_output ''
}
