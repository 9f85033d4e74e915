/*
 * fuzz_doc.c - libFuzzer target for document input: the strict JSON
 * check and compaction (nedb__doc_normalize), then the member helpers on
 * what it accepted.  Invariants checked: accepted text is compact (no
 * whitespace outside strings), is accepted again unchanged, and _id can
 * be set and found; and the one-pass fast path gives the full path's
 * answer, text and error message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nedb_buf a = {0}, b = {0};
	const char *v;
	size_t vlen;

	if (size > 1 << 16)
		return 0;
	{
		char ea[600];
		int ra = nedb__doc_normalize(&a, (const char *)data, size);

		snprintf(ea, sizeof ea, "%s", ra ? nedb_errmsg() : "");
		if (nedb__doc_normalize_full(&b, (const char *)data, size) !=
		    ra || a.len != b.len || (a.len && memcmp(a.p, b.p, a.len)) ||
		    (ra && strcmp(ea, nedb_errmsg())))
			abort();
		a.len = b.len = 0;
	}
	if (nedb__doc_normalize(&a, (const char *)data, size) == 0) {
		if (nedb__doc_normalize(&b, a.p, a.len) != 0 ||
		    b.len != a.len || memcmp(a.p, b.p, a.len))
			abort();
		if (nedb__doc_set(&a, "_id", "\"x\"", 3, true) ||
		    !nedb__doc_member(a.p, a.len, "_id", &v, &vlen) ||
		    vlen != 3 || memcmp(v, "\"x\"", 3))
			abort();
		b.len = 0;
		if (nedb__doc_normalize(&b, a.p, a.len) != 0)
			abort();
		if (nedb__doc_merge(&a, "{\"y\":1}", 7) ||
		    !nedb__doc_member(a.p, a.len, "y", &v, &vlen))
			abort();
	}
	nedb_buf_free(&a);
	nedb_buf_free(&b);
	return 0;
}
