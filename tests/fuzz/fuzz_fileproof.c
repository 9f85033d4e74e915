/*
 * fuzz_fileproof.c - libFuzzer target for the file store's parsers
 * (lib/file, lib/proof): manifest pages and the JSON proof of a chunk.
 *
 * The input is read as each in turn; each parser must refuse it
 * (NEDB_ECORRUPT for a page, NEDB_EINPUT or NEDB_EBROKEN for a proof,
 * with a message) or accept it, never crash or read past the input.  On
 * success:
 *  1. a page's entries lie within the input, its sums are those of its
 *     entries, and its level and count are in range;
 *  2. a proof that checks against its own root checks against that root
 *     given as trusted (hex), and fails against another one, and against
 *     a number of chunks one more than it says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "filestore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_page(const uint8_t *p, size_t n)
{
	struct mpage m;
	uint64_t c, b, sc = 0, sb = 0;

	if (nedb__man_parse(&m, p, n)) {
		if (!*nedb_errmsg())
			abort();
		return;
	}
	if (m.level >= MAN_MAX_DEPTH || m.n > MAN_FANOUT ||
	    m.ent != p + MAN_HDR)
		abort();
	for (uint32_t i = 0; i < m.n; i++) {
		const unsigned char *a = nedb__man_addr(&m, i);

		if (a < p || a + FADDR_LEN > p + n)
			abort();
		nedb__man_entry(&m, i, &c, &b);
		sc += c;
		sb += b;
	}
	if (sc != m.chunks || sb != m.bytes)
		abort();
}

static void
check_proof(const char *s, size_t n)
{
	nedb_file_proof_info info;
	char root[65];
	int rc = nedb_file_proof_check(s, n, NULL, 0, NULL, 0, &info);
	const char *r;

	if (rc && rc != NEDB_EINPUT && rc != NEDB_EBROKEN)
		abort();
	if (rc) {
		if (!*nedb_errmsg())
			abort();
		return;
	}
	if (!info.parsed || info.chunk >= info.chunks)
		abort();
	/* its own root, as trusted: the same answer */
	r = memmem(s, n, "\"root\":\"", 8);
	if (!r || r + 8 + 64 > s + n)
		return;		/* a root spelt with escapes: skip */
	memcpy(root, r + 8, 64);
	root[64] = 0;
	if (nedb_file_proof_check(s, n, root, 0, NULL, 0, NULL) == 0) {
		root[0] = root[0] == '0' ? '1' : '0';
		if (nedb_file_proof_check(s, n, root, 0, NULL, 0, NULL) !=
		    NEDB_EBROKEN)
			abort();
	}
	if (info.chunks < UINT64_MAX &&
	    nedb_file_proof_check(s, n, NULL, info.chunks + 1, NULL, 0,
				  NULL) != NEDB_EBROKEN)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_page(data, size);
	check_proof((const char *)data, size);
	return 0;
}
