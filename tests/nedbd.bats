#!/usr/bin/env bats
# nedbd: the daemon of SPEC section 7 - start-up and configuration
# errors, every HTTP route with its answers and errors (auth, bad JSON,
# bad names, 404, 405, 409, 413, CORS), the RESP2 port through redis-cli,
# inline commands and a Python client, group commit, the CLI and the
# daemon on one database at the same time, and shutdown on SIGTERM/SIGINT
# with a checkpoint in every open database.
#
# Every test starts its own daemon on free loopback ports over its own
# data root ($DATA) and stops it in teardown.  Nothing here sleeps and
# hopes: waits poll with a bound.

load nedbd-helper

# ---- start-up and configuration -------------------------------------------

@test "--help prints the usage and exits 0; --version the version; a bad option exits 2" {
	run nedbd --help
	assert_success
	assert_line --index 0 --partial 'usage: nedbd'
	assert_output --partial NEDBD_PORT
	assert_output --partial NEDBD_RESP2_PORT
	run -0 nedbd -h
	assert_line --index 0 --partial 'usage: nedbd'
	run -0 nedbd --version
	assert_output --regexp '^nedbd [0-9]+\.[0-9]+'
	run -2 --separate-stderr nedbd --bogus
	assert_equal "${stderr_lines[0]}" "nedbd: unknown option '--bogus'"
}

@test "a bad NEDBD_PORT (or other setting) exits 2 with one line naming it" {
	local v
	for v in abc 70000 -1 1x 99999999999999999999; do
		run -2 --separate-stderr env NEDBD_PORT="$v" NEDBD_DATA="$DATA" nedbd
		assert_equal "${#stderr_lines[@]}" 1
		assert_equal "${stderr_lines[0]}" \
			"nedbd: bad NEDBD_PORT: '$v' (a number from 0 to 65535)"
	done
	run -2 --separate-stderr env NEDBD_RESP2_PORT=x NEDBD_DATA="$DATA" nedbd
	assert_equal "$stderr" "nedbd: bad NEDBD_RESP2_PORT: 'x' (a number from 0 to 65535)"
	run -2 --separate-stderr env NEDBD_MAX_BODY=5 NEDBD_DATA="$DATA" nedbd
	assert_equal "${#stderr_lines[@]}" 1
	run -2 --separate-stderr env NEDBD_DURABILITY=sometimes NEDBD_DATA="$DATA" nedbd
	assert_equal "$stderr" "nedbd: bad NEDBD_DURABILITY: 'sometimes' (durable, safe or fast)"
	run -2 --separate-stderr env NEDBD_MAX_CONNECTIONS=0 NEDBD_DATA="$DATA" nedbd
	assert_equal "${#stderr_lines[@]}" 1
	# nothing was served, and no data root was made
	[ ! -e "$DATA" ]
}

@test "NEDBD_HOST may be a name; one that does not resolve to IPv4 exits 2" {
	local h
	for h in '::1' '999.1.1.1'; do
		run -2 --separate-stderr env NEDBD_HOST="$h" NEDBD_PORT=0 \
			NEDBD_DATA="$DATA" nedbd 3>&-
		assert_equal "${#stderr_lines[@]}" 1
		assert_equal "${stderr_lines[0]%% (*}" "nedbd: bad NEDBD_HOST: '$h'"
	done
	start_nedbd NEDBD_HOST=localhost
	run cat "$ERR"
	assert_output "nedbd: serving $DATA on http://localhost:$PORT and redis://localhost:$RPORT"
	http GET /health
	expect 200 '.ok'
	run rcli SET k v
	assert_output OK
}

@test "a data root that is a file exits 5 with one line" {
	touch "$DATA"
	run -5 --separate-stderr env NEDBD_PORT=0 NEDBD_DATA="$DATA" nedbd 3>&-
	assert_equal "$stderr" "nedbd: data directory '$DATA' is not a directory"
}

@test "start-up prints where it serves; NEDBD_RESP2_PORT=0 serves HTTP only" {
	start_nedbd NEDBD_RESP2_PORT=0
	[ -z "$RPORT" ]
	run cat "$ERR"
	assert_output "nedbd: serving $DATA on http://127.0.0.1:$PORT"
	[ -d "$DATA" ]
	stop_nedbd
	assert_equal "$STATUS" 0
	start_nedbd
	run cat "$ERR"
	assert_output "nedbd: serving $DATA on http://127.0.0.1:$PORT and redis://127.0.0.1:$RPORT"
}

@test "an HTTP port already in use: nonzero exit and a one-line error" {
	start_nedbd
	# the RESP2 listener of the first daemon holds $RPORT
	run --separate-stderr env NEDBD_PORT="$RPORT" NEDBD_DATA="$DATA" \
		timeout 20 nedbd 3>&-
	assert_equal "$status" 5
	assert_equal "$stderr" \
		"nedbd: cannot listen on 127.0.0.1:$RPORT (HTTP): Address already in use"
}

@test "a RESP2 port already in use: nonzero exit and a one-line error" {
	start_nedbd
	run --separate-stderr env NEDBD_PORT=0 NEDBD_RESP2_PORT="$RPORT" \
		NEDBD_DATA="$DATA" timeout 20 nedbd 3>&-
	assert_equal "$status" 5
	assert_equal "$stderr" \
		"nedbd: cannot listen on 127.0.0.1:$RPORT (RESP2): Address already in use"
}

@test "a second nedbd on the HTTP port of a running one does not start" {
	local pid err=$BATS_TEST_TMPDIR/second.err
	start_nedbd NEDBD_RESP2_PORT=0
	NEDBD_PORT=$PORT NEDBD_DATA="$BATS_TEST_TMPDIR/other" nedbd \
		3>&- 2>"$err" &
	pid=$!
	EXTRA_PIDS+=("$pid")
	# it either exits or announces that it serves
	poll 30 eval '! alive '"$pid"' || grep -q "^nedbd: serving" "'"$err"'"'
	if alive "$pid"; then
		echo "a second nedbd serves the port of the first: $(cat "$err")" >&2
		return 1
	fi
	local st=0
	wait "$pid" || st=$?
	assert_equal "$st" 5
	run cat "$err"
	assert_output "nedbd: cannot listen on 127.0.0.1:$PORT (HTTP): Address already in use"
}

# ---- HTTP: health, auth, CORS, routing --------------------------------------

@test "GET /health answers ok and the version" {
	start_nedbd
	http GET /health
	expect 200 '.ok == true' '.version | test("^[0-9]+\\.[0-9]+")'
	run nedbd --version
	assert_output "nedbd $(jq -r .version <<<"$BODY")"
	http POST /health
	expect_error 405
}

@test "with NEDBD_TOKEN every /v1 route wants the bearer token; /health does not" {
	start_nedbd NEDBD_TOKEN=s3cret
	http GET /health
	expect 200 '.ok == true'
	http GET /v1/databases
	expect_error 401
	grep -q '^WWW-Authenticate: Bearer' <<<"$HEADERS"
	http POST /v1/databases -d '{"name":"x"}'
	expect_error 401
	http GET /v1/databases/x/verify
	expect_error 401
	http GET /v1/nosuch
	expect_error 401
	http GET /v1/databases -H 'Authorization: Bearer wrong'
	expect_error 401
	grep -q '^WWW-Authenticate: Bearer' <<<"$HEADERS"
	http GET /v1/databases -H 'Authorization: Bearer s3cretX'
	expect_error 401
	http GET /v1/databases -H 'Authorization: Basic s3cret'
	expect_error 401
	[ ! -e "$DATA/x" ]
	TOKEN=s3cret
	http GET /v1/databases
	expect 200 '.count == 0'
	http POST /v1/databases -d '{"name":"x"}'
	expect 201 '.name == "x"'
	http GET /v1/databases/x/verify
	expect 200 '.ok == true'
}

@test "unknown routes answer 404 and wrong methods 405, as JSON errors" {
	start_nedbd
	create shop
	local r
	# (/ is the web console's page: tests/console.bats)
	for r in /nope /console /v1 /v1/nope /v1/databases/shop/nope \
		/v1/databases/shop/query/extra /v1/databases/nosuch \
		/v1/databases/nosuch/verify; do
		http GET "$r"
		expect_error 404
	done
	http DELETE /v1/databases/shop/rows/users
	expect_error 404
	for r in "PUT /v1/databases" "DELETE /v1/databases" \
		"PUT /v1/databases/shop" "POST /v1/databases/shop" \
		"GET /v1/databases/shop/query" "GET /v1/databases/shop/put" \
		"POST /v1/databases/shop/verify" "DELETE /v1/databases/shop/log" \
		"POST /v1/databases/shop/proof/inclusion" "GET /v1/databases/shop/index" \
		"GET /v1/databases/shop/link" "POST /v1/databases/shop/rows/u/1" \
		"PATCH /v1/databases/shop"; do
		http "${r% *}" "${r#* }"
		expect_error 405
	done
	# none of it wrote anything
	http GET /v1/databases/shop
	expect 200 '.seq == 0'
}

@test "a body larger than NEDBD_MAX_BODY answers 413 and writes nothing" {
	start_nedbd NEDBD_MAX_BODY=1024
	create shop
	python3 -c 'import json; print(json.dumps({"coll": "c", "id": "big",
		"doc": {"s": "x" * 2000}}))' >"$BATS_TEST_TMPDIR/big.json"
	python3 -c 'import json; print(json.dumps({"coll": "c", "id": "huge",
		"doc": {"s": "x" * 20000000}}))' >"$BATS_TEST_TMPDIR/huge.json"
	http POST /v1/databases/shop/put --data-binary @"$BATS_TEST_TMPDIR/big.json"
	expect_error 413
	http POST /v1/databases/shop/put -H 'Transfer-Encoding: chunked' \
		--data-binary @"$BATS_TEST_TMPDIR/big.json"
	expect_error 413
	# a client that waits for "100 Continue" is answered at once
	http POST /v1/databases/shop/put -H 'Expect: 100-continue' \
		--data-binary @"$BATS_TEST_TMPDIR/huge.json"
	expect_error 413
	# one that sends its body at once gets the answer, not a reset,
	# however large the body (nedbd reads it and throws it away):
	# again and again (once in the sanitizer suite: 40 MB a round)
	local i
	for ((i = 0; i < $(sample 3); i++)); do
		http POST /v1/databases/shop/put -H 'Expect:' \
			--data-binary @"$BATS_TEST_TMPDIR/huge.json"
		expect_error 413
		http POST /v1/databases/shop/put -H 'Transfer-Encoding: chunked' \
			--data-binary @"$BATS_TEST_TMPDIR/huge.json"
		expect_error 413
	done
	http POST /v1/databases -H 'Transfer-Encoding: chunked' \
		--data-binary @"$BATS_TEST_TMPDIR/huge.json"
	expect_error 413
	# a client that stops at the first failed send (curl on a busy
	# machine may, error 55): 20 MB fill any socket buffers, and
	# nedbd must read them all for the send to succeed
	run python3 - "$PORT" "$BATS_TEST_TMPDIR/huge.json" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = open(sys.argv[2], "rb").read()
try:
    s.sendall(b"POST /v1/databases/shop/put HTTP/1.1\r\nHost: 127.0.0.1\r\n"
              b"Content-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
except OSError as e:
    print("send failed:", e)
s.settimeout(60)
print(s.recv(100).split(b"\r\n")[0].decode())
PY
	assert_output 'HTTP/1.1 413 Content Too Large'
	# a body within the limit still works, on the same daemon
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"small","doc":{"s":"x"}}'
	expect 200 '.id == "small"'
	http GET /v1/databases/shop
	expect 200 '.seq == 1' '.rows == 1'
}

@test "bad JSON bodies answer 400 on every POST route" {
	start_nedbd
	create shop
	local r b
	for r in /v1/databases /v1/databases/shop/query /v1/databases/shop/put \
		/v1/databases/shop/index /v1/databases/shop/link; do
		for b in '{bad json' '[1,2]' '"str"' '{"a":1} {"b":2}' ''; do
			if [ -n "$b" ]; then
				http POST "$r" --data-binary "$b"
			else
				http POST "$r"
			fi
			expect_error 400
		done
	done
	http GET /v1/databases
	expect 200 '.count == 1'
	http GET /v1/databases/shop
	expect 200 '.seq == 0'
}

# ---- HTTP: databases --------------------------------------------------------

@test "GET /v1/databases lists nothing at first, then every database with its summary" {
	start_nedbd
	http GET /v1/databases
	expect 200 '. == {"databases":[],"count":0}'
	create beta
	create alpha '{"seed":{"users":[{"_id":"u1"},{"_id":"u2"}],"items":[{"_id":"i1"}]}}'
	# a database made by the CLI is listed too
	nedb-put -q -d "$DATA/gamma" t x '{"v":1}'
	# a directory that is not a database is not
	mkdir "$DATA/junk" "$DATA/bad.name"
	http GET /v1/databases
	expect 200 '.count == 3' '[.databases[].name] == ["alpha","beta","gamma"]' \
		'.databases[0].rows == 3' \
		'.databases[0].collections == {"items":1,"users":2}' \
		'.databases[0].seq == 3' \
		'.databases[0].head | test("^[0-9a-f]{64}$")' \
		'.databases[1] | .seq == 0 and .rows == 0 and .collections == {}' \
		'.databases[2].collections == {"t":1}'
	run nedb-verify -d "$DATA/alpha"
	assert_output --partial "\"head\":$(jq '.databases[0].head' <<<"$BODY")"
}

@test "POST /v1/databases creates a database the CLI opens; 409 when it exists" {
	start_nedbd
	http POST /v1/databases -d '{"name":"shop"}'
	expect 201 '.ok == true' '.name == "shop"' '.seq == 0' \
		'.head | test("^[0-9a-f]{64}$")'
	[ -f "$DATA/shop/log.aof" ]
	run -0 nedb-verify -d "$DATA/shop"
	assert_output --partial '"ok":true'
	http POST /v1/databases -d '{"name":"shop"}'
	expect_error 409
	# a database the CLI made is one that exists too
	nedb-put -q -d "$DATA/cli" t x '{}'
	http POST /v1/databases -d '{"name":"cli","init":{"seed":{"t":[{"_id":"y"}]}}}'
	expect_error 409
	run -1 nedb-get -d "$DATA/cli" t y
	# the 64-byte name limit is inclusive
	local n64
	n64=$(printf 'a%.0s' {1..64})
	http POST /v1/databases -d "{\"name\":\"$n64\"}"
	expect 201
	http POST /v1/databases -d '{"name":"Mixed_Case-09"}'
	expect 201
}

