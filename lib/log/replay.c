/*
 * replay.c - folding log lines into a view: catch-up and rebuild.
 *
 * Each complete line after the view's applied position, as the log's
 * backend hands it over (logstore.h), is checked by the chain walker
 * (shape, seq, prev = the head so far, hash; chain.c), parsed and handed
 * to apply().  A final segment without a newline is a torn write from a
 * crash: it is reported to the caller, which alone decides (under the
 * writer lock) to cut it off.  Any other damage stops the replay with NEDB_ECORRUPT
 * naming the seq.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

struct rp {
	struct view *v;
	MDB_txn *txn;
	struct applied *a;
	int check_ckpt;
	struct chain c;
	uint64_t to;		/* where the walk ends (progress) */
};

static int
replay_line(const char *line, size_t len, const struct log_loc *loc,
	    uint64_t next, void *payload)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	struct rp *r = payload;
	struct applied *a = r->a;
	uint64_t seq = r->c.seq;
	struct op o;
	int rc, why;

	if ((rc = nedb__chain_check(&r->c, line, len, prev, hash, &why)))
		return rc;
	if ((rc = nedb__log_parse(line, len, &o)))
		return rc == NEDB_EIO ? rc :	/* not the line's fault */
		       nedb__err(rc, "corrupt log at seq %llu: %s",
				 (unsigned long long)seq, nedb_errmsg());
	o.seq = seq;
	o.loc = *loc;
	memcpy(o.hash, hash, HASH_LEN);
	memcpy(o.prev, prev, HASH_LEN);
	if (r->check_ckpt && o.kind == OP_CHECKPOINT) {
		unsigned char st[HASH_LEN];

		if ((rc = nedb__view_digest(r->v, r->txn, st, NULL)))
			goto done;
		if (memcmp(st, o.state, HASH_LEN) &&
		    r->check_ckpt == CKPT_WARN)
			nedb__warn("the checkpoint at seq %llu does not match "
				   "the replayed state (it committed a damaged "
				   "view); the view is built from the log",
				   (unsigned long long)seq);
		else if (memcmp(st, o.state, HASH_LEN)) {
			rc = nedb__err(NEDB_ECORRUPT, "state digest at "
				       "checkpoint seq %llu does not match "
				       "the replayed state",
				       (unsigned long long)seq);
			goto done;
		}
	}
	if ((rc = nedb__apply(r->v, r->txn, &o)))
		goto done;
	nedb__chain_step(&r->c, hash);
	a->seq = seq;
	a->end = next;
	nedb__progress("replay", seq + 1, next, r->to);
	memcpy(a->head, hash, HASH_LEN);
	if (o.kind == OP_CHECKPOINT)
		a->ckpt = seq;
done:
	nedb__op_free(&o);
	return rc;
}

static void
rp_init(struct rp *r, struct view *v, MDB_txn *txn, struct applied *a,
	int check_ckpt)
{
	r->v = v;
	r->txn = txn;
	r->a = a;
	r->check_ckpt = check_ckpt;
	r->c.seq = a->end ? a->seq + 1 : 0;
	memcpy(r->c.head, a->head, HASH_LEN);
}

int
nedb__replay(nedb *db, struct view *v, MDB_txn *txn, uint64_t to,
	     struct applied *a, uint64_t *torn, int check_ckpt)
{
	struct rp r;

	rp_init(&r, v, txn, a, check_ckpt);
	r.to = to;
	return nedb__log_walk(db, r.c.seq, a->end, to, replay_line, &r, torn);
}

/*
 * The digest of the state the log holds: the log up to position `to`,
 * then the complete lines in extra (a batch not yet appended), are
 * replayed into a scratch view beside the database, which is removed
 * afterwards.  What a checkpoint commits to (db.c): the log's state, so
 * that damage in the view is never written into the truth.
 */
int
nedb__replay_digest(nedb *db, uint64_t to, const char *extra, size_t elen,
		    unsigned char out[HASH_LEN], unsigned char texts[HASH_LEN])
{
	char dir[4096], path[4200];
	struct applied a = {.format = VIEW_FORMAT};
	struct view v = {0};
	MDB_txn *txn = NULL;
	struct rp r;
	uint64_t torn;
	int rc;

	if ((size_t)snprintf(dir, sizeof dir, "%s/.replay-XXXXXX", db->dir) >=
	    sizeof dir || !mkdtemp(dir))
		return nedb__errno(NEDB_EIO, "cannot make a scratch view");
	snprintf(path, sizeof path, "%s/view.mdb", dir);
	if ((rc = nedb__view_open(&v, path, MDB_NOSYNC | MDB_NOLOCK,
				  db->view.crypt)))
		goto done;
	v.log_format = db->view.log_format;
	if ((rc = nedb__view_wbegin(&v, &txn)) ||
	    (rc = nedb__view_dbis(&v, txn, true))) {
		rc = nedb__mdb(rc, "cannot make a scratch view");
		goto done;
	}
	if ((rc = nedb__replay(db, &v, txn, to, &a, &torn, CKPT_NONE)))
		goto done;
	if (torn != to || a.end != to) {
		rc = nedb__err(NEDB_ECORRUPT, "corrupt log: it does not hold "
			       "the ops the view has applied");
		goto done;
	}
	rp_init(&r, &v, txn, &a, CKPT_NONE);
	for (size_t i = 0; i < elen;) {
		const char *nl = memchr(extra + i, '\n', elen - i);
		struct log_loc loc;
		uint64_t next;
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (extra + i));
		next = nedb__log_place(db, a.end, len, &loc);
		if ((rc = replay_line(extra + i, len, &loc, next, &r)))
			goto done;
		i += len + 1;
	}
	rc = nedb__view_digest(&v, txn, out, texts);
done:
	if (txn)
		mdb_txn_abort(txn);
	nedb__view_close(&v);
	unlink(path);
	snprintf(path, sizeof path, "%s/view.mdb-lock", dir);
	unlink(path);
	rmdir(dir);
	return rc;
}
