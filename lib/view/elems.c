/*
 * elems.c - big Redis values kept as elements (doc/ochange.md §7.2).
 *
 * A document whose text is exactly what nedb-redis prints for a set,
 * list, hash or sorted set of more than ELEM_MIN members is kept by a
 * plaintext view as one entry per member in table elems, under its docs
 * key, while docs holds its header and, for text, a marker: EL_MARK,
 * then struct elhdr's fields, then the text before the value (the
 * prefix, `{"_id":K,"type":T,"value":`).  The text is rebuilt from them
 * byte for byte wherever it is read (nedb__el_text), and the Redis
 * operators of a patch (§7.1) change a few entries, not the text.
 *
 * Entries, under docs key K and a 0 (ids hold no NUL):
 *
 *   K \0 'm' member                -> "member"            set
 *   K \0 'l' be64(position ^ 2^63) -> "element"           list, lo..hi-1
 *   K \0 'f' field                 -> be64 order          hash
 *   K \0 'o' be64 order            -> "field":"value"     hash, in order
 *   K \0 'z' member                -> be64 score key      sorted set
 *   K \0 's' score key member      -> ["member",score]    sorted set
 *
 * Members in keys are their raw bytes, so that LMDB's order is Redis's
 * (bytes, shorter first); values hold each member's JSON text as the
 * document has it, so that rebuilding the text only copies.  A score key
 * is the double's bits made to sort as numbers.  Values encoded so are
 * exactly canonical (checked when made: sorted, unique, scores printed
 * as nedb__score_json prints them), which is what makes a patch's
 * result the same on elements and on text (lib/proto/redis.c).
 *
 * An encrypted view keeps every value whole: its keys do not sort by
 * their plaintext bytes in a way this could use for free.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "codec.h"
#include "kv.h"
#include "nql.h"

#define EL_MARK '\x01'
#define EL_HDR 42		/* marker, type, n, sum, since, lo, hi */
#define EL_KEY_MAX 511		/* LMDB's key limit */
#define EL_BIAS 0x8000000000000000ull

/* ---- the header ---------------------------------------------------------- */

static const char *const el_type[] = {
	[EL_SET] = "set", [EL_LIST] = "list", [EL_HASH] = "hash",
	[EL_ZSET] = "zset",
};

int
nedb__el_hdr(const char *p, size_t n, struct elhdr *e)
{
	const unsigned char *b = (const unsigned char *)p;

	if (n < EL_HDR || b[0] != (unsigned char)EL_MARK || b[1] < EL_SET ||
	    b[1] > EL_ZSET)
		return nedb__err(NEDB_ECORRUPT, "corrupt view: a malformed "
				 "value kept as elements; run nedb-checkpoint "
				 "--rebuild");
	e->type = b[1];
	e->n = nedb__get_le64(b + 2);
	e->sum = nedb__get_le64(b + 10);
	e->since = nedb__get_le64(b + 18);
	e->lo = (int64_t)nedb__get_le64(b + 26);
	e->hi = (int64_t)nedb__get_le64(b + 34);
	e->pre = p + EL_HDR;
	e->prelen = n - EL_HDR;
	return 0;
}

/* Appends e (its prefix included) to out, as docs' text. */
int
nedb__el_hdr_put(nedb_buf *out, const struct elhdr *e)
{
	unsigned char b[EL_HDR];

	b[0] = (unsigned char)EL_MARK;
	b[1] = (unsigned char)e->type;
	nedb__put_le64(b + 2, e->n);
	nedb__put_le64(b + 10, e->sum);
	nedb__put_le64(b + 18, e->since);
	nedb__put_le64(b + 26, (uint64_t)e->lo);
	nedb__put_le64(b + 34, (uint64_t)e->hi);
	return nedb_buf_add(out, b, sizeof b) ||
	       nedb_buf_add(out, e->pre, e->prelen) ?
	       nedb__err(NEDB_EIO, "out of memory") : 0;
}

uint64_t
nedb__el_textlen(const struct elhdr *e)
{
	return e->prelen + 3 + e->sum + (e->n ? e->n - 1 : 0);
}

/* ---- keys ------------------------------------------------------------------ */

struct elkey {
	unsigned char b[EL_KEY_MAX];
	size_t base;		/* docs key, \0 */
	size_t n;
};

static void
key_init(struct elkey *k, const unsigned char *dk, size_t dklen)
{
	memcpy(k->b, dk, dklen);
	k->b[dklen] = 0;
	k->base = k->n = dklen + 1;
}

/* The key of tag and data (two parts); false when it would not fit. */
static bool
key_set(struct elkey *k, char tag, const void *a, size_t an, const void *b,
	size_t bn)
{
	if (k->base + 1 + an + bn > EL_KEY_MAX)
		return false;
	k->b[k->base] = (unsigned char)tag;
	memcpy(k->b + k->base + 1, a, an);
	if (bn)
		memcpy(k->b + k->base + 1 + an, b, bn);
	k->n = k->base + 1 + an + bn;
	return true;
}

static void
pos_key(unsigned char out[8], int64_t pos)
{
	nedb__put_be64(out, (uint64_t)pos ^ EL_BIAS);
}

