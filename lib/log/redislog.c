/*
 * redislog.c - the log on a Redis Stream (engine.h; SPEC §10).
 *
 * One stream per nedb database, the original NEDB's layout:
 *
 *     nedb:<name>:oplog    entry "<seq>-1" {line: <the op's line>,
 *                                           hash: <its hash, 64 hex>}
 *
 * The entry's id is the op's seq with sequence part 1 (seq 0, the
 * genesis, is "0-1": Redis refuses the id 0-0), so XRANGE by seq is an
 * XRANGE by id.  line is the op's line exactly as log.aof stores it
 * (without "\n"); hash is the chain's hash, which the line's own hash
 * member also says.
 *
 * What makes an append exact is one Lua script (APPEND below, run with
 * EVAL): it reads the stream's last entry and appends the whole batch
 * only if that entry is the seq before the batch's first; else it
 * appends nothing and answers the seq it expected.  Redis runs a script
 * alone, so two writers never both win a seq, and the batch goes in
 * whole or not at all (every XADD of it is checked before the first:
 * ids above the last one always succeed).  A writer that lost (the
 * script's answer) is told so (nedb_write_conflict): it begins again,
 * caught up.
 *
 * The lock (nedb:<name>:lock) is not what keeps the chain whole -- the
 * script is -- but what keeps writers from losing races they would then
 * have to begin again: SET NX PX with a token naming the holder's
 * connection (CLIENT ID).  A writer that finds it taken asks Redis
 * whether that connection still exists (CLIENT LIST ID): a writer killed
 * mid-batch frees it at once, a stalled one (or one behind a partition)
 * after the expiry, LOCK_MS.  A lock that expired under a slow writer
 * costs a lost race, never a fork.  The append script frees it with the
 * batch (one round trip, and one AOF fsync, fewer).
 *
 * Durability: the script's reply means the primary applied the batch
 * (and, with appendfsync always, wrote it to its AOF).  With ?wait=N in
 * the URL each commit then runs WAIT N: the write is acknowledged only
 * once N replicas have it.  Replication is asynchronous all the same: a
 * failover may lose acknowledged ops that no replica had; nedb(7) says
 * so, and a copy that holds them refuses to go on (engine.c, E1).
 *
 * Followers block in XREAD BLOCK on the id of the last entry they saw.
 *
 * libhiredis is loaded on first use (dlopen of libhiredis.so.0.14), as
 * pglog.c loads libpq: a database without an engine never pays for it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <hiredis/hiredis.h>
#include "internal.h"
#include "engine.h"

#define CONNECT_MS 10000	/* to connect */
#define COMMAND_MS 30000	/* for any command's answer */
#define LOCK_MS 30000		/* the writer lock's expiry */

/* KEYS[1] the stream, KEYS[2] the lock; ARGV[1] the batch's first seq,
 * ARGV[2] the writer's token ("": it holds no lock), then line and hash
 * of each op.  "OK" (and the lock freed if it is the writer's), or the
 * seq the stream expects next. */
static const char APPEND[] =
	"local first = tonumber(ARGV[1])\n"
	"local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)\n"
	"local nxt = 0\n"
	"if #top > 0 then\n"
	"  nxt = tonumber(string.match(top[1][1], '^(%d+)-')) + 1\n"
	"end\n"
	"if nxt ~= first then return nxt end\n"
	"for i = 3, #ARGV, 2 do\n"
	"  redis.call('XADD', KEYS[1], string.format('%.0f-1', first + (i - 3) / 2),\n"
	"             'line', ARGV[i], 'hash', ARGV[i + 1])\n"
	"end\n"
	"if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) == ARGV[2] then\n"
	"  redis.call('DEL', KEYS[2])\n"
	"end\n"
	"return redis.status_reply('OK')\n";

/* KEYS[1] the lock; ARGV[1] the token: deleted if it is still ours. */
static const char UNLOCK[] =
	"if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
	"  return redis.call('DEL', KEYS[1])\n"
	"end\n"
	"return 0\n";

