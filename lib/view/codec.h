/*
 * codec.h - every key and value of the view's LMDB tables, built and
 * parsed here alone (codec.c).  The tables and what they are for are in
 * view.c; this is how their bytes look.
 *
 * Encoders write into a caller's buffer of the matching *_MAX size and
 * return the length written.  Decoders take bytes LMDB lent (valid until
 * the transaction ends) and hand back spans borrowed from them; a decoder
 * that can meet damage returns NEDB_ECORRUPT with a message, the others
 * return false for "not a key of this kind here" (the end of a prefix
 * scan).  Nothing here reads LMDB, the clock or the environment.
 *
 * Key order is what LMDB's memcmp gives, and the reads rely on it:
 *  1. Integers in keys are big-endian (be64), so keys differing only in a
 *     seq, an expiry or a node number sort numerically: the versions of a
 *     document by seq, ttl entries by time, edge history by seq.
 *  2. Names (collection, id, field, relation) end in a 0 byte, which no
 *     name holds (nedb_check_id, nedb__check_field refuse control
 *     characters): "coll \0" begins exactly the keys of one collection,
 *     "coll \0 id \0" exactly the versions of one document, and with that
 *     last 0 made 1 (nedb__key_past) a prefix is just past all of them.
 *  3. An index entry is nedb__index_key's encoding of a value (value.c):
 *     entries sort in ORDER BY's total order, each value's type tag first
 *     (ranges stop at the end of a type: nedb__ixrange).  Entries longer
 *     than MAX_ENTRY are cut, so an index names candidates only.
 *
 * Values: the document header (struct dochdr) is little-endian, counters,
 * nonces, node numbers and the checkpoint seq are be64, as nedb-format(5)
 * has them; the state digest covers the docs, nonces, idem, ttl and
 * idxdef bytes, so none of these encodings may change without a
 * VIEW_FORMAT bump and a new digest format.  The seqs, vers and "applied"
 * values (struct seqent, verent, applied: internal.h) are not here yet.
 *
 * Encryption: these are the plaintext bytes whether or not the database
 * is encrypted.  An encrypted view stores each key encrypted (12 more
 * bytes: kv.c asserts that every one still fits LMDB's limit) and in
 * plaintext order, and its values sealed; kv.h does it beneath every
 * read and write, so codecs and callers are the same for both.  What a
 * read returns is then borrowed for less than the whole transaction:
 * kv.h states for how long.
 */
#ifndef NEDB_CODEC_H
#define NEDB_CODEC_H

#include <string.h>
#include "internal.h"

struct nql_span;

#define MAX_FIELD 128		/* an indexed field path, bytes */
#define MAX_ENTRY 300		/* an index entry (value key, token), cut */

/* Buffer sizes for the keys below. */
#define DOCKEY_MAX (MAX_COLL + 1 + MAX_ID)		/* coll \0 id */
#define VERKEY_MAX (DOCKEY_MAX + 9)			/* + \0 be64 */
#define TTLKEY_MAX (8 + DOCKEY_MAX)			/* be64 + dockey */
#define NODE_MAX (MAX_COLL + 1 + MAX_ID)		/* "coll:id" */
#define EDGEKEY_MAX (17 + MAX_REL)			/* be64 rel \0 be64 */
#define EDGEHIST_MAX (EDGEKEY_MAX + 8)			/* + be64 seq */
#define IXDEF_MAX (MAX_COLL + 1 + MAX_FIELD)		/* coll \0 field */
#define IXPRE_MAX (IXDEF_MAX + 3)			/* + \0 K \0 */
#define IXKEY_MAX (IXPRE_MAX + MAX_ENTRY)		/* + entry */
#define NUM_LEN 8					/* a be64 value */

/* The first key past every key that prefix p (ending in its 0
 * separator) begins: that 0 made 1.  past false puts the 0 back. */
void nedb__key_past(unsigned char *p, size_t n, bool past);
/* Whether key k begins with prefix p and has more after it. */
static inline bool
nedb__key_in(const void *k, size_t klen, const void *p, size_t n)
{
	return klen > n && !memcmp(k, p, n);
}

/* A be64 value: counters (colls, usage), nonces, node numbers (nodes),
 * the checkpoint seq (meta "ckpt"), an edge's seq (edges, redges); the
 * times table's keys (an op's time) and values (its seq). */
void nedb__num_put(unsigned char out[NUM_LEN], uint64_t v);
int nedb__num_get(const void *p, size_t n, uint64_t *v);

/* docs: coll \0 id -> dochdr (DOCHDR_LEN bytes) then the text. */
size_t nedb__collprefix(unsigned char *out, const char *coll); /* coll \0 */
size_t nedb__dockey(unsigned char *out, const char *coll, const char *id);
size_t nedb__dockey_n(unsigned char *out, const char *coll, const char *id,
		      size_t idlen);
