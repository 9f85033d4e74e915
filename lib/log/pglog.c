/*
 * pglog.c - the log on PostgreSQL (engine.h; SPEC §10).
 *
 * One table per nedb database, named after the URL's fragment:
 *
 *     CREATE TABLE "nedb_<name>" (seq bigint PRIMARY KEY,
 *                                 line bytea NOT NULL,
 *                                 hash bytea NOT NULL)
 *
 * line is the op's line exactly as log.aof stores it (without "\n"),
 * hash its 32 raw bytes (the chain's, which the line's own hash member
 * also says).  Writers serialise on a transaction-scoped advisory lock
 * keyed by the name; the primary key is what guarantees that two writers
 * never both win a seq.  A commit notifies the channel named as the
 * table, which followers LISTEN to (a wake-up only: they catch up by
 * query).
 *
 * libpq is loaded on first use (dlopen of libpq.so.5, as lib/crypt loads
 * libcrypto): a database without an engine never pays for it.  Every
 * query is sent with binary results, so that lines come back byte for
 * byte; parameters are binary too.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libpq-fe.h>
#include "internal.h"
#include "engine.h"

#define FETCH_BATCH 4096	/* ops per catch-up query */
#define INSERT_ROWS 256		/* rows per INSERT statement */

struct nedb_engine {
	char *url;		/* as recorded, fragment included */
	char *shown;		/* the URL for messages (no password) */
	char *conninfo;		/* the URL without its fragment */
	char name[64];		/* the database's name on the engine */
	char table[80];		/* "nedb_<name>", quoted */
	long long key;		/* the advisory lock's key */
	PGconn *conn;
	bool in_txn;		/* a transaction is open */
	bool listening;
	bool conflict;		/* the last append lost its seq */
};

/* ---- libpq, loaded on first use ----------------------------------------- */

#define PQ_FUNCS(X) \
	X(PQconnectdbParams) X(PQstatus) X(PQerrorMessage) X(PQfinish) \
	X(PQexec) X(PQexecParams) X(PQresultStatus) X(PQresultErrorField) \
	X(PQclear) X(PQntuples) X(PQgetvalue) X(PQgetlength) \
	X(PQcmdStatus) X(PQsocket) X(PQconsumeInput) X(PQnotifies) \
	X(PQfreemem) X(PQsetNoticeProcessor)

static struct {
#define PQ_SLOT(f) __typeof__(&f) f;
	PQ_FUNCS(PQ_SLOT)
#undef PQ_SLOT
} P;
static bool pq_loaded;

