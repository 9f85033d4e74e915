/*
 * redact.c - erasing the text of document versions (SPEC §9,
 * doc/redaction.md): nedb_redact and the recovery of an interrupted one.
 *
 * Only a database in log format 2 can redact: there a put's op hash
 * commits to its document through "dh" (log.c), and the salt and text
 * sit in the line's unhashed tail.  A redaction is a `redact` op naming
 * the put seqs it erases, plus those lines' tails replaced by
 * ,"redacted":R and spaces (the same length: every position stays).
 * No op hash changes, so the chain, the Merkle tree, proofs and signed
 * checkpoints stay valid.
 *
 * Like encryption in place (convert.c, the model), the database is
 * built whole beside itself, in <db>/.redact/, then swapped in:
 *
 *  1. Under the directory's exclusive flock and the writer lock, with
 *     no other process holding the view open: the redact op is staged
 *     in a write that is then abandoned (its line is kept: the op is
 *     judged, numbered and hashed by the ordinary path, stage()), and
 *     .redact/ gets every line of the log with the named tails erased
 *     and the redact op's line after them (archived ops into segments
 *     of the same seq ranges, the rest into log.aof; an encrypted
 *     database's lines sealed again), key.enc and meta.json copied, and
 *     a view built fresh from that log by an ordinary open of .redact/
 *     (a new file: no page of the old view, whose free pages may hold
 *     the text, is carried over).
 *  2. .redact/COMMIT is written and synced: it lists the segments.
 *     Before it exists, no redaction happened; from then on it did.
 *  3. Roll forward: the listed segments, view.mdb, view.sync and
 *     log.aof (last) are renamed over their namesakes, view.mdb-lock
 *     (the old view's) goes, .redact/ goes.
 *
 * Every open looks for .redact/ (nedb__redact_recover, one stat): with
 * COMMIT it finishes step 3, without it removes the half-made copy.
 * Both under the same two locks.  So kill -9 at any instant leaves the
 * database without the redaction or with all of it, never half.
 *
 * Invariants:
 *  1. The live files are never edited: each is replaced by rename, and
 *     only after COMMIT.
 *  2. The redact op is in the new log.aof iff the named tails are
 *     erased in the new files: both are in the one staged copy.
 *
 * What this cannot do (nedb-redact(1)): the blocks of the replaced
 * files are freed, not overwritten; copies made before (backups,
 * exports, another machine) keep the text; a process that had the old
 * files open reads them until it reopens (none can have the view open:
 * step 1 checks).  The whole database is copied per redaction: O(size),
 * acceptable for a rare operation; a batch of redactions in one copy is
 * a later improvement.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

#define STAGE ".redact"

static char *
stage_path(const char *dir, const char *name)
{
	size_t n = strlen(dir) + sizeof STAGE + strlen(name) + 3;
	char *p = nedb__malloc(n);

	snprintf(p, n, "%s/" STAGE "%s%s", dir, *name ? "/" : "", name);
	return p;
}

/* Removes dir and what is in it (files, and directories one deep). */
static void
remove_tree(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) && errno == EISDIR) {
			char *sub = nedb__path_in(dir, e->d_name);

			remove_tree(sub);
			free(sub);
		}
	}
	closedir(d);
	rmdir(dir);
}

static int
move(const char *dir, const char *name)
{
	char *a = stage_path(dir, name), *b = nedb__path_in(dir, name);
	int rc = 0;

	if (rename(a, b) && errno != ENOENT)	/* ENOENT: moved before */
		rc = nedb__err(NEDB_EIO, "cannot finish a redaction in '%s': "
			       "cannot move %s: %s", dir, name,
			       strerror(errno));
	free(a);
	free(b);
	return rc;
}

