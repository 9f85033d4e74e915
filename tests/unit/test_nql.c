/*
 * test_nql.c - the NQL parser (lib/query/nql_parse.c): every clause of SPEC §6,
 * operator precedence, literal texts, and syntax errors with the byte
 * offset they point at.  Expressions are checked through a compact
 * S-expression rendering: "(AND (= a 1) (NOT (EXISTS b)))".
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nql.h"
#include "unit.h"

static char sx[4096];

static void
sx_put(const char *s, size_t n)
{
	size_t len = strlen(sx);

	if (len + n < sizeof sx) {
		memcpy(sx + len, s, n);
		sx[len + n] = 0;
	}
}

static void
sx_puts(const char *s)
{
	sx_put(s, strlen(s));
}

static void
sx_expr(const struct nql_expr *e)
{
	static const char *const cmp[] = {"=", "!=", "<", "<=", ">", ">="};

	switch (e->kind) {
	case EX_AND:
	case EX_OR:
		sx_puts(e->kind == EX_AND ? "(AND " : "(OR ");
		sx_expr(e->a);
		sx_puts(" ");
		sx_expr(e->b);
		sx_puts(")");
		return;
	case EX_NOT:
		sx_puts("(NOT ");
		sx_expr(e->a);
		sx_puts(")");
		return;
	case EX_CMP:
		sx_puts("(");
		sx_puts(cmp[e->cmp]);
		break;
	case EX_IN:
		sx_puts("(IN");
		break;
	case EX_EXISTS:
		sx_puts("(EXISTS");
		break;
	case EX_CONTAINS:
		sx_puts("(CONTAINS");
		break;
	case EX_TRUE:
		sx_puts("(TRUE)");
		return;
	}
	sx_puts(" ");
	sx_puts(e->path.dotted);
	for (size_t i = 0; i < e->nvals; i++) {
		sx_puts(" ");
		sx_put(e->vals[i].p, e->vals[i].len);
	}
	sx_puts(")");
}

/* The WHERE expression of query, rendered; "" when it has none. */
static const char *
where(const char *query)
{
	struct nql_query *q = NULL;
	struct nql_error err;
	int rc = nql_parse(query, &q, &err);

	sx[0] = 0;
	if (rc) {
		fprintf(stderr, "unexpected error for %s: %s (at %zu)\n",
			query, err.msg, err.pos);
		snprintf(sx, sizeof sx, "error: %s", err.msg);
		return sx;
	}
	if (q->where)
		sx_expr(q->where);
	nql_free(q);
	return sx;
}

static struct nql_query *
parse_ok(const char *query)
{
	struct nql_query *q = NULL;
	struct nql_error err;

	if (nql_parse(query, &q, &err)) {
		fprintf(stderr, "unexpected error for %s: %s (at %zu)\n",
			query, err.msg, err.pos);
		return NULL;
	}
	return q;
}

static void
test_from_only(void)
{
	struct nql_query *q = parse_ok("FROM users");

	CHECK(q);
	if (!q)
		return;
	CHECK_STR(q->coll, "users");
	CHECK(!q->explain && !q->has_as_of && !q->where && !q->search);
	CHECK(!q->has_group && q->naggs == 0 && q->norder == 0);
	CHECK(!q->traverse && !q->trace && !q->has_limit);
	nql_free(q);
}

static void
test_collection_names(void)
{
	struct nql_query *q = parse_ok("FROM _Users_2");
	char name[66];

	CHECK(q && !strcmp(q->coll, "_Users_2"));
	nql_free(q);
	memset(name, 'a', 64);
	strcpy(name + 64, "");
	{
		char query[100];

		snprintf(query, sizeof query, "FROM %s", name);
		q = parse_ok(query);
		CHECK(q && strlen(q->coll) == 64);
		nql_free(q);
	}
}

