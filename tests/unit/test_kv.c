/*
 * test_kv.c - the view's kv layer (lib/view/kv.c): round trips through an
 * encrypted view, plaintext order under the comparators, one duplicate
 * deleted, tampered bytes refused, two views with different keys open at
 * once, and cursors read from two threads at the same time.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "crypt.h"
#include "kv.h"
#include "unit.h"

static char root[] = "/tmp/nedb-unit-kv-XXXXXX";
static int nview;

/* A new view under root: encrypted with a key made from seed, or (seed
 * 0) plaintext.  Its tables are made. */
static void
view_new(struct view *v, struct nedb_crypt *c, int seed, char *path)
{
	unsigned char dek[NEDB_KEY_LEN];
	MDB_txn *txn;

	memset(c, 0, sizeof *c);
	if (seed) {
		memset(dek, seed, sizeof dek);
		if (nedb__crypt_keys(c, dek))
			abort();
	}
	snprintf(path, 256, "%s/v%d.mdb", root, nview++);
	if (nedb__view_open(v, path, MDB_NOSYNC, seed ? c : NULL) ||
	    mdb_txn_begin(v->env, NULL, 0, &txn) ||
	    nedb__view_dbis(v, txn, true) || mdb_txn_commit(txn))
		abort();
}

static void
view_free(struct view *v, struct nedb_crypt *c)
{
	nedb__view_close(v);
	nedb__crypt_keys_free(c);
}

/* Whether the file at path holds the n bytes at p. */
static bool
file_has(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len;
	bool found;

	if (!f)
		return false;
	buf = malloc(64 << 20);
	len = fread(buf, 1, 64 << 20, f);
	fclose(f);
	found = memmem(buf, len, p, n) != NULL;
	free(buf);
	return found;
}

static int
put(struct view *v, MDB_txn *txn, int t, const char *k, size_t kn,
    const char *d, size_t dn)
{
	MDB_val kv = {kn, (void *)k}, dv = {dn, (void *)d};

	return nedb__kv_put(v, txn, t, &kv, &dv, 0);
}

static bool
get_is(struct view *v, MDB_txn *txn, int t, const char *k, size_t kn,
       const char *want, size_t wn)
{
	MDB_val kv = {kn, (void *)k}, d;

	return !nedb__kv_get(v, txn, t, &kv, &d) && d.mv_size == wn &&
	       !memcmp(d.mv_data, want, wn);
}

static void
test_round_trip(void)
{
	struct view v;
	struct nedb_crypt c;
	char path[256];
	MDB_txn *txn;
	struct kvcur cur;
	MDB_val k = {6, "users"}, d;

	view_new(&v, &c, 1, path);
	CHECK(mdb_txn_begin(v.env, NULL, 0, &txn) == 0);
	CHECK(put(&v, txn, DBI_DOCS, "users\0canary_id", 15,
		  "{\"canary_field\":1}", 18) == 0);
	CHECK(put(&v, txn, DBI_COLLS, "canary_coll", 11, "\0\0\0\0\0\0\0\1",
		  8) == 0);
	CHECK(put(&v, txn, DBI_SEQS, "\0\0\0\0\0\0\0\1", 8, "canary_seqent",
		  13) == 0);
	CHECK(put(&v, txn, DBI_IDX, "users\0f\0e\0canary_entry", 22,
		  "canary_dup", 10) == 0);
	CHECK(mdb_txn_commit(txn) == 0);
	CHECK(mdb_txn_begin(v.env, NULL, MDB_RDONLY, &txn) == 0);
	CHECK(get_is(&v, txn, DBI_DOCS, "users\0canary_id", 15,
		     "{\"canary_field\":1}", 18));
	CHECK(get_is(&v, txn, DBI_SEQS, "\0\0\0\0\0\0\0\1", 8,
		     "canary_seqent", 13));
	CHECK(get_is(&v, txn, DBI_IDX, "users\0f\0e\0canary_entry", 22,
		     "canary_dup", 10));
	CHECK(!get_is(&v, txn, DBI_DOCS, "users\0canary_i", 14, "", 0));
	/* a prefix scan gives the plaintext key back */
	CHECK(nedb__kv_copen(&cur, &v, txn, DBI_DOCS) == 0);
	CHECK(nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE) == 0);
	CHECK(k.mv_size == 15 && !memcmp(k.mv_data, "users\0canary_id", 15));
	CHECK(d.mv_size == 18);
	CHECK(nedb__kv_cget(&cur, &k, &d, MDB_NEXT) == MDB_NOTFOUND);
	nedb__kv_cclose(&cur);
	mdb_txn_abort(txn);
	mdb_env_sync(v.env, 1);
	CHECK(!file_has(path, "canary", 6));
	view_free(&v, &c);

	/* the same through a plaintext view: the bytes are there */
	view_new(&v, &c, 0, path);
	CHECK(mdb_txn_begin(v.env, NULL, 0, &txn) == 0);
	CHECK(put(&v, txn, DBI_DOCS, "users\0canary_id", 15, "{}", 2) == 0);
	CHECK(get_is(&v, txn, DBI_DOCS, "users\0canary_id", 15, "{}", 2));
	CHECK(mdb_txn_commit(txn) == 0);
	mdb_env_sync(v.env, 1);
	CHECK(file_has(path, "canary_id", 9));
	view_free(&v, &c);
}

