/*
 * test_request.c - the library's request layer (lib/proto/request.h):
 * good bodies become the right ops and reads, every bad one the right
 * code and a one-line message; and update-many (nedb_update): what it
 * matches, what an upsert creates, and that a bad update writes nothing.
 */
#include <stdint.h>
#include <stdlib.h>
#include "nedb.h"
#include "request.h"
#include "unit.h"

static char root[] = "/tmp/nedb-unit-request-XXXXXX";
static int ndb;

static nedb *
fresh(void)
{
	char dir[128];
	nedb *db = NULL;

	snprintf(dir, sizeof dir, "%s/db%d", root, ndb++);
	CHECK(nedb_open(&db, dir, NEDB_OPEN_CREATE) == 0);
	return db;
}

static int
parse(nedb_request *r, int kind, const char *body)
{
	return nedb_request_parse(r, kind, body, strlen(body));
}

static uint64_t
head_seq(nedb *db)
{
	uint64_t seq = 0;

	CHECK(nedb_head(db, &seq, NULL) == 0);
	return seq;
}

/* The live document coll/id as text ("" when there is none). */
static const char *
doc_of(nedb *db, const char *coll, const char *id)
{
	static char text[512];
	nedb_doc d;

	if (nedb_get(db, coll, id, NEDB_HEAD, &d))
		return "";
	snprintf(text, sizeof text, "%.*s", (int)d.len, d.doc);
	return text;
}

/* ---- the request layer --------------------------------------------------- */

static void
test_a_put_body_becomes_a_put_with_every_member(void)
{
	nedb_request r;
	const nedb_put *p = &r.put;

	CHECK(parse(&r, NEDB_REQUEST_PUT, " {\"coll\":\"c\", \"id\":\"a\","
		    "\"doc\":{\"n\": 1.50},\"client\":\"app\",\"nonce\":7,"
		    "\"idem\":\"k\",\"tags\":[\"x\",\"y\"],\"caused_by\":[1,2],"
		    "\"merge\":true,\"ttl\":60,\"if_seq\":3,"
		    "\"confidence\":0.5,\"evidence\":\"e\","
		    "\"valid_from\":\"f\","
		    "\"valid_to\":\"t\"}") == 0);
	CHECK(r.kind == NEDB_REQUEST_PUT);
	CHECK_STR(p->coll, "c");
	CHECK_STR(p->id, "a");
	/* the document's text as written, made compact: 1.50 stays */
	CHECK(p->doclen == 10 && !memcmp(p->doc, "{\"n\":1.50}", 10));
	CHECK_STR(r.w.client, "app");
	CHECK(r.w.nonce == 7);
	CHECK_STR(r.w.idem, "k");
	CHECK(p->ntags == 2);
	CHECK_STR(p->tags[0], "x");
	CHECK_STR(p->tags[1], "y");
	CHECK(p->ncaused_by == 2 && p->caused_by[0] == 1 &&
	      p->caused_by[1] == 2);
	CHECK(p->merge == 1);
	CHECK(p->ttl_ms == 60000);
	CHECK(p->if_seq == 3);
	CHECK_STR(p->confidence, "0.5");
	CHECK_STR(p->evidence, "e");
	CHECK_STR(p->valid_from, "f");
	CHECK_STR(p->valid_to, "t");
	nedb_request_free(&r);
}

static void
test_a_put_body_leaves_out_what_it_does_not_name(void)
{
	nedb_request r;

	CHECK(parse(&r, NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"doc\":{},"
		    "\"id\":null,\"client\":null,\"ttl\":null,\"tags\":null,"
		    "\"merge\":null,\"confidence\":null}") == 0);
	CHECK(r.put.id == NULL);
	CHECK(r.w.client == NULL);	/* the transport names it */
	CHECK(r.w.nonce == 0 && r.w.idem == NULL);
	CHECK(!r.put.if_seq && !r.put.if_absent);	/* no precondition */
	CHECK(r.put.ttl_ms == 0 && r.put.merge == 0);
	CHECK(r.put.ntags == 0 && r.put.ncaused_by == 0);
	CHECK(r.put.confidence == NULL && r.put.evidence == NULL);
	nedb_request_free(&r);
	/* "if_seq":0 is the precondition that the document is absent */
	CHECK(parse(&r, NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"doc\":{},"
		    "\"if_seq\":0}") == 0);
	CHECK(!r.put.if_seq && r.put.if_absent);
	nedb_request_free(&r);
}

