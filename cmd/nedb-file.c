/*
 * nedb-file - the versioned file store (nedb-file(1), SPEC §5): put a
 * stream as a new version of a file, get any version back, list them,
 * show a version's Merkle root, prove one chunk under it, check such a
 * proof with no database, show what the store holds, collect what no
 * version references, set the chunking.  The work is the library's
 * (nedb.h's nedb_file_*, lib/file).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-file [options] put NAME [FILE | -]\n"
"       nedb-file [options] get NAME [--version V] [--as-of SEQ] [-o FILE]\n"
"       nedb-file [options] ls [NAME] [--as-of SEQ]\n"
"       nedb-file [options] root NAME [--version V] [--as-of SEQ]\n"
"       nedb-file [options] proof NAME [--version V] --chunk K\n"
"       nedb-file verify [--root HEX [--chunks N]] [--data FILE] [-q] [PROOF | -]\n"
"       nedb-file [options] stats\n"
"       nedb-file [options] gc\n"
"       nedb-file [options] config [--chunk-min SIZE] [--chunk-avg SIZE] "
"[--chunk-max SIZE] [--tier warm|cold|raw]\n"
"\n"
"put: stores FILE (standard input when absent or -) as the next version\n"
"of NAME and prints {\"seq\",\"name\",\"version\",\"size\",\"chunks\",\n"
"\"new_bytes\",\"root\"}.\n"
"get: writes a version's bytes to standard output (or FILE).\n"
"ls: the latest version of every file, or every version of NAME.\n"
"root: a version's Merkle root, size, chunks and op.\n"
"proof: the inclusion proof of chunk K (from 0) under the version's root.\n"
"verify: checks a proof with no database: exit 0 valid, 1 invalid,\n"
"4 malformed.\n"
"stats: stored against logical bytes, deduplication, tiers.\n"
"gc: removes the chunks no version references.\n"
"config: sets the database's chunking and default tier; prints them.\n"
"\n"
"Options:\n"
"  -d, --db DIR          database directory (default $NEDB_DIR or\n"
"                        ./nedb-data)\n"
"      --version V       a version number (default: the latest)\n"
"      --as-of SEQ       as the database stood after op SEQ (or @TIME)\n"
"  -o, --output FILE     get: write FILE (whole, or not at all)\n"
"      --tier warm|cold|raw  put: deflate fast or small, or not at all\n"
"                        (default: the database's)\n"
"      --chunk K         proof: the chunk, counted from 0\n"
"      --root HEX        verify: the root the proof must lead to\n"
"      --chunks N        verify: the version's number of chunks (with the\n"
"                        root, from its op)\n"
"      --data FILE       verify: the chunk's bytes, which must hash to the\n"
"                        proof's leaf (plaintext databases)\n"
"  -q, --quiet           verify: print nothing\n"
"      --client C, --nonce N, --idem KEY   put: as nedb-put(1)\n"
"      --durability durable|safe|fast      put, gc: as nedb(7)\n"
"      --tmk-file FILE   an encrypted database's master key\n"
"      --log URL         put: a new database's log on an engine, nedb(7)\n"
"      --pretty, --array as every command\n"
"      --progress        put, get: show progress on stderr (default: when\n"
"                        it is a terminal); --no-progress: never\n"
"  -h, --help            this text\n";

enum { OPT_FVERSION = OPT_CMD, OPT_TIER, OPT_CHUNK, OPT_ROOT, OPT_DATA,
       OPT_CHUNKS,
       OPT_CMIN, OPT_CAVG, OPT_CMAX };

static const struct option longopts[] = {
	{"db", required_argument, 0, 'd'},
	{"tmk-file", required_argument, 0, OPT_TMK_FILE},
	{"log", required_argument, 0, OPT_LOG},
	{"durability", required_argument, 0, OPT_DURABILITY},
	{"pretty", no_argument, 0, OPT_PRETTY},
	{"array", no_argument, 0, OPT_ARRAY},
	{"help", no_argument, 0, OPT_HELP},
	/* --version takes a number here (a file's version); the program's
	 * own version is printed by "nedb-file --version" alone */
	{"version", required_argument, 0, OPT_FVERSION},
	{"as-of", required_argument, 0, OPT_ASOF},
	{"output", required_argument, 0, 'o'},
	{"tier", required_argument, 0, OPT_TIER},
	{"chunk", required_argument, 0, OPT_CHUNK},
	{"root", required_argument, 0, OPT_ROOT},
	{"data", required_argument, 0, OPT_DATA},
	{"chunks", required_argument, 0, OPT_CHUNKS},
	{"quiet", no_argument, 0, 'q'},
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{"idem", required_argument, 0, OPT_IDEM},
	{"chunk-min", required_argument, 0, OPT_CMIN},
	{"chunk-avg", required_argument, 0, OPT_CAVG},
	{"chunk-max", required_argument, 0, OPT_CMAX},
	CLI_PROGRESS_LONGOPTS,
	{0, 0, 0, 0}
};

