/*
 * logstore.h - the log behind one seq-addressed interface.
 *
 * The log is the truth of a database: a hash chain of op lines, seq 0
 * (genesis) on, each line's "prev" the hash of the one before.  The rest
 * of the library reaches it only through the functions below (and the
 * backend's table of operations behind them); nothing outside the
 * backend knows a file descriptor, a byte offset or a mapping.  The file
 * backend (logfile.c: log.aof plus the archives a prune writes,
 * archive.c) is the first implementation; encrypted lines, a PostgreSQL
 * table or a Redis Stream are meant to be the next ones.
 *
 * Vocabulary
 *  - A locator (struct log_loc) says where one op's line is kept.  The
 *    view stores it beside the op's hash (DBI_SEQS) and hands it back to
 *    read the op; only the backend interprets it (the file backend: a
 *    virtual byte offset and the line's length).
 *  - A position (uint64_t) is a point between lines: "everything before
 *    it".  The view records the position after the last op it applied
 *    (struct applied's end) and view.sync names one; the engine only
 *    compares positions, and asks the backend where an op ends
 *    (nedb__log_after) and where the log ends (nedb__log_end).  0 is an
 *    empty log.  A backend's positions never decrease for a given op:
 *    rotation (prune) keeps them.
 *  - The tail is the last complete op: its seq and hash (the head).
 *
 * Contract (what every backend keeps; the engine relies on each):
 *  1. Appends are whole batches of complete "\n"-terminated lines, made
 *     under the writer lock only (db.c, Invariant 1).  When append
 *     returns 0 with sync, every line of the batch is durable; without
 *     sync they are written but may be lost by an OS crash (never by a
 *     process crash).
 *  2. A short write or ENOSPC makes append fail with NEDB_EIO (errno
 *     says why; the caller words the message) and the engine truncates
 *     back to the batch's start position.  An fsync or truncate that
 *     fails leaves the log in an unknown state: the backend turns the
 *     error sticky (db->log.failed) and every later append or sync
 *     through this handle fails with NEDB_EIO, errno EIO (SQLite's pager
 *     ERROR state: a retried fsync may "succeed" with the data lost).
 *     Truncate is still tried, being how a failed batch is undone; if it
 *     fails the engine turns the handle broken (db.c, Invariant 2).
 *     Reads go on.
 *  3. Torn tail: a crash can leave the last line incomplete (no
 *     newline).  Walks report where the complete lines end (*torn); the
 *     backend never hands an incomplete line to a callback, and only the
 *     writer, under the lock, decides to truncate it away.
 *  4. read returns the bytes of one line as they were appended, or
 *     NEDB_ECORRUPT when the locator does not lead to a whole line; the
 *     wrapper (nedb__log_read) checks the line's shape, seq and hash
 *     against the view's record.  Nothing the backend returns is trusted
 *     before that check or a chain walk (chain.c).
 *  5. Rotation: a prune moves ops before a checkpoint elsewhere (for the
 *     file backend, archive segments) under the writer lock.  Locators
 *     and positions stay valid.  A reader calls follow after taking its
 *     snapshot: from then on it reads a log holding every op the
 *     snapshot applied (db.c, Invariant 4).
 *  6. Concurrent readers (other handles, other processes) may read while
 *     one writer appends: a reader never reads past the position its
 *     view snapshot applied, so it never sees a half-appended batch.
 *  7. truncate(pos) removes everything from pos on and is durable when
 *     it returns 0.
 *
 * Memory: lines handed to callbacks and the map are borrowed until the
 * callback returns (the map: until nedb__log_unmap).  read appends into
 * the caller's buffer.
 */
#ifndef NEDB_LOGSTORE_H
#define NEDB_LOGSTORE_H

#include "nedb.h"

/* Where one op's line is kept; opaque outside the backend. */
struct log_loc {
	uint64_t a;
	uint32_t b;
} __attribute__((packed));

/* The last complete op of the log. */
struct log_tail {
	bool empty;			/* no complete op at all */
	uint64_t seq;
	unsigned char head[32];		/* its hash */
	uint64_t end;			/* position after it */
	uint64_t torn;			/* bytes of an incomplete line after */
};

/* Called with each line (without "\n") in order; nonzero stops. */
typedef int (*log_walk_fn)(const char *line, size_t len,
			   const struct log_loc *loc, uint64_t next,
			   void *payload);

