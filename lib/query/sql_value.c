/*
 * sql_value.c - sqlite3's values and expressions for nedb-sql.
 *
 * Everything here is written to give sqlite3's (3.40) answers:
 *
 *  1. Values are NULL, INTEGER (int64), REAL (double) and TEXT.  A
 *     document's JSON maps onto them as sqlite3's JSON functions do:
 *     null and an absent member are NULL, a number without '.' or an
 *     exponent that fits 64 bits is INTEGER, any other number REAL, a
 *     string TEXT, true and false 1 and 0, an array or object its JSON
 *     text.
 *  2. Text becomes a number as sqlite3's sqlite3AtoF and sqlite3Atoi64
 *     read it: for arithmetic its longest numeric prefix ('3.5x' is 3.5,
 *     'abc' 0), for affinity only when all of it is a number.
 *  3. Comparisons apply affinity first (a column's declared type, a
 *     CAST's type; nothing else has one), then order NULL < numbers <
 *     text, numbers exactly (an INTEGER against a REAL without rounding
 *     either), text by its bytes.
 *  4. Three-valued logic: a comparison with NULL is NULL, NOT NULL is
 *     NULL, AND and OR as SQL has them; a WHERE keeps a row only when
 *     its condition is true.
 *  5. REAL prints as sqlite3 prints it ("%!.15g": 1.0, 1.0e+20,
 *     0.333333333333333), is stored in documents as the shortest text
 *     that reads back as the same double, always with '.' or an
 *     exponent so that it stays REAL.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "sql.h"

/* ---- the arena --------------------------------------------------------- */

struct sql_chunk {
	struct sql_chunk *next;
	size_t used, cap;
	char data[];
};

