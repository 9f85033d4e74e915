/*
 * test_redis.c - the Redis command table (lib/proto/redis.c) as nedbd will
 * drive it: exact RESP2 bytes, binary-safe arguments, commands batched
 * in the caller's write transaction (the wrote flag, abort), AUTH with a
 * password, SELECT through a callback, and no database selected.  What
 * nedb-redis(1) can reach is tested by tests/redis.bats.
 */
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "redis.h"
#include "unit.h"

static char dir[300], top[256];
static nedb_redis_conn conn;
static nedb_buf out;
static bool wrote;
static int rc;

/* Runs a command of NULL-terminated C string arguments; out holds the
 * reply (NUL-terminated for CHECK_STR). */
static const char *
cmd(const char *a0, ...)
{
	const char *argv[16] = {a0};
	size_t lens[16];
	int argc = 1;
	va_list ap;

	va_start(ap, a0);
	while (argc < 16 && (argv[argc] = va_arg(ap, const char *)))
		argc++;
	va_end(ap);
	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	out.len = 0;
	rc = nedb_redis_exec(&conn, argc, argv, lens, &out, &wrote);
	nedb_buf_add(&out, "", 1);
	out.len--;
	return out.p;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

/* Closes the database of the last test and removes its directory. */
static void
done_db(void)
{
	nedb_close(conn.db);
	conn.db = NULL;
	if (*top)
		nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	*top = 0;
}

static void
fresh_db(void)
{
	const char *tmp = getenv("TMPDIR");

	done_db();
	memset(&conn, 0, sizeof conn);
	snprintf(top, sizeof top, "%s/nedb-redis-XXXXXX", tmp ? tmp : "/tmp");
	CHECK(mkdtemp(top) != NULL);
	snprintf(dir, sizeof dir, "%s/db", top);
	CHECK(nedb_open(&conn.db, dir, NEDB_OPEN_CREATE) == 0);
	nedb_set_durability(conn.db, NEDB_FAST);
	snprintf(conn.dbname, sizeof conn.dbname, "db");
}

static uint64_t
head(void)
{
	uint64_t seq = 0;

	nedb_head(conn.db, &seq, NULL);
	return seq;
}

static void
test_resp_bytes(void)
{
	fresh_db();
	CHECK_STR(cmd("PING", NULL), "+PONG\r\n");
	CHECK_STR(cmd("SET", "k", "v", NULL), "+OK\r\n");
	CHECK_STR(cmd("GET", "k", NULL), "$1\r\nv\r\n");
	CHECK_STR(cmd("GET", "nosuch", NULL), "$-1\r\n");
	CHECK_STR(cmd("INCR", "n", NULL), ":1\r\n");
	CHECK_STR(cmd("RPUSH", "l", "a", "bc", NULL), ":2\r\n");
	CHECK_STR(cmd("LRANGE", "l", "0", "-1", NULL),
		  "*2\r\n$1\r\na\r\n$2\r\nbc\r\n");
	CHECK_STR(cmd("LPOP", "nosuch", "2", NULL), "*-1\r\n");
	CHECK_STR(cmd("LPOP", "l", "0", NULL), "*0\r\n");
	CHECK_STR(cmd("GET", "l", NULL), "-WRONGTYPE Operation against a key "
		  "holding the wrong kind of value\r\n");
	CHECK(rc == 0);
	/* an error line never holds CR or LF */
	CHECK_STR(cmd("NOPE", "a\r\nb", NULL), "-ERR unknown command 'NOPE', "
		  "with args beginning with: 'a  b' \r\n");
	CHECK_STR(cmd("EVAL", "FROM redis WHERE _id = \"k\"", "0", NULL),
		  "*1\r\n$39\r\n{\"_id\":\"k\",\"type\":\"string\","
		  "\"value\":\"v\"}\r\n");
}

static void
test_binary_arguments(void)
{
	const char *argv[] = {"SET", "k", "a\0b\xff"};
	size_t lens[] = {3, 1, 4};
	nedb_doc d;

	fresh_db();
	out.len = 0;
	CHECK(nedb_redis_exec(&conn, 3, argv, lens, &out, &wrote) == 0);
	CHECK(wrote);
	cmd("GET", "k", NULL);
	CHECK(out.len == 10 && !memcmp(out.p, "$4\r\na\0b\xff\r\n", 10));
	CHECK(nedb_get(conn.db, "redis", "k", NEDB_HEAD, &d) == 0);
	CHECK(d.len == 44 && !memcmp(d.doc, "{\"_id\":\"k\",\"type\":\"string\","
				     "\"b64\":\"YQBi/w==\"}", 44));
	/* valid UTF-8 with a NUL in it stays text */
	argv[2] = "a\0b";
	lens[2] = 3;
	out.len = 0;
	nedb_redis_exec(&conn, 3, argv, lens, &out, &wrote);
	CHECK(nedb_get(conn.db, "redis", "k", NEDB_HEAD, &d) == 0);
	CHECK(d.len == 46 && !memcmp(d.doc, "{\"_id\":\"k\",\"type\":\"string\","
				     "\"value\":\"a\\u0000b\"}", 46));
	/* a key with a NUL byte is not an id */
	argv[0] = "GET";
	argv[1] = "k\0x";
	lens[1] = 3;
	out.len = 0;
	nedb_redis_exec(&conn, 2, argv, lens, &out, &wrote);
	CHECK(out.len > 12 && !memcmp(out.p, "-ERR bad key: control", 21));
}

static void
test_batch_in_callers_transaction(void)
{
	uint64_t before;

	fresh_db();
	before = head();
	CHECK(nedb_write_begin(conn.db) == 0);
	CHECK_STR(cmd("SET", "a", "1", NULL), "+OK\r\n");
	CHECK(wrote);
	CHECK_STR(cmd("INCR", "a", NULL), ":2\r\n");	/* sees the batch */
	CHECK(wrote);
	CHECK_STR(cmd("GET", "a", NULL), "$1\r\n2\r\n");
	CHECK(!wrote);
	CHECK_STR(cmd("SETNX", "a", "9", NULL), ":0\r\n");
	CHECK(!wrote);
	CHECK_STR(cmd("HSET", "a", "f", "v", NULL), "-WRONGTYPE Operation "
		  "against a key holding the wrong kind of value\r\n");
	CHECK(!wrote);
	CHECK(nedb_write_pending(conn.db) == 2);
	nedb_write_abort(conn.db);		/* the batch is void */
	CHECK(head() == before);
	CHECK_STR(cmd("GET", "a", NULL), "$-1\r\n");
	CHECK(nedb_write_begin(conn.db) == 0);
	cmd("MSET", "x", "1", "y", "2", NULL);
	CHECK(wrote && nedb_write_pending(conn.db) == 2);
	CHECK(nedb_write_commit(conn.db) == 0);
	CHECK(head() == before + 2);
	/* with none open, a write commits on its own */
	CHECK_STR(cmd("DEL", "x", NULL), ":1\r\n");
	CHECK(wrote && head() == before + 3);
	CHECK_STR(cmd("DEL", "x", NULL), ":0\r\n");
	CHECK(!wrote && head() == before + 3);
}

static void
test_auth(void)
{
	fresh_db();
	conn.password = "s3cret";
	conn.password_len = 6;
	CHECK_STR(cmd("GET", "k", NULL), "-NOAUTH Authentication required.\r\n");
	CHECK_STR(cmd("SET", "k", "v", NULL),
		  "-NOAUTH Authentication required.\r\n");
	CHECK(!wrote);
	CHECK_STR(cmd("PING", NULL), "+PONG\r\n");
	/* as in Redis: unknown commands and arity come first */
	CHECK_STR(cmd("NOPE", NULL), "-ERR unknown command 'NOPE', with args "
		  "beginning with: \r\n");
	CHECK_STR(cmd("GET", NULL), "-ERR wrong number of arguments for 'get' "
		  "command\r\n");
	CHECK_STR(cmd("AUTH", "s3cre", NULL), "-WRONGPASS invalid "
		  "username-password pair or user is disabled.\r\n");
	CHECK_STR(cmd("AUTH", "s3cret!", NULL), "-WRONGPASS invalid "
		  "username-password pair or user is disabled.\r\n");
	CHECK_STR(cmd("AUTH", "bob", "s3cret", NULL), "-WRONGPASS invalid "
		  "username-password pair or user is disabled.\r\n");
	CHECK(!conn.authed);
	CHECK_STR(cmd("AUTH", "default", "s3cret", NULL), "+OK\r\n");
	CHECK(conn.authed);
	conn.authed = false;
	CHECK_STR(cmd("AUTH", "s3cret", NULL), "+OK\r\n");
	CHECK_STR(cmd("GET", "k", NULL), "$-1\r\n");
	conn.authed = false;
	CHECK_STR(cmd("QUIT", NULL), "+OK\r\n");
	CHECK(conn.quit);
}

static int
select_db(nedb_redis_conn *c, const char *name, void *payload)
{
	(*(int *)payload)++;
	if (strcmp(name, "other"))
		return nedb__err(NEDB_ENOTFOUND, "no database '%s'", name);
	snprintf(c->dbname, sizeof c->dbname, "%s", name);
	return 0;
}

static void
test_select_callback(void)
{
	int calls = 0;

	fresh_db();
	CHECK_STR(cmd("SELECT", "db", NULL), "+OK\r\n");
	CHECK_STR(cmd("SELECT", "x", NULL), "-ERR cannot select 'x': only "
		  "database 'db' is open here\r\n");
	conn.select = select_db;
	conn.payload = &calls;
	CHECK_STR(cmd("SELECT", "other", NULL), "+OK\r\n");
	CHECK_STR(conn.dbname, "other");
	CHECK_STR(cmd("SELECT", "bad", NULL), "-ERR no database 'bad'\r\n");
	CHECK(calls == 2);
}

static void
test_no_database(void)
{
	nedb *db;

	fresh_db();
	db = conn.db;
	conn.db = NULL;
	CHECK_STR(cmd("GET", "k", NULL), "-ERR no database selected: SELECT "
		  "one first\r\n");
	CHECK(rc == NEDB_ENOTFOUND);
	CHECK_STR(cmd("GET", NULL), "-ERR wrong number of arguments for 'get' "
		  "command\r\n");
	CHECK(rc == 0);
	CHECK_STR(cmd("PING", NULL), "+PONG\r\n");
	CHECK_STR(cmd("INFO", "keyspace", NULL), "$12\r\n# Keyspace\r\n\r\n");
	conn.db = db;
}

static void
test_client_and_flags(void)
{
	nedb_doc d;

	fresh_db();
	cmd("SET", "k", "v", NULL);
	conn.client = "app";
	cmd("SET", "k", "w", NULL);
	CHECK(nedb_get(conn.db, "redis", "k", NEDB_HEAD, &d) == 0);
	CHECK(d.seq == 2);
	CHECK(nedb_redis_flags("set", 3) ==
	      (NEDB_REDIS_WRITE | NEDB_REDIS_KNOWN));
	CHECK(nedb_redis_flags("GET", 3) == (NEDB_REDIS_READ | NEDB_REDIS_KNOWN));
	CHECK(nedb_redis_flags("Ping", 4) ==
	      (NEDB_REDIS_NOAUTH | NEDB_REDIS_KNOWN));
	CHECK(nedb_redis_flags("echo", 4) == NEDB_REDIS_KNOWN);
	CHECK(nedb_redis_flags("nope", 4) == 0);
	CHECK(nedb_redis_flags("gets", 3) == (NEDB_REDIS_READ |
					      NEDB_REDIS_KNOWN));
}

static int
last_line(uint64_t seq, const char *line, size_t len, void *payload)
{
	(void)seq;
	nedb_buf *b = payload;

	b->len = 0;
	nedb_buf_add(b, line, len);
	nedb_buf_add(b, "", 1);
	return 0;
}

static void
test_client_in_log(void)
{
	nedb_buf b = {0};

	fresh_db();
	cmd("SET", "k", "v", NULL);
	nedb_log_scan(conn.db, 0, NEDB_HEAD, 0, last_line, &b);
	CHECK(strstr(b.p, "\"client\":\"redis\"") != NULL);
	conn.client = "app";
	cmd("SET", "k", "w", NULL);
	nedb_log_scan(conn.db, 0, NEDB_HEAD, 0, last_line, &b);
	CHECK(strstr(b.p, "\"client\":\"app\",\"nonce\":1") != NULL);
	nedb_buf_free(&b);
}

int
main(void)
{
	RUN(test_resp_bytes);
	RUN(test_binary_arguments);
	RUN(test_batch_in_callers_transaction);
	RUN(test_auth);
	RUN(test_select_callback);
	RUN(test_no_database);
	RUN(test_client_and_flags);
	RUN(test_client_in_log);
	done_db();
	nedb_buf_free(&out);
	UNIT_DONE();
}
