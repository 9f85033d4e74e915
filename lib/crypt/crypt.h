/*
 * crypt.h - the primitives of encryption at rest (SPEC §8): AES-256-GCM
 * sealing, HKDF-SHA256, a keyed PRF (HMAC-SHA256), and the key file
 * key.enc that holds a database's data key wrapped by the master key.
 *
 * Keys (the hierarchy; every derivation is HKDF-SHA256, aead.c):
 *
 *   TMK   the master key the user holds: 32 bytes, from NEDB_TMK (hex),
 *         NEDB_TMK_FILE or --tmk-file (nedb__tmk_get).  Never stored.
 *   KEK   HKDF(TMK, salt "nedb tmk v1", info "nedb key.enc wrap v1"):
 *         wraps the DEK in key.enc.  The key id (8 bytes, printed as 16
 *         hex digits, safe to show) is the first 8 bytes of
 *         HMAC-SHA256(KEK, "nedb key id v1"): it names a TMK, the same
 *         one in every database, and reveals nothing of it.
 *   DEK   32 random bytes per database, in key.enc (keys.c), wrapped.
 *   sub-keys  HKDF(DEK, salt "nedb dek v1", info <label>), one per use,
 *         so that no key serves two purposes (nedb__crypt_keys):
 *         NEDB_LABEL_LOG seals log lines (and archives), NEDB_LABEL_VIEW
 *         seals view values, NEDB_LABEL_VKCTR and NEDB_LABEL_VKIV make
 *         view keys opaque (lib/view/kv.c), NEDB_LABEL_FADDR and
 *         NEDB_LABEL_FSEAL serve the file store.
 *
 * Rewrapping changes the TMK (hence the KEK and the key id) and nothing
 * else: the DEK and every sub-key stay, so no data is re-encrypted.
 *
 * libcrypto (OpenSSL 3) is not linked: the first call that needs it
 * dlopen()s libcrypto.so.3 and resolves the few EVP functions used, as
 * jv.c does for libjq, so a plaintext database never pays for it.  A
 * missing libcrypto is NEDB_EIO from the call that needed it.  Reading
 * key.enc's header (nedb__key_status) and parsing a TMK need no
 * libcrypto.
 *
 * Errors: 0 or a negative NEDB_E* code with nedb_errmsg set.  A failed
 * authentication (wrong key, any changed byte of a sealed value or of its
 * associated data) is NEDB_EKEY; a sealed value too short to hold a nonce
 * and a tag is NEDB_ECORRUPT.  Nothing here prints or exits.
 *
 * Caveats
 *  - Loading libcrypto and its first use cost an encrypted one-shot
 *    command ~3.4M instructions (callgrind) before any AES, against
 *    0.37M for a whole plaintext nedb-get (an encrypted one is 3.8M):
 *    dlopen (relocating libcrypto's ~4,200 symbol references, 2.25M,
 *    which no flag avoids: libcrypto is linked BIND_NOW) and the first
 *    HKDF (its SHA-256 and HMAC fetched, for which OpenSSL 3.0 builds
 *    every digest and MAC of the provider, ~0.8M).
 *    nedb__crypt_require's comment says what is already left out
 *    (configuration, legacy name tables, error strings, the exit
 *    handler, every cipher and KDF fetch, nedb's own HMAC fetch until
 *    nedb__prf_new).  Only encrypted databases pay it, but a one-shot
 *    command on one pays it every time.
 *  - Random 96-bit nonces: one key should seal at most ~2^32 values
 *    (NIST SP 800-38D).  A key that may exceed that over a database's
 *    life (the view's, across rebuilds) should be derived per file, e.g.
 *    nedb__crypt_subkey with the label plus a random id kept beside it.
 *  - Nothing here orders sealed values: the view's keys are encrypted
 *    deterministically and ordered by a comparator that decrypts them
 *    (lib/view/kv.c, issue #11).
 *
 * Memory: key material lives in caller buffers or in the objects below;
 * nedb__wipe clears a buffer so that the compiler cannot drop the store,
 * and every _free here wipes what it held.  An nedb_aead or nedb_prf is
 * used by one thread at a time (a handle's own, as a handle is).
 */
