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
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
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

	/* its batches on their way to the disk arrive first */
	if (e->flights)
		flights_drain();
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
			    !e->lockq && !e->files && !e->flights &&
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

static void flight_leave(struct waiter *w);

void
batch_wait(struct dbent *e, struct waiter *w)
{
	/* on a flight (a parked command served, a stalled one run again):
	 * the batch commits after it, so its release covers both */
	if (w->queued && w->flight)
		flight_leave(w);
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

/* ---- flights: batches on their way to the disk ---------------------------- */

struct flight {
	struct dbent *e;
	struct waiter *waiters;
	int fd;			/* of its log: the thread syncs and closes it */
	int err;		/* errno of a failed fdatasync, or 0 */
	bool done;		/* the thread is done with it */
	struct flight *next;	/* queued after it */
};

/*
 * The queue, oldest first, shared with the committer thread under mu:
 * the loop appends at tail and takes done flights from head; the thread
 * syncs from todo on (every flight before todo has been taken by it).
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t work, synced;
	struct flight *head, *tail, *todo;
	int efd;		/* eventfd: flights are done */
	bool stop, started;
	pthread_t th;
} F = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER,
       PTHREAD_COND_INITIALIZER, .efd = -1};

/*
 * Syncs the flights first..last (taken off F.todo), one fdatasync per
 * log file for all of them (their lines were written before they were
 * queued), and marks them done.  The committer thread's, or the loop's
 * when it has nothing else to do (flights_go).
 */
