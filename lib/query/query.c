/*
 * query.c - the planner and executor of NQL (and of --filter, which
 * compiles to the same struct nql_query).
 *
 * Plan: an AS OF query reads the past from the version index (never from
 * index entries, which describe HEAD only).  A HEAD query looks at the
 * conjunctive terms of WHERE (and SEARCH) for one an index can answer:
 * eq for = IN CONTAINS, ordered for ranges and =, search for SEARCH; it
 * takes the one with the fewest entries, or walks an ordered index for
 * ORDER BY f LIMIT k, or else scans the collection.  Whatever supplies
 * the candidates, every row is re-checked against the whole WHERE: an
 * index only ever narrows the work, never changes an answer.
 *
 * Then: GROUP BY, ORDER BY (stable; ties in _id order), TRAVERSE,
 * TRACE caused_by, OFFSET and LIMIT.  Rows are the stored compact text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "kv.h"
#include "nql.h"
#include "sql.h"

/* One result row: owned document text, its id and version seq. */
struct row {
	char *doc;
	size_t len;
	char *id;
	uint64_t seq;
	char *coll;		/* NULL: the query's collection */
};

struct rows {
	struct row *v;
	size_t n, cap;
};

struct idset;

struct exec {
	nedb *db;
	MDB_txn *txn;
	const struct nql_query *q;
	uint64_t as_of;		/* NEDB_HEAD or a seq */
	int64_t now;
	nedb_row_fn fn;
	void *payload;
	/* plan */
	const char *plan;	/* "scan", "index", "index-order", "as-of" */
	char ixfield[MAX_FIELD + 1];
	char ixkind[16];
	char ixcond[32];
	uint64_t estimated, scanned;
	/* output */
	uint64_t skipped, emitted;
	bool stream;		/* rows go straight to fn (no later stage) */
	bool done;		/* LIMIT reached */
	struct rows rows;
	struct nql_path *search_fields;
	size_t nsearch_fields;
	struct idset *cand;	/* candidate ids being gathered */
	int rc;
};

static void
rows_free(struct rows *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].doc);
		free(r->v[i].id);
		free(r->v[i].coll);
	}
	free(r->v);
	memset(r, 0, sizeof *r);
}

static int
rows_add(struct rows *r, const char *doc, size_t len, const char *id,
	 size_t idlen, uint64_t seq, const char *coll)
{
	struct row *x;

	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 256;
		struct row *v = nedb__realloc(r->v, cap * sizeof *v);

		if (!v)
			return nedb__err(NEDB_EIO, "out of memory");
		r->v = v;
		r->cap = cap;
	}
	x = &r->v[r->n];
	x->doc = nedb__malloc(len + 1);
	x->id = nedb__malloc(idlen + 1);
	x->coll = coll ? nedb__strdup(coll) : NULL;
	if (!x->doc || !x->id || (coll && !x->coll)) {
		free(x->doc);
		free(x->id);
		free(x->coll);
		return nedb__err(NEDB_EIO, "out of memory");
	}
	memcpy(x->doc, doc, len);
	x->doc[len] = 0;
	x->len = len;
	memcpy(x->id, id, idlen);
	x->id[idlen] = 0;
	x->seq = seq;
	r->n++;
	return 0;
}

/* Emits a final row, honouring OFFSET and LIMIT. */
static int
emit(struct exec *x, const char *doc, size_t len)
{
	const struct nql_query *q = x->q;

	if (x->done)
		return 0;
	if (x->skipped < q->offset) {
		x->skipped++;
		return 0;
	}
	if (q->has_limit && x->emitted >= q->limit) {
		x->done = true;
		return 0;
	}
	x->emitted++;
	if (!q->explain && x->fn) {
		int rc = x->fn(doc, len, x->payload);

		if (rc)
			return rc;
	}
	if (q->has_limit && x->emitted >= q->limit)
		x->done = true;
	return 0;
}

/* 1 when the row matches, 0 when not, <0 an error (SQL's). */
static int
matches(struct exec *x, const char *doc, size_t len)
{
	const struct nql_query *q = x->q;

	if (q->sql)
		return nedb__sql_where(q->sql, doc, len);
	if (q->where && !nedb__eval(q->where, doc, len))
		return false;
	if (q->search && !nedb__search_match(doc, len, q->search,
					     x->search_fields,
					     x->nsearch_fields))
		return false;
	return true;
}

/* A candidate document: re-check it and pass it on. */
static int
consider(struct exec *x, const char *doc, size_t len, const char *id,
	 size_t idlen, uint64_t seq)
{
	int rc;

	if (x->db->interrupt)		/* nedb_interrupt */
		return nedb__err(NEDB_EUSAGE, "interrupted");
	x->scanned++;
	if ((rc = matches(x, doc, len)) <= 0)
		return rc;
	/* a verified read: HEAD rows against the log (past ones come
	 * from it) */
	if (x->db->read_verify && x->as_of == NEDB_HEAD &&
	    (rc = nedb__verify_row(x->db, x->txn, x->q->coll, id, idlen, seq,
				   doc, len)))
		return rc;
	if (x->stream)
		return emit(x, doc, len);
	return rows_add(&x->rows, doc, len, id, idlen, seq, NULL);
}

/*
 * The HEAD document coll/id: 0 with its text and seq (borrowed until the
 * snapshot ends), NEDB_ENOTFOUND when absent or expired, or an error.
 */
static int
head_doc(struct exec *x, const char *coll, const char *id, size_t idlen,
	 const char **doc, size_t *len, uint64_t *seq)
{
	struct dochdr h;
	int rc = nedb__doc_head(&x->db->view, x->txn, coll, id, idlen, x->now,
				&h, doc, len);

	if (!rc)
		*seq = h.seq;
	return rc;
}

/*
 * The document coll/id as of x->as_of into out (read from its log line,
 * whose hash is checked); *found false when it did not exist then.
 */
static int
past_doc(struct exec *x, const char *coll, const char *id, size_t idlen,
	 nedb_buf *out, uint64_t *seq, bool *found)
{
	size_t doclen;
	struct verent ve;
	struct seqent se;
	const char *doc;
	int rc;

	*found = false;
	rc = nedb__version_at(x->db, x->txn, coll, id, idlen, x->as_of, seq,
			      &ve);
	if (rc == NEDB_ENOTFOUND || (!rc && !OP_IS_VERSION(ve.kind)))
		return 0;
	if (rc)
		return rc;
	if ((rc = nedb__version_text(x->db, *seq, ve.kind, coll, id, idlen,
				     out, &se, &doc, &doclen)))
		return rc;
	memmove(out->p, doc, doclen);
	out->len = doclen;
	out->p[out->len] = 0;
	*found = true;
	return 0;
}

