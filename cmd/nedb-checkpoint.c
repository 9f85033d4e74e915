/*
 * nedb-checkpoint - commit to a digest of the state; rebuild the view.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-checkpoint [options]\n"
"\n"
"Brings the view up to date, appends a checkpoint op that commits to a\n"
"digest of the whole materialized state, compacts the view when no other\n"
"process has the database open, and prints the receipt.\n"
"\n"
"Options:\n"
"      --prune           then archive (zlib) the log before this checkpoint\n"
"                        into archive/, so that log.aof starts at it\n"
"      --rebuild         rebuild the view from the log instead\n"
"      --sign KEYFILE    also sign the Merkle tree of the ops as a C2SP\n"
"                        tlog-checkpoint note with this signer key (nedb-key\n"
"                        signer new), kept in the database; the receipt\n"
"                        carries it as \"note\"\n"
"      --origin NAME     the checkpoint's origin line (default: nedb/ and\n"
"                        the first 16 hex digits of the genesis hash)\n"
CLI_PROGRESS_HELP;

enum { OPT_REBUILD = OPT_CMD, OPT_PRUNE, OPT_SIGN, OPT_ORIGIN };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_PROGRESS_LONGOPTS,
	{"rebuild", no_argument, 0, OPT_REBUILD},
	{"prune", no_argument, 0, OPT_PRUNE},
	{"sign", required_argument, 0, OPT_SIGN},
	{"origin", required_argument, 0, OPT_ORIGIN},
	{0, 0, 0, 0}
};

int
main(int argc, char **argv)
{
	bool rebuild = false, prune = false;
	const char *sign = NULL, *origin = NULL;
	nedb_receipt rcpt;
	nedb_buf r = {0};
	char head[65];
	uint64_t seq;
	nedb *db;
	int c, rc;

	cli_init("nedb-checkpoint", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		if (c == OPT_REBUILD)
			rebuild = true;
		else if (c == OPT_PRUNE)
			prune = true;
		else if (c == OPT_SIGN)
			sign = optarg;
		else if (c == OPT_ORIGIN)
			origin = optarg;
		else
			cli_bad_option(c, argv);
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	if (rebuild && prune)
		cli_usage("--rebuild and --prune exclude each other");
	if (rebuild && sign)
		cli_usage("--rebuild and --sign exclude each other");
	if (origin && !sign)
		cli_usage("--origin names a signed checkpoint: give --sign "
			  "KEYFILE");
	/* a bad key or origin is refused before anything is written */
	if (sign && (rc = nedb_tree_sign_check(sign, origin)))
		cli_fail(rc);
	db = cli_open(false);
	cli_progress_library();	/* the rebuild's replay, the digest's */
	if (rebuild) {
		if ((rc = nedb_rebuild(db)) || (rc = nedb_head(db, &seq, head)))
			cli_fail(rc);
		nedb_buf_printf(&r, "{\"rebuilt\":true,\"seq\":%llu,"
				"\"head\":\"%s\"}", (unsigned long long)seq,
				head);
	} else {
		if ((rc = nedb_write_begin(db)) ||
		    (rc = nedb_write_checkpoint(db, &rcpt)) ||
		    (rc = nedb_write_commit(db)))
			cli_fail(rc);
		/* the receipt, with what went to the archive and what
		 * became of the view */
		if ((rc = nedb_receipt_json(&r, &rcpt, NEDB_RECEIPT_OPEN)))
			cli_fail(rc);
		if (sign) {
			/* the tree with the checkpoint op, signed */
			nedb_buf note = {0};

			if ((rc = nedb_tree_sign(db, sign, origin, &note)))
				cli_fail(rc);
			nedb_buf_puts(&r, ",\"note\":");
			nedb_buf_json_str(&r, note.p, note.len);
			nedb_buf_free(&note);
		}
		if (prune) {
			nedb_prune_info pi;

			if ((rc = nedb_prune(db, &pi)))
				cli_fail(rc);
			nedb_buf_printf(&r, ",\"archived\":{\"ops\":%llu,"
					"\"first\":%llu,\"last\":%llu,"
					"\"bytes\":%llu}",
					(unsigned long long)pi.archived,
					(unsigned long long)pi.first,
					(unsigned long long)pi.last,
					(unsigned long long)pi.bytes);
		}
	}
	if (!rebuild) {
		/* the view, compacted when no other process has it open */
		uint64_t before, after;

		/* a failed compaction leaves the view as it was: the
		 * checkpoint stands, and its receipt is printed either way */
		rc = nedb_compact(db, &before, &after);
		if (rc) {
			const char *why = rc == NEDB_EBUSY ?
				"in use by other processes" : nedb_errmsg();

			nedb_buf_puts(&r, ",\"view\":{\"compacted\":false,"
				      "\"reason\":");
			nedb_buf_json_str(&r, why, strlen(why));
			nedb_buf_puts(&r, "}}");
		} else
			nedb_buf_printf(&r, ",\"view\":{\"compacted\":true,"
					"\"before\":%llu,\"after\":%llu}}",
					(unsigned long long)before,
					(unsigned long long)after);
	}
	cli_progress_end();
	cli_print(r.p, r.len);
	nedb_buf_free(&r);
	if (rc && rc != NEDB_EBUSY) {
		cli_finish();
		cli_fail(rc);
	}
	nedb_close(db);
	cli_finish();
	return 0;
}