/* A contiguous run of lines kept in memory by the backend (verify). */
struct log_map {
	const char *p;
	size_t n;			/* bytes, torn tail included */
	uint64_t seq;			/* the seq its first line claims */
	uint64_t pos;			/* position of p[0] */
	void *cookie;			/* backend's */
	/* the map ends early, before a line the backend could not decode
	 * (an encrypted line that does not open): why, or NULL */
	const char *why;
	char why_buf[256];
	/* p's bytes are also log.aof's, from offset 0: reading them with
	 * pread(fd) costs less than touching the map on some machines */
	bool readable;
	int fd;
	/* the lines are stored sealed: each is opened with
	 * nedb__line_open(sealed, ...) (encrypted databases) */
	const struct nedb_crypt *sealed;
};

/* The operations of a backend; its state lives in db->log. */
struct log_backend {
	const char *name;
	/* Opens the log in db->dir (creating it with create); says whether
	 * it can be written.  NEDB_ENOTFOUND when there is none. */
	int (*open)(struct nedb *db, bool create, bool *writable);
	void (*close)(struct nedb *db);
	/* Follows a rotation by another handle; *rotated when it did. */
	int (*follow)(struct nedb *db, bool *rotated);
	/* The position after the last byte kept (a torn line included). */
	uint64_t (*end)(struct nedb *db);
	/* The locator a line of len bytes appended at pos will have, and
	 * the position after it. */
	uint64_t (*place)(uint64_t pos, size_t len, struct log_loc *loc);
	/* The position after the op at loc. */
	uint64_t (*after)(const struct log_loc *loc);
	int (*append)(struct nedb *db, const char *lines, size_t len,
		      bool sync);
	int (*sync)(struct nedb *db);
	/* When the last line lacks only its terminator and pos is where it
	 * would end with one: writes the terminator (not synced) and
	 * returns 0; else 1, nothing written.  A crash's repair. */
	int (*restore_end)(struct nedb *db, uint64_t pos);
	int (*truncate)(struct nedb *db, uint64_t pos);
	/* The line at loc (op seq) into out, without its "\n". */
	int (*read)(struct nedb *db, uint64_t seq, const struct log_loc *loc,
		    nedb_buf *out);
	/* Every line from position pos (which op seq starts) to position
	 * to, in order; *torn: where the complete lines end (to if all). */
	int (*walk)(struct nedb *db, uint64_t seq, uint64_t pos, uint64_t to,
		    log_walk_fn fn, void *payload, uint64_t *torn);
	/* The recent part of the log in memory (NEDB_ENOTFOUND: none, walk
	 * instead), its lines as stored (m->sealed says how to open them);
	 * freed by unmap. */
	int (*map)(struct nedb *db, struct log_map *m);
	void (*unmap)(struct log_map *m);
	/* Moves the ops before seq (at loc) out of the hot log. */
	int (*rotate)(struct nedb *db, uint64_t seq, const struct log_loc *loc,
		      nedb_prune_info *out);
	/* Bytes of the hot log (what nedb-stats calls log_bytes). */
	uint64_t (*bytes)(struct nedb *db);
};

extern const struct log_backend nedb__log_file;	/* logfile.c */
extern const struct log_backend nedb__log_crypt;	/* logcrypt.c */

/*
 * logcrypt.c: one line of an encrypted log.  seal appends the stored
 * form of a plaintext line (without "\n") to out; open appends the
 * plaintext of a stored line to out (NUL-terminated), or returns
 * NEDB_ECORRUPT naming seq when it does not open.  tmp is scratch.
 */
struct nedb_crypt;
int nedb__line_seal(const struct nedb_crypt *c, nedb_buf *out, nedb_buf *tmp,
		    const char *line, size_t len);
int nedb__line_open(const struct nedb_crypt *c, nedb_buf *out, nedb_buf *tmp,
		    const char *line, size_t len, uint64_t seq);
/* The same, but a line that does not open returns NEDB_ECORRUPT with
 * only why (static text) set: the caller names its seq. */
int nedb__line_open_why(const struct nedb_crypt *c, nedb_buf *out,
			nedb_buf *tmp, const char *line, size_t len,
			const char **why);
/*
 * Sealing as a write stages its ops (encrypted logs only; elsewhere
 * these do nothing): stage() hands each line (without "\n") here, with
 * its stored form when a bulk put's reader sealed it already
 * (nedb_ahead_put), else it is sealed now.  The commit's append then
 * writes those instead of sealing the batch again, but only when they
 * are exactly its lines (their number and plaintext bytes); any other
 * append is sealed as it comes.  unstage forgets them (a write begun,
 * aborted, or committed).
 */