#ifndef NEDB_CRYPT_H
#define NEDB_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include "nedb.h"

#define NEDB_KEY_LEN 32			/* TMK, KEK, DEK, sub-keys */
#define NEDB_AEAD_NONCE 12
#define NEDB_AEAD_TAG 16
#define NEDB_AEAD_OVERHEAD (NEDB_AEAD_NONCE + NEDB_AEAD_TAG)
#define NEDB_PRF_LEN 32			/* HMAC-SHA256 */
#define NEDB_KEYID_LEN 8
#define NEDB_KEYFILE "key.enc"
/* The largest plaintext or associated data one seal takes (EVP's int). */
#define NEDB_AEAD_MAX (((size_t)1 << 31) - 1 - NEDB_AEAD_OVERHEAD)

/* HKDF info labels of the DEK's sub-keys (never change: data depends). */
#define NEDB_LABEL_LOG "nedb log v1"
#define NEDB_LABEL_VIEW "nedb view value v1"
/* The view's deterministic key encryption (lib/view/kv.c): the AES key
 * of its CTR keystream, and the BLAKE2b key that makes each key's iv. */
#define NEDB_LABEL_VKCTR "nedb view key ctr v1"
#define NEDB_LABEL_VKIV "nedb view key iv v1"
/* The file store (lib/file): the BLAKE2b key of chunk addresses, and
 * the AES-256-GCM key that seals chunks and manifest pages. */
#define NEDB_LABEL_FADDR "nedb file address v1"
#define NEDB_LABEL_FSEAL "nedb file chunk v1"

/* --- aead.c: libcrypto and the primitives --- */

/* Loads libcrypto if not yet loaded: 0, or NEDB_EIO with a message.
 * Thread-safe; every function below that needs libcrypto calls it. */
int nedb__crypt_require(void);

/*
 * SHA-256 (the Merkle tree's hash, SPEC §9).  Needs libcrypto loaded but
 * none of its providers (nedb__crypt_load: the dlopen alone, ~1 ms per
 * process), so a plaintext writer can hash tree nodes cheaply.
 * nedb__sha256_init and nedb__sha256 fail only when libcrypto cannot be
 * loaded (NEDB_EIO); update and final only after a successful init.
 */
#define NEDB_SHA256_LEN 32
typedef struct { _Alignas(8) unsigned char opaque[128]; } nedb_sha256;
int nedb__crypt_load(void);
int nedb__sha256_init(nedb_sha256 *h);
void nedb__sha256_update(nedb_sha256 *h, const void *p, size_t n);
void nedb__sha256_final(nedb_sha256 *h, unsigned char out[NEDB_SHA256_LEN]);
int nedb__sha256(unsigned char out[NEDB_SHA256_LEN], const void *p,
		 size_t n);

/* Clears n bytes at p (explicit_bzero: never optimised away). */
void nedb__wipe(void *p, size_t n);

/* n random bytes from the kernel's CSPRNG (getrandom(2)); needs no
 * libcrypto.  NEDB_EIO when it cannot be read. */
int nedb__rand(unsigned char *out, size_t n);
/* The same for a few bytes (at most 256): from a per-thread pool
 * (nedb__rand_pool, an op's salt). */
int nedb__rand_small(unsigned char *out, size_t n);

/*
 * HKDF-SHA256 (RFC 5869, extract then expand): outlen bytes (at most
 * 255 * 32) into out.  salt and info may be NULL with length 0.
 */
int nedb__hkdf(unsigned char *out, size_t outlen, const void *ikm,
	       size_t ikmlen, const void *salt, size_t saltlen,
	       const void *info, size_t infolen);

/* scrypt (RFC 7914) with cost n (a power of 2), block size r and
 * parallelism par: outlen bytes into out.  Slow by design. */
int nedb__scrypt(unsigned char *out, size_t outlen, const void *pass,
		 size_t passlen, const void *salt, size_t saltlen, uint64_t n,
		 uint32_t r, uint32_t par);

