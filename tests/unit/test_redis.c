/*
 * test_redis.c - the Redis command table (lib/proto/redis.c) as nedbd will
 * drive it: exact RESP2 bytes, binary-safe arguments, commands batched
 * in the caller's write transaction (the wrote flag, abort), AUTH with a
 * password, SELECT through a callback, and no database selected; and
 * what nedb-redis-follow(1) adds: the evidence and offset of ops, a
 * replica's expiry, registrations (maps), whole values (stores) and the
 * raw record.  What nedb-redis(1) can reach is tested by
 * tests/redis.bats.
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

/* The last line of the log, into b (NUL-ended). */
static const char *
last_op(nedb_buf *b)
{
	nedb_log_scan(conn.db, 0, NEDB_HEAD, 0, last_line, b);
	return b->p;
}

static void
test_evidence_and_offset_in_log(void)
{
	nedb_buf b = {0};

	fresh_db();
	conn.evidence = "shadow";
	conn.repl_offset = 99;
	cmd("SET", "k", "v", NULL);
	CHECK(strstr(last_op(&b), "\"evidence\":\"shadow\",\"repl_offset\":99,"
		     "\"hash\":") != NULL);
	conn.repl_offset = 120;
	cmd("EXPIRE", "k", "100", NULL);
	CHECK(strstr(last_op(&b), "\"exp\":") != NULL);
	CHECK(strstr(b.p, ",\"evidence\":\"shadow\",\"repl_offset\":120,"
		     "\"hash\"") != NULL);
	cmd("DEL", "k", NULL);
	CHECK(strstr(last_op(&b), "\"op\":\"delete\"") != NULL);
	CHECK(strstr(b.p, "\"evidence\":\"shadow\",\"repl_offset\":120") !=
	      NULL);
	/* none by default */
	conn.evidence = NULL;
	conn.repl_offset = 0;
	cmd("SET", "k", "v", NULL);
	CHECK(strstr(last_op(&b), "evidence") == NULL);
	CHECK(strstr(b.p, "repl_offset") == NULL);
	nedb_buf_free(&b);
}

/* A replica's key stays until its source deletes it. */
static void
test_replica_keeps_expired_keys(void)
{
	nedb_doc d;

	fresh_db();
	CHECK_STR(cmd("SET", "k", "v", "PX", "1", NULL), "+OK\r\n");
	usleep(5000);
	CHECK_STR(cmd("APPEND", "k", "x", NULL), ":1\r\n");	/* gone */
	CHECK_STR(cmd("SET", "k", "v", "PX", "1", NULL), "+OK\r\n");
	usleep(5000);
	conn.replica = true;
	CHECK_STR(cmd("APPEND", "k", "x", NULL), ":2\r\n");	/* there */
	CHECK(nedb_get(conn.db, "redis", "k", 1, &d) == 0);
	/* its expiry is kept, so a HEAD read still skips it */
	CHECK(nedb_get(conn.db, "redis", "k", NEDB_HEAD, &d) ==
	      NEDB_ENOTFOUND);
	/* a time that has passed: 1 ms to live, not a delete */
	CHECK_STR(cmd("SET", "j", "v", NULL), "+OK\r\n");
	CHECK_STR(cmd("PEXPIREAT", "j", "1", NULL), ":1\r\n");
	CHECK_STR(cmd("DEL", "j", NULL), ":1\r\n");	/* as the source says */
	conn.replica = false;
	CHECK_STR(cmd("SET", "j", "v", NULL), "+OK\r\n");
	CHECK_STR(cmd("PEXPIREAT", "j", "1", NULL), ":1\r\n");
	CHECK_STR(cmd("EXISTS", "j", NULL), ":0\r\n");
}

static void
map(const char *json)
{
	nedb_redis_map *m = NULL;

	nedb_redis_map_free((nedb_redis_map *)conn.map);
	CHECK(nedb_redis_map_parse(json, strlen(json), &m) == 0);
	conn.map = m;
}