static void
score_key(unsigned char out[8], double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof u);
	u = u >> 63 ? ~u : u | EL_BIAS;
	nedb__put_be64(out, u);
}

static double
score_of(const unsigned char *p)
{
	uint64_t u = nedb__get_be64(p);
	double d;

	u = u >> 63 ? u & ~EL_BIAS : ~u;
	memcpy(&d, &u, sizeof d);
	return d;
}

/* ---- scores --------------------------------------------------------------- */

int
nedb__score_json(nedb_buf *b, double d)
{
	char buf[40];

	if (isinf(d))
		return nedb_buf_puts(b, d > 0 ? "\"inf\"" : "\"-inf\"");
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	return nedb_buf_puts(b, buf);
}


/* ---- LMDB ----------------------------------------------------------------- */

static int
el_put(struct view *v, MDB_txn *txn, const struct elkey *k, const void *d,
       size_t dn, unsigned flags)
{
	MDB_val kv = {k->n, (void *)k->b}, dv = {dn, (void *)d};
	int rc = mdb_put(txn, v->dbi[DBI_ELEMS], &kv, &dv, flags);

	return rc == MDB_KEYEXIST ? 1 : nedb__mdb(rc, "cannot write view");
}

/* 1 with d when the entry is there, 0 when not. */
static int
el_get(struct view *v, MDB_txn *txn, const struct elkey *k, MDB_val *d)
{
	MDB_val kv = {k->n, (void *)k->b};
	int rc = mdb_get(txn, v->dbi[DBI_ELEMS], &kv, d);

	if (rc == MDB_NOTFOUND)
		return 0;
	return rc ? nedb__mdb(rc, "cannot read view") : 1;
}

static int
el_del(struct view *v, MDB_txn *txn, const struct elkey *k)
{
	MDB_val kv = {k->n, (void *)k->b};
	int rc = mdb_del(txn, v->dbi[DBI_ELEMS], &kv, NULL);

	return rc == MDB_NOTFOUND ? 0 : nedb__mdb(rc, "cannot write view");
}

