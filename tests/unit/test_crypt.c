/*
 * test_crypt.c - the primitives of encryption at rest (lib/crypt/):
 * AES-256-GCM seal and open, HKDF-SHA256, HMAC-SHA256, the master key's
 * parsing, and key.enc (create, open, rewrap, status).
 *
 * Known answers come from the standards (GCM spec test case 16, RFC 5869,
 * RFC 4231); when python3 has the cryptography package, a second
 * implementation opens what nedb sealed, seals what nedb opens, and
 * unwraps key.enc by the recipe at the top of keys.c.
 *
 * Run with an argument, the program is its own child for the checks
 * that need NEDB_TEST_FAIL set at start-up (the library reads it once).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <unistd.h>
#include "internal.h"
#include "crypt.h"
#include "unit.h"

static char root[] = "/tmp/nedb-unit-crypt-XXXXXX";
static int ndir;

static void
unhex(unsigned char *out, const char *hex)
{
	size_t n = strlen(hex) / 2;

	if (nedb__unhex(out, hex, n))
		abort();
}

static bool
eq_hex(const unsigned char *p, size_t n, const char *hex)
{
	char buf[1024];

	nedb__hex(buf, p, n);
	if (strcmp(buf, hex)) {
		fprintf(stderr, "  got  %s\n  want %s\n", buf, hex);
		return false;
	}
	return true;
}

static void
key_of(unsigned char k[NEDB_KEY_LEN], int seed)
{
	for (int i = 0; i < NEDB_KEY_LEN; i++)
		k[i] = (unsigned char)(seed * 31 + i);
}

/* Whether a mapping of this process names libcrypto. */
static bool
libcrypto_mapped(void)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return false;
	while (fgets(line, sizeof line, f))
		if (strstr(line, "libcrypto"))
			found = true;
	fclose(f);
	return found;
}

static char *
fresh_dir(void)
{
	char dir[128];

	snprintf(dir, sizeof dir, "%s/db%d", root, ndir++);
	CHECK(mkdir(dir, 0700) == 0);
	return strdup(dir);
}

/* The names in dir, sorted by readdir order, joined by spaces. */
static void
list_dir(const char *dir, char *out, size_t n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	*out = 0;
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			strncat(out, e->d_name, n - strlen(out) - 2);
			strcat(out, " ");
		}
	if (d)
		closedir(d);
}

static long
file_size(const char *dir, const char *name)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return stat(path, &st) ? -1 : (long)st.st_size;
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "w");

	CHECK(f && fwrite(p, 1, n, f) == n);
	if (f)
		fclose(f);
}

static size_t
read_file(const char *path, unsigned char *p, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n = 0;

	if (f) {
		n = fread(p, 1, cap, f);
		fclose(f);
	}
	return n;
}

/* libcrypto is mapped only once something asks for it. */
static void
test_loaded_on_first_use(void)
{
	CHECK(!libcrypto_mapped());
	CHECK(nedb__crypt_require() == 0);
	CHECK(libcrypto_mapped());
	CHECK(nedb__crypt_require() == 0);	/* and only once */
}

static void
test_seal_open_round_trip(void)
{
	static const size_t lens[] = {0, 1, 15, 16, 17, 100, 4096, 70000};
	unsigned char k[NEDB_KEY_LEN], *pt, *ct, *back, *ct2;
	nedb_aead *a;

	key_of(k, 1);
	CHECK(nedb__aead_new(&a, k) == 0);
	pt = malloc(70000);
	ct = malloc(70000 + NEDB_AEAD_OVERHEAD);
	ct2 = malloc(70000 + NEDB_AEAD_OVERHEAD);
	back = malloc(70000 + 1);
	for (size_t i = 0; i < 70000; i++)
		pt[i] = (unsigned char)(i * 7 + 3);
	for (size_t t = 0; t < sizeof lens / sizeof *lens; t++) {
		size_t n = lens[t];

		CHECK(nedb__aead_seal(a, ct, "docs/a", 6, pt, n) == 0);
		CHECK(nedb__aead_seal(a, ct2, "docs/a", 6, pt, n) == 0);
		/* a fresh nonce each time: the same value seals differently */
		CHECK(memcmp(ct, ct2, n + NEDB_AEAD_OVERHEAD));
		CHECK(nedb__aead_open(a, back, "docs/a", 6, ct,
				      n + NEDB_AEAD_OVERHEAD) == 0);
		CHECK(memcmp(back, pt, n) == 0);
		CHECK(nedb__aead_open(a, back, "docs/a", 6, ct2,
				      n + NEDB_AEAD_OVERHEAD) == 0);
		CHECK(memcmp(back, pt, n) == 0);
		/* no associated data at all */
		CHECK(nedb__aead_seal(a, ct, NULL, 0, pt, n) == 0);
		CHECK(nedb__aead_open(a, back, NULL, 0, ct,
				      n + NEDB_AEAD_OVERHEAD) == 0);
		CHECK(memcmp(back, pt, n) == 0);
	}
	nedb__aead_free(a);
	nedb__aead_free(NULL);
	free(pt);
	free(ct);
	free(ct2);
	free(back);
}

/* Every byte of nonce, ciphertext and tag, and of the associated data,
 * is covered: one flipped bit and the value does not open. */
