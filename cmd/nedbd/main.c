/*
 * nedbd - the nedb server: HTTP/JSON and RESP2 over the databases under
 * a data root.  See nedbd(8).
 *
 * main.c holds the loop, the registry of open databases and the batches
 * that make group commit (see nedbd.h); http.c and resp.c are the two
 * front ends.
 */
#include <errno.h>
#include <netdb.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "nedbd.h"

static const char usage[] =
"usage: nedbd [--tmk-file FILE] [--help] [--version]\n"
"\n"
"Serves every database under NEDBD_DATA over HTTP/JSON and, when\n"
"NEDBD_RESP2_PORT is set, the Redis protocol.  Configured by the\n"
"environment: NEDBD_HOST (127.0.0.1), NEDBD_PORT (7070), NEDBD_DATA\n"
"(./nedb-data), NEDBD_TOKEN (bearer token; none), NEDBD_RESP2_PORT (0:\n"
"off), NEDBD_DURABILITY (durable), NEDBD_MAX_BODY (bytes; 33554432),\n"
"NEDBD_MAX_CONNECTIONS (1000), NEDBD_TIMEOUT (seconds; 10),\n"
"NEDBD_MAX_DBS (databases open at once; 128), NEDBD_CORS_ORIGINS\n"
"(origins; none).  SIGTERM or SIGINT finishes the\n"
"requests in flight, checkpoints every open database and exits 0.\n"
"\n"
"Options:\n"
"      --tmk-file FILE   the master key of every database served (else\n"
"                        NEDB_TMK or NEDB_TMK_FILE; none: plaintext only)\n"
"  -h, --help            show this help and exit\n"
"      --version         print the version and exit\n";

struct server srv;

static void
die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("nedbd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

__attribute__((noreturn, format(printf, 1, 2)))
static void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("nedbd: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'nedbd --help' for more information.\n", stderr);
	exit(2);
}

static void
warn_cb(const char *msg)
{
	fprintf(stderr, "nedbd: warning: %s\n", msg);
}

/* ---- configuration -------------------------------------------------------- */

static const char *
env(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v && *v ? v : dflt;
}

static unsigned long
env_num(const char *name, unsigned long dflt, unsigned long min,
	unsigned long max)
{
	const char *v = env(name, NULL);
	unsigned long n;
	char *end;

	if (!v)
		return dflt;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || *v == '-' || n < min || n > max)
		die(2, "bad %s: '%s' (a number from %lu to %lu)", name, v, min,
		    max);
	return n;
}

/* NEDBD_HOST: an IPv4 address or a name that resolves to one. */
static void
resolve(const char *host)
{
	struct addrinfo hints = {.ai_family = AF_INET,
				 .ai_socktype = SOCK_STREAM}, *ai;
	int rc = getaddrinfo(host, NULL, &hints, &ai);

	if (rc)
		die(2, "bad NEDBD_HOST: '%s' (%s)", host, gai_strerror(rc));
	memcpy(&srv.addr, ai->ai_addr, sizeof srv.addr);
	freeaddrinfo(ai);
	srv.host = host;
	srv.loopback = (ntohl(srv.addr.sin_addr.s_addr) >> 24) == 127;
}

/* ---- databases ------------------------------------------------------------ */

/*
 * A database whose log is on an engine: what other machines wrote, once
 * a turn, before the turn's reads (a request sees every op acknowledged
 * before it came).  Not while a write or a snapshot of the turn is open,
 * and never waiting for a CLI writer's lock (that writer catches up
 * itself); a failure leaves this copy as it is and is said on stderr.
 */
static void
engine_catch_up(struct dbent *e)
{
	int rc;

	if (e->synced == srv.turn || e->batch || e->snap ||
	    !nedb_engine_url(e->db))
		return;
	e->synced = srv.turn;
	if ((rc = nedb_engine_trysync(e->db)) && rc != NEDB_EBUSY)
		fprintf(stderr, "nedbd: %s: %s\n", e->name, nedb_errmsg());
}