/* Full scan of the collection at HEAD, in _id order. */
static int
scan_head(struct exec *x, const char *coll)
{
	unsigned char key[MAX_COLL + 1];
	size_t c = nedb__collprefix(key, coll);
	struct kvcur cur;
	MDB_val k = {c, key}, d;
	nedb_buf text = {0};
	int rc;

	if ((rc = nedb__kv_copen(&cur, &x->db->view, x->txn, DBI_DOCS)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc && !x->done;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
		struct dochdr h;
		const char *doc;
		size_t len;

		if (!nedb__key_in(k.mv_data, k.mv_size, key, c))
			break;
		if ((rc = nedb__docval_get(d.mv_data, d.mv_size, &h, &doc,
					   &len)))
			break;
		if (h.exp && h.exp <= x->now)
			continue;
		if (nedb__el_is(doc, len)) {
			text.len = 0;
			if ((rc = nedb__el_doc(&x->db->view, x->txn,
					       k.mv_data, k.mv_size, doc, len,
					       &text)))
				break;
			doc = text.p;
			len = text.len;
		}
		if ((rc = consider(x, doc, len, (char *)k.mv_data + c,
				   k.mv_size - c, h.seq)))
			break;
	}
	nedb__kv_cclose(&cur);
	nedb_buf_free(&text);
	return nedb__mdb_end(rc);
}

/* Scan of the collection as of x->as_of, from the version index. */
static int
scan_past(struct exec *x, const char *coll)
{
	unsigned char key[MAX_COLL + 1];
	char last[MAX_ID + 1];
	size_t c = nedb__collprefix(key, coll), lastlen = 0;
	nedb_buf doc = {0};
	struct kvcur cur;
	MDB_val k = {c, key}, d;
	int rc;

	if ((rc = nedb__kv_copen(&cur, &x->db->view, x->txn, DBI_VERS)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc && !x->done;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
		const char *id;
		size_t idlen;
		uint64_t seq;
		bool found;

		if (!nedb__verkey_get(k.mv_data, k.mv_size, key, c, &id,
				      &idlen, &seq) || idlen > MAX_ID)
			break;
		if (lastlen == idlen && !memcmp(last, id, idlen))
			continue;	/* already read this document */
		memcpy(last, id, idlen);
		lastlen = idlen;
		if ((rc = past_doc(x, coll, last, idlen, &doc, &seq, &found)))
			break;
		if (found && (rc = consider(x, doc.p, doc.len, last, idlen,
					    seq)))
			break;
	}
	nedb__kv_cclose(&cur);
	nedb_buf_free(&doc);
	return nedb__mdb_end(rc);
}

/* Index helpers */

/* The kinds of index on coll.field (a mask of NEDB__IX_BIT). */
static unsigned
index_kinds(struct exec *x, const char *coll, const char *field)
{
	return nedb__index_kinds(&x->db->view, x->txn, coll, field);
}

/* Number of ids under one exact index key. */
static uint64_t
ix_count(struct exec *x, const unsigned char *key, size_t n)
{
	struct kvcur cur;
	MDB_val k = {n, (void *)key}, d;
	size_t dups = 0;

	if (nedb__kv_copen(&cur, &x->db->view, x->txn, DBI_IDX))
		return 0;
	if (!nedb__kv_cget(&cur, &k, &d, MDB_SET))
		nedb__kv_ccount(&cur, &dups);
	nedb__kv_cclose(&cur);
	return dups;
}

/* Calls fn on each id under an exact key. */
static int
ix_each(struct exec *x, const unsigned char *key, size_t n,
	int (*fn)(struct exec *, const char *, size_t))
{
	struct kvcur cur;
	MDB_val k = {n, (void *)key}, d;
	int rc;

	if ((rc = nedb__kv_copen(&cur, &x->db->view, x->txn, DBI_IDX)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET); !rc && !x->done;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT_DUP))
		if ((rc = fn(x, d.mv_data, d.mv_size)))
			break;
	nedb__kv_cclose(&cur);
	return nedb__mdb_end(rc);
}

/* Candidate ids may repeat (IN lists, array elements): dedupe them. */
struct idset {
	char **v;
	size_t n, cap;
};

static int
idset_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
gather(struct exec *x, const char *id, size_t n)
{
	struct idset *cand = x->cand;
	char *s;

	if (cand->n == cand->cap) {
		size_t cap = cand->cap ? cand->cap * 2 : 256;
		char **v = nedb__realloc(cand->v, cap * sizeof *v);

		if (!v)
			return nedb__err(NEDB_EIO, "out of memory");
		cand->v = v;
		cand->cap = cap;
	}
	if (!(s = nedb__malloc(n + 1)))
		return nedb__err(NEDB_EIO, "out of memory");
	memcpy(s, id, n);
	s[n] = 0;
	cand->v[cand->n++] = s;
	return 0;
}

static void
idset_free(struct idset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* One candidate id from an index: fetch, check, pass on. */
static int
visit_one(struct exec *x, const char *id, size_t n)
{
	char buf[MAX_ID + 1];
	const char *doc;
	size_t len;
	uint64_t seq;
	int rc;

	if (n > MAX_ID)
		return 0;
	memcpy(buf, id, n);
	buf[n] = 0;
	rc = head_doc(x, x->q->coll, buf, n, &doc, &len, &seq);
	if (rc)
		return rc == NEDB_ENOTFOUND ? 0 : rc;
	return consider(x, doc, len, buf, n, seq);
}

/* Visits the candidates of a set in _id order, each once. */
static int
visit_ids(struct exec *x, struct idset *s)
{
	int rc = 0;

	if (s->n > 1)
		qsort(s->v, s->n, sizeof *s->v, idset_cmp);
	for (size_t i = 0; i < s->n && !x->done; i++) {
		const char *doc;
		size_t len;
		uint64_t seq;

		if (i && !strcmp(s->v[i], s->v[i - 1]))
			continue;
		rc = head_doc(x, x->q->coll, s->v[i], strlen(s->v[i]), &doc,
			      &len, &seq);
		if (rc == NEDB_ENOTFOUND)
			rc = 0;
		else if (rc || (rc = consider(x, doc, len, s->v[i],
					      strlen(s->v[i]), seq)))
			break;
	}
	return rc;
}

/* A candidate source: one conjunctive term an index can answer. */
struct access {
	const struct nql_expr *term;	/* NULL for SEARCH */
	int kind;			/* 'e', 'o' or 's' */
	uint64_t est;
	struct ixrange r;		/* ranges (ordered) */
};

static bool
scalar_literal(struct nql_span v)
{
	enum nql_type t = nedb__type(v);

	return t != T_ARRAY && t != T_OBJECT && t != T_ABSENT;
}

static uint64_t
range_count(struct exec *x, const unsigned char *pre, size_t plen,
	    const struct access *a, uint64_t cap)
{
	unsigned char key[IXKEY_MAX];
	struct kvcur cur;
	MDB_val k, d;
	uint64_t n = 0;
	int rc;

	memcpy(key, pre, plen);
	k.mv_size = nedb__ixkey_entry(key, plen, a->r.lo, a->r.lo_len);
	k.mv_data = key;
	if (nedb__kv_copen(&cur, &x->db->view, x->txn, DBI_IDX))
		return 0;
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc && n < cap;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT_NODUP)) {
		size_t dups = 0;

		if (!nedb__key_in(k.mv_data, k.mv_size, pre, plen) ||
		    nedb__ixrange_past(&a->r, (char *)k.mv_data + plen,
				       k.mv_size - plen))
			break;
		nedb__kv_ccount(&cur, &dups);
		n += dups;
	}
	nedb__kv_cclose(&cur);
	return n;
}