/* What was given, to refuse options a subcommand does not take. */
static struct {
	uint64_t version;		/* 0: latest */
	bool has_version;
	uint64_t as_of;
	bool has_as_of;
	const char *output;
	int tier;			/* NEDB_TIER_*, 0 none */
	uint64_t chunk;
	bool has_chunk;
	const char *root, *data;
	uint64_t chunks;		/* verify --chunks: 0 none */
	bool quiet;
	nedb_wopts w;
	bool has_w;
	uint32_t cfg[3];		/* config: 0 unchanged */
} opt;

static nedb_buf out;

static int
tier_of(const char *s)
{
	if (!strcmp(s, "warm"))
		return NEDB_TIER_WARM;
	if (!strcmp(s, "cold"))
		return NEDB_TIER_COLD;
	if (!strcmp(s, "raw"))
		return NEDB_TIER_RAW;
	cli_usage("bad tier '%s': want warm, cold or raw", s);
}

/* A size: digits with an optional K or M (KiB, MiB). */
static uint32_t
size_arg(const char *what, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (*s < '0' || *s > '9')
		cli_usage("bad %s '%s': want a number of bytes (K and M: "
			  "KiB and MiB)", what, s);
	v = strtoull(s, &end, 10);
	if (*end == 'K' || *end == 'k')
		v <<= 10, end++;
	else if (*end == 'M' || *end == 'm')
		v <<= 20, end++;
	if (errno || *end || v > UINT32_MAX)
		cli_usage("bad %s '%s': want a number of bytes (K and M: "
			  "KiB and MiB)", what, s);
	return (uint32_t)v;
}

/* --- put ----------------------------------------------------------- */

/* The input of a put, opened before the database is (a missing file
 * must not create one): standard input when path is NULL or "-". */
static int
put_input(const char *path)
{
	int fd = 0;

	if (path && strcmp(path, "-") &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		cli_failf(NEDB_EIO, "cannot open '%s': %s", path,
			  strerror(errno));
	return fd;
}

static void
cmd_put(nedb *db, const char *name, const char *path, int fd)
{
	nedb_file_put_opts po = {opt.tier, opt.w};
	nedb_file_version v;
	nedb_file_put *p;
	uint64_t added;
	size_t cap = 1 << 20;
	char *buf;
	int rc;

	struct stat st;
	uint64_t total = 0, done = 0;

	if ((rc = nedb_file_put_begin(db, name, &po, &p)))
		cli_fail(rc);
	if (!(buf = malloc(cap)))
		cli_failf(NEDB_EIO, "out of memory");
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;	/* else no percentage */
	cli_progress_begin("put", "bytes");
	for (;;) {
		ssize_t n = read(fd, buf, cap);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			nedb_file_put_abort(p);
			cli_failf(NEDB_EIO, "cannot read '%s': %s",
				  path && strcmp(path, "-") ? path :
				  "standard input", strerror(e));
		}
		if (n == 0)
			break;
		if ((rc = nedb_file_put_write(p, buf, (size_t)n))) {
			cli_error(rc);
			nedb_file_put_abort(p);
			exit(nedb_exit_status(rc));
		}
		done += (uint64_t)n;
		cli_progress_set(done, done, total);
	}
	cli_progress_end();
	free(buf);
	if (fd > 0)
		close(fd);
	if ((rc = nedb_file_put_commit(p, &v, &added)))
		cli_fail(rc);
	out.len = 0;
	nedb_file_put_json(&out, &v, added);
	cli_print(out.p, out.len);
}

