/*
 * kv.h - every read and write of the view's tables goes through here: for
 * a plaintext view the mdb_* call itself (an inline branch, nothing
 * more), for an encrypted one (v->crypt set: SPEC §8, issue #11) the same
 * call on encrypted bytes, with plaintext in and plaintext out.  Callers
 * keep building and parsing plaintext keys with codec.h and never see a
 * ciphertext.
 *
 * What an encrypted view stores (kv.c has the reasons):
 *  - Secret keys (names, ids, index entries, tokens) deterministically:
 *    E(k) = iv ‖ AES-256-CTR(k) with iv the first 12 bytes of a keyed
 *    BLAKE2b of the table's tag and k, so that an exact lookup finds E(k).
 *    Each table is given a comparator that orders keys by their
 *    plaintext, so every prefix scan, range and ordered walk is the
 *    plaintext's, unchanged.  The keys of seqs, nodeids and meta (be64
 *    numbers, fixed names) stay as they are.
 *  - Values that hold names or text (docs, idem, nodeids, seqs, meta)
 *    sealed with AES-256-GCM, the table's tag and the plaintext key as
 *    associated data: a value moved to another key does not open.
 *    The duplicates of idxdef and idx (index kinds, ids) are encrypted
 *    as keys are, so that one duplicate can be found and deleted.
 *    Counts, nonces, node numbers, seqs of edges and of the times
 *    table, and version kinds stay plaintext.
 *
 * Calls take the table's index (DBI_*) rather than its MDB_dbi: the
 * index says how its bytes are encrypted.  They return what the mdb_*
 * call returns (0, MDB_NOTFOUND, another LMDB code), or for an encrypted
 * view also a negative NEDB_E* code with its message set: NEDB_ECORRUPT
 * when a stored key or value does not decrypt or authenticate (named by
 * table: never returned as data), NEDB_EIO when libcrypto fails,
 * NEDB_EINPUT when a key would not fit once encrypted.  nedb__mdb and
 * nedb__mdb_end pass NEDB_E* codes through.
 *
 * Lifetime of what a read returns: for a plaintext view, LMDB's rule
 * (valid until the transaction ends or the next write).  For an
 * encrypted view the plaintext is decrypted into a buffer the view owns:
 *  - nedb__kv_get's data: valid until the next nedb__kv_get on the SAME
 *    TABLE through the same view (or nedb__kv_close);
 *  - a cursor's key and data: valid until the next nedb__kv_cget on the
 *    same cursor, or its nedb__kv_cclose.
 * A span kept past that must be copied first.  Writes (put, del) never
 * disturb what a read returned.  Builds with AddressSanitizer hand out
 * a fresh allocation on every read and free the previous one, so that a
 * span used past its lifetime is caught by the suite rather than read
 * as stale bytes.
 *
 * Threads: a struct view is used by one thread at a time (as the handle
 * that holds it is), except that cursors and their reads may run in
 * several threads at once, each on its own read transaction: the
 * comparators LMDB calls, and every cipher context, are per thread.
 */
#ifndef NEDB_KV_H
#define NEDB_KV_H

#include "internal.h"

#define KV_IV_LEN 12			/* the iv before an encrypted key */
#define KV_KEY_MAX 511			/* LMDB's key (and dupsort) limit */

/* A buffer the view owns for decrypted bytes. */
struct kvbuf {
	unsigned char *p;
	size_t cap;
};

/*
 * Sets up the view's encryption (a comparator slot: kv.c) when v->crypt
 * is set; nothing otherwise.  nedb__view_open calls it, and
 * nedb__view_close calls nedb__kv_close.  NEDB_EBUSY when every slot is
 * in use (more encrypted views open at once than KV_SLOTS).
 */
int nedb__kv_open(struct view *v);
void nedb__kv_close(struct view *v);
/* Gives table t its comparators, right after mdb_dbi_open (LMDB wants
 * them before the first use in every process). */
int nedb__kv_dbi(struct view *v, MDB_txn *txn, int t);

int nedb__kv_get_enc(struct view *v, MDB_txn *txn, int t, MDB_val *k,
		     MDB_val *d);
int nedb__kv_put_enc(struct view *v, MDB_txn *txn, int t, MDB_val *k,
		     MDB_val *d, unsigned flags);
int nedb__kv_del_enc(struct view *v, MDB_txn *txn, int t, MDB_val *k,
		     MDB_val *d);

/* mdb_get: d as above. */
static inline int
nedb__kv_get(struct view *v, MDB_txn *txn, int t, MDB_val *k, MDB_val *d)
{
	if (!v->crypt)
		return mdb_get(txn, v->dbi[t], k, d);
	return nedb__kv_get_enc(v, txn, t, k, d);
}

/*
 * mdb_put.  flags as LMDB's, but MDB_RESERVE is refused for an encrypted
 * view (the value is sealed from the caller's bytes), and MDB_APPEND is
 * only valid where keys come in plaintext order (the comparator orders
 * ciphertexts so).  k and d are not changed.
 */
static inline int
nedb__kv_put(struct view *v, MDB_txn *txn, int t, MDB_val *k, MDB_val *d,
	     unsigned flags)
{
	if (!v->crypt)
		return mdb_put(txn, v->dbi[t], k, d, flags);
	return nedb__kv_put_enc(v, txn, t, k, d, flags);
}

/* mdb_del: d NULL, or the duplicate to delete (idxdef, idx). */
static inline int
nedb__kv_del(struct view *v, MDB_txn *txn, int t, MDB_val *k, MDB_val *d)
{
	if (!v->crypt)
		return mdb_del(txn, v->dbi[t], k, d);
	return nedb__kv_del_enc(v, txn, t, k, d);
}

/* A cursor on one table, with the buffers its reads decrypt into. */
struct kvcur {
	MDB_cursor *c;
	struct view *v;
	int t;
	struct kvbuf k, d;
};

int nedb__kv_cget_enc(struct kvcur *c, MDB_val *k, MDB_val *d,
		      MDB_cursor_op op);
void nedb__kv_cclose_enc(struct kvcur *c);

/* mdb_cursor_open on table t. */
static inline int
nedb__kv_copen(struct kvcur *c, struct view *v, MDB_txn *txn, int t)
{
	c->v = v;
	c->t = t;
	c->k.p = c->d.p = NULL;
	c->k.cap = c->d.cap = 0;
	return mdb_cursor_open(txn, v->dbi[t], &c->c);
}

/*
 * mdb_cursor_get.  The ops that take a key (MDB_SET, MDB_SET_KEY,
 * MDB_SET_RANGE, MDB_GET_BOTH, MDB_GET_BOTH_RANGE) take it in plaintext;
 * what comes back is plaintext, valid as the top of this file says.
 */
static inline int
nedb__kv_cget(struct kvcur *c, MDB_val *k, MDB_val *d, MDB_cursor_op op)
{
	if (!c->v->crypt)
		return mdb_cursor_get(c->c, k, d, op);
	return nedb__kv_cget_enc(c, k, d, op);
}

/* mdb_cursor_del, mdb_cursor_count: nothing to encrypt. */
static inline int
nedb__kv_cdel(struct kvcur *c, unsigned flags)
{
	return mdb_cursor_del(c->c, flags);
}

static inline int
nedb__kv_ccount(struct kvcur *c, size_t *n)
{
	return mdb_cursor_count(c->c, n);
}

/* mdb_cursor_close, and the cursor's buffers freed. */
static inline void
nedb__kv_cclose(struct kvcur *c)
{
	mdb_cursor_close(c->c);
	if (c->v->crypt)
		nedb__kv_cclose_enc(c);
}

#endif
