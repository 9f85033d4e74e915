/*
 * sql_exec.c - running nedb-sql's statements (nedb_sql, nedb.h).
 *
 * A table is a collection.  CREATE TABLE records the table in the
 * collection nedb_schema, one document per table (its id the table's
 * name in lowercase, as SQL names are case-insensitive):
 *
 *   {"_id":"t","sql":"CREATE TABLE t(...)","indexes":[{"name":"i",
 *    "sql":"CREATE INDEX i ON t(a)"}]}
 *
 * an ordinary document, so that the schema is in the log like everything
 * else and AS OF sees the schema of its time.  The declared columns give
 * `*` its order and each column its affinity; a collection written by
 * other commands, never declared, is a table too (its columns are the
 * documents' members, with no affinity).
 *
 * A row is a document: the id column (an INTEGER PRIMARY KEY, else a
 * column named id or _id) is its id, as decimal text for an integer;
 * without one the id is the seq of the op that inserted it.
 *
 * A SELECT is compiled against its table (names resolved, aggregates
 * numbered, GROUP BY terms found, uncorrelated subqueries run once),
 * then its rows are found by the NQL planner and executor (query.c)
 * through its struct nql_query, whose WHERE holds only index hints; each
 * candidate is kept or not by nedb__sql_where, then projected, grouped,
 * made distinct, sorted and cut here.
 *
 * Every change of a statement is found and checked first (affinity, NOT
 * NULL, the id, UNIQUE), inside the write transaction and so against the
 * state it will change; only then are its ops staged, and the statement
 * commits them together (one fsync) unless BEGIN opened a transaction
 * that COMMIT ends.  A failed statement stages nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "kv.h"
#include "sql.h"

#define SCHEMA_COLL "nedb_schema"

/* ---- tables ---------------------------------------------------------------- */

struct sql_unique {
	size_t *cols;		/* column numbers */
	size_t n;
	char *what;		/* "t.a, t.b" for the message */
};

struct sql_table {
	char *name;		/* the collection */
	bool declared;		/* CREATE TABLE gave it columns */
	bool has_schema;	/* a schema document exists */
	struct sql_stmt *def;	/* the parsed CREATE TABLE (owns columns) */
	size_t ncols;
	int idcol;		/* the column that is the id, or -1 */
	bool rowid;		/* idcol is an INTEGER PRIMARY KEY */
	struct sql_unique *uq;
	size_t nuq;
	/* indexes CREATE INDEX made: name, text, parsed */
	struct sql_stmt **ix;
	size_t nix;
	char *sqltext;		/* the schema document's "sql" (or NULL) */
};

static void
table_free(struct sql_table *t)
{
	if (!t)
		return;
	free(t->name);
	nedb__sql_stmt_free(t->def);
	for (size_t i = 0; i < t->nuq; i++) {
		free(t->uq[i].cols);
		free(t->uq[i].what);
	}
	free(t->uq);
	for (size_t i = 0; i < t->nix; i++) {
		free((char *)t->ix[i]->text);
		nedb__sql_stmt_free(t->ix[i]);
	}
	free(t->ix);
	free(t->sqltext);
	free(t);
}

static const char *
colname(const struct sql_table *t, size_t k)
{
	return t->def->defs[k].name;
}

static int
col_index(const struct sql_table *t, const char *name)
{
	if (!t || !t->declared)
		return -1;
	for (size_t i = 0; i < t->ncols; i++)
		if (!strcasecmp(colname(t, i), name))
			return (int)i;
	return -1;
}

static char *
lower(const char *s)
{
	char *l = nedb__strdup(s);

	for (char *c = l; *c; c++)
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	return l;
}

static bool
is_id_name(const char *n)
{
	return !strcasecmp(n, "id") || !strcmp(n, "_id");
}

/* Adds a unique constraint on the named columns. */
static int
add_unique(struct sql_table *t, char **names, size_t n)
{
	struct sql_unique u = {nedb__calloc(n, sizeof *u.cols), n, NULL};
	nedb_buf w = {0};

	for (size_t i = 0; i < n; i++) {
		int k = col_index(t, names[i]);

		if (k < 0) {
			free(u.cols);
			nedb_buf_free(&w);
			return nedb__err(NEDB_EUSAGE, "no such column: %s",
					 names[i]);
		}
		u.cols[i] = (size_t)k;
		nedb_buf_printf(&w, "%s%s.%s", i ? ", " : "", t->name,
				colname(t, (size_t)k));
	}
	/* the id column alone is unique already: its document id */
	if (n == 1 && t->idcol == (int)u.cols[0]) {
		free(u.cols);
		nedb_buf_free(&w);
		return 0;
	}
	u.what = w.p;
	t->uq = nedb__realloc(t->uq, (t->nuq + 1) * sizeof *t->uq);
	t->uq[t->nuq++] = u;
	return 0;
}

/* The columns, id and constraints of a parsed CREATE TABLE. */
static int
table_from_def(struct sql_table *t, struct sql_stmt *def)
{
	int pk = -1;
	int rc;

	t->def = def;
	t->declared = true;
	t->ncols = def->ndefs;
	t->idcol = -1;
	free(t->name);
	t->name = nedb__strdup(def->table);
	for (size_t i = 0; i < def->ndefs; i++) {
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(def->defs[i].name, def->defs[j].name))
				return nedb__err(NEDB_EUSAGE, "duplicate column "
						 "name: %s", def->defs[i].name);
		if (def->defs[i].pk) {
			if (pk >= 0 || def->npk)
				return nedb__err(NEDB_EUSAGE, "table \"%s\" has "
						 "more than one primary key",
						 def->table);
			pk = (int)i;
		}
	}
	if (def->npk == 1) {
		if ((pk = col_index(t, def->pkcols[0])) < 0)
			return nedb__err(NEDB_EUSAGE, "no such column: %s",
					 def->pkcols[0]);
	}
	/* an INTEGER PRIMARY KEY is the rowid: the document id */
	if (pk >= 0 && !strcasecmp(def->defs[pk].type, "INTEGER") &&
	    !def->defs[pk].unique) {
		t->idcol = pk;
		t->rowid = true;
	} else {
		for (size_t i = 0; i < def->ndefs && t->idcol < 0; i++)
			if (is_id_name(def->defs[i].name))
				t->idcol = (int)i;
	}
	if (pk >= 0 && def->npk <= 1) {
		char *n = def->defs[pk].name;

		if ((rc = add_unique(t, &n, 1)))
			return rc;
	}
	if (def->npk > 1 && (rc = add_unique(t, def->pkcols, def->npk)))
		return rc;
	for (size_t i = 0; i < def->ndefs; i++)
		if (def->defs[i].unique) {
			char *n = def->defs[i].name;

			if ((rc = add_unique(t, &n, 1)))
				return rc;
		}
	for (size_t u = 0; u < def->nuniques; u++)
		if ((rc = add_unique(t, def->uniques[u], def->nunique[u])))
			return rc;
	return 0;
}

/* A schema document's "sql" or an index's text, parsed. */
static int
parse_saved(const char *lit, size_t len, struct sql_stmt **out)
{
	char *text;
	struct nql_error err;
	int rc;

	*out = NULL;
	if ((rc = nedb_json_string(lit, len, &text)))
		return nedb__err(NEDB_ECORRUPT, "bad schema document");
	if ((rc = nedb__sql_parse(text, 0, strlen(text), out, &err))) {
		free(text);
		return nedb__err(NEDB_ECORRUPT, "bad schema document: %s",
				 err.msg);
	}
	return 0;
}

struct ixwalk {
	struct sql_table *t;
	int rc;
};

static int
on_index(const char *key, size_t klen, const char *v, size_t vlen,
	 void *payload)
{
	struct ixwalk *w = payload;
	struct sql_stmt *ix;
	const char *s;
	size_t slen;
	int rc;

	(void)key;
	(void)klen;
	if (!nedb_json_member(v, vlen, "sql", &s, &slen))
		return w->rc = nedb__err(NEDB_ECORRUPT, "bad schema document");
	if ((rc = parse_saved(s, slen, &ix)))
		return w->rc = rc;
	w->t->ix = nedb__realloc(w->t->ix, (w->t->nix + 1) * sizeof *w->t->ix);
	w->t->ix[w->t->nix++] = ix;
	if (ix->unique && w->t->declared &&
	    (rc = add_unique(w->t, ix->cols, ix->ncols)))
		return w->rc = rc;
	return 0;
}

/* Whether the collection has live documents (HEAD of the snapshot). */
static bool
coll_live(nedb *db, const char *coll)
{
	MDB_txn *txn;
	MDB_val k = {strlen(coll), (void *)coll}, d;
	uint64_t n = 0;

	if (nedb__txn(db, &txn))
		return false;
	if (!nedb__kv_get(&db->view, txn, DBI_COLLS, &k, &d) &&
	    nedb__num_get(d.mv_data, d.mv_size, &n))
		n = 0;
	nedb__txn_done(db, txn);
	return n > 0;
}

/* Whether the collection ever had a document. */
static bool
coll_ever(nedb *db, const char *coll)
{
	unsigned char key[MAX_COLL + 1];
	size_t c = nedb__collprefix(key, coll);
	MDB_txn *txn;
	struct kvcur cur;
	MDB_val k = {c, key}, d;
	bool any = false;

	if (nedb__txn(db, &txn))
		return false;
	if (!nedb__kv_copen(&cur, &db->view, txn, DBI_VERS)) {
		any = !nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE) &&
		      nedb__key_in(k.mv_data, k.mv_size, key, c);
		nedb__kv_cclose(&cur);
	}
	nedb__txn_done(db, txn);
	return any;
}

/*
 * The table named name as of as_of (NEDB_HEAD: now): *out NULL when there
 * is none.  A schema document makes it declared (or, with no "sql", a
 * collection with indexes made by CREATE INDEX).
 */
static int
load_table(nedb *db, const char *name, uint64_t as_of, struct sql_table **out)
{
	struct sql_table *t = nedb__calloc(1, sizeof *t);
	char *key = lower(name);
	nedb_doc d;
	nedb_buf doc = {0};
	const char *v;
	size_t vlen;
	int rc;

	*out = NULL;
	t->idcol = -1;
	t->name = nedb__strdup(name);
	rc = nedb_check_id(key, strlen(key)) ? NEDB_ENOTFOUND :
	     nedb_get(db, SCHEMA_COLL, key, as_of, &d);
	free(key);
	if (rc == NEDB_ENOTFOUND) {
		if (as_of == NEDB_HEAD ? !coll_live(db, name) :
		    !coll_ever(db, name)) {
			table_free(t);
			return 0;
		}
		*out = t;
		return 0;
	}
	if (rc) {
		table_free(t);
		return rc;
	}
	nedb_buf_add(&doc, d.doc, d.len);
	t->has_schema = true;
	if (nedb_json_member(doc.p, doc.len, "sql", &v, &vlen) && *v == '"') {
		struct sql_stmt *def;

		if ((rc = parse_saved(v, vlen, &def)))
			goto bad;
		t->sqltext = nedb__memdup(def->text, strlen(def->text));
		free((char *)def->text);
		def->text = t->sqltext;
		if (def->kind != SQL_CREATE_TABLE) {
			nedb__sql_stmt_free(def);
			rc = nedb__err(NEDB_ECORRUPT, "bad schema document");
			goto bad;
		}
		if ((rc = table_from_def(t, def)))
			goto bad;
	}
	if (nedb_json_member(doc.p, doc.len, "indexes", &v, &vlen) &&
	    *v == '[') {
		struct ixwalk w = {t, 0};

		nedb_json_each(v, vlen, on_index, &w);
		if ((rc = w.rc))
			goto bad;
	}
	nedb_buf_free(&doc);
	*out = t;
	return 0;
bad:
	nedb_buf_free(&doc);
	table_free(t);
	return rc;
}

/* ---- value sets ------------------------------------------------------------ */

/* Tuples of values (owned) in a hash table; equality is sql_cmp's. */
struct vset {
	size_t width;
	struct sqlv *v;		/* n tuples of width values */
	size_t n, cap;
	size_t *slot;		/* tuple number + 1, 0 empty */
	size_t nslots;
};

static uint64_t
tuple_hash(const struct sqlv *t, size_t w)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < w; i++)
		h = nedb__sql_hash(&t[i], h);
	return h;
}

static bool
tuple_eq(const struct sqlv *a, const struct sqlv *b, size_t w)
{
	for (size_t i = 0; i < w; i++)
		if (nedb__sql_cmp(&a[i], &b[i]))
			return false;
	return true;
}

static void
vset_grow(struct vset *s)
{
	size_t ns = s->nslots ? s->nslots * 2 : 64;

	free(s->slot);
	s->slot = nedb__calloc(ns, sizeof *s->slot);
	s->nslots = ns;
	for (size_t i = 0; i < s->n; i++) {
		size_t h = (size_t)tuple_hash(&s->v[i * s->width], s->width);

		while (s->slot[h & (ns - 1)])
			h++;
		s->slot[h & (ns - 1)] = i + 1;
	}
}

/* The tuple's number in the set, adding a copy when new (*added). */
static size_t
vset_add(struct vset *s, const struct sqlv *t, bool *added)
{
	size_t h;

	if ((s->n + 1) * 2 > s->nslots)
		vset_grow(s);
	h = (size_t)tuple_hash(t, s->width);
	for (;; h++) {
		size_t k = s->slot[h & (s->nslots - 1)];

		if (!k)
			break;
		if (tuple_eq(&s->v[(k - 1) * s->width], t, s->width)) {
			if (added)
				*added = false;
			return k - 1;
		}
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->v = nedb__realloc(s->v, s->cap * s->width * sizeof *s->v);
	}
	for (size_t i = 0; i < s->width; i++)
		nedb__sql_dup(&s->v[s->n * s->width + i], &t[i]);
	s->slot[h & (s->nslots - 1)] = ++s->n;
	if (added)
		*added = true;
	return s->n - 1;
}

static void
vset_free(struct vset *s)
{
	for (size_t i = 0; i < s->n * s->width; i++)
		nedb__sql_vfree(&s->v[i]);
	free(s->v);
	free(s->slot);
	memset(s, 0, sizeof *s);
}

/* ---- compiling a SELECT ----------------------------------------------------- */

struct comp {
	nedb *db;
	struct sql_select *s;
	struct sql_table *t;
	struct comp *outer;
	const char *text;	/* the statement's text, for names */
	uint64_t as_of;		/* the snapshot's: subqueries read it too */
};

static int run_select(nedb *db, struct sql_select *s, struct comp *outer,
		      const char *text, int (*sink)(void *,
		      const char *const *, const struct sqlv *, size_t),
		      void *payload, bool explain, nedb_buf *plan);

