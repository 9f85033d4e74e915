/*
 * test_cdc.c - content-defined chunking (lib/file/cdc.c): cut points in
 * [min, max], sizes around the average, a fixed gear table, and the
 * property the store is for: an insert or a delete in the middle of a
 * stream changes only the chunks around it.  The codec that deflates
 * chunks (store.c: igzip or zlib, whichever this process loads).  Also
 * the compact range of the Merkle tree (lib/proof/tree.c) against RFC
 * 6962's definition, and manifest page parsing.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "filestore.h"
#include "tree.h"
#include "verify.h"
#include "unit.h"

/* xorshift64*: deterministic test data */
static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

static unsigned char *
random_bytes(size_t n)
{
	unsigned char *p = malloc(n);

	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(next_rand() >> 56);
	return p;
}

/* The chunks of p[0, n): their lengths into len (at most max_n). */
static size_t
chunk_all(const struct nedb_cdc *c, const unsigned char *p, size_t n,
	  size_t *len, size_t max_n)
{
	size_t k = 0;

	for (size_t at = 0; at < n && k < max_n;) {
		size_t cut = nedb__cdc_cut(c, p + at, n - at);

		len[k++] = cut;
		at += cut;
	}
	return k;
}

/* Chunks as (offset, hash-ish) to compare two streams' chunks by
 * content: the set of distinct contents. */
static uint64_t
fnv(const unsigned char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h ^ n;
}

static size_t
chunk_ids(const struct nedb_cdc *c, const unsigned char *p, size_t n,
	  uint64_t *ids, size_t max_n)
{
	size_t *len = malloc(max_n * sizeof *len), k, at = 0;

	k = chunk_all(c, p, n, len, max_n);
	for (size_t i = 0; i < k; i++) {
		ids[i] = fnv(p + at, len[i]);
		at += len[i];
	}
	free(len);
	return k;
}

/* How many of b's chunks a does not have. */
static size_t
new_chunks(const uint64_t *a, size_t na, const uint64_t *b, size_t nb)
{
	size_t fresh = 0;

	for (size_t i = 0; i < nb; i++) {
		size_t j;

		for (j = 0; j < na && a[j] != b[i]; j++)
			;
		fresh += j == na;
	}
	return fresh;
}

static void
test_parameters_are_checked(void)
{
	struct nedb_cdc c;

	CHECK(nedb__cdc_init(&c, CDC_DEF_MIN, CDC_DEF_AVG, CDC_DEF_MAX) == 0);
	CHECK(nedb__cdc_init(&c, 16384, 65536 + 1, 262144) == NEDB_EUSAGE);
	CHECK(nedb__cdc_init(&c, 65536, 65536, 262144) == NEDB_EUSAGE);
	CHECK(nedb__cdc_init(&c, 16384, 65536, 65536) == NEDB_EUSAGE);
	CHECK(nedb__cdc_init(&c, 32, 256, 1024) == NEDB_EUSAGE);
	CHECK(nedb__cdc_init(&c, 64, 256, 1024) == 0);
	CHECK(nedb__cdc_init(&c, 1 << 20, 4 << 20, 32 << 20) == NEDB_EUSAGE);
	CHECK(nedb__cdc_check(16384, 65536, 262144) == 0);
}

static void
test_the_gear_table_is_fixed(void)
{
	struct nedb_cdc c;

	/* splitmix64 from "nedb-cdc": nedb-format(5) documents it */
	nedb__cdc_init(&c, CDC_DEF_MIN, CDC_DEF_AVG, CDC_DEF_MAX);
	CHECK(c.gear[0] == 0xb80a3e6fcf84cf88ull);
	CHECK(c.gear[255] == 0xeff3aaf95fa0b626ull);
	CHECK(c.mask_s == 0xffffc00000000000ull);	/* 18 bits */
	CHECK(c.mask_l == 0xfffc000000000000ull);	/* 14 bits */
}

static void
test_cuts_are_within_min_and_max_and_sizes_average_out(void)
{
	size_t n = 16 << 20, k, total = 0, *len = malloc(4096 * sizeof *len);
	unsigned char *p = random_bytes(n);
	struct nedb_cdc c;

	nedb__cdc_init(&c, CDC_DEF_MIN, CDC_DEF_AVG, CDC_DEF_MAX);
	k = chunk_all(&c, p, n, len, 4096);
	for (size_t i = 0; i < k; i++) {
		if (i + 1 < k)
			CHECK(len[i] > c.min && len[i] <= c.max);
		total += len[i];
	}
	CHECK(total == n);
	/* normalized chunking: the mean is near the average */
	CHECK(n / k > 48 * 1024 && n / k < 96 * 1024);
	/* a short stream is one chunk; min bytes too */
	CHECK(nedb__cdc_cut(&c, p, 1) == 1);
	CHECK(nedb__cdc_cut(&c, p, c.min) == c.min);
	/* zeros never cut: max */
	memset(p, 0, c.max + 100);
	CHECK(nedb__cdc_cut(&c, p, c.max + 100) == c.max);
	free(p);
	free(len);
}

