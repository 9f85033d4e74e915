/*
 * filter.c - MongoDB-style filters (nedb-query --filter) compiled into
 * the expressions NQL uses, so that both share SPEC §6's semantics.
 *
 *   {}                          TRUE
 *   {"a": 1, "b.c": 2}          a = 1 AND b.c = 2        (every member)
 *   {"a": {"x": 1}}             a = {"x":1}              (no $-keys)
 *   {"a": {"$gt": 1, "$lt": 5}} a > 1 AND a < 5
 *   $eq $gt $gte $lt $lte       the NQL comparison
 *   $ne                         NOT (a = v): true where a is absent
 *   $in [..]  $nin [..]         a IN (..)  /  NOT (a IN (..))
 *   $exists true|false          a EXISTS   /  NOT a EXISTS
 *   $not {ops}                  NOT (ops)
 *   $and $or $nor [{..}, ..]    at the top level (and inside them)
 *
 * Literal values are copied from the filter's compact text, never
 * re-serialized through jv: jq 1.6 would print 12345678901234567890 as
 * 12345678901234567000, and the literal would no longer equal the
 * stored number.  The text is first checked and compacted by
 * nedb__doc_normalize (strict JSON, an object), so the walk below may
 * assume valid, compact, NUL-terminated JSON.
 *
 * Where Mongo and this differ: a repeated member is one more condition
 * (jq would keep only the last), $exists takes only true or false, and
 * $not takes only an object of operators (no regular expressions).
 *
 * Errors are NEDB_EUSAGE with a one-line message naming the operator or
 * field; the partly built expression is freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nql.h"

/* ---- walking compact JSON ---------------------------------------------- */

/* Next element of the array or object whose text starts at *p (first
 * call: at the bracket).  For objects *k is the key literal. */
static bool
next(const char **p, struct nql_span *k, struct nql_span *v, bool member)
{
	const char *s;

	if (!**p || **p == ']' || **p == '}')
		return false;
	s = *p + 1;			/* past '[', '{' or ',' */
	if (*s == ']' || *s == '}')
		return false;
	if (member) {
		k->p = s;
		s = nedb__value_end(s);
		k->len = (size_t)(s - k->p);
		s++;			/* ':' */
	}
	v->p = s;
	s = nedb__value_end(s);
	v->len = (size_t)(s - v->p);
	*p = s;				/* at ',' or the closing bracket */
	return true;
}

static bool
is(struct nql_span v, char c)
{
	return v.len && *v.p == c;
}

/* A key literal's decoded text in *out (*n bytes, NUL-terminated, and
 * may hold NULs); caller frees. */
static int
key_text(struct nql_span k, char **out, size_t *n)
{
	if (!(*out = nedb__string_value(k, n)))
		return nedb__err(NEDB_EIO, "out of memory");
	return 0;
}

/* ---- expressions --------------------------------------------------------- */

static int
oom(void)
{
	return nedb__err(NEDB_EIO, "out of memory");
}

/*
 * The len bytes of a member name, "a.b.0", into parts.  Whatever a
 * document can hold a filter can name: an empty part is a member named
 * "" ("" itself, "a..b", "a."), and a part may hold a NUL (lens).
 */
static int
path_make(struct nql_path *p, const char *dotted, size_t len)
{
	const char *s = dotted, *end = dotted + len;

	memset(p, 0, sizeof *p);
	p->dotted = nedb__malloc(len + 1);
	for (size_t i = 0; i < len; i++)	/* see struct nql_path */
		p->dotted[i] = dotted[i] ? dotted[i] : 0x01;
	p->dotted[len] = 0;
	for (;;) {
		const char *dot = memchr(s, '.', (size_t)(end - s));
		size_t n = dot ? (size_t)(dot - s) : (size_t)(end - s);
		p->parts = nedb__realloc(p->parts, (p->n + 1) * sizeof *p->parts);
		p->lens = nedb__realloc(p->lens, (p->n + 1) * sizeof *p->lens);
		p->parts[p->n] = nedb__malloc(n + 1);
		memcpy(p->parts[p->n], s, n);
		p->parts[p->n][n] = 0;
		p->lens[p->n++] = n;
		if (!dot)
			return 0;
		s = dot + 1;
	}
}

static int
path_copy(struct nql_path *to, const struct nql_path *from)
{
	size_t len = 0;
	char *text;
	int rc;

	/* the member name again, NULs included */
	for (size_t i = 0; i < from->n; i++)
		len += (from->lens ? from->lens[i] :
			strlen(from->parts[i])) + (i > 0);
	text = nedb__malloc(len + 1);
	len = 0;
	for (size_t i = 0; i < from->n; i++) {
		size_t n = from->lens ? from->lens[i] : strlen(from->parts[i]);

		if (i)
			text[len++] = '.';
		memcpy(text + len, from->parts[i], n);
		len += n;
	}
	rc = path_make(to, text, len);
	free(text);
	return rc;
}

