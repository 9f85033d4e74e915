/*
 * nedb-update - change the documents a filter matches with MongoDB-style
 * update operators; each change is a put op, or for a large document a
 * patch op of the update (nedb-format(5)).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-update [options] COLL FILTER UPDATE\n"
"\n"
"Applies UPDATE ($set $unset $inc $push $pull, dotted paths; or a plain\n"
"object that replaces the document) to the first document FILTER matches\n"
"(in _id order), or to all of them with --many; prints a receipt per\n"
"changed document.  Exits 1 when nothing matches.\n"
"\n"
"Options:\n"
"      --many            update every matching document\n"
"      --upsert          insert a document when nothing matches: the\n"
"                        filter's equality members changed by the\n"
"                        operators (a replacement keeps only the\n"
"                        filter's _id)\n"
"      --client C        client id for replay protection (default local)\n"
"      --nonce N         the client's first nonce\n"
"  -q, --quiet           print no receipts\n"
CLI_TABLE_HELP;

enum { OPT_MANY = OPT_CMD, OPT_UPSERT };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"many", no_argument, 0, OPT_MANY},
	{"upsert", no_argument, 0, OPT_UPSERT},
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{"quiet", no_argument, 0, 'q'},
	{0, 0, 0, 0}
};

/* The receipts, printed once the update is committed. */
static int
keep_receipt(const nedb_receipt *r, void *payload)
{
	cli_receipt_line(payload, r);
	return 0;
}

int
main(int argc, char **argv)
{
	nedb_update_opts o = {0};
	nedb_update_info info;
	nedb_buf r = {0}, probe = {0};
	bool quiet = false;
	nedb *db;
	int c, rc;

	cli_init("nedb-update", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "q",
				longopts, NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &o.w))
			continue;
		switch (c) {
		case OPT_MANY: o.many = 1; break;
		case OPT_UPSERT: o.upsert = 1; break;
		case 'q': quiet = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3)
		cli_usage("want COLL FILTER UPDATE");
	o.coll = argv[0];
	o.filter = argv[1];
	o.update = argv[2];
	if ((rc = nedb_check_coll(o.coll)))
		cli_fail(rc);
	/* a bad update is a usage error, before the database is opened */
	if ((rc = nedb_update_doc(&probe, "{}", 2, o.update)) == NEDB_EUSAGE)
		cli_fail(rc);
	nedb_buf_free(&probe);
	db = cli_open(o.upsert);
	if ((rc = nedb_update(db, &o, &info, quiet ? NULL : keep_receipt,
			      &r)))
		cli_fail(rc);
	cli_print_lines(&r);
	nedb_buf_free(&r);
	nedb_close(db);
	cli_finish();
	if (!info.matched && !o.upsert)
		cli_failf(NEDB_ENOTFOUND, "no document matches");
	return 0;
}
