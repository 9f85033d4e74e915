/*
 * request.c - JSON request bodies taken apart into ops and reads (see
 * request.h): what nedbd's HTTP routes take, for every front end.
 *
 * A body is made compact once (nedb_json_object); its members are then
 * found in that text (nedb_json_member), strings decoded, numbers read
 * from their text, and a document or an init payload is left where it
 * is, as text, for the write that stages it.  Members are read in a
 * fixed order, so the first bad one is always the one reported.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "request.h"

/* The failure: its message in r->error and nedb_errmsg(). */
__attribute__((format(printf, 3, 4)))
static int
fail(nedb_request *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	va_end(ap);
	return nedb__err(code, "%s", r->error);
}

/* A library call's failure: its message into r->error as well. */
static int
failed(nedb_request *r, int code)
{
	snprintf(r->error, sizeof r->error, "%s", nedb_errmsg());
	return code;
}

static bool
is_null(const char *v, size_t len)
{
	return len == 4 && !memcmp(v, "null", 4);
}

/* Member key of the body: its compact text, or NULL (len 0) if absent. */
static const char *
member(nedb_request *r, const char *key, size_t *len)
{
	const char *v;

	if (!nedb_json_member(r->obj.p, r->obj.len, key, &v, len)) {
		*len = 0;
		return NULL;
	}
	return v;
}

/*
 * A string member: *out is the decoded string (r frees it) or NULL when
 * absent or null and optional.
 */
static int
str_member(nedb_request *r, const char *key, bool required, char **out)
{
	size_t len;
	const char *v = member(r, key, &len);

	if (!v || (!required && is_null(v, len)))
		return required ? fail(r, NEDB_EINPUT, "request body: \"%s\" "
				       "is missing", key) : 0;
	if (*v != '"' || nedb_json_string(v, len, out))
		return fail(r, NEDB_EINPUT, "request body: \"%s\" must be a "
			    "string", key);
	return 0;
}

/* The decimal text of an unsigned integer; false if it is not one. */
static bool
seq_text(const char *v, size_t len, uint64_t *out)
{
	char *end;

	errno = 0;
	return *v >= '0' && *v <= '9' &&
	       (*out = strtoull(v, &end, 10), !errno) && end == v + len;
}

/* An unsigned integer member; *has says whether it was there. */
static int
u64_member(nedb_request *r, const char *key, uint64_t *out, bool *has)
{
	size_t len;
	const char *v = member(r, key, &len);

	*has = false;
	if (!v || is_null(v, len))
		return 0;
	if (!seq_text(v, len, out))
		return fail(r, NEDB_EINPUT, "request body: \"%s\" must be a "
			    "non-negative integer", key);
	*has = true;
	return 0;
}

static int
bool_member(nedb_request *r, const char *key, int *out)
{
	size_t len;
	const char *v = member(r, key, &len);

	*out = 0;
	if (!v || is_null(v, len))
		return 0;
	if (len == 4 && !memcmp(v, "true", 4))
		*out = 1;
	else if (!(len == 5 && !memcmp(v, "false", 5)))
		return fail(r, NEDB_EINPUT, "request body: \"%s\" must be "
			    "true or false", key);
	return 0;
}

/* An array member of strings (into s) or of seqs (into u). */
struct list {
	nedb_request *r;
	const char *key;
	char **s;
	uint64_t *u;
	size_t n;
	int rc;
};

static int
list_item(const char *k, size_t kl, const char *v, size_t len, void *p)
{
	struct list *l = p;

	if (l->n == NEDB_REQUEST_MAX_LIST) {
		l->rc = fail(l->r, NEDB_EINPUT, "request body: \"%s\" has "
			     "more than %d items", l->key,
			     NEDB_REQUEST_MAX_LIST);
		return 1;
	}
	if (l->s ? *v != '"' || nedb_json_string(v, len, &l->s[l->n]) :
	    !seq_text(v, len, &l->u[l->n])) {
		l->rc = fail(l->r, NEDB_EINPUT, "request body: \"%s\" must be "
			     "an array of %s", l->key,
			     l->s ? "strings" : "seqs");
		return 1;
	}
	l->n++;
	return 0;
}

