#!/usr/bin/env bats
# nedb-proof verify (SPEC section 9): RFC 6962 proofs checked with no
# database, against a root or a signed checkpoint (and witnesses'
# cosignatures), in nedb's JSON form and as C2SP tlog-proof@v1.  The
# proofs and notes come from elsewhere: Go's sumdb/tlog and sumdb/note
# (tests/lib-proof/xcheck) and an independent Python tree
# (tests/lib-proof/mkproofs.py), whose proofs Go checks too.

load helper
load lib-proof/proof

setup_file() {
	build_xcheck
}

setup_more() {
	nedb-key signer new log.example/a --out log.key > log.vk
	LVK=$(cat log.vk)
}

@test "proofs Go's tlog makes verify against a checkpoint Go signs with an nedb signer key" {
	for n in 1 2 3 7 8 9 16 33; do
		"$XCHECK" proofs $n s$n log.example/a "$(cat log.key)" > all
		cp_part all > cp
		json_part all > proofs.json
		run nedb-proof verify --checkpoint cp --vkey "$LVK" proofs.json
		assert_success
		[ "${#lines[@]}" -eq $((2 * n - 1)) ]
		refute_output --partial '"ok":false'
	done
}

@test "a checkpoint signed with a key Go's note.GenerateKey made verifies with Go's verifier key" {
	"$XCHECK" genkey go.example/log > gokeys
	"$XCHECK" proofs 5 g log.example/go "$(sed -n 1p gokeys)" > all
	cp_part all > cp
	json_part all > proofs.json
	run nedb-proof verify -q --checkpoint cp --vkey "$(sed -n 2p gokeys)" \
		proofs.json
	assert_success
	# and not with another key of the same name
	nedb-key signer new go.example/log --out other.key > other.vk
	run -1 nedb-proof verify -q --checkpoint cp --vkey "$(cat other.vk)" \
		proofs.json
}

@test "the Python tree's proofs verify in nedb and in Go's tlog" {
	mkproofs incl 100 p > incl.json
	mkproofs cons 100 p > cons.json
	root=$(mkproofs root 100 p)
	run nedb-proof verify -q --root "$root" incl.json
	assert_success
	run nedb-proof verify -q --root "$root" cons.json
	assert_success
	run "$XCHECK" checkincl < incl.json
	assert_output "100 ok"
	run "$XCHECK" checkcons < cons.json
	assert_output "99 ok"
}

@test "each proof is reported on its own line" {
	mkproofs incl 4 p > incl.json
	run nedb-proof verify --root "$(mkproofs root 4 p)" incl.json
	assert_success
	assert_line --index 0 '{"ok":true,"proof":1,"type":"inclusion","seq":0,"size":4}'
	assert_line --index 3 '{"ok":true,"proof":4,"type":"inclusion","seq":3,"size":4}'
}

@test "a JSON array of proofs, as --array prints them, and indented proofs are read too" {
	mkproofs cons 6 p | jq -s . > cons.json
	run nedb-proof verify -q --root "$(mkproofs root 6 p)" cons.json
	assert_success
	mkproofs cons 6 p | jq . > pretty.json
	run nedb-proof verify --root "$(mkproofs root 6 p)" - < pretty.json
	assert_success
	[ "${#lines[@]}" -eq 5 ]
	# cut short: malformed, after the proofs before it were reported
	head -c -3 pretty.json > cut.json
	run --separate-stderr -4 nedb-proof verify --root "$(mkproofs root 6 p)" cut.json
	[ "${#lines[@]}" -eq 4 ]
	[[ $stderr == "nedb-proof: proof 5: not JSON: "* ]]
}

@test "every changed hash digit, seq or size of a proof is rejected" {
	mkproofs checkpoint 37 f log.example/a log.key > cp
	{ mkproofs incl 37 f | sed -n '1p;20p;37p'
	  mkproofs cons 37 f | sed -n '1p;16p;36p'; } > good.json
	run nedb-proof verify -q --checkpoint cp --vkey "$LVK" good.json
	assert_success
	mkproofs flips good.json > bad.json
	n=$(wc -l < bad.json)
	[ "$n" -gt 1000 ]
	run --separate-stderr -1 nedb-proof verify --checkpoint cp --vkey "$LVK" bad.json
	[ "$(grep -c '"ok":false' <<<"$output")" -eq "$n" ]
	assert_equal "$stderr" "nedb-proof: $n of $n proofs invalid; proof 1: inclusion proof does not lead to the root"
}