static void
test_every_clause(void)
{
	struct nql_query *q = parse_ok(
		"EXPLAIN FROM orders AS OF 42 WHERE status = \"open\" "
		"SEARCH \"red shoes\" GROUP BY customer COUNT SUM total "
		"ORDER BY count DESC TRAVERSE placed_by TRACE caused_by "
		"LIMIT 10 OFFSET 20");

	CHECK(q);
	if (!q)
		return;
	CHECK(q->explain);
	CHECK_STR(q->coll, "orders");
	CHECK(q->has_as_of && q->as_of == 42);
	CHECK(q->where && q->where->kind == EX_CMP);
	CHECK_STR(q->search, "red shoes");
	CHECK(q->has_group);
	CHECK_STR(q->group_by.dotted, "customer");
	CHECK(q->naggs == 2);
	CHECK(q->norder == 1 && q->order[0].desc);
	CHECK_STR(q->order[0].path.dotted, "count");
	CHECK_STR(q->traverse, "placed_by");
	CHECK(!q->traverse_in);
	CHECK(q->trace);
	CHECK(q->has_limit && q->limit == 10 && q->offset == 20);
	nql_free(q);
}

static void
test_keywords_case_insensitive(void)
{
	struct nql_query *q = parse_ok(
		"explain From users As oF 7 wHeRe a = TRUE aNd NOT b ExIsTs "
		"Or c In (NULL, False) oR d contains 1 order by x asc, y Desc "
		"traverse knows In trace CAUSED_BY limit 1 Offset 2");

	CHECK(q);
	if (!q)
		return;
	CHECK(q->explain && q->has_as_of && q->as_of == 7);
	sx[0] = 0;
	sx_expr(q->where);
	CHECK_STR(sx, "(OR (OR (AND (= a true) (NOT (EXISTS b))) "
		  "(IN c null false)) (CONTAINS d 1))");
	CHECK(q->norder == 2 && !q->order[0].desc && q->order[1].desc);
	CHECK(q->traverse_in && q->trace);
	CHECK(q->limit == 1 && q->offset == 2);
	nql_free(q);
}

static void
test_as_of(void)
{
	struct nql_query *q = parse_ok("FROM users AS OF 0");

	CHECK(q && q->has_as_of && q->as_of == 0);
	nql_free(q);
	q = parse_ok("FROM users AS OF 18446744073709551615");
	CHECK(q && q->as_of == UINT64_MAX);
	nql_free(q);
}

static void
test_comparison_operators(void)
{
	CHECK_STR(where("FROM t WHERE a = 1"), "(= a 1)");
	CHECK_STR(where("FROM t WHERE a != 1"), "(!= a 1)");
	CHECK_STR(where("FROM t WHERE a < 1"), "(< a 1)");
	CHECK_STR(where("FROM t WHERE a <= 1"), "(<= a 1)");
	CHECK_STR(where("FROM t WHERE a > 1"), "(> a 1)");
	CHECK_STR(where("FROM t WHERE a >= 1"), "(>= a 1)");
	CHECK_STR(where("FROM t WHERE a>=1 AND b!=\"x\""),
		  "(AND (>= a 1) (!= b \"x\"))");
}

static void
test_or_binds_looser_than_and(void)
{
	CHECK_STR(where("FROM t WHERE a = 1 OR b = 2 AND c = 3"),
		  "(OR (= a 1) (AND (= b 2) (= c 3)))");
	CHECK_STR(where("FROM t WHERE a = 1 AND b = 2 OR c = 3"),
		  "(OR (AND (= a 1) (= b 2)) (= c 3))");
}

static void
test_not_binds_tighter_than_and(void)
{
	CHECK_STR(where("FROM t WHERE NOT a = 1 AND b = 2"),
		  "(AND (NOT (= a 1)) (= b 2))");
	CHECK_STR(where("FROM t WHERE NOT NOT a EXISTS"),
		  "(NOT (NOT (EXISTS a)))");
	CHECK_STR(where("FROM t WHERE a = 1 OR NOT b = 2"),
		  "(OR (= a 1) (NOT (= b 2)))");
}