static bool
same_name(const char *a, const char *b)
{
	return a && b && !strcasecmp(a, b);
}

static void
set_path(struct nql_path *p, char **parts, size_t n)
{
	nedb_buf d = {0};

	nql_path_free(p);
	p->parts = nedb__calloc(n, sizeof *p->parts);
	for (size_t i = 0; i < n; i++) {
		p->parts[i] = nedb__strdup(parts[i]);
		nedb_buf_printf(&d, "%s%s", i ? "." : "", parts[i]);
	}
	p->n = n;
	p->dotted = d.p ? d.p : nedb__strdup("");
}

static void
to_literal(struct sql_expr *e, const struct sqlv *v)
{
	for (size_t i = 0; i < e->nnames; i++)
		free(e->names[i]);
	free(e->names);
	e->names = NULL;
	e->nnames = 0;
	nql_path_free(&e->path);
	e->op = SX_LIT;
	e->v = *v;
	e->v.json = NULL;
	if (v->t == SQ_TEXT)
		e->v.s = nedb__memdup(v->s, v->n);
}

static struct sql_expr *
expr_copy(const struct sql_expr *e)
{
	struct sql_expr *c;

	if (!e)
		return NULL;
	c = nedb__malloc(sizeof *c);
	*c = *e;
	c->a = expr_copy(e->a);
	c->b = expr_copy(e->b);
	c->c = expr_copy(e->c);
	c->args = e->nargs ? nedb__malloc(e->nargs * sizeof *c->args) : NULL;
	for (size_t i = 0; i < e->nargs; i++)
		c->args[i] = expr_copy(e->args[i]);
	if (e->op == SX_LIT && e->v.t == SQ_TEXT)
		c->v.s = nedb__memdup(e->v.s, e->v.n);
	c->names = e->nnames ? nedb__malloc(e->nnames * sizeof *c->names) :
		   NULL;
	for (size_t i = 0; i < e->nnames; i++)
		c->names[i] = nedb__strdup(e->names[i]);
	memset(&c->path, 0, sizeof c->path);
	if (e->path.n)
		set_path(&c->path, e->path.parts, e->path.n);
	/* subqueries are run once: a copy shares no subquery */
	c->sub = NULL;
	c->set = NULL;
	c->nset = 0;
	if (e->sub)
		c->sub = NULL;
	return c;
}

static bool
expr_equal(const struct sql_expr *a, const struct sql_expr *b)
{
	if (!a || !b)
		return a == b;
	if (a->op != b->op || a->neg != b->neg || a->star != b->star ||
	    a->distinct != b->distinct || a->nargs != b->nargs)
		return false;
	switch (a->op) {
	case SX_LIT:
		if (a->v.t != b->v.t || (a->v.t != SQ_NULL &&
					 nedb__sql_cmp(&a->v, &b->v)))
			return false;
		break;
	case SX_COL:
		if (strcmp(a->path.dotted ? a->path.dotted : "",
			   b->path.dotted ? b->path.dotted : ""))
			return false;
		break;
	case SX_FUNC:
	case SX_AGG:
		if (a->fn != b->fn)
			return false;
		break;
	case SX_CAST:
		if (a->aff != b->aff)
			return false;
		break;
	case SX_KEY:
	case SX_OUT:
		if (a->slot != b->slot)
			return false;
		break;
	case SX_INSEL:
	case SX_SUBQ:
	case SX_EXISTS:
		return a == b;
	default:
		break;
	}
	for (size_t i = 0; i < a->nargs; i++)
		if (!expr_equal(a->args[i], b->args[i]))
			return false;
	return expr_equal(a->a, b->a) && expr_equal(a->b, b->b) &&
	       expr_equal(a->c, b->c);
}

