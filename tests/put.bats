#!/usr/bin/env bats
# nedb-put: one document, streams, options and every failure path.

load helper

@test "put prints a receipt with seq, hash, op, coll and id" {
	run --separate-stderr nedb-put users alice '{"name":"Alice"}'
	assert_success
	assert_output --regexp '^\{"seq":1,"hash":"[0-9a-f]{64}","op":"put","coll":"users","id":"alice"\}$'
	assert_equal "$stderr" ""
}

@test "put stores the compact text with _id set from the id" {
	nedb-put users alice '{ "name" : "Alice",
	  "age": 31 }'
	run nedb-get users alice
	assert_success
	assert_output '{"_id":"alice","name":"Alice","age":31}'
}

@test "put keeps numbers exactly as written" {
	nedb-put t a '{"big":12345678901234567890,"f":1.50,"e":1E+3}'
	run nedb-get t a
	assert_output '{"_id":"a","big":12345678901234567890,"f":1.50,"e":1E+3}'
}

@test "put reads the document from stdin when it is left out" {
	echo '{"x":1}' | nedb-put t a
	run nedb-get t a
	assert_output '{"_id":"a","x":1}'
}

@test "put replaces a wrong _id in the document with the id argument" {
	nedb-put t a '{"_id":"zzz","x":1}'
	run nedb-get t a
	assert_output '{"_id":"a","x":1}'
}

@test "put --merge merges members into the current document" {
	nedb-put t a '{"x":1,"y":2}'
	nedb-put --merge t a '{"y":3,"z":4}'
	run nedb-get t a
	assert_output '{"_id":"a","x":1,"y":3,"z":4}'
}

@test "put --merge on a missing document inserts it" {
	nedb-put --merge t a '{"y":3}'
	run nedb-get t a
	assert_output '{"_id":"a","y":3}'
}

@test "put --tag stores the tags as the _tags array" {
	nedb-put --tag red --tag "big one" t a '{"x":1}'
	run nedb-get t a
	assert_output '{"_id":"a","x":1,"_tags":["red","big one"]}'
}

@test "put --if-seq writes when the document is at that seq" {
	nedb-put t a '{"v":1}'
	run nedb-put --if-seq 1 t a '{"v":2}'
	assert_success
	run nedb-get t a
	assert_output '{"_id":"a","v":2}'
}

@test "put --if-seq 0 writes only a new document" {
	run nedb-put --if-seq 0 t a '{"v":1}'
	assert_success
	run --separate-stderr nedb-put --if-seq 0 t a '{"v":2}'
	assert_failure 3
	assert_equal "$stderr" "nedb-put: precondition failed: 't/a' is at seq 1, not 0"
}

@test "put --if-seq with a stale seq exits 3 and writes nothing" {
	nedb-put t a '{"v":1}'
	nedb-put t a '{"v":2}'
	run nedb-put --if-seq 1 t a '{"v":3}'
	assert_failure 3
	run nedb-get t a
	assert_output '{"_id":"a","v":2}'
	run nedb-log -n 1
	assert_output --partial '"seq":2,'
}

@test "put --client --nonce accepts increasing nonces" {
	run nedb-put --client app --nonce 5 t a '{"v":1}'
	assert_success
	run nedb-put --client app --nonce 9 t a '{"v":2}'
	assert_success
}

@test "put with a repeated nonce exits 3 and writes nothing" {
	nedb-put --client app --nonce 5 t a '{"v":1}'
	run --separate-stderr nedb-put --client app --nonce 5 t a '{"v":2}'
	assert_failure 3
	assert_equal "$stderr" "nedb-put: stale nonce 5 for client 'app': last seen is 5"
	run nedb-put --client app --nonce 4 t a '{"v":2}'
	assert_failure 3
	run nedb-get t a
	assert_output '{"_id":"a","v":1}'
}

@test "nonces are per client" {
	nedb-put --client one --nonce 5 t a '{"v":1}'
	run nedb-put --client two --nonce 1 t a '{"v":2}'
	assert_success
}

@test "put --idem prints the original receipt and appends nothing" {
	run nedb-put --idem k1 t a '{"v":1}'
	first="$output"
	run nedb-put --idem k1 t a '{"v":2}'
	assert_success
	assert_output "$first"
	run nedb-get t a
	assert_output '{"_id":"a","v":1}'
	run nedb-log -n 1
	assert_output --partial '"seq":1,'
}

@test "put --ttl hides the document once it expires, but not from the past" {
	nedb-put --ttl 1 t a '{"v":1}'
	run nedb-get t a
	assert_success
	sleep 1.1
	run nedb-get t a
	assert_failure 1
	run nedb-get --as-of 1 t a
	assert_success
	assert_output '{"_id":"a","v":1}'
}

