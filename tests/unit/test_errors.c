/*
 * test_errors.c - LMDB's codes never escape the library: a cursor walk's
 * end (nedb__mdb_end) is 0 at the end of the table, a callback's stop
 * value as it is, and any LMDB error mapped onto a NEDB_E* code with a
 * message of its own (not a stale one).
 */
#include "internal.h"
#include "unit.h"

static void
test_walk_end(void)
{
	CHECK(nedb__mdb_end(MDB_NOTFOUND) == 0);
	CHECK(nedb__mdb_end(1) == 1);		/* a callback's stop */
	CHECK(nedb__mdb_end(NEDB_EINPUT) == NEDB_EINPUT);
	nedb__err(NEDB_EINPUT, "stale message");
	CHECK(nedb__mdb_end(MDB_CORRUPTED) == NEDB_ECORRUPT);
	CHECK(strstr(nedb_errmsg(), "view is damaged") != NULL);
	CHECK(nedb__mdb_end(MDB_PAGE_NOTFOUND) == NEDB_ECORRUPT);
	CHECK(nedb__mdb_end(MDB_MAP_FULL) == NEDB_EIO);
	CHECK(strstr(nedb_errmsg(), "disk full") != NULL);
	CHECK(nedb__mdb_end(MDB_READERS_FULL) == NEDB_EBUSY);
	CHECK(nedb__mdb_end(MDB_BAD_TXN) == NEDB_EIO);
	CHECK(strstr(nedb_errmsg(), "stale") == NULL);
}

static void
test_every_lmdb_code_maps(void)
{
	for (int rc = MDB_KEYEXIST; rc <= MDB_LAST_ERRCODE; rc++) {
		int got = nedb__mdb_end(rc);

		if (rc == MDB_NOTFOUND)
			CHECK(got == 0);
		else
			CHECK(got < 0 && got >= NEDB_EBROKEN);
	}
}

int
main(void)
{
	RUN(test_walk_end);
	RUN(test_every_lmdb_code_maps);
	UNIT_DONE();
}