@test "POST /v1/databases rejects bad names and path tricks with 400, creating nothing" {
	mkdir -p "$BATS_TEST_TMPDIR/victim"
	start_nedbd
	local n65 name
	n65=$(printf 'a%.0s' {1..65})
	for name in '..' '.' 'a/b' 'a%2F..' '../victim' '' "$n65" 'a.b' 'a b' \
		'caf\u00e9' 'a\u0000b' '-/..'; do
		http POST /v1/databases -d "{\"name\":\"$name\"}"
		expect_error 400
	done
	for name in '5' 'null' '["a"]' '{"x":1}'; do
		http POST /v1/databases -d "{\"name\":$name}"
		expect_error 400
	done
	http POST /v1/databases -d '{}'
	expect_error 400
	http POST /v1/databases -d '{"nom":"x"}'
	expect_error 400
	run ls -A "$DATA"
	assert_output ''
	run ls -A "$BATS_TEST_TMPDIR/victim"
	assert_output ''
}

@test "database routes reject path tricks in the URL and touch nothing outside the data root" {
	# a database next to the data root that a path trick could reach
	nedb-put -q -d "$BATS_TEST_TMPDIR/victim" t x '{}'
	start_nedbd
	create shop
	local p
	for p in .. %2E%2E %2e. '..%2Fvictim' 'a%2F..' '%2E%2E%2Fvictim' \
		'..%2F..%2Fvictim'; do
		http GET "/v1/databases/$p"
		[[ $CODE == 400 || $CODE == 404 ]] || {
			echo "GET $p: $CODE $BODY" >&2
			return 1
		}
		http DELETE "/v1/databases/$p"
		[[ $CODE == 400 || $CODE == 404 ]] || {
			echo "DELETE $p: $CODE $BODY" >&2
			return 1
		}
		http POST "/v1/databases/$p/put" -d '{"coll":"t","id":"y","doc":{}}'
		[[ $CODE == 400 || $CODE == 404 ]] || {
			echo "POST $p/put: $CODE $BODY" >&2
			return 1
		}
	done
	http DELETE /v1/databases/..
	expect_error 400
	http GET /v1/databases/..
	expect_error 400
	run -0 nedb-get -d "$BATS_TEST_TMPDIR/victim" t x
	run -1 nedb-get -d "$BATS_TEST_TMPDIR/victim" t y
	run -0 nedb-verify -d "$BATS_TEST_TMPDIR/victim"
	[ -f "$DATA/shop/log.aof" ]
}

@test "init: seed, indexes and links are there after the create" {
	start_nedbd
	create shop '{"indexes":[["users","age","ordered"],["users","city","eq"]],
		"seed":{"users":[{"_id":"u1","age":30,"city":"Oslo"},
			{"id":"u2","age":40,"city":"Rome"},
			{"_id":"u3","age":50,"city":"Oslo"}],
			"items":[{"_id":"i1","name":"pen"}]},
		"links":[["users:u1","knows","users:u2"],["users:u2","knows","users:u3"]]}'
	expect 201 '.seq == 8'
	query shop 'FROM users WHERE city = "Oslo" ORDER BY _id'
	expect 200 '[.rows[]._id] == ["u1","u3"]' '.count == 2' '.seq == 8'
	query shop 'FROM users WHERE _id = "u2"'
	expect 200 '.rows[0] | .age == 40 and .id == "u2"'
	query shop 'FROM users WHERE _id = "u1" TRAVERSE knows'
	expect 200 '[.rows[]._id] == ["u2"]'
	query shop 'FROM users WHERE _id = "u3" TRAVERSE knows IN'
	expect 200 '[.rows[]._id] == ["u2"]'
	query shop 'EXPLAIN FROM users WHERE age > 35'
	expect 200 '.rows[0].plan == "index"' '.rows[0].index.field == "age"'
	http GET /v1/databases/shop
	expect 200 '.rows == 4' '.collections == {"items":1,"users":3}' \
		'[.indexes[] | [.coll,.field,.kind,.entries]] | sort ==
			[["users","age","ordered",3],["users","city","eq",3]]'
	run nedb-link -d "$DATA/shop" --out users:u1
	assert_output '"users:u2"'
	run -0 nedb-verify -d "$DATA/shop"
}

@test "a bad init answers 400 and creates nothing" {
	start_nedbd
	local init
	for init in '"x"' '[]' '{"indexes":"x"}' '{"indexes":[["users","age"]]}' \
		'{"indexes":[["users","age","range"]]}' '{"indexes":[[1,2,3]]}' \
		'{"seed":[]}' '{"seed":{"users":{"_id":"u1"}}}' \
		'{"seed":{"users":[{"_id":"u1"},{"name":"no id"}]}}' \
		'{"seed":{"users":[5]}}' '{"seed":{"bad coll":[{"_id":"a"}]}}' \
		'{"seed":{"users":[{"_id":"u1"}]},"links":[["users:u1","knows"]]}' \
		'{"links":"x"}' '{"links":[["a","b","c"]]}' \
		'{"seed":{"users":[{"_id":"u1"}]},"links":[["a","b","c","d"]]}'; do
		http POST /v1/databases -d "{\"name\":\"shop\",\"init\":$init}"
		expect_error 400
		[ ! -e "$DATA/shop" ] || {
			echo "init $init left $DATA/shop behind" >&2
			return 1
		}
	done
	http GET /v1/databases
	expect 200 '.count == 0'
	# the name is free: a good create works
	create shop '{"seed":{"users":[{"_id":"u1"}]}}'
	http GET /v1/databases/shop
	expect 200 '.rows == 1'
}

@test "a bad init over a directory that is not a database leaves its files alone" {
	mkdir -p "$DATA/notes"
	echo precious >"$DATA/notes/keep.txt"
	start_nedbd
	http POST /v1/databases -d '{"name":"notes","init":{"indexes":"bad"}}'
	expect_error 400
	run cat "$DATA/notes/keep.txt"
	assert_output precious
}

@test "GET /v1/databases/:name shows indexes, sizes, checkpoint and the last 10 ops" {
	start_nedbd
	create shop '{"indexes":[["users","age","ordered"]]}'
	local i
	for i in $(seq 1 12); do
		http POST /v1/databases/shop/put -d "{\"coll\":\"users\",\"id\":\"u$i\",\"doc\":{\"age\":$i}}"
		expect 200
	done
	http GET /v1/databases/shop
	expect 200 '.name == "shop"' '.seq == 13' '.rows == 12' \
		'.collections == {"users":12}' \
		'.indexes == [{"coll":"users","field":"age","kind":"ordered","entries":12}]' \
		'.log_bytes > 0' '.view_bytes > 0' '.checkpoint == null' \
		'[.log[].seq] == [13,12,11,10,9,8,7,6,5,4]' \
		'.log[0].op == "put" and .log[0].id == "u12"'
	[ "$(jq .log_bytes <<<"$BODY")" -eq "$(stat -c %s "$DATA/shop/log.aof")" ]
	[ "$(jq -r .head <<<"$BODY")" = "$(last_op "$DATA/shop" | jq -r .hash)" ]
	http POST /v1/databases/shop/checkpoint
	expect 200
	http GET /v1/databases/shop
	expect 200 '.checkpoint == 14' '.log[0].op == "checkpoint"'
	# a small database: the whole log, genesis last
	create tiny
	http GET /v1/databases/tiny
	expect 200 '[.log[].op] == ["genesis"]' '.rows == 0' '.indexes == []'
}

@test "GET /v1/databases/:name does not walk the chain: a damaged early op shows only in GET verify" {
	start_nedbd
	create shop
	local i
	for i in $(seq 1 12); do
		http POST /v1/databases/shop/put -d "{\"coll\":\"c\",\"id\":\"k$i\",\"doc\":{\"n\":$i}}"
		expect 200
	done
	# seq 1's document, edited in place in the log (same length)
	python3 - "$DATA/shop/log.aof" <<'PY'
import sys
p = sys.argv[1]
b = open(p, "rb").read()
j = b.index(b'{"_id":"k1","n":1}')
open(p, "r+b").write(b[:j] + b'{"_id":"k1","n":7}' + b[j + 18:])
PY
	http GET /v1/databases/shop
	expect 200 '.seq == 12' '.rows == 12' 'has("verify") | not' \
		'[.log[].seq] == [12,11,10,9,8,7,6,5,4,3]'
	http GET /v1/databases/shop/verify
	expect 200 '.ok == false' '.seq == 1'
}

@test "DELETE removes a pruned database's archive too, and leaves a user's files" {
	start_nedbd
	create shop '{"seed":{"users":[{"_id":"u1"},{"_id":"u2"}]}}'
	http POST /v1/databases/shop/checkpoint
	expect 200
	nedb-checkpoint -d "$DATA/shop" --prune >/dev/null
	ls "$DATA/shop/archive/"*.seg >/dev/null
	http DELETE /v1/databases/shop
	expect 200 '.deleted == true'
	[ ! -e "$DATA/shop" ]
	create notes
	echo precious >"$DATA/notes/keep.txt"
	http DELETE /v1/databases/notes
	expect 200 '.deleted == true'
	run ls -A "$DATA/notes"
	assert_output keep.txt
}

@test "DELETE /v1/databases/:name removes the database; 404 after" {
	start_nedbd
	create shop '{"seed":{"users":[{"_id":"u1"}]}}'
	create other
	http DELETE /v1/databases/shop
	expect 200 '. == {"ok":true,"name":"shop","deleted":true}'
	[ ! -e "$DATA/shop" ]
	http GET /v1/databases/shop
	expect_error 404
	http DELETE /v1/databases/shop
	expect_error 404
	http POST /v1/databases/shop/query -d '{"nql":"FROM users"}'
	expect_error 404
	http GET /v1/databases
	expect 200 '[.databases[].name] == ["other"]'
	# the name can be used again, anew
	create shop
	http GET /v1/databases/shop
	expect 200 '.rows == 0' '.seq == 0'
}

@test "a NUL byte (%00) in the URL does not cut the path short" {
	start_nedbd
	create victim '{"seed":{"c":[{"_id":"a"}]}}'
	create shop '{"seed":{"c":[{"_id":"a"},{"_id":"b"}]}}'
	# must not become DELETE /v1/databases/victim
	http DELETE '/v1/databases/victim%00/rows/c/a'
	[[ $CODE == 4?? ]] || {
		echo "DELETE victim%00/rows/c/a: $CODE $BODY" >&2
		return 1
	}
	[ -f "$DATA/victim/log.aof" ]
	# must not delete the document "a"
	http DELETE '/v1/databases/shop/rows/c/a%00b'
	[[ $CODE == 4?? ]] || {
		echo "DELETE shop/rows/c/a%00b: $CODE $BODY" >&2
		return 1
	}
	run -0 nedb-get -d "$DATA/shop" c a
	# nor read a database by another name
	http GET '/v1/databases/shop%00x'
	[[ $CODE == 4?? ]] || {
		echo "GET shop%00x: $CODE $BODY" >&2
		return 1
	}
	http GET /v1/databases
	expect 200 '.count == 2'
}

@test "HTTP: parallel writes all commit; pipelined requests on one connection are answered in order" {
	start_nedbd
	create shop
	local i pids=()
	for ((i = 0; i < 30; i++)); do
		curl -s -o /dev/null -w '%{http_code}\n' -X POST \
			-H 'Content-Type: application/json' \
			"http://127.0.0.1:$PORT/v1/databases/shop/put" \
			-d "{\"coll\":\"p\",\"id\":\"d$i\",\"doc\":{\"i\":$i}}" \
			>"$BATS_TEST_TMPDIR/put.$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run cat "$BATS_TEST_TMPDIR"/put.*
	assert_equal "$(sort -u <<<"$output")" 200
	http GET /v1/databases/shop
	expect 200 '.rows == 30' '.seq == 30'
	http GET /v1/databases/shop/verify
	expect 200 '.ok'
	# five writes and a read, pipelined on one keep-alive connection
	run python3 - "$PORT" <<'EOF'
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
req = b""
for i in range(5):
    body = json.dumps({"coll": "q", "id": "k%d" % i, "doc": {}}).encode()
    req += (b"POST /v1/databases/shop/put HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
body = b'{"nql":"FROM q"}'
req += (b"POST /v1/databases/shop/query HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Connection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
s.sendall(req)
got = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
for line in got.split(b"\n"):
    line = line.rstrip(b"\r")
    if line.startswith(b"HTTP/"):
        print(line.decode())
    elif line.startswith(b"{"):
        o = json.loads(line)
        print(o.get("id", o.get("count")), o.get("seq"))
EOF
	assert_output 'HTTP/1.1 200 OK
k0 31
HTTP/1.1 200 OK
k1 32
HTTP/1.1 200 OK
k2 33
HTTP/1.1 200 OK
k3 34
HTTP/1.1 200 OK
k4 35
HTTP/1.1 200 OK
5 35'
}

# ---- HTTP: reads and writes of one database ---------------------------------

@test "POST query answers rows, count, seq and head; explain; syntax errors 400" {
	start_nedbd
	create shop '{"indexes":[["users","age","ordered"]],"seed":{"users":[
		{"_id":"u1","age":3},{"_id":"u2","age":5},{"_id":"u3","age":7}]}}'
	query shop 'FROM users WHERE age > 4 ORDER BY age DESC'
	expect 200 '[.rows[]._id] == ["u3","u2"]' '.count == 2' '.seq == 4' \
		'.head | test("^[0-9a-f]{64}$")'
	query shop 'FROM users GROUP BY age COUNT LIMIT 1'
	expect 200 '.count == 1'
	query shop 'FROM nosuch'
	expect 200 '.rows == [] and .count == 0'
	http POST /v1/databases/shop/query -d '{"nql":"FROM users WHERE age > 4","explain":true}'
	expect 200 '.rows[0].plan == "index"' '.rows[0].index.kind == "ordered"'
	http POST /v1/databases/shop/query -d '{"nql":"FROM users WHERE"}'
	expect_error 400
	jq -e '.error | test("syntax error")' <<<"$BODY"
	http POST /v1/databases/shop/query -d '{"nql":"SELEKT * FROM users"}'
	expect_error 400
	http POST /v1/databases/shop/query -d '{}'
	expect_error 400
	http POST /v1/databases/shop/query -d '{"nql":5}'
	expect_error 400
	http POST /v1/databases/shop/query -d '{"nql":"FROM users","explain":"yes"}'
	expect_error 400
	http POST /v1/databases/nosuch/query -d '{"nql":"FROM users"}'
	expect_error 404
	# nothing of this wrote
	http GET /v1/databases/shop
	expect 200 '.seq == 4'
}