struct redis_engine {
	struct nedb_engine base;	/* engine.h: first */
	char host[256];
	int port;
	int dbnum;		/* SELECT */
	char *user, *password;	/* AUTH (NULL: none) */
	unsigned replicas;	/* ?wait=N: WAIT N after each commit */
	int wait_ms;		/* ?wait_ms=: WAIT's timeout */
	char stream[80];	/* "nedb:<name>:oplog" */
	char lock[80];		/* "nedb:<name>:lock" */
	redisContext *c;
	char token[64];		/* "<client id>:<pid>:<random>" */
	bool locked;
	nedb_buf pending;	/* lines inserted, not yet committed */
	uint64_t pending_seq;
	size_t pending_n;
	uint64_t seen;		/* the highest seq read or written */
	bool seen_any;
};

#define RE(eng) ((struct redis_engine *)(eng))

/* ---- libhiredis, loaded on first use -------------------------------------- */

#define RH_FUNCS(X) \
	X(redisConnectWithTimeout) X(redisSetTimeout) X(redisCommandArgv) \
	X(freeReplyObject) X(redisFree)

static struct {
#define RH_SLOT(f) __typeof__(&f) f;
	RH_FUNCS(RH_SLOT)
#undef RH_SLOT
} H;
static bool rh_loaded;

