#!/usr/bin/env bats
# nedb-verify: the ok output, --determinism after every kind of write,
# and the failure paths that are not tampering (see tamper.bats).

load helper

setup_more() {
	cd "$BATS_TEST_TMPDIR"
}

hash_of() {
	[[ $1 =~ \"hash\":\"([0-9a-f]{64})\" ]] && echo "${BASH_REMATCH[1]}"
}

@test "verify prints ok, the head seq and the head hash" {
	nedb-put t a '{"v":1}'
	nedb-put t b '{"v":1}'
	run nedb-put t a '{"v":2}'
	last_hash=$(hash_of "$output")
	run --separate-stderr nedb-verify
	assert_success
	assert_output "{\"ok\":true,\"seq\":3,\"head\":\"$last_hash\"}"
	assert_equal "$stderr" ""
	assert_determinism
}

@test "verify's head is the hash of the last receipt of whatever kind" {
	nedb-put t a '{"v":1}'
	run nedb-delete t a
	h=$(hash_of "$output")
	run nedb-verify
	assert_output "{\"ok\":true,\"seq\":2,\"head\":\"$h\"}"
	run nedb-checkpoint
	h=$(hash_of "$output")
	run nedb-verify
	assert_output "{\"ok\":true,\"seq\":3,\"head\":\"$h\"}"
	assert_determinism
}

@test "verify's head is the hash on the last line of the log" {
	seed_users 5
	run nedb-log -n 1
	h=$(hash_of "$output")
	run nedb-verify
	assert_success
	assert_output "{\"ok\":true,\"seq\":5,\"head\":\"$h\"}"
	assert_determinism
}

@test "verify --determinism prints the same ok object" {
	seed_users 3
	run nedb-verify
	plain="$output"
	run --separate-stderr nedb-verify --determinism
	assert_success
	assert_output "$plain"
	assert_equal "$stderr" ""
}

@test "verify --determinism is ok after puts, deletes, merges, ttl, tags, idem, nonces and checkpoints" {
	seed_users 5
	nedb-put t a '{"x":1,"y":{"z":[1,2]}}'
	nedb-put --merge t a '{"y":null,"w":"é"}'
	nedb-put --merge t new '{"m":1}'
	nedb-put --tag red --tag blue t tagged '{"v":1}'
	nedb-put --ttl 1 t short '{"v":1}'
	nedb-put --ttl 3600 t long '{"v":1}'
	nedb-put --idem k1 t i '{"v":1}'
	nedb-put --idem k1 t i '{"v":2}'
	nedb-put --client app --nonce 3 t n '{"v":1}'
	nedb-put --client app --nonce 3 t n '{"v":2}' || true
	nedb-put --if-seq 999 t a '{"v":9}' || true
	nedb-checkpoint
	nedb-delete users u1 u2
	nedb-delete --client app --nonce 4 users u3
	nedb-delete --idem k2 users u4
	nedb-delete --idem k2 users u4
	nedb-delete t a
	nedb-put t a '{"again":true}'
	printf '{"_id":"s1"}\n{"_id":"s2"}\n' | nedb-put -q s
	printf '{"_id":"s3"}\nbad\n' | nedb-put -q s || true
	printf '{"_id":"s4"}\n[1]\n' | nedb-put -q --atomic s || true
	nedb-checkpoint
	nedb-checkpoint
	sleep 1.1
	run nedb-get t short
	assert_failure 1
	run nedb-log -n 1
	head_hash=$(hash_of "$output")
	run --separate-stderr nedb-verify --determinism
	assert_success
	assert_output --regexp "^\\{\"ok\":true,\"seq\":[0-9]+,\"head\":\"$head_hash\"\\}\$"
	assert_equal "$stderr" ""
}

@test "verify --determinism is ok after the view was rebuilt" {
	seed_users 3
	nedb-delete users u2
	nedb-checkpoint
	rm -f "$NEDB_DIR"/view.mdb*
	assert_determinism
	nedb-checkpoint --rebuild
	assert_determinism
}

@test "verify's seq counts every op of a long log" {
	for ((i = 1; i <= 250; i++)); do printf '{"_id":"d%d"}\n' "$i"; done |
		nedb-put -q t
	nedb-delete t d1 d2
	run nedb-verify
	assert_success
	assert_output --regexp '^\{"ok":true,"seq":252,"head":"[0-9a-f]{64}"\}$'
	assert_determinism
}

@test "verify appends nothing and changes nothing" {
	seed_users 2
	cp "$NEDB_DIR/log.aof" before
	nedb-verify
	nedb-verify --determinism
	cmp before "$NEDB_DIR/log.aof"
	run nedb-get users u1 u2
	assert_success
}

@test "verify --pretty indents the result" {
	seed_users 1
	run nedb-verify --pretty
	assert_success
	assert_line --index 0 '{'
	assert_line --index 1 '  "ok": true,'
	assert_line --index 2 '  "seq": 1,'
	assert_line --index 3 --regexp '^  "head": "[0-9a-f]{64}"$'
	assert_line --index 4 '}'
}

@test "verify's output parses as JSON" {
	seed_users 2
	nedb-verify > out
	run jq -r '"\(.ok) \(.seq) \(.head | length)"' out
	assert_output 'true 2 64'
}

@test "a missing database exits 5 with 'no such database' and is not created" {
	run --separate-stderr nedb-verify
	assert_failure 5
	assert_output ""
	assert_equal "$stderr" "nedb-verify: cannot open database '$NEDB_DIR': no such database"
	run --separate-stderr nedb-verify --determinism
	assert_failure 5
	[ ! -e "$NEDB_DIR" ]
}

@test "a directory without a log is not a database: exit 5" {
	mkdir "$NEDB_DIR"
	run --separate-stderr nedb-verify
	assert_failure 5
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_regex "$stderr" "^nedb-verify: .*no such database"
	[ ! -e "$NEDB_DIR/log.aof" ]
}

@test "-d chooses the database to verify" {
	nedb-put -d "$BATS_TEST_TMPDIR/other" t a '{"v":1}'
	run nedb-verify -d "$BATS_TEST_TMPDIR/other"
	assert_success
	assert_output --partial '"seq":1,'
	run nedb-verify
	assert_failure 5
}

@test "a write error on stdout exits 5 with one stderr line" {
	seed_users 1
	rc=0
	nedb-verify > /dev/full 2> err || rc=$?
	assert_equal "$rc" 5
	run cat err
	assert_output "nedb-verify: cannot write output: No space left on device"
}

@test "usage errors exit 2 with a hint" {
	seed_users 1
	run --separate-stderr nedb-verify --bogus
	assert_failure 2
	assert_output ""
	assert_equal "$stderr" "nedb-verify: unknown option '--bogus' (see 'nedb-verify --help')"
	run --separate-stderr nedb-verify extra
	assert_failure 2
	assert_equal "$stderr" "nedb-verify: unexpected argument 'extra' (see 'nedb-verify --help')"
	run nedb-verify -x
	assert_failure 2
}

@test "--help prints usage and exits 0; --version prints the version" {
	run --separate-stderr nedb-verify --help
	assert_success
	assert_line --index 0 'usage: nedb-verify [options]'
	assert_output --partial '--view'
	assert_output --partial '--determinism'
	assert_equal "$stderr" ""
	run nedb-verify --version
	assert_success
	assert_output --regexp '^nedb-verify \(nedb\) [0-9]+\.[0-9]+\.[0-9]+$'
	[ ! -e "$NEDB_DIR" ]
}

# ---- the format's rules beyond the chain --------------------------------
# Each test breaks one rule and rewrites the chain after it (rechain.py),
# so that every prev and hash is right: only the rule can catch it.

# The view is dropped too: rebuilt from the edited log, it agrees with it,
# as it would for a log that a writer with a bug (or a fooled one) wrote.
rechain() {
	python3 "$BATS_TEST_DIRNAME/rechain.py" "$NEDB_DIR" "$@"
	rm -f "$NEDB_DIR"/view.mdb*
}

# For lines a replay cannot apply: the view stays, and the rule is
# reported before the view's record of the op is compared.
rechain_log() {
	python3 "$BATS_TEST_DIRNAME/rechain.py" "$NEDB_DIR" "$@"
}

# nedb-format(5)'s reference script, which verify must agree with.
replay_script() {
	python3 "$BATS_TEST_DIRNAME/format-check.py" file \
		"$BATS_TEST_DIRNAME/../man/nedb-format.5" nedb-replay.py > replay.py
	python3 replay.py "$NEDB_DIR/log.aof" 2>&1 >/dev/null
}

@test "a client's nonce that does not increase breaks the log, as the format's script says" {
	nedb-put -q --client app --nonce 5 t a '{"v":1}'
	nedb-put -q --client app --nonce 6 t b '{"v":1}'
	nedb-put -q t c '{"v":1}'
	rechain 2 '"nonce":6' '"nonce":5'
	run --separate-stderr nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"nonce not increasing"}'
	assert_equal "$stderr" ""
	run replay_script
	assert_output '{"ok":false,"seq":2,"error":"nonce not increasing"}'
	rechain 2 '"nonce":5' '"nonce":4'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"nonce not increasing"}'
}