@test "POST query reads the past by AS OF TIMESTAMP; a time before the database is 400" {
	start_nedbd
	create shop '{"seed":{"users":[{"_id":"u1"},{"_id":"u2"}]}}'
	query shop 'FROM users AS OF TIMESTAMP "2999-01-01"'
	expect 200 '.count == 2'
	http POST /v1/databases/shop/query --data-binary \
		"$(jq -cn '{nql: "FROM users AS OF TIMESTAMP \"2999-12-31T23:59:59Z\"", explain: true}')"
	expect 200 '.rows[0].as_of == 2'
	http POST /v1/databases/shop/query --data-binary \
		"$(jq -cn '{nql: "FROM users AS OF TIMESTAMP \"2000-01-01\""}')"
	expect_error 400
	jq -e '.error | test("^no op at or before 2000-01-01T00:00:00.000Z")' <<<"$BODY"
	http POST /v1/databases/shop/query --data-binary \
		"$(jq -cn '{nql: "FROM users AS OF TIMESTAMP \"2000-13-01\""}')"
	expect_error 400
	jq -e '.error | test("bad time")' <<<"$BODY"
}

@test "POST put answers the receipt; the document and its op (client http) are in the database" {
	start_nedbd
	create shop
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"u1","doc":{"name":"Ann","n":1.50}}'
	expect 200 '.op == "put" and .coll == "users" and .id == "u1" and .seq == 1' \
		'.hash | test("^[0-9a-f]{64}$")' 'keys == ["coll","hash","id","op","seq"]'
	local hash
	hash=$(jq -r .hash <<<"$BODY")
	run -0 nedb-get -d "$DATA/shop" users u1
	# numbers keep their text
	assert_output '{"_id":"u1","name":"Ann","n":1.50}'
	run last_op "$DATA/shop"
	jq -e --arg h "$hash" '.hash == $h and .client == "http" and .op == "put"' <<<"$output"
	# the id may come from the document's _id
	http POST /v1/databases/shop/put -d '{"coll":"users","doc":{"_id":"u2"}}'
	expect 200 '.id == "u2"'
	http POST /v1/databases/shop/put -d '{"coll":"users","doc":{"x":1}}'
	expect_error 400
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"u3","doc":[1]}'
	expect_error 400
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"u3"}'
	expect_error 400
	http POST /v1/databases/shop/put -d '{"id":"u3","doc":{}}'
	expect_error 400
	http POST /v1/databases/shop/put -d '{"coll":"bad coll","id":"u3","doc":{}}'
	expect_error 400
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"","doc":{}}'
	expect_error 400
	http POST /v1/databases/shop/put -d '{"coll":"users","id":5,"doc":{}}'
	expect_error 400
	http POST /v1/databases/nosuch/put -d '{"coll":"users","id":"u3","doc":{}}'
	expect_error 404
	[ ! -e "$DATA/nosuch" ]
	http GET /v1/databases/shop
	expect 200 '.seq == 2' '.rows == 2'
}

@test "put: a stale nonce and a failed if_seq answer 409; idem answers the first receipt" {
	start_nedbd
	create shop
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"a","doc":{"v":1},"client":"alice","nonce":5}'
	expect 200 '.seq == 1'
	run last_op "$DATA/shop"
	jq -e '.client == "alice" and .nonce == 5' <<<"$output"
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"a","doc":{"v":2},"client":"alice","nonce":5}'
	expect_error 409
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"a","doc":{"v":2},"client":"alice","nonce":4}'
	expect_error 409
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"a","doc":{"v":2},"client":"alice","nonce":-1}'
	expect_error 400
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"a","doc":{"v":3},"if_seq":7}'
	expect_error 409
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"a","doc":{"v":3},"if_seq":1}'
	expect 200 '.seq == 2'
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"b","doc":{"v":1},"idem":"k1"}'
	expect 200 '.seq == 3'
	local first=$BODY
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"b","doc":{"v":2},"idem":"k1"}'
	expect 200
	assert_equal "$BODY" "$first"
	run -0 nedb-get -d "$DATA/shop" c a b
	assert_output '{"_id":"a","v":3}
{"_id":"b","v":1}'
	http GET /v1/databases/shop
	expect 200 '.seq == 3'
}

@test "put: ttl, merge, tags and provenance reach the op" {
	start_nedbd
	create shop
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"a","doc":{"x":1,"y":1}}'
	expect 200
	http POST /v1/databases/shop/put -d '{"coll":"c","id":"a","doc":{"y":2},"merge":true,
		"tags":["red","big"],"ttl":3600,"caused_by":[1],"evidence":"seen",
		"confidence":0.75,"valid_from":"2024-01-01","valid_to":"2025-01-01"}'
	expect 200 '.seq == 2'
	run last_op "$DATA/shop"
	jq -e '.doc == {"_id":"a","x":1,"y":2,"_tags":["red","big"]}' <<<"$output"
	jq -e '.caused_by == [1] and .evidence == "seen" and .confidence == 0.75' <<<"$output"
	jq -e '.valid_from == "2024-01-01" and .valid_to == "2025-01-01"' <<<"$output"
	jq -e '(.exp - .ts) >= 3599000 and (.exp - .ts) <= 3601000' <<<"$output"
	run -0 nedb-get -d "$DATA/shop" --meta c a
	jq -e '.exp > 0' <<<"$output"
	local bad
	for bad in '"ttl":0' '"ttl":-5' '"ttl":"1"' '"merge":"yes"' '"tags":"red"' \
		'"tags":[1]' '"caused_by":["x"]' '"caused_by":[99]' \
		'"confidence":"high"' '"confidence":2' '"if_seq":"1"' \
		'"client":5' '"evidence":[]'; do
		http POST /v1/databases/shop/put -d "{\"coll\":\"c\",\"id\":\"b\",\"doc\":{},$bad}"
		expect_error 400
	done
	http GET /v1/databases/shop
	expect 200 '.seq == 2'
}

@test "POST index and link (and unlink) write ops that queries use" {
	start_nedbd
	create shop '{"seed":{"u":[{"_id":"a","age":1},{"_id":"b","age":2}]}}'
	http POST /v1/databases/shop/index -d '{"coll":"u","field":"age","kind":"ordered"}'
	expect 200 '.op == "index" and .coll == "u" and .field == "age" and .kind == "ordered"'
	http POST /v1/databases/shop/index -d '{"coll":"u","field":"name"}'
	expect 200 '.kind == "eq"'
	http POST /v1/databases/shop/index -d '{"coll":"u","field":"x","kind":"bogus"}'
	expect_error 400
	http POST /v1/databases/shop/index -d '{"coll":"u"}'
	expect_error 400
	http GET /v1/databases/shop
	expect 200 '[.indexes[].field] | sort == ["age","name"]'
	http POST /v1/databases/shop/link -d '{"frm":"u:a","rel":"likes","to":"u:b"}'
	expect 200 '.op == "link" and .from == "u:a" and .rel == "likes" and .to == "u:b"'
	query shop 'FROM u WHERE _id = "a" TRAVERSE likes'
	expect 200 '[.rows[]._id] == ["b"]'
	run nedb-link -d "$DATA/shop" --out u:a likes
	assert_output '"u:b"'
	http POST /v1/databases/shop/link -d '{"frm":"u:a","rel":"likes","to":"u:b","unlink":true}'
	expect 200 '.op == "unlink"'
	query shop 'FROM u WHERE _id = "a" TRAVERSE likes'
	expect 200 '.rows == []'
	http POST /v1/databases/shop/link -d '{"frm":"u:a","rel":"likes"}'
	expect_error 400
	http POST /v1/databases/shop/link -d '{"frm":"u:a","rel":"likes","to":"u:b","unlink":1}'
	expect_error 400
	run nedb-log -d "$DATA/shop" --since 3
	assert_equal "$(jq -r '[.op, .client] | join(" ")' <<<"$output")" \
		"index http
index http
link http
unlink http"
}

@test "DELETE rows/:coll/:id deletes a live document; 404 when there is none" {
	start_nedbd
	create shop '{"seed":{"users":[{"_id":"u1"},{"_id":"u/2"}]}}'
	http DELETE /v1/databases/shop/rows/users/u1
	expect 200 '.op == "delete" and .coll == "users" and .id == "u1" and .seq == 3'
	run -1 nedb-get -d "$DATA/shop" users u1
	http DELETE /v1/databases/shop/rows/users/u1
	expect_error 404
	http DELETE /v1/databases/shop/rows/users/nosuch
	expect_error 404
	http DELETE /v1/databases/shop/rows/nosuch/u1
	expect_error 404
	# the id is the rest of the path
	http DELETE /v1/databases/shop/rows/users/u/2
	expect 200 '.id == "u/2"'
	http DELETE "/v1/databases/shop/rows/bad%20coll/u1"
	expect_error 400
	http GET /v1/databases/shop
	expect 200 '.rows == 0' '.seq == 4'
}

@test "every HTTP write is an op of client http unless a client is given" {
	start_nedbd
	create shop '{"indexes":[["u","n","eq"]],"seed":{"u":[{"_id":"a"}]},"links":[["u:a","r","u:a"]]}'
	http POST /v1/databases/shop/put -d '{"coll":"u","id":"b","doc":{}}'
	expect 200
	http DELETE /v1/databases/shop/rows/u/a
	expect 200
	run nedb-log -d "$DATA/shop" --since 1
	assert_equal "$(jq -r '[.op, .client] | join(" ")' <<<"$output")" \
		"index http
put http
link http
put http
delete http"
}

@test "GET verify, GET log (newest first, limit) and POST checkpoint" {
	start_nedbd
	create shop '{"seed":{"c":[{"_id":"a"},{"_id":"b"},{"_id":"c"}]}}'
	http GET /v1/databases/shop/verify
	expect 200 '.ok == true and .seq == 3' '.head | test("^[0-9a-f]{64}$")'
	local head
	head=$(jq -r .head <<<"$BODY")
	run -0 nedb-verify -d "$DATA/shop"
	assert_output --partial "\"head\":\"$head\""
	http GET /v1/databases/shop/log
	expect 200 '[.entries[].seq] == [3,2,1,0]' '.count == 4' '.seq == 3' \
		'.entries[0].hash == "'"$head"'"'
	http GET '/v1/databases/shop/log?limit=2'
	expect 200 '[.entries[].seq] == [3,2]' '.count == 2'
	http GET '/v1/databases/shop/log?limit=0'
	expect 200 '.entries == [] and .count == 0 and .seq == 3'
	http GET '/v1/databases/shop/log?limit=10000'
	expect 200 '.count == 4'
	# the entries are the log's own lines
	run nedb-log -d "$DATA/shop" --reverse
	assert_equal "$(jq -c '.entries[]' <<<"$BODY")" "$(jq -c . <<<"$output")"
	local l
	for l in x -1 10001 '' 1.5 2x 99999999999999999999999; do
		http GET "/v1/databases/shop/log?limit=$l"
		expect_error 400
	done
	http POST /v1/databases/shop/checkpoint
	expect 200 '.ok == true and .seq == 4' '.head | test("^[0-9a-f]{64}$")'
	run last_op "$DATA/shop"
	jq -e '.op == "checkpoint" and .seq == 4' <<<"$output"
	http GET /v1/databases/shop/verify
	expect 200 '.ok and .seq == 4'
	http GET /v1/databases/nosuch/verify
	expect_error 404
	http GET /v1/databases/nosuch/log
	expect_error 404
	http POST /v1/databases/nosuch/checkpoint
	expect_error 404
}

@test "GET proof/inclusion, proof/consistency and checkpoint answer as nedb-proof does" {
	start_nedbd
	create shop '{"seed":{"c":[{"_id":"a"},{"_id":"b"},{"_id":"c"}]}}'
	http GET '/v1/databases/shop/proof/inclusion?seq=2'
	expect 200 '.seq == 2 and .size == 4'
	assert_equal "$(jq -c . <<<"$BODY")" "$(nedb-proof -d "$DATA/shop" inclusion 2)"
	http GET '/v1/databases/shop/proof/inclusion?seq=1&size=3'
	expect 200 '.seq == 1 and .size == 3'
	assert_equal "$(jq -c . <<<"$BODY")" "$(nedb-proof -d "$DATA/shop" inclusion 1 --size 3)"
	http GET '/v1/databases/shop/proof/consistency?old=2&new=4'
	expect 200 '.old == 2 and .new == 4'
	assert_equal "$(jq -c . <<<"$BODY")" "$(nedb-proof -d "$DATA/shop" consistency 2 4)"
	# no signed checkpoint yet: 404; then the CLI signs one
	http GET /v1/databases/shop/checkpoint
	expect_error 404
	nedb-key signer new example.com/shop --out "$BATS_TEST_TMPDIR/log.key" > "$BATS_TEST_TMPDIR/log.vk"
	nedb-checkpoint -d "$DATA/shop" --sign "$BATS_TEST_TMPDIR/log.key" >/dev/null
	http GET /v1/databases/shop/checkpoint
	expect 200 'keys == ["note"]'
	assert_equal "$(jq -j .note <<<"$BODY")" "$(cat "$DATA/shop/checkpoint.note")"
	# the proof over HTTP checks against the signed checkpoint
	jq -j .note <<<"$BODY" > "$BATS_TEST_TMPDIR/cp"
	http GET '/v1/databases/shop/proof/inclusion?seq=3'
	run nedb-proof verify --checkpoint "$BATS_TEST_TMPDIR/cp" --vkey "$(cat "$BATS_TEST_TMPDIR/log.vk")" <<<"$BODY"
	assert_success
	# bad arguments: 400; unknown proofs and databases: 404
	for q in 'seq=9' 'seq=x' 'seq=' 'seq=1&size=99' 'size=2' 'seq=-1'; do
		http GET "/v1/databases/shop/proof/inclusion?$q"
		expect_error 400
	done
	for q in 'old=3&new=2' 'old=0&new=2' 'old=1' 'new=2' 'old=1&new=99'; do
		http GET "/v1/databases/shop/proof/consistency?$q"
		expect_error 400
	done
	http GET '/v1/databases/shop/proof/other?seq=1'
	expect_error 404
	http GET '/v1/databases/shop/proof'
	expect_error 404
	http GET '/v1/databases/nosuch/proof/inclusion?seq=1'
	expect_error 404
	http GET /v1/databases/nosuch/checkpoint
	expect_error 404
}