static struct nql_expr *
expr_new(enum nql_expr_kind kind)
{
	struct nql_expr *e = nedb__calloc(1, sizeof *e);

	e->kind = kind;
	return e;
}

/* a AND/OR b; either may be NULL (then the other is the result). */
static int
join(enum nql_expr_kind kind, struct nql_expr **acc, struct nql_expr *b)
{
	struct nql_expr *e;

	if (!*acc) {
		*acc = b;
		return 0;
	}
	if (!(e = expr_new(kind))) {
		nql_expr_free(b);
		return oom();
	}
	e->a = *acc;
	e->b = b;
	*acc = e;
	return 0;
}

static int
negate(struct nql_expr **e)
{
	struct nql_expr *n = expr_new(EX_NOT);

	if (!n) {
		nql_expr_free(*e);
		*e = NULL;
		return oom();
	}
	n->a = *e;
	*e = n;
	return 0;
}

static int
add_val(struct nql_expr *e, struct nql_span v)
{
	struct nql_span *vals = nedb__realloc(e->vals, (e->nvals + 1) * sizeof *vals);
	char *copy;

	e->vals = vals;
	copy = nedb__malloc(v.len + 1);	/* not strndup: a string may
					 * hold a raw NUL (jq allows it) */
	memcpy(copy, v.p, v.len);
	copy[v.len] = 0;
	e->vals[e->nvals++] = (struct nql_span){copy, v.len};
	return 0;
}

/* A leaf on path: CMP op v, IN (elements of v), or EXISTS. */
static int
leaf(const struct nql_path *path, enum nql_expr_kind kind, enum nql_cmp op,
     struct nql_span v, struct nql_expr **out)
{
	struct nql_expr *e = expr_new(kind);
	int rc;

	*out = NULL;
	if (!e)
		return oom();
	e->cmp = op;
	if ((rc = path_copy(&e->path, path)))
		goto fail;
	if (kind == EX_CMP)
		rc = add_val(e, v);
	else if (kind == EX_IN) {
		struct nql_span x;
		const char *p = v.p;

		while (!rc && next(&p, NULL, &x, false))
			rc = add_val(e, x);
	}
	if (rc)
		goto fail;
	*out = e;
	return 0;
fail:
	nql_expr_free(e);
	return rc;
}

/* ---- compiling ------------------------------------------------------------ */

static int compile_doc(struct nql_span obj, struct nql_expr **out);

/* Does object text v have a member whose key starts with '$'? */
static bool
has_operator(struct nql_span v)
{
	struct nql_span k, x;
	const char *p = v.p;

	while (next(&p, &k, &x, true))
		if (k.len > 1 && k.p[1] == '$')
			return true;
	return false;
}

static const struct {
	const char *name;
	enum nql_cmp cmp;
} cmps[] = {
	{"$eq", CMP_EQ}, {"$gt", CMP_GT}, {"$gte", CMP_GE},
	{"$lt", CMP_LT}, {"$lte", CMP_LE}
};

/* One operator of a field: {"$op": v}. */
static int
compile_op(const struct nql_path *path, const char *op, struct nql_span v,
	   struct nql_expr **out)
{
	int rc;

	for (size_t i = 0; i < sizeof cmps / sizeof *cmps; i++)
		if (!strcmp(op, cmps[i].name))
			return leaf(path, EX_CMP, cmps[i].cmp, v, out);
	if (!strcmp(op, "$ne")) {
		if ((rc = leaf(path, EX_CMP, CMP_EQ, v, out)))
			return rc;
		return negate(out);
	}
	if (!strcmp(op, "$in") || !strcmp(op, "$nin")) {
		if (!is(v, '['))
			return nedb__err(NEDB_EUSAGE, "filter operator '%s' "
					 "needs an array", op);
		if ((rc = leaf(path, EX_IN, CMP_EQ, v, out)))
			return rc;
		return op[1] == 'n' ? negate(out) : 0;
	}
	if (!strcmp(op, "$exists")) {
		bool yes = v.len == 4 && !memcmp(v.p, "true", 4);

		if (!yes && !(v.len == 5 && !memcmp(v.p, "false", 5)))
			return nedb__err(NEDB_EUSAGE, "filter operator "
					 "'$exists' needs true or false");
		if ((rc = leaf(path, EX_EXISTS, CMP_EQ, v, out)))
			return rc;
		return yes ? 0 : negate(out);
	}
	*out = NULL;
	return nedb__err(NEDB_EUSAGE, "unknown filter operator '%s' (field "
			 "'%s')", op, path->dotted);
}

