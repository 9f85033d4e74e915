#!/usr/bin/env bats
# Encryption at rest (issue 11, SPEC §8): the sealed log, its archives,
# the third party's recipe, tampering, and encrypting a plaintext
# database in place (crash-safe).  Keys and nedb-key: key.bats; the
# view's layout and queries on twins: crypt-view.bats.

load helper

CANARIES=(canary-id-7731 CanaryColl CanaryField canary-eq-value
	canary-ordered-value canary-token-word canary-nested-deep)

setup_more() {
	hooks_init
	# a random 256-bit key, 64 hex digits
	{ od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; echo; } >"$BATS_TEST_TMPDIR/k1"
	K1=$BATS_TEST_TMPDIR/k1
	LIB=$BATS_TEST_DIRNAME/lib-crypt
}

teardown() {
	hooks_teardown
}

# The same writes on any database: every canary in a place of its own.
fill() {
	nedb-put -q CanaryColl canary-id-7731 \
		'{"CanaryField":"canary-eq-value","o":"canary-ordered-value","t":"one canary-token-word two","n":{"deep":["canary-nested-deep"]}}'
	nedb-index CanaryColl CanaryField eq >/dev/null
	nedb-index CanaryColl o ordered >/dev/null
	nedb-index CanaryColl t search >/dev/null
	for i in 1 2 3; do
		nedb-put -q CanaryColl "d$i" "{\"o\":\"v$i\",\"long\":\"$(printf 'x%.0s' {1..3000})\"}"
	done
	nedb-link CanaryColl:canary-id-7731 knows CanaryColl:d1 >/dev/null
}

@test "no file of an encrypted database holds a canary in any form, after a checkpoint, a prune and a rebuild" {
	export NEDB_TMK_FILE=$K1
	fill
	nedb-checkpoint --prune >/dev/null
	nedb-put -q CanaryColl after-prune '{"CanaryField":"canary-eq-value"}'
	[ -f "$NEDB_DIR/key.enc" ]
	run grep -cv '^{"enc":1,"ct":"[A-Za-z0-9+/]*=*"}$' "$NEDB_DIR/log.aof"
	assert_output 0
	run python3 "$LIB/canaries.py" "$NEDB_DIR" "${CANARIES[@]}"
	assert_success
	assert_output ''
	nedb-checkpoint --rebuild >/dev/null
	nedb-query 'FROM CanaryColl WHERE o >= "canary" ORDER BY o LIMIT 2' >/dev/null
	run python3 "$LIB/canaries.py" "$NEDB_DIR" "${CANARIES[@]}"
	assert_success
	assert_output ''
	# the same writes on a plaintext twin: the checker finds them there
	unset NEDB_TMK_FILE
	NEDB_DIR=$BATS_TEST_TMPDIR/plain
	fill
	nedb-checkpoint --prune >/dev/null
	nedb-put -q CanaryColl after-prune '{"CanaryField":"canary-eq-value"}'
	run python3 "$LIB/canaries.py" "$NEDB_DIR" "${CANARIES[@]}"
	assert_failure 1
	assert_output --partial 'log.aof: canary-eq-value (raw)'
	assert_output --partial '.seg: canary-nested-deep (raw)'
	assert_output --partial 'view.mdb: canary-ordered-value (raw)'
}

@test "a stream on an encrypted database: every op salted afresh, sealed, and right after another writer moved the chain" {
	# the reader formats, salts and hashes each put ahead (nedb.h); a
	# put of another process between two batches makes its guesses
	# wrong, and the writer must salt and format them afresh
	export NEDB_TMK_FILE=$K1
	stream_around_a_put
	run sed -n '51p;300p' receipts
	assert_line --index 0 --partial '"seq":52,'
	assert_line --index 1 --partial '"seq":301,'
	run nedb-get t a1 a51 a300
	assert_success
	# every op of the stream has a salt of its own, and no line of the
	# log is plaintext
	run sh -c 'nedb-log | jq -r "select(.op == \"put\") | .salt" | sort -u | grep -c "^[0-9a-f]\{32\}$"'
	assert_output 301
	run grep -cv '^{"enc":1,"ct":"[A-Za-z0-9+/]*=*"}$' "$NEDB_DIR/log.aof"
	assert_output 0
	run grep -c a300 "$NEDB_DIR/log.aof"
	assert_output 0
	run nedb-verify
	assert_success
	assert_determinism
}

