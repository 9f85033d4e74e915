/*
 * floor.c - the physical floors beside make bench's figures: what the
 * machine itself costs for the work a figure cannot avoid, measured by a
 * program that does that work and nothing else.
 *
 *     floor fsync FILE      append one 200-byte line to FILE and
 *                           fdatasync it once (a durable put's floor:
 *                           process start-up and one fdatasync)
 *     floor b2 THREADS FILE BLAKE2b-256 (libb2) of every line of FILE,
 *                           the lines split into THREADS contiguous
 *                           parts hashed at once (verify's floor: it
 *                           must hash each line separately), with
 *                           libb2's portable build, as nedb (b2.h)
 *     floor b2-dispatch THREADS FILE
 *                           the same with the build libb2 picks at run
 *                           time (blake2b() itself)
 *     floor pages N FILE    the cost of reading a page of FILE for
 *                           the first time in a process, two ways: N
 *                           random 4 KiB pages touched through a map
 *                           of it (as LMDB reads its file), and N
 *                           others read with pread (as sqlite3 does);
 *                           prints the microseconds per page of each
 *     floor jv FILE         parse every line of FILE with libjq's
 *                           jv_parse_sized (the parser nedb validates
 *                           with), one core
 *     floor aead            what opening an encrypted database and
 *                           reading one value cannot avoid: dlopen
 *                           libcrypto.so.3 and initialise it as
 *                           lib/crypt/aead.c does, fetch AES-256-GCM,
 *                           HKDF and HMAC, derive one key with HKDF
 *                           (the master key's wrapping key) and one
 *                           HMAC (its key id), and open one sealed
 *                           100-byte value (an encrypted point get's
 *                           floor, with start-up)
 *
 * Built by tests/bench/run, never installed; `floor aead` by itself, as
 * floor-aead (cc -DFLOOR_AEAD ... -ldl), so that no other library
 * (libjq, libb2) is in its process: each would make dlopen's symbol
 * lookups longer, and the start-up longer, than nedb-get's.  The
 * empty program beside it (process start-up alone) is a main that
 * returns 0.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifndef FLOOR_AEAD
#include "b2.h"
#include <jv.h>
#endif
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#ifndef FLOOR_AEAD
static const char *text;
static size_t size;

static void
map(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		perror(path);
		exit(1);
	}
	size = (size_t)st.st_size;
	text = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
			   fd, 0) : "";
	if (text == MAP_FAILED) {
		perror(path);
		exit(1);
	}
	close(fd);
}

struct part {
	size_t from, to;
	unsigned char sum[32];	/* kept, so the work is not optimised away */
};

/* libb2's own blake2b(), which dispatches (b2.h renames the name) */
int blake2b_dispatch(uint8_t *out, const void *in, const void *key,
		     size_t outlen, size_t inlen, size_t keylen)
	__asm__("blake2b");
static int (*hash_fn)(uint8_t *, const void *, const void *, size_t, size_t,
		      size_t) = blake2b;

static void *
hash_part(void *arg)
{
	struct part *p = arg;
	unsigned char h[32];
	size_t i = p->from;

	memset(p->sum, 0, sizeof p->sum);
	while (i < p->to) {
		const char *nl = memchr(text + i, '\n', p->to - i);
		size_t end = nl ? (size_t)(nl - text) : p->to;

		hash_fn(h, text + i, NULL, 32, end - i, 0);
		for (int k = 0; k < 32; k++)
			p->sum[k] ^= h[k];
		i = end + 1;
	}
	return NULL;
}

/* The next line's start at or after i. */
static size_t
line_start(size_t i)
{
	if (i == 0 || i >= size)
		return i >= size ? size : 0;
	const char *nl = memchr(text + i - 1, '\n', size - i + 1);

	return nl ? (size_t)(nl - text) + 1 : size;
}

