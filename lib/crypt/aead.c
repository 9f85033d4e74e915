/*
 * aead.c - libcrypto loaded on first use, and the primitives of
 * encryption at rest on top of it: AES-256-GCM seal and open,
 * HKDF-SHA256, HMAC-SHA256, SHA-256, base64 (crypt.h has the key
 * hierarchy).
 *
 * A sealed value (what nedb__aead_seal writes; the log's "ct" and the
 * view's values are this, base64 or raw):
 *
 *     offset  size  content
 *     0       12    nonce: random (getrandom(2)), the GCM IV
 *     12      n     ciphertext: AES-256-GCM of the n plaintext bytes
 *     12+n    16    tag: the GCM tag over the associated data (AAD) and
 *                   the ciphertext
 *
 * Nonces are 12 bytes from the kernel's CSPRNG each (nedb__rand), drawn
 * up to NONCE_BATCH at a time into the key object (one system call
 * costs more than sealing a small value does): a nonce is never handed
 * out twice, and a forked child draws afresh (fork_gen) rather than
 * reuse its parent's.
 *
 * The AAD is not stored: the caller gives the same bytes to seal and to
 * open (for a view value, its key), so a sealed value moved to another
 * key fails to open.  Log lines have none: the chain inside them binds
 * each to its place (logcrypt.c).  This is exactly
 * NIST SP 800-38D GCM with a 96-bit IV, and the same bytes as Python's
 * cryptography AESGCM(key).encrypt(nonce, pt, aad) after the nonce:
 * AESGCM(key).decrypt(v[:12], v[12:], aad) opens one.
 *
 * Invariants:
 *  1. C (the table of libcrypto functions) is used only after
 *     nedb__crypt_require returned 0; `loaded` is set, with release
 *     order, only once every slot is resolved and the algorithms are
 *     fetched (jv.c's scheme: loading serialised by a mutex).
 *  2. Nothing here leaves key material behind in memory it frees: keys
 *     copied into objects are wiped on free, intermediate buffers on
 *     every path; libcrypto cleanses its own contexts when freed.
 *  3. A failed open never returns plaintext: out is wiped before
 *     NEDB_EKEY is returned.
 *  4. A nonce is used once: a batch slot is consumed before it is used,
 *     and a batch is never kept across a fork (pthread_atfork bumps
 *     fork_gen in the child; a seal compares it).
 *  5. libcrypto's per-thread error queue is cleared after a failure, so
 *     that it does not grow (nothing reads it: messages are nedb's).
 */
/* SHA256_Init and friends are deprecated in OpenSSL 3 for EVP_Digest,
 * which fetches SHA-256 from a provider: ~3.6M instructions of set-up
 * (provider, name map, method store) that a writer hashing Merkle nodes
 * would pay per process.  The low-level calls run the same assembly
 * (SHA-NI/AVX2 chosen at load) with no set-up beyond the dlopen. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
/*
 * glibc's view of the CPU, filled in before main: __builtin_cpu_supports
 * would link libgcc's constructor, which runs CPUID at every start of
 * every command (each CPUID traps to the hypervisor in a VM: 0.05 ms of
 * a 0.7 ms process start here), whether or not it encrypts anything.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <sys/platform/x86.h>
#endif
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include "internal.h"
#include "crypt.h"

/* Every libcrypto function used, resolved by name from libcrypto.so.3;
 * the prototypes come from OpenSSL's headers (libssl-dev), so a call
 * through the table is type-checked as a direct one would be. */
#define CRYPTO_FUNCS(X) \
	X(OPENSSL_init_crypto) \
	X(ERR_clear_error) \
	X(EVP_CIPHER_fetch) \
	X(EVP_CIPHER_CTX_new) \
	X(EVP_CIPHER_CTX_free) \
	X(EVP_CIPHER_CTX_ctrl) \
	X(EVP_CIPHER_CTX_set_padding) \
	X(EVP_EncryptInit_ex) \
	X(EVP_EncryptUpdate) \
	X(EVP_EncryptFinal_ex) \
	X(EVP_DecryptInit_ex) \
	X(EVP_DecryptUpdate) \
	X(EVP_DecryptFinal_ex) \
	X(EVP_KDF_fetch) \
	X(EVP_KDF_CTX_new) \
	X(EVP_KDF_CTX_set_params) \
	X(EVP_KDF_free) \
	X(EVP_KDF_CTX_free) \
	X(EVP_KDF_derive) \
	X(EVP_MAC_fetch) \
	X(EVP_MAC_CTX_new) \
	X(EVP_MAC_CTX_free) \
	X(EVP_MAC_init) \
	X(EVP_MAC_update) \
	X(EVP_MAC_final) \
	X(SHA256_Init) \
	X(SHA256_Update) \
	X(SHA256_Final) \
	X(EVP_PKEY_new_raw_private_key) \
	X(EVP_PKEY_new_raw_public_key) \
	X(EVP_PKEY_get_raw_public_key) \
	X(EVP_PKEY_free) \
	X(EVP_MD_CTX_new) \
	X(EVP_MD_CTX_free) \
	X(EVP_DigestSignInit) \
	X(EVP_DigestSign) \
	X(EVP_DigestVerifyInit) \
	X(EVP_DigestVerify) \
	X(EVP_CIPHER_get0_provider) \
	X(OSSL_PROVIDER_load) \
	X(OSSL_PROVIDER_get0_provider_ctx) \
	X(OSSL_PROVIDER_query_operation) \
	X(OSSL_PROVIDER_unquery_operation)

static struct {
#define CRYPTO_SLOT(f) __typeof__(&f) f;
	CRYPTO_FUNCS(CRYPTO_SLOT)
#undef CRYPTO_SLOT
	EVP_CIPHER *gcm;		/* AES-256-GCM, fetched once */
	EVP_CIPHER *ecb;		/* AES-256-ECB: view keys' CTR blocks */
	EVP_KDF *hkdf;
	EVP_MAC *hmac;
} C;
static bool loaded;
static unsigned fork_gen;		/* bumped in every forked child */

/*
 * AES-256-GCM and AES-256-ECB by their provider's functions, called
 * directly rather than through EVP_Encrypt* and EVP_CIPHER_CTX_ctrl.
 * OpenSSL 3.0's EVP layer asks the provider for the iv's length on
 * every EVP_*Init_ex (EVP_CIPHER_CTX_get_iv_length: an OSSL_PARAM
 * built and looked up by name through the eight that GCM answers,
 * ~640 instructions) and turns each ctrl into parameters; that was a
 * third of libcrypto's cost of opening a 150-byte view value (~3300
 * instructions), and a seal paid as much.  The functions called are
 * the very ones EVP would call, with the arguments EVP would give
 * (provider-cipher(7)), found in the table of the provider that
 * EVP_CIPHER_fetch would choose (OSSL_PROVIDER_query_operation), so
 * the bytes are the same.  A provider that does not give them all leaves newctx
 * NULL, and the EVP calls are used as before; so does
 * NEDB_TEST_FAIL=provider (tests compare the two).
 */
struct pcipher {
	OSSL_FUNC_cipher_newctx_fn *newctx;
	OSSL_FUNC_cipher_freectx_fn *freectx;
	OSSL_FUNC_cipher_encrypt_init_fn *einit;
	OSSL_FUNC_cipher_decrypt_init_fn *dinit;
	OSSL_FUNC_cipher_update_fn *update;
	OSSL_FUNC_cipher_final_fn *final;
	OSSL_FUNC_cipher_cipher_fn *cipher;
	OSSL_FUNC_cipher_get_ctx_params_fn *get_ctx_params;
	OSSL_FUNC_cipher_set_ctx_params_fn *set_ctx_params;
	void *provctx;
};
static struct pcipher PG, PE;		/* GCM's, ECB's (invariant 1) */

