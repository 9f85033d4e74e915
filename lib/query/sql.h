/*
 * sql.h - nedb-sql's statements (internal to libnedb):
 *
 *   SQL text ──sql_parse──► struct sql_stmt ──sql_exec──► rows, writes
 *                                 │
 *                                 └─ a SELECT's FROM, AS OF, LIMIT and the
 *                                    conditions an index can answer are a
 *                                    struct nql_query (nql.h): the NQL
 *                                    planner and executor find its rows
 *
 * SQL keeps its own semantics on top of the shared engine: values are
 * sqlite3's (NULL, INTEGER, REAL, TEXT), comparisons follow sqlite3's
 * affinity rules and cross-type order, WHERE is three-valued.  The
 * engine's WHERE (nql_query.where) then holds only index hints: terms
 * whose rows are a superset of the rows the SQL condition keeps, which
 * the executor re-checks with nedb__sql_where (sql_value.c).
 */
#ifndef NEDB_SQL_H
#define NEDB_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <locale.h>
#include "nedb.h"
#include "nql.h"

/* ---- values (sql_value.c) ---------------------------------------------- */

enum sqlt { SQ_NULL, SQ_INT, SQ_REAL, SQ_TEXT };

/*
 * A value.  TEXT is s[0, n) (not NUL-ended; borrowed from a document, a
 * literal or an arena).  json, when not NULL, is the document's own text
 * of a value SQL has no type for (true, false, an array, an object): t
 * and the rest say what SQL sees (1, 0, the JSON text).
 */
struct sqlv {
	enum sqlt t;
	int64_t i;
	double r;
	const char *s;
	size_t n;
	const char *json;
	size_t jn;
};

/* Affinities, as sqlite3 derives them from a declared type. */
enum sql_aff { AFF_NONE, AFF_TEXT, AFF_NUMERIC, AFF_INTEGER, AFF_REAL };

/* A bump allocator for the text an evaluation makes; reset per row. */
struct sql_arena {
	struct sql_chunk *head;
};

void *nedb__sql_alloc(struct sql_arena *a, size_t n);
void nedb__sql_arena_reset(struct sql_arena *a);
void nedb__sql_arena_free(struct sql_arena *a);

locale_t nedb__c_locale(void);	/* value.c: the C locale, or NULL */
enum sql_aff nedb__sql_affinity(const char *type);
/* The SQL value of a document's JSON value (len 0: absent, NULL). */
void nedb__sql_from_json(struct sqlv *v, struct nql_span j,
			 struct sql_arena *a);
/* Appends v as JSON (REAL always with '.' or an exponent, round trip). */
int nedb__sql_to_json(nedb_buf *b, const struct sqlv *v);
/* Appends sqlite3's text of v (REAL as "%!.15g"); NULL appends nothing. */
void nedb__sql_text(nedb_buf *b, const struct sqlv *v);
/* sqlite3's conversions: affinity applied for storage or comparison. */
void nedb__sql_apply_aff(struct sqlv *v, enum sql_aff aff, bool store,
			 struct sql_arena *a);
/* Total order of ORDER BY, MIN, MAX, DISTINCT: NULL < numbers < text. */
int nedb__sql_cmp(const struct sqlv *a, const struct sqlv *b);
/* sqlite3's numeric value of TEXT for arithmetic (its prefix). */
void nedb__sql_numerify(struct sqlv *v);
double nedb__sql_double(const struct sqlv *v);
int64_t nedb__sql_int(const struct sqlv *v);
/* A copy whose text is its own (malloc) / frees such a copy's text. */
void nedb__sql_dup(struct sqlv *out, const struct sqlv *v);
void nedb__sql_vfree(struct sqlv *v);
/* A hash of v consistent with nedb__sql_cmp == 0 (1 and 1.0 alike). */
uint64_t nedb__sql_hash(const struct sqlv *v, uint64_t h);

/* ---- expressions -------------------------------------------------------- */

