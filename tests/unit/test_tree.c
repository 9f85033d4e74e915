/*
 * test_tree.c - the Merkle tree's storage (lib/proof/tree.c): tlog's
 * stored-hash order, every stored subtree (a tile of 256 ops or more)
 * equal to RFC 6962's MTH computed naively and nothing else stored,
 * appends in key order, a missing node or op record reported as damage,
 * and the same hashes in an encrypted view.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"
#include "crypt.h"
#include "codec.h"
#include "kv.h"
#include "tree.h"
#include "unit.h"

static char root[] = "/tmp/nedb-unit-tree-XXXXXX";
static int nview;

static void
view_new(struct view *v, struct nedb_crypt *c, int seed)
{
	unsigned char dek[NEDB_KEY_LEN];
	char path[256];
	MDB_txn *txn;

	memset(c, 0, sizeof *c);
	if (seed) {
		memset(dek, seed, sizeof dek);
		if (nedb__crypt_keys(c, dek))
			abort();
	}
	snprintf(path, sizeof path, "%s/v%d.mdb", root, nview++);
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

/* The made-up hash of op i. */
static void
op_hash(unsigned char out[HASH_LEN], uint64_t i)
{
	unsigned char b[8];

	nedb__put_be64(b, i);
	nedb__sha256(out, b, sizeof b);
}

/* RFC 6962's MTH of ops lo..hi-1, by its recursive definition. */
static void
mth(unsigned char out[32], uint64_t lo, uint64_t hi)
{
	unsigned char b[65];
	uint64_t k = 1;

	if (hi - lo == 1) {
		b[0] = 0;
		op_hash(b + 1, lo);
		nedb__sha256(out, b, 33);
		return;
	}
	while (k * 2 < hi - lo)
		k *= 2;
	b[0] = 1;
	mth(b + 1, lo, lo + k);
	mth(b + 33, lo + k, hi);
	nedb__sha256(out, b, 65);
}

/* tlog's StoredHashCount(n): every complete subtree. */
static uint64_t
stored_count(uint64_t n)
{
	uint64_t c;

	if (!n)
		return 0;
	c = nedb__tree_index(0, n - 1) + 1;
	for (uint64_t i = n - 1; i & 1; i >>= 1)
		c++;
	return c;
}

/* The first stored indexes, as tlog's TestSplitStoredHashIndex walks
 * them: each op adds its leaf, then the subtrees it completes. */
static void
test_index_order(void)
{
	static const struct { unsigned level; uint64_t n, at; } want[] = {
		{0, 0, 0}, {0, 1, 1}, {1, 0, 2}, {0, 2, 3}, {0, 3, 4},
		{1, 1, 5}, {2, 0, 6}, {0, 4, 7}, {0, 5, 8}, {1, 2, 9},
		{0, 6, 10}, {0, 7, 11}, {1, 3, 12}, {2, 1, 13}, {3, 0, 14},
	};
	uint64_t at = 0;

	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		CHECK(nedb__tree_index(want[i].level, want[i].n) ==
		      want[i].at);
	/* dense: op n's hashes come right after op n-1's */
	for (uint64_t n = 0; n < 5000; n++) {
		CHECK(nedb__tree_index(0, n) == at);
		at++;
		for (unsigned l = 0; n >> l & 1; l++)
			CHECK(nedb__tree_index(l + 1, n >> (l + 1)) == at++);
		CHECK(stored_count(n + 1) == at);
	}
}

/* Appends ops from..n-1 to v as apply does: its seqs entry (the op's
 * hash), then the tree. */
static int
append(struct view *v, uint64_t from, uint64_t n)
{
	unsigned char sk[8];
	struct seqent se;
	MDB_val k = {8, sk}, d = {sizeof se, &se};
	MDB_txn *txn;
	int rc = 0;

	memset(&se, 0, sizeof se);
	if (mdb_txn_begin(v->env, NULL, 0, &txn))
		return -100;
	for (uint64_t i = from; i < n && !rc; i++) {
		op_hash(se.hash, i);
		nedb__seqkey(sk, i);
		if (!(rc = nedb__kv_put(v, txn, DBI_SEQS, &k, &d,
					MDB_APPEND)))
			rc = nedb__tree_append(v, txn, i);
	}
	if (rc)
		mdb_txn_abort(txn);
	else if (mdb_txn_commit(txn))
		rc = -101;
	return rc;
}

