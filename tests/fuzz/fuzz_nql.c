/*
 * fuzz_nql.c - libFuzzer target for the NQL parser (nql_parse).  Any
 * bytes (up to 4 KiB, cut at the first NUL) are parsed and freed.
 *
 * Invariants checked on a parse that succeeds: the collection is a
 * valid name; each expression node has the operands and values its kind
 * requires (EX_CMP and EX_CONTAINS exactly one, EX_IN at least one);
 * every literal is non-empty JSON text of the right first byte; every
 * path is non-empty with non-empty parts that join to its dotted form;
 * GROUP BY has aggregates and COUNT alone has no field.  Then the query
 * is printed back as NQL, parsed again, and must print the same (the
 * tree survives the round trip).  On an error: the code is
 * NEDB_EUSAGE, the position lies within the text, there is a message,
 * and nql_error_format renders it.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_path(const struct nql_path *p)
{
	size_t len = 0;

	if (p->n == 0 || !p->parts || !p->dotted)
		abort();
	for (size_t i = 0; i < p->n; i++) {
		size_t n = strlen(p->parts[i]);

		if (n == 0 || strncmp(p->dotted + len, p->parts[i], n))
			abort();
		len += n;
		if (i + 1 < p->n && p->dotted[len++] != '.')
			abort();
	}
	if (p->dotted[len])
		abort();
}

static void
check_literal(struct nql_span v)
{
	if (!v.p || v.len == 0 || memchr(v.p, 0, v.len))
		abort();
	if (!strchr("\"-0123456789tfn", v.p[0]))
		abort();
	if (v.p[0] == '"' && (v.len < 2 || v.p[v.len - 1] != '"'))
		abort();
}

static void
check_expr(const struct nql_expr *e)
{
	if (!e)
		abort();
	switch (e->kind) {
	case EX_AND:
	case EX_OR:
		if (!e->a || !e->b || e->nvals)
			abort();
		check_expr(e->a);
		check_expr(e->b);
		return;
	case EX_NOT:
		if (!e->a || e->b || e->nvals)
			abort();
		check_expr(e->a);
		return;
	case EX_CMP:
	case EX_CONTAINS:
		if (e->nvals != 1)
			abort();
		break;
	case EX_IN:
		if (e->nvals < 1)
			abort();
		break;
	case EX_EXISTS:
		if (e->nvals != 0)
			abort();
		break;
	case EX_TRUE:
		abort();		/* the parser never makes one */
	}
	if (e->a || e->b)
		abort();
	check_path(&e->path);
	for (size_t i = 0; i < e->nvals; i++)
		check_literal(e->vals[i]);
}

static void
check_query(const struct nql_query *q)
{
	if (!q->coll || nedb_check_coll(q->coll))
		abort();
	if (q->where)
		check_expr(q->where);
	if (q->search && !q->search[0])
		abort();
	if (q->has_group != (q->naggs > 0))
		abort();
	if (q->has_group)
		check_path(&q->group_by);
	for (size_t i = 0; i < q->naggs; i++) {
		if (q->aggs[i].fn == AGG_COUNT) {
			if (q->aggs[i].path.n || q->aggs[i].path.dotted)
				abort();
		} else
			check_path(&q->aggs[i].path);
	}
	for (size_t i = 0; i < q->norder; i++)
		check_path(&q->order[i].path);
	if (q->traverse && !q->traverse[0])
		abort();
	if (!q->has_limit && (q->limit || q->offset))
		abort();
}