@test "after a CLI prune and a CLI write, GET log, AS OF queries and GET verify answer right" {
	start_nedbd
	create shop
	local i
	for i in 1 2 3; do
		http POST /v1/databases/shop/put -d "{\"coll\":\"c\",\"id\":\"k$i\",\"doc\":{\"n\":$i}}"
		expect 200
	done
	# nedbd has the database (and its log.aof) open
	http GET /v1/databases/shop/log
	expect 200 '.count == 4'
	run -0 nedb-checkpoint --prune -d "$DATA/shop"
	[ -d "$DATA/shop/archive" ]
	run -0 nedb-put -q -d "$DATA/shop" c k9 '{"n":9}'
	http GET '/v1/databases/shop/log?limit=100'
	expect 200 '.seq == 5' '.count == 6' '[.entries[].seq] == [5,4,3,2,1,0]' \
		'.entries[0].id == "k9" and .entries[1].op == "checkpoint"'
	query shop 'FROM c AS OF 2 ORDER BY _id'
	expect 200 '[.rows[]._id] == ["k1","k2"]'
	query shop 'FROM c ORDER BY _id'
	expect 200 '[.rows[]._id] == ["k1","k2","k3","k9"]'
	http GET /v1/databases/shop/verify
	expect 200 '.ok == true' '.seq == 5'
	http GET /v1/databases/shop
	expect 200 '.seq == 5' '.log[0].id == "k9"'
}

@test "GET rows/:coll/:id answers the document; 404 when there is none" {
	start_nedbd
	create shop '{"seed":{"users":[{"_id":"u1","n":1}]}}'
	http GET /v1/databases/shop/rows/users/u1
	expect 200 '. == {"_id":"u1","n":1}'
	http GET '/v1/databases/shop/rows/users/u1?verify=1'
	expect 200 '. == {"_id":"u1","n":1}'
	http GET /v1/databases/shop/rows/users/nobody
	expect_error 404
	http GET /v1/databases/shop/rows/no%20such/u1
	expect_error 400
	http GET '/v1/databases/shop/rows/users/u1?verify=maybe'
	expect_error 400
}

# edit_view DIR OLD NEW: replaces the bytes OLD by NEW (as long) in the
# view of the database in DIR, under a running nedbd (its map shows it).
edit_view() {
	python3 - "$1/view.mdb" "$2" "$3" <<'PY'
import sys
p, old, new = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
b = open(p, "rb").read()
assert len(old) == len(new) and old in b
open(p, "r+b").write(b.replace(old, new))
PY
}

@test "a verified read of a key written earlier in the same MULTI is checked against its staged op" {
	start_nedbd
	run sh -c "printf 'SELECT vt\nNEDB.VERIFY ON\nMULTI\nSET k v1\nGET k\nHSET h f x\nHGET h f\nEXEC\nGET k\n' | redis-cli -p $RPORT"
	assert_success
	assert_output "OK
OK
OK
QUEUED
QUEUED
QUEUED
QUEUED
OK
v1
1
x
v1"
}

@test "verified reads: ?verify=1, \"verify\":true and NEDB.VERIFY ON refuse a view edited behind the log's back" {
	start_nedbd
	create shop '{"seed":{"users":[{"_id":"u1","v":"zzmarkerzz"}]}}'
	rdb shop 'SET rk zzredisvalzz'
	http POST /v1/databases/shop/query -d '{"nql":"FROM users","verify":true}'
	expect 200 '.rows == [{"_id":"u1","v":"zzmarkerzz"}]'
	edit_view "$DATA/shop" zzmarkerzz yyeditedyy
	edit_view "$DATA/shop" zzredisvalzz yyredisvalyy
	# plain reads trust the view (nedb(7))
	http GET /v1/databases/shop/rows/users/u1
	expect 200 '.v == "yyeditedyy"'
	http GET '/v1/databases/shop/rows/users/u1?verify=1'
	expect_error 500
	assert_regex "$BODY" 'corrupt'
	http POST /v1/databases/shop/query -d '{"nql":"FROM users","verify":true}'
	expect_error 500
	http POST '/v1/databases/shop/query?verify=1' -d '{"nql":"FROM users"}'
	expect_error 500
	http POST /v1/databases/shop/query -d '{"nql":"FROM users"}'
	expect 200 '.rows[0].v == "yyeditedyy"'
	resp_open
	run resp_cmd SELECT shop
	assert_output +OK
	run resp_cmd GET rk
	assert_output yyredisvalyy
	run resp_cmd NEDB.VERIFY ON
	assert_output +OK
	run resp_cmd GET rk
	assert_output --regexp '^-ERR .*corrupt'
	run resp_cmd NEDB.VERIFY OFF
	assert_output +OK
	run resp_cmd GET rk
	assert_output yyredisvalyy
	run resp_cmd NEDB.VERIFY maybe
	assert_output --regexp '^-ERR syntax error'
	# a verified read right after a write, in one turn, reads it
	# committed (the log has no op of an open batch to check against)
	run resp_cmd NEDB.VERIFY ON
	assert_output +OK
	printf 'SET fresh 1\r\nGET fresh\r\nINCR fresh\r\nGET fresh\r\n' >&5
	run resp_read
	assert_output +OK
	run resp_read
	assert_output 1
	run resp_read
	assert_output :2
	run resp_read
	assert_output 2
	resp_close
}

# ---- RESP2 ------------------------------------------------------------------

@test "RESP: PING, ECHO, INFO, COMMAND and QUIT" {
	start_nedbd
	run rcli PING
	assert_output PONG
	run rcli PING hello
	assert_output '"hello"'
	run rcli ECHO 'a b'
	assert_output '"a b"'
	run rcli INFO
	assert_output --partial 'redis_version:'
	run rcli INFO server
	assert_line --partial redis_mode:standalone
	run rcli COMMAND COUNT
	assert_output --regexp '^\(integer\) [1-9][0-9]*$'
	run rcli COMMAND
	assert_output --partial '"get"'
	run rcli QUIT
	assert_success
	# QUIT closes the connection after its +OK
	resp_open
	printf '*1\r\n$4\r\nQUIT\r\n' >&5
	run resp_read
	assert_output +OK
	run timeout 10 cat <&5
	assert_output ''
	resp_close
}

@test "RESP: the string commands" {
	start_nedbd
	run rcli <<'EOF'
SET k v
GET k
GET nosuch
SET k v2 NX
MSET a 1 b 2
MGET a b nosuch
SETNX a x
SETNX c 3
GETDEL c
EXISTS a b c
INCR n
INCRBY n 41
DECR n
DECRBY n 2
GET n
APPEND k xyz
STRLEN k
TYPE k
TYPE nosuch
RENAME k k2
GET k2
DEL a b nosuch
DBSIZE
EOF
	assert_output 'OK
"v"
(nil)
(nil)
OK
1) "1"
2) "2"
3) (nil)
(integer) 0
(integer) 1
"3"
(integer) 2
(integer) 1
(integer) 42
(integer) 41
(integer) 39
"39"
(integer) 4
(integer) 4
string
none
OK
"vxyz"
(integer) 2
(integer) 2'
	run rcli INCR k2
	assert_output '(error) ERR value is not an integer or out of range'
	run rcli --raw KEYS '*'
	assert_equal "$(sort <<<"$output" | tr '\n' ' ')" "k2 n "
}

@test "RESP: the hash commands" {
	start_nedbd
	run rcli <<'EOF'
HSET h f1 v1 f2 v2
HMSET h f3 v3
HSETNX h f1 zz
HSETNX h f4 v4
HGET h f1
HGET h nosuch
HMGET h f1 nosuch f3
HGETALL h
HDEL h f3 f4 nosuch
HEXISTS h f1
HEXISTS h f3
HKEYS h
HVALS h
HLEN h
HINCRBY h cnt 5
HINCRBY h cnt -2
TYPE h
EOF
	assert_output '(integer) 2
OK
(integer) 0
(integer) 1
"v1"
(nil)
1) "v1"
2) (nil)
3) "v3"
1) "f1"
2) "v1"
3) "f2"
4) "v2"
5) "f3"
6) "v3"
7) "f4"
8) "v4"
(integer) 2
(integer) 1
(integer) 0
1) "f1"
2) "f2"
1) "v1"
2) "v2"
(integer) 2
(integer) 5
(integer) 3
hash'
	run rcli GET h
	assert_output --partial WRONGTYPE
	run -0 nedb-get -d "$DATA/0" redis h
	assert_output '{"_id":"h","type":"hash","value":{"f1":"v1","f2":"v2","cnt":"3"}}'
}

@test "RESP: the set commands" {
	start_nedbd
	run rcli <<'EOF'
SADD s b a c a
SMEMBERS s
SISMEMBER s a
SISMEMBER s z
SREM s c nosuch
SCARD s
SADD t a z
SUNION s t
SINTER s t
SDIFF s t
SMEMBERS nosuch
TYPE s
EOF
	assert_output '(integer) 3
1) "a"
2) "b"
3) "c"
(integer) 1
(integer) 0
(integer) 1
(integer) 2
(integer) 2
1) "a"
2) "b"
3) "z"
1) "a"
1) "b"
(empty array)
set'
	run -0 nedb-get -d "$DATA/0" redis s
	assert_output '{"_id":"s","type":"set","value":["a","b"]}'
}

@test "RESP: the list commands" {
	start_nedbd
	run rcli <<'EOF'
RPUSH l a b c
LPUSH l z y
LRANGE l 0 -1
LLEN l
LINDEX l 1
LINDEX l 99
LSET l 1 Z
LSET l 99 x
LPOP l
RPOP l
LRANGE l 0 -1
LPOP nosuch
TYPE l
EOF
	assert_output '(integer) 3
(integer) 5
1) "y"
2) "z"
3) "a"
4) "b"
5) "c"
(integer) 5
"z"
(nil)
OK
(error) ERR index out of range
"y"
"c"
1) "Z"
2) "a"
3) "b"
(nil)
list'
	run -0 nedb-get -d "$DATA/0" redis l
	assert_output '{"_id":"l","type":"list","value":["Z","a","b"]}'
	# a list that becomes empty is deleted, as in Redis
	printf 'RPOP l\nRPOP l\nRPOP l\nEXISTS l\n' | rcli
	run -1 nedb-get -d "$DATA/0" redis l
}

@test "RESP: EXPIRE, PEXPIRE, TTL, PTTL and PERSIST; an expired key is gone" {
	start_nedbd
	rcli SET k v
	run rcli TTL k
	assert_output '(integer) -1'
	run rcli TTL nosuch
	assert_output '(integer) -2'
	run rcli EXPIRE k 100
	assert_output '(integer) 1'
	run rcli TTL k
	assert_output --regexp '^\(integer\) (99|100)$'
	run rcli PEXPIRE k 50000
	assert_output '(integer) 1'
	run rcli PTTL k
	assert_output --regexp '^\(integer\) (4[0-9]{4}|50000)$'
	run -0 nedb-get -d "$DATA/0" --meta redis k
	jq -e '.exp > 0' <<<"$output"
	run rcli PERSIST k
	assert_output '(integer) 1'
	run rcli TTL k
	assert_output '(integer) -1'
	run rcli EXPIRE nosuch 10
	assert_output '(integer) 0'
	# a short expiry runs out
	run rcli PEXPIRE k 1
	assert_output '(integer) 1'
	poll 30 eval '[ "$(redis-cli -p "$RPORT" exists k)" = 0 ]'
	run rcli GET k
	assert_output '(nil)'
}