static int
err_at(size_t pos, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
err_at(size_t pos, int code, const char *fmt, ...)
{
	char msg[300];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	rc = nedb__err(code, "%s", msg);
	nedb__set_errpos((long)pos);
	return rc;
}

static const char *
written(const struct sql_expr *e, char *buf, size_t cap)
{
	nedb_buf b = {0};

	for (size_t i = 0; i < e->nnames; i++)
		nedb_buf_printf(&b, "%s%s", i ? "." : "", e->names[i]);
	snprintf(buf, cap, "%s", b.p ? b.p : "");
	nedb_buf_free(&b);
	return buf;
}

enum where { IN_WHERE, IN_RESULT, IN_GROUP, IN_HAVING, IN_ORDER, IN_DML };

static int resolve(struct comp *c, struct sql_expr *e, enum where w);

/* A column reference: into a path (and affinity), or a literal. */
static int
resolve_col(struct comp *c, struct sql_expr *e, enum where w)
{
	struct sql_table *t = c->t;
	size_t start = 0, n = e->nnames;
	char wb[200];
	int k;

	/* t.col, or alias.col when the table has an alias */
	if (n > 1 && t && !(t->declared && col_index(t, e->names[0]) >= 0) &&
	    (c->s && c->s->alias ? same_name(e->names[0], c->s->alias) :
	     same_name(e->names[0], t->name)))
		start = 1;
	if (t && t->declared) {
		k = col_index(t, e->names[start]);
		if (k < 0 && n - start == 1 && t->rowid &&
		    (same_name(e->names[start], "rowid") ||
		     same_name(e->names[start], "oid") ||
		     same_name(e->names[start], "_rowid_")))
			k = t->idcol;
		if (k >= 0) {
			char **parts = nedb__malloc((n - start) *
						    sizeof *parts);

			parts[0] = (char *)colname(t, (size_t)k);
			for (size_t i = start + 1; i < n; i++)
				parts[i - start] = e->names[i];
			set_path(&e->path, parts, n - start);
			free(parts);
			e->aff = n - start == 1 ? t->def->defs[k].aff : AFF_NONE;
			e->slot = 0;
			return 0;
		}
	} else if (t && !(n == 1 && e->slot == -2)) {
		set_path(&e->path, e->names + start, n - start);
		e->aff = AFF_NONE;
		e->slot = 0;
		return 0;
	}
	if (n == 1 && e->slot == -2) {	/* TRUE, FALSE */
		struct sqlv v = e->v;

		to_literal(e, &v);
		return 0;
	}
	/* a result column's alias (sqlite3 lets WHERE use them) */
	if (n == 1 && c->s && (w == IN_WHERE || w == IN_GROUP ||
			       w == IN_HAVING)) {
		for (size_t i = 0; i < c->s->ncols; i++) {
			struct sql_result_col *rc = &c->s->cols[i];

			if (rc->alias && rc->e && same_name(rc->alias,
							    e->names[0])) {
				struct sql_expr *x = expr_copy(rc->e);
				size_t pos = e->pos, end = e->end;
				struct sql_expr tmp = *e;

				*e = *x;
				e->pos = pos;
				e->end = end;
				*x = tmp;
				nedb__sql_expr_free(x);
				return resolve(c, e, w);
			}
		}
	}
	if (n == 1 && e->quoted) {	/* sqlite3: "x" is a string then */
		struct sqlv v = {.t = SQ_TEXT, .s = e->names[0],
				 .n = strlen(e->names[0])};

		to_literal(e, &v);
		return 0;
	}
	if (c->outer && c->outer->t) {
		struct comp *o = c->outer;
		const char *q = o->s && o->s->alias ? o->s->alias : o->t->name;
		bool qual = n > 1 && same_name(e->names[0], q);
		bool found = o->t->declared ?
			     col_index(o->t, e->names[qual]) >= 0 : qual;

		if (found)
			return err_at(e->pos, NEDB_EUSAGE, "correlated "
				      "subqueries are not supported (%s is a "
				      "column of the outer query)",
				      written(e, wb, sizeof wb));
	}
	return err_at(e->pos, NEDB_EUSAGE, "no such column: %s",
		      written(e, wb, sizeof wb));
}

/* Runs an uncorrelated subquery once and keeps what the expression
 * needs of it. */
struct subq {
	struct sql_expr *e;
	struct sql_arena ar;
	enum sql_aff aff;
	int rc;
};

static int
sub_sink(void *payload, const char *const *names, const struct sqlv *v,
	 size_t n)
{
	struct subq *q = payload;
	struct sql_expr *e = q->e;
	struct sqlv x;

	(void)names;
	if (e->op == SX_EXISTS) {
		e->nset = 1;
		return 1;		/* one row is enough */
	}
	if (n != 1)
		return q->rc = nedb__err(NEDB_EUSAGE, "sub-select returns %zu "
					 "columns - expected 1", n);
	if (e->op == SX_SUBQ) {
		e->set = nedb__malloc(sizeof *e->set);
		nedb__sql_dup(&e->set[0], &v[0]);
		e->nset = 1;
		return 1;
	}
	x = v[0];
	if (x.t == SQ_NULL) {
		e->set_null = true;
		return 0;
	}
	nedb__sql_apply_aff(&x, q->aff, false, &q->ar);
	e->set = nedb__realloc(e->set, (e->nset + 1) * sizeof *e->set);
	nedb__sql_dup(&e->set[e->nset++], &x);
	nedb__sql_arena_reset(&q->ar);
	return 0;
}

static int
vcmp(const void *a, const void *b)
{
	return nedb__sql_cmp(a, b);
}

static int
run_subquery(struct comp *c, struct sql_expr *e)
{
	struct subq q = {.e = e};
	int rc;

	if (e->sub->ncols != 1 && e->op != SX_EXISTS) {
		size_t n = e->sub->ncols;

		/* * may stand for many: counted once compiled */
		if (n != 1)
			return err_at(e->pos, NEDB_EUSAGE, "sub-select returns "
				      "%zu columns - expected 1", n);
	}
	rc = run_select(c->db, e->sub, c, c->text, sub_sink, &q, false, NULL);
	if (q.rc)
		rc = q.rc;
	if (!rc && e->op == SX_INSEL) {
		/* the comparison's affinity (sqlite3's exprINAffinity),
		 * applied to the values once */
		q.aff = nedb__sql_cmp_aff(e->a, e->sub->cols[0].e);
		for (size_t i = 0; i < e->nset; i++) {
			struct sqlv v = e->set[i];

			nedb__sql_apply_aff(&v, q.aff, false, &q.ar);
			if (v.t != e->set[i].t) {
				struct sqlv d;

				nedb__sql_dup(&d, &v);
				nedb__sql_vfree(&e->set[i]);
				e->set[i] = d;
			}
			nedb__sql_arena_reset(&q.ar);
		}
		if (e->nset > 1) {
			size_t k = 1;

			qsort(e->set, e->nset, sizeof *e->set, vcmp);
			for (size_t i = 1; i < e->nset; i++) {
				if (!nedb__sql_cmp(&e->set[i], &e->set[k - 1]))
					nedb__sql_vfree(&e->set[i]);
				else
					e->set[k++] = e->set[i];
			}
			e->nset = k;
		}
	}
	nedb__sql_arena_free(&q.ar);
	e->done = true;
	return rc;
}

static int
resolve(struct comp *c, struct sql_expr *e, enum where w)
{
	int rc;

	if (!e)
		return 0;
	switch (e->op) {
	case SX_COL:
		return resolve_col(c, e, w);
	case SX_AGG:
		if (w == IN_WHERE || w == IN_GROUP || w == IN_DML)
			return err_at(e->pos, NEDB_EUSAGE, "misuse of aggregate"
				      " function in %s", w == IN_WHERE ?
				      "WHERE" : w == IN_GROUP ? "GROUP BY" :
				      "this statement");
		break;
	default:
		break;
	}
	if ((rc = resolve(c, e->a, w)) || (rc = resolve(c, e->b, w)) ||
	    (rc = resolve(c, e->c, w)))
		return rc;
	for (size_t i = 0; i < e->nargs; i++)
		if ((rc = resolve(c, e->args[i], w)))
			return rc;
	if (e->sub && !e->done && (rc = run_subquery(c, e)))
		return rc;
	return 0;
}

/* Numbers the aggregates of e; none may nest. */
static int
find_aggs(struct sql_select *s, struct sql_expr *e, bool inside)
{
	int rc;

	if (!e)
		return 0;
	if (e->op == SX_AGG) {
		if (inside)
			return err_at(e->pos, NEDB_EUSAGE, "misuse of aggregate "
				      "function (an aggregate inside another)");
		e->slot = (int)s->naggs;
		s->aggs = nedb__realloc(s->aggs, (s->naggs + 1) *
					sizeof *s->aggs);
		s->aggs[s->naggs++] = e;
		for (size_t i = 0; i < e->nargs; i++)
			if ((rc = find_aggs(s, e->args[i], true)))
				return rc;
		return 0;
	}
	if ((rc = find_aggs(s, e->a, inside)) ||
	    (rc = find_aggs(s, e->b, inside)) ||
	    (rc = find_aggs(s, e->c, inside)))
		return rc;
	for (size_t i = 0; i < e->nargs; i++)
		if ((rc = find_aggs(s, e->args[i], inside)))
			return rc;
	return 0;
}

/* In a group, GROUP BY terms become their keys; no column may remain. */
static struct sql_expr *
subst_keys(struct sql_select *s, struct sql_expr *e)
{
	if (!e || e->op == SX_AGG)
		return e;
	for (size_t k = 0; k < s->ngroup; k++)
		if (expr_equal(e, s->group[k])) {
			struct sql_expr *n = nedb__calloc(1, sizeof *n);

			n->op = SX_KEY;
			n->slot = (int)k;
			n->aff = nedb__sql_expr_aff(e, &n->quoted);
			n->pos = e->pos;
			n->end = e->end;
			nedb__sql_expr_free(e);
			return n;
		}
	e->a = subst_keys(s, e->a);
	e->b = subst_keys(s, e->b);
	e->c = subst_keys(s, e->c);
	for (size_t i = 0; i < e->nargs; i++)
		e->args[i] = subst_keys(s, e->args[i]);
	return e;
}

static const struct sql_expr *
bare_col(const struct sql_expr *e)
{
	const struct sql_expr *x;

	if (!e || e->op == SX_AGG)
		return NULL;
	if (e->op == SX_COL)
		return e;
	if ((x = bare_col(e->a)) || (x = bare_col(e->b)) ||
	    (x = bare_col(e->c)))
		return x;
	for (size_t i = 0; i < e->nargs; i++)
		if ((x = bare_col(e->args[i])))
			return x;
	return NULL;
}

static int
no_bare(const struct sql_expr *e, const char *text)
{
	const struct sql_expr *b = bare_col(e);

	if (!b)
		return 0;
	return err_at(b->pos, NEDB_EUSAGE, "column %s must appear in GROUP BY "
		      "or in an aggregate (sqlite3 would answer with the value "
		      "of an arbitrary row)", b->path.dotted ? b->path.dotted :
		      "?");
	(void)text;
}

/* The output name of a result column (sqlite3's). */
static char *
out_name(const struct comp *c, const struct sql_result_col *rc)
{
	const struct sql_expr *e = rc->e;
	size_t a, b;

	if (rc->alias)
		return nedb__strdup(rc->alias);
	if (e->op == SX_COL && e->path.n)
		return nedb__strdup(e->path.n == 1 ? e->path.parts[0] :
				    e->path.dotted);
	a = e->pos;
	b = e->end;
	while (b > a && (c->text[b - 1] == ' ' || c->text[b - 1] == '\t' ||
			 c->text[b - 1] == '\n' || c->text[b - 1] == '\r'))
		b--;
	return nedb__memdup(c->text + a, b - a);
}

/* A constant: LIMIT, OFFSET (sqlite3 requires an integer). */
static int
const_int(struct sql_expr *e, int64_t *out, const char *what)
{
	struct sql_arena ar = {0};
	struct sql_ctx ctx = {.arena = &ar};
	struct sqlv v;

	nedb__sql_eval(e, &ctx, &v);
	nedb__sql_apply_aff(&v, AFF_NUMERIC, true, &ar);
	nedb__sql_arena_free(&ar);
	if (ctx.rc)
		return ctx.rc;
	if (v.t != SQ_INT)
		return err_at(e->pos, NEDB_EUSAGE, "datatype mismatch: %s must "
			      "be an integer", what);
	*out = v.i;
	return 0;
}

/* ---- index hints ------------------------------------------------------------- */

static void
hint_add(struct nql_query *q, struct nql_expr *t)
{
	if (!q->where) {
		q->where = t;
		return;
	}
	struct nql_expr *a = nedb__calloc(1, sizeof *a);

	a->kind = EX_AND;
	a->a = q->where;
	a->b = t;
	q->where = a;
}

static void
hint_val(struct nql_expr *t, const char *text, size_t n)
{
	t->vals = nedb__realloc(t->vals, (t->nvals + 1) * sizeof *t->vals);
	t->vals[t->nvals].p = nedb__memdup(text, n);
	t->vals[t->nvals].len = n;
	t->nvals++;
}

/* The literal v of a condition on column e, under its affinity; false
 * when it can match nothing or the hint cannot be exact. */
static bool
hint_value(const struct sql_expr *col, const struct sql_expr *lit,
	   struct sqlv *v, struct sql_arena *ar)
{
	struct sql_ctx ctx = {.arena = ar};

	if (lit->op != SX_LIT && !(lit->op == SX_NEG && lit->a &&
				   lit->a->op == SX_LIT))
		return false;
	nedb__sql_eval(lit, &ctx, v);
	if (ctx.rc || v->t == SQ_NULL)
		return false;
	nedb__sql_apply_aff(v, col->aff, false, ar);
	return true;
}

static void
hint_eq(const struct sql_table *t, struct nql_query *q,
	const struct sql_expr *col, struct sql_expr **lits, size_t n)
{
	struct sql_arena ar = {0};
	struct nql_expr *h = nedb__calloc(1, sizeof *h);
	bool id = t && t->declared && t->idcol >= 0 && col->path.n == 1 &&
		  !strcmp(col->path.parts[0], colname(t, (size_t)t->idcol));
	nedb_buf b = {0};

	h->kind = EX_IN;
	for (size_t i = 0; i < n; i++) {
		struct sqlv v;

		if (!hint_value(col, lits[i], &v, &ar))
			goto none;
		b.len = 0;
		if (id) {
			if (v.t == SQ_INT)
				nedb_buf_printf(&b, "\"%lld\"", (long long)v.i);
			else if (v.t == SQ_TEXT)
				nedb_buf_json_str(&b, v.s, v.n);
			else
				goto none;
			hint_val(h, b.p, b.len);
			continue;
		}
		if (v.t == SQ_TEXT && v.n && (v.s[0] == '[' || v.s[0] == '{'))
			goto none;	/* an array or object's text */
		nedb__sql_to_json(&b, &v);
		hint_val(h, b.p, b.len);
		if (v.t != SQ_TEXT && !nedb__sql_double(&v))
			hint_val(h, "false", 5);
		else if (v.t != SQ_TEXT && nedb__sql_double(&v) == 1.0)
			hint_val(h, "true", 4);
	}
	if (id)
		nedb__path_parse(&h->path, "_id");
	else
		set_path(&h->path, col->path.parts, col->path.n);
	if (!id && h->nvals == 1) {
		h->kind = EX_CMP;	/* an ordered index answers = too */
		h->cmp = CMP_EQ;
	}
	hint_add(q, h);
	h = NULL;
none:
	nql_expr_free(h);
	nedb_buf_free(&b);
	nedb__sql_arena_free(&ar);
}

static void
hint_cmp(struct nql_query *q, const struct sql_expr *col,
	 const struct sql_expr *lit, enum nql_cmp cmp)
{
	struct sql_arena ar = {0};
	struct nql_expr *h;
	nedb_buf b = {0};
	struct sqlv v;

	if (!hint_value(col, lit, &v, &ar) ||
	    (v.t == SQ_TEXT && (cmp == CMP_LT || cmp == CMP_LE))) {
		nedb__sql_arena_free(&ar);
		return;
	}
	if (v.t == SQ_REAL && (v.r != v.r || v.r - v.r != 0)) {
		nedb__sql_arena_free(&ar);
		return;		/* an infinity has no JSON */
	}
	h = nedb__calloc(1, sizeof *h);
	h->kind = EX_CMP;
	h->cmp = cmp;
	nedb__sql_to_json(&b, &v);
	hint_val(h, b.p, b.len);
	set_path(&h->path, col->path.parts, col->path.n);
	hint_add(q, h);
	nedb_buf_free(&b);
	nedb__sql_arena_free(&ar);
}

static bool
plain_col(const struct sql_expr *e)
{
	return e && e->op == SX_COL && e->path.n &&
	       strlen(e->path.dotted) <= MAX_FIELD;
}

static bool
constant(const struct sql_expr *e)
{
	return e && (e->op == SX_LIT || (e->op == SX_NEG && e->a &&
					 e->a->op == SX_LIT));
}

/* The conjuncts of WHERE an index can narrow (nql.h). */
static void
hints(const struct sql_table *t, struct nql_query *q,
      const struct sql_expr *e)
{
	static const enum nql_cmp flip[] = {
		[SX_LT] = CMP_GT, [SX_LE] = CMP_GE, [SX_GT] = CMP_LT,
		[SX_GE] = CMP_LE
	}, same[] = {
		[SX_LT] = CMP_LT, [SX_LE] = CMP_LE, [SX_GT] = CMP_GT,
		[SX_GE] = CMP_GE
	};
	struct sql_expr *one[1];

	switch (e->op) {
	case SX_AND:
		hints(t, q, e->a);
		hints(t, q, e->b);
		return;
	case SX_EQ:
	case SX_IS:
		if (plain_col(e->a) && constant(e->b)) {
			one[0] = e->b;
			hint_eq(t, q, e->a, one, 1);
		} else if (plain_col(e->b) && constant(e->a)) {
			one[0] = e->a;
			hint_eq(t, q, e->b, one, 1);
		}
		return;
	case SX_IN:
		if (!e->neg && e->nargs && plain_col(e->a)) {
			for (size_t i = 0; i < e->nargs; i++)
				if (!constant(e->args[i]))
					return;
			hint_eq(t, q, e->a, e->args, e->nargs);
		}
		return;
	case SX_LT:
	case SX_LE:
	case SX_GT:
	case SX_GE:
		if (plain_col(e->a) && constant(e->b))
			hint_cmp(q, e->a, e->b, same[e->op]);
		else if (plain_col(e->b) && constant(e->a))
			hint_cmp(q, e->b, e->a, flip[e->op]);
		return;
	case SX_BETWEEN:
		if (!e->neg && plain_col(e->a) && constant(e->b) &&
		    constant(e->c)) {
			hint_cmp(q, e->a, e->b, CMP_GE);
			hint_cmp(q, e->a, e->c, CMP_LE);
		}
		return;
	default:
		return;
	}
}

/* ---- compiling ------------------------------------------------------------ */

/* Expands * into the table's columns (a declared table's). */
static void
expand_star(struct comp *c)
{
	struct sql_select *s = c->s;
	struct sql_result_col *v = NULL;
	size_t n = 0;

	for (size_t i = 0; i < s->ncols; i++) {
		struct sql_result_col *rc = &s->cols[i];

		if (rc->e || !c->t || !c->t->declared) {
			v = nedb__realloc(v, (n + 1) * sizeof *v);
			v[n++] = *rc;
			continue;
		}
		for (size_t k = 0; k < c->t->ncols; k++) {
			struct sql_expr *e = nedb__calloc(1, sizeof *e);

			e->op = SX_COL;
			e->names = nedb__malloc(sizeof *e->names);
			e->names[0] = nedb__strdup(colname(c->t, k));
			e->nnames = 1;
			e->pos = e->end = s->pos;
			v = nedb__realloc(v, (n + 1) * sizeof *v);
			memset(&v[n], 0, sizeof *v);
			v[n++].e = e;
		}
		free(rc->table);
	}
	free(s->cols);
	s->cols = v;
	s->ncols = n;
}

static int
compile(struct comp *c)
{
	struct sql_select *s = c->s;
	int rc;

	if (s->has_from) {
		if (!c->t)
			return err_at(s->pos, NEDB_EUSAGE, "no such table: %s",
				      s->q.coll);
		free(s->q.coll);
		s->q.coll = nedb__strdup(c->t->name);
	}
	for (size_t i = 0; i < s->ncols; i++) {
		struct sql_result_col *r = &s->cols[i];

		if (!r->e && !s->has_from)
			return err_at(s->pos, NEDB_EUSAGE, "no tables "
				      "specified");
		if (!r->e && r->table && !same_name(r->table, s->alias) &&
		    !same_name(r->table, c->t->name))
			return err_at(s->pos, NEDB_EUSAGE, "no such table: %s",
				      r->table);
	}
	expand_star(c);
	for (size_t i = 0; i < s->ncols; i++)
		if ((rc = resolve(c, s->cols[i].e, IN_RESULT)))
			return rc;
	if ((rc = resolve(c, s->where, IN_WHERE)))
		return rc;
	for (size_t i = 0; i < s->ngroup; i++) {
		struct sql_expr *g = s->group[i];

		/* GROUP BY 2: the second result column */
		if (g->op == SX_LIT && g->v.t == SQ_INT) {
			if (g->v.i < 1 || (uint64_t)g->v.i > s->ncols ||
			    !s->cols[g->v.i - 1].e)
				return err_at(g->pos, NEDB_EUSAGE, "GROUP BY term "
					      "out of range - should be between"
					      " 1 and %zu", s->ncols);
			s->group[i] = expr_copy(s->cols[g->v.i - 1].e);
			nedb__sql_expr_free(g);
			continue;
		}
		if ((rc = resolve(c, g, IN_GROUP)))
			return rc;
	}
	if ((rc = resolve(c, s->having, IN_HAVING)))
		return rc;
	/* ORDER BY: a position, a result alias, or an expression */
	for (size_t i = 0; i < s->norder; i++) {
		struct sql_expr *o = s->order[i].e;

		if (o->op == SX_LIT && o->v.t == SQ_INT) {
			if (o->v.i < 1 || (uint64_t)o->v.i > s->ncols)
				return err_at(o->pos, NEDB_EUSAGE, "%zu%s ORDER BY"
					      " term out of range - should be "
					      "between 1 and %zu", i + 1,
					      i == 0 ? "st" : i == 1 ? "nd" :
					      i == 2 ? "rd" : "th", s->ncols);
			o->op = SX_OUT;
			o->slot = (int)(o->v.i - 1);
			continue;
		}
		if (o->op == SX_COL && o->nnames == 1) {
			size_t k;

			for (k = 0; k < s->ncols; k++)
				if (same_name(s->cols[k].alias, o->names[0]))
					break;
			if (k < s->ncols) {
				for (size_t j = 0; j < o->nnames; j++)
					free(o->names[j]);
				free(o->names);
				o->names = NULL;
				o->nnames = 0;
				o->op = SX_OUT;
				o->slot = (int)k;
				continue;
			}
		}
		if ((rc = resolve(c, o, IN_ORDER)))
			return rc;
		/* the same expression as a result column: that column */
		for (size_t k = 0; k < s->ncols; k++)
			if (s->cols[k].e && expr_equal(o, s->cols[k].e)) {
				struct sql_expr *n = nedb__calloc(1, sizeof *n);

				n->op = SX_OUT;
				n->slot = (int)k;
				nedb__sql_expr_free(o);
				s->order[i].e = n;
				break;
			}
	}
	/* aggregates */
	for (size_t i = 0; i < s->ncols; i++)
		if ((rc = find_aggs(s, s->cols[i].e, false)))
			return rc;
	if ((rc = find_aggs(s, s->having, false)))
		return rc;
	for (size_t i = 0; i < s->norder; i++)
		if ((rc = find_aggs(s, s->order[i].e, false)))
			return rc;
	s->aggregate = s->naggs || s->ngroup;
	if (s->having && !s->aggregate)
		return err_at(s->having->pos, NEDB_EUSAGE, "a GROUP BY clause "
			      "is required before HAVING");
	if (s->aggregate) {
		for (size_t i = 0; i < s->ncols; i++) {
			if (!s->cols[i].e)
				return err_at(s->pos, NEDB_EUSAGE, "* with "
					      "aggregates is not supported "
					      "(sqlite3 would answer with an "
					      "arbitrary row's values)");
			s->cols[i].e = subst_keys(s, s->cols[i].e);
			if ((rc = no_bare(s->cols[i].e, c->text)))
				return rc;
		}
		s->having = subst_keys(s, s->having);
		if ((rc = no_bare(s->having, c->text)))
			return rc;
		for (size_t i = 0; i < s->norder; i++) {
			s->order[i].e = subst_keys(s, s->order[i].e);
			if ((rc = no_bare(s->order[i].e, c->text)))
				return rc;
		}
	}
	if (s->distinct)
		for (size_t i = 0; i < s->norder; i++)
			if (s->order[i].e->op != SX_OUT &&
			    bare_col(s->order[i].e))
				return err_at(s->order[i].e->pos, NEDB_EUSAGE,
					      "with DISTINCT, ORDER BY terms "
					      "must be result columns");
	for (size_t i = 0; i < s->ncols; i++) {
		if (!s->cols[i].e)
			continue;
		free(s->cols[i].name);
		s->cols[i].name = out_name(c, &s->cols[i]);
	}
	if (s->limit && (rc = resolve(c, s->limit, IN_DML)))
		return rc;
	if (s->offset && (rc = resolve(c, s->offset, IN_DML)))
		return rc;
	if (s->where && s->has_from)
		hints(c->t, &s->q, s->where);
	return 0;
}

/* Rows in rowid order: by the INTEGER PRIMARY KEY (nql.h).  Tables
 * without one come in _id order, which for generated ids is the order
 * they were inserted in (zero-padded seqs). */
static void
rowid_order(struct nql_query *q, const struct sql_table *t)
{
	if (!t || !t->rowid || q->norder)
		return;
	q->order = nedb__calloc(1, sizeof *q->order);
	q->norder = 1;
	nedb__path_parse(&q->order[0].path, colname(t, (size_t)t->idcol));
}

/* ---- executing a SELECT ---------------------------------------------------- */

struct aggst {
	int64_t cnt, isum;
	double rsum;
	bool approx, overflow;
	struct sqlv best;	/* MIN, MAX: owned */
	bool has;
	struct vset seen;	/* DISTINCT */
};

/*
 * A group.  Its GROUP BY values as the output shows them (rep) are
 * those of a row of it chosen as sqlite3 chooses (equal values may
 * differ: 3 and 3.0): the first row, or with min() or max() in the
 * query, the last row for which the last of them did not skip its
 * argument (a new best, or a NULL while it had none).
 */
struct group {
	size_t key;		/* its keys: tuple number key of gkeys */
	struct sqlv *keys;	/* rep, once every row is in */
	struct sqlv *rep;	/* owned */
	struct aggst *a;
};

struct orow {
	struct sqlv *v;		/* owned output values */
	struct sqlv *k;		/* ORDER BY keys */
	char **names;		/* a schemaless * row's own names */
	size_t n;
};

typedef int (*sink_fn)(void *, const char *const *, const struct sqlv *,
		       size_t);

struct run {
	nedb *db;
	struct sql_select *s;
	sink_fn sink;
	void *payload;
	struct sql_arena ar;
	bool star;		/* a schemaless * in the result */
	const char **names;	/* fixed output names */
	/* LIMIT / OFFSET applied here (or by the engine: pushed) */
	bool has_limit;
	uint64_t limit, offset, skipped, emitted;
	bool pushed;
	bool stop;
	/* rows kept for DISTINCT, ORDER BY */
	struct orow *rows;
	size_t nrows, cap;
	struct vset distinct;
	bool use_distinct;
	bool keep;		/* rows are kept, not streamed */
	/* groups */
	struct vset gkeys;
	struct group *groups;
	size_t ngroups;
	/* a row being built */
	struct sqlv *out;
	size_t nout, capout;
	char **onames;
	int rc;
};

static int
final_emit(struct run *r, const char *const *names, const struct sqlv *v,
	   size_t n)
{
	int rc;

	if (r->stop)
		return 0;
	if (!r->pushed && r->skipped < r->offset) {
		r->skipped++;
		return 0;
	}
	if (!r->pushed && r->has_limit && r->emitted >= r->limit) {
		r->stop = true;
		return 1;
	}
	r->emitted++;
	rc = r->sink(r->payload, names, v, n);
	if (rc) {
		r->stop = true;
		return rc;
	}
	if (!r->pushed && r->has_limit && r->emitted >= r->limit) {
		r->stop = true;
		return 1;
	}
	return 0;
}

static void
out_push(struct run *r, const struct sqlv *v, const char *name)
{
	if (r->nout == r->capout) {
		r->capout = r->capout ? r->capout * 2 : 16;
		r->out = nedb__realloc(r->out, r->capout * sizeof *r->out);
		r->onames = nedb__realloc(r->onames, r->capout *
					  sizeof *r->onames);
	}
	r->out[r->nout] = *v;
	r->onames[r->nout++] = (char *)name;
}

struct starwalk {
	struct run *r;
};

static int
on_member(const char *key, size_t klen, const char *v, size_t vlen,
	  void *payload)
{
	struct starwalk *w = payload;
	struct run *r = w->r;
	struct sqlv k, x;
	char *name;

	nedb__sql_from_json(&k, (struct nql_span){key, klen}, &r->ar);
	name = nedb__sql_alloc(&r->ar, k.n + 1);
	memcpy(name, k.s, k.n);
	name[k.n] = 0;
	nedb__sql_from_json(&x, (struct nql_span){v, vlen}, &r->ar);
	out_push(r, &x, name);
	return 0;
}

/* The output values of one row (or group) into r->out. */
static int
project(struct run *r, struct sql_ctx *ctx)
{
	struct sql_select *s = r->s;

	r->nout = 0;
	for (size_t i = 0; i < s->ncols; i++) {
		struct sqlv v;

		if (!s->cols[i].e) {
			struct starwalk w = {r};

			if (ctx->doc)
				nedb_json_each(ctx->doc, ctx->len, on_member,
					       &w);
			continue;
		}
		nedb__sql_eval(s->cols[i].e, ctx, &v);
		out_push(r, &v, s->cols[i].name);
	}
	return ctx->rc;
}

/* Keeps the row in r->out (and its sort keys) for later. */
static void
keep_row(struct run *r, struct sql_ctx *ctx)
{
	struct sql_select *s = r->s;
	struct orow *o;

	if (r->nrows == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->rows = nedb__realloc(r->rows, r->cap * sizeof *r->rows);
	}
	o = &r->rows[r->nrows++];
	o->n = r->nout;
	o->v = nedb__malloc((r->nout ? r->nout : 1) * sizeof *o->v);
	for (size_t i = 0; i < r->nout; i++)
		nedb__sql_dup(&o->v[i], &r->out[i]);
	o->names = NULL;
	if (r->star) {
		o->names = nedb__malloc((r->nout ? r->nout : 1) *
					sizeof *o->names);
		for (size_t i = 0; i < r->nout; i++)
			o->names[i] = nedb__strdup(r->onames[i]);
	}
	o->k = NULL;
	if (s->norder) {
		o->k = nedb__malloc(s->norder * sizeof *o->k);
		ctx->out = r->out;
		for (size_t i = 0; i < s->norder; i++) {
			struct sqlv v;

			nedb__sql_eval(s->order[i].e, ctx, &v);
			nedb__sql_dup(&o->k[i], &v);
		}
	}
}

/* One output row: streamed, or kept; DISTINCT drops repeats. */
static int
out_row(struct run *r, struct sql_ctx *ctx)
{
	int rc;

	if ((rc = project(r, ctx)))
		return rc;
	if (r->use_distinct) {
		bool added;

		if (r->star) {
			/* a schemaless row: its names are part of it */
			struct sqlv *t = nedb__sql_alloc(&r->ar, (2 * r->nout +
							 1) * sizeof *t);

			for (size_t i = 0; i < r->nout; i++) {
				t[2 * i] = (struct sqlv){.t = SQ_TEXT,
					.s = r->onames[i],
					.n = strlen(r->onames[i])};
				t[2 * i + 1] = r->out[i];
			}
			t[2 * r->nout].t = SQ_INT;
			t[2 * r->nout].i = (int64_t)r->nout;
			if (r->distinct.width != 1) {
				r->distinct.width = 1;
			}
			{
				/* hash the whole row as one text */
				nedb_buf b = {0};
				struct sqlv one;

				for (size_t i = 0; i < 2 * r->nout; i++) {
					nedb__sql_to_json(&b, &t[i]);
					nedb_buf_add(&b, "\n", 1);
				}
				one = (struct sqlv){.t = SQ_TEXT, .s = b.p ?
						    b.p : "", .n = b.len};
				vset_add(&r->distinct, &one, &added);
				nedb_buf_free(&b);
			}
		} else
			vset_add(&r->distinct, r->out, &added);
		if (!added)
			return 0;
	}
	if (r->keep) {
		keep_row(r, ctx);
		return 0;
	}
	return final_emit(r, (const char *const *)r->onames, r->out,
			  r->nout);
}

/* ---- aggregates ------------------------------------------------------------ */

/* One row into an aggregate; true when a min() or max() skipped it. */
static bool
agg_step(struct aggst *a, const struct sql_expr *e, struct sql_ctx *ctx)
{
	struct sqlv v;

	if (e->star) {
		a->cnt++;
		return false;
	}
	nedb__sql_eval(e->args[0], ctx, &v);
	if (v.t == SQ_NULL)
		return a->has;
	v.json = NULL;
	if (e->distinct) {
		bool added;

		if (!a->seen.width)
			a->seen.width = 1;
		vset_add(&a->seen, &v, &added);
		if (!added)
			return true;
	}
	switch (e->fn) {
	case FN_COUNT:
		a->cnt++;
		return false;
	case FN_SUM:
	case FN_TOTAL:
	case FN_AVG:
		/* sqlite3_value_numeric_type: all-number text counts */
		nedb__sql_apply_aff(&v, AFF_NUMERIC, false, ctx->arena);
		a->cnt++;
		if (v.t == SQ_INT) {
			a->rsum += (double)v.i;
			if (!a->approx && !a->overflow &&
			    __builtin_add_overflow(a->isum, v.i, &a->isum))
				a->approx = a->overflow = true;
		} else {
			a->rsum += nedb__sql_double(&v);
			a->approx = true;
		}
		return false;
	case FN_MIN:
	case FN_MAX: {
		int c = a->has ? nedb__sql_cmp(&v, &a->best) : 0;

		if (!a->has || (e->fn == FN_MIN ? c < 0 : c > 0)) {
			nedb__sql_vfree(&a->best);
			nedb__sql_dup(&a->best, &v);
			a->has = true;
			return false;
		}
		return true;
	}
	default:
		return false;
	}
}

static int
agg_final(struct aggst *a, const struct sql_expr *e, struct sqlv *out)
{
	memset(out, 0, sizeof *out);
	switch (e->fn) {
	case FN_COUNT:
		out->t = SQ_INT;
		out->i = a->cnt;
		return 0;
	case FN_SUM:
		if (!a->cnt)
			return 0;
		if (a->overflow)
			return nedb__err(NEDB_EINPUT, "integer overflow");
		if (a->approx) {
			out->t = SQ_REAL;
			out->r = a->rsum;
		} else {
			out->t = SQ_INT;
			out->i = a->isum;
		}
		return 0;
	case FN_TOTAL:
		out->t = SQ_REAL;
		out->r = a->rsum;
		return 0;
	case FN_AVG:
		if (a->cnt) {
			out->t = SQ_REAL;
			out->r = a->rsum / (double)a->cnt;
		}
		return 0;
	default:
		if (a->has)
			*out = a->best;
		return 0;
	}
}

static void
aggst_free(struct aggst *a, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		nedb__sql_vfree(&a[i].best);
		vset_free(&a[i].seen);
	}
	free(a);
}

