/*
 * b2.h - BLAKE2b from libb2 (SPEC §2), its portable build called by name.
 *
 * Debian's libb2 is built "fat": blake2b() and the rest dispatch at run
 * time among its SSE2, SSSE3, SSE4.1, AVX and XOP builds.  On the
 * reference machine (AMD EPYC, under a hypervisor) every one of those is
 * slower than libb2's own portable C build, at every input size: 64
 * bytes 157 MB/s against 264, 300 bytes 275 against 378, 64 KiB 313
 * against 694 (tests/bench/floor.c's "b2" rows).  Every file of nedb
 * that hashes includes this header instead of <blake2.h>, and so calls
 * the portable build; the state, the parameters and the digests are
 * the same.
 */
#ifndef NEDB_B2_H
#define NEDB_B2_H

#include <stddef.h>
#include <stdint.h>
#include <blake2.h>

int blake2b_init_ref(blake2b_state *S, size_t outlen);
int blake2b_init_key_ref(blake2b_state *S, size_t outlen, const void *key,
			 size_t keylen);
int blake2b_init_param_ref(blake2b_state *S, const blake2b_param *P);
int blake2b_update_ref(blake2b_state *S, const uint8_t *in, size_t inlen);
int blake2b_final_ref(blake2b_state *S, uint8_t *out, size_t outlen);
int blake2b_ref(uint8_t *out, const void *in, const void *key, size_t outlen,
		size_t inlen, size_t keylen);

#define blake2b_init		blake2b_init_ref
#define blake2b_init_key	blake2b_init_key_ref
#define blake2b_init_param	blake2b_init_param_ref
#define blake2b_update		blake2b_update_ref
#define blake2b_final		blake2b_final_ref
#define blake2b			blake2b_ref

#endif
