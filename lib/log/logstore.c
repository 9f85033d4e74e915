/*
 * logstore.c - the log interface (logstore.h): what every backend shares.
 *
 * Calls go to the backend's table (db->log.be); here are the checks no
 * backend is trusted to make on its own: a read line is held to the
 * view's record of it, and a failed fsync or truncate turns the log's
 * error sticky (Contract 2).
 */
#include <errno.h>
#include <string.h>
#include "internal.h"

int
nedb__log_open(nedb *db, bool create, bool *writable)
{
	if (!db->log.be)
		db->log.be = nedb__encrypted(db) ? &nedb__log_crypt :
			     &nedb__log_file;
	db->log.failed = false;
	return db->log.be->open(db, create, writable);
}

void
nedb__log_close(nedb *db)
{
	if (db->log.be)
		db->log.be->close(db);
}

int
nedb__log_follow(nedb *db, bool *rotated)
{
	*rotated = false;
	return db->log.be->follow(db, rotated);
}

uint64_t
nedb__log_end(nedb *db)
{
	return db->log.be->end(db);
}

uint64_t
nedb__log_place(nedb *db, uint64_t pos, size_t len, struct log_loc *loc)
{
	return db->log.be->place(pos, len, loc);
}

uint64_t
nedb__log_after(nedb *db, const struct log_loc *loc)
{
	return db->log.be->after(loc);
}

/* Contract 2: after a failed fsync nothing more is appended or synced
 * through this handle.  errno says EIO; the caller words the message. */
static int
sticky(void)
{
	errno = EIO;
	return NEDB_EIO;
}

int
nedb__log_append(nedb *db, const char *lines, size_t len, bool sync)
{
	if (db->log.failed)
		return sticky();
	return db->log.be->append(db, lines, len, sync);
}

int
nedb__log_sync(nedb *db)
{
	if (db->log.failed)
		return sticky();
	return db->log.be->sync(db);
}

int
nedb__log_restore_end(nedb *db, uint64_t pos)
{
	if (db->log.failed)
		return 1;
	return db->log.be->restore_end(db, pos);
}

/* Tried even after a failed sync: it is how a failed batch is undone
 * (db.c, Invariant 2); its own failure turns the error sticky. */
int
nedb__log_truncate(nedb *db, uint64_t pos)
{
	return db->log.be->truncate(db, pos);
}

int
nedb__log_read(nedb *db, uint64_t seq, const struct log_loc *loc,
	       const unsigned char hash[HASH_LEN], nedb_buf *out)
{
	unsigned char prev[HASH_LEN], h[HASH_LEN];
	uint64_t s = seq;
	int rc;

	out->len = 0;
	if ((rc = db->log.be->read(db, seq, loc, out)))
		return rc;
	if ((rc = nedb__log_check(out->p, out->len, &s, prev, h)))
		return rc;
	if (memcmp(h, hash, HASH_LEN))
		return nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: "
				 "hash differs from the one the view recorded",
				 (unsigned long long)seq);
	return 0;
}

int
nedb__log_walk(nedb *db, uint64_t seq, uint64_t pos, uint64_t to,
	       log_walk_fn fn, void *payload, uint64_t *torn)
{
	return db->log.be->walk(db, seq, pos, to, fn, payload, torn);
}

struct tailw {
	struct chain c;
	struct log_tail *t;
};

static int
tail_line(const char *line, size_t len, const struct log_loc *loc,
	  uint64_t next, void *payload)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	struct tailw *w = payload;
	int rc, why;

	(void)loc;
	if ((rc = nedb__chain_check(&w->c, line, len, prev, hash, &why)))
		return rc;
	nedb__chain_step(&w->c, hash);
	w->t->empty = false;
	w->t->seq = w->c.seq - 1;
	memcpy(w->t->head, hash, HASH_LEN);
	w->t->end = next;
	return 0;
}

int
nedb__log_tail(nedb *db, uint64_t seq, uint64_t pos,
	       const unsigned char head[HASH_LEN], struct log_tail *out)
{
	struct tailw w = {.t = out};
	uint64_t end = nedb__log_end(db), torn;
	int rc;

	memset(out, 0, sizeof *out);
	out->empty = true;
	out->end = pos;
	w.c.seq = seq;
	memcpy(w.c.head, head, HASH_LEN);
	if (pos) {
		out->empty = false;
		out->seq = seq - 1;
		memcpy(out->head, head, HASH_LEN);
	}
	if ((rc = nedb__log_walk(db, seq, pos, end, tail_line, &w, &torn)))
		return rc;
	out->torn = end - torn;
	return 0;
}

int
nedb__log_map(nedb *db, struct log_map *m)
{
	memset(m, 0, sizeof *m);
	return db->log.be->map(db, m);
}

void
nedb__log_unmap(nedb *db, struct log_map *m)
{
	if (m->p)
		db->log.be->unmap(m);
	memset(m, 0, sizeof *m);
}

int
nedb__log_rotate(nedb *db, uint64_t seq, const struct log_loc *loc,
		 nedb_prune_info *out)
{
	if (db->log.failed)
		return sticky();
	return db->log.be->rotate(db, seq, loc, out);
}

uint64_t
nedb__log_bytes(nedb *db)
{
	return db->log.be->bytes(db);
}