@test "RESP: KEYS, DBSIZE and FLUSHDB work on the selected database only" {
	start_nedbd
	run rcli <<'EOF'
MSET a 1 b 2 ab 3
SELECT other
SET x 1
DBSIZE
SELECT 0
DBSIZE
KEYS a*
FLUSHDB
DBSIZE
SELECT other
DBSIZE
EOF
	assert_line --index 3 '(integer) 1'
	assert_line --index 5 '(integer) 3'
	assert_equal "$(printf '%s\n' "${lines[6]#*) }" "${lines[7]#*) }" | sort | tr '\n' ' ')" '"a" "ab" '
	assert_line --index 8 OK
	assert_line --index 9 '(integer) 0'
	assert_line --index 11 '(integer) 1'
	[ "${#lines[@]}" -eq 12 ]
}

@test "RESP: EVAL runs NQL and answers rows as JSON strings" {
	start_nedbd
	rcli HSET h f v >/dev/null
	rcli SET s x >/dev/null
	run rcli --raw EVAL 'FROM redis WHERE type = "hash"' 0
	assert_output '{"_id":"h","type":"hash","value":{"f":"v"}}'
	run rcli --raw EVAL 'FROM redis ORDER BY _id' 0
	assert_equal "$(jq -r ._id <<<"$output" | tr '\n' ' ')" 'h s '
	run rcli EVAL 'FROM redis WHERE' 0
	assert_output --partial '(error) ERR'
	assert_output --partial 'syntax error'
	run rcli EVAL 'FROM nosuch' 0
	assert_output '(empty array)'
}

@test "RESP: writes are documents of collection redis and ops of client redis, seen over HTTP" {
	start_nedbd
	printf 'SET greeting hello\nSELECT shop\nRPUSH l a b\n' | rcli
	run -0 nedb-get -d "$DATA/0" redis greeting
	assert_output '{"_id":"greeting","type":"string","value":"hello"}'
	run last_op "$DATA/0"
	jq -e '.op == "put" and .client == "redis" and .coll == "redis" and .id == "greeting"' <<<"$output"
	run -0 nedb-get -d "$DATA/shop" redis l
	assert_output '{"_id":"l","type":"list","value":["a","b"]}'
	query 0 'FROM redis'
	expect 200 '.rows == [{"_id":"greeting","type":"string","value":"hello"}]'
	http GET /v1/databases
	expect 200 '[.databases[].name] == ["0","shop"]'
	printf 'SELECT shop\nDEL l\n' | rcli
	run last_op "$DATA/shop"
	jq -e '.op == "delete" and .client == "redis" and .id == "l"' <<<"$output"
	run -0 nedb-verify -d "$DATA/shop"
}

@test "RESP: an unknown command answers -ERR and the same connection keeps working" {
	start_nedbd
	# one redis-cli, one connection: the SELECT holds for what follows
	run rcli <<'EOF'
SELECT mydb
SET k v
NOSUCHCOMMAND a b
MULTI-PLE
PING
GET k
SET
GET k
EOF
	assert_line --index 0 OK
	assert_line --index 1 OK
	assert_line --index 2 --regexp "^\(error\) ERR unknown command 'NOSUCHCOMMAND'"
	assert_line --index 3 --regexp "^\(error\) ERR unknown command"
	assert_line --index 4 PONG
	assert_line --index 5 '"v"'
	assert_line --index 6 "(error) ERR wrong number of arguments for 'set' command"
	assert_line --index 7 '"v"'
	[ "${#lines[@]}" -eq 8 ]
	run -0 nedb-get -d "$DATA/mydb" redis k
	# over a connection of our own, too
	resp_open
	run resp_cmd NOSUCH
	assert_output --regexp '^-ERR '
	run resp_cmd PING
	assert_output +PONG
	resp_close
}

@test "RESP: SELECT opens (creating) a named database; a bad name is -ERR" {
	start_nedbd
	run rcli <<'EOF'
SELECT ..
SELECT a/b
SELECT a%2F..
SELECT
SELECT x y
SET k zero
SELECT named_db-1
SET k one
GET k
SELECT 0
GET k
EOF
	assert_line --index 0 --regexp '^\(error\) ERR .*database name'
	assert_line --index 1 --regexp '^\(error\) ERR .*database name'
	assert_line --index 2 --regexp '^\(error\) ERR .*database name'
	assert_line --index 3 --regexp '^\(error\) ERR wrong number of arguments'
	assert_line --index 4 --regexp '^\(error\) ERR'
	assert_equal "${lines[*]:5}" 'OK OK OK "one" OK "zero"'
	run ls "$DATA"
	assert_output '0
named_db-1'
	run -0 nedb-get -d "$DATA/named_db-1" redis k
	# SELECT alone, before any write, creates the database
	rcli SELECT fresh
	[ -f "$DATA/fresh/log.aof" ]
}

@test "RESP: with NEDBD_TOKEN, AUTH comes first (NOAUTH otherwise); PING works before" {
	start_nedbd NEDBD_TOKEN=s3cret
	run rcli <<'EOF'
PING
GET a
SET a 1
SELECT other
AUTH wrong
GET a
AUTH s3cret
SET a 1
GET a
EOF
	assert_output 'PONG
(error) NOAUTH Authentication required.
(error) NOAUTH Authentication required.
(error) NOAUTH Authentication required.
(error) WRONGPASS invalid username-password pair or user is disabled.
(error) NOAUTH Authentication required.
OK
OK
"1"'
	[ ! -e "$DATA/other" ]
	run redis-cli -p "$RPORT" -a s3cret --no-auth-warning --no-raw GET a
	assert_output '"1"'
	run rcli <<'EOF'
AUTH default s3cret
GET a
EOF
	assert_output 'OK
"1"'
	# each connection authenticates for itself
	run rcli GET a
	assert_output '(error) NOAUTH Authentication required.'
	run -0 nedb-get -d "$DATA/0" redis a
}

@test "RESP: inline commands take quotes as redis-cli does; unbalanced ones close the connection" {
	start_nedbd
	printf 'SET q "a b\\x41"\r\nGET q\r\nSET s '"'"'it\\'"'"'s'"'"'\r\nGET s\r\nSET bad "open\r\nPING\r\n' \
		>"$BATS_TEST_TMPDIR/inline"
	resp_open
	cat "$BATS_TEST_TMPDIR/inline" >&5
	run timeout 20 cat <&5
	resp_close
	assert_equal "${output//$'\r'/}" "+OK
\$4
a bA
+OK
\$4
it's
-ERR Protocol error: unbalanced quotes in request"
}

@test "RESP: inline commands in one write" {
	start_nedbd
	printf 'PING\r\nSET inl abc\r\nGET inl\r\nNOSUCH x\r\nECHO hi\r\nQUIT\r\n' \
		>"$BATS_TEST_TMPDIR/inline"
	resp_open
	# cat writes the file in one write()
	cat "$BATS_TEST_TMPDIR/inline" >&5
	run timeout 20 cat <&5
	resp_close
	assert_equal "${output//$'\r'/}" "+PONG
+OK
\$3
abc
-ERR unknown command 'NOSUCH', with args beginning with: 'x' 
\$2
hi
+OK"
	run -0 nedb-get -d "$DATA/0" redis inl
}

@test "RESP: inline commands sent one at a time on one connection (as typed into nc)" {
	start_nedbd
	resp_open
	printf 'PING\r\n' >&5
	run resp_read
	assert_output +PONG
	printf 'SET typed yes\r\n' >&5
	run resp_read
	assert_output +OK
	printf 'GET typed\n' >&5
	run resp_read
	assert_output yes
	resp_close
}

@test "RESP: a Python redis client, with a pipeline of many commands" {
	redis_python
	start_nedbd
	run "$PY" - "$RPORT" <<'EOF'
import json, sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
p = r.pipeline(transaction=False)
for i in range(2000):
    p.set(f"k{i}", i)
p.incr("ctr")
p.incrby("ctr", 9)
p.hset("h", mapping={"a": "1", "b": "2"})
p.hgetall("h")
p.sadd("s", "x", "y", "x")
p.smembers("s")
p.rpush("l", 1, 2, 3)
p.lrange("l", 0, -1)
p.get("k1999")
p.mget("k0", "k1", "nosuch")
p.execute_command("EVAL", 'FROM redis WHERE _id = "h"', 0)
p.execute_command("NOSUCH")
p.ping()
res = p.execute(raise_on_error=False)
assert len(res) == 2013, len(res)
assert all(x is True for x in res[:2000])
tail = res[2000:]
assert tail[0] == 1 and tail[1] == 10, tail
assert tail[2] == 2 and tail[3] == {b"a": b"1", b"b": b"2"}, tail
assert tail[4] == 2 and tail[5] == {b"x", b"y"}, tail
assert tail[6] == 3 and tail[7] == [b"1", b"2", b"3"], tail
assert tail[8] == b"1999" and tail[9] == [b"0", b"1", None], tail
assert json.loads(tail[10][0]) == {"_id": "h", "type": "hash",
                                   "value": {"a": "1", "b": "2"}}, tail
assert isinstance(tail[11], redis.ResponseError), tail
assert tail[12] is True, tail
# binary values round-trip
r.set(b"bin", b"\xff\x00\x01")
assert r.get(b"bin") == b"\xff\x00\x01"
assert r.dbsize() == 2005, r.dbsize()
# a client on a named database
r2 = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]), db="pydb")
assert r2.set("a", "b") and r2.get("a") == b"b" and r2.dbsize() == 1
print("ok")
EOF
	assert_output ok
	run -0 nedb-get -d "$DATA/0" redis k1999 ctr
	assert_output '{"_id":"k1999","type":"string","value":"1999"}
{"_id":"ctr","type":"string","value":"10"}'
	run -0 nedb-get -d "$DATA/pydb" redis a
	run -0 nedb-verify -d "$DATA/0"
}

@test "RESP: 10000 SETs piped through redis-cli --pipe are all acknowledged and present" {
	start_nedbd
	python3 - "$BATS_TEST_TMPDIR/pipe" <<'EOF'
import sys
out = [b"*2\r\n$6\r\nSELECT\r\n$4\r\nbulk\r\n"]
for i in range(10000):
    k, v = b"key:%d" % i, b"value %d" % i
    out.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(k), k, len(v), v))
open(sys.argv[1], "wb").write(b"".join(out))
EOF
	run redis-cli -p "$RPORT" --pipe <"$BATS_TEST_TMPDIR/pipe"
	assert_success
	assert_output --partial 'errors: 0, replies: 10001'
	run rdb bulk DBSIZE
	assert_output '(integer) 10000'
	run -0 nedb-get -d "$DATA/bulk" redis key:0 key:4999 key:9999
	assert_output '{"_id":"key:0","type":"string","value":"value 0"}
{"_id":"key:4999","type":"string","value":"value 4999"}
{"_id":"key:9999","type":"string","value":"value 9999"}'
	http GET /v1/databases/bulk
	expect 200 '.rows == 10000' '.seq == 10000'
	run -0 nedb-verify -d "$DATA/bulk"
}

@test "group commit: 20 parallel INCR clients end with the right count" {
	start_nedbd
	local i pids=()
	for ((i = 0; i < 20; i++)); do
		redis-cli -p "$RPORT" INCR counter >"$BATS_TEST_TMPDIR/incr.$i" &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run rcli GET counter
	assert_output '"20"'
	# every client saw a distinct value
	run sort -n "$BATS_TEST_TMPDIR"/incr.*
	assert_equal "$output" "$(seq 1 20)"
	run nedb-log -d "$DATA/0" --since 1
	assert_equal "$(jq -s 'map(select(.op == "put" and .id == "counter")) | length' <<<"$output")" 20
	run -0 nedb-verify -d "$DATA/0"
}

@test "group commit: one fsync covers many writes and no reply precedes its fsync" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
	start_nedbd
	rcli SET warm up >/dev/null
	local trace=$BATS_TEST_TMPDIR/strace.out spid
	strace -f -p "$NEDBD_PID" -e trace=fdatasync,fsync,write -o "$trace" \
		3>&- 2>/dev/null &
	spid=$!
	EXTRA_PIDS+=("$spid")
	poll 30 grep -Eq 'TracerPid:[[:space:]]*[1-9]' "/proc/$NEDBD_PID/status"
	# one write alone: its +OK comes after the fdatasync of its op
	rcli SET one 1 >/dev/null
	python3 - "$BATS_TEST_TMPDIR/pipe" <<'EOF'
import sys
out = []
for i in range(5000):
    k = b"k%d" % i
    out.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k))
