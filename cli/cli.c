/*
 * cli.c - the conventions every nedb command shares (see cli.h and
 * nedb(7)): one-line errors on stderr, "prog: what went wrong"; exit
 * statuses 0 success, 1 no, 2 usage, 3 rejected, 4 bad input, 5 database.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

struct cli cli;
static char outbuf[1 << 16];

static void
warn_cb(const char *msg)
{
	fprintf(stderr, "%s: warning: %s\n", cli.prog, msg);
}

void
cli_init(const char *prog, const char *usage)
{
	const char *d = getenv("NEDB_DURABILITY");

	cli.prog = prog;
	cli.usage = usage;
	cli.progress = -1;
	cli.durability = NEDB_DURABLE;
	if (d && *d && (cli.durability = nedb_durability_parse(d)) < 0)
		cli_usage("bad NEDB_DURABILITY '%s': want durable, safe or "
			  "fast", d);
	opterr = 0;
	setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	nedb_set_warn(warn_cb);
}

void
cli_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see '%s --help')\n", cli.prog);
	exit(nedb_exit_status(NEDB_EUSAGE));
}

void
cli_bad_option(int c, char **argv)
{
	const char *arg = argv[optind - 1];

	/* getopt returns ':' for a missing argument (optstring starts with
	 * ':'), '?' for an unknown option. */
	if (c == ':') {
		if (optopt && optopt < 256)
			cli_usage("option '-%c' needs an argument", optopt);
		cli_usage("option '%s' needs an argument", arg);
	}
	if (optopt && optopt < 256)
		cli_usage("unknown option '-%c'", optopt);
	cli_usage("unknown option '%s'", arg);
}

bool
cli_common(int c, const char *arg)
{
	switch (c) {
	case 'd':
		cli.db = arg;
		return true;
	case OPT_TMK_FILE:
		cli.tmk_file = arg;
		return true;
	case OPT_LOG:
		/* the library reads it when it creates a database */
		if (setenv("NEDB_LOG", arg, 1))
			cli_failf(NEDB_EIO, "cannot set NEDB_LOG");
		return true;
	case OPT_DURABILITY:
		if ((cli.durability = nedb_durability_parse(arg)) < 0)
			cli_usage("bad durability '%s': want durable, safe or "
				  "fast", arg);
		return true;
	case OPT_PRETTY:
		cli.pretty = true;
		return true;
	case OPT_ARRAY:
		cli.array = true;
		return true;
	case OPT_TABLE:
		cli.table = true;
		return true;
	case OPT_PROGRESS:
		cli.progress = 1;
		return true;
	case OPT_NO_PROGRESS:
		cli.progress = 0;
		return true;
	case 'h':
	case OPT_HELP:
		fputs(cli.usage, stdout);
		fputs("\nCommon options:\n"
		      "  -d, --db DIR          database directory "
		      "($NEDB_DIR, ./nedb-data)\n"
		      "      --tmk-file FILE   the master key of an encrypted "
		      "database\n"
		      "                        ($NEDB_TMK, $NEDB_TMK_FILE)\n"
		      "      --log URL         a new database's log on an "
		      "engine: postgresql://...#name\n"
		      "                        or redis://...#name\n"
		      "                        ($NEDB_LOG; see nedb(7))\n"
		      "      --durability M    durable (default), safe or "
		      "fast ($NEDB_DURABILITY)\n"
		      "      --pretty          indent JSON output\n"
		      "      --array           print one JSON array instead "
		      "of lines\n"
		      "  -h, --help            show this help\n"
		      "      --version         show the version\n", stdout);
		exit(fflush(stdout) ? nedb_exit_status(NEDB_EIO) : 0);
	case OPT_VERSION:
		printf("%s (nedb) %s\n", cli.prog, nedb_version());
		exit(fflush(stdout) ? nedb_exit_status(NEDB_EIO) : 0);
	}
	return false;
}

void
cli_failf(int err, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", cli.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(nedb_exit_status(err));
}

/* What err means, for an error the library left without a message. */
static const char *
code_text(int err)
{
	switch (err) {
	case NEDB_ENOTFOUND: return "not found";
	case NEDB_EUSAGE: return "bad argument";
	case NEDB_EREJECTED: return "write rejected";
	case NEDB_EINPUT: return "bad input";
	case NEDB_ECORRUPT: return "database damaged";
	case NEDB_EKEY: return "wrong or missing key";
	case NEDB_EBUSY: return "database busy";
	case NEDB_EBROKEN: return "chain broken";
	default: return "database error";
	}
}

void
cli_error(int err)
{
	const char *msg = nedb_errmsg();

	fflush(stdout);
	fprintf(stderr, "%s: %s\n", cli.prog, *msg ? msg : code_text(err));
}