/* Prints e as NQL with only the parentheses the tree needs. */
static void
print_expr(nedb_buf *b, const struct nql_expr *e)
{
	static const char *const cmp[] = {
		" = ", " != ", " < ", " <= ", " > ", " >= "
	};
	bool pa = false, pb = false;

	switch (e->kind) {
	case EX_AND:
		pa = e->a->kind == EX_OR;
		pb = e->b->kind == EX_OR || e->b->kind == EX_AND;
		/* fall through */
	case EX_OR:
		if (e->kind == EX_OR)
			pb = e->b->kind == EX_OR;
		nedb_buf_puts(b, pa ? "(" : "");
		print_expr(b, e->a);
		nedb_buf_puts(b, pa ? ")" : "");
		nedb_buf_puts(b, e->kind == EX_AND ? " AND " : " OR ");
		nedb_buf_puts(b, pb ? "(" : "");
		print_expr(b, e->b);
		nedb_buf_puts(b, pb ? ")" : "");
		return;
	case EX_NOT:
		pa = e->a->kind == EX_OR || e->a->kind == EX_AND;
		nedb_buf_puts(b, pa ? "NOT (" : "NOT ");
		print_expr(b, e->a);
		nedb_buf_puts(b, pa ? ")" : "");
		return;
	default:
		break;
	}
	nedb_buf_puts(b, e->path.dotted);
	switch (e->kind) {
	case EX_CMP:
		nedb_buf_puts(b, cmp[e->cmp]);
		nedb_buf_add(b, e->vals[0].p, e->vals[0].len);
		break;
	case EX_IN:
		nedb_buf_puts(b, " IN (");
		for (size_t i = 0; i < e->nvals; i++) {
			nedb_buf_puts(b, i ? ", " : "");
			nedb_buf_add(b, e->vals[i].p, e->vals[i].len);
		}
		nedb_buf_puts(b, ")");
		break;
	case EX_EXISTS:
		nedb_buf_puts(b, " EXISTS");
		break;
	case EX_CONTAINS:
		nedb_buf_puts(b, " CONTAINS ");
		nedb_buf_add(b, e->vals[0].p, e->vals[0].len);
		break;
	default:
		abort();
	}
}

static void
print_query(nedb_buf *b, const struct nql_query *q)
{
	static const char *const agg[] = {"COUNT", "SUM", "AVG", "MIN", "MAX"};

	if (q->explain)
		nedb_buf_puts(b, "EXPLAIN ");
	nedb_buf_printf(b, "FROM %s", q->coll);
	if (q->has_as_of && q->as_of_time) {
		char t[48];

		nedb_buf_printf(b, " AS OF TIMESTAMP \"%s\"",
				nedb__time_format(t, q->as_of_ms));
	} else if (q->has_as_of)
		nedb_buf_printf(b, " AS OF %llu", (unsigned long long)q->as_of);
	if (q->where) {
		nedb_buf_puts(b, " WHERE ");
		print_expr(b, q->where);
	}
	if (q->search) {
		nedb_buf_puts(b, " SEARCH ");
		nedb_buf_json_str(b, q->search, strlen(q->search));
	}
	if (q->has_group) {
		nedb_buf_printf(b, " GROUP BY %s", q->group_by.dotted);
		for (size_t i = 0; i < q->naggs; i++)
			nedb_buf_printf(b, " %s%s%s", agg[q->aggs[i].fn],
					q->aggs[i].path.dotted ? " " : "",
					q->aggs[i].path.dotted ?
					q->aggs[i].path.dotted : "");
	}
	for (size_t i = 0; i < q->norder; i++)
		nedb_buf_printf(b, "%s%s%s", i ? ", " : " ORDER BY ",
				q->order[i].path.dotted,
				q->order[i].desc ? " DESC" : "");
	if (q->traverse)
		nedb_buf_printf(b, " TRAVERSE %s%s", q->traverse,
				q->traverse_in ? " IN" : "");
	if (q->trace)
		nedb_buf_puts(b, " TRACE caused_by");
	if (q->has_limit)
		nedb_buf_printf(b, " LIMIT %llu OFFSET %llu",
				(unsigned long long)q->limit,
				(unsigned long long)q->offset);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nql_query *q = NULL, *q2 = NULL;
	struct nql_error err;
	nedb_buf a = {0}, b = {0};
	char *text, fmt[512];
	int rc;

	if (size > 4096)
		return 0;
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	rc = nql_parse(text, &q, &err);
	if (rc) {
		if (rc != NEDB_EUSAGE || q || err.pos > strlen(text) ||
		    !err.msg[0] || !memchr(err.msg, 0, sizeof err.msg))
			abort();
		nql_error_format(fmt, sizeof fmt, text, &err);
		if (strncmp(fmt, "syntax error at column ", 23))
			abort();
		goto done;
	}
	check_query(q);
	print_query(&a, q);
	if (nql_parse(a.p, &q2, &err))
		abort();		/* the printed query must parse */
	print_query(&b, q2);
	if (a.len != b.len || memcmp(a.p, b.p, a.len))
		abort();
done:
	nql_free(q);
	nql_free(q2);
	nedb_buf_free(&a);
	nedb_buf_free(&b);
	free(text);
	return 0;
}