static void
test_index_link_query_and_create_bodies(void)
{
	nedb_request r;

	CHECK(parse(&r, NEDB_REQUEST_INDEX, "{\"coll\":\"c\",\"field\":\"f\","
		    "\"client\":\"z\"}") == 0);
	CHECK_STR(r.coll, "c");
	CHECK_STR(r.field, "f");
	CHECK(r.ixkind == NULL);	/* eq when staged */
	CHECK_STR(r.w.client, "z");
	nedb_request_free(&r);

	CHECK(parse(&r, NEDB_REQUEST_LINK, "{\"frm\":\"c:a\",\"rel\":\"r\","
		    "\"to\":\"c:b\",\"unlink\":true,\"nonce\":4}") == 0);
	CHECK_STR(r.from, "c:a");
	CHECK_STR(r.rel, "r");
	CHECK_STR(r.to, "c:b");
	CHECK(r.unlink == 1 && r.w.nonce == 4);
	nedb_request_free(&r);

	CHECK(parse(&r, NEDB_REQUEST_QUERY, "{\"nql\":\"FROM c\","
		    "\"explain\":true}") == 0);
	CHECK_STR(r.nql, "FROM c");
	CHECK(r.explain == 1 && r.verify == 0);
	nedb_request_free(&r);

	CHECK(parse(&r, NEDB_REQUEST_CREATE, "{\"name\":\"shop\",\"init\":"
		    "{\"seed\":{}}}") == 0);
	CHECK_STR(r.name, "shop");
	CHECK(r.init && r.initlen == 11 && !memcmp(r.init, "{\"seed\":{}}",
						  11));
	nedb_request_free(&r);

	CHECK(parse(&r, NEDB_REQUEST_CREATE, "{\"name\":\"shop\","
		    "\"init\":null}") == 0);
	CHECK(r.init == NULL);
	nedb_request_free(&r);
}

