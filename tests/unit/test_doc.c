/*
 * test_doc.c - nedb__doc_normalize's one-pass fast path against its full
 * path (jq's parser and the token pass): on every input, the same answer,
 * the same compact text and the same error message.
 */
#include <stdint.h>
#include <stdlib.h>
#include "internal.h"
#include "unit.h"

static int differ;

/* Both paths on text; a difference is reported once per input. */
static void
same(const char *text, size_t len)
{
	nedb_buf a = {0}, b = {0};
	char ea[600], eb[600];
	int ra, rb;

	ra = nedb__doc_normalize(&a, text, len);
	snprintf(ea, sizeof ea, "%s", ra ? nedb_errmsg() : "");
	rb = nedb__doc_normalize_full(&b, text, len);
	snprintf(eb, sizeof eb, "%s", rb ? nedb_errmsg() : "");
	if (ra != rb || a.len != b.len || (a.len && memcmp(a.p, b.p, a.len)) ||
	    strcmp(ea, eb)) {
		if (differ++ < 10)
			fprintf(stderr, "differs on '%.*s': %d '%.*s' '%s' / "
				"%d '%.*s' '%s'\n", (int)len, text, ra,
				(int)a.len, a.p ? a.p : "", ea, rb,
				(int)b.len, b.p ? b.p : "", eb);
	}
	nedb_buf_free(&a);
	nedb_buf_free(&b);
}

static const char *cases[] = {
	"{}", " { } ", "{\"a\":1}", "{\"a\" : [1, 2.5e-3, -0, true, false, "
	"null, \"x\"], \"b\":{\"c\":{}}}\n", "{\"a\":01}", "{\"a\":1.}",
	"{\"a\":.5}", "{\"a\":+1}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":nan}",
	"{\"a\":tru}", "{\"a\":truex}", "{\"a\":true false}", "{\"a\":1,}",
	"{,}", "{\"a\"}", "{\"a\":}", "{1:2}", "[1,2]", "\"x\"", "1", "",
	"   ", "{} {}", "{}x", "{\"a\":[1,]}", "{\"a\":[,1]}", "{\"a\":[}",
	"{\"a\":{]}", "{\"a\":\"\\u00e9\"}", "{\"a\":\"\\ud800\"}",
	"{\"a\":\"\\ud83d\\ude00\"}", "{\"a\":\"\\q\"}", "{\"a\":\"\\/\"}",
	"{\"a\":\"\t\"}", "{\"a\":\"\x01\"}", "{\"a\":\"\xc3\xa9\"}",
	"{\"a\":\"\xc3\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xf4\x90\x80\x80\"}",
	"{\"a\":\"x\"\"}", "{\"a\":1}}", "{\"a\":[[[[[[[[[[[[1]]]]]]]]]]]]}",
	"{\"\":\"\"}", "{\"a\":1e999}", "{\"a\":-0.0E+00}", "\xef\xbb\xbf{}",
	"{\"a\":\"unterminated}", "{\"a\":[\"x\" \"y\"]}", "{\"a\":[1 2]}",
	"{\"a\"::1}", "{\"a\":1 \"b\":2}", "{\r\n\"a\"\t:\r\n1}",
};

static void
test_cases(void)
{
	char deep[400];
	size_t n = 0;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		same(cases[i], strlen(cases[i]));
	/* a NUL inside and after the text */
	same("{\"a\":1}\0", 8);
	same("{\"a\":\"\0\"}", 9);
	/* nesting around the fast path's limit and jq's */
	for (int d = 60; d <= 260; d += 1) {
		n = 0;
		deep[n++] = '{';
		deep[n++] = '"';
		deep[n++] = 'a';
		deep[n++] = '"';
		deep[n++] = ':';
		for (int k = 0; k < d && n < sizeof deep / 2 - 2; k++)
			deep[n++] = '[';
		size_t open = n - 5;
		for (size_t k = 0; k < open; k++)
			deep[n++] = ']';
		deep[n++] = '}';
		same(deep, n);
	}
	CHECK(differ == 0);
}

static uint64_t rnd_state = 42;

static unsigned
rnd(unsigned n)
{
	rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
	return (unsigned)(rnd_state >> 33) % n;
}

/* Random edits of valid documents: each byte inserted, deleted or
 * replaced from a set that reaches every branch of both paths. */
static void
test_mutations(void)
{
	static const char base[] = "{\"_id\":\"u0000001\",\"name\":\"user1\","
		"\"age\":29,\"tags\":[\"a\",\"b\"],\"score\":44.921,\"o\":{\"x\":"
		"null,\"y\":true,\"z\":false,\"w\":-1.5e+3},\"s\":\"\\\"\\n\"}";
	static const char alphabet[] = "{}[]:,\"\\ \t\r\n0123456789-+.eEtrufalsn"
		"xu\x01\x7f\xc3\xa9\xed\xff";
	char buf[256];
	long rounds = unit_rounds(200000);

	for (long t = 0; t < rounds; t++) {
		size_t n = sizeof base - 1;
		int edits = 1 + (int)rnd(3);

		memcpy(buf, base, n);
		for (int e = 0; e < edits; e++) {
			size_t at = rnd((unsigned)n + 1);
			char c = alphabet[rnd(sizeof alphabet - 1)];

			switch (rnd(3)) {
			case 0:
				if (n + 1 < sizeof buf) {
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = c;
					n++;
				}
				break;
			case 1:
				if (at < n) {
					memmove(buf + at, buf + at + 1,
						n - at - 1);
					n--;
				}
				break;
			default:
				if (at < n)
					buf[at] = c;
			}
		}
		same(buf, n);
	}
	CHECK(differ == 0);
}

int
main(void)
{
	RUN(test_cases);
	RUN(test_mutations);
	UNIT_DONE();
}
