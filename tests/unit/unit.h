/*
 * unit.h - a minimal harness for library unit tests: one function per
 * behaviour; a failed check prints file:line and what failed, and the
 * program exits 1 after running every test.
 */
#ifndef NEDB_UNIT_H
#define NEDB_UNIT_H

#include <stdio.h>
#include <string.h>

static int unit_failed, unit_run;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, \
			__LINE__, #cond); \
		unit_failed++; \
	} \
} while (0)

#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (!g_ || strcmp(g_, w_)) { \
		fprintf(stderr, "%s:%d: got '%s', want '%s'\n", __FILE__, \
			__LINE__, g_ ? g_ : "(null)", w_); \
		unit_failed++; \
	} \
} while (0)

#define RUN(fn) do { unit_run++; fn(); } while (0)

#define UNIT_DONE() do { \
	printf("%d tests, %d failed checks\n", unit_run, unit_failed); \
	return unit_failed ? 1 : 0; \
} while (0)

#endif
