/*
 * value.c - the comparison semantics of SPEC §6 on JSON text.
 *
 * Documents stay as the compact text the user gave; a query runs over a
 * million of them per scan, so nothing here parses a document into jv
 * values or allocates on the common paths (scalar numbers and strings
 * without escapes).  Everything works on spans of text and scans only as
 * far as it must.
 *
 * Invariants:
 *
 *  1. Every scan is bounded by its span: document texts from LMDB are not
 *     NUL-terminated, and text that is not valid JSON may come from a
 *     fuzzer.  On such text the answers are unspecified but memory stays
 *     safe and every loop ends.
 *  2. Whitespace between tokens is skipped, so literal spans need not be
 *     compact; documents are, so the skip costs one compare.
 *  3. Numbers compare exactly as decimals, never through double: "3",
 *     "3.0", "3e0" and "30e-1" are equal, and 12345678901234567890 differs
 *     from 12345678901234567891 although both are the same double.  This
 *     one rule serves "=", "<" and the total order, so equality is
 *     transitive and sorting is consistent.  (Exponents beyond ±10^15
 *     saturate; no real document has them.)
 *  4. Strings compare by their decoded bytes.  The decoder is ours rather
 *     than jq's, so that a scan never loads libjq; it decodes as jq 1.6
 *     does, a surrogate pair into one code point and a lone surrogate
 *     into U+FFFD.
 *  5. Objects: a duplicate key's last value wins, as in jq.  Member order
 *     never matters.
 *  6. The total order (nedb__value_order) and "=" agree: order is 0
 *     exactly when the values are "=".  The index key encoding preserves
 *     that order, except that numbers are ordered through their double
 *     (monotonic, so never inverted, but values beyond double precision
 *     may share a key: index hits must be rechecked with nedb__eval).
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nql.h"

static const struct nql_span absent = {NULL, 0};

/* ---- scanning ---------------------------------------------------------- */

/*
 * Between tokens of valid JSON the only bytes <= ' ' are the four
 * whitespace characters, so one compare tells whitespace apart.
 */
static inline bool
isws(char c)
{
	return (unsigned char)c <= ' ';
}

static inline bool
isdigit_(char c)
{
	return c >= '0' && c <= '9';
}

static inline const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && isws(*p))
		p++;
	return p;
}

/*
 * End (past the closing quote) of the string literal at p; *esc tells
 * whether it has a backslash.  Eight bytes at a time: the lowest byte
 * that is '"' or '\\' is found with the has-zero-byte trick, so short
 * keys and values cost a load or two rather than a branch per byte.
 */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline uint64_t
zero_bytes(uint64_t w)
{
	return (w - ONES) & ~w & HIGHS;	/* exact in its lowest set bit */
}

static inline const char *
str_scan(const char *p, const char *e, bool *esc)
{
	*esc = false;
	p++;
	for (;;) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		while (e - p >= 8) {
			uint64_t w, m;

			memcpy(&w, p, 8);
			m = zero_bytes(w ^ ('"' * ONES)) |
			    zero_bytes(w ^ ('\\' * ONES));
			if (m) {
				p += __builtin_ctzll(m) >> 3;
				goto found;
			}
			p += 8;
		}
#endif
		while (p < e && *p != '"' && *p != '\\')
			p++;
		if (p >= e)
			return e;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
found:
#endif
		if (*p == '"')
			return p + 1;
		*esc = true;
		if ((p += 2) >= e)
			return e;
	}
}

static inline const char *
str_end(const char *p, const char *e)
{
	bool esc;

	return str_scan(p, e, &esc);
}

/* The bytes that end a number, true, false or null. */
static const bool scalar_end[256] = {
	[','] = true, ['}'] = true, [']'] = true, [':'] = true, [' '] = true,
	['\n'] = true, ['\t'] = true, ['\r'] = true,
};

/* The bytes that matter when skipping over an array or object. */
static const bool container_special[256] = {
	['"'] = true, ['{'] = true, ['['] = true, ['}'] = true, [']'] = true,
};

/* End of the JSON value at p. */
static const char *
val_end(const char *p, const char *e)
{
	int depth = 0;

	if (p >= e)
		return e;
	switch (*p) {
	case '"':
		return str_end(p, e);
	case '{':
	case '[':
		while (p < e) {
			while (p < e && !container_special[(unsigned char)*p])
				p++;
			if (p >= e)
				break;
			switch (*p) {
			case '"':
				p = str_end(p, e);
				continue;
			case '{':
			case '[':
				depth++;
				break;
			case '}':
			case ']':
				if (--depth == 0)
					return p + 1;
				break;
			}
			p++;
		}
		return e;
	default:
		while (p < e && !scalar_end[(unsigned char)*p])
			p++;
		return p;
	}
}

