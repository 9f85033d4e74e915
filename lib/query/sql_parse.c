/*
 * sql_parse.c - the lexer and recursive-descent parser of nedb-sql's SQL
 * (nedb-sql(1) has the grammar): one statement's text in, a struct
 * sql_stmt out (sql.h).  A SELECT's FROM and AS OF go into its struct
 * nql_query, which the NQL planner runs.
 *
 * Invariants kept:
 *
 *   1. The statement is lexed whole first (tokens in an array), so that
 *      the grammar may look as far ahead as it needs ("NOT IN", "AS OF",
 *      an alias without AS).
 *   2. Everything allocated hangs off the statement as soon as it is
 *      made: one nedb__sql_stmt_free on any error path frees it all.
 *   3. The first error wins; its position is the byte offset, in the
 *      whole text given, of the token that made the statement invalid
 *      (the end of the statement when it ended too soon).
 *   4. What SQL has and nedb does not (joins, compound SELECTs, window
 *      functions, blobs, ...) is refused here by name, never parsed into
 *      something that would answer differently from sqlite3.
 *   5. Expressions nest at most MAX_DEPTH deep, so that the recursive
 *      descent, and the recursive evaluation and freeing, stay bounded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "sql.h"

#define MAX_DEPTH 200

enum tk { T_EOF, T_ID, T_STR, T_INT, T_FLOAT, T_BLOB, T_VAR, T_OP, T_BAD };

struct token {
	enum tk k;
	size_t pos, len;
	bool quoted;		/* T_ID: "x", `x` or [x] */
	char op[4];		/* T_OP: its text */
};

struct parser {
	const char *s;
	size_t end;
	struct token *t;
	size_t nt, i;
	int depth;
	int rc;
	struct nql_error *err;
	struct sql_stmt *stmt;
};