static int
pq_load(void)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	void *h;
	int rc = 0;

	if (__atomic_load_n(&pq_loaded, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&lock);
	if (pq_loaded)
		goto done;
	if (nedb__test_fail("libpq") ||
	    !(h = dlopen("libpq.so.5", RTLD_LAZY | RTLD_LOCAL))) {
		rc = nedb__err(NEDB_EIO, "cannot load libpq.so.5 (the "
			       "PostgreSQL client library, Debian's libpq5): "
			       "%s", nedb__test_fail("libpq") ? "test" :
			       dlerror());
		goto done;
	}
#define PQ_RESOLVE(f) \
	if (!(*(void **)&P.f = dlsym(h, #f))) { \
		rc = nedb__err(NEDB_EIO, "cannot load libpq.so.5: %s", \
			       dlerror()); \
		goto done; \
	}
	PQ_FUNCS(PQ_RESOLVE)
#undef PQ_RESOLVE
	__atomic_store_n(&pq_loaded, true, __ATOMIC_RELEASE);
done:
	pthread_mutex_unlock(&lock);
	return rc;
}

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

int
nedb__engine_parse(const char *url, const char *dir, struct nedb_engine **out)
{
	struct nedb_engine *e;
	const char *frag, *name;
	size_t nlen, ulen;
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */

	*out = NULL;
	if (!strncmp(url, "redis://", 8) || !strncmp(url, "rediss://", 9))
		return nedb__err(NEDB_EUSAGE, "the log on Redis (%s) is not "
				 "supported yet: use postgresql://", url);
	if (strncmp(url, "postgresql://", 13) && strncmp(url, "postgres://", 11))
		return nedb__err(NEDB_EUSAGE, "bad log URL '%s': want "
				 "postgresql://[user@]host[:port]/dbname#name",
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
	e = nedb__calloc(1, sizeof *e);
	e->url = nedb__strdup(url);
	e->shown = shown_url(url);
	e->conninfo = nedb__memdup(url, ulen);
	memcpy(e->name, name, nlen);
	e->name[nlen] = 0;
	snprintf(e->table, sizeof e->table, "\"nedb_%s\"", e->name);
	for (const char *p = "nedb:"; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	for (size_t i = 0; i < nlen; i++)
		h = (h ^ (unsigned char)name[i]) * 0x100000001b3ull;
	e->key = (long long)h;
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
	if (e && e->conn) {
		P.PQfinish(e->conn);
		e->conn = NULL;
	}
	if (e) {
		e->in_txn = false;
		e->listening = false;
	}
}

void
nedb__engine_free(struct nedb_engine *e)
{
	if (!e)
		return;
	nedb__engine_close(e);
	free(e->url);
	free(e->shown);
	free(e->conninfo);
	free(e);
}

/* ---- the connection ----------------------------------------------------- */

static void
quiet_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* The first line of a libpq message, without "ERROR:  " or "FATAL:  ". */
static void
first_line(char *out, size_t n, const char *msg)
{
	size_t l;

	if (!msg || !*msg)
		msg = "no reason given";
	if (!strncmp(msg, "ERROR:  ", 8) || !strncmp(msg, "FATAL:  ", 8))
		msg += 8;
	l = strcspn(msg, "\n");
	snprintf(out, n, "%.*s", (int)l, msg);
}

/* The engine cannot be reached: the connection is dropped, so that the
 * next call connects anew (the engine may be back, or failed over). */
static int
unreachable(struct nedb_engine *e, const char *msg)
{
	char line[400];

	first_line(line, sizeof line, msg);
	nedb__engine_close(e);
	return nedb__err(NEDB_EIO, "the log engine %s cannot be reached: %s",
			 e->shown, line);
}

static int
connect_engine(nedb *db)
{
	struct nedb_engine *e = db->eng;
	const char *keys[] = {"connect_timeout", "fallback_application_name",
			      "dbname", NULL};
	const char *vals[] = {"10", "nedb", e->conninfo, NULL};
	int rc;

	if (e->conn && P.PQstatus(e->conn) == CONNECTION_OK)
		return 0;
	nedb__engine_close(e);
	if ((rc = pq_load()))
		return rc;
	e->conn = P.PQconnectdbParams(keys, vals, 1);
	if (!e->conn)
		return nedb__err(NEDB_EIO, "the log engine %s cannot be "
				 "reached: out of memory", e->shown);
	if (P.PQstatus(e->conn) != CONNECTION_OK)
		return unreachable(e, P.PQerrorMessage(e->conn));
	P.PQsetNoticeProcessor(e->conn, quiet_notice, NULL);
	return 0;
}

/*
 * The error of result r (NULL: none came back).  A lost connection, a
 * server shutting down or a standby that cannot write is "cannot be
 * reached" (the next call connects anew); anything else names the
 * statement's purpose.  r is cleared.
 */
static int
query_error(struct nedb_engine *e, PGresult *r, const char *what)
{
	const char *state = r ? P.PQresultErrorField(r, PG_DIAG_SQLSTATE) :
			    NULL;
	const char *msg = r ? P.PQresultErrorField(r,
						   PG_DIAG_MESSAGE_PRIMARY) :
			  NULL;
	char line[400];
	int rc;

	first_line(line, sizeof line, msg ? msg : P.PQerrorMessage(e->conn));
	if (!r || P.PQstatus(e->conn) != CONNECTION_OK || !state ||
	    !strncmp(state, "08", 2) || !strncmp(state, "57P", 3) ||
	    !strcmp(state, "25006") || !strncmp(state, "53", 2) ||
	    !strcmp(state, "40001") || !strcmp(state, "40P01")) {
		if (r)
			P.PQclear(r);
		return unreachable(e, line);
	}
	rc = !strcmp(state, "42P01") ?
	     nedb__err(NEDB_ECORRUPT, "the log engine %s has no table for "
		       "database '%s': it lacks every op this directory "
		       "holds", e->shown, e->name) :
	     nedb__err(NEDB_EIO, "the log engine %s: %s: %s (SQLSTATE %s)",
		       e->shown, what, line, state);
	P.PQclear(r);
	return rc;
}

/* Runs sql (no parameters, no result wanted). */
static int
exec(nedb *db, const char *sql, const char *what)
{
	struct nedb_engine *e = db->eng;
	PGresult *r = P.PQexec(e->conn, sql);
	ExecStatusType st = r ? P.PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return query_error(e, r, what);
	P.PQclear(r);
	return 0;
}

/* ---- transactions ------------------------------------------------------- */

int
nedb__engine_begin(nedb *db, bool wait, bool create)
{
	struct nedb_engine *e = db->eng;
	char sql[320];
	PGresult *r;
	int rc;

	e->conflict = false;
	if (e->in_txn)
		return 0;
	if ((rc = connect_engine(db)))
		return rc;
	/* the test of the unique-violation path: writers that do not
	 * take the lock race for seqs */
	if (nedb__test_fail("engine-lock"))
		snprintf(sql, sizeof sql, "BEGIN; SELECT true");
	else
		snprintf(sql, sizeof sql, "BEGIN; SELECT pg_%sadvisory_xact_"
			 "lock(%lld)", wait ? "" : "try_", e->key);
	r = P.PQexec(e->conn, sql);
	if (!r || P.PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = query_error(e, r, "cannot begin a transaction");
		goto fail;
	}
	e->in_txn = true;
	if (!wait && P.PQntuples(r) == 1 && *P.PQgetvalue(r, 0, 0) == 'f') {
		P.PQclear(r);
		rc = nedb__err(NEDB_EBUSY, "database '%s' is locked by "
			       "another writer (on the engine)", e->name);
		goto fail;
	}
	P.PQclear(r);
	if (create) {
		snprintf(sql, sizeof sql, "CREATE TABLE IF NOT EXISTS %s ("
			 "seq bigint PRIMARY KEY CHECK (seq >= 0), "
			 "line bytea NOT NULL, "
			 "hash bytea NOT NULL CHECK (length(hash) = 32))",
			 e->table);
		if ((rc = exec(db, sql, "cannot create the log's table")))
			goto fail;
	}
	return 0;
fail:
	nedb__engine_end(db);
	return rc;
}

void
nedb__engine_end(nedb *db)
{
	struct nedb_engine *e = db->eng;

	if (!e || !e->in_txn)
		return;
	e->in_txn = false;
	if (e->conn && P.PQstatus(e->conn) == CONNECTION_OK) {
		PGresult *r = P.PQexec(e->conn, "ROLLBACK");

		if (!r || P.PQresultStatus(r) != PGRES_COMMAND_OK)
			nedb__engine_close(e);
		if (r)
			P.PQclear(r);
	}
}

bool
nedb__engine_conflict(nedb *db)
{
	return db->eng && db->eng->conflict;
}

/* ---- reading ------------------------------------------------------------ */

static uint64_t
be64(const char *p)
{
	return nedb__get_be64((const unsigned char *)p);
}

/* Rows (seq, line, hash) from seq from on, at most limit, binary. */
static int
select_rows(nedb *db, uint64_t from, unsigned limit, PGresult **out)
{
	struct nedb_engine *e = db->eng;
	char sql[200], a[24], l[16];
	const char *params[2] = {a, l};
	PGresult *r;

	snprintf(sql, sizeof sql, "SELECT seq, line, hash FROM %s "
		 "WHERE seq >= $1::bigint ORDER BY seq LIMIT $2::int",
		 e->table);
	snprintf(a, sizeof a, "%llu", (unsigned long long)from);
	snprintf(l, sizeof l, "%u", limit);
	r = P.PQexecParams(e->conn, sql, 2, NULL, params, NULL, NULL, 1);
	if (!r || P.PQresultStatus(r) != PGRES_TUPLES_OK)
		return query_error(e, r, "cannot read the log");
	if (P.PQntuples(r) && (P.PQgetlength(r, 0, 0) != 8 ||
			       P.PQgetlength(r, 0, 2) != HASH_LEN)) {
		P.PQclear(r);
		return nedb__err(NEDB_ECORRUPT, "the log engine %s: the table "
				 "of database '%s' is not nedb's", e->shown,
				 e->name);
	}
	*out = r;
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
	if (!empty && last < tail && seq > last)
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

int
nedb__engine_fetch(nedb *db, bool *have_tail, uint64_t *tail,
		   unsigned char head[HASH_LEN], nedb_buf *out, size_t *n,
		   unsigned limit)
{
	struct nedb_engine *e = db->eng;
	struct chain c;
	PGresult *r;
	int rows, i = 0, rc;

	*n = 0;
	if ((rc = connect_engine(db)) ||
	    (rc = select_rows(db, *have_tail ? *tail : 0,
			      (limit ? limit : FETCH_BATCH) + 1, &r)))
		return rc;
	rows = P.PQntuples(r);
	memset(&c, 0, sizeof c);
	if (*have_tail) {
		/* E1: the engine holds this copy's tail, the same op */
		if (rows == 0 || be64(P.PQgetvalue(r, 0, 0)) != *tail ||
		    memcmp(P.PQgetvalue(r, 0, 2), head, HASH_LEN)) {
			P.PQclear(r);
			return diverged(db, *tail);
		}
		i = 1;
		c.seq = *tail + 1;
		memcpy(c.head, head, HASH_LEN);
	}
	for (; i < rows; i++) {
		const char *line = P.PQgetvalue(r, i, 1);
		size_t len = (size_t)P.PQgetlength(r, i, 1);
		unsigned char prev[HASH_LEN], hash[HASH_LEN];
		int why;

		/* E2: the line's shape, seq, hash and link */
		if (be64(P.PQgetvalue(r, i, 0)) != c.seq ||
		    (rc = nedb__chain_check(&c, line, len, prev, hash, &why)) ||
		    memcmp(hash, P.PQgetvalue(r, i, 2), HASH_LEN) ||
		    memchr(line, '\n', len)) {
			if (!rc)
				nedb__err(NEDB_ECORRUPT, "seq %llu is not the "
					  "op that follows seq %llu",
					  (unsigned long long)
					  be64(P.PQgetvalue(r, i, 0)),
					  (unsigned long long)c.seq - 1);
			rc = nedb__err(NEDB_ECORRUPT, "the log engine %s holds "
				       "a bad op: %s", e->shown,
				       nedb_errmsg());
			P.PQclear(r);
			return rc;
		}
		nedb__chain_step(&c, hash);
		if (out && (nedb_buf_add(out, line, len) ||
			    nedb_buf_add(out, "\n", 1))) {
			P.PQclear(r);
			return nedb__err(NEDB_EIO, "out of memory");
		}
		++*n;
	}
	P.PQclear(r);
	if (*n) {
		*have_tail = true;
		*tail = c.seq - 1;
		memcpy(head, c.head, HASH_LEN);
	}
	return 0;
}

int
nedb__engine_last(nedb *db, uint64_t *seq, bool *empty)
{
	struct nedb_engine *e = db->eng;
	char sql[160];
	PGresult *r;
	int rc;

	if ((rc = connect_engine(db)))
		return rc;
	snprintf(sql, sizeof sql, "SELECT seq FROM %s ORDER BY seq DESC "
		 "LIMIT 1", e->table);
	r = P.PQexecParams(e->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
	if (!r || P.PQresultStatus(r) != PGRES_TUPLES_OK)
		return query_error(e, r, "cannot read the log");
	*empty = P.PQntuples(r) == 0;
	*seq = *empty ? 0 : be64(P.PQgetvalue(r, 0, 0));
	P.PQclear(r);
	return 0;
}

int
nedb__engine_hash(nedb *db, uint64_t seq, unsigned char hash[HASH_LEN],
		  bool *found)
{
	struct nedb_engine *e = db->eng;
	char sql[160], a[24];
	const char *params[1] = {a};
	PGresult *r;
	int rc;

	if ((rc = connect_engine(db)))
		return rc;
	snprintf(sql, sizeof sql, "SELECT hash FROM %s WHERE seq = "
		 "$1::bigint", e->table);
	snprintf(a, sizeof a, "%llu", (unsigned long long)seq);
	r = P.PQexecParams(e->conn, sql, 1, NULL, params, NULL, NULL, 1);
	if (!r || P.PQresultStatus(r) != PGRES_TUPLES_OK)
		return query_error(e, r, "cannot read the log");
	*found = P.PQntuples(r) == 1 && P.PQgetlength(r, 0, 0) == HASH_LEN;
	if (*found)
		memcpy(hash, P.PQgetvalue(r, 0, 0), HASH_LEN);
	P.PQclear(r);
	return 0;
}

int
nedb__engine_scan(nedb *db, uint64_t from,
		  int (*fn)(uint64_t seq, const char *line, size_t len,
			    const unsigned char hash[32], void *payload),
		  void *payload)
{
	PGresult *r;
	int rows, rc;

	if ((rc = connect_engine(db)))
		return rc;
	do {
		if ((rc = select_rows(db, from, FETCH_BATCH, &r)))
			return rc;
		rows = P.PQntuples(r);
		for (int i = 0; i < rows; i++) {
			uint64_t seq = be64(P.PQgetvalue(r, i, 0));

			if ((rc = fn(seq, P.PQgetvalue(r, i, 1),
				     (size_t)P.PQgetlength(r, i, 1),
				     (const unsigned char *)
				     P.PQgetvalue(r, i, 2), payload))) {
				P.PQclear(r);
				return rc;
			}
			from = seq + 1;
		}
		P.PQclear(r);
	} while (rows == FETCH_BATCH);
	return 0;
}

/* ---- writing ------------------------------------------------------------ */

/* The hash a line ends with: ,"hash":"<64 hex>"} */
static int
line_hash(const char *line, size_t len, unsigned char hash[HASH_LEN])
{
	if (len < 2 * HASH_LEN + 2 || line[len - 1] != '}' ||
	    line[len - 2] != '"' ||
	    nedb__unhex(hash, line + len - 2 - 2 * HASH_LEN, HASH_LEN))
		return nedb__err(NEDB_ECORRUPT, "a staged line has no hash");
	return 0;
}

static int
insert_rows(nedb *db, const char *lines, size_t len, uint64_t seq,
	    size_t rows, size_t *used)
{
	struct nedb_engine *e = db->eng;
	nedb_buf sql = {0};
	const char **vals = nedb__calloc(3 * rows, sizeof *vals);
	int *lens = nedb__calloc(3 * rows, sizeof *lens);
	int *fmts = nedb__calloc(3 * rows, sizeof *fmts);
	unsigned char (*hashes)[HASH_LEN] = nedb__calloc(rows, HASH_LEN);
	unsigned char (*seqs)[8] = nedb__calloc(rows, 8);
	size_t at = 0;
	char ph[64];
	PGresult *r;
	int rc = 0;

	nedb_buf_add(&sql, "INSERT INTO ", 12);
	nedb_buf_add(&sql, e->table, strlen(e->table));
	nedb_buf_add(&sql, " (seq, line, hash) VALUES ", 26);
	for (size_t i = 0; i < rows; i++) {
		const char *nl = memchr(lines + at, '\n', len - at);
		size_t l = nl ? (size_t)(nl - lines - at) : 0;

		if (!nl) {
			rc = nedb__err(NEDB_ECORRUPT, "a staged line is not "
				       "terminated");
			goto done;
		}
		if ((rc = line_hash(lines + at, l, hashes[i])))
			goto done;
		nedb__put_be64(seqs[i], seq + i);
		vals[3 * i] = (const char *)seqs[i];
		lens[3 * i] = 8;
		vals[3 * i + 1] = lines + at;
		lens[3 * i + 1] = (int)l;
		vals[3 * i + 2] = (const char *)hashes[i];
		lens[3 * i + 2] = HASH_LEN;
		fmts[3 * i] = fmts[3 * i + 1] = fmts[3 * i + 2] = 1;
		snprintf(ph, sizeof ph, "%s($%zu::bigint, $%zu::bytea, "
			 "$%zu::bytea)", i ? ", " : "", 3 * i + 1, 3 * i + 2,
			 3 * i + 3);
		nedb_buf_add(&sql, ph, strlen(ph));
		at += l + 1;
	}
	nedb_buf_add(&sql, "", 1);
	r = P.PQexecParams(e->conn, sql.p, (int)(3 * rows), NULL, vals, lens,
			   fmts, 1);
	if (r && P.PQresultStatus(r) == PGRES_COMMAND_OK) {
		P.PQclear(r);
		*used = at;
		goto done;
	}
	if (r && P.PQresultErrorField(r, PG_DIAG_SQLSTATE) &&
	    !strcmp(P.PQresultErrorField(r, PG_DIAG_SQLSTATE), "23505")) {
		/* another writer has the seq: the caller begins again */
		P.PQclear(r);
		e->conflict = true;
		rc = nedb__err(NEDB_EBUSY, "another writer wrote seq %llu of "
			       "database '%s' on the log engine first; "
			       "nothing was written (begin again)",
			       (unsigned long long)seq, e->name);
		goto done;
	}
	rc = query_error(e, r, "cannot append to the log");
done:
	nedb_buf_free(&sql);
	free(vals);
	free(lens);
	free(fmts);
	free(hashes);
	free(seqs);
	return rc;
}

int
nedb__engine_insert(nedb *db, const char *lines, size_t len,
		    uint64_t first_seq, size_t n)
{
	struct nedb_engine *e = db->eng;
	size_t at = 0, done = 0, used = 0;
	int rc;

	e->conflict = false;
	if (!e->in_txn)
		return nedb__err(NEDB_EIO, "the log engine %s: no transaction "
				 "is open", e->shown);
	while (done < n) {
		size_t rows = n - done < INSERT_ROWS ? n - done : INSERT_ROWS;

		if ((rc = insert_rows(db, lines + at, len - at,
				      first_seq + done, rows, &used))) {
			nedb__engine_end(db);
			return rc;
		}
		at += used;
		done += rows;
	}
	return 0;
}

int
nedb__engine_append(nedb *db, const char *lines, size_t len,
		    uint64_t first_seq, size_t n)
{
	int rc = nedb__engine_insert(db, lines, len, first_seq, n);

	return rc ? rc : nedb__engine_commit(db);
}

int
nedb__engine_commit(nedb *db)
{
	struct nedb_engine *e = db->eng;
	char sql[160];
	PGresult *r;
	int rc;

	nedb__test_pause("engine-commit");
	/* the notification goes out with the commit, and only with it */
	snprintf(sql, sizeof sql, "NOTIFY %s; COMMIT", e->table);
	r = P.PQexec(e->conn, sql);
	if (!r || P.PQresultStatus(r) != PGRES_COMMAND_OK) {
		rc = query_error(e, r, "cannot commit (the ops may or may not "
				 "be in the log: none was acknowledged)");
		goto fail;
	}
	/* a transaction that had failed answers COMMIT with ROLLBACK */
	if (strcmp(P.PQcmdStatus(r), "COMMIT")) {
		P.PQclear(r);
		rc = nedb__err(NEDB_EIO, "the log engine %s rolled the write "
			       "back; nothing was written", e->shown);
		goto fail;
	}
	P.PQclear(r);
	e->in_txn = false;
	return 0;
fail:
	nedb__engine_end(db);
	return rc;
}

/* ---- following ---------------------------------------------------------- */

int
nedb__engine_wait(nedb *db, int timeout_ms)
{
	struct nedb_engine *e = db->eng;
	struct pollfd pfd;
	PGnotify *n;
	char sql[120];
	int rc;

	if ((rc = connect_engine(db)))
		return rc;
	if (!e->listening) {
		snprintf(sql, sizeof sql, "LISTEN %s", e->table);
		if ((rc = exec(db, sql, "cannot listen")))
			return rc;
		e->listening = true;
		return 0;	/* the caller catches up, then waits */
	}
	pfd.fd = P.PQsocket(e->conn);
	pfd.events = POLLIN;
	if (pfd.fd < 0)
		return unreachable(e, "no socket");
	if (poll(&pfd, 1, timeout_ms) < 0 && errno != EINTR)
		return nedb__errno(NEDB_EIO, "cannot wait for the log engine");
	if (!P.PQconsumeInput(e->conn))
		return unreachable(e, P.PQerrorMessage(e->conn));
	while ((n = P.PQnotifies(e->conn)))
		P.PQfreemem(n);
	return 0;
}