/* One-shot HMAC-SHA256 of msg under key: NEDB_PRF_LEN bytes (by
 * libcrypto's HKDF extract, which is that HMAC, for a message of one
 * byte or more). */
int nedb__hmac(unsigned char out[NEDB_PRF_LEN], const void *key,
	       size_t keylen, const void *msg, size_t n);

/*
 * A key ready to seal and open: AES-256-GCM with its key schedule made
 * once (a seal costs the cipher, not a key setup).  nedb__aead_new
 * copies key; the caller may wipe its own copy.  _free(NULL) is a
 * no-op; _free wipes the schedule.
 */
typedef struct nedb_aead nedb_aead;
int nedb__aead_new(nedb_aead **out, const unsigned char key[NEDB_KEY_LEN]);
void nedb__aead_free(nedb_aead *a);

/*
 * Seals pt[0, n) with associated data aad[0, aadlen) (authenticated, not
 * stored: the caller supplies it again to open, e.g. the key and seq a
 * value belongs to).  Writes nonce || ciphertext || tag, n +
 * NEDB_AEAD_OVERHEAD bytes, to out, which must not overlap pt.  The
 * nonce is 12 random bytes: one key may seal about 2^32 values before
 * the chance of a repeated nonce grows past 2^-32 (NIST SP 800-38D).
 * NEDB_EINPUT when n or aadlen exceeds NEDB_AEAD_MAX.
 */
int nedb__aead_seal(nedb_aead *a, unsigned char *out, const void *aad,
		    size_t aadlen, const void *pt, size_t n);
/* The same with a given nonce: for known-answer tests only (a nonce must
 * never be used twice under one key). */
int nedb__aead_seal_iv(nedb_aead *a, unsigned char *out,
		       const unsigned char iv[NEDB_AEAD_NONCE],
		       const void *aad, size_t aadlen, const void *pt,
		       size_t n);
/*
 * Opens in[0, n) as nedb__aead_seal wrote it, with the same aad: writes
 * the n - NEDB_AEAD_OVERHEAD plaintext bytes to out (not overlapping
 * in).  NEDB_ECORRUPT when n < NEDB_AEAD_OVERHEAD; NEDB_EKEY when the tag
 * does not verify (wrong key, or any byte of nonce, ciphertext, tag or
 * aad changed): out is then wiped, never half-returned as data.
 */
int nedb__aead_open(nedb_aead *a, unsigned char *out, const void *aad,
		    size_t aadlen, const void *in, size_t n);

/*
 * AES-256 of whole 16-byte blocks (ECB) with the key schedule made once:
 * the block function under the view's CTR mode (lib/view/kv.c), which
 * builds its own counter blocks.  n must be a multiple of 16.  One
 * thread at a time per object.  _free(NULL) is a no-op.
 */
typedef struct nedb_ecb nedb_ecb;
int nedb__ecb_new(nedb_ecb **out, const unsigned char key[NEDB_KEY_LEN]);
int nedb__ecb(nedb_ecb *e, unsigned char *out, const unsigned char *in,
	      size_t n);
void nedb__ecb_free(nedb_ecb *e);

/*
 * A keyed PRF, HMAC-SHA256 with its key set up once: for view keys whose
 * order does not matter (equal inputs give equal outputs; nothing else
 * can be learnt without the key).  _free(NULL) is a no-op; _free wipes.
 */
typedef struct nedb_prf nedb_prf;
int nedb__prf_new(nedb_prf **out, const void *key, size_t keylen);
int nedb__prf(nedb_prf *p, unsigned char out[NEDB_PRF_LEN], const void *msg,
	      size_t n);
void nedb__prf_free(nedb_prf *p);

/*
 * What an encrypted database's handle holds: the DEK's sub-keys, ready.
 * nedb__crypt_keys derives them from dek (which the caller then wipes);
 * on error nothing is left allocated.  nedb__crypt_keys_free wipes and
 * frees them and zeroes c (a zeroed struct is "not encrypted").
 */
