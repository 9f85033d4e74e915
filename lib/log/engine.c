/*
 * engine.c - the log on a replicated engine: what every backend shares
 * (engine.h; SPEC §10).
 *
 * A URL's scheme picks a backend's table of operations (struct
 * engine_ops): postgresql:// is pglog.c, redis:// is redislog.c.  The
 * functions of engine.h dispatch through it; what does not depend on the
 * engine lives here, once:
 *
 *  - the URL: its fragment (the database's name on the engine, else the
 *    directory's base name), the form shown in messages (no password),
 *    the directory's file "engine" that records it;
 *  - fetch: E1 (the engine holds this copy's tail, the same op) and E2
 *    (every line fetched is checked: shape, seq, hash, link) over the
 *    rows a backend's range reads;
 *  - where a copy and the engine differ (a binary search over the
 *    chain), and the message that refuses to go on from it.
 *
 * A backend only moves rows: it never decides whether they are right.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "engine.h"

#define FETCH_BATCH 4096	/* ops per catch-up read */
/* what fetch_row's stop means (a backend's errors are negative) */
enum { STOP_OTHER = 1, STOP_BAD = 2 };

static const struct engine_ops *const backends[] = {
	&nedb__pglog_ops, &nedb__redislog_ops, NULL
};

/* ---- the URL ------------------------------------------------------------ */

static bool
name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 48)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* The URL with the password of its user information (if any) left out. */
static char *
shown_url(const char *url)
{
	const char *s = strstr(url, "://"), *at, *slash, *colon;
	nedb_buf b = {0};

	if (!s)
		return nedb__strdup(url);
	s += 3;
	slash = s + strcspn(s, "/?#");
	at = memchr(s, '@', (size_t)(slash - s));
	colon = at ? memchr(s, ':', (size_t)(at - s)) : NULL;
	if (!colon)
		return nedb__strdup(url);
	nedb_buf_add(&b, url, (size_t)(colon - url));
	nedb_buf_add(&b, ":***", 4);
	nedb_buf_add(&b, at, strlen(at) + 1);
	return b.p;
}

/* The backend whose scheme url has ("postgres" and "postgresql" alike). */
static const struct engine_ops *
backend_of(const char *url)
{
	size_t n = strcspn(url, ":");

	if (strncmp(url + n, "://", 3))
		return NULL;
	if (n == 8 && !strncmp(url, "postgres", 8))
		return &nedb__pglog_ops;
	for (int i = 0; backends[i]; i++)
		if (strlen(backends[i]->scheme) == n &&
		    !strncmp(url, backends[i]->scheme, n))
			return backends[i];
	return NULL;
}

int
nedb__engine_parse(const char *url, const char *dir, struct nedb_engine **out)
{
	const struct engine_ops *ops = backend_of(url);
	struct nedb_engine *e;
	const char *frag, *name;
	size_t nlen, ulen;
	int rc;

	*out = NULL;
	if (!ops)
		return nedb__err(NEDB_EUSAGE, "bad log URL '%s': want "
				 "postgresql://[user@]host[:port]/dbname#name "
				 "or redis://[:password@]host[:port][/db]#name",
				 url);
	if (strpbrk(url, "\n\r"))
		return nedb__err(NEDB_EUSAGE, "bad log URL: it holds a line "
				 "break");
	frag = strchr(url, '#');
	ulen = frag ? (size_t)(frag - url) : strlen(url);
	if (frag && frag[1]) {
		name = frag + 1;
		nlen = strlen(name);
	} else {
		/* the directory's base name */
		size_t dl = strlen(dir);

		while (dl > 1 && dir[dl - 1] == '/')
			dl--;
		name = dir + dl;
		while (name > dir && name[-1] != '/')
			name--;
		nlen = (size_t)(dir + dl - name);
	}
	if (!name_ok(name, nlen))
		return nedb__err(NEDB_EUSAGE, "bad log URL '%s': the database's "
				 "name on the engine ('%.*s') must be 1 to 48 "
				 "of [A-Za-z0-9_-]; name it after a '#'",
				 url, (int)(nlen > 60 ? 60 : nlen), name);
	e = nedb__calloc(1, ops->size);
	e->ops = ops;
	e->url = nedb__strdup(url);
	e->shown = shown_url(url);
	e->conninfo = nedb__memdup(url, ulen);
	memcpy(e->name, name, nlen);
	e->name[nlen] = 0;
	if ((rc = ops->setup(e))) {
		nedb__engine_free(e);
		return rc;
	}
	*out = e;
	return 0;
}

