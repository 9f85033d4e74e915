/*
 * logcrypt.c - the log of an encrypted database (SPEC §8): every line
 * sealed on its own, over the file backend (logfile.c).
 *
 * A stored line is
 *
 *     {"enc":1,"ct":"<base64 of nonce || ciphertext || tag>"}
 *
 * the AES-256-GCM seal (aead.c; no associated data) of the plaintext
 * line, hash member included, under the data key's log sub-key
 * (NEDB_LABEL_LOG).  The chain is the plaintext's: decrypting every line
 * gives back a plaintext log whose hashes are the ones a plaintext
 * database would have, and each op written encrypted carries a random
 * "salt" member (log.c) so that a guessed op cannot be confirmed against
 * its published hash.  nedb-format(5) has the format for third parties.
 *
 * This backend wraps the file backend: positions and locators are the
 * stored (sealed) lines', so place() turns a plaintext length into the
 * stored one, which depends on the length alone (enc_len).  Appends seal
 * each line of the batch; reads and walks open each line before anyone
 * sees it, and a line that does not open (a changed byte, a line from
 * another database) is NEDB_ECORRUPT naming its seq, never data.
 * Archives (archive.c) hold the sealed lines as they were in log.aof.
 *
 * Invariants:
 *  1. Nothing above this file sees a sealed line, and nothing below it
 *     a plaintext one: the file backend writes only what c_append
 *     sealed.
 *  2. enc_len(n) is the exact stored length of a plaintext line of n
 *     bytes, for every n (base64 of n + 28 bytes with padding, plus the
 *     17 bytes of the wrapper), so that a locator computed before the
 *     append is the one the line gets.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#define PRE "{\"enc\":1,\"ct\":\""
#define PRE_LEN (sizeof PRE - 1)
#define SUF "\"}"
#define SUF_LEN 2

static size_t
enc_len(size_t n)
{
	return PRE_LEN + NEDB_B64_LEN(n + NEDB_AEAD_OVERHEAD) + SUF_LEN;
}

int
nedb__line_seal(const struct nedb_crypt *c, nedb_buf *out, nedb_buf *tmp,
		const char *line, size_t len)
{
	size_t n = len + NEDB_AEAD_OVERHEAD, b64;
	int rc;

	tmp->len = 0;
	if ((rc = nedb_buf_grow(tmp, n)) ||
	    (rc = nedb__aead_seal(c->log, (unsigned char *)tmp->p, NULL, 0,
				  line, len)) ||
	    (rc = nedb_buf_grow(out, enc_len(len) + 1)))
		return rc;
	memcpy(out->p + out->len, PRE, PRE_LEN);
	if ((rc = nedb__b64_encode(out->p + out->len + PRE_LEN, tmp->p, n,
				   &b64)))
		return rc;
	memcpy(out->p + out->len + PRE_LEN + b64, SUF, SUF_LEN);
	out->len += PRE_LEN + b64 + SUF_LEN;
	return 0;
}

int
nedb__line_open_why(const struct nedb_crypt *c, nedb_buf *out, nedb_buf *tmp,
		    const char *line, size_t len, const char **whyp)
{
	const char *why = "not an encrypted line";
	size_t n;
	int rc;

	if (len < PRE_LEN + SUF_LEN || memcmp(line, PRE, PRE_LEN) ||
	    memcmp(line + len - SUF_LEN, SUF, SUF_LEN))
		goto bad;
	tmp->len = 0;
	if ((rc = nedb_buf_grow(tmp, (len - PRE_LEN - SUF_LEN) / 4 * 3 + 1)))
		return rc;
	if ((rc = nedb__b64_decode((unsigned char *)tmp->p, line + PRE_LEN,
				   len - PRE_LEN - SUF_LEN, &n))) {
		if (rc != NEDB_ECORRUPT)
			return rc;
		why = "its ciphertext is not base64";
		goto bad;
	}
	if (n < NEDB_AEAD_OVERHEAD) {
		why = "its ciphertext is cut short";
		goto bad;
	}
	if ((rc = nedb_buf_grow(out, n - NEDB_AEAD_OVERHEAD + 1)))
		return rc;
	rc = nedb__aead_open(c->log, (unsigned char *)out->p + out->len, NULL,
			     0, tmp->p, n);
	if (rc == NEDB_EKEY || rc == NEDB_ECORRUPT) {
		why = "it does not decrypt (a changed byte, or a line of "
		      "another database)";
		goto bad;
	}
	if (rc)
		return rc;
	out->len += n - NEDB_AEAD_OVERHEAD;
	out->p[out->len] = 0;
	return 0;
bad:
	*whyp = why;
	return NEDB_ECORRUPT;
}

int
nedb__line_open(const struct nedb_crypt *c, nedb_buf *out, nedb_buf *tmp,
		const char *line, size_t len, uint64_t seq)
{
	const char *why;
	int rc = nedb__line_open_why(c, out, tmp, line, len, &why);

	if (rc == NEDB_ECORRUPT)
		return nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: %s",
				 (unsigned long long)seq, why);
	return rc;
}

/*
 * The seq of the first line of log.aof (its origin: logfile.c), which
 * only the plaintext says: the first line is read whole and opened.
 * 0 with *seq unset when there is no complete first line (the walk
 * reports the damage).
 */
