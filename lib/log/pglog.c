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
	/* begun, but nothing sent yet: BEGIN and the lock go with the
	 * first read (one round trip); LAZY_TRY: without waiting */
	enum { LAZY_NO, LAZY_WAIT, LAZY_TRY } lazy;
	bool listening;
	/* the last INSERT of the open transaction, held back to be sent
	 * with the NOTIFY and the COMMIT in one round trip (a pipeline):
	 * its lines, copied, and their first seq */
	nedb_buf held;
	uint64_t held_seq;
	size_t held_rows;
};

#define PG(eng) ((struct pg_engine *)(eng))

static void pg_end(nedb *db);
static PGresult *next_result(struct pg_engine *e);

/* ---- libpq, loaded on first use ----------------------------------------- */

#define PQ_FUNCS(X) \
	X(PQconnectdbParams) X(PQstatus) X(PQerrorMessage) X(PQfinish) \
	X(PQexec) X(PQexecParams) X(PQresultStatus) X(PQresultErrorField) \
	X(PQclear) X(PQntuples) X(PQgetvalue) X(PQgetlength) \
	X(PQcmdStatus) X(PQsocket) X(PQconsumeInput) X(PQnotifies) \
	X(PQfreemem) X(PQsetNoticeProcessor) X(PQresultErrorMessage)
/* libpq 14's pipeline mode: optional (without it, one round trip each) */
#define PQ_PIPELINE(X) \
	X(PQenterPipelineMode) X(PQexitPipelineMode) X(PQsendQueryParams) \
	X(PQpipelineSync) X(PQgetResult)

static struct {
#define PQ_SLOT(f) __typeof__(&f) f;
	PQ_FUNCS(PQ_SLOT)
	PQ_PIPELINE(PQ_SLOT)
#undef PQ_SLOT
} P;
static bool pq_pipeline;
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
	pq_pipeline = true;
