#!/usr/bin/env bats
# nedb-file (issue 14, SPEC §5): versions of files as ops of the log,
# their chunks content-defined, deduplicated, compressed in tiers and
# checked on the way in and out; Merkle proofs of single chunks; gc of
# what an interrupted put left; bounded memory.

load helper

setup_more() {
	hooks_init
}

teardown() {
	hooks_teardown
}

# Deterministic bytes: $2 bytes of seed $1 (incompressible).
gen() {
	python3 -c '
import random, sys
r = random.Random(int(sys.argv[1]))
n = int(sys.argv[2])
while n > 0:
    k = min(n, 1 << 20)
    sys.stdout.buffer.write(r.randbytes(k))
    n -= k' "$1" "$2"
}

# Deterministic bytes: $2 bytes of seed $1, blocks of 8 to 64 KiB that
# deflate to about half, to three quarters, or not at all, in turn: a put
# whose chunks keep both threads deflating, and not in step.
mixed() {
	python3 -c '
import random, sys
r = random.Random(int(sys.argv[1]))
n = int(sys.argv[2])
half = bytes(b"etaoinshrdlucmfw" * 14 + b" " * 24 + b"\n" * 8)
quarter = bytes(b"ab" * 120 + b"c" * 16)
i = 0
while n > 0:
    k = min(n, r.randrange(8192, 65536))
    b = r.randbytes(k)
    if i % 3 == 0:
        b = b.translate(half)
    elif i % 3 == 1:
        b = b.translate(quarter)
    sys.stdout.buffer.write(b)
    n -= k
    i += 1' "$1" "$2"
}

# A member of the one JSON object in $output.
member() {
	jq -r ".$1" <<<"$output"
}

# The number of ops in the log.
ops() {
	nedb-log | wc -l
}

# Small chunks, so that small files make many (64/256/1024 bytes).
small_chunks() {
	nedb-file config --chunk-min 64 --chunk-avg 256 --chunk-max 1024 >/dev/null
}

@test "an empty file is a version of no chunks and reads back empty" {
	run nedb-file put empty /dev/null
	assert_success
	assert_output --regexp '^\{"seq":1,"name":"empty","version":1,"size":0,"chunks":0,"new_bytes":[0-9]+,"root":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\}$'
	# the root of no chunks is SHA-256 of nothing (RFC 6962)
	run nedb-file get empty
	assert_success
	assert_output ""
	nedb-file get empty -o out
	[ -f out ] && [ ! -s out ]
}

@test "one byte, a file of every byte value and NULs, and several MiB round-trip exactly" {
	printf x > one
	python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 4000 + b"\0" * 100000)' > bin
	gen 1 6000000 > big
	for f in one bin big; do
		run nedb-file put "$f" "$f"
		assert_success
		nedb-file get "$f" > "$f.out"
		cmp "$f" "$f.out"
	done
	run nedb-file root big
	[ "$(member chunks)" -gt 40 ]
	[ "$(member size)" = 6000000 ]
	run nedb-file root one
	[ "$(member chunks)" = 1 ] && [ "$(member size)" = 1 ]
	assert_determinism
}

@test "standard input, -, and a file of the same bytes make the same version" {
	gen 2 300000 > f
	run nedb-file put a f
	local root=$(member root)
	run nedb-file put b - < f
	assert_success
	assert_equal "$(member root)" "$root"
	run nedb-file put c < f
	assert_equal "$(member root)" "$root"
	assert_equal "$(member new_bytes)" 0
}

@test "a file of exact chunk boundaries cuts at the maximum and reads back" {
	small_chunks
	head -c 3072 /dev/zero > zeros	# zeros never cut: three of 1024
	run nedb-file put z zeros
	assert_success
	assert_equal "$(member chunks)" 3
	nedb-file get z | cmp - zeros
	head -c 1024 /dev/zero > one-max
	run nedb-file put m one-max
	assert_equal "$(member chunks)" 1
	# its chunk is z's: new is only its chunk list, a 48-byte record
	# header and a page of 16 + 36 bytes
	assert_equal "$(member new_bytes)" 100
	nedb-file get m | cmp - one-max
}

@test "a file stored twice, and a copy under another name, store nothing new" {
	gen 3 2000000 > f
	run nedb-file put a f
	[ "$(member new_bytes)" -gt 2000000 ]
	run nedb-file put a f
	assert_equal "$(member version)" 2
	assert_equal "$(member new_bytes)" 0
	run nedb-file put copy f
	assert_equal "$(member version)" 1
	assert_equal "$(member new_bytes)" 0
	run nedb-file stats
	assert_equal "$(member files)" 2
	assert_equal "$(member versions)" 3
	assert_equal "$(member logical_bytes)" 6000000
	assert_equal "$(member chunk_bytes)" 2000000
	assert_output --partial '"dedup_ratio":3.000,'
}