void *
nedb__sql_alloc(struct sql_arena *a, size_t n)
{
	struct sql_chunk *c = a->head;

	n = (n + 7) & ~(size_t)7;
	if (!c || c->cap - c->used < n) {
		size_t cap = n > 8192 ? n : 8192;

		c = nedb__malloc(sizeof *c + cap);
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	c->used += n;
	return c->data + c->used - n;
}

void
nedb__sql_arena_reset(struct sql_arena *a)
{
	struct sql_chunk *c = a->head;

	if (!c)
		return;
	while (c->next) {
		struct sql_chunk *n = c->next;

		c->next = n->next;
		free(n);
	}
	c->used = 0;
}

void
nedb__sql_arena_free(struct sql_arena *a)
{
	while (a->head) {
		struct sql_chunk *n = a->head->next;

		free(a->head);
		a->head = n;
	}
}

/* ---- numbers as sqlite3 reads them --------------------------------------- */

static bool
sp(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r' ||
	       c == '\v';
}

static bool
dig(char c)
{
	return c >= '0' && c <= '9';
}

static double
c_strtod(const char *s, size_t n)
{
	locale_t loc = nedb__c_locale();
	char buf[64], *t = buf;
	double d;

	if (n >= sizeof buf)
		t = nedb__malloc(n + 1);
	memcpy(t, s, n);
	t[n] = 0;
	d = loc ? strtod_l(t, NULL, loc) : strtod(t, NULL);
	if (t != buf)
		free(t);
	return d;
}

/*
 * sqlite3AtoF: the value of the longest numeric prefix of z[0, n) in *r,
 * and 1 for a pure integer, 2 or 3 for a real (a '.' or an exponent),
 * with nothing but spaces around it; -1 for a real prefix followed by
 * more, 0 otherwise (an integer prefix followed by more, no number).
 */
static int
atof_(const char *z, size_t n, double *r)
{
	const char *e = z + n, *start, *end;
	int type = 1, ndigit = 0;
	bool evalid = true;

	*r = 0.0;
	while (z < e && sp(*z))
		z++;
	if (z >= e)
		return 0;
	start = z;
	if (*z == '-' || *z == '+')
		z++;
	while (z < e && dig(*z)) {
		z++;
		ndigit++;
	}
	end = z;
	if (z < e && *z == '.') {
		z++;
		type++;
		while (z < e && dig(*z)) {
			z++;
			ndigit++;
		}
		end = z;
	}
	if (z < e && (*z == 'e' || *z == 'E') && ndigit) {
		const char *x = z + 1;

		type++;
		evalid = false;
		if (x < e && (*x == '-' || *x == '+'))
			x++;
		while (x < e && dig(*x)) {
			x++;
			evalid = true;
		}
		z = x;
		if (evalid)
			end = z;
	}
	if (ndigit)
		*r = c_strtod(start, (size_t)(end - start));
	if (*r == 0.0 && ndigit && *start == '-')
		*r = -0.0;
	while (z < e && sp(*z))
		z++;
	if (z == e && ndigit > 0 && evalid)
		return type;
	if (type >= 2 && (type == 3 || evalid) && ndigit > 0)
		return -1;
	return 0;
}

/*
 * sqlite3Atoi64: the integer prefix of z[0, n) (saturated) in *v; 0 when
 * that is all of it (spaces aside), 1 with more text after it, -1 with
 * no digits, 2 when it overflows, 3 for 9223372036854775808.
 */
static int
atoi64_(const char *z, size_t n, int64_t *v)
{
	const char *e = z + n, *start;
	uint64_t u = 0;
	bool neg = false;
	size_t i;
	int rc = 0, c;

	while (z < e && sp(*z))
		z++;
	if (z < e && (*z == '-' || *z == '+'))
		neg = *z++ == '-';
	start = z;
	while (z < e && *z == '0')
		z++;
	for (i = 0; z + i < e && dig(z[i]); i++)
		if (i < 20)
			u = u * 10 + (uint64_t)(z[i] - '0');
	if (u > (uint64_t)INT64_MAX || i > 19)
		*v = neg ? INT64_MIN : INT64_MAX;
	else
		*v = neg ? -(int64_t)u : (int64_t)u;
	if (i == 0 && start == z)
		rc = -1;
	else
		for (size_t j = i; z + j < e; j++)
			if (!sp(z[j])) {
				rc = 1;
				break;
			}
	if (i < 19)
		return rc;
	if (i > 19)
		c = 1;
	else
		c = memcmp(z, "9223372036854775808", 19);
	if (c < 0)
		return rc;
	*v = neg ? INT64_MIN : INT64_MAX;
	if (c > 0)
		return 2;
	return neg ? rc : 3;
}

/* sqlite3RealSameAsInt */
static bool
real_same_as_int(double r, int64_t i)
{
	double r2 = (double)i;

	return r == 0.0 || (!memcmp(&r, &r2, sizeof r) &&
			    i >= -2251799813685248LL && i < 2251799813685248LL);
}

/* doubleToInt64: truncation, saturated. */
static int64_t
d2i(double r)
{
	if (r != r)
		return 0;
	if (r <= -9223372036854775808.0)
		return INT64_MIN;
	if (r >= 9223372036854775807.0)
		return INT64_MAX;
	return (int64_t)r;
}

static void
set_int(struct sqlv *v, int64_t i)
{
	memset(v, 0, sizeof *v);
	v->t = SQ_INT;
	v->i = i;
}

static void
set_real(struct sqlv *v, double r)
{
	memset(v, 0, sizeof *v);
	if (r != r) {		/* NaN is NULL, as in sqlite3 */
		v->t = SQ_NULL;
		return;
	}
	v->t = SQ_REAL;
	v->r = r;
}

static void
set_null(struct sqlv *v)
{
	memset(v, 0, sizeof *v);
}

static void
set_text(struct sqlv *v, const char *s, size_t n)
{
	memset(v, 0, sizeof *v);
	v->t = SQ_TEXT;
	v->s = s;
	v->n = n;
}

/* computeNumericType: TEXT as a number for arithmetic. */
void
nedb__sql_numerify(struct sqlv *v)
{
	double r;
	int64_t i;
	int rc;

	if (v->t != SQ_TEXT)
		return;
	rc = atof_(v->s, v->n, &r);
	if (rc <= 0) {
		if (rc == 0 && atoi64_(v->s, v->n, &i) <= 1)
			set_int(v, i);
		else
			set_real(v, r);
	} else if (rc == 1 && atoi64_(v->s, v->n, &i) == 0)
		set_int(v, i);
	else
		set_real(v, r);
}

/* sqlite3VdbeRealValue */
double
nedb__sql_double(const struct sqlv *v)
{
	double r;

	switch (v->t) {
	case SQ_INT:
		return (double)v->i;
	case SQ_REAL:
		return v->r;
	case SQ_TEXT:
		atof_(v->s, v->n, &r);
		return r;
	default:
		return 0.0;
	}
}

/* sqlite3VdbeIntValue */
int64_t
nedb__sql_int(const struct sqlv *v)
{
	int64_t i;

	switch (v->t) {
	case SQ_INT:
		return v->i;
	case SQ_REAL:
		return d2i(v->r);
	case SQ_TEXT:
		atoi64_(v->s, v->n, &i);
		return i;
	default:
		return 0;
	}
}

/* ---- text of values ------------------------------------------------------ */

/* sqlite3's "%!.15g": always a '.' (1.0, 1.0e+20); -0.0 is 0.0. */
static size_t
real_fmt(char *out, size_t cap, double r, int prec)
{
	locale_t loc = nedb__c_locale(), old = loc ? uselocale(loc) : NULL;
	char *e;
	size_t n;

	if (r == 0.0)
		r = 0.0;		/* no "-0" */
	n = (size_t)snprintf(out, cap, "%.*g", prec, r);
	if (old)
		uselocale(old);
	if (n + 3 >= cap)
		return n;
	if (strchr(out, '.') || strchr(out, 'n') || strchr(out, 'N'))
		return n;
	if ((e = strchr(out, 'e'))) {
		memmove(e + 2, e, n - (size_t)(e - out) + 1);
		e[0] = '.';
		e[1] = '0';
	} else
		memcpy(out + n, ".0", 3);
	return n + 2;
}

static size_t
real_text(char *out, size_t cap, double r)
{
	if (isinf(r))
		return (size_t)snprintf(out, cap, "%s", r > 0 ? "Inf" : "-Inf");
	return real_fmt(out, cap, r, 15);
}

void
nedb__sql_text(nedb_buf *b, const struct sqlv *v)
{
	char t[48];

	switch (v->t) {
	case SQ_INT:
		nedb__buf_i64(b, v->i);
		break;
	case SQ_REAL:
		nedb_buf_add(b, t, real_text(t, sizeof t, v->r));
		break;
	case SQ_TEXT:
		nedb_buf_add(b, v->s, v->n);
		break;
	default:
		break;
	}
}

/* The text of a number into the arena (sqlite3VdbeMemStringify). */
static void
stringify(struct sqlv *v, struct sql_arena *a)
{
	char t[48], *s;
	size_t n;

	if (v->t == SQ_INT)
		n = (size_t)snprintf(t, sizeof t, "%lld", (long long)v->i);
	else if (v->t == SQ_REAL)
		n = real_text(t, sizeof t, v->r);
	else
		return;
	s = nedb__sql_alloc(a, n);
	memcpy(s, t, n);
	set_text(v, s, n);
}

int
nedb__sql_to_json(nedb_buf *b, const struct sqlv *v)
{
	char t[48];

	if (v->json)
		return nedb_buf_add(b, v->json, v->jn);
	switch (v->t) {
	case SQ_INT:
		return nedb__buf_i64(b, v->i);
	case SQ_REAL:
		if (isinf(v->r))	/* as sqlite3's JSON output has it */
			return nedb_buf_puts(b, v->r > 0 ? "1e999" : "-1e999");
		for (int prec = 15; prec <= 17; prec++) {
			real_fmt(t, sizeof t, v->r, prec);
			if (c_strtod(t, strlen(t)) == v->r)
				break;
		}
		return nedb_buf_puts(b, t);
	case SQ_TEXT:
		return nedb_buf_json_str(b, v->s, v->n);
	default:
		return nedb_buf_puts(b, "null");
	}
}

/* ---- JSON to values ------------------------------------------------------ */

static int
hexval(const char *p)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i];

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

