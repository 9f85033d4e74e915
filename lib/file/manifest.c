/*
 * manifest.c - a version's chunk list, as pages in the chunk store
 * (filestore.h, nedb-format(5) "File store").
 *
 * A page is
 *
 *     "NEDBMAN1" | level (1 byte) | 3 zero bytes | le32 n | n entries
 *
 * where a level-0 page lists chunks (32-byte address, le32 length) and a
 * page of level L > 0 lists pages of level L - 1 (address, le64 chunks
 * and le64 bytes below it).  A page holds at most MAN_FANOUT entries.
 * Pages are stored like chunks, under the address of their bytes, so a
 * version is named by the address of one page (the op's "manifest"),
 * and unchanged runs of a file's chunk list can share pages.
 *
 * Pages are built bottom up as chunks arrive, so a put never holds more
 * than one page per level: a page that fills goes up as an entry of the
 * level above.  At the end the partial pages go up too, and the top is
 * the first level that never sent a page up (if it holds one entry, that
 * entry's page is the top).
 *
 * Invariants:
 *  1. Every page read was checked by the store (its bytes hash to its
 *     address) and parses; its sums equal what its parent entry says
 *     (the top's, the op's chunks and size).  So a reader that walks
 *     the pages gets exactly the chunk list the op committed to, or an
 *     error.
 *  2. Memory is one page per level, reading and writing.
 */
#include <string.h>
#include "filestore.h"

#define MAN_MAGIC "NEDBMAN1"

static size_t
ent_size(unsigned level)
{
	return level ? MAN_NODE_ENT : MAN_LEAF_ENT;
}

int
nedb__man_parse(struct mpage *out, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t chunks = 0, bytes = 0;

	if (n < MAN_HDR || memcmp(b, MAN_MAGIC, 8) || b[9] || b[10] ||
	    b[11] || b[8] >= MAN_MAX_DEPTH)
		return nedb__err(NEDB_ECORRUPT, "corrupt file store: a "
				 "manifest page has a bad header");
	out->level = b[8];
	out->n = nedb__get_le32(b + 12);
	out->ent = b + MAN_HDR;
	if (out->n > MAN_FANOUT ||
	    n != MAN_HDR + (size_t)out->n * ent_size(out->level))
		return nedb__err(NEDB_ECORRUPT, "corrupt file store: a "
				 "manifest page of %zu bytes says %u entries",
				 n, out->n);
	for (uint32_t i = 0; i < out->n; i++) {
		uint64_t c, l;

		nedb__man_entry(out, i, &c, &l);
		if (!c || (!out->level && (!l || l > CDC_MAX_LIMIT)) ||
		    c > UINT64_MAX - chunks || l > UINT64_MAX - bytes ||
		    (out->level && l < c))
			return nedb__err(NEDB_ECORRUPT, "corrupt file store: "
					 "manifest page entry %u is out of "
					 "range", i);
		chunks += c;
		bytes += l;
	}
	out->chunks = chunks;
	out->bytes = bytes;
	return 0;
}

const unsigned char *
nedb__man_addr(const struct mpage *m, uint32_t i)
{
	return m->ent + (size_t)i * ent_size(m->level);
}

void
nedb__man_entry(const struct mpage *m, uint32_t i, uint64_t *chunks,
		uint64_t *bytes)
{
	const unsigned char *e = nedb__man_addr(m, i) + FADDR_LEN;

	if (!m->level) {
		*chunks = 1;
		*bytes = nedb__get_le32(e);
	} else {
		*chunks = nedb__get_le64(e);
		*bytes = nedb__get_le64(e + 8);
	}
}

/* --- building ------------------------------------------------------ */

void
nedb__man_build_init(struct mbuild *b, struct fstore *s, nedb__fput_fn put,
		     void *ctx)
{
	memset(b, 0, sizeof *b);
	b->s = s;
	b->put = put;
	b->ctx = ctx;
}

void
nedb__man_build_free(struct mbuild *b)
{
	for (int l = 0; l < MAN_MAX_DEPTH; l++)
		nedb_buf_free(&b->lv[l].page);
}

static int push(struct mbuild *b, unsigned l,
		const unsigned char addr[FADDR_LEN], uint64_t chunks,
		uint64_t bytes);