/* LMDB's default order: memcmp of the common length, shorter first. */
static int
memn(const void *a, size_t an, const void *b, size_t bn)
{
	int r = memcmp(a, b, an < bn ? an : bn);

	return r ? r : (an > bn) - (an < bn);
}

struct rkey {
	unsigned char p[64];
	size_t n;
};

static int
rkey_cmp(const void *x, const void *y)
{
	const struct rkey *a = x, *b = y;

	return memn(a->p, a->n, b->p, b->n);
}

#define NKEYS 3000
static struct rkey keys[NKEYS];
static size_t nkeys;

/* Random keys (a few shared prefixes, bytes 0-255, lengths 1-64),
 * sorted and deduplicated into keys[]. */
static void
make_keys(void)
{
	static const char *const pre[] = {"", "users\0", "users\0id-", "a"};
	size_t o = 0;

	srand(7);
	for (size_t i = 0; i < NKEYS; i++) {
		const char *p = pre[rand() % 4];
		size_t pn = p[0] == 'u' ? (p[6] ? 9 : 6) : strlen(p);
		size_t n = pn + (size_t)(rand() % (64 - (int)pn)) + (pn ? 0 :
									1);

		if (n > 64)
			n = 64;
		memcpy(keys[i].p, p, pn);
		for (size_t j = pn; j < n; j++)
			keys[i].p[j] = (unsigned char)(rand() % 4 ? 'a' +
					rand() % 4 : rand() % 256);
		keys[i].n = n;
	}
	qsort(keys, NKEYS, sizeof *keys, rkey_cmp);
	for (size_t i = 0; i < NKEYS; i++)
		if (!o || rkey_cmp(&keys[o - 1], &keys[i]))
			keys[o++] = keys[i];
	nkeys = o;
}

