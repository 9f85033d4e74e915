/*
 * cdc.c - content-defined chunking: FastCDC (Xia et al., USENIX ATC
 * 2016) with normalized chunking, the cut points of the file store
 * (filestore.h, nedb-file(1)).
 *
 * A chunk ends where a gear hash of the bytes since its minimum length
 * has its top bits zero:
 *
 *     fp = (fp << 1) + gear[byte]      (64-bit, wrapping)
 *
 * Bit j of fp depends on the last j + 1 bytes only, so the top bits see
 * a window of about 64 bytes and a cut depends on nothing further back:
 * an insert or a delete moves the cut points it touches and the chunker
 * falls back into step with the old ones within a chunk or two.
 * Normalized chunking (level 2) makes sizes cluster around the average:
 * below it a cut needs log2(avg) + 2 zero bits (harder), from it on
 * log2(avg) - 2 (easier); no chunk is shorter than min (but the last of
 * a stream) or longer than max.
 *
 * The gear table is 256 outputs of splitmix64 seeded with the ASCII of
 * "nedb-cdc" read as a big-endian integer (nedb-format(5)): a fixed
 * function, so that equal data gives equal chunks in every database,
 * version and process.  Changing it, the masks or the rule changes no
 * stored data (a reader follows the manifest, not the chunker) but would
 * stop new versions from sharing chunks with old ones.
 *
 * Invariants:
 *  1. nedb__cdc_cut is a pure function of the parameters and the bytes
 *     it is given.
 *  2. Its result is in [min, max] when n >= max, and n when n <= min.
 */
#include <string.h>
#include "filestore.h"

#define GEAR_SEED 0x6e6564622d636463ull	/* "nedb-cdc" */

static uint64_t
splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The top bits of a 64-bit word: the ones with the widest window. */
static uint64_t
top_bits(unsigned n)
{
	return n ? ~(uint64_t)0 << (64 - n) : 0;
}

int
nedb__cdc_check(uint32_t min, uint32_t avg, uint32_t max)
{
	if (avg < CDC_AVG_MIN || avg > CDC_AVG_MAX || (avg & (avg - 1)))
		return nedb__err(NEDB_EUSAGE, "bad average chunk size %u: "
				 "want a power of two from %u to %u", avg,
				 CDC_AVG_MIN, CDC_AVG_MAX);
	if (min < CDC_MIN_LIMIT || min >= avg)
		return nedb__err(NEDB_EUSAGE, "bad minimum chunk size %u: "
				 "want %u or more, below the average %u", min,
				 CDC_MIN_LIMIT, avg);
	if (max <= avg || max > CDC_MAX_LIMIT)
		return nedb__err(NEDB_EUSAGE, "bad maximum chunk size %u: "
				 "want more than the average %u, at most %u",
				 max, avg, CDC_MAX_LIMIT);
	return 0;
}

int
nedb__cdc_init(struct nedb_cdc *c, uint32_t min, uint32_t avg, uint32_t max)
{
	uint64_t x = GEAR_SEED;
	unsigned bits = 0;
	int rc;

	if ((rc = nedb__cdc_check(min, avg, max)))
		return rc;
	while (((uint32_t)1 << bits) < avg)
		bits++;
	c->min = min;
	c->avg = avg;
	c->max = max;
	c->mask_s = top_bits(bits + 2);
	c->mask_l = top_bits(bits > 2 ? bits - 2 : 1);
	for (int i = 0; i < 256; i++)
		c->gear[i] = splitmix64(&x);
	return 0;
}

/*
 * One byte of the gear hash, and a cut after it when the bits of mask
 * are zero (the loop below, unrolled: this is most of a put's time on
 * the caller's thread).
 */
#define GEAR_STEP(mask)						\
	do {								\
		fp = (fp << 1) + gear[p[i++]];				\
		if (!(fp & (mask)))					\
			return i;					\
	} while (0)

size_t
nedb__cdc_cut(const struct nedb_cdc *c, const unsigned char *p, size_t n)
{
	const uint64_t *gear = c->gear;
	const uint64_t ms = c->mask_s, ml = c->mask_l;
	size_t i, normal;
	uint64_t fp = 0;

	if (n <= c->min)
		return n;
	if (n > c->max)
		n = c->max;
	normal = c->avg < n ? c->avg : n;
	i = c->min;
	while (i + 4 <= normal) {
		GEAR_STEP(ms);
		GEAR_STEP(ms);
		GEAR_STEP(ms);
		GEAR_STEP(ms);
	}
	while (i < normal)
		GEAR_STEP(ms);
	while (i + 4 <= n) {
		GEAR_STEP(ml);
		GEAR_STEP(ml);
		GEAR_STEP(ml);
		GEAR_STEP(ml);
	}
	while (i < n)
		GEAR_STEP(ml);
	return n;
}