@test "one byte inserted in the middle of 4 MiB adds at most two chunks' worth" {
	gen 4 4194304 > f
	nedb-file put f f >/dev/null
	python3 -c '
import sys
b = open("f", "rb").read()
open("g", "wb").write(b[:2000000] + b"!" + b[2000000:])' 
	run nedb-file put f g
	assert_success
	# the chunk the byte falls in and perhaps a neighbour: at most two
	# maximum-size chunks (256 KiB) and the chunk list's pages
	[ "$(member new_bytes)" -le $((2 * 262144 + 8192)) ]
	nedb-file get f | cmp - g
	nedb-file get f --version 1 | cmp - f
	# a delete and an overwrite likewise
	python3 -c '
b = open("f", "rb").read()
open("h", "wb").write(b[:1000000] + b[1001000:3000000] + b"X" * 100 + b[3000100:])'
	run nedb-file put f h
	[ "$(member new_bytes)" -le $((4 * 262144 + 8192)) ]
	nedb-file get f | cmp - h
}

@test "the warm and cold tiers compress, incompressible chunks are stored raw, and all read back" {
	seq 1 300000 > text
	gen 5 500000 > noise
	run nedb-file put t text
	[ "$(member new_bytes)" -lt $(($(stat -c %s text) / 2)) ]
	seq 300001 600000 > text2
	run nedb-file put --tier cold t2 text2
	nedb-file put n noise >/dev/null
	run nedb-file stats
	[ "$(jq .tiers.warm.chunks <<<"$output")" -gt 0 ]
	[ "$(jq .tiers.cold.chunks <<<"$output")" -gt 0 ]
	[ "$(jq .tiers.raw.chunks <<<"$output")" -gt 0 ]
	[ "$(jq '.tiers.cold.stored < .tiers.cold.bytes' <<<"$output")" = true ]
	[ "$(jq '.tiers.raw.stored >= .tiers.raw.bytes' <<<"$output")" = true ]
	nedb-file get t | cmp - text
	nedb-file get t2 | cmp - text2
	nedb-file get n | cmp - noise
	# the database's default tier
	run nedb-file config --tier cold
	assert_output '{"chunk_min":16384,"chunk_avg":65536,"chunk_max":262144,"tier":"cold"}'
	grep -q '"file_tier":"cold"' "$NEDB_DIR/meta.json"
}

@test "a compressed chunk that would not inflate back is never stored" {
	seq 1 100000 > text
	run -5 env NEDB_TEST_FAIL=file-deflate-check nedb-file put t text
	assert_output --partial "does not inflate to its bytes again"
	assert_equal "$(echo "$output" | wc -l)" 1
	run -1 nedb-file ls t
	assert_equal "$(ops)" 1	# the genesis op alone
	# a long one, where both threads deflate (the caller's turn comes
	# when the queue is full), and zlib's path the same
	mixed 1 6000000 > mixed
	for fail in file-deflate-check file-deflate-check,isal; do
		run -5 --separate-stderr env NEDB_TEST_FAIL=$fail nedb-file put m mixed
		assert_output ""
		[[ "$stderr" == "nedb-file: a compressed chunk does not inflate to its bytes again: "*" is broken; nothing stored" ]]
		assert_equal "$(wc -l <<<"$stderr")" 1
		run -1 nedb-file ls m
		assert_equal "$(ops)" 1
	done
}

