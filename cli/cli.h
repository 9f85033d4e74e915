/*
 * cli.h - what every nedb command shares: program name, the common
 * options (-d/--db, --tmk-file, --durability, --pretty, --array, --help,
 * --version), opening the database, output and errors with the exit statuses of
 * nedb(7).  Linked statically into each command (libnedbcli.a).
 */
#ifndef NEDB_CLI_H
#define NEDB_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "nedb.h"

enum {
	OPT_DURABILITY = 1000, OPT_PRETTY, OPT_ARRAY, OPT_VERSION, OPT_HELP,
	OPT_TMK_FILE,
	OPT_CLIENT, OPT_NONCE, OPT_IDEM,	/* writers: cli_write_opt */
	OPT_ASOF,				/* readers: cli_as_of */
	OPT_TABLE,				/* CLI_TABLE_LONGOPT */
	OPT_PROGRESS, OPT_NO_PROGRESS,		/* CLI_PROGRESS_LONGOPTS */
	OPT_LOG,				/* --log URL: NEDB_LOG */
	OPT_CMD			/* first code free for a command's own options */
};

/* Long options every command takes; put CLI_COMMON_LONGOPTS in the table. */
#define CLI_COMMON_LONGOPTS \
	{"db", required_argument, 0, 'd'}, \
	{"tmk-file", required_argument, 0, OPT_TMK_FILE}, \
	{"log", required_argument, 0, OPT_LOG}, \
	{"durability", required_argument, 0, OPT_DURABILITY}, \
	{"pretty", no_argument, 0, OPT_PRETTY}, \
	{"array", no_argument, 0, OPT_ARRAY}, \
	{"help", no_argument, 0, OPT_HELP}, \
	{"version", no_argument, 0, OPT_VERSION}
#define CLI_COMMON_SHORTOPTS ":d:h"
/* --table, in the table of a command that prints rows (cli_print then
 * collects them and cli_finish draws the table; see table.c). */
#define CLI_TABLE_LONGOPT {"table", no_argument, 0, OPT_TABLE}
#define CLI_TABLE_HELP \
"      --table           print the rows as a table for people\n"
/* --progress and --no-progress, in the table of a command that does
 * long work (cli_progress_*). */
#define CLI_PROGRESS_LONGOPTS \
	{"progress", no_argument, 0, OPT_PROGRESS}, \
	{"no-progress", no_argument, 0, OPT_NO_PROGRESS}
#define CLI_PROGRESS_HELP \
"      --progress        show progress on stderr (default: when it is a\n" \
"                        terminal); --no-progress: never\n"

struct cli {
	const char *prog;
	const char *usage;	/* the SYNOPSIS and options, for --help */
	const char *db;
	/* --tmk-file: the master key of an encrypted database, or NULL
	 * for the environment's (NEDB_TMK, NEDB_TMK_FILE) or none */
	const char *tmk_file;
	int durability;
	bool pretty, array;
	int nout;		/* values printed so far */
	/* the handle cli_open opened: an exit on a failure leaves it to
	 * the kernel, reachable (not a leak to LeakSanitizer) */
	nedb *open;
	const char *as_of_time;	/* --as-of @TIME: the time's text */
	bool table;		/* --table: rows collected, drawn at the end */
	int progress;		/* --progress 1, --no-progress 0, else -1 */
};

extern struct cli cli;

void cli_init(const char *prog, const char *usage);
/* Handles a common option; false if c is not one. Exits for --help. */
bool cli_common(int c, const char *arg);
/* A usage error: message, hint, exit 2. */
__attribute__((noreturn, format(printf, 1, 2)))
void cli_usage(const char *fmt, ...);
/* getopt's unknown option / missing argument, as a usage error. */
__attribute__((noreturn)) void cli_bad_option(int c, char **argv);
/* Prints "prog: msg" and exits with the status of the NEDB_E* code err
 * (nedb_exit_status): for failures the library did not report. */
__attribute__((noreturn, format(printf, 2, 3)))
void cli_failf(int err, const char *fmt, ...);
/* On a terminal, after a syntax error's line: the text and a caret
 * under nedb_errpos() (scripts and logs get the one line only). */
void cli_show_errpos(const char *text);
/* Prints "prog: <last library error>" and exits for err. */
__attribute__((noreturn)) void cli_fail(int err);
/* The same message, without exiting (err names the failure when the
 * library left no message). */
