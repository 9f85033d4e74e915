/*
 * redact.c - erasing the text of document versions (SPEC §9,
 * doc/redaction.md): nedb_redact and the recovery of an interrupted one.
 *
 * Only a database in log format 2 can redact: there a put's document
 * and salt end at a block boundary of the line's hashed message (log.c).
 * A redaction is a `redact` op naming the put seqs it erases, plus those
 * lines' documents and salts replaced by ,"redacted":R,"mid":"<hex>" and
 * spaces (the same length: every position stays), mid being BLAKE2b's
 * chaining value at that boundary.  No op hash changes, so the chain,
 * the Merkle tree, proofs and signed checkpoints stay valid.
 *
 * Like encryption in place, the database is built whole beside itself,
 * in <db>/.redact/, then swapped in (staged.c says how, and why kill -9
 * at any instant leaves the database without the redaction or with all
 * of it, never half).  The redact op is staged in a write that is then
 * abandoned (its line is kept: the op is judged, numbered and hashed by
 * the ordinary path, stage()); the stage gets every line of the log with
 * the named documents erased and the redact op's line after them (an
 * encrypted database's lines sealed again), key.enc, meta.json and a
 * fresh view.  log.aof is the last file rolled forward, so the redact op
 * is in the live log iff the named documents are erased in the live
 * files.
 *
 * What this cannot do (nedb-redact(1)): the blocks of the replaced
 * files are freed, not overwritten; copies made before (backups,
 * exports, another machine) keep the text; a process that had the old
 * files open reads them until it reopens (none can have the view open:
 * step 1 checks).  The whole database is copied per redaction: O(size),
 * acceptable for a rare operation; a batch of redactions in one copy is
 * a later improvement.
 */
#include <string.h>
#include <sys/file.h>
#include "internal.h"

static const char *const copied[] = {NEDB_KEYFILE, "meta.json", NULL};
/* log.aof last: until it is in place no redaction happened */
static const char *const files[] = {
	"view.mdb", "view.sync", "log.aof", NULL
};
static const struct staged_kind redaction = {
	".redact", "redact", "a redaction", copied, files
};

int
nedb__redact_recover(nedb *db)
{
	return nedb__staged_recover(db, &redaction);
}

/* Step 1's copy of the log: every op, the named documents erased. */
struct copy {
	struct staged s;
	uint64_t r;			/* the redact op's seq */
	const char *seqs;		/* its "seqs" text */
	size_t seqs_len;
	size_t erased;			/* documents erased so far */
	nedb_buf line;
};

static int
seq_is(uint64_t seq, void *payload)
{
	return seq == *(uint64_t *)payload;
}

static int
copy_line(const char *line, size_t len, const struct log_loc *loc,
	  uint64_t next, void *payload)
{
	struct copy *w = payload;
	int rc;

	if (nedb__each_seq(w->seqs, w->seqs_len, seq_is, &w->s.seq)) {
		w->line.len = 0;
		if (nedb_buf_add(&w->line, line, len))
			return NEDB_EIO;
		if ((rc = nedb__log_erase(w->line.p, w->line.len, w->r, w->s.seq)))
			return rc;
		line = w->line.p;
		w->erased++;
	}
	return nedb__staged_line(&w->s, line, len);
}

/* Counts the seqs of a "seqs" text: returns 0 to go on. */
static int
count_seq(uint64_t seq, void *payload)
{
	(void)seq;
	++*(int *)payload;
	return 0;
}

/* Steps 1 and 2: the copy with the redaction, committed. */
static int
stage_copy(nedb *db, const char *opline, size_t oplen, uint64_t r,
	   const nedb_buf *seqs, const char *tmk_file)
{
	struct copy w = {.r = r, .seqs = seqs->p, .seqs_len = seqs->len};
	uint64_t torn;
	int rc, named = 0;

	if ((rc = nedb__staged_begin(&w.s, &redaction, db,
				     nedb__encrypted(db) ? &db->crypt : NULL)))
		goto done;
	rc = nedb__log_walk(db, 0, 0, nedb__log_end(db), copy_line, &w, &torn);
	/* the redact op last: its own line, as stage() made it ("\n"
	 * ended), and every named document erased before it */
	if (!rc)
		nedb__each_seq(seqs->p, seqs->len, count_seq, &named);
	if (!rc && w.erased != (size_t)named)
		rc = nedb__err(NEDB_ECORRUPT, "cannot redact: the log does "
			       "not hold the versions the view named");
	if (!rc && !(rc = nedb__staged_line(&w.s, opline, oplen - 1)))
		rc = nedb__staged_commit(&w.s, tmk_file);
done:
	/* the erased text passed through this buffer (and the stage's) */
	nedb__wipe(w.line.p, w.line.cap);
	nedb_buf_free(&w.line);
	nedb__staged_end(&w.s, !rc);
	return rc;
}

int
nedb_redact(nedb *db, const char *coll, const char *id, uint64_t seq,
	    const char *reason, const nedb_wopts *w, const char *tmk_file,
	    nedb_receipt *receipt)
{
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
	if ((rc = stage_copy(db, line.p, line.len, receipt->seq, &seqs,
			     tmk_file)))
		goto done;
	nedb__test_pause("redact-committed");
	rc = nedb__staged_roll(&redaction, db->dir);
done:
	if (began)
		nedb_write_abort(db);	/* still holds the writer lock */
	if (dirfd >= 0)
		close(dirfd);
	nedb_buf_free(&line);
	nedb_buf_free(&seqs);
	return rc;
}
