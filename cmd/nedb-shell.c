/*
 * nedb-shell - the interactive shell of nedb ("nedb" alone, "nedb
 * shell"): NQL and SQL statements and dot-commands, with readline's line
 * editing, history and completion; or, with standard input not a
 * terminal, a script run as sqlite3 runs one.
 *
 * Statements run through the library (nedb_query_as_of for NQL, nedb_sql
 * for SQL: sql_run), which reports errors instead of exiting, so an
 * error is printed and the shell goes on; both hand their rows to
 * out_row, so that every mode draws them alike.
 *
 * Signals: while a line is being edited, Ctrl-C drops the statement
 * typed so far; while a statement runs, it stops it (nedb_interrupt
 * stops the query at its next candidate, the row callback at its next
 * row).
 * Ctrl-D on an empty line leaves.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <readline/history.h>
#include <readline/readline.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-shell [options]\n"
"\n"
"The interactive shell: NQL (FROM ...) and SQL (SELECT ...) statements,\n"
"ended by ';' or by a complete line, and dot-commands (.help lists\n"
"them).  With standard input not a terminal, runs it as a script and\n"
"exits with the status of its first error.\n"
"\n"
"Options:\n"
"      --table           start in .mode table (a terminal's default)\n"
"      --json            start in .mode json (a script's default)\n";

enum { OPT_JSON = OPT_CMD };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"json", no_argument, 0, OPT_JSON},
	{0, 0, 0, 0}
};

enum mode { MODE_JSON, MODE_TABLE, MODE_LINE, MODE_CSV };
static const char *const mode_names[] = {"json", "table", "line", "csv"};

static struct {
	nedb *db;
	char *dir;		/* the open database's directory */
	bool interactive;
	enum mode mode;
	uint64_t as_of;		/* NEDB_HEAD, or .as-of's seq */
	char as_of_label[96];	/* what .as-of was given */
	bool timer, explain;
	cli_table *rows;	/* the rows of the statement (not json) */
	uint64_t nrows;
	const char *source;	/* script or .read file, for messages */
	unsigned long lineno;	/* its line of the statement's start */
	char *histfile;
} sh = {.as_of = NEDB_HEAD};

static volatile sig_atomic_t interrupted;
static nedb *volatile running;	/* the handle a statement runs on */

/* Ctrl-C: the statement stops (its query at the next candidate, by
 * nedb_interrupt; a row callback at the next row); or, while a line is
 * edited, the loop drops what was typed. */
static void
on_sigint(int sig)
{
	nedb *db = running;

	(void)sig;
	interrupted = 1;
	if (db)
		nedb_interrupt(db);
}

