/*
 * jv.c - loads libjq on first use (see nedb_jv.h for why).
 *
 * Invariant: nedb__jvt is either NULL or points at a table whose every
 * slot is resolved; it is set only once the whole table is filled.
 * Every entry point that parses JSON with jq calls nedb__jv_require
 * first and returns its error: the library reports a missing libjq, it
 * never exits over it, and no jv call is made without the table.
 * Two threads with handles of their own may load it at once: the
 * loading is serialised and the pointer published with release order.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "internal.h"
#define NEDB_JV_NO_MACROS
#include "nedb_jv.h"

struct nedb_jv_table *nedb__jvt;
static struct nedb_jv_table table;

/* The table, or NULL (with nedb_errmsg set) when libjq cannot load. */
struct nedb_jv_table *
nedb__jv_load(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	const char *why;
	void *h;

	if (__atomic_load_n(&nedb__jvt, __ATOMIC_ACQUIRE))
		return nedb__jvt;
	pthread_mutex_lock(&lock);
	if (nedb__jvt)
		goto done;
	if (nedb__test_fail("libjq")) {
		why = "cannot open shared object file (test)";
		goto fail;
	}
	h = dlopen("libjq.so.1", RTLD_NOW | RTLD_GLOBAL);
	if (!h)
		goto fail_dl;
#define NEDB_JV_RESOLVE(f) \
	if (!(*(void **)&table.f = dlsym(h, #f))) goto fail_dl;
	NEDB_JV_FUNCS(NEDB_JV_RESOLVE)
#undef NEDB_JV_RESOLVE
	__atomic_store_n(&nedb__jvt, &table, __ATOMIC_RELEASE);
done:
	pthread_mutex_unlock(&lock);
	return nedb__jvt;
fail_dl:
	why = dlerror();
fail:
	pthread_mutex_unlock(&lock);
	nedb__err(NEDB_EIO, "cannot load libjq.so.1: %s", why ? why : "?");
	return NULL;
}

int
nedb__jv_require(void)
{
	return nedb__jvt || nedb__jv_load() ? 0 : NEDB_EIO;
}
