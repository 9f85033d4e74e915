/*
 * file.c - versions of files (nedb.h's nedb_file_*, nedb-file(1)): a put
 * cuts its stream into chunks (cdc.c), stores the new ones (store.c),
 * lists them in a manifest (manifest.c), then appends one "file" op that
 * apply() files in the view's table "files"; a read finds the version,
 * checks it against its op's line and streams its chunks back, each
 * checked against its address.
 *
 * Invariants:
 *  1. A version exists only as an op of the log: every chunk and page it
 *     names is in the store, synced and indexed, before its op is staged
 *     (nedb_file_put_commit: manifest finished, writer flushed, then the
 *     write).  A put that stops before that leaves garbage, not a
 *     version.
 *  2. A put holds the store shared from begin to commit, so gc cannot
 *     drop a chunk it deduplicated against before its op names it.
 *  3. Reads trust the view for where a version's op is, never for what
 *     it says: nedb_file_stat takes name, number, size, chunks, root and
 *     manifest from the op's line (invariant 6 of engine/db.c).
 *  4. Memory is bounded by the chunking's maximum (the queue holds at
 *     most QMAX chunks, about QBYTES at the defaults) and a manifest page
 *     per level, whatever the size of a file.
 *
 * A put runs on two threads: the caller's cuts the stream into chunks
 * and queues them; a store thread takes them from the queue in that
 * order and files them: the tree, the manifest, and the writer (seal,
 * append, batch commits) are its alone until it is joined.  The work on
 * a chunk in between (hash, lookup, deflate and check) is done by
 * whichever thread is free (putq below), so that a put keeps two cores
 * busy.  The queue is the only thing they share (under its mutex); the
 * first error of either thread is sticky and is the put's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "filestore.h"
#include "kv.h"
#include "tree.h"
#include "verify.h"

static void
chunk_config(nedb *db, uint32_t c[3], int *tier)
{
	if (db->fchunk[1]) {
		memcpy(c, db->fchunk, 3 * sizeof *c);
	} else {
		c[0] = CDC_DEF_MIN;
		c[1] = CDC_DEF_AVG;
		c[2] = CDC_DEF_MAX;
	}
	*tier = db->ftier ? db->ftier : NEDB_TIER_WARM;
}

static int
check_name(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n == 0 || n > MAX_ID || nedb_check_id(name, n))
		return nedb__err(NEDB_EINPUT, "bad file name '%.80s': want "
				 "1-400 bytes of UTF-8, no control characters",
				 name ? name : "");
	return 0;
}

/* --- put ----------------------------------------------------------- */

/*
 * The queue between a put's two threads: up to nslots chunks in stream
 * order, each in a slot that goes
 *
 *   free -> FULL (the caller cut it) -> BUSY (a thread works on it)
 *        -> DONE (hashed; looked up; deflated and checked when new)
 *        -> the store thread files it, in order: free again
 *
 * A chunk's work (its BLAKE2b, its lookup in the index, its deflating
 * and checking) is done by whichever thread is free: the store thread
 * takes the first FULL slot while the head is not DONE; the caller, when
 * every slot is taken, takes the last FULL one rather than wait, and at
 * the end all it can.  So a put keeps both cores busy while the chunks
 * reach the tree, the manifest and the pack in the order of the stream:
 * those the store thread alone touches until it is joined.  A slot is
 * the caller's while free, its worker's while BUSY, the store thread's
 * while DONE; states, head and count change under the mutex only.
 */
#define QMAX 16
#define QBYTES ((size_t)8 << 20)	/* slots of max bytes: about this */

enum { SLOT_FREE, SLOT_FULL, SLOT_BUSY, SLOT_DONE };

/* A thread's means for a chunk's work. */
struct qwork {
	struct fcodec *codec;		/* NULL: raw tier */
	struct flook look;		/* its snapshot of the index */
};

struct putq {
	pthread_t th;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	struct qslot {
		int state, enc;
		bool have;		/* the store has it: not written */
		unsigned char addr[FADDR_LEN];
		unsigned char *p;
		size_t n, cap;
		nedb_buf z;		/* deflated (enc not FENC_RAW) */
	} slot[QMAX];
	unsigned nslots, head, count;
	bool done;			/* no more will come */
	bool abort;			/* and what waits is dropped */
	int rc;				/* the first error, either thread's */
	char msg[512];
	struct nedb_file_put *put;	/* its tree, manifest and writer */
	int tier;			/* the writer's: FENC_* */
	struct qwork sw, cw;		/* the store thread's, the caller's */
};

struct nedb_file_put {
	nedb *db;
	char *name;
	nedb_wopts w;
	struct fstore *s;
	struct fwriter *wr;
	struct nedb_cdc cdc;
	struct mbuild mb;
	struct nedb_tree_range tr;
	struct putq q;
	bool q_ready;
	unsigned char *buf;
	size_t start, len, cap;
	uint64_t size, chunks, added;
	bool finished;			/* put_finish: stored and synced */
	unsigned char man[FADDR_LEN], root[32];
};

/* The first error, under the mutex: kept with its message (messages are
 * per thread), and both threads told. */
static void
q_fail(struct putq *q, int rc)
{
	if (!q->rc) {
		q->rc = rc;
		snprintf(q->msg, sizeof q->msg, "%s", nedb_errmsg());
	}
	pthread_cond_broadcast(&q->more);
	pthread_cond_broadcast(&q->room);
}

/* The first error, raised in this thread. */
static int
q_error(struct putq *q)
{
	return nedb__err(q->rc, "%s", q->msg);
}

/* A chunk's work, in any thread, with that thread's means: its address,
 * whether the store has it (committed), and if not its encoding. */
static int
chunk_work(struct putq *q, struct qwork *wk, struct qslot *k)
{
	struct nedb_file_put *p = q->put;
	int rc;

	nedb__fstore_addr(p->s, k->addr, k->p, k->n);
	k->enc = FENC_RAW;
	if ((rc = nedb__fstore_has_in(p->s, &wk->look, k->addr)) < 0)
		return rc;
	k->have = rc;
	if (k->have || !nedb__fwriter_deflates(p->wr, FREC_CHUNK, k->n))
		return 0;
	if ((rc = nedb__fcodec_deflate(wk->codec, k->p, k->n, &k->z)) < 0)
		return rc;
	k->enc = rc ? q->tier : FENC_RAW;
	return 0;
}