/* A row into its group. */
static int
group_row(struct run *r, struct sql_ctx *ctx)
{
	struct sql_select *s = r->s;
	struct sqlv keys[s->ngroup ? s->ngroup : 1];
	size_t g;
	bool added = false;

	for (size_t i = 0; i < s->ngroup; i++) {
		nedb__sql_eval(s->group[i], ctx, &keys[i]);
		keys[i].json = NULL;
	}
	if (ctx->rc)
		return ctx->rc;
	if (s->ngroup) {
		r->gkeys.width = s->ngroup;
		g = vset_add(&r->gkeys, keys, &added);
	} else {
		g = 0;
		added = !r->ngroups;
	}
	if (added) {
		struct group *n;

		r->groups = nedb__realloc(r->groups, (r->ngroups + 1) *
					  sizeof *r->groups);
		n = &r->groups[r->ngroups++];
		n->key = g;
		n->keys = NULL;
		n->rep = nedb__calloc(s->ngroup ? s->ngroup : 1,
				      sizeof *n->rep);
		for (size_t i = 0; i < s->ngroup; i++)
			nedb__sql_dup(&n->rep[i], &keys[i]);
		n->a = nedb__calloc(s->naggs ? s->naggs : 1,
				    sizeof(struct aggst));
	}
	{
		bool minmax = false, skipped = false;

		for (size_t i = 0; i < s->naggs; i++) {
			bool k = agg_step(&r->groups[g].a[i], s->aggs[i], ctx);

			if (s->aggs[i]->fn == FN_MIN ||
			    s->aggs[i]->fn == FN_MAX) {
				minmax = true;
				skipped = k;
			}
		}
		if (minmax && !skipped && !added)
			for (size_t i = 0; i < s->ngroup; i++) {
				nedb__sql_vfree(&r->groups[g].rep[i]);
				nedb__sql_dup(&r->groups[g].rep[i], &keys[i]);
			}
	}
	return ctx->rc;
}

static int
row_cb(const char *doc, size_t len, void *payload)
{
	struct run *r = payload;
	struct sql_ctx ctx = {.doc = doc, .len = len, .arena = &r->ar};
	int rc;

	if (r->stop)
		return 1;
	rc = r->s->aggregate ? group_row(r, &ctx) : out_row(r, &ctx);
	nedb__sql_arena_reset(&r->ar);
	if (rc < 0)
		r->rc = rc;
	return rc;
}

static const struct sql_select *sort_sel;

static int
ocmp(const struct orow *a, const struct orow *b)
{
	for (size_t i = 0; i < sort_sel->norder; i++) {
		const struct sql_order *o = &sort_sel->order[i];
		int c = nedb__sql_cmp(&a->k[i], &b->k[i]);
		bool an = a->k[i].t == SQ_NULL, bn = b->k[i].t == SQ_NULL;

		if (o->nulls && an != bn)
			return (an == (o->nulls == 1)) ? -1 : 1;
		if (c)
			return o->desc ? -c : c;
	}
	return 0;
}

static void
msort(struct orow *v, struct orow *tmp, size_t n)
{
	size_t m = n / 2, i = 0, j = m, k = 0;

	if (n < 2)
		return;
	msort(v, tmp, m);
	msort(v + m, tmp, n - m);
	while (i < m && j < n)
		tmp[k++] = ocmp(&v[j], &v[i]) < 0 ? v[j++] : v[i++];
	while (i < m)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof *v);
}

static int
gcmp_keys(const struct sqlv *a, const struct sqlv *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int c = nedb__sql_cmp(&a[i], &b[i]);

		if (c)
			return c;
	}
	return 0;
}

static size_t gsort_n;

static int
gcmp(const void *x, const void *y)
{
	const struct group *a = x, *b = y;

	return gcmp_keys(a->keys, b->keys, gsort_n);
}

