/*
 * test_filter.c - MongoDB-style filters compiled into NQL expressions
 * (lib/query/filter.c): the expression each operator becomes, what filters
 * match, and every error.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nql.h"
#include "unit.h"

#define N(a) (sizeof(a) / sizeof *(a))

/* Renders e as NQL-like text, parts joined by '/' to show the split. */
static void
render(nedb_buf *b, const struct nql_expr *e)
{
	static const char *ops[] = {"=", "!=", "<", "<=", ">", ">="};

	switch (e->kind) {
	case EX_AND:
	case EX_OR:
		nedb_buf_puts(b, "(");
		render(b, e->a);
		nedb_buf_puts(b, e->kind == EX_AND ? " AND " : " OR ");
		render(b, e->b);
		nedb_buf_puts(b, ")");
		return;
	case EX_NOT:
		nedb_buf_puts(b, "NOT ");
		render(b, e->a);
		return;
	case EX_TRUE:
		nedb_buf_puts(b, "TRUE");
		return;
	default:
		break;
	}
	for (size_t i = 0; i < e->path.n; i++) {
		if (i)
			nedb_buf_puts(b, "/");
		nedb_buf_puts(b, e->path.parts[i]);
	}
	switch (e->kind) {
	case EX_CMP:
		nedb_buf_printf(b, " %s %.*s", ops[e->cmp],
				(int)e->vals[0].len, e->vals[0].p);
		break;
	case EX_IN:
		nedb_buf_puts(b, " IN (");
		for (size_t i = 0; i < e->nvals; i++)
			nedb_buf_printf(b, "%s%.*s", i ? "," : "",
					(int)e->vals[i].len, e->vals[i].p);
		nedb_buf_puts(b, ")");
		break;
	case EX_EXISTS:
		nedb_buf_puts(b, " EXISTS");
		break;
	default:
		nedb_buf_puts(b, " ?");
	}
}

