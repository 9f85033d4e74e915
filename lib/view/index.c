/*
 * index.c - secondary indexes: eq, ordered and search, kept by apply().
 *
 * Definitions live in idxdef, a table with sorted duplicates: key
 * coll \0 field, one datum per kind ("eq", "ordered", "search"), so that
 * a field may carry an index of each kind and the planner picks per
 * condition.  Entries are in idx, a table with sorted duplicates:
 *
 *   key  coll \0 field \0 K \0 entry      data  id
 *
 * with K the kind's letter (e, o, s).  The bytes are codec.c's
 * (nedb__ix_prefix, nedb__ixkey_value, nedb__ixkey_token).
 *
 * where entry is, by kind:
 *   eq       nedb__index_key of the field's value; for an array, of each
 *            element (so CONTAINS and tags are indexed); none if absent
 *   ordered  nedb__index_key of the value, for every document, the absent
 *            ones included (tag 0), so that a walk of the index visits
 *            the whole collection in ORDER BY's total order
 *   search   each lowercase token of the field's string values
 *
 * Entries are cut to fit LMDB's key limit, so an index finds candidates:
 * the executor always re-checks the condition on the document.
 *
 * Invariant: the entries of a document are a function of its text alone;
 * removing a document's entries removes exactly what adding them added.
 */
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "kv.h"
#include "nql.h"

enum ixkind { IX_EQ = 'e', IX_ORDERED = 'o', IX_SEARCH = 's' };

int
nedb__index_kind(const char *name)
{
	if (!strcmp(name, "eq"))
		return IX_EQ;
	if (!strcmp(name, "ordered"))
		return IX_ORDERED;
	if (!strcmp(name, "search"))
		return IX_SEARCH;
	return 0;
}

int
nedb__check_field(const char *field)
{
	size_t n = strlen(field);

	if (n == 0 || n > MAX_FIELD || field[0] == '.' || field[n - 1] == '.'
	    || strstr(field, "..") || nedb_check_id(field, n))
		return nedb__err(NEDB_EINPUT, "bad field '%.80s': want a "
				 "dotted path of 1-%d bytes", field,
				 MAX_FIELD);
	return 0;
}

/*
 * Splits "a.b.c" into a path.  Like the NQL parser's paths (nql_parse.c)
 * each part is its own allocation, so that one destructor frees either:
 * nql_path_free.
 */
int
nedb__path_parse(struct nql_path *p, const char *dotted)
{
	size_t n = 1;
	const char *tok, *next;

	memset(p, 0, sizeof *p);
	for (const char *c = dotted; *c; c++)
		n += *c == '.';
	if (!(p->dotted = nedb__strdup(dotted)) ||
	    !(p->parts = nedb__calloc(n, sizeof *p->parts)))
		goto oom;
	for (tok = dotted; tok; tok = next) {
		size_t len;

		next = strchr(tok, '.');
		len = next ? (size_t)(next - tok) : strlen(tok);
		if (!(p->parts[p->n] = nedb__memdup(tok, len)))
			goto oom;
		p->n++;
		if (next)
			next++;
	}
	return 0;
oom:
	nql_path_free(p);
	return nedb__err(NEDB_EIO, "out of memory");
}


/* The kinds of index on coll.field, as a mask of NEDB__IX_BIT(kind). */
unsigned
nedb__index_kinds(struct view *v, MDB_txn *txn, const char *coll,
		  const char *field)
{
	unsigned char k[IXDEF_MAX];
	MDB_val kv, d;
	struct kvcur cur;
	unsigned mask = 0;
	int rc;

	if (strlen(coll) > MAX_COLL || strlen(field) > MAX_FIELD ||
	    nedb__kv_copen(&cur, v, txn, DBI_IDXDEF))
		return 0;
	kv.mv_size = nedb__ixdef_key(k, coll, field);
	kv.mv_data = k;
	for (rc = nedb__kv_cget(&cur, &kv, &d, MDB_SET); !rc;
	     rc = nedb__kv_cget(&cur, &kv, &d, MDB_NEXT_DUP)) {
		int kind = d.mv_size < 16 ?
			   nedb__ixdef_kind(d.mv_data, d.mv_size, NULL) : 0;

		if (kind)
			mask |= NEDB__IX_BIT(kind);
	}
	nedb__kv_cclose(&cur);
	return mask;
}

struct entries {
	struct view *v;
	MDB_txn *txn;
	unsigned char key[IXKEY_MAX];
	size_t plen;
	MDB_val id;
	bool add;
	int rc;
};