static void
test_chains_are_left_associative(void)
{
	CHECK_STR(where("FROM t WHERE a = 1 AND b = 2 AND c = 3"),
		  "(AND (AND (= a 1) (= b 2)) (= c 3))");
	CHECK_STR(where("FROM t WHERE a = 1 OR b = 2 OR c = 3"),
		  "(OR (OR (= a 1) (= b 2)) (= c 3))");
}

static void
test_parentheses(void)
{
	CHECK_STR(where("FROM t WHERE (a = 1 OR b = 2) AND c = 3"),
		  "(AND (OR (= a 1) (= b 2)) (= c 3))");
	CHECK_STR(where("FROM t WHERE NOT (a = 1 AND b = 2)"),
		  "(NOT (AND (= a 1) (= b 2)))");
	CHECK_STR(where("FROM t WHERE ((((a = 1))))"), "(= a 1)");
	CHECK_STR(where("FROM t WHERE a = 1 AND (b = 2 OR (c = 3))"),
		  "(AND (= a 1) (OR (= b 2) (= c 3)))");
}

static void
test_in_lists(void)
{
	CHECK_STR(where("FROM t WHERE s IN (\"a\")"), "(IN s \"a\")");
	CHECK_STR(where("FROM t WHERE s IN (\"a\", 2,true ,null, -3.5)"),
		  "(IN s \"a\" 2 true null -3.5)");
	CHECK_STR(where("FROM t WHERE s IN(1)AND b = 2"),
		  "(AND (IN s 1) (= b 2))");
}

static void
test_exists_and_contains(void)
{
	CHECK_STR(where("FROM t WHERE email EXISTS"), "(EXISTS email)");
	CHECK_STR(where("FROM t WHERE tags CONTAINS \"red\""),
		  "(CONTAINS tags \"red\")");
	CHECK_STR(where("FROM t WHERE n CONTAINS 3 AND x EXISTS"),
		  "(AND (CONTAINS n 3) (EXISTS x))");
}

static void
test_dotted_paths(void)
{
	struct nql_query *q = parse_ok(
		"FROM t WHERE address.city_2.zip = \"x\" ORDER BY tags.0.name");

	CHECK(q);
	if (!q)
		return;
	CHECK(q->where->path.n == 3);
	CHECK_STR(q->where->path.parts[0], "address");
	CHECK_STR(q->where->path.parts[1], "city_2");
	CHECK_STR(q->where->path.parts[2], "zip");
	CHECK_STR(q->where->path.dotted, "address.city_2.zip");
	CHECK(q->order[0].path.n == 3);
	CHECK_STR(q->order[0].path.parts[1], "0");
	nql_free(q);
	CHECK_STR(where("FROM t WHERE _id = \"u1\""), "(= _id \"u1\")");
	CHECK_STR(where("FROM t WHERE a.12 EXISTS"), "(EXISTS a.12)");
}

static void
test_keywords_as_field_names(void)
{
	/* a field may be called like a clause or an aggregate */
	CHECK_STR(where("FROM t WHERE order = 1 AND count > 2"),
		  "(AND (= order 1) (> count 2))");
	CHECK_STR(where("FROM t WHERE in IN (1)"), "(IN in 1)");
}

static void
test_string_literals_stored_exactly(void)
{
	struct nql_query *q = parse_ok(
		"FROM t WHERE a = \"a\\\"b\" AND b = \"\\u00e9\\n\\/\" "
		"AND c = \"caf\xc3\xa9\" AND d = \"\"");
	const struct nql_expr *e;

	CHECK(q);
	if (!q)
		return;
	e = q->where;			/* (AND (AND (AND a b) c) d) */
	CHECK(e->b->vals[0].len == 2 && !memcmp(e->b->vals[0].p, "\"\"", 2));
	e = e->a;
	CHECK(e->b->vals[0].len == 7 &&
	      !memcmp(e->b->vals[0].p, "\"caf\xc3\xa9\"", 7));
	e = e->a;
	CHECK(e->a->vals[0].len == 6 &&
	      !memcmp(e->a->vals[0].p, "\"a\\\"b\"", 6));
	CHECK(e->b->vals[0].len == 12 &&
	      !memcmp(e->b->vals[0].p, "\"\\u00e9\\n\\/\"", 12));
	nql_free(q);
	CHECK_STR(where("FROM t WHERE a = \"\\ud83d\\ude00\""),
		  "(= a \"\\ud83d\\ude00\")");
}

