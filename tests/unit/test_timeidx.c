/*
 * test_timeidx.c - the index of op times (lib/view/timeidx.c): one entry
 * per millisecond holding its first op, the last op at or before a time
 * found from the entry after it, and what apply remembers (the last
 * entry, a collection's count, a client's nonce) good only within the
 * write transaction it was learnt in.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "codec.h"
#include "kv.h"
#include "unit.h"

static char root[] = "/tmp/nedb-unit-timeidx-XXXXXX";
static int nview;

static void
view_new(struct view *v)
{
	char path[256];
	MDB_txn *txn;

	snprintf(path, sizeof path, "%s/v%d.mdb", root, nview++);
	if (nedb__view_open(v, path, MDB_NOSYNC, NULL) ||
	    nedb__view_wbegin(v, &txn) || nedb__view_dbis(v, txn, true) ||
	    mdb_txn_commit(txn))
		abort();
}

/* Applies the times of ops first.. (ts[i] the time of op first + i). */
static int
apply_times(struct view *v, MDB_txn *txn, uint64_t first, const int64_t *ts,
	    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct op o = {.seq = first + i, .ts = ts[i]};
		int rc = nedb__time_apply(v, txn, &o);

		if (rc)
			return rc;
	}
	return 0;
}

/* The "applied" record's seq, which the read of a time past every
 * entry answers. */
static void
set_applied(struct view *v, MDB_txn *txn, uint64_t seq)
{
	struct applied a = {.seq = seq, .format = VIEW_FORMAT};

	if (nedb__view_set_applied(v, txn, &a))
		abort();
}

/* The number of entries in the table. */
static size_t
entries(struct view *v, MDB_txn *txn)
{
	struct kvcur c;
	MDB_val k, d;
	size_t n = 0;

	if (nedb__kv_copen(&c, v, txn, DBI_TIMES))
		abort();
	for (int op = MDB_FIRST; !nedb__kv_cget(&c, &k, &d, op); op = MDB_NEXT)
		n++;
	nedb__kv_cclose(&c);
	return n;
}

/* The last op at or before ms, or -1 when none. */
static long long
at(struct view *v, MDB_txn *txn, int64_t ms)
{
	nedb db;
	uint64_t seq;
	int rc;

	memset(&db, 0, sizeof db);
	db.view = *v;
	rc = nedb__seq_at(&db, txn, ms, &seq);
	return rc ? -1 : (long long)seq;
}

/* Ops sharing a millisecond share one entry; a time is answered with
 * the last op at or before it, in every position. */
static void
test_answers(void)
{
	/* ops 0..7: times 10 10 10 20 25 25 (clock back: 25) 40 */
	const int64_t ts[] = {10, 10, 10, 20, 25, 25, 21, 40};
	struct view v;
	MDB_txn *txn;

	view_new(&v);
	CHECK(nedb__view_wbegin(&v, &txn) == 0);
	CHECK(apply_times(&v, txn, 0, ts, 8) == 0);
	set_applied(&v, txn, 7);
	CHECK(mdb_txn_commit(txn) == 0);
	CHECK(mdb_txn_begin(v.env, NULL, MDB_RDONLY, &txn) == 0);
	CHECK(entries(&v, txn) == 4);
	CHECK(at(&v, txn, 9) == -1);
	CHECK(at(&v, txn, -1) == -1);
	CHECK(at(&v, txn, 10) == 2);
	CHECK(at(&v, txn, 19) == 2);
	CHECK(at(&v, txn, 20) == 3);
	CHECK(at(&v, txn, 25) == 6);	/* op 6 is indexed at 25 */
	CHECK(at(&v, txn, 39) == 6);
	CHECK(at(&v, txn, 40) == 7);
	CHECK(at(&v, txn, 1000) == 7);
	mdb_txn_abort(txn);
	nedb__view_close(&v);
}

/* The floor a writer keeps to is the last entry, remembered within a
 * transaction; a transaction aborted after apply learnt a later time
 * leaves nothing for the next one to trust. */