@test "nonces are per client, and a client's first nonce must be at least 1" {
	nedb-put -q --client app --nonce 5 t a '{"v":1}'
	nedb-put -q --client other --nonce 1 t b '{"v":1}'
	nedb-put -q --client app --nonce 6 t c '{"v":1}'
	nedb-put -q t d '{"v":1}'
	run nedb-verify
	assert_success
	rechain 2 '"nonce":1' '"nonce":0'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"nonce not increasing"}'
}

@test "a client name is compared decoded: an escaped spelling is the same client" {
	nedb-put -q --client ab --nonce 5 t a '{"v":1}'
	nedb-put -q --client ab --nonce 6 t b '{"v":1}'
	rechain 2 '"client":"ab","nonce":6' '"client":"\u0061b","nonce":5'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"nonce not increasing"}'
	run replay_script
	assert_output '{"ok":false,"seq":2,"error":"nonce not increasing"}'
}

@test "an idempotency key used by a second op breaks the log" {
	nedb-put -q --idem k1 t a '{"v":1}'
	nedb-delete -q --idem k2 t a
	nedb-put -q t b '{"v":1}'
	run nedb-verify
	assert_success
	rechain 2 '"idem":"k2"' '"idem":"k1"'
	run --separate-stderr nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"idempotency key used twice"}'
	run replay_script
	assert_output '{"ok":false,"seq":2,"error":"idempotency key used twice"}'
	# the same key spelt with an escape is the same key
	rechain 2 '"idem":"k1"' '"idem":"\u006b1"'
	run nedb-verify
	assert_output '{"ok":false,"seq":2,"error":"idempotency key used twice"}'
}