/* A span with surrounding whitespace removed. */
static inline struct nql_span
trim(struct nql_span v)
{
	while (v.len && isws(*v.p)) {
		v.p++;
		v.len--;
	}
	while (v.len && isws(v.p[v.len - 1]))
		v.len--;
	return v;
}

/*
 * Iterators over the elements of an array and the members of an object
 * whose text is [p, e).  it.p starts just inside the bracket.
 */
struct iter {
	const char *p, *e;
};

static inline void
iter_init(struct iter *it, struct nql_span v)
{
	it->p = v.p + 1;
	it->e = v.p + v.len;
}

static bool
iter_elem(struct iter *it, struct nql_span *v)
{
	const char *p = skip_ws(it->p, it->e);

	if (p < it->e && *p == ',')
		p = skip_ws(p + 1, it->e);
	if (p >= it->e || *p == ']' || *p == '}')
		return false;
	v->p = p;
	p = val_end(p, it->e);
	if (p == v->p)
		return false;		/* not JSON: stop */
	v->len = (size_t)(p - v->p);
	it->p = p;
	return true;
}

/* k is the key literal with its quotes. */
static bool
iter_member(struct iter *it, struct nql_span *k, struct nql_span *v)
{
	const char *p;

	if (!iter_elem(it, k) || *k->p != '"' || k->len < 2)
		return false;
	p = skip_ws(it->p, it->e);
	if (p >= it->e || *p != ':')
		return false;
	it->p = p + 1;
	return iter_elem(it, v);
}

/* ---- string decoding --------------------------------------------------- */

/* Decodes the inside of a string literal one byte at a time. */
struct sdec {
	const unsigned char *p, *e;
	unsigned char b[4];
	int nb, ib;
};

static inline void
sdec_init(struct sdec *d, const char *inner, size_t n)
{
	d->p = (const unsigned char *)inner;
	d->e = d->p + n;
	d->nb = d->ib = 0;
}

static int
hex4(const unsigned char *p, const unsigned char *e)
{
	int v = 0;

	if (e - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int c = p[i];

		if (c >= '0' && c <= '9')
			c -= '0';
		else if ((c | 32) >= 'a' && (c | 32) <= 'f')
			c = (c | 32) - 'a' + 10;
		else
			return -1;
		v = v << 4 | c;
	}
	return v;
}

static int
utf8_put(unsigned char *b, unsigned long cp)
{
	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6);
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12);
		b[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (unsigned char)(0xf0 | cp >> 18);
	b[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (unsigned char)(0x80 | (cp & 0x3f));
	return 4;
}

/* The next decoded byte, or -1 at the end. */
static int
sdec_next(struct sdec *d)
{
	int c, u;

	if (d->ib < d->nb)
		return d->b[d->ib++];
	if (d->p >= d->e)
		return -1;
	c = *d->p++;
	if (c != '\\' || d->p >= d->e)
		return c;
	switch (c = *d->p++) {
	case 'b': return '\b';
	case 'f': return '\f';
	case 'n': return '\n';
	case 'r': return '\r';
	case 't': return '\t';
	case 'u':
		break;
	default:
		return c;	/* \" \\ \/ */
	}
	if ((u = hex4(d->p, d->e)) < 0)
		return 'u';	/* not JSON; keep going */
	d->p += 4;
	unsigned long cp = (unsigned long)u;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		int lo;

		if (d->e - d->p >= 6 && d->p[0] == '\\' && d->p[1] == 'u' &&
		    (lo = hex4(d->p + 2, d->e)) >= 0xdc00 && lo <= 0xdfff) {
			d->p += 6;
			cp = 0x10000 + ((cp - 0xd800) << 10 |
					((unsigned long)lo - 0xdc00));
		} else
			cp = 0xfffd;
	} else if (cp >= 0xdc00 && cp <= 0xdfff)
		cp = 0xfffd;
	d->nb = utf8_put(d->b, cp);
	d->ib = 1;
	return d->b[0];
}

static inline bool
has_escape(const char *p, size_t n)
{
	return memchr(p, '\\', n) != NULL;
}

/* Decoded-byte comparison of two string insides (memcmp, then length). */
static int
str_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	struct sdec da, db;
	int ca, cb;

	if (!has_escape(a, an) && !has_escape(b, bn)) {
		int r = memcmp(a, b, an < bn ? an : bn);

		if (r)
			return r;
		return an < bn ? -1 : an > bn;
	}
	sdec_init(&da, a, an);
	sdec_init(&db, b, bn);
	do {
		ca = sdec_next(&da);
		cb = sdec_next(&db);
	} while (ca == cb && ca >= 0);
	return ca < cb ? -1 : ca > cb;
}

