/*
 * nedb-link - add, remove and list directed edges between documents.
 */
#include <stdio.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-link [options] FROM REL TO\n"
"       nedb-link --unlink [options] FROM REL TO\n"
"       nedb-link --out NODE [REL] [--as-of SEQ|@TIME]\n"
"       nedb-link --in NODE [REL] [--as-of SEQ|@TIME]\n"
"\n"
"Adds (or removes) the edge FROM -REL-> TO between node keys COLL:ID and\n"
"prints its receipt; or lists the neighbours of NODE, one JSON string per\n"
"line.\n"
"\n"
"Options:\n"
"      --unlink          remove the edge (exit 1 if there is none)\n"
"      --out             list the nodes NODE links to\n"
"      --in              list the nodes linking to NODE\n"
"      --as-of SEQ|@TIME list the edges as they stood after op SEQ, or at\n"
"                        TIME (the last op at or before it)\n"
"      --client C        client id for replay protection (default local)\n"
"      --nonce N         the client's nonce; must exceed the last one\n"
"      --idem KEY        idempotency key\n"
CLI_TABLE_HELP;

enum { OPT_UNLINK = OPT_CMD, OPT_OUT, OPT_IN };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	{"unlink", no_argument, 0, OPT_UNLINK},
	{"out", no_argument, 0, OPT_OUT},
	{"in", no_argument, 0, OPT_IN},
	{"as-of", required_argument, 0, OPT_ASOF},
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{"idem", required_argument, 0, OPT_IDEM},
	{0, 0, 0, 0}
};

static int
print_node(const char *node, const char *rel, void *payload)
{
	nedb_buf *b = payload;

	(void)rel;
	b->len = 0;
	nedb_buf_json_str(b, node, strlen(node));
	cli_print(b->p, b->len);
	return 0;
}

/* the edge to write: FROM REL TO */
struct link {
	char **argv;
	bool unlink;
	nedb_wopts *w;
	nedb_receipt *rcpt;
};

static int
stage_link(nedb *db, void *payload)
{
	struct link *l = payload;

	return nedb_write_link(db, l->argv[0], l->argv[1], l->argv[2],
			       l->unlink, l->w, l->rcpt);
}

int
main(int argc, char **argv)
{
	bool unlink = false, out = false, in = false;
	uint64_t as_of = NEDB_HEAD;
	nedb_wopts w = {0};
	nedb_receipt rcpt;
	nedb_buf r = {0};
	nedb *db;
	int c, rc;

	cli_init("nedb-link", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &w))
			continue;
		switch (c) {
		case OPT_UNLINK: unlink = true; break;
		case OPT_OUT: out = true; break;
		case OPT_IN: in = true; break;
		case OPT_ASOF: as_of = cli_as_of(optarg); break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (out + in + unlink > 1)
		cli_usage("--out, --in and --unlink exclude each other");
	if (out || in) {
		if (argc < 1 || argc > 2)
			cli_usage(argc < 1 ? "missing node" :
				  "too many arguments");
		if ((rc = nedb_check_node(argv[0])))
			cli_fail(rc);
		db = cli_open(false);
		as_of = cli_as_of_seq(db, as_of);
		if ((rc = nedb_neighbors(db, argv[0], argc > 1 ? argv[1] :
					 NULL, in, as_of, print_node, &r)))
			cli_fail(rc);
	} else {
		if (argc != 3)
			cli_usage(argc < 3 ? "want FROM REL TO" :
				  "too many arguments");
		if (as_of != NEDB_HEAD)
			cli_usage("--as-of is for --out and --in");
		db = cli_open(true);
		struct link l = {argv, unlink, &w, &rcpt};

		if ((rc = nedb_write_run(db, stage_link, &l)))
			cli_fail(rc);
		cli_print_receipt(&rcpt);
	}
	nedb_buf_free(&r);
	nedb_close(db);
	cli_finish();
	return 0;
}