enum sql_op {
	SX_LIT,		/* v */
	SX_COL,		/* a column of the row: path, aff */
	SX_KEY,		/* GROUP BY key number slot (in a group) */
	SX_AGG,		/* aggregate number slot: fn, distinct, a (or star) */
	SX_OUT,		/* output column number slot (ORDER BY, HAVING) */
	SX_NEG, SX_POS, SX_BITNOT, SX_NOT,
	SX_ADD, SX_SUB, SX_MUL, SX_DIV, SX_MOD, SX_CONCAT,
	SX_BITAND, SX_BITOR, SX_SHL, SX_SHR,
	SX_EQ, SX_NE, SX_LT, SX_LE, SX_GT, SX_GE, SX_IS, SX_ISNOT,
	SX_AND, SX_OR,
	SX_ISNULL, SX_NOTNULL,
	SX_IN,		/* a IN (args) / NOT IN with neg */
	SX_INSEL,	/* a IN (SELECT ...): sub, its values in set */
	SX_BETWEEN,	/* a BETWEEN b AND c, neg */
	SX_LIKE,	/* a LIKE b [ESCAPE c], neg */
	SX_GLOB,	/* a GLOB b, neg */
	SX_CAST,	/* CAST(a AS type): aff */
	SX_FUNC,	/* fn(args) */
	SX_CASE,	/* CASE [a] WHEN args[2k] THEN args[2k+1] ... ELSE c */
	SX_SUBQ,	/* (SELECT ...): its first row's first value */
	SX_EXISTS	/* EXISTS (SELECT ...) */
};

enum sql_fn {
	FN_ABS, FN_COALESCE, FN_IFNULL, FN_NULLIF, FN_LENGTH, FN_LOWER,
	FN_UPPER, FN_TYPEOF, FN_SMIN, FN_SMAX,
	/* aggregates */
	FN_COUNT, FN_SUM, FN_TOTAL, FN_AVG, FN_MIN, FN_MAX
};

struct sql_select;

struct sql_expr {
	enum sql_op op;
	bool neg;		/* NOT IN, NOT BETWEEN, NOT LIKE, NOT GLOB */
	bool star;		/* COUNT(*) */
	bool distinct;		/* an aggregate's DISTINCT */
	bool quoted;		/* a "double-quoted" name (maybe a string);
				 * SX_KEY: its term has an affinity (aff) */
	enum sql_fn fn;
	enum sql_aff aff;	/* SX_COL, SX_CAST: the affinity it has */
	struct sql_expr *a, *b, *c;
	struct sql_expr **args;
	size_t nargs;
	struct sqlv v;		/* SX_LIT (text owned: v.s is malloc'd) */
	char **names;		/* SX_COL as written: a.b.c, before resolve */
	size_t nnames;
	struct nql_path path;	/* SX_COL resolved */
	int slot;
	size_t pos, end;	/* its text in the statement */
	struct sql_select *sub;	/* SX_INSEL, SX_SUBQ, SX_EXISTS */
	/* SX_INSEL, SX_SUBQ, SX_EXISTS after the subquery ran */
	struct sqlv *set;	/* sorted, owned */
	size_t nset;
	bool set_null;		/* the subquery gave a NULL */
	bool done;
};

void nedb__sql_expr_free(struct sql_expr *e);

/* ---- statements ---------------------------------------------------------- */

struct sql_result_col {
	struct sql_expr *e;	/* NULL: * (all columns) */
	char *alias;		/* AS name, or NULL */
	char *table;		/* t.* : the table or alias, or NULL */
	char *name;		/* the output name (resolved) */
};

struct sql_order {
	struct sql_expr *e;
	bool desc;
	int nulls;		/* 0 default, 1 NULLS FIRST, 2 NULLS LAST */
};

struct sql_table;

struct sql_select {
	struct nql_query q;	/* FROM, AS OF, the index hints, LIMIT */
	bool has_from;
	bool distinct;
	bool time_travel;	/* AS OF given (q.has_as_of) */
	char *alias;		/* FROM t [AS] alias */
	struct sql_result_col *cols;
	size_t ncols;
	struct sql_expr *where;
	struct sql_expr **group;
	size_t ngroup;
	struct sql_expr *having;
	struct sql_order *order;
	size_t norder;
	struct sql_expr *limit, *offset;
	size_t pos;		/* where SELECT starts in the text */
	/* resolved (sql_exec.c) */
	struct sql_table *table;
	bool aggregate;		/* aggregates or GROUP BY: rows are groups */
	struct sql_expr **aggs;	/* the SX_AGG nodes, by slot */
	size_t naggs;
	struct sql_arena arena;	/* per row, for WHERE */
	int rc;			/* an error while filtering rows */
};