int
db_get(const char *name, bool create, struct dbent **out)
{
	struct dbent *e;
	char path[PATH_MAX];
	int rc;

	*out = NULL;
	if ((rc = nedb_check_dbname(name, strlen(name))))
		return rc;
	for (e = srv.dbs; e; e = e->next)
		if (!strcmp(e->name, name)) {
			e->used = srv.turn;
			engine_catch_up(e);
			*out = e;
			return 0;
		}
	if (snprintf(path, sizeof path, "%s/%s", srv.data, name) >=
	    (int)sizeof path)
		return NEDB_EINPUT;
	/* private, whatever the library's modes (see also main's umask);
	 * nedb_open says why when this fails */
	if (create)
		(void)mkdir(path, 0700);
	if (!(e = calloc(1, sizeof *e)))
		return NEDB_EIO;
	/* never wait on the loop: NEDB_EBUSY while another process compacts
	 * or rebuilds the view, or holds the writer lock when the view
	 * must be built */
	if ((rc = nedb_open_key(&e->db, path, NEDB_OPEN_NOWAIT |
				(create ? NEDB_OPEN_CREATE : 0),
				srv.tmk_file))) {
		free(e);
		return rc;
	}
	nedb_set_durability(e->db, srv.durability);
	strcpy(e->name, name);
	e->used = srv.turn;
	e->next = srv.dbs;
	srv.dbs = e;
	srv.ndbs++;
	*out = e;
	return 0;
}

static void release(struct dbent *e, int rc);
static void release_lockq(struct dbent *e, int rc);

/* Takes e out of the list of open databases. */
static nedb *
unlist(struct dbent *e)
{
	struct dbent **pp;
	nedb *db = e->db;

	/* those waiting for its lock look the database up again */
	release_lockq(e, 0);

	for (pp = &srv.dbs; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			srv.ndbs--;
			break;
		}
	/* Redis connections that selected it open it again on next use */
	resp_forget_db(e);
	if (e->snap)
		nedb_read_end(db);
	free(e);
	return db;
}

void
db_forget(struct dbent *e)
{
	nedb_close(unlist(e));
}

void
db_reap(void)
{
	while (srv.ndbs > srv.max_dbs) {
		struct dbent *lru = NULL;

		for (struct dbent *e = srv.dbs; e; e = e->next)
			if (!e->batch && !e->snap && !e->waiters &&
			    !e->lockq && !e->files &&
			    (!lru || e->used < lru->used))
				lru = e;
		if (!lru)
			return;		/* all busy: next turn */
		db_forget(lru);
	}
}

int
db_drop(struct dbent *e)
{
	return nedb_destroy(unlist(e));
}

/* ---- batches (group commit) ----------------------------------------------- */

int
batch_join(struct dbent *e)
{
	int rc;

	if (e->batch)
		return 0;
	if ((rc = nedb_write_trybegin(e->db)))
		return rc;
	e->batch = true;
	e->snap = false;	/* nedb_write_begin ended it */
	return 0;
}

void
batch_wait(struct dbent *e, struct waiter *w)
{
	if (w->queued)
		return;
	w->queued = true;
	w->next = e->waiters;
	e->waiters = w;
}

static void
release(struct dbent *e, int rc)
{
	struct waiter *w = e->waiters, *next;

	e->waiters = NULL;
	for (; w; w = next) {
		next = w->next;
		w->queued = false;
		w->done(w, rc);
	}
}

/* ---- the writer lock ------------------------------------------------------ */

void
lock_wait(struct dbent *e, struct waiter *w)
{
	struct waiter **pp;

	if (w->queued)
		return;
	w->queued = true;
	w->next = NULL;
	for (pp = &e->lockq; *pp; pp = &(*pp)->next)
		;
	*pp = w;		/* first come, first served */
}

void
lock_cancel(struct waiter *w)
{
	if (!w->queued)
		return;
	for (struct dbent *e = srv.dbs; e; e = e->next)
		for (struct waiter **pp = &e->lockq; *pp; pp = &(*pp)->next)
			if (*pp == w) {
				*pp = w->next;
				w->queued = false;
				return;
			}
}

static void
release_lockq(struct dbent *e, int rc)
{
	struct waiter *w = e->lockq, *next;

	e->lockq = NULL;
	for (; w; w = next) {
		next = w->next;
		w->queued = false;
		w->done(w, rc);
	}
}

void
locks_retry(void)
{
	for (struct dbent *e = srv.dbs; e; e = e->next) {
		int rc;

		if (!e->lockq)
			continue;
		rc = batch_join(e);
		if (rc == NEDB_EBUSY)
			continue;	/* still held: next time */
		release_lockq(e, rc);
	}
}

void
locks_fail(int rc)
{
	for (struct dbent *e = srv.dbs; e; e = e->next)
		release_lockq(e, rc);
}

bool
locks_waiting(void)
{
	for (struct dbent *e = srv.dbs; e; e = e->next)
		if (e->lockq)
			return true;
	return false;
}

void
batch_fail(struct dbent *e, int rc)
{
	if (e->batch)
		nedb_write_abort(e->db);
	e->batch = false;
	release(e, rc);
}