/* An error of a statement: one line, naming the script's line. */
__attribute__((format(printf, 1, 2)))
static void
say_error(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	if (sh.interactive && !sh.source)
		fputs("error: ", stderr);
	else if (sh.source)
		fprintf(stderr, "%s: %s:%lu: ", cli.prog, sh.source,
			sh.lineno);
	else if (sh.lineno)
		fprintf(stderr, "%s: line %lu: ", cli.prog, sh.lineno);
	else
		fprintf(stderr, "%s: ", cli.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A library failure as a statement's error; returns its exit status. */
static int
lib_error(int rc)
{
	const char *msg = nedb_errmsg();

	say_error("%s", *msg ? msg : "failed");
	return nedb_exit_status(rc);
}

/* Output: rows go out as they come (json) or at the statement's end. */

static void
out_begin(void)
{
	sh.nrows = 0;
	if (sh.mode != MODE_JSON && !sh.rows)
		sh.rows = cli_table_new();
}

static void
out_row(const char *json, size_t len)
{
	sh.nrows++;
	if (sh.mode != MODE_JSON) {
		cli_table_row(sh.rows, json, len);
		return;
	}
	if (cli.pretty) {
		nedb_buf b = {0};

		if (nedb_json_pretty(&b, json, len) == 0) {
			fwrite(b.p, 1, b.len, stdout);
			nedb_buf_free(&b);
			return;
		}
		nedb_buf_free(&b);
	}
	fwrite(json, 1, len, stdout);
	fputc('\n', stdout);
}

static void
out_end(void)
{
	if (sh.mode == MODE_TABLE)
		cli_table_print(sh.rows, stdout, cli_term_width(STDOUT_FILENO));
	else if (sh.mode == MODE_CSV)
		cli_table_print_csv(sh.rows, stdout);
	else if (sh.mode == MODE_LINE)
		cli_table_print_lines(sh.rows, stdout);
	if (sh.rows)
		cli_table_clear(sh.rows);
	if (sh.interactive && !sh.source && !sh.nrows && sh.mode != MODE_JSON)
		puts("(no rows)");
	fflush(stdout);
}

static int
row_cb(const char *json, size_t len, void *payload)
{
	(void)payload;
	if (interrupted)
		return 1;		/* stops the query: Ctrl-C */
	out_row(json, len);
	return 0;
}

static bool
need_db(void)
{
	if (sh.db)
		return true;
	say_error("no database open: .open DIR");
	return false;
}

/* Statements */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A syntax error at byte pos of a statement that may span lines: named
 * by the line it is on (of the script) and its column in that line,
 * and on a terminal shown with a caret under it.
 */
static int
syntax_error(const char *text, long pos, int rc)
{
	const char *msg = nedb_errmsg(), *at = strstr(msg, "at column ");
	const char *line = text, *why;
	unsigned long was = sh.lineno;

	for (const char *p = text; p < text + pos; p++)
		if (*p == '\n') {
			line = p + 1;
			sh.lineno++;
		}
	if (at && (why = strchr(at, ':')))
		say_error("%.*sat column %ld%s", (int)(at - msg), msg,
			  (long)(text + pos - line) + 1, why);
	else
		say_error("%s", msg);
	sh.lineno = was;
	if (isatty(STDERR_FILENO)) {
		size_t n = strcspn(line, "\n");

		fprintf(stderr, "  %.*s\n  %*s^\n", (int)n, line,
			(int)(text + pos - line), "");
	}
	return nedb_exit_status(rc);
}

static int
run_nql(const char *text)
{
	unsigned flags = sh.explain ? NEDB_QUERY_EXPLAIN : 0;
	int rc;

	if (!need_db())
		return nedb_exit_status(NEDB_EIO);
	out_begin();
	running = sh.db;
	rc = nedb_query_as_of(sh.db, text, flags, sh.as_of, row_cb, NULL);
	running = NULL;
	if (rc && interrupted) {
		out_end();
		say_error("interrupted");
		return 130;
	}
	if (rc) {
		long pos = nedb_errpos();

		if (sh.rows)
			cli_table_clear(sh.rows);
		if (pos >= 0)
			return syntax_error(text, pos, rc);
		return lib_error(rc);
	}
	out_end();
	return 0;
}

/* One SQL result row: its JSON object, out as NQL's rows go. */
static int
sql_row(const nedb_sql_row *row, void *payload)
{
	nedb_buf *b = payload;

	if (interrupted)
		return 1;		/* stops the statement: Ctrl-C */
	b->len = 0;
	if (nedb_sql_row_json(b, row))
		return 1;
	out_row(b->p, b->len);
	return 0;
}

/*
 * SQL, through the library as nedb-sql(1) runs it: the statements of
 * text in turn, each atomic, until one fails.  .as-of is NQL's; SQL
 * says AS OF after a table name.
 */
static int
sql_run(const char *text)
{
	nedb_buf b = {0};
	size_t pos = 0;
	int rc = 0;

	if (!need_db())
		return nedb_exit_status(NEDB_EIO);
	if (sh.as_of != NEDB_HEAD)
		fprintf(stderr, "note: .as-of applies to NQL; in SQL write "
			"AS OF %llu after the table name\n",
			(unsigned long long)sh.as_of);
	running = sh.db;
	while (!rc && text[pos]) {
		size_t at = pos;

		out_begin();
		rc = nedb_sql(sh.db, text, &pos, sql_row, &b);
		if (rc && interrupted)
			break;
		if (rc) {
			long epos = nedb_errpos();

			running = NULL;
			nedb_buf_free(&b);
			if (sh.rows)
				cli_table_clear(sh.rows);
			if (epos >= 0)
				return syntax_error(text, epos, rc);
			return lib_error(rc);
		}
		if (pos > at)
			out_end();
	}
	running = NULL;
	nedb_buf_free(&b);
	if (rc) {
		out_end();
		say_error("interrupted");
		return 130;
	}
	return 0;
}

/* The first word of text, uppercased into w (n bytes). */
static const char *
first_word(const char *text, char *w, size_t n, const char **rest)
{
	size_t i = 0;

	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '(')
		text++;
	while (i + 1 < n && ((*text >= 'a' && *text <= 'z') ||
			     (*text >= 'A' && *text <= 'Z'))) {
		w[i++] = (char)(*text >= 'a' ? *text - 32 : *text);
		text++;
	}
	w[i] = 0;
	if (rest)
		*rest = text;
	return w;
}

static bool
is_sql_word(const char *w)
{
	static const char *const sql[] = {
		"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP",
		"WITH", "VALUES", "REPLACE", "ALTER", "BEGIN", "COMMIT",
		"ROLLBACK", "PRAGMA", NULL
	};

	for (int i = 0; sql[i]; i++)
		if (!strcmp(w, sql[i]))
			return true;
	return false;
}

/* Whether text is SQL: its first word (after EXPLAIN) is SQL's. */
static bool
is_sql(const char *text)
{
	char w[16];
	const char *rest;

	first_word(text, w, sizeof w, &rest);
	if (!strcmp(w, "EXPLAIN"))
		first_word(rest, w, sizeof w, NULL);
	return is_sql_word(w);
}

/* Runs one statement (without its ';'): NQL or SQL by its first word. */
static int
statement(const char *text)
{
	char w[16];
	double t0 = now_s();
	int rc;

	first_word(text, w, sizeof w, NULL);
	if (!*w && !*text)
		return 0;
	if (is_sql(text))
		rc = sql_run(text);
	else if (!strcmp(w, "FROM") || !strcmp(w, "EXPLAIN"))
		rc = run_nql(text);
	else {
		text += strspn(text, " \t\n");
		say_error("unknown statement '%.*s': NQL starts with FROM, SQL "
			  "with SELECT, INSERT, UPDATE, DELETE...; .help lists "
			  "the dot-commands", (int)strcspn(text, " \t\n;"),
			  text);
		return nedb_exit_status(NEDB_EUSAGE);
	}
	if (sh.timer)
		fprintf(stderr, "time: %.3f ms, %llu row%s\n",
			(now_s() - t0) * 1e3, (unsigned long long)sh.nrows,
			sh.nrows == 1 ? "" : "s");
	return rc;
}

/* Completion caches (per session, dropped by .open). */

struct words {
	char **v;
	size_t n;
};

static struct words colls;
static bool colls_loaded;
static struct {
	char *coll;
	struct words fields;
} *fieldsets;
static size_t nfieldsets;

static void
words_add(struct words *w, const char *s, size_t n)
{
	for (size_t i = 0; i < w->n; i++)
		if (strlen(w->v[i]) == n && !memcmp(w->v[i], s, n))
			return;
	w->v = realloc(w->v, (w->n + 1) * sizeof *w->v);
	if (!w->v)
		abort();
	w->v[w->n++] = strndup(s, n);
}

static void
words_free(struct words *w)
{
	for (size_t i = 0; i < w->n; i++)
		free(w->v[i]);
	free(w->v);
	w->v = NULL;
	w->n = 0;
}

static void
caches_drop(void)
{
	words_free(&colls);
	colls_loaded = false;
	for (size_t i = 0; i < nfieldsets; i++) {
		free(fieldsets[i].coll);
		words_free(&fieldsets[i].fields);
	}
	free(fieldsets);
	fieldsets = NULL;
	nfieldsets = 0;
}

static int
on_coll(const char *coll, uint64_t count, void *payload)
{
	(void)count;
	words_add(payload, coll, strlen(coll));
	return 0;
}

static struct words *
coll_words(void)
{
	if (!colls_loaded && sh.db) {
		nedb_collections(sh.db, on_coll, &colls);
		colls_loaded = true;
	}
	return &colls;
}

struct sample {
	struct words *w;
	const char *prefix;	/* "a." for the members of a */
	size_t plen;
	int depth;
};

static int
on_member(const char *key, size_t klen, const char *v, size_t vlen,
	  void *payload)
{
	struct sample *s = payload, sub;
	char *name;
	nedb_buf path = {0};

	if (nedb_json_string(key, klen, &name))
		return 0;
	nedb_buf_add(&path, s->prefix, s->plen);
	nedb_buf_puts(&path, name);
	free(name);
	words_add(s->w, path.p, path.len);
	if (vlen && *v == '{' && s->depth < 2) {
		nedb_buf_puts(&path, ".");
		sub = (struct sample){s->w, path.p, path.len, s->depth + 1};
		nedb_json_each(v, vlen, on_member, &sub);
	}
	nedb_buf_free(&path);
	return 0;
}

static int
on_sample(const char *json, size_t len, void *payload)
{
	struct sample s = {payload, "", 0, 0};

	nedb_json_each(json, len, on_member, &s);
	return 0;
}

/* The field names of coll's documents: a sample of 200, kept. */
static struct words *
field_words(const char *coll)
{
	nedb_buf q = {0};
	size_t i;

	for (i = 0; i < nfieldsets; i++)
		if (!strcmp(fieldsets[i].coll, coll))
			return &fieldsets[i].fields;
	if (!sh.db || nedb_check_coll(coll))
		return NULL;
	fieldsets = realloc(fieldsets, (nfieldsets + 1) * sizeof *fieldsets);
	if (!fieldsets)
		abort();
	fieldsets[i].coll = strdup(coll);
	fieldsets[i].fields = (struct words){0};
	nfieldsets++;
	nedb_buf_printf(&q, "FROM %s LIMIT 200", coll);
	nedb_query(sh.db, q.p, 0, on_sample, &fieldsets[i].fields);
	nedb_buf_free(&q);
	return &fieldsets[i].fields;
}

/* Completion */

static const char *const keywords[] = {
	"FROM", "AS", "OF", "TIMESTAMP", "WHERE", "AND", "OR", "NOT", "IN",
	"EXISTS", "CONTAINS", "SEARCH", "GROUP", "BY", "COUNT", "SUM", "AVG",
	"MIN", "MAX", "ORDER", "ASC", "DESC", "TRAVERSE", "TRACE",
	"caused_by", "LIMIT", "OFFSET", "EXPLAIN", "true", "false", "null",
	"SELECT", "INSERT", "INTO", "VALUES", "UPDATE", "SET", "DELETE",
	"CREATE", "TABLE", "INDEX", "DROP", "DISTINCT", "HAVING", "LIKE",
	"BETWEEN", "IS", "NULL", NULL
};

static const struct dot {
	const char *name, *args, *what;
} dots[] = {
	{".help", "", "show this list"},
	{".open", "DIR", "open the database in DIR"},
	{".colls", "", "the collections and their counts"},
	{".indexes", "[COLL]", "the indexes"},
	{".schema", "COLL", "the fields of COLL's documents (sampled), and "
	 "its indexes"},
	{".mode", "json|table|line|csv", "how rows are shown"},
	{".as-of", "SEQ|@TIME|off", "run every later statement as of that "
	 "point of time"},
	{".timer", "on|off", "show the time each statement takes"},
	{".explain", "[on|off]", "show the plan of each query instead of "
	 "its rows"},
	{".log", "[N]", "the last N ops of the log (10)"},
	{".history", "COLL ID", "every version of a document"},
	{".verify", "", "check the hash chain"},
	{".read", "FILE", "run the statements of FILE"},
	{".quit", "", "leave (Ctrl-D too)"},
};
#define NDOTS (sizeof dots / sizeof dots[0])

static struct {
	const char **v;		/* candidates, borrowed */
	size_t n, cap, next;
	bool upper;		/* keywords in the case typed */
} cands;

static void
cand(const char *s)
{
	if (cands.n == cands.cap) {
		cands.cap = cands.cap ? 2 * cands.cap : 64;
		cands.v = realloc(cands.v, cands.cap * sizeof *cands.v);
		if (!cands.v)
			abort();
	}
	cands.v[cands.n++] = s;
}

static char *
generator(const char *text, int state)
{
	size_t n = strlen(text);

	if (!state)
		cands.next = 0;
	while (cands.next < cands.n) {
		const char *c = cands.v[cands.next++];

		if (!strncasecmp(c, text, n)) {
			char *r = strdup(c);

			/* a keyword in the case of what was typed */
			if (r && n && c[0] >= 'A' && c[0] <= 'Z' &&
			    text[0] >= 'a' && text[0] <= 'z')
				for (char *p = r; *p; p++)
					if (*p >= 'A' && *p <= 'Z')
						*p += 32;
			return r;
		}
	}
	return NULL;
}

/* The statement typed so far (earlier lines and this one). */
static nedb_buf stmt;

/* The collection named after FROM in s (into out), if any. */
static bool
stmt_coll(const char *s, char *out, size_t n)
{
	const char *p = s;

	while ((p = strcasestr(p, "from"))) {
		const char *q = p + 4;
		size_t i = 0;

		if ((p == s || strchr(" \t\n(", p[-1])) &&
		    strchr(" \t\n", *q)) {
			while (*q == ' ' || *q == '\t' || *q == '\n')
				q++;
			while (i + 1 < n && (*q == '_' ||
					     (*q >= 'a' && *q <= 'z') ||
					     (*q >= 'A' && *q <= 'Z') ||
					     (*q >= '0' && *q <= '9')))
				out[i++] = *q++;
			out[i] = 0;
			if (i)
				return true;
		}
		p += 4;
	}
	return false;
}

/* The word before position start of the line (uppercased). */
static void
prev_word(int start, char *w, size_t n)
{
	const char *line = rl_line_buffer;
	int e = start, b;
	size_t i = 0;

	while (e > 0 && strchr(" \t", line[e - 1]))
		e--;
	b = e;
	while (b > 0 && !strchr(" \t(),", line[b - 1]))
		b--;
	for (int k = b; k < e && i + 1 < n; k++)
		w[i++] = (char)(line[k] >= 'a' && line[k] <= 'z' ?
				line[k] - 32 : line[k]);
	w[i] = 0;
	if (!i && start == 0 && stmt.len) {
		/* the word ending the previous line of the statement */
		e = (int)stmt.len;
		while (e > 0 && strchr(" \t\n", stmt.p[e - 1]))
			e--;
		b = e;
		while (b > 0 && !strchr(" \t\n(),", stmt.p[b - 1]))
			b--;
		for (int k = b; k < e && i + 1 < n; k++)
			w[i++] = (char)(stmt.p[k] >= 'a' && stmt.p[k] <= 'z' ?
					stmt.p[k] - 32 : stmt.p[k]);
		w[i] = 0;
	}
}

static char **
complete(const char *text, int start, int end)
{
	char prev[32], coll[72];
	struct words *w;
	nedb_buf all = {0};
	const char *line = rl_line_buffer;
	int lead = 0;

	(void)end;
	cands.n = 0;
	rl_attempted_completion_over = 1;
	while (line[lead] == ' ' || line[lead] == '\t')
		lead++;
	if (!stmt.len && line[lead] == '.') {
		char cmd[16];
		size_t k = 0;

		if (start <= lead) {	/* the dot-command itself */
			for (size_t i = 0; i < NDOTS; i++)
				cand(dots[i].name);
			return rl_completion_matches(text, generator);
		}
		while (k + 1 < sizeof cmd && line[lead + (int)k] &&
		       !strchr(" \t", line[lead + (int)k])) {
			cmd[k] = line[lead + (int)k];
			k++;
		}
		cmd[k] = 0;
		if (!strcmp(cmd, ".open") || !strcmp(cmd, ".read")) {
			rl_attempted_completion_over = 0;
			return NULL;	/* file names */
		}
		if (!strcmp(cmd, ".mode")) {
			for (int i = 0; i < 4; i++)
				cand(mode_names[i]);
		} else if (!strcmp(cmd, ".timer") ||
			   !strcmp(cmd, ".explain")) {
			cand("on");
			cand("off");
		} else if (!strcmp(cmd, ".as-of")) {
			cand("off");
		} else if (!strcmp(cmd, ".schema") ||
			   !strcmp(cmd, ".indexes") ||
			   !strcmp(cmd, ".history")) {
			w = coll_words();
			for (size_t i = 0; i < w->n; i++)
				cand(w->v[i]);
		}
		return rl_completion_matches(text, generator);
	}
	prev_word(start, prev, sizeof prev);
	if (!strcmp(prev, "FROM") || !strcmp(prev, "INTO") ||
	    !strcmp(prev, "UPDATE") || !strcmp(prev, "TABLE") ||
	    !strcmp(prev, "JOIN")) {
		w = coll_words();
		for (size_t i = 0; i < w->n; i++)
			cand(w->v[i]);
		return rl_completion_matches(text, generator);
	}
	/* keywords, and the fields of the statement's collection */
	nedb_buf_add(&all, stmt.p ? stmt.p : "", stmt.len);
	nedb_buf_puts(&all, " ");
	nedb_buf_puts(&all, line);
	if (stmt_coll(all.p, coll, sizeof coll) &&
	    (w = field_words(coll)))
		for (size_t i = 0; i < w->n; i++)
			cand(w->v[i]);
	nedb_buf_free(&all);
	for (int i = 0; keywords[i]; i++)
		cand(keywords[i]);
	return rl_completion_matches(text, generator);
}

/* Dot-commands */

static int run_text(const char *text, bool stop_on_error);

static int
print_json_rows(const nedb_buf *b)
{
	out_begin();
	for (size_t i = 0; i < b->len;) {
		const char *nl = memchr(b->p + i, '\n', b->len - i);
		size_t e = nl ? (size_t)(nl - b->p) : b->len;

		if (e > i)
			out_row(b->p + i, e - i);
		i = e + 1;
	}
	out_end();
	return 0;
}

static int
dot_open(const char *dir)
{
	nedb *db;
	int rc;

	if (!*dir) {
		say_error("usage: .open DIR");
		return nedb_exit_status(NEDB_EUSAGE);
	}
	if ((rc = nedb_open_key(&db, dir, 0, cli.tmk_file))) {
		say_error("%s", nedb_errmsg());
		return nedb_exit_status(NEDB_EIO);
	}
	nedb_set_durability(db, cli.durability);
	if (sh.db)
		nedb_close(sh.db);
	sh.db = db;
	free(sh.dir);
	sh.dir = strdup(dir);
	sh.as_of = NEDB_HEAD;
	caches_drop();
	return 0;
}

static int
dot_colls(void)
{
	nedb_buf b = {0};
	int rc;

	if (!need_db())
		return nedb_exit_status(NEDB_EIO);
	if ((rc = nedb_collections_json(sh.db, "\n", &b)))
		rc = lib_error(rc);
	else
		print_json_rows(&b);
	nedb_buf_free(&b);
	return rc;
}

/* {"coll","field","kind","entries"} lines of coll only (all: NULL). */
static void
only_coll(nedb_buf *b, const char *coll)
{
	nedb_buf keep = {0}, pat = {0};

	if (!coll || !*coll)
		return;
	nedb_buf_puts(&pat, "{\"coll\":");
	nedb_buf_json_str(&pat, coll, strlen(coll));
	nedb_buf_puts(&pat, ",");
	for (size_t i = 0; i < b->len;) {
		const char *nl = memchr(b->p + i, '\n', b->len - i);
		size_t e = nl ? (size_t)(nl - b->p) : b->len;

		if (e - i >= pat.len && !memcmp(b->p + i, pat.p, pat.len)) {
			nedb_buf_add(&keep, b->p + i, e - i);
			nedb_buf_puts(&keep, "\n");
		}
		i = e + 1;
	}
	nedb_buf_free(b);
	*b = keep;
	nedb_buf_free(&pat);
}

static int
dot_indexes(const char *coll)
{
	nedb_buf b = {0};
	int rc;

	if (!need_db())
		return nedb_exit_status(NEDB_EIO);
	if ((rc = nedb_indexes_json(sh.db, "\n", &b)))
		rc = lib_error(rc);
	else {
		only_coll(&b, coll);
		print_json_rows(&b);
	}
	nedb_buf_free(&b);
	return rc;
}

/* .schema: each field of a sample of the documents, with its types. */
struct field_stat {
	char *path;
	unsigned types;		/* bit per nql type */
	uint64_t seen;
};

struct schema {
	struct field_stat *f;
	size_t n;
	uint64_t docs;
};

static const char *const type_names[] = {
	"null", "boolean", "boolean", "number", "string", "array", "object"
};

static int
schema_member(const char *key, size_t klen, const char *v, size_t vlen,
	      void *payload)
{
	struct schema *s = payload;
	char *name;
	unsigned t;
	size_t i;

	if (nedb_json_string(key, klen, &name))
		return 0;
	switch (*v) {
	case 'n': t = 0; break;
	case 't': case 'f': t = 1; break;
	case '"': t = 4; break;
	case '[': t = 5; break;
	case '{': t = 6; break;
	default: t = 3;
	}
	(void)vlen;
	for (i = 0; i < s->n; i++)
		if (!strcmp(s->f[i].path, name))
			break;
	if (i == s->n) {
		s->f = realloc(s->f, (s->n + 1) * sizeof *s->f);
		if (!s->f)
			abort();
		s->f[s->n++] = (struct field_stat){name, 0, 0};
	} else
		free(name);
	s->f[i].types |= 1u << t;
	s->f[i].seen++;
	return 0;
}

static int
schema_doc(const char *json, size_t len, void *payload)
{
	struct schema *s = payload;

	if (interrupted)
		return 1;
	s->docs++;
	return nedb_json_each(json, len, schema_member, s);
}

static int
dot_schema(const char *coll)
{
	struct schema s = {0};
	nedb_buf q = {0}, b = {0};
	int rc;

	if (!*coll) {
		say_error("usage: .schema COLL");
		return nedb_exit_status(NEDB_EUSAGE);
	}
	if (!need_db())
		return nedb_exit_status(NEDB_EIO);
	if ((rc = nedb_check_coll(coll)))
		return lib_error(rc);
	nedb_buf_printf(&q, "FROM %s LIMIT 1000", coll);
	rc = nedb_query_as_of(sh.db, q.p, 0, sh.as_of, schema_doc, &s);
	nedb_buf_free(&q);
	if (rc && rc != 1)
		rc = lib_error(rc);
	else {
		rc = 0;
		for (size_t i = 0; i < s.n; i++) {
			bool first = true;

			b.len = 0;
			nedb_buf_puts(&b, "{\"field\":");
			nedb_buf_json_str(&b, s.f[i].path,
					  strlen(s.f[i].path));
			nedb_buf_puts(&b, ",\"types\":\"");
			for (unsigned t = 0; t < 7; t++)
				if (s.f[i].types & (1u << t) && t != 2) {
					nedb_buf_printf(&b, "%s%s",
							first ? "" : "|",
							type_names[t]);
					first = false;
				}
			nedb_buf_printf(&b, "\",\"in\":\"%llu/%llu\"}\n",
					(unsigned long long)s.f[i].seen,
					(unsigned long long)s.docs);
			nedb_buf_add(&q, b.p, b.len);
		}
		print_json_rows(&q);
		if (!s.docs && sh.interactive && !sh.source)
			printf("(%s has no documents%s)\n", coll,
			       sh.as_of != NEDB_HEAD ? " at this point of "
			       "time" : "");
		b.len = 0;
		if (nedb_indexes_json(sh.db, "\n", &b) == 0) {
			only_coll(&b, coll);
			if (b.len)
				print_json_rows(&b);
		}
	}
	for (size_t i = 0; i < s.n; i++)
		free(s.f[i].path);
	free(s.f);
	nedb_buf_free(&q);
	nedb_buf_free(&b);
	return rc;
}

static int
dot_as_of(const char *arg)
{
	uint64_t head, seq;
	int64_t ms;
	int rc;

	if (!strcmp(arg, "off") || !*arg) {
		if (!*arg && sh.as_of != NEDB_HEAD) {
			printf("as of %s\n", sh.as_of_label);
			return 0;
		}
		if (!*arg) {
			puts("now (.as-of off)");
			return 0;
		}
		sh.as_of = NEDB_HEAD;
		return 0;
	}
	if (!need_db())
		return nedb_exit_status(NEDB_EIO);
	if ((rc = nedb_head(sh.db, &head, NULL)))
		return lib_error(rc);
	if (*arg == '@') {
		if ((rc = nedb_time_parse(arg + 1, strlen(arg + 1), &ms)) ||
		    (rc = nedb_seq_at(sh.db, ms, &seq)))
			return lib_error(rc);
		snprintf(sh.as_of_label, sizeof sh.as_of_label,
			 "seq %llu (%.60s)", (unsigned long long)seq, arg + 1);
	} else {
		char *e;

		errno = 0;
		seq = strtoull(arg, &e, 10);
		if (*arg < '0' || *arg > '9' || *e || errno) {
			say_error("bad .as-of '%s': want SEQ, @TIME or off",
				  arg);
			return nedb_exit_status(NEDB_EUSAGE);
		}
		if (seq > head) {
			say_error("no op %llu yet: the head is seq %llu",
				  (unsigned long long)seq,
				  (unsigned long long)head);
			return nedb_exit_status(NEDB_EUSAGE);
		}
		snprintf(sh.as_of_label, sizeof sh.as_of_label, "seq %llu",
			 (unsigned long long)seq);
	}
	sh.as_of = seq;
	if (sh.interactive && !sh.source)
		printf("as of %s: every query reads the past until .as-of "
		       "off\n", sh.as_of_label);
	return 0;
}

static int
on_log_line(uint64_t seq, const char *line, size_t len, void *payload)
{
	(void)seq;
	(void)payload;
	if (interrupted)
		return 1;
	out_row(line, len);
	return 0;
}

static int
dot_log(const char *arg)
{
	uint64_t n = 10, head, from;
	int rc;

	if (*arg) {
		char *e;

		n = strtoull(arg, &e, 10);
		if (*arg < '0' || *arg > '9' || *e) {
			say_error("bad .log count '%s'", arg);
			return nedb_exit_status(NEDB_EUSAGE);
		}
	}
	if (!need_db())
		return nedb_exit_status(NEDB_EIO);
	if ((rc = nedb_read_begin(sh.db)) ||
	    (rc = nedb_head(sh.db, &head, NULL))) {
		nedb_read_end(sh.db);
		return lib_error(rc);
	}
	if (sh.as_of != NEDB_HEAD && sh.as_of < head)
		head = sh.as_of;
	from = n > head ? 0 : head + 1 - n;
	out_begin();
	rc = n ? nedb_log_scan(sh.db, from, head, 0, on_log_line, NULL) : 0;
	nedb_read_end(sh.db);
	out_end();
	return rc && rc != 1 ? lib_error(rc) : 0;
}

/* ms since the epoch as RFC 3339 UTC, as .as-of @TIME takes it back. */
static void
time_text(nedb_buf *b, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	char t[32];

	gmtime_r(&s, &tm);
	strftime(t, sizeof t, "%Y-%m-%dT%H:%M:%S", &tm);
	nedb_buf_printf(b, "%s.%03dZ", t, (int)(ms % 1000));
}

static int
on_version(const nedb_doc *d, const char *op, void *payload)
{
	nedb_buf *b = payload;

	if (sh.as_of != NEDB_HEAD && d->seq > sh.as_of)
		return 0;
	b->len = 0;
	nedb_buf_printf(b, "{\"seq\":%llu,\"op\":\"%s\",\"time\":\"",
			(unsigned long long)d->seq, op);
	time_text(b, d->ts);
	nedb_buf_puts(b, "\"");
	if (d->doc) {
		nedb_buf_puts(b, ",\"doc\":");
		nedb_buf_add(b, d->doc, d->len);
	}
	nedb_buf_puts(b, "}");
	out_row(b->p, b->len);
	return 0;
}

static int
dot_history(const char *args)
{
	char coll[72];
	const char *id;
	size_t n = strcspn(args, " \t");
	nedb_buf b = {0};
	int rc;

	id = args + n;
	while (*id == ' ' || *id == '\t')
		id++;
	if (!n || n >= sizeof coll || !*id) {
		say_error("usage: .history COLL ID");
		return nedb_exit_status(NEDB_EUSAGE);
	}
	if (!need_db())
		return nedb_exit_status(NEDB_EIO);
	memcpy(coll, args, n);
	coll[n] = 0;
	out_begin();
	rc = nedb_history(sh.db, coll, id, on_version, &b);
	nedb_buf_free(&b);
	out_end();
	return rc ? lib_error(rc) : 0;
}

static int
dot_verify(void)
{
	nedb_verify_result r;
	nedb_buf b = {0};
	int rc;

	if (!need_db())
		return nedb_exit_status(NEDB_EIO);
	if (sh.interactive)
		cli_progress_library();
	rc = nedb_verify(sh.db, 0, &r);
	cli_progress_end();
	nedb_set_progress(NULL);
	if (rc)
		return lib_error(rc);
	if (r.ok)
		nedb_buf_printf(&b, "{\"ok\":true,\"seq\":%llu,\"head\":"
				"\"%s\"}\n", (unsigned long long)r.seq, r.head);
	else {
		nedb_buf_printf(&b, "{\"ok\":false,\"seq\":%llu,\"error\":",
				(unsigned long long)r.seq);
		nedb_buf_json_str(&b, r.error, strlen(r.error));
		nedb_buf_puts(&b, "}\n");
	}
	print_json_rows(&b);
	nedb_buf_free(&b);
	return r.ok ? 0 : nedb_exit_status(NEDB_EBROKEN);
}

static int
dot_read(const char *path)
{
	nedb_buf text = {0};
	const char *was = sh.source;
	unsigned long wasline = sh.lineno;
	char chunk[65536];
	size_t n;
	FILE *f;
	int rc;

	if (!*path) {
		say_error("usage: .read FILE");
		return nedb_exit_status(NEDB_EUSAGE);
	}
	if (!(f = fopen(path, "r"))) {
		say_error("cannot open '%s': %s", path, strerror(errno));
		return nedb_exit_status(NEDB_EIO);
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		nedb_buf_add(&text, chunk, n);
	fclose(f);
	nedb_buf_add(&text, "", 1);
	sh.source = path;
	rc = run_text(text.p, true);
	sh.source = was;
	sh.lineno = wasline;
	nedb_buf_free(&text);
	return rc;
}

static int
on_off(const char *what, const char *arg, bool *flag, bool toggle)
{
	if (!strcmp(arg, "on"))
		*flag = true;
	else if (!strcmp(arg, "off"))
		*flag = false;
	else if (!*arg && toggle)
		*flag = !*flag;
	else {
		say_error("usage: %s on|off", what);
		return nedb_exit_status(NEDB_EUSAGE);
	}
	if (sh.interactive && !sh.source && toggle)
		printf("%s %s\n", what, *flag ? "on" : "off");
	return 0;
}

static bool quit;

/* Runs a dot-command line; returns its exit status. */
static int
dot(char *line)
{
	char *cmd = line, *arg;
	size_t n;

	n = strcspn(cmd, " \t");
	arg = cmd + n;
	if (*arg)
		*arg++ = 0;
	while (*arg == ' ' || *arg == '\t')
		arg++;
	n = strlen(arg);
	while (n && strchr(" \t;\r", arg[n - 1]))
		arg[--n] = 0;
	if (!strcmp(cmd, ".help")) {
		for (size_t i = 0; i < NDOTS; i++)
			printf("%-9s %-20s %s\n", dots[i].name, dots[i].args,
			       dots[i].what);
		puts("\nStatements: NQL (FROM coll WHERE ... ORDER BY ... "
		     "LIMIT n; nedb-nql(7))\nand SQL (SELECT ...; "
		     "nedb-sql(1)), ended by ';' or a complete line.\nTab "
		     "completes; Ctrl-C stops a statement; Ctrl-D leaves.");
		return 0;
	}
	if (!strcmp(cmd, ".quit") || !strcmp(cmd, ".exit")) {
		quit = true;
		return 0;
	}
	if (!strcmp(cmd, ".open"))
		return dot_open(arg);
	if (!strcmp(cmd, ".colls") || !strcmp(cmd, ".tables"))
		return dot_colls();
	if (!strcmp(cmd, ".indexes"))
		return dot_indexes(arg);
	if (!strcmp(cmd, ".schema"))
		return dot_schema(arg);
	if (!strcmp(cmd, ".mode")) {
		for (int i = 0; i < 4; i++)
			if (!strcmp(arg, mode_names[i])) {
				sh.mode = (enum mode)i;
				return 0;
			}
		if (!*arg) {
			printf("%s\n", mode_names[sh.mode]);
			return 0;
		}
		say_error("bad .mode '%s': want json, table, line or csv",
			  arg);
		return nedb_exit_status(NEDB_EUSAGE);
	}
	if (!strcmp(cmd, ".as-of"))
		return dot_as_of(arg);
	if (!strcmp(cmd, ".timer"))
		return on_off(".timer", arg, &sh.timer, false);
	if (!strcmp(cmd, ".explain"))
		return on_off(".explain", arg, &sh.explain, true);
	if (!strcmp(cmd, ".log"))
		return dot_log(arg);
	if (!strcmp(cmd, ".history"))
		return dot_history(arg);
	if (!strcmp(cmd, ".verify"))
		return dot_verify();
	if (!strcmp(cmd, ".read"))
		return dot_read(arg);
	say_error("unknown command '%s': .help lists them", cmd);
	return nedb_exit_status(NEDB_EUSAGE);
}

/* Statement boundaries */

/*
 * Whether the statement in s is complete: it ends with ';'; or it is
 * NQL with every quote and bracket closed and the last word not one that
 * needs more (WHERE, AND, '=', ...).  SQL ends at ';' only.  *semi tells where a ';' outside quotes
 * ended it (the text after it is the next statement's).
 */
static bool
complete_stmt(const char *s, size_t *semi)
{
	int depth = 0;
	char q = 0;
	size_t i, last = 0;
	bool any = false;
	static const char *const more[] = {
		"FROM", "WHERE", "AND", "OR", "NOT", "IN", "BY", "ORDER",
		"GROUP", "LIMIT", "OFFSET", "SEARCH", "AS", "OF", "TIMESTAMP",
		"EXPLAIN", "TRAVERSE", "TRACE", "CONTAINS", "SELECT", "SET",
		"INTO", "VALUES", "UPDATE", "DELETE", "INSERT", "CREATE",
		"DROP", "TABLE", "INDEX", "HAVING", "LIKE", "BETWEEN", "IS",
		"ON", "DISTINCT", "WITH", NULL
	};

	*semi = 0;
	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (q) {
			if (c == '\\' && q == '"' && s[i + 1])
				i++;
			else if (c == q)
				q = 0;
			continue;
		}
		if (c == '"' || c == '\'')
			q = c;
		else if (c == '(' || c == '[' || c == '{')
			depth++;
		else if ((c == ')' || c == ']' || c == '}') && depth > 0)
			depth--;
		else if (c == ';' && depth == 0) {
			*semi = i + 1;
			return true;
		}
		if (!strchr(" \t\r\n", c)) {
			last = i;
			any = true;
		}
	}
	if (q || depth || !any)
		return false;
	/* SQL ends at ';' only, as in sqlite3: its clauses span lines */
	if (is_sql(s))
		return false;
	if (strchr(",=<>!+-*/", s[last]))
		return false;
	/* the last word */
	i = last + 1;
	while (last > 0 && !strchr(" \t\r\n(),", s[last - 1]))
		last--;
	for (int k = 0; more[k]; k++)
		if (i - last == strlen(more[k]) &&
		    !strncasecmp(s + last, more[k], i - last))
			return false;
	return true;
}

/*
 * Takes one line of input (interactive or script) into the statement
 * being typed; runs what is complete.  Returns an exit status (0: fine
 * or nothing ran).  *pending says whether a statement is unfinished.
 */
static int
take_line(const char *line, bool *pending, bool *ran)
{
	size_t semi;
	int rc = 0;

	*ran = false;
	if (!stmt.len) {
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || !strncmp(p, "--", 2) || *p == '#') {
			*pending = false;
			return 0;	/* blank, or a comment */
		}
		if (*p == '.') {
			char *copy = strdup(p);

			*ran = true;
			rc = dot(copy);
			free(copy);
			*pending = false;
			return rc;
		}
	}
	if (stmt.len)
		nedb_buf_puts(&stmt, "\n");
	nedb_buf_puts(&stmt, line);
	while (stmt.len && complete_stmt(stmt.p, &semi)) {
		size_t end = semi ? semi - 1 : stmt.len;
		char *text = strndup(stmt.p, end);
		size_t rest = semi ? semi : stmt.len;

		*ran = true;
		rc = statement(text);
		free(text);
		memmove(stmt.p, stmt.p + rest, stmt.len - rest);
		stmt.len -= rest;
		stmt.p[stmt.len] = 0;
		/* what follows the ';' on the line, if anything */
		while (stmt.len && strchr(" \t\r\n", stmt.p[0])) {
			memmove(stmt.p, stmt.p + 1, stmt.len);
			stmt.len--;
		}
		if (rc && (!sh.interactive || sh.source))
			break;
	}
	*pending = stmt.len > 0;
	return rc;
}

