/*
 * fuzz_resp.c - libFuzzer target for nedbd's RESP2 request path.  Each
 * input is the bytes one client sends on one connection.
 *
 * The fuzzer runs nedbd's own code, not a copy: it includes resp.c and
 * is linked with main.c (its main renamed) and the whole library.  The
 * connection is a Unix socket accepted by resp.c's accept_all from a
 * listening socket of our own; each turn of the loop is what main.c's
 * loop does for a readable connection (resp_event, commit_all,
 * resp_flush).  The databases live under a temporary directory in
 * /dev/shm and are removed after each session, so that every input
 * starts from the same (empty) state.
 *
 * Each input runs twice, on a fresh connection each time: once sent
 * whole (one read), once cut into pieces (after every newline and every
 * 13 bytes, one read each).  Invariants checked: the replies are
 * well-formed RESP2; both runs give the same number of replies, and a
 * protocol error in one run only if in the other (a byte stream does not
 * change meaning with the way TCP cuts it); the connection is gone after
 * the client's EOF; no batch, waiter or request is left over.
 *
 * An input that mentions "auth" (any case) runs with a password set
 * (NEDBD_TOKEN "fuzz-secret"), so that AUTH and NOAUTH are exercised;
 * others run without one.
 *
 * With NEDB_FUZZ_TRACE set, the replies of each run are printed to
 * stderr (build/fuzz/fuzz_resp FILE runs one input).
 */
#include <limits.h>
#include <sys/un.h>
#include "../../cmd/nedbd/resp.c"
#include "fuzz_nedbd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SIZE 60000		/* below MAX_INLINE: no cut can matter */
#define PIECE 13
#define TOKEN "fuzz-secret"

static char sock_path[sizeof root + 8];

/* ---- what main.c needs of http.c (not linked) ------------------------------ */

int http_start(unsigned port) { return -1; }
unsigned http_port(void) { return 0; }
void http_run(void) {}
bool http_resumed(void) { return false; }
int http_timeout(void) { return -1; }
void http_quiesce(void) {}
void http_stop(void) {}

/* ---- set-up ----------------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};

	fuzz_setup("resp", 4);
	snprintf(sock_path, sizeof sock_path, "%s/.sock", root);
	signal(SIGPIPE, SIG_IGN);
	if ((srv.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		abort();
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_path);
	L.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (L.fd < 0 || bind(L.fd, (struct sockaddr *)&a, sizeof a) ||
	    listen(L.fd, 8) || loop_add(L.fd, EPOLLIN, &L)) {
		perror("fuzz_resp: listen");
		abort();
	}
	return 0;
}

/* Closes every database and removes it: the next session starts empty. */
static void
reset_dbs(void)
{
	DIR *d;
	struct dirent *de;

	while (srv.dbs) {
		if (srv.dbs->batch || srv.dbs->waiters)
			abort();	/* left over by the session */
		db_forget(srv.dbs);
	}
	if (!(d = opendir(root)))
		abort();
	while ((de = readdir(d))) {
		char path[PATH_MAX];

		if (de->d_name[0] == '.')
			continue;	/* ".", ".." and our socket */
		snprintf(path, sizeof path, "%s/%s", root, de->d_name);
		nftw(path, rm_any, 16, FTW_DEPTH | FTW_PHYS);
	}
	closedir(d);
}

/* ---- one session -------------------------------------------------------------- */

struct outcome {
	unsigned replies;
	bool protocol_error;
	char error[128];		/* its message */
};

static void
drain(int fd, nedb_buf *in)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof buf)) > 0)
		nedb_buf_add(in, buf, (size_t)n);
}

/*
 * One turn of main.c's loop for our connection when it is readable (as
 * epoll reports it only with EPOLLIN registered), then more turns while
 * it waits to write (EPOLLOUT), the client reading all the while.
 */
static void
turn(int cfd, nedb_buf *in)
{
	if (L.conns && (L.conns->events & EPOLLIN))
		resp_event(L.conns, EPOLLIN);
	commit_all();
	resp_flush();
	while (L.conns && (L.conns->events & EPOLLOUT)) {
		drain(cfd, in);
		resp_flush();
	}
	drain(cfd, in);
}

