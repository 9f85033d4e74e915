/*
 * keys.c - the master key (TMK) as the user gives it, and key.enc: the
 * database's data key (DEK) wrapped by the TMK.
 *
 * key.enc, format 1: exactly 80 bytes, binary.
 *
 *     offset  size  content
 *     0       8     magic: the ASCII bytes "NEDB-KEY"
 *     8       1     format version: 1
 *     9       1     algorithm: 1 (AES-256-GCM, key from HKDF-SHA256)
 *     10      2     zero
 *     12      8     key id of the TMK that wrapped it
 *     20      12    nonce (random)
 *     32      32    the DEK, encrypted: AES-256-GCM under the KEK
 *     64      16    GCM tag
 *
 *   KEK    = HKDF-SHA256(IKM = TMK, salt = "nedb tmk v1",
 *                        info = "nedb key.enc wrap v1", L = 32)
 *   key id = HMAC-SHA256(key = KEK, "nedb key id v1"), first 8 bytes
 *   AAD    = bytes 0..19 of the file (magic to key id)
 *
 * (strings ASCII, without a NUL).  So with the TMK, in Python:
 *
 *     kek = HKDF(SHA256(), 32, b"nedb tmk v1",
 *                b"nedb key.enc wrap v1").derive(tmk)
 *     dek = AESGCM(kek).decrypt(f[20:32], f[32:80], f[0:20])
 *
 * and the sub-keys follow from the DEK as crypt.h says.
 *
 * Invariants:
 *  1. key.enc is only ever replaced whole, by rename(2) of a synced
 *     temporary file in the same directory, then the directory synced:
 *     a crash leaves the old key.enc or the new one, never a mix.  A
 *     temporary file left by a crash (key.enc.XXXXXX) holds the DEK
 *     wrapped, never in clear.
 *  2. Create never replaces a key.enc (link(2), which fails if the name
 *     exists): losing the DEK loses the data.
 *  3. Rewrap renames only after the new file has been read back and
 *     unwrapped with the new TMK to the same DEK: a bad write cannot
 *     replace a good key.enc.
 *  4. Open decides "wrong key" from the key id alone, before any
 *     decryption and before any other file is read; a key id that
 *     matches and a tag that fails is a damaged key.enc.
 *  5. No key material outlives a call in memory this file owns: KEK,
 *     DEK copies and key file bytes are wiped on every path.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "crypt.h"

#define KF_LEN 80
#define KF_AAD 20			/* magic .. key id */
#define KF_MAGIC "NEDB-KEY"
#define KF_VERSION 1
#define KF_ALG 1
#define KF_KID 12
#define KF_SEALED 20			/* nonce || DEK || tag */

static const char tmk_salt[] = "nedb tmk v1";
static const char wrap_info[] = "nedb key.enc wrap v1";
static const char kid_info[] = "nedb key id v1";

/* --- the master key --- */

/* A hex digit's value, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* 64 hex digits (either case) in s[0, n) to 32 bytes; -1 if not. */
static int
parse_hex_key(unsigned char out[NEDB_KEY_LEN], const char *s, size_t n)
{
	if (n != 2 * NEDB_KEY_LEN)
		return -1;
	for (size_t i = 0; i < NEDB_KEY_LEN; i++) {
		int h = hexval((unsigned char)s[2 * i]),
		    l = hexval((unsigned char)s[2 * i + 1]);

		if (h < 0 || l < 0) {
			nedb__wipe(out, NEDB_KEY_LEN);
			return -1;
		}
		out[i] = (unsigned char)(h << 4 | l);
	}
	return 0;
}

