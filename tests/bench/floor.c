/*
 * floor.c - the physical floors beside make bench's figures: what the
 * machine itself costs for the work a figure cannot avoid, measured by a
 * program that does that work and nothing else.
 *
 *     floor fsync FILE      append one 200-byte line to FILE and
 *                           fdatasync it once (a durable put's floor:
 *                           process start-up and one fdatasync)
 *     floor b2 THREADS FILE BLAKE2b-256 (libb2) of every line of FILE,
 *                           the lines split into THREADS contiguous
 *                           parts hashed at once (verify's floor: it
 *                           must hash each line separately)
 *     floor jv FILE         parse every line of FILE with libjq's
 *                           jv_parse_sized (the parser nedb validates
 *                           with), one core
 *
 * Built by tests/bench/run, never installed.  The empty program beside it
 * (process start-up alone) is a main that returns 0.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <blake2.h>
#include <jv.h>

static const char *text;
static size_t size;

static void
map(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || fstat(fd, &st)) {
		perror(path);
		exit(1);
	}
	size = (size_t)st.st_size;
	text = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_POPULATE,
			   fd, 0) : "";
	if (text == MAP_FAILED) {
		perror(path);
		exit(1);
	}
	close(fd);
}

struct part {
	size_t from, to;
	unsigned char sum[32];	/* kept, so the work is not optimised away */
};

static void *
hash_part(void *arg)
{
	struct part *p = arg;
	unsigned char h[32];
	size_t i = p->from;

	memset(p->sum, 0, sizeof p->sum);
	while (i < p->to) {
		const char *nl = memchr(text + i, '\n', p->to - i);
		size_t end = nl ? (size_t)(nl - text) : p->to;

		blake2b(h, text + i, NULL, 32, end - i, 0);
		for (int k = 0; k < 32; k++)
			p->sum[k] ^= h[k];
		i = end + 1;
	}
	return NULL;
}

/* The next line's start at or after i. */
static size_t
line_start(size_t i)
{
	if (i == 0 || i >= size)
		return i >= size ? size : 0;
	const char *nl = memchr(text + i - 1, '\n', size - i + 1);

	return nl ? (size_t)(nl - text) + 1 : size;
}

static int
b2(int threads, const char *path)
{
	struct part parts[64];
	pthread_t th[64];
	unsigned x = 0;

	if (threads < 1 || threads > 64)
		threads = 1;
	map(path);
	for (int t = 0; t < threads; t++) {
		parts[t].from = line_start(size / threads * t);
		parts[t].to = t == threads - 1 ? size :
			      line_start(size / threads * (t + 1));
	}
	for (int t = 1; t < threads; t++)
		pthread_create(&th[t], NULL, hash_part, &parts[t]);
	hash_part(&parts[0]);
	for (int t = 1; t < threads; t++)
		pthread_join(th[t], NULL);
	for (int t = 0; t < threads; t++)
		x ^= parts[t].sum[0];
	return x == 256;	/* never: 0 */
}

static int
parse(const char *path)
{
	size_t i = 0, bad = 0;

	map(path);
	while (i < size) {
		const char *nl = memchr(text + i, '\n', size - i);
		size_t end = nl ? (size_t)(nl - text) : size;
		jv v = jv_parse_sized(text + i, (int)(end - i));

		bad += !jv_is_valid(v);
		jv_free(v);
		i = end + 1;
	}
	if (bad)
		fprintf(stderr, "floor: %zu lines are not JSON\n", bad);
	return bad != 0;
}

static int
fsync1(const char *path)
{
	char line[200];
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0600);

	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	if (fd < 0 || write(fd, line, sizeof line) != sizeof line ||
	    fdatasync(fd)) {
		perror(path);
		return 1;
	}
	return close(fd) != 0;
}

int
main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "fsync"))
		return fsync1(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "b2"))
		return b2(atoi(argv[2]), argv[3]);
	if (argc == 3 && !strcmp(argv[1], "jv"))
		return parse(argv[2]);
	fprintf(stderr, "usage: floor fsync FILE | b2 THREADS FILE | jv FILE\n");
	return 2;
}
