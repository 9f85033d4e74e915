/*
 * test_write.c - the write protocol through the public API: the writer
 * lock, checkpoints of a batch, verified reads.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>
#include "nedb.h"
#include "unit.h"

static char root[] = "/tmp/nedb-unit-write-XXXXXX";
static int ndb;

static nedb *
fresh(void)
{
	char dir[128];
	nedb *db = NULL;

	snprintf(dir, sizeof dir, "%s/db%d", root, ndb++);
	CHECK(nedb_open(&db, dir, NEDB_OPEN_CREATE) == 0);
	return db;
}

static nedb *interrupt_target;

static int
count_rows(const char *json, size_t len, void *payload)
{
	(void)json;
	(void)len;
	++*(int *)payload;
	return 0;
}

static int
put(nedb *db, const char *coll, const char *id, const char *doc)
{
	nedb_put p = {.coll = coll, .id = id, .doc = doc,
		      .doclen = strlen(doc)};

	return nedb_write_put(db, &p, NULL);
}

static void
test_trybegin_busy_while_another_handle_writes(void)
{
	nedb *a = fresh(), *b = NULL;
	char dir[128];

	snprintf(dir, sizeof dir, "%s/db%d", root, ndb - 1);
	CHECK(nedb_open(&b, dir, 0) == 0);
	CHECK(nedb_write_begin(a) == 0);
	CHECK(nedb_write_trybegin(b) == NEDB_EBUSY);
	CHECK(strstr(nedb_errmsg(), "locked by another writer") != NULL);
	CHECK(put(a, "c", "x", "{}") == 0);
	CHECK(nedb_write_commit(a) == 0);
	CHECK(nedb_write_trybegin(b) == 0);
	nedb_write_abort(b);
	/* an abort releases the lock too */
	CHECK(nedb_write_begin(a) == 0);
	nedb_write_abort(a);
	CHECK(nedb_write_trybegin(b) == 0);
	nedb_write_abort(b);
	nedb_close(a);
	nedb_close(b);
}

/* A row callback that asks for the query to stop, as a signal would. */
static int
interrupt_at_first(const char *json, size_t len, void *payload)
{
	int *rows = payload;

	(void)json;
	(void)len;
	if (++*rows == 1)
		nedb_interrupt(interrupt_target);
	return 0;
}

static void
test_interrupt_stops_a_query_at_its_next_candidate(void)
{
	nedb *db = fresh();
	int rows = 0;

	CHECK(nedb_write_begin(db) == 0);
	CHECK(put(db, "c", "a", "{\"n\":1}") == 0);
	CHECK(put(db, "c", "b", "{\"n\":2}") == 0);
	CHECK(put(db, "c", "c", "{\"n\":3}") == 0);
	CHECK(nedb_write_commit(db) == 0);
	interrupt_target = db;
	CHECK(nedb_query(db, "FROM c", 0, interrupt_at_first, &rows) ==
	      NEDB_EUSAGE);
	CHECK_STR(nedb_errmsg(), "interrupted");
	CHECK(rows == 1);
	/* a request before a query is dropped as the query begins */
	rows = 0;
	nedb_interrupt(db);
	CHECK(nedb_query(db, "FROM c WHERE n > 1", 0, count_rows, &rows) == 0);
	CHECK(rows == 2);
	nedb_close(db);
}

static void
test_checkpoint_after_staged_ops_digests_them(void)
{
	nedb *db = fresh();
	nedb_verify_result vr;
	nedb_receipt r;

	CHECK(nedb_write_begin(db) == 0);
	CHECK(put(db, "c", "a", "{\"n\":1}") == 0);
	CHECK(put(db, "c", "b", "{\"n\":2}") == 0);
	CHECK(nedb_write_checkpoint(db, &r) == 0);
	CHECK(put(db, "c", "a", "{\"n\":3}") == 0);
	CHECK(nedb_write_checkpoint(db, &r) == 0);
	CHECK(nedb_write_commit(db) == 0);
	CHECK(nedb_verify(db, NEDB_VERIFY_DETERMINISM, &vr) == 0);
	CHECK(vr.ok);
	CHECK(vr.seq == 5);
	nedb_close(db);
}

