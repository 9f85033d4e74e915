/*
 * replay.c - folding log lines into a view: catch-up and rebuild.
 *
 * Each complete line after the view's applied offset is checked (shape,
 * seq, prev = the head so far, hash), parsed and handed to apply().  A
 * final segment without a newline is a torn write from a crash: it is
 * reported to the caller, which alone decides (under the writer lock)
 * to cut it off.  Any other damage stops the replay with NEDB_ECORRUPT
 * naming the seq.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define CHUNK (1u << 20)

static int
replay_line(struct view *v, MDB_txn *txn, const char *line, size_t len,
	    uint64_t off, struct applied *a, int check_ckpt)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	uint64_t seq = a->off ? a->seq + 1 : 0;
	struct op o;
	int rc;

	if ((rc = nedb__log_check(line, len, &seq, prev, hash)))
		return rc;
	if (memcmp(prev, a->head, HASH_LEN))
		return nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: "
				 "prev does not match the hash of seq %llu",
				 (unsigned long long)seq,
				 (unsigned long long)seq - 1);
	if ((rc = nedb__log_parse(line, len, &o)))
		return rc == NEDB_EIO ? rc :	/* not the line's fault */
		       nedb__err(rc, "corrupt log at seq %llu: %s",
				 (unsigned long long)seq, nedb_errmsg());
	o.seq = seq;
	o.off = off;
	memcpy(o.hash, hash, HASH_LEN);
	memcpy(o.prev, prev, HASH_LEN);
	if (check_ckpt && o.kind == OP_CHECKPOINT) {
		unsigned char st[HASH_LEN];

		if ((rc = nedb__view_digest(v, txn, st)))
			goto done;
		if (memcmp(st, o.state, HASH_LEN) &&
		    check_ckpt == CKPT_WARN)
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
	if ((rc = nedb__apply(v, txn, &o)))
		goto done;
	a->seq = seq;
	a->off = off + len + 1;
	memcpy(a->head, hash, HASH_LEN);
	if (o.kind == OP_CHECKPOINT)
		a->ckpt = seq;
done:
	nedb__op_free(&o);
	return rc;
}

struct rp {
	struct view *v;
	MDB_txn *txn;
	struct applied *a;
	int check_ckpt;
};

static int
archived_line(const char *line, size_t len, uint64_t off, void *payload)
{
	struct rp *r = payload;

	return replay_line(r->v, r->txn, line, len, off, r->a, r->check_ckpt);
}

int
nedb__replay(nedb *db, struct view *v, MDB_txn *txn, uint64_t to,
	     struct applied *a, uint64_t *torn, int check_ckpt)
{
	nedb_buf b = {0};
	uint64_t pos;		/* physical offset of b.p[0] in log.aof */
	int rc = 0;

	*torn = to;
	if (a->off < db->shift) {
		/* ops pruned into the archive come first */
		struct rp r = {v, txn, a, check_ckpt};

		if ((rc = nedb__archive_scan(db, a->off ? a->seq + 1 : 0,
					     archived_line, &r)))
			return rc;
		if (a->off != db->shift)
			return nedb__err(NEDB_ECORRUPT, "corrupt archive: it "
					 "does not end where log.aof begins");
	}
	pos = a->off - db->shift;
	to -= db->shift;
	while (pos + b.len < to) {
		size_t want = CHUNK, start = 0;
		ssize_t n;
		char *nl;

		if (to - pos - b.len < want)
			want = (size_t)(to - pos - b.len);
		if ((rc = nedb_buf_grow(&b, want)))
			goto done;
		n = pread(db->logfd, b.p + b.len, want, (off_t)(pos + b.len));
		if (n < 0) {
			rc = nedb__errno(NEDB_EIO, "cannot read log");
			goto done;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		while ((nl = memchr(b.p + start, '\n', b.len - start))) {
			size_t len = (size_t)(nl - (b.p + start));

			if ((rc = replay_line(v, txn, b.p + start, len,
					      db->shift + pos + start, a,
					      check_ckpt)))
				goto done;
			start += len + 1;
		}
		memmove(b.p, b.p + start, b.len - start);
		b.len -= start;
		pos += start;
	}
	if (b.len)
		*torn = db->shift + pos;
done:
	nedb_buf_free(&b);
	return rc;
}

/*
 * The digest of the state the log holds: the log up to virtual offset
 * `to`, then the complete lines in extra (a batch not yet appended), are
 * replayed into a scratch view beside the database, which is removed
 * afterwards.  What a checkpoint commits to (db.c): the log's state, so
 * that damage in the view is never written into the truth.
 */
int
nedb__replay_digest(nedb *db, uint64_t to, const char *extra, size_t elen,
		    unsigned char out[HASH_LEN])
{
	char dir[4096], path[4200];
	struct applied a = {.format = VIEW_FORMAT};
	struct view v = {0};
	MDB_txn *txn = NULL;
	uint64_t torn;
	int rc;

	if ((size_t)snprintf(dir, sizeof dir, "%s/.replay-XXXXXX", db->dir) >=
	    sizeof dir || !mkdtemp(dir))
		return nedb__errno(NEDB_EIO, "cannot make a scratch view");
	snprintf(path, sizeof path, "%s/view.mdb", dir);
	if ((rc = nedb__view_open(&v, path, MDB_NOSYNC | MDB_NOLOCK)))
		goto done;
	if ((rc = mdb_txn_begin(v.env, NULL, 0, &txn)) ||
	    (rc = nedb__view_dbis(&v, txn, true))) {
		rc = nedb__mdb(rc, "cannot make a scratch view");
		goto done;
	}
	if ((rc = nedb__replay(db, &v, txn, to, &a, &torn, CKPT_NONE)))
		goto done;
	if (torn != to || a.off != to) {
		rc = nedb__err(NEDB_ECORRUPT, "corrupt log: it does not hold "
			       "the ops the view has applied");
		goto done;
	}
	for (size_t i = 0; i < elen;) {
		const char *nl = memchr(extra + i, '\n', elen - i);
		size_t len;

		if (!nl)
			break;
		len = (size_t)(nl - (extra + i));
		if ((rc = replay_line(&v, txn, extra + i, len, a.off, &a,
				      CKPT_NONE)))
			goto done;
		i += len + 1;
	}
	rc = nedb__view_digest(&v, txn, out);
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