/* A DONE chunk, in stream order: into the tree, the manifest (whose
 * pages the writer stores) and, when new, the pack. */
static int
chunk_file(struct putq *q, struct qslot *k)
{
	struct nedb_file_put *p = q->put;
	uint64_t added = 0;
	int rc;

	if ((rc = nedb__tree_range_add(&p->tr, k->addr, FADDR_LEN)) ||
	    (rc = nedb__man_add(&p->mb, k->addr, (uint32_t)k->n)))
		return rc;
	if (k->have)
		return 0;
	rc = nedb__fwriter_put_enc(p->wr, FREC_CHUNK, k->addr, k->p, k->n,
				   k->enc, k->enc == FENC_RAW ? k->p :
				   (unsigned char *)k->z.p,
				   k->enc == FENC_RAW ? k->n : k->z.len, &added);
	p->added += added;
	return rc;
}

/* The first (from the head) or last FULL slot, or NULL; under the
 * mutex. */
static struct qslot *
q_full(struct putq *q, bool last)
{
	for (unsigned i = 0; i < q->count; i++) {
		unsigned j = last ? q->count - 1 - i : i;
		struct qslot *k = &q->slot[(q->head + j) % q->nslots];

		if (k->state == SLOT_FULL)
			return k;
	}
	return NULL;
}

/* Works on a FULL slot, the first or last, if there is one: true when
 * it did (whatever came of it).  Under the mutex, which it lets go of
 * while it works. */
static bool
q_help(struct putq *q, bool last, struct qwork *wk)
{
	struct qslot *k = q_full(q, last);
	int rc;

	if (!k)
		return false;
	k->state = SLOT_BUSY;
	pthread_mutex_unlock(&q->mu);
	rc = chunk_work(q, wk, k);
	pthread_mutex_lock(&q->mu);
	if (rc)
		q_fail(q, rc);
	else {
		k->state = SLOT_DONE;
		pthread_cond_signal(&q->more);
	}
	return true;
}

static void *
store_thread(void *arg)
{
	struct putq *q = arg;

	pthread_mutex_lock(&q->mu);
	while (!q->abort && !q->rc) {
		struct qslot *k = &q->slot[q->head];
		int rc;

		if (!q->count) {
			if (q->done)
				break;
			pthread_cond_wait(&q->more, &q->mu);
			continue;
		}
		if (k->state != SLOT_DONE) {
			/* the head's turn is not yet: work on what waits
			 * (the head itself unless the caller has it) */
			if (!q_help(q, false, &q->sw))
				pthread_cond_wait(&q->more, &q->mu);
			continue;
		}
		pthread_mutex_unlock(&q->mu);
		/* DONE: the slot is this thread's until it is let go */
		rc = chunk_file(q, k);
		pthread_mutex_lock(&q->mu);
		if (rc) {
			q_fail(q, rc);
			break;
		}
		k->state = SLOT_FREE;
		q->head = (q->head + 1) % q->nslots;
		q->count--;
		pthread_cond_signal(&q->room);
	}
	/* nothing more is filed: a caller that waits for room is told */
	pthread_cond_broadcast(&q->room);
	pthread_mutex_unlock(&q->mu);
	nedb__flook_end(&q->sw.look);	/* this thread's snapshot */
	return NULL;
}

/* Copies a chunk into the free slot k. */
static void
slot_fill(struct qslot *k, const void *p, size_t n)
{
	if (k->cap < n) {
		free(k->p);
		k->cap = n > 4096 ? n : 4096;
		k->p = nedb__malloc(k->cap);
	}
	memcpy(k->p, p, n);
	k->n = n;
	k->have = false;
}

/* Queues the next chunk of the stream (the caller's thread). */
static int
q_put(struct putq *q, const void *p, size_t n)
{
	struct qslot *k;
	int rc;

	if (!q->started) {
		/* no store thread: all of it here, in order */
		k = &q->slot[0];
		slot_fill(k, p, n);
		if ((rc = chunk_work(q, &q->cw, k)))
			return rc;
		return chunk_file(q, k);
	}
	pthread_mutex_lock(&q->mu);
	while (q->count == q->nslots && !q->rc)
		if (!q_help(q, true, &q->cw))
			pthread_cond_wait(&q->room, &q->mu);
	if (q->rc) {
		pthread_mutex_unlock(&q->mu);
		return q_error(q);
	}
	k = &q->slot[(q->head + q->count) % q->nslots];
	pthread_mutex_unlock(&q->mu);
	/* the slot past the counted ones is the caller's to fill */
	slot_fill(k, p, n);
	pthread_mutex_lock(&q->mu);
	k->state = SLOT_FULL;
	q->count++;
	pthread_cond_signal(&q->more);
	pthread_mutex_unlock(&q->mu);
	return 0;
}

static int
q_start(struct putq *q, struct nedb_file_put *p, int tier, uint32_t max)
{
	size_t n = QBYTES / (max ? max : 1);
	int rc;

	memset(q, 0, sizeof *q);
	q->put = p;
	q->tier = tier;
	q->nslots = n < 2 ? 2 : n > QMAX ? QMAX : (unsigned)n;
	pthread_mutex_init(&q->mu, NULL);
	pthread_cond_init(&q->more, NULL);
	pthread_cond_init(&q->room, NULL);
	if (tier != FENC_RAW &&
	    ((rc = nedb__fcodec_new(tier, &q->sw.codec)) ||
	     (rc = nedb__fcodec_new(tier, &q->cw.codec))))
		return rc;
	/* no thread: the caller does it all (q_put) */
	q->started = !nedb__test_fail("file-thread") &&
		     !pthread_create(&q->th, NULL, store_thread, q);
	return 0;
}

/* Works on what is left with the store thread, waits for it to file
 * what is queued, and ends it: then the tree, the manifest and the
 * writer are the caller's again. */
static int
q_finish(struct putq *q)
{
	if (!q->started)
		return 0;
	pthread_mutex_lock(&q->mu);
	q->done = true;
	pthread_cond_signal(&q->more);
	while (!q->abort && !q->rc && q_help(q, true, &q->cw))
		;
	pthread_mutex_unlock(&q->mu);
	pthread_join(q->th, NULL);
	q->started = false;
	return q->rc ? q_error(q) : 0;
}