int
nedb__engine_load(const char *dir, struct nedb_engine **out)
{
	char *p = nedb__path_in(dir, "engine");
	nedb_buf b = {0};
	int rc;

	*out = NULL;
	if (nedb__read_file(p, &b)) {
		rc = errno == ENOENT ? 0 :
		     nedb__err(NEDB_EIO, "cannot open database '%s': cannot "
			       "read its file 'engine': %s", dir,
			       strerror(errno));
		free(p);
		nedb_buf_free(&b);
		return rc;
	}
	free(p);
	while (b.len && (b.p[b.len - 1] == '\n' || b.p[b.len - 1] == ' '))
		b.len--;
	nedb_buf_add(&b, "", 1);	/* NUL */
	if ((rc = nedb__engine_parse(b.p, dir, out)))
		rc = nedb__err(NEDB_EIO, "cannot open database '%s': its file "
			       "'engine': %s", dir, nedb_errmsg());
	nedb_buf_free(&b);
	return rc;
}

void
nedb__engine_synced(const char *dir, int64_t at)
{
	char *p = nedb__path_in(dir, "engine.synced");
	struct timespec t[2] = {
		{.tv_nsec = UTIME_OMIT},
		{.tv_sec = at / 1000, .tv_nsec = at % 1000 * 1000000},
	};
	int fd;

	if (utimensat(AT_FDCWD, p, t, 0) && errno == ENOENT &&
	    (fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
		       0600)) >= 0) {
		close(fd);
		(void)utimensat(AT_FDCWD, p, t, 0);
	}
	free(p);
}

int
nedb__engine_fresh(const char *dir, bool *yes)
{
	const char *v = getenv("NEDB_ENGINE_STALE_MS");
	char *p, *end;
	struct stat st;
	long long ms, at, now;

	*yes = false;
	if (!v || !*v)
		return 0;
	errno = 0;
	ms = strtoll(v, &end, 10);
	if (*end || errno || *v < '0' || *v > '9' || ms > 86400000)
		return nedb__err(NEDB_EUSAGE, "bad NEDB_ENGINE_STALE_MS "
				 "'%.40s': want milliseconds, 0 to 86400000", v);
	if (!ms)
		return 0;
	p = nedb__path_in(dir, "engine.synced");
	if (!stat(p, &st)) {
		at = (long long)st.st_mtim.tv_sec * 1000 +
		     st.st_mtim.tv_nsec / 1000000;
		now = nedb__now_ms();
		/* a record from the future (the clock went back) is not
		 * trusted */
		*yes = at <= now && now - at <= ms;
	}
	free(p);
	return 0;
}

int
nedb__engine_record(const char *dir, const char *url)
{
	char *p = nedb__path_in(dir, "engine");
	nedb_buf b = {0};
	int rc;

	nedb_buf_add(&b, url, strlen(url));
	nedb_buf_add(&b, "\n", 1);
	rc = nedb__replace_file(dir, p, b.p, b.len, NULL);
	free(p);
	nedb_buf_free(&b);
	return rc;
}

const char *
nedb__engine_url(const struct nedb_engine *e)
{
	return e->url;
}

const char *
nedb__engine_name(const struct nedb_engine *e)
{
	return e->name;
}

void
nedb__engine_close(struct nedb_engine *e)
{
	if (e)
		e->ops->close(e);
}

void
nedb__engine_free(struct nedb_engine *e)
{
	if (!e)
		return;
	e->ops->close(e);
	if (e->ops->release)
		e->ops->release(e);
	free(e->url);
	free(e->shown);
	free(e->conninfo);
	free(e);
}

int
nedb__engine_unreachable(struct nedb_engine *e, const char *msg)
{
	char line[400];

	if (!msg || !*msg)
		msg = "no reason given";
	if (!strncmp(msg, "ERROR:  ", 8) || !strncmp(msg, "FATAL:  ", 8))
		msg += 8;
	/* msg may be the connection's: copied before it is closed */
	snprintf(line, sizeof line, "%.*s", (int)strcspn(msg, "\n"), msg);
	nedb__engine_close(e);
	return nedb__err(NEDB_EIO, "the log engine %s cannot be reached: %s",
			 e->shown, line);
}

