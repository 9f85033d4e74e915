/*
 * nedb-proof - Merkle proofs of the log (nedb-proof(1), SPEC §9): the
 * tree's root, the inclusion proof of one op and the consistency proof
 * between two sizes, as RFC 6962 and Go's sumdb/tlog define them, and
 * the latest signed checkpoint; made from a database.  `verify` checks
 * proofs with no database (nedb_proof_verify, lib/proof/verify.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-proof [options] root [--size N]\n"
"       nedb-proof [options] inclusion SEQ [--size N] [--tlog-proof]\n"
"       nedb-proof [options] consistency OLD NEW\n"
"       nedb-proof [options] checkpoint\n"
"       nedb-proof verify [--root HEX | --checkpoint FILE --vkey KEY] "
"[--witness KEY ...] [--quorum Q] [--leaf HEX] [-q] [FILE]\n"
"\n"
"root: prints {\"size\":N,\"root\":\"<hex>\"}, the RFC 6962 Merkle tree\n"
"head of the first N ops (seqs 0 to N-1; all of them by default).\n"
"inclusion: prints {\"seq\",\"size\",\"leaf\",\"root\",\"proof\":[...]},\n"
"the audit path of op SEQ in that tree (leaf: the op's hash).\n"
"consistency: prints {\"old\",\"new\",\"old_root\",\"new_root\",\"proof\"},\n"
"the proof that the tree of OLD ops is a prefix of the tree of NEW.\n"
"checkpoint: prints the latest signed checkpoint (see nedb-checkpoint).\n"
"verify: checks proofs with no database: JSON objects as inclusion and\n"
"consistency print them, or C2SP tlog-proof@v1 texts, one or many, from\n"
"FILE or stdin.  Prints {\"ok\":true|false,...} per proof; exits 0 when\n"
"all are valid, 1 when one is invalid, 4 when one is malformed.\n"
"\n"
"Options:\n"
"      --size N          the tree of the first N ops (default: all)\n"
"      --tlog-proof      inclusion: the C2SP tlog-proof@v1 text, with the\n"
"                        latest signed checkpoint (its size is the tree's)\n"
"verify's options:\n"
"      --root HEX        the trusted root (64 hex digits)\n"
"      --checkpoint FILE a signed checkpoint whose root is trusted\n"
"      --vkey KEY        the log's verifier key (checkpoints, tlog-proofs)\n"
"      --witness KEY     a witness's verifier key (repeatable): its\n"
"                        cosignature on the checkpoint is required\n"
"      --quorum Q        how many of the witnesses must cosign (default:\n"
"                        all of them)\n"
"      --leaf HEX        tlog-proof: the op hash the proof must prove\n"
"  -q, --quiet           print nothing; the exit status tells\n";

/* --- verify ------------------------------------------------------- */

enum { VOPT_ROOT = OPT_CMD, VOPT_CHECKPOINT, VOPT_VKEY, VOPT_WITNESS,
       VOPT_QUORUM, VOPT_LEAF };

static void
verify_report(const nedb_proof_result *r, void *payload)
{
	nedb_buf b = {0};

	if (*(int *)payload)		/* --quiet */
		return;
	nedb_buf_printf(&b, "{\"ok\":%s,\"proof\":%llu,\"type\":\"%s\",",
			r->ok ? "true" : "false", (unsigned long long)r->n,
			r->kind);
	if (!strcmp(r->kind, "inclusion"))
		nedb_buf_printf(&b, "\"seq\":%llu,\"size\":%llu",
				(unsigned long long)r->a,
				(unsigned long long)r->b);
	else
		nedb_buf_printf(&b, "\"old\":%llu,\"new\":%llu",
				(unsigned long long)r->a,
				(unsigned long long)r->b);
	if (r->error) {
		nedb_buf_puts(&b, ",\"error\":");
		nedb_buf_json_str(&b, r->error, strlen(r->error));
	}
	nedb_buf_puts(&b, "}");
	cli_print(b.p, b.len);
	nedb_buf_free(&b);
}

