/*
 * nedb-log - print the ops of the log as NDJSON.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-log [options]\n"
"       nedb-log --export [options]\n"
"       nedb-log --import [--log URL] [options]\n"
"\n"
"Prints ops oldest first, one JSON object per line, each checked against\n"
"the hash chain as it is read.\n"
"\n"
"Options:\n"
"  -n N                  only the last N ops (of the range)\n"
"      --since SEQ       start at op SEQ (inclusive)\n"
"      --until SEQ       stop at op SEQ (inclusive)\n"
"      --reverse         newest first\n"
"  -f, --follow          keep printing new ops as they are written\n"
"      --raw             the lines as stored (an encrypted database's\n"
"                        sealed lines), each still checked\n"
"      --export          every line from genesis exactly as stored, each\n"
"                        checked (what --import reads)\n"
"      --import          create the database (-d DIR, which must not exist)\n"
"                        from the lines on stdin, checking the chain; with\n"
"                        --log URL (or NEDB_LOG) on that engine; prints\n"
"                        {\"seq\":N,\"head\":H}: the head hash is unchanged\n"
CLI_TABLE_HELP;

enum { OPT_SINCE = OPT_CMD, OPT_UNTIL, OPT_REVERSE, OPT_RAW, OPT_EXPORT,
       OPT_IMPORT };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"since", required_argument, 0, OPT_SINCE},
	{"until", required_argument, 0, OPT_UNTIL},
	{"reverse", no_argument, 0, OPT_REVERSE},
	{"follow", no_argument, 0, 'f'},
	{"raw", no_argument, 0, OPT_RAW},
	{"export", no_argument, 0, OPT_EXPORT},
	{"import", no_argument, 0, OPT_IMPORT},
	{0, 0, 0, 0}
};

/*
 * Prints a line.  A redacted one (nedb-format(5), Format 2) keeps its
 * length with spaces after its "mid" member: they are left out, so that
 * every op prints as compact JSON; --raw prints the line as stored.
 */
static int
print_line(uint64_t seq, const char *line, size_t len, void *payload)
{
	static const char put[] = ",\"op\":\"put\",\"redacted\":";
	static const char mid[] = ",\"mid\":\"";
	static nedb_buf b;
	const bool *raw = payload;
	const char *m = NULL, *sp, *end = line + len;

	(void)seq;
	/* compact JSON has no space outside strings, and no string holds
	 * an unescaped quote: so this is the mark (nedb-format(5)) */
	if (!*raw && memmem(line, len, put, sizeof put - 1) &&
	    (m = memmem(line, len, mid, sizeof mid - 1)) &&
	    end - m > (ptrdiff_t)(sizeof mid + 128))
		m += sizeof mid - 1 + 128 + 1;
	if (!m || m >= end || *m != ' ') {
		cli_print(line, len);
		return 0;
	}
	for (sp = m; sp < end && *sp == ' '; sp++)
		;
	b.len = 0;
	if (nedb_buf_add(&b, line, (size_t)(m - line)) ||
	    nedb_buf_add(&b, sp, (size_t)(end - sp)))
		return NEDB_EIO;
	cli_print(b.p, b.len);
	return 0;
}

/* --export: each line as stored, byte for byte, whatever --pretty says */
static int
export_line(uint64_t seq, const char *line, size_t len, void *payload)
{
	(void)seq;
	(void)payload;
	if (fwrite(line, 1, len, stdout) != len || putchar('\n') == EOF)
		return NEDB_EIO;
	return 0;
}

static int
export_log(void)
{
	nedb *db = cli_open(false);
	uint64_t head;
	int rc;

	if ((rc = nedb_read_begin(db)) || (rc = nedb_head(db, &head, NULL)) ||
	    (rc = nedb_log_scan(db, 0, head, NEDB_SCAN_RAW, export_line,
				NULL)))
		cli_fail(rc);
	nedb_read_end(db);
	if (fflush(stdout))
		cli_failf(NEDB_EIO, "cannot write: %s", strerror(errno));
	nedb_close(db);
	return 0;
}

static int
import_log(void)
{
	char head[65], out[160];
	uint64_t seq;
	int rc;

	if ((rc = nedb_import(cli_dir(), getenv("NEDB_LOG"), 0, &seq, head)))
		cli_fail(rc);
	snprintf(out, sizeof out, "{\"seq\":%llu,\"head\":\"%s\"}",
		 (unsigned long long)seq, head);
	cli_print(out, strlen(out));
	cli_finish();
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t since = 0, until = NEDB_HEAD, n = 0, head, from;
	bool follow = false, have_n = false, raw = false;
	int move = 0, other = 0;	/* --export, --import; other options */
	int flags = 0;		/* NEDB_SCAN_REVERSE, NEDB_SCAN_RAW */
	nedb *db;
	int c, rc;

	cli_init("nedb-log", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "n:f",
				longopts, NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		if (c != OPT_EXPORT && c != OPT_IMPORT)
			other++;
		switch (c) {
		case OPT_EXPORT:
		case OPT_IMPORT:
			if (move && move != c)
				cli_usage("--export and --import go apart");
			move = c;
			break;
		case 'n': n = cli_u64("count", optarg); have_n = true; break;
		case OPT_SINCE: since = cli_u64("seq", optarg); break;
		case OPT_UNTIL: until = cli_u64("seq", optarg); break;
		case OPT_REVERSE: flags |= NEDB_SCAN_REVERSE; break;
		case OPT_RAW: flags |= NEDB_SCAN_RAW; raw = true; break;
		case 'f': follow = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	if (move && (other || cli.array || cli.table || cli.pretty))
		cli_usage("--%s takes no other option of nedb-log's",
			  move == OPT_EXPORT ? "export" : "import");
	if (move == OPT_EXPORT)
		return export_log();
	if (move == OPT_IMPORT)
		return import_log();
	if (follow && ((flags & NEDB_SCAN_REVERSE) || cli.array || until != NEDB_HEAD))
		cli_usage("--follow cannot be combined with --reverse, --array "
			  "or --until");
	if (follow && cli.table)
		cli_usage("--follow cannot be combined with --table: a table "
			  "is drawn once every row is known");
	db = cli_open(false);
	if ((rc = nedb_read_begin(db)) || (rc = nedb_head(db, &head, NULL)))
		cli_fail(rc);
	if (until > head)
		until = head;
	from = since;
	if (have_n) {
		if (n == 0)
			from = until + 1;
		else if (until + 1 - n > from && until + 1 >= n)
			from = until + 1 - n;
	}
	if (from <= until &&
	    (rc = nedb_log_scan(db, from, until, flags, print_line, &raw)))
		cli_fail(rc);
	nedb_read_end(db);
	if (since > head + 1)
		head = since - 1;	/* follow from SEQ, not from the head */
	while (follow) {
		uint64_t last = head;

		if (fflush(stdout))
			break;
		if ((rc = nedb_wait(db, &head, 1000)))
			cli_fail(rc);
		/* a wait that timed out gives the head as it is, which may
		 * still be short of SEQ - 1: go on from where we were */
		if (head <= last) {
			head = last;
			continue;
		}
		if ((rc = nedb_log_scan(db, last + 1, head,
					flags & NEDB_SCAN_RAW, print_line,
					&raw)))
			cli_fail(rc);
	}
	nedb_close(db);
	cli_finish();
	return 0;
}
