/*
 * http.c - nedbd's HTTP/JSON front end (libmicrohttpd).
 *
 * libmicrohttpd runs in our loop (MHD_USE_EPOLL without a thread of its
 * own): main.c calls http_run() every turn.  A request's body is
 * gathered, then routed.  A write joins its database's batch (nedbd.h)
 * and its connection is suspended until the batch commits; a read first
 * commits any batch open on its database, so that it never shows an
 * unacknowledged write, and answers at once.  A write whose database's
 * writer lock another process holds is suspended too, in the lock's
 * queue, and routed again once the lock is free.
 *
 * Closed to strangers (see check_request, called once the headers are
 * in, before any of the body is read):
 *  - a Host header other than this server's names, when it listens on
 *    loopback (DNS rebinding), and an Origin that CORS does not allow,
 *    are refused (403); a POST whose Content-Type is not JSON is 415 (the
 *    types a page of another site may send without asking are not);
 *  - with a token, a /v1 request without it is answered 401 at once;
 *  - a body larger than NEDBD_MAX_BODY is answered 413 at once when the
 *    client waits for "100 Continue", else read and thrown away, so that
 *    the client, still sending, gets its answer;
 *  - a connection's request headers must be in NEDBD_TIMEOUT seconds
 *    after it opened (or its previous request ended), and when every
 *    slot is taken a new connection closes the oldest one still waiting
 *    for its headers (http_sweep, on_connection).
 *
 * Bodies are taken apart by the library's request layer
 * (lib/proto/request.h); this file is the transport: libmicrohttpd,
 * routes, status codes and the answers' bodies.
 *
 * Files (nedb-file(1)'s store) are the exception to "gathered, then
 * routed": a PUT of …/files/FILE begins its put as soon as its headers
 * are in (file_put_begin) and feeds the body to it piece by piece as
 * libmicrohttpd hands it over, so that no file is ever held whole and no
 * NEDBD_MAX_BODY applies; once the body is in, the version's op joins
 * the database's batch like any write (file_put_end).  A client that goes
 * away before that leaves no version (completed() aborts the put; its
 * chunks are garbage for nedb-file gc).  A GET of a file streams it
 * (MHD_create_response_from_callback), a checked chunk at a time.  While
 * either is under way its database stays open (dbent.files).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stddef.h>
#include <unistd.h>
#include <microhttpd.h>
#include "nedbd.h"
#include "request.h"

#define CLIENT "http"		/* client of writes that name none */
#define LOG_DEFAULT 50
#define LOG_MAX 10000
#define DETAIL_LOG 10
#define DRAIN_MAX (1ull << 30)	/* bytes of a refused body read at most */
#define SLACK 16		/* connections libmicrohttpd may hold past
				 * NEDBD_MAX_CONNECTIONS while we close some */

/* A connection, in H's list while it waits for a request's headers. */
struct hconn {
	int fd;
	int64_t since;			/* it began waiting */
	bool waiting;
	struct hconn *prev, *next;
};

struct hreq {
	struct waiter w;		/* first: see released() */
	struct MHD_Connection *conn;
	nedb_buf body;			/* the request body as sent */
	nedb_buf resp;			/* the response body */
	unsigned status;
	struct waiter lw;		/* on a writer lock */
	const char *acao;		/* Access-Control-Allow-Origin, or NULL */
	bool too_big;			/* the body is read and thrown away */
	uint64_t drained;		/* bytes of it */
	bool answered;			/* status and resp are set */
	bool ready;			/* resumed: send resp */
	bool again;			/* resumed from the lock: route again */
	bool created;			/* create_database made the database */
	const char *ctype;		/* a console file's type; NULL: JSON */
	bool drain;			/* answered before the body is in: it
					 * is read and thrown away */
	nedb_file_put *fput;		/* PUT files/FILE: fed the body */
	struct dbent *fdb;		/* the database fput holds (files) */
	struct MHD_Response *stream;	/* GET files/FILE: the answer */
};

static struct {
	int kind;			/* EV_HTTP */
	struct MHD_Daemon *d;
	int fd;
	unsigned port;
	bool resumed;			/* connections to finish by MHD_run */
	unsigned nconns;
	struct hconn *wait, *wait_last;	/* waiting for headers, oldest first */
} H = {EV_HTTP, NULL, -1, 0, false, 0, NULL, NULL};

/* ---- responses ------------------------------------------------------------ */

static unsigned
status_of(int rc)
{
	switch (rc) {
	case NEDB_ENOTFOUND: return MHD_HTTP_NOT_FOUND;
	case NEDB_EUSAGE:
	case NEDB_EINPUT: return MHD_HTTP_BAD_REQUEST;
	case NEDB_EREJECTED: return MHD_HTTP_CONFLICT;
	case NEDB_EBUSY: return MHD_HTTP_SERVICE_UNAVAILABLE;
	default: return MHD_HTTP_INTERNAL_SERVER_ERROR;
	}
}

__attribute__((format(printf, 3, 4)))
static void
fail(struct hreq *h, unsigned status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	h->resp.len = 0;
	nedb_buf_puts(&h->resp, "{\"error\":");
	nedb_buf_json_str(&h->resp, msg, strlen(msg));
	nedb_buf_puts(&h->resp, "}\n");
	h->status = status;
	h->answered = true;
}

static void
fail_db(struct hreq *h, int rc)
{
	fail(h, status_of(rc), "%s", nedb_errmsg());
}

/* Ends the JSON being built in resp: a newline, status 200. */
static void
ok(struct hreq *h, unsigned status)
{
	nedb_buf_puts(&h->resp, "\n");
	h->status = status;
	h->answered = true;
}

static bool cors_listed(const char *s);

/* The CORS headers: only for an origin that may call (h->acao). */
static void
cors(struct hreq *h, struct MHD_Response *r)
{
	/* the answer depends on the Origin when only some may call */
	if (srv.cors && !cors_listed("*"))
		MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Origin");
	if (!h->acao)
		return;
	MHD_add_response_header(r, "Access-Control-Allow-Origin", h->acao);
	MHD_add_response_header(r, "Access-Control-Allow-Methods",
				"GET, POST, PUT, DELETE, OPTIONS");
	MHD_add_response_header(r, "Access-Control-Allow-Headers",
				"Authorization, Content-Type");
	MHD_add_response_header(r, "Access-Control-Max-Age", "86400");
}

static enum MHD_Result
send_resp(struct hreq *h)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (h->stream) {
		/* a file's bytes (file_get): the response is made */
		r = h->stream;
		h->stream = NULL;
		cors(h, r);
		if (h->acao)
			MHD_add_response_header(r, "Access-Control-Expose-"
						"Headers", "X-Nedb-Version, "
						"X-Nedb-Seq, X-Nedb-Root");
		ret = MHD_queue_response(h->conn, h->status, r);
		MHD_destroy_response(r);
		return ret;
	}
	r = MHD_create_response_from_buffer(h->resp.len, h->resp.p,
					    MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	cors(h, r);
	if (h->ctype) {
		/* the console: its own files only, never in a frame */
		MHD_add_response_header(r, "Content-Type", h->ctype);
		MHD_add_response_header(r, "Content-Security-Policy",
					"default-src 'self'; "
					"frame-ancestors 'none'; "
					"base-uri 'none'; form-action 'self'");
		MHD_add_response_header(r, "X-Content-Type-Options",
					"nosniff");
		MHD_add_response_header(r, "X-Frame-Options", "DENY");
		MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
		MHD_add_response_header(r, "Cache-Control", "no-cache");
	} else if (h->resp.len)
		MHD_add_response_header(r, "Content-Type",
					"application/json");
	if (h->status == MHD_HTTP_UNAUTHORIZED)
		MHD_add_response_header(r, "WWW-Authenticate",
					"Bearer realm=\"nedbd\"");
	ret = MHD_queue_response(h->conn, h->status, r);
	MHD_destroy_response(r);
	return ret;
}

