/*
 * test_file.c - the file store's calls for a caller that drives them
 * itself, as nedbd does: a put staged in the caller's own write
 * (nedb_file_put_stage: committed with it, nothing when it is aborted),
 * a read pulled a chunk at a time (nedb_file_reader_*), and several puts
 * and readers open on one handle at once (one index environment).
 */
#include <stdlib.h>
#include <string.h>
#include "nedb.h"
#include "unit.h"

static char root[] = "/tmp/nedb-unit-file-XXXXXX";
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

/* xorshift64*: deterministic bytes */
static unsigned char *
bytes(size_t n, uint64_t seed)
{
	unsigned char *p = malloc(n ? n : 1);

	for (size_t i = 0; i < n; i++) {
		seed ^= seed >> 12;
		seed ^= seed << 25;
		seed ^= seed >> 27;
		p[i] = (unsigned char)((seed * 2685821657736338717ull) >> 56);
	}
	return p;
}

/* Puts n bytes of p as a version of name, in pieces of 1000 bytes. */
static nedb_file_put *
begin_with(nedb *db, const char *name, const unsigned char *p, size_t n)
{
	nedb_file_put *fp = NULL;

	CHECK(nedb_file_put_begin(db, name, NULL, &fp) == 0);
	for (size_t at = 0; fp && at < n; at += 1000)
		CHECK(nedb_file_put_write(fp, p + at,
					  n - at < 1000 ? n - at : 1000) == 0);
	return fp;
}

/* Reads version v whole through a reader: 0 and the bytes in *out. */
static int
pull(nedb *db, const nedb_file_version *v, unsigned char **out, size_t *n)
{
	nedb_file_reader *r;
	const void *p;
	size_t len, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if ((rc = nedb_file_reader_open(db, v, &r)))
		return rc;
	while (!(rc = nedb_file_reader_next(r, &p, &len)) && len) {
		/* grown by doubling: a realloc per chunk copied the whole
		 * read so far each time (seconds under ASan at 5 MB) */
		if (*n + len > cap) {
			cap = cap * 2 > *n + len ? cap * 2 : *n + len;
			*out = realloc(*out, cap);
		}
		memcpy(*out + *n, p, len);
		*n += len;
	}
	nedb_file_reader_close(r);
	return rc;
}

static void
test_stage_commits_with_the_callers_write(void)
{
	nedb *db = fresh();
	unsigned char *data = bytes(300000, 1), *back;
	nedb_file_version v, s;
	nedb_file_put *fp;
	uint64_t added;
	size_t n;

	fp = begin_with(db, "a", data, 300000);
	CHECK(nedb_write_begin(db) == 0);
	CHECK(nedb_file_put_stage(fp, &v, &added) == 0);
	CHECK(v.version == 1 && v.size == 300000 && added >= 300000);
	CHECK(nedb_write_commit(db) == 0);
	CHECK(nedb_file_stat(db, "a", 0, NEDB_HEAD, &s) == 0);
	CHECK(s.seq == v.seq && !memcmp(s.root, v.root, 32));
	CHECK(!strcmp(s.hash, v.hash));
	CHECK(pull(db, &s, &back, &n) == 0);
	CHECK(n == 300000 && !memcmp(back, data, n));
	free(back);
	free(data);
	nedb_close(db);
}

static void
test_stage_aborted_is_no_version(void)
{
	nedb *db = fresh();
	unsigned char *data = bytes(100000, 2);
	nedb_file_version v;
	nedb_file_put *fp;
	uint64_t added;

	fp = begin_with(db, "b", data, 100000);
	CHECK(nedb_write_begin(db) == 0);
	CHECK(nedb_file_put_stage(fp, &v, &added) == 0);
	nedb_write_abort(db);
	CHECK(nedb_file_stat(db, "b", 0, NEDB_HEAD, &v) == NEDB_ENOTFOUND);
	/* and the name's next version is 1 */
	fp = begin_with(db, "b", data, 100000);
	CHECK(nedb_file_put_commit(fp, &v, &added) == 0);
	CHECK(v.version == 1 && added == 0);	/* its chunks were there */
	free(data);
	nedb_close(db);
}