static const struct bad {
	int kind;
	const char *body;
	int code;
	const char *msg;
} bad[] = {
	{NEDB_REQUEST_PUT, "", NEDB_EINPUT,
	 "request body: want a JSON object, got nothing"},
	{NEDB_REQUEST_PUT, "[1]", NEDB_EINPUT,
	 "request body: not an object: got array"},
	{NEDB_REQUEST_PUT, "{\"doc\":{}}", NEDB_EINPUT,
	 "request body: \"coll\" is missing"},
	{NEDB_REQUEST_PUT, "{\"coll\":null,\"doc\":{}}", NEDB_EINPUT,
	 "request body: \"coll\" must be a string"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"id\":5,\"doc\":{}}",
	 NEDB_EINPUT, "request body: \"id\" must be a string"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"nonce\":-1,\"doc\":{}}",
	 NEDB_EINPUT, "request body: \"nonce\" must be a non-negative "
	 "integer"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"nonce\":1.0,\"doc\":{}}",
	 NEDB_EINPUT, "request body: \"nonce\" must be a non-negative "
	 "integer"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"tags\":\"x\",\"doc\":{}}",
	 NEDB_EINPUT, "request body: \"tags\" must be an array"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"tags\":[\"x\",1],\"doc\":{}}",
	 NEDB_EINPUT, "request body: \"tags\" must be an array of strings"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"caused_by\":[\"1\"],"
	 "\"doc\":{}}", NEDB_EINPUT,
	 "request body: \"caused_by\" must be an array of seqs"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"merge\":1,\"doc\":{}}",
	 NEDB_EINPUT, "request body: \"merge\" must be true or false"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"ttl\":0,\"doc\":{}}",
	 NEDB_EINPUT, "request body: \"ttl\" must be seconds > 0"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"ttl\":9223372036854776,"
	 "\"doc\":{}}", NEDB_EINPUT,
	 "request body: \"ttl\" must be seconds > 0"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"if_seq\":true,\"doc\":{}}",
	 NEDB_EINPUT, "request body: \"if_seq\" must be a non-negative "
	 "integer"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\"}", NEDB_EINPUT,
	 "request body: \"doc\" must be an object"},
	{NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"doc\":[]}", NEDB_EINPUT,
	 "request body: \"doc\" must be an object"},
	/* the first bad member in the fixed order is the one reported */
	{NEDB_REQUEST_PUT, "{\"merge\":1,\"id\":5,\"coll\":\"c\"}",
	 NEDB_EINPUT, "request body: \"id\" must be a string"},
	{NEDB_REQUEST_INDEX, "{\"coll\":\"c\"}", NEDB_EINPUT,
	 "request body: \"field\" is missing"},
	{NEDB_REQUEST_INDEX, "{\"coll\":\"c\",\"field\":\"f\",\"kind\":1}",
	 NEDB_EINPUT, "request body: \"kind\" must be a string"},
	{NEDB_REQUEST_INDEX, "{\"coll\":\"c\",\"field\":\"f\","
	 "\"idem\":[]}", NEDB_EINPUT,
	 "request body: \"idem\" must be a string"},
	{NEDB_REQUEST_LINK, "{\"frm\":\"c:a\",\"to\":\"c:b\"}", NEDB_EINPUT,
	 "request body: \"rel\" is missing"},
	{NEDB_REQUEST_LINK, "{\"frm\":\"c:a\",\"rel\":\"r\",\"to\":\"c:b\","
	 "\"unlink\":\"yes\"}", NEDB_EINPUT,
	 "request body: \"unlink\" must be true or false"},
	{NEDB_REQUEST_QUERY, "{}", NEDB_EINPUT,
	 "request body: \"nql\" is missing"},
	{NEDB_REQUEST_QUERY, "{\"nql\":\"FROM c\",\"verify\":\"x\"}",
	 NEDB_EINPUT, "request body: \"verify\" must be true or false"},
	{NEDB_REQUEST_CREATE, "{\"name\":7}", NEDB_EINPUT,
	 "request body: \"name\" must be a string"},
	{NEDB_REQUEST_CREATE, "{\"name\":\"a/b\"}", NEDB_EINPUT, NULL},
	{99, "{}", NEDB_EUSAGE, "unknown request kind 99"},
};

static void
test_every_bad_body_is_a_code_and_one_line(void)
{
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		nedb_request r;
		int rc = parse(&r, bad[i].kind, bad[i].body);

		if (rc != bad[i].code)
			fprintf(stderr, "body %zu %s: rc %d\n", i,
				bad[i].body, rc);
		CHECK(rc == bad[i].code);
		if (bad[i].msg)
			CHECK_STR(r.error, bad[i].msg);
		CHECK(*r.error && !strchr(r.error, '\n'));
		CHECK_STR(nedb_errmsg(), r.error);
		nedb_request_free(&r);
	}
}

static void
test_too_many_tags_is_an_error_and_frees_them(void)
{
	char body[1024] = "{\"coll\":\"c\",\"doc\":{},\"tags\":[";
	nedb_request r;

	for (int i = 0; i < NEDB_REQUEST_MAX_LIST + 1; i++)
		strcat(body, i ? ",\"t\"" : "\"t\"");
	strcat(body, "]}");
	CHECK(parse(&r, NEDB_REQUEST_PUT, body) == NEDB_EINPUT);
	CHECK_STR(r.error, "request body: \"tags\" has more than 64 items");
	nedb_request_free(&r);	/* ASan: the 64 decoded tags are freed */
}