static void
fill(struct view *v)
{
	MDB_txn *txn;
	size_t order[NKEYS];

	/* inserted in a shuffled order */
	for (size_t i = 0; i < nkeys; i++)
		order[i] = i;
	for (size_t i = nkeys - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	CHECK(mdb_txn_begin(v->env, NULL, 0, &txn) == 0);
	for (size_t i = 0; i < nkeys; i++) {
		struct rkey *r = &keys[order[i]];

		CHECK(put(v, txn, DBI_DOCS, (char *)r->p, r->n, (char *)r->p,
			  r->n) == 0);
	}
	CHECK(mdb_txn_commit(txn) == 0);
}

/* The table walks in keys[] order; each value is its key; probes with
 * MDB_SET_RANGE land on the first key at or after them. */
static int
walk_check(struct view *v)
{
	MDB_txn *txn;
	struct kvcur cur;
	MDB_val k, d;
	size_t i = 0;
	int bad = 0, rc;

	if (mdb_txn_begin(v->env, NULL, MDB_RDONLY, &txn))
		return 1;
	if (nedb__kv_copen(&cur, v, txn, DBI_DOCS)) {
		mdb_txn_abort(txn);
		return 1;
	}
	while (!(rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT))) {
		if (i >= nkeys || k.mv_size != keys[i].n ||
		    memcmp(k.mv_data, keys[i].p, k.mv_size) ||
		    d.mv_size != k.mv_size ||
		    memcmp(d.mv_data, k.mv_data, k.mv_size))
			bad++;
		i++;
	}
	if (rc != MDB_NOTFOUND || i != nkeys)
		bad++;
	for (size_t j = 0; j < nkeys; j += 37) {
		/* a probe just past key j: its key and one more byte 0; it
		 * lands on the first key at or after it, or finds none */
		unsigned char p[65];
		size_t e = j + 1, pn = keys[j].n + 1;

		memcpy(p, keys[j].p, keys[j].n);
		p[keys[j].n] = 0;
		while (e < nkeys && memn(keys[e].p, keys[e].n, p, pn) < 0)
			e++;
		k.mv_size = pn;
		k.mv_data = p;
		rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE);
		if (e == nkeys ? rc != MDB_NOTFOUND :
		    rc || memn(k.mv_data, k.mv_size, keys[e].p, keys[e].n))
			bad++;
	}
	nedb__kv_cclose(&cur);
	mdb_txn_abort(txn);
	return bad;
}

static void
test_plaintext_order(void)
{
	struct view v;
	struct nedb_crypt c;
	char path[256];

	view_new(&v, &c, 2, path);
	fill(&v);
	CHECK(walk_check(&v) == 0);
	/* again in a new process's shoes: closed and opened (a new slot,
	 * the comparators set again before any read) */
	nedb__view_close(&v);
	{
		MDB_txn *txn;

		CHECK(nedb__view_open(&v, path, MDB_NOSYNC, &c) == 0);
		CHECK(mdb_txn_begin(v.env, NULL, MDB_RDONLY, &txn) == 0);
		CHECK(nedb__view_dbis(&v, txn, false) == 0);
		CHECK(mdb_txn_commit(txn) == 0);
	}
	CHECK(walk_check(&v) == 0);
	view_free(&v, &c);
}

static void
test_dupsort_delete_one(void)
{
	struct view v;
	struct nedb_crypt c;
	char path[256];
	MDB_txn *txn;
	struct kvcur cur;
	static const char key[] = "users\0age\0o\0\x10\x05";
	static const char *const ids[] = {"d", "a", "e", "c", "b"};
	MDB_val k = {sizeof key - 1, (void *)key}, d = {1, "c"};
	char got[8];
	size_t n = 0, dups = 0;
	int rc;

	view_new(&v, &c, 3, path);
	CHECK(mdb_txn_begin(v.env, NULL, 0, &txn) == 0);
	for (int i = 0; i < 5; i++)
		CHECK(put(&v, txn, DBI_IDX, key, sizeof key - 1, ids[i],
			  1) == 0);
	/* one duplicate found and deleted by its datum */
	CHECK(nedb__kv_copen(&cur, &v, txn, DBI_IDX) == 0);
	CHECK(nedb__kv_cget(&cur, &k, &d, MDB_GET_BOTH) == 0);
	nedb__kv_cclose(&cur);
	CHECK(nedb__kv_del(&v, txn, DBI_IDX, &k, &d) == 0);
	CHECK(nedb__kv_del(&v, txn, DBI_IDX, &k, &d) == MDB_NOTFOUND);
	CHECK(mdb_txn_commit(txn) == 0);
	CHECK(mdb_txn_begin(v.env, NULL, MDB_RDONLY, &txn) == 0);
	CHECK(nedb__kv_copen(&cur, &v, txn, DBI_IDX) == 0);
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET); !rc;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT_DUP)) {
		if (n == 0)
			CHECK(nedb__kv_ccount(&cur, &dups) == 0);
		if (n < sizeof got && d.mv_size == 1)
			got[n] = *(char *)d.mv_data;
		n++;
	}
	nedb__kv_cclose(&cur);
	mdb_txn_abort(txn);
	CHECK(rc == MDB_NOTFOUND);
	CHECK(n == 4 && dups == 4 && !memcmp(got, "abde", 4));
	view_free(&v, &c);
}