/* Step 3: the staged files over the live ones, log.aof last. */
static int
roll_forward(const char *dir)
{
	char *commit = stage_path(dir, "COMMIT"), *lock, *stage;
	nedb_buf b = {0};
	int rc = 0;

	nedb__test_pause("redact-rolling");
	if (nedb__read_file(commit, &b)) {
		rc = nedb__errno(NEDB_EIO, "cannot read a redaction's COMMIT");
		goto done;
	}
	nedb_buf_add(&b, "", 1);
	for (char *p = b.p, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		char name[160];

		if (nl - p >= 128)
			continue;
		snprintf(name, sizeof name, "archive/%.*s", (int)(nl - p), p);
		if ((rc = move(dir, name)))
			goto done;
	}
	if ((rc = move(dir, "view.mdb")) || (rc = move(dir, "view.sync")))
		goto done;
	lock = nedb__path_in(dir, "view.mdb-lock");
	unlink(lock);
	free(lock);
	if ((rc = move(dir, "log.aof")) || (rc = nedb__fsync_dir(dir)))
		goto done;
	stage = stage_path(dir, "");
	remove_tree(stage);
	free(stage);
	rc = nedb__fsync_dir(dir);
done:
	nedb_buf_free(&b);
	free(commit);
	return rc;
}

int
nedb__redact_recover(nedb *db)
{
	char *stage = stage_path(db->dir, ""), *commit;
	struct stat st;
	int dirfd = -1, rc = 0;

	if (lstat(stage, &st)) {
		free(stage);
		return 0;		/* the usual case */
	}
	commit = stage_path(db->dir, "COMMIT");
	if ((dirfd = nedb__dir_lock(db, LOCK_EX)) < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot lock database");
		goto done;
	}
	if ((rc = nedb__wlock(db, true)))
		goto done;
	if (!lstat(commit, &st)) {
		nedb__warn("a redaction was interrupted after its commit: "
			   "finishing it");
		rc = roll_forward(db->dir);
	} else if (!lstat(stage, &st)) {
		nedb__warn("a redaction was interrupted before its commit: "
			   "the database stays as it was");
		remove_tree(stage);
	}
	nedb__wunlock(db);
done:
	if (dirfd >= 0)
		close(dirfd);
	free(stage);
	free(commit);
	return rc;
}

/* Step 1's copy of the log: every op, the named tails erased. */
struct copy {
	nedb *db;
	nedb *sdb;			/* the staging dir's, for archive.c */
	int fd;				/* .redact/log.aof */
	size_t seg;			/* the segment being filled */
	uint64_t seq;
	uint64_t r;			/* the redact op's seq */
	const char *seqs;		/* its "seqs" text */
	size_t seqs_len;
	size_t erased;			/* tails erased so far */
	nedb_buf out, tmp, line;
	nedb_buf list;			/* segment names, for COMMIT */
};

static int
seq_is(uint64_t seq, void *payload)
{
	return seq == *(uint64_t *)payload;
}

/*
 * The tail of a format-2 put line, after "dh" up to the hash, becomes
 * ,"redacted":R and spaces: the body, so the hash, is unchanged
 * (log.c's doc_commitment checks the result).
 */
static int
erase_tail(nedb_buf *l, uint64_t r, uint64_t seq)
{
	const char *dh = NULL, *docat, *end = l->p + l->len - LOG_SUFFIX_LEN;
	char mark[48];
	size_t from, n;
	int m;

	docat = memmem(l->p, (size_t)(end - l->p), ",\"doc\":", 7);
	if (docat)
		dh = memmem(l->p, (size_t)(docat - l->p), ",\"dh\":\"", 7);
	if (!dh)
		return nedb__err(NEDB_ECORRUPT, "cannot redact seq %llu: its "
				 "line holds no document commitment",
				 (unsigned long long)seq);
	from = (size_t)(dh - l->p) + 7 + 2 * HASH_LEN + 1;
	n = (size_t)(end - l->p) - from;
	m = snprintf(mark, sizeof mark, ",\"redacted\":%llu",
		     (unsigned long long)r);
	if (m < 0 || (size_t)m > n)
		return nedb__err(NEDB_ECORRUPT, "cannot redact seq %llu: its "
				 "tail is too short", (unsigned long long)seq);
	memcpy(l->p + from, mark, (size_t)m);
	memset(l->p + from + m, ' ', n - (size_t)m);
	return 0;
}

