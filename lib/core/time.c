/*
 * time.c - the times a user may write for AS OF TIMESTAMP and --as-of
 * @TIME, read into the clock ops are stamped with (ms since the epoch,
 * UTC: an op's "ts" member), and written back for messages.
 *
 * Accepted (nedb-nql(7) has the same list), for instants within the
 * years 0000 to 9999 UTC:
 *   1765000000123                  ms since the epoch, as "ts" holds it
 *   2026-12-06                     that day's first instant, UTC
 *   2026-12-06T16:28               minutes; UTC unless an offset follows
 *   2026-12-06T16:28:40            seconds
 *   2026-12-06T16:28:40.123456789  fractions of a second, 1 to 9 digits
 *   ... then Z, or +HH:MM / -HH:MM (RFC 3339), or nothing (UTC)
 * 'T' may be 't' or one space, 'Z' may be 'z' (RFC 3339 §5.6 allows
 * both).  A second of 60 (a leap second) is the next second's first
 * instant.  Fractions finer than a millisecond are cut, not rounded:
 * an op stamped ms m is at or before a time t exactly when m <= floor(t),
 * so the cut never changes which ops a time covers.
 *
 * Nothing here reads the clock, the environment or the database: the
 * NQL parser (and its fuzz target) use it as they are.
 */
#include <stdio.h>
#include "internal.h"

/* 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z */
#define TIME_MIN (-719528 * INT64_C(86400000))
#define TIME_MAX (2932896 * INT64_C(86400000) + 86399999)

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* n digits at s[*i] as a number; false if they are not all digits. */
static bool
digits(const char *s, size_t len, size_t *i, unsigned n, unsigned *out)
{
	unsigned v = 0;

	if (*i + n > len)
		return false;
	for (unsigned k = 0; k < n; k++) {
		char c = s[*i + k];

		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned)(c - '0');
	}
	*i += n;
	*out = v;
	return true;
}

static bool
lit(const char *s, size_t len, size_t *i, char c)
{
	if (*i >= len || s[*i] != c)
		return false;
	(*i)++;
	return true;
}

int
nedb_time_parse(const char *s, size_t len, int64_t *ms)
{
	static const unsigned mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30,
					 31, 30, 31};
	unsigned y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, oh, om;
	int64_t t, off = 0;
	size_t i = 0;
	const char *what = "want 2026-12-06, 2026-12-06T16:28:40.123Z (RFC "
			   "3339) or ms since the epoch";

	if (len == 0)
		goto bad;
	/* all digits: ms since the epoch, as the log's "ts" */
	while (i < len && s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == len) {
		uint64_t v = 0;

		if (len > 18)
			goto bad;
		for (i = 0; i < len; i++)
			v = v * 10 + (uint64_t)(s[i] - '0');
		t = (int64_t)v;
		goto range;
	}
	i = 0;
	if (!digits(s, len, &i, 4, &y) || !lit(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, &mo) || !lit(s, len, &i, '-') ||
	    !digits(s, len, &i, 2, &d))
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] + (mo == 2 && leap(y)))
		return nedb__err(NEDB_EUSAGE, "bad time '%.*s': no such date",
				 (int)(len > 40 ? 40 : len), s);
	if (i < len) {
		if (s[i] != 'T' && s[i] != 't' && s[i] != ' ')
			goto bad;
		i++;
		if (!digits(s, len, &i, 2, &h) || !lit(s, len, &i, ':') ||
		    !digits(s, len, &i, 2, &mi))
			goto bad;
		if (lit(s, len, &i, ':')) {
			if (!digits(s, len, &i, 2, &sec))
				goto bad;
			if (lit(s, len, &i, '.')) {
				unsigned n = 0, dgt;

				while (i < len && s[i] >= '0' && s[i] <= '9') {
					digits(s, len, &i, 1, &dgt);
					if (n < 3)
						frac = frac * 10 + dgt;
					n++;
				}
				if (n == 0 || n > 9)
					goto bad;
				for (; n < 3; n++)
					frac *= 10;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return nedb__err(NEDB_EUSAGE, "bad time '%.*s': no such "
					 "time of day",
					 (int)(len > 40 ? 40 : len), s);
		if (lit(s, len, &i, 'Z') || lit(s, len, &i, 'z'))
			;
		else if (i < len && (s[i] == '+' || s[i] == '-')) {
			int sign = s[i++] == '-' ? -1 : 1;

			if (!digits(s, len, &i, 2, &oh) ||
			    !lit(s, len, &i, ':') ||
			    !digits(s, len, &i, 2, &om) || oh > 23 || om > 59)
				goto bad;
			off = sign * ((int64_t)oh * 60 + om) * 60000;
		}
		if (i != len)
			goto bad;
	}
	t = days_from_civil(y, mo, d) * 86400000 +
	    ((int64_t)h * 3600 + mi * 60 + sec) * 1000 + frac - off;
range:
	/* what nedb__time_format writes back as it was read */
	if (t < TIME_MIN || t > TIME_MAX)
		return nedb__err(NEDB_EUSAGE, "bad time '%.*s': not within "
				 "the years 0000 to 9999 (UTC)",
				 (int)(len > 40 ? 40 : len), s);
	*ms = t;
	return 0;
bad:
	return nedb__err(NEDB_EUSAGE, "bad time '%.*s': %s",
			 (int)(len > 40 ? 40 : len), s, what);
}

char *
nedb__time_format(char out[48], int64_t ms)
{
	int64_t days = ms >= 0 ? ms / 86400000 : -((-ms + 86399999) / 86400000);
	int64_t rest = ms - days * 86400000, y;
	unsigned mo, d;

	civil_from_days(days, &y, &mo, &d);
	snprintf(out, 48, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 (long long)y, mo, d, (unsigned)(rest / 3600000),
		 (unsigned)(rest / 60000 % 60), (unsigned)(rest / 1000 % 60),
		 (unsigned)(rest % 1000));
	return out;
}