/* Stores level l's page as it is; its address in addr. */
static int
store_page(struct mbuild *b, unsigned l, unsigned char addr[FADDR_LEN])
{
	nedb_buf *pg = &b->lv[l].page;
	uint64_t added;
	int rc;

	if (!b->lv[l].n) {	/* an empty file's page */
		pg->len = 0;
		nedb_buf_add(pg, MAN_MAGIC "\0\0\0\0\0\0\0\0", MAN_HDR);
	}
	pg->p[8] = (char)l;
	nedb__put_le32((unsigned char *)pg->p + 12, b->lv[l].n);
	nedb__fstore_addr(b->s, addr, pg->p, pg->len);
	if ((rc = b->put(b->ctx, FREC_PAGE, addr, pg->p, pg->len, &added)))
		return rc;
	b->added += added;
	return 0;
}

/* Sends level l's page up as an entry of level l + 1. */
static int
flush_level(struct mbuild *b, unsigned l)
{
	unsigned char addr[FADDR_LEN];
	uint64_t c = b->lv[l].chunks, n = b->lv[l].bytes;
	int rc;

	if ((rc = store_page(b, l, addr)))
		return rc;
	b->lv[l].flushed = true;
	b->lv[l].n = 0;
	b->lv[l].chunks = b->lv[l].bytes = 0;
	return push(b, l + 1, addr, c, n);
}

static int
push(struct mbuild *b, unsigned l, const unsigned char addr[FADDR_LEN],
     uint64_t chunks, uint64_t bytes)
{
	unsigned char e[MAN_NODE_ENT];
	nedb_buf *pg;

	if (l >= MAN_MAX_DEPTH)
		return nedb__err(NEDB_EINPUT, "a file of more chunks than a "
				 "manifest can list");
	pg = &b->lv[l].page;
	if (!b->lv[l].n) {
		pg->len = 0;
		nedb_buf_add(pg, MAN_MAGIC "\0\0\0\0\0\0\0\0", MAN_HDR);
	}
	memcpy(e, addr, FADDR_LEN);
	if (!l) {
		nedb__put_le32(e + FADDR_LEN, (uint32_t)bytes);
	} else {
		nedb__put_le64(e + FADDR_LEN, chunks);
		nedb__put_le64(e + FADDR_LEN + 8, bytes);
	}
	nedb_buf_add(pg, e, ent_size(l));
	b->lv[l].n++;
	b->lv[l].chunks += chunks;
	b->lv[l].bytes += bytes;
	return b->lv[l].n == MAN_FANOUT ? flush_level(b, l) : 0;
}

int
nedb__man_add(struct mbuild *b, const unsigned char addr[FADDR_LEN],
	      uint32_t len)
{
	return push(b, 0, addr, 1, len);
}

int
nedb__man_finish(struct mbuild *b, unsigned char top[FADDR_LEN])
{
	int rc;

	for (unsigned l = 0; l < MAN_MAX_DEPTH; l++) {
		if (!b->lv[l].flushed) {
			if (l && b->lv[l].n == 1) {
				memcpy(top, b->lv[l].page.p + MAN_HDR,
				       FADDR_LEN);
				return 0;
			}
			return store_page(b, l, top);
		}
		if (b->lv[l].n && (rc = flush_level(b, l)))
			return rc;
	}
	return nedb__err(NEDB_EINPUT, "a file of more chunks than a "
			 "manifest can list");
}

/* --- reading ------------------------------------------------------- */

/* Reads page addr as level l of r, which its parent says covers chunks
 * and bytes (invariant 1). */
static int
load(struct mread *r, unsigned l, const unsigned char addr[FADDR_LEN],
     uint64_t chunks, uint64_t bytes)
{
	int rc;

	if ((rc = nedb__fstore_get(r->s, FREC_PAGE, addr, &r->lv[l].text,
				   NULL)))
		return rc;
	if ((rc = nedb__man_parse(&r->lv[l].p, r->lv[l].text.p,
				  r->lv[l].text.len)))
		return rc;
	if (r->lv[l].p.level != l || r->lv[l].p.chunks != chunks ||
	    r->lv[l].p.bytes != bytes)
		return nedb__err(NEDB_ECORRUPT, "corrupt file store: a "
				 "manifest page is not what its parent says");
	r->lv[l].i = 0;
	return 0;
}