/* One line into the staged copy (sealed again when encrypted). */
static int
put_line(struct copy *w, const char *line, size_t len)
{
	int rc;

	if (nedb__encrypted(w->db)) {
		if ((rc = nedb__line_seal(&w->db->crypt, &w->out, &w->tmp,
					  line, len)))
			return rc;
	} else if (nedb_buf_add(&w->out, line, len))
		return NEDB_EIO;
	return nedb_buf_add(&w->out, "\n", 1);
}

static int
copy_line(const char *line, size_t len, const struct log_loc *loc,
	  uint64_t next, void *payload)
{
	struct copy *w = payload;
	struct segment *s;
	int rc;

	if (nedb__each_seq(w->seqs, w->seqs_len, seq_is, &w->seq)) {
		w->line.len = 0;
		if (nedb_buf_add(&w->line, line, len))
			return NEDB_EIO;
		if ((rc = erase_tail(&w->line, w->r, w->seq)))
			return rc;
		line = w->line.p;
		w->erased++;
	}
	if ((rc = put_line(w, line, len)))
		return rc;
	if (w->seq < w->db->log.first_seq) {
		s = &w->db->log.segs[w->seg];
		if (w->seq == s->last) {
			char name[64];

			if ((rc = nedb__archive_write(w->sdb, w->out.p,
						      w->out.len, s->first,
						      s->last)))
				return rc;
			snprintf(name, sizeof name, "%020llu-%020llu.seg\n",
				 (unsigned long long)s->first,
				 (unsigned long long)s->last);
			nedb_buf_puts(&w->list, name);
			w->out.len = 0;
			w->seg++;
		}
	} else if (w->out.len >= (1u << 20)) {
		if (nedb__write_all(w->fd, w->out.p, w->out.len))
			return nedb__errno(NEDB_EIO, "cannot write log");
		w->out.len = 0;
	}
	w->seq++;
	return 0;
}

static int
copy_file(const char *from, const char *to)
{
	nedb_buf b = {0};
	int fd, rc = 0;

	if (nedb__read_file(from, &b))
		return errno == ENOENT ? 0 : nedb__errno(NEDB_EIO,
							 "cannot read");
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || nedb__write_all(fd, b.p, b.len) || fsync(fd))
		rc = nedb__errno(NEDB_EIO, "cannot write");
	if (fd >= 0)
		close(fd);
	nedb_buf_free(&b);
	return rc;
}

static int
sync_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd))
		rc = nedb__errno(NEDB_EIO, "cannot sync");
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Counts the seqs of a "seqs" text: returns 0 to go on. */
static int
count_seq(uint64_t seq, void *payload)
{
	(void)seq;
	++*(int *)payload;
	return 0;
}

/* Steps 1 and 2 into stage: the copy with the redaction, committed. */
static int
stage_copy(nedb *db, const char *stage, const char *opline, size_t oplen,
	   uint64_t r, const nedb_buf *seqs, const char *tmk_file)
{
	struct copy w = {.db = db, .fd = -1, .r = r, .seqs = seqs->p,
			 .seqs_len = seqs->len};
	static const char *const copied[] = {"key.enc", "meta.json", NULL};
	char *p = NULL, *q = NULL;
	uint64_t torn;
	nedb *s = NULL;
	int rc, named = 0;

	if (mkdir(stage, 0700))
		return nedb__errno(NEDB_EIO, "cannot make " STAGE);
	if ((rc = nedb__archive_load(db)))
		goto done;
	w.sdb = nedb__calloc(1, sizeof *w.sdb);
	w.sdb->dir = (char *)stage;
	p = nedb__path_in(stage, "log.aof");
	if ((w.fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
			 0600)) < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot write log");
		goto done;
	}
	rc = nedb__log_walk(db, 0, 0, nedb__log_end(db), copy_line, &w, &torn);
	/* the redact op last: its own line, as stage() made it ("\n"
	 * ended), and every named tail erased before it */
	if (!rc)
		nedb__each_seq(seqs->p, seqs->len, count_seq, &named);
	if (!rc && w.erased != (size_t)named)
		rc = nedb__err(NEDB_ECORRUPT, "cannot redact: the log does "
			       "not hold the versions the view named");
	if (!rc)
		rc = put_line(&w, opline, oplen - 1);
	if (!rc && (nedb__write_all(w.fd, w.out.p, w.out.len) || fsync(w.fd)))
		rc = nedb__errno(NEDB_EIO, "cannot write log");
	if (rc)
		goto done;
	nedb__test_pause("redact-copied");
	for (int i = 0; copied[i]; i++) {
		free(p);
		free(q);
		p = nedb__path_in(db->dir, copied[i]);
		q = nedb__path_in(stage, copied[i]);
		if ((rc = copy_file(p, q)))
			goto done;
	}
	/* the view, built from the new log by an ordinary open */
	if ((rc = nedb_open_key(&s, stage, 0, tmk_file)))
		goto done;
	nedb_close(s);
	free(p);
	p = nedb__path_in(stage, "view.mdb");
	if ((rc = sync_path(p)))
		goto done;
	free(p);
	p = nedb__path_in(stage, "view.sync");
	sync_path(p);
	free(p);
	p = nedb__path_in(stage, "archive");
	if (!access(p, F_OK) && (rc = nedb__fsync_dir(p)))
		goto done;
	if ((rc = nedb__fsync_dir(stage)))
		goto done;
	nedb__test_pause("redact-staged");
	/* 2. the commit */
	free(p);
	p = nedb__path_in(stage, "COMMIT");
	{
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);

		if (fd < 0 || nedb__write_all(fd, w.list.p ? w.list.p : "",
					      w.list.len) || fsync(fd))
			rc = nedb__errno(NEDB_EIO, "cannot write a "
					 "redaction's COMMIT");
		if (fd >= 0)
			close(fd);
	}
	if (!rc)
		rc = nedb__fsync_dir(stage);
