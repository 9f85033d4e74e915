/*
 * db.c - opening a database, the write protocol and the read paths.
 *
 * The log is reached only through its interface (lib/log/logstore.h):
 * "position" below is the log's opaque position after an op, which the
 * view records as applied.
 *
 * Write protocol (one writer at a time, across processes):
 *  1. Take the writer lock: flock(2) on the file "lock" (wlock), then
 *     LMDB's write transaction.  The flock is held until the commit or
 *     abort and every undo after it are done.
 *  2. Follow a prune's rotation of log.aof; check the view against the
 *     log: the log must reach the view's applied position and its line
 *     there must carry the applied head.  Apply complete lines a crashed
 *     writer left behind; cut off a torn tail (warning).  Commit that
 *     catch-up on its own (view.sync marked dirty first).
 *  3. Stage ops: validate, format the line onto the head, apply it to the
 *     open transaction (later ops of the batch see earlier ones).
 *  4. Commit: append the staged lines, fdatasync (durable), record the
 *     applied seq/position/head, mark view.sync dirty unless the commit is
 *     covered (see "The view's sync record"), commit the LMDB
 *     transaction, sync the view when due.
 *  5. Release the writer lock.  Only then may the caller acknowledge.
 *
 * Invariants:
 *  1. Only the holder of the writer lock appends to, truncates or
 *     replaces log.aof, writes view.sync or commits the view.
 *  2. Any failure in step 4 truncates the log back to where the batch
 *     began, still under the writer lock: a failed mdb_txn_commit
 *     releases LMDB's mutex, but not the flock, so no other writer can
 *     have applied, extended and acknowledged the lines being cut.  If
 *     the truncate itself fails the handle turns broken (sticky) and
 *     writes nothing more; the next writer applies what stayed.
 *  3. An op is acknowledged only after its line is in the log (fsynced
 *     when durable) and the view's commit that applied it returned; so
 *     every acknowledged op lies below the view's applied position, which
 *     only a rebuild can lower.
 *  4. A reader sees the view's last committed transaction: a consistent
 *     prefix of the log.  Lines past the applied position are invisible
 *     until a writer applies them.  After taking its snapshot a reader
 *     follows a rotation of log.aof, so the file it reads holds every
 *     line its snapshot applied.
 *  5. The view never covers more than the log; if it does, the log was
 *     damaged and every command refuses (NEDB_ECORRUPT) until a rebuild.
 *  6. The view is trusted for where things are, never for what they
 *     are when the log can say: AS OF reads take a version's text from
 *     its line after checking the line's op, collection and id; verified
 *     reads check HEAD rows the same way; an idempotent retry's receipt
 *     is made from the log; a checkpoint's digest must equal a replay's.
 *
 * Lock order: the directory's flock (nedb_open, nedb_compact,
 * nedb_destroy), then the writer lock, then LMDB's mutex.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include "codec.h"
#include "filestore.h"
#include "kv.h"

static void (*warn_fn)(const char *msg);
static bool line_num(const char *line, size_t len, const char *key,
		     int64_t *out);
static int engine_sync(nedb *db, bool wait);

void
nedb_set_warn(void (*fn)(const char *msg))
{
	warn_fn = fn;
}

/* The progress reports of long work (nedb_set_progress). */
nedb_progress_fn nedb__progress_fn;

void
nedb_set_progress(nedb_progress_fn fn)
{
	nedb__progress_fn = fn;
}

void
nedb__warn(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!warn_fn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	warn_fn(msg);
}

/* Writes meta.json atomically: temp file, fsync, rename, fsync dir. */
static int
write_meta_json(nedb *db, int64_t created, uint64_t auto_index)
{
	char *tmp = nedb__path_in(db->dir, "meta.json.tmp");
	char *dst = nedb__path_in(db->dir, "meta.json");
	char text[320], opts[192] = "";
	size_t o = 0;
	int fd, rc = 0, n;

	if (auto_index)
		o += (size_t)snprintf(opts, sizeof opts, "\"auto_index\":%llu",
				      (unsigned long long)auto_index);
	/* the file store's settings (nedb-file config), when set */
	if (db->fchunk[1])
		o += (size_t)snprintf(opts + o, sizeof opts - o, "%s"
				      "\"file_chunk\":[%u,%u,%u]",
				      o ? "," : "", db->fchunk[0],
				      db->fchunk[1], db->fchunk[2]);
	if (db->ftier)
		snprintf(opts + o, sizeof opts - o, "%s\"file_tier\":\"%s\"",
			 o ? "," : "", db->ftier == NEDB_TIER_COLD ? "cold" :
			 db->ftier == NEDB_TIER_RAW ? "raw" : "warm");
	n = snprintf(text, sizeof text, "{\"format\":%d,\"created\":%lld,"
		     "\"options\":{%s}}\n",
		     db->log_format ? db->log_format : LOG_FORMAT_OLD,
		     (long long)created, opts);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, (size_t)n) != n || fsync(fd) ||
	    rename(tmp, dst))
		rc = nedb__errno(NEDB_EIO, "cannot write meta.json");
	if (fd >= 0)
		close(fd);
	if (rc)
		unlink(tmp);
	else if (!(rc = nedb__fsync_dir(db->dir))) {
		db->created = created;
		db->auto_index = auto_index;
	}
	free(tmp);
	free(dst);
	return rc;
}

/* Whether the file system of the database is nearly full (to tell a
 * full disk from other I/O errors LMDB reports as EIO). */
static bool
disk_nearly_full(nedb *db)
{
	struct statvfs s;

	return statvfs(db->dir, &s) == 0 &&
	       (uint64_t)s.f_bavail * s.f_frsize < (1u << 20);
}

/*
 * Cuts the log back to position end after a failed append, under the
 * writer lock.  If that fails too, the lines may stay and the next
 * writer will apply them: the handle turns broken (sticky) so that this
 * process acknowledges nothing more.
 */
static void
undo_append(nedb *db, uint64_t end)
{
	int e = errno;

	if (nedb__log_truncate(db, end))
		db->broken = true;
	errno = e;
}

/* The log may have been rotated by a prune: follow it.  Readers call it
 * after taking their snapshot (nedb__txn), writers under the lock. */
int
nedb__follow_rotation(nedb *db)
{
	bool rotated;
	int rc = nedb__log_follow(db, &rotated);

	if (rotated)
		db->size_checked = false;
	return rc;
}

/* The view's record of op seq: 0, an LMDB code (MDB_NOTFOUND) or ours. */
static int
seq_entry(nedb *db, uint64_t seq, struct seqent *se)
{
	unsigned char sk[8];
	MDB_val k = {8, sk}, d;
	MDB_txn *txn;
	int rc;

	if ((rc = nedb__txn(db, &txn)))
		return rc;
	nedb__seqkey(sk, seq);
	rc = nedb__kv_get(&db->view, txn, DBI_SEQS, &k, &d);
	if (!rc)
		memcpy(se, d.mv_data, sizeof *se);
	nedb__txn_done(db, txn);
	return rc;
}

int
nedb__seq_hash(nedb *db, uint64_t seq, unsigned char hash[HASH_LEN])
{
	struct seqent se;
	int rc = seq_entry(db, seq, &se);

	if (!rc)
		memcpy(hash, se.hash, HASH_LEN);
	return rc == MDB_NOTFOUND ? NEDB_ENOTFOUND :
	       rc ? nedb__mdb(rc, "cannot find op") : 0;
}

/* Reads one op line by seq and checks it against the view. */
int
nedb__op_line(nedb *db, uint64_t seq, nedb_buf *out, struct seqent *se)
{
	int rc;

	if ((rc = seq_entry(db, seq, se)))
		return nedb__mdb(rc, "cannot find op");
	if (db->wtxn && db->wcount && seq >= db->wbase_seq &&
	    seq - db->wbase_seq < db->wcount) {
		/* staged in the open write, not yet appended */
		unsigned char prev[HASH_LEN], hash[HASH_LEN];
		size_t i = (size_t)(seq - db->wbase_seq), at = db->wat[i];
		size_t end = i + 1 < db->wcount ? db->wat[i + 1] :
			     db->wlog.len;
		uint64_t s = seq;

		if (end <= at || db->wlog.p[end - 1] != '\n')
			return nedb__err(NEDB_ECORRUPT, "corrupt view: op %llu "
					 "is not where the open write staged "
					 "it", (unsigned long long)seq);
		out->len = 0;
		if (nedb_buf_add(out, db->wlog.p + at, end - at - 1))
			return NEDB_EIO;
		if ((rc = nedb__log_check(out->p, out->len, &s, prev, hash)))
			return rc;
		if (memcmp(hash, se->hash, HASH_LEN))
			return nedb__err(NEDB_ECORRUPT, "corrupt log at seq "
					 "%llu: hash differs from the one the "
					 "view recorded",
					 (unsigned long long)seq);
		return 0;
	}
	return nedb__log_read(db, seq, &se->loc, se->hash, out);
}

/* Cuts off a torn final line (from position torn of the log's end), with
 * a warning: the one repair made without asking.  Under the writer lock. */
static int
repair_tail(nedb *db, uint64_t torn, uint64_t end, uint64_t seq)
{
	if (torn >= end)
		return 0;
	nedb__warn("repaired a torn log tail: removed %llu bytes after seq "
		   "%llu", (unsigned long long)(end - torn),
		   (unsigned long long)seq);
	if (nedb__log_truncate(db, torn))
		return nedb__errno(NEDB_EIO, "cannot repair log");
	return 0;
}

/*
 * Empties the view and replays the whole log into it, inside db->wtxn;
 * cuts a torn tail; records what it applied.
 */
static int
replay_all(nedb *db, int check_ckpt, uint64_t was_applied)
{
	struct applied a = {.format = VIEW_FORMAT};
	uint64_t torn, size = nedb__log_end(db);
	int rc;

	if ((rc = nedb__view_clear(&db->view, db->wtxn)) ||
	    (rc = nedb__replay(db, &db->view, db->wtxn, size, &a, &torn,
			       check_ckpt)))
		return rc;
	if (torn < size && was_applied > size &&
	    nedb__log_restore_end(db, was_applied) == 0) {
		/*
		 * The view had applied the last line, which has lost only
		 * its newline: an op that may have been acknowledged.  With
		 * the newline back, it is applied if it is whole and
		 * chained; otherwise it is a torn tail like any other.
		 */
		struct applied b = a;
		uint64_t t2;

		if (nedb__log_sync(db))
			return nedb__errno(NEDB_EIO, "cannot repair log");
		size = nedb__log_end(db);
		/* damage is found before anything is applied: ECORRUPT
		 * leaves the transaction as it was */
		rc = nedb__replay(db, &db->view, db->wtxn, size, &b, &t2,
				  check_ckpt);
		if (!rc && b.end == size) {
			nedb__warn("restored the newline at the end of the "
				   "log (after seq %llu)",
				   (unsigned long long)b.seq);
			return nedb__view_set_applied(&db->view, db->wtxn,
						      &b);
		}
		if (rc && rc != NEDB_ECORRUPT)
			return rc;
	}
	if (!a.end)
		return nedb__err(NEDB_ECORRUPT, "corrupt log: no complete "
				 "genesis op");
	if ((rc = repair_tail(db, torn, size, a.seq)))
		return rc;
	return nedb__view_set_applied(&db->view, db->wtxn, &a);
}

/*
 * Checks that the log still holds what the view has applied, applies
 * complete lines past it and cuts off a torn tail.  Inside db->wtxn.
 * *changed is set when anything was applied or cut.
 */
static int
catch_up(nedb *db, struct applied *a, bool *changed)
{
	uint64_t size = nedb__log_end(db), torn;
	int rc;

	*changed = false;
	if (size < a->end)
		return nedb__err(NEDB_ECORRUPT, "corrupt log: it ends before "
				 "seq %llu, which the view has applied",
				 (unsigned long long)a->seq);
	if (a->end) {
		struct seqent se;

		if ((rc = nedb__op_line(db, a->seq, &db->scratch, &se)))
			return rc;
		if (memcmp(se.hash, a->head, HASH_LEN) ||
		    nedb__log_after(db, &se.loc) != a->end)
			return nedb__err(NEDB_ECORRUPT, "corrupt log at seq "
					 "%llu: it is not the op the view "
					 "applied", (unsigned long long)a->seq);
	}
	if (size == a->end)
		return 0;
	if ((rc = nedb__replay(db, &db->view, db->wtxn, size, a, &torn,
			       false)))
		return rc;
	*changed = true;
	if ((rc = repair_tail(db, torn, size, a->seq)))
		return rc;
	return nedb__view_set_applied(&db->view, db->wtxn, a);
}

static int64_t
next_ts(nedb *db)
{
	int64_t now = nedb__op_clock();

	if (now <= (int64_t)db->last_ts)
		now = (int64_t)db->last_ts;
	db->last_ts = (uint64_t)now;
	return now;
}

/*
 * A format-2 document's salt (doc/redaction.md): 16 random bytes that
 * hide it behind its "dh".  An encrypted database has libcrypto loaded
 * and a pool of its bytes; a plaintext one must not load libcrypto for
 * this (SPEC §2), so it asks the kernel.
 */
static int
doc_salt(nedb *db, unsigned char salt[SALT_LEN])
{
	if (nedb__encrypted(db))
		return nedb__rand_small(salt, SALT_LEN);
	return nedb__rand_pool(salt, SALT_LEN);
}

/*
 * The log format of a database being created: LOG_FORMAT (2, which can
 * redact: doc/redaction.md), or 1 when NEDB_LOG_FORMAT=1 is set (puts
 * hold their document last and cannot be redacted).  Either hashes every
 * line whole, as SPEC §3 says.
 */
static int
creation_format(nedb *db)
{
	const char *e = getenv("NEDB_LOG_FORMAT");

	if (!e || !*e)
		db->log_format = LOG_FORMAT;
	else if (!strcmp(e, "1") || !strcmp(e, "2"))
		db->log_format = *e - '0';
	else
		return nedb__err(NEDB_EUSAGE, "cannot create database '%s': "
				 "NEDB_LOG_FORMAT is '%s', not 1 or 2",
				 db->dir, e);
	db->view.log_format = db->log_format;
	return 0;
}

/*
 * Puts formatted ahead (nedb.h: nedb_ahead_put)
 * ---------------------------------------------
 * The reader formats put n as the op after put n-1 of its own chain:
 * seq and prev, its clock (never behind the last op's), the client's
 * next nonce, a fresh salt, then the hash.  The writer stages the line
 * when ahead_fits: every member that state decides (seq, prev, ts,
 * nonce, expiry, format) is what the writer's own op says, and the
 * rest come from the same nedb_put (the same pointers).  Any other
 * line is formatted afresh, and then published (ahead_publish): the
 * writer's op becomes the chain the reader goes on from, once the
 * writer has staged the put just before the reader's next one (all
 * puts the reader formatted in between were on the old chain, so the
 * writer formats them afresh too, publishing each).
 */
struct nedb_ahead {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool usable;		/* the directory's own log */
	bool salted;		/* an encrypted database's: ops are salted */
	struct nedb_crypt seal;	/* and sealed: the log's key, a context
				 * of the reader's own (seal.log only) */
	nedb_buf stmp;
	bool valid;		/* seq...head: the writer's chain */
	bool closed;
	bool published;		/* pub is set */
	int format;
	uint64_t next;		/* the index of the next put */
	uint64_t pub;		/* the index the writer formatted last */
	uint64_t seq, nonce;	/* the last op of the chain */
	int64_t ts;
	unsigned char head[HASH_LEN];
};

int
nedb_ahead_new(nedb *db, nedb_ahead **out)
{
	nedb_ahead *a = nedb__calloc(1, sizeof *a);

	*out = NULL;
	if (!a)
		return nedb__err(NEDB_EIO, "out of memory");
	pthread_mutex_init(&a->mu, NULL);
	pthread_cond_init(&a->cv, NULL);
	a->usable = !db->eng;
	a->salted = nedb__encrypted(db);
	a->format = db->log_format;
	if (a->salted && a->usable) {
		int rc = nedb__aead_new(&a->seal.log, db->crypt.log_key);

		if (rc) {
			nedb_ahead_free(a);
			return rc;
		}
	}
	*out = a;
	return 0;
}