/* The groups into output rows. */
static int
finish_groups(struct run *r)
{
	struct sql_select *s = r->s;
	struct sqlv *vals = nedb__calloc(s->naggs ? s->naggs : 1,
					 sizeof *vals);
	int rc = 0;

	if (!s->ngroup && !r->ngroups) {
		r->groups = nedb__calloc(1, sizeof *r->groups);
		r->groups[0].a = nedb__calloc(s->naggs ? s->naggs : 1,
					      sizeof(struct aggst));
		r->ngroups = 1;
	}
	for (size_t g = 0; g < r->ngroups && s->ngroup; g++)
		r->groups[g].keys = r->groups[g].rep;
	/* groups come out in the order of their keys, as sqlite3's */
	if (s->ngroup && r->ngroups > 1) {
		gsort_n = s->ngroup;
		qsort(r->groups, r->ngroups, sizeof *r->groups, gcmp);
	}
	for (size_t g = 0; g < r->ngroups && !rc && !r->stop; g++) {
		struct sql_ctx ctx = {.keys = r->groups[g].keys, .aggs = vals,
				      .arena = &r->ar};

		for (size_t i = 0; i < s->naggs && !rc; i++)
			rc = agg_final(&r->groups[g].a[i], s->aggs[i],
				       &vals[i]);
		if (rc)
			break;
		if (s->having) {
			int t = nedb__sql_truth(s->having, &ctx);

			if ((rc = ctx.rc))
				break;
			if (t != 1)
				continue;
		}
		rc = out_row(r, &ctx);
		if (!rc)
			rc = ctx.rc;
		nedb__sql_arena_reset(&r->ar);
		if (rc > 0)
			rc = 0;
	}
	free(vals);
	return rc;
}

static void
run_free(struct run *r)
{
	for (size_t i = 0; i < r->nrows; i++) {
		for (size_t k = 0; k < r->rows[i].n; k++)
			nedb__sql_vfree(&r->rows[i].v[k]);
		free(r->rows[i].v);
		for (size_t k = 0; r->rows[i].k && k < r->s->norder; k++)
			nedb__sql_vfree(&r->rows[i].k[k]);
		free(r->rows[i].k);
		for (size_t k = 0; r->rows[i].names && k < r->rows[i].n; k++)
			free(r->rows[i].names[k]);
		free(r->rows[i].names);
	}
	free(r->rows);
	vset_free(&r->distinct);
	for (size_t g = 0; g < r->ngroups; g++) {
		aggst_free(r->groups[g].a, r->s->naggs);
		for (size_t i = 0; r->groups[g].rep && i < r->s->ngroup; i++)
			nedb__sql_vfree(&r->groups[g].rep[i]);
		free(r->groups[g].rep);
	}
	free(r->groups);
	vset_free(&r->gkeys);
	free(r->out);
	free(r->onames);
	nedb__sql_arena_free(&r->ar);
}

/* Resolves AS OF TIMESTAMP to a seq, so that the schema and the rows
 * are read as of the same op. */
static int
settle_as_of(nedb *db, struct sql_select *s, uint64_t *as_of)
{
	struct nql_query *q = &s->q;
	uint64_t head;
	int rc;

	*as_of = NEDB_HEAD;
	if (!q->has_as_of)
		return 0;
	if (q->as_of_time) {
		if ((rc = nedb_seq_at(db, q->as_of_ms, &q->as_of)))
			return rc;
		q->as_of_time = false;
	}
	if ((rc = nedb_head(db, &head, NULL)))
		return rc;
	if (q->as_of > head)
		return nedb__err(NEDB_EUSAGE, "no op %llu yet: the head is seq "
				 "%llu", (unsigned long long)q->as_of,
				 (unsigned long long)head);
	*as_of = q->as_of;
	return 0;
}

static int
plan_cb(const char *json, size_t len, void *payload)
{
	return nedb_buf_add(payload, json, len);
}

static int
run_select(nedb *db, struct sql_select *s, struct comp *outer,
	   const char *text, sink_fn sink, void *payload, bool explain,
	   nedb_buf *plan)
{
	struct comp c = {.db = db, .s = s, .outer = outer, .text = text};
	struct run r = {.db = db, .s = s, .sink = sink, .payload = payload};
	uint64_t as_of;
	int64_t lim = -1, off = 0;
	int rc;

	if ((rc = settle_as_of(db, s, &as_of)))
		return rc;
	c.as_of = as_of;
	if (s->has_from && (rc = load_table(db, s->q.coll, as_of, &c.t)))
		return rc;
	s->table = c.t;
	if ((rc = compile(&c)))
		goto done;
	if (s->limit && (rc = const_int(s->limit, &lim, "LIMIT")))
		goto done;
	if (s->offset && (rc = const_int(s->offset, &off, "OFFSET")))
		goto done;
	if (off < 0)
		off = 0;
	r.has_limit = lim >= 0;
	r.limit = lim >= 0 ? (uint64_t)lim : 0;
	r.offset = (uint64_t)off;
	for (size_t i = 0; i < s->ncols; i++)
		if (!s->cols[i].e)
			r.star = true;
	r.use_distinct = s->distinct;
	if (r.use_distinct)
		r.distinct.width = r.star ? 1 : s->ncols;
	r.keep = s->norder > 0;
	if (!s->has_from) {
		struct sql_ctx ctx = {.arena = &r.ar};

		if (explain) {
			rc = nedb_buf_puts(plan, "{\"plan\":\"constant\"}");
			goto done;
		}
		if (r.has_limit && !r.limit)
			goto done;
		if (s->where && nedb__sql_truth(s->where, &ctx) != 1) {
			/* no row: aggregates still make their one */
			if ((rc = ctx.rc) || !s->aggregate)
				goto done;
		} else
			rc = s->aggregate ? group_row(&r, &ctx) :
			     out_row(&r, &ctx);
		if (rc > 0)
			rc = 0;
		if (!rc)
			rc = ctx.rc;
	} else {
		struct nql_query *q = &s->q;

		q->sql = s;
		rowid_order(q, c.t);
		/* LIMIT goes to the engine when nothing comes between */
		if (!s->aggregate && !s->norder && !s->distinct) {
			r.pushed = true;
			q->has_limit = r.has_limit;
			q->limit = r.limit;
			q->offset = r.offset;
		}
		s->rc = 0;
		if (explain) {
			/* the plan: query.c hands it to fn */
			q->explain = true;
			rc = nedb__query_exec(db, q, 0, plan_cb, plan);
		} else
			rc = nedb__query_exec(db, q, 0, row_cb, &r);
		if (s->rc)
			rc = s->rc;
		if (r.rc)
			rc = r.rc;
		if (rc > 0)
			rc = 0;
	}
	if (rc || explain)
		goto done;
	if (s->aggregate && (rc = finish_groups(&r)))
		goto done;
	if (r.keep) {
		struct orow *tmp = nedb__malloc((r.nrows ? r.nrows : 1) *
						sizeof *tmp);

		sort_sel = s;
		msort(r.rows, tmp, r.nrows);
		free(tmp);
		for (size_t i = 0; i < r.nrows && !r.stop; i++) {
			struct orow *o = &r.rows[i];
			const char **names = (const char **)o->names;

			if (!names) {
				r.onames = nedb__realloc(r.onames, (o->n + 1) *
							 sizeof *r.onames);
				for (size_t k = 0, j = 0; k < s->ncols; k++)
					if (s->cols[k].e)
						r.onames[j++] = s->cols[k].name;
				names = (const char **)r.onames;
			}
			if ((rc = final_emit(&r, names, o->v, o->n)) < 0)
				goto done;
			rc = 0;
		}
	}
done:
	run_free(&r);
	table_free(c.t);
	s->table = NULL;
	return rc < 0 ? rc : 0;
}

/* ---- finding rows for UPDATE and DELETE ------------------------------------ */

struct docs {
	char **doc;
	size_t *len;
	size_t n;
};

static int
doc_cb(const char *doc, size_t len, void *payload)
{
	struct docs *d = payload;

	d->doc = nedb__realloc(d->doc, (d->n + 1) * sizeof *d->doc);
	d->len = nedb__realloc(d->len, (d->n + 1) * sizeof *d->len);
	d->doc[d->n] = nedb__memdup(doc, len);
	d->len[d->n++] = len;
	return 0;
}

static void
docs_free(struct docs *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->doc[i]);
	free(d->doc);
	free(d->len);
	memset(d, 0, sizeof *d);
}

/* The documents of t that where (moved in and back out) keeps. */
static int
find_rows(nedb *db, struct sql_table *t, struct sql_expr **where,
	  const char *text, struct docs *out)
{
	struct sql_select s = {0};
	struct comp c = {.db = db, .s = &s, .t = t, .text = text,
			 .as_of = NEDB_HEAD};
	int rc;

	s.has_from = true;
	s.q.coll = nedb__strdup(t->name);
	s.where = *where;
	s.table = t;
	if (!(rc = compile(&c))) {
		s.q.sql = &s;
		rowid_order(&s.q, t);
		rc = nedb__query_exec(db, &s.q, 0, doc_cb, out);
		if (s.rc)
			rc = s.rc;
	}
	*where = s.where;
	free(s.q.coll);
	nql_expr_free(s.q.where);
	for (size_t i = 0; i < s.q.norder; i++)
		nql_path_free(&s.q.order[i].path);
	free(s.q.order);
	free(s.aggs);
	nedb__sql_arena_free(&s.arena);
	return rc;
}

/* The document's id (decoded _id). */
static char *
doc_id(const char *doc, size_t len)
{
	char *id = NULL;

	if (nedb_doc_id(doc, len, &id))
		return NULL;
	return id;
}

/* ---- the rows a write makes ------------------------------------------------- */

struct wrow {
	char *id;		/* NULL: generated at staging */
	char *old_id;		/* UPDATE of the id: the document it leaves */
	struct sqlv *vals;	/* declared: ncols values (owned) */
	char **names;		/* schemaless: member names */
	size_t nvals;
	nedb_buf doc;		/* UPDATE: the new text (without _id changes) */
	bool skip;		/* not written (IGNORE, replaced later) */
	bool same;		/* UPDATE left it as it was: not written */
	bool replace;		/* it replaces a document (REPLACE) */
};

static void
wrows_free(struct wrow *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].id);
		free(w[i].old_id);
		for (size_t k = 0; k < w[i].nvals; k++)
			nedb__sql_vfree(&w[i].vals[k]);
		free(w[i].vals);
		for (size_t k = 0; w[i].names && k < w[i].nvals; k++)
			free(w[i].names[k]);
		free(w[i].names);
		nedb_buf_free(&w[i].doc);
	}
	free(w);
}

/* The document id a value of the id column makes. */
static int
id_of(const struct sql_table *t, const struct sqlv *v, char **out)
{
	char buf[32];

	*out = NULL;
	switch (v->t) {
	case SQ_NULL:
		return 0;
	case SQ_INT:
		snprintf(buf, sizeof buf, "%lld", (long long)v->i);
		*out = nedb__strdup(buf);
		return 0;
	case SQ_TEXT:
		if (t->rowid)
			break;
		if (nedb_check_id(v->s, v->n) || memchr(v->s, 0, v->n))
			return nedb__err(NEDB_EINPUT, "bad id '%.*s': an id is "
					 "1-400 bytes of UTF-8 with no control "
					 "characters", (int)(v->n > 60 ? 60 :
					 v->n), v->s);
		*out = nedb__memdup(v->s, v->n);
		return 0;
	default:
		break;
	}
	if (t->rowid)
		return nedb__err(NEDB_EINPUT, "datatype mismatch: %s.%s is an "
				 "INTEGER PRIMARY KEY", t->name,
				 t->declared ? colname(t, (size_t)t->idcol) :
				 "id");
	return nedb__err(NEDB_EINPUT, "a REAL id is not supported (%s.%s)",
			 t->name, t->declared ? colname(t, (size_t)t->idcol) :
			 "id");
}

/* Whether coll/id is live now (in the write). */
static int
exists(nedb *db, const char *coll, const char *id, bool *yes)
{
	nedb_doc d;
	int rc = nedb_get(db, coll, id, NEDB_HEAD, &d);

	*yes = rc == 0;
	return rc == NEDB_ENOTFOUND ? 0 : rc;
}

/* The largest integer id of a rowid table (0 when none). */
struct maxid {
	const char *col;
	int64_t max;
};

static int
max_cb(const char *doc, size_t len, void *payload)
{
	struct maxid *m = payload;
	const char *v;
	size_t vlen;
	struct sqlv x;

	if (!nedb_json_member(doc, len, m->col, &v, &vlen))
		return 0;
	nedb__sql_from_json(&x, (struct nql_span){v, vlen}, NULL);
	if (x.t == SQ_INT && x.i > m->max)
		m->max = x.i;
	return 0;
}

static int
max_rowid(nedb *db, const struct sql_table *t, int64_t *out)
{
	struct nql_query q = {0};
	struct maxid m = {colname(t, (size_t)t->idcol), 0};
	int rc;

	q.coll = t->name;
	rc = nedb__query_exec(db, &q, 0, max_cb, &m);
	*out = m.max;
	return rc;
}

/* Appends the document of a row: _id first, then its columns. */
static void
row_doc(nedb_buf *b, const struct sql_table *t, const struct wrow *w)
{
	nedb_buf_puts(b, "{\"_id\":");
	nedb_buf_json_str(b, w->id, strlen(w->id));
	for (size_t k = 0; k < w->nvals; k++) {
		const char *n = t->declared ? colname(t, k) : w->names[k];

		if (!strcmp(n, "_id"))
			continue;
		nedb_buf_add(b, ",", 1);
		nedb_buf_json_str(b, n, strlen(n));
		nedb_buf_add(b, ":", 1);
		nedb__sql_to_json(b, &w->vals[k]);
	}
	nedb_buf_add(b, "}", 1);
}

/* ---- UNIQUE ------------------------------------------------------------------ */

struct uscan {
	const struct sql_table *t;
	const struct sql_unique *u;
	struct vset *ex;
	char ***owner;
};

static int
uscan_cb(const char *doc, size_t len, void *payload)
{
	struct uscan *s = payload;
	struct sqlv tup[s->u->n];
	struct sql_arena ar = {0};
	bool added, null = false;
	size_t k;

	for (size_t i = 0; i < s->u->n; i++) {
		const char *n = colname(s->t, s->u->cols[i]);
		const char *v;
		size_t vlen;

		if (!nedb_json_member(doc, len, n, &v, &vlen))
			v = NULL, vlen = 0;
		nedb__sql_from_json(&tup[i], (struct nql_span){v, vlen}, &ar);
		tup[i].json = NULL;
		null |= tup[i].t == SQ_NULL;
	}
	if (!null) {
		k = vset_add(s->ex, tup, &added);
		if (added) {
			*s->owner = nedb__realloc(*s->owner, s->ex->n *
						  sizeof **s->owner);
			(*s->owner)[k] = doc_id(doc, len);
		}
	}
	nedb__sql_arena_free(&ar);
	return 0;
}

