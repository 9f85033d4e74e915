/*
 * tree.h - the Merkle tree over the ops (SPEC §9): RFC 6962 / RFC 9162
 * §2.1 with SHA-256, entry i the 32 raw bytes of op seq i's hash, as
 * Go's golang.org/x/mod/sumdb/tlog computes it.  Internal to libnedb;
 * the public calls (nedb_tree_root, nedb_prove_*) are in nedb.h.
 *
 * Storage, in tiles of 2^TREE_TILE ops as C2SP tlog-tiles has them:
 * the view's table "tree" holds the hash of every complete subtree of
 * at least a tile (level >= TREE_TILE), keyed by be64 of tlog's
 * StoredHashIndex(level, n) (the dense order of Crosby and Wallach, in
 * which an op's hashes come after the previous op's: every write
 * appends).  Subtrees within a tile are hashed when needed from the
 * ops' hashes, which seqs already keeps.  apply() adds the hashes in
 * the same LMDB transaction as the op that completes the tile, so any
 * root and any proof reads O(log N) stored hashes and at most a few
 * hundred op hashes; and 255 writes in 256 need no SHA-256 (no
 * libcrypto) at all.
 */
#ifndef NEDB_TREE_H
#define NEDB_TREE_H

#include "internal.h"

#define TREE_HASH_LEN 32		/* SHA-256 */
#define TREE_TILE 8			/* tiles of 256 ops: the levels below
					 * are not stored (nedb-format(5)) */

/* tlog.StoredHashIndex(level, n): where node n of level is stored. */
uint64_t nedb__tree_index(unsigned level, uint64_t n);

/*
 * Adds op seq to the tree in txn, after its seqs entry (whose hash is
 * the entry's data): when it completes a tile, the tile's hash and those
 * of the larger subtrees it completes; otherwise nothing.  Ops must come
 * in order of seq, each once (apply's order).  0, NEDB_EIO (libcrypto
 * cannot be loaded, LMDB), NEDB_ECORRUPT (a hash or op record it needs
 * is missing: a damaged view).
 */
int nedb__tree_append(struct view *v, MDB_txn *txn, uint64_t seq);

/*
 * Trees over other leaves (a file version's chunk list, lib/file): the
 * same RFC 6962 hashes, the same proof algorithms.  fn gives the hash of
 * the complete subtree of 2^level leaves from n * 2^level (for level 0,
 * SHA-256(0x00 || leaf n's data)); its errors are returned as they are.
 * nedb__tree_prove_fn: the audit path of leaf index in the tree of size
 * leaves, bottom up, in *path (caller frees; n hashes), and the root.
 * NEDB_EUSAGE when index is not below size.
 */
typedef int (*nedb__tree_hash_fn)(void *payload, unsigned level, uint64_t n,
				  unsigned char out[TREE_HASH_LEN]);
int nedb__tree_prove_fn(nedb__tree_hash_fn fn, void *payload, uint64_t size,
			uint64_t index, unsigned char root[TREE_HASH_LEN],
			unsigned char (**path)[TREE_HASH_LEN], size_t *n);
int nedb__tree_root_fn(nedb__tree_hash_fn fn, void *payload, uint64_t size,
		       unsigned char out[TREE_HASH_LEN]);

/*
 * A root computed as leaves stream by, in O(log n) memory: {0} is the
 * empty tree; _add appends a leaf whose data is data[0, n) (its leaf
 * hash SHA-256(0x00 || data)); _root is MTH of the leaves so far (SHA-256
 * of nothing for none).  NEDB_EIO when libcrypto cannot be loaded.
 */
struct nedb_tree_range {
	uint64_t size;
	unsigned n;
	unsigned char h[64][TREE_HASH_LEN];
};
int nedb__tree_range_add(struct nedb_tree_range *r, const void *data,
			 size_t n);
int nedb__tree_range_root(const struct nedb_tree_range *r,
			  unsigned char out[TREE_HASH_LEN]);

#endif