/*
 * HKDF by its provider's functions too, for the same reason and by the
 * same rule (a process where nedb loaded libcrypto itself, the default
 * provider's table): OpenSSL 3.0's first EVP_KDF_fetch builds an
 * EVP_KDF for every KDF the provider has, for the one HKDF an open
 * needs: 345k instructions of an encrypted nedb-get, of which 150k are
 * saved (the rest is first-fetch set-up that the HKDF's own digest
 * fetch now pays; 3.96M -> 3.81M for the get).  EVP_KDF_derive
 * and EVP_KDF_CTX_set_params call exactly these with the same
 * arguments.  Zeroed (then EVP_KDF_fetch is used) elsewhere, or under
 * NEDB_TEST_FAIL=provider.
 */
struct pkdf {
	OSSL_FUNC_kdf_newctx_fn *newctx;
	OSSL_FUNC_kdf_freectx_fn *freectx;
	OSSL_FUNC_kdf_derive_fn *derive;
	OSSL_FUNC_kdf_set_ctx_params_fn *set_ctx_params;
	void *provctx;
};
static struct pkdf PK;

/* Whether name is the first of an algorithm's names ("A:B:C"). */
static bool
first_name(const char *names, const char *name)
{
	size_t n = strlen(name);

	return !strncasecmp(names, name, n) && (!names[n] || names[n] == ':');
}

/* p filled with the functions of prov's cipher name, or zeroed (then
 * EVP is used). */
static void
pcipher_find(struct pcipher *p, const OSSL_PROVIDER *prov, const char *name)
{
	const OSSL_ALGORITHM *algs, *a;
	int no_store = 0;

	memset(p, 0, sizeof *p);
	if (nedb__test_fail("provider") || !prov ||
	    !(algs = C.OSSL_PROVIDER_query_operation(prov, OSSL_OP_CIPHER,
						     &no_store)))
		return;
	for (a = algs; a->algorithm_names; a++) {
		if (!first_name(a->algorithm_names, name))
			continue;
		for (const OSSL_DISPATCH *d = a->implementation;
		     d->function_id; d++)
			switch (d->function_id) {
			case OSSL_FUNC_CIPHER_NEWCTX:
				p->newctx = OSSL_FUNC_cipher_newctx(d);
				break;
			case OSSL_FUNC_CIPHER_FREECTX:
				p->freectx = OSSL_FUNC_cipher_freectx(d);
				break;
			case OSSL_FUNC_CIPHER_ENCRYPT_INIT:
				p->einit = OSSL_FUNC_cipher_encrypt_init(d);
				break;
			case OSSL_FUNC_CIPHER_DECRYPT_INIT:
				p->dinit = OSSL_FUNC_cipher_decrypt_init(d);
				break;
			case OSSL_FUNC_CIPHER_UPDATE:
				p->update = OSSL_FUNC_cipher_update(d);
				break;
			case OSSL_FUNC_CIPHER_FINAL:
				p->final = OSSL_FUNC_cipher_final(d);
				break;
			case OSSL_FUNC_CIPHER_CIPHER:
				p->cipher = OSSL_FUNC_cipher_cipher(d);
				break;
			case OSSL_FUNC_CIPHER_GET_CTX_PARAMS:
				p->get_ctx_params =
					OSSL_FUNC_cipher_get_ctx_params(d);
				break;
			case OSSL_FUNC_CIPHER_SET_CTX_PARAMS:
				p->set_ctx_params =
					OSSL_FUNC_cipher_set_ctx_params(d);
				break;
			}
		break;
	}
	C.OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_CIPHER, algs);
	p->provctx = C.OSSL_PROVIDER_get0_provider_ctx(prov);
	if (!p->newctx || !p->freectx || !p->einit || !p->dinit ||
	    !p->update || !p->final || !p->cipher || !p->get_ctx_params ||
	    !p->set_ctx_params)
		memset(p, 0, sizeof *p);
}

/* k filled with the functions of prov's HKDF, or zeroed. */
static void
pkdf_find(struct pkdf *k, const OSSL_PROVIDER *prov)
{
	const OSSL_ALGORITHM *algs, *a;
	int no_store = 0;

	memset(k, 0, sizeof *k);
	if (nedb__test_fail("provider") || !prov ||
	    !(algs = C.OSSL_PROVIDER_query_operation(prov, OSSL_OP_KDF,
						     &no_store)))
		return;
	for (a = algs; a->algorithm_names; a++) {
		if (!first_name(a->algorithm_names, "HKDF"))
			continue;
		for (const OSSL_DISPATCH *d = a->implementation;
		     d->function_id; d++)
			switch (d->function_id) {
			case OSSL_FUNC_KDF_NEWCTX:
				k->newctx = OSSL_FUNC_kdf_newctx(d);
				break;
			case OSSL_FUNC_KDF_FREECTX:
				k->freectx = OSSL_FUNC_kdf_freectx(d);
				break;
			case OSSL_FUNC_KDF_DERIVE:
				k->derive = OSSL_FUNC_kdf_derive(d);
				break;
			case OSSL_FUNC_KDF_SET_CTX_PARAMS:
				k->set_ctx_params =
					OSSL_FUNC_kdf_set_ctx_params(d);
				break;
			}
		break;
	}
	C.OSSL_PROVIDER_unquery_operation(prov, OSSL_OP_KDF, algs);
	k->provctx = C.OSSL_PROVIDER_get0_provider_ctx(prov);
	if (!k->newctx || !k->freectx || !k->derive || !k->set_ctx_params)
		memset(k, 0, sizeof *k);
}

static void
after_fork_child(void)
{
	__atomic_add_fetch(&fork_gen, 1, __ATOMIC_RELAXED);
}

/*
 * dlopen and resolve the table, nothing more (no provider, no
 * OPENSSL_init_crypto): enough for SHA-256.  Serialised by a mutex;
 * `resolved` is set with release order once every slot is.
 */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;
static bool resolved;
/*
 * RTLD_DEEPBIND: libcrypto's references to its own symbols (it calls
 * most of its functions through its PLT) and to libc's are bound from
 * its own scope first, not after every object of the program's: 1.2M
 * instructions (15%) of an encrypted nedb-get were dlopen's lookups
 * through nedb-get, libnedb and the rest before reaching libcrypto.
 * libcrypto then uses libc's malloc even where the program interposes
 * another; nothing it allocates is freed by nedb, or the other way.
 * ASan refuses such a library (its allocator must interpose everyone's),
 * so a sanitizer build binds as before.
 */
#if defined(__SANITIZE_ADDRESS__)	/* gcc */
#define NEDB_ASAN 1
#elif defined(__has_feature)		/* clang before 18 (the fuzzers) */
#if __has_feature(address_sanitizer)
#define NEDB_ASAN 1
#endif
#endif
#ifdef NEDB_ASAN
#define CRYPTO_DLOPEN (RTLD_NOW | RTLD_LOCAL)
#else
#define CRYPTO_DLOPEN (RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND)
#endif
/* libcrypto was not in the process before nedb loaded it: nothing else
 * here uses it (nedb__crypt_require's legacy name tables). */
static bool ours;

static int
crypt_resolve_locked(const char **why)
{
	void *h;

	if (resolved)
		return 0;
	if (nedb__test_fail("libcrypto")) {
		*why = "cannot open shared object file (test)";
		return -1;
	}
	/* RTLD_LOCAL: its symbols stay out of the global namespace, so a
	 * program that links another OpenSSL is not disturbed. */
	ours = !(h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL |
				       RTLD_NOLOAD));
	if (!h && !(h = dlopen("libcrypto.so.3", CRYPTO_DLOPEN)))
		goto fail_dl;
