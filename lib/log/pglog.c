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
 * engine.c checks every row read here (E1, E2) and words what a copy
 * the engine lacks means; this file only moves rows (struct engine_ops).
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

#define INSERT_ROWS 256		/* rows per INSERT statement */

struct pg_engine {
	struct nedb_engine base;	/* engine.h: first */
	char table[80];		/* "nedb_<name>", quoted */
	long long key;		/* the advisory lock's key */
	PGconn *conn;
	bool in_txn;		/* a transaction is open */
	bool listening;
};

#define PG(eng) ((struct pg_engine *)(eng))

static void pg_end(nedb *db);

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

static int
pg_setup(struct nedb_engine *base)
{
	struct pg_engine *e = PG(base);
	uint64_t h = 0xcbf29ce484222325ull;	/* FNV-1a */

	snprintf(e->table, sizeof e->table, "\"nedb_%s\"", base->name);
	for (const char *p = "nedb:"; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	for (const char *p = base->name; *p; p++)
		h = (h ^ (unsigned char)*p) * 0x100000001b3ull;
	e->key = (long long)h;
	return 0;
}

static void
pg_close(struct nedb_engine *base)
{
	struct pg_engine *e = PG(base);

	if (e->conn) {
		P.PQfinish(e->conn);
		e->conn = NULL;
	}
	e->in_txn = false;
	e->listening = false;
}

/* ---- the connection ----------------------------------------------------- */

static void
quiet_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int
unreachable(struct pg_engine *e, const char *msg)
{
	return nedb__engine_unreachable(&e->base, msg);
}

static int
connect_engine(nedb *db)
{
	struct pg_engine *e = PG(db->eng);
	const char *keys[] = {"connect_timeout", "fallback_application_name",
			      "dbname", NULL};
	const char *vals[] = {"10", "nedb", e->base.conninfo, NULL};
	int rc;

	if (e->conn && P.PQstatus(e->conn) == CONNECTION_OK)
		return 0;
	pg_close(&e->base);
	if ((rc = pq_load()))
		return rc;
	e->conn = P.PQconnectdbParams(keys, vals, 1);
	if (!e->conn)
		return nedb__err(NEDB_EIO, "the log engine %s cannot be "
				 "reached: out of memory", e->base.shown);
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
query_error(struct pg_engine *e, PGresult *r, const char *what)
{
	const char *state = r ? P.PQresultErrorField(r, PG_DIAG_SQLSTATE) :
			    NULL;
	const char *msg = r ? P.PQresultErrorField(r,
						   PG_DIAG_MESSAGE_PRIMARY) :
			  NULL;
	char line[400];
	int rc;

	snprintf(line, sizeof line, "%.*s", (int)strcspn(msg ? msg :
		 P.PQerrorMessage(e->conn), "\n"), msg ? msg :
		 P.PQerrorMessage(e->conn));
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
		       "holds", e->base.shown, e->base.name) :
	     nedb__err(NEDB_EIO, "the log engine %s: %s: %s (SQLSTATE %s)",
		       e->base.shown, what, line, state);
	P.PQclear(r);
	return rc;
}

/* Runs sql (no parameters, no result wanted). */
static int
exec(nedb *db, const char *sql, const char *what)
{
	struct pg_engine *e = PG(db->eng);
	PGresult *r = P.PQexec(e->conn, sql);
	ExecStatusType st = r ? P.PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		return query_error(e, r, what);
	P.PQclear(r);
	return 0;
}

/* ---- transactions ------------------------------------------------------- */

static int
pg_begin(nedb *db, bool wait, bool create)
{
	struct pg_engine *e = PG(db->eng);
	char sql[320];
	PGresult *r;
	int rc;

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
			       "another writer (on the engine)", e->base.name);
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
	pg_end(db);
	return rc;
}

static void
pg_end(nedb *db)
{
	struct pg_engine *e = PG(db->eng);

	if (!e->in_txn)
		return;
	e->in_txn = false;
	if (e->conn && P.PQstatus(e->conn) == CONNECTION_OK) {
		PGresult *r = P.PQexec(e->conn, "ROLLBACK");

		if (!r || P.PQresultStatus(r) != PGRES_COMMAND_OK)
			pg_close(&e->base);
		if (r)
			P.PQclear(r);
	}
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
	struct pg_engine *e = PG(db->eng);
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
				 "of database '%s' is not nedb's", e->base.shown,
				 e->base.name);
	}
	*out = r;
	return 0;
}

static int
pg_range(nedb *db, uint64_t from, unsigned limit,
	 int (*fn)(const struct engine_row *r, void *payload), void *payload)
{
	PGresult *r = NULL;
	int rows, rc;

	if ((rc = connect_engine(db)) ||
	    (rc = select_rows(db, from, limit, &r)))
		return rc;
	rows = P.PQntuples(r);
	for (int i = 0; i < rows && !rc; i++) {
		struct engine_row row = {
			.seq = be64(P.PQgetvalue(r, i, 0)),
			.line = P.PQgetvalue(r, i, 1),
			.len = (size_t)P.PQgetlength(r, i, 1),
			.hash = (const unsigned char *)P.PQgetvalue(r, i, 2),
		};

		rc = fn(&row, payload);
	}
	P.PQclear(r);
	return rc;
}

static int
pg_last(nedb *db, uint64_t *seq, bool *empty)
{
	struct pg_engine *e = PG(db->eng);
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

/* ---- writing ------------------------------------------------------------ */

static int
insert_rows(nedb *db, const char *lines, size_t len, uint64_t seq,
	    size_t rows, size_t *used)
{
	struct pg_engine *e = PG(db->eng);
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
		if ((rc = nedb__engine_line_hash(lines + at, l, hashes[i])))
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
		e->base.conflict = true;
		rc = nedb__err(NEDB_EBUSY, "another writer wrote seq %llu of "
			       "database '%s' on the log engine first; "
			       "nothing was written (begin again)",
			       (unsigned long long)seq, e->base.name);
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

static int
pg_insert(nedb *db, const char *lines, size_t len,
		    uint64_t first_seq, size_t n)
{
	struct pg_engine *e = PG(db->eng);
	size_t at = 0, done = 0, used = 0;
	int rc;

	if (!e->in_txn)
		return nedb__err(NEDB_EIO, "the log engine %s: no transaction "
				 "is open", e->base.shown);
	while (done < n) {
		size_t rows = n - done < INSERT_ROWS ? n - done : INSERT_ROWS;

		if ((rc = insert_rows(db, lines + at, len - at,
				      first_seq + done, rows, &used))) {
			pg_end(db);
			return rc;
		}
		at += used;
		done += rows;
	}
	return 0;
}

static int
pg_commit(nedb *db)
{
	struct pg_engine *e = PG(db->eng);
	char sql[160];
	PGresult *r;
	int rc;

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
			       "back; nothing was written", e->base.shown);
		goto fail;
	}
	P.PQclear(r);
	e->in_txn = false;
	return 0;
fail:
	pg_end(db);
	return rc;
}

/* ---- following ---------------------------------------------------------- */

static int
pg_wait(nedb *db, int timeout_ms)
{
	struct pg_engine *e = PG(db->eng);
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

const struct engine_ops nedb__pglog_ops = {
	.scheme = "postgresql",
	.size = sizeof(struct pg_engine),
	.setup = pg_setup,
	.close = pg_close,
	.begin = pg_begin,
	.end = pg_end,
	.insert = pg_insert,
	.commit = pg_commit,
	.range = pg_range,
	.last = pg_last,
	.wait = pg_wait,
};