static size_t
utf8(char *o, unsigned long cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decodes the inside of a JSON string into the arena (as value.c). */
static void
json_string(struct sqlv *v, const char *s, size_t n, struct sql_arena *a)
{
	char *o;
	size_t k = 0;

	if (!memchr(s, '\\', n)) {
		set_text(v, s, n);
		return;
	}
	o = nedb__sql_alloc(a, n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned long cp;
		int h, lo;

		if (s[i] != '\\' || i + 1 >= n) {
			o[k++] = s[i];
			continue;
		}
		switch (s[++i]) {
		case 'b': o[k++] = '\b'; continue;
		case 'f': o[k++] = '\f'; continue;
		case 'n': o[k++] = '\n'; continue;
		case 'r': o[k++] = '\r'; continue;
		case 't': o[k++] = '\t'; continue;
		case 'u': break;
		default: o[k++] = s[i]; continue;
		}
		if (n - i - 1 < 4 || (h = hexval(s + i + 1)) < 0) {
			o[k++] = 'u';
			continue;
		}
		i += 4;
		cp = (unsigned long)h;
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (n - i - 1 >= 6 && s[i + 1] == '\\' && s[i + 2] == 'u' &&
			    (lo = hexval(s + i + 3)) >= 0xdc00 && lo <= 0xdfff) {
				cp = 0x10000 + ((cp - 0xd800) << 10 |
						((unsigned long)lo - 0xdc00));
				i += 6;
			} else
				cp = 0xfffd;
		} else if (cp >= 0xdc00 && cp <= 0xdfff)
			cp = 0xfffd;
		k += utf8(o + k, cp);
	}
	set_text(v, o, k);
}

void
nedb__sql_from_json(struct sqlv *v, struct nql_span j, struct sql_arena *a)
{
	const char *p = j.p;
	size_t n = j.len;
	bool integer = true;

	set_null(v);
	while (n && (unsigned char)*p <= ' ') {
		p++;
		n--;
	}
	while (n && (unsigned char)p[n - 1] <= ' ')
		n--;
	if (!n)
		return;
	switch (*p) {
	case 'n':
		return;
	case 't':
	case 'f':
		set_int(v, *p == 't');
		v->json = p;
		v->jn = n;
		return;
	case '"':
		json_string(v, p + 1, n >= 2 ? n - 2 : 0, a);
		return;
	case '[':
	case '{':
		set_text(v, p, n);
		v->json = p;
		v->jn = n;
		return;
	default:
		break;
	}
	for (size_t i = 0; i < n; i++)
		if (!dig(p[i]) && !(i == 0 && p[i] == '-')) {
			integer = false;
			break;
		}
	if (integer) {
		int64_t i;

		if (atoi64_(p, n, &i) == 0) {
			set_int(v, i);
			return;
		}
	}
	set_real(v, c_strtod(p, n));
}

/* ---- affinity ------------------------------------------------------------ */

static bool
has(const char *type, const char *sub)
{
	return strcasestr(type, sub) != NULL;
}

enum sql_aff
nedb__sql_affinity(const char *type)
{
	if (!type || !*type)
		return AFF_NONE;
	if (has(type, "INT"))
		return AFF_INTEGER;
	if (has(type, "CHAR") || has(type, "CLOB") || has(type, "TEXT"))
		return AFF_TEXT;
	if (has(type, "BLOB"))
		return AFF_NONE;
	if (has(type, "REAL") || has(type, "FLOA") || has(type, "DOUB"))
		return AFF_REAL;
	return AFF_NUMERIC;
}

/* applyNumericAffinity: TEXT that is all a number becomes one. */
static void
numeric_affinity(struct sqlv *v, bool try_int)
{
	double r;
	int64_t i;
	int rc;

	if (v->t != SQ_TEXT || v->json)
		return;
	rc = atof_(v->s, v->n, &r);
	if (rc <= 0)
		return;
	if (rc == 1 && (real_same_as_int(r, (int64_t)r) ?
			(i = (int64_t)r, true) : atoi64_(v->s, v->n, &i) == 0)) {
		set_int(v, i);
		return;
	}
	set_real(v, r);
	if (try_int && v->t == SQ_REAL) {
		int64_t x = d2i(r);

		if (r == (double)x && x > INT64_MIN && x < INT64_MAX)
			set_int(v, x);
	}
}

void
nedb__sql_apply_aff(struct sqlv *v, enum sql_aff aff, bool store,
		    struct sql_arena *a)
{
	switch (aff) {
	case AFF_TEXT:
		if (v->t == SQ_INT || v->t == SQ_REAL) {
			v->json = NULL;
			stringify(v, a);
		}
		break;
	case AFF_NUMERIC:
	case AFF_INTEGER:
		if (v->t == SQ_TEXT)
			numeric_affinity(v, store);
		else if (store && v->t == SQ_REAL) {
			int64_t x = d2i(v->r);

			if (v->r == (double)x && x > INT64_MIN && x < INT64_MAX)
				set_int(v, x);
		}
		break;
	case AFF_REAL:
		if (v->t == SQ_TEXT)
			numeric_affinity(v, store);
		if (store && v->t == SQ_INT)
			set_real(v, (double)v->i);
		break;
	default:
		break;
	}
}