enum sql_kind {
	SQL_SELECT, SQL_INSERT, SQL_UPDATE, SQL_DELETE, SQL_CREATE_TABLE,
	SQL_CREATE_INDEX, SQL_DROP_TABLE, SQL_DROP_INDEX, SQL_BEGIN,
	SQL_COMMIT, SQL_ROLLBACK
};

enum sql_conflict { ON_ABORT, ON_REPLACE, ON_IGNORE };

struct sql_coldef {
	char *name;
	char *type;		/* as declared ("" when none) */
	enum sql_aff aff;
	bool pk, notnull, unique, autoinc;
	struct sql_expr *dflt;	/* DEFAULT, or NULL */
};

struct sql_stmt {
	enum sql_kind kind;
	bool explain;
	bool if_exists;		/* IF [NOT] EXISTS */
	char *table;		/* INSERT, UPDATE, DELETE, CREATE, DROP */
	char *index;		/* CREATE INDEX, DROP INDEX: its name */
	bool unique;		/* CREATE UNIQUE INDEX */
	struct sql_select *sel;	/* SELECT; INSERT ... SELECT */
	/* INSERT */
	enum sql_conflict conflict;
	char **cols;		/* INSERT's column list, CREATE INDEX's */
	bool *desc;		/* CREATE INDEX: DESC per column */
	size_t ncols;
	struct sql_expr ***rows;	/* VALUES: nrows rows of nvals */
	size_t nrows, nvals;
	bool default_values;
	/* UPDATE */
	char **set_cols;
	struct sql_expr **set_vals;
	size_t nset;
	struct sql_expr *where;	/* UPDATE, DELETE */
	/* CREATE TABLE */
	struct sql_coldef *defs;
	size_t ndefs;
	char **pkcols;		/* PRIMARY KEY (a, b) */
	size_t npk;
	char ***uniques;	/* UNIQUE (a, b) table constraints */
	size_t *nunique;
	size_t nuniques;
	const char *text;	/* the statement's text (borrowed) */
	size_t start, end;	/* where it is in the text */
};

/* Where a statement ends: the ';' (or the end, or a NUL) after start,
 * outside strings, quoted names and comments. */
size_t nedb__sql_stmt_end(const char *text, size_t len, size_t start);
/* Parses text[start, end) (one statement, no ';').  On a syntax error
 * returns NEDB_EUSAGE with err (pos absolute in text). */
int nedb__sql_parse(const char *text, size_t start, size_t end,
		    struct sql_stmt **out, struct nql_error *err);
void nedb__sql_stmt_free(struct sql_stmt *s);
void nedb__sql_select_free(struct sql_select *s);

/* ---- evaluation (sql_value.c) -------------------------------------------- */

/* What an expression is evaluated against. */
struct sql_ctx {
	const char *doc;	/* the row's document (NULL: no row) */
	size_t len;
	const struct sqlv *keys;	/* a group's GROUP BY values */
	const struct sqlv *aggs;	/* a group's aggregate results */
	const struct sqlv *out;		/* the output row (ORDER BY) */
	struct sql_arena *arena;
	int rc;			/* the first error (nedb__err set) */
};

void nedb__sql_eval(const struct sql_expr *e, struct sql_ctx *c,
		    struct sqlv *out);
/* sqlite3ExprAffinity (*has: whether it has one at all) and
 * sqlite3CompareAffinity (b NULL: an operand without affinity). */
enum sql_aff nedb__sql_expr_aff(const struct sql_expr *e, bool *has);
enum sql_aff nedb__sql_cmp_aff(const struct sql_expr *a,
			       const struct sql_expr *b);
/* A condition: 1 true, 0 false or NULL; <0 an error. */
int nedb__sql_truth(const struct sql_expr *e, struct sql_ctx *c);
/* The row filter the NQL executor calls for a SQL SELECT (nql.h). */
int nedb__sql_where(struct sql_select *s, const char *doc, size_t len);
/* LIKE / GLOB on bytes. */
bool nedb__sql_like(const char *p, size_t pn, const char *s, size_t sn,
		    int esc);
bool nedb__sql_glob(const char *p, size_t pn, const char *s, size_t sn);

#endif