static void
test_flipped_byte_fails(void)
{
	const char pt[] = "{\"_id\":\"canary\",\"secret\":42}";
	const char aad[] = "coll\0id\0seq17";
	size_t n = sizeof pt - 1, len = n + NEDB_AEAD_OVERHEAD;
	unsigned char k[NEDB_KEY_LEN], ct[128], back[128], bad[sizeof aad];
	nedb_aead *a;
	int fails = 0;

	key_of(k, 2);
	CHECK(nedb__aead_new(&a, k) == 0);
	CHECK(nedb__aead_seal(a, ct, aad, sizeof aad, pt, n) == 0);
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit += 7) {
			memset(back, 0xaa, sizeof back);
			ct[i] ^= (unsigned char)(1 << bit);
			if (nedb__aead_open(a, back, aad, sizeof aad, ct,
					    len) == NEDB_EKEY &&
			    strstr(nedb_errmsg(), "authentication failed"))
				fails++;
			/* never half-returned: what was written is wiped */
			for (size_t j = 0; j < n; j++)
				CHECK(back[j] == 0);
			ct[i] ^= (unsigned char)(1 << bit);
		}
	CHECK(fails == (int)len * 2);
	for (size_t i = 0; i < sizeof aad; i++) {
		memcpy(bad, aad, sizeof aad);
		bad[i] ^= 1;
		CHECK(nedb__aead_open(a, back, bad, sizeof aad, ct, len) ==
		      NEDB_EKEY);
	}
	/* a shorter or missing aad */
	CHECK(nedb__aead_open(a, back, aad, sizeof aad - 1, ct, len) ==
	      NEDB_EKEY);
	CHECK(nedb__aead_open(a, back, NULL, 0, ct, len) == NEDB_EKEY);
	/* a cut value: shorter, or too short to hold nonce and tag */
	CHECK(nedb__aead_open(a, back, aad, sizeof aad, ct, len - 1) ==
	      NEDB_EKEY);
	CHECK(nedb__aead_open(a, back, aad, sizeof aad, ct,
			      NEDB_AEAD_OVERHEAD - 1) == NEDB_ECORRUPT);
	CHECK(strstr(nedb_errmsg(), "too short") != NULL);
	/* and it still opens untouched */
	CHECK(nedb__aead_open(a, back, aad, sizeof aad, ct, len) == 0);
	CHECK(memcmp(back, pt, n) == 0);
	nedb__aead_free(a);
}

/* Nonces are never repeated: not within a key object (batches), and not
 * by a forked child that inherited the parent's batch. */
static void
test_nonces_unique_across_fork(void)
{
	unsigned char k[NEDB_KEY_LEN], ct[32], mine[100][NEDB_AEAD_NONCE];
	unsigned char theirs[NEDB_AEAD_NONCE];
	nedb_aead *a;
	int fd[2], st;
	pid_t pid;

	key_of(k, 16);
	CHECK(nedb__aead_new(&a, k) == 0);
	/* 100 seals: several batches, all distinct */
	for (int i = 0; i < 100; i++) {
		CHECK(nedb__aead_seal(a, ct, NULL, 0, "v", 1) == 0);
		memcpy(mine[i], ct, NEDB_AEAD_NONCE);
		for (int j = 0; j < i; j++)
			CHECK(memcmp(mine[i], mine[j], NEDB_AEAD_NONCE));
	}
	CHECK(pipe(fd) == 0);
	if ((pid = fork()) == 0) {
		nedb__aead_seal(a, ct, NULL, 0, "v", 1);
		_exit(write(fd[1], ct, NEDB_AEAD_NONCE) != NEDB_AEAD_NONCE);
	}
	CHECK(pid > 0);
	CHECK(nedb__aead_seal(a, ct, NULL, 0, "v", 1) == 0);
	CHECK(read(fd[0], theirs, sizeof theirs) == sizeof theirs);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 0);
	CHECK(memcmp(ct, theirs, NEDB_AEAD_NONCE));
	close(fd[0]);
	close(fd[1]);
	nedb__aead_free(a);
}

static void
test_wrong_key_fails(void)
{
	unsigned char k1[NEDB_KEY_LEN], k2[NEDB_KEY_LEN], ct[64], back[64];
	nedb_aead *a, *b;

	key_of(k1, 3);
	memcpy(k2, k1, sizeof k2);
	k2[31] ^= 1;
	CHECK(nedb__aead_new(&a, k1) == 0);
	CHECK(nedb__aead_new(&b, k2) == 0);
	CHECK(nedb__aead_seal(a, ct, "k", 1, "value", 5) == 0);
	CHECK(nedb__aead_open(b, back, "k", 1, ct, 5 + NEDB_AEAD_OVERHEAD) ==
	      NEDB_EKEY);
	CHECK(nedb__aead_open(a, back, "k", 1, ct, 5 + NEDB_AEAD_OVERHEAD) ==
	      0);
	nedb__aead_free(a);
	nedb__aead_free(b);
}

/* The GCM specification's test case 16 (AES-256, 96-bit IV, AAD). */
static void
test_gcm_known_answer(void)
{
	unsigned char k[32], iv[12], aad[20], pt[60], out[60 + 28], back[60];
	nedb_aead *a;

	unhex(k, "feffe9928665731c6d6a8f9467308308"
		 "feffe9928665731c6d6a8f9467308308");
	unhex(iv, "cafebabefacedbaddecaf888");
	unhex(aad, "feedfacedeadbeeffeedfacedeadbeefabaddad2");
	unhex(pt, "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d"
		  "8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657"
		  "ba637b39");
	CHECK(nedb__aead_new(&a, k) == 0);
	/* a seal first: the key schedule is reused across nonces */
	CHECK(nedb__aead_seal(a, out, "x", 1, pt, 3) == 0);
	CHECK(nedb__aead_seal_iv(a, out, iv, aad, sizeof aad, pt,
				 sizeof pt) == 0);
	CHECK(eq_hex(out, 12, "cafebabefacedbaddecaf888"));
	CHECK(eq_hex(out + 12, 60,
		     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd"
		     "2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0a"
		     "bcc9f662"));
	CHECK(eq_hex(out + 72, 16, "76fc6ece0f4e1768cddf8853bb2d551b"));
	CHECK(nedb__aead_open(a, back, aad, sizeof aad, out, sizeof out) == 0);
	CHECK(memcmp(back, pt, sizeof pt) == 0);
	nedb__aead_free(a);
}