static int
rh_load(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	void *h;
	int rc = 0;

	if (__atomic_load_n(&rh_loaded, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&lock);
	if (rh_loaded)
		goto done;
	if (nedb__test_fail("libhiredis") ||
	    !(h = dlopen("libhiredis.so.0.14", RTLD_LAZY | RTLD_LOCAL))) {
		rc = nedb__err(NEDB_EIO, "cannot load libhiredis.so.0.14 (the "
			       "Redis client library, Debian's "
			       "libhiredis0.14): %s",
			       nedb__test_fail("libhiredis") ? "test" :
			       dlerror());
		goto done;
	}
#define RH_RESOLVE(f) \
	if (!(*(void **)&H.f = dlsym(h, #f))) { \
		rc = nedb__err(NEDB_EIO, "cannot load libhiredis.so.0.14: %s", \
			       dlerror()); \
		goto done; \
	}
	RH_FUNCS(RH_RESOLVE)
#undef RH_RESOLVE
	__atomic_store_n(&rh_loaded, true, __ATOMIC_RELEASE);
done:
	pthread_mutex_unlock(&lock);
	return rc;
}

/* ---- the URL ------------------------------------------------------------ */

static int
bad_url(struct nedb_engine *base, const char *why)
{
	return nedb__err(NEDB_EUSAGE, "bad log URL '%s': %s; want "
			 "redis://[[user]:password@]host[:port][/db]"
			 "[?wait=N[&wait_ms=MS]]#name", base->shown, why);
}

static bool
number(const char *s, size_t n, long max, long *out)
{
	char *end;

	if (n == 0 || n > 10 || s[0] < '0' || s[0] > '9')
		return false;
	errno = 0;
	*out = strtol(s, &end, 10);
	return !errno && end == s + n && *out <= max;
}

/*
 * redis://[[user]:password@]host[:port][/db][?wait=N[&wait_ms=MS]]:
 * the part before the fragment (base->conninfo).
 */
static int
redis_setup(struct nedb_engine *base)
{
	struct redis_engine *e = RE(base);
	const char *s = base->conninfo + strlen("redis://"), *at, *end, *q;
	const char *colon;
	long v;

	e->port = 6379;
	e->wait_ms = 5000;
	end = s + strcspn(s, "/?");
	at = memchr(s, '@', (size_t)(end - s));
	if (at) {
		colon = memchr(s, ':', (size_t)(at - s));
		if (!colon)
			return bad_url(base, "no ':' before the password");
		if (colon > s)
			e->user = nedb__memdup(s, (size_t)(colon - s));
		e->password = nedb__memdup(colon + 1,
					   (size_t)(at - colon - 1));
		s = at + 1;
	}
	colon = memchr(s, ':', (size_t)(end - s));
	if ((size_t)((colon ? colon : end) - s) >= sizeof e->host)
		return bad_url(base, "the host name is too long");
	memcpy(e->host, s, (size_t)((colon ? colon : end) - s));
	if (!*e->host)
		snprintf(e->host, sizeof e->host, "127.0.0.1");
	if (colon) {
		if (!number(colon + 1, (size_t)(end - colon - 1), 65535, &v) ||
		    v == 0)
			return bad_url(base, "bad port");
		e->port = (int)v;
	}
	s = end;
	if (*s == '/') {
		s++;
		end = s + strcspn(s, "?");
		if (end > s) {
			if (!number(s, (size_t)(end - s), 100000, &v))
				return bad_url(base, "bad database number");
			e->dbnum = (int)v;
		}
		s = end;
	}
	if (*s == '?')
		for (s++; *s; s = *q ? q + 1 : q) {
			size_t n;

			q = s + strcspn(s, "&");
			n = (size_t)(q - s);
			if (n > 5 && !strncmp(s, "wait=", 5) &&
			    number(s + 5, n - 5, 1000, &v))
				e->replicas = (unsigned)v;
			else if (n > 8 && !strncmp(s, "wait_ms=", 8) &&
				 number(s + 8, n - 8, 3600000, &v) && v > 0)
				e->wait_ms = (int)v;
			else
				return bad_url(base, "unknown or bad parameter "
					       "(wait=N replicas, wait_ms=MS)");
		}
	snprintf(e->stream, sizeof e->stream, "nedb:%s:oplog", base->name);
	snprintf(e->lock, sizeof e->lock, "nedb:%s:lock", base->name);
	return 0;
}

static void
redis_close(struct nedb_engine *base)
{
	struct redis_engine *e = RE(base);

	if (e->c) {
		H.redisFree(e->c);
		e->c = NULL;
	}
	e->locked = false;
	e->token[0] = 0;	/* it names the connection */
}

static void
redis_release(struct nedb_engine *base)
{
	struct redis_engine *e = RE(base);

	free(e->user);
	if (e->password) {
		explicit_bzero(e->password, strlen(e->password));
		free(e->password);
	}
	nedb_buf_free(&e->pending);
}

/* ---- commands ----------------------------------------------------------- */

static struct timeval
ms_tv(int ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	return tv;
}

/*
 * Runs the command argv (lens: NULL for NUL-terminated arguments) into
 * *out (caller frees with H.freeReplyObject).  A lost connection, a
 * server loading, a replica that cannot write or a primary without its
 * replicas is "cannot be reached" (the next call connects anew); any
 * other error reply is NEDB_EIO naming what.
 */
static int
run(struct redis_engine *e, redisReply **out, int argc, const char **argv,
    const size_t *lens, const char *what)
{
	static const char *const down[] = {
		"LOADING", "READONLY", "MASTERDOWN", "NOREPLICAS", "BUSY ",
		"TRYAGAIN", "CLUSTERDOWN", NULL
	};
	redisReply *r = H.redisCommandArgv(e->c, argc, argv, lens);

	*out = NULL;
	if (!r)
		return nedb__engine_unreachable(&e->base, e->c->errstr[0] ?
						e->c->errstr :
						"connection lost");
	if (r->type == REDIS_REPLY_ERROR) {
		char msg[300];
		int rc;

		snprintf(msg, sizeof msg, "%.*s", (int)strcspn(r->str, "\r\n"),
			 r->str);
		H.freeReplyObject(r);
		for (int i = 0; down[i]; i++)
			if (!strncmp(msg, down[i], strlen(down[i])))
				return nedb__engine_unreachable(&e->base, msg);
		rc = nedb__err(NEDB_EIO, "the log engine %s: %s: %s",
			       e->base.shown, what, msg);
		return rc;
	}
	*out = r;
	return 0;
}

/* run without a reply wanted. */
static int
run0(struct redis_engine *e, int argc, const char **argv, const char *what)
{
	redisReply *r;
	int rc = run(e, &r, argc, argv, NULL, what);

	if (r)
		H.freeReplyObject(r);
	return rc;
}

static int
connect_engine(struct redis_engine *e)
{
	int rc;

	if (e->c)
		return 0;
	if ((rc = rh_load()))
		return rc;
	e->c = H.redisConnectWithTimeout(e->host, e->port, ms_tv(CONNECT_MS));
	if (!e->c)
		return nedb__engine_unreachable(&e->base, "out of memory");
	if (e->c->err)
		return nedb__engine_unreachable(&e->base, e->c->errstr);
	H.redisSetTimeout(e->c, ms_tv(COMMAND_MS));
	if (e->password) {
		const char *auth[] = {"AUTH", e->user ? e->user : e->password,
				      e->password};

		if ((rc = run0(e, e->user ? 3 : 2, auth, "cannot log in")))
			goto fail;
	}
	if (e->dbnum) {
		char n[16];
		const char *sel[] = {"SELECT", n};

		snprintf(n, sizeof n, "%d", e->dbnum);
		if ((rc = run0(e, 2, sel, "cannot select the database")))
			goto fail;
	}
	return 0;
fail:
	redis_close(&e->base);
	return rc;
}

/* ---- the lock ----------------------------------------------------------- */

/* The lock's token: this connection's id, made by the first writer on it
 * (a reader never pays the round trip). */
static int
make_token(struct redis_engine *e)
{
	const char *cid[] = {"CLIENT", "ID"};
	char rnd[20];
	unsigned char b[8];
	redisReply *r;
	int rc;

	if (*e->token)
		return 0;
	if ((rc = run(e, &r, 2, cid, NULL, "cannot name the connection")))
		return rc;
	nedb__rand_pool(b, sizeof b);
	nedb__hex(rnd, b, sizeof b);
	rnd[16] = 0;
	snprintf(e->token, sizeof e->token, "%lld:%ld:%s",
		 r->type == REDIS_REPLY_INTEGER ? r->integer : 0,
		 (long)getpid(), rnd);
	H.freeReplyObject(r);
	return 0;
}

/* Deletes the lock held by holder if its connection is gone: *freed. */
static int
free_if_dead(struct redis_engine *e, const char *holder, bool *freed)
{
	char id[24];
	const char *list[] = {"CLIENT", "LIST", "ID", id};
	const char *unlock[] = {"EVAL", UNLOCK, "1", e->lock, holder};
	redisReply *r;
	int rc;

	*freed = false;
	snprintf(id, sizeof id, "%.*s", (int)strcspn(holder, ":"), holder);
	if (!*id || strspn(id, "0123456789") != strlen(id))
		return 0;	/* not ours: it expires */
	if ((rc = run(e, &r, 4, list, NULL, "cannot list connections")))
		return rc;
	*freed = r->type == REDIS_REPLY_STRING && r->len == 0;
	H.freeReplyObject(r);
	if (*freed)
		rc = run0(e, 5, unlock, "cannot free the lock");
	return rc;
}

static void
unlock(struct redis_engine *e)
{
	const char *argv[] = {"EVAL", UNLOCK, "1", e->lock, e->token};

	if (!e->locked || !e->c)
		return;
	e->locked = false;
	/* an error leaves it to expire (and drops the connection) */
	(void)run0(e, 5, argv, "cannot unlock");
}

static int
redis_begin(nedb *db, bool wait, bool create)
{
	struct redis_engine *e = RE(db->eng);
	char ms[16];
	const char *set[] = {"SET", e->lock, e->token, "NX", "PX", ms};
	const char *get[] = {"GET", e->lock};
	struct timespec ts = {0, 1000 * 1000};
	redisReply *r;
	int rc;

	(void)create;	/* the stream is made by its first XADD */
	e->pending.len = 0;
	e->pending_n = 0;
	if ((rc = connect_engine(e)))
		return rc;
	/* the test of the lost race: writers that take no lock */
	if (e->locked || nedb__test_fail("engine-lock"))
		return 0;
	if ((rc = make_token(e)))
		return rc;
	snprintf(ms, sizeof ms, "%d", LOCK_MS);
	for (;;) {
		bool ok, freed;

		if ((rc = run(e, &r, 6, set, NULL, "cannot lock")))
			return rc;
		ok = r->type == REDIS_REPLY_STATUS;
		H.freeReplyObject(r);
		if (ok) {
			e->locked = true;
			return 0;
		}
		if ((rc = run(e, &r, 2, get, NULL, "cannot lock")))
			return rc;
		if (r->type != REDIS_REPLY_STRING) {
			H.freeReplyObject(r);
			continue;	/* released meanwhile */
		}
		rc = free_if_dead(e, r->str, &freed);
		H.freeReplyObject(r);
		if (rc)
			return rc;
		if (freed)
			continue;
		if (!wait)
			return nedb__err(NEDB_EBUSY, "database '%s' is locked "
					 "by another writer (on the engine)",
					 e->base.name);
		/* a Redis key cannot be waited on: poll, 1 to 32 ms */
		nanosleep(&ts, NULL);
		if (ts.tv_nsec < 32 * 1000 * 1000)
			ts.tv_nsec *= 2;
	}
}

static void
redis_end(nedb *db)
{
	struct redis_engine *e = RE(db->eng);

	e->pending.len = 0;
	e->pending_n = 0;
	unlock(e);
}

/* ---- writing ------------------------------------------------------------ */

static int
redis_insert(nedb *db, const char *lines, size_t len, uint64_t first_seq,
	     size_t n)
{
	struct redis_engine *e = RE(db->eng);

	if (!e->c)
		return nedb__err(NEDB_EIO, "the log engine %s: no write is "
				 "open", e->base.shown);
	if (e->pending_n && e->pending_seq + e->pending_n != first_seq)
		return nedb__err(NEDB_EIO, "the log engine %s: a batch does "
				 "not follow the one before", e->base.shown);
	if (!e->pending_n)
		e->pending_seq = first_seq;
	if (nedb_buf_add(&e->pending, lines, len))
		return nedb__err(NEDB_EIO, "out of memory");
	e->pending_n += n;
	return 0;
}

/* WAIT for the replicas the URL asks for. */
static int
wait_replicas(struct redis_engine *e)
{
	char n[16], ms[16];
	const char *argv[] = {"WAIT", n, ms};
	redisReply *r;
	long long got;
	int rc;

	if (!e->replicas)
		return 0;
	snprintf(n, sizeof n, "%u", e->replicas);
	snprintf(ms, sizeof ms, "%d", e->wait_ms);
	H.redisSetTimeout(e->c, ms_tv(e->wait_ms + COMMAND_MS));
	rc = run(e, &r, 3, argv, NULL, "cannot wait for the replicas");
	if (e->c)
		H.redisSetTimeout(e->c, ms_tv(COMMAND_MS));
	if (rc)
		return rc;
	got = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
	H.freeReplyObject(r);
	if (got < e->replicas)
		return nedb__err(NEDB_EIO, "the log engine %s: %lld of %u "
				 "replicas had the write after %d ms; it is on "
				 "the primary, not acknowledged (the next "
				 "command catches up with it)", e->base.shown,
				 got, e->replicas, e->wait_ms);
	return 0;
}

static int
redis_commit(nedb *db)
{
	struct redis_engine *e = RE(db->eng);
	size_t argc = 7 + 2 * e->pending_n, at = 0, k = 7;
	const char **argv = nedb__calloc(argc, sizeof *argv);
	size_t *lens = nedb__calloc(argc, sizeof *lens);
	char first[24];
	redisReply *r = NULL;
	int rc = 0;

	if (!e->pending_n)
		goto done;
	snprintf(first, sizeof first, "%llu",
		 (unsigned long long)e->pending_seq);
	argv[0] = "EVAL";
	argv[1] = APPEND;
	argv[2] = "2";
	argv[3] = e->stream;
	argv[4] = e->lock;
	argv[5] = first;
	/* the lock goes with the append: one round trip (and, with
	 * appendfsync always, one fsync) fewer */
	argv[6] = e->locked ? e->token : "";
	for (int i = 0; i < 7; i++)
		lens[i] = strlen(argv[i]);
	for (size_t i = 0; i < e->pending_n; i++) {
		const char *line = e->pending.p + at;
		const char *nl = memchr(line, '\n', e->pending.len - at);
		unsigned char h[HASH_LEN];
		size_t l = nl ? (size_t)(nl - line) : 0;

		if (!nl) {
			rc = nedb__err(NEDB_ECORRUPT, "a staged line is not "
				       "terminated");
			goto done;
		}
		if ((rc = nedb__engine_line_hash(line, l, h)))
			goto done;
		/* the hash field: the 64 hex digits the line ends with */
		argv[k] = line;
		lens[k++] = l;
		argv[k] = line + l - 2 - 2 * HASH_LEN;
		lens[k++] = 2 * HASH_LEN;
		at += l + 1;
	}
	if ((rc = run(e, &r, (int)argc, argv, lens, "cannot append to the "
		      "log")))
		goto done;
	if (r->type == REDIS_REPLY_INTEGER) {
		/* another writer has the seq (or the stream lost ops: the
		 * caller begins again, and catching up finds which) */
		e->base.conflict = true;
		rc = nedb__err(NEDB_EBUSY, "another writer wrote seq %llu of "
			       "database '%s' on the log engine first; "
			       "nothing was written (begin again)",
			       (unsigned long long)e->pending_seq,
			       e->base.name);
		goto done;
	}
	e->seen = e->pending_seq + e->pending_n - 1;
	e->seen_any = true;
	e->pending.len = 0;
	e->pending_n = 0;
	e->locked = false;	/* the script freed it */
	rc = wait_replicas(e);
done:
	if (r)
		H.freeReplyObject(r);
	free(argv);
	free(lens);
	if (rc)
		redis_end(db);
	return rc;
}

/* ---- reading ------------------------------------------------------------ */

static int
not_ours(struct redis_engine *e, const char *why)
{
	return nedb__err(NEDB_ECORRUPT, "the log engine %s: the stream %s is "
			 "not nedb's (%s)", e->base.shown, e->stream, why);
}

/* One XRANGE entry [id, [field, value, ...]] into row (hash into h). */
static int
entry_row(struct redis_engine *e, const redisReply *x, struct engine_row *row,
	  unsigned char h[HASH_LEN])
{
	const redisReply *f;
	char *end;
	bool have_line = false, have_hash = false;

	if (x->type != REDIS_REPLY_ARRAY || x->elements != 2 ||
	    x->element[0]->type != REDIS_REPLY_STRING ||
	    x->element[1]->type != REDIS_REPLY_ARRAY)
		return not_ours(e, "an entry of another shape");
	errno = 0;
	row->seq = strtoull(x->element[0]->str, &end, 10);
	if (errno || strcmp(end, "-1"))
		return not_ours(e, "an entry id not <seq>-1");
	f = x->element[1];
	for (size_t i = 0; i + 1 < f->elements; i += 2) {
		const redisReply *k = f->element[i], *v = f->element[i + 1];

		if (k->type != REDIS_REPLY_STRING ||
		    v->type != REDIS_REPLY_STRING)
			continue;
		if (k->len == 4 && !memcmp(k->str, "line", 4)) {
			row->line = v->str;
			row->len = v->len;
			have_line = true;
		} else if (k->len == 4 && !memcmp(k->str, "hash", 4)) {
			have_hash = v->len == 2 * HASH_LEN &&
				    !nedb__unhex(h, v->str, HASH_LEN);
		}
	}
	if (!have_line || !have_hash)
		return not_ours(e, "an entry without line or hash");
	row->hash = h;
	return 0;
}

static int
redis_range(nedb *db, uint64_t from, unsigned limit,
	    int (*fn)(const struct engine_row *r, void *payload),
	    void *payload)
{
	struct redis_engine *e = RE(db->eng);
	char id[32], count[16];
	const char *argv[] = {"XRANGE", e->stream, id, "+", "COUNT", count};
	redisReply *r;
	int rc;

	if ((rc = connect_engine(e)))
		return rc;
	snprintf(id, sizeof id, "%llu-1", (unsigned long long)from);
	snprintf(count, sizeof count, "%u", limit);
	if ((rc = run(e, &r, 6, argv, NULL, "cannot read the log")))
		return rc;
	if (r->type != REDIS_REPLY_ARRAY)
		rc = not_ours(e, "XRANGE answered no array");
	for (size_t i = 0; !rc && r->type == REDIS_REPLY_ARRAY &&
	     i < r->elements; i++) {
		struct engine_row row;
		unsigned char h[HASH_LEN];

		if ((rc = entry_row(e, r->element[i], &row, h)))
			break;
		if (!e->seen_any || row.seq > e->seen) {
			e->seen = row.seq;
			e->seen_any = true;
		}
		rc = fn(&row, payload);
	}
	H.freeReplyObject(r);
	return rc;
}

static int
redis_last(nedb *db, uint64_t *seq, bool *empty)
{
	struct redis_engine *e = RE(db->eng);
	const char *argv[] = {"XREVRANGE", e->stream, "+", "-", "COUNT", "1"};
	struct engine_row row;
	unsigned char h[HASH_LEN];
	redisReply *r;
	int rc;

	if ((rc = connect_engine(e)) ||
	    (rc = run(e, &r, 6, argv, NULL, "cannot read the log")))
		return rc;
	*empty = r->type != REDIS_REPLY_ARRAY || r->elements == 0;
	*seq = 0;
	if (!*empty && !(rc = entry_row(e, r->element[0], &row, h)))
		*seq = row.seq;
	H.freeReplyObject(r);
	return rc;
}

/* ---- following ---------------------------------------------------------- */

static int
redis_wait(nedb *db, int timeout_ms)
{
	struct redis_engine *e = RE(db->eng);
	char ms[16], id[32];
	const char *argv[] = {"XREAD", "BLOCK", ms, "STREAMS", e->stream, id};
	redisReply *r;
	int rc;

	if (timeout_ms <= 0)
		return 0;
	if ((rc = connect_engine(e)))
		return rc;
	snprintf(ms, sizeof ms, "%d", timeout_ms);
	if (e->seen_any)
		snprintf(id, sizeof id, "%llu-1", (unsigned long long)e->seen);
	else
		snprintf(id, sizeof id, "0-0");
	H.redisSetTimeout(e->c, ms_tv(timeout_ms + COMMAND_MS));
	rc = run(e, &r, 6, argv, NULL, "cannot wait for new ops");
	if (e->c)
		H.redisSetTimeout(e->c, ms_tv(COMMAND_MS));
	if (rc)
		return rc;
	H.freeReplyObject(r);	/* a wake-up only: the caller reads */
	return 0;
}

const struct engine_ops nedb__redislog_ops = {
	.scheme = "redis",
	.size = sizeof(struct redis_engine),
	.setup = redis_setup,
	.close = redis_close,
	.release = redis_release,
	.begin = redis_begin,
	.end = redis_end,
	.insert = redis_insert,
	.commit = redis_commit,
	.range = redis_range,
	.last = redis_last,
	.wait = redis_wait,
};
