/*
 * logfile.c - the file backend of the log (logstore.h): log.aof, and the
 * segments a prune archives (archive.c).
 *
 * log.aof holds the lines of ops first_seq on, "\n"-terminated, exactly
 * as nedb__log_format wrote them; archive/ holds the ones before.  A
 * position is a virtual byte offset: an offset in the concatenation of
 * every archived line and log.aof, so a prune never changes one; log.aof
 * begins at virtual offset shift (the raw size of the archive).  A
 * locator is the virtual offset of the line and its length without the
 * newline.
 *
 * Invariants (beside logstore.h's contract):
 *  1. log.aof is opened O_APPEND: a batch is written at the end,
 *     whatever another handle did before the writer lock was taken.
 *  2. log.aof is replaced only by rename (rotate), under the writer
 *     lock; a handle follows by inode (follow), and a process that still
 *     holds the old file reads a consistent log through it.
 *  3. This is the one place that maps log.aof (map: verify's walk and a
 *     prune's copy).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

#define CHUNK (1u << 20)

/*
 * Where log.aof begins: the seq of its first line and the bytes archived
 * before it (archive.c).  A log that was never pruned starts at seq 0.
 */
static int
origin(nedb *db)
{
	char head[32];
	struct stat st;
	ssize_t n;

	db->log.first_seq = 0;
	db->log.shift = 0;
	if (fstat(db->log.fd, &st))
		return nedb__errno(NEDB_EIO, "cannot read log");
	db->log.ino = (uint64_t)st.st_ino;
	n = pread(db->log.fd, head, sizeof head - 1, 0);
	if (n >= 8 && !memcmp(head, "{\"enc\":", 7) && nedb__encrypted(db)) {
		/* sealed: only the plaintext says (logcrypt.c) */
		int rc = nedb__crypt_first_seq(db, db->log.fd,
					       &db->log.first_seq);

		if (rc)
			return rc;
	} else if (n < 8 || memcmp(head, "{\"seq\":", 7)) {
		return 0;	/* empty, or damage the walk will report */
	} else {
		head[n] = 0;
		db->log.first_seq = strtoull(head + 7, NULL, 10);
	}
	if (!db->log.first_seq)
		return 0;
	return nedb__archive_size(db, db->log.first_seq, &db->log.shift);
}

