/*
 * nedb.h - the public interface of libnedb.
 *
 * Overview
 * --------
 * A nedb database is a directory holding one append-only, BLAKE2b
 * hash-chained log (log.aof) and a materialized view of it in LMDB
 * (view.mdb).  The log is the truth; the view is a cache that one
 * function, apply(), derives from the log for writes, start-up catch-up,
 * rebuilds and determinism checks alike.
 *
 * A handle (nedb) is opened on a directory.  Reads happen inside a read
 * snapshot (nedb_read_begin/nedb_read_end) that sees a consistent prefix
 * of the log and never blocks a writer.  Writes happen inside a write
 * transaction (nedb_write_begin ... nedb_write_commit): beginning one
 * takes the database's writer lock (shared with every other process),
 * repairs a torn log tail and applies any ops a crashed writer left
 * unapplied.  Ops staged in a write transaction are appended, made
 * durable with one fsync and applied together at commit; nothing is
 * acknowledged before that.
 *
 * Errors
 * ------
 * Functions return 0 or a negative NEDB_E* code; nedb_errmsg() gives a
 * one-line, lowercase description of the last error in this thread.
 * nedb_exit_status() maps a code onto the exit statuses of the command
 * line tools.  The library never prints and never exits, with one
 * exception: out of memory aborts (see nedb_set_oom).
 *
 * Caveats
 * -------
 * - Document text returned by reads is borrowed: it stays valid until the
 *   read snapshot ends or the next read call on the same handle.
 * - A handle is not thread-safe; use one per thread.  Settings made
 *   with nedb_set_warn and nedb_set_oom are process-wide.
 * - fork(): a child must not use a handle its parent opened (LMDB's
 *   rule, and the writer lock is the parent's flock); open its own.
 * - A read snapshot pins the view's pages as of its start: a long one
 *   (hours of nedb_read_begin) makes the view grow while writers go on.
 *   End snapshots when done; nedbd holds one per request only.
 * - Address space: each open handle maps the view's maximum size, 256
 *   GiB by default (NEDB_MAPSIZE=bytes changes it), not memory but
 *   virtual addresses: about 500 handles fill a 47-bit address space.
 *   nedbd keeps at most NEDBD_MAX_DBS (128) databases open, closing
 *   the least recently used idle one between turns of its loop.
 * - JSON work (validating documents, parsing ops during catch-up) loads
 *   libjq on first use, so that plain HEAD reads never pay for it.
 * - Unless a function's comment says so, pointers given to the library
 *   are borrowed for the call only, and NULL is not accepted for them.
 *   Out parameters come last; those that append to a nedb_buf take it
 *   first, as nedb_buf_add does; nedb_open's handle comes first.
 */
#ifndef NEDB_H
#define NEDB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define NEDB_VERSION "0.1.0"

#define NEDB_EXPORT __attribute__((visibility("default")))

/* Errors: a short list of expected failures. */
enum {
	NEDB_OK = 0,
	NEDB_ENOTFOUND = -1,	/* no such document, no such database */
	NEDB_EUSAGE = -2,	/* bad argument from the caller */
	NEDB_EREJECTED = -3,	/* stale nonce, failed precondition */
	NEDB_EINPUT = -4,	/* not JSON, not an object, too large, bad name */
	NEDB_ECORRUPT = -5,	/* damaged log or view */
	NEDB_EKEY = -6,		/* wrong or missing key (encrypted
				 * databases), or an encrypted value
				 * that does not authenticate */
	NEDB_EBUSY = -7,	/* lock not available */
	NEDB_EIO = -8,		/* I/O error, disk full, out of memory */
	NEDB_EBROKEN = -9	/* reserved: nedb_verify reports a broken
				 * chain in its result, not as a code */
};

NEDB_EXPORT const char *nedb_errmsg(void);
/*
 * After a syntax error (NEDB_EUSAGE from nedb_query): the byte offset in
 * the query text where it was found, so that a program can show it (the
 * message itself is one line and says the column); -1 after any other
 * error.
 */
NEDB_EXPORT long nedb_errpos(void);
NEDB_EXPORT int nedb_exit_status(int err);
NEDB_EXPORT const char *nedb_version(void);
/* Milliseconds since the epoch (the clock ops are stamped with). */
NEDB_EXPORT int64_t nedb_now_ms(void);
/*
 * Sets the function that receives warnings (a repaired torn tail).  The
 * default discards them.
 */
NEDB_EXPORT void nedb_set_warn(void (*fn)(const char *msg));
/*
 * Sets the function that receives progress reports of long work, so
 * that a program can show them (the commands' --progress): what names
 * the work ("verify": nedb_verify's walk of the chain, "replay": a
 * rebuild of the view from the log, by nedb_rebuild, a determinism
 * check or a long catch-up, "prune": nedb_prune's archive of the log,
 * compressed block by block), n the ops done so far, done of total its
 * progress in units of the work's own (ops, or bytes of the log; total
 * 0 when unknown).  Called every few thousand ops, from the thread
 * that called the library; fn must not call into the handle.  The
 * default is none.  Process-wide, like nedb_set_warn.
 */
typedef void (*nedb_progress_fn)(const char *what, uint64_t n,
				 uint64_t done, uint64_t total);
NEDB_EXPORT void nedb_set_progress(nedb_progress_fn fn);
/*
 * Out of memory is not an error code: like Redis's zmalloc, an
 * allocation that fails calls fn (if set) with the size asked for and
 * then abort()s, after one line on stderr ("nedb: out of memory ...").
 * So nedb_buf_* and every other call either succeed or do not return,
 * and no write is left half built.  fn may log; when it returns, the
 * process aborts.  The setting is process-wide, like nedb_set_warn's.
 */
NEDB_EXPORT void nedb_set_oom(void (*fn)(size_t size));

/*
 * A growable byte buffer; {0} is an empty buffer.  Caller frees.  The
 * nedb_buf_* functions return 0 (out of memory aborts: nedb_set_oom);
 * nedb_buf_printf returns NEDB_EIO only for a bad format.
 */
typedef struct nedb_buf {
	char *p;
	size_t len, cap;
} nedb_buf;