@test "a third party decrypts and checks the log by nedb-format(5)'s recipe" {
	export NEDB_TMK_FILE=$K1
	fill
	nedb-checkpoint --prune >/dev/null
	nedb-delete -q CanaryColl d2
	run -0 python3 "$LIB/decrypt-log.py" "$NEDB_DIR" "$K1"
	[ -n "$output" ]
	assert_equal "$output" "$(nedb-log)"
	# every op written encrypted carries a salt of 32 hex digits
	run -0 jq -s 'all(.[]; .salt | test("^[0-9a-f]{32}$"))' <<<"$output"
	assert_output true
}

@test "what libcrypto's provider functions seal, EVP opens, and the other way round" {
	export NEDB_TMK_FILE=$K1
	fill
	want=$(nedb-query 'FROM CanaryColl ORDER BY o')
	# NEDB_TEST_FAIL=provider: every seal and open through EVP (aead.c)
	run -0 env NEDB_TEST_FAIL=provider nedb-query 'FROM CanaryColl ORDER BY o'
	assert_output "$want"
	NEDB_TEST_FAIL=provider nedb-put -q CanaryColl evp '{"o":"v9"}'
	NEDB_TEST_FAIL=provider nedb-index CanaryColl e eq >/dev/null
	run -0 nedb-get CanaryColl evp
	assert_output '{"_id":"evp","o":"v9"}'
	run -0 nedb-verify
	run -0 env NEDB_TEST_FAIL=provider nedb-verify
	assert_equal "$(nedb-log)" "$(NEDB_TEST_FAIL=provider nedb-log)"
	run -0 python3 "$LIB/decrypt-log.py" "$NEDB_DIR" "$K1"
	assert_equal "$output" "$(nedb-log)"
}

@test "nedb-log --raw prints the lines as stored, each checked" {
	export NEDB_TMK_FILE=$K1
	fill
	run -0 nedb-log --raw
	assert_equal "$output" "$(cat "$NEDB_DIR/log.aof")"
	run -0 nedb-log --raw --reverse -n 1
	assert_equal "$output" "$(tail -n 1 "$NEDB_DIR/log.aof")"
	# a plaintext database's stored lines are its lines
	unset NEDB_TMK_FILE
	NEDB_DIR=$BATS_TEST_TMPDIR/plain
	fill
	assert_equal "$(nedb-log --raw)" "$(nedb-log)"
}

@test "a changed byte of a sealed line: verify names its seq, reads of it refuse, no wrong document" {
	export NEDB_TMK_FILE=$K1
	fill
	seq=$(nedb-get --history CanaryColl d2 | jq -s '.[0].seq')
	python3 - "$NEDB_DIR/log.aof" "$seq" <<'EOF'
import sys
p, seq = sys.argv[1], int(sys.argv[2])
lines = open(p, 'rb').read().split(b'\n')
l = bytearray(lines[seq])
i = len(l) // 2
l[i] = ord('A') if l[i] != ord('A') else ord('B')
lines[seq] = bytes(l)
open(p, 'wb').write(b'\n'.join(lines))
EOF
	run nedb-verify
	assert_failure 1
	assert_output --partial "\"seq\":$seq,"
	assert_output --partial 'does not decrypt'
	run nedb-log
	assert_failure 5
	assert_output --partial "seq $seq"
	refute_output --partial '"o":"v2"'
	run nedb-get --as-of "$seq" CanaryColl d2
	assert_failure 5
	refute_output --partial 'v2'
}

