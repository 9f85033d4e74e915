/*
 * nedb-redact - erase the text of one or every version of a document
 * (SPEC §9; the design: doc/redaction.md, the library: engine/redact.c).
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-redact [options] COLL ID (--seq S | --all) [--reason TEXT]\n"
"\n"
"Erases the document text of version S of COLL/ID, or of every version,\n"
"from every file of the database, with a redact op that names what was\n"
"erased and why; prints its receipt.  Every op hash, proof and signed\n"
"checkpoint stays valid.  Needs a database in log format 2.\n"
"\n"
"Options:\n"
"      --seq S           the version (the seq of its put) to erase\n"
"      --all             every version not erased yet\n"
"      --reason TEXT     why (kept in the log for good: no personal data)\n"
"      --client C        client id for replay protection (default local)\n"
"      --nonce N         the client's nonce; must exceed the last one\n"
"      --idem KEY        idempotency key\n";

enum { OPT_SEQ = OPT_CMD, OPT_ALL, OPT_REASON };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{"seq", required_argument, 0, OPT_SEQ},
	{"all", no_argument, 0, OPT_ALL},
	{"reason", required_argument, 0, OPT_REASON},
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{"idem", required_argument, 0, OPT_IDEM},
	{0, 0, 0, 0}
};

int
main(int argc, char **argv)
{
	const char *reason = NULL;
	nedb_receipt rcpt;
	nedb_wopts w = {0};
	uint64_t seq = 0;
	bool all = false;
	int c, rc;
	nedb *db;

	cli_init("nedb-redact", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &w))
			continue;
		switch (c) {
		case OPT_SEQ: seq = cli_u64("--seq", optarg); break;
		case OPT_ALL: all = true; break;
		case OPT_REASON: reason = optarg; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2)
		cli_usage(argc < 2 ? "missing collection or id" :
			  "too many arguments");
	if (all == (seq != 0))
		cli_usage(all ? "--seq and --all exclude each other" :
			  "give --seq S or --all");
	if ((rc = nedb_check_coll(argv[0])) ||
	    (rc = nedb_check_id(argv[1], strlen(argv[1]))))
		cli_fail(rc);
	db = cli_open(false);
	if ((rc = nedb_redact(db, argv[0], argv[1], seq, reason, &w,
			      cli.tmk_file, &rcpt)))
		cli_fail(rc);
	nedb_close(db);
	cli.open = NULL;
	cli_print_receipt(&rcpt);
	cli_finish();
	return 0;
}
