/*
 * fuzz_resp.c - libFuzzer target for nedbd's RESP request path.  Each
 * input is the bytes one client sends on one connection.
 *
 * The fuzzer runs nedbd's own code, not a copy: it includes resp.c and
 * is linked with main.c (its main renamed) and the whole library.  No
 * socket is involved: a connection of resp.c's own (conn_new without a
 * descriptor) is given the bytes as its reads would have been
 * (run_requests over its input buffer), and each turn of the loop is
 * what main.c's loop does (commit_all), after which the replies that are
 * free to go are taken from the connection's output buffer.  The
 * databases live under a temporary directory in /dev/shm; database "0"
 * and the first 7 others that sessions made (SELECT) stay open from
 * one session to the next and are put back to their genesis after every
 * session that wrote to them, and further ones are dropped (fuzz_reset
 * in fuzz_nedbd.h), so that every session starts with empty databases.
 *
 * Each input runs twice, on a fresh connection each time: once given
 * whole (one read), once cut into pieces (after every newline and every
 * 13 bytes, one read and one turn each).  Invariants checked: the
 * replies are well-formed RESP2, or RESP3 after HELLO 3 (reply_end);
 * both runs give the same number of
 * replies, and a protocol error in one run only if in the other (a byte
 * stream does not change meaning with the way TCP cuts it); a command
 * never waits for a writer lock (no other process holds one); the
 * connection is done after the client's EOF; no batch, waiter or
 * request is left over.
 *
 * An input that mentions "auth" (any case) runs with a password set
 * (NEDBD_TOKEN "fuzz-secret"), so that AUTH, NOAUTH and the limits
 * before AUTH are exercised; others run without one.  One that mentions
 * "move" or "copy" has every kept database looked at by fuzz_reset
 * (COPY ... DB n and MOVE write to databases no SELECT named).
 *
 * With NEDB_FUZZ_TRACE set, the replies of each run are printed to
 * stderr (build/fuzz/fuzz_resp FILE runs one input).
 */
#include <limits.h>
#include "../../cmd/nedbd/resp.c"
#include "fuzz_nedbd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SIZE 60000		/* below MAX_INLINE: no cut can matter */
#define PIECE 13
#define TOKEN "fuzz-secret"

/* ---- what main.c needs of http.c (not linked) ------------------------------ */

int http_start(unsigned port) { return -1; }
unsigned http_port(void) { return 0; }
void http_run(void) {}
bool http_resumed(void) { return false; }
int http_timeout(void) { return -1; }
void http_quiesce(void) {}
void http_stop(void) {}
int http_sweep(int64_t now) { return -1; }

/* ---- set-up ----------------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup("resp", 4);
	srv.epfd = -1;
	fuzz_keep(DEFAULT_DB);
	pool = true;
	return 0;
}

/* ---- one session -------------------------------------------------------------- */

struct outcome {
	unsigned replies;
	bool protocol_error;
	char error[128];		/* its message */
};

/*
 * One turn of main.c's loop for the connection after a read: its
 * requests ran (run_requests); the batches commit, and the replies free
 * to go are taken.
 */
static void
turn(struct rconn *c, nedb_buf *in)
{
	if (c->stall) {
		fprintf(stderr, "fuzz_resp: a command waits for a writer "
			"lock nobody holds\n");
		abort();
	}
	commit_all();
	if (c->held_from != NONE)
		abort();	/* the commit released them */
	if (c->out.len > c->sent)
		nedb_buf_add(in, c->out.p + c->sent, c->out.len - c->sent);
	c->out.len = c->sent = 0;
}

/* Gives c the bytes p, n as one read would. */
static void
feed(struct rconn *c, const uint8_t *p, size_t n, nedb_buf *in)
{
	if (c->closing)
		return;		/* it reads no more */
	compact(c);
	nedb_buf_add(&c->in, p, n);
	run_requests(c);
	turn(c, in);
}

/*
 * The end of the well-formed reply at p (RESP2, or RESP3 after HELLO 3:
 * hiredis 0.14's reader knows only RESP2), or NULL.  A line is its type
 * byte, text without CR or LF, and CRLF; a length is digits (or -1 for a
 * RESP2 null); an aggregate holds as many replies as it says (a map
 * twice as many).
 */