#define PQ_OPTIONAL(f) \
	if (!(*(void **)&P.f = dlsym(h, #f))) \
		pq_pipeline = false;
	PQ_PIPELINE(PQ_OPTIONAL)
#undef PQ_OPTIONAL
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
	e->lazy = LAZY_NO;
	e->listening = false;
	e->held.len = 0;
	e->held_rows = 0;
}

static void
pg_release(struct nedb_engine *base)
{
	nedb_buf_free(&PG(base)->held);
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

/* The statement that takes the database's lock (wait: blocking for it,
 * else answering t or f). */
static void
lock_sql(struct pg_engine *e, bool wait, char *sql, size_t size)
{
	/* the test of the unique-violation path: writers that do not
	 * take the lock race for seqs */
	if (nedb__test_fail("engine-lock"))
		snprintf(sql, size, "SELECT true");
	else
		snprintf(sql, size, "SELECT pg_%sadvisory_xact_lock(%lld)",
			 wait ? "" : "try_", e->key);
}

static int
locked_by_other(struct pg_engine *e)
{
	return nedb__err(NEDB_EBUSY, "database '%s' is locked by another "
			 "writer (on the engine)", e->base.name);
}

/* BEGIN and the lock now, in one round trip (and the table). */
static int
begin_now(nedb *db, bool wait, bool create)
{
	struct pg_engine *e = PG(db->eng);
	char sql[320], lock[160];
	PGresult *r;
	int rc;

	lock_sql(e, wait, lock, sizeof lock);
	snprintf(sql, sizeof sql, "BEGIN; %s", lock);
	r = P.PQexec(e->conn, sql);
	if (!r || P.PQresultStatus(r) != PGRES_TUPLES_OK) {
		rc = query_error(e, r, "cannot begin a transaction");
		goto fail;
	}
	e->in_txn = true;
	if (!wait && P.PQntuples(r) == 1 && *P.PQgetvalue(r, 0, 0) == 'f') {
		P.PQclear(r);
		rc = locked_by_other(e);
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

static int
pg_begin(nedb *db, bool wait, bool create)
{
	struct pg_engine *e = PG(db->eng);
	int rc;

	if (e->in_txn)
		return 0;
	if ((rc = connect_engine(db)))
		return rc;
	if (pq_pipeline && !create) {
		/* the writer's first read (its catch-up) begins it */
		e->in_txn = true;
		e->lazy = wait ? LAZY_WAIT : LAZY_TRY;
		return 0;
	}
	return begin_now(db, wait, create);
}

/* A transaction begun lazily, begun now (before a write). */
static int
begun(nedb *db)
{
	struct pg_engine *e = PG(db->eng);
	bool wait = e->lazy == LAZY_WAIT;

	if (e->lazy == LAZY_NO)
		return 0;
	e->lazy = LAZY_NO;
	e->in_txn = false;
	return begin_now(db, wait, false);
}

static void
pg_end(nedb *db)
{
	struct pg_engine *e = PG(db->eng);

	e->held.len = 0;
	e->held_rows = 0;
	if (e->lazy != LAZY_NO) {	/* nothing was sent */
		e->lazy = LAZY_NO;
		e->in_txn = false;
	}
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

/* The query of rows (seq, line, hash) from seq $1 on, at most $2. */
static void
rows_sql(struct pg_engine *e, char *sql, size_t size)
{
	snprintf(sql, size, "SELECT seq, line, hash FROM %s "
		 "WHERE seq >= $1::bigint ORDER BY seq LIMIT $2::int",
		 e->table);
}

/* Its answer r checked into *out (else cleared). */
static int
rows_checked(struct pg_engine *e, PGresult *r, PGresult **out)
{
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

/* Rows (seq, line, hash) from seq from on, at most limit, binary. */
static int
select_rows(nedb *db, uint64_t from, unsigned limit, PGresult **out)
{
	struct pg_engine *e = PG(db->eng);
	char sql[200], a[24], l[16];
	const char *params[2] = {a, l};

	rows_sql(e, sql, sizeof sql);
	snprintf(a, sizeof a, "%llu", (unsigned long long)from);
	snprintf(l, sizeof l, "%u", limit);
	return rows_checked(e, P.PQexecParams(e->conn, sql, 2, NULL, params,
					      NULL, NULL, 1), out);
}

/*
 * Collects a pipeline's n results into r (next_result's), then its sync,
 * and leaves pipeline mode: false when the connection is in no state to
 * go on.
 */
static PGresult *next_result(struct pg_engine *e);

static bool
pipeline_end(struct pg_engine *e, PGresult **r, int n)
{
	PGresult *sync;
	bool synced;

	for (int i = 0; i < n; i++)
		r[i] = next_result(e);
	sync = P.PQgetResult(e->conn);
	synced = sync && P.PQresultStatus(sync) == PGRES_PIPELINE_SYNC;
	P.PQclear(sync);
	return synced && !P.PQgetResult(e->conn) &&
	       P.PQexitPipelineMode(e->conn);
}

/*
 * select_rows in a transaction begun lazily: BEGIN, the lock and the
 * query in one round trip (a pipeline).  The query runs once the lock is
 * held, so it sees every write committed before (READ COMMITTED: each
 * statement its own snapshot).
 */
static int
select_rows_begun(nedb *db, uint64_t from, unsigned limit, PGresult **out)
{
	struct pg_engine *e = PG(db->eng);
	char lock[160], sql[200], a[24], l[16];
	const char *params[2] = {a, l};
	PGresult *r[3] = {NULL, NULL, NULL};
	bool wait = e->lazy == LAZY_WAIT;
	int rc = 0;

	e->lazy = LAZY_NO;	/* from now on, pg_end rolls back */
	lock_sql(e, wait, lock, sizeof lock);
	rows_sql(e, sql, sizeof sql);
	snprintf(a, sizeof a, "%llu", (unsigned long long)from);
	snprintf(l, sizeof l, "%u", limit);
	if (!P.PQenterPipelineMode(e->conn) ||
	    !P.PQsendQueryParams(e->conn, "BEGIN", 0, NULL, NULL, NULL, NULL,
				 1) ||
	    !P.PQsendQueryParams(e->conn, lock, 0, NULL, NULL, NULL, NULL, 0) ||
	    !P.PQsendQueryParams(e->conn, sql, 2, NULL, params, NULL, NULL,
				 1) ||
	    !P.PQpipelineSync(e->conn)) {
		rc = unreachable(e, P.PQerrorMessage(e->conn));
		goto done;
	}
	if (!pipeline_end(e, r, 3)) {
		rc = unreachable(e, P.PQerrorMessage(e->conn));
		goto done;
	}
	if (!r[0] || P.PQresultStatus(r[0]) != PGRES_COMMAND_OK ||
	    !r[1] || P.PQresultStatus(r[1]) != PGRES_TUPLES_OK) {
		int i = !r[0] || P.PQresultStatus(r[0]) != PGRES_COMMAND_OK ?
			0 : 1;

		rc = query_error(e, r[i], "cannot begin a transaction");
		r[i] = NULL;
		goto done;
	}
	if (!wait && P.PQntuples(r[1]) == 1 &&
	    *P.PQgetvalue(r[1], 0, 0) == 'f') {
		rc = locked_by_other(e);
		goto done;
	}
	rc = rows_checked(e, r[2], out);
	r[2] = NULL;
done:
	for (int i = 0; i < 3; i++)
		if (r[i])
			P.PQclear(r[i]);
	if (rc)
		pg_end(db);
	return rc;
}

static int
pg_range(nedb *db, uint64_t from, unsigned limit,
	 int (*fn)(const struct engine_row *r, void *payload), void *payload)
{
	struct pg_engine *e = PG(db->eng);
	PGresult *r = NULL;
	int rows, rc;

	if ((rc = connect_engine(db)) ||
	    (rc = e->lazy != LAZY_NO ? select_rows_begun(db, from, limit, &r) :
		  select_rows(db, from, limit, &r)))
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

/* An INSERT of rows, its parameters pointing into the lines given. */
struct ins {
	nedb_buf sql;
	const char **vals;
	int *lens, *fmts;
	unsigned char (*hashes)[HASH_LEN];
	unsigned char (*seqs)[8];
	int nparams;
};

static void
ins_free(struct ins *in)
{
	nedb_buf_free(&in->sql);
	free(in->vals);
	free(in->lens);
	free(in->fmts);
	free(in->hashes);
	free(in->seqs);
}

/* The INSERT of rows lines (seqs from seq on); *used: their bytes. */
static int
ins_build(struct pg_engine *e, const char *lines, size_t len, uint64_t seq,
	  size_t rows, struct ins *in, size_t *used)
{
	size_t at = 0;
	char ph[64];
	int rc;

	memset(in, 0, sizeof *in);
	in->vals = nedb__calloc(3 * rows, sizeof *in->vals);
	in->lens = nedb__calloc(3 * rows, sizeof *in->lens);
	in->fmts = nedb__calloc(3 * rows, sizeof *in->fmts);
	in->hashes = nedb__calloc(rows, HASH_LEN);
	in->seqs = nedb__calloc(rows, 8);
	in->nparams = (int)(3 * rows);
	nedb_buf_add(&in->sql, "INSERT INTO ", 12);
	nedb_buf_add(&in->sql, e->table, strlen(e->table));
	nedb_buf_add(&in->sql, " (seq, line, hash) VALUES ", 26);
	for (size_t i = 0; i < rows; i++) {
		const char *nl = memchr(lines + at, '\n', len - at);
		size_t l = nl ? (size_t)(nl - lines - at) : 0;

		if (!nl)
			return nedb__err(NEDB_ECORRUPT, "a staged line is not "
					 "terminated");
		if ((rc = nedb__engine_line_hash(lines + at, l, in->hashes[i])))
			return rc;
		nedb__put_be64(in->seqs[i], seq + i);
		in->vals[3 * i] = (const char *)in->seqs[i];
		in->lens[3 * i] = 8;
		in->vals[3 * i + 1] = lines + at;
		in->lens[3 * i + 1] = (int)l;
		in->vals[3 * i + 2] = (const char *)in->hashes[i];
		in->lens[3 * i + 2] = HASH_LEN;
		in->fmts[3 * i] = in->fmts[3 * i + 1] = in->fmts[3 * i + 2] = 1;
		snprintf(ph, sizeof ph, "%s($%zu::bigint, $%zu::bytea, "
			 "$%zu::bytea)", i ? ", " : "", 3 * i + 1, 3 * i + 2,
			 3 * i + 3);
		nedb_buf_add(&in->sql, ph, strlen(ph));
		at += l + 1;
	}
	nedb_buf_add(&in->sql, "", 1);
	*used = at;
	return 0;
}

/* What the INSERT of rows from seq on answered (r, cleared). */
static int
ins_result(struct pg_engine *e, PGresult *r, uint64_t seq)
{
	const char *state;

	if (r && P.PQresultStatus(r) == PGRES_COMMAND_OK) {
		P.PQclear(r);
		return 0;
	}
	state = r ? P.PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
	if (state && !strcmp(state, "23505")) {
		/* another writer has the seq: the caller begins again */
		P.PQclear(r);
		e->base.conflict = true;
		return nedb__err(NEDB_EBUSY, "another writer wrote seq %llu of "
				 "database '%s' on the log engine first; "
				 "nothing was written (begin again)",
				 (unsigned long long)seq, e->base.name);
	}
	return query_error(e, r, "cannot append to the log");
}

static int
insert_rows(nedb *db, const char *lines, size_t len, uint64_t seq,
	    size_t rows, size_t *used)
{
	struct pg_engine *e = PG(db->eng);
	struct ins in;
	int rc;

	if (!(rc = ins_build(e, lines, len, seq, rows, &in, used)))
		rc = ins_result(e, P.PQexecParams(e->conn, in.sql.p,
						  in.nparams, NULL, in.vals,
						  in.lens, in.fmts, 1), seq);
	ins_free(&in);
	return rc;
}

/* Sends the INSERT held back, if any (another insert follows it). */
static int
send_held(nedb *db)
{
	struct pg_engine *e = PG(db->eng);
	size_t used;
	int rc;

	if (!e->held_rows)
		return 0;
	rc = insert_rows(db, e->held.p, e->held.len, e->held_seq,
			 e->held_rows, &used);
	e->held.len = 0;
	e->held_rows = 0;
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
	if ((rc = begun(db)))
		return rc;
	if ((rc = send_held(db)))
		goto fail;
	while (done < n) {
		size_t rows = n - done < INSERT_ROWS ? n - done : INSERT_ROWS;

		if (pq_pipeline && done + rows == n) {
			struct ins in;

			/* the last: checked now, sent with the commit */
			rc = ins_build(e, lines + at, len - at,
				       first_seq + done, rows, &in, &used);
			ins_free(&in);
			if (rc)
				goto fail;
			e->held.len = 0;
			nedb_buf_add(&e->held, lines + at, used);
			e->held_seq = first_seq + done;
			e->held_rows = rows;
		} else if ((rc = insert_rows(db, lines + at, len - at,
					     first_seq + done, rows, &used)))
			goto fail;
		at += used;
		done += rows;
	}
	return 0;
fail:
	pg_end(db);
	return rc;
}

/* The result of the next statement of a pipeline (NULL: none came). */
static PGresult *
next_result(struct pg_engine *e)
{
	PGresult *r = P.PQgetResult(e->conn), *more;

	/* each statement's results end with a NULL */
	if (r && (more = P.PQgetResult(e->conn))) {
		P.PQclear(more);
		P.PQclear(r);
		return NULL;
	}
	return r;
}

/*
 * The INSERT held back, the NOTIFY and the COMMIT in one round trip:
 * sent as a pipeline, then answered in order.  An INSERT that fails
 * leaves the other two aborted, and the transaction to roll back.
 */
static int
commit_held(nedb *db, const char *notify)
{
	struct pg_engine *e = PG(db->eng);
	struct ins in;
	PGresult *r[3] = {NULL, NULL, NULL};
	size_t used;
	int rc;

	if ((rc = ins_build(e, e->held.p, e->held.len, e->held_seq,
			    e->held_rows, &in, &used)))
		goto done;
	if (!P.PQenterPipelineMode(e->conn) ||
	    !P.PQsendQueryParams(e->conn, in.sql.p, in.nparams, NULL, in.vals,
				 in.lens, in.fmts, 1) ||
	    !P.PQsendQueryParams(e->conn, notify, 0, NULL, NULL, NULL, NULL,
				 1) ||
	    !P.PQsendQueryParams(e->conn, "COMMIT", 0, NULL, NULL, NULL, NULL,
				 1) ||
	    !P.PQpipelineSync(e->conn)) {
		rc = unreachable(e, P.PQerrorMessage(e->conn));
		goto done;
	}
	if (!pipeline_end(e, r, 3)) {
		/* the connection is in no state to go on: dropped */
		rc = unreachable(e, r[2] ? P.PQresultErrorMessage(r[2]) :
				 r[0] ? P.PQresultErrorMessage(r[0]) :
				 P.PQerrorMessage(e->conn));
		if (r[0] && P.PQresultStatus(r[0]) == PGRES_COMMAND_OK) {
			char msg[480];

			snprintf(msg, sizeof msg, "%s", nedb_errmsg());
			rc = nedb__err(NEDB_EIO, "%s (the ops may or may not be "
				       "in the log: none was acknowledged)",
				       msg);
		}
		goto done;
	}
	if ((rc = ins_result(e, r[0], e->held_seq))) {
		r[0] = NULL;	/* cleared */
		goto done;
	}
	r[0] = NULL;
	if (!r[1] || P.PQresultStatus(r[1]) != PGRES_COMMAND_OK) {
		rc = query_error(e, r[1], "cannot notify");
		r[1] = NULL;
		goto done;
	}
	if (!r[2] || P.PQresultStatus(r[2]) != PGRES_COMMAND_OK) {
		rc = query_error(e, r[2], "cannot commit (the ops may or may "
				 "not be in the log: none was acknowledged)");
		r[2] = NULL;
		goto done;
	}
	/* a transaction that had failed answers COMMIT with ROLLBACK */
	if (strcmp(P.PQcmdStatus(r[2]), "COMMIT"))
		rc = nedb__err(NEDB_EIO, "the log engine %s rolled the write "
			       "back; nothing was written", e->base.shown);
done:
	for (int i = 0; i < 3; i++)
		if (r[i])
			P.PQclear(r[i]);
	ins_free(&in);
	e->held.len = 0;
	e->held_rows = 0;
	return rc;
}

static int
pg_commit(nedb *db)
{
	struct pg_engine *e = PG(db->eng);
	char sql[160];
	PGresult *r;
	int rc;

	if ((rc = begun(db)))
		return rc;
	if (e->held_rows) {
		snprintf(sql, sizeof sql, "NOTIFY %s", e->table);
		if ((rc = commit_held(db, sql)))
			goto fail;
		e->in_txn = false;
		return 0;
	}
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
	.release = pg_release,
	.begin = pg_begin,
	.end = pg_end,
	.insert = pg_insert,
	.commit = pg_commit,
	.range = pg_range,
	.last = pg_last,
	.wait = pg_wait,
};