open(sys.argv[1], "wb").write(b"".join(out))
EOF
	run redis-cli -p "$RPORT" --pipe <"$BATS_TEST_TMPDIR/pipe"
	assert_output --partial 'errors: 0, replies: 5000'
	kill -INT "$spid"
	wait "$spid" || true
	# the first reply of the trace: an op was written and synced before it
	run awk '
		/write\(.*\\"seq\\":/ && state == 0 { state = 1 }
		/fdatasync|fsync/ && state == 1 { state = 2 }
		/write\(.*"\+OK/ { print (state == 2 ? "synced" : "early"); exit }
	' "$trace"
	assert_output synced
	# 5000 durable writes took far fewer syncs than writes
	local syncs
	syncs=$(grep -cE 'fdatasync|fsync' "$trace")
	echo "syncs: $syncs" >&2
	[ "$syncs" -lt 500 ]
	run rcli DBSIZE
	assert_output '(integer) 5002'
}

@test "RESP: a connection whose replies are all written waits for requests only, not to write" {
	command -v strace >/dev/null || skip "strace is not installed"
	strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"
	start_nedbd
	rcli SET warm up >/dev/null
	local trace=$BATS_TEST_TMPDIR/strace.out spid
	strace -f -p "$NEDBD_PID" -e trace=epoll_ctl -o "$trace" \
		3>&- 2>/dev/null &
	spid=$!
	EXTRA_PIDS+=("$spid")
	poll 30 grep -Eq 'TracerPid:[[:space:]]*[1-9]' "/proc/$NEDBD_PID/status"
	# 50 writes and 50 reads, one after the other on one connection
	run redis-cli -p "$RPORT" -r 50 SET k v
	assert_success
	run redis-cli -p "$RPORT" -r 50 GET k
	assert_success
	kill -INT "$spid"
	wait "$spid" || true
	# a reply written whole asks for no EPOLLOUT (once, a stale limit
	# asked for it after every reply, and a turn woke for the idle
	# socket to take it back: an epoll_ctl and a wake per request)
	run grep -c EPOLLOUT "$trace"
	assert_output 0
}

@test "RESP: NEDBD_MAX_CONNECTIONS turns further clients away with -ERR" {
	start_nedbd NEDBD_MAX_CONNECTIONS=2
	# the connection of start_nedbd's PING may not be closed yet on the
	# server's side: retry until two connections of ours are in
	local fd line i
	for fd in 5 6; do
		for ((i = 0; i < 100; i++)); do
			eval "exec $fd<>/dev/tcp/127.0.0.1/$RPORT"
			printf '*1\r\n$4\r\nPING\r\n' >&"$fd"
			IFS= read -r -t 30 line <&"$fd" || true
			[ "$line" = $'+PONG\r' ] && break
			eval "exec $fd>&- $fd<&-"
			sleep 0.05
		done
		assert_equal "$line" $'+PONG\r'
	done
	# one more is turned away, with a word
	exec 7<>"/dev/tcp/127.0.0.1/$RPORT"
	run timeout 20 cat <&7
	assert_output --partial 'ERR max number of clients reached'
	exec 7>&- 7<&-
	exec 6>&- 6<&-
	poll 30 ping_ok
	run resp_cmd PING
	assert_output +PONG
	resp_close
}

@test "RESP: a protocol error closes that connection only" {
	start_nedbd
	run python3 - "$RPORT" <<'EOF'
import socket, sys
for bad in [b"*1\r\n:5\r\n", b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\nx\r\n",
            b"x" * 70000, b"*99999999999\r\n"]:
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(bad)
    s.settimeout(30)
    got = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += d
    print(got.decode().strip())
EOF
	assert_equal "${#lines[@]}" 4
	for i in 0 1 2 3; do
		assert_line --index "$i" --regexp '^-ERR Protocol error'
	done
	run rcli PING
	assert_output PONG
}

@test "RESP: redis-benchmark runs unchanged" {
	command -v redis-benchmark >/dev/null || skip "redis-benchmark is not installed"
	start_nedbd
	run timeout 300 redis-benchmark -p "$RPORT" -c 20 -n 1000 \
		-t set,get,incr,lpush,hset -q
	assert_success
	run rcli GET counter:__rand_int__
	assert_output '"1000"'
	run rcli LLEN mylist
	assert_output '(integer) 1000'
	run -0 nedb-verify -d "$DATA/0"
}

@test "RESP: a connection on a database that HTTP deletes keeps working" {
	start_nedbd
	resp_open
	run resp_cmd SELECT doomed
	assert_output +OK
	run resp_cmd SET a 1
	assert_output +OK
	http DELETE /v1/databases/doomed
	expect 200 '.deleted'
	[ ! -e "$DATA/doomed/log.aof" ]
	run resp_cmd GET a
	assert_output '(nil)'
	run resp_cmd SET b 2
	assert_output +OK
	run resp_cmd PING
	assert_output +PONG
	resp_close
	run -0 nedb-verify -d "$DATA/doomed"
}

@test "RESP: clients that hang up right after sending writes: the writes stay, nedbd goes on" {
	start_nedbd
	# 20 clients (connections, all open at once, from one python3): each
	# sends its writes and hangs up without reading a reply
	python3 - "$RPORT" <<'EOF'
import socket, sys
conns = [socket.create_connection(("127.0.0.1", int(sys.argv[1])))
         for _ in range(20)]
for i, s in enumerate(conns):
    k = ("gone%d" % i).encode()
    s.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k) +
              b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n" * 5)
    s.close()
EOF
	poll 30 eval '[ "$(redis-cli -p "$RPORT" get n)" = 100 ]'
	run rcli DBSIZE
	assert_output '(integer) 21'
	run rcli PING
	assert_output PONG
	run -0 nedb-verify -d "$DATA/0"
}

# ---- the CLI and the daemon on one database -------------------------------

@test "CLI writes are visible over HTTP and RESP while nedbd serves the database" {
	start_nedbd
	create shop
	# opened by the daemon before the CLI writes
	query shop 'FROM users'
	nedb-put -q -d "$DATA/shop" users u1 '{"name":"Ann"}'
	query shop 'FROM users'
	expect 200 '.rows == [{"_id":"u1","name":"Ann"}]' '.seq == 1'
	nedb-put -q -d "$DATA/shop" redis greeting \
		'{"_id":"greeting","type":"string","value":"from the CLI"}'
	run rdb shop 'GET greeting'
	assert_output '"from the CLI"'
	nedb-delete -d "$DATA/shop" users u1 >/dev/null
	query shop 'FROM users'
	expect 200 '.rows == []'
	http GET /v1/databases/shop
	expect 200 '.seq == 3'
	http GET /v1/databases/shop/verify
	expect 200 '.ok'
	# and the daemon writes after the CLI's ops, on the same chain
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"u2","doc":{}}'
	expect 200 '.seq == 4'
	run rdb shop 'SET k v'
	assert_output OK
	run -0 nedb-verify -d "$DATA/shop"
	assert_output --partial '"seq":5'
}

@test "RESP and HTTP writes are visible to nedb-get and nedb-query" {
	start_nedbd
	create shop
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"u1","doc":{"age":30}}'
	expect 200
	printf 'SELECT shop\nHSET cart apple 2\n' | rcli
	run -0 nedb-get -d "$DATA/shop" users u1
	assert_output '{"_id":"u1","age":30}'
	run -0 nedb-get -d "$DATA/shop" redis cart
	assert_output '{"_id":"cart","type":"hash","value":{"apple":"2"}}'
	run -0 nedb-query -d "$DATA/shop" 'FROM users WHERE age = 30'
	assert_output '{"_id":"u1","age":30}'
}

@test "a CLI writer holding a database's lock stalls neither /health, RESP nor other databases; the writes wait for it" {
	start_nedbd
	create db1
	create db2
	# an atomic stream holds db1's writer lock from its first document
	# until its input ends, which is ours to say
	mkfifo "$BATS_TEST_TMPDIR/feed"
	nedb-put -q --atomic -d "$DATA/db1" cli <"$BATS_TEST_TMPDIR/feed" 3>&- &
	EXTRA_PIDS+=($!)
	local cli=$!
	exec 7>"$BATS_TEST_TMPDIR/feed"
	echo '{"_id":"first"}' >&7
	poll 30 lock_held "$DATA/db1"
	# a write over RESP waits; what came before it is answered (the
	# ECHO proves nedbd read the SET, and went on serving)
	resp_open
	printf 'SELECT db1\r\nECHO before\r\nSET k v\r\nGET k\r\n' >&5
	run resp_read
	assert_output +OK
	run resp_read
	assert_output before
	# a write over HTTP waits too
	python3 - "$PORT" "$BATS_TEST_TMPDIR/put" <<'PY' 3>&- 7>&- &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
body = b'{"coll":"c","id":"x","doc":{"n":1}}'
s.sendall(b"POST /v1/databases/db1/put HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          b"Content-Type: application/json\r\nConnection: close\r\n"
          b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
open(sys.argv[2] + ".sent", "w").close()
got = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
head, _, body = got.partition(b"\r\n\r\n")
open(sys.argv[2] + ".body", "wb").write(body)
open(sys.argv[2] + ".code", "w").write(head.split(b" ")[1].decode())
PY
	local put=$!
	EXTRA_PIDS+=($put)
	poll 30 test -e "$BATS_TEST_TMPDIR/put.sent"
	# ... and everything else is served meanwhile
	run timeout 20 redis-cli -p "$RPORT" PING
	assert_output PONG
	run curl -sS --max-time 20 "http://127.0.0.1:$PORT/health"
	assert_output --partial '"ok":true'
	http POST /v1/databases/db2/put -d '{"coll":"c","id":"y","doc":{}}'
	expect 200 '.seq == 1'
	run rdb db2 'SET k2 v2'
	assert_output OK
	http GET /v1/databases/db1
	expect 200 '.seq == 0'
	http POST /v1/databases/db1/query -d '{"nql":"FROM c"}'
	expect 200 '.count == 0'
	# the waiting writes are not answered while the lock is held
	alive "$put"
	[ ! -s "$BATS_TEST_TMPDIR/put.code" ]
	# the CLI writer ends: the writes go in after its op
	exec 7>&-
	wait "$cli"
	wait "$put"
	run cat "$BATS_TEST_TMPDIR/put.code"
	assert_output 200
	jq -e '.seq >= 2 and .id == "x"' "$BATS_TEST_TMPDIR/put.body"
	run resp_read
	assert_output +OK
	run resp_read
	assert_output v
	resp_close
	run -0 nedb-get -d "$DATA/db1" cli first
	run -0 nedb-get -d "$DATA/db1" c x
	run -0 nedb-get -d "$DATA/db1" redis k
	run -0 nedb-verify -d "$DATA/db1"
}

@test "a database whose view must be built while a CLI writer holds its lock: 503 at once, then served" {
	start_nedbd
	nedb-put -q -d "$DATA/db1" c a '{"n":1}'
	mkfifo "$BATS_TEST_TMPDIR/feed"
	nedb-put -q --atomic -d "$DATA/db1" cli <"$BATS_TEST_TMPDIR/feed" 3>&- &
	EXTRA_PIDS+=($!)
	local cli=$!
	exec 7>"$BATS_TEST_TMPDIR/feed"
	echo '{"_id":"first"}' >&7
	poll 30 lock_held "$DATA/db1"
	# nedbd has not opened db1; without its view, opening must build
	# one, under the lock the CLI holds
	rm "$DATA/db1/view.mdb"
	http GET /v1/databases/db1
	expect_error 503
	run timeout 20 redis-cli -p "$RPORT" PING
	assert_output PONG
	exec 7>&-
	wait "$cli"
	http GET /v1/databases/db1
	expect 200 '.seq == 2' '.rows == 2'
}

@test "a CLI writer's lock: a MULTI/EXEC with writes waits whole; SIGTERM lets a waiting write finish" {
	start_nedbd
	create db1
	mkfifo "$BATS_TEST_TMPDIR/feed"
	nedb-put -q --atomic -d "$DATA/db1" cli <"$BATS_TEST_TMPDIR/feed" 3>&- &
	EXTRA_PIDS+=($!)
	exec 7>"$BATS_TEST_TMPDIR/feed"
	echo '{"_id":"first"}' >&7
	poll 30 lock_held "$DATA/db1"
	resp_open
	printf 'SELECT db1\r\nMULTI\r\nSET a 1\r\nINCR n\r\nEXEC\r\nECHO after\r\n' >&5
	run resp_read
	assert_output +OK
	run resp_read
	assert_output +OK
	run resp_read
	assert_output +QUEUED
	run resp_read
	assert_output +QUEUED
	# EXEC waits, and what comes after it on the connection with it
	run timeout 20 redis-cli -p "$RPORT" PING
	assert_output PONG
	exec 7>&-
	IFS= read -r -t 30 line <&5
	assert_equal "$line" $'*2\r'
	run resp_read
	assert_output +OK
	run resp_read
	assert_output :1
	run resp_read
	assert_output after
	# SIGTERM while a write waits for a lock: it goes in once it is free
	mkfifo "$BATS_TEST_TMPDIR/feed2"
	nedb-put -q --atomic -d "$DATA/db1" cli <"$BATS_TEST_TMPDIR/feed2" 3>&- &
	EXTRA_PIDS+=($!)
	local cli=$!
	exec 8>"$BATS_TEST_TMPDIR/feed2"
	echo '{"_id":"second"}' >&8
	poll 30 lock_held "$DATA/db1"
	printf 'ECHO mark\r\nSET b 2\r\n' >&5
	run resp_read
	assert_output mark
	kill -TERM "$NEDBD_PID"
	poll 30 bash -c "! curl -s http://127.0.0.1:$PORT/health"	# stopping
	alive
	exec 8>&-
	wait "$cli"
	run resp_read
	assert_output +OK
	stop_nedbd TERM
	assert_equal "$STATUS" 0
	resp_close
	run -0 nedb-get -d "$DATA/db1" redis b
}

@test "a concurrent mixed workload (redis-cli, curl, nedb-put) leaves a chain that verifies" {
	start_nedbd
	create shop
	local c i pids=()
	for c in 1 2 3 4; do
		{
			for ((i = 0; i < 40; i++)); do
				echo "SELECT shop"
				echo "SET r$c:$i v"
				echo "HINCRBY hits c$c 1"
				echo "SADD members m$c"
			done | redis-cli -p "$RPORT" >"$BATS_TEST_TMPDIR/r$c"
		} &
		pids+=($!)
	done
	for c in 1 2 3; do
		{
			for ((i = 0; i < 30; i++)); do
				curl -s -o /dev/null -w '%{http_code}\n' -X POST \
					-H 'Content-Type: application/json' \
					"http://127.0.0.1:$PORT/v1/databases/shop/put" \
					-d "{\"coll\":\"h$c\",\"id\":\"d$i\",\"doc\":{\"i\":$i}}"
			done >"$BATS_TEST_TMPDIR/h$c"
		} &
		pids+=($!)
	done
	for c in 1 2; do
		{
			for ((i = 0; i < 20; i++)); do
				nedb-put -q -d "$DATA/shop" cli$c d$i "{\"i\":$i}" ||
					echo "nedb-put failed: $?"
			done >"$BATS_TEST_TMPDIR/c$c" 2>&1
		} &
		pids+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	run cat "$BATS_TEST_TMPDIR"/h1 "$BATS_TEST_TMPDIR"/h2 "$BATS_TEST_TMPDIR"/h3
	assert_equal "$(sort -u <<<"$output")" 200
	assert_equal "${#lines[@]}" 90
	run cat "$BATS_TEST_TMPDIR"/c1 "$BATS_TEST_TMPDIR"/c2
	assert_output ''
	run cat "$BATS_TEST_TMPDIR"/r1 "$BATS_TEST_TMPDIR"/r2 "$BATS_TEST_TMPDIR"/r3 "$BATS_TEST_TMPDIR"/r4
	refute_output --partial ERR
	run -0 nedb-verify -d "$DATA/shop"
	assert_output --partial '"ok":true'
	http GET /v1/databases/shop
	expect 200 \
		'.collections == {"cli1":20,"cli2":20,"h1":30,"h2":30,"h3":30,"redis":162}'
	run -0 nedb-get -d "$DATA/shop" redis hits
	jq -e '.value == {"c1":"40","c2":"40","c3":"40","c4":"40"} or
		(.value | to_entries | sort_by(.key) | from_entries) ==
		{"c1":"40","c2":"40","c3":"40","c4":"40"}' <<<"$output"
	run -0 nedb-verify --determinism -d "$DATA/shop"
}

@test "checkpoint and prune loops, CLI and HTTP writers and readers on one database: no false corruption, no op lost or twice" {
	start_nedbd
	create shop
	local T=$BATS_TEST_TMPDIR c i pids=() readers=()
	local D=$DATA/shop U=http://127.0.0.1:$PORT/v1/databases/shop
	# CLI writers: every receipt kept
	for c in 1 2; do
		{
			for ((i = 0; i < 40; i++)); do
				nedb-put -d "$D" cli$c d$i "{\"i\":$i}" ||
					echo "nedb-put failed: $?" >&2
			done >"$T/acks.cli$c" 2>"$T/err.cli$c"
		} &
		pids+=($!)
	done
	# HTTP writers: every receipt kept
	for c in 1 2; do
		{
			for ((i = 0; i < 40; i++)); do
				curl -sf -X POST -H 'Content-Type: application/json' \
					"$U/put" -d "{\"coll\":\"h$c\",\"id\":\"d$i\",\"doc\":{\"i\":$i}}" ||
					echo "curl failed: $?" >&2
				echo
			done >"$T/acks.h$c" 2>"$T/err.h$c"
		} &
		pids+=($!)
	done
	# checkpoints and prunes, from the CLI and through nedbd
	{
		for ((i = 0; i < 6; i++)); do
			nedb-checkpoint --prune -d "$D" >/dev/null ||
				echo "prune failed: $?" >&2
			curl -sf -X POST "$U/checkpoint" -o /dev/null ||
				echo "HTTP checkpoint failed: $?" >&2
		done 2>"$T/err.ckpt"
	} &
	pids+=($!)
	# readers until the writers are done: never a corruption
	touch "$T/running"
	for c in 1 2; do
		{
			while [ -e "$T/running" ]; do
				s=$(nedb-log -d "$D" -n 1 | jq .seq) ||
					echo "log $?"
				# halfway back: into the archive once pruned
				nedb-query -d "$D" "FROM cli1 AS OF $((s / 2))" \
					>/dev/null || echo "query $?"
				nedb-verify -d "$D" >/dev/null || echo "verify $?"
				curl -sf "$U/log?limit=3" -o /dev/null || echo "GET log $?"
				curl -sf "$U/verify" | grep -q '"ok":true' ||
					echo "GET verify"
			done >"$T/bad.r$c" 2>&1
		} &
		readers+=($!)
	done
	for i in "${pids[@]}"; do
		wait "$i"
	done
	rm "$T/running"
	for i in "${readers[@]}"; do
		wait "$i"
	done
	run cat "$T"/err.* "$T"/bad.r*
	assert_output ''
	# every receipt is its op in the log, once
	nedb-log -d "$D" >"$T/log"
	cat "$T"/acks.* | grep . >"$T/acks"
	assert_equal "$(wc -l <"$T/acks")" 160
	run jq -cn --slurpfile log "$T/log" --slurpfile acks "$T/acks" '
	  {
	    contiguous: ([$log[].seq] == [range(0; $log | length)]),
	    unique: (($acks | map(.seq) | unique | length) == ($acks | length)),
	    wrong: [$acks[] | . as $a | $log[$a.seq]
		    | select(.hash != $a.hash or .id != $a.id) | $a.seq]
	  }'
	assert_output '{"contiguous":true,"unique":true,"wrong":[]}'
	run -0 nedb-verify --determinism -d "$D"
	assert_output --partial '"ok":true'
}

# ---- shutdown ---------------------------------------------------------------

@test "SIGTERM: exit 0, 'nedbd: stopped', a checkpoint last in every open database" {
	start_nedbd
	create shop '{"seed":{"u":[{"_id":"a"}]}}'
	create cpd
	http POST /v1/databases/cpd/checkpoint
	expect 200 '.seq == 1'
	printf 'SET a 1\nSELECT other\nSET b 2\n' | rcli
	# a database on disk the daemon never opened is left as it is
	nedb-put -q -d "$DATA/untouched" t x '{}'
	stop_nedbd TERM
	assert_equal "$STATUS" 0
	run tail -n 1 "$ERR"
	assert_output 'nedbd: stopped'
	local d
	for d in shop 0 other; do
		run last_op "$DATA/$d"
		jq -e '.op == "checkpoint"' <<<"$output"
		run -0 nedb-verify -d "$DATA/$d"
	done
	# the database that already ended with a checkpoint got no second one
	run nedb-log -d "$DATA/cpd"
	assert_equal "$(jq -r .op <<<"$output" | tr '\n' ' ')" 'genesis checkpoint '
	run last_op "$DATA/untouched"
	jq -e '.op == "put"' <<<"$output"
	# restarted, it serves the same state
	start_nedbd
	run rcli GET a
	assert_output '"1"'
	http GET /v1/databases/shop
	expect 200 '.rows == 1' '.log[0].op == "checkpoint"'
}

@test "SIGINT stops as SIGTERM does" {
	start_nedbd
	printf 'SET a 1\n' | rcli
	stop_nedbd INT
	assert_equal "$STATUS" 0
	run tail -n 1 "$ERR"
	assert_output 'nedbd: stopped'
	run last_op "$DATA/0"
	jq -e '.op == "checkpoint"' <<<"$output"
}

@test "SIGTERM with idle client connections open still stops" {
	start_nedbd
	resp_open
	run resp_cmd SET a 1
	assert_output +OK
	# an idle HTTP keep-alive connection too
	exec 6<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n' >&6
	IFS= read -r -t 30 line <&6
	assert_equal "$line" $'HTTP/1.1 200 OK\r'
	stop_nedbd TERM
	assert_equal "$STATUS" 0
	resp_close
	exec 6>&- 6<&-
	run last_op "$DATA/0"
	jq -e '.op == "checkpoint"' <<<"$output"
}

@test "SIGTERM finishes the writes in flight: every acknowledged write is in the log" {
	start_nedbd
	python3 - "$BATS_TEST_TMPDIR/pipe" <<'EOF'
import sys
out = []
for i in range(3000):
    k = b"k%d" % i
    out.append(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n" % (len(k), k))
open(sys.argv[1], "wb").write(b"".join(out))
EOF
	# the replies that came count what was acknowledged
	python3 - "$RPORT" "$BATS_TEST_TMPDIR/pipe" "$BATS_TEST_TMPDIR/acked" <<'EOF' &
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(open(sys.argv[2], "rb").read())
got = b""
while True:
    d = s.recv(65536)
    if not d:
        break
    got += d
open(sys.argv[3], "w").write("%d\n" % got.count(b"+OK\r\n"))
EOF
	local py=$!
	EXTRA_PIDS+=("$py")
	poll 30 eval '[ "$(redis-cli -p "$RPORT" dbsize 2>/dev/null)" -gt 0 ]'
	stop_nedbd TERM
	assert_equal "$STATUS" 0
	wait "$py"
	local acked keys
	acked=$(cat "$BATS_TEST_TMPDIR/acked")
	keys=$(nedb-log -d "$DATA/0" | jq -s 'map(select(.op == "put")) | length')
	echo "acknowledged $acked, in the log $keys" >&2
	[ "$acked" -gt 0 ]
	[ "$keys" -ge "$acked" ]
	run last_op "$DATA/0"
	jq -e '.op == "checkpoint"' <<<"$output"
	run -0 nedb-verify -d "$DATA/0"
}

@test "RESP: MULTI/EXEC runs the queued commands together; DISCARD and EXECABORT as in Redis" {
	start_nedbd
	run rcli <<'CMDS'
MULTI
SET a 1
INCR a
GET a
EXEC
EXEC
MULTI
NOSUCH
SET b 2
EXEC
GET b
MULTI
SET c 3
DISCARD
GET c
MULTI
MULTI
DISCARD
DISCARD
PING
CMDS
	assert_success
	assert_output 'OK
QUEUED
QUEUED
QUEUED
1) OK
2) (integer) 2
3) "2"
(error) ERR EXEC without MULTI
OK
(error) ERR unknown command '"'"'NOSUCH'"'"', with args beginning with: 
QUEUED
(error) EXECABORT Transaction discarded because of previous errors.
(nil)
OK
QUEUED
OK
(nil)
OK
(error) ERR MULTI calls can not be nested
OK
(error) ERR DISCARD without MULTI
PONG'
	# the transaction's writes are ops of the chain
	run nedb-get -d "$DATA/0" redis a
	assert_output '{"_id":"a","type":"string","value":"2"}'
	run nedb-verify -d "$DATA/0"
	assert_success
}