@test "a proof against a bare root binds the root, not the size" {
	# RFC 6962: a root alone does not say the tree's size, and a
	# size with the same shape gives the same hashes; a checkpoint
	# signs both
	mkproofs incl 100 r | sed -n 1p > one.json
	root=$(mkproofs root 100 r)
	jq -c '.size = 101' one.json > size.json
	run nedb-proof verify -q --root "$root" size.json
	assert_success
	mkproofs checkpoint 100 r log.example/a log.key > cp
	run nedb-proof verify --checkpoint cp --vkey "$LVK" size.json
	assert_failure 1
	assert_output --partial '"error":"proof is for size 101, the checkpoint'"'"'s is 100"'
}

@test "every changed byte of a checkpoint's signature line is rejected" {
	mkproofs tlog 9 t log.example/a log.key | awk '
		/^c2sp.org\/tlog-proof@v1$/ { n++ } n == 5' > one.tlog
	run nedb-proof verify --vkey "$LVK" one.tlog
	assert_success
	assert_output '{"ok":true,"proof":1,"type":"inclusion","seq":4,"size":9}'
	mkproofs sigflips one.tlog > bad.tlog
	[ "$(grep -c '^c2sp.org/tlog-proof@v1$' bad.tlog)" -eq 68 ]
	run -1 nedb-proof verify --vkey "$LVK" bad.tlog
	[ "$(grep -c '"ok":false' <<<"$output")" -eq 68 ]
}

@test "tlog-proofs from the Python tree verify, many in one stream" {
	mkproofs tlog 50 t log.example/a log.key > all.tlog
	run nedb-proof verify --vkey "$LVK" all.tlog
	assert_success
	[ "${#lines[@]}" -eq 50 ]
	refute_output --partial '"ok":false'
	# held to a checkpoint or a root given: theirs, or invalid
	mkproofs checkpoint 50 t log.example/a log.key > same
	mkproofs checkpoint 50 u log.example/a log.key > other
	run nedb-proof verify -q --vkey "$LVK" --checkpoint same all.tlog
	assert_success
	run nedb-proof verify -q --vkey "$LVK" --checkpoint other all.tlog
	assert_failure 1
	run nedb-proof verify -q --vkey "$LVK" --root "$(mkproofs root 50 t)" all.tlog
	assert_success
	run nedb-proof verify -q --vkey "$LVK" --root "$(mkproofs root 50 u)" all.tlog
	assert_failure 1
}

@test "a tlog-proof with a changed index, hash or root is rejected" {
	mkproofs tlog 6 t log.example/a log.key | awk '
		/^c2sp.org\/tlog-proof@v1$/ { n++ } n == 3' > one.tlog
	sed 's/^index 2$/index 3/' one.tlog > a.tlog
	run -1 nedb-proof verify --vkey "$LVK" a.tlog
	h=$(sed -n 4p one.tlog)
	sed "4s|^.|$( [ "${h:0:1}" = A ] && echo B || echo A)|" one.tlog > b.tlog
	run -1 nedb-proof verify --vkey "$LVK" b.tlog
	# the checkpoint's root changed: its signature no longer holds
	r=$(grep -A2 '^log.example/a$' one.tlog | sed -n 3p)
	sed "s|^$r\$|$( [ "${r:0:1}" = A ] && echo B || echo A)${r:1}|" one.tlog > c.tlog
	run -1 nedb-proof verify --vkey "$LVK" c.tlog
	assert_output --partial 'invalid signature for key log.example/a+'
}

@test "a tlog-proof without extra data needs the op hash from --leaf" {
	mkproofs tlog 6 t log.example/a log.key --no-extra | awk '
		/^c2sp.org\/tlog-proof@v1$/ { n++ } n == 2' > one.tlog
	leaf=$(mkproofs incl 6 t | sed -n 2p | jq -r .leaf)
	run nedb-proof verify -q --vkey "$LVK" --leaf "$leaf" one.tlog
	assert_success
	other=$(mkproofs incl 6 t | sed -n 3p | jq -r .leaf)
	run nedb-proof verify -q --vkey "$LVK" --leaf "$other" one.tlog
	assert_failure 1
	run --separate-stderr -4 nedb-proof verify --vkey "$LVK" one.tlog
	assert_equal "$stderr" "nedb-proof: proof 1 (line 1): proof names no op hash (no extra line) and none was given (--leaf)"
}