/* RFC 5869 A.1 (basic) and A.3 (no salt, no info), SHA-256. */
static void
test_hkdf_rfc5869(void)
{
	unsigned char ikm[22], salt[13], info[10], okm[42];

	memset(ikm, 0x0b, sizeof ikm);
	unhex(salt, "000102030405060708090a0b0c");
	unhex(info, "f0f1f2f3f4f5f6f7f8f9");
	CHECK(nedb__hkdf(okm, sizeof okm, ikm, sizeof ikm, salt, sizeof salt,
			 info, sizeof info) == 0);
	CHECK(eq_hex(okm, sizeof okm,
		     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56"
		     "ecc4c5bf34007208d5b887185865"));
	CHECK(nedb__hkdf(okm, sizeof okm, ikm, sizeof ikm, NULL, 0, NULL,
			 0) == 0);
	CHECK(eq_hex(okm, sizeof okm,
		     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f"
		     "3c738d2d9d201395faa4b61a96c8"));
	CHECK(nedb__hkdf(okm, 0, ikm, sizeof ikm, NULL, 0, NULL, 0) ==
	      NEDB_EUSAGE);
}

/* RFC 4231 test cases 1 and 2; the keyed object gives the same answer
 * every time (it re-initialises with the key it holds). */
static void
test_hmac_known_answer(void)
{
	unsigned char key[20], mac[32];
	const char *want1 = "b0344c61d8db38535ca8afceaf0bf12b"
			    "881dc200c9833da726e9376c2e32cff7";
	const char *want2 = "5bdcc146bf60754e6a042426089575c7"
			    "5a003f089d2739839dec58b964ec3843";
	nedb_prf *p;

	memset(key, 0x0b, sizeof key);
	CHECK(nedb__hmac(mac, key, sizeof key, "Hi There", 8) == 0);
	CHECK(eq_hex(mac, 32, want1));
	CHECK(nedb__hmac(mac, "Jefe", 4, "what do ya want for nothing?",
			 28) == 0);
	CHECK(eq_hex(mac, 32, want2));
	CHECK(nedb__prf_new(&p, "Jefe", 4) == 0);
	for (int i = 0; i < 3; i++) {
		memset(mac, 0, sizeof mac);
		CHECK(nedb__prf(p, mac, "what do ya want for nothing?",
				28) == 0);
		CHECK(eq_hex(mac, 32, want2));
	}
	CHECK(nedb__prf(p, mac, "what do ya", 10) == 0);
	{
		char got[65];

		nedb__hex(got, mac, 32);
		CHECK(strcmp(got, want2));	/* a prefix differs */
	}
	nedb__prf_free(p);
	nedb__prf_free(NULL);
	/* nedb__hmac (HKDF's extract, or nedb__prf for an empty message)
	 * and nedb__prf agree for empty, short, block-sized and longer
	 * keys (hashed first: RFC 4231 case 6's 131 bytes) and messages */
	{
		static const size_t lens[] = {0, 1, 32, 64, 65, 131};
		unsigned char k[131], m[131], a[32], b[32];

		for (size_t i = 0; i < sizeof k; i++) {
			k[i] = (unsigned char)(i * 7 + 1);
			m[i] = (unsigned char)(i * 13 + 5);
		}
		for (size_t i = 0; i < 6; i++)
			for (size_t j = 0; j < 6; j++) {
				CHECK(nedb__hmac(a, k, lens[i], m,
						 lens[j]) == 0);
				CHECK(nedb__prf_new(&p, k, lens[i]) == 0);
				CHECK(nedb__prf(p, b, m, lens[j]) == 0);
				nedb__prf_free(p);
				CHECK(!memcmp(a, b, sizeof a));
			}
	}
}

/* Each sub-key is its own: what one seals, another cannot open. */
static void
test_subkeys_are_distinct(void)
{
	unsigned char dek[NEDB_KEY_LEN], a[NEDB_KEY_LEN], b[NEDB_KEY_LEN];
	unsigned char ct[64], back[64], m1[32], m2[32];
	struct nedb_crypt c, zero;
	nedb_aead *view;

	key_of(dek, 4);
	CHECK(nedb__crypt_subkey(a, dek, NEDB_LABEL_LOG) == 0);
	CHECK(nedb__crypt_subkey(b, dek, NEDB_LABEL_VIEW) == 0);
	CHECK(memcmp(a, b, sizeof a));
	CHECK(memcmp(a, dek, sizeof a));
	CHECK(nedb__crypt_keys(&c, dek) == 0);
	/* one HKDF context for them all gives each label's own HKDF */
	CHECK(memcmp(c.log_key, a, sizeof a) == 0);
	CHECK(memcmp(c.view_val, b, sizeof b) == 0);
	{
		const char *lab[] = { NEDB_LABEL_VKCTR, NEDB_LABEL_VKIV,
				      NEDB_LABEL_FADDR, NEDB_LABEL_FSEAL };
		const unsigned char *got[] = { c.view_ctr, c.view_iv,
					       c.file_addr, c.file_seal };

		for (int i = 0; i < 4; i++) {
			CHECK(nedb__crypt_subkey(m1, dek, lab[i]) == 0);
			CHECK(memcmp(got[i], m1, 32) == 0);
			CHECK(memcmp(got[i], a, 32) && memcmp(got[i], b, 32));
		}
	}
	CHECK(nedb__aead_new(&view, c.view_val) == 0);
	CHECK(nedb__aead_seal(c.log, ct, "1", 1, "line", 4) == 0);
	CHECK(nedb__aead_open(view, back, "1", 1, ct, 4 + 28) == NEDB_EKEY);
	CHECK(nedb__aead_open(c.log, back, "1", 1, ct, 4 + 28) == 0);
	nedb__aead_free(view);
	(void)m2;
	nedb__crypt_keys_free(&c);
	memset(&zero, 0, sizeof zero);
	CHECK(memcmp(&c, &zero, sizeof c) == 0);
	nedb__crypt_keys_free(&c);		/* twice is harmless */
}