int
nedb__el_clear(struct view *v, MDB_txn *txn, const unsigned char *dk,
	       size_t dklen)
{
	struct elkey k;
	MDB_cursor *c;
	MDB_val kv, d;
	int rc;

	key_init(&k, dk, dklen);
	if ((rc = mdb_cursor_open(txn, v->dbi[DBI_ELEMS], &c)))
		return nedb__mdb(rc, "cannot read view");
	kv.mv_size = k.base;
	kv.mv_data = k.b;
	for (rc = mdb_cursor_get(c, &kv, &d, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(c, &kv, &d, MDB_SET_RANGE)) {
		if (!nedb__key_in(kv.mv_data, kv.mv_size, k.b, k.base))
			break;
		if ((rc = mdb_cursor_del(c, 0)))
			break;
		kv.mv_size = k.base;
		kv.mv_data = k.b;
	}
	mdb_cursor_close(c);
	return nedb__mdb(rc == MDB_NOTFOUND ? 0 : rc, "cannot write view");
}

/* ---- the text -------------------------------------------------------------- */

/* The tag whose entries are the value's members in order. */
static char
walk_tag(int type)
{
	return type == EL_SET ? 'm' : type == EL_LIST ? 'l' :
	       type == EL_HASH ? 'o' : 's';
}

/*
 * The walks: from the first entry at or past seek (rev: the last one
 * before it) on, up to count entries whose keys start with pre (plen
 * bytes), fn called with each value.  fn's negative return (an error)
 * is returned, a positive one (enough) ends the walk with 0.
 */
static int
walk_from(struct view *v, MDB_txn *txn, const unsigned char *pre,
	  size_t plen, const unsigned char *seek, size_t seeklen, bool rev,
	  uint64_t count,
	  int (*fn)(const char *json, size_t len, void *payload),
	  void *payload)
{
	MDB_val kv = {seeklen, (void *)seek}, d;
	MDB_cursor *c;
	int rc;

	if ((rc = mdb_cursor_open(txn, v->dbi[DBI_ELEMS], &c)))
		return nedb__mdb(rc, "cannot read view");
	rc = mdb_cursor_get(c, &kv, &d, MDB_SET_RANGE);
	if (rev)
		rc = rc == MDB_NOTFOUND ? mdb_cursor_get(c, &kv, &d, MDB_LAST) :
		     rc ? rc : mdb_cursor_get(c, &kv, &d, MDB_PREV);
	for (; !rc && count; count--) {
		if (!nedb__key_in(kv.mv_data, kv.mv_size, pre, plen))
			break;
		if ((rc = fn(d.mv_data, d.mv_size, payload))) {
			if (rc > 0)
				rc = MDB_NOTFOUND;
			break;
		}
		rc = mdb_cursor_get(c, &kv, &d, rev ? MDB_PREV : MDB_NEXT);
	}
	mdb_cursor_close(c);
	return nedb__mdb(rc == MDB_NOTFOUND ? 0 : rc, "cannot read view");
}

int
nedb__el_walk(struct view *v, MDB_txn *txn, const unsigned char *dk,
	      size_t dklen, int type, bool rev, uint64_t count,
	      int (*fn)(const char *json, size_t len, void *payload),
	      void *payload)
{
	struct elkey k, end;

	key_init(&k, dk, dklen);
	key_set(&k, walk_tag(type), "", 0, NULL, 0);
	/* backwards: from the first key past the tag's, its successor's */
	end = k;
	end.b[end.n - 1]++;
	return walk_from(v, txn, k.b, k.n, rev ? end.b : k.b, k.n, rev, count,
			 fn, payload);
}

int
nedb__el_zfrom(struct view *v, MDB_txn *txn, const unsigned char *dk,
	       size_t dklen, double from, bool rev, uint64_t count,
	       int (*fn)(const char *json, size_t len, void *payload),
	       void *payload)
{
	unsigned char sk[8];
	struct elkey k, seek;

	key_init(&k, dk, dklen);
	key_set(&k, 's', "", 0, NULL, 0);
	if (from == 0)
		from = 0;		/* -0: where 0's members are */
	score_key(sk, from);
	if (rev)			/* past from's members: its successor */
		nedb__put_be64(sk, nedb__get_be64(sk) + 1);
	seek = k;
	key_set(&seek, 's', sk, 8, NULL, 0);
	return walk_from(v, txn, k.b, k.n, seek.b, seek.n, rev, count, fn,
			 payload);
}

int
nedb__el_list(struct view *v, MDB_txn *txn, const unsigned char *dk,
	      size_t dklen, int64_t pos, uint64_t count,
	      int (*fn)(const char *json, size_t len, void *payload),
	      void *payload)
{
	unsigned char pk[8];
	struct elkey k;

	key_init(&k, dk, dklen);
	pos_key(pk, pos);
	key_set(&k, 'l', pk, 8, NULL, 0);
	return walk_from(v, txn, k.b, k.base + 1, k.b, k.n, false, count, fn,
			 payload);
}

struct joined {
	nedb_buf *out;
	bool any;
};

static int
join_one(const char *json, size_t len, void *payload)
{
	struct joined *j = payload;

	if ((j->any && nedb_buf_add(j->out, ",", 1)) ||
	    nedb_buf_add(j->out, json, len))
		return nedb__err(NEDB_EIO, "out of memory");
	j->any = true;
	return 0;
}

int
nedb__el_text(struct view *v, MDB_txn *txn, const unsigned char *dk,
	      size_t dklen, const struct elhdr *e, nedb_buf *out)
{
	struct joined j = {out, false};
	bool obj = e->type == EL_HASH;
	size_t start = out->len;
	int rc;

	if (nedb_buf_add(out, e->pre, e->prelen) ||
	    nedb_buf_add(out, obj ? "{" : "[", 1))
		return nedb__err(NEDB_EIO, "out of memory");
	if ((rc = nedb__el_walk(v, txn, dk, dklen, e->type, false, UINT64_MAX,
				join_one, &j)))
		return rc;
	if (nedb_buf_add(out, obj ? "}}" : "]}", 2))
		return nedb__err(NEDB_EIO, "out of memory");
	/* the header's count of bytes is the text's (the full versions'
	 * rule rests on it) */
	if (out->len - start != nedb__el_textlen(e))
		return nedb__err(NEDB_ECORRUPT, "corrupt view: a value kept "
				 "as elements is not the size its header says; "
				 "run nedb-checkpoint --rebuild");
	return 0;
}

/* ---- making elements from text ------------------------------------------- */

/* The raw bytes of the JSON string [p, q) in out (NUL-ended); false when
 * it is not one, or not valid UTF-8. */
static bool
raw_str(const char *p, const char *q, nedb_buf *out)
{
	struct nql_span sp = {p, (size_t)(q - p)};
	size_t n;
	char *s;

	if (q - p < 2 || *p != '"' || q[-1] != '"')
		return false;
	if (!(s = nedb__string_value(sp, &n)))
		return false;
	out->len = 0;
	if (!nedb__utf8_valid((unsigned char *)s, n) ||
	    nedb_buf_add(out, s, n)) {
		free(s);
		return false;
	}
	free(s);
	return true;
}

/* The canonical JSON text of raw bytes s is exactly [p, q). */
static bool
canonical(const char *s, size_t n, const char *p, const char *q,
	  nedb_buf *tmp)
{
	tmp->len = 0;
	return !nedb_buf_json_str(tmp, s, n) && tmp->len == (size_t)(q - p) &&
	       !memcmp(tmp->p, p, tmp->len);
}

/*
 * The raw bytes of the JSON string [p, q) when it is exactly as nedb
 * escapes them (canonical): *r and *rn, borrowed from the text when it
 * holds no escape, else decoded into buf.  False when it is not one.
 */
static bool
member_raw(const char *p, const char *q, nedb_buf *buf, nedb_buf *tmp,
	   const char **r, size_t *rn)
{
	const unsigned char *s = (const unsigned char *)p + 1;
	size_t n = (size_t)(q - p) - 2;

	if (q - p < 2 || *p != '"' || q[-1] != '"')
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\\' || s[i] < 0x20)
			goto slow;
	if (!nedb__utf8_valid(s, n))
		return false;
	*r = (const char *)s;
	*rn = n;
	return true;
slow:
	if (!raw_str(p, q, buf) || !canonical(buf->p, buf->len, p, q, tmp))
		return false;
	*r = buf->p;
	*rn = buf->len;
	return true;
}

/* Bytes compare, shorter first (LMDB's and Redis's order). */
static int
bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c ? c : (an > bn) - (an < bn);
}