/* Tampering, done under the layer with raw LMDB calls. */
/* Small values read back in the writing process (kv.c's sealed[]
 * memo): more of them than it holds, each its own, and one whose stored
 * bytes were replaced by another key's (moved, as an attacker could) is
 * refused though both were sealed here. */
static void
test_sealed_read_back(void)
{
	struct view v;
	struct nedb_crypt c;
	char path[256];
	MDB_txn *txn;
	MDB_val k, d, d1;
	unsigned char key[8] = {0}, val[40], moved[128];

	view_new(&v, &c, 6, path);
	CHECK(mdb_txn_begin(v.env, NULL, 0, &txn) == 0);
	for (int i = 0; i < 1500; i++) {
		key[6] = (unsigned char)(i >> 8);
		key[7] = (unsigned char)i;
		memset(val, i % 251, sizeof val);
		CHECK(put(&v, txn, DBI_SEQS, (char *)key, 8, (char *)val,
			  sizeof val) == 0);
	}
	for (int i = 1499; i >= 0; i--) {
		key[6] = (unsigned char)(i >> 8);
		key[7] = (unsigned char)i;
		memset(val, i % 251, sizeof val);
		CHECK(get_is(&v, txn, DBI_SEQS, (char *)key, 8, (char *)val,
			     sizeof val));
	}
	/* seq 1's stored value under seq 2 */
	key[6] = 0;
	key[7] = 1;
	k.mv_size = 8;
	k.mv_data = key;
	CHECK(mdb_get(txn, v.dbi[DBI_SEQS], &k, &d1) == 0);
	memcpy(moved, d1.mv_data, d1.mv_size);
	d.mv_size = d1.mv_size;
	d.mv_data = moved;
	key[7] = 2;
	CHECK(mdb_put(txn, v.dbi[DBI_SEQS], &k, &d, 0) == 0);
	{
		MDB_val pk = {8, key}, out;

		CHECK(nedb__kv_get(&v, txn, DBI_SEQS, &pk, &out) ==
		      NEDB_ECORRUPT);
	}
	mdb_txn_abort(txn);
	view_free(&v, &c);
}

/* Puts in plaintext order (appended, kv.c), then out of it, then
 * again in it; lookups past the last key, of the last key and of keys
 * before it: what a view without those shortcuts would answer, and
 * MDB_NOOVERWRITE still refuses an existing key and hands back its
 * value. */
static void
test_append_order(void)
{
	struct view v;
	struct nedb_crypt c;
	char path[256], k[16], want[16];
	MDB_txn *txn;
	MDB_val kv, dv;
	struct kvcur cur;
	int n = 0, prev = -1;

	view_new(&v, &c, 7, path);
	CHECK(mdb_txn_begin(v.env, NULL, 0, &txn) == 0);
	for (int i = 0; i < 300; i++) {
		/* 0..99 in order, 299..200 backwards, 100..199 in order */
		int x = i < 100 ? i : i < 200 ? 399 - i : i - 100;

		snprintf(k, sizeof k, "c/x%05d", x);
		CHECK(!get_is(&v, txn, DBI_DOCS, k, 8, "", 0));
		CHECK(put(&v, txn, DBI_DOCS, k, 8, k, 8) == 0);
		CHECK(get_is(&v, txn, DBI_DOCS, k, 8, k, 8));
	}
	for (int x = 0; x < 300; x++) {
		snprintf(k, sizeof k, "c/x%05d", x);
		CHECK(get_is(&v, txn, DBI_DOCS, k, 8, k, 8));
	}
	snprintf(k, sizeof k, "c/x%05d", 300);
	CHECK(!get_is(&v, txn, DBI_DOCS, k, 8, k, 8));
	/* an existing key: refused, its value handed back */
	snprintf(k, sizeof k, "c/x%05d", 299);
	snprintf(want, sizeof want, "other");
	kv.mv_size = 8;
	kv.mv_data = k;
	dv.mv_size = 5;
	dv.mv_data = want;
	CHECK(nedb__kv_put(&v, txn, DBI_DOCS, &kv, &dv, MDB_NOOVERWRITE) ==
	      MDB_KEYEXIST);
	CHECK(get_is(&v, txn, DBI_DOCS, k, 8, k, 8));
	/* the order of the table is the keys' */
	CHECK(nedb__kv_copen(&cur, &v, txn, DBI_DOCS) == 0);
	for (int rc = nedb__kv_cget(&cur, &kv, &dv, MDB_FIRST); !rc;
	     rc = nedb__kv_cget(&cur, &kv, &dv, MDB_NEXT)) {
		int x = atoi((char *)kv.mv_data + 3);

		CHECK(kv.mv_size == 8 && x == prev + 1);
		prev = x;
		n++;
	}
	nedb__kv_cclose(&cur);
	CHECK(n == 300);
	mdb_txn_abort(txn);
	view_free(&v, &c);
}

