/*
 * nedb-put - insert or replace documents.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-put [options] COLL ID [DOC]\n"
"       nedb-put [options] COLL < DOCS.ndjson\n"
"\n"
"Inserts or replaces one document (DOC, or stdin when left out), or with\n"
"no ID every document of an NDJSON stream (each with an _id).\n"
"\n"
"Options:\n"
"      --client C        client id for replay protection (default local)\n"
"      --nonce N         the client's nonce; must exceed the last one\n"
"      --idem KEY        idempotency key: a repeat prints the first receipt\n"
"      --ttl SECONDS     expire the document after SECONDS\n"
"      --merge           merge members into the current document\n"
"      --if-seq N        write only if the document is at seq N (0: absent)\n"
"      --tag T           add T to the _tags array (repeatable)\n"
"      --id-field F      stream: take the id from member F (default _id)\n"
"      --atomic          stream: all documents or none\n"
"  -q, --quiet           print no receipts\n"
"\n"
"Provenance (stored in the op; followed by NQL's TRACE caused_by):\n"
"      --caused-by SEQ[,SEQ...]  the ops that caused this one\n"
"      --evidence TEXT   what supports it\n"
"      --confidence X    a number from 0 to 1\n"
"      --valid-from T    when it starts to hold (text, e.g. a date)\n"
"      --valid-to T      when it stops holding\n"
"\n"
"Output:\n"
CLI_TABLE_HELP
CLI_PROGRESS_HELP;

enum { OPT_TTL = OPT_CMD, OPT_MERGE, OPT_IFSEQ, OPT_TAG, OPT_IDFIELD,
       OPT_ATOMIC, OPT_CAUSEDBY, OPT_EVIDENCE, OPT_CONFIDENCE,
       OPT_VALIDFROM, OPT_VALIDTO };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	CLI_TABLE_LONGOPT,
	CLI_PROGRESS_LONGOPTS,
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{"idem", required_argument, 0, OPT_IDEM},
	{"ttl", required_argument, 0, OPT_TTL},
	{"merge", no_argument, 0, OPT_MERGE},
	{"if-seq", required_argument, 0, OPT_IFSEQ},
	{"tag", required_argument, 0, OPT_TAG},
	{"id-field", required_argument, 0, OPT_IDFIELD},
	{"atomic", no_argument, 0, OPT_ATOMIC},
	{"quiet", no_argument, 0, 'q'},
	{"caused-by", required_argument, 0, OPT_CAUSEDBY},
	{"evidence", required_argument, 0, OPT_EVIDENCE},
	{"confidence", required_argument, 0, OPT_CONFIDENCE},
	{"valid-from", required_argument, 0, OPT_VALIDFROM},
	{"valid-to", required_argument, 0, OPT_VALIDTO},
	{0, 0, 0, 0}
};

static bool quiet;

static void
print_receipts(nedb_buf *r)
{
	if (!quiet && r->len && !cli.table)
		cli_progress_clear();	/* receipts on the same terminal */
	if (!quiet)
		cli_print_lines(r);
	r->len = 0;
}

struct one {
	nedb_put *p;
	nedb_buf r;		/* the receipt */
};

static int
stage_one(nedb *db, void *payload)
{
	struct one *o = payload;
	nedb_receipt rcpt;
	int rc;

	o->r.len = 0;
	if (!(rc = nedb_write_put(db, o->p, &rcpt)))
		cli_receipt_line(&o->r, &rcpt);
	return rc;
}

static int
put_one(nedb *db, nedb_put *p)
{
	nedb_buf doc = {0};
	struct one o = {p, {0}};
	int rc;

	if (!p->doc) {
		cli_read_stdin(&doc);
		p->doc = doc.p;
		p->doclen = doc.len;
	}
	/* on an engine, a seq lost to another writer begins the write
	 * again: the put is checked anew and hashed onto the new head */
	if ((rc = nedb_write_run(db, stage_one, &o)))
		cli_fail(rc);
	print_receipts(&o.r);
	nedb_buf_free(&doc);
	nedb_buf_free(&o.r);
	return 0;
}

/*
 * A stream is read, validated and compacted by a reader thread (the only
 * thread that touches libjq) while this one writes: the two halves of
 * the work run on two cores.  Items pass through a bounded ring.
 */
enum { IT_DOC, IT_FLUSH, IT_EOF };

struct item {
	int kind;
	uint64_t lineno;
	uint64_t pos;		/* bytes of the stream read through it */
	nedb_buf doc;
	char *id;
	nedb_preop pre;		/* doc formatted ahead as its op */
	int rc;
	char err[600];
};

#define RING 1024

