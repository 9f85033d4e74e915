/*
 * fuzz_http.c - libFuzzer target for nedbd's HTTP routes: request bodies
 * (and some URLs and headers) through http.c's handler, as
 * libmicrohttpd calls it.
 *
 * The fuzzer includes http.c itself and is linked with main.c (its main
 * renamed) and the whole library; libmicrohttpd is not linked: the MHD_*
 * functions http.c calls are defined here, as a model of one turn of
 * MHD_run over a few connections, and so are the resp_* functions (no
 * RESP2 here).  No socket is involved.  The databases live under a
 * temporary directory in /dev/shm; database "fz" stays open from one
 * input to the next and is put back to its genesis after every input
 * that wrote to it, and every other database is dropped (fuzz_reset in
 * fuzz_nedbd.h), so that every input starts from the same state.
 *
 * An input is up to 8 requests separated by a line "--" ("\n--\n"),
 * all handled in one turn of the loop (so that writes share a batch, as
 * concurrent requests do).  A request's first byte picks its route (its
 * low 4 bits: '@' 0 ... 'O' 15, see routes[] below); routes with a
 * parameter take it from the next line (up to "\n"); with bit 4 of the
 * first byte set ('P' ... '_'), the line after that is a request header,
 * "Name: value" (Host, Origin, Content-Type, Expect, Authorization, any);
 * the rest is the body.  An input that mentions "auth" (any case) runs
 * with a token set ("fuzz-secret"), so that its checks are exercised.
 *
 * Invariants checked, besides ASan and UBSan: each request is answered
 * exactly once, never while suspended, and a suspended one only after a
 * resume; nothing is resumed that was not suspended; nothing stays
 * suspended after the commit; every answer has a plausible status and a
 * body that is a JSON object and a newline (none for 204); no request,
 * batch or waiter is left over.
 *
 * With NEDB_FUZZ_TRACE set, each request and its answer are printed to
 * stderr (build/fuzz/fuzz_http FILE runs one input).
 */
#include "../../cmd/nedbd/http.c"
#include "fuzz_nedbd.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SIZE (1 << 16)
#define MAX_REQS 8
#define CHUNK 1000		/* upload bytes per call of the handler */
#define DB "fz"


/* ---- a model of libmicrohttpd ---------------------------------------------- */

struct MHD_Connection {
	void *con_cls;
	char method[16];
	char url[4096];
	char limit[4096];	/* ?limit= */
	bool has_limit;
	char verify[64];	/* ?verify= */
	bool has_verify;
	char content_length[24];
	char hname[64], hvalue[4096];	/* one more header */
	bool suspended;
	bool resumed;		/* since it was suspended */
	bool queued;		/* an answer is queued */
	bool closed;		/* the handler said MHD_NO */
	bool octets;		/* the answer is a file's bytes */
	unsigned status;
	nedb_buf answer;
};

struct MHD_Response {
	size_t len;
	char *p;
	/* MHD_create_response_from_callback's (a file's bytes), read whole
	 * when queued, a block at a time as libmicrohttpd does */
	MHD_ContentReaderCallback crc;
	void *cls;
	MHD_ContentReaderFreeCallback crfc;
	uint64_t size;
	size_t block;
};

const char *
MHD_lookup_connection_value(struct MHD_Connection *c, enum MHD_ValueKind kind,
			    const char *key)
{
	if (kind == MHD_GET_ARGUMENT_KIND && !strcmp(key, "limit"))
		return c->has_limit ? c->limit : NULL;
	if (kind == MHD_GET_ARGUMENT_KIND && !strcmp(key, "verify"))
		return c->has_verify ? c->verify : NULL;
	if (kind == MHD_HEADER_KIND && c->hname[0] &&
	    !strcasecmp(key, c->hname))
		return c->hvalue;
	if (kind == MHD_HEADER_KIND &&
	    !strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH))
		return c->content_length[0] ? c->content_length : NULL;
	return NULL;
}

/* No connection has a socket (or an entry of http.c's): on_connection is
 * not called here. */
const union MHD_ConnectionInfo *
MHD_get_connection_info(struct MHD_Connection *c,
			enum MHD_ConnectionInfoType t, ...)
{
	return NULL;
}

struct MHD_Response *
MHD_create_response_from_buffer(size_t size, void *buffer,
				enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *r = calloc(1, sizeof *r);

	if (mode != MHD_RESPMEM_MUST_COPY || (size && !buffer))
		abort();
	if (!r || !(r->p = malloc(size + 1))) {
		free(r);
		return NULL;
	}
	if (size)
		memcpy(r->p, buffer, size);
	r->len = size;
	return r;
}

