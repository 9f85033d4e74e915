/*
 * convert.c - encrypting a plaintext database in place (SPEC §8): what
 * opening one with a key does.
 *
 * The encrypted database is built whole beside the plaintext one, in
 * <db>/.encrypt/, then swapped in:
 *
 *  1. Under the directory's exclusive flock and the writer lock, with no
 *     other process holding the view open (compaction's test, db.c):
 *     .encrypt/ gets a new key.enc, every op of the log sealed (archived
 *     ops into segments of the same seq ranges, the rest into log.aof),
 *     meta.json, and a view built fresh from that log by an ordinary
 *     open of .encrypt/ (a new file: no page of the old view, which may
 *     hold plaintext in its free pages, is carried over).
 *  2. .encrypt/COMMIT is written and synced: it lists the archive
 *     segments.  Before it exists the plaintext database is the
 *     database; from then on the encrypted one is.
 *  3. Roll forward: each file of .encrypt/ is renamed over its plaintext
 *     namesake (key.enc last), plaintext segments not in the list are
 *     removed, view.mdb-lock (the old view's) goes, .encrypt/ goes.
 *
 * Every open looks for .encrypt/ first (one stat; nedb__encrypt_recover):
 * with COMMIT it finishes step 3, without it removes the half-made copy.
 * Both happen under the same two locks, so a conversion in progress is
 * waited for, never disturbed.  So kill -9 at any point leaves the
 * plaintext database or the encrypted one, each whole, and the next open
 * of either kind makes it so on disk.
 *
 * The ops keep their bytes (a plaintext op has no salt member), so every
 * hash and the head are unchanged: a published head still verifies.
 * What this cannot do: the blocks of the replaced plaintext files are
 * freed, not overwritten; a disk thief may find them (nedb-key(1)).
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

#define STAGE ".encrypt"

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
move(const char *dir, const char *from, const char *to)
{
	char *a = stage_path(dir, from), *b = nedb__path_in(dir, to);
	int rc = 0;

	if (rename(a, b) && errno != ENOENT)	/* ENOENT: moved before */
		rc = nedb__err(NEDB_EIO, "cannot encrypt database '%s': "
			       "cannot move %s: %s", dir, from,
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

/* Step 3: the staged files over the plaintext ones, key.enc last. */
static int
roll_forward(const char *dir)
{
	static const char *const files[] = {
		"meta.json", "view.mdb", "view.sync", "log.aof", NULL
	};
	char *commit = stage_path(dir, "COMMIT"), *arch, *list;
	nedb_buf b = {0};
	struct dirent *e;
	DIR *d;
	int rc = 0;

	/* the whole list, however many segments: one left out would be
	 * taken for a plaintext one and removed */
	if (nedb__read_file(commit, &b)) {
		rc = nedb__errno(NEDB_EIO, "cannot read an encryption's "
				 "COMMIT");
		goto done;
	}
	nedb_buf_add(&b, "", 1);
	list = b.p;
	arch = nedb__path_in(dir, "archive");
	mkdir(arch, 0700);
	/* the listed segments (not moved yet: still staged), then away
	 * with every plaintext one */
	for (const char *p = list, *nl; (nl = strchr(p, '\n')); p = nl + 1) {
		char name[128], from[160];

		if (nl - p >= (ptrdiff_t)sizeof name)
			continue;
		memcpy(name, p, (size_t)(nl - p));
		name[nl - p] = 0;
		snprintf(from, sizeof from, "archive/%s", name);
		if ((rc = move(dir, from, from)))
			break;
	}
	if (!rc && (d = opendir(arch))) {
		while ((e = readdir(d)))
			if (e->d_name[0] != '.' && !listed(list, e->d_name))
				unlinkat(dirfd(d), e->d_name, 0);
		closedir(d);
	}
	if (!rc)
		rc = nedb__fsync_dir(arch);
	free(arch);
	nedb__test_pause("encrypt-rolling");
	for (int i = 0; !rc && files[i]; i++)
		rc = move(dir, files[i], files[i]);
	if (!rc) {
		char *lockp = nedb__path_in(dir, "view.mdb-lock");

		unlink(lockp);	/* the old view's */
		free(lockp);
		rc = move(dir, NEDB_KEYFILE, NEDB_KEYFILE);
	}
	if (!rc)
		rc = nedb__fsync_dir(dir);
	if (!rc) {
		char *stage = stage_path(dir, "");

		unlink(commit);
		remove_tree(stage);
		free(stage);
	}
done:
	nedb_buf_free(&b);
	free(commit);
	return rc;
}

int
nedb__encrypt_recover(nedb *db)
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
		nedb__warn("an encryption of the database was interrupted "
			   "after its commit: finishing it");
		rc = roll_forward(db->dir);
	} else if (!lstat(stage, &st)) {
		nedb__warn("an encryption of the database was interrupted: "
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

/* Step 1's copy of the log: every complete op, sealed. */
struct copy {
	nedb *db;
	nedb *sdb;			/* the staging dir's, for archive.c */
	struct nedb_crypt *c;
	int fd;				/* .encrypt/log.aof */
	size_t seg;			/* the segment being filled */
	uint64_t seq;
	nedb_buf out, tmp;
	nedb_buf list;			/* segment names, for COMMIT */
	int rc;
};

static int
copy_line(const char *line, size_t len, const struct log_loc *loc,
	  uint64_t next, void *payload)
{
	struct copy *w = payload;
	struct segment *s;
	int rc;

	if ((rc = nedb__line_seal(w->c, &w->out, &w->tmp, line, len)) ||
	    (rc = nedb_buf_add(&w->out, "\n", 1)))
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
write_file(const char *path, const char *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = 0;

	if (fd < 0 || nedb__write_all(fd, p, n) || fsync(fd))
		rc = nedb__errno(NEDB_EIO, "cannot write");
	if (fd >= 0)
		close(fd);
	return rc;
}

static int
sync_file(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0 || fsync(fd))
		rc = nedb__errno(NEDB_EIO, "cannot sync");
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Steps 1 and 2 into stage: the encrypted copy, committed. */
static int
stage_copy(nedb *db, const char *stage, const char *tmk_file)
{
	unsigned char tmk[NEDB_KEY_LEN];
	struct nedb_crypt c = {0};
	struct copy w = {.db = db, .c = &c, .fd = -1};
	char *p = NULL;
	nedb_buf meta = {0};
	uint64_t torn;
	bool have;
	nedb *s = NULL;
	int rc;

	if (mkdir(stage, 0700))
		return nedb__errno(NEDB_EIO, "cannot make " STAGE);
	if ((rc = nedb__tmk_get(tmk, &have, tmk_file, getenv("NEDB_TMK"),
				getenv("NEDB_TMK_FILE"))) ||
	    (rc = nedb__crypt_create(&c, stage, tmk)))
		goto done;
	/* the log, sealed: archived ops into segments of the same ranges */
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
	if (!rc && (nedb__write_all(w.fd, w.out.p, w.out.len) || fsync(w.fd)))
		rc = nedb__errno(NEDB_EIO, "cannot write log");
	if (rc)
		goto done;
	nedb__test_pause("encrypt-copied");
	/* meta.json as it is: configuration, no data */
	free(p);
	p = nedb__path_in(db->dir, "meta.json");
	if (!nedb__read_file(p, &meta)) {
		free(p);
		p = nedb__path_in(stage, "meta.json");
		if ((rc = write_file(p, meta.p, meta.len)))
			goto done;
	}
	/* the view, built from the sealed log by an ordinary open */
	if ((rc = nedb_open_key(&s, stage, 0, tmk_file)))
		goto done;
	nedb_close(s);
	free(p);
	p = nedb__path_in(stage, "view.mdb");
	if ((rc = sync_file(p)))
		goto done;
	free(p);
	p = nedb__path_in(stage, "view.sync");
	sync_file(p);
	free(p);
	p = nedb__path_in(stage, "archive");
	if (!access(p, F_OK) && (rc = nedb__fsync_dir(p)))
		goto done;
	if ((rc = nedb__fsync_dir(stage)))
		goto done;
	nedb__test_pause("encrypt-staged");
	/* 2. the commit */
	free(p);
	p = nedb__path_in(stage, "COMMIT");
	if ((rc = write_file(p, w.list.len ? w.list.p : "", w.list.len)) ||
	    (rc = nedb__fsync_dir(stage)))
		goto done;
done:
	nedb__wipe(tmk, sizeof tmk);
	nedb__crypt_keys_free(&c);
	if (w.fd >= 0)
		close(w.fd);
	if (w.sdb) {
		nedb__archive_free(w.sdb);
		free(w.sdb);
	}
	nedb__wipe(w.out.p, w.out.cap);
	nedb_buf_free(&w.out);
	nedb_buf_free(&w.tmp);
	nedb_buf_free(&w.list);
	nedb_buf_free(&meta);
	free(p);
	return rc;
}

int
nedb__encrypt(nedb *db, const char *tmk_file)
{
	char *stage = stage_path(db->dir, "");
	int dirfd = -1, rc;
	bool enc;
	unsigned char kid[NEDB_KEYID_LEN];

	if (!db->writable) {
		rc = nedb__err(NEDB_EIO, "cannot encrypt database '%s': it is "
			       "read-only", db->dir);
		goto done;
	}
	{
		/* the file store's addresses are in the log (each version's
		 * root and manifest): keyed ones would need a new log */
		char *fs = nedb__path_in(db->dir, "files");
		struct stat st;
		bool has = !lstat(fs, &st);

		free(fs);
		if (has) {
			rc = nedb__err(NEDB_EREJECTED, "cannot encrypt database "
				       "'%s' in place: it has a file store, "
				       "whose chunk addresses its log holds; "
				       "copy its files into a new encrypted "
				       "database instead", db->dir);
			goto done;
		}
	}
	if ((dirfd = nedb__dir_lock(db, LOCK_EX)) < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot lock database");
		goto done;
	}
	if ((rc = nedb__wlock(db, true)))
		goto done;
	/* encrypted meanwhile by another process: the reopen finds it */
	if ((rc = nedb__key_status(db->dir, &enc, kid)) || enc)
		goto unlock;
	if ((rc = nedb__view_exclusive(db, "cannot encrypt database")))
		goto unlock;
	remove_tree(stage);	/* a copy left by a crash, never committed */
	if ((rc = stage_copy(db, stage, tmk_file))) {
		remove_tree(stage);
		goto unlock;
	}
	nedb__test_pause("encrypt-committed");
	rc = roll_forward(db->dir);
unlock:
	nedb__wunlock(db);
done:
	if (dirfd >= 0)
		close(dirfd);
	free(stage);
	return rc;
}