/* Adds or removes the entry whose key (e->key) is n bytes long. */
static void
entry(struct entries *e, size_t n)
{
	MDB_val k;
	int rc;

	if (e->rc)
		return;
	k.mv_size = n;
	k.mv_data = e->key;
	if (e->add)
		rc = nedb__kv_put(e->v, e->txn, DBI_IDX, &k, &e->id, 0);
	else
		rc = nedb__kv_del(e->v, e->txn, DBI_IDX, &k, &e->id);
	if (rc && rc != MDB_NOTFOUND && rc != MDB_KEYEXIST)
		e->rc = nedb__mdb(rc, "cannot write index");
}

static void
value_entry(struct entries *e, struct nql_span v)
{
	entry(e, nedb__ixkey_value(e->key, e->plen, v));
}

static void
token_entry(const char *tok, size_t n, void *payload)
{
	struct entries *e = payload;

	entry(e, nedb__ixkey_token(e->key, e->plen, tok, n));
}

struct each {
	void (*fn)(struct entries *, struct nql_span);
	struct entries *e;
};

static void
each_cb(struct nql_span v, void *payload)
{
	struct each *x = payload;

	x->fn(x->e, v);
}

/* Calls fn on each element of an array, or each member of an object. */
static void
each_element(struct nql_span c, void (*fn)(struct entries *,
					   struct nql_span),
	     struct entries *e)
{
	struct each x = {fn, e};

	nedb__each_value(c, each_cb, &x);
}

static void search_value(struct entries *e, struct nql_span v);

/* An object member "key":value as an element: search its value. */
static void
search_member(struct entries *e, struct nql_span m)
{
	const char *p = m.p + 1;

	while (*p != '"')
		p += *p == '\\' ? 2 : 1;
	p += 2;				/* the closing quote and ':' */
	search_value(e, (struct nql_span){p, (size_t)(m.p + m.len - p)});
}

/* Every string under v, as SEARCH's re-check reads them. */
static void
search_value(struct entries *e, struct nql_span v)
{
	char *s;
	size_t n;

	if (nedb__type(v) == T_STRING && (s = nedb__string_value(v, &n))) {
		nedb__tokens(s, n, token_entry, e);
		free(s);
	} else if (nedb__type(v) == T_ARRAY)
		each_element(v, search_value, e);
	else if (nedb__type(v) == T_OBJECT)
		each_element(v, search_member, e);
}

/* Adds or removes the entries of one document in one index. */
static int
entries_of(struct entries *e, int kind, const char *field, const char *doc,
	   size_t len)
{
	struct nql_path path;
	struct nql_span v;
	int rc;

	if ((rc = nedb__path_parse(&path, field)))
		return rc;
	v = nedb__path_get(doc, len, &path);
	nql_path_free(&path);
	switch (kind) {
	case IX_EQ:
		if (nedb__type(v) == T_ARRAY)
			each_element(v, value_entry, e);
		else if (v.len)
			value_entry(e, v);
		break;
	case IX_ORDERED:
		value_entry(e, v);
		break;
	case IX_SEARCH:
		search_value(e, v);
		break;
	}
	return e->rc;
}

int
nedb__index_doc(struct view *v, MDB_txn *txn, const char *coll,
		const char *id, size_t idlen, const char *olddoc,
		size_t oldlen, const char *newdoc, size_t newlen)
{
	unsigned char pk[MAX_COLL + 1];
	size_t c = nedb__collprefix(pk, coll);
	struct kvcur cur;
	MDB_val k = {c, pk}, d;
	int rc;

	if ((rc = nedb__kv_copen(&cur, v, txn, DBI_IDXDEF)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
		struct entries e = {.v = v, .txn = txn};
		char dcoll[MAX_COLL + 1], field[MAX_FIELD + 1];
		int kind;

		if (!nedb__key_in(k.mv_data, k.mv_size, pk, c))
			break;
		if ((rc = nedb__ixdef_get(k.mv_data, k.mv_size, dcoll,
					  field)))
			break;
		kind = nedb__ixdef_kind(d.mv_data, d.mv_size, NULL);
		e.plen = nedb__ix_prefix(e.key, coll, field, kind);
		e.id.mv_size = idlen;
		e.id.mv_data = (void *)id;
		if (olddoc && (rc = entries_of(&e, kind, field, olddoc,
					       oldlen)))
			break;
		e.add = true;
		if (newdoc && (rc = entries_of(&e, kind, field, newdoc,
					       newlen)))
			break;
	}
	nedb__kv_cclose(&cur);
	return nedb__mdb_end(rc);
}

bool
nedb__index_any(struct view *v, MDB_txn *txn, const char *coll)
{
	unsigned char pk[MAX_COLL + 1];
	size_t c = nedb__collprefix(pk, coll);
	struct kvcur cur;
	MDB_val k = {c, pk}, d;
	bool any;
	int rc;

	/* an error reads as "some": the caller then does the whole work */
	if (nedb__kv_copen(&cur, v, txn, DBI_IDXDEF))
		return true;
	rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE);
	any = rc ? rc != MDB_NOTFOUND :
	      nedb__key_in(k.mv_data, k.mv_size, pk, c);
	nedb__kv_cclose(&cur);
	return any;
}

