/*
 * nedb-proof - Merkle proofs of the log (SPEC §9, nedb-proof(1)).
 *
 * This file holds the `verify` subcommand: proofs checked with no
 * database, the work done by nedb_proof_verify (lib/proof/verify.c).
 * The subcommands that make proofs from a database (root, inclusion,
 * consistency) live beside it; each parses its own options.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-proof verify [--root HEX | --checkpoint FILE --vkey KEY] "
"[--witness KEY ...] [--quorum Q] [--leaf HEX] [-q] [FILE]\n"
"\n"
"verify: checks proofs with no database: JSON objects as nedb-proof\n"
"inclusion and consistency print them, or C2SP tlog-proof@v1 texts, one\n"
"or many, from FILE or stdin.  Prints {\"ok\":true|false,...} per proof;\n"
"exits 0 when all are valid, 1 when one is invalid, 4 when one is\n"
"malformed.\n"
"\n"
"Options:\n"
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

/* The whole of a (small) file, or die. */
static void
verify_read_file(const char *path, nedb_buf *b)
{
	FILE *f = fopen(path, "rb");
	char chunk[65536];
	size_t n;

	if (!f)
		cli_failf(NEDB_EIO, "cannot open '%s': %s", path,
			  strerror(errno));
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		nedb_buf_add(b, chunk, n);
	if (ferror(f))
		cli_failf(NEDB_EIO, "cannot read '%s': %s", path,
			  strerror(errno));
	fclose(f);
}

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
		verify_read_file(cp_file, &cp);
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

int
main(int argc, char **argv)
{
	cli_init("nedb-proof", usage);
	if (argc > 1 && !strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (argc > 1 && (!strcmp(argv[1], "--help") ||
			 !strcmp(argv[1], "-h"))) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "--version")) {
		printf("nedb-proof (nedb) %s\n", nedb_version());
		return 0;
	}
	cli_usage(argc > 1 ? "unknown subcommand '%s'" :
		  "missing subcommand: verify%s", argc > 1 ? argv[1] : "");
}
