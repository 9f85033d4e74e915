/*
 * progress.c - the progress line of long work (SPEC §12), shared by
 * every command: on stderr, only when stderr is a terminal unless
 * --progress or --no-progress says otherwise, never on stdout.
 *
 *   verify: 412,000 ops, 1,830,512/s, 41%, ETA 0:01
 *
 * The line is redrawn in place ("\r", then erase to the end of line)
 * at most ten times a second, and erased by cli_progress_end, so that
 * what the terminal keeps is the command's output only.  The first
 * report is drawn at once, whatever its time.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

static struct {
	bool active, drawn;
	const char *what, *unit;
	double start, last;	/* seconds, monotonic */
} pg;

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool
cli_progress_on(void)
{
	return cli.progress == 1 ||
	       (cli.progress < 0 && isatty(STDERR_FILENO));
}

void
cli_progress_begin(const char *what, const char *unit)
{
	pg.active = cli_progress_on();
	pg.drawn = false;
	pg.what = what;
	pg.unit = unit;
	pg.start = now();
	pg.last = 0;
}

/* n with thousands separators (the C locale has none). */
static void
grouped(char *out, size_t size, uint64_t n)
{
	char digits[24];
	size_t len, o = 0;

	snprintf(digits, sizeof digits, "%llu", (unsigned long long)n);
	len = strlen(digits);
	for (size_t i = 0; i < len && o + 2 < size; i++) {
		if (i && (len - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = 0;
}

void
cli_progress_set(uint64_t n, uint64_t done, uint64_t total)
{
	char count[32], rate[32], line[160];
	double t, el;
	int len;

	if (!pg.active)
		return;
	t = now();
	if (pg.drawn && t - pg.last < 0.1)
		return;
	pg.last = t;
	el = t - pg.start;
	grouped(count, sizeof count, n);
	len = snprintf(line, sizeof line, "%s: %s %s", pg.what, count,
		       pg.unit);
	if (el > 0.05) {
		grouped(rate, sizeof rate, (uint64_t)((double)n / el));
		len += snprintf(line + len, sizeof line - (size_t)len,
				", %s/s", rate);
	}
	if (total && done <= total) {
		double f = (double)done / (double)total;

		len += snprintf(line + len, sizeof line - (size_t)len,
				", %d%%", (int)(f * 100));
		if (f > 0.01 && el > 0.05) {
			long eta = (long)(el / f - el + 0.5);

			snprintf(line + len, sizeof line - (size_t)len,
				 ", ETA %ld:%02ld", eta / 60, eta % 60);
		}
	}
	/* stdout first: a line of it must not land inside this one */
	fflush(stdout);
	fprintf(stderr, "\r%s\033[K", line);
	fflush(stderr);
	pg.drawn = true;
}

void
cli_progress_clear(void)
{
	if (pg.active && pg.drawn && isatty(STDOUT_FILENO)) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		pg.drawn = false;
	}
}

void
cli_progress_end(void)
{
	if (pg.active && pg.drawn) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	pg.active = pg.drawn = false;
}

/* The library's reports: a new piece of work begins when what changes. */
static void
library(const char *what, uint64_t n, uint64_t done, uint64_t total)
{
	if (!pg.active || pg.what != what) {
		bool drawn = pg.drawn;

		cli_progress_begin(what, "ops");
		pg.drawn = drawn;
		pg.last = 0;
	}
	cli_progress_set(n, done, total);
}

void
cli_progress_library(void)
{
	if (cli_progress_on())
		nedb_set_progress(library);
}