static void
test_staging_a_put_index_and_link(void)
{
	nedb *db = fresh();
	nedb_request r;
	nedb_receipt receipt;

	CHECK(nedb_write_begin(db) == 0);
	CHECK(parse(&r, NEDB_REQUEST_PUT, "{\"coll\":\"c\",\"id\":\"a\","
		    "\"doc\":{\"n\":1},\"client\":\"app\"}") == 0);
	CHECK(nedb_request_stage(&r, db, &receipt) == 0);
	nedb_request_free(&r);
	CHECK_STR(receipt.op, "put");
	CHECK_STR(receipt.coll, "c");
	CHECK_STR(receipt.id, "a");
	CHECK(receipt.seq == 1 && strlen(receipt.hash) == 64);
	CHECK(parse(&r, NEDB_REQUEST_INDEX, "{\"coll\":\"c\",\"field\":\"n\"}")
	      == 0);
	CHECK(nedb_request_stage(&r, db, NULL) == 0);
	nedb_request_free(&r);
	CHECK(parse(&r, NEDB_REQUEST_LINK, "{\"frm\":\"c:a\",\"rel\":\"r\","
		    "\"to\":\"c:b\"}") == 0);
	CHECK(nedb_request_stage(&r, db, NULL) == 0);
	nedb_request_free(&r);
	CHECK(nedb_write_pending(db) == 3);
	/* a write's own failure: its code and the library's message */
	CHECK(parse(&r, NEDB_REQUEST_PUT, "{\"coll\":\"1c\",\"id\":\"a\","
		    "\"doc\":{}}") == 0);
	CHECK(nedb_request_stage(&r, db, NULL) == NEDB_EINPUT);
	CHECK(strstr(r.error, "bad collection name '1c'") == r.error);
	nedb_request_free(&r);
	/* a read is not staged */
	CHECK(parse(&r, NEDB_REQUEST_QUERY, "{\"nql\":\"FROM c\"}") == 0);
	CHECK(nedb_request_stage(&r, db, NULL) == NEDB_EUSAGE);
	nedb_request_free(&r);
	CHECK(nedb_write_commit(db) == 0);
	CHECK_STR(doc_of(db, "c", "a"), "{\"_id\":\"a\",\"n\":1}");
	nedb_close(db);
}

static void
test_staging_an_init_payload(void)
{
	nedb *db = fresh();
	nedb_request r;

	CHECK(nedb_write_begin(db) == 0);
	CHECK(parse(&r, NEDB_REQUEST_CREATE, "{\"name\":\"x\",\"init\":{"
		    "\"indexes\":[[\"c\",\"n\",\"eq\"]],\"seed\":{\"c\":["
		    "{\"id\":\"a\",\"n\":1},{\"_id\":\"b\"}]},"
		    "\"links\":[[\"c:a\",\"r\",\"c:b\"]]}}") == 0);
	r.w.client = "http";
	CHECK(nedb_request_stage(&r, db, NULL) == 0);
	nedb_request_free(&r);
	CHECK(nedb_write_pending(db) == 4);
	CHECK(nedb_write_commit(db) == 0);
	CHECK_STR(doc_of(db, "c", "a"), "{\"_id\":\"a\",\"id\":\"a\",\"n\":1}");
	CHECK_STR(doc_of(db, "c", "b"), "{\"_id\":\"b\"}");
	nedb_close(db);
}

static const struct bad bad_init[] = {
	{0, "5", NEDB_EINPUT, "init: want an object"},
	{0, "{\"indexes\":{}}", NEDB_EINPUT, "init.indexes: want an array"},
	{0, "{\"indexes\":[[\"c\",\"f\"]]}", NEDB_EINPUT,
	 "init.indexes: want [coll, field, kind] arrays of strings"},
	{0, "{\"indexes\":[[\"c\",\"f\",\"bogus\"]]}", NEDB_EUSAGE, NULL},
	{0, "{\"seed\":[]}", NEDB_EINPUT,
	 "init.seed: want an object of arrays"},
	{0, "{\"seed\":{\"c\":5}}", NEDB_EINPUT,
	 "init.seed.c: want an array of documents"},
	{0, "{\"seed\":{\"c\":[5]}}", NEDB_EINPUT,
	 "init.seed.c: want objects"},
	{0, "{\"seed\":{\"c\":[{\"x\":1}]}}", NEDB_EINPUT,
	 "init.seed.c: document has no \"id\" member"},
	{0, "{\"links\":[[\"c:a\",\"r\"]]}", NEDB_EINPUT,
	 "init.links: want [from, rel, to] arrays of strings"},
	{0, "{\"links\":[[\"bad\",\"r\",\"c:b\"]]}", NEDB_EINPUT, NULL},
};

