/*
 * fuzz_nedbd.h - what the two nedbd fuzzers share (fuzz_resp.c and
 * fuzz_http.c, each including one front end's .c before this): a
 * scratch data root in /dev/shm, removed at exit; nedbd's server state
 * set up as main() would, without sockets or fsyncs; and databases kept
 * open from one input to the next, put back as they were before each
 * input (fuzz_reset), cheaply.
 *
 * Opening and closing a database for every input (LMDB's environment,
 * its 3 MiB of write-transaction tables) cost more than the input did.
 * Instead a kept database that an input wrote to is cut back to its
 * genesis op (log.aof truncated to its first line) and its view rebuilt
 * from that (nedb_rebuild, the public way back from a log that the view
 * does not match); one it did not write to costs nothing.  A kept one an
 * input dropped is made anew.  Databases an input made are dropped,
 * unless the fuzzer pools them (fuzz_resp: a connection's SELECT of a
 * database that exists and of one that does not answer the same): then
 * the first KEEP_MAX - 1 names are kept too, and later ones dropped.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char root[64];
static bool trace;		/* NEDB_FUZZ_TRACE set: print each exchange */

static int
rm_any(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void
remove_root(void)
{
	nftw(root, rm_any, 16, FTW_DEPTH | FTW_PHYS);
}

static void
quiet(const char *msg)
{
}

/* Removes what fuzzers that crashed (no atexit) left in /dev/shm. */
static void
remove_stale(const char *prefix)
{
	DIR *d = opendir("/dev/shm");
	struct dirent *de;
	size_t n = strlen(prefix);

	while (d && (de = readdir(d))) {
		long pid;

		if (strncmp(de->d_name, prefix, n))
			continue;
		pid = strtol(de->d_name + n, NULL, 10);
		if (pid > 0 && kill((pid_t)pid, 0) && errno == ESRCH &&
		    snprintf(root, sizeof root, "/dev/shm/%s", de->d_name) <
		    (int)sizeof root)
			remove_root();
	}
	if (d)
		closedir(d);
}

/* Makes /dev/shm/nedb-fuzz-NAME.PID.XXXXXX the data root of srv. */
static void
fuzz_setup(const char *name, unsigned max_conns)
{
	char prefix[32];

	snprintf(prefix, sizeof prefix, "nedb-fuzz-%s.", name);
	remove_stale(prefix);
	snprintf(root, sizeof root, "/dev/shm/%s%ld.XXXXXX", prefix,
		 (long)getpid());
	if (!mkdtemp(root)) {
		fprintf(stderr, "fuzz_%s: mkdtemp: %s\n", name,
			strerror(errno));
		abort();
	}
	atexit(remove_root);
	srv.data = root;
	srv.durability = NEDB_FAST;
	srv.max_body = 1u << 20;
	srv.max_conns = max_conns;
	srv.timeout = 10;
	/* as bound to loopback: Host headers are checked */
	srv.addr.sin_family = AF_INET;
	srv.addr.sin_addr.s_addr = htonl(0x7f000001);
	srv.host = "127.0.0.1";
	srv.loopback = true;
	nedb_set_warn(quiet);
	trace = getenv("NEDB_FUZZ_TRACE") != NULL;
}

/* ---- databases kept across inputs ----------------------------------------- */

#define KEEP_MAX 8

static struct {
	char name[65];
	off_t genesis;		/* log.aof's first line */
	bool touched;		/* the input may have written to it */
} keep[KEEP_MAX];
static int nkeep;
static bool pool;		/* keep what inputs make (see the top) */
static bool touch_all;		/* no fuzz_touch calls: every one may be */

static void
keep_path(const char *name, char *path, size_t size)
{
	snprintf(path, size, "%s/%s/log.aof", root, name);
}

/* The bytes of the first line of name's log.aof, or -1. */
static off_t
genesis_size(const char *name)
{
	char path[PATH_MAX], buf[4096], *nl;
	ssize_t n;
	int fd;

	keep_path(name, path, sizeof path);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof buf);
	close(fd);
	if (n <= 0 || !(nl = memchr(buf, '\n', (size_t)n)))
		return -1;
	return nl - buf + 1;
}

/* Makes database name (anew) and notes its genesis. */
static void
keep_make(int i)
{
	struct dbent *e;

	if (db_get(keep[i].name, true, &e) ||
	    (keep[i].genesis = genesis_size(keep[i].name)) < 0) {
		fprintf(stderr, "fuzz: cannot make database '%s': %s\n",
			keep[i].name, nedb_errmsg());
		abort();
	}
}

/* Keeps database name open across inputs (made now). */
static void
fuzz_keep(const char *name)
{
	if (nkeep == KEEP_MAX)
		abort();
	snprintf(keep[nkeep].name, sizeof keep[nkeep].name, "%s", name);
	keep_make(nkeep++);
}

static int
kept(const char *name)
{
	for (int i = 0; i < nkeep; i++)
		if (!strcmp(keep[i].name, name))
			return i;
	return -1;
}

/* The input uses database name (fuzz_reset then looks at it). */
static void
fuzz_touch(const char *name)
{
	int i = kept(name);

	if (i >= 0)
		keep[i].touched = true;
}

/* Removes what is left of a dropped database's directory. */
static void
remove_dir(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", root, name);
	nftw(path, rm_any, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * Puts the databases back as they were before the input: see the top.
 * Every batch must be committed (the input's turns are over).
 */
static void
fuzz_reset(void)
{
	struct dbent *e, *next;
	DIR *d;
	struct dirent *de;
	bool there[KEEP_MAX] = {false};
	int had = nkeep;
	struct stat rst;
	nlink_t dirs = 0;

	for (e = srv.dbs; e; e = next) {
		char name[65], path[PATH_MAX];
		struct stat st;
		int i = kept(e->name);

		next = e->next;
		if (e->batch || e->waiters || e->lockq)
			abort();	/* left over by the input */
		if (i < 0 && pool && nkeep < KEEP_MAX &&
		    genesis_size(e->name) > 0) {
			i = nkeep++;
			strcpy(keep[i].name, e->name);
			keep[i].genesis = genesis_size(e->name);
		}
		if (i < 0) {
			strcpy(name, e->name);
			db_drop(e);
			remove_dir(name);
			continue;
		}
		there[i] = true;
		if (!keep[i].touched && !touch_all)
			continue;
		keep[i].touched = false;
		keep_path(e->name, path, sizeof path);
		if (stat(path, &st) == 0 && st.st_size == keep[i].genesis)
			continue;	/* not written to */
		if (truncate(path, keep[i].genesis) || nedb_rebuild(e->db)) {
			/* the slow way */
			strcpy(name, e->name);
			db_drop(e);
			remove_dir(name);
			there[i] = false;
		}
	}
	/* what an input made and left unopened (a failed create): the
	 * root's links say whether there is more than the kept ones */
	for (int i = 0; i < nkeep; i++)
		dirs += there[i];
	if (stat(root, &rst) || rst.st_nlink != 2 + dirs) {
		if (!(d = opendir(root)))
			abort();
		while ((de = readdir(d)))
			if (de->d_name[0] != '.' && kept(de->d_name) < 0)
				remove_dir(de->d_name);
		closedir(d);
	}
	for (int i = 0; i < had; i++)
		if (!there[i])
			keep_make(i);
}