/* Splits a docs key into collection and id (false: no separator). */
bool nedb__dockey_split(const void *k, size_t klen, const char **coll,
			size_t *clen, const char **id, size_t *idlen);

/* Per-document header stored before its text in DBI_DOCS. */
struct dochdr {
	uint64_t seq;
	int64_t ts;
	int64_t exp;
	unsigned char hash[HASH_LEN];
};

/*
 * The header is stored as DOCHDR_LEN bytes, integers little-endian, so
 * that the state digest (which covers it) is the same on every host.
 */
#define DOCHDR_LEN 56
static inline void
nedb__dochdr_get(struct dochdr *h, const void *p)
{
	const unsigned char *b = p;

	h->seq = nedb__get_le64(b);
	h->ts = (int64_t)nedb__get_le64(b + 8);
	h->exp = (int64_t)nedb__get_le64(b + 16);
	memcpy(h->hash, b + 24, HASH_LEN);
}

void nedb__dochdr_put(void *p, const struct dochdr *h);
/* Appends a docs value (header, text) to out. */
int nedb__docval_put(nedb_buf *out, const struct dochdr *h, const char *doc,
		     size_t len);
void nedb__docval_short(void);	/* sets NEDB_ECORRUPT's message */

/* Decodes a docs value: 0, or NEDB_ECORRUPT when it is cut short.
 * Inline: scans decode one per row. */
static inline int
nedb__docval_get(const void *p, size_t n, struct dochdr *h, const char **doc,
		 size_t *len)
{
	if (n < DOCHDR_LEN) {
		nedb__docval_short();
		return NEDB_ECORRUPT;
	}
	nedb__dochdr_get(h, p);
	*doc = (const char *)p + DOCHDR_LEN;
	*len = n - DOCHDR_LEN;
	return 0;
}

/* vers: coll \0 id \0 be64(seq) -> struct verent. */
size_t nedb__verkey(unsigned char *out, const char *coll, const char *id,
		    size_t idlen, uint64_t seq);
/* A docs key made, in place, the version key at seq (9 more bytes). */
size_t nedb__verkey_of(unsigned char *dockey, size_t klen, uint64_t seq);
/* coll \0 id \0: the prefix of every version of one document. */
size_t nedb__verprefix(unsigned char *out, const char *coll, const char *id,
		       size_t idlen);
/* A document's version prefix (verprefix, plen bytes) made, in place,
 * the first key past every version at or before upto: nedb__version_at
 * seeks there and steps back.  With upto NEDB_HEAD that is the prefix
 * with its last byte 1 (nedb__key_past(pre, plen, false) restores it). */
size_t nedb__verkey_bound(unsigned char *pre, size_t plen, uint64_t upto);

/* Whether k is a version key under collection prefix p (collprefix);
 * its id and seq. */
static inline bool
nedb__verkey_get(const void *k, size_t klen, const void *p, size_t n,
		 const char **id, size_t *idlen, uint64_t *seq)
{
	const unsigned char *b = k;

	if (klen < n + 10 || memcmp(k, p, n) || b[klen - 9])
		return false;
	*id = (const char *)b + n;
	*idlen = klen - n - 9;
	*seq = nedb__get_be64(b + klen - 8);
	return true;
}

/* Whether k is a version of the document whose prefix is p (verprefix);
 * its seq. */
static inline bool
nedb__verkey_seq(const void *k, size_t klen, const void *p, size_t n,
		 uint64_t *seq)
{
	if (klen != n + 8 || memcmp(k, p, n))
		return false;
	*seq = nedb__get_be64((const unsigned char *)k + n);
	return true;
}

/* seqs: be64(seq) -> struct seqent. */
size_t nedb__seqkey(unsigned char out[8], uint64_t seq);
uint64_t nedb__seqkey_get(const void *k);

/* ttl: be64(exp) coll \0 id -> (empty), by expiry time. */
size_t nedb__ttlkey(unsigned char *out, int64_t exp, const void *dockey,
		    size_t klen);
/* A ttl key's expiry and docs key (false: too short). */
bool nedb__ttlkey_get(const void *k, size_t klen, int64_t *exp,
		      const void **dockey, size_t *dklen);

/* colls: coll -> be64 count; nonces: client -> be64 nonce; idem: key ->
 * receipt text; nodes: node key -> be64 number.  Names are their bytes. */
/* A name key (collection, client, idempotency key, node) into out
 * (max bytes and a NUL): NEDB_ECORRUPT when longer. */
int nedb__namekey_get(const void *k, size_t klen, char *out, size_t max);

/* nodeids: be64(number) -> node key. */
size_t nedb__nodeid_key(unsigned char out[8], uint64_t n);

/*
 * edges, redges: be64(from) rel \0 be64(to) -> be64 seq of the link;
 * edgehist, redgehist: the same key + be64(seq) -> kind (1 byte: OP_LINK
 * or OP_UNLINK).  The reversed tables swap from and to.
 */