void
nedb_ahead_close(nedb_ahead *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->closed = true;
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

void
nedb_ahead_free(nedb_ahead *a)
{
	if (!a)
		return;
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	if (a->seal.log)
		nedb__aead_free(a->seal.log);
	nedb_buf_free(&a->stmp);
	free(a);
}

/* A put whose op depends on nothing but the chain, the clock and the
 * nonce: the ones formatted ahead. */
static bool
ahead_plain(const nedb_put *p)
{
	return p->prepared == NEDB_PREPARED_ID && p->id && p->doc &&
	       !p->merge && !p->if_seq && !p->if_absent && !p->ntags &&
	       !p->ncaused_by && !p->evidence && !p->confidence &&
	       !p->valid_from && !p->valid_to && !p->keep_ttl &&
	       p->exp_at <= 0 && p->ttl_ms >= 0 && !p->w.nonce &&
	       !p->w.idem && !p->w.evidence && !p->w.repl_offset;
}

int
nedb_ahead_put(nedb_ahead *a, const nedb_put *p, nedb_preop *op)
{
	struct op o = {.kind = OP_PUT};
	int64_t now;
	int rc = 0;

	op->ok = 0;
	op->from = a;
	pthread_mutex_lock(&a->mu);
	op->index = a->next++;
	/* a stream that is not of plain puts is not formatted ahead at
	 * all: its reader must never wait for the writer */
	if (!ahead_plain(p))
		a->usable = false;
	if (!a->usable || a->closed)
		goto done;
	if (!a->valid) {
		if (op->index == 0)
			goto done;	/* the first: the writer's */
		while (!a->closed &&
		       !(a->published && a->pub == op->index - 1))
			pthread_cond_wait(&a->cv, &a->mu);
		if (a->closed)
			goto done;
		a->valid = true;
	}
	if (a->nonce == UINT64_MAX || a->seq == UINT64_MAX)
		goto done;
	now = nedb__op_clock();
	o.seq = a->seq + 1;
	memcpy(o.prev, a->head, HASH_LEN);
	o.ts = now > a->ts ? now : a->ts;
	o.client = p->w.client ? p->w.client : "local";
	o.nonce = a->nonce + 1;
	o.coll = p->coll;
	o.id = p->id;
	o.doc = p->doc;
	o.doclen = p->doclen;
	o.exp = p->ttl_ms > 0 ? o.ts + p->ttl_ms : 0;
	o.format = a->format;
	/* an encrypted database's random bytes come from libcrypto, which
	 * it has loaded (doc_salt) */
	if (a->salted) {
		o.salted = true;
		if ((rc = nedb__rand_small(o.salt, SALT_LEN)) ||
		    (o.format >= 2 &&
		     (rc = nedb__rand_small(o.dsalt, SALT_LEN))))
			goto done;
	} else if (o.format >= 2 &&
		   (rc = nedb__rand_pool(o.dsalt, SALT_LEN)))
		goto done;
	op->line.len = 0;
	op->sealed.len = 0;
	if ((rc = nedb__log_format(&op->line, &o)) ||
	    (a->seal.log &&
	     ((rc = nedb__line_seal(&a->seal, &op->sealed, &a->stmp,
				    op->line.p, o.len)) ||
	      (rc = nedb_buf_add(&op->sealed, "\n", 1))))) {
		a->valid = false;
		goto done;
	}
	op->seq = o.seq;
	op->nonce = o.nonce;
	op->ts = o.ts;
	op->exp = o.exp;
	memcpy(op->prev, o.prev, HASH_LEN);
	memcpy(op->hash, o.hash, HASH_LEN);
	op->doc = o.doc;
	op->doclen = o.doclen;
	op->coll = o.coll;
	op->id = o.id;
	op->client = o.client;
	op->len = o.len;
	op->format = o.format;
	op->ok = 1;
	a->seq = o.seq;
	a->nonce = o.nonce;
	a->ts = o.ts;
	memcpy(a->head, o.hash, HASH_LEN);
done:
	pthread_mutex_unlock(&a->mu);
	return rc;
}

/* The writer's clock for a put formatted ahead: the reader's, when it
 * is not behind the last op's. */
static int64_t
ahead_ts(nedb *db, const nedb_preop *ahead)
{
	if (!ahead || !ahead->ok || ahead->ts < (int64_t)db->last_ts)
		return next_ts(db);
	db->last_ts = (uint64_t)ahead->ts;
	return ahead->ts;
}

static bool
ahead_fits(const struct op *o, bool salted)
{
	const nedb_preop *a = o->ahead;

	return a && a->ok && a->from->salted == salted && !o->salted &&
	       o->kind == OP_PUT &&
	       a->seq == o->seq && !memcmp(a->prev, o->prev, HASH_LEN) &&
	       a->ts == o->ts && a->nonce == o->nonce && a->exp == o->exp &&
	       a->format == o->format && a->doc == o->doc &&
	       a->doclen == o->doclen && a->coll == o->coll &&
	       a->id == o->id && !strcmp(a->client, o->client) &&
	       !o->idem && !o->caused_by && !o->confidence &&
	       !o->evidence && !o->valid_from && !o->valid_to &&
	       !o->repl_offset;
}

static void
ahead_publish(const nedb_preop *op, const struct op *o)
{
	nedb_ahead *a = op->from;

	pthread_mutex_lock(&a->mu);
	a->valid = false;
	a->published = true;
	a->pub = op->index;
	a->seq = o->seq;
	a->nonce = o->nonce;
	a->ts = o->ts;
	memcpy(a->head, o->hash, HASH_LEN);
	pthread_cond_broadcast(&a->cv);
	pthread_mutex_unlock(&a->mu);
}

/*
 * Stages o (seq, prev, loc filled here), applies it and fills its
 * receipt (NULL: none wanted).  Every op a write stages comes through
 * here: the builders below validate their arguments and fill o, and
 * the op table (optab.c) does the rest.
 */
static int
stage(nedb *db, struct op *o, nedb_receipt *receipt)
{
	size_t mark = db->wlog.len;
	uint64_t end;
	bool fresh = false;
	int rc;

	o->seq = db->wa.end ? db->wa.seq + 1 : 0;
	memcpy(o->prev, db->wa.head, HASH_LEN);
	if (db->wcount == db->wcap) {
		size_t cap = db->wcap ? 2 * db->wcap : 64;
		size_t *x = nedb__realloc(db->wat, cap * sizeof *x);

		if (!x) {
			rc = nedb__err(NEDB_EIO, "out of memory");
			goto fail;
		}
		db->wat = x;
		db->wcap = cap;
	}
	if (!db->wcount)
		db->wbase_seq = o->seq;
	/* times never go back, whoever wrote last (SPEC §6: AS OF
	 * TIMESTAMP); a clock that did keeps the latest op's time.  The
	 * view's latest is read for a batch's first op: the later ones
	 * come from next_ts, at or after it (db->last_ts) */
	if (!db->wcount &&
	    (rc = nedb__time_floor(&db->view, db->wtxn, &o->ts)))
		goto fail;
	if (o->ts > (int64_t)db->last_ts)
		db->last_ts = (uint64_t)o->ts;
	o->format = db->log_format;
	if (ahead_fits(o, nedb__encrypted(db))) {
		/* salted by the reader, on an encrypted database */
		if (nedb_buf_add(&db->wlog, o->ahead->line.p,
				 o->ahead->line.len)) {
			rc = NEDB_EIO;
			goto fail;
		}
		memcpy(o->hash, o->ahead->hash, HASH_LEN);
		o->len = o->ahead->len;
		o->salted = o->ahead->from->salted;
	} else {
		fresh = true;
		if (nedb__encrypted(db)) {
			if ((rc = nedb__rand_small(o->salt, SALT_LEN)))
				goto fail;
			o->salted = true;
		}
		if (o->format >= 2 && o->doc && (rc = doc_salt(db, o->dsalt)))
			goto fail;
		if ((rc = nedb__log_format(&db->wlog, o)))
			goto fail;
	}
	/* an encrypted log's line sealed now, or by the reader */
	if ((rc = nedb__log_stage(db, db->wlog.p + mark, o->len,
				  fresh ? NULL : &o->ahead->sealed)))
		goto fail;
	end = nedb__log_place(db, db->wa.end, o->len, &o->loc);
	if ((rc = nedb__apply(&db->view, db->wtxn, o)))
		goto fail;
	db->wat[db->wcount] = mark;
	db->wa.seq = o->seq;
	db->wa.end = end;
	memcpy(db->wa.head, o->hash, HASH_LEN);
	if (o->kind == OP_CHECKPOINT)
		db->wa.ckpt = o->seq;
	db->wcount++;
	if (o->ahead && fresh)
		ahead_publish(o->ahead, o);
	return receipt ? nedb__receipt_of(receipt, o) : 0;
fail:
	/* The transaction may hold half of the op: it must not commit. */
	db->wlog.len = mark;
	db->wfailed = true;
	return rc;
}

/*
 * The view's sync record (view.sync)
 * ----------------------------------
 * Commits do not fsync the view (MDB_NOSYNC): the log, fsynced before
 * the view is touched, is what makes a write durable, and a view that
 * lost its last commits catches up from the log.  A crashed process
 * loses nothing of the view either (its pages are in the page cache).
 * What a crash of the OS can leave is a view whose unsynced pages
 * reached the disk in any order: torn, and LMDB would read page bytes
 * as rows.  view.sync says whether the view file on disk can be trusted
 * after such a crash; it holds one of
 *
 *     nedb view sync 1 boot B log X ms T	(clean)
 *     nedb view sync 1 boot B dirty ms T	(dirty)
 *
 * Invariants (all under the writer lock, so no other process commits
 * between the steps):
 *  V1. "clean at X" is written only after mdb_env_sync returned, with X
 *      the view's applied position read before that sync: every page of
 *      every commit up to X is on disk.
 *  V2. A commit that a log longer than X would not betray is preceded by
 *      a dirty record (vsync_dirty): a commit that appends nothing (a
 *      rebuild, a catch-up, statistics, the first build of a view), and
 *      any commit whose log lines are not fsynced first (durability safe
 *      or fast: an OS crash may take those lines away again).
 *  V3. A durable commit that appends needs no record: its lines are on
 *      disk before its pages are written, so after a crash the log is
 *      longer than X.
 * At open in another boot, a record that is dirty, torn, foreign, or
 * clean at X with the log longer than X means the view may be torn: it
 * is rebuilt from the log, never read.  In this boot the page cache
 * holds every commit, so the record does not matter.  The view is synced
 * at the first write of each boot and then at most once a second (in
 * fast mode only at the first); a commit that appended nothing is
 * synced at once.
 */
#define VSYNC_EVERY_MS 1000
#define VSYNC_LEN 128

struct vsync {
	char boot[40];
	bool dirty;
	uint64_t off;		/* clean: the applied position synced */
	int64_t ms;
};

/* This boot's id ("" when the system does not say: sync every time). */
static const char *
boot_id(void)
{
	static char id[40];
	static bool read_once;

	if (!read_once) {
		int fd = open("/proc/sys/kernel/random/boot_id",
			      O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, id, sizeof id - 1) : -1;

		if (fd >= 0)
			close(fd);
		id[n > 0 ? n : 0] = 0;
		id[strcspn(id, "\n")] = 0;
		read_once = true;
	}
	return id;
}

/* 1: read; 0: there is none; -1: unreadable (torn, foreign). */
static int
vsync_read(nedb *db, struct vsync *v)
{
	char *p = nedb__path_in(db->dir, "view.sync"), buf[VSYNC_LEN + 1];
	unsigned long long off;
	long long ms;
	int fd = p ? open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	ssize_t n;

	free(p);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, buf, VSYNC_LEN);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	memset(v, 0, sizeof *v);
	if (sscanf(buf, "nedb view sync 1 boot %39s log %llu ms %lld",
		   v->boot, &off, &ms) == 3)
		v->off = off;
	else if (sscanf(buf, "nedb view sync 1 boot %39s dirty ms %lld",
			v->boot, &ms) == 2)
		v->dirty = true;
	else
		return -1;
	v->ms = ms;
	return 1;
}