/* --- get ----------------------------------------------------------- */

/* Where get writes, and how far it is. */
struct sink {
	int fd;
	uint64_t done, total;
};

static int
write_fd(const void *p, size_t n, void *payload)
{
	struct sink *k = payload;
	int fd = k->fd;
	const char *b = p;

	k->done += n;
	cli_progress_set(k->done, k->done, k->total);

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "%s: cannot write: %s\n", cli.prog,
				strerror(w < 0 ? errno : ENOSPC));
			exit(nedb_exit_status(NEDB_EIO));
		}
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static void
cmd_get(nedb *db, const char *name)
{
	nedb_file_version v;
	char *tmp = NULL;
	int fd = 1, rc;

	if ((rc = nedb_file_stat(db, name, opt.version, opt.as_of, &v)))
		cli_fail(rc);
	if (opt.output) {
		/* a temporary file beside it, renamed only when whole */
		size_t n = strlen(opt.output) + 16;

		tmp = malloc(n);
		snprintf(tmp, n, "%s.tmp.XXXXXX", opt.output);
		if ((fd = mkstemp(tmp)) < 0)
			cli_failf(NEDB_EIO, "cannot create '%s': %s", tmp,
				  strerror(errno));
	}
	cli_progress_begin("get", "bytes");
	struct sink k = {fd, 0, v.size};

	rc = nedb_file_read(db, &v, write_fd, &k);
	cli_progress_end();
	if (!rc && tmp && (fsync(fd) || close(fd) ||
			   rename(tmp, opt.output))) {
		int e = errno;

		unlink(tmp);
		cli_failf(NEDB_EIO, "cannot write '%s': %s", opt.output,
			  strerror(e));
	}
	if (rc) {
		if (tmp)
			unlink(tmp);
		cli_fail(rc);
	}
	free(tmp);
}

/* --- ls, root ------------------------------------------------------ */

static int
print_version(const nedb_file_version *v, void *payload)
{
	out.len = 0;
	nedb_file_version_json(&out, v, 0);
	cli_print(out.p, out.len);
	return 0;
}

static void
cmd_ls(nedb *db, const char *name)
{
	int rc = nedb_file_list(db, name, opt.as_of, print_version, NULL);

	if (rc)
		cli_fail(rc);
}

static void
cmd_root(nedb *db, const char *name)
{
	nedb_file_version v;
	int rc;

	if ((rc = nedb_file_stat(db, name, opt.version, opt.as_of, &v)))
		cli_fail(rc);
	out.len = 0;
	nedb_file_version_json(&out, &v, 1);
	cli_print(out.p, out.len);
}

/* --- proof, verify ------------------------------------------------- */

static void
cmd_proof(nedb *db, const char *name)
{
	nedb_file_version v;
	int rc;

	if ((rc = nedb_file_stat(db, name, opt.version, opt.as_of, &v)))
		cli_fail(rc);
	out.len = 0;
	if ((rc = nedb_file_prove(db, &v, opt.chunk, &out)))
		cli_fail(rc);
	cli_print(out.p, out.len);
}

