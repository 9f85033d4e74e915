/*
 * table.c - rows of JSON as a table for people (--table, the shell's
 * .mode table), drawn with box-drawing characters as sqlite3 -box does.
 *
 * The rules (nedb(7), TABLES):
 *  - columns are the union of the rows' top-level members, in the order
 *    they are first seen; a row that is not an object is one column,
 *    "value";
 *  - a string shows its text (control characters as JSON escapes), a
 *    member a row lacks an empty cell, anything else its compact JSON
 *    (null, true, numbers as written, nested arrays and objects);
 *    numbers are right-aligned, the rest left-aligned, headers centred;
 *  - widths are display columns (wcwidth: a CJK character or an emoji
 *    takes two, a combining mark none), from the terminal's width
 *    (cli_term_width); when the natural widths do not fit, the widest
 *    columns are narrowed first and a cut cell ends with '…';
 *  - a single row that does not fit, or rows whose columns would have
 *    to be narrowed below MIN_COL to fit, are shown expanded, one line
 *    per member (as psql's \x auto), so that wide rows stay readable.
 *
 * Everything is buffered until cli_table_print: widths depend on every
 * row.  Memory is the rows' text, as for --array.
 */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>
#include "cli.h"

struct cell {
	char *text;		/* UTF-8, what is shown; NULL: absent */
	char *raw;		/* the member's JSON text */
	int width;		/* its display width */
	bool num;		/* right-aligned */
};

struct cli_table {
	char **cols;		/* column names, first seen first */
	int *natural;		/* widest cell or header of each */
	size_t ncols, capcols;
	struct cell **rows;	/* rows[r][c], c < ncols at the time */
	size_t *rowcols;	/* cells allocated in each row */
	size_t nrows, caprows;
};

static locale_t utf8;