static void
test_destroy_waits_for_no_writer_and_stops_later_ones(void)
{
	nedb *a = fresh(), *b = NULL;
	char dir[128];

	snprintf(dir, sizeof dir, "%s/db%d", root, ndb - 1);
	CHECK(nedb_open(&b, dir, 0) == 0);
	CHECK(nedb_write_begin(a) == 0);
	CHECK(nedb_destroy(b) == NEDB_EBUSY);	/* closes b */
	CHECK(strstr(nedb_errmsg(), "another process is using it") != NULL);
	CHECK(put(a, "c", "x", "{}") == 0);
	CHECK(nedb_write_commit(a) == 0);
	CHECK(nedb_open(&b, dir, 0) == 0);
	CHECK(nedb_destroy(b) == 0);
	CHECK(access(dir, F_OK) != 0);
	/* a handle still open on it cannot write into the void */
	CHECK(nedb_write_begin(a) == NEDB_ENOTFOUND);
	CHECK(strstr(nedb_errmsg(), "it was removed") != NULL);
	nedb_close(a);
}

static void
test_null_receipts_are_allowed_everywhere(void)
{
	nedb *db = fresh();

	CHECK(nedb_write_begin(db) == 0);
	CHECK(put(db, "c", "a", "{}") == 0);
	CHECK(nedb_write_link(db, "c:a", "r", "c:b", 0, NULL, NULL) == 0);
	CHECK(nedb_write_index(db, "c", "f", "eq", NULL, NULL) == 0);
	CHECK(nedb_write_commit(db) == 0);
	CHECK(nedb_write_begin(db) == 0);
	/* the "exists" answers have no op to append and no receipt */
	CHECK(nedb_write_link(db, "c:a", "r", "c:b", 0, NULL, NULL) == 0);
	CHECK(nedb_write_index(db, "c", "f", "eq", NULL, NULL) == 0);
	CHECK(nedb_write_pending(db) == 0);
	CHECK(nedb_write_commit(db) == 0);
	nedb_close(db);
}

static void
test_open_nowait_is_busy_while_the_directory_is_locked(void)
{
	nedb *db = fresh(), *b = (nedb *)1;
	char dir[128];
	int fd;

	snprintf(dir, sizeof dir, "%s/db%d", root, ndb - 1);
	nedb_close(db);
	/* what a compaction holds while it replaces the view's files */
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	CHECK(fd >= 0 && flock(fd, LOCK_EX) == 0);
	CHECK(nedb_open(&b, dir, NEDB_OPEN_NOWAIT) == NEDB_EBUSY);
	CHECK(b == NULL);
	CHECK(strstr(nedb_errmsg(), "compacting or rebuilding") != NULL);
	close(fd);
	CHECK(nedb_open(&b, dir, NEDB_OPEN_NOWAIT) == 0);
	nedb_close(b);
}

static void
test_verified_reads_see_the_open_write(void)
{
	nedb *db = fresh();
	nedb_doc d;

	nedb_set_read_verify(db, 1);
	CHECK(nedb_write_begin(db) == 0);
	CHECK(put(db, "c", "a", "{\"v\":1}") == 0);
	CHECK(put(db, "c", "a", "{\"v\":2}") == 0);
	/* HEAD and the past, both staged and not yet in log.aof */
	CHECK(nedb_get(db, "c", "a", NEDB_HEAD, &d) == 0);
	CHECK(d.len == 17 && !memcmp(d.doc, "{\"_id\":\"a\",\"v\":2}", 17));
	CHECK(nedb_get(db, "c", "a", 1, &d) == 0);
	CHECK(d.len == 17 && !memcmp(d.doc, "{\"_id\":\"a\",\"v\":1}", 17));
	CHECK(nedb_write_commit(db) == 0);
	if (nedb_get(db, "c", "a", NEDB_HEAD, &d))
		fprintf(stderr, "  %s\n", nedb_errmsg()), unit_failed++;
	else
		CHECK(d.len == 17);
	nedb_close(db);
}