/*
 * The prefix of a document nedb-redis would print for an aggregate:
 * its length and type, or 0 when doc is not one.
 */
static size_t
el_prefix(const char *doc, size_t len, int *type)
{
	static const char tlit[] = ",\"type\":\"";
	const char *p, *e = doc + len;

	if (len < 3 * ELEM_MIN || memcmp(doc, "{\"_id\":\"", 8) ||
	    e[-1] != '}')
		return 0;
	p = nedb__value_end(doc + 7);
	if (p > e - 40 || memcmp(p, tlit, sizeof tlit - 1))
		return 0;
	p += sizeof tlit - 1;
	for (int t = EL_SET; t <= EL_ZSET; t++) {
		size_t n = strlen(el_type[t]);

		if (!memcmp(p, el_type[t], n) &&
		    !memcmp(p + n, "\",\"value\":", 10)) {
			*type = t;
			return (size_t)(p + n + 10 - doc);
		}
	}
	return 0;
}

bool
nedb__el_candidate(const char *doc, size_t len)
{
	int type;

	return el_prefix(doc, len, &type) != 0;
}

/* The entries a text makes, before they are stored: keys and values
 * side by side in one buffer. */
struct ent {
	size_t k, klen, d, dlen;	/* offsets into mk.buf */
};

struct mk {
	struct view *v;
	MDB_txn *txn;
	struct elkey k;
	struct elhdr *e;
	const struct elhdr *old;	/* its elements now, or NULL */
	nedb_buf raw, prev, tmp, buf, last_m;
	struct ent *ents;
	size_t n, cap;
	double pscore;
	int64_t last;			/* a hash's last order reused */
	bool renumber;			/* the old orders do not fit */
};

/* Adds the entry (m->k, d) to m->ents: 0, or NEDB_EIO. */
static int
mk_ent(struct mk *m, const void *d, size_t dlen)
{
	struct ent *x;

	if (m->n == m->cap) {
		size_t c = m->cap ? 2 * m->cap : 256;

		if (!(x = nedb__realloc(m->ents, c * sizeof *x)))
			return nedb__err(NEDB_EIO, "out of memory");
		m->ents = x;
		m->cap = c;
	}
	x = &m->ents[m->n];
	x->k = m->buf.len;
	x->klen = m->k.n - m->k.base;
	x->d = x->k + x->klen;
	x->dlen = dlen;
	if (nedb_buf_add(&m->buf, m->k.b + m->k.base, x->klen) ||
	    nedb_buf_add(&m->buf, d, dlen))
		return nedb__err(NEDB_EIO, "out of memory");
	m->n++;
	return 0;
}

/* A hash field's order: the one it has among the old elements while
 * those still come in order, else the next. */
static int
mk_order(struct mk *m, int64_t *order)
{
	MDB_val d;
	int rc;

	if (m->old && !m->renumber) {
		if ((rc = el_get(m->v, m->txn, &m->k, &d)) < 0)
			return rc;
		if (rc && d.mv_size == 8) {
			int64_t o = (int64_t)nedb__get_be64(d.mv_data);

			if (o > m->last && o < m->old->hi) {
				*order = m->last = o;
				return 0;
			}
			m->renumber = true;	/* moved: numbered afresh */
		}
	}
	*order = m->e->hi++;
	return 0;
}

/* One member of the text, [p, q) its JSON (a pair's whole for a hash or
 * a sorted set): its entries, if it keeps the order.  0, 1 when it does
 * not, or an error. */
