/*
 * util.c - errors, buffers, names, hex, time: the small things every
 * other file of libnedb uses.
 *
 * The last error is kept per thread: a code from the short list in
 * nedb.h and a one-line message, lowercase, subject quoted, no full
 * stop (git's CodingGuidelines).
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "internal.h"

static __thread char errbuf[512];
static __thread long errpos = -1;

const char *
nedb_errmsg(void)
{
	return errbuf;
}

const char *
nedb_version(void)
{
	return NEDB_VERSION;
}

int
nedb__err(int code, const char *fmt, ...)
{
	char tmp[sizeof errbuf];
	va_list ap;

	/* format aside: an argument may be nedb_errmsg() itself */
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	memcpy(errbuf, tmp, sizeof errbuf);
	errpos = -1;
	return code;
}

long
nedb_errpos(void)
{
	return errpos;
}

void
nedb__set_errpos(long pos)
{
	errpos = pos;
}

int
nedb__errno(int code, const char *what)
{
	int e = errno;

	if (e == ENOSPC || e == EDQUOT)
		return nedb__err(code, "%s: disk full", what);
	return nedb__err(code, "%s: %s", what, strerror(e));
}

/*
 * The end of a cursor walk whose rc is either LMDB's (the walk ran off
 * the end with MDB_NOTFOUND, or an MDB_* error) or a callback's (a
 * NEDB_E* code, or 1 for "stop"): never a raw LMDB code to the caller.
 */
int
nedb__mdb_end(int rc)
{
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc >= MDB_KEYEXIST && rc <= MDB_LAST_ERRCODE)
		return nedb__mdb(rc, "cannot read view");
	return rc;
}

int
nedb__mdb(int rc, const char *what)
{
	/* already one of ours, its message set: an encrypted view's
	 * reads and writes (view/kv.h) return them beside LMDB's codes */
	if (rc < 0 && rc >= NEDB_EBROKEN)
		return rc;
	switch (rc) {
	case 0:
		return 0;
	case MDB_NOTFOUND:
		return nedb__err(NEDB_ENOTFOUND, "%s: not found", what);
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
		return nedb__err(NEDB_ECORRUPT, "%s: view is damaged (%s); "
				 "run nedb-checkpoint --rebuild", what,
				 mdb_strerror(rc));
	case ENOSPC:
	case EDQUOT:
	case MDB_MAP_FULL:
		return nedb__err(NEDB_EIO, "%s: disk full", what);
	case MDB_READERS_FULL:
		return nedb__err(NEDB_EBUSY, "%s: too many readers", what);
	default:
		return nedb__err(NEDB_EIO, "%s: %s", what, mdb_strerror(rc));
	}
}

int
nedb_exit_status(int err)
{
	switch (err) {
	case NEDB_OK:
		return 0;
	case NEDB_ENOTFOUND:
	case NEDB_EBROKEN:
		return 1;
	case NEDB_EUSAGE:
		return 2;
	case NEDB_EREJECTED:
		return 3;
	case NEDB_EINPUT:
		return 4;
	default:
		return 5;
	}
}

int
nedb_durability_parse(const char *s)
{
	if (!strcmp(s, "durable"))
		return NEDB_DURABLE;
	if (!strcmp(s, "safe"))
		return NEDB_SAFE;
	if (!strcmp(s, "fast"))
		return NEDB_FAST;
	return -1;
}

/*
 * Out of memory: one policy for the whole library, Redis's zmalloc's.
 * An allocation that fails calls the handler (nedb_set_oom), then
 * aborts; no caller ever sees NULL, so no code path has to unwind a
 * half-built op, and no nedb_buf_* result can be ignored wrongly (they
 * succeed or do not return).  The default handler writes one line to
 * stderr: the one thing the library ever prints, since it is about to
 * die.
 */
static void (*oom_fn)(size_t);

void
nedb_set_oom(void (*fn)(size_t size))
{
	oom_fn = fn;
}

static void
oom(size_t size)
{
	char msg[80], tmp[24], *d = tmp + sizeof tmp;
	size_t n = 0;
	ssize_t w;

	if (oom_fn)
		oom_fn(size);
	/* no allocation here: the line is built in place */
	do
		*--d = (char)('0' + size % 10);
	while (size /= 10);
	memcpy(msg, "nedb: out of memory allocating ", 31);
	n = 31;
	memcpy(msg + n, d, (size_t)(tmp + sizeof tmp - d));
	n += (size_t)(tmp + sizeof tmp - d);
	memcpy(msg + n, " bytes\n", 7);
	w = write(2, msg, n + 7);
	(void)w;
	abort();
}

void *
nedb__malloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

void *
nedb__calloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		oom(n * size);
	return p;
}

