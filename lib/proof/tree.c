/*
 * tree.c - the Merkle tree over the ops (SPEC §9, tree.h): its upkeep by
 * apply() and the generation of roots and proofs.  Checking a proof is
 * someone else's job (nedb-proof verify, Go's sumdb/tlog): nothing here
 * trusts a hash it did not read from the view.
 *
 * The hashes are RFC 6962's:
 *
 *     leaf(i)       = SHA-256(0x00 || hash of op seq i)      (32 bytes)
 *     node(l, r)    = SHA-256(0x01 || l || r)
 *     MTH(D[lo:hi]) = node(MTH(D[lo:lo+k]), MTH(D[lo+k:hi])), k the
 *                     largest power of two below hi - lo
 *
 * The table "tree" of the view holds, for every complete subtree (2^level
 * leaves starting at a multiple of 2^level) of level TREE_TILE or more,
 * its hash under be64 of tlog's StoredHashIndex(level, n); a smaller
 * one is hashed from its ops' hashes in seqs when asked for (read_hash).
 * The algorithms below are those of golang.org/x/mod/sumdb/tlog
 * (TreeHash, ProveRecord, ProveTree) over that storage, so that their
 * output is what tlog's checkers expect.
 *
 * Invariants:
 *  1. After apply() of ops 0..N-1 the table holds exactly the hashes of
 *     the complete subtrees of level TREE_TILE or more of the tree of
 *     size N: a function of the op hashes only, rebuilt with the view
 *     and compared by nedb-verify --determinism.
 *  2. The hashes an op adds are stored in increasing key order, after
 *     every earlier op's (MDB_APPEND), in the op's own transaction.
 *  3. A root or proof for size N reads only complete subtrees within
 *     ops 0..N-1, each at most once: O(log N) stored hashes, and op
 *     hashes of the few tiles the path crosses, consistent within one
 *     snapshot.
 *  4. Only an op that completes a tile hashes anything on the write
 *     path: the other writers never load libcrypto for the tree.
 */
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "kv.h"
#include "tree.h"
#include "verify.h"

#define TREE_DEPTH 64			/* levels a uint64_t size can have */

uint64_t
nedb__tree_index(unsigned level, uint64_t n)
{
	uint64_t i = 0;

	/* level L's n'th hash is stored right after level L+1's
	 * (2n+1)'th: work down to level 0's order */
	for (unsigned l = level; l > 0; l--)
		n = 2 * n + 1;
	/* level 0's n'th hash is stored at n + n/2 + n/4 + ... */
	for (; n > 0; n >>= 1)
		i += n;
	return i + level;
}

/* out = SHA-256(0x01 || l || r); out may be l or r. */
static int
node_hash(unsigned char out[TREE_HASH_LEN],
	  const unsigned char l[TREE_HASH_LEN],
	  const unsigned char r[TREE_HASH_LEN])
{
	unsigned char b[1 + 2 * TREE_HASH_LEN];

	b[0] = 0x01;
	memcpy(b + 1, l, TREE_HASH_LEN);
	memcpy(b + 1 + TREE_HASH_LEN, r, TREE_HASH_LEN);
	return nedb__sha256(out, b, sizeof b);
}

/*
 * The hash of the complete subtree of 2^level ops from n * 2^level,
 * level below TREE_TILE: its ops' hashes read from seqs (one cursor
 * walk), their leaf hashes folded pairwise.
 */
