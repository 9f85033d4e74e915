/*
 * resp.c - nedbd's RESP2 front end.
 *
 * Requests are read with hiredis's reader (multibulk, as every client
 * sends them) or, like Redis, as inline commands (a line of words, as
 * typed into nc); they run through lib/redis.c, the table nedb-redis(1)
 * uses too.  A reply that depends on an open batch (a write, or a read
 * that saw the batch's writes) is held, and so is everything after it on
 * that connection, until the batch commits: see nedbd.h.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "nedbd.h"
#include "redis.h"

#define NONE ((size_t)-1)
#define READ_CHUNK 65536
#define READ_TURN (4u << 20)	/* bytes read per connection per turn */
#define MAX_PENDING (512u << 20) /* a request larger than this: error */
#define MAX_INLINE (64u << 10)
#define MAX_BACKLOG (16u << 20)	/* unsent replies before reading stops */
#define MAX_ARGS (1024 * 1024)
#define DEFAULT_DB "0"

struct rconn {
	int kind;			/* EV_RESP_CONN */
	int fd;
	unsigned events;		/* registered with epoll */
	redisReader *rd;
	nedb_redis_conn c;
	struct dbent *dbe;		/* the selected database */
	nedb_buf out;
	size_t sent;			/* bytes of out written */
	size_t held_from;		/* start of held replies, or NONE */
	unsigned held_n;		/* number of held replies */
	struct waiter w;
	/* MULTI ... EXEC: the commands queued, each as argc, then argc
	 * (length, bytes) pairs in one buffer */
	bool multi;
	bool multi_failed;		/* a queued command was refused */
	nedb_buf queued;
	unsigned nqueued;
	bool closing;			/* close once out is written */
	bool dead;			/* closed; freed when w is released */
	struct rconn *prev, *next;
};

static struct {
	int kind;			/* EV_RESP_LISTEN */
	int fd;
	unsigned nconns;
	struct rconn *conns;
} L = {EV_RESP_LISTEN, -1, 0, NULL};

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

static void
conn_free(struct rconn *c)
{
	redisReaderFree(c->rd);
	nedb_buf_free(&c->out);
	nedb_buf_free(&c->queued);
	free(c);
}

static void
conn_close(struct rconn *c)
{
	if (c->dead)
		return;
	close(c->fd);		/* leaves epoll too */
	c->dead = true;
	if (c->prev)
		c->prev->next = c->next;
	else
		L.conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	L.nconns--;
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
	}
	c->held_from = NONE;
	c->held_n = 0;
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

/*
 * hiredis 0.14 allocates a multibulk's element array from the count it
 * is sent, before any element arrives: counts past MAX_ARGS are refused
 * there (the reader reports out of memory; the connection is closed).
 */
static redisReplyObjectFunctions fns;
static void *(*default_array)(const redisReadTask *, int);

static void *
create_array(const redisReadTask *task, int elements)
{
	if (elements > MAX_ARGS)
		return NULL;
	return default_array(task, elements);
}

static redisReader *
new_reader(void)
{
	redisReader *r = redisReaderCreate();

	if (r && !default_array) {
		fns = *r->fn;
		default_array = fns.createArray;
		fns.createArray = create_array;
	}
	if (r)
		r->fn = &fns;
	return r;
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
		if (L.nconns >= srv.max_conns) {
			static const char full[] =
				"-ERR max number of clients reached\r\n";

			/* best effort: the client is turned away anyway */
			(void)!write(fd, full, sizeof full - 1);
			close(fd);
			continue;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (!(c = calloc(1, sizeof *c)) ||
		    !(c->rd = new_reader())) {
			free(c);
			close(fd);
			continue;
		}
		c->kind = EV_RESP_CONN;
		c->fd = fd;
		c->events = EPOLLIN;
		c->held_from = NONE;
		c->w.done = conn_released;
		c->c.password = srv.token;
		c->c.password_len = srv.token_len;
		c->c.select = select_db;
		c->c.payload = c;
		if (loop_add(fd, EPOLLIN, c)) {
			conn_free(c);
			close(fd);
			continue;
		}
		c->next = L.conns;
		if (L.conns)
			L.conns->prev = c;
		L.conns = c;
		L.nconns++;
	}
}

/* ---- running commands ----------------------------------------------------- */

static void
protocol_error(struct rconn *c, const char *fmt, const char *what)
{
	nedb_buf_puts(&c->out, "-ERR Protocol error: ");
	nedb_buf_printf(&c->out, fmt, what);
	nedb_buf_puts(&c->out, "\r\n");
	c->closing = true;
}

