/*
 * nedb-redis-follow - keeps a database as the verifiable history of a
 * live Redis, by following it as a replica (SPEC §11).
 *
 * It connects as Redis's own replicas do: REPLCONF, then PSYNC.  A full
 * synchronization sends a snapshot, an RDB file; it is not parsed here:
 * a private redis-server loads it (on a unix socket in a temporary
 * directory) and is read back with SCAN, each key a put of the document
 * nedb-redis(1)'s type mapping gives it (lib/proto/redis.c,
 * nedb_redis_store), marked "evidence":"backfill" (or "resync" after the
 * first synchronization, as a difference against what the database
 * holds).  Then every write command Redis replicates runs through the
 * same command table as nedb-redis(1), in order, its ops marked
 * "evidence":"shadow" and carrying the replication offset just after
 * the command ("repl_offset", nedb-format(5)).  A command the table
 * cannot apply is recorded whole in the collection redis_raw.
 *
 * Invariants:
 *  1. Every commit holds the put of the state document (redis_follow/
 *     state: replication id, offset, selected Redis database) that
 *     covers its ops, so that what the log holds and where the stream
 *     resumes never disagree, whatever kills the process.
 *  2. Redis is told (REPLCONF ACK) an offset only when every op up to it
 *     is committed; bytes after it may be acknowledged only when they
 *     staged nothing (PING, SELECT, a write that changed nothing).
 *  3. A MULTI ... EXEC block (a transaction, or a script's effects) is
 *     never split between commits.
 *  4. A broken link voids the uncommitted batch: PSYNC resumes at the
 *     committed offset, so its commands come again, once.
 *  5. An import in progress is recorded first (the state's "importing"):
 *     a restart in the middle of one imports a snapshot again rather
 *     than continue a stream on top of a half-imported one.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "cli.h"
#include "redis.h"

static const char usage[] =
"usage: nedb-redis-follow [options] [URL]\n"
"\n"
"Follows the Redis at URL (redis://[USER:PASSWORD@]HOST[:PORT] or\n"
"unix://[USER:PASSWORD@]PATH; when left out, the one the database\n"
"follows, or redis://127.0.0.1:6379) as a replica: imports its\n"
"snapshot, then records every write it makes as ops of the database,\n"
"until stopped (SIGTERM, SIGINT).\n"
"\n"
"Options:\n"
"      --map FILE        key patterns registered as collections (JSON)\n"
"      --once            import the snapshot and exit\n"
"      --status          print the follower's state and lag, and exit\n"
"      --progress        show progress on stderr (default: on a terminal)\n"
"      --no-progress     never show progress\n";

enum {
	OPT_MAP = OPT_CMD, OPT_ONCE, OPT_STATUS
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{"map", required_argument, 0, OPT_MAP},
	{"once", no_argument, 0, OPT_ONCE},
	{"status", no_argument, 0, OPT_STATUS},
	{"progress", no_argument, 0, OPT_PROGRESS},
	{"no-progress", no_argument, 0, OPT_NO_PROGRESS},
	{0, 0, 0, 0}
};

/* The follower's own collections (nedb-redis-follow(1), FILES). */
#define STATE_COLL "redis_follow"
#define STATE_ID "state"
#define RAW_COLL "redis_raw"
#define MAX_RAW_ID 401		/* an id's bytes, and a NUL */

#define ACK_PERIOD_MS 1000	/* REPLCONF ACK, as Redis replicas do */
#define LINK_TIMEOUT_MS 60000	/* Redis's repl-timeout */
#define BATCH_OPS 10000		/* ops of one commit, at most */
#define BATCH_MS 50		/* how long a commit waits for more */
#define IMPORT_BATCH 10000	/* keys of one commit in an import */

/* ---- where Redis is ---------------------------------------------------- */

static struct {
	char *host;		/* NULL for a unix socket */
	int port;
	char *path;		/* the unix socket */
	char *user, *pass;	/* AUTH; NULL: none */
	char name[300];		/* "host:port" or the path, for messages */
} src;

/* Decodes %XX escapes of a URL part in place. */
static void
url_decode(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '%' && isxdigit((unsigned char)s[1]) &&
		    isxdigit((unsigned char)s[2])) {
			char hex[3] = {s[1], s[2], 0};

			*o++ = (char)strtol(hex, NULL, 16);
			s += 2;
		} else
			*o++ = *s;
	}
	*o = 0;
}

static char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);

	if (!p)
		cli_failf(NEDB_EIO, "out of memory");
	return p;
}

/*
 * redis://[[USER]:PASSWORD@]HOST[:PORT][/] or unix://[[USER]:PASSWORD@]
 * PATH (also unix:PATH); a usage error for anything else.
 */
static void
parse_url(const char *url)
{
	const char *rest, *at, *hostend;
	bool unix_sock = false;

	if (!strncmp(url, "redis://", 8))
		rest = url + 8;
	else if (!strncmp(url, "unix://", 7))
		rest = url + 7, unix_sock = true;
	else if (!strncmp(url, "unix:", 5))
		rest = url + 5, unix_sock = true;
	else if (!strncmp(url, "rediss://", 9))
		cli_usage("bad URL '%s': TLS (rediss://) is not supported",
			  url);
	else
		cli_usage("bad URL '%s': want redis://[USER:PASSWORD@]HOST"
			  "[:PORT] or unix://[USER:PASSWORD@]PATH", url);
	if ((at = strrchr(rest, '@'))) {
		const char *colon = memchr(rest, ':', (size_t)(at - rest));

		if (colon) {
			if (colon > rest)
				src.user = xstrndup(rest, (size_t)(colon - rest));
			src.pass = xstrndup(colon + 1, (size_t)(at - colon - 1));
		} else if (at > rest)
			src.pass = xstrndup(rest, (size_t)(at - rest));
		if (src.user)
			url_decode(src.user);
		if (src.pass)
			url_decode(src.pass);
		rest = at + 1;
	}
	if (unix_sock) {
		if (*rest != '/' || strlen(rest) >= 108)
			cli_usage("bad URL '%s': want an absolute socket path "
				  "(of fewer than 108 bytes)", url);
		src.path = xstrndup(rest, strlen(rest));
		snprintf(src.name, sizeof src.name, "%s", src.path);
		return;
	}
	src.port = 6379;
	if (*rest == '[') {		/* [IPv6] */
		if (!(hostend = strchr(rest, ']')))
			cli_usage("bad URL '%s': unclosed '['", url);
		src.host = xstrndup(rest + 1, (size_t)(hostend - rest - 1));
		hostend++;
	} else {
		hostend = rest + strcspn(rest, ":/");
		src.host = xstrndup(rest, (size_t)(hostend - rest));
	}
	if (!*src.host)
		cli_usage("bad URL '%s': no host", url);
	if (*hostend == ':') {
		char *end;
		long p;

		errno = 0;
		p = strtol(hostend + 1, &end, 10);
		if (errno || end == hostend + 1 || p < 1 || p > 65535 ||
		    (*end && strcmp(end, "/")))
			cli_usage("bad URL '%s': bad port", url);
		src.port = (int)p;
	} else if (*hostend && strcmp(hostend, "/"))
		cli_usage("bad URL '%s': a database number or path means "
			  "nothing to a replica", url);
	snprintf(src.name, sizeof src.name, "%s%s%s:%d",
		 strchr(src.host, ':') ? "[" : "", src.host,
		 strchr(src.host, ':') ? "]" : "", src.port);
}

/*
 * The Redis to follow: url, else the one the database follows (its
 * state's source), else redis://127.0.0.1:6379.  Without a password in
 * it, $REDISCLI_AUTH's, as for redis-cli.
 */
static void set_source(const char *url);

/* ---- the follower's state ---------------------------------------------- */

static struct {
	const char *dir;
	nedb *db;			/* NULL until there is a database */
	nedb_redis_conn conn;
	nedb_redis_map *map;
	bool once, progress;
	/* what the committed state says (invariant 1) */
	char replid[41];		/* "" before the first synchronization */
	char source[300];		/* the Redis it follows, as src.name */
	uint64_t committed;		/* offset its ops cover */
	unsigned committed_db;
	uint64_t syncs;			/* snapshots imported */
	uint64_t unmapped_committed;
	bool importing;			/* an import was under way */
	/* the stream as processed so far (some of it staged, not committed) */
	uint64_t applied;
	unsigned curdb;
	char coll[32];			/* conn.coll: redis or redis_dbN */
	bool multi;			/* inside MULTI ... EXEC */
	bool txn;			/* a write transaction is open */
	int64_t txn_since;		/* when it began, ms */
	uint64_t unmapped;
	uint64_t commands, ops;		/* since start, for progress */
} F;

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The collection of Redis database n's keys: redis, redis_db1, ... */
static void
coll_for(unsigned n, char *out, size_t cap)
{
	if (n == 0)
		snprintf(out, cap, "redis");
	else
		snprintf(out, cap, "redis_db%u", n);
}