static void
q_free(struct putq *q)
{
	if (q->started) {
		pthread_mutex_lock(&q->mu);
		q->abort = true;
		pthread_mutex_unlock(&q->mu);
	}
	q_finish(q);
	for (int i = 0; i < QMAX; i++) {
		free(q->slot[i].p);
		nedb_buf_free(&q->slot[i].z);
	}
	nedb__fcodec_free(q->sw.codec);
	nedb__fcodec_free(q->cw.codec);
	nedb__flook_end(&q->sw.look);
	nedb__flook_end(&q->cw.look);
	pthread_mutex_destroy(&q->mu);
	pthread_cond_destroy(&q->more);
	pthread_cond_destroy(&q->room);
}

int
nedb_file_put_begin(nedb *db, const char *name, const nedb_file_put_opts *o,
		    nedb_file_put **out)
{
	struct nedb_file_put *p;
	uint32_t c[3];
	int tier, ftier, rc;

	*out = NULL;
	if ((rc = check_name(name)))
		return rc;
	if (!db->writable)
		return nedb__err(NEDB_EIO, "cannot write to database '%s': "
				 "permission denied", db->dir);
	chunk_config(db, c, &tier);
	if (o && o->tier)
		tier = o->tier;
	if (tier != NEDB_TIER_WARM && tier != NEDB_TIER_COLD &&
	    tier != NEDB_TIER_RAW)
		return nedb__err(NEDB_EUSAGE, "bad tier %d", tier);
	ftier = tier == NEDB_TIER_COLD ? FENC_COLD : tier == NEDB_TIER_RAW ?
		FENC_RAW : FENC_WARM;
	p = nedb__calloc(1, sizeof *p);
	p->db = db;
	p->name = nedb__strdup(name);
	if (o)
		p->w = o->w;
	if ((rc = nedb__cdc_init(&p->cdc, c[0], c[1], c[2])))
		goto fail;
	p->cap = 4 * (size_t)c[2] > ((size_t)1 << 20) ? 4 * (size_t)c[2] :
		 (size_t)1 << 20;
	p->buf = nedb__malloc(p->cap);
	if ((rc = nedb__fstore_open(db, true, &p->s)) ||
	    (rc = nedb__fwriter_new(p->s, ftier, &p->wr)))
		goto fail;
	/* the manifest's pages go straight to the writer: from the store
	 * thread while it runs, from the caller's after */
	nedb__man_build_init(&p->mb, p->s, nedb__fwriter_put_fn, p->wr);
	p->q_ready = true;
	if ((rc = q_start(&p->q, p, ftier, c[2])))
		goto fail;
	*out = p;
	return 0;
fail:
	nedb_file_put_abort(p);
	return rc;
}

void
nedb_file_put_abort(nedb_file_put *p)
{
	if (!p)
		return;
	if (p->q_ready)
		q_free(&p->q);	/* before the writer it uses goes */
	nedb__man_build_free(&p->mb);
	nedb__fwriter_free(p->wr);
	nedb__fstore_close(p->s);
	free(p->buf);
	free(p->name);
	free(p);
}

/* One chunk of the stream: queued (its work and filing in order on the
 * two threads). */
static int
put_chunk(nedb_file_put *p, const unsigned char *data, size_t n)
{
	int rc;

	if ((rc = q_put(&p->q, data, n)))
		return rc;
	p->size += n;
	p->chunks++;
	return 0;
}

int
nedb_file_put_write(nedb_file_put *p, const void *data, size_t n)
{
	const unsigned char *d = data;
	int rc;

	if (p->finished)
		return nedb__err(NEDB_EUSAGE, "the put is finished");
	while (n) {
		size_t take = p->cap - p->len;

		if (take > n)
			take = n;
		memcpy(p->buf + p->len, d, take);
		p->len += take;
		d += take;
		n -= take;
		/* a cut needs max bytes ahead (or the end of the stream) */
		while (p->len - p->start >= p->cdc.max) {
			size_t cut = nedb__cdc_cut(&p->cdc, p->buf + p->start,
						   p->len - p->start);

			if ((rc = put_chunk(p, p->buf + p->start, cut)))
				return rc;
			p->start += cut;
		}
		if (p->start && p->cap - p->len < p->cap / 4) {
			memmove(p->buf, p->buf + p->start, p->len - p->start);
			p->len -= p->start;
			p->start = 0;
		}
	}
	return 0;
}

/* Stores what is left (the last chunks, the manifest) and syncs it, once:
 * invariant 1 before any op names it.  p takes no more bytes after. */
static int
put_finish(nedb_file_put *p, unsigned char man[FADDR_LEN],
	   unsigned char root[32])
{
	int rc;

	if (p->finished) {
		memcpy(man, p->man, FADDR_LEN);
		memcpy(root, p->root, 32);
		return 0;
	}
	while (p->len > p->start) {
		size_t cut = nedb__cdc_cut(&p->cdc, p->buf + p->start,
					   p->len - p->start);

		if ((rc = put_chunk(p, p->buf + p->start, cut)))
			return rc;
		p->start += cut;
	}
	/* the store thread joined: the rest is this thread's */
	if ((rc = q_finish(&p->q)) ||
	    (rc = nedb__man_finish(&p->mb, p->man)) ||
	    (rc = nedb__fwriter_flush(p->wr)) ||
	    (rc = nedb__tree_range_root(&p->tr, p->root)))
		return rc;
	p->added += p->mb.added;
	p->finished = true;
	memcpy(man, p->man, FADDR_LEN);
	memcpy(root, p->root, 32);
	return 0;
}

/* Stages p's op in db's open write: 0, 1 for an idempotent retry (then
 * *out is the first put's version), or an error (the write is then the
 * caller's to abort). */
static int
put_stage(nedb_file_put *p, nedb_file_version *out, uint64_t *new_bytes)
{
	nedb *db = p->db;
	struct op o;
	nedb_receipt r;
	int rc;

	memset(&o, 0, sizeof o);
	if ((rc = put_finish(p, o.fman, o.froot)))
		return rc;
	nedb__test_pause("file-commit");
	o.name = p->name;
	o.fsize = p->size;
	o.fchunks = p->chunks;
	rc = nedb__stage_file(db, &o, &p->w, &r);
	if (rc == 1) {
		/* an idempotent retry: the first put's version */
		if ((rc = nedb_file_stat(db, r.name, (uint64_t)r.version,
					 NEDB_HEAD, out)))
			return rc;
		return 1;
	}
	if (rc)
		return rc;
	snprintf(out->name, sizeof out->name, "%s", p->name);
	out->version = (uint64_t)o.fversion;
	out->seq = r.seq;
	out->ts = o.ts;
	out->size = p->size;
	out->chunks = p->chunks;
	memcpy(out->root, o.froot, sizeof out->root);
	memcpy(out->manifest, o.fman, sizeof out->manifest);
	memcpy(out->hash, r.hash, sizeof out->hash);
	*new_bytes = p->added;
	return 0;
}