void
snap_begin(struct dbent *e)
{
	if (e->batch || e->snap)
		return;
	engine_catch_up(e);
	if (nedb_read_begin(e->db) == 0)
		e->snap = true;
}

void
snaps_end(void)
{
	for (struct dbent *e = srv.dbs; e; e = e->next)
		if (e->snap) {
			nedb_read_end(e->db);
			e->snap = false;
		}
}

int
batch_commit(struct dbent *e)
{
	int rc = 0;

	if (e->batch) {
		rc = nedb_write_commit(e->db);
		e->batch = false;
		if (rc)
			fprintf(stderr, "nedbd: %s: %s\n", e->name,
				nedb_errmsg());
	}
	if (e->waiters)
		release(e, rc);
	return rc;
}

void
commit_all(void)
{
	snaps_end();
	for (struct dbent *e = srv.dbs; e; e = e->next)
		batch_commit(e);
}

/* Begins a write on e, waiting for the writer lock until deadline. */
static int
begin_by(struct dbent *e, int64_t deadline)
{
	struct timespec ts = {0, LOCK_RETRY_MS * 1000000L};
	int rc;

	while ((rc = nedb_write_trybegin(e->db)) == NEDB_EBUSY &&
	       mono_ms() < deadline)
		nanosleep(&ts, NULL);
	return rc;
}

/*
 * Checkpoints every open database whose last op is not a checkpoint.
 * Nothing is served any more, so it may wait for a writer lock, but not
 * forever: a database whose lock another process keeps for 5 seconds
 * is left without a checkpoint (and said so).
 */
static void
checkpoint_all(void)
{
	int64_t deadline = mono_ms() + 5000;

	for (struct dbent *e = srv.dbs; e; e = e->next) {
		nedb_stats st;
		int rc;

		if (nedb_stats_get(e->db, &st) == 0 && st.has_checkpoint &&
		    st.checkpoint == st.seq)
			continue;
		if ((rc = begin_by(e, deadline)) == 0 &&
		    (rc = nedb_write_checkpoint(e->db, NULL)) == 0)
			rc = nedb_write_commit(e->db);
		if (rc) {
			nedb_write_abort(e->db);
			fprintf(stderr, "nedbd: %s: checkpoint: %s\n", e->name,
				nedb_errmsg());
		}
	}
}

bool
token_ok(const char *s, size_t len)
{
	volatile unsigned char diff = len != srv.token_len;
	size_t n = srv.token_len;

	/* as long as the token, whatever the guess: no early exit */
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(srv.token[i] ^ (i < len ? s[i] : 0));
	return diff == 0;
}

/* ---- the loop ------------------------------------------------------------- */

int
loop_add(int fd, unsigned events, void *ev)
{
	struct epoll_event e = {.events = events, .data.ptr = ev};

	return epoll_ctl(srv.epfd, EPOLL_CTL_ADD, fd, &e);
}