#define CRYPTO_RESOLVE(f) \
	if (!(*(void **)&C.f = dlsym(h, #f))) goto fail_dl;
	CRYPTO_FUNCS(CRYPTO_RESOLVE)
#undef CRYPTO_RESOLVE
	__atomic_store_n(&resolved, true, __ATOMIC_RELEASE);
	return 0;
fail_dl:
	*why = dlerror();
	return -1;
}

int
nedb__crypt_load(void)
{
	const char *why = NULL;

	if (__atomic_load_n(&resolved, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&load_lock);
	if (crypt_resolve_locked(&why)) {
		pthread_mutex_unlock(&load_lock);
		return nedb__err(NEDB_EIO, "cannot load libcrypto.so.3: %s",
				 why ? why : "?");
	}
	pthread_mutex_unlock(&load_lock);
	return 0;
}

int
nedb__crypt_require(void)
{
	const char *why = NULL;
	OSSL_PROVIDER *prov;
	int rc;

	if (__atomic_load_n(&loaded, __ATOMIC_ACQUIRE))
		return 0;
	if ((rc = nedb__crypt_load()))
		return rc;
	pthread_mutex_lock(&load_lock);
	if (loaded)
		goto done;
	/*
	 * Without the system's openssl.cnf: nedb fetches the default
	 * provider's AES-GCM, HKDF and HMAC by name, which a configuration
	 * file could only add providers to, and reading it is a fifth of
	 * libcrypto's cost at start-up (~0.4 of ~2 ms).  Nor its clean-up
	 * at exit (~1.1M instructions, 9% of an encrypted nedb-get): the
	 * process's end frees everything anyway.  A program that
	 * initialised libcrypto itself keeps its own settings: this call
	 * then does nothing.
	 */
	/*
	 * Nor, when nedb loaded libcrypto itself, the legacy tables of every
	 * cipher and digest by name (OPENSSL_INIT_NO_ADD_ALL_*): OpenSSL 3
	 * copies them all into its name map on the first fetch, 3.2M
	 * instructions (26%) of an encrypted nedb-get, for names (aliases,
	 * OIDs as text) no fetch of nedb's uses: the providers register
	 * "AES-256-GCM", "HKDF", "HMAC", "SHA256", "ED25519" themselves.
	 * Nor its error strings, which the first error-queue operation of a
	 * thread loads (0.9M instructions; HKDF makes one): nedb reads no
	 * libcrypto message.  A process that had libcrypto before (libpq's
	 * libssl, a program using OpenSSL) keeps both, for its
	 * EVP_get_cipherbyname and ERR_error_string.
	 */
	if (C.OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
				  OPENSSL_INIT_NO_ATEXIT |
				  (ours ? OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
					  OPENSSL_INIT_NO_ADD_ALL_DIGESTS |
					  OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS :
					  0), NULL) != 1) {
		why = "OPENSSL_init_crypto failed";
		goto fail;
	}
	/*
	 * The ciphers' provider functions (PG, PE).  When nedb loaded
	 * libcrypto itself, from the default provider's table with no
	 * EVP_CIPHER_fetch at all: OpenSSL 3.0's first fetch of a cipher
	 * builds an EVP_CIPHER for every cipher the provider has, 3.0M
	 * instructions (44%) of an encrypted nedb-get.  That is the
	 * provider the fetch would choose: no configuration was read, so
	 * the default one is the only one.  A process that had libcrypto
	 * before fetches as before (its configuration may name another
	 * provider), and takes the functions of the provider chosen.
	 * EVP_CIPHERs are fetched only for the EVP fallback.  All kept
	 * for the life of the process (as libcrypto itself is).
	 */
	if (ours && (!PG.newctx || !PE.newctx || !PK.newctx) &&
	    (prov = C.OSSL_PROVIDER_load(NULL, "default"))) {
		pcipher_find(&PG, prov, "AES-256-GCM");
		pcipher_find(&PE, prov, "AES-256-ECB");
		pkdf_find(&PK, prov);
	}
	if (!PG.newctx && !C.gcm &&
	    !(C.gcm = C.EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)))
		why = "no AES-256-GCM";
	else if (!PE.newctx && !C.ecb &&
		 !(C.ecb = C.EVP_CIPHER_fetch(NULL, "AES-256-ECB", NULL)))
		why = "no AES-256-ECB";
	else if (!PK.newctx && !C.hkdf &&
		 !(C.hkdf = C.EVP_KDF_fetch(NULL, "HKDF", NULL)))
		why = "no HKDF";
	/* HMAC is fetched by nedb__prf_new, on its first use: an open
	 * uses none of its own (nedb__hmac is HKDF's extract, whose HMAC
	 * libcrypto fetches inside) */
	if (why) {
		C.ERR_clear_error();
		goto fail;
	}
	if (!PG.newctx)
		pcipher_find(&PG, C.EVP_CIPHER_get0_provider(C.gcm),
			     "AES-256-GCM");
	if (!PE.newctx)
		pcipher_find(&PE, C.EVP_CIPHER_get0_provider(C.ecb),
			     "AES-256-ECB");
	if (pthread_atfork(NULL, NULL, after_fork_child)) {
		why = "pthread_atfork failed";
		goto fail;
	}
	__atomic_store_n(&loaded, true, __ATOMIC_RELEASE);
done:
	pthread_mutex_unlock(&load_lock);
	return 0;
fail:
	pthread_mutex_unlock(&load_lock);
	return nedb__err(NEDB_EIO, "cannot load libcrypto.so.3: %s",
			 why ? why : "?");
}

/* --- SHA-256 (Merkle tree hashes, SPEC §9) --- */

int
nedb__sha256_init(nedb_sha256 *h)
{
	int rc;

	if ((rc = nedb__crypt_load()))
		return rc;
	_Static_assert(sizeof(SHA256_CTX) <= sizeof h->opaque,
		       "nedb_sha256 too small for SHA256_CTX");
	C.SHA256_Init((SHA256_CTX *)h->opaque);
	return 0;
}

void
nedb__sha256_update(nedb_sha256 *h, const void *p, size_t n)
{
	C.SHA256_Update((SHA256_CTX *)h->opaque, p, n);
}

void
nedb__sha256_final(nedb_sha256 *h, unsigned char out[NEDB_SHA256_LEN])
{
	C.SHA256_Final(out, (SHA256_CTX *)h->opaque);
}

int
nedb__sha256(unsigned char out[NEDB_SHA256_LEN], const void *p, size_t n)
{
	nedb_sha256 h;
	int rc;

	if ((rc = nedb__sha256_init(&h)))
		return rc;
	nedb__sha256_update(&h, p, n);
	nedb__sha256_final(&h, out);
	return 0;
}

void
nedb__wipe(void *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
}

/* A libcrypto call failed where it should not (not an authentication
 * failure): NEDB_EIO, the queue cleared. */
static int
crypto_fail(const char *what)
{
	C.ERR_clear_error();
	return nedb__err(NEDB_EIO, "libcrypto: %s failed", what);
}

/*
 * Random bytes from the kernel's CSPRNG (getrandom(2)), the source
 * libcrypto's own DRBG is seeded from, rather than RAND_bytes: the first
 * RAND_bytes of a process instantiates that DRBG, whose CTR-DRBG
 * fetches AES-256-CTR and so builds an EVP_CIPHER for every cipher of
 * the provider (3.2M instructions, 43% of an encrypted durable put,
 * for its op's salt).  A plaintext database's salts come from the same
 * place (nedb__rand_pool).
 */
int
nedb__rand(unsigned char *out, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(out + got, n - got, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return nedb__errno(NEDB_EIO, "cannot read random bytes");
		got += (size_t)r;
	}
	return 0;
}

/*
 * Small random values (an op's salt): nedb__rand_pool's per-thread pool,
 * refilled a few hundred bytes to 16 KiB at a time, wiped as handed
 * out, drawn afresh in a forked child.
 */
int
nedb__rand_small(unsigned char *out, size_t n)
{
	return nedb__rand_pool(out, n);
}

/* An HKDF context: the provider's own (PK), else EVP's. */
struct kdf {
	EVP_KDF_CTX *evp;
	void *p;
};

static int
kdf_new(struct kdf *k)
{
	k->evp = NULL;
	k->p = NULL;
	if (PK.newctx ? !(k->p = PK.newctx(PK.provctx)) :
			!(k->evp = C.EVP_KDF_CTX_new(C.hkdf)))
		return crypto_fail("HKDF newctx");
	return 0;
}

/* 1 on success, as EVP_KDF_derive */
static int
kdf_derive(struct kdf *k, unsigned char *out, size_t n, const OSSL_PARAM *p)
{
	return k->p ? PK.derive(k->p, out, n, p) :
		      C.EVP_KDF_derive(k->evp, out, n, p);
}

static int
kdf_set(struct kdf *k, const OSSL_PARAM *p)
{
	return k->p ? PK.set_ctx_params(k->p, p) :
		      C.EVP_KDF_CTX_set_params(k->evp, p);
}

/* cleanses the keys the context copied */
static void
kdf_free(struct kdf *k)
{
	if (k->p)
		PK.freectx(k->p);
	if (k->evp)
		C.EVP_KDF_CTX_free(k->evp);
}

int
nedb__hkdf(unsigned char *out, size_t outlen, const void *ikm,
	   size_t ikmlen, const void *salt, size_t saltlen,
	   const void *info, size_t infolen)
{
	OSSL_PARAM p[5], *q = p;
	struct kdf k;
	int rc;

	if ((rc = nedb__crypt_require()))
		return rc;
	if (outlen == 0 || outlen > 255 * 32)
		return nedb__err(NEDB_EUSAGE, "hkdf: bad output length %zu",
				 outlen);
	/* The OSSL_PARAM_* macros are initialisers, not calls: nothing
	 * more to resolve from libcrypto. */
	*q++ = (OSSL_PARAM)OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST,
						  (char *)"SHA256", 6);
	*q++ = (OSSL_PARAM)OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY,
						   (void *)ikm, ikmlen);
	if (saltlen)
		*q++ = (OSSL_PARAM)OSSL_PARAM_octet_string(
			OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	if (infolen)
		*q++ = (OSSL_PARAM)OSSL_PARAM_octet_string(
			OSSL_KDF_PARAM_INFO, (void *)info, infolen);
	*q = (OSSL_PARAM)OSSL_PARAM_END;
	if ((rc = kdf_new(&k)))
		return rc;
	if (kdf_derive(&k, out, outlen, p) != 1)
		rc = crypto_fail("HKDF");
	kdf_free(&k);
	return rc;
}