@test "a checkpoint needs the quorum of witness cosignatures" {
	mkproofs checkpoint 12 w log.example/a log.key > cp
	nedb-key signer new w1.example --out w1.key > w1.vk
	nedb-key signer new w2.example --out w2.key > w2.vk
	nedb-witness --state st --key w1.key --vkey "$LVK" < cp > cosigned
	mkproofs incl 12 w > incl.json
	run nedb-proof verify -q --checkpoint cosigned --vkey "$LVK" \
		--witness "$(cat w1.vk)" incl.json
	assert_success
	run --separate-stderr -1 nedb-proof verify -q --checkpoint cosigned --vkey "$LVK" \
		--witness "$(cat w1.vk)" --witness "$(cat w2.vk)" incl.json
	assert_equal "$stderr" "nedb-proof: checkpoint: 1 valid witness cosignatures, the quorum is 2"
	run nedb-proof verify -q --checkpoint cosigned --vkey "$LVK" \
		--witness "$(cat w1.vk)" --witness "$(cat w2.vk)" --quorum 1 incl.json
	assert_success
	run -2 nedb-proof verify -q --checkpoint cosigned --vkey "$LVK" \
		--witness "$(cat w1.vk)" --quorum 2 incl.json
	# one witness named twice is not a quorum of two
	run --separate-stderr -2 nedb-proof verify -q --checkpoint cosigned --vkey "$LVK" \
		--witness "$(cat w1.vk)" --witness "$(cat w1.vk)" incl.json
	[[ $stderr == "nedb-proof: witness keys 'w1.example' and 'w1.example' are the same key"* ]]
}

@test "valid and invalid proofs in one stream: each is reported, exit 1" {
	mkproofs incl 5 m > incl.json
	sed '3s/"seq":2/"seq":3/' incl.json > mixed.json
	run --separate-stderr -1 nedb-proof verify --root "$(mkproofs root 5 m)" mixed.json
	[ "${#lines[@]}" -eq 5 ]
	assert_line --index 2 '{"ok":false,"proof":3,"type":"inclusion","seq":3,"size":5,"error":"inclusion proof does not lead to the root"}'
	assert_equal "$stderr" "nedb-proof: 1 of 5 proofs invalid; proof 3: inclusion proof does not lead to the root"
}

@test "malformed input exits 4 with one line naming the proof" {
	mkproofs incl 3 z | sed -n 2p > good.json
	root=$(mkproofs root 3 z)
	mkproofs tlog 3 z log.example/a log.key | awk '
		/^c2sp.org\/tlog-proof@v1$/ { n++ } n == 1' > good.tlog
	cases=(
		'{"seq":1'
		'[1,2]'
		'{"size":3}'
		"$(jq -c '.leaf |= ascii_upcase' good.json)"
		"$(jq -c '.root |= .[2:]' good.json)"
		"$(jq -c '.seq = -1' good.json)"
		"$(jq -c '.seq = 1.5' good.json)"
		"$(jq -c '.proof = "x"' good.json)"
		"$(jq -c '.proof[0] = 7' good.json)"
	)
	for c in "${cases[@]}"; do
		printf '%s\n' "$c" > bad.json
		run --separate-stderr -4 nedb-proof verify --root "$root" bad.json
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "nedb-proof: proof 1: "* ]]
	done
	tcases=(
		"$(sed 1d good.tlog)"
		"$(sed 's/^index 0$/index 00/' good.tlog)"
		"$(sed 's/^index 0$/index x/' good.tlog)"
		"$(sed '4s/=$//' good.tlog)"
		"$(sed '/^— /d' good.tlog)"
		"$(sed 's/^— /- /' good.tlog)"
		"$(sed 's/^3$/3\t/' good.tlog)"
		"$(sed 's/^extra .*/extra @@@@/' good.tlog)"
	)
	for c in "${tcases[@]}"; do
		printf '%s\n' "$c" > bad.tlog
		run --separate-stderr -4 nedb-proof verify --vkey "$LVK" bad.tlog
		[ "${#stderr_lines[@]}" -eq 1 ]
		[[ $stderr == "nedb-proof: proof 1 (line 1): "* ]]
	done
}

@test "bad options are usage errors" {
	mkproofs incl 3 z > incl.json
	run -2 nedb-proof verify incl.json
	run -2 nedb-proof verify --root abc incl.json
	run -2 nedb-proof verify --checkpoint /dev/null incl.json
	run -2 nedb-proof verify --root "$(mkproofs root 3 z)" --vkey nokey incl.json
	run -2 nedb-proof verify --root "$(mkproofs root 3 z)" --vkey "$LVK" \
		--witness "$LVK" incl.json
	run -2 nedb-proof frobnicate
	run -2 nedb-proof verify --bogus
	run -5 nedb-proof verify --root "$(mkproofs root 3 z)" /nonexistent
}

@test "ten thousand proofs are checked in one process" {
	"$XCHECK" proofs 5001 big log.example/a "$(cat log.key)" > all
	cp_part all > cp
	json_part all > proofs.json
	run nedb-proof verify -q --checkpoint cp --vkey "$LVK" < proofs.json
	assert_success
	run nedb-proof verify --checkpoint cp --vkey "$LVK" < proofs.json
	[ "${#lines[@]}" -eq 10001 ]
}
