/*
 * witness.c - nedb_witness_cosign: a transparency-log witness (SPEC §9,
 * nedb-witness(1)).  It cosigns a log's signed checkpoint only when the
 * log's signature verifies and the checkpoint is consistent with the
 * last one it accepted for that origin, so that two parties shown
 * different histories (a fork) cannot both hold its cosignature.
 *
 * State: one file per origin in the state directory, named by the hex
 * SHA-256 of the origin (any origin is a safe file name then), holding
 * the last accepted signed checkpoint note as received.  A "lock" file
 * in the directory is flock()ed for the whole check-and-replace, so two
 * witness processes on one directory are serialised.
 *
 * Invariants:
 *  1. Nothing is cosigned that is not recorded first: the state file is
 *     replaced (temporary file written, fsynced, renamed over, directory
 *     fsynced) before the cosignature is made and returned.  A crash
 *     leaves the old file or the new one, whole.
 *  2. The accepted size per origin never decreases, and the accepted
 *     root at a size never changes: a smaller size, a different root at
 *     the same size, or a larger size without a consistency proof from
 *     the accepted tree to the new one is refused (NEDB_EBROKEN) and
 *     changes nothing.
 *  3. The first checkpoint seen for an origin is accepted on its log
 *     signature alone (trust on first use).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"
#include "verify.h"

/* The roots of the accepted and offered checkpoints, for messages. */
static void
roots_b64(char a[64], char b[64], const struct nedb_checkpoint *old,
	  const struct nedb_checkpoint *cur)
{
	size_t n;

	if (nedb__b64_encode(a, old->root, NEDB_TLOG_HASH, &n))
		strcpy(a, "?");
	if (nedb__b64_encode(b, cur->root, NEDB_TLOG_HASH, &n))
		strcpy(b, "?");
}

/* Checks cur against the accepted old (invariant 2). */
static int
check_consistent(const struct nedb_checkpoint *old,
		 const struct nedb_checkpoint *cur, const char *proof,
		 size_t proof_len)
{
	struct nedb_cproof *p;
	char ra[64], rb[64];
	int rc;

	roots_b64(ra, rb, old, cur);
	if (cur->size < old->size)
		return nedb__err(NEDB_EBROKEN, "'%s': size %llu (root %s) is "
				 "smaller than the accepted %llu (root %s)",
				 cur->origin, (unsigned long long)cur->size,
				 rb, (unsigned long long)old->size, ra);
	if (cur->size == old->size) {
		if (memcmp(cur->root, old->root, NEDB_TLOG_HASH))
			return nedb__err(NEDB_EBROKEN, "'%s': forked history: "
					 "size %llu has root %s, the accepted "
					 "checkpoint root %s", cur->origin,
					 (unsigned long long)cur->size, rb, ra);
		return 0;
	}
	if (!proof && old->size == 0)
		return 0;		/* every tree extends the empty one */
	if (!proof)
		return nedb__err(NEDB_EBROKEN, "'%s': no consistency proof "
				 "(--proof) from the accepted size %llu (root "
				 "%s) to %llu (root %s)", cur->origin,
				 (unsigned long long)old->size, ra,
				 (unsigned long long)cur->size, rb);
	p = nedb__malloc(sizeof *p);
	if ((rc = nedb__cproof_parse(p, proof, proof_len)))
		goto done;
	if (p->old_size != old->size || p->new_size != cur->size ||
	    memcmp(p->old_root, old->root, NEDB_TLOG_HASH) ||
	    memcmp(p->new_root, cur->root, NEDB_TLOG_HASH)) {
		rc = nedb__err(NEDB_EBROKEN, "'%s': the consistency proof is "
			       "not from the accepted size %llu (root %s) to "
			       "%llu (root %s)", cur->origin,
			       (unsigned long long)old->size, ra,
			       (unsigned long long)cur->size, rb);
		goto done;
	}
	if ((rc = nedb__tlog_check_consistency(p->old_size, p->new_size,
					       p->old_root, p->new_root,
					       p->path, p->n)))
		rc = nedb__err(rc, "'%s': %s: from size %llu (root %s) to "
			       "%llu (root %s)", cur->origin, nedb_errmsg(),
			       (unsigned long long)old->size, ra,
			       (unsigned long long)cur->size, rb);
done:
	free(p);
	return rc;
}

/*
 * Removes the temporary files a crash between writing and renaming left
 * (.tmp.XXXXXX): only under the lock, when no other witness process has
 * one in progress.  Best effort: a leftover is harmless, never read.
 */
static void
remove_stale(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, ".tmp.", 5))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
}

/* The witness's own key, from its file (wiped after parsing). */
static int
read_skey(struct nedb_skey *k, const char *file)
{
	nedb_buf b = {0};
	int rc;

	if (nedb__read_file(file, &b))
		return nedb__err(NEDB_EIO, "cannot read key file '%s': %s",
				 file, strerror(errno));
	rc = nedb__skey_parse(k, b.p, b.len);
	nedb__wipe(b.p, b.len);
	nedb_buf_free(&b);
	if (rc)
		return nedb__err(NEDB_EUSAGE, "key file '%s': %s", file,
				 nedb_errmsg());
	return 0;
}

