/*
 * nedb-index - create, drop and list secondary indexes.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-index [options] COLL FIELD eq|ordered|search\n"
"       nedb-index --drop [options] COLL FIELD [eq|ordered|search]\n"
"       nedb-index --list\n"
"       nedb-index --auto N\n"
"\n"
"Creates an index on a field (a dotted path), filled at once from the\n"
"collection and kept by every later write (a field may carry one of each\n"
"kind); drops one, or every kind on the field; or lists them as\n"
"{\"coll\",\"field\",\"kind\",\"entries\"}.\n"
"\n"
"Options:\n"
"      --drop            drop the index of that kind on COLL FIELD (of\n"
"                        every kind without one)\n"
"      --list            list every index\n"
"      --auto N          index a field once queries have filtered or\n"
"                        sorted on it N times (0: never, the default)\n"
"      --client C        client id for replay protection (default local)\n"
"      --nonce N         the client's nonce; must exceed the last one\n"
CLI_TABLE_HELP;

enum { OPT_DROP = OPT_CMD, OPT_LIST, OPT_AUTO };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"drop", no_argument, 0, OPT_DROP},
	{"list", no_argument, 0, OPT_LIST},
	{"auto", required_argument, 0, OPT_AUTO},
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{0, 0, 0, 0}
};

int
main(int argc, char **argv)
{
	bool drop = false, list = false, autoset = false;
	uint64_t autoval = 0;
	nedb_wopts w = {0};
	nedb_receipt rcpt;
	nedb_buf r = {0};
	nedb *db;
	int c, rc;

	cli_init("nedb-index", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &w))
			continue;
		switch (c) {
		case OPT_DROP: drop = true; break;
		case OPT_LIST: list = true; break;
		case OPT_AUTO:
			autoval = cli_u64("count", optarg);
			autoset = true;
			break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (autoset) {
		if (drop || list || argc)
			cli_usage("--auto takes no other arguments");
		db = cli_open(false);
		if ((rc = nedb_set_auto_index(db, autoval)))
			cli_fail(rc);
		nedb_buf_printf(&r, "{\"auto_index\":%llu}",
				(unsigned long long)autoval);
		cli_print(r.p, r.len);
	} else if (list) {
		if (drop || argc)
			cli_usage("--list takes no arguments");
		db = cli_open(false);
		if ((rc = nedb_indexes_json(db, "\n", &r)))
			cli_fail(rc);
		if (r.len)
			nedb_buf_puts(&r, "\n");
		cli_print_lines(&r);
	} else {
		if (drop ? argc != 2 && argc != 3 : argc != 3)
			cli_usage(drop ? "want COLL FIELD [KIND]" :
				  "want COLL FIELD eq|ordered|search");
		if (argc == 3 && strcmp(argv[2], "eq") &&
		    strcmp(argv[2], "ordered") && strcmp(argv[2], "search"))
			cli_usage("bad index kind '%s': want eq, ordered or "
				  "search", argv[2]);
		if ((rc = nedb_check_coll(argv[0])))
			cli_fail(rc);
		db = cli_open(!drop);
		if ((rc = nedb_write_begin(db)) ||
		    (rc = drop ?
			  nedb_write_unindex(db, argv[0], argv[1],
					     argc == 3 ? argv[2] : NULL, &w,
					     &rcpt) :
			  nedb_write_index(db, argv[0], argv[1], argv[2], &w,
					   &rcpt)) ||
		    (rc = nedb_write_commit(db)))
			cli_fail(rc);
		cli_print_receipt(&rcpt);
	}
	nedb_buf_free(&r);
	nedb_close(db);
	cli_finish();
	return 0;
}