@test "a long encrypted log, opened by two threads for verify, names its first bad op in either half" {
	export NEDB_TMK_FILE=$K1
	# ~12 MB of sealed lines: over the 4 MiB at which verify splits
	python3 -c '
import json
for i in range(12000): print(json.dumps({"_id": "d%05d" % i, "pad": "p" * 600}))' |
		nedb-put -q users
	run nedb-verify
	assert_success
	assert_output --partial '"seq":12000'
	flip() {
		python3 - "$NEDB_DIR/log.aof" "$1" <<'EOF2'
import sys
p, seq = sys.argv[1], int(sys.argv[2])
lines = open(p, 'rb').read().split(b'\n')
l = bytearray(lines[seq])
l[40] = ord('A') if l[40] != ord('A') else ord('B')
lines[seq] = bytes(l)
open(p, 'wb').write(b'\n'.join(lines))
EOF2
	}
	flip 10000		# in the second half
	run nedb-verify
	assert_failure 1
	assert_output --partial '"seq":10000,'
	assert_output --partial 'does not decrypt'
	flip 11000		# a later one: still 10000
	run nedb-verify
	assert_failure 1
	assert_output --partial '"seq":10000,'
	flip 2000		# in the first half: now the first
	run nedb-verify
	assert_failure 1
	assert_output --partial '"seq":2000,'
}

@test "a plaintext line among sealed ones is damage named by its seq, and never read as an op" {
	export NEDB_TMK_FILE=$K1
	fill
	seq=$(nedb-get --history CanaryColl d3 | jq -s '.[0].seq')
	# the op's own plaintext, put where its sealed line was
	plain=$(nedb-log --since "$seq" --until "$seq")
	python3 - "$NEDB_DIR/log.aof" "$seq" "$plain" <<'PY'
import sys
p, seq, plain = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
lines = open(p, 'rb').read().split(b'\n')
lines[seq] = plain
open(p, 'wb').write(b'\n'.join(lines))
PY
	run nedb-verify
	assert_failure 1
	assert_output --partial "\"seq\":$seq,"
	assert_output --partial 'not an encrypted line'
	# (the shorter line moved the log's end: reads see that first)
	run nedb-get --as-of "$seq" CanaryColl d3
	assert_failure 5
	assert_output --regexp '^nedb-get: corrupt log'
	assert_equal "${#lines[@]}" 1
}

@test "opening a plaintext database with a key encrypts it: the same head, log and answers" {
	fill
	nedb-checkpoint --prune >/dev/null
	nedb-put -q CanaryColl late '{"o":"v9"}'
	head=$(nedb-verify | jq -r .head)
	log=$(nedb-log)
	q=$(nedb-query 'FROM CanaryColl ORDER BY o LIMIT 3')
	export NEDB_TMK_FILE=$K1
	run -0 nedb-verify --determinism
	assert_output --partial "\"head\":\"$head\""
	[ -f "$NEDB_DIR/key.enc" ]
	[ ! -e "$NEDB_DIR/.encrypt" ]
	assert_equal "$(nedb-log)" "$log"
	assert_equal "$(nedb-query 'FROM CanaryColl ORDER BY o LIMIT 3')" "$q"
	run python3 "$LIB/canaries.py" "$NEDB_DIR" "${CANARIES[@]}"
	assert_success
	assert_output ''
	run -0 python3 "$LIB/decrypt-log.py" "$NEDB_DIR" "$K1"
	assert_equal "$output" "$log"
	# without the key it is refused now
	unset NEDB_TMK_FILE
	run nedb-get CanaryColl late
	assert_failure 5
	assert_output --partial 'encrypted'
	# writes go on, sealed and salted
	NEDB_TMK_FILE=$K1 nedb-put -q CanaryColl later '{}'
	run -0 env NEDB_TMK_FILE="$K1" nedb-log -n 1
	assert_output --regexp '"salt":"[0-9a-f]{32}"'
}

# Runs an encryption that stops at hook point $1 and is killed there.
kill_encryption_at() {
	NEDB_TMK_FILE=$K1 NEDB_TEST_PAUSE=$1 NEDB_TEST_DIR=$HOOKS \
		nedb-verify >/dev/null 2>&1 &
	PIDS+=($!)
	wait_reached "$1"
	kill -9 "$!"
	wait "$!" || true
}