static struct {
	struct item v[RING];
	size_t head, tail;	/* head: next to read; tail: next to fill */
	pthread_mutex_t mu;
	pthread_cond_t more, room;
	bool full;		/* the reader waits for room */
	bool waiting;		/* the writer waits for documents */
	nedb_put p;
	nedb_ahead *ahead;	/* the writer's heaviest steps, done here */
} q = {.mu = PTHREAD_MUTEX_INITIALIZER, .more = PTHREAD_COND_INITIALIZER,
       .room = PTHREAD_COND_INITIALIZER};

static struct item *
slot_for_fill(void)
{
	pthread_mutex_lock(&q.mu);
	while (q.tail - q.head == RING) {
		q.full = true;
		pthread_cond_wait(&q.room, &q.mu);
	}
	pthread_mutex_unlock(&q.mu);
	return &q.v[q.tail % RING];
}

/*
 * A writer waiting for documents is woken by a batch of them, not by
 * each one: both threads do about as much per document, and a wake-up
 * per document cost more than the formatting.  A pause of the producer
 * (a flush item) and the end wake it at once, and so does a document
 * not formatted ahead: the reader may wait for the writer to stage it
 * (nedb_ahead_put).
 */
#define WAKE_BATCH 32

static void
filled(const struct item *it)
{
	pthread_mutex_lock(&q.mu);
	q.tail++;
	if (q.waiting && (it->kind != IT_DOC || !it->pre.ok ||
			  q.tail - q.head >= WAKE_BATCH))
		pthread_cond_signal(&q.more);
	pthread_mutex_unlock(&q.mu);
}

static struct item *
next_item(void)
{
	pthread_mutex_lock(&q.mu);
	while (q.tail == q.head) {
		q.waiting = true;
		pthread_cond_wait(&q.more, &q.mu);
		q.waiting = false;
	}
	pthread_mutex_unlock(&q.mu);
	return &q.v[q.head % RING];
}

static void
consumed(void)
{
	pthread_mutex_lock(&q.mu);
	q.head++;
	/* a full ring wakes its reader once half of it is free, not for
	 * every slot: a slow writer (an encrypted database) would otherwise
	 * switch threads once per document */
	if (q.full && q.tail - q.head <= RING / 2) {
		q.full = false;
		pthread_cond_signal(&q.room);
	}
	pthread_mutex_unlock(&q.mu);
}

/* The op the writer will most likely stage for it->doc, formatted and
 * hashed here, while the writer stages the documents before it. */
static int
format_ahead(struct item *it)
{
	nedb_put p = q.p;

	p.doc = it->doc.p;
	p.doclen = it->doc.len;
	p.id = it->id;
	p.prepared = NEDB_PREPARED_ID;
	return nedb_ahead_put(q.ahead, &p, &it->pre);
}

static void *
reader(void *arg)
{
	nedb_buf line = {0};
	uint64_t lineno = 0, pos = 0;
	bool flushed = true;
	struct item *it;

	(void)arg;
	for (;;) {
		/* the producer pauses: let what came so far be committed */
		if (!flushed && cli_stdin_idle()) {
			it = slot_for_fill();
			it->kind = IT_FLUSH;
			filled(it);
			flushed = true;
		}
		if (!cli_read_line(&line))
			break;
		lineno++;
		pos += line.len + 1;
		if (strspn(line.p, " \t\r") == line.len)
			continue;
		it = slot_for_fill();
		it->kind = IT_DOC;
		it->lineno = lineno;
		it->pos = pos;
		q.p.doc = line.p;
		q.p.doclen = line.len;
		q.p.id = NULL;
		it->id = NULL;
		it->pre.ok = 0;
		it->rc = nedb_put_prepare(&q.p, &it->doc, &it->id);
		if (!it->rc)
			it->rc = format_ahead(it);
		if (it->rc)
			snprintf(it->err, sizeof it->err, "%s", nedb_errmsg());
		filled(it);
		flushed = false;
		if (it->rc)
			break;		/* the writer stops at a bad line */
	}
	it = slot_for_fill();
	it->kind = IT_EOF;
	filled(it);
	nedb_buf_free(&line);
	return NULL;
}

/*
 * On an engine, a batch whose commit lost its seq to another writer
 * (nedb_write_conflict: one that took no lock, or outlived it) is begun
 * again, caught up, and every document of it staged anew: checked
 * against the new head and hashed onto it, so no acknowledged-looking
 * document is dropped.  The batch's documents are kept for that, only
 * on an engine (a database of its own cannot lose a seq).
 */
struct kept {
	char *doc;
	size_t len;
	char *id;
	uint64_t lineno;
};

static struct {
	bool on;		/* the database's log is an engine's */
	struct kept *v;
	size_t n, cap;
	uint64_t nonce;		/* p->w.nonce at the batch's first document */
} batch;

