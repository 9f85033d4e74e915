/*
 * nedb - the umbrella command: "nedb put ..." runs nedb-put (as git
 * runs git-*), "nedb help [CMD]" shows a manual, "nedb" alone opens the
 * shell (nedb-shell).
 *
 * This program links nothing but libc (it includes nedb.h for the
 * version macro only): it is on the path of every "nedb CMD", and a
 * dynamic library costs start-up time at each invocation (SPEC §2).  It
 * finds nedb-CMD beside its own executable first, then in PATH, and
 * exec(2)s it: no process is left between the caller and the command,
 * so exit statuses, signals and standard streams are the command's.
 *
 * Options before the command (-d DIR, --db DIR, --tmk-file FILE) are
 * handed to it: "nedb -d /srv/db get users alice" runs "nedb-get -d
 * /srv/db users alice".
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nedb.h"

static const char usage[] =
"usage: nedb [-d DIR] [--tmk-file FILE]\n"
"       nedb [-d DIR] [--tmk-file FILE] COMMAND [ARGS...]\n"
"       nedb help [COMMAND]\n"
"       nedb --version\n"
"\n"
"Runs nedb-COMMAND with ARGS (the options before COMMAND are given to\n"
"it); without a COMMAND, opens the shell (nedb-shell(1)).  'nedb help'\n"
"lists the commands, 'nedb help COMMAND' shows its manual.\n"
"\n"
"Options:\n"
"  -d, --db DIR          database directory ($NEDB_DIR, ./nedb-data)\n"
"      --tmk-file FILE   the master key of an encrypted database\n"
"  -h, --help            show this help\n"
"      --version         show the version\n";

/* The commands nedb knows of, with what each is for ('nedb help'). */
static const struct {
	const char *name, *what;
} known[] = {
	{"put", "insert or replace documents"},
	{"get", "read documents, now or as of a point of time"},
	{"delete", "delete documents"},
	{"query", "run NQL queries and MongoDB-style filters"},
	{"sql", "run SQL statements"},
	{"update", "change documents with update operators"},
	{"link", "add, remove and list edges between documents"},
	{"index", "create, drop and list indexes"},
	{"coll", "list collections, or drop one"},
	{"log", "print the ops of the log"},
	{"diff", "what changed between two points of time"},
	{"verify", "check the hash chain (and the view)"},
	{"checkpoint", "checkpoint, compact, prune or rebuild"},
	{"expire", "set or clear a document's time to live"},
	{"sweep", "delete the expired documents now"},
	{"stats", "what a database holds"},
	{"redis", "Redis commands on a database"},
	{"redis-follow", "follow a Redis server as its replica"},
	{"key", "keys of encrypted databases, signer keys"},
	{"proof", "Merkle proofs and signed checkpoints"},
	{"witness", "cosign the checkpoints of a log"},
	{"file", "the versioned file store"},
	{"redact", "erase the text of a document's versions"},
	{"shell", "the interactive shell"},
};
#define NKNOWN (sizeof known / sizeof known[0])

static char selfdir[PATH_MAX];	/* the directory of this executable */

static void
find_self(const char *argv0)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	char *slash;

	if (n <= 0) {
		/* no /proc: the directory argv[0] names, if it names one */
		if (!strchr(argv0, '/') || strlen(argv0) >= sizeof buf)
			return;
		strcpy(buf, argv0);
		n = (ssize_t)strlen(buf);
	}
	buf[n] = 0;
	if ((slash = strrchr(buf, '/'))) {
		*slash = 0;
		snprintf(selfdir, sizeof selfdir, "%s", *buf ? buf : "/");
	}
}