int
nedb__crypt_first_seq(nedb *db, int fd, uint64_t *seq)
{
	nedb_buf line = {0}, plain = {0}, tmp = {0};
	char *nl = NULL;
	int rc = 0;

	while (!nl) {
		ssize_t n;

		if ((rc = nedb_buf_grow(&line, 4096)))
			goto done;
		n = pread(fd, line.p + line.len, 4096, (off_t)line.len);
		if (n <= 0)
			goto done;
		nl = memchr(line.p + line.len, '\n', (size_t)n);
		line.len += (size_t)n;
	}
	if (!(rc = nedb__line_open(&db->crypt, &plain, &tmp, line.p,
				   (size_t)(nl - line.p), 0)) &&
	    plain.len > 7 && !memcmp(plain.p, "{\"seq\":", 7))
		*seq = strtoull(plain.p + 7, NULL, 10);
	if (rc == NEDB_ECORRUPT) {
		/* the walk names it, with its seq: which the archive says
		 * (log.aof begins after its last segment) */
		rc = nedb__archive_load(db);
		if (!rc && db->log.nsegs)
			*seq = db->log.segs[db->log.nsegs - 1].last + 1;
	}
done:
	nedb_buf_free(&line);
	nedb__wipe(plain.p, plain.len);
	nedb_buf_free(&plain);
	nedb_buf_free(&tmp);
	return rc;
}

static int
c_open(nedb *db, bool create, bool *writable)
{
	return nedb__log_file.open(db, create, writable);
}

static void
c_close(nedb *db)
{
	nedb__log_file.close(db);
	nedb_buf_free(&db->log.sealed);
	nedb_buf_free(&db->log.ctmp);
	nedb_buf_free(&db->log.staged);
	nedb_buf_free(&db->log.stmp);
}

static int
c_follow(nedb *db, bool *rotated)
{
	return nedb__log_file.follow(db, rotated);
}

static uint64_t
c_end(nedb *db)
{
	return nedb__log_file.end(db);
}

static uint64_t
c_place(uint64_t pos, size_t len, struct log_loc *loc)
{
	return nedb__log_file.place(pos, enc_len(len), loc);
}

static uint64_t
c_after(const struct log_loc *loc)
{
	return nedb__log_file.after(loc);
}

int
nedb__log_stage(nedb *db, const char *line, size_t len, const nedb_buf *sealed)
{
	struct nedb_log *l = &db->log;
	int rc;

	if (l->be != &nedb__log_crypt)
		return 0;
	if (sealed && sealed->len)
		rc = nedb_buf_add(&l->staged, sealed->p, sealed->len);
	else if (!(rc = nedb__line_seal(&db->crypt, &l->staged, &l->stmp,
					line, len)))
		rc = nedb_buf_add(&l->staged, "\n", 1);
	if (rc)
		return rc;
	l->nstaged++;
	l->staged_plain += len + 1;
	return 0;
}

void
nedb__log_unstage(nedb *db)
{
	struct nedb_log *l = &db->log;

	l->staged.len = 0;
	l->nstaged = 0;
	l->staged_plain = 0;
	if (l->staged.cap > (4u << 20)) {
		nedb_buf_free(&l->staged);
		nedb_buf_free(&l->stmp);
	}
}

/* Whether lines are the ones staged (nedb__log_stage). */
static bool
staged_are(nedb *db, const char *lines, size_t len)
{
	const struct nedb_log *l = &db->log;
	const char *p = lines, *end = lines + len, *nl;
	size_t n = 0;

	if (!l->nstaged || l->staged_plain != len)
		return false;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p = nl + 1;
	}
	return n == l->nstaged && p == end;
}

