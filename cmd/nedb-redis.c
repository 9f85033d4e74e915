/*
 * nedb-redis - Redis commands on a database from the shell.
 *
 * The command table is nedbd's (lib/proto/redis.c); this main splits command
 * lines, runs them and prints each RESP2 reply the way redis-cli does:
 * formatted for a terminal by default, or as with redis-cli --raw.
 *
 * Commands read from stdin run in batches, like nedb-put's streams: a
 * write opens a write transaction that the following commands share
 * until stdin pauses, 10000 ops are staged or stdin ends; then one commit
 * (one fsync) makes the batch durable and only then are its replies
 * printed, since a reply acknowledges a write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "redis.h"

static const char usage[] =
"usage: nedb-redis [options] COMMAND [ARG...]\n"
"       nedb-redis [options] < COMMANDS\n"
"\n"
"Runs a Redis command on the database (keys are documents of the\n"
"collection redis; every write is an op) and prints the reply as\n"
"redis-cli does.  With no COMMAND, runs the commands of stdin, one per\n"
"line: arguments split on spaces, \"double\" or 'single' quotes around\n"
"arguments with spaces.  Exits 1 if a reply is an error.\n"
"\n"
"Options:\n"
"      --raw             print replies as redis-cli --raw: values one per\n"
"                        line, unquoted\n";

enum { OPT_RAW = OPT_CMD };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{"raw", no_argument, 0, OPT_RAW},
	{0, 0, 0, 0}
};

static bool raw;
static int status;		/* the exit status so far */
static nedb_redis_conn conn;
static const char *dir;

/* ---- printing replies ---------------------------------------------------- */

/*
 * The replies come from lib/proto/redis.c, so they are well formed; this is a
 * printer of that output, not a parser of the network's.
 */
static const char *
line_end(const char *p, const char *e)
{
	const char *q = memchr(p, '\r', (size_t)(e - p));

	return q ? q : e;
}

/* A bulk string as redis-cli shows it: quoted, escaped (sdscatrepr). */
static void
repr(nedb_buf *o, const char *p, size_t n)
{
	nedb_buf_add(o, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		switch (c) {
		case '\\': nedb_buf_add(o, "\\\\", 2); break;
		case '"': nedb_buf_add(o, "\\\"", 2); break;
		case '\n': nedb_buf_add(o, "\\n", 2); break;
		case '\r': nedb_buf_add(o, "\\r", 2); break;
		case '\t': nedb_buf_add(o, "\\t", 2); break;
		case '\a': nedb_buf_add(o, "\\a", 2); break;
		case '\b': nedb_buf_add(o, "\\b", 2); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				nedb_buf_add(o, &p[i], 1);
			else
				nedb_buf_printf(o, "\\x%02x", c);
		}
	}
	nedb_buf_add(o, "\"", 1);
}

/*
 * Formats the reply at p into o as redis-cli does on a terminal
 * (cliFormatReplyTTY): prefix indents the lines of nested arrays, maps
 * ("1# key => value") and sets ("1~ member").  RESP3's types (after
 * HELLO 3) as redis-cli shows them too.  Returns the end of the reply.
 */
static const char *
format_tty(nedb_buf *o, const char *p, const char *e, const char *prefix)
{
	const char *le = line_end(p, e);
	long long n = strtoll(p + 1, NULL, 10);

	switch (*p) {
	case '+':
		nedb_buf_add(o, p + 1, (size_t)(le - p - 1));
		break;
	case '_':
		nedb_buf_puts(o, "(nil)");
		break;
	case ',':
		nedb_buf_puts(o, "(double) ");
		nedb_buf_add(o, p + 1, (size_t)(le - p - 1));
		break;
	case '#':
		nedb_buf_puts(o, p[1] == 't' ? "(true)" : "(false)");
		break;
	case '=':		/* verbatim: the text after "txt:" */
		if (n >= 4)
			nedb_buf_add(o, le + 6, (size_t)n - 4);
		le += 2 + n;
		break;
	case '-':
		nedb_buf_puts(o, "(error) ");
		nedb_buf_add(o, p + 1, (size_t)(le - p - 1));
		break;
	case ':':
		nedb_buf_puts(o, "(integer) ");
		nedb_buf_add(o, p + 1, (size_t)(le - p - 1));
		break;
	case '$':
		if (n < 0) {
			nedb_buf_puts(o, "(nil)");
			break;
		}
		repr(o, le + 2, (size_t)n);
		le += 2 + n;
		break;
	case '*':		/* an array "1) ", a map "1# k => v", a set "1~ " */
	case '%':
	case '~': {
		char sub[256], sep = *p == '*' ? ')' : *p == '%' ? '#' : '~';
		int width = 0;

		if (n <= 0) {
			nedb_buf_puts(o, n < 0 ? "(nil)\n" : sep == ')' ?
				      "(empty array)\n" : sep == '#' ?
				      "(empty hash)\n" : "(empty set)\n");
			return le + 2;
		}
		for (long long k = n; k; k /= 10)
			width++;
		snprintf(sub, sizeof sub, "%s%*s", prefix, width + 2, "");
		p = le + 2;
		for (long long i = 0; i < n; i++) {
			nedb_buf_printf(o, "%s%*lld%c ", i ? prefix : "", width,
					i + 1, sep);
			p = format_tty(o, p, e, sub);
			if (sep == '#') {	/* key => value */
				o->len--;
				nedb_buf_puts(o, " => ");
				/* a value of elements starts a line of its own */
				if (strchr("*%~", *p) && strtoll(p + 1, NULL,
								  10) > 0)
					nedb_buf_printf(o, "\n%s", sub);
				p = format_tty(o, p, e, sub);
			}
		}
		return p;
	}
	}
	nedb_buf_add(o, "\n", 1);
	return le + 2;
}