static bool
vset_has(struct vset *s, const struct sqlv *t, size_t *at)
{
	size_t h;

	if (!s->nslots)
		return false;
	h = (size_t)tuple_hash(t, s->width);
	for (;; h++) {
		size_t k = s->slot[h & (s->nslots - 1)];

		if (!k)
			return false;
		if (tuple_eq(&s->v[(k - 1) * s->width], t, s->width)) {
			*at = k - 1;
			return true;
		}
	}
}

static bool
touched(const struct wrow *w, size_t n, const char *id)
{
	for (size_t i = 0; i < n && id; i++)
		if (!w[i].skip && ((w[i].id && !strcmp(w[i].id, id)) ||
				   (w[i].old_id && !strcmp(w[i].old_id, id))))
			return true;
	return false;
}

/*
 * Checks the UNIQUE constraints of t for the rows a statement writes
 * (declared tables): against the rows it leaves as they are, found
 * through an index hint on the first column, and against each other.
 * IGNORE skips a row that conflicts; anything else is an error.
 */
static int
check_unique(nedb *db, const struct sql_table *t, struct wrow *w, size_t n,
	     enum sql_conflict on, bool existing)
{
	int rc = 0;

	for (size_t ui = 0; ui < t->nuq && !rc; ui++) {
		const struct sql_unique *u = &t->uq[ui];
		struct vset ex = {.width = u->n}, nw = {.width = u->n};
		char **owner = NULL;
		struct nql_query q = {0};
		struct nql_expr *h = nedb__calloc(1, sizeof *h);
		nedb_buf b = {0};

		h->kind = EX_IN;
		set_path(&h->path, (char **)&t->def->defs[u->cols[0]].name, 1);
		for (size_t i = 0; i < n; i++) {
			const struct sqlv *v = &w[i].vals[u->cols[0]];

			if (w[i].skip || v->t == SQ_NULL)
				continue;
			b.len = 0;
			nedb__sql_to_json(&b, v);
			hint_val(h, b.p, b.len);
		}
		if (h->nvals && existing) {
			struct uscan s = {t, u, &ex, &owner};

			q.coll = t->name;
			q.where = h;
			rc = nedb__query_exec(db, &q, 0, uscan_cb, &s);
		}
		for (size_t i = 0; i < n && !rc; i++) {
			struct sqlv tup[u->n];
			bool null = false, conflict = false, added;
			size_t at;

			if (w[i].skip)
				continue;
			for (size_t k = 0; k < u->n; k++) {
				tup[k] = w[i].vals[u->cols[k]];
				null |= tup[k].t == SQ_NULL;
			}
			if (null)
				continue;
			if (vset_has(&ex, tup, &at) &&
			    !touched(w, n, owner[at]))
				conflict = true;
			if (!conflict) {
				vset_add(&nw, tup, &added);
				conflict = !added;
			}
			if (!conflict)
				continue;
			if (on == ON_IGNORE)
				w[i].skip = true;
			else if (on == ON_REPLACE)
				rc = nedb__err(NEDB_EREJECTED, "REPLACE of a "
					       "row conflicting on UNIQUE %s is "
					       "not supported", u->what);
			else
				rc = nedb__err(NEDB_EREJECTED, "UNIQUE "
					       "constraint failed: %s",
					       u->what);
		}
		for (size_t i = 0; i < ex.n; i++)
			free(owner[i]);
		free(owner);
		nql_expr_free(h);
		nedb_buf_free(&b);
		vset_free(&ex);
		vset_free(&nw);
	}
	return rc;
}

/* ---- writes ------------------------------------------------------------------- */

static int
stmt_begin(nedb *db)
{
	return db->sql_txn ? 0 : nedb_write_begin(db);
}

/* Ends a statement's write: commits unless BEGIN holds it. */
static int
stmt_end(nedb *db, int rc)
{
	if (db->sql_txn) {
		if (rc && db->wfailed) {
			nedb_write_abort(db);
			db->sql_txn = false;
			return nedb__err(rc, "%s (the transaction was rolled "
					 "back)", nedb_errmsg());
		}
		return rc;
	}
	if (rc) {
		nedb_write_abort(db);
		return rc;
	}
	return nedb_write_commit(db);
}

/* Stages the rows: a put each (deletes of the ids they leave first). */
static int
stage_rows(nedb *db, const struct sql_table *t, struct wrow *w, size_t n,
	   uint64_t *changes)
{
	nedb_buf doc = {0};
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		nedb_put p = {0};

		if (w[i].skip || w[i].same)
			continue;
		if (w[i].old_id) {
			if ((rc = nedb_write_delete(db, t->name, w[i].old_id,
						    NULL, NULL)))
				break;
		}
		if (!w[i].id) {
			char buf[32];
			bool yes;

			/* the seq of the op that writes it: new forever, and
			 * zero-padded, so that _id order is insertion order
			 * (sqlite3's rowid order) */
			snprintf(buf, sizeof buf, "%016llu",
				 (unsigned long long)db->wa.seq + 1);
			if ((rc = exists(db, t->name, buf, &yes)))
				break;
			if (yes) {
				rc = nedb__err(NEDB_EREJECTED, "id %s is taken "
					       "in %s", buf, t->name);
				break;
			}
			w[i].id = nedb__strdup(buf);
		}
		doc.len = 0;
		if (w[i].doc.len) {
			nedb_buf_add(&doc, w[i].doc.p, w[i].doc.len);
			if ((rc = nedb__doc_set(&doc, "_id", NULL, 0, false)))
				break;
			{
				nedb_buf lit = {0};

				nedb_buf_json_str(&lit, w[i].id,
						  strlen(w[i].id));
				rc = nedb__doc_set(&doc, "_id", lit.p, lit.len,
						   true);
				nedb_buf_free(&lit);
				if (rc)
					break;
			}
		} else
			row_doc(&doc, t, &w[i]);
		if (doc.len > MAX_DOC) {
			rc = nedb__err(NEDB_EINPUT, "document too large: more "
				       "than %u bytes", MAX_DOC);
			break;
		}
		p.coll = t->name;
		p.id = w[i].id;
		p.doc = doc.p;
		p.doclen = doc.len;
		p.prepared = 1;
		p.keep_ttl = 1;
		if ((rc = nedb_write_put(db, &p, NULL)))
			break;
		(*changes)++;
	}
	nedb_buf_free(&doc);
	return rc;
}

static struct sql_table *
need_table(nedb *db, const char *name, int *rc)
{
	struct sql_table *t = NULL;

	if ((*rc = load_table(db, name, NEDB_HEAD, &t)))
		return NULL;
	if (!t)
		*rc = nedb__err(NEDB_EUSAGE, "no such table: %s", name);
	return t;
}

/* A value for a column: affinity, NOT NULL (the caller's row). */
static int
column_value(const struct sql_table *t, size_t k, struct sqlv *v,
	     struct sql_arena *ar)
{
	const struct sql_coldef *d = &t->def->defs[k];

	v->json = NULL;
	nedb__sql_apply_aff(v, d->aff, true, ar);
	if (v->t == SQ_REAL && (v->r != v->r || v->r - v->r != 0))
		return nedb__err(NEDB_EINPUT, "cannot store an infinite REAL "
				 "in %s.%s (JSON has no infinity)", t->name,
				 d->name);
	if (v->t == SQ_NULL && d->notnull && !((int)k == t->idcol && t->rowid))
		return nedb__err(NEDB_EREJECTED, "NOT NULL constraint failed: "
				 "%s.%s", t->name, d->name);
	return 0;
}

/* The source rows of an INSERT: VALUES or a SELECT. */
struct srcrows {
	struct sqlv *v;
	size_t n, width, cap;
};

static int
src_sink(void *payload, const char *const *names, const struct sqlv *v,
	 size_t n)
{
	struct srcrows *s = payload;

	(void)names;
	if (!s->width && !s->n)
		s->width = n;
	if (n != s->width)
		return nedb__err(NEDB_EUSAGE, "rows of different widths");
	if ((s->n + 1) * s->width > s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		if (s->cap < (s->n + 1) * s->width)
			s->cap = (s->n + 1) * s->width;
		s->v = nedb__realloc(s->v, s->cap * sizeof *s->v);
	}
	for (size_t i = 0; i < n; i++)
		nedb__sql_dup(&s->v[s->n * s->width + i], &v[i]);
	s->n++;
	return 0;
}

static int
do_insert(nedb *db, struct sql_stmt *st, uint64_t *changes)
{
	struct sql_table *t;
	struct srcrows src = {0};
	struct wrow *w = NULL;
	struct sql_arena ar = {0};
	struct vset ids = {.width = 1};
	size_t *map = NULL, nmap, ncols;
	int64_t nextid = 0;
	bool have_next = false;
	int rc;

	if (!(t = need_table(db, st->table, &rc)))
		return rc;
	ncols = t->declared ? t->ncols : 0;
	if (st->ncols) {
		nmap = st->ncols;
		map = nedb__calloc(nmap, sizeof *map);
		for (size_t i = 0; i < nmap; i++) {
			int k = col_index(t, st->cols[i]);

			if (t->declared && k < 0) {
				rc = nedb__err(NEDB_EUSAGE, "table %s has no "
					       "column named %s", t->name,
					       st->cols[i]);
				goto done;
			}
			for (size_t j = 0; j < i; j++)
				if (!strcasecmp(st->cols[i], st->cols[j])) {
					rc = nedb__err(NEDB_EUSAGE, "column %s "
						       "given twice",
						       st->cols[i]);
					goto done;
				}
			map[i] = t->declared ? (size_t)k : i;
		}
	} else if (t->declared) {
		nmap = st->default_values ? 0 : ncols;
		map = nedb__calloc(ncols ? ncols : 1, sizeof *map);
		for (size_t i = 0; i < ncols; i++)
			map[i] = i;
	} else if (!st->default_values) {
		rc = nedb__err(NEDB_EUSAGE, "INSERT into %s, a table without "
			       "declared columns, needs a column list",
			       t->name);
		goto done;
	} else
		nmap = 0;
	/* the source rows */
	if (st->sel) {
		if ((rc = run_select(db, st->sel, NULL, st->text, src_sink,
				     &src, false, NULL)))
			goto done;
		if (src.n && src.width != nmap) {
			rc = nedb__err(NEDB_EUSAGE, "%zu values for %zu "
				       "columns", src.width, nmap);
			goto done;
		}
		src.width = nmap;
	} else if (st->default_values) {
		src.n = 1;
		src.width = 0;
	} else {
		struct comp c = {.db = db, .text = st->text,
				 .as_of = NEDB_HEAD};

		if (st->nvals != nmap) {
			rc = err_at(st->start, NEDB_EUSAGE, "%zu values for %zu "
				    "columns", st->nvals, nmap);
			goto done;
		}
		src.width = nmap;
		for (size_t r = 0; r < st->nrows; r++) {
			struct sqlv row[nmap ? nmap : 1];
			struct sql_ctx ctx = {.arena = &ar};

			for (size_t i = 0; i < nmap; i++) {
				if ((rc = resolve(&c, st->rows[r][i], IN_DML)))
					goto done;
				nedb__sql_eval(st->rows[r][i], &ctx, &row[i]);
			}
			if ((rc = ctx.rc))
				goto done;
			src_sink(&src, NULL, row, nmap);
			nedb__sql_arena_reset(&ar);
		}
		src.width = nmap;
	}
	w = nedb__calloc(src.n ? src.n : 1, sizeof *w);
	for (size_t r = 0; r < src.n; r++) {
		struct wrow *x = &w[r];
		struct sqlv *in = src.v ? &src.v[r * src.width] : NULL;

		if (t->declared) {
			bool *set = nedb__calloc(ncols, sizeof *set);

			/* nvals stays 0 until the values are its own */
			x->vals = nedb__calloc(ncols, sizeof *x->vals);
			for (size_t i = 0; i < nmap; i++) {
				x->vals[map[i]] = in[i];
				set[map[i]] = true;
			}
			for (size_t k = 0; k < ncols; k++) {
				struct sql_ctx ctx = {.arena = &ar};

				if (!set[k] && t->def->defs[k].dflt) {
					struct comp c = {.db = db,
							 .text = t->sqltext};

					if ((rc = resolve(&c, t->def->defs[k].dflt,
							  IN_DML))) {
						free(set);
						goto done;
					}
					nedb__sql_eval(t->def->defs[k].dflt,
						       &ctx, &x->vals[k]);
				}
				if ((rc = column_value(t, k, &x->vals[k], &ar))) {
					free(set);
					goto done;
				}
			}
			free(set);
			/* own the values */
			for (size_t k = 0; k < ncols; k++) {
				struct sqlv d;

				nedb__sql_dup(&d, &x->vals[k]);
				x->vals[k] = d;
			}
			x->nvals = ncols;
			nedb__sql_arena_reset(&ar);
			if (t->idcol >= 0) {
				struct sqlv *v = &x->vals[t->idcol];

				if (v->t == SQ_NULL && t->rowid) {
					if (!have_next) {
						if ((rc = max_rowid(db, t,
								    &nextid)))
							goto done;
						have_next = true;
					}
					if (nextid == INT64_MAX) {
						rc = nedb__err(NEDB_EREJECTED,
							"database or disk is "
							"full (no rowid left)");
						goto done;
					}
					v->t = SQ_INT;
					v->i = ++nextid;
				}
				if ((rc = id_of(t, v, &x->id)))
					goto done;
				if (t->rowid && v->i > nextid && have_next)
					nextid = v->i;
			}
		} else {
			x->nvals = nmap;
			x->vals = nedb__calloc(nmap ? nmap : 1,
					       sizeof *x->vals);
			x->names = nedb__calloc(nmap ? nmap : 1,
						sizeof *x->names);
			for (size_t i = 0; i < nmap; i++) {
				nedb__sql_dup(&x->vals[i], &in[i]);
				x->names[i] = nedb__strdup(st->cols[i]);
			}
			for (size_t i = 0; i < nmap && !x->id; i++)
				if (!strcmp(st->cols[i], "_id") ||
				    !strcasecmp(st->cols[i], "id")) {
					struct sql_table tt = *t;

					tt.rowid = false;
					if ((rc = id_of(&tt, &x->vals[i],
							&x->id)))
						goto done;
				}
		}
	}
	/* ids: taken, or given twice */
	for (size_t r = 0; r < src.n; r++) {
		struct wrow *x = &w[r];
		struct sqlv idv;
		bool yes, added;

		if (!x->id)
			continue;
		idv = (struct sqlv){.t = SQ_TEXT, .s = x->id,
				    .n = strlen(x->id)};
		vset_add(&ids, &idv, &added);
		if ((rc = exists(db, t->name, x->id, &yes)))
			goto done;
		if (!yes && added)
			continue;
		if (st->conflict == ON_IGNORE) {
			x->skip = true;
			continue;
		}
		if (st->conflict == ON_REPLACE) {
			x->replace = true;
			if (!added)	/* the later row wins */
				for (size_t j = 0; j < r; j++)
					if (w[j].id && !strcmp(w[j].id, x->id))
						w[j].skip = true;
			continue;
		}
		rc = nedb__err(NEDB_EREJECTED, "UNIQUE constraint failed: "
			       "%s.%s", t->name, t->declared && t->idcol >= 0 ?
			       colname(t, (size_t)t->idcol) : "_id");
		goto done;
	}
	if (t->declared && t->nuq &&
	    (rc = check_unique(db, t, w, src.n, st->conflict, true)))
		goto done;
	rc = stage_rows(db, t, w, src.n, changes);
done:
	nedb__sql_arena_free(&ar);
	vset_free(&ids);
	if (w)
		wrows_free(w, src.n);
	for (size_t i = 0; i < src.n * src.width; i++)
		nedb__sql_vfree(&src.v[i]);
	free(src.v);
	free(map);
	table_free(t);
	return rc;
}