/* The batch a write joined has ended: send its answer. */
static void
released(struct waiter *w, int rc)
{
	struct hreq *h = (struct hreq *)w;

	if (rc < 0)
		fail(h, status_of(rc) == MHD_HTTP_NOT_FOUND ?
		     MHD_HTTP_INTERNAL_SERVER_ERROR : status_of(rc),
		     "write failed, nothing committed: %s", nedb_errmsg());
	h->ready = true;
	MHD_resume_connection(h->conn);
	H.resumed = true;
}

/* Holds the answer of a write until e's batch commits. */
static void
hold(struct hreq *h, struct dbent *e)
{
	batch_wait(e, &h->w);
}

/* The writer lock h waited for is free (or waiting failed): route again. */
static void
lock_ready(struct waiter *w, int rc)
{
	struct hreq *h = (struct hreq *)((char *)w -
					 offsetof(struct hreq, lw));

	if (rc < 0) {
		fail(h, MHD_HTTP_SERVICE_UNAVAILABLE, "database is locked by "
		     "another writer");
		h->ready = true;
	} else
		h->again = true;
	MHD_resume_connection(h->conn);
	H.resumed = true;
}

/* ---- request bodies ------------------------------------------------------- */

/*
 * Takes h's body apart as a request of kind (request.h); false with an
 * answer when it is bad (400, whatever the reason, as ever).  Writes
 * that name no client are the client "http".
 */
static bool
parse_body(struct hreq *h, nedb_request *r, int kind)
{
	if (nedb_request_parse(r, kind, h->body.p, h->body.len)) {
		fail(h, MHD_HTTP_BAD_REQUEST, "%s", r->error);
		return false;
	}
	if (!r->w.client)
		r->w.client = CLIENT;
	return true;
}

/* ---- databases ------------------------------------------------------------ */

/* The database name of a route, open; NULL with an answer. */
static struct dbent *
route_db(struct hreq *h, const char *name)
{
	struct dbent *e;
	int rc;

	if ((rc = nedb_check_dbname(name, strlen(name)))) {
		fail_db(h, rc);
		return NULL;
	}
	if ((rc = db_get(name, false, &e))) {
		if (rc == NEDB_ENOTFOUND)
			fail(h, MHD_HTTP_NOT_FOUND, "no such database '%s'",
			     name);
		else
			fail_db(h, rc);
		return NULL;
	}
	return e;
}

/* A read of e: no batch may be open on it (its writes are unacknowledged). */
static void
settle(struct dbent *e)
{
	if (e->batch)
		commit_all();
}

/* The collections as {"C":N,...} and their total, in one walk. */
struct colls {
	nedb_buf map;
	uint64_t rows;
};

static int
add_coll(const char *coll, uint64_t count, void *payload)
{
	struct colls *c = payload;

	nedb_buf_puts(&c->map, c->map.len ? "," : "{");
	nedb_buf_json_str(&c->map, coll, strlen(coll));
	c->rows += count;
	return nedb_buf_printf(&c->map, ":%llu", (unsigned long long)count);
}

static int
add_line(uint64_t seq, const char *line, size_t len, void *payload)
{
	nedb_buf *b = payload;

	if (b->p[b->len - 1] != '[')
		nedb_buf_puts(b, ",");
	nedb_buf_add(b, line, len);
	return 0;
}

/*
 * Appends "name","seq","head","rows","collections":{...} (members of the
 * object being built) for e, in a read snapshot of the caller's.
 */
