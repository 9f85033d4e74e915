/*
 * unit.h - a minimal harness for library unit tests: one function per
 * behaviour; a failed check prints file:line and what failed, and the
 * program exits 1 after running every test.
 */
#ifndef NEDB_UNIT_H
#define NEDB_UNIT_H

#include <stdio.h>
#include <stdlib.h>
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

/* How many rounds of a random loop of n rounds to run: n, or a part of
 * it (at least 1) when tests/unit.bats sets NEDB_UNIT_SAMPLE=K (a Kth,
 * in the sanitizer suite). */
static inline long
unit_rounds(long n)
{
	const char *k = getenv("NEDB_UNIT_SAMPLE");
	long d = k ? atol(k) : 1;

	return d > 1 ? (n + d - 1) / d : n;
}

#define UNIT_DONE() do { \
	printf("%d tests, %d failed checks\n", unit_run, unit_failed); \
	return unit_failed ? 1 : 0; \
} while (0)

#endif