static void
test_map_parse(void)
{
	static const struct { const char *json, *msg; } bad[] = {
		{"{}", "not an array of rules: got object"},
		{"[1]", "rule 1: not an object"},
		{"[{\"collection\":\"a\",\"type\":\"hash\"}]",
		 "rule 1: \"pattern\" is missing"},
		{"[{\"pattern\":\"a*\",\"collection\":\"a\",\"type\":\"x\"}]",
		 "rule 1: bad type 'x': want json, hash or string"},
		{"[{\"pattern\":\"a*\",\"collection\":\"1a\",\"type\":\"hash\"}]",
		 "rule 1: bad collection '1a': want [A-Za-z_][A-Za-z0-9_]*, "
		 "1-64 chars"},
		{"[{\"pattern\":\"a*\",\"collection\":\"a\",\"type\":\"hash\"},"
		 "{\"pattern\":\"b*\",\"collection\":\"b\",\"type\":\"hash\","
		 "\"id\":\"x\"}]", "rule 2: bad id 'x': want suffix or key"},
		{"[{\"pattern\":\"a*\",\"collection\":\"a\",\"type\":\"hash\","
		 "\"db\":-1}]", "rule 1: bad db: want a Redis database number"},
		{"[{\"pattern\":\"a*\",\"collection\":\"a\",\"type\":\"hash\","
		 "\"colection\":1}]", "rule 1: unknown member \"colection\" "
		 "(want pattern, collection, type, id, db)"},
		{"[{\"pattern\":\"\",\"collection\":\"a\",\"type\":\"hash\"}]",
		 "rule 1: \"pattern\" is empty"},
		{"[{\"pattern\":1,\"collection\":\"a\",\"type\":\"hash\"}]",
		 "rule 1: \"pattern\" must be a string"},
	};
	nedb_redis_map *m = NULL;
	unsigned db = 9;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		CHECK(nedb_redis_map_parse(bad[i].json, strlen(bad[i].json),
					   &m) == NEDB_EINPUT);
		CHECK_STR(nedb_errmsg(), bad[i].msg);
		CHECK(m == NULL);
	}
	CHECK(nedb_redis_map_parse("[", 1, &m) == NEDB_EINPUT);
	CHECK(!strncmp(nedb_errmsg(), "not JSON: ", 10));
	CHECK(nedb_redis_map_parse("[]", 2, &m) == 0);
	CHECK(nedb_redis_map_coll(m, 0, &db) == NULL);
	nedb_redis_map_free(m);
	{
		const char *j = "[{\"pattern\":\"a*\",\"collection\":\"a\","
				"\"type\":\"hash\",\"db\":3}]";

		CHECK(nedb_redis_map_parse(j, strlen(j), &m) == 0);
	}
	CHECK_STR(nedb_redis_map_coll(m, 0, &db), "a");
	CHECK(db == 3);
	nedb_redis_map_free(m);
	nedb_redis_map_free(NULL);
}

