#!/usr/bin/env bats
# The installed layout: the commands carry the parts of libnedb they use
# (its archive, linked at build time), and libnedb.so, nedb.h and
# nedb.pc serve a program that embeds nedb.
load helper

setup_more() {
	bin=$(dirname "$(command -v nedb-get)")
	prefix=$(cd "$bin/.." && pwd)
}

# what the dynamic loader maps for a program: its NEEDED entries, less
# the sanitizer's run-time (the second suite's) and the dynamic loader
needed() {
	readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' |
		grep -v "^\(lib\(asan\|ubsan\)\|ld-linux\)" | sort | tr '\n' ' '
}

@test "a command loads LMDB and libc, not libnedb.so" {
	run needed "$bin/nedb-get"
	assert_success
	assert_output 'libc.so.6 liblmdb.so.0 '
	run needed "$bin/nedb-put"
	assert_output 'libc.so.6 liblmdb.so.0 '
	# nedbd takes libmicrohttpd besides; none takes libjq or libcrypto
	for c in "$bin"/nedb-* "$bin/nedbd"; do
		run needed "$c"
		refute_output --partial libnedb
		refute_output --partial libjq
		refute_output --partial libcrypto
	done
}

@test "no command runs CPUID at start (glibc's CPU features instead)" {
	# libgcc's __cpu_indicator_init is linked by __builtin_cpu_supports
	run nm "$bin/nedb-get"
	assert_success
	refute_output --partial cpu_indicator_init
	run nm -D "$prefix/lib/libnedb.so.0"
	refute_output --partial cpu_indicator_init
}

@test "a program embeds nedb through nedb.h, nedb.pc and libnedb.so" {
	[ -f "$prefix/include/nedb.h" ]
	[ -L "$prefix/lib/libnedb.so" ]
	run env PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --libs --cflags nedb
	assert_success
	assert_output --partial '-lnedb'
	cat > embed.c <<'EOF'
#include <stdio.h>
#include <string.h>
#include <nedb.h>

int
main(int argc, char **argv)
{
	nedb *db;
	nedb_doc d;
	nedb_put p = { .coll = "users", .id = "b",
		       .doc = "{\"n\": 2}", .doclen = 8 };
	int rc;

	if ((rc = nedb_open(&db, argv[1], 0))) {
		fprintf(stderr, "embed: %s\n", nedb_errmsg());
		return nedb_exit_status(rc);
	}
	if ((rc = nedb_get(db, "users", "a", NEDB_HEAD, &d)) == 0)
		printf("%.*s %llu\n", (int)d.len, d.doc,
		       (unsigned long long)d.seq);
	if (!rc && !(rc = nedb_write_begin(db)) &&
	    !(rc = nedb_write_put(db, &p, NULL)))
		rc = nedb_write_commit(db);
	if (rc)
		fprintf(stderr, "embed: %s\n", nedb_errmsg());
	rc = rc ? nedb_exit_status(rc) : 0;
	nedb_close(db);
	return rc;
}
EOF
	# the second suite's libnedb.so is built with ASan
	local san=
	[ "${NEDB_SUITE:-1}" = 1 ] || san=-fsanitize=address
	cc $san -o embed embed.c -I"$prefix/include" -L"$prefix/lib" -lnedb \
		-Wl,-rpath,"$prefix/lib"
	run needed ./embed
	assert_output --partial libnedb.so.0
	nedb-put -q users a '{"n":1}'
	run ./embed "$NEDB_DIR"
	assert_success
	assert_output '{"_id":"a","n":1} 1'
	run nedb-get users b
	assert_output '{"_id":"b","n":2}'
	run nedb-verify
	assert_success
	# the library's errors reach the program: a missing database
	run ./embed "$BATS_TEST_TMPDIR/none"
	assert_failure
	assert_output --partial 'embed: '
}
