/*
 * codec.c - the bytes of the view's keys and values (codec.h says how
 * they look and which orders the reads rely on).
 *
 * Invariant: an encoder and its decoder are inverses, and the encoding
 * of every table the state digest covers is the one nedb-format(5)
 * describes, byte for byte (tests/unit/test_codec.c).
 */
#include <string.h>
#include "codec.h"
#include "nql.h"

void
nedb__key_past(unsigned char *p, size_t n, bool past)
{
	p[n - 1] = past ? 1 : 0;
}

void
nedb__num_put(unsigned char out[NUM_LEN], uint64_t v)
{
	nedb__put_be64(out, v);
}

int
nedb__num_get(const void *p, size_t n, uint64_t *v)
{
	if (n != NUM_LEN) {
		*v = 0;
		return nedb__err(NEDB_ECORRUPT, "corrupt view: a number is %zu "
				 "bytes, not 8; run nedb-checkpoint --rebuild",
				 n);
	}
	*v = nedb__get_be64(p);
	return 0;
}

/* name \0 into out; returns its length with the 0 */
static size_t
name0(unsigned char *out, const char *name, size_t n)
{
	memcpy(out, name, n);
	out[n] = 0;
	return n + 1;
}

size_t
nedb__collprefix(unsigned char *out, const char *coll)
{
	return name0(out, coll, strlen(coll));
}

size_t
nedb__dockey_n(unsigned char *out, const char *coll, const char *id,
	       size_t idlen)
{
	size_t c = nedb__collprefix(out, coll);

	memcpy(out + c, id, idlen);
	return c + idlen;
}

size_t
nedb__dockey(unsigned char *out, const char *coll, const char *id)
{
	return nedb__dockey_n(out, coll, id, strlen(id));
}

bool
nedb__dockey_split(const void *k, size_t klen, const char **coll,
		   size_t *clen, const char **id, size_t *idlen)
{
	const char *p = k, *z = memchr(p, 0, klen);

	if (!z)
		return false;
	*coll = p;
	*clen = (size_t)(z - p);
	*id = z + 1;
	*idlen = klen - *clen - 1;
	return true;
}

void
nedb__dochdr_put(void *p, const struct dochdr *h)
{
	unsigned char *b = p;

	nedb__put_le64(b, h->seq);
	nedb__put_le64(b + 8, (uint64_t)h->ts);
	nedb__put_le64(b + 16, (uint64_t)h->exp);
	memcpy(b + 24, h->hash, HASH_LEN);
}

void
nedb__docval_short(void)
{
	nedb__err(NEDB_ECORRUPT, "corrupt view: a document's header "
			 "is cut short; run nedb-checkpoint --rebuild");
}

int
nedb__docval_put(nedb_buf *out, const struct dochdr *h, const char *doc,
		 size_t len)
{
	unsigned char hb[DOCHDR_LEN];

	nedb__dochdr_put(hb, h);
	if (nedb_buf_add(out, hb, sizeof hb) || nedb_buf_add(out, doc, len))
		return nedb__err(NEDB_EIO, "out of memory");
	return 0;
}

size_t
nedb__verkey_of(unsigned char *dockey, size_t klen, uint64_t seq)
{
	dockey[klen] = 0;
	nedb__put_be64(dockey + klen + 1, seq);
	return klen + 9;
}

size_t
nedb__verkey(unsigned char *out, const char *coll, const char *id,
	     size_t idlen, uint64_t seq)
{
	return nedb__verkey_of(out, nedb__dockey_n(out, coll, id, idlen), seq);
}

size_t
nedb__verprefix(unsigned char *out, const char *coll, const char *id,
		size_t idlen)
{
	size_t n = nedb__dockey_n(out, coll, id, idlen);

	out[n] = 0;
	return n + 1;
}

size_t
nedb__verkey_bound(unsigned char *pre, size_t plen, uint64_t upto)
{
	if (upto == NEDB_HEAD) {
		nedb__key_past(pre, plen, true);
		return plen;
	}
	nedb__put_be64(pre + plen, upto + 1);
	return plen + 8;
}

