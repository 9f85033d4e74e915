/*
 * jv.c - loads libjq on first use (see nedb_jv.h for why).
 *
 * Invariant: nedb__jvt is either NULL or points at a table whose every
 * slot is resolved; it is set only once the whole table is filled.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#define NEDB_JV_NO_MACROS
#include "nedb_jv.h"

struct nedb_jv_table *nedb__jvt;
static struct nedb_jv_table table;

struct nedb_jv_table *
nedb__jv_load(void)
{
	void *h;

	if (nedb__jvt)
		return nedb__jvt;
	h = dlopen("libjq.so.1", RTLD_NOW | RTLD_GLOBAL);
	if (!h)
		goto fail;
#define NEDB_JV_RESOLVE(f) \
	if (!(*(void **)&table.f = dlsym(h, #f))) goto fail;
	NEDB_JV_FUNCS(NEDB_JV_RESOLVE)
#undef NEDB_JV_RESOLVE
	nedb__jvt = &table;
	return nedb__jvt;
fail:
	fprintf(stderr, "nedb: cannot load libjq.so.1: %s\n", dlerror());
	exit(5);
}