static int
fail(struct parser *p, size_t pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
fail(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list ap;

	if (p->rc)
		return -1;
	p->rc = NEDB_EUSAGE;
	p->err->pos = pos;
	va_start(ap, fmt);
	vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- lexer ---------------------------------------------------------------- */

static bool
alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       c >= 0x80;
}

static bool
digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

/* Past a comment at i (or i when there is none there).  A NUL ends the
 * text as end does (nedb_sql does not measure its text first). */
static size_t
skip_comment(const char *s, size_t i, size_t end)
{
	if (i + 1 < end && s[i] == '-' && s[i + 1] == '-') {
		while (i < end && s[i] && s[i] != '\n')
			i++;
	} else if (i + 1 < end && s[i] == '/' && s[i + 1] == '*') {
		i += 2;
		while (i < end && s[i] && !(s[i] == '*' && i + 1 < end &&
					   s[i + 1] == '/'))
			i++;
		if (i < end && s[i])
			i += 2;
	}
	return i;
}

static size_t
skip_blank(const char *s, size_t i, size_t end)
{
	for (;;) {
		size_t j;

		while (i < end && space(s[i]))
			i++;
		j = skip_comment(s, i, end);
		if (j == i)
			return i;
		i = j;
	}
}

/* Past a quoted run starting at i with quote q (closing: q or ']'). */
static size_t
skip_quoted(const char *s, size_t i, size_t end, char close, bool *open)
{
	*open = false;
	for (i++; i < end && s[i]; i++)
		if (s[i] == close) {
			if (close != ']' && i + 1 < end && s[i + 1] == close) {
				i++;
				continue;
			}
			return i + 1;
		}
	*open = true;
	return i;
}

size_t
nedb__sql_stmt_end(const char *text, size_t len, size_t start)
{
	size_t i = start;
	bool open;

	while (i < len && text[i]) {
		size_t j = skip_comment(text, i, len);

		if (j != i) {
			i = j;
			continue;
		}
		switch (text[i]) {
		case ';':
			return i;
		case '\'':
			i = skip_quoted(text, i, len, '\'', &open);
			break;
		case '"':
			i = skip_quoted(text, i, len, '"', &open);
			break;
		case '`':
			i = skip_quoted(text, i, len, '`', &open);
			break;
		case '[':
			i = skip_quoted(text, i, len, ']', &open);
			break;
		default:
			i++;
		}
	}
	return i;
}

static const char *const ops[] = {
	"||", "<<", ">>", "<=", ">=", "==", "!=", "<>", "->>", "->",
	"(", ")", ",", ".", "*", "/", "%", "+", "-", "<", ">", "=", "&", "|",
	"~", NULL
};

static int
lex(struct parser *p, size_t start)
{
	const char *s = p->s;
	size_t i = start, cap = 0;

	for (;;) {
		struct token t = {0};
		bool open;

		i = skip_blank(s, i, p->end);
		if (p->nt == cap) {
			cap = cap ? cap * 2 : 64;
			p->t = nedb__realloc(p->t, cap * sizeof *p->t);
		}
		t.pos = i;
		if (i >= p->end) {
			t.k = T_EOF;
			p->t[p->nt++] = t;
			return 0;
		}
		if ((s[i] == 'x' || s[i] == 'X') && i + 1 < p->end &&
		    s[i + 1] == '\'') {
			t.k = T_BLOB;
			i = skip_quoted(s, i + 1, p->end, '\'', &open);
		} else if (alpha((unsigned char)s[i])) {
			t.k = T_ID;
			while (i < p->end && (alpha((unsigned char)s[i]) ||
					      digit(s[i]) || s[i] == '$'))
				i++;
		} else if (digit(s[i]) || (s[i] == '.' && i + 1 < p->end &&
					   digit(s[i + 1]))) {
			t.k = T_INT;
			if (s[i] == '0' && i + 1 < p->end &&
			    (s[i + 1] == 'x' || s[i + 1] == 'X')) {
				i += 2;
				while (i < p->end && (digit(s[i]) ||
				       ((s[i] | 32) >= 'a' && (s[i] | 32) <= 'f')))
					i++;
			} else {
				while (i < p->end && digit(s[i]))
					i++;
				if (i < p->end && s[i] == '.') {
					t.k = T_FLOAT;
					i++;
					while (i < p->end && digit(s[i]))
						i++;
				}
				if (i < p->end && (s[i] == 'e' || s[i] == 'E')) {
					size_t j = i + 1;

					if (j < p->end && (s[j] == '+' ||
							   s[j] == '-'))
						j++;
					if (j < p->end && digit(s[j])) {
						t.k = T_FLOAT;
						i = j;
						while (i < p->end && digit(s[i]))
							i++;
					}
				}
			}
			if (i < p->end && (alpha((unsigned char)s[i]) ||
					   digit(s[i]))) {
				while (i < p->end && (alpha((unsigned char)s[i])
						      || digit(s[i])))
					i++;
				t.len = i - t.pos;
				p->t[p->nt++] = t;
				return fail(p, t.pos, "bad number '%.*s'",
					    (int)(t.len > 40 ? 40 : t.len),
					    s + t.pos);
			}
		} else if (s[i] == '\'') {
			t.k = T_STR;
			i = skip_quoted(s, i, p->end, '\'', &open);
			if (open) {
				t.len = i - t.pos;
				p->t[p->nt++] = t;
				return fail(p, t.pos, "unterminated string");
			}
		} else if (s[i] == '"' || s[i] == '`' || s[i] == '[') {
			t.k = T_ID;
			t.quoted = true;
			i = skip_quoted(s, i, p->end, s[i] == '[' ? ']' : s[i],
					&open);
			if (open) {
				t.len = i - t.pos;
				p->t[p->nt++] = t;
				return fail(p, t.pos, "unterminated quoted name");
			}
		} else if (s[i] == '?' || s[i] == ':' || s[i] == '@' ||
			   s[i] == '$') {
			t.k = T_VAR;
			i++;
			while (i < p->end && (alpha((unsigned char)s[i]) ||
					      digit(s[i])))
				i++;
		} else {
			t.k = T_BAD;
			for (int k = 0; ops[k]; k++) {
				size_t n = strlen(ops[k]);

				if (i + n <= p->end && !memcmp(s + i, ops[k], n)) {
					t.k = T_OP;
					memcpy(t.op, ops[k], n);
					i += n;
					break;
				}
			}
			if (t.k == T_BAD) {
				t.len = 1;
				p->t[p->nt++] = t;
				if ((unsigned char)s[i] > 0x20 &&
				    (unsigned char)s[i] < 0x7f)
					return fail(p, i, "unexpected character "
						    "'%c'", s[i]);
				return fail(p, i, "unexpected byte 0x%02x",
					    (unsigned char)s[i]);
			}
		}
		t.len = i - t.pos;
		p->t[p->nt++] = t;
	}
}

/* ---- token helpers -------------------------------------------------------- */

static struct token *
tok(struct parser *p)
{
	return &p->t[p->i];
}

static struct token *
peek(struct parser *p, size_t k)
{
	size_t j = p->i + k;

	return &p->t[j < p->nt ? j : p->nt - 1];
}

static void
next(struct parser *p)
{
	if (p->i + 1 < p->nt)
		p->i++;
}

static bool
kw_at(struct parser *p, const struct token *t, const char *kw)
{
	size_t n = strlen(kw);

	return t->k == T_ID && !t->quoted && t->len == n &&
	       !strncasecmp(p->s + t->pos, kw, n);
}

static bool
is_kw(struct parser *p, const char *kw)
{
	return kw_at(p, tok(p), kw);
}

static bool
accept_kw(struct parser *p, const char *kw)
{
	if (!is_kw(p, kw))
		return false;
	next(p);
	return true;
}

static bool
is_op(struct parser *p, const char *op)
{
	return tok(p)->k == T_OP && !strcmp(tok(p)->op, op);
}

static bool
accept_op(struct parser *p, const char *op)
{
	if (!is_op(p, op))
		return false;
	next(p);
	return true;
}

/* "'text'" of the current token for a message (at most 40 bytes). */
static const char *
tdesc(struct parser *p, char *buf, size_t cap)
{
	const struct token *t = tok(p);
	size_t n = t->len > 40 ? 40 : t->len;

	if (t->k == T_EOF)
		return "the end of the statement";
	snprintf(buf, cap, "'%.*s%s'", (int)n, p->s + t->pos,
		 t->len > 40 ? "..." : "");
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return buf;
}

static int
expected(struct parser *p, const char *what)
{
	char b[64];

	return fail(p, tok(p)->pos, "expected %s, found %s", what,
		    tdesc(p, b, sizeof b));
}

static bool
expect_kw(struct parser *p, const char *kw)
{
	char what[40];

	if (accept_kw(p, kw))
		return true;
	snprintf(what, sizeof what, "%s", kw);
	expected(p, what);
	return false;
}

static bool
expect_op(struct parser *p, const char *op)
{
	char what[16];

	if (accept_op(p, op))
		return true;
	snprintf(what, sizeof what, "'%s'", op);
	expected(p, what);
	return false;
}

/* Words that end an expression or a FROM item: never an alias. */
static const char *const reserved[] = {
	"ALL", "AND", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "COLLATE",
	"CROSS", "DESC", "DISTINCT", "ELSE", "END", "ESCAPE", "EXCEPT",
	"EXISTS", "FOR", "FROM", "FULL", "GLOB", "GROUP", "HAVING", "IN",
	"INNER", "INTERSECT", "IS", "ISNULL", "JOIN", "LEFT", "LIKE", "LIMIT",
	"MATCH", "NATURAL", "NOT", "NOTNULL", "NULL", "OFFSET", "ON", "OR",
	"ORDER", "OUTER", "REGEXP", "RIGHT", "SELECT", "THEN", "UNION",
	"USING", "VALUES", "WHEN", "WHERE", "WINDOW", "RETURNING", NULL
};

static bool
reserved_at(struct parser *p, const struct token *t)
{
	for (int k = 0; reserved[k]; k++)
		if (kw_at(p, t, reserved[k]))
			return true;
	return false;
}

/* The name a T_ID token spells (quotes removed, doubled ones undone). */
static char *
ident(struct parser *p, const struct token *t)
{
	const char *s = p->s + t->pos;
	char *out, close;
	size_t n = 0;

	if (!t->quoted)
		return nedb__memdup(s, t->len);
	close = s[0] == '[' ? ']' : s[0];
	out = nedb__malloc(t->len);
	for (size_t i = 1; i + 1 < t->len; i++) {
		out[n++] = s[i];
		if (s[i] == close && close != ']')
			i++;
	}
	out[n] = 0;
	return out;
}

static char *
name(struct parser *p, const char *what)
{
	char *n;

	if (tok(p)->k != T_ID || (!tok(p)->quoted &&
				  reserved_at(p, tok(p)))) {
		expected(p, what);
		return NULL;
	}
	n = ident(p, tok(p));
	next(p);
	return n;
}

/* ---- expressions ---------------------------------------------------------- */

void
nedb__sql_expr_free(struct sql_expr *e)
{
	if (!e)
		return;
	nedb__sql_expr_free(e->a);
	nedb__sql_expr_free(e->b);
	nedb__sql_expr_free(e->c);
	for (size_t i = 0; i < e->nargs; i++)
		nedb__sql_expr_free(e->args[i]);
	free(e->args);
	if (e->op == SX_LIT && e->v.t == SQ_TEXT)
		free((char *)e->v.s);
	for (size_t i = 0; i < e->nnames; i++)
		free(e->names[i]);
	free(e->names);
	nql_path_free(&e->path);
	nedb__sql_select_free(e->sub);
	for (size_t i = 0; e->set && i < e->nset; i++)
		nedb__sql_vfree(&e->set[i]);
	free(e->set);
	free(e);
}

static struct sql_expr *
node(enum sql_op op, size_t pos)
{
	struct sql_expr *e = nedb__calloc(1, sizeof *e);

	e->op = op;
	e->pos = pos;
	e->end = pos;
	return e;
}

static struct sql_expr *
binary(enum sql_op op, struct sql_expr *a, struct sql_expr *b)
{
	struct sql_expr *e = node(op, a->pos);

	e->a = a;
	e->b = b;
	e->end = b->end;
	return e;
}

static void
add_arg(struct sql_expr *e, struct sql_expr *a)
{
	e->args = nedb__realloc(e->args, (e->nargs + 1) * sizeof *e->args);
	e->args[e->nargs++] = a;
}

static struct sql_expr *parse_expr(struct parser *p);
static struct sql_select *parse_select(struct parser *p);
static struct sql_expr *parse_unary(struct parser *p);

/* The end of the last token consumed. */
static size_t
prev_end(struct parser *p)
{
	const struct token *t = &p->t[p->i ? p->i - 1 : 0];

	return t->pos + t->len;
}

static struct sql_expr *
literal_text(struct parser *p)
{
	const struct token *t = tok(p);
	const char *s = p->s + t->pos + 1;
	struct sql_expr *e = node(SX_LIT, t->pos);
	char *out = nedb__malloc(t->len);
	size_t n = 0;

	for (size_t i = 0; i + 2 < t->len; i++) {
		out[n++] = s[i];
		if (s[i] == '\'')
			i++;
	}
	out[n] = 0;
	e->v.t = SQ_TEXT;
	e->v.s = out;
	e->v.n = n;
	next(p);
	e->end = prev_end(p);
	return e;
}

/* An integer or real literal; neg: it follows a unary minus. */
static struct sql_expr *
literal_number(struct parser *p, bool neg)
{
	const struct token *t = tok(p);
	const char *s = p->s + t->pos;
	struct sql_expr *e = node(SX_LIT, t->pos);
	char buf[400];
	size_t n = t->len;

	if (t->k == T_INT && n > 2 && s[0] == '0' && (s[1] | 32) == 'x') {
		uint64_t u = 0;

		if (n - 2 > 16) {
			fail(p, t->pos, "hex literal too big: %.*s",
			     (int)(n > 40 ? 40 : n), s);
			free(e);
			return NULL;
		}
		for (size_t i = 2; i < n; i++)
			u = u << 4 | (uint64_t)(digit(s[i]) ? s[i] - '0' :
						(s[i] | 32) - 'a' + 10);
		e->v.t = SQ_INT;
		e->v.i = (int64_t)u;
		if (neg) {
			e->v.i = e->v.i == INT64_MIN ? INT64_MIN :
				 -e->v.i;	/* 0 - x, wrapping as sqlite3 */
		}
		next(p);
		e->end = prev_end(p);
		return e;
	}
	if (n >= sizeof buf - 2)
		n = sizeof buf - 2;
	buf[0] = '-';
	memcpy(buf + 1, s, n);
	buf[n + 1] = 0;
	if (t->k == T_INT) {
		bool ok = true;
		uint64_t u = 0;

		for (size_t i = 0; i < n; i++) {
			unsigned d = (unsigned)(s[i] - '0');

			if (u > (UINT64_MAX - d) / 10) {
				ok = false;
				break;
			}
			u = u * 10 + d;
		}
		if (ok && (u <= (uint64_t)INT64_MAX ||
			   (neg && u == (uint64_t)INT64_MAX + 1))) {
			e->v.t = SQ_INT;
			e->v.i = neg ? (u == (uint64_t)INT64_MAX + 1 ?
					INT64_MIN : -(int64_t)u) : (int64_t)u;
			next(p);
			e->end = prev_end(p);
			return e;
		}
	}
	{
		struct sqlv v = {.t = SQ_TEXT, .s = neg ? buf : buf + 1,
				 .n = neg ? n + 1 : n};

		e->v.t = SQ_REAL;
		e->v.r = nedb__sql_double(&v);
	}
	next(p);
	e->end = prev_end(p);
	return e;
}

/* CAST(expr AS type): the type's words up to ')'. */
static struct sql_expr *
parse_cast(struct parser *p)
{
	struct sql_expr *e = node(SX_CAST, tok(p)->pos);
	size_t from;
	char *type;

	next(p);
	if (!expect_op(p, "("))
		goto bad;
	if (!(e->a = parse_expr(p)))
		goto bad;
	if (!expect_kw(p, "AS"))
		goto bad;
	from = tok(p)->pos;
	if (tok(p)->k != T_ID) {
		expected(p, "a type name");
		goto bad;
	}
	while (tok(p)->k == T_ID)
		next(p);
	if (accept_op(p, "(")) {
		while (!is_op(p, ")") && tok(p)->k != T_EOF)
			next(p);
		if (!expect_op(p, ")"))
			goto bad;
	}
	type = nedb__memdup(p->s + from, prev_end(p) - from);
	e->aff = nedb__sql_affinity(type);
	if (e->aff == AFF_NONE)
		fail(p, from, "CAST AS %s is not supported (nedb-sql has no "
		     "BLOB values)", type);
	free(type);
	if (p->rc || !expect_op(p, ")"))
		goto bad;
	e->end = prev_end(p);
	return e;
bad:
	nedb__sql_expr_free(e);
	return NULL;
}

static struct sql_expr *
parse_case(struct parser *p)
{
	struct sql_expr *e = node(SX_CASE, tok(p)->pos), *x;

	next(p);
	if (!is_kw(p, "WHEN") && !(e->a = parse_expr(p)))
		goto bad;
	if (!is_kw(p, "WHEN")) {
		expected(p, "WHEN");
		goto bad;
	}
	while (accept_kw(p, "WHEN")) {
		if (!(x = parse_expr(p)))
			goto bad;
		add_arg(e, x);
		if (!expect_kw(p, "THEN") || !(x = parse_expr(p)))
			goto bad;
		add_arg(e, x);
	}
	if (accept_kw(p, "ELSE") && !(e->c = parse_expr(p)))
		goto bad;
	if (!expect_kw(p, "END"))
		goto bad;
	e->end = prev_end(p);
	return e;
bad:
	nedb__sql_expr_free(e);
	return NULL;
}

static const struct {
	const char *name;
	enum sql_fn fn;
	int min, max;		/* arguments; aggregate when max < 0 */
} funcs[] = {
	{"abs", FN_ABS, 1, 1}, {"coalesce", FN_COALESCE, 2, 1000},
	{"ifnull", FN_IFNULL, 2, 2}, {"nullif", FN_NULLIF, 2, 2},
	{"length", FN_LENGTH, 1, 1}, {"lower", FN_LOWER, 1, 1},
	{"upper", FN_UPPER, 1, 1}, {"typeof", FN_TYPEOF, 1, 1},
	{"count", FN_COUNT, 0, -1}, {"sum", FN_SUM, 1, -1},
	{"total", FN_TOTAL, 1, -1}, {"avg", FN_AVG, 1, -1},
	{"min", FN_MIN, 1, -1}, {"max", FN_MAX, 1, -1},
};

/* name ( [DISTINCT] args | * ) */
static struct sql_expr *
parse_call(struct parser *p)
{
	const struct token *t = tok(p);
	struct sql_expr *e = node(SX_FUNC, t->pos), *x;
	char *fname = ident(p, t);
	size_t k, n = sizeof funcs / sizeof *funcs;

	for (k = 0; k < n; k++)
		if (!strcasecmp(fname, funcs[k].name))
			break;
	if (k == n) {
		fail(p, t->pos, "function %s() is not supported", fname);
		goto bad;
	}
	e->fn = funcs[k].fn;
	next(p);
	next(p);		/* '(' */
	if (accept_kw(p, "DISTINCT"))
		e->distinct = true;
	else
		accept_kw(p, "ALL");
	if (is_op(p, "*") && e->fn == FN_COUNT && !e->distinct) {
		next(p);
		e->star = true;
	} else if (!is_op(p, ")"))
		do {
			if (!(x = parse_expr(p)))
				goto bad;
			add_arg(e, x);
		} while (accept_op(p, ","));
	if (!expect_op(p, ")"))
		goto bad;
	if (is_kw(p, "FILTER") || is_kw(p, "OVER")) {
		fail(p, tok(p)->pos, "%s is not supported",
		     is_kw(p, "OVER") ? "window functions (OVER)" :
		     "FILTER on aggregates");
		goto bad;
	}
	if ((e->fn == FN_MIN || e->fn == FN_MAX) && e->nargs > 1) {
		e->fn = e->fn == FN_MIN ? FN_SMIN : FN_SMAX;	/* min(a, b) */
	} else if (funcs[k].max < 0) {
		if (e->fn == FN_COUNT ? (e->nargs > 1 || (!e->nargs &&
							 !e->star)) :
		    e->nargs != 1) {
			fail(p, t->pos, "wrong number of arguments to function "
			     "%s()", fname);
			goto bad;
		}
		e->op = SX_AGG;
	} else if ((int)e->nargs < funcs[k].min ||
		   (int)e->nargs > funcs[k].max) {
		fail(p, t->pos, "wrong number of arguments to function %s()",
		     fname);
		goto bad;
	}
	if (e->distinct && e->op != SX_AGG) {
		fail(p, t->pos, "DISTINCT aggregates must have exactly one "
		     "argument");
		goto bad;
	}
	free(fname);
	e->end = prev_end(p);
	return e;
bad:
	free(fname);
	nedb__sql_expr_free(e);
	return NULL;
}

/* ( SELECT ... ) after '(' */
static struct sql_expr *
parse_subquery(struct parser *p, enum sql_op op, size_t pos)
{
	struct sql_expr *e = node(op, pos);

	if (!(e->sub = parse_select(p)) || !expect_op(p, ")")) {
		nedb__sql_expr_free(e);
		return NULL;
	}
	e->end = prev_end(p);
	return e;
}

static struct sql_expr *
parse_primary(struct parser *p)
{
	const struct token *t = tok(p);
	struct sql_expr *e;
	char b[64];

	switch (t->k) {
	case T_STR:
		return literal_text(p);
	case T_INT:
	case T_FLOAT:
		return literal_number(p, false);
	case T_BLOB:
		fail(p, t->pos, "BLOB literals are not supported");
		return NULL;
	case T_VAR:
		fail(p, t->pos, "parameters ('%.*s') are not supported",
		     (int)(t->len > 20 ? 20 : t->len), p->s + t->pos);
		return NULL;
	case T_OP:
		if (accept_op(p, "(")) {
			size_t pos = t->pos;

			if (is_kw(p, "SELECT") || is_kw(p, "WITH") ||
			    is_kw(p, "VALUES"))
				return parse_subquery(p, SX_SUBQ, pos);
			if (!(e = parse_expr(p)))
				return NULL;
			if (accept_op(p, ",")) {
				fail(p, prev_end(p) - 1, "row values (a, b, "
				     "...) are not supported");
				nedb__sql_expr_free(e);
				return NULL;
			}
			if (!expect_op(p, ")")) {
				nedb__sql_expr_free(e);
				return NULL;
			}
			/* the parentheses are part of its text */
			e->pos = pos;
			e->end = prev_end(p);
			return e;
		}
		break;
	case T_ID:
		if (t->quoted)
			goto column;
		if (is_kw(p, "NULL")) {
			e = node(SX_LIT, t->pos);
			next(p);
			e->end = prev_end(p);
			return e;
		}
		if (is_kw(p, "CAST") && kw_at(p, peek(p, 1), "") == false &&
		    peek(p, 1)->k == T_OP && !strcmp(peek(p, 1)->op, "("))
			return parse_cast(p);
		if (is_kw(p, "CASE"))
			return parse_case(p);
		if (is_kw(p, "EXISTS") && peek(p, 1)->k == T_OP &&
		    !strcmp(peek(p, 1)->op, "(")) {
			size_t pos = t->pos;

			next(p);
			next(p);
			return parse_subquery(p, SX_EXISTS, pos);
		}
		if (is_kw(p, "CURRENT_TIME") || is_kw(p, "CURRENT_DATE") ||
		    is_kw(p, "CURRENT_TIMESTAMP") || is_kw(p, "RAISE")) {
			fail(p, t->pos, "%.*s is not supported", (int)t->len,
			     p->s + t->pos);
			return NULL;
		}
		if (peek(p, 1)->k == T_OP && !strcmp(peek(p, 1)->op, "("))
			return parse_call(p);
		if ((is_kw(p, "TRUE") || is_kw(p, "FALSE")) &&
		    !(peek(p, 1)->k == T_OP && !strcmp(peek(p, 1)->op, "."))) {
			/* a column of that name wins: resolved later */
			e = node(SX_COL, t->pos);
			e->names = nedb__malloc(sizeof *e->names);
			e->names[0] = ident(p, t);
			e->nnames = 1;
			e->v.t = SQ_INT;
			e->v.i = is_kw(p, "TRUE");
			e->slot = -2;	/* TRUE/FALSE if no such column */
			next(p);
			e->end = prev_end(p);
			return e;
		}
		if (reserved_at(p, t))
			break;
	column:
		e = node(SX_COL, t->pos);
		e->quoted = t->quoted;
		for (;;) {
			e->names = nedb__realloc(e->names, (e->nnames + 1) *
						 sizeof *e->names);
			e->names[e->nnames++] = ident(p, tok(p));
			next(p);
			if (!is_op(p, ".") || peek(p, 1)->k == T_EOF)
				break;
			if (peek(p, 1)->k == T_OP &&
			    !strcmp(peek(p, 1)->op, "*"))
				break;	/* t.* : the caller's */
			next(p);
			if (tok(p)->k != T_ID && tok(p)->k != T_INT) {
				expected(p, "a column name after '.'");
				nedb__sql_expr_free(e);
				return NULL;
			}
			if (tok(p)->k == T_INT) {
				/* an array index: a.0 */
				e->names = nedb__realloc(e->names,
					(e->nnames + 1) * sizeof *e->names);
				e->names[e->nnames++] = nedb__memdup(p->s +
					tok(p)->pos, tok(p)->len);
				next(p);
				if (!is_op(p, "."))
					break;
				next(p);
				if (tok(p)->k != T_ID) {
					expected(p, "a column name after '.'");
					nedb__sql_expr_free(e);
					return NULL;
				}
			}
		}
		e->end = prev_end(p);
		return e;
	default:
		break;
	}
	if (t->k == T_EOF)
		fail(p, t->pos, "the statement ended where an expression "
		     "was expected");
	else
		fail(p, t->pos, "expected an expression, found %s",
		     tdesc(p, b, sizeof b));
	return NULL;
}

static struct sql_expr *
parse_postfix(struct parser *p)
{
	struct sql_expr *e = parse_primary(p);

	if (e && is_kw(p, "COLLATE")) {
		next(p);
		if (!(is_kw(p, "BINARY") || (tok(p)->k == T_ID &&
		    tok(p)->quoted && tok(p)->len == 8 &&
		    !strncasecmp(p->s + tok(p)->pos + 1, "BINARY", 6)))) {
			fail(p, tok(p)->pos, "COLLATE other than BINARY is not "
			     "supported");
			nedb__sql_expr_free(e);
			return NULL;
		}
		next(p);
	}
	return e;
}

static struct sql_expr *
parse_unary(struct parser *p)
{
	const struct token *t = tok(p);
	struct sql_expr *e;
	enum sql_op op;

	if (t->k != T_OP || (strcmp(t->op, "-") && strcmp(t->op, "+") &&
			     strcmp(t->op, "~")))
		return parse_postfix(p);
	if (++p->depth > MAX_DEPTH) {
		fail(p, t->pos, "expression nested too deeply");
		return NULL;
	}
	op = t->op[0] == '-' ? SX_NEG : t->op[0] == '+' ? SX_POS : SX_BITNOT;
	if (op == SX_NEG && (peek(p, 1)->k == T_INT ||
			     peek(p, 1)->k == T_FLOAT)) {
		/* -9223372036854775808 is an integer */
		size_t pos = t->pos;

		next(p);
		e = literal_number(p, true);
		if (e) {
			e->pos = pos;	/* its text has the sign */
			p->depth--;
		}
		return e;
	}
	next(p);
	if (!(e = parse_unary(p)))
		return NULL;
	p->depth--;
	{
		struct sql_expr *n = node(op, t->pos);

		n->a = e;
		n->end = e->end;
		return n;
	}
}

/* Binary levels, tightest first. */
static struct sql_expr *
parse_level(struct parser *p, int level)
{
	static const char *const lv[][5] = {
		{"||", "->", "->>", NULL},
		{"*", "/", "%", NULL},
		{"+", "-", NULL},
		{"&", "|", "<<", ">>", NULL},
		{"<", "<=", ">", ">=", NULL},
	};
	struct sql_expr *l, *r;

	if (level < 0)
		return parse_unary(p);
	if (!(l = parse_level(p, level - 1)))
		return NULL;
	for (;;) {
		const char *op = NULL;
		enum sql_op o;

		if (tok(p)->k == T_OP)
			for (int k = 0; lv[level][k]; k++)
				if (!strcmp(tok(p)->op, lv[level][k]))
					op = lv[level][k];
		if (!op)
			return l;
		if (!strcmp(op, "->") || !strcmp(op, "->>")) {
			fail(p, tok(p)->pos, "the JSON operators -> and ->> "
			     "are not supported: use a dotted path (a.b)");
			nedb__sql_expr_free(l);
			return NULL;
		}
		o = !strcmp(op, "||") ? SX_CONCAT : !strcmp(op, "*") ? SX_MUL :
		    !strcmp(op, "/") ? SX_DIV : !strcmp(op, "%") ? SX_MOD :
		    !strcmp(op, "+") ? SX_ADD : !strcmp(op, "-") ? SX_SUB :
		    !strcmp(op, "&") ? SX_BITAND : !strcmp(op, "|") ? SX_BITOR :
		    !strcmp(op, "<<") ? SX_SHL : !strcmp(op, ">>") ? SX_SHR :
		    !strcmp(op, "<") ? SX_LT : !strcmp(op, "<=") ? SX_LE :
		    !strcmp(op, ">") ? SX_GT : SX_GE;
		next(p);
		if (!(r = parse_level(p, level - 1))) {
			nedb__sql_expr_free(l);
			return NULL;
		}
		l = binary(o, l, r);
	}
}

#define REL_LEVEL 4

/* The IN list or subquery after IN. */
static struct sql_expr *
parse_in(struct parser *p, struct sql_expr *l, bool neg)
{
	struct sql_expr *e = node(SX_IN, l->pos), *x;

	e->a = l;
	e->neg = neg;
	if (!accept_op(p, "(")) {
		if (tok(p)->k == T_ID)
			fail(p, tok(p)->pos, "IN a table is not supported: "
			     "write IN (SELECT ...)");
		else
			expected(p, "'(' after IN");
		goto bad;
	}
	if (is_kw(p, "SELECT") || is_kw(p, "WITH") || is_kw(p, "VALUES")) {
		e->op = SX_INSEL;
		if (!(e->sub = parse_select(p)))
			goto bad;
	} else if (!is_op(p, ")"))
		do {
			if (!(x = parse_expr(p)))
				goto bad;
			add_arg(e, x);
		} while (accept_op(p, ","));
	if (!expect_op(p, ")"))
		goto bad;
	e->end = prev_end(p);
	return e;
bad:
	nedb__sql_expr_free(e);
	return NULL;
}

static struct sql_expr *
parse_equality(struct parser *p)
{
	struct sql_expr *l, *r;

	if (!(l = parse_level(p, REL_LEVEL)))
		return NULL;
	for (;;) {
		bool neg = false;
		size_t at = tok(p)->pos;

		if (tok(p)->k == T_OP && (!strcmp(tok(p)->op, "=") ||
					  !strcmp(tok(p)->op, "==") ||
					  !strcmp(tok(p)->op, "!=") ||
					  !strcmp(tok(p)->op, "<>"))) {
			enum sql_op o = tok(p)->op[0] == '=' ? SX_EQ : SX_NE;

			next(p);
			if (!(r = parse_level(p, REL_LEVEL)))
				goto bad;
			l = binary(o, l, r);
			continue;
		}
		if (is_kw(p, "IS")) {
			enum sql_op o = SX_IS;

			next(p);
			if (accept_kw(p, "NOT"))
				o = SX_ISNOT;
			if (accept_kw(p, "DISTINCT")) {
				if (!expect_kw(p, "FROM"))
					goto bad;
				o = o == SX_IS ? SX_ISNOT : SX_IS;
			}
			if (!(r = parse_level(p, REL_LEVEL)))
				goto bad;
			l = binary(o, l, r);
			continue;
		}
		if (is_kw(p, "ISNULL") || is_kw(p, "NOTNULL") ||
		    (is_kw(p, "NOT") && kw_at(p, peek(p, 1), "NULL"))) {
			struct sql_expr *e = node(is_kw(p, "ISNULL") ?
						  SX_ISNULL : SX_NOTNULL,
						  l->pos);

			if (is_kw(p, "NOT"))
				next(p);
			next(p);
			e->a = l;
			e->end = prev_end(p);
			l = e;
			continue;
		}
		if (is_kw(p, "NOT") && (kw_at(p, peek(p, 1), "IN") ||
					kw_at(p, peek(p, 1), "BETWEEN") ||
					kw_at(p, peek(p, 1), "LIKE") ||
					kw_at(p, peek(p, 1), "GLOB") ||
					kw_at(p, peek(p, 1), "REGEXP") ||
					kw_at(p, peek(p, 1), "MATCH"))) {
			neg = true;
			next(p);
		}
		if (accept_kw(p, "IN")) {
			if (!(l = parse_in(p, l, neg)))
				return NULL;
			continue;
		}
		if (accept_kw(p, "BETWEEN")) {
			struct sql_expr *e = node(SX_BETWEEN, l->pos);

			e->a = l;
			e->neg = neg;
			if (!(e->b = parse_level(p, REL_LEVEL)) ||
			    !expect_kw(p, "AND") ||
			    !(e->c = parse_level(p, REL_LEVEL))) {
				nedb__sql_expr_free(e);
				return NULL;
			}
			e->end = e->c->end;
			l = e;
			continue;
		}
		if (is_kw(p, "LIKE") || is_kw(p, "GLOB")) {
			struct sql_expr *e = node(is_kw(p, "LIKE") ? SX_LIKE :
						  SX_GLOB, l->pos);

			next(p);
			e->a = l;
			e->neg = neg;
			if (!(e->b = parse_level(p, REL_LEVEL))) {
				nedb__sql_expr_free(e);
				return NULL;
			}
			if (e->op == SX_LIKE && accept_kw(p, "ESCAPE") &&
			    !(e->c = parse_level(p, REL_LEVEL))) {
				nedb__sql_expr_free(e);
				return NULL;
			}
			e->end = prev_end(p);
			l = e;
			continue;
		}
		if (is_kw(p, "REGEXP") || is_kw(p, "MATCH")) {
			fail(p, tok(p)->pos, "%.*s is not supported",
			     (int)tok(p)->len, p->s + tok(p)->pos);
			goto bad;
		}
		if (neg) {
			fail(p, at, "unexpected NOT");
			goto bad;
		}
		return l;
	}
bad:
	nedb__sql_expr_free(l);
	return NULL;
}

static struct sql_expr *
parse_not(struct parser *p)
{
	struct sql_expr *e, *n;
	size_t pos = tok(p)->pos;

	if (!is_kw(p, "NOT"))
		return parse_equality(p);
	if (++p->depth > MAX_DEPTH) {
		fail(p, pos, "expression nested too deeply");
		return NULL;
	}
	next(p);
	if (!(e = parse_not(p)))
		return NULL;
	p->depth--;
	n = node(SX_NOT, pos);
	n->a = e;
	n->end = e->end;
	return n;
}

static struct sql_expr *
parse_and(struct parser *p)
{
	struct sql_expr *l, *r;

	if (!(l = parse_not(p)))
		return NULL;
	while (accept_kw(p, "AND")) {
		if (!(r = parse_not(p))) {
			nedb__sql_expr_free(l);
			return NULL;
		}
		l = binary(SX_AND, l, r);
	}
	return l;
}

static struct sql_expr *
parse_expr(struct parser *p)
{
	struct sql_expr *l, *r;

	if (++p->depth > MAX_DEPTH) {
		fail(p, tok(p)->pos, "expression nested too deeply");
		return NULL;
	}
	if (!(l = parse_and(p)))
		return NULL;
	while (accept_kw(p, "OR")) {
		if (!(r = parse_and(p))) {
			nedb__sql_expr_free(l);
			return NULL;
		}
		l = binary(SX_OR, l, r);
	}
	p->depth--;
	return l;
}

/* ---- SELECT --------------------------------------------------------------- */

void
nedb__sql_select_free(struct sql_select *s)
{
	if (!s)
		return;
	free(s->q.coll);
	nql_expr_free(s->q.where);
	for (size_t i = 0; i < s->q.norder; i++)
		nql_path_free(&s->q.order[i].path);
	free(s->q.order);
	free(s->alias);
	for (size_t i = 0; i < s->ncols; i++) {
		nedb__sql_expr_free(s->cols[i].e);
		free(s->cols[i].alias);
		free(s->cols[i].table);
		free(s->cols[i].name);
	}
	free(s->cols);
	nedb__sql_expr_free(s->where);
	for (size_t i = 0; i < s->ngroup; i++)
		nedb__sql_expr_free(s->group[i]);
	free(s->group);
	nedb__sql_expr_free(s->having);
	for (size_t i = 0; i < s->norder; i++)
		nedb__sql_expr_free(s->order[i].e);
	free(s->order);
	nedb__sql_expr_free(s->limit);
	nedb__sql_expr_free(s->offset);
	free(s->aggs);
	nedb__sql_arena_free(&s->arena);
	free(s);
}

static bool
parse_uint(struct parser *p, uint64_t *out, const char *what)
{
	const struct token *t = tok(p);
	uint64_t v = 0;

	if (t->k != T_INT || (t->len > 1 && (p->s[t->pos + 1] | 32) == 'x')) {
		expected(p, what);
		return false;
	}
	for (size_t i = 0; i < t->len; i++) {
		unsigned d = (unsigned)(p->s[t->pos + i] - '0');

		if (v > (UINT64_MAX - d) / 10) {
			fail(p, t->pos, "number too large");
			return false;
		}
		v = v * 10 + d;
	}
	*out = v;
	next(p);
	return true;
}

/* AS OF n | AS OF TIMESTAMP 'time' | FOR SYSTEM_TIME AS OF ... */
static bool
parse_as_of(struct parser *p, struct sql_select *s)
{
	struct nql_query *q = &s->q;
	bool sys = is_kw(p, "FOR");
	char *text;
	int rc;

	if (s->time_travel) {
		fail(p, tok(p)->pos, "AS OF given twice");
		return false;
	}
	next(p);
	if (sys && !(expect_kw(p, "SYSTEM_TIME") && expect_kw(p, "AS")))
		return false;
	if (!expect_kw(p, "OF"))
		return false;
	s->time_travel = true;
	q->has_as_of = true;
	if (accept_kw(p, "TIMESTAMP") || (sys && tok(p)->k == T_STR)) {
		const struct token *t = tok(p);

		if (t->k != T_STR) {
			expected(p, "a quoted time ('2026-01-02T03:04:05Z')");
			return false;
		}
		text = nedb__memdup(p->s + t->pos + 1, t->len - 2);
		rc = nedb_time_parse(text, strlen(text), &q->as_of_ms);
		free(text);
		if (rc) {
			fail(p, t->pos, "%s", nedb_errmsg());
			return false;
		}
		q->as_of_time = true;
		next(p);
		return true;
	}
	return parse_uint(p, &q->as_of, "a seq (a non-negative integer) "
			  "or TIMESTAMP 'time' after AS OF");
}

static bool
at_as_of(struct parser *p)
{
	return (is_kw(p, "AS") && kw_at(p, peek(p, 1), "OF")) ||
	       (is_kw(p, "FOR") && kw_at(p, peek(p, 1), "SYSTEM_TIME"));
}

static bool
check_coll_name(struct parser *p, const char *n, size_t pos)
{
	if (nedb_check_coll(n)) {
		fail(p, pos, "bad table name '%.64s': a table is a collection, "
		     "named [A-Za-z_][A-Za-z0-9_]* (1-64 bytes)", n);
		return false;
	}
	return true;
}

/* FROM table [time travel] [[AS] alias] [time travel] */
static bool
parse_from(struct parser *p, struct sql_select *s)
{
	size_t pos = tok(p)->pos;

	if (accept_op(p, "(")) {
		fail(p, pos, "a subquery in FROM is not supported");
		return false;
	}
	if (!(s->q.coll = name(p, "a table name after FROM")))
		return false;
	if (accept_op(p, ".")) {
		if (strcasecmp(s->q.coll, "main")) {
			fail(p, pos, "attached databases are not supported");
			return false;
		}
		free(s->q.coll);
		pos = tok(p)->pos;
		if (!(s->q.coll = name(p, "a table name after '.'")))
			return false;
	}
	if (!check_coll_name(p, s->q.coll, pos))
		return false;
	s->has_from = true;
	if (at_as_of(p) && !parse_as_of(p, s))
		return false;
	if (accept_kw(p, "AS") || (tok(p)->k == T_ID &&
				   (tok(p)->quoted || !reserved_at(p, tok(p)))
				   && !is_kw(p, "INDEXED"))) {
		if (!(s->alias = name(p, "an alias")))
			return false;
	}
	if (at_as_of(p) && !parse_as_of(p, s))
		return false;
	if (is_kw(p, "INDEXED") || (is_kw(p, "NOT") &&
				    kw_at(p, peek(p, 1), "INDEXED"))) {
		fail(p, tok(p)->pos, "INDEXED BY is not supported");
		return false;
	}
	if (is_op(p, ",") || is_kw(p, "JOIN") || is_kw(p, "CROSS") ||
	    is_kw(p, "NATURAL") || is_kw(p, "LEFT") || is_kw(p, "INNER") ||
	    is_kw(p, "RIGHT") || is_kw(p, "FULL")) {
		fail(p, tok(p)->pos, "joins are not supported: nedb-sql "
		     "reads one table");
		return false;
	}
	return true;
}

static bool
parse_result_cols(struct parser *p, struct sql_select *s)
{
	do {
		struct sql_result_col *c;
		size_t pos = tok(p)->pos;

		s->cols = nedb__realloc(s->cols, (s->ncols + 1) *
					sizeof *s->cols);
		c = &s->cols[s->ncols++];
		memset(c, 0, sizeof *c);
		if (accept_op(p, "*"))
			continue;
		if (tok(p)->k == T_ID && peek(p, 1)->k == T_OP &&
		    !strcmp(peek(p, 1)->op, ".") && peek(p, 2)->k == T_OP &&
		    !strcmp(peek(p, 2)->op, "*")) {
			c->table = ident(p, tok(p));
			next(p);
			next(p);
			next(p);
			continue;
		}
		if (!(c->e = parse_expr(p)))
			return false;
		if (accept_kw(p, "AS")) {
			if (tok(p)->k == T_STR) {
				c->alias = nedb__memdup(p->s + tok(p)->pos + 1,
							tok(p)->len - 2);
				next(p);
			} else if (!(c->alias = name(p, "a column alias "
						     "after AS")))
				return false;
		} else if (tok(p)->k == T_ID && (tok(p)->quoted ||
						 !reserved_at(p, tok(p)))) {
			c->alias = ident(p, tok(p));
			next(p);
		} else if (tok(p)->k == T_STR) {
			c->alias = nedb__memdup(p->s + tok(p)->pos + 1,
						tok(p)->len - 2);
			next(p);
		}
		(void)pos;
	} while (accept_op(p, ","));
	return true;
}

static bool
parse_exprs(struct parser *p, struct sql_expr ***v, size_t *n)
{
	do {
		struct sql_expr *e = parse_expr(p);

		if (!e)
			return false;
		*v = nedb__realloc(*v, (*n + 1) * sizeof **v);
		(*v)[(*n)++] = e;
	} while (accept_op(p, ","));
	return true;
}

static struct sql_select *
parse_select(struct parser *p)
{
	struct sql_select *s = nedb__calloc(1, sizeof *s);

	s->pos = tok(p)->pos;
	if (is_kw(p, "WITH")) {
		fail(p, tok(p)->pos, "WITH (common table expressions) is not "
		     "supported");
		goto bad;
	}
	if (is_kw(p, "VALUES")) {
		fail(p, tok(p)->pos, "VALUES as a query is not supported");
		goto bad;
	}
	if (!expect_kw(p, "SELECT"))
		goto bad;
	if (accept_kw(p, "DISTINCT"))
		s->distinct = true;
	else
		accept_kw(p, "ALL");
	if (!parse_result_cols(p, s))
		goto bad;
	if (accept_kw(p, "FROM") && !parse_from(p, s))
		goto bad;
	if (accept_kw(p, "WHERE") && !(s->where = parse_expr(p)))
		goto bad;
	if (accept_kw(p, "GROUP")) {
		if (!expect_kw(p, "BY") || !parse_exprs(p, &s->group,
							&s->ngroup))
			goto bad;
	}
	if (accept_kw(p, "HAVING") && !(s->having = parse_expr(p)))
		goto bad;
	if (is_kw(p, "WINDOW")) {
		fail(p, tok(p)->pos, "WINDOW is not supported");
		goto bad;
	}
	if (is_kw(p, "UNION") || is_kw(p, "EXCEPT") || is_kw(p, "INTERSECT")) {
		fail(p, tok(p)->pos, "compound SELECTs (%.*s) are not "
		     "supported", (int)tok(p)->len, p->s + tok(p)->pos);
		goto bad;
	}
	if (accept_kw(p, "ORDER")) {
		if (!expect_kw(p, "BY"))
			goto bad;
		do {
			struct sql_order *o;
			struct sql_expr *e = parse_expr(p);

			if (!e)
				goto bad;
			s->order = nedb__realloc(s->order, (s->norder + 1) *
						 sizeof *s->order);
			o = &s->order[s->norder++];
			memset(o, 0, sizeof *o);
			o->e = e;
			if (accept_kw(p, "DESC"))
				o->desc = true;
			else
				accept_kw(p, "ASC");
			if (accept_kw(p, "NULLS")) {
				if (accept_kw(p, "FIRST"))
					o->nulls = 1;
				else if (accept_kw(p, "LAST"))
					o->nulls = 2;
				else {
					expected(p, "FIRST or LAST");
					goto bad;
				}
			}
		} while (accept_op(p, ","));
	}
	if (accept_kw(p, "LIMIT")) {
		if (!(s->limit = parse_expr(p)))
			goto bad;
		if (accept_kw(p, "OFFSET")) {
			if (!(s->offset = parse_expr(p)))
				goto bad;
		} else if (accept_op(p, ",")) {
			/* LIMIT offset, count */
			s->offset = s->limit;
			if (!(s->limit = parse_expr(p)))
				goto bad;
		}
	}
	if (is_kw(p, "UNION") || is_kw(p, "EXCEPT") || is_kw(p, "INTERSECT")) {
		fail(p, tok(p)->pos, "compound SELECTs (%.*s) are not "
		     "supported", (int)tok(p)->len, p->s + tok(p)->pos);
		goto bad;
	}
	return s;
bad:
	nedb__sql_select_free(s);
	return NULL;
}

/* ---- statements ----------------------------------------------------------- */

void
nedb__sql_stmt_free(struct sql_stmt *s)
{
	if (!s)
		return;
	free(s->table);
	free(s->index);
	nedb__sql_select_free(s->sel);
	for (size_t i = 0; i < s->ncols; i++)
		free(s->cols[i]);
	free(s->cols);
	free(s->desc);
	for (size_t r = 0; r < s->nrows; r++) {
		for (size_t i = 0; s->rows[r] && i < s->nvals; i++)
			nedb__sql_expr_free(s->rows[r][i]);
		free(s->rows[r]);
	}
	free(s->rows);
	for (size_t i = 0; i < s->nset; i++) {
		free(s->set_cols[i]);
		nedb__sql_expr_free(s->set_vals[i]);
	}
	free(s->set_cols);
	free(s->set_vals);
	nedb__sql_expr_free(s->where);
	for (size_t i = 0; i < s->ndefs; i++) {
		free(s->defs[i].name);
		free(s->defs[i].type);
		nedb__sql_expr_free(s->defs[i].dflt);
	}
	free(s->defs);
	for (size_t i = 0; i < s->npk; i++)
		free(s->pkcols[i]);
	free(s->pkcols);
	for (size_t u = 0; u < s->nuniques; u++) {
		for (size_t i = 0; i < s->nunique[u]; i++)
			free(s->uniques[u][i]);
		free(s->uniques[u]);
	}
	free(s->uniques);
	free(s->nunique);
	free(s);
}

static bool
parse_table_name(struct parser *p, char **out, const char *what)
{
	size_t pos = tok(p)->pos;

	if (!(*out = name(p, what)))
		return false;
	if (accept_op(p, ".")) {
		if (strcasecmp(*out, "main")) {
			fail(p, pos, "attached databases are not supported");
			return false;
		}
		free(*out);
		pos = tok(p)->pos;
		if (!(*out = name(p, what)))
			return false;
	}
	return check_coll_name(p, *out, pos);
}

/* ( name, ... ) into v, n */
static bool
parse_name_list(struct parser *p, char ***v, size_t *n, bool **desc)
{
	if (!expect_op(p, "("))
		return false;
	do {
		char *c = name(p, "a column name");

		if (!c)
			return false;
		*v = nedb__realloc(*v, (*n + 1) * sizeof **v);
		(*v)[(*n)++] = c;
		if (desc)
			*desc = nedb__realloc(*desc, *n * sizeof **desc);
		if (is_kw(p, "COLLATE")) {
			next(p);
			if (!is_kw(p, "BINARY")) {
				fail(p, tok(p)->pos, "COLLATE other than BINARY "
				     "is not supported");
				return false;
			}
			next(p);
		}
		if (desc)
			(*desc)[*n - 1] = false;
		if (accept_kw(p, "DESC")) {
			if (desc)
				(*desc)[*n - 1] = true;
		} else
			accept_kw(p, "ASC");
	} while (accept_op(p, ","));
	return expect_op(p, ")");
}

static bool
parse_conflict_clause(struct parser *p)
{
	if (!accept_kw(p, "ON"))
		return true;
	if (!expect_kw(p, "CONFLICT"))
		return false;
	if (accept_kw(p, "ABORT") || accept_kw(p, "ROLLBACK"))
		return true;
	fail(p, tok(p)->pos, "ON CONFLICT %.*s is not supported",
	     (int)tok(p)->len, p->s + tok(p)->pos);
	return false;
}

/* Skips a balanced run of tokens up to ',' or ')' at depth 0. */
static void
skip_clause(struct parser *p)
{
	int depth = 0;

	while (tok(p)->k != T_EOF) {
		if (is_op(p, "("))
			depth++;
		else if (is_op(p, ")")) {
			if (!depth)
				return;
			depth--;
		} else if (is_op(p, ",") && !depth)
			return;
		next(p);
	}
}

static bool
parse_coldef(struct parser *p, struct sql_stmt *s)
{
	struct sql_coldef *d;
	size_t from;

	s->defs = nedb__realloc(s->defs, (s->ndefs + 1) * sizeof *s->defs);
	d = &s->defs[s->ndefs++];
	memset(d, 0, sizeof *d);
	if (!(d->name = name(p, "a column name")))
		return false;
	from = tok(p)->pos;
	while (tok(p)->k == T_ID && !tok(p)->quoted &&
	       !is_kw(p, "PRIMARY") && !is_kw(p, "NOT") && !is_kw(p, "NULL") &&
	       !is_kw(p, "UNIQUE") && !is_kw(p, "CHECK") &&
	       !is_kw(p, "DEFAULT") && !is_kw(p, "COLLATE") &&
	       !is_kw(p, "REFERENCES") && !is_kw(p, "CONSTRAINT") &&
	       !is_kw(p, "GENERATED") && !is_kw(p, "AS"))
		next(p);
	if (prev_end(p) > from && is_op(p, "(")) {
		next(p);
		while (!is_op(p, ")") && tok(p)->k != T_EOF)
			next(p);
		if (!expect_op(p, ")"))
			return false;
	}
	d->type = nedb__memdup(p->s + from, prev_end(p) > from ?
			       prev_end(p) - from : 0);
	d->aff = nedb__sql_affinity(d->type);
	for (;;) {
		if (accept_kw(p, "CONSTRAINT") && !tok(p)->len)
			return expected(p, "a constraint name"), false;
		if (p->t[p->i - 1].k == T_ID &&
		    kw_at(p, &p->t[p->i - 1], "CONSTRAINT"))
			next(p);	/* its name */
		if (accept_kw(p, "PRIMARY")) {
			if (!expect_kw(p, "KEY"))
				return false;
			d->pk = true;
			if (!accept_kw(p, "ASC") && accept_kw(p, "DESC")) {
				/* an INTEGER PRIMARY KEY DESC is no rowid */
				d->unique = true;
			}
			if (!parse_conflict_clause(p))
				return false;
			if (accept_kw(p, "AUTOINCREMENT"))
				d->autoinc = true;
		} else if (accept_kw(p, "NOT")) {
			if (!expect_kw(p, "NULL") || !parse_conflict_clause(p))
				return false;
			d->notnull = true;
		} else if (accept_kw(p, "NULL")) {
			if (!parse_conflict_clause(p))
				return false;
		} else if (accept_kw(p, "UNIQUE")) {
			if (!parse_conflict_clause(p))
				return false;
			d->unique = true;
		} else if (is_kw(p, "CHECK")) {
			fail(p, tok(p)->pos, "CHECK constraints are not "
			     "supported");
			return false;
		} else if (accept_kw(p, "DEFAULT")) {
			struct sql_expr *e;

			if (accept_op(p, "(")) {
				if (!(e = parse_expr(p)) || !expect_op(p, ")")) {
					nedb__sql_expr_free(e);
					return false;
				}
			} else if (!(e = parse_unary(p)))
				return false;
			nedb__sql_expr_free(d->dflt);	/* the last wins */
			d->dflt = e;
		} else if (is_kw(p, "COLLATE")) {
			next(p);
			if (!is_kw(p, "BINARY")) {
				fail(p, tok(p)->pos, "COLLATE other than BINARY "
				     "is not supported");
				return false;
			}
			next(p);
		} else if (is_kw(p, "REFERENCES")) {
			/* sqlite3 does not enforce foreign keys by default */
			skip_clause(p);
		} else if (is_kw(p, "GENERATED") || is_kw(p, "AS")) {
			fail(p, tok(p)->pos, "generated columns are not "
			     "supported");
			return false;
		} else
			return true;
	}
}

static bool
parse_create_table(struct parser *p, struct sql_stmt *s)
{
	s->kind = SQL_CREATE_TABLE;
	if (accept_kw(p, "IF")) {
		if (!expect_kw(p, "NOT") || !expect_kw(p, "EXISTS"))
			return false;
		s->if_exists = true;
	}
	if (!parse_table_name(p, &s->table, "a table name"))
		return false;
	if (is_kw(p, "AS")) {
		fail(p, tok(p)->pos, "CREATE TABLE ... AS SELECT is not "
		     "supported");
		return false;
	}
	if (!expect_op(p, "("))
		return false;
	do {
		if (accept_kw(p, "CONSTRAINT")) {
			char *cname = name(p, "a constraint name");

			if (!cname)
				return false;
			free(cname);	/* a table constraint's name is not kept */
		}
		if (accept_kw(p, "PRIMARY")) {
			if (!expect_kw(p, "KEY") ||
			    !parse_name_list(p, &s->pkcols, &s->npk, NULL) ||
			    !parse_conflict_clause(p))
				return false;
		} else if (accept_kw(p, "UNIQUE")) {
			s->uniques = nedb__realloc(s->uniques, (s->nuniques + 1)
						   * sizeof *s->uniques);
			s->nunique = nedb__realloc(s->nunique, (s->nuniques + 1)
						   * sizeof *s->nunique);
			s->uniques[s->nuniques] = NULL;
			s->nunique[s->nuniques] = 0;
			s->nuniques++;
			if (!parse_name_list(p, &s->uniques[s->nuniques - 1],
					     &s->nunique[s->nuniques - 1],
					     NULL) || !parse_conflict_clause(p))
				return false;
		} else if (is_kw(p, "CHECK")) {
			fail(p, tok(p)->pos, "CHECK constraints are not "
			     "supported");
			return false;
		} else if (is_kw(p, "FOREIGN")) {
			skip_clause(p);
		} else if (!parse_coldef(p, s))
			return false;
	} while (accept_op(p, ","));
	if (!expect_op(p, ")"))
		return false;
	if (is_kw(p, "WITHOUT") || is_kw(p, "STRICT")) {
		fail(p, tok(p)->pos, "%.*s tables are not supported",
		     (int)tok(p)->len, p->s + tok(p)->pos);
		return false;
	}
	if (!s->ndefs)
		return fail(p, tok(p)->pos, "a table needs a column"), false;
	return true;
}

static bool
parse_create_index(struct parser *p, struct sql_stmt *s)
{
	s->kind = SQL_CREATE_INDEX;
	if (accept_kw(p, "IF")) {
		if (!expect_kw(p, "NOT") || !expect_kw(p, "EXISTS"))
			return false;
		s->if_exists = true;
	}
	if (!(s->index = name(p, "an index name")))
		return false;
	if (accept_op(p, ".")) {
		free(s->index);
		if (!(s->index = name(p, "an index name")))
			return false;
	}
	if (!expect_kw(p, "ON") ||
	    !parse_table_name(p, &s->table, "a table name"))
		return false;
	if (!is_op(p, "("))
		return expected(p, "'('"), false;
	{
		/* columns only: an expression is refused by name */
		size_t j = p->i + 1;

		if (p->t[j].k != T_ID || (p->t[j + 1].k == T_OP &&
					  strcmp(p->t[j + 1].op, ",") &&
					  strcmp(p->t[j + 1].op, ")"))) {
			fail(p, p->t[j].pos, "indexes on expressions are not "
			     "supported");
			return false;
		}
	}
	if (!parse_name_list(p, &s->cols, &s->ncols, &s->desc))
		return false;
	if (is_kw(p, "WHERE")) {
		fail(p, tok(p)->pos, "partial indexes (WHERE) are not "
		     "supported");
		return false;
	}
	return true;
}

static bool
parse_insert(struct parser *p, struct sql_stmt *s)
{
	s->kind = SQL_INSERT;
	if (accept_kw(p, "REPLACE"))
		s->conflict = ON_REPLACE;
	else {
		next(p);	/* INSERT */
		if (accept_kw(p, "OR")) {
			if (accept_kw(p, "REPLACE"))
				s->conflict = ON_REPLACE;
			else if (accept_kw(p, "IGNORE"))
				s->conflict = ON_IGNORE;
			else if (accept_kw(p, "ABORT") ||
				 accept_kw(p, "ROLLBACK"))
				s->conflict = ON_ABORT;
			else if (is_kw(p, "FAIL")) {
				fail(p, tok(p)->pos, "INSERT OR FAIL is not "
				     "supported (a statement is all or "
				     "nothing)");
				return false;
			} else
				return expected(p, "REPLACE, IGNORE, ABORT or "
						"ROLLBACK after OR"), false;
		}
	}
	if (!expect_kw(p, "INTO") ||
	    !parse_table_name(p, &s->table, "a table name"))
		return false;
	if (is_kw(p, "AS")) {
		fail(p, tok(p)->pos, "an alias in INSERT is not supported");
		return false;
	}
	if (is_op(p, "(") && !parse_name_list(p, &s->cols, &s->ncols, NULL))
		return false;
	if (accept_kw(p, "DEFAULT")) {
		if (!expect_kw(p, "VALUES"))
			return false;
		s->default_values = true;
	} else if (accept_kw(p, "VALUES")) {
		do {
			struct sql_expr **row = NULL;
			size_t n = 0, pos = tok(p)->pos;

			if (!expect_op(p, "("))
				return false;
			s->rows = nedb__realloc(s->rows, (s->nrows + 1) *
						sizeof *s->rows);
			s->rows[s->nrows++] = NULL;
			if (!parse_exprs(p, &row, &n)) {
				/* this row is freed here, the others with s */
				for (size_t i = 0; i < n; i++)
					nedb__sql_expr_free(row[i]);
				free(row);
				return false;
			}
			if (s->nrows > 1 && n != s->nvals) {
				for (size_t i = 0; i < n; i++)
					nedb__sql_expr_free(row[i]);
				free(row);
				fail(p, pos, "all VALUES must have the same "
				     "number of terms");
				return false;
			}
			s->nvals = n;
			s->rows[s->nrows - 1] = row;
			if (!expect_op(p, ")"))
				return false;
		} while (accept_op(p, ","));
	} else if (is_kw(p, "SELECT") || is_kw(p, "WITH")) {
		if (!(s->sel = parse_select(p)))
			return false;
	} else
		return expected(p, "VALUES, SELECT or DEFAULT VALUES"), false;
	if (is_kw(p, "ON") || is_kw(p, "RETURNING")) {
		fail(p, tok(p)->pos, "%s is not supported", is_kw(p, "ON") ?
		     "an upsert (ON CONFLICT)" : "RETURNING");
		return false;
	}
	return true;
}

static bool
parse_update(struct parser *p, struct sql_stmt *s)
{
	s->kind = SQL_UPDATE;
	next(p);
	if (accept_kw(p, "OR")) {
		if (!accept_kw(p, "ABORT") && !accept_kw(p, "ROLLBACK")) {
			fail(p, tok(p)->pos, "UPDATE OR %.*s is not supported",
			     (int)tok(p)->len, p->s + tok(p)->pos);
			return false;
		}
	}
	if (!parse_table_name(p, &s->table, "a table name"))
		return false;
	if (!expect_kw(p, "SET"))
		return false;
	do {
		char *c;
		struct sql_expr *e;

		if (is_op(p, "(")) {
			fail(p, tok(p)->pos, "SET (a, b) = ... is not "
			     "supported");
			return false;
		}
		if (!(c = name(p, "a column name")))
			return false;
		while (accept_op(p, ".")) {
			char *part = name(p, "a field name after '.'"), *j;

			if (!part) {
				free(c);
				return false;
			}
			j = nedb__malloc(strlen(c) + strlen(part) + 2);
			sprintf(j, "%s.%s", c, part);
			free(c);
			free(part);
			c = j;
		}
		s->set_cols = nedb__realloc(s->set_cols, (s->nset + 1) *
					    sizeof *s->set_cols);
		s->set_vals = nedb__realloc(s->set_vals, (s->nset + 1) *
					    sizeof *s->set_vals);
		s->set_cols[s->nset] = c;
		s->set_vals[s->nset++] = NULL;
		if (!expect_op(p, "=") || !(e = parse_expr(p)))
			return false;
		s->set_vals[s->nset - 1] = e;
	} while (accept_op(p, ","));
	if (is_kw(p, "FROM")) {
		fail(p, tok(p)->pos, "UPDATE ... FROM is not supported");
		return false;
	}
	if (accept_kw(p, "WHERE") && !(s->where = parse_expr(p)))
		return false;
	if (is_kw(p, "RETURNING") || is_kw(p, "ORDER") || is_kw(p, "LIMIT")) {
		fail(p, tok(p)->pos, "%.*s in UPDATE is not supported",
		     (int)tok(p)->len, p->s + tok(p)->pos);
		return false;
	}
	return true;
}

static bool
parse_delete(struct parser *p, struct sql_stmt *s)
{
	s->kind = SQL_DELETE;
	next(p);
	if (!expect_kw(p, "FROM") ||
	    !parse_table_name(p, &s->table, "a table name"))
		return false;
	if (accept_kw(p, "WHERE") && !(s->where = parse_expr(p)))
		return false;
	if (is_kw(p, "RETURNING") || is_kw(p, "ORDER") || is_kw(p, "LIMIT")) {
		fail(p, tok(p)->pos, "%.*s in DELETE is not supported",
		     (int)tok(p)->len, p->s + tok(p)->pos);
		return false;
	}
	return true;
}

static bool
parse_stmt(struct parser *p, struct sql_stmt *s)
{
	const struct token *t;

	if (accept_kw(p, "EXPLAIN")) {
		s->explain = true;
		if (accept_kw(p, "QUERY") && !expect_kw(p, "PLAN"))
			return false;
	}
	t = tok(p);
	if (is_kw(p, "SELECT") || is_kw(p, "WITH") || is_kw(p, "VALUES")) {
		s->kind = SQL_SELECT;
		return (s->sel = parse_select(p)) != NULL;
	}
	if (s->explain) {
		fail(p, t->pos, "EXPLAIN explains a SELECT");
		return false;
	}
	if (is_kw(p, "INSERT") || is_kw(p, "REPLACE"))
		return parse_insert(p, s);
	if (is_kw(p, "UPDATE"))
		return parse_update(p, s);
	if (is_kw(p, "DELETE"))
		return parse_delete(p, s);
	if (accept_kw(p, "CREATE")) {
		if (is_kw(p, "TEMP") || is_kw(p, "TEMPORARY")) {
			fail(p, tok(p)->pos, "temporary tables are not "
			     "supported");
			return false;
		}
		if (accept_kw(p, "TABLE"))
			return parse_create_table(p, s);
		if (accept_kw(p, "UNIQUE")) {
			s->unique = true;
			if (!expect_kw(p, "INDEX"))
				return false;
			return parse_create_index(p, s);
		}
		if (accept_kw(p, "INDEX"))
			return parse_create_index(p, s);
		if (tok(p)->k == T_ID) {
			fail(p, tok(p)->pos, "CREATE %.*s is not supported",
			     (int)tok(p)->len, p->s + tok(p)->pos);
			return false;
		}
		return expected(p, "TABLE or INDEX after CREATE"), false;
	}
	if (accept_kw(p, "DROP")) {
		bool index = false;

		if (accept_kw(p, "INDEX"))
			index = true;
		else if (!accept_kw(p, "TABLE")) {
			if (tok(p)->k == T_ID) {
				fail(p, tok(p)->pos, "DROP %.*s is not "
				     "supported", (int)tok(p)->len,
				     p->s + tok(p)->pos);
				return false;
			}
			return expected(p, "TABLE or INDEX after DROP"), false;
		}
		s->kind = index ? SQL_DROP_INDEX : SQL_DROP_TABLE;
		if (accept_kw(p, "IF")) {
			if (!expect_kw(p, "EXISTS"))
				return false;
			s->if_exists = true;
		}
		if (index) {
			if (!(s->index = name(p, "an index name")))
				return false;
			if (accept_op(p, ".")) {
				free(s->index);
				return (s->index = name(p, "an index name"));
			}
			return true;
		}
		return parse_table_name(p, &s->table, "a table name");
	}
	if (accept_kw(p, "BEGIN")) {
		s->kind = SQL_BEGIN;
		if (!accept_kw(p, "DEFERRED") && !accept_kw(p, "IMMEDIATE"))
			accept_kw(p, "EXCLUSIVE");
		accept_kw(p, "TRANSACTION");
		return true;
	}
	if (accept_kw(p, "COMMIT") || accept_kw(p, "END")) {
		s->kind = SQL_COMMIT;
		accept_kw(p, "TRANSACTION");
		return true;
	}
	if (accept_kw(p, "ROLLBACK")) {
		s->kind = SQL_ROLLBACK;
		accept_kw(p, "TRANSACTION");
		if (is_kw(p, "TO")) {
			fail(p, tok(p)->pos, "savepoints are not supported");
			return false;
		}
		return true;
	}
	if (t->k == T_ID) {
		fail(p, t->pos, "%.*s statements are not supported",
		     (int)(t->len > 20 ? 20 : t->len), p->s + t->pos);
		return false;
	}
	return expected(p, "a statement (SELECT, INSERT, UPDATE, DELETE, "
			"CREATE, DROP)"), false;
}

int
nedb__sql_parse(const char *text, size_t start, size_t end,
		struct sql_stmt **out, struct nql_error *err)
{
	struct nql_error dummy;
	struct parser p = {.s = text, .end = end};
	struct sql_stmt *s = nedb__calloc(1, sizeof *s);

	*out = NULL;
	p.err = err ? err : &dummy;
	p.err->pos = start;
	p.err->msg[0] = 0;
	s->text = text;
	s->start = start;
	s->end = end;
	p.stmt = s;
	if (!lex(&p, start) && parse_stmt(&p, s) && tok(&p)->k != T_EOF) {
		char b[64];

		fail(&p, tok(&p)->pos, "unexpected %s after the statement",
		     tdesc(&p, b, sizeof b));
	}
	free(p.t);
	if (p.rc) {
		nedb__sql_stmt_free(s);
		return nedb__err(p.rc, "%s", p.err->msg);
	}
	*out = s;
	return 0;
}
