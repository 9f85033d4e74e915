#!/usr/bin/env bats
# nedbd's file routes (issue 14, SPEC §5, nedbd(8) "Routes"): PUT
# …/files/FILE streams a body of any size into a new version, GET
# …/files/FILE streams a version back (checked), GET …/files lists them,
# as nedb-file(1) does on the same store.  Errors in the shape of every
# route's; a client that goes away mid-body leaves no version.
#
# Every test starts its own daemon on free loopback ports (nedbd-helper)
# and stops it in teardown.  Nothing here sleeps and hopes.

load nedbd-helper

# Deterministic bytes: $2 bytes of seed $1 (incompressible).
gen() {
	python3 -c '
import random, sys
r = random.Random(int(sys.argv[1]))
n = int(sys.argv[2])
while n > 0:
    k = min(n, 1 << 20)
    sys.stdout.buffer.write(r.randbytes(k))
    n -= k' "$1" "$2"
}

# fput DB FILE PATH [CURL-ARG...]: PUT the bytes of PATH as FILE.
fput() {
	local db=$1 f=$2 path=$3
	shift 3
	CTYPE= http PUT "/v1/databases/$db/files/$f" --data-binary "@$path" "$@"
}

# fget DB FILE[?ARGS] OUT: GET a version into OUT (status in $CODE).
fget() {
	local auth=()
	if [ -n "$TOKEN" ]; then
		auth=(-H "Authorization: Bearer $TOKEN")
	fi
	CODE=$(curl -sS --max-time 120 -o "$3" -D "$BATS_TEST_TMPDIR/headers" \
		-w '%{http_code}' "${auth[@]}" \
		"http://127.0.0.1:$PORT/v1/databases/$1/files/$2")
	HEADERS=$(tr -d '\r' <"$BATS_TEST_TMPDIR/headers")
}

# A raw request on fd 6: its headers say $2 bytes of body are coming.
raw_put_open() {
	exec 6<>"/dev/tcp/127.0.0.1/$PORT"
	printf 'PUT %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Length: %s\r\n\r\n' \
		"$1" "$TOKEN" "$2" >&6
}

setup_more() {
	DATA=$BATS_TEST_TMPDIR/data
	ERR=$BATS_TEST_TMPDIR/nedbd.err
	NEDBD_PID=
	EXTRA_PIDS=()
	TOKEN=t0k3n
	PORT=
	RPORT=
	NEDBD_ARGS=()
	start_nedbd NEDBD_RESP2_PORT=0
	create f
}

@test "a file of several MiB goes up and comes back byte for byte, and nedb-file sees the same version" {
	gen 1 5000000 > big
	fput f big.bin big
	expect 200 '.name == "big.bin"' '.version == 1' '.seq == 1' \
		'.size == 5000000' '.chunks > 10' '.new_bytes >= 5000000' \
		'.root | test("^[0-9a-f]{64}$")'
	local root
	root=$(jq -r .root <<<"$BODY")
	fget f big.bin out
	[ "$CODE" = 200 ]
	cmp big out
	assert_equal "$(grep -i '^content-type:' <<<"$HEADERS")" 'Content-Type: application/octet-stream'
	assert_equal "$(grep -i '^content-length:' <<<"$HEADERS")" 'Content-Length: 5000000'
	assert_equal "$(grep -i '^x-nedb-version:' <<<"$HEADERS")" 'X-Nedb-Version: 1'
	assert_equal "$(grep -i '^x-nedb-root:' <<<"$HEADERS")" "X-Nedb-Root: $root"
	# the same store from the command line, while nedbd has it open
	nedb-file -d "$DATA/f" get big.bin | cmp - big
	run nedb-file -d "$DATA/f" root big.bin
	assert_success
	assert_equal "$(jq -r .root <<<"$output")" "$root"
	# a put from the command line is served at once
	printf 'from the shell\n' > small
	nedb-file -d "$DATA/f" put dir/small.txt small >/dev/null
	fget f dir/small.txt out2
	[ "$CODE" = 200 ]
	cmp small out2
	http GET /v1/databases/f/files
	expect 200 '.count == 2' '[.files[].name] == ["big.bin", "dir/small.txt"]' \
		'.files[0].size == 5000000' '.seq == 2' \
		".files[0].root == \"$root\""
}

