/*
 * nedb-expire - set, change or clear a document's time to live.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-expire [options] COLL ID SECONDS\n"
"       nedb-expire --persist [options] COLL ID\n"
"\n"
"Makes a live document expire SECONDS from now (an expire op), or with\n"
"--persist never; prints the receipt.  Exits 1 if there is no live\n"
"document.  Expired documents vanish from HEAD reads at once and are\n"
"deleted by nedb-sweep; reads AS OF the past ignore expiry.\n"
"\n"
"Options:\n"
"      --persist         clear the expiry\n"
"      --client C        client id for replay protection (default local)\n"
"      --nonce N         the client's nonce; must exceed the last one\n"
"      --idem KEY        idempotency key\n";

enum { OPT_PERSIST = OPT_CMD };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{"persist", no_argument, 0, OPT_PERSIST},
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{"idem", required_argument, 0, OPT_IDEM},
	{0, 0, 0, 0}
};

int
main(int argc, char **argv)
{
	bool persist = false;
	nedb_wopts w = {0};
	nedb_receipt r;
	int64_t ttl = 0;
	nedb *db;
	int c, rc;

	cli_init("nedb-expire", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &w))
			continue;
		switch (c) {
		case OPT_PERSIST: persist = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != (persist ? 2 : 3))
		cli_usage(persist ? "want COLL ID" : "want COLL ID SECONDS");
	if (!persist) {
		uint64_t s = cli_u64("seconds", argv[2]);

		if (s == 0 || s > INT64_MAX / 1000)
			cli_usage("bad seconds '%s': want a number > 0 (or "
				  "--persist)", argv[2]);
		ttl = (int64_t)s * 1000;
	}
	if ((rc = nedb_check_coll(argv[0])) ||
	    (rc = nedb_check_id(argv[1], strlen(argv[1]))))
		cli_fail(rc);
	db = cli_open(false);
	if ((rc = nedb_write_begin(db)) ||
	    (rc = nedb_write_expire(db, argv[0], argv[1], ttl, &w, &r)) ||
	    (rc = nedb_write_commit(db)))
		cli_fail(rc);
	cli_print_receipt(&r);
	nedb_close(db);
	cli_finish();
	return 0;
}