/* Every stored hash is the MTH of its subtree, and only the subtrees of
 * a tile or more are stored. */
static void
check_nodes(struct view *v, uint64_t n)
{
	unsigned char key[8], want[32];
	MDB_val k = {8, key}, d;
	MDB_txn *txn;
	MDB_stat st;
	uint64_t count = 0;

	for (unsigned l = TREE_TILE; ((uint64_t)1 << l) <= n; l++)
		count += n >> l;
	CHECK(mdb_txn_begin(v->env, NULL, MDB_RDONLY, &txn) == 0);
	CHECK(mdb_stat(txn, v->dbi[DBI_TREE], &st) == 0);
	CHECK(st.ms_entries == count);
	for (unsigned l = TREE_TILE; ((uint64_t)1 << l) <= n; l++)
		for (uint64_t i = 0; (i + 1) << l <= n; i++) {
			nedb__put_be64(key, nedb__tree_index(l, i));
			mth(want, i << l, (i + 1) << l);
			CHECK(nedb__kv_get(v, txn, DBI_TREE, &k, &d) == 0 &&
			      d.mv_size == 32 && !memcmp(d.mv_data, want, 32));
		}
	mdb_txn_abort(txn);
}

static void
test_nodes(int seed)
{
	struct view v;
	struct nedb_crypt c;

	view_new(&v, &c, seed);
	CHECK(append(&v, 0, 1) == 0);
	check_nodes(&v, 1);
	CHECK(append(&v, 1, 255) == 0);
	check_nodes(&v, 255);
	CHECK(append(&v, 255, 256) == 0);
	check_nodes(&v, 256);
	CHECK(append(&v, 256, 1100) == 0);
	check_nodes(&v, 1100);
	view_free(&v, &c);
}

static void
test_plaintext_view(void)
{
	test_nodes(0);
}

static void
test_encrypted_view(void)
{
	test_nodes(3);
}

/* Deletes key k (8 bytes of be64 v) from table t. */
static void
drop(struct view *v, int t, uint64_t at)
{
	unsigned char key[8];
	MDB_val k = {8, key};
	MDB_txn *txn;

	nedb__put_be64(key, at);
	CHECK(mdb_txn_begin(v->env, NULL, 0, &txn) == 0);
	CHECK(nedb__kv_del(v, txn, t, &k, NULL) == 0);
	CHECK(mdb_txn_commit(txn) == 0);
}

/* A tile whose hash is gone from the table, or an op whose record is:
 * damage, not a made-up hash. */
static void
test_missing_node(void)
{
	struct view v;
	struct nedb_crypt c;

	view_new(&v, &c, 0);
	CHECK(append(&v, 0, 768) == 0);
	drop(&v, DBI_TREE, nedb__tree_index(TREE_TILE, 2));	/* ops 512-767 */
	CHECK(append(&v, 768, 1023) == 0);	/* no tile completed */
	CHECK(append(&v, 1023, 1024) == NEDB_ECORRUPT);	/* (8, 3) + (8, 2) */
	CHECK(strstr(nedb_errmsg(), "tree node 8/2 is missing") != NULL);
	view_free(&v, &c);

	view_new(&v, &c, 0);
	CHECK(append(&v, 0, 200) == 0);
	drop(&v, DBI_SEQS, 100);
	CHECK(append(&v, 200, 256) == NEDB_ECORRUPT);
	CHECK(strstr(nedb_errmsg(), "no record of op 100") != NULL);
	view_free(&v, &c);
}

/* A tile completed twice is refused (MDB_APPEND: keys only grow). */
static void
test_append_twice(void)
{
	struct view v;
	struct nedb_crypt c;
	MDB_txn *txn;

	view_new(&v, &c, 0);
	CHECK(append(&v, 0, 256) == 0);
	CHECK(mdb_txn_begin(v.env, NULL, 0, &txn) == 0);
	CHECK(nedb__tree_append(&v, txn, 255) != 0);
	mdb_txn_abort(txn);
	check_nodes(&v, 256);
	view_free(&v, &c);
}

int
main(void)
{
	char cmd[200];

	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_index_order);
	RUN(test_plaintext_view);
	RUN(test_encrypted_view);
	RUN(test_missing_node);
	RUN(test_append_twice);
	snprintf(cmd, sizeof cmd, "rm -rf %s", root);
	if (system(cmd))
		return 1;
	UNIT_DONE();
}