static void
run(struct rconn *c, int argc, const char *const *argv, const size_t *len)
{
	unsigned flags = nedb_redis_flags(argv[0], len[0]);
	bool may = !c->c.password || c->c.authed, wrote;
	struct dbent *e;
	size_t mark = c->out.len;
	int rc;

	if (may && !c->dbe && (flags & (NEDB_REDIS_READ | NEDB_REDIS_WRITE))) {
		/* database 0 until SELECT, as in Redis; or the one dropped */
		if (!c->c.dbname[0])
			strcpy(c->c.dbname, DEFAULT_DB);
		if (db_get(c->c.dbname, true, &c->dbe) == 0)
			c->c.db = c->dbe->db;
	}
	e = c->dbe;
	if (may && e && flags == (NEDB_REDIS_READ | NEDB_REDIS_KNOWN))
		snap_begin(e);	/* one snapshot for this turn's reads */
	if (may && e && (flags & NEDB_REDIS_WRITE) && (rc = batch_join(e))) {
		nedb_buf_printf(&c->out, "-ERR %s\r\n", nedb_errmsg());
		return;
	}
	rc = nedb_redis_exec(&c->c, argc, argv, len, &c->out, &wrote);
	if (e && e->batch) {
		/* it ran in the batch, so it may show uncommitted writes */
		if (c->held_from == NONE)
			c->held_from = mark;
		c->held_n++;
		batch_wait(e, &c->w);
		if (rc < 0 && rc != NEDB_ENOTFOUND)
			batch_fail(e, rc);
	}
	if (c->c.quit)
		c->closing = true;
}

/*
 * Transactions: MULTI queues the commands that follow (+QUEUED) until
 * EXEC runs them all in this turn, in the database's batch, so that
 * they commit together and nothing runs between them; their replies
 * make one array.  As in Redis, a command refused while queueing (an
 * unknown one) makes EXEC answer -EXECABORT; errors of commands that
 * run are elements of the array.  WATCH is not supported (an unknown
 * command).
 */
static bool
is_cmd(const char *arg, size_t len, const char *name)
{
	return len == strlen(name) && !strncasecmp(arg, name, len);
}

static void
reply_status(struct rconn *c, const char *line)
{
	nedb_buf_puts(&c->out, line);
	nedb_buf_puts(&c->out, "\r\n");
}

static void
queue(struct rconn *c, int argc, const char *const *argv, const size_t *len)
{
	uint64_t n = (uint64_t)argc;

	nedb_buf_add(&c->queued, &n, sizeof n);
	for (int i = 0; i < argc; i++) {
		n = len[i];
		nedb_buf_add(&c->queued, &n, sizeof n);
		nedb_buf_add(&c->queued, argv[i], len[i]);
		nedb_buf_add(&c->queued, "", 1);	/* argv ends in NUL */
	}
	c->nqueued++;
}

static void
exec_queued(struct rconn *c)
{
	nedb_buf q = c->queued;
	size_t off = 0;

	c->queued = (nedb_buf){0};
	nedb_buf_printf(&c->out, "*%u\r\n", c->nqueued);
	c->nqueued = 0;
	while (off < q.len) {
		const char **argv;
		size_t *len;
		uint64_t argc;

		memcpy(&argc, q.p + off, sizeof argc);
		off += sizeof argc;
		argv = malloc(argc * sizeof *argv);
		len = malloc(argc * sizeof *len);
		if (!argv || !len) {
			free(argv);
			free(len);
			nedb_buf_puts(&c->out, "-ERR out of memory\r\n");
			c->closing = true;	/* the array cannot be finished */
			break;
		}
		for (uint64_t i = 0; i < argc; i++) {
			uint64_t n;

			memcpy(&n, q.p + off, sizeof n);
			off += sizeof n;
			argv[i] = q.p + off;
			len[i] = n;
			off += n + 1;
		}
		run(c, (int)argc, argv, len);
		free(argv);
		free(len);
	}
	nedb_buf_free(&q);
}