static void
test_every_bad_init_payload_is_a_code_and_one_line(void)
{
	nedb *db = fresh();

	for (size_t i = 0; i < sizeof bad_init / sizeof *bad_init; i++) {
		char body[512];
		nedb_request r;
		int rc;

		snprintf(body, sizeof body, "{\"name\":\"x\",\"init\":%s}",
			 bad_init[i].body);
		CHECK(parse(&r, NEDB_REQUEST_CREATE, body) == 0);
		CHECK(nedb_write_begin(db) == 0);
		rc = nedb_request_stage(&r, db, NULL);
		if (rc != bad_init[i].code)
			fprintf(stderr, "init %zu %s: rc %d %s\n", i, body, rc,
				r.error);
		CHECK(rc == bad_init[i].code);
		if (bad_init[i].msg)
			CHECK_STR(r.error, bad_init[i].msg);
		CHECK(!strncmp(r.error, "init", 4) && !strchr(r.error, '\n'));
		nedb_write_abort(db);
		nedb_request_free(&r);
	}
	CHECK(head_seq(db) == 0);
	nedb_close(db);
}

/* ---- update-many --------------------------------------------------------- */

struct receipts {
	char ids[8][8];
	int n;
};

static int
on_receipt(const nedb_receipt *rc, void *payload)
{
	struct receipts *r = payload;

	CHECK(!strcmp(rc->op, "put") && rc->seq > 0);
	if (r->n < 8 && strlen(rc->id) < 8)
		strcpy(r->ids[r->n], rc->id);
	r->n++;
	return 0;
}

static nedb *
seeded(void)
{
	nedb *db = fresh();
	nedb_put p = {.coll = "t", .id_field = "_id"};
	const char *docs[] = {"{\"_id\":\"a\",\"n\":1,\"s\":\"x\"}",
			      "{\"_id\":\"b\",\"n\":2,\"s\":\"y\"}",
			      "{\"_id\":\"c\",\"n\":3,\"s\":\"x\"}"};

	CHECK(nedb_write_begin(db) == 0);
	for (int i = 0; i < 3; i++) {
		p.doc = docs[i];
		p.doclen = strlen(docs[i]);
		CHECK(nedb_write_put(db, &p, NULL) == 0);
	}
	CHECK(nedb_write_commit(db) == 0);
	return db;
}

static void
test_update_changes_the_first_match_or_with_many_every_one(void)
{
	nedb *db = seeded();
	nedb_update_opts o = {.coll = "t", .filter = "{\"s\":\"x\"}",
			      .update = "{\"$inc\":{\"n\":10}}"};
	nedb_update_info info;
	struct receipts r = {0};

	CHECK(nedb_update(db, &o, &info, on_receipt, &r) == 0);
	CHECK(info.matched == 1 && info.changed == 1 && !info.upserted);
	CHECK(r.n == 1);
	CHECK_STR(r.ids[0], "a");
	CHECK_STR(doc_of(db, "t", "a"), "{\"_id\":\"a\",\"n\":11,\"s\":\"x\"}");
	CHECK_STR(doc_of(db, "t", "c"), "{\"_id\":\"c\",\"n\":3,\"s\":\"x\"}");
	o.many = 1;
	memset(&r, 0, sizeof r);
	CHECK(nedb_update(db, &o, &info, on_receipt, &r) == 0);
	CHECK(info.matched == 2 && info.changed == 2);
	CHECK(r.n == 2);
	CHECK_STR(r.ids[0], "a");
	CHECK_STR(r.ids[1], "c");
	CHECK_STR(doc_of(db, "t", "c"), "{\"_id\":\"c\",\"n\":13,\"s\":\"x\"}");
	CHECK(head_seq(db) == 6);
	nedb_close(db);
}

static void
test_update_that_changes_nothing_writes_nothing(void)
{
	nedb *db = seeded();
	nedb_update_opts o = {.coll = "t", .many = 1,
			      .update = "{\"$set\":{\"s\":\"x\"}}",
			      .filter = "{\"s\":\"x\"}"};
	nedb_update_info info;

	CHECK(nedb_update(db, &o, &info, NULL, NULL) == 0);
	CHECK(info.matched == 2 && info.changed == 0);
	/* no match, no upsert: 0, matched 0 */
	o.filter = "{\"s\":\"none\"}";
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == 0);
	CHECK(info.matched == 0 && info.changed == 0 && !info.upserted);
	CHECK(head_seq(db) == 3);
	nedb_close(db);
}