int nedb__log_stage(struct nedb *db, const char *line, size_t len,
		    const nedb_buf *sealed);
void nedb__log_unstage(struct nedb *db);
/* The seq of log.aof's first line, read from fd and opened. */
int nedb__crypt_first_seq(struct nedb *db, int fd, uint64_t *seq);

/* The backend's state inside struct nedb. */
struct nedb_log {
	const struct log_backend *be;
	bool failed;			/* sticky: a failed fsync/truncate */
	/* file backend: log.aof holds ops from first_seq on; its byte 0 is
	 * virtual position shift (the bytes archived before it) */
	int fd;				/* O_RDWR|O_APPEND, or O_RDONLY */
	uint64_t first_seq, shift;
	uint64_t ino;
	struct segment *segs;
	size_t nsegs;
	bool segs_loaded;
	struct arch_cache *arch_cache;	/* archive.c: blocks last inflated */
	/* encrypted backend (logcrypt.c): sealed lines, scratch */
	nedb_buf sealed, ctmp;
	/* the open write's lines, sealed as they were staged
	 * (nedb__log_stage): how many, and their plaintext bytes */
	nedb_buf staged, stmp;
	size_t nstaged, staged_plain;
};

/* The interface the rest of the library calls (logstore.c). */
int nedb__log_open(struct nedb *db, bool create, bool *writable);
void nedb__log_close(struct nedb *db);
int nedb__log_follow(struct nedb *db, bool *rotated);
uint64_t nedb__log_end(struct nedb *db);
uint64_t nedb__log_place(struct nedb *db, uint64_t pos, size_t len,
			 struct log_loc *loc);
uint64_t nedb__log_after(struct nedb *db, const struct log_loc *loc);
int nedb__log_append(struct nedb *db, const char *lines, size_t len,
		     bool sync);
int nedb__log_sync(struct nedb *db);
int nedb__log_restore_end(struct nedb *db, uint64_t pos);
int nedb__log_truncate(struct nedb *db, uint64_t pos);
/*
 * The line of op seq at loc into out (NUL-terminated, without "\n"),
 * checked: its shape, that it claims seq, and that its hash is hash (the
 * view's record).  NEDB_ECORRUPT otherwise.
 */
int nedb__log_read(struct nedb *db, uint64_t seq, const struct log_loc *loc,
		   const unsigned char hash[32], nedb_buf *out);
int nedb__log_walk(struct nedb *db, uint64_t seq, uint64_t pos, uint64_t to,
		   log_walk_fn fn, void *payload, uint64_t *torn);
/* The last complete op from position pos (op seq) on, chained from
 * head: a walk of what follows pos. */
int nedb__log_tail(struct nedb *db, uint64_t seq, uint64_t pos,
		   const unsigned char head[32], struct log_tail *out);
int nedb__log_map(struct nedb *db, struct log_map *m);
void nedb__log_unmap(struct nedb *db, struct log_map *m);
int nedb__log_rotate(struct nedb *db, uint64_t seq, const struct log_loc *loc,
		     nedb_prune_info *out);
uint64_t nedb__log_bytes(struct nedb *db);

/*
 * The chain walker (chain.c): the one check of links that replay, log
 * scans and verify share.  c->seq is the seq the next line must claim,
 * c->head the hash of the op before it (zeros before genesis).
 */
struct chain {
	uint64_t seq;
	unsigned char head[32];
};

enum { CHAIN_OK, CHAIN_BADLINE, CHAIN_BADLINK };
/*
 * Checks the next line: its shape, seq and hash (nedb__log_check) and
 * its link (prev == c->head).  0 with prev and hash filled; else
 * NEDB_ECORRUPT ("corrupt log at seq N: ...") and *why CHAIN_BADLINE or
 * CHAIN_BADLINK.  Does not advance: nedb__chain_step does.
 */
int nedb__chain_check(const struct chain *c, const char *line, size_t len,
		      unsigned char prev[32], unsigned char hash[32],
		      int *why);
/* The link alone, for a line whose hash was checked elsewhere. */
int nedb__chain_link(const struct chain *c, const unsigned char prev[32]);
void nedb__chain_step(struct chain *c, const unsigned char hash[32]);
/* Checks and steps over every complete line of text[0, n); *used is
 * where the complete lines end.  Calls fn (may be NULL) per line. */
int nedb__chain_text(struct chain *c, const char *text, size_t n,
		     size_t *used,
		     int (*fn)(uint64_t seq, const char *line, size_t len,
			       void *payload), void *payload);

#endif