static int
b2(int threads, const char *path)
{
	struct part parts[64];
	pthread_t th[64];
	unsigned x = 0;

	if (threads < 1 || threads > 64)
		threads = 1;
	map(path);
	for (int t = 0; t < threads; t++) {
		parts[t].from = line_start(size / threads * t);
		parts[t].to = t == threads - 1 ? size :
			      line_start(size / threads * (t + 1));
	}
	for (int t = 1; t < threads; t++)
		pthread_create(&th[t], NULL, hash_part, &parts[t]);
	hash_part(&parts[0]);
	for (int t = 1; t < threads; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < threads; t++)
		x ^= parts[t].sum[0];
	return x == 256;	/* never: 0 */
}

static int
parse(const char *path)
{
	size_t i = 0, bad = 0;

	map(path);
	while (i < size) {
		const char *nl = memchr(text + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - text) : size;
		jv v = jv_parse_sized(text + i, (int)(end - i));

		bad += !jv_is_valid(v);
		jv_free(v);
		i = end + 1;
	}
	if (bad)
		fprintf(stderr, "floor: %zu lines are not JSON\n", bad);
	return bad != 0;
}

static int
fsync1(const char *path)
{
	char line[200];
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	if (fd < 0 || write(fd, line, sizeof line) != sizeof line ||
	    fdatasync(fd)) {
		perror(path);
		return 1;
	}
	return close(fd) != 0;
}

#endif

/* libcrypto's functions, resolved by name as lib/crypt/aead.c does */
#define AEAD_FUNCS(X) \
	X(OPENSSL_init_crypto) X(EVP_CIPHER_fetch) X(EVP_KDF_fetch) \
	X(EVP_MAC_fetch) X(EVP_KDF_CTX_new) X(EVP_KDF_derive) \
	X(EVP_MAC_CTX_new) X(EVP_MAC_init) X(EVP_MAC_update) \
	X(EVP_MAC_final) X(EVP_CIPHER_CTX_new) X(EVP_EncryptInit_ex) \
	X(EVP_EncryptUpdate) X(EVP_EncryptFinal_ex) X(EVP_DecryptInit_ex) \
	X(EVP_DecryptUpdate) X(EVP_DecryptFinal_ex) X(EVP_CIPHER_CTX_ctrl)

static int
aead(void)
{
	static struct {
#define AEAD_SLOT(f) __typeof__(&f) f;
		AEAD_FUNCS(AEAD_SLOT)
#undef AEAD_SLOT
	} c;
	unsigned char key[32] = { 1 }, iv[12] = { 2 }, pt[100] = { 3 };
	unsigned char ct[100], tag[16], back[100], out[32];
	OSSL_PARAM kp[] = {
		OSSL_PARAM_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 6),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_KEY, key, 32),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_SALT, "salt", 4),
		OSSL_PARAM_octet_string(OSSL_KDF_PARAM_INFO, "info", 4),
		OSSL_PARAM_END
	}, mp[] = {
		OSSL_PARAM_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA256", 6),
		OSSL_PARAM_END
	};
	EVP_CIPHER *gcm;
	EVP_CIPHER_CTX *e, *d;
	EVP_KDF *kdf;
	EVP_MAC *hmac;
	EVP_MAC_CTX *m;
	size_t ml;
	int len;
	void *h = dlopen("libcrypto.so.3", RTLD_NOW | RTLD_LOCAL |
			 RTLD_DEEPBIND);

	if (!h) {
		fprintf(stderr, "floor: %s\n", dlerror());
		return 1;
	}