@test "chunks deflated on both threads reach the store in order, and igzip and zlib read each other's" {
	mixed 2 6000000 > m
	run nedb-file put m m
	assert_success
	local root=$(member root) chunks=$(member chunks)
	run nedb-file stats
	[ "$(jq .tiers.warm.chunks <<<"$output")" -gt 20 ]
	[ "$(jq .tiers.raw.chunks <<<"$output")" -gt 5 ]
	nedb-file get m | cmp - m
	# one thread (no store thread), and zlib instead of igzip:
	# the same chunks, the same root, the same bytes back
	run env NEDB_TEST_FAIL=file-thread nedb-file -d one put m m
	assert_equal "$(member root)" "$root"
	assert_equal "$(member chunks)" "$chunks"
	nedb-file -d one get m | cmp - m
	run env NEDB_TEST_FAIL=isal nedb-file -d z put m m
	assert_equal "$(member root)" "$root"
	run nedb-file -d z stats
	[ "$(jq .tiers.warm.chunks <<<"$output")" -gt 20 ]
	# what one wrote the other reads, every chunk checked
	NEDB_TEST_FAIL=isal nedb-file get m | cmp - m
	nedb-file -d z get m | cmp - m
	NEDB_TEST_FAIL=isal nedb-verify --files >/dev/null
	nedb-verify -d z --files >/dev/null
	# a second put of it: everything is there already, nothing queued
	run nedb-file put m2 m
	assert_equal "$(member new_bytes)" 0
	# a stream of one chunk over and over (zeros) stores it once
	head -c 4000000 /dev/zero > zeros
	run nedb-file put z zeros
	[ "$(member new_bytes)" -lt 10000 ]
	nedb-file get z | cmp - zeros
}

@test "the raw tier deflates nothing: the same chunks and root as warm" {
	mixed 3 2000000 > m
	run nedb-file put --tier raw r m
	local root=$(member root) n=$(member new_bytes)
	[ "$n" -ge 2000000 ]
	run nedb-file stats
	assert_equal "$(jq .tiers.warm.chunks <<<"$output")" 0
	nedb-file get r | cmp - m
	run nedb-file -d w put w m
	assert_equal "$(member root)" "$root"
	[ "$(member new_bytes)" -lt "$n" ]
	run nedb-file config --tier raw
	assert_output '{"chunk_min":16384,"chunk_avg":65536,"chunk_max":262144,"tier":"raw"}'
	grep -q '"file_tier":"raw"' "$NEDB_DIR/meta.json"
	run nedb-file stats
	assert_equal "$(member tier)" raw
	mixed 4 500000 > m4
	nedb-file put r4 m4 >/dev/null
	run nedb-file stats
	assert_equal "$(jq .tiers.warm.chunks <<<"$output")" 0
	run nedb-file put --tier warm w4 m4
	assert_equal "$(member new_bytes)" 0	# its chunks are there, raw
}

@test "an error on the store thread fails the put with one line and commits nothing" {
	small_chunks
	local n=$(ops)
	# about 30,000 chunks: the store thread commits a batch (its pack
	# synced first) long before the end, and that sync fails
	mixed 5 9000000 > m
	run -5 --separate-stderr env NEDB_TEST_FAIL=file-pack-sync nedb-file put m m
	assert_output ""
	assert_equal "$stderr" "nedb-file: cannot sync a file store pack: Input/output error"
	assert_equal "$(ops)" "$n"
	run -1 nedb-file ls m
	run nedb-file put m m
	assert_success
	nedb-file get m | cmp - m
}

