# Shared by tests/proof-verify.bats and tests/witness.bats: the Go
# cross-checker (tests/lib-proof/xcheck, over golang.org/x/mod/sumdb/note
# and sumdb/tlog from Debian's golang-golang-x-mod-dev), built offline in
# GOPATH mode once per file, and the Python proof maker.

# In setup_file: builds $XCHECK.
build_xcheck() {
	export XCHECK="$BATS_FILE_TMPDIR/xcheck"
	GO111MODULE=off GOPATH=/usr/share/gocode GOFLAGS= GOPROXY=off \
		GOCACHE="$BATS_FILE_TMPDIR/gocache" \
		go build -o "$XCHECK" \
		"$BATS_TEST_DIRNAME/lib-proof/xcheck/main.go"
}

mkproofs() {
	python3 "$BATS_TEST_DIRNAME/lib-proof/mkproofs.py" "$@"
}

# The part of a file before its first JSON line (xcheck proofs' checkpoint)
# and the JSON lines.
cp_part() { awk '/^\{/ { exit } { print }' "$1"; }
json_part() { grep '^{' "$1"; }
