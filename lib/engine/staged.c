/*
 * staged.c - a database rebuilt whole beside itself, then swapped in:
 * what encryption in place (convert.c) and redaction (redact.c) share.
 *
 * The new database is built in <db>/<stage>/ (".encrypt", ".redact"):
 *
 *  1. Under the directory's exclusive flock and the writer lock, with no
 *     other process holding the view open (the caller's part), the
 *     stage gets the log line by line (nedb__staged_line: archived ops
 *     into segments of the same seq ranges, the rest into log.aof,
 *     sealed when asked), the files the kind copies (key.enc,
 *     meta.json), and a view built fresh from that log by an ordinary
 *     open (a new file: no page of the old view, whose free pages may
 *     hold what is being removed, is carried over).
 *  2. <stage>/COMMIT is written and synced: it lists the segments.
 *     Before it exists the old database is the database; from then on
 *     the new one is.
 *  3. Roll forward (nedb__staged_roll): the listed segments over their
 *     namesakes, every other segment removed, then the kind's files in
 *     their order (the last one is the switch readers notice: log.aof,
 *     key.enc), the old view's view.mdb-lock removed, the stage removed.
 *
 * Every open looks for each stage (nedb__staged_recover, one stat): with
 * COMMIT it finishes step 3, without it removes the half-made copy, both
 * under the same two locks, so a rebuild in progress is waited for,
 * never disturbed.  So kill -9 at any instant leaves the old database or
 * the new one, each whole, and the next open makes it so on disk.
 *
 * Invariant: the live files are never edited; each is replaced by
 * rename, and only after COMMIT.
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

char *
nedb__staged_path(const struct staged_kind *k, const char *dir,
		  const char *name)
{
	size_t n = strlen(dir) + strlen(k->stage) + strlen(name) + 3;
	char *p = nedb__malloc(n);

	snprintf(p, n, "%s/%s%s%s", dir, k->stage, *name ? "/" : "", name);
	return p;
}

/* NEDB_TEST_PAUSE's point "<what>-<point>" */
static void
pause_at(const struct staged_kind *k, const char *point)
{
	char name[64];

	snprintf(name, sizeof name, "%s-%s", k->what, point);
	nedb__test_pause(name);
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

/* The staged name over its live namesake; moved before is fine. */
static int
move(const struct staged_kind *k, const char *dir, const char *name)
{
	char *a = nedb__staged_path(k, dir, name), *b = nedb__path_in(dir, name);
	int rc = 0;

	if (rename(a, b) && errno != ENOENT)
		rc = nedb__err(NEDB_EIO, "cannot finish %s in '%s': cannot "
			       "move %s: %s", k->noun, dir, name,
			       strerror(errno));
	free(a);
	free(b);
	return rc;
}

static bool
listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; (p = strstr(p, name)); p += n)
		if ((p == list || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

int
nedb__staged_roll(const struct staged_kind *k, const char *dir)
{
	char *commit = nedb__staged_path(k, dir, "COMMIT"), *arch, *stage;
	nedb_buf b = {0};
	struct dirent *e;
	DIR *d;
	int rc = 0;

	/* the whole list, however many segments: one left out would be
	 * taken for an old one and removed */
	if (nedb__read_file(commit, &b)) {
		rc = nedb__err(NEDB_EIO, "cannot read %s's COMMIT: %s",
			       k->noun, strerror(errno));
		goto done;
	}
	nedb_buf_add(&b, "", 1);
	arch = nedb__path_in(dir, "archive");
	mkdir(arch, 0700);
	for (const char *p = b.p, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		char name[160];

		if (nl - p >= 128)
			continue;
		snprintf(name, sizeof name, "archive/%.*s", (int)(nl - p), p);
		if ((rc = move(k, dir, name)))
			break;
	}
	if (!rc && (d = opendir(arch))) {
		while ((e = readdir(d)))
			if (e->d_name[0] != '.' && !listed(b.p, e->d_name))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	if (!rc)
		rc = nedb__fsync_dir(arch);
	free(arch);
	pause_at(k, "rolling");
	for (int i = 0; !rc && k->files[i]; i++) {
		rc = move(k, dir, k->files[i]);
		if (!rc && !strcmp(k->files[i], "view.mdb")) {
			char *lock = nedb__path_in(dir, "view.mdb-lock");

			unlink(lock);	/* the old view's */
			free(lock);
		}
	}
	if (!rc)
		rc = nedb__fsync_dir(dir);
	if (!rc) {
		stage = nedb__staged_path(k, dir, "");
		unlink(commit);
		remove_tree(stage);
		free(stage);
		rc = nedb__fsync_dir(dir);
	}
done:
	nedb_buf_free(&b);
	free(commit);
	return rc;
}

int
nedb__staged_recover(nedb *db, const struct staged_kind *k)
{
	char *stage = nedb__staged_path(k, db->dir, ""), *commit;
	struct stat st;
	int dirfd = -1, rc = 0;

	if (lstat(stage, &st)) {
		free(stage);
		return 0;		/* the usual case */
	}
	commit = nedb__staged_path(k, db->dir, "COMMIT");
	if ((dirfd = nedb__dir_lock(db, LOCK_EX)) < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot lock database");
		goto done;
	}
	if ((rc = nedb__wlock(db, true)))
		goto done;
	if (!lstat(commit, &st)) {
		nedb__warn("%s was interrupted after its commit: finishing "
			   "it", k->noun);
		rc = nedb__staged_roll(k, db->dir);
	} else if (!lstat(stage, &st)) {
		nedb__warn("%s was interrupted before its commit: the "
			   "database stays as it was", k->noun);
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

int
nedb__staged_begin(struct staged *s, const struct staged_kind *k, nedb *db,
		   const struct nedb_crypt *seal)
{
	char *p;
	int rc;

	memset(s, 0, sizeof *s);
	s->k = k;
	s->db = db;
	s->seal = seal;
	s->fd = -1;
	s->dir = nedb__staged_path(k, db->dir, "");
	remove_tree(s->dir);	/* a copy left by a crash, never committed */
	if (mkdir(s->dir, 0700))
		return nedb__err(NEDB_EIO, "cannot make %s: %s", k->stage,
				 strerror(errno));
	if ((rc = nedb__archive_load(db)))
		return rc;
	s->sdb = nedb__calloc(1, sizeof *s->sdb);
	s->sdb->dir = s->dir;
	p = nedb__path_in(s->dir, "log.aof");
	s->fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	free(p);
	if (s->fd < 0)
		return nedb__errno(NEDB_EIO, "cannot write log");
	return 0;
}

int
nedb__staged_line(struct staged *s, const char *line, size_t len)
{
	struct segment *g;
	int rc;

	if (s->seal) {
		if ((rc = nedb__line_seal(s->seal, &s->out, &s->tmp, line,
					  len)))
			return rc;
	} else if (nedb_buf_add(&s->out, line, len))
		return NEDB_EIO;
	if (nedb_buf_add(&s->out, "\n", 1))
		return NEDB_EIO;
	if (s->seq < s->db->log.first_seq) {
		g = &s->db->log.segs[s->seg];
		if (s->seq == g->last) {
			char name[64];

			if ((rc = nedb__archive_write(s->sdb, s->out.p,
						      s->out.len, g->first,
						      g->last)))
				return rc;
			snprintf(name, sizeof name, "%020llu-%020llu.seg\n",
				 (unsigned long long)g->first,
				 (unsigned long long)g->last);
			nedb_buf_puts(&s->list, name);
			s->out.len = 0;
			s->seg++;
		}
	} else if (s->out.len >= (1u << 20)) {
		if (nedb__write_all(s->fd, s->out.p, s->out.len))
			return nedb__errno(NEDB_EIO, "cannot write log");
		s->out.len = 0;
	}
	s->seq++;
	return 0;
}

/* A new file at path holding n bytes of p, synced. */
static int
write_synced(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0 || nedb__write_all(fd, p, n) || fsync(fd))
		rc = nedb__err(NEDB_EIO, "cannot write %s: %s", path,
			       strerror(errno));
	if (fd >= 0)
		close(fd);
	return rc;
}

/* A copy of from at to, synced; from missing is no error. */
static int
copy_file(const char *from, const char *to)
{
	nedb_buf b = {0};
	int rc;

	if (nedb__read_file(from, &b))
		return errno == ENOENT ? 0 : nedb__errno(NEDB_EIO,
							 "cannot read");
	rc = write_synced(to, b.p, b.len);
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

int
nedb__staged_commit(struct staged *s, const char *tmk_file)
{
	char *p = NULL, *q = NULL;
	nedb *v = NULL;
	int rc = 0;

	if (nedb__write_all(s->fd, s->out.p, s->out.len) || fsync(s->fd))
		return nedb__errno(NEDB_EIO, "cannot write log");
	pause_at(s->k, "copied");
	for (int i = 0; !rc && s->k->copied[i]; i++) {
		free(p);
		free(q);
		p = nedb__path_in(s->db->dir, s->k->copied[i]);
		q = nedb__path_in(s->dir, s->k->copied[i]);
		rc = copy_file(p, q);
	}
	/* the view, built from the staged log by an ordinary open */
	if (rc || (rc = nedb_open_key(&v, s->dir, 0, tmk_file)))
		goto done;
	nedb_close(v);
	free(p);
	p = nedb__path_in(s->dir, "view.mdb");
	if ((rc = sync_path(p)))
		goto done;
	free(p);
	p = nedb__path_in(s->dir, "view.sync");
	sync_path(p);
	free(p);
	p = nedb__path_in(s->dir, "archive");
	if (!access(p, F_OK) && (rc = nedb__fsync_dir(p)))
		goto done;
	if ((rc = nedb__fsync_dir(s->dir)))
		goto done;
	pause_at(s->k, "staged");
	/* 2. the commit */
	free(p);
	p = nedb__path_in(s->dir, "COMMIT");
	if ((rc = write_synced(p, s->list.len ? s->list.p : "",
				     s->list.len)) ||
	    (rc = nedb__fsync_dir(s->dir)))
		goto done;
done:
	free(p);
	free(q);
	return rc;
}

void
nedb__staged_end(struct staged *s, bool committed)
{
	if (s->fd >= 0)
		close(s->fd);
	if (s->sdb) {
		nedb__archive_free(s->sdb);
		free(s->sdb);
	}
	if (!committed && s->dir)
		remove_tree(s->dir);
	/* what is being removed or sealed passed through these */
	nedb__wipe(s->out.p, s->out.cap);
	nedb__wipe(s->tmp.p, s->tmp.cap);
	nedb_buf_free(&s->out);
	nedb_buf_free(&s->tmp);
	nedb_buf_free(&s->list);
	free(s->dir);
	memset(s, 0, sizeof *s);
	s->fd = -1;
}
