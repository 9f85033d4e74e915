/*
 * nql.h - the query engine's shared shapes (internal to libnedb):
 *
 *   NQL text ──nql_parse──┐
 *                         ├──► struct nql_query / struct nql_expr ──► planner, executor
 *   Mongo filter ─nedb__filter_compile─┘
 *
 * and the comparison semantics of SPEC §6, on documents kept as compact
 * JSON text (value.c).  One implementation of "=", "<", IN, EXISTS,
 * CONTAINS and the sort order serves NQL, --filter and later SQL.
 *
 * Values are JSON text spans: a literal in a query is stored as its
 * compact JSON text ("\"active\"", "3", "true", "null", "[1,2]").
 */
#ifndef NEDB_NQL_H
#define NEDB_NQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nedb.h"

/* A span of compact JSON text (borrowed). */
struct nql_span {
	const char *p;
	size_t len;
};

/*
 * A dotted path: "a.b.0" is {"a","b","0"}; dotted is the original.
 * Each part is its own allocation (nql_path_free).  lens, when not NULL,
 * gives each part's length: a filter's member name may hold a NUL (its
 * dotted form then has 0x01 in its place, which no index name can hold,
 * so that no index is ever chosen for it).
 */
struct nql_path {
	char **parts;
	size_t *lens;
	size_t n;
	char *dotted;
};

enum nql_cmp { CMP_EQ, CMP_NE, CMP_LT, CMP_LE, CMP_GT, CMP_GE };

enum nql_expr_kind {
	EX_AND,		/* a AND b */
	EX_OR,		/* a OR b */
	EX_NOT,		/* NOT a */
	EX_CMP,		/* path cmp vals[0] */
	EX_IN,		/* path IN (vals...) */
	EX_EXISTS,	/* path EXISTS */
	EX_CONTAINS,	/* path CONTAINS vals[0] */
	EX_TRUE		/* matches everything (an empty Mongo filter) */
};

struct nql_expr {
	enum nql_expr_kind kind;
	struct nql_expr *a, *b;		/* AND/OR: both; NOT: a */
	struct nql_path path;
	enum nql_cmp cmp;
	struct nql_span *vals;		/* owned JSON literal texts */
	size_t nvals;
};

struct nql_order {
	struct nql_path path;
	bool desc;
};

enum nql_agg { AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX };

struct nql_aggspec {
	enum nql_agg fn;
	struct nql_path path;		/* empty for COUNT */
};

struct nql_query {
	bool explain;
	char *coll;
	bool has_as_of;
	uint64_t as_of;
	bool as_of_time;		/* AS OF TIMESTAMP: as_of_ms, not as_of */
	int64_t as_of_ms;
	struct nql_expr *where;		/* NULL: no WHERE */
	char *search;			/* NULL: no SEARCH (decoded text) */
	bool has_group;
	struct nql_path group_by;
	struct nql_aggspec *aggs;
	size_t naggs;
	struct nql_order *order;
	size_t norder;
	char *traverse;			/* NULL: no TRAVERSE */
	bool traverse_in;
	bool trace;			/* TRACE caused_by */
	bool has_limit;
	uint64_t limit, offset;
	/*
	 * A SQL SELECT (sql.h) this query finds the rows of: its WHERE, with
	 * SQL's semantics, decides which rows match (nedb__sql_where), and
	 * where above holds only index hints, terms whose rows are a superset
	 * of those: a = or IN on "_id" reads those documents; a range term
	 * covers sqlite3's cross-type order (false and true as 0 and 1, every
	 * string above every number).  Its rows come in rowid order (order:
	 * the INTEGER PRIMARY KEY), as sqlite3 visits them, which decides
	 * ties: an ordered index on that column is walked rather than the
	 * rows sorted, when no other index narrows them.
	 */
	struct sql_select *sql;
};

