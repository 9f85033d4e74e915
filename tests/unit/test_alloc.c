/*
 * test_alloc.c - the out-of-memory policy: an allocation the library
 * cannot make calls the nedb_set_oom handler with the size, then
 * aborts after one line on stderr; it never returns an error to be
 * ignored.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"
#include "unit.h"

static jmp_buf escape;
static size_t asked;

static void
handler(size_t size)
{
	asked = size;
	longjmp(escape, 1);	/* a test's way out; a program would log */
}

static void
test_handler_sees_the_size(void)
{
	nedb_buf b = {0};

	nedb_buf_add(&b, "abc", 3);
	nedb_set_oom(handler);
	if (!setjmp(escape)) {
		nedb_buf_grow(&b, SIZE_MAX - 8);
		CHECK(!"nedb_buf_grow returned");
	}
	nedb_set_oom(NULL);
	CHECK(asked == SIZE_MAX - 8);
	CHECK(b.len == 3 && !strcmp(b.p, "abc"));	/* untouched */
	nedb_buf_free(&b);
}

static void
test_default_aborts_with_one_line(void)
{
	int fd[2], status;
	char out[200];
	ssize_t n;
	pid_t pid;

	CHECK(!pipe(fd));
	if (!(pid = fork())) {
		nedb_buf b = {0};

		dup2(fd[1], 2);
		nedb_buf_grow(&b, SIZE_MAX - 8);
		_exit(0);	/* not reached */
	}
	close(fd[1]);
	n = read(fd[0], out, sizeof out - 1);
	out[n > 0 ? n : 0] = 0;
	close(fd[0]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT);
	CHECK_STR(out, "nedb: out of memory allocating "
		  "18446744073709551607 bytes\n");
}

static void
test_buf_functions_succeed(void)
{
	nedb_buf b = {0};

	CHECK(!nedb_buf_puts(&b, "x"));
	CHECK(!nedb_buf_json_str(&b, "\"", 1));
	CHECK(!nedb_buf_printf(&b, "%d", 42));
	CHECK_STR(b.p, "x\"\\\"\"42");
	nedb_buf_free(&b);
	char *d = nedb__memdup("a\0b", 3);
	CHECK(d[0] == 'a' && d[1] == 0 && d[2] == 'b' && d[3] == 0);
	free(d);
}

int
main(void)
{
	RUN(test_handler_sees_the_size);
	RUN(test_default_aborts_with_one_line);
	RUN(test_buf_functions_succeed);
	UNIT_DONE();
}