static bool
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* A key file: 32 raw bytes, or 64 hex digits within white space. */
static int
read_tmk_file(unsigned char out[NEDB_KEY_LEN], const char *path)
{
	char buf[4096];
	size_t n = 0, a = 0;
	ssize_t r;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return nedb__err(NEDB_EKEY, "cannot read key file '%s': %s",
				 path, strerror(errno));
	while (n < sizeof buf &&
	       (r = read(fd, buf + n, sizeof buf - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = nedb__err(NEDB_EKEY, "cannot read key file '%s': "
				       "%s", path, strerror(errno));
			break;
		}
		n += (size_t)r;
	}
	close(fd);
	if (rc)
		goto done;
	if (n == NEDB_KEY_LEN) {
		memcpy(out, buf, NEDB_KEY_LEN);
		goto done;
	}
	while (n && is_space((unsigned char)buf[n - 1]))
		n--;
	while (a < n && is_space((unsigned char)buf[a]))
		a++;
	if (parse_hex_key(out, buf + a, n - a))
		rc = nedb__err(NEDB_EKEY, "key file '%s' holds no key "
			       "(want 64 hex digits or 32 bytes)", path);
done:
	nedb__wipe(buf, sizeof buf);
	return rc;
}

int
nedb__tmk_get(unsigned char out[NEDB_KEY_LEN], bool *found,
	      const char *opt_file, const char *env_hex, const char *env_file)
{
	int rc;

	*found = false;
	if (opt_file && *opt_file)
		rc = read_tmk_file(out, opt_file);
	else if (env_hex && *env_hex && env_file && *env_file)
		return nedb__err(NEDB_EKEY, "both NEDB_TMK and NEDB_TMK_FILE "
				 "are set: give one key");
	else if (env_hex && *env_hex)
		rc = parse_hex_key(out, env_hex, strlen(env_hex)) ?
		     nedb__err(NEDB_EKEY, "NEDB_TMK is not a key (want 64 "
			       "hex digits, got %zu characters)",
			       strlen(env_hex)) : 0;
	else if (env_file && *env_file)
		rc = read_tmk_file(out, env_file);
	else
		return 0;
	if (!rc)
		*found = true;
	return rc;
}

/* --- key ids and the wrapping key --- */

static int
derive_kek(unsigned char kek[NEDB_KEY_LEN],
	   unsigned char kid[NEDB_KEYID_LEN],
	   const unsigned char tmk[NEDB_KEY_LEN])
{
	unsigned char mac[NEDB_PRF_LEN];
	int rc;

	if ((rc = nedb__hkdf(kek, NEDB_KEY_LEN, tmk, NEDB_KEY_LEN, tmk_salt,
			     sizeof tmk_salt - 1, wrap_info,
			     sizeof wrap_info - 1)))
		return rc;
	if ((rc = nedb__hmac(mac, kek, NEDB_KEY_LEN, kid_info,
			     sizeof kid_info - 1))) {
		nedb__wipe(kek, NEDB_KEY_LEN);
		return rc;
	}
	memcpy(kid, mac, NEDB_KEYID_LEN);
	nedb__wipe(mac, sizeof mac);
	return 0;
}

int
nedb__key_id(unsigned char out[NEDB_KEYID_LEN],
	     const unsigned char tmk[NEDB_KEY_LEN])
{
	unsigned char kek[NEDB_KEY_LEN];
	int rc = derive_kek(kek, out, tmk);

	nedb__wipe(kek, sizeof kek);
	return rc;
}

void
nedb__key_id_hex(char out[2 * NEDB_KEYID_LEN + 1],
		 const unsigned char kid[NEDB_KEYID_LEN])
{
	nedb__hex(out, kid, NEDB_KEYID_LEN);
}

/* --- key.enc --- */

/*
 * Reads a key file of exactly KF_LEN bytes into f and checks its header.
 * NEDB_ENOTFOUND (message set) when absent, NEDB_ECORRUPT when it is
 * not a key file of a format this code reads, NEDB_EIO when unreadable.
 */
static int
read_keyfile(const char *path, unsigned char f[KF_LEN])
{
	unsigned char extra;
	size_t n = 0;
	ssize_t r;
	int fd, rc = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return nedb__err(NEDB_ENOTFOUND, "no key file '%s': "
					 "the database is not encrypted",
					 path);
		return nedb__err(NEDB_EIO, "cannot read '%s': %s", path,
				 strerror(errno));
	}
	while (n < KF_LEN && (r = read(fd, f + n, KF_LEN - n)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = nedb__errno(NEDB_EIO, "cannot read key file");
			break;
		}
		n += (size_t)r;
	}
	if (!rc && n == KF_LEN) {
		while ((r = read(fd, &extra, 1)) < 0 && errno == EINTR)
			;
		if (r > 0)
			rc = nedb__err(NEDB_ECORRUPT, "'%s' is damaged: longer "
				       "than %d bytes", path, KF_LEN);
	}
	close(fd);
	if (rc)
		return rc;
	if (n < KF_LEN)
		return nedb__err(NEDB_ECORRUPT, "'%s' is truncated: %zu bytes, "
				 "want %d", path, n, KF_LEN);
	if (memcmp(f, KF_MAGIC, 8))
		return nedb__err(NEDB_ECORRUPT, "'%s' is not a nedb key file",
				 path);
	if (f[8] != KF_VERSION)
		return nedb__err(NEDB_ECORRUPT, "'%s' has unknown format "
				 "version %u", path, f[8]);
	if (f[9] != KF_ALG || f[10] || f[11])
		return nedb__err(NEDB_ECORRUPT, "'%s' is damaged: unknown "
				 "algorithm %u", path, f[9]);
	return 0;
}