static void
test_map_routes_keys(void)
{
	const char *coll, *id;
	nedb_doc d;

	fresh_db();
	map("[{\"pattern\":\"driver:*\",\"collection\":\"driver\","
	    "\"type\":\"json\"},"
	    "{\"pattern\":\"user:*\",\"collection\":\"users\",\"type\":\"hash\"},"
	    "{\"pattern\":\"f?ag:*\",\"collection\":\"flags\","
	    "\"type\":\"string\",\"id\":\"key\"},"
	    "{\"pattern\":\"other:*\",\"collection\":\"o\",\"type\":\"string\","
	    "\"db\":1}]");
	CHECK(nedb_redis_where(&conn, "driver:7", 8, &coll, &id) == 0);
	CHECK_STR(coll, "driver");
	CHECK_STR(id, "7");
	CHECK(nedb_redis_where(&conn, "flag:x", 6, &coll, &id) == 0);
	CHECK_STR(coll, "flags");
	CHECK_STR(id, "flag:x");
	CHECK(nedb_redis_where(&conn, "other:x", 7, &coll, &id) == 0);
	CHECK_STR(coll, "redis");	/* the rule is database 1's */
	CHECK(nedb_redis_where(&conn, "driver:", 7, &coll, &id) ==
	      NEDB_EINPUT);
	CHECK_STR(nedb_errmsg(), "bad key: 'driver:' leaves an empty id in "
		  "collection 'driver'");
	CHECK_STR(cmd("SET", "driver:", "{}", NULL), "-ERR bad key: "
		  "'driver:' leaves an empty id in collection 'driver'\r\n");

	CHECK_STR(cmd("SET", "driver:7", "{\"name\": \"Ann\"}", NULL),
		  "+OK\r\n");
	CHECK(nedb_get(conn.db, "driver", "7", NEDB_HEAD, &d) == 0);
	CHECK_STR(d.doc, "{\"_id\":\"7\",\"name\":\"Ann\"}");
	CHECK_STR(cmd("GET", "driver:7", NULL),
		  "$14\r\n{\"name\":\"Ann\"}\r\n");
	CHECK_STR(cmd("SET", "driver:8", "not json", NULL), "-ERR key "
		  "'driver:8' is registered as json in collection 'driver': it "
		  "cannot hold a string that is not a JSON object\r\n");
	CHECK_STR(cmd("HSET", "user:1", "name", "Bob", "age", "4", NULL),
		  ":2\r\n");
	CHECK_STR(cmd("HINCRBY", "user:1", "age", "1", NULL), ":5\r\n");
	CHECK(nedb_get(conn.db, "users", "1", NEDB_HEAD, &d) == 0);
	CHECK_STR(d.doc, "{\"_id\":\"1\",\"name\":\"Bob\",\"age\":\"5\"}");
	CHECK_STR(cmd("HSET", "user:2", "_id", "x", NULL), "-ERR key 'user:2' "
		  "is registered as hash in collection 'users': it cannot hold "
		  "a field named _id\r\n");
	CHECK_STR(cmd("LPUSH", "user:3", "x", NULL), "-ERR key 'user:3' is "
		  "registered as hash in collection 'users': it cannot hold a "
		  "value of another type\r\n");
	CHECK_STR(cmd("SET", "flag:dark", "\xff", NULL), "+OK\r\n");
	CHECK(nedb_get(conn.db, "flags", "flag:dark", NEDB_HEAD, &d) == 0);
	CHECK_STR(d.doc, "{\"_id\":\"flag:dark\",\"b64\":\"/w==\"}");
	/* between shapes, a rename moves the value */
	CHECK_STR(cmd("RENAME", "user:1", "plain", NULL), "+OK\r\n");
	CHECK(nedb_get(conn.db, "redis", "plain", NEDB_HEAD, &d) == 0);
	CHECK_STR(d.doc, "{\"_id\":\"plain\",\"type\":\"hash\",\"value\":"
		  "{\"name\":\"Bob\",\"age\":\"5\"}}");
	CHECK(nedb_get(conn.db, "users", "1", NEDB_HEAD, &d) ==
	      NEDB_ENOTFOUND);
	CHECK_STR(cmd("RENAME", "plain", "driver:9", NULL), "-ERR key "
		  "'driver:9' is registered as json in collection 'driver': it "
		  "cannot hold a value of another type\r\n");
	/* FLUSHDB: the keys' collection and the registrations' */
	CHECK_STR(cmd("FLUSHDB", NULL), "+OK\r\n");
	CHECK(nedb_get(conn.db, "driver", "7", NEDB_HEAD, &d) ==
	      NEDB_ENOTFOUND);
	CHECK(nedb_get(conn.db, "flags", "flag:dark", NEDB_HEAD, &d) ==
	      NEDB_ENOTFOUND);
	nedb_redis_map_free((nedb_redis_map *)conn.map);
	conn.map = NULL;
}