size_t
nedb__seqkey(unsigned char out[8], uint64_t seq)
{
	nedb__put_be64(out, seq);
	return 8;
}

uint64_t
nedb__seqkey_get(const void *k)
{
	return nedb__get_be64(k);
}

size_t
nedb__ttlkey(unsigned char *out, int64_t exp, const void *dockey,
	     size_t klen)
{
	nedb__put_be64(out, (uint64_t)exp);
	if (klen)
		memcpy(out + 8, dockey, klen);
	return 8 + klen;
}

bool
nedb__ttlkey_get(const void *k, size_t klen, int64_t *exp,
		 const void **dockey, size_t *dklen)
{
	if (klen < 8)
		return false;
	*exp = (int64_t)nedb__get_be64(k);
	*dockey = (const unsigned char *)k + 8;
	*dklen = klen - 8;
	return true;
}

int
nedb__namekey_get(const void *k, size_t klen, char *out, size_t max)
{
	if (klen > max)
		return nedb__err(NEDB_ECORRUPT, "corrupt view: a name of %zu "
				 "bytes, more than %zu; run nedb-checkpoint "
				 "--rebuild", klen, max);
	memcpy(out, k, klen);
	out[klen] = 0;
	return 0;
}

size_t
nedb__nodeid_key(unsigned char out[8], uint64_t n)
{
	nedb__put_be64(out, n);
	return 8;
}

size_t
nedb__edgekey(unsigned char *out, uint64_t a, const char *rel, uint64_t b)
{
	size_t r = strlen(rel);

	nedb__put_be64(out, a);
	name0(out + 8, rel, r);
	nedb__put_be64(out + 9 + r, b);
	return 17 + r;
}

size_t
nedb__edgehist_key(unsigned char *key, size_t klen, uint64_t seq)
{
	nedb__put_be64(key + klen, seq);
	return klen + 8;
}

size_t
nedb__edgeprefix(unsigned char *out, uint64_t a, const char *rel)
{
	nedb__put_be64(out, a);
	return rel ? 8 + name0(out + 8, rel, strlen(rel)) : 8;
}

bool
nedb__edgekey_get(const void *k, size_t klen, bool hist, uint64_t *a,
		  const char **rel, size_t *rlen, uint64_t *b, uint64_t *seq,
		  size_t *base)
{
	const unsigned char *p = k;
	size_t n = hist ? klen - 8 : klen;

	if (klen < (hist ? 25u : 17u) || p[n - 9])
		return false;
	*a = nedb__get_be64(p);
	*rel = (const char *)p + 8;
	*rlen = n - 17;
	*b = nedb__get_be64(p + n - 8);
	*seq = hist ? nedb__get_be64(p + n) : 0;
	*base = n;
	return true;
}

unsigned char
nedb__edgehist_val(int kind)
{
	return (unsigned char)kind;
}

int
nedb__edgehist_kind(const void *d, size_t n)
{
	return n == 1 ? *(const unsigned char *)d : -1;
}

size_t
nedb__ixdef_key(unsigned char *out, const char *coll, const char *field)
{
	size_t c = nedb__collprefix(out, coll), f = strlen(field);

	memcpy(out + c, field, f);
	return c + f;
}

int
nedb__ixdef_get(const void *k, size_t klen, char coll[MAX_COLL + 1],
		char field[MAX_FIELD + 1])
{
	const char *c, *f;
	size_t clen, flen;

	if (!nedb__dockey_split(k, klen, &c, &clen, &f, &flen) ||
	    clen > MAX_COLL || flen > MAX_FIELD)
		return nedb__err(NEDB_ECORRUPT, "corrupt view: an index "
				 "definition is not coll/field; run "
				 "nedb-checkpoint --rebuild");
	memcpy(coll, c, clen);
	coll[clen] = 0;
	memcpy(field, f, flen);
	field[flen] = 0;
	return 0;
}