/* Unwraps the key file bytes f with tmk (invariant 4).  The key id is
 * the file's (f + KF_KID) when it returns 0. */
static int
unwrap(const char *path, const unsigned char f[KF_LEN],
       const unsigned char tmk[NEDB_KEY_LEN], unsigned char dek[NEDB_KEY_LEN])
{
	unsigned char kek[NEDB_KEY_LEN], kid[NEDB_KEYID_LEN];
	char want[2 * NEDB_KEYID_LEN + 1], got[2 * NEDB_KEYID_LEN + 1];
	nedb_aead *a = NULL;
	int rc;

	if ((rc = derive_kek(kek, kid, tmk)))
		return rc;
	if (memcmp(kid, f + KF_KID, NEDB_KEYID_LEN)) {
		nedb__key_id_hex(want, f + KF_KID);
		nedb__key_id_hex(got, kid);
		rc = nedb__err(NEDB_EKEY, "wrong key: the database's key id is "
			       "%s, the key given has id %s", want, got);
		goto done;
	}
	if ((rc = nedb__aead_new(&a, kek)))
		goto done;
	rc = nedb__aead_open(a, dek, f, KF_AAD, f + KF_SEALED,
			     KF_LEN - KF_SEALED);
	if (rc == NEDB_EKEY)
		rc = nedb__err(NEDB_ECORRUPT, "'%s' is damaged: the key id "
			       "matches but the wrapped key does not verify",
			       path);
done:
	nedb__aead_free(a);
	nedb__wipe(kek, sizeof kek);
	return rc;
}

/* Writes dek wrapped under tmk into f. */
static int
wrap(unsigned char f[KF_LEN], const unsigned char tmk[NEDB_KEY_LEN],
     const unsigned char dek[NEDB_KEY_LEN])
{
	unsigned char kek[NEDB_KEY_LEN];
	nedb_aead *a = NULL;
	int rc;

	memset(f, 0, KF_LEN);
	memcpy(f, KF_MAGIC, 8);
	f[8] = KF_VERSION;
	f[9] = KF_ALG;
	if (!(rc = derive_kek(kek, f + KF_KID, tmk)) &&
	    !(rc = nedb__aead_new(&a, kek)))
		rc = nedb__aead_seal(a, f + KF_SEALED, f, KF_AAD, dek,
				     NEDB_KEY_LEN);
	nedb__aead_free(a);
	nedb__wipe(kek, sizeof kek);
	return rc;
}

/*
 * Writes f to a new temporary file beside key.enc (mode 0600), synced;
 * its path in *tmpp (caller frees, and unlinks on failure).
 */
