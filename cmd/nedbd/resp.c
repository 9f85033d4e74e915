/*
 * resp.c - nedbd's RESP2 front end.
 *
 * Requests are parsed here, as Redis's own server parses them (its
 * networking.c): arrays of bulk strings, as every client sends them, or,
 * when a request does not start with '*', an inline command (a line of
 * words, as typed into nc).  They run through lib/proto/redis.c, the table
 * nedb-redis(1) uses too.  A reply that depends on an open batch (a
 * write, or a read that saw the batch's writes) is held, and so is
 * everything after it on that connection, until the batch commits: see
 * nedbd.h.
 *
 * Limits, those of Redis 7 where it has them:
 *  - before AUTH (NEDBD_TOKEN set): a request has at most 10 arguments
 *    of at most 16 KiB each, and a connection that has not authenticated
 *    NEDBD_TIMEOUT seconds after it was accepted is closed; when every
 *    slot is taken, a new connection closes the oldest unauthenticated
 *    one, so that idle strangers cannot keep clients out;
 *  - after: at most MAX_ARGS arguments, and NEDBD_MAX_BODY bytes of
 *    arguments in one request;
 *  - an inline command, or the count line of an array or a bulk string,
 *    ends within 64 KiB.
 * Breaking one is answered "-ERR Protocol error: ..." and closes the
 * connection.  So does, without an answer, a request that is an HTTP
 * request (a browser's page posting to this port): its first line, or
 * a command named POST or Host:, as Redis does.
 *
 * Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...; lib/proto/redis.c
 * decides when one waits): a connection whose command waits is parked
 * in L.blocked, oldest first, with a copy of the command; it still reads
 * (so that a client that goes away is forgotten) but runs nothing more
 * until it is served, times out ("*-1", resp_sweep) or is unblocked by
 * CLIENT UNBLOCK.  Every put a command stages names its key (the
 * library's ready callback); a key some parked command waits for is
 * queued, once, in L.ready, and after the command (after EXEC, for a
 * transaction: Redis's order) each queued key is offered to the
 * commands parked on it in the order they blocked (serve_ready), which
 * run again on that key alone.  What they write queues keys in turn
 * (BLMOVE's destination), until no key is left.  Writes that do not come
 * through a RESP connection (HTTP, nedb-redis and the other writers of
 * the log) are seen by resp_sweep, every POLL_MS, as a new head of the
 * database: every key parked on it is then offered.
 *
 * Invariants of a connection's input buffer c->in: bytes before c->req
 * are done with; c->req <= c->pos <= c->in.len; while an array is being
 * read (c->mb_left > 0) its arguments so far are at c->arg_off[], all
 * at or after c->req, so that moving the buffer down by c->req keeps
 * them (compact).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nedbd.h"
#include "redis.h"

#define NONE ((size_t)-1)
#define READ_CHUNK 65536
#define READ_TURN (4u << 20)	/* bytes read per connection per turn */
#define MAX_INLINE (64u << 10)	/* an inline command or a count line */
#define MAX_BACKLOG (16u << 20)	/* unsent replies before reading stops */
/* unsent messages that close a subscriber: Redis's hard limit for its
 * pubsub clients (client-output-buffer-limit pubsub 32mb) */
#define PUBSUB_OUT_MAX (32u << 20)
#define MAX_ARGS (1024 * 1024)	/* arguments of one request */
#define UNAUTH_ARGS 10		/* ... before AUTH */
#define UNAUTH_BULK 16384	/* bytes of one argument before AUTH */
#define KEEP_BUF (1u << 20)	/* an empty input buffer larger is freed */
#define DEFAULT_DB "0"
#define POLL_MS 100		/* how often parked commands look at the log */

struct rconn {
	int kind;			/* EV_RESP_CONN */
	int fd;
	unsigned events;		/* registered with epoll */
	nedb_redis_conn c;
	struct dbent *dbe;		/* the selected database */
	char open_err[320];		/* why it could not be opened (a
					 * wrong key, busy), or "" */
	/* requests: see the invariants above */
	nedb_buf in;
	size_t req, pos;
	long long mb_left;		/* arguments still to come */
	long long bulk;			/* length of the next one; -1: unread */
	size_t bulk_total;		/* bytes of the arguments so far */
	size_t argc, arg_cap;
	size_t *arg_off, *arg_len;
	/* replies */
	nedb_buf out;
	size_t sent;			/* bytes of out written */
	size_t held_from;		/* start of held replies, or NONE */
	unsigned held_n;		/* number of held replies */
	size_t mark;			/* start of the request's reply */
	bool counted;			/* ... which is in held_n */
	bool exec_void;			/* EXEC's replies are void already */
	struct waiter w;		/* on a batch */
	/* MULTI ... EXEC: the commands queued (pack) */
	bool multi;
	bool multi_failed;		/* a queued command was refused */
	bool in_exec;			/* EXEC is running them */
	nedb_buf queued;
	unsigned nqueued;
	/* WATCH: the keys, each a struct watchent and its bytes */
	nedb_buf watched;
	bool watch_touched;		/* SWAPDB touched one */
	/* a command waiting for its database's writer lock (pack) */
	struct waiter lw;
	nedb_buf stalled;
	bool stall;			/* it waits: read and run nothing */
	bool retry;			/* the lock queue let it go */
	int retry_rc;
	bool verify;			/* NEDB.VERIFY ON */
	unsigned long long id;		/* CLIENT ID */
	/* a blocking command that waits (see above): argv into bcmd */
	bool blocked;
	bool resume;			/* unblocked: run what it read since */
	nedb_buf bcmd;
	const char **bargv;
	size_t *blen;
	int bargc, bkey_first, bkeys;
	int64_t bdeadline;		/* mono_ms; 0: none */
	uint64_t bseq;			/* its database's head, last looked at */
	struct rconn *bprev, *bnext;	/* parked, oldest first */
	int64_t since;			/* accepted at (mono_ms) */
	bool closing;			/* close once out is written */
	bool dead;			/* closed; freed when w is released */
	struct rconn *prev, *next;	/* every connection, oldest first */
	struct rconn *uprev, *unext;	/* those not authenticated */
	bool unauth;			/* in that list */
	/* SUBSCRIBE's channels and PSUBSCRIBE's patterns: each a uint32_t
	 * length and its bytes, in the order subscribed */
	nedb_buf chans, pats;
	unsigned nchans, npats;
};

static struct {
	int kind;			/* EV_RESP_LISTEN */
	int fd;
	unsigned nconns;
	struct rconn *conns, *last;
	struct rconn *unauth, *unauth_last;
	unsigned nretry;		/* connections with retry set */
	/* blocking commands */
	struct rconn *blocked, *blocked_last;
	unsigned nresume;		/* connections with resume set */
	struct ready { char db[65]; char *key; size_t len; } *ready;
	size_t nready, ready_cap;
	bool serving;			/* in after_command */
	int64_t polled;			/* when resp_sweep last polled */
	unsigned long long next_id;
	struct nedb_redis_stats stats;
} L = {.kind = EV_RESP_LISTEN, .fd = -1};

