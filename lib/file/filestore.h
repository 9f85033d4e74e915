/*
 * filestore.h - the file store's internals (lib/file): content-defined
 * chunking (cdc.c), the content-addressed chunk store in packs (store.c),
 * manifests (manifest.c) and the versions of files as ops of the log
 * (file.c, whose calls nedb.h exports).  Not installed.
 *
 * The picture (nedb-format(5), "File store"):
 *
 *   put:  bytes --cdc--> chunks --BLAKE2b--> addresses
 *                          |                    |
 *                          | (new ones)         +--> manifest pages --+
 *                          v                    +--> Merkle root      |
 *                   packs + index  <------------------(pages too)-----+
 *         then one "file" op in the log: name, version, size, chunks,
 *         root, the manifest's top page; apply() files it in the view.
 *
 *   get:  the op (view, checked against its line) -> manifest pages ->
 *         chunks, each read back, unsealed, inflated and re-hashed to
 *         its address before a byte of it is handed out.
 *
 * Errors as the rest of the library: 0 or a negative NEDB_E* code with
 * nedb_errmsg set; damage is NEDB_ECORRUPT and names what is damaged.
 */
#ifndef NEDB_FILESTORE_H
#define NEDB_FILESTORE_H

#include "internal.h"

#define FADDR_LEN 32			/* a content address: BLAKE2b-256 */

/* --- cdc.c: FastCDC cut points ---------------------------------- */

#define CDC_MIN_LIMIT 64u		/* the smallest minimum allowed */
#define CDC_AVG_MIN 256u
#define CDC_AVG_MAX (4u << 20)
#define CDC_MAX_LIMIT (16u << 20)	/* the largest maximum allowed */
/* nedb-file(1)'s defaults: 16, 64 and 256 KiB */
#define CDC_DEF_MIN (16u << 10)
#define CDC_DEF_AVG (64u << 10)
#define CDC_DEF_MAX (256u << 10)

struct nedb_cdc {
	uint32_t min, avg, max;
	uint64_t mask_s, mask_l;	/* before / from the average */
	uint64_t gear[256];
};

/* Whether min < avg < max are chunking parameters nedb takes (avg a
 * power of two): 0, or NEDB_EUSAGE saying which is wrong. */
int nedb__cdc_check(uint32_t min, uint32_t avg, uint32_t max);
int nedb__cdc_init(struct nedb_cdc *c, uint32_t min, uint32_t avg,
		   uint32_t max);
/*
 * The length of the chunk that starts at p, given the n bytes there:
 * n when n <= min (the end of a stream), else the first cut point in
 * [min + 1, max], or max.  A caller that is not at the end of its
 * stream gives at least max bytes.
 */
size_t nedb__cdc_cut(const struct nedb_cdc *c, const unsigned char *p,
		     size_t n);

/* --- store.c: packs and their index ------------------------------- */

enum { FREC_CHUNK = 1, FREC_PAGE = 2 };		/* what a record holds */
enum { FENC_RAW = 0, FENC_WARM = 1, FENC_COLD = 2 };	/* how */
#define FENC_SEALED 0x80		/* | AES-256-GCM (encrypted db) */

/* Where the index says a record is (index value, nedb-format(5)). */
struct fent {
	uint32_t pack;
	uint64_t off;			/* of the record's header */
	uint32_t stored, raw;		/* bytes after the header; plain */
	uint8_t type, enc;
};

struct fstore;

/*
 * Opens db's store (DIR/files) and takes its lock shared (gc takes it
 * exclusive, and waits for every user): the store's records cannot
 * move or go while the handle is open.  create: make the directory and
 * index when missing (a put); otherwise NEDB_ENOTFOUND with no message
 * when there is none.  For an encrypted database the store's keys come
 * from db's (sealing context made here).
 */
int nedb__fstore_open(nedb *db, bool create, struct fstore **out);
/* exclusive: for gc (waits for the shared holders) */
int nedb__fstore_open_excl(nedb *db, struct fstore **out);
void nedb__fstore_close(struct fstore *s);
/* Removes the store of the database in dir (nedb_destroy's part): its
 * packs, its index, its lock.  Files nedb did not make stay. */
void nedb__fstore_destroy(const char *dir);
/* The address of p[0, n): BLAKE2b-256, keyed in an encrypted db. */
void nedb__fstore_addr(const struct fstore *s, unsigned char out[FADDR_LEN],
		       const void *p, size_t n);
bool nedb__fstore_sealed(const struct fstore *s);

