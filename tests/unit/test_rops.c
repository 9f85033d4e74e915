/*
 * test_rops.c - the Redis operators of patch ops (lib/proto/redis.c,
 * doc/ochange.md §7.1) on document text: each operator's effect, the
 * text printed (order, escapes, scores), the updates and documents that
 * do not take them, nedb__patch_doc's dispatch, and nedb__redis_patches
 * against one nedb__redis_patch at a time over long random runs.
 *
 * With NEDB_ROPS_CASES=FILE set, every (document, update, result) tried
 * is also written to FILE, a line of three hex fields each (the result
 * "-" when it does not apply), for tests/docs.bats to run the Python
 * script of nedb-format(5) on the same cases.
 */
#include <stdint.h>
#include <stdlib.h>
#include "internal.h"
#include "unit.h"

static FILE *cases;
static nedb_buf got;
static int rc;

static void
hex(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(cases, "%02x", (unsigned char)p[i]);
}

static void
record(const char *doc, size_t len, const char *upd, size_t ulen,
       const nedb_buf *res, int r)
{
	if (!cases)
		return;
	hex(doc, len);
	fputc(' ', cases);
	hex(upd, ulen);
	fputc(' ', cases);
	if (r)
		fputc('-', cases);
	else
		hex(res->p, res->len);
	fputc('\n', cases);
}

/*
 * upd applied to doc (n bytes): the text, or NULL with rc when it does
 * not apply.  nedb__patch_doc must agree, its normalization a no-op, and
 * nedb__redis_patches of the one update too.
 */
static const char *
apply_n(const char *doc, size_t n, const char *upd)
{
	nedb_buf viapatch = {0}, norm = {0}, many = {0};
	size_t ulen = strlen(upd);
	int r2, r3;

	got.len = 0;
	nedb_buf_add(&got, "", 0);
	rc = nedb__redis_patch(&got, doc, n, upd, ulen);
	record(doc, n, upd, ulen, &got, rc);
	r3 = nedb__redis_patches(&many, doc, n, &upd, &ulen, 1);
	/* what names no Redis operator is nedb-update's to judge */
	r2 = nedb__redis_patch_is(upd, ulen) ?
	     nedb__patch_doc(&viapatch, doc, n, upd, ulen) : rc;
	CHECK(r2 == rc && r3 == rc);
	if (!rc) {
		CHECK(viapatch.len == got.len &&
		      !memcmp(viapatch.p, got.p, got.len));
		CHECK(many.len == got.len && !memcmp(many.p, got.p, got.len));
		CHECK(!nedb__doc_normalize(&norm, got.p, got.len) &&
		      norm.len == got.len && !memcmp(norm.p, got.p, got.len));
	}
	nedb_buf_free(&viapatch);
	nedb_buf_free(&norm);
	nedb_buf_free(&many);
	return rc ? NULL : got.p;
}

static const char *
apply(const char *doc, const char *upd)
{
	return apply_n(doc, strlen(doc), upd);
}

/* The document of key k of type t holding value v. */
static const char *
D(const char *t, const char *v)
{
	static char buf[64][4096];
	static int i;

	i = (i + 1) % 64;
	snprintf(buf[i], sizeof buf[i], "{\"_id\":\"k\",\"type\":\"%s\","
		 "\"value\":%s}", t, v);
	return buf[i];
}

#define CHECK_APPLY(doc, upd, want) CHECK_STR(apply(doc, upd), want)
#define CHECK_FAILS(doc, upd, msg) do { \
	CHECK(apply(doc, upd) == NULL && rc == NEDB_EINPUT); \
	if (!strstr(nedb_errmsg(), msg)) { \
		fprintf(stderr, "%s:%d: error '%s', want '%s'\n", \
			__FILE__, __LINE__, nedb_errmsg(), msg); \
		unit_failed++; \
	} \
} while (0)