/* Replaces the record in place (one 128-byte block) and syncs it. */
static int
vsync_put(nedb *db, const char *text)
{
	char *p, buf[VSYNC_LEN];
	size_t n = strlen(text);
	int fd, rc = 0;

	memcpy(buf, text, n);
	memset(buf + n, ' ', sizeof buf - n - 1);
	buf[sizeof buf - 1] = '\n';
	if (!(p = nedb__path_in(db->dir, "view.sync")))
		return nedb__err(NEDB_EIO, "out of memory");
	fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	free(p);
	if (fd < 0 || pwrite(fd, buf, sizeof buf, 0) != (ssize_t)sizeof buf ||
	    fdatasync(fd))
		rc = nedb__errno(NEDB_EIO, "cannot write view.sync");
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Syncs the log and the view, then records it clean (V1). */
static int
vsync_write(nedb *db)
{
	char buf[VSYNC_LEN];
	int64_t now = nedb__now_ms();
	struct applied a;
	MDB_txn *txn;
	int rc;

	/* X before the sync: the applied position of the last commit */
	if ((rc = mdb_txn_begin(db->view.env, NULL, MDB_RDONLY, &txn)))
		return nedb__mdb(rc, "cannot read view");
	rc = nedb__view_applied(&db->view, txn, &a);
	mdb_txn_abort(txn);
	if (rc)
		return nedb__err(NEDB_ECORRUPT, "view has no head");
	nedb__test_pause("view-sync");
	if (nedb__log_sync(db))
		return nedb__errno(NEDB_EIO, "cannot sync log");
	if ((rc = mdb_env_sync(db->view.env, 1)))
		return nedb__mdb(rc, "cannot sync view");
	if (!*boot_id())
		return 0;	/* no record: every commit syncs */
	snprintf(buf, sizeof buf, "nedb view sync 1 boot %s log %llu ms %lld",
		 boot_id(), (unsigned long long)a.end, (long long)now);
	if ((rc = vsync_put(db, buf)))
		return rc;
	db->vsync_ms = now;
	return 0;
}

/*
 * Before a commit: marks the record dirty unless the commit is covered
 * (V2, V3).  Reads the record first: another process may have synced.
 */
static int
vsync_dirty(nedb *db, bool covered)
{
	char buf[VSYNC_LEN];
	struct vsync v;

	if (covered || !*boot_id())
		return 0;
	if (vsync_read(db, &v) > 0 && v.dirty && !strcmp(v.boot, boot_id()))
		return 0;
	snprintf(buf, sizeof buf, "nedb view sync 1 boot %s dirty ms %lld",
		 boot_id(), (long long)(db->vsync_ms ? db->vsync_ms : 1));
	return vsync_put(db, buf);
}

/* After a commit: syncs the view when it is due. */
static int
vsync_after_commit(nedb *db, bool appended)
{
	int64_t now;

	if (!appended)
		return vsync_write(db);
	now = nedb__now_ms();
	if (!*boot_id() || !db->vsync_ms || (db->durability != NEDB_FAST &&
	    (now < db->vsync_ms || now - db->vsync_ms >= VSYNC_EVERY_MS)))
		return vsync_write(db);
	return 0;
}

/*
 * At open: whether the view may hold pages an OS crash left unsynced.
 * Notes in db->vsync_ms a sync made in this boot.
 */
static bool
view_suspect(nedb *db)
{
	struct vsync v;
	int r = vsync_read(db, &v);

	if (r == 0)
		return false;	/* older nedb, or none yet: commits synced */
	if (r > 0 && *boot_id() && !strcmp(v.boot, boot_id())) {
		db->vsync_ms = v.ms;
		return false;
	}
	return r < 0 || v.dirty || nedb__log_end(db) > v.off;
}

/*
 * Commits the open write transaction after a replay rewrote the view
 * (a rebuild, a first build), which a longer log would not betray: view.sync is
 * marked dirty first (V2), the view synced after.  Ends the write and
 * releases the writer lock, on failure too.
 */
static int
commit_replayed(nedb *db)
{
	int rc = vsync_dirty(db, false);

	if (rc)
		mdb_txn_abort(db->wtxn);
	else if ((rc = mdb_txn_commit(db->wtxn)))
		rc = nedb__mdb(rc, "cannot write view");
	db->wtxn = NULL;
	db->wfailed = false;
	if (!rc)
		rc = vsync_write(db);
	nedb__wunlock(db);
	return rc;
}

/* Creates the view's tables; writes the genesis op or rebuilds. */
/*
 * A new directory of a database the engine already holds: its ops are
 * fetched (checked from genesis on) into log.aof, under the engine's
 * lock, which init_view holds.  *adopted when there were any.
 */
static int
adopt(nedb *db, bool *adopted)
{
	bool have = false;
	uint64_t tail = 0;
	unsigned char head[HASH_LEN] = {0};
	nedb_buf b = {0};
	size_t n;
	int rc;

	*adopted = false;
	do {
		b.len = 0;
		if ((rc = nedb__engine_fetch(db, &have, &tail, head, &b, &n,
					     0)))
			break;
		if (n && nedb__log_append(db, b.p, b.len, true)) {
			rc = nedb__errno(NEDB_EIO, "cannot write log");
			undo_append(db, 0);
			break;
		}
		if (n)
			*adopted = true;
	} while (n);
	nedb_buf_free(&b);
	if (!rc && *adopted)
		rc = nedb__fsync_dir(db->dir);
	return rc;
}

/* meta.json of an adopted copy: the genesis says format and time. */
static int
adopted_meta(nedb *db)
{
	struct seqent se;
	int64_t created = 0, format = LOG_FORMAT_OLD;
	int rc;

	if ((rc = nedb__op_line(db, 0, &db->scratch, &se)))
		return rc;
	line_num(db->scratch.p, db->scratch.len, "ts", &created);
	line_num(db->scratch.p, db->scratch.len, "format", &format);
	db->log_format = db->view.log_format = (int)format;
	return write_meta_json(db, created, 0);
}

static int
init_view(nedb *db, bool wait)
{
	struct applied a;
	bool adopted = false;
	int rc;

	if ((rc = nedb__wlock(db, wait)))
		return rc;
	if ((rc = nedb__view_wbegin(&db->view, &db->wtxn))) {
		nedb__wunlock(db);
		return nedb__mdb(rc, "cannot open view");
	}
	if ((rc = nedb__view_dbis(&db->view, db->wtxn, true)))
		goto fail;
	rc = nedb__view_applied(&db->view, db->wtxn, &a);
	if (rc == 0 && a.format == VIEW_FORMAT)
		goto commit;		/* another process got here first */
	if (nedb__log_end(db) == 0 && db->eng) {
		/* a database on an engine: another machine may have
		 * created it; then this copy starts as the engine's */
		if ((rc = nedb__engine_begin(db, wait, true)) ||
		    (rc = adopt(db, &adopted)))
			goto fail;
	}
	if (nedb__log_end(db) == 0) {
		struct op o = {.kind = OP_GENESIS};

		if ((rc = creation_format(db)) ||
		    (rc = nedb__view_clear(&db->view, db->wtxn)))
			goto fail;
		memset(&a, 0, sizeof a);
		a.format = VIEW_FORMAT;
		db->wa = a;
		o.ts = next_ts(db);
		if ((rc = stage(db, &o, NULL)))
			goto fail;
		if (db->eng && (rc = nedb__engine_append(db, db->wlog.p,
							 db->wlog.len, 0, 1)))
			goto fail;
		if (nedb__log_append(db, db->wlog.p, db->wlog.len, true)) {
			rc = nedb__errno(NEDB_EIO, "cannot write log");
			undo_append(db, 0);
			goto fail;
		}
		db->wlog.len = 0;
		nedb__log_unstage(db);
		db->wcount = 0;
		a = db->wa;
		if ((rc = nedb__fsync_dir(db->dir)) ||
		    (rc = write_meta_json(db, o.ts, 0)) ||
		    (rc = nedb__view_set_applied(&db->view, db->wtxn, &a)))
			goto fail;
	} else if ((rc = replay_all(db, CKPT_NONE, 0)))
		goto fail;
	if (adopted && (rc = adopted_meta(db)))
		goto fail;
	return commit_replayed(db);
commit:
	/* keeps the table handles */
	rc = mdb_txn_commit(db->wtxn);
	db->wtxn = NULL;
	nedb__wunlock(db);
	return nedb__mdb(rc, "cannot open view");
fail:
	mdb_txn_abort(db->wtxn);
	db->wtxn = NULL;
	db->wfailed = false;
	nedb__wunlock(db);
	return rc;
}

/* Locks the database directory (flock): fd to close, or -1. */
int
nedb__dir_lock(nedb *db, int how)
{
	int fd = open(db->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while (flock(fd, how))
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

/*
 * meta.json must say format 1.  Another number is a newer nedb's
 * database and garbage is damage: both refused.  A missing one (deleted
 * by hand) is written again, its creation time taken from the genesis
 * op.  Called at open, after the view is ready; the one reader of
 * meta.json, it keeps created and options.auto_index in the handle.
 *
 * meta.json is configuration, not state: nothing in it changes what a
 * read answers.  auto_index is a tuning knob, like SQLite's
 * automatic_index pragma: the indexes it leads to are index ops in the
 * log like any other, so the state they make is chained, verified and
 * rebuilt; only the threshold is local to this copy of the database.
 */
static int
check_meta(nedb *db)
{
	char *p = nedb__path_in(db->dir, "meta.json"), text[512];
	struct seqent se;
	const char *v;
	size_t vlen;
	ssize_t n;
	int fd;

	if (!p)
		return nedb__err(NEDB_EIO, "out of memory");
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	free(p);
	if (fd < 0 && errno == ENOENT) {
		int64_t created = 0, format = LOG_FORMAT_OLD;
		char *mp = nedb__path_in(db->dir, "meta.json");
		int rc;

		/* the genesis says the format and the creation time */
		if (!nedb__op_line(db, 0, &db->scratch, &se)) {
			line_num(db->scratch.p, db->scratch.len, "ts",
				 &created);
			line_num(db->scratch.p, db->scratch.len, "format",
				 &format);
		}
		db->log_format = db->view.log_format = (int)format;
		if (!db->writable || !mp || (rc = nedb__wlock(db, true))) {
			free(mp);
			return 0;
		}
		if (access(mp, F_OK) && errno == ENOENT) {
			nedb__warn("meta.json was missing; it is written "
				   "again");
			rc = write_meta_json(db, created, 0);
		}
		nedb__wunlock(db);
		free(mp);
		return rc;
	}
	if (fd < 0)
		return nedb__err(NEDB_EIO, "cannot open database '%s': cannot "
				 "read meta.json: %s", db->dir,
				 strerror(errno));
	n = read(fd, text, sizeof text - 1);
	close(fd);
	text[n > 0 ? n : 0] = 0;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = 0;
	if (n <= 0 || !nedb__doc_member(text, (size_t)n, "format", &v,
					 &vlen))
		return nedb__err(NEDB_ECORRUPT, "cannot open database '%s': "
				 "meta.json is not nedb's (no format); remove "
				 "it to have it written again", db->dir);
	if (vlen != 1 || *v < '1' || *v > '0' + LOG_FORMAT_MAX)
		return nedb__err(NEDB_ECORRUPT, "cannot open database '%s': "
				 "meta.json says format %.*s, and this nedb "
				 "reads formats 1 and %d", db->dir,
				 (int)(vlen > 20 ? 20 : vlen), v,
				 LOG_FORMAT_MAX);
	db->log_format = db->view.log_format = *v - '0';
	if (nedb__doc_member(text, (size_t)n, "created", &v, &vlen))
		db->created = strtoll(v, NULL, 10);
	if (nedb__doc_member(text, (size_t)n, "options", &v, &vlen) &&
	    nedb__doc_member(v, vlen, "auto_index", &v, &vlen))
		db->auto_index = strtoull(v, NULL, 10);
	if (nedb__doc_member(text, (size_t)n, "options", &v, &vlen)) {
		const char *f;
		size_t flen;
		unsigned a, b, c;

		if (nedb__doc_member(v, vlen, "file_chunk", &f, &flen) &&
		    sscanf(f, "[%u,%u,%u]", &a, &b, &c) == 3 &&
		    !nedb__cdc_check(a, b, c)) {
			db->fchunk[0] = a;
			db->fchunk[1] = b;
			db->fchunk[2] = c;
		}
		if (nedb__doc_member(v, vlen, "file_tier", &f, &flen))
			db->ftier = flen == 6 && !memcmp(f, "\"cold\"", 6) ?
				    NEDB_TIER_COLD :
				    flen == 5 && !memcmp(f, "\"raw\"", 5) ?
				    NEDB_TIER_RAW : NEDB_TIER_WARM;
	}
	return 0;
}

/*
 * The key step of an open, before any other file of the database is read
 * or written (SPEC §8): the master key, which open_db read once from
 * tmk_file or the environment (tmk when have), against key.enc.
 *  - key.enc and no key, or another key: NEDB_EKEY, nothing touched.
 *  - key.enc and its key: db->crypt holds the data key's sub-keys.
 *  - a key and no key.enc: a new database (no log.aof yet, create) gets
 *    a key.enc before its genesis op; an existing plaintext one is to be
 *    encrypted (*convert).
 *  - neither: plaintext, and libcrypto is never loaded.
 */
static int
open_keys(nedb *db, const unsigned char tmk[NEDB_KEY_LEN], bool have,
	  bool create, bool *convert)
{
	unsigned char kid[NEDB_KEYID_LEN];
	char hex[2 * NEDB_KEYID_LEN + 1];
	bool enc;
	int rc;

	*convert = false;
	if ((rc = nedb__key_status(db->dir, &enc, kid)))
		return rc;
	if (enc && !have) {
		nedb__key_id_hex(hex, kid);
		rc = nedb__err(NEDB_EKEY, "cannot open database '%s': it is "
			       "encrypted (key id %s); give its key with "
			       "NEDB_TMK, NEDB_TMK_FILE or --tmk-file",
			       db->dir, hex);
	} else if (enc) {
		rc = nedb__crypt_open(&db->crypt, db->dir, tmk);
	} else if (have) {
		char *lp = nedb__path_in(db->dir, "log.aof");

		if (!lp)
			rc = nedb__err(NEDB_EIO, "out of memory");
		else if (!access(lp, F_OK))
			*convert = true;
		else if (create &&
			 (rc = nedb__crypt_create(&db->crypt, db->dir, tmk)) ==
			 NEDB_EREJECTED)	/* another process made it first */
			rc = nedb__crypt_open(&db->crypt, db->dir, tmk);
		free(lp);
	}
	db->view.crypt = nedb__encrypted(db) ? &db->crypt : NULL;
	return rc;
}

int
nedb_open(nedb **out, const char *dir, unsigned flags)
{
	return nedb_open_key(out, dir, flags, NULL);
}

/*
 * The engine of the database in db->dir (engine.h): its file "engine",
 * written when the directory is first used with NEDB_LOG set (no log
 * yet).  An encrypted database keeps its log here.
 */
static int
engine_setup(nedb *db, bool create, bool have_key)
{
	const char *url = getenv("NEDB_LOG");
	char *lp;
	bool fresh;
	int rc;

	if ((rc = nedb__engine_load(db->dir, &db->eng)))
		return rc;
	if (!db->eng && create && url && *url) {
		struct nedb_engine *e;

		if (!(lp = nedb__path_in(db->dir, "log.aof")))
			return nedb__err(NEDB_EIO, "out of memory");
		fresh = access(lp, F_OK) && errno == ENOENT;
		free(lp);
		if (!fresh)
			return 0;	/* the URL counts at first use only */
		if ((rc = nedb__engine_parse(url, db->dir, &e)))
			return rc;
		nedb__engine_free(e);
		if (have_key)
			return nedb__err(NEDB_EUSAGE, "cannot create database "
					 "'%s' on the log engine: an encrypted "
					 "database keeps its log in its "
					 "directory", db->dir);
		if ((rc = nedb__engine_record(db->dir, url)) ||
		    (rc = nedb__engine_load(db->dir, &db->eng)))
			return rc;
	}
	if (db->eng && have_key)
		return nedb__err(NEDB_EUSAGE, "cannot open database '%s' with "
				 "a key: its log is on an engine (%s), and an "
				 "encrypted database keeps its log in its "
				 "directory", db->dir,
				 nedb__engine_url(db->eng));
	return 0;
}

/* nedb_open_key's open; *convert: a plaintext database was opened
 * (without its key) that the key given is to encrypt. */
static int
open_db(nedb **out, const char *dir, unsigned flags, const char *tmk_file,
	bool *convert)
{
	bool create = flags & NEDB_OPEN_CREATE, suspect, have = false;
	bool read_tmk = false;
	unsigned char tmk[NEDB_KEY_LEN];
	int dirfd = -1;
	char *viewp = NULL;
	struct applied a;
	struct stat st;
	MDB_txn *txn;
	nedb *db;
	int rc;

	*out = NULL;
	if (!(db = nedb__calloc(1, sizeof *db)) || !(db->dir = nedb__strdup(dir))) {
		free(db);
		return nedb__err(NEDB_EIO, "out of memory");
	}
	db->vlockfd = -1;
	db->wlockfd = -1;
	if (stat(dir, &st)) {
		if (errno != ENOENT || !create) {
			rc = errno == ENOENT ?
			     nedb__err(NEDB_ENOTFOUND, "cannot open database "
				       "'%s': no such database", dir) :
			     nedb__errno(NEDB_EIO, "cannot open database");
			goto fail;
		}
		/* a bad key leaves no empty directory behind */
		read_tmk = true;
		if ((rc = nedb__tmk_get(tmk, &have, tmk_file,
					getenv("NEDB_TMK"),
					getenv("NEDB_TMK_FILE"))))
			goto fail;
		if (mkdir(dir, 0700) && errno != EEXIST) {
			rc = nedb__err(NEDB_EIO, "cannot create database "
				       "'%s': %s", dir, strerror(errno));
			goto fail;
		}
	} else if (!S_ISDIR(st.st_mode)) {
		rc = nedb__err(NEDB_EIO, "cannot open database '%s': not a "
			       "directory", dir);
		goto fail;
	}
	if ((!read_tmk &&
	     (rc = nedb__tmk_get(tmk, &have, tmk_file, getenv("NEDB_TMK"),
				 getenv("NEDB_TMK_FILE")))) ||
	    (rc = engine_setup(db, create, have)) ||
	    (rc = nedb__encrypt_recover(db)) ||
	    (rc = nedb__redact_recover(db)) ||
	    (rc = open_keys(db, tmk, have, create, convert)))
		goto fail;
	nedb__wipe(tmk, sizeof tmk);
	viewp = nedb__path_in(db->dir, "view.mdb");
	if ((rc = nedb__log_open(db, create, &db->writable)))
		goto fail;
	/*
	 * The view is opened under a shared lock of the directory, which a
	 * compaction (nedb_compact) or a rebuild after an OS crash holds
	 * exclusively while it replaces the view's files.
	 */
	suspect = view_suspect(db);
	if (suspect && !db->writable) {
		rc = nedb__err(NEDB_EIO, "cannot open database '%s': the "
			       "system went down with the view unsynced; it "
			       "must be rebuilt and the database is read-only",
			       dir);
		goto fail;
	}
	if ((dirfd = nedb__dir_lock(db, (suspect ? LOCK_EX : LOCK_SH) |
			      (flags & NEDB_OPEN_NOWAIT ? LOCK_NB : 0))) < 0) {
		rc = errno == EWOULDBLOCK ?
		     nedb__err(NEDB_EBUSY, "cannot open database '%s' now: "
			       "another process is compacting or rebuilding "
			       "its view", dir) :
		     nedb__errno(NEDB_EIO, "cannot lock database");
		goto fail;
	}
	if (!lstat(viewp, &st) && S_ISLNK(st.st_mode)) {
		rc = nedb__err(NEDB_EIO, "cannot open database '%s': view.mdb "
			       "is a symbolic link, which nedb does not "
			       "follow", dir);
		goto fail;
	}
	/* one process rebuilds; the others wait, then see its record */
	if (suspect && view_suspect(db)) {
		char *lockp = nedb__path_in(db->dir, "view.mdb-lock");

		nedb__warn("the system went down with the view not synced; "
			   "rebuilding it from the log");
		unlink(viewp);
		if (lockp)
			unlink(lockp);
		free(lockp);
	}
	rc = nedb__view_open(&db->view, viewp,
			     db->writable ? MDB_NOSYNC : MDB_RDONLY,
			     nedb__encrypted(db) ? &db->crypt : NULL);
	if (rc == NEDB_ECORRUPT && db->writable) {
		/*
		 * The view is a cache of the log: one LMDB cannot open (cut
		 * short, or left half-made by a full disk) is set aside and
		 * rebuilt.  No process can be using a view that will not open.
		 */
		char *lockp = nedb__path_in(db->dir, "view.mdb-lock");

		nedb__warn("the view cannot be opened (%s); rebuilding it "
			   "from the log", nedb_errmsg());
		unlink(viewp);
		if (lockp)
			unlink(lockp);
		free(lockp);
		rc = nedb__view_open(&db->view, viewp, MDB_NOSYNC,
				     nedb__encrypted(db) ? &db->crypt : NULL);
	}
	if (rc)
		goto fail;
	if ((rc = mdb_txn_begin(db->view.env, NULL, MDB_RDONLY, &txn))) {
		rc = nedb__mdb(rc, "cannot open view");
		goto fail;
	}
	rc = nedb__view_dbis(&db->view, txn, false);
	if (!rc)
		rc = nedb__view_applied(&db->view, txn, &a);
	/* Commit, not abort: table handles opened in an aborted
	 * transaction are closed with it. */
	if (rc)
		mdb_txn_abort(txn);
	else
		mdb_txn_commit(txn);
	if (rc == NEDB_ENOTFOUND || (!rc && a.format != VIEW_FORMAT)) {
		if (!db->writable) {
			rc = nedb__err(NEDB_EIO, "cannot open database '%s': "
				       "the view needs building and the "
				       "database is read-only", dir);
			goto fail;
		}
		rc = init_view(db, !(flags & NEDB_OPEN_NOWAIT));
	}
	if (rc || (rc = check_meta(db)))
		goto fail;
	close(dirfd);
	dirfd = -1;
	/* a command catches up before it reads (SPEC §10) */
	if (db->eng && !(flags & NEDB_OPEN_LOCAL) && !*convert) {
		bool fresh;

		/* unless the user allowed this copy to be a little behind
		 * (NEDB_ENGINE_STALE_MS) and it is not */
		if ((rc = nedb__engine_fresh(db->dir, &fresh)) ||
		    (!fresh && (rc = engine_sync(db,
					!(flags & NEDB_OPEN_NOWAIT))) &&
		     rc != NEDB_EBUSY))
			goto fail;
		rc = 0;
	}
	free(viewp);
	*out = db;
	nedb__test_pause("opened");
	return 0;
fail:
	nedb__wipe(tmk, sizeof tmk);
	if (dirfd >= 0)
		close(dirfd);
	free(viewp);
	nedb_close(db);
	return rc;
}

int
nedb_open_key(nedb **out, const char *dir, unsigned flags,
	      const char *tmk_file)
{
	bool convert;
	int rc = open_db(out, dir, flags, tmk_file, &convert);

	if (rc || !convert)
		return rc;
	/* a plaintext database and a key: encrypt it, then open it again */
	rc = nedb__encrypt(*out, tmk_file);
	nedb_close(*out);
	*out = NULL;
	if (rc)
		return rc;
	if (!(rc = open_db(out, dir, flags, tmk_file, &convert)) && convert) {
		nedb_close(*out);
		*out = NULL;
		rc = nedb__err(NEDB_EIO, "cannot open database '%s': it was "
			       "encrypted and is plaintext again", dir);
	}
	return rc;
}

void
nedb_close(nedb *db)
{
	if (!db)
		return;
	if (db->wtxn)
		nedb_write_abort(db);
	if (db->rtxn)
		mdb_txn_abort(db->rtxn);
	nedb__view_close(&db->view);
	if (db->vlockfd >= 0)	/* after LMDB is done with its locks */
		close(db->vlockfd);
	nedb__log_close(db);
	if (db->wlockfd >= 0)
		close(db->wlockfd);
	nedb_buf_free(&db->wlog);
	nedb_buf_free(&db->scratch);
	nedb__crypt_keys_free(&db->crypt);
	nedb__engine_free(db->eng);
	free(db->wat);
	free(db->dir);
	free(db);
}

int
nedb_key_status(const char *dir, int *encrypted, char kid[17])
{
	unsigned char k[NEDB_KEYID_LEN];
	struct stat st;
	bool enc;
	char *lp;
	int rc;

	*encrypted = 0;
	kid[0] = 0;
	if (!(lp = nedb__path_in(dir, "log.aof")))
		return nedb__err(NEDB_EIO, "out of memory");
	rc = stat(lp, &st);
	free(lp);
	if (rc)
		return errno == ENOENT || errno == ENOTDIR ?
		       nedb__err(NEDB_ENOTFOUND, "no database in '%s'", dir) :
		       nedb__errno(NEDB_EIO, "cannot read database");
	if ((rc = nedb__key_status(dir, &enc, k)))
		return rc;
	if (enc) {
		*encrypted = 1;
		nedb__key_id_hex(kid, k);
	}
	return 0;
}

int
nedb_key_rewrap(const char *dir, const char *tmk_file,
		const char *new_tmk_file, char kid[17])
{
	unsigned char old[NEDB_KEY_LEN], new[NEDB_KEY_LEN], k[NEDB_KEYID_LEN];
	bool have;
	nedb *db;
	int enc, rc;

	/*
	 * Only key.enc is read and replaced, under the writer lock: the
	 * view is not opened (its lock file would change), and a plaintext
	 * database is refused, not encrypted as an open with a key would.
	 */
	kid[0] = 0;
	db = nedb__calloc(1, sizeof *db);
	db->dir = nedb__strdup(dir);
	db->vlockfd = db->wlockfd = -1;
	if ((rc = nedb__tmk_get(new, &have, new_tmk_file, NULL, NULL)))
		goto done;
	if (!have) {
		rc = nedb__err(NEDB_EUSAGE, "no new key given");
		goto done;
	}
	/* an encryption a crash interrupted is finished (or dropped) first:
	 * key.enc may not be in place yet */
	if ((rc = nedb__encrypt_recover(db)) ||
	    (rc = nedb_key_status(dir, &enc, kid)))
		goto done;
	if (!enc) {
		rc = nedb__err(NEDB_EREJECTED, "database '%s' is not "
			       "encrypted: there is no key to rewrap", dir);
		goto done;
	}
	if ((rc = nedb__tmk_get(old, &have, tmk_file, getenv("NEDB_TMK"),
				getenv("NEDB_TMK_FILE"))))
		goto done;
	if (!have) {
		rc = nedb__err(NEDB_EKEY, "database '%s' is encrypted (key id "
			       "%s): give its current key with NEDB_TMK, "
			       "NEDB_TMK_FILE or --tmk-file", dir, kid);
		goto done;
	}
	kid[0] = 0;
	if (!(rc = nedb__wlock(db, true))) {
		if (!(rc = nedb__key_rewrap(dir, old, new)) &&
		    !(rc = nedb__key_cleanup(dir)) &&
		    !(rc = nedb__key_id(k, new)))
			nedb__key_id_hex(kid, k);
		nedb__wunlock(db);
	}
done:
	nedb__wipe(old, sizeof old);
	nedb__wipe(new, sizeof new);
	nedb_close(db);
	return rc;
}

int
nedb_set_auto_index(nedb *db, uint64_t n)
{
	int rc;

	/* under the writer lock, so that two setters do not race */
	if ((rc = nedb_write_begin(db)))
		return rc;
	if (!(rc = write_meta_json(db, db->created, n)))
		db->auto_index = n;
	nedb_write_abort(db);
	return rc;
}

int
nedb__set_file_config(nedb *db, const uint32_t chunk[3], int tier)
{
	uint32_t was[3];
	int rc, wtier = db->ftier;

	if ((rc = nedb_write_begin(db)))
		return rc;
	memcpy(was, db->fchunk, sizeof was);
	if (chunk)
		memcpy(db->fchunk, chunk, sizeof was);
	if (tier >= 0)
		db->ftier = tier;
	if ((rc = write_meta_json(db, db->created, db->auto_index))) {
		memcpy(db->fchunk, was, sizeof was);
		db->ftier = wtier;
	}
	nedb_write_abort(db);
	return rc;
}

void
nedb_set_read_verify(nedb *db, int on)
{
	db->read_verify = on != 0;
}

int
nedb_set_durability(nedb *db, int mode)
{
	if (mode < NEDB_DURABLE || mode > NEDB_FAST)
		return nedb__err(NEDB_EUSAGE, "bad durability mode");
	db->durability = mode;
	return 0;
}

/* Snapshots */

int
nedb__txn(nedb *db, MDB_txn **txn)
{
	struct applied a;
	int rc;

	if (db->wtxn) {
		*txn = db->wtxn;
		return 0;
	}
	if (db->rtxn) {
		*txn = db->rtxn;
		if (db->rtxn_refs)
			db->rtxn_refs++;	/* a call's own, nested */
		return 0;
	}
	if ((rc = mdb_txn_begin(db->view.env, NULL, MDB_RDONLY, txn)))
		return nedb__mdb(rc, "cannot read view");
	/*
	 * A prune may have replaced log.aof since this handle opened it:
	 * follow it after the snapshot is taken, so that the file read
	 * holds every line the snapshot has applied.
	 */
	if ((rc = nedb__follow_rotation(db))) {
		mdb_txn_abort(*txn);
		return rc;
	}
	if (!db->size_checked) {
		/* Invariant 3: a log shorter than the view is damage. */
		if ((rc = nedb__view_applied(&db->view, *txn, &a)) ||
		    nedb__log_end(db) < a.end) {
			mdb_txn_abort(*txn);
			return nedb__err(NEDB_ECORRUPT, "corrupt log: it ends "
					 "before seq %llu, which the view has "
					 "applied", (unsigned long long)a.seq);
		}
		db->size_checked = true;
	}
	/*
	 * A snapshot of the call's own, held as db->rtxn until the call is
	 * done with it: a function it calls (a verified read's look at the
	 * log) shares it.  LMDB allows one read transaction per thread.
	 */
	db->rtxn = *txn;
	db->rtxn_refs = 1;
	return 0;
}

void
nedb__txn_done(nedb *db, MDB_txn *txn)
{
	if (txn == db->rtxn && db->rtxn_refs && --db->rtxn_refs == 0) {
		mdb_txn_abort(txn);
		db->rtxn = NULL;
	}
}

int
nedb_read_begin(nedb *db)
{
	MDB_txn *txn;
	int rc;

	if (db->rtxn || db->wtxn)
		return 0;
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	db->rtxn_refs = 0;	/* now the caller's, until nedb_read_end */
	return 0;
}

void
nedb_read_end(nedb *db)
{
	if (db->rtxn)
		mdb_txn_abort(db->rtxn);
	db->rtxn = NULL;
}

int
nedb_head(nedb *db, uint64_t *seq, char *hash)
{
	struct applied a;
	MDB_txn *txn;
	int rc;

	if ((rc = nedb__txn(db, &txn)))
		return rc;
	rc = nedb__view_applied(&db->view, txn, &a);
	nedb__txn_done(db, txn);
	if (rc)
		return nedb__err(NEDB_ECORRUPT, "view has no head");
	if (db->wtxn)
		a = db->wa;
	*seq = a.seq;
	if (hash)
		nedb__hex(hash, a.head, HASH_LEN);
	return 0;
}

/* Writes */

/*
 * The writer lock: flock(2) on the file "lock", taken before LMDB's
 * writer mutex and released only after the commit or the abort and
 * whatever undo they need.  LMDB's mutex alone is not enough: a failed
 * mdb_txn_commit releases it before the log can be cut back, and another
 * writer could append (and acknowledge) in between.  The file is never
 * replaced, so every process locks the same inode.
 */
int
nedb__wlock(nedb *db, bool wait)
{
	char *p;
	struct stat a, b;
	int rc = 0;

	if (db->wlocked)
		return 0;
	if (!(p = nedb__path_in(db->dir, "lock")))
		return nedb__err(NEDB_EIO, "out of memory");
	for (;;) {
		if (db->wlockfd < 0 &&
		    (db->wlockfd = open(p, O_RDWR | O_CREAT | O_CLOEXEC |
					O_NOFOLLOW, 0600)) < 0) {
			rc = nedb__errno(NEDB_EIO, "cannot open lock");
			break;
		}
		if (flock(db->wlockfd, wait ? LOCK_EX : LOCK_EX | LOCK_NB)) {
			if (errno == EINTR)
				continue;
			rc = errno == EWOULDBLOCK && !wait ?
			     nedb__err(NEDB_EBUSY, "database '%s' is locked "
				       "by another writer", db->dir) :
			     nedb__errno(NEDB_EIO, "cannot lock database");
			break;
		}
		/* the file removed while we waited (nedb_destroy): the
		 * lock of a file no one else can open is no lock */
		if (!fstat(db->wlockfd, &a) && !lstat(p, &b) &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
			db->wlocked = true;
			break;
		}
		close(db->wlockfd);
		db->wlockfd = -1;
		if (lstat(p, &b) && errno == ENOENT && access(db->dir, F_OK)) {
			rc = nedb__err(NEDB_ENOTFOUND, "cannot write to "
				       "database '%s': it was removed",
				       db->dir);
			break;
		}
	}
	free(p);
	return rc;
}

void
nedb__wunlock(nedb *db)
{
	/* a transaction still open on the engine (its advisory lock) ends
	 * with the writer lock: rolled back unless committed */
	nedb__engine_end(db);
	if (db->wlocked)
		flock(db->wlockfd, LOCK_UN);
	db->wlocked = false;
}

/* Whether a write may begin on db; ends a read snapshot of its. */
static int
write_ready(nedb *db)
{
	if (!db->writable)
		return nedb__err(NEDB_EIO, "cannot write to database '%s': "
				 "permission denied", db->dir);
	if (db->wtxn)
		return nedb__err(NEDB_EUSAGE, "a write is already open");
	if (db->broken)
		return nedb__err(NEDB_EIO, "cannot write to database '%s': a "
				 "failed write could not be undone; reopen it",
				 db->dir);
	nedb_read_end(db);
	return 0;
}

/*
 * The ops the engine holds past this copy's head (engine.h), appended
 * to log.aof after they were checked; inside db->wtxn, which has caught
 * up with log.aof.  *n: how many (0: none left).  The caller applies
 * them as lines a crashed writer left behind (catch_up).
 */
static int
engine_catch_up(nedb *db, size_t *n)
{
	bool have = true;
	uint64_t tail = db->wa.seq;
	unsigned char head[HASH_LEN];
	nedb_buf b = {0};
	int rc;

	memcpy(head, db->wa.head, HASH_LEN);
	if ((rc = nedb__engine_fetch(db, &have, &tail, head, &b, n, 0)))
		goto done;
	if (*n && nedb__log_append(db, b.p, b.len,
				   db->durability == NEDB_DURABLE)) {
		rc = nedb__errno(NEDB_EIO, "cannot append to log");
		undo_append(db, db->wa.end);
	}
done:
	nedb_buf_free(&b);
	return rc;
}

enum { WB_WAIT = 0, WB_TRY = 1, WB_CATCH_UP = 2 };

/*
 * Begins a write (WB_TRY: NEDB_EBUSY rather than wait for a lock), or
 * with WB_CATCH_UP only catches up with the engine (no transaction on
 * the engine, no lock there).
 */
static int
write_begin(nedb *db, int mode)
{
	bool changed, fetched = !db->eng, locked = false;
	int rc;

	if ((rc = write_ready(db)) ||
	    (rc = nedb__wlock(db, !(mode & WB_TRY))))
		return rc;
	if (!db->readers_checked) {
		int dead;

		/* Free the reader slots of processes killed mid-read, so
		 * that their snapshots do not pin old pages forever. */
		mdb_reader_check(db->view.env, &dead);
		db->readers_checked = true;
	}
	for (;;) {
		if ((rc = nedb__view_wbegin(&db->view, &db->wtxn))) {
			nedb__wunlock(db);
			return nedb__mdb(rc, "cannot lock database");
		}
		if ((rc = nedb__follow_rotation(db)))
			goto fail;
		if ((rc = nedb__view_applied(&db->view, db->wtxn, &db->wa))) {
			rc = nedb__err(NEDB_ECORRUPT, "view has no head");
			goto fail;
		}
		if ((rc = catch_up(db, &db->wa, &changed)))
			goto fail;
		if (!changed && !fetched) {
			size_t n;

			/* the engine: its lock first (no other machine
			 * appends until this write ends), then what other
			 * machines appended, until there is no more */
			if (!(mode & WB_CATCH_UP) && !locked) {
				if ((rc = nedb__engine_begin(db,
							     !(mode & WB_TRY),
							     false)))
					goto fail;
				locked = true;
			}
			if ((rc = engine_catch_up(db, &n)))
				goto fail;
			if (n) {
				/* applied by the next turn's catch_up */
				mdb_txn_abort(db->wtxn);
				db->wtxn = NULL;
				continue;
			}
			fetched = true;
		}
		if (!changed)
			break;
		/* Commit the catch-up on its own; then start afresh. */
		if ((rc = vsync_dirty(db, false))) {
			mdb_txn_abort(db->wtxn);
			db->wtxn = NULL;
			nedb__wunlock(db);
			return rc;
		}
		if ((rc = mdb_txn_commit(db->wtxn))) {
			db->wtxn = NULL;
			nedb__wunlock(db);
			return nedb__mdb(rc, "cannot write view");
		}
		db->wtxn = NULL;
		if ((rc = vsync_after_commit(db, false))) {
			nedb__wunlock(db);
			return rc;
		}
	}
	db->wbase_end = db->wa.end;
	db->wlog.len = 0;
	nedb__log_unstage(db);
	db->wcount = 0;
	db->wfailed = false;
	db->wtouched = false;
	return 0;
fail:
	mdb_txn_abort(db->wtxn);
	db->wtxn = NULL;
	nedb__wunlock(db);
	return rc;
}

int
nedb_write_begin(nedb *db)
{
	return write_begin(db, WB_WAIT);
}

int
nedb_write_trybegin(nedb *db)
{
	return write_begin(db, WB_TRY);
}

int
nedb_write_conflict(nedb *db)
{
	return nedb__engine_conflict(db);
}

/* how many times a write that keeps losing its seq begins again */
#define WRITE_TRIES 1000

int
nedb_write_run(nedb *db, int (*fn)(nedb *db, void *payload), void *payload)
{
	int rc;

	for (int tries = 1;; tries++) {
		if ((rc = nedb_write_begin(db)))
			return rc;
		if ((rc = fn(db, payload))) {
			nedb_write_abort(db);
			return rc;
		}
		/* a lost seq: begin again, caught up, and stage anew */
		if (!(rc = nedb_write_commit(db)) ||
		    !nedb_write_conflict(db) || tries == WRITE_TRIES)
			return rc;
	}
}

const char *
nedb_engine_url(nedb *db)
{
	return db->eng ? nedb__engine_url(db->eng) : NULL;
}

/*
 * Catches up with the engine: what other machines appended is fetched,
 * checked and applied.  The writer lock is taken only when there is
 * something to append; without waiting for it when wait is false (then
 * NEDB_EBUSY).
 */
static int
engine_sync(nedb *db, bool wait)
{
	struct applied a;
	MDB_txn *txn;
	bool have = true;
	uint64_t tail;
	unsigned char head[HASH_LEN];
	int64_t began = nedb__now_ms();	/* before the engine is asked */
	size_t n;
	int rc;

	if (!db->eng)
		return 0;
	if (db->wtxn)
		return nedb__err(NEDB_EUSAGE, "a write is open");
	nedb_read_end(db);
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	rc = nedb__view_applied(&db->view, txn, &a);
	nedb__txn_done(db, txn);
	if (rc)
		return nedb__err(NEDB_ECORRUPT, "view has no head");
	/* one op past the tail is enough to know */
	tail = a.seq;
	memcpy(head, a.head, HASH_LEN);
	if ((rc = nedb__engine_fetch(db, &have, &tail, head, NULL, &n, 1)))
		return rc;
	if (n) {
		if (!db->writable)
			return nedb__err(NEDB_EIO, "cannot catch up with the "
					 "log engine: database '%s' is "
					 "read-only here", db->dir);
		if ((rc = write_begin(db, WB_CATCH_UP | (wait ? 0 : WB_TRY))))
			return rc;
		nedb_write_abort(db);
	}
	/* this copy holds every op acknowledged before began */
	nedb__engine_synced(db->dir, began);
	return 0;
}

int
nedb_engine_sync(nedb *db)
{
	return engine_sync(db, true);
}

int
nedb_engine_trysync(nedb *db)
{
	return engine_sync(db, false);
}

size_t
nedb_write_pending(nedb *db)
{
	return db->wcount;
}

void
nedb_write_abort(nedb *db)
{
	if (db->wtxn)
		mdb_txn_abort(db->wtxn);
	db->wtxn = NULL;
	db->wlog.len = 0;
	nedb__log_unstage(db);
	db->wcount = 0;
	db->wfailed = false;
	nedb__wunlock(db);
}

int
nedb_write_commit(nedb *db)
{
	bool appended;
	int rc;

	if (!db->wtxn)
		return 0;
	if (db->wfailed) {
		nedb_write_abort(db);
		return nedb__err(NEDB_EIO, "write failed; nothing committed");
	}
	if (db->wlog.len) {
		/* engine.h: the engine commits first; only then the lines
		 * go to this copy and the write can be acknowledged */
		if (db->eng &&
		    (rc = nedb__engine_append(db, db->wlog.p, db->wlog.len,
					      db->wbase_seq, db->wcount))) {
			nedb_write_abort(db);
			return rc;
		}
		nedb__test_pause("engine-committed");
		if (nedb__log_append(db, db->wlog.p, db->wlog.len,
				     db->durability == NEDB_DURABLE)) {
			rc = nedb__errno(NEDB_EIO, "cannot append to log");
			undo_append(db, db->wbase_end);
			nedb_write_abort(db);
			return rc;
		}
		if ((rc = nedb__view_set_applied(&db->view, db->wtxn,
						 &db->wa))) {
			undo_append(db, db->wbase_end);
			nedb_write_abort(db);
			return rc;
		}
	}
	appended = db->wlog.len > 0;
	if (!appended && !db->wtouched) {
		nedb_write_abort(db);	/* nothing to commit */
		return 0;
	}
	if ((rc = vsync_dirty(db, appended &&
			      db->durability == NEDB_DURABLE))) {
		if (appended)
			undo_append(db, db->wbase_end);
		nedb_write_abort(db);
		return rc;
	}
	if (nedb__test_fail("view-commit")) {
		mdb_txn_abort(db->wtxn);	/* what a failed commit does */
		rc = ENOSPC;
	} else
		rc = mdb_txn_commit(db->wtxn);
	db->wtxn = NULL;
	if (rc) {
		/* LMDB reports a page write cut short by a full disk as EIO */
		if (rc == EIO && disk_nearly_full(db))
			rc = ENOSPC;
		rc = nedb__mdb(rc, "cannot commit");
		/* Invariant 1: the lines go while the writer lock is held. */
		nedb__test_pause("commit-failed");
		if (appended)
			undo_append(db, db->wbase_end);
	} else if (vsync_after_commit(db, appended))
		nedb__warn("%s (the view will be rebuilt if the system goes "
			   "down)", nedb_errmsg());
	db->wlog.len = 0;
	nedb__log_unstage(db);
	db->wcount = 0;
	nedb__wunlock(db);
	return rc;
}

/*
 * The write options of an op a client writes, checked once, before the
 * view is consulted: the client's name ("local" when none is given) and
 * the idempotency key's syntax.  Fills o->client and o->idem, which the
 * rest of the write trusts.
 */
static int
check_wopts(const nedb_wopts *w, struct op *o)
{
	size_t n;

	o->client = "local";
	if (w && w->client) {
		n = strlen(w->client);
		if (n == 0 || n > 128 || nedb_check_id(w->client, n))
			return nedb__err(NEDB_EUSAGE, "bad client name "
					 "'%.80s': want 1-128 bytes of UTF-8, "
					 "no control characters", w->client);
		o->client = w->client;
	}
	if (w && w->idem) {
		n = strlen(w->idem);
		if (n == 0 || n > MAX_ID || nedb_check_id(w->idem, n))
			return nedb__err(NEDB_EUSAGE, "bad idempotency key: "
					 "want 1-400 bytes of UTF-8, no "
					 "control characters");
		o->idem = w->idem;
	}
	if (w && w->evidence) {
		n = strlen(w->evidence);
		if (n == 0 || n > MAX_ID || nedb_check_id(w->evidence, n))
			return nedb__err(NEDB_EINPUT, "bad provenance text: "
					 "want 1-400 bytes of UTF-8, no "
					 "control characters");
		o->evidence = w->evidence;
	}
	if (w)
		o->repl_offset = w->repl_offset;
	return 0;
}

/*
 * The receipt of the op that used idempotency key idem, for a retry.
 * The view only says which seq that was; the receipt is made again from
 * the log's line, which must carry that key.  The line is checked even
 * when no receipt is wanted.
 */
static int
idem_receipt(nedb *db, const char *idem, const char *stored, size_t len,
	     nedb_receipt *receipt)
{
	struct seqent se;
	struct op o;
	const char *v;
	size_t vlen;
	uint64_t seq;
	int rc;

	if (!nedb__doc_member(stored, len, "seq", &v, &vlen) || !vlen ||
	    vlen > 19 || strspn(v, "0123456789") < vlen ||
	    !(seq = strtoull(v, NULL, 10)))
		return nedb__err(NEDB_ECORRUPT, "corrupt view: the receipt of "
				 "idempotency key '%s' has no seq", idem);
	if ((rc = nedb__op_line(db, seq, &db->scratch, &se)))
		return rc;
	if ((rc = nedb__log_parse(db->scratch.p, db->scratch.len, &o)))
		return rc;
	o.seq = seq;
	memcpy(o.hash, se.hash, HASH_LEN);
	if (!o.idem || strcmp(o.idem, idem))
		rc = nedb__err(NEDB_ECORRUPT, "corrupt view: idempotency key "
			       "'%s' names seq %llu, which the log does not "
			       "hold it in; run nedb-checkpoint --rebuild",
			       idem, (unsigned long long)seq);
	else if (receipt && !(rc = nedb__receipt_of(receipt, &o)))
		receipt->replay = 1;
	nedb__op_free(&o);
	return rc;
}

/*
 * What every op a client writes goes through before its own checks of
 * the view: its write options (check_wopts), then its idempotency key
 * and its client's nonce against the view.  Returns 1 when the key was
 * seen (the receipt, if wanted, is the first op's, with replay set), 0
 * to go on with o->client, o->nonce and o->idem filled, or an error.
 */
static int
pre_write(nedb *db, const nedb_wopts *w, struct op *o, nedb_receipt *receipt)
{
	MDB_val k, d;
	uint64_t last = 0;
	int rc;

	if ((rc = check_wopts(w, o)))
		return rc;
	if (o->idem) {
		k.mv_size = strlen(o->idem);
		k.mv_data = (void *)o->idem;
		rc = nedb__kv_get(&db->view, db->wtxn, DBI_IDEM, &k, &d);
		if (rc == 0) {
			rc = idem_receipt(db, o->idem, d.mv_data, d.mv_size,
					  receipt);
			return rc ? rc : 1;
		}
		if (rc != MDB_NOTFOUND)
			return nedb__mdb(rc, "cannot read view");
	}
	k.mv_size = strlen(o->client);
	k.mv_data = (void *)o->client;
	/* the client of the op just applied in this write: its nonce as
	 * apply left it (struct view's nlast), without a search */
	if (nedb__view_current(&db->view, db->view.nlast.gen) &&
	    !strcmp(db->view.nlast.client, o->client))
		last = db->view.nlast.nonce;
	else if (!(rc = nedb__kv_get(&db->view, db->wtxn, DBI_NONCES, &k,
				     &d))) {
		if ((rc = nedb__num_get(d.mv_data, d.mv_size, &last)))
			return rc;
	} else if (rc != MDB_NOTFOUND)
		return nedb__mdb(rc, "cannot read view");
	if (w && w->nonce) {
		if (w->nonce <= last)
			return nedb__err(NEDB_EREJECTED, "stale nonce %llu for "
					 "client '%s': last seen is %llu",
					 (unsigned long long)w->nonce,
					 o->client, (unsigned long long)last);
		o->nonce = w->nonce;
	} else if (last == UINT64_MAX) {
		return nedb__err(NEDB_EREJECTED, "nonces of client '%s' are "
				 "used up", o->client);
	} else
		o->nonce = last + 1;
	return 0;
}

/*
 * The receipt of a write whose effect is there already (an index or an
 * edge that exists): o's members, no seq or hash, exists set.  Nothing
 * is staged.
 */
static int
exists_receipt(nedb_receipt *receipt, const struct op *o)
{
	int rc;

	if (!receipt)
		return 0;
	if ((rc = nedb__receipt_of(receipt, o)))
		return rc;
	receipt->seq = 0;
	receipt->hash[0] = 0;
	receipt->exists = 1;
	return 0;
}

static bool
json_number(const char *s)
{
	double d;

	/* a JSON number (RFC 8259 syntax) from 0 to 1 */
	if (nedb__number_len(s, strlen(s)) != strlen(s) || !*s)
		return false;
	d = strtod(s, NULL);
	return d >= 0 && d <= 1;
}

/* Checks the provenance options of a put and fills them into o. */
static int
provenance(nedb *db, const nedb_put *p, struct op *o, nedb_buf *cb)
{
	if (p->ncaused_by) {
		nedb_buf_add(cb, "[", 1);
		for (size_t i = 0; i < p->ncaused_by; i++) {
			if (p->caused_by[i] > db->wa.seq)
				return nedb__err(NEDB_EINPUT, "bad caused-by "
						 "seq %llu: no such op yet",
						 (unsigned long long)
						 p->caused_by[i]);
			if (i)
				nedb_buf_add(cb, ",", 1);
			nedb__buf_u64(cb, p->caused_by[i]);
		}
		nedb_buf_add(cb, "]", 1);
		o->caused_by = cb->p;
		o->caused_by_len = cb->len;
	}
	if (p->confidence) {
		if (!json_number(p->confidence))
			return nedb__err(NEDB_EINPUT, "bad confidence '%s': "
					 "want a number from 0 to 1",
					 p->confidence);
		o->confidence = p->confidence;
		o->confidence_len = strlen(p->confidence);
	}
	if ((p->evidence && nedb_check_id(p->evidence, strlen(p->evidence))) ||
	    (p->valid_from && nedb_check_id(p->valid_from,
					    strlen(p->valid_from))) ||
	    (p->valid_to && nedb_check_id(p->valid_to, strlen(p->valid_to))))
		return nedb__err(NEDB_EINPUT, "bad provenance text: want 1-400 "
				 "bytes of UTF-8, no control characters");
	if (p->evidence)	/* else the write options' (check_wopts) */
		o->evidence = p->evidence;
	o->valid_from = p->valid_from;
	o->valid_to = p->valid_to;
	return 0;
}

/*
 * Sets member key of the put's document to val: the text becomes own's
 * (copied from the caller's the first time it changes).
 */
static int
put_doc_set(struct op *o, nedb_buf *own, const char *key, const char *val,
	    size_t vlen, bool first)
{
	int rc;

	if (o->doc != own->p) {
		own->len = 0;
		if ((rc = nedb_buf_add(own, o->doc, o->doclen)))
			return rc;
	}
	if ((rc = nedb__doc_set(own, key, val, vlen, first)))
		return rc;
	o->doc = own->p;
	o->doclen = own->len;
	return 0;
}

/* Sets the document's "_id" to id where it is not that already (the
 * last "_id" counts, as in jq): the text may change, into own. */
static int
put_doc_id(struct op *o, nedb_buf *own)
{
	nedb_buf lit = {0};
	const char *v;
	size_t vlen;
	int rc;

	if ((rc = nedb_buf_json_str(&lit, o->id, strlen(o->id))))
		return rc;
	if (!nedb__doc_member(o->doc, o->doclen, "_id", &v, &vlen) ||
	    vlen != lit.len || memcmp(v, lit.p, vlen))
		rc = put_doc_set(o, own, "_id", lit.p, lit.len, true);
	nedb_buf_free(&lit);
	return rc;
}

int
nedb_put_prepare(const nedb_put *p, nedb_buf *doc, char **id)
{
	struct op o;
	const char *v;
	size_t vlen;
	int rc;

	*id = NULL;
	if ((rc = nedb_check_coll(p->coll)))
		return rc;
	if (!p->doc || !p->doclen)
		return nedb__err(NEDB_EINPUT, "not JSON: empty input");
	if (p->doclen > MAX_DOC + (MAX_DOC >> 2))
		return nedb__err(NEDB_EINPUT, "document too large: more than "
				 "%u bytes", MAX_DOC);
	doc->len = 0;
	if ((rc = nedb__doc_normalize(doc, p->doc, p->doclen)))
		return rc;
	if (p->id) {
		if ((rc = nedb_check_id(p->id, strlen(p->id))))
			return rc;
		goto place;
	}
	{
		const char *f = p->id_field ? p->id_field : "_id";

		if (!nedb__doc_member(doc->p, doc->len, f, &v, &vlen))
			return nedb__err(NEDB_EINPUT, "document has no \"%s\" "
					 "member", f);
		if (*v != '"')
			return nedb__err(NEDB_EINPUT, "document's \"%s\" is "
					 "not a string", f);
	}
	/* the common id needs no decoding: no escapes */
	if (!memchr(v, '\\', vlen)) {
		if (!(*id = nedb__memdup(v + 1, vlen - 2)))
			return nedb__err(NEDB_EIO, "out of memory");
	} else if ((rc = nedb__json_string(v, vlen, id)))
		return rc;
	if ((rc = nedb_check_id(*id, strlen(*id))))
		goto fail;
	/* an id read from the document's own _id is in place */
	if (!p->id_field || !strcmp(p->id_field, "_id"))
		return 0;
place:
	/* a merge's _id is settled by nedb_write_put, after the merge */
	if (p->merge)
		return 0;
	memset(&o, 0, sizeof o);
	o.id = p->id ? p->id : *id;
	o.doc = doc->p;
	o.doclen = doc->len;
	if (!(rc = put_doc_id(&o, doc)))
		return 0;
fail:
	free(*id);
	*id = NULL;
	return rc;
}

/*
 * The text a put stages, from o->doc (compact and valid): merged into
 * the current version cur when p->merge, "_id" set to the id where
 * nedb_put_prepare has not placed it, "_tags" set from p->tags.  The
 * text stays the caller's (no copy) until one of these changes it; then
 * it is own's.
 */
static int
put_doc(const nedb_put *p, struct op *o, const char *cur, size_t curlen,
	nedb_buf *own)
{
	nedb_buf lit = {0};
	int rc = 0;

	if (p->merge && cur) {
		nedb_buf base = {0};

		if ((rc = nedb_buf_add(&base, cur, curlen)) ||
		    (rc = nedb__doc_merge(&base, o->doc, o->doclen))) {
			nedb_buf_free(&base);
			return rc;
		}
		nedb_buf_free(own);
		*own = base;
		o->doc = own->p;
		o->doclen = own->len;
	}
	/* "_id" is in place unless merged, or prepared by the caller (who
	 * may reuse a document under another id, as RENAME does), unless
	 * the caller says the pair is nedb_put_prepare's own */
	if ((p->merge || (p->prepared && p->prepared != NEDB_PREPARED_ID)) &&
	    (rc = put_doc_id(o, own)))
		return rc;
	if (p->ntags) {
		rc = nedb_buf_add(&lit, "[", 1);
		for (size_t i = 0; i < p->ntags && !rc; i++)
			rc = (i && nedb_buf_add(&lit, ",", 1)) ||
			     nedb_buf_json_str(&lit, p->tags[i],
					       strlen(p->tags[i])) ?
			     NEDB_EIO : 0;
		if (!rc && !(rc = nedb_buf_add(&lit, "]", 1)))
			rc = put_doc_set(o, own, "_tags", lit.p, lit.len,
					 false);
		nedb_buf_free(&lit);
		if (rc)
			return rc;
	}
	if (o->doclen > MAX_DOC)
		rc = nedb__err(NEDB_EINPUT, "document too large: more than "
			       "%u bytes", MAX_DOC);
	return rc;
}

/*
 * The time at which a write asks whether a document is live: the op's,
 * or with keep_expired none (0: every document is, its expiry aside).
 */
static int64_t
live_at(const nedb_wopts *w, int64_t ts)
{
	return w && w->keep_expired ? 0 : ts;
}

/*
 * A put, in the order its checks run: the document and the id (the
 * caller's when prepared, else nedb_put_prepare's: checked and "_id"
 * placed once, then trusted), the write options and the key or nonce
 * (pre_write), the precondition, the text to stage (put_doc), expiry
 * and provenance.
 */
static int patch_depth(nedb *db, const char *coll, const char *id,
		       uint64_t base, unsigned *depth);

/*
 * A put that may be a patch (nedb_put.patch): when the document is large
 * and the bytes between the longest common prefix and suffix of its
 * latest version's text and the new text are few, o becomes a patch op
 * of one operator, {"$text":[OFFSET,LENGTH,"TEXT"]}: those bytes of the
 * old text replaced by TEXT (query/update.c's nedb__patch_doc), in upd.
 * The cut is at UTF-8 character boundaries, so TEXT is a string.  Only
 * for a version whose expiry the put keeps, and without a put's
 * provenance, which a patch does not carry.  cur (h its header) is the
 * latest version when the caller read it; else it is read here.
 */
static int
as_patch(nedb *db, const nedb_put *p, struct op *o, const struct dochdr *hp,
	 const char *cur, size_t curlen, nedb_buf *upd)
{
	struct dochdr h;
	size_t pre = 0, suf = 0, n;
	unsigned depth;
	int rc;

	if (db->log_format < 2 || o->doclen < PATCH_MIN || o->caused_by ||
	    o->confidence || o->valid_from || o->valid_to || p->evidence)
		return 0;
	if (!cur) {
		rc = nedb__doc_head(&db->view, db->wtxn, o->coll, o->id,
				    strlen(o->id), live_at(&p->w, o->ts), &h,
				    &cur, &curlen);
		if (rc)
			return rc == NEDB_ENOTFOUND ? 0 : rc;
		hp = &h;
	}
	if (hp->exp != o->exp)
		return 0;
	n = curlen < o->doclen ? curlen : o->doclen;
	while (pre < n && cur[pre] == o->doc[pre])
		pre++;
	while (suf < n - pre &&
	       cur[curlen - 1 - suf] == o->doc[o->doclen - 1 - suf])
		suf++;
	/* not inside a character: a continuation byte starts no cut */
	while (pre && ((unsigned char)o->doc[pre] & 0xc0) == 0x80)
		pre--;
	while (suf && ((unsigned char)o->doc[o->doclen - suf] & 0xc0) ==
	       0x80)
		suf--;
	if (o->doclen - pre - suf > o->doclen / 4)
		return 0;
	if ((rc = patch_depth(db, o->coll, o->id, hp->seq, &depth)))
		return rc;
	if (depth >= PATCH_MAX)
		return 0;
	if (nedb_buf_puts(upd, "{\"$text\":[") ||
	    nedb__buf_u64(upd, pre) || nedb_buf_add(upd, ",", 1) ||
	    nedb__buf_u64(upd, curlen - pre - suf) ||
	    nedb_buf_add(upd, ",", 1) ||
	    nedb_buf_json_str(upd, o->doc + pre, o->doclen - pre - suf) ||
	    nedb_buf_add(upd, "]}", 2))
		return nedb__err(NEDB_EIO, "out of memory");
	o->kind = OP_PATCH;
	o->base = hp->seq;
	o->doc = upd->p;
	o->doclen = upd->len;
	o->exp = 0;
	return 0;
}

int
nedb_write_put(nedb *db, const nedb_put *p, nedb_receipt *receipt)
{
	nedb_buf own = {0}, prov = {0}, upd = {0};
	struct op o = {.kind = OP_PUT};
	char *idbuf = NULL;
	struct dochdr h;
	const char *cur;
	size_t curlen;
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	if (p->prepared) {
		o.doc = p->doc;
		o.doclen = p->doclen;
	} else if ((rc = nedb_put_prepare(p, &own, &idbuf))) {
		goto done;
	} else {
		o.doc = own.p;
		o.doclen = own.len;
	}
	o.id = p->id ? p->id : idbuf;
	if ((rc = pre_write(db, &p->w, &o, receipt))) {
		rc = rc == 1 ? 0 : rc;
		goto done;
	}
	o.coll = p->coll;
	/* set even when p is no plain put: the reader waits for it */
	o.ahead = p->ahead;
	o.ts = ahead_ts(db, ahead_plain(p) ? p->ahead : NULL);
	/* the current version, when something depends on it */
	cur = NULL;
	if (p->if_seq || p->if_absent || p->merge ||
	    (p->keep_ttl && p->ttl_ms <= 0)) {
		rc = nedb__doc_head(&db->view, db->wtxn, o.coll, o.id,
				    strlen(o.id), live_at(&p->w, o.ts), &h,
				    &cur, &curlen);
		if (rc == NEDB_ENOTFOUND)
			cur = NULL;
		else if (rc)
			goto done;
	}
	if ((p->if_seq || p->if_absent) &&
	    (p->if_absent ? 0 : p->if_seq) != (cur ? h.seq : 0)) {
		rc = nedb__err(NEDB_EREJECTED, "precondition failed: '%s/%s' "
			       "is at seq %llu, not %llu", o.coll, o.id,
			       (unsigned long long)(cur ? h.seq : 0),
			       (unsigned long long)(p->if_absent ? 0 :
						    p->if_seq));
		goto done;
	}
	if ((rc = put_doc(p, &o, cur, curlen, &own)))
		goto done;
	o.exp = p->exp_at > 0 ? p->exp_at : p->ttl_ms > 0 ? o.ts + p->ttl_ms :
		p->keep_ttl && cur ? h.exp : 0;
	if ((rc = provenance(db, p, &o, &prov)))
		goto done;
	if (p->patch && (rc = as_patch(db, p, &o, cur ? &h : NULL, cur,
				       curlen, &upd)))
		goto done;
	rc = stage(db, &o, receipt);
done:
	nedb_buf_free(&own);
	nedb_buf_free(&prov);
	nedb_buf_free(&upd);
	free(idbuf);
	return rc;
}

/*
 * How many patches in a row end at version base of coll/id (0 when it
 * is a put), counting up to PATCH_MAX: the versions index, walked back.
 */
static int
patch_depth(nedb *db, const char *coll, const char *id, uint64_t base,
	    unsigned *depth)
{
	unsigned char key[VERKEY_MAX], pre[VERKEY_MAX];
	struct kvcur c;
	struct verent ve;
	MDB_val k, d;
	size_t plen;
	uint64_t s;
	int rc;

	*depth = 0;
	plen = nedb__verprefix(pre, coll, id, strlen(id));
	k.mv_size = nedb__verkey(key, coll, id, strlen(id), base);
	k.mv_data = key;
	if ((rc = nedb__kv_copen(&c, &db->view, db->wtxn, DBI_VERS)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&c, &k, &d, MDB_SET_KEY);
	     !rc && *depth < PATCH_MAX;
	     rc = nedb__kv_cget(&c, &k, &d, MDB_PREV)) {
		if (!nedb__verkey_seq(k.mv_data, k.mv_size, pre, plen, &s))
			break;
		memcpy(&ve, d.mv_data, sizeof ve);
		if (ve.kind != OP_PATCH)
			break;
		(*depth)++;
	}
	nedb__kv_cclose(&c);
	return rc && rc != MDB_NOTFOUND ? nedb__mdb(rc, "cannot read view") :
	       0;
}

int
nedb__write_change(nedb *db, const nedb_put *p, const char *upd,
		   size_t updlen, nedb_receipt *receipt)
{
	struct op o = {.kind = OP_PATCH};
	nedb_buf doc = {0};
	struct dochdr h;
	const char *cur;
	size_t curlen;
	unsigned depth;
	int64_t ts;
	bool same;
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	/* only format 2 can erase a patch's update as it erases a put's
	 * document; a small document is cheaper whole */
	if (db->log_format < 2 || p->doclen < PATCH_MIN ||
	    updlen > p->doclen / 4)
		return nedb_write_put(db, p, receipt);
	ts = next_ts(db);
	rc = nedb__doc_head(&db->view, db->wtxn, p->coll, p->id,
			    strlen(p->id), live_at(&p->w, ts), &h, &cur,
			    &curlen);
	if (rc == NEDB_ENOTFOUND)
		return nedb_write_put(db, p, receipt);
	if (rc)
		return rc;
	/* the patch must make exactly the text a put would hold */
	rc = nedb__patch_doc(&doc, cur, curlen, upd, updlen);
	same = !rc && doc.len == p->doclen && !memcmp(doc.p, p->doc,
						      doc.len);
	nedb_buf_free(&doc);
	if (rc == NEDB_EIO)
		return rc;
	if (!same)
		return nedb_write_put(db, p, receipt);
	if ((rc = patch_depth(db, p->coll, p->id, h.seq, &depth)))
		return rc;
	if (depth >= PATCH_MAX)
		return nedb_write_put(db, p, receipt);
	o.id = p->id;
	if ((rc = pre_write(db, &p->w, &o, receipt)))
		return rc == 1 ? 0 : rc;
	o.coll = p->coll;
	o.ts = ts;
	o.base = h.seq;
	o.doc = upd;
	o.doclen = updlen;
	return stage(db, &o, receipt);
}

/*
 * After a Redis operator's patch: when the bytes of patches since the
 * value's last put reach its size, a put of its text (a full version,
 * doc/ochange.md §7.3; the view then changes its header only), so that
 * reading a past version applies at most about one value's worth.
 */
static int
full_version(nedb *db, const char *coll, const char *id, const nedb_wopts *w)
{
	nedb_wopts fw = *w;
	nedb_put p = {.coll = coll, .id = id, .keep_ttl = 1, .prepared = 1};
	struct dochdr h;
	struct elhdr e;
	nedb_buf text = {0};
	const char *doc;
	size_t len;
	int rc;

	rc = nedb__el_head(&db->view, db->wtxn, coll, id, strlen(id), 0, &h,
			   &e);
	if (rc)
		return rc < 0 && rc != NEDB_ENOTFOUND ? rc : 0;
	if (e.since < nedb__el_textlen(&e))
		return 0;
	if ((rc = nedb__doc_head(&db->view, db->wtxn, coll, id, strlen(id),
				 0, &h, &doc, &len)))
		return rc;
	if (nedb_buf_add(&text, doc, len)) {
		nedb_buf_free(&text);
		return nedb__err(NEDB_EIO, "out of memory");
	}
	fw.idem = NULL;		/* the patch's; this op is another */
	fw.nonce = 0;
	fw.keep_expired = 1;
	p.doc = text.p;
	p.doclen = text.len;
	p.w = fw;
	rc = nedb_write_put(db, &p, NULL);
	nedb_buf_free(&text);
	return rc;
}

int
nedb__write_ops(nedb *db, const char *coll, const char *id, const char *upd,
		size_t updlen, const nedb_wopts *w, nedb_receipt *receipt)
{
	struct op o = {.kind = OP_PATCH};
	struct dochdr h;
	struct elhdr e;
	int64_t ts;
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	if (db->log_format < 2)
		return 1;
	ts = next_ts(db);
	rc = nedb__el_head(&db->view, db->wtxn, coll, id, strlen(id),
			   live_at(w, ts), &h, &e);
	if (rc)
		return rc == NEDB_ENOTFOUND ? 1 : rc;
	o.id = id;
	if ((rc = pre_write(db, w, &o, receipt)))
		return rc == 1 ? 0 : rc;
	o.coll = coll;
	o.ts = ts;
	o.base = h.seq;
	o.doc = upd;
	o.doclen = updlen;
	if ((rc = stage(db, &o, receipt)))
		return rc;
	return full_version(db, coll, id, w);
}

/*
 * The ops on one live document that carry no new text: delete, and
 * expire (ttl_ms > 0: from now; 0: never).  NEDB_ENOTFOUND when there is
 * no live document.
 */
static int
doc_op(nedb *db, enum op_kind kind, const char *coll, const char *id,
       int64_t ttl_ms, const nedb_wopts *w, nedb_receipt *receipt)
{
	struct op o = {.kind = kind};
	struct dochdr h;
	const char *doc;
	size_t len;
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	if ((rc = nedb_check_coll(coll)) ||
	    (rc = nedb_check_id(id, strlen(id))))
		return rc;
	if ((rc = pre_write(db, w, &o, receipt)))
		return rc == 1 ? 0 : rc;
	o.coll = coll;
	o.id = id;
	o.ts = next_ts(db);
	rc = nedb__doc_head(&db->view, db->wtxn, coll, id, strlen(id),
			    live_at(w, o.ts), &h, &doc, &len);
	if (rc == NEDB_ENOTFOUND)
		return nedb__err(NEDB_ENOTFOUND, "no document '%s/%s'", coll,
				 id);
	if (rc)
		return rc;
	if (kind == OP_EXPIRE)
		o.exp = ttl_ms > 0 ? o.ts + ttl_ms : 0;
	return stage(db, &o, receipt);
}

int
nedb_write_delete(nedb *db, const char *coll, const char *id,
		  const nedb_wopts *w, nedb_receipt *receipt)
{
	return doc_op(db, OP_DELETE, coll, id, 0, w, receipt);
}

/*
 * The put versions of coll/id a redaction erases, as the text of a JSON
 * array in *seqs: seq, or with seq 0 every one not erased already.
 */
static int
redact_versions(nedb *db, const char *coll, const char *id, uint64_t seq,
		nedb_buf *seqs)
{
	unsigned char key[VERKEY_MAX], pre[VERKEY_MAX];
	struct kvcur c = {NULL};
	nedb_buf line = {0};
	MDB_val k, d;
	size_t plen, n = 0, puts = 0;
	bool found = false, run = false;
	int rc;

	plen = nedb__verprefix(pre, coll, id, strlen(id));
	k.mv_size = nedb__verkey(key, coll, id, strlen(id), 0);
	k.mv_data = key;
	nedb_buf_add(seqs, "[", 1);
	if ((rc = nedb__kv_copen(&c, &db->view, db->wtxn, DBI_VERS)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&c, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&c, &k, &d, MDB_NEXT)) {
		struct seqent se;
		struct verent ve;
		const char *doc;
		size_t doclen;
		uint64_t s;

		if (!nedb__verkey_seq(k.mv_data, k.mv_size, pre, plen, &s))
			break;
		memcpy(&ve, d.mv_data, sizeof ve);
		/* version seq, and the patches after it: they cannot be
		 * read without it */
		if (!OP_IS_VERSION(ve.kind) ||
		    (seq && s != seq && !(run && ve.kind == OP_PATCH))) {
			run = false;
			continue;
		}
		run = true;
		puts++;
		if ((rc = nedb__op_line(db, s, &line, &se)))
			break;
		if (!nedb__log_doc(line.p, line.len, &doc, &doclen))
			continue;	/* its tail says redacted */
		if (n++)
			nedb_buf_add(seqs, ",", 1);
		nedb__buf_u64(seqs, s);
		found = true;
	}
	nedb__kv_cclose(&c);
	nedb_buf_free(&line);
	if ((rc = nedb__mdb_end(rc)))
		return rc;
	if (nedb_buf_add(seqs, "]", 1))
		return nedb__err(NEDB_EIO, "out of memory");
	if (found)
		return 0;
	if (!puts && seq)
		return nedb__err(NEDB_ENOTFOUND, "no version %llu of "
				 "'%s/%s'", (unsigned long long)seq, coll, id);
	if (!puts)
		return nedb__err(NEDB_ENOTFOUND, "no document '%s/%s'", coll,
				 id);
	if (seq)
		return nedb__err(NEDB_EREJECTED, "version %llu of '%s/%s' is "
				 "redacted already", (unsigned long long)seq,
				 coll, id);
	return nedb__err(NEDB_EREJECTED, "every version of '%s/%s' is "
			 "redacted already", coll, id);
}

int
nedb__stage_redact(nedb *db, const char *coll, const char *id, uint64_t seq,
		   const char *reason, const nedb_wopts *w,
		   nedb_receipt *receipt, nedb_buf *line, nedb_buf *seqs)
{
	struct op o = {.kind = OP_REDACT};
	size_t mark = db->wlog.len;
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	if (db->eng)
		return nedb__err(NEDB_EUSAGE, "cannot redact in database '%s': "
				 "its log is on an engine (%s), whose rows a "
				 "redaction would have to erase too; not "
				 "supported yet", db->dir,
				 nedb__engine_url(db->eng));
	if (db->log_format < 2)
		return nedb__err(NEDB_EIO, "cannot redact in database '%s': "
				 "it is in log format 1, whose puts hold their "
				 "document where it cannot be erased; only a "
				 "database created in format 2 (the default) "
				 "can redact", db->dir);
	if ((rc = nedb_check_coll(coll)) ||
	    (rc = nedb_check_id(id, strlen(id))))
		return rc;
	if (reason && (strlen(reason) > 1024 ||
		       !nedb__utf8_valid((const unsigned char *)reason,
					 strlen(reason))))
		return nedb__err(NEDB_EINPUT, "bad reason: want at most 1024 "
				 "bytes of UTF-8");
	if ((rc = pre_write(db, w, &o, receipt)))
		return rc == 1 ? 0 : rc;
	if ((rc = redact_versions(db, coll, id, seq, seqs)))
		return rc;
	o.coll = coll;
	o.id = id;
	o.seqs = seqs->p;
	o.seqs_len = seqs->len;
	o.reason = reason;
	o.ts = next_ts(db);
	if ((rc = stage(db, &o, receipt)))
		return rc;
	return nedb_buf_add(line, db->wlog.p + mark, db->wlog.len - mark);
}

int
nedb_check_node(const char *node)
{
	const char *colon = strchr(node, ':');
	char coll[MAX_COLL + 1];
	size_t c;

	if (!colon || (c = (size_t)(colon - node)) == 0 || c > MAX_COLL)
		return nedb__err(NEDB_EINPUT, "bad node '%.80s': want "
				 "COLL:ID", node);
	memcpy(coll, node, c);
	coll[c] = 0;
	if (nedb_check_coll(coll) || nedb_check_id(colon + 1,
						   strlen(colon + 1)))
		return nedb__err(NEDB_EINPUT, "bad node '%.80s': want "
				 "COLL:ID", node);
	return 0;
}

static int
check_rel(const char *rel)
{
	size_t n = strlen(rel);

	if (n == 0 || n > MAX_REL)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		char c = rel[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') ||
		      (i && ((c >= '0' && c <= '9') || c == ':' || c == '-'))))
			goto bad;
	}
	return 0;
bad:
	return nedb__err(NEDB_EINPUT, "bad relation '%.80s': want "
			 "[A-Za-z_][A-Za-z0-9_:-]*, 1-64 chars", rel);
}

int
nedb_write_link(nedb *db, const char *from, const char *rel, const char *to,
		int unlink, const nedb_wopts *w, nedb_receipt *receipt)
{
	struct op o = {.kind = unlink ? OP_UNLINK : OP_LINK};
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	if ((rc = nedb_check_node(from)) || (rc = nedb_check_node(to)) ||
	    (rc = check_rel(rel)))
		return rc;
	if ((rc = pre_write(db, w, &o, receipt)))
		return rc == 1 ? 0 : rc;	/* 1: an idempotent retry */
	o.from = from;
	o.rel = rel;
	o.to = to;
	{
		unsigned char k[EDGEKEY_MAX];
		uint64_t a, b;
		MDB_val kv, d;
		bool have = false;

		if (!nedb__node_number(&db->view, db->wtxn, from, false, &a) &&
		    !nedb__node_number(&db->view, db->wtxn, to, false, &b)) {
			kv.mv_size = nedb__edgekey(k, a, rel, b);
			kv.mv_data = k;
			have = !nedb__kv_get(&db->view, db->wtxn, DBI_EDGES,
					     &kv, &d);
		}
		if (unlink && !have)
			return nedb__err(NEDB_ENOTFOUND, "no edge %s -%s-> %s",
					 from, rel, to);
		if (!unlink && have)	/* nothing to append */
			return exists_receipt(receipt, &o);
	}
	o.ts = next_ts(db);
	return stage(db, &o, receipt);
}

/* Stages an index op (create) or, with drop, an unindex op. */
static int
index_op(nedb *db, const char *coll, const char *field, const char *kind,
	 bool drop, const nedb_wopts *w, nedb_receipt *receipt)
{
	struct op o = {.kind = drop ? OP_UNINDEX : OP_INDEX};
	unsigned have;
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	if ((rc = nedb_check_coll(coll)) || (rc = nedb__check_field(field)))
		return rc;
	if (kind && !nedb__index_kind(kind))
		return nedb__err(NEDB_EUSAGE, "bad index kind '%s': want eq, "
				 "ordered or search", kind);
	o.coll = coll;
	o.field = field;
	o.ixkind = kind;
	have = nedb__index_kinds(&db->view, db->wtxn, coll, field);
	if (kind)
		have &= NEDB__IX_BIT(nedb__index_kind(kind));
	if (!drop && have)	/* nothing to append */
		return exists_receipt(receipt, &o);
	if (drop && !have)
		return nedb__err(NEDB_ENOTFOUND, "no %s%sindex on %s.%s",
				 kind ? kind : "", kind ? " " : "", coll,
				 field);
	if ((rc = pre_write(db, w, &o, receipt)))
		return rc == 1 ? 0 : rc;
	o.ts = next_ts(db);
	return stage(db, &o, receipt);
}

int
nedb_write_index(nedb *db, const char *coll, const char *field,
		 const char *kind, const nedb_wopts *w, nedb_receipt *receipt)
{
	return index_op(db, coll, field, kind, !kind, w, receipt);
}

int
nedb_write_unindex(nedb *db, const char *coll, const char *field,
		   const char *kind, const nedb_wopts *w,
		   nedb_receipt *receipt)
{
	return index_op(db, coll, field, kind, true, w, receipt);
}

int
nedb_write_drop(nedb *db, const char *coll, const nedb_wopts *w,
		nedb_receipt *receipt)
{
	struct op o = {.kind = OP_DROP};
	MDB_val kv = {strlen(coll), (void *)coll}, d;
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	if ((rc = nedb_check_coll(coll)))
		return rc;
	if (nedb__kv_get(&db->view, db->wtxn, DBI_COLLS, &kv, &d))
		return nedb__err(NEDB_ENOTFOUND, "no collection '%s'", coll);
	if ((rc = pre_write(db, w, &o, receipt)))
		return rc == 1 ? 0 : rc;
	o.coll = coll;
	o.ts = next_ts(db);
	return stage(db, &o, receipt);
}

/*
 * A version of a file (lib/file/file.c builds o: name, size, chunks,
 * root, manifest; the chunks are in the store already).  Its number is
 * one more than the name's last, read under the writer lock, so two
 * puts of one name get consecutive versions whatever their order.
 */
int
nedb__stage_file(nedb *db, struct op *o, const nedb_wopts *w,
		 nedb_receipt *receipt)
{
	uint64_t last;
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	o->kind = OP_FILE;
	if ((rc = pre_write(db, w, o, receipt)))
		return rc;		/* 1: an idempotent retry */
	if ((rc = nedb__file_last(&db->view, db->wtxn, o->name, &last)))
		return rc;
	if (last >= INT64_MAX)
		return nedb__err(NEDB_EREJECTED, "file '%s' has no version "
				 "numbers left", o->name);
	o->fversion = (int64_t)last + 1;
	o->ts = next_ts(db);
	return stage(db, o, receipt);
}

int
nedb_write_expire(nedb *db, const char *coll, const char *id, int64_t ttl_ms,
		  const nedb_wopts *w, nedb_receipt *receipt)
{
	return doc_op(db, OP_EXPIRE, coll, id, ttl_ms, w, receipt);
}

/* Calls fn with the document key of each entry expired at now, oldest
 * first. */
static int
each_expired(nedb *db, MDB_txn *txn, int64_t now,
	     void (*fn)(const void *dk, size_t dklen, void *payload),
	     void *payload)
{
	unsigned char start[8];
	MDB_val k = {nedb__ttlkey(start, 0, NULL, 0), start}, d;
	struct kvcur cur;
	int rc;

	if ((rc = nedb__kv_copen(&cur, &db->view, txn, DBI_TTL)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
		const void *dk;
		size_t dklen;
		int64_t exp;

		if (!nedb__ttlkey_get(k.mv_data, k.mv_size, &exp, &dk, &dklen) ||
		    exp > now)
			break;
		fn(dk, dklen, payload);
	}
	nedb__kv_cclose(&cur);
	return nedb__mdb_end(rc);
}

static void
gather_key(const void *dk, size_t dklen, void *payload)
{
	nedb_buf_add(payload, dk, dklen);
	nedb_buf_add(payload, "\n", 1);	/* ids hold no control chars */
}

static void
count_key(const void *dk, size_t dklen, void *payload)
{
	(*(uint64_t *)payload)++;
}

int
nedb_write_sweep(nedb *db, int64_t now, uint64_t *deleted)
{
	nedb_buf keys = {0};
	int rc;

	*deleted = 0;
	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	/* gather first: deletes change the ttl table under the cursor */
	if ((rc = each_expired(db, db->wtxn, now, gather_key, &keys))) {
		nedb_buf_free(&keys);
		return rc;
	}
	for (size_t i = 0; i < keys.len && !rc;) {
		char *nl = memchr(keys.p + i, '\n', keys.len - i);
		struct op o = {.kind = OP_DELETE};
		const char *coll, *id;
		size_t clen, idlen;

		*nl = 0;
		if (!nedb__dockey_split(keys.p + i, (size_t)(nl - keys.p) - i,
					&coll, &clen, &id, &idlen))
			break;		/* not a docs key: a damaged entry */
		o.coll = coll;
		o.id = id;
		i = (size_t)(nl - keys.p) + 1;
		if ((rc = pre_write(db, NULL, &o, NULL)) < 0)
			break;
		o.ts = next_ts(db);
		if (!(rc = stage(db, &o, NULL)))
			(*deleted)++;
	}
	nedb_buf_free(&keys);
	return rc;
}

int
nedb_expired_pending(nedb *db, int64_t now, uint64_t *n)
{
	MDB_txn *txn;
	int rc;

	*n = 0;
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	rc = each_expired(db, txn, now, count_key, n);
	nedb__txn_done(db, txn);
	return rc;
}

int
nedb_ttl_count(nedb *db, const char *coll, int64_t now, uint64_t *n,
	       int64_t *avg_ms)
{
	unsigned char start[8];
	MDB_val k = {nedb__ttlkey(start, 0, NULL, 0), start}, d;
	size_t want = strlen(coll);
	long double sum = 0;
	struct kvcur cur;
	MDB_txn *txn;
	int rc;

	*n = 0;
	*avg_ms = 0;
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if ((rc = nedb__kv_copen(&cur, &db->view, txn, DBI_TTL))) {
		nedb__txn_done(db, txn);
		return nedb__mdb(rc, "cannot read view");
	}
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
		const void *dk;
		const char *c, *id;
		size_t dklen, clen, idlen;
		int64_t exp;

		if (!nedb__ttlkey_get(k.mv_data, k.mv_size, &exp, &dk, &dklen))
			break;
		if (exp <= now || !nedb__dockey_split(dk, dklen, &c, &clen,
						       &id, &idlen) ||
		    clen != want || memcmp(c, coll, want))
			continue;
		(*n)++;
		sum += (long double)(exp - now);
	}
	nedb__kv_cclose(&cur);
	rc = nedb__mdb_end(rc);
	nedb__txn_done(db, txn);
	if (!rc && *n)
		*avg_ms = (int64_t)(sum / (long double)*n);
	return rc;
}

int
nedb_write_checkpoint(nedb *db, nedb_receipt *receipt)
{
	struct op o = {.kind = OP_CHECKPOINT};
	unsigned char log_state[HASH_LEN], texts[HASH_LEN], log_texts[HASH_LEN];
	int rc;

	if (!db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	if ((rc = nedb__view_digest(&db->view, db->wtxn, o.state, texts)) ||
	    (rc = nedb__replay_digest(db, db->wbase_end, db->wlog.p,
				      db->wlog.len, log_state, log_texts)))
		return rc;
	/* the documents' text too: a format-2 state leaves it out */
	if (memcmp(o.state, log_state, HASH_LEN) ||
	    memcmp(texts, log_texts, HASH_LEN))
		return nedb__err(NEDB_ECORRUPT, "the view does not match the "
				 "log (a replay gives another state); nothing "
				 "written: run nedb-checkpoint --rebuild");
	o.ts = next_ts(db);
	return stage(db, &o, receipt);
}

/*
 * Rebuilds the view from the whole log under the writer lock.  Unlike a
 * write it does not first hold the view against the log: it is the way
 * out when they disagree (a view ahead of a log that lost its tail to an
 * OS crash in safe or fast mode).  Damage inside the log still stops it.
 */
int
nedb_rebuild(nedb *db)
{
	struct applied was;
	int rc;

	if ((rc = write_ready(db)) || (rc = nedb__wlock(db, true)))
		return rc;
	if ((rc = nedb__view_wbegin(&db->view, &db->wtxn))) {
		nedb__wunlock(db);
		return nedb__mdb(rc, "cannot lock database");
	}
	if (nedb__view_applied(&db->view, db->wtxn, &was))
		was.end = 0;
	if ((rc = nedb__follow_rotation(db)) ||
	    (rc = replay_all(db, CKPT_WARN, was.end)))
		goto fail;
	return commit_replayed(db);
fail:
	nedb_write_abort(db);
	return rc;
}

/*
 * Moves the ops before the latest checkpoint out of the hot log (the
 * file backend archives them, archive.c, and starts log.aof at it).
 * Under the writer lock; the view is not touched: its locators and
 * positions stay valid across a rotation (logstore.h, Contract 5).
 */
int
nedb_prune(nedb *db, nedb_prune_info *out)
{
	MDB_val k = {4, "ckpt"}, d;
	struct seqent se;
	uint64_t ckpt;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = nedb_write_begin(db)))
		return rc;
	if (nedb__kv_get(&db->view, db->wtxn, DBI_META, &k, &d) ||
	    d.mv_size != 8) {
		rc = nedb__err(NEDB_ENOTFOUND, "no checkpoint to prune before: "
			       "run nedb-checkpoint first");
		goto done;
	}
	nedb__num_get(d.mv_data, d.mv_size, &ckpt);
	if ((rc = nedb__op_line(db, ckpt, &db->scratch, &se)))
		goto done;
	rc = nedb__log_rotate(db, ckpt, &se.loc, out);
	db->size_checked = false;
done:
	nedb_write_abort(db);
	return rc;
}

