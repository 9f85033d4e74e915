#!/usr/bin/env bats
# Redaction (issue 12, SPEC §9; design in doc/redaction.md).  What is
# here: log format 2, the default, in which a put holds its document
# right after "op", then a salt ("ds") padded so that both end at a
# BLAKE2b block boundary of the line's hashed message.  The line is
# hashed whole, as SPEC §3 says; erasing the document and salt keeps
# BLAKE2b's chaining value at that boundary ("mid"), from which the
# hash is finished, so it stays what it was.  Then nedb-redact itself:
# the text gone from every file, every hash, proof and signed checkpoint
# kept, kill -9 at every step, format-1 databases refused.

load helper

# the third party: nedb-format(5)'s own script, with its BLAKE2b,
# taken from the page once for the file
setup_file() {
	python3 "$BATS_TEST_DIRNAME/format-check.py" file \
		"$BATS_TEST_DIRNAME/../man/nedb-format.5" nedb-replay.py \
		>"$BATS_FILE_TMPDIR/replay.py"
}

setup_more() {
	hooks_init
	cp "$BATS_FILE_TMPDIR/replay.py" "$BATS_TEST_TMPDIR/replay.py"
}

teardown() {
	hooks_teardown
}

hash_of() {
	[[ $1 =~ \"hash\":\"([0-9a-f]{64})\" ]] && echo "${BASH_REMATCH[1]}"
}

# A third party's check of a log's chain alone, by nedb-format(5)'s
# rules (a redacted line's hash finished from its mid-state): prints the
# last seq.
third_party_verify() {
	python3 - "$BATS_TEST_TMPDIR" "$1" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import replay
prev = bytes(32)
for n, line in enumerate(open(sys.argv[2], "rb")):
    line = line.rstrip(b"\n")
    h, erased = replay.hash_of(line, prev)
    assert h.hex().encode() == line[-66:-2], n
    prev = h
print(n)
EOF
}

# Erases the document of op seq $1 by hand, as nedb-redact does
# (nedb-format(5)): from after "op":"put" to the tail, the mark of op $2
# with the chaining value there, and spaces.
redact_by_hand() {
	python3 - "$BATS_TEST_TMPDIR" "$NEDB_DIR/log.aof" "$1" "$2" <<'EOF'
import struct, sys
sys.path.insert(0, sys.argv[1])
import replay
path, seq, r = sys.argv[2], int(sys.argv[3]), sys.argv[4].encode()
lines = open(path, "rb").read().split(b"\n")
l = lines[seq]
span, t = l.index(b'"op":"put"') + 10, l.rfind(b',"ts":')
msg = bytes.fromhex(l[l.index(b'"prev":"') + 8:][:64].decode()) + l
h = list(replay.IV)
h[0] ^= 0x01010020
for at in range(0, 32 + t, 128):
    h = replay.b2_compress(h, msg[at:at + 128], at + 128, False)
mark = (b',"redacted":' + r + b',"mid":"'
        + struct.pack("<8Q", *h).hex().encode() + b'"')
lines[seq] = l[:span] + mark + b" " * (t - span - len(mark)) + l[t:]
open(path, "wb").write(b"\n".join(lines))
EOF
}

# Writes op $1's put line again in log format 1 (its document last, no
# salt), as a format-1 database holds it, and the chain after it anew.
to_format1() {
	python3 - "$NEDB_DIR/log.aof" "$1" <<'PY'
import sys
p, seq = sys.argv[1], int(sys.argv[2])
lines = open(p, "rb").read().split(b"\n")
l = lines[seq]
span, t = l.index(b'"op":"put"') + 10, l.rfind(b',"ts":')
doc = l[span:l.rindex(b',"ds":"', 0, t)]
lines[seq] = l[:span] + l[t:-75] + doc + l[-75:]
open(p, "wb").write(b"\n".join(lines))
PY
	python3 "$BATS_TEST_DIRNAME/rechain.py" "$NEDB_DIR" "$1" \
		"\"seq\":$1," "\"seq\":$1,"
}

replay_script() {
	python3 "$BATS_TEST_TMPDIR/replay.py" "$NEDB_DIR/log.aof"
}

@test "a new database is in format 2: meta.json and its genesis say so" {
	nedb-put -q users alice '{"name":"Alice"}'
	run jq -c .format "$NEDB_DIR/meta.json"
	assert_output 2
	run jq -c .format <(head -1 "$NEDB_DIR/log.aof")
	assert_output 2
}

@test "a format-2 put holds its document after op, then ds, its tail at a block boundary" {
	nedb-put -q users alice '{"name":"Alice","ts":"a member of the document"}'
	run sed -n 2p "$NEDB_DIR/log.aof"
	assert_output --regexp '^\{"seq":1,"prev":"[0-9a-f]{64}","op":"put","doc":\{"_id":"alice","name":"Alice","ts":"a member of the document"\},"ds":"[0-9a-f]{32}0*","ts":[0-9]+,"client":"local","nonce":1,"coll":"users","id":"alice","hash":"[0-9a-f]{64}"\}$'
	# 32 bytes of prev, then the body up to the tail: whole blocks, and
	# room for a mark after "op":"put"
	run python3 -c 'import sys
l = open(sys.argv[1], "rb").read().split(b"\n")[1]
t = l.rfind(b",\"ts\":")
print((32 + t) % 128, t - l.index(b"\"op\":\"put\"") - 10 >= 169)' "$NEDB_DIR/log.aof"
	assert_output '0 True'
}

@test "the same document put twice gets two salts" {
	nedb-put -q users alice '{"name":"Alice"}'
	nedb-put -q users alice '{"name":"Alice"}'
	run bash -c "jq -r .ds '$NEDB_DIR/log.aof' | sed 1d | sort -u | wc -l"
	assert_output 2
}

@test "a third party's script verifies a format-2 log, and so does nedb-verify" {
	seed_users 3
	nedb-put -q users u2 '{"n":22,"ds":"a member of the document, not the line","ts":1}'
	nedb-delete users u3 >/dev/null
	nedb-checkpoint >/dev/null
	run third_party_verify "$NEDB_DIR/log.aof"
	assert_success
	assert_output 6
	run --separate-stderr replay_script
	assert_success
	assert_equal "$stderr" "$(nedb-verify)"
	assert_output "$(nedb-query 'FROM users ORDER BY _id')"
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

@test "a changed byte of a format-2 document or of its salt breaks the line's hash" {
	nedb-put -q users alice '{"name":"Alice"}'
	nedb-put -q users bob '{"name":"Bob"}'
	cp "$NEDB_DIR/log.aof" orig
	sed -i '2s/"Alice"/"Alicf"/' "$NEDB_DIR/log.aof"
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":1,"error":"hash mismatch"}'
	cp orig "$NEDB_DIR/log.aof"
	sed -i -E '2s/"ds":"(.)/"ds":"\1\1/; 2s/"ds":"(.{32})./"ds":"\1/' "$NEDB_DIR/log.aof"
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":1,"error":"hash mismatch"}'
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

@test "an encrypted format-2 database seals the document and its salt, and verifies" {
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

@test "a document erased by hand keeps every op hash: the log, the root and an earlier proof still verify" {
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

@test "a document erased by hand, with no redact op naming it, breaks the log at its seq" {
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

@test "an erased document that names another document's redaction breaks the log" {
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
	run grep -c '"ds"' "$NEDB_DIR/log.aof"
	assert_output 0
	run jq -c .format "$NEDB_DIR/meta.json"
	assert_output 1
	rm -rf "$NEDB_DIR"
	nedb-put -q users alice '{"a":1}'
	NEDB_LOG_FORMAT=1 nedb-put -q users bob '{"b":1}'
	run grep -c '"op":"put","doc":' "$NEDB_DIR/log.aof"
	assert_output 2
}

@test "documents with members named ts, ds, redacted or mid are documents, in either format" {
	local f doc='{"ts":1,"ds":"00","redacted":5,"mid":"00000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000","x":"}"}'
	for f in 1 2; do
		rm -rf "$NEDB_DIR"
		NEDB_LOG_FORMAT=$f nedb-put -q users alice "$doc"
		nedb-put -q users bob '{"b":1}'
		run nedb-verify
		assert_success
		run nedb-get users alice
		assert_output "{\"_id\":\"alice\",${doc:1}"
		run nedb-get --history users alice
		assert_output --regexp '"ts":[0-9]{13}\}$'
		run --separate-stderr replay_script
		assert_success
		assert_equal "$stderr" "$(nedb-verify)"
	done
}

@test "a meta.json written again keeps the genesis's format" {
	NEDB_LOG_FORMAT=1 nedb-put -q users alice '{"a":1}'
	rm "$NEDB_DIR/meta.json"
	nedb-put -q users bob '{"b":1}' 2>/dev/null
	run jq -c .format "$NEDB_DIR/meta.json"
	assert_output 1
	run grep -c '"op":"put","ts":' "$NEDB_DIR/log.aof"
	assert_output 2
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
	NEDB_LOG_FORMAT=1 nedb-put -q users alice '{"name":"A"}'
	sum=$(sha256sum "$NEDB_DIR/log.aof")
	run --separate-stderr nedb-redact users alice --all
	assert_failure 5
	assert_equal "$stderr" "nedb-redact: cannot redact in database '$NEDB_DIR': it is in log format 1, whose puts hold their document where it cannot be erased; only a database created in format 2 (the default) can redact"
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
	# seq 2 written again in format 1 (its document last, no salt), with
	# the hash that makes it chain
	to_format1 2
	nedb-checkpoint --rebuild >/dev/null
	run nedb-get users bob
	assert_output '{"_id":"bob","name":"Bob"}'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"a put whose document cannot be erased in a format-2 log"}'
	run --separate-stderr replay_script
	assert_failure 1
	assert_equal "$stderr" "$(nedb-verify)"
}

# A log over 16 MiB is checked in pieces on every core (big_log): the
# redaction rule sees every line of every piece.
@test "the redaction rule holds in any piece of a log checked on every core" {
	big_log
	[ "$(stat -c %s "$NEDB_DIR/log.aof")" -gt $((16 << 20)) ]
	cp "$NEDB_DIR/log.aof" unredacted
	nedb-redact c k40000 --all >/dev/null
	run nedb-verify
	assert_success
	assert_output --partial '"seq":45001,'
	cp "$NEDB_DIR/log.aof" clean
	# an erasure no op names, in each half
	for k in 1234 40000; do
		cp clean "$NEDB_DIR/log.aof"
		redact_by_hand $((k + 2)) 45001
		run nedb-verify
		assert_failure 1
		assert_output "{\"ok\":false,\"seq\":$((k + 2)),\"error\":\"text erased, but op 45001 is not a redact op naming this one\"}"
	done
	# a format-1 put late in the log (its document last, no salt), the
	# chain rewritten around it and the view rebuilt
	cp unredacted "$NEDB_DIR/log.aof"
	to_format1 44000
	nedb-checkpoint --rebuild >/dev/null
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":44000,"error":"a put whose document cannot be erased in a format-2 log"}'
}

@test "nedb-log prints a redacted line compactly, --raw as stored" {
	two_versions
	nedb-redact users alice --seq 1 >/dev/null
	run nedb-log --since 1 --until 1
	assert_output --regexp '^\{"seq":1,"prev":"[0-9a-f]{64}","op":"put","redacted":5,"mid":"[0-9a-f]{128}","ts":[0-9]+,.*,"hash":"[0-9a-f]{64}"\}$'
	printf '%s\n' "$output" | jq -e . >/dev/null
	run nedb-log --raw --since 1 --until 1
	assert_output "$(sed -n 2p "$NEDB_DIR/log.aof")"
	assert_output --regexp '"redacted":5,"mid":"[0-9a-f]{128}" +,"ts":'
	run third_party_verify "$NEDB_DIR/log.aof"
	assert_success
}

@test "a redaction mark is exactly ,\"redacted\":R,\"mid\":\"M\" and spaces up to the tail: anything else is malformed" {
	local m
	local mid=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
	for m in ",\"redacted\":0,\"mid\":\"$mid\"" ",\"redacted\":05,\"mid\":\"$mid\"" \
		",\"redacted\":5x,\"mid\":\"$mid\"" ",\"redacted\": 5,\"mid\":\"$mid\"" \
		",\"redacted\":5,\"mid\":\"${mid:1}\"" ",\"redacted\":5,\"mid\":\"${mid^^}\"" \
		",\"redacted\":5" ",\"redacted\":5,\"mid\":\"$mid\"x" \
		"SHORT,\"redacted\":5,\"mid\":\"$mid\""; do
		# the same two puts each time: made once, copied
		if [ ! -d two ]; then
			nedb-put -q users alice '{"name":"SecretAlice"}'
			nedb-put -q users bob '{"name":"Bob"}'
			cp -a "$NEDB_DIR" two
		fi
		rm -rf "$NEDB_DIR"
		cp -a two "$NEDB_DIR"
		python3 - "$NEDB_DIR/log.aof" "$m" <<'PY'
import sys
p, m = sys.argv[1], sys.argv[2].encode()
lines = open(p, "rb").read().split(b"\n")
l = lines[1]
span, t = l.index(b'"op":"put"') + 10, l.rfind(b',"ts":')
if m.startswith(b"SHORT"):	# the spaces end a byte before the tail
    m, t = m[5:], t - 1
lines[1] = l[:span] + m + b" " * (t - span - len(m)) + l[t:]
open(p, "wb").write(b"\n".join(lines))
PY
		run nedb-verify
		assert_failure 1
		assert_output '{"ok":false,"seq":1,"error":"malformed redaction mark"}'
		run --separate-stderr replay_script
		assert_failure 1
		assert_equal "$m: $stderr" "$m: $(nedb-verify)"
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