static void
test_aborted_write_forgotten(void)
{
	const int64_t early[] = {5, 6}, late[] = {500}, next[] = {7};
	struct view v;
	MDB_txn *txn;
	int64_t t;

	view_new(&v);
	CHECK(nedb__view_wbegin(&v, &txn) == 0);
	CHECK(apply_times(&v, txn, 0, early, 2) == 0);
	set_applied(&v, txn, 1);
	CHECK(mdb_txn_commit(txn) == 0);
	/* op 2 at 500, aborted */
	CHECK(nedb__view_wbegin(&v, &txn) == 0);
	CHECK(apply_times(&v, txn, 2, late, 1) == 0);
	t = 0;
	CHECK(nedb__time_floor(&v, txn, &t) == 0 && t == 500);
	mdb_txn_abort(txn);
	/* op 2 again, at 7: indexed, and the floor is 7 */
	CHECK(nedb__view_wbegin(&v, &txn) == 0);
	t = 0;
	CHECK(nedb__time_floor(&v, txn, &t) == 0 && t == 6);
	CHECK(apply_times(&v, txn, 2, next, 1) == 0);
	t = 0;
	CHECK(nedb__time_floor(&v, txn, &t) == 0 && t == 7);
	set_applied(&v, txn, 2);
	CHECK(mdb_txn_commit(txn) == 0);
	CHECK(mdb_txn_begin(v.env, NULL, MDB_RDONLY, &txn) == 0);
	CHECK(entries(&v, txn) == 3);
	CHECK(at(&v, txn, 6) == 1);
	CHECK(at(&v, txn, 7) == 2);
	CHECK(at(&v, txn, 499) == 2);
	mdb_txn_abort(txn);
	nedb__view_close(&v);
}

/* The count of collection coll in the colls table (0: no entry). */
static uint64_t
coll_count(struct view *v, MDB_txn *txn, const char *coll)
{
	MDB_val k = {strlen(coll), (void *)coll}, d;
	uint64_t n = 0;

	if (!nedb__kv_get(v, txn, DBI_COLLS, &k, &d))
		nedb__num_get(d.mv_data, d.mv_size, &n);
	return n;
}

/* A put of users/id at seq by client x with nonce seq, applied. */
static int
put_doc(struct view *v, MDB_txn *txn, uint64_t seq, const char *id)
{
	char doc[64];
	struct op o = {.kind = OP_PUT, .seq = seq, .ts = 10 + (int64_t)seq,
		       .coll = "users", .id = id, .client = "x",
		       .nonce = seq};

	o.doclen = (size_t)snprintf(doc, sizeof doc, "{\"_id\":\"%s\"}", id);
	o.doc = doc;
	return nedb__apply(v, txn, &o);
}

/* A collection's count and a client's nonce, remembered by apply in an
 * aborted transaction, are not what the next one reads. */
static void
test_aborted_counts_forgotten(void)
{
	struct view v;
	MDB_txn *txn;

	view_new(&v);
	CHECK(nedb__view_wbegin(&v, &txn) == 0);
	CHECK(put_doc(&v, txn, 1, "a") == 0);
	CHECK(put_doc(&v, txn, 2, "b") == 0);
	CHECK(coll_count(&v, txn, "users") == 2);
	CHECK(nedb__view_current(&v, v.nlast.gen) && v.nlast.nonce == 2);
	mdb_txn_abort(txn);
	CHECK(nedb__view_wbegin(&v, &txn) == 0);
	CHECK(!nedb__view_current(&v, v.ccount.gen));
	CHECK(!nedb__view_current(&v, v.nlast.gen));
	CHECK(put_doc(&v, txn, 1, "c") == 0);
	CHECK(coll_count(&v, txn, "users") == 1);
	CHECK(v.nlast.nonce == 1);
	mdb_txn_abort(txn);
	nedb__view_close(&v);
}

int
main(void)
{
	char cmd[200];

	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_answers);
	RUN(test_aborted_write_forgotten);
	RUN(test_aborted_counts_forgotten);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	if (system(cmd))
		return 1;
	UNIT_DONE();
}