static int
cmd_verify(const char *path)
{
	nedb_buf proof = {0}, data = {0};
	nedb_file_proof_info info;
	int rc;

	if (path && strcmp(path, "-"))
		cli_read_file(path, &proof);
	else
		cli_read_stdin(&proof);
	if (opt.data)
		cli_read_file(opt.data, &data);
	rc = nedb_file_proof_check(proof.p ? proof.p : "", proof.len, opt.root,
				   opt.chunks, opt.data ? (data.p ? data.p : "") : NULL,
				   data.len, &info);
	if (rc == NEDB_EUSAGE)
		cli_usage("%s", nedb_errmsg());
	if (rc && rc != NEDB_EBROKEN && rc != NEDB_EINPUT)
		cli_fail(rc);
	if (!opt.quiet) {
		out.len = 0;
		nedb_buf_printf(&out, "{\"ok\":%s", rc ? "false" : "true");
		if (info.parsed) {
			nedb_buf_puts(&out, ",\"name\":");
			nedb_buf_json_str(&out, info.name, strlen(info.name));
			nedb_buf_printf(&out, ",\"version\":%llu,\"chunk\":%llu,"
					"\"chunks\":%llu",
					(unsigned long long)info.version,
					(unsigned long long)info.chunk,
					(unsigned long long)info.chunks);
		}
		if (rc) {
			nedb_buf_puts(&out, ",\"error\":");
			nedb_buf_json_str(&out, nedb_errmsg(),
					  strlen(nedb_errmsg()));
		}
		nedb_buf_puts(&out, "}");
		cli_print(out.p, out.len);
	}
	if (rc)
		fprintf(stderr, "%s: %s proof: %s\n", cli.prog,
			rc == NEDB_EBROKEN ? "invalid" : "malformed",
			nedb_errmsg());
	nedb_buf_free(&proof);
	nedb_buf_free(&data);
	cli_finish();
	/* invalid is the answer "no" (1); malformed is bad input (4) */
	return rc == NEDB_EBROKEN ? 1 : rc == NEDB_EINPUT ? 4 : 0;
}

/* --- stats, gc, config --------------------------------------------- */

static const char *const tier_names[] = {"raw", "warm", "cold"};

/* A default tier's name (NEDB_TIER_*). */
static const char *
tier_name(int tier)
{
	return tier == NEDB_TIER_COLD ? "cold" : tier == NEDB_TIER_RAW ?
	       "raw" : "warm";
}

static void
ratio(nedb_buf *b, const char *key, uint64_t num, uint64_t den)
{
	if (den)
		nedb_buf_printf(b, ",\"%s\":%.3f", key, (double)num /
				(double)den);
	else
		nedb_buf_printf(b, ",\"%s\":null", key);
}

static void
cmd_stats(nedb *db)
{
	nedb_file_stats s;
	int rc;

	if ((rc = nedb_file_stats_get(db, &s)))
		cli_fail(rc);
	out.len = 0;
	nedb_buf_printf(&out, "{\"files\":%llu,\"versions\":%llu,"
			"\"logical_bytes\":%llu,\"stored_bytes\":%llu,"
			"\"chunks\":%llu,\"chunk_bytes\":%llu",
			(unsigned long long)s.files,
			(unsigned long long)s.versions,
			(unsigned long long)s.logical,
			(unsigned long long)(s.stored + s.page_bytes),
			(unsigned long long)s.chunks,
			(unsigned long long)s.chunk_bytes);
	ratio(&out, "dedup_ratio", s.logical, s.chunk_bytes);
	ratio(&out, "compression_ratio", s.chunk_bytes, s.stored);
	ratio(&out, "ratio", s.logical, s.stored + s.page_bytes);
	nedb_buf_puts(&out, ",\"tiers\":{");
	for (int t = 0; t < 3; t++)
		nedb_buf_printf(&out, "%s\"%s\":{\"chunks\":%llu,\"bytes\":%llu,"
				"\"stored\":%llu}", t ? "," : "",
				tier_names[t],
				(unsigned long long)s.tier[t].chunks,
				(unsigned long long)s.tier[t].bytes,
				(unsigned long long)s.tier[t].stored);
	nedb_buf_printf(&out, "},\"manifest_pages\":%llu,\"manifest_bytes\":%llu,"
			"\"packs\":%llu,\"pack_bytes\":%llu,"
			"\"chunking\":{\"min\":%u,\"avg\":%u,\"max\":%u},"
			"\"tier\":\"%s\"}",
			(unsigned long long)s.pages,
			(unsigned long long)s.page_bytes,
			(unsigned long long)s.packs,
			(unsigned long long)s.pack_bytes, s.chunk_min,
			s.chunk_avg, s.chunk_max,
			tier_name(s.default_tier));
	cli_print(out.p, out.len);
}

