#!/usr/bin/env bats
# The man pages and shell completions: lint, SYNOPSIS against --help
# (nedbd's section 8 page too, with its environment),
# every EXAMPLES block run, the nedb-format(5) replay script run against
# real logs, and the completions loaded in their shells.

load helper

setup_more() {
	ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
	BIN="$(dirname "$(command -v nedb-put)")"
	CHECK="$ROOT/tests/format-check.py"
}

# The text of a page as a terminal shows it, without bold/underline.
render() {
	MANWIDTH=200 mandoc -Tascii -Owidth=200 "$1" | sed 's/.\x08//g'
}

# The lines of section $2 of page $1, without indentation.
section() {
	render "$1" | awk -v s="$2" '
		/^[A-Z][A-Z ]*$/ { on = ($0 == s); next }
		on && NF { sub(/^ +/, ""); print }'
}

# The usage lines of a command's --help: up to the first blank line.
usage_lines() {
	"$1" --help | awk 'NF == 0 { exit } { sub(/^(usage:)? +/, ""); print }'
}

# The options a command's --help lists (-d, --db, ...).
help_options() {
	"$1" --help | grep -oE '(^| )--?[a-z][a-z-]*' | sort -u
}

# The man page of a command: section 8 for the server, 1 for the others.
man_page() {
	case ${1##*/} in
	nedbd) echo "$ROOT/man/nedbd.8" ;;
	*) echo "$ROOT/man/${1##*/}.1" ;;
	esac
}

# The replay script of nedb-format(5), extracted from the page source.
replay_script() {
	python3 "$CHECK" file "$ROOT/man/nedb-format.5" nedb-replay.py \
		> "$BATS_TEST_TMPDIR/nedb-replay.py"
	echo "$BATS_TEST_TMPDIR/nedb-replay.py"
}

# A database with every kind of op: ids with quotes, backslashes and
# non-ASCII, idempotency keys, expiry (passed and pending), tags, merges,
# explicit nonces, deletes, a stream, provenance, edges (linked, relinked
# and unlinked), indexes (created, dropped), expiry set, changed and
# cleared, a dropped collection with an expiring document, a sweep, and
# checkpoints in between.
busy_log() {
	nedb-put -q users alice '{"name":"Alice","age":31,"n":12345678901234567890}'
	nedb-put -q --idem 'k"1\x' --ttl 3600 users 'bob "the" \builder/ é' \
		'{"name":"Bob","s":"\u00e9\n"}'
	nedb-put -q --ttl 1 tmp gone '{"x":1}'
	nedb-put -q --client app --nonce 5 --tag a --tag b users carol '{"c":[1,{"d":null}]}'
	nedb-checkpoint >/dev/null
	nedb-put -q --merge users alice '{"age":32}'
	nedb-put -q --ttl 100 users alice '{"v":2}'
	nedb-put -q users alice '{"v":3}'
	nedb-delete -q --idem del1 --client app --nonce 9 users carol
	printf '{"_id":"s%d","n":%d}\n' 1 1 2 2 3 3 | nedb-put -q --ttl 3000 stream
	nedb-delete -q stream s2
	nedb-link users:alice knows 'users:bob "the" \builder/ é' >/dev/null
	nedb-link --idem 'lnk"é' --client app users:alice knows users:dave >/dev/null
	nedb-link users:dave 'likes:a-b' users:alice >/dev/null
	nedb-link users:alice knows users:dave >/dev/null	# relinked
	nedb-link --unlink users:dave 'likes:a-b' users:alice >/dev/null
	nedb-index users age ordered >/dev/null
	nedb-index users name search >/dev/null
	nedb-index users v eq >/dev/null
	nedb-index --drop users name >/dev/null
	nedb-put -q --caused-by 1,2,6 --evidence 'said "so" \ ünter' \
		--confidence 0.75 --valid-from 2026-01-01 --valid-to 'T"2' \
		users erin '{"e":1}'
	nedb-expire users erin 3600 >/dev/null
	nedb-expire --persist users 'bob "the" \builder/ é' >/dev/null
	nedb-expire --idem 'x"p' --client app users alice 1 >/dev/null
	# versions of files (nedb-file): the files table of the digest
	printf 'a\0b\n' | nedb-file put --idem 'f"1' 'docs/a "b" é.bin' >/dev/null
	seq 1 20000 | nedb-file put 'docs/a "b" é.bin' >/dev/null
	printf '' | nedb-file put empty >/dev/null
	nedb-checkpoint >/dev/null
	nedb-put -q --ttl 3000 stream s4 '{"n":4}'
	nedb-coll --drop stream >/dev/null
	nedb-put -q stream s5 '{"n":5}'
	sleep 1.1	# tmp/gone and users/alice expire
	nedb-sweep >/dev/null	# and are deleted
	nedb-put -q --ttl 1 tmp gone2 '{"x":2}'
	sleep 1.1	# tmp/gone2 expires, and stays in the state
	nedb-put -q users dave '{"n":12345678901234567890,"f":1.50}'
	# a patch: an update of a large document (every operator)
	nedb-put -q users big "{\"n\":1,\"f\":1.50,\"g\":0,\"l\":[1,1.0,{\"k\":1},\"a\"],\"o\":{\"x\":[1]},\"p\":\"$(printf '%0980d' 0)\"}"
	nedb-update -q users '{"_id":"big"}' '{"$inc":{"n":1,"f":0.25},"$push":{"o.x":"\u00e9"},"$set":{"o.y.z":[1, 2],"o.x.3":null},"$pull":{"l":1},"$unset":{"g":1}}'
	nedb-checkpoint >/dev/null
}