int
nedb__engine_line_hash(const char *line, size_t len,
		       unsigned char hash[HASH_LEN])
{
	if (len < 2 * HASH_LEN + 2 || line[len - 1] != '}' ||
	    line[len - 2] != '"' ||
	    nedb__unhex(hash, line + len - 2 - 2 * HASH_LEN, HASH_LEN))
		return nedb__err(NEDB_ECORRUPT, "a staged line has no hash");
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

int
nedb__engine_begin(nedb *db, bool wait, bool create)
{
	db->eng->conflict = false;
	return db->eng->ops->begin(db, wait, create);
}

void
nedb__engine_end(nedb *db)
{
	if (db->eng)
		db->eng->ops->end(db);
}

bool
nedb__engine_conflict(nedb *db)
{
	return db->eng && db->eng->conflict;
}

int
nedb__engine_insert(nedb *db, const char *lines, size_t len,
		    uint64_t first_seq, size_t n)
{
	db->eng->conflict = false;
	return db->eng->ops->insert(db, lines, len, first_seq, n);
}

int
nedb__engine_commit(nedb *db)
{
	nedb__test_pause("engine-commit");
	return db->eng->ops->commit(db);
}

int
nedb__engine_append(nedb *db, const char *lines, size_t len,
		    uint64_t first_seq, size_t n)
{
	int rc = nedb__engine_insert(db, lines, len, first_seq, n);

	return rc ? rc : nedb__engine_commit(db);
}

/* ---- reading ------------------------------------------------------------ */

int
nedb__engine_last(nedb *db, uint64_t *seq, bool *empty)
{
	return db->eng->ops->last(db, seq, empty);
}

int
nedb__engine_wait(nedb *db, int timeout_ms)
{
	return db->eng->ops->wait(db, timeout_ms);
}

struct one {
	uint64_t seq;
	unsigned char *hash;
	bool *found;
};

static int
one_row(const struct engine_row *r, void *payload)
{
	struct one *o = payload;

	if (r->seq == o->seq) {
		memcpy(o->hash, r->hash, HASH_LEN);
		*o->found = true;
	}
	return 1;	/* one is enough */
}

int
nedb__engine_hash(nedb *db, uint64_t seq, unsigned char hash[HASH_LEN],
		  bool *found)
{
	struct one o = {seq, hash, found};
	int rc;

	*found = false;
	rc = db->eng->ops->range(db, seq, 1, one_row, &o);
	return rc == 1 ? 0 : rc;
}

struct scan {
	int (*fn)(uint64_t seq, const char *line, size_t len,
		  const unsigned char hash[32], void *payload);
	void *payload;
	uint64_t from;
	unsigned rows;
};

static int
scan_row(const struct engine_row *r, void *payload)
{
	struct scan *s = payload;

	s->rows++;
	s->from = r->seq + 1;
	return s->fn(r->seq, r->line, r->len, r->hash, s->payload);
}

int
nedb__engine_scan(nedb *db, uint64_t from,
		  int (*fn)(uint64_t seq, const char *line, size_t len,
			    const unsigned char hash[32], void *payload),
		  void *payload)
{
	struct scan s = {fn, payload, from, 0};
	int rc;

	do {
		s.rows = 0;
		if ((rc = db->eng->ops->range(db, s.from, FETCH_BATCH,
					      scan_row, &s)))
			return rc;
	} while (s.rows == FETCH_BATCH);
	return 0;
}

/*
 * The first seq at which this copy and the engine differ, at or below
 * tail: the chain makes agreement at seq k agreement at every seq below,
 * so a binary search finds it.  *seq is tail + 1 if none (the engine
 * holds the whole copy).
 */
static int
first_difference(nedb *db, uint64_t tail, uint64_t *seq)
{
	uint64_t lo = 0, hi = tail + 1;	/* agree below lo; differ at hi */
	unsigned char mine[HASH_LEN], theirs[HASH_LEN];
	bool found;
	int rc;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;

		if ((rc = nedb__seq_hash(db, mid, mine)) ||
		    (rc = nedb__engine_hash(db, mid, theirs, &found)))
			return rc;
		if (found && !memcmp(mine, theirs, HASH_LEN))
			lo = mid + 1;
		else
			hi = mid;
	}
	*seq = lo;
	return 0;
}