static void
test_tamper_refused(void)
{
	struct view v;
	struct nedb_crypt c;
	char path[256];
	MDB_txn *txn;
	MDB_cursor *raw;
	MDB_val k, d, ka, da;
	unsigned char kbuf[600], dbuf[600], abuf[600];

	view_new(&v, &c, 4, path);
	CHECK(mdb_txn_begin(v.env, NULL, 0, &txn) == 0);
	CHECK(put(&v, txn, DBI_DOCS, "c\0a", 3, "document a", 10) == 0);
	CHECK(put(&v, txn, DBI_DOCS, "c\0b", 3, "document b", 10) == 0);
	/* the stored bytes of c/a */
	CHECK(mdb_cursor_open(txn, v.dbi[DBI_DOCS], &raw) == 0);
	CHECK(mdb_cursor_get(raw, &ka, &da, MDB_FIRST) == 0);
	memcpy(abuf, da.mv_data, da.mv_size);
	CHECK(mdb_cursor_get(raw, &k, &d, MDB_NEXT) == 0);
	memcpy(kbuf, k.mv_data, k.mv_size);
	mdb_cursor_close(raw);
	/* c/a's sealed value moved under c/b: refused, not returned */
	d.mv_data = abuf;
	d.mv_size = da.mv_size;
	k.mv_data = kbuf;
	CHECK(mdb_put(txn, v.dbi[DBI_DOCS], &k, &d, 0) == 0);
	CHECK(!get_is(&v, txn, DBI_DOCS, "c\0b", 3, "document a", 10));
	{
		MDB_val pk = {3, "c\0b"}, out;

		CHECK(nedb__kv_get(&v, txn, DBI_DOCS, &pk, &out) ==
		      NEDB_ECORRUPT);
	}
	/* one flipped byte of c/a's value */
	memcpy(dbuf, abuf, da.mv_size);
	dbuf[20] ^= 1;
	d.mv_data = dbuf;
	CHECK(mdb_cursor_open(txn, v.dbi[DBI_DOCS], &raw) == 0);
	CHECK(mdb_cursor_get(raw, &ka, &da, MDB_FIRST) == 0);
	CHECK(mdb_cursor_put(raw, &ka, &d, MDB_CURRENT) == 0);
	mdb_cursor_close(raw);
	{
		MDB_val pk = {3, "c\0a"}, out;
		struct kvcur cur;

		CHECK(nedb__kv_get(&v, txn, DBI_DOCS, &pk, &out) ==
		      NEDB_ECORRUPT);
		CHECK(strstr(nedb_errmsg(), "'docs'") != NULL);
		CHECK(nedb__kv_copen(&cur, &v, txn, DBI_DOCS) == 0);
		CHECK(nedb__kv_cget(&cur, &pk, &out, MDB_FIRST) ==
		      NEDB_ECORRUPT);
		nedb__kv_cclose(&cur);
	}
	/* a flipped byte of a key (its ciphertext after the iv): the key
	 * no longer matches its iv */
	CHECK(put(&v, txn, DBI_COLLS, "zz", 2, "12345678", 8) == 0);
	CHECK(mdb_cursor_open(txn, v.dbi[DBI_COLLS], &raw) == 0);
	CHECK(mdb_cursor_get(raw, &k, &d, MDB_FIRST) == 0);
	memcpy(kbuf, k.mv_data, k.mv_size);
	kbuf[KV_IV_LEN] ^= 1;
	k.mv_data = kbuf;
	CHECK(mdb_cursor_del(raw, 0) == 0);
	CHECK(mdb_cursor_put(raw, &k, &d, 0) == 0);
	mdb_cursor_close(raw);
	{
		MDB_val pk, out;
		struct kvcur cur;

		CHECK(nedb__kv_copen(&cur, &v, txn, DBI_COLLS) == 0);
		CHECK(nedb__kv_cget(&cur, &pk, &out, MDB_FIRST) ==
		      NEDB_ECORRUPT);
		nedb__kv_cclose(&cur);
	}
	/* a flipped byte of a document's key, whose iv a cursor does not
	 * check (its sealed value names the key): the value's open fails */
	CHECK(put(&v, txn, DBI_DOCS, "d\0k", 3, "document k", 10) == 0);
	CHECK(mdb_cursor_open(txn, v.dbi[DBI_DOCS], &raw) == 0);
	CHECK(mdb_cursor_get(raw, &k, &d, MDB_LAST) == 0);
	memcpy(kbuf, k.mv_data, k.mv_size);
	memcpy(dbuf, d.mv_data, d.mv_size);
	kbuf[k.mv_size - 1] ^= 1;
	k.mv_data = kbuf;
	d.mv_data = dbuf;
	CHECK(mdb_cursor_del(raw, 0) == 0);
	CHECK(mdb_cursor_put(raw, &k, &d, 0) == 0);
	mdb_cursor_close(raw);
	{
		MDB_val pk, out;
		struct kvcur cur;
		int rc = 0, n = 0;

		CHECK(nedb__kv_copen(&cur, &v, txn, DBI_DOCS) == 0);
		for (MDB_cursor_op op = MDB_FIRST; n < 10; op = MDB_NEXT, n++)
			if ((rc = nedb__kv_cget(&cur, &pk, &out, op)) &&
			    rc != NEDB_ECORRUPT)
				break;
			else if (rc == 0)
				CHECK(pk.mv_size != 3 ||
				      memcmp(pk.mv_data, "d\0j", 3));
		nedb__kv_cclose(&cur);
	}
	mdb_txn_abort(txn);
	view_free(&v, &c);
}

