#!/usr/bin/env bats
# nedb-witness (SPEC section 9) and nedb-key signer new: a witness
# cosigns a log's checkpoint only when the log signed it and it extends,
# by a consistency proof, the last one it accepted for that origin; a
# forked history, a smaller size or a bad proof is refused, naming both
# roots.  Go's sumdb/note (tests/lib-proof/xcheck) opens what nedb signs
# and cosigns; nedb takes what Go signs.

load helper
load lib-proof/proof

setup_file() {
	build_xcheck
}

setup_more() {
	hooks_init
	nedb-key signer new log.example/a --out log.key > log.vk
	nedb-key signer new witness.example/w1 --out w.key > w.vk
	LVK=$(cat log.vk) WVK=$(cat w.vk)
}

teardown() {
	hooks_teardown
}

# A checkpoint of the tree of $1 leaves drawn from seed $2, signed by
# log.key (extension lines after).
cp() { mkproofs checkpoint "$1" "$2" log.example/a log.key "${@:3}"; }

witness() { nedb-witness --state st --key w.key --vkey "$LVK" "$@"; }

@test "signer new writes a 0600 signer key Go takes and prints the verifier key Go takes" {
	run nedb-key signer new example.com/log1 --out k
	assert_success
	[[ $output =~ ^example\.com/log1\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$ ]]
	vk=$output
	[ "$(stat -c %a k)" = 600 ]
	grep -qE '^PRIVATE\+KEY\+example\.com/log1\+[0-9a-f]{8}\+[A-Za-z0-9+/]{44}$' k
	# Go's note.NewSigner takes the signer key, note.NewVerifier the
	# verifier key, and note.Open checks one with the other
	printf 'hello\n' | "$XCHECK" sign "$(cat k)" > note
	run "$XCHECK" open "$vk" < note
	assert_success
	assert_output example.com/log1
	run -1 "$XCHECK" open "$(cat log.vk)" < note
}

@test "signer new never overwrites a key file and wants a valid name" {
	echo keep > k
	run -3 nedb-key signer new a --out k
	assert_equal "$(cat k)" keep
	run -2 nedb-key signer new 'a+b' --out k2
	run -2 nedb-key signer new 'a b' --out k2
	run -2 nedb-key signer new a
	run -2 nedb-key signer old a --out k2
	[ ! -e k2 ]
}

@test "the first checkpoint of an origin is cosigned, and Go opens both signatures" {
	cp 10 a > c10
	run --separate-stderr witness < c10
	assert_success
	printf '%s\n' "$output" > out
	# the checkpoint as it came, and one line more
	diff <(head -c "$(wc -c < c10)" out) c10
	[ "$(wc -l < out)" -eq $(($(wc -l < c10) + 1)) ]
	tail -1 out | grep -q '^— witness.example/w1 '
	run "$XCHECK" open "$LVK" "$WVK" < out
	assert_success
	assert_output $'log.example/a\nwitness.example/w1'
}

@test "a larger checkpoint with the consistency proof is cosigned and becomes the accepted one" {
	cp 10 a | witness > /dev/null
	cp 25 a > c25
	mkproofs one 25 a 10 > p
	run witness --proof p < c25
	assert_success
	# now 10 is smaller than the accepted 25
	run -1 witness < <(cp 10 a)
	cp 25 a | witness > /dev/null
}

@test "the same checkpoint again is cosigned again" {
	cp 7 a | witness > /dev/null
	run witness < <(cp 7 a)
	assert_success
	# cosigned by this witness already: the line is replaced, not added
	cp 7 a | witness | witness > twice
	[ "$(grep -c '^— witness.example/w1 ' twice)" -eq 1 ]
}

@test "a forked history of the same size is refused, naming both roots" {
	cp 10 a | witness > /dev/null
	old=$(sed -n 3p < <(cp 10 a))
	new=$(sed -n 3p < <(cp 10 b))
	run --separate-stderr -1 witness < <(cp 10 b)
	assert_output ""
	assert_equal "$stderr" "nedb-witness: 'log.example/a': forked history: size 10 has root $new, the accepted checkpoint root $old"
}

@test "a forked history at a larger size is refused whatever proof comes with it" {
	cp 10 a | witness > /dev/null
	# a valid proof, but within the other history
	mkproofs one 20 b 10 > p
	run --separate-stderr -1 witness --proof p < <(cp 20 b)
	assert_output ""
	[[ $stderr == *"not from the accepted size 10 (root $(sed -n 3p < <(cp 10 a)))"* ]]
	[[ $stderr == *"to 20 (root $(sed -n 3p < <(cp 20 b)))"* ]]
	# the accepted checkpoint is still the first one
	run witness < <(cp 10 a)
	assert_success
}

@test "a smaller size, a missing proof or a changed proof is refused" {
	cp 16 a | witness > /dev/null
	run --separate-stderr -1 witness < <(cp 15 a)
	[[ $stderr == *"size 15 (root "*") is smaller than the accepted 16 (root "* ]]
	run --separate-stderr -1 witness < <(cp 30 a)
	[[ $stderr == *"no consistency proof (--proof) from the accepted size 16"* ]]
	mkproofs one 30 a 16 > good
	mkproofs flips good > flipped
	# the checkpoint of size 30 (the same bytes every time: Ed25519
	# signs deterministically), made once
	cp 30 a > cp30
	while read -r line; do
		printf '%s\n' "$line" > p
		run --separate-stderr -1 witness --proof p < cp30
		assert_output ""
	done < <(sed -n '1~17p' flipped)
	run witness --proof good < cp30
	assert_success
}

