#!/usr/bin/env bats
# Keys of encryption at rest (SPEC section 8, nedb-key(1)): --tmk-file,
# NEDB_TMK and NEDB_TMK_FILE on every command and in nedbd; nedb-key
# status, rewrap and new; a wrong, missing or malformed key, or a
# damaged key.enc, exits 5 and changes no file; kill -9 during a rewrap
# leaves a database that opens with exactly one of the two keys.
#
# The log and view are encrypted by other work: nothing here looks at
# what the files hold, only at which key opens them and what changes.

load nedbd-helper

# nedbd-helper's set-up, then two master keys, $K1 and $K2
eval "$(declare -f setup_more | sed '1s/setup_more/nedbd_setup_more/')"
setup_more() {
	nedbd_setup_more
	unset NEDB_TMK NEDB_TMK_FILE
	K1=$BATS_TEST_TMPDIR/k1 K2=$BATS_TEST_TMPDIR/k2
	nedb-key new --out "$K1"
	nedb-key new --out "$K2"
}

# An encrypted database of a few documents under key $1 ($K1).
encrypted_db() {
	printf '{"_id":"u%d","n":%d}\n' 1 1 2 2 3 3 |
		nedb-put -q --tmk-file "${1:-$K1}" users
}

# The sha256 of every file of the database (and none left beside them),
# to compare before and after; EXCEPT names files to leave out.
sums() {
	(cd "$NEDB_DIR" && find . -type f ${EXCEPT:+! -name "$EXCEPT"} |
		LC_ALL=C sort | xargs sha256sum)
}

# The key id nedb-key status prints for the database in $NEDB_DIR.
key_id() {
	nedb-key status | jq -r .key_id
}

# ---- usage -----------------------------------------------------------------

@test "nedb-key --help prints its usage, --version the version" {
	run -0 nedb-key --help
	assert_line --index 0 'usage: nedb-key [options] status'
	[[ $output == *--tmk-file* ]]
	run -0 nedb-key --version
	assert_output --regexp '^nedb-key \(nedb\) [0-9]+\.'
}

@test "nedb-key without a subcommand, with an unknown one or a misplaced option exits 2 with a hint" {
	run -2 --separate-stderr nedb-key
	assert_equal "$stderr" "nedb-key: missing subcommand: status, rewrap, new, derive or signer (see 'nedb-key --help')"
	run -2 --separate-stderr nedb-key rotate
	assert_equal "$stderr" "nedb-key: unknown subcommand 'rotate': want status, rewrap, new, derive or signer (see 'nedb-key --help')"
	run -2 --separate-stderr nedb-key rewrap
	assert_equal "$stderr" "nedb-key: rewrap needs --new-tmk-file FILE (see 'nedb-key --help')"
	run -2 --separate-stderr nedb-key new
	assert_equal "$stderr" "nedb-key: new needs --out FILE (see 'nedb-key --help')"
	run -2 --separate-stderr nedb-key status --out x
	assert_equal "$stderr" "nedb-key: option '--out' is for new, derive and signer new only (see 'nedb-key --help')"
	run -2 --separate-stderr nedb-key status extra
	assert_equal "$stderr" "nedb-key: unexpected argument 'extra' (see 'nedb-key --help')"
	run -2 --separate-stderr nedb-key --bogus status
	assert_equal "$stderr" "nedb-key: unknown option '--bogus' (see 'nedb-key --help')"
	[ ! -e x ]
}

# ---- status ------------------------------------------------------------------

@test "status says a plaintext database is not encrypted" {
	seed_users 1
	run -0 --separate-stderr nedb-key status
	assert_output '{"encrypted":false}'
	assert_equal "$stderr" ""
}

@test "status names an encrypted database's key id without its key" {
	encrypted_db
	run -0 --separate-stderr nedb-key status
	assert_output --regexp '^\{"encrypted":true,"key_id":"[0-9a-f]{16}"\}$'
	assert_equal "$stderr" ""
	# the id is not the key, nor any part of it
	id=$(key_id)
	run grep -c "$id" "$K1"
	assert_output 0
	run -0 nedb-key --pretty status
	assert_line --index 0 '{'
}