/*
 * scrypt (RFC 7914) for nedb-key derive: fetched on its first use only,
 * as no open needs it.
 */
int
nedb__scrypt(unsigned char *out, size_t outlen, const void *pass,
	     size_t passlen, const void *salt, size_t saltlen, uint64_t n,
	     uint32_t r, uint32_t par)
{
	uint64_t maxmem = 128 * r * n + (64u << 20);
	OSSL_PARAM p[] = {
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_PASSWORD, (void *)pass,
					passlen),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
					saltlen),
		OSSL_PARAM_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
		OSSL_PARAM_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
		OSSL_PARAM_uint32(OSSL_KDF_PARAM_SCRYPT_P, &par),
		OSSL_PARAM_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
		OSSL_PARAM_END
	};
	EVP_KDF *kdf;
	EVP_KDF_CTX *k;
	int rc;

	if ((rc = nedb__crypt_require()))
		return rc;
	if (!(kdf = C.EVP_KDF_fetch(NULL, "SCRYPT", NULL)))
		return crypto_fail("no scrypt");
	k = C.EVP_KDF_CTX_new(kdf);
	C.EVP_KDF_free(kdf);
	if (!k)
		return crypto_fail("EVP_KDF_CTX_new");
	if (C.EVP_KDF_derive(k, out, outlen, p) != 1)
		rc = crypto_fail("scrypt");
	C.EVP_KDF_CTX_free(k);
	return rc;
}

/* --- AES-256-GCM --- */

/* One context per direction, each keyed once: a seal or an open then
 * sets only the nonce (an init with a NULL key keeps the key schedule).
 * penc and pdec are the provider's own contexts (PG), enc and dec EVP's
 * when PG is not available: one pair or the other.  Nonces are drawn
 * `batch` at a time, a batch twice the last up to NONCE_BATCH, so that
 * a one-shot command draws few and a bulk load makes one getrandom(2)
 * per NONCE_BATCH seals. */
#define NONCE_BATCH 256
#define NONCE_FIRST 16
struct nedb_aead {
	EVP_CIPHER_CTX *enc, *dec;
	void *penc, *pdec;
	unsigned next;			/* first unused nonce of the batch */
	unsigned batch;			/* nonces in the batch */
	unsigned gen;			/* fork_gen the batch was drawn in */
	unsigned char nonces[NONCE_BATCH][NEDB_AEAD_NONCE];
};

void
nedb__aead_free(nedb_aead *a)
{
	if (!a)
		return;
	/* EVP_CIPHER_CTX_free and the provider's freectx cleanse the key
	 * schedule */
	if (a->enc)
		C.EVP_CIPHER_CTX_free(a->enc);
	if (a->dec)
		C.EVP_CIPHER_CTX_free(a->dec);
	if (a->penc)
		PG.freectx(a->penc);
	if (a->pdec)
		PG.freectx(a->pdec);
	nedb__wipe(a->nonces, sizeof a->nonces);
	free(a);
}

int
nedb__aead_new(nedb_aead **out, const unsigned char key[NEDB_KEY_LEN])
{
	nedb_aead *a;
	int rc;

	*out = NULL;
	if ((rc = nedb__crypt_require()))
		return rc;
	a = nedb__calloc(1, sizeof *a);
	a->next = a->batch = 0;		/* none drawn yet */
	if (PG.newctx) {
		if (!(a->penc = PG.newctx(PG.provctx)) ||
		    !(a->pdec = PG.newctx(PG.provctx))) {
			rc = crypto_fail("AES-256-GCM newctx");
			goto fail;
		}
		if (PG.einit(a->penc, key, NEDB_KEY_LEN, NULL, 0, NULL) != 1 ||
		    PG.dinit(a->pdec, key, NEDB_KEY_LEN, NULL, 0, NULL) != 1) {
			rc = crypto_fail("AES-256-GCM key setup");
			goto fail;
		}
	} else {
		if (!(a->enc = C.EVP_CIPHER_CTX_new()) ||
		    !(a->dec = C.EVP_CIPHER_CTX_new())) {
			rc = crypto_fail("EVP_CIPHER_CTX_new");
			goto fail;
		}
		if (C.EVP_EncryptInit_ex(a->enc, C.gcm, NULL, key, NULL) != 1 ||
		    C.EVP_DecryptInit_ex(a->dec, C.gcm, NULL, key, NULL) != 1) {
			rc = crypto_fail("AES-256-GCM key setup");
			goto fail;
		}
	}
	*out = a;
	return 0;
fail:
	nedb__aead_free(a);
	return rc;
}