@test "a checkpoint the log did not sign is refused" {
	nedb-key signer new log.example/a --out other.key > /dev/null
	mkproofs checkpoint 5 a log.example/a other.key > c
	run --separate-stderr -1 witness < c
	assert_equal "$stderr" "nedb-witness: 'log.example/a': no signature by the log key $(cut -d+ -f1,2 log.vk)"
	[ ! -e st ] || [ -z "$(ls st | grep -v lock)" ]
	# a changed signature byte
	cp 5 a > good
	python3 - good > bad <<'PY'
import base64, sys
t = open(sys.argv[1]).read().split("\n")
i = max(j for j, l in enumerate(t) if l.startswith("\u2014 "))
name, b = t[i][2:].split(" ", 1)
r = bytearray(base64.b64decode(b)); r[40] ^= 1
t[i] = "\u2014 %s %s" % (name, base64.b64encode(bytes(r)).decode())
sys.stdout.write("\n".join(t))
PY
	run --separate-stderr -1 witness < bad
	[[ $stderr == *"invalid signature for key log.example/a+"* ]]
}

@test "malformed checkpoints and proofs exit 4" {
	printf 'log.example/a\n10\nnot-base64\n\n— log.example/a AAAAAAAA\n' > c
	run --separate-stderr -4 witness < c
	[ "${#stderr_lines[@]}" -eq 1 ]
	run -4 witness < /dev/null
	cp 3 a | witness > /dev/null
	echo '{"old":3' > p
	run -4 witness --proof p < <(cp 4 a)
	run -2 nedb-witness --state st --key w.key < <(cp 4 a)
	run -2 witness --vkey nonsense < <(cp 4 a)
}

@test "origins are kept apart, and the state holds the last accepted checkpoint" {
	cp 4 a | witness > /dev/null
	mkproofs checkpoint 9 x log.example/a log.key > /dev/null
	nedb-key signer new log.example/b --out b.key > b.vk
	mkproofs checkpoint 9 x log.example/b b.key > cb
	run nedb-witness --state st --key w.key --vkey "$(cat b.vk)" < cb
	assert_success
	mkproofs one 6 a 4 > p
	cp 6 a | witness --proof p > /dev/null
	# one file per origin, no temporary file left
	[ "$(ls st | grep -vc '^lock$')" -eq 2 ]
	grep -lx 6 st/* > /dev/null
	cat st/* | grep -q '^log.example/b$'
	! ls -a st | grep -q tmp
}

@test "a checkpoint Go signs with its own key is witnessed, extension lines and all" {
	"$XCHECK" genkey go.example/log > gokeys
	root=$(python3 -c 'import base64, sys
print(base64.b64encode(bytes.fromhex(sys.argv[1])).decode())' "$(mkproofs root 3 a)")
	printf 'go.example/log\n3\n%s\nx-ext 1\n' "$root" |
		"$XCHECK" sign "$(sed -n 1p gokeys)" > c
	run nedb-witness --state st --key w.key --vkey "$(sed -n 2p gokeys)" < c
	assert_success
	printf '%s\n' "$output" > out
	run "$XCHECK" open "$(sed -n 2p gokeys)" "$WVK" < out
	assert_success
	run nedb-proof verify -q --checkpoint out --vkey "$(sed -n 2p gokeys)" \
		--witness "$WVK" < <(mkproofs incl 3 a)
	assert_success
}

@test "a witness that cannot record the checkpoint cosigns nothing and keeps the old one" {
	cp 4 a | witness > /dev/null
	before=$(cat st/*[0-9a-f])
	mkproofs one 8 a 4 > p
	run --separate-stderr -5 env NEDB_TEST_FAIL=witness-rename \
		nedb-witness --state st --key w.key --vkey "$LVK" --proof p < <(cp 8 a)
	assert_output ""
	[ "${#stderr_lines[@]}" -eq 1 ]
	assert_equal "$(cat st/*[0-9a-f])" "$before"
	! ls -a st | grep -q '^\.tmp'
}

@test "kill -9 before the rename: the old checkpoint stands, the leftover goes, the next run records" {
	cp 4 a | witness > /dev/null
	before=$(cat st/*[0-9a-f])
	mkproofs one 8 a 4 > p
	cp 8 a > c8
	NEDB_TEST_PAUSE=witness-rename NEDB_TEST_DIR=$HOOKS \
		nedb-witness --state st --key w.key --vkey "$LVK" --proof p \
		< c8 > out 3>&- &
	PIDS+=($!)
	wait_reached witness-rename
	kill -9 "${PIDS[0]}"
	wait "${PIDS[0]}" || true
	[ ! -s out ]
	assert_equal "$(cat st/*[0-9a-f])" "$before"
	ls -a st | grep -q '^\.tmp\.'
	# the same checkpoint again: recorded and cosigned, the leftover gone
	run witness --proof p < c8
	assert_success
	! ls -a st | grep -q '^\.tmp'
	diff st/*[0-9a-f] c8
}

@test "a --proof file or a checkpoint file that cannot be read: exit 5, one line, nothing recorded" {
	cp 4 a | witness > /dev/null
	before=$(cat st/*[0-9a-f])
	run --separate-stderr -5 nedb-witness --state st --key w.key --vkey "$LVK" --proof nosuch.json < <(cp 8 a)
	assert_output ""
	assert_equal "$stderr" "nedb-witness: cannot open 'nosuch.json': No such file or directory"
	assert_equal "$(cat st/*[0-9a-f])" "$before"
	run --separate-stderr -5 nedb-proof verify --checkpoint nosuch.cp --vkey "$LVK" < /dev/null
	assert_output ""
	assert_equal "$stderr" "nedb-proof: cannot open 'nosuch.cp': No such file or directory"
	run --separate-stderr -5 nedb-proof verify --root "$(printf '0%.0s' {1..64})" nosuch.json
	assert_equal "$stderr" "nedb-proof: cannot open 'nosuch.json': No such file or directory"
}
