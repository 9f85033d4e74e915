/*
 * nedb-sql - SQL with sqlite3's answers (nedb-sql(1)): the argument, or
 * a script of statements on stdin, each run by nedb_sql.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-sql [options] [SQL]\n"
"\n"
"Runs SQL statements (the argument, or a script on stdin, separated by\n"
"';') on the database, with sqlite3's answers; see nedb-sql(1).  Rows\n"
"print as NDJSON objects keyed by column name, or as sqlite3 prints them\n"
"with --mode.  A statement that writes is atomic; BEGIN ... COMMIT makes\n"
"several one.\n"
"\n"
"Options:\n"
"  -m, --mode MODE       json (NDJSON, the default), list (sqlite3's:\n"
"                        values joined by '|'), csv or table\n"
"      --header          list and csv: print the column names first\n"
"      --bail            stop at the first statement that fails (the\n"
"                        argument always does; a script goes on, as\n"
"                        sqlite3's does)\n"
"  -e, --exit-status     exit 1 when no statement returned a row\n"
CLI_TABLE_HELP
CLI_PROGRESS_HELP;

enum { OPT_HEADER = OPT_CMD, OPT_BAIL };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	CLI_PROGRESS_LONGOPTS,
	{"mode", required_argument, 0, 'm'},
	{"header", no_argument, 0, OPT_HEADER},
	{"bail", no_argument, 0, OPT_BAIL},
	{"exit-status", no_argument, 0, 'e'},
	{0, 0, 0, 0}
};

enum mode { M_JSON, M_LIST, M_CSV, M_TABLE };

static enum mode mode = M_JSON;
static bool header;
static uint64_t nrows;
static nedb_buf line;
static bool first;		/* the statement's first row is next */

/* table mode: the statement's rows, printed at its end */
static char **cells;		/* ncols per row, the header first */
static size_t ncells, capcells, tcols;

static void
out(const char *s, size_t n)
{
	fwrite(s, 1, n, stdout);
}

/* sqlite3's needCsvQuote: space, quotes, controls, non-ASCII. */
static bool
csv_special(unsigned char c)
{
	return c < 0x21 || c == '"' || c == '\'' || c >= 0x7f;
}

static void
csv_field(const char *s, size_t n, bool text)
{
	bool quote = text && n == 0;

	for (size_t i = 0; i < n && !quote; i++)
		quote = csv_special((unsigned char)s[i]) || s[i] == ',';
	if (!quote) {
		out(s, n);
		return;
	}
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"')
			putchar('"');
		putchar(s[i]);
	}
	putchar('"');
}

static void
cell_add(const char *s, size_t n)
{
	if (ncells == capcells) {
		capcells = capcells ? capcells * 2 : 64;
		cells = realloc(cells, capcells * sizeof *cells);
		if (!cells)
			cli_failf(NEDB_EIO, "out of memory");
	}
	cells[ncells] = malloc(n + 1);
	if (!cells[ncells])
		cli_failf(NEDB_EIO, "out of memory");
	memcpy(cells[ncells], s, n);
	cells[ncells][n] = 0;
	ncells++;
}

/* A cell's display width: UTF-8 characters, tabs to the next 8. */
static size_t
width(const char *s, size_t n)
{
	size_t w = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\t')
			w = (w + 8) & ~(size_t)7;
		else if ((c & 0xc0) != 0x80)
			w++;
	}
	return w;
}

static void
pad(size_t n)
{
	while (n--)
		putchar(' ');
}

static void
table_rule(const size_t *w)
{
	for (size_t c = 0; c < tcols; c++) {
		putchar('+');
		for (size_t i = 0; i < w[c] + 2; i++)
			putchar('-');
	}
	puts("+");
}

/* The i-th line of a cell, or NULL past its last (a final newline
 * ends the cell rather than starting an empty line). */
static const char *
cell_line(const char *s, size_t i, size_t *n)
{
	const char *p = s;

	for (size_t k = 0; k < i; k++) {
		const char *nl = strchr(p, '\n');

		if (!nl)
			return NULL;
		p = nl + 1;
	}
	if (i > 0 && !*p)
		return NULL;
	*n = strcspn(p, "\n");
	return p;
}