static void
test_sets(void)
{
	const char *s = D("set", "[\"b\",\"d\"]");

	CHECK_APPLY(s, "{\"$sadd\":[\"c\",\"a\",\"e\",\"c\"]}",
		    D("set", "[\"a\",\"b\",\"c\",\"d\",\"e\"]"));
	CHECK_APPLY(s, "{\"$sadd\":[\"b\"]}", s);
	CHECK_APPLY(s, "{\"$sadd\":[]}", s);
	/* bytes: "B" < "b" < "ba" < "é" */
	CHECK_APPLY(s, "{\"$sadd\":[\"\\u00e9\",\"ba\",\"B\"]}",
		    D("set", "[\"B\",\"b\",\"ba\",\"d\",\"\xc3\xa9\"]"));
	CHECK_APPLY(s, "{\"$srem\":[\"d\",\"x\"]}", D("set", "[\"b\"]"));
	CHECK_APPLY(s, "{\"$srem\":[\"x\"]}", s);
	CHECK_APPLY(s, "{\"$srem\":[\"b\",\"d\"]}", D("set", "[]"));
	CHECK_APPLY(D("set", "[]"), "{\"$sadd\":[\"x\"]}",
		    D("set", "[\"x\"]"));
	/* whitespace in the update is JSON's */
	CHECK_APPLY(s, " { \"$sadd\" : [ \"a\" , \"c\" ] } \n",
		    D("set", "[\"a\",\"b\",\"c\",\"d\"]"));
}