/* GCM by the provider's functions: what EVP_EncryptInit_ex, _Update,
 * _Final_ex and the GET_TAG ctrl call, with the same arguments (EVP
 * gives a stream cipher's update an output size of the input's). */
static int
seal_direct(nedb_aead *a, unsigned char *ct, const unsigned char *iv,
	    const void *aad, size_t aadlen, const void *pt, size_t n)
{
	OSSL_PARAM tag[] = {
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, ct + n,
					NEDB_AEAD_TAG),
		OSSL_PARAM_END
	};
	size_t len;

	if (PG.einit(a->penc, NULL, 0, iv, NEDB_AEAD_NONCE, NULL) != 1)
		return crypto_fail("GCM init");
	if (aadlen && PG.update(a->penc, NULL, &len, aadlen, aad,
				aadlen) != 1)
		return crypto_fail("GCM aad");
	if (n && (PG.update(a->penc, ct, &len, n, pt, n) != 1 || len != n))
		return crypto_fail("GCM encrypt");
	if (PG.final(a->penc, ct + n, &len, 0) != 1 ||
	    PG.get_ctx_params(a->penc, tag) != 1)
		return crypto_fail("GCM final");
	return 0;
}

static int
seal_evp(nedb_aead *a, unsigned char *ct, const unsigned char *iv,
	 const void *aad, size_t aadlen, const void *pt, size_t n)
{
	int len;

	if (C.EVP_EncryptInit_ex(a->enc, NULL, NULL, NULL, iv) != 1)
		return crypto_fail("GCM init");
	if (aadlen && C.EVP_EncryptUpdate(a->enc, NULL, &len, aad,
					  (int)aadlen) != 1)
		return crypto_fail("GCM aad");
	if (n && C.EVP_EncryptUpdate(a->enc, ct, &len, pt, (int)n) != 1)
		return crypto_fail("GCM encrypt");
	if (C.EVP_EncryptFinal_ex(a->enc, ct + n, &len) != 1 ||
	    C.EVP_CIPHER_CTX_ctrl(a->enc, EVP_CTRL_GCM_GET_TAG, NEDB_AEAD_TAG,
				  ct + n) != 1)
		return crypto_fail("GCM final");
	return 0;
}

int
nedb__aead_seal_iv(nedb_aead *a, unsigned char *out,
		   const unsigned char iv[NEDB_AEAD_NONCE], const void *aad,
		   size_t aadlen, const void *pt, size_t n)
{
	unsigned char *ct = out + NEDB_AEAD_NONCE;

	if (n > NEDB_AEAD_MAX || aadlen > NEDB_AEAD_MAX)
		return nedb__err(NEDB_EINPUT, "value too large to seal "
				 "(%zu bytes)", n > aadlen ? n : aadlen);
	memmove(out, iv, NEDB_AEAD_NONCE);
	iv = out;			/* iv may have been in out */
	return a->penc ? seal_direct(a, ct, iv, aad, aadlen, pt, n) :
			 seal_evp(a, ct, iv, aad, aadlen, pt, n);
}

int
nedb__aead_seal(nedb_aead *a, unsigned char *out, const void *aad,
		size_t aadlen, const void *pt, size_t n)
{
	unsigned gen = __atomic_load_n(&fork_gen, __ATOMIC_RELAXED);
	int rc;

	if (a->next == a->batch || a->gen != gen) {
		unsigned b = a->batch && a->gen == gen ? 2 * a->batch :
			     NONCE_FIRST;

		if (b > NONCE_BATCH)
			b = NONCE_BATCH;
		if ((rc = nedb__rand(a->nonces[0], b * NEDB_AEAD_NONCE)))
			return rc;
		a->next = 0;
		a->batch = b;
		a->gen = gen;
	}
	/* consumed before use (invariant 4), even if the seal fails */
	return nedb__aead_seal_iv(a, out, a->nonces[a->next++], aad, aadlen,
				  pt, n);
}

/* As seal_direct, for EVP_DecryptInit_ex, _Update, the SET_TAG ctrl
 * and EVP_DecryptFinal_ex: 1 when the tag verifies, 0 when it does
 * not, -1 when a call failed. */
static int
open_direct(nedb_aead *a, unsigned char *out, const unsigned char *iv,
	    const void *aad, size_t aadlen, const unsigned char *ct,
	    size_t ctlen, unsigned char *tag)
{
	OSSL_PARAM p[] = {
		OSSL_PARAM_octet_string(OSSL_CIPHER_PARAM_AEAD_TAG, tag,
					NEDB_AEAD_TAG),
		OSSL_PARAM_END
	};
	size_t len;

	if (PG.dinit(a->pdec, NULL, 0, iv, NEDB_AEAD_NONCE, NULL) != 1 ||
	    (aadlen && PG.update(a->pdec, NULL, &len, aadlen, aad,
				 aadlen) != 1) ||
	    (ctlen && (PG.update(a->pdec, out, &len, ctlen, ct, ctlen) != 1 ||
		       len != ctlen)) ||
	    PG.set_ctx_params(a->pdec, p) != 1)
		return -1;
	return PG.final(a->pdec, out + ctlen, &len, 0) == 1;
}

static int
open_evp(nedb_aead *a, unsigned char *out, const unsigned char *iv,
	 const void *aad, size_t aadlen, const unsigned char *ct,
	 size_t ctlen, unsigned char *tag)
{
	int len;

	if (C.EVP_DecryptInit_ex(a->dec, NULL, NULL, NULL, iv) != 1 ||
	    (aadlen && C.EVP_DecryptUpdate(a->dec, NULL, &len, aad,
					   (int)aadlen) != 1) ||
	    (ctlen && C.EVP_DecryptUpdate(a->dec, out, &len, ct,
					  (int)ctlen) != 1) ||
	    C.EVP_CIPHER_CTX_ctrl(a->dec, EVP_CTRL_GCM_SET_TAG, NEDB_AEAD_TAG,
				  tag) != 1)
		return -1;
	return C.EVP_DecryptFinal_ex(a->dec, out + ctlen, &len) == 1;
}

int
nedb__aead_open(nedb_aead *a, unsigned char *out, const void *aad,
		size_t aadlen, const void *in, size_t n)
{
	const unsigned char *iv = in, *ct = iv + NEDB_AEAD_NONCE;
	unsigned char tag[NEDB_AEAD_TAG];
	size_t ctlen;
	int ok;

	if (n < NEDB_AEAD_OVERHEAD)
		return nedb__err(NEDB_ECORRUPT, "sealed value too short "
				 "(%zu bytes, at least %d)", n,
				 NEDB_AEAD_OVERHEAD);
	ctlen = n - NEDB_AEAD_OVERHEAD;
	if (ctlen > NEDB_AEAD_MAX || aadlen > NEDB_AEAD_MAX)
		return nedb__err(NEDB_EINPUT, "value too large to open "
				 "(%zu bytes)", n);
	memcpy(tag, ct + ctlen, sizeof tag);	/* ctrl takes a non-const */
	ok = a->pdec ? open_direct(a, out, iv, aad, aadlen, ct, ctlen, tag) :
		       open_evp(a, out, iv, aad, aadlen, ct, ctlen, tag);
	if (ok < 0) {
		nedb__wipe(out, ctlen);
		return crypto_fail("GCM open");
	}
	if (!ok) {
		C.ERR_clear_error();
		nedb__wipe(out, ctlen);
		return nedb__err(NEDB_EKEY, "authentication failed: wrong key "
				 "or damaged data");
	}
	return 0;
}

/* --- AES-256 on whole blocks (ECB), for the view's keys --- */