static void
table_flush(void)
{
	size_t nrow, *w;

	if (!ncells || !tcols)
		goto done;
	nrow = ncells / tcols;
	w = calloc(tcols, sizeof *w);
	if (!w)
		cli_failf(NEDB_EIO, "out of memory");
	for (size_t r = 0; r < nrow; r++)
		for (size_t c = 0; c < tcols; c++) {
			const char *s = cells[r * tcols + c];
			size_t n;

			for (size_t k = 0; (s = cell_line(cells[r * tcols + c],
							  k, &n)); k++)
				if (width(s, n) > w[c])
					w[c] = width(s, n);
		}
	table_rule(w);
	for (size_t r = 0; r < nrow; r++) {
		for (size_t k = 0;; k++) {
			bool any = false;

			for (size_t c = 0; c < tcols; c++) {
				size_t n = 0;

				any |= cell_line(cells[r * tcols + c], k, &n)
				       != NULL;
			}
			if (!any && k)
				break;
			for (size_t c = 0; c < tcols; c++) {
				size_t n = 0, cw;
				const char *s = cell_line(cells[r * tcols + c],
							  k, &n);

				if (!s)
					s = "", n = 0;
				cw = width(s, n);
				fputs("| ", stdout);
				if (r == 0) {
					pad((w[c] - cw) / 2);
					out(s, n);
					pad((w[c] - cw + 1) / 2);
				} else {
					size_t col = 0;

					for (size_t i = 0; i < n; i++)
						if (s[i] == '\t') {
							size_t to = (col + 8) &
								    ~(size_t)7;

							pad(to - col);
							col = to;
						} else {
							putchar(s[i]);
							col += ((unsigned char)
								s[i] & 0xc0) !=
							       0x80;
						}
					pad(w[c] - cw);
				}
				putchar(' ');
			}
			puts("|");
			if (!any)
				break;
		}
		table_rule(w);
	}
	free(w);
done:
	for (size_t i = 0; i < ncells; i++)
		free(cells[i]);
	ncells = 0;
	tcols = 0;
}

static int
row(const nedb_sql_row *r, void *payload)
{
	(void)payload;
	nrows++;
	cli_progress_clear();	/* rows on the same terminal */
	if (r->plan) {
		cli_print(r->plan, r->planlen);
		return 0;
	}
	switch (mode) {
	case M_JSON:
		line.len = 0;
		if (nedb_sql_row_json(&line, r))
			cli_failf(NEDB_EIO, "out of memory");
		cli_print(line.p, line.len);
		break;
	case M_LIST:
	case M_CSV:
		if (first && header) {
			for (size_t i = 0; i < r->ncols; i++) {
				if (i)
					putchar(mode == M_CSV ? ',' : '|');
				if (mode == M_CSV)
					csv_field(r->names[i],
						  strlen(r->names[i]), false);
				else
					fputs(r->names[i], stdout);
			}
			putchar('\n');
		}
		for (size_t i = 0; i < r->ncols; i++) {
			if (i)
				putchar(mode == M_CSV ? ',' : '|');
			line.len = 0;
			nedb_sql_value_text(&line, &r->v[i]);
			if (mode == M_CSV)
				csv_field(line.p ? line.p : "", line.len,
					  r->v[i].type == NEDB_SQL_TEXT);
			else
				out(line.p ? line.p : "", line.len);
		}
		putchar('\n');
		break;
	case M_TABLE:
		if (first) {
			table_flush();
			tcols = r->ncols;
			for (size_t i = 0; i < r->ncols; i++)
				cell_add(r->names[i], strlen(r->names[i]));
		}
		if (r->ncols != tcols) {
			/* a schemaless row of other columns: a new table */
			table_flush();
			tcols = r->ncols;
			for (size_t i = 0; i < r->ncols; i++)
				cell_add(r->names[i], strlen(r->names[i]));
		}
		for (size_t i = 0; i < r->ncols; i++) {
			line.len = 0;
			nedb_sql_value_text(&line, &r->v[i]);
			cell_add(line.p ? line.p : "", line.len);
		}
		break;
	}
	first = false;
	return 0;
}

/* Line and column (from 1) of byte pos in text. */
static void
where(const char *text, size_t pos, size_t *ln, size_t *col,
      size_t *bol)
{
	*ln = 1;
	*bol = 0;
	for (size_t i = 0; i < pos && text[i]; i++)
		if (text[i] == '\n') {
			(*ln)++;
			*bol = i + 1;
		}
	*col = pos - *bol + 1;
}

