/*
 * test_redislog.c - unit tests of the log on a Redis Stream
 * (lib/log/redislog.c, engine.h) against a real server:
 * NEDB_TEST_REDIS_URL is redis://127.0.0.1:PORT of one, without replicas
 * (tests/redislog.bats starts it and runs this).  Without it only the
 * URL parsing runs.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "unit.h"

static char tmp[256];
static const char *base;	/* the server's URL, no fragment */
static int ntab;

/* A handle that holds only an engine (as nedb_import makes one). */
static nedb *
engine_handle(const char *name, const char *query)
{
	char url[512];
	nedb *db = calloc(1, sizeof *db);

	snprintf(url, sizeof url, "%s%s#%s_%d", base, query, name,
		 (int)getpid());
	db->dir = strdup(tmp);
	CHECK(nedb__engine_parse(url, tmp, &db->eng) == 0);
	return db;
}

static void
engine_handle_free(nedb *db)
{
	nedb__engine_end(db);
	nedb__engine_free(db->eng);
	free(db->dir);
	free(db);
}

/* redis-cli against the server, the command's words in fmt */
static int
rcli(const char *fmt, const char *arg)
{
	char words[300], cmd[600];

	snprintf(words, sizeof words, fmt, arg, (int)getpid());
	snprintf(cmd, sizeof cmd, "redis-cli -u '%s' %s >/dev/null", base,
		 words);
	return system(cmd);
}

static void
test_parse(void)
{
	struct nedb_engine *e;

	CHECK(nedb__engine_parse("redis://h:6380/2#shop", "/x/y", &e) == 0);
	CHECK(e->ops == &nedb__redislog_ops);
	CHECK_STR(nedb__engine_name(e), "shop");
	nedb__engine_free(e);
	/* no fragment: the directory's base name; the parameters */
	CHECK(nedb__engine_parse("redis://:pw@h?wait=1&wait_ms=250",
				 "/srv/nedb/orders/", &e) == 0);
	CHECK_STR(nedb__engine_name(e), "orders");
	nedb__engine_free(e);
	CHECK(nedb__engine_parse("redis://h:0#x", "/d", &e) == NEDB_EUSAGE);
	CHECK(strstr(nedb_errmsg(), "bad port") != NULL);
	CHECK(nedb__engine_parse("redis://h/zero#x", "/d", &e) ==
	      NEDB_EUSAGE);
	CHECK(nedb__engine_parse("redis://h?waits=1#x", "/d", &e) ==
	      NEDB_EUSAGE);
	CHECK(strstr(nedb_errmsg(), "unknown or bad parameter") != NULL);
	CHECK(nedb__engine_parse("redis://u:secret@h:99999#x", "/d", &e) ==
	      NEDB_EUSAGE);
	CHECK(strstr(nedb_errmsg(), "secret") == NULL);
	CHECK(e == NULL);
}

static void
test_unreachable(void)
{
	nedb *db = calloc(1, sizeof *db);

	db->dir = strdup(tmp);
	/* port 1 refuses; the password is not shown */
	CHECK(nedb__engine_parse("redis://:secret@127.0.0.1:1/0#x", tmp,
				 &db->eng) == 0);
	CHECK(nedb__engine_begin(db, true, true) == NEDB_EIO);
	CHECK(strstr(nedb_errmsg(), "cannot be reached") != NULL);
	CHECK(strstr(nedb_errmsg(), ":***@127.0.0.1:1") != NULL);
	CHECK(strstr(nedb_errmsg(), "secret") == NULL);
	engine_handle_free(db);
}

/* n chained lines of a file database made for the purpose */
static void
make_lines(nedb_buf *out, int n)
{
	char dir[300], *p;
	nedb *db;

	snprintf(dir, sizeof dir, "%s/src%d", tmp, ntab++);
	CHECK(nedb_open(&db, dir, NEDB_OPEN_CREATE) == 0);
	for (int i = 0; i < n - 1; i++) {
		char id[16];
		nedb_put p2 = {.coll = "c", .doc = "{}", .doclen = 2};

		snprintf(id, sizeof id, "d%d", i);
		p2.id = id;
		CHECK(nedb_write_begin(db) == 0);
		CHECK(nedb_write_put(db, &p2, NULL) == 0);
		CHECK(nedb_write_commit(db) == 0);
	}
	nedb_close(db);
	p = nedb__path_in(dir, "log.aof");
	CHECK(nedb__read_file(p, out) == 0);
	free(p);
}

static size_t
line_end(const nedb_buf *b, int k)
{
	size_t at = 0;

	for (int i = 0; i < k; i++)
		at = (size_t)((char *)memchr(b->p + at, '\n', b->len - at) -
			      b->p) + 1;
	return at;
}