static void
test_tmk_parsing(void)
{
	const char *hex = "000102030405060708090a0b0c0d0e0f"
			  "101112131415161718191A1B1C1D1E1F";
	unsigned char k[NEDB_KEY_LEN], want[NEDB_KEY_LEN], raw[NEDB_KEY_LEN];
	char *dir = fresh_dir(), path[256], text[200];
	bool found = true;

	for (int i = 0; i < NEDB_KEY_LEN; i++)
		want[i] = (unsigned char)i;
	/* none given: a plaintext open */
	CHECK(nedb__tmk_get(k, &found, NULL, NULL, NULL) == 0 && !found);
	CHECK(nedb__tmk_get(k, &found, "", "", "") == 0 && !found);
	/* NEDB_TMK, either case */
	CHECK(nedb__tmk_get(k, &found, NULL, hex, NULL) == 0 && found);
	CHECK(memcmp(k, want, sizeof k) == 0);
	CHECK(nedb__tmk_get(k, &found, NULL, "abcd", NULL) == NEDB_EKEY &&
	      !found);
	CHECK(strstr(nedb_errmsg(), "NEDB_TMK is not a key") != NULL);
	snprintf(text, sizeof text, "%.63sg", hex);
	CHECK(nedb__tmk_get(k, &found, NULL, text, NULL) == NEDB_EKEY);
	CHECK(strstr(nedb_errmsg(), text) == NULL);	/* never the key */
	/* a file of hex digits, with a newline */
	snprintf(path, sizeof path, "%s/tmk.hex", dir);
	snprintf(text, sizeof text, "  %s\n", hex);
	write_file(path, text, strlen(text));
	CHECK(nedb__tmk_get(k, &found, NULL, NULL, path) == 0 && found);
	CHECK(memcmp(k, want, sizeof k) == 0);
	/* both variables: ambiguous */
	CHECK(nedb__tmk_get(k, &found, NULL, hex, path) == NEDB_EKEY);
	CHECK(strstr(nedb_errmsg(), "both") != NULL);
	/* the option wins over both */
	snprintf(path, sizeof path, "%s/tmk.raw", dir);
	key_of(raw, 9);
	raw[5] = '\n';			/* raw bytes are taken as they are */
	write_file(path, raw, sizeof raw);
	CHECK(nedb__tmk_get(k, &found, path, hex, "/nonexistent") == 0 &&
	      found);
	CHECK(memcmp(k, raw, sizeof k) == 0);
	/* 31 bytes, 33 bytes, 63 hex digits: no key */
	write_file(path, raw, 31);
	CHECK(nedb__tmk_get(k, &found, path, NULL, NULL) == NEDB_EKEY);
	CHECK(strstr(nedb_errmsg(), "holds no key") != NULL);
	snprintf(text, sizeof text, "%.63s\n", hex);
	write_file(path, text, strlen(text));
	CHECK(nedb__tmk_get(k, &found, path, NULL, NULL) == NEDB_EKEY);
	CHECK(nedb__tmk_get(k, &found, "/nonexistent/tmk", NULL, NULL) ==
	      NEDB_EKEY);
	CHECK_STR(nedb_errmsg(), "cannot read key file '/nonexistent/tmk': "
		  "No such file or directory");
	free(dir);
}

static void
test_key_id(void)
{
	unsigned char t1[NEDB_KEY_LEN], t2[NEDB_KEY_LEN];
	unsigned char a[NEDB_KEYID_LEN], b[NEDB_KEYID_LEN];
	char hex[2 * NEDB_KEYID_LEN + 1];

	key_of(t1, 5);
	key_of(t2, 6);
	CHECK(nedb__key_id(a, t1) == 0);
	CHECK(nedb__key_id(b, t1) == 0);
	CHECK(memcmp(a, b, sizeof a) == 0);	/* names a key, stably */
	CHECK(nedb__key_id(b, t2) == 0);
	CHECK(memcmp(a, b, sizeof a));
	nedb__key_id_hex(hex, a);
	CHECK(strlen(hex) == 16);
}

static void
test_keyfile_create_open_status(void)
{
	unsigned char tmk[NEDB_KEY_LEN], dek[NEDB_KEY_LEN], dek2[NEDB_KEY_LEN];
	unsigned char kid[NEDB_KEYID_LEN], want[NEDB_KEYID_LEN];
	unsigned char f1[100], f2[100];
	char *dir = fresh_dir(), path[256], names[256];
	struct stat st;
	bool enc = true;

	snprintf(path, sizeof path, "%s/key.enc", dir);
	key_of(tmk, 7);
	/* a plaintext database: no key file */
	CHECK(nedb__key_status(dir, &enc, kid) == 0 && !enc);
	CHECK(nedb__key_open(dir, tmk, dek) == NEDB_ENOTFOUND);
	CHECK(strstr(nedb_errmsg(), "not encrypted") != NULL);

	CHECK(nedb__key_create(dir, tmk, dek) == 0);
	CHECK(stat(path, &st) == 0);
	CHECK((st.st_mode & 07777) == 0600);
	CHECK(st.st_size == 80);
	list_dir(dir, names, sizeof names);
	CHECK_STR(names, "key.enc ");		/* no temporary left */
	CHECK(nedb__key_status(dir, &enc, kid) == 0 && enc);
	CHECK(nedb__key_id(want, tmk) == 0);
	CHECK(memcmp(kid, want, sizeof kid) == 0);
	CHECK(nedb__key_open(dir, tmk, dek2) == 0);
	CHECK(memcmp(dek, dek2, sizeof dek) == 0);

	/* never replaced by a second create */
	CHECK(read_file(path, f1, sizeof f1) == 80);
	CHECK(nedb__key_create(dir, tmk, dek2) == NEDB_EREJECTED);
	CHECK(strstr(nedb_errmsg(), "already has a key") != NULL);
	CHECK(read_file(path, f2, sizeof f2) == 80);
	CHECK(memcmp(f1, f2, 80) == 0);
	list_dir(dir, names, sizeof names);
	CHECK_STR(names, "key.enc ");

	/* two databases, one TMK: two DEKs, one key id */
	{
		char *d2 = fresh_dir();
		unsigned char k2[NEDB_KEYID_LEN];

		CHECK(nedb__key_create(d2, tmk, dek2) == 0);
		CHECK(memcmp(dek, dek2, sizeof dek));
		CHECK(nedb__key_status(d2, &enc, k2) == 0 && enc);
		CHECK(memcmp(k2, kid, sizeof kid) == 0);
		free(d2);
	}
	free(dir);
}

