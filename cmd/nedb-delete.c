/*
 * nedb-delete - delete documents (a delete op each; history keeps them).
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-delete [options] COLL [ID...]\n"
"\n"
"Appends a delete op for each document (ids one per line on stdin when\n"
"none are given) and prints its receipt; exits 1 if any did not exist.\n"
"\n"
"Options:\n"
"      --client C        client id for replay protection (default local)\n"
"      --nonce N         the client's nonce; must exceed the last one\n"
"      --idem KEY        idempotency key (one ID only)\n"
"  -q, --quiet           print no receipts\n"
CLI_TABLE_HELP;

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{"idem", required_argument, 0, OPT_IDEM},
	{"quiet", no_argument, 0, 'q'},
	{0, 0, 0, 0}
};

int
main(int argc, char **argv)
{
	nedb_buf r = {0}, line = {0};
	nedb_receipt rcpt;
	nedb_wopts w = {0};
	bool quiet = false;
	int c, rc, missing = 0, failed = 0;
	char msg[600];
	nedb *db;

	cli_init("nedb-delete", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "q",
				longopts, NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &w))
			continue;
		switch (c) {
		case 'q': quiet = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage("missing collection");
	if (w.idem && argc != 2)
		cli_usage("--idem needs exactly one ID");
	if ((rc = nedb_check_coll(argv[0])))
		cli_fail(rc);
	db = cli_open(false);
	if ((rc = nedb_write_begin(db)))
		cli_fail(rc);
	/* Deletes before a rejected one stay committed, as in a stream. */
	for (int i = 1; argc == 1 ? cli_read_line(&line) : i < argc; i++) {
		const char *id = argc == 1 ? line.p : argv[i];

		if (argc == 1 && !line.len)
			continue;
		if (argc == 1 && nedb_check_id(line.p, line.len)) {
			failed = NEDB_EINPUT;
			break;
		}
		rc = nedb_write_delete(db, argv[0], id, &w, &rcpt);
		if (!rc)
			cli_receipt_line(&r, &rcpt);
		else if (rc == NEDB_ENOTFOUND) {
			cli_error(rc);
			missing = 1;
		} else if (rc) {
			failed = rc;
			break;
		}
		if (w.nonce && !rc && w.nonce < UINT64_MAX)
			w.nonce++;	/* at the maximum, the next is stale */
	}
	if (failed)
		snprintf(msg, sizeof msg, "%s", nedb_errmsg());
	if ((rc = nedb_write_commit(db)))
		cli_fail(rc);
	if (!quiet)
		cli_print_lines(&r);
	if (failed)
		cli_failf(failed, "%s", msg);
	nedb_close(db);
	nedb_buf_free(&r);
	nedb_buf_free(&line);
	cli_finish();
	return missing ? nedb_exit_status(NEDB_ENOTFOUND) : 0;
}