/*
 * The view encrypts its keys in CTR mode (lib/view/kv.c) and does the
 * counter itself: one EVP_EncryptUpdate over the counter blocks with a
 * context keyed once costs ~30 ns for two blocks, where re-initialising
 * a CTR context per key costs ~165 ns (measured on the build box).  The
 * comparators of an encrypted view call this a dozen times per lookup,
 * one to three blocks each, so EVP's per-call overhead is most of the
 * cost; the block function stays libcrypto's all the same (SPEC §2: no
 * hand-written cipher), and the view keeps the calls few instead
 * (kv.c's caches).
 */
struct nedb_ecb {
	EVP_CIPHER_CTX *x;		/* keyed once, when PE is not there */
	void *p;			/* the provider's, keyed once (PE) */
};


void
nedb__ecb_free(nedb_ecb *e)
{
	if (!e)
		return;
	if (e->x)
		C.EVP_CIPHER_CTX_free(e->x);
	if (e->p)
		PE.freectx(e->p);	/* cleanses the key schedule */
	nedb__wipe(e, sizeof *e);
	free(e);
}

/* By the provider's one-shot cipher function (what EVP_Cipher calls:
 * whole blocks in, as many out, none of EVP_EncryptUpdate's buffering
 * of a partial block), else EVP_EncryptUpdate. */
static int
ecb_blocks(nedb_ecb *e, unsigned char *out, const unsigned char *in, size_t n)
{
	size_t plen;
	int len;

	if (e->p) {
		if (PE.cipher(e->p, out, &plen, n, in, n) != 1 || plen != n)
			return crypto_fail("AES-256-ECB");
		return 0;
	}
	if (C.EVP_EncryptUpdate(e->x, out, &len, in, (int)n) != 1 ||
	    (size_t)len != n)
		return crypto_fail("AES-256-ECB");
	return 0;
}

int
nedb__ecb_new(nedb_ecb **out, const unsigned char key[NEDB_KEY_LEN])
{
	nedb_ecb *e;
	int rc;

	*out = NULL;
	if ((rc = nedb__crypt_require()))
		return rc;
	e = nedb__calloc(1, sizeof *e);
	if (PE.newctx) {
		unsigned zero = 0;
		OSSL_PARAM pad[] = {
			OSSL_PARAM_uint(OSSL_CIPHER_PARAM_PADDING, &zero),
			OSSL_PARAM_END
		};

		if (!(e->p = PE.newctx(PE.provctx))) {
			free(e);
			return crypto_fail("AES-256-ECB newctx");
		}
		if (PE.einit(e->p, key, NEDB_KEY_LEN, NULL, 0, pad) != 1) {
			nedb__ecb_free(e);
			return crypto_fail("AES-256-ECB key setup");
		}
		*out = e;
		return 0;
	}
	if (!(e->x = C.EVP_CIPHER_CTX_new())) {
		free(e);
		return crypto_fail("EVP_CIPHER_CTX_new");
	}
	if (C.EVP_EncryptInit_ex(e->x, C.ecb, NULL, key, NULL) != 1 ||
	    C.EVP_CIPHER_CTX_set_padding(e->x, 0) != 1) {
		nedb__ecb_free(e);
		return crypto_fail("AES-256-ECB key setup");
	}
	*out = e;
	return 0;
}

int
nedb__ecb(nedb_ecb *e, unsigned char *out, const unsigned char *in, size_t n)
{
	if (n % 16 || n > INT32_MAX)
		return nedb__err(NEDB_EUSAGE, "ecb: %zu bytes is not whole "
				 "blocks", n);
	return ecb_blocks(e, out, in, n);
}

/* --- HMAC-SHA256 --- */

struct nedb_prf {
	EVP_MAC_CTX *ctx;		/* keyed once; re-initialised per use */
};

void
nedb__prf_free(nedb_prf *p)
{
	if (!p)
		return;
	if (p->ctx)
		C.EVP_MAC_CTX_free(p->ctx);	/* cleanses the key */
	free(p);
}

int
nedb__prf_new(nedb_prf **out, const void *key, size_t keylen)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256",
				       6),
		OSSL_PARAM_END
	};
	nedb_prf *p;
	int rc;

	*out = NULL;
	if ((rc = nedb__crypt_require()))
		return rc;
	/* fetched on first use (nedb__crypt_require says why) */
	pthread_mutex_lock(&load_lock);
	if (!C.hmac && !(C.hmac = C.EVP_MAC_fetch(NULL, "HMAC", NULL))) {
		pthread_mutex_unlock(&load_lock);
		return crypto_fail("no HMAC");
	}
	pthread_mutex_unlock(&load_lock);
	p = nedb__calloc(1, sizeof *p);
	if (!(p->ctx = C.EVP_MAC_CTX_new(C.hmac))) {
		rc = crypto_fail("EVP_MAC_CTX_new");
		goto fail;
	}
	/* HMAC takes an empty key, which libcrypto wants as non-NULL */
	if (C.EVP_MAC_init(p->ctx, keylen ? key : (const void *)"", keylen,
			   params) != 1) {
		rc = crypto_fail("HMAC key setup");
		goto fail;
	}
	*out = p;
	return 0;
fail:
	nedb__prf_free(p);
	return rc;
}

int
nedb__prf(nedb_prf *p, unsigned char out[NEDB_PRF_LEN], const void *msg,
	  size_t n)
{
	size_t len;

	/* A NULL key re-initialises with the key already set. */
	if (C.EVP_MAC_init(p->ctx, NULL, 0, NULL) != 1 ||
	    (n && C.EVP_MAC_update(p->ctx, msg, n) != 1) ||
	    C.EVP_MAC_final(p->ctx, out, &len, NEDB_PRF_LEN) != 1 ||
	    len != NEDB_PRF_LEN)
		return crypto_fail("HMAC");
	return 0;
}

/*
 * One HMAC-SHA256 is HKDF's extract (RFC 5869 §2.2: PRK =
 * HMAC-Hash(salt, IKM)) with the key as salt and the message as input
 * key material: libcrypto's HMAC either way, by the HKDF context an
 * open makes anyway, so that an open (one HMAC, the key id's) needs no
 * EVP_MAC of its own.  An empty key is HKDF's default salt (HMAC pads
 * a key with zeros); an empty message, which HKDF refuses as a missing
 * key, goes by nedb__prf.
 */
int
nedb__hmac(unsigned char out[NEDB_PRF_LEN], const void *key, size_t keylen,
	   const void *msg, size_t n)
{
	int mode = EVP_KDF_HKDF_MODE_EXTRACT_ONLY;
	OSSL_PARAM prm[5], *q = prm;
	struct kdf k;
	nedb_prf *p;
	int rc;

	if ((rc = nedb__crypt_require()))
		return rc;
	if (n) {
		*q++ = (OSSL_PARAM)OSSL_PARAM_utf8_string(
			OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 6);
		*q++ = (OSSL_PARAM)OSSL_PARAM_int(OSSL_KDF_PARAM_MODE, &mode);
		*q++ = (OSSL_PARAM)OSSL_PARAM_octet_string(
			OSSL_KDF_PARAM_KEY, (void *)msg, n);
		if (keylen)
			*q++ = (OSSL_PARAM)OSSL_PARAM_octet_string(
				OSSL_KDF_PARAM_SALT, (void *)key, keylen);
		*q = (OSSL_PARAM)OSSL_PARAM_END;
		if ((rc = kdf_new(&k)))
			return rc;
		if (kdf_derive(&k, out, NEDB_PRF_LEN, prm) != 1)
			rc = crypto_fail("HMAC");
		kdf_free(&k);
		return rc;
	}
	if ((rc = nedb__prf_new(&p, key, keylen)))
		return rc;
	rc = nedb__prf(p, out, msg, n);
	nedb__prf_free(p);
	return rc;
}

