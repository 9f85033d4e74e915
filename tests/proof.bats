#!/usr/bin/env bats
# nedb-proof and nedb-get --proof (SPEC §9): the RFC 6962 Merkle tree
# over the ops.  Every root and proof is checked against two computations
# nedb did not make: tests/lib-proof/merkle.py (RFC 6962's recursive
# definitions, hashlib) and Go's golang.org/x/mod/sumdb/tlog
# (tests/lib-proof/tlogcheck.go, built offline in GOPATH mode), which must
# accept every proof and reject every changed one.

load helper

LIB="$BATS_TEST_DIRNAME/lib-proof"

setup_file() {
	local g="$BATS_FILE_TMPDIR/go"
	mkdir -p "$g/cache"
	# GOPATH mode over Debian's golang-golang-x-mod-dev: no module,
	# no network, the build cache in the test's own directory
	(cd "$LIB" && env GO111MODULE=off GOPATH=/usr/share/gocode \
		GOCACHE="$g/cache" GOFLAGS= GOPROXY=off GOTOOLCHAIN=local \
		HOME="$g" go build -o "$g/tlogcheck" tlogcheck.go) \
		>"$g/build.log" 2>&1 || true
	# a database of a few thousand ops: genesis, a stream of 3000 puts,
	# then single ops of every kind
	export BIG="$BATS_FILE_TMPDIR/big"
	seq 1 3000 | sed 's/.*/{"_id":"d&","n":&}/' | nedb-put -d "$BIG" -q c
	nedb-put -d "$BIG" -q c d7 '{"n":"seven"}'
	nedb-delete -d "$BIG" -q c d8
	nedb-link -d "$BIG" c:d1 rel c:d2 >/dev/null
	nedb-checkpoint -d "$BIG" >/dev/null
	nedb-put -d "$BIG" -q c d9 '{"n":9.5}'
}

setup_more() {
	TLOGCHECK="$BATS_FILE_TMPDIR/go/tlogcheck"
	[ -x "$TLOGCHECK" ] || fail "cannot build tlogcheck with Go: $(cat "$BATS_FILE_TMPDIR/go/build.log")"
}

# The one line of stderr (run --separate-stderr) contains $1.
assert_stderr_has() {
	[[ $stderr == *"$1"* ]] || fail "stderr '$stderr' lacks '$1'"
}

# The ops' hashes of database $1, one per line in seq order, into $2.
op_hashes() {
	nedb-log -d "$1" | jq -r .hash >"$2"
}

# Roots of every size, and every inclusion and consistency proof, of
# the database in NEDB_DIR, one JSON per line.
all_proofs() {
	local n s q
	n=$(nedb-log | wc -l)
	for ((s = 0; s <= n; s++)); do
		nedb-proof root --size "$s"
	done
	for ((s = 1; s <= n; s++)); do
		for ((q = 0; q < s; q++)); do
			nedb-proof inclusion "$q" --size "$s"
		done
		for ((q = 1; q <= s; q++)); do
			nedb-proof consistency "$q" "$s"
		done
	done
}

# Random inclusion and consistency proofs of database $1 (seeded: the
# same each run), $2 of each, in the trees of its first $3 ops at most
# (default: all).
random_proofs() {
	local n=${3:-} i s q
	[ -n "$n" ] || n=$(nedb-log -d "$1" | wc -l)
	RANDOM=6962
	for ((i = 0; i < $2; i++)); do
		s=$(( (RANDOM * 32768 + RANDOM) % n + 1 ))
		q=$(( (RANDOM * 32768 + RANDOM) % s ))
		nedb-proof -d "$1" inclusion "$q" --size "$s"
		nedb-proof -d "$1" consistency "$((q + 1))" "$s"
	done
	nedb-proof -d "$1" inclusion 0 --size "$n"
	nedb-proof -d "$1" inclusion "$((n - 1))" --size "$n"
	nedb-proof -d "$1" consistency 1 "$n"
	nedb-proof -d "$1" consistency "$n" "$n"
}

@test "root prints the size and root of the whole log, or of its first N ops" {
	seed_users 4
	run --separate-stderr nedb-proof root
	assert_success
	assert_output --regexp '^\{"size":5,"root":"[0-9a-f]{64}"\}$'
	run nedb-proof root --size 1
	assert_output --regexp '^\{"size":1,"root":"[0-9a-f]{64}"\}$'
	# the tree of one entry is the leaf hash of the genesis op's hash
	local g want
	g=$(nedb-log | head -1 | jq -r .hash)
	want=$(printf '00%s' "$g" | xxd -r -p | sha256sum | cut -c1-64)
	assert_output "{\"size\":1,\"root\":\"$want\"}"
	# RFC 6962: the empty tree's root is SHA-256 of nothing
	run nedb-proof root --size 0
	assert_output "{\"size\":0,\"root\":\"$(printf '' | sha256sum | cut -c1-64)\"}"
}