/* Copies the _id of the first row into payload (64 bytes). */
static int
first_id(const char *json, size_t len, void *payload)
{
	char *id = payload;
	const char *v;
	size_t vlen;

	if (nedb_json_member(json, len, "_id", &v, &vlen) && vlen < 64) {
		memcpy(id, v + 1, vlen - 2);
		id[vlen - 2] = 0;
	}
	return 1;
}

static void
test_upsert_creates_from_the_filter(void)
{
	nedb *db = seeded();
	nedb_update_opts o = {.coll = "t", .upsert = 1,
			      .filter = "{\"_id\":\"z\",\"s\":\"new\","
					"\"n\":{\"$gt\":1}}",
			      .update = "{\"$set\":{\"k\":1}}"};
	nedb_update_info info;
	nedb_find_opts f = {.coll = "t", .filter = "{\"s\":\"other\"}",
			    .as_of = NEDB_HEAD};
	struct receipts r = {0};
	char id[64] = "", want[128];

	CHECK(nedb_update(db, &o, &info, on_receipt, &r) == 0);
	CHECK(info.matched == 0 && info.changed == 1 && info.upserted);
	CHECK(r.n == 1);
	CHECK_STR(r.ids[0], "z");
	/* the equality members, not the operator's */
	CHECK_STR(doc_of(db, "t", "z"),
		  "{\"_id\":\"z\",\"s\":\"new\",\"k\":1}");
	/* no _id in the filter: 32 random hex digits */
	o.filter = "{\"s\":\"other\"}";
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == 0);
	CHECK(info.upserted);
	CHECK(nedb_find(db, &f, 0, first_id, id) == 1);
	CHECK(strlen(id) == 32 && strspn(id, "0123456789abcdef") == 32);
	snprintf(want, sizeof want, "{\"_id\":\"%s\",\"s\":\"other\","
		 "\"k\":1}", id);
	CHECK_STR(doc_of(db, "t", id), want);
	/* an upsert when something matches updates it instead */
	o.filter = "{\"s\":\"other\"}";
	o.update = "{\"$set\":{\"k\":2}}";
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == 0);
	CHECK(info.matched == 1 && !info.upserted);
	nedb_close(db);
}

static void
test_a_bad_update_writes_nothing(void)
{
	nedb *db = seeded();
	nedb_update_opts o = {.coll = "t", .many = 1};
	nedb_update_info info;
	nedb_put p = {.coll = "t", .id = "d", .doc = "{\"n\":\"str\"}",
		      .doclen = 11};

	/* a bad operator: a usage error before anything is read */
	o.update = "{\"$bad\":{\"n\":1}}";
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == NEDB_EUSAGE);
	CHECK(strstr(nedb_errmsg(), "$bad") != NULL);
	/* a bad filter */
	o.update = "{\"$inc\":{\"n\":1}}";
	o.filter = "{\"$nope\":1}";
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == NEDB_EUSAGE);
	/* an idempotency key cannot name several ops */
	o.filter = NULL;
	o.w.idem = "k";
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == NEDB_EUSAGE);
	o.w.idem = NULL;
	/* a bad collection name */
	o.coll = "1t";
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == NEDB_EINPUT);
	o.coll = "t";
	CHECK(head_seq(db) == 3);

	/* $inc fits a, b, c but not the later d: none of them is written */
	CHECK(nedb_write_begin(db) == 0);
	CHECK(nedb_write_put(db, &p, NULL) == 0);
	CHECK(nedb_write_commit(db) == 0);
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == NEDB_EINPUT);
	CHECK(info.matched == 4 && info.changed == 0);
	CHECK(head_seq(db) == 4);
	CHECK_STR(doc_of(db, "t", "a"), "{\"_id\":\"a\",\"n\":1,\"s\":\"x\"}");

	/* the same inside the caller's transaction: nothing staged, and
	 * the transaction goes on */
	CHECK(nedb_write_begin(db) == 0);
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == NEDB_EINPUT);
	CHECK(nedb_write_pending(db) == 0);
	o.filter = "{\"_id\":\"a\"}";
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == 0);
	CHECK(nedb_write_pending(db) == 1);
	CHECK(nedb_write_commit(db) == 0);
	CHECK_STR(doc_of(db, "t", "a"), "{\"_id\":\"a\",\"n\":2,\"s\":\"x\"}");

	/* a stale nonce: rejected, nothing written */
	o.filter = NULL;
	o.w.client = "app";
	o.w.nonce = 5;
	o.update = "{\"$set\":{\"v\":1}}";
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == 0);
	CHECK(info.changed == 4);
	CHECK(head_seq(db) == 9);
	o.update = "{\"$set\":{\"v\":2}}";
	o.w.nonce = 8;		/* the last of 5, 6, 7, 8 */
	CHECK(nedb_update(db, &o, &info, NULL, NULL) == NEDB_EREJECTED);
	CHECK(strstr(nedb_errmsg(), "stale nonce 8") != NULL);
	CHECK(head_seq(db) == 9);
	nedb_close(db);
}