static int
tile_hash(struct view *v, MDB_txn *txn, unsigned level, uint64_t n,
	  unsigned char out[TREE_HASH_LEN])
{
	unsigned char h[1 << TREE_TILE][TREE_HASH_LEN], sk[8];
	unsigned char b[1 + HASH_LEN];
	uint64_t first = n << level, w = (uint64_t)1 << level;
	MDB_val k = {sizeof sk, sk}, d;
	struct kvcur c;
	int rc;

	nedb__seqkey(sk, first);
	if ((rc = nedb__kv_copen(&c, v, txn, DBI_SEQS)))
		return nedb__mdb(rc, "cannot read view");
	b[0] = 0x00;
	for (uint64_t i = 0; i < w; i++) {
		rc = nedb__kv_cget(&c, &k, &d, i ? MDB_NEXT : MDB_SET_KEY);
		if (!rc && (k.mv_size != 8 ||
			    nedb__seqkey_get(k.mv_data) != first + i ||
			    d.mv_size != sizeof(struct seqent)))
			rc = MDB_NOTFOUND;
		if (rc) {
			rc = rc == MDB_NOTFOUND ? nedb__err(NEDB_ECORRUPT,
				"corrupt view: no record of op %llu; run "
				"nedb-checkpoint --rebuild",
				(unsigned long long)(first + i)) :
			     nedb__mdb(rc, "cannot read view");
			break;
		}
		memcpy(b + 1, ((const struct seqent *)d.mv_data)->hash,
		       HASH_LEN);
		if ((rc = nedb__sha256(h[i], b, sizeof b)))
			break;
	}
	nedb__kv_cclose(&c);
	for (; !rc && w > 1; w /= 2)
		for (uint64_t i = 0; !rc && i < w / 2; i++)
			rc = node_hash(h[i], h[2 * i], h[2 * i + 1]);
	if (!rc)
		memcpy(out, h[0], TREE_HASH_LEN);
	return rc;
}

/* The hash of complete subtree n of level: stored, or below a tile's
 * top computed from its ops. */
static int
read_hash(struct view *v, MDB_txn *txn, unsigned level, uint64_t n,
	  unsigned char out[TREE_HASH_LEN])
{
	unsigned char key[8];
	MDB_val k = {sizeof key, key}, d;
	int rc;

	if (level < TREE_TILE)
		return tile_hash(v, txn, level, n, out);
	nedb__put_be64(key, nedb__tree_index(level, n));
	rc = nedb__kv_get(v, txn, DBI_TREE, &k, &d);
	if (rc == MDB_NOTFOUND || (!rc && d.mv_size != TREE_HASH_LEN))
		return nedb__err(NEDB_ECORRUPT, "corrupt view: tree node "
				 "%u/%llu is %s; run nedb-checkpoint "
				 "--rebuild", level, (unsigned long long)n,
				 rc ? "missing" : "malformed");
	if (rc)
		return nedb__mdb(rc, "cannot read view");
	memcpy(out, d.mv_data, TREE_HASH_LEN);
	return 0;
}

int
nedb__tree_append(struct view *v, MDB_txn *txn, uint64_t seq)
{
	unsigned char l[TREE_HASH_LEN], h[TREE_HASH_LEN], key[8];
	MDB_val k = {sizeof key, key}, d = {TREE_HASH_LEN, h};
	uint64_t at;
	int rc;

	/* only the op that completes a tile stores anything (so only it
	 * loads libcrypto): the tile's top... */
	if ((seq + 1) % ((uint64_t)1 << TREE_TILE))
		return 0;
	if ((rc = tile_hash(v, txn, TREE_TILE, seq >> TREE_TILE, h)))
		return rc;
	at = nedb__tree_index(TREE_TILE, seq >> TREE_TILE);
	/* ...then each further trailing 1 bit of seq completes a subtree,
	 * whose left half is the stored node just before it on that level */
	for (unsigned lv = TREE_TILE;; lv++) {
		nedb__put_be64(key, at++);
		if ((rc = nedb__kv_put(v, txn, DBI_TREE, &k, &d,
				       MDB_APPEND)))
			return nedb__mdb(rc, "cannot write view");
		if (!(seq >> lv & 1))
			return 0;
		if ((rc = read_hash(v, txn, lv, (seq >> lv) - 1, l)) ||
		    (rc = node_hash(h, l, h)))
			return rc;
	}
}

/* The level of k, the largest power of two smaller than n (n >= 2). */
static unsigned
maxpow2(uint64_t n)
{
	unsigned l = 0;

	while (l + 1 < TREE_DEPTH && ((uint64_t)1 << (l + 1)) < n)
		l++;
	return l;
}

/*
 * Where a root or a proof reads its complete subtrees from: the view's
 * tree of the ops (read_hash), or a caller's function over leaves held
 * elsewhere (nedb__tree_prove_fn: a file version's chunk list).
 */
