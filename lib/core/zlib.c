/*
 * zlib.c - zlib, loaded on first use (like libjq and libcrypto): only
 * pruned databases read archives (log/archive.c) and only the file store
 * (file/store.c) compresses chunks, and a plain read must not pay for
 * the library at start-up.  And ISA-L's igzip, when it is installed,
 * for the file store's chunks: the same format, written and read faster.
 *
 * Invariant: nedb__z's slots (nedb__isal's) are all resolved once
 * nedb__zlib_load has returned 0 (nedb__isal_load true) in any thread; they are filled under a lock and published with release order,
 * so that threads the file store starts after a load see them whole.
 */
#include <dlfcn.h>
#include <pthread.h>
#include "internal.h"

struct nedb_zlib nedb__z;
static int loaded;

int
nedb__zlib_load(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct nedb_zlib t;
	void *h;
	int rc = 0;

	if (__atomic_load_n(&loaded, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&lock);
	if (loaded)
		goto done;
	if (!(h = dlopen("libz.so.1", RTLD_NOW)) ||
	    !(*(void **)&t.compress2 = dlsym(h, "compress2")) ||
	    !(*(void **)&t.uncompress = dlsym(h, "uncompress")) ||
	    !(*(void **)&t.compressBound = dlsym(h, "compressBound")) ||
	    !(*(void **)&t.deflateInit2_ = dlsym(h, "deflateInit2_")) ||
	    !(*(void **)&t.deflateReset = dlsym(h, "deflateReset")) ||
	    !(*(void **)&t.deflateParams = dlsym(h, "deflateParams")) ||
	    !(*(void **)&t.deflate = dlsym(h, "deflate")) ||
	    !(*(void **)&t.deflateEnd = dlsym(h, "deflateEnd")) ||
	    !(*(void **)&t.inflateInit_ = dlsym(h, "inflateInit_")) ||
	    !(*(void **)&t.inflateReset = dlsym(h, "inflateReset")) ||
	    !(*(void **)&t.inflate = dlsym(h, "inflate")) ||
	    !(*(void **)&t.inflateEnd = dlsym(h, "inflateEnd")) ||
	    !(*(void **)&t.version = dlsym(h, "zlibVersion"))) {
		rc = nedb__err(NEDB_EIO, "cannot load zlib: %s", dlerror());
		goto done;
	}
	nedb__z = t;
	__atomic_store_n(&loaded, 1, __ATOMIC_RELEASE);
done:
	pthread_mutex_unlock(&lock);
	return rc;
}

struct nedb_isal nedb__isal;
static int isal_state;		/* 0 not tried, 1 loaded, 2 not there */

bool
nedb__isal_load(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct nedb_isal t;
	int st = __atomic_load_n(&isal_state, __ATOMIC_ACQUIRE);
	void *h;

	if (st)
		return st == 1;
	pthread_mutex_lock(&lock);
	if ((st = isal_state))
		goto done;
	st = 2;
	if (nedb__test_fail("isal") || !(h = dlopen("libisal.so.2", RTLD_NOW)))
		goto publish;
	if (!(*(void **)&t.deflate_stateless_init =
	      dlsym(h, "isal_deflate_stateless_init")) ||
	    !(*(void **)&t.deflate_stateless =
	      dlsym(h, "isal_deflate_stateless")) ||
	    !(*(void **)&t.inflate_init = dlsym(h, "isal_inflate_init")) ||
	    !(*(void **)&t.inflate_stateless =
	      dlsym(h, "isal_inflate_stateless"))) {
		dlclose(h);
		goto publish;
	}
	nedb__isal = t;
	st = 1;
publish:
	__atomic_store_n(&isal_state, st, __ATOMIC_RELEASE);
done:
	pthread_mutex_unlock(&lock);
	return st == 1;
}