static int
cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_COMMON_LONGOPTS,
		{"root", required_argument, 0, VOPT_ROOT},
		{"checkpoint", required_argument, 0, VOPT_CHECKPOINT},
		{"vkey", required_argument, 0, VOPT_VKEY},
		{"witness", required_argument, 0, VOPT_WITNESS},
		{"quorum", required_argument, 0, VOPT_QUORUM},
		{"leaf", required_argument, 0, VOPT_LEAF},
		{"quiet", no_argument, 0, 'q'},
		{0, 0, 0, 0}
	};
	nedb_proof_policy p = {0};
	const char **wit = calloc((size_t)argc, sizeof *wit);
	const char *cp_file = NULL;
	nedb_buf cp = {0};
	FILE *in = stdin;
	size_t count;
	int c, rc, quiet = 0;

	if (!wit)
		cli_failf(NEDB_EIO, "out of memory");
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "q", opts,
				NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		switch (c) {
		case VOPT_ROOT: p.root_hex = optarg; break;
		case VOPT_CHECKPOINT: cp_file = optarg; break;
		case VOPT_VKEY: p.vkey = optarg; break;
		case VOPT_WITNESS: wit[p.nwitness++] = optarg; break;
		case VOPT_QUORUM:
			p.quorum = (size_t)cli_u64("quorum", optarg);
			p.quorum_set = 1;
			break;
		case VOPT_LEAF: p.leaf_hex = optarg; break;
		case 'q': quiet = 1; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		cli_usage("unexpected argument '%s'", argv[1]);
	if (p.root_hex && cp_file)
		cli_usage("give --root or --checkpoint, not both");
	if (cp_file && !p.vkey)
		cli_usage("--checkpoint needs the log's key (--vkey)");
	if ((p.nwitness || p.quorum_set) && !p.vkey)
		cli_usage("--witness and --quorum need --vkey");
	if (cp_file) {
		cli_read_file(cp_file, &cp);
		p.checkpoint = cp.p ? cp.p : "";
		p.checkpoint_len = cp.len;
	}
	p.witness = wit;
	if (argc == 1 && strcmp(argv[0], "-") &&
	    !(in = fopen(argv[0], "rb")))
		cli_failf(NEDB_EIO, "cannot open '%s': %s", argv[0],
			  strerror(errno));
	rc = nedb_proof_verify(in, &p, verify_report, &quiet, &count);
	if (in != stdin)
		fclose(in);
	nedb_buf_free(&cp);
	free(wit);
	if (rc == NEDB_EUSAGE)
		cli_usage("%s", nedb_errmsg());
	if (rc) {
		cli_finish();
		cli_fail(rc);
	}
	cli_finish();
	return 0;
}

/* --- end of verify ------------------------------------------------- */

enum { OPT_SIZE = OPT_CMD, OPT_TLOG };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{"size", required_argument, 0, OPT_SIZE},
	{"tlog-proof", no_argument, 0, OPT_TLOG},
	{0, 0, 0, 0}
};

static nedb_buf out;


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

/* An inclusion (old 0) or consistency proof, as JSON. */
static void
prove(nedb *db, uint64_t seq_or_old, uint64_t size, bool consistency)
{
	nedb_proof p;
	int rc = consistency ?
		 nedb_prove_consistency(db, seq_or_old, size, &p) :
		 nedb_prove_inclusion(db, seq_or_old, size, &p);

	if (rc)
		cli_fail(rc);
	print_proof(&p);
	nedb_proof_free(&p);
}

/* The tlog-proof@v1 text of op seq, with the latest signed checkpoint. */
static void
proof_tlog(nedb *db, uint64_t seq)
{
	int rc;

	out.len = 0;
	if ((rc = nedb_prove_tlog(db, seq, &out)))
		cli_fail(rc);
	fwrite(out.p, 1, out.len, stdout);
}

static void
proof_checkpoint(nedb *db)
{
	int rc;

	out.len = 0;
	if ((rc = nedb_tree_note(db, &out)))
		cli_fail(rc);
	fwrite(out.p, 1, out.len, stdout);
}

int
main(int argc, char **argv)
{
	uint64_t size = NEDB_HEAD, a = 0, b = 0;
	const char *sub;
	bool tlog = false;
	int c, rc, want;
	nedb *db;

	cli_init("nedb-proof", usage);
	/* verify needs no database: its own options, before these */
	if (argc > 1 && !strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
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
		case OPT_TLOG:
			tlog = true;
			break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage("missing subcommand: root, inclusion, consistency, "
			  "checkpoint or verify");
	sub = argv[0];
	if (!strcmp(sub, "verify"))
		cli_usage("verify comes first: nedb-proof verify [options]");
	if (!strcmp(sub, "root"))
		want = 0;
	else if (!strcmp(sub, "inclusion"))
		want = 1;
	else if (!strcmp(sub, "consistency"))
		want = 2;
	else if (!strcmp(sub, "checkpoint"))
		want = 3;
	else
		cli_usage("unknown subcommand '%s': want root, inclusion, "
			  "consistency, checkpoint or verify", sub);
	if (tlog && want != 1)
		cli_usage("option '--tlog-proof' is for inclusion only");
	if (tlog && size != NEDB_HEAD)
		cli_usage("option '--tlog-proof' proves in the signed "
			  "checkpoint's tree: no --size");
	if (want == 3 && size != NEDB_HEAD)
		cli_usage("option '--size' is for root and inclusion only");
	if (want < 3 && argc - 1 < want)
		cli_usage("%s needs %s", sub, want == 1 ? "SEQ" : "OLD NEW");
	if (argc - 1 > want % 3)
		cli_usage("unexpected argument '%s'", argv[want % 3 + 1]);
	if (want == 2 && size != NEDB_HEAD)
		cli_usage("option '--size' is for root and inclusion only: "
			  "consistency takes OLD NEW");
	if (want == 1 || want == 2)
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
	else if (want == 1 && tlog)
		proof_tlog(db, a);
	else if (want == 1 || want == 2)
		prove(db, a, want == 1 ? size : b, want == 2);
	else
		proof_checkpoint(db);
	nedb_read_end(db);
	nedb_close(db);
	nedb_buf_free(&out);
	cli_finish();
	return 0;
}