@test "inclusion and consistency print the members of SPEC section 9" {
	seed_users 1
	nedb-put -q users x '{}'	# 3 ops
	run --separate-stderr nedb-proof inclusion 1
	assert_success
	assert_output --regexp '^\{"seq":1,"size":3,"leaf":"[0-9a-f]{64}","root":"[0-9a-f]{64}","proof":\["[0-9a-f]{64}","[0-9a-f]{64}"\]\}$'
	assert_equal "$(jq -r .leaf <<<"$output")" "$(nedb-log --since 1 --until 1 | jq -r .hash)"
	run nedb-proof consistency 2 3
	assert_output --regexp '^\{"old":2,"new":3,"old_root":"[0-9a-f]{64}","new_root":"[0-9a-f]{64}","proof":\["[0-9a-f]{64}"\]\}$'
	assert_equal "$(jq -r .new_root <<<"$output")" "$(nedb-proof root | jq -r .root)"
	assert_equal "$(jq -r .old_root <<<"$output")" "$(nedb-proof root --size 2 | jq -r .root)"
	run nedb-proof consistency 3 3
	assert_output --regexp '"proof":\[\]\}$'
	run nedb-proof --pretty inclusion 0 --size 1
	assert_line '  "proof": []'
}

@test "every root and proof of a small log equals RFC 6962's recursive definition" {
	local i n l
	n=$(sample 20)
	for ((i = 1; i <= n; i++)); do
		nedb-put -q c "k$i" "{\"i\":$i}"
	done
	op_hashes "$NEDB_DIR" hashes
	all_proofs >proofs
	run python3 "$LIB/merkle.py" hashes <proofs
	assert_success
	# l = n + 1 ops (the genesis too): l + 1 roots, l(l + 1)/2
	# inclusion and as many consistency proofs (484 for 20 puts)
	l=$((n + 1))
	assert_output "ok $(((l + 1) * (l + 1)))"
}

@test "Go's tlog accepts every proof of a small log" {
	local i n l
	n=$(sample 16)
	for ((i = 1; i <= n; i++)); do
		nedb-put -q c "k$i" "{\"i\":$i}"
	done
	all_proofs | grep -v '^{"size":' >proofs
	run "$TLOGCHECK" <proofs
	assert_success
	# the inclusion and consistency proofs (306 for 16 puts)
	l=$((n + 1))
	assert_output "ok $((l * (l + 1)))"
}

@test "random proofs over a few thousand ops equal RFC 6962's and Go's tlog accepts them" {
	local k
	k=$(sample 60)
	op_hashes "$BIG" hashes
	random_proofs "$BIG" "$k" >proofs
	run python3 "$LIB/merkle.py" hashes <proofs
	assert_success
	# k random proofs of each kind and four at the ends (124 for 60)
	assert_output "ok $((2 * k + 4))"
	run "$TLOGCHECK" <proofs
	assert_success
	assert_output "ok $((2 * k + 4))"
}

@test "Go's tlog rejects every flipped hash, moved hash and changed index" {
	random_proofs "$BIG" 10 >proofs
	run "$TLOGCHECK" -mutate <proofs
	assert_success
	assert_output --regexp '^rejected [0-9]{4,}$'
}

@test "Go's tlog rejects a proof for a tree size of another shape" {
	random_proofs "$BIG" 20 >proofs
	run "$TLOGCHECK" -size <proofs
	assert_success
	assert_output --regexp '^rejected [1-9][0-9]* same-shape [0-9]+$'
}

