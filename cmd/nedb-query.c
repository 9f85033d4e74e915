/*
 * nedb-query - run NQL queries and MongoDB-style filters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "nedb_jv.h"

static const char usage[] =
"usage: nedb-query [options] [NQL]\n"
"       nedb-query [options] --filter JSON COLL\n"
"\n"
"Runs an NQL query (the argument, or stdin) and prints the rows as NDJSON;\n"
"or a MongoDB-style filter on collection COLL.  See nedb-nql(7).\n"
"\n"
"Options:\n"
"      --explain         print the plan (index used, estimated and\n"
"                        scanned rows) instead of the rows\n"
"      --filter JSON     a filter: $and $or $not $nor $eq $ne $gt $gte\n"
"                        $lt $lte $in $nin $exists, dotted paths\n"
"      --sort JSON       --filter: {\"field\":1 or -1, ...}\n"
"      --skip N          --filter: skip the first N rows\n"
"      --limit N         --filter: at most N rows\n"
"      --as-of SEQ|@TIME --filter: as the database stood after op SEQ,\n"
"                        or at TIME (the last op at or before it)\n"
"      --project JSON    keep only some members: {\"f\":1,...} or {\"f\":0}\n"
"      --jq FILTER       run a jq program on each row, print its outputs\n"
"      --verify          check each row against its op in the log\n"
"                        before printing it (exit 5 if one differs)\n"
"  -e, --exit-status     exit 1 when there are no rows\n"
CLI_TABLE_HELP;

enum { OPT_EXPLAIN = OPT_CMD, OPT_FILTER, OPT_SORT, OPT_SKIP, OPT_LIMIT,
       OPT_PROJECT, OPT_JQ, OPT_VERIFY };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"explain", no_argument, 0, OPT_EXPLAIN},
	{"filter", required_argument, 0, OPT_FILTER},
	{"sort", required_argument, 0, OPT_SORT},
	{"skip", required_argument, 0, OPT_SKIP},
	{"limit", required_argument, 0, OPT_LIMIT},
	{"as-of", required_argument, 0, OPT_ASOF},
	{"project", required_argument, 0, OPT_PROJECT},
	{"jq", required_argument, 0, OPT_JQ},
	{"verify", no_argument, 0, OPT_VERIFY},
	{"exit-status", no_argument, 0, 'e'},
	{0, 0, 0, 0}
};

static const char *project;
static jq_state *jq;
static uint64_t nrows;
static nedb_buf pbuf;

static void
jq_error(void *data, jv msg)
{
	(void)data;
	if (jv_get_kind(msg) == JV_KIND_STRING)
		fprintf(stderr, "nedb-query: jq: %s\n", jv_string_value(msg));
	jv_free(msg);
}

static int
row(const char *json, size_t len, void *payload)
{
	(void)payload;
	if (project) {
		pbuf.len = 0;
		if (nedb_project(&pbuf, json, len, project))
			cli_fail(NEDB_EUSAGE);
		json = pbuf.p;
		len = pbuf.len;
	}
	if (jq) {
		jv in = jv_parse_sized(json, (int)len), out;

		jq_start(jq, in, 0);
		while (jv_is_valid(out = jq_next(jq))) {
			jv s = jv_dump_string(out, 0);

			cli_print(jv_string_value(s),
				  (size_t)jv_string_length_bytes(jv_copy(s)));
			jv_free(s);
			nrows++;
		}
		if (jv_invalid_has_msg(jv_copy(out))) {
			jv msg = jv_invalid_get_msg(out);

			/* a program failing on a row: exit 5 (nedb-query(1)) */
			cli_failf(NEDB_EIO, "jq: %s", jv_get_kind(msg) ==
				  JV_KIND_STRING ? jv_string_value(msg) :
				  "error");
		}
		jv_free(out);
		return 0;
	}
	cli_print(json, len);
	nrows++;
	return 0;
}

int
main(int argc, char **argv)
{
	nedb_find_opts f = {.as_of = NEDB_HEAD};
	const char *filter = NULL, *jqprog = NULL;
	bool explain = false, exit_status = false, find = false, verify = false;
	nedb_buf text = {0};
	unsigned flags;
	nedb *db;
	int c, rc;

	cli_init("nedb-query", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "e",
				longopts, NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		switch (c) {
		case OPT_EXPLAIN: explain = true; break;
		case OPT_FILTER: filter = optarg; find = true; break;
		case OPT_SORT: f.sort = optarg; find = true; break;
		case OPT_SKIP: f.skip = cli_u64("count", optarg); find = true;
			break;
		case OPT_LIMIT:
			f.limit = cli_u64("count", optarg);
			f.has_limit = 1;
			find = true;
			break;
		case OPT_ASOF:
			f.as_of = cli_as_of(optarg);
			find = true;
			break;
		case OPT_PROJECT: project = optarg; break;
		case OPT_JQ: jqprog = optarg; break;
		case OPT_VERIFY: verify = true; break;
		case 'e': exit_status = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (find && !filter)
		cli_usage("--sort, --skip, --limit and --as-of go with "
			  "--filter (NQL has ORDER BY, LIMIT, AS OF)");
	if (find && argc != 1)
		cli_usage(argc ? "too many arguments" : "--filter needs COLL");
	if (!find && argc > 1)
		cli_usage("too many arguments: quote the query");
	if (jqprog) {
		if ((rc = nedb__jv_require()))
			cli_fail(rc);
		jq = jq_init();
		jq_set_error_cb(jq, jq_error, NULL);
		if (!jq || !jq_compile(jq, jqprog))
			cli_usage("bad --jq program '%s'", jqprog);
	}
	if (project) {
		nedb_buf t = {0};

		if (nedb_project(&t, "{}", 2, project))
			cli_fail(NEDB_EUSAGE);
		nedb_buf_free(&t);
	}
	if (!find) {
		if (argc == 1)
			nedb_buf_puts(&text, argv[0]);
		else
			cli_read_stdin(&text);
		if (!text.len)
			cli_usage("missing query");
	}
	db = cli_open(false);
	nedb_set_read_verify(db, verify);
	flags = explain ? NEDB_QUERY_EXPLAIN : 0;
	if (explain) {		/* the plan is printed as it is */
		project = NULL;
		if (jq)
			jq_teardown(&jq);
	}
	if (find) {
		f.coll = argv[0];
		f.filter = filter;
		f.as_of = cli_as_of_seq(db, f.as_of);
		rc = nedb_find(db, &f, flags, row, NULL);
	} else
		rc = nedb_query(db, text.p, flags, row, NULL);
	if (rc) {
		if (rc == NEDB_EUSAGE) {
			cli_error(rc);
			if (!find)
				cli_show_errpos(text.p);
			exit(nedb_exit_status(rc));
		}
		cli_fail(rc);
	}
	nedb_close(db);
	nedb_buf_free(&text);
	nedb_buf_free(&pbuf);
	if (jq)
		jq_teardown(&jq);
	cli_finish();
	return exit_status && !nrows ? nedb_exit_status(NEDB_ENOTFOUND) : 0;
}
