/*
 * sign.c - a database's signed checkpoints (SPEC §9): the Merkle tree of
 * its ops signed as a C2SP tlog-checkpoint note (origin, size, base64
 * root; sumdb/note Ed25519 signature), the latest kept in
 * DIR/checkpoint.note, and tlog-proofs that carry it.
 *
 * The note file holds the note's text exactly as printed (nedb-format(5)):
 * nothing in it is a document's, so it is plaintext in an encrypted
 * database too (the root commits to op hashes, which an encrypted op's
 * salt keeps from confirming a guess).
 *
 * Invariants:
 *  1. DIR/checkpoint.note only grows: it is replaced (nedb__replace_file:
 *     a temporary file, fsync, rename, fsync of the directory) under the
 *     writer lock, and
 *     only by a note of a tree at least as large, so two signers racing
 *     leave the larger.
 *  2. The signer key's seed is wiped from every buffer that held it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "crypt.h"
#include "verify.h"

#define NOTE_FILE "checkpoint.note"

/* The kept note whole in *out; NEDB_ENOTFOUND when there is none. */
static int
read_note(nedb *db, nedb_buf *out)
{
	char *p = nedb__path_in(db->dir, NOTE_FILE);
	int rc;

	if (!p)
		return nedb__err(NEDB_EIO, "out of memory");
	out->len = 0;
	rc = nedb__read_file(p, out);
	if (rc && errno == ENOENT)
		rc = nedb__err(NEDB_ENOTFOUND, "database '%s' has no signed "
			       "checkpoint (make one with nedb-checkpoint "
			       "--sign KEYFILE)", db->dir);
	else if (rc)
		rc = nedb__errno(NEDB_EIO, "cannot read " NOTE_FILE);
	free(p);
	return rc;
}

/* The tree size of a kept note's checkpoint, and the parsed body. */
static int
note_checkpoint(const nedb_buf *b, struct nedb_checkpoint *cp)
{
	struct nedb_note n;

	if (nedb__note_parse(&n, b->p, b->len) ||
	    nedb__checkpoint_parse(cp, n.msg, n.text_len))
		return nedb__err(NEDB_ECORRUPT, "%s is damaged: %s",
				 NOTE_FILE, nedb_errmsg());
	return 0;
}

int
nedb_tree_note(nedb *db, nedb_buf *out)
{
	struct nedb_checkpoint cp;
	int rc;

	if ((rc = read_note(db, out)))
		return rc;
	return note_checkpoint(out, &cp);
}

static int
load_key(const char *keyfile, struct nedb_skey *k)
{
	nedb_buf b = {0};
	int rc;

	if (nedb__read_file(keyfile, &b)) {
		rc = nedb__err(NEDB_EUSAGE, "cannot read signer key '%s': %s",
			       keyfile, strerror(errno));
		goto done;
	}
	if ((rc = nedb__skey_parse(k, b.p ? b.p : "", b.len)))
		rc = nedb__err(NEDB_EUSAGE, "bad signer key '%s': %s", keyfile,
			       nedb_errmsg());
done:
	nedb__wipe(b.p, b.cap);
	nedb_buf_free(&b);
	return rc;
}

/* DIR/checkpoint.note replaced by text (under the writer lock). */
static int
replace_note(nedb *db, const nedb_buf *text)
{
	char *dst = nedb__path_in(db->dir, NOTE_FILE);
	int rc;

	if (!dst)
		return nedb__err(NEDB_EIO, "out of memory");
	rc = nedb__replace_file(db->dir, dst, text->p, text->len,
				"note-rename");
	free(dst);
	return rc;
}

static int
origin_check(const char *origin)
{
	if (origin && (!*origin || strchr(origin, '\n') ||
		       strlen(origin) > NEDB_NOTE_MAX_NAME))
		return nedb__err(NEDB_EUSAGE, "bad origin: want one line of "
				 "1 to %d bytes", NEDB_NOTE_MAX_NAME);
	return 0;
}