@test "a bad seq or size is a usage error, with nothing on stdout" {
	seed_users 1		# 2 ops
	run -2 --separate-stderr nedb-proof inclusion 2
	assert_output ""
	assert_equal "$stderr" "nedb-proof: seq 2 is not in the tree of size 2 (it covers seqs 0 to 1)"
	run -2 --separate-stderr nedb-proof inclusion 1 --size 1
	assert_equal "$stderr" "nedb-proof: seq 1 is not in the tree of size 1 (it covers seqs 0 to 0)"
	run -2 --separate-stderr nedb-proof root --size 3
	assert_output ""
	assert_equal "$stderr" "nedb-proof: size 3 is beyond the log: it has 2 ops"
	run -2 --separate-stderr nedb-proof inclusion 0 --size 18446744073709551615
	assert_equal "$stderr" "nedb-proof: size 18446744073709551614 is beyond the log: it has 2 ops"
	run -2 --separate-stderr nedb-proof consistency 1 3
	assert_equal "$stderr" "nedb-proof: size 3 is beyond the log: it has 2 ops"
	run -2 --separate-stderr nedb-proof consistency 2 1
	assert_output ""
	assert_stderr_has "OLD must not be above NEW"
	run -2 --separate-stderr nedb-proof consistency 0 2
	assert_equal "$stderr" "nedb-proof: bad old size 0: the old tree has at least one op (see 'nedb-proof --help')"
}

@test "bad arguments are usage errors" {
	seed_users 1
	run -2 --separate-stderr nedb-proof inclusion x
	assert_output ""
	assert_equal "$stderr" "nedb-proof: bad seq 'x': want a non-negative integer (see 'nedb-proof --help')"
	run -2 --separate-stderr nedb-proof inclusion -- -1
	assert_equal "$stderr" "nedb-proof: bad seq '-1': want a non-negative integer (see 'nedb-proof --help')"
	run -2 --separate-stderr nedb-proof root --size 1e3
	assert_equal "$stderr" "nedb-proof: bad size '1e3': want a non-negative integer (see 'nedb-proof --help')"
	run -2 --separate-stderr nedb-proof consistency 1 2x
	assert_equal "$stderr" "nedb-proof: bad new size '2x': want a non-negative integer (see 'nedb-proof --help')"
	run -2 --separate-stderr nedb-proof inclusion 99999999999999999999999
	assert_stderr_has "bad seq '99999999999999999999999'"
	run -2 --separate-stderr nedb-proof
	assert_stderr_has "missing subcommand"
	run -2 --separate-stderr nedb-proof inclusion
	assert_stderr_has "inclusion needs SEQ"
	run -2 --separate-stderr nedb-proof consistency 1
	assert_stderr_has "consistency needs OLD NEW"
	run -2 --separate-stderr nedb-proof root 3
	assert_stderr_has "unexpected argument '3'"
	run -2 --separate-stderr nedb-proof consistency 1 1 --size 1
	assert_stderr_has "option '--size' is for root and inclusion only"
	run -2 --separate-stderr nedb-proof leaf 1
	assert_stderr_has "unknown subcommand 'leaf'"
	run -2 --separate-stderr nedb-proof root --bogus
	assert_output ""
	run -0 nedb-proof --help
	assert_line --index 0 "usage: nedb-proof [options] root [--size N]"
}

@test "without a database nedb-proof exits 5 and creates nothing" {
	run -5 --separate-stderr nedb-proof root
	assert_output ""
	[ ! -e "$NEDB_DIR" ]
}

@test "nedb-get --proof adds the inclusion proof of the op that wrote each version" {
	seed_users 3		# seqs 1 to 3
	nedb-put -q users u2 '{"n":22}'
	nedb-put -q other x '{}'
	run --separate-stderr nedb-get --proof users u1 u2
	assert_success
	assert_line --index 0 --regexp '^\{"_id":"u1","n":1,"_proof":\{"seq":1,"size":6,"leaf":"[0-9a-f]{64}","root":"[0-9a-f]{64}","proof":\[("[0-9a-f]{64}",?)+\]\}\}$'
	assert_line --index 1 --regexp '^\{"_id":"u2","n":22,"_proof":\{"seq":4,"size":6,'
	printf '%s\n' "${lines[@]}" >got
	op_hashes "$NEDB_DIR" hashes
	run python3 "$LIB/merkle.py" hashes <got
	assert_output "ok 2"
	jq -c ._proof got >p
	run "$TLOGCHECK" <p
	assert_output "ok 2"
	# the same object as nedb-proof inclusion prints
	assert_equal "$(head -1 p)" "$(nedb-proof inclusion 1)"
	# the past: the tree as the read sees it
	run nedb-get --proof --as-of 2 users u2
	assert_output --regexp '^\{"_id":"u2","n":2,"_proof":\{"seq":2,"size":3,'
	run nedb-get --proof --meta users u2
	assert_output --regexp '^\{"doc":\{"_id":"u2","n":22\},"seq":4,"hash":"[0-9a-f]{64}","ts":[0-9]+,"proof":\{"seq":4,"size":6,'
	run nedb-get --proof --history users u2
	assert_line --index 0 --regexp '^\{"seq":2,"op":"put",.*,"proof":\{"seq":2,"size":6,'
	assert_line --index 1 --regexp '^\{"seq":4,"op":"put",.*,"proof":\{"seq":4,"size":6,'
	# without --proof nothing changes
	run nedb-get users u2
	assert_output '{"_id":"u2","n":22}'
	run -1 nedb-get --proof users nobody
}

