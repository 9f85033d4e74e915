/*
 * nedb-key - the keys of encryption at rest (nedb-key(1), SPEC §8):
 * whether a database is encrypted and with which key id, re-wrapping its
 * data key under a new master key, and making a master key (at random,
 * or from a passphrase: the one place a slow key derivation runs).
 *
 * The key material never passes through this file: the library reads
 * key files itself (nedb_open_key, nedb_key_rewrap), and "new" writes
 * random bytes as hex straight from the kernel's generator, without
 * libcrypto.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-key [options] status\n"
"       nedb-key [options] rewrap --new-tmk-file FILE\n"
"       nedb-key new --out FILE\n"
"       nedb-key derive --passphrase-file FILE --salt TEXT --out FILE\n"
"       nedb-key signer new NAME --out FILE\n"
"\n"
"status: prints {\"encrypted\":true,\"key_id\":\"<16 hex>\"} or\n"
"{\"encrypted\":false}; needs no key.  rewrap: wraps the data key under\n"
"the master key of FILE (the current key as for any command: --tmk-file,\n"
"NEDB_TMK, NEDB_TMK_FILE) and prints {\"rewrapped\":true,\"key_id\":...};\n"
"only key.enc changes, and the old key is refused after.  new: writes a\n"
"random 256-bit master key (64 hex digits) to FILE, mode 0600; never\n"
"overwrites.  derive: the same, from a passphrase (scrypt, ~0.5 s and\n"
"128 MiB): the same passphrase and salt give the same key.  signer new:\n"
"writes a new Ed25519 signer key named NAME (sumdb/note's\n"
"PRIVATE+KEY+NAME+... form) to FILE, mode 0600, never overwriting, and\n"
"prints its verifier key NAME+<key id>+<base64> (for checkpoints and\n"
"witnesses, nedb-proof(1), nedb-witness(1)).\n"
"\n"
"Options:\n"
"      --new-tmk-file FILE\n"
"                        rewrap: the new master key\n"
"      --out FILE        new, derive, signer new: the key file to create\n"
"      --passphrase-file FILE\n"
"                        derive: the passphrase (one final newline is\n"
"                        not part of it)\n"
"      --salt TEXT       derive: the salt, e.g. the database's name\n";

enum { OPT_NEW_TMK = OPT_CMD, OPT_OUT, OPT_PASS, OPT_SALT };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{"new-tmk-file", required_argument, 0, OPT_NEW_TMK},
	{"out", required_argument, 0, OPT_OUT},
	{"passphrase-file", required_argument, 0, OPT_PASS},
	{"salt", required_argument, 0, OPT_SALT},
	{0, 0, 0, 0}
};

/* A library failure to open the database: exit 5 whatever the cause, a
 * missing database too, as cli_open does; others keep their status. */
__attribute__((noreturn)) static void
fail_db(int rc)
{
	cli_fail(rc == NEDB_ENOTFOUND ? NEDB_EIO : rc);
}

static void
key_status(void)
{
	char kid[17], out[64];
	int enc, rc;

	if ((rc = nedb_key_status(cli_dir(), &enc, kid)))
		fail_db(rc);
	if (enc)
		snprintf(out, sizeof out,
			 "{\"encrypted\":true,\"key_id\":\"%s\"}", kid);
	else
		snprintf(out, sizeof out, "{\"encrypted\":false}");
	cli_print(out, strlen(out));
}

static void
key_rewrap(const char *new_tmk_file)
{
	char kid[17], out[64];
	int rc;

	if ((rc = nedb_key_rewrap(cli_dir(), cli.tmk_file, new_tmk_file,
				  kid)))
		fail_db(rc);
	snprintf(out, sizeof out, "{\"rewrapped\":true,\"key_id\":\"%s\"}",
		 kid);
	cli_print(out, strlen(out));
}

/*
 * Writes text (a key) to a file created for it (O_EXCL: an existing
 * file, which may be the only copy of a key, is never replaced), mode
 * 0600, synced.  A failure after the file was created removes it.  The
 * caller wipes text.
 */
static void
write_key_text(const char *path, const char *text)
{
	size_t n = strlen(text);
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		if (errno == EEXIST)
			cli_failf(NEDB_EREJECTED, "'%s' exists: a key file is "
				  "never overwritten", path);
		cli_failf(NEDB_EIO, "cannot create key file '%s': %s", path,
			  strerror(errno));
	}
	/* dprintf goes on after a short write, as stdio does */
	if (fchmod(fd, 0600) || dprintf(fd, "%s", text) != (int)n ||
	    fsync(fd))
		err = errno;
	if (close(fd) && !err)
		err = errno;
	if (err) {
		unlink(path);
		cli_failf(NEDB_EIO, "cannot write key file '%s': %s", path,
			  strerror(err));
	}
}