static int
write_temp(const char *dir, const unsigned char f[KF_LEN], char **tmpp)
{
	char *tmp = nedb__path_in(dir, NEDB_KEYFILE ".XXXXXX");
	size_t n = 0;
	ssize_t r;
	int fd, rc = 0;

	*tmpp = NULL;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot create key file");
		free(tmp);
		return rc;
	}
	*tmpp = tmp;
	if (fchmod(fd, 0600))
		rc = nedb__errno(NEDB_EIO, "cannot create key file");
	while (!rc && n < KF_LEN) {
		if ((r = write(fd, f + n, KF_LEN - n)) < 0) {
			if (errno == EINTR)
				continue;
			rc = nedb__errno(NEDB_EIO, "cannot write key file");
		} else
			n += (size_t)r;
	}
	if (!rc && (nedb__test_fail("key-fsync") ? (errno = EIO) : fsync(fd)))
		rc = nedb__errno(NEDB_EIO, "cannot sync key file");
	close(fd);
	return rc;
}

int
nedb__key_create(const char *dir, const unsigned char tmk[NEDB_KEY_LEN],
		 unsigned char dek[NEDB_KEY_LEN])
{
	char *path = nedb__path_in(dir, NEDB_KEYFILE), *tmp = NULL;
	unsigned char f[KF_LEN];
	int rc;

	if ((rc = nedb__rand(dek, NEDB_KEY_LEN)) || (rc = wrap(f, tmk, dek)) ||
	    (rc = write_temp(dir, f, &tmp)))
		goto done;
	/* link, not rename: fails rather than replace (invariant 2) */
	if (link(tmp, path)) {
		rc = errno == EEXIST ?
		     nedb__err(NEDB_EREJECTED, "'%s' exists: the database "
			       "already has a key", path) :
		     nedb__errno(NEDB_EIO, "cannot create key file");
		goto done;
	}
	unlink(tmp);
	rc = nedb__fsync_dir(dir);
done:
	if (tmp) {
		unlink(tmp);	/* a no-op after a link and unlink */
		free(tmp);
	}
	if (rc)
		nedb__wipe(dek, NEDB_KEY_LEN);
	nedb__wipe(f, sizeof f);
	free(path);
	return rc;
}

/* nedb__key_open, and the key id (tmk's) in kid when it returns 0. */
static int
key_open(const char *dir, const unsigned char tmk[NEDB_KEY_LEN],
	 unsigned char dek[NEDB_KEY_LEN], unsigned char kid[NEDB_KEYID_LEN])
{
	char *path = nedb__path_in(dir, NEDB_KEYFILE);
	unsigned char f[KF_LEN];
	int rc;

	if (!(rc = read_keyfile(path, f)) && !(rc = unwrap(path, f, tmk, dek)))
		memcpy(kid, f + KF_KID, NEDB_KEYID_LEN);
	nedb__wipe(f, sizeof f);
	free(path);
	return rc;
}

int
nedb__key_open(const char *dir, const unsigned char tmk[NEDB_KEY_LEN],
	       unsigned char dek[NEDB_KEY_LEN])
{
	unsigned char kid[NEDB_KEYID_LEN];

	return key_open(dir, tmk, dek, kid);
}

int
nedb__key_rewrap(const char *dir, const unsigned char old_tmk[NEDB_KEY_LEN],
		 const unsigned char new_tmk[NEDB_KEY_LEN])
{
	char *path = nedb__path_in(dir, NEDB_KEYFILE), *tmp = NULL;
	unsigned char f[KF_LEN], dek[NEDB_KEY_LEN], back[NEDB_KEY_LEN];
	int rc;

	if ((rc = read_keyfile(path, f)) || (rc = unwrap(path, f, old_tmk, dek)) ||
	    (rc = wrap(f, new_tmk, dek)) || (rc = write_temp(dir, f, &tmp)))
		goto done;
	/* invariant 3: what was written opens with the new key */
	if ((rc = read_keyfile(tmp, f)) ||
	    (rc = unwrap(tmp, f, new_tmk, back)))
		goto done;
	if (memcmp(back, dek, sizeof dek)) {
		rc = nedb__err(NEDB_EIO, "key file '%s' did not read back as "
			       "written", tmp);
		goto done;
	}
	nedb__test_pause("key-rewrap");
	if (nedb__test_fail("key-rename") ? (errno = EIO) : rename(tmp, path)) {
		rc = nedb__errno(NEDB_EIO, "cannot replace key file");
		goto done;
	}
	free(tmp);
	tmp = NULL;
	rc = nedb__fsync_dir(dir);
done:
	if (tmp) {
		unlink(tmp);
		free(tmp);
	}
	nedb__wipe(f, sizeof f);
	nedb__wipe(dek, sizeof dek);
	nedb__wipe(back, sizeof back);
	free(path);
	return rc;
}