int
resp_start(unsigned port)
{
	struct sockaddr_in a = srv.addr;
	int one = 1;

	a.sin_port = htons((uint16_t)port);
	if ((L.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
			   SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(L.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(L.fd, (struct sockaddr *)&a, sizeof a) ||
	    listen(L.fd, 511) || loop_add(L.fd, EPOLLIN, &L))
		return -1;
	return 0;
}

/* ---- connections ---------------------------------------------------------- */

static bool
authed(const struct rconn *c)
{
	return !c->c.password || c->c.authed;
}

static void
unauth_remove(struct rconn *c)
{
	if (!c->unauth)
		return;
	if (c->uprev)
		c->uprev->unext = c->unext;
	else
		L.unauth = c->unext;
	if (c->unext)
		c->unext->uprev = c->uprev;
	else
		L.unauth_last = c->uprev;
	c->unauth = false;
}

/* A null array in c's protocol: RESP3 has one null for all */
static const char *
null_array(const struct rconn *c)
{
	return c->c.resp == 3 ? "_\r\n" : "*-1\r\n";
}

static void
conn_free(struct rconn *c)
{
	nedb_redis_conn_release(&c->c);
	nedb_buf_free(&c->chans);
	nedb_buf_free(&c->pats);
	nedb_buf_free(&c->in);
	nedb_buf_free(&c->out);
	nedb_buf_free(&c->queued);
	nedb_buf_free(&c->watched);
	nedb_buf_free(&c->stalled);
	nedb_buf_free(&c->bcmd);
	free(c->bargv);
	free(c->blen);
	free(c->arg_off);
	free(c->arg_len);
	free(c);
}

static void unblock(struct rconn *c);

static void
conn_close(struct rconn *c)
{
	if (c->dead)
		return;
	if (c->blocked)
		unblock(c);	/* forgotten, as Redis forgets it */
	if (c->resume)
		L.nresume--;
	c->resume = false;
	if (c->fd >= 0)
		close(c->fd);	/* leaves epoll too */
	c->dead = true;
	lock_cancel(&c->lw);
	if (c->retry)
		L.nretry--;
	c->retry = false;
	unauth_remove(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		L.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		L.last = c->prev;
	L.nconns--;
	L.stats.connected--;
	if (!c->w.queued)
		conn_free(c);
}

/* The batch c's held replies waited on has ended. */
static void
conn_released(struct waiter *w, int rc)
{
	struct rconn *c = (struct rconn *)((char *)w -
					   offsetof(struct rconn, w));

	if (c->dead) {
		conn_free(c);
		return;
	}
	if (rc < 0 && c->held_from != NONE) {
		const char *msg = nedb_errmsg();

		/* every held reply is void: none of it may be acknowledged */
		c->out.len = c->held_from;
		for (unsigned i = 0; i < c->held_n; i++)
			nedb_buf_printf(&c->out, "-ERR %s\r\n", msg);
		c->exec_void = c->in_exec;	/* its reply is one of them */
	}
	c->held_from = NONE;
	c->held_n = 0;
}

/* The writer lock c's stalled command waits for may be had: resp_retry. */
static void
conn_lock_ready(struct waiter *w, int rc)
{
	struct rconn *c = (struct rconn *)((char *)w -
					   offsetof(struct rconn, lw));

	if (!c->retry)
		L.nretry++;
	c->retry = true;
	c->retry_rc = rc;
}

static int
select_db(nedb_redis_conn *rc, const char *name, void *payload)
{
	struct rconn *c = payload;
	struct dbent *e;
	int err;

	if (c->held_from != NONE)
		commit_all();	/* held replies never span two databases */
	if ((err = db_get(name, true, &e)))
		return err;
	c->dbe = e;
	rc->db = e->db;
	snprintf(rc->dbname, sizeof rc->dbname, "%s", name);
	return 0;
}

static void key_ready(nedb_redis_conn *rc, const char *key, size_t len);
static int swap_dbs(nedb_redis_conn *rc, const char *a, const char *b,
		    char *err, size_t errlen);

/* A connection on fd (-1: none, for the fuzzer), last in the list. */
static struct rconn *
conn_new(int fd)
{
	struct rconn *c = calloc(1, sizeof *c);

	if (!c)
		return NULL;
	c->kind = EV_RESP_CONN;
	c->fd = fd;
	c->events = EPOLLIN;
	c->held_from = NONE;
	c->bulk = -1;
	c->w.done = conn_released;
	c->lw.done = conn_lock_ready;
	c->c.password = srv.token;
	c->c.password_len = srv.token_len;
	c->c.select = select_db;
	c->c.payload = c;
	c->c.ready = key_ready;
	c->c.swapdb = swap_dbs;
	c->c.stats = &L.stats;
	c->c.id = c->id = ++L.next_id;
	c->since = mono_ms();
	c->prev = L.last;
	if (L.last)
		L.last->next = c;
	else
		L.conns = c;
	L.last = c;
	L.nconns++;
	L.stats.connected++;
	if (c->c.password) {
		c->unauth = true;
		c->uprev = L.unauth_last;
		if (L.unauth_last)
			L.unauth_last->unext = c;
		else
			L.unauth = c;
		L.unauth_last = c;
	}
	return c;
}

static void
accept_all(void)
{
	for (;;) {
		int one = 1, fd = accept4(L.fd, NULL, NULL,
					  SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct rconn *c;

		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;	/* EAGAIN, or out of descriptors for now */
		}
		if (L.nconns >= srv.max_conns && L.unauth)
			conn_close(L.unauth);	/* the oldest stranger */
		if (L.nconns >= srv.max_conns) {
			static const char full[] =
				"-ERR max number of clients reached\r\n";

			/* best effort: the client is turned away anyway */
			(void)!write(fd, full, sizeof full - 1);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (!(c = conn_new(fd)))
			close(fd);
		else if (loop_add(fd, EPOLLIN, c))
			conn_close(c);
	}
}

static int block_sweep(int64_t now);

int
resp_sweep(int64_t now)
{
	int64_t limit = (int64_t)srv.timeout * 1000;
	int t = L.blocked || L.nresume ? block_sweep(now) : -1;

	/* oldest first: the first one not due says when the next is */
	while (L.unauth && now - L.unauth->since >= limit)
		conn_close(L.unauth);
	if (!L.unauth)
		return t;
	if (t >= 0 && t < L.unauth->since + limit - now)
		return t;
	return (int)(L.unauth->since + limit - now);
}

/* ---- running commands ----------------------------------------------------- */

static void
protocol_error(struct rconn *c, const char *fmt, const char *what)
{
	size_t at;

	nedb_buf_puts(&c->out, "-ERR Protocol error: ");
	at = c->out.len;
	nedb_buf_printf(&c->out, fmt, what);
	/* a CR or LF of the request's (the byte where '$' was expected)
	 * would end the line early: a space, as Redis writes it */
	for (size_t i = at; i < c->out.len; i++)
		if (c->out.p[i] == '\r' || c->out.p[i] == '\n')
			c->out.p[i] = ' ';
	nedb_buf_puts(&c->out, "\r\n");
	c->closing = true;
}

/*
 * An HTTP request on this port: a web page's form or fetch aimed at it
 * (cross-protocol scripting).  Closed without an answer, as Redis does;
 * said on stderr at most once a second.
 */
static void
http_attack(struct rconn *c)
{
	static int64_t said;
	int64_t now = mono_ms();

	if (!said || now - said >= 1000) {
		fprintf(stderr, "nedbd: possible SECURITY ATTACK detected: an "
			"HTTP request on the Redis port; connection closed\n");
		said = now;
	}
	c->closing = true;
}

static bool
is_cmd(const char *arg, size_t len, const char *name)
{
	return len == strlen(name) && !strncasecmp(arg, name, len);
}

/* Appends a command to b: argc, then argc (length, bytes, NUL). */
static void
pack(nedb_buf *b, int argc, const char *const *argv, const size_t *len)
{
	uint64_t n = (uint64_t)argc;

	nedb_buf_add(b, &n, sizeof n);
	for (int i = 0; i < argc; i++) {
		n = len[i];
		nedb_buf_add(b, &n, sizeof n);
		nedb_buf_add(b, argv[i], len[i]);
		nedb_buf_add(b, "", 1);		/* argv ends in NUL */
	}
}

/*
 * The command packed at *off in b, as argv and len (caller frees both;
 * they point into b); *off moves past it.  -1 when memory ran out.
 */
static int
unpack(const nedb_buf *b, size_t *off, const char ***argv, size_t **len)
{
	uint64_t argc;

	memcpy(&argc, b->p + *off, sizeof argc);
	*off += sizeof argc;
	*argv = malloc((argc ? argc : 1) * sizeof **argv);
	*len = malloc((argc ? argc : 1) * sizeof **len);
	if (!*argv || !*len) {
		free(*argv);
		free(*len);
		return -1;
	}
	for (uint64_t i = 0; i < argc; i++) {
		uint64_t n;

		memcpy(&n, b->p + *off, sizeof n);
		*off += sizeof n;
		(*argv)[i] = b->p + *off;
		(*len)[i] = n;
		*off += n + 1;
	}
	return (int)argc;
}

/*
 * The command waits for e's writer lock, which another process holds:
 * it is kept, and the connection reads and runs nothing more until
 * resp_retry runs it again.
 */
static void
stall(struct rconn *c, struct dbent *e, int argc, const char *const *argv,
      const size_t *len)
{
	c->stalled.len = 0;
	pack(&c->stalled, argc, argv, len);
	c->stall = true;
	lock_wait(e, &c->lw);
}

/* The database c's commands run on (NULL before AUTH). */
static struct dbent *
conn_db(struct rconn *c)
{
	if (authed(c) && !c->dbe) {
		/* database 0 until SELECT, as in Redis; or the one dropped */
		if (!c->c.dbname[0])
			strcpy(c->c.dbname, DEFAULT_DB);
		if (db_get(c->c.dbname, true, &c->dbe) == 0) {
			c->c.db = c->dbe->db;
			c->open_err[0] = 0;
		} else
			snprintf(c->open_err, sizeof c->open_err, "%s",
				 nedb_errmsg());
	}
	return authed(c) ? c->dbe : NULL;
}

/* ---- blocking commands (see the top of the file) -------------------------- */

/* The command argv waits, parked: a copy is kept in c->bcmd. */
static void
block(struct rconn *c, int argc, const char *const *argv, const size_t *len)
{
	size_t off = 0;

	c->bcmd.len = 0;
	pack(&c->bcmd, argc, argv, len);
	if ((c->bargc = unpack(&c->bcmd, &off, &c->bargv, &c->blen)) < 0) {
		protocol_error(c, "%s", "out of memory");
		return;
	}
	c->bkey_first = c->c.block_first;
	c->bkeys = c->c.block_keys;
	c->bdeadline = 0;
	if (c->c.block_ms) {
		int64_t now = mono_ms();

		c->bdeadline = c->c.block_ms > INT64_MAX - now ? INT64_MAX :
			       now + c->c.block_ms;
	}
	c->bseq = 0;
	if (c->c.db)
		(void)nedb_head(c->c.db, &c->bseq, NULL);
	c->blocked = true;
	c->bnext = NULL;
	c->bprev = L.blocked_last;
	if (L.blocked_last)
		L.blocked_last->bnext = c;
	else
		L.blocked = c;
	L.blocked_last = c;
	L.stats.blocked++;
}

/* c's parked command is done with (served, timed out, unblocked or
 * closed): what c read meanwhile runs next (after_command). */
static void
unblock(struct rconn *c)
{
	if (!c->blocked)
		return;
	if (c->bprev)
		c->bprev->bnext = c->bnext;
	else
		L.blocked = c->bnext;
	if (c->bnext)
		c->bnext->bprev = c->bprev;
	else
		L.blocked_last = c->bprev;
	c->blocked = false;
	free(c->bargv);
	free(c->blen);
	c->bargv = NULL;
	c->blen = NULL;
	L.stats.blocked--;
	if (!c->resume && !c->dead) {
		c->resume = true;
		L.nresume++;
	}
}

/* Whether c's parked command waits for key in database db. */
static bool
waits_on(const struct rconn *c, const char *db, const char *key, size_t len)
{
	if (strcmp(c->c.dbname, db))
		return false;
	for (int j = c->bkey_first; j < c->bkey_first + c->bkeys &&
	     j < c->bargc; j++)
		if (c->blen[j] == len && !memcmp(c->bargv[j], key, len))
			return true;
	return false;
}

/* Queues key of database db, unless it is queued already or nothing
 * waits for it. */
static void
queue_ready(const char *db, const char *key, size_t len)
{
	struct rconn *b;

	for (b = L.blocked; b && !waits_on(b, db, key, len); b = b->bnext)
		;
	if (!b)
		return;
	for (size_t i = 0; i < L.nready; i++)
		if (L.ready[i].len == len && !memcmp(L.ready[i].key, key, len) &&
		    !strcmp(L.ready[i].db, db))
			return;
	if (L.nready == L.ready_cap) {
		size_t cap = L.ready_cap ? L.ready_cap * 2 : 8;
		struct ready *r = realloc(L.ready, cap * sizeof *r);

		if (!r)
			return;	/* it waits on: for POLL_MS */
		L.ready = r;
		L.ready_cap = cap;
	}
	if (!(L.ready[L.nready].key = malloc(len + 1)))
		return;
	memcpy(L.ready[L.nready].key, key, len + 1);
	L.ready[L.nready].len = len;
	snprintf(L.ready[L.nready].db, sizeof L.ready[L.nready].db, "%s", db);
	L.nready++;
}

/* The library's ready callback: a command of rc's staged a put of key. */
static void
key_ready(nedb_redis_conn *rc, const char *key, size_t len)
{
	if (L.blocked)
		queue_ready(rc->dbname, key, len);
}

static void run(struct rconn *c, int argc, const char *const *argv,
		const size_t *len);

/*
 * The database c's parked command waits on, opened again if it was
 * closed meanwhile; NULL when it is gone (dropped: a parked command
 * does not create it anew, as a command would).
 */
static struct dbent *
blocked_db(struct rconn *c)
{
	struct dbent *e;

	if (!c->dbe && db_get(c->c.dbname, false, &e) == 0) {
		c->dbe = e;
		c->c.db = e->db;
	}
	return c->dbe;
}

/* Runs c's parked command again on key alone: served, or parked still. */
static void
serve(struct rconn *c, const char *key, size_t len)
{
	struct dbent *e = blocked_db(c);

	/* a writer of another process holds the lock: the next poll
	 * offers the keys again */
	if (!e || batch_join(e)) {
		c->bseq = 0;
		return;
	}
	c->c.serve_key = key;
	c->c.serve_keylen = len;
	c->mark = c->out.len;
	c->counted = false;
	run(c, c->bargc, c->bargv, c->blen);
	c->c.serve_key = NULL;
	if (c->held_from != NONE && !c->counted && c->out.len > c->mark)
		c->held_n++;
}

/* Offers every queued key to the commands parked on it, oldest first. */
static void
serve_ready(void)
{
	while (L.nready) {
		struct ready r = L.ready[0];

		memmove(L.ready, L.ready + 1, --L.nready * sizeof *L.ready);
		for (struct rconn *b = L.blocked, *next; b; b = next) {
			next = b->bnext;
			/* (serving b parks nobody and unblocks only b) */
			if (waits_on(b, r.db, r.key, r.len))
				serve(b, r.key, r.len);
		}
		free(r.key);
	}
}

/* A reply to c's parked command that ends it (a timeout, CLIENT UNBLOCK). */
static void
reply_unblocked(struct rconn *c, const char *line)
{
	c->mark = c->out.len;
	nedb_buf_puts(&c->out, line);
	if (c->held_from != NONE)
		c->held_n++;
	unblock(c);
}

static void run_requests(struct rconn *c);

/*
 * After a command (or EXEC) that may have made keys ready, as Redis's
 * handleClientsBlockedOnKeys: serves what waits on them, then runs what
 * the connections served had read meanwhile; their writes may make more
 * keys ready.  Not reentered: what it runs queues keys for its own loop.
 */
static void
after_command(void)
{
	if (L.serving || (!L.nready && !L.nresume))
		return;
	L.serving = true;
	while (L.nready || L.nresume) {
		serve_ready();
		for (struct rconn *c = L.conns; c && L.nresume && !L.nready;
		     c = c->next)
			if (c->resume) {
				c->resume = false;
				L.nresume--;
				run_requests(c);
			}
	}
	L.serving = false;
}

/*
 * Parked commands whose time is up answer "*-1"; every POLL_MS, those
 * whose database has a new head (a write that did not come through a
 * RESP connection, which queues its keys itself) are offered every key
 * they wait for.  ms until the next is due, or -1.
 */
static int
block_sweep(int64_t now)
{
	int64_t next = -1;
	bool poll = now - L.polled >= POLL_MS;
	unsigned blocked = L.stats.blocked, resume = L.nresume;

	if (poll)
		L.polled = now;
	for (struct rconn *b = L.blocked, *nb; b; b = nb) {
		nb = b->bnext;
		if (b->bdeadline && now >= b->bdeadline) {
			reply_unblocked(b, null_array(b));
			continue;
		}
		if (b->bdeadline && (next < 0 || b->bdeadline - now < next))
			next = b->bdeadline - now;
		if (poll && blocked_db(b)) {
			uint64_t head = b->bseq;

			snap_begin(b->dbe);
			if (nedb_head(b->dbe->db, &head, NULL) == 0 &&
			    head != b->bseq) {
				b->bseq = head;
				for (int j = b->bkey_first; j < b->bkey_first +
				     b->bkeys && j < b->bargc; j++)
					queue_ready(b->c.dbname, b->bargv[j],
						    b->blen[j]);
			}
		}
	}
	if (L.blocked && (next < 0 || next > POLL_MS))
		next = POLL_MS;
	after_command();
	/* replies were written: the turn goes on at once to send them */
	if (resume || L.stats.blocked != blocked)
		return 0;
	return (int)next;
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR] */
static void
client_unblock(struct rconn *c, int argc, const char *const *argv,
	       const size_t *len)
{
	long long id;
	int reason;
	struct rconn *t;

	if (nedb_redis_client_unblock(argc, argv, len, &c->out, &id, &reason))
		return;
	for (t = L.blocked; t && t->id != (unsigned long long)id;
	     t = t->bnext)
		;
	if (!t) {
		nedb_buf_puts(&c->out, ":0\r\n");
		return;
	}
	reply_unblocked(t, reason ? "-UNBLOCKED client unblocked via CLIENT "
			"UNBLOCK\r\n" : null_array(t));
	nedb_buf_puts(&c->out, ":1\r\n");
}

/* CLIENT LIST [ID id ...]: a line per connection, in Redis's words (the
 * fields nedbd has); CLIENT INFO (info): this connection's. */
static void
client_list(struct rconn *c, int argc, const char *const *argv,
	    const size_t *len, bool info)
{
	nedb_buf b = {0};
	int64_t now = mono_ms();

	if (info && argc != 2) {
		nedb_buf_puts(&c->out, "-ERR wrong number of arguments for "
			      "'client|info' command\r\n");
		return;
	}
	if (argc > 2 && (!is_cmd(argv[2], len[2], "id") || argc < 4)) {
		nedb_buf_puts(&c->out, "-ERR syntax error\r\n");
		return;
	}
	for (int j = 3; j < argc; j++) {
		char *end;

		errno = 0;
		if (!len[j] || strtoull(argv[j], &end, 10) == 0 || *end ||
		    errno || argv[j][0] == '-') {
			nedb_buf_puts(&c->out, "-ERR Invalid client ID\r\n");
			return;
		}
	}
	for (struct rconn *t = L.conns; t; t = t->next) {
		char cmd[32] = "NULL";
		struct sockaddr_in a, la;
		socklen_t al = sizeof a, lal = sizeof la;
		char ip[INET_ADDRSTRLEN] = "", lip[INET_ADDRSTRLEN] = "";
		bool want = info ? t == c : argc < 4;

		for (int j = 3; j < argc && !want; j++)
			want = strtoull(argv[j], NULL, 10) == t->id;
		if (!want)
			continue;
		if (t == c)
			strcpy(cmd, info ? "client|info" : "client|list");
		else if (t->blocked) {
			/* Redis names the command in lower case */
			size_t i;

			for (i = 0; i < t->blen[0] && i + 1 < sizeof cmd; i++)
				cmd[i] = (char)tolower((unsigned char)
						       t->bargv[0][i]);
			cmd[i] = 0;
		}
		memset(&a, 0, sizeof a);
		memset(&la, 0, sizeof la);
		if (t->fd >= 0 && !getpeername(t->fd, (struct sockaddr *)&a,
					       &al))
			inet_ntop(AF_INET, &a.sin_addr, ip, sizeof ip);
		if (t->fd >= 0 && !getsockname(t->fd, (struct sockaddr *)&la,
					       &lal))
			inet_ntop(AF_INET, &la.sin_addr, lip, sizeof lip);
		/* Redis 7.0's fields, in its order (clients such as
		 * redis-py read the numeric ones as numbers) */
		nedb_buf_printf(&b, "id=%llu addr=%s:%u laddr=%s:%u fd=%d "
				"name=%s age=%lld idle=0 flags=%s db=%s sub=0 "
				"psub=0 ssub=0 multi=%d qbuf=%zu qbuf-free=%zu "
				"argv-mem=0 multi-mem=%zu rbs=%zu rbp=0 obl=0 "
				"oll=0 omem=%zu tot-mem=%zu events=r cmd=%s "
				"user=default redir=-1 resp=%d\n", t->id, ip,
				ntohs(a.sin_port), lip, ntohs(la.sin_port),
				t->fd, t->c.name ? t->c.name : "",
				(long long)(now - t->since) / 1000,
				t->blocked ? "b" : t->multi ? "x" : "N",
				t->c.dbname[0] ? t->c.dbname : DEFAULT_DB,
				t->multi ? (int)t->nqueued : -1,
				t->in.len - t->pos, t->in.cap - t->in.len,
				t->queued.len, t->in.cap,
				t->out.len - t->sent,
				t->in.cap + t->out.cap + t->queued.cap, cmd,
				t->c.resp == 3 ? 3 : 2);
	}
	/* text for a person: RESP3's verbatim string */
	if (c->c.resp == 3)
		nedb_buf_printf(&c->out, "=%zu\r\ntxt:", b.len + 4);
	else
		nedb_buf_printf(&c->out, "$%zu\r\n", b.len);
	nedb_buf_add(&c->out, b.p ? b.p : "", b.len);
	nedb_buf_puts(&c->out, "\r\n");
	nedb_buf_free(&b);
}

/* ---- publish and subscribe ------------------------------------------------ */

/*
 * As Redis: PUBLISH hands a message to every connection subscribed to
 * its channel, then to every connection with a pattern that matches it
 * (one message a match), appended to their replies in this turn;
 * nothing is kept for those that subscribe later, and nothing goes
 * through a database.  A connection with subscriptions speaking RESP2
 * may run only the subscription commands, PING and QUIT; under RESP3
 * the messages are push replies (">") and it may run anything.  A
 * message to a connection whose replies are held (a write of its own
 * waiting for its batch's commit) waits behind them, and is voided with
 * them if the commit fails.
 */

static unsigned
subs_of(const struct rconn *c)
{
	return c->nchans + c->npats;
}

/* The offset of name in the entries of b, or NONE. */
static size_t
sub_find(const nedb_buf *b, const char *p, size_t n)
{
	for (size_t off = 0; off < b->len;) {
		uint32_t len;

		memcpy(&len, b->p + off, sizeof len);
		if (len == n && !memcmp(b->p + off + sizeof len, p, n))
			return off;
		off += sizeof len + len;
	}
	return NONE;
}

static void
sub_del(nedb_buf *b, size_t off)
{
	uint32_t len;
	size_t end;

	memcpy(&len, b->p + off, sizeof len);
	end = off + sizeof len + len;
	memmove(b->p + off, b->p + end, b->len - end);
	b->len -= end - off;
}

static void
out_bulk(nedb_buf *o, const char *p, size_t n)
{
	nedb_buf_printf(o, "$%zu\r\n", n);
	nedb_buf_add(o, p, n);
	nedb_buf_puts(o, "\r\n");
}

/* A reply of the subscription kind: [kind, name (NULL: null), count] */
static void
sub_reply(struct rconn *c, const char *kind, const char *p, size_t n)
{
	nedb_buf_printf(&c->out, "%c3\r\n", c->c.resp == 3 ? '>' : '*');
	out_bulk(&c->out, kind, strlen(kind));
	if (p)
		out_bulk(&c->out, p, n);
	else
		nedb_buf_puts(&c->out, c->c.resp == 3 ? "_\r\n" : "$-1\r\n");
	nedb_buf_printf(&c->out, ":%u\r\n", subs_of(c));
}

static void
subscribe(struct rconn *c, int argc, const char *const *argv,
	  const size_t *len, bool pattern)
{
	nedb_buf *b = pattern ? &c->pats : &c->chans;

	for (int j = 1; j < argc; j++) {
		uint32_t n = (uint32_t)len[j];

		if (sub_find(b, argv[j], len[j]) == NONE &&
		    nedb_buf_add(b, &n, sizeof n) == 0 &&
		    nedb_buf_add(b, argv[j], len[j]) == 0)
			++*(pattern ? &c->npats : &c->nchans);
		sub_reply(c, pattern ? "psubscribe" : "subscribe", argv[j],
			  len[j]);
	}
}

/* UNSUBSCRIBE, PUNSUBSCRIBE [name...]: the names, or every one held */
static void
unsubscribe(struct rconn *c, int argc, const char *const *argv,
	    const size_t *len, bool pattern)
{
	const char *kind = pattern ? "punsubscribe" : "unsubscribe";
	nedb_buf *b = pattern ? &c->pats : &c->chans;
	unsigned *count = pattern ? &c->npats : &c->nchans;

	if (argc == 1 && !b->len)
		sub_reply(c, kind, NULL, 0);
	while (argc == 1 && b->len) {
		uint32_t n;
		char *name;

		memcpy(&n, b->p, sizeof n);
		if (!(name = malloc(n ? n : 1)))
			return;
		memcpy(name, b->p + sizeof n, n);
		sub_del(b, 0);
		--*count;
		sub_reply(c, kind, name, n);
		free(name);
	}
	for (int j = 1; j < argc; j++) {
		size_t off = sub_find(b, argv[j], len[j]);

		if (off != NONE) {
			sub_del(b, off);
			--*count;
		}
		sub_reply(c, kind, argv[j], len[j]);
	}
}

/*
 * A message for t: it waits behind t's held replies, as one of them.  A
 * subscriber that does not read is not given more than PUBSUB_OUT_MAX
 * bytes to hold: it is closed (what was not sent is dropped), as Redis
 * closes it.
 */
static void
deliver(struct rconn *t, const char *pat, size_t patlen, const char *ch,
	size_t chlen, const char *msg, size_t msglen)
{
	if (t->closing)
		return;
	if (t->out.len - t->sent + msglen > PUBSUB_OUT_MAX) {
		t->out.len = t->sent;
		t->held_from = NONE;
		t->held_n = 0;
		t->closing = true;
		return;
	}
	nedb_buf_printf(&t->out, "%c%d\r\n", t->c.resp == 3 ? '>' : '*',
			pat ? 4 : 3);
	if (pat) {
		out_bulk(&t->out, "pmessage", 8);
		out_bulk(&t->out, pat, patlen);
	} else
		out_bulk(&t->out, "message", 7);
	out_bulk(&t->out, ch, chlen);
	out_bulk(&t->out, msg, msglen);
	if (t->held_from != NONE)
		t->held_n++;
}

/* PUBLISH channel message: the number of messages handed out */
static void
publish(struct rconn *c, const char *ch, size_t chlen, const char *msg,
	size_t msglen)
{
	long long n = 0;

	for (struct rconn *t = L.conns; t; t = t->next)
		if (t->nchans && sub_find(&t->chans, ch, chlen) != NONE) {
			deliver(t, NULL, 0, ch, chlen, msg, msglen);
			n++;
		}
	for (struct rconn *t = L.conns; t; t = t->next)
		for (size_t off = 0; t->npats && off < t->pats.len;) {
			uint32_t len;
			const char *pat = t->pats.p + off + sizeof len;

			memcpy(&len, t->pats.p + off, sizeof len);
			off += sizeof len + len;
			if (nedb_redis_match(pat, len, ch, chlen)) {
				deliver(t, pat, len, ch, chlen, msg, msglen);
				n++;
			}
		}
	nedb_buf_printf(&c->out, ":%lld\r\n", n);
}

/* PUBSUB CHANNELS [pattern] | NUMSUB [channel...] | NUMPAT */
static bool
pubsub_command(struct rconn *c, int argc, const char *const *argv,
	       const size_t *len)
{
	if (is_cmd(argv[1], len[1], "channels") && argc <= 3) {
		nedb_buf seen = {0}, r = {0};
		unsigned n = 0;

		for (struct rconn *t = L.conns; t; t = t->next)
			for (size_t off = 0; off < t->chans.len;) {
				uint32_t l;
				const char *ch = t->chans.p + off + sizeof l;

				memcpy(&l, t->chans.p + off, sizeof l);
				off += sizeof l + l;
				if (sub_find(&seen, ch, l) != NONE ||
				    (argc == 3 && !nedb_redis_match(argv[2],
						len[2], ch, l)))
					continue;
				nedb_buf_add(&seen, &l, sizeof l);
				nedb_buf_add(&seen, ch, l);
				out_bulk(&r, ch, l);
				n++;
			}
		nedb_buf_printf(&c->out, "*%u\r\n", n);
		nedb_buf_add(&c->out, r.p ? r.p : "", r.len);
		nedb_buf_free(&seen);
		nedb_buf_free(&r);
		return true;
	}
	if (is_cmd(argv[1], len[1], "numsub")) {
		nedb_buf_printf(&c->out, "*%d\r\n", 2 * (argc - 2));
		for (int j = 2; j < argc; j++) {
			unsigned n = 0;

			for (struct rconn *t = L.conns; t; t = t->next)
				n += t->nchans &&
				     sub_find(&t->chans, argv[j], len[j]) !=
				     NONE;
			out_bulk(&c->out, argv[j], len[j]);
			nedb_buf_printf(&c->out, ":%u\r\n", n);
		}
		return true;
	}
	if (is_cmd(argv[1], len[1], "numpat") && argc == 2) {
		unsigned n = 0;

		for (struct rconn *t = L.conns; t; t = t->next)
			n += t->npats;
		nedb_buf_printf(&c->out, ":%u\r\n", n);
		return true;
	}
	return false;	/* an error: the table's answer */
}

/*
 * The subscription commands, PUBLISH, PUBSUB, and PING while
 * subscribed under RESP2 (["pong", message]): true when answered here;
 * false leaves the command to the table (its errors, and the rest).
 */
static bool
pubsub(struct rconn *c, int argc, const char *const *argv, const size_t *len)
{
	if (!authed(c) || !nedb_redis_arity_ok(argv[0], len[0], argc))
		return false;
	if (is_cmd(argv[0], len[0], "subscribe") ||
	    is_cmd(argv[0], len[0], "psubscribe"))
		subscribe(c, argc, argv, len, len[0] == 10);
	else if (is_cmd(argv[0], len[0], "unsubscribe") ||
		 is_cmd(argv[0], len[0], "punsubscribe"))
		unsubscribe(c, argc, argv, len, len[0] == 12);
	else if (is_cmd(argv[0], len[0], "publish"))
		publish(c, argv[1], len[1], argv[2], len[2]);
	else if (is_cmd(argv[0], len[0], "pubsub"))
		return pubsub_command(c, argc, argv, len);
	else if (is_cmd(argv[0], len[0], "ping") && subs_of(c) &&
		 c->c.resp != 3 && argc <= 2) {
		nedb_buf_puts(&c->out, "*2\r\n$4\r\npong\r\n");
		out_bulk(&c->out, argc == 2 ? argv[1] : "",
			 argc == 2 ? len[1] : 0);
	} else
		return false;
	return true;
}

/* Whether a RESP2 connection with subscriptions may not run the command
 * (answered as Redis answers it) */
static bool
subscribed_refuses(struct rconn *c, int argc, const char *const *argv,
		   const size_t *len)
{
	static const char *const ok[] = {"subscribe", "unsubscribe",
		"psubscribe", "punsubscribe", "ssubscribe", "sunsubscribe",
		"ping", "quit", "reset"};
	char name[32];
	size_t i;

	/* nedbd's own transaction commands, with their arity */
	static const struct {
		const char *name;
		int arity;
	} tx[] = {{"multi", 1}, {"exec", 1}, {"discard", 1}, {"watch", -2},
		  {"unwatch", 1}};
	bool known = false;

	if (!subs_of(c) || c->c.resp == 3)
		return false;
	for (i = 0; i < sizeof tx / sizeof *tx && !known; i++)
		known = is_cmd(argv[0], len[0], tx[i].name) &&
			(tx[i].arity > 0 ? argc == tx[i].arity :
			 argc >= -tx[i].arity);
	if (!known && (!nedb_redis_flags(argv[0], len[0]) ||
		       !nedb_redis_arity_ok(argv[0], len[0], argc)))
		return false;
	for (i = 0; i < sizeof ok / sizeof *ok; i++)
		if (is_cmd(argv[0], len[0], ok[i]))
			return false;
	for (i = 0; i < len[0] && i + 1 < sizeof name; i++)
		name[i] = (char)tolower((unsigned char)argv[0][i]);
	name[i] = 0;
	nedb_buf_printf(&c->out, "-ERR Can't execute '%s': only (P|S)SUBSCRIBE "
			"/ (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed "
			"in this context\r\n", name);
	return true;
}

/*
 * COPY src dst [REPLACE] DB n and MOVE key n where n names another
 * database than the connection's (SELECT's name for it): true when
 * answered here.  What the table must refuse (arity, keys, a bad index,
 * the same database, options) is left to it, and so are transactions
 * (a command of EXEC's cannot commit on its own).  The copy is committed
 * before the command answers; a MOVE then deletes the key here and
 * commits that too, so that a failure in between leaves the key in both
 * databases, never in neither (Redis moves it atomically; two databases
 * here are two logs).
 */
static bool
other_db_command(struct rconn *c, int argc, const char *const *argv,
		 const size_t *len)
{
	bool move = is_cmd(argv[0], len[0], "move"), replace = false;
	const char *coll, *id, *del[2] = {"DEL", NULL};
	size_t dlen[2] = {3, 0};
	nedb_buf scratch = {0};
	struct dbent *to, *e;
	char name[12] = "";
	bool wrote;
	size_t at;
	int r, rc;

	if ((!move && !is_cmd(argv[0], len[0], "copy")) || !authed(c) ||
	    c->multi || c->in_exec || argc < 3 || (move && argc != 3))
		return false;
	del[1] = argv[1];
	dlen[1] = len[1];
	for (int j = move ? 2 : 3; j < argc; j++) {
		int v = move ? j : j + 1;	/* the index's argument */
		int db;

		if (!move && is_cmd(argv[j], len[j], "replace")) {
			replace = true;
			continue;
		}
		if ((!move && !is_cmd(argv[j], len[j], "db")) || v >= argc ||
		    (db = nedb_redis_db_index(argv[v], len[v])) < 0)
			return false;	/* the table's errors */
		snprintf(name, sizeof name, "%d", db);
		j = v;
	}
	if (!name[0] || !conn_db(c) || !strcmp(name, c->c.dbname) ||
	    nedb_redis_where(&c->c, argv[1], len[1], &coll, &id) ||
	    (!move && nedb_redis_where(&c->c, argv[2], len[2], &coll, &id)))
		return false;
	commit_all();		/* what came before is answered first */
	if ((rc = db_get(name, true, &to))) {
		nedb_buf_printf(&c->out, "-ERR %s\r\n", nedb_errmsg());
		return true;
	}
	if ((rc = batch_join(to))) {
		if (rc == NEDB_EBUSY)
			stall(c, to, argc, argv, len);
		else
			nedb_buf_printf(&c->out, "-ERR %s\r\n", nedb_errmsg());
		return true;
	}
	{
		nedb_redis_conn tc = c->c;	/* the same, on the other */

		tc.db = to->db;
		snprintf(tc.dbname, sizeof tc.dbname, "%s", name);
		at = c->out.len;
		r = nedb_redis_copy_from(&tc, c->dbe->db, argv[1],
					 move ? argv[1] : argv[2], replace,
					 &c->out);
	}
	if (r < 0) {
		batch_fail(to, r);
		return true;
	}
	if (r > 0 && (rc = batch_commit(to))) {
		c->out.len = at;
		nedb_buf_printf(&c->out, "-ERR %s\r\n", nedb_errmsg());
		return true;
	}
	if (r > 0)
		queue_ready(name, move ? argv[1] : argv[2],
			    move ? len[1] : len[2]);
	if (!move || r == 0)
		return true;
	/* the copy is durable: now the key leaves this database */
	c->out.len = at;
	e = c->dbe;
	if ((rc = batch_join(e)) ||
	    (rc = nedb_redis_exec(&c->c, 2, del, dlen, &scratch, &wrote)) < 0 ||
	    (rc = batch_commit(e))) {
		if (rc < 0 && e->batch)
			batch_fail(e, rc);
		nedb_buf_printf(&c->out, "-ERR MOVE copied '%s' to database "
				"'%s' but could not delete it here: %s\r\n",
				argv[1], name, nedb_errmsg());
	} else
		nedb_buf_puts(&c->out, ":1\r\n");
	nedb_buf_free(&scratch);
	return true;
}

/*
 * Runs a command.  Its reply is held when it ran in its database's batch
 * (from c->mark, the start of the request's reply: a whole EXEC array
 * is held, or voided, as one); dispatch counts it.
 */
static void
run(struct rconn *c, int argc, const char *const *argv, const size_t *len)
{
	unsigned flags = nedb_redis_flags(argv[0], len[0]);
	bool reads = flags == (NEDB_REDIS_READ | NEDB_REDIS_KNOWN);
	struct dbent *e;
	bool wrote;
	size_t at;
	int rc;

	if (pubsub(c, argc, argv, len))
		return;
	if (other_db_command(c, argc, argv, len))
		return;
	/* SHUTDOWN: the loop stops as on SIGTERM (main.c), and no reply:
	 * the connection closes, as Redis's does */
	if (is_cmd(argv[0], len[0], "shutdown") && authed(c) && !c->in_exec) {
		if (nedb_redis_shutdown_args(argc, argv, len, &c->out) == 0) {
			c->closing = true;
			srv.stop_asked = true;
		}
		return;
	}
	/* CLIENT's subcommands that see the other connections */
	if (argc >= 2 && authed(c) && is_cmd(argv[0], len[0], "client")) {
		if (is_cmd(argv[1], len[1], "unblock")) {
			client_unblock(c, argc, argv, len);
			return;
		}
		if (is_cmd(argv[1], len[1], "list") ||
		    is_cmd(argv[1], len[1], "info")) {
			client_list(c, argc, argv, len,
				    is_cmd(argv[1], len[1], "info"));
			return;
		}
	}

	if (flags & (NEDB_REDIS_READ | NEDB_REDIS_WRITE))
		conn_db(c);
	/* the database whose batch this reply may depend on: SELECT
	 * commits it, so that held replies never span two */
	e = authed(c) ? c->dbe : NULL;
	if (e && reads)
		snap_begin(e);	/* one snapshot for this turn's reads */
	if (e && (flags & NEDB_REDIS_WRITE) && (rc = batch_join(e))) {
		/* a command of EXEC's cannot wait: the others ran */
		if (rc == NEDB_EBUSY && !c->in_exec)
			stall(c, e, argc, argv, len);
		else
			nedb_buf_printf(&c->out, "-ERR %s\r\n", nedb_errmsg());
		return;
	}
	if (c->verify && c->c.db)
		nedb_set_read_verify(c->c.db, 1);
	at = c->out.len;
	c->c.can_block = !c->in_exec;	/* in EXEC nothing waits */
	rc = nedb_redis_exec(&c->c, argc, argv, len, &c->out, &wrote);
	if (rc == NEDB_REDIS_BLOCKED) {
		if (!c->c.serve_key)
			block(c, argc, argv, len);
		rc = 0;
	} else if (c->c.serve_key)
		unblock(c);	/* served */
	if (e != c->dbe)
		e = NULL;	/* SWAPDB closed it (its batch committed) */
	if (c->verify && c->c.db)
		nedb_set_read_verify(c->c.db, 0);
	if (rc == NEDB_ENOTFOUND && !c->c.db && c->open_err[0] &&
	    (flags & (NEDB_REDIS_READ | NEDB_REDIS_WRITE))) {
		/* the command's own errors (arity, keys) came first; then
		 * why there is no database, not "SELECT one first" */
		c->out.len = at;
		nedb_buf_printf(&c->out, "-ERR %s\r\n", c->open_err);
	}
	if (e && e->batch) {
		/* it ran in the batch, so it may show uncommitted writes */
		if (c->held_from == NONE)
			c->held_from = c->mark;
		batch_wait(e, &c->w);
		/* a write that failed voids the batch (a read that failed
		 * staged nothing: the commit says whether the rest holds) */
		if (rc < 0 && rc != NEDB_ENOTFOUND && !reads) {
			if (!c->counted) {
				c->held_n++;
				c->counted = true;
			}
			batch_fail(e, rc);
		}
	}
	if (c->c.quit)
		c->closing = true;
	if (c->unauth && c->c.authed)
		unauth_remove(c);
}

/*
 * Transactions: MULTI queues the commands that follow (+QUEUED) until
 * EXEC runs them all in this turn, in the database's batch, so that
 * they commit together and nothing runs between them; their replies
 * make one array.  As in Redis, a command refused while queueing (an
 * unknown one, or one with the wrong number of arguments) makes EXEC
 * answer -EXECABORT and writes nothing; errors of commands that
 * run are elements of the array.  An EXEC with writes waits, whole, for
 * the writer lock.
 *
 * WATCH (optimistic locking): a watched key remembers the database's
 * head seq at WATCH time and whether the key was live.  EXEC holds the
 * writer lock before it looks (when it writes), so nothing can come in
 * between: if any watched key was changed since by anyone (its newest
 * op, deletes and drops included, is newer than that head; its expiry
 * is another; or it was live and is not, having expired), EXEC answers
 * a nil array and runs nothing.  Writers of other processes (nedb-put, nedb-redis) are
 * seen as this server's own connections are, since both write ops.
 * EXEC and DISCARD forget the watched keys, as UNWATCH does.
 */
static void
reply_status(struct rconn *c, const char *line)
{
	nedb_buf_puts(&c->out, line);
	nedb_buf_puts(&c->out, "\r\n");
}

static void
unwatch(struct rconn *c)
{
	c->watched.len = 0;
	c->watch_touched = false;
}

/*
 * A watched key, in c->watched: this header, then the key's bytes and a
 * NUL.  Each remembers its database (WATCH may be given keys of several,
 * SELECTing between) and that database's head then.
 */
struct watchent {
	uint64_t seq;		/* the database's head at WATCH */
	int64_t exp;		/* the key's expiry then */
	uint64_t len;		/* of the key */
	char db[65];
	bool present;		/* live then */
};

/* WATCH key...: 0, or a database error (replied). */
static void
watch_command(struct rconn *c, int argc, const char *const *argv,
	      const size_t *len)
{
	struct dbent *e = conn_db(c);
	struct watchent w;
	uint64_t seq;
	int rc = 0;

	if (!e) {
		nedb_buf_printf(&c->out, "-ERR %s\r\n", c->open_err);
		return;
	}
	if (!e->batch)
		snap_begin(e);
	memset(&w, 0, sizeof w);
	snprintf(w.db, sizeof w.db, "%s", e->name);
	if ((rc = nedb_head(e->db, &w.seq, NULL)))
		goto fail;
	for (int j = 1; j < argc; j++) {
		w.len = len[j];
		if ((rc = nedb_redis_key_version(e->db, argv[j], len[j], &seq,
						 &w.present, &w.exp)))
			goto fail;
		if (nedb_buf_add(&c->watched, &w, sizeof w) ||
		    nedb_buf_add(&c->watched, argv[j], len[j] + 1)) {
			rc = NEDB_EIO;
			goto fail;
		}
	}
	reply_status(c, "+OK");
	return;
fail:
	nedb_buf_printf(&c->out, "-ERR %s\r\n", nedb_errmsg());
}

/*
 * Whether a watched key changed since WATCH (or cannot be read).  Keys of
 * the database EXEC writes are looked at under its writer lock; those of
 * others in a snapshot (a writer of another process may come in between
 * there: nedbd's own connections cannot).
 */
static bool
watch_dirty(struct rconn *c)
{
	size_t off = 0;

	if (c->watch_touched)
		return true;
	while (off < c->watched.len) {
		struct watchent w;
		const char *key = c->watched.p + off + sizeof w;
		struct dbent *e;
		bool present;
		int64_t exp;
		uint64_t seq;

		memcpy(&w, c->watched.p + off, sizeof w);
		off += sizeof w + w.len + 1;
		if (db_get(w.db, false, &e))
			return true;
		if (!e->batch)
			snap_begin(e);
		if (nedb_redis_key_version(e->db, key, w.len, &seq, &present,
					   &exp) ||
		    seq > w.seq || (w.present && !present) ||
		    (present && exp != w.exp))
			return true;
	}
	return false;
}

/* ---- SWAPDB ------------------------------------------------------------------ */

/* Whether key is live in the database name (never created). */
static bool
watch_live(const char *name, const char *key, size_t len)
{
	struct dbent *e;
	bool present = false;
	uint64_t seq;
	int64_t exp;

	if (db_get(name, false, &e))
		return false;
	if (!e->batch)
		snap_begin(e);
	return nedb_redis_key_version(e->db, key, len, &seq, &present,
				      &exp) == 0 && present;
}

/*
 * SWAPDB a b (the library's swapdb callback): the databases' directories
 * are exchanged (renameat2's RENAME_EXCHANGE; a missing one is renamed
 * to, as an empty database's name), after every batch has committed and
 * both have been closed here: every connection then opens by name what
 * it finds, as in Redis, where the clients on index a see b's keys.
 * Nothing is written to either log: each history goes with its database.
 * A process that has one open (a CLI writer) goes on in it under its new
 * name.  As Redis does, a key watched in either that is live in either
 * counts as touched, and clients blocked on either are offered their
 * keys.  Not inside EXEC: closing the databases commits the batch that
 * EXEC's commands share.
 */
static int
swap_dbs(nedb_redis_conn *rc, const char *a, const char *b, char *err,
	 size_t errlen)
{
	struct rconn *c = rc->payload;
	const char *names[2] = {a, b};
	char pa[PATH_MAX], pb[PATH_MAX];
	struct stat st;
	bool ha, hb;
	int r = 0;

	if (c->in_exec) {
		snprintf(err, errlen, "SWAPDB cannot run inside MULTI here");
		return -1;
	}
	if (snprintf(pa, sizeof pa, "%s/%s", srv.data, a) >= (int)sizeof pa ||
	    snprintf(pb, sizeof pb, "%s/%s", srv.data, b) >= (int)sizeof pb) {
		snprintf(err, errlen, "database path too long");
		return -1;
	}
	for (struct rconn *t = L.conns; t; t = t->next) {
		size_t off = 0;

		while (!t->watch_touched && off < t->watched.len) {
			struct watchent w;
			const char *key = t->watched.p + off + sizeof w;

			memcpy(&w, t->watched.p + off, sizeof w);
			off += sizeof w + w.len + 1;
			if ((!strcmp(w.db, a) || !strcmp(w.db, b)) &&
			    (watch_live(a, key, w.len) ||
			     watch_live(b, key, w.len)))
				t->watch_touched = true;
		}
	}
	commit_all();
	for (int i = 0; i < 2; i++)
		for (struct dbent *e = srv.dbs; e; e = e->next)
			if (!strcmp(e->name, names[i])) {
				db_forget(e);
				break;
			}
	ha = stat(pa, &st) == 0;
	hb = stat(pb, &st) == 0;
	if (ha && hb)
		r = renameat2(AT_FDCWD, pa, AT_FDCWD, pb, RENAME_EXCHANGE);
	else if (ha || hb)
		r = rename(ha ? pa : pb, ha ? pb : pa);
	if (r) {
		snprintf(err, errlen, "cannot swap databases '%s' and '%s': %s",
			 a, b, strerror(errno));
		return -1;
	}
	for (struct rconn *t = L.blocked; t; t = t->bnext)
		if (!strcmp(t->c.dbname, a) || !strcmp(t->c.dbname, b))
			for (int j = t->bkey_first; j < t->bkey_first +
			     t->bkeys && j < t->bargc; j++)
				queue_ready(t->c.dbname, t->bargv[j],
					    t->blen[j]);
	return 0;
}

static void
exec_queued(struct rconn *c)
{
	nedb_buf q = c->queued;
	size_t off = 0;

	c->queued = (nedb_buf){0};
	nedb_buf_printf(&c->out, "*%u\r\n", c->nqueued);
	c->nqueued = 0;
	c->in_exec = true;
	c->exec_void = false;
	while (off < q.len && !c->exec_void) {
		const char **argv;
		size_t *len;
		int argc = unpack(&q, &off, &argv, &len);

		if (argc < 0) {
			nedb_buf_puts(&c->out, "-ERR out of memory\r\n");
			c->closing = true;	/* the array cannot be finished */
			break;
		}
		if (is_cmd(argv[0], len[0], "unwatch"))
			reply_status(c, "+OK");	/* EXEC unwatched already */
		else
			run(c, argc, argv, len);
		free(argv);
		free(len);
	}
	c->in_exec = false;
	nedb_buf_free(&q);
}

/* Whether a command queued on c writes. */
static bool
queue_writes(struct rconn *c)
{
	size_t off = 0;
	bool writes = false;

	while (off < c->queued.len && !writes) {
		const char **argv;
		size_t *len;
		int argc = unpack(&c->queued, &off, &argv, &len);

		if (argc < 0)
			return false;	/* EXEC says so */
		writes = argc && (nedb_redis_flags(argv[0], len[0]) &
				  NEDB_REDIS_WRITE);
		free(argv);
		free(len);
	}
	return writes;
}

/* Handles MULTI, EXEC, DISCARD and queueing; false: run the command. */
static bool
transaction(struct rconn *c, int argc, const char *const *argv,
	    const size_t *len)
{
	static const char *const names[] = {
		"multi", "exec", "discard", "watch", "unwatch",
	};
	const char *name = NULL;
	bool tx;

	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (is_cmd(argv[0], len[0], names[i]))
			name = names[i];
	tx = name && strcmp(name, "watch") && strcmp(name, "unwatch");
	if (name && (!authed(c) || (!c->multi && !tx))) {
		bool watch = !strcmp(name, "watch");

		/* Redis's order: arity, then authentication */
		if (watch ? argc < 2 : argc != 1)
			nedb_buf_printf(&c->out, "-ERR wrong number of "
					"arguments for '%s' command\r\n",
					name);
		else if (!authed(c))
			reply_status(c, "-NOAUTH Authentication required.");
		else if (watch)
			watch_command(c, argc, argv, len);
		else if (!tx) {
			unwatch(c);
			reply_status(c, "+OK");
		}
		if (tx || !c->multi)
			return true;
	}
	if (name && !tx && (!strcmp(name, "watch") ? argc < 2 : argc != 1)) {
		/* refused while queueing: EXEC will abort */
		nedb_buf_printf(&c->out, "-ERR wrong number of arguments for "
				"'%s' command\r\n", name);
		c->multi_failed = true;
		return true;
	}
	if (name && !strcmp(name, "watch")) {
		reply_status(c, "-ERR WATCH inside MULTI is not allowed");
		return true;
	}
	if (is_cmd(argv[0], len[0], "multi")) {
		if (argc != 1)
			reply_status(c, "-ERR wrong number of arguments for "
				     "'multi' command");
		else if (c->multi)
			reply_status(c, "-ERR MULTI calls can not be nested");
		else {
			c->multi = true;
			c->multi_failed = false;
			reply_status(c, "+OK");
		}
		return true;
	}
	if (tx) {
		bool exec = is_cmd(argv[0], len[0], "exec");
		struct dbent *e;

		if (!c->multi) {
			reply_status(c, exec ? "-ERR EXEC without MULTI" :
				     "-ERR DISCARD without MULTI");
			return true;
		}
		if (exec && !c->multi_failed && queue_writes(c) &&
		    (e = conn_db(c)) && batch_join(e) == NEDB_EBUSY) {
			stall(c, e, argc, argv, len);
			return true;
		}
		c->multi = false;
		if (exec && !c->multi_failed && watch_dirty(c)) {
			unwatch(c);
			c->queued.len = 0;
			c->nqueued = 0;
			reply_status(c, c->c.resp == 3 ? "_" : "*-1");
			return true;
		}
		unwatch(c);
		if (exec && !c->multi_failed) {
			exec_queued(c);
			return true;
		}
		c->queued.len = 0;
		c->nqueued = 0;
		reply_status(c, !exec ? "+OK" : "-EXECABORT Transaction "
			     "discarded because of previous errors.");
		return true;
	}
	if (!c->multi)
		return false;
	if (is_cmd(argv[0], len[0], "quit"))
		return false;
	if (name && !strcmp(name, "unwatch")) {
		pack(&c->queued, argc, argv, len);	/* runs in EXEC */
		c->nqueued++;
		reply_status(c, "+QUEUED");
		return true;
	}
	if (!nedb_redis_arity_ok(argv[0], len[0], argc)) {
		/* unknown, or the wrong number of arguments: refused now,
		 * and EXEC will abort (Redis does the same) */
		run(c, argc, argv, len);
		c->multi_failed = true;
		return true;
	}
	if (nedb_redis_flags(argv[0], len[0]) & NEDB_REDIS_NOMULTI) {
		reply_status(c, "-ERR Command not allowed inside a transaction");
		c->multi_failed = true;
		return true;
	}
	pack(&c->queued, argc, argv, len);
	c->nqueued++;
	reply_status(c, "+QUEUED");
	return true;
}

/*
 * NEDB.VERIFY ON|OFF: reads of this connection check every document
 * they return against its op in the log (nedb_set_read_verify).  Takes
 * effect at once, in MULTI too.
 */
static void
verify_command(struct rconn *c, int argc, const char *const *argv,
	       const size_t *len)
{
	if (!authed(c))
		reply_status(c, "-NOAUTH Authentication required.");
	else if (argc != 2)
		reply_status(c, "-ERR wrong number of arguments for "
			     "'nedb.verify' command");
	else if (is_cmd(argv[1], len[1], "on") ||
		 is_cmd(argv[1], len[1], "off")) {
		c->verify = is_cmd(argv[1], len[1], "on");
		reply_status(c, "+OK");
	} else
		reply_status(c, "-ERR syntax error: NEDB.VERIFY ON or OFF");
}

/*
 * Runs one request (argc > 0; every argv[i] NUL-ended): one reply, or
 * none when it waits for a lock or closes the connection.  A reply after
 * held ones is held with them, and counted, so that a failed batch
 * answers each held request with one error.
 */
static void
dispatch(struct rconn *c, int argc, const char *const *argv,
	 const size_t *len)
{
	c->mark = c->out.len;
	c->counted = false;
	if (is_cmd(argv[0], len[0], "post") ||
	    is_cmd(argv[0], len[0], "host:"))
		http_attack(c);
	else if (is_cmd(argv[0], len[0], "nedb.verify"))
		verify_command(c, argc, argv, len);
	else if (subscribed_refuses(c, argc, argv, len))
		;
	else if (!transaction(c, argc, argv, len))
		run(c, argc, argv, len);
	if (c->held_from != NONE && !c->counted && c->out.len > c->mark)
		c->held_n++;
	if (L.nready)
		after_command();
}

/* Splits an inline command line (NUL-ended) as Redis does; runs it. */
static void
run_inline(struct rconn *c, const char *line)
{
	static nedb_buf arena;
	static size_t *off, *len, cap;
	static const char **argv;
	static size_t argv_cap;
	int argc = nedb_redis_split(line, &arena, &off, &len, &cap);

	if (argc == NEDB_EINPUT) {
		protocol_error(c, "%s", "unbalanced quotes in request");
		return;
	}
	if (argc < 0) {
		protocol_error(c, "%s", "out of memory");
		return;
	}
	if ((size_t)argc > argv_cap) {
		const char **more = realloc(argv, (size_t)argc * sizeof *argv);

		if (!more) {
			protocol_error(c, "%s", "out of memory");
			return;
		}
		argv = more;
		argv_cap = (size_t)argc;
	}
	for (int i = 0; i < argc; i++)
		argv[i] = arena.p + off[i];
	/* "GET / HTTP/1.1": a browser's request line */
	if (argc == 3 && len[2] > 5 && !strncmp(argv[2], "HTTP/", 5)) {
		http_attack(c);
		return;
	}
	if (argc)
		dispatch(c, argc, argv, len);
}

/* ---- reading requests ----------------------------------------------------- */

/* A decimal as Redis's string2ll takes it: no sign but '-', no spaces. */
static bool
parse_ll(const char *p, size_t n, long long *out)
{
	bool neg = n && *p == '-';
	unsigned long long v = 0;
	size_t i = neg;

	if (i == n || (p[i] == '0' && n - i > 1))
		return false;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9' ||
		    v > (ULLONG_MAX - (unsigned)(p[i] - '0')) / 10)
			return false;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > (unsigned long long)LLONG_MAX)
		return false;
	*out = neg ? -(long long)v : (long long)v;
	return true;
}

/*
 * The line at c->pos, ended by "\r\n": its length before the '\r', or -1
 * when it is not all there yet (a protocol error, what, when it is
 * longer than MAX_INLINE already).
 */
static long
count_line(struct rconn *c, const char *what)
{
	size_t left = c->in.len - c->pos;
	const char *p = c->in.p + c->pos, *cr = memchr(p, '\r', left);

	if (!cr) {
		if (left > MAX_INLINE)
			protocol_error(c, "%s", what);
		return -1;
	}
	if ((size_t)(cr - p) + 2 > left)
		return -1;	/* the '\n' is still to come */
	return (long)(cr - p);
}

/* Keeps argument off, len of the array being read. */
static bool
add_arg(struct rconn *c, size_t off, size_t len)
{
	if (c->argc == c->arg_cap) {
		size_t cap = c->arg_cap ? c->arg_cap * 2 : 16;
		size_t *o = realloc(c->arg_off, cap * sizeof *o), *l;

		if (o)
			c->arg_off = o;
		if (!o || !(l = realloc(c->arg_len, cap * sizeof *l)))
			return false;
		c->arg_len = l;
		c->arg_cap = cap;
	}
	c->arg_off[c->argc] = off;
	c->arg_len[c->argc++] = len;
	return true;
}

/*
 * Reads on in the array being read: false when it is not complete yet or
 * broke the protocol.
 */
static bool
read_array(struct rconn *c)
{
	while (c->mb_left) {
		if (c->bulk < 0) {
			const char *p = c->in.p + c->pos;
			long n = count_line(c, "too big bulk count string");
			long long ll;

			if (n < 0)
				return false;
			if (*p != '$') {
				char msg[64];

				snprintf(msg, sizeof msg, "expected '$', got "
					 "'%c'", *p);
				protocol_error(c, "%s", msg);
				return false;
			}
			if (!parse_ll(p + 1, (size_t)n - 1, &ll) || ll < 0 ||
			    (unsigned long long)ll > srv.max_body) {
				protocol_error(c, "%s", "invalid bulk length");
				return false;
			}
			if (!authed(c) && ll > UNAUTH_BULK) {
				protocol_error(c, "%s", "unauthenticated bulk "
					       "length");
				return false;
			}
			if ((c->bulk_total += (size_t)ll) > srv.max_body) {
				protocol_error(c, "%s", "too big request");
				return false;
			}
			c->pos += (size_t)n + 2;
			c->bulk = ll;
		}
		if (c->in.len - c->pos < (size_t)c->bulk + 2)
			return false;
		if (!add_arg(c, c->pos, (size_t)c->bulk)) {
			protocol_error(c, "%s", "out of memory");
			return false;
		}
		/* the "\r\n" after it, whatever it is, ends it */
		c->in.p[c->pos + (size_t)c->bulk] = 0;
		c->pos += (size_t)c->bulk + 2;
		c->bulk = -1;
		c->mb_left--;
	}
	return true;
}

/* Runs the array just read. */
static void
run_array(struct rconn *c)
{
	static const char **argv;
	static size_t cap;

	if (c->argc > cap) {
		const char **more = realloc(argv, c->argc * sizeof *argv);

		if (!more) {
			protocol_error(c, "%s", "out of memory");
			return;
		}
		argv = more;
		cap = c->argc;
	}
	for (size_t i = 0; i < c->argc; i++)
		argv[i] = c->in.p + c->arg_off[i];
	dispatch(c, (int)c->argc, argv, c->arg_len);
}

/* Runs every complete request read, until c closes or stalls. */
static void
run_requests(struct rconn *c)
{
	while (!c->closing && !c->stall && !c->blocked && !c->dead) {
		if (!c->mb_left) {
			size_t left = c->in.len - c->pos;
			const char *p;
			long n;
			long long ll;

			c->req = c->pos;
			if (!left)
				return;
			p = c->in.p + c->pos;
			if (*p != '*') {
				char *nl = memchr(p, '\n', left);

				if (!nl) {
					if (left > MAX_INLINE)
						protocol_error(c, "%s", "too big "
							       "inline request");
					return;
				}
				n = nl - p;
				if (n && nl[-1] == '\r')
					n--;
				c->in.p[c->pos + (size_t)n] = 0;
				c->pos = (size_t)(nl + 1 - c->in.p);
				run_inline(c, p);
				continue;
			}
			if ((n = count_line(c, "too big mbulk count string")) <
			    0)
				return;
			if (!parse_ll(p + 1, (size_t)n - 1, &ll) ||
			    ll > MAX_ARGS) {
				protocol_error(c, "%s", "invalid multibulk "
					       "length");
				return;
			}
			if (!authed(c) && ll > UNAUTH_ARGS) {
				protocol_error(c, "%s", "unauthenticated "
					       "multibulk length");
				return;
			}
			c->pos += (size_t)n + 2;
			if (ll <= 0)
				continue;	/* *0 and *-1: nothing to run */
			c->mb_left = ll;
			c->bulk = -1;
			c->bulk_total = 0;
			c->argc = 0;
		}
		if (!read_array(c))
			return;
		run_array(c);
	}
}

/*
 * Moves what is left to read to the start of c->in, and frees a large
 * buffer that is done with.
 */
static void
compact(struct rconn *c)
{
	size_t from = c->req;

	if (c->in.cap > KEEP_BUF && from == c->in.len) {
		nedb_buf_free(&c->in);
		c->req = c->pos = 0;
		return;
	}
	if (!from)
		return;
	memmove(c->in.p, c->in.p + from, c->in.len - from);
	c->in.len -= from;
	c->pos -= from;
	for (size_t i = 0; i < c->argc; i++)
		c->arg_off[i] -= from;
	c->req = 0;
}

/* The client is gone: run what came, drop the replies. */
static void
conn_eof(struct rconn *c)
{
	run_requests(c);
	c->closing = true;
	c->out.len = c->sent;
	if (c->held_from != NONE)
		c->held_from = c->sent;
}

static void
read_requests(struct rconn *c)
{
	size_t total = 0;

	compact(c);
	while (total < READ_TURN) {
		ssize_t n;

		if (nedb_buf_grow(&c->in, READ_CHUNK)) {
			protocol_error(c, "%s", "out of memory");
			return;
		}
		n = read(c->fd, c->in.p + c->in.len, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_eof(c);
			return;
		}
		c->in.len += (size_t)n;
		total += (size_t)n;
		if ((size_t)n < READ_CHUNK)
			break;
	}
	run_requests(c);
}

void
resp_event(void *ev, unsigned events)
{
	struct rconn *c = ev;

	if (*(int *)ev == EV_RESP_LISTEN) {
		accept_all();
		return;
	}
	if (c->dead)
		return;
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !c->closing &&
	    !c->stall && !srv.stopping)
		read_requests(c);
	else if (events & (EPOLLHUP | EPOLLERR))
		conn_close(c);
}

void
resp_retry(void)
{
	for (struct rconn *c = L.conns; c && L.nretry; c = c->next) {
		nedb_buf q;
		const char **argv;
		size_t *len, off = 0;
		int argc;

		if (!c->retry)
			continue;
		c->retry = false;
		L.nretry--;
		c->stall = false;
		q = c->stalled;
		c->stalled = (nedb_buf){0};
		if ((argc = unpack(&q, &off, &argv, &len)) < 0)
			protocol_error(c, "%s", "out of memory");
		else {
			if (c->retry_rc < 0)
				nedb_buf_printf(&c->out, "-ERR database is "
						"locked by another writer\r\n");
			else
				dispatch(c, argc, argv, len);
			free(argv);
			free(len);
		}
		nedb_buf_free(&q);
		run_requests(c);	/* what was read after it */
	}
}

/* ---- replies -------------------------------------------------------------- */

static void
flush_one(struct rconn *c)
{
	size_t limit = c->held_from != NONE ? c->held_from : c->out.len;
	unsigned want;

	while (c->sent < limit) {
		ssize_t n = write(c->fd, c->out.p + c->sent, limit - c->sent);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			conn_close(c);	/* the client is gone */
			return;
		}
		c->sent += (size_t)n;
	}
	if (c->sent == c->out.len) {
		/* (limit with it: a stale one would ask for EPOLLOUT, and
		 * every turn would then wake for a socket with nothing to
		 * write and set it back) */
		c->out.len = c->sent = limit = 0;
		if (c->held_from != NONE)
			c->held_from = 0;	/* it was out.len */
		/* (a command waiting for a lock is in flight: not yet) */
		if (c->closing || (srv.stopping && !c->stall)) {
			conn_close(c);
			return;
		}
	}
	want = (c->sent < limit ? EPOLLOUT : 0) |
	       (c->closing || c->stall || srv.stopping ||
		c->out.len - c->sent > MAX_BACKLOG ||
		(c->blocked && c->in.len - c->pos > MAX_BACKLOG) ? 0 :
		EPOLLIN);
	if (want != c->events && loop_mod(c->fd, want, c) == 0)
		c->events = want;
}

void
resp_flush(void)
{
	struct rconn *c = L.conns, *next;

	for (; c; c = next) {
		next = c->next;
		flush_one(c);
	}
}

void
resp_forget_db(struct dbent *e)
{
	for (struct rconn *c = L.conns; c; c = c->next)
		if (c->dbe == e) {
			c->dbe = NULL;	/* opened again (anew) on next use */
			c->c.db = NULL;
		}
}

void
resp_quiesce(void)
{
	if (L.fd >= 0)
		close(L.fd);
	L.fd = -1;
}

bool
resp_idle(void)
{
	return L.conns == NULL;
}

void
resp_stop(void)
{
	resp_quiesce();
	while (L.conns)
		conn_close(L.conns);
}