/* Reads */

static bool
line_num(const char *line, size_t len, const char *key, int64_t *out)
{
	char pat[16];
	const char *p;

	snprintf(pat, sizeof pat, ",\"%s\":", key);
	p = memmem(line, len, pat, strlen(pat));
	if (!p)
		return false;
	*out = strtoll(p + strlen(pat), NULL, 10);
	return true;
}

/* Whether JSON string member key of line is the string s (as nedb
 * writes it: one escaping, so the literals compare byte for byte). */
static bool
member_is(const char *line, size_t len, const char *key, const char *s,
	  size_t slen, nedb_buf *tmp)
{
	const char *v;
	size_t vlen;

	tmp->len = 0;
	return nedb__doc_member(line, len, key, &v, &vlen) &&
	       !nedb_buf_json_str(tmp, s, slen) && vlen == tmp->len &&
	       !memcmp(v, tmp->p, vlen);
}

/*
 * A format-2 put line whose document was redacted (its tail checked by
 * nedb__op_line): the marker {"_id":ID,"_redacted":{"seq":R}} it reads
 * as (SPEC §9), written in out's room after the line, which keeps its
 * length, so that *doc is borrowed from out as a document is.
 */
static bool
redacted_version(nedb_buf *out, const char *id, size_t idlen,
		 const char **doc, size_t *doclen)
{
	size_t line = out->len, vlen;
	uint64_t r;
	const char *v;

	if (!nedb__doc_member(out->p, out->len, "redacted", &v, &vlen) ||
	    !(r = strtoull(v, NULL, 10)))
		return false;
	if (nedb_buf_add(out, "", 1) ||
	    nedb__redacted_doc(out, id, idlen, r) ||
	    nedb_buf_add(out, "", 1)) {
		out->len = line;
		return false;
	}
	*doc = out->p + line + 1;
	*doclen = out->len - line - 2;	/* the NUL before and after it */
	out->len = line;
	return true;
}

