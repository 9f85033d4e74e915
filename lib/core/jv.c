/*
 * jv.c - loads libjq on first use (see nedb_jv.h for why).
 *
 * Invariant: nedb__jvt is either NULL or points at a table whose every
 * slot is resolved; it is set only once the whole table is filled.
 * Every entry point that parses JSON with jq calls nedb__jv_require
 * first and returns its error: the library reports a missing libjq, it
 * never exits over it, and no jv call is made without the table.
 */
#include <dlfcn.h>
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
	const char *why;
	void *h;

	if (nedb__jvt)
		return nedb__jvt;
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
	nedb__jvt = &table;
	return nedb__jvt;
fail_dl:
	why = dlerror();
fail:
	nedb__err(NEDB_EIO, "cannot load libjq.so.1: %s", why ? why : "?");
	return NULL;
}

int
nedb__jv_require(void)
{
	return nedb__jvt || nedb__jv_load() ? 0 : NEDB_EIO;
}