/* Writes key k as 64 lowercase hex digits and a newline; wipes k. */
static void
write_key(const char *path, unsigned char k[32])
{
	char hex[2 * 32 + 2];

	for (size_t i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", k[i]);
	hex[2 * 32] = '\n';
	hex[2 * 32 + 1] = 0;
	explicit_bzero(k, 32);
	write_key_text(path, hex);
	explicit_bzero(hex, sizeof hex);
}

/* A new Ed25519 signer key named name in path; its verifier key on
 * stdout (one line of text: what --vkey and --witness take). */
static void
signer_new(const char *name, const char *path)
{
	char *skey, *vkey;
	nedb_buf line = {0};
	int rc;

	if ((rc = nedb_signer_new(name, &skey, &vkey))) {
		if (rc == NEDB_EUSAGE)
			cli_usage("%s", nedb_errmsg());
		cli_fail(rc);
	}
	nedb_buf_puts(&line, skey);
	nedb_buf_puts(&line, "\n");
	explicit_bzero(skey, strlen(skey));
	free(skey);
	write_key_text(path, line.p);
	explicit_bzero(line.p, line.len);
	nedb_buf_free(&line);
	printf("%s\n", vkey);
	free(vkey);
}

/* A new master key: 32 bytes of getrandom(2). */
static void
key_new(const char *path)
{
	unsigned char k[32];
	size_t got = 0;

	while (got < sizeof k) {
		ssize_t r = getrandom(k + got, sizeof k - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			cli_failf(NEDB_EIO, "cannot get random bytes: %s",
				  strerror(errno));
		got += (size_t)r;
	}
	write_key(path, k);
}

/* A master key from the passphrase in pass_file and salt (scrypt). */
static void
key_derive(const char *pass_file, const char *salt, const char *path)
{
	unsigned char k[32];
	char pass[4097];
	ssize_t n = -1;
	int fd, rc;

	if (!access(path, F_OK))
		cli_failf(NEDB_EREJECTED, "'%s' exists: a key file is never "
			  "overwritten", path);
	if ((fd = open(pass_file, O_RDONLY | O_CLOEXEC)) >= 0) {
		n = read(fd, pass, sizeof pass);
		close(fd);
	}
	if (n < 0)
		cli_failf(NEDB_EIO, "cannot read passphrase file '%s': %s",
			  pass_file, strerror(errno));
	if (n == (ssize_t)sizeof pass)
		cli_failf(NEDB_EINPUT, "passphrase file '%s' is longer than "
			  "4096 bytes", pass_file);
	if (n > 0 && pass[n - 1] == '\n')
		n--;
	rc = nedb_key_derive(k, pass, (size_t)n, salt, strlen(salt));
	explicit_bzero(pass, sizeof pass);
	if (rc)
		cli_fail(rc);
	write_key(path, k);
}

int
main(int argc, char **argv)
{
	const char *new_tmk = NULL, *out = NULL, *pass = NULL, *salt = NULL;
	const char *sub;
	int c;

	cli_init("nedb-key", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		switch (c) {
		case OPT_NEW_TMK: new_tmk = optarg; break;
		case OPT_OUT: out = optarg; break;
		case OPT_PASS: pass = optarg; break;
		case OPT_SALT: salt = optarg; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage("missing subcommand: status, rewrap, new, derive or "
			  "signer");
	sub = argv[0];
	if (!strcmp(sub, "signer")) {
		if (argc < 2 || strcmp(argv[1], "new"))
			cli_usage("want 'signer new NAME --out FILE'");
		if (argc < 3)
			cli_usage("signer new needs a key NAME");
		if (argc > 3)
			cli_usage("unexpected argument '%s'", argv[3]);
		if (new_tmk || pass || salt)
			cli_usage("signer new takes --out FILE only");
		if (!out || !*out)
			cli_usage("signer new needs --out FILE");
		signer_new(argv[2], out);
		cli_finish();
		return 0;
	}
	if (argc > 1)
		cli_usage("unexpected argument '%s'", argv[1]);
	if (strcmp(sub, "status") && strcmp(sub, "rewrap") &&
	    strcmp(sub, "new") && strcmp(sub, "derive"))
		cli_usage("unknown subcommand '%s': want status, rewrap, new, "
			  "derive or signer", sub);
	if (new_tmk && strcmp(sub, "rewrap"))
		cli_usage("option '--new-tmk-file' is for rewrap only");
	if (out && strcmp(sub, "new") && strcmp(sub, "derive"))
		cli_usage("option '--out' is for new, derive and signer new "
			  "only");
	if ((pass || salt) && strcmp(sub, "derive"))
		cli_usage("options '--passphrase-file' and '--salt' are for "
			  "derive only");

	if (!strcmp(sub, "status")) {
		key_status();
	} else if (!strcmp(sub, "rewrap")) {
		if (!new_tmk || !*new_tmk)
			cli_usage("rewrap needs --new-tmk-file FILE");
		key_rewrap(new_tmk);
	} else if (!strcmp(sub, "new")) {
		if (!out || !*out)
			cli_usage("new needs --out FILE");
		key_new(out);
	} else {
		if (!out || !*out || !pass || !*pass || !salt || !*salt)
			cli_usage("derive needs --passphrase-file FILE, --salt "
				  "TEXT and --out FILE");
		key_derive(pass, salt, out);
	}
	cli_finish();
	return 0;
}