@test "seq 0 must be the genesis op, and no other op may be one" {
	nedb-put -q t a '{"v":1}'
	nedb-put -q t b '{"v":1}'
	rechain 2 '"op":"put"' '"op":"genesis"'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"genesis must be op 0, and only op 0"}'
	run replay_script
	assert_output '{"ok":false,"seq":2,"error":"genesis must be op 0, and only op 0"}'
	rm -rf "$NEDB_DIR"
	nedb-put -q t a '{"v":1}'
	rechain_log 0 '"op":"genesis"' '"op":"checkpoint"'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":0,"error":"genesis must be op 0, and only op 0"}'
}

@test "an unknown op, or a client op without its client or nonce, breaks the log" {
	nedb-put -q t a '{"v":1}'
	nedb-put -q t b '{"v":1}'
	cp -r "$NEDB_DIR" good
	rechain_log 2 '"op":"put"' '"op":"frob"'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"unknown op"}'
	rm -rf "$NEDB_DIR"; cp -r good "$NEDB_DIR"
	rechain_log 2 '"nonce":2' '"nonce":"2"'
	run nedb-verify
	assert_output '{"ok":false,"seq":2,"error":"malformed nonce"}'
	rm -rf "$NEDB_DIR"; cp -r good "$NEDB_DIR"
	rechain_log 2 '"client":"local",' ''
	run nedb-verify
	assert_output '{"ok":false,"seq":2,"error":"malformed client"}'
}

@test "a missing op is a wrong seq, named where the gap is" {
	nedb-put -q t a '{"v":1}'
	nedb-put -q t b '{"v":1}'
	nedb-put -q t c '{"v":1}'
	rechain_log 2 - -
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"found seq 3"}'
}

@test "the rules hold across the archive: pruned ops are walked too" {
	nedb-put -q --client app --nonce 5 --idem k1 t a '{"v":1}'
	nedb-put -q --client app --nonce 6 t b '{"v":1}'
	nedb-checkpoint >/dev/null
	nedb-put -q --client app --nonce 7 --idem k2 t c '{"v":1}'
	nedb-checkpoint --prune >/dev/null
	[ -n "$(ls "$NEDB_DIR"/archive/*.seg)" ]
	run nedb-verify
	assert_success
	cp -r "$NEDB_DIR" good
	# in the archive
	rechain 2 '"nonce":6' '"nonce":5'
	run --separate-stderr nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"nonce not increasing"}'
	# in log.aof, against what the archive holds
	rm -rf "$NEDB_DIR"; cp -r good "$NEDB_DIR"
	rechain 4 '"idem":"k2"' '"idem":"k1"'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":4,"error":"idempotency key used twice"}'
	rm -rf "$NEDB_DIR"; cp -r good "$NEDB_DIR"
	rechain 4 '"nonce":7' '"nonce":6'
	run nedb-verify
	assert_output '{"ok":false,"seq":4,"error":"nonce not increasing"}'
}