static void
select_db(unsigned n)
{
	F.curdb = n;
	coll_for(n, F.coll, sizeof F.coll);
	F.conn.dbnum = n;
	F.conn.coll = F.coll;
}

/*
 * One follower per database: two would each record the stream.  An
 * exclusive flock on DIR/redis-follow.lock, held until exit.
 */
static void
lock_dir(void)
{
	static int fd = -1;
	char path[PATH_MAX];

	if (fd >= 0)
		return;
	snprintf(path, sizeof path, "%s/redis-follow.lock", F.dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
		cli_failf(NEDB_EIO, "cannot open '%s': %s", path,
			  strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB))
		cli_failf(NEDB_EBUSY, "'%s' is followed already: another "
			  "nedb-redis-follow holds '%s'", F.dir, path);
}

/* The database, created when the first write needs it. */
static void
need_db(void)
{
	int rc;

	if (F.db)
		return;
	if ((rc = nedb_open_key(&F.db, F.dir, NEDB_OPEN_CREATE,
				cli.tmk_file)))
		cli_fail(rc == NEDB_EUSAGE ? rc : NEDB_EIO);
	nedb_set_durability(F.db, cli.durability);
	cli.open = F.db;
	F.conn.db = F.db;
	lock_dir();
}

/* A uint64 member of the state document (0 when absent). */
static uint64_t
state_u64(const char *doc, size_t len, const char *key)
{
	const char *v;
	size_t n;

	if (!nedb_json_member(doc, len, key, &v, &n) || !n ||
	    !isdigit((unsigned char)*v))
		return 0;
	return strtoull(v, NULL, 10);
}

/*
 * Reads the committed state, if the database and the document exist.
 * With catch_up, in a write transaction: a process killed between its
 * log's fsync and its view's commit left ops that reads do not see yet
 * (they read the view's prefix), and resuming from the state before
 * them would record their commands twice.
 */
static void
load_state(bool catch_up)
{
	const char *v;
	char *s = NULL;
	nedb_doc d;
	size_t n;
	int rc;

	if (catch_up && (rc = nedb_write_begin(F.db)))
		cli_fail(rc);
	rc = nedb_get(F.db, STATE_COLL, STATE_ID, NEDB_HEAD, &d);
	if (rc) {
		if (catch_up)
			nedb_write_abort(F.db);
		if (rc != NEDB_ENOTFOUND)
			cli_fail(rc);
		return;
	}
	if (nedb_json_member(d.doc, d.len, "replid", &v, &n) &&
	    !nedb_json_string(v, n, &s) && strlen(s) == 40)
		memcpy(F.replid, s, 41);
	free(s);
	if (nedb_json_member(d.doc, d.len, "source", &v, &n) &&
	    !nedb_json_string(v, n, &s)) {
		snprintf(F.source, sizeof F.source, "%s", s);
		free(s);
		s = NULL;
	}
	F.committed = state_u64(d.doc, d.len, "offset");
	F.committed_db = (unsigned)state_u64(d.doc, d.len, "db");
	F.syncs = state_u64(d.doc, d.len, "syncs");
	F.unmapped_committed = state_u64(d.doc, d.len, "unmapped");
	F.importing = nedb_json_member(d.doc, d.len, "importing", &v, &n) &&
		      n == 4 && !memcmp(v, "true", 4);
	F.unmapped = F.unmapped_committed;
	if (catch_up)
		nedb_write_abort(F.db);
}

/* Stages the put of the state document at the stream's position. */
static void
stage_state(bool importing)
{
	nedb_wopts w = {.client = "redis", .repl_offset = F.applied};
	nedb_buf doc = {0};
	nedb_put p = {.coll = STATE_COLL, .id = STATE_ID, .w = w};
	int rc;

	nedb_buf_printf(&doc, "{\"_id\":\"" STATE_ID "\",\"source\":");
	nedb_buf_json_str(&doc, src.name, strlen(src.name));
	nedb_buf_printf(&doc, ",\"replid\":\"%s\",\"offset\":%llu,"
			"\"db\":%u,\"syncs\":%llu,\"unmapped\":%llu,"
			"\"importing\":%s}", F.replid,
			(unsigned long long)F.applied, F.curdb,
			(unsigned long long)F.syncs,
			(unsigned long long)F.unmapped,
			importing ? "true" : "false");
	p.doc = doc.p;
	p.doclen = doc.len;
	if ((rc = nedb_write_put(F.db, &p, NULL))) {
		nedb_write_abort(F.db);
		cli_fail(rc);
	}
	nedb_buf_free(&doc);
}

static void
txn_begin(void)
{
	int rc;

	if (F.txn)
		return;
	need_db();
	if ((rc = nedb_write_begin(F.db)))
		cli_fail(rc);
	F.txn = true;
	F.txn_since = now_ms();
}

/* Drops what the open batch staged (invariant 4). */
static void
txn_abort(void)
{
	if (!F.txn)
		return;
	nedb_write_abort(F.db);
	F.txn = false;
	F.applied = F.committed;
	F.unmapped = F.unmapped_committed;
	F.multi = false;
	select_db(F.committed_db);
}

/*
 * Commits the open batch with the state that covers it (invariant 1);
 * a batch that staged nothing is only closed, unless the state itself
 * is news (force).  Returns true when something was committed.
 */
static bool
txn_commit_state(bool importing, bool force)
{
	int rc;

	if (force)
		txn_begin();
	if (!F.txn)
		return false;
	if (!force && !nedb_write_pending(F.db)) {
		nedb_write_abort(F.db);
		F.txn = false;
		return false;
	}
	stage_state(importing);
	F.ops += nedb_write_pending(F.db);
	if ((rc = nedb_write_commit(F.db)))
		cli_fail(rc);	/* nothing of the batch is acknowledged */
	F.txn = false;
	F.committed = F.applied;
	F.committed_db = F.curdb;
	F.unmapped_committed = F.unmapped;
	F.importing = importing;
	return true;
}

static bool
txn_commit(bool importing)
{
	return txn_commit_state(importing, false);
}

/* ---- progress ------------------------------------------------------------ */

static int64_t progress_at;

__attribute__((format(printf, 2, 3)))
static void
progress(bool force, const char *fmt, ...)
{
	int64_t t = now_ms();
	va_list ap;

	if (!F.progress || (!force && t - progress_at < 250))
		return;
	progress_at = t;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

static void
progress_end(void)
{
	if (F.progress && progress_at) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		progress_at = 0;
	}
}