int
nedb__ixdef_kind(const void *d, size_t n, char name[16])
{
	char buf[16];

	if (!name)
		name = buf;
	if (n > 15)
		n = 15;
	memcpy(name, d, n);
	name[n] = 0;
	return nedb__index_kind(name);
}

size_t
nedb__ix_prefix(unsigned char *out, const char *coll, const char *field,
		int kind)
{
	size_t n = nedb__ixdef_key(out, coll, field);

	out[n] = 0;
	out[n + 1] = (unsigned char)kind;
	out[n + 2] = 0;
	return n + 3;
}

size_t
nedb__ixkey_value(unsigned char *key, size_t plen, struct nql_span v)
{
	return plen + nedb__index_key(key + plen, MAX_ENTRY, v);
}

size_t
nedb__ixkey_entry(unsigned char *key, size_t plen, const void *entry,
		  size_t n)
{
	memcpy(key + plen, entry, n);
	return plen + n;
}

size_t
nedb__ixkey_token(unsigned char *key, size_t plen, const char *tok, size_t n)
{
	if (n > MAX_ENTRY)
		n = MAX_ENTRY;
	memcpy(key + plen, tok, n);
	return plen + n;
}

bool
nedb__ixentry_exact(const void *entry, size_t n)
{
	return n < MAX_ENTRY - 1 &&
	       *(const unsigned char *)entry < T_ARRAY;
}

void
nedb__ixrange(struct ixrange *r, int cmp, struct nql_span v)
{
	size_t n = nedb__index_key(r->lo, MAX_ENTRY, v);
	unsigned char tag = r->lo[0];	/* every value of v's type */

	memcpy(r->hi, r->lo, n);
	switch (cmp) {
	case CMP_EQ:
		r->lo_len = r->hi_len = n;
		break;
	case CMP_GT:
	case CMP_GE:	/* from v to the end of v's type */
		r->lo_len = n;
		r->hi[0] = tag;
		r->hi_len = 1;
		break;
	default:	/* from the start of v's type to v */
		r->lo[0] = tag;
		r->lo_len = 1;
		r->hi_len = n;
		break;
	}
}

size_t
nedb__fileprefix(unsigned char *out, const char *name)
{
	size_t n = strlen(name);

	memcpy(out, name, n);
	out[n] = 0;
	return n + 1;
}

size_t
nedb__filekey(unsigned char *out, const char *name, uint64_t version)
{
	size_t n = nedb__fileprefix(out, name);

	nedb__put_be64(out + n, version);
	return n + 8;
}

bool
nedb__filekey_get(const void *k, size_t n, const char **name,
		  size_t *namelen, uint64_t *version)
{
	const unsigned char *b = k;

	if (n < 10 || n > FILEKEY_MAX || b[n - 9] ||
	    memchr(b, 0, n - 9))
		return false;
	*name = (const char *)b;
	*namelen = n - 9;
	*version = nedb__get_be64(b + n - 8);
	return true;
}

void
nedb__fver_put(unsigned char out[FVER_LEN], const struct fver *v)
{
	nedb__put_be64(out, v->seq);
	nedb__put_be64(out + 8, (uint64_t)v->ts);
	nedb__put_be64(out + 16, v->size);
	nedb__put_be64(out + 24, v->chunks);
	memcpy(out + 32, v->root, 32);
	memcpy(out + 64, v->man, 32);
}

int
nedb__fver_get(const void *p, size_t n, struct fver *v)
{
	const unsigned char *b = p;

	if (n != FVER_LEN)
		return nedb__err(NEDB_ECORRUPT, "corrupt view: a file "
				 "version's record is %zu bytes; run "
				 "nedb-checkpoint --rebuild", n);
	v->seq = nedb__get_be64(b);
	v->ts = (int64_t)nedb__get_be64(b + 8);
	v->size = nedb__get_be64(b + 16);
	v->chunks = nedb__get_be64(b + 24);
	memcpy(v->root, b + 32, 32);
	memcpy(v->man, b + 64, 32);
	return 0;
}
