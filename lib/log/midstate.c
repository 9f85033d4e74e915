/*
 * midstate.c - BLAKE2b-256 from a mid-state: what a redacted line of log
 * format 2 is checked by (log.c, doc/redaction.md).
 *
 * A format-2 put line puts its document where it ends at a block
 * boundary of the line's hashed message (prev || body).  Erasing it
 * keeps the chaining value after those blocks (the "mid" member): the
 * hash is then finished from it over the rest of the message, which the
 * line still holds.  libb2 has no call that starts from a chaining value
 * (its state's buffering is its own business), so the compression
 * function of RFC 7693 is here, used only for redaction and for
 * checking redacted lines, which are rare; every other hash is libb2's.
 * test_log checks both against libb2 on random messages.
 */
#include <string.h>
#include "internal.h"

static const uint64_t iv[8] = {
	0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
	0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
	0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t sigma[12][16] = {
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
	{11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
	{7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
	{9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
	{2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
	{12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
	{13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
	{6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
	{10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

static uint64_t
rotr(uint64_t x, int n)
{
	return x >> n | x << (64 - n);
}

static uint64_t
le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

#define G(a, b, c, d, x, y) do { \
	v[a] = v[a] + v[b] + (x); v[d] = rotr(v[d] ^ v[a], 32); \
	v[c] = v[c] + v[d];       v[b] = rotr(v[b] ^ v[c], 24); \
	v[a] = v[a] + v[b] + (y); v[d] = rotr(v[d] ^ v[a], 16); \
	v[c] = v[c] + v[d];       v[b] = rotr(v[b] ^ v[c], 63); \
} while (0)

/* RFC 7693 §3.2's F: one 128-byte block into h; t bytes so far. */
static void
b2_compress(uint64_t h[8], const unsigned char block[NEDB_B2_BLOCK], uint64_t t,
	 bool last)
{
	uint64_t v[16], m[16];

	for (int i = 0; i < 16; i++)
		m[i] = le64(block + 8 * i);
	memcpy(v, h, 8 * sizeof *h);
	memcpy(v + 8, iv, sizeof iv);
	v[12] ^= t;
	if (last)
		v[14] = ~v[14];
	for (int r = 0; r < 12; r++) {
		const uint8_t *s = sigma[r];

		G(0, 4, 8, 12, m[s[0]], m[s[1]]);
		G(1, 5, 9, 13, m[s[2]], m[s[3]]);
		G(2, 6, 10, 14, m[s[4]], m[s[5]]);
		G(3, 7, 11, 15, m[s[6]], m[s[7]]);
		G(0, 5, 10, 15, m[s[8]], m[s[9]]);
		G(1, 6, 11, 12, m[s[10]], m[s[11]]);
		G(2, 7, 8, 13, m[s[12]], m[s[13]]);
		G(3, 4, 9, 14, m[s[14]], m[s[15]]);
	}
	for (int i = 0; i < 8; i++)
		h[i] ^= v[i] ^ v[i + 8];
}

/* The message's bytes [at, at + NEDB_B2_BLOCK) of a ‖ b (a of alen). */
static void
block_of(unsigned char out[NEDB_B2_BLOCK], const void *a, size_t alen,
	 const void *b, size_t at)
{
	for (size_t i = 0; i < NEDB_B2_BLOCK; i++, at++)
		out[i] = at < alen ? ((const unsigned char *)a)[at] :
			 ((const unsigned char *)b)[at - alen];
}

void
nedb__b2_mid(unsigned char mid[NEDB_B2_MID], const unsigned char prev[HASH_LEN],
	     const char *body, size_t n)
{
	unsigned char blk[NEDB_B2_BLOCK];
	uint64_t h[8];

	memcpy(h, iv, sizeof h);
	h[0] ^= 0x01010000 ^ HASH_LEN;		/* no key, 32-byte digest */
	for (size_t at = 0; at < n; at += NEDB_B2_BLOCK) {
		block_of(blk, prev, HASH_LEN, body, at);
		b2_compress(h, blk, at + NEDB_B2_BLOCK, false);
	}
	for (int i = 0; i < 8; i++)
		for (int j = 0; j < 8; j++)
			mid[8 * i + j] = (unsigned char)(h[i] >> 8 * j);
}

void
nedb__b2_finish(unsigned char out[HASH_LEN],
		const unsigned char mid[NEDB_B2_MID], size_t n,
		const char *tail, size_t tlen, const char *last, size_t llen)
{
	unsigned char blk[NEDB_B2_BLOCK];
	size_t total = tlen + llen, at = 0;
	uint64_t h[8];

	for (int i = 0; i < 8; i++)
		h[i] = le64(mid + 8 * i);
	/* every block but the last, which is finished (and may be short) */
	for (; total - at > NEDB_B2_BLOCK; at += NEDB_B2_BLOCK) {
		block_of(blk, tail, tlen, last, at);
		b2_compress(h, blk, n + at + NEDB_B2_BLOCK, false);
	}
	memset(blk, 0, sizeof blk);
	for (size_t i = 0; at + i < total; i++)
		blk[i] = at + i < tlen ? (unsigned char)tail[at + i] :
			 (unsigned char)last[at + i - tlen];
	b2_compress(h, blk, n + total, true);
	for (int i = 0; i < HASH_LEN; i++)
		out[i] = (unsigned char)(h[i / 8] >> 8 * (i % 8));
}