/* A zeroed nedb_put has no precondition; if_seq and if_absent do. */
static void
test_put_preconditions(void)
{
	nedb *db = fresh();
	nedb_put p = {0};
	nedb_receipt r;

	p.coll = "c";
	p.id = "a";
	p.doc = "{}";
	p.doclen = 2;
	CHECK(nedb_write_begin(db) == 0);
	CHECK(nedb_write_put(db, &p, &r) == 0 && r.seq == 1);
	CHECK(nedb_write_put(db, &p, &r) == 0 && r.seq == 2);	/* none */
	p.if_absent = 1;
	CHECK(nedb_write_put(db, &p, NULL) == NEDB_EREJECTED);
	CHECK(strstr(nedb_errmsg(), "is at seq 2, not 0") != NULL);
	p.if_absent = 0;
	p.if_seq = 1;
	CHECK(nedb_write_put(db, &p, NULL) == NEDB_EREJECTED);
	p.if_seq = 2;
	CHECK(nedb_write_put(db, &p, &r) == 0 && r.seq == 3);
	p.id = "b";
	p.if_seq = 0;
	p.if_absent = 1;
	CHECK(nedb_write_put(db, &p, &r) == 0 && r.seq == 4);
	CHECK(nedb_write_commit(db) == 0);
	nedb_close(db);
}

/* The line of one seq, as stored. */
static int
grab_line(uint64_t seq, const char *line, size_t len, void *payload)
{
	nedb_buf *b = payload;

	(void)seq;
	b->len = 0;
	return nedb_buf_add(b, line, len);
}

static bool
line_is(nedb *db, uint64_t seq, const nedb_preop *op)
{
	nedb_buf b = {0};
	bool same;

	CHECK(nedb_log_scan(db, seq, seq, 0, grab_line, &b) == 0);
	same = op->line.len == b.len + 1 && !memcmp(op->line.p, b.p, b.len);
	nedb_buf_free(&b);
	return same;
}

/* A put formatted ahead: prepared by nedb_put_prepare, then formatted. */
static void
ahead(nedb_ahead *a, nedb_put *p, const char *doc, nedb_buf *text,
      char **id, nedb_preop *op)
{
	nedb_put in = {.coll = "c", .doc = doc, .doclen = strlen(doc)};

	CHECK(nedb_put_prepare(&in, text, id) == 0);
	*p = (nedb_put){.coll = "c", .id = *id, .doc = text->p,
			.doclen = text->len, .prepared = NEDB_PREPARED_ID,
			.ahead = op};
	CHECK(nedb_ahead_put(a, p, op) == 0);
}

/*
 * Lines formatted ahead are staged as they are while the chain is the
 * writer's, and formatted afresh once another writer moved it (the
 * reader then goes on from the writer's op).  One thread plays reader
 * and writer, in the order that never makes the reader wait.  On an
 * encrypted database too: there the reader also salts each op.
 */