static int
mk_one(struct mk *m, const char *p, const char *q)
{
	struct elhdr *e = m->e;
	unsigned char sk[8], ok[8];
	const char *r, *rs;
	size_t rn;
	int64_t order;
	int rc;

	switch (e->type) {
	case EL_SET:
		if (!member_raw(p, q, &m->raw, &m->tmp, &rs, &rn) ||
		    (e->n && bytes_cmp(m->prev.p, m->prev.len, rs, rn) >= 0) ||
		    !key_set(&m->k, 'm', rs, rn, NULL, 0))
			return 1;
		m->prev.len = 0;
		if (nedb_buf_add(&m->prev, rs, rn))
			return nedb__err(NEDB_EIO, "out of memory");
		return mk_ent(m, p, (size_t)(q - p));
	case EL_LIST:
		if (!member_raw(p, q, &m->raw, &m->tmp, &rs, &rn))
			return 1;
		pos_key(sk, e->hi);
		key_set(&m->k, 'l', sk, 8, NULL, 0);
		e->hi++;
		return mk_ent(m, p, (size_t)(q - p));
	case EL_HASH:
		r = nedb__value_end(p);
		if (r >= q || *r != ':' ||
		    !member_raw(r + 1, q, &m->raw, &m->tmp, &rs, &rn) ||
		    !member_raw(p, r, &m->raw, &m->tmp, &rs, &rn) ||
		    !key_set(&m->k, 'f', rs, rn, NULL, 0))
			return 1;
		if ((rc = mk_order(m, &order)))
			return rc;
		nedb__put_be64(ok, (uint64_t)order);
		if ((rc = mk_ent(m, ok, 8)))
			return rc;
		key_set(&m->k, 'o', ok, 8, NULL, 0);
		return mk_ent(m, p, (size_t)(q - p));
	default: {
		double s;

		if (*p != '[' || q[-1] != ']')
			return 1;
		r = nedb__value_end(p + 1);
		if (r >= q - 1 || *r != ',' ||
		    !member_raw(p + 1, r, &m->raw, &m->prev, &rs, &rn) ||
		    !nedb__score_parse(r + 1, q - 1, &s))
			return 1;
		m->tmp.len = 0;
		if (nedb__score_json(&m->tmp, s))
			return nedb__err(NEDB_EIO, "out of memory");
		if (m->tmp.len != (size_t)(q - 1 - (r + 1)) ||
		    memcmp(m->tmp.p, r + 1, m->tmp.len))
			return 1;	/* a score not as nedb prints it */
		if (e->n && (s < m->pscore ||
			     (s == m->pscore &&
			      bytes_cmp(m->last_m.p, m->last_m.len, rs, rn) >= 0)))
			return 1;
		m->pscore = s;
		score_key(sk, s);
		if (!key_set(&m->k, 's', sk, 8, rs, rn))
			return 1;
		if ((rc = mk_ent(m, p, (size_t)(q - p))))
			return rc;
		key_set(&m->k, 'z', rs, rn, NULL, 0);
		m->last_m.len = 0;
		if (nedb_buf_add(&m->last_m, rs, rn))
			return nedb__err(NEDB_EIO, "out of memory");
		return mk_ent(m, sk, 8);
	}
	}
}

/* The end of the member at p: a value, or a hash's "field":value. */
static const char *
member_end(const char *p, int type)
{
	p = nedb__value_end(p);
	return type == EL_HASH && *p == ':' ? nedb__value_end(p + 1) : p;
}

static int
ent_cmp(const void *x, const void *y, void *base)
{
	const struct ent *a = x, *b = y;
	const char *p = base;

	return bytes_cmp(p + a->k, a->klen, p + b->k, b->klen);
}

/*
 * Makes the elements under m->k's docs key exactly m->ents: with no old
 * ones (merge false), each put; else one walk of the old ones beside the
 * new in key order, so that what the new text repeats is not written
 * again.  1 when two entries have one key (a hash field or a sorted
 * set's member twice: not canonical), and then nothing is written.
 */
/* The cursor at the first key past sk (past: sk itself passed over). */
static int
reseek(MDB_cursor *c, const struct elkey *sk, MDB_val *kv, MDB_val *d,
       bool past)
{
	int rc;

	kv->mv_size = sk->n;
	kv->mv_data = (void *)sk->b;
	rc = mdb_cursor_get(c, kv, d, MDB_SET_RANGE);
	if (!rc && past && kv->mv_size == sk->n &&
	    !memcmp(kv->mv_data, sk->b, sk->n))
		rc = mdb_cursor_get(c, kv, d, MDB_NEXT);
	return rc;
}

static int
mk_store(struct mk *m, bool merge)
{
	struct elkey k = m->k, sk;
	MDB_cursor *c = NULL;
	MDB_val kv = {0, NULL}, d = {0, NULL}, nk, nd;
	size_t i = 0;
	int rc = 0, have = MDB_NOTFOUND;

	/* a set's and a list's come in order; a hash's and a sorted
	 * set's two kinds of entry interleave */
	for (size_t j = 1; j < m->n; j++) {
		int cmp = ent_cmp(&m->ents[j - 1], &m->ents[j], m->buf.p);

		if (cmp > 0) {
			qsort_r(m->ents, m->n, sizeof *m->ents, ent_cmp,
				m->buf.p);
			break;
		}
		if (cmp == 0)
			return 1;
	}
	for (size_t j = 1; j < m->n; j++)
		if (!ent_cmp(&m->ents[j - 1], &m->ents[j], m->buf.p))
			return 1;
	if (merge) {
		if ((rc = mdb_cursor_open(m->txn, m->v->dbi[DBI_ELEMS], &c)))
			return nedb__mdb(rc, "cannot read view");
		kv.mv_size = k.base;
		kv.mv_data = k.b;
		have = mdb_cursor_get(c, &kv, &d, MDB_SET_RANGE);
	}
	for (;;) {
		const struct ent *x = i < m->n ? &m->ents[i] : NULL;
		int cmp;

		if (!have && !nedb__key_in(kv.mv_data, kv.mv_size, k.b,
					   k.base))
			have = MDB_NOTFOUND;
		if (have && have != MDB_NOTFOUND) {
			rc = have;
			break;
		}
		if (have && !x)
			break;
		cmp = have ? 1 : !x ? -1 :
		      bytes_cmp((char *)kv.mv_data + k.base,
				kv.mv_size - k.base, m->buf.p + x->k,
				x->klen);
		if (cmp < 0) {		/* an old one only: it goes */
			memcpy(sk.b, kv.mv_data, kv.mv_size);
			sk.n = kv.mv_size;
			if ((rc = mdb_cursor_del(c, 0)))
				break;
			have = reseek(c, &sk, &kv, &d, false);
			continue;
		}
		memcpy(k.b + k.base, m->buf.p + x->k, x->klen);
		nk.mv_size = k.base + x->klen;
		nk.mv_data = k.b;
		nd.mv_size = x->dlen;
		nd.mv_data = m->buf.p + x->d;
		i++;
		if (cmp == 0 && d.mv_size == x->dlen &&
		    !memcmp(d.mv_data, nd.mv_data, x->dlen)) {
			have = mdb_cursor_get(c, &kv, &d, MDB_NEXT);
			continue;	/* the same: kept */
		}
		if ((rc = mdb_put(m->txn, m->v->dbi[DBI_ELEMS], &nk, &nd, 0)))
			break;
		/* a write may move what the cursor was on: found again,
		 * just past the key written */
		if (c) {
			memcpy(sk.b, k.b, nk.mv_size);
			sk.n = nk.mv_size;
			have = reseek(c, &sk, &kv, &d, true);
		}
	}
	if (c)
		mdb_cursor_close(c);
	return nedb__mdb(rc, "cannot write view");
}