static inline bool
str_eq(const char *a, size_t an, const char *b, size_t bn)
{
	if (an == bn && !memcmp(a, b, an))
		return true;	/* same text, same value */
	if (!has_escape(a, an) && !has_escape(b, bn))
		return false;
	return str_cmp(a, an, b, bn) == 0;
}

/* Does the key literal k (with quotes) decode to key[0..n)? */
static inline bool
key_is(struct nql_span k, const char *key, size_t n)
{
	const char *in = k.p + 1;
	size_t inlen = k.len - 2;
	struct sdec d;
	int c;

	/* Decoding never lengthens: shorter text cannot match. */
	if (inlen < n)
		return false;
	if (inlen == n) {
		if (memcmp(in, key, n))
			return false;
		if (!has_escape(in, inlen))
			return true;
	} else if (!has_escape(in, inlen))
		return false;
	sdec_init(&d, in, inlen);
	for (size_t i = 0; i < n; i++)
		if (sdec_next(&d) != (unsigned char)key[i])
			return false;
	c = sdec_next(&d);
	return c < 0;
}

char *
nedb__string_value(struct nql_span v, size_t *len)
{
	struct sdec d;
	size_t n = 0;
	char *out;
	int c;

	v = trim(v);
	if (v.len < 2 || *v.p != '"')
		return NULL;
	out = nedb__malloc(v.len - 1);	/* decoding never lengthens */
	if (!has_escape(v.p + 1, v.len - 2)) {
		n = v.len - 2;
		memcpy(out, v.p + 1, n);
	} else {
		sdec_init(&d, v.p + 1, v.len - 2);
		while ((c = sdec_next(&d)) >= 0)
			out[n++] = (char)c;
	}
	out[n] = 0;
	if (len)
		*len = n;
	return out;
}

/* ---- types and paths --------------------------------------------------- */

enum nql_type
nedb__type(struct nql_span v)
{
	v = trim(v);
	if (!v.len)
		return T_ABSENT;
	switch (*v.p) {
	case 'n': return T_NULL;
	case 'f': return T_FALSE;
	case 't': return T_TRUE;
	case '"': return v.len >= 2 ? T_STRING : T_NUMBER; /* not JSON */
	case '[': return T_ARRAY;
	case '{': return T_OBJECT;
	default: return T_NUMBER;
	}
}

/*
 * The value of member key in object v (the last one wins, so the whole
 * object is read); len 0 if none.  This loop is the cost of a condition
 * in a scan, hence written out rather than built on iter_member.
 */
static struct nql_span
obj_get(struct nql_span v, const char *key, size_t n)
{
	const char *p = v.p + 1, *e = v.p + v.len, *k, *x;
	struct nql_span found = absent;
	size_t klen;
	bool esc, match;

	for (;;) {
		p = skip_ws(p, e);
		if (p >= e || *p != '"')
			break;
		k = p;
		p = str_scan(p, e, &esc);
		klen = (size_t)(p - k);
		if (klen < 2)
			break;
		klen -= 2;
		if (!esc)
			match = klen == n && !memcmp(k + 1, key, n);
		else	/* decoding never lengthens */
			match = klen >= n && key_is((struct nql_span){k,
							klen + 2}, key, n);
		p = skip_ws(p, e);
		if (p >= e || *p != ':')
			break;
		p = skip_ws(p + 1, e);
		x = p;
		if (p < e && *p == '"')
			p = str_scan(p, e, &esc);
		else if ((p = val_end(p, e)) == x)
			break;
		if (match)
			found = (struct nql_span){x, (size_t)(p - x)};
		p = skip_ws(p, e);
		if (p >= e || *p != ',')
			break;
		p++;
	}
	return found;
}

/* Element i of array v; len 0 if none. */
static struct nql_span
arr_get(struct nql_span v, size_t i)
{
	struct nql_span m;
	struct iter it;

	iter_init(&it, v);
	while (iter_elem(&it, &m))
		if (i-- == 0)
			return m;
	return absent;
}

/* An array index: all digits, and small enough. */
static bool
index_of(const char *s, size_t *out)
{
	size_t i = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isdigit_(*s) || i > ((size_t)-1 - 9) / 10)
			return false;
		i = i * 10 + (size_t)(*s - '0');
	}
	*out = i;
	return true;
}