/* --- the DEK's sub-keys --- */

int
nedb__crypt_subkey(unsigned char out[NEDB_KEY_LEN],
		   const unsigned char dek[NEDB_KEY_LEN], const char *label)
{
	static const char salt[] = "nedb dek v1";

	return nedb__hkdf(out, NEDB_KEY_LEN, dek, NEDB_KEY_LEN, salt,
			  sizeof salt - 1, label, strlen(label));
}

void
nedb__crypt_keys_free(struct nedb_crypt *c)
{
	nedb__aead_free(c->log);
	nedb__wipe(c, sizeof *c);
}

/*
 * Every sub-key of dek: HKDF's extract once (the pseudo-random key of
 * dek and the salt), then its expand per label, by one context (RFC
 * 5869 §2: the same bytes as nedb__crypt_subkey's extract-and-expand
 * per label).  A context per sub-key cost 36k instructions each (the
 * extract's HMAC and digest fetched by name every time), a fifth of an
 * encrypted nedb-get's own work; an expand alone costs a few thousand.
 */
static int
subkeys(const unsigned char dek[NEDB_KEY_LEN], const char *const *labels,
	unsigned char *const *outs, size_t n)
{
	static const char salt[] = "nedb dek v1";
	unsigned char prk[NEDB_KEY_LEN];	/* SHA-256's size */
	int extract = EVP_KDF_HKDF_MODE_EXTRACT_ONLY,
	    expand = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM p[] = {
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256",
				       6),
		OSSL_PARAM_int(OSSL_KDF_PARAM_MODE, &extract),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, (void *)dek,
					NEDB_KEY_LEN),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt,
					sizeof salt - 1),
		OSSL_PARAM_END
	}, q[] = {
		OSSL_PARAM_int(OSSL_KDF_PARAM_MODE, &expand),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, prk, sizeof prk),
		OSSL_PARAM_END
	};
	struct kdf k;
	int rc;

	if ((rc = nedb__crypt_require()) || (rc = kdf_new(&k)))
		return rc;
	if (kdf_derive(&k, prk, sizeof prk, p) != 1 || kdf_set(&k, q) != 1)
		rc = crypto_fail("HKDF");
	for (size_t i = 0; !rc && i < n; i++) {
		OSSL_PARAM info[] = {
			OSSL_PARAM_octet_string(OSSL_KDF_PARAM_INFO,
						(void *)labels[i],
						strlen(labels[i])),
			OSSL_PARAM_END
		};

		if (kdf_derive(&k, outs[i], NEDB_KEY_LEN, info) != 1)
			rc = crypto_fail("HKDF");
	}
	kdf_free(&k);
	nedb__wipe(prk, sizeof prk);
	return rc;
}

int
nedb__crypt_keys(struct nedb_crypt *c, const unsigned char dek[NEDB_KEY_LEN])
{
	const char *const labels[] = {
		NEDB_LABEL_LOG, NEDB_LABEL_VIEW, NEDB_LABEL_VKCTR,
		NEDB_LABEL_VKIV, NEDB_LABEL_FADDR, NEDB_LABEL_FSEAL
	};
	unsigned char *const outs[] = {
		c->log_key, c->view_val, c->view_ctr, c->view_iv,
		c->file_addr, c->file_seal
	};
	int rc;

	memset(c, 0, sizeof *c);
	if ((rc = subkeys(dek, labels, outs, sizeof outs / sizeof *outs)) ||
	    (rc = nedb__aead_new(&c->log, c->log_key)))
		nedb__crypt_keys_free(c);
	return rc;
}

/*
 * Base64 (RFC 4648 §4, with padding, no line breaks): the encoding of a
 * log line's "ct".  Table-driven here rather than libcrypto's
 * EVP_EncodeBlock / EVP_DecodeBlock: those took 34 instructions a byte
 * with the checks they lack (white space, padding, trailing bits), 42%
 * of an encrypted nedb-verify, where a table takes a few; and a codec
 * needs no libcrypto.  Decoding is strict: every character from the
 * alphabet, '=' only as the last one or two, and the bits a final
 * group does not use zero, so exactly one text decodes to given bytes
 * (a changed character can never decode to the same ciphertext).
 */
static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The two characters of every 12 bits: half the lookups per 3 bytes. */
static char b64_pairs[4096][2];
static pthread_once_t b64_pairs_once = PTHREAD_ONCE_INIT;
static bool b64_ssse3;

static void
b64_pairs_init(void)
{
	for (int i = 0; i < 4096; i++) {
		b64_pairs[i][0] = b64_alphabet[i >> 6];
		b64_pairs[i][1] = b64_alphabet[i & 63];
	}
#if defined(__x86_64__) && defined(__GNUC__)
	b64_ssse3 = CPU_FEATURE_ACTIVE(SSSE3) && !nedb__test_fail("b64-simd");
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/*
 * 12 bytes to 16 characters per step with SSSE3 (W. Mula and D. Lemire,
 * "Faster Base64 Encoding and Decoding Using AVX2 Instructions", 2018:
 * the reshuffle by two multiplies, the alphabet by one pshufb): 1.6
 * instructions a byte where the 12-bit pairs take 4.7, and an encrypted
 * bulk put encodes every log line it writes (4% of its instructions).
 * Reads 16 bytes for each 12 it encodes, so only while 16 are there;
 * returns how many it encoded (a multiple of 12), the rest to the
 * scalar loop.  x86-64 only, chosen at run time (b64_ssse3).
 */
__attribute__((target("ssse3"))) static size_t
b64_encode_ssse3(char *out, const unsigned char *in, size_t n)
{
	const __m128i shuf = _mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3,
					  4, 1, 2, 0, 1);
	const __m128i lut = _mm_setr_epi8('a' - 26, '0' - 52, '0' - 52,
					  '0' - 52, '0' - 52, '0' - 52,
					  '0' - 52, '0' - 52, '0' - 52,
					  '0' - 52, '0' - 52, '+' - 62,
					  '/' - 63, 'A', 0, 0);
	size_t i = 0;

	for (; i + 16 <= n; i += 12) {
		__m128i v = _mm_loadu_si128((const __m128i *)(in + i));
		__m128i t0, t1, t2, t3, x, r, lt;

		/* each 3 bytes into a 32-bit lane, then its 4 sextets
		 * each into a byte of the lane */
		v = _mm_shuffle_epi8(v, shuf);
		t0 = _mm_and_si128(v, _mm_set1_epi32(0x0fc0fc00));
		t1 = _mm_mulhi_epu16(t0, _mm_set1_epi32(0x04000040));
		t2 = _mm_and_si128(v, _mm_set1_epi32(0x003f03f0));
		t3 = _mm_mullo_epi16(t2, _mm_set1_epi32(0x01000010));
		x = _mm_or_si128(t1, t3);
		/* sextet to character: the offset of its range (A-Z,
		 * a-z, 0-9, '+', '/') by a lookup on a range index */
		r = _mm_subs_epu8(x, _mm_set1_epi8(51));
		lt = _mm_cmpgt_epi8(_mm_set1_epi8(26), x);
		r = _mm_or_si128(r, _mm_and_si128(lt, _mm_set1_epi8(13)));
		r = _mm_add_epi8(_mm_shuffle_epi8(lut, r), x);
		_mm_storeu_si128((__m128i *)(out + i / 3 * 4), r);
	}
	return i;
}
#endif