void cli_error(int err);
/* The database directory: -d, else $NEDB_DIR, else ./nedb-data. */
const char *cli_dir(void);
/* Opens the database of cli_dir() with the key of --tmk-file or the
 * environment, or dies: exit 5 for any failure (a missing database, a
 * wrong, missing or unreadable key too), 2 for a bad NEDB_MAPSIZE. */
nedb *cli_open(bool create);
/* cli_open with nedb_open's flags (NEDB_OPEN_LOCAL...). */
nedb *cli_open_flags(unsigned flags);
/* Handles --client, --nonce and --idem into w; false if c is not one. */
bool cli_write_opt(int c, const char *arg, nedb_wopts *w);
/* Parses an --as-of SEQ or @TIME (dies on a bad one; never NEDB_HEAD).
 * A time is only checked here (the value returned is 0): the command
 * turns it into a seq with cli_as_of_seq once the database is open. */
uint64_t cli_as_of(const char *arg);
/* as_of, or the seq of the @TIME cli_as_of was given, on db (dies when
 * the time is before the database's first op). */
uint64_t cli_as_of_seq(nedb *db, uint64_t as_of);
/* A point of time named by arg, SEQ or @TIME, as a seq of db (dies on a
 * bad one, naming it as what). */
uint64_t cli_point(nedb *db, const char *what, const char *arg);
/* Prints each line of b (receipts) as one value, then flushes. */
void cli_print_lines(const nedb_buf *b);
/* Appends r's JSON and "\n" to lines (for cli_print_lines). */
void cli_receipt_line(nedb_buf *lines, const nedb_receipt *r);
/* Prints r as one value (cli_print). */
void cli_print_receipt(const nedb_receipt *r);
/* Parses a non-negative integer argument or dies naming it. */
uint64_t cli_u64(const char *what, const char *s);
/* Prints one JSON value (compact text) honouring --pretty and --array. */
void cli_print(const char *text, size_t len);
/* Ends the output: closes an --array, flushes, dies on write errors. */
void cli_finish(void);
/* Reads all of stdin into b (for a document argument left out). */
void cli_read_stdin(nedb_buf *b);
/* Appends the whole of the file at path to b, or dies (exit 5) naming
 * it: a key, a checkpoint, a proof named by an option. */
void cli_read_file(const char *path, nedb_buf *b);
/* Reads one line of stdin into b (without "\n"); false at EOF. */
bool cli_read_line(nedb_buf *b);
/* The bytes left to read on stdin when it is a regular file; 0 when
 * unknown (a pipe, a terminal). */
uint64_t cli_stdin_size(void);
/* True when stdin has nothing ready to read now (a producer is slow). */
bool cli_stdin_idle(void);

/*
 * Tables for people (table.c).  Rows are JSON text (objects, or any
 * value as one column "value"); columns are the union of the rows'
 * top-level members, first seen first.  cli_table_print draws them in a
 * box width display columns wide at most (cut cells end with '…');
 * cli_table_print_csv and cli_table_print_lines as sqlite3's .mode csv
 * and .mode line.  Printing leaves the rows; clear drops them.
 */
typedef struct cli_table cli_table;
cli_table *cli_table_new(void);
void cli_table_row(cli_table *t, const char *json, size_t len);
void cli_table_print(cli_table *t, FILE *f, int width);
void cli_table_print_csv(cli_table *t, FILE *f);
void cli_table_print_lines(cli_table *t, FILE *f);
void cli_table_clear(cli_table *t);
void cli_table_free(cli_table *t);
/* The display width of UTF-8 text (wcwidth per character). */
int cli_text_width(const char *s, size_t n);
/* Columns of the terminal on fd: $COLUMNS, else its size, else 80. */
int cli_term_width(int fd);

/*
 * Progress (progress.c): one line on stderr, redrawn at most ten times
 * a second, "what: N unit, R/s, P%, ETA M:SS", when cli.progress says
 * so (-1: when stderr is a terminal).  begin names the work; set
 * reports n items done and done of total units (total 0: unknown, no
 * percentage or ETA); end erases the line.  cli_progress_library
 * shows the library's reports (nedb_set_progress) the same way.
 */
void cli_progress_begin(const char *what, const char *unit);
void cli_progress_set(uint64_t n, uint64_t done, uint64_t total);
void cli_progress_end(void);
/* Erases the line for now (output to the same terminal follows); the
 * next report draws it again. */
void cli_progress_clear(void);
void cli_progress_library(void);
bool cli_progress_on(void);

#endif