static int
do_update(nedb *db, struct sql_stmt *st, uint64_t *changes)
{
	struct sql_table *t;
	struct docs d = {0};
	struct wrow *w = NULL;
	struct sql_arena ar = {0};
	int *cols = NULL;
	size_t nw = 0;
	int rc;

	if (!(t = need_table(db, st->table, &rc)))
		return rc;
	cols = nedb__calloc(st->nset, sizeof *cols);
	{
		struct comp c = {.db = db, .t = t, .text = st->text,
				 .as_of = NEDB_HEAD};

		for (size_t i = 0; i < st->nset; i++) {
			cols[i] = -1;
			if (t->declared) {
				if (strchr(st->set_cols[i], '.')) {
					rc = nedb__err(NEDB_EUSAGE, "SET of a "
						       "field inside a column "
						       "(%s) is not supported",
						       st->set_cols[i]);
					goto done;
				}
				if ((cols[i] = col_index(t, st->set_cols[i])) <
				    0) {
					rc = nedb__err(NEDB_EUSAGE, "no such "
						       "column: %s",
						       st->set_cols[i]);
					goto done;
				}
			} else if (!strcmp(st->set_cols[i], "_id")) {
				rc = nedb__err(NEDB_EUSAGE, "a document's _id "
					       "cannot be SET");
				goto done;
			}
			if ((rc = resolve(&c, st->set_vals[i], IN_DML)))
				goto done;
		}
	}
	if ((rc = find_rows(db, t, &st->where, st->text, &d)))
		goto done;
	w = nedb__calloc(d.n ? d.n : 1, sizeof *w);
	for (size_t r = 0; r < d.n; r++) {
		struct wrow *x = &w[nw++];
		struct sql_ctx ctx = {.doc = d.doc[r], .len = d.len[r],
				      .arena = &ar};
		struct sqlv nv[st->nset];

		x->id = doc_id(d.doc[r], d.len[r]);
		nedb_buf_add(&x->doc, d.doc[r], d.len[r]);
		/* every new value from the old row */
		for (size_t i = 0; i < st->nset; i++)
			nedb__sql_eval(st->set_vals[i], &ctx, &nv[i]);
		if ((rc = ctx.rc))
			goto done;
		if (t->declared) {
			/* nvals stays 0 until the values are its own */
			x->vals = nedb__calloc(t->ncols, sizeof *x->vals);
			for (size_t k = 0; k < t->ncols; k++) {
				nedb__sql_eval(&(struct sql_expr){.op = SX_COL,
					.path = {.parts = (char **)&t->def->
						 defs[k].name, .n = 1}},
					&ctx, &x->vals[k]);
				x->vals[k].json = NULL;
			}
			for (size_t i = 0; i < st->nset; i++) {
				x->vals[cols[i]] = nv[i];
				if ((rc = column_value(t, (size_t)cols[i],
						       &x->vals[cols[i]], &ar)))
					goto done;
			}
			for (size_t k = 0; k < t->ncols; k++) {
				struct sqlv o;

				nedb__sql_dup(&o, &x->vals[k]);
				x->vals[k] = o;
			}
			x->nvals = t->ncols;
			for (size_t i = 0; i < st->nset; i++) {
				const char *n = colname(t, (size_t)cols[i]);
				nedb_buf lit = {0};

				nedb__sql_to_json(&lit, &x->vals[cols[i]]);
				if (strcmp(n, "_id"))
					rc = nedb__doc_set(&x->doc, n, lit.p,
							   lit.len, false);
				nedb_buf_free(&lit);
				if (rc)
					goto done;
			}
			if (t->idcol >= 0) {
				char *nid;

				if (x->vals[t->idcol].t == SQ_NULL && t->rowid) {
					rc = nedb__err(NEDB_EREJECTED, "NOT "
						       "NULL constraint failed:"
						       " %s.%s", t->name,
						       colname(t, (size_t)
							       t->idcol));
					goto done;
				}
				if ((rc = id_of(t, &x->vals[t->idcol], &nid)))
					goto done;
				if (nid && x->id && strcmp(nid, x->id)) {
					x->old_id = x->id;
					x->id = nid;
				} else
					free(nid);
			}
		} else {
			for (size_t i = 0; i < st->nset; i++) {
				nedb_buf lit = {0}, upd = {0}, out = {0};

				nv[i].json = NULL;
				nedb__sql_to_json(&lit, &nv[i]);
				if (!strchr(st->set_cols[i], '.'))
					rc = nedb__doc_set(&x->doc,
							   st->set_cols[i],
							   lit.p, lit.len,
							   false);
				else {
					nedb_buf_puts(&upd, "{\"$set\":{");
					nedb_buf_json_str(&upd, st->set_cols[i],
							  strlen(st->
								 set_cols[i]));
					nedb_buf_add(&upd, ":", 1);
					nedb_buf_add(&upd, lit.p, lit.len);
					nedb_buf_puts(&upd, "}}");
					if (!(rc = nedb_update_doc(&out,
						x->doc.p, x->doc.len, upd.p))) {
						x->doc.len = 0;
						nedb_buf_add(&x->doc, out.p,
							     out.len);
					}
				}
				nedb_buf_free(&lit);
				nedb_buf_free(&upd);
				nedb_buf_free(&out);
				if (rc)
					goto done;
			}
		}
		nedb__sql_arena_reset(&ar);
		/* a row left as it was is not written */
		if (!x->old_id && x->doc.len == d.len[r] &&
		    !memcmp(x->doc.p, d.doc[r], d.len[r]))
			x->same = true;
	}
	/* ids an UPDATE moves rows to must be free */
	for (size_t r = 0; r < nw; r++) {
		bool yes;

		if (!w[r].old_id)
			continue;
		if ((rc = exists(db, t->name, w[r].id, &yes)))
			goto done;
		for (size_t j = 0; j < nw && yes; j++)
			if (w[j].old_id && !strcmp(w[j].old_id, w[r].id))
				yes = false;	/* vacated by this UPDATE */
		for (size_t j = 0; j < nw && !yes; j++)
			if (j != r && w[j].id && !strcmp(w[j].id, w[r].id))
				yes = true;
		if (yes) {
			rc = nedb__err(NEDB_EREJECTED, "UNIQUE constraint "
				       "failed: %s.%s", t->name,
				       colname(t, (size_t)t->idcol));
			goto done;
		}
	}
	if (t->declared && t->nuq &&
	    (rc = check_unique(db, t, w, nw, ON_ABORT, true)))
		goto done;
	/* rows that leave an id go first: another may move into it */
	for (size_t r = 0; r < nw && !rc; r++)
		if (w[r].old_id && !w[r].skip) {
			rc = nedb_write_delete(db, t->name, w[r].old_id, NULL,
					       NULL);
			free(w[r].old_id);
			w[r].old_id = NULL;
		}
	if (!rc)
		rc = stage_rows(db, t, w, nw, changes);
done:
	nedb__sql_arena_free(&ar);
	if (w)
		wrows_free(w, nw);
	docs_free(&d);
	free(cols);
	table_free(t);
	return rc;
}

static int
do_delete(nedb *db, struct sql_stmt *st, uint64_t *changes)
{
	struct sql_table *t;
	struct docs d = {0};
	int rc;

	if (!(t = need_table(db, st->table, &rc)))
		return rc;
	if (!(rc = find_rows(db, t, &st->where, st->text, &d))) {
		for (size_t i = 0; i < d.n && !rc; i++) {
			char *id = doc_id(d.doc[i], d.len[i]);

			if (!id) {
				rc = nedb__err(NEDB_ECORRUPT, "a row without "
					       "an _id");
				break;
			}
			rc = nedb_write_delete(db, t->name, id, NULL, NULL);
			free(id);
			(*changes)++;
		}
	}
	docs_free(&d);
	table_free(t);
	return rc;
}

/* ---- schema changes ---------------------------------------------------------- */

/* The statement's own text, trimmed. */
static char *
stmt_text(const struct sql_stmt *st)
{
	size_t a = st->start, b = st->end;

	while (b > a && (st->text[b - 1] == ' ' || st->text[b - 1] == '\n' ||
			 st->text[b - 1] == '\t' || st->text[b - 1] == '\r'))
		b--;
	return nedb__memdup(st->text + a, b - a);
}

/* Writes the schema document of t with its indexes (ix[i]->text). */
static int
put_schema(nedb *db, const char *name, const char *sql,
	   struct sql_stmt **ix, size_t nix)
{
	nedb_buf b = {0};
	char *key = lower(name);
	nedb_put p = {0};
	int rc;

	nedb_buf_puts(&b, "{\"_id\":");
	nedb_buf_json_str(&b, key, strlen(key));
	nedb_buf_puts(&b, ",\"table\":");
	nedb_buf_json_str(&b, name, strlen(name));
	nedb_buf_puts(&b, ",\"sql\":");
	if (sql)
		nedb_buf_json_str(&b, sql, strlen(sql));
	else
		nedb_buf_puts(&b, "null");
	nedb_buf_puts(&b, ",\"indexes\":[");
	for (size_t i = 0; i < nix; i++) {
		nedb_buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
		nedb_buf_json_str(&b, ix[i]->index, strlen(ix[i]->index));
		nedb_buf_puts(&b, ",\"sql\":");
		nedb_buf_json_str(&b, ix[i]->text, strlen(ix[i]->text));
		nedb_buf_puts(&b, "}");
	}
	nedb_buf_puts(&b, "]}");
	p.coll = SCHEMA_COLL;
	p.id = key;
	p.doc = b.p;
	p.doclen = b.len;
	p.prepared = 1;
	rc = nedb_write_put(db, &p, NULL);
	nedb_buf_free(&b);
	free(key);
	return rc;
}

static int
ensure_index(nedb *db, const char *coll, const char *field)
{
	nedb_receipt r;

	return nedb_write_index(db, coll, field, "ordered", NULL, &r);
}

static int
do_create_table(nedb *db, struct sql_stmt *st)
{
	struct sql_table *t = NULL, *n = NULL;
	struct sql_stmt *def = NULL;
	struct nql_error err;
	char *text = NULL, *key = lower(st->table);
	int rc;

	if (!strncmp(key, "nedb_", 5)) {
		rc = nedb__err(NEDB_EUSAGE, "table names starting with nedb_ "
			       "are reserved");
		goto done;
	}
	if ((rc = load_table(db, st->table, NEDB_HEAD, &t)))
		goto done;
	if (t && (t->declared || coll_live(db, t->name))) {
		rc = st->if_exists ? 0 : nedb__err(NEDB_EUSAGE, "table %s "
			"already exists%s", st->table, t->declared ? "" :
			" (a collection with documents)");
		goto done;
	}
	/* checked as loading will read it back */
	text = stmt_text(st);
	if ((rc = nedb__sql_parse(text, 0, strlen(text), &def, &err))) {
		rc = nedb__err(NEDB_ECORRUPT, "cannot read back: %s", err.msg);
		goto done;
	}
	n = nedb__calloc(1, sizeof *n);
	n->idcol = -1;
	rc = table_from_def(n, def);
	def = NULL;
	if (rc)
		goto done;
	for (size_t i = 0; i < n->ncols; i++)
		if (n->def->defs[i].dflt) {
			struct sql_expr *e = n->def->defs[i].dflt;

			if (e->op != SX_LIT && !(e->op == SX_NEG && e->a &&
						 e->a->op == SX_LIT) &&
			    e->op != SX_POS) {
				rc = nedb__err(NEDB_EUSAGE, "a DEFAULT other "
					       "than a constant is not "
					       "supported");
				goto done;
			}
		}
	/* indexes stay of an earlier table of that name: keep them */
	if ((rc = put_schema(db, st->table, text, t ? t->ix : NULL,
			     t ? t->nix : 0)))
		goto done;
	for (size_t u = 0; u < n->nuq && !rc; u++)
		rc = ensure_index(db, n->name, colname(n, n->uq[u].cols[0]));
	/* the rowid's index: rows are visited in its order */
	if (!rc && n->rowid)
		rc = ensure_index(db, n->name, colname(n, (size_t)n->idcol));
done:
	free(key);
	free(text);
	nedb__sql_stmt_free(def);
	table_free(t);
	table_free(n);
	return rc;
}

/* Every table's schema document (for index names). */
struct schemas {
	char **names;
	size_t n;
};

static int
schema_cb(const char *doc, size_t len, void *payload)
{
	struct schemas *s = payload;
	const char *v;
	size_t vlen;
	char *name;

	if (!nedb_json_member(doc, len, "table", &v, &vlen) ||
	    nedb_json_string(v, vlen, &name))
		return 0;
	s->names = nedb__realloc(s->names, (s->n + 1) * sizeof *s->names);
	s->names[s->n++] = name;
	return 0;
}