static int
list_member(nedb_request *r, struct list *l)
{
	size_t len;
	const char *v = member(r, l->key, &len);

	l->r = r;
	if (!v || is_null(v, len))
		return 0;
	if (*v != '[')
		return fail(r, NEDB_EINPUT, "request body: \"%s\" must be an "
			    "array", l->key);
	nedb_json_each(v, len, list_item, l);
	return l->rc;
}

/* client, nonce and idem of a write's body. */
static int
wopts(nedb_request *r)
{
	bool has;
	int rc;

	if ((rc = str_member(r, "client", false, &r->client)) ||
	    (rc = str_member(r, "idem", false, &r->idem)) ||
	    (rc = u64_member(r, "nonce", &r->w.nonce, &has)))
		return rc;
	r->w.client = r->client;
	r->w.idem = r->idem;
	return 0;
}

static int
parse_put(nedb_request *r)
{
	struct list lt = {.key = "tags", .s = r->tags};
	struct list lc = {.key = "caused_by", .u = r->causes};
	nedb_put *p = &r->put;
	uint64_t ttl, if_seq;
	const char *c;
	size_t clen;
	bool has;
	int merge, rc;

	if ((rc = str_member(r, "coll", true, &r->coll)) ||
	    (rc = str_member(r, "id", false, &r->id)) ||
	    (rc = wopts(r)) ||
	    (rc = str_member(r, "evidence", false, &r->evidence)) ||
	    (rc = str_member(r, "valid_from", false, &r->valid_from)) ||
	    (rc = str_member(r, "valid_to", false, &r->valid_to)))
		return rc;
	/* (counted as they are decoded: freed even when one fails) */
	rc = list_member(r, &lt);
	p->ntags = lt.n;
	if (rc || (rc = list_member(r, &lc)) ||
	    (rc = bool_member(r, "merge", &merge)) ||
	    (rc = u64_member(r, "ttl", &ttl, &has)))
		return rc;
	if (has && (ttl == 0 || ttl > INT64_MAX / 1000))
		return fail(r, NEDB_EINPUT, "request body: \"ttl\" must be "
			    "seconds > 0");
	p->ttl_ms = has ? (int64_t)ttl * 1000 : 0;
	if ((rc = u64_member(r, "if_seq", &if_seq, &has)))
		return rc;
	if (has && !(p->if_seq = if_seq))
		p->if_absent = 1;	/* "if_seq":0: must not exist */
	if (!(p->doc = member(r, "doc", &p->doclen)) || *p->doc != '{')
		return fail(r, NEDB_EINPUT, "request body: \"doc\" must be an "
			    "object");
	if ((c = member(r, "confidence", &clen)) && !is_null(c, clen)) {
		if (nedb_buf_add(&r->confidence, c, clen))
			return failed(r, NEDB_EIO);
		p->confidence = r->confidence.p;
	}
	p->coll = r->coll;
	p->id = r->id;
	p->merge = merge;
	p->tags = (const char *const *)r->tags;
	p->caused_by = r->causes;
	p->ncaused_by = lc.n;
	p->evidence = r->evidence;
	p->valid_from = r->valid_from;
	p->valid_to = r->valid_to;
	return 0;
}

static int
parse_create(nedb_request *r)
{
	int rc;

	if ((rc = str_member(r, "name", true, &r->name)))
		return rc;
	if ((rc = nedb_check_dbname(r->name, strlen(r->name))))
		return failed(r, rc);
	r->init = member(r, "init", &r->initlen);
	if (r->init && is_null(r->init, r->initlen))
		r->init = NULL;
	return 0;
}