struct nql_span
nedb__path_get(const char *doc, size_t len, const struct nql_path *path)
{
	struct nql_span v = {doc, len};
	size_t idx;

	v = trim(v);
	for (size_t i = 0; i < path->n && v.len; i++) {
		const char *part = path->parts[i];

		if (*v.p == '{')
			v = obj_get(v, part, path->lens ? path->lens[i] :
				    strlen(part));
		else if (*v.p == '[' && index_of(part, &idx))
			v = arr_get(v, idx);
		else
			return absent;
	}
	return v;
}

/* ---- numbers ------------------------------------------------------------ */

/*
 * A number as 0.D × 10^E with D its significant digits (no leading or
 * trailing zeros), split across the text's integer and fraction parts.
 */
struct num {
	const char *ip, *fp;
	size_t il, fl;
	int64_t E;
	bool neg, zero;
};

#define EXP_MAX 1000000000000000LL

static void
num_parse(struct nql_span v, struct num *n)
{
	const char *p = v.p, *e = v.p + v.len;
	int64_t x = 0;
	bool xneg = false;

	n->neg = p < e && *p == '-';
	if (n->neg)
		p++;
	n->ip = p;
	while (p < e && isdigit_(*p))
		p++;
	n->il = (size_t)(p - n->ip);
	n->fp = p;
	n->fl = 0;
	if (p < e && *p == '.') {
		n->fp = ++p;
		while (p < e && isdigit_(*p))
			p++;
		n->fl = (size_t)(p - n->fp);
	}
	if (p < e && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < e && (*p == '+' || *p == '-'))
			xneg = *p++ == '-';
		for (; p < e && isdigit_(*p); p++)
			if (x < EXP_MAX)
				x = x * 10 + (*p - '0');
		if (xneg)
			x = -x;
	}
	while (n->il && *n->ip == '0') {
		n->ip++;
		n->il--;
	}
	n->E = x + (int64_t)n->il;
	if (!n->il)
		while (n->fl && *n->fp == '0') {
			n->fp++;
			n->fl--;
			n->E--;
		}
	while (n->fl && n->fp[n->fl - 1] == '0')
		n->fl--;
	if (!n->fl)
		while (n->il && n->ip[n->il - 1] == '0')
			n->il--;
	n->zero = !n->il && !n->fl;
}

static inline char
num_digit(const struct num *n, size_t k)
{
	return k < n->il ? n->ip[k] : n->fp[k - n->il];
}

static int
num_cmp(struct nql_span a, struct nql_span b)
{
	struct num x, y;
	int sx, sy, mag = 0;
	size_t nx, ny;

	if (a.len == b.len && !memcmp(a.p, b.p, a.len))
		return 0;
	num_parse(a, &x);
	num_parse(b, &y);
	sx = x.zero ? 0 : x.neg ? -1 : 1;
	sy = y.zero ? 0 : y.neg ? -1 : 1;
	if (sx != sy || !sx)
		return sx < sy ? -1 : sx > sy;
	if (x.E != y.E)
		mag = x.E < y.E ? -1 : 1;
	else {
		nx = x.il + x.fl;
		ny = y.il + y.fl;
		for (size_t k = 0; k < nx && k < ny && !mag; k++) {
			char dx = num_digit(&x, k), dy = num_digit(&y, k);

			if (dx != dy)
				mag = dx < dy ? -1 : 1;
		}
		if (!mag)
			mag = nx < ny ? -1 : nx > ny;
	}
	return sx * mag;
}