/*
 * Reads the op at seq from the log (hash-checked by nedb__op_line)
 * and checks that it is a version of coll/id: a put of that document
 * (its text in *doc, *doclen, borrowed from out), or with kind OP_DELETE
 * a delete of it or a drop of its collection.  The view says where a
 * version is; only the line says what it is, so a view edited to point
 * elsewhere is NEDB_ECORRUPT, never another document.
 */
int
nedb__read_version(nedb *db, uint64_t seq, int kind, const char *coll,
		   const char *id, size_t idlen, nedb_buf *out,
		   struct seqent *se, const char **doc, size_t *doclen)
{
	nedb_buf tmp = {0};
	const char *op;
	bool ok;
	int rc;

	*doc = NULL;
	*doclen = 0;
	if ((rc = nedb__op_line(db, seq, out, se)))
		return rc;
	if (OP_IS_VERSION(kind))
		op = kind == OP_PUT ? "put" : "patch";
	else if (nedb__doc_member(out->p, out->len, "op", doc, doclen) &&
		 *doclen == 6 && !memcmp(*doc, "\"drop\"", 6))
		op = "drop";
	else
		op = "delete";
	ok = member_is(out->p, out->len, "op", op, strlen(op), &tmp) &&
	     member_is(out->p, out->len, "coll", coll, strlen(coll), &tmp) &&
	     (!strcmp(op, "drop") ||
	      member_is(out->p, out->len, "id", id, idlen, &tmp));
	*doc = NULL;
	*doclen = 0;
	if (ok && OP_IS_VERSION(kind) && !nedb__log_doc(out->p, out->len, doc,
							doclen))
		ok = redacted_version(out, id, idlen, doc, doclen);
	nedb_buf_free(&tmp);
	if (!ok)
		return nedb__err(NEDB_ECORRUPT, "corrupt view: it points at "
				 "seq %llu for a version of '%s/%.*s', which "
				 "the log does not hold there; run "
				 "nedb-checkpoint --rebuild",
				 (unsigned long long)seq, coll, (int)idlen,
				 id);
	return 0;
}