static void
cmd_gc(nedb *db)
{
	nedb_file_gc g;
	int rc;

	if ((rc = nedb_file_gc_run(db, &g)))
		cli_fail(rc);
	out.len = 0;
	nedb_buf_printf(&out, "{\"versions\":%llu,\"removed_chunks\":%llu,"
			"\"removed_bytes\":%llu,\"packs_rewritten\":%llu,"
			"\"packs_removed\":%llu,\"freed_bytes\":%llu}",
			(unsigned long long)g.versions,
			(unsigned long long)g.chunks,
			(unsigned long long)g.bytes,
			(unsigned long long)g.packs_rewritten,
			(unsigned long long)g.packs_removed,
			(unsigned long long)g.freed);
	cli_print(out.p, out.len);
}

static void
cmd_config(nedb *db)
{
	uint32_t c[3];
	int tier, rc;

	if (opt.cfg[0] || opt.cfg[1] || opt.cfg[2] || opt.tier) {
		nedb_file_config_get(db, c, &tier);
		for (int i = 0; i < 3; i++)
			if (opt.cfg[i])
				c[i] = opt.cfg[i];
		if ((rc = nedb_file_config_set(db, opt.cfg[0] || opt.cfg[1] ||
					       opt.cfg[2] ? c : NULL,
					       opt.tier ? opt.tier : -1)))
			cli_fail(rc);
	}
	nedb_file_config_get(db, c, &tier);
	out.len = 0;
	nedb_buf_printf(&out, "{\"chunk_min\":%u,\"chunk_avg\":%u,"
			"\"chunk_max\":%u,\"tier\":\"%s\"}", c[0], c[1], c[2],
			tier_name(tier));
	cli_print(out.p, out.len);
}

/* --- main ---------------------------------------------------------- */

/* Refuses an option the subcommand sub does not take. */
static void
only(const char *sub, bool given, const char *option, const char *subs)
{
	if (given && !strstr(subs, sub))
		cli_usage("option '%s' is not for %s", option, sub);
}

