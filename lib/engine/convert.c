/*
 * convert.c - encrypting a plaintext database in place (SPEC §8): what
 * opening one with a key does.
 *
 * The encrypted database is built whole beside the plaintext one, in
 * <db>/.encrypt/, then swapped in (staged.c says how, and why kill -9 at
 * any point leaves the plaintext database or the encrypted one, each
 * whole): the stage gets a new key.enc, every op of the log sealed,
 * meta.json and a view built fresh from the sealed log (a new file: no
 * page of the old view, which may hold plaintext in its free pages, is
 * carried over).  key.enc is the last file rolled forward: until it is
 * in place, the database is the plaintext one.
 *
 * The ops keep their bytes (a plaintext op has no salt member), so every
 * hash and the head are unchanged: a published head still verifies.
 * What this cannot do: the blocks of the replaced plaintext files are
 * freed, not overwritten; a disk thief may find them (nedb-key(1)).
 */
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "internal.h"

static const char *const copied[] = {"meta.json", NULL};
/* key.enc last: until it is in place the database is plaintext */
static const char *const files[] = {
	"meta.json", "view.mdb", "view.sync", "log.aof", NEDB_KEYFILE, NULL
};
static const struct staged_kind encryption = {
	".encrypt", "encrypt", "an encryption of the database", copied, files
};

int
nedb__encrypt_recover(nedb *db)
{
	return nedb__staged_recover(db, &encryption);
}

static int
copy_line(const char *line, size_t len, const struct log_loc *loc,
	  uint64_t next, void *payload)
{
	return nedb__staged_line(payload, line, len);
}

/* Steps 1 and 2: the encrypted copy, committed. */
static int
stage_copy(nedb *db, const char *tmk_file)
{
	unsigned char tmk[NEDB_KEY_LEN];
	struct nedb_crypt c = {0};
	struct staged s;
	uint64_t torn;
	bool have;
	int rc;

	if (!(rc = nedb__staged_begin(&s, &encryption, db, &c)) &&
	    !(rc = nedb__tmk_get(tmk, &have, tmk_file, getenv("NEDB_TMK"),
				 getenv("NEDB_TMK_FILE"))) &&
	    !(rc = nedb__crypt_create(&c, s.dir, tmk)) &&
	    !(rc = nedb__log_walk(db, 0, 0, nedb__log_end(db), copy_line, &s,
				  &torn)))
		rc = nedb__staged_commit(&s, tmk_file);
	nedb__wipe(tmk, sizeof tmk);
	nedb__crypt_keys_free(&c);
	nedb__staged_end(&s, !rc);
	return rc;
}

int
nedb__encrypt(nedb *db, const char *tmk_file)
{
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
	if ((rc = stage_copy(db, tmk_file)))
		goto unlock;
	nedb__test_pause("encrypt-committed");
	rc = nedb__staged_roll(&encryption, db->dir);
unlock:
	nedb__wunlock(db);
done:
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}
