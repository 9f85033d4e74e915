/*
 * nedb-get - print documents by id, now or as of any past op.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-get [options] COLL [ID...]\n"
"\n"
"Prints each document found (ids one per line on stdin when none are\n"
"given); exits 1 if any is missing.\n"
"\n"
"Options:\n"
"      --as-of SEQ|@TIME read the database as it stood after op SEQ, or\n"
"                        at TIME (2026-12-06T16:28:40Z: the last op then)\n"
"      --meta            print {\"doc\",\"seq\",\"hash\",\"ts\"} instead\n"
"      --history         print every version, oldest first\n"
"      --verify          check each document against its op in the log\n"
"                        before printing it (exit 5 if it differs)\n"
"      --proof           add the inclusion proof of the op that wrote\n"
"                        each version (\"_proof\"; \"proof\" with --meta\n"
"                        and --history), as nedb-proof inclusion prints it\n"
CLI_TABLE_HELP;

enum { OPT_META = OPT_CMD, OPT_HISTORY, OPT_VERIFY, OPT_PROOF };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"as-of", required_argument, 0, OPT_ASOF},
	{"meta", no_argument, 0, OPT_META},
	{"history", no_argument, 0, OPT_HISTORY},
	{"verify", no_argument, 0, OPT_VERIFY},
	{"proof", no_argument, 0, OPT_PROOF},
	{0, 0, 0, 0}
};

static bool meta, history, verify, proof;
static uint64_t as_of = NEDB_HEAD;
static nedb_buf out;
static nedb *db;

/*
 * With --proof: puts member name, the inclusion proof of op seq in the
 * tree the read sees (all ops, or those up to --as-of), last in the
 * object out ends with.
 */
static void
add_proof(const char *name, uint64_t seq)
{
	nedb_proof p;
	int rc;

	if (!proof)
		return;
	rc = nedb_prove_inclusion(db, seq, as_of == NEDB_HEAD ? NEDB_HEAD :
				  as_of + 1, &p);
	if (rc)
		cli_fail(rc);
	out.len--;			/* the object's closing brace */
	nedb_buf_printf(&out, "%s\"%s\":", out.len > 1 ? "," : "", name);
	nedb_proof_json(&out, &p);
	nedb_buf_puts(&out, "}");
	nedb_proof_free(&p);
}

static void
print_version(const nedb_doc *d, const char *op, bool with_op)
{
	out.len = 0;
	if (with_op)
		nedb_buf_printf(&out, "{\"seq\":%llu,\"op\":\"%s\",",
				(unsigned long long)d->seq, op);
	else
		nedb_buf_puts(&out, "{");
	if (d->doc) {
		nedb_buf_puts(&out, "\"doc\":");
		nedb_buf_add(&out, d->doc, d->len);
		nedb_buf_puts(&out, ",");
	}
	if (!with_op)
		nedb_buf_printf(&out, "\"seq\":%llu,",
				(unsigned long long)d->seq);
	nedb_buf_printf(&out, "\"hash\":\"%s\",\"ts\":%lld", d->hash,
			(long long)d->ts);
	if (d->exp)
		nedb_buf_printf(&out, ",\"exp\":%lld", (long long)d->exp);
	nedb_buf_puts(&out, "}");
	add_proof("proof", d->seq);
	cli_print(out.p, out.len);
}

static int
on_version(const nedb_doc *d, const char *op, void *payload)
{
	(void)payload;
	print_version(d, op, true);
	return 0;
}

/* Returns 0, or 1 when the document is missing. */
static int
get_one(const char *coll, const char *id)
{
	nedb_doc d;
	int rc;

	if (history)
		rc = nedb_history(db, coll, id, on_version, NULL);
	else
		rc = nedb_get(db, coll, id, as_of, &d);
	if (rc == NEDB_ENOTFOUND) {
		cli_error(rc);
		return 1;
	}
	if (rc)
		cli_fail(rc);
	if (history)
		return 0;
	if (meta) {
		print_version(&d, NULL, false);
	} else if (proof) {
		out.len = 0;
		nedb_buf_add(&out, d.doc, d.len);
		add_proof("_proof", d.seq);
		cli_print(out.p, out.len);
	} else
		cli_print(d.doc, d.len);
	return 0;
}

int
main(int argc, char **argv)
{
	nedb_buf line = {0};
	int c, missing = 0, rc;

	cli_init("nedb-get", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		switch (c) {
		case OPT_ASOF: as_of = cli_as_of(optarg); break;
		case OPT_META: meta = true; break;
		case OPT_HISTORY: history = true; break;
		case OPT_VERIFY: verify = true; break;
		case OPT_PROOF: proof = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage("missing collection");
	if (history && (meta || as_of != NEDB_HEAD))
		cli_usage("--history cannot be combined with --meta or "
			  "--as-of");
	if ((rc = nedb_check_coll(argv[0])))
		cli_fail(rc);
	db = cli_open(false);
	nedb_set_read_verify(db, verify);
	if ((rc = nedb_read_begin(db)))
		cli_fail(rc);
	as_of = cli_as_of_seq(db, as_of);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			missing |= get_one(argv[0], argv[i]);
	} else {
		while (cli_read_line(&line)) {
			if (!line.len)
				continue;
			if (nedb_check_id(line.p, line.len))
				cli_fail(NEDB_EINPUT);
			missing |= get_one(argv[0], line.p);
		}
	}
	nedb_read_end(db);
	nedb_close(db);
	nedb_buf_free(&line);
	nedb_buf_free(&out);
	cli_finish();
	return missing ? nedb_exit_status(NEDB_ENOTFOUND) : 0;
}