static void
sync_run(struct flight *first, struct flight *last)
{
	struct flight *f, *prev = NULL;
	struct stat a, b;
	uint64_t one = 1;

	/* (first..last are the loop's only to read until done) */
	for (f = first;; prev = f, f = f->next) {
		if (prev && !fstat(prev->fd, &a) && !fstat(f->fd, &b) &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			f->err = prev->err;	/* synced with it */
		else
			f->err = fdatasync(f->fd) ? errno : 0;
		if (f == last)
			break;
	}
	for (f = first;; f = f->next) {
		close(f->fd);
		if (f == last)
			break;
	}
	pthread_mutex_lock(&F.mu);
	for (f = first;; f = f->next) {
		f->done = true;
		if (f == last)
			break;
	}
	pthread_cond_broadcast(&F.synced);
	pthread_mutex_unlock(&F.mu);
	(void)!write(F.efd, &one, sizeof one);
}

/* The committer thread: syncs the flights the loop hands it. */
static void *
committer(void *arg)
{
	pthread_mutex_lock(&F.mu);
	for (;;) {
		struct flight *first, *last;

		while (!F.todo && !F.stop)
			pthread_cond_wait(&F.work, &F.mu);
		if (!F.todo)
			break;
		first = F.todo;
		last = F.tail;
		F.todo = NULL;
		pthread_mutex_unlock(&F.mu);
		sync_run(first, last);
		pthread_mutex_lock(&F.mu);
	}
	pthread_mutex_unlock(&F.mu);
	return NULL;
}

int
flights_start(void)
{
	static int ev = EV_SYNCED;
	int rc;

	if ((F.efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 ||
	    loop_add(F.efd, EPOLLIN, &ev))
		return -1;
	if ((rc = pthread_create(&F.th, NULL, committer, NULL))) {
		errno = rc;
		return -1;
	}
	F.started = true;
	return 0;
}

static void
flights_stop(void)
{
	if (!F.started)
		return;
	pthread_mutex_lock(&F.mu);
	F.stop = true;
	pthread_cond_signal(&F.work);
	pthread_mutex_unlock(&F.mu);
	pthread_join(F.th, NULL);
	F.started = false;
}

/* Releases f's waiters: its batch is durable, or void. */
static void
flight_land(struct flight *f)
{
	struct dbent *e = f->e;
	struct waiter *w = f->waiters, *next;
	int rc = 0;

	if (f->err) {
		nedb_write_sync_failed(e->db, f->err);
		fprintf(stderr, "nedbd: %s: %s\n", e->name, nedb_errmsg());
		rc = NEDB_EIO;
	}
	e->flights--;
	if (e->last_flight == f)
		e->last_flight = NULL;
	for (; w; w = next) {
		next = w->next;
		w->queued = false;
		w->flight = NULL;
		w->done(w, rc);
	}
	free(f);
}

void
flights_reap(void)
{
	uint64_t n;

	if (F.efd >= 0)
		(void)!read(F.efd, &n, sizeof n);
	for (;;) {
		struct flight *f;

		pthread_mutex_lock(&F.mu);
		if ((f = F.head) && f->done) {
			if (!(F.head = f->next))
				F.tail = NULL;
		} else
			f = NULL;
		pthread_mutex_unlock(&F.mu);
		if (!f)
			break;
		flight_land(f);
	}
}

void
flights_drain(void)
{
	while (F.head) {
		pthread_mutex_lock(&F.mu);
		if (F.todo)
			pthread_cond_signal(&F.work);
		while (F.head && !F.tail->done)
			pthread_cond_wait(&F.synced, &F.mu);
		pthread_mutex_unlock(&F.mu);
		flights_reap();
	}
}

/* e's waiters go with its batch, just committed, to the disk: fd is its
 * log's, to sync (-1: nothing to sync but what the last flight has). */
static void
flight_take_off(struct dbent *e, int fd)
{
	struct flight *f;
	struct waiter *w;

	if (fd < 0) {
		/* (a batch that appended nothing: its reads may have seen
		 * the last flight, which is all it waits for) */
		f = e->last_flight;
	} else if (!(f = calloc(1, sizeof *f))) {
		/* no flight: the loop syncs it itself */
		int err = fdatasync(fd) ? errno : 0;

		close(fd);
		if (err) {
			nedb_write_sync_failed(e->db, err);
			fprintf(stderr, "nedbd: %s: %s\n", e->name,
				nedb_errmsg());
		}
		if (e->last_flight)
			f = e->last_flight;	/* (and after it) */
		else {
			release(e, err ? NEDB_EIO : 0);
			return;
		}
	} else {
		f->e = e;
		f->fd = fd;
		e->flights++;
		e->last_flight = f;
		pthread_mutex_lock(&F.mu);
		if (F.tail)
			F.tail->next = f;
		else
			F.head = f;
		F.tail = f;
		if (!F.todo)
			F.todo = f;	/* sent off by flights_go */
		pthread_mutex_unlock(&F.mu);
	}
	if (!f) {
		release(e, 0);
		return;
	}
	while ((w = e->waiters)) {
		e->waiters = w->next;
		w->flight = f;
		w->next = f->waiters;
		f->waiters = w;
	}
}

void
flights_go(void)
{
	struct epoll_event ev[8];
	struct flight *first, *last;

	pthread_mutex_lock(&F.mu);
	first = F.todo;
	last = F.tail;
	if (first && epoll_wait(srv.epfd, ev, 8, 0) != 0) {
		/* (level-triggered: what it saw is seen again) */
		pthread_cond_signal(&F.work);
		first = NULL;
	} else
		F.todo = NULL;
	pthread_mutex_unlock(&F.mu);
	/* (landed by the next turn, which EV_SYNCED starts at once) */
	if (first)
		sync_run(first, last);
}

void
flight_wait(struct dbent *e, struct waiter *w)
{
	struct flight *f = e->last_flight;

	if (!f || w->queued)
		return;
	w->queued = true;
	w->flight = f;
	w->next = f->waiters;
	f->waiters = w;
}

/* Takes w off the flight it waits on. */
static void
flight_leave(struct waiter *w)
{
	for (struct waiter **pp = &w->flight->waiters; *pp;
	     pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	w->queued = false;
	w->flight = NULL;
}

void
commit_all(void)
{
	snaps_end();
	for (struct dbent *e = srv.dbs; e; e = e->next) {
		int rc = 0, fd = -1;

		if (e->batch) {
			rc = nedb_write_commit_nosync(e->db, &fd);
			e->batch = false;
			if (rc)
				fprintf(stderr, "nedbd: %s: %s\n", e->name,
					nedb_errmsg());
		}
		if (rc)
			release(e, rc);
		else if (fd >= 0 || e->waiters)
			flight_take_off(e, fd);
	}
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
	if (flights_start())
		die(5, "cannot start the committer thread: %s",
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
				if (!srv.stopping) {
					srv.stopping = true;
					deadline = mono_ms() + 10000;
					resp_quiesce();
					http_quiesce();
				}
			} else if (kind == EV_SYNCED)
				flights_reap();
			else if (kind != EV_HTTP)
				resp_event(evs[i].data.ptr, evs[i].events);
		}
		/* what waited on a flight that landed runs on */
		resp_wake();
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
		/* the flush of what was written, here or by the committer */
		flights_go();
		resp_flush();
		db_reap();
		srv.turn++;
	}
	/* what still waits for a lock is answered that it is busy */
	locks_fail(NEDB_EBUSY);
	resp_retry();
	http_run();
	commit_all();
	flights_drain();
	resp_flush();
	resp_stop();
	http_stop();
	flights_drain();
	flights_stop();
	checkpoint_all();
	while (srv.dbs)
		db_forget(srv.dbs);
	fprintf(stderr, "nedbd: stopped\n");
	return 0;
}