static int
range_each(struct exec *x, const unsigned char *pre, size_t plen,
	   const struct access *a)
{
	unsigned char key[IXKEY_MAX];
	struct kvcur cur;
	MDB_val k, d;
	int rc;

	memcpy(key, pre, plen);
	k.mv_size = nedb__ixkey_entry(key, plen, a->r.lo, a->r.lo_len);
	k.mv_data = key;
	if ((rc = nedb__kv_copen(&cur, &x->db->view, x->txn, DBI_IDX)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
		if (!nedb__key_in(k.mv_data, k.mv_size, pre, plen) ||
		    nedb__ixrange_past(&a->r, (char *)k.mv_data + plen,
				       k.mv_size - plen))
			break;
		if ((rc = gather(x, d.mv_data, d.mv_size)))
			break;
	}
	nedb__kv_cclose(&cur);
	return nedb__mdb_end(rc);
}

static bool plan_kind(struct exec *x, const struct nql_expr *t, int kind,
		      struct access *a);

/*
 * A SQL range (nql.h: nql_query.sql): sqlite3's order has false and true
 * as 0 and 1 among the numbers, and every string, array and object (as
 * its JSON text) above them.  The index's order has false < true <
 * numbers < strings < arrays < objects, so that a range over a number
 * runs from false (when 0 or 1 may be in it) and an open end runs to
 * the last entry: a superset, which the SQL condition re-checks.
 */
static void
sql_range(struct ixrange *r, int cmp, struct nql_span v)
{
	static const struct nql_span f = {"false", 5};
	unsigned char ftag;
	size_t n = nedb__index_key(r->lo, MAX_ENTRY, v);
	bool number = nedb__type(v) == T_NUMBER;

	nedb__index_key(&ftag, 1, f);
	memcpy(r->hi, r->lo, n);
	switch (cmp) {
	case CMP_EQ:
		r->lo_len = r->hi_len = n;
		break;
	case CMP_GT:
	case CMP_GE:	/* from v (or from false) to the end */
		r->lo_len = n;
		if (number && strtod(v.p, NULL) < 1.0) {
			r->lo[0] = ftag;
			r->lo_len = 1;
		}
		r->hi_len = 0;
		break;
	default:	/* from false to v */
		r->lo[0] = ftag;
		r->lo_len = 1;
		r->hi_len = n;
		break;
	}
}

/* Fills a (kind, bounds, estimate) if term can use an index. */
static bool
plan_term(struct exec *x, const struct nql_expr *t, struct access *a)
{
	unsigned kinds;
	struct access b;
	bool have = false;

	if (t->kind != EX_CMP && t->kind != EX_IN && t->kind != EX_CONTAINS)
		return false;
	if (strlen(t->path.dotted) > MAX_FIELD)
		return false;
	kinds = index_kinds(x, x->q->coll, t->path.dotted);
	/* a field may carry an eq and an ordered index: the one with the
	 * smaller estimate serves this condition */
	if ((kinds & NEDB__IX_BIT('e')) && plan_kind(x, t, 'e', &b)) {
		*a = b;
		have = true;
	}
	if ((kinds & NEDB__IX_BIT('o')) && plan_kind(x, t, 'o', &b) &&
	    (!have || b.est < a->est)) {
		*a = b;
		have = true;
	}
	return have;
}

/* Fills a if term can use the index of that kind on its field. */
static bool
plan_kind(struct exec *x, const struct nql_expr *t, int kind,
	  struct access *a)
{
	unsigned char pre[IXKEY_MAX];
	size_t plen;

	memset(a, 0, sizeof *a);
	a->term = t;
	a->kind = kind;
	plen = nedb__ix_prefix(pre, x->q->coll, t->path.dotted, kind);
	if (kind == 'e' && (t->kind == EX_CONTAINS ||
			    (t->kind == EX_CMP && t->cmp == CMP_EQ) ||
			    t->kind == EX_IN)) {
		for (size_t i = 0; i < t->nvals; i++) {
			if (!scalar_literal(t->vals[i]))
				return false;
			a->est += ix_count(x, pre, nedb__ixkey_value(
				pre, plen, t->vals[i]));
		}
		return true;
	}
	if (kind == 'o' && t->kind == EX_CMP && t->cmp != CMP_NE &&
	    scalar_literal(t->vals[0])) {
		enum nql_type ty = nedb__type(t->vals[0]);

		if (t->cmp != CMP_EQ && ty != T_NUMBER && ty != T_STRING)
			return false;	/* < > only hold for numbers, strings */
		if (x->q->sql)
			sql_range(&a->r, t->cmp, t->vals[0]);
		else
			nedb__ixrange(&a->r, t->cmp, t->vals[0]);
		a->est = range_count(x, pre, plen, a, 1000000);
		return true;
	}
	return false;
}

/* Collects the top-level AND terms of e. */
static void
conjuncts(const struct nql_expr *e, const struct nql_expr **out, size_t *n,
	  size_t max)
{
	if (!e)
		return;
	if (e->kind == EX_AND) {
		conjuncts(e->a, out, n, max);
		conjuncts(e->b, out, n, max);
	} else if (*n < max)
		out[(*n)++] = e;
}

/* SEARCH with search indexes: the rarest token's ids. */
struct tokpick {
	struct exec *x;
	unsigned char best[MAX_ENTRY];	/* its index entry */
	size_t bestlen;
	uint64_t bestn;
	bool any;
};

static void
pick_token(const char *tok, size_t n, void *payload)
{
	struct tokpick *t = payload;
	struct exec *x = t->x;
	unsigned char k[IXKEY_MAX];
	size_t p = 0, klen = 0;
	uint64_t total = 0;

	/* a document matches a token through any search-indexed field */
	for (size_t i = 0; i < x->nsearch_fields; i++) {
		p = nedb__ix_prefix(k, x->q->coll, x->search_fields[i].dotted,
				    's');
		klen = nedb__ixkey_token(k, p, tok, n);
		total += ix_count(x, k, klen);
	}
	if (!t->any || total < t->bestn) {
		t->any = true;
		t->bestn = total;
		t->bestlen = klen - p;
		memcpy(t->best, k + p, t->bestlen);
	}
}

static int
search_candidates(struct exec *x, struct tokpick *t)
{
	int rc = 0;

	for (size_t i = 0; i < x->nsearch_fields && !rc; i++) {
		unsigned char k[IXKEY_MAX];
		size_t p = nedb__ix_prefix(k, x->q->coll,
				     x->search_fields[i].dotted, 's');

		rc = ix_each(x, k, nedb__ixkey_entry(k, p, t->best, t->bestlen),
			     gather);
	}
	return rc;
}

/* The search-indexed fields of the collection (SEARCH uses them all). */
static int
load_search_fields(struct exec *x)
{
	unsigned char pk[MAX_COLL + 1];
	size_t c = nedb__collprefix(pk, x->q->coll);
	struct kvcur cur;
	MDB_val k = {c, pk}, d;
	int rc;

	if ((rc = nedb__kv_copen(&cur, &x->db->view, x->txn, DBI_IDXDEF)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
		char coll[MAX_COLL + 1], field[MAX_FIELD + 1];
		struct nql_path *v;

		if (!nedb__key_in(k.mv_data, k.mv_size, pk, c))
			break;
		if (nedb__ixdef_kind(d.mv_data, d.mv_size, NULL) != 's')
			continue;
		if ((rc = nedb__ixdef_get(k.mv_data, k.mv_size, coll, field)))
			break;
		v = nedb__realloc(x->search_fields, (x->nsearch_fields + 1) *
			    sizeof *v);
		if (!v) {
			rc = nedb__err(NEDB_EIO, "out of memory");
			break;
		}
		x->search_fields = v;
		if ((rc = nedb__path_parse(&v[x->nsearch_fields], field)))
			break;
		x->nsearch_fields++;
	}
	nedb__kv_cclose(&cur);
	return nedb__mdb_end(rc);
}

/*
 * ORDER BY f [DESC] LIMIT k on an ordered index: walk it in order.  Ids
 * under one key come in _id order (DESC walks keys backwards but each
 * key's ids forwards, as a stable sort would leave them).  A group whose
 * key may be cut, or holds arrays or objects, is sorted by value first.
 */
static int
index_order(struct exec *x, const char *field, bool desc)
{
	unsigned char pre[IXPRE_MAX];
	size_t plen = nedb__ix_prefix(pre, x->q->coll, field, 'o');
	struct nql_path path;
	struct rows group = {0};
	struct kvcur cur;
	MDB_val k, d;
	int rc;

	if ((rc = nedb__path_parse(&path, field)))
		return rc;
	if ((rc = nedb__kv_copen(&cur, &x->db->view, x->txn, DBI_IDX))) {
		nql_path_free(&path);
		return nedb__mdb(rc, "cannot read view");
	}
	k.mv_size = plen;
	k.mv_data = pre;
	if (desc) {
		/* position after the last key with the prefix */
		nedb__key_past(pre, plen, true);
		rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE);
		nedb__key_past(pre, plen, false);
		rc = nedb__kv_cget(&cur, &k, &d, rc ? MDB_LAST : MDB_PREV);
		/* MDB_SET, not MDB_FIRST_DUP: after MDB_LAST the cursor is
		 * at EOF and MDB_NEXT_DUP would find no more duplicates */
		if (!rc)
			rc = nedb__kv_cget(&cur, &k, &d, MDB_SET);
	} else
		rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE);
	while (!rc && !x->done) {
		bool sort_group;

		if (!nedb__key_in(k.mv_data, k.mv_size, pre, plen))
			break;
		sort_group = !nedb__ixentry_exact((char *)k.mv_data + plen,
						  k.mv_size - plen);
		group.n = 0;
		/* all ids of this key */
		for (;;) {
			const char *doc;
			size_t len;
			uint64_t seq;

			rc = head_doc(x, x->q->coll, d.mv_data, d.mv_size,
				      &doc, &len, &seq);
			if (rc == NEDB_ENOTFOUND)
				rc = 0;
			else if (rc)
				goto done;
			else {
				x->scanned++;
				int m = matches(x, doc, len);

				/* a group in exact key order goes straight out */
				if (m < 0) {
					rc = m;
					goto done;
				} else if (!m)
					;
				else if (!sort_group) {
					if ((rc = emit(x, doc, len)))
						goto done;
				} else if ((rc = rows_add(&group, doc, len,
							  d.mv_data, d.mv_size,
							  seq, NULL)))
					goto done;
			}
			if (x->done ||
			    nedb__kv_cget(&cur, &k, &d, MDB_NEXT_DUP))
				break;
		}
		if (sort_group && group.n > 1) {
			/* insertion sort by value, stable: ties keep _id order */
			for (size_t i = 1; i < group.n; i++) {
				struct row r = group.v[i];
				struct nql_span rv = nedb__path_get(r.doc,
							r.len, &path);
				size_t j = i;

				while (j > 0) {
					struct nql_span pv = nedb__path_get(
						group.v[j - 1].doc,
						group.v[j - 1].len, &path);
					int c = nedb__value_order(pv, rv);

					if ((desc ? -c : c) <= 0)
						break;
					group.v[j] = group.v[j - 1];
					j--;
				}
				group.v[j] = r;
			}
		}
		for (size_t i = 0; i < group.n && !x->done; i++)
			if ((rc = emit(x, group.v[i].doc, group.v[i].len)))
				goto done;
		rows_free(&group);
		if (desc) {
			rc = nedb__kv_cget(&cur, &k, &d, MDB_PREV_NODUP);
			if (!rc)
				rc = nedb__kv_cget(&cur, &k, &d, MDB_SET);
		} else
			rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT_NODUP);
	}
	rc = nedb__mdb_end(rc);
