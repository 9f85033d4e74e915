bats_require_minimum_version 1.5.0
# Common set-up for the bats suite: each test gets its own database
# under $BATS_TEST_TMPDIR, and NEDB_DIR points at it.
bats_load_library bats-support
bats_load_library bats-assert

setup() {
	export NEDB_DIR="$BATS_TEST_TMPDIR/db"
	unset NEDB_DURABILITY
	cd "$BATS_TEST_TMPDIR"
	if declare -F setup_more >/dev/null; then setup_more; fi
}

# Every scenario ends with the view equal to a replay of the log.
assert_determinism() {
	run nedb-verify --determinism
	assert_success
	assert_output --partial '"ok":true'
}

# A database with n documents users/u1..un ({"n":i}).
seed_users() {
	local n=${1:-3} i
	for ((i = 1; i <= n; i++)); do
		printf '{"_id":"u%d","n":%d}\n' "$i" "$i"
	done | nedb-put -q users
}
