#!/usr/bin/env bats
# The encrypted view (SPEC §8, issue #11): twin databases, one plaintext
# and one with a master key, built by the same commands with canary
# names and values in every place the view keeps them.  The encrypted
# twin's view.mdb holds none of them in any encoding (the plaintext
# twin's does, so the check can fail), and every query answers the same
# on both.  Only view.mdb is searched: the log is encrypted separately.

load helper

CANARIES=(idcanaryq7 collcanaryz9 fieldcanaryk3 eqvalcanaryr2
	  ordcanaryw5 ordvalcanaryh4 srchcanaryv2 tokencanarym1
	  nestcanaryp4 deepcanaryx8 valcanaryj6 relcanaryb7
	  clientcanaryc5 idemcanaryd3 ttlcanaryt1)

# The commands that build a twin, in directory $1.
build_twin() {
	local d=$1 c=collcanaryz9 i
	for ((i = 1; i <= 40; i++)); do
		printf '{"_id":"idcanaryq7-%02d","fieldcanaryk3":"%s","ordcanaryw5":%d,"srchcanaryv2":"the tokencanarym1 and word%d","nestcanaryp4":{"deepcanaryx8":"valcanaryj6-%d"}}\n' \
			"$i" "$([ $((i % 3)) = 0 ] && echo eqvalcanaryr2 || echo other$((i % 3)))" \
			$(( (i * 17) % 41 )) "$i" "$i"
	done | nedb-put -d "$d" -q "$c"
	nedb-put -d "$d" -q "$c" idcanaryq7-str '{"ordcanaryw5":"ordvalcanaryh4","fieldcanaryk3":"eqvalcanaryr2"}'
	nedb-index -d "$d" "$c" fieldcanaryk3 eq >/dev/null
	nedb-index -d "$d" "$c" ordcanaryw5 ordered >/dev/null
	nedb-index -d "$d" "$c" srchcanaryv2 search >/dev/null
	nedb-put -d "$d" -q --client clientcanaryc5 --nonce 1 \
		--idem idemcanaryd3 "$c" idcanaryq7-01 \
		'{"fieldcanaryk3":"eqvalcanaryr2","ordcanaryw5":99,"srchcanaryv2":"changed tokencanarym1"}'
	nedb-delete -d "$d" -q "$c" idcanaryq7-02
	nedb-put -d "$d" -q --ttl 100000 "$c" ttlcanaryt1 '{"ordcanaryw5":7}'
	nedb-link -d "$d" "$c:idcanaryq7-03" relcanaryb7 "$c:idcanaryq7-04" >/dev/null
	nedb-link -d "$d" "$c:idcanaryq7-03" relcanaryb7 "$c:idcanaryq7-05" >/dev/null
	nedb-link -d "$d" --unlink "$c:idcanaryq7-03" relcanaryb7 "$c:idcanaryq7-05" >/dev/null
	nedb-link -d "$d" "$c:idcanaryq7-06" relcanaryb7 "$c:idcanaryq7-03" >/dev/null
	# statistics (usage) by coll and field: a query on an unindexed one
	nedb-query -d "$d" 'FROM collcanaryz9 WHERE nestcanaryp4.deepcanaryx8 = "valcanaryj6-9"' >/dev/null
}

