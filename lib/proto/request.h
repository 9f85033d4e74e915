/*
 * request.h - JSON requests taken apart into ops and reads
 * (lib/proto/request.c).
 *
 * One decoder for the request bodies of nedbd's HTTP API, which a shell
 * and SQL can share: a body (a JSON object) becomes a nedb_request
 * whose members are ready for the library's calls, and a write request
 * is staged by nedb_request_stage.  It knows nothing of transport (no
 * status codes, no sockets, no default client): an error is a code and
 * a one-line message, never printed, never an exit.  Internal to nedb
 * (not installed), but exported from libnedb for nedbd.
 *
 * Bodies are taken apart as compact JSON text (nedb_json_object and
 * friends), so numbers in documents keep their text exactly.
 *
 * Errors: every function returns 0 or a negative NEDB_E* code, and on
 * failure writes the message into r->error (up to 1023 bytes) and into
 * nedb_errmsg() (which may cut it shorter).  A body that is not what the
 * request wants is NEDB_EINPUT, its message starting "request body: "
 * (or "init..." for a database's init payload).
 *
 * Ownership: a request owns everything its members point to (the body
 * is copied); nedb_request_free frees it.  Nothing passed in is kept.
 */
#ifndef NEDB_REQUEST_H
#define NEDB_REQUEST_H

#include <stddef.h>
#include <stdint.h>
#include "nedb.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a body is for, and the call it is made for. */
enum nedb_request_kind {
	/* writes, staged by nedb_request_stage */
	NEDB_REQUEST_PUT,	/* {"coll","id"?,"doc",...}: nedb_write_put */
	NEDB_REQUEST_INDEX,	/* {"coll","field","kind"?}: nedb_write_index */
	NEDB_REQUEST_LINK,	/* {"frm","rel","to","unlink"?}: ..._link */
	NEDB_REQUEST_CREATE,	/* {"name","init"?}: a database and its init */
	/* reads, run by the caller */
	NEDB_REQUEST_QUERY,	/* {"nql","explain"?,"verify"?}: nedb_query */
	NEDB_REQUEST_SQL	/* {"sql","verify"?}: one nedb_sql statement
				 * that reads (in nql) */
};

#define NEDB_REQUEST_MAX_LIST 64	/* items of "tags", "caused_by" */

typedef struct nedb_request {
	int kind;
	/*
	 * Writes but CREATE: "client", "nonce" and "idem" of the body.
	 * client is NULL when the body names none: set it to the
	 * transport's client before nedb_request_stage (NULL: "local").
	 * CREATE's init ops are written with w too.
	 */
	nedb_wopts w;
	/* PUT: everything but w, ready for nedb_write_put ("if_seq":0 is
	 * if_absent; ttl in seconds in the body, ms here) */
	nedb_put put;
	/* INDEX: coll, field, ixkind (NULL: "eq"); PUT: coll too */
	char *coll, *field, *ixkind;
	/* LINK: the edge from -rel-> to, node keys "coll:id" */
	char *from, *rel, *to;
	int unlink;
	/* QUERY; SQL: the statement */
	char *nql;
	int explain, verify;
	/* CREATE: the database name (checked: nedb_check_dbname) and the
	 * init payload's text in the body, NULL when absent or null */
	char *name;
	const char *init;
	size_t initlen;
	char error[1024];	/* the last failure's message */
	/* private: what the members point into */
	nedb_buf obj;
	char *client, *idem, *id, *evidence, *valid_from, *valid_to;
	nedb_buf confidence;
	char *tags[NEDB_REQUEST_MAX_LIST];
	uint64_t causes[NEDB_REQUEST_MAX_LIST];
} nedb_request;

/*
 * Takes the body (len bytes of JSON; need not be NUL-ended) of a
 * request of kind apart into *r, which it initialises first: call
 * nedb_request_free after, whatever it returns.  The members are read
 * in a fixed order and the first bad one is the error: NEDB_EINPUT when
 * the body is empty, not a JSON object, lacks a required member or has
 * one of the wrong type ("request body: \"coll\" is missing"), a bad
 * database name for CREATE; NEDB_EUSAGE for an unknown kind; NEDB_EIO
 * when memory runs out.  Names, ids and documents are not checked here:
 * the write that stages them does that.
 */
NEDB_EXPORT int nedb_request_parse(nedb_request *r, int kind,
				   const char *body, size_t len);

/*
 * Stages the ops of a write request in db's open write transaction
 * (nedb_write_begin): the put, index or link, its receipt filled in
 * (NULL: none wanted); for CREATE the init payload's indexes, seed
 * documents (whose ids are their "_id" or "id") and links, in that
 * order, with no receipts.  Returns what the write returns (see
 * nedb_write_put and friends); for CREATE, NEDB_EINPUT too for a
 * payload of the wrong shape ("init.seed: want an object of arrays"),
 * and a failing op's code with its message prefixed by where it was
 * ("init.indexes: ...").  After a failure of CREATE, some of its ops
 * may be staged: abort the transaction (all of init or nothing).
 * NEDB_EUSAGE for a read request.
 */
NEDB_EXPORT int nedb_request_stage(nedb_request *r, nedb *db,
				   nedb_receipt *receipt);

/* Frees what r owns; r may then be parsed again.  Safe on a request
 * nedb_request_parse failed on. */
NEDB_EXPORT void nedb_request_free(nedb_request *r);

#ifdef __cplusplus
}
#endif
#endif