/*
 * The text of version seq of coll/id, of kind kind (the vers table's):
 * nedb__read_version's, or for a patch the put it was made from changed
 * by the patches after it, in order.  The chain is the log's own: each
 * patch line names its base (the view only says where the last one is),
 * and each line read is checked as nedb__read_version checks it.  A run
 * of Redis operators is applied on one parse of the value
 * (nedb__redis_patches), so that thousands of them since the put cost
 * one parse and one print.  *doc is borrowed from out, which holds the
 * line of seq.
 */
int
nedb__version_text(nedb *db, uint64_t seq, int kind, const char *coll,
		   const char *id, size_t idlen, nedb_buf *out,
		   struct seqent *se, const char **doc, size_t *doclen)
{
	nedb_buf line = {0}, upds = {0}, work = {0}, next = {0};
	struct seqent tse;
	size_t *at = NULL, n = 0, cap = 0, linelen, *runlen = NULL;
	const char **run = NULL;
	const char *d, *sc;
	size_t dl, nsc;
	uint64_t s = seq;
	int64_t base;
	int rc;

	if (kind != OP_PATCH)
		return nedb__read_version(db, seq, kind, coll, id, idlen, out,
					  se, doc, doclen);
	/* back along the bases to the put, keeping each patch's update
	 * (an erased one as its marker, with a leading NUL to say so) */
	for (nedb_buf *b = out;; b = &line) {
		bool erased;

		if ((rc = nedb__read_version(db, s, OP_PATCH, coll, id, idlen,
					     b, b == out ? se : &tse, &d,
					     &dl)))
			goto done;
		erased = !nedb__log_doc(b->p, b->len, &sc, &nsc);
		nedb__log_scalars(b->p, b->len, &sc, &nsc);
		if (!line_num(sc, nsc, "base", &base) || base < 0 ||
		    (uint64_t)base >= s) {
			rc = nedb__err(NEDB_ECORRUPT, "corrupt log: patch op "
				       "%llu names no earlier base",
				       (unsigned long long)s);
			goto done;
		}
		if (n == cap) {
			size_t c = cap ? 2 * cap : 16, *x;

			if (!(x = nedb__realloc(at, c * sizeof *x))) {
				rc = nedb__err(NEDB_EIO, "out of memory");
				goto done;
			}
			at = x;
			cap = c;
		}
		at[n++] = upds.len;
		if ((erased && nedb_buf_add(&upds, "", 1)) ||
		    nedb_buf_add(&upds, d, dl) || nedb_buf_add(&upds, "", 1)) {
			rc = nedb__err(NEDB_EIO, "out of memory");
			goto done;
		}
		s = (uint64_t)base;
		if ((rc = nedb__op_line(db, s, &line, &tse)))
			goto done;
		if (member_is(line.p, line.len, "op", "put", 3, &next))
			break;
	}
	if ((rc = nedb__read_version(db, s, OP_PUT, coll, id, idlen, &line,
				     &tse, &d, &dl)) ||
	    (rc = nedb_buf_add(&work, d, dl) ? NEDB_EIO : 0))
		goto done;
	/* oldest first; a run of Redis operators on one parse of the value
	 * (an erased update, or any other, ends a run) */
	run = nedb__malloc((n ? n : 1) * sizeof *run);
	runlen = nedb__malloc((n ? n : 1) * sizeof *runlen);
	while (n) {
		const char *u = upds.p + at[n - 1];
		size_t k = 0;

		while (k < n && *(run[k] = upds.p + at[n - 1 - k]) &&
		       nedb__redis_patch_is(run[k], runlen[k] =
					    strlen(run[k])))
			k++;
		n -= k ? k : 1;
		next.len = 0;
		if (k)
			rc = nedb__redis_patches(&next, work.p, work.len, run,
						 runlen, k);
		else if (!*u)		/* erased: the version is its marker */
			rc = nedb_buf_puts(&next, u + 1) ? NEDB_EIO : 0;
		else
			rc = nedb__patch_doc(&next, work.p, work.len, u,
					     strlen(u));
		if (rc) {
			if (rc != NEDB_EIO)
				rc = nedb__err(NEDB_ECORRUPT, "corrupt log: a "
					       "patch of '%s/%.*s' before seq "
					       "%llu does not apply: %s", coll,
					       (int)idlen, id,
					       (unsigned long long)seq,
					       nedb_errmsg());
			goto done;
		}
		nedb_buf tmp = work;

		work = next;
		next = tmp;
	}
	/* the text after the line, as redacted_version leaves a marker */
	linelen = out->len;
	if (nedb_buf_add(out, "", 1) || nedb_buf_add(out, work.p, work.len) ||
	    nedb_buf_add(out, "", 1)) {
		out->len = linelen;
		rc = nedb__err(NEDB_EIO, "out of memory");
		goto done;
	}
	*doc = out->p + linelen + 1;
	*doclen = work.len;
	out->len = linelen;
done:
	free(at);
	free(run);
	free(runlen);
	nedb_buf_free(&line);
	nedb_buf_free(&upds);
	nedb_buf_free(&work);
	nedb_buf_free(&next);
	return rc;
}