void
cli_show_errpos(const char *text)
{
	long pos = nedb_errpos();

	if (pos < 0 || !isatty(STDERR_FILENO))
		return;
	/* the text on one line: control characters become spaces so
	 * that the caret lines up by byte */
	fputs("  ", stderr);
	for (const char *p = text; *p; p++)
		fputc((unsigned char)*p < 0x20 ? ' ' : *p, stderr);
	fprintf(stderr, "\n  %*s^\n", (int)pos, "");
}

void
cli_fail(int err)
{
	fflush(stdout);
	cli_error(err);
	exit(nedb_exit_status(err));
}

const char *
cli_dir(void)
{
	const char *dir = cli.db;

	if (!dir || !*dir)
		dir = getenv("NEDB_DIR");
	if (!dir || !*dir)
		dir = "./nedb-data";
	return dir;
}

nedb *
cli_open(bool create)
{
	return cli_open_flags(create ? NEDB_OPEN_CREATE : 0);
}

nedb *
cli_open_flags(unsigned flags)
{
	nedb *db;
	int rc;

	/* a database that cannot be opened is a database error (exit 5)
	 * whatever the cause, a missing one or a wrong key too (not the
	 * answer "no"), but for a usage error in the environment
	 * (NEDB_MAPSIZE, exit 2) */
	if ((rc = nedb_open_key(&db, cli_dir(), flags, cli.tmk_file)))
		cli_fail(rc == NEDB_EUSAGE ? rc : NEDB_EIO);
	nedb_set_durability(db, cli.durability);
	cli.open = db;
	return db;
}

uint64_t
cli_u64(const char *what, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		cli_usage("bad %s '%s': want a non-negative integer", what, s);
	v = strtoull(s, &end, 10);
	if (errno || *end)
		cli_usage("bad %s '%s': want a non-negative integer", what, s);
	return v;
}

bool
cli_write_opt(int c, const char *arg, nedb_wopts *w)
{
	switch (c) {
	case OPT_CLIENT:
		w->client = arg;
		return true;
	case OPT_NONCE:
		if (!(w->nonce = cli_u64("nonce", arg)))
			cli_usage("bad nonce '0': nonces start at 1");
		return true;
	case OPT_IDEM:
		w->idem = arg;
		return true;
	}
	return false;
}

/* A time after '@' into ms, or a usage error naming what. */
static int64_t
parse_time(const char *what, const char *t)
{
	int64_t ms;

	if (nedb_time_parse(t, strlen(t), &ms))
		cli_usage("%s: %s", what, nedb_errmsg());
	return ms;
}

uint64_t
cli_as_of(const char *arg)
{
	uint64_t seq;

	if (*arg == '@') {
		parse_time("--as-of", arg + 1);
		cli.as_of_time = arg + 1;
		return 0;
	}
	cli.as_of_time = NULL;
	seq = cli_u64("seq", arg);
	/* UINT64_MAX is NEDB_HEAD: it is beyond any head anyway */
	return seq == NEDB_HEAD ? seq - 1 : seq;
}

/* The seq of the time t on db, or dies (exit 2 for a time before the
 * first op, as for a seq beyond the head). */
static uint64_t
seq_at(nedb *db, const char *what, const char *t)
{
	uint64_t seq;
	int rc;

	if ((rc = nedb_seq_at(db, parse_time(what, t), &seq)))
		cli_fail(rc);
	return seq;
}

uint64_t
cli_as_of_seq(nedb *db, uint64_t as_of)
{
	return cli.as_of_time ? seq_at(db, "--as-of", cli.as_of_time) : as_of;
}

uint64_t
cli_point(nedb *db, const char *what, const char *arg)
{
	return *arg == '@' ? seq_at(db, what, arg + 1) : cli_u64(what, arg);
}

void
cli_print_lines(const nedb_buf *b)
{
	for (size_t i = 0; i < b->len;) {
		const char *nl = memchr(b->p + i, '\n', b->len - i);

		cli_print(b->p + i, (size_t)(nl - (b->p + i)));
		i = (size_t)(nl - b->p) + 1;
	}
	fflush(stdout);
}

void
cli_receipt_line(nedb_buf *lines, const nedb_receipt *r)
{
	int rc;

	if ((rc = nedb_receipt_json(lines, r, 0)) ||
	    (rc = nedb_buf_add(lines, "\n", 1)))
		cli_fail(rc);
}

void
cli_print_receipt(const nedb_receipt *r)
{
	nedb_buf b = {0};
	int rc;

	if ((rc = nedb_receipt_json(&b, r, 0)))
		cli_fail(rc);
	cli_print(b.p, b.len);
	nedb_buf_free(&b);
}

static cli_table *rows;		/* --table: the rows printed so far */