@test "status of a missing database exits 5 with one line" {
	run -5 --separate-stderr nedb-key -d nowhere status
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "$stderr" "nedb-key: no database in 'nowhere'"
	[ ! -e nowhere ]
}

@test "status of a database whose key.enc is truncated exits 5" {
	encrypted_db
	truncate -s 40 "$NEDB_DIR/key.enc"
	run -5 --separate-stderr nedb-key status
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == *"key.enc' is truncated: 40 bytes, want 80" ]]
}

# ---- giving the key ------------------------------------------------------------

@test "a database created with --tmk-file, NEDB_TMK or NEDB_TMK_FILE is encrypted under that key" {
	local id
	NEDB_DIR=$BATS_TEST_TMPDIR/a nedb-put -q --tmk-file "$K1" t x '{"v":1}'
	NEDB_DIR=$BATS_TEST_TMPDIR/b NEDB_TMK=$(cat "$K1") nedb-put -q t x '{"v":1}'
	NEDB_DIR=$BATS_TEST_TMPDIR/c NEDB_TMK_FILE=$K1 nedb-put -q t x '{"v":1}'
	id=$(nedb-key -d a status | jq -r .key_id)
	[[ $id =~ ^[0-9a-f]{16}$ ]]
	# one master key, one id, whichever way it was given
	for d in a b c; do
		run -0 nedb-key -d "$d" status
		assert_output "{\"encrypted\":true,\"key_id\":\"$id\"}"
		# and each opens with the key given any of the three ways
		run -0 nedb-get -d "$d" --tmk-file "$K1" t x
		assert_output '{"_id":"x","v":1}'
		run -0 env NEDB_TMK="$(cat "$K1")" nedb-get -d "$d" t x
		assert_output '{"_id":"x","v":1}'
		run -0 env NEDB_TMK_FILE="$K1" nedb-get -d "$d" t x
		assert_output '{"_id":"x","v":1}'
	done
	# another key has another id
	NEDB_DIR=$BATS_TEST_TMPDIR/d nedb-put -q --tmk-file "$K2" t x '{}'
	run -0 nedb-key -d d status
	refute_output --partial "$id"
}

@test "a key file of 32 raw bytes, or hex in either case within white space, is a key" {
	local raw=$BATS_TEST_TMPDIR/raw upper=$BATS_TEST_TMPDIR/upper
	xxd -r -p "$K1" > "$raw"
	[ "$(stat -c %s "$raw")" = 32 ]
	printf '  %s\n\n' "$(tr a-f A-F < "$K1")" > "$upper"
	encrypted_db
	run -0 nedb-get --tmk-file "$raw" users u1
	assert_output '{"_id":"u1","n":1}'
	run -0 nedb-get --tmk-file "$upper" users u1
	assert_output '{"_id":"u1","n":1}'
}

@test "--tmk-file wins over the environment" {
	encrypted_db
	run -0 env NEDB_TMK_FILE="$K2" nedb-get --tmk-file "$K1" users u1
	assert_output '{"_id":"u1","n":1}'
	run -0 env NEDB_TMK="$(cat "$K2")" nedb-get --tmk-file "$K1" users u1
	assert_output '{"_id":"u1","n":1}'
}

@test "every command takes --tmk-file and refuses an encrypted database with the wrong key" {
	local cmd w before
	encrypted_db
	# one command a line, its words separated by |
	while IFS='|' read -ra w; do
		cmd="${w[*]}"
		before=$(sums)
		run -5 --separate-stderr "${w[0]}" --tmk-file "$K2" "${w[@]:1}" </dev/null
		assert_output ""
		assert_equal "${#stderr_lines[@]}" 1
		[[ $stderr == "${w[0]}: wrong key: "* ]] || fail "$cmd: $stderr"
		assert_equal "$(sums)" "$before"
		# and with the right key it runs
		run --separate-stderr "${w[0]}" --tmk-file "$K1" "${w[@]:1}" </dev/null
		[ "$status" -lt 2 ] || fail "$cmd --tmk-file K1: $stderr"
		run --separate-stderr "${w[0]}" --tmk-file="$K1" "${w[@]:1}" </dev/null
		[ "$status" -lt 2 ] || fail "$cmd --tmk-file=K1: $stderr"
		encrypted_db	# (puts back what the command changed)
	done <<-'EOF'
		nedb-get|users|u1
		nedb-put|users|u9|{}
		nedb-delete|users|u1
		nedb-update|users|{"_id":"u1"}|{"$set":{"n":0}}
		nedb-query|FROM users
		nedb-index|users|n|eq
		nedb-index|--list
		nedb-link|users:u1|knows|users:u2
		nedb-coll
		nedb-coll|--drop|users
		nedb-expire|users|u1|60
		nedb-sweep
		nedb-stats
		nedb-log
		nedb-verify
		nedb-checkpoint
		nedb-redis|GET|k
		nedb-redis|SET|k|v
	EOF
}