static int
diverged(nedb *db, uint64_t tail)
{
	struct nedb_engine *e = db->eng;
	uint64_t seq, last = 0;
	bool empty = true;
	int rc;

	if ((rc = first_difference(db, tail, &seq)) ||
	    (rc = nedb__engine_last(db, &last, &empty)))
		return rc;
	if (empty)
		return nedb__err(NEDB_ECORRUPT, "this directory holds seqs 0 "
				 "to %llu, which the log engine %s does not "
				 "(it holds no op of database '%s': lost in a "
				 "failover?); refusing to go on from a copy the "
				 "engine does not have (nedb-verify names "
				 "them)", (unsigned long long)tail, e->shown,
				 e->name);
	if (last < tail && seq > last)
		return nedb__err(NEDB_ECORRUPT, "this directory holds seqs "
				 "%llu to %llu, which the log engine %s does "
				 "not (lost in a failover?); refusing to go on "
				 "from a copy the engine does not have "
				 "(nedb-verify names them)",
				 (unsigned long long)last + 1,
				 (unsigned long long)tail, e->shown);
	return nedb__err(NEDB_ECORRUPT, "this directory's log and the log "
			 "engine %s's differ from seq %llu on; refusing to "
			 "go on (nedb-verify names it)", e->shown,
			 (unsigned long long)seq);
}

struct fetch {
	bool have_tail, tail_ok;
	uint64_t tail;
	const unsigned char *head;
	struct chain c;
	nedb_buf *out;
	size_t n;
	int rows;
};

static int
fetch_row(const struct engine_row *r, void *payload)
{
	struct fetch *f = payload;
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	int why, rc;

	if (f->rows++ == 0 && f->have_tail) {
		/* E1: the engine holds this copy's tail, the same op */
		f->tail_ok = r->seq == f->tail &&
			     !memcmp(r->hash, f->head, HASH_LEN);
		return f->tail_ok ? 0 : STOP_OTHER;
	}
	/* E2: the line's shape, seq, hash and link */
	if (r->seq != f->c.seq ||
	    (rc = nedb__chain_check(&f->c, r->line, r->len, prev, hash,
				    &why)) ||
	    memcmp(hash, r->hash, HASH_LEN) || memchr(r->line, '\n', r->len)) {
		if (!rc)
			nedb__err(NEDB_ECORRUPT, "seq %llu is not the op that "
				  "follows seq %llu",
				  (unsigned long long)r->seq,
				  (unsigned long long)f->c.seq - 1);
		return STOP_BAD;
	}
	nedb__chain_step(&f->c, hash);
	if (f->out && (nedb_buf_add(f->out, r->line, r->len) ||
		       nedb_buf_add(f->out, "\n", 1)))
		return nedb__err(NEDB_EIO, "out of memory");
	f->n++;
	return 0;
}

int
nedb__engine_fetch(nedb *db, bool *have_tail, uint64_t *tail,
		   unsigned char head[HASH_LEN], nedb_buf *out, size_t *n,
		   unsigned limit)
{
	struct nedb_engine *e = db->eng;
	struct fetch f = {.have_tail = *have_tail, .tail = *tail,
			  .head = head, .out = out};
	int rc;

	*n = 0;
	if (*have_tail) {
		f.c.seq = *tail + 1;
		memcpy(f.c.head, head, HASH_LEN);
	}
	rc = e->ops->range(db, *have_tail ? *tail : 0,
			   (limit ? limit : FETCH_BATCH) + (*have_tail ? 1 : 0),
			   fetch_row, &f);
	if (*have_tail && (rc == STOP_OTHER || (!rc && !f.tail_ok)))
		return diverged(db, *tail);
	if (rc == STOP_BAD)
		return nedb__err(NEDB_ECORRUPT, "the log engine %s holds a bad "
				 "op: %s", e->shown, nedb_errmsg());
	if (rc)
		return rc;
	*n = f.n;
	if (f.n) {
		*have_tail = true;
		*tail = f.c.seq - 1;
		memcpy(head, f.c.head, HASH_LEN);
	}
	return 0;
}