static void
batch_begin(const nedb_put *p)
{
	for (size_t i = 0; i < batch.n; i++) {
		free(batch.v[i].doc);
		free(batch.v[i].id);
	}
	batch.n = 0;
	batch.nonce = p->w.nonce;
}

static void
batch_keep(const nedb_put *p, uint64_t lineno)
{
	struct kept *k;

	if (!batch.on)
		return;
	if (batch.n == batch.cap) {
		batch.cap = batch.cap ? 2 * batch.cap : 256;
		if (!(batch.v = realloc(batch.v, batch.cap * sizeof *batch.v)))
			cli_failf(NEDB_EIO, "out of memory");
	}
	k = &batch.v[batch.n++];
	k->len = p->doclen;
	k->lineno = lineno;
	if (!(k->doc = malloc(p->doclen + 1)) || !(k->id = strdup(p->id)))
		cli_failf(NEDB_EIO, "out of memory");
	memcpy(k->doc, p->doc, p->doclen);
	k->doc[p->doclen] = '\0';
}

static uint64_t
next_nonce(uint64_t nonce)
{
	/* at the maximum: stale next */
	return nonce && nonce < UINT64_MAX ? nonce + 1 : nonce;
}

/* Stages the kept documents again, in a write begun anew; a document
 * now refused ends it there (*bad: its index). */
static int
batch_restage(nedb *db, nedb_put *p, nedb_buf *r, size_t *bad)
{
	nedb_receipt rcpt;
	int rc = 0;

	r->len = 0;
	p->w.nonce = batch.nonce;
	for (size_t i = 0; i < batch.n; i++) {
		p->doc = batch.v[i].doc;
		p->doclen = batch.v[i].len;
		p->id = batch.v[i].id;
		p->prepared = p->merge ? 1 : NEDB_PREPARED_ID;
		p->ahead = NULL;
		if ((rc = nedb_write_put(db, p, quiet ? NULL : &rcpt))) {
			*bad = i;
			return rc;
		}
		if (!quiet)
			cli_receipt_line(r, &rcpt);
		p->w.nonce = next_nonce(p->w.nonce);
	}
	return 0;
}

/* how many times a batch that keeps losing its seq begins again (as
 * nedb_write_run) */
#define BATCH_TRIES 1000

/* Commits the open batch; a lost seq begins it again (above).  The
 * receipts in r are then the new ones; a document refused when staged
 * again ends the command with its line, after the ones before it. */
static int
commit_batch(nedb *db, nedb_put *p, nedb_buf *r, bool atomic)
{
	size_t bad;
	int rc;

	for (int tries = 1;; tries++) {
		if (!(rc = nedb_write_commit(db)) || !batch.on ||
		    !nedb_write_conflict(db) || tries == BATCH_TRIES)
			break;
		if ((rc = nedb_write_begin(db)))
			break;
		if ((rc = batch_restage(db, p, r, &bad))) {
			char err[600];

			snprintf(err, sizeof err, "%s", nedb_errmsg());
			cli_progress_end();
			if (atomic)
				nedb_write_abort(db);
			else if (nedb_write_commit(db) == 0)
				print_receipts(r);
			cli_failf(rc, "line %llu: %s%s",
				  (unsigned long long)batch.v[bad].lineno,
				  err, atomic ? " (nothing written)" : "");
		}
	}
	batch_begin(p);
	return rc;
}

/*
 * Committed in batches: at the end, every 10000 documents, or whenever
 * the producer pauses, so that receipts appear promptly and every receipt
 * printed stands for a durable op.  The write transaction is the writer
 * lock of every process: it is taken only once a document is in hand,
 * never while waiting for input (except with --atomic, which must hold
 * it to the end).
 */
