/*
 * nql_parse.c - the NQL lexer and recursive-descent parser (SPEC §6):
 * query text in, struct nql_query out (nql.h).
 *
 *   query  := [EXPLAIN] FROM coll [AS OF n | AS OF TIMESTAMP "time"]
 *             [WHERE expr] [SEARCH "text"]
 *             [GROUP BY path agg...] [ORDER BY path [ASC|DESC] {, ...}]
 *             [TRAVERSE relation [IN]] [TRACE caused_by]
 *             [LIMIT n [OFFSET m]] [;]
 *   expr   := or;  or := and {OR and};  and := not {AND not}
 *   not    := NOT not | primary
 *   primary:= ( expr ) | path op value | path IN (value {, value})
 *           | path EXISTS | path CONTAINS value
 *
 * Invariants kept:
 *
 *   1. Everything the parser allocates hangs off the query (or off the
 *      expression being built) as soon as it exists, so that one
 *      nql_free on any error path releases all of it.  On an error
 *      *out is NULL.
 *   2. Literals are stored as the JSON text the user wrote, after
 *      checking it is valid JSON (RFC 8259 numbers, JSON string escapes,
 *      valid UTF-8); true/false/null are stored lowercase.
 *   3. AND and OR are left-associative, so long chains grow down the
 *      left (a) side; nql_expr_free walks that side in a loop and
 *      recurses only into b, whose depth parentheses and NOT bound
 *      (MAX_DEPTH).
 *   4. The first error wins: err->pos is the byte offset of the token
 *      that made the query invalid (the end of the text when it ended
 *      too soon), err->msg says what was expected.
 *
 * Lexing is on demand, one token of lookahead.  Two names do not follow
 * the token rules and are scanned from the raw text where the grammar
 * expects them: the collection after FROM (so that "1users" is reported
 * as a bad name, not a bad number) and the relation after TRAVERSE
 * (which may contain ':' and '-').
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nql.h"

#define MAX_DEPTH 64		/* nesting of parentheses and NOT */

enum tok_kind { TK_EOF, TK_WORD, TK_NUM, TK_STR, TK_PUNCT, TK_BAD };

enum punct {
	P_LPAREN, P_RPAREN, P_COMMA, P_SEMI, P_EQ, P_NE, P_LT, P_LE, P_GT,
	P_GE
};

struct tok {
	enum tok_kind kind;
	size_t pos, len;
	enum punct op;		/* TK_PUNCT */
	bool open;		/* TK_STR without its closing quote */
};

struct parser {
	const char *s;
	size_t len;
	size_t at;		/* where the next token is lexed from */
	struct tok tok;		/* the current token */
	struct tok prev;	/* the last consumed one */
	int depth;
	int rc;			/* 0, or the first error */
	struct nql_error *err;
};

/* The clauses after FROM, in the order the grammar requires. */
enum clause {
	C_AS_OF, C_WHERE, C_SEARCH, C_GROUP, C_ORDER, C_TRAVERSE, C_TRACE,
	C_LIMIT, C__N
};

static const char *const clause_name[C__N] = {
	"AS OF", "WHERE", "SEARCH", "GROUP BY", "ORDER BY", "TRAVERSE",
	"TRACE", "LIMIT"
};

