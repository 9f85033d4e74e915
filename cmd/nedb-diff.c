/*
 * nedb-diff - what changed between two points of time: one line per
 * document added, removed or changed.
 */
#include <stdio.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-diff [options] SEQ1 SEQ2 [COLL]\n"
"\n"
"Prints each document whose text differs between the database as of\n"
"op SEQ1 and as of op SEQ2, one\n"
"{\"coll\",\"id\",\"change\":\"added|removed|changed\",\"before\",\"after\"}\n"
"per line, by collection and id; only COLL's documents when it is\n"
"given.  A point is a seq, or @TIME (2026-12-06T16:28:40Z): the last op\n"
"at or before TIME.\n"
"\n"
"Options:\n"
"  -e, --exit-status     exit 1 when nothing changed\n"
CLI_TABLE_HELP;

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"exit-status", no_argument, 0, 'e'},
	{0, 0, 0, 0}
};

static nedb_buf out;

static int
print_change(const nedb_change *c, void *payload)
{
	int *n = payload;

	out.len = 0;
	nedb_change_json(&out, c);
	cli_print(out.p, out.len);
	(*n)++;
	return 0;
}

int
main(int argc, char **argv)
{
	bool exit_status = false;
	uint64_t from, to;
	int c, rc, n = 0;
	nedb *db;

	cli_init("nedb-diff", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "e", longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		if (c == 'e')
			exit_status = true;
		else
			cli_bad_option(c, argv);
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		cli_usage(argc ? "missing SEQ2" : "missing SEQ1 and SEQ2");
	if (argc > 3)
		cli_usage("unexpected argument '%s'", argv[3]);
	if (argc > 2 && (rc = nedb_check_coll(argv[2])))
		cli_fail(rc);
	db = cli_open(false);
	if ((rc = nedb_read_begin(db)))
		cli_fail(rc);
	from = cli_point(db, "SEQ1", argv[0]);
	to = cli_point(db, "SEQ2", argv[1]);
	if ((rc = nedb_diff(db, from, to, argc > 2 ? argv[2] : NULL,
			    print_change, &n)))
		cli_fail(rc);
	nedb_read_end(db);
	nedb_close(db);
	nedb_buf_free(&out);
	cli_finish();
	return exit_status && !n ? nedb_exit_status(NEDB_ENOTFOUND) : 0;
}