int
nedb_tree_sign_check(const char *keyfile, const char *origin)
{
	struct nedb_skey k;
	int rc;

	if ((rc = origin_check(origin)) || (rc = load_key(keyfile, &k)))
		return rc;
	nedb__wipe(&k, sizeof k);
	return 0;
}

int
nedb_tree_sign(nedb *db, const char *keyfile, const char *origin,
	       nedb_buf *out)
{
	unsigned char root[NEDB_TREE_HASH];
	char gen[2 * NEDB_TREE_HASH + 1], def[sizeof "nedb/" + 16];
	struct nedb_checkpoint old;
	struct nedb_skey k;
	nedb_buf text = {0}, kept = {0};
	nedb_proof g = {0};
	uint64_t size = NEDB_HEAD;
	bool locked = false;
	int rc;

	out->len = 0;
	if ((rc = origin_check(origin)) || (rc = load_key(keyfile, &k)))
		return rc;
	if (!db->wlocked) {
		if ((rc = nedb__wlock(db, true)))
			goto done;
		locked = true;
	}
	/* a snapshot that has every op committed so far */
	nedb_read_end(db);
	if ((rc = nedb_read_begin(db)) ||
	    (rc = nedb_tree_root(db, &size, root)))
		goto done;
	if (!origin) {
		/* nedb/ and the first 16 hex digits of the genesis hash */
		if ((rc = nedb_prove_inclusion(db, 0, size, &g)))
			goto done;
		nedb__hex(gen, g.leaf, sizeof g.leaf);
		snprintf(def, sizeof def, "nedb/%.16s", gen);
		origin = def;
	}
	if ((rc = nedb__checkpoint_format(&text, origin, size, root)) ||
	    (rc = nedb_buf_add(out, text.p, text.len)) ||
	    (rc = nedb_buf_add(out, "\n", 1)) ||
	    (rc = nedb__note_sign_line(out, &k, text.p, text.len)))
		goto done;
	/* kept unless a larger tree was signed meanwhile (this note is
	 * then printed, not kept); a damaged kept note is replaced */
	rc = read_note(db, &kept);
	if (rc == NEDB_ENOTFOUND || (!rc && (note_checkpoint(&kept, &old) ||
					     old.size <= size)))
		rc = replace_note(db, out);
done:
	nedb_read_end(db);
	if (locked)
		nedb__wunlock(db);
	nedb_proof_free(&g);
	nedb_buf_free(&text);
	nedb_buf_free(&kept);
	nedb__wipe(&k, sizeof k);
	if (rc)
		out->len = 0;
	return rc;
}

int
nedb_prove_tlog(nedb *db, uint64_t seq, nedb_buf *out)
{
	struct nedb_checkpoint cp;
	nedb_buf note = {0};
	nedb_proof p = {0};
	int rc;

	if ((rc = read_note(db, &note)) || (rc = note_checkpoint(&note, &cp)))
		goto done;
	if (seq >= cp.size) {
		rc = nedb__err(NEDB_ENOTFOUND, "seq %llu is not in the tree of "
			       "the latest signed checkpoint (size %llu): sign "
			       "a newer one with nedb-checkpoint --sign",
			       (unsigned long long)seq,
			       (unsigned long long)cp.size);
		goto done;
	}
	if ((rc = nedb_prove_inclusion(db, seq, cp.size, &p)))
		goto done;
	if (memcmp(p.root, cp.root, sizeof p.root)) {
		rc = nedb__err(NEDB_ECORRUPT, "the signed checkpoint's root "
			       "at size %llu is not this database's tree's",
			       (unsigned long long)cp.size);
		goto done;
	}
	rc = nedb__tlog_proof_format(out, p.leaf, sizeof p.leaf, seq,
				     (const nedb_thash *)p.path, p.n, note.p,
				     note.len);
done:
	nedb_proof_free(&p);
	nedb_buf_free(&note);
	return rc;
}
