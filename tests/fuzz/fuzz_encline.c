/*
 * fuzz_encline.c - libFuzzer target for the encrypted line decoder
 * (nedb__line_open, logcrypt.c), under a fixed key.
 *
 * The input is read three ways:
 *  1. as a stored line: it must be refused or open into a NUL-terminated
 *     plaintext, never crash or read past the input;
 *  2. as a plaintext line: sealed and opened, it must come back exactly;
 *  3. its sealed form with one byte changed (where the input's first
 *     bytes say): it must be refused, or open to the same plaintext
 *     (base64 has bits that decode to nothing), never to other data.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct nedb_crypt keys;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char dek[NEDB_KEY_LEN] = "fuzzing key, not for use.......";
	nedb_buf out = {0}, tmp = {0}, sealed = {0}, back = {0};

	if (size > 1 << 16)
		return 0;
	if (!keys.log && nedb__crypt_keys(&keys, dek))
		abort();
	/* 1 */
	if (nedb__line_open(&keys, &out, &tmp, (const char *)data, size, 1) ==
	    0 && out.p[out.len] != 0)
		abort();
	/* 2 */
	if (nedb__line_seal(&keys, &sealed, &tmp, (const char *)data, size) ||
	    nedb__line_open(&keys, &back, &tmp, sealed.p, sealed.len, 1) ||
	    back.len != size || memcmp(back.p, data, size))
		abort();
	/* 3 */
	if (size >= 2) {
		size_t at = ((size_t)data[0] << 8 | data[1]) % sealed.len;

		sealed.p[at] ^= (char)(data[size - 1] | 1);
		back.len = 0;
		if (nedb__line_open(&keys, &back, &tmp, sealed.p, sealed.len,
				    1) == 0 &&
		    (back.len != size || memcmp(back.p, data, size)))
			abort();
	}
	nedb_buf_free(&out);
	nedb_buf_free(&tmp);
	nedb_buf_free(&sealed);
	nedb_buf_free(&back);
	return 0;
}