struct nedb_crypt {
	nedb_aead *log;			/* NEDB_LABEL_LOG */
	unsigned char kid[NEDB_KEYID_LEN];	/* of the TMK: set by
						 * nedb__crypt_open/_create */
	/*
	 * The view's keys as bytes (lib/view/kv.c): its LMDB comparators
	 * run in whatever thread LMDB calls them from, so each thread keys
	 * its own contexts from these.  view_val is NEDB_LABEL_VIEW's,
	 * view_ctr NEDB_LABEL_VKCTR's, view_iv
	 * NEDB_LABEL_VKIV's.  Wiped by nedb__crypt_keys_free.
	 */
	unsigned char view_val[NEDB_KEY_LEN];
	unsigned char view_ctr[NEDB_KEY_LEN];
	unsigned char view_iv[NEDB_KEY_LEN];
	/* NEDB_LABEL_LOG's, for a second thread decrypting a log whole
	 * (logcrypt.c's map); `log` above is keyed with it. */
	unsigned char log_key[NEDB_KEY_LEN];
	/* The file store's (lib/file/store.c), as bytes: its sealing
	 * context is made only by a process that uses the store. */
	unsigned char file_addr[NEDB_KEY_LEN];	/* NEDB_LABEL_FADDR */
	unsigned char file_seal[NEDB_KEY_LEN];	/* NEDB_LABEL_FSEAL */
};
int nedb__crypt_keys(struct nedb_crypt *c,
		     const unsigned char dek[NEDB_KEY_LEN]);
void nedb__crypt_keys_free(struct nedb_crypt *c);
/* A sub-key of the DEK by its label (what nedb__crypt_keys uses). */
int nedb__crypt_subkey(unsigned char out[NEDB_KEY_LEN],
		       const unsigned char dek[NEDB_KEY_LEN],
		       const char *label);

/*
 * Base64 with padding (RFC 4648 §4), no line breaks.  encode writes
 * 4 * ceil(n / 3) bytes and a NUL (out needs one more); decode writes
 * at most 3 * n / 4 bytes, and returns NEDB_ECORRUPT (no message) for
 * anything that is not canonical base64.
 */
#define NEDB_B64_LEN(n) (4 * (((n) + 2) / 3))
int nedb__b64_encode(char *out, const void *in, size_t n, size_t *outlen);
int nedb__b64_decode(unsigned char *out, const char *in, size_t n,
		     size_t *outlen);

/*
 * Ed25519 (RFC 8032) by libcrypto, for signed notes (lib/proof/note.c).
 * A private key is its 32-byte seed (as sumdb/note stores it).
 * _public derives the public key; _sign writes the 64-byte signature of
 * msg[0, n); _verify returns 0 when sig is pub's signature of the
 * message and NEDB_EBROKEN (no message) when it is not, a public key
 * that is no curve point included.  NEDB_EIO when libcrypto fails.
 */
#define NEDB_ED25519_LEN 32
#define NEDB_ED25519_SIG 64
int nedb__ed25519_public(unsigned char pub[NEDB_ED25519_LEN],
			 const unsigned char seed[NEDB_ED25519_LEN]);
int nedb__ed25519_sign(unsigned char sig[NEDB_ED25519_SIG],
		       const unsigned char seed[NEDB_ED25519_LEN],
		       const void *msg, size_t n);
int nedb__ed25519_verify(const unsigned char pub[NEDB_ED25519_LEN],
			 const void *msg, size_t n,
			 const unsigned char sig[NEDB_ED25519_SIG]);

/* --- keys.c: the master key and key.enc --- */

/*
 * The master key from what the user gave, first found wins: opt_file
 * (--tmk-file), env_hex (NEDB_TMK: 64 hex digits), env_file
 * (NEDB_TMK_FILE); NULL or "" is "not given".  A file holds 64 hex
 * digits (surrounding white space ignored) or exactly 32 raw bytes.
 * Returns 0 with *found false when none is given (a plaintext open), 0
 * with the key in out and *found true, or NEDB_EKEY (a malformed key or
 * an unreadable file, named, never the key's bytes; NEDB_TMK and
 * NEDB_TMK_FILE both set is refused, as ambiguous).  Needs no libcrypto.
 */
