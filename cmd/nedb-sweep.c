/*
 * nedb-sweep - delete every expired document now.
 */
#include <stdio.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-sweep [options]\n"
"\n"
"Appends a delete op for every document whose time to live has run out\n"
"and prints {\"deleted\":N}.  Meant for cron; see nedb(7).\n";

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{0, 0, 0, 0}
};

int
main(int argc, char **argv)
{
	uint64_t n = 0;
	nedb_buf r = {0};
	nedb *db;
	int c, rc;

	cli_init("nedb-sweep", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1)
		if (!cli_common(c, optarg))
			cli_bad_option(c, argv);
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	db = cli_open(false);
	if ((rc = nedb_write_begin(db)) ||
	    (rc = nedb_write_sweep(db, nedb_now_ms(), &n)) ||
	    (rc = nedb_write_commit(db)))
		cli_fail(rc);
	nedb_buf_printf(&r, "{\"deleted\":%llu}", (unsigned long long)n);
	cli_print(r.p, r.len);
	nedb_buf_free(&r);
	nedb_close(db);
	cli_finish();
	return 0;
}