@test "a stream writes every document and prints a receipt each" {
	printf '{"_id":"a","v":1}\n{"_id":"b","v":2}\n\n{"_id":"c","v":3}\n' > in
	run nedb-put t < in
	assert_success
	assert_line --index 0 --partial '"seq":1,'
	assert_line --index 2 --partial '"id":"c"'
	assert_equal "${#lines[@]}" 3
	run nedb-get t a b c
	assert_success
}

@test "a stream goes on correctly after another writer moved the chain mid-stream" {
	# the reader formats each document ahead as the op after the last;
	# another process's put between two batches makes those guesses
	# wrong, and the writer must format them afresh, not stage them
	stream_around_a_put
	run grep -c '"seq"' receipts
	assert_output 300
	run sed -n '51p;300p' receipts
	assert_line --index 0 --partial '"seq":52,'
	assert_line --index 1 --partial '"seq":301,'
	run nedb-get other x
	assert_output '{"_id":"x","v":0}'
	run nedb-get t a1 a50 a51 a300
	assert_success
	run nedb-log --since 51 --until 51
	assert_output --partial '"coll":"other"'
	run nedb-verify
	assert_success
	assert_determinism
}

@test "a stream takes ids from --id-field" {
	printf '{"k":"x1","v":1}\n{"k":"x2","v":2}\n' | nedb-put -q --id-field k t
	run nedb-get t x2
	assert_output '{"_id":"x2","k":"x2","v":2}'
}

@test "a bad line stops a stream with exit 4 naming the line; lines before it stay" {
	printf '{"_id":"a"}\n{"_id":"b"}\nnot json\n{"_id":"d"}\n' > in
	run --separate-stderr nedb-put t < in
	assert_failure 4
	assert_equal "${#lines[@]}" 2
	assert_equal "$stderr" "nedb-put: line 3: not JSON: Invalid numeric literal at line 1, column 4"
	run nedb-get t a b
	assert_success
	run nedb-get t d
	assert_failure 1
}

@test "an --atomic stream with a bad line writes nothing" {
	printf '{"_id":"a"}\n{"_id":"b"}\n[1]\n' > in
	run --separate-stderr nedb-put --atomic t < in
	assert_failure 4
	assert_output ""
	assert_equal "$stderr" "nedb-put: line 3: not an object: got array (nothing written)"
	run nedb-log
	assert_equal "${#lines[@]}" 1
}

@test "a stream line without an _id is an error naming the line" {
	run --separate-stderr nedb-put t <<< '{"v":1}'
	assert_failure 4
	assert_equal "$stderr" 'nedb-put: line 1: document has no "_id" member'
}

@test "bad JSON exits 4 with a one-line error and writes nothing" {
	for doc in '{"a":' '{"a":01}' '{"a":nan}' '{"a":.5}' '{"a":+1}' \
	    '{"a":1} x' '"str"' '[1,2]' '42' '' '{"a":infinity}'; do
		run --separate-stderr nedb-put t a "$doc"
		assert_failure 4
		assert_equal "${#stderr_lines[@]}" 1
		assert_output ""
	done
	run nedb-get t a
	assert_failure
}

@test "invalid UTF-8 in a document exits 4" {
	run --separate-stderr nedb-put t a "$(printf '{"a":"\xff"}')"
	assert_failure 4
	assert_equal "$stderr" "nedb-put: invalid UTF-8 at line 1, column 7"
}

@test "bad collection names exit 4" {
	for c in 1abc 'a-b' '' "$(printf 'x%.0s' {1..65})"; do
		run --separate-stderr nedb-put "$c" a '{}'
		assert_failure 4
		assert_output ""
	done
	[ ! -e "$NEDB_DIR" ]
}

@test "bad ids exit 4" {
	run nedb-put t "$(printf 'a\tb')" '{}'
	assert_failure 4
	run nedb-put t "$(printf 'x%.0s' {1..401})" '{}'
	assert_failure 4
	run nedb-put t "$(printf 'x%.0s' {1..400})" '{}'
	assert_success
}

@test "a document over 16 MiB exits 4" {
	head -c 17000000 /dev/zero | tr '\0' 'a' | sed 's/^/{"a":"/;s/$/"}/' > big
	run --separate-stderr nedb-put t a < big
	assert_failure 4
	assert_equal "$stderr" "nedb-put: document too large: more than 16777216 bytes"
}

@test "usage errors exit 2 with a hint" {
	run --separate-stderr nedb-put
	assert_failure 2
	assert_equal "$stderr" "nedb-put: missing collection (see 'nedb-put --help')"
	run --separate-stderr nedb-put --bogus t a '{}'
	assert_failure 2
	assert_equal "$stderr" "nedb-put: unknown option '--bogus' (see 'nedb-put --help')"
	run nedb-put --nonce x t a '{}'
	assert_failure 2
	run nedb-put --durability never t a '{}'
	assert_failure 2
	run nedb-put t a '{}' extra
	assert_failure 2
}