int
nedb_file_put_commit(nedb_file_put *p, nedb_file_version *out,
		     uint64_t *new_bytes)
{
	nedb *db = p->db;
	unsigned char man[FADDR_LEN], root[32];
	int rc;

	memset(out, 0, sizeof *out);
	*new_bytes = 0;
	/* stored and synced before the writer lock is taken */
	if ((rc = put_finish(p, man, root)) ||
	    (rc = nedb_write_begin(db)))
		goto done;
	if ((rc = put_stage(p, out, new_bytes))) {
		nedb_write_abort(db);
		if (rc == 1)
			rc = 0;
		else
			memset(out, 0, sizeof *out);
		goto done;
	}
	if ((rc = nedb_write_commit(db))) {
		memset(out, 0, sizeof *out);
		*new_bytes = 0;
	}
done:
	nedb_file_put_abort(p);
	return rc;
}

int
nedb_file_put_stage(nedb_file_put *p, nedb_file_version *out,
		    uint64_t *new_bytes)
{
	int rc;

	memset(out, 0, sizeof *out);
	*new_bytes = 0;
	if (!p->db->wtxn)
		rc = nedb__err(NEDB_EUSAGE, "no write is open");
	else if ((rc = put_stage(p, out, new_bytes)) == 1)
		rc = 0;
	nedb_file_put_abort(p);
	return rc;
}

/* --- finding versions ---------------------------------------------- */

int
nedb__file_last(struct view *v, MDB_txn *txn, const char *name,
		uint64_t *out)
{
	unsigned char key[FILEKEY_MAX];
	size_t plen = nedb__fileprefix(key, name);
	const char *kn;
	size_t knlen;
	struct kvcur c;
	MDB_val k, d;
	int rc;

	*out = 0;
	if ((rc = nedb__kv_copen(&c, v, txn, DBI_FILES)))
		return nedb__mdb(rc, "cannot read view");
	nedb__key_past(key, plen, true);	/* name \1: past every version */
	k.mv_size = plen;
	k.mv_data = key;
	rc = nedb__kv_cget(&c, &k, &d, MDB_SET_RANGE);
	rc = nedb__kv_cget(&c, &k, &d, rc == MDB_NOTFOUND ? MDB_LAST :
			   MDB_PREV);
	nedb__key_past(key, plen, false);
	if (!rc && nedb__filekey_get(k.mv_data, k.mv_size, &kn, &knlen, out) &&
	    knlen + 1 == plen && !memcmp(kn, key, knlen))
		rc = 0;
	else if (!rc || rc == MDB_NOTFOUND) {
		*out = 0;
		rc = 0;
	}
	nedb__kv_cclose(&c);
	return rc ? nedb__mdb(rc, "cannot read view") : 0;
}

/* The view's record of name's version (0: the latest at or before
 * as_of): NEDB_ENOTFOUND (no message) when there is none. */
static int
find_version(nedb *db, MDB_txn *txn, const char *name, uint64_t version,
	     uint64_t as_of, uint64_t *vout, struct fver *f)
{
	unsigned char key[FILEKEY_MAX];
	size_t plen = nedb__fileprefix(key, name);
	const char *kn;
	size_t knlen;
	uint64_t kv;
	struct kvcur c;
	MDB_val k, d;
	int rc;

	if (version) {
		k.mv_size = nedb__filekey(key, name, version);
		k.mv_data = key;
		rc = nedb__kv_get(&db->view, txn, DBI_FILES, &k, &d);
		if (rc == MDB_NOTFOUND)
			return NEDB_ENOTFOUND;
		if (rc)
			return nedb__mdb(rc, "cannot read view");
		if ((rc = nedb__fver_get(d.mv_data, d.mv_size, f)))
			return rc;
		*vout = version;
		return as_of != NEDB_HEAD && f->seq > as_of ? NEDB_ENOTFOUND :
		       0;
	}
	if ((rc = nedb__kv_copen(&c, &db->view, txn, DBI_FILES)))
		return nedb__mdb(rc, "cannot read view");
	nedb__key_past(key, plen, true);
	k.mv_size = plen;
	k.mv_data = key;
	rc = nedb__kv_cget(&c, &k, &d, MDB_SET_RANGE);
	nedb__key_past(key, plen, false);
	for (rc = nedb__kv_cget(&c, &k, &d, rc == MDB_NOTFOUND ? MDB_LAST :
				MDB_PREV);
	     !rc; rc = nedb__kv_cget(&c, &k, &d, MDB_PREV)) {
		if (!nedb__filekey_get(k.mv_data, k.mv_size, &kn, &knlen, &kv) ||
		    knlen + 1 != plen || memcmp(kn, key, knlen)) {
			rc = MDB_NOTFOUND;
			break;
		}
		if ((rc = nedb__fver_get(d.mv_data, d.mv_size, f)))
			break;
		if (as_of == NEDB_HEAD || f->seq <= as_of) {
			*vout = kv;
			break;
		}
	}
	nedb__kv_cclose(&c);
	if (rc == MDB_NOTFOUND)
		return NEDB_ENOTFOUND;
	return rc ? nedb__mdb(rc, "cannot read view") : 0;
}

/* Fills out from op seq's line, which must be name's version with the
 * view's record f (invariant 3). */
