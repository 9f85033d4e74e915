/*
 * verify.c - rewalking the chain from genesis, and the determinism check.
 *
 * The walk needs no JSON parser: each line's shape, seq, prev and hash
 * are checked from its text (log.c), so it runs at hashing speed.  It
 * then holds the log against the view: the view's applied head must be
 * a line of the log.  The determinism check replays the log through
 * apply() into a scratch view and compares it, table by table, with the
 * materialized one as of the same seq.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>
#include "internal.h"

static void
fail(nedb_verify_result *out, uint64_t seq, const char *msg)
{
	const char *p = strstr(msg, ": ");

	/* "corrupt log at seq N: why" -> "why" */
	if (p && !strncmp(msg, "corrupt log at seq", 18))
		msg = p + 2;
	out->ok = 0;
	out->seq = seq;
	snprintf(out->error, sizeof out->error, "%s", msg);
}

static int
rmtree_view(const char *dir)
{
	char p[4200];

	snprintf(p, sizeof p, "%s/view.mdb", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/view.mdb-lock", dir);
	unlink(p);
	return rmdir(dir);
}

static int
determinism(nedb *db, MDB_txn *live, const struct applied *want,
	    nedb_verify_result *out)
{
	char tmpl[4096], path[4200], why[256];
	struct applied a = {.format = VIEW_FORMAT};
	struct view v;
	MDB_txn *txn = NULL;
	uint64_t torn;
	int rc;

	snprintf(tmpl, sizeof tmpl, "%s/.verify-XXXXXX", db->dir);
	if (!mkdtemp(tmpl))
		return nedb__errno(NEDB_EIO, "cannot make a scratch view");
	snprintf(path, sizeof path, "%s/view.mdb", tmpl);
	if ((rc = nedb__view_open(&v, path, MDB_NOSYNC)))
		goto done;
	if ((rc = mdb_txn_begin(v.env, NULL, 0, &txn)) ||
	    (rc = nedb__view_dbis(&v, txn, true))) {
		rc = nedb__mdb(rc, "cannot make a scratch view");
		goto done;
	}
	rc = nedb__replay(db, &v, txn, want->off, &a, &torn, true);
	if (rc == NEDB_ECORRUPT) {
		fail(out, a.seq + 1, nedb_errmsg());
		rc = 0;
		goto done;
	}
	if (rc || (rc = nedb__view_set_applied(&v, txn, &a)))
		goto done;
	if (nedb__view_compare(&db->view, live, &v, txn, why, sizeof why))
		fail(out, want->seq, why);
done:
	if (txn)
		mdb_txn_abort(txn);
	nedb__view_close(&v);
	rmtree_view(tmpl);
	return rc;
}

/* The walk's state: one line after another, archive then log.aof. */
struct walk {
	nedb_verify_result *out;
	struct applied a;
	unsigned char head[HASH_LEN], at_applied[HASH_LEN];
	bool seen_applied, failed;
	uint64_t seq;
	MDB_cursor *sc;
	MDB_val sk, sd;
	int src;
};

static int walk_link(struct walk *w, const unsigned char *prev,
		     const unsigned char *hash);

/* Checks one line; returns 1 (and fills out) at the first bad op. */
static int
walk_line(const char *line, size_t len, uint64_t off, void *payload)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	struct walk *w = payload;
	uint64_t s = w->seq;

	(void)off;
	if (nedb__log_check(line, len, &s, prev, hash)) {
		fail(w->out, w->seq, nedb_errmsg());
		w->failed = true;
		return 1;
	}
	return walk_link(w, prev, hash);
}