done:
	rows_free(&group);
	nedb__kv_cclose(&cur);
	nql_path_free(&path);
	return rc;
}

/* Sorting rows by ORDER BY keys (stable: merge sort). */
static int
row_cmp(const struct nql_query *q, const struct row *a, const struct row *b)
{
	for (size_t i = 0; i < q->norder; i++) {
		const struct nql_order *o = &q->order[i];
		int c = nedb__value_order(nedb__path_get(a->doc, a->len,
							 &o->path),
					  nedb__path_get(b->doc, b->len,
							 &o->path));

		if (c)
			return o->desc ? -c : c;
	}
	return 0;
}

static void
merge_sort(const struct nql_query *q, struct row *v, struct row *tmp,
	   size_t n)
{
	size_t m = n / 2, i = 0, j = m, k = 0;

	if (n < 2)
		return;
	merge_sort(q, v, tmp, m);
	merge_sort(q, v + m, tmp, n - m);
	while (i < m && j < n)
		tmp[k++] = row_cmp(q, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
	while (i < m)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

static int
sort_rows(const struct nql_query *q, struct rows *r)
{
	struct row *tmp;

	if (!q->norder || r->n < 2)
		return 0;
	if (!(tmp = nedb__malloc(r->n * sizeof *tmp)))
		return nedb__err(NEDB_EIO, "out of memory");
	merge_sort(q, r->v, tmp, r->n);
	free(tmp);
	return 0;
}

/* GROUP BY */

/*
 * Aggregates are doubles.  MIN and MAX also keep the text of the number
 * they chose (ties between equal doubles broken by the exact order of
 * value.c): a number beyond the range of a double, such as 1e400, has
 * no double to print, so it prints as it is stored.
 */
struct group {
	struct nql_span key;	/* points into its first row */
	char *keytext;
	uint64_t count;
	double *sum, *min, *max;
	struct nql_span *mint, *maxt;	/* into the rows of in */
	uint64_t *nnum;
};

static void
agg_name(nedb_buf *b, const struct nql_aggspec *a)
{
	static const char *const names[] = {"count", "sum", "avg", "min",
					    "max"};

	if (a->fn == AGG_COUNT)
		nedb_buf_puts(b, "\"count\"");
	else {
		nedb_buf_printf(b, "\"%s_", names[a->fn]);
		nedb_buf_puts(b, a->path.dotted);
		nedb_buf_puts(b, "\"");
	}
}

/* A sum or an average: null when it overflowed a double (JSON has no
 * infinity), as JSON.stringify writes one. */
static void
num_text(nedb_buf *b, double d)
{
	if (nedb__buf_double(b, d))
		nedb_buf_puts(b, "null");
}

static int
group_rows(struct exec *x, struct rows *in, struct rows *out)
{
	const struct nql_query *q = x->q;
	struct group *g = NULL;
	size_t ng = 0, na = q->naggs;
	nedb_buf b = {0};
	int rc = 0;

	for (size_t i = 0; i < in->n; i++) {
		struct nql_span k = nedb__path_get(in->v[i].doc, in->v[i].len,
						   &q->group_by);
		size_t j;

		if (!k.len)
			k = (struct nql_span){"null", 4};
		for (j = 0; j < ng; j++)
			if (nedb__value_eq(g[j].key, k))
				break;
		if (j == ng) {
			struct group *v = nedb__realloc(g, (ng + 1) * sizeof *g);

			if (!v) {
				rc = nedb__err(NEDB_EIO, "out of memory");
				goto done;
			}
			g = v;
			memset(&g[ng], 0, sizeof *g);
			g[ng].keytext = nedb__memdup(k.p, k.len);
			g[ng].key = (struct nql_span){g[ng].keytext, k.len};
			g[ng].sum = nedb__calloc(na + 1, sizeof(double));
			g[ng].min = nedb__calloc(na + 1, sizeof(double));
			g[ng].max = nedb__calloc(na + 1, sizeof(double));
			g[ng].mint = nedb__calloc(na + 1, sizeof *g[ng].mint);
			g[ng].maxt = nedb__calloc(na + 1, sizeof *g[ng].maxt);
			g[ng].nnum = nedb__calloc(na + 1, sizeof(uint64_t));
			if (!g[ng].keytext || !g[ng].sum || !g[ng].min ||
			    !g[ng].max || !g[ng].mint || !g[ng].maxt ||
			    !g[ng].nnum) {
				ng++;
				rc = nedb__err(NEDB_EIO, "out of memory");
				goto done;
			}
			ng++;
		}
		g[j].count++;
		for (size_t a = 0; a < na; a++) {
			struct nql_span v;
			double d;

			if (q->aggs[a].fn == AGG_COUNT)
				continue;
			v = nedb__path_get(in->v[i].doc, in->v[i].len,
					   &q->aggs[a].path);
			if (nedb__type(v) != T_NUMBER)
				continue;	/* non-numbers are skipped */
			d = strtod(v.p, NULL);
			if (!g[j].nnum[a] || d < g[j].min[a] ||
			    (d == g[j].min[a] &&
			     nedb__value_order(v, g[j].mint[a]) < 0)) {
				g[j].min[a] = d;
				g[j].mint[a] = v;
			}
			if (!g[j].nnum[a] || d > g[j].max[a] ||
			    (d == g[j].max[a] &&
			     nedb__value_order(v, g[j].maxt[a]) > 0)) {
				g[j].max[a] = d;
				g[j].maxt[a] = v;
			}
			g[j].sum[a] += d;
			g[j].nnum[a]++;
		}
	}
	for (size_t j = 0; j < ng; j++) {
		b.len = 0;
		nedb_buf_add(&b, "{", 1);
		nedb_buf_json_str(&b, q->group_by.dotted,
				  strlen(q->group_by.dotted));
		nedb_buf_add(&b, ":", 1);
		nedb_buf_add(&b, g[j].key.p, g[j].key.len);
		nedb_buf_printf(&b, ",\"count\":%llu",
				(unsigned long long)g[j].count);
		for (size_t a = 0; a < na; a++) {
			const struct nql_aggspec *s = &q->aggs[a];

			if (s->fn == AGG_COUNT)
				continue;
			nedb_buf_add(&b, ",", 1);
			agg_name(&b, s);
			nedb_buf_add(&b, ":", 1);
			if (s->fn == AGG_SUM)
				num_text(&b, g[j].sum[a]);
			else if (!g[j].nnum[a])
				nedb_buf_puts(&b, "null");
			else if (s->fn == AGG_AVG)
				num_text(&b, g[j].sum[a] / (double)g[j].nnum[a]);
			else {
				double d = s->fn == AGG_MIN ? g[j].min[a] :
					   g[j].max[a];
				struct nql_span t = s->fn == AGG_MIN ?
						    g[j].mint[a] : g[j].maxt[a];

				if (nedb__buf_double(&b, d))
					nedb_buf_add(&b, t.p, t.len);
			}
		}
		nedb_buf_add(&b, "}", 1);
		if ((rc = rows_add(out, b.p, b.len, "", 0, 0, NULL)))
			goto done;
	}
	/* groups in the order of their key */
	if (!q->norder && out->n > 1) {
		struct nql_query gq = *q;
		struct nql_order o = {q->group_by, false};

		gq.order = &o;
		gq.norder = 1;
		rc = sort_rows(&gq, out);
	}
done:
	for (size_t j = 0; j < ng; j++) {
		free(g[j].keytext);
		free(g[j].sum);
		free(g[j].min);
		free(g[j].max);
		free(g[j].mint);
		free(g[j].maxt);
		free(g[j].nnum);
	}
	free(g);
	nedb_buf_free(&b);
	return rc;
}

/* TRAVERSE */

struct trav {
	struct exec *x;
	struct rows *out;
	int rc;
};

static int
on_neighbor(const char *node, const char *rel, void *payload)
{
	struct trav *t = payload;
	struct exec *x = t->x;
	const char *colon = strchr(node, ':');
	char coll[MAX_COLL + 1];
	size_t c = (size_t)(colon - node);
	const char *id = colon + 1;
	nedb_buf doc = {0};
	uint64_t seq;
	int rc = 0;

	(void)rel;
	memcpy(coll, node, c);
	coll[c] = 0;
	for (size_t i = 0; i < t->out->n; i++)
		if (!strcmp(t->out->v[i].id, id) && t->out->v[i].coll &&
		    !strcmp(t->out->v[i].coll, coll))
			return 0;	/* each target once */
	if (x->as_of == NEDB_HEAD) {
		const char *d;
		size_t len;

		rc = head_doc(x, coll, id, strlen(id), &d, &len, &seq);
		if (!rc)
			rc = rows_add(t->out, d, len, id, strlen(id), seq,
				      coll);
		else if (rc == NEDB_ENOTFOUND)
			rc = 0;
	} else {
		bool found;

		rc = past_doc(x, coll, id, strlen(id), &doc, &seq, &found);
		if (!rc && found)
			rc = rows_add(t->out, doc.p, doc.len, id, strlen(id),
				      seq, coll);
	}
	nedb_buf_free(&doc);
	return rc;
}

static int
traverse(struct exec *x, struct rows *in, struct rows *out)
{
	struct trav t = {x, out, 0};
	int rc = 0;

	for (size_t i = 0; i < in->n && !rc; i++) {
		const char *coll = in->v[i].coll ? in->v[i].coll : x->q->coll;
		size_t n = strlen(coll) + 1 + strlen(in->v[i].id) + 1;
		char *node = nedb__malloc(n);

		if (!node)
			return nedb__err(NEDB_EIO, "out of memory");
		snprintf(node, n, "%s:%s", coll, in->v[i].id);
		rc = nedb_neighbors(x->db, node, x->q->traverse,
				    x->q->traverse_in, x->as_of, on_neighbor,
				    &t);
		free(node);
	}
	return rc;
}

/* TRACE caused_by: the ops that caused the rows' versions, transitively */
static int
trace(struct exec *x, struct rows *in, struct rows *out)
{
	uint64_t *queue = NULL, *seen = NULL;
	size_t nq = 0, head = 0, ns = 0;
	nedb_buf line = {0};
	int rc = 0;

	queue = nedb__malloc((in->n + 1) * sizeof *queue);
	if (!queue)
		return nedb__err(NEDB_EIO, "out of memory");
	for (size_t i = 0; i < in->n; i++)
		queue[nq++] = in->v[i].seq;
	while (head < nq) {
		uint64_t s = queue[head++];
		struct seqent se;
		const char *cb, *sc;
		size_t scn;
		bool dup = false;

		for (size_t i = 0; i < ns; i++)
			dup |= seen[i] == s;
		if (dup)
			continue;
		{
			uint64_t *v = nedb__realloc(seen, (ns + 1) * sizeof *v);

			if (!v) {
				rc = nedb__err(NEDB_EIO, "out of memory");
				break;
			}
			seen = v;
			seen[ns++] = s;
		}
		if ((rc = nedb__op_line(x->db, s, &line, &se)))
			break;
		nedb__log_scalars(line.p, line.len, &sc, &scn);
		if ((cb = memmem(sc, scn, ",\"caused_by\":[", 14))) {
			const char *p = cb + 14;

			while (*p && *p != ']') {
				uint64_t *v = nedb__realloc(queue, (nq + 1) *
						      sizeof *v);
				char *end;

				if (!v) {
					rc = nedb__err(NEDB_EIO,
						       "out of memory");
					goto done;
				}
				queue = v;
				queue[nq++] = strtoull(p, &end, 10);
				p = *end == ',' ? end + 1 : end;
			}
		}
		/* the rows themselves are not their own causes */
		if (head > in->n &&
		    (rc = rows_add(out, line.p, line.len, "", 0, s, NULL)))
			break;
	}
done:
	free(queue);
	free(seen);
	nedb_buf_free(&line);
	return rc;
}

static void
explain(struct exec *x, nedb_buf *b)
{
	const struct nql_query *q = x->q;

	nedb_buf_puts(b, "{\"coll\":");
	nedb_buf_json_str(b, q->coll, strlen(q->coll));
	nedb_buf_printf(b, ",\"plan\":\"%s\"", x->plan);
	if (x->ixfield[0]) {
		nedb_buf_puts(b, ",\"index\":{\"field\":");
		nedb_buf_json_str(b, x->ixfield, strlen(x->ixfield));
		nedb_buf_printf(b, ",\"kind\":\"%s\"}", x->ixkind);
	} else
		nedb_buf_puts(b, ",\"index\":null");
	if (x->ixcond[0])
		nedb_buf_printf(b, ",\"use\":\"%s\"", x->ixcond);
	nedb_buf_printf(b, ",\"estimated\":%llu,\"scanned\":%llu,"
			"\"rows\":%llu", (unsigned long long)x->estimated,
			(unsigned long long)x->scanned,
			(unsigned long long)x->emitted);
	if (q->has_as_of)
		nedb_buf_printf(b, ",\"as_of\":%llu",
				(unsigned long long)x->as_of);
	nedb_buf_puts(b, "}");
}

static uint64_t
coll_count(struct exec *x)
{
	MDB_val k = {strlen(x->q->coll), x->q->coll}, d;
	uint64_t n;

	if (nedb__kv_get(&x->db->view, x->txn, DBI_COLLS, &k, &d) ||
	    nedb__num_get(d.mv_data, d.mv_size, &n))
		return 0;
	return n;
}

static const char *const cond_names[] = {"=", "!=", "<", "<=", ">", ">="};

/* Chooses the candidate source and runs it. */
static int
candidates(struct exec *x)
{
	const struct nql_query *q = x->q;
	const struct nql_expr *terms[64];
	struct access best, a;
	struct idset ids = {0};
	bool have = false;
	size_t nt = 0;
	int rc;

	if (x->as_of != NEDB_HEAD) {
		x->plan = "as-of-scan";
		x->estimated = 0;
		return scan_past(x, q->coll);
	}
	conjuncts(q->where, terms, &nt, 64);
	/* SQL: _id = or IN reads those documents (nql.h) */
	for (size_t i = 0; q->sql && i < nt; i++) {
		const struct nql_expr *t = terms[i];

		if ((t->kind != EX_IN && !(t->kind == EX_CMP &&
					   t->cmp == CMP_EQ)) ||
		    t->path.n != 1 || strcmp(t->path.dotted, "_id"))
			continue;
		x->plan = "id";
		snprintf(x->ixfield, sizeof x->ixfield, "_id");
		snprintf(x->ixkind, sizeof x->ixkind, "id");
		snprintf(x->ixcond, sizeof x->ixcond, "%s",
			 t->kind == EX_IN ? "IN" : "=");
		x->estimated = t->nvals;
		x->cand = &ids;
		rc = 0;
		for (size_t k = 0; k < t->nvals && !rc; k++) {
			size_t n;
			char *id = nedb__string_value(t->vals[k], &n);

			if (id && n <= MAX_ID && !memchr(id, 0, n))
				rc = gather(x, id, n);
			free(id);
		}
		if (!rc)
			rc = visit_ids(x, &ids);
		idset_free(&ids);
		return rc;
	}
	for (size_t i = 0; i < nt; i++)
		if (plan_term(x, terms[i], &a) && (!have || a.est < best.est)) {
			best = a;
			have = true;
		}
	if (q->search && x->nsearch_fields) {
		struct tokpick t = {.x = x};

		nedb__tokens(q->search, strlen(q->search), pick_token, &t);
		if (t.any && (!have || t.bestn < best.est)) {
			x->plan = "index";
			snprintf(x->ixfield, sizeof x->ixfield, "%s",
				 x->search_fields[0].dotted);
			snprintf(x->ixkind, sizeof x->ixkind, "search");
			snprintf(x->ixcond, sizeof x->ixcond, "SEARCH");
			x->estimated = t.bestn;
			x->cand = &ids;
			if (!(rc = search_candidates(x, &t)))
				rc = visit_ids(x, &ids);
			idset_free(&ids);
			return rc;
		}
	}
	/* ORDER BY f LIMIT k on an ordered index, when nothing is more
	 * selective than walking the index until k rows are found; for SQL
	 * (its rows in rowid order, nql.h) also without LIMIT, when no
	 * index narrows the rows: a walk instead of a sort of them all */
	if (q->norder == 1 && (q->has_limit || q->sql) && !q->has_group &&
	    !q->traverse &&
	    !q->trace && (index_kinds(x, q->coll, q->order[0].path.dotted) &
			  NEDB__IX_BIT('o')) &&
	    (!have || (q->has_limit && best.est > q->offset + q->limit))) {
		x->plan = "index-order";
		snprintf(x->ixfield, sizeof x->ixfield, "%s",
			 q->order[0].path.dotted);
		snprintf(x->ixkind, sizeof x->ixkind, "ordered");
		snprintf(x->ixcond, sizeof x->ixcond, "ORDER BY");
		x->estimated = coll_count(x);
		x->stream = true;
		return index_order(x, q->order[0].path.dotted,
				   q->order[0].desc);
	}
	if (!have) {
		x->plan = "scan";
		x->estimated = coll_count(x);
		return scan_head(x, q->coll);
	}
	x->plan = "index";
	snprintf(x->ixfield, sizeof x->ixfield, "%s", best.term->path.dotted);
	snprintf(x->ixkind, sizeof x->ixkind, "%s",
		 best.kind == 'e' ? "eq" : "ordered");
	snprintf(x->ixcond, sizeof x->ixcond, "%s",
		 best.term->kind == EX_IN ? "IN" :
		 best.term->kind == EX_CONTAINS ? "CONTAINS" :
		 cond_names[best.term->cmp]);
	x->estimated = best.est;
	x->cand = &ids;
	if ((best.kind == 'e' && best.term->nvals == 1) ||
	    (best.kind == 'o' && best.term->kind == EX_CMP &&
	     best.term->cmp == CMP_EQ)) {
		/* one key: its ids come sorted and once each; stream them */
		unsigned char pre[IXKEY_MAX];
		size_t plen = nedb__ix_prefix(pre, q->coll,
					      best.term->path.dotted, best.kind);

		return ix_each(x, pre, nedb__ixkey_value(pre, plen,
			       best.term->vals[0]), visit_one);
	}
	if (best.kind == 'e') {
		unsigned char pre[IXKEY_MAX];
		size_t plen = nedb__ix_prefix(pre, q->coll,
					      best.term->path.dotted, best.kind);

		rc = 0;
		for (size_t i = 0; i < best.term->nvals && !rc; i++)
			rc = ix_each(x, pre, nedb__ixkey_value(pre, plen,
				     best.term->vals[i]), gather);
	} else {
		unsigned char pre[IXPRE_MAX];
		size_t plen = nedb__ix_prefix(pre, q->coll,
					      best.term->path.dotted, best.kind);

		rc = range_each(x, pre, plen, &best);
	}
	if (!rc)
		rc = visit_ids(x, &ids);
	idset_free(&ids);
	return rc;
}

static int
nedb__query_run(nedb *db, const struct nql_query *q, nedb_row_fn fn,
		void *payload, nedb_buf *plan)
{
	struct exec x = {.db = db, .q = q, .fn = fn, .payload = payload};
	struct rows later = {0};
	struct applied a;
	int rc;

	if ((rc = nedb_check_coll(q->coll)))
		return rc;
	if (q->has_group && (q->traverse || q->trace))
		return nedb__err(NEDB_EUSAGE, "%s cannot follow GROUP BY: "
				 "grouped rows are not documents",
				 q->traverse ? "TRAVERSE" : "TRACE");
	if ((rc = nedb__txn(db, &x.txn)))
		return rc;
	x.now = nedb__now_ms();
	x.as_of = NEDB_HEAD;
	if (q->has_as_of && q->as_of_time) {
		/* AS OF TIMESTAMP: the last op at or before it, from the
		 * view's index of op times (never beyond the head) */
		if ((rc = nedb__seq_at(db, x.txn, q->as_of_ms, &x.as_of)))
			goto done;
	} else if (q->has_as_of) {
		if ((rc = nedb__view_applied(&db->view, x.txn, &a)))
			goto done;
		if (q->as_of > a.seq) {
			rc = nedb__err(NEDB_EUSAGE, "no op %llu yet: the head "
				       "is seq %llu",
				       (unsigned long long)q->as_of,
				       (unsigned long long)a.seq);
			goto done;
		}
		x.as_of = q->as_of;
	}
	if (q->search && (rc = load_search_fields(&x)))
		goto done;
	/* Rows stream straight out unless a later stage needs them all. */
	x.stream = !q->has_group && !q->norder && !q->traverse && !q->trace;
	if ((rc = candidates(&x)))
		goto done;
	if (!x.stream || x.rows.n) {
		struct rows *cur = &x.rows;

		if (q->has_group) {
			if ((rc = group_rows(&x, &x.rows, &later)))
				goto done;
			rows_free(&x.rows);
			x.rows = later;
			memset(&later, 0, sizeof later);
		}
		if (q->norder && strcmp(x.plan, "index-order") &&
		    (rc = sort_rows(q, cur)))
			goto done;
		if (q->traverse) {
			if ((rc = traverse(&x, cur, &later)))
				goto done;
			rows_free(&x.rows);
			x.rows = later;
			memset(&later, 0, sizeof later);
		}
		if (q->trace) {
			if ((rc = trace(&x, cur, &later)))
				goto done;
			rows_free(&x.rows);
			x.rows = later;
			memset(&later, 0, sizeof later);
		}
		for (size_t i = 0; i < x.rows.n && !x.done; i++)
			if ((rc = emit(&x, x.rows.v[i].doc, x.rows.v[i].len)))
				goto done;
	}
	if (plan)
		explain(&x, plan);
done:
	rows_free(&x.rows);
	rows_free(&later);
	for (size_t i = 0; i < x.nsearch_fields; i++)
		nql_path_free(&x.search_fields[i]);
	free(x.search_fields);
	nedb__txn_done(db, x.txn);
	return rc;
}

/*
 * auto_index: with "auto_index": N in meta.json's options (read at
 * open: db->auto_index), a field that queries filter or sort on N times
 * without an index gets one (an index op like any other): ordered if it
 * was used for a range or ORDER BY, eq otherwise.  The counts live in
 * the view's usage table, which is statistics, not state.
 */
struct used {
	const char *field[32];
	bool ordered[32];
	size_t n;
};

static void
note_field(struct used *u, const char *f, bool ordered)
{
	for (size_t i = 0; i < u->n; i++)
		if (!strcmp(u->field[i], f)) {
			u->ordered[i] |= ordered;
			return;
		}
	if (u->n < 32) {
		u->field[u->n] = f;
		u->ordered[u->n++] = ordered;
	}
}

static void
note_expr(struct used *u, const struct nql_expr *e)
{
	if (!e)
		return;
	switch (e->kind) {
	case EX_AND:
	case EX_OR:
		note_expr(u, e->a);
		note_expr(u, e->b);
		break;
	case EX_NOT:
		note_expr(u, e->a);
		break;
	case EX_CMP:
		if (e->cmp != CMP_NE)	/* no index answers != */
			note_field(u, e->path.dotted, e->cmp != CMP_EQ);
		break;
	case EX_IN:
	case EX_CONTAINS:
		note_field(u, e->path.dotted, false);
		break;
	default:
		break;
	}
}

static int
auto_index(nedb *db, const struct nql_query *q, uint64_t threshold)
{
	struct used u = {0};
	int rc;

	note_expr(&u, q->where);
	for (size_t i = 0; i < q->norder; i++)
		note_field(&u, q->order[i].path.dotted, true);
	if (!u.n || !db->writable)
		return 0;
	if ((rc = nedb_write_begin(db)))
		return rc;
	for (size_t i = 0; i < u.n && !rc; i++) {
		unsigned char k[IXDEF_MAX];
		MDB_val kv = {0, k}, d;
		unsigned char cnt[NUM_LEN];
		uint64_t n = 0;

		if (nedb__check_field(u.field[i]))
			continue;
		kv.mv_size = nedb__ixdef_key(k, q->coll, u.field[i]);
		if (!nedb__kv_get(&db->view, db->wtxn, DBI_IDXDEF, &kv, &d))
			continue;	/* indexed already */
		if (!nedb__kv_get(&db->view, db->wtxn, DBI_USAGE, &kv, &d) &&
		    nedb__num_get(d.mv_data, d.mv_size, &n))
			n = 0;		/* statistics: start again */
		nedb__num_put(cnt, ++n);
		d.mv_size = sizeof cnt;
		d.mv_data = cnt;
		db->wtouched = true;	/* a commit that appends nothing */
		if ((rc = nedb__kv_put(&db->view, db->wtxn, DBI_USAGE, &kv, &d,
				  0))) {
			rc = nedb__mdb(rc, "cannot write view");
			break;
		}
		if (n >= threshold)
			rc = nedb_write_index(db, q->coll, u.field[i],
					      u.ordered[i] ? "ordered" : "eq",
					      NULL, NULL);
	}
	if (rc)
		nedb_write_abort(db);
	else
		rc = nedb_write_commit(db);
	return rc;
}

/* Runs a parsed query in a read snapshot of its own if none is open. */
static int
run(nedb *db, struct nql_query *q, unsigned flags, nedb_row_fn fn,
    void *payload)
{
	bool began = !db->rtxn && !db->wtxn;
	nedb_buf plan = {0};
	int rc;

	db->interrupt = 0;
	nedb__test_pause("query");
	if (flags & NEDB_QUERY_EXPLAIN)
		q->explain = true;
	if (began && (rc = nedb_read_begin(db)))
		return rc;
	rc = nedb__query_run(db, q, fn, payload, q->explain ? &plan : NULL);
	if (!rc && q->explain)
		rc = fn(plan.p, plan.len, payload);
	if (began)
		nedb_read_end(db);
	nedb_buf_free(&plan);
	if (!rc && began && !q->has_as_of && !q->explain && !q->sql) {
		uint64_t n = db->auto_index;

		if (n)
			rc = auto_index(db, q, n);
	}
	return rc;
}

void
nedb_interrupt(nedb *db)
{
	db->interrupt = 1;
}

int
nedb__query_exec(nedb *db, struct nql_query *q, unsigned flags,
		 nedb_row_fn fn, void *payload)
{
	return run(db, q, flags, fn, payload);
}

int
nedb_query(nedb *db, const char *nql, unsigned flags, nedb_row_fn fn,
	   void *payload)
{
	return nedb_query_as_of(db, nql, flags, NEDB_HEAD, fn, payload);
}

int
nedb_query_as_of(nedb *db, const char *nql, unsigned flags, uint64_t as_of,
		 nedb_row_fn fn, void *payload)
{
	struct nql_query *q = NULL;
	struct nql_error err;
	int rc;

	if ((rc = nql_parse(nql, &q, &err))) {
		size_t pos = err.pos > strlen(nql) ? strlen(nql) : err.pos;

		rc = nedb__err(NEDB_EUSAGE, "syntax error at column %zu: %s",
			       pos + 1, err.msg);
		nedb__set_errpos((long)pos);
		return rc;
	}
	if (as_of != NEDB_HEAD && !q->has_as_of) {
		q->has_as_of = true;
		q->as_of = as_of;
	}
	rc = run(db, q, flags, fn, payload);
	nql_free(q);
	return rc;
}

/* Parses a Mongo sort spec {"f":1,"g":-1} into q->order. */
static int
parse_sort(struct nql_query *q, const char *sort)
{
	nedb_buf b = {0};
	int rc;

	/* reuse the document helpers: normalize, then walk the members */
	if ((rc = nedb__doc_normalize(&b, sort, strlen(sort))))
		return nedb__err(NEDB_EUSAGE, "bad --sort: %s", nedb_errmsg());
	for (const char *p = b.p + 1; *p && *p != '}';) {
		const char *k = p, *v;
		char *key;
		struct nql_order *o;

		while (*++p != '"')
			if (*p == '\\')
				p++;
		p++;			/* past the closing quote */
		if ((rc = nedb__json_string(k, (size_t)(p - k), &key)))
			break;
		v = ++p;		/* past ':' */
		while (*p && *p != ',' && *p != '}')
			p++;
		if (!((p - v == 1 && *v == '1') ||
		      (p - v == 2 && !memcmp(v, "-1", 2)))) {
			free(key);
			rc = nedb__err(NEDB_EUSAGE, "bad --sort: want "
				       "{\"field\":1 or -1, ...}");
			break;
		}
		o = nedb__realloc(q->order, (q->norder + 1) * sizeof *o);
		if (!o) {
			free(key);
			rc = nedb__err(NEDB_EIO, "out of memory");
			break;
		}
		q->order = o;
		o[q->norder].desc = *v == '-';
		rc = nedb__path_parse(&o[q->norder].path, key);
		free(key);
		if (rc)
			break;
		q->norder++;
		if (*p == ',')
			p++;
	}
	nedb_buf_free(&b);
	return rc;
}

int
nedb_find(nedb *db, const nedb_find_opts *o, unsigned flags, nedb_row_fn fn,
	  void *payload)
{
	struct nql_query *q = nedb__calloc(1, sizeof *q);
	int rc;

	if (!q)
		return nedb__err(NEDB_EIO, "out of memory");
	if (!(q->coll = nedb__strdup(o->coll))) {
		free(q);
		return nedb__err(NEDB_EIO, "out of memory");
	}
	if ((rc = nedb_check_coll(o->coll)))
		goto done;
	if ((rc = nedb__filter_compile(o->filter ? o->filter : "{}",
				       o->filter ? strlen(o->filter) : 2,
				       &q->where)))
		goto done;
	if (o->sort && (rc = parse_sort(q, o->sort)))
		goto done;
	q->offset = o->skip;
	q->has_limit = o->has_limit;
	q->limit = o->limit;
	if (o->as_of != NEDB_HEAD) {
		q->has_as_of = true;
		q->as_of = o->as_of;
	}
	rc = run(db, q, flags, fn, payload);
done:
	nql_free(q);
	return rc;
}