static int
version_from_log(nedb *db, const char *name, uint64_t version,
		 const struct fver *f, nedb_file_version *out)
{
	nedb_buf line = {0};
	struct seqent se;
	struct op o;
	int rc;

	if ((rc = nedb__op_line(db, f->seq, &line, &se)))
		goto done;
	if ((rc = nedb__log_parse(line.p, line.len, &o)))
		goto done;
	if (o.kind != OP_FILE || !o.name || strcmp(o.name, name) ||
	    o.fversion != (int64_t)version || o.fsize != f->size ||
	    o.fchunks != f->chunks || memcmp(o.froot, f->root, 32) ||
	    memcmp(o.fman, f->man, 32))
		rc = nedb__err(NEDB_ECORRUPT, "corrupt view: version %llu of "
			       "file '%s' is not what op %llu says; run "
			       "nedb-checkpoint --rebuild",
			       (unsigned long long)version, name,
			       (unsigned long long)f->seq);
	else {
		memset(out, 0, sizeof *out);
		snprintf(out->name, sizeof out->name, "%s", name);
		out->version = version;
		out->seq = f->seq;
		out->ts = o.ts;
		out->size = o.fsize;
		out->chunks = o.fchunks;
		memcpy(out->root, o.froot, 32);
		memcpy(out->manifest, o.fman, 32);
		nedb__hex(out->hash, se.hash, HASH_LEN);
		out->hash[64] = 0;
	}
	nedb__op_free(&o);
done:
	nedb_buf_free(&line);
	return rc;
}

/* as_of must name an op the snapshot has. */
static int
check_as_of(nedb *db, MDB_txn *txn, uint64_t as_of)
{
	struct applied a;
	int rc;

	if (as_of == NEDB_HEAD)
		return 0;
	if (db->wtxn)
		a = db->wa;
	else if ((rc = nedb__view_applied(&db->view, txn, &a)))
		return nedb__err(NEDB_ECORRUPT, "view has no head");
	if (as_of > a.seq)
		return nedb__err(NEDB_EUSAGE, "no op %llu yet: the head is "
				 "seq %llu", (unsigned long long)as_of,
				 (unsigned long long)a.seq);
	return 0;
}

int
nedb_file_stat(nedb *db, const char *name, uint64_t version, uint64_t as_of,
	       nedb_file_version *out)
{
	struct fver f;
	uint64_t v = 0;
	MDB_txn *txn;
	int rc;

	if ((rc = check_name(name)))
		return rc;
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if (!(rc = check_as_of(db, txn, as_of)))
		rc = find_version(db, txn, name, version, as_of, &v, &f);
	nedb__txn_done(db, txn);
	if (rc == NEDB_ENOTFOUND) {
		if (version && as_of != NEDB_HEAD)
			return nedb__err(NEDB_ENOTFOUND, "no version %llu of "
					 "file '%s' at seq %llu",
					 (unsigned long long)version, name,
					 (unsigned long long)as_of);
		if (version)
			return nedb__err(NEDB_ENOTFOUND, "no version %llu of "
					 "file '%s'",
					 (unsigned long long)version, name);
		if (as_of != NEDB_HEAD)
			return nedb__err(NEDB_ENOTFOUND, "no file '%s' at seq "
					 "%llu", name,
					 (unsigned long long)as_of);
		return nedb__err(NEDB_ENOTFOUND, "no file '%s'", name);
	}
	if (rc)
		return rc;
	return version_from_log(db, name, v, &f, out);
}

int
nedb_file_list(nedb *db, const char *name, uint64_t as_of, nedb_file_fn fn,
	       void *payload)
{
	unsigned char key[FILEKEY_MAX];
	nedb_file_version cur, have;
	bool pending = false, any = false;
	size_t plen = 0;
	int frc = 0;
	struct kvcur c;
	MDB_txn *txn;
	MDB_val k, d;
	int rc;

	if (name && (rc = check_name(name)))
		return rc;
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if ((rc = check_as_of(db, txn, as_of))) {
		nedb__txn_done(db, txn);
		return rc;
	}
	if ((rc = nedb__kv_copen(&c, &db->view, txn, DBI_FILES))) {
		nedb__txn_done(db, txn);
		return nedb__mdb(rc, "cannot read view");
	}
	if (name) {
		plen = nedb__fileprefix(key, name);
		k.mv_size = plen;
		k.mv_data = key;
		rc = nedb__kv_cget(&c, &k, &d, MDB_SET_RANGE);
	} else
		rc = nedb__kv_cget(&c, &k, &d, MDB_FIRST);
	for (; !rc; rc = nedb__kv_cget(&c, &k, &d, MDB_NEXT)) {
		const char *kn;
		size_t knlen;
		uint64_t ver;
		struct fver f;

		if (!nedb__filekey_get(k.mv_data, k.mv_size, &kn, &knlen,
				       &ver)) {
			rc = nedb__err(NEDB_ECORRUPT, "corrupt view: a "
				       "malformed file key; run "
				       "nedb-checkpoint --rebuild");
			break;
		}
		if (name && (knlen + 1 != plen || memcmp(kn, key, knlen)))
			break;
		if ((rc = nedb__fver_get(d.mv_data, d.mv_size, &f)))
			break;
		if (as_of != NEDB_HEAD && f.seq > as_of)
			continue;
		memset(&cur, 0, sizeof cur);
		memcpy(cur.name, kn, knlen);
		cur.version = ver;
		cur.seq = f.seq;
		cur.ts = f.ts;
		cur.size = f.size;
		cur.chunks = f.chunks;
		memcpy(cur.root, f.root, 32);
		memcpy(cur.manifest, f.man, 32);
		any = true;
		if (name) {
			if ((frc = fn(&cur, payload)))
				break;
			continue;
		}
		/* every file's latest: hand on a name's last when the next
		 * name starts */
		if (pending && strcmp(have.name, cur.name) &&
		    (frc = fn(&have, payload)))
			break;
		have = cur;
		pending = true;
	}
	nedb__kv_cclose(&c);
	nedb__txn_done(db, txn);
	if (frc)
		return frc;
	if (rc && rc != MDB_NOTFOUND)
		return nedb__mdb(rc, "cannot read view");
	if (pending && (rc = fn(&have, payload)))
		return rc;
	if (name && !any)
		return as_of != NEDB_HEAD ?
		       nedb__err(NEDB_ENOTFOUND, "no file '%s' at seq %llu",
				 name, (unsigned long long)as_of) :
		       nedb__err(NEDB_ENOTFOUND, "no file '%s'", name);
	return 0;
}

/* --- reading ------------------------------------------------------- */

/* Puts "file 'x' version V: " before the last error's message. */
static int
about(int rc, const nedb_file_version *v, const char *what, uint64_t k)
{
	char msg[512];

	snprintf(msg, sizeof msg, "%s", nedb_errmsg());
	if (what)
		return nedb__err(rc, "file '%s' version %llu %s %llu: %s",
				 v->name, (unsigned long long)v->version, what,
				 (unsigned long long)k, msg);
	return nedb__err(rc, "file '%s' version %llu: %s", v->name,
			 (unsigned long long)v->version, msg);
}