/* The part of the check that needs the op before: the link, the view. */
static int
walk_link(struct walk *w, const unsigned char *prev,
	  const unsigned char *hash)
{
	if (memcmp(prev, w->head, HASH_LEN)) {
		fail(w->out, w->seq, w->seq ? "prev does not match the hash of "
		     "the op before it" : "genesis prev is not zero");
		goto bad;
	}
	/* each op the view has applied must carry the hash it recorded: a
	 * history rewritten with fresh hashes is named where it begins */
	if (w->seq <= w->a.seq) {
		struct seqent se;

		if (w->src || w->sk.mv_size != 8 ||
		    nedb__get_be64(w->sk.mv_data) != w->seq) {
			fail(w->out, w->seq, "the view has no record of this "
			     "op");
			goto bad;
		}
		memcpy(&se, w->sd.mv_data, sizeof se);
		if (memcmp(se.hash, hash, HASH_LEN)) {
			fail(w->out, w->seq, "hash differs from the one the "
			     "view recorded");
			goto bad;
		}
		w->src = mdb_cursor_get(w->sc, &w->sk, &w->sd, MDB_NEXT);
	}
	memcpy(w->head, hash, HASH_LEN);
	if (w->seq == w->a.seq) {
		memcpy(w->at_applied, hash, HASH_LEN);
		w->seen_applied = true;
	}
	w->seq++;
	return 0;
bad:
	w->failed = true;
	return 1;
}

/*
 * Hashing is the cost of a walk, and every line's hash depends on that
 * line alone: a second thread hashes the second half of log.aof while
 * this one walks the first; the links of the second half are then
 * checked from what it recorded.
 */
struct half {
	const char *p, *end;
	uint64_t first;			/* seq its first line claims */
	unsigned char (*h)[2][HASH_LEN];	/* prev, hash per line */
	size_t n, cap;
	const char *stop;		/* first line not checked (bad) */
	char err[256];
};

static void *
hash_half(void *arg)
{
	struct half *h = arg;
	const char *p = h->p, *nl;

	h->first = strtoull(p + 7, NULL, 10);
	while (p < h->end && (nl = memchr(p, '\n', (size_t)(h->end - p)))) {
		uint64_t s = h->first + h->n;

		if (h->n == h->cap) {
			void *x = realloc(h->h, (h->cap = h->cap ? 2 * h->cap :
						 4096) * sizeof *h->h);

			if (!x) {
				snprintf(h->err, sizeof h->err, "out of memory");
				h->stop = p;
				return NULL;
			}
			h->h = x;
		}
		if (nedb__log_check(p, (size_t)(nl - p), &s, h->h[h->n][0],
				    h->h[h->n][1])) {
			snprintf(h->err, sizeof h->err, "%s", nedb_errmsg());
			h->stop = p;
			return NULL;
		}
		h->n++;
		p = nl + 1;
	}
	h->stop = p;
	return NULL;
}

/* Walks log.aof's complete lines from *pp; *pp ends after the last. */
static int
walk_file(struct walk *w, const char **pp, const char *end)
{
	struct half h = {0};
	const char *p = *pp, *mid, *nl;
	pthread_t th;
	bool two = end - p > (16 << 20);
	size_t i;

	if (two) {
		mid = memchr(p + (end - p) / 2, '\n',
			     (size_t)(end - (p + (end - p) / 2)));
		two = mid && mid + 1 < end && end - (mid + 1) > 80 &&
		      !memcmp(mid + 1, "{\"seq\":", 7);
		if (two) {
			h.p = mid + 1;
			h.end = end;
			end = h.p;
			two = !pthread_create(&th, NULL, hash_half, &h);
			if (!two)
				end = h.end;
		}
	}
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if (walk_line(p, (size_t)(nl - p), 0, w))
			break;
		p = nl + 1;
	}
	if (!two) {
		*pp = p;
		return 0;
	}
	pthread_join(th, NULL);
	if (w->failed)
		goto out;
	/* the second half: links and the view, from the recorded hashes;
	 * its seqs must go on from the first half's */
	for (i = 0; i < h.n; i++) {
		if (h.first + i != w->seq) {
			char why[64];

			snprintf(why, sizeof why, "found seq %llu",
				 (unsigned long long)(h.first + i));
			fail(w->out, w->seq, why);
			w->failed = true;
			goto out;
		}
		if (walk_link(w, h.h[i][0], h.h[i][1]))
			goto out;
	}
	if (h.stop < h.end && memchr(h.stop, '\n',
				      (size_t)(h.end - h.stop))) {
		/* a bad line: report it as the one-thread walk would */
		const char *q = h.stop;

		nl = memchr(q, '\n', (size_t)(h.end - q));
		walk_line(q, (size_t)(nl - q), 0, w);
		if (!w->failed) {
			fail(w->out, w->seq, h.err);
			w->failed = true;
		}
		goto out;
	}
	p = h.stop;
