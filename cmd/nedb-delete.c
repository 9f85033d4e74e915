/*
 * nedb-delete - delete documents (a delete op each; history keeps them).
 */
#include <stdio.h>
#include <stdlib.h>
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

/* The deletes of one run: the ids (the arguments', or stdin's read
 * first), and what staging them said (nedb_write_run may stage them
 * more than once: each time afresh). */
struct deletes {
	const char *coll;
	const char **ids;
	size_t n;
	nedb_wopts w;		/* as given */
	nedb_buf r;		/* receipts */
	nedb_buf missing;	/* the messages of ids not found, each \0-ended */
	int failed;
	char msg[600];
};

static int
stage_deletes(nedb *db, void *payload)
{
	struct deletes *d = payload;
	nedb_wopts w = d->w;
	nedb_receipt rcpt;
	int rc;

	d->r.len = d->missing.len = 0;
	d->failed = 0;
	/* Deletes before a rejected one stay committed, as in a stream. */
	for (size_t i = 0; i < d->n; i++) {
		rc = nedb_write_delete(db, d->coll, d->ids[i], &w, &rcpt);
		if (!rc)
			cli_receipt_line(&d->r, &rcpt);
		else if (rc == NEDB_ENOTFOUND)
			nedb_buf_add(&d->missing, nedb_errmsg(),
				     strlen(nedb_errmsg()) + 1);
		else {
			d->failed = rc;
			snprintf(d->msg, sizeof d->msg, "%s", nedb_errmsg());
			break;
		}
		if (w.nonce && w.nonce < UINT64_MAX)
			w.nonce++;	/* at the maximum, the next is stale */
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct deletes d = {0};
	nedb_buf line = {0}, ids = {0};
	bool quiet = false;
	int c, rc, bad = 0;
	char badmsg[600];
	nedb *db;

	cli_init("nedb-delete", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "q",
				longopts, NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &d.w))
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
	if (d.w.idem && argc != 2)
		cli_usage("--idem needs exactly one ID");
	if ((rc = nedb_check_coll(argv[0])))
		cli_fail(rc);
	d.coll = argv[0];
	if (argc > 1) {
		d.ids = (const char **)argv + 1;
		d.n = (size_t)argc - 1;
	} else {
		/* stdin's ids, up to a bad one (those before it are
		 * deleted, then the bad one is said) */
		size_t at = 0;

		while (cli_read_line(&line)) {
			if (!line.len)
				continue;
			if (nedb_check_id(line.p, line.len)) {
				bad = NEDB_EINPUT;
				snprintf(badmsg, sizeof badmsg, "%s",
					 nedb_errmsg());
				break;
			}
			nedb_buf_add(&ids, line.p, line.len);
			nedb_buf_add(&ids, "", 1);
			d.n++;
		}
		d.ids = calloc(d.n ? d.n : 1, sizeof *d.ids);
		if (!d.ids)
			cli_failf(NEDB_EIO, "out of memory");
		for (size_t i = 0; i < d.n; i++) {
			d.ids[i] = ids.p + at;
			at += strlen(ids.p + at) + 1;
		}
	}
	db = cli_open(false);
	/* on an engine, a seq lost to another writer stages them anew */
	if ((rc = nedb_write_run(db, stage_deletes, &d)))
		cli_fail(rc);
	for (size_t at = 0; at < d.missing.len;
	     at += strlen(d.missing.p + at) + 1) {
		fflush(stdout);
		fprintf(stderr, "%s: %s\n", cli.prog, d.missing.p + at);
	}
	if (!quiet)
		cli_print_lines(&d.r);
	if (d.failed)
		cli_failf(d.failed, "%s", d.msg);
	if (bad)
		cli_failf(bad, "%s", badmsg);
	rc = d.missing.len ? nedb_exit_status(NEDB_ENOTFOUND) : 0;
	nedb_close(db);
	if (argc == 1)
		free(d.ids);
	nedb_buf_free(&d.r);
	nedb_buf_free(&d.missing);
	nedb_buf_free(&line);
	nedb_buf_free(&ids);
	cli_finish();
	return rc;
}