static void
test_two_keys_at_once(void)
{
	struct view a, b;
	struct nedb_crypt ca, cb;
	char pa[256], pb[256];
	MDB_txn *ta, *tb;

	view_new(&a, &ca, 5, pa);
	view_new(&b, &cb, 6, pb);
	fill(&a);
	CHECK(mdb_txn_begin(a.env, NULL, 0, &ta) == 0);
	CHECK(mdb_txn_begin(b.env, NULL, 0, &tb) == 0);
	for (int i = 0; i < 200; i++) {
		char k[16];
		int n = snprintf(k, sizeof k, "k%03d", (i * 7) % 200);

		CHECK(put(&b, tb, DBI_COLLS, k, (size_t)n, "b", 1) == 0);
		CHECK(put(&a, ta, DBI_COLLS, k, (size_t)n, "a", 1) == 0);
		CHECK(get_is(&b, tb, DBI_COLLS, k, (size_t)n, "b", 1));
	}
	CHECK(mdb_txn_commit(ta) == 0);
	CHECK(mdb_txn_commit(tb) == 0);
	CHECK(walk_check(&a) == 0);
	CHECK(mdb_txn_begin(b.env, NULL, MDB_RDONLY, &tb) == 0);
	{
		struct kvcur cur;
		MDB_val k, d;
		int i = 0;

		CHECK(nedb__kv_copen(&cur, &b, tb, DBI_COLLS) == 0);
		while (!nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
			char want[16];

			snprintf(want, sizeof want, "k%03d", i++);
			CHECK(k.mv_size == 4 && !memcmp(k.mv_data, want, 4));
		}
		CHECK(i == 200);
		nedb__kv_cclose(&cur);
	}
	mdb_txn_abort(tb);
	/* a's file opened with b's keys: its values do not open */
	nedb__view_close(&a);
	{
		MDB_txn *txn;
		MDB_val k = {4, "k001"}, d;

		CHECK(nedb__view_open(&a, pa, MDB_NOSYNC, &cb) == 0);
		CHECK(mdb_txn_begin(a.env, NULL, MDB_RDONLY, &txn) == 0);
		CHECK(nedb__view_dbis(&a, txn, false) == 0);
		CHECK(nedb__kv_get(&a, txn, DBI_COLLS, &k, &d) != 0);
		mdb_txn_abort(txn);
	}
	view_free(&a, &ca);
	view_free(&b, &cb);
}

