/*
 * test_value.c - SPEC §6 comparison semantics on compact JSON text
 * (lib/query/value.c): paths, "=", "<", the total order, evaluation, SEARCH
 * tokens and index keys.  Mostly tables: value / value / expected.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nql.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof *(a))

static struct nql_span
S(const char *s)
{
	return (struct nql_span){s, s ? strlen(s) : 0};
}

/* A path from its dotted form (parts point into a copy). */
static struct nql_path
P(const char *dotted)
{
	struct nql_path p = {0};
	char *s = strdup(dotted), *tok, *save = NULL;

	p.dotted = strdup(dotted);
	p.parts = calloc(strlen(dotted) + 1, sizeof *p.parts);
	for (tok = strtok_r(s, ".", &save); tok;
	     tok = strtok_r(NULL, ".", &save))
		p.parts[p.n++] = strdup(tok);
	free(s);
	return p;
}

static void
path_free(struct nql_path *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->parts[i]);
	free(p->parts);
	free(p->dotted);
}

/* A leaf: kind on dotted with up to four literal values (NULL ends). */
static struct nql_expr *
leaf(enum nql_expr_kind kind, const char *dotted, enum nql_cmp cmp,
     const char *v0, const char *v1, const char *v2, const char *v3)
{
	struct nql_expr *e = calloc(1, sizeof *e);
	const char *vs[] = {v0, v1, v2, v3};

	e->kind = kind;
	e->cmp = cmp;
	e->path = P(dotted);
	e->vals = calloc(4, sizeof *e->vals);
	for (int i = 0; i < 4 && vs[i]; i++)
		e->vals[e->nvals++] = S(strdup(vs[i]));
	return e;
}

static struct nql_expr *
CMP(const char *dotted, enum nql_cmp cmp, const char *v)
{
	return leaf(EX_CMP, dotted, cmp, v, NULL, NULL, NULL);
}

static struct nql_expr *
node(enum nql_expr_kind kind, struct nql_expr *a, struct nql_expr *b)
{
	struct nql_expr *e = calloc(1, sizeof *e);

	e->kind = kind;
	e->a = a;
	e->b = b;
	return e;
}

/* Evaluates and frees e. */
static bool
eval(struct nql_expr *e, const char *doc)
{
	bool r = nedb__eval(e, doc, strlen(doc));

	nql_expr_free(e);
	return r;
}

static int
sign(int x)
{
	return x < 0 ? -1 : x > 0;
}

/* ---- types and paths ---------------------------------------------------- */

static void
test_type(void)
{
	static const struct {
		const char *v;
		enum nql_type t;
	} cases[] = {
		{"", T_ABSENT}, {"null", T_NULL}, {"false", T_FALSE},
		{"true", T_TRUE}, {"0", T_NUMBER}, {"-1.5e3", T_NUMBER},
		{"\"x\"", T_STRING}, {"\"\"", T_STRING}, {"[]", T_ARRAY},
		{"{}", T_OBJECT}, {" [1]", T_ARRAY},
	};

	for (size_t i = 0; i < N(cases); i++)
		CHECK(nedb__type(S(cases[i].v)) == cases[i].t);
}