static void *
xrealloc(void *p, size_t n)
{
	if (!(p = realloc(p, n ? n : 1))) {
		fputs("nedb: out of memory\n", stderr);
		abort();
	}
	return p;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = xrealloc(NULL, n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

/* Decodes one UTF-8 sequence at s (n bytes left); *cp gets the code
 * point or U+FFFD; returns its length (at least 1). */
static size_t
utf8_next(const unsigned char *s, size_t n, unsigned *cp)
{
	unsigned c = s[0], need, v, min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		need = 1, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		need = 2, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 3, v = c & 0x07, min = 0x10000;
	else
		goto bad;
	if (n <= need)
		goto bad;
	for (unsigned i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		goto bad;
	*cp = v;
	return need + 1;
bad:
	*cp = 0xfffd;
	return 1;
}

/* The display width of one code point (wcwidth in a UTF-8 locale,
 * whatever the process's own is); unprintable ones count 1. */
static int
cp_width(unsigned cp)
{
	locale_t old;
	int w;

	if (cp < 0x7f)
		return cp >= 0x20;
	/* an emoji's skin tone joins the emoji before it (glibc counts 2) */
	if (cp >= 0x1f3fb && cp <= 0x1f3ff)
		return 0;
	if (!utf8 && !(utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", 0)))
		return 1;
	old = uselocale(utf8);
	w = wcwidth((wchar_t)cp);
	uselocale(old);
	return w < 0 ? 1 : w;
}

int
cli_text_width(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;
	unsigned cp;

	for (size_t i = 0; i < n;) {
		i += utf8_next(p + i, n - i, &cp);
		w += cp_width(cp);
	}
	return w;
}

/* Appends the display text of a JSON string's contents: decoded, with
 * control characters escaped so that a cell stays on one line. */
static char *
show_string(const char *lit, size_t len)
{
	nedb_buf b = {0};
	char *dec;

	if (nedb_json_string(lit, len, &dec))
		return xstrndup(lit, len);	/* a NUL in it: as JSON */
	for (const unsigned char *p = (unsigned char *)dec; *p; p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			nedb_buf_add(&b, p, 1);
			continue;
		}
		switch (*p) {
		case '\n': nedb_buf_puts(&b, "\\n"); break;
		case '\t': nedb_buf_puts(&b, "\\t"); break;
		case '\r': nedb_buf_puts(&b, "\\r"); break;
		default: nedb_buf_printf(&b, "\\u%04x", *p);
		}
	}
	free(dec);
	nedb_buf_add(&b, "", 1);
	return b.p;
}

static void
set_cell(struct cell *c, const char *v, size_t vlen)
{
	c->raw = xstrndup(v, vlen);
	if (vlen && *v == '"')
		c->text = show_string(v, vlen);
	else
		c->text = xstrndup(v, vlen);
	c->num = vlen && (*v == '-' || (*v >= '0' && *v <= '9'));
	c->width = cli_text_width(c->text, strlen(c->text));
}

cli_table *
cli_table_new(void)
{
	cli_table *t = calloc(1, sizeof *t);

	if (!t) {
		fputs("nedb: out of memory\n", stderr);
		abort();
	}
	return t;
}

/* The column named name (created when new). */
static size_t
column(cli_table *t, const char *name)
{
	size_t c;

	for (c = 0; c < t->ncols; c++)
		if (!strcmp(t->cols[c], name))
			return c;
	if (t->ncols == t->capcols) {
		t->capcols = t->capcols ? 2 * t->capcols : 16;
		t->cols = xrealloc(t->cols, t->capcols * sizeof *t->cols);
		t->natural = xrealloc(t->natural,
				      t->capcols * sizeof *t->natural);
	}
	t->cols[c] = xrealloc(NULL, strlen(name) + 1);
	strcpy(t->cols[c], name);
	t->natural[c] = cli_text_width(name, strlen(name));
	return t->ncols++;
}

static struct cell *
row_cell(cli_table *t, size_t r, size_t c)
{
	if (c >= t->rowcols[r]) {
		size_t n = t->ncols > c ? t->ncols : c + 1;

		t->rows[r] = xrealloc(t->rows[r], n * sizeof **t->rows);
		memset(t->rows[r] + t->rowcols[r], 0,
		       (n - t->rowcols[r]) * sizeof **t->rows);
		t->rowcols[r] = n;
	}
	return &t->rows[r][c];
}

struct member_ctx {
	cli_table *t;
	size_t r;
};

static int
member(const char *key, size_t klen, const char *v, size_t vlen,
       void *payload)
{
	struct member_ctx *m = payload;
	char *name;
	struct cell *cell;
	size_t c;

	if (nedb_json_string(key, klen, &name))
		name = xstrndup(key, klen);
	c = column(m->t, name);
	free(name);
	cell = row_cell(m->t, m->r, c);
	free(cell->text);		/* a repeated member: the last */
	free(cell->raw);
	set_cell(cell, v, vlen);
	if (cell->width > m->t->natural[c])
		m->t->natural[c] = cell->width;
	return 0;
}

void
cli_table_row(cli_table *t, const char *json, size_t len)
{
	struct member_ctx m = {t, t->nrows};

	while (len && (json[len - 1] == '\n' || json[len - 1] == ' '))
		len--;
	if (t->nrows == t->caprows) {
		t->caprows = t->caprows ? 2 * t->caprows : 64;
		t->rows = xrealloc(t->rows, t->caprows * sizeof *t->rows);
		t->rowcols = xrealloc(t->rowcols,
				      t->caprows * sizeof *t->rowcols);
	}
	t->rows[t->nrows] = NULL;
	t->rowcols[t->nrows] = 0;
	t->nrows++;
	if (len && *json == '{' && nedb_json_each(json, len, member, &m) == 0)
		return;
	/* not an object: one cell in the column "value" */
	member("\"value\"", 7, json, len, &m);
}

int
cli_term_width(int fd)
{
	const char *env = getenv("COLUMNS");
	struct winsize ws;

	if (env && *env) {
		long n = strtol(env, NULL, 10);

		if (n > 0 && n < 100000)
			return (int)n;
	}
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Prints n copies of s. */
static void
rep(FILE *f, const char *s, int n)
{
	while (n-- > 0)
		fputs(s, f);
}

/* The rule under or over the rows: l, m, r the corners and joints. */
static void
rule(FILE *f, const int *w, size_t n, const char *l, const char *m,
     const char *r)
{
	fputs(l, f);
	for (size_t c = 0; c < n; c++) {
		rep(f, "─", w[c] + 2);
		fputs(c + 1 < n ? m : r, f);
	}
	fputc('\n', f);
}

/*
 * Prints text in a field of width w: cut with '…' when wider, padded
 * left (align 1: right), or both (align 2: centred).
 */
static void
field(FILE *f, const char *text, int tw, int w, int align)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t n = strlen(text), i = 0;
	int used = 0, pad;
	unsigned cp;

	if (tw <= w) {
		pad = w - tw;
		rep(f, " ", align == 1 ? pad : align == 2 ? pad / 2 : 0);
		fputs(text, f);
		rep(f, " ", align == 1 ? 0 : align == 2 ? pad - pad / 2 : pad);
		return;
	}
	/* room for w - 1 columns of text and the ellipsis */
	while (i < n) {
		size_t k = utf8_next(p + i, n - i, &cp);
		int cw = cp_width(cp);

		if (used + cw > w - 1)
			break;
		if (cp == 0xfffd && k == 1)
			fputs("\xef\xbf\xbd", f);
		else
			fwrite(p + i, 1, k, f);
		used += cw;
		i += k;
	}
	fputs("…", f);
	rep(f, " ", w - 1 - used);
}

/* The least width a column is narrowed to before rows are expanded:
 * its natural width, or MIN_COL when wider. */
#define MIN_COL 8

static int
capped(const int *w, size_t n, int cap)
{
	int total = 0;

	for (size_t c = 0; c < n; c++)
		total += w[c] < cap ? w[c] : cap;
	return total;
}

/*
 * Narrows the widths w[0..n) (natural widths) so that their sum is at
 * most room: the widest are cut first, down to the largest common cap
 * that fits (found by bisection: a cell may be megabytes wide), none
 * below MIN_COL; what is still too wide is taken from the last columns.
 */
static void
fit(int *w, size_t n, int room)
{
	int lo = MIN_COL, hi = 0, total;

	for (size_t c = 0; c < n; c++)
		if (w[c] > hi)
			hi = w[c];
	if (capped(w, n, hi) <= room)
		return;
	if (capped(w, n, lo) > room)
		hi = lo;
	while (lo < hi) {	/* the largest cap whose total fits */
		int mid = lo + (hi - lo + 1) / 2;

		if (capped(w, n, mid) <= room)
			lo = mid;
		else
			hi = mid - 1;
	}
	total = 0;
	for (size_t c = 0; c < n; c++) {
		if (w[c] > lo)
			w[c] = lo;
		total += w[c];
	}
	for (size_t c = n; total > room && c-- > 0;)
		while (total > room && w[c] > 1) {
			w[c]--;
			total--;
		}
}

static const struct cell blank = {"", "", 0, false};

static int
min_width(const cli_table *t)
{
	return capped(t->natural, t->ncols, MIN_COL);
}

static const struct cell *
get(const cli_table *t, size_t r, size_t c)
{
	if (c < t->rowcols[r] && t->rows[r][c].text)
		return &t->rows[r][c];
	return &blank;
}

/*
 * Rows too wide for the terminal, expanded: a box of two columns, each
 * member on a line of its own (name, value), a rule between rows;
 * members a row lacks are left out.
 */
static void
print_expanded(cli_table *t, FILE *f, int width)
{
	int w[2] = {1, 1};
	size_t c, r;

	for (c = 0; c < t->ncols; c++) {
		int kw = cli_text_width(t->cols[c], strlen(t->cols[c]));

		if (kw > w[0])
			w[0] = kw;
		for (r = 0; r < t->nrows; r++)
			if (get(t, r, c)->width > w[1])
				w[1] = get(t, r, c)->width;
	}
	fit(w, 2, width - 7);
	rule(f, w, 2, "┌", "┬", "┐");
	for (r = 0; r < t->nrows; r++) {
		if (r)
			rule(f, w, 2, "├", "┼", "┤");
		for (c = 0; c < t->ncols; c++) {
			const struct cell *v = get(t, r, c);

			if (v == &blank)
				continue;
			fputs("│ ", f);
			field(f, t->cols[c],
			      cli_text_width(t->cols[c], strlen(t->cols[c])),
			      w[0], 0);
			fputs(" │ ", f);
			field(f, v->text, v->width, w[1], 0);
			fputs(" │\n", f);
		}
	}
	rule(f, w, 2, "└", "┴", "┘");
}

void
cli_table_print(cli_table *t, FILE *f, int width)
{
	int *w, room, total = 0;
	size_t c, r;

	if (!t->nrows)
		return;
	/* "│ a │ b │": three columns of frame per column, and one */
	room = width - 3 * (int)t->ncols - 1;
	for (c = 0; c < t->ncols; c++)
		total += t->natural[c];
	if (t->ncols > 1 && total > room &&
	    (t->nrows == 1 || min_width(t) > room)) {
		print_expanded(t, f, width);
		return;
	}
	w = xrealloc(NULL, t->ncols * sizeof *w);
	memcpy(w, t->natural, t->ncols * sizeof *w);
	fit(w, t->ncols, room);
	rule(f, w, t->ncols, "┌", "┬", "┐");
	fputs("│", f);
	for (c = 0; c < t->ncols; c++) {
		fputc(' ', f);
		field(f, t->cols[c], cli_text_width(t->cols[c],
						    strlen(t->cols[c])),
		      w[c], 2);
		fputs(" │", f);
	}
	fputc('\n', f);
	rule(f, w, t->ncols, "├", "┼", "┤");
	for (r = 0; r < t->nrows; r++) {
		fputs("│", f);
		for (c = 0; c < t->ncols; c++) {
			const struct cell *v = get(t, r, c);

			fputc(' ', f);
			field(f, v->text, v->width, w[c], v->num);
			fputs(" │", f);
		}
		fputc('\n', f);
	}
	rule(f, w, t->ncols, "└", "┴", "┘");
	free(w);
}

/* A CSV field (RFC 4180): quoted when it holds a comma, a quote or a
 * line break; a string's text decoded, anything else its JSON. */
static void
csv_field(FILE *f, const char *raw, const char *shown)
{
	char *dec = NULL;
	const char *s = shown;

	if (*raw == '"' && nedb_json_string(raw, strlen(raw), &dec) == 0)
		s = dec;
	else if (*raw)
		s = raw;
	if (strpbrk(s, ",\"\r\n")) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else
		fputs(s, f);
	free(dec);
}

void
cli_table_print_csv(cli_table *t, FILE *f)
{
	size_t c, r;

	if (!t->nrows)
		return;
	for (c = 0; c < t->ncols; c++) {
		if (c)
			fputc(',', f);
		csv_field(f, "", t->cols[c]);
	}
	fputs("\r\n", f);
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const struct cell *v = get(t, r, c);

			if (c)
				fputc(',', f);
			csv_field(f, v->raw, v->text);
		}
		fputs("\r\n", f);
	}
}

void
cli_table_print_lines(cli_table *t, FILE *f)
{
	int kw = 0;
	size_t c, r;

	for (c = 0; c < t->ncols; c++) {
		int w = cli_text_width(t->cols[c], strlen(t->cols[c]));

		if (w > kw)
			kw = w;
	}
	for (r = 0; r < t->nrows; r++) {
		if (r)
			fputc('\n', f);
		for (c = 0; c < t->ncols; c++) {
			const struct cell *v = get(t, r, c);

			if (v == &blank)
				continue;
			rep(f, " ", kw - cli_text_width(t->cols[c],
							strlen(t->cols[c])));
			fprintf(f, "%s = %s\n", t->cols[c], v->text);
		}
	}
}

void
cli_table_clear(cli_table *t)
{
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->rowcols[r]; c++)
			free(t->rows[r][c].text), free(t->rows[r][c].raw);
		free(t->rows[r]);
	}
	for (size_t c = 0; c < t->ncols; c++)
		free(t->cols[c]);
	t->nrows = t->ncols = 0;
}

void
cli_table_free(cli_table *t)
{
	if (!t)
		return;
	cli_table_clear(t);
	free(t->cols);
	free(t->natural);
	free(t->rows);
	free(t->rowcols);
	free(t);
}