/*
 * The version index's latest entry for coll/id at or before seq upto
 * (NEDB_HEAD: the latest of all): 0 with *seq and *ve, NEDB_ENOTFOUND
 * (no message) when the document had none by then, or another error.
 * The one as-of lookup: AS OF reads, scans of the past and verified
 * reads use it.
 */
int
nedb__version_at(nedb *db, MDB_txn *txn, const char *coll, const char *id,
		 size_t idlen, uint64_t upto, uint64_t *seq,
		 struct verent *ve)
{
	unsigned char key[VERKEY_MAX];
	size_t plen;
	struct kvcur cur;
	MDB_val k, d;
	int rc;

	if (idlen > MAX_ID)
		return NEDB_ENOTFOUND;
	plen = nedb__verprefix(key, coll, id, idlen);
	k.mv_size = nedb__verkey_bound(key, plen, upto);
	k.mv_data = key;
	if ((rc = nedb__kv_copen(&cur, &db->view, txn, DBI_VERS)))
		return nedb__mdb(rc, "cannot read view");
	/* the bound's key, or the end: the version before it */
	rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE);
	rc = nedb__kv_cget(&cur, &k, &d, rc == MDB_NOTFOUND ? MDB_LAST :
			    MDB_PREV);
	nedb__key_past(key, plen, false);	/* the prefix again */
	if (!rc && !nedb__verkey_seq(k.mv_data, k.mv_size, key, plen, seq))
		rc = MDB_NOTFOUND;
	if (!rc)
		memcpy(ve, d.mv_data, sizeof *ve);
	nedb__kv_cclose(&cur);
	return rc == MDB_NOTFOUND ? NEDB_ENOTFOUND :
	       nedb__mdb(rc, "cannot read view");
}

/*
 * A verified read (nedb_set_read_verify): the HEAD row coll/id of seq
 * with text doc must be the latest version the version index holds, and
 * that version's line in the log must carry the same text.
 */