/* The C locale, made once (NULL if it cannot be). */
static locale_t
c_locale(void)
{
	static locale_t c_loc;
	locale_t loc = __atomic_load_n(&c_loc, __ATOMIC_ACQUIRE);

	if (!loc) {
		locale_t fresh = newlocale(LC_ALL_MASK, "C", (locale_t)0);

		if (!fresh)
			return NULL;
		/* on failure loc is the locale another thread stored */
		if (__atomic_compare_exchange_n(&c_loc, &loc, fresh, false,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			loc = fresh;
		else
			freelocale(fresh);
	}
	return loc;
}

/* The same, for sql_value.c. */
locale_t nedb__c_locale(void);

locale_t
nedb__c_locale(void)
{
	return c_locale();
}

/* The nearest double, parsed in the C locale whatever the process's. */
static double
num_double(struct nql_span v)
{
	locale_t loc = c_locale();
	char buf[64], *s = buf;
	double d;

	if (!loc)
		return 0;
	if (v.len >= sizeof buf)
		s = nedb__malloc(v.len + 1);
	memcpy(s, v.p, v.len);
	s[v.len] = 0;
	d = strtod_l(s, NULL, loc);
	if (s != buf)
		free(s);
	return d;
}

/*
 * Appends the JSON text of a computed number (a sum, an $inc): an
 * integral value below 2^53 in magnitude as an integer, any other
 * finite one as the shortest %g text that reads back as the same
 * double.  JSON has no text for infinities and NaN: for those it
 * appends nothing and returns -1, and the caller decides (null, or an
 * error naming the field).
 */
int
nedb__buf_double(nedb_buf *b, double d)
{
	locale_t loc = c_locale(), old = loc ? uselocale(loc) : NULL;
	char text[40];

	if (d != d || d - d != 0) {		/* NaN or an infinity */
		if (old)
			uselocale(old);
		return -1;
	}
	if (d == (double)(int64_t)d && d > -9007199254740992.0 &&
	    d < 9007199254740992.0)
		snprintf(text, sizeof text, "%lld", (long long)d);
	else
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(text, sizeof text, "%.*g", prec, d);
			if (strtod(text, NULL) == d)
				break;
		}
	if (old)
		uselocale(old);
	return nedb_buf_puts(b, text);
}

/* ---- equality and order ------------------------------------------------ */

static bool value_eq(struct nql_span a, struct nql_span b);

static bool
arr_eq(struct nql_span a, struct nql_span b)
{
	struct nql_span x, y;
	struct iter ia, ib;

	iter_init(&ia, a);
	iter_init(&ib, b);
	while (iter_elem(&ia, &x)) {
		if (!iter_elem(&ib, &y) || !value_eq(x, y))
			return false;
	}
	return !iter_elem(&ib, &y);
}

/* Is member k (found at it) the last one with its key in its object? */
static bool
last_of_key(const struct iter *at, struct nql_span k)
{
	struct iter it = *at;
	struct nql_span k2, v2;

	while (iter_member(&it, &k2, &v2))
		if (str_eq(k.p + 1, k.len - 2, k2.p + 1, k2.len - 2))
			return false;
	return true;
}

/* Member with key literal k in object v (last wins); len 0 if none. */
static struct nql_span
obj_get_lit(struct nql_span v, struct nql_span k)
{
	struct nql_span k2, m, found = absent;
	struct iter it;

	iter_init(&it, v);
	while (iter_member(&it, &k2, &m))
		if (str_eq(k.p + 1, k.len - 2, k2.p + 1, k2.len - 2))
			found = m;
	return found;
}

/* Distinct keys of object v. */
static size_t
obj_nkeys(struct nql_span v)
{
	struct nql_span k, m;
	struct iter it;
	size_t n = 0;

	iter_init(&it, v);
	while (iter_member(&it, &k, &m))
		n += last_of_key(&it, k);
	return n;
}

static bool
obj_eq(struct nql_span a, struct nql_span b)
{
	struct nql_span k, m, o;
	struct iter it;
	size_t n = 0;

	iter_init(&it, a);
	while (iter_member(&it, &k, &m)) {
		if (!last_of_key(&it, k))
			continue;
		o = obj_get_lit(b, k);
		if (!o.len || !value_eq(m, o))
			return false;
		n++;
	}
	return n == obj_nkeys(b);
}

/* a and b trimmed and non-empty. */
static bool
value_eq(struct nql_span a, struct nql_span b)
{
	enum nql_type t;

	if (a.len == b.len && !memcmp(a.p, b.p, a.len))
		return true;
	if ((t = nedb__type(a)) != nedb__type(b))
		return false;
	switch (t) {
	case T_NUMBER:
		return num_cmp(a, b) == 0;
	case T_STRING:
		return str_eq(a.p + 1, a.len - 2, b.p + 1, b.len - 2);
	case T_ARRAY:
		return arr_eq(a, b);
	case T_OBJECT:
		return obj_eq(a, b);
	default:
		return true;	/* null, true, false */
	}
}

bool
nedb__value_eq(struct nql_span a, struct nql_span b)
{
	a = trim(a);
	b = trim(b);
	if (!a.len || !b.len)
		return false;	/* absent equals nothing */
	return value_eq(a, b);
}

bool
nedb__value_cmp(struct nql_span a, enum nql_cmp op, struct nql_span b)
{
	enum nql_type t;
	int c;

	switch (op) {
	case CMP_EQ:
		return nedb__value_eq(a, b);
	case CMP_NE:
		return !nedb__value_eq(a, b);
	default:
		break;
	}
	a = trim(a);
	b = trim(b);
	t = nedb__type(a);
	if (t != nedb__type(b))
		return false;
	if (t == T_NUMBER)
		c = num_cmp(a, b);
	else if (t == T_STRING)
		c = str_cmp(a.p + 1, a.len - 2, b.p + 1, b.len - 2);
	else
		return false;
	switch (op) {
	case CMP_LT: return c < 0;
	case CMP_LE: return c <= 0;
	case CMP_GT: return c > 0;
	default: return c >= 0;
	}
}

/* An object member, for sorting by key. */
struct kv {
	struct nql_span k, v;
};

static int
kv_cmp(const void *x, const void *y)
{
	const struct kv *a = x, *b = y;

	return str_cmp(a->k.p + 1, a->k.len - 2, b->k.p + 1, b->k.len - 2);
}

/* The distinct members of object v sorted by key; caller frees. */
static struct kv *
obj_sorted(struct nql_span v, size_t *n)
{
	struct nql_span k, m;
	struct iter it;
	struct kv *kv;

	*n = 0;
	kv = nedb__malloc((obj_nkeys(v) + 1) * sizeof *kv);
	iter_init(&it, v);
	while (iter_member(&it, &k, &m))
		if (last_of_key(&it, k))
			kv[(*n)++] = (struct kv){k, m};
	if (*n > 1)
		qsort(kv, *n, sizeof *kv, kv_cmp);
	return kv;
}

static int value_order(struct nql_span a, struct nql_span b);

/*
 * Objects order as jq orders them: first by their sorted key lists
 * (compared as arrays of strings: key by key, then the shorter list
 * first), then by their values taken in sorted key order.
 */
static int
obj_order(struct nql_span a, struct nql_span b)
{
	size_t na, nb, i;
	struct kv *x = obj_sorted(a, &na), *y = obj_sorted(b, &nb);
	int r = 0;

	if (!x || !y) {		/* out of memory: some consistent answer */
		free(x);
		free(y);
		r = memcmp(a.p, b.p, a.len < b.len ? a.len : b.len);
		return r ? r : a.len < b.len ? -1 : a.len > b.len;
	}
	for (i = 0; i < na && i < nb && !r; i++)
		r = kv_cmp(&x[i], &y[i]);
	if (!r)
		r = na < nb ? -1 : na > nb;
	for (i = 0; i < na && !r; i++)
		r = value_order(x[i].v, y[i].v);
	free(x);
	free(y);
	return r;
}

/* Arrays: element by element, then the shorter first. */
static int
arr_order(struct nql_span a, struct nql_span b)
{
	struct nql_span x, y;
	struct iter ia, ib;
	bool hx, hy;
	int r;

	iter_init(&ia, a);
	iter_init(&ib, b);
	for (;;) {
		hx = iter_elem(&ia, &x);
		hy = iter_elem(&ib, &y);
		if (!hx || !hy)
			return hx - hy;
		if ((r = value_order(x, y)))
			return r;
	}
}

static int
value_order(struct nql_span a, struct nql_span b)
{
	enum nql_type ta = nedb__type(a), tb = nedb__type(b);
	int r;

	if (ta != tb)
		return ta < tb ? -1 : 1;
	switch (ta) {
	case T_NUMBER:
		return num_cmp(a, b);
	case T_STRING:
		r = str_cmp(a.p + 1, a.len - 2, b.p + 1, b.len - 2);
		return r < 0 ? -1 : r > 0;
	case T_ARRAY:
		return arr_order(a, b);
	case T_OBJECT:
		return obj_order(a, b);
	default:
		return 0;
	}
}

int
nedb__value_order(struct nql_span a, struct nql_span b)
{
	return value_order(trim(a), trim(b));
}

/* ---- evaluation -------------------------------------------------------- */

static bool
contains(struct nql_span arr, struct nql_span v)
{
	struct nql_span x;
	struct iter it;

	if (nedb__type(arr) != T_ARRAY)
		return false;
	iter_init(&it, arr);
	while (iter_elem(&it, &x))
		if (nedb__value_eq(x, v))
			return true;
	return false;
}

static bool
eval_leaf(const struct nql_expr *e, struct nql_span v)
{
	switch (e->kind) {
	case EX_CMP:
		return e->nvals && nedb__value_cmp(v, e->cmp, e->vals[0]);
	case EX_IN:
		for (size_t i = 0; i < e->nvals; i++)
			if (nedb__value_eq(v, e->vals[i]))
				return true;
		return false;
	case EX_EXISTS:
		return v.len > 0;
	case EX_CONTAINS:
		return e->nvals && contains(v, e->vals[0]);
	default:
		return false;
	}
}

/*
 * A chain of ANDs (or ORs): the parsers build long chains down the left
 * side, "a AND b AND c" as ((a AND b) AND c), so recursing into a would
 * take stack in proportion to the chain.  The chain's nodes are listed
 * instead and their operands evaluated left to right, as written, until
 * one decides the answer.
 */
static bool
eval_chain(const struct nql_expr *e, const char *doc, size_t len)
{
	enum nql_expr_kind kind = e->kind;
	const struct nql_expr *stack[32], **node = stack, *x;
	size_t n = 0;
	bool r;

	for (x = e; x->kind == kind; x = x->a)
		n++;
	if (n > sizeof stack / sizeof *stack &&
	    !(node = nedb__malloc(n * sizeof *node))) {
		/* out of memory: the same answer, right to left */
		for (x = e; x->kind == kind; x = x->a)
			if (nedb__eval(x->b, doc, len) == (kind == EX_OR))
				return kind == EX_OR;
		return nedb__eval(x, doc, len);
	}
	n = 0;
	for (x = e; x->kind == kind; x = x->a)
		node[n++] = x;
	r = nedb__eval(x, doc, len);
	while (n-- && r == (kind == EX_AND))
		r = nedb__eval(node[n]->b, doc, len);
	if (node != stack)
		free(node);
	return r;
}

bool
nedb__eval(const struct nql_expr *e, const char *doc, size_t len)
{
	struct nql_span v;
	bool neg = false;

	while (e->kind == EX_NOT) {
		neg = !neg;
		e = e->a;
	}
	switch (e->kind) {
	case EX_AND:
	case EX_OR:
		return eval_chain(e, doc, len) != neg;
	case EX_TRUE:
		return !neg;
	default:
		break;
	}
	v = nedb__path_get(doc, len, &e->path);
	return eval_leaf(e, v) != neg;
}

/* ---- SEARCH ------------------------------------------------------------ */

/*
 * A token is a run of ASCII letters and digits and of bytes >= 0x80, with
 * ASCII lowercased: non-ASCII bytes belong to words rather than split
 * them, so "café" and "東京" are searchable words, but their case is not
 * folded ("CAFÉ" is the token "cafÉ").
 */
static inline bool
tok_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c >= 0x80;
}