static int
f_open(nedb *db, bool create, bool *writable)
{
	char *p = nedb__path_in(db->dir, "log.aof");
	const char *dir = db->dir;
	int rc;

	db->log.fd = -1;
	if (!p)
		return nedb__err(NEDB_EIO, "out of memory");
	*writable = true;
	db->log.fd = open(p, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
			  (create ? O_CREAT : 0), 0600);
	if (db->log.fd < 0 && (errno == EACCES || errno == EROFS)) {
		*writable = false;
		db->log.fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	free(p);
	if (db->log.fd < 0)
		return errno == ELOOP ?
		       nedb__err(NEDB_EIO, "cannot open database '%s': "
				 "log.aof is a symbolic link, which nedb does "
				 "not follow", dir) :
		       errno == ENOENT ?
		       nedb__err(NEDB_ENOTFOUND, "cannot open database '%s': "
				 "no such database (no log.aof)", dir) :
		       nedb__err(NEDB_EIO, "cannot open database '%s': %s",
				 dir, strerror(errno));
	if ((rc = origin(db)))
		return rc;
	return 0;
}

static void
f_close(nedb *db)
{
	if (db->log.fd >= 0)
		close(db->log.fd);
	db->log.fd = -1;
	nedb__archive_free(db);
}

/* log.aof may have been replaced by a prune: reopen it. */
static int
f_follow(nedb *db, bool *rotated)
{
	char *p = nedb__path_in(db->dir, "log.aof");
	struct stat st;
	int fd, rc = 0;

	if (!p)
		return nedb__err(NEDB_EIO, "out of memory");
	if (lstat(p, &st)) {
		/* removed (nedb_destroy): a writer must not go on */
		if (errno == ENOENT && db->wlocked)
			rc = nedb__err(NEDB_ENOTFOUND, "cannot write to "
				       "database '%s': it was removed",
				       db->dir);
	} else if ((uint64_t)st.st_ino != db->log.ino) {
		*rotated = true;
		fd = open(p, (db->writable ? O_RDWR | O_APPEND : O_RDONLY) |
			  O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			rc = nedb__errno(NEDB_EIO, "cannot open log");
		else {
			close(db->log.fd);
			db->log.fd = fd;
			nedb__archive_free(db);
			rc = origin(db);
		}
	}
	free(p);
	return rc;
}

/* The virtual size of the log: archived bytes plus log.aof's. */
static uint64_t
f_end(nedb *db)
{
	struct stat st;

	if (fstat(db->log.fd, &st))
		return 0;
	return db->log.shift + (uint64_t)st.st_size;
}

static uint64_t
f_place(uint64_t pos, size_t len, struct log_loc *loc)
{
	loc->a = pos;
	loc->b = (uint32_t)len;
	return pos + len + 1;
}

static uint64_t
f_after(const struct log_loc *loc)
{
	return loc->a + loc->b + 1;
}

static int
f_append(nedb *db, const char *lines, size_t len, bool sync)
{
	if (nedb__write_all(db->log.fd, lines, len))
		return NEDB_EIO;
	if (sync && fdatasync(db->log.fd)) {
		db->log.failed = true;
		return NEDB_EIO;
	}
	return 0;
}

static int
f_sync(nedb *db)
{
	if (fdatasync(db->log.fd)) {
		db->log.failed = true;
		return NEDB_EIO;
	}
	return 0;
}

static int
f_restore_end(nedb *db, uint64_t pos)
{
	if (pos != f_end(db) + 1 || nedb__write_all(db->log.fd, "\n", 1))
		return 1;
	return 0;
}

static int
f_truncate(nedb *db, uint64_t pos)
{
	if (pos < db->log.shift ||
	    ftruncate(db->log.fd, (off_t)(pos - db->log.shift)) ||
	    fdatasync(db->log.fd)) {
		if (pos < db->log.shift)
			errno = EINVAL;
		db->log.failed = true;
		return NEDB_EIO;
	}
	return 0;
}

static int
f_read(nedb *db, uint64_t seq, const struct log_loc *loc, nedb_buf *out)
{
	ssize_t n;
	int rc;

	if (seq < db->log.first_seq) {
		/* pruned: the line is in the archive */
		if ((rc = nedb__archive_line(db, seq, out)))
			return rc;
		if (out->len != loc->b)
			return nedb__err(NEDB_ECORRUPT, "corrupt archive at seq "
					 "%llu: line differs from the one the "
					 "view recorded",
					 (unsigned long long)seq);
		return 0;
	}
	if (nedb_buf_grow(out, (size_t)loc->b + 1))
		return NEDB_EIO;
	n = loc->a < db->log.shift ? -2 :
	    pread(db->log.fd, out->p, (size_t)loc->b + 1,
		  (off_t)(loc->a - db->log.shift));
	if (n == -1)
		return nedb__errno(NEDB_EIO, "cannot read log");
	if (n < 0 || (size_t)n != loc->b + 1 || out->p[loc->b] != '\n')
		return nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: line "
				 "is missing or cut short",
				 (unsigned long long)seq);
	out->len = loc->b;
	out->p[out->len] = 0;
	return 0;
}

struct aw {
	log_walk_fn fn;
	void *payload;
	uint64_t next;
};

static int
archived_line(const char *line, size_t len, uint64_t off, void *payload)
{
	struct aw *w = payload;
	struct log_loc loc = {off, (uint32_t)len};

	w->next = off + len + 1;
	return w->fn(line, len, &loc, w->next, w->payload);
}

static int
f_walk(nedb *db, uint64_t seq, uint64_t from, uint64_t to, log_walk_fn fn,
       void *payload, uint64_t *torn)
{
	nedb_buf b = {0};
	uint64_t pos;		/* physical offset of b.p[0] in log.aof */
	int rc = 0;

	*torn = to;
	if (from < db->log.shift) {
		/* ops pruned into the archive come first */
		struct aw w = {fn, payload, from};

		if ((rc = nedb__archive_scan(db, seq, archived_line, &w)))
			return rc;
		if (w.next != db->log.shift)
			return nedb__err(NEDB_ECORRUPT, "corrupt archive: it "
					 "does not end where log.aof begins");
		from = w.next;
	}
	if (to < from)
		return 0;
	pos = from - db->log.shift;
	to -= db->log.shift;
	while (pos + b.len < to) {
		size_t want = CHUNK, start = 0;
		ssize_t n;
		char *nl;

		if (to - pos - b.len < want)
			want = (size_t)(to - pos - b.len);
		if ((rc = nedb_buf_grow(&b, want)))
			goto done;
		n = pread(db->log.fd, b.p + b.len, want, (off_t)(pos + b.len));
		if (n < 0) {
			rc = nedb__errno(NEDB_EIO, "cannot read log");
			goto done;
		}
		if (n == 0)
			break;
		b.len += (size_t)n;
		while ((nl = memchr(b.p + start, '\n', b.len - start))) {
			size_t len = (size_t)(nl - (b.p + start));
			struct log_loc loc = {db->log.shift + pos + start,
					      (uint32_t)len};

			if ((rc = fn(b.p + start, len, &loc,
				     loc.a + len + 1, payload)))
				goto done;
			start += len + 1;
		}
		memmove(b.p, b.p + start, b.len - start);
		b.len -= start;
		pos += start;
	}
	if (b.len)
		*torn = db->log.shift + pos;
done:
	nedb_buf_free(&b);
	return rc;
}

static int
f_map(nedb *db, struct log_map *m)
{
	struct stat st;
	void *p;

	if (fstat(db->log.fd, &st))
		return nedb__errno(NEDB_EIO, "cannot read log");
	m->seq = db->log.first_seq;
	m->pos = db->log.shift;
	if (st.st_size == 0)
		return 0;
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, db->log.fd,
		 0);
	if (p == MAP_FAILED)
		return nedb__errno(NEDB_EIO, "cannot read log");
	madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
	m->readable = true;
	m->fd = db->log.fd;
	m->p = p;
	m->n = (size_t)st.st_size;
	return 0;
}