void *
nedb__realloc(void *old, size_t n)
{
	void *p = realloc(old, n ? n : 1);

	if (!p)
		oom(n);
	return p;
}

/* A NUL-terminated copy of exactly n bytes (which may hold NULs). */
char *
nedb__memdup(const char *s, size_t n)
{
	char *p = nedb__malloc(n + 1);

	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *
nedb__strdup(const char *s)
{
	return nedb__memdup(s, strlen(s));
}

/* dir/name, allocated (never NULL: see nedb_set_oom). */
char *
nedb__path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = nedb__malloc(n);

	snprintf(p, n, "%s/%s", dir, name);
	return p;
}

/*
 * Makes a directory's entries durable (after a create or rename in it).
 * Every caller checks: a failed fsync is NEDB_EIO, never ignored.
 */
int
nedb__fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0;

	if (fd >= 0 && nedb__test_fail("fsync-dir")) {
		close(fd);
		fd = -1;
		errno = EIO;
	}
	if (fd < 0 || fsync(fd))
		rc = nedb__errno(NEDB_EIO, "cannot sync directory");
	if (fd >= 0)
		close(fd);
	return rc;
}

int
nedb_buf_grow(nedb_buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX / 2 - b->len)
		oom(extra);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 256;
	while (cap < need)
		cap *= 2;
	b->p = nedb__realloc(b->p, cap);
	b->cap = cap;
	return 0;
}

int
nedb_buf_add(nedb_buf *b, const void *p, size_t n)
{
	if (nedb_buf_grow(b, n))
		return NEDB_EIO;
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = 0;
	return 0;
}

int
nedb_buf_puts(nedb_buf *b, const char *s)
{
	return nedb_buf_add(b, s, strlen(s));
}

int
nedb_buf_printf(nedb_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || nedb_buf_grow(b, (size_t)n))
		return NEDB_EIO;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int
nedb__buf_u64(nedb_buf *b, uint64_t v)
{
	char tmp[24], *p = tmp + sizeof tmp;

	do
		*--p = (char)('0' + v % 10);
	while (v /= 10);
	return nedb_buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

int
nedb__buf_i64(nedb_buf *b, int64_t v)
{
	if (v < 0) {
		if (nedb_buf_add(b, "-", 1))
			return NEDB_EIO;
		return nedb__buf_u64(b, (uint64_t)0 - (uint64_t)v);
	}
	return nedb__buf_u64(b, (uint64_t)v);
}

int
nedb_buf_json_str(nedb_buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;
	char *o;

	if (nedb_buf_grow(b, n * 6 + 2))
		return NEDB_EIO;
	o = b->p + b->len;
	*o++ = '"';
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\') {
			*o++ = '\\';
			*o++ = (char)c;
		} else if (c < 0x20) {
			*o++ = '\\';
			switch (c) {
			case '\n': *o++ = 'n'; break;
			case '\t': *o++ = 't'; break;
			case '\r': *o++ = 'r'; break;
			case '\b': *o++ = 'b'; break;
			case '\f': *o++ = 'f'; break;
			default:
				*o++ = 'u'; *o++ = '0'; *o++ = '0';
				*o++ = hex[c >> 4]; *o++ = hex[c & 15];
			}
		} else if (c < 0x80) {
			*o++ = (char)c;
		} else {
			/* JSON text is UTF-8: a byte that starts no valid
			 * sequence becomes U+FFFD */
			size_t l = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

			if (c >= 0xc2 && c <= 0xf4 && i + l <= n &&
			    nedb__utf8_valid((const unsigned char *)s + i, l)) {
				memcpy(o, s + i, l);
				o += l;
				i += l - 1;
			} else {
				memcpy(o, "\\ufffd", 6);
				o += 6;
			}
		}
	}
	*o++ = '"';
	*o = 0;
	b->len = (size_t)(o - b->p);
	return 0;
}