/* A line on stderr, the progress line out of its way. */
__attribute__((format(printf, 1, 2)))
static void
say(const char *fmt, ...)
{
	va_list ap;

	progress_end();
	fprintf(stderr, "%s: ", cli.prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- the link to Redis ------------------------------------------------------
 * hiredis connects, authenticates and runs the handshake; from PSYNC on
 * the socket is read here: the snapshot raw, then the command stream
 * through a hiredis reader, whose unconsumed bytes tell how far the
 * stream's offset has come. */

static struct {
	redisContext *ctx;
	int fd;
	nedb_buf raw;		/* bytes read before the stream began */
	size_t rawoff;
	redisReader *rd;	/* the command stream */
	uint64_t base;		/* the offset of the byte before the first
				 * one fed to rd */
	uint64_t fed;		/* bytes fed to rd */
	int64_t last_rx;	/* when bytes last came, ms */
	int64_t began;		/* when the stream began, ms */
	int64_t last_ack;
	char err[256];		/* why the link failed */
} L;

static void
link_close(void)
{
	if (L.rd)
		redisReaderFree(L.rd);
	if (L.ctx)
		redisFree(L.ctx);
	L.rd = NULL;
	L.ctx = NULL;
	L.fd = -1;
	L.raw.len = 0;
	L.rawoff = 0;
}

__attribute__((format(printf, 1, 2)))
static int
link_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(L.err, sizeof L.err, fmt, ap);
	va_end(ap);
	return -1;
}

/* The offset of the last byte the reader has taken a command from. */
static uint64_t
stream_offset(void)
{
	return L.base + L.fed - (uint64_t)(L.rd->len - L.rd->pos);
}

/* Writes all of p to the socket; -1 (L.err) when it cannot. */
static int
link_write(const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(L.fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return link_fail("cannot write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends REPLCONF ACK off. */
static int
link_ack(uint64_t off)
{
	char num[24], *cmd;
	const char *argv[] = {"REPLCONF", "ACK", num};
	long long n;
	int rc;

	snprintf(num, sizeof num, "%llu", (unsigned long long)off);
	if ((n = redisFormatCommandArgv(&cmd, 3, argv, NULL)) < 0)
		cli_failf(NEDB_EIO, "out of memory");
	rc = link_write(cmd, (size_t)n);
	redisFreeCommand(cmd);
	L.last_ack = now_ms();
	return rc;
}

/*
 * Waits up to ms for the socket and reads what it has into the reader
 * (or into L.raw before the stream began).  Returns the bytes read, 0
 * when none came in time, -1 (L.err) when the link is broken.
 */
static long
link_read(int ms, bool raw)
{
	struct pollfd p = {L.fd, POLLIN, 0};
	char buf[65536];
	ssize_t n;
	int r;

	while ((r = poll(&p, 1, ms)) < 0 && errno == EINTR)
		if (stopping)
			return 0;
	if (r < 0)
		return link_fail("poll: %s", strerror(errno));
	if (r == 0)
		return 0;
	do
		n = read(L.fd, buf, sizeof buf);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return link_fail("cannot read: %s", strerror(errno));
	if (n == 0)
		return link_fail("connection closed");
	L.last_rx = now_ms();
	if (raw)
		nedb_buf_add(&L.raw, buf, (size_t)n);
	else {
		if (redisReaderFeed(L.rd, buf, (size_t)n) != REDIS_OK)
			cli_failf(NEDB_EIO, "out of memory");
		L.fed += (size_t)n;
	}
	return n;
}

/*
 * Keeps the link alive while something long goes on (an import): what
 * Redis sends is taken into the reader, so that its buffer for us does
 * not grow past its limit, and ACKs go out on time.  False when the
 * link broke (the import goes on; the stream restarts afterwards).
 */
static bool link_ok;

static void
link_pump(uint64_t ack)
{
	if (!link_ok)
		return;
	while (link_read(0, false) > 0)
		;
	if (*L.err || (now_ms() - L.last_ack >= ACK_PERIOD_MS &&
		       link_ack(ack)))
		link_ok = false;
}

/* One line of the raw input ("\r\n" ended; lone "\n" keep-alives
 * before it skipped) into line; -1 (L.err) when the link fails. */
static int
raw_line(char *line, size_t cap)
{
	for (;;) {
		char *p = L.raw.p + L.rawoff, *nl;
		size_t have = L.raw.len - L.rawoff;

		while (have && *p == '\n') {	/* keep-alives */
			p++;
			have--;
			L.rawoff++;
		}
		if (have && (nl = memchr(p, '\n', have))) {
			size_t n = (size_t)(nl - p);

			if (n && p[n - 1] == '\r')
				n--;
			if (n >= cap)
				return link_fail("protocol error: a line of "
						 "%zu bytes", n);
			memcpy(line, p, n);
			line[n] = 0;
			L.rawoff += (size_t)(nl - p) + 1;
			return 0;
		}
		if (have > 4096)
			return link_fail("protocol error: no line end");
		if (stopping)
			return link_fail("stopped");
		{
			long r = link_read(1000, true);

			if (r < 0)
				return -1;
			if (r == 0 && now_ms() - L.last_rx > LINK_TIMEOUT_MS)
				return link_fail("timed out");
		}
	}
}

/* A command on the context; its reply (caller frees) or NULL (L.err). */
static redisReply *
link_command(int argc, const char **argv)
{
	redisReply *r = redisCommandArgv(L.ctx, argc, argv, NULL);

	if (!r)
		link_fail("%s", L.ctx->errstr[0] ? L.ctx->errstr :
			  "connection closed");
	return r;
}

/*
 * Connects and authenticates.  Returns 0, or -1 with L.err; *refused
 * is set when Redis answered (a wrong password), rather than the
 * network failing.
 */
static int
link_connect(bool *refused)
{
	struct timeval tv = {10, 0};
	redisReply *r;

	*refused = false;
	*L.err = 0;
	link_close();
	L.ctx = src.path ? redisConnectUnixWithTimeout(src.path, tv) :
		redisConnectWithTimeout(src.host, src.port, tv);
	if (!L.ctx)
		cli_failf(NEDB_EIO, "out of memory");
	if (L.ctx->err)
		return link_fail("cannot connect: %s", L.ctx->errstr);
	redisSetTimeout(L.ctx, tv);
	L.fd = L.ctx->fd;
	if (src.pass) {
		const char *argv[] = {"AUTH", src.user ? src.user : src.pass,
				      src.pass};

		if (!(r = link_command(src.user ? 3 : 2, argv)))
			return -1;
		if (r->type == REDIS_REPLY_ERROR) {
			*refused = true;
			link_fail("cannot authenticate: %s", r->str);
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

/* The REPLCONF handshake; *refused as link_connect. */
static int
link_handshake(bool *refused)
{
	const char *port[] = {"REPLCONF", "listening-port", "0"};
	const char *capa[] = {"REPLCONF", "capa", "eof", "capa", "psync2"};
	const char *const *cmds[] = {port, capa};
	const int argcs[] = {3, 5};

	for (int i = 0; i < 2; i++) {
		redisReply *r = link_command(argcs[i], (const char **)cmds[i]);

		if (!r)
			return -1;
		if (r->type == REDIS_REPLY_ERROR) {
			*refused = true;
			link_fail("refused as a replica: %s", r->str);
			freeReplyObject(r);
			return -1;
		}
		freeReplyObject(r);
	}
	return 0;
}

/* ---- receiving the snapshot ------------------------------------------- */

static int
write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Receives the RDB bulk that follows +FULLRESYNC into the file path:
 * "$<len>\r\n" and that many bytes, or (diskless) "$EOF:<40 bytes>\r\n",
 * the bytes, and the same 40 bytes again.  What follows it is the
 * start of the stream, left in L.raw.  0, or -1 with L.err.
 */
static int
receive_rdb(const char *path, uint64_t ack)
{
	char line[128], mark[41] = "";
	unsigned long long want = 0, got = 0;
	bool eofmark;
	int fd, rc = -1;

	if (raw_line(line, sizeof line))
		return -1;
	if (line[0] != '$')
		return link_fail("protocol error: expected the snapshot, got "
				 "'%.60s'", line);
	eofmark = !strncmp(line + 1, "EOF:", 4);
	if (eofmark) {
		if (strlen(line + 5) != 40)
			return link_fail("protocol error: bad EOF mark");
		memcpy(mark, line + 5, 41);
	} else {
		char *end;

		errno = 0;
		want = strtoull(line + 1, &end, 10);
		if (errno || *end || end == line + 1)
			return link_fail("protocol error: bad snapshot length "
					 "'%.40s'", line + 1);
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		       0600)) < 0)
		cli_failf(NEDB_EIO, "cannot create '%s': %s", path,
			  strerror(errno));
	for (;;) {
		char *p = L.raw.p + L.rawoff;
		size_t have = L.raw.len - L.rawoff, take = have;
		bool done = false;

		if (!eofmark) {
			if (take > want - got)
				take = (size_t)(want - got);
			done = got + take == want;
		} else {
			char *m = have >= 40 ? memmem(p, have, mark, 40) : NULL;

			if (m) {
				take = (size_t)(m - p);
				done = true;
			} else	/* the mark may be split: keep 39 bytes */
				take = have > 39 ? have - 39 : 0;
		}
		if (write_all(fd, p, take)) {
			link_fail("cannot write '%s': %s", path,
				  strerror(errno));
			break;
		}
		got += take;
		L.rawoff += take + (eofmark && done ? 40 : 0);
		if (L.rawoff == L.raw.len)
			L.raw.len = L.rawoff = 0;
		else if (L.rawoff > (1u << 20)) {
			memmove(L.raw.p, L.raw.p + L.rawoff,
				L.raw.len - L.rawoff);
			L.raw.len -= L.rawoff;
			L.rawoff = 0;
		}
		if (done) {
			rc = 0;
			break;
		}
		progress(false, "receiving the snapshot from %s: %.1f MB",
			 src.name, (double)got / 1e6);
		if (stopping) {
			link_fail("stopped");
			break;
		}
		{
			long r = link_read(1000, true);

			if (r < 0)
				break;
			if (r == 0 && now_ms() - L.last_rx > LINK_TIMEOUT_MS) {
				link_fail("timed out receiving the snapshot");
				break;
			}
			if (now_ms() - L.last_ack >= ACK_PERIOD_MS &&
			    link_ack(ack))
				break;
		}
	}
	if (close(fd) && rc == 0)
		rc = link_fail("cannot write '%s': %s", path, strerror(errno));
	return rc;
}

/* Starts the command stream at offset base, with what L.raw holds. */
static void
stream_begin(uint64_t base)
{
	if (!(L.rd = redisReaderCreate()))
		cli_failf(NEDB_EIO, "out of memory");
	L.base = base;
	L.fed = 0;
	L.began = now_ms();
	if (L.raw.len > L.rawoff) {
		if (redisReaderFeed(L.rd, L.raw.p + L.rawoff,
				    L.raw.len - L.rawoff) != REDIS_OK)
			cli_failf(NEDB_EIO, "out of memory");
		L.fed = L.raw.len - L.rawoff;
	}
	L.raw.len = L.rawoff = 0;
}

/* ---- the private redis-server ---------------------------------------------
 * It loads the snapshot (Redis reads its own format, every version it
 * wrote) and serves it on a unix socket in a temporary directory; it is
 * stopped, and the directory removed, when the import ends, and on every
 * exit. */

static struct {
	char dir[PATH_MAX];
	char rdb[PATH_MAX + 16], sock[PATH_MAX + 16], log[PATH_MAX + 16];
	pid_t pid;
	redisContext *c;
} P;

static void
private_stop(void)
{
	if (P.c)
		redisFree(P.c);
	P.c = NULL;
	if (P.pid > 0) {
		kill(P.pid, SIGKILL);	/* --save '': nothing to lose */
		while (waitpid(P.pid, NULL, 0) < 0 && errno == EINTR)
			;
		P.pid = 0;
	}
	if (*P.dir) {
		unlink(P.rdb);
		unlink(P.sock);
		unlink(P.log);
		rmdir(P.dir);
		*P.dir = 0;
	}
}

/* A temporary directory for the snapshot and the socket. */
static void
private_dir(void)
{
	const char *t = getenv("TMPDIR");

	if (!t || !*t || strlen(t) > 80)	/* a socket path is short */
		t = "/tmp";
	snprintf(P.dir, sizeof P.dir, "%s/nedb-redis-follow.XXXXXX", t);
	if (!mkdtemp(P.dir)) {
		int e = errno;

		*P.dir = 0;
		cli_failf(NEDB_EIO, "cannot create a temporary directory in "
			  "'%s': %s", t, strerror(e));
	}
	snprintf(P.rdb, sizeof P.rdb, "%s/dump.rdb", P.dir);
	snprintf(P.sock, sizeof P.sock, "%s/redis.sock", P.dir);
	snprintf(P.log, sizeof P.log, "%s/redis.log", P.dir);
}

/* The last line of the private server's log, for a message. */
static const char *
private_log_tail(char *buf, size_t cap)
{
	FILE *f = fopen(P.log, "r");
	char line[512];

	snprintf(buf, cap, "no message");
	if (!f)
		return buf;
	while (fgets(line, sizeof line, f))
		if (line[strspn(line, " \r\n")]) {
			line[strcspn(line, "\r\n")] = 0;
			snprintf(buf, cap, "%.290s", line);
		}
	fclose(f);
	return buf;
}

/*
 * Starts redis-server ($NEDB_REDIS_SERVER, else the one in PATH) on the
 * snapshot and waits until it answers PING (polling; LOADING while it
 * reads the file), keeping the link alive meanwhile.
 */
static void
private_start(uint64_t ack)
{
	const char *bin = getenv("NEDB_REDIS_SERVER");
	int64_t wait = 1;

	if (!bin || !*bin)
		bin = "redis-server";
	P.pid = fork();
	if (P.pid < 0)
		cli_failf(NEDB_EIO, "cannot start redis-server: %s",
			  strerror(errno));
	if (P.pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		signal(SIGPIPE, SIG_DFL);
		execlp(bin, bin, "--port", "0", "--unixsocket", P.sock,
		       "--unixsocketperm", "700", "--dir", P.dir,
		       "--dbfilename", "dump.rdb", "--save", "",
		       "--appendonly", "no", "--daemonize", "no",
		       "--logfile", P.log, "--loglevel", "warning",
		       "--databases", "1024", "--maxmemory", "0",
		       (char *)NULL);
		_exit(127);
	}
	for (;;) {
		char tail[300];
		int st;

		if (waitpid(P.pid, &st, WNOHANG) == P.pid) {
			P.pid = 0;
			if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
				cli_failf(NEDB_EIO, "cannot run '%s' to load "
					  "the snapshot: not found", bin);
			cli_failf(NEDB_EIO, "cannot load the snapshot of %s "
				  "with %s: %s", src.name, bin,
				  private_log_tail(tail, sizeof tail));
		}
		if (!P.c || P.c->err) {
			struct timeval tv = {5, 0};

			if (P.c)
				redisFree(P.c);
			P.c = redisConnectUnixWithTimeout(P.sock, tv);
		}
		if (P.c && !P.c->err) {
			redisReply *r = redisCommand(P.c, "PING");

			if (r && r->type == REDIS_REPLY_STATUS &&
			    !strcmp(r->str, "PONG")) {
				freeReplyObject(r);
				return;
			}
			if (r)
				freeReplyObject(r);
		}
		if (stopping)
			return;
		link_pump(ack);
		progress(false, "loading the snapshot of %s", src.name);
		usleep((useconds_t)wait * 1000);
		if (wait < 100)
			wait *= 2;
	}
}

/* A command to the private server; its reply (caller frees). */
static redisReply *
private_reply(void)
{
	void *r = NULL;

	if (redisGetReply(P.c, &r) != REDIS_OK || !r)
		cli_failf(NEDB_EIO, "the snapshot's redis-server: %s",
			  P.c->errstr[0] ? P.c->errstr : "no reply");
	if (((redisReply *)r)->type == REDIS_REPLY_ERROR)
		cli_failf(NEDB_EIO, "the snapshot's redis-server: %s",
			  ((redisReply *)r)->str);
	return r;
}

static void
private_append(int argc, const char **argv, const size_t *lens)
{
	if (redisAppendCommandArgv(P.c, argc, argv, lens) != REDIS_OK)
		cli_failf(NEDB_EIO, "out of memory");
}

/* ---- a set of (collection, id) ------------------------------------------
 * The documents a snapshot holds, so that those it does not hold can be
 * deleted: open addressing, keys "coll\0id". */

static struct {
	char **k;
	size_t n, cap;
} seen;

static uint64_t
fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ull;

	while (n--)
		h = (h ^ (unsigned char)*p++) * 1099511628211ull;
	return h;
}

/* The length of a stored key: coll NUL id, without its final 1. */
static size_t
seen_len(const char *s)
{
	size_t c = strlen(s);

	return c + strlen(s + c + 1);
}

static size_t
seen_slot(char **k, size_t cap, const char *key, size_t len)
{
	size_t i = fnv(key, len) & (cap - 1);

	while (k[i] && (seen_len(k[i]) != len || memcmp(k[i], key, len)))
		i = (i + 1) & (cap - 1);
	return i;
}

/* A set key: coll, NUL, id, then a 1 byte (an end no id holds). */
static size_t
seen_key(nedb_buf *b, const char *coll, const char *id)
{
	b->len = 0;
	nedb_buf_add(b, coll, strlen(coll) + 1);
	nedb_buf_puts(b, id);
	return b->len;
}

static void
seen_add(const char *coll, const char *id)
{
	static nedb_buf b;
	size_t len = seen_key(&b, coll, id), i;

	if (2 * (seen.n + 1) > seen.cap) {
		size_t cap = seen.cap ? 2 * seen.cap : 1024;
		char **k = calloc(cap, sizeof *k);

		if (!k)
			cli_failf(NEDB_EIO, "out of memory");
		for (size_t j = 0; j < seen.cap; j++)
			if (seen.k[j])
				k[seen_slot(k, cap, seen.k[j],
					    seen_len(seen.k[j]))] = seen.k[j];
		free(seen.k);
		seen.k = k;
		seen.cap = cap;
	}
	i = seen_slot(seen.k, seen.cap, b.p, len);
	if (seen.k[i])
		return;
	if (!(seen.k[i] = malloc(len + 2)))
		cli_failf(NEDB_EIO, "out of memory");
	memcpy(seen.k[i], b.p, len);
	seen.k[i][len] = 1;
	seen.k[i][len + 1] = 0;
	seen.n++;
}

static bool
seen_has(const char *coll, const char *id)
{
	static nedb_buf b;
	size_t len = seen_key(&b, coll, id);

	return seen.cap && seen.k[seen_slot(seen.k, seen.cap, b.p, len)];
}

static void
seen_free(void)
{
	for (size_t i = 0; i < seen.cap; i++)
		free(seen.k[i]);
	free(seen.k);
	memset(&seen, 0, sizeof seen);
}

/* ---- recording what cannot be mapped ------------------------------------- */

/*
 * Stages a raw op in redis_raw, counted: a command of the stream (id
 * "<first 8 of the replication id>:<offset>"), or for a key of a
 * snapshot (n > 0) the RESTORE that recreates it (id "<db>:<key>", or
 * "<first 8>:<offset>:<n>" when that is no valid id), staged only when
 * it differs from the key's record already there.
 */
static void
stage_raw(int argc, const char **argv, const size_t *lens, unsigned db,
	  uint64_t offset, uint64_t n, const char *why)
{
	static uint64_t warned;	/* the first few, then quiet */
	char id[MAX_RAW_ID];
	nedb_buf doc = {0};
	nedb_put p = {
		.coll = RAW_COLL, .id = id,
		.w = {.client = "redis", .evidence = F.conn.evidence,
		      .repl_offset = offset},
	};
	nedb_doc d;
	int rc;

	if (n && lens[1] < sizeof id - 16 &&
	    !memchr(argv[1], 0, lens[1])) {
		snprintf(id, sizeof id, "%u:%s", db, argv[1]);
		if (nedb_check_id(id, strlen(id)))
			*id = 0;
	} else
		*id = 0;
	if (!*id && n)
		snprintf(id, sizeof id, "%.8s:%llu:%llu", F.replid,
			 (unsigned long long)offset, (unsigned long long)n);
	else if (!*id)
		snprintf(id, sizeof id, "%.8s:%llu", F.replid,
			 (unsigned long long)offset);
	if (nedb_redis_raw(&doc, id, db, argc, argv, lens, why))
		cli_failf(NEDB_EIO, "out of memory");
	if (n && (rc = nedb_get(F.db, RAW_COLL, id, NEDB_HEAD, &d)) == 0 &&
	    d.len == doc.len && !memcmp(d.doc, doc.p, doc.len)) {
		nedb_buf_free(&doc);	/* the same as last time */
		return;
	}
	p.doc = doc.p;
	p.doclen = doc.len;
	if ((rc = nedb_write_put(F.db, &p, NULL))) {
		nedb_write_abort(F.db);
		cli_fail(rc);
	}
	nedb_buf_free(&doc);
	F.unmapped++;
	if (warned++ >= 10)
		return;
	if (n)
		say("recorded key '%.*s' of the snapshot as a raw op (%s/%.80s):"
		    " %s", (int)(lens[1] > 64 ? 64 : lens[1]), argv[1],
		    RAW_COLL, id, why);
	else
		say("recorded %.*s as a raw op (%s/%s): %s",
		    (int)(lens[0] > 40 ? 40 : lens[0]), argv[0], RAW_COLL, id,
		    why ? why : "not a write nedb maps");
	if (warned == 10)
		say("(further raw ops are counted, not shown: %s --status)",
		    cli.prog);
}

/* ---- importing a snapshot -------------------------------------------------- */

static const struct {
	const char *name;
	int type;
	const char *cmd;
} types[] = {
	{"string", NEDB_REDIS_STRING, "GET"},
	{"hash", NEDB_REDIS_HASH, "HGETALL"},
	{"list", NEDB_REDIS_LIST, "LRANGE"},
	{"set", NEDB_REDIS_SET, "SMEMBERS"},
	{"zset", NEDB_REDIS_ZSET, "ZRANGE"},
};

struct import {
	const char *evidence;
	uint64_t offset;
	uint64_t keys, puts, raws, deletes;
	int64_t began;
};

/* Appends the command that reads key's value (of types[t]), or DUMP. */
static void
append_value(int t, const char *key, size_t len)
{
	const char *argv[5] = {t >= 0 ? types[t].cmd : "DUMP", key, "0",
			       "-1", "WITHSCORES"};
	size_t lens[5] = {strlen(argv[0]), len, 1, 2, 10};
	int argc = 2;

	if (t >= 0 && types[t].type == NEDB_REDIS_LIST)
		argc = 4;
	else if (t >= 0 && types[t].type == NEDB_REDIS_ZSET)
		argc = 5;
	private_append(argc, argv, lens);
}

/* Imports one key whose TYPE, PEXPIRETIME and value came back. */
static void
import_key(struct import *im, unsigned db, redisReply *key,
	   redisReply *type, redisReply *pexp, redisReply *val)
{
	int t = -1, rc;
	int64_t exp = pexp->type == REDIS_REPLY_INTEGER ? pexp->integer : -2;

	if (exp == -2 || !strcmp(type->str, "none"))
		return;		/* expired meanwhile */
	for (size_t i = 0; i < sizeof types / sizeof *types; i++)
		if (!strcmp(type->str, types[i].name))
			t = (int)i;
	im->keys++;
	if (t >= 0) {
		const char *one[1];
		size_t onelen[1];
		const char **v = one;
		size_t *lens = onelen, n = 1;

		if (val->type == REDIS_REPLY_ARRAY) {
			n = val->elements;
			v = calloc(n + 1, sizeof *v);
			lens = calloc(n + 1, sizeof *lens);
			if (!v || !lens)
				cli_failf(NEDB_EIO, "out of memory");
			for (size_t i = 0; i < n; i++) {
				v[i] = val->element[i]->str;
				lens[i] = val->element[i]->len;
			}
		} else if (val->type == REDIS_REPLY_STRING) {
			one[0] = val->str;
			onelen[0] = val->len;
		} else
			return;	/* gone meanwhile */
		if (n == 0 && t > 0)
			rc = 0;	/* emptied meanwhile */
		else
			rc = nedb_redis_store(&F.conn, key->str, key->len,
					      types[t].type, n, v, lens,
					      exp > 0 ? exp : 0,
					      NEDB_REDIS_IFCHANGED);
		if (v != one) {
			free(v);
			free(lens);
		}
		if (rc >= 0) {
			const char *coll, *id;

			if (!nedb_redis_where(&F.conn, key->str, key->len,
					      &coll, &id))
				seen_add(coll, id);
			im->puts += (uint64_t)rc;
			return;
		}
		if (rc != NEDB_EINPUT && rc != NEDB_EUSAGE) {
			nedb_write_abort(F.db);
			cli_fail(rc);
		}
	}
	/* a type nedb does not map, or a value it cannot hold: the
	 * RESTORE that recreates it */
	{
		char ttl[24];
		const char *argv[] = {"RESTORE", key->str, ttl, "",
				      "ABSTTL"};
		size_t lens[] = {7, key->len, 0, 0, 6};
		redisReply *dump;
		char why[300];

		if (t >= 0)
			snprintf(why, sizeof why, "%s", nedb_errmsg());
		else
			snprintf(why, sizeof why, "type '%.40s' is not in the "
				 "mapping", type->str);
		snprintf(ttl, sizeof ttl, "%lld",
			 (long long)(exp > 0 ? exp : 0));
		lens[2] = strlen(ttl);
		append_value(-1, key->str, key->len);
		dump = private_reply();
		if (dump->type == REDIS_REPLY_STRING) {
			argv[3] = dump->str;
			lens[3] = dump->len;
		}
		if (dump->len > (8u << 20))	/* a document has room for
						 * 16 MiB of text */
			lens[3] = 0, snprintf(why, sizeof why, "too large "
					      "to record its value");
		stage_raw(exp > 0 ? 5 : 4, argv, lens, db, im->offset,
			  im->keys, why);
		freeReplyObject(dump);
	}
}

/* Imports every key of Redis database db of the private server. */
static void
import_db(struct import *im, unsigned db)
{
	char cursor[32] = "0", dbs[16];
	const char *sel[] = {"SELECT", dbs};

	snprintf(dbs, sizeof dbs, "%u", db);
	private_append(2, sel, NULL);
	freeReplyObject(private_reply());
	select_db(db);
	do {
		const char *scan[] = {"SCAN", cursor, "COUNT", "1000"};
		redisReply *page, *keys, **rt, **rv;
		size_t n;

		private_append(4, scan, NULL);
		page = private_reply();
		if (page->type != REDIS_REPLY_ARRAY || page->elements != 2)
			cli_failf(NEDB_EIO, "the snapshot's redis-server: "
				  "bad SCAN reply");
		snprintf(cursor, sizeof cursor, "%s", page->element[0]->str);
		keys = page->element[1];
		n = keys->elements;
		rt = calloc(2 * n + 1, sizeof *rt);
		rv = calloc(n + 1, sizeof *rv);
		if (!rt || !rv)
			cli_failf(NEDB_EIO, "out of memory");
		/* two round trips a page: types and expiries, then values */
		for (size_t i = 0; i < n; i++) {
			const char *a[] = {"TYPE", keys->element[i]->str};
			const char *b[] = {"PEXPIRETIME",
					   keys->element[i]->str};
			size_t l[] = {0, keys->element[i]->len};

			l[0] = 4;
			private_append(2, a, l);
			l[0] = 11;
			private_append(2, b, l);
		}
		for (size_t i = 0; i < 2 * n; i++)
			rt[i] = private_reply();
		for (size_t i = 0; i < n; i++) {
			int t = -1;

			for (size_t k = 0; k < sizeof types / sizeof *types;
			     k++)
				if (!strcmp(rt[2 * i]->str, types[k].name))
					t = (int)k;
			if (t >= 0)
				append_value(t, keys->element[i]->str,
					     keys->element[i]->len);
		}
		for (size_t i = 0; i < n; i++) {
			bool typed = false;

			for (size_t k = 0; k < sizeof types / sizeof *types;
			     k++)
				typed |= !strcmp(rt[2 * i]->str, types[k].name);
			if (typed) {
				void *r = NULL;

				/* a value gone meanwhile is nil, not fatal */
				if (redisGetReply(P.c, &r) != REDIS_OK || !r)
					cli_failf(NEDB_EIO, "the snapshot's "
						  "redis-server: %s",
						  P.c->errstr);
				rv[i] = r;
			}
		}
		for (size_t i = 0; i < n; i++) {
			redisReply none = {.type = REDIS_REPLY_NIL};

			txn_begin();
			import_key(im, db, keys->element[i], rt[2 * i],
				   rt[2 * i + 1], rv[i] ? rv[i] : &none);
			if (nedb_write_pending(F.db) >= IMPORT_BATCH)
				txn_commit(true);
		}
		for (size_t i = 0; i < 2 * n; i++)
			freeReplyObject(rt[i]);
		for (size_t i = 0; i < n; i++)
			if (rv[i])
				freeReplyObject(rv[i]);
		free(rt);
		free(rv);
		freeReplyObject(page);
		link_pump(im->offset);
		progress(false, "importing the snapshot of %s: %llu keys "
			 "(%.0f/s)", src.name, (unsigned long long)im->keys,
			 (double)im->keys * 1000 /
			 (double)(now_ms() - im->began + 1));
		if (stopping)
			return;
	} while (strcmp(cursor, "0"));
}

struct idlist {
	const char *coll;
	nedb_buf ids;		/* NUL-separated */
	size_t n;
};

static int
gone_row(const char *json, size_t len, void *payload)
{
	struct idlist *l = payload;
	const char *v;
	char *id = NULL;
	size_t n;

	if (!nedb_json_member(json, len, "_id", &v, &n) ||
	    nedb_json_string(v, n, &id))
		return 0;
	if (!seen_has(l->coll, id)) {
		nedb_buf_add(&l->ids, id, strlen(id) + 1);
		l->n++;
	}
	free(id);
	return 0;
}

/* Whether coll is one the follower writes Redis keys to. */
static bool
owned_coll(const char *coll)
{
	size_t i;

	if (!strcmp(coll, "redis"))
		return true;
	if (!strncmp(coll, "redis_db", 8) && coll[8] &&
	    strspn(coll + 8, "0123456789") == strlen(coll + 8))
		return true;
	for (i = 0; nedb_redis_map_coll(F.map, i, NULL); i++)
		if (!strcmp(nedb_redis_map_coll(F.map, i, NULL), coll))
			return true;
	return false;
}

static int
coll_name(const char *coll, uint64_t count, void *payload)
{
	nedb_buf *b = payload;

	(void)count;
	if (owned_coll(coll))
		nedb_buf_add(b, coll, strlen(coll) + 1);
	return 0;
}

/* Deletes the documents of the follower's collections that the snapshot
 * does not hold. */
static void
import_deletes(struct import *im)
{
	nedb_buf colls = {0};
	int rc;

	txn_begin();
	if ((rc = nedb_collections(F.db, coll_name, &colls))) {
		nedb_write_abort(F.db);
		cli_fail(rc);
	}
	for (size_t at = 0; at < colls.len; at += strlen(colls.p + at) + 1) {
		struct idlist l = {colls.p + at, {0}, 0};
		char q[80];

		snprintf(q, sizeof q, "FROM %s", l.coll);
		txn_begin();
		if ((rc = nedb_query(F.db, q, 0, gone_row, &l))) {
			nedb_write_abort(F.db);
			cli_fail(rc);
		}
		for (size_t i = 0; i < l.ids.len; i += strlen(l.ids.p + i) + 1) {
			nedb_wopts w = {
				.client = "redis", .evidence = im->evidence,
				.repl_offset = im->offset, .keep_expired = 1,
			};

			txn_begin();
			rc = nedb_write_delete(F.db, l.coll, l.ids.p + i, &w,
					       NULL);
			if (rc && rc != NEDB_ENOTFOUND) {
				nedb_write_abort(F.db);
				cli_fail(rc);
			}
			im->deletes += !rc;
			if (nedb_write_pending(F.db) >= IMPORT_BATCH) {
				txn_commit(true);
				link_pump(im->offset);
			}
		}
		nedb_buf_free(&l.ids);
	}
	nedb_buf_free(&colls);
}

/* The Redis databases the private server holds keys in (INFO keyspace). */
static size_t
private_dbs(unsigned *out, size_t cap)
{
	const char *argv[] = {"INFO", "keyspace"};
	redisReply *r;
	size_t n = 0;
	const char *p;

	private_append(2, argv, NULL);
	r = private_reply();
	for (p = r->str; p && (p = strstr(p, "\ndb")); p++)
		if (n < cap && isdigit((unsigned char)p[3]))
			out[n++] = (unsigned)strtoul(p + 3, NULL, 10);
	freeReplyObject(r);
	return n;
}

/*
 * Imports the snapshot in P.rdb, taken at (replid, offset), as the
 * difference against what the database holds: puts for the keys whose
 * documents differ, deletes for the documents of keys it does not hold;
 * backfill the first time, resync after.
 */
static void
import_snapshot(const char *replid, uint64_t offset)
{
	struct import im = {
		.evidence = F.syncs ? "resync" : "backfill", .offset = offset,
		.began = now_ms(),
	};
	uint64_t unmapped = F.unmapped;
	unsigned dbs[1024];
	size_t ndb;

	if (F.syncs)
		say("full resynchronization with %s: %s; importing its "
		    "snapshot (replication id %s, offset %llu) as the "
		    "difference, ops marked \"evidence\":\"resync\"", src.name,
		    F.once ? "--once imports a snapshot" :
		    "Redis cannot continue from where this database stopped",
		    replid, (unsigned long long)offset);
	/* invariant 5: the import is under way, from this state on */
	need_db();
	memcpy(F.replid, replid, 41);
	F.applied = offset;
	select_db(0);
	F.multi = false;
	txn_commit_state(true, true);
	link_ok = true;
	private_start(offset);
	if (stopping)
		return;
	F.conn.evidence = im.evidence;
	F.conn.repl_offset = offset;
	F.conn.replica = true;
	ndb = private_dbs(dbs, sizeof dbs / sizeof *dbs);
	for (size_t i = 0; i < ndb && !stopping; i++)
		import_db(&im, dbs[i]);
	if (stopping) {
		txn_commit(true);
		return;
	}
	select_db(0);
	import_deletes(&im);
	/* the import is done: the state says so, with the ops of its end */
	F.syncs++;
	F.applied = offset;
	im.raws = F.unmapped - unmapped;
	txn_commit_state(false, true);
	seen_free();
	private_stop();
	progress_end();
	if (F.progress || F.once)
		say("imported the snapshot of %s: %llu keys, %llu puts, %llu "
		    "deletes, %llu raw ops (%s)", src.name,
		    (unsigned long long)im.keys, (unsigned long long)im.puts,
		    (unsigned long long)im.deletes,
		    (unsigned long long)im.raws, im.evidence);
}

/* ---- following the stream -------------------------------------------------- */

/*
 * How often to ACK: every second, as Redis replicas do; but every 0.1 s
 * until the stream's first byte after a snapshot, since Redis puts a
 * replica that took a diskless snapshot online on its first ACK after
 * it has seen the snapshot's end (and buffers our stream until then).
 */
static int64_t
ack_period(void)
{
	return L.fed || now_ms() - L.began > 5000 ? ACK_PERIOD_MS : 100;
}

/* The offset Redis may be told of (invariant 2). */
static uint64_t
ack_offset(void)
{
	if (F.multi || (F.txn && nedb_write_pending(F.db)))
		return F.committed;
	return F.applied;
}

static bool
is(const redisReply *a, const char *name)
{
	return a->len == strlen(name) && !strcasecmp(a->str, name);
}

/* db, added to the list dbs (of *n) unless it is there. */
static void
add_db(unsigned *dbs, size_t *n, size_t cap, unsigned db)
{
	for (size_t i = 0; i < *n; i++)
		if (dbs[i] == db)
			return;
	if (*n < cap)
		dbs[(*n)++] = db;
}

static int
coll_db(const char *coll, uint64_t count, void *payload)
{
	unsigned *dbs = payload;
	size_t n = dbs[0];

	(void)count;
	if (!strcmp(coll, "redis"))
		add_db(dbs + 1, &n, 1023, 0);
	else if (!strncmp(coll, "redis_db", 8) && owned_coll(coll))
		add_db(dbs + 1, &n, 1023, (unsigned)strtoul(coll + 8, NULL,
							    10));
	dbs[0] = (unsigned)n;
	return 0;
}

/* FLUSHALL: FLUSHDB on every Redis database the follower has keys of
 * (its collections, and those of the map's rules). */
static void
flushall(void)
{
	unsigned dbs[1024] = {0}, back = F.curdb, db;
	const char *argv[] = {"FLUSHDB"};
	size_t len[] = {7}, n;
	nedb_buf out = {0};
	bool wrote;
	int rc;

	if ((rc = nedb_collections(F.db, coll_db, dbs))) {
		nedb_write_abort(F.db);
		cli_fail(rc);
	}
	n = dbs[0];
	for (size_t i = 0; nedb_redis_map_coll(F.map, i, &db); i++)
		add_db(dbs + 1, &n, 1023, db);
	for (size_t i = 0; i < n; i++) {
		select_db(dbs[i + 1]);
		out.len = 0;
		if (nedb_redis_exec(&F.conn, 1, argv, len, &out, &wrote) < 0) {
			nedb_write_abort(F.db);
			cli_failf(NEDB_EIO, "%.*s", out.len > 7 ?
				  (int)out.len - 7 : 0, out.p + 5);
		}
	}
	select_db(back);
	nedb_buf_free(&out);
}

/*
 * One command of the stream, which ends at offset end: replication
 * traffic (PING, REPLCONF GETACK, SELECT, MULTI, EXEC) handled, a write
 * run through the command table, anything else recorded raw.  Returns
 * -1 (L.err) when the stream is not what Redis sends.
 */
static int
process(redisReply *r, uint64_t end)
{
	static nedb_buf out, names;
	static const char **argv;
	static size_t *lens, cap;
	redisReply *a0;
	bool wrote;
	int rc;

	if (r->type != REDIS_REPLY_ARRAY || r->elements == 0)
		return link_fail("protocol error: the stream holds a reply "
				 "of type %d", r->type);
	for (size_t i = 0; i < r->elements; i++)
		if (r->element[i]->type != REDIS_REPLY_STRING)
			return link_fail("protocol error: a command with an "
					 "argument of type %d",
					 r->element[i]->type);
	a0 = r->element[0];
	F.commands++;
	if (is(a0, "ping") || is(a0, "publish")) {
		/* keep-alive; messages are no data */
	} else if (is(a0, "replconf")) {
		if (r->elements >= 2 && is(r->element[1], "getack") &&
		    link_ack(ack_offset()))
			return -1;
	} else if (is(a0, "select")) {
		char *e;
		unsigned long n;

		errno = 0;
		n = r->elements == 2 ? strtoul(r->element[1]->str, &e, 10) : 0;
		if (r->elements != 2 || errno || *e || n > 1000000)
			return link_fail("protocol error: bad SELECT");
		select_db((unsigned)n);
	} else if (is(a0, "multi")) {
		F.multi = true;
	} else if (is(a0, "exec")) {
		F.multi = false;
	} else {
		unsigned flags = nedb_redis_flags(a0->str, a0->len);

		txn_begin();
		if (r->elements > cap) {
			cap = r->elements * 2;
			argv = realloc(argv, cap * sizeof *argv);
			lens = realloc(lens, cap * sizeof *lens);
			if (!argv || !lens)
				cli_failf(NEDB_EIO, "out of memory");
		}
		for (size_t i = 0; i < r->elements; i++) {
			argv[i] = r->element[i]->str;
			lens[i] = r->element[i]->len;
		}
		F.conn.evidence = "shadow";
		F.conn.repl_offset = end;
		F.conn.replica = true;
		if (is(a0, "flushall")) {
			flushall();
		} else if (flags & NEDB_REDIS_WRITE) {
			out.len = 0;
			rc = nedb_redis_exec(&F.conn, (int)r->elements, argv,
					     lens, &out, &wrote);
			if (rc < 0) {
				/* a database error: nothing acknowledged */
				nedb_write_abort(F.db);
				cli_failf(NEDB_EIO, "%.*s", out.len > 7 ?
					  (int)out.len - 7 : 0, out.p + 5);
			}
			if (out.len && out.p[0] == '-') {
				names.len = 0;
				nedb_buf_add(&names, out.p + 1,
					     out.len - 3);
				stage_raw((int)r->elements, argv, lens,
					  F.curdb, end, 0, names.p);
			}
		} else
			stage_raw((int)r->elements, argv, lens, F.curdb, end,
				  0, NULL);
	}
	F.applied = end;
	return 0;
}

/*
 * Follows the stream until the link breaks (-1, L.err) or a signal
 * stops it (0): commands as they come, a commit when the link has
 * nothing more for now (or the batch is large or old), outside
 * MULTI ... EXEC; an ACK after each commit and every second.
 */
static int
follow(void)
{
	for (;;) {
		redisReply *r;
		long n;

		for (;;) {
			void *rep = NULL;

			if (redisReaderGetReply(L.rd, &rep) != REDIS_OK)
				return link_fail("protocol error: %s",
						 L.rd->errstr);
			if (!(r = rep))
				break;
			if (process(r, stream_offset())) {
				freeReplyObject(r);
				return -1;
			}
			freeReplyObject(r);
			if (F.txn && !F.multi &&
			    nedb_write_pending(F.db) >= BATCH_OPS)
				break;
		}
		/* commit when the socket is quiet, or the batch is large
		 * or old; never inside MULTI ... EXEC (invariant 3) */
		if (F.txn && !F.multi) {
			struct pollfd p = {L.fd, POLLIN, 0};
			bool quiet = poll(&p, 1, 0) == 0;

			if (quiet || stopping ||
			    nedb_write_pending(F.db) >= BATCH_OPS ||
			    now_ms() - F.txn_since >= BATCH_MS) {
				if (txn_commit(false) && link_ack(F.committed))
					return -1;
			}
		}
		if (stopping && !F.multi)
			return 0;
		progress(false, "following %s: offset %llu, %llu commands, "
			 "%llu ops, %llu raw", src.name,
			 (unsigned long long)F.applied,
			 (unsigned long long)F.commands,
			 (unsigned long long)F.ops,
			 (unsigned long long)F.unmapped);
		{
			int64_t wait = ack_period() - (now_ms() - L.last_ack);

			if (F.txn && !F.multi)
				wait = 0;	/* the commit above waits */
			n = link_read(wait < 0 ? 0 : (int)wait, false);
		}
		if (n < 0)
			return -1;
		if (n == 0 && now_ms() - L.last_rx > LINK_TIMEOUT_MS)
			return link_fail("timed out: nothing from Redis for "
					 "%d s", LINK_TIMEOUT_MS / 1000);
		if (now_ms() - L.last_ack >= ack_period() &&
		    link_ack(ack_offset()))
			return -1;
	}
}

/* ---- synchronizing --------------------------------------------------------- */

/*
 * Connects, asks to continue from the committed offset (PSYNC replid
 * offset+1) or for a snapshot (PSYNC ? -1, always with --once), and
 * imports the snapshot when Redis sends one.  Returns 0 with the stream
 * ready, or -1 (L.err; *refused when Redis said no rather than the
 * network failing).
 */
static int
synchronize(bool *refused)
{
	char line[256], off[24], *cmd;
	const char *argv[] = {"PSYNC", "?", "-1"};
	long long n;

	if (link_connect(refused) || link_handshake(refused))
		return -1;
	if (*F.replid && !F.importing && !F.once) {
		snprintf(off, sizeof off, "%llu",
			 (unsigned long long)F.committed + 1);
		argv[1] = F.replid;
		argv[2] = off;
	}
	if ((n = redisFormatCommandArgv(&cmd, 3, argv, NULL)) < 0)
		cli_failf(NEDB_EIO, "out of memory");
	if (link_write(cmd, (size_t)n)) {
		redisFreeCommand(cmd);
		return -1;
	}
	redisFreeCommand(cmd);
	L.last_rx = L.last_ack = now_ms();
	if (raw_line(line, sizeof line))
		return -1;
	if (!strncmp(line, "+FULLRESYNC ", 12)) {
		char replid[41];
		unsigned long long o;

		if (sscanf(line + 12, "%40s %llu", replid, &o) != 2 ||
		    strlen(replid) != 40)
			return link_fail("protocol error: '%.80s'", line);
		private_dir();
		if (receive_rdb(P.rdb, o)) {
			private_stop();
			return -1;
		}
		/* the stream starts after the snapshot; diskless, Redis
		 * waits for an ACK to send it */
		stream_begin(o);
		if (link_ack(o))
			return -1;
		import_snapshot(replid, o);
		private_stop();
		if (stopping)
			return 0;
		if (!link_ok)
			return link_fail("%s", *L.err ? L.err :
					 "link lost during the import");
		return 0;
	}
	if (!strncmp(line, "+CONTINUE", 9)) {
		const char *id = line + 9 + strspn(line + 9, " ");

		if (strlen(id) == 40)	/* a new id for the same history */
			memcpy(F.replid, id, 41);
		F.applied = F.committed;
		select_db(F.committed_db);
		stream_begin(F.committed);
		return 0;
	}
	*refused = line[0] == '-';
	return link_fail("refused as a replica: %s", line[0] == '-' ?
			 line + 1 : line);
}

/* ---- --status -------------------------------------------------------------- */

/* An INFO replication field's value into out ("" when absent). */
static void
info_field(const char *info, const char *name, char *out, size_t cap)
{
	const char *p = strstr(info, name);
	size_t n;

	*out = 0;
	if (!p || (p != info && p[-1] != '\n') || p[strlen(name)] != ':')
		return;
	p += strlen(name) + 1;
	n = strcspn(p, "\r\n");
	snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), p);
}

static int
status(void)
{
	const char *argv[] = {"INFO", "replication"};
	char replid[64] = "", off[32] = "";
	nedb_buf o = {0};
	bool refused;
	redisReply *r;
	int rc;

	if ((rc = nedb_open_key(&F.db, F.dir, 0, cli.tmk_file)))
		cli_fail(rc == NEDB_EUSAGE ? rc : NEDB_EIO);
	cli.open = F.db;
	load_state(false);
	if (!*F.replid)
		cli_failf(NEDB_ENOTFOUND, "'%s' follows no Redis yet", F.dir);
	if (!*src.name)
		set_source(NULL);
	if (link_connect(&refused) || !(r = link_command(2, argv)))
		cli_failf(NEDB_EIO, "%s: %s", src.name, L.err);
	if (r->type == REDIS_REPLY_ERROR)
		cli_failf(NEDB_EIO, "%s: %s", src.name, r->str);
	if (r->type == REDIS_REPLY_STRING) {
		info_field(r->str, "master_replid", replid, sizeof replid);
		info_field(r->str, "master_repl_offset", off, sizeof off);
	}
	freeReplyObject(r);
	nedb_buf_puts(&o, "{\"source\":");
	nedb_buf_json_str(&o, src.name, strlen(src.name));
	nedb_buf_printf(&o, ",\"replid\":\"%s\",\"applied\":%llu,"
			"\"syncs\":%llu,\"unmapped\":%llu,\"importing\":%s,"
			"\"redis_replid\":\"%s\",\"redis_offset\":%s,\"lag\":",
			F.replid, (unsigned long long)F.committed,
			(unsigned long long)F.syncs,
			(unsigned long long)F.unmapped_committed,
			F.importing ? "true" : "false", replid,
			*off ? off : "null");
	if (*off && !strcmp(replid, F.replid))
		nedb_buf_printf(&o, "%lld", strtoll(off, NULL, 10) -
				(long long)F.committed);
	else
		nedb_buf_puts(&o, "null");	/* another history */
	nedb_buf_add(&o, "}", 1);
	cli_print(o.p, o.len);
	nedb_buf_free(&o);
	link_close();
	nedb_close(F.db);
	cli.open = NULL;
	cli_finish();
	return 0;
}

/* ---- main ------------------------------------------------------------------ */

static void
set_source(const char *url)
{
	char buf[320];

	if (!url && *F.source) {
		snprintf(buf, sizeof buf, "%s%s", *F.source == '/' ?
			 "unix://" : "redis://", F.source);
		url = buf;
	}
	parse_url(url ? url : "redis://127.0.0.1:6379");
	if (!src.pass && getenv("REDISCLI_AUTH") && *getenv("REDISCLI_AUTH"))
		src.pass = getenv("REDISCLI_AUTH");
}

static void
load_map(const char *path)
{
	nedb_buf text = {0};
	int rc;

	cli_read_file(path, &text);
	if ((rc = nedb_redis_map_parse(text.p ? text.p : "", text.len,
				       &F.map)))
		cli_failf(rc, "bad map '%s': %s", path, nedb_errmsg());
	nedb_buf_free(&text);
	for (size_t i = 0; nedb_redis_map_coll(F.map, i, NULL); i++) {
		const char *c = nedb_redis_map_coll(F.map, i, NULL);

		if (!strcmp(c, STATE_COLL) || !strcmp(c, RAW_COLL) ||
		    !strcmp(c, "redis") || (!strncmp(c, "redis_db", 8) &&
					    owned_coll(c) &&
					    strcmp(c, "redis_db")))
			cli_failf(NEDB_EINPUT, "bad map '%s': rule %zu: "
				  "collection '%s' is the follower's own", path,
				  i + 1, c);
	}
}

static void
cleanup(void)
{
	private_stop();
}

int
main(int argc, char **argv)
{
	bool status_only = false, refused;
	const char *map = NULL;
	int c, rc, backoff = 100;
	struct sigaction sa;

	cli_init("nedb-redis-follow", usage);
	F.progress = isatty(STDERR_FILENO);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts,
				NULL)) != -1) {
		if (cli_common(c, optarg))
			continue;
		switch (c) {
		case OPT_MAP: map = optarg; break;
		case OPT_ONCE: F.once = true; break;
		case OPT_STATUS: status_only = true; break;
		case OPT_PROGRESS: F.progress = true; break;
		case OPT_NO_PROGRESS: F.progress = false; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		cli_usage("too many arguments: one URL at most");
	if (argc)
		set_source(argv[0]);
	if (map)
		load_map(map);
	F.dir = cli_dir();
	L.fd = -1;
	select_db(0);
	F.conn.client = "redis";
	F.conn.map = F.map;
	F.conn.replica = true;
	if (status_only)
		return status();

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(cleanup);

	/* the state, when there is a database already */
	rc = nedb_open_key(&F.db, F.dir, 0, cli.tmk_file);
	if (rc && rc != NEDB_ENOTFOUND)
		cli_fail(rc == NEDB_EUSAGE ? rc : NEDB_EIO);
	if (F.db) {
		nedb_set_durability(F.db, cli.durability);
		cli.open = F.db;
		F.conn.db = F.db;
		lock_dir();
		load_state(true);
	}
	if (!argc)
		set_source(NULL);
	/* the first synchronization: any failure is the answer (but a
	 * signal's) */
	if (synchronize(&refused) && !stopping)
		cli_failf(NEDB_EIO, "%s: %s", src.name, L.err);
	if (F.once || stopping) {
		txn_commit(F.importing);
		link_close();
		nedb_close(F.db);
		cli.open = NULL;
		if (stopping && (F.importing || !F.syncs))
			say("stopped before a snapshot of %s was imported; "
			    "the next start imports one", src.name);
		return 0;
	}
	for (;;) {
		if (follow() == 0 || stopping)
			break;
		/* the link broke: what is not committed comes again */
		txn_abort();
		say("link to %s lost: %s; resuming from offset %llu", src.name,
		    L.err, (unsigned long long)F.committed);
		link_close();
		while (!stopping) {
			usleep((useconds_t)backoff * 1000);
			if (synchronize(&refused) == 0)
				break;
			link_close();
			if (refused)
				cli_failf(NEDB_EIO, "%s: %s", src.name, L.err);
			if (backoff < 5000)
				backoff *= 2;
		}
		if (stopping)
			break;
		backoff = 100;
	}
	/* SIGTERM: the batch is committed unless it is half a MULTI */
	if (F.multi)
		txn_abort();
	else
		txn_commit(false);
	if (L.fd >= 0)
		link_ack(ack_offset());
	link_close();
	progress_end();
	nedb_close(F.db);
	cli.open = NULL;
	cli_finish();
	return 0;
}