/*
 * Whether the index has addr (committed, so durable): 1, 0, or an
 * error; not a writer's batch.  l is the calling thread's snapshot of
 * the index (zeroed at first; renewed every so many lookups), ended by
 * nedb__flook_end.
 */
struct flook {
	MDB_txn *txn;
	bool reset;
	uint32_t n;
};
int nedb__fstore_has_in(struct fstore *s, struct flook *l,
			const unsigned char addr[FADDR_LEN]);
void nedb__flook_end(struct flook *l);

/*
 * A codec: one thread's deflating (in a tier, FENC_WARM or FENC_COLD)
 * and inflating (any tier; FENC_RAW for one that only inflates), with
 * ISA-L's igzip when it is installed (warm, and inflating), else zlib;
 * the format is zlib's either way (RFC 1950).
 */
struct fcodec;
int nedb__fcodec_new(int tier, struct fcodec **out);
void nedb__fcodec_free(struct fcodec *c);
/*
 * Deflates p[0, n) into out: 1 when that saves at least 1/32 of n, after
 * inflating out again and comparing it with p (invariant 5 of store.c);
 * 0 when the chunk is to be stored raw (out then means nothing); or an
 * error (NEDB_EIO when the check fails: nothing may be stored).  A probe
 * of the first 8 KiB first, so that incompressible data costs little.
 */
int nedb__fcodec_deflate(struct fcodec *c, const void *p, size_t n,
			 nedb_buf *out);
/* Inflates in[0, n) into out, which it must fill exactly (raw bytes)
 * with nothing left over: 0, 1 when it does not, or an error. */
int nedb__fcodec_inflate(struct fcodec *c, const void *in, size_t n,
			 void *out, size_t raw);

/*
 * Reads the record of addr (of type type) into out, checked: its header
 * against the index, unsealed, inflated, and its bytes hashed back to
 * addr.  NEDB_ENOTFOUND (message) when the index has no such record,
 * NEDB_ECORRUPT (message naming the pack and offset) when it does not
 * read back, NEDB_EIO when it cannot be read.  *e gets the index's
 * entry when e is not NULL.
 */
int nedb__fstore_get(struct fstore *s, int type,
		     const unsigned char addr[FADDR_LEN], nedb_buf *out,
		     struct fent *e);

/*
 * A writer appends records to one pack it holds (flock), and commits
 * them to the index in batches: pack synced first (durable), then the
 * index, so the index never names a byte that is not on disk.  Records
 * written but not yet committed are garbage after a crash: the next
 * writer of that pack cuts them off, gc reclaims committed ones no
 * version names.
 */
struct fwriter;
int nedb__fwriter_new(struct fstore *s, int tier, struct fwriter **out);
/*
 * Stores p[0, n) under addr unless the store (or this writer's batch)
 * has it: compressed in the writer's tier when that pays (the deflated
 * bytes inflated again and compared first), sealed when encrypted.
 * *added gets the bytes appended to the pack (0 for a duplicate).
 */
int nedb__fwriter_put(struct fwriter *w, int type,
		      const unsigned char addr[FADDR_LEN], const void *p,
		      size_t n, uint64_t *added);
/* Whether _put would deflate a record of type and n bytes. */
bool nedb__fwriter_deflates(const struct fwriter *w, int type, size_t n);
/*
 * _put with the encoding decided by the caller: stored[0, dn) is what
 * the record holds, p[0, n) in encoding enc (FENC_RAW: stored is p;
 * else the writer's tier, deflated and checked by nedb__fcodec_deflate).
 * Sealed here when encrypted.
 */
int nedb__fwriter_put_enc(struct fwriter *w, int type,
			  const unsigned char addr[FADDR_LEN], const void *p,
			  size_t n, int enc, const void *stored, size_t dn,
			  uint64_t *added);
/* The same with the writer as a void *: a nedb__fput_fn. */
int nedb__fwriter_put_fn(void *w, int type,
			 const unsigned char addr[FADDR_LEN], const void *p,
			 size_t n, uint64_t *added);
/* Commits the batch (sync, index). */
int nedb__fwriter_flush(struct fwriter *w);
/* Releases the pack; what was not flushed is dropped. */
void nedb__fwriter_free(struct fwriter *w);

/* Per encoding, what the store holds (nedb_file_stats). */
struct fstore_stats {
	uint64_t chunks[3], raw[3], stored[3];	/* FENC_* (data chunks) */
	uint64_t pages, page_bytes;		/* manifest pages */
	uint64_t packs, pack_bytes;		/* files, bytes on disk */
};
int nedb__fstore_stats(struct fstore *s, struct fstore_stats *out);