int
nedb_request_parse(nedb_request *r, int kind, const char *body, size_t len)
{
	int rc;

	memset(r, 0, sizeof *r);
	r->kind = kind;
	if (kind < NEDB_REQUEST_PUT || kind > NEDB_REQUEST_SQL)
		return fail(r, NEDB_EUSAGE, "unknown request kind %d", kind);
	if (!len)
		return fail(r, NEDB_EINPUT, "request body: want a JSON "
			    "object, got nothing");
	if ((rc = nedb_json_object(&r->obj, body, len)))
		return fail(r, rc, "request body: %s", nedb_errmsg());
	switch (kind) {
	case NEDB_REQUEST_PUT:
		return parse_put(r);
	case NEDB_REQUEST_INDEX:
		if ((rc = str_member(r, "coll", true, &r->coll)) ||
		    (rc = str_member(r, "field", true, &r->field)) ||
		    (rc = str_member(r, "kind", false, &r->ixkind)))
			return rc;
		return wopts(r);
	case NEDB_REQUEST_LINK:
		if ((rc = str_member(r, "frm", true, &r->from)) ||
		    (rc = str_member(r, "rel", true, &r->rel)) ||
		    (rc = str_member(r, "to", true, &r->to)) ||
		    (rc = bool_member(r, "unlink", &r->unlink)))
			return rc;
		return wopts(r);
	case NEDB_REQUEST_CREATE:
		return parse_create(r);
	case NEDB_REQUEST_SQL:
		if ((rc = str_member(r, "sql", true, &r->nql)))
			return rc;
		return bool_member(r, "verify", &r->verify);
	default:
		if ((rc = str_member(r, "nql", true, &r->nql)) ||
		    (rc = bool_member(r, "explain", &r->explain)))
			return rc;
		return bool_member(r, "verify", &r->verify);
	}
}

/* ---- a database's init payload -------------------------------------------- */

struct init {
	nedb_request *r;
	nedb *db;
	const char *coll;	/* of the seed array being walked */
	bool links;		/* init.links is being walked */
	int rc;
};

/* An init index or link: an array of three strings. */
struct tri {
	char **out;
	int n;
	bool bad;
};

static int
tri_item(const char *k, size_t kl, const char *x, size_t xl, void *p)
{
	struct tri *q = p;

	if (q->n == 3 || *x != '"' || nedb_json_string(x, xl, &q->out[q->n])) {
		q->bad = true;
		return 1;
	}
	q->n++;
	return 0;
}

static bool
triple(const char *v, size_t len, char *out[3])
{
	struct tri t = {out, 0, false};

	out[0] = out[1] = out[2] = NULL;
	if (*v != '[' || nedb_json_each(v, len, tri_item, &t) || t.bad ||
	    t.n != 3) {
		for (int i = 0; i < 3; i++)
			free(out[i]);
		return false;
	}
	return true;
}

/* One of init.indexes ([coll, field, kind]) or init.links ([from, rel,
 * to]), as in->links says. */
static int
init_triple(const char *k, size_t kl, const char *v, size_t len, void *p)
{
	struct init *in = p;
	const char *what = in->links ? "links" : "indexes";
	char *t[3];
	int rc;

	if (!triple(v, len, t)) {
		in->rc = fail(in->r, NEDB_EINPUT, "init.%s: want %s arrays of "
			      "strings", what, in->links ? "[from, rel, to]" :
			      "[coll, field, kind]");
		return 1;
	}
	rc = in->links ?
	     nedb_write_link(in->db, t[0], t[1], t[2], 0, &in->r->w, NULL) :
	     nedb_write_index(in->db, t[0], t[1], t[2], &in->r->w, NULL);
	for (int i = 0; i < 3; i++)
		free(t[i]);
	if (rc) {
		in->rc = fail(in->r, rc, "init.%s: %s", what, nedb_errmsg());
		return 1;
	}
	return 0;
}

