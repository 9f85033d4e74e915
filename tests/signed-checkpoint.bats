#!/usr/bin/env bats
# Signed checkpoints (SPEC §9): nedb-checkpoint --sign makes a C2SP
# tlog-checkpoint of the Merkle tree of the ops, signed as a sumdb/note,
# kept in the database; nedb-proof checkpoint prints it, nedb-proof
# inclusion --tlog-proof carries it, and a witness cosigns the next one
# given the consistency proof nedb-proof prints.  Go's sumdb/note
# (tests/lib-proof/xcheck) opens what nedb signs.

load helper
load lib-proof/proof

setup_file() {
	build_xcheck
}

setup_more() {
	nedb-key signer new log.example/a --out log.key > log.vk
	nedb-key signer new witness.example/w1 --out w.key > w.vk
	LVK=$(cat log.vk) WVK=$(cat w.vk)
	for i in 1 2 3; do nedb-put -q users "u$i" "{\"n\":$i}"; done
}

@test "--sign: the receipt carries a note Go opens, of the tree with the checkpoint op, kept for nedb-proof checkpoint" {
	run --separate-stderr nedb-checkpoint --sign log.key
	assert_success
	seq=$(jq -r .seq <<<"$output")
	jq -j .note <<<"$output" > note
	# origin nedb/<16 hex of the genesis hash>, size seq + 1, the root
	gen=$(nedb-log | head -1 | jq -r .hash)
	root=$(nedb-proof root | jq -r .root)
	assert_equal "$(sed -n 1p note)" "nedb/${gen:0:16}"
	assert_equal "$(sed -n 2p note)" "$((seq + 1))"
	assert_equal "$(sed -n 3p note | base64 -d | od -An -tx1 | tr -d ' \n')" "$root"
	run "$XCHECK" open "$LVK" < note
	assert_success
	assert_output log.example/a
	run -1 "$XCHECK" open "$WVK" < note
	# kept: nedb-proof checkpoint prints the very text
	nedb-proof checkpoint > kept
	cmp note kept
	cmp note "$NEDB_DIR/checkpoint.note"
	# a later one replaces it
	nedb-put -q users u4 '{"n":4}'
	nedb-checkpoint --sign log.key --origin example.com/mine | jq -j .note > note2
	nedb-proof checkpoint > kept
	cmp note2 kept
	assert_equal "$(sed -n 1p kept)" example.com/mine
	assert_equal "$(sed -n 2p kept)" "$((seq + 3))"
}

@test "--tlog-proof proves an op in the signed tree; verify needs only the log's key and refuses any change" {
	nedb-checkpoint --sign log.key >/dev/null
	nedb-put -q users u9 '{"n":9}'		# after the checkpoint
	run --separate-stderr nedb-proof inclusion 2 --tlog-proof
	assert_success
	printf '%s\n' "$output" > tp
	assert_line --index 0 c2sp.org/tlog-proof@v1
	run nedb-proof verify --vkey "$LVK" tp
	assert_success
	assert_output '{"ok":true,"proof":1,"type":"inclusion","seq":2,"size":5}'
	# every hash line of the path, changed: refused
	for n in 4 5 6; do
		awk -v n="$n" 'NR == n { $0 = (substr($0, 1, 1) == "A" ? "B" : "A") substr($0, 2) } 1' tp > bad
		run -1 nedb-proof verify --vkey "$LVK" bad
	done
	# another key: refused
	run -1 nedb-proof verify --vkey "$WVK" tp
	# an op the signed tree does not hold
	run -1 --separate-stderr nedb-proof inclusion 5 --tlog-proof
	assert_output ""
	assert_equal "$stderr" "nedb-proof: seq 5 is not in the tree of the latest signed checkpoint (size 5): sign a newer one with nedb-checkpoint --sign"
}

@test "without a signed checkpoint: nedb-proof checkpoint and --tlog-proof say so, exit 1" {
	nedb-checkpoint >/dev/null
	run -1 --separate-stderr nedb-proof checkpoint
	assert_output ""
	[[ $stderr == *"has no signed checkpoint (make one with nedb-checkpoint --sign KEYFILE)"* ]]
	run -1 --separate-stderr nedb-proof inclusion 1 --tlog-proof
	assert_output ""
}