struct reader {
	struct view *v;
	MDB_txn *txn;
	nedb__tree_hash_fn fn;		/* NULL: the view's */
	void *payload;
	unsigned char (*path)[TREE_HASH_LEN];
	size_t n, cap;
};

static int
reader_hash(struct reader *r, unsigned level, uint64_t n,
	    unsigned char out[TREE_HASH_LEN])
{
	if (r->fn)
		return r->fn(r->payload, level, n, out);
	return read_hash(r->v, r->txn, level, n, out);
}

/* MTH(D[lo:hi]), lo < hi, lo a multiple of the largest power of two not
 * above hi - lo (tlog's subTreeHash): its complete subtrees, left to
 * right, folded from the right. */
static int
subtree(struct reader *r, uint64_t lo, uint64_t hi,
	unsigned char out[TREE_HASH_LEN])
{
	unsigned char h[TREE_DEPTH][TREE_HASH_LEN];
	int m = 0, rc;

	do {
		unsigned l = maxpow2(hi - lo + 1);

		if ((rc = reader_hash(r, l, lo >> l, h[m++])))
			return rc;
		lo += (uint64_t)1 << l;
	} while (lo < hi);
	memcpy(out, h[m - 1], TREE_HASH_LEN);
	for (int i = m - 2; i >= 0; i--)
		if ((rc = node_hash(out, h[i], out)))
			return rc;
	return 0;
}

static void
path_add(struct reader *r, const unsigned char h[TREE_HASH_LEN])
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 16;
		r->path = nedb__realloc(r->path, r->cap * sizeof *r->path);
	}
	memcpy(r->path[r->n++], h, TREE_HASH_LEN);
}

/* The audit path of leaf n within D[lo:hi] (RFC 6962 §2.1.1; tlog's
 * leafProof), bottom up. */
static int
leaf_proof(struct reader *r, uint64_t lo, uint64_t hi, uint64_t n)
{
	unsigned char th[TREE_HASH_LEN];
	uint64_t k;
	int rc;

	if (lo + 1 == hi)
		return 0;
	k = (uint64_t)1 << maxpow2(hi - lo);
	if (n < lo + k) {
		if ((rc = leaf_proof(r, lo, lo + k, n)) ||
		    (rc = subtree(r, lo + k, hi, th)))
			return rc;
	} else if ((rc = subtree(r, lo, lo + k, th)) ||
		   (rc = leaf_proof(r, lo + k, hi, n)))
		return rc;
	path_add(r, th);
	return 0;
}

/* SUBPROOF(m, D[lo:hi]) of RFC 6962 §2.1.2 (tlog's treeProof), m the
 * old size, lo < m <= hi. */
static int
tree_proof(struct reader *r, uint64_t lo, uint64_t hi, uint64_t m)
{
	unsigned char th[TREE_HASH_LEN];
	uint64_t k;
	int rc;

	if (m == hi) {
		/* the old tree itself: the verifier has its root */
		if (lo == 0)
			return 0;
		if ((rc = subtree(r, lo, hi, th)))
			return rc;
		path_add(r, th);
		return 0;
	}
	k = (uint64_t)1 << maxpow2(hi - lo);
	if (m <= lo + k) {
		if ((rc = tree_proof(r, lo, lo + k, m)) ||
		    (rc = subtree(r, lo + k, hi, th)))
			return rc;
	} else if ((rc = subtree(r, lo, lo + k, th)) ||
		   (rc = tree_proof(r, lo + k, hi, m)))
		return rc;
	path_add(r, th);
	return 0;
}

static int
root(struct reader *r, uint64_t size, unsigned char out[TREE_HASH_LEN])
{
	if (!size)
		return nedb__sha256(out, "", 0);	/* RFC 6962: MTH({}) */
	return subtree(r, 0, size, out);
}

/* Starts a reader on the snapshot; *count gets its number of ops. */
static int
reader_begin(nedb *db, struct reader *r, uint64_t *count)
{
	struct applied a;
	int rc;

	memset(r, 0, sizeof *r);
	r->v = &db->view;
	if ((rc = nedb__txn(db, &r->txn)))
		return rc;
	if (db->wtxn)
		a = db->wa;
	else if (nedb__view_applied(&db->view, r->txn, &a)) {
		nedb__txn_done(db, r->txn);
		return nedb__err(NEDB_ECORRUPT, "view has no head");
	}
	*count = a.seq + 1;
	return 0;
}