/* ---- order ---------------------------------------------------------------- */

/* sqlite3IntFloatCompare */
static int
int_real_cmp(int64_t i, double r)
{
	int64_t y;
	double s;

	if (r != r)
		return 1;
	if (r < -9223372036854775808.0)
		return 1;
	if (r >= 9223372036854775808.0)
		return -1;
	y = (int64_t)r;
	if (i < y)
		return -1;
	if (i > y)
		return 1;
	s = (double)i;
	return s < r ? -1 : s > r;
}

static int
rank(const struct sqlv *v)
{
	return v->t == SQ_NULL ? 0 : v->t == SQ_TEXT ? 2 : 1;
}

int
nedb__sql_cmp(const struct sqlv *a, const struct sqlv *b)
{
	int ra = rank(a), rb = rank(b), c;

	if (ra != rb)
		return ra < rb ? -1 : 1;
	switch (ra) {
	case 0:
		return 0;
	case 2:
		c = memcmp(a->s, b->s, a->n < b->n ? a->n : b->n);
		if (c)
			return c < 0 ? -1 : 1;
		return a->n < b->n ? -1 : a->n > b->n;
	default:
		if (a->t == SQ_INT && b->t == SQ_INT)
			return a->i < b->i ? -1 : a->i > b->i;
		if (a->t == SQ_REAL && b->t == SQ_REAL)
			return a->r < b->r ? -1 : a->r > b->r;
		if (a->t == SQ_INT)
			return int_real_cmp(a->i, b->r);
		return -int_real_cmp(b->i, a->r);
	}
}

uint64_t
nedb__sql_hash(const struct sqlv *v, uint64_t h)
{
	const unsigned char *p;
	size_t n;
	int64_t i;
	unsigned char tag;

	switch (v->t) {
	case SQ_NULL:
		tag = 0;
		p = NULL;
		n = 0;
		break;
	case SQ_TEXT:
		tag = 2;
		p = (const unsigned char *)v->s;
		n = v->n;
		break;
	default:
		tag = 1;
		if (v->t == SQ_INT)
			i = v->i;
		else if (v->r == 0.0)
			i = 0;
		else if (v->r >= -9223372036854775808.0 &&
			 v->r < 9223372036854775808.0 &&
			 v->r == (double)(int64_t)v->r)
			i = (int64_t)v->r;
		else {
			p = (const unsigned char *)&v->r;
			n = sizeof v->r;
			tag = 3;
			break;
		}
		p = (const unsigned char *)&i;
		n = sizeof i;
		break;
	}
	h = (h ^ tag) * 1099511628211ULL;
	for (size_t k = 0; k < n; k++)
		h = (h ^ p[k]) * 1099511628211ULL;
	return h;
}

void
nedb__sql_dup(struct sqlv *out, const struct sqlv *v)
{
	*out = *v;
	out->json = NULL;
	out->jn = 0;
	if (v->t == SQ_TEXT)
		out->s = nedb__memdup(v->s, v->n);
	if (v->json) {
		out->json = nedb__memdup(v->json, v->jn);
		out->jn = v->jn;
	}
}

void
nedb__sql_vfree(struct sqlv *v)
{
	if (v->t == SQ_TEXT)
		free((char *)v->s);
	free((char *)v->json);
	memset(v, 0, sizeof *v);
}

/* ---- LIKE and GLOB ------------------------------------------------------ */

