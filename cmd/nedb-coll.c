/*
 * nedb-coll - list collections with their row counts; drop one.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-coll [options]\n"
"       nedb-coll --drop [options] COLL\n"
"\n"
"Lists the collections that have documents as {\"coll\",\"count\"}, or\n"
"drops one: a drop op deletes every document (the past still sees them).\n"
"\n"
"Options:\n"
"      --drop            drop collection COLL\n"
"      --client C        client id for replay protection (default local)\n"
"      --nonce N         the client's nonce; must exceed the last one\n"
CLI_TABLE_HELP;

enum { OPT_DROP = OPT_CMD };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"drop", no_argument, 0, OPT_DROP},
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{0, 0, 0, 0}
};

int
main(int argc, char **argv)
{
	nedb_wopts w = {0};
	nedb_receipt rcpt;
	nedb_buf r = {0};
	bool drop = false;
	nedb *db;
	int c, rc;

	cli_init("nedb-coll", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &w))
			continue;
		switch (c) {
		case OPT_DROP: drop = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != (drop ? 1 : 0))
		cli_usage(drop ? "want COLL" : "unexpected argument '%s'",
			  argv[0]);
	db = cli_open(false);
	if (!drop) {
		if ((rc = nedb_collections_json(db, "\n", &r)))
			cli_fail(rc);
		if (r.len)
			nedb_buf_puts(&r, "\n");
		cli_print_lines(&r);
	} else {
		if ((rc = nedb_check_coll(argv[0])))
			cli_fail(rc);
		rc = nedb_write_begin(db);
		if (!rc)
			rc = nedb_write_drop(db, argv[0], &w, &rcpt);
		if (!rc)
			rc = nedb_write_commit(db);
		if (rc)
			cli_fail(rc);
		cli_print_receipt(&rcpt);
	}
	nedb_buf_free(&r);
	nedb_close(db);
	cli_finish();
	return 0;
}