int
nedb__el_encode(struct view *v, MDB_txn *txn, const unsigned char *dk,
		size_t dklen, const char *doc, size_t len, uint64_t since,
		const struct elhdr *old, nedb_buf *out)
{
	struct elhdr e = {0};
	struct mk m = {.v = v, .txn = txn, .e = &e, .last = INT64_MIN};
	const char *p, *end = doc + len - 1;
	char open, close;
	int type, rc = 0;

	if (v->crypt || !(e.prelen = el_prefix(doc, len, &type)))
		return 0;
	e.type = type;
	e.pre = doc;
	e.since = since;
	open = type == EL_HASH ? '{' : '[';
	close = type == EL_HASH ? '}' : ']';
	p = doc + e.prelen;
	if (*p++ != open || end[-1] != close)
		return 0;
	/* count first: most documents are not big values */
	{
		const char *s = p;
		uint64_t n = 0;

		while (s < end - 1 && n <= ELEM_MIN) {
			s = member_end(s, type);
			n++;
			if (*s == ',')
				s++;
			else
				break;
		}
		if (n <= ELEM_MIN)
			return 0;
	}
	/* the old elements' positions and orders, where they may serve */
	if (old && old->type == type) {
		m.old = old;
		e.lo = e.hi = type == EL_LIST ? old->lo : old->hi;
	}
	key_init(&m.k, dk, dklen);
	for (;;) {
		for (p = doc + e.prelen + 1; p < end - 1;) {
			const char *q = member_end(p, type);

			if (q > end - 1 || (*q != ',' && q != end - 1)) {
				rc = 1;
				break;
			}
			if ((rc = mk_one(&m, p, q)))
				break;
			e.n++;
			e.sum += (uint64_t)(q - p);
			p = *q == ',' ? q + 1 : q;
		}
		if (rc || !m.renumber || !m.old)
			break;
		/* a hash whose fields moved: numbered afresh */
		m.old = NULL;
		m.n = m.buf.len = 0;
		e.n = e.sum = 0;
		e.lo = e.hi = 0;
	}
	if (!rc)
		rc = mk_store(&m, old != NULL);
	nedb_buf_free(&m.raw);
	nedb_buf_free(&m.prev);
	nedb_buf_free(&m.tmp);
	nedb_buf_free(&m.buf);
	nedb_buf_free(&m.last_m);
	free(m.ents);
	if (rc)
		return rc < 0 ? rc : 0;	/* not canonical: nothing stored */
	if ((rc = nedb__el_hdr_put(out, &e)))
		return rc;
	return 1;
}

/* ---- point reads ----------------------------------------------------------- */

int
nedb__el_find(struct view *v, MDB_txn *txn, const unsigned char *dk,
	      size_t dklen, int type, const char *m, size_t mlen,
	      nedb_buf *val, double *score)
{
	struct elkey k;
	MDB_val d;
	int rc;

	key_init(&k, dk, dklen);
	if (!key_set(&k, type == EL_SET ? 'm' : type == EL_HASH ? 'f' : 'z',
		     m, mlen, NULL, 0))
		return 0;	/* too long to be one */
	if ((rc = el_get(v, txn, &k, &d)) <= 0)
		return rc;
	if (type == EL_ZSET && score) {
		if (d.mv_size != 8)
			goto bad;
		*score = score_of(d.mv_data);
	}
	if (type == EL_HASH && val) {
		const char *p, *q, *r;

		if (d.mv_size != 8 || !key_set(&k, 'o', d.mv_data, 8, NULL, 0))
			goto bad;
		if ((rc = el_get(v, txn, &k, &d)) < 0)
			return rc;
		if (!rc)
			goto bad;
		p = d.mv_data;
		q = p + d.mv_size;
		r = nedb__value_end(p);
		if (r >= q || !raw_str(r + 1, q, val))
			goto bad;
	}
	return 1;
bad:
	return nedb__err(NEDB_ECORRUPT, "corrupt view: a malformed element; "
			 "run nedb-checkpoint --rebuild");
}