# ---- a wrong, missing or bad key: exit 5, nothing changed ----------------------

@test "a wrong key exits 5 with one line naming both key ids and changes no file" {
	local before id1 id2
	encrypted_db
	id1=$(key_id)
	NEDB_DIR=$BATS_TEST_TMPDIR/other nedb-put -q --tmk-file "$K2" t x '{}'
	id2=$(nedb-key -d other status | jq -r .key_id)
	before=$(sums)
	run -5 --separate-stderr nedb-get --tmk-file "$K2" users u1
	assert_output ""
	assert_equal "$stderr" "nedb-get: wrong key: the database's key id is $id1, the key given has id $id2"
	run -5 --separate-stderr nedb-put --tmk-file "$K2" users u9 '{"n":9}'
	assert_equal "${#stderr_lines[@]}" 1
	run -5 nedb-checkpoint --tmk-file "$K2"
	run -5 env NEDB_TMK="$(cat "$K2")" nedb-put users u9 '{"n":9}'
	run -5 env NEDB_TMK_FILE="$K2" nedb-verify
	assert_equal "$(sums)" "$before"
	run -0 nedb-get --tmk-file "$K1" users u1
}

@test "a missing key exits 5 with one line naming the key id and changes no file" {
	local before id
	encrypted_db
	id=$(key_id)
	before=$(sums)
	run -5 --separate-stderr nedb-get users u1
	assert_output ""
	assert_equal "$stderr" "nedb-get: cannot open database '$NEDB_DIR': it is encrypted (key id $id); give its key with NEDB_TMK, NEDB_TMK_FILE or --tmk-file"
	run -5 nedb-put users u9 '{"n":9}'
	run -5 nedb-verify
	run -5 nedb-redis SET k v
	assert_equal "$(sums)" "$before"
}

@test "a truncated key.enc exits 5, even with the right key, and changes no other file" {
	local before
	encrypted_db
	truncate -s 79 "$NEDB_DIR/key.enc"
	before=$(sums)
	run -5 --separate-stderr nedb-get --tmk-file "$K1" users u1
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == *"key.enc' is truncated: 79 bytes, want 80" ]]
	run -5 nedb-put --tmk-file "$K1" users u9 '{}'
	: > "$NEDB_DIR/key.enc"
	before=$(sums)
	run -5 nedb-put --tmk-file "$K1" users u9 '{}'
	run -5 nedb-get users u1
	assert_equal "$(sums)" "$before"
}

@test "NEDB_TMK and NEDB_TMK_FILE both set exits 5 and changes no file" {
	local before
	encrypted_db
	before=$(sums)
	run -5 --separate-stderr env NEDB_TMK="$(cat "$K1")" NEDB_TMK_FILE="$K1" \
		nedb-get users u1
	assert_output ""
	assert_equal "$stderr" "nedb-get: both NEDB_TMK and NEDB_TMK_FILE are set: give one key"
	run -5 env NEDB_TMK="$(cat "$K1")" NEDB_TMK_FILE="$K1" nedb-put users u9 '{}'
	assert_equal "$(sums)" "$before"
}