void
cli_print(const char *text, size_t len)
{
	if (cli.table) {
		if (!rows)
			rows = cli_table_new();
		cli_table_row(rows, text, len);
		cli.nout++;
		return;
	}
	if (cli.array)
		fputs(cli.nout ? "," : "[", stdout);
	if (cli.pretty) {
		nedb_buf b = {0};

		if (nedb_json_pretty(&b, text, len) == 0) {
			/* without the final newline inside an array */
			fwrite(b.p, 1, b.len - (cli.array ? 1 : 0), stdout);
			nedb_buf_free(&b);
			if (cli.array)
				fputc('\n', stdout);
			cli.nout++;
			return;
		}
		nedb_buf_free(&b);
	}
	fwrite(text, 1, len, stdout);
	if (!cli.array)
		fputc('\n', stdout);
	cli.nout++;
}

void
cli_finish(void)
{
	if (rows) {
		cli_table_print(rows, stdout, cli_term_width(STDOUT_FILENO));
		cli_table_free(rows);
		rows = NULL;
		if (fflush(stdout) || ferror(stdout))
			cli_failf(NEDB_EIO, "cannot write output: %s",
				  strerror(errno));
		return;
	}
	if (cli.array)
		fputs(cli.nout ? "]\n" : "[]\n", stdout);
	if (fflush(stdout) || ferror(stdout))
		cli_failf(NEDB_EIO, "cannot write output: %s", strerror(errno));
}

/*
 * A UTF-8 byte order mark at the very start of standard input is not
 * part of the text (editors on Windows write one): it is skipped, as jq
 * skips it.  Anywhere else it stays, and is not JSON.
 */
static bool stdin_begun;

static void
skip_bom(nedb_buf *b, size_t start)
{
	static const char bom[] = "\xef\xbb\xbf";

	if (stdin_begun)
		return;
	if (b->len - start >= 3 && !memcmp(b->p + start, bom, 3)) {
		memmove(b->p + start, b->p + start + 3, b->len - start - 3);
		b->len -= 3;
		b->p[b->len] = 0;
	}
	stdin_begun = b->len > start;
}

/*
 * Standard input is read with read(2) into a buffer of our own, not
 * through stdio, so that cli_stdin_idle can tell whether input is
 * already waiting without looking into stdio's private fields.
 */
static struct {
	char *p;
	size_t off, len, cap;
	bool eof;
} in;

/* Reads more of standard input into in; false at its end. */
static bool
in_fill(void)
{
	ssize_t n;

	if (in.eof)
		return false;
	if (in.off) {			/* keep only what is unread */
		memmove(in.p, in.p + in.off, in.len - in.off);
		in.len -= in.off;
		in.off = 0;
	}
	if (in.cap - in.len < 65536) {
		size_t cap = in.cap ? in.cap * 2 : 131072;
		char *p = realloc(in.p, cap);

		if (!p)
			cli_failf(NEDB_EIO, "out of memory");
		in.p = p;
		in.cap = cap;
	}
	do
		n = read(STDIN_FILENO, in.p + in.len, in.cap - in.len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		cli_failf(NEDB_EIO, "cannot read input: %s", strerror(errno));
	if (n == 0)
		in.eof = true;
	in.len += (size_t)n;
	return n > 0;
}

void
cli_read_stdin(nedb_buf *b)
{
	size_t start = b->len;

	while (in_fill())
		;
	if (nedb_buf_add(b, in.p + in.off, in.len - in.off))
		cli_failf(NEDB_EIO, "out of memory");
	in.off = in.len;
	if (b->len > start)
		skip_bom(b, start);
}

void
cli_read_file(const char *path, nedb_buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f)
		cli_failf(NEDB_EIO, "cannot open '%s': %s", path,
			  strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		if (nedb_buf_add(b, chunk, n))
			cli_failf(NEDB_EIO, "out of memory");
	if (ferror(f))
		cli_failf(NEDB_EIO, "cannot read '%s': %s", path,
			  strerror(errno));
	fclose(f);
}

bool
cli_read_line(nedb_buf *b)
{
	char *nl;
	size_t n;

	while (!(nl = in.off < in.len ?
		      memchr(in.p + in.off, '\n', in.len - in.off) : NULL))
		if (!in_fill())
			break;
	if (in.off == in.len) {
		b->len = 0;
		return false;
	}
	n = nl ? (size_t)(nl - (in.p + in.off)) + 1 : in.len - in.off;
	b->len = 0;
	if (nedb_buf_add(b, in.p + in.off, n))
		cli_failf(NEDB_EIO, "out of memory");
	in.off += n;
	skip_bom(b, 0);
	if (b->len && b->p[b->len - 1] == '\n')
		b->p[--b->len] = 0;
	return true;
}

uint64_t
cli_stdin_size(void)
{
	struct stat st;
	off_t at;

	if (fstat(STDIN_FILENO, &st) || !S_ISREG(st.st_mode) ||
	    (at = lseek(STDIN_FILENO, 0, SEEK_CUR)) < 0 || at > st.st_size)
		return 0;
	return (uint64_t)(st.st_size - at);
}

bool
cli_stdin_idle(void)
{
	struct pollfd p = {STDIN_FILENO, POLLIN, 0};

	if (in.off < in.len)
		return false;	/* read already, not yet used */
	return poll(&p, 1, 0) == 0;
}