void
nedb__tokens(const char *text, size_t len,
	     void (*fn)(const char *tok, size_t n, void *payload),
	     void *payload)
{
	char stack[128], *buf = stack;
	size_t cap = sizeof stack, i = 0;

	while (i < len) {
		size_t s, n;

		while (i < len && !tok_byte((unsigned char)text[i]))
			i++;
		for (s = i; i < len && tok_byte((unsigned char)text[i]); i++)
			;
		if (!(n = i - s))
			break;
		if (n + 1 > cap) {
			char *nb = nedb__malloc(n + 1);

			if (!nb)
				break;
			if (buf != stack)
				free(buf);
			buf = nb;
			cap = n + 1;
		}
		for (size_t j = 0; j < n; j++) {
			char c = text[s + j];

			buf[j] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
		}
		buf[n] = 0;
		fn(buf, n, payload);
	}
	if (buf != stack)
		free(buf);
}

struct want {
	char **tok;
	size_t *len;
	bool *found;
	size_t n, left;
};

static void
want_add(const char *tok, size_t n, void *payload)
{
	struct want *w = payload;

	for (size_t i = 0; i < w->n; i++)
		if (w->len[i] == n && !memcmp(w->tok[i], tok, n))
			return;		/* a repeated word */
	w->tok = nedb__realloc(w->tok, (w->n + 1) * sizeof *w->tok);
	w->len = nedb__realloc(w->len, (w->n + 1) * sizeof *w->len);
	w->found = nedb__realloc(w->found, (w->n + 1) * sizeof *w->found);
	w->tok[w->n] = nedb__memdup(tok, n);
	w->len[w->n] = n;
	w->found[w->n] = false;
	w->n++;
	w->left++;
}