static void
test_number_literals(void)
{
	CHECK_STR(where("FROM t WHERE a = -1"), "(= a -1)");
	CHECK_STR(where("FROM t WHERE a = 0"), "(= a 0)");
	CHECK_STR(where("FROM t WHERE a = -0.5"), "(= a -0.5)");
	CHECK_STR(where("FROM t WHERE a = 3.25"), "(= a 3.25)");
	CHECK_STR(where("FROM t WHERE a = 1e10"), "(= a 1e10)");
	CHECK_STR(where("FROM t WHERE a > -2.5E-3"), "(> a -2.5E-3)");
	CHECK_STR(where("FROM t WHERE a = 12345678901234567890"),
		  "(= a 12345678901234567890)");
}

static void
test_true_false_null_stored_lowercase(void)
{
	CHECK_STR(where("FROM t WHERE a = TRUE OR b = False OR c != NULL"),
		  "(OR (OR (= a true) (= b false)) (!= c null))");
}

static void
test_search_is_decoded(void)
{
	struct nql_query *q = parse_ok(
		"FROM t SEARCH \"Caf\\u00e9 \\\"au\\\" lait\\n\"");

	CHECK(q && !strcmp(q->search, "Caf\xc3\xa9 \"au\" lait\n"));
	nql_free(q);
	q = parse_ok("FROM t SEARCH \"\\ud83d\\ude00 x\"");
	CHECK(q && !strcmp(q->search, "\xf0\x9f\x98\x80 x"));
	nql_free(q);
}

static void
test_group_by_aggregates(void)
{
	struct nql_query *q = parse_ok(
		"FROM sales GROUP BY region.name COUNT SUM amount AVG amount "
		"MIN price.net MAX price.net");

	CHECK(q);
	if (!q)
		return;
	CHECK(q->has_group);
	CHECK(q->group_by.n == 2);
	CHECK_STR(q->group_by.dotted, "region.name");
	CHECK(q->naggs == 5);
	CHECK(q->aggs[0].fn == AGG_COUNT && q->aggs[0].path.n == 0 &&
	      !q->aggs[0].path.dotted);
	CHECK(q->aggs[1].fn == AGG_SUM);
	CHECK_STR(q->aggs[1].path.dotted, "amount");
	CHECK(q->aggs[2].fn == AGG_AVG);
	CHECK(q->aggs[3].fn == AGG_MIN);
	CHECK_STR(q->aggs[3].path.dotted, "price.net");
	CHECK(q->aggs[4].fn == AGG_MAX);
	nql_free(q);
	/* commas between aggregates are accepted too */
	q = parse_ok("FROM sales GROUP BY r SUM a, COUNT LIMIT 3");
	CHECK(q && q->naggs == 2 && q->aggs[1].fn == AGG_COUNT &&
	      q->limit == 3);
	nql_free(q);
}

static void
test_order_by_several_keys(void)
{
	struct nql_query *q = parse_ok(
		"FROM t ORDER BY a DESC, b.c, d ASC,e desc");

	CHECK(q);
	if (!q)
		return;
	CHECK(q->norder == 4);
	CHECK_STR(q->order[0].path.dotted, "a");
	CHECK(q->order[0].desc);
	CHECK_STR(q->order[1].path.dotted, "b.c");
	CHECK(!q->order[1].desc);
	CHECK_STR(q->order[2].path.dotted, "d");
	CHECK(!q->order[2].desc);
	CHECK_STR(q->order[3].path.dotted, "e");
	CHECK(q->order[3].desc);
	nql_free(q);
}