@test "plaintext reads without --proof never load libcrypto" {
	seed_users 4	# 5 ops: the root is not a stored hash, it takes hashing
	run env NEDB_TEST_FAIL=libcrypto nedb-get users u1
	assert_success
	run env NEDB_TEST_FAIL=libcrypto nedb-query 'FROM users WHERE n > 1'
	assert_success
	run env NEDB_TEST_FAIL=libcrypto nedb-log
	assert_success
	run env LD_DEBUG=files nedb-get users u1
	refute_output --partial libcrypto
	run env LD_DEBUG=files nedb-query 'FROM users'
	refute_output --partial libcrypto
	# proofs need SHA-256
	run -5 --separate-stderr env NEDB_TEST_FAIL=libcrypto nedb-get --proof users u1
	assert_output ""
	assert_equal "$stderr" "nedb-get: cannot load libcrypto.so.3: cannot open shared object file (test)"
	run env LD_DEBUG=files nedb-get --proof users u1
	assert_output --partial libcrypto
}

@test "only the write that completes a tile of 256 ops hashes, and loads libcrypto" {
	seed_users 250		# seqs 1 to 250
	run env NEDB_TEST_FAIL=libcrypto nedb-put -q users a '{}'
	assert_success
	run env LD_DEBUG=files nedb-put -q users b '{}'
	refute_output --partial libcrypto
	seed_users 2		# seqs 253, 254
	# seq 255 completes ops 0 to 255: its tile's hash is stored with it
	run -5 --separate-stderr env NEDB_TEST_FAIL=libcrypto nedb-put users c '{}'
	assert_output ""
	assert_equal "$stderr" "nedb-put: cannot load libcrypto.so.3: cannot open shared object file (test)"
	run -1 nedb-get users c
	assert_equal "$(nedb-log | wc -l)" 255
	run nedb-put -q users c '{}'
	assert_success
	assert_equal "$(nedb-log | tail -1 | jq .seq)" 255
	op_hashes "$NEDB_DIR" hashes
	nedb-proof root --size 256 >p
	nedb-proof inclusion 7 >>p
	run python3 "$LIB/merkle.py" hashes <p
	assert_output "ok 2"
	assert_determinism
}

@test "proofs survive a prune: archived and kept seqs prove the same" {
	local i k
	k=$(sample 10)
	for ((i = 1; i <= 12; i++)); do
		nedb-put -q c "k$i" "{\"i\":$i}"
	done
	nedb-checkpoint >/dev/null
	nedb-put -q c k1 '{"i":100}'
	random_proofs "$NEDB_DIR" "$k" 15 >before
	nedb-checkpoint --prune >/dev/null
	[ -n "$(ls "$NEDB_DIR/archive")" ]
	random_proofs "$NEDB_DIR" "$k" 15 >after
	run diff before after
	assert_success
	op_hashes "$NEDB_DIR" hashes
	random_proofs "$NEDB_DIR" "$k" >proofs
	nedb-proof inclusion 3 >>proofs
	nedb-get --proof c k2 | jq -c ._proof >>proofs
	run python3 "$LIB/merkle.py" hashes <proofs
	assert_success
	run "$TLOGCHECK" <proofs
	assert_success
	# a rebuild after the prune replays the archive too: the same tree
	nedb-checkpoint --rebuild >/dev/null
	random_proofs "$NEDB_DIR" "$k" 15 >rebuilt
	run diff before rebuilt
	assert_success
	assert_determinism
}

@test "the tree is part of the view: a rebuild makes it again, verify --view finds damage" {
	seed_users 600		# tiles of ops 0-255 and 256-511, and the two
	nedb-put -q users u1 '{"n":11}'
	nedb-proof root >before
	nedb-checkpoint --rebuild >/dev/null
	run nedb-proof root
	assert_output "$(cat before)"
	assert_determinism
	# a stored hash edited behind nedb's back
	mdb_dump -n -s tree "$NEDB_DIR/view.mdb" | awk '
		/^ / && ++n == 2 { print " " substr("0000000000000000000000000000000000000000000000000000000000000000", 1, 64); next }
		{ print }' | mdb_load -n -s tree "$NEDB_DIR/view.mdb"
	run -1 nedb-verify --view
	assert_output --partial "view differs from the log in tree 'stored hash"
	nedb-checkpoint --rebuild >/dev/null
	assert_determinism
	run nedb-proof root
	assert_output "$(cat before)"
}