static void
test_store(void)
{
	const char *zv[] = {"b", "3", "a", "1.1000000000000001", "c", "-inf"};
	const char *hv[] = {"f", "v"};
	size_t zl[6], hl[] = {1, 1};
	nedb_doc d;

	for (int i = 0; i < 6; i++)
		zl[i] = strlen(zv[i]);
	fresh_db();
	CHECK(nedb_redis_store(&conn, "z", 1, NEDB_REDIS_ZSET, 6, zv, zl, 0,
			       0) == NEDB_EUSAGE);	/* no write open */
	CHECK(nedb_write_begin(conn.db) == 0);
	conn.evidence = "backfill";
	CHECK(nedb_redis_store(&conn, "z", 1, NEDB_REDIS_ZSET, 6, zv, zl, 0,
			       NEDB_REDIS_IFCHANGED) == 1);
	CHECK(nedb_redis_store(&conn, "h", 1, NEDB_REDIS_HASH, 2, hv, hl,
			       nedb_now_ms() + 100000, 0) == 1);
	CHECK(nedb_write_commit(conn.db) == 0);
	CHECK(nedb_get(conn.db, "redis", "z", NEDB_HEAD, &d) == 0);
	CHECK_STR(d.doc, "{\"_id\":\"z\",\"type\":\"zset\",\"value\":"
		  "[[\"c\",\"-inf\"],[\"a\",1.1],[\"b\",3]]}");
	CHECK_STR(cmd("ZSCORE", "z", "a", NULL), "$18\r\n1.1000000000000001\r\n");
	/* the same again: nothing; another expiry: a put */
	CHECK(nedb_write_begin(conn.db) == 0);
	CHECK(nedb_redis_store(&conn, "z", 1, NEDB_REDIS_ZSET, 6, zv, zl, 0,
			       NEDB_REDIS_IFCHANGED) == 0);
	CHECK(nedb_redis_store(&conn, "h", 1, NEDB_REDIS_HASH, 2, hv, hl,
			       nedb_now_ms() + 100300, NEDB_REDIS_IFCHANGED) ==
	      0);
	CHECK(nedb_redis_store(&conn, "h", 1, NEDB_REDIS_HASH, 2, hv, hl, 0,
			       NEDB_REDIS_IFCHANGED) == 1);
	CHECK(nedb_redis_store(&conn, "bad\n", 4, NEDB_REDIS_STRING, 1, hv,
			       hl, 0, 0) == NEDB_EINPUT);
	zv[1] = "x";
	CHECK(nedb_redis_store(&conn, "z", 1, NEDB_REDIS_ZSET, 6, zv, zl, 0,
			       0) == NEDB_EINPUT);
	CHECK_STR(nedb_errmsg(), "bad score 'x'");
	CHECK(nedb_redis_store(&conn, "z", 1, NEDB_REDIS_HASH, 1, hv, hl, 0,
			       0) == NEDB_EUSAGE);
	CHECK(nedb_write_pending(conn.db) == 1);
	CHECK(nedb_write_commit(conn.db) == 0);
	conn.evidence = NULL;
}

static void
test_raw_doc(void)
{
	const char *argv[] = {"XADD", "s", "\xff\x00", "f"};
	size_t lens[] = {4, 1, 2, 1};
	nedb_buf b = {0};

	CHECK(nedb_redis_raw(&b, "ab:12", 3, 4, argv, lens, "why \"not\"") ==
	      0);
	CHECK_STR(b.p, "{\"_id\":\"ab:12\",\"db\":3,\"argv\":[\"XADD\",\"s\","
		  "{\"b64\":\"/wA=\"},\"f\"],\"error\":\"why \\\"not\\\"\"}");
	CHECK(nedb_redis_raw(&b, "x", 0, 1, argv, lens, NULL) == 0);
	CHECK_STR(b.p, "{\"_id\":\"x\",\"db\":0,\"argv\":[\"XADD\"]}");
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
	RUN(test_evidence_and_offset_in_log);
	RUN(test_replica_keeps_expired_keys);
	RUN(test_map_parse);
	RUN(test_map_routes_keys);
	RUN(test_store);
	RUN(test_raw_doc);
	done_db();
	nedb_buf_free(&out);
	UNIT_DONE();
}