static void
test_update_in_the_callers_transaction_waits_for_its_commit(void)
{
	nedb *db = seeded(), *other = NULL;
	nedb_update_opts o = {.coll = "t", .filter = "{\"_id\":\"b\"}",
			      .update = "{\"$set\":{\"s\":\"q\"}}"};
	nedb_update_info info;
	struct receipts r = {0};
	char dir[128];

	snprintf(dir, sizeof dir, "%s/db%d", root, ndb - 1);
	CHECK(nedb_open(&other, dir, 0) == 0);
	CHECK(nedb_write_begin(db) == 0);
	CHECK(nedb_update(db, &o, &info, on_receipt, &r) == 0);
	CHECK(r.n == 1 && nedb_write_pending(db) == 1);
	/* not visible to another handle before the commit */
	CHECK_STR(doc_of(other, "t", "b"),
		  "{\"_id\":\"b\",\"n\":2,\"s\":\"y\"}");
	CHECK(nedb_write_commit(db) == 0);
	CHECK_STR(doc_of(other, "t", "b"),
		  "{\"_id\":\"b\",\"n\":2,\"s\":\"q\"}");
	nedb_close(other);
	nedb_close(db);
}

static void
test_update_keeps_the_expiry(void)
{
	nedb *db = fresh();
	nedb_put p = {.coll = "t", .id = "a", .doc = "{\"n\":1}", .doclen = 7,
		      .ttl_ms = 3600000};
	nedb_update_opts o = {.coll = "t", .update = "{\"$inc\":{\"n\":1}}"};
	nedb_doc before, after;

	CHECK(nedb_write_begin(db) == 0);
	CHECK(nedb_write_put(db, &p, NULL) == 0);
	CHECK(nedb_write_commit(db) == 0);
	CHECK(nedb_get(db, "t", "a", NEDB_HEAD, &before) == 0);
	CHECK(before.exp > 0);
	CHECK(nedb_update(db, &o, NULL, NULL, NULL) == 0);
	CHECK(nedb_get(db, "t", "a", NEDB_HEAD, &after) == 0);
	CHECK(after.seq == before.seq + 1);
	CHECK(after.exp == before.exp);
	nedb_close(db);
}

int
main(void)
{
	if (!mkdtemp(root))
		return 2;
	RUN(test_a_put_body_becomes_a_put_with_every_member);
	RUN(test_a_put_body_leaves_out_what_it_does_not_name);
	RUN(test_index_link_query_and_create_bodies);
	RUN(test_every_bad_body_is_a_code_and_one_line);
	RUN(test_too_many_tags_is_an_error_and_frees_them);
	RUN(test_staging_a_put_index_and_link);
	RUN(test_staging_an_init_payload);
	RUN(test_every_bad_init_payload_is_a_code_and_one_line);
	RUN(test_update_changes_the_first_match_or_with_many_every_one);
	RUN(test_update_that_changes_nothing_writes_nothing);
	RUN(test_upsert_creates_from_the_filter);
	RUN(test_a_bad_update_writes_nothing);
	RUN(test_update_in_the_callers_transaction_waits_for_its_commit);
	RUN(test_update_keeps_the_expiry);
	{
		char cmd[200];

		snprintf(cmd, sizeof cmd, "rm -rf %s", root);
		if (system(cmd))
			unit_failed++;
	}
	UNIT_DONE();
}