@test "a view of the format before the tree is rebuilt on open, with its tree" {
	seed_users 300
	nedb-proof root >before
	# the applied record says format 6 (struct applied: the format is
	# the u32 after seq, end and head), and a stored hash is damaged
	mdb_dump -n -s meta "$NEDB_DIR/view.mdb" | python3 -c '
import sys
lines = sys.stdin.read().split("\n")
for i, l in enumerate(lines):
    if l == " " + b"applied".hex():
        v = bytearray.fromhex(lines[i + 1][1:])
        v[48:52] = (6).to_bytes(4, "little")
        lines[i + 1] = " " + v.hex()
print("\n".join(lines), end="")' | mdb_load -n -s meta "$NEDB_DIR/view.mdb"
	mdb_dump -n -s tree "$NEDB_DIR/view.mdb" | awk '
		/^ / && ++n == 2 { print " " substr("1111111111111111111111111111111111111111111111111111111111111111", 1, 64); next }
		{ print }' | mdb_load -n -s tree "$NEDB_DIR/view.mdb"
	run nedb-proof root
	assert_success
	assert_output "$(cat before)"
	assert_determinism
}

@test "an encrypted database proves the same way, its tree sealed in the view" {
	export NEDB_TMK=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	local i n
	# every proof of n puts, a checkpoint and a put (n = 9; 3 in the
	# sanitizer suite, as the small logs above: 49 proofs, not 169)
	n=$(sample 9)
	for ((i = 1; i <= n; i++)); do
		nedb-put -q c "k$i" "{\"i\":$i}"
	done
	nedb-checkpoint >/dev/null
	nedb-put -q c k1 '{"i":0}'
	op_hashes "$NEDB_DIR" hashes
	all_proofs >proofs
	nedb-get --proof c k1 "k$(((n + 1) / 2))" >>proofs
	run python3 "$LIB/merkle.py" hashes <proofs
	assert_success
	grep -v '"root":"[0-9a-f]*"}$' proofs | grep -v '"_proof"' >p
	run "$TLOGCHECK" <p
	assert_success
	# no stored hash is in the clear: the first tile's (a plaintext
	# database's view has it, so the check can fail)
	seq 1 300 | sed 's/.*/{"_id":"m&"}/' | nedb-put -q c
	local tile
	tile=$(nedb-proof root --size 256 | jq -r .root)
	run python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(bytes.fromhex(sys.argv[2]) in d)' \
		"$NEDB_DIR/view.mdb" "$tile"
	assert_output False
	seq 1 300 | sed 's/.*/{"_id":"m&"}/' | env -u NEDB_TMK nedb-put -d plain -q c
	tile=$(env -u NEDB_TMK nedb-proof -d plain root --size 256 | jq -r .root)
	run python3 -c 'import sys; d = open(sys.argv[1], "rb").read(); print(bytes.fromhex(sys.argv[2]) in d)' \
		plain/view.mdb "$tile"
	assert_output True
	# prune and rebuild on it too
	nedb-proof inclusion 4 >before
	nedb-checkpoint --prune >/dev/null
	nedb-checkpoint --rebuild >/dev/null
	run nedb-proof inclusion 4 --size "$(jq .size before)"
	assert_output "$(cat before)"
	assert_determinism
	# without the key nothing is read
	run -5 env -u NEDB_TMK nedb-proof root
}

@test "proofs over 100000 ops: Go's tlog accepts them and rejects every change (NEDB_CHECK_FULL=1)" {
	[ -n "${NEDB_CHECK_FULL:-}" ] || skip "a long run: set NEDB_CHECK_FULL=1"
	seq 1 100000 | sed 's/.*/{"_id":"d&","n":&}/' | nedb-put -q c
	random_proofs "$NEDB_DIR" 100 >proofs
	run "$TLOGCHECK" <proofs
	assert_output "ok 204"
	run "$TLOGCHECK" -mutate <proofs
	assert_output --regexp '^rejected [0-9]{5,}$'
	op_hashes "$NEDB_DIR" hashes
	head -20 proofs >some
	run python3 "$LIB/merkle.py" hashes <some
	assert_output "ok 20"
	assert_determinism
}