static int
check_size(uint64_t *size, uint64_t count)
{
	if (*size == NEDB_HEAD)
		*size = count;
	else if (*size > count)
		return nedb__err(NEDB_EUSAGE, "size %llu is beyond the log: "
				 "it has %llu ops", (unsigned long long)*size,
				 (unsigned long long)count);
	return 0;
}

int
nedb_tree_size(nedb *db, uint64_t *out)
{
	struct reader r;
	int rc;

	if ((rc = reader_begin(db, &r, out)))
		return rc;
	nedb__txn_done(db, r.txn);
	return 0;
}

int
nedb_tree_root(nedb *db, uint64_t *size, unsigned char out[NEDB_TREE_HASH])
{
	struct reader r;
	uint64_t count;
	int rc;

	if ((rc = reader_begin(db, &r, &count)))
		return rc;
	if (!(rc = check_size(size, count)))
		rc = root(&r, *size, out);
	nedb__txn_done(db, r.txn);
	return rc;
}

static void
proof_take(nedb_proof *p, struct reader *r)
{
	p->path = r->path;
	p->n = r->n;
	r->path = NULL;
}

int
nedb_prove_inclusion(nedb *db, uint64_t seq, uint64_t size, nedb_proof *out)
{
	unsigned char sk[8];
	MDB_val k = {sizeof sk, sk}, d;
	struct reader r;
	uint64_t count;
	int rc;

	memset(out, 0, sizeof *out);
	out->kind = NEDB_PROOF_INCLUSION;
	if ((rc = reader_begin(db, &r, &count)))
		return rc;
	if ((rc = check_size(&size, count)))
		goto done;
	if (seq >= size) {
		rc = nedb__err(NEDB_EUSAGE, "seq %llu is not in the tree of "
			       "size %llu (it covers seqs 0 to %llu)",
			       (unsigned long long)seq,
			       (unsigned long long)size,
			       (unsigned long long)size - 1);
		goto done;
	}
	out->seq = seq;
	out->size = size;
	nedb__seqkey(sk, seq);
	rc = nedb__kv_get(r.v, r.txn, DBI_SEQS, &k, &d);
	if (!rc && d.mv_size != sizeof(struct seqent))
		rc = MDB_NOTFOUND;
	if (rc) {
		rc = rc == MDB_NOTFOUND ? nedb__err(NEDB_ECORRUPT, "corrupt "
			"view: no record of op %llu; run nedb-checkpoint "
			"--rebuild", (unsigned long long)seq) :
		     nedb__mdb(rc, "cannot read view");
		goto done;
	}
	memcpy(out->leaf, ((const struct seqent *)d.mv_data)->hash,
	       HASH_LEN);
	if (!(rc = leaf_proof(&r, 0, size, seq)))
		rc = root(&r, size, out->root);
done:
	proof_take(out, &r);
	nedb__txn_done(db, r.txn);
	return rc;
}

int
nedb_prove_consistency(nedb *db, uint64_t old, uint64_t size,
		       nedb_proof *out)
{
	struct reader r;
	uint64_t count;
	int rc;

	memset(out, 0, sizeof *out);
	out->kind = NEDB_PROOF_CONSISTENCY;
	if ((rc = reader_begin(db, &r, &count)))
		return rc;
	if ((rc = check_size(&size, count)))
		goto done;
	if (old == 0 || old > size) {
		rc = nedb__err(NEDB_EUSAGE, "bad old size %llu: want 1 to the "
			       "new size %llu", (unsigned long long)old,
			       (unsigned long long)size);
		goto done;
	}
	out->old = old;
	out->size = size;
	if (!(rc = tree_proof(&r, 0, size, old)) &&
	    !(rc = root(&r, old, out->old_root)))
		rc = root(&r, size, out->root);
done:
	proof_take(out, &r);
	nedb__txn_done(db, r.txn);
	return rc;
}

void
nedb_proof_free(nedb_proof *p)
{
	if (!p)
		return;
	free(p->path);
	p->path = NULL;
	p->n = 0;
}