@test "a malformed or unreadable key file exits 5 with one line and changes no file" {
	local before bad=$BATS_TEST_TMPDIR/bad
	encrypted_db
	before=$(sums)
	for content in "" "abc" "$(cat "$K1")0" "$(cut -c 2- "$K1")" \
		"$(sed 's/^./g/' "$K1")" "$(cat "$K1") $(cat "$K1")"; do
		printf '%s\n' "$content" > "$bad"
		run -5 --separate-stderr nedb-get --tmk-file "$bad" users u1
		assert_output ""
		assert_equal "$stderr" "nedb-get: key file '$bad' holds no key (want 64 hex digits or 32 bytes)"
		run -5 nedb-put --tmk-file "$bad" users u9 '{}'
		run -5 env NEDB_TMK_FILE="$bad" nedb-put users u9 '{}'
	done
	run -5 --separate-stderr env NEDB_TMK=abc nedb-get users u1
	assert_equal "$stderr" "nedb-get: NEDB_TMK is not a key (want 64 hex digits, got 3 characters)"
	run -5 --separate-stderr nedb-get --tmk-file nosuch users u1
	assert_equal "$stderr" "nedb-get: cannot read key file 'nosuch': No such file or directory"
	run -5 --separate-stderr nedb-get --tmk-file "$BATS_TEST_TMPDIR" users u1
	assert_equal "${#stderr_lines[@]}" 1
	assert_equal "$(sums)" "$before"
	# a plaintext database is not touched by a bad key either
	NEDB_DIR=$BATS_TEST_TMPDIR/plain seed_users 1
	before=$(NEDB_DIR=$BATS_TEST_TMPDIR/plain sums)
	run -5 nedb-put -d plain --tmk-file "$bad" users u9 '{}'
	assert_equal "$(NEDB_DIR=$BATS_TEST_TMPDIR/plain sums)" "$before"
}

# ---- rewrap --------------------------------------------------------------------

@test "rewrap: the old key is refused, the new one opens, only key.enc changed" {
	local before after id2
	encrypted_db
	id2=$(NEDB_DIR=$BATS_TEST_TMPDIR/other nedb-put -q --tmk-file "$K2" t x '{}' &&
		nedb-key -d other status | jq -r .key_id)
	# every other file, view.mdb-lock too: rewrap opens no view
	before=$(sums)
	run -0 --separate-stderr nedb-key --tmk-file "$K1" rewrap --new-tmk-file "$K2"
	assert_output "{\"rewrapped\":true,\"key_id\":\"$id2\"}"
	assert_equal "$stderr" ""
	after=$(sums)
	diff <(grep -v ' ./key.enc$' <<<"$before") <(grep -v ' ./key.enc$' <<<"$after")
	[ "$(grep ' ./key.enc$' <<<"$before")" != "$(grep ' ./key.enc$' <<<"$after")" ]
	# no temporary key file left beside it
	run ls "$NEDB_DIR"
	refute_output --partial key.enc.
	run -0 nedb-key status
	assert_output "{\"encrypted\":true,\"key_id\":\"$id2\"}"
	run -5 --separate-stderr nedb-get --tmk-file "$K1" users u1
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == *"key id is $id2"* ]]
	run -0 nedb-get --tmk-file "$K2" users u1
	assert_output '{"_id":"u1","n":1}'
	run -0 nedb-verify --tmk-file "$K2"
}

@test "rewrap takes the current key from the environment too" {
	encrypted_db
	run -0 env NEDB_TMK_FILE="$K1" nedb-key rewrap --new-tmk-file "$K2"
	run -0 env NEDB_TMK="$(cat "$K2")" nedb-key rewrap --new-tmk-file "$K1"
	run -0 nedb-get --tmk-file "$K1" users u1
}

@test "rewrap with a wrong, missing or bad current key, or a bad new one, exits 5 and changes nothing" {
	local before bad=$BATS_TEST_TMPDIR/bad
	encrypted_db
	echo nokey > "$bad"
	before=$(sums)
	run -5 --separate-stderr nedb-key --tmk-file "$K2" rewrap --new-tmk-file "$K2"
	assert_output ""
	assert_equal "${#stderr_lines[@]}" 1
	[[ $stderr == "nedb-key: wrong key: "* ]]
	run -5 nedb-key rewrap --new-tmk-file "$K2"
	run -5 nedb-key --tmk-file "$bad" rewrap --new-tmk-file "$K2"
	run -5 --separate-stderr nedb-key --tmk-file "$K1" rewrap --new-tmk-file "$bad"
	assert_equal "$stderr" "nedb-key: key file '$bad' holds no key (want 64 hex digits or 32 bytes)"
	run -5 nedb-key --tmk-file "$K1" rewrap --new-tmk-file nosuch
	assert_equal "$(sums)" "$before"
	run -0 nedb-get --tmk-file "$K1" users u1
}