/* Where a syntax error is: byte offset into the query, and why. */
struct nql_error {
	size_t pos;
	char msg[160];
};

/*
 * Parses NQL text into *out (caller frees with nql_free).  Keywords are
 * case-insensitive.  On a syntax error returns NEDB_EUSAGE with err
 * filled and *out NULL; nql_error_format renders the three-line message
 * (message, the query, a caret under err->pos).
 */
int nql_parse(const char *text, struct nql_query **out, struct nql_error *err);
void nql_free(struct nql_query *q);
void nql_path_free(struct nql_path *path);
void nql_expr_free(struct nql_expr *e);
/*
 * Runs a parsed query (nedb_query's work after parsing) in a read
 * snapshot of its own when none is open, or in the caller's snapshot or
 * write transaction.  fn receives each row; with NEDB_QUERY_EXPLAIN, or
 * q->explain, the plan's one row instead.
 */
int nedb__query_exec(nedb *db, struct nql_query *q, unsigned flags,
		     nedb_row_fn fn, void *payload);
/* "syntax error at column C: MSG\n  QUERY\n  ^" into buf. */
void nql_error_format(char *buf, size_t n, const char *text,
		      const struct nql_error *err);

/*
 * Compiles a MongoDB-style filter (JSON object text) into an expression:
 * $and $or $nor $not $eq $ne $gt $gte $lt $lte $in $nin $exists, dotted
 * paths, implicit AND of members, {"f": v} as f = v.  NEDB_EUSAGE with
 * a message on an unknown operator or a malformed filter.
 */
int nedb__filter_compile(const char *json, size_t len, struct nql_expr **out);

/* value.c: semantics on compact JSON text. */

enum nql_type {
	T_ABSENT, T_NULL, T_FALSE, T_TRUE, T_NUMBER, T_STRING, T_ARRAY,
	T_OBJECT
};	/* in the total sort order of ORDER BY */

enum nql_type nedb__type(struct nql_span v);	/* T_ABSENT if len == 0 */
/* The value at path in a compact document; len 0 when absent. */
struct nql_span nedb__path_get(const char *doc, size_t len,
			       const struct nql_path *path);
/* SPEC §6 "=": same type and value; 3 = 3.0; structural for arrays and
 * objects (object member order does not matter). */
bool nedb__value_eq(struct nql_span a, struct nql_span b);
/* "<" family: true only when both are numbers or both strings. */
bool nedb__value_cmp(struct nql_span a, enum nql_cmp op, struct nql_span b);
/* Total order for ORDER BY: <0, 0, >0. Absent < null < false < true <
 * numbers < strings (UTF-8 bytes) < arrays < objects. */
int nedb__value_order(struct nql_span a, struct nql_span b);
/* Evaluates an expression against a document. */
bool nedb__eval(const struct nql_expr *e, const char *doc, size_t len);
/* Decoded string value of a JSON string span; caller frees. */
char *nedb__string_value(struct nql_span v, size_t *len);

/* SEARCH: lowercase alphanumeric tokens of text, each passed to fn. */
void nedb__tokens(const char *text, size_t len,
		  void (*fn)(const char *tok, size_t n, void *payload),
		  void *payload);
/* True when every token of query occurs among the string values of doc
 * (recursively), or of the given fields when fields is non-NULL. */
bool nedb__search_match(const char *doc, size_t len, const char *query,
			const struct nql_path *fields, size_t nfields);

/*
 * Order-preserving index key encoding of a scalar or any value: a type
 * tag byte in the total order above, then for numbers 8 bytes of the
 * double made byte-comparable, for strings the decoded bytes with 0x00
 * escaped as 0x00 0xff and ended by 0x00 0x00; arrays and objects their
 * compact text.  Appends to out (at most max bytes; longer values are
 * cut, so index hits must be rechecked).  Returns the length written.
 */
size_t nedb__index_key(unsigned char *out, size_t max, struct nql_span v);

#endif