int
nedb__man_open(struct mread *r, struct fstore *s,
	       const unsigned char top[FADDR_LEN], uint64_t chunks,
	       uint64_t size)
{
	struct mpage p;
	int rc;

	memset(r, 0, sizeof *r);
	r->s = s;
	memcpy(r->top, top, FADDR_LEN);
	r->chunks = chunks;
	r->size = size;
	/* the top's level is its own say: read it, then load it there */
	if ((rc = nedb__fstore_get(s, FREC_PAGE, top, &r->lv[0].text, NULL)))
		return rc;
	if ((rc = nedb__man_parse(&p, r->lv[0].text.p, r->lv[0].text.len)))
		return rc;
	r->depth = p.level;
	if (r->depth && (rc = load(r, r->depth, top, chunks, size)))
		return rc;
	if (!r->depth) {
		r->lv[0].p = p;
		if (p.chunks != chunks || p.bytes != size)
			return nedb__err(NEDB_ECORRUPT, "corrupt file store: "
					 "the manifest does not cover the "
					 "version's %llu chunks and %llu bytes",
					 (unsigned long long)chunks,
					 (unsigned long long)size);
	}
	return nedb__man_seek(r, 0);
}

void
nedb__man_close(struct mread *r)
{
	for (int l = 0; l < MAN_MAX_DEPTH; l++)
		nedb_buf_free(&r->lv[l].text);
}

int
nedb__man_seek(struct mread *r, uint64_t k)
{
	uint64_t rem = k, off = 0, c, b;
	unsigned l;
	uint32_t i;
	int rc;

	if (k > r->chunks)
		return nedb__err(NEDB_EUSAGE, "chunk %llu is beyond the %llu "
				 "chunks", (unsigned long long)k,
				 (unsigned long long)r->chunks);
	r->at = k;
	if (k == r->chunks) {
		r->off = r->size;
		return 0;
	}
	for (l = r->depth; l > 0; l--) {
		struct mpage *p = &r->lv[l].p;

		for (i = 0; i < p->n; i++) {
			nedb__man_entry(p, i, &c, &b);
			if (rem < c)
				break;
			rem -= c;
			off += b;
		}
		if (i == p->n)
			return nedb__err(NEDB_ECORRUPT, "corrupt file store: "
					 "a manifest page ends early");
		r->lv[l].i = i;
		if ((rc = load(r, l - 1, nedb__man_addr(p, i), c, b)))
			return rc;
	}
	for (i = 0; i < rem; i++) {
		nedb__man_entry(&r->lv[0].p, i, &c, &b);
		off += b;
	}
	r->lv[0].i = (uint32_t)rem;
	r->off = off;
	return 0;
}

int
nedb__man_next(struct mread *r, unsigned char addr[FADDR_LEN],
	       uint32_t *len)
{
	uint64_t c, b;
	unsigned l;
	int rc;

	if (r->at >= r->chunks)
		return 0;
	if (r->lv[0].i >= r->lv[0].p.n) {
		/* the next leaf page: up to the first level with one more
		 * entry, then down its first entries */
		for (l = 1; l <= r->depth &&
		     r->lv[l].i + 1 >= r->lv[l].p.n; l++)
			;
		if (l > r->depth)
			return nedb__err(NEDB_ECORRUPT, "corrupt file store: "
					 "the manifest ends before its chunks");
		r->lv[l].i++;
		for (; l > 0; l--) {
			struct mpage *p = &r->lv[l].p;

			nedb__man_entry(p, r->lv[l].i, &c, &b);
			if ((rc = load(r, l - 1, nedb__man_addr(p, r->lv[l].i),
				       c, b)))
				return rc;
		}
	}
	memcpy(addr, nedb__man_addr(&r->lv[0].p, r->lv[0].i), FADDR_LEN);
	nedb__man_entry(&r->lv[0].p, r->lv[0].i, &c, &b);
	*len = (uint32_t)b;
	r->lv[0].i++;
	r->at++;
	r->off += b;
	return 1;
}