static void
ahead_case(bool encrypted)
{
	nedb *a, *b = NULL;
	nedb_ahead *ah;
	nedb_preop op[4];
	nedb_buf text[4] = {{0}};
	nedb_put p[4];
	nedb_receipt r;
	nedb_verify_result v;
	char dir[128], *id[4] = {0};

	if (encrypted)
		setenv("NEDB_TMK", "000102030405060708090a0b0c0d0e0f"
		       "101112131415161718191a1b1c1d1e1f", 1);
	a = fresh();
	snprintf(dir, sizeof dir, "%s/db%d", root, ndb - 1);
	memset(op, 0, sizeof op);
	CHECK(nedb_open(&b, dir, 0) == 0);
	CHECK(nedb_ahead_new(a, &ah) == 0);
	ahead(ah, &p[0], "{\"_id\":\"d0\",\"n\":0}", &text[0], &id[0], &op[0]);
	CHECK(op[0].ok == 0);		/* the first is the writer's */
	CHECK(nedb_write_begin(a) == 0);
	CHECK(nedb_write_put(a, &p[0], &r) == 0 && r.seq == 1);
	CHECK(nedb_write_commit(a) == 0);
	ahead(ah, &p[1], "{\"_id\":\"d1\",\"n\":1}", &text[1], &id[1], &op[1]);
	ahead(ah, &p[2], "{\"_id\":\"d2\",\"n\":2}", &text[2], &id[2], &op[2]);
	CHECK(op[1].ok == 1 && op[1].seq == 2 && op[2].ok && op[2].seq == 3);
	CHECK(nedb_write_begin(a) == 0);
	CHECK(nedb_write_put(a, &p[1], &r) == 0 && r.seq == 2);
	CHECK(nedb_write_commit(a) == 0);
	CHECK(line_is(a, 2, &op[1]));	/* staged as formatted */
	/* another writer takes seq 3 */
	CHECK(nedb_write_begin(b) == 0);
	CHECK(put(b, "c", "other", "{}") == 0);
	CHECK(nedb_write_commit(b) == 0);
	CHECK(nedb_write_begin(a) == 0);
	CHECK(nedb_write_put(a, &p[2], &r) == 0 && r.seq == 4);
	CHECK(nedb_write_commit(a) == 0);
	CHECK(!line_is(a, 4, &op[2]));	/* formatted afresh */
	/* the reader goes on from the writer's seq 4 */
	ahead(ah, &p[3], "{\"_id\":\"d3\",\"n\":3}", &text[3], &id[3], &op[3]);
	CHECK(op[3].ok == 1 && op[3].seq == 5);
	CHECK(nedb_write_begin(a) == 0);
	CHECK(nedb_write_put(a, &p[3], &r) == 0 && r.seq == 5);
	CHECK(nedb_write_commit(a) == 0);
	CHECK(line_is(a, 5, &op[3]));
	/* each op salted apart from the others */
	CHECK(!encrypted || (strstr(op[1].line.p, "\"salt\":\"") &&
			     strstr(op[3].line.p, "\"salt\":\"")));
	CHECK(nedb_verify(a, NEDB_VERIFY_DETERMINISM, &v) == 0 && v.ok);
	CHECK(v.seq == 5);
	for (int i = 0; i < 4; i++) {
		nedb_buf_free(&op[i].line);
		nedb_buf_free(&op[i].sealed);
		nedb_buf_free(&text[i]);
		free(id[i]);
	}
	nedb_ahead_close(ah);
	nedb_ahead_free(ah);
	nedb_close(b);
	nedb_close(a);
	unsetenv("NEDB_TMK");
}

static void
test_ahead_lines_are_staged_or_redone(void)
{
	ahead_case(false);
}

static void
test_ahead_lines_are_salted_staged_or_redone_encrypted(void)
{
	ahead_case(true);
}

int
main(void)
{
	if (!mkdtemp(root))
		return 2;
	RUN(test_trybegin_busy_while_another_handle_writes);
	RUN(test_checkpoint_after_staged_ops_digests_them);
	RUN(test_destroy_waits_for_no_writer_and_stops_later_ones);
	RUN(test_null_receipts_are_allowed_everywhere);
	RUN(test_open_nowait_is_busy_while_the_directory_is_locked);
	RUN(test_verified_reads_see_the_open_write);
	RUN(test_put_preconditions);
	RUN(test_ahead_lines_are_staged_or_redone);
	RUN(test_ahead_lines_are_salted_staged_or_redone_encrypted);
	RUN(test_interrupt_stops_a_query_at_its_next_candidate);
	{
		char cmd[256];

		snprintf(cmd, sizeof cmd, "rm -rf %s", root);
		if (system(cmd))
			unit_failed++;
	}
	UNIT_DONE();
}