@test "RESP: a wrong number of arguments in MULTI aborts EXEC, nothing written, as in Redis" {
	start_nedbd
	run rcli <<'CMDS'
SELECT t1
MULTI
SET a 1
GET
EXEC
EXISTS a
MULTI
SET a 1
EXPIRE a
INCR n
EXEC
EXISTS a n
CMDS
	assert_success
	assert_output 'OK
OK
QUEUED
(error) ERR wrong number of arguments for '"'"'get'"'"' command
(error) EXECABORT Transaction discarded because of previous errors.
(integer) 0
OK
QUEUED
(error) ERR wrong number of arguments for '"'"'expire'"'"' command
QUEUED
(error) EXECABORT Transaction discarded because of previous errors.
(integer) 0'
	run nedb-log -d "$DATA/t1"
	refute_output --partial '"op":"put"'
}

@test "RESP: before AUTH, MULTI, EXEC and DISCARD answer NOAUTH (arity first), as in Redis" {
	start_nedbd NEDBD_TOKEN=s3cret
	run rcli <<'CMDS'
MULTI
EXEC
DISCARD
MULTI x
AUTH s3cret
MULTI
EXEC
CMDS
	assert_success
	assert_output '(error) NOAUTH Authentication required.
(error) NOAUTH Authentication required.
(error) NOAUTH Authentication required.
(error) ERR wrong number of arguments for '"'"'multi'"'"' command
OK
OK
(empty array)'
}

@test "RESP: INFO keyspace has the fields redis-py reads as a dict" {
	redis_python
	start_nedbd
	run "$PY" - "$RPORT" <<'PY'
import sys, redis
r = redis.Redis(port=int(sys.argv[1]))
r.execute_command("SELECT", "ks")
r.set("a", "1")
r.set("b", "2", ex=500)
print(r.info("keyspace")["db0"]["keys"], r.info("keyspace")["db0"]["expires"])
PY
	assert_success
	assert_output '2 1'
}

@test "RESP: a Python redis client's default (transactional) pipeline works" {
	redis_python
	start_nedbd
	run "$PY" - "$RPORT" <<'EOF'
import sys, redis
r = redis.Redis(host="127.0.0.1", port=int(sys.argv[1]))
p = r.pipeline()
p.set("x", 1)
p.incr("x")
p.get("x")
p.hset("h", "f", "v")
p.hgetall("h")
print(p.execute())
p = r.pipeline()
p.set("y", 1)
p.lpush("y", "z")
print(p.execute(raise_on_error=False))
EOF
	assert_success
	assert_output "[True, 2, b'2', 1, {b'f': b'v'}]
[True, ResponseError('WRONGTYPE Operation against a key holding the wrong kind of value')]"
}

# views_open: how many databases' view.mdb nedbd has open (LMDB opens
# each twice)
views_open() {
	find "/proc/$NEDBD_PID/fd" -lname '*/view.mdb' -printf '%l\n' \
		2>/dev/null | sort -u | wc -l
}

views_open_at_most() {
	local n
	n=$(views_open)
	[ "$n" -ge 1 ] && [ "$n" -le "$1" ]
}

@test "NEDBD_MAX_DBS bounds the databases open at once; a closed one opens again on use" {
	start_nedbd NEDBD_MAX_DBS=2
	resp_open
	run resp_cmd SELECT a
	assert_output +OK
	run resp_cmd SET k v
	assert_output +OK
	for d in b c d; do
		create "$d"
		http POST "/v1/databases/$d/put" -d "{\"coll\":\"t\",\"id\":\"x\",\"doc\":{\"db\":\"$d\"}}"
		expect 200
	done
	# four were opened; between turns all but two are closed again
	poll 30 views_open_at_most 2
	# the Redis connection keeps its database, opened anew
	run resp_cmd GET k
	assert_output v
	for d in b c d; do
		http GET "/v1/databases/$d/rows/t/x"
		expect 200 ".db == \"$d\""
	done
	poll 30 views_open_at_most 2
	resp_close
	# what was closed is intact: every database verifies
	for d in a b c d; do
		run nedb-verify -d "$DATA/$d"
		assert_success
	done
}

@test "a bad NEDBD_MAX_DBS exits 2 naming it" {
	run env NEDBD_MAX_DBS=0 NEDBD_DATA="$BATS_TEST_TMPDIR/d" nedbd
	assert_failure 2
	assert_output --partial "bad NEDBD_MAX_DBS: '0'"
}

# ---- WATCH ---------------------------------------------------------------------

@test "RESP: SHUTDOWN stops nedbd as SIGTERM does (a checkpoint, exit 0); inside MULTI it is refused" {
	start_nedbd
	redis-cli -p "$RPORT" SET k v >/dev/null
	run redis-cli -p "$RPORT" SHUTDOWN ABORT
	assert_output 'ERR No shutdown in progress.'
	run redis-cli -p "$RPORT" SHUTDOWN NOSAVE SAVE
	assert_output 'ERR syntax error'
	printf 'MULTI\nSHUTDOWN\nEXEC\n' >"$BATS_TEST_TMPDIR/tx"
	run redis-cli -p "$RPORT" <"$BATS_TEST_TMPDIR/tx"
	assert_line --index 0 OK
	assert_line 'ERR Command not allowed inside a transaction'
	assert_line 'EXECABORT Transaction discarded because of previous errors.'
	alive
	# the connection closes without a reply, and nedbd stops
	run redis-cli -p "$RPORT" SHUTDOWN
	poll 30 sh -c "! kill -0 $NEDBD_PID 2>/dev/null || grep -q 'nedbd: stopped' '$ERR'"
	STATUS=0
	wait "$NEDBD_PID" || STATUS=$?
	NEDBD_PID=
	assert_equal "$STATUS" 0
	grep -q 'nedbd: stopped' "$ERR"
	run sh -c "nedb-log -d '$DATA/0' -n 1 | jq -r .op"
	assert_output checkpoint
}