/* A command name nedb would run: letters, digits and '-' only. */
static int
good_name(const char *s)
{
	if (!*s || *s == '-' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
			return 0;
	return 1;
}

/*
 * Execs nedb-NAME with argv (argv[0] replaced): beside this executable
 * first, then from PATH.  Returns only when neither exists (errno set).
 */
static void
run(const char *name, char **argv)
{
	char prog[96], path[PATH_MAX + 96];
	int saved;

	snprintf(prog, sizeof prog, "nedb-%s", name);
	argv[0] = prog;
	if (*selfdir) {
		snprintf(path, sizeof path, "%s/%s", selfdir, prog);
		execv(path, argv);
		if (errno != ENOENT) {
			saved = errno;
			fprintf(stderr, "nedb: cannot run '%s': %s\n", path,
				strerror(saved));
			exit(126);
		}
	}
	execvp(prog, argv);
	if (errno != ENOENT) {
		saved = errno;
		fprintf(stderr, "nedb: cannot run '%s': %s\n", prog,
			strerror(saved));
		exit(126);
	}
}

/* Commands found as nedb-* executables, beside nedb and in PATH. */
struct names {
	char **v;
	size_t n, cap;
};

static int
has(const struct names *ns, const char *s)
{
	for (size_t i = 0; i < ns->n; i++)
		if (!strcmp(ns->v[i], s))
			return 1;
	return 0;
}

static void
add(struct names *ns, const char *s)
{
	if (has(ns, s))
		return;
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 32;
		if (!(ns->v = realloc(ns->v, ns->cap * sizeof *ns->v))) {
			fputs("nedb: out of memory\n", stderr);
			exit(5);
		}
	}
	if (!(ns->v[ns->n++] = strdup(s))) {
		fputs("nedb: out of memory\n", stderr);
		exit(5);
	}
}

static void
scan_dir(struct names *ns, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX + 256];

	if (!d)
		return;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "nedb-", 5) || !good_name(e->d_name + 5))
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if (access(path, X_OK) == 0)
			add(ns, e->d_name + 5);
	}
	closedir(d);
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
commands(struct names *ns)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save;

	if (*selfdir)
		scan_dir(ns, selfdir);
	if (path && (copy = strdup(path))) {
		for (dir = strtok_r(copy, ":", &save); dir;
		     dir = strtok_r(NULL, ":", &save))
			scan_dir(ns, *dir ? dir : ".");
		free(copy);
	}
	add(ns, "help");
	qsort(ns->v, ns->n, sizeof *ns->v, by_name);
}

/* Damerau-Levenshtein distance (optimal string alignment), as git's
 * help.c weighs a mistyped command, all edits costing 1. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[66][66];

	if (la > 64 || lb > 64)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			size_t c = a[i - 1] != b[j - 1], m = d[i - 1][j] + 1;

			if (d[i][j - 1] + 1 < m)
				m = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + c < m)
				m = d[i - 1][j - 1] + c;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < m)
				m = d[i - 2][j - 2] + 1;
			d[i][j] = m;
		}
	return d[la][lb];
}

/*
 * Not a command: the closest one, when it is close (at most a third of
 * the longer name's letters changed, or the typed text a prefix of
 * exactly one command), as git suggests.  Exit 2: a usage error.
 */
static void
unknown(const char *name)
{
	struct names ns = {0};
	const char *best = NULL, *prefix = NULL;
	size_t bestd = SIZE_MAX, nprefix = 0, n = strlen(name);

	commands(&ns);
	for (size_t i = 0; i < ns.n; i++) {
		size_t d = distance(name, ns.v[i]), l = strlen(ns.v[i]);

		if (n && !strncmp(ns.v[i], name, n)) {
			prefix = ns.v[i];
			nprefix++;
		}
		if (d < bestd && d * 3 <= (l > n ? l : n)) {
			bestd = d;
			best = ns.v[i];
		}
	}
	if (!best && nprefix == 1)
		best = prefix;
	if (best)
		fprintf(stderr, "nedb: '%s' is not a nedb command. Did you "
			"mean '%s'?\n", name, best);
	else
		fprintf(stderr, "nedb: '%s' is not a nedb command. See 'nedb "
			"help'.\n", name);
	exit(2);
}