static void
test_traverse(void)
{
	struct nql_query *q = parse_ok("FROM people TRAVERSE knows");

	CHECK(q && !strcmp(q->traverse, "knows") && !q->traverse_in);
	nql_free(q);
	q = parse_ok("FROM people TRAVERSE rel:works-at IN LIMIT 5");
	CHECK(q && !strcmp(q->traverse, "rel:works-at") && q->traverse_in &&
	      q->limit == 5);
	nql_free(q);
	q = parse_ok("FROM people TRAVERSE knows in;");
	CHECK(q && q->traverse_in);
	nql_free(q);
}

static void
test_trace(void)
{
	struct nql_query *q = parse_ok("FROM ops WHERE _id = \"x\" "
				       "TRACE caused_by");

	CHECK(q && q->trace);
	nql_free(q);
}

static void
test_limit_offset(void)
{
	struct nql_query *q = parse_ok("FROM t LIMIT 5");

	CHECK(q && q->has_limit && q->limit == 5 && q->offset == 0);
	nql_free(q);
	q = parse_ok("FROM t LIMIT 0 OFFSET 100");
	CHECK(q && q->has_limit && q->limit == 0 && q->offset == 100);
	nql_free(q);
}

static void
test_explain(void)
{
	struct nql_query *q = parse_ok("EXPLAIN FROM t WHERE a = 1");

	CHECK(q && q->explain);
	nql_free(q);
	q = parse_ok("FROM t");
	CHECK(q && !q->explain);
	nql_free(q);
}

static void
test_semicolon_and_whitespace(void)
{
	struct nql_query *q = parse_ok("  FROM\tt\nWHERE a = 1\r\n;  ");

	CHECK(q && !strcmp(q->coll, "t") && q->where);
	nql_free(q);
	q = parse_ok("FROM t;");
	CHECK(q);
	nql_free(q);
}