static void
test_stage_without_a_write_is_usage(void)
{
	nedb *db = fresh();
	nedb_file_version v;
	nedb_file_put *fp = begin_with(db, "c", (const unsigned char *)"x", 1);
	uint64_t added;

	CHECK(nedb_file_put_stage(fp, &v, &added) == NEDB_EUSAGE);
	CHECK(nedb_file_stat(db, "c", 0, NEDB_HEAD, &v) == NEDB_ENOTFOUND);
	nedb_close(db);
}

static void
test_reader_of_an_empty_version_ends_at_once(void)
{
	nedb *db = fresh();
	nedb_file_version v;
	nedb_file_put *fp = begin_with(db, "e", NULL, 0);
	nedb_file_reader *r;
	const void *p;
	uint64_t added;
	size_t n = 1;

	CHECK(nedb_file_put_commit(fp, &v, &added) == 0);
	CHECK(nedb_file_reader_open(db, &v, &r) == 0);
	CHECK(nedb_file_reader_next(r, &p, &n) == 0 && n == 0);
	CHECK(nedb_file_reader_next(r, &p, &n) == 0 && n == 0);
	nedb_file_reader_close(r);
	nedb_close(db);
}

static void
test_reader_refuses_a_version_its_chunks_do_not_make(void)
{
	nedb *db = fresh();
	unsigned char *data = bytes(200000, 3), *back;
	nedb_file_version v;
	nedb_file_put *fp = begin_with(db, "d", data, 200000);
	uint64_t added;
	size_t n;

	CHECK(nedb_file_put_commit(fp, &v, &added) == 0);
	v.root[0] ^= 1;		/* what an op would say of other chunks */
	CHECK(pull(db, &v, &back, &n) == NEDB_ECORRUPT);
	CHECK(strstr(nedb_errmsg(), "do not make the root") != NULL);
	CHECK(n == 200000);	/* every chunk was itself whole */
	free(back);
	free(data);
	nedb_close(db);
}

static void
test_puts_and_readers_at_once_on_one_handle(void)
{
	nedb *db = fresh();
	unsigned char *a = bytes(500000, 4), *b = bytes(500000, 5), *back;
	nedb_file_version va, vb;
	nedb_file_reader *r1, *r2;
	nedb_file_put *p1, *p2;
	const void *x, *y;
	size_t nx, ny, off = 0;
	uint64_t added;

	p1 = begin_with(db, "a", a, 500000);
	CHECK(nedb_file_put_commit(p1, &va, &added) == 0);
	/* two puts and two readers of one store open together */
	p1 = begin_with(db, "b", b, 250000);
	p2 = begin_with(db, "c", a, 500000);
	CHECK(nedb_file_reader_open(db, &va, &r1) == 0);
	CHECK(nedb_file_reader_open(db, &va, &r2) == 0);
	for (;;) {
		CHECK(nedb_file_reader_next(r1, &x, &nx) == 0);
		CHECK(nedb_file_reader_next(r2, &y, &ny) == 0);
		CHECK(nx == ny);
		if (!nx || nx != ny)
			break;
		CHECK(!memcmp(x, a + off, nx) && !memcmp(y, a + off, ny));
		off += nx;
	}
	CHECK(off == 500000);
	nedb_file_reader_close(r1);
	CHECK(nedb_file_put_write(p1, b + 250000, 250000) == 0);
	CHECK(nedb_file_put_commit(p1, &vb, &added) == 0);
	CHECK(nedb_file_put_commit(p2, &va, &added) == 0 && added == 0);
	nedb_file_reader_close(r2);
	CHECK(nedb_file_stat(db, "b", 0, NEDB_HEAD, &vb) == 0);
	CHECK(pull(db, &vb, &back, &nx) == 0 && nx == 500000);
	CHECK(back && !memcmp(back, b, nx));
	free(back);
	free(a);
	free(b);
	nedb_close(db);
}