/* As redis-cli --raw (cliFormatReplyRaw), without the final newline. */
static const char *
format_raw(nedb_buf *o, const char *p, const char *e)
{
	const char *le = line_end(p, e);
	long long n = strtoll(p + 1, NULL, 10);

	switch (*p) {
	case '+':
	case ':':
	case ',':
		nedb_buf_add(o, p + 1, (size_t)(le - p - 1));
		break;
	case '#':
		nedb_buf_puts(o, p[1] == 't' ? "(true)" : "(false)");
		break;
	case '=':
		if (n >= 4)
			nedb_buf_add(o, le + 6, (size_t)n - 4);
		le += 2 + n;
		break;
	case '-':
		nedb_buf_add(o, p + 1, (size_t)(le - p - 1));
		nedb_buf_add(o, "\n", 1);
		break;
	case '$':
		if (n > 0)
			nedb_buf_add(o, le + 2, (size_t)n);
		if (n >= 0)
			le += 2 + n;
		break;
	case '*':		/* an element a line; a map's pair "key value" */
	case '%':
	case '~': {
		long long step = *p == '%' ? 2 : 1;

		p = le + 2;
		for (long long i = 0; i < step * n; i++) {
			if (i)
				nedb_buf_add(o, step == 2 && i % 2 ? " " :
					     "\n", 1);
			p = format_raw(o, p, e);
		}
		return p;
	}
	}
	return le + 2;
}

/*
 * Prints every reply of r (then empties both r and verbatim); notes error
 * replies.  verbatim holds a byte per reply: 1 for the replies that
 * redis-cli prints as they are, without a newline after them (INFO's).
 */
static void
print_replies(nedb_buf *r, nedb_buf *verbatim)
{
	nedb_buf o = {0};
	const char *p = r->p, *e = r->p + r->len;

	for (size_t i = 0; p < e; i++) {
		if (*p == '-')
			status = status ? status : 1;
		if (i < verbatim->len && verbatim->p[i])
			p = format_raw(&o, p, e);
		else if (raw) {
			p = format_raw(&o, p, e);
			nedb_buf_add(&o, "\n", 1);
		} else
			p = format_tty(&o, p, e, "");
	}
	if (o.len)
		fwrite(o.p, 1, o.len, stdout);
	nedb_buf_free(&o);
	r->len = 0;
	verbatim->len = 0;
}

/* Whether redis-cli prints the reply to this command verbatim. */
static char
is_verbatim(const char *name, size_t len)
{
	return len == 4 && !strncasecmp(name, "info", 4);
}

/* ---- running commands ------------------------------------------------------ */

/* The name SELECT accepts: the last component of the directory. */
static void
set_dbname(const char *path)
{
	char buf[4096];
	size_t n;
	char *slash;

	snprintf(buf, sizeof buf, "%s", path);
	n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = 0;
	slash = strrchr(buf, '/');
	slash = slash && slash[1] ? slash + 1 : buf;
	n = strlen(slash);
	if (n >= sizeof conn.dbname)
		n = sizeof conn.dbname - 1;	/* longer than any name */
	memcpy(conn.dbname, slash, n);
	conn.dbname[n] = 0;
}

/*
 * Opens the database when a command first needs it: created by a write,
 * not by a read.  A database that cannot be opened is left NULL and the
 * reason kept: the command's own errors (arity, keys) come first, as in
 * Redis, and only a command that needs the database dies of it.
 */
static char open_error[600];

static void
need_db(unsigned flags, const char *name, size_t len)
{
	bool info = len == 4 && !strncasecmp(name, "info", 4);
	bool create = flags & NEDB_REDIS_WRITE;

	if (!(flags & (NEDB_REDIS_READ | NEDB_REDIS_WRITE) || info))
		return;
	if (conn.db || (*open_error && !create))
		return;
	if (nedb_open_key(&conn.db, dir, create ? NEDB_OPEN_CREATE : 0,
			  cli.tmk_file)) {
		snprintf(open_error, sizeof open_error, "%s", nedb_errmsg());
		return;
	}
	*open_error = 0;
	nedb_set_durability(conn.db, cli.durability);
}