void
nedb_buf_free(nedb_buf *b)
{
	if (!b)
		return;
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

bool
nedb__utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		size_t k;
		unsigned cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else
			return false;
		if (n - i <= k)
			return false;
		for (size_t j = 1; j <= k; j++) {
			if ((s[i + j] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += k + 1;
	}
	return true;
}

int
nedb_check_coll(const char *coll)
{
	size_t n = strlen(coll), i;

	if (n == 0 || n > MAX_COLL)
		goto bad;
	for (i = 0; i < n; i++) {
		char c = coll[i];

		if (!(c == '_' || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') || (i && c >= '0' && c <= '9')))
			goto bad;
	}
	return 0;
bad:
	return nedb__err(NEDB_EINPUT, "bad collection name '%.80s': "
			 "want [A-Za-z_][A-Za-z0-9_]*, 1-64 chars", coll);
}

/* Database names of nedbd (SPEC 7): no path can be made of one. */
int
nedb_check_dbname(const char *name, size_t n)
{
	size_t i;

	if (n == 0 || n > 64)
		goto bad;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!(c == '_' || c == '-' || (c >= 'A' && c <= 'Z') ||
		      (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			goto bad;
	}
	return 0;
bad:
	return nedb__err(NEDB_EINPUT, "bad database name '%.*s': want "
			 "[A-Za-z0-9_-], 1-64 chars", n > 80 ? 80 : (int)n,
			 name);
}

int
nedb_check_id(const char *id, size_t n)
{
	size_t i;

	if (n == 0)
		return nedb__err(NEDB_EINPUT, "bad id: empty");
	if (n > MAX_ID)
		return nedb__err(NEDB_EINPUT, "bad id '%.40s...': longer than "
				 "%d bytes", id, MAX_ID);
	/* printable ASCII, as most ids are: nothing more to check */
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 ||
		    (unsigned char)id[i] >= 0x7f)
			break;
	if (i == n)
		return 0;
	/* C0 (below 0x20), DEL and C1 (U+0080-U+009F: 0xc2 0x80-0x9f) */
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f ||
		    ((unsigned char)id[i] == 0xc2 && i + 1 < n &&
		     (unsigned char)id[i + 1] >= 0x80 &&
		     (unsigned char)id[i + 1] <= 0x9f))
			return nedb__err(NEDB_EINPUT, "bad id: control "
					 "character at byte %zu", i + 1);
	if (!nedb__utf8_valid((const unsigned char *)id, n))
		return nedb__err(NEDB_EINPUT, "bad id: not valid UTF-8");
	return 0;
}

void
nedb__hex(char *out, const unsigned char *in, size_t n)
{
	/* each byte's two digits: a load a byte, not two */
	static const char pair[513] =
		"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
		"202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
		"404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
		"606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
		"808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
		"a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
		"c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
		"e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

	for (size_t i = 0; i < n; i++)
		memcpy(out + 2 * i, pair + 2 * in[i], 2);
	out[2 * n] = 0;
}

/* Lowercase hex digits to their values plus one; 0 for anything else. */
static const unsigned char hexval1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15,
	['f'] = 16,
};

/* Hashes are checked by the million (nedb-verify): one table lookup a
 * digit and one test for the whole string, no branch per digit. */
int
nedb__unhex(unsigned char *out, const char *in, size_t n)
{
	unsigned bad = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned h = hexval1[(unsigned char)in[2 * i]] - 1u,
			 l = hexval1[(unsigned char)in[2 * i + 1]] - 1u;

		bad |= h | l;	/* a non-digit wraps to all ones */
		out[i] = (unsigned char)(h << 4 | l);
	}
	return bad > 15 ? -1 : 0;
}

int64_t
nedb_now_ms(void)
{
	return nedb__now_ms();
}

int64_t
nedb__now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
nedb__put_be64(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

uint64_t
nedb__get_be64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/*
 * Test hooks, read from the environment once.  NEDB_TEST_FAIL=name makes
 * the point name fail as if the system call behind it had failed;
 * NEDB_TEST_PAUSE=name with NEDB_TEST_DIR=dir makes a process that
 * reaches point name create dir/name.reached and wait until dir/name.go
 * exists, so that a test can hold a race window open without guessing
 * at times.  Unset, each costs a comparison.
 */
static const char *
test_env(const char *var, const char **cache, int *read_once)
{
	if (!*read_once) {
		*cache = getenv(var);
		*read_once = 1;
	}
	return *cache;
}

bool
nedb__test_fail(const char *name)
{
	static const char *v;
	static int once;
	const char *e = test_env("NEDB_TEST_FAIL", &v, &once);
	size_t n = strlen(name);

	/* one name, or several separated by commas */
	for (; e && *e; e += strcspn(e, ","), e += *e == ',')
		if (!strncmp(e, name, n) && (e[n] == ',' || !e[n]))
			return true;
	return false;
}

void
nedb__test_pause(const char *name)
{
	static const char *v;
	static int once;
	const char *e = test_env("NEDB_TEST_PAUSE", &v, &once);
	const char *dir = getenv("NEDB_TEST_DIR");
	char path[4096];
	int fd;

	if (!e || !dir || strcmp(e, name))
		return;
	snprintf(path, sizeof path, "%s/%s.reached", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) >= 0)
		close(fd);
	snprintf(path, sizeof path, "%s/%s.go", dir, name);
	while (access(path, F_OK))
		usleep(1000);
}

/*
 * The clock ops are stamped with: the real one, or with NEDB_TEST_NOW=ms
 * (a test hook, read once) that fixed time, so that a test can give ops
 * the times it needs (the same time, a clock gone back) without sleeping.
 */
int64_t
nedb__op_clock(void)
{
	static const char *v;
	static int once;
	const char *e = test_env("NEDB_TEST_NOW", &v, &once);
	char *end;
	long long t;

	if (e && *e) {
		t = strtoll(e, &end, 10);
		if (!*end)
			return t;
	}
	return nedb__now_ms();
}

/*
 * Writes all n bytes, going on after a short write: a full disk shows as
 * a short write first, and only the next write says ENOSPC (errno is not
 * set by a short write, so reporting it then would name whatever failed
 * last).  -1 with errno set.
 */
int
nedb__write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		if (w == 0) {
			errno = ENOSPC;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads the whole (small) file at path into out: 0, or -1 with errno. */
int
nedb__read_file(const char *path, nedb_buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;

	if (fd < 0)
		return -1;
	out->len = 0;
	for (;;) {
		nedb_buf_grow(out, 4096);
		n = read(fd, out->p + out->len, 4096);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		out->len += (size_t)n;
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

/*
 * Replaces path (in dir) with the n bytes at p, durably: a temporary
 * dir/.tmp.XXXXXX written and fsynced, renamed over path, dir fsynced.
 * A crash leaves the old file or the new one whole, and maybe a
 * .tmp.XXXXXX, which the caller's owner of dir may remove under its
 * lock.  hook names the test pause before the rename and the test
 * failure of the rename (NEDB_TEST_PAUSE, NEDB_TEST_FAIL); NULL for none.
 */
int
nedb__replace_file(const char *dir, const char *path, const void *p,
		   size_t n, const char *hook)
{
	char *tmp = nedb__path_in(dir, ".tmp.XXXXXX");
	int fd, rc = 0;

	if (!tmp)
		return nedb__err(NEDB_EIO, "out of memory");
	if ((fd = mkstemp(tmp)) < 0) {
		rc = nedb__err(NEDB_EIO, "cannot create a file in '%s': %s",
			       dir, strerror(errno));
		goto done;
	}
	if (nedb__write_all(fd, p, n) || fsync(fd)) {
		rc = nedb__err(NEDB_EIO, "cannot write '%s': %s", tmp,
			       strerror(errno));
		close(fd);
		unlink(tmp);
		goto done;
	}
	if (hook)
		nedb__test_pause(hook);
	if (close(fd) || (hook && nedb__test_fail(hook) ? (errno = EIO) :
			  rename(tmp, path))) {
		rc = nedb__err(NEDB_EIO, "cannot replace '%s': %s", path,
			       strerror(errno));
		unlink(tmp);
		goto done;
	}
	rc = nedb__fsync_dir(dir);
done:
	free(tmp);
	return rc;
}

/*
 * Small random values without libcrypto (a plaintext database's salts):
 * getrandom(2) a pool at a time, as nedb__rand_small does with OpenSSL.
 * A forked child draws afresh: a fork handler moves the generation on,
 * which every thread's pool compares with its own (a getpid(2) per
 * call, as this did before, cost a system call per op: 13% of a bulk
 * put).  The bytes are wiped as they are handed out.  A pool starts
 * small (a one-op command draws 512 bytes) and doubles at each refill
 * up to 16 KiB, so that a stream of puts makes one getrandom(2) per
 * thousand salts.
 */
static unsigned rand_gen = 1;
static pthread_once_t rand_once = PTHREAD_ONCE_INIT;

static void
rand_forked(void)
{
	rand_gen++;
}

static void
rand_init(void)
{
	pthread_atfork(NULL, NULL, rand_forked);
}

int
nedb__rand_pool(unsigned char *out, size_t n)
{
	static __thread unsigned char pool[16384];
	static __thread size_t left, size = 256;
	static __thread unsigned owner;
	unsigned gen;

	pthread_once(&rand_once, rand_init);
	gen = __atomic_load_n(&rand_gen, __ATOMIC_RELAXED);
	if (n > 256) {
		if (getrandom(out, n, 0) != (ssize_t)n)
			return nedb__errno(NEDB_EIO, "cannot read random bytes");
		return 0;
	}
	if (left < n || owner != gen) {
		if (size < sizeof pool)
			size *= 2;
		if (getrandom(pool, size, 0) != (ssize_t)size)
			return nedb__errno(NEDB_EIO, "cannot read random bytes");
		left = size;
		owner = gen;
	}
	memcpy(out, pool + size - left, n);
	explicit_bzero(pool + size - left, n);
	left -= n;
	return 0;
}