/* A script (standard input, .read): stops at the first error. */
static int
run_text(const char *text, bool stop_on_error)
{
	nedb_buf saved = stmt;
	bool pending, ran;
	unsigned long lineno = 0, start = 1;
	int rc = 0, first = 0;

	stmt = (nedb_buf){0};
	for (const char *p = text; *p && !quit;) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n);

		lineno++;
		if (!stmt.len)
			start = lineno;
		sh.lineno = start;
		rc = take_line(line, &pending, &ran);
		free(line);
		p += n + (p[n] == '\n');
		if (rc && !first)
			first = rc;
		if (rc && stop_on_error)
			break;
	}
	if (!first && stmt.len && !quit) {
		/* the last statement, unterminated: run as it is */
		char *text2 = strdup(stmt.p);

		sh.lineno = start;
		first = statement(text2);
		free(text2);
	}
	nedb_buf_free(&stmt);
	stmt = saved;
	return first;
}

/* The interactive loop: readline's callback interface, so that a
 * Ctrl-C while a line is edited drops the statement typed so far. */

static char *got_line;
static bool got_eof, have_line;

static void
on_line(char *line)
{
	if (!line)
		got_eof = true;
	else
		got_line = line;
	have_line = true;
	rl_callback_handler_remove();
}

static const char *
prompt(bool pending)
{
	static char p[128];

	if (pending)
		snprintf(p, sizeof p, "%*s", sh.as_of != NEDB_HEAD ?
			 (int)(strlen(sh.as_of_label) + 12) : 6, "...> ");
	else if (sh.as_of != NEDB_HEAD)
		snprintf(p, sizeof p, "nedb (as of %s)> ", sh.as_of_label);
	else
		snprintf(p, sizeof p, "nedb> ");
	return p;
}

