/*
 * fuzz_sql.c - libFuzzer target for nedb-sql's parser (sql_parse.c) and
 * its evaluator of values (sql_value.c).  Any bytes (up to 4 KiB, cut at
 * the first NUL) are split into statements as nedb_sql splits them,
 * each parsed and freed.
 *
 * Checked: every statement end lies within the text and after its start;
 * a failed parse is NEDB_EUSAGE with a message and a position within the
 * statement; a parse that succeeds has a kind, and a SELECT its result
 * columns.  The result expressions and the WHERE of a SELECT without
 * FROM are evaluated (no row: columns are NULL) when they hold nothing a
 * query fills in first (aggregates, GROUP BY keys): arithmetic, CAST,
 * LIKE, GLOB, functions and comparisons on any literals must not crash,
 * overflow or read out of bounds, and a TEXT value is always within its
 * arena or literal.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "sql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
evaluable(const struct sql_expr *e)
{
	if (!e)
		return true;
	if (e->op == SX_AGG || e->op == SX_KEY || e->op == SX_OUT)
		return false;
	for (size_t i = 0; i < e->nargs; i++)
		if (!evaluable(e->args[i]))
			return false;
	return evaluable(e->a) && evaluable(e->b) && evaluable(e->c);
}

static void
eval(const struct sql_expr *e, struct sql_arena *ar)
{
	struct sql_ctx c = {.arena = ar};
	struct sqlv v;
	nedb_buf b = {0};

	if (!e || !evaluable(e))
		return;
	nedb__sql_eval(e, &c, &v);
	if (v.t == SQ_TEXT && v.n && !v.s)
		abort();
	nedb__sql_text(&b, &v);
	if (v.t != SQ_NULL)
		nedb__sql_to_json(&b, &v);
	nedb_buf_free(&b);
	nedb__sql_truth(e, &c);
	nedb__sql_arena_reset(ar);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sql_arena ar = {0};
	size_t len, start = 0;
	char *text;

	if (size > 4096)
		return 0;
	if (!(text = malloc(size + 1)))
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	len = strlen(text);
	while (start < len) {
		size_t end = nedb__sql_stmt_end(text, len, start);
		struct sql_stmt *st = NULL;
		struct nql_error err;
		int rc;

		if (end < start || end > len)
			abort();
		rc = nedb__sql_parse(text, start, end, &st, &err);
		if (rc) {
			if (rc != NEDB_EUSAGE || st || err.pos < start ||
			    err.pos > end || !err.msg[0])
				abort();
		} else {
			if (!st || st->kind > SQL_ROLLBACK)
				abort();
			if (st->kind == SQL_SELECT) {
				struct sql_select *s = st->sel;

				if (!s || !s->ncols)
					abort();
				if (!s->has_from) {
					for (size_t i = 0; i < s->ncols; i++)
						eval(s->cols[i].e, &ar);
					eval(s->where, &ar);
				}
			}
			nedb__sql_stmt_free(st);
		}
		start = end + 1;
	}
	nedb__sql_arena_free(&ar);
	free(text);
	return 0;
}