struct MHD_Response *
MHD_create_response_from_callback(uint64_t size, size_t block_size,
				  MHD_ContentReaderCallback crc, void *crc_cls,
				  MHD_ContentReaderFreeCallback crfc)
{
	struct MHD_Response *r = calloc(1, sizeof *r);

	if (!crc || !block_size || size == MHD_SIZE_UNKNOWN)
		abort();
	if (!r)
		return NULL;
	r->crc = crc;
	r->cls = crc_cls;
	r->crfc = crfc;
	r->size = size;
	r->block = block_size;
	return r;
}

/* The bytes of a callback's response: all of its size, or an error that
 * cuts them short (the connection would close); never more, never a
 * pause (0), never an end before the size. */
static void
read_callback(struct MHD_Connection *c, struct MHD_Response *r)
{
	char *buf = malloc(r->block);
	uint64_t pos = 0;

	if (!buf)
		abort();
	c->octets = true;
	while (pos < r->size) {
		size_t max = r->size - pos < r->block ? r->size - pos :
			     r->block;
		ssize_t n = r->crc(r->cls, pos, buf, max);

		if (n == MHD_CONTENT_READER_END_WITH_ERROR)
			break;
		if (n <= 0 || (size_t)n > max) {
			fprintf(stderr, "fuzz_http: %s %s: the reader gave %zd "
				"at %llu of %llu\n", c->method, c->url, n,
				(unsigned long long)pos,
				(unsigned long long)r->size);
			abort();
		}
		nedb_buf_add(&c->answer, buf, (size_t)n);
		pos += (uint64_t)n;
	}
	free(buf);
}

enum MHD_Result
MHD_add_response_header(struct MHD_Response *r, const char *header,
			const char *content)
{
	if (!r || !header || !*header || !content || strchr(content, '\n'))
		abort();
	return MHD_YES;
}

enum MHD_Result
MHD_queue_response(struct MHD_Connection *c, unsigned int status,
		   struct MHD_Response *r)
{
	if (c->queued) {
		fprintf(stderr, "fuzz_http: %s %s answered twice\n",
			c->method, c->url);
		abort();
	}
	if (c->suspended) {
		fprintf(stderr, "fuzz_http: %s %s answered while "
			"suspended\n", c->method, c->url);
		abort();
	}
	c->queued = true;
	c->status = status;
	if (r->crc)
		read_callback(c, r);
	else
		nedb_buf_add(&c->answer, r->p, r->len);
	return MHD_YES;
}

void
MHD_destroy_response(struct MHD_Response *r)
{
	if (r && r->crfc)
		r->crfc(r->cls);
	if (r)
		free(r->p);
	free(r);
}

void
MHD_suspend_connection(struct MHD_Connection *c)
{
	if (c->suspended || c->queued)
		abort();
	c->suspended = true;
	c->resumed = false;
}

void
MHD_resume_connection(struct MHD_Connection *c)
{
	if (!c->suspended) {
		fprintf(stderr, "fuzz_http: %s %s resumed but not "
			"suspended\n", c->method, c->url);
		abort();
	}
	c->suspended = false;
	c->resumed = true;
}

/* Not reached: main.c's main (renamed) is not called. */
struct MHD_Daemon *
MHD_start_daemon(unsigned int flags, uint16_t port,
		 MHD_AcceptPolicyCallback apc, void *apc_cls,
		 MHD_AccessHandlerCallback dh, void *dh_cls, ...)
{
	return NULL;
}

const union MHD_DaemonInfo *
MHD_get_daemon_info(struct MHD_Daemon *d, enum MHD_DaemonInfoType t, ...)
{
	return NULL;
}

enum MHD_Result
MHD_run(struct MHD_Daemon *d)
{
	return MHD_YES;
}

enum MHD_Result
MHD_get_timeout(struct MHD_Daemon *d, MHD_UNSIGNED_LONG_LONG *t)
{
	return MHD_NO;
}

MHD_socket
MHD_quiesce_daemon(struct MHD_Daemon *d)
{
	return MHD_INVALID_SOCKET;
}

void
MHD_stop_daemon(struct MHD_Daemon *d)
{
}

/* ---- what main.c and http.c need of resp.c (not linked) --------------------- */

int resp_start(unsigned port) { return -1; }
void resp_event(void *ev, unsigned events) {}
void resp_flush(void) {}
void resp_forget_db(struct dbent *e) {}
void resp_quiesce(void) {}
bool resp_idle(void) { return true; }
void resp_stop(void) {}
void resp_retry(void) {}
int resp_sweep(int64_t now) { return -1; }

/* ---- requests ----------------------------------------------------------------- */

enum { P_NONE, P_PATH, P_LIMIT, P_LINE };