setup_file() {
	export NEDB_DIR="$BATS_FILE_TMPDIR/busy"
	busy_log
}

# A copy of the busy database as this test's database.
busy_copy() {
	cp -r "$BATS_FILE_TMPDIR/busy" "$NEDB_DIR"
}

@test "every man page is clean under mandoc -Tlint at warning level" {
	run mandoc -Tlint -W warning "$ROOT"/man/*
	assert_success
	assert_output ""
}

@test "every command has a man page and every section 1 page a command" {
	local cmd page n=0
	for cmd in "$BIN"/nedb-*; do
		[ -f "$ROOT/man/${cmd##*/}.1" ] ||
			fail "${cmd##*/} has no man/${cmd##*/}.1"
		n=$((n + 1))
	done
	[ "$n" -ge 6 ] || fail "only $n commands in $BIN"
	for page in "$ROOT"/man/*.1; do
		page=${page##*/}
		[ -x "$BIN/${page%.1}" ] || fail "$page documents no command"
	done
	[ -f "$ROOT/man/nedb.7" ] && [ -f "$ROOT/man/nedb-format.5" ]
}

@test "the server has its section 8 page and every section 8 page a command" {
	local page
	[ -x "$BIN/nedbd" ] || fail "no nedbd in $BIN"
	[ -f "$ROOT/man/nedbd.8" ] || fail "nedbd has no man/nedbd.8"
	for page in "$ROOT"/man/*.8; do
		page=${page##*/}
		[ -x "$BIN/${page%.8}" ] || fail "$page documents no command"
	done
}

