/*
 * test_pglog.c - unit tests of the log on PostgreSQL (lib/log/pglog.c,
 * engine.h) against a real server: NEDB_TEST_PG_URL is a libpq URI of
 * one (tests/pglog.bats starts it with tests/pg.sh and runs this).
 * Without it only the URL parsing runs.
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
engine_handle(const char *name)
{
	char url[512];
	nedb *db = calloc(1, sizeof *db);

	snprintf(url, sizeof url, "%s#%s_%d", base, name, (int)getpid());
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

static void
test_parse(void)
{
	struct nedb_engine *e;

	CHECK(nedb__engine_parse("postgresql://u@h:5432/app#shop", "/x/y",
				 &e) == 0);
	CHECK_STR(nedb__engine_name(e), "shop");
	CHECK_STR(nedb__engine_url(e), "postgresql://u@h:5432/app#shop");
	nedb__engine_free(e);
	/* no fragment: the directory's base name */
	CHECK(nedb__engine_parse("postgres:///app", "/srv/nedb/orders/", &e) ==
	      0);
	CHECK_STR(nedb__engine_name(e), "orders");
	nedb__engine_free(e);
	CHECK(nedb__engine_parse("mysql://h/db#x", "/d", &e) == NEDB_EUSAGE);
	CHECK(e == NULL);
	/* the scheme picks the backend (test_redislog.c tests its own) */
	CHECK(nedb__engine_parse("redis://h:6379/0#x", "/d", &e) == 0);
	CHECK(e->ops == &nedb__redislog_ops);
	nedb__engine_free(e);
	CHECK(nedb__engine_parse("rediss://h:6379/0#x", "/d", &e) ==
	      NEDB_EUSAGE);
	CHECK(nedb__engine_parse("postgresql://h/db#a.b", "/d", &e) ==
	      NEDB_EUSAGE);
	CHECK(nedb__engine_parse("postgresql://h/db", "/d/x y", &e) ==
	      NEDB_EUSAGE);
	CHECK(nedb__engine_parse("postgresql://h/db#x\ny", "/d", &e) ==
	      NEDB_EUSAGE);
}

static void
test_unreachable(void)
{
	nedb *db = calloc(1, sizeof *db);

	db->dir = strdup(tmp);
	/* port 1 refuses; the password is not shown */
	CHECK(nedb__engine_parse("postgresql://u:secret@127.0.0.1:1/db#x",
				 tmp, &db->eng) == 0);
	CHECK(nedb__engine_begin(db, true, true) == NEDB_EIO);
	CHECK(strstr(nedb_errmsg(), "cannot be reached") != NULL);
	CHECK(strstr(nedb_errmsg(), "u:***@127.0.0.1:1") != NULL);
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

/* begin, then the first read of the transaction, as a writer does */
static int
begin_read(nedb *db, bool wait)
{
	unsigned char head[HASH_LEN];
	bool have = false;
	uint64_t tail = 0;
	size_t n;
	int rc = nedb__engine_begin(db, wait, false);

	return rc ? rc : nedb__engine_fetch(db, &have, &tail, head, NULL, &n,
					    0);
}

static void
test_append_fetch(void)
{
	nedb *db = engine_handle("unit_af"), *other = engine_handle("unit_af");
	nedb_buf lines = {0}, got = {0};
	unsigned char head[HASH_LEN];
	bool have = false, empty;
	uint64_t tail = 0, last;
	size_t n, first3;

	make_lines(&lines, 5);
	CHECK(nedb__engine_begin(db, true, true) == 0);
	CHECK(nedb__engine_last(db, &last, &empty) == 0);
	CHECK(empty);
	first3 = 0;
	for (int i = 0; i < 3; i++)
		first3 = (size_t)((char *)memchr(lines.p + first3, '\n',
						 lines.len - first3) -
				  lines.p) + 1;
	CHECK(nedb__engine_append(db, lines.p, first3, 0, 3) == 0);
	/* another writer cannot have the lock while a transaction has it
	 * (a writer's transaction takes it with its first read, the
	 * catch-up: one round trip) */
	CHECK(nedb__engine_begin(db, true, false) == 0);
	CHECK(begin_read(db, true) == 0);
	CHECK(begin_read(other, false) == NEDB_EBUSY);
	CHECK(strstr(nedb_errmsg(), "locked by another writer") != NULL);
	nedb__engine_end(db);
	CHECK(begin_read(other, false) == 0);
	nedb__engine_end(other);
	/* the lines come back exactly, checked from genesis on */
	CHECK(nedb__engine_fetch(other, &have, &tail, head, &got, &n, 0) == 0);
	CHECK(n == 3 && have && tail == 2);
	CHECK(got.len == first3 && !memcmp(got.p, lines.p, first3));
	/* from the tail: nothing new */
	got.len = 0;
	CHECK(nedb__engine_fetch(other, &have, &tail, head, &got, &n, 0) == 0);
	CHECK(n == 0 && got.len == 0);
	/* the rest, and a seq taken twice is a conflict */
	CHECK(nedb__engine_begin(db, true, false) == 0);
	CHECK(nedb__engine_append(db, lines.p + first3, lines.len - first3, 3,
				  2) == 0);
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
test_notify(void)
{
	nedb *db = engine_handle("unit_nt"), *follower =
		engine_handle("unit_nt");
	nedb_buf lines = {0};
	int64_t t0;

	make_lines(&lines, 1);
	CHECK(nedb__engine_wait(follower, 0) == 0);	/* LISTEN */
	CHECK(nedb__engine_begin(db, true, true) == 0);
	CHECK(nedb__engine_append(db, lines.p, lines.len, 0, 1) == 0);
	/* woken at once by the commit's notification, not by the timeout */
	t0 = nedb__now_ms();
	CHECK(nedb__engine_wait(follower, 10000) == 0);
	CHECK(nedb__now_ms() - t0 < 5000);
	nedb_buf_free(&lines);
	engine_handle_free(db);
	engine_handle_free(follower);
}

static void
test_divergence(void)
{
	char dir[300], url[512], sql[200];
	nedb *db, *eng = engine_handle("unit_dv");
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
	CHECK(nedb__engine_begin(eng, true, false) == 0);
	nedb__engine_end(eng);
	snprintf(sql, sizeof sql, "psql -X -q -d '%s' -c 'DELETE FROM "
		 "nedb_unit_dv_%d WHERE seq >= 2'", base, (int)getpid());
	CHECK(system(sql) == 0);
	CHECK(nedb_engine_sync(db) == NEDB_ECORRUPT);
	CHECK(strstr(nedb_errmsg(), "holds seqs 2 to 3") != NULL);
	CHECK(nedb_write_begin(db) == NEDB_ECORRUPT);
	CHECK(nedb_engine_check(db, &ok, &seq, why, sizeof why) == 0);
	CHECK(!ok && seq == 2);
	CHECK(strstr(why, "lacks") != NULL);
	nedb_close(db);
	engine_handle_free(eng);
}

int
main(void)
{
	char cmd[300];

	snprintf(tmp, sizeof tmp, "%s/nedb-pglog-XXXXXX",
		 getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmp))
		return 2;
	base = getenv("NEDB_TEST_PG_URL");
	RUN(test_parse);
	if (base && *base) {
		RUN(test_unreachable);
		RUN(test_append_fetch);
		RUN(test_notify);
		RUN(test_divergence);
	}
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd))
		return 2;
	UNIT_DONE();
}