static int
put_stream(nedb *db, nedb_put *p, bool atomic)
{
	nedb_receipt rcpt;
	nedb_buf r = {0};
	uint64_t nonce = p->w.nonce, ndocs = 0, size = cli_stdin_size();
	bool open = false;
	pthread_t th;
	int rc;

	q.p = *p;
	batch.on = nedb_engine_url(db) != NULL;
	if ((rc = nedb_ahead_new(db, &q.ahead)))
		cli_fail(rc);
	cli_progress_begin("put", "documents");
	if (pthread_create(&th, NULL, reader, NULL))
		cli_failf(NEDB_EIO, "cannot start a thread");
	for (;;) {
		struct item *it = next_item();

		if (it->kind == IT_EOF)
			break;
		if (it->kind == IT_FLUSH) {
			if (open && !atomic) {
				if ((rc = commit_batch(db, p, &r, atomic)))
					cli_fail(rc);
				print_receipts(&r);
				open = false;
			}
			consumed();
			continue;
		}
		if (!open) {
			if ((rc = nedb_write_begin(db)))
				cli_fail(rc);
			batch_begin(p);
			open = true;
		}
		rc = it->rc;
		if (!rc) {
			p->doc = it->doc.p;
			p->doclen = it->doc.len;
			p->id = it->id;
			/* the reader's nedb_put_prepare placed "_id", but
			 * for a merge (which nedb_write_put settles) */
			p->prepared = p->merge ? 1 : NEDB_PREPARED_ID;
			p->ahead = &it->pre;
			rc = nedb_write_put(db, p, quiet ? NULL : &rcpt);
			if (rc)
				snprintf(it->err, sizeof it->err, "%s",
					 nedb_errmsg());
			else {
				batch_keep(p, it->lineno);
				if (!quiet)
					cli_receipt_line(&r, &rcpt);
			}
		}
		free(it->id);
		it->id = NULL;
		if (!rc && ++ndocs % 64 == 0)
			cli_progress_set(ndocs, it->pos, size);
		if (rc) {
			cli_progress_end();
			if (atomic)
				nedb_write_abort(db);
			else if (commit_batch(db, p, &r, atomic) == 0)
				print_receipts(&r);
			cli_failf(rc, "line %llu: %s%s",
				  (unsigned long long)it->lineno, it->err,
				  atomic ? " (nothing written)" : "");
		}
		consumed();
		p->w.nonce = nonce = next_nonce(nonce);
		if (!atomic && (nedb_write_pending(db) >= 10000 ||
				r.len > (1u << 20))) {
			if ((rc = commit_batch(db, p, &r, atomic)))
				cli_fail(rc);
			print_receipts(&r);
			open = false;
		}
	}
	pthread_join(th, NULL);
	if (open && (rc = commit_batch(db, p, &r, atomic)))
		cli_fail(rc);
	cli_progress_end();
	print_receipts(&r);
	for (size_t i = 0; i < RING; i++) {
		nedb_buf_free(&q.v[i].doc);
		nedb_buf_free(&q.v[i].pre.line);
		nedb_buf_free(&q.v[i].pre.sealed);
	}
	nedb_ahead_free(q.ahead);
	batch_begin(p);
	free(batch.v);
	nedb_buf_free(&r);
	return 0;
}

int
main(int argc, char **argv)
{
	const char *tags[64];
	uint64_t causes[64];
	nedb_put p = {0};
	bool atomic = false;
	nedb *db;
	int c, rc;

	cli_init("nedb-put", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "q",
				longopts, NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &p.w))
			continue;
		switch (c) {
		case OPT_TTL:
			p.ttl_ms = (int64_t)cli_u64("ttl", optarg) * 1000;
			if (p.ttl_ms <= 0)
				cli_usage("bad ttl '%s': want seconds > 0",
					  optarg);
			break;
		case OPT_MERGE: p.merge = 1; break;
		case OPT_IFSEQ:
			/* --if-seq 0: the document must not exist */
			if (!(p.if_seq = cli_u64("seq", optarg)))
				p.if_absent = 1;
			break;
		case OPT_TAG:
			if (p.ntags == 64)
				cli_usage("too many tags: at most 64");
			tags[p.ntags++] = optarg;
			break;
		case OPT_IDFIELD: p.id_field = optarg; break;
		case OPT_ATOMIC: atomic = true; break;
		case 'q': quiet = true; break;
		case OPT_CAUSEDBY:
			for (char *s, *rest = optarg;
			     (s = strsep(&rest, ","));) {
				if (p.ncaused_by == 64)
					cli_usage("too many causes: at most "
						  "64");
				causes[p.ncaused_by++] = cli_u64("seq", s);
			}
			break;
		case OPT_EVIDENCE: p.evidence = optarg; break;
		case OPT_CONFIDENCE: p.confidence = optarg; break;
		case OPT_VALIDFROM: p.valid_from = optarg; break;
		case OPT_VALIDTO: p.valid_to = optarg; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1 || argc > 3)
		cli_usage(argc < 1 ? "missing collection" : "too many "
			  "arguments");
	p.coll = argv[0];
	p.tags = tags;
	p.caused_by = causes;
	if ((rc = nedb_check_coll(p.coll)))
		cli_fail(rc);
	if (argc >= 2) {
		p.id = argv[1];
		if (argc == 3) {
			p.doc = argv[2];
			p.doclen = strlen(argv[2]);
		}
		if (p.id_field || atomic)
			cli_usage("--id-field and --atomic are for streams "
				  "(no ID)");
	} else if (p.w.idem || p.if_seq || p.if_absent)
		cli_usage("--idem and --if-seq need an ID");
	db = cli_open(true);
	if (argc >= 2)
		put_one(db, &p);
	else
		put_stream(db, &p, atomic);
	nedb_close(db);
	cli_finish();
	return 0;
}