static void
f_unmap(struct log_map *m)
{
	munmap((void *)m->p, m->n);
}

/*
 * Archives the ops before seq (whose line is at loc) and starts log.aof
 * at it: the segment is complete on disk first, then the rest of the log
 * replaces log.aof by rename, then this handle follows.
 */
static int
f_rotate(nedb *db, uint64_t seq, const struct log_loc *loc,
	 nedb_prune_info *out)
{
	struct log_map m = {0};
	char *logp = NULL, *tmpp = NULL;
	uint64_t first = db->log.first_seq, cut;
	bool rotated;
	int fd = -1, rc, dsync = 0;

	if (seq <= first)
		return 0;		/* nothing before it in log.aof */
	cut = loc->a - db->log.shift;	/* bytes of log.aof before seq */
	if ((rc = f_map(db, &m)))
		return rc;
	if (cut > m.n) {
		rc = nedb__err(NEDB_ECORRUPT, "corrupt log: it ends before seq "
			       "%llu", (unsigned long long)seq);
		goto done;
	}
	/* 1. the segment, complete on disk */
	if ((rc = nedb__archive_drop_from(db, first)) ||
	    (rc = nedb__archive_write(db, m.p, cut, first, seq - 1)))
		goto done;
	/* 2. the rest of the log as the new log.aof, swapped in by rename */
	logp = nedb__path_in(db->dir, "log.aof");
	tmpp = nedb__path_in(db->dir, "log.aof.prune");
	if (!logp || !tmpp) {
		rc = nedb__err(NEDB_EIO, "out of memory");
		goto done;
	}
	fd = open(tmpp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || nedb__write_all(fd, m.p + cut, m.n - cut) || fsync(fd) ||
	    rename(tmpp, logp)) {
		rc = nedb__errno(NEDB_EIO, "cannot write log");
		unlink(tmpp);
		goto done;
	}
	/* log.aof is replaced either way: a failed sync of the rename is
	 * reported once this handle has followed it */
	dsync = nedb__fsync_dir(db->dir);
	close(fd);
	fd = -1;
	out->archived = seq - first;
	out->first = first;
	out->last = seq - 1;
	out->bytes = cut;
	/* 3. this handle moves to the new file */
	if (!(rc = f_follow(db, &rotated)))
		rc = dsync;
done:
	if (fd >= 0)
		close(fd);
	if (m.p)
		f_unmap(&m);
	free(logp);
	free(tmpp);
	return rc;
}

static uint64_t
f_bytes(nedb *db)
{
	struct stat st;

	return fstat(db->log.fd, &st) ? 0 : (uint64_t)st.st_size;
}

const struct log_backend nedb__log_file = {
	.name = "file",
	.open = f_open,
	.close = f_close,
	.follow = f_follow,
	.end = f_end,
	.place = f_place,
	.after = f_after,
	.append = f_append,
	.sync = f_sync,
	.restore_end = f_restore_end,
	.truncate = f_truncate,
	.read = f_read,
	.walk = f_walk,
	.map = f_map,
	.unmap = f_unmap,
	.rotate = f_rotate,
	.bytes = f_bytes,
};
