/*
 * test_time.c - nedb_time_parse and nedb__time_format (core/time.c):
 * the forms a time is written in, the instants they name, and the
 * texts refused.
 */
#include <stdint.h>
#include "internal.h"
#include "unit.h"

static void
test_forms_name_their_instant(void)
{
	static const struct {
		const char *text;
		int64_t ms;
	} t[] = {
		{"0", 0},
		{"2026", 2026},		/* digits are ms, never a year */
		{"1765000000123", 1765000000123},
		{"1970-01-01", 0},
		{"2026-12-06", 1796515200000},
		{"2026-12-06T16:28", 1796574480000},
		{"2026-12-06T16:28:40", 1796574520000},
		{"2026-12-06T16:28:40Z", 1796574520000},
		{"2026-12-06t16:28:40z", 1796574520000},
		{"2026-12-06 16:28:40", 1796574520000},
		{"2026-12-06T16:28:40.1Z", 1796574520100},
		{"2026-12-06T16:28:40.123Z", 1796574520123},
		{"2026-12-06T16:28:40.123999999Z", 1796574520123},
		{"2026-12-06T17:28:40.123+01:00", 1796574520123},
		{"2026-12-06T10:58:40.123-05:30", 1796574520123},
		{"2026-12-06T23:59:60Z", 1796601600000},	/* leap second */
		{"2024-02-29", 1709164800000},
		{"2000-02-29T00:00Z", 951782400000},
		{"1969-12-31T23:59:59.999Z", -1},
		{"0000-01-01T00:00:00Z", -62167219200000},
		{"9999-12-31T23:59:59.999Z", 253402300799999},
		{"253402300799999", 253402300799999},
	};

	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		int64_t ms = 42;
		int rc = nedb_time_parse(t[i].text, strlen(t[i].text), &ms);

		if (rc || ms != t[i].ms)
			fprintf(stderr, "'%s': rc %d, %lld, want %lld\n",
				t[i].text, rc, (long long)ms,
				(long long)t[i].ms);
		CHECK(rc == 0 && ms == t[i].ms);
	}
}

static void
test_bad_texts_are_usage_errors(void)
{
	static const char *const bad[] = {
		"", "x", "2026-12", "2026-1-06", "2026-12-6",
		"2026-00-01", "2026-13-01", "2026-02-29", "2100-02-29",
		"2026-04-31", "2026-12-00", "2026-12-06T", "2026-12-06T16",
		"2026-12-06T16:2", "2026-12-06T24:00", "2026-12-06T16:60",
		"2026-12-06T16:28:61", "2026-12-06T16:28:40.",
		"2026-12-06T16:28:40.1234567890", "2026-12-06T16:28:40Zz",
		"2026-12-06T16:28:40+01", "2026-12-06T16:28:40+0100",
		"2026-12-06T16:28:40+24:00", "2026-12-06T16:28:40+01:60",
		"2026-12-06X16:28", "2026-12-06  16:28", " 2026-12-06",
		"2026-12-06 ", "-1", "+5", "1e3", "12345678901234567890",
		"253402300800000", "0000-01-01T00:00+00:01",
		"9999-12-31T23:59:59.999-00:01", "2026-12-06\n",
	};

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int64_t ms = 42;
		int rc = nedb_time_parse(bad[i], strlen(bad[i]), &ms);

		if (rc != NEDB_EUSAGE)
			fprintf(stderr, "'%s' accepted: %lld\n", bad[i],
				(long long)ms);
		CHECK(rc == NEDB_EUSAGE && ms == 42);
		CHECK(!strncmp(nedb_errmsg(), "bad time '", 10));
	}
}

static void
test_a_text_need_not_end_in_nul(void)
{
	int64_t ms;

	CHECK(nedb_time_parse("2026-12-06T16:28:40Zjunk", 20, &ms) == 0 &&
	      ms == 1796574520000);
	CHECK(nedb_time_parse("1765000000123456", 4, &ms) == 0 && ms == 1765);
}

static void
test_format_writes_back_what_parse_reads(void)
{
	static const int64_t t[] = {
		0, 1, 999, 1796574520123, -1, -86400000, 951782400000,
		-62167219200000, 253402300799999,
	};
	char buf[48];

	CHECK_STR(nedb__time_format(buf, 1796574520123),
		  "2026-12-06T16:28:40.123Z");
	CHECK_STR(nedb__time_format(buf, -1), "1969-12-31T23:59:59.999Z");
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		int64_t ms;

		nedb__time_format(buf, t[i]);
		CHECK(nedb_time_parse(buf, strlen(buf), &ms) == 0 &&
		      ms == t[i]);
	}
}

int
main(void)
{
	RUN(test_forms_name_their_instant);
	RUN(test_bad_texts_are_usage_errors);
	RUN(test_a_text_need_not_end_in_nul);
	RUN(test_format_writes_back_what_parse_reads);
	UNIT_DONE();
}