@test "an empty file and a name with slashes round-trip; HEAD says the size" {
	: > empty
	fput f empty empty
	expect 200 '.size == 0' '.chunks == 0'
	fget f empty out
	[ "$CODE" = 200 ] && [ ! -s out ]
	printf 'abc' > three
	fput f a/b/c.txt three
	expect 200 '.name == "a/b/c.txt"'
	run curl -sS -I -H "Authorization: Bearer $TOKEN" \
		-H 'Origin: http://example.com' \
		"http://127.0.0.1:$PORT/v1/databases/f/files/a/b/c.txt"
	assert_success
	assert_line --partial 'Content-Length: 3'
	# a page may read the version's headers (a token, any origin)
	assert_line --partial 'Access-Control-Expose-Headers: X-Nedb-Version, X-Nedb-Seq, X-Nedb-Root'
	nedb-file -d "$DATA/f" get a/b/c.txt | cmp - three
}

@test "versions are chosen with ?version= and ?as_of=, and listed with ?name=" {
	gen 2 300000 > v1
	{ head -c 100000 v1; printf 'inserted'; tail -c +100001 v1; } > v2
	fput f doc v1
	expect 200 '.version == 1'
	fput f doc v2
	expect 200 '.version == 2' '.new_bytes < 300000'
	fget f doc out
	cmp out v2
	assert_equal "$(grep -i '^x-nedb-version:' <<<"$HEADERS")" 'X-Nedb-Version: 2'
	fget 'f' 'doc?version=1' out
	[ "$CODE" = 200 ]
	cmp out v1
	fget 'f' 'doc?as_of=1' out
	[ "$CODE" = 200 ]
	cmp out v1
	http GET '/v1/databases/f/files?name=doc'
	expect 200 '.count == 2' '[.files[].version] == [1, 2]'
	http GET '/v1/databases/f/files?as_of=1'
	expect 200 '.count == 1' '.files[0].version == 1'
}

@test "unknown files, versions and databases are 404; bad names and arguments 400" {
	printf 'x' > one
	fput f one one
	expect 200
	http GET /v1/databases/f/files/nope
	expect_error 404
	assert_equal "$(jq -r .error <<<"$BODY")" "no file 'nope'"
	http GET '/v1/databases/f/files/one?version=2'
	expect_error 404
	assert_equal "$(jq -r .error <<<"$BODY")" "no version 2 of file 'one'"
	http GET '/v1/databases/f/files?name=nope'
	expect_error 404
	http GET /v1/databases/nodb/files/one
	expect_error 404
	fput nodb one one
	expect_error 404
	assert_equal "$(jq -r .error <<<"$BODY")" "no such database 'nodb'"
	# a client that waits for "100 Continue" is answered without it
	fput nodb one one -H 'Expect: 100-continue'
	expect_error 404
	# a control character in the name (%01), on the way in and out
	fput f 'a%01b' one
	expect_error 400
	assert_regex "$(jq -r .error <<<"$BODY")" '^bad file name'
	http GET '/v1/databases/f/files/a%01b'
	expect_error 400
	local a
	for a in version=0 version=x 'version=-1' as_of=y; do
		http GET "/v1/databases/f/files/one?$a"
		expect_error 400
	done
	http GET '/v1/databases/f/files/one?as_of=99'
	expect_error 400
	http POST /v1/databases/f/files/one -d '{}'
	expect_error 405
	CTYPE= http PUT /v1/databases/f/files --data-binary @one
	expect_error 405
	# nothing of those was stored as a version
	http GET /v1/databases/f/files
	expect 200 '.count == 1'
}

@test "without the token every file route is 401, before the body is read" {
	# (a small body: a large one may meet a closed connection while it is
	# being sent, as nedbd(8) says of every route)
	printf 'tiny' > big
	local t=$TOKEN
	TOKEN=
	fput f big big
	expect_error 401
	http GET /v1/databases/f/files
	expect_error 401
	http GET /v1/databases/f/files/big
	expect_error 401
	TOKEN=wrong
	fput f big big
	expect_error 401
	TOKEN=$t
	http GET /v1/databases/f/files
	expect 200 '.count == 0'
}