@test "rewrap of a plaintext database is rejected (exit 3); of a missing one exits 5" {
	local before
	seed_users 1
	before=$(sums)
	run -3 --separate-stderr nedb-key rewrap --new-tmk-file "$K2"
	assert_equal "$stderr" "nedb-key: database '$NEDB_DIR' is not encrypted: there is no key to rewrap"
	# (with a key given, the open refuses, as it will encrypt the
	# database instead once conversion is built)
	run -3 nedb-key --tmk-file "$K1" rewrap --new-tmk-file "$K2"
	assert_equal "$(sums)" "$before"
	run -5 nedb-key -d nowhere --tmk-file "$K1" rewrap --new-tmk-file "$K2"
	[ ! -e nowhere ]
}

@test "a rewrap that cannot replace key.enc fails with exit 5 and leaves the old key" {
	local before
	encrypted_db
	before=$(sums)
	run -5 --separate-stderr env NEDB_TEST_FAIL=key-rename \
		nedb-key --tmk-file "$K1" rewrap --new-tmk-file "$K2"
	assert_equal "${#stderr_lines[@]}" 1
	run ls "$NEDB_DIR"
	refute_output --partial key.enc.
	run -0 nedb-get --tmk-file "$K1" users u1
	run -5 nedb-get --tmk-file "$K2" users u1
}

@test "kill -9 of a rewrap about to rename: the old key opens, the new one is refused" {
	local hooks=$BATS_TEST_TMPDIR/hooks pid
	mkdir "$hooks"
	encrypted_db
	NEDB_TEST_PAUSE=key-rewrap NEDB_TEST_DIR=$hooks \
		nedb-key --tmk-file "$K1" rewrap --new-tmk-file "$K2" 3>&- &
	pid=$!
	poll 30 test -e "$hooks/key-rewrap.reached"
	kill -KILL "$pid"
	wait "$pid" || true
	# the new key.enc, written and checked, waits beside the old one
	run ls "$NEDB_DIR"
	assert_output --partial key.enc.
	run -0 nedb-get --tmk-file "$K1" users u1
	run -5 nedb-get --tmk-file "$K2" users u1
	run -0 nedb-verify --tmk-file "$K1"
	# the next rewrap goes through and removes the leftover
	run -0 nedb-key --tmk-file "$K1" rewrap --new-tmk-file "$K2"
	run ls "$NEDB_DIR"
	refute_output --partial key.enc.
	run -0 nedb-get --tmk-file "$K2" users u1
}

@test "kill -9 at random points of rewraps: the database opens with exactly one of the two keys" {
	# (not i: bats's run counts with an i of its own)
	local round pid cur=$K1 new=$K2 tmp
	declare -A id
	encrypted_db
	# the key id of each key, from databases of their own
	for tmp in "$K1" "$K2"; do
		nedb-put -q -d "$tmp.db" --tmk-file "$tmp" t x '{}'
		id[$tmp]=$(nedb-key -d "$tmp.db" status | jq -r .key_id)
	done
	# random kill points: a third of the rounds in the sanitizer suite
	local rounds
	rounds=$(sample 30)
	for ((round = 0; round < rounds; round++)); do
		nedb-key --tmk-file "$cur" rewrap --new-tmk-file "$new" \
			>/dev/null 2>&1 3>&- &
		pid=$!
		sleep "0.00$((RANDOM % 8))"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" || true
		# whichever won, one key opens and the other is refused
		if nedb-get --tmk-file "$new" users u1 >/dev/null 2>&1; then
			tmp=$cur cur=$new new=$tmp
		fi
		run -0 nedb-get --tmk-file "$cur" users u1
		assert_output '{"_id":"u1","n":1}'
		run -5 nedb-get --tmk-file "$new" users u1
		run -0 nedb-key status
		assert_output "{\"encrypted\":true,\"key_id\":\"${id[$cur]}\"}"
	done
	run -0 nedb-verify --tmk-file "$cur"
}