/* The be64 number at p (its first 6 bytes are a group of 8 characters). */
static inline uint64_t
be64_at(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

int
nedb__b64_encode(char *out, const void *in, size_t n, size_t *outlen)
{
	const unsigned char *p = in;
	char *o = out;
	size_t i = 0;

	pthread_once(&b64_pairs_once, b64_pairs_init);
#if defined(__x86_64__) && defined(__GNUC__)
	if (b64_ssse3) {
		i = b64_encode_ssse3(out, p, n);
		o += i / 3 * 4;
	}
#endif
	/* 6 bytes (8 characters) per step by one 8-byte load while 8 are
	 * there: 3 instructions a byte where 3 at a time took 9 */
	for (; i + 8 <= n; i += 6) {
		uint64_t v = be64_at(p + i);

		memcpy(o, b64_pairs[v >> 52], 2);
		memcpy(o + 2, b64_pairs[v >> 40 & 4095], 2);
		memcpy(o + 4, b64_pairs[v >> 28 & 4095], 2);
		memcpy(o + 6, b64_pairs[v >> 16 & 4095], 2);
		o += 8;
	}
	for (; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
			     p[i + 2];

		memcpy(o, b64_pairs[v >> 12], 2);
		memcpy(o + 2, b64_pairs[v & 4095], 2);
		o += 4;
	}
	if (n - i) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (n - i == 2)
			v |= (uint32_t)p[i + 1] << 8;
		o[0] = b64_alphabet[v >> 18];
		o[1] = b64_alphabet[v >> 12 & 63];
		o[2] = n - i == 2 ? b64_alphabet[v >> 6 & 63] : '=';
		o[3] = '=';
		o += 4;
	}
	*o = 0;
	*outlen = (size_t)(o - out);
	return 0;
}

/*
 * Decoding by four tables, one per place in a group of four characters:
 * each gives its character's 6 bits already shifted to that place, or
 * B64_BAD for a byte outside the alphabet, so a group is four lookups
 * and three ORs, and a line's validity one test after its last group.
 * (A table of values and shifts per group took 16 instructions a
 * character, 37% of an encrypted nedb-verify.)
 */
#define B64_BAD 0x01000000u
static uint32_t b64_dec[4][256];
static pthread_once_t b64_once = PTHREAD_ONCE_INIT;

static void
b64_table(void)
{
	for (int k = 0; k < 4; k++)
		for (int c = 0; c < 256; c++)
			b64_dec[k][c] = B64_BAD;
	for (int i = 0; i < 64; i++) {
		unsigned char c = (unsigned char)b64_alphabet[i];

		for (int k = 0; k < 4; k++)
			b64_dec[k][c] = (uint32_t)i << (18 - 6 * k);
	}
}

int
nedb__b64_decode(unsigned char *out, const char *in, size_t n,
		 size_t *outlen)
{
	const unsigned char *s = (const unsigned char *)in;
	const uint32_t *d0 = b64_dec[0], *d1 = b64_dec[1], *d2 = b64_dec[2],
		       *d3 = b64_dec[3];
	unsigned char *o = out;
	size_t pad = 0, full, i;
	uint32_t bad = 0, x;

	pthread_once(&b64_once, b64_table);
	if (n % 4)
		return NEDB_ECORRUPT;
	if (n && s[n - 1] == '=')
		pad = s[n - 2] == '=' ? 2 : 1;
	full = n - (pad ? 4 : 0);
	for (i = 0; i < full; i += 4) {
		x = d0[s[i]] | d1[s[i + 1]] | d2[s[i + 2]] | d3[s[i + 3]];
		bad |= x;
		o[0] = (unsigned char)(x >> 16);
		o[1] = (unsigned char)(x >> 8);
		o[2] = (unsigned char)x;
		o += 3;
	}
	if (pad) {
		/* '=' is outside the alphabet: a padded place counts 0 */
		x = d0[s[i]] | d1[s[i + 1]] | (pad == 1 ? d2[s[i + 2]] : 0);
		bad |= x;
		/* the unused low bits of the last character must be zero */
		if (pad == 2 ? x & 0xffff : x & 0xff)
			return NEDB_ECORRUPT;
		*o++ = (unsigned char)(x >> 16);
		if (pad == 1)
			*o++ = (unsigned char)(x >> 8);
	}
	if (bad & B64_BAD)
		return NEDB_ECORRUPT;
	*outlen = (size_t)(o - out);
	return 0;
}

/*
 * --- Ed25519 (RFC 8032), the signatures of signed notes (SPEC §9) ---
 *
 * Keys are held as raw bytes (the 32-byte seed, the 32-byte public key),
 * as sumdb/note keeps them; an EVP_PKEY is made for each call and freed
 * at once, so no key object outlives a call.  Pure Ed25519: no digest,
 * the message signed whole (EVP_DigestSign with a NULL md).
 */

int
nedb__ed25519_public(unsigned char pub[NEDB_ED25519_LEN],
		     const unsigned char seed[NEDB_ED25519_LEN])
{
	EVP_PKEY *k;
	size_t n = NEDB_ED25519_LEN;
	int rc;

	if ((rc = nedb__crypt_require()))
		return rc;
	if (!(k = C.EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
						  NEDB_ED25519_LEN)))
		return crypto_fail("EVP_PKEY_new_raw_private_key");
	rc = C.EVP_PKEY_get_raw_public_key(k, pub, &n) == 1 &&
	     n == NEDB_ED25519_LEN ? 0 :
	     crypto_fail("EVP_PKEY_get_raw_public_key");
	C.EVP_PKEY_free(k);
	return rc;
}

int
nedb__ed25519_sign(unsigned char sig[NEDB_ED25519_SIG],
		   const unsigned char seed[NEDB_ED25519_LEN],
		   const void *msg, size_t n)
{
	EVP_PKEY *k;
	EVP_MD_CTX *ctx = NULL;
	size_t siglen = NEDB_ED25519_SIG;
	int rc;

	if ((rc = nedb__crypt_require()))
		return rc;
	if (!(k = C.EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed,
						  NEDB_ED25519_LEN)))
		return crypto_fail("EVP_PKEY_new_raw_private_key");
	if (!(ctx = C.EVP_MD_CTX_new()) ||
	    C.EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) != 1 ||
	    C.EVP_DigestSign(ctx, sig, &siglen, msg, n) != 1 ||
	    siglen != NEDB_ED25519_SIG)
		rc = crypto_fail("EVP_DigestSign");
	C.EVP_MD_CTX_free(ctx);
	C.EVP_PKEY_free(k);
	return rc;
}

int
nedb__ed25519_verify(const unsigned char pub[NEDB_ED25519_LEN],
		     const void *msg, size_t n,
		     const unsigned char sig[NEDB_ED25519_SIG])
{
	EVP_PKEY *k;
	EVP_MD_CTX *ctx = NULL;
	int rc, v;

	if ((rc = nedb__crypt_require()))
		return rc;
	/* A point that is not on the curve is refused here or by the
	 * verification: either way the signature does not verify. */
	if (!(k = C.EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
						 NEDB_ED25519_LEN))) {
		C.ERR_clear_error();
		return NEDB_EBROKEN;
	}
	if (!(ctx = C.EVP_MD_CTX_new()) ||
	    C.EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) != 1) {
		rc = crypto_fail("EVP_DigestVerifyInit");
	} else {
		v = C.EVP_DigestVerify(ctx, sig, NEDB_ED25519_SIG, msg, n);
		if (v != 1) {
			C.ERR_clear_error();
			rc = NEDB_EBROKEN;
		}
	}
	C.EVP_MD_CTX_free(ctx);
	C.EVP_PKEY_free(k);
	return rc;
}