static int
open_store(nedb *db, const nedb_file_version *v, struct fstore **s)
{
	int rc = nedb__fstore_open(db, false, s);

	if (rc == NEDB_ENOTFOUND)
		return nedb__err(NEDB_ECORRUPT, "file '%s' version %llu: the "
				 "database has no file store (%s/files)",
				 v->name, (unsigned long long)v->version,
				 db->dir);
	return rc;
}

struct nedb_file_reader {
	nedb_file_version v;
	struct fstore *s;
	struct mread r;
	struct nedb_tree_range tr;
	nedb_buf b;			/* the chunk handed out last */
	uint64_t k;			/* chunks handed out */
	bool end;			/* all of them, and the whole checked */
};

int
nedb_file_reader_open(nedb *db, const nedb_file_version *v,
		      nedb_file_reader **out)
{
	nedb_file_reader *rd;
	int rc;

	*out = NULL;
	rd = nedb__calloc(1, sizeof *rd);
	rd->v = *v;
	if ((rc = open_store(db, v, &rd->s)))
		goto fail;
	if ((rc = nedb__man_open(&rd->r, rd->s, v->manifest, v->chunks,
				 v->size))) {
		rc = about(rc == NEDB_ENOTFOUND ? NEDB_ECORRUPT : rc, v,
			   "manifest of chunk", 0);
		goto fail;
	}
	*out = rd;
	return 0;
fail:
	nedb_file_reader_close(rd);
	return rc;
}

int
nedb_file_reader_next(nedb_file_reader *rd, const void **p, size_t *n)
{
	const nedb_file_version *v = &rd->v;
	unsigned char addr[FADDR_LEN], root[32];
	uint32_t len;
	int rc, more;

	*p = NULL;
	*n = 0;
	if (rd->end)
		return 0;
	if ((more = nedb__man_next(&rd->r, addr, &len)) == 1) {
		if ((rc = nedb__fstore_get(rd->s, FREC_CHUNK, addr, &rd->b,
					   NULL)))
			return about(rc == NEDB_ENOTFOUND ? NEDB_ECORRUPT : rc,
				     v, "chunk", rd->k);
		if (rd->b.len != len)
			return nedb__err(NEDB_ECORRUPT, "file '%s' version %llu "
					 "chunk %llu: %zu bytes where the "
					 "manifest says %u", v->name,
					 (unsigned long long)v->version,
					 (unsigned long long)rd->k, rd->b.len,
					 len);
		if ((rc = nedb__tree_range_add(&rd->tr, addr, sizeof addr)))
			return rc;
		rd->k++;
		*p = rd->b.p;
		*n = rd->b.len;
		return 0;
	}
	if (more < 0)
		return about(more, v, "manifest after chunk", rd->k);
	if ((rc = nedb__tree_range_root(&rd->tr, root)))
		return rc;
	if (rd->k != v->chunks || rd->r.off != v->size ||
	    memcmp(root, v->root, 32))
		return nedb__err(NEDB_ECORRUPT, "file '%s' version %llu: its "
				 "chunks do not make the root, size and count "
				 "its op says", v->name,
				 (unsigned long long)v->version);
	rd->end = true;
	return 0;
}

void
nedb_file_reader_close(nedb_file_reader *rd)
{
	if (!rd)
		return;
	nedb__man_close(&rd->r);
	nedb__fstore_close(rd->s);
	nedb_buf_free(&rd->b);
	free(rd);
}

int
nedb_file_read(nedb *db, const nedb_file_version *v, nedb_data_fn fn,
	       void *payload)
{
	nedb_file_reader *rd;
	const void *p;
	size_t n;
	int rc;

	if ((rc = nedb_file_reader_open(db, v, &rd)))
		return rc;
	while (!(rc = nedb_file_reader_next(rd, &p, &n)) && n)
		if ((rc = fn(p, n, payload)))
			break;
	nedb_file_reader_close(rd);
	return rc;
}

/* --- proofs -------------------------------------------------------- */

/* The hash of the complete subtree of 2^level chunks from n * 2^level,
 * read from the manifest (tree.h's nedb__tree_hash_fn). */
static int
man_hash(void *payload, unsigned level, uint64_t n, unsigned char out[32])
{
	struct mread *r = payload;
	unsigned char addr[FADDR_LEN];
	struct nedb_tree_range tr;
	uint64_t w = (uint64_t)1 << level;
	uint32_t len;
	int rc;

	if ((rc = nedb__man_seek(r, n << level)))
		return rc;
	memset(&tr, 0, sizeof tr);
	for (uint64_t i = 0; i < w; i++) {
		if ((rc = nedb__man_next(r, addr, &len)) != 1)
			return rc < 0 ? rc : nedb__err(NEDB_ECORRUPT, "corrupt "
						       "file store: the "
						       "manifest ends early");
		if ((rc = nedb__tree_range_add(&tr, addr, sizeof addr)))
			return rc;
	}
	return nedb__tree_range_root(&tr, out);
}

static void
add_hex(nedb_buf *out, const char *key, const unsigned char *h)
{
	char hex[65];

	nedb__hex(hex, h, 32);
	hex[64] = 0;
	nedb_buf_printf(out, ",\"%s\":\"%s\"", key, hex);
}