/* The handle's keys in one call: create, then open, give the same
 * sub-keys (the same DEK), named by the TMK's key id. */
static void
test_crypt_open_create(void)
{
	unsigned char tmk[NEDB_KEY_LEN], other[NEDB_KEY_LEN], kid[8];
	unsigned char ct[64], back[64], m1[32], m2[32];
	struct nedb_crypt a, b, zero;
	char *dir = fresh_dir();

	memset(&zero, 0, sizeof zero);
	key_of(tmk, 17);
	key_of(other, 18);
	CHECK(nedb__crypt_open(&a, dir, tmk) == NEDB_ENOTFOUND);
	CHECK(memcmp(&a, &zero, sizeof a) == 0);
	CHECK(nedb__crypt_create(&a, dir, tmk) == 0);
	CHECK(nedb__crypt_create(&b, dir, tmk) == NEDB_EREJECTED);
	CHECK(nedb__crypt_open(&b, dir, other) == NEDB_EKEY);
	CHECK(memcmp(&b, &zero, sizeof b) == 0);
	CHECK(nedb__crypt_open(&b, dir, tmk) == 0);
	CHECK(nedb__key_id(kid, tmk) == 0);
	CHECK(memcmp(a.kid, kid, 8) == 0 && memcmp(b.kid, kid, 8) == 0);
	CHECK(nedb__aead_seal(a.log, ct, "7", 1, "op seven", 8) == 0);
	CHECK(nedb__aead_open(b.log, back, "7", 1, ct, 8 + 28) == 0);
	CHECK(memcmp(back, "op seven", 8) == 0);
	CHECK(memcmp(a.view_val, b.view_val, 32) == 0);
	CHECK(memcmp(a.view_ctr, b.view_ctr, 32) == 0);
	CHECK(memcmp(a.view_iv, b.view_iv, 32) == 0);
	CHECK(memcmp(a.file_seal, b.file_seal, 32) == 0);
	(void)m1, (void)m2;
	nedb__crypt_keys_free(&a);
	nedb__crypt_keys_free(&b);
	free(dir);
}

static void
test_keyfile_wrong_key_refused(void)
{
	unsigned char tmk[NEDB_KEY_LEN], other[NEDB_KEY_LEN];
	unsigned char dek[NEDB_KEY_LEN], out[NEDB_KEY_LEN];
	char *dir = fresh_dir();

	key_of(tmk, 8);
	memcpy(other, tmk, sizeof other);
	other[0] ^= 0x80;
	CHECK(nedb__key_create(dir, tmk, dek) == 0);
	memset(out, 0, sizeof out);
	CHECK(nedb__key_open(dir, other, out) == NEDB_EKEY);
	CHECK(strstr(nedb_errmsg(), "wrong key: the database's key id is ")
	      != NULL);
	CHECK(memcmp(out, dek, sizeof dek));
	free(dir);
}