@test "every command's --help usage is its page's SYNOPSIS" {
	local cmd name page
	for cmd in "$BIN"/nedb-* "$BIN/nedbd"; do
		name=${cmd##*/}
		page=$(man_page "$cmd")
		run diff <(usage_lines "$cmd") <(section "$page" SYNOPSIS)
		assert_success
		# and the page's NAME is the command
		run section "$page" NAME
		assert_output --regexp "^$name - "
	done
}

@test "every option in a command's --help is documented in its page" {
	local cmd name opt text
	for cmd in "$BIN"/nedb-* "$BIN/nedbd"; do
		name=${cmd##*/}
		text=$(render "$(man_page "$cmd")")
		for opt in $(help_options "$cmd"); do
			[[ $text == *"$opt"* ]] ||
				fail "$name: $opt is not in $(basename "$(man_page "$cmd")")"
		done
	done
}

@test "every variable in nedbd's --help is in nedbd(8)'s ENVIRONMENT with its default" {
	local var dflt entries n=0
	# one line per entry of the section: NEDBD_X and its text
	entries=$(section "$ROOT/man/nedbd.8" ENVIRONMENT | awk '
		/^NEDBD_[A-Z0-9_]+ / { if (e != "") print e; e = $0; next }
		e != "" { e = e " " $0 }
		END { if (e != "") print e }')
	# "NEDBD_PORT (7070)", "NEDBD_MAX_BODY (bytes; 33554432)",
	# "NEDBD_RESP2_PORT (0: off)": the default is the last part, up to a colon
	while IFS=$'\t' read -r var dflt; do
		n=$((n + 1))
		grep -q "^$var " <<<"$entries" ||
			fail "$var is not in the ENVIRONMENT of nedbd.8"
		[[ $(grep "^$var " <<<"$entries") == *"$dflt"* ]] ||
			fail "nedbd.8 does not give $var's default, $dflt"
	done < <("$BIN/nedbd" --help | tr '\n' ' ' | tr -s ' ' |
		grep -oE 'NEDBD_[A-Z0-9_]+ \([^)]*\)' |
		sed -E 's/^([A-Z0-9_]+) \((.*; )?([^:;]*)(:.*)?\)$/\1\t\3/')
	[ "$n" -ge 8 ] || fail "only $n variables in nedbd --help"
}

@test "every EXAMPLES display is marked as run, file or not run" {
	run python3 "$CHECK" blocks "$ROOT"/man/*
	assert_success
	assert_output ""
}

@test "the examples of nedb-put(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-put.1"
	assert_success
}

@test "the examples of nedb-get(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-get.1"
	assert_success
}

@test "the examples of nedb-delete(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-delete.1"
	assert_success
}

@test "the examples of nedb-log(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-log.1"
	assert_success
}

@test "the examples of nedb-verify(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-verify.1"
	assert_success
}

@test "the examples of nedb-checkpoint(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-checkpoint.1"
	assert_success
}

@test "the examples of nedb-format(5) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-format.5"
	assert_success
}

@test "the examples of nedb(7) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb.7"
	assert_success
}

@test "the examples of nedb-query(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-query.1"
	assert_success
}

@test "the examples of nedb-update(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-update.1"
	assert_success
}

@test "the examples of nedb-index(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-index.1"
	assert_success
}

@test "the examples of nedb-link(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-link.1"
	assert_success
}

@test "the examples of nedb-coll(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-coll.1"
	assert_success
}

@test "the examples of nedb-nql(7) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-nql.7"
	assert_success
}

@test "the examples of nedb-expire(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-expire.1"
	assert_success
}

@test "the examples of nedb-redact(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-redact.1"
	assert_success
}

@test "the examples of nedb-sweep(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-sweep.1"
	assert_success
}

@test "the examples of nedb-stats(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-stats.1"
	assert_success
}

@test "the examples of nedb-redis(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-redis.1"
	assert_success
}

@test "the examples of nedb-redis-follow(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-redis-follow.1"
	assert_success
}

@test "the examples of nedb-diff(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-diff.1"
	assert_success
}

@test "the examples of nedb-key(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-key.1"
	assert_success
}

@test "the examples of nedb-proof(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-proof.1"
	assert_success
}

@test "the examples of nedb-file(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-file.1"
	assert_success
}

@test "the examples of nedb-witness(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-witness.1"
	assert_success
}

@test "the examples of nedb(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb.1"
	assert_success
}

@test "the examples of nedb-shell(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-shell.1"
	assert_success
}

@test "the umbrella's --help usage is nedb(1)'s SYNOPSIS, and its options are in the page" {
	local opt text
	run diff <(usage_lines "$BIN/nedb") <(section "$ROOT/man/nedb.1" SYNOPSIS)
	assert_success
	text=$(render "$ROOT/man/nedb.1")
	for opt in $(help_options "$BIN/nedb"); do
		[[ $text == *"$opt"* ]] || fail "nedb: $opt is not in nedb.1"
	done
}

@test "the examples of nedb-sql(1) run as shown" {
	run python3 "$CHECK" run "$ROOT/man/nedb-sql.1"
	assert_success
}

@test "every page with examples has its test above" {
	local page
	for page in "$ROOT"/man/*.[157]; do
		grep -q '^\.\\" example' "$page" || continue
		grep -qF "run python3 \"\$CHECK\" run \"\$ROOT/man/${page##*/}\"" \
			"$BATS_TEST_FILENAME" || fail "no test runs ${page##*/}"
	done
}

@test "the nedb-format(5) script verifies a real log as nedb-verify does" {
	local script
	script=$(replay_script)
	busy_copy
	run --separate-stderr python3 "$script" "$NEDB_DIR/log.aof"
	assert_success
	run nedb-verify
	assert_success
	assert_equal "$stderr" "$output"
}

@test "the nedb-format(5) script's replay equals what nedb-get prints" {
	local script expected coll id
	script=$(replay_script)
	busy_copy
	# every document ever written, read back by nedb-get in the order
	# of the script (by collection, then id, as bytes)
	expected=$(nedb-log | jq -r 'select(.id) | "\(.coll)\t\(.id)"' |
		LC_ALL=C sort -u |
		while IFS=$'\t' read -r coll id; do
			nedb-get "$coll" "$id" 2>/dev/null || true
		done)
	[ -n "$expected" ]
	run --separate-stderr python3 "$script" "$NEDB_DIR/log.aof"
	assert_success
	assert_output "$expected"
	# the expired, deleted and dropped ones are not there, the numbers
	# are exact
	refute_output --partial '"_id":"gone"'
	refute_output --partial '"_id":"gone2"'
	refute_output --partial '"_id":"alice"'
	refute_output --partial '"_id":"carol"'
	refute_output --partial '"_id":"s1"'
	assert_output --partial '{"_id":"s5","n":5}'
	assert_output --partial '{"_id":"dave","n":12345678901234567890,"f":1.50}'
	assert_output --partial '{"_id":"big","n":2,"f":1.75,"l":[{"k":1},"a"],"o":{"x":[1,"\u00e9",null,null],"y":{"z":[1,2]}},"p":"0'

}

@test "the nedb-format(5) script applies the Redis operators as nedb does" {
	# The cases of the unit test of lib/proto/redis.c's operators (every
	# operator, escapes, scores, updates and documents that do not take
	# them, changed bytes, a sample of long random runs), written as
	# (document, update, result or "-") in hex, run through the page's
	# patch(): the same text, or both refuse.
	local script build="$ROOT/${NEDB_UNIT_BUILD:-build}"
	[ "${NEDB_SUITE:-1}" = 2 ] && build="$ROOT/build-san"
	if [ ! -x "$build/unit/test_rops" ]; then
		[ -z "${NEDB_UNIT_BUILD:-}" ] || fail "test_rops not built in $build"
		skip "unit test rops not built"
	fi
	script=$(replay_script)
	NEDB_ROPS_CASES="$BATS_TEST_TMPDIR/cases" run "$build/unit/test_rops"
	assert_success
	run python3 - "$script" "$BATS_TEST_TMPDIR/cases" <<-'EOF'
		import importlib.util, sys
		spec = importlib.util.spec_from_file_location("r", sys.argv[1])
		r = importlib.util.module_from_spec(spec)
		spec.loader.exec_module(r)
		n = applied = bad = 0
		for line in open(sys.argv[2]):
		    doc, upd, want = line.rstrip("\n").split(" ")
		    doc, upd = bytes.fromhex(doc), bytes.fromhex(upd)
		    got = "-"
		    if r.ROP.match(upd):    # else not one: nedb-update's
		        try:
		            got = r.patch(doc, upd).hex()
		        except (ValueError, KeyError, TypeError):
		            pass
		    n += 1
		    applied += want != "-"
		    if got != want:
		        bad += 1
		        if bad <= 5:
		            print("differs:", doc, upd, want, got)
		print(n, "cases,", applied, "applied,", bad, "differ")
	EOF
	assert_success
	assert_output --regexp '^[0-9]{4,} cases, [0-9]{3,} applied, 0 differ$'
}

@test "the busy log has every kind of op, and checkpoints after them" {
	busy_copy
	run sh -c 'nedb-log | jq -r .op | sort -u | tr "\n" " "'
	assert_output "checkpoint delete drop expire file genesis index link patch put unindex unlink "
	# a checkpoint after the edges, indexes and provenance, and one
	# after the drop: the script recomputes both digests
	run sh -c 'nedb-log | jq -r .op | tail -n 1'
	assert_output checkpoint
	run sh -c 'nedb-log | jq -c "select(.caused_by) | [.caused_by, .confidence]"'
	assert_output '[[1,2,6],0.75]'
}

@test "the nedb-format(5) script's digests are those of nedb-checkpoint" {
	local script
	script=$(replay_script)
	busy_copy
	# a state with edges and indexes that no checkpoint covers yet: the
	# script, fed the log with the checkpoint nedb writes now, accepts it
	nedb-link users:erin knows users:dave >/dev/null
	nedb-index users e eq >/dev/null
	# indexes of several kinds on one field, one of them dropped alone
	nedb-index users e ordered >/dev/null
	nedb-index users e search >/dev/null
	nedb-index --drop users e search >/dev/null
	nedb-checkpoint >/dev/null
	run --separate-stderr python3 "$script" "$NEDB_DIR/log.aof"
	assert_success
	assert_equal "$stderr" "$(nedb-verify)"
	run nedb-verify --determinism
	assert_success
}

@test "the nedb-format(5) script reports a flipped byte where nedb-verify does" {
	local script
	script=$(replay_script)
	busy_copy
	python3 - "$NEDB_DIR/log.aof" <<-'EOF'
		import sys
		p = sys.argv[1]
		b = bytearray(open(p, "rb").read())
		b[b.index(b'"age":31') + 6] ^= 0x01      # 31 -> 30
		open(p, "wb").write(b)
	EOF
	run --separate-stderr python3 "$script" "$NEDB_DIR/log.aof"
	assert_failure 1
	assert_equal "$stderr" '{"ok":false,"seq":1,"error":"hash mismatch"}'
	run -1 nedb-verify
	assert_output '{"ok":false,"seq":1,"error":"hash mismatch"}'
}

@test "the nedb-format(5) script detects a change to any byte of a log" {
	# the page's Python script alone, on a copy of a log: no nedb code
	# runs, so the sanitizer suite has nothing to look at here
	[ "${NEDB_SUITE:-1}" = 1 ] || skip "runs no nedb code: the first suite runs it"
	local script
	script=$(replay_script)
	busy_copy
	# Every bit pattern at every byte but the final newline (changing that
	# one makes the last line a torn tail, which is not damage).
	run python3 - "$script" "$NEDB_DIR/log.aof" <<-'EOF'
		import importlib.util, io, sys
		spec = importlib.util.spec_from_file_location("r", sys.argv[1])
		r = importlib.util.module_from_spec(spec)
		spec.loader.exec_module(r)
		data = open(sys.argv[2], "rb").read()
		r.replay(data)
		missed = []
		sys.stderr = io.StringIO()
		for i in range(len(data) - 1):
		    for x in (0x01, 0x20, 0x80):
		        b = bytearray(data)
		        b[i] ^= x
		        try:
		            r.replay(bytes(b))
		            missed.append((i, x))
		        except ValueError:
		            pass
		print(len(data), "bytes,", len(missed), "changes missed", missed[:5])
	EOF
	assert_success
	assert_output --regexp ' bytes, 0 changes missed'
}

@test "the nedb-format(5) script ignores a torn tail with a warning" {
	local script head
	script=$(replay_script)
	busy_copy
	head=$(nedb-verify)
	printf '{"seq":99,"prev":"00' >> "$NEDB_DIR/log.aof"
	run --separate-stderr python3 "$script" "$NEDB_DIR/log.aof"
	assert_success
	assert_equal "$stderr" "warning: torn tail: 20 bytes
$head"
}

@test "the nedb-format(5) script and nedb agree that a forged checkpoint is bad" {
	local script
	script=$(replay_script)
	busy_copy
	# Change the state of the first checkpoint and rehash the chain, as
	# a forger would: every line checks out but that digest.
	python3 - "$NEDB_DIR/log.aof" "$BATS_TEST_TMPDIR/forged.aof" <<-'EOF'
		import hashlib, json, sys
		out, prev, forged = [], bytes(32), False
		for line in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
		    op = json.loads(line)
		    body = line[:-75] + b"}"
		    body = body.replace(op["prev"].encode(), prev.hex().encode(), 1)
		    if op["op"] == "checkpoint" and not forged:
		        body = body.replace(op["state"].encode(), b"0" * 64, 1)
		        forged = True
		    prev = hashlib.blake2b(prev + body, digest_size=32).digest()
		    out.append(body[:-1] + b',"hash":"%s"}' % prev.hex().encode())
		open(sys.argv[2], "wb").write(b"\n".join(out) + b"\n")
	EOF
	run --separate-stderr python3 "$script" "$BATS_TEST_TMPDIR/forged.aof"
	assert_failure 1
	assert_equal "$stderr" '{"ok":false,"seq":5,"error":"state digest mismatch"}'
	mkdir "$BATS_TEST_TMPDIR/forged"
	cp "$BATS_TEST_TMPDIR/forged.aof" "$BATS_TEST_TMPDIR/forged/log.aof"
	run -1 nedb-verify -d "$BATS_TEST_TMPDIR/forged" --determinism
	assert_output --partial '"error":"state digest at checkpoint seq 5'
}

# Runs bash completion for the words given (the last one is completed)
# and prints the candidates, one per line.  Uses bash-completion when it
# is installed, else minimal stand-ins for the two helpers the script
# calls.
complete_bash() {
	bash --norc --noprofile -s -- "$@" <<-EOF 2>&1
		if [ -f /usr/share/bash-completion/bash_completion ]; then
			. /usr/share/bash-completion/bash_completion
		else
			_init_completion() {
				COMPREPLY=() split=false words=("\${COMP_WORDS[@]}")
				cword=\$COMP_CWORD cur=\${COMP_WORDS[COMP_CWORD]}
				prev=\${COMP_WORDS[COMP_CWORD-1]}
			}
			_filedir() { COMPREPLY=(\$(compgen -d -- "\$cur")); }
		fi
		. "$ROOT/completions/nedb.bash" || exit 9
		COMP_WORDS=("\$@") COMP_CWORD=\$((\$# - 1))
		COMP_LINE="\$*" COMP_POINT=\${#COMP_LINE}
		_nedb "\$1" "\${COMP_WORDS[-1]}" "\${COMP_WORDS[-2]}"
		printf '%s\n' "\${COMPREPLY[@]}"
	EOF
}

@test "the bash completion script loads without errors" {
	run bash --norc --noprofile -c "
		[ -f /usr/share/bash-completion/bash_completion ] &&
			. /usr/share/bash-completion/bash_completion
		. '$ROOT/completions/nedb.bash' && complete -p nedb-put nedb-log"
	assert_success
	assert_output "complete -F _nedb nedb-put
complete -F _nedb nedb-log"
}

@test "bash completes nedb-put -- with its options, --idem among them" {
	run complete_bash nedb-put --
	assert_success
	assert_line --index 0 --regexp '^--'
	assert_line -- --idem
	assert_line -- --if-seq
	assert_line -- --db
	refute_line -- --as-of
}

@test "bash completes every option of every command's --help" {
	local cmd name opt
	for cmd in "$BIN"/nedb-* "$BIN/nedbd"; do
		name=${cmd##*/}
		run complete_bash "$name" -
		for opt in $(help_options "$cmd"); do
			assert_line -- "$opt"
		done
	done
}

@test "bash completes nedb's commands, then each command's own options and arguments" {
	run complete_bash nedb q
	assert_output query
	run complete_bash nedb -d /tmp ver
	assert_output verify
	run complete_bash nedb help che
	assert_output checkpoint
	run complete_bash nedb -
	assert_output "-d
--db
--tmk-file
-h
--help
--version"
	# after the command, as nedb-COMMAND
	run complete_bash nedb query --ta
	assert_output --table
	run complete_bash nedb -d /tmp index users age ''
	assert_output "eq
ordered
search"
	run complete_bash nedb checkpoint --no-p
	assert_output --no-progress
}

@test "bash completes --durability with the three modes and -d with directories" {
	run complete_bash nedb-get --durability ''
	assert_output "durable
safe
fast"
	mkdir -p "$BATS_TEST_TMPDIR/dirs/db1" "$BATS_TEST_TMPDIR/dirs/db2"
	touch "$BATS_TEST_TMPDIR/dirs/dbfile"
	cd "$BATS_TEST_TMPDIR/dirs"
	run complete_bash nedb-log -d db
	assert_line db1
	assert_line db2
	refute_line dbfile
}

@test "bash completes the kinds of nedb-index, for --drop too" {
	run complete_bash nedb-index --client c users age ''
	assert_output "eq
ordered
search"
	run complete_bash nedb-index --drop users age ''
	assert_output "eq
ordered
search"
	run complete_bash nedb-index --list ''
	refute_output --partial ordered
	run complete_bash nedb-put --caused-by ''
	assert_output ""
}

@test "bash completes nedb-redis's commands in the case typed, then no options" {
	run complete_bash nedb-redis HG
	assert_output "HGET
HGETALL"
	run complete_bash nedb-redis --raw -d db lra
	assert_output lrange
	run complete_bash nedb-redis --r
	assert_output --raw
	run complete_bash nedb-redis SET k -
	assert_output ""
}

@test "bash and zsh complete exactly the commands of nedb-redis's table (COMMAND LIST)" {
	local table
	table=$(nedb-redis -d "$BATS_TEST_TMPDIR/cl" COMMAND LIST |
		sed 's/.*"\(.*\)"/\1/' | tr a-z A-Z | sort)
	[ "$(wc -l <<<"$table")" -gt 50 ]
	run complete_bash nedb-redis ''
	assert_output "$table"
	run sed -n "s/.*'1::Redis command:(\(.*\))'.*/\1/p" "$ROOT/completions/_nedb"
	assert_output "$(tr '\n' ' ' <<<"$table" | sed 's/ $//')"
}

@test "bash completes nedb-proof verify and nedb-witness, with files where files go" {
	mkdir -p "$BATS_TEST_TMPDIR/pf/pdir"
	cd "$BATS_TEST_TMPDIR/pf"
	run complete_bash nedb-proof verify --root abc p
	assert_line pdir
	run complete_bash nedb-proof verify --vkey ''
	assert_output ""
	run complete_bash nedb-witness --state p
	assert_line pdir
	run complete_bash nedb-witness --proof p
	assert_line pdir
	run complete_bash nedb-witness --key k.key ''
	assert_output ""
}

@test "bash completes nedbd with its options only, and no arguments" {
	run bash --norc --noprofile -c ". '$ROOT/completions/nedb.bash' &&
		complete -p nedbd"
	assert_output "complete -F _nedb nedbd"
	run complete_bash nedbd -
	assert_output "--tmk-file
-h
--help
--version"
	run complete_bash nedbd ''
	assert_output ""
}

@test "bash completes nedb-key's subcommands, and key files after --tmk-file, --new-tmk-file and its --out" {
	run complete_bash nedb-key ''
	assert_output "status
rewrap
new
derive
signer"
	run complete_bash nedb-key signer ''
	assert_output new
	run complete_bash nedb-key --tmk-file k.key re
	assert_output rewrap
	run complete_bash nedb-key rewrap ''
	assert_output ""
	mkdir -p "$BATS_TEST_TMPDIR/keys/kdir"
	touch "$BATS_TEST_TMPDIR/keys/k1.key"
	cd "$BATS_TEST_TMPDIR/keys"
	for opt in --tmk-file --new-tmk-file --out; do
		run complete_bash nedb-key "$opt" k
		assert_line kdir
		if [ -f /usr/share/bash-completion/bash_completion ]; then
			assert_line k1.key	# (the stand-in _filedir offers directories only)
		fi
	done
	run complete_bash nedb-get --tmk-file k
	assert_line kdir
	run complete_bash nedbd --tmk-file k
	assert_line kdir
	# nedb-link's --out takes no file: the node comes next
	run complete_bash nedb-link --out k
	assert_output ""
}

@test "bash completes nedb-proof's subcommands and its --size" {
	run complete_bash nedb-proof ''
	assert_output "root
inclusion
consistency
verify
checkpoint"
	run complete_bash nedb-proof --size 3 i
	assert_output inclusion
	run complete_bash nedb-proof root --si
	assert_output --size
	run complete_bash nedb-proof inclusion ''
	assert_output ""
}

@test "the zsh completion file parses" {
	command -v zsh >/dev/null || skip "zsh is not installed"
	run zsh -n "$ROOT/completions/_nedb"
	assert_success
	assert_output ""
	run head -n 1 "$ROOT/completions/_nedb"
	local cmd
	for cmd in "$BIN"/nedb-* "$BIN/nedbd"; do
		assert_output --partial " ${cmd##*/}"
	done
}