static void
test_compile(void)
{
	static const struct {
		const char *filter, *want;
	} cases[] = {
		{"{}", "TRUE"},
		{" { } ", "TRUE"},
		{"{\"a\":1}", "a = 1"},
		{"{\"a\":1,\"b.c\":\"x\"}", "(a = 1 AND b/c = \"x\")"},
		{"{\"a\":1,\"b\":2,\"c\":3}", "((a = 1 AND b = 2) AND c = 3)"},
		{"{\"a.0.b\":null}", "a/0/b = null"},
		{"{\"k\\u0065y\":true}", "key = true"},
		{"{ \"a\" : [ 1 , 2 ] }", "a = [1,2]"},
		{"{\"n\":12345678901234567890}", "n = 12345678901234567890"},
		{"{\"n\":3.0}", "n = 3.0"},
		{"{\"s\":\"\\u00e9\\n\"}", "s = \"\\u00e9\\n\""},
		{"{\"a\":1,\"a\":2}", "(a = 1 AND a = 2)"},
		/* an object without $-keys is a value */
		{"{\"a\":{\"x\":1}}", "a = {\"x\":1}"},
		{"{\"a\":{}}", "a = {}"},
		{"{\"a\":{\"$eq\":{\"$gt\":1}}}", "a = {\"$gt\":1}"},
		/* operators */
		{"{\"a\":{\"$eq\":1}}", "a = 1"},
		{"{\"a\":{\"$ne\":1}}", "NOT a = 1"},
		{"{\"a\":{\"$gt\":1}}", "a > 1"},
		{"{\"a\":{\"$gte\":1}}", "a >= 1"},
		{"{\"a\":{\"$lt\":\"m\"}}", "a < \"m\""},
		{"{\"a\":{\"$lte\":1}}", "a <= 1"},
		{"{\"a\":{\"$gt\":1,\"$lt\":5}}", "(a > 1 AND a < 5)"},
		{"{\"a\":{\"$in\":[1,\"x\",null,[2]]}}",
		 "a IN (1,\"x\",null,[2])"},
		{"{\"a\":{\"$in\":[]}}", "a IN ()"},
		{"{\"a\":{\"$nin\":[1,2]}}", "NOT a IN (1,2)"},
		{"{\"a\":{\"$exists\":true}}", "a EXISTS"},
		{"{\"a\":{\"$exists\":false}}", "NOT a EXISTS"},
		{"{\"a\":{\"$not\":{\"$gt\":5}}}", "NOT a > 5"},
		{"{\"a\":{\"$not\":{\"$gt\":1,\"$lt\":2}}}",
		 "NOT (a > 1 AND a < 2)"},
		{"{\"a\":{\"$not\":{\"$in\":[1]}}}", "NOT a IN (1)"},
		/* logical operators */
		{"{\"$and\":[{\"a\":1}]}", "a = 1"},
		{"{\"$and\":[{\"a\":1},{\"b\":2}]}", "(a = 1 AND b = 2)"},
		{"{\"$or\":[{\"a\":1},{\"b\":2}]}", "(a = 1 OR b = 2)"},
		{"{\"$nor\":[{\"a\":1},{\"b\":2}]}", "NOT (a = 1 OR b = 2)"},
		{"{\"$or\":[{\"a\":1},{\"b\":2},{\"c\":3}]}",
		 "((a = 1 OR b = 2) OR c = 3)"},
		{"{\"x\":0,\"$or\":[{\"a\":1},{\"$and\":[{\"b\":2},{}]}]}",
		 "(x = 0 AND (a = 1 OR (b = 2 AND TRUE)))"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct nql_expr *e = NULL;
		nedb_buf b = {0};
		int rc = nedb__filter_compile(cases[i].filter,
					      strlen(cases[i].filter), &e);

		CHECK(rc == 0);
		if (rc) {
			fprintf(stderr, "  %s: %s\n", cases[i].filter,
				nedb_errmsg());
			continue;
		}
		render(&b, e);
		nedb_buf_add(&b, "", 1);
		CHECK_STR(b.p, cases[i].want);
		nedb_buf_free(&b);
		nql_expr_free(e);
	}
}

/* The dotted form is kept; literal texts are NUL-terminated copies. */
static void
test_compile_shapes(void)
{
	const char *f = "{\"a.b\":{\"$in\":[1,\"x\"]}}";
	struct nql_expr *e = NULL;

	CHECK(nedb__filter_compile(f, strlen(f), &e) == 0);
	if (!e)
		return;
	CHECK(e->kind == EX_IN && e->nvals == 2 && e->path.n == 2);
	CHECK_STR(e->path.dotted, "a.b");
	CHECK(e->vals[1].len == 3 && e->vals[1].p[3] == 0);
	nql_expr_free(e);
}

static const char doc[] =
	"{\"_id\":\"u1\",\"name\":\"Ada\",\"age\":36,\"nick\":null,"
	"\"tags\":[\"admin\",\"ops\"],\"addr\":{\"city\":\"London\"},"
	"\"big\":12345678901234567890}";

static void
test_match(void)
{
	static const struct {
		const char *filter;
		bool want;
	} cases[] = {
		{"{}", true},
		{"{\"age\":36}", true},
		{"{\"age\":36.0}", true},
		{"{\"age\":\"36\"}", false},
		{"{\"age\":{\"$gt\":30,\"$lt\":40}}", true},
		{"{\"age\":{\"$gt\":\"30\"}}", false},
		{"{\"age\":{\"$ne\":36}}", false},
		{"{\"missing\":{\"$ne\":36}}", true},
		{"{\"missing\":null}", false},
		{"{\"nick\":null}", true},
		{"{\"nick\":{\"$exists\":true}}", true},
		{"{\"missing\":{\"$exists\":false}}", true},
		{"{\"missing\":{\"$lt\":1}}", false},
		{"{\"missing\":{\"$not\":{\"$lt\":1}}}", true},
		{"{\"age\":{\"$in\":[\"36\",36]}}", true},
		{"{\"age\":{\"$nin\":[\"36\",null]}}", true},
		{"{\"missing\":{\"$nin\":[1]}}", true},
		{"{\"addr.city\":\"London\"}", true},
		{"{\"addr\":{\"city\":\"London\"}}", true},
		{"{\"tags.1\":\"ops\"}", true},
		{"{\"tags\":[\"admin\",\"ops\"]}", true},
		{"{\"tags\":\"ops\"}", false},	/* = is not CONTAINS */
		{"{\"big\":12345678901234567890}", true},
		{"{\"big\":12345678901234567891}", false},
		{"{\"$or\":[{\"age\":1},{\"name\":\"Ada\"}]}", true},
		{"{\"$nor\":[{\"age\":1},{\"name\":\"Ada\"}]}", false},
		{"{\"$and\":[{\"age\":36},{\"name\":\"Bob\"}]}", false},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct nql_expr *e = NULL;
		int rc = nedb__filter_compile(cases[i].filter,
					      strlen(cases[i].filter), &e);

		CHECK(rc == 0);
		if (rc)
			continue;
		if (nedb__eval(e, doc, strlen(doc)) != cases[i].want) {
			fprintf(stderr, "%s:%d: %s: want %s\n", __FILE__,
				__LINE__, cases[i].filter,
				cases[i].want ? "a match" : "no match");
			unit_failed++;
		}
		nql_expr_free(e);
	}
}

/* A filter of many members compiles, runs and frees without deep
 * recursion (the AND chain grows down the left side). */
static void
test_compile_large(void)
{
	nedb_buf f = {0};
	struct nql_expr *e = NULL;

	nedb_buf_puts(&f, "{\"age\":36");
	for (int i = 0; i < 100000; i++)
		nedb_buf_printf(&f, ",\"f%d\":{\"$ne\":%d}", i, i);
	nedb_buf_puts(&f, "}");
	CHECK(nedb__filter_compile(f.p, f.len, &e) == 0);
	if (e)
		CHECK(nedb__eval(e, doc, strlen(doc)));
	nql_expr_free(e);
	nedb_buf_free(&f);
}

static void
test_errors(void)
{
	static const struct {
		const char *filter, *msg;	/* msg: part of the message */
	} cases[] = {
		{"", "bad filter: not JSON"},
		{"{", "bad filter: not JSON"},
		{"{\"a\":nan}", "bad filter"},
		{"[{\"a\":1}]", "not an object"},
		{"1", "not an object"},
		{"\"a\"", "not an object"},
		{"{\"$foo\":1}", "unknown filter operator '$foo'"},
		{"{\"$not\":{\"a\":1}}", "unknown filter operator '$not'"},
		{"{\"$in\":[1]}", "unknown filter operator '$in'"},
		{"{\"a\":{\"$foo\":1}}", "unknown filter operator '$foo'"},
		{"{\"a\":{\"$regex\":\"x\"}}", "'$regex'"},
		{"{\"a\":{\"$and\":[]}}", "unknown filter operator '$and'"},
		{"{\"a\":{\"$in\":1}}", "'$in' needs an array"},
		{"{\"a\":{\"$in\":{}}}", "'$in' needs an array"},
		{"{\"a\":{\"$nin\":\"x\"}}", "'$nin' needs an array"},
		{"{\"$and\":{}}", "'$and' needs a non-empty array"},
		{"{\"$and\":[]}", "'$and' needs a non-empty array"},
		{"{\"$or\":[]}", "'$or' needs a non-empty array"},
		{"{\"$nor\":[]}", "'$nor' needs a non-empty array"},
		{"{\"$or\":\"x\"}", "'$or' needs a non-empty array"},
		{"{\"$and\":[{\"a\":1},2]}", "'$and' needs a non-empty array"},
		{"{\"$or\":[{\"a\":{\"$bad\":1}}]}", "'$bad'"},
		{"{\"a\":{\"$exists\":1}}", "'$exists' needs true or false"},
		{"{\"a\":{\"$exists\":null}}", "'$exists' needs true or false"},
		{"{\"a\":{\"$not\":1}}", "'$not' needs an object"},
		{"{\"a\":{\"$not\":{}}}", "'$not' needs an object"},
		{"{\"a\":{\"$not\":{\"b\":1}}}", "'$not' needs an object"},
		{"{\"a\":{\"$not\":{\"$bad\":1}}}", "'$bad'"},
		{"{\"a\":{\"$gt\":1,\"b\":2}}", "mixes operators and fields"},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct nql_expr *e = (struct nql_expr *)1;
		int rc = nedb__filter_compile(cases[i].filter,
					      strlen(cases[i].filter), &e);

		if (rc != NEDB_EUSAGE || e != NULL ||
		    !strstr(nedb_errmsg(), cases[i].msg) ||
		    strchr(nedb_errmsg(), '\n')) {
			fprintf(stderr, "%s:%d: %s: rc %d, message '%s', "
				"want '%s'\n", __FILE__, __LINE__,
				cases[i].filter, rc, nedb_errmsg(),
				cases[i].msg);
			unit_failed++;
		}
	}
}

/* Whatever a document can hold, a filter can name: "" and NUL. */
static void
test_member_names_of_any_kind(void)
{
	static const struct {
		const char *filter, *doc;
		bool want;
	} cases[] = {
		{"{\"\":0}", "{\"\":0}", true},
		{"{\"\":0}", "{\"a\":0}", false},
		{"{\"a..b\":5}", "{\"a\":{\"\":{\"b\":5}}}", true},
		{"{\"a.\":5}", "{\"a\":{\"\":5}}", true},
		{"{\".a\":5}", "{\"\":{\"a\":5}}", true},
		{"{\"a\\u0000b\":1}", "{\"a\\u0000b\":1}", true},
		{"{\"a\\u0000b\":1}", "{\"a\":1}", false},
		{"{\"a\\u0000b\":{\"$exists\":true}}", "{\"a\":1}", false},
		{"{\"$or\":[{\"a\\u0000\":1}]}", "{\"a\\u0000\":1}", true},
	};

	for (size_t i = 0; i < N(cases); i++) {
		struct nql_expr *e = NULL;
		int rc = nedb__filter_compile(cases[i].filter,
					      strlen(cases[i].filter), &e);

		CHECK(rc == 0);
		if (rc) {
			fprintf(stderr, "  %s: %s\n", cases[i].filter,
				nedb_errmsg());
			continue;
		}
		if (nedb__eval(e, cases[i].doc, strlen(cases[i].doc)) !=
		    cases[i].want)
			fprintf(stderr, "%s:%d: %s on %s: want %d\n", __FILE__,
				__LINE__, cases[i].filter, cases[i].doc,
				cases[i].want), unit_failed++;
		nql_expr_free(e);
	}
}

int
main(void)
{
	RUN(test_compile);
	RUN(test_compile_shapes);
	RUN(test_match);
	RUN(test_compile_large);
	RUN(test_errors);
	RUN(test_member_names_of_any_kind);
	UNIT_DONE();
}