static const char *const clause_word[C__N] = {
	"AS", "WHERE", "SEARCH", "GROUP", "ORDER", "TRAVERSE", "TRACE",
	"LIMIT"
};

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alnum(char c)
{
	return is_alpha(c) || is_digit(c);
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Copies up to 40 bytes of user text into out (at least 48 bytes) for a
 * message: bytes that are not printable ASCII become '?', so that the
 * message stays one line of valid UTF-8; "..." marks a cut.
 */
static const char *
quote(char *out, const char *s, size_t n)
{
	size_t i, m = n > 40 ? 40 : n;

	for (i = 0; i < m; i++)
		out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	if (m < n) {
		memcpy(out + m, "...", 3);
		m += 3;
	}
	out[m] = 0;
	return out;
}

/* Records the first error; returns -1 so callers can "return fail(...)". */
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

static int
fail_oom(struct parser *p)
{
	if (p->rc)
		return -1;
	p->rc = NEDB_EIO;
	p->err->pos = p->tok.pos;
	snprintf(p->err->msg, sizeof p->err->msg, "out of memory");
	return -1;
}

/* ---- lexer ---- */

static void
lex(struct parser *p)
{
	const char *s = p->s;
	size_t i = p->at;
	struct tok *t = &p->tok;

	while (i < p->len && is_space(s[i]))
		i++;
	t->pos = i;
	t->open = false;
	if (i >= p->len) {
		t->kind = TK_EOF;
		t->len = 0;
	} else if (is_alpha(s[i])) {
		/* a word, or a dotted path: parts are checked by parse_path */
		t->kind = TK_WORD;
		while (i < p->len && (is_alnum(s[i]) || s[i] == '.'))
			i++;
		t->len = i - t->pos;
	} else if (is_digit(s[i]) || s[i] == '-') {
		/* a number-like run, checked where a number is expected */
		t->kind = TK_NUM;
		i++;
		while (i < p->len && (is_alnum(s[i]) || s[i] == '.' ||
				      ((s[i] == '+' || s[i] == '-') &&
				       (s[i - 1] == 'e' || s[i - 1] == 'E'))))
			i++;
		t->len = i - t->pos;
	} else if (s[i] == '"') {
		t->kind = TK_STR;
		for (i++; i < p->len && s[i] != '"'; i++)
			if (s[i] == '\\' && i + 1 < p->len)
				i++;
		if (i >= p->len) {
			t->open = true;
			t->len = p->len - t->pos;
		} else
			t->len = i + 1 - t->pos;
	} else {
		t->kind = TK_PUNCT;
		t->len = 1;
		switch (s[i]) {
		case '(': t->op = P_LPAREN; break;
		case ')': t->op = P_RPAREN; break;
		case ',': t->op = P_COMMA; break;
		case ';': t->op = P_SEMI; break;
		case '=': t->op = P_EQ; break;
		case '<':
			t->op = P_LT;
			if (i + 1 < p->len && s[i + 1] == '=') {
				t->op = P_LE;
				t->len = 2;
			}
			break;
		case '>':
			t->op = P_GT;
			if (i + 1 < p->len && s[i + 1] == '=') {
				t->op = P_GE;
				t->len = 2;
			}
			break;
		case '!':
			if (i + 1 < p->len && s[i + 1] == '=') {
				t->op = P_NE;
				t->len = 2;
				break;
			}
			/* fall through */
		default:
			t->kind = TK_BAD;
		}
	}
	p->at = t->pos + t->len;
}

static void
advance(struct parser *p)
{
	p->prev = p->tok;
	lex(p);
}

/* Restarts lexing at byte offset at (after a raw scan). */
static void
relex(struct parser *p, size_t at)
{
	p->prev = p->tok;
	p->prev.len = at - p->prev.pos;
	p->at = at;
	lex(p);
}

static bool
is_kw(const struct parser *p, const char *kw)
{
	size_t n = strlen(kw);

	return p->tok.kind == TK_WORD && p->tok.len == n &&
	       !strncasecmp(p->s + p->tok.pos, kw, n);
}

static bool
is_punct(const struct parser *p, enum punct op)
{
	return p->tok.kind == TK_PUNCT && p->tok.op == op;
}

/*
 * When the current token is lexically bad (a stray character, an
 * unterminated string) fails with that and returns true: it is what the
 * user has to fix, whatever the grammar expected there.
 */
static bool
bad_token(struct parser *p)
{
	const struct tok *t = &p->tok;
	char c = p->s[t->pos];

	if (t->kind == TK_STR && t->open)
		fail(p, t->pos, "unterminated string");
	else if (t->kind != TK_BAD)
		return false;
	else if (c == '\'')
		fail(p, t->pos, "unexpected character ''' (strings are "
		     "double-quoted)");
	else if (c > 0x20 && c < 0x7f)
		fail(p, t->pos, "unexpected character '%c'", c);
	else
		fail(p, t->pos, "unexpected byte 0x%02x", (unsigned char)c);
	return true;
}

/* Fails with "expected WHAT after CTX" (or the lexical error). */
static int
expected(struct parser *p, const char *what, const char *ctx)
{
	if (bad_token(p))
		return -1;
	return fail(p, p->tok.pos, "expected %s after %s", what, ctx);
}

/* ---- literals ---- */

static int
hex4(const char *s, unsigned *out)
{
	unsigned v = 0;

	for (int k = 0; k < 4; k++) {
		char c = s[k];

		v <<= 4;
		if (is_digit(c))
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
put_utf8(char *o, unsigned cp)
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
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Checks the current string token as a JSON string literal.  With dec
 * non-NULL, also decodes it into a malloc'd, NUL-terminated *dec (of
 * *declen bytes; decoding never lengthens it).  Unpaired surrogates in
 * \u escapes are rejected: the decoded text is always valid UTF-8.
 */
static int
check_string(struct parser *p, char **dec, size_t *declen)
{
	const struct tok *t = &p->tok;
	const char *s = p->s + t->pos + 1;
	size_t n = t->len - 2, i, o = 0;
	char *out = NULL;

	if (t->open)
		return fail(p, t->pos, "unterminated string");
	if (!nedb__utf8_valid((const unsigned char *)s, n))
		return fail(p, t->pos, "invalid UTF-8 in string");
	if (dec)
		out = nedb__malloc(n + 1);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		unsigned cp, lo;

		if (c < 0x20) {
			fail(p, t->pos + 1 + i, "control character in string"
			     " (escape it)");
			goto bad;
		}
		if (c != '\\') {
			if (out)
				out[o++] = (char)c;
			continue;
		}
		/* the lexer guarantees a byte after '\' inside the quotes */
		switch (s[++i]) {
		case '"': cp = '"'; break;
		case '\\': cp = '\\'; break;
		case '/': cp = '/'; break;
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (n - i - 1 < 4 || hex4(s + i + 1, &cp))
				goto bad_u;
			i += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				goto bad_surrogate;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (n - i - 1 < 6 || s[i + 1] != '\\' ||
				    s[i + 2] != 'u' || hex4(s + i + 3, &lo) ||
				    lo < 0xdc00 || lo > 0xdfff)
					goto bad_surrogate;
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     (lo - 0xdc00);
				i += 6;
			}
			break;
		default:
			fail(p, t->pos + i, "bad escape '\\%c' in string",
			     s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?');
			goto bad;
		}
		if (out)
			o += put_utf8(out + o, cp);
	}
	if (out) {
		out[o] = 0;
		*dec = out;
		*declen = o;
	}
	return 0;
bad_u:
	fail(p, t->pos + i, "bad \\u escape in string (want 4 hex digits)");
	goto bad;
bad_surrogate:
	fail(p, t->pos + i - 4, "unpaired surrogate in \\u escape");
bad:
	free(out);
	return -1;
}


/* A copy of s[0..n) as a malloc'd, NUL-terminated string. */
static char *
dupn(const char *s, size_t n)
{
	char *d = nedb__malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

/*
 * Parses a value (string, number, true, false, null) into the next slot
 * of e->vals; ctx names what came before it, for the message.
 */
static int
parse_value(struct parser *p, struct nql_expr *e, const char *ctx)
{
	const struct tok *t = &p->tok;
	const char *text = p->s + t->pos;
	size_t n = t->len;
	struct nql_span *v;
	char q[48], *lit;

	if (t->kind == TK_STR) {
		if (check_string(p, NULL, NULL))
			return -1;
	} else if (t->kind == TK_NUM) {
		if (nedb__number_len(text, n) != n)
			return fail(p, t->pos, "bad number '%s'",
				    quote(q, text, n));
	} else if (is_kw(p, "true")) {
		text = "true";
	} else if (is_kw(p, "false")) {
		text = "false";
	} else if (is_kw(p, "null")) {
		text = "null";
	} else if (t->kind == TK_WORD) {
		return fail(p, t->pos, "expected a value after %s, found '%s'"
			    " (strings are double-quoted)", ctx,
			    quote(q, text, n));
	} else
		return expected(p, "a value", ctx);
	v = nedb__realloc(e->vals, (e->nvals + 1) * sizeof *v);
	e->vals = v;
	if (!(lit = dupn(text, n)))
		return fail_oom(p);
	e->vals[e->nvals].p = lit;
	e->vals[e->nvals].len = n;
	e->nvals++;
	advance(p);
	return 0;
}

/*
 * Parses a non-negative integer (AS OF, LIMIT, OFFSET) that fits in 64
 * bits.  Leading zeros are accepted: it is a count, not a JSON value.
 */
static int
parse_uint(struct parser *p, uint64_t *out, const char *ctx)
{
	const struct tok *t = &p->tok;
	const char *s = p->s + t->pos;
	uint64_t v = 0;
	char q[48];

	if (t->kind != TK_NUM)
		return expected(p, "a non-negative integer", ctx);
	for (size_t i = 0; i < t->len; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (!is_digit(s[i]))
			return fail(p, t->pos, "expected a non-negative integer"
				    " after %s, found '%s'", ctx,
				    quote(q, s, t->len));
		if (v > (UINT64_MAX - d) / 10)
			return fail(p, t->pos, "number '%s' is too large",
				    quote(q, s, t->len));
		v = v * 10 + d;
	}
	*out = v;
	advance(p);
	return 0;
}

/* ---- paths ---- */

/* The one destructor of paths, whoever made them (nql.h). */
void
nql_path_free(struct nql_path *path)
{
	for (size_t i = 0; i < path->n; i++)
		free(path->parts[i]);
	free(path->parts);
	free(path->lens);
	free(path->dotted);
	memset(path, 0, sizeof *path);
}

/*
 * Parses a dotted path: an identifier, then '.' and identifiers or
 * digit-only parts (array indexes).  On error path is left for the
 * caller's cleanup (it owns whatever was filled in).
 */
static int
parse_path(struct parser *p, struct nql_path *path, const char *what,
	   const char *ctx)
{
	const struct tok *t = &p->tok;
	const char *s = p->s + t->pos;
	size_t i, start, n = 1;
	char q[48];

	if (t->kind != TK_WORD)
		return expected(p, what, ctx);
	for (i = 0; i < t->len; i++)
		n += s[i] == '.';
	if (!(path->parts = nedb__calloc(n, sizeof *path->parts)) ||
	    !(path->dotted = dupn(s, t->len)))
		return fail_oom(p);
	for (start = 0, i = 0; i <= t->len; i++) {
		bool digits = true, ident;

		if (i < t->len && s[i] != '.')
			continue;
		if (i == start)
			return fail(p, t->pos + i, "expected a field name "
				    "after '.'");
		for (size_t k = start; k < i; k++)
			digits = digits && is_digit(s[k]);
		ident = is_alpha(s[start]);
		if (!ident && !(digits && start > 0))
			return fail(p, t->pos + start, "bad field name '%s' in "
				    "path (want a name or an array index)",
				    quote(q, s + start, i - start));
		if (!(path->parts[path->n] = dupn(s + start, i - start)))
			return fail_oom(p);
		path->n++;
		start = i + 1;
	}
	advance(p);
	return 0;
}

/* ---- expressions ---- */

void
nql_expr_free(struct nql_expr *e)
{
	while (e) {
		struct nql_expr *next = e->a;

		nql_expr_free(e->b);
		nql_path_free(&e->path);
		for (size_t i = 0; i < e->nvals; i++)
			free((char *)e->vals[i].p);
		free(e->vals);
		free(e);
		e = next;		/* the left side, iteratively (3) */
	}
}

static struct nql_expr *
new_expr(struct parser *p, enum nql_expr_kind kind, struct nql_expr *a,
	 struct nql_expr *b)
{
	struct nql_expr *e = nedb__calloc(1, sizeof *e);

	if (!e) {
		nql_expr_free(a);
		nql_expr_free(b);
		fail_oom(p);
		return NULL;
	}
	e->kind = kind;
	e->a = a;
	e->b = b;
	return e;
}

/* "WHERE", "'('": what the last consumed token was, for messages. */
static const char *
prev_desc(struct parser *p, char *buf)
{
	const struct tok *t = &p->prev;
	size_t i, n = t->len > 40 ? 40 : t->len;

	if (t->kind == TK_WORD) {
		for (i = 0; i < n; i++)
			buf[i] = (char)(p->s[t->pos + i] >= 'a' &&
					p->s[t->pos + i] <= 'z' ?
					p->s[t->pos + i] - 32 : p->s[t->pos + i]);
		buf[n] = 0;
		return buf;
	}
	buf[0] = '\'';
	quote(buf + 1, p->s + t->pos, t->len);
	strcat(buf, "'");
	return buf;
}

static struct nql_expr *parse_or(struct parser *p);

static bool
is_clause_word(const struct parser *p)
{
	for (int c = 0; c < C__N; c++)
		if (is_kw(p, clause_word[c]))
			return true;
	return is_kw(p, "OFFSET");
}

/* path op value | path IN (...) | path EXISTS | path CONTAINS value */
static struct nql_expr *
parse_cond(struct parser *p)
{
	struct nql_expr *e;
	char ctx[56], q[48];
	struct tok ptok;
	bool clause_word_path;

	prev_desc(p, ctx);
	clause_word_path = is_clause_word(p);
	ptok = p->tok;
	if (!(e = new_expr(p, EX_CMP, NULL, NULL)))
		return NULL;
	if (parse_path(p, &e->path, "a condition", ctx))
		goto bad;
	if (p->tok.kind == TK_PUNCT && p->tok.op >= P_EQ) {
		static const enum nql_cmp cmp[] = {
			[P_EQ] = CMP_EQ, [P_NE] = CMP_NE, [P_LT] = CMP_LT,
			[P_LE] = CMP_LE, [P_GT] = CMP_GT, [P_GE] = CMP_GE
		};

		e->cmp = cmp[p->tok.op];
		advance(p);
		if (parse_value(p, e, prev_desc(p, ctx)))
			goto bad;
	} else if (is_kw(p, "IN")) {
		e->kind = EX_IN;
		advance(p);
		if (!is_punct(p, P_LPAREN)) {
			expected(p, "'('", "IN");
			goto bad;
		}
		do {
			advance(p);
			if (parse_value(p, e, prev_desc(p, ctx)))
				goto bad;
		} while (is_punct(p, P_COMMA));
		if (!is_punct(p, P_RPAREN)) {
			expected(p, "',' or ')'", "a value in the IN list");
			goto bad;
		}
		advance(p);
	} else if (is_kw(p, "EXISTS")) {
		e->kind = EX_EXISTS;
		advance(p);
	} else if (is_kw(p, "CONTAINS")) {
		e->kind = EX_CONTAINS;
		advance(p);
		if (parse_value(p, e, "CONTAINS"))
			goto bad;
	} else if (clause_word_path) {
		/* "WHERE LIMIT 5", "a = 1 AND ORDER BY x": no condition */
		fail(p, ptok.pos, "expected a condition after %s", ctx);
		goto bad;
	} else if (is_kw(p, "NOT")) {
		fail(p, p->tok.pos, "expected an operator after '%s' (NOT "
		     "goes before the condition)",
		     quote(q, p->s + ptok.pos, ptok.len));
		goto bad;
	} else {
		char what[100];

		snprintf(what, sizeof what, "'%s'",
			 quote(q, p->s + ptok.pos, ptok.len));
		expected(p, "an operator (= != < <= > >= IN EXISTS CONTAINS)",
			 what);
		goto bad;
	}
	return e;
bad:
	nql_expr_free(e);
	return NULL;
}

static struct nql_expr *
parse_primary(struct parser *p)
{
	struct nql_expr *e;
	size_t open;

	if (!is_punct(p, P_LPAREN))
		return parse_cond(p);
	if (++p->depth > MAX_DEPTH) {
		fail(p, p->tok.pos, "expression nested too deeply (more than "
		     "%d levels)", MAX_DEPTH);
		return NULL;
	}
	open = p->tok.pos;
	advance(p);
	if (!(e = parse_or(p)))
		return NULL;
	if (!is_punct(p, P_RPAREN)) {
		char what[64];

		snprintf(what, sizeof what, "the condition (to close the '(' "
			 "at column %zu)", open + 1);
		if (p->tok.kind == TK_EOF || bad_token(p))
			expected(p, "')'", what);
		else
			fail(p, p->tok.pos, "expected AND, OR or ')' after %s",
			     "the condition");
		nql_expr_free(e);
		return NULL;
	}
	p->depth--;
	advance(p);
	return e;
}

static struct nql_expr *
parse_not(struct parser *p)
{
	struct nql_expr *a;

	if (!is_kw(p, "NOT"))
		return parse_primary(p);
	if (++p->depth > MAX_DEPTH) {
		fail(p, p->tok.pos, "expression nested too deeply (more than "
		     "%d levels)", MAX_DEPTH);
		return NULL;
	}
	advance(p);
	if (!(a = parse_not(p)))
		return NULL;
	p->depth--;
	return new_expr(p, EX_NOT, a, NULL);
}

static struct nql_expr *
parse_and(struct parser *p)
{
	struct nql_expr *l, *r;

	if (!(l = parse_not(p)))
		return NULL;
	while (is_kw(p, "AND")) {
		advance(p);
		if (!(r = parse_not(p))) {
			nql_expr_free(l);
			return NULL;
		}
		if (!(l = new_expr(p, EX_AND, l, r)))
			return NULL;
	}
	return l;
}

static struct nql_expr *
parse_or(struct parser *p)
{
	struct nql_expr *l, *r;

	if (!(l = parse_and(p)))
		return NULL;
	while (is_kw(p, "OR")) {
		advance(p);
		if (!(r = parse_and(p))) {
			nql_expr_free(l);
			return NULL;
		}
		if (!(l = new_expr(p, EX_OR, l, r)))
			return NULL;
	}
	return l;
}

/* ---- clauses ---- */

/* FROM's collection, scanned raw up to a delimiter, then checked. */
static int
parse_coll(struct parser *p, struct nql_query *q)
{
	const char *s = p->s;
	size_t start = p->tok.pos, i = start;
	char qb[48];

	while (i < p->len && !is_space(s[i]) && !strchr(";(),\"=<>!", s[i]))
		i++;
	if (i == start)
		return expected(p, "a collection name", "FROM");
	if (i - start > MAX_COLL)
		return fail(p, start, "collection name longer than %d bytes",
			    MAX_COLL);
	for (size_t k = start; k < i; k++)
		if (!is_alpha(s[k]) && !(k > start && is_digit(s[k])))
			return fail(p, start, "bad collection name '%s' (want "
				    "[A-Za-z_][A-Za-z0-9_]*)",
				    quote(qb, s + start, i - start));
	if (!(q->coll = dupn(s + start, i - start)))
		return fail_oom(p);
	relex(p, i);
	return 0;
}

/* TRAVERSE's relation: [A-Za-z_][A-Za-z0-9_:-]*, scanned raw. */
static int
parse_traverse(struct parser *p, struct nql_query *q)
{
	const char *s = p->s;
	size_t start = p->tok.pos, i = start;

	if (p->tok.kind != TK_WORD)
		return expected(p, "a relation name", "TRAVERSE");
	while (i < p->len && (is_alnum(s[i]) || s[i] == ':' || s[i] == '-'))
		i++;
	if (!(q->traverse = dupn(s + start, i - start)))
		return fail_oom(p);
	relex(p, i);
	if (is_kw(p, "IN")) {
		q->traverse_in = true;
		advance(p);
	}
	return 0;
}

static int
parse_search(struct parser *p, struct nql_query *q)
{
	size_t n;

	if (p->tok.kind != TK_STR)
		return expected(p, "a double-quoted string", "SEARCH");
	if (check_string(p, &q->search, &n))
		return -1;
	if (memchr(q->search, 0, n))
		return fail(p, p->tok.pos, "SEARCH text contains a NUL "
			    "character");
	if (n == 0)
		return fail(p, p->tok.pos, "SEARCH text is empty");
	advance(p);
	return 0;
}

/* AS OF TIMESTAMP "time": the time (nedb_time_parse's forms) in ms;
 * the query resolves it to a seq against the database it runs on. */
static int
parse_as_of_time(struct parser *p, struct nql_query *q)
{
	char *text = NULL;
	size_t n;
	int rc;

	if (p->tok.kind != TK_STR)
		return expected(p, "a double-quoted time", "AS OF TIMESTAMP");
	if (check_string(p, &text, &n))
		return -1;
	rc = nedb_time_parse(text, n, &q->as_of_ms);
	free(text);
	if (rc)
		return fail(p, p->tok.pos, "%s", nedb_errmsg());
	q->as_of_time = true;
	advance(p);
	return 0;
}

static int
parse_group(struct parser *p, struct nql_query *q)
{
	static const struct {
		const char *kw;
		enum nql_agg fn;
	} aggs[] = {
		{"COUNT", AGG_COUNT}, {"SUM", AGG_SUM}, {"AVG", AGG_AVG},
		{"MIN", AGG_MIN}, {"MAX", AGG_MAX}
	};
	size_t k;

	if (!is_kw(p, "BY"))
		return expected(p, "BY", "GROUP");
	advance(p);
	q->has_group = true;
	if (parse_path(p, &q->group_by, "a field", "GROUP BY"))
		return -1;
	for (;;) {
		struct nql_aggspec *a;
		size_t at;

		if (q->naggs && is_punct(p, P_COMMA))
			advance(p);	/* "COUNT, SUM x" reads naturally */
		for (k = 0; k < sizeof aggs / sizeof *aggs; k++)
			if (is_kw(p, aggs[k].kw))
				break;
		if (k == sizeof aggs / sizeof *aggs) {
			if (q->naggs && p->prev.kind == TK_PUNCT)
				return expected(p, "an aggregate", "','");
			if (q->naggs)
				break;
			return fail(p, p->tok.pos, "GROUP BY needs an "
				    "aggregate (COUNT, SUM, AVG, MIN or MAX) "
				    "after the field");
		}
		a = nedb__realloc(q->aggs, (q->naggs + 1) * sizeof *a);
		q->aggs = a;
		a += q->naggs++;
		memset(a, 0, sizeof *a);
		a->fn = aggs[k].fn;
		at = p->tok.pos;
		advance(p);
		if (a->fn == AGG_COUNT) {
			if (is_punct(p, P_LPAREN) ||
			    (p->tok.kind == TK_WORD && !is_clause_word(p) &&
			     !is_kw(p, "SUM") && !is_kw(p, "AVG") &&
			     !is_kw(p, "MIN") && !is_kw(p, "MAX") &&
			     !is_kw(p, "COUNT")))
				return fail(p, p->tok.pos, "COUNT takes no "
					    "field");
		} else if (parse_path(p, &a->path, "a field", aggs[k].kw))
			return -1;
		for (size_t j = 0; j + 1 < q->naggs; j++)
			if (q->aggs[j].fn == a->fn &&
			    (a->fn == AGG_COUNT ||
			     !strcmp(q->aggs[j].path.dotted, a->path.dotted)))
				return fail(p, at, "aggregate %s%s%s given "
					    "twice", aggs[k].kw,
					    a->path.dotted ? " " : "",
					    a->path.dotted ? a->path.dotted
					    : "");
	}
	return 0;
}

static int
parse_order(struct parser *p, struct nql_query *q)
{
	if (!is_kw(p, "BY"))
		return expected(p, "BY", "ORDER");
	do {
		struct nql_order *o;

		advance(p);
		o = nedb__realloc(q->order, (q->norder + 1) * sizeof *o);
		q->order = o;
		o += q->norder++;
		memset(o, 0, sizeof *o);
		if (parse_path(p, &o->path, "a field",
			       q->norder == 1 ? "ORDER BY" : "','"))
			return -1;
		if (is_kw(p, "DESC")) {
			o->desc = true;
			advance(p);
		} else if (is_kw(p, "ASC"))
			advance(p);
	} while (is_punct(p, P_COMMA));
	return 0;
}

static int
parse_clause(struct parser *p, struct nql_query *q, enum clause c)
{
	switch (c) {
	case C_AS_OF:
		if (!is_kw(p, "OF"))
			return expected(p, "OF", "AS");
		advance(p);
		q->has_as_of = true;
		if (is_kw(p, "TIMESTAMP")) {
			advance(p);
			return parse_as_of_time(p, q);
		}
		return parse_uint(p, &q->as_of, "AS OF");
	case C_WHERE:
		return (q->where = parse_or(p)) ? 0 : -1;
	case C_SEARCH:
		return parse_search(p, q);
	case C_GROUP:
		return parse_group(p, q);
	case C_ORDER:
		return parse_order(p, q);
	case C_TRAVERSE:
		return parse_traverse(p, q);
	case C_TRACE:
		if (!is_kw(p, "caused_by"))
			return expected(p, "caused_by", "TRACE");
		q->trace = true;
		advance(p);
		return 0;
	case C_LIMIT:
		q->has_limit = true;
		if (parse_uint(p, &q->limit, "LIMIT"))
			return -1;
		if (!is_kw(p, "OFFSET"))
			return 0;
		advance(p);
		return parse_uint(p, &q->offset, "OFFSET");
	default:
		return -1;
	}
}

/* The clauses after FROM coll, each at most once, in grammar order. */
static int
parse_clauses(struct parser *p, struct nql_query *q)
{
	bool seen[C__N] = {false};
	int last = -1;
	char qb[48];

	for (;;) {
		const struct tok *t = &p->tok;
		int c;

		if (t->kind == TK_EOF)
			return 0;
		if (is_punct(p, P_SEMI)) {
			advance(p);
			if (p->tok.kind == TK_EOF)
				return 0;
			return fail(p, p->tok.pos, "unexpected text after "
				    "';'");
		}
		if (t->kind != TK_WORD) {
			if (is_punct(p, P_RPAREN))
				return fail(p, t->pos, "unmatched ')'");
			if (bad_token(p))
				return -1;
			if (t->kind == TK_STR)
				return fail(p, t->pos, "unexpected string");
			return fail(p, t->pos, "unexpected '%s'",
				    quote(qb, p->s + t->pos, t->len));
		}
		for (c = 0; c < C__N; c++)
			if (is_kw(p, clause_word[c]))
				break;
		if (c == C__N) {
			if (is_kw(p, "OFFSET"))
				return fail(p, t->pos, seen[C_LIMIT] ?
					    "OFFSET given twice" :
					    "OFFSET needs a LIMIT before it");
			if (is_kw(p, "FROM"))
				return fail(p, t->pos, "FROM given twice");
			if (is_kw(p, "EXPLAIN"))
				return fail(p, t->pos, "EXPLAIN must come "
					    "first");
			if (last == C_WHERE && (is_kw(p, "IN") ||
			    is_kw(p, "EXISTS") || is_kw(p, "CONTAINS") ||
			    is_kw(p, "NOT")))
				return fail(p, t->pos, "unexpected '%s' after "
					    "the condition",
					    quote(qb, p->s + t->pos, t->len));
			return fail(p, t->pos, "unknown clause '%s'",
				    quote(qb, p->s + t->pos, t->len));
		}
		if (seen[c])
			return fail(p, t->pos, "%s given twice",
				    clause_name[c]);
		if (c < last)
			return fail(p, t->pos, "%s must come before %s",
				    clause_name[c], clause_name[last]);
		seen[c] = true;
		last = c;
		advance(p);
		if (parse_clause(p, q, (enum clause)c))
			return -1;
	}
}

void
nql_free(struct nql_query *q)
{
	if (!q)
		return;
	free(q->coll);
	nql_expr_free(q->where);
	free(q->search);
	nql_path_free(&q->group_by);
	for (size_t i = 0; i < q->naggs; i++)
		nql_path_free(&q->aggs[i].path);
	free(q->aggs);
	for (size_t i = 0; i < q->norder; i++)
		nql_path_free(&q->order[i].path);
	free(q->order);
	free(q->traverse);
	free(q);
}

int
nql_parse(const char *text, struct nql_query **out, struct nql_error *err)
{
	struct nql_error dummy;
	struct parser p = {0};
	struct nql_query *q = NULL;

	*out = NULL;
	p.err = err ? err : &dummy;
	p.err->pos = 0;
	p.err->msg[0] = 0;
	if (!text) {
		fail(&p, 0, "no query");
		goto done;
	}
	p.s = text;
	p.len = strlen(text);
	lex(&p);
	q = nedb__calloc(1, sizeof *q);
	if (is_kw(&p, "EXPLAIN")) {
		q->explain = true;
		advance(&p);
	}
	if (!is_kw(&p, "FROM")) {
		if (q->explain)
			expected(&p, "FROM", "EXPLAIN");
		else if (!bad_token(&p))
			fail(&p, p.tok.pos, "expected FROM at the start of the "
			     "query");
		goto done;
	}
	advance(&p);
	if (parse_coll(&p, q))
		goto done;
	parse_clauses(&p, q);
done:
	if (p.rc) {
		nql_free(q);
		/* the last-error call agrees with err, for callers that
		 * report through nedb_errmsg() */
		return nedb__err(p.rc, "%s", p.err->msg);
	}
	*out = q;
	return 0;
}

/* Appends s[0..n) to buf (of size cap, used *len), always terminated. */
static void
put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	if (*len + 1 >= cap)
		return;
	if (n > cap - 1 - *len)
		n = cap - 1 - *len;
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = 0;
}

void
nql_error_format(char *buf, size_t n, const char *text,
		 const struct nql_error *err)
{
	size_t len = 0, tlen, pos, i;
	char head[240];

	if (!buf || n == 0)
		return;
	buf[0] = 0;
	if (!text)
		text = "";
	tlen = strlen(text);
	pos = err->pos > tlen ? tlen : err->pos;
	snprintf(head, sizeof head, "syntax error at column %zu: %s\n  ",
		 pos + 1, err->msg);
	put(buf, n, &len, head, strlen(head));
	/* the query on one line: control characters (newlines, tabs)
	 * become spaces so that the caret lines up by byte */
	for (i = 0; i < tlen; i++) {
		char c = (unsigned char)text[i] < 0x20 ? ' ' : text[i];

		put(buf, n, &len, &c, 1);
	}
	put(buf, n, &len, "\n  ", 3);
	for (i = 0; i < pos; i++)
		put(buf, n, &len, " ", 1);
	put(buf, n, &len, "^", 1);
}