done:
	if (w.fd >= 0)
		close(w.fd);
	if (w.sdb) {
		nedb__archive_free(w.sdb);
		free(w.sdb);
	}
	/* the erased text passed through these buffers */
	nedb__wipe(w.out.p, w.out.cap);
	nedb__wipe(w.line.p, w.line.cap);
	nedb_buf_free(&w.out);
	nedb_buf_free(&w.tmp);
	nedb_buf_free(&w.line);
	nedb_buf_free(&w.list);
	free(p);
	free(q);
	return rc;
}

int
nedb_redact(nedb *db, const char *coll, const char *id, uint64_t seq,
	    const char *reason, const nedb_wopts *w, const char *tmk_file,
	    nedb_receipt *receipt)
{
	char *stage = stage_path(db->dir, "");
	nedb_buf line = {0}, seqs = {0};
	nedb_receipt own;
	int dirfd = -1, rc;
	bool began = false;

	if (!receipt)
		receipt = &own;

	if (!db->writable) {
		rc = nedb__err(NEDB_EIO, "cannot redact in database '%s': it "
			       "is read-only", db->dir);
		goto done;
	}
	if (strcmp(db->log.be->name, "file") &&
	    strcmp(db->log.be->name, "file, encrypted")) {
		rc = nedb__err(NEDB_EIO, "cannot redact in database '%s': its "
			       "log is on %s, where redaction is not written "
			       "yet", db->dir, db->log.be->name);
		goto done;
	}
	if ((dirfd = nedb__dir_lock(db, LOCK_EX)) < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot lock database");
		goto done;
	}
	/* the op, judged and made by the ordinary path, then abandoned:
	 * the staged copy is where it is written */
	if ((rc = nedb_write_begin(db)))
		goto done;
	began = true;
	if ((rc = nedb__stage_redact(db, coll, id, seq, reason, w, receipt,
				     &line, &seqs)))
		goto done;
	if (!line.len)
		goto done;		/* a repeated idempotency key */
	if ((rc = nedb__view_exclusive(db, "cannot redact")))
		goto done;
	remove_tree(stage);	/* a copy left by a crash, never committed */
	if ((rc = stage_copy(db, stage, line.p, line.len, receipt->seq, &seqs,
			     tmk_file))) {
		remove_tree(stage);
		goto done;
	}
	nedb__test_pause("redact-committed");
	rc = roll_forward(db->dir);
done:
	if (began)
		nedb_write_abort(db);	/* still holds the writer lock */
	if (dirfd >= 0)
		close(dirfd);
	nedb_buf_free(&line);
	nedb_buf_free(&seqs);
	free(stage);
	return rc;
}