int
nedb_file_prove(nedb *db, const nedb_file_version *v, uint64_t k,
		nedb_buf *out)
{
	unsigned char addr[FADDR_LEN], root[32], (*path)[32] = NULL;
	struct fstore *s = NULL;
	struct mread r;
	uint64_t off;
	uint32_t len;
	size_t n = 0;
	int rc;

	if (k >= v->chunks)
		return nedb__err(NEDB_EUSAGE, "no chunk %llu in version %llu "
				 "of file '%s': it has %llu chunks%s",
				 (unsigned long long)k,
				 (unsigned long long)v->version, v->name,
				 (unsigned long long)v->chunks,
				 v->chunks ? " (numbered from 0)" : "");
	memset(&r, 0, sizeof r);
	if ((rc = open_store(db, v, &s)))
		return rc;
	if ((rc = nedb__man_open(&r, s, v->manifest, v->chunks, v->size)) ||
	    (rc = nedb__man_seek(&r, k))) {
		rc = about(rc == NEDB_ENOTFOUND ? NEDB_ECORRUPT : rc, v,
			   "manifest of chunk", k);
		goto done;
	}
	off = r.off;
	if ((rc = nedb__man_next(&r, addr, &len)) != 1) {
		rc = rc < 0 ? rc : nedb__err(NEDB_ECORRUPT, "corrupt file "
					     "store: the manifest ends early");
		goto done;
	}
	if ((rc = nedb__tree_prove_fn(man_hash, &r, v->chunks, k, root, &path,
				      &n)))
		goto done;
	if (memcmp(root, v->root, 32)) {
		rc = nedb__err(NEDB_ECORRUPT, "file '%s' version %llu: its "
			       "manifest does not make the root its op says",
			       v->name, (unsigned long long)v->version);
		goto done;
	}
	nedb_buf_puts(out, "{\"name\":");
	nedb_buf_json_str(out, v->name, strlen(v->name));
	nedb_buf_printf(out, ",\"version\":%llu,\"op_seq\":%llu,\"chunk\":%llu,"
			"\"chunks\":%llu,\"offset\":%llu,\"length\":%u",
			(unsigned long long)v->version,
			(unsigned long long)v->seq, (unsigned long long)k,
			(unsigned long long)v->chunks,
			(unsigned long long)off, len);
	add_hex(out, "leaf", addr);
	add_hex(out, "root", root);
	nedb_buf_puts(out, ",\"proof\":[");
	for (size_t i = 0; i < n; i++) {
		char hex[65];

		nedb__hex(hex, path[i], 32);
		hex[64] = 0;
		nedb_buf_printf(out, "%s\"%s\"", i ? "," : "", hex);
	}
	nedb_buf_puts(out, "]}");
done:
	free(path);
	nedb__man_close(&r);
	nedb__fstore_close(s);
	return rc;
}

/* --- statistics, configuration ------------------------------------- */

static int
count_version(const nedb_file_version *v, void *payload)
{
	nedb_file_stats *st = payload;

	st->versions++;
	st->logical += v->size;
	return 0;
}

int
nedb_file_stats_get(nedb *db, nedb_file_stats *out)
{
	struct fstore_stats fs;
	struct fstore *s = NULL;
	uint32_t c[3];
	MDB_txn *txn;
	struct kvcur cur;
	MDB_val k, d;
	char last[MAX_ID + 1] = "";
	int rc;

	memset(out, 0, sizeof *out);
	chunk_config(db, c, &out->default_tier);
	out->chunk_min = c[0];
	out->chunk_avg = c[1];
	out->chunk_max = c[2];
	/* versions and files: every record of the view's table */
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if ((rc = nedb__kv_copen(&cur, &db->view, txn, DBI_FILES))) {
		nedb__txn_done(db, txn);
		return nedb__mdb(rc, "cannot read view");
	}
	while (!(rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT))) {
		nedb_file_version v;
		const char *kn;
		size_t knlen;
		struct fver f;

		if (!nedb__filekey_get(k.mv_data, k.mv_size, &kn, &knlen,
				       &v.version) ||
		    (rc = nedb__fver_get(d.mv_data, d.mv_size, &f))) {
			rc = rc ? rc : nedb__err(NEDB_ECORRUPT, "corrupt view: "
						 "a malformed file key");
			break;
		}
		if (strlen(last) != knlen || memcmp(last, kn, knlen)) {
			out->files++;
			memcpy(last, kn, knlen);
			last[knlen] = 0;
		}
		v.size = f.size;
		count_version(&v, out);
	}
	nedb__kv_cclose(&cur);
	nedb__txn_done(db, txn);
	if (rc != MDB_NOTFOUND)
		return rc < 0 ? rc : nedb__mdb(rc, "cannot read view");
	rc = nedb__fstore_open(db, false, &s);
	if (rc == NEDB_ENOTFOUND)
		return 0;		/* no store yet */
	if (rc)
		return rc;
	rc = nedb__fstore_stats(s, &fs);
	nedb__fstore_close(s);
	if (rc)
		return rc;
	for (int t = 0; t < 3; t++) {
		out->tier[t].chunks = fs.chunks[t];
		out->tier[t].bytes = fs.raw[t];
		out->tier[t].stored = fs.stored[t];
		out->chunks += fs.chunks[t];
		out->chunk_bytes += fs.raw[t];
		out->stored += fs.stored[t];
	}
	out->pages = fs.pages;
	out->page_bytes = fs.page_bytes;
	out->packs = fs.packs;
	out->pack_bytes = fs.pack_bytes;
	return 0;
}

int
nedb_file_config_set(nedb *db, const uint32_t chunk[3], int tier)
{
	int rc;

	if (chunk && (rc = nedb__cdc_check(chunk[0], chunk[1], chunk[2])))
		return rc;
	if (tier > NEDB_TIER_RAW)
		return nedb__err(NEDB_EUSAGE, "bad tier %d", tier);
	return nedb__set_file_config(db, chunk, tier);
}

void
nedb_file_config_get(nedb *db, uint32_t chunk[3], int *tier)
{
	chunk_config(db, chunk, tier);
}

/* --- gc ------------------------------------------------------------ */

/* Marks page addr and, unless it was marked already (a page shared with
 * a version marked before), everything below it. */