static void
want_see(const char *tok, size_t n, void *payload)
{
	struct want *w = payload;

	for (size_t i = 0; i < w->n; i++)
		if (!w->found[i] && w->len[i] == n &&
		    !memcmp(w->tok[i], tok, n)) {
			w->found[i] = true;
			w->left--;
		}
}

/* Tokenizes every string value (not key) in v until all words are seen. */
static void
search_value(struct nql_span v, struct want *w)
{
	const char *p, *e;

	if (!v.len)
		return;		/* absent */
	p = v.p;
	e = v.p + v.len;
	while (p < e && w->left) {
		const char *s, *q;

		if (*p != '"') {
			p++;
			continue;
		}
		s = p;
		p = str_end(p, e);
		q = skip_ws(p, e);
		if (q < e && *q == ':')
			continue;		/* a key */
		if (p - s < 2)
			break;
		if (!has_escape(s + 1, (size_t)(p - s - 2)))
			nedb__tokens(s + 1, (size_t)(p - s - 2), want_see, w);
		else {
			size_t n;
			char *dec = nedb__string_value(
				(struct nql_span){s, (size_t)(p - s)}, &n);

			if (dec)
				nedb__tokens(dec, n, want_see, w);
			free(dec);
		}
	}
}

bool
nedb__search_match(const char *doc, size_t len, const char *query,
		   const struct nql_path *fields, size_t nfields)
{
	struct want w = {0};
	bool ok;

	nedb__tokens(query, strlen(query), want_add, &w);
	if (fields)
		for (size_t i = 0; i < nfields && w.left; i++)
			search_value(nedb__path_get(doc, len, &fields[i]), &w);
	else
		search_value((struct nql_span){doc, len}, &w);
	ok = !w.left;	/* no words: everything matches */
	for (size_t i = 0; i < w.n; i++)
		free(w.tok[i]);
	free(w.tok);
	free(w.len);
	free(w.found);
	return ok;
}