int
nedb_witness_cosign(const nedb_witness_opts *o, const char *note,
		    size_t len, char **out, size_t *outlen)
{
	struct nedb_skey key;
	struct nedb_vkey log;
	struct nedb_note *n = nedb__malloc(sizeof *n), *on = NULL;
	struct nedb_checkpoint cur, old;
	unsigned char oh[NEDB_SHA256_LEN];
	char name[2 * NEDB_SHA256_LEN + 1], *path = NULL, *lockp = NULL;
	nedb_buf res = {0}, prev = {0};
	uint32_t cosig_hash;
	int lock = -1, rc;

	*out = NULL;
	*outlen = 0;
	memset(&key, 0, sizeof key);
	if ((rc = read_skey(&key, o->key_file)))
		goto done;
	if ((rc = nedb__vkey_parse(&log, o->vkey, strlen(o->vkey)))) {
		rc = nedb__err(NEDB_EUSAGE, "bad log key: %s", nedb_errmsg());
		goto done;
	}
	if (log.type != NEDB_NOTE_ED25519) {
		rc = nedb__err(NEDB_EUSAGE, "log key '%s' is not an Ed25519 "
			       "note key", log.name);
		goto done;
	}
	if ((rc = nedb__note_parse(n, note, len)) ||
	    (rc = nedb__checkpoint_parse(&cur, n->msg, n->text_len)))
		goto done;
	rc = nedb__note_check(n, &log, NULL);
	if (rc == NEDB_ENOTFOUND)
		rc = nedb__err(NEDB_EBROKEN, "'%s': no signature by the log "
			       "key %s+%08x", cur.origin, log.name, log.hash);
	if (rc)
		goto done;

	if (mkdir(o->state_dir, 0700) && errno != EEXIST) {
		rc = nedb__err(NEDB_EIO, "cannot create state directory '%s': "
			       "%s", o->state_dir, strerror(errno));
		goto done;
	}
	lockp = nedb__path_in(o->state_dir, "lock");
	if ((lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
	    flock(lock, LOCK_EX)) {
		rc = nedb__err(NEDB_EIO, "cannot lock '%s': %s", lockp,
			       strerror(errno));
		goto done;
	}
	remove_stale(o->state_dir);
	if ((rc = nedb__sha256(oh, cur.origin, strlen(cur.origin))))
		goto done;
	nedb__hex(name, oh, sizeof oh);
	path = nedb__path_in(o->state_dir, name);
	if (nedb__read_file(path, &prev) == 0) {
		on = nedb__malloc(sizeof *on);
		if (nedb__note_parse(on, prev.p, prev.len) ||
		    nedb__checkpoint_parse(&old, on->msg, on->text_len) ||
		    strcmp(old.origin, cur.origin)) {
			rc = nedb__err(NEDB_ECORRUPT, "state file '%s' is not "
				       "a checkpoint of '%s'", path,
				       cur.origin);
			goto done;
		}
		if ((rc = check_consistent(&old, &cur, o->proof,
					   o->proof_len)))
			goto done;
	} else if (errno != ENOENT) {
		rc = nedb__err(NEDB_EIO, "cannot read '%s': %s", path,
			       strerror(errno));
		goto done;
	}
	/* invariant 1: recorded before cosigned (not rewritten when it is
	 * the accepted checkpoint again) */
	if ((!on || cur.size > old.size) &&
	    (rc = nedb__replace_file(o->state_dir, path, note, len,
					 "witness-rename")))
		goto done;

	/* the note with this witness's earlier lines left out, then ours */
	if ((rc = nedb__note_keyhash(&cosig_hash, key.name, NEDB_NOTE_COSIG,
				     key.pub)))
		goto done;
	nedb_buf_add(&res, n->msg, n->text_len + 1);
	for (size_t i = 0; i < n->nsigs; i++) {
		const struct nedb_note_sig *s = &n->sigs[i];

		if (s->hash == cosig_hash && s->name_len == strlen(key.name) &&
		    !memcmp(s->name, key.name, s->name_len))
			continue;
		nedb_buf_add(&res, s->line, s->line_len);
	}
	if ((rc = nedb__note_cosign_line(&res, &key, n->msg, n->text_len,
					 o->time ? o->time :
					 (uint64_t)time(NULL))))
		goto done;
	*out = res.p;
	*outlen = res.len;
	res.p = NULL;
done:
	if (lock >= 0)
		close(lock);
	nedb__wipe(&key, sizeof key);
	nedb_buf_free(&res);
	nedb_buf_free(&prev);
	free(lockp);
	free(path);
	free(on);
	free(n);
	return rc;
}