static void
test_keyfile_rewrap(void)
{
	unsigned char t1[NEDB_KEY_LEN], t2[NEDB_KEY_LEN], t3[NEDB_KEY_LEN];
	unsigned char dek[NEDB_KEY_LEN], out[NEDB_KEY_LEN];
	unsigned char kid[NEDB_KEYID_LEN], want[NEDB_KEYID_LEN], f[100];
	char *dir = fresh_dir(), path[256], names[256];
	struct stat st;
	bool enc;

	snprintf(path, sizeof path, "%s/key.enc", dir);
	key_of(t1, 10);
	key_of(t2, 11);
	key_of(t3, 12);
	CHECK(nedb__key_create(dir, t1, dek) == 0);
	/* a rewrap needs the current key */
	CHECK(nedb__key_rewrap(dir, t3, t2) == NEDB_EKEY);
	CHECK(nedb__key_open(dir, t1, out) == 0);
	CHECK(nedb__key_rewrap(dir, t1, t2) == 0);
	/* the same DEK under the new key; the old key refused */
	CHECK(nedb__key_open(dir, t2, out) == 0);
	CHECK(memcmp(out, dek, sizeof dek) == 0);
	CHECK(nedb__key_open(dir, t1, out) == NEDB_EKEY);
	CHECK(nedb__key_status(dir, &enc, kid) == 0 && enc);
	CHECK(nedb__key_id(want, t2) == 0);
	CHECK(memcmp(kid, want, sizeof kid) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
	CHECK(read_file(path, f, sizeof f) == 80);
	list_dir(dir, names, sizeof names);
	CHECK_STR(names, "key.enc ");
	/* rewrap to the same key: a new nonce, the same DEK */
	CHECK(nedb__key_rewrap(dir, t2, t2) == 0);
	CHECK(nedb__key_open(dir, t2, out) == 0);
	CHECK(memcmp(out, dek, sizeof dek) == 0);
	free(dir);
}

/* A damaged key.enc: refused with a one-line message, never a DEK. */
static void
test_keyfile_damage_refused(void)
{
	unsigned char tmk[NEDB_KEY_LEN], dek[NEDB_KEY_LEN], out[NEDB_KEY_LEN];
	unsigned char f[100], g[100];
	char *dir = fresh_dir(), path[256];
	bool enc;
	unsigned char kid[NEDB_KEYID_LEN];

	snprintf(path, sizeof path, "%s/key.enc", dir);
	key_of(tmk, 13);
	CHECK(nedb__key_create(dir, tmk, dek) == 0);
	CHECK(read_file(path, f, sizeof f) == 80);
	/* truncated, at every length */
	for (size_t n = 0; n < 80; n++) {
		write_file(path, f, n);
		CHECK(nedb__key_open(dir, tmk, out) == NEDB_ECORRUPT);
		CHECK(strstr(nedb_errmsg(), "is truncated") != NULL);
		CHECK(nedb__key_status(dir, &enc, kid) == NEDB_ECORRUPT);
	}
	/* longer */
	memcpy(g, f, 80);
	g[80] = '\n';
	write_file(path, g, 81);
	CHECK(nedb__key_open(dir, tmk, out) == NEDB_ECORRUPT);
	/* every byte flipped, one at a time */
	for (size_t i = 0; i < 80; i++) {
		int rc;

		memcpy(g, f, 80);
		g[i] ^= 0x01;
		write_file(path, g, 80);
		rc = nedb__key_open(dir, tmk, out);
		/* a changed key id reads as another key; any other byte
		 * as damage */
		if (i >= 12 && i < 20)
			CHECK(rc == NEDB_EKEY);
		else
			CHECK(rc == NEDB_ECORRUPT);
		CHECK(strchr(nedb_errmsg(), '\n') == NULL);
	}
	memcpy(g, f, 80);
	g[8] = 2;
	write_file(path, g, 80);
	CHECK(nedb__key_open(dir, tmk, out) == NEDB_ECORRUPT);
	CHECK(strstr(nedb_errmsg(), "unknown format version 2") != NULL);
	/* put back: opens again */
	write_file(path, f, 80);
	CHECK(nedb__key_open(dir, tmk, out) == 0);
	CHECK(memcmp(out, dek, sizeof dek) == 0);
	free(dir);
}

/* python3 with cryptography, or 0 (the checks are skipped). */
static bool
have_python_crypto(void)
{
	return system("python3 -c 'import cryptography' >/dev/null 2>&1") == 0;
}

/* A second implementation agrees: it opens what nedb seals, nedb opens
 * what it seals, and it unwraps key.enc by the recipe in keys.c. */
static void
test_cross_check_python(void)
{
	unsigned char k[NEDB_KEY_LEN], ct[64], back[64], tmk[NEDB_KEY_LEN];
	unsigned char dek[NEDB_KEY_LEN];
	char hk[65], hct[129], htmk[65], hdek[65], cmd[2048], out[256];
	char *dir;
	nedb_aead *a;
	FILE *p;
	size_t n;

	if (!have_python_crypto()) {
		fprintf(stderr, "skipped: python3 cryptography not installed\n");
		return;
	}
	key_of(k, 14);
	nedb__hex(hk, k, sizeof k);
	CHECK(nedb__aead_new(&a, k) == 0);
	CHECK(nedb__aead_seal(a, ct, "aad!", 4, "hello, gcm", 10) == 0);
	nedb__hex(hct, ct, 10 + NEDB_AEAD_OVERHEAD);
	snprintf(cmd, sizeof cmd, "python3 -c '"
		 "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
		 "import sys\n"
		 "k=bytes.fromhex(\"%s\"); v=bytes.fromhex(\"%s\")\n"
		 "sys.stdout.write(AESGCM(k).decrypt(v[:12], v[12:], b\"aad!\").decode())'",
		 hk, hct);
	CHECK((p = popen(cmd, "r")) != NULL);
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	CHECK(pclose(p) == 0);
	CHECK_STR(out, "hello, gcm");

	snprintf(cmd, sizeof cmd, "python3 -c '"
		 "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
		 "import os\n"
		 "k=bytes.fromhex(\"%s\"); iv=os.urandom(12)\n"
		 "print((iv+AESGCM(k).encrypt(iv, b\"from python\", b\"k\")).hex())'",
		 hk);
	CHECK((p = popen(cmd, "r")) != NULL);
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	CHECK(pclose(p) == 0);
	CHECK(n == 2 * (11 + NEDB_AEAD_OVERHEAD) + 1);
	CHECK(nedb__unhex(ct, out, 11 + NEDB_AEAD_OVERHEAD) == 0);
	CHECK(nedb__aead_open(a, back, "k", 1, ct, 11 + NEDB_AEAD_OVERHEAD) ==
	      0);
	CHECK(memcmp(back, "from python", 11) == 0);
	nedb__aead_free(a);

	/* key.enc, unwrapped from its documented format */
	dir = fresh_dir();
	key_of(tmk, 15);
	CHECK(nedb__key_create(dir, tmk, dek) == 0);
	nedb__hex(htmk, tmk, sizeof tmk);
	nedb__hex(hdek, dek, sizeof dek);
	snprintf(cmd, sizeof cmd, "python3 -c '"
		 "from cryptography.hazmat.primitives.ciphers.aead import AESGCM\n"
		 "from cryptography.hazmat.primitives.kdf.hkdf import HKDF\n"
		 "from cryptography.hazmat.primitives.hashes import SHA256\n"
		 "import hmac, hashlib\n"
		 "tmk=bytes.fromhex(\"%s\"); f=open(\"%s/key.enc\",\"rb\").read()\n"
		 "kek=HKDF(SHA256(), 32, b\"nedb tmk v1\", b\"nedb key.enc wrap v1\").derive(tmk)\n"
		 "assert f[12:20]==hmac.new(kek, b\"nedb key id v1\", hashlib.sha256).digest()[:8]\n"
		 "print(AESGCM(kek).decrypt(f[20:32], f[32:80], f[0:20]).hex())'",
		 htmk, dir);
	CHECK((p = popen(cmd, "r")) != NULL);
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	CHECK(pclose(p) == 0);
	if (n)
		out[n - 1] = 0;
	CHECK_STR(out, hdek);
	free(dir);
}

/* A missing libcrypto is an error the library returns (child mode). */
static void
test_missing_libcrypto(const char *self)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "NEDB_TEST_FAIL=libcrypto %s nolib", self);
	CHECK(system(cmd) == 0);
}