@test "a client that goes away mid-body leaves no version, and holds the store until then" {
	gen 4 3000000 > part
	raw_put_open /v1/databases/f/files/partial 10000000
	head -c 2500000 part >&6
	# the put has begun (its store exists): the database is held
	poll 30 test -e "$DATA/f/files/lock"
	http DELETE /v1/databases/f
	expect_error 503
	exec 6>&- 6<&-
	# gc waits for the store's users: once it is done, the put was
	# abandoned, not committed
	run timeout 60 nedb-file -d "$DATA/f" gc
	assert_success
	run nedb-file -d "$DATA/f" ls
	assert_success
	assert_output ""
	http GET /v1/databases/f/files/partial
	expect_error 404
	http GET /v1/databases/f
	expect 200 '.seq == 0'
	# the name is free: the next put of it is version 1
	fput f partial part
	expect 200 '.version == 1'
	fget f partial out
	cmp out part
	http DELETE /v1/databases/f
	expect 200
}

# deleted: DELETE of database f answers 200 (not 503: no transfer left)
deleted() {
	http DELETE /v1/databases/f
	[ "$CODE" = 200 ]
}

@test "a client that goes away mid-read lets the database go" {
	gen 8 40000000 > r
	fput f r r
	expect 200
	# a read held open: at 1 MB/s its 40 MB take 40 s (more than the
	# socket buffers between nedbd and curl hold)
	curl -sS --limit-rate 1M -H "Authorization: Bearer $TOKEN" -o part \
		"http://127.0.0.1:$PORT/v1/databases/f/files/r" 2>/dev/null &
	local c=$!
	EXTRA_PIDS+=("$c")
	poll 30 test -s part
	http DELETE /v1/databases/f
	expect_error 503
	kill "$c"
	wait "$c" || true
	# once nedbd sees the connection gone, the read is closed
	poll 30 deleted
	http GET /v1/databases/f/files
	expect_error 404
}

@test "reads and puts of one database at the same time share its store" {
	gen 5 4000000 > a
	gen 6 4000000 > b
	fput f a a
	expect 200
	local auth=(-H "Authorization: Bearer $TOKEN") u=http://127.0.0.1:$PORT/v1/databases/f/files
	curl -sS --limit-rate 4M "${auth[@]}" -o a1 "$u/a" & local p1=$!
	curl -sS --limit-rate 4M "${auth[@]}" -o a2 "$u/a" & local p2=$!
	curl -sS "${auth[@]}" -T b -o put.out "$u/b" & local p3=$!
	wait $p1 && wait $p2 && wait $p3
	cmp a1 a
	cmp a2 a
	jq -e '.version == 1 and .size == 4000000' put.out
	fget f b out
	cmp out b
	run nedb-verify -d "$DATA/f" --files
	assert_success
}

@test "a damaged chunk is a 500 naming it, or an answer cut short; never wrong bytes" {
	gen 7 2000000 > d
	fput f d d
	expect 200
	local pack=("$DATA"/f/files/packs/*.pack)
	# the first chunk: answered 500 before a byte is sent
	python3 - "${pack[0]}" 100 <<-'EOF'
		import sys
		p, off = sys.argv[1], int(sys.argv[2])
		b = bytearray(open(p, "rb").read())
		b[off] ^= 0x01
		open(p, "wb").write(b)
	EOF
	http GET /v1/databases/f/files/d
	expect_error 500
	assert_regex "$(jq -r .error <<<"$BODY")" "^file 'd' version 1 chunk 0: damaged record"
	# put it back, and damage the last chunk: the body stops short
	python3 - "${pack[0]}" 100 <<-'EOF'
		import sys
		p, off = sys.argv[1], int(sys.argv[2])
		b = bytearray(open(p, "rb").read())
		b[off] ^= 0x01
		b[len(b) - 50000] ^= 0x01
		open(p, "wb").write(b)
	EOF
	run curl -sS -H "Authorization: Bearer $TOKEN" -o out \
		"http://127.0.0.1:$PORT/v1/databases/f/files/d"
	[ "$status" -ne 0 ]
	[ "$(wc -c < out)" -lt 2000000 ]
	cmp out d 2>&1 | grep -q EOF	# a prefix of the file, no other bytes
	grep -q "file 'd' version 1 chunk [0-9]*: damaged record.*answer cut short" "$ERR"
}