@test "--as-of and --version read the past; a version after the seq asked is not there" {
	printf 'one\n' > v1
	printf 'two\n' > v2
	nedb-file put doc v1 >/dev/null
	nedb-put -q c x '{}'
	nedb-file put doc v2 >/dev/null
	run nedb-file get doc
	assert_output two
	run nedb-file get doc --as-of 2
	assert_output one
	run nedb-file get doc --as-of 3
	assert_output two
	run nedb-file get doc --version 1
	assert_output one
	run -1 nedb-file get doc --version 2 --as-of 2
	assert_output "nedb-file: no version 2 of file 'doc' at seq 2"
	run -1 nedb-file get doc --as-of 0
	assert_output "nedb-file: no file 'doc' at seq 0"
	run -2 nedb-file get doc --as-of 9
	assert_output "nedb-file: no op 9 yet: the head is seq 3"
	run nedb-file ls --as-of 2
	assert_output --partial '"name":"doc","version":1,"seq":1'
	run nedb-file ls doc
	assert_equal "${#lines[@]}" 2
	# a time
	local ms t
	ms=$(nedb-log --since 1 --until 1 | jq .ts)
	t=$(date -u -d "@$((ms / 1000)).$(printf %03d $((ms % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ)
	run nedb-file get doc --as-of "@$t"
	assert_output one
}

@test "ls lists every file's latest version by name; root adds its manifest and op" {
	printf a | nedb-file put zeta >/dev/null
	printf b | nedb-file put alpha >/dev/null
	printf c | nedb-file put zeta >/dev/null
	run nedb-file ls
	assert_success
	assert_equal "${#lines[0]}" "${#lines[0]}"
	[[ ${lines[0]} == '{"name":"alpha","version":1,"seq":2,'* ]]
	[[ ${lines[1]} == '{"name":"zeta","version":2,"seq":3,'* ]]
	assert_equal "${#lines[@]}" 2
	run nedb-file --array ls
	assert_equal "$(jq length <<<"$output")" 2
	run nedb-file root zeta
	assert_output --regexp '"manifest":"[0-9a-f]{64}","hash":"[0-9a-f]{64}"\}$'
	assert_equal "$(member hash)" "$(nedb-log --since 3 --until 3 | jq -r .hash)"
	# the op carries what root says
	run nedb-log --since 3
	assert_output --partial '"op":"file"'
	assert_output --partial '"name":"zeta","version":2,"size":1,"chunks":1'
}

@test "a chunk's proof verifies with no database, against the trusted root and the chunk's bytes" {
	small_chunks
	gen 6 100000 > f
	nedb-file put f f >/dev/null
	run nedb-file root f
	local root=$(member root) n=$(member chunks) k
	[ "$n" -gt 100 ]
	for k in 0 1 $((n / 2)) $((n - 2)) $((n - 1)); do
		nedb-file proof f --chunk "$k" > "p$k"
		run nedb-file verify --root "$root" "p$k"
		assert_success
		assert_output "{\"ok\":true,\"name\":\"f\",\"version\":1,\"chunk\":$k,\"chunks\":$n}"
		tail -c +$(($(jq .offset "p$k") + 1)) f | head -c "$(jq .length "p$k")" > chunk
		run nedb-file verify -q --data chunk "p$k"
		assert_success
		assert_output ""
	done
	# no database is opened: a missing one is no matter
	run env NEDB_DIR=/nonexistent nedb-file verify p0
	assert_success
	# the proof of the whole log still proves the op that carries the root
	run nedb-proof inclusion "$(jq .op_seq p0)"
	assert_success
}

@test "the nedb-format(5) script checks a chunk's proof as nedb-file verify does" {
	local script="$BATS_TEST_TMPDIR/nedb-chunkproof.py"
	python3 "$BATS_TEST_DIRNAME/format-check.py" file \
		"$BATS_TEST_DIRNAME/../man/nedb-format.5" nedb-chunkproof.py > "$script"
	[ "$(wc -l < "$script")" -le 40 ]
	small_chunks
	gen 7 50000 > f
	nedb-file put f f >/dev/null
	local root k n
	root=$(nedb-file root f | jq -r .root)
	n=$(nedb-file root f | jq -r .chunks)
	for k in 0 7 $((n - 1)); do
		nedb-file proof f --chunk "$k" > p
		tail -c +$(($(jq .offset p) + 1)) f | head -c "$(jq .length p)" > chunk
		run python3 "$script" p "$root" chunk
		assert_success
		assert_output valid
		jq -c '.proof[0] |= "00" + .[2:]' p > bad
		run -1 python3 "$script" bad "$root"
		run -1 nedb-file verify -q bad
	done
}

@test "a tampered proof is invalid (exit 1) and a malformed one refused (exit 4)" {
	small_chunks
	gen 8 20000 > f
	nedb-file put f f >/dev/null
	nedb-file proof f --chunk 5 > p
	local root=$(jq -r .root p)
	# every change of what proves: invalid
	for edit in '.chunk = 6' \
		'.leaf = ("0" * 64)' '.proof[0] = ("1" * 64)' \
		'.proof |= reverse' '.proof = .proof[1:]' '.proof += [.proof[0]]' \
		'.root = ("2" * 64)' '.chunk = .chunks'; do
		jq -c "$edit" p > bad
		run -1 --separate-stderr nedb-file verify bad
		assert_output --partial '"ok":false'
		[ "$(wc -l <<<"$stderr")" = 1 ]
	done
	# a trusted root the proof does not lead to
	run -1 nedb-file verify --root "$(printf '3%.0s' {1..64})" p
	# a path binds the tree's size only through its shape: the proof
	# of chunk 5 of 70 chunks leads to the same root in a tree of 71,
	# so the trusted root comes with the trusted count
	jq -c '.chunks = .chunks + 1' p > bigger
	run nedb-file verify --root "$root" bigger
	run -1 nedb-file verify --root "$root" --chunks "$(jq .chunks p)" bigger
	assert_output --partial "the trusted one has $(jq .chunks p)"
	run nedb-file verify --root "$root" --chunks "$(jq .chunks p)" p
	# the chunk's bytes when they are not the chunk
	printf 'not it' > other
	run -1 nedb-file verify --data other p
	# malformed: not JSON, members missing or of the wrong type
	for edit in 'del(.leaf)' '.leaf = "xyz"' '.chunk = "5"' '.proof = "x"' \
		'.proof = [range(70) | "0" * 64]' 'del(.name)' '.chunk = -1'; do
		jq -c "$edit" p > bad
		run -4 nedb-file verify bad
		assert_output --partial '"ok":false'
	done
	echo 'not json' > bad
	run -4 nedb-file verify bad
	run -4 nedb-file verify < /dev/null
	run -5 nedb-file verify missing.json
	run -2 nedb-file verify --root nothex p
}

@test "every error exits with its status, one line on stderr, and writes nothing" {
	printf a | nedb-file put f >/dev/null
	local n=$(ops)
	run -5 --separate-stderr nedb-file put g missing-file
	assert_output ""
	assert_equal "$stderr" "nedb-file: cannot open 'missing-file': No such file or directory"
	run -5 --separate-stderr nedb-file put g /
	[ "$(wc -l <<<"$stderr")" = 1 ]
	run -1 --separate-stderr nedb-file get nope
	assert_equal "$stderr" "nedb-file: no file 'nope'"
	run -1 nedb-file get f --version 2
	run -1 nedb-file root nope
	run -1 nedb-file ls nope
	run -1 nedb-file proof nope --chunk 0
	run -2 nedb-file proof f --chunk 1
	assert_output --partial "no chunk 1 in version 1 of file 'f'"
	run -2 nedb-file proof f
	run -2 nedb-file get
	run -2 nedb-file get f extra
	run -2 nedb-file
	run -2 nedb-file frob
	run -2 nedb-file get f --chunk 1
	run -2 nedb-file put f --version 2
	run -2 nedb-file ls --tier cold
	run -2 nedb-file get f --version 0
	run -2 nedb-file get f --version x
	run -2 --separate-stderr nedb-file put --tier hot f /dev/null
	assert_equal "$stderr" "nedb-file: bad tier 'hot': want warm, cold or raw (see 'nedb-file --help')"
	run -2 nedb-file --bogus ls
	run -2 nedb-file config --chunk-avg 1000
	run -2 nedb-file config --chunk-min 70000
	run -2 nedb-file config --chunk-max 9G
	run -4 --separate-stderr nedb-file put $'bad\tname' /dev/null
	assert_equal "$stderr" "nedb-file: bad file name 'bad	name': want 1-400 bytes of UTF-8, no control characters"
	run -4 nedb-file put "$(printf 'x%.0s' {1..401})" /dev/null
	run -4 nedb-file put '' /dev/null
	run -2 nedb-file put
	assert_equal "$(ops)" "$n"
	run -5 nedb-file -d "$BATS_TEST_TMPDIR/none" ls
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
	# a put that is refused makes no database either
	run -5 nedb-file -d "$BATS_TEST_TMPDIR/none" put f missing-file
	run -4 nedb-file -d "$BATS_TEST_TMPDIR/none" put $'a\nb' /dev/null
	[ ! -e "$BATS_TEST_TMPDIR/none" ]
	run nedb-file --help
	assert_success
	assert_line --index 0 --partial 'usage: nedb-file [options] put NAME'
	run nedb-file --version
	assert_success
	assert_output --regexp '^nedb-file [0-9]'
}

@test "get -o writes the file whole or not at all" {
	gen 9 500000 > f
	nedb-file put f f >/dev/null
	nedb-file get f -o out
	cmp f out
	ls -a | grep -c tmp | grep -qx 0
	# a damaged chunk: nothing written, no temporary left
	python3 - "$NEDB_DIR"/files/packs/00000001.pack <<-'EOF'
		import sys
		b = bytearray(open(sys.argv[1], "rb").read())
		b[len(b) // 2] ^= 0x20
		open(sys.argv[1], "wb").write(b)
	EOF
	run -5 nedb-file get f -o out2
	[ ! -e out2 ]
	! ls | grep -q 'out2.tmp'
}

@test "a flipped byte in a pack fails get naming the file, version and chunk, and nedb-verify --files" {
	small_chunks
	gen 10 50000 > f
	seq 1 10000 > text
	nedb-file put f f >/dev/null
	nedb-file put t text >/dev/null
	run nedb-verify --files
	assert_success
	assert_output --regexp '"files":2\}$'
	python3 - "$NEDB_DIR"/files/packs/00000001.pack <<-'EOF'
		import sys
		b = bytearray(open(sys.argv[1], "rb").read())
		b[30000] ^= 0x01
		open(sys.argv[1], "wb").write(b)
	EOF
	run -5 --separate-stderr nedb-file get f
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_regex "$stderr" "^nedb-file: file 'f' version 1 chunk [0-9]+: damaged record [0-9a-f]{16} in pack 1 at offset [0-9]+: "
	# what was written before it is every chunk before it, each checked
	local k
	k=$(sed -E 's/.*chunk ([0-9]+):.*/\1/' <<<"$stderr")
	[ "$(wc -c <<<"$output")" -le "$(nedb-file proof f --chunk "$k" | jq .offset)" ] ||
		[ "$(printf %s "$output" | wc -c)" -le "$(nedb-file proof f --chunk "$k" | jq .offset)" ]
	nedb-file get t | cmp - text	# the other file is whole
	run -1 nedb-verify --files
	assert_output --regexp '^\{"ok":false,"seq":1,"error":"file .f. version 1 chunk [0-9]+: damaged record'
	# the chain itself is whole
	run nedb-verify
	assert_success
}

@test "a compressed chunk flipped, a record's header, a missing pack and a lost index are all reported" {
	seq 1 200000 > text
	nedb-file put t text >/dev/null
	cp -r "$NEDB_DIR" saved
	python3 - "$NEDB_DIR"/files/packs/00000001.pack <<-'EOF'
		import sys
		b = bytearray(open(sys.argv[1], "rb").read())
		b[16 + 48 + 100] ^= 0x01       # inside the first deflated chunk
		open(sys.argv[1], "wb").write(b)
	EOF
	run -5 nedb-file get t
	assert_output --partial "file 't' version 1 chunk 0:"
	rm -rf "$NEDB_DIR"; cp -r saved "$NEDB_DIR"
	python3 - "$NEDB_DIR"/files/packs/00000001.pack <<-'EOF'
		import sys
		b = bytearray(open(sys.argv[1], "rb").read())
		b[16 + 20] ^= 0x01             # the first record's address
		open(sys.argv[1], "wb").write(b)
	EOF
	run -5 nedb-file get t
	assert_output --partial "its header is not the index's"
	rm -rf "$NEDB_DIR"; cp -r saved "$NEDB_DIR"
	rm "$NEDB_DIR"/files/packs/00000001.pack
	run -5 nedb-file get t
	assert_output --partial "missing file store pack"
	rm -rf "$NEDB_DIR"; cp -r saved "$NEDB_DIR"
	rm "$NEDB_DIR"/files/index.mdb
	run -5 nedb-file get t
	assert_output --partial "the file store has no record"
}

@test "a put killed before its op leaves no version, and gc reclaims its chunks" {
	gen 11 3000000 > keep
	nedb-file put keep keep >/dev/null
	run nedb-file stats
	local before=$(member pack_bytes) chunks=$(member chunks) n=$(ops)
	gen 12 3000000 > lost
	NEDB_TEST_PAUSE=file-commit NEDB_TEST_DIR=$HOOKS nedb-file put lost lost &
	PIDS+=($!)
	wait_reached file-commit
	kill -9 "${PIDS[-1]}"
	wait "${PIDS[-1]}" || true
	run -1 nedb-file get lost
	assert_equal "$(ops)" "$n"
	run nedb-file stats
	[ "$(member chunks)" -gt "$chunks" ]
	run nedb-file gc
	assert_success
	[ "$(member removed_chunks)" -gt 40 ]
	[ "$(member freed_bytes)" -ge 3000000 ]
	run nedb-file stats
	assert_equal "$(member chunks)" "$chunks"
	assert_equal "$(member pack_bytes)" "$before"
	nedb-file get keep | cmp - keep
	run nedb-verify --files
	assert_success
	# and the name can be put again
	run nedb-file put lost lost
	assert_equal "$(member version)" 1
	nedb-file get lost | cmp - lost
}

@test "a put killed between syncing its pack and indexing it leaves garbage the next put cuts off" {
	printf 'w' | nedb-file put w >/dev/null		# pack 1, committed
	gen 13 1000000 > a
	NEDB_TEST_PAUSE=file-flush NEDB_TEST_DIR=$HOOKS nedb-file put a a &
	PIDS+=($!)
	wait_reached file-flush
	kill -9 "${PIDS[-1]}"
	wait "${PIDS[-1]}" || true
	local size
	size=$(stat -c %s "$NEDB_DIR"/files/packs/00000001.pack)
	[ "$size" -gt 1000000 ]
	printf 'x' | nedb-file put b >/dev/null
	# the pack was cut back to its committed length, then appended to
	[ "$(stat -c %s "$NEDB_DIR"/files/packs/00000001.pack)" -lt 100000 ]
	run nedb-file get b
	assert_output x
	run nedb-file put a a
	nedb-file get a | cmp - a
}

@test "puts killed at random in a loop leave only whole versions, and gc leaves only their chunks" {
	local i pid n=${NEDB_FILE_KILLS:-$(sample 6)} total=0 v
	# incompressible streams and streams both threads deflate, in turn
	# (random kill points: a third of the rounds, one of each kind, in
	# the sanitizer suite)
	src() { if (($1 % 2)); then gen "$((100 + $1))" 6000000; else mixed "$((100 + $1))" 6000000; fi; }
	for ((i = 1; i <= n; i++)); do
		src "$i" | nedb-file put "f$i" &
		pid=$!
		sleep "0.$((RANDOM % 9))"
		pkill -9 -P "$$" -x nedb-file 2>/dev/null || true
		wait "$pid" || true
	done
	nedb-file gc >/dev/null
	# every version there is whole; its chunks are all the store holds
	while read -r v; do
		i=${v#f}
		nedb-file get "$v" | cmp - <(src "$i")
		total=$((total + $(nedb-file root "$v" | jq .chunks)))
	done < <(nedb-file ls | jq -r .name)
	run nedb-file stats
	assert_equal "$(member chunks)" "$total"
	run nedb-verify --files
	assert_success
	assert_determinism
}

@test "gc rewrites and drops packs, and every version reads back after it" {
	export NEDB_FILE_PACK_BYTES=300000
	gen 14 1000000 > a
	gen 15 1000000 > b
	nedb-file put a a >/dev/null
	NEDB_TEST_PAUSE=file-commit NEDB_TEST_DIR=$HOOKS nedb-file put b b &
	PIDS+=($!)
	wait_reached file-commit
	kill -9 "${PIDS[-1]}"
	wait "${PIDS[-1]}" || true
	local packs=$(ls "$NEDB_DIR"/files/packs | wc -l)
	[ "$packs" -gt 5 ]
	run nedb-file gc
	assert_success
	[ "$(member packs_removed)" -ge 3 ]
	[ "$(ls "$NEDB_DIR"/files/packs | wc -l)" -lt "$packs" ]
	nedb-file get a | cmp - a
	# a second gc finds nothing
	run nedb-file gc
	assert_equal "$(member removed_chunks)" 0
	assert_equal "$(member freed_bytes)" 0
	run nedb-verify --files
	assert_success
}

@test "gc waits for a put in progress and keeps the chunks it deduplicated against" {
	gen 16 1000000 > a
	nedb-file put a a >/dev/null
	# an orphan chunk set that a later put will reuse
	NEDB_TEST_PAUSE=file-commit NEDB_TEST_DIR=$HOOKS nedb-file put b a &
	PIDS+=($!)
	wait_reached file-commit
	nedb-file gc >/dev/null &
	local gc=$!
	sleep 0.5
	kill -0 "$gc"		# waiting for the put
	touch "$HOOKS/file-commit.go"
	wait "${PIDS[-1]}"
	wait "$gc"
	nedb-file get b | cmp - a
	run nedb-verify --files
	assert_success
}

@test "two puts at once, of one name and of two, all make versions" {
	gen 17 2000000 > a
	gen 18 2000000 > b
	nedb-file put x a >/dev/null & local p1=$!
	nedb-file put x b >/dev/null & local p2=$!
	nedb-file put y a >/dev/null & local p3=$!
	wait $p1 $p2 $p3
	run nedb-file ls x
	assert_equal "${#lines[@]}" 2
	run nedb-file get x --version 1
	run nedb-file get x --version 2
	nedb-file get y | cmp - a
	cmp <(nedb-file get x --version 1; nedb-file get x --version 2) <(cat a b) ||
		cmp <(nedb-file get x --version 1; nedb-file get x --version 2) <(cat b a)
	run nedb-verify --files
	assert_success
}

@test "--idem makes a retried put print the first version and append nothing" {
	printf one > f
	run nedb-file put --idem k1 doc f
	local first=$output n=$(ops)
	printf two > f
	run nedb-file put --idem k1 doc f
	assert_success
	assert_equal "$(member version)" 1
	assert_equal "$(member new_bytes)" 0
	assert_equal "$(member seq)" "$(jq .seq <<<"$first")"
	assert_equal "$(ops)" "$n"
	run nedb-file get doc
	assert_output one
	run nedb-file put --client c --nonce 5 doc f
	assert_equal "$(member version)" 2
	run -3 nedb-file put --client c --nonce 5 doc f
	assert_output --partial "stale nonce 5 for client 'c'"
	assert_equal "$(ops)" $((n + 1))
}

@test "versions survive a checkpoint, a rebuild of the view and a prune, and the digest covers them" {
	seq 1 50000 > text
	nedb-file put t text >/dev/null
	nedb-checkpoint >/dev/null
	nedb-file put t /dev/null >/dev/null
	nedb-checkpoint --prune >/dev/null
	nedb-checkpoint --rebuild >/dev/null
	nedb-file get t --version 1 | cmp - text
	run nedb-file ls t
	assert_equal "${#lines[@]}" 2
	assert_determinism
	# the view's record of a version is checked against its op
	run nedb-file get t --as-of 1
	assert_success
}

@test "a view record that is not its op's is refused, never read" {
	printf one | nedb-file put a >/dev/null
	printf two | nedb-file put b >/dev/null
	# a's record made b's (their keys differ only in the name)
	mdb_dump -n -s files "$NEDB_DIR/view.mdb" > dump
	python3 - dump <<-'EOF'
		import sys
		lines = open(sys.argv[1]).read().split("\n")
		i = lines.index(" " + (b"a\0" + (1).to_bytes(8, "big")).hex())
		j = lines.index(" " + (b"b\0" + (1).to_bytes(8, "big")).hex())
		lines[i + 1] = lines[j + 1]
		open(sys.argv[1], "w").write("\n".join(lines))
	EOF
	mdb_load -n -s files "$NEDB_DIR/view.mdb" < dump
	run -5 nedb-file get a
	assert_output --partial "corrupt view: version 1 of file 'a' is not what op 2 says"
	run nedb-file get b
	assert_output two
}

@test "an encrypted database seals its chunks and keys its addresses" {
	export NEDB_TMK=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
	python3 -c 'print("CANARY-7f3a " * 50000)' > secret
	run nedb-file put 'secret-name.txt' secret
	assert_success
	nedb-file get secret-name.txt | cmp - secret
	! grep -rqa "CANARY-7f3a" "$NEDB_DIR"
	! grep -rqa "secret-name" "$NEDB_DIR"
	# its addresses are not the plain BLAKE2b of the chunk
	nedb-file proof secret-name.txt --chunk 0 > p
	run nedb-file verify p
	assert_success
	tail -c +1 secret | head -c "$(jq .length p)" > chunk
	run -1 nedb-file verify --data chunk p
	run nedb-verify --files
	assert_success
	unset NEDB_TMK
	run -5 nedb-file ls
}

@test "a database with a file store is not encrypted in place" {
	printf x | nedb-file put f >/dev/null
	run -5 env NEDB_TMK=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f nedb-file ls
	assert_output --partial "has a file store"
	run nedb-file get f
	assert_output x
}

@test "put and get of a stream from a pipe stay in bounded memory" {
	local mib=${NEDB_FILE_MIB:-64} small big
	[ -n "${NEDB_CHECK_FULL:-}" ] && mib=4096
	head -c 1048576 /dev/urandom | /usr/bin/time -f %M -o rss.small nedb-file put small >/dev/null
	head -c $((mib << 20)) /dev/urandom | /usr/bin/time -f %M -o rss.put nedb-file put big >/dev/null
	/usr/bin/time -f %M -o rss.get nedb-file get big | wc -c > size
	assert_equal "$(cat size)" $((mib << 20))
	small=$(tail -n 1 rss.small)
	big=$(tail -n 1 rss.put)
	# peak RSS in KiB: under 64 MiB, and about what a 1 MiB put takes
	[ "$big" -lt 65536 ]
	[ "$big" -lt $((small + 16384)) ]
	[ "$(tail -n 1 rss.get)" -lt 65536 ]
}

@test "stats and gc of a database without files" {
	nedb-put -q c x '{}'
	run nedb-file stats
	assert_success
	assert_equal "$(member files)" 0
	assert_equal "$(member dedup_ratio)" null
	run nedb-file gc
	assert_output '{"versions":0,"removed_chunks":0,"removed_bytes":0,"packs_rewritten":0,"packs_removed":0,"freed_bytes":0}'
	[ ! -e "$NEDB_DIR/files" ]
}