/* ---- index keys -------------------------------------------------------- */

/*
 * The encoding extends nql.h's to arrays and objects so that keys of
 * every type sort as nedb__value_order does (and "=" values share a
 * key, [3] and [3.0] included):
 *
 *   absent/null/false/true  tag
 *   number   tag, then the exact decimal value 0.D x 10^E (num_parse):
 *            0x01 negative, 0x02 zero, 0x03 positive; for non-zero
 *            numbers be64(E + 2^62) and the digits D then 0x00, all of
 *            it inverted for negatives.  So numbers that share a double
 *            still get keys in their exact order, and 3 and 3.0 one key.
 *   string   tag, decoded bytes with 0x00 as 0x00 0xff, then 0x00 0x00
 *   array    tag, each element's key, then 0x00 (below every tag)
 *   object   tag, each distinct key in sorted order as a string key,
 *            0x00, then each value's key in that order, 0x00
 */
struct kbuf {
	unsigned char *out;
	size_t n, max;
};

static inline bool
kput(struct kbuf *k, unsigned char c)
{
	if (k->n >= k->max)
		return false;
	k->out[k->n++] = c;
	return true;
}

static void
key_string(struct kbuf *k, const char *in, size_t n)
{
	struct sdec d;
	int c;

	kput(k, T_STRING);
	sdec_init(&d, in, n);
	while ((c = sdec_next(&d)) >= 0 && k->n < k->max) {
		kput(k, (unsigned char)c);
		if (!c)
			kput(k, 0xff);
	}
	kput(k, 0);
	kput(k, 0);
}

static void
key_value(struct kbuf *k, struct nql_span v)
{
	enum nql_type t = nedb__type(v);
	struct nql_span x;
	struct iter it;

	if (k->n >= k->max)
		return;
	switch (t) {
	case T_NUMBER: {
		struct num n;
		unsigned char inv;
		uint64_t e;

		num_parse(v, &n);
		kput(k, T_NUMBER);
		if (n.zero) {
			kput(k, 0x02);		/* -0 and 0 are "=" */
			return;
		}
		kput(k, n.neg ? 0x01 : 0x03);
		inv = n.neg ? 0xff : 0x00;
		e = (uint64_t)(n.E + (1LL << 62));
		for (int i = 56; i >= 0; i -= 8)
			kput(k, (unsigned char)(e >> i) ^ inv);
		for (size_t i = 0; i < n.il + n.fl; i++)
			kput(k, (unsigned char)num_digit(&n, i) ^ inv);
		kput(k, inv);
		return;
	}
	case T_STRING:
		key_string(k, v.p + 1, v.len - 2);
		return;
	case T_ARRAY:
		kput(k, T_ARRAY);
		iter_init(&it, v);
		while (k->n < k->max && iter_elem(&it, &x))
			key_value(k, x);
		kput(k, 0);
		return;
	case T_OBJECT: {
		size_t n, i;
		struct kv *kv = obj_sorted(v, &n);

		kput(k, T_OBJECT);
		if (!kv) {
			k->n = k->max;		/* out of memory: cut here */
			return;
		}
		for (i = 0; i < n; i++)
			key_string(k, kv[i].k.p + 1, kv[i].k.len - 2);
		kput(k, 0);
		for (i = 0; i < n && k->n < k->max; i++)
			key_value(k, kv[i].v);
		kput(k, 0);
		free(kv);
		return;
	}
	default:
		kput(k, (unsigned char)t);
	}
}

size_t
nedb__index_key(unsigned char *out, size_t max, struct nql_span v)
{
	struct kbuf k = {out, 0, max};

	key_value(&k, trim(v));
	return k.n;
}
