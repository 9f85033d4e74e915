/*
 * diff.c - what changed between two points of time (nedb_diff, SPEC §9's
 * nedb-diff): one change per document whose text differs between the
 * database as of seq `from` and as of seq `to`.
 *
 * Work is in proportion to the ops between the two points, not to the
 * database: the ops from+1..to are read by seq (the view's seqs table
 * says where each line is, archives included), the documents they
 * touched are collected, sorted and made unique, and each is read as of
 * both ends through the version index (nedb__version_at, one B-tree
 * lookup each) and its op's line.  The one exception is a drop of a
 * collection: the documents it deleted are found by a walk of that
 * collection's versions (the drop's op names no document).
 *
 * Invariants:
 *  1. One read snapshot for the whole diff: both ends and every op in
 *     between are of the same prefix of the log.
 *  2. A document is reported at most once, in (collection, id) byte
 *     order, and only when its text as of `from` differs from its text
 *     as of `to` (absent counts as a text of its own): a document put
 *     and deleted again in between, or put back with the same text, is
 *     not a change.  Texts are compared as stored (compact JSON, members
 *     in the order they were written).
 *  3. Every version reported is read from its op's line and checked
 *     against it (nedb__read_version): damage is an error, never data.
 */
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "kv.h"

struct touched {
	char *coll, *id;
	size_t idlen;
};

struct tset {
	struct touched *t;
	size_t n, cap;
};

static void
tset_add(struct tset *s, const char *coll, size_t clen, const char *id,
	 size_t idlen)
{
	struct touched *t;

	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 64;

		s->t = nedb__realloc(s->t, cap * sizeof *s->t);
		s->cap = cap;
	}
	t = &s->t[s->n++];
	t->coll = nedb__memdup(coll, clen);
	t->id = nedb__memdup(id, idlen);
	t->idlen = idlen;
}

static void
tset_free(struct tset *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->t[i].coll);
		free(s->t[i].id);
	}
	free(s->t);
}

static int
cmp_touched(const void *a, const void *b)
{
	const struct touched *x = a, *y = b;
	int c = strcmp(x->coll, y->coll);
	size_t n = x->idlen < y->idlen ? x->idlen : y->idlen;

	if (c)
		return c;
	if ((c = memcmp(x->id, y->id, n)))
		return c;
	return (x->idlen > y->idlen) - (x->idlen < y->idlen);
}

/* A string member's value (a JSON string literal) decoded into *out
 * (caller frees): without libjq when it has no escape. */
static int
member_str(const char *lit, size_t len, char **out, size_t *n)
{
	int rc;

	if (len >= 2 && lit[0] == '"' && !memchr(lit, '\\', len)) {
		*out = nedb__memdup(lit + 1, len - 2);
		*n = len - 2;
		return 0;
	}
	if ((rc = nedb__json_string(lit, len, out)))
		return nedb__err(NEDB_ECORRUPT, "corrupt log: a malformed "
				 "string member");
	*n = strlen(*out);
	return 0;
}

/* The documents of coll that the drop at seq deleted: those with a
 * version at that seq. */
static int
add_dropped(nedb *db, MDB_txn *txn, const char *coll, uint64_t seq,
	    struct tset *s)
{
	unsigned char pre[VERKEY_MAX];
	size_t plen = nedb__collprefix(pre, coll);
	struct kvcur c;
	MDB_val k = {plen, pre}, d;
	const char *id;
	size_t idlen;
	uint64_t vs;
	int rc;

	if ((rc = nedb__kv_copen(&c, &db->view, txn, DBI_VERS)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&c, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&c, &k, &d, MDB_NEXT)) {
		if (!nedb__verkey_get(k.mv_data, k.mv_size, pre, plen, &id,
				      &idlen, &vs))
			break;
		if (vs == seq)
			tset_add(s, coll, strlen(coll), id, idlen);
	}
	nedb__kv_cclose(&c);
	return rc == MDB_NOTFOUND || rc == 0 ? 0 :
	       nedb__mdb(rc, "cannot read view");
}

/* The documents op seq touched (put, delete, drop), in coll if set. */
static int
add_op(nedb *db, MDB_txn *txn, uint64_t seq, const char *coll,
       nedb_buf *line, struct tset *s)
{
	static const char *const keys[] = {"op", "coll", "id"};
	const char *v[3];
	size_t vlen[3], clen = 0, idlen = 0;
	char *c = NULL, *id = NULL;
	struct seqent se;
	int rc;

	if ((rc = nedb__op_line(db, seq, line, &se)))
		return rc;
	nedb__doc_members(line->p, keys, 3, v, vlen);
	if (!v[0] || !v[1])
		return 0;	/* genesis, checkpoint, link, ...: no document */
#define IS(lit) (vlen[0] == sizeof lit + 1 && !memcmp(v[0] + 1, lit, \
						       sizeof lit - 1))
	if (!IS("put") && !IS("patch") && !IS("delete") && !IS("drop"))
		return 0;	/* index, expire: no new version */
	if ((rc = member_str(v[1], vlen[1], &c, &clen)))
		return rc;
	if (coll && strcmp(c, coll))
		goto done;
	if (IS("drop"))
		rc = add_dropped(db, txn, c, seq, s);
	else if (!v[2])
		rc = nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: a "
			       "%s without an id", (unsigned long long)seq,
			       IS("delete") ? "delete" : "put");
	else if (!(rc = member_str(v[2], vlen[2], &id, &idlen)))
		tset_add(s, c, clen, id, idlen);