static int
summary(nedb_buf *b, struct dbent *e)
{
	struct colls c = {{0}, 0};
	uint64_t seq;
	char head[65];
	int rc;

	if ((rc = nedb_head(e->db, &seq, head)) ||
	    (rc = nedb_collections(e->db, add_coll, &c)))
		goto done;
	nedb_buf_puts(b, "\"name\":");
	nedb_buf_json_str(b, e->name, strlen(e->name));
	nedb_buf_printf(b, ",\"seq\":%llu,\"head\":\"%s\",\"rows\":%llu,"
			"\"collections\":", (unsigned long long)seq, head,
			(unsigned long long)c.rows);
	if (c.map.len)
		nedb_buf_add(b, c.map.p, c.map.len);
	nedb_buf_puts(b, c.map.len ? "}" : "{}");
done:
	nedb_buf_free(&c.map);
	return rc;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
list_databases(struct hreq *h)
{
	DIR *d = opendir(srv.data);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, listed;

	if (!d) {
		fail(h, 500, "cannot read '%s': %s", srv.data,
		     strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		char **more;

		if (nedb_check_dbname(de->d_name, strlen(de->d_name)))
			continue;
		if (!(more = realloc(names, (n + 1) * sizeof *names)) ||
		    !(more[n] = strdup(de->d_name))) {
			names = more ? more : names;
			break;
		}
		names = more;
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_names);
	listed = n;
	nedb_buf_puts(&h->resp, "{\"databases\":[");
	for (size_t i = 0; i < n; i++) {
		struct dbent *e;
		int rc;

		/* not a database (no log.aof), went away, or damaged */
		if (db_get(names[i], false, &e)) {
			listed--;
			continue;
		}
		settle(e);
		if (h->resp.p[h->resp.len - 1] != '[')
			nedb_buf_puts(&h->resp, ",");
		nedb_buf_puts(&h->resp, "{");
		if ((rc = nedb_read_begin(e->db)) ||
		    (rc = summary(&h->resp, e))) {
			nedb_read_end(e->db);
			fail_db(h, rc);
			goto done;
		}
		nedb_read_end(e->db);
		nedb_buf_puts(&h->resp, "}");
	}
	nedb_buf_printf(&h->resp, "],\"count\":%zu}", listed);
	ok(h, MHD_HTTP_OK);
done:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/*
 * What the list says of e and more, all of it cheap: no walk of the
 * chain here, on the loop (GET .../verify does that).
 */
static void
show_database(struct hreq *h, struct dbent *e)
{
	nedb_stats st;
	uint64_t from;
	int rc;

	settle(e);
	if ((rc = nedb_read_begin(e->db)))
		goto bad;
	nedb_buf_puts(&h->resp, "{");
	if ((rc = summary(&h->resp, e)) ||
	    (rc = nedb_stats_get(e->db, &st)))
		goto bad;
	nedb_buf_puts(&h->resp, ",\"indexes\":[");
	if ((rc = nedb_indexes_json(e->db, ",", &h->resp)))
		goto bad;
	nedb_buf_printf(&h->resp, "],\"log_bytes\":%llu,\"view_bytes\":%llu,"
			"\"checkpoint\":", (unsigned long long)st.log_bytes,
			(unsigned long long)st.view_bytes);
	if (st.has_checkpoint)
		nedb_buf_printf(&h->resp, "%llu",
				(unsigned long long)st.checkpoint);
	else
		nedb_buf_puts(&h->resp, "null");
	nedb_buf_puts(&h->resp, ",\"log\":[");
	from = st.seq >= DETAIL_LOG ? st.seq - DETAIL_LOG + 1 : 0;
	if ((rc = nedb_log_scan(e->db, from, st.seq, 1, add_line, &h->resp)))
		goto bad;
	nedb_read_end(e->db);
	nedb_buf_puts(&h->resp, "]}");
	ok(h, MHD_HTTP_OK);
	return;
bad:
	nedb_read_end(e->db);
	fail_db(h, rc);
}

/* ---- writes --------------------------------------------------------------- */

/* A write's error: input errors leave the batch usable, others void it. */
static void
write_failed(struct hreq *h, struct dbent *e, int rc)
{
	fail_db(h, rc);
	if (rc == NEDB_EIO || rc == NEDB_ECORRUPT || rc == NEDB_EBUSY ||
	    rc == NEDB_EKEY)
		batch_fail(e, rc);
}

/*
 * Opens e's batch for a write of h.  False when h must wait for the
 * writer lock, which another process holds (h is then suspended, and
 * routed again once the lock is free: lock_ready), or with an answer.
 */
static bool
join(struct hreq *h, struct dbent *e)
{
	int rc = batch_join(e);

	if (rc == NEDB_EBUSY)
		lock_wait(e, &h->lw);
	else if (rc)
		write_failed(h, e, rc);
	return rc == 0;
}

/* A write's receipt, rendered into the response, as the answer. */
static void
answer_receipt(struct hreq *h, const nedb_receipt *receipt)
{
	nedb_receipt_json(&h->resp, receipt, 0);
	ok(h, MHD_HTTP_OK);
}

static void
create_database(struct hreq *h)
{
	nedb_request r;
	struct dbent *e;
	uint64_t seq;
	char head[65];
	int rc;

	if (!parse_body(h, &r, NEDB_REQUEST_CREATE))
		goto done;
	/* (made by this request, which waited for its lock: go on) */
	rc = db_get(r.name, false, &e);
	if (rc == 0 && !h->created) {
		fail(h, MHD_HTTP_CONFLICT, "database '%s' exists", r.name);
		goto done;
	}
	if (rc == NEDB_ENOTFOUND)
		rc = db_get(r.name, true, &e);
	if (rc) {
		fail_db(h, rc);
		goto done;
	}
	h->created = true;
	if (r.init) {
		if ((rc = batch_join(e)) == NEDB_EBUSY) {
			lock_wait(e, &h->lw);
			goto done;
		}
		if (rc) {
			fail_db(h, rc);
			goto undo;
		}
		if ((rc = nedb_request_stage(&r, e->db, NULL))) {
			fail(h, status_of(rc), "%s", r.error);
			/* all of init or nothing: the database goes too */
			batch_fail(e, NEDB_EINPUT);
			goto undo;
		}
		hold(h, e);
	}
	if ((rc = nedb_head(e->db, &seq, head))) {
		fail_db(h, rc);
		goto done;
	}
	nedb_buf_puts(&h->resp, "{\"ok\":true,\"name\":");
	nedb_buf_json_str(&h->resp, r.name, strlen(r.name));
	nedb_buf_printf(&h->resp, ",\"seq\":%llu,\"head\":\"%s\"}",
			(unsigned long long)seq, head);
	ok(h, MHD_HTTP_CREATED);
	goto done;
undo:
	db_drop(e);
done:
	nedb_request_free(&r);
}

static void
drop_database(struct hreq *h, struct dbent *e)
{
	char name[65];
	int rc;

	if (e->files) {
		fail(h, MHD_HTTP_SERVICE_UNAVAILABLE, "database '%s' has file "
		     "transfers under way", e->name);
		return;
	}
	settle(e);
	strcpy(name, e->name);
	resp_forget_db(e);
	if ((rc = db_drop(e))) {
		fail_db(h, rc);
		return;
	}
	nedb_buf_puts(&h->resp, "{\"ok\":true,\"name\":");
	nedb_buf_json_str(&h->resp, name, strlen(name));
	nedb_buf_puts(&h->resp, ",\"deleted\":true}");
	ok(h, MHD_HTTP_OK);
}

/* POST put, index or link: the body's op joins the batch. */
static void
write_route(struct hreq *h, struct dbent *e, int kind)
{
	nedb_request r;
	nedb_receipt receipt;
	int rc;

	if (!parse_body(h, &r, kind) || !join(h, e))
		goto done;
	if ((rc = nedb_request_stage(&r, e->db, &receipt))) {
		write_failed(h, e, rc);
		goto done;
	}
	hold(h, e);
	answer_receipt(h, &receipt);
done:
	nedb_request_free(&r);
}

static void
delete_row(struct hreq *h, struct dbent *e, const char *coll,
	   const char *id)
{
	nedb_receipt receipt;
	nedb_wopts w = {.client = CLIENT};
	int rc;

	if ((rc = nedb_check_coll(coll)) ||
	    (rc = nedb_check_id(id, strlen(id)))) {
		fail_db(h, rc);
		return;
	}
	if (!join(h, e))
		;
	else if ((rc = nedb_write_delete(e->db, coll, id, &w, &receipt)))
		write_failed(h, e, rc);
	else {
		hold(h, e);
		answer_receipt(h, &receipt);
	}
}

static void
checkpoint_route(struct hreq *h, struct dbent *e)
{
	nedb_receipt receipt;
	int rc;

	if (!join(h, e))
		return;
	if ((rc = nedb_write_checkpoint(e->db, &receipt))) {
		write_failed(h, e, rc);
		return;
	}
	hold(h, e);
	nedb_buf_printf(&h->resp, "{\"ok\":true,\"seq\":%llu,"
			"\"head\":\"%s\"}", (unsigned long long)receipt.seq,
			receipt.hash);
	ok(h, MHD_HTTP_OK);
}

/* ---- reads ---------------------------------------------------------------- */

struct rows {
	nedb_buf *b;
	uint64_t n;
};

static int
add_row(const char *json, size_t len, void *payload)
{
	struct rows *r = payload;

	if (r->n++)
		nedb_buf_puts(r->b, ",");
	return nedb_buf_add(r->b, json, len);
}

/*
 * ?verify=1 (or 0): whether the documents a read returns are checked
 * against their ops in the log (nedb_set_read_verify).  False with an
 * answer when the argument is bad.
 */
static bool
bool_arg(struct hreq *h, const char *name, bool *on)
{
	const char *v = MHD_lookup_connection_value(h->conn,
						    MHD_GET_ARGUMENT_KIND,
						    name);

	if (!v)
		return true;
	if (!strcmp(v, "1") || !strcmp(v, "true") || !*v)
		*on = true;
	else if (!strcmp(v, "0") || !strcmp(v, "false"))
		*on = false;
	else {
		fail(h, 400, "bad %s '%.40s': want 1 or 0", name, v);
		return false;
	}
	return true;
}

static void
query_route(struct hreq *h, struct dbent *e)
{
	struct rows r = {&h->resp, 0};
	nedb_request q;
	uint64_t seq;
	char head[65];
	bool verify;
	int rc;

	if (!parse_body(h, &q, NEDB_REQUEST_QUERY))
		goto done;
	verify = q.verify;
	if (!bool_arg(h, "verify", &verify))
		goto done;
	settle(e);
	nedb_buf_puts(&h->resp, "{\"rows\":[");
	nedb_set_read_verify(e->db, verify);
	if ((rc = nedb_read_begin(e->db)) ||
	    (rc = nedb_head(e->db, &seq, head)) ||
	    (rc = nedb_query(e->db, q.nql, q.explain ? NEDB_QUERY_EXPLAIN : 0,
			     add_row, &r))) {
		nedb_set_read_verify(e->db, 0);
		nedb_read_end(e->db);
		fail_db(h, rc);
		goto done;
	}
	nedb_set_read_verify(e->db, 0);
	nedb_read_end(e->db);
	nedb_buf_printf(&h->resp, "],\"count\":%llu,\"seq\":%llu,"
			"\"head\":\"%s\"}", (unsigned long long)r.n,
			(unsigned long long)seq, head);
	ok(h, MHD_HTTP_OK);
done:
	nedb_request_free(&q);
}

/* One version of ?history=1, as an element of "versions". */
static int
add_version(const nedb_doc *v, const char *op, void *payload)
{
	struct rows *r = payload;

	nedb_buf_printf(r->b, "%s{\"seq\":%llu,\"ts\":%lld,\"op\":",
			r->n++ ? "," : "", (unsigned long long)v->seq,
			(long long)v->ts);
	nedb_buf_json_str(r->b, op, strlen(op));
	nedb_buf_printf(r->b, ",\"hash\":\"%s\",\"doc\":", v->hash);
	if (v->doc)
		nedb_buf_add(r->b, v->doc, v->len);
	else
		nedb_buf_puts(r->b, "null");
	nedb_buf_puts(r->b, "}");
	return 0;
}

/* GET rows/COLL/ID?history=1: every version, oldest first (nedb-get
 * --history), and the head it was read at. */
static void
get_history(struct hreq *h, struct dbent *e, const char *coll,
	    const char *id, bool verify)
{
	struct rows r = {&h->resp, 0};
	uint64_t seq;
	char head[65];
	int rc;

	settle(e);
	nedb_set_read_verify(e->db, verify);
	nedb_buf_puts(&h->resp, "{\"versions\":[");
	if ((rc = nedb_read_begin(e->db)) == 0 &&
	    (rc = nedb_head(e->db, &seq, head)) == 0)
		rc = nedb_history(e->db, coll, id, add_version, &r);
	nedb_set_read_verify(e->db, 0);
	nedb_read_end(e->db);
	if (rc == NEDB_ENOTFOUND)
		fail(h, MHD_HTTP_NOT_FOUND, "no document '%s' in '%s', ever",
		     id, coll);
	else if (rc)
		fail_db(h, rc);
	else {
		nedb_buf_printf(&h->resp, "],\"count\":%llu,\"seq\":%llu,"
				"\"head\":\"%s\"}", (unsigned long long)r.n,
				(unsigned long long)seq, head);
		ok(h, MHD_HTTP_OK);
	}
}

/* Whether sql's first statement only reads: SELECT, VALUES or EXPLAIN
 * first, after blanks and comments. */
static bool
sql_reads(const char *p)
{
	static const char *const kw[] = {"select", "values", "explain"};

	for (;;) {
		p += strspn(p, " \t\r\n\f\v");
		if (p[0] == '-' && p[1] == '-')
			p += strcspn(p, "\n");
		else if (p[0] == '/' && p[1] == '*') {
			const char *end = strstr(p + 2, "*/");

			if (!end)
				return false;
			p = end + 2;
		} else
			break;
	}
	for (size_t i = 0; i < sizeof kw / sizeof *kw; i++) {
		size_t n = strlen(kw[i]);

		if (!strncasecmp(p, kw[i], n) && !isalnum((unsigned char)p[n]) &&
		    p[n] != '_')
			return true;
	}
	return false;
}

static int
add_sql_row(const nedb_sql_row *row, void *payload)
{
	struct rows *r = payload;

	if (r->n++)
		nedb_buf_puts(r->b, ",");
	return nedb_sql_row_json(r->b, row);
}

/*
 * POST /sql {"sql":"SELECT ..."}: one statement that reads, run as
 * nedb-sql(1) runs it, answered in the query route's shape.  Writes are
 * for nedb-sql and the write routes: SQL's own transactions would wait
 * for the writer lock inside the loop.
 */
static void
sql_route(struct hreq *h, struct dbent *e)
{
	struct rows r = {&h->resp, 0};
	nedb_request q;
	uint64_t seq;
	char head[65];
	size_t pos = 0;
	bool verify;
	int rc;

	if (!parse_body(h, &q, NEDB_REQUEST_SQL))
		goto done;
	verify = q.verify;
	if (!bool_arg(h, "verify", &verify))
		goto done;
	if (!sql_reads(q.nql)) {
		fail(h, MHD_HTTP_BAD_REQUEST, "only SELECT, VALUES and EXPLAIN "
		     "are served here: write with nedb-sql(1) or the write "
		     "routes");
		goto done;
	}
	settle(e);
	nedb_buf_puts(&h->resp, "{\"rows\":[");
	nedb_set_read_verify(e->db, verify);
	if ((rc = nedb_read_begin(e->db)) == 0 &&
	    (rc = nedb_head(e->db, &seq, head)) == 0)
		rc = nedb_sql(e->db, q.nql, &pos, add_sql_row, &r);
	nedb_set_read_verify(e->db, 0);
	nedb_read_end(e->db);
	if (rc) {
		fail_db(h, rc);
		goto done;
	}
	if (q.nql[pos + strspn(q.nql + pos, " \t\r\n;")]) {
		fail(h, MHD_HTTP_BAD_REQUEST, "one statement per request");
		goto done;
	}
	nedb_buf_printf(&h->resp, "],\"count\":%llu,\"seq\":%llu,"
			"\"head\":\"%s\"}", (unsigned long long)r.n,
			(unsigned long long)seq, head);
	ok(h, MHD_HTTP_OK);
done:
	nedb_request_free(&q);
}

/* GET rows/COLL/ID: the document, as nedb-get prints it. */
static void
get_row(struct hreq *h, struct dbent *e, const char *coll, const char *id)
{
	bool verify = false, history = false;
	nedb_doc d;
	int rc;

	if (!bool_arg(h, "verify", &verify) ||
	    !bool_arg(h, "history", &history))
		return;
	if ((rc = nedb_check_coll(coll)) ||
	    (rc = nedb_check_id(id, strlen(id)))) {
		fail_db(h, rc);
		return;
	}
	if (history)
		return get_history(h, e, coll, id, verify);
	settle(e);
	nedb_set_read_verify(e->db, verify);
	if ((rc = nedb_read_begin(e->db)) == 0 &&
	    (rc = nedb_get(e->db, coll, id, NEDB_HEAD, &d)) == 0)
		nedb_buf_add(&h->resp, d.doc, d.len);	/* before read_end */
	nedb_set_read_verify(e->db, 0);
	nedb_read_end(e->db);
	if (rc == NEDB_ENOTFOUND)
		fail(h, MHD_HTTP_NOT_FOUND, "no document '%s' in '%s'", id,
		     coll);
	else if (rc)
		fail_db(h, rc);
	else
		ok(h, MHD_HTTP_OK);
}

static void
verify_route(struct hreq *h, struct dbent *e)
{
	nedb_verify_result v;
	int rc;

	settle(e);
	if ((rc = nedb_verify(e->db, 0, &v))) {
		fail_db(h, rc);
		return;
	}
	nedb_buf_printf(&h->resp, "{\"ok\":%s,\"seq\":%llu,\"head\":\"%s\"",
			v.ok ? "true" : "false", (unsigned long long)v.seq,
			v.head);
	if (!v.ok) {
		nedb_buf_puts(&h->resp, ",\"error\":");
		nedb_buf_json_str(&h->resp, v.error, strlen(v.error));
	}
	nedb_buf_puts(&h->resp, "}");
	ok(h, MHD_HTTP_OK);
}

static void
log_route(struct hreq *h, struct dbent *e)
{
	const char *arg = MHD_lookup_connection_value(
		h->conn, MHD_GET_ARGUMENT_KIND, "limit");
	unsigned long long limit = LOG_DEFAULT;
	uint64_t seq, from;
	int rc;

	if (arg) {
		char *end;

		errno = 0;
		limit = strtoull(arg, &end, 10);
		if (*arg < '0' || *arg > '9' || errno || *end ||
		    limit > LOG_MAX) {
			fail(h, 400, "bad limit '%.40s': want 0 to %d", arg,
			     LOG_MAX);
			return;
		}
	}
	settle(e);
	nedb_buf_puts(&h->resp, "{\"entries\":[");
	if ((rc = nedb_read_begin(e->db)) ||
	    (rc = nedb_head(e->db, &seq, NULL)))
		goto bad;
	from = seq + 1 >= limit ? seq + 1 - limit : 0;
	if (limit && (rc = nedb_log_scan(e->db, from, seq, 1, add_line,
					 &h->resp)))
		goto bad;
	nedb_read_end(e->db);
	nedb_buf_printf(&h->resp, "],\"count\":%llu,\"seq\":%llu}",
			limit ? (unsigned long long)(seq + 1 - from) : 0ull,
			(unsigned long long)seq);
	ok(h, MHD_HTTP_OK);
	return;
bad:
	nedb_read_end(e->db);
	fail_db(h, rc);
}

/*
 * A number argument of a GET (seq, size, old, new): false with an answer
 * when it is missing (and required) or not a number.  *v keeps its value
 * when the argument is absent and optional.
 */
static bool
num_arg(struct hreq *h, const char *name, bool need, uint64_t *v)
{
	const char *a = MHD_lookup_connection_value(h->conn,
						    MHD_GET_ARGUMENT_KIND,
						    name);
	unsigned long long n;
	char *end;

	if (!a) {
		if (need)
			fail(h, 400, "missing %s: want ?%s=N", name, name);
		return !need;
	}
	errno = 0;
	n = strtoull(a, &end, 10);
	if (*a < '0' || *a > '9' || errno || *end || n == UINT64_MAX) {
		fail(h, 400, "bad %s '%.40s': want a number", name, a);
		return false;
	}
	*v = n;
	return true;
}

/*
 * GET …/proof/inclusion?seq=S[&size=N] and …/proof/consistency?old=M&new=N:
 * the JSON nedb-proof prints (SPEC §9).
 */
static void
proof_route(struct hreq *h, struct dbent *e, const char *kind)
{
	uint64_t a = 0, b = NEDB_HEAD;
	nedb_proof p = {0};
	bool incl = !strcmp(kind, "inclusion");
	int rc;

	if (!incl && strcmp(kind, "consistency")) {
		fail(h, MHD_HTTP_NOT_FOUND, "no proof '%.40s': want inclusion "
		     "or consistency", kind);
		return;
	}
	if (!(incl ? num_arg(h, "seq", true, &a) &&
		     num_arg(h, "size", false, &b) :
		     num_arg(h, "old", true, &a) &&
		     num_arg(h, "new", true, &b)))
		return;
	settle(e);
	if ((rc = nedb_read_begin(e->db)))
		goto bad;
	rc = incl ? nedb_prove_inclusion(e->db, a, b, &p) :
		    nedb_prove_consistency(e->db, a, b, &p);
	nedb_read_end(e->db);
	if (rc || (rc = nedb_proof_json(&h->resp, &p)))
		goto bad;
	nedb_proof_free(&p);
	ok(h, MHD_HTTP_OK);
	return;
bad:
	nedb_proof_free(&p);
	h->resp.len = 0;
	fail_db(h, rc);
}

/* GET …/checkpoint: the latest signed checkpoint, {"note":"<text>"}. */
static void
note_route(struct hreq *h, struct dbent *e)
{
	nedb_buf note = {0};
	int rc;

	settle(e);
	if ((rc = nedb_tree_note(e->db, &note))) {
		nedb_buf_free(&note);
		fail_db(h, rc);
		return;
	}
	nedb_buf_puts(&h->resp, "{\"note\":");
	nedb_buf_json_str(&h->resp, note.p, note.len);
	nedb_buf_puts(&h->resp, "}");
	nedb_buf_free(&note);
	ok(h, MHD_HTTP_OK);
}

/* ---- files ---------------------------------------------------------------- */

static const char *header(struct hreq *h, const char *name);
static void method_not_allowed(struct hreq *h, const char *method,
			       const char *url);
static int split_path(const char *url, char *buf, size_t size, char **seg,
		      int max);

/* Whether url is /v1/databases/NAME/files/FILE (FILE: the rest of it). */
static bool
file_url(const char *url)
{
	char buf[2048], *s[5];

	if (strlen(url) >= sizeof buf)
		return false;
	return split_path(url, buf, sizeof buf, s, 5) == 5 &&
	       !strcmp(s[0], "v1") && !strcmp(s[1], "databases") &&
	       !strcmp(s[3], "files");
}

/*
 * A file put that cannot begin is answered: at once to a client that
 * waits for "100 Continue" (it sends nothing more), else once its body
 * is in, read and thrown away (as a body too large for NEDBD_MAX_BODY),
 * so that a client still sending gets the answer and not a reset.  The
 * value is check_request's: false when the answer goes now.
 */
static bool
refuse(struct hreq *h)
{
	const char *x = header(h, MHD_HTTP_HEADER_EXPECT);

	if (x && !strcasecmp(x, "100-continue"))
		return false;
	h->drain = true;
	return true;
}

/*
 * PUT …/files/FILE, once its headers are in: the database found and held
 * open (dbent.files) and the put begun, so that handle() feeds it the
 * body as it comes.  A bad name, or no such database, is answered
 * (refuse) without a byte of the body stored.
 */
static bool
file_put_begin(struct hreq *h, const char *url)
{
	nedb_file_put_opts po = {0};
	char buf[2048], *s[5];
	struct dbent *e;
	int rc;

	split_path(url, buf, sizeof buf, s, 5);
	if (!(e = route_db(h, s[2])))
		return refuse(h);
	po.w.client = CLIENT;
	if ((rc = nedb_file_put_begin(e->db, s[4], &po, &h->fput))) {
		fail_db(h, rc);
		return refuse(h);
	}
	h->fdb = e;
	e->files++;
	return true;
}

/* A piece of the body of a file put; a failed write is answered, and the
 * rest of the body is thrown away. */
static void
file_put_data(struct hreq *h, const char *data, size_t n)
{
	int rc;

	if ((rc = nedb_file_put_write(h->fput, data, n))) {
		fail_db(h, rc);
		nedb_file_put_abort(h->fput);
		h->fput = NULL;
		h->drain = true;
	}
}

/*
 * The body of a file put is in: its last chunks and manifest are stored,
 * and its op joins the database's batch (waiting for the writer lock as
 * any write); answered with nedb-file put's line once the batch commits.
 */
static void
file_put_end(struct hreq *h, struct dbent *e)
{
	nedb_file_version v;
	uint64_t added;
	int rc;

	if (!h->fput || h->fdb != e) {
		fail(h, MHD_HTTP_INTERNAL_SERVER_ERROR, "no file put under way");
		return;
	}
	if (!join(h, e))
		return;		/* waits for the lock, or answered */
	rc = nedb_file_put_stage(h->fput, &v, &added);
	h->fput = NULL;
	if (rc) {
		write_failed(h, e, rc);
		return;
	}
	hold(h, e);
	nedb_file_put_json(&h->resp, &v, added);
	ok(h, MHD_HTTP_OK);
}

/* A version's bytes on their way out: its reader, the chunk being sent. */
struct fstream {
	nedb_file_reader *rd;
	struct dbent *e;		/* held open (files) */
	const char *p;
	size_t n, off;
	bool end;			/* read and checked to the end */
};

/* The next chunk into f, or its end (the whole checked). */
static int
fstream_fill(struct fstream *f)
{
	const void *p;
	size_t n;
	int rc;

	if ((rc = nedb_file_reader_next(f->rd, &p, &n)))
		return rc;
	f->p = p;
	f->n = n;
	f->off = 0;
	f->end = n == 0;
	return 0;
}

/*
 * libmicrohttpd's reader of a file's answer.  A chunk is always read (and
 * checked) ahead, so that the last bytes go out only after the end of
 * the version was checked too.  A chunk that does not read back cuts the
 * answer short (the connection closes before Content-Length bytes): a
 * client never takes wrong bytes for the file.
 */
static ssize_t
fstream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct fstream *f = cls;
	size_t n = 0;

	while (n < max && !f->end) {
		size_t take = f->n - f->off;

		if (take > max - n)
			take = max - n;
		memcpy(buf + n, f->p + f->off, take);
		f->off += take;
		n += take;
		if (f->off == f->n && fstream_fill(f)) {
			fprintf(stderr, "nedbd: http: %s: answer cut short\n",
				nedb_errmsg());
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
	}
	return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
}

static void
fstream_free(void *cls)
{
	struct fstream *f = cls;

	nedb_file_reader_close(f->rd);
	f->e->files--;
	free(f);
}

/*
 * GET …/files/FILE[?version=V][&as_of=SEQ]: the version's bytes, streamed
 * (application/octet-stream, Content-Length its size), its number, op and
 * root in X-Nedb-* headers.  The first chunk is read before the answer
 * is made, so that a version whose store is damaged there is a 500 with
 * the error; later damage cuts the answer short (fstream_read).
 */
static void
file_get(struct hreq *h, struct dbent *e, const char *name)
{
	uint64_t version = 0, as_of = NEDB_HEAD;
	struct fstream *f = NULL;
	struct MHD_Response *r;
	nedb_file_version v;
	char num[24], root[65];
	int rc;

	if (!num_arg(h, "version", false, &version) ||
	    !num_arg(h, "as_of", false, &as_of))
		return;
	if (!version && MHD_lookup_connection_value(h->conn,
						    MHD_GET_ARGUMENT_KIND,
						    "version")) {
		fail(h, 400, "bad version '0': versions count from 1");
		return;
	}
	settle(e);
	if ((rc = nedb_file_stat(e->db, name, version, as_of, &v)))
		goto bad;
	f = calloc(1, sizeof *f);
	if (!f) {
		fail(h, 500, "out of memory");
		return;
	}
	if ((rc = nedb_file_reader_open(e->db, &v, &f->rd)) ||
	    (rc = fstream_fill(f)))
		goto bad;
	f->e = e;
	r = MHD_create_response_from_callback(v.size, 64 * 1024, fstream_read,
					      f, fstream_free);
	if (!r) {
		nedb_file_reader_close(f->rd);
		free(f);
		fail(h, 500, "out of memory");
		return;
	}
	e->files++;
	MHD_add_response_header(r, "Content-Type", "application/octet-stream");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	snprintf(num, sizeof num, "%llu", (unsigned long long)v.version);
	MHD_add_response_header(r, "X-Nedb-Version", num);
	snprintf(num, sizeof num, "%llu", (unsigned long long)v.seq);
	MHD_add_response_header(r, "X-Nedb-Seq", num);
	for (int i = 0; i < 32; i++)
		snprintf(root + 2 * i, 3, "%02x", v.root[i]);
	MHD_add_response_header(r, "X-Nedb-Root", root);
	h->stream = r;
	h->status = MHD_HTTP_OK;
	h->answered = true;
	return;
bad:
	if (f) {
		nedb_file_reader_close(f->rd);
		free(f);
	}
	fail_db(h, rc);
}

static int
add_file(const nedb_file_version *v, void *payload)
{
	struct rows *r = payload;

	if (r->n++)
		nedb_buf_puts(r->b, ",");
	return nedb_file_version_json(r->b, v, 0);
}

/*
 * GET …/files[?name=FILE][&as_of=SEQ]: nedb-file ls: the latest version
 * of every file, or every version of FILE, and the head they were read
 * at.
 */
static void
file_list(struct hreq *h, struct dbent *e)
{
	struct rows r = {&h->resp, 0};
	const char *name = MHD_lookup_connection_value(h->conn,
						       MHD_GET_ARGUMENT_KIND,
						       "name");
	uint64_t as_of = NEDB_HEAD, seq;
	char head[65];
	int rc;

	if (!num_arg(h, "as_of", false, &as_of))
		return;
	settle(e);
	nedb_buf_puts(&h->resp, "{\"files\":[");
	if ((rc = nedb_read_begin(e->db)) == 0 &&
	    (rc = nedb_head(e->db, &seq, head)) == 0)
		rc = nedb_file_list(e->db, name, as_of, add_file, &r);
	nedb_read_end(e->db);
	if (rc) {
		h->resp.len = 0;
		fail_db(h, rc);
		return;
	}
	nedb_buf_printf(&h->resp, "],\"count\":%llu,\"seq\":%llu,"
			"\"head\":\"%s\"}", (unsigned long long)r.n,
			(unsigned long long)seq, head);
	ok(h, MHD_HTTP_OK);
}

/* …/files and …/files/FILE (the rest of the path: it may hold slashes). */
static void
files_route(struct hreq *h, struct dbent *e, const char *url,
	    const char *method)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	char buf[2048], *s[5];
	int n = split_path(url, buf, sizeof buf, s, 5);

	if (n == 4) {
		if (!get)
			return method_not_allowed(h, method, url);
		return file_list(h, e);
	}
	if (get)
		return file_get(h, e, s[4]);
	if (!strcmp(method, "PUT"))
		return file_put_end(h, e);
	method_not_allowed(h, method, url);
}

/* ---- routing -------------------------------------------------------------- */

static void route(struct hreq *h, const char *url, const char *method);

static const char *
header(struct hreq *h, const char *name)
{
	return MHD_lookup_connection_value(h->conn, MHD_HEADER_KIND, name);
}

static bool
authorized(struct hreq *h)
{
	const char *a;

	if (!srv.token)
		return true;
	a = header(h, MHD_HTTP_HEADER_AUTHORIZATION);
	if (a && !strncasecmp(a, "Bearer ", 7) && token_ok(a + 7,
							   strlen(a + 7)))
		return true;
	fail(h, MHD_HTTP_UNAUTHORIZED, a ? "unauthorized: bad token" :
	     "unauthorized: send Authorization: Bearer <token>");
	return false;
}

/* Whether the path is under /v1 (where the token is wanted). */
static bool
under_v1(const char *url)
{
	while (*url == '/')
		url++;
	return !strncmp(url, "v1", 2) && (url[2] == '/' || !url[2]);
}

/*
 * A Host header names this server: when it listens on loopback, one of
 * localhost, 127.0.0.1, [::1], its own address or NEDBD_HOST, with any
 * port.  A page of another site that a DNS name rebound to 127.0.0.1
 * sends its own name, and is refused.  Elsewhere any name goes (many
 * names may lead to the host).
 */
static bool
host_ok(const char *host)
{
	char addr[INET_ADDRSTRLEN];
	const char *names[] = {"localhost", "127.0.0.1", "[::1]", addr,
			       srv.host, NULL};
	size_t n;

	if (!srv.loopback || !host)
		return true;
	inet_ntop(AF_INET, &srv.addr.sin_addr, addr, sizeof addr);
	if (*host == '[') {
		const char *end = strchr(host, ']');

		n = end ? (size_t)(end - host + 1) : strlen(host);
	} else
		n = strcspn(host, ":");
	if (host[n] && (host[n] != ':' || !host[n + 1] ||
			strspn(host + n + 1, "0123456789") !=
			strlen(host + n + 1)))
		return false;
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == n && !strncasecmp(host, names[i], n))
			return true;
	return false;
}

/* Whether NEDBD_CORS_ORIGINS (a list split by commas or blanks) has s. */
static bool
cors_listed(const char *s)
{
	const char *p = srv.cors;
	size_t n = strlen(s);

	while (p && *p) {
		size_t len;

		p += strspn(p, " ,");
		len = strcspn(p, " ,");
		if (len && len == n && !strncasecmp(p, s, n))
			return true;
		p += len;
	}
	return false;
}

/*
 * The CORS answer for the Origin of h (h->acao), and whether a request
 * from it may be served at all.  A page of the server's own origin
 * always may; another one when NEDBD_CORS_ORIGINS lists it, or, when
 * that is unset and a token is set, any (the token is what guards then:
 * a browser never adds it by itself).  Without a token and without the
 * list, no other origin: a web page could otherwise drive the API of
 * anyone who runs nedbd on their machine.
 */
static bool
origin_ok(struct hreq *h)
{
	const char *origin = header(h, MHD_HTTP_HEADER_ORIGIN);
	const char *host = header(h, MHD_HTTP_HEADER_HOST);

	if (!srv.cors)
		h->acao = srv.token ? "*" : NULL;
	else if (cors_listed("*"))
		h->acao = "*";
	else if (origin && cors_listed(origin))
		h->acao = origin;
	if (!origin || h->acao)
		return true;
	/* same origin: http://HOST */
	return host && !strncasecmp(origin, "http://", 7) &&
	       !strcasecmp(origin + 7, host);
}

/*
 * Whether a POST's Content-Type is JSON: application/json (parameters
 * such as charset may follow) or none.  The types a page of any site may
 * send without a CORS preflight (text/plain, form encodings) are not.
 */
static bool
json_type(const char *ct)
{
	size_t n;

	if (!ct)
		return true;
	ct += strspn(ct, " \t");
	n = strcspn(ct, " \t;");
	return n == 16 && !strncasecmp(ct, "application/json", 16);
}

/*
 * What is checked once a request's headers are in, before any of its
 * body is read: false when h is answered already (and its body will not
 * be read).
 */
static bool
check_request(struct hreq *h, const char *url, const char *method)
{
	const char *v;

	if (!host_ok(v = header(h, MHD_HTTP_HEADER_HOST))) {
		fail(h, MHD_HTTP_FORBIDDEN, "forbidden: Host '%.100s' is not "
		     "this server", v);
		return false;
	}
	if (!origin_ok(h)) {
		fail(h, MHD_HTTP_FORBIDDEN, "forbidden: origin '%.100s' may "
		     "not use this server (NEDBD_CORS_ORIGINS)",
		     header(h, MHD_HTTP_HEADER_ORIGIN));
		return false;
	}
	if (!strcmp(method, "OPTIONS")) {
		h->status = MHD_HTTP_NO_CONTENT;	/* CORS preflight */
		h->answered = true;
		return false;
	}
	if (!under_v1(url)) {
		route(h, url, method);	/* /health, or no route: no body */
		return false;
	}
	if (!authorized(h))
		return false;
	/* a file's body goes to its put as it comes: no limit */
	if (!strcmp(method, "PUT") && file_url(url))
		return file_put_begin(h, url);
	if (!strcmp(method, "POST") &&
	    !json_type(v = header(h, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		fail(h, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE, "unsupported "
		     "Content-Type '%.100s': send application/json", v);
		return false;
	}
	v = header(h, MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (v && strtoull(v, NULL, 10) > srv.max_body) {
		const char *x = header(h, MHD_HTTP_HEADER_EXPECT);

		if (x && !strcasecmp(x, "100-continue")) {
			/* say so now: the client sends nothing more */
			fail(h, MHD_HTTP_CONTENT_TOO_LARGE, "request body too "
			     "large: more than %zu bytes", srv.max_body);
			return false;
		}
		/* it is on its way: read and drop it, then say so */
		h->too_big = true;
	}
	return true;
}

static void
method_not_allowed(struct hreq *h, const char *method, const char *url)
{
	fail(h, MHD_HTTP_METHOD_NOT_ALLOWED, "%s is not allowed on %s",
	     method, url);
}

/* Splits url into at most max segments (in buf); returns how many. */
static int
split_path(const char *url, char *buf, size_t size, char **seg, int max)
{
	int n = 0;
	char *p;

	snprintf(buf, size, "%s", url);
	for (p = buf; *p == '/'; p++)
		;
	while (*p && n < max) {
		char *slash = n < max - 1 ? strchr(p, '/') : NULL;

		seg[n++] = p;
		if (!slash)
			break;
		*slash = 0;
		p = slash + 1;
	}
	/* a trailing slash leaves an empty last segment: ignore it */
	if (n && !*seg[n - 1])
		n--;
	return n;
}

/*
 * The web console (nedbd(8) "WEB CONSOLE"): GET / and its files, built
 * in, public (the page asks for the token; every /v1 call carries it).
 * False when name is none of them.
 */
static bool
console_file(struct hreq *h, const char *name, bool get, const char *method,
	     const char *url)
{
	for (size_t i = 0; i < nedbd_nassets; i++) {
		const struct nedbd_asset *a = &nedbd_assets[i];

		if (strcmp(a->path + 1, name))
			continue;
		if (!get) {
			method_not_allowed(h, method, url);
			return true;
		}
		h->resp.len = 0;
		nedb_buf_add(&h->resp, (const char *)a->bytes, a->len);
		h->ctype = a->type;
		h->status = MHD_HTTP_OK;
		h->answered = true;
		return true;
	}
	return false;
}

static void
route(struct hreq *h, const char *url, const char *method)
{
	bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
	bool post = !strcmp(method, "POST");
	bool del = !strcmp(method, "DELETE");
	char buf[2048], *s[6];
	struct dbent *e;
	int n;

	if (strlen(url) >= sizeof buf) {
		fail(h, MHD_HTTP_URI_TOO_LONG, "URL too long");
		return;
	}
	n = split_path(url, buf, sizeof buf, s, 6);
	if (n <= 1 && console_file(h, n ? s[0] : "index.html", get, method,
				   url))
		return;
	if (n == 1 && !strcmp(s[0], "health")) {
		if (!get)
			return method_not_allowed(h, method, url);
		nedb_buf_printf(&h->resp, "{\"ok\":true,\"version\":\"%s\"}",
				nedb_version());
		return ok(h, MHD_HTTP_OK);
	}
	/* (the token was checked before the body was read: check_request) */
	if (n < 2 || strcmp(s[0], "v1") || strcmp(s[1], "databases")) {
		fail(h, MHD_HTTP_NOT_FOUND, "no route %s %s", method, url);
		return;
	}
	if (h->too_big) {
		fail(h, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large: "
		     "more than %zu bytes", srv.max_body);
		return;
	}
	if (n == 2) {
		if (get)
			return list_databases(h);
		if (post)
			return create_database(h);
		return method_not_allowed(h, method, url);
	}
	if (n > 3 && strcmp(s[3], "query") && strcmp(s[3], "put") &&
	    strcmp(s[3], "index") && strcmp(s[3], "link") &&
	    strcmp(s[3], "verify") && strcmp(s[3], "log") &&
	    strcmp(s[3], "checkpoint") && strcmp(s[3], "rows") &&
	    strcmp(s[3], "proof") && strcmp(s[3], "sql") &&
	    strcmp(s[3], "files")) {
		fail(h, MHD_HTTP_NOT_FOUND, "no route %s %s", method, url);
		return;
	}
	if (!(e = route_db(h, s[2])))
		return;
	if (n == 3) {
		if (get)
			return show_database(h, e);
		if (del)
			return drop_database(h, e);
		return method_not_allowed(h, method, url);
	}
	if (!strcmp(s[3], "rows")) {
		/* the id is the rest of the path: it may hold slashes */
		if (n != 6) {
			fail(h, MHD_HTTP_NOT_FOUND, "no route %s %s: want "
			     "rows/COLL/ID", method, url);
			return;
		}
		if (get)
			return get_row(h, e, s[4], s[5]);
		if (!del)
			return method_not_allowed(h, method, url);
		return delete_row(h, e, s[4], s[5]);
	}
	if (!strcmp(s[3], "files"))
		return files_route(h, e, url, method);
	if (!strcmp(s[3], "proof")) {
		if (n != 5) {
			fail(h, MHD_HTTP_NOT_FOUND, "no route %s %s: want "
			     "proof/inclusion or proof/consistency", method,
			     url);
			return;
		}
		if (!get)
			return method_not_allowed(h, method, url);
		return proof_route(h, e, s[4]);
	}
	if (n != 4) {
		fail(h, MHD_HTTP_NOT_FOUND, "no route %s %s", method, url);
		return;
	}
	if (get && !strcmp(s[3], "checkpoint"))
		return note_route(h, e);
	if (get && !strcmp(s[3], "verify"))
		return verify_route(h, e);
	if (get && !strcmp(s[3], "log"))
		return log_route(h, e);
	if (post && !strcmp(s[3], "query"))
		return query_route(h, e);
	if (post && !strcmp(s[3], "sql"))
		return sql_route(h, e);
	if (post && !strcmp(s[3], "put"))
		return write_route(h, e, NEDB_REQUEST_PUT);
	if (post && !strcmp(s[3], "index"))
		return write_route(h, e, NEDB_REQUEST_INDEX);
	if (post && !strcmp(s[3], "link"))
		return write_route(h, e, NEDB_REQUEST_LINK);
	if (post && !strcmp(s[3], "checkpoint"))
		return checkpoint_route(h, e);
	method_not_allowed(h, method, url);
}

/* The connection's entry (on_connection); NULL in the fuzzer's model. */
static struct hconn *
hconn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

static void
wait_remove(struct hconn *c)
{
	if (!c || !c->waiting)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		H.wait = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		H.wait_last = c->prev;
	c->waiting = false;
}

/* c waits for a request's headers from now on. */
static void
wait_add(struct hconn *c)
{
	if (!c)
		return;
	wait_remove(c);
	c->since = mono_ms();
	c->waiting = true;
	c->next = NULL;
	c->prev = H.wait_last;
	if (H.wait_last)
		H.wait_last->next = c;
	else
		H.wait = c;
	H.wait_last = c;
}

/* Closes c's socket under libmicrohttpd, which then closes c. */
static void
hang_up(struct hconn *c)
{
	wait_remove(c);
	shutdown(c->fd, SHUT_RDWR);
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *conn, const char *url,
       const char *method, const char *version, const char *upload,
       size_t *upload_size, void **con_cls)
{
	struct hreq *h = *con_cls;

	if (!h) {
		if (!(h = calloc(1, sizeof *h)))
			return MHD_NO;
		h->conn = conn;
		h->w.done = released;
		h->lw.done = lock_ready;
		*con_cls = h;
		srv.busy++;
		wait_remove(hconn_of(conn));	/* the headers are in */
		if (!check_request(h, url, method))
			return send_resp(h);
		return MHD_YES;
	}
	if (*upload_size && h->fput && !h->drain) {
		file_put_data(h, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size && h->drain) {
		if ((h->drained += *upload_size) > DRAIN_MAX)
			return MHD_NO;	/* enough: hang up */
		*upload_size = 0;
		return MHD_YES;
	}
	if (h->drain)
		return send_resp(h);	/* answered: the body is in */
	if (*upload_size) {
		if (!h->too_big && h->body.len + *upload_size > srv.max_body)
			h->too_big = true;
		if (!h->too_big &&
		    nedb_buf_add(&h->body, upload, *upload_size))
			h->too_big = true;
		if (h->too_big) {
			nedb_buf_free(&h->body);
			if ((h->drained += *upload_size) > DRAIN_MAX)
				return MHD_NO;	/* enough: hang up */
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (h->ready)
		return send_resp(h);
	if (h->again) {
		/* the writer lock it waited for is free: all over again */
		h->again = false;
		h->resp.len = 0;
		h->answered = false;
	}
	route(h, url, method);
	if (h->w.queued || h->lw.queued) {
		MHD_suspend_connection(conn);
		return MHD_YES;
	}
	if (!h->answered)
		fail(h, 500, "no answer");
	return send_resp(h);
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
	  enum MHD_RequestTerminationCode toe)
{
	struct hreq *h = *con_cls;

	/* kept alive: the next request's headers are due in time too */
	if (toe == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		wait_add(hconn_of(conn));
	if (!h)
		return;
	lock_cancel(&h->lw);
	/* a file put not committed (a client gone, an error): no version */
	nedb_file_put_abort(h->fput);
	if (h->fdb)
		h->fdb->files--;
	if (h->stream)
		MHD_destroy_response(h->stream);
	nedb_buf_free(&h->body);
	nedb_buf_free(&h->resp);
	free(h);
	*con_cls = NULL;
	srv.busy--;
}

/*
 * Connections come and go.  One past NEDBD_MAX_CONNECTIONS closes the
 * oldest connection still waiting for its request's headers (idle or
 * slow), or, when none is, itself: strangers that open connections and
 * send nothing, or a byte at a time, cannot keep others out.
 */
static void
on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
	      enum MHD_ConnectionNotificationCode code)
{
	struct hconn *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (c) {
			wait_remove(c);
			free(c);
			H.nconns--;
		}
		*socket_context = NULL;
		return;
	}
	if (!(c = calloc(1, sizeof *c))) {
		const union MHD_ConnectionInfo *ci = MHD_get_connection_info(
			conn, MHD_CONNECTION_INFO_CONNECTION_FD);

		if (ci)
			shutdown(ci->connect_fd, SHUT_RDWR);
		return;
	}
	c->fd = MHD_get_connection_info(
		conn, MHD_CONNECTION_INFO_CONNECTION_FD)->connect_fd;
	*socket_context = c;
	H.nconns++;
	wait_add(c);
	if (H.nconns > srv.max_conns)
		hang_up(H.wait);	/* the oldest waiting; maybe c */
}

int
http_sweep(int64_t now)
{
	int64_t limit = (int64_t)srv.timeout * 1000;

	while (H.wait && now - H.wait->since >= limit)
		hang_up(H.wait);
	if (!H.wait)
		return -1;
	return (int)(H.wait->since + limit - now);
}

/* ---- the daemon ----------------------------------------------------------- */

/*
 * Decodes %HH in URLs and their arguments, except %00: a NUL would cut a
 * name or an id short where the route reads it ("db%00/rows/..." is not
 * "db"), so "%00" stays as it is written and fails the checks.
 */
static int
hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' :
	       c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

static size_t
unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	char *r = s, *w = s;

	while (*r) {
		int hi, lo;

		if (*r == '%' && (hi = hexval(r[1])) >= 0 &&
		    (lo = hexval(r[2])) >= 0 && (hi || lo)) {
			*w++ = (char)(hi << 4 | lo);
			r += 3;
		} else
			*w++ = *r++;
	}
	*w = 0;
	return (size_t)(w - s);
}

/* libmicrohttpd's own messages, one line each; none while starting:
 * http_start's caller reports a failure itself. */
static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	if (!H.d)
		return;
	vsnprintf(msg, sizeof msg, fmt, ap);
	n = strlen(msg);
	while (n && msg[n - 1] == '\n')
		msg[--n] = 0;
	fprintf(stderr, "nedbd: http: %s\n", msg);
}

int
http_start(unsigned port)
{
	struct sockaddr_in a = srv.addr;
	const union MHD_DaemonInfo *info;

	a.sin_port = htons((uint16_t)port);
	H.d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
			       MHD_USE_ERROR_LOG, (uint16_t)port, NULL, NULL,
			       handle, NULL,
			       MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a,
			       MHD_OPTION_CONNECTION_LIMIT,
			       srv.max_conns + SLACK,
			       MHD_OPTION_CONNECTION_TIMEOUT, srv.timeout,
			       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			       MHD_OPTION_NOTIFY_CONNECTION, on_connection,
			       NULL,
			       MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
			       MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
			       MHD_OPTION_END);
	if (!H.d)
		return -1;
	info = MHD_get_daemon_info(H.d, MHD_DAEMON_INFO_EPOLL_FD);
	H.fd = info->epoll_fd;
	info = MHD_get_daemon_info(H.d, MHD_DAEMON_INFO_BIND_PORT);
	H.port = info ? info->port : port;
	return loop_add(H.fd, EPOLLIN, &H);
}

unsigned
http_port(void)
{
	return H.port;
}

void
http_run(void)
{
	H.resumed = false;
	MHD_run(H.d);
}

bool
http_resumed(void)
{
	return H.resumed;
}

int
http_timeout(void)
{
	MHD_UNSIGNED_LONG_LONG t;

	if (MHD_get_timeout(H.d, &t) != MHD_YES)
		return -1;
	return t > INT_MAX ? INT_MAX : (int)t;
}

void
http_quiesce(void)
{
	MHD_socket s = MHD_quiesce_daemon(H.d);

	if (s != MHD_INVALID_SOCKET)
		close(s);
}

void
http_stop(void)
{
	MHD_stop_daemon(H.d);
	H.d = NULL;
}