static int
child_nolib(void)
{
	unsigned char k[NEDB_KEY_LEN] = {0}, dek[NEDB_KEY_LEN];
	nedb_aead *a = (nedb_aead *)1;

	if (nedb__crypt_require() != NEDB_EIO ||
	    !strstr(nedb_errmsg(), "cannot load libcrypto.so.3"))
		return 1;
	if (nedb__aead_new(&a, k) != NEDB_EIO || a)
		return 2;
	if (nedb__key_create("/nonexistent", k, dek) != NEDB_EIO)
		return 3;
	if (libcrypto_mapped())
		return 4;
	return 0;
}

/* Threads that all reach for libcrypto at once load it once, and each
 * seals and opens with keys of its own (child mode: nothing loaded). */
static void *
thread_body(void *arg)
{
	unsigned char k[NEDB_KEY_LEN], ct[64], back[64], okm[32];
	nedb_aead *a;
	long bad = 0;

	key_of(k, (int)(long)arg);
	if (nedb__hkdf(okm, 32, k, 32, NULL, 0, "t", 1) ||
	    nedb__aead_new(&a, okm))
		return (void *)1;
	for (int i = 0; i < 200; i++)
		if (nedb__aead_seal(a, ct, &i, sizeof i, "threads", 7) ||
		    nedb__aead_open(a, back, &i, sizeof i, ct, 7 + 28) ||
		    memcmp(back, "threads", 7))
			bad++;
	nedb__aead_free(a);
	return (void *)bad;
}

static int
child_threads(void)
{
	pthread_t t[8];
	void *r;
	int bad = 0;

	for (long i = 0; i < 8; i++)
		if (pthread_create(&t[i], NULL, thread_body, (void *)i))
			return 1;
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], &r);
		bad += r != NULL;
	}
	return bad ? 2 : 0;
}

static void
test_threads_load_once(const char *self)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "%s threads", self);
	CHECK(system(cmd) == 0);
}

/* A rewrap that fails before its rename leaves key.enc as it was, and
 * no temporary file (child mode, NEDB_TEST_FAIL=key-rename). */
static void
test_rewrap_failure_changes_nothing(const char *self)
{
	unsigned char t1[NEDB_KEY_LEN], dek[NEDB_KEY_LEN], out[NEDB_KEY_LEN];
	unsigned char f1[100], f2[100];
	char *dir = fresh_dir(), path[256], names[256], cmd[4500];

	snprintf(path, sizeof path, "%s/key.enc", dir);
	key_of(t1, 10);
	CHECK(nedb__key_create(dir, t1, dek) == 0);
	CHECK(read_file(path, f1, sizeof f1) == 80);
	snprintf(cmd, sizeof cmd, "NEDB_TEST_FAIL=key-rename %s rewrap %s",
		 self, dir);
	CHECK(system(cmd) == 0);
	CHECK(read_file(path, f2, sizeof f2) == 80);
	CHECK(memcmp(f1, f2, 80) == 0);
	list_dir(dir, names, sizeof names);
	CHECK_STR(names, "key.enc ");
	CHECK(nedb__key_open(dir, t1, out) == 0);
	free(dir);
}

/* Temporary key files left by a crash are removed; nothing else is. */
static void
test_key_cleanup(void)
{
	unsigned char tmk[NEDB_KEY_LEN], dek[NEDB_KEY_LEN];
	char *dir = fresh_dir(), path[256], names[256];

	key_of(tmk, 19);
	CHECK(nedb__key_create(dir, tmk, dek) == 0);
	snprintf(path, sizeof path, "%s/key.enc.Ab3xYz", dir);
	write_file(path, "x", 1);
	snprintf(path, sizeof path, "%s/key.enc.bak", dir);	/* not ours */
	write_file(path, "x", 1);
	snprintf(path, sizeof path, "%s/log.aof", dir);
	write_file(path, "x", 1);
	CHECK(nedb__key_cleanup(dir) == 0);
	CHECK(file_size(dir, "key.enc.Ab3xYz") == -1);
	CHECK(file_size(dir, "key.enc.bak") == 1);
	CHECK(file_size(dir, "log.aof") == 1);
	CHECK(file_size(dir, "key.enc") == 80);
	list_dir(dir, names, sizeof names);
	CHECK(strstr(names, "key.enc ") != NULL);
	free(dir);
}

/* SHA-256 known answers (FIPS 180-2 B.1 and B.2, and the empty string),
 * whole and fed in pieces. */
static void
test_sha256_known_answer(void)
{
	static const char two[] =
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	unsigned char md[NEDB_SHA256_LEN];
	nedb_sha256 h;

	CHECK(nedb__sha256(md, "abc", 3) == 0);
	CHECK(eq_hex(md, sizeof md, "ba7816bf8f01cfea414140de5dae2223"
		     "b00361a396177a9cb410ff61f20015ad"));
	CHECK(nedb__sha256(md, "", 0) == 0);
	CHECK(eq_hex(md, sizeof md, "e3b0c44298fc1c149afbf4c8996fb924"
		     "27ae41e4649b934ca495991b7852b855"));
	CHECK(nedb__sha256_init(&h) == 0);
	for (size_t i = 0; i < sizeof two - 1; i += 7)
		nedb__sha256_update(&h, two + i, 7);
	nedb__sha256_final(&h, md);
	CHECK(eq_hex(md, sizeof md, "248d6a61d20638b8e5c026930c3e6039"
		     "a33ce45964ff2167f6ecedd419db06c1"));
}