/*
 * gc's mark and sweep (exclusive store): _mark_begin empties the marks;
 * _mark records addr as in use (1 when it was already marked, 0 when
 * not); _sweep drops every record not marked and rewrites the packs that
 * hold dropped bytes, reporting what went.
 */
int nedb__fstore_mark_begin(struct fstore *s);
int nedb__fstore_mark(struct fstore *s, const unsigned char addr[FADDR_LEN]);
struct fstore_gc {
	uint64_t chunks, bytes;		/* records dropped, their bytes */
	uint64_t packs_rewritten, packs_removed, freed;	/* disk bytes */
};
int nedb__fstore_sweep(struct fstore *s, struct fstore_gc *out);

/* --- manifest.c: the chunk list of a version ---------------------- */

#define MAN_FANOUT 4096u		/* entries per manifest page */
#define MAN_MAX_DEPTH 8
#define MAN_HDR 16
#define MAN_LEAF_ENT (FADDR_LEN + 4)	/* address, le32 length */
#define MAN_NODE_ENT (FADDR_LEN + 16)	/* address, le64 chunks, bytes */

/* A parsed page (its entries point into the text it came from). */
struct mpage {
	unsigned level;			/* 0: chunks; more: pages below */
	uint32_t n;
	const unsigned char *ent;
	uint64_t chunks, bytes;		/* what it covers, summed */
};
/* Parses a page: NEDB_ECORRUPT (message) when it is not one. */
int nedb__man_parse(struct mpage *out, const void *p, size_t n);
const unsigned char *nedb__man_addr(const struct mpage *m, uint32_t i);
/* Entry i: its address; for a leaf page the chunk's length (chunks 1),
 * for a page above the chunks and bytes below it. */
void nedb__man_entry(const struct mpage *m, uint32_t i, uint64_t *chunks,
		     uint64_t *bytes);

/* Builds the pages of a version bottom up, as its chunks come; each
 * page is stored through put (nedb__fwriter_put's signature, ctx its
 * writer or a caller's queue in front of it). */
typedef int (*nedb__fput_fn)(void *ctx, int type,
			     const unsigned char addr[FADDR_LEN],
			     const void *p, size_t n, uint64_t *added);
struct mbuild {
	struct fstore *s;
	nedb__fput_fn put;
	void *ctx;
	struct {
		nedb_buf page;
		uint32_t n;
		uint64_t chunks, bytes;	/* what the page so far covers */
		bool flushed;		/* a page of it has gone up */
	} lv[MAN_MAX_DEPTH];
	uint64_t added;			/* bytes the pages added */
};
void nedb__man_build_init(struct mbuild *b, struct fstore *s,
			  nedb__fput_fn put, void *ctx);
int nedb__man_add(struct mbuild *b, const unsigned char addr[FADDR_LEN],
		  uint32_t len);
/* Stores the pages that are left; the top page's address in top. */
int nedb__man_finish(struct mbuild *b, unsigned char top[FADDR_LEN]);
void nedb__man_build_free(struct mbuild *b);

/*
 * Reads a version's chunk list: _open checks the top page covers
 * chunks and size; _seek positions before chunk k (its offset in the
 * file in *off); _next gives the next chunk (1), or 0 at the end.
 * Every page is read through nedb__fstore_get (checked) and its counts
 * held against what its parent said of it.
 */
struct mread {
	struct fstore *s;
	unsigned depth;			/* the top page's level */
	unsigned char top[FADDR_LEN];
	uint64_t chunks, size;
	struct {
		nedb_buf text;
		struct mpage p;
		uint32_t i;		/* the next entry */
	} lv[MAN_MAX_DEPTH];
	uint64_t at;			/* chunks before the next one */
	uint64_t off;			/* bytes before it */
};
int nedb__man_open(struct mread *r, struct fstore *s,
		   const unsigned char top[FADDR_LEN], uint64_t chunks,
		   uint64_t size);
int nedb__man_seek(struct mread *r, uint64_t k);
int nedb__man_next(struct mread *r, unsigned char addr[FADDR_LEN],
		   uint32_t *len);
void nedb__man_close(struct mread *r);

/* --- file.c: versions --------------------------------------------- */

/* The view's record of a version: struct fver (codec.h). */
/* The latest version number of name in txn (0: none). */
int nedb__file_last(struct view *v, MDB_txn *txn, const char *name,
		    uint64_t *out);

#endif