static void
history_add(const char *line)
{
	nedb_buf h = {0};
	HIST_ENTRY *last;

	nedb_buf_puts(&h, line);
	for (size_t i = 0; i < h.len; i++)
		if (h.p[i] == '\n')
			h.p[i] = ' ';
	last = history_length ? history_get(history_base + history_length -
					    1) : NULL;
	if (h.len && (!last || strcmp(last->line, h.p))) {
		add_history(h.p);
		if (sh.histfile)
			append_history(1, sh.histfile);
	}
	nedb_buf_free(&h);
}

static void
history_open(void)
{
	const char *env = getenv("NEDB_HISTORY"), *home = getenv("HOME");
	int fd;

	if (env && !*env)
		return;		/* NEDB_HISTORY= keeps none */
	if (env)
		sh.histfile = strdup(env);
	else if (home && *home) {
		nedb_buf b = {0};

		nedb_buf_printf(&b, "%s/.nedb_history", home);
		sh.histfile = b.p;
	} else
		return;
	if ((fd = open(sh.histfile, O_WRONLY | O_CREAT | O_APPEND, 0600)) >= 0)
		close(fd);
	read_history(sh.histfile);
	using_history();
}

static void
interactive(void)
{
	nedb_buf entry = {0};	/* the lines of the statement, for history */
	bool pending = false, ran;
	struct sigaction sa = {0};

	sa.sa_handler = on_sigint;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);	/* no SA_RESTART: select wakes */
	rl_catch_signals = 0;
	/* no stale COLUMNS after a resize: tables ask the terminal */
	rl_change_environment = 0;
	rl_readline_name = "nedb";
	rl_attempted_completion_function = complete;
	rl_basic_word_break_characters = " \t\n(),=<>!;";
	rl_completer_quote_characters = "\"'";
	history_open();
	printf("nedb %s: %s%s.  .help for help, Ctrl-D to leave.\n",
	       nedb_version(), sh.db ? "database " : "no database open",
	       sh.db ? sh.dir : "");
	while (!quit) {
		fd_set fds;

		have_line = got_eof = false;
		got_line = NULL;
		interrupted = 0;
		rl_callback_handler_install(prompt(pending), on_line);
		while (!have_line) {
			FD_ZERO(&fds);
			FD_SET(STDIN_FILENO, &fds);
			if (select(STDIN_FILENO + 1, &fds, NULL, NULL,
				   NULL) < 0) {
				if (errno != EINTR || !interrupted)
					continue;
				/* Ctrl-C: drop what was typed */
				interrupted = 0;
				rl_free_line_state();
				rl_callback_sigcleanup();
				rl_replace_line("", 0);
				rl_crlf();
				stmt.len = 0;
				entry.len = 0;
				pending = false;
				rl_callback_handler_remove();
				rl_callback_handler_install(prompt(false),
							    on_line);
				continue;
			}
			rl_callback_read_char();
		}
		if (got_eof) {
			putchar('\n');
			break;
		}
		if (entry.len)
			nedb_buf_puts(&entry, "\n");
		nedb_buf_puts(&entry, got_line);
		interrupted = 0;
		take_line(got_line, &pending, &ran);
		free(got_line);
		if (!pending) {
			nedb_buf_add(&entry, "", 1);
			history_add(entry.p);
			entry.len = 0;
		}
	}
	nedb_buf_free(&entry);
	if (sh.histfile)
		history_truncate_file(sh.histfile, 1000);
}

int
main(int argc, char **argv)
{
	nedb_buf text = {0};
	bool mode_set = false;
	int c, rc = 0;

	cli_init("nedb-shell", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (c == OPT_TABLE) {
			sh.mode = MODE_TABLE;
			mode_set = true;
		} else if (c == OPT_JSON) {
			sh.mode = MODE_JSON;
			mode_set = true;
		} else if (!cli_common(c, optarg))
			cli_bad_option(c, argv);
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	sh.interactive = isatty(STDIN_FILENO);
	if (sh.interactive && !mode_set)
		sh.mode = MODE_TABLE;
	if (dot_open(cli_dir())) {
		if (!sh.interactive)
			return nedb_exit_status(NEDB_EIO);
	}
	if (sh.interactive) {
		interactive();
	} else {
		cli_read_stdin(&text);
		nedb_buf_add(&text, "", 1);
		rc = run_text(text.p, true);
		nedb_buf_free(&text);
	}
	if (sh.db)
		nedb_close(sh.db);
	cli_table_free(sh.rows);
	caches_drop();
	nedb_buf_free(&stmt);
	free(sh.dir);
	free(sh.histfile);
	free(cands.v);
	if (fflush(stdout))
		return nedb_exit_status(NEDB_EIO);
	return rc;
}