#define AEAD_RESOLVE(f) \
	if (!(*(void **)&c.f = dlsym(h, #f))) return 1;
	AEAD_FUNCS(AEAD_RESOLVE)
#undef AEAD_RESOLVE
	c.OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG |
			      OPENSSL_INIT_NO_ATEXIT |
			      OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
			      OPENSSL_INIT_NO_ADD_ALL_DIGESTS |
			      OPENSSL_INIT_NO_LOAD_CRYPTO_STRINGS, NULL);
	if (!(gcm = c.EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL)) ||
	    !(kdf = c.EVP_KDF_fetch(NULL, "HKDF", NULL)) ||
	    !(hmac = c.EVP_MAC_fetch(NULL, "HMAC", NULL)))
		return 1;
	/* the wrapping key and the key id */
	if (c.EVP_KDF_derive(c.EVP_KDF_CTX_new(kdf), out, 32, kp) != 1 ||
	    !(m = c.EVP_MAC_CTX_new(hmac)) ||
	    c.EVP_MAC_init(m, out, 32, mp) != 1 ||
	    c.EVP_MAC_update(m, pt, 14) != 1 ||
	    c.EVP_MAC_final(m, out, &ml, 32) != 1)
		return 1;
	/* a value sealed (here, with a fixed nonce: not timed apart from
	 * the open, which is what a reader does) and opened */
	e = c.EVP_CIPHER_CTX_new();
	d = c.EVP_CIPHER_CTX_new();
	if (!e || !d || c.EVP_EncryptInit_ex(e, gcm, NULL, key, iv) != 1 ||
	    c.EVP_EncryptUpdate(e, ct, &len, pt, 100) != 1 ||
	    c.EVP_EncryptFinal_ex(e, ct + 100, &len) != 1 ||
	    c.EVP_CIPHER_CTX_ctrl(e, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1 ||
	    c.EVP_DecryptInit_ex(d, gcm, NULL, key, iv) != 1 ||
	    c.EVP_DecryptUpdate(d, back, &len, ct, 100) != 1 ||
	    c.EVP_CIPHER_CTX_ctrl(d, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1 ||
	    c.EVP_DecryptFinal_ex(d, back + 100, &len) != 1 ||
	    memcmp(back, pt, 100))
		return 1;
	return 0;
}

#ifndef FLOOR_AEAD
static double
seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* FILE's pages first read through a map, and with pread; the file is
 * in the page cache (read once first), so neither waits for a disk */
static int
pages(long n, const char *path)
{
	int fd = open(path, O_RDONLY);
	struct stat st;
	size_t np, i;
	char buf[4096], *m;
	volatile char sink = 0;
	unsigned long x = 88172645463325252ul;
	double t0, t1, t2;

	if (fd < 0 || fstat(fd, &st) || (np = (size_t)st.st_size / 4096) < 2)
		return 1;
	for (i = 0; i < np; i++)
		if (pread(fd, buf, sizeof buf, (off_t)i * 4096) < 0)
			return 1;
	m = mmap(NULL, np * 4096, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return 1;
	/* even pages through the map, odd ones with pread: none read
	 * before in this process either way */
	t0 = seconds();
	for (long k = 0; k < n; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		sink += m[(x % (np / 2)) * 2 * 4096 + 100];
	}
	t1 = seconds();
	for (long k = 0; k < n; k++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (pread(fd, buf, sizeof buf,
			  (off_t)((x % (np / 2)) * 2 + 1) * 4096) < 0)
			return 1;
		sink += buf[100];
	}
	t2 = seconds();
	printf("%.2f %.2f\n", (t1 - t0) / (double)n * 1e6,
	       (t2 - t1) / (double)n * 1e6);
	return 0;
}
#endif

int
main(int argc, char **argv)
{
#ifndef FLOOR_AEAD
	if (argc == 3 && !strcmp(argv[1], "fsync"))
		return fsync1(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "b2"))
		return b2(atoi(argv[2]), argv[3]);
	if (argc == 4 && !strcmp(argv[1], "b2-dispatch")) {
		hash_fn = blake2b_dispatch;
		return b2(atoi(argv[2]), argv[3]);
	}
	if (argc == 3 && !strcmp(argv[1], "jv"))
		return parse(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "pages"))
		return pages(atol(argv[2]), argv[3]);
#endif
	if (argc == 2 && !strcmp(argv[1], "aead"))
		return aead();
	fprintf(stderr, "usage: floor fsync FILE | b2 THREADS FILE | jv FILE "
		"| pages N FILE | aead\n");
	return 2;
}