/*
 * Reports a failed statement: "nedb-sql: [line L: ]message"; a syntax
 * error says where; on a terminal the line and a caret follow.
 */
static void
report(int rc, const char *text, size_t start, bool script)
{
	const char *msg = nedb_errmsg();
	long pos = nedb_errpos();
	size_t ln, col, bol;

	cli_progress_clear();	/* the error on a line of its own */
	fflush(stdout);
	if (!*msg) {
		cli_error(rc);
		return;
	}
	/* the statement's line is its first word's */
	while (text[start] == ' ' || text[start] == '\t' ||
	       text[start] == '\n' || text[start] == '\r')
		start++;
	if (pos >= 0)
		where(text, (size_t)pos, &ln, &col, &bol);
	else
		where(text, start, &ln, &col, &bol);
	if (!strncmp(msg, "syntax error: ", 14) && pos >= 0) {
		if (strchr(text, '\n'))
			fprintf(stderr, "%s: syntax error at line %zu, column "
				"%zu: %s\n", cli.prog, ln, col, msg + 14);
		else
			fprintf(stderr, "%s: syntax error at column %zu: %s\n",
				cli.prog, col, msg + 14);
	} else if (script && strchr(text, '\n'))
		fprintf(stderr, "%s: line %zu: %s\n", cli.prog, ln, msg);
	else
		fprintf(stderr, "%s: %s\n", cli.prog, msg);
	if (pos >= 0 && isatty(STDERR_FILENO)) {
		size_t n = strcspn(text + bol, "\n");

		fputs("  ", stderr);
		for (size_t i = 0; i < n; i++)
			fputc((unsigned char)text[bol + i] < 0x20 ? ' ' :
			      text[bol + i], stderr);
		fprintf(stderr, "\n  %*s^\n", (int)(col - 1), "");
	}
}

int
main(int argc, char **argv)
{
	bool exit_status = false, bail = false, script;
	nedb_buf text = {0};
	int c, first_err = 0;
	nedb *db;

	cli_init("nedb-sql", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "m:e",
				longopts, NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		switch (c) {
		case 'm':
			if (!strcmp(optarg, "json"))
				mode = M_JSON;
			else if (!strcmp(optarg, "list"))
				mode = M_LIST;
			else if (!strcmp(optarg, "csv"))
				mode = M_CSV;
			else if (!strcmp(optarg, "table"))
				mode = M_TABLE;
			else
				cli_usage("bad mode '%s': want json, list, csv "
					  "or table", optarg);
			break;
		case OPT_HEADER: header = true; break;
		case OPT_BAIL: bail = true; break;
		case 'e': exit_status = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		cli_usage("too many arguments: quote the SQL");
	script = argc == 0;
	if (argc == 1)
		nedb_buf_puts(&text, argv[0]);
	else
		cli_read_stdin(&text);
	if (!text.len)
		cli_usage("missing SQL");
	if (memchr(text.p, 0, text.len))
		cli_failf(NEDB_EINPUT, "the SQL holds a NUL byte");
	if (!script)
		bail = true;
	db = cli_open(true);
	/* a script's progress: statements run, and how far into its text */
	if (script)
		cli_progress_begin("sql", "statements");
	for (size_t pos = 0, nstmt = 0; pos < text.len;) {
		size_t start = pos;
		int rc;

		first = true;
		rc = nedb_sql(db, text.p, &pos, row, NULL);
		if (script)
			cli_progress_set(++nstmt, pos, text.len);
		if (mode == M_TABLE)
			table_flush();
		if (rc) {
			report(rc, text.p, start, script);
			if (!first_err)
				first_err = rc;
			if (bail)
				break;
		}
		if (pos <= start)
			break;
	}
	if (script)
		cli_progress_end();
	fflush(stdout);
	nedb_close(db);
	cli.open = NULL;
	nedb_buf_free(&text);
	nedb_buf_free(&line);
	free(cells);
	cli_finish();
	if (first_err)
		return nedb_exit_status(first_err);
	return exit_status && !nrows ? nedb_exit_status(NEDB_ENOTFOUND) : 0;
}
