/*
 * engine.h - the log on a replicated engine (SPEC §10): PostgreSQL or a
 * Redis Stream.
 *
 * A database directory whose file "engine" names a URL keeps, as every
 * directory does, its log (log.aof, the logstore.h backend) and its view;
 * but its log is then this machine's verified copy of the engine's, and
 * the engine holds the truth.  The engine is reached only here: engine.c
 * dispatches on the URL's scheme to a backend's table of operations
 * (struct engine_ops below: pglog.c for postgresql://, redislog.c for
 * redis://) and keeps what every backend shares (the URL, the checks of
 * fetched lines, the search for where a copy and the engine differ).
 * The write protocol in db.c calls these at fixed points:
 *
 *  - write_begin, under the writer lock: nedb__engine_begin (the
 *    database's lock on the engine, which serialises the writers of every
 *    machine: PostgreSQL's advisory lock, a Redis key set NX), then
 *    nedb__engine_fetch until it returns no line:
 *    each batch of ops other machines wrote is checked against the chain
 *    (its first op links to this copy's head), appended to log.aof and
 *    applied as any line a crashed writer left behind.
 *  - nedb_write_commit, before the local append: nedb__engine_append
 *    inserts the staged lines at their seqs and commits (PostgreSQL: in
 *    the transaction; Redis: one script that appends the batch only if
 *    the stream ends at the seq before it).  Only once the engine's
 *    commit returned are the lines appended to log.aof, applied, and the
 *    write acknowledged.  A seq another writer took first (a writer that
 *    did not hold the lock) appends nothing and says so
 *    (nedb_write_conflict): the caller begins again, catching up, and its
 *    op is validated and hashed anew onto the new head.
 *  - nedb__wunlock: nedb__engine_end rolls back whatever is still open.
 *  - a reader (nedb_open, nedb_engine_sync) fetches without the lock and
 *    takes the writer lock only when there is something to append.
 *
 * Invariants:
 *  E1. log.aof never holds an op the engine has not committed: the local
 *      append follows the engine's COMMIT.  So a local copy longer than
 *      the engine's log, or differing from it at some seq, means the
 *      engine lost ops (a failover to a standby that had not flushed
 *      them): every command refuses (NEDB_ECORRUPT) naming the first seq
 *      that differs, instead of forking the chain.
 *  E2. Lines fetched from the engine are appended only after they were
 *      checked: shape, seq, hash, and the link to this copy's head.
 *  E3. libpq and libhiredis are loaded (dlopen) by the first call that
 *      needs the engine; a database without one never loads either.
 */
#ifndef NEDB_ENGINE_H
#define NEDB_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include "nedb.h"

struct nedb_engine;

/* Reads dir's "engine" file into *out (NULL: none).  NEDB_EUSAGE for a
 * URL this nedb does not know. */
int nedb__engine_load(const char *dir, struct nedb_engine **out);
/* Checks url (postgresql://...#name, redis://...#name) for a database in
 * dir. */
int nedb__engine_parse(const char *url, const char *dir,
		       struct nedb_engine **out);
/* Writes dir's "engine" file naming url, durably. */
int nedb__engine_record(const char *dir, const char *url);
void nedb__engine_free(struct nedb_engine *e);
const char *nedb__engine_url(const struct nedb_engine *e);
const char *nedb__engine_name(const struct nedb_engine *e);

/*
 * Takes the database's lock on the engine (PostgreSQL: a transaction
 * holding its advisory lock; Redis: the lock key) (wait: block for it;
 * else NEDB_EBUSY when another writer has it).  create: the table is
 * created when missing (a stream needs nothing).  NEDB_EIO when the
 * engine cannot be reached.  PostgreSQL without create (libpq 14 or
 * later) only marks the transaction begun: BEGIN and the lock are sent
 * with the first fetch (its NEDB_EBUSY, then), and the last INSERT with
 * the COMMIT, so that a write costs two round trips.
 */
int nedb__engine_begin(nedb *db, bool wait, bool create);
/*
 * The ops after this copy's tail (seq *tail, hash head; *have_tail
 * false for a copy with no op yet) into out (NULL: only counted), each
 * line "\n"-terminated as stored, at most limit of them (0: a batch);
 * *n of them (0: none left), and the tail moved to the last.  Checks
 * that the engine holds the tail (E1) and that the lines chain onto it
 * (E2).
 */
int nedb__engine_fetch(nedb *db, bool *have_tail, uint64_t *tail,
		       unsigned char head[32], nedb_buf *out, size_t *n,
		       unsigned limit);
