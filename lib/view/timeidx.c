/*
 * timeidx.c - the view's index of op times ("times": be64 ts -> be64
 * seq), for AS OF TIMESTAMP and --as-of @TIME (SPEC §6): which op was
 * the last at or before a time, in one B-tree lookup, never a scan of
 * the log.
 *
 * An op's indexed time is its "ts" member, or the indexed time of the op
 * before it when that is later: the running maximum.  Writers never give
 * an op a ts smaller than its predecessor's (nedb__time_floor, used by
 * the write path), so for every log they write the two are the same;
 * a log written before that rule (or by hand) whose clock went back is
 * still indexed, as though each op had kept its predecessor's time.
 * The key is that time, the value the seq of the FIRST op indexed at it:
 * ops sharing a millisecond share one entry, written by the first, and
 * the ops after it in that millisecond write nothing.
 *
 * So "the last op at or before T" is the op before the first entry past
 * T (one seek and a step back), or, when no entry is past T, the last op
 * applied.  Keys ascend with seqs, so the table's last entry is the
 * latest op's time (the floor the next write keeps to); within a write
 * transaction apply remembers it (struct view's tlast), so that an op
 * in a millisecond already indexed costs no B-tree lookup at all.
 *
 * Invariants:
 *  1. Only nedb__apply changes the table (through nedb__time_apply), in
 *     the same LMDB transaction as the op's seqs entry: the table covers
 *     exactly the ops the view has applied, and a rebuild remakes it.
 *  2. Keys ascend with seqs (the running maximum), and each value is the
 *     lowest seq with that key.
 *  4. v->tlast is used only when learnt in the transaction at hand:
 *     its generation is the view's wgen, which every write transaction
 *     begun on the view (nedb__view_wbegin) bumps, so a transaction
 *     aborted after apply learnt it leaves nothing behind.
 *  3. It is derived, not state: left out of the checkpoint digest (which
 *     existing logs commit to), compared by nedb-verify --determinism.
 *
 * Keys and values are codec.h's be64 numbers (nedb__num_put/_get).
 *
 * Encrypted views (kv.c): keys are encrypted as secret keys are (KV_DET,
 * ordered by their plaintext through the table's comparator), so op
 * times do not show; values are seqs, plaintext as the edges' are.
 */
#include <string.h>
#include "codec.h"
#include "kv.h"

/* The time of the table's last entry; *any false when it is empty.  In a
 * write transaction (write), remembered for the rest of it. */
static int
last_time(struct view *v, MDB_txn *txn, bool write, int64_t *ts, bool *any)
{
	uint64_t t = 0;
	struct kvcur c;
	MDB_val k, d;
	int rc;

	if (write && nedb__view_current(v, v->tlast.gen)) {
		*ts = v->tlast.ts;
		*any = v->tlast.any;
		return 0;
	}
	if ((rc = nedb__kv_copen(&c, v, txn, DBI_TIMES)))
		return nedb__mdb(rc, "cannot read view");
	rc = nedb__kv_cget(&c, &k, &d, MDB_LAST);
	if (!rc)
		rc = nedb__num_get(k.mv_data, k.mv_size, &t);
	nedb__kv_cclose(&c);
	*ts = (int64_t)t;
	*any = rc == 0;
	if (rc && rc != MDB_NOTFOUND)
		return nedb__mdb(rc, "cannot read view");
	if (write) {
		v->tlast.gen = v->wgen;
		v->tlast.ts = *ts;
		v->tlast.any = *any;
	}
	return 0;
}

int
nedb__time_floor(struct view *v, MDB_txn *txn, int64_t *ts)
{
	int64_t last;
	bool any;
	int rc = last_time(v, txn, true, &last, &any);

	if (!rc && any && *ts < last)
		*ts = last;
	return rc;
}

int
nedb__time_apply(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char k[NUM_LEN], d[NUM_LEN];
	MDB_val kv = {NUM_LEN, k}, dv = {NUM_LEN, d};
	int64_t ts = o->ts < 0 ? 0 : o->ts, last;
	bool any;
	int rc;

	if ((rc = last_time(v, txn, true, &last, &any)))
		return rc;
	if (any && ts <= last)
		return 0;	/* indexed at last, whose first op is there */
	nedb__num_put(k, (uint64_t)ts);
	nedb__num_put(d, o->seq);
	if ((rc = nedb__kv_put(v, txn, DBI_TIMES, &kv, &dv, MDB_APPEND)))
		return nedb__mdb(rc, "cannot write view");
	v->tlast.ts = ts;
	v->tlast.any = true;
	return 0;
}

/*
 * The last op at or before ms: 0 with *seq, NEDB_ENOTFOUND (no message)
 * when the first op is later, or another error.  *first gets the time
 * of the first entry (for the caller's message) when there is one.
 */
static int
time_seq(struct view *v, MDB_txn *txn, int64_t ms, uint64_t *seq,
	 int64_t *first)
{
	unsigned char kb[NUM_LEN];
	MDB_val k = {NUM_LEN, kb}, d;
	uint64_t t, next;
	struct kvcur c;
	int rc;

	if ((rc = nedb__kv_copen(&c, v, txn, DBI_TIMES)))
		return nedb__mdb(rc, "cannot read view");
	/* the first entry past ms: the op before its first one */
	if (ms < 0)
		rc = nedb__kv_cget(&c, &k, &d, MDB_FIRST);
	else {
		nedb__num_put(kb, (uint64_t)ms + 1);
		rc = nedb__kv_cget(&c, &k, &d, MDB_SET_RANGE);
	}
	if (!rc && !(rc = nedb__num_get(d.mv_data, d.mv_size, &next)) &&
	    !(rc = nedb__num_get(k.mv_data, k.mv_size, &t))) {
		if (nedb__kv_cget(&c, &k, &d, MDB_PREV) == 0 && next > 0)
			*seq = next - 1;
		else {
			*first = (int64_t)t;	/* none at or before ms */
			rc = MDB_NOTFOUND;
		}
	} else if (rc == MDB_NOTFOUND &&
		   !nedb__kv_cget(&c, &k, &d, MDB_LAST)) {
		/* none past ms: the last op applied */
		struct applied a;

		rc = nedb__view_applied(v, txn, &a) ? MDB_CORRUPTED : 0;
		*seq = a.seq;
	}
	nedb__kv_cclose(&c);
	return rc == MDB_NOTFOUND ? NEDB_ENOTFOUND :
	       nedb__mdb(rc, "cannot read view");
}

int
nedb__seq_at(nedb *db, MDB_txn *txn, int64_t ms, uint64_t *seq)
{
	char t[48], f[48];
	int64_t first = -1;
	int rc = time_seq(&db->view, txn, ms, seq, &first);

	if (rc != NEDB_ENOTFOUND)
		return rc;
	if (first < 0)
		return nedb__err(NEDB_ECORRUPT, "corrupt view: it has no "
				 "times; run nedb-checkpoint --rebuild");
	return nedb__err(NEDB_EUSAGE, "no op at or before %s: the database "
			 "begins at %s (seq 0)", nedb__time_format(t, ms),
			 nedb__time_format(f, first));
}

int
nedb_seq_at(nedb *db, int64_t ms, uint64_t *seq)
{
	MDB_txn *txn;
	int rc;

	if ((rc = nedb__txn(db, &txn)))
		return rc;
	rc = nedb__seq_at(db, txn, ms, seq);
	nedb__txn_done(db, txn);
	return rc;
}