@test "the rules are checked in a log long enough to be checked in pieces on every core" {
	# more than 16 MiB: checked in pieces, hashed on every core
	python3 -c '
import sys
pad = "x" * 300
for i in range(60000):
    sys.stdout.write("{\"_id\":\"d%d\",\"pad\":\"%s\"}\n" % (i, pad))' |
		nedb-put -q t
	nedb-put -q --idem early t e1 '{"v":1}'
	nedb-put -q --idem late t e2 '{"v":1}'
	[ "$(stat -c %s "$NEDB_DIR/log.aof")" -gt $((17 << 20)) ]
	run nedb-verify
	assert_success
	cp -r "$NEDB_DIR" good
	# a nonce going back in the second half
	rechain 50000 '"nonce":50000' '"nonce":49999'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":50000,"error":"nonce not increasing"}'
	# a key of the first half used again at the end
	rm -rf "$NEDB_DIR"; cp -r good "$NEDB_DIR"
	rechain 1 '"nonce":1,' '"nonce":1,"idem":"k",'
	rechain 59000 '"nonce":59000,' '"nonce":59000,"idem":"k",'
	run nedb-verify
	assert_failure 1
	assert_output '{"ok":false,"seq":59000,"error":"idempotency key used twice"}'
}

@test "a writer fooled by an edited nonce table leaves a log verify rejects" {
	command -v mdb_dump >/dev/null || skip "no mdb_dump (lmdb-utils)"
	nedb-put -q users alice '{}'
	nedb-put -q users bob '{}'
	nedb-put -q users carol '{}'
	edit_view nonces '\x00\x03' '\x00\x01'
	# the writer trusts the table (exit 0), or now refuses (exit 3)
	run nedb-put -q --client local --nonce 2 users eve '{}'
	if [ "$status" -eq 0 ]; then
		run nedb-verify
		assert_failure 1
		assert_output '{"ok":false,"seq":4,"error":"nonce not increasing"}'
	else
		assert_failure 3
	fi
}

# ---- --view: the view against the log -----------------------------------

@test "verify --view finds a document edited in the view and names it" {
	command -v mdb_dump >/dev/null || skip "no mdb_dump (lmdb-utils)"
	nedb-put -q users alice '{"name":"Alice","role":"user"}'
	nedb-put -q users bob '{"name":"Bob","role":"user"}'
	run --separate-stderr nedb-verify --view
	assert_success
	edit_view docs '"_id":"alice","name":"Alice","role":"user"' '"_id":"alice","name":"Alice","role":"admn"'
	# the chain is intact: plain verify does not read the view's documents
	run nedb-verify
	assert_success
	run --separate-stderr nedb-verify --view
	assert_failure 1
	assert_output '{"ok":false,"seq":2,"error":"view differs from the log in docs '\''users/alice'\''"}'
	assert_equal "$stderr" ""
}

@test "verify --view finds edited nonces and idempotency tables" {
	command -v mdb_dump >/dev/null || skip "no mdb_dump (lmdb-utils)"
	nedb-put -q users alice '{}'
	nedb-put -q users bob '{}'
	nedb-put -q --idem K1 users carol '{}'
	cp -r "$NEDB_DIR" good
	edit_view nonces '\x00\x03' '\x00\x01'
	run nedb-verify --view
	assert_failure 1
	assert_output '{"ok":false,"seq":3,"error":"view differs from the log in nonces '\''local'\''"}'
	rm -rf "$NEDB_DIR"; cp -r good "$NEDB_DIR"
	edit_view idem '"seq":3,' '"seq":2,'
	run nedb-verify --view
	assert_failure 1
	assert_output '{"ok":false,"seq":3,"error":"view differs from the log in idem '\''K1'\''"}'
}

@test "--determinism is the same check as --view, under its former name" {
	seed_users 3
	run nedb-verify --view
	assert_success
	view="$output"
	run nedb-verify --determinism
	assert_success
	assert_output "$view"
	nedb-put -q users u1 '{"n":9}'
	command -v mdb_dump >/dev/null || skip "no mdb_dump (lmdb-utils)"
	edit_view docs '"n":9' '"n":8'
	run nedb-verify --view
	assert_failure 1
	view="$output"
	run nedb-verify --determinism
	assert_failure 1
	assert_output "$view"
}