/* Inserts n lines (first seq first_seq) and commits (see above): a
 * lost seq is NEDB_EBUSY with nedb__engine_conflict true. */
int nedb__engine_append(nedb *db, const char *lines, size_t len,
			uint64_t first_seq, size_t n);
/* The two halves of append: insert (in the open transaction), commit. */
int nedb__engine_insert(nedb *db, const char *lines, size_t len,
			uint64_t first_seq, size_t n);
int nedb__engine_commit(nedb *db);
/* Rolls back an open transaction (nothing when none). */
void nedb__engine_end(nedb *db);
/* Whether the last append lost its seq to another writer. */
bool nedb__engine_conflict(nedb *db);
/* Waits up to timeout_ms for a notification of new ops (LISTEN; XREAD
 * BLOCK past the last op read). */
int nedb__engine_wait(nedb *db, int timeout_ms);
/* The engine's highest seq (*empty: no op at all). */
int nedb__engine_last(nedb *db, uint64_t *seq, bool *empty);
/* The op at seq on the engine: its hash (found false: none). */
int nedb__engine_hash(nedb *db, uint64_t seq, unsigned char hash[32],
		      bool *found);
/* Every op from seq from on, in batches, to fn (lines without "\n"). */
int nedb__engine_scan(nedb *db, uint64_t from,
		      int (*fn)(uint64_t seq, const char *line, size_t len,
				const unsigned char hash[32], void *payload),
		      void *payload);
/* Closes the connection. */
void nedb__engine_close(struct nedb_engine *e);
/*
 * Bounded staleness (nedb(7)): the directory's file "engine.synced"
 * (empty, made when missing) has its modification time set to when a
 * catch-up that left this copy holding every op the engine had began
 * (synced: at, milliseconds of CLOCK_REALTIME; a failure to set it is
 * ignored: the record is only an optimisation; not the file "engine",
 * whose time an edit of the URL would set).  fresh: *yes when NEDB_ENGINE_STALE_MS is set and that
 * time is at most that many milliseconds before now (NEDB_EUSAGE for a
 * bad value); unset or 0, never.
 */
void nedb__engine_synced(const char *dir, int64_t at);
int nedb__engine_fresh(const char *dir, bool *yes);

/* ---- the backends (engine.c's side of them) ------------------------------ */

/* What every backend's engine starts with (a backend's own struct has
 * it as its first member; ops->size is the whole struct's size). */
struct nedb_engine {
	const struct engine_ops *ops;
	char *url;		/* as recorded, fragment included */
	char *shown;		/* the URL for messages (no password) */
	char *conninfo;		/* the URL without its fragment */
	char name[64];		/* the database's name on the engine */
	bool conflict;		/* the last append lost its seq */
};

/* One op as a backend read it: borrowed until the callback returns. */
struct engine_row {
	uint64_t seq;
	const char *line;	/* without "\n" */
	size_t len;
	const unsigned char *hash;	/* 32 bytes */
};

/*
 * A backend.  setup checks the URL's backend part once engine.c filled
 * the shared fields (NEDB_EUSAGE); close drops the connection and
 * release frees what setup allocated.  begin, end, insert and commit
 * are engine.h's (engine.c resets conflict and checks the arguments);
 * range calls fn for each op from seq from on, at most limit of them,
 * in seq order (fn's nonzero return stops it and is returned); last and
 * wait are engine.h's.
 */
struct engine_ops {
	const char *scheme;	/* "postgresql", "redis" (messages) */
	size_t size;
	int (*setup)(struct nedb_engine *e);
	void (*close)(struct nedb_engine *e);
	void (*release)(struct nedb_engine *e);
	int (*begin)(nedb *db, bool wait, bool create);
	void (*end)(nedb *db);
	int (*insert)(nedb *db, const char *lines, size_t len,
		      uint64_t first_seq, size_t n);
	int (*commit)(nedb *db);
	int (*range)(nedb *db, uint64_t from, unsigned limit,
		     int (*fn)(const struct engine_row *r, void *payload),
		     void *payload);
	int (*last)(nedb *db, uint64_t *seq, bool *empty);
	int (*wait)(nedb *db, int timeout_ms);
};

extern const struct engine_ops nedb__pglog_ops;
extern const struct engine_ops nedb__redislog_ops;

/* The hash a staged line ends with (,"hash":"<64 hex>"}). */
int nedb__engine_line_hash(const char *line, size_t len,
			   unsigned char hash[32]);
/* The engine cannot be reached: the connection is dropped (the next call
 * connects anew) and NEDB_EIO returned, msg's first line the reason. */
int nedb__engine_unreachable(struct nedb_engine *e, const char *msg);

#endif