/* The table holding the index named name (its schema loaded), or NULL. */
static int
find_index(nedb *db, const char *name, struct sql_table **out, size_t *at)
{
	struct nql_query q = {0};
	struct schemas s = {0};
	int rc;

	*out = NULL;
	q.coll = SCHEMA_COLL;
	if ((rc = nedb__query_exec(db, &q, 0, schema_cb, &s)))
		goto done;
	for (size_t i = 0; i < s.n && !*out; i++) {
		struct sql_table *t;

		if ((rc = load_table(db, s.names[i], NEDB_HEAD, &t)))
			break;
		for (size_t k = 0; t && k < t->nix; k++)
			if (same_name(t->ix[k]->index, name)) {
				*out = t;
				*at = k;
				break;
			}
		if (*out != t)
			table_free(t);
	}
done:
	for (size_t i = 0; i < s.n; i++)
		free(s.names[i]);
	free(s.names);
	return rc;
}

static int
do_create_index(nedb *db, struct sql_stmt *st)
{
	struct sql_table *t = NULL, *other = NULL;
	struct sql_stmt *ix = NULL;
	struct nql_error err;
	char *text = NULL;
	size_t at;
	int rc;

	if (!(t = need_table(db, st->table, &rc)))
		return rc;
	if ((rc = find_index(db, st->index, &other, &at)))
		goto done;
	if (other) {
		rc = st->if_exists ? 0 : nedb__err(NEDB_EUSAGE, "index %s "
						   "already exists", st->index);
		goto done;
	}
	for (size_t i = 0; i < st->ncols; i++)
		if (t->declared && col_index(t, st->cols[i]) < 0) {
			rc = nedb__err(NEDB_EUSAGE, "no such column: %s",
				       st->cols[i]);
			goto done;
		}
	text = stmt_text(st);
	if ((rc = nedb__sql_parse(text, 0, strlen(text), &ix, &err))) {
		rc = nedb__err(NEDB_ECORRUPT, "cannot read back: %s", err.msg);
		goto done;
	}
	ix->text = text;
	text = NULL;
	t->ix = nedb__realloc(t->ix, (t->nix + 1) * sizeof *t->ix);
	t->ix[t->nix++] = ix;
	if (st->unique && t->declared) {
		/* the rows there are must be unique already */
		struct docs d = {0};
		struct sql_expr *none = NULL;
		struct wrow *w;
		struct sql_arena ar = {0};

		if ((rc = add_unique(t, st->cols, st->ncols)))
			goto done;
		if ((rc = find_rows(db, t, &none, st->text, &d)))
			goto done;
		w = nedb__calloc(d.n ? d.n : 1, sizeof *w);
		for (size_t r = 0; r < d.n; r++) {
			struct sql_ctx ctx = {.doc = d.doc[r], .len = d.len[r],
					      .arena = &ar};

			w[r].id = doc_id(d.doc[r], d.len[r]);
			w[r].nvals = t->ncols;
			w[r].vals = nedb__calloc(t->ncols, sizeof *w[r].vals);
			for (size_t k = 0; k < t->ncols; k++) {
				struct sqlv v;

				nedb__sql_eval(&(struct sql_expr){.op = SX_COL,
					.path = {.parts = (char **)&t->def->
						 defs[k].name, .n = 1}},
					&ctx, &v);
				nedb__sql_dup(&w[r].vals[k], &v);
			}
			nedb__sql_arena_reset(&ar);
		}
		{
			/* only the new constraint: against each other */
			struct sql_unique *keep = t->uq;
			size_t nkeep = t->nuq;
			struct sql_table tt = *t;

			tt.uq = &keep[nkeep - 1];
			tt.nuq = 1;
			/* the rows against each other, none against itself */
			rc = check_unique(db, &tt, w, d.n, ON_ABORT, false);
		}
		wrows_free(w, d.n);
		docs_free(&d);
		nedb__sql_arena_free(&ar);
		if (rc)
			goto done;
	}
	if ((rc = put_schema(db, t->name, t->sqltext, t->ix, t->nix)))
		goto done;
	rc = ensure_index(db, t->name, st->cols[0]);
	if (!rc || rc != NEDB_EINPUT)
		goto done;
	rc = 0;		/* a name no index can have: the SQL one stays */
done:
	free(text);
	table_free(t);
	table_free(other);
	return rc;
}

/* Whether field still needs its index in t (without index skip). */
static bool
field_needed(const struct sql_table *t, const char *field, size_t skip)
{
	for (size_t i = 0; i < t->nix; i++)
		if (i != skip && t->ix[i]->ncols &&
		    !strcmp(t->ix[i]->cols[0], field))
			return true;
	for (size_t u = 0; t->declared && u < t->nuq; u++)
		if (!strcmp(colname(t, t->uq[u].cols[0]), field))
			return true;
	return t->rowid && !strcmp(colname(t, (size_t)t->idcol), field);
}

static int
unindex(nedb *db, const char *coll, const char *field)
{
	int rc = nedb_write_unindex(db, coll, field, "ordered", NULL, NULL);

	return rc == NEDB_ENOTFOUND || rc == NEDB_EINPUT ? 0 : rc;
}

static int
do_drop_index(nedb *db, struct sql_stmt *st)
{
	struct sql_table *t = NULL;
	size_t at;
	int rc;

	if ((rc = find_index(db, st->index, &t, &at)))
		return rc;
	if (!t)
		return st->if_exists ? 0 : nedb__err(NEDB_EUSAGE, "no such "
						     "index: %s", st->index);
	{
		struct sql_stmt *ix = t->ix[at];
		const char *field = ix->cols[0];

		if (!field_needed(t, field, at))
			rc = unindex(db, t->name, field);
		if (!rc) {
			memmove(&t->ix[at], &t->ix[at + 1], (t->nix - at - 1) *
				sizeof *t->ix);
			t->nix--;
			rc = put_schema(db, t->name, t->sqltext, t->ix, t->nix);
		}
		free((char *)ix->text);
		nedb__sql_stmt_free(ix);
	}
	table_free(t);
	return rc;
}

static int
do_drop_table(nedb *db, struct sql_stmt *st)
{
	struct sql_table *t;
	int rc;

	if ((rc = load_table(db, st->table, NEDB_HEAD, &t)))
		return rc;
	if (!t)
		return st->if_exists ? 0 : nedb__err(NEDB_EUSAGE, "no such "
						     "table: %s", st->table);
	if (coll_live(db, t->name))
		rc = nedb_write_drop(db, t->name, NULL, NULL);
	for (size_t i = 0; i < t->nix && !rc; i++)
		if (t->ix[i]->ncols)
			rc = unindex(db, t->name, t->ix[i]->cols[0]);
	for (size_t u = 0; t->declared && u < t->nuq && !rc; u++)
		rc = unindex(db, t->name, colname(t, t->uq[u].cols[0]));
	if (!rc && t->rowid)
		rc = unindex(db, t->name, colname(t, (size_t)t->idcol));
	if (!rc && t->has_schema) {
		char *key = lower(st->table);

		rc = nedb_write_delete(db, SCHEMA_COLL, key, NULL, NULL);
		free(key);
	}
	table_free(t);
	return rc;
}

/* ---- nedb_sql ----------------------------------------------------------------- */

struct usersink {
	nedb_sql_fn fn;
	void *payload;
	nedb_sql_value *v;
	size_t cap;
};

static int
user_sink(void *payload, const char *const *names, const struct sqlv *v,
	  size_t n)
{
	struct usersink *u = payload;
	nedb_sql_row row = {0};

	if (n > u->cap) {
		u->cap = n * 2;
		u->v = nedb__realloc(u->v, u->cap * sizeof *u->v);
	}
	for (size_t i = 0; i < n; i++) {
		u->v[i].type = v[i].t == SQ_INT ? NEDB_SQL_INTEGER :
			       v[i].t == SQ_REAL ? NEDB_SQL_REAL :
			       v[i].t == SQ_TEXT ? NEDB_SQL_TEXT :
			       NEDB_SQL_NULL;
		u->v[i].i = v[i].i;
		u->v[i].r = v[i].r;
		u->v[i].s = v[i].t == SQ_TEXT ? v[i].s : NULL;
		u->v[i].n = v[i].t == SQ_TEXT ? v[i].n : 0;
		u->v[i].json = v[i].json;
		u->v[i].jsonlen = v[i].json ? v[i].jn : 0;
	}
	row.ncols = n;
	row.names = names;
	row.v = u->v;
	return u->fn ? u->fn(&row, u->payload) : 0;
}

static int
do_select(nedb *db, struct sql_stmt *st, nedb_sql_fn fn, void *payload)
{
	struct usersink u = {fn, payload, NULL, 0};
	bool began = !db->rtxn && !db->wtxn;
	nedb_buf plan = {0};
	int rc;

	if (began && (rc = nedb_read_begin(db)))
		return rc;
	rc = run_select(db, st->sel, NULL, st->text, user_sink, &u,
			st->explain, &plan);
	if (began)
		nedb_read_end(db);
	if (!rc && st->explain && fn) {
		nedb_sql_row row = {0};

		row.plan = plan.p;
		row.planlen = plan.len;
		rc = fn(&row, payload);
	}
	nedb_buf_free(&plan);
	free(u.v);
	return rc;
}

static int
exec_stmt(nedb *db, struct sql_stmt *st, nedb_sql_fn fn, void *payload)
{
	uint64_t changes = 0;
	int rc;

	switch (st->kind) {
	case SQL_SELECT:
		return do_select(db, st, fn, payload);
	case SQL_BEGIN:
		if (db->sql_txn)
			return nedb__err(NEDB_EUSAGE, "cannot start a "
					 "transaction within a transaction");
		if ((rc = nedb_write_begin(db)))
			return rc;
		db->sql_txn = true;
		return 0;
	case SQL_COMMIT:
		if (!db->sql_txn)
			return nedb__err(NEDB_EUSAGE, "cannot commit - no "
					 "transaction is active");
		db->sql_txn = false;
		return nedb_write_commit(db);
	case SQL_ROLLBACK:
		if (!db->sql_txn)
			return nedb__err(NEDB_EUSAGE, "cannot rollback - no "
					 "transaction is active");
		db->sql_txn = false;
		nedb_write_abort(db);
		return 0;
	default:
		break;
	}
	if (!db->writable)
		return nedb__err(NEDB_EIO, "the database is read-only");
	if ((rc = stmt_begin(db)))
		return rc;
	switch (st->kind) {
	case SQL_INSERT:
		rc = do_insert(db, st, &changes);
		break;
	case SQL_UPDATE:
		rc = do_update(db, st, &changes);
		break;
	case SQL_DELETE:
		rc = do_delete(db, st, &changes);
		break;
	case SQL_CREATE_TABLE:
		rc = do_create_table(db, st);
		break;
	case SQL_CREATE_INDEX:
		rc = do_create_index(db, st);
		break;
	case SQL_DROP_TABLE:
		rc = do_drop_table(db, st);
		break;
	case SQL_DROP_INDEX:
		rc = do_drop_index(db, st);
		break;
	default:
		rc = nedb__err(NEDB_EUSAGE, "not a statement");
		break;
	}
	return stmt_end(db, rc);
}

int
nedb_sql(nedb *db, const char *sql, size_t *pos, nedb_sql_fn fn,
	 void *payload)
{
	size_t start, end;
	struct sql_stmt *st;
	struct nql_error err;
	int rc;

	if (!sql || !pos)
		return nedb__err(NEDB_EUSAGE, "no SQL");
	/* never strlen(sql): a script of a million statements would be
	 * measured a million times; its NUL ends it */
	start = *pos;
	for (;;) {
		while (sql[start] == ' ' || sql[start] == '\t' ||
		       sql[start] == '\n' || sql[start] == '\r' ||
		       sql[start] == '\f' || sql[start] == '\v' ||
		       sql[start] == ';')
			start++;
		if ((sql[start] == '-' && sql[start + 1] == '-') ||
		    (sql[start] == '/' && sql[start + 1] == '*')) {
			const char *e = sql[start] == '-' ?
				strchr(sql + start, '\n') :
				strstr(sql + start + 2, "*/");

			start = e ? (size_t)(e - sql) + (sql[start] == '-' ?
							 1 : 2) :
				start + strlen(sql + start);
			continue;
		}
		break;
	}
	if (!sql[start]) {
		*pos = start;
		return 0;
	}
	end = nedb__sql_stmt_end(sql, SIZE_MAX, start);
	*pos = sql[end] ? end + 1 : end;
	if ((rc = nedb__sql_parse(sql, start, end, &st, &err))) {
		if (rc == NEDB_EUSAGE) {
			/* SQL nedb refuses is no syntax error */
			rc = strstr(err.msg, " not supported") ?
			     nedb__err(NEDB_EUSAGE, "%s", err.msg) :
			     nedb__err(NEDB_EUSAGE, "syntax error: %s",
				       err.msg);
			nedb__set_errpos((long)err.pos);
		}
		return rc;
	}
	rc = exec_stmt(db, st, fn, payload);
	nedb__sql_stmt_free(st);
	return rc;
}

int
nedb_sql_value_text(nedb_buf *out, const nedb_sql_value *v)
{
	struct sqlv x = {0};

	x.t = v->type == NEDB_SQL_INTEGER ? SQ_INT : v->type == NEDB_SQL_REAL ?
	      SQ_REAL : v->type == NEDB_SQL_TEXT ? SQ_TEXT : SQ_NULL;
	x.i = v->i;
	x.r = v->r;
	x.s = v->s ? v->s : "";
	x.n = v->n;
	nedb__sql_text(out, &x);
	return 0;
}

int
nedb_sql_row_json(nedb_buf *out, const nedb_sql_row *row)
{
	if (row->plan)
		return nedb_buf_add(out, row->plan, row->planlen);
	nedb_buf_add(out, "{", 1);
	for (size_t i = 0; i < row->ncols; i++) {
		const nedb_sql_value *v = &row->v[i];
		struct sqlv x = {0};

		if (i)
			nedb_buf_add(out, ",", 1);
		nedb_buf_json_str(out, row->names[i], strlen(row->names[i]));
		nedb_buf_add(out, ":", 1);
		x.t = v->type == NEDB_SQL_INTEGER ? SQ_INT :
		      v->type == NEDB_SQL_REAL ? SQ_REAL :
		      v->type == NEDB_SQL_TEXT ? SQ_TEXT : SQ_NULL;
		x.i = v->i;
		x.r = v->r;
		x.s = v->s ? v->s : "";
		x.n = v->n;
		x.json = v->json;
		x.jn = v->jsonlen;
		if (x.t == SQ_REAL && !x.json) {
			/* as sqlite3 -json prints it */
			nedb_buf t = {0};

			nedb__sql_text(&t, &x);
			if (t.len && (t.p[t.len - 1] == 'f'))
				nedb_buf_puts(out, x.r > 0 ? "1e999" : "-1e999");
			else
				nedb_buf_add(out, t.p, t.len);
			nedb_buf_free(&t);
		} else
			nedb__sql_to_json(out, &x);
	}
	return nedb_buf_add(out, "}", 1);
}