/* ---- the Redis operators ---------------------------------------------------- */

struct ap {
	struct view *v;
	MDB_txn *txn;
	struct elkey k;
	struct elhdr *e;
	nedb_buf json;
};

#define APPLY_FALLBACK 1	/* the elements cannot hold the result */

static int
oom(void)
{
	return nedb__err(NEDB_EIO, "out of memory");
}

static int
broken(void)
{
	return nedb__err(NEDB_ECORRUPT, "corrupt view: a malformed element; "
			 "run nedb-checkpoint --rebuild");
}

static int
ap_sadd(struct ap *x, const struct rop_arg *a)
{
	int rc;

	key_set(&x->k, 'm', a->m, a->mlen, NULL, 0);
	x->json.len = 0;
	if (nedb_buf_json_str(&x->json, a->m, a->mlen))
		return oom();
	rc = el_put(x->v, x->txn, &x->k, x->json.p, x->json.len,
		    MDB_NOOVERWRITE);
	if (rc == 0) {
		x->e->n++;
		x->e->sum += x->json.len;
	}
	return rc == 1 ? 0 : rc;
}

static int
ap_srem(struct ap *x, const struct rop_arg *a)
{
	MDB_val d;
	int rc;

	if (!key_set(&x->k, 'm', a->m, a->mlen, NULL, 0))
		return 0;	/* too long to be one */
	if ((rc = el_get(x->v, x->txn, &x->k, &d)) <= 0)
		return rc;
	x->e->n--;
	x->e->sum -= d.mv_size;
	return el_del(x->v, x->txn, &x->k);
}

static int
ap_push(struct ap *x, const struct rop_arg *a, bool head)
{
	unsigned char pk[8];

	x->json.len = 0;
	if (nedb_buf_json_str(&x->json, a->m, a->mlen))
		return oom();
	if (head)
		x->e->lo--;
	pos_key(pk, head ? x->e->lo : x->e->hi);
	if (!head)
		x->e->hi++;
	key_set(&x->k, 'l', pk, 8, NULL, 0);
	x->e->n++;
	x->e->sum += x->json.len;
	return el_put(x->v, x->txn, &x->k, x->json.p, x->json.len, 0);
}

static int
ap_lset(struct ap *x, uint64_t index, const struct rop_arg *a)
{
	unsigned char pk[8];
	MDB_val d;
	int rc;

	x->json.len = 0;
	if (nedb_buf_json_str(&x->json, a->m, a->mlen))
		return oom();
	pos_key(pk, x->e->lo + (int64_t)index);
	key_set(&x->k, 'l', pk, 8, NULL, 0);
	if ((rc = el_get(x->v, x->txn, &x->k, &d)) < 0)
		return rc;
	if (!rc)
		return broken();
	x->e->sum += x->json.len - d.mv_size;
	return el_put(x->v, x->txn, &x->k, x->json.p, x->json.len, 0);
}

static int
ap_pop(struct ap *x, uint64_t count, bool head)
{
	unsigned char pk[8];
	MDB_val d;
	int rc;

	while (count--) {
		pos_key(pk, head ? x->e->lo : x->e->hi - 1);
		key_set(&x->k, 'l', pk, 8, NULL, 0);
		if ((rc = el_get(x->v, x->txn, &x->k, &d)) < 0)
			return rc;
		if (!rc)
			return broken();
		x->e->sum -= d.mv_size;
		x->e->n--;
		if (head)
			x->e->lo++;
		else
			x->e->hi--;
		if ((rc = el_del(x->v, x->txn, &x->k)))
			return rc;
	}
	return 0;
}

static int
ap_hset(struct ap *x, const struct rop_arg *a)
{
	unsigned char ok[8];
	MDB_val d;
	int rc;

	key_set(&x->k, 'f', a->m, a->mlen, NULL, 0);
	x->json.len = 0;
	if (nedb_buf_json_str(&x->json, a->m, a->mlen) ||
	    nedb_buf_add(&x->json, ":", 1) ||
	    nedb_buf_json_str(&x->json, a->v, a->vlen))
		return oom();
	if ((rc = el_get(x->v, x->txn, &x->k, &d)) < 0)
		return rc;
	if (rc) {
		if (d.mv_size != 8)
			return broken();
		memcpy(ok, d.mv_data, 8);
		key_set(&x->k, 'o', ok, 8, NULL, 0);
		if ((rc = el_get(x->v, x->txn, &x->k, &d)) < 0)
			return rc;
		x->e->sum -= rc ? d.mv_size : 0;
	} else {
		nedb__put_be64(ok, (uint64_t)x->e->hi++);
		if ((rc = el_put(x->v, x->txn, &x->k, ok, 8, 0)))
			return rc;
		key_set(&x->k, 'o', ok, 8, NULL, 0);
		x->e->n++;
	}
	x->e->sum += x->json.len;
	return el_put(x->v, x->txn, &x->k, x->json.p, x->json.len, 0);
}