/*
 * Bytes that deflate by half, by three quarters, or not at all, in runs
 * of 4 to 64 KiB: a put of them keeps both threads deflating (the
 * caller's turn comes when the queue is full) and out of step.
 */
static unsigned char *
mixed(size_t n, uint64_t seed)
{
	unsigned char *p = bytes(n, seed);
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t at = 0;

	for (int i = 0; at < n; i++) {
		size_t k = 4096 + (size_t)((x = x * 6364136223846793005ull +
					    1442695040888963407ull) >> 48);

		for (size_t j = at; j < at + k && j < n; j++) {
			if (i % 3 == 0)
				p[j] = "etaoinshrdlucmfw \n"[p[j] % 18];
			else if (i % 3 == 1)
				p[j] = p[j] < 200 ? 'a' + (p[j] & 1) : 'c';
		}
		at += k;
	}
	return p;
}

static void
test_chunks_deflated_on_two_threads_keep_their_order(void)
{
	static const uint32_t small[3] = {1024, 4096, 16384};
	nedb *db = fresh();
	size_t n = 5000000, len;
	unsigned char *data = mixed(n, 6), *back;
	nedb_file_version v, w;
	nedb_file_put *fp;
	uint64_t added;

	/* pieces of odd sizes, across chunk boundaries */
	CHECK(nedb_file_put_begin(db, "m", NULL, &fp) == 0);
	for (size_t at = 0, k = 1; fp && at < n; at += k, k = k * 7 % 99991)
		CHECK(nedb_file_put_write(fp, data + at,
					  n - at < k ? n - at : k) == 0);
	CHECK(nedb_file_put_commit(fp, &v, &added) == 0);
	CHECK(v.size == n && added > n / 4 && added < n);
	CHECK(pull(db, &v, &back, &len) == 0 && len == n);
	CHECK(back && !memcmp(back, data, n));
	free(back);
	/* small chunks: a queue of 16 slots that turns over all the time */
	CHECK(nedb_file_config_set(db, small, -1) == 0);
	fp = begin_with(db, "s", data, n);
	CHECK(nedb_file_put_commit(fp, &w, &added) == 0);
	CHECK(w.chunks > n / 16384 && w.chunks > v.chunks);
	CHECK(pull(db, &w, &back, &len) == 0 && len == n);
	CHECK(back && !memcmp(back, data, n));
	free(back);
	/* the same again stores nothing: every chunk is found in the
	 * index before it would be deflated */
	fp = begin_with(db, "s2", data, n);
	CHECK(nedb_file_put_commit(fp, &w, &added) == 0 && added == 0);
	free(data);
	nedb_close(db);
}

static void
test_an_aborted_put_with_a_full_queue_stores_no_version(void)
{
	nedb *db = fresh();
	size_t n = 3000000;
	unsigned char *data = mixed(n, 7);
	nedb_file_version v;
	nedb_file_put *fp = begin_with(db, "a", data, n);

	/* the store thread may be writing, the queue full: abort drops
	 * what waits and joins it */
	nedb_file_put_abort(fp);
	CHECK(nedb_file_stat(db, "a", 0, NEDB_HEAD, &v) == NEDB_ENOTFOUND);
	free(data);
	nedb_close(db);
}

int
main(void)
{
	if (!mkdtemp(root))
		return 1;
	RUN(test_stage_commits_with_the_callers_write);
	RUN(test_stage_aborted_is_no_version);
	RUN(test_stage_without_a_write_is_usage);
	RUN(test_reader_of_an_empty_version_ends_at_once);
	RUN(test_reader_refuses_a_version_its_chunks_do_not_make);
	RUN(test_puts_and_readers_at_once_on_one_handle);
	RUN(test_chunks_deflated_on_two_threads_keep_their_order);
	RUN(test_an_aborted_put_with_a_full_queue_stores_no_version);
	{
		char cmd[160];

		snprintf(cmd, sizeof cmd, "rm -rf %s", root);
		if (system(cmd))
			unit_failed++;
	}
	UNIT_DONE();
}