static const char *
reply_end(const char *p, const char *e, int depth)
{
	const char *le;
	long long n = 0;
	bool neg = false;
	char t;

	if (p >= e || depth > 64 || !(le = memchr(p, '\r', (size_t)(e - p))) ||
	    le + 1 >= e || le[1] != '\n' || memchr(p, '\n', (size_t)(le - p)))
		return NULL;
	t = *p;
	if (strchr("+-:,#_(", t))
		return (t == '_' && le != p + 1) ||
		       (t == '#' && (le != p + 2 || !strchr("tf", p[1]))) ?
		       NULL : le + 2;
	if (!strchr("$=*%~>", t) || le == p + 1)
		return NULL;
	if (p[1] == '-') {
		neg = true;
		p++;
	}
	for (const char *q = p + 1; q < le; q++) {
		if (*q < '0' || *q > '9' || n > (1ll << 40))
			return NULL;
		n = n * 10 + (*q - '0');
	}
	if (neg)
		return n == 1 && strchr("$*", t) ? le + 2 : NULL;
	p = le + 2;
	if (t == '$' || t == '=') {
		if ((long long)(e - p) < n + 2 || p[n] != '\r' ||
		    p[n + 1] != '\n' || (t == '=' && (n < 4 || p[3] != ':')))
			return NULL;
		return p + n + 2;
	}
	for (long long i = 0; i < (t == '%' ? 2 * n : n) && p; i++)
		p = reply_end(p, e, depth + 1);
	return p;
}

/* Parses the replies: they must be well-formed (reply_end). */
static void
count_replies(const nedb_buf *in, struct outcome *o)
{
	const char *p, *e;

	if (!in->len)
		return;		/* and in->p may be NULL */
	p = in->p;
	e = in->p + in->len;
	while (p < e) {
		const char *end = reply_end(p, e, 0);

		if (!end) {
			fprintf(stderr, "fuzz_resp: a malformed reply or one "
				"cut short at byte %zu\n", (size_t)(p - in->p));
			abort();
		}
		if (o->protocol_error) {
			fprintf(stderr, "fuzz_resp: a reply after a "
				"protocol error\n");
			abort();
		}
		o->replies++;
		if (end - p >= 19 && !strncmp(p, "-ERR Protocol error", 19)) {
			size_t n = (size_t)(end - p) - 3;

			o->protocol_error = true;
			snprintf(o->error, sizeof o->error, "%.*s",
				 (int)(n < sizeof o->error ? n :
				       sizeof o->error - 1), p + 1);
		}
		p = end;
	}
}

/* SELECT, as resp.c's, noting the database for fuzz_reset. */
static int
touch_select(nedb_redis_conn *rc, const char *name, void *payload)
{
	fuzz_touch(name);
	return select_db(rc, name, payload);
}

static void
session(const uint8_t *data, size_t size, bool cut, struct outcome *o)
{
	struct rconn *c = conn_new(-1);
	nedb_buf in = {0};

	memset(o, 0, sizeof *o);
	if (!c || L.conns != c || c->next)
		abort();
	c->c.select = touch_select;
	fuzz_touch(DEFAULT_DB);	/* where it starts */
	if (!cut)
		feed(c, data, size, &in);
	for (size_t i = 0; cut && i < size;) {
		size_t n = 0;

		while (i + n < size && n < PIECE && data[i + n++] != '\n')
			;
		feed(c, data + i, n, &in);
		i += n;
	}
	/* EOF: the client is done (what it sent was all run already) */
	if (!c->closing) {
		size_t had = c->out.len;

		conn_eof(c);
		commit_all();
		if (c->out.len > had)
			abort();	/* nothing new ran */
	}
	conn_close(c);
	if (L.conns || L.nconns)
		abort();
	if (trace)
		fprintf(stderr, "--- replies, sent %s:\n%.*s", cut ?
			"in pieces" : "whole", (int)in.len, in.p ? in.p : "");
	count_replies(&in, o);
	nedb_buf_free(&in);
}

/* Whether the input holds word (4 letters), in any case. */
static bool
mentions(const uint8_t *p, size_t n, const char *word)
{
	for (size_t i = 0; i + 4 <= n; i++)
		if (!strncasecmp((const char *)p + i, word, 4))
			return true;
	return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;

	if (size > MAX_SIZE)
		return 0;
	srv.token = mentions(data, size, "auth") ? TOKEN : NULL;
	/* COPY ... DB n and MOVE write to databases no SELECT touched */
	touch_all = mentions(data, size, "move") || mentions(data, size, "copy");
	srv.token_len = srv.token ? strlen(srv.token) : 0;
	session(data, size, false, &whole);
	fuzz_reset();
	session(data, size, true, &pieces);
	fuzz_reset();
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
	if (srv.busy)
		abort();
	return 0;
}