static void
send_all(int cfd, const uint8_t *p, size_t n, nedb_buf *in)
{
	while (n) {
		ssize_t w = write(cfd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			turn(cfd, in);	/* the server reads some */
			if (!L.conns)
				return;
			continue;
		}
		if (w <= 0)
			return;		/* the server closed */
		p += w;
		n -= (size_t)w;
	}
}

/* Parses the replies: they must be well-formed RESP2. */
static void
count_replies(const nedb_buf *in, struct outcome *o)
{
	redisReader *r = redisReaderCreate();
	redisReply *rep;

	if (!r)
		abort();
	if (in->len && redisReaderFeed(r, in->p, in->len) != REDIS_OK)
		abort();
	for (;;) {
		if (redisReaderGetReply(r, (void **)&rep) != REDIS_OK) {
			fprintf(stderr, "fuzz_resp: malformed reply: %s\n",
				r->errstr);
			abort();
		}
		if (!rep)
			break;
		if (o->protocol_error) {
			fprintf(stderr, "fuzz_resp: a reply after a "
				"protocol error\n");
			abort();
		}
		o->replies++;
		if (rep->type == REDIS_REPLY_ERROR &&
		    !strncmp(rep->str, "ERR Protocol error", 18)) {
			o->protocol_error = true;
			snprintf(o->error, sizeof o->error, "%s", rep->str);
		}
		freeReplyObject(rep);
	}
	if (r->pos != r->len) {
		fprintf(stderr, "fuzz_resp: a reply cut short\n");
		abort();
	}
	redisReaderFree(r);
}

static void
session(const uint8_t *data, size_t size, bool cut, struct outcome *o)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	nedb_buf in = {0};
	int cfd;

	memset(o, 0, sizeof *o);
	snprintf(a.sun_path, sizeof a.sun_path, "%s", sock_path);
	cfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&a, sizeof a))
		abort();
	resp_event(&L, EPOLLIN);	/* accept_all */
	if (!L.conns || L.conns->next)
		abort();
	if (!cut)
		send_all(cfd, data, size, &in);
	for (size_t i = 0; cut && i < size && L.conns;) {
		size_t n = 0;

		while (i + n < size && n < PIECE && data[i + n++] != '\n')
			;
		send_all(cfd, data + i, n, &in);
		i += n;
		turn(cfd, &in);
	}
	if (L.conns) {
		turn(cfd, &in);
		shutdown(cfd, SHUT_WR);	/* EOF: the client is done */
		turn(cfd, &in);
	}
	if (L.conns) {
		fprintf(stderr, "fuzz_resp: connection open after EOF\n");
		abort();
	}
	drain(cfd, &in);
	close(cfd);
	if (trace)
		fprintf(stderr, "--- replies, sent %s:\n%.*s", cut ?
			"in pieces" : "whole", (int)in.len, in.p ? in.p : "");
	count_replies(&in, o);
	nedb_buf_free(&in);
}

static bool
mentions_auth(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (!strncasecmp((const char *)p + i, "auth", 4))
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;

	if (size > MAX_SIZE)
		return 0;
	srv.token = mentions_auth(data, size) ? TOKEN : NULL;
	srv.token_len = srv.token ? strlen(srv.token) : 0;
	session(data, size, false, &whole);
	reset_dbs();
	session(data, size, true, &pieces);
	reset_dbs();
	if (whole.replies != pieces.replies ||
	    whole.protocol_error != pieces.protocol_error) {
		fprintf(stderr, "fuzz_resp: sent whole: %u replies%s%s; "
			"sent in pieces: %u replies%s%s\n", whole.replies,
			whole.protocol_error ? ", the last: " : "",
			whole.error, pieces.replies,
			pieces.protocol_error ? ", the last: " : "",
			pieces.error);
		abort();
	}
	if (srv.busy || srv.dbs)
		abort();
	return 0;
}