out:
	*pp = p > h.stop ? p : h.stop;
	free(h.h);
	return 0;
}

int
nedb_verify(nedb *db, unsigned flags, nedb_verify_result *out)
{
	struct walk w = {.out = out};
	struct stat st;
	const char *map = NULL, *p, *end;
	MDB_txn *txn;
	int rc;

	memset(out, 0, sizeof *out);
	out->ok = 1;
	if ((rc = mdb_txn_begin(db->view.env, NULL, MDB_RDONLY, &txn)))
		return nedb__mdb(rc, "cannot read view");
	if ((rc = nedb__view_applied(&db->view, txn, &w.a))) {
		rc = nedb__err(NEDB_ECORRUPT, "view has no head");
		goto done;
	}
	if (fstat(db->logfd, &st)) {
		rc = nedb__errno(NEDB_EIO, "cannot read log");
		goto done;
	}
	if (st.st_size == 0) {
		fail(out, 0, "log is empty: no genesis op");
		goto done;
	}
	if ((rc = mdb_cursor_open(txn, db->view.dbi[DBI_SEQS], &w.sc))) {
		rc = nedb__mdb(rc, "cannot read view");
		goto done;
	}
	w.src = mdb_cursor_get(w.sc, &w.sk, &w.sd, MDB_FIRST);
	/* from genesis: the archived ops first */
	if (db->first_seq) {
		rc = nedb__archive_scan(db, 0, walk_line, &w);
		if (w.failed) {
			rc = 0;
			goto done;
		}
		if (rc == NEDB_ECORRUPT) {
			fail(out, w.seq, nedb_errmsg());
			rc = 0;
			goto done;
		}
		if (rc)
			goto done;
		if (w.seq != db->first_seq) {
			fail(out, w.seq, "the archive does not reach the first "
			     "op of log.aof");
			goto done;
		}
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED,
		   db->logfd, 0);
	if (map == MAP_FAILED) {
		map = NULL;
		rc = nedb__errno(NEDB_EIO, "cannot read log");
		goto done;
	}
	madvise((void *)map, (size_t)st.st_size, MADV_SEQUENTIAL);
	p = map;
	end = map + st.st_size;
	if ((rc = walk_file(&w, &p, end)))
		goto done;
	if (w.failed)
		goto done;
	if (p < end)
		nedb__warn("torn log tail of %zu bytes after seq %llu (the "
			   "next write repairs it)", (size_t)(end - p),
			   (unsigned long long)w.seq - 1);
	if (w.seq == 0) {
		fail(out, 0, "log has no complete genesis op");
		goto done;
	}
	if (!w.seen_applied) {
		char msg[160];

		snprintf(msg, sizeof msg, "log ends at seq %llu but the view "
			 "has ops through seq %llu",
			 (unsigned long long)w.seq - 1,
			 (unsigned long long)w.a.seq);
		fail(out, w.seq, msg);
		goto done;
	}
	if (memcmp(w.at_applied, w.a.head, HASH_LEN)) {
		fail(out, w.a.seq, "hash differs from the head the view "
		     "recorded");
		goto done;
	}
	out->seq = w.seq - 1;
	nedb__hex(out->head, w.head, HASH_LEN);
	if (flags & NEDB_VERIFY_DETERMINISM)
		rc = determinism(db, txn, &w.a, out);
done:
	if (w.sc)
		mdb_cursor_close(w.sc);
	if (map)
		munmap((void *)map, (size_t)st.st_size);
	mdb_txn_abort(txn);
	return rc;
}
