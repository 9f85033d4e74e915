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
 * Registrations (nedb-redis-follow(1) --map): key patterns whose keys
 * are documents of collections of their own, the original NEDB's
 * register().  Built from the JSON text of a map file by
 * nedb_redis_map_parse; see there.
 */
typedef struct nedb_redis_map nedb_redis_map;

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
	/*
	 * Where keys live: the collection of every key no registration
	 * claims (NULL: "redis"), and the registrations of map (NULL:
	 * none) whose Redis database number is dbnum.  The map is borrowed
	 * for as long as the connection uses it.
	 */
	const char *coll;
	const nedb_redis_map *map;
	unsigned dbnum;
	/* What every op the commands stage carries (nedb_wopts). */
	const char *evidence;
	uint64_t repl_offset;
	/*
	 * The commands are a replica's (nedb-redis-follow): a key past its
	 * expiry is still there until its source deletes it (reads and
	 * writes alike), and an expiry time that has passed sets a
	 * time to live of 1 ms rather than deleting the key, as Redis
	 * replicas do.
	 */
	bool replica;
	/*
	 * Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP,
	 * BZPOPMIN, BZPOPMAX, BZMPOP).  One that finds nothing to pop
	 * answers as on a timeout at once ("*-1", "$-1" for BLMOVE and
	 * BRPOPLPUSH), as Redis does inside MULTI, unless can_block is set:
	 * then it appends no reply and nedb_redis_exec returns
	 * NEDB_REDIS_BLOCKED, having set block_first and block_keys (the
	 * keys it waits for are argv[block_first, block_first + block_keys))
	 * and block_ms (its timeout in ms, 0: none).  The caller parks it,
	 * answers "*-1" when the time is up, and runs it again with
	 * serve_key set when a write may have made one of its keys ready:
	 * the command then pops from that key only, and blocks again (no
	 * reply) when it holds nothing to pop.
	 */
	bool can_block;
	const char *serve_key;		/* NULL: none */
	size_t serve_keylen;
	int block_first, block_keys;
	long long block_ms;
	/*
	 * Called (when set) after every put a command stages, with its key
	 * (keylen bytes and a NUL): a key a blocked command may wait for.
	 * Redis serves blocked clients after the command (or EXEC) that
	 * made their key ready, not in its middle: so must the caller.
	 */
	void (*ready)(struct nedb_redis_conn *c, const char *key,
		      size_t keylen);
	/*
	 * SWAPDB a b (NULL: refused, one database is open here): exchanges
	 * the databases named a and b (valid names, not the same) for every
	 * client; 0, or -1 with why in err (errlen bytes), which is replied
	 * as "-ERR <why>".
	 */
	int (*swapdb)(struct nedb_redis_conn *c, const char *a,
		      const char *b, char *err, size_t errlen);
	/* CLIENT ID; and what INFO says of a server's clients (NULL: one
	 * client, none blocked) */
	unsigned long long id;
	const struct nedb_redis_stats *stats;
	/*
	 * HELLO's protocol version: 2 or 3 (0 is 2).  Under 3 the replies
	 * are RESP3's (null "_", double ",", map "%", set "~", verbatim
	 * "="), as Redis 7.0 gives them.  name is CLIENT SETNAME's (or
	 * HELLO's SETNAME), allocated here, NULL for none: free it with
	 * nedb_redis_conn_release when the connection ends.
	 */
	int resp;
	char *name;
} nedb_redis_conn;

/* Whether s (n bytes) matches Redis's glob pattern (KEYS, PSUBSCRIBE). */
NEDB_EXPORT bool nedb_redis_match(const char *pattern, size_t plen,
				  const char *s, size_t n);

/*
 * SHUTDOWN's arguments ([NOSAVE|SAVE] [NOW] [FORCE] [ABORT]): 0 when
 * they ask a server to stop (nothing appended to out), or -1 with
 * Redis's error reply appended (ABORT: no shutdown is in progress).
 */
NEDB_EXPORT int nedb_redis_shutdown_args(int argc, const char *const *argv,
					 const size_t *argvlen, nedb_buf *out);

/*
 * COPY's copy of key src of database from to key dst of c->db, whose
 * write transaction the caller has open (nedbd's COPY ... DB n and MOVE
 * between two of its databases): appends ":1" (staged), ":0" (src
 * missing, or dst there without replace) or an error reply to out, and
 * returns 1, 0 or a negative NEDB_E* code (the transaction is then
 * unusable).
 */
NEDB_EXPORT int nedb_redis_copy_from(nedb_redis_conn *c, nedb *from,
				     const char *src, const char *dst,
				     bool replace, nedb_buf *out);

/* The Redis database index s (n bytes) spells, 0 to 15 (COPY ... DB,
 * MOVE), or -1: what the commands take, without their error replies. */
NEDB_EXPORT int nedb_redis_db_index(const char *s, size_t n);

/* Frees what the commands allocated in c (its name); c stays usable. */
NEDB_EXPORT void nedb_redis_conn_release(nedb_redis_conn *c);

/* A server's clients, for INFO's Clients section. */
struct nedb_redis_stats {
	unsigned connected;
	unsigned blocked;
};

/* nedb_redis_exec: the command waits (see can_block); no reply yet. */
#define NEDB_REDIS_BLOCKED 1

