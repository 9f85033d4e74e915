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
#include <pthread.h>
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
nedb__line_open(const struct nedb_crypt *c, nedb_buf *out, nedb_buf *tmp,
		const char *line, size_t len, uint64_t seq)
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
	return nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: %s",
			 (unsigned long long)seq, why);
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
 * verify's map: log.aof opened line by line into memory.  A line that
 * does not open ends the map there (m->why says why; its seq is the
 * one after the last line mapped); a torn tail is kept as it is, for
 * verify's warning.
 *
 * A long log is opened by two threads, each over half of its lines
 * with a context of its own (an nedb_aead serves one thread): opening
 * is most of an encrypted verify's cost, and verify's hashing already
 * runs on two.  The halves are joined in order, and the first line
 * that does not open, in log order, is the one reported.
 */
#define MAP_SPLIT_MIN (4u << 20)	/* below this, one thread */

struct open_run {
	struct nedb_crypt c;		/* `log` set: the context to use */
	const char *p, *end;		/* whole lines */
	uint64_t seq;			/* of the line at p */
	nedb_buf out;			/* the opened lines */
	const char *stop;		/* end, or the line that did not open */
	int rc;				/* an error other than a bad line */
	bool bad;
	char why[sizeof ((struct log_map *)0)->why_buf];
};

static void *
open_run(void *arg)
{
	struct open_run *r = arg;
	nedb_buf tmp = {0};
	const char *p = r->p, *nl;
	uint64_t seq = r->seq;
	int rc = 0;

	while (p < r->end && (nl = memchr(p, '\n', (size_t)(r->end - p)))) {
		if ((rc = nedb__line_open(&r->c, &r->out, &tmp, p,
					  (size_t)(nl - p), seq))) {
			if (rc == NEDB_ECORRUPT) {
				snprintf(r->why, sizeof r->why, "%s",
					 nedb_errmsg());
				r->bad = true;
				rc = 0;
			}
			break;
		}
		if ((rc = nedb_buf_add(&r->out, "\n", 1)))
			break;
		seq++;
		p = nl + 1;
	}
	r->rc = rc;
	r->stop = p;
	nedb_buf_free(&tmp);		/* ciphertext only */
	return NULL;
}

static void
run_free(struct open_run *r)
{
	nedb__wipe(r->out.p, r->out.cap);
	nedb_buf_free(&r->out);
}

static int
c_map(nedb *db, struct log_map *m)
{
	struct log_map raw = {0};
	struct open_run one = {.c = db->crypt}, two = {0};
	const char *end, *mid, *last;
	pthread_t t;
	bool split = false;
	int rc;

	if ((rc = nedb__log_file.map(db, &raw)))
		return rc;
	m->seq = raw.seq;
	m->pos = raw.pos;
	if (!raw.p)
		goto done;
	end = raw.p + raw.n;
	/* whole lines end at the last newline; after it, a torn tail */
	last = memrchr(raw.p, '\n', raw.n);
	last = last ? last + 1 : raw.p;
	one.p = raw.p;
	one.end = last;
	one.seq = raw.seq;
	if ((size_t)(last - raw.p) >= MAP_SPLIT_MIN &&
	    (mid = memchr(raw.p + (last - raw.p) / 2, '\n',
			  (size_t)(last - raw.p) / 2)) && mid + 1 < last) {
		two.p = mid + 1;
		two.end = last;
		two.seq = raw.seq;
		for (const char *q = raw.p, *nl; q < two.p &&
		     (nl = memchr(q, '\n', (size_t)(two.p - q))); q = nl + 1)
			two.seq++;
		one.end = two.p;
		if ((rc = nedb__aead_new(&two.c.log, db->crypt.log_key)))
			goto done;
		if (pthread_create(&t, NULL, open_run, &two) == 0)
			split = true;
		else
			one.end = last;	/* no thread: this one does it all */
	}
	open_run(&one);
	if (split)
		pthread_join(t, NULL);
	if ((rc = one.rc) || (!one.bad && split && (rc = two.rc)))
		goto done;
	if (one.bad) {
		memcpy(m->why_buf, one.why, sizeof m->why_buf);
		m->why = m->why_buf;
	} else if (split && two.bad) {
		if ((rc = nedb_buf_add(&one.out, two.out.p, two.out.len)))
			goto done;
		memcpy(m->why_buf, two.why, sizeof m->why_buf);
		m->why = m->why_buf;
	} else {
		if ((split && (rc = nedb_buf_add(&one.out, two.out.p,
						 two.out.len))) ||
		    (end > last &&
		     (rc = nedb_buf_add(&one.out, last, (size_t)(end - last)))))
			goto done;
	}
	m->p = one.out.p;
	m->n = one.out.len;
	m->cookie = one.out.p;
	one.out.p = NULL;
	one.out.cap = 0;
done:
	if (raw.p)
		nedb__log_file.unmap(&raw);
	nedb__aead_free(two.c.log);
	run_free(&one);
	run_free(&two);
	return rc;
}

static void
c_unmap(struct log_map *m)
{
	if (m->cookie) {
		nedb__wipe(m->cookie, m->n);
		free(m->cookie);
	}
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