static void
test_an_insert_in_the_middle_changes_only_the_chunks_around_it(void)
{
	size_t n = 8 << 20, ins = 100, na, nb, nc;
	unsigned char *a = random_bytes(n), *b = malloc(n + ins),
		      *x = random_bytes(ins), *d = malloc(n);
	uint64_t *ia = malloc(1024 * sizeof *ia), *ib = malloc(1024 *
		       sizeof *ib), *ic = malloc(1024 * sizeof *ic);
	struct nedb_cdc c;

	nedb__cdc_init(&c, CDC_DEF_MIN, CDC_DEF_AVG, CDC_DEF_MAX);
	memcpy(b, a, n / 2);
	memcpy(b + n / 2, x, ins);
	memcpy(b + n / 2 + ins, a + n / 2, n - n / 2);
	na = chunk_ids(&c, a, n, ia, 1024);
	nb = chunk_ids(&c, b, n + ins, ib, 1024);
	CHECK(na > 64);
	/* the insert touches one chunk, maybe two when it moves a cut */
	CHECK(new_chunks(ia, na, ib, nb) >= 1);
	CHECK(new_chunks(ia, na, ib, nb) <= 2);
	CHECK(nb >= na - 2 && nb <= na + 2);
	/* a delete of 1000 bytes likewise */
	memcpy(d, a, n / 3);
	memcpy(d + n / 3, a + n / 3 + 1000, n - n / 3 - 1000);
	nc = chunk_ids(&c, d, n - 1000, ic, 1024);
	CHECK(new_chunks(ia, na, ic, nc) >= 1);
	CHECK(new_chunks(ia, na, ic, nc) <= 2);
	/* and one byte changed at the very start: the first chunk */
	a[0] ^= 1;
	nc = chunk_ids(&c, a, n, ic, 1024);
	CHECK(new_chunks(ib, nb, ic, nc) == 2);	/* first, and the insert's */
	free(a);
	free(b);
	free(d);
	free(x);
	free(ia);
	free(ib);
	free(ic);
}

static void
test_small_parameters_cut_small(void)
{
	size_t n = 1 << 20, k, *len = malloc(65536 * sizeof *len);
	unsigned char *p = random_bytes(n);
	struct nedb_cdc c;

	CHECK(nedb__cdc_init(&c, 64, 256, 1024) == 0);
	k = chunk_all(&c, p, n, len, 65536);
	for (size_t i = 0; i + 1 < k; i++)
		CHECK(len[i] > 64 && len[i] <= 1024);
	CHECK(n / k > 160 && n / k < 400);
	free(p);
	free(len);
}

/* RFC 6962's MTH of d[lo, hi), each datum 32 bytes. */
static void
mth(unsigned char out[32], unsigned char (*d)[32], size_t lo, size_t hi)
{
	unsigned char l[32], r[32];
	size_t k = 1;

	if (hi - lo == 1) {
		nedb__tlog_leaf(out, d[lo], 32);
		return;
	}
	while (2 * k < hi - lo)
		k *= 2;
	mth(l, d, lo, lo + k);
	mth(r, d, lo + k, hi);
	nedb__tlog_node(out, l, r);
}

struct leaves {
	unsigned char (*d)[32];
};

static int
leaf_hash(void *payload, unsigned level, uint64_t n, unsigned char out[32])
{
	struct leaves *l = payload;

	mth(out, l->d, n << level, (n + 1) << level);
	return 0;
}

static void
test_the_compact_range_and_proofs_over_other_leaves_are_rfc_6962s(void)
{
	unsigned char d[300][32], got[32], want[32], empty[32], (*path)[32];
	struct leaves l = {d};
	struct nedb_tree_range r;
	size_t np;

	memset(&r, 0, sizeof r);
	for (int i = 0; i < 300; i++)
		for (int j = 0; j < 32; j++)
			d[i][j] = (unsigned char)(next_rand() >> 56);
	CHECK(nedb__tree_range_root(&r, got) == 0);
	nedb__sha256(empty, "", 0);
	CHECK(!memcmp(got, empty, 32));
	for (size_t n = 1; n <= 300; n++) {
		nedb__tree_range_add(&r, d[n - 1], 32);
		nedb__tree_range_root(&r, got);
		mth(want, d, 0, n);
		CHECK(!memcmp(got, want, 32));
	}
	for (uint64_t size = 1; size <= 300; size += 37)
		for (uint64_t k = 0; k < size; k += 5) {
			unsigned char lh[32];

			CHECK(nedb__tree_prove_fn(leaf_hash, &l, size, k, got,
						  &path, &np) == 0);
			mth(want, d, 0, size);
			CHECK(!memcmp(got, want, 32));
			nedb__tlog_leaf(lh, d[k], 32);
			CHECK(nedb__tlog_check_inclusion(k, size, lh, got,
							 (const nedb_thash *)
							 path, np) == 0);
			free(path);
		}
	CHECK(nedb__tree_prove_fn(leaf_hash, &l, 3, 3, got, &path, &np) ==
	      NEDB_EUSAGE);
}