int
loop_mod(int fd, unsigned events, void *ev)
{
	struct epoll_event e = {.events = events, .data.ptr = ev};

	return epoll_ctl(srv.epfd, EPOLL_CTL_MOD, fd, &e);
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
main(int argc, char **argv)
{
	static int sig_ev = EV_SIGNAL;
	struct epoll_event evs[64];
	const char *host;
	unsigned port, resp_port;
	int64_t deadline = 0;
	sigset_t mask;
	struct stat st;
	int sfd;

	for (int i = 1; i < argc; i++) {
		const char *eq = !strncmp(argv[i], "--tmk-file=", 11) ?
				 argv[i] + 11 : NULL;

		if (eq || !strcmp(argv[i], "--tmk-file")) {
			if (!eq && ++i == argc)
				usage_error("option '--tmk-file' needs an "
					    "argument");
			srv.tmk_file = eq ? eq : argv[i];
			continue;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(usage, stdout);
			return 0;
		}
		if (!strcmp(argv[i], "--version")) {
			printf("nedbd %s\n", nedb_version());
			return 0;
		}
		usage_error("unknown option '%s'", argv[i]);
	}
	/* a key file that cannot be read is said now, not at the first
	 * request (whether it holds a key is the first open's to say) */
	if (srv.tmk_file && access(srv.tmk_file, R_OK))
		die(5, "cannot read key file '%s': %s", srv.tmk_file,
		    strerror(errno));
	host = env("NEDBD_HOST", "127.0.0.1");
	resolve(host);
	port = (unsigned)env_num("NEDBD_PORT", 7070, 0, 65535);
	resp_port = (unsigned)env_num("NEDBD_RESP2_PORT", 0, 0, 65535);
	srv.data = env("NEDBD_DATA", "./nedb-data");
	srv.token = env("NEDBD_TOKEN", NULL);
	srv.token_len = srv.token ? strlen(srv.token) : 0;
	srv.max_body = env_num("NEDBD_MAX_BODY", 32u << 20, 1024,
			       1ul << 31);
	srv.max_conns = (unsigned)env_num("NEDBD_MAX_CONNECTIONS", 1000, 1,
					  100000);
	srv.timeout = (unsigned)env_num("NEDBD_TIMEOUT", 10, 1, 86400);
	srv.max_dbs = (unsigned)env_num("NEDBD_MAX_DBS", 128, 1, 100000);
	srv.cors = env("NEDBD_CORS_ORIGINS", NULL);
	if ((srv.durability = nedb_durability_parse(
		     env("NEDBD_DURABILITY", "durable"))) < 0)
		die(2, "bad NEDBD_DURABILITY: '%s' (durable, safe or fast)",
		    env("NEDBD_DURABILITY", ""));
	nedb_set_warn(warn_cb);
	/* what nedbd creates is for its user alone: the token guards the
	 * wire, the modes the files */
	umask(077);
	if (mkdir(srv.data, 0700) && errno != EEXIST)
		die(5, "cannot create data directory '%s': %s", srv.data,
		    strerror(errno));
	if (stat(srv.data, &st) || !S_ISDIR(st.st_mode))
		die(5, "data directory '%s' is not a directory", srv.data);
	raise_fd_limit();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((srv.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0 ||
	    loop_add(sfd, EPOLLIN, &sig_ev))
		die(5, "cannot set up the event loop: %s", strerror(errno));
	if (http_start(port))
		die(5, "cannot listen on %s:%u (HTTP): %s", host, port,
		    strerror(errno));
	if (resp_port && resp_start(resp_port))
		die(5, "cannot listen on %s:%u (RESP2): %s", host, resp_port,
		    strerror(errno));
	fprintf(stderr, "nedbd: serving %s on http://%s:%u", srv.data, host,
		http_port());
	if (resp_port)
		fprintf(stderr, " and redis://%s:%u", host, resp_port);
	fputc('\n', stderr);

	for (;;) {
		int timeout = http_timeout(), n, t;
		int64_t now = mono_ms();

		if ((t = http_sweep(now)) >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
		if ((t = resp_sweep(now)) >= 0 && (timeout < 0 || t < timeout))
			timeout = t;
		if (locks_waiting() && (timeout < 0 || timeout > LOCK_RETRY_MS))
			timeout = LOCK_RETRY_MS;

		/* SIGTERM, SIGINT or SHUTDOWN (asked in any step of the last
		 * turn): finish what is in flight */
		if (srv.stop_asked && !srv.stopping) {
			srv.stopping = true;
			deadline = mono_ms() + 10000;
			resp_quiesce();
			http_quiesce();
		}
		if (srv.stopping) {
			int64_t left = deadline - mono_ms();

			if ((!srv.busy && resp_idle()) || left <= 0)
				break;
			if (timeout < 0 || timeout > left)
				timeout = (int)left;
			if (timeout > 50)
				timeout = 50;
		}
		n = epoll_wait(srv.epfd, evs, 64, timeout);
		if (n < 0 && errno != EINTR)
			die(5, "epoll_wait: %s", strerror(errno));
		for (int i = 0; i < n; i++) {
			int kind = *(int *)evs[i].data.ptr;

			if (kind == EV_SIGNAL) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof si) > 0)
					;
				srv.stop_asked = true;
			} else if (kind != EV_HTTP)
				resp_event(evs[i].data.ptr, evs[i].events);
		}
		/* writers that waited for a lock: run them if it is free */
		locks_retry();
		resp_retry();
		/* HTTP writes join the batches RESP opened in this turn */
		snaps_end();
		http_run();
		commit_all();
		/* answer what the commit released; commit what that wrote */
		while (http_resumed()) {
			http_run();
			commit_all();
		}
		resp_flush();
		db_reap();
		srv.turn++;
	}
	/* what still waits for a lock is answered that it is busy */
	locks_fail(NEDB_EBUSY);
	resp_retry();
	http_run();
	commit_all();
	resp_flush();
	resp_stop();
	http_stop();
	checkpoint_all();
	while (srv.dbs)
		db_forget(srv.dbs);
	fprintf(stderr, "nedbd: stopped\n");
	return 0;
}