/* RFC 4648's base64 a bit at a time: what the table-driven encoder must
 * match at every length and alignment. */
static void
b64_slow(char *out, const unsigned char *in, size_t n)
{
	static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		"abcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t bits = 8 * n, o = 0;

	for (size_t b = 0; b < bits; b += 6) {
		unsigned v = 0;

		for (size_t k = b; k < b + 6; k++)
			v = v << 1 | (k < bits ?
				      in[k / 8] >> (7 - k % 8) & 1 : 0);
		out[o++] = abc[v];
	}
	while (o % 4)
		out[o++] = '=';
	out[o] = 0;
}

/* Base64: RFC 4648 §10's vectors, a round trip of every length up to 64
 * and every byte, and the strictness the log relies on (one text per
 * value). */
static void
test_base64(void)
{
	static const char *const vec[][2] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
		{"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};
	static const char *const bad[] = {
		"Zg=", "Zg", "Zh==", "Zm9=", "Z===", "====", "Zg==Zg==",
		"Zm 9v", "Zm9v\n", "Zm-v", "Zm_v", "=m9v", "Zm=v",
	};
	unsigned char in[256], back[256];
	char text[400];
	size_t n, m;

	for (size_t i = 0; i < sizeof vec / sizeof vec[0]; i++) {
		CHECK(nedb__b64_encode(text, vec[i][0], strlen(vec[i][0]),
				       &n) == 0);
		CHECK(n == strlen(vec[i][1]) && !strcmp(text, vec[i][1]));
		CHECK(nedb__b64_decode(back, vec[i][1], strlen(vec[i][1]),
				       &m) == 0);
		CHECK(m == strlen(vec[i][0]) && !memcmp(back, vec[i][0], m));
	}
	for (int i = 0; i < 256; i++)
		in[i] = (unsigned char)(i * 37 + 11);
	for (size_t len = 0; len <= 256; len++) {
		char slow[400];

		for (size_t at = 0; at < 8 && at <= len; at++) {
			CHECK(nedb__b64_encode(text, in + at, len - at,
					       &n) == 0);
			b64_slow(slow, in + at, len - at);
			CHECK(!strcmp(text, slow));
		}
		CHECK(nedb__b64_encode(text, in, len, &n) == 0);
		CHECK(n == NEDB_B64_LEN(len) && strlen(text) == n);
		CHECK(nedb__b64_decode(back, text, n, &m) == 0);
		CHECK(m == len && !memcmp(back, in, len));
	}
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		CHECK(nedb__b64_decode(back, bad[i], strlen(bad[i]), &m) ==
		      NEDB_ECORRUPT);
	/* every byte at every place of a whole, a once- and a twice-padded
	 * text: refused unless of the alphabet, and what decodes encodes
	 * back to the same text (one text per value) */
	{
		static const char *const texts[] = {
			"Zm9vYmFy", "Zm9vYmE=", "Zm9vYg==",
		};
		static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"abcdefghijklmnopqrstuvwxyz0123456789+/";

		for (size_t t = 0; t < 3; t++) {
			size_t len = strlen(texts[t]);

			for (size_t at = 0; at < len; at++) {
				if (texts[t][at] == '=')
					continue;
				for (int c = 0; c < 256; c++) {
					char x[16], y[16];
					int rc;

					memcpy(x, texts[t], len + 1);
					x[at] = (char)c;
					rc = nedb__b64_decode(back, x, len, &m);
					if (!c || !strchr(abc, c)) {
						CHECK(rc == NEDB_ECORRUPT);
						continue;
					}
					if (rc)
						continue;	/* low bits */
					CHECK(nedb__b64_encode(y, back, m,
							       &n) == 0);
					CHECK(n == len && !memcmp(x, y, len));
				}
			}
		}
	}
}

static int
child_rewrap(const char *dir)
{
	unsigned char t1[NEDB_KEY_LEN], t2[NEDB_KEY_LEN];

	key_of(t1, 10);
	key_of(t2, 11);
	return nedb__key_rewrap(dir, t1, t2) == NEDB_EIO ? 0 : 1;
}

int
main(int argc, char **argv)
{
	char self[4096];
	ssize_t n;

	if (argc == 2 && !strcmp(argv[1], "nolib"))
		return child_nolib();
	if (argc == 2 && !strcmp(argv[1], "threads"))
		return child_threads();
	if (argc == 3 && !strcmp(argv[1], "rewrap"))
		return child_rewrap(argv[2]);
	if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) < 0)
		return 1;
	self[n] = 0;
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_loaded_on_first_use);
	RUN(test_seal_open_round_trip);
	RUN(test_flipped_byte_fails);
	RUN(test_nonces_unique_across_fork);
	RUN(test_wrong_key_fails);
	RUN(test_gcm_known_answer);
	RUN(test_hkdf_rfc5869);
	RUN(test_hmac_known_answer);
	RUN(test_sha256_known_answer);
	RUN(test_base64);
	RUN(test_subkeys_are_distinct);
	RUN(test_tmk_parsing);
	RUN(test_key_id);
	RUN(test_keyfile_create_open_status);
	RUN(test_crypt_open_create);
	RUN(test_keyfile_wrong_key_refused);
	RUN(test_keyfile_rewrap);
	RUN(test_keyfile_damage_refused);
	RUN(test_key_cleanup);
	RUN(test_cross_check_python);
	unit_run++;
	test_missing_libcrypto(self);
	unit_run++;
	test_rewrap_failure_changes_nothing(self);
	unit_run++;
	test_threads_load_once(self);
	{
		char cmd[200];

		snprintf(cmd, sizeof cmd, "rm -rf %s", root);
		if (system(cmd))
			return 1;
	}
	UNIT_DONE();
}