static void
test_lists(void)
{
	const char *l = D("list", "[\"x\"]");

	CHECK_APPLY(l, "{\"$lpush\":[\"a\",\"b\"]}",
		    D("list", "[\"b\",\"a\",\"x\"]"));
	CHECK_APPLY(l, "{\"$rpush\":[\"a\",\"b\",\"a\"]}",
		    D("list", "[\"x\",\"a\",\"b\",\"a\"]"));
	l = D("list", "[\"a\",\"b\",\"c\",\"d\"]");
	CHECK_APPLY(l, "{\"$lpop\":1}", D("list", "[\"b\",\"c\",\"d\"]"));
	CHECK_APPLY(l, "{\"$rpop\":3}", D("list", "[\"a\"]"));
	CHECK_APPLY(l, "{\"$lpop\":4}", D("list", "[]"));
	CHECK_APPLY(l, "{\"$rpop\":4}", D("list", "[]"));
	CHECK_FAILS(l, "{\"$lpop\":0}", "1 to the list's length");
	CHECK_FAILS(l, "{\"$rpop\":5}", "1 to the list's length");
	CHECK_FAILS(l, "{\"$lpop\":-1}", "bad $lpop patch");
	CHECK_FAILS(l, "{\"$lpop\":1.0}", "bad $lpop patch");
	CHECK_FAILS(l, "{\"$lpop\":1e0}", "bad $lpop patch");
	CHECK_FAILS(l, "{\"$lpop\":01}", "bad $lpop patch");
	CHECK_FAILS(l, "{\"$lpop\":\"1\"}", "bad $lpop patch");
	CHECK_FAILS(l, "{\"$lpop\":[1]}", "bad $lpop patch");
	CHECK_FAILS(l, "{\"$rpop\":99999999999999999999999}",
		    "bad $rpop patch");
	CHECK_FAILS(D("list", "[]"), "{\"$lpop\":1}", "bad $lpop patch");
	/* $lset: [INDEX,"STRING"], INDEX from 0 to the length less one */
	CHECK_APPLY(l, "{\"$lset\":[0,\"z\"]}",
		    D("list", "[\"z\",\"b\",\"c\",\"d\"]"));
	CHECK_APPLY(l, "{\"$lset\" : [ 3 , \"\\u00e9\\n\" ] }",
		    D("list", "[\"a\",\"b\",\"c\",\"é\\n\"]"));
	CHECK_APPLY(l, "{\"$lset\":[1,\"b\"]}", l);
	CHECK_FAILS(l, "{\"$lset\":[4,\"z\"]}", "INDEX 0 to the list's");
	CHECK_FAILS(l, "{\"$lset\":[-1,\"z\"]}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":[-0,\"z\"]}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":[01,\"z\"]}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":[1.0,\"z\"]}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":[0e0,\"z\"]}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":[\"1\",\"z\"]}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":[1]}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":[1,\"z\",\"y\"]}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":[1,2]}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":1}", "bad $lset patch");
	CHECK_FAILS(l, "{\"$lset\":[1,\"\\ud800\"]}", "bad $lset patch");
	CHECK_FAILS(D("list", "[]"), "{\"$lset\":[0,\"z\"]}",
		    "bad $lset patch");
	CHECK_FAILS(D("set", "[\"a\"]"), "{\"$lset\":[0,\"z\"]}",
		    "holds a set");
}

static void
test_hashes(void)
{
	const char *h = D("hash", "{\"f\":\"1\",\"g\":\"2\",\"h\":\"3\"}");

	/* an existing field keeps its place; a new one goes last */
	CHECK_APPLY(h, "{\"$hset\":[[\"g\",\"x\"],[\"a\",\"y\"]]}",
		    D("hash", "{\"f\":\"1\",\"g\":\"x\",\"h\":\"3\","
		      "\"a\":\"y\"}"));
	CHECK_APPLY(h, "{\"$hset\":[[\"a\",\"1\"],[\"a\",\"2\"]]}",
		    D("hash", "{\"f\":\"1\",\"g\":\"2\",\"h\":\"3\","
		      "\"a\":\"2\"}"));
	CHECK_APPLY(h, "{\"$hdel\":[\"g\",\"zz\"]}",
		    D("hash", "{\"f\":\"1\",\"h\":\"3\"}"));
	CHECK_APPLY(h, "{\"$hdel\":[\"zz\"]}", h);
	CHECK_APPLY(h, "{\"$hdel\":[\"f\",\"g\",\"h\"]}", D("hash", "{}"));
	/* deleted, then set again: at the end */
	h = apply(h, "{\"$hdel\":[\"f\"]}");
	h = D("hash", "{\"g\":\"2\",\"h\":\"3\"}");
	CHECK_APPLY(h, "{\"$hset\":[[\"f\",\"9\"],[\"h\",\"4\"]]}",
		    D("hash", "{\"g\":\"2\",\"h\":\"4\",\"f\":\"9\"}"));
	CHECK_APPLY(D("hash", "{}"), "{\"$hset\":[[\"_id\",\"\"]]}",
		    D("hash", "{\"_id\":\"\"}"));
	CHECK_FAILS(h, "{\"$hset\":[[\"a\"]]}", "bad $hset patch");
	CHECK_FAILS(h, "{\"$hset\":[[\"a\",\"b\",\"c\"]]}", "bad $hset");
	CHECK_FAILS(h, "{\"$hset\":[[\"a\",1]]}", "bad $hset patch");
	CHECK_FAILS(h, "{\"$hset\":[\"a\",\"b\"]}", "bad $hset patch");
	CHECK_FAILS(h, "{\"$hset\":{\"a\":\"b\"}}", "bad $hset patch");
	CHECK_FAILS(h, "{\"$hdel\":[[\"a\"]]}", "bad $hdel patch");
}

static void
test_zsets(void)
{
	const char *z = D("zset", "[[\"a\",1],[\"b\",2],[\"c\",3]]");

	CHECK_APPLY(z, "{\"$zadd\":[[\"d\",2.5]]}",
		    D("zset", "[[\"a\",1],[\"b\",2],[\"d\",2.5],[\"c\",3]]"));
	/* a member moved by its new score; equal scores by member bytes */
	CHECK_APPLY(z, "{\"$zadd\":[[\"a\",5],[\"e\",2]]}",
		    D("zset", "[[\"b\",2],[\"e\",2],[\"c\",3],[\"a\",5]]"));
	CHECK_APPLY(z, "{\"$zadd\":[[\"c\",-0.0],[\"d\",-0]]}",
		    D("zset", "[[\"c\",0],[\"d\",0],[\"a\",1],[\"b\",2]]"));
	CHECK_APPLY(z, "{\"$zadd\":[[\"x\",\"inf\"],[\"y\",\"-inf\"],"
		    "[\"w\",1e400]]}",
		    D("zset", "[[\"y\",\"-inf\"],[\"a\",1],[\"b\",2],"
		      "[\"c\",3],[\"w\",\"inf\"],[\"x\",\"inf\"]]"));
	CHECK_APPLY(z, "{\"$zadd\":[[\"x\",0.1],[\"y\",1e21],[\"v\",1E-7],"
		    "[\"u\",123456789012345678],[\"t\",0.30000000000000004]]}",
		    D("zset", "[[\"v\",1e-07],[\"x\",0.1],"
		      "[\"t\",0.30000000000000004],[\"a\",1],[\"b\",2],"
		      "[\"c\",3],[\"u\",1.2345678901234568e+17],"
		      "[\"y\",1e+21]]"));
	CHECK_APPLY(z, "{\"$zadd\":[[\"a\",\"\\u0069nf\"]]}",
		    D("zset", "[[\"b\",2],[\"c\",3],[\"a\",\"inf\"]]"));
	CHECK_APPLY(z, "{\"$zrem\":[\"b\",\"zz\"]}",
		    D("zset", "[[\"a\",1],[\"c\",3]]"));
	CHECK_APPLY(z, "{\"$zrem\":[\"a\",\"b\",\"c\"]}", D("zset", "[]"));
	CHECK_FAILS(z, "{\"$zadd\":[[\"a\",\"x\"]]}", "bad $zadd patch");
	CHECK_FAILS(z, "{\"$zadd\":[[\"a\",\"Infinity\"]]}", "bad $zadd");
	CHECK_FAILS(z, "{\"$zadd\":[[\"a\",NaN]]}", "bad $zadd patch");
	CHECK_FAILS(z, "{\"$zadd\":[[\"a\",Infinity]]}", "bad $zadd patch");
	CHECK_FAILS(z, "{\"$zadd\":[[\"a\",true]]}", "bad $zadd patch");
	CHECK_FAILS(z, "{\"$zadd\":[[\"a\",null]]}", "bad $zadd patch");
	CHECK_FAILS(z, "{\"$zadd\":[[\"a\",1.]]}", "bad $zadd patch");
	CHECK_FAILS(z, "{\"$zadd\":[[1,\"a\"]]}", "bad $zadd patch");
	CHECK_FAILS(z, "{\"$zadd\":[\"a\"]}", "bad $zadd patch");
	CHECK_FAILS(z, "{\"$zrem\":[1]}", "bad $zrem patch");
}

static void
test_escapes(void)
{
	const char *s = D("set", "[]");

	/* as nedb prints strings: \" \\ \n \t \r \b \f, other controls as
	 * \u00XX, everything else (DEL, U+2028, é, emoji) as its bytes */
	CHECK_APPLY(s, "{\"$sadd\":[\"\\\"q\\\\\",\"\\u0001\\n\\t\\r\\b\\f"
		    "\\u001f\",\"\\/\x7f\",\"\\u2028\xc3\xa9\","
		    "\"\\ud83d\\ude00\",\"\\u0000\"]}",
		    D("set", "[\"\\u0000\",\"\\u0001\\n\\t\\r\\b\\f\\u001f\","
		      "\"\\\"q\\\\\",\"/\x7f\",\"\xe2\x80\xa8\xc3\xa9\","
		      "\"\xf0\x9f\x98\x80\"]"));
	CHECK_APPLY(D("list", "[]"), "{\"$rpush\":[\"\\u00E9\"]}",
		    D("list", "[\"\xc3\xa9\"]"));
	CHECK_APPLY(D("hash", "{}"), "{\"$hset\":[[\"\\\"\",\"\\\\\"]]}",
		    D("hash", "{\"\\\"\":\"\\\\\"}"));
	CHECK_APPLY("{\"_id\":\"a\\\"b\\u0001\xc3\xa9\",\"type\":\"set\","
		    "\"value\":[]}", "{\"$sadd\":[\"x\"]}",
		    "{\"_id\":\"a\\\"b\\u0001\xc3\xa9\",\"type\":\"set\","
		    "\"value\":[\"x\"]}");
	/* strings that are not valid UTF-8 */
	CHECK_FAILS(s, "{\"$sadd\":[\"\\ud800\"]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"\\udc00\"]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"\\ud800x\"]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"\\ud800\\u0041\"]}", "bad $sadd");
	CHECK_FAILS(s, "{\"$srem\":[\"\\ud83d\"]}", "bad $srem patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"\xff\"]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"\xed\xa0\x80\"]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"\\q\"]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"\\u12\"]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"a\tb\"]}", "bad $sadd patch");
}

static void
test_malformed(void)
{
	const char *s = D("set", "[\"a\"]");

	CHECK_FAILS(s, "{\"$sadd\":\"a\"}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"a\",]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[,\"a\"]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"a\" \"b\"]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[\"a\"]", "not an object of one member");
	CHECK_FAILS(s, "{\"$sadd\":[\"a\"]}x", "not an object of one member");
	CHECK_FAILS(s, "{\"$sadd\":[\"a\"],\"$srem\":[\"a\"]}",
		    "not an object of one member");
	CHECK_FAILS(s, "{\"$sadd\"}", "not an object of one member");
	CHECK_FAILS(s, "{\"$sadd\":[\"a\"", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[null]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[1]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":[[\"a\"]]}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":{}}", "bad $sadd patch");
	CHECK_FAILS(s, "{\"$sadd\":null}", "bad $sadd patch");
}

static void
test_wrong_documents(void)
{
	/* another type */
	CHECK_FAILS(D("set", "[]"), "{\"$lpush\":[\"a\"]}",
		    "cannot apply $lpush to key 'k': it holds a set, not a "
		    "list");
	CHECK_FAILS(D("list", "[]"), "{\"$sadd\":[\"a\"]}", "holds a list");
	CHECK_FAILS(D("hash", "{}"), "{\"$zadd\":[[\"a\",1]]}",
		    "holds a hash");
	CHECK_FAILS(D("zset", "[]"), "{\"$hdel\":[\"a\"]}", "holds a zset");
	CHECK_FAILS(D("string", "\"x\""), "{\"$rpush\":[\"a\"]}",
		    "holds a string");
	/* a wrong type comes first, even with a malformed ARG */
	CHECK_FAILS(D("set", "[]"), "{\"$lpop\":\"x\"}", "holds a set");
	/* the b64 shape */
	CHECK_FAILS("{\"_id\":\"k\",\"type\":\"set\",\"b64\":[\"/w==\"]}",
		    "{\"$sadd\":[\"a\"]}", "(\"b64\")");
	CHECK_FAILS("{\"_id\":\"k\",\"type\":\"list\",\"b64\":[\"YQ==\"]}",
		    "{\"$rpush\":[\"a\"]}", "(\"b64\")");
	/* texts nedb-redis would not print */
	CHECK_FAILS(D("set", "[\"b\",\"a\"]"), "{\"$sadd\":[\"c\"]}",
		    "not as nedb-redis writes one");
	CHECK_FAILS(D("set", "[\"a\",\"a\"]"), "{\"$sadd\":[\"c\"]}",
		    "not as nedb-redis writes one");
	CHECK_FAILS(D("hash", "{\"a\":\"1\",\"a\":\"2\"}"),
		    "{\"$hset\":[[\"b\",\"1\"]]}", "not as nedb-redis");
	CHECK_FAILS(D("zset", "[[\"b\",1],[\"a\",2],[\"b\",3]]"),
		    "{\"$zrem\":[\"a\"]}", "not of a Redis type");
	CHECK_FAILS(D("zset", "[[\"b\",1],[\"a\",1]]"),
		    "{\"$zrem\":[\"a\"]}", "not as nedb-redis");
	CHECK_FAILS(D("zset", "[[\"a\",1.0]]"), "{\"$zrem\":[\"a\"]}",
		    "not as nedb-redis");
	CHECK_FAILS(D("set", "[\"\\u0061\"]"), "{\"$sadd\":[\"c\"]}",
		    "not as nedb-redis");
	CHECK_FAILS(D("set", "[1]"), "{\"$sadd\":[\"c\"]}",
		    "not of a Redis type");
	CHECK_FAILS(D("tree", "[]"), "{\"$sadd\":[\"c\"]}",
		    "not of a Redis type");
	CHECK_FAILS("{\"_id\":\"k\",\"type\":\"set\",\"value\":[],\"x\":1}",
		    "{\"$sadd\":[\"a\"]}", "not as nedb-redis");
	CHECK_FAILS("{\"type\":\"set\",\"_id\":\"k\",\"value\":[]}",
		    "{\"$sadd\":[\"a\"]}", "not as nedb-redis");
	CHECK_FAILS("{\"_id\":\"k\", \"type\":\"set\",\"value\":[]}",
		    "{\"$sadd\":[\"a\"]}", "as nedb-redis writes one");
	CHECK_FAILS("{\"_id\":\"k\",\"type\":\"set\",\"value\":[]",
		    "{\"$sadd\":[\"a\"]}", "not JSON text");
	CHECK_FAILS("[\"a\"]", "{\"$sadd\":[\"a\"]}", "not JSON text");
	CHECK_FAILS("{\"_id\":1,\"type\":\"set\",\"value\":[]}",
		    "{\"$sadd\":[\"a\"]}", "without a string _id");
	CHECK_FAILS("{\"type\":\"set\",\"value\":[]}", "{\"$sadd\":[\"a\"]}",
		    "without a string _id");
	CHECK_FAILS("{\"_id\":\"a\\u0000\",\"type\":\"set\",\"value\":[]}",
		    "{\"$sadd\":[\"a\"]}", "without a string _id");
	CHECK_FAILS("{\"_id\":\"k", "{\"$sadd\":[\"a\"]}", "not JSON text");
	CHECK_FAILS("{\"_id\":\"k\",\"type\":\"set\",\"value\":[\"a]}",
		    "{\"$sadd\":[\"a\"]}", "not JSON text");
	CHECK_FAILS("{\"_id\":\"k\",\"type\":\"set\",\"value\":[]}}",
		    "{\"$sadd\":[\"a\"]}", "not JSON text");
	CHECK_FAILS("{\"_id\":\"k\",\"type\":\"set\",\"value\":[[[[[]]]]]}",
		    "{\"$sadd\":[\"a\"]}", "not JSON text");
	CHECK_FAILS("", "{\"$sadd\":[\"a\"]}", "not JSON text");
	/* the document is read for its len bytes only */
	CHECK_STR(apply_n("{\"_id\":\"k\",\"type\":\"set\",\"value\":[]}xyz",
			  35, "{\"$sadd\":[\"a\"]}"),
		  D("set", "[\"a\"]"));
}

/* Every truncation and many a changed byte of documents and updates:
 * each applies or not, and nothing reads past its bytes (ASan). */
static void
test_mangled(void)
{
	const char *docs[] = {
		D("zset", "[[\"a\\\"\",1.5],[\"\\u0001\",\"inf\"]]"),
		D("hash", "{\"f\":\"\\n\",\"\xc3\xa9\":\"x\"}"),
		D("list", "[\"a\",\"b\"]"),
	};
	const char *upds[] = {
		"{\"$zadd\":[[\"a\\\"\",-1e3],[\"b\",\"-inf\"]]}",
		"{\"$hset\":[[\"f\",\"\\ud83d\\ude00\"]]}",
		"{\"$lpop\":2}",
	};
	static const unsigned char flips[] = {0x01, 0x20, 0x80, 0x5c};

	for (int k = 0; k < 3; k++) {
		size_t dn = strlen(docs[k]), un = strlen(upds[k]);
		char *d = nedb__memdup(docs[k], dn);
		char *u = nedb__memdup(upds[k], un);

		CHECK(apply(d, u) != NULL);
		for (size_t i = 0; i < dn; i++) {
			char *t = nedb__memdup(d, i);	/* exactly i bytes */

			CHECK(!apply_n(t, i, u));
			free(t);
			for (size_t f = 0; f < sizeof flips; f++) {
				d[i] ^= (char)flips[f];
				apply_n(d, dn, u);
				d[i] ^= (char)flips[f];
			}
		}
		for (size_t i = 0; i < un; i++)
			for (size_t f = 0; f < sizeof flips; f++) {
				u[i] ^= (char)flips[f];
				apply_n(d, dn, u);
				u[i] ^= (char)flips[f];
			}
		free(d);
		free(u);
	}
}

static void
test_is(void)
{
	static const char *const yes[] = {
		"{\"$sadd\":[]}", "{\"$srem\":[]}", "{\"$lpush\":[]}",
		"{\"$rpush\":[]}", "{\"$lpop\":1}", "{\"$rpop\":1}",
		"{\"$hset\":[]}", "{\"$hdel\":[]}", "{\"$zadd\":[]}",
		"{\"$zrem\":[]}", " {\n\"$zrem\" : []}", "{\"$lset\":[0,\"\"]}",
		"{\"$sadd\":[],\"$set\":{}}", "{\"$sadd\"",
	};
	static const char *const no[] = {
		"{\"$set\":{\"a\":1}}", "{\"$push\":{\"a\":1}}",
		"{\"$text\":[0,0,\"\"]}", "{\"$saddx\":[]}", "{\"$sad\":[]}",
		"{\"\\u0024sadd\":[]}", "{\"a\":1,\"$sadd\":[]}", "{}", "",
		"[\"$sadd\"]", "{\"$SADD\":[]}", "{\"sadd\":[]}",
	};

	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
		CHECK(nedb__redis_patch_is(yes[i], strlen(yes[i])));
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		CHECK(!nedb__redis_patch_is(no[i], strlen(no[i])));
	/* the length is the update's: a prefix names nothing */
	CHECK(!nedb__redis_patch_is("{\"$sadd\":[]}", 6));
}

/* nedb-update's own function refuses the names; so does the dispatch of
 * what only looks like one of them. */
static void
test_update_doc_refuses(void)
{
	nedb_buf out = {0};
	const char *s = D("set", "[\"a\"]");

	CHECK(nedb_update_doc(&out, s, strlen(s),
			      "{\"$sadd\":{\"value\":\"b\"}}") == NEDB_EUSAGE);
	CHECK(strstr(nedb_errmsg(), "unknown update operator '$sadd'"));
	CHECK(nedb_update_doc(&out, s, strlen(s),
			      "{\"$zadd\":{\"value\":[\"b\",1]}}") ==
	      NEDB_EUSAGE);
	CHECK(nedb__patch_doc(&out, s, strlen(s),
			      "{\"\\u0024sadd\":{\"value\":\"b\"}}", 29) ==
	      NEDB_EUSAGE);
	/* nedb-update's operators still reach nedb_update_doc */
	out.len = 0;
	CHECK(!nedb__patch_doc(&out, s, strlen(s), "{\"$set\":{\"n\":1}}",
			       16));
	CHECK_STR(out.p, "{\"_id\":\"k\",\"type\":\"set\",\"value\":[\"a\"],"
		  "\"n\":1}");
	nedb_buf_free(&out);
}

/* ---- random runs ----------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A member from a pool of about pool names, some needing escapes. */
static void
rand_member(nedb_buf *u, unsigned pool)
{
	static const char *const odd[] = {
		"\\\"", "\\\\", "\\n", "\\u0001", "\xc3\xa9", "\\u00e9",
		"\\ud83d\\ude00", "\xe2\x80\xa8", "/", " ",
	};
	uint64_t r = next_rand();

	nedb_buf_printf(u, "\"m%u", (unsigned)(r % pool));
	if (r >> 32 & 1)
		nedb_buf_puts(u, odd[(r >> 40) % (sizeof odd / sizeof *odd)]);
	nedb_buf_add(u, "\"", 1);
}

static void
rand_score(nedb_buf *u)
{
	uint64_t r = next_rand();

	switch (r % 8) {
	case 0: nedb_buf_puts(u, "\"inf\""); break;
	case 1: nedb_buf_puts(u, "\"-inf\""); break;
	case 2: nedb_buf_puts(u, "-0"); break;
	case 3: nedb_buf_printf(u, "%.17g", (double)(r >> 11) / 9e15 - 500);
		break;
	default: nedb_buf_printf(u, "%d", (int)(r >> 20 & 31) - 8);
	}
}

/* A random update of type t (a list of *len elements, kept up to date):
 * members of a pool about the value's size, so that some are there. */
static void
rand_update(nedb_buf *u, const char *t, size_t *len, unsigned pool)
{
	uint64_t r = next_rand();
	bool grow = r % 3 != 0;
	unsigned k = 1 + (unsigned)(r >> 8) % 4;
	const char *name;

	u->len = 0;
	if (!strcmp(t, "list") && (!grow || *len > pool) && *len) {
		size_t n = 1 + (r >> 16) % (*len < 3 ? *len : 3);

		nedb_buf_printf(u, "{\"$%s\":%zu}", r >> 30 & 1 ? "lpop" :
				"rpop", n);
		*len -= n;
		return;
	}
	if (!strcmp(t, "list") && *len && r % 5 == 1) {
		nedb_buf_printf(u, "{\"$lset\":[%zu,", (size_t)(r >> 20) % *len);
		rand_member(u, pool);
		nedb_buf_add(u, "]}", 2);
		return;
	}
	if (!strcmp(t, "list")) {
		name = r >> 30 & 1 ? "$lpush" : "$rpush";
		*len += k;
	} else if (!strcmp(t, "set"))
		name = grow ? "$sadd" : "$srem";
	else if (!strcmp(t, "hash"))
		name = grow ? "$hset" : "$hdel";
	else
		name = grow ? "$zadd" : "$zrem";
	nedb_buf_printf(u, "{\"%s\":[", name);
	for (unsigned i = 0; i < k; i++) {
		if (i)
			nedb_buf_add(u, ",", 1);
		if (grow && (!strcmp(t, "hash") || !strcmp(t, "zset"))) {
			nedb_buf_add(u, "[", 1);
			rand_member(u, pool);
			nedb_buf_add(u, ",", 1);
			if (!strcmp(t, "hash"))
				rand_member(u, 1000);
			else
				rand_score(u);
			nedb_buf_add(u, "]", 1);
		} else
			rand_member(u, pool);
	}
	nedb_buf_add(u, "]}", 2);
}

/*
 * steps random updates from an empty value of type t: one at a time, and
 * all at once from the start and from a point half way, the same text.
 */
static void
random_run(const char *t, long steps, unsigned pool)
{
	nedb_buf cur = {0}, all = {0}, mid = {0}, *u;
	char **upds = nedb__calloc((size_t)steps, sizeof *upds);
	size_t *lens = nedb__calloc((size_t)steps, sizeof *lens), len = 0;
	const char *start = D(t, !strcmp(t, "hash") ? "{}" : "[]");
	long half = steps / 2;
	size_t most = 0;

	u = &(nedb_buf){0};
	nedb_buf_puts(&cur, start);
	for (long i = 0; i < steps; i++) {
		rand_update(u, t, &len, pool);
		upds[i] = nedb__memdup(u->p, u->len);
		lens[i] = u->len;
		if (i == half)
			nedb_buf_add(&mid, cur.p, cur.len);
		if (!cases || i % 16) {	/* the case file: a sample */
			got.len = 0;
			rc = nedb__redis_patch(&got, cur.p, cur.len, u->p,
					       u->len);
		} else
			apply_n(cur.p, cur.len, upds[i]);
		if (rc) {
			fprintf(stderr, "%s: step %ld '%s': %s\n", t, i,
				upds[i], nedb_errmsg());
			unit_failed++;
			break;
		}
		cur.len = 0;
		nedb_buf_add(&cur, got.p, got.len);
		most = cur.len > most ? cur.len : most;
	}
	CHECK(!nedb__redis_patches(&all, start, strlen(start),
				   (const char *const *)upds, lens,
				   (size_t)steps));
	CHECK(all.len == cur.len && !memcmp(all.p, cur.p, cur.len));
	all.len = 0;
	CHECK(!nedb__redis_patches(&all, mid.p, mid.len,
				   (const char *const *)upds + half,
				   lens + half, (size_t)(steps - half)));
	CHECK(all.len == cur.len && !memcmp(all.p, cur.p, cur.len));
	/* one update that does not apply fails the whole run, and out is
	 * left as it was */
	if (!strcmp(t, "list")) {
		free(upds[steps - 1]);
		upds[steps - 1] = nedb__memdup("{\"$lpop\":0}", 11);
		lens[steps - 1] = 11;
	} else {
		upds[half][2] = 'X';	/* "$Xadd": names no operator */
	}
	all.len = 0;
	CHECK(nedb__redis_patches(&all, start, strlen(start),
				  (const char *const *)upds, lens,
				  (size_t)steps) == NEDB_EINPUT && !all.len);
	CHECK(steps < 1000 || most > 2000);	/* a few hundred members */
	for (long i = 0; i < steps; i++)
		free(upds[i]);
	free(upds);
	free(lens);
	nedb_buf_free(u);
	nedb_buf_free(&cur);
	nedb_buf_free(&all);
	nedb_buf_free(&mid);
}

static void
test_random_runs(void)
{
	static const char *const types[] = {"set", "list", "hash", "zset"};

	for (int i = 0; i < 4; i++)
		random_run(types[i], unit_rounds(2000), 300);
}

int
main(void)
{
	const char *f = getenv("NEDB_ROPS_CASES");

	if (f && !(cases = fopen(f, "w"))) {
		perror(f);
		return 2;
	}
	RUN(test_sets);
	RUN(test_lists);
	RUN(test_hashes);
	RUN(test_zsets);
	RUN(test_escapes);
	RUN(test_malformed);
	RUN(test_wrong_documents);
	RUN(test_mangled);
	RUN(test_is);
	RUN(test_update_doc_refuses);
	RUN(test_random_runs);
	if (cases && fclose(cases))
		unit_failed++;
	nedb_buf_free(&got);
	UNIT_DONE();
}