/* A database error: nothing of an uncommitted batch was written. */
__attribute__((noreturn)) static void
die_db(int rc, const nedb_buf *r, size_t at)
{
	const char *m = r->p + at + 1;		/* after '-' */
	int n = (int)(line_end(m, r->p + r->len) - m);

	if (n > 4 && !strncmp(m, "ERR ", 4)) {
		m += 4;
		n -= 4;
	}
	/* exit 5 whatever the code, a missing database too (nedb-redis(1)) */
	if (rc == NEDB_ENOTFOUND && *open_error)
		cli_failf(NEDB_EIO, "%s", open_error);	/* why there is none */
	cli_failf(NEDB_EIO, "%.*s", n, m);
}

static int
run_args(int argc, char **argv)
{
	size_t lens[argc];
	nedb_buf r = {0}, verbatim = {0};
	bool wrote;
	int rc;

	for (int i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	need_db(nedb_redis_flags(argv[0], lens[0]), argv[0], lens[0]);
	rc = nedb_redis_exec(&conn, argc, (const char *const *)argv, lens, &r,
			     &wrote);
	if (rc < 0)
		die_db(rc, &r, 0);
	nedb_buf_add(&verbatim, (char[]){is_verbatim(argv[0], lens[0])}, 1);
	print_replies(&r, &verbatim);
	nedb_buf_free(&r);
	nedb_buf_free(&verbatim);
	return status;
}

/*
 * Runs the commands of stdin.  Writes share a write transaction until
 * stdin pauses (or a batch grows large), then commit, and only then are
 * the batch's replies printed.
 */
static int
run_stdin(void)
{
	nedb_buf line = {0}, arena = {0}, held = {0}, verbatim = {0};
	size_t *off = NULL, *len = NULL, cap = 0;
	const char **argv = NULL;
	uint64_t lineno = 0;
	bool batch = false;
	int rc;

	while (!conn.quit && cli_read_line(&line)) {
		unsigned flags;
		bool wrote, nul;
		int argc;

		lineno++;
		nul = memchr(line.p, 0, line.len) != NULL;
		argc = nul ? NEDB_EINPUT :
		       nedb_redis_split(line.p, &arena, &off, &len, &cap);
		if (argc == NEDB_EIO)
			cli_failf(NEDB_EIO, "out of memory");
		if (argc < 0) {
			fflush(stdout);
			fprintf(stderr, "%s: line %llu: invalid argument(s): "
				"%s\n", cli.prog, (unsigned long long)lineno,
				nul ? "a NUL byte (write it as \"\\x00\")" :
				"unbalanced quotes");
			status = nedb_exit_status(NEDB_EINPUT);
			continue;
		}
		if (argc == 0)
			continue;
		argv = realloc(argv, (size_t)argc * sizeof *argv);
		if (!argv)
			cli_failf(NEDB_EIO, "out of memory");
		for (int i = 0; i < argc; i++)
			argv[i] = arena.p + off[i];
		flags = nedb_redis_flags(argv[0], len[0]);
		need_db(flags, argv[0], len[0]);
		if ((flags & NEDB_REDIS_WRITE) && !batch && conn.db) {
			if ((rc = nedb_write_begin(conn.db)))
				cli_fail(rc);
			batch = true;
		}
		{
			size_t at = held.len;

			rc = nedb_redis_exec(&conn, argc, argv, len, &held,
					     &wrote);
			if (rc < 0) {
				/* the batch is void: none of it was written */
				if (batch)
					nedb_write_abort(conn.db);
				die_db(rc, &held, at);
			}
			nedb_buf_add(&verbatim,
				     (char[]){is_verbatim(argv[0], len[0])}, 1);
		}
		if (batch && (conn.quit || cli_stdin_idle() ||
			      nedb_write_pending(conn.db) >= 10000 ||
			      held.len > (1u << 20))) {
			if ((rc = nedb_write_commit(conn.db)))
				cli_fail(rc);
			batch = false;
		}
		if (!batch) {
			print_replies(&held, &verbatim);
			if (cli_stdin_idle())
				fflush(stdout);
		}
	}
	if (batch && (rc = nedb_write_commit(conn.db)))
		cli_fail(rc);
	print_replies(&held, &verbatim);
	nedb_buf_free(&verbatim);
	nedb_buf_free(&line);
	nedb_buf_free(&arena);
	nedb_buf_free(&held);
	free(off);
	free(len);
	free(argv);
	return status;
}

int
main(int argc, char **argv)
{
	int c, rc;

	cli_init("nedb-redis", usage);
	/* "+": options end at COMMAND, whose arguments may start with '-' */
	while ((c = getopt_long(argc, argv, "+" CLI_COMMON_SHORTOPTS,
				longopts, NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		switch (c) {
		case OPT_RAW: raw = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	dir = cli_dir();
	set_dbname(dir);
	rc = argc ? run_args(argc, argv) : run_stdin();
	nedb_redis_conn_release(&conn);
	nedb_close(conn.db);
	cli_finish();
	return rc;
}