@test "a witness cosigns the next signed checkpoint given nedb-proof's consistency proof, and refuses a forked copy" {
	nedb-checkpoint --sign log.key | jq -j .note > cp1
	old=$(sed -n 2p cp1)
	cp -a "$NEDB_DIR" fork
	run nedb-witness --state st --key w.key --vkey "$LVK" < cp1
	assert_success
	for i in 5 6 7; do nedb-put -q users "u$i" '{}'; done
	nedb-checkpoint --sign log.key | jq -j .note > cp2
	new=$(sed -n 2p cp2)
	nedb-proof consistency "$old" "$new" > cons
	run --separate-stderr nedb-witness --state st --key w.key --vkey "$LVK" --proof cons < cp2
	assert_success
	printf '%s\n' "$output" > cosigned
	run "$XCHECK" open "$LVK" "$WVK" < cosigned
	assert_success
	assert_line log.example/a
	assert_line witness.example/w1
	# the fork: other ops, the same number, signed with the same key
	for i in 5 6 7; do nedb-put -d fork -q users "u$i" '{"forked":true}'; done
	nedb-checkpoint -d fork --sign log.key | jq -j .note > fork.cp
	assert_equal "$(sed -n 2p fork.cp)" "$new"
	run -1 --separate-stderr nedb-witness --state st --key w.key --vkey "$LVK" < fork.cp
	assert_output ""
	[[ $stderr == *"$(sed -n 3p cp2)"* ]]
	[[ $stderr == *"$(sed -n 3p fork.cp)"* ]]
}

@test "--sign with a bad key or origin writes nothing; --sign excludes --rebuild; --origin needs --sign" {
	before=$(sha256sum "$NEDB_DIR/log.aof")
	echo 'PRIVATE+KEY+nope' > bad.key
	run -2 --separate-stderr nedb-checkpoint --sign bad.key
	[[ $stderr == "nedb-checkpoint: bad signer key 'bad.key': "* ]]
	run -2 --separate-stderr nedb-checkpoint --sign missing.key
	assert_equal "$stderr" "nedb-checkpoint: cannot read signer key 'missing.key': No such file or directory"
	# the verifier key is not a signer key
	run -2 nedb-checkpoint --sign log.vk
	run -2 nedb-checkpoint --sign log.key --origin ''
	run -2 nedb-checkpoint --sign log.key --rebuild
	run -2 nedb-checkpoint --origin x
	assert_equal "$(sha256sum "$NEDB_DIR/log.aof")" "$before"
	[ ! -e "$NEDB_DIR/checkpoint.note" ]
	run -2 nedb-proof checkpoint extra
	run -2 nedb-proof root --tlog-proof
	run -2 nedb-proof inclusion 1 --tlog-proof --size 2
}

@test "a note that cannot be kept (rename fails) fails the command after the checkpoint op, and keeps the old note" {
	nedb-checkpoint --sign log.key | jq -j .note > cp1
	nedb-put -q users u5 '{}'
	run -5 --separate-stderr env NEDB_TEST_FAIL=note-rename nedb-checkpoint --sign log.key
	[[ $stderr == *"cannot replace '$NEDB_DIR/checkpoint.note': Input/output error"* ]]
	cmp cp1 "$NEDB_DIR/checkpoint.note"
	! ls -a "$NEDB_DIR" | grep -q '^\.tmp'
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	run nedb-verify
	assert_success
}

@test "a damaged kept note is refused by readers and replaced by the next --sign" {
	nedb-checkpoint --sign log.key >/dev/null
	echo garbage > "$NEDB_DIR/checkpoint.note"
	run -5 --separate-stderr nedb-proof checkpoint
	[[ $stderr == *"checkpoint.note is damaged"* ]]
	run -5 nedb-proof inclusion 1 --tlog-proof
	nedb-checkpoint --sign log.key | jq -j .note > note
	cmp note "$NEDB_DIR/checkpoint.note"
	run "$XCHECK" open "$LVK" < note
	assert_success
}

@test "an encrypted database signs the same tree, and its note names no document" {
	python3 -c 'import os; print(os.urandom(32).hex())' > k1
	export NEDB_TMK_FILE=$PWD/k1
	nedb-put -d enc -q SecretColl secret-id '{"secret":"canary-signed-7"}'
	nedb-checkpoint -d enc --sign log.key | jq -j .note > note
	run "$XCHECK" open "$LVK" < note
	assert_success
	root=$(nedb-proof -d enc root | jq -r .root)
	assert_equal "$(sed -n 3p note | base64 -d | od -An -tx1 | tr -d ' \n')" "$root"
	run grep -rl -e canary-signed-7 -e SecretColl -e secret-id enc
	assert_failure
	nedb-proof -d enc inclusion 1 --tlog-proof > tp
	run nedb-proof verify --vkey "$LVK" tp
	assert_success
}