static void
test_manifest_pages_parse_only_when_whole(void)
{
	unsigned char page[16 + 2 * 36];
	struct mpage m;
	uint64_t c, b;

	memset(page, 0, sizeof page);
	memcpy(page, "NEDBMAN1", 8);
	nedb__put_le32(page + 12, 2);
	nedb__put_le32(page + 16 + 32, 100);
	nedb__put_le32(page + 16 + 36 + 32, 7);
	CHECK(nedb__man_parse(&m, page, sizeof page) == 0);
	CHECK(m.level == 0 && m.n == 2 && m.chunks == 2 && m.bytes == 107);
	nedb__man_entry(&m, 1, &c, &b);
	CHECK(c == 1 && b == 7);
	CHECK(nedb__man_parse(&m, page, sizeof page - 1) == NEDB_ECORRUPT);
	nedb__put_le32(page + 16 + 32, 0);		/* an empty chunk */
	CHECK(nedb__man_parse(&m, page, sizeof page) == NEDB_ECORRUPT);
	nedb__put_le32(page + 16 + 32, 100);
	page[8] = MAN_MAX_DEPTH;			/* too deep */
	CHECK(nedb__man_parse(&m, page, sizeof page) == NEDB_ECORRUPT);
	page[8] = 0;
	page[0] = 'X';
	CHECK(nedb__man_parse(&m, page, sizeof page) == NEDB_ECORRUPT);
	memcpy(page, "NEDBMAN1", 8);
	nedb__put_le32(page + 12, 0);			/* empty: 16 bytes */
	CHECK(nedb__man_parse(&m, page, 16) == 0 && m.chunks == 0);
}

static void
test_the_codec_deflates_what_pays_and_inflates_exactly(void)
{
	size_t n = 65536;
	unsigned char *noise = random_bytes(n), *text = malloc(n), *out;
	struct fcodec *c, *r;
	nedb_buf z = {0}, z2 = {0};

	for (size_t i = 0; i < n; i++)
		text[i] = "abcdefgh \n"[noise[i] % 10];
	out = malloc(n + 1);
	CHECK(nedb__fcodec_new(FENC_WARM, &c) == 0);
	CHECK(nedb__fcodec_new(FENC_RAW, &r) == 0);	/* inflates only */
	/* noise does not pay (the probe says so), text does */
	CHECK(nedb__fcodec_deflate(c, noise, n, &z) == 0);
	CHECK(nedb__fcodec_deflate(c, text, n, &z) == 1);
	CHECK(z.len > 0 && z.len <= n - n / 32);
	/* inflated by another codec, exactly n bytes */
	CHECK(nedb__fcodec_inflate(r, z.p, z.len, out, n) == 0);
	CHECK(!memcmp(out, text, n));
	/* a byte short or over, a byte after the stream, a flipped byte */
	CHECK(nedb__fcodec_inflate(r, z.p, z.len, out, n - 1) == 1);
	CHECK(nedb__fcodec_inflate(r, z.p, z.len, out, n + 1) == 1);
	nedb_buf_grow(&z, z.len + 1);
	z.p[z.len] = 0;
	CHECK(nedb__fcodec_inflate(r, z.p, z.len + 1, out, n) == 1);
	CHECK(nedb__fcodec_inflate(r, z.p, z.len - 1, out, n) == 1);
	z.p[z.len / 2] ^= 0x10;
	CHECK(nedb__fcodec_inflate(r, z.p, z.len, out, n) != 0 ||
	      memcmp(out, text, n));
	/* cold: no larger than warm */
	nedb__fcodec_free(c);
	CHECK(nedb__fcodec_new(FENC_COLD, &c) == 0);
	CHECK(nedb__fcodec_deflate(c, text, n, &z2) == 1);
	CHECK(nedb__fcodec_inflate(r, z2.p, z2.len, out, n) == 0);
	CHECK(!memcmp(out, text, n));
	/* small chunks: no probe, the whole tried */
	CHECK(nedb__fcodec_deflate(c, text, 100, &z2) == 1);
	CHECK(nedb__fcodec_deflate(c, noise, 100, &z2) == 0);
	nedb__fcodec_free(c);
	nedb__fcodec_free(r);
	nedb_buf_free(&z);
	nedb_buf_free(&z2);
	free(noise);
	free(text);
	free(out);
}

int
main(void)
{
	RUN(test_parameters_are_checked);
	RUN(test_the_gear_table_is_fixed);
	RUN(test_cuts_are_within_min_and_max_and_sizes_average_out);
	RUN(test_an_insert_in_the_middle_changes_only_the_chunks_around_it);
	RUN(test_small_parameters_cut_small);
	RUN(test_the_compact_range_and_proofs_over_other_leaves_are_rfc_6962s);
	RUN(test_manifest_pages_parse_only_when_whole);
	RUN(test_the_codec_deflates_what_pays_and_inflates_exactly);
	UNIT_DONE();
}