static void
test_append_fetch(void)
{
	nedb *db = engine_handle("unit_af", ""),
	     *other = engine_handle("unit_af", "");
	nedb_buf lines = {0}, got = {0};
	unsigned char head[HASH_LEN];
	bool have = false, empty;
	uint64_t tail = 0, last;
	size_t n, first3;

	make_lines(&lines, 5);
	first3 = line_end(&lines, 3);
	CHECK(nedb__engine_begin(db, true, true) == 0);
	CHECK(nedb__engine_last(db, &last, &empty) == 0);
	CHECK(empty);
	/* a batch that does not start where the stream ends: nothing */
	CHECK(nedb__engine_append(db, lines.p, first3, 1, 3) == NEDB_EBUSY);
	CHECK(nedb__engine_conflict(db));
	CHECK(nedb__engine_begin(db, true, true) == 0);
	CHECK(nedb__engine_append(db, lines.p, first3, 0, 3) == 0);
	CHECK(!nedb__engine_conflict(db));
	/* another writer cannot have the lock while one has it */
	CHECK(nedb__engine_begin(db, true, false) == 0);
	CHECK(nedb__engine_begin(other, false, false) == NEDB_EBUSY);
	nedb__engine_end(db);
	/* the lines come back exactly, checked from genesis on */
	CHECK(nedb__engine_fetch(other, &have, &tail, head, &got, &n, 0) == 0);
	CHECK(n == 3 && have && tail == 2);
	CHECK(got.len == first3 && !memcmp(got.p, lines.p, first3));
	got.len = 0;
	CHECK(nedb__engine_fetch(other, &have, &tail, head, &got, &n, 0) == 0);
	CHECK(n == 0 && got.len == 0);
	/* the rest (in two inserts, one commit); a seq taken twice is a
	 * conflict and appends nothing */
	CHECK(nedb__engine_begin(db, true, false) == 0);
	CHECK(nedb__engine_insert(db, lines.p + first3,
				  line_end(&lines, 4) - first3, 3, 1) == 0);
	CHECK(nedb__engine_insert(db, lines.p + line_end(&lines, 4),
				  lines.len - line_end(&lines, 4), 4, 1) == 0);
	CHECK(nedb__engine_commit(db) == 0);
	CHECK(nedb__engine_begin(other, true, false) == 0);
	CHECK(nedb__engine_append(other, lines.p + first3, lines.len - first3,
				  3, 2) == NEDB_EBUSY);
	CHECK(nedb__engine_conflict(other));
	CHECK(strstr(nedb_errmsg(), "seq 3") != NULL);
	got.len = 0;
	CHECK(nedb__engine_fetch(other, &have, &tail, head, &got, &n, 1) == 0);
	CHECK(n == 1 && tail == 3);
	CHECK(nedb__engine_fetch(other, &have, &tail, head, &got, &n, 0) == 0);
	CHECK(n == 1 && tail == 4);
	CHECK(got.len == lines.len - first3 &&
	      !memcmp(got.p, lines.p + first3, got.len));
	CHECK(nedb__engine_last(db, &last, &empty) == 0);
	CHECK(!empty && last == 4);
	{
		unsigned char h[HASH_LEN];
		bool found;

		CHECK(nedb__engine_hash(db, 4, h, &found) == 0);
		CHECK(found && !memcmp(h, head, HASH_LEN));
		CHECK(nedb__engine_hash(db, 5, h, &found) == 0);
		CHECK(!found);
	}
	nedb_buf_free(&lines);
	nedb_buf_free(&got);
	engine_handle_free(db);
	engine_handle_free(other);
}

static void
test_lock(void)
{
	nedb *db = engine_handle("unit_lk", "");

	/* a lock whose holder's connection is gone is taken over at once */
	CHECK(rcli("SET nedb:%s_%d:lock 999999:1:x", "unit_lk") == 0);
	CHECK(nedb__engine_begin(db, false, true) == 0);
	nedb__engine_end(db);
	/* a holder not of nedb's making is waited for (here: not) */
	CHECK(rcli("SET nedb:%s_%d:lock someone", "unit_lk") == 0);
	CHECK(nedb__engine_begin(db, false, true) == NEDB_EBUSY);
	CHECK(strstr(nedb_errmsg(), "locked by another writer") != NULL);
	CHECK(rcli("DEL nedb:%s_%d:lock", "unit_lk") == 0);
	CHECK(nedb__engine_begin(db, false, true) == 0);
	engine_handle_free(db);
}

