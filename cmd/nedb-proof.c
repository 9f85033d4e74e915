/*
 * nedb-proof - Merkle proofs over the ops (nedb-proof(1), SPEC §9): the
 * tree's root, the inclusion proof of one op and the consistency proof
 * between two sizes, as RFC 6962 and Go's sumdb/tlog define them.
 * Generating proofs needs the database; checking them (verify) does not.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-proof [options] root [--size N]\n"
"       nedb-proof [options] inclusion SEQ [--size N]\n"
"       nedb-proof [options] consistency OLD NEW\n"
"\n"
"root: prints {\"size\":N,\"root\":\"<hex>\"}, the RFC 6962 Merkle tree\n"
"head of the first N ops (seqs 0 to N-1; all of them by default).\n"
"inclusion: prints {\"seq\",\"size\",\"leaf\",\"root\",\"proof\":[...]},\n"
"the audit path of op SEQ in that tree (leaf: the op's hash).\n"
"consistency: prints {\"old\",\"new\",\"old_root\",\"new_root\",\"proof\"},\n"
"the proof that the tree of OLD ops is a prefix of the tree of NEW.\n"
"\n"
"Options:\n"
"      --size N          the tree of the first N ops (default: all)\n";

enum { OPT_SIZE = OPT_CMD };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{"size", required_argument, 0, OPT_SIZE},
	{0, 0, 0, 0}
};

static nedb_buf out;

/*
 * >>> Subcommands built on another branch (issue #12: verify, signed
 * checkpoints).  They need no database: dispatched here, before the
 * options of the commands that read one are parsed.
 */
static bool
unbuilt(const char *sub)
{
	return !strcmp(sub, "verify") || !strcmp(sub, "checkpoint");
}

__attribute__((noreturn)) static void
run_unbuilt(const char *sub)
{
	fprintf(stderr, "nedb-proof: %s: not built yet\n", sub);
	exit(2);
}
/* <<< */

static void
print_proof(const nedb_proof *p)
{
	int rc;

	out.len = 0;
	if ((rc = nedb_proof_json(&out, p)))
		cli_fail(rc);
	cli_print(out.p, out.len);
}

static void
proof_root(nedb *db, uint64_t size)
{
	unsigned char root[NEDB_TREE_HASH];
	char hex[2 * NEDB_TREE_HASH + 1];
	int rc;

	if ((rc = nedb_tree_root(db, &size, root)))
		cli_fail(rc);
	for (int i = 0; i < NEDB_TREE_HASH; i++)
		snprintf(hex + 2 * i, 3, "%02x", root[i]);
	out.len = 0;
	nedb_buf_printf(&out, "{\"size\":%llu,\"root\":\"%s\"}",
			(unsigned long long)size, hex);
	cli_print(out.p, out.len);
}

static void
proof_inclusion(nedb *db, uint64_t seq, uint64_t size)
{
	nedb_proof p;
	int rc = nedb_prove_inclusion(db, seq, size, &p);

	if (rc)
		cli_fail(rc);
	print_proof(&p);
	nedb_proof_free(&p);
}

static void
proof_consistency(nedb *db, uint64_t old, uint64_t size)
{
	nedb_proof p;
	int rc = nedb_prove_consistency(db, old, size, &p);

	if (rc)
		cli_fail(rc);
	print_proof(&p);
	nedb_proof_free(&p);
}

int
main(int argc, char **argv)
{
	uint64_t size = NEDB_HEAD, a = 0, b = 0;
	const char *sub;
	int c, rc, want;
	nedb *db;

	cli_init("nedb-proof", usage);
	if (argc > 1 && unbuilt(argv[1]))
		run_unbuilt(argv[1]);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		switch (c) {
		case OPT_SIZE:
			/* UINT64_MAX is NEDB_HEAD: beyond any log anyway */
			if ((size = cli_u64("size", optarg)) == NEDB_HEAD)
				size--;
			break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage("missing subcommand: root, inclusion or "
			  "consistency");
	sub = argv[0];
	if (unbuilt(sub))
		run_unbuilt(sub);
	if (!strcmp(sub, "root"))
		want = 0;
	else if (!strcmp(sub, "inclusion"))
		want = 1;
	else if (!strcmp(sub, "consistency"))
		want = 2;
	else
		cli_usage("unknown subcommand '%s': want root, inclusion or "
			  "consistency", sub);
	if (argc - 1 < want)
		cli_usage("%s needs %s", sub, want == 1 ? "SEQ" : "OLD NEW");
	if (argc - 1 > want)
		cli_usage("unexpected argument '%s'", argv[want + 1]);
	if (want == 2 && size != NEDB_HEAD)
		cli_usage("option '--size' is for root and inclusion only: "
			  "consistency takes OLD NEW");
	if (want >= 1)
		a = cli_u64(want == 1 ? "seq" : "old size", argv[1]);
	if (want == 2) {
		b = cli_u64("new size", argv[2]);
		if (a > b)
			cli_usage("bad sizes %llu %llu: OLD must not be above "
				  "NEW", (unsigned long long)a,
				  (unsigned long long)b);
		if (a == 0)
			cli_usage("bad old size 0: the old tree has at least "
				  "one op");
	}
	db = cli_open(false);
	if ((rc = nedb_read_begin(db)))
		cli_fail(rc);
	if (want == 0)
		proof_root(db, size);
	else if (want == 1)
		proof_inclusion(db, a, size);
	else
		proof_consistency(db, a, b);
	nedb_read_end(db);
	nedb_close(db);
	nedb_buf_free(&out);
	cli_finish();
	return 0;
}
