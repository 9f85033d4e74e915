/*
 * fuzz_rops.c - libFuzzer target for the Redis operators of patch ops
 * (doc/ochange.md §7.1) on document text: nedb__redis_patch on a document
 * and an update split at the input's first NUL (with no NUL, the update
 * applied to each of four canonical values).  Invariants checked: an
 * update applied is applied the same by nedb__redis_patches (one parse),
 * its result is a document the operators take again (canonical: an
 * empty $sadd/$lpush/$hdel/$zrem leaves it byte for byte), and the
 * parser that the view's elements share (nedb__rop_parse) accepts
 * exactly what was applied.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const docs[] = {
	"{\"_id\":\"s\",\"type\":\"set\",\"value\":[\"a\",\"b\\\"\",\"\\u0001\"]}",
	"{\"_id\":\"l\",\"type\":\"list\",\"value\":[\"x\",\"y\",\"x\"]}",
	"{\"_id\":\"h\",\"type\":\"hash\",\"value\":{\"f\":\"1\",\"g\":\"é\"}}",
	"{\"_id\":\"z\",\"type\":\"zset\",\"value\":[[\"m\",\"-inf\"],[\"n\",0.5]]}",
};
static const char *const noop[] = {
	"{\"$sadd\":[]}", "{\"$lpush\":[]}", "{\"$hdel\":[]}", "{\"$zrem\":[]}",
};
static const int types[] = {EL_SET, EL_LIST, EL_HASH, EL_ZSET};

static void
one(const char *doc, size_t len, const char *upd, size_t ulen, int t)
{
	nedb_buf a = {0}, b = {0}, c = {0};
	struct rop r;
	int ra = nedb__redis_patch(&a, doc, len, upd, ulen);

	if (nedb__redis_patches(&b, doc, len, &upd, &ulen, 1) != ra ||
	    (!ra && (a.len != b.len || memcmp(a.p, b.p, a.len))))
		abort();
	if (!ra) {
		if (t >= 0) {
			size_t n = strlen(noop[t]);

			if (nedb__redis_patch(&c, a.p, a.len, noop[t], n) ||
			    c.len != a.len || memcmp(a.p, c.p, a.len))
				abort();
			/* the shared parser took it, for a value of n members
			 * as large as any count it names */
			if (nedb__rop_parse(upd, ulen, "k", types[t], UINT64_MAX,
					    &r))
				abort();
			nedb__rop_free(&r);
		}
	}
	nedb_buf_free(&a);
	nedb_buf_free(&b);
	nedb_buf_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nul = memchr(p, 0, size);

	if (size > 1 << 16)
		return 0;
	if (nul) {
		one(p, (size_t)(nul - p), nul + 1, size - (size_t)(nul - p) - 1,
		    -1);
		return 0;
	}
	for (int t = 0; t < 4; t++)
		one(docs[t], strlen(docs[t]), p, size, t);
	return 0;
}
