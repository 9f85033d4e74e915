/*
 * redis.h - the Redis command table over a nedb database (lib/redis.c).
 *
 * One table serves nedb-redis(1) and nedbd's RESP2 port, so that a
 * command behaves the same from the shell and over the wire.  It knows
 * nothing of sockets: a command comes in as an argv of byte strings and
 * its reply goes out as RESP2 bytes appended to a buffer.  Internal to
 * nedb (not installed), but exported from libnedb for those two.
 *
 * Transactions
 * ------------
 * A write command stages its ops inside the caller's write transaction
 * when one is open on conn->db (nedb_write_begin): a server batches the
 * commands of many connections into one commit that way (group commit).
 * Its replies must then be held back until nedb_write_commit succeeds,
 * since a reply acknowledges a write; if the commit fails, every reply
 * of the batch is void.  With no write transaction open, a write command
 * opens one and commits it before it returns (its reply is then final),
 * and a read command reads in a snapshot of its own.
 *
 * Ownership: nothing passed in is kept after a call returns.
 */
#ifndef NEDB_REDIS_H
#define NEDB_REDIS_H

#include <stdbool.h>
#include <stddef.h>
#include "nedb.h"

#ifdef __cplusplus
extern "C" {
#endif

struct nedb_redis_conn;

/*
 * Opens the database name for SELECT: sets c->db and c->dbname and
 * returns 0, or returns a negative NEDB_E* code with a message in
 * nedb_errmsg() (sent to the client as "-ERR <message>").  The caller
 * commits or aborts any write transaction on the old c->db itself.
 */
typedef int (*nedb_redis_select_fn)(struct nedb_redis_conn *c,
				    const char *name, void *payload);

/* What a connection carries from one command to the next. */
typedef struct nedb_redis_conn {
	nedb *db;			/* the selected database */
	char dbname[65];		/* its name, as SELECT takes it */
	const char *client;		/* client id of writes; NULL: "redis" */
	const char *password;		/* AUTH secret; NULL: none needed */
	size_t password_len;
	bool authed;			/* AUTH succeeded */
	bool quit;			/* QUIT ran: close after its reply */
	/* SELECT; NULL: only the name of the current database is OK */
	nedb_redis_select_fn select;
	void *payload;
} nedb_redis_conn;

/* Flags of a command (nedb_redis_flags). */
#define NEDB_REDIS_WRITE 0x1	/* may stage ops */
#define NEDB_REDIS_READ 0x2	/* reads the database */
#define NEDB_REDIS_NOAUTH 0x4	/* allowed before AUTH */
#define NEDB_REDIS_KNOWN 0x8	/* the command exists */

/*
 * Runs one command: argv[0] is its name (any case), argv[i] is argvlen[i]
 * bytes followed by a NUL byte (as hiredis's reader and main's argv give
 * them; the bytes themselves may hold anything).  Appends exactly one
 * RESP2 reply to out (nothing when argc is 0) and sets *wrote when the
 * command staged ops.
 *
 * Returns 0 when the reply says it all, errors included ("-ERR ...",
 * "-WRONGTYPE ...").  Returns a negative NEDB_E* code for a database
 * error (I/O, damage, lock): an "-ERR <message>" reply is appended too,
 * and a write transaction of the caller's is no longer usable (abort it).
 * NEDB_ENOTFOUND: conn->db is NULL and the command needs a database
 * (replied "-ERR no database selected: ..."); it was checked after the
 * command's name, arity and keys, as Redis checks them.
 *
 * A write command run with no write transaction open ends a read
 * snapshot of the caller's (nedb_write_begin does).
 */
NEDB_EXPORT int nedb_redis_exec(nedb_redis_conn *c, int argc,
				const char *const *argv,
				const size_t *argvlen, nedb_buf *out,
				bool *wrote);

/*
 * Splits a command line as redis-cli and Redis's inline protocol do
 * (sdssplitargs): arguments separated by blanks; "double quotes" with
 * \n \r \t \b \a \xHH and \" escapes; 'single quotes' with \' only; a
 * closing quote must end the argument.  The arguments go into arena
 * (emptied first), each followed by a NUL; their offsets and lengths
 * into *off and *len, grown to *cap entries (caller frees both).
 * Returns the number of arguments, NEDB_EINPUT for unbalanced quotes or
 * NEDB_EIO when memory ran out.
 */
NEDB_EXPORT int nedb_redis_split(const char *line, nedb_buf *arena,
				 size_t **off, size_t **len, size_t *cap);

/*
 * The version of key, for WATCH: *seq is the op that last wrote it (a
 * put, delete or drop; 0 when it was never written), *present says
 * whether it is live now and *exp is its expiry then (ms since the
 * epoch, 0: none; an expire op changes that, not *seq).  A key that is not a valid id
 * was never written.  Reads in the caller's transaction or snapshot, or
 * in one of its own.  Returns 0 or a negative NEDB_E* code.  A missing
 * key's seq is found in its history, which costs its number of versions.
 */
NEDB_EXPORT int nedb_redis_key_version(nedb *db, const char *key, size_t len,
				       uint64_t *seq, bool *present,
				       int64_t *exp);

/* The NEDB_REDIS_* flags of the command name (0 if unknown). */
NEDB_EXPORT unsigned nedb_redis_flags(const char *name, size_t len);

/* Whether the command name exists and takes argc arguments (its name
 * counted), as Redis checks before it queues one in MULTI. */
NEDB_EXPORT bool nedb_redis_arity_ok(const char *name, size_t len,
				     int argc);

#ifdef __cplusplus
}
#endif
#endif
