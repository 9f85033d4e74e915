/*
 * fuzz_nedbd.h - what the two nedbd fuzzers share (fuzz_resp.c and
 * fuzz_http.c, each including one front end's .c before this): a
 * scratch data root in /dev/shm, removed at exit, and nedbd's server
 * state set up as main() would, without sockets or fsyncs.
 */
#include <dirent.h>
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
	nedb_set_warn(quiet);
	trace = getenv("NEDB_FUZZ_TRACE") != NULL;
}