@test "RESP: with a token, SHUTDOWN before AUTH answers NOAUTH and nedbd goes on" {
	TOKEN=s3cret start_nedbd
	run redis-cli -p "$RPORT" SHUTDOWN
	assert_output --partial 'NOAUTH Authentication required.'
	alive
	ping_ok
}

@test "RESP: COPY ... DB n and MOVE between databases answer as redis-server does" {
	start_redis
	start_nedbd
	run python3 "$BATS_TEST_DIRNAME/resp3_diff.py" "$RPORT" "$REDIS_PORT" 2 <<-'EOF'
	FLUSHALL
	SELECT 9
	SET k v
	PEXPIRE k 100000
	HSET h f v
	RPUSH l a b c
	COPY k k DB 10
	COPY k k2 DB 10
	COPY k k2 DB 10
	COPY k k2 DB 10 REPLACE
	COPY l l DB 10 REPLACE
	COPY nosuch x DB 10
	COPY k k DB 9
	COPY k kk DB 9
	COPY k k DB 16
	COPY k k DB -1
	COPY k k DB x
	COPY k k DB
	COPY k k DB 10 EXTRA
	MOVE k 9
	MOVE k 10
	MOVE h 10
	MOVE h 10
	MOVE nosuch 10
	MOVE k x
	MOVE k 16
	MOVE k
	EXISTS k h kk l
	SELECT 10
	EXISTS k k2 h l
	GET k2
	HGETALL h
	LRANGE l 0 -1
	MOVE h 9
	SELECT 9
	HGETALL h
	EOF
	assert_success
	assert_output ''
	# each database's log has its own side: the put there, the delete here
	run sh -c "nedb-log -d '$DATA/10' | jq -r 'select(.id == \"h\") | .op' | paste -sd, -"
	assert_output 'put,delete'
	run sh -c "nedb-log -d '$DATA/9' | jq -r 'select(.id == \"h\") | .op' | paste -sd, -"
	assert_output 'put,delete,put'
	# the time to live goes with the key
	printf 'SELECT 10\nPTTL k2\n' >"$BATS_TEST_TMPDIR/ttl"
	run redis-cli -p "$RPORT" <"$BATS_TEST_TMPDIR/ttl"
	[ "${lines[1]}" -gt 1000 ] && [ "${lines[1]}" -le 100000 ]
}

@test "RESP: a MOVE whose delete cannot be had (a CLI writer holds the lock here) says so and leaves the key in both" {
	start_nedbd
	redis-cli -p "$RPORT" SET k v >/dev/null
	# a CLI stream holds database 0's writer lock until its input ends
	mkfifo "$BATS_TEST_TMPDIR/feed"
	nedb-put -q --atomic -d "$DATA/0" cli <"$BATS_TEST_TMPDIR/feed" 3>&- &
	EXTRA_PIDS+=($!)
	exec 7>"$BATS_TEST_TMPDIR/feed"
	echo '{"_id":"first"}' >&7
	poll 30 lock_held "$DATA/0"
	run redis-cli -p "$RPORT" MOVE k 3
	assert_output --regexp "^ERR MOVE copied 'k' to database '3' but could not delete it here: .*locked"
	exec 7>&-
	# never in neither: the copy is there, the original too (reads
	# need no lock)
	run redis-cli -p "$RPORT" -n 3 GET k
	assert_output v
	run redis-cli -p "$RPORT" GET k
	assert_output v
}

@test "RESP: MOVE to another database is refused inside MULTI, and moves nothing" {
	start_nedbd
	printf 'SET k v\nMULTI\nMOVE k 3\nEXEC\nGET k\n' >"$BATS_TEST_TMPDIR/tx"
	run redis-cli -p "$RPORT" <"$BATS_TEST_TMPDIR/tx"
	assert_line --index 3 'ERR move to another database cannot run inside MULTI: each database commits on its own'
	assert_line --index 4 v
	[ ! -e "$DATA/3" ] || [ "$(redis-cli -p "$RPORT" -n 3 EXISTS k)" = 0 ]
}

@test "RESP: SAVE inside MULTI is refused and EXEC aborts, as redis-server" {
	start_redis
	start_nedbd
	run python3 "$BATS_TEST_DIRNAME/resp3_diff.py" "$RPORT" "$REDIS_PORT" 2 <<-'EOF'
	DEL foo
	MULTI
	SET foo bar
	SAVE
	EXEC
	GET foo
	SAVE x
	BGSAVE x
	SAVE
	EOF
	assert_success
	assert_output ''
	# the SAVE outside MULTI is a checkpoint op of the database
	run sh -c "nedb-log -d '$DATA/0' -n 1 | jq -r .op"
	assert_output checkpoint
}

@test "RESP: WATCH and UNWATCH answer as redis-server does, in MULTI and out of it" {
	start_redis
	start_nedbd
	cat >cmds <<'CMDS'
WATCH
MULTI
WATCH x
SET a 1
UNWATCH
EXEC
UNWATCH x
WATCH x
SET x 2
MULTI
GET x
EXEC
WATCH x
MULTI
GET x
FOO
EXEC
DISCARD
WATCH a b
MULTI
GET a
EXEC
MULTI
WATCH
EXEC
MULTI
UNWATCH x
EXEC
WATCH x
UNWATCH
SET x 3
MULTI
GET x
EXEC
WATCH x
MULTI
DISCARD
SET x 4
MULTI
GET x
EXEC
CMDS
	run rcli <cmds
	assert_success
	assert_output "$(redis-cli -p "$REDIS_PORT" --no-raw <cmds)"
}

@test "RESP: WATCH remembers the database of each key, SELECT between them, as redis-server does" {
	start_redis
	start_nedbd
	cat >cmds <<'CMDS'
SELECT 5
SET x 30
WATCH x
SELECT 1
SET x 10
SELECT 5
MULTI
PING
EXEC
SELECT 1
WATCH x
SELECT 5
WATCH x
SET y 1
SELECT 1
SET x 11
SELECT 5
MULTI
PING
EXEC
SELECT 1
WATCH x
SELECT 5
WATCH x
SET x 31
SELECT 1
MULTI
PING
EXEC
CMDS
	run rcli <cmds
	assert_success
	assert_output "$(redis-cli -p "$REDIS_PORT" --no-raw <cmds)"
}

@test "RESP: SWAPDB touches the keys watched in either database that are live in either, as redis-server does" {
	start_redis
	start_nedbd
	cat >cmds <<'CMDS'
SELECT 0
SET x 30
WATCH x
SWAPDB 0 1
MULTI
PING
EXEC
SELECT 1
SET y 1
SELECT 0
WATCH y
SWAPDB 0 1
MULTI
PING
EXEC
WATCH nothere
SWAPDB 0 1
MULTI
PING
EXEC
SWAPDB 0 0
GET y
CMDS
	run rcli <cmds
	assert_success
	assert_output "$(redis-cli -p "$REDIS_PORT" --no-raw <cmds)"
}

@test "RESP: a watched key written by another connection makes EXEC answer nil and write nothing" {
	start_nedbd
	resp_open
	run resp_cmd SET k v0
	assert_output +OK
	run resp_cmd WATCH k other
	assert_output +OK
	run rcli SET k theirs
	assert_output OK
	run resp_cmd MULTI
	run resp_cmd SET k mine
	assert_output +QUEUED
	run resp_cmd INCR n
	run resp_cmd EXEC
	assert_output '*-1'
	run resp_cmd GET k
	assert_output theirs
	run resp_cmd EXISTS n
	assert_output :0
	# EXEC forgot the keys: the next transaction runs
	run resp_cmd MULTI
	run resp_cmd SET k mine
	run resp_cmd EXEC
	assert_output '*1'
	run resp_read
	assert_output +OK
	# a watched key nobody touched lets EXEC run
	run resp_cmd WATCH k
	run rcli SET other x
	run resp_cmd MULTI
	run resp_cmd GET k
	run resp_cmd EXEC
	assert_output '*1'
	run resp_read
	assert_output mine
	resp_close
}

@test "RESP: a watched key written by a CLI writer (nedb-put) between WATCH and EXEC aborts EXEC" {
	start_nedbd
	resp_open
	run resp_cmd SET k v0
	run resp_cmd WATCH k
	nedb-put -q -d "$DATA/0" redis k '{"type":"string","value":"cli"}'
	run resp_cmd MULTI
	run resp_cmd SET k mine
	run resp_cmd EXEC
	assert_output '*-1'
	run resp_cmd GET k
	assert_output cli
	run nedb-get -d "$DATA/0" redis k
	assert_output '{"_id":"k","type":"string","value":"cli"}'
	# nedb-redis is a writer of another process too
	run resp_cmd WATCH k
	nedb-redis -d "$DATA/0" APPEND k '!'
	run resp_cmd MULTI
	run resp_cmd SET k mine
	run resp_cmd EXEC
	assert_output '*-1'
	run resp_cmd GET k
	assert_output 'cli!'
	resp_close
}

@test "RESP: WATCH sees a delete, an expiry, FLUSHDB and a key created and deleted again" {
	start_nedbd
	resp_open
	run resp_cmd SET k v0
	for change in 'DEL k' 'EXPIRE k 100' 'PERSIST k' 'FLUSHDB' \
		'SET gone 1|DEL gone'; do
		run resp_cmd SET k v0
		run resp_cmd EXPIRE k 1000
		run resp_cmd WATCH k gone
		IFS='|' read -ra cmds <<<"$change"
		for cmd in "${cmds[@]}"; do
			rcli $cmd >/dev/null
		done
		run resp_cmd MULTI
		run resp_cmd SET k mine
		run resp_cmd EXEC
		assert_equal "$change: $output" "$change: *-1"
	done
	resp_close
}

@test "RESP: before AUTH, WATCH and UNWATCH answer NOAUTH (arity first), as redis-server with requirepass" {
	local out
	start_redis
	redis-cli -p "$REDIS_PORT" CONFIG SET requirepass s3cret >/dev/null
	start_nedbd NEDBD_TOKEN=s3cret
	cat >cmds <<'CMDS'
WATCH
WATCH a
UNWATCH
UNWATCH x
AUTH s3cret
WATCH a
UNWATCH
CMDS
	run rcli <cmds
	assert_success
	out=$output
	run redis-cli -p "$REDIS_PORT" --no-raw <cmds
	assert_output "$out"
}

@test "RESP: the new commands of the table answer through nedbd as through redis-server" {
	start_redis
	start_nedbd
	cat >cmds <<'CMDS'
SELECT wide
ZADD z 1 a 2.5 b inf c
ZRANGE z 0 -1 WITHSCORES
ZRANGEBYSCORE z (1 +inf LIMIT 0 1
ZINCRBY z 0.1 a
ZPOPMAX z
ZSCAN z 0
INCRBYFLOAT f 1.5
GETEX f PX 100000
SETRANGE f 5 xyz
GETRANGE f 0 -1
MSETNX m1 1 m2 2
COPY m1 m3
RENAMENX m3 m1
SCAN 0 MATCH m3 COUNT 100
HSET h a 1
HINCRBYFLOAT h a 0.25
HSTRLEN h a
RPUSH l a b c a
LPOS l a COUNT 0
LMOVE l l LEFT RIGHT
LRANGE l 0 -1
SADD s1 x y
SADD s2 y
SINTERSTORE s3 s1 s2
SINTERCARD 2 s1 s2
SMOVE s1 s2 x
SMISMEMBER s2 x y z
FLUSHALL
DBSIZE
CMDS
	run rcli <cmds
	assert_success
	# redis-server numbers its databases: SELECT 0 there
	assert_output "$(sed '1s/.*/SELECT 0/' cmds | redis-cli -p "$REDIS_PORT" --no-raw)"
}

@test "POST /sql runs one statement that reads, in the query route's shape, as nedb-sql answers it" {
	start_nedbd
	create shop
	nedb-sql -d "$DATA/shop" "CREATE TABLE t(id INTEGER PRIMARY KEY, a TEXT, b REAL); INSERT INTO t VALUES (1,'x',1.5),(2,NULL,2)"
	http POST /v1/databases/shop/sql -d '{"sql":"SELECT * FROM t ORDER BY id"}'
	expect 200 '.rows == [{"id":1,"a":"x","b":1.5},{"id":2,"a":null,"b":2.0}]' \
		'.count == 2' '.seq == 4' '(.head | length) == 64'
	# the same rows nedb-sql prints
	run nedb-sql -d "$DATA/shop" "SELECT * FROM t ORDER BY id"
	assert_equal "$(jq -c . <<<"$output")" "$(jq -c '.rows[]' <<<"$BODY")"
	http POST /v1/databases/shop/sql -d '{"sql":"-- a comment\n select count(*), avg(b) from t"}'
	expect 200 '.rows == [{"count(*)":2,"avg(b)":1.75}]'
	http POST /v1/databases/shop/sql -d '{"sql":"SELECT * FROM t AS OF 3"}'
	expect 200 '.rows == [{"id":1,"a":"x","b":1.5}]'
	http POST /v1/databases/shop/sql -d '{"sql":"EXPLAIN SELECT * FROM t WHERE id = 1"}'
	expect 200 '.rows[0].plan == "id"'
	http POST '/v1/databases/shop/sql?verify=1' -d '{"sql":"SELECT a FROM t WHERE id = 1"}'
	expect 200 '.rows == [{"a":"x"}]'
	# writes, scripts, errors: 400, and nothing written
	http POST /v1/databases/shop/sql -d '{"sql":"INSERT INTO t VALUES (3,\"y\",3)"}'
	expect_error 400
	[[ $BODY == *"only SELECT, VALUES and EXPLAIN"* ]]
	http POST /v1/databases/shop/sql -d '{"sql":"SELECT 1; DELETE FROM t"}'
	expect_error 400
	http POST /v1/databases/shop/sql -d '{"sql":"SELECT * FROM nosuch"}'
	expect_error 400
	[[ $BODY == *"no such table: nosuch"* ]]
	http POST /v1/databases/shop/sql -d '{"nql":"FROM t"}'
	expect_error 400
	http GET /v1/databases/shop/sql
	expect_error 405
	run nedb-sql -d "$DATA/shop" "SELECT count(*) FROM t"
	assert_output '{"count(*)":2}'
}

