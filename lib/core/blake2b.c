/*
 * blake2b.c - BLAKE2b (RFC 7693) in one call, plain C on 64-bit words:
 * the file store's content addresses (file/store.c), a hash of every
 * byte a put stores.  libb2 computes the same function (the log's
 * hashing stays with it); its dispatch picks SIMD code that on some x86
 * cores runs at half the speed of this loop, which compilers keep in
 * registers (about 1 GB/s a core).  test_cdc.c holds the two equal.
 *
 * Invariant: nedb__blake2b(out, outlen, key, keylen, p, n) equals
 * libb2's blake2b(out, p, key, outlen, n, keylen) for every input (the
 * addresses of stores written before it came are unchanged).
 */
#include <string.h>
#include "internal.h"

static const uint64_t iv[8] = {
	0x6a09e667f3bcc908ull, 0xbb67ae8584caa73bull,
	0x3c6ef372fe94f82bull, 0xa54ff53a5f1d36f1ull,
	0x510e527fade682d1ull, 0x9b05688c2b3e6c1full,
	0x1f83d9abfb41bd6bull, 0x5be0cd19137e2179ull,
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

#define ROTR(x, n) (((x) >> (n)) | ((x) << (64 - (n))))
#define G(r, i, a, b, c, d)						\
	do {								\
		a = a + b + m[sigma[r][2 * (i)]];			\
		d = ROTR(d ^ a, 32);					\
		c = c + d;						\
		b = ROTR(b ^ c, 24);					\
		a = a + b + m[sigma[r][2 * (i) + 1]];			\
		d = ROTR(d ^ a, 16);					\
		c = c + d;						\
		b = ROTR(b ^ c, 63);					\
	} while (0)
#define ROUND(r)							\
	do {								\
		G(r, 0, v[0], v[4], v[8], v[12]);			\
		G(r, 1, v[1], v[5], v[9], v[13]);			\
		G(r, 2, v[2], v[6], v[10], v[14]);			\
		G(r, 3, v[3], v[7], v[11], v[15]);			\
		G(r, 4, v[0], v[5], v[10], v[15]);			\
		G(r, 5, v[1], v[6], v[11], v[12]);			\
		G(r, 6, v[2], v[7], v[8], v[13]);			\
		G(r, 7, v[3], v[4], v[9], v[14]);			\
	} while (0)

static inline uint64_t
load64(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
	       (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 |
	       (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
	       (uint64_t)p[7] << 56;
}

/* One 128-byte block; t the bytes hashed so far with it (inputs are
 * shorter than 2^64 bytes: the counter's high word stays 0). */
static void
b2_compress(uint64_t h[8], const unsigned char *blk, uint64_t t, bool last)
{
	uint64_t m[16], v[16];

	for (int i = 0; i < 16; i++)
		m[i] = load64(blk + 8 * i);
	for (int i = 0; i < 8; i++) {
		v[i] = h[i];
		v[i + 8] = iv[i];
	}
	v[12] ^= t;
	if (last)
		v[14] = ~v[14];
	ROUND(0);
	ROUND(1);
	ROUND(2);
	ROUND(3);
	ROUND(4);
	ROUND(5);
	ROUND(6);
	ROUND(7);
	ROUND(8);
	ROUND(9);
	ROUND(10);
	ROUND(11);
	for (int i = 0; i < 8; i++)
		h[i] ^= v[i] ^ v[i + 8];
}

void
nedb__blake2b(unsigned char *out, size_t outlen, const void *key,
	      size_t keylen, const void *in, size_t n)
{
	const unsigned char *p = in;
	unsigned char blk[128];
	uint64_t h[8], t = 0;

	memcpy(h, iv, sizeof h);
	h[0] ^= 0x01010000ull ^ (uint64_t)keylen << 8 ^ outlen;
	if (keylen) {
		/* the key is the first block, padded with zeros */
		memset(blk, 0, sizeof blk);
		memcpy(blk, key, keylen);
		t = 128;
		b2_compress(h, blk, t, n == 0);
		if (!n)
			goto done;
	}
	for (; n > 128; p += 128, n -= 128) {
		t += 128;
		b2_compress(h, p, t, false);
	}
	memset(blk, 0, sizeof blk);
	memcpy(blk, p, n);
	t += n;
	b2_compress(h, blk, t, true);
done:
	for (size_t i = 0; i < outlen; i++)
		out[i] = (unsigned char)(h[i / 8] >> (8 * (i % 8)));
}