# ---- new -----------------------------------------------------------------------

@test "new writes 64 random hex digits and a newline, mode 0600" {
	run -0 --separate-stderr nedb-key new --out "$BATS_TEST_TMPDIR/k3"
	assert_output ""
	assert_equal "$stderr" ""
	run grep -cE '^[0-9a-f]{64}$' "$BATS_TEST_TMPDIR/k3"
	assert_output 1
	assert_equal "$(stat -c '%s %a' "$BATS_TEST_TMPDIR/k3")" "65 600"
	# and it is a key: a database opens with it
	run -0 nedb-put -q --tmk-file "$BATS_TEST_TMPDIR/k3" t x '{}'
	run -0 nedb-get --tmk-file "$BATS_TEST_TMPDIR/k3" t x
	# two keys differ
	! cmp -s "$K1" "$K2"
}

@test "new never overwrites a file (exit 3), nor follows a symbolic link" {
	local sum
	sum=$(sha256sum < "$K1")
	run -3 --separate-stderr nedb-key new --out "$K1"
	assert_equal "$stderr" "nedb-key: '$K1' exists: a key file is never overwritten"
	assert_equal "$(sha256sum < "$K1")" "$sum"
	ln -s "$BATS_TEST_TMPDIR/target" "$BATS_TEST_TMPDIR/link"
	run -3 nedb-key new --out "$BATS_TEST_TMPDIR/link"
	[ ! -e "$BATS_TEST_TMPDIR/target" ]
	run -5 --separate-stderr nedb-key new --out "$BATS_TEST_TMPDIR/no/such/dir"
	assert_equal "${#stderr_lines[@]}" 1
}

# ---- nedbd ---------------------------------------------------------------------

@test "nedbd --tmk-file creates and serves encrypted databases over HTTP" {
	NEDBD_ARGS=(--tmk-file "$K1")
	start_nedbd
	create shop
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"a","doc":{"n":1}}'
	expect 200
	http GET /v1/databases/shop/rows/users/a
	expect 200 '.n == 1'
	run -0 nedb-key -d "$DATA/shop" status
	assert_output --partial '"encrypted":true'
	stop_nedbd
	# the CLI reads what it wrote, with the same key only
	run -0 nedb-get -d "$DATA/shop" --tmk-file "$K1" users a
	assert_output '{"_id":"a","n":1}'
	run -5 nedb-get -d "$DATA/shop" users a
	# a database the CLI encrypted is served too
	nedb-put -q -d "$DATA/cli" --tmk-file "$K1" t x '{"v":2}'
	NEDBD_ARGS=(--tmk-file="$K1")
	start_nedbd
	http GET /v1/databases/cli/rows/t/x
	expect 200 '.v == 2'
}

@test "nedbd DELETE removes an encrypted database whole, key.enc and archive too" {
	NEDBD_ARGS=(--tmk-file "$K1")
	start_nedbd
	create shop
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"a","doc":{"n":1}}'
	expect 200
	http POST /v1/databases/shop/checkpoint
	expect 200
	nedb-checkpoint -d "$DATA/shop" --tmk-file "$K1" --prune >/dev/null
	[ -f "$DATA/shop/key.enc" ]
	http DELETE /v1/databases/shop
	expect 200 '.deleted == true'
	[ ! -e "$DATA/shop" ]
}

@test "nedbd --tmk-file serves encrypted databases over RESP2; without the key it answers an error" {
	NEDBD_ARGS=(--tmk-file "$K1")
	start_nedbd
	run -0 rcli SET greeting hello
	assert_output OK
	run -0 rdb shop 'SET k v'
	assert_output OK
	run -0 rcli GET greeting
	assert_output '"hello"'
	stop_nedbd
	run -0 nedb-key -d "$DATA/0" status
	assert_output --partial '"encrypted":true'
	run -0 nedb-get -d "$DATA/shop" --tmk-file "$K1" redis k
	assert_output --partial '"value":"v"'
	NEDBD_ARGS=()
	start_nedbd
	run rcli GET greeting
	assert_output --partial "it is encrypted (key id $(nedb-key -d "$DATA/0" status | jq -r .key_id))"
}