static void
test_path_get(void)
{
	static const char doc[] =
		"{\"a\":{\"b\":[10,{\"c\":\"deep\"},[7,8]]},\"n\":null,"
		"\"s\":\"x\",\"k\\u0065y\":1,\"dup\":1,\"dup\":2,"
		"\"o\":{\"0\":\"zero\"},\"a.b\":\"dotted\",\"\\\"q\":3}";
	static const struct {
		const char *path, *want;	/* want NULL: absent */
	} cases[] = {
		{"a.b.0", "10"},
		{"a.b.1.c", "\"deep\""},
		{"a.b.2.1", "8"},
		{"a.b.3", NULL},		/* past the end */
		{"a.b.x", NULL},		/* not an index */
		{"a.b.-1", NULL},
		{"a.b.01", "{\"c\":\"deep\"}"},	/* all digits: index 1 */
		{"a.b", "[10,{\"c\":\"deep\"},[7,8]]"},
		{"n", "null"},
		{"n.x", NULL},			/* through null */
		{"s.0", NULL},			/* through a string */
		{"key", "1"},			/* escaped key, decoded */
		{"dup", "2"},			/* the last one wins */
		{"o.0", "\"zero\""},		/* a digit key on an object */
		{"missing", NULL},
		{"a.missing.deeper", NULL},
		{"\"q", "3"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct nql_path p = P(cases[i].path);
		struct nql_span v = nedb__path_get(doc, strlen(doc), &p);

		if (!cases[i].want)
			CHECK(v.len == 0);
		else if (v.len != strlen(cases[i].want) ||
			 memcmp(v.p, cases[i].want, v.len)) {
			fprintf(stderr, "%s:%d: path %s: got '%.*s', want "
				"'%s'\n", __FILE__, __LINE__, cases[i].path,
				(int)v.len, v.p ? v.p : "", cases[i].want);
			unit_failed++;
		}
		path_free(&p);
	}
}

/* A path part with a dot in it cannot come from P(); build it. */
static void
test_path_part_with_dot(void)
{
	static const char doc[] = "{\"a.b\":1,\"a\":{\"b\":2}}";
	char *parts[] = {"a.b"};
	struct nql_path p = {.parts = parts, .n = 1, .dotted = "a.b"};
	struct nql_span v = nedb__path_get(doc, strlen(doc), &p);

	CHECK(v.len == 1 && *v.p == '1');
}

/* Documents from LMDB are not NUL-terminated: the span is the limit. */
static void
test_path_get_bounded(void)
{
	static const char text[] = "{\"a\":1,\"b\":2}{\"c\":3}";
	struct nql_path p = P("c");

	CHECK(nedb__path_get(text, 13, &p).len == 0);
	path_free(&p);
	p = P("b");
	CHECK(nedb__path_get(text, 13, &p).len == 1);
	path_free(&p);
}

/* ---- "=" ------------------------------------------------------------------ */

static const struct {
	const char *a, *b;
	bool eq;
} eq_cases[] = {
	/* numbers: numerically, exactly */
	{"3", "3.0", true},
	{"3", "3e0", true},
	{"3", "30e-1", true},
	{"3", "0.3e1", true},
	{"300", "3E2", true},
	{"0.05", "5e-2", true},
	{"0", "-0", true},
	{"0.0", "-0.0e5", true},
	{"1", "2", false},
	{"-1", "1", false},
	{"0.1", "0.10000000000000001", false},	/* same double */
	{"12345678901234567890", "12345678901234567891", false},
	{"12345678901234567890", "1.2345678901234567890e19", true},
	{"1e400", "2e400", false},		/* both inf as doubles */
	{"1e400", "10e399", true},
	/* no coercion */
	{"\"3\"", "3", false},
	{"null", "false", false},
	{"null", "0", false},
	{"true", "1", false},
	{"false", "\"\"", false},
	{"null", "null", true},
	{"true", "true", true},
	{"false", "true", false},
	/* strings by decoded bytes */
	{"\"a\"", "\"a\"", true},
	{"\"a\"", "\"A\"", false},
	{"\"a\\u0041\"", "\"aA\"", true},
	{"\"\\u00e9\"", "\"\xc3\xa9\"", true},
	{"\"\\ud83d\\ude00\"", "\"\xf0\x9f\x98\x80\"", true},
	{"\"\\/\"", "\"/\"", true},
	{"\"\\n\"", "\"\\u000a\"", true},
	{"\"\\\\n\"", "\"\\n\"", false},
	{"\"ab\"", "\"abc\"", false},
	{"\"\"", "\"\"", true},
	/* arrays: element by element */
	{"[1,2]", "[1.0,2]", true},
	{"[1,2]", "[2,1]", false},
	{"[1]", "[1,1]", false},
	{"[]", "[]", true},
	{"[]", "{}", false},
	{"[1, 2]", "[1,2]", true},
	{"[[1],{\"a\":[]}]", "[[1.0],{\"a\":[]}]", true},
	/* objects: member order does not matter */
	{"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", true},
	{"{\"a\":1}", "{\"a\":1,\"b\":2}", false},
	{"{\"a\":1,\"b\":2}", "{\"a\":1}", false},
	{"{\"a\":1}", "{\"a\":2}", false},
	{"{\"a\":1}", "{\"b\":1}", false},
	{"{\"a\":1,\"a\":2}", "{\"a\":2}", true},	/* last wins */
	{"{\"a\":1,\"a\":2}", "{\"a\":1}", false},
	{"{\"\\u0061\":1}", "{\"a\":1.0}", true},
	{"{\"x\":{\"p\":[1,{\"q\":null}]},\"y\":\"s\"}",
	 "{\"y\":\"s\",\"x\":{\"p\":[1e0,{\"q\":null}]}}", true},
	{"{}", "{}", true},
};

static void
test_eq(void)
{
	for (size_t i = 0; i < N(eq_cases); i++) {
		struct nql_span a = S(eq_cases[i].a), b = S(eq_cases[i].b);

		if (nedb__value_eq(a, b) != eq_cases[i].eq ||
		    nedb__value_eq(b, a) != eq_cases[i].eq) {
			fprintf(stderr, "%s:%d: %s = %s: want %s\n", __FILE__,
				__LINE__, eq_cases[i].a, eq_cases[i].b,
				eq_cases[i].eq ? "true" : "false");
			unit_failed++;
		}
		/* "=" and the total order agree */
		CHECK((nedb__value_order(a, b) == 0) == eq_cases[i].eq);
		CHECK(nedb__value_cmp(a, CMP_EQ, b) == eq_cases[i].eq);
		CHECK(nedb__value_cmp(a, CMP_NE, b) == !eq_cases[i].eq);
	}
}

static void
test_eq_absent(void)
{
	CHECK(!nedb__value_eq(S(""), S("null")));
	CHECK(!nedb__value_eq(S(""), S("")));
	CHECK(nedb__value_cmp(S(""), CMP_NE, S("null")));
}

/* ---- "<" ------------------------------------------------------------------ */

static void
test_cmp(void)
{
	static const struct {
		const char *a;
		enum nql_cmp op;
		const char *b;
		bool want;
	} cases[] = {
		{"1", CMP_LT, "2", true},
		{"2", CMP_LT, "10", true},		/* numerically */
		{"-1", CMP_LT, "0", true},
		{"-10", CMP_LT, "-9", true},
		{"0.1", CMP_LT, "0.10000000000000001", true},
		{"12345678901234567890", CMP_LT, "12345678901234567891", true},
		{"3", CMP_LE, "3.0", true},
		{"3", CMP_GE, "3.0", true},
		{"3", CMP_LT, "3.0", false},
		{"1e2", CMP_GT, "99.9", true},
		{"-0", CMP_LT, "0", false},
		{"\"10\"", CMP_LT, "\"2\"", true},	/* by bytes */
		{"\"a\"", CMP_LT, "\"b\"", true},
		{"\"B\"", CMP_LT, "\"a\"", true},
		{"\"a\"", CMP_LT, "\"ab\"", true},
		{"\"ab\"", CMP_GT, "\"a\"", true},
		{"\"z\"", CMP_LT, "\"\xc3\xa9\"", true},	/* é: 0xc3 */
		{"\"\\u00e9\"", CMP_GT, "\"z\"", true},
		{"\"\\u00e9\"", CMP_LE, "\"\xc3\xa9\"", true},
		{"\"a\\u0000\"", CMP_GT, "\"a\"", true},
		/* mixed types: false both ways */
		{"1", CMP_LT, "\"a\"", false},
		{"\"a\"", CMP_LT, "1", false},
		{"1", CMP_GT, "\"a\"", false},
		{"\"a\"", CMP_GT, "1", false},
		{"1", CMP_LE, "\"1\"", false},
		{"\"1\"", CMP_GE, "1", false},
		{"null", CMP_LT, "1", false},
		{"1", CMP_GT, "null", false},
		{"false", CMP_LT, "true", false},
		{"true", CMP_GE, "true", false},
		{"null", CMP_LE, "null", false},
		{"[1]", CMP_LT, "[2]", false},
		{"{}", CMP_LE, "{}", false},
		{"", CMP_LT, "1", false},
		{"", CMP_GE, "1", false},
	};

	for (size_t i = 0; i < N(cases); i++)
		if (nedb__value_cmp(S(cases[i].a), cases[i].op,
				    S(cases[i].b)) != cases[i].want) {
			fprintf(stderr, "%s:%d: case %zu (%s op%d %s): want "
				"%d\n", __FILE__, __LINE__, i, cases[i].a,
				cases[i].op, cases[i].b, cases[i].want);
			unit_failed++;
		}
}

/* ---- the total order ------------------------------------------------------ */

/* Ascending; a row equal to the previous one starts with '='. */
static const char *sorted[] = {
	"",				/* absent */
	"null",
	"false",
	"true",
	"-1e400",
	"-12345678901234567891",
	"-12345678901234567890",
	"-2",
	"-1.5",
	"-1",
	"-0.5",
	"-1e-400",
	"0",
	"=-0",
	"=0.0",
	"1e-400",
	"0.1",
	"0.10000000000000001",
	"0.5",
	"1",
	"=1.0",
	"=1e0",
	"2",
	"10",
	"12345678901234567890",
	"12345678901234567891",
	"1e400",
	"\"\"",
	"\"\\u0000\"",
	"\"\\u0000\\u0000\"",
	"\"\\u0001\"",
	"\"10\"",
	"\"2\"",
	"\"A\"",
	"\"Z\"",
	"\"a\"",
	"\"a\\u0000\"",
	"\"a\\u0000b\"",
	"\"a\\u0001\"",
	"\"ab\"",
	"\"b\"",
	"\"z\"",
	"\"\\u00e9\"",
	"=\"\xc3\xa9\"",
	"\"\xe6\x9d\xb1\"",
	"\"\\ud83d\\ude00\"",
	"[]",
	"[null]",
	"[false]",
	"[1]",
	"=[1.0]",
	"[1,null]",
	"[1,2]",
	"[2]",
	"[\"a\"]",
	"[[]]",
	"[{}]",
	"{}",
	"{\"a\":null}",
	"{\"a\":1}",
	"={\"a\":1.0}",
	"{\"a\":2}",
	"{\"a\":[]}",
	"{\"a\":1,\"b\":0}",		/* keys [a,b] after [a] */
	"={\"b\":0,\"a\":1}",
	"{\"a\":2,\"b\":0}",
	"{\"b\":0}",
	"{\"b\":0,\"c\":0}",
};

/* The rank of each row: equal rows share one. */
static int
rank_of(size_t i)
{
	int r = 0;

	for (size_t j = 1; j <= i; j++)
		if (sorted[j][0] != '=')
			r++;
	return r;
}

static const char *
text_of(size_t i)
{
	return sorted[i] + (sorted[i][0] == '=');
}

static void
test_order_total(void)
{
	for (size_t i = 0; i < N(sorted); i++)
		for (size_t j = 0; j < N(sorted); j++) {
			int want = sign(rank_of(i) - rank_of(j));
			int got = sign(nedb__value_order(S(text_of(i)),
							 S(text_of(j))));

			if (got != want) {
				fprintf(stderr, "%s:%d: order(%s, %s) = %d, "
					"want %d\n", __FILE__, __LINE__,
					text_of(i), text_of(j), got, want);
				unit_failed++;
			}
		}
}

/* qsort with the order puts a shuffled list back in order. */
static int
order_cmp(const void *x, const void *y)
{
	return nedb__value_order(S(*(const char *const *)x),
				 S(*(const char *const *)y));
}

static void
test_order_sort(void)
{
	const char *v[N(sorted)];
	size_t n = N(sorted);

	for (size_t i = 0; i < n; i++)
		v[i] = text_of((i * 37) % n);	/* 37 is prime to n */
	qsort(v, n, sizeof *v, order_cmp);
	for (size_t i = 1; i < n; i++)
		CHECK(nedb__value_order(S(v[i - 1]), S(v[i])) <= 0);
	CHECK(!strcmp(v[0], ""));
	CHECK(!strcmp(v[n - 1], "{\"b\":0,\"c\":0}"));
}

/* ---- evaluation ----------------------------------------------------------- */

static const char user[] =
	"{\"_id\":\"u1\",\"name\":\"Ada\",\"age\":36,\"score\":9.5,"
	"\"active\":true,\"nick\":null,\"tags\":[\"admin\",\"ops\",3],"
	"\"addr\":{\"city\":\"London\",\"zip\":\"N1\"},"
	"\"pts\":[{\"x\":1},{\"x\":2}]}";

static void
test_eval_cmp(void)
{
	CHECK(eval(CMP("age", CMP_EQ, "36"), user));
	CHECK(eval(CMP("age", CMP_EQ, "36.0"), user));
	CHECK(!eval(CMP("age", CMP_EQ, "\"36\""), user));
	CHECK(eval(CMP("age", CMP_NE, "\"36\""), user));
	CHECK(eval(CMP("age", CMP_GT, "30"), user));
	CHECK(!eval(CMP("age", CMP_GT, "\"30\""), user));
	CHECK(eval(CMP("score", CMP_LE, "9.5"), user));
	CHECK(eval(CMP("name", CMP_LT, "\"Bob\""), user));
	CHECK(eval(CMP("active", CMP_EQ, "true"), user));
	CHECK(!eval(CMP("active", CMP_EQ, "1"), user));
	CHECK(eval(CMP("addr.city", CMP_EQ, "\"London\""), user));
	CHECK(eval(CMP("addr", CMP_EQ, "{\"zip\":\"N1\",\"city\":\"London\"}"),
		   user));
	CHECK(eval(CMP("tags.1", CMP_EQ, "\"ops\""), user));
	CHECK(eval(CMP("tags", CMP_EQ, "[\"admin\",\"ops\",3.0]"), user));
	CHECK(eval(CMP("pts.1.x", CMP_GE, "2"), user));
}

static void
test_eval_absent(void)
{
	CHECK(!eval(CMP("missing", CMP_EQ, "null"), user));
	CHECK(eval(CMP("missing", CMP_NE, "null"), user));
	CHECK(eval(CMP("missing", CMP_NE, "1"), user));
	CHECK(!eval(CMP("missing", CMP_LT, "1"), user));
	CHECK(!eval(CMP("missing", CMP_GE, "1"), user));
	CHECK(!eval(CMP("addr.missing", CMP_EQ, "1"), user));
	CHECK(!eval(CMP("tags.9", CMP_EQ, "1"), user));
	CHECK(!eval(leaf(EX_EXISTS, "missing", CMP_EQ, NULL, NULL, NULL,
			 NULL), user));
	CHECK(eval(node(EX_NOT, leaf(EX_EXISTS, "missing", CMP_EQ, NULL,
				     NULL, NULL, NULL), NULL), user));
	CHECK(!eval(leaf(EX_IN, "missing", CMP_EQ, "null", "1", NULL, NULL),
		    user));
	CHECK(!eval(leaf(EX_CONTAINS, "missing", CMP_EQ, "1", NULL, NULL,
			 NULL), user));
}

static void
test_eval_null(void)
{
	CHECK(eval(leaf(EX_EXISTS, "nick", CMP_EQ, NULL, NULL, NULL, NULL),
		   user));
	CHECK(eval(CMP("nick", CMP_EQ, "null"), user));
	CHECK(!eval(CMP("nick", CMP_NE, "null"), user));
	CHECK(eval(CMP("nick", CMP_NE, "false"), user));
	CHECK(!eval(CMP("nick", CMP_LT, "1"), user));
	CHECK(!eval(CMP("nick", CMP_GE, "null"), user));
	CHECK(!eval(CMP("nick.x", CMP_EQ, "null"), user));
}

static void
test_eval_in(void)
{
	CHECK(eval(leaf(EX_IN, "age", CMP_EQ, "\"36\"", "null", "36.0", NULL),
		   user));
	CHECK(!eval(leaf(EX_IN, "age", CMP_EQ, "\"36\"", "null", "true",
			 NULL), user));
	CHECK(eval(leaf(EX_IN, "nick", CMP_EQ, "0", "null", NULL, NULL), user));
	CHECK(eval(leaf(EX_IN, "name", CMP_EQ, "1", "\"Ad\\u0061\"", NULL,
			NULL), user));
	CHECK(eval(leaf(EX_IN, "tags", CMP_EQ, "[\"admin\",\"ops\",3]", NULL,
			NULL, NULL), user));
	CHECK(!eval(leaf(EX_IN, "age", CMP_EQ, NULL, NULL, NULL, NULL), user));
}

static void
test_eval_contains(void)
{
	CHECK(eval(leaf(EX_CONTAINS, "tags", CMP_EQ, "\"ops\"", NULL, NULL,
			NULL), user));
	CHECK(eval(leaf(EX_CONTAINS, "tags", CMP_EQ, "3.0", NULL, NULL,
			NULL), user));
	CHECK(!eval(leaf(EX_CONTAINS, "tags", CMP_EQ, "\"3\"", NULL, NULL,
			 NULL), user));
	CHECK(!eval(leaf(EX_CONTAINS, "tags", CMP_EQ, "\"adm\"", NULL, NULL,
			 NULL), user));
	CHECK(eval(leaf(EX_CONTAINS, "pts", CMP_EQ, "{\"x\":2}", NULL, NULL,
			NULL), user));
	/* a string is not an array */
	CHECK(!eval(leaf(EX_CONTAINS, "name", CMP_EQ, "\"A\"", NULL, NULL,
			 NULL), user));
	CHECK(!eval(leaf(EX_CONTAINS, "addr", CMP_EQ, "\"London\"", NULL,
			 NULL, NULL), user));
}

static void
test_eval_logic(void)
{
	CHECK(eval(node(EX_TRUE, NULL, NULL), user));
	CHECK(eval(node(EX_AND, CMP("age", CMP_GT, "30"),
			CMP("active", CMP_EQ, "true")), user));
	CHECK(!eval(node(EX_AND, CMP("age", CMP_GT, "30"),
			 CMP("active", CMP_EQ, "false")), user));
	CHECK(eval(node(EX_OR, CMP("age", CMP_GT, "40"),
			CMP("active", CMP_EQ, "true")), user));
	CHECK(!eval(node(EX_OR, CMP("age", CMP_GT, "40"),
			 CMP("missing", CMP_EQ, "1")), user));
	CHECK(eval(node(EX_NOT, CMP("age", CMP_GT, "40"), NULL), user));
	/* NOT (missing < 1) is true although missing >= 1 is false */
	CHECK(eval(node(EX_NOT, CMP("missing", CMP_LT, "1"), NULL), user));
}

/* Long chains as the parsers build them, ((a AND b) AND c)...: no stack
 * in proportion to their length. */
static void
test_eval_long_chain(void)
{
	for (int k = 0; k < 2; k++) {
		enum nql_expr_kind kind = k ? EX_OR : EX_AND;
		struct nql_expr *e = CMP("age", CMP_EQ, "36");

		for (int i = 0; i < 200000; i++)
			e = node(kind, e, CMP("age", CMP_EQ, k ? "1" : "36"));
		CHECK(nedb__eval(e, user, strlen(user)));
		e = node(kind, e, CMP("age", CMP_EQ, k ? "36" : "1"));
		CHECK(nedb__eval(e, user, strlen(user)) == (kind == EX_OR));
		nql_expr_free(e);
	}
}

static void
test_eval_not_chain(void)
{
	struct nql_expr *e = CMP("age", CMP_EQ, "36");

	for (int i = 0; i < 5; i++)
		e = node(EX_NOT, e, NULL);
	CHECK(!nedb__eval(e, user, strlen(user)));
	e = node(EX_NOT, e, NULL);
	CHECK(nedb__eval(e, user, strlen(user)));
	e = node(EX_NOT, node(EX_AND, e, node(EX_TRUE, NULL, NULL)), NULL);
	CHECK(!nedb__eval(e, user, strlen(user)));
	nql_expr_free(e);
}

/* ---- strings, tokens, SEARCH ---------------------------------------------- */

static void
test_string_value(void)
{
	static const struct {
		const char *lit, *want;
		size_t n;
	} cases[] = {
		{"\"plain\"", "plain", 5},
		{"\"\"", "", 0},
		{"\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d", 7},
		{"\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t", 5},
		{"\"\\u0041\\u00e9\\u6771\"", "A\xc3\xa9\xe6\x9d\xb1", 6},
		{"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},
		{"\"\\ude00x\"", "\xef\xbf\xbdx", 4},	/* lone: U+FFFD */
		{"\"a\\u0000b\"", "a\0b", 3},
	};

	for (size_t i = 0; i < N(cases); i++) {
		size_t n = 99;
		char *s = nedb__string_value(S(cases[i].lit), &n);

		CHECK(s && n == cases[i].n && !memcmp(s, cases[i].want, n) &&
		      s[n] == 0);
		free(s);
	}
	CHECK(nedb__string_value(S("3"), NULL) == NULL);
	CHECK(nedb__string_value(S(""), NULL) == NULL);
}

static void
collect(const char *tok, size_t n, void *payload)
{
	char *out = payload;

	CHECK(strlen(tok) == n);
	strcat(out, "[");
	strncat(out, tok, n);
	strcat(out, "]");
}

static void
test_tokens(void)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{"Hello, World!", "[hello][world]"},
		{"x2 R2-D2 3.14", "[x2][r2][d2][3][14]"},
		{"  ", ""},
		{"", ""},
		{"caf\xc3\xa9 CAF\xc3\x89", "[caf\xc3\xa9][caf\xc3\x89]"},
		{"\xe6\x9d\xb1\xe4\xba\xac/Tokyo", "[\xe6\x9d\xb1\xe4\xba\xac][tokyo]"},
		{"snake_case-and.dots", "[snake][case][and][dots]"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		char out[256] = "";

		nedb__tokens(cases[i].text, strlen(cases[i].text), collect,
			     out);
		CHECK_STR(out, cases[i].want);
	}
}

static void
test_tokens_long(void)
{
	char text[1000], out[1100] = "";

	memset(text, 'A', sizeof text);
	nedb__tokens(text, sizeof text, collect, out);
	CHECK(strlen(out) == 1002 && out[1] == 'a' && out[1000] == 'a');
}

static void
test_search_match(void)
{
	static const char doc[] =
		"{\"_id\":\"p1\",\"title\":\"The Quick Brown Fox\","
		"\"body\":\"jumps over the lazy dog\",\"n\":42,"
		"\"meta\":{\"tags\":[\"Animals\",\"caf\\u00e9\"]},"
		"\"keyword\":\"x\"}";
	struct nql_path title = P("title"), meta = P("meta");
	struct nql_path both[2] = {title, meta};
	size_t n = strlen(doc);

	CHECK(nedb__search_match(doc, n, "quick fox", NULL, 0));
	CHECK(nedb__search_match(doc, n, "QUICK, dog!", NULL, 0));
	CHECK(nedb__search_match(doc, n, "animals", NULL, 0));	/* nested */
	CHECK(nedb__search_match(doc, n, "caf\xc3\xa9", NULL, 0));
	CHECK(nedb__search_match(doc, n, "p1", NULL, 0));
	CHECK(!nedb__search_match(doc, n, "quick cat", NULL, 0));
	CHECK(!nedb__search_match(doc, n, "qui", NULL, 0));	/* words */
	CHECK(!nedb__search_match(doc, n, "42", NULL, 0));	/* numbers */
	CHECK(!nedb__search_match(doc, n, "keyword", NULL, 0));	/* keys */
	CHECK(!nedb__search_match(doc, n, "body", NULL, 0));
	CHECK(nedb__search_match(doc, n, "", NULL, 0));	/* no words */
	CHECK(nedb__search_match(doc, n, "fox fox", NULL, 0));
	CHECK(nedb__search_match(doc, n, "quick", &title, 1));
	CHECK(!nedb__search_match(doc, n, "dog", &title, 1));
	CHECK(nedb__search_match(doc, n, "fox animals", both, 2));
	CHECK(!nedb__search_match(doc, n, "fox dog", both, 2));
	path_free(&title);
	path_free(&meta);
}

/* ---- index keys ----------------------------------------------------------- */

static int
key_cmp(const char *a, const char *b, size_t max)
{
	unsigned char ka[512], kb[512];
	size_t na = nedb__index_key(ka, max, S(a));
	size_t nb = nedb__index_key(kb, max, S(b));
	int r = memcmp(ka, kb, na < nb ? na : nb);

	return r ? sign(r) : na < nb ? -1 : na > nb;
}

static void
test_index_key_numbers(void)
{
	static const char *nums[] = {
		"-1e400", "-1.7976931348623157e308", "-1e300", "-1e20",
		"-9007199254740993", "-1000", "-3", "-2.5", "-2", "-1",
		"-0.75", "-0.5", "-1e-300", "-5e-324", "0", "5e-324",
		"1e-300", "1e-10", "0.1", "0.5", "1", "1.5", "2", "3", "10",
		"255", "256", "1000", "65536", "4294967296",
		"9007199254740992", "1e20", "1e300",
		"1.7976931348623157e308", "1e400",
	};

	for (size_t i = 0; i < N(nums); i++)
		for (size_t j = 0; j < N(nums); j++) {
			int want = sign(nedb__value_order(S(nums[i]),
							  S(nums[j])));

			CHECK(want == sign((int)i - (int)j));
			if (key_cmp(nums[i], nums[j], 64) != want) {
				fprintf(stderr, "%s:%d: key order of %s and "
					"%s\n", __FILE__, __LINE__, nums[i],
					nums[j]);
				unit_failed++;
			}
		}
}

static void
test_index_key_equal(void)
{
	static const char *same[][2] = {
		{"0", "-0"}, {"0", "-0.0"}, {"0.0", "0e10"}, {"3", "3.0"},
		{"3", "30e-1"}, {"\"\\u0041\"", "\"A\""},
		{"[1,\"a\"]", "[1.0,\"\\u0061\"]"},
		{"{\"b\":1,\"a\":[2]}", "{\"a\":[2.0],\"b\":1}"},
		{"{\"a\":1,\"a\":2}", "{\"a\":2}"},
	};

	for (size_t i = 0; i < N(same); i++)
		CHECK(key_cmp(same[i][0], same[i][1], 512) == 0);
	/* keys are exact decimals: numbers that share a double differ */
	CHECK(key_cmp("12345678901234567890", "12345678901234567891", 64) <
	      0);
	CHECK(key_cmp("-12345678901234567890", "-12345678901234567891", 64) >
	      0);
}

/* Every row of the total order: keys sort as the values do. */
static void
test_index_key_order(void)
{
	for (size_t i = 0; i < N(sorted); i++)
		for (size_t j = 0; j < N(sorted); j++) {
			int want = sign(rank_of(i) - rank_of(j));
			int got = key_cmp(text_of(i), text_of(j), 512);

			if (got != want) {
				fprintf(stderr, "%s:%d: key order of %s and "
					"%s: %d, want %d\n", __FILE__,
					__LINE__, text_of(i), text_of(j), got,
					want);
				unit_failed++;
			}
		}
}

static void
test_index_key_layout(void)
{
	unsigned char k[64];
	/* 1 = 0.1 x 10^1: positive, be64(1 + 2^62), digit '1', end */
	static const unsigned char one[] = {T_NUMBER, 0x03, 0x40, 0, 0, 0, 0,
					    0, 0, 0x01, '1', 0};
	static const unsigned char minus_one[] = {T_NUMBER, 0x01, 0xbf, 0xff,
						  0xff, 0xff, 0xff, 0xff,
						  0xff, 0xfe, 0xce, 0xff};
	static const unsigned char nul[] = {T_STRING, 'a', 0, 0xff, 'b', 0,
					    0};

	CHECK(nedb__index_key(k, sizeof k, S("null")) == 1 && k[0] == T_NULL);
	CHECK(nedb__index_key(k, sizeof k, S("true")) == 1 && k[0] == T_TRUE);
	CHECK(nedb__index_key(k, sizeof k, S("1")) == 12 &&
	      !memcmp(k, one, 12));
	CHECK(nedb__index_key(k, sizeof k, S("-1")) == 12 &&
	      !memcmp(k, minus_one, 12));
	CHECK(nedb__index_key(k, sizeof k, S("\"a\\u0000b\"")) == 7 &&
	      !memcmp(k, nul, 7));
}

static void
test_index_key_cut(void)
{
	unsigned char k[16], full[64];
	size_t n;

	memset(k, 0xee, sizeof k);
	n = nedb__index_key(k, 8, S("\"abcdefghijklmnop\""));
	CHECK(n == 8);
	CHECK(k[8] == 0xee);			/* nothing past max */
	nedb__index_key(full, sizeof full, S("\"abcdefghijklmnop\""));
	CHECK(!memcmp(k, full, 8));
	CHECK(nedb__index_key(k, 4, S("12")) == 4);
	CHECK(nedb__index_key(k, 3, S("[1,2,3]")) == 3);
	CHECK(nedb__index_key(k, 0, S("1")) == 0);
}

int
main(void)
{
	RUN(test_type);
	RUN(test_path_get);
	RUN(test_path_part_with_dot);
	RUN(test_path_get_bounded);
	RUN(test_eq);
	RUN(test_eq_absent);
	RUN(test_cmp);
	RUN(test_order_total);
	RUN(test_order_sort);
	RUN(test_eval_cmp);
	RUN(test_eval_absent);
	RUN(test_eval_null);
	RUN(test_eval_in);
	RUN(test_eval_contains);
	RUN(test_eval_logic);
	RUN(test_eval_long_chain);
	RUN(test_eval_not_chain);
	RUN(test_string_value);
	RUN(test_tokens);
	RUN(test_tokens_long);
	RUN(test_search_match);
	RUN(test_index_key_numbers);
	RUN(test_index_key_equal);
	RUN(test_index_key_order);
	RUN(test_index_key_layout);
	RUN(test_index_key_cut);
	UNIT_DONE();
}