static int
c_append(nedb *db, const char *lines, size_t len, bool sync)
{
	nedb_buf *s = &db->log.sealed;
	const char *p = lines, *end = lines + len, *nl;
	int rc;

	if (staged_are(db, lines, len)) {
		rc = nedb__log_file.append(db, db->log.staged.p,
					   db->log.staged.len, sync);
		nedb__log_unstage(db);
		return rc;
	}
	s->len = 0;
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		if ((rc = nedb__line_seal(&db->crypt, s, &db->log.ctmp, p,
					  (size_t)(nl - p))) ||
		    (rc = nedb_buf_add(s, "\n", 1)))
			return rc;
		p = nl + 1;
	}
	rc = nedb__log_file.append(db, s->p, s->len, sync);
	/* a batch is not kept in memory longer than it must be */
	if (s->cap > (4u << 20)) {
		nedb_buf_free(s);
		nedb_buf_free(&db->log.ctmp);
	}
	return rc;
}

static int
c_sync(nedb *db)
{
	return nedb__log_file.sync(db);
}

static int
c_restore_end(nedb *db, uint64_t pos)
{
	return nedb__log_file.restore_end(db, pos);
}

static int
c_truncate(nedb *db, uint64_t pos)
{
	return nedb__log_file.truncate(db, pos);
}

static int
c_read(nedb *db, uint64_t seq, const struct log_loc *loc, nedb_buf *out)
{
	nedb_buf *s = &db->log.sealed;
	int rc;

	if ((rc = nedb__log_file.read(db, seq, loc, s)))
		return rc;
	out->len = 0;
	return nedb__line_open(&db->crypt, out, &db->log.ctmp, s->p, s->len,
			       seq);
}

struct cw {
	nedb *db;
	log_walk_fn fn;
	void *payload;
	uint64_t seq;
	nedb_buf plain, tmp;
};

static int
opened_line(const char *line, size_t len, const struct log_loc *loc,
	    uint64_t next, void *payload)
{
	struct cw *w = payload;
	int rc;

	w->plain.len = 0;
	if ((rc = nedb__line_open(&w->db->crypt, &w->plain, &w->tmp, line, len,
				  w->seq++)))
		return rc;
	return w->fn(w->plain.p, w->plain.len, loc, next, w->payload);
}

static int
c_walk(nedb *db, uint64_t seq, uint64_t pos, uint64_t to, log_walk_fn fn,
       void *payload, uint64_t *torn)
{
	struct cw w = {db, fn, payload, seq, {0}, {0}};
	int rc = nedb__log_file.walk(db, seq, pos, to, opened_line, &w, torn);

	nedb__wipe(w.plain.p, w.plain.cap);
	nedb_buf_free(&w.plain);
	nedb_buf_free(&w.tmp);
	return rc;
}

/*
 * verify's map: log.aof's lines as they are stored, sealed
 * (m->sealed): verify opens each itself (nedb__line_open), on every
 * core, into buffers used again, rather than the whole log into memory
 * first (whose pages, each touched for the first time, were a third
 * of an encrypted verify).
 */
static int
c_map(nedb *db, struct log_map *m)
{
	int rc = nedb__log_file.map(db, m);

	if (!rc)
		m->sealed = &db->crypt;
	return rc;
}

static void
c_unmap(struct log_map *m)
{
	nedb__log_file.unmap(m);
}

static int
c_rotate(nedb *db, uint64_t seq, const struct log_loc *loc,
	 nedb_prune_info *out)
{
	return nedb__log_file.rotate(db, seq, loc, out);
}

static uint64_t
c_bytes(nedb *db)
{
	return nedb__log_file.bytes(db);
}

const struct log_backend nedb__log_crypt = {
	.name = "file, encrypted",
	.open = c_open,
	.close = c_close,
	.follow = c_follow,
	.end = c_end,
	.place = c_place,
	.after = c_after,
	.append = c_append,
	.sync = c_sync,
	.restore_end = c_restore_end,
	.truncate = c_truncate,
	.read = c_read,
	.walk = c_walk,
	.map = c_map,
	.unmap = c_unmap,
	.rotate = c_rotate,
	.bytes = c_bytes,
};