static void
test_wait_replicas(void)
{
	nedb *db = engine_handle("unit_wr", "?wait=1&wait_ms=50");
	nedb_buf lines = {0};
	uint64_t last;
	bool empty;

	/* no replica: the op is on the primary, not acknowledged */
	make_lines(&lines, 1);
	CHECK(nedb__engine_begin(db, true, true) == 0);
	CHECK(nedb__engine_append(db, lines.p, lines.len, 0, 1) == NEDB_EIO);
	CHECK(strstr(nedb_errmsg(), "0 of 1 replicas") != NULL);
	CHECK(!nedb__engine_conflict(db));
	CHECK(nedb__engine_last(db, &last, &empty) == 0);
	CHECK(!empty && last == 0);
	nedb_buf_free(&lines);
	engine_handle_free(db);
}

static void
test_xread(void)
{
	nedb *db = engine_handle("unit_xr", ""),
	     *follower = engine_handle("unit_xr", "");
	nedb_buf lines = {0};
	uint64_t last;
	bool empty;
	int64_t t0;

	make_lines(&lines, 2);
	CHECK(nedb__engine_begin(db, true, true) == 0);
	CHECK(nedb__engine_append(db, lines.p, line_end(&lines, 1), 0, 1) ==
	      0);
	/* the follower read seq 0: the next op wakes it, not the timeout */
	CHECK(nedb__engine_last(follower, &last, &empty) == 0);
	{
		unsigned char h[HASH_LEN];
		bool found;

		CHECK(nedb__engine_hash(follower, 0, h, &found) == 0);
		CHECK(found);
	}
	t0 = nedb__now_ms();
	CHECK(nedb__engine_wait(follower, 50) == 0);	/* nothing: times out */
	CHECK(nedb__now_ms() - t0 >= 40);
	CHECK(nedb__engine_begin(db, true, false) == 0);
	CHECK(nedb__engine_append(db, lines.p + line_end(&lines, 1),
				  lines.len - line_end(&lines, 1), 1, 1) == 0);
	t0 = nedb__now_ms();
	CHECK(nedb__engine_wait(follower, 20000) == 0);
	CHECK(nedb__now_ms() - t0 < 15000);
	nedb_buf_free(&lines);
	engine_handle_free(db);
	engine_handle_free(follower);
}

static void
test_divergence(void)
{
	char dir[300], url[512];
	nedb *db;
	nedb_put p = {.coll = "c", .id = "x", .doc = "{}", .doclen = 2};
	int ok;
	uint64_t seq;
	char why[200];

	snprintf(dir, sizeof dir, "%s/dv", tmp);
	snprintf(url, sizeof url, "%s#unit_dv_%d", base, (int)getpid());
	setenv("NEDB_LOG", url, 1);
	CHECK(nedb_open(&db, dir, NEDB_OPEN_CREATE) == 0);
	unsetenv("NEDB_LOG");
	CHECK_STR(nedb_engine_url(db), url);
	for (int i = 0; i < 3; i++) {
		CHECK(nedb_write_begin(db) == 0);
		CHECK(nedb_write_put(db, &p, NULL) == 0);
		CHECK(nedb_write_commit(db) == 0);
	}
	CHECK(nedb_engine_check(db, &ok, &seq, why, sizeof why) == 0);
	CHECK(ok && seq == 3);
	/* the engine loses seqs 2 and 3 */
	CHECK(rcli("XDEL nedb:%s_%d:oplog 2-1 3-1", "unit_dv") == 0);
	CHECK(nedb_engine_sync(db) == NEDB_ECORRUPT);
	CHECK(strstr(nedb_errmsg(), "holds seqs 2 to 3") != NULL);
	CHECK(nedb_write_begin(db) == NEDB_ECORRUPT);
	CHECK(nedb_engine_check(db, &ok, &seq, why, sizeof why) == 0);
	CHECK(!ok && seq == 2);
	CHECK(strstr(why, "lacks") != NULL);
	/* and every op */
	CHECK(rcli("DEL nedb:%s_%d:oplog", "unit_dv") == 0);
	CHECK(nedb_engine_sync(db) == NEDB_ECORRUPT);
	CHECK(strstr(nedb_errmsg(), "holds seqs 0 to 3") != NULL);
	nedb_close(db);
}

int
main(void)
{
	char cmd[300];

	snprintf(tmp, sizeof tmp, "%s/nedb-redislog-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return 2;
	base = getenv("NEDB_TEST_REDIS_URL");
	RUN(test_parse);
	if (base && *base) {
		RUN(test_unreachable);
		RUN(test_append_fetch);
		RUN(test_lock);
		RUN(test_wait_replicas);
		RUN(test_xread);
		RUN(test_divergence);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd))
		return 2;
	UNIT_DONE();
}