static const struct route_def {
	const char *method;
	const char *url;	/* %s: the parameter */
	int param;
} routes[16] = {
	{"POST", "/v1/databases", P_NONE},			/* @ */
	{"POST", "/v1/databases/" DB "/put", P_NONE},		/* A */
	{"POST", "/v1/databases/" DB "/query", P_NONE},		/* B */
	{"POST", "/v1/databases/" DB "/index", P_NONE},		/* C */
	{"POST", "/v1/databases/" DB "/link", P_NONE},		/* D */
	{"POST", "/v1/databases/" DB "/checkpoint", P_NONE},	/* E */
	{"DELETE", "/v1/databases/" DB "/rows/%s", P_PATH},	/* F */
	{"GET", "/v1/databases/" DB "/log", P_LIMIT},		/* G */
	{"GET", "/v1/databases/" DB "/verify", P_NONE},		/* H */
	{"GET", "/v1/databases/" DB, P_NONE},			/* I */
	{"GET", "/v1/databases", P_NONE},			/* J */
	{"DELETE", "/v1/databases/" DB, P_NONE},		/* K */
	{NULL, NULL, P_LINE},	/* L: "METHOD URL[?limit=N][&verify=V]" */
	{"GET", "/v1/databases/" DB "/rows/%s", P_PATH},	/* M */
	{"GET", "/health", P_NONE},				/* N */
	{"POST", "/v1/databases/%s/put", P_PATH},		/* O */
};

struct req {
	struct MHD_Connection c;
	const uint8_t *body;
	size_t blen;
	bool done;		/* answered (or closed) */
};

static void
call(struct req *q, const char *upload, size_t size)
{
	size_t left = size;
	enum MHD_Result r;

	r = handle(NULL, &q->c, q->c.url, q->c.method, "HTTP/1.1", upload,
		   &left, &q->c.con_cls);
	if (left)
		abort();	/* the handler takes all it is given */
	if (r == MHD_NO)
		q->c.closed = true;
	if (q->c.queued || q->c.closed)
		q->done = true;
}

/* Sets q up from one request's bytes; false when it makes no request. */
static bool
parse_req(struct req *q, const uint8_t *p, size_t n)
{
	const struct route_def *rd;
	char param[4096] = "";
	const uint8_t *nl;
	bool header;

	memset(q, 0, sizeof *q);
	if (!n)
		return false;
	rd = &routes[p[0] & 15];
	header = p[0] & 0x10;
	p++, n--;
	if (rd->param != P_NONE) {
		size_t len;

		nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl - p) : n;
		snprintf(param, sizeof param, "%.*s",
			 (int)(len < sizeof param ? len : sizeof param - 1),
			 (const char *)p);
		p += nl ? len + 1 : len;
		n -= nl ? len + 1 : len;
	}
	if (header) {
		char line[4200], *colon;
		size_t len;

		nl = memchr(p, '\n', n);
		len = nl ? (size_t)(nl - p) : n;
		snprintf(line, sizeof line, "%.*s",
			 (int)(len < sizeof line ? len : sizeof line - 1),
			 (const char *)p);
		p += nl ? len + 1 : len;
		n -= nl ? len + 1 : len;
		if ((colon = strchr(line, ':')) &&
		    colon - line < (int)sizeof q->c.hname) {
			*colon = 0;
			snprintf(q->c.hname, sizeof q->c.hname, "%s", line);
			snprintf(q->c.hvalue, sizeof q->c.hvalue, "%s",
				 colon + 1 + (colon[1] == ' '));
		}
	}
	switch (rd->param) {
	case P_LINE: {
		char *sp = strchr(param, ' '), *qm;

		if (!sp || sp == param || sp - param >= (int)sizeof q->c.method)
			return false;
		*sp = 0;
		snprintf(q->c.method, sizeof q->c.method, "%s", param);
		if ((qm = strstr(sp + 1, "&verify="))) {
			q->c.has_verify = true;
			snprintf(q->c.verify, sizeof q->c.verify, "%s", qm + 8);
			*qm = 0;
		}
		if ((qm = strstr(sp + 1, "?verify="))) {
			q->c.has_verify = true;
			snprintf(q->c.verify, sizeof q->c.verify, "%s", qm + 8);
			*qm = 0;
		}
		if ((qm = strstr(sp + 1, "?limit="))) {
			q->c.has_limit = true;
			snprintf(q->c.limit, sizeof q->c.limit, "%s", qm + 7);
			*qm = 0;
		}
		if ((qm = strchr(sp + 1, '?')))
			*qm = 0;	/* MHD gives the path alone */
		snprintf(q->c.url, sizeof q->c.url, "%s", sp + 1);
		break;
	}
	case P_LIMIT:
		q->c.has_limit = param[0] != 0;
		snprintf(q->c.limit, sizeof q->c.limit, "%s", param);
		/* fall through */
	default:
		snprintf(q->c.method, sizeof q->c.method, "%s", rd->method);
		snprintf(q->c.url, sizeof q->c.url, rd->url, param);
	}
	q->body = p;
	q->blen = n;
	if (n)
		snprintf(q->c.content_length, sizeof q->c.content_length,
			 "%zu", n);
	return true;
}