setup_file() {
	export PLAIN="$BATS_FILE_TMPDIR/plain" ENC="$BATS_FILE_TMPDIR/enc"
	export TWIN_TMK
	TWIN_TMK=$(head -c32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	(unset NEDB_TMK NEDB_TMK_FILE; build_twin "$PLAIN")
	(unset NEDB_TMK_FILE; NEDB_TMK=$TWIN_TMK build_twin "$ENC")
}

# How often each canary $2... occurs in file $1: raw, as hex (either
# case), in base64 (at each of the three alignments), and in UTF-16LE and
# BE; a line a canary: "CANARY raw N hex N utf16 N base64 N" (one
# process for them all).
count_forms() {
	python3 - "$@" <<'EOF'
import base64, sys
data = open(sys.argv[1], "rb").read()
for arg in sys.argv[2:]:
    c = arg.encode()
    forms = {"raw": [c], "hex": [c.hex().encode(), c.hex().upper().encode()],
             "utf16": [c.decode().encode("utf-16-le"),
                       c.decode().encode("utf-16-be")], "base64": []}
    for pad in range(3):
        b = base64.b64encode(b"\0" * pad + c)
        # the characters that depend on the canary alone
        lead = (pad * 8 + 5) // 6 + 1 if pad else 0
        tail = len(b) - (3 if len(c) + pad < 3 else 4)
        forms["base64"].append(b[lead:tail])
    print(arg, " ".join("%s %d" % (name, sum(data.count(p) for p in pats if p))
                        for name, pats in forms.items()))
EOF
}

enc() {
	env -u NEDB_TMK_FILE NEDB_TMK="$TWIN_TMK" "$@"
}

plain() {
	env -u NEDB_TMK -u NEDB_TMK_FILE "$@"
}

@test "the encrypted twin has a key.enc and the plaintext one none" {
	[ -f "$ENC/key.enc" ]
	[ ! -e "$PLAIN/key.enc" ]
}

@test "the plaintext twin's view holds every canary (the check can fail)" {
	local k
	run count_forms "$PLAIN/view.mdb" "${CANARIES[@]}"
	assert_success
	assert_equal "${#lines[@]}" "${#CANARIES[@]}"
	for k in "${!CANARIES[@]}"; do
		[[ ${lines[$k]} == "${CANARIES[$k]} raw "* ]] ||
			fail "no count for canary ${CANARIES[$k]}: ${lines[$k]}"
		if [[ ${lines[$k]} == *" raw 0 "* ]]; then
			fail "canary ${CANARIES[$k]} not in the plaintext view"
		fi
	done
}

@test "the encrypted twin's view holds no canary in any encoding" {
	run count_forms "$ENC/view.mdb" "${CANARIES[@]}"
	assert_success
	assert_output "$(printf '%s raw 0 hex 0 utf16 0 base64 0\n' "${CANARIES[@]}")"
}

@test "a shorter canary prefix is not in the encrypted view either" {
	# what every canary shares: a prefix scan key would begin so
	run count_forms "$ENC/view.mdb" canary
	assert_output --partial "canary raw 0 "
	run count_forms "$PLAIN/view.mdb" canary
	refute_output --partial " raw 0 "
}

# same CMD...: CMD's output and status on both twins, compared.
same() {
	run --separate-stderr plain "$@" -d "$PLAIN"
	local pst=$status pout=$output perr=$stderr
	run --separate-stderr enc "$@" -d "$ENC"
	assert_equal "$status" "$pst"
	assert_equal "$output" "$pout"
	assert_equal "$stderr" "$perr"
	[ -n "$pout" ] || [ "$pst" -ne 0 ] || fail "no output from $*"
}

@test "an ordered-index range answers the same on both twins" {
	same nedb-query 'FROM collcanaryz9 WHERE ordcanaryw5 > 10 AND ordcanaryw5 <= 30'
	same nedb-query 'FROM collcanaryz9 WHERE ordcanaryw5 >= "ordval"'
	same nedb-query 'EXPLAIN FROM collcanaryz9 WHERE ordcanaryw5 > 10'
}

@test "ORDER BY ... LIMIT on an ordered index answers the same" {
	same nedb-query 'FROM collcanaryz9 ORDER BY ordcanaryw5 DESC LIMIT 5'
	same nedb-query 'FROM collcanaryz9 ORDER BY ordcanaryw5 LIMIT 7 OFFSET 2'
	same nedb-query 'EXPLAIN FROM collcanaryz9 ORDER BY ordcanaryw5 LIMIT 3'
}

@test "eq lookups and IN answer the same" {
	same nedb-query 'FROM collcanaryz9 WHERE fieldcanaryk3 = "eqvalcanaryr2"'
	same nedb-query 'FROM collcanaryz9 WHERE fieldcanaryk3 IN ("other1", "eqvalcanaryr2")'
	same nedb-query 'EXPLAIN FROM collcanaryz9 WHERE fieldcanaryk3 = "other2"'
}

@test "AS OF answers the same" {
	same nedb-query 'FROM collcanaryz9 AS OF 20'
	same nedb-query 'FROM collcanaryz9 AS OF 45 WHERE ordcanaryw5 > 20'
	same nedb-get collcanaryz9 idcanaryq7-01 --as-of 10
}

@test "SEARCH answers the same" {
	same nedb-query 'FROM collcanaryz9 SEARCH "tokencanarym1"'
	same nedb-query 'FROM collcanaryz9 SEARCH "word7"'
	same nedb-query 'FROM collcanaryz9 WHERE ordcanaryw5 > 20 SEARCH "changed"'
}

@test "GROUP BY answers the same" {
	same nedb-query 'FROM collcanaryz9 GROUP BY fieldcanaryk3 COUNT, MAX ordcanaryw5'
}

@test "TRAVERSE and neighbours answer the same, now and in the past" {
	same nedb-query 'FROM collcanaryz9 WHERE ordcanaryw5 = 10 TRAVERSE relcanaryb7'
	same nedb-query 'FROM collcanaryz9 TRAVERSE relcanaryb7 IN'
	same nedb-link --out collcanaryz9:idcanaryq7-03
	same nedb-link --out collcanaryz9:idcanaryq7-03 relcanaryb7 --as-of 49
	same nedb-link --in collcanaryz9:idcanaryq7-03
}

@test "gets, a deleted document and the index list answer the same" {
	same nedb-get collcanaryz9 idcanaryq7-01
	same nedb-get collcanaryz9 idcanaryq7-02
	same nedb-index --list
	same nedb-coll
}

@test "an idempotent repeat returns the first receipt on both twins" {
	# (the hashes differ: each twin's ops carry their own timestamps)
	run enc nedb-put -d "$ENC" --client clientcanaryc5 --nonce 2 \
		--idem idemcanaryd3 collcanaryz9 idcanaryq7-01 '{}'
	assert_success
	assert_output --regexp '^\{"seq":45,"hash":"[0-9a-f]{64}","op":"put","coll":"collcanaryz9","id":"idcanaryq7-01"\}$'
	run enc nedb-put -d "$ENC" --client clientcanaryc5 --nonce 1 \
		collcanaryz9 idcanaryq7-01 '{}'
	assert_failure
	assert_output --partial 'nonce'
}

@test "the encrypted twin's view is the replay of its log" {
	run enc nedb-verify -d "$ENC" --view
	assert_success
	assert_output --partial '"ok":true'
}

@test "the encrypted view is refused without the key" {
	run -5 plain nedb-get -d "$ENC" collcanaryz9 idcanaryq7-01
}

@test "a rebuilt encrypted view answers as before and stays opaque" {
	cp -r "$ENC" "$BATS_TEST_TMPDIR/r"
	run enc nedb-query -d "$ENC" 'FROM collcanaryz9 ORDER BY ordcanaryw5 DESC LIMIT 4'
	local before=$output
	run enc nedb-checkpoint -d "$BATS_TEST_TMPDIR/r" --rebuild
	assert_success
	run enc nedb-query -d "$BATS_TEST_TMPDIR/r" 'FROM collcanaryz9 ORDER BY ordcanaryw5 DESC LIMIT 4'
	assert_equal "$output" "$before"
	run count_forms "$BATS_TEST_TMPDIR/r/view.mdb" collcanaryz9
	assert_output --partial "collcanaryz9 raw 0 "
}

@test "a checkpoint's digest of the encrypted view is the one a replay computes" {
	cp -r "$ENC" "$BATS_TEST_TMPDIR/c"
	run enc nedb-checkpoint -d "$BATS_TEST_TMPDIR/c"
	assert_success
	# verify replays the log into a scratch view (its own random
	# nonces) and recomputes each checkpoint's digest from it
	run --separate-stderr enc nedb-verify -d "$BATS_TEST_TMPDIR/c" --view
	assert_success
	assert_output --partial '"ok":true'
	run --separate-stderr enc nedb-checkpoint -d "$BATS_TEST_TMPDIR/c" --rebuild
	assert_success
	assert_equal "$stderr" ""
}