int
nedb__key_status(const char *dir, bool *encrypted,
		 unsigned char kid[NEDB_KEYID_LEN])
{
	char *path = nedb__path_in(dir, NEDB_KEYFILE);
	unsigned char f[KF_LEN];
	int rc;

	*encrypted = false;
	rc = read_keyfile(path, f);
	if (rc == NEDB_ENOTFOUND)
		rc = 0;
	else if (!rc) {
		*encrypted = true;
		memcpy(kid, f + KF_KID, NEDB_KEYID_LEN);
	}
	nedb__wipe(f, sizeof f);
	free(path);
	return rc;
}

/* The sub-keys of dek into c, with the key id kid; wipes dek.  (The
 * key id comes from key.enc as it was opened or made: deriving it from
 * the TMK again would cost an HKDF and an HMAC more per open.) */
static int
keys_from(struct nedb_crypt *c, unsigned char dek[NEDB_KEY_LEN],
	  const unsigned char kid[NEDB_KEYID_LEN])
{
	int rc;

	if (!(rc = nedb__crypt_keys(c, dek)))
		memcpy(c->kid, kid, NEDB_KEYID_LEN);
	nedb__wipe(dek, NEDB_KEY_LEN);
	return rc;
}

int
nedb__crypt_open(struct nedb_crypt *c, const char *dir,
		 const unsigned char tmk[NEDB_KEY_LEN])
{
	unsigned char dek[NEDB_KEY_LEN], kid[NEDB_KEYID_LEN];
	int rc;

	memset(c, 0, sizeof *c);
	if ((rc = key_open(dir, tmk, dek, kid)))
		return rc;
	return keys_from(c, dek, kid);
}

int
nedb__crypt_create(struct nedb_crypt *c, const char *dir,
		   const unsigned char tmk[NEDB_KEY_LEN])
{
	unsigned char dek[NEDB_KEY_LEN], kid[NEDB_KEYID_LEN];
	int rc;

	memset(c, 0, sizeof *c);
	if ((rc = nedb__key_create(dir, tmk, dek)))
		return rc;
	if ((rc = nedb__key_id(kid, tmk))) {
		nedb__wipe(dek, sizeof dek);
		return rc;
	}
	return keys_from(c, dek, kid);
}

/* A temporary key file's name: key.enc. and mkostemp's six characters. */
static bool
is_key_temp(const char *name)
{
	static const char pre[] = NEDB_KEYFILE ".";

	return !strncmp(name, pre, sizeof pre - 1) &&
	       strlen(name) == sizeof pre - 1 + 6;
}

int
nedb__key_cleanup(const char *dir)
{
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (!(d = opendir(dir)))
		return nedb__errno(NEDB_EIO, "cannot read database directory");
	while ((e = readdir(d)))
		if (is_key_temp(e->d_name) && unlinkat(dirfd(d), e->d_name, 0) &&
		    errno != ENOENT && !rc)
			rc = nedb__errno(NEDB_EIO, "cannot remove a temporary "
					 "key file");
	closedir(d);
	return rc;
}

int
nedb_key_derive(unsigned char tmk[NEDB_KEY_LEN], const void *pass,
		size_t passlen, const void *salt, size_t saltlen)
{
	if (!passlen)
		return nedb__err(NEDB_EINPUT, "the passphrase is empty");
	if (!saltlen)
		return nedb__err(NEDB_EINPUT, "the salt is empty");
	return nedb__scrypt(tmk, NEDB_KEY_LEN, pass, passlen, salt, saltlen,
			    NEDB_SCRYPT_N, NEDB_SCRYPT_R, NEDB_SCRYPT_P);
}