static void
list_commands(void)
{
	struct names ns = {0};
	size_t i, k;

	commands(&ns);
	fputs(usage, stdout);
	fputs("\nCommands:\n", stdout);
	for (i = 0; i < ns.n; i++) {
		const char *what = "";

		if (!strcmp(ns.v[i], "help"))
			what = "list the commands, or show one's manual";
		for (k = 0; k < NKNOWN; k++)
			if (!strcmp(known[k].name, ns.v[i]))
				what = known[k].what;
		printf("  %-12s  %s\n", ns.v[i], what);
	}
	fputs("\nSee 'nedb help COMMAND' for the manual of one.\n", stdout);
	exit(fflush(stdout) ? 5 : 0);
}

/*
 * nedb help CMD: man nedb-CMD (nedb(1) for "nedb"), with the manuals
 * installed beside this executable (../share/man) searched first.
 */
static void
help(const char *name)
{
	char page[96], dir[PATH_MAX + 32], env[2 * PATH_MAX + 64];
	const char *mp = getenv("MANPATH");
	struct stat st;

	struct names ns = {0};

	if (!strncmp(name, "nedb-", 5))
		name += 5;
	if (!strcmp(name, "nedb") || !strcmp(name, "help"))
		snprintf(page, sizeof page, "nedb");
	else {
		/* a page for each command there is: a typo gets a hint */
		commands(&ns);
		if (!good_name(name) || !has(&ns, name))
			unknown(name);
		snprintf(page, sizeof page, "nedb-%s", name);
	}
	if (*selfdir) {
		snprintf(dir, sizeof dir, "%s/../share/man", selfdir);
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
			/* a trailing ':' keeps man's own search path */
			snprintf(env, sizeof env, "%s:%s", dir, mp ? mp : "");
			setenv("MANPATH", env, 1);
		}
	}
	fflush(stdout);
	execlp("man", "man", page, (char *)NULL);
	fprintf(stderr, "nedb: cannot show the manual of '%s': 'man' %s "
		"(try 'nedb %s --help')\n", page, errno == ENOENT ?
		"is not installed" : strerror(errno), name);
	exit(1);
}

static void
bad_usage(const char *fmt, const char *arg)
{
	fputs("nedb: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see 'nedb --help')\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	/* the options before the command, handed on: at most two each */
	char *pass[8], **args;
	int npass = 0, i = 1, j;

	find_self(argv[0]);
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(usage, stdout);
			return fflush(stdout) ? 5 : 0;
		}
		if (!strcmp(a, "--version")) {
			printf("nedb (nedb) %s\n", NEDB_VERSION);
			return fflush(stdout) ? 5 : 0;
		}
		if (!strcmp(a, "-d") || !strcmp(a, "--db") ||
		    !strcmp(a, "--tmk-file")) {
			if (i + 1 >= argc)
				bad_usage("option '%s' needs an argument", a);
			if (npass + 2 > 6)
				bad_usage("option '%s' given too often", a);
			pass[npass++] = argv[i++];
			pass[npass++] = argv[i];
			continue;
		}
		if ((!strncmp(a, "-d", 2) && a[2]) ||
		    !strncmp(a, "--db=", 5) || !strncmp(a, "--tmk-file=", 11)) {
			if (npass + 1 > 6)
				bad_usage("option '%s' given too often", a);
			pass[npass++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--"))  {
			i++;
			break;
		}
		bad_usage("unknown option '%s'", a);
	}
	if (i < argc && !strcmp(argv[i], "help")) {
		if (i + 1 >= argc)
			list_commands();
		if (i + 2 < argc)
			bad_usage("too many arguments: want 'nedb help %s'",
				  "COMMAND");
		help(argv[i + 1]);
	}
	/* the command's argv: its name, the options handed on, the rest */
	if (!(args = calloc((size_t)(argc + npass + 2), sizeof *args))) {
		fputs("nedb: out of memory\n", stderr);
		return 5;
	}
	args[0] = NULL;
	for (j = 0; j < npass; j++)
		args[1 + j] = pass[j];
	if (i >= argc) {		/* no command: the shell */
		run("shell", args);
		fprintf(stderr, "nedb: cannot open the shell: nedb-shell is "
			"not installed\n");
		return 2;
	}
	for (int k = i + 1; k < argc; k++)
		args[1 + npass + (k - i - 1)] = argv[k];
	if (good_name(argv[i]))
		run(argv[i], args);
	unknown(argv[i]);
}
