/*
 * nedb-verify - rewalk the hash chain from genesis and hold the log to
 * the format's rules; with --view, also the view to the log.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-verify [options]\n"
"\n"
"Checks every op of the log from genesis, archived ones included: its\n"
"shape, its seq, its link to the op before it, its hash, and the format's\n"
"rules (genesis first, nonces increasing per client, idempotency keys\n"
"used once); prints {\"ok\":true,\"seq\":N,\"head\":H}, or\n"
"{\"ok\":false,\"seq\":K,\"error\":E} naming the first bad op (exit 1).\n"
"A database whose log is on an engine (nedb(7)) is also compared with the\n"
"engine's log, op by op: the first seq at which they differ is bad.\n"
"\n"
"Options:\n"
"      --view            also check that the view matches the log: rebuild\n"
"                        the state from the log and compare it with the\n"
"                        materialized view, naming the first difference\n"
"      --determinism     the same as --view (its former name)\n"
"      --files           also read back every chunk of every version of\n"
"                        every file (nedb-file(1)), each checked against\n"
"                        its address and each version against its root;\n"
"                        adds \"files\":N, the versions checked\n"
CLI_TABLE_HELP
CLI_PROGRESS_HELP;

enum { OPT_VIEW = OPT_CMD, OPT_FILES };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	CLI_PROGRESS_LONGOPTS,
	{"view", no_argument, 0, OPT_VIEW},
	{"determinism", no_argument, 0, OPT_VIEW},
	{"files", no_argument, 0, OPT_FILES},
	{0, 0, 0, 0}
};

/* The file store's check: counts the versions, keeps the first bad. */
struct fcheck {
	uint64_t n, bad_seq;
	int bad;
	char why[256];
};

static int
file_checked(const nedb_file_version *v, int rc, void *payload)
{
	struct fcheck *f = payload;

	f->n++;
	if (rc && !f->bad) {
		f->bad = rc;
		f->bad_seq = v->seq;
		snprintf(f->why, sizeof f->why, "%s", nedb_errmsg());
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct fcheck fc = {0};
	bool files = false, engine;
	uint64_t bad;
	nedb_verify_result r;
	unsigned flags = 0;
	nedb_buf out = {0};
	nedb *db;
	int c, rc;

	cli_init("nedb-verify", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		if (c == OPT_VIEW)
			flags |= NEDB_VERIFY_DETERMINISM;
		else if (c == OPT_FILES)
			files = true;
		else
			cli_bad_option(c, argv);
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	/* this copy as it is: a copy the engine no longer agrees with
	 * is reported here, not refused at the open */
	db = cli_open_flags(NEDB_OPEN_LOCAL);
	engine = nedb_engine_url(db) != NULL;
	if (engine && (rc = nedb_engine_sync(db)) && rc != NEDB_ECORRUPT)
		cli_fail(rc);
	cli_progress_library();
	rc = nedb_verify(db, flags, &r);
	cli_progress_end();
	if (rc)
		cli_fail(rc);
	if (r.ok && engine) {
		int ok;
		uint64_t seq;
		char why[160];

		if ((rc = nedb_engine_check(db, &ok, &seq, why, sizeof why)))
			cli_fail(rc);
		if (!ok) {
			r.ok = 0;
			r.seq = seq;
			snprintf(r.error, sizeof r.error, "this copy and the "
				 "log engine differ at seq %llu: %s",
				 (unsigned long long)seq, why);
		}
	}
	if (r.ok && files) {
		if ((rc = nedb_file_check(db, file_checked, &fc, &bad)) &&
		    rc != NEDB_ECORRUPT)
			cli_fail(rc);
		if (fc.bad) {
			r.ok = 0;
			r.seq = fc.bad_seq;
			snprintf(r.error, sizeof r.error, "%s", fc.why);
		}
	}
	if (r.ok) {
		nedb_buf_printf(&out, "{\"ok\":true,\"seq\":%llu,\"head\":"
				"\"%s\"", (unsigned long long)r.seq, r.head);
		if (files)
			nedb_buf_printf(&out, ",\"files\":%llu",
					(unsigned long long)fc.n);
		nedb_buf_puts(&out, "}");
	} else {
		nedb_buf_printf(&out, "{\"ok\":false,\"seq\":%llu,\"error\":",
				(unsigned long long)r.seq);
		nedb_buf_json_str(&out, r.error, strlen(r.error));
		nedb_buf_puts(&out, "}");
	}
	cli_print(out.p, out.len);
	nedb_buf_free(&out);
	nedb_close(db);
	cli_finish();
	return r.ok ? 0 : nedb_exit_status(NEDB_EBROKEN);
}