static int
init_doc(const char *k, size_t kl, const char *v, size_t len, void *p)
{
	struct init *in = p;
	nedb_put put = {.coll = in->coll, .doc = v, .doclen = len,
			.w = in->r->w};
	const char *x;
	size_t xl;
	int rc;

	if (*v != '{') {
		in->rc = fail(in->r, NEDB_EINPUT, "init.seed.%s: want "
			      "objects", in->coll);
		return 1;
	}
	/* seed documents name their id "_id" or "id" */
	if (!nedb_json_member(v, len, "_id", &x, &xl))
		put.id_field = "id";
	if ((rc = nedb_write_put(in->db, &put, NULL))) {
		in->rc = fail(in->r, rc, "init.seed.%s: %s", in->coll,
			      nedb_errmsg());
		return 1;
	}
	return 0;
}

static int
init_seed(const char *k, size_t kl, const char *v, size_t len, void *p)
{
	struct init *in = p;
	char *coll;
	int rc;

	if (nedb_json_string(k, kl, &coll))
		return 1;
	if (*v != '[') {
		in->rc = fail(in->r, NEDB_EINPUT, "init.seed.%s: want an "
			      "array of documents", coll);
		free(coll);
		return 1;
	}
	in->coll = coll;
	rc = nedb_json_each(v, len, init_doc, in);
	free(coll);
	return rc;
}

/* Whether init's member key, if there, is a `open` value whose each
 * part fn stages; the error of its wrong shape is "init.key: want". */
static int
init_part(struct init *in, const char *key, char open,
	  nedb_json_fn fn, const char *want)
{
	const char *x;
	size_t xl;

	if (!nedb_json_member(in->r->init, in->r->initlen, key, &x, &xl))
		return 0;
	if (*x != open || nedb_json_each(x, xl, fn, in))
		return in->rc ? in->rc : fail(in->r, NEDB_EINPUT, "init.%s: "
					      "want %s", key, want);
	return 0;
}

/* Stages the init payload: its indexes, then seed, then links. */
static int
stage_init(nedb_request *r, nedb *db)
{
	struct init in = {r, db, NULL, false, 0};
	int rc;

	if (*r->init != '{')
		return fail(r, NEDB_EINPUT, "init: want an object");
	if ((rc = init_part(&in, "indexes", '[', init_triple, "an array")) ||
	    (rc = init_part(&in, "seed", '{', init_seed,
			    "an object of arrays")))
		return rc;
	in.links = true;
	return init_part(&in, "links", '[', init_triple, "an array");
}

int
nedb_request_stage(nedb_request *r, nedb *db, nedb_receipt *receipt)
{
	int rc;

	switch (r->kind) {
	case NEDB_REQUEST_PUT:
		r->put.w = r->w;
		rc = nedb_write_put(db, &r->put, receipt);
		break;
	case NEDB_REQUEST_INDEX:
		rc = nedb_write_index(db, r->coll, r->field,
				      r->ixkind ? r->ixkind : "eq", &r->w,
				      receipt);
		break;
	case NEDB_REQUEST_LINK:
		rc = nedb_write_link(db, r->from, r->rel, r->to, r->unlink,
				     &r->w, receipt);
		break;
	case NEDB_REQUEST_CREATE:
		return r->init ? stage_init(r, db) : 0;
	default:
		return fail(r, NEDB_EUSAGE, "not a write request");
	}
	return rc ? failed(r, rc) : 0;
}

void
nedb_request_free(nedb_request *r)
{
	char **s[] = {&r->coll, &r->field, &r->ixkind, &r->from, &r->rel,
		      &r->to, &r->nql, &r->name, &r->client, &r->idem,
		      &r->id, &r->evidence, &r->valid_from, &r->valid_to};

	for (size_t i = 0; i < sizeof s / sizeof *s; i++) {
		free(*s[i]);
		*s[i] = NULL;
	}
	for (size_t i = 0; i < r->put.ntags; i++)
		free(r->tags[i]);
	r->put.ntags = 0;
	nedb_buf_free(&r->obj);
	nedb_buf_free(&r->confidence);
}