/* One UTF-8 character's length at s (1 for a stray byte). */
static size_t
ulen(const char *s, size_t n)
{
	unsigned char c = (unsigned char)*s;
	size_t k = c < 0xc0 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;

	if (k > n)
		return 1;
	for (size_t i = 1; i < k; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			return 1;
	return k;
}

static int
lower_ascii(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Characters equal: ASCII case folded for LIKE. */
static bool
ch_eq(const char *a, size_t an, const char *b, size_t bn, bool nocase)
{
	if (an != bn)
		return false;
	if (an == 1 && nocase)
		return lower_ascii((unsigned char)*a) ==
		       lower_ascii((unsigned char)*b);
	return !memcmp(a, b, an);
}

/* sqlite3's patternCompare for LIKE (esc < 0: none), iterative on '%'. */
bool
nedb__sql_like(const char *p, size_t pn, const char *s, size_t sn, int esc)
{
	size_t pi = 0, si = 0;

	while (pi < pn) {
		size_t k = ulen(p + pi, pn - pi);
		int c = (unsigned char)p[pi];

		if (esc >= 0 && k == 1 && c == esc) {
			size_t k2;

			pi++;
			if (pi >= pn)
				return false;
			k2 = ulen(p + pi, pn - pi);
			if (si >= sn || !ch_eq(p + pi, k2, s + si,
					       ulen(s + si, sn - si), true))
				return false;
			pi += k2;
			si += ulen(s + si, sn - si);
			continue;
		}
		if (k == 1 && c == '%') {
			while (pi < pn && (p[pi] == '%' || p[pi] == '_')) {
				if (p[pi] == '_') {
					if (si >= sn)
						return false;
					si += ulen(s + si, sn - si);
				}
				pi++;
			}
			if (pi >= pn)
				return true;
			for (; si <= sn; si += si < sn ? ulen(s + si, sn - si) : 1)
				if (nedb__sql_like(p + pi, pn - pi, s + si,
						   sn - si, esc))
					return true;
			return false;
		}
		if (si >= sn)
			return false;
		if (k == 1 && c == '_') {
			pi++;
			si += ulen(s + si, sn - si);
			continue;
		}
		{
			size_t sk = ulen(s + si, sn - si);

			if (!ch_eq(p + pi, k, s + si, sk, true))
				return false;
			pi += k;
			si += sk;
		}
	}
	return si == sn;
}

/* UTF-8 code point at s (a stray byte as itself). */
static unsigned long
ucp(const char *s, size_t k)
{
	const unsigned char *u = (const unsigned char *)s;

	switch (k) {
	case 2: return (unsigned long)(u[0] & 0x1f) << 6 | (u[1] & 0x3f);
	case 3: return (unsigned long)(u[0] & 0x0f) << 12 |
		       (unsigned long)(u[1] & 0x3f) << 6 | (u[2] & 0x3f);
	case 4: return (unsigned long)(u[0] & 0x07) << 18 |
		       (unsigned long)(u[1] & 0x3f) << 12 |
		       (unsigned long)(u[2] & 0x3f) << 6 | (u[3] & 0x3f);
	default: return u[0];
	}
}

bool
nedb__sql_glob(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0;

	while (pi < pn) {
		size_t k = ulen(p + pi, pn - pi);
		char c = p[pi];

		if (c == '*') {
			while (pi < pn && (p[pi] == '*' || p[pi] == '?')) {
				if (p[pi] == '?') {
					if (si >= sn)
						return false;
					si += ulen(s + si, sn - si);
				}
				pi++;
			}
			if (pi >= pn)
				return true;
			for (; si <= sn; si += si < sn ? ulen(s + si, sn - si) : 1)
				if (nedb__sql_glob(p + pi, pn - pi, s + si,
						   sn - si))
					return true;
			return false;
		}
		if (si >= sn)
			return false;
		if (c == '?') {
			pi++;
			si += ulen(s + si, sn - si);
			continue;
		}
		if (c == '[') {
			size_t sk = ulen(s + si, sn - si), q = pi + 1;
			unsigned long ch = ucp(s + si, sk), prior = 0;
			bool invert = false, seen = false, first = true;

			if (q < pn && p[q] == '^') {
				invert = true;
				q++;
			}
			for (;; first = false) {
				size_t qk;
				unsigned long pc;

				if (q >= pn)
					return false;	/* no ']' */
				if (p[q] == ']' && !first)
					break;
				qk = ulen(p + q, pn - q);
				if (p[q] == '-' && !first && q + 1 < pn &&
				    p[q + 1] != ']' && prior) {
					size_t hk = ulen(p + q + 1, pn - q - 1);
					unsigned long hi = ucp(p + q + 1, hk);

					if (ch >= prior && ch <= hi)
						seen = true;
					prior = 0;
					q += 1 + hk;
					continue;
				}
				pc = ucp(p + q, qk);
				if (pc == ch)
					seen = true;
				prior = pc;
				q += qk;
			}
			if (seen == invert)
				return false;
			pi = q + 1;
			si += sk;
			continue;
		}
		{
			size_t sk = ulen(s + si, sn - si);

			if (!ch_eq(p + pi, k, s + si, sk, false))
				return false;
			pi += k;
			si += sk;
		}
	}
	return si == sn;
}

/* ---- evaluation ----------------------------------------------------------- */

/*
 * The affinity an expression has (sqlite3ExprAffinity): *has is false
 * for an expression with none, true for a column (even one declared
 * without a type: BLOB affinity, which converts nothing), a CAST, a
 * GROUP BY term standing for one, a subquery whose value is one.
 */
enum sql_aff
nedb__sql_expr_aff(const struct sql_expr *e, bool *has)
{
	*has = false;
	if (!e)
		return AFF_NONE;
	switch (e->op) {
	case SX_COL:
	case SX_CAST:
		*has = true;
		return e->aff;
	case SX_KEY:
		*has = e->quoted;
		return e->aff;
	case SX_SUBQ:
		return e->sub && e->sub->ncols && e->sub->cols[0].e ?
		       nedb__sql_expr_aff(e->sub->cols[0].e, has) : AFF_NONE;
	default:
		return AFF_NONE;
	}
}

static bool
numeric_aff(enum sql_aff a)
{
	return a == AFF_NUMERIC || a == AFF_INTEGER || a == AFF_REAL;
}

/* sqlite3CompareAffinity of two operands (bx NULL: one without). */
enum sql_aff
nedb__sql_cmp_aff(const struct sql_expr *ax, const struct sql_expr *bx)
{
	bool ha, hb;
	enum sql_aff a = nedb__sql_expr_aff(ax, &ha),
		     b = nedb__sql_expr_aff(bx, &hb);

	if (ha && hb)
		return numeric_aff(a) || numeric_aff(b) ? AFF_NUMERIC :
		       AFF_NONE;
	return ha ? a : hb ? b : AFF_NONE;
}

/* Applies a comparison's affinity to both operands. */
static void
cmp_prep(struct sqlv *a, struct sqlv *b, enum sql_aff aff,
	 struct sql_arena *ar)
{
	if (numeric_aff(aff)) {
		numeric_affinity(a, false);
		numeric_affinity(b, false);
	} else if (aff == AFF_TEXT) {
		nedb__sql_apply_aff(a, AFF_TEXT, false, ar);
		nedb__sql_apply_aff(b, AFF_TEXT, false, ar);
	}
}

/* -1 NULL, else 0/1 */
static int
truth_of(const struct sqlv *v)
{
	switch (v->t) {
	case SQ_NULL:
		return -1;
	case SQ_INT:
		return v->i != 0;
	case SQ_REAL:
		return v->r != 0.0;
	default:
		return nedb__sql_double(v) != 0.0;
	}
}

static void
set_bool(struct sqlv *v, int t)
{
	if (t < 0)
		set_null(v);
	else
		set_int(v, t);
}

static void
arith(enum sql_op op, struct sqlv a, struct sqlv b, struct sqlv *out,
      struct sql_ctx *c)
{
	struct sqlv ra = a, rb = b;	/* % takes text's integer prefix */

	if (a.t == SQ_NULL || b.t == SQ_NULL) {
		set_null(out);
		return;
	}
	nedb__sql_numerify(&a);
	nedb__sql_numerify(&b);
	if (a.t == SQ_INT && b.t == SQ_INT) {
		int64_t x = a.i, y = b.i, r;

		switch (op) {
		case SX_ADD:
			if (__builtin_add_overflow(x, y, &r))
				goto fp;
			break;
		case SX_SUB:
			if (__builtin_sub_overflow(x, y, &r))
				goto fp;
			break;
		case SX_MUL:
			if (__builtin_mul_overflow(x, y, &r))
				goto fp;
			break;
		case SX_DIV:
			if (y == 0) {
				set_null(out);
				return;
			}
			if (y == -1 && x == INT64_MIN)
				goto fp;
			r = x / y;
			break;
		default:	/* SX_MOD */
			if (y == 0) {
				set_null(out);
				return;
			}
			if (y == -1)
				y = 1;
			r = x % y;
			break;
		}
		set_int(out, r);
		return;
	}
fp:
	{
		double x = nedb__sql_double(&a), y = nedb__sql_double(&b), r;

		switch (op) {
		case SX_ADD: r = x + y; break;
		case SX_SUB: r = x - y; break;
		case SX_MUL: r = x * y; break;
		case SX_DIV:
			if (y == 0.0) {
				set_null(out);
				return;
			}
			r = x / y;
			break;
		default: {
			int64_t ix = nedb__sql_int(&ra), iy = nedb__sql_int(&rb);

			if (iy == 0) {
				set_null(out);
				return;
			}
			if (iy == -1)
				iy = 1;
			r = (double)(ix % iy);
			break;
		}
		}
		set_real(out, r);
	}
	(void)c;
}

static void
bitop(enum sql_op op, struct sqlv a, struct sqlv b, struct sqlv *out)
{
	int64_t x, y;
	uint64_t u;

	if (a.t == SQ_NULL || b.t == SQ_NULL) {
		set_null(out);
		return;
	}
	/* sqlite3VdbeIntValue: text's integer prefix, a real truncated */
	x = nedb__sql_int(&a);
	y = nedb__sql_int(&b);
	switch (op) {
	case SX_BITAND: set_int(out, x & y); return;
	case SX_BITOR: set_int(out, x | y); return;
	default: break;
	}
	if (y < 0) {
		op = op == SX_SHL ? SX_SHR : SX_SHL;
		y = y > -64 ? -y : 64;
	}
	if (y >= 64) {
		set_int(out, op == SX_SHL || x >= 0 ? 0 : -1);
		return;
	}
	u = (uint64_t)x;
	if (op == SX_SHL)
		u <<= y;
	else {
		u >>= y;
		if (x < 0)
			u |= ~(~(uint64_t)0 >> y);
	}
	set_int(out, (int64_t)u);
}

/* The value as TEXT (numbers stringified into the arena). */
static void
as_text(struct sqlv *v, struct sql_arena *a)
{
	if (v->t == SQ_INT || v->t == SQ_REAL)
		stringify(v, a);
}

static void
concat(struct sqlv a, struct sqlv b, struct sqlv *out, struct sql_arena *ar)
{
	char *s;

	if (a.t == SQ_NULL || b.t == SQ_NULL) {
		set_null(out);
		return;
	}
	as_text(&a, ar);
	as_text(&b, ar);
	s = nedb__sql_alloc(ar, a.n + b.n + 1);
	memcpy(s, a.s, a.n);
	memcpy(s + a.n, b.s, b.n);
	set_text(out, s, a.n + b.n);
}

/* Compares two evaluated operands of ax and bx: -2 for NULL. */
static int
compare(const struct sql_expr *ax, struct sqlv a, const struct sql_expr *bx,
	struct sqlv b, struct sql_arena *ar)
{
	if (a.t == SQ_NULL || b.t == SQ_NULL)
		return -2;
	cmp_prep(&a, &b, nedb__sql_cmp_aff(ax, bx), ar);
	return nedb__sql_cmp(&a, &b);
}

static int
cmp_truth(enum sql_op op, int c)
{
	if (c == -2)
		return -1;
	switch (op) {
	case SX_EQ: return c == 0;
	case SX_NE: return c != 0;
	case SX_LT: return c < 0;
	case SX_LE: return c <= 0;
	case SX_GT: return c > 0;
	default: return c >= 0;
	}
}

static int
and3(int a, int b)
{
	if (a == 0 || b == 0)
		return 0;
	if (a < 0 || b < 0)
		return -1;
	return 1;
}

static int
or3(int a, int b)
{
	if (a == 1 || b == 1)
		return 1;
	if (a < 0 || b < 0)
		return -1;
	return 0;
}

/* Binary search of a sorted set for v (already under the affinity). */
static bool
in_set(const struct sqlv *set, size_t n, const struct sqlv *v)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = nedb__sql_cmp(&set[mid], v);

		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static size_t
utf8_chars(const char *s, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += ((unsigned char)s[i] & 0xc0) != 0x80;
	return k;
}

static void
func(const struct sql_expr *e, struct sql_ctx *c, struct sqlv *out)
{
	struct sqlv a, b;

	switch (e->fn) {
	case FN_ABS:
		nedb__sql_eval(e->args[0], c, &a);
		if (a.t == SQ_NULL)
			set_null(out);
		else if (a.t == SQ_INT) {
			if (a.i == INT64_MIN) {
				if (!c->rc)
					c->rc = nedb__err(NEDB_EINPUT,
							  "integer overflow");
				set_null(out);
			} else
				set_int(out, a.i < 0 ? -a.i : a.i);
		} else
			set_real(out, fabs(nedb__sql_double(&a)));
		return;
	case FN_COALESCE:
	case FN_IFNULL:
		for (size_t i = 0; i < e->nargs; i++) {
			nedb__sql_eval(e->args[i], c, out);
			if (out->t != SQ_NULL)
				return;
		}
		set_null(out);
		return;
	case FN_NULLIF:
		nedb__sql_eval(e->args[0], c, &a);
		nedb__sql_eval(e->args[1], c, &b);
		if (a.t != SQ_NULL && b.t != SQ_NULL &&
		    !nedb__sql_cmp(&a, &b))
			set_null(out);
		else
			*out = a;
		return;
	case FN_LENGTH:
		nedb__sql_eval(e->args[0], c, &a);
		if (a.t == SQ_NULL) {
			set_null(out);
			return;
		}
		as_text(&a, c->arena);
		set_int(out, (int64_t)utf8_chars(a.s, a.n));
		return;
	case FN_LOWER:
	case FN_UPPER: {
		char *s;

		nedb__sql_eval(e->args[0], c, &a);
		if (a.t == SQ_NULL) {
			set_null(out);
			return;
		}
		as_text(&a, c->arena);
		s = nedb__sql_alloc(c->arena, a.n + 1);
		for (size_t i = 0; i < a.n; i++) {
			char ch = a.s[i];

			if (e->fn == FN_LOWER && ch >= 'A' && ch <= 'Z')
				ch = (char)(ch + 32);
			else if (e->fn == FN_UPPER && ch >= 'a' && ch <= 'z')
				ch = (char)(ch - 32);
			s[i] = ch;
		}
		set_text(out, s, a.n);
		return;
	}
	case FN_SMIN:
	case FN_SMAX:
		/* min(a, b, ...): NULL when any is NULL */
		nedb__sql_eval(e->args[0], c, out);
		for (size_t i = 1; i < e->nargs && out->t != SQ_NULL; i++) {
			int k;

			nedb__sql_eval(e->args[i], c, &a);
			if (a.t == SQ_NULL) {
				set_null(out);
				return;
			}
			k = nedb__sql_cmp(&a, out);
			if (e->fn == FN_SMIN ? k < 0 : k > 0)
				*out = a;
		}
		return;
	case FN_TYPEOF: {
		static const char *const names[] = {"null", "integer", "real",
						    "text"};

		nedb__sql_eval(e->args[0], c, &a);
		set_text(out, names[a.t], strlen(names[a.t]));
		return;
	}
	default:
		set_null(out);
		return;
	}
}

static void
cast(const struct sql_expr *e, struct sql_ctx *c, struct sqlv *out)
{
	struct sqlv a;

	nedb__sql_eval(e->a, c, &a);
	a.json = NULL;
	if (a.t == SQ_NULL) {
		set_null(out);
		return;
	}
	switch (e->aff) {
	case AFF_TEXT:
		as_text(&a, c->arena);
		*out = a;
		return;
	case AFF_REAL:
		set_real(out, nedb__sql_double(&a));
		return;
	case AFF_INTEGER:
		set_int(out, nedb__sql_int(&a));
		return;
	case AFF_NUMERIC:
		if (a.t == SQ_TEXT) {
			double r;
			int64_t i = 0;
			int rc = atof_(a.s, a.n, &r);

			if (((rc == 0 || rc == 1) && atoi64_(a.s, a.n, &i) <= 1) ||
			    real_same_as_int(r, (i = d2i(r))))
				set_int(out, i);
			else
				set_real(out, r);
			return;
		}
		*out = a;
		return;
	default:
		*out = a;
		return;
	}
}

void
nedb__sql_eval(const struct sql_expr *e, struct sql_ctx *c, struct sqlv *out)
{
	struct sqlv a, b, x;
	int t, u;

	switch (e->op) {
	case SX_LIT:
		*out = e->v;
		return;
	case SX_COL:
		if (!c->doc) {
			set_null(out);
			return;
		}
		nedb__sql_from_json(out, nedb__path_get(c->doc, c->len,
							&e->path), c->arena);
		return;
	case SX_KEY:
		*out = c->keys[e->slot];
		return;
	case SX_AGG:
		*out = c->aggs[e->slot];
		return;
	case SX_OUT:
		*out = c->out[e->slot];
		return;
	case SX_NEG:
		nedb__sql_eval(e->a, c, &a);
		set_int(&b, 0);
		arith(SX_SUB, b, a, out, c);
		return;
	case SX_POS:
		nedb__sql_eval(e->a, c, out);
		return;
	case SX_BITNOT:
		nedb__sql_eval(e->a, c, &a);
		if (a.t == SQ_NULL)
			set_null(out);
		else
			set_int(out, ~nedb__sql_int(&a));
		return;
	case SX_NOT:
		t = nedb__sql_truth(e->a, c);
		set_bool(out, t < 0 ? -1 : !t);
		return;
	case SX_ADD:
	case SX_SUB:
	case SX_MUL:
	case SX_DIV:
	case SX_MOD:
		nedb__sql_eval(e->a, c, &a);
		nedb__sql_eval(e->b, c, &b);
		arith(e->op, a, b, out, c);
		return;
	case SX_BITAND:
	case SX_BITOR:
	case SX_SHL:
	case SX_SHR:
		nedb__sql_eval(e->a, c, &a);
		nedb__sql_eval(e->b, c, &b);
		bitop(e->op, a, b, out);
		return;
	case SX_CONCAT:
		nedb__sql_eval(e->a, c, &a);
		nedb__sql_eval(e->b, c, &b);
		concat(a, b, out, c->arena);
		return;
	case SX_EQ:
	case SX_NE:
	case SX_LT:
	case SX_LE:
	case SX_GT:
	case SX_GE:
		nedb__sql_eval(e->a, c, &a);
		nedb__sql_eval(e->b, c, &b);
		set_bool(out, cmp_truth(e->op, compare(e->a, a, e->b, b,
						       c->arena)));
		return;
	case SX_IS:
	case SX_ISNOT:
		nedb__sql_eval(e->a, c, &a);
		nedb__sql_eval(e->b, c, &b);
		if (a.t == SQ_NULL || b.t == SQ_NULL)
			t = a.t == SQ_NULL && b.t == SQ_NULL;
		else
			t = compare(e->a, a, e->b, b, c->arena) == 0;
		set_bool(out, e->op == SX_IS ? t : !t);
		return;
	case SX_AND:
	case SX_OR:
		t = nedb__sql_truth(e->a, c);
		if ((e->op == SX_AND && t == 0) || (e->op == SX_OR && t == 1)) {
			set_bool(out, t);
			return;
		}
		u = nedb__sql_truth(e->b, c);
		set_bool(out, e->op == SX_AND ? and3(t, u) : or3(t, u));
		return;
	case SX_ISNULL:
	case SX_NOTNULL:
		nedb__sql_eval(e->a, c, &a);
		set_bool(out, (a.t == SQ_NULL) == (e->op == SX_ISNULL));
		return;
	case SX_IN:
		if (!e->nargs) {
			set_bool(out, e->neg);
			return;
		}
		nedb__sql_eval(e->a, c, &a);
		t = 0;
		for (size_t i = 0; i < e->nargs && t != 1; i++) {
			int r;

			nedb__sql_eval(e->args[i], c, &b);
			r = compare(e->a, a, NULL, b, c->arena);
			t = or3(t, r == -2 ? -1 : r == 0);
		}
		set_bool(out, t < 0 ? -1 : e->neg ? !t : t);
		return;
	case SX_INSEL:
		if (!e->nset && !e->set_null) {
			set_bool(out, e->neg);
			return;
		}
		nedb__sql_eval(e->a, c, &a);
		if (a.t == SQ_NULL) {
			set_null(out);
			return;
		}
		{
			enum sql_aff aff = nedb__sql_cmp_aff(e->a, e->sub->cols[0].e);

			if (numeric_aff(aff))
				numeric_affinity(&a, false);
			else if (aff == AFF_TEXT)
				nedb__sql_apply_aff(&a, AFF_TEXT, false,
						    c->arena);
		}
		t = in_set(e->set, e->nset, &a) ? 1 : e->set_null ? -1 : 0;
		set_bool(out, t < 0 ? -1 : e->neg ? !t : t);
		return;
	case SX_BETWEEN:
		nedb__sql_eval(e->a, c, &a);
		nedb__sql_eval(e->b, c, &b);
		nedb__sql_eval(e->c, c, &x);
		t = and3(cmp_truth(SX_GE, compare(e->a, a, e->b, b, c->arena)),
			 cmp_truth(SX_LE, compare(e->a, a, e->c, x, c->arena)));
		set_bool(out, t < 0 ? -1 : e->neg ? !t : t);
		return;
	case SX_LIKE:
	case SX_GLOB: {
		int esc = -1;

		nedb__sql_eval(e->a, c, &a);
		nedb__sql_eval(e->b, c, &b);
		if (e->c) {
			nedb__sql_eval(e->c, c, &x);
			if (x.t == SQ_NULL) {
				set_null(out);
				return;
			}
			as_text(&x, c->arena);
			if (x.n != 1 && utf8_chars(x.s, x.n) != 1) {
				if (!c->rc)
					c->rc = nedb__err(NEDB_EUSAGE, "ESCAPE "
						"expression must be a single "
						"character");
				set_null(out);
				return;
			}
			if (x.n != 1) {
				if (!c->rc)
					c->rc = nedb__err(NEDB_EUSAGE, "a "
						"non-ASCII ESCAPE character is "
						"not supported");
				set_null(out);
				return;
			}
			esc = (unsigned char)x.s[0];
		}
		if (a.t == SQ_NULL || b.t == SQ_NULL) {
			set_null(out);
			return;
		}
		as_text(&a, c->arena);
		as_text(&b, c->arena);
		t = e->op == SX_LIKE ? nedb__sql_like(b.s, b.n, a.s, a.n, esc) :
		    nedb__sql_glob(b.s, b.n, a.s, a.n);
		set_bool(out, e->neg ? !t : t);
		return;
	}
	case SX_CAST:
		cast(e, c, out);
		return;
	case SX_FUNC:
		func(e, c, out);
		return;
	case SX_CASE:
		if (e->a)
			nedb__sql_eval(e->a, c, &a);
		for (size_t i = 0; i + 1 < e->nargs; i += 2) {
			if (e->a) {
				nedb__sql_eval(e->args[i], c, &b);
				t = compare(e->a, a, e->args[i], b, c->arena) == 0;
			} else
				t = nedb__sql_truth(e->args[i], c) == 1;
			if (t) {
				nedb__sql_eval(e->args[i + 1], c, out);
				return;
			}
		}
		if (e->c)
			nedb__sql_eval(e->c, c, out);
		else
			set_null(out);
		return;
	case SX_SUBQ:
		if (e->nset)
			*out = e->set[0];
		else
			set_null(out);
		return;
	case SX_EXISTS:
		set_int(out, e->nset > 0);
		return;
	}
	set_null(out);
}

int
nedb__sql_truth(const struct sql_expr *e, struct sql_ctx *c)
{
	struct sqlv v;

	nedb__sql_eval(e, c, &v);
	return truth_of(&v);
}

int
nedb__sql_where(struct sql_select *s, const char *doc, size_t len)
{
	struct sql_ctx c = {.doc = doc, .len = len, .arena = &s->arena};
	int t;

	if (!s->where)
		return 1;
	t = nedb__sql_truth(s->where, &c);
	nedb__sql_arena_reset(&s->arena);
	if (c.rc) {
		s->rc = c.rc;
		return c.rc;
	}
	return t == 1;
}