static void *
reader(void *p)
{
	struct view *v = p;
	intptr_t bad = 0;

	for (int i = 0; i < 20; i++)
		bad += walk_check(v);
	return (void *)bad;
}

static void
test_concurrent_readers(void)
{
	struct view v;
	struct nedb_crypt c;
	char path[256];
	pthread_t t[2];
	void *r[2];

	view_new(&v, &c, 7, path);
	fill(&v);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, reader, &v) == 0);
	for (int i = 0; i < 2; i++) {
		CHECK(pthread_join(t[i], &r[i]) == 0);
		CHECK(r[i] == NULL);
	}
	view_free(&v, &c);
}

/* A key too long once its iv is added is refused, not cut. */
static void
test_key_limit(void)
{
	struct view v;
	struct nedb_crypt c;
	char path[256], big[KV_KEY_MAX];
	MDB_txn *txn;

	memset(big, 'x', sizeof big);
	view_new(&v, &c, 8, path);
	CHECK(mdb_txn_begin(v.env, NULL, 0, &txn) == 0);
	CHECK(put(&v, txn, DBI_DOCS, big, KV_KEY_MAX - KV_IV_LEN, "", 0) ==
	      0);
	CHECK(put(&v, txn, DBI_DOCS, big, KV_KEY_MAX - KV_IV_LEN + 1, "",
		  0) == NEDB_EINPUT);
	mdb_txn_abort(txn);
	view_free(&v, &c);
}

/* The block function under the keys' CTR (libcrypto's): FIPS-197's
 * AES-256 example (appendix C.3), and many blocks at once. */
static void
test_ecb_known_answer(void)
{
	static const unsigned char want[16] = {
		0x8e, 0xa2, 0xb7, 0xca, 0x51, 0x67, 0x45, 0xbf,
		0xea, 0xfc, 0x49, 0x90, 0x4b, 0x49, 0x60, 0x89
	};
	unsigned char key[32], pt[16 * 33], ct[16 * 33];
	nedb_ecb *e;

	for (int i = 0; i < 32; i++)
		key[i] = (unsigned char)i;
	for (int i = 0; i < 16; i++)
		pt[i] = (unsigned char)(i * 0x11);
	for (int b = 1; b < 33; b++)
		memcpy(pt + 16 * b, pt, 16);
	CHECK(nedb__ecb_new(&e, key) == 0);
	CHECK(nedb__ecb(e, ct, pt, sizeof pt) == 0);
	for (int b = 0; b < 33; b++)
		CHECK(!memcmp(ct + 16 * b, want, 16));
	CHECK(nedb__ecb(e, ct, pt, 15) == NEDB_EUSAGE);
	nedb__ecb_free(e);
}

int
main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	make_keys();
	RUN(test_ecb_known_answer);
	RUN(test_round_trip);
	RUN(test_plaintext_order);
	RUN(test_dupsort_delete_one);
	RUN(test_sealed_read_back);
	RUN(test_append_order);
	RUN(test_tamper_refused);
	RUN(test_two_keys_at_once);
	RUN(test_concurrent_readers);
	RUN(test_key_limit);
	{
		char cmd[200];

		snprintf(cmd, sizeof cmd, "rm -rf %s", root);
		if (system(cmd))
			return 1;
	}
	UNIT_DONE();
}