/* Flags of a command (nedb_redis_flags). */
#define NEDB_REDIS_WRITE 0x1	/* may stage ops */
#define NEDB_REDIS_READ 0x2	/* reads the database */
#define NEDB_REDIS_NOAUTH 0x4	/* allowed before AUTH */
#define NEDB_REDIS_KNOWN 0x8	/* the command exists */
#define NEDB_REDIS_NOMULTI 0x10	/* refused inside MULTI (SAVE) */

/*
 * Runs one command: argv[0] is its name (any case), argv[i] is argvlen[i]
 * bytes followed by a NUL byte (as hiredis's reader and main's argv give
 * them; the bytes themselves may hold anything).  Appends exactly one
 * reply to out (RESP2, or RESP3 after HELLO 3; nothing when argc is 0)
 * and sets *wrote when the command staged ops.
 *
 * Returns 0 when the reply says it all, errors included ("-ERR ...",
 * "-WRONGTYPE ..."); NEDB_REDIS_BLOCKED, with no reply, for a blocking
 * command that waits (conn->can_block).  Returns a negative NEDB_E* code for a database
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

/*
 * The arguments of CLIENT UNBLOCK id [TIMEOUT|ERROR] (argv[0] "CLIENT"):
 * 0 with *id and *reason (0: TIMEOUT, 1: ERROR), or -1 after appending
 * Redis's error reply to out.
 */
NEDB_EXPORT int nedb_redis_client_unblock(int argc, const char *const *argv,
					  const size_t *argvlen, nedb_buf *out,
					  long long *id, int *reason);

/* The NEDB_REDIS_* flags of the command name (0 if unknown). */
NEDB_EXPORT unsigned nedb_redis_flags(const char *name, size_t len);

/* Whether the command name exists and takes argc arguments (its name
 * counted), as Redis checks before it queues one in MULTI. */
NEDB_EXPORT bool nedb_redis_arity_ok(const char *name, size_t len,
				     int argc);

/*
 * The map file's text (a JSON array of rules) into *out (free with
 * nedb_redis_map_free).  A rule is an object:
 *   "pattern"     a glob of KEYS (required);
 *   "collection"  the collection of its keys (required);
 *   "type"        "json": a string key holding a JSON object, which is
 *                 the document; "hash": a hash, whose fields are the
 *                 document's members; "string": {"value": the string}
 *                 (required);
 *   "id"          "suffix" (the default): the document id is the key
 *                 without the pattern's text before its first wildcard;
 *                 "key": the whole key;
 *   "db"          the Redis database number it applies to (default 0).
 * The first rule whose pattern matches a key of its database wins.
 * NEDB_EINPUT with a message naming the rule for anything else.
 */
NEDB_EXPORT int nedb_redis_map_parse(const char *json, size_t len,
				     nedb_redis_map **out);
NEDB_EXPORT void nedb_redis_map_free(nedb_redis_map *m);
/* Rule i's collection and database (NULL past the last rule). */
NEDB_EXPORT const char *nedb_redis_map_coll(const nedb_redis_map *m,
					    size_t i, unsigned *db);

/*
 * Where key (keylen bytes and a NUL) lives for c: its collection
 * (*coll) and document id (*id, a suffix of key), both borrowed.
 * NEDB_EINPUT, with the message, when that id is not a valid one.
 */
NEDB_EXPORT int nedb_redis_where(const nedb_redis_conn *c, const char *key,
				 size_t keylen, const char **coll,
				 const char **id);

/*
 * The document that records a command the type mapping cannot apply
 * (nedb-redis-follow(1)'s raw ops) into out (emptied first):
 * {"_id":ID,"db":DB,"argv":[...],"error":WHY}, each argument a string,
 * or {"b64":"..."} when it is not UTF-8; "error" left out when why is
 * NULL.  id must be a valid document id.
 */
NEDB_EXPORT int nedb_redis_raw(nedb_buf *out, const char *id, unsigned db,
			       int argc, const char *const *argv,
			       const size_t *argvlen, const char *why);

/* Value types of nedb_redis_store. */
enum {
	NEDB_REDIS_STRING = 1, NEDB_REDIS_HASH, NEDB_REDIS_LIST,
	NEDB_REDIS_SET, NEDB_REDIS_ZSET
};
#define NEDB_REDIS_IFCHANGED 0x1	/* stage nothing for the same value */

/*
 * Stages the whole value of key (keylen bytes and a NUL) as one put of
 * the document the type mapping gives it, in the collection c routes it
 * to, inside the write transaction open on c->db (a snapshot's import).
 * v[0, n) are its byte strings: the string; a hash's fields and values,
 * field first; a list's elements, head first; a set's members; a sorted
 * set's members and scores, member first, a score as Redis prints it.
 * exp: when the key expires, ms since the epoch; 0: never.  With
 * NEDB_REDIS_IFCHANGED nothing is staged when the head document has the
 * same text and an expiry less than a second away from exp (or both
 * none); a document past its expiry counts as there when c->replica.
 * Returns 1 when a put was staged, 0 when nothing was; NEDB_EINPUT
 * (nothing staged, the transaction usable) when the value cannot be a
 * document: a bad key or id, a registration of another type, a value
 * too large, a bad score; other negative codes are database errors,
 * after which the transaction is unusable.
 */
NEDB_EXPORT int nedb_redis_store(nedb_redis_conn *c, const char *key,
				 size_t keylen, int type, size_t n,
				 const char *const *v, const size_t *vlen,
				 int64_t exp, unsigned flags);

#ifdef __cplusplus
}
#endif
#endif