int nedb__tmk_get(unsigned char out[NEDB_KEY_LEN], bool *found,
		  const char *opt_file, const char *env_hex,
		  const char *env_file);

/* The key id of a TMK (see the top of this file). */
int nedb__key_id(unsigned char out[NEDB_KEYID_LEN],
		 const unsigned char tmk[NEDB_KEY_LEN]);
/* 16 lowercase hex digits and a NUL. */
void nedb__key_id_hex(char out[2 * NEDB_KEYID_LEN + 1],
		      const unsigned char kid[NEDB_KEYID_LEN]);

/*
 * Creates dir/key.enc with a new random DEK wrapped under tmk, and gives
 * the DEK in dek (caller wipes).  Never replaces a key.enc: one that
 * exists is NEDB_EREJECTED (its DEK is the only way to the data).
 * Durable (file and directory synced) when it returns 0.  On NEDB_EIO
 * from the final directory sync key.enc exists (maybe not durably): it
 * opens with tmk.
 */
int nedb__key_create(const char *dir, const unsigned char tmk[NEDB_KEY_LEN],
		     unsigned char dek[NEDB_KEY_LEN]);

/*
 * Unwraps dir/key.enc with tmk into dek (caller wipes).  NEDB_ENOTFOUND
 * (with a message) when there is no key.enc: a plaintext database.
 * NEDB_EKEY when tmk is not the database's key (its key id differs: both
 * ids are named), NEDB_ECORRUPT when key.enc is truncated or damaged.
 * Reads key.enc only.
 */
int nedb__key_open(const char *dir, const unsigned char tmk[NEDB_KEY_LEN],
		   unsigned char dek[NEDB_KEY_LEN]);

/*
 * Wraps the DEK again, under new_tmk: old_tmk must open key.enc (as
 * nedb__key_open).  The new key.enc is written to a temporary file,
 * synced, read back and unwrapped with new_tmk, then renamed over
 * key.enc and the directory synced: a crash leaves the old key.enc or the
 * new one, whole, and no other file changes.  After it, old_tmk is
 * refused (NEDB_EKEY).  The caller serialises rewraps (the writer lock).
 */
int nedb__key_rewrap(const char *dir, const unsigned char old_tmk[NEDB_KEY_LEN],
		     const unsigned char new_tmk[NEDB_KEY_LEN]);

/*
 * Removes the temporary files (key.enc.XXXXXX) a crash during create or
 * rewrap can leave; each holds a DEK wrapped, never in clear.  Only under
 * the writer lock (a rewrap in progress owns its temporary file), and
 * only once the key has been checked: a refused key changes no file.
 */
int nedb__key_cleanup(const char *dir);

/*
 * An encrypted database's keys in one call, the DEK never leaving it:
 * nedb__crypt_open unwraps dir/key.enc with tmk (nedb__key_open, same
 * errors) and fills c (nedb__crypt_keys, kid set); nedb__crypt_create
 * makes key.enc first (nedb__key_create, same errors; if deriving the
 * sub-keys then fails, the new key.enc stays and the error is returned).
 * On error c is zeroed.  Free with nedb__crypt_keys_free.
 */
int nedb__crypt_open(struct nedb_crypt *c, const char *dir,
		     const unsigned char tmk[NEDB_KEY_LEN]);
int nedb__crypt_create(struct nedb_crypt *c, const char *dir,
		       const unsigned char tmk[NEDB_KEY_LEN]);

/*
 * Whether dir holds a key.enc, and the key id it was wrapped with (from
 * its header; no key, no libcrypto).  0 with *encrypted false when there
 * is none; NEDB_ECORRUPT when key.enc is not one (truncated, bad magic,
 * unknown version); NEDB_EIO when it cannot be read.
 */
int nedb__key_status(const char *dir, bool *encrypted,
		     unsigned char kid[NEDB_KEYID_LEN]);

#endif