#undef IS
done:
	free(c);
	free(id);
	return rc;
}

/* The text of t as of seq upto into out: *doc NULL when it had none. */
static int
text_at(nedb *db, MDB_txn *txn, const struct touched *t, uint64_t upto,
	nedb_buf *out, const char **doc, size_t *len, uint64_t *seq)
{
	struct seqent se;
	struct verent ve;
	int rc;

	*doc = NULL;
	*len = 0;
	*seq = 0;
	rc = nedb__version_at(db, txn, t->coll, t->id, t->idlen, upto, seq,
			      &ve);
	if (rc == NEDB_ENOTFOUND)
		return 0;
	if (rc || !OP_IS_VERSION(ve.kind))
		return rc;
	return nedb__version_text(db, *seq, ve.kind, t->coll, t->id, t->idlen,
				  out, &se, doc, len);
}

int
nedb_diff(nedb *db, uint64_t from, uint64_t to, const char *coll,
	  nedb_change_fn fn, void *payload)
{
	struct tset s = {0};
	nedb_buf line = {0}, b = {0}, a = {0};
	struct applied ap;
	MDB_txn *txn;
	int rc;

	if (coll && (rc = nedb_check_coll(coll)))
		return rc;
	if (from > to)
		return nedb__err(NEDB_EUSAGE, "seq %llu is after seq %llu: "
				 "give the earlier point first",
				 (unsigned long long)from,
				 (unsigned long long)to);
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if ((rc = nedb__view_applied(&db->view, txn, &ap)))
		goto done;
	if (db->wtxn)
		ap = db->wa;
	if (to > ap.seq) {
		rc = nedb__err(NEDB_EUSAGE, "no op %llu yet: the head is seq "
			       "%llu", (unsigned long long)to,
			       (unsigned long long)ap.seq);
		goto done;
	}
	for (uint64_t seq = from + 1; seq <= to && seq > from; seq++)
		if ((rc = add_op(db, txn, seq, coll, &line, &s)))
			goto done;
	if (s.n > 1)
		qsort(s.t, s.n, sizeof *s.t, cmp_touched);
	for (size_t i = 0; i < s.n; i++) {
		const struct touched *t = &s.t[i];
		nedb_change c;

		if (i && !cmp_touched(t, &s.t[i - 1]))
			continue;
		memset(&c, 0, sizeof c);
		if ((rc = text_at(db, txn, t, from, &b, &c.before,
				  &c.before_len, &c.before_seq)) ||
		    (rc = text_at(db, txn, t, to, &a, &c.after, &c.after_len,
				  &c.after_seq)))
			goto done;
		if (!c.before && !c.after)
			continue;
		if (c.before && c.after && c.before_len == c.after_len &&
		    !memcmp(c.before, c.after, c.after_len))
			continue;
		c.coll = t->coll;
		c.id = t->id;
		c.idlen = t->idlen;
		c.change = !c.before ? "added" : !c.after ? "removed" :
			   "changed";
		if (!c.before)
			c.before_seq = 0;
		if (!c.after)
			c.after_seq = 0;
		if ((rc = fn(&c, payload)))
			goto done;
	}
done:
	nedb__txn_done(db, txn);
	tset_free(&s);
	nedb_buf_free(&line);
	nedb_buf_free(&b);
	nedb_buf_free(&a);
	return rc;
}

int
nedb_change_json(nedb_buf *out, const nedb_change *c)
{
	nedb_buf_puts(out, "{\"coll\":");
	nedb_buf_json_str(out, c->coll, strlen(c->coll));
	nedb_buf_puts(out, ",\"id\":");
	nedb_buf_json_str(out, c->id, c->idlen);
	nedb_buf_printf(out, ",\"change\":\"%s\",\"before\":", c->change);
	if (c->before)
		nedb_buf_add(out, c->before, c->before_len);
	else
		nedb_buf_puts(out, "null");
	nedb_buf_puts(out, ",\"after\":");
	if (c->after)
		nedb_buf_add(out, c->after, c->after_len);
	else
		nedb_buf_puts(out, "null");
	return nedb_buf_puts(out, "}");
}