@test "killed before its commit, an encryption leaves the plaintext database whole" {
	local point
	for point in encrypt-copied encrypt-staged; do
		# the same plaintext database each time: made once, copied
		if [ ! -d filled ]; then
			fill
			nedb-checkpoint --prune >/dev/null
			cp -a "$NEDB_DIR" filled
		fi
		rm -rf "$NEDB_DIR" "$HOOKS"/*
		cp -a filled "$NEDB_DIR"
		head=$(nedb-verify | jq -r .head)
		sums=$(cd "$NEDB_DIR" && sha256sum log.aof archive/* meta.json)
		kill_encryption_at "$point"
		[ -d "$NEDB_DIR/.encrypt" ]
		# the next open, plaintext, drops the half-made copy
		run -0 nedb-verify --determinism
		assert_output --partial "\"head\":\"$head\""
		[ ! -e "$NEDB_DIR/.encrypt" ]
		[ ! -e "$NEDB_DIR/key.enc" ]
		assert_equal "$(cd "$NEDB_DIR" && sha256sum log.aof archive/* meta.json)" "$sums"
		# and a second try goes through
		run -0 env NEDB_TMK_FILE="$K1" nedb-verify
		assert_output --partial "\"head\":\"$head\""
	done
}

@test "killed after its commit, an encryption is finished by the next open, with or without the key" {
	local point how
	for point in encrypt-committed encrypt-rolling; do
		for how in key nokey; do
			# the same plaintext database each time: made once, copied
			if [ ! -d filled ]; then
				fill
				nedb-checkpoint --prune >/dev/null
				nedb-put -q CanaryColl late '{"o":"v9"}'
				cp -a "$NEDB_DIR" filled
			fi
			rm -rf "$NEDB_DIR" "$HOOKS"/*
			cp -a filled "$NEDB_DIR"
			head=$(nedb-verify | jq -r .head)
			log=$(nedb-log)
			kill_encryption_at "$point"
			if [ "$how" = nokey ]; then
				# refused (it is encrypted now), but finished
				run nedb-get CanaryColl late
				assert_failure 5
				assert_output --partial 'encrypted'
				[ ! -e "$NEDB_DIR/.encrypt" ]
			fi
			run -0 env NEDB_TMK_FILE="$K1" nedb-verify --determinism
			assert_output --partial "\"head\":\"$head\""
			[ ! -e "$NEDB_DIR/.encrypt" ]
			assert_equal "$(NEDB_TMK_FILE=$K1 nedb-log)" "$log"
			run python3 "$LIB/canaries.py" "$NEDB_DIR" \
				"${CANARIES[@]}"
			assert_success
			assert_output ''
		done
	done
}

@test "an encryption while another process has the database open fails and changes nothing" {
	fill
	sums=$(cd "$NEDB_DIR" && sha256sum log.aof meta.json view.mdb)
	NEDB_TEST_PAUSE=opened NEDB_TEST_DIR=$HOOKS \
		nedb-get CanaryColl d1 >/dev/null &
	PIDS+=($!)
	wait_reached opened
	run env NEDB_TMK_FILE="$K1" nedb-get CanaryColl d1
	assert_failure 5
	assert_output --partial 'other processes have the database open'
	assert_equal "${#lines[@]}" 1
	[ ! -e "$NEDB_DIR/key.enc" ]
	[ ! -e "$NEDB_DIR/.encrypt" ]
	assert_equal "$(cd "$NEDB_DIR" && sha256sum log.aof meta.json view.mdb)" "$sums"
	touch "$HOOKS/opened.go"
	wait
	run -0 env NEDB_TMK_FILE="$K1" nedb-get CanaryColl d1
}

@test "flipped bytes anywhere in an encrypted database never print a wrong document" {
	export NEDB_TMK_FILE=$K1
	fill
	nedb-checkpoint --prune >/dev/null
	nedb-put -q CanaryColl after '{"o":"v8"}'
	run python3 "$LIB/flips.py" "$NEDB_DIR" "$(sample 12)" CanaryColl \
		canary-id-7731 d1 d2 d3 after
	assert_success
	assert_output --partial '0 wrong answers'
}