/* Error cases: query, byte offset of the error, message. */
static const struct {
	const char *query;
	size_t pos;
	const char *msg;
} errors[] = {
	{"", 0, "expected FROM at the start of the query"},
	{"SELECT * FROM t", 0, "expected FROM at the start of the query"},
	{"EXPLAIN", 7, "expected FROM after EXPLAIN"},
	{"FROM", 4, "expected a collection name after FROM"},
	{"FROM 1users", 5,
	 "bad collection name '1users' (want [A-Za-z_][A-Za-z0-9_]*)"},
	{"FROM us-ers", 5,
	 "bad collection name 'us-ers' (want [A-Za-z_][A-Za-z0-9_]*)"},
	{"FROM aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	 5, "collection name longer than 64 bytes"},
	{"FROM users WHERE age >", 22, "expected a value after '>'"},
	{"FROM users WHERE age > ", 23, "expected a value after '>'"},
	{"FROM users WHERE", 16, "expected a condition after WHERE"},
	{"FROM users WHERE a = x", 21, "expected a value after '=', found "
	 "'x' (strings are double-quoted)"},
	{"FROM users WHERE a = 'x'", 21,
	 "unexpected character ''' (strings are double-quoted)"},
	{"FROM users LIMIT -1", 17, "expected a non-negative integer after "
	 "LIMIT, found '-1'"},
	{"FROM users LIMIT 1.5", 17, "expected a non-negative integer after "
	 "LIMIT, found '1.5'"},
	{"FROM users LIMIT 18446744073709551616", 17,
	 "number '18446744073709551616' is too large"},
	{"FROM users LIMIT", 16, "expected a non-negative integer after LIMIT"},
	{"FROM users LIMIT 5 OFFSET", 25,
	 "expected a non-negative integer after OFFSET"},
	{"FROM users AS OF -3", 17, "expected a non-negative integer after "
	 "AS OF, found '-3'"},
	{"FROM users AS 3", 14, "expected OF after AS"},
	{"FROM users WHERE a = \"x", 21, "unterminated string"},
	{"FROM users WHERE a = \"x\\\"", 21, "unterminated string"},
	{"FROM users WHERE a = \"a\\qb\"", 23, "bad escape '\\q' in string"},
	{"FROM users WHERE a = \"\\u12g4\"", 22,
	 "bad \\u escape in string (want 4 hex digits)"},
	{"FROM users WHERE a = \"\\ud800\"", 22,
	 "unpaired surrogate in \\u escape"},
	{"FROM users WHERE a = \"x\\udc00\"", 23,
	 "unpaired surrogate in \\u escape"},
	{"FROM users WHERE a = \"a\tb\"", 23,
	 "control character in string (escape it)"},
	{"FROM users WHERE a = \"\xff\"", 21, "invalid UTF-8 in string"},
	{"FROM users WHERE a = 01", 21, "bad number '01'"},
	{"FROM users WHERE a = 1.", 21, "bad number '1.'"},
	{"FROM users WHERE a = -", 21, "bad number '-'"},
	{"FROM users WHERE a = 1e", 21, "bad number '1e'"},
	{"FROM users WHERE a = 12abc", 21, "bad number '12abc'"},
	{"FROM users WHERE a == 1", 20, "expected a value after '='"},
	{"FROM users WHERE a 1", 19, "expected an operator (= != < <= > >= "
	 "IN EXISTS CONTAINS) after 'a'"},
	{"FROM users WHERE a NOT EXISTS", 19, "expected an operator after "
	 "'a' (NOT goes before the condition)"},
	{"FROM users WHERE a = 1 AND", 26, "expected a condition after AND"},
	{"FROM users WHERE a = 1 OR LIMIT 3", 26,
	 "expected a condition after OR"},
	{"FROM users WHERE NOT", 20, "expected a condition after NOT"},
	{"FROM users WHERE (a = 1", 23, "expected ')' after the condition "
	 "(to close the '(' at column 18)"},
	{"FROM users WHERE (a = 1 b = 2)", 24,
	 "expected AND, OR or ')' after the condition"},
	{"FROM users WHERE a = 1)", 22, "unmatched ')'"},
	{"FROM users WHERE ()", 18, "expected a condition after '('"},
	{"FROM users WHERE a IN 1", 22, "expected '(' after IN"},
	{"FROM users WHERE a IN ()", 23, "expected a value after '('"},
	{"FROM users WHERE a IN (1,)", 25, "expected a value after ','"},
	{"FROM users WHERE a IN (1 2)", 25,
	 "expected ',' or ')' after a value in the IN list"},
	{"FROM users WHERE a CONTAINS", 27, "expected a value after CONTAINS"},
	{"FROM users WHERE a. = 1", 19, "expected a field name after '.'"},
	{"FROM users WHERE a..b = 1", 19, "expected a field name after '.'"},
	{"FROM users WHERE a.0b = 1", 19, "bad field name '0b' in path "
	 "(want a name or an array index)"},
	{"FROM users WHERE a = 1 @", 23, "unexpected character '@'"},
	{"FROM users WHERE a = 1 b = 2", 23, "unknown clause 'b'"},
	{"FROM users WHRE a = 1", 11, "unknown clause 'WHRE'"},
	{"FROM users ORDER age", 17, "expected BY after ORDER"},
	{"FROM users GROUP status COUNT", 17, "expected BY after GROUP"},
	{"FROM users ORDER BY", 19, "expected a field after ORDER BY"},
	{"FROM users ORDER BY a,", 22, "expected a field after ','"},
	{"FROM users ORDER BY a DESC DESC", 27, "unknown clause 'DESC'"},
	{"FROM users GROUP BY status", 26, "GROUP BY needs an aggregate "
	 "(COUNT, SUM, AVG, MIN or MAX) after the field"},
	{"FROM users GROUP BY status LIMIT 1", 27, "GROUP BY needs an "
	 "aggregate (COUNT, SUM, AVG, MIN or MAX) after the field"},
	{"FROM users GROUP BY s COUNT amount", 28, "COUNT takes no field"},
	{"FROM users GROUP BY s COUNT(*)", 27, "COUNT takes no field"},
	{"FROM users GROUP BY s SUM", 25, "expected a field after SUM"},
	{"FROM users GROUP BY s SUM a,", 28, "expected an aggregate after ','"},
	{"FROM users GROUP BY s SUM a COUNT SUM a", 34,
	 "aggregate SUM a given twice"},
	{"FROM users GROUP BY s COUNT COUNT", 28,
	 "aggregate COUNT given twice"},
	{"FROM users WHERE a = 1 WHERE b = 2", 23, "WHERE given twice"},
	{"FROM users LIMIT 1 LIMIT 2", 19, "LIMIT given twice"},
	{"FROM users LIMIT 1 WHERE a = 1", 19, "WHERE must come before LIMIT"},
	{"FROM users ORDER BY a SEARCH \"x\"", 22,
	 "SEARCH must come before ORDER BY"},
	{"FROM users TRACE caused_by AS OF 3", 27,
	 "AS OF must come before TRACE"},
	{"FROM users OFFSET 3", 11, "OFFSET needs a LIMIT before it"},
	{"FROM users LIMIT 1 OFFSET 2 OFFSET 3", 28, "OFFSET given twice"},
	{"FROM users FROM x", 11, "FROM given twice"},
	{"FROM users EXPLAIN", 11, "EXPLAIN must come first"},
	{"FROM users SEARCH", 17, "expected a double-quoted string after "
	 "SEARCH"},
	{"FROM users SEARCH red", 18, "expected a double-quoted string after "
	 "SEARCH"},
	{"FROM users SEARCH \"\"", 18, "SEARCH text is empty"},
	{"FROM users SEARCH \"a\\u0000b\"", 18,
	 "SEARCH text contains a NUL character"},
	{"FROM users TRAVERSE", 19, "expected a relation name after TRAVERSE"},
	{"FROM users TRAVERSE 9lives", 20,
	 "expected a relation name after TRAVERSE"},
	{"FROM users TRACE", 16, "expected caused_by after TRACE"},
	{"FROM users TRACE effects", 17, "expected caused_by after TRACE"},
	{"FROM users; LIMIT 1", 12, "unexpected text after ';'"},
	{"FROM users;;", 11, "unexpected text after ';'"},
	{"FROM users 5", 11, "unexpected '5'"},
	{"FROM users WHERE a = \"x\" \"y\"", 25, "unexpected string"},
	{"FROM users WHERE a = 1 \x01", 23, "unexpected byte 0x01"},
};

static void
test_syntax_errors(void)
{
	for (size_t i = 0; i < sizeof errors / sizeof *errors; i++) {
		struct nql_query *q = (struct nql_query *)1;
		struct nql_error err;
		int rc = nql_parse(errors[i].query, &q, &err);

		if (rc != NEDB_EUSAGE || q != NULL ||
		    err.pos != errors[i].pos ||
		    strcmp(err.msg, errors[i].msg)) {
			fprintf(stderr, "%s:%d: query '%s': got rc %d pos %zu "
				"'%s', want pos %zu '%s'\n", __FILE__, __LINE__,
				errors[i].query, rc, err.pos, err.msg,
				errors[i].pos, errors[i].msg);
			unit_failed++;
		}
		nql_free(rc ? NULL : q);
	}
}

static void
test_error_sets_last_error(void)
{
	struct nql_query *q;
	struct nql_error err;

	CHECK(nql_parse("FROM users WHRE", &q, &err) == NEDB_EUSAGE);
	CHECK_STR(nedb_errmsg(), "unknown clause 'WHRE'");
	/* err may be NULL */
	CHECK(nql_parse("FROM", &q, NULL) == NEDB_EUSAGE && q == NULL);
	CHECK(nql_parse(NULL, &q, &err) == NEDB_EUSAGE && q == NULL);
}

static void
test_nesting_limit(void)
{
	char query[400] = "FROM t WHERE ";
	struct nql_query *q;
	struct nql_error err;
	int i;

	for (i = 0; i < 64; i++)
		strcat(query, "(");
	strcat(query, "a = 1");
	for (i = 0; i < 64; i++)
		strcat(query, ")");
	CHECK(nql_parse(query, &q, &err) == 0);
	nql_free(q);
	strcpy(query, "FROM t WHERE ");
	for (i = 0; i < 65; i++)
		strcat(query, "(");
	strcat(query, "a = 1");
	CHECK(nql_parse(query, &q, &err) == NEDB_EUSAGE);
	CHECK(err.pos == 13 + 64);
	CHECK_STR(err.msg, "expression nested too deeply (more than 64 "
		  "levels)");
}

static void
test_long_chains(void)
{
	/* long AND chains are left-deep; freeing them must not recurse */
	size_t n = 20000, len = 0;
	char *query = malloc(n * 12 + 32);
	struct nql_query *q;
	struct nql_error err;

	len += (size_t)sprintf(query, "FROM t WHERE a = 0");
	for (size_t i = 1; i < n; i++)
		len += (size_t)sprintf(query + len, " AND a = %zu", i % 10);
	CHECK(nql_parse(query, &q, &err) == 0);
	nql_free(q);
	free(query);
}

static void
test_error_format(void)
{
	struct nql_query *q;
	struct nql_error err;
	char buf[512];
	const char *query = "FROM users\nWHERE age >";

	CHECK(nql_parse(query, &q, &err) == NEDB_EUSAGE);
	CHECK(err.pos == 22);
	nql_error_format(buf, sizeof buf, query, &err);
	CHECK_STR(buf, "syntax error at column 23: expected a value after "
		  "'>'\n"
		  "  FROM users WHERE age >\n"
		  "                        ^");

	CHECK(nql_parse("FROM 1users", &q, &err) == NEDB_EUSAGE);
	nql_error_format(buf, sizeof buf, "FROM 1users", &err);
	CHECK_STR(buf, "syntax error at column 6: bad collection name "
		  "'1users' (want [A-Za-z_][A-Za-z0-9_]*)\n"
		  "  FROM 1users\n"
		  "       ^");
	/* a small buffer is cut, and still terminated */
	nql_error_format(buf, 10, "FROM 1users", &err);
	CHECK_STR(buf, "syntax er");
}

static void
test_free_null(void)
{
	nql_free(NULL);
	nql_expr_free(NULL);
}

int
main(void)
{
	RUN(test_from_only);
	RUN(test_collection_names);
	RUN(test_every_clause);
	RUN(test_keywords_case_insensitive);
	RUN(test_as_of);
	RUN(test_comparison_operators);
	RUN(test_or_binds_looser_than_and);
	RUN(test_not_binds_tighter_than_and);
	RUN(test_chains_are_left_associative);
	RUN(test_parentheses);
	RUN(test_in_lists);
	RUN(test_exists_and_contains);
	RUN(test_dotted_paths);
	RUN(test_keywords_as_field_names);
	RUN(test_string_literals_stored_exactly);
	RUN(test_number_literals);
	RUN(test_true_false_null_stored_lowercase);
	RUN(test_search_is_decoded);
	RUN(test_group_by_aggregates);
	RUN(test_order_by_several_keys);
	RUN(test_traverse);
	RUN(test_trace);
	RUN(test_limit_offset);
	RUN(test_explain);
	RUN(test_semicolon_and_whitespace);
	RUN(test_syntax_errors);
	RUN(test_error_sets_last_error);
	RUN(test_nesting_limit);
	RUN(test_long_chains);
	RUN(test_error_format);
	RUN(test_free_null);
	UNIT_DONE();
}