static int
mark_tree(struct fstore *s, const unsigned char addr[FADDR_LEN],
	  nedb_buf *bufs, unsigned depth)
{
	struct mpage p;
	int rc;

	if (depth >= MAN_MAX_DEPTH)
		return nedb__err(NEDB_ECORRUPT, "corrupt file store: a "
				 "manifest deeper than any");
	if ((rc = nedb__fstore_mark(s, addr)))
		return rc < 0 ? rc : 0;
	if ((rc = nedb__fstore_get(s, FREC_PAGE, addr, &bufs[depth], NULL)) ||
	    (rc = nedb__man_parse(&p, bufs[depth].p, bufs[depth].len)))
		return rc;
	for (uint32_t i = 0; i < p.n; i++) {
		const unsigned char *a = nedb__man_addr(&p, i);

		if (!p.level)
			rc = nedb__fstore_mark(s, a);
		else
			rc = mark_tree(s, a, bufs, depth + 1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
nedb_file_gc_run(nedb *db, nedb_file_gc *out)
{
	nedb_buf bufs[MAN_MAX_DEPTH];
	struct fstore_gc g;
	struct fstore *s = NULL;
	struct kvcur c;
	MDB_txn *txn;
	MDB_val k, d;
	int rc;

	memset(out, 0, sizeof *out);
	memset(bufs, 0, sizeof bufs);
	rc = nedb__fstore_open_excl(db, &s);
	if (rc == NEDB_ENOTFOUND)
		return 0;		/* no store: nothing to collect */
	if (rc)
		return rc;
	/* the view must hold every version the log does: a put killed
	 * after its line was appended is caught up by a write's start */
	if (db->writable) {
		if ((rc = nedb_write_begin(db)))
			goto done;
		nedb_write_abort(db);
	}
	if ((rc = nedb__fstore_mark_begin(s)))
		goto done;
	if ((rc = nedb__txn(db, &txn)))
		goto done;
	if ((rc = nedb__kv_copen(&c, &db->view, txn, DBI_FILES))) {
		nedb__txn_done(db, txn);
		rc = nedb__mdb(rc, "cannot read view");
		goto done;
	}
	while (!(rc = nedb__kv_cget(&c, &k, &d, MDB_NEXT))) {
		struct fver f;

		if ((rc = nedb__fver_get(d.mv_data, d.mv_size, &f)))
			break;
		out->versions++;
		if ((rc = mark_tree(s, f.man, bufs, 0))) {
			const char *kn;
			size_t knlen;
			uint64_t ver;
			char msg[512];

			snprintf(msg, sizeof msg, "%s", nedb_errmsg());
			if (nedb__filekey_get(k.mv_data, k.mv_size, &kn, &knlen,
					      &ver))
				rc = nedb__err(rc, "nothing collected: version "
					       "%llu of file '%.*s' cannot be "
					       "read: %s",
					       (unsigned long long)ver,
					       (int)knlen, kn, msg);
			break;
		}
	}
	nedb__kv_cclose(&c);
	nedb__txn_done(db, txn);
	if (rc != MDB_NOTFOUND) {
		rc = rc < 0 ? rc : nedb__mdb(rc, "cannot read view");
		goto done;
	}
	if ((rc = nedb__fstore_sweep(s, &g)))
		goto done;
	out->chunks = g.chunks;
	out->bytes = g.bytes;
	out->packs_rewritten = g.packs_rewritten;
	out->packs_removed = g.packs_removed;
	out->freed = g.freed;
done:
	for (int i = 0; i < MAN_MAX_DEPTH; i++)
		nedb_buf_free(&bufs[i]);
	nedb__fstore_close(s);
	return rc;
}

/* --- checking every version ---------------------------------------- */

static int
sink(const void *p, size_t n, void *payload)
{
	return 0;
}

struct check {
	nedb *db;
	nedb_file_check_fn fn;
	void *payload;
	uint64_t bad;
	char first[512];
};

static int
check_one(const nedb_file_version *lv, void *payload)
{
	struct check *ck = payload;
	nedb_file_version v;
	int rc;

	rc = nedb_file_stat(ck->db, lv->name, lv->version, NEDB_HEAD, &v);
	if (!rc)
		rc = nedb_file_read(ck->db, &v, sink, NULL);
	if (rc == NEDB_EIO)
		return rc;
	if (rc && !ck->bad++)
		snprintf(ck->first, sizeof ck->first, "%s", nedb_errmsg());
	if (ck->fn)
		return ck->fn(rc ? lv : &v, rc, ck->payload);
	return 0;
}

struct names {
	nedb_file_version *v;
	size_t n, cap;
};

static int
gather(const nedb_file_version *v, void *payload)
{
	struct names *ns = payload;

	if (ns->n == ns->cap)
		ns->v = nedb__realloc(ns->v, (ns->cap = ns->cap ? 2 * ns->cap :
					      16) * sizeof *ns->v);
	ns->v[ns->n++] = *v;
	return 0;
}

int
nedb_file_check(nedb *db, nedb_file_check_fn fn, void *payload,
		uint64_t *bad)
{
	struct check ck = {db, fn, payload, 0, ""};
	struct names files = {0};
	int rc;

	*bad = 0;
	/* each file's latest, then each file's every version: a version
	 * list is read under no snapshot held across the reads */
	if ((rc = nedb_file_list(db, NULL, NEDB_HEAD, gather, &files)))
		goto done;
	for (size_t i = 0; i < files.n && !rc; i++) {
		struct names vs = {0};

		rc = nedb_file_list(db, files.v[i].name, NEDB_HEAD, gather,
				    &vs);
		for (size_t j = 0; j < vs.n && !rc; j++)
			rc = check_one(&vs.v[j], &ck);
		free(vs.v);
	}
done:
	free(files.v);
	*bad = ck.bad;
	if (!rc && ck.bad)
		nedb__err(NEDB_ECORRUPT, "%s", ck.first);
	return rc;
}

/* --- JSON ---------------------------------------------------------- */

int
nedb_file_version_json(nedb_buf *b, const nedb_file_version *v, int full)
{
	char root[65];

	nedb__hex(root, v->root, 32);
	root[64] = 0;
	nedb_buf_puts(b, "{\"name\":");
	nedb_buf_json_str(b, v->name, strlen(v->name));
	nedb_buf_printf(b, ",\"version\":%llu,\"seq\":%llu,\"ts\":%lld,"
			"\"size\":%llu,\"chunks\":%llu,\"root\":\"%s\"",
			(unsigned long long)v->version,
			(unsigned long long)v->seq, (long long)v->ts,
			(unsigned long long)v->size,
			(unsigned long long)v->chunks, root);
	if (full) {
		char man[65];

		nedb__hex(man, v->manifest, 32);
		man[64] = 0;
		nedb_buf_printf(b, ",\"manifest\":\"%s\",\"hash\":\"%s\"",
				man, v->hash);
	}
	return nedb_buf_puts(b, "}");
}

int
nedb_file_put_json(nedb_buf *b, const nedb_file_version *v,
		   uint64_t new_bytes)
{
	char root[65];

	nedb__hex(root, v->root, 32);
	root[64] = 0;
	nedb_buf_printf(b, "{\"seq\":%llu,\"name\":", (unsigned long long)v->seq);
	nedb_buf_json_str(b, v->name, strlen(v->name));
	return nedb_buf_printf(b, ",\"version\":%llu,\"size\":%llu,"
			       "\"chunks\":%llu,\"new_bytes\":%llu,"
			       "\"root\":\"%s\"}",
			       (unsigned long long)v->version,
			       (unsigned long long)v->size,
			       (unsigned long long)v->chunks,
			       (unsigned long long)new_bytes, root);
}