int
main(int argc, char **argv)
{
	static const char *const subs[] = {
		"put", "get", "ls", "root", "proof", "verify", "stats", "gc",
		"config", NULL
	};
	const char *sub;
	char padded[16];
	int c, want_min, want_max, i, in = 0;
	nedb *db;

	cli_init("nedb-file", usage);
	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("nedb-file %s\n", nedb_version());
		return 0;
	}
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "o:q",
				longopts, NULL)) != -1) {
		if (c != OPT_FVERSION && cli_common(c, optarg))
			continue;
		if (cli_write_opt(c, optarg, &opt.w)) {
			opt.has_w = true;
			continue;
		}
		switch (c) {
		case OPT_FVERSION:
			if (!(opt.version = cli_u64("version", optarg)))
				cli_usage("bad version '0': versions start at "
					  "1");
			opt.has_version = true;
			break;
		case OPT_ASOF:
			opt.as_of = cli_as_of(optarg);
			opt.has_as_of = true;
			break;
		case 'o':
			opt.output = optarg;
			break;
		case OPT_TIER:
			opt.tier = tier_of(optarg);
			break;
		case OPT_CHUNK:
			opt.chunk = cli_u64("chunk", optarg);
			opt.has_chunk = true;
			break;
		case OPT_ROOT:
			opt.root = optarg;
			break;
		case OPT_DATA:
			opt.data = optarg;
			break;
		case OPT_CHUNKS:
			if (!(opt.chunks = cli_u64("chunks", optarg)))
				cli_usage("bad chunks '0': a version with a "
					  "proof has at least one chunk");
			break;
		case 'q':
			opt.quiet = true;
			break;
		case OPT_CMIN:
			opt.cfg[0] = size_arg("minimum chunk size", optarg);
			break;
		case OPT_CAVG:
			opt.cfg[1] = size_arg("average chunk size", optarg);
			break;
		case OPT_CMAX:
			opt.cfg[2] = size_arg("maximum chunk size", optarg);
			break;
		default:
			cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1)
		cli_usage("missing subcommand: put, get, ls, root, proof, "
			  "verify, stats, gc or config");
	sub = argv[0];
	for (i = 0; subs[i] && strcmp(subs[i], sub); i++)
		;
	if (!subs[i])
		cli_usage("unknown subcommand '%.40s': want put, get, ls, root, "
			  "proof, verify, stats, gc or config", sub);
	/* " sub " so that "ls" does not match inside another name */
	snprintf(padded, sizeof padded, " %s ", sub);
	only(padded, opt.has_version, "--version", " get root proof ");
	only(padded, opt.has_as_of, "--as-of", " get ls root proof ");
	only(padded, opt.output != NULL, "--output", " get ");
	only(padded, opt.tier != 0, "--tier", " put config ");
	only(padded, opt.has_chunk, "--chunk", " proof ");
	only(padded, opt.root != NULL, "--root", " verify ");
	only(padded, opt.data != NULL, "--data", " verify ");
	only(padded, opt.chunks != 0, "--chunks", " verify ");
	only(padded, opt.quiet, "--quiet", " verify ");
	only(padded, opt.has_w, "--client, --nonce and --idem", " put ");
	only(padded, opt.cfg[0] || opt.cfg[1] || opt.cfg[2], "--chunk-*",
	     " config ");
	if (!strcmp(sub, "proof") && !opt.has_chunk)
		cli_usage("proof needs --chunk K");
	/* positional arguments: NAME and FILE */
	want_min = !strcmp(sub, "put") || !strcmp(sub, "get") ||
		   !strcmp(sub, "root") || !strcmp(sub, "proof");
	want_max = !strcmp(sub, "put") ? 2 : want_min || !strcmp(sub, "ls") ||
		   !strcmp(sub, "verify") ? 1 : 0;
	if (argc - 1 < want_min)
		cli_usage("%s needs a file name", sub);
	if (argc - 1 > want_max)
		cli_usage("unexpected argument '%.80s'", argv[want_max + 1]);
	if (!strcmp(sub, "verify"))
		return cmd_verify(argc > 1 ? argv[1] : NULL);
	if (!opt.has_as_of)
		opt.as_of = NEDB_HEAD;
	/* a bad name or input: refused before a database is opened (and
	 * made, for a put) */
	if (want_min && nedb_check_id(argv[1], strlen(argv[1])))
		cli_failf(NEDB_EINPUT, "bad file name '%.80s': want 1-400 bytes "
			  "of UTF-8, no control characters", argv[1]);
	if (!strcmp(sub, "put"))
		in = put_input(argc > 2 ? argv[2] : NULL);
	db = cli_open(!strcmp(sub, "put") || !strcmp(sub, "config"));
	if (opt.has_as_of)
		opt.as_of = cli_as_of_seq(db, opt.as_of);
	if (!strcmp(sub, "put"))
		cmd_put(db, argv[1], argc > 2 ? argv[2] : NULL, in);
	else if (!strcmp(sub, "get"))
		cmd_get(db, argv[1]);
	else if (!strcmp(sub, "ls"))
		cmd_ls(db, argc > 1 ? argv[1] : NULL);
	else if (!strcmp(sub, "root"))
		cmd_root(db, argv[1]);
	else if (!strcmp(sub, "proof"))
		cmd_proof(db, argv[1]);
	else if (!strcmp(sub, "stats"))
		cmd_stats(db);
	else if (!strcmp(sub, "gc"))
		cmd_gc(db);
	else
		cmd_config(db);
	nedb_close(db);
	nedb_buf_free(&out);
	cli_finish();
	return 0;
}