static int
ap_hdel(struct ap *x, const struct rop_arg *a)
{
	unsigned char ok[8];
	MDB_val d;
	int rc;

	if (!key_set(&x->k, 'f', a->m, a->mlen, NULL, 0))
		return 0;
	if ((rc = el_get(x->v, x->txn, &x->k, &d)) <= 0)
		return rc;
	if (d.mv_size != 8)
		return broken();
	memcpy(ok, d.mv_data, 8);
	if ((rc = el_del(x->v, x->txn, &x->k)))
		return rc;
	key_set(&x->k, 'o', ok, 8, NULL, 0);
	if ((rc = el_get(x->v, x->txn, &x->k, &d)) < 0)
		return rc;
	x->e->sum -= rc ? d.mv_size : 0;
	x->e->n--;
	return el_del(x->v, x->txn, &x->k);
}

/* Removes member m of a sorted set, if there: 1 when it was. */
static int
z_remove(struct ap *x, const char *m, size_t mlen)
{
	unsigned char sk[8];
	MDB_val d;
	int rc;

	if (!key_set(&x->k, 'z', m, mlen, NULL, 0))
		return 0;
	if ((rc = el_get(x->v, x->txn, &x->k, &d)) <= 0)
		return rc;
	if (d.mv_size != 8)
		return broken();
	memcpy(sk, d.mv_data, 8);
	if ((rc = el_del(x->v, x->txn, &x->k)))
		return rc;
	key_set(&x->k, 's', sk, 8, m, mlen);
	if ((rc = el_get(x->v, x->txn, &x->k, &d)) < 0)
		return rc;
	x->e->sum -= rc ? d.mv_size : 0;
	x->e->n--;
	return (rc = el_del(x->v, x->txn, &x->k)) ? rc : 1;
}

static int
ap_zadd(struct ap *x, const struct rop_arg *a)
{
	unsigned char sk[8];
	int rc;

	if ((rc = z_remove(x, a->m, a->mlen)) < 0)
		return rc;
	x->json.len = 0;
	if (nedb_buf_add(&x->json, "[", 1) ||
	    nedb_buf_json_str(&x->json, a->m, a->mlen) ||
	    nedb_buf_add(&x->json, ",", 1) ||
	    nedb__score_json(&x->json, a->score) ||
	    nedb_buf_add(&x->json, "]", 1))
		return oom();
	score_key(sk, a->score);
	key_set(&x->k, 'z', a->m, a->mlen, NULL, 0);
	if ((rc = el_put(x->v, x->txn, &x->k, sk, 8, 0)))
		return rc;
	key_set(&x->k, 's', sk, 8, a->m, a->mlen);
	x->e->n++;
	x->e->sum += x->json.len;
	return el_put(x->v, x->txn, &x->k, x->json.p, x->json.len, 0);
}

static int
ap_each(struct ap *x, int op, const struct rop_arg *a)
{
	int rc;

	switch (op) {
	case ROP_SADD: return ap_sadd(x, a);
	case ROP_SREM: return ap_srem(x, a);
	case ROP_LPUSH: return ap_push(x, a, true);
	case ROP_RPUSH: return ap_push(x, a, false);
	case ROP_HSET: return ap_hset(x, a);
	case ROP_HDEL: return ap_hdel(x, a);
	case ROP_ZADD: return ap_zadd(x, a);
	default: return (rc = z_remove(x, a->m, a->mlen)) < 0 ? rc : 0;
	}
}

int
nedb__el_apply(struct view *v, MDB_txn *txn, const unsigned char *dk,
	       size_t dklen, struct elhdr *e, const char *id, const char *upd,
	       size_t n)
{
	struct ap x = {.v = v, .txn = txn, .e = e};
	struct rop r;
	int rc;

	if ((rc = nedb__rop_parse(upd, n, id, e->type, e->n, &r)))
		return rc;
	key_init(&x.k, dk, dklen);
	/* every key must fit before the first is written */
	for (size_t i = 0; i < r.n; i++)
		if (x.k.base + 1 + 8 + r.a[i].mlen > EL_KEY_MAX &&
		    (r.op == ROP_SADD || r.op == ROP_HSET ||
		     r.op == ROP_ZADD)) {
			nedb__rop_free(&r);
			return APPLY_FALLBACK;
		}
	if (r.op == ROP_LPOP || r.op == ROP_RPOP)
		rc = ap_pop(&x, r.count, r.op == ROP_LPOP);
	else if (r.op == ROP_LSET)
		rc = ap_lset(&x, r.count, &r.a[0]);
	for (size_t i = 0; i < r.n && !rc && r.op != ROP_LSET; i++)
		rc = ap_each(&x, r.op, &r.a[i]);
	nedb__rop_free(&r);
	nedb_buf_free(&x.json);
	return rc;
}
