/*
 * tree.h - the Merkle tree over the ops (SPEC §9): RFC 6962 / RFC 9162
 * §2.1 with SHA-256, entry i the 32 raw bytes of op seq i's hash, as
 * Go's golang.org/x/mod/sumdb/tlog computes it.  Internal to libnedb;
 * the public calls (nedb_tree_root, nedb_prove_*) are in nedb.h.
 *
 * Storage: the view's table "tree" holds the hash of every complete
 * subtree, keyed by be64 of tlog's StoredHashIndex(level, n) (the dense
 * order of Crosby and Wallach, in which an op's hashes come right after
 * the previous op's: every write appends).  apply() adds them in the
 * same LMDB transaction as the op, so any root and any proof reads
 * O(log N) stored hashes.
 */
#ifndef NEDB_TREE_H
#define NEDB_TREE_H

#include "internal.h"

#define TREE_HASH_LEN 32		/* SHA-256 */

/* tlog.StoredHashIndex(level, n): where node n of level is stored. */
uint64_t nedb__tree_index(unsigned level, uint64_t n);

/*
 * Adds op seq (its chain hash) to the tree in txn: its leaf hash and
 * the hashes of the subtrees it completes (at most 1 + log2 seq, two on
 * average).  Ops must come in order of seq, each once (apply's order).
 * 0, NEDB_EIO (libcrypto cannot be loaded, LMDB), NEDB_ECORRUPT (a
 * stored hash it needs is missing: a damaged view).
 */
int nedb__tree_append(struct view *v, MDB_txn *txn, uint64_t seq,
		      const unsigned char hash[HASH_LEN]);

#endif