NEDB_EXPORT int nedb_buf_grow(nedb_buf *b, size_t extra);
NEDB_EXPORT int nedb_buf_add(nedb_buf *b, const void *p, size_t n);
NEDB_EXPORT int nedb_buf_puts(nedb_buf *b, const char *s);
NEDB_EXPORT int nedb_buf_printf(nedb_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Appends s as a JSON string literal (quotes and escapes; a byte that
 * is not part of valid UTF-8 becomes U+FFFD). */
NEDB_EXPORT int nedb_buf_json_str(nedb_buf *b, const char *s, size_t n);
NEDB_EXPORT void nedb_buf_free(nedb_buf *b);

/* Names: 0 when valid, NEDB_EINPUT with a message otherwise. */
NEDB_EXPORT int nedb_check_coll(const char *coll);
NEDB_EXPORT int nedb_check_id(const char *id, size_t len);
/* A database name of nedbd: [A-Za-z0-9_-], 1 to 64 bytes. */
NEDB_EXPORT int nedb_check_dbname(const char *name, size_t len);

enum nedb_durability { NEDB_DURABLE = 0, NEDB_SAFE = 1, NEDB_FAST = 2 };
/* "durable", "safe" or "fast"; -1 for anything else. */
NEDB_EXPORT int nedb_durability_parse(const char *s);

typedef struct nedb nedb;

#define NEDB_OPEN_CREATE 0x1	/* create the database if it is missing */
/* never wait for a lock: NEDB_EBUSY while another process compacts or
 * rebuilds the view, or holds the writer lock when the view needs
 * building (for event loops: nedbd) */
#define NEDB_OPEN_NOWAIT 0x2
/* a database whose log is on an engine (SPEC §10): open this machine's
 * copy as it is, without catching up (nedb-verify, nedb-log --export) */
#define NEDB_OPEN_LOCAL 0x4

/*
 * Opens the database in dir.  Without NEDB_OPEN_CREATE a missing database
 * is NEDB_ENOTFOUND.  Opening creates the view if it is missing (a
 * rebuild from the log).  *out is set to NULL on failure.
 */
NEDB_EXPORT int nedb_open(nedb **out, const char *dir, unsigned flags);
/*
 * Encryption at rest (nedb-key(1), SPEC §8).  The master key (TMK, 32
 * bytes) is found, first found wins, in tmk_file (64 hex digits or 32
 * raw bytes), else in the environment: NEDB_TMK (64 hex digits) or
 * NEDB_TMK_FILE (both set is refused).  nedb_open is nedb_open_key with
 * tmk_file NULL: the environment alone.
 *  - An encrypted database (one with key.enc) opened without its key,
 *    or with another, is NEDB_EKEY before any other file is read or
 *    written.
 *  - A database created with a key is encrypted from its genesis op.
 *  - A plaintext database opened with a key is encrypted first (its
 *    log, archives, view and meta.json, crash-safe): the conversion
 *    takes the writer lock, so it needs a writable database.
 * libcrypto is loaded only when a key is given or key.enc exists.
 */
NEDB_EXPORT int nedb_open_key(nedb **out, const char *dir, unsigned flags,
			      const char *tmk_file);
/*
 * Whether the database in dir is encrypted and, if so, its key id: 16
 * hex digits naming the master key (never the key) into kid.  Reads
 * key.enc's header only: no key needed.  NEDB_ENOTFOUND when dir holds
 * no database.
 */
NEDB_EXPORT int nedb_key_status(const char *dir, int *encrypted,
				char kid[17]);
/*
 * Wraps the database's data key under a new master key (read from
 * new_tmk_file): the current key is found as nedb_open_key finds it.
 * Changes key.enc alone, atomically; the old key is refused after.
 * Takes the writer lock.  *kid gets the new key id.
 */
NEDB_EXPORT int nedb_key_rewrap(const char *dir, const char *tmk_file,
				const char *new_tmk_file, char kid[17]);
/*
 * A master key from a passphrase, for nedb-key derive: scrypt (RFC 7914;
 * N 2^17, r 8, p 1: 128 MiB and about half a second) of the passphrase
 * with salt, 32 bytes into tmk.  The same passphrase and salt give the
 * same key.  Never run on open: every command would pay for it.
 */
#define NEDB_SCRYPT_N (1u << 17)
#define NEDB_SCRYPT_R 8
#define NEDB_SCRYPT_P 1
NEDB_EXPORT int nedb_key_derive(unsigned char tmk[32], const void *pass,
				size_t passlen, const void *salt,
				size_t saltlen);
/*
 * Offline verification (SPEC §9; lib/proof/): no database needed.
 * Formats (nedb-format(5)): RFC 6962 proofs as nedb-proof prints them
 * (JSON) or as C2SP tlog-proof@v1 text, C2SP signed notes and
 * tlog-checkpoints, tlog-cosignature/v1.
 *
 * nedb_signer_new makes an Ed25519 key named name (sumdb/note's key
 * name rule: UTF-8, no white space, no '+'): *skey is the signer key
 * "PRIVATE+KEY+<name>+<id>+<base64>", *vkey the verifier key
 * "<name>+<id>+<base64>".  Caller frees both (and should wipe *skey
 * first).  NEDB_EUSAGE for a bad name.
 */
NEDB_EXPORT int nedb_signer_new(const char *name, char **skey, char **vkey);

/* What nedb_proof_verify checks proofs against. */
typedef struct nedb_proof_policy {
	const char *root_hex;	/* a trusted root (64 hex digits) or NULL */
	const char *checkpoint;	/* a signed checkpoint note or NULL */
	size_t checkpoint_len;
	const char *vkey;	/* the log's verifier key (for checkpoints) */
	const char *const *witness;	/* witnesses' verifier keys */
	size_t nwitness;
	size_t quorum;		/* cosignatures needed, when quorum_set */
	int quorum_set;		/* else every witness given must cosign */
	const char *leaf_hex;	/* tlog-proof: the op hash it must prove */
} nedb_proof_policy;

/* One proof's outcome (borrowed for the call). */
typedef struct nedb_proof_result {
	uint64_t n;		/* its place in the input, from 1 */
	const char *kind;	/* "inclusion" or "consistency" */
	uint64_t a, b;		/* seq and size, or old and new size */
	int ok;
	const char *error;	/* why it is invalid, or NULL */
} nedb_proof_result;
typedef void (*nedb_proof_cb)(const nedb_proof_result *r, void *payload);

/*
 * Reads proofs from in to its end: JSON objects (or arrays of them) as
 * nedb-proof inclusion / consistency print them, or tlog-proof@v1
 * texts one after another; calls fn (may be NULL) for each.  Returns 0
 * when every proof is valid, NEDB_EBROKEN when one or more are invalid
 * (all are still checked and reported; the message names the first),
 * NEDB_EINPUT at the first malformed one (the message names it; earlier
 * ones were reported), NEDB_EUSAGE for a bad policy (a key, a root),
 * NEDB_EBROKEN before any proof when the policy's checkpoint does not
 * verify; *count is the number of proofs reported.
 */
NEDB_EXPORT int nedb_proof_verify(FILE *in, const nedb_proof_policy *p,
				  nedb_proof_cb fn, void *payload,
				  size_t *count);

/* nedb-witness: see nedb_witness_cosign. */
typedef struct nedb_witness_opts {
	const char *state_dir;	/* last accepted checkpoint per origin */
	const char *key_file;	/* the witness's signer key */
	const char *vkey;	/* the log's verifier key */
	const char *proof;	/* consistency proof JSON text, or NULL */
	size_t proof_len;
	uint64_t time;		/* cosignature time (POSIX s); 0: now */
} nedb_witness_opts;

/*
 * Cosigns the signed checkpoint note[0, len) when the log's signature
 * verifies and it is consistent with the last checkpoint accepted for
 * its origin (same size: same root; larger: o->proof leads from the old
 * to the new; smaller: refused; none yet: accepted, trust on first
 * use), then records it as the accepted one (atomic replace, synced).
 * *out (caller frees, *outlen bytes) is the note with the witness's
 * tlog-cosignature/v1 line added.  NEDB_EBROKEN (message naming both
 * roots) when refused, NEDB_EINPUT for a malformed note or proof,
 * NEDB_EUSAGE for a bad key, NEDB_EIO/NEDB_ECORRUPT for the state.
 */
NEDB_EXPORT int nedb_witness_cosign(const nedb_witness_opts *o,
				    const char *note, size_t len, char **out,
				    size_t *outlen);
/* Ends any open transaction (aborting a write) and frees db.  NULL ok. */
NEDB_EXPORT void nedb_close(nedb *db);
/*
 * Removes the database: nedb's files (its archive included), then its
 * directory if nothing else is in it.  No other process may have it
 * open.  Closes db, even on failure.
 */
NEDB_EXPORT int nedb_destroy(nedb *db);
NEDB_EXPORT int nedb_set_durability(nedb *db, int mode);
/*
 * Sets the auto_index option in meta.json: a field queries filter or
 * sort on n times without an index gets one.  0 turns it off.
 */
NEDB_EXPORT int nedb_set_auto_index(nedb *db, uint64_t n);

#define NEDB_HEAD UINT64_MAX

/* A version of a document.  doc is borrowed (see Caveats). */
typedef struct nedb_doc {
	const char *doc;	/* compact JSON text; NULL for a delete */
	size_t len;
	uint64_t seq;		/* the op that wrote this version */
	int64_t ts;		/* its timestamp, ms since the epoch */
	int64_t exp;		/* expiry, ms since the epoch; 0 = none */
	char hash[65];		/* the op's hash, hex */
} nedb_doc;

/*
 * Verified reads.  With on set, every document a read returns (nedb_get,
 * nedb_history, queries, finds, the Redis table) is checked against its
 * op in the log before it is returned: the line is read by its seq, its
 * hash is recomputed, and its seq, collection, id and document text must
 * be those of the row.  A row that fails is NEDB_ECORRUPT, never data.
 * Plain reads (off, the default) trust the view: see nedb(7).
 */
NEDB_EXPORT void nedb_set_read_verify(nedb *db, int on);

/*
 * Read snapshot: every read until nedb_read_end sees the same prefix of
 * the log.  Reads outside one open their own for each call.  Beginning
 * one when one is open is a no-op; nedb_write_begin ends it.  Returns
 * 0, or NEDB_EIO (LMDB cannot start a reader: too many readers, I/O)
 * or NEDB_ECORRUPT (the view covers more than the log).
 */
NEDB_EXPORT int nedb_read_begin(nedb *db);
/* Ends the snapshot; nothing to end is fine. */
NEDB_EXPORT void nedb_read_end(nedb *db);

/*
 * Head of the snapshot (or of the view): *seq and, when hash is not
 * NULL, the head hash in hex (65 bytes with its NUL).  NEDB_EIO or
 * NEDB_ECORRUPT as nedb_read_begin.
 */
NEDB_EXPORT int nedb_head(nedb *db, uint64_t *seq, char *hash);

/*
 * Reads one document as of seq (NEDB_HEAD for now) into *out (its text
 * borrowed: see Caveats).  HEAD reads skip expired documents; past reads
 * ignore expiry.  Past versions are read from the log and their hashes
 * checked.  Returns 0, or
 *  NEDB_ENOTFOUND  no live version (never written, deleted, expired);
 *  NEDB_EINPUT     a bad collection name or id;
 *  NEDB_EUSAGE     as_of beyond the head;
 *  NEDB_ECORRUPT   the log's line for it does not check out (damage is
 *                  never returned as data), or a damaged view;
 *  NEDB_EIO        I/O.
 */
NEDB_EXPORT int nedb_get(nedb *db, const char *coll, const char *id,
			 uint64_t as_of, nedb_doc *out);

/*
 * Points of time.  nedb_time_parse reads a time as AS OF TIMESTAMP and
 * --as-of @TIME take it (s[0, len), no NUL needed) into ms since the
 * epoch, UTC: "2026-12-06" (that day's first instant), RFC 3339
 * "2026-12-06T16:28:40.123Z" (seconds and fractions optional, 'T' or a
 * space, 'Z', an offset +HH:MM or -HH:MM, or none for UTC), or digits:
 * ms since the epoch, as an op's "ts".  Fractions finer than a ms are
 * cut.  NEDB_EUSAGE with a message naming the text when it is none of
 * these (or no such date or time of day).  Needs no database.
 */
NEDB_EXPORT int nedb_time_parse(const char *s, size_t len, int64_t *ms);
/*
 * The seq of the last op whose ts is at or before ms (the database as
 * it stood at that time), from the view's index of op times: one
 * lookup, no scan of the log.  A time after the head's is the head.
 * Returns 0, or NEDB_EUSAGE when ms is before the database's first op
 * (its genesis), NEDB_EIO or NEDB_ECORRUPT as nedb_read_begin.
 */
NEDB_EXPORT int nedb_seq_at(nedb *db, int64_t ms, uint64_t *seq);

/*
 * What changed between two points of time: fn is called once per
 * document whose text as of seq from differs from its text as of seq
 * to, in (collection, id) byte order; with coll not NULL, for that
 * collection's documents only.  change is "added" (no live version as
 * of from), "removed" (none as of to) or "changed"; before and after
 * are the texts (NULL when absent; borrowed for the call) and
 * before_seq, after_seq the ops that wrote them (0 when absent).  A
 * document written and deleted between the two, or written back with
 * the same text, is no change.  Reads happen in one snapshot and cost
 * in proportion to the ops between from and to (a drop of a collection
 * among them: also to that collection's versions).  fn's nonzero return
 * stops the walk and is returned.  Returns 0, or
 *  NEDB_EUSAGE     from after to, or to beyond the head;
 *  NEDB_EINPUT     a bad collection name;
 *  NEDB_ECORRUPT   an op's or version's line does not check out;
 *  NEDB_EIO        I/O.
 */
typedef struct nedb_change {
	const char *coll;
	const char *id;		/* idlen bytes, NUL-ended */
	size_t idlen;
	const char *change;	/* "added", "removed" or "changed" */
	const char *before, *after;	/* compact JSON text, or NULL */
	size_t before_len, after_len;
	uint64_t before_seq, after_seq;
} nedb_change;
typedef int (*nedb_change_fn)(const nedb_change *c, void *payload);
NEDB_EXPORT int nedb_diff(nedb *db, uint64_t from, uint64_t to,
			  const char *coll, nedb_change_fn fn, void *payload);
/* Appends c as nedb-diff prints it: {"coll","id","change","before",
 * "after"} (no newline). */
NEDB_EXPORT int nedb_change_json(nedb_buf *out, const nedb_change *c);

/*
 * Calls fn for every version of a document, oldest first, deletes
 * included (doc NULL; op names the kind: "put", "delete", "expire",
 * "drop").  v and its text are borrowed for the call.  fn returns
 * nonzero to stop (returned as is).  NEDB_ENOTFOUND when the document
 * never existed; otherwise as nedb_get.
 */
typedef int (*nedb_version_fn)(const nedb_doc *v, const char *op,
			       void *payload);
NEDB_EXPORT int nedb_history(nedb *db, const char *coll, const char *id,
			     nedb_version_fn fn, void *payload);

/*
 * Write transactions.  nedb_write_begin waits for the database's writer
 * lock (the file "lock" in its directory, flock(2), held by one process
 * at a time until commit or abort); nedb_write_trybegin returns
 * NEDB_EBUSY at once when another handle holds it, so that an event loop
 * never blocks on another process (nedbd retries later).
 */
/*
 * Beginning ends the caller's read snapshot, repairs a torn log tail and
 * applies what a crashed writer left (see nedb(7)).  Returns 0, or
 *  NEDB_EBUSY      (trybegin) another handle holds the lock;
 *  NEDB_EUSAGE     a write is already open on this handle;
 *  NEDB_ENOTFOUND  the database was removed meanwhile;
 *  NEDB_ECORRUPT   the log no longer holds what the view applied, or a
 *                  line to catch up does not check out;
 *  NEDB_EIO        a read-only database, a handle broken by a failed
 *                  undo or fsync (reopen it), or I/O.
 */
NEDB_EXPORT int nedb_write_begin(nedb *db);
NEDB_EXPORT int nedb_write_trybegin(nedb *db);
/*
 * Appends the staged ops, makes them durable (by the durability mode),
 * applies them to the view and releases the lock; the write is over
 * either way.  Only after 0 may receipts be acknowledged.  NEDB_EUSAGE
 * when no write is open; NEDB_EIO when appending, syncing or committing
 * failed ("disk full" for ENOSPC): then nothing of the batch is in the
 * log, or, when even that undo failed, the handle refuses later writes.
 */
NEDB_EXPORT int nedb_write_commit(nedb *db);
/* Drops the staged ops and releases the lock; no write open is fine. */
NEDB_EXPORT void nedb_write_abort(nedb *db);
/* Number of ops staged in the open write transaction. */
NEDB_EXPORT size_t nedb_write_pending(nedb *db);

/*
 * The log on an engine (SPEC §10, nedb(7)).  A database created with
 * NEDB_LOG set to a URL (postgresql://...#name) keeps its log on that
 * engine and this directory holds a verified copy of it.  Then
 *  - nedb_write_begin also takes the database's lock on the engine and
 *    catches up with what other machines wrote; nedb_write_commit
 *    commits on the engine before anything is appended here.  A failure
 *    to reach the engine is NEDB_EIO; nothing is acknowledged.
 *  - nedb_write_commit's NEDB_EBUSY with nedb_write_conflict true: a
 *    writer that did not take the lock won the seq; nothing was written
 *    and the caller may begin again (its op is then validated and
 *    hashed anew onto the new head).
 *  - nedb_open catches up (unless NEDB_OPEN_LOCAL); nedb_engine_sync
 *    does it again (a long-lived reader, before each read).
 *  - a copy holding ops the engine lacks, or other ops at some seq, is
 *    NEDB_ECORRUPT naming the first such seq (it never forks).
 */
NEDB_EXPORT int nedb_write_conflict(nedb *db);
/*
 * A whole write: nedb_write_begin, fn(db, payload), which stages its
 * ops (nedb_write_put, ...) and returns 0 to commit them, then
 * nedb_write_commit.  When the commit lost its seq to another writer
 * (nedb_write_conflict), the write begins again, caught up, and fn is
 * called anew: its ops are checked again against the new head (nonces,
 * idempotency keys, --if-seq) and hashed onto it; so fn must start
 * afresh each time (receipts, counters), and report through payload
 * what it wants known beyond its return.  fn's nonzero return aborts
 * the write and is returned; else nedb_write_commit's.  Every writer
 * that can begin again uses it: the one place where a lost seq is
 * retried.
 */
NEDB_EXPORT int nedb_write_run(nedb *db, int (*fn)(nedb *db, void *payload),
			       void *payload);
/* The engine's URL as recorded, or NULL for a database of its own. */
NEDB_EXPORT const char *nedb_engine_url(nedb *db);
NEDB_EXPORT int nedb_engine_sync(nedb *db);
/* nedb_engine_sync without waiting for the writer lock (NEDB_EBUSY):
 * for event loops (nedbd, before each turn's reads). */
NEDB_EXPORT int nedb_engine_trysync(nedb *db);
/*
 * nedb-verify's comparison of this copy with the engine's log: every op
 * of the engine is checked (shape, hash, link) and compared with this
 * copy's op of the same seq.  *seq is the first seq at which they
 * differ, or, when they agree, the engine's last seq (*ok true); why
 * says what differs.  NEDB_EUSAGE for a database without an engine.
 */
NEDB_EXPORT int nedb_engine_check(nedb *db, int *ok, uint64_t *seq,
				  char *why, size_t whylen);
/*
 * Creates the database in dir (which must not hold one) from a log's
 * lines as stored (nedb-log --export), read from fd, checking the chain
 * as it goes; with log_url, on that engine (whose table for it must be
 * empty), in one transaction.  *seq and head (65 bytes) say where it
 * ends.  NEDB_EINPUT naming the line for a line that does not check out.
 */
NEDB_EXPORT int nedb_import(const char *dir, const char *log_url, int fd,
			    uint64_t *seq, char *head);

/* Options common to every write. */
typedef struct nedb_wopts {
	const char *client;	/* NULL: "local", nonces assigned */
	uint64_t nonce;		/* 0: next after the last seen */
	const char *idem;	/* idempotency key, or NULL */
	/*
	 * Where the op came from, carried by every op the write stages
	 * (put, delete, expire, drop; nedb-format(5)): evidence text (1-400
	 * bytes; a put's own nedb_put.evidence wins) and the offset in the
	 * replication stream of a source the database follows
	 * (nedb-redis-follow(1)).  NULL and 0: none.
	 */
	const char *evidence;
	uint64_t repl_offset;
	/*
	 * A document past its expiry still counts as live for this write
	 * (a delete or expire of it, a put that keeps its expiry): the
	 * writes of a replica, whose source decides when a key is gone.
	 */
	int keep_expired;
} nedb_wopts;

typedef struct nedb_put {
	const char *coll;
	const char *id;		/* NULL: taken from the document */
	const char *id_field;	/* member holding the id; NULL: "_id" */
	const char *doc;	/* JSON object text, any whitespace */
	size_t doclen;
	int64_t ttl_ms;		/* 0: none */
	int merge;		/* merge members into the current document */
	/* preconditions; a zeroed nedb_put has none */
	uint64_t if_seq;	/* N: the current version must be op N's */
	int if_absent;		/* the document must not exist */
	const char *const *tags;
	size_t ntags;
	/* provenance (NULL: none) */
	const uint64_t *caused_by;	/* seqs of the ops that caused this */
	size_t ncaused_by;
	const char *evidence;
	const char *confidence;		/* a JSON number, 0 to 1 */
	const char *valid_from, *valid_to;
	nedb_wopts w;
	int prepared;		/* doc and id come from nedb_put_prepare;
				 * NEDB_PREPARED_ID: as it returned them */
	int keep_ttl;		/* ttl_ms 0: keep the current version's expiry */
	int64_t exp_at;		/* > 0: expires then (ms since the epoch),
				 * whatever ttl_ms says: an absolute time
				 * kept exact, not counted again from the
				 * op's own clock */
	const struct nedb_preop *ahead;	/* formatted ahead (nedb_ahead_put);
					 * NULL: none */
	int patch;		/* the op may be a patch of the latest version
				 * (nedb-format(5)): the bytes that changed,
				 * when the document is large and the change
				 * small; its receipt then says "patch" */
} nedb_put;

/*
 * A stream of puts formatted ahead.  A bulk put's reader thread can do
 * the writer's heaviest steps itself: format each plain put as the op
 * that follows the last one, and hash it onto that one
 * (nedb_ahead_put), while the writer stages the previous documents.
 * The writer, given the result in nedb_put.ahead, stages the line as it
 * is when the chain, the clock and the nonce came out as foreseen, and
 * else formats the op afresh (another process wrote in between, the
 * clock went back): it is the writer that decides, so a guess never
 * reaches the log.  After the writer formats one afresh, the next
 * nedb_ahead_put waits until the writer has staged the put before it,
 * and goes on from there.
 *
 * Plain puts only: with merge, tags, provenance, preconditions, an
 * idempotency key, a nonce, an absolute expiry, or on a database whose
 * log is on an engine, nedb_ahead_put formats nothing (op->ok 0) and
 * the writer does all of it, as without.  On an encrypted database the
 * reader also draws the op's salt (from libcrypto, which it has
 * loaded) and seals the line as it will be stored, with a context of
 * its own.
 * p->doc and p->id must be nedb_put_prepare's (NEDB_PREPARED_ID), and
 * the writer must be given the very same pointers.
 */
typedef struct nedb_ahead nedb_ahead;
typedef struct nedb_preop {
	nedb_buf line;		/* the op's line and its "\n" */
	uint64_t index;		/* the how-manyth nedb_ahead_put (from 0) */
	uint64_t seq, nonce;
	int64_t ts, exp;
	unsigned char prev[32], hash[32];
	const char *doc;	/* the text formatted, the caller's */
	size_t doclen;
	const char *coll, *id, *client;	/* the caller's too */
	uint32_t len;		/* of the line without "\n" */
	int format;
	int ok;			/* 1: formatted ahead */
	nedb_ahead *from;
	nedb_buf sealed;	/* an encrypted database's: the line as
				 * stored, with its "\n" (nedb_buf_free it
				 * at the end, as line) */
} nedb_preop;

/* Starts a stream for the writes of db (which the writer must use from
 * one thread, as always), and ends it: nedb_ahead_close wakes a reader
 * waiting in nedb_ahead_put, which then formats nothing. */
NEDB_EXPORT int nedb_ahead_new(nedb *db, nedb_ahead **out);
NEDB_EXPORT void nedb_ahead_close(nedb_ahead *a);
NEDB_EXPORT void nedb_ahead_free(nedb_ahead *a);
/* Formats p into op, in any one thread (the stream's reader); op->line
 * is op's buffer, reused from call to call (nedb_buf_free it at the
 * end). */
NEDB_EXPORT int nedb_ahead_put(nedb_ahead *a, const nedb_put *p,
			       nedb_preop *op);

/*
 * The part of a put that needs no database, and the only place its
 * document and id are checked: validates and compacts p->doc into *doc
 * and, when p->id is NULL, decodes the id from the document into *id
 * (caller frees both); unless p->merge, the document's "_id" is then
 * the id (set where it was not).  Safe to run in another thread than the
 * writer's (it is the only one that may use libjq then).  Then set
 * p->doc/doclen to the compact text, p->id to the id, p->prepared, and
 * call nedb_write_put, which trusts them (but for "_id", which it sets
 * to the id where a prepared document holds another).  With
 * p->prepared = NEDB_PREPARED_ID the caller says the text and the id
 * are the very pair nedb_put_prepare returned for a put without merge:
 * its "_id" is the id already, and is not looked for again.
 */
#define NEDB_PREPARED_ID 2
NEDB_EXPORT int nedb_put_prepare(const nedb_put *p, nedb_buf *doc, char **id);

/*
 * A receipt: what a staged op is, filled in by the nedb_write_*
 * functions, rendered as JSON by nedb_receipt_json.  Every function
 * that takes one accepts NULL (no receipt wanted) on every path.  Its
 * strings are its own arrays (nothing to free, safe to copy); those the
 * op's kind does not carry are "".
 */
typedef struct nedb_receipt {
	const char *op;		/* the kind: "put", "delete", "link", ...
				 * (static text) */
	uint64_t seq;		/* the op's seq (0 with exists) */
	char hash[65];		/* the op's hash, hex ("" with exists) */
	char coll[65];		/* put, delete, expire, index, unindex, drop */
	char id[401];		/* put, delete, expire */
	char from[466], rel[65], to[466];	/* link, unlink: node keys */
	char field[129];	/* index, unindex */
	char kind[16];		/* index; unindex of one kind ("" of all) */
	int64_t exp;		/* expire: when, ms since the epoch; 0 never */
	char state[65];		/* checkpoint: the state's digest, hex */
	char name[401];		/* file: the file's name */
	int64_t version;	/* file: the version's number */
	char root[65];		/* file: the Merkle root of its chunks */
	int exists;		/* nothing staged: the index or the edge was
				 * already there (no seq, no hash) */
	int replay;		/* nothing staged: the idempotency key was
				 * seen; this is its first op's receipt */
} nedb_receipt;

#define NEDB_RECEIPT_OPEN 0x1	/* leave the object open (no final '}') */

/*
 * Appends r as one JSON object, without a newline:
 * {"seq":N,"hash":"H","op":"KIND", then the kind's members as
 * nedb-format(5) lists them}, or for exists
 * {"op":"KIND", the members,"exists":true}.  A replay renders as the
 * first op's receipt did.  With NEDB_RECEIPT_OPEN the final '}' is left
 * out, for a caller that adds members (each starting with ',') and
 * closes the object.  NEDB_EUSAGE for an unknown r->op; NEDB_EIO when
 * out cannot grow.
 */
NEDB_EXPORT int nedb_receipt_json(nedb_buf *out, const nedb_receipt *r,
				  unsigned flags);

/*
 * Stages a put and fills its receipt.  A repeated idempotency key fills
 * in the original receipt (replay set) and stages nothing.  On error
 * nothing is staged, the receipt's contents are unspecified, and the
 * transaction stays usable.
 */
NEDB_EXPORT int nedb_write_put(nedb *db, const nedb_put *p,
			       nedb_receipt *receipt);
/* Stages a delete; NEDB_ENOTFOUND (nothing staged) if there is no live doc. */
NEDB_EXPORT int nedb_write_delete(nedb *db, const char *coll, const char *id,
				  const nedb_wopts *w, nedb_receipt *receipt);
/*
 * Stages a link (or with unlink set, an unlink) of the directed edge
 * from -rel-> to, node keys "coll:id".  Unlinking a missing edge is
 * NEDB_ENOTFOUND.  Linking an edge that exists stages nothing and fills
 * the receipt with exists set.
 */
NEDB_EXPORT int nedb_write_link(nedb *db, const char *from, const char *rel,
				const char *to, int unlink,
				const nedb_wopts *w, nedb_receipt *receipt);
/*
 * Stages an index op: create an index of kind "eq", "ordered" or
 * "search" on coll.field (kind NULL: nedb_write_unindex of every kind).
 * A field may carry one index of each kind; the planner picks per
 * condition.  Creating one that exists stages nothing and fills the
 * receipt with exists set ({"op":"index",...,"exists":true}).
 */
NEDB_EXPORT int nedb_write_index(nedb *db, const char *coll,
				 const char *field, const char *kind,
				 const nedb_wopts *w, nedb_receipt *receipt);
/* Stages an unindex op: drops the index of that kind on coll.field, or
 * with kind NULL every kind; NEDB_ENOTFOUND if there is none. */
NEDB_EXPORT int nedb_write_unindex(nedb *db, const char *coll,
				   const char *field, const char *kind,
				   const nedb_wopts *w, nedb_receipt *receipt);
/* Stages a drop of a collection (NEDB_ENOTFOUND if it has no documents). */
NEDB_EXPORT int nedb_write_drop(nedb *db, const char *coll,
				const nedb_wopts *w, nedb_receipt *receipt);
/*
 * Stages an expire op: the live document coll/id expires ttl_ms from now,
 * or with ttl_ms 0 never (persist).  NEDB_ENOTFOUND if there is no live
 * document.
 */
NEDB_EXPORT int nedb_write_expire(nedb *db, const char *coll,
				  const char *id, int64_t ttl_ms,
				  const nedb_wopts *w, nedb_receipt *receipt);
/* Stages a delete op for every document expired at now (ms). */
NEDB_EXPORT int nedb_write_sweep(nedb *db, int64_t now, uint64_t *deleted);
/* Counts documents expired at now but not yet swept. */
NEDB_EXPORT int nedb_expired_pending(nedb *db, int64_t now, uint64_t *n);
/* Counts the live documents of coll that expire (after now), and their
 * mean time to live in ms (0 when none): INFO keyspace's expires and
 * avg_ttl. */
NEDB_EXPORT int nedb_ttl_count(nedb *db, const char *coll, int64_t now,
			       uint64_t *n, int64_t *avg_ms);
typedef struct nedb_prune_info {
	uint64_t archived;	/* ops moved out of log.aof (0: none) */
	uint64_t first, last;	/* their seqs */
	uint64_t bytes;		/* their size in the log */
} nedb_prune_info;

/*
 * Moves the ops before the latest checkpoint out of log.aof into a
 * zlib-compressed segment under archive/, so that log.aof starts at the
 * checkpoint.  Reads of the past, nedb_verify and rebuilds read the
 * archive.  Takes the writer lock itself (no write may be open).
 * NEDB_ENOTFOUND when there is no checkpoint.
 */
NEDB_EXPORT int nedb_prune(nedb *db, nedb_prune_info *out);

/*
 * Compacts the view: an LMDB copy without free pages replaces it.  Done
 * only when no other process has the database open (NEDB_EBUSY then);
 * no transaction may be open.  *before, *after: the view's bytes.
 */
NEDB_EXPORT int nedb_compact(nedb *db, uint64_t *before, uint64_t *after);
/* Stages a checkpoint op committing to a digest of the state. */
NEDB_EXPORT int nedb_write_checkpoint(nedb *db, nedb_receipt *receipt);
/*
 * Rebuilds the view from the whole log (its own write transaction; none
 * may be open).  Works when the view and the log disagree; checkpoint
 * digests are checked on the way.
 */
NEDB_EXPORT int nedb_rebuild(nedb *db);

/*
 * Redaction (SPEC §9, doc/redaction.md): erases the text of version seq
 * of coll/id, or with seq 0 of every version not erased yet, with a
 * redact op naming them and reason (NULL: none; hashed and permanent:
 * no personal data in it).  Afterwards no file of the database holds
 * that text, and every op hash, proof and signed checkpoint is as it
 * was; a redacted version reads as {"_id":ID,"_redacted":{"seq":R}}.
 * Not a staged write: it takes the writer lock itself (no write may be
 * open) and needs the view to itself (NEDB_EBUSY when another process
 * has the database open).  tmk_file: an encrypted database's master
 * key, as for nedb_open_key (NULL: the environment's).  Errors:
 * NEDB_ENOTFOUND (no such document or version), NEDB_EREJECTED (already
 * redacted, stale nonce), NEDB_EINPUT (bad name, bad reason), NEDB_EIO
 * (a database in log format 1, which cannot redact; I/O).  After it
 * returns 0 the handle still reads the files as they were: close it.
 */
NEDB_EXPORT int nedb_redact(nedb *db, const char *coll, const char *id,
			    uint64_t seq, const char *reason,
			    const nedb_wopts *w, const char *tmk_file,
			    nedb_receipt *receipt);

/* Edges, collections and indexes. */

/*
 * Calls fn with each neighbour of node ("coll:id") over relation rel
 * (NULL: every relation), outgoing or with inbound set incoming, as of
 * seq (NEDB_HEAD for now).  Each neighbour once, in order of its node
 * number.
 */
typedef int (*nedb_node_fn)(const char *node, const char *rel,
			    void *payload);
NEDB_EXPORT int nedb_neighbors(nedb *db, const char *node, const char *rel,
			       int inbound, uint64_t as_of, nedb_node_fn fn,
			       void *payload);
/* Calls fn for each collection with live documents and its count. */
typedef int (*nedb_coll_fn)(const char *coll, uint64_t count,
			    void *payload);
NEDB_EXPORT int nedb_collections(nedb *db, nedb_coll_fn fn, void *payload);
/* Calls fn for each index: collection, field, kind, number of entries. */
typedef int (*nedb_index_fn)(const char *coll, const char *field,
			     const char *kind, uint64_t entries,
			     void *payload);
NEDB_EXPORT int nedb_indexes(nedb *db, nedb_index_fn fn, void *payload);
/*
 * The same as JSON objects appended to out, sep between them:
 * {"coll":C,"count":N} and {"coll":C,"field":F,"kind":K,"entries":N}.
 */
NEDB_EXPORT int nedb_collections_json(nedb *db, const char *sep,
				      nedb_buf *out);
NEDB_EXPORT int nedb_indexes_json(nedb *db, const char *sep, nedb_buf *out);
typedef struct nedb_stats {
	uint64_t seq;
	char head[65];
	uint64_t log_bytes, view_bytes;
	int has_checkpoint;
	uint64_t checkpoint;	/* seq of the last checkpoint op */
} nedb_stats;

NEDB_EXPORT int nedb_stats_get(nedb *db, nedb_stats *out);

/* Checks a node key "coll:id"; NEDB_EINPUT with a message if bad. */
NEDB_EXPORT int nedb_check_node(const char *node);

/* Queries. */

/* Receives each result row (compact JSON text); nonzero stops. */
typedef int (*nedb_row_fn)(const char *json, size_t len, void *payload);

#define NEDB_QUERY_EXPLAIN 0x1	/* one row: the plan, not the results */

/*
 * Runs an NQL query (nedb-nql(7)).  A syntax error is NEDB_EUSAGE with a
 * one-line message naming the column; nedb_errpos() says where.
 *
 * A query may write: with the auto_index option of meta.json (nedb-index
 * --auto) on, a query that filters or sorts on an unindexed field counts
 * it, and the count that reaches the threshold creates the index.  That
 * is a write like any other: it takes the writer lock (waiting for it),
 * appends an index op and syncs, before the rows are read.  The counts
 * are statistics, not state (not digested, not replayed).  With the
 * option off, the default, a query never writes.
 */
NEDB_EXPORT int nedb_query(nedb *db, const char *nql, unsigned flags,
			   nedb_row_fn fn, void *payload);
/*
 * Asks the query running on db to stop, as sqlite3_interrupt does: safe
 * to call from a signal handler or another thread.  The query (nedb_query,
 * nedb_query_as_of, nedb_find) stops at its next candidate document and
 * returns NEDB_EUSAGE, "interrupted"; rows already delivered stay
 * delivered.  Each query clears the request as it begins.
 */
NEDB_EXPORT void nedb_interrupt(nedb *db);
/*
 * nedb_query with a default point of time: a query without an AS OF of
 * its own runs as of seq as_of (NEDB_HEAD: now), as if it said AS OF
 * as_of (so that the shell's .as-of makes every statement travel).
 */
NEDB_EXPORT int nedb_query_as_of(nedb *db, const char *nql, unsigned flags,
				 uint64_t as_of, nedb_row_fn fn,
				 void *payload);

/* A MongoDB-style find (nedb-query --filter). */
typedef struct nedb_find_opts {
	const char *coll;
	const char *filter;	/* JSON object; NULL: everything */
	const char *sort;	/* {"field":1|-1,...}; NULL: _id order */
	uint64_t skip;
	int has_limit;
	uint64_t limit;
	uint64_t as_of;		/* NEDB_HEAD for now */
} nedb_find_opts;

NEDB_EXPORT int nedb_find(nedb *db, const nedb_find_opts *o, unsigned flags,
			  nedb_row_fn fn, void *payload);
/*
 * Appends doc with only the top-level members a projection keeps:
 * {"a":1,"b":1} keeps a, b and _id; {"a":0} keeps all but a; "_id":0
 * drops _id.  NEDB_EUSAGE for a bad projection.
 */
NEDB_EXPORT int nedb_project(nedb_buf *out, const char *doc, size_t len,
			     const char *spec);
/*
 * Appends doc changed by a MongoDB-style update: {"$set":{..},"$unset":
 * {..},"$inc":{..},"$push":{..},"$pull":{..}} (dotted paths), or a plain
 * object that replaces the document.  Untouched members keep their text.
 * NEDB_EUSAGE for a bad update, NEDB_EINPUT when it does not fit the
 * document ($inc of a string...).
 */
NEDB_EXPORT int nedb_update_doc(nedb_buf *out, const char *doc, size_t len,
				const char *update);
/* The string _id of a document (caller frees); NEDB_EINPUT if none. */
NEDB_EXPORT int nedb_doc_id(const char *doc, size_t len, char **out);
/* The document an upsert starts from: the filter's equality members. */
NEDB_EXPORT int nedb_upsert_base(nedb_buf *out, const char *filter);

/* Update-many and upsert (nedb-update, SQL's UPDATE); {0} is "the first
 * match, no upsert, client local". */
typedef struct nedb_update_opts {
	const char *coll;
	const char *filter;	/* nedb_find's filter; NULL: everything */
	const char *update;	/* nedb_update_doc's update */
	int many;		/* every match, not only the first */
	int upsert;		/* insert a document when nothing matches */
	nedb_wopts w;		/* idem must be NULL */
} nedb_update_opts;

typedef struct nedb_update_info {
	uint64_t matched;	/* documents the filter matched */
	uint64_t changed;	/* puts staged, the upserted one included */
	int upserted;		/* a document was inserted */
} nedb_update_info;

/*
 * Changes the first document of o->coll that o->filter matches (in _id
 * order), or with o->many every one, by o->update (nedb_update_doc),
 * and stages one put per document it changed (a patch op of the update
 * instead for a large document: nedb-format(5)); a document the update
 * leaves as it was is matched but not written.  An update changes
 * members, never the expiry.  With o->upsert and no match, it stages a
 * put of nedb_upsert_base(filter) changed by the update, its id the
 * filter's _id or 32 random hex digits.  A client nonce o->w.nonce is
 * taken by the first put, the next ones by the following puts.
 *
 * Transactions: with a write transaction open (nedb_write_begin), the
 * puts are staged in it and acknowledge nothing until its commit; with
 * none, nedb_update opens one (waiting for the writer lock, ending a
 * read snapshot of the caller's) and commits it before it returns.
 *
 * fn (NULL: none wanted) then receives each put's receipt (borrowed for
 * the call), in _id order; its nonzero return stops the walk and is
 * returned (what was written stays written).  *out (NULL
 * ok) says what matched and what was staged, on failure too.
 *
 * Returns 0 also when nothing matched (out->matched is 0).  On failure
 * nothing is staged, and with its own transaction nothing is written:
 *  NEDB_EUSAGE    a bad update (checked before anything is read), bad
 *                 filter, bad client name, an idempotency key, coll or
 *                 update NULL;
 *  NEDB_EINPUT    a bad collection name, or an update that does not fit
 *                 a document ($inc of a string, too large a result);
 *  NEDB_EREJECTED a stale nonce;
 *  NEDB_EBUSY, NEDB_EIO, NEDB_ECORRUPT  as nedb_write_begin,
 *                 nedb_write_put and nedb_write_commit; after one of
 *                 these in the caller's transaction, the transaction is
 *                 unusable (its commit fails): abort it.
 * Nothing passed in is kept after the call.
 */
typedef int (*nedb_receipt_fn)(const nedb_receipt *r, void *payload);
NEDB_EXPORT int nedb_update(nedb *db, const nedb_update_opts *o,
			    nedb_update_info *out, nedb_receipt_fn fn,
			    void *payload);

/*
 * SQL (nedb-sql(1)): statements that give sqlite3's answers on nedb's
 * collections.  A value is what sqlite3 has: NULL, INTEGER, REAL or TEXT.
 * A document's value SQL has no type for (true, false, an array, an
 * object) is what sqlite3's JSON functions make of it (1, 0, its JSON
 * text), with json holding the document's own text.
 */
enum { NEDB_SQL_NULL, NEDB_SQL_INTEGER, NEDB_SQL_REAL, NEDB_SQL_TEXT };

typedef struct nedb_sql_value {
	int type;		/* NEDB_SQL_* */
	int64_t i;		/* INTEGER */
	double r;		/* REAL */
	const char *s;		/* TEXT: n bytes, not NUL-ended */
	size_t n;
	const char *json;	/* a document's true, false, array or object:
				 * its JSON text (jsonlen bytes); else NULL */
	size_t jsonlen;
} nedb_sql_value;

/* One result row, borrowed for the call: ncols names and values; for
 * EXPLAIN, plan (the plan's JSON, as nedb_query's) and no columns. */
typedef struct nedb_sql_row {
	size_t ncols;
	const char *const *names;
	const nedb_sql_value *v;
	const char *plan;
	size_t planlen;
} nedb_sql_row;

/* Receives each row; nonzero stops the statement and is returned. */
typedef int (*nedb_sql_fn)(const nedb_sql_row *row, void *payload);

/*
 * Runs the next SQL statement of sql (NUL-ended) from byte *pos, and
 * moves *pos past it and its ';'.  Blanks, comments and empty
 * statements are skipped; with nothing left *pos becomes the end and
 * nothing runs.  So a script runs as
 *
 *	for (size_t pos = 0; sql[pos];)
 *		if ((rc = nedb_sql(db, sql, &pos, fn, payload))) ...
 *
 * and after a failed statement *pos is past it, for a caller that goes
 * on.  A statement that writes is atomic: its ops are staged together
 * once every check has passed, and committed together (one fsync), or
 * with BEGIN ... COMMIT when COMMIT runs (ROLLBACK, or closing the
 * handle, drops them).  Returns 0, or
 *  NEDB_EUSAGE     a syntax error ("syntax error: ..."), no such table
 *                  or column, SQL nedb does not support (the message
 *                  says what); nedb_errpos() gives the byte offset in
 *                  sql where, when known;
 *  NEDB_EREJECTED  a constraint failed (UNIQUE, NOT NULL);
 *  NEDB_EINPUT     a value that cannot be stored (a bad id, a REAL
 *                  id, a document too large), an integer overflow;
 *  otherwise as the reads and writes it does.
 */
NEDB_EXPORT int nedb_sql(nedb *db, const char *sql, size_t *pos,
			 nedb_sql_fn fn, void *payload);
/* Appends a row as one JSON object keyed by column name, in column
 * order (REAL as sqlite3 prints it); EXPLAIN's row is its plan. */
NEDB_EXPORT int nedb_sql_row_json(nedb_buf *out, const nedb_sql_row *row);
/* Appends sqlite3's text of a value (list mode): INTEGER in decimal,
 * REAL as "%!.15g" (1.0, 1.0e+20), TEXT as it is, NULL as nothing. */
NEDB_EXPORT int nedb_sql_value_text(nedb_buf *out, const nedb_sql_value *v);

/* The log. */

/*
 * Calls fn with each op line (without "\n"; borrowed for the call) with
 * from <= seq <= to, in order (reverse with NEDB_SCAN_REVERSE), archived
 * ops included.  Each line is checked against the chain and the view's
 * record of it before fn sees it.  Only ops applied to the read
 * snapshot are visited.  fn's nonzero return stops the scan and is
 * returned.  NEDB_ECORRUPT when a line does not check out (the lines
 * before it were delivered), NEDB_EIO for I/O.
 */
typedef int (*nedb_line_fn)(uint64_t seq, const char *line, size_t len,
			    void *payload);
#define NEDB_SCAN_REVERSE 0x1	/* from to down to from */
#define NEDB_SCAN_RAW 0x2	/* lines as stored: an encrypted database's
				 * sealed lines (each still checked first) */
NEDB_EXPORT int nedb_log_scan(nedb *db, uint64_t from, uint64_t to,
			      int flags, nedb_line_fn fn, void *payload);

typedef struct nedb_verify_result {
	int ok;
	uint64_t seq;		/* last good seq, or the first bad one */
	char head[65];
	char error[256];
} nedb_verify_result;

#define NEDB_VERIFY_DETERMINISM 0x1

/*
 * Rewalks the chain from genesis, archives included, and checks the
 * format's rules (seqs, links, hashes, nonces, idempotency keys).
 * Returns 0 with the verdict in *out: ok, or not ok with the first bad
 * seq and a one-line error (a broken chain is a verdict, not an error
 * code).  A negative code only when the database cannot be read at all
 * (NEDB_EIO, NEDB_ECORRUPT for a view without a head).  With
 * NEDB_VERIFY_DETERMINISM the state is also rebuilt from the log in a
 * scratch view and compared with this one, table by table.  O(history):
 * not for an event loop.
 */
NEDB_EXPORT int nedb_verify(nedb *db, unsigned flags, nedb_verify_result *out);

/*
 * Proofs (SPEC §9).  The ops form an RFC 6962 Merkle tree (SHA-256):
 * entry i is the 32 raw bytes of op seq i's hash, its leaf hash
 * SHA-256(0x00 || entry), an interior node SHA-256(0x01 || left ||
 * right); the tree of size N covers seqs 0..N-1.  Proofs are those of
 * RFC 6962 §2.1.1 and §2.1.2 (hashes bottom up), which Go's
 * golang.org/x/mod/sumdb/tlog checks with CheckRecord and CheckTree.
 * Every call reads the read snapshot (or its own): O(log N) stored
 * hashes and the op hashes of at most a few tiles of 256 ops (the view
 * stores subtrees of a tile or more, nedb-format(5)); it loads libcrypto
 * (SHA-256) unless the answer needs no hashing.  size NEDB_HEAD means the
 * snapshot's (the number of ops: head seq + 1).  Errors:
 *  NEDB_EUSAGE     size beyond the snapshot's, seq not below size, old
 *                  0 or above size (the message says which);
 *  NEDB_ECORRUPT   a stored hash is missing or malformed (a damaged
 *                  view: nedb-checkpoint --rebuild);
 *  NEDB_EIO        LMDB, or libcrypto cannot be loaded.
 */
#define NEDB_TREE_HASH 32
enum { NEDB_PROOF_INCLUSION = 1, NEDB_PROOF_CONSISTENCY = 2 };

typedef struct nedb_proof {
	int kind;		/* NEDB_PROOF_* */
	uint64_t seq;		/* inclusion: the op (the leaf's index) */
	uint64_t old;		/* consistency: the old tree's size */
	uint64_t size;		/* the tree's size */
	unsigned char leaf[NEDB_TREE_HASH];	/* inclusion: op seq's hash */
	unsigned char old_root[NEDB_TREE_HASH];	/* consistency */
	unsigned char root[NEDB_TREE_HASH];	/* the tree of size's root */
	unsigned char (*path)[NEDB_TREE_HASH];	/* the proof, owned */
	size_t n;		/* hashes in path */
} nedb_proof;

/* The number of ops in the read snapshot (the tree's size). */
NEDB_EXPORT int nedb_tree_size(nedb *db, uint64_t *out);
/* The root of the tree of size ops (0: SHA-256 of nothing, RFC 6962);
 * *size gets the size used (in and out: NEDB_HEAD for the snapshot's). */
NEDB_EXPORT int nedb_tree_root(nedb *db, uint64_t *size,
			       unsigned char out[NEDB_TREE_HASH]);
/* The inclusion proof of op seq in the tree of size ops.  Free *out with
 * nedb_proof_free (also after an error). */
NEDB_EXPORT int nedb_prove_inclusion(nedb *db, uint64_t seq, uint64_t size,
				     nedb_proof *out);
/* The consistency proof from the tree of old ops (1 <= old <= size) to
 * the tree of size ops. */
NEDB_EXPORT int nedb_prove_consistency(nedb *db, uint64_t old, uint64_t size,
				       nedb_proof *out);
NEDB_EXPORT void nedb_proof_free(nedb_proof *p);
/*
 * Appends p as nedb-proof(1) prints it, compact: inclusion
 * {"seq","size","leaf","root","proof":[...]}, consistency
 * {"old","new","old_root","new_root","proof":[...]}, hashes in hex.
 */
NEDB_EXPORT int nedb_proof_json(nedb_buf *out, const nedb_proof *p);

/*
 * Signed checkpoints (lib/proof/sign.c).  nedb_tree_sign signs the tree
 * of every op committed so far as a C2SP tlog-checkpoint note, with the
 * sumdb/note Ed25519 signer key in keyfile ("PRIVATE+KEY+..."), origin
 * NULL for "nedb/" and the first 16 hex digits of the genesis hash; the
 * note's text in *out, also kept in DIR/checkpoint.note unless a larger
 * tree's note is kept already.  Takes the writer lock unless the handle
 * holds it, and ends the handle's read snapshot.  NEDB_EUSAGE for a bad
 * key file or origin.
 * nedb_tree_sign_check: the key file and origin checked as
 * nedb_tree_sign would, with no database (before writing anything).
 * nedb_tree_note: the kept note's text (NEDB_ENOTFOUND: none).
 * nedb_prove_tlog: the C2SP tlog-proof@v1 of op seq in the kept note's
 * tree, with the note (NEDB_ENOTFOUND: no note, or seq not in its tree).
 */
NEDB_EXPORT int nedb_tree_sign(nedb *db, const char *keyfile,
			       const char *origin, nedb_buf *out);
NEDB_EXPORT int nedb_tree_sign_check(const char *keyfile, const char *origin);
NEDB_EXPORT int nedb_tree_note(nedb *db, nedb_buf *out);
NEDB_EXPORT int nedb_prove_tlog(nedb *db, uint64_t seq, nedb_buf *out);

/*
 * The file store (nedb-file(1), SPEC §5; lib/file).  A file's versions
 * are ops of the log ("file": name, version, size, chunks, root,
 * manifest); their bytes are in a content-addressed chunk store in the
 * database's directory (DIR/files), cut by content-defined chunking,
 * stored once across every file and version, deflated when that pays.
 * A version's root is the RFC 6962 Merkle root (SHA-256, as the ops'
 * tree above) whose leaf i is the 32-byte address of chunk i, so one
 * chunk is proven to belong to a version in O(log chunks) hashes.
 *
 * Names are 1 to 400 bytes of UTF-8 without control characters (as
 * document ids; NEDB_EINPUT otherwise).  Versions are numbered from 1 per
 * name, in the order of their ops.  Memory is bounded whatever the size
 * of a file: a put streams, a read streams.  Errors besides the usual:
 *  NEDB_ENOTFOUND  no such file, version, or none at that seq;
 *  NEDB_ECORRUPT   a chunk or manifest page that does not read back as
 *                  the op committed to (named: file, version, chunk), or
 *                  a view record the log does not hold;
 *  NEDB_EBUSY      (gc) never: gc waits for the store's users.
 */
#define NEDB_FILE_HASH 32
/* how new chunks are stored: deflated fast (warm) or small (cold), or
 * never deflated (raw: what the peers' "no compression" modes do) */
enum { NEDB_TIER_DEFAULT = 0, NEDB_TIER_WARM = 1, NEDB_TIER_COLD = 2,
       NEDB_TIER_RAW = 3 };

typedef struct nedb_file_version {
	char name[401];
	uint64_t version;	/* 1, 2, ... */
	uint64_t seq;		/* of its op */
	int64_t ts;		/* its op's time, ms since the epoch */
	uint64_t size, chunks;
	unsigned char root[NEDB_FILE_HASH];	/* Merkle root of the chunks */
	unsigned char manifest[NEDB_FILE_HASH];	/* its top page's address */
	char hash[65];		/* its op's hash, hex */
} nedb_file_version;

typedef struct nedb_file_put nedb_file_put;
typedef struct nedb_file_put_opts {
	int tier;		/* NEDB_TIER_*; DEFAULT: the database's */
	nedb_wopts w;		/* borrowed until commit or abort */
} nedb_file_put_opts;

/*
 * A put in three steps, for a stream of any length: begin (the name
 * checked, the store opened and held against gc), write the bytes in
 * pieces of any size, then commit: the last chunks and the manifest are
 * stored and synced, then the version's op is appended and acknowledged
 * as any write's (nedb_write_begin ... commit inside).  *out gets the
 * version (version, seq, hash filled); *new_bytes the bytes this put
 * added to the store's packs (0 for a file it already held).  commit and
 * abort free p, whatever they return; a failed write leaves p to abort.
 * Nothing of an aborted or killed put is a version: its chunks are
 * garbage that nedb_file_gc reclaims.  With o->w.idem seen before, commit
 * appends nothing and gives the first put's version (new_bytes 0).
 */
NEDB_EXPORT int nedb_file_put_begin(nedb *db, const char *name,
				    const nedb_file_put_opts *o,
				    nedb_file_put **out);
NEDB_EXPORT int nedb_file_put_write(nedb_file_put *p, const void *data,
				    size_t n);
NEDB_EXPORT int nedb_file_put_commit(nedb_file_put *p, nedb_file_version *out,
				     uint64_t *new_bytes);
NEDB_EXPORT void nedb_file_put_abort(nedb_file_put *p);
/*
 * The commit for a caller that holds db's write open itself
 * (nedb_write_begin or trybegin; nedbd's batches): what is left is
 * stored and synced, then the version's op is staged in that write, to
 * be acknowledged when the caller commits it (*out's seq and hash are
 * the staged op's).  When the write is aborted instead, nothing is a
 * version (the chunks are garbage, as an aborted put's).  NEDB_EUSAGE
 * when no write is open.  Frees p, whatever it returns; an error other
 * than NEDB_EUSAGE may leave the write unusable (abort it).
 */
NEDB_EXPORT int nedb_file_put_stage(nedb_file_put *p, nedb_file_version *out,
				    uint64_t *new_bytes);

/*
 * The version of name: number version (0: the latest), as of seq as_of
 * (NEDB_HEAD: now; otherwise the latest at or before it, and a version
 * number above it is not found).  Its members come from its op's line,
 * checked against the view's record.
 */
NEDB_EXPORT int nedb_file_stat(nedb *db, const char *name, uint64_t version,
			       uint64_t as_of, nedb_file_version *out);
/*
 * Streams version v's bytes to fn in order, each piece a chunk checked
 * against its address first (and the whole against v's root, size and
 * chunk count at the end): fn never sees a byte the op did not commit
 * to.  A damaged chunk stops the read with NEDB_ECORRUPT naming the
 * file, version and chunk, after fn had the chunks before it.  fn's
 * nonzero return stops the read and is returned.
 */
typedef int (*nedb_data_fn)(const void *p, size_t n, void *payload);
NEDB_EXPORT int nedb_file_read(nedb *db, const nedb_file_version *v,
			       nedb_data_fn fn, void *payload);
/*
 * The same read pulled a chunk at a time, for a caller that hands the
 * bytes on at its own pace (nedbd's responses): _open finds v's manifest
 * (the store is held against gc until _close); each _next sets *p, *n to
 * the next chunk, checked, borrowed until the next call or _close; at the
 * end (the whole checked against v's root, size and count) it returns 0
 * with *n 0.  Errors as nedb_file_read's; after one, only _close.  The
 * reader uses none of db's transactions (it may outlive a read snapshot
 * or a write), but db must stay open until _close.
 */
typedef struct nedb_file_reader nedb_file_reader;
NEDB_EXPORT int nedb_file_reader_open(nedb *db, const nedb_file_version *v,
				      nedb_file_reader **out);
NEDB_EXPORT int nedb_file_reader_next(nedb_file_reader *r, const void **p,
				      size_t *n);
NEDB_EXPORT void nedb_file_reader_close(nedb_file_reader *r);
/*
 * Lists versions as of as_of: with name, every version of it (oldest
 * first; NEDB_ENOTFOUND when none); with name NULL, the latest version
 * of every file (by name).  Members from the view (hash left "").
 */
typedef int (*nedb_file_fn)(const nedb_file_version *v, void *payload);
NEDB_EXPORT int nedb_file_list(nedb *db, const char *name, uint64_t as_of,
			       nedb_file_fn fn, void *payload);
/*
 * The inclusion proof of chunk k (from 0) of version v under v's root,
 * appended to out as one JSON object (nedb-format(5)):
 * {"name","version","op_seq","chunk","chunks","offset","length","leaf",
 * "root","proof":[...]}.  NEDB_EUSAGE when k is not below v's chunks.
 */
NEDB_EXPORT int nedb_file_prove(nedb *db, const nedb_file_version *v,
				uint64_t k, nedb_buf *out);
/*
 * Checks such a proof with no database: 0 when valid (its path leads
 * from its leaf to its root, which must equal root_hex when that is not
 * NULL; and, when data is not NULL, BLAKE2b-256 of data[0, n) is the
 * leaf: a plaintext database's address), NEDB_EBROKEN when not,
 * NEDB_EINPUT when text is not such a proof; the message says why.
 * chunks, when not 0, is the trusted number of chunks of the version
 * (its op's, with its root): RFC 6962 paths bind the root, and a tree
 * size only through their shape, so a proof may hold for more than one
 * size.  *out (when not NULL) gets what the proof says it proves, parsed set
 * once its members have been read.
 */
typedef struct nedb_file_proof_info {
	int parsed;		/* the members below were read */
	char name[401];
	uint64_t version, chunk, chunks;
} nedb_file_proof_info;
NEDB_EXPORT int nedb_file_proof_check(const char *text, size_t len,
				      const char *root_hex, uint64_t chunks,
				      const void *data, size_t n,
				      nedb_file_proof_info *out);

/*
 * The JSON lines of nedb-file(1) and nedbd, appended to b: a version as
 * ls prints it ({"name","version","seq","ts","size","chunks","root"},
 * and with full "manifest" and "hash", as root prints it), and a put's
 * answer ({"seq","name","version","size","chunks","new_bytes","root"}).
 */
NEDB_EXPORT int nedb_file_version_json(nedb_buf *b, const nedb_file_version *v,
				       int full);
NEDB_EXPORT int nedb_file_put_json(nedb_buf *b, const nedb_file_version *v,
				   uint64_t new_bytes);

/* What the store holds (nedb-file stats). */
typedef struct nedb_file_stats {
	uint64_t files, versions;
	uint64_t logical;	/* the sizes of every version, summed */
	uint64_t chunks, chunk_bytes;	/* distinct chunks, their bytes */
	uint64_t stored;	/* what the chunk records take on disk */
	struct {
		uint64_t chunks, bytes, stored;
	} tier[3];		/* raw (incompressible), warm, cold */
	uint64_t pages, page_bytes;	/* manifest pages */
	uint64_t packs, pack_bytes;	/* pack files and their size */
	uint32_t chunk_min, chunk_avg, chunk_max;	/* settings */
	int default_tier;
} nedb_file_stats;
NEDB_EXPORT int nedb_file_stats_get(nedb *db, nedb_file_stats *out);

/*
 * Removes what no version references (an interrupted put's chunks, the
 * duplicates of concurrent puts) and rewrites the packs that were mostly
 * such garbage.  Waits for the store's users (puts and reads) to finish,
 * then holds it exclusive.  Fails, removing nothing, when a version's
 * manifest cannot be read.
 */
typedef struct nedb_file_gc {
	uint64_t chunks, bytes;		/* records removed, their bytes */
	uint64_t packs_rewritten, packs_removed;
	uint64_t freed;			/* disk bytes given back */
	uint64_t versions;		/* versions whose chunks were kept */
} nedb_file_gc;
NEDB_EXPORT int nedb_file_gc_run(nedb *db, nedb_file_gc *out);

/*
 * Reads back every chunk of every version (nedb-verify --files): 0 with
 * *bad 0 when all are whole; otherwise *bad counts the versions that are
 * not and why (first one) is in nedb_errmsg.  fn, when not NULL, hears
 * of each version checked and its result (0 or the error).
 */
typedef int (*nedb_file_check_fn)(const nedb_file_version *v, int rc,
				  void *payload);
NEDB_EXPORT int nedb_file_check(nedb *db, nedb_file_check_fn fn,
				void *payload, uint64_t *bad);

/*
 * The database's chunking and default tier (meta.json, configuration,
 * not state): chunk sizes min < avg < max (avg a power of two, at least
 * 256; min at least 64; max at most 16 MiB) or NULL to leave them;
 * tier NEDB_TIER_* or -1 to leave it.  nedb_file_config_get: the
 * settings in force (defaults 16, 64 and 256 KiB; warm).
 */
NEDB_EXPORT int nedb_file_config_set(nedb *db, const uint32_t chunk[3],
				     int tier);
NEDB_EXPORT void nedb_file_config_get(nedb *db, uint32_t chunk[3], int *tier);

/*
 * Waits until the view's head passes *seq or timeout_ms passes (for
 * --follow), polling; then sets *seq to the head (in and out) and
 * follows a prune's rotation of the log.  Errors as nedb_head.
 */
NEDB_EXPORT int nedb_wait(nedb *db, uint64_t *seq, int timeout_ms);

/* JSON helpers (load libjq). */
/* Appends text pretty-printed with indent 2 and a newline. */
NEDB_EXPORT int nedb_json_pretty(nedb_buf *out, const char *text, size_t len);
/*
 * Validates text as one JSON object (strict, as documents are) and
 * appends its compact form, number texts kept as written, NUL-ended.
 * NEDB_EINPUT with a message saying what and where otherwise.
 */
NEDB_EXPORT int nedb_json_object(nedb_buf *out, const char *text, size_t len);
/*
 * Finds the top-level member key of a compact object (as
 * nedb_json_object leaves it): its value's text in *v, *vlen.  Returns
 * 1 when found, 0 when not.  Needs no libjq.
 */
NEDB_EXPORT int nedb_json_member(const char *obj, size_t len, const char *key,
				 const char **v, size_t *vlen);
/*
 * Calls fn for each element of a compact array, or each member of a
 * compact object (key: the member's name as a string literal, quotes
 * included; NULL for array elements).  fn's nonzero return stops the walk
 * and is returned.  NEDB_EINPUT when json is neither.  Needs no libjq.
 */
typedef int (*nedb_json_fn)(const char *key, size_t klen, const char *v,
			    size_t vlen, void *payload);
NEDB_EXPORT int nedb_json_each(const char *json, size_t len, nedb_json_fn fn,
			       void *payload);
/* Decodes a JSON string literal into *out (caller frees); NEDB_EINPUT
 * when lit is not a string or holds a NUL. */
NEDB_EXPORT int nedb_json_string(const char *lit, size_t len, char **out);

#ifdef __cplusplus
}
#endif
#endif
