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
 * The key is that time, the value the seq of the LAST op indexed at it:
 * ops sharing a millisecond share one entry, overwritten by each.
 *
 * So "the last op at or before T" is the greatest key <= T, and its
 * value.  Keys ascend with seqs, so the table's last entry is the
 * latest op's time (the floor the next write keeps to).
 *
 * Invariants:
 *  1. Only nedb__apply changes the table (through nedb__time_apply), in
 *     the same LMDB transaction as the op's seqs entry: the table covers
 *     exactly the ops the view has applied, and a rebuild remakes it.
 *  2. Keys ascend with seqs (the running maximum), and each value is the
 *     highest seq with that key.
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

/* The last entry: its time and seq; NEDB_ENOTFOUND (no message) when the
 * table is empty. */
static int
time_last(struct view *v, MDB_txn *txn, int64_t *ts, uint64_t *seq)
{
	uint64_t t = 0;
	struct kvcur c;
	MDB_val k, d;
	int rc;

	if ((rc = nedb__kv_copen(&c, v, txn, DBI_TIMES)))
		return nedb__mdb(rc, "cannot read view");
	rc = nedb__kv_cget(&c, &k, &d, MDB_LAST);
	if (!rc && !(rc = nedb__num_get(k.mv_data, k.mv_size, &t)))
		rc = nedb__num_get(d.mv_data, d.mv_size, seq);
	*ts = (int64_t)t;
	nedb__kv_cclose(&c);
	return rc == MDB_NOTFOUND ? NEDB_ENOTFOUND :
	       nedb__mdb(rc, "cannot read view");
}

int
nedb__time_floor(struct view *v, MDB_txn *txn, int64_t *ts)
{
	uint64_t seq = 0;
	int64_t last = 0;
	int rc = time_last(v, txn, &last, &seq);

	if (rc == NEDB_ENOTFOUND)
		return 0;
	if (!rc && *ts < last)
		*ts = last;
	return rc;
}

int
nedb__time_apply(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char k[NUM_LEN], d[NUM_LEN];
	MDB_val kv = {NUM_LEN, k}, dv = {NUM_LEN, d};
	int64_t ts = o->ts < 0 ? 0 : o->ts;
	int rc;

	if ((rc = nedb__time_floor(v, txn, &ts)))
		return rc;
	nedb__num_put(k, (uint64_t)ts);
	nedb__num_put(d, o->seq);
	return nedb__mdb(nedb__kv_put(v, txn, DBI_TIMES, &kv, &dv, 0),
			 "cannot write view");
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
	uint64_t t;
	struct kvcur c;
	int rc;

	if ((rc = nedb__kv_copen(&c, v, txn, DBI_TIMES)))
		return nedb__mdb(rc, "cannot read view");
	if (ms < 0)
		rc = MDB_NOTFOUND;
	else {
		/* the first key past ms, or the end: the entry before it */
		nedb__num_put(kb, (uint64_t)ms + 1);
		rc = nedb__kv_cget(&c, &k, &d, MDB_SET_RANGE);
		rc = nedb__kv_cget(&c, &k, &d, rc == MDB_NOTFOUND ? MDB_LAST :
				    MDB_PREV);
	}
	if (!rc && !(rc = nedb__num_get(k.mv_data, k.mv_size, &t)))
		rc = nedb__num_get(d.mv_data, d.mv_size, seq);
	else if (rc == MDB_NOTFOUND &&
		 !nedb__kv_cget(&c, &k, &d, MDB_FIRST) &&
		 !nedb__num_get(k.mv_data, k.mv_size, &t))
		*first = (int64_t)t;
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