/* {"$op": v, ...} for a field: the AND of every operator. */
static int
compile_ops(const struct nql_path *path, struct nql_span obj,
	    struct nql_expr **out)
{
	struct nql_span k, v;
	const char *p = obj.p;
	struct nql_expr *acc = NULL, *e;
	int rc = 0;

	while (!rc && next(&p, &k, &v, true)) {
		size_t oplen;
		char *op;

		if ((rc = key_text(k, &op, &oplen)))
			break;
		if (*op != '$')
			rc = nedb__err(NEDB_EUSAGE, "filter field '%s' mixes "
				       "operators and fields ('%s')",
				       path->dotted, op);
		else if (!strcmp(op, "$not")) {
			if (!is(v, '{') || v.len == 2 || !has_operator(v))
				rc = nedb__err(NEDB_EUSAGE, "filter operator "
					       "'$not' needs an object of "
					       "operators");
			else if (!(rc = compile_ops(path, v, &e)) &&
				 !(rc = negate(&e)))
				rc = join(EX_AND, &acc, e);
		} else if (!(rc = compile_op(path, op, v, &e)))
			rc = join(EX_AND, &acc, e);
		free(op);
	}
	if (rc) {
		nql_expr_free(acc);
		return rc;
	}
	*out = acc;
	return 0;
}

/* "$and"/"$or"/"$nor": a non-empty array of filter objects. */
static int
compile_list(const char *op, struct nql_span arr, struct nql_expr **out)
{
	enum nql_expr_kind kind = op[1] == 'a' ? EX_AND : EX_OR;
	struct nql_expr *acc = NULL, *e;
	struct nql_span x;
	const char *p = arr.p;
	int rc = 0;

	if (!is(arr, '[') || arr.len == 2)
		return nedb__err(NEDB_EUSAGE, "filter operator '%s' needs a "
				 "non-empty array of objects", op);
	while (!rc && next(&p, NULL, &x, false)) {
		if (!is(x, '{'))
			rc = nedb__err(NEDB_EUSAGE, "filter operator '%s' "
				       "needs a non-empty array of objects",
				       op);
		else if (!(rc = compile_doc(x, &e)))
			rc = join(kind, &acc, e);
	}
	if (!rc && !strcmp(op, "$nor"))
		rc = negate(&acc);
	if (rc) {
		nql_expr_free(acc);
		return rc;
	}
	*out = acc;
	return 0;
}

/* One member of a filter object. */
static int
compile_member(const char *key, size_t klen, struct nql_span v,
	       struct nql_expr **out)
{
	struct nql_path path;
	int rc;

	if (*key == '$') {
		if (!strcmp(key, "$and") || !strcmp(key, "$or") ||
		    !strcmp(key, "$nor"))
			return compile_list(key, v, out);
		return nedb__err(NEDB_EUSAGE, "unknown filter operator '%s' "
				 "at the top level", key);
	}
	if ((rc = path_make(&path, key, klen)))
		return rc;
	if (is(v, '{') && has_operator(v))
		rc = compile_ops(&path, v, out);
	else
		rc = leaf(&path, EX_CMP, CMP_EQ, v, out);
	nql_path_free(&path);
	return rc;
}

/* A filter object: the AND of its members; {} is TRUE. */
static int
compile_doc(struct nql_span obj, struct nql_expr **out)
{
	struct nql_span k, v;
	const char *p = obj.p;
	struct nql_expr *acc = NULL, *e;
	int rc = 0;

	while (!rc && next(&p, &k, &v, true)) {
		size_t klen;
		char *key;

		if ((rc = key_text(k, &key, &klen)))
			break;
		if (!(rc = compile_member(key, klen, v, &e)))
			rc = join(EX_AND, &acc, e);
		free(key);
	}
	if (!rc && !acc && !(acc = expr_new(EX_TRUE)))
		rc = oom();
	if (rc) {
		nql_expr_free(acc);
		return rc;
	}
	*out = acc;
	return 0;
}

int
nedb__filter_compile(const char *json, size_t len, struct nql_expr **out)
{
	nedb_buf text = {0};
	int rc;

	*out = NULL;
	if ((rc = nedb__doc_normalize(&text, json, len))) {
		if (rc == NEDB_EINPUT) {
			char why[256];	/* nedb__err overwrites nedb_errmsg */

			snprintf(why, sizeof why, "%s", nedb_errmsg());
			rc = nedb__err(NEDB_EUSAGE, "bad filter: %s", why);
		}
		nedb_buf_free(&text);
		return rc;
	}
	rc = compile_doc((struct nql_span){text.p, text.len}, out);
	nedb_buf_free(&text);
	return rc;
}