size_t nedb__edgekey(unsigned char *out, uint64_t a, const char *rel,
		     uint64_t b);
/* An edge key made, in place, its history key at seq (8 more bytes). */
size_t nedb__edgehist_key(unsigned char *key, size_t klen, uint64_t seq);
/* be64(a) [rel \0]: the prefix of a's edges (of relation rel, or all). */
size_t nedb__edgeprefix(unsigned char *out, uint64_t a, const char *rel);
/* Splits an edge key (hist: a history key): false when malformed.  *base
 * is the length of the edge key without the history seq. */
bool nedb__edgekey_get(const void *k, size_t klen, bool hist, uint64_t *a,
		       const char **rel, size_t *rlen, uint64_t *b,
		       uint64_t *seq, size_t *base);
unsigned char nedb__edgehist_val(int kind);
int nedb__edgehist_kind(const void *d, size_t n);	/* -1 if malformed */

/* idxdef: coll \0 field -> kind name (sorted duplicates);
 * usage: coll \0 field -> be64 count. */
size_t nedb__ixdef_key(unsigned char *out, const char *coll,
		       const char *field);
/* Splits an idxdef key into NUL-terminated coll and field: 0, or
 * NEDB_ECORRUPT when it is not one. */
int nedb__ixdef_get(const void *k, size_t klen, char coll[MAX_COLL + 1],
		    char field[MAX_FIELD + 1]);
/* An index kind's letter ('e', 'o', 's') from an idxdef value; 0 if
 * none.  With name, its text too (at most 15 bytes). */
int nedb__ixdef_kind(const void *d, size_t n, char name[16]);

/*
 * idx: coll \0 field \0 K \0 entry -> id (sorted duplicates), K the
 * kind's letter.  The prefix's last byte is 0 (nedb__key_past).
 */
size_t nedb__ix_prefix(unsigned char *out, const char *coll,
		       const char *field, int kind);
/* The key of value v under prefix (of plen bytes) in key. */
size_t nedb__ixkey_value(unsigned char *key, size_t plen, struct nql_span v);
/* The key of an entry already encoded (an ixrange bound, a token's
 * entry) under prefix. */
size_t nedb__ixkey_entry(unsigned char *key, size_t plen, const void *entry,
			 size_t n);
/* The key of a search token under prefix: cut to MAX_ENTRY. */
size_t nedb__ixkey_token(unsigned char *key, size_t plen, const char *tok,
			 size_t n);
/* Whether an ordered index entry orders its documents exactly: false
 * when it may be cut or holds an array or object, whose documents must
 * then be sorted by value. */
bool nedb__ixentry_exact(const void *entry, size_t n);

/*
 * Entries of an ordered index that may satisfy "field cmp v": from lo
 * (inclusive), while the first hi_len bytes of an entry are not above hi
 * (hi_len 0: to the end).  cmp is an enum nql_cmp but CMP_NE.
 */
struct ixrange {
	unsigned char lo[MAX_ENTRY], hi[MAX_ENTRY];
	size_t lo_len, hi_len;
};
void nedb__ixrange(struct ixrange *r, int cmp, struct nql_span v);
/* Whether an entry lies past the range's end. */
static inline bool
nedb__ixrange_past(const struct ixrange *r, const void *entry, size_t n)
{
	return r->hi_len && memcmp(entry, r->hi, n < r->hi_len ? n :
				   r->hi_len) > 0;
}

/*
 * files: name \0 be64(version) -> the version's record (lib/file):
 * be64 seq, be64 ts, be64 size, be64 chunks, the 32-byte Merkle root of
 * its chunks' addresses, the 32-byte address of its manifest's top page.
 */
struct fver {
	uint64_t seq;
	int64_t ts;
	uint64_t size, chunks;
	unsigned char root[32];
	unsigned char man[32];
};
#define FVER_LEN 96
#define FILEKEY_MAX (MAX_ID + 1 + 8)
size_t nedb__filekey(unsigned char *out, const char *name, uint64_t version);
/* name \0: the prefix of every version of a file */
size_t nedb__fileprefix(unsigned char *out, const char *name);
/* Whether k is a file key; its name (not NUL-ended) and version. */
bool nedb__filekey_get(const void *k, size_t n, const char **name,
		       size_t *namelen, uint64_t *version);
void nedb__fver_put(unsigned char out[FVER_LEN], const struct fver *v);
/* NEDB_ECORRUPT (message) when p is not a record */
int nedb__fver_get(const void *p, size_t n, struct fver *v);

_Static_assert(IXKEY_MAX <= 511 && VERKEY_MAX <= 511 &&
	       TTLKEY_MAX <= 511 && EDGEHIST_MAX <= 511 &&
	       FILEKEY_MAX <= 511,
	       "a view key must fit LMDB's 511-byte key limit");

#endif
