#!/usr/bin/env bats
# Redaction (issue 12, SPEC §9; design in doc/redaction.md).  What is
# here: log format 2, in which a put commits to its document through
# "dh" = BLAKE2b(salt ‖ text) with the salt ("ds") and the text in an
# unhashed tail, so that the text can go and every hash stay.  Format 2
# is opt-in on this branch (NEDB_LOG_FORMAT=2 when a database is
# created; doc/redaction.md §9).  Then nedb-redact itself: the text gone
# from every file, every hash, proof and signed checkpoint kept, kill -9
# at every step, format-1 databases refused.

load helper

setup_more() {
	export NEDB_LOG_FORMAT=2
	hooks_init
}

teardown() {
	hooks_teardown
}

hash_of() {
	[[ $1 =~ \"hash\":\"([0-9a-f]{64})\" ]] && echo "${BASH_REMATCH[1]}"
}

# A third party's check of a log, as nedb-format(5) describes it: every
# line's hash from its body (format 2: cut after "dh"), and every
# format-2 document against its dh.
third_party_verify() {
	python3 - "$1" <<'EOF'
import hashlib, json, re, sys
prev = bytes(32)
for n, line in enumerate(open(sys.argv[1], "rb")):
    line = line.rstrip(b"\n")
    assert line[-75:-66] == b',"hash":"' and line.endswith(b'"}'), n
    h = line[-66:-2].decode()
    body = line[:-75] + b"}"
    doc_at = body.find(b',"doc":')
    dh_at = body.find(b',"dh":"', 0, doc_at if doc_at >= 0 else len(body))
    if dh_at >= 0:
        end = dh_at + 7 + 65
        tail, body = body[end:-1], body[:end] + b"}"
        dh = bytes.fromhex(body[dh_at + 7:dh_at + 71].decode())
        if tail.startswith(b',"ds":"'):
            salt, doc = bytes.fromhex(tail[7:39].decode()), tail[47:]
            assert hashlib.blake2b(salt + doc, digest_size=32).digest() == dh, n
        else:
            assert re.fullmatch(rb',"redacted":[1-9][0-9]* *', tail), n
    assert hashlib.blake2b(prev + body, digest_size=32).hexdigest() == h, n
    assert json.loads(line)["seq"] == n, n
    prev = bytes.fromhex(h)
print(n)
EOF
}

# Erases the document of op seq $1 by hand, as nedb-redact's rewrite
# will (doc/redaction.md §2): the tail becomes ,"redacted":$2 and spaces
# up to its old length.
redact_by_hand() {
	python3 - "$NEDB_DIR/log.aof" "$1" "$2" <<'EOF'
import sys
path, seq, r = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
lines = open(path, "rb").read().split(b"\n")
l = lines[seq]
a, b = l.index(b',"ds":"'), len(l) - 75
t = b',"redacted":' + r
lines[seq] = l[:a] + t + b" " * (b - a - len(t)) + l[b:]
open(path, "wb").write(b"\n".join(lines))
EOF
}

@test "a database created with NEDB_LOG_FORMAT=2 says format 2 in meta.json and its genesis" {
	nedb-put -q users alice '{"name":"Alice"}'
	run jq -c .format "$NEDB_DIR/meta.json"
	assert_output 2
	run jq -c .format <(head -1 "$NEDB_DIR/log.aof")
	assert_output 2
}

@test "a format-2 put line holds dh, then ds and doc after it, doc last" {
	nedb-put -q users alice '{"name":"Alice"}'
	run sed -n 2p "$NEDB_DIR/log.aof"
	assert_output --regexp ',"id":"alice","dh":"[0-9a-f]{64}","ds":"[0-9a-f]{32}","doc":\{"_id":"alice","name":"Alice"\},"hash":"[0-9a-f]{64}"\}$'
}

@test "the same document put twice gets two salts and two dh" {
	nedb-put -q users alice '{"name":"Alice"}'
	nedb-put -q users alice '{"name":"Alice"}'
	run bash -c "jq -r .dh '$NEDB_DIR/log.aof' | sed 1d | sort -u | wc -l"
	assert_output 2
}

@test "a third party's script verifies a format-2 log, and so does nedb-verify" {
	seed_users 3
	nedb-put -q users u2 '{"n":22,"dh":"a member of the document, not the line"}'
	nedb-delete users u3 >/dev/null
	nedb-checkpoint >/dev/null
	run third_party_verify "$NEDB_DIR/log.aof"
	assert_success
	assert_output 6
	run nedb-verify
	assert_success
	assert_determinism
}

@test "reads, AS OF, --verify and --history work on a format-2 database" {
	nedb-put -q users alice '{"name":"Alice"}'
	nedb-put -q users alice '{"name":"Alice B."}'
	run nedb-get users alice
	assert_output '{"_id":"alice","name":"Alice B."}'
	run nedb-get --verify --as-of 1 users alice
	assert_output '{"_id":"alice","name":"Alice"}'
	run nedb-query 'FROM users AS OF 1 WHERE name = "Alice"'
	assert_output '{"_id":"alice","name":"Alice"}'
	run nedb-get --history users alice
	assert_line --index 0 --partial '"doc":{"_id":"alice","name":"Alice"}'
}

@test "a changed byte of a format-2 document is reported against its dh" {
	nedb-put -q users alice '{"name":"Alice"}'
	nedb-put -q users bob '{"name":"Bob"}'
	sed -i '2s/"Alice"/"Alicf"/' "$NEDB_DIR/log.aof"
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":1,"error":"document does not match its hash (dh)"}'
}

@test "a changed salt of a format-2 document is reported against its dh" {
	nedb-put -q users alice '{"name":"Alice"}'
	nedb-put -q users bob '{"name":"Bob"}'
	sed -i -E '2s/"ds":"(.)/"ds":"\1\1/; 2s/"ds":"(.{32})./"ds":"\1/' "$NEDB_DIR/log.aof"
	run nedb-verify
	assert_failure 1
	assert_output --partial '"seq":1,"error":"'
}

@test "a format-2 tail that is neither a document nor a redaction is malformed" {
	nedb-put -q users alice '{"name":"Alice"}'
	nedb-put -q users bob '{"name":"Bob"}'
	sed -i '2s/,"ds":"/,"dz":"/' "$NEDB_DIR/log.aof"
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":1,"error":"malformed document commitment"}'
}

@test "a format-2 database survives a prune, a rebuild and a proof" {
	seed_users 4
	nedb-checkpoint --prune >/dev/null
	nedb-put -q users u5 '{"n":5}'
	run nedb-checkpoint --rebuild
	assert_success
	run nedb-get --as-of 2 users u2
	assert_output '{"_id":"u2","n":2}'
	nedb-proof inclusion 2 >incl.json
	run nedb-proof verify -q --root "$(nedb-proof root | jq -r .root)" incl.json
	assert_success
	run nedb-verify
	assert_success
	assert_determinism
}

@test "an encrypted format-2 database seals dh, ds and doc, and verifies" {
	python3 -c 'import os; print(os.urandom(32).hex())' >k1
	export NEDB_TMK_FILE=$PWD/k1
	nedb-put -q users alice '{"name":"CanaryAlice"}'
	nedb-put -q users alice '{"name":"Alice 2"}'
	run grep -rl CanaryAlice "$NEDB_DIR"
	assert_failure
	run nedb-get --as-of 1 users alice
	assert_output '{"_id":"alice","name":"CanaryAlice"}'
	run nedb-verify
	assert_success
	assert_determinism
}

@test "a redacted tail keeps every op hash: the log, the root and an earlier proof still verify" {
	nedb-put -q users alice '{"name":"SecretAlice"}'
	nedb-put -q users alice '{"name":"Alice B."}'
	nedb-put -q users bob '{"name":"Bob"}'
	nedb-proof inclusion 1 >incl.json
	root=$(nedb-proof root | jq -r .root)
	head=$(nedb-verify | jq -r .head)
	redact_by_hand 1 9
	run grep -c SecretAlice "$NEDB_DIR/log.aof"
	assert_output 0
	run third_party_verify "$NEDB_DIR/log.aof"
	assert_success
	nedb-checkpoint --rebuild >/dev/null
	run nedb-proof root --size 4
	assert_output "{\"size\":4,\"root\":\"$root\"}"
	run nedb-proof verify -q --root "$root" incl.json
	assert_success
	run nedb-log --until 3
	assert_line --index 3 --partial "\"hash\":\"$head\""
}

@test "a redacted version reads as its marker, in AS OF, --history and --verify" {
	nedb-put -q users alice '{"name":"SecretAlice"}'
	nedb-put -q users alice '{"name":"Alice B."}'
	redact_by_hand 1 9
	nedb-checkpoint --rebuild >/dev/null
	run nedb-get --as-of 1 users alice
	assert_output '{"_id":"alice","_redacted":{"seq":9}}'
	run nedb-get --verify --as-of 1 users alice
	assert_output '{"_id":"alice","_redacted":{"seq":9}}'
	run nedb-get --history users alice
	assert_line --index 0 --partial '"doc":{"_id":"alice","_redacted":{"seq":9}}'
	run nedb-get users alice
	assert_output '{"_id":"alice","name":"Alice B."}'
}

@test "a rebuild of a redacted HEAD version serves the marker" {
	nedb-put -q users alice '{"name":"SecretAlice"}'
	redact_by_hand 1 9
	nedb-checkpoint --rebuild >/dev/null
	run nedb-get users alice
	assert_output '{"_id":"alice","_redacted":{"seq":9}}'
}

@test "a format-2 checkpoint's state leaves document text out, so a redaction keeps it" {
	nedb-put -q users alice '{"name":"SecretAlice"}'
	nedb-checkpoint >/dev/null
	nedb-redact users alice --all >/dev/null
	run nedb-checkpoint --rebuild
	assert_success
	assert_determinism
}

@test "a tail erased by hand, with no redact op naming it, breaks the log at its seq" {
	nedb-put -q users alice '{"name":"SecretAlice"}'
	nedb-put -q users bob '{"name":"Bob"}'
	redact_by_hand 1 2
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":1,"error":"text erased, but op 2 is not a redact op naming this one"}'
}

@test "a redact op whose version still holds its text breaks the log at the op" {
	nedb-put -q users alice '{"name":"SecretAlice"}'
	nedb-put -q users alice '{"name":"Alice 2"}'
	cp "$NEDB_DIR/log.aof" before
	nedb-redact users alice --seq 1 >/dev/null
	# the text put back: the line keeps its length, so nothing else moves
	python3 -c '
import sys
a = open("before", "rb").read().split(b"\n")
b = open(sys.argv[1], "rb").read().split(b"\n")
b[1] = a[1]
open(sys.argv[1], "wb").write(b"\n".join(b))' "$NEDB_DIR/log.aof"
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":3,"error":"redact op names seq 1, whose text is not erased by it"}'
}

@test "an erased tail that names another document's redaction breaks the log" {
	nedb-put -q users alice '{"name":"SecretAlice"}'
	nedb-put -q users bob '{"name":"SecretBob"}'
	nedb-redact users bob --all >/dev/null
	redact_by_hand 1 3
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":1,"error":"text erased, but op 3 is not a redact op naming this one"}'
}

@test "NEDB_LOG_FORMAT other than 1 or 2 is refused when a database is created" {
	NEDB_LOG_FORMAT=3 run --separate-stderr nedb-put users alice '{}'
	assert_failure 2
	assert_equal "$stderr" "nedb-put: cannot create database '$NEDB_DIR': NEDB_LOG_FORMAT is '3', not 1 or 2"
}

@test "NEDB_LOG_FORMAT does not change an existing database's format" {
	NEDB_LOG_FORMAT=1 nedb-put -q users alice '{"a":1}'
	nedb-put -q users bob '{"b":1}'
	run grep -c '"dh"' "$NEDB_DIR/log.aof"
	assert_output 0
	run jq -c .format "$NEDB_DIR/meta.json"
	assert_output 1
}

@test "a format-1 document with a member named dh is not taken for a commitment" {
	unset NEDB_LOG_FORMAT
	nedb-put -q users alice '{"dh":"0000000000000000000000000000000000000000000000000000000000000000","ds":"00"}'
	run nedb-verify
	assert_success
	run nedb-get users alice
	assert_output --partial '"dh":"0000'
}

@test "a meta.json written again keeps the genesis's format" {
	nedb-put -q users alice '{"a":1}'
	rm "$NEDB_DIR/meta.json"
	unset NEDB_LOG_FORMAT
	nedb-put -q users bob '{"b":1}' 2>/dev/null
	run jq -c .format "$NEDB_DIR/meta.json"
	assert_output 2
	run grep -c '"id":"bob","dh":"' "$NEDB_DIR/log.aof"
	assert_output 1
}

# --- nedb-redact ---

# Every file of the database, the view's pages (free ones included) and
# the archive's inflated blocks, searched for each of the words given
# (as they are, and in hex): prints the first file holding one, and
# fails, if any does.
no_trace() {
	python3 - "$NEDB_DIR" "$@" <<'PY'
import os, sys, zlib
root, words = sys.argv[1], [w.encode() for w in sys.argv[2:]]
for d, _, files in os.walk(root):
    for f in files:
        data = open(os.path.join(d, f), "rb").read()
        texts = [data]
        for i in range(len(data)):	# every zlib stream in it
            if data[i] == 0x78:
                try:
                    texts.append(zlib.decompressobj().decompress(data[i:]))
                except zlib.error:
                    pass
        for t in texts:
            for w in words:
                if w in t or w.hex().encode() in t:
                    print(os.path.join(d, f), w.decode())
                    sys.exit(1)
PY
}

# alice with two versions (seq 1, 3), an index on name, bob beside her.
two_versions() {
	nedb-put -q users alice '{"name":"SecretAliceOne","city":"Lyon"}'
	nedb-index users name eq >/dev/null
	nedb-put -q users alice '{"name":"SecretAliceTwo","city":"Lyon"}'
	nedb-put -q users bob '{"name":"Bob","city":"Lyon"}'
}

@test "nedb-redact --seq erases one version: no byte of it in any file, the other version intact" {
	two_versions
	run --separate-stderr nedb-redact users alice --seq 1 --reason "erasure request 7"
	assert_success
	assert_output --regexp '^\{"seq":5,"hash":"[0-9a-f]{64}","op":"redact","coll":"users","id":"alice"\}$'
	run no_trace SecretAliceOne
	assert_success
	run nedb-get --as-of 1 users alice
	assert_output '{"_id":"alice","_redacted":{"seq":5}}'
	run nedb-get users alice
	assert_output '{"_id":"alice","name":"SecretAliceTwo","city":"Lyon"}'
	run tail -1 "$NEDB_DIR/log.aof"
	assert_output --partial '"op":"redact","ts":'
	assert_output --partial '"coll":"users","id":"alice","seqs":[1],"reason":"erasure request 7","hash":"'
	run nedb-verify
	assert_success
	assert_determinism
}

@test "nedb-redact --all erases every version, the HEAD one and its index entries too" {
	two_versions
	run nedb-redact users alice --all
	assert_success
	run no_trace SecretAliceOne SecretAliceTwo
	assert_success
	run nedb-get users alice
	assert_output '{"_id":"alice","_redacted":{"seq":5}}'
	run nedb-query 'FROM users WHERE name = "SecretAliceTwo"'
	assert_output ''
	run nedb-query 'FROM users WHERE city = "Lyon" ORDER BY _id'
	assert_line --index 0 '{"_id":"bob","name":"Bob","city":"Lyon"}'
	run grep -c '"seqs":\[1,3\]' "$NEDB_DIR/log.aof"
	assert_output 1
	assert_determinism
}

@test "after nedb-redact every op hash, the root, earlier proofs and the head before it are unchanged" {
	two_versions
	nedb-proof inclusion 1 >incl.json
	nedb-proof consistency 2 5 >cons.json
	root=$(nedb-proof root | jq -r .root)
	before=$(nedb-log | jq -r .hash)
	nedb-redact users alice --all >/dev/null
	run nedb-proof verify -q --root "$root" incl.json
	assert_success
	run nedb-proof verify -q --root "$root" cons.json
	assert_success
	run nedb-proof root --size 5
	assert_output "{\"size\":5,\"root\":\"$root\"}"
	assert_equal "$(nedb-log --until 4 | jq -r .hash)" "$before"
	run third_party_verify "$NEDB_DIR/log.aof"
	assert_success
}

@test "a signed checkpoint made before nedb-redact still verifies, with a proof made before" {
	nedb-key signer new log.example/a --out log.key >log.vk
	two_versions
	nedb-checkpoint --sign log.key >/dev/null
	nedb-proof checkpoint >cp
	nedb-proof inclusion 1 --size 6 >incl.json
	nedb-redact users alice --all >/dev/null
	run nedb-proof verify -q --checkpoint cp --vkey "$(cat log.vk)" incl.json
	assert_success
	run nedb-proof checkpoint
	assert_output "$(cat cp)"
	run nedb-checkpoint --rebuild
	assert_success
	assert_determinism
}

@test "nedb-redact reaches pruned ops in the archive" {
	two_versions
	nedb-checkpoint --prune >/dev/null
	nedb-put -q users carol '{"name":"Carol"}'
	run nedb-redact users alice --seq 3
	assert_success
	run no_trace SecretAliceTwo
	assert_success
	run nedb-get --as-of 3 users alice
	assert_output '{"_id":"alice","_redacted":{"seq":7}}'
	run nedb-get --as-of 1 users alice
	assert_output '{"_id":"alice","name":"SecretAliceOne","city":"Lyon"}'
	run nedb-verify
	assert_success
	assert_determinism
}

@test "nedb-redact on an encrypted database re-seals the lines without the text" {
	python3 -c 'import os; print(os.urandom(32).hex())' >k1
	export NEDB_TMK_FILE=$PWD/k1
	two_versions
	nedb-checkpoint --prune >/dev/null
	head=$(nedb-verify | jq -r .head)
	run nedb-redact users alice --all
	assert_success
	run nedb-get --as-of 1 users alice
	assert_output '{"_id":"alice","_redacted":{"seq":6}}'
	run nedb-log --until 5
	assert_line --index 5 --partial "\"hash\":\"$head\""
	run nedb-verify
	assert_success
	assert_determinism
}

@test "nedb-redact's errors: usage 2, no such version 1, redacted already 3, bad name 4" {
	two_versions
	run -2 nedb-redact users alice
	run -2 nedb-redact users alice --all --seq 1
	run -2 nedb-redact users
	run -1 nedb-redact users carol --all
	run -1 nedb-redact users alice --seq 2
	run -0 nedb-redact users alice --seq 1
	run --separate-stderr nedb-redact users alice --seq 1
	assert_failure 3
	assert_equal "$stderr" "nedb-redact: version 1 of 'users/alice' is redacted already"
	run -0 nedb-redact users alice --all
	run -3 nedb-redact users alice --all
	run -4 nedb-redact 'bad coll' alice --all
	assert_determinism
}

@test "a repeated --idem of nedb-redact prints the original receipt and erases nothing more" {
	two_versions
	run -0 nedb-redact --idem r1 users alice --seq 1
	first=$output
	nedb-put -q users alice '{"name":"SecretAliceThree"}'
	run -0 nedb-redact --idem r1 users alice --all
	assert_output "$first"
	run nedb-get users alice
	assert_output '{"_id":"alice","name":"SecretAliceThree"}'
}

@test "nedb-redact on a format-1 database exits 5 saying it cannot redact, and writes nothing" {
	unset NEDB_LOG_FORMAT
	nedb-put -q users alice '{"name":"A"}'
	sum=$(sha256sum "$NEDB_DIR/log.aof")
	run --separate-stderr nedb-redact users alice --all
	assert_failure 5
	assert_equal "$stderr" "nedb-redact: cannot redact in database '$NEDB_DIR': it is in log format 1, whose ops commit to document text itself; only a database created in format 2 (NEDB_LOG_FORMAT=2) can redact"
	assert_equal "$(sha256sum "$NEDB_DIR/log.aof")" "$sum"
	[ ! -e "$NEDB_DIR/.redact" ]
}

kill_redaction_at() {
	NEDB_TEST_PAUSE=$1 NEDB_TEST_DIR=$HOOKS \
		nedb-redact users alice --all >/dev/null 2>&1 &
	PIDS+=($!)
	wait_reached "$1"
	kill -9 "$!"
	wait "$!" || true
}

@test "killed before its commit, a redaction leaves the database as it was" {
	local point
	for point in redact-copied redact-staged; do
		rm -rf "$NEDB_DIR" "$HOOKS"/*
		two_versions
		nedb-checkpoint --prune >/dev/null
		head=$(nedb-verify | jq -r .head)
		sums=$(cd "$NEDB_DIR" && sha256sum log.aof archive/*)
		kill_redaction_at "$point"
		[ -d "$NEDB_DIR/.redact" ]
		run -0 nedb-verify --determinism
		assert_output --partial "\"head\":\"$head\""
		[ ! -e "$NEDB_DIR/.redact" ]
		assert_equal "$(cd "$NEDB_DIR" && sha256sum log.aof archive/*)" "$sums"
		run nedb-get users alice
		assert_output '{"_id":"alice","name":"SecretAliceTwo","city":"Lyon"}'
		# and a second try goes through
		run -0 nedb-redact users alice --all
		run no_trace SecretAliceOne SecretAliceTwo
		assert_success
	done
}

@test "killed after its commit, a redaction is finished by the next open" {
	local point
	for point in redact-committed redact-rolling; do
		rm -rf "$NEDB_DIR" "$HOOKS"/*
		two_versions
		nedb-checkpoint --prune >/dev/null
		kill_redaction_at "$point"
		run -0 nedb-verify --determinism
		assert_output --partial '"seq":6,'
		[ ! -e "$NEDB_DIR/.redact" ]
		run nedb-get users alice
		assert_output '{"_id":"alice","_redacted":{"seq":6}}'
		run no_trace SecretAliceOne SecretAliceTwo
		assert_success
	done
}

@test "nedb-redact refuses, changing nothing, while another process has the database open" {
	two_versions
	NEDB_TEST_PAUSE=opened NEDB_TEST_DIR=$HOOKS nedb-get users bob >/dev/null 2>&1 &
	PIDS+=($!)
	wait_reached opened
	sum=$(sha256sum "$NEDB_DIR/log.aof")
	run --separate-stderr nedb-redact users alice --all
	assert_failure 5
	assert_equal "$stderr" "nedb-redact: cannot redact: other processes have the database open"
	assert_equal "$(sha256sum "$NEDB_DIR/log.aof")" "$sum"
	[ ! -e "$NEDB_DIR/.redact" ]
	touch "$HOOKS/opened.go"
	wait "${PIDS[0]}"
	run -0 nedb-redact users alice --all
}

@test "nedb-format(5)'s script verifies and replays a format-2 log with redactions as nedb does" {
	python3 "$BATS_TEST_DIRNAME/format-check.py" file \
		"$BATS_TEST_DIRNAME/../man/nedb-format.5" nedb-replay.py >replay.py
	two_versions
	nedb-checkpoint >/dev/null
	nedb-redact users alice --seq 1 --reason why >/dev/null
	nedb-put -q users carol '{"name":"SecretCarol"}'
	nedb-redact users carol --all >/dev/null
	nedb-checkpoint >/dev/null
	run --separate-stderr python3 replay.py "$NEDB_DIR/log.aof"
	assert_success
	assert_equal "$stderr" "$(nedb-verify)"
	assert_output "$(nedb-query 'FROM users ORDER BY _id')"
	assert_line '{"_id":"carol","_redacted":{"seq":8}}'
	# and it holds erased tails to the redact ops as nedb-verify does
	redact_by_hand 3 9
	run --separate-stderr python3 replay.py "$NEDB_DIR/log.aof"
	assert_failure 1
	assert_equal "$stderr" "$(nedb-verify)"
}

@test "a format-1 put line in a format-2 log is reported, though its hash holds" {
	nedb-put -q users alice '{"name":"Alice"}'
	nedb-put -q users bob '{"name":"Bob"}'
	# seq 2 written again in format 1, with the hash that makes it chain
	python3 - "$NEDB_DIR/log.aof" <<'PY'
import hashlib, sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")
l = lines[2]
a, b = l.index(b',"dh":"'), l.index(b',"doc":')
body = l[:a] + l[b:-75] + b"}"
prev = bytes.fromhex(l[l.index(b'"prev":"') + 8:][:64].decode())
h = hashlib.blake2b(prev + body, digest_size=32).hexdigest().encode()
lines[2] = body[:-1] + b',"hash":"' + h + b'"}'
open(p, "wb").write(b"\n".join(lines))
PY
	nedb-checkpoint --rebuild >/dev/null
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"a put without a document commitment (dh) in a format-2 log"}'
}

@test "nedb-log prints a redacted line compactly, --raw as stored, and both check" {
	two_versions
	nedb-redact users alice --seq 1 >/dev/null
	run nedb-log --since 1 --until 1
	assert_output --regexp '"dh":"[0-9a-f]{64}","redacted":5,"hash":"[0-9a-f]{64}"\}$'
	printf '%s\n' "$output" | jq -e . >/dev/null
	run nedb-log --raw --since 1 --until 1
	assert_output "$(sed -n 2p "$NEDB_DIR/log.aof")"
	assert_output --regexp '"redacted":5 +,"hash":'
	# the compact line hashes as the stored one (the spaces are unhashed)
	{ head -1 "$NEDB_DIR/log.aof"; nedb-log --since 1 --until 1; } >compact
	run third_party_verify compact
	assert_success
}

@test "an erased tail is exactly ,\"redacted\":R and spaces: anything else is malformed" {
	local tail
	for tail in ',"redacted":0' ',"redacted":05' ',"redacted":5x' \
		',"redacted": 5' ',"redacted":' ' ,"redacted":5'; do
		rm -rf "$NEDB_DIR"
		nedb-put -q users alice '{"name":"SecretAlice"}'
		nedb-put -q users bob '{"name":"Bob"}'
		python3 - "$NEDB_DIR/log.aof" "$tail" <<'PY'
import sys
p, t = sys.argv[1], sys.argv[2].encode()
lines = open(p, "rb").read().split(b"\n")
l = lines[1]
a, b = l.index(b',"ds":"'), len(l) - 75
lines[1] = l[:a] + t + b" " * (b - a - len(t)) + l[b:]
open(p, "wb").write(b"\n".join(lines))
PY
		run nedb-verify
		assert_failure 1
		assert_output '{"ok":false,"seq":1,"error":"malformed document commitment"}'
	done
}

@test "nedb-diff shows a redacted version as its marker, never its text" {
	two_versions
	nedb-redact users alice --seq 1 >/dev/null
	run --separate-stderr nedb-diff 0 1 users
	assert_success
	assert_output '{"coll":"users","id":"alice","change":"added","before":null,"after":{"_id":"alice","_redacted":{"seq":5}}}'
	run --separate-stderr nedb-diff 1 3 users
	assert_success
	assert_output '{"coll":"users","id":"alice","change":"changed","before":{"_id":"alice","_redacted":{"seq":5}},"after":{"_id":"alice","name":"SecretAliceTwo","city":"Lyon"}}'
	refute_output --partial SecretAliceOne
}