static int
drop_entries(struct view *v, MDB_txn *txn, const char *coll,
	     const char *field, int kind)
{
	unsigned char pk[IXPRE_MAX];
	size_t n = nedb__ix_prefix(pk, coll, field, kind);
	struct kvcur cur;
	MDB_val k = {n, pk}, d;
	int rc;

	if ((rc = nedb__kv_copen(&cur, v, txn, DBI_IDX)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE)) {
		if (!nedb__key_in(k.mv_data, k.mv_size, pk, n))
			break;
		if ((rc = nedb__kv_cdel(&cur, MDB_NODUPDATA))) {
			rc = nedb__mdb(rc, "cannot write index");
			break;
		}
		k.mv_size = n;
		k.mv_data = pk;
	}
	nedb__kv_cclose(&cur);
	return nedb__mdb_end(rc);
}

/* Drops the index of that kind on coll.field, or (kind NULL) all. */
int
nedb__index_drop(struct view *v, MDB_txn *txn, const char *coll,
		 const char *field, const char *kind)
{
	static const char *const kinds[] = {"eq", "ordered", "search"};
	unsigned char pk[IXDEF_MAX];
	size_t n = nedb__ixdef_key(pk, coll, field);
	int rc;

	for (size_t i = 0; i < 3; i++) {
		MDB_val k = {n, pk}, d = {strlen(kinds[i]), (void *)kinds[i]};

		if (kind && strcmp(kind, kinds[i]))
			continue;
		if ((rc = drop_entries(v, txn, coll, field,
				       nedb__index_kind(kinds[i]))))
			return rc;
		rc = nedb__kv_del(v, txn, DBI_IDXDEF, &k, &d);
		if (rc && rc != MDB_NOTFOUND)
			return nedb__mdb(rc, "cannot write view");
	}
	return 0;
}

int
nedb__index_create(struct view *v, MDB_txn *txn, const char *coll,
		   const char *field, const char *kind)
{
	unsigned char pk[IXDEF_MAX];
	size_t n = nedb__ixdef_key(pk, coll, field), c;
	int ik = nedb__index_kind(kind);
	MDB_val k = {n, pk}, d = {strlen(kind), (void *)kind};
	struct kvcur cur;
	nedb_buf text = {0};
	int rc;

	if (!ik)
		return nedb__err(NEDB_EINPUT, "bad index kind '%s'", kind);
	if ((rc = nedb__index_drop(v, txn, coll, field, kind)))
		return rc;
	if ((rc = nedb__kv_put(v, txn, DBI_IDXDEF, &k, &d, 0)))
		return nedb__mdb(rc, "cannot write view");
	/* backfill from the collection's documents */
	if ((rc = nedb__kv_copen(&cur, v, txn, DBI_DOCS)))
		return nedb__mdb(rc, "cannot read view");
	k.mv_size = c = nedb__collprefix(pk, coll);
	k.mv_data = pk;
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
		struct entries e = {.v = v, .txn = txn, .add = true};
		struct dochdr h;
		const char *doc;
		size_t len;

		if (!nedb__key_in(k.mv_data, k.mv_size, pk, c))
			break;
		e.plen = nedb__ix_prefix(e.key, coll, field, ik);
		e.id.mv_size = k.mv_size - c;
		e.id.mv_data = (char *)k.mv_data + c;
		if ((rc = nedb__docval_get(d.mv_data, d.mv_size, &h, &doc,
					   &len)))
			break;
		if (nedb__el_is(doc, len)) {
			text.len = 0;
			if ((rc = nedb__el_doc(v, txn, k.mv_data, k.mv_size,
					       doc, len, &text)))
				break;
			doc = text.p;
			len = text.len;
		}
		if ((rc = entries_of(&e, ik, field, doc, len)))
			break;
	}
	nedb__kv_cclose(&cur);
	nedb_buf_free(&text);
	return nedb__mdb_end(rc);
}