static void
add_hex(nedb_buf *out, const char *key, const unsigned char *h)
{
	char hex[2 * TREE_HASH_LEN + 1];

	nedb__hex(hex, h, TREE_HASH_LEN);
	nedb_buf_printf(out, ",\"%s\":\"%s\"", key, hex);
}

int
nedb_proof_json(nedb_buf *out, const nedb_proof *p)
{
	char hex[2 * TREE_HASH_LEN + 1];

	if (p->kind == NEDB_PROOF_INCLUSION) {
		nedb_buf_printf(out, "{\"seq\":%llu,\"size\":%llu",
				(unsigned long long)p->seq,
				(unsigned long long)p->size);
		add_hex(out, "leaf", p->leaf);
		add_hex(out, "root", p->root);
	} else if (p->kind == NEDB_PROOF_CONSISTENCY) {
		nedb_buf_printf(out, "{\"old\":%llu,\"new\":%llu",
				(unsigned long long)p->old,
				(unsigned long long)p->size);
		add_hex(out, "old_root", p->old_root);
		add_hex(out, "new_root", p->root);
	} else
		return nedb__err(NEDB_EUSAGE, "not a proof");
	nedb_buf_puts(out, ",\"proof\":[");
	for (size_t i = 0; i < p->n; i++) {
		nedb__hex(hex, p->path[i], TREE_HASH_LEN);
		nedb_buf_printf(out, "%s\"%s\"", i ? "," : "", hex);
	}
	return nedb_buf_puts(out, "]}");
}

/*
 * A tree over leaves the caller holds (tree.h): the same algorithms as
 * the ops' tree, reading complete subtrees through fn.
 */
int
nedb__tree_prove_fn(nedb__tree_hash_fn fn, void *payload, uint64_t size,
		    uint64_t index, unsigned char root_out[TREE_HASH_LEN],
		    unsigned char (**path)[TREE_HASH_LEN], size_t *n)
{
	struct reader r;
	int rc;

	memset(&r, 0, sizeof r);
	r.fn = fn;
	r.payload = payload;
	*path = NULL;
	*n = 0;
	if (index >= size)
		return nedb__err(NEDB_EUSAGE, "leaf %llu is not in a tree of "
				 "%llu leaves", (unsigned long long)index,
				 (unsigned long long)size);
	if (!(rc = leaf_proof(&r, 0, size, index)))
		rc = root(&r, size, root_out);
	if (rc) {
		free(r.path);
		return rc;
	}
	*path = r.path;
	*n = r.n;
	return 0;
}

int
nedb__tree_root_fn(nedb__tree_hash_fn fn, void *payload, uint64_t size,
		   unsigned char out[TREE_HASH_LEN])
{
	struct reader r;

	memset(&r, 0, sizeof r);
	r.fn = fn;
	r.payload = payload;
	return root(&r, size, out);
}

/*
 * The compact range [0, size): the roots of the complete subtrees the
 * leaves so far make, largest (leftmost) first, one per set bit of size.
 * A new leaf merges with the subtrees its arrival completes, as an
 * increment carries through the low set bits.
 */
int
nedb__tree_range_add(struct nedb_tree_range *r, const void *data, size_t n)
{
	unsigned char h[TREE_HASH_LEN];
	uint64_t s = r->size;
	int rc;

	if ((rc = nedb__tlog_leaf(h, data, n)))
		return rc;
	while (s & 1) {
		if ((rc = node_hash(h, r->h[--r->n], h)))
			return rc;
		s >>= 1;
	}
	memcpy(r->h[r->n++], h, TREE_HASH_LEN);
	r->size++;
	return 0;
}

int
nedb__tree_range_root(const struct nedb_tree_range *r,
		      unsigned char out[TREE_HASH_LEN])
{
	int rc;

	if (!r->n)
		return nedb__sha256(out, "", 0);	/* RFC 6962: MTH({}) */
	memcpy(out, r->h[r->n - 1], TREE_HASH_LEN);
	for (unsigned i = r->n - 1; i-- > 0;)
		if ((rc = node_hash(out, r->h[i], out)))
			return rc;
	return 0;
}
