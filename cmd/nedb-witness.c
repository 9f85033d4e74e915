/*
 * nedb-witness - cosign a log's signed checkpoint when it is consistent
 * with the last one accepted for its origin (SPEC §9, nedb-witness(1)).
 * The work is nedb_witness_cosign's (lib/proof/witness.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-witness --state DIR --key FILE --vkey LOGKEY [--proof FILE]\n"
"\n"
"Reads a signed checkpoint (a C2SP tlog-checkpoint signed note) on stdin.\n"
"When the log's signature (LOGKEY) verifies and the checkpoint is\n"
"consistent with the last one accepted for its origin (kept in DIR), it\n"
"records it and prints it with this witness's tlog-cosignature/v1 added.\n"
"A larger tree needs the consistency proof from the accepted one\n"
"(--proof, as nedb-proof consistency prints it); the same size needs the\n"
"same root; a smaller size is refused.  The first checkpoint of an\n"
"origin is accepted on its signature alone (trust on first use).\n"
"Refused: exit 1, naming both roots; nothing is cosigned.\n"
"\n"
"Options:\n"
"      --state DIR       the witness's state (created if missing)\n"
"      --key FILE        the witness's signer key (nedb-key signer new)\n"
"      --vkey LOGKEY     the log's verifier key\n"
"      --proof FILE      the consistency proof from the accepted tree\n";

enum { OPT_STATE = OPT_CMD, OPT_KEY, OPT_VKEY, OPT_PROOF };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{"state", required_argument, 0, OPT_STATE},
	{"key", required_argument, 0, OPT_KEY},
	{"vkey", required_argument, 0, OPT_VKEY},
	{"proof", required_argument, 0, OPT_PROOF},
	{0, 0, 0, 0}
};

int
main(int argc, char **argv)
{
	nedb_witness_opts o = {0};
	const char *proof_file = NULL;
	nedb_buf in = {0}, proof = {0};
	char *out;
	size_t outlen;
	int c, rc;

	cli_init("nedb-witness", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		switch (c) {
		case OPT_STATE: o.state_dir = optarg; break;
		case OPT_KEY: o.key_file = optarg; break;
		case OPT_VKEY: o.vkey = optarg; break;
		case OPT_PROOF: proof_file = optarg; break;
		default: cli_bad_option(c, argv);
		}
	}
	if (optind < argc)
		cli_usage("unexpected argument '%s'", argv[optind]);
	if (!o.state_dir || !*o.state_dir || !o.key_file || !*o.key_file ||
	    !o.vkey || !*o.vkey)
		cli_usage("--state DIR, --key FILE and --vkey LOGKEY are "
			  "needed");
	if (proof_file) {
		cli_read_file(proof_file, &proof);
		o.proof = proof.p ? proof.p : "";
		o.proof_len = proof.len;
	}
	cli_read_stdin(&in);
	if ((rc = nedb_witness_cosign(&o, in.p ? in.p : "", in.len, &out,
				      &outlen))) {
		if (rc == NEDB_EUSAGE)
			cli_usage("%s", nedb_errmsg());
		cli_fail(rc);
	}
	fwrite(out, 1, outlen, stdout);
	free(out);
	nedb_buf_free(&in);
	nedb_buf_free(&proof);
	cli_finish();
	return 0;
}
