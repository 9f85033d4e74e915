/*
 * nedb-stats - what a database holds, as one JSON object.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-stats [options]\n"
"\n"
"Prints {\"seq\",\"head\",\"ops\",\"log_bytes\",\"view_bytes\",\"collections\":\n"
"[{\"coll\",\"count\"}],\"indexes\":[{\"coll\",\"field\",\"kind\",\"entries\"}],\n"
"\"last_checkpoint\",\"expired_pending\"}.\n"
"\n"
"Options:\n"
CLI_TABLE_HELP;

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{0, 0, 0, 0}
};

int
main(int argc, char **argv)
{
	nedb_stats s;
	nedb_buf b = {0};
	uint64_t pending;
	nedb *db;
	int c, rc;

	cli_init("nedb-stats", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1)
		if (!cli_common(c, optarg))
			cli_bad_option(c, argv);
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	db = cli_open(false);
	if ((rc = nedb_read_begin(db)) || (rc = nedb_stats_get(db, &s)) ||
	    (rc = nedb_expired_pending(db, nedb_now_ms(), &pending)))
		cli_fail(rc);
	nedb_buf_printf(&b, "{\"seq\":%llu,\"head\":\"%s\",\"ops\":%llu,"
			"\"log_bytes\":%llu,\"view_bytes\":%llu,"
			"\"collections\":[", (unsigned long long)s.seq, s.head,
			(unsigned long long)s.seq + 1,
			(unsigned long long)s.log_bytes,
			(unsigned long long)s.view_bytes);
	if ((rc = nedb_collections_json(db, ",", &b)))
		cli_fail(rc);
	nedb_buf_puts(&b, "],\"indexes\":[");
	if ((rc = nedb_indexes_json(db, ",", &b)))
		cli_fail(rc);
	nedb_buf_puts(&b, "],\"last_checkpoint\":");
	if (s.has_checkpoint)
		nedb_buf_printf(&b, "%llu", (unsigned long long)s.checkpoint);
	else
		nedb_buf_puts(&b, "null");
	nedb_buf_printf(&b, ",\"expired_pending\":%llu}",
			(unsigned long long)pending);
	cli_print(b.p, b.len);
	nedb_read_end(db);
	nedb_buf_free(&b);
	nedb_close(db);
	cli_finish();
	return 0;
}