static void
check_answer(struct req *q)
{
	struct MHD_Connection *c = &q->c;
	nedb_buf obj = {0};

	if (trace)
		fprintf(stderr, "%s %s [%zu bytes] -> %u %.*s", c->method,
			c->url, q->blen, c->status, (int)c->answer.len,
			c->answer.p ? c->answer.p : "\n");
	if (c->closed)
		return;
	if (c->status < 200 || c->status > 599) {
		fprintf(stderr, "fuzz_http: %s %s: status %u\n", c->method,
			c->url, c->status);
		abort();
	}
	if (c->status == MHD_HTTP_NO_CONTENT) {
		if (c->answer.len)
			abort();
		return;
	}
	/* a file's bytes (GET …/files/FILE): checked as they were read */
	if (c->octets) {
		if (c->status != MHD_HTTP_OK)
			abort();
		return;
	}
	/* the web console's files (GET / and its script, style, icon) are
	 * the only answers that are not JSON: byte for byte those built in */
	for (size_t i = 0; i < nedbd_nassets; i++)
		if (c->status == MHD_HTTP_OK &&
		    c->answer.len == nedbd_assets[i].len &&
		    !memcmp(c->answer.p, nedbd_assets[i].bytes, c->answer.len))
			return;
	if (c->answer.len < 3 || c->answer.p[c->answer.len - 1] != '\n' ||
	    nedb_json_object(&obj, c->answer.p, c->answer.len - 1)) {
		fprintf(stderr, "fuzz_http: %s %s: %u, not a JSON object: "
			"%.*s\n", c->method, c->url, c->status,
			(int)c->answer.len, c->answer.p ? c->answer.p : "");
		abort();
	}
	nedb_buf_free(&obj);
}

/*
 * One turn of main.c's loop with the requests of qs: MHD_run hands each
 * its body; then commit_all, and MHD_run again for those it resumed.
 */
static void
run_turn(struct req *qs, int n)
{
	bool again;

	for (int i = 0; i < n; i++) {
		struct req *q = &qs[i];

		call(q, NULL, 0);	/* the headers: *con_cls is NULL */
		for (size_t off = 0; !q->done && off < q->blen;
		     off += CHUNK)
			call(q, (const char *)q->body + off,
			     q->blen - off < CHUNK ? q->blen - off : CHUNK);
		if (!q->done)
			call(q, NULL, 0);	/* the end of the body */
		if (!q->done && !q->c.suspended) {
			fprintf(stderr, "fuzz_http: %s %s neither answered "
				"nor suspended\n", q->c.method, q->c.url);
			abort();
		}
	}
	do {
		H.resumed = false;
		commit_all();
		again = false;
		for (int i = 0; i < n; i++) {
			struct req *q = &qs[i];

			if (q->done || !q->c.resumed)
				continue;
			q->c.resumed = false;
			call(q, NULL, 0);
			if (!q->done)
				abort();	/* resumed: it must answer */
			again = true;
		}
	} while (again || H.resumed);
	for (int i = 0; i < n; i++) {
		struct req *q = &qs[i];

		if (!q->done) {
			fprintf(stderr, "fuzz_http: %s %s still suspended\n",
				qs[i].c.method, qs[i].c.url);
			abort();
		}
		check_answer(q);
		completed(NULL, &q->c, &q->c.con_cls,
			  MHD_REQUEST_TERMINATED_COMPLETED_OK);
		nedb_buf_free(&q->c.answer);
	}
	if (srv.busy)
		abort();
	for (struct dbent *e = srv.dbs; e; e = e->next)
		if (e->batch || e->waiters)
			abort();
}

/* ---- set-up ----------------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fuzz_setup("http", 16);
	srv.epfd = -1;
	fuzz_keep(DB);
	touch_all = true;	/* one database: a look at it is cheap */
	return 0;
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
	static const char sep[] = "\n--\n";
	struct req qs[MAX_REQS];
	int n = 0;

	if (size > MAX_SIZE)
		return 0;
	srv.token = mentions_auth(data, size) ? "fuzz-secret" : NULL;
	srv.token_len = srv.token ? strlen(srv.token) : 0;
	while (n < MAX_REQS) {
		const uint8_t *end = memmem(data, size, sep, sizeof sep - 1);
		size_t len = end ? (size_t)(end - data) : size;

		if (parse_req(&qs[n], data, len))
			n++;
		if (!end)
			break;
		data += len + sizeof sep - 1;
		size -= len + sizeof sep - 1;
	}
	run_turn(qs, n);
	fuzz_reset();
	return 0;
}