@test "--help prints usage and exits 0; --version prints the version" {
	run nedb-put --help
	assert_success
	assert_line --index 0 'usage: nedb-put [options] COLL ID [DOC]'
	run nedb-put --version
	assert_success
	assert_output --regexp '^nedb-put \(nedb\) [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "-d and --db choose the database over NEDB_DIR" {
	nedb-put -d "$BATS_TEST_TMPDIR/other" t a '{"v":1}'
	run nedb-get --db "$BATS_TEST_TMPDIR/other" t a
	assert_success
	run nedb-get t a
	assert_failure 5
}

@test "every durability mode writes a verifiable log" {
	nedb-put --durability fast t a '{"v":1}'
	nedb-put --durability safe t b '{"v":1}'
	NEDB_DURABILITY=durable nedb-put t c '{"v":1}'
	run nedb-get t a b c
	assert_success
	assert_determinism
}

@test "--pretty indents and --array wraps receipts" {
	run nedb-put --array t a '{"v":1}'
	assert_output --regexp '^\[\{"seq":1,.*\}\]$'
	run nedb-put --pretty t b '{"v":1}'
	assert_line --index 0 '{'
	assert_line --index 1 '  "seq": 2,'
}

@test "a client whose nonces are used up is rejected, not wrapped to 0" {
	nedb-put --client app --nonce 18446744073709551615 t a '{"v":1}'
	run --separate-stderr nedb-put --client app t b '{"v":2}'
	assert_failure 3
	assert_equal "$stderr" "nedb-put: nonces of client 'app' are used up"
	assert_determinism
}

@test "an _id with a NUL character is a bad id, not another document" {
	nedb-put t a '{"v":1}'
	run --separate-stderr nedb-put t <<< '{"_id":"a\u0000b","v":2}'
	assert_failure 4
	assert_equal "$stderr" "nedb-put: line 1: bad id: control character (NUL)"
	run nedb-get t a
	assert_output '{"_id":"a","v":1}'
}

@test "--pretty changes only whitespace, never numbers" {
	nedb-put t a '{"big":12345678901234567890,"f":1.50,"e":[],"o":{}}'
	run nedb-get --pretty t a
	assert_output '{
  "_id": "a",
  "big": 12345678901234567890,
  "f": 1.50,
  "e": [],
  "o": {}
}'
}

@test "an id with a C1 control character (U+0080-U+009F) exits 4 with one line" {
	for c in $'\xc2\x80' $'\xc2\x85' $'\xc2\x9f'; do
		run --separate-stderr nedb-put t "a$c" '{}'
		assert_failure 4
		assert_output ""
		assert_equal "$stderr" "nedb-put: bad id: control character at byte 2"
	done
	run --separate-stderr nedb-put t <<< '{"_id":"a\u0085"}'
	assert_failure 4
	assert_equal "$stderr" "nedb-put: line 1: bad id: control character at byte 2"
	[ ! -e "$NEDB_DIR/log.aof" ] || ! grep -q '"id":"a' "$NEDB_DIR/log.aof"
	# U+00A0 and above are not control characters
	run nedb-put t $'a\xc2\xa0' '{}'
	assert_success
	run nedb-put t $'\xc2\xbfb' '{}'
	assert_success
}

@test "a UTF-8 BOM at the very start of stdin is skipped, as jq does" {
	run --separate-stderr nedb-put -q c < <(printf '\xef\xbb\xbf{"_id":"a"}\n{"_id":"b"}\n')
	assert_success
	assert_equal "$stderr" ""
	printf '\xef\xbb\xbf{"v":1}\n' | nedb-put -q c x
	run nedb-get c a b x
	assert_success
	assert_output '{"_id":"a"}
{"_id":"b"}
{"_id":"x","v":1}'
	# every command that reads stdin through the shared reader
	run nedb-get c < <(printf '\xef\xbb\xbfa\n')
	assert_success
	assert_output '{"_id":"a"}'
	run nedb-query < <(printf '\xef\xbb\xbfFROM c WHERE _id = "b"')
	assert_success
	assert_output '{"_id":"b"}'
}

@test "a BOM anywhere but the start of stdin is still not JSON" {
	run --separate-stderr nedb-put -q c < <(printf '{"_id":"a"}\n\xef\xbb\xbf{"_id":"b"}\n')
	assert_failure 4
	assert_equal "$stderr" "nedb-put: line 2: not JSON: invalid literal at line 1, column 1"
	run --separate-stderr nedb-put -q c y < <(printf '\xef\xbb\xbf\xef\xbb\xbf{}')
	assert_failure 4
}