int
nedb__verify_row(nedb *db, MDB_txn *txn, const char *coll, const char *id,
		 size_t idlen, uint64_t seq, const char *doc, size_t len)
{
	nedb_buf line = {0};
	struct seqent se;
	struct verent ve;
	const char *v;
	size_t vlen;
	uint64_t last = 0;
	int rc;

	rc = nedb__version_at(db, txn, coll, id, idlen, NEDB_HEAD, &last, &ve);
	if (rc && rc != NEDB_ENOTFOUND)
		return rc;
	if (last != seq)
		rc = nedb__err(NEDB_ECORRUPT, "corrupt view: '%s/%.*s' is "
			       "served as of seq %llu, but its latest "
			       "version is seq %llu; run nedb-checkpoint "
			       "--rebuild", coll, (int)idlen, id,
			       (unsigned long long)seq,
			       (unsigned long long)last);
	else if (!(rc = nedb__version_text(db, seq, ve.kind, coll, id, idlen,
					   &line, &se, &v, &vlen)) &&
		 (vlen != len || memcmp(v, doc, len)))
		rc = nedb__err(NEDB_ECORRUPT, "corrupt view: '%s/%.*s' "
			       "differs from its op in the log (seq %llu); "
			       "run nedb-checkpoint --rebuild", coll,
			       (int)idlen, id, (unsigned long long)seq);
	nedb_buf_free(&line);
	return rc;
}

static void
fill_version(nedb_doc *out, const char *line, size_t len, uint64_t seq,
	     const struct seqent *se, const char *doc, size_t doclen)
{
	const char *sc;
	size_t n;

	nedb__log_scalars(line, len, &sc, &n);
	memset(out, 0, sizeof *out);
	out->seq = seq;
	line_num(sc, n, "ts", &out->ts);
	line_num(sc, n, "exp", &out->exp);
	nedb__hex(out->hash, se->hash, HASH_LEN);
	out->doc = doc;
	out->len = doclen;
}

int
nedb_get(nedb *db, const char *coll, const char *id, uint64_t as_of,
	 nedb_doc *out)
{
	struct applied a;
	struct seqent se;
	struct verent ve;
	MDB_txn *txn;
	const char *doc;
	size_t doclen;
	uint64_t seq;
	int rc;

	if ((rc = nedb_check_coll(coll)) ||
	    (rc = nedb_check_id(id, strlen(id))))
		return rc;
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if (as_of == NEDB_HEAD) {
		struct dochdr h;

		if ((rc = nedb__doc_head(&db->view, txn, coll, id, strlen(id),
					 nedb__now_ms(), &h, &doc, &doclen)))
			goto done;
		db->scratch.len = 0;
		if (nedb_buf_add(&db->scratch, doc, doclen)) {
			rc = nedb__mdb(ENOMEM, "cannot read view");
			goto done;
		}
		out->doc = db->scratch.p;
		out->len = db->scratch.len;
		out->seq = h.seq;
		out->ts = h.ts;
		out->exp = h.exp;
		nedb__hex(out->hash, h.hash, HASH_LEN);
		if (db->read_verify &&
		    (rc = nedb__verify_row(db, txn, coll, id, strlen(id), h.seq,
					   out->doc, out->len))) {
			nedb__txn_done(db, txn);
			return rc;
		}
		goto done;
	}
	if ((rc = nedb__view_applied(&db->view, txn, &a)))
		goto done;
	if (db->wtxn)
		a = db->wa;
	if (as_of > a.seq) {
		nedb__txn_done(db, txn);
		return nedb__err(NEDB_EUSAGE, "no op %llu yet: the head is "
				 "seq %llu", (unsigned long long)as_of,
				 (unsigned long long)a.seq);
	}
	if ((rc = nedb__version_at(db, txn, coll, id, strlen(id), as_of,
				   &seq, &ve)))
		goto done;
	if (!OP_IS_VERSION(ve.kind)) {
		rc = NEDB_ENOTFOUND;
		goto done;
	}
	if ((rc = nedb__version_text(db, seq, ve.kind, coll, id, strlen(id),
				     &db->scratch, &se, &doc, &doclen))) {
		nedb__txn_done(db, txn);
		return rc;
	}
	fill_version(out, db->scratch.p, db->scratch.len, seq, &se, doc,
		     doclen);
	out->exp = 0;	/* the past ignores expiry */
done:
	nedb__txn_done(db, txn);
	if (rc == NEDB_ENOTFOUND)
		return nedb__err(NEDB_ENOTFOUND, "no document '%s/%s'", coll,
				 id);
	return rc;
}

int
nedb_history(nedb *db, const char *coll, const char *id, nedb_version_fn fn,
	     void *payload)
{
	unsigned char key[VERKEY_MAX], pre[VERKEY_MAX];
	struct kvcur c = {NULL};
	nedb_buf line = {0};
	MDB_txn *txn;
	MDB_val k, d;
	size_t plen;
	int rc, found = 0;

	if ((rc = nedb_check_coll(coll)) ||
	    (rc = nedb_check_id(id, strlen(id))))
		return rc;
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	plen = nedb__verprefix(pre, coll, id, strlen(id));
	k.mv_size = nedb__verkey(key, coll, id, strlen(id), 0);
	k.mv_data = key;
	if ((rc = nedb__kv_copen(&c, &db->view, txn, DBI_VERS))) {
		rc = nedb__mdb(rc, "cannot read view");
		goto done;
	}
	for (rc = nedb__kv_cget(&c, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&c, &k, &d, MDB_NEXT)) {
		struct seqent se;
		struct verent ve;
		nedb_doc v;
		const char *doc;
		size_t doclen;
		uint64_t seq;

		if (!nedb__verkey_seq(k.mv_data, k.mv_size, pre, plen, &seq))
			break;
		memcpy(&ve, d.mv_data, sizeof ve);
		if ((rc = nedb__version_text(db, seq, ve.kind, coll, id,
					     strlen(id), &line, &se, &doc,
					     &doclen)))
			goto done;
		fill_version(&v, line.p, line.len, seq, &se, doc, doclen);
		found = 1;
		if ((rc = fn(&v, OP_IS_VERSION(ve.kind) ?
			     nedb__op_name(ve.kind) : "delete", payload)))
			goto done;
	}
	rc = nedb__mdb_end(rc);
	if (!rc && !found)
		rc = nedb__err(NEDB_ENOTFOUND, "no document '%s/%s'", coll,
			       id);
done:
	if (c.c)
		nedb__kv_cclose(&c);
	nedb__txn_done(db, txn);
	nedb_buf_free(&line);
	return rc;
}

/* The log */

struct scan {
	nedb *db;
	struct chain c;
	uint64_t to;
	bool stopped;			/* past to: not an error */
	bool raw;			/* NEDB_SCAN_RAW */
	nedb_buf rawb;
	nedb_line_fn fn;
	void *payload;
};

/*
 * Hands a checked line to the caller: as it is stored, with
 * NEDB_SCAN_RAW (an encrypted database's sealed line, read again by the
 * file backend from where the checked one was).
 */
static int
deliver(struct scan *sc, uint64_t seq, const struct log_loc *loc,
	const char *line, size_t len)
{
	int rc;

	if (sc->raw && nedb__encrypted(sc->db)) {
		if ((rc = nedb__log_file.read(sc->db, seq, loc, &sc->rawb)))
			return rc;
		line = sc->rawb.p;
		len = sc->rawb.len;
	}
	return sc->fn(seq, line, len, sc->payload);
}

static int
scan_line(const char *line, size_t len, const struct log_loc *loc,
	  uint64_t next, void *payload)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	struct scan *sc = payload;
	uint64_t seq = sc->c.seq;
	int rc, why;

	(void)next;
	if (seq > sc->to) {
		sc->stopped = true;
		return 1;
	}
	if ((rc = nedb__chain_check(&sc->c, line, len, prev, hash, &why)))
		return rc;
	nedb__chain_step(&sc->c, hash);
	return deliver(sc, seq, loc, line, len);
}

int
nedb_log_scan(nedb *db, uint64_t from, uint64_t to, int flags,
	      nedb_line_fn fn, void *payload)
{
	struct seqent se, first;
	struct applied a;
	struct scan sc = {.db = db, .raw = flags & NEDB_SCAN_RAW, .fn = fn,
			  .payload = payload};
	nedb_buf b = {0};
	MDB_txn *txn;
	uint64_t seq, torn;
	int rc;

	if ((rc = nedb__txn(db, &txn)))
		return rc;
	rc = nedb__view_applied(&db->view, txn, &a);
	nedb__txn_done(db, txn);
	if (rc)
		return nedb__err(NEDB_ECORRUPT, "view has no head");
	if (to > a.seq)
		to = a.seq;
	if (from > to)
		return 0;
	if (flags & NEDB_SCAN_REVERSE) {
		for (seq = to + 1; seq-- > from;) {
			if ((rc = nedb__op_line(db, seq, &b, &se)) ||
			    (rc = deliver(&sc, seq, &se.loc, b.p, b.len)))
				break;
		}
		goto done;
	}
	/*
	 * Forward: the first and last ops are read by the view's records
	 * of them (anchored), and the chain walker holds every line between
	 * to its link, as the log's backend hands them over in order.
	 */
	if ((rc = nedb__op_line(db, to, &b, &se)))
		goto done;
	if ((rc = nedb__op_line(db, from, &b, &first)) ||
	    (rc = deliver(&sc, from, &first.loc, b.p, b.len)))
		goto done;
	if (from == to)
		goto done;
	sc.c.seq = from + 1;
	sc.to = to;
	memcpy(sc.c.head, first.hash, HASH_LEN);
	if ((rc = nedb__log_walk(db, from + 1, nedb__log_after(db, &first.loc),
				 nedb__log_after(db, &se.loc), scan_line, &sc,
				 &torn)) && !sc.stopped)
		goto done;
	rc = 0;
	if (sc.c.seq != to + 1)
		rc = nedb__err(NEDB_ECORRUPT, "corrupt log: it ends before "
			       "seq %llu", (unsigned long long)sc.c.seq);
	else if (memcmp(sc.c.head, se.hash, HASH_LEN))
		rc = nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: hash "
			       "differs from the one the view recorded",
			       (unsigned long long)to);
done:
	nedb_buf_free(&b);
	nedb_buf_free(&sc.rawb);
	return rc;
}

/* nedb_wait on the engine: a notification wakes it (LISTEN), a query
 * catches up (a notification is only a wake-up). */
static int
engine_wait(nedb *db, uint64_t *seq, int timeout_ms)
{
	int64_t until = nedb__now_ms() + timeout_ms, left;
	uint64_t now;
	int rc;

	for (;;) {
		if ((rc = engine_sync(db, true)) ||
		    (rc = nedb_head(db, &now, NULL)))
			return rc;
		nedb_read_end(db);
		left = until - nedb__now_ms();
		if (now > *seq || left <= 0) {
			*seq = now;
			return nedb__follow_rotation(db);
		}
		if ((rc = nedb__engine_wait(db, (int)left)))
			return rc;
	}
}

int
nedb_wait(nedb *db, uint64_t *seq, int timeout_ms)
{
	struct timespec ts = {0, 50 * 1000 * 1000};
	uint64_t now;
	int rc, waited = 0;

	if (db->eng)
		return engine_wait(db, seq, timeout_ms);
	for (;;) {
		if ((rc = nedb_head(db, &now, NULL)))
			return rc;
		if (now > *seq || waited >= timeout_ms) {
			*seq = now;
			/* a long-lived reader follows log.aof across prunes */
			return nedb__follow_rotation(db);
		}
		nanosleep(&ts, NULL);
		waited += 50;
	}
}

/*
 * Compaction
 * ----------
 * An LMDB copy without free pages replaces view.mdb, and view.mdb-lock
 * goes with the old file (a lock file describes one data file's
 * transactions).  Swapping files under a process that has them open
 * would leave it on the old ones, so this is done only when no other
 * process has the view open: each holds a read lock (fcntl) on the first
 * byte of view.mdb-lock, and LMDB's own test for that is to try for a
 * write lock there.  The directory's exclusive flock keeps new openers
 * out meanwhile (nedb_open takes it shared).  The test's descriptor is
 * kept until the environment closes: closing any descriptor of a file
 * drops all of a process's fcntl locks on it, LMDB's included.
 */
static int
view_size(nedb *db, uint64_t *out)
{
	struct stat st;
	int fd;

	if (mdb_env_get_fd(db->view.env, &fd) || fstat(fd, &st))
		return nedb__err(NEDB_EIO, "cannot read view");
	*out = (uint64_t)st.st_size;
	return 0;
}

int
nedb__view_exclusive(nedb *db, const char *what)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
			   .l_start = 0, .l_len = 1};
	char *lockp;

	if (db->vlockfd < 0) {
		lockp = nedb__path_in(db->dir, "view.mdb-lock");
		db->vlockfd = open(lockp, O_RDWR | O_CLOEXEC);
		free(lockp);
		if (db->vlockfd < 0)
			return nedb__errno(NEDB_EIO, "cannot open "
					   "view.mdb-lock");
	}
	if (fcntl(db->vlockfd, F_SETLK, &fl))
		return nedb__err(NEDB_EBUSY, "%s: other processes have the "
				 "database open", what);
	return 0;
}

int
nedb_compact(nedb *db, uint64_t *before, uint64_t *after)
{
	char *viewp = nedb__path_in(db->dir, "view.mdb");
	char *lockp = nedb__path_in(db->dir, "view.mdb-lock");
	char *tmpp = nedb__path_in(db->dir, "view.mdb.compact");
	MDB_txn *txn;
	int dirfd = -1, fd = -1, rc, dsync = 0;

	*before = *after = 0;
	if (!viewp || !lockp || !tmpp) {
		rc = nedb__err(NEDB_EIO, "out of memory");
		goto done;
	}
	if ((rc = write_ready(db)) || (rc = view_size(db, before)))
		goto done;
	if ((dirfd = nedb__dir_lock(db, LOCK_EX)) < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot lock database");
		goto done;
	}
	/* after the directory lock, as nedb_open orders them */
	if ((rc = nedb__wlock(db, true)) ||
	    (rc = nedb__view_exclusive(db, "the view is not compacted")))
		goto done;
	fd = open(tmpp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot write view");
		goto done;
	}
	if ((rc = mdb_env_copyfd2(db->view.env, fd, MDB_CP_COMPACT))) {
		rc = nedb__mdb(rc, "cannot compact view");
		unlink(tmpp);
		goto done;
	}
	if (fdatasync(fd) || rename(tmpp, viewp)) {
		rc = nedb__errno(NEDB_EIO, "cannot write view");
		unlink(tmpp);
		goto done;
	}
	unlink(lockp);
	/* the swap is done either way: a failed sync of it is reported
	 * once this process has moved to the new files */
	dsync = nedb__fsync_dir(db->dir);
	/* this process moves to the new files */
	nedb__view_close(&db->view);
	close(db->vlockfd);
	db->vlockfd = -1;
	if ((rc = nedb__view_open(&db->view, viewp, MDB_NOSYNC,
				  nedb__encrypted(db) ? &db->crypt : NULL)))
		goto done;
	db->view.log_format = db->log_format;
	if ((rc = mdb_txn_begin(db->view.env, NULL, MDB_RDONLY, &txn))) {
		rc = nedb__mdb(rc, "cannot open view");
		goto done;
	}
	if ((rc = nedb__view_dbis(&db->view, txn, false))) {
		mdb_txn_abort(txn);
		goto done;
	}
	mdb_txn_commit(txn);	/* keeps the table handles */
	if ((rc = vsync_write(db)) == 0 && (rc = dsync) == 0)
		rc = view_size(db, after);
done:
	nedb__wunlock(db);
	if (fd >= 0)
		close(fd);
	if (dirfd >= 0)
		close(dirfd);
	free(viewp);
	free(lockp);
	free(tmpp);
	return rc;
}

/*
 * Removes the database: nedb's own files (the archive's segments too),
 * then the directory if nothing else is left in it.  No other process
 * may have it open.  Closes db.
 */
int
nedb_destroy(nedb *db)
{
	static const char *const files[] = {
		"log.aof", "log.aof.prune", "view.mdb", "view.mdb-lock",
		"view.mdb.compact", "view.sync", "meta.json", NEDB_KEYFILE,
		"engine.synced", "lock", NULL
	};
	char *dir = nedb__strdup(db->dir), *p;
	int rc = 0, dirfd;

	if (!dir) {
		nedb_close(db);
		return nedb__err(NEDB_EIO, "out of memory");
	}
	nedb_write_abort(db);
	nedb_read_end(db);
	/*
	 * No process may be opening it (the directory lock) or writing to
	 * it (the writer lock) while its files go; neither is waited for.
	 * A writer that gets the lock afterwards finds log.aof gone and
	 * fails; one that opens afterwards creates a new database.
	 */
	if ((dirfd = nedb__dir_lock(db, LOCK_EX | LOCK_NB)) < 0 ||
	    (rc = nedb__wlock(db, false))) {
		if (dirfd >= 0)
			close(dirfd);
		nedb_close(db);
		rc = nedb__err(NEDB_EBUSY, "cannot remove database '%s': "
			       "another process is using it; try again", dir);
		free(dir);
		return rc;
	}
	nedb__archive_drop_from(db, 0);
	nedb__fstore_destroy(db->dir);
	nedb__key_cleanup(db->dir);	/* a crashed rewrap's temporary */
	if ((p = nedb__path_in(db->dir, "archive"))) {
		rmdir(p);
		free(p);
	}
	for (int i = 0; files[i]; i++) {
		if (!(p = nedb__path_in(db->dir, files[i])))
			continue;
		/* without log.aof there is no database: that one must go */
		if (unlink(p) && errno != ENOENT && i == 0)
			rc = nedb__err(NEDB_EIO, "cannot remove database "
				       "'%s': %s", dir, strerror(errno));
		free(p);
	}
	nedb_close(db);		/* releases the writer lock */
	close(dirfd);
	rmdir(dir);		/* files of the user's stay, and so does it */
	free(dir);
	return rc;
}