/* Handles MULTI, EXEC, DISCARD and queueing; false: run the command. */
static bool
transaction(struct rconn *c, int argc, const char *const *argv,
	    const size_t *len)
{
	bool may = !c->c.password || c->c.authed;

	if (is_cmd(argv[0], len[0], "multi") && may) {
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
	if ((is_cmd(argv[0], len[0], "exec") ||
	     is_cmd(argv[0], len[0], "discard")) && may) {
		bool exec = is_cmd(argv[0], len[0], "exec");

		if (!c->multi) {
			reply_status(c, exec ? "-ERR EXEC without MULTI" :
				     "-ERR DISCARD without MULTI");
			return true;
		}
		c->multi = false;
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
	if (!nedb_redis_flags(argv[0], len[0])) {
		/* refused now; EXEC will abort (Redis does the same) */
		run(c, argc, argv, len);
		c->multi_failed = true;
		return true;
	}
	queue(c, argc, argv, len);
	reply_status(c, "+QUEUED");
	return true;
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
	if (argc < 0 || (size_t)argc > MAX_ARGS) {
		protocol_error(c, "%s", argc < 0 ? "out of memory" :
			       "too many arguments");
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
	if (argc && !transaction(c, argc, argv, len))
		run(c, argc, argv, len);
}

/* Runs every complete request the reader holds. */
static void
run_requests(struct rconn *c)
{
	redisReader *r = c->rd;

	while (!c->closing) {
		redisReply *req;
		const char **argv;
		size_t *len;

		if (r->pos >= r->len) {
			/* all read: a reader left idle on a large buffer (inline
			 * lines never compact it) starts afresh */
			if (r->ridx == -1 && r->len > READ_CHUNK) {
				redisReader *fresh = new_reader();

				if (fresh) {
					redisReaderFree(r);
					c->rd = fresh;
				}
			}
			return;	/* more must come (hiredis would start a
				 * request on nothing and lose track) */
		}
		if (r->ridx == -1 && r->buf[r->pos] != '*') {
			char *nl = memchr(r->buf + r->pos, '\n',
					  r->len - r->pos);
			size_t n;

			if (!nl) {
				if (r->len - r->pos > MAX_INLINE)
					protocol_error(c, "%s",
						       "too big inline request");
				return;
			}
			n = (size_t)(nl - (r->buf + r->pos));
			if (n && nl[-1] == '\r')
				n--;
			r->buf[r->pos + n] = 0;	/* the '\r' or '\n' */
			run_inline(c, r->buf + r->pos);
			r->pos = (size_t)(nl + 1 - r->buf);
			continue;
		}
		if (redisReaderGetReply(r, (void **)&req) != REDIS_OK) {
			protocol_error(c, "%s", r->errstr);
			return;
		}
		if (!req) {
			if (r->len - r->pos > MAX_PENDING)
				protocol_error(c, "%s", "too big request");
			return;
		}
		if (req->type != REDIS_REPLY_ARRAY || req->elements == 0 ||
		    req->elements > MAX_ARGS) {
			if (req->elements > MAX_ARGS)
				protocol_error(c, "%s", "too many arguments");
			freeReplyObject(req);
			continue;	/* *0 and *-1: nothing to run */
		}
		argv = malloc(req->elements * sizeof *argv);
		len = malloc(req->elements * sizeof *len);
		if (argv && len) {
			size_t i;

			for (i = 0; i < req->elements; i++) {
				redisReply *a = req->element[i];

				if (a->type != REDIS_REPLY_STRING) {
					protocol_error(c, "%s", a->type ==
						       REDIS_REPLY_NIL ?
						       "invalid bulk length" :
						       a->type ==
						       REDIS_REPLY_ARRAY ?
						       "expected '$', got '*'" :
						       "expected '$', got "
						       "another type");
					break;
				}
				argv[i] = a->str;
				len[i] = a->len;
			}
			if (i == req->elements &&
			    !transaction(c, (int)i, argv, len))
				run(c, (int)i, argv, len);
		} else
			protocol_error(c, "%s", "out of memory");
		free(argv);
		free(len);
		freeReplyObject(req);
	}
}

static void
read_requests(struct rconn *c)
{
	char buf[READ_CHUNK];
	size_t total = 0;

	while (total < READ_TURN) {
		ssize_t n = read(c->fd, buf, sizeof buf);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			/* the client is gone: run what came, drop the rest */
			run_requests(c);
			c->closing = true;
			c->out.len = c->sent;
			if (c->held_from != NONE)
				c->held_from = c->sent;
			return;
		}
		if (redisReaderFeed(c->rd, buf, (size_t)n) != REDIS_OK) {
			protocol_error(c, "%s", "out of memory");
			return;
		}
		total += (size_t)n;
		if ((size_t)n < sizeof buf)
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
	    !srv.stopping)
		read_requests(c);
	else if (events & (EPOLLHUP | EPOLLERR))
		conn_close(c);
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
		c->out.len = c->sent = 0;
		if (c->closing || srv.stopping) {
			conn_close(c);
			return;
		}
	}
	want = (c->sent < limit ? EPOLLOUT : 0) |
	       (c->closing || srv.stopping ||
		c->out.len - c->sent > MAX_BACKLOG ? 0 : EPOLLIN);
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