@test "nedbd without the key, or with another, answers 500 for an encrypted database and changes nothing" {
	local before id
	mkdir -p "$DATA"
	NEDB_DIR=$DATA/shop encrypted_db
	id=$(nedb-key -d "$DATA/shop" status | jq -r .key_id)
	before=$(NEDB_DIR=$DATA/shop sums)
	start_nedbd
	http GET /v1/databases/shop/rows/users/u1
	expect_error 500
	[[ $BODY == *"it is encrypted (key id $id)"* ]]
	http POST /v1/databases/shop/put -d '{"coll":"users","id":"z","doc":{}}'
	expect_error 500
	stop_nedbd
	NEDBD_ARGS=(--tmk-file "$K2")
	start_nedbd
	http GET /v1/databases/shop/rows/users/u1
	expect_error 500
	[[ $BODY == *"wrong key: the database's key id is $id"* ]]
	stop_nedbd
	assert_equal "$(NEDB_DIR=$DATA/shop sums)" "$before"
}

@test "nedbd with an unreadable key file exits 5 with one line; a bad option exits 2" {
	run -5 --separate-stderr env NEDBD_DATA="$DATA" NEDBD_PORT=0 \
		nedbd --tmk-file "$BATS_TEST_TMPDIR/nosuch"
	assert_equal "$stderr" "nedbd: cannot read key file '$BATS_TEST_TMPDIR/nosuch': No such file or directory"
	run -2 --separate-stderr nedbd --tmk-file
	assert_equal "${stderr_lines[0]}" "nedbd: option '--tmk-file' needs an argument"
}

@test "a database created with a malformed key is not created: no directory left" {
	run -5 --separate-stderr env NEDB_TMK=zz nedb-put -d "$BATS_TEST_TMPDIR/new" t a '{}'
	assert_equal "$stderr" "nedb-put: NEDB_TMK is not a key (want 64 hex digits, got 2 characters)"
	[ ! -e "$BATS_TEST_TMPDIR/new" ]
}

@test "derive: a key from a passphrase is scrypt's (RFC 7914), the same every time, and opens the database" {
	printf 'correct horse battery\n' >pass
	run -0 --separate-stderr nedb-key derive --passphrase-file pass --salt shop --out d1
	assert_output ''
	assert_equal "$(stat -c %a d1)" 600
	want=$(python3 -c "import hashlib; print(hashlib.scrypt(b'correct horse battery', salt=b'shop', n=2**17, r=8, p=1, maxmem=2**28, dklen=32).hex())")
	assert_equal "$(cat d1)" "$want"
	nedb-key derive --passphrase-file pass --salt shop --out d2
	assert_equal "$(cat d2)" "$want"
	nedb-key derive --passphrase-file pass --salt other --out d3
	[ "$(cat d3)" != "$want" ]
	nedb-put -q --tmk-file d1 t a '{"v":1}'
	run -0 nedb-get --tmk-file d2 t a
	assert_output '{"_id":"a","v":1}'
	run -5 nedb-get --tmk-file d3 t a
}

@test "derive: an empty passphrase, a missing option, or an existing key file is refused" {
	: >empty
	run -4 --separate-stderr nedb-key derive --passphrase-file empty --salt s --out k
	assert_equal "$stderr" "nedb-key: the passphrase is empty"
	[ ! -e k ]
	printf 'p\n' >pass
	run -2 nedb-key derive --passphrase-file pass --out k
	run -2 nedb-key derive --salt s --out k
	run -2 nedb-key new --salt s --out k
	echo keep >k
	run -3 --separate-stderr nedb-key derive --passphrase-file pass --salt s --out k
	assert_equal "$stderr" "nedb-key: 'k' exists: a key file is never overwritten"
	assert_equal "$(cat k)" keep
	run -5 nedb-key derive --passphrase-file nonesuch --salt s --out fresh.key
	[ ! -e fresh.key ]
	head -c 4097 /dev/zero | tr '\0' p >long
	run -4 --separate-stderr nedb-key derive --passphrase-file long --salt s --out fresh.key
	assert_equal "$stderr" "nedb-key: passphrase file 'long' is longer than 4096 bytes"
	[ ! -e fresh.key ]
}
