/*
 * verify.c - rewalking the chain from genesis, and the view check.
 *
 * The walk needs no JSON parser: each line's shape, seq, prev and hash
 * are checked from its text (log.c), and the members the format's rules
 * need (op, client, nonce, idem) are read where the format puts them, so
 * it runs at hashing speed.  It then holds the log against the view: the
 * view's applied head must be a line of the log.  The view check
 * (--view, formerly --determinism) replays the log through apply() into
 * a scratch view and compares it, table by table, with the materialized
 * one as of the same seq.
 *
 * Invariants:
 *  1. Ops are judged in seq order, archive first, and the first bad one
 *     is reported: a failing check names the op a replay would stop at,
 *     whatever thread hashed it.
 *  2. The rules are those of nedb-format(5)'s reference script that need
 *     no replay, reported with its messages: a log breaking one is
 *     rejected by both, at the same seq (the script's checkpoint digests
 *     are checked by the view check, which replays).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>
#include "internal.h"
#include "kv.h"

static void
fail(nedb_verify_result *out, uint64_t seq, const char *msg)
{
	const char *p = strstr(msg, ": ");

	/* "corrupt log at seq N: why" -> "why" */
	if (p && !strncmp(msg, "corrupt log at seq", 18))
		msg = p + 2;
	out->ok = 0;
	out->seq = seq;
	snprintf(out->error, sizeof out->error, "%s", msg);
}

static int
rmtree_view(const char *dir)
{
	char p[4200];

	snprintf(p, sizeof p, "%s/view.mdb", dir);
	unlink(p);
	snprintf(p, sizeof p, "%s/view.mdb-lock", dir);
	unlink(p);
	return rmdir(dir);
}

static int
determinism(nedb *db, MDB_txn *live, const struct applied *want,
	    nedb_verify_result *out)
{
	char tmpl[4096], path[4200], why[256];
	struct applied a = {.format = VIEW_FORMAT};
	struct view v;
	MDB_txn *txn = NULL;
	uint64_t torn;
	int rc;

	snprintf(tmpl, sizeof tmpl, "%s/.verify-XXXXXX", db->dir);
	if (!mkdtemp(tmpl))
		return nedb__errno(NEDB_EIO, "cannot make a scratch view");
	snprintf(path, sizeof path, "%s/view.mdb", tmpl);
	if ((rc = nedb__view_open(&v, path, MDB_NOSYNC, db->view.crypt)))
		goto done;
	v.log_format = db->view.log_format;
	if ((rc = nedb__view_wbegin(&v, &txn)) ||
	    (rc = nedb__view_dbis(&v, txn, true))) {
		rc = nedb__mdb(rc, "cannot make a scratch view");
		goto done;
	}
	rc = nedb__replay(db, &v, txn, want->end, &a, &torn, true);
	if (rc == NEDB_ECORRUPT) {
		fail(out, a.seq + 1, nedb_errmsg());
		rc = 0;
		goto done;
	}
	if (rc || (rc = nedb__view_set_applied(&v, txn, &a)))
		goto done;
	if (nedb__view_compare(&db->view, live, &v, txn, why, sizeof why))
		fail(out, want->seq, why);
done:
	if (txn)
		mdb_txn_abort(txn);
	nedb__view_close(&v);
	rmtree_view(tmpl);
	return rc;
}

/*
 * The format's rules beyond the chain (nedb-format(5), Replay): seq 0 is
 * the genesis op and no other op is; each client's nonces strictly
 * increase; an idempotency key is used by one op only.
 *
 * To keep the walk at hashing speed nothing is parsed as JSON: a line's
 * members come in a fixed order, so op, client, nonce and idem are read
 * where the format puts them, right after prev.  Their strings are
 * compared as written unless they hold an escape, which is decoded (a
 * third party may escape differently; the key is the decoded string).
 *
 * Memory: one slot per client and per idempotency key (24 bytes, the
 * table a quarter to half full), so 50 to 100 bytes per key, plus a copy
 * of the key when it is not in log.aof (which stays mapped): an archived
 * or escaped one.  Nothing per op without a key.
 */
struct rule {
	const char *client, *idem;	/* string text between the quotes */
	uint64_t nonce;
	uint32_t clen, ilen;
	int8_t kind;			/* enum op_kind; RULE_* below */
	uint8_t bad;			/* a client op's malformed member */
	bool cesc, iesc;		/* the string holds a backslash */
};

enum { BAD_NONE, BAD_CLIENT, BAD_NONCE, BAD_IDEM };
static const char *const bad_member[] = {
	NULL, "malformed client", "malformed nonce", "malformed idem"
};

#define RULE_UNKNOWN (-1)		/* an op kind this nedb does not know */
#define RULE_NOKIND (-2)		/* no "op" member where it belongs */

/*
 * Whether p starts with the n bytes of lit: a few bytes, compared in line
 * as two overlapping words (a call to memcmp per member would show in the
 * walk's time).
 */
static inline __attribute__((always_inline)) bool
starts(const char *p, const char *lit, size_t n)
{
	uint64_t a, b;
	uint32_t x, y;

	if (n >= 8) {
		memcpy(&a, p, 8);
		memcpy(&b, lit, 8);
		if (a != b)
			return false;
		if (n <= 16) {
			memcpy(&a, p + n - 8, 8);
			memcpy(&b, lit + n - 8, 8);
			return a == b;
		}
		return !memcmp(p + 8, lit + 8, n - 8);
	}
	if (n >= 4) {
		memcpy(&x, p, 4);
		memcpy(&y, lit, 4);
		if (x != y)
			return false;
		memcpy(&x, p + n - 4, 4);
		memcpy(&y, lit + n - 4, 4);
		return x == y;
	}
	for (size_t i = 0; i < n; i++)
		if (p[i] != lit[i])
			return false;
	return true;
}

/* The end of a JSON string's text (its closing quote), or NULL. */
static const char *
str_end(const char *p, const char *end, bool *esc)
{
	while (p < end) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			*esc = true;
			p++;
		}
		p++;
	}
	return NULL;
}

/* The kind named by the text of "op"; RULE_UNKNOWN if none. */
static int
op_kind(const char *p, size_t n)
{
	static size_t len[OP__N];

	if (n == 3 && starts(p, "put", 3))
		return OP_PUT;			/* most ops */
	for (int k = 0; k < OP__N; k++) {
		if (!len[k])
			len[k] = strlen(nedb__op_name(k));
		if (len[k] == n && !memcmp(nedb__op_name(k), p, n))
			return k;
	}
	return RULE_UNKNOWN;
}

/* Reads the members the rules need from a line nedb__log_check passed. */
static void
parse_rule(const char *line, size_t len, struct rule *r)
{
	const char *p = line + 7, *end = line + len - LOG_SUFFIX_LEN, *q;
	uint64_t n = 0;

	memset(r, 0, sizeof *r);
	r->kind = RULE_NOKIND;
	while (*p >= '0' && *p <= '9')
		p++;
	p += 9 + 64 + 1;			/* ,"prev":"<64 hex>" */
	if (end - p < 8 || !starts(p, ",\"op\":\"", 7) ||
	    !(q = memchr(p + 7, '"', (size_t)(end - p - 7))))
		return;
	p += 7;
	r->kind = op_kind(p, (size_t)(q - p));
	if (r->kind < 0 || !OP_IS_CLIENT(r->kind))
		return;
	p = q + 1;
	/* a format-2 put: its document (or erasure mark) before the tail */
	if (OP_HAS_DOC(r->kind) && end - p > 8 &&
	    !starts(p, ",\"ts\":", 6)) {
		struct log_put2 p2;

		if (nedb__log_put2(line, len, &p2) > 0)
			p = line + p2.tail;
	}
	if (end - p > 6 && starts(p, ",\"ts\":", 6)) {
		p += 6 + (p[6] == '-');
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	/* an encrypted database's op: ,"salt":"<32 hex>" (log.c) */
	if (end - p > 9 + 2 * SALT_LEN && starts(p, ",\"salt\":\"", 9))
		p += 9 + 2 * SALT_LEN + 1;
	if (end - p < 12 || !starts(p, ",\"client\":\"", 11) ||
	    !(q = str_end(p + 11, end, &r->cesc))) {
		r->bad = BAD_CLIENT;
		return;
	}
	r->client = p + 11;
	r->clen = (uint32_t)(q - r->client);
	p = q + 1;
	if (end - p < 10 || !starts(p, ",\"nonce\":", 9) ||
	    p[9] < '0' || p[9] > '9' || (p[9] == '0' && p[10] >= '0' &&
					 p[10] <= '9')) {
		r->bad = BAD_NONCE;
		return;
	}
	for (p += 9; p < end && *p >= '0' && *p <= '9'; p++) {
		uint64_t d = (uint64_t)(*p - '0');

		/* up to 2^64-1: a client may use every nonce */
		if (n > UINT64_MAX / 10 ||
		    (n == UINT64_MAX / 10 && d > UINT64_MAX % 10)) {
			r->bad = BAD_NONCE;
			return;
		}
		n = n * 10 + d;
	}
	r->nonce = n;
	if (*p != ',' && *p != '}') {
		r->bad = BAD_NONCE;
		return;
	}
	if (end - p > 9 && starts(p, ",\"idem\":\"", 9)) {
		if (!(q = str_end(p + 9, end, &r->iesc))) {
			r->bad = BAD_IDEM;
			return;
		}
		r->idem = p + 9;
		r->ilen = (uint32_t)(q - r->idem);
	}
}

/* Appends code point c as UTF-8. */
static void
put_utf8(nedb_buf *b, unsigned c)
{
	char u[4];
	size_t n;

	if (c < 0x80) {
		u[0] = (char)c;
		n = 1;
	} else if (c < 0x800) {
		u[0] = (char)(0xc0 | c >> 6);
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else if (c < 0x10000) {
		u[0] = (char)(0xe0 | c >> 12);
		u[1] = (char)(0x80 | (c >> 6 & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | c >> 18);
		u[1] = (char)(0x80 | (c >> 12 & 0x3f));
		u[2] = (char)(0x80 | (c >> 6 & 0x3f));
		u[3] = (char)(0x80 | (c & 0x3f));
		n = 4;
	}
	nedb_buf_add(b, u, n);
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (unsigned)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * Decodes the text of a JSON string (between its quotes, as str_end
 * found it) into out; -1 for a bad escape.  A lone surrogate becomes
 * U+FFFD, as jq reads it.
 */
static int
unescape(const char *p, size_t n, nedb_buf *out)
{
	const char *end = p + n;

	out->len = 0;
	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		unsigned c, lo;

		if (!bs) {
			nedb_buf_add(out, p, (size_t)(end - p));
			break;
		}
		nedb_buf_add(out, p, (size_t)(bs - p));
		p = bs + 1;
		switch (*p++) {
		case '"': nedb_buf_add(out, "\"", 1); break;
		case '\\': nedb_buf_add(out, "\\", 1); break;
		case '/': nedb_buf_add(out, "/", 1); break;
		case 'b': nedb_buf_add(out, "\b", 1); break;
		case 'f': nedb_buf_add(out, "\f", 1); break;
		case 'n': nedb_buf_add(out, "\n", 1); break;
		case 'r': nedb_buf_add(out, "\r", 1); break;
		case 't': nedb_buf_add(out, "\t", 1); break;
		case 'u':
			if (end - p < 4 || hex4(p, &c))
				return -1;
			p += 4;
			if (c >= 0xd800 && c < 0xdc00 && end - p >= 6 &&
			    p[0] == '\\' && p[1] == 'u' && !hex4(p + 2, &lo) &&
			    lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (lo - 0xdc00);
				p += 6;
			} else if (c >= 0xd800 && c < 0xe000)
				c = 0xfffd;
			put_utf8(out, c);
			break;
		default:
			return -1;
		}
	}
	return 0;
}

/*
 * Where sets keep their keys: a key that lives as long as the walk (the
 * text of log.aof, which stays mapped) is pointed to; any other (an
 * archived line's, a decoded one) is copied into chunks that never move.
 */
struct arena {
	struct chunk {
		struct chunk *next;
		size_t used, cap;
		char p[];
	} *head;
};

static const char *
arena_copy(struct arena *a, const char *p, size_t n)
{
	struct chunk *c = a->head;

	if (!c || c->cap - c->used < n) {
		size_t cap = n > (64u << 10) ? n : (64u << 10);

		if (!(c = nedb__malloc(sizeof *c + cap)))
			return NULL;
		c->next = a->head;
		c->used = 0;
		c->cap = cap;
		a->head = c;
	}
	memcpy(c->p + c->used, p, n);
	c->used += n;
	return c->p + c->used - n;
}

static void
arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *c = a->head;

		a->head = c->next;
		free(c);
	}
}

/* A set of byte strings, each with a 32-bit value: open addressing. */
struct strset {
	struct sslot {
		uint64_t h;
		const char *key;
		uint32_t len1;		/* key length + 1; 0: free slot */
		uint32_t val;
	} *slot;
	size_t cap, n;			/* cap: 0 or a power of two */
	struct arena keys;
	uint64_t seed;
};

static uint64_t
set_hash(uint64_t seed, const char *p, size_t n)
{
	uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ull), w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
	return h ^ h >> 29;
}

/*
 * Doubles the table.  Each slot is marked free by a store, not by
 * calloc (nor malloc and memset, which the compiler makes calloc):
 * calloc's pages stay the shared zero page until written, the probes
 * read before they write, and every page would then fault twice, the
 * second time with a TLB shootdown to the walk's other thread.
 */
static int
set_grow(struct strset *s)
{
	size_t cap = s->cap ? 2 * s->cap : 64, i;
	struct sslot *t = nedb__malloc(cap * sizeof *t);

	if (!t)
		return -1;
	for (i = 0; i < cap; i++)
		t[i].len1 = 0;
	for (size_t j = 0; j < s->cap; j++) {
		if (!s->slot[j].len1)
			continue;
		for (i = s->slot[j].h & (cap - 1); t[i].len1;
		     i = (i + 1) & (cap - 1))
			;
		t[i] = s->slot[j];
	}
	free(s->slot);
	s->slot = t;
	s->cap = cap;
	return 0;
}

/*
 * The slot of key (whose set_hash is h), added with val 0 (*added set)
 * when it is not there; NULL when out of memory.  A stable key is kept
 * by pointer, any other copied.  Slots move when the set grows.
 */
static struct sslot *
set_get(struct strset *s, const char *key, size_t len, uint64_t h,
	bool stable, bool *added)
{
	size_t i;

	*added = false;
	if (2 * (s->n + 1) > s->cap && set_grow(s))
		return NULL;
	for (i = h & (s->cap - 1); s->slot[i].len1; i = (i + 1) & (s->cap - 1))
		if (s->slot[i].h == h && s->slot[i].len1 == len + 1 &&
		    !memcmp(s->slot[i].key, key, len))
			return &s->slot[i];
	if (!stable && !(key = arena_copy(&s->keys, key, len)))
		return NULL;
	s->slot[i] = (struct sslot){h, key, (uint32_t)len + 1, 0};
	s->n++;
	*added = true;
	return &s->slot[i];
}

static void
set_free(struct strset *s)
{
	free(s->slot);
	arena_free(&s->keys);
}

/*
 * The clients met, numbered 0, 1, ... in the order met, each with its
 * last nonce.  Runs of ops by one client are the rule, so the last one
 * looked up is tried first, without hashing.
 */
struct clients {
	struct strset set;		/* client -> its number */
	struct client {
		const char *key;	/* its name, kept by set */
		uint32_t len;
		uint64_t nonce;		/* the last one seen */
	} *v;
	size_t n, cap, last;
};

/* The number of client key in *out; NEDB_EIO when out of memory. */
static int
client_number(struct clients *c, const char *key, size_t len, bool stable,
	      size_t *out)
{
	struct sslot *slot;
	bool added;

	if (c->last < c->n && c->v[c->last].len == len &&
	    starts(c->v[c->last].key, key, len)) {
		*out = c->last;
		return 0;
	}
	if (!(slot = set_get(&c->set, key, len, set_hash(c->set.seed, key,
							 len), stable,
			     &added)) ||
	    (added && c->n >= UINT32_MAX))
		return nedb__err(NEDB_EIO, "out of memory");
	if (added) {
		if (c->n == c->cap) {
			size_t cap = c->cap ? 2 * c->cap : 16;
			void *x = nedb__realloc(c->v, cap * sizeof *c->v);

			if (!x)
				return nedb__err(NEDB_EIO, "out of memory");
			c->v = x;
			c->cap = cap;
		}
		c->v[c->n] = (struct client){slot->key, (uint32_t)len, 0};
		slot->val = (uint32_t)c->n++;
	}
	*out = c->last = slot->val;
	return 0;
}

static void
clients_free(struct clients *c)
{
	set_free(&c->set);
	free(c->v);
}

/* A rule's client as a key: decoded when escaped (into scratch). */
static int
client_key(const struct rule *r, nedb_buf *scratch, const char **key,
	   size_t *len)
{
	*key = r->client;
	*len = r->clen;
	if (!r->cesc)
		return 0;
	if (unescape(r->client, r->clen, scratch))
		return -1;
	*key = scratch->p;
	*len = scratch->len;
	return 0;
}

/*
 * Log format 2's rule across lines (doc/redaction.md §4): a put whose
 * document was erased says by which op (,"redacted":R), and that op must
 * be a redact op naming it, of the same document; every seq a redact op
 * names must be erased by it.  Anyone holding a line can compute its
 * erased form, which keeps its hash (that is what lets text go), so
 * without this rule text could vanish with no op in the chain saying so.
 * And every put must be one that can be erased.  The chain's walk
 * looks at each line for it while the line is in the cache (rw_scan: a
 * look at each put's members after "op"), and parses only redact ops
 * and erased puts, which are few; the rule is checked after the walk.
 */
struct redaction {
	uint64_t seq, by;		/* a put and its eraser, or an op */
	char *key;			/* coll \0 id \0 */
	size_t klen;
	char *seqs;			/* a redact op's "seqs" text */
	size_t seqs_len;
};

struct rwalk {
	uint64_t bad;			/* a put that cannot be erased, or
					 * UINT64_MAX */
	struct redaction *put, *op;	/* erased puts; redact ops */
	size_t nput, nop, cput, cop;
	int rc;
};

static int
rw_add(struct redaction **v, size_t *n, size_t *cap, struct redaction *r)
{
	if (*n == *cap) {
		size_t c = *cap ? 2 * *cap : 16;
		struct redaction *x = nedb__realloc(*v, c * sizeof *x);

		if (!x)
			return nedb__err(NEDB_EIO, "out of memory");
		*v = x;
		*cap = c;
	}
	(*v)[(*n)++] = *r;
	return 0;
}

/*
 * What a line is to the rule: 0 nothing, 2 a redact op or an erased put
 * (rw_take reads it), 1 a put that cannot be erased.  Only looks.
 */
static int
rw_scan(const char *line, size_t len)
{
	const char *end = line + len - LOG_SUFFIX_LEN, *p;
	struct log_put2 p2;

	/* a redact op: its "op" member, right after prev */
	p = memchr(line + 7, ',', len - 7);
	if (!p || end - p <= 9 + 64 + 1 + 11)
		return 0;
	if (end - p > 9 + 64 + 1 + 16 &&
	    starts(p + 9 + 64 + 1, ",\"op\":\"redact\"", 14))
		return 2;
	/* a put (or a patch): in format 2 its document (or the mark of
	 * its erasure) follows "op":"put", ending at a block boundary */
	if (!starts(p + 9 + 64 + 1, ",\"op\":\"put\"", 11) &&
	    !starts(p + 9 + 64 + 1, ",\"op\":\"patch\"", 13))
		return 0;
	switch (nedb__log_put2(line, len, &p2)) {
	case 1:
		return 0;
	case 2:
		return 2;
	default:
		return 1;
	}
}

/* Records line seq, which rw_scan found to be 2, in w. */
static int
rw_take(struct rwalk *w, uint64_t seq, const char *line, size_t len)
{
	struct redaction r = {.seq = seq};
	struct op o;
	size_t c, i;
	int rc;

	if ((rc = nedb__log_parse(line, len, &o)))
		return rc;
	if (OP_HAS_DOC(o.kind) && !o.redacted) {
		nedb__op_free(&o);
		return 0;	/* text in a string, not a mark */
	}
	if (!OP_HAS_DOC(o.kind) && o.kind != OP_REDACT) {
		nedb__op_free(&o);
		return 0;
	}
	c = strlen(o.coll), i = strlen(o.id);
	r.klen = c + i + 2;
	if (!(r.key = nedb__malloc(r.klen))) {
		nedb__op_free(&o);
		return nedb__err(NEDB_EIO, "out of memory");
	}
	memcpy(r.key, o.coll, c + 1);
	memcpy(r.key + c + 1, o.id, i + 1);
	if (OP_HAS_DOC(o.kind)) {
		r.by = o.redacted;
		rc = rw_add(&w->put, &w->nput, &w->cput, &r);
	} else {
		r.seqs = nedb__memdup(o.seqs, o.seqs_len);
		r.seqs_len = o.seqs_len;
		rc = rw_add(&w->op, &w->nop, &w->cop, &r);
	}
	nedb__op_free(&o);
	if (rc)
		free(r.key);
	return rc;
}

/*
 * The rule's look at line seq, the next of w's walk: 0 to go on, 1 when
 * it is a put that cannot be erased (w->bad), or an error.
 */
static int
rw_line(struct rwalk *w, uint64_t seq, const char *line, size_t len)
{
	switch (rw_scan(line, len)) {
	case 1:
		w->bad = seq;
		return 1;
	case 2:
		return rw_take(w, seq, line, len);
	}
	return 0;
}

/* The walk's state: one line after another, archive then log.aof. */
struct walk {
	nedb_verify_result *out;
	struct applied a;
	struct chain c;			/* c.seq: the op being checked */
	unsigned char at_applied[HASH_LEN];
	bool seen_applied, failed;
	bool mapped;			/* lines are the log's map's */
	const char *headhex;		/* the map's text of c.head, or NULL */
	bool rules2;			/* log format 2: rw looks too */
	struct rwalk rw;
	int rwrc;			/* what rw's look ended with */
	struct kvcur sc;
	MDB_val sk, sd;
	int src;
	int rc;				/* an error that is not the log's */
	struct clients clients;		/* with their last nonces */
	struct strset idems;		/* idempotency keys used */
	nedb_buf key;			/* a decoded client or key */
};

#define NO_CLIENT SIZE_MAX

/*
 * Holds op w->c.seq to the rules; returns 1 (out filled, or w->rc set
 * when out of memory) when it breaks one.  cn is the number of its
 * client when the caller knows it, else NO_CLIENT; ih the set_hash of
 * its idempotency key when the caller has it, else NULL.
 */
static int
check_rule(struct walk *w, const struct rule *r, size_t cn,
	   const uint64_t *ih)
{
	const char *why = NULL, *key;
	struct sslot *slot;
	size_t klen;
	bool added;

	if (r->kind == RULE_NOKIND)
		why = "malformed op";
	else if ((w->c.seq == 0) != (r->kind == OP_GENESIS))
		why = "genesis must be op 0, and only op 0";
	else if (r->kind == RULE_UNKNOWN)
		why = "unknown op";
	else if (!OP_IS_CLIENT(r->kind))
		return 0;
	else if (r->bad)
		why = bad_member[r->bad];
	if (why)
		goto fail;
	if (cn == NO_CLIENT) {
		if (client_key(r, &w->key, &key, &klen)) {
			why = "malformed client";
			goto fail;
		}
		if ((w->rc = client_number(&w->clients, key, klen,
					   w->mapped && !r->cesc, &cn)))
			return 1;
	}
	if (r->nonce <= w->clients.v[cn].nonce) {
		why = "nonce not increasing";
		goto fail;
	}
	w->clients.v[cn].nonce = r->nonce;
	if (!r->idem)
		return 0;
	key = r->idem;
	klen = r->ilen;
	if (r->iesc) {
		if (unescape(key, klen, &w->key)) {
			why = "malformed idem";
			goto fail;
		}
		key = w->key.p;
		klen = w->key.len;
		ih = NULL;
	}
	if (!(slot = set_get(&w->idems, key, klen, ih ? *ih :
			     set_hash(w->idems.seed, key, klen),
			     w->mapped && !r->iesc, &added))) {
		w->rc = nedb__err(NEDB_EIO, "out of memory");
		return 1;
	}
	if (!added) {
		why = "idempotency key used twice";
		goto fail;
	}
	return 0;
fail:
	fail(w->out, w->c.seq, why);
	return 1;
}

/* walk_link's view argument: the op's record in the view was found
 * and holds its hash (else NULL: look with the walk's cursor, or what
 * was found wrong) */
static const char VIEW_CHECKED[] = "";

static int walk_link(struct walk *w, const unsigned char *prev,
		     const unsigned char *hash, const struct rule *r,
		     size_t cn, const uint64_t *ih, const char *view);

/* Checks one line; returns 1 (and fills out) at the first bad op.  The
 * chain walker checks the line; walk_link its link, then the rules. */
static int
walk_line(struct walk *w, const char *line, size_t len)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	struct rule r;
	int why;

	if (w->headhex && !nedb__log_check_next(line, len, w->c.seq,
						w->c.head, w->headhex, hash))
		memcpy(prev, w->c.head, HASH_LEN);
	else if (nedb__chain_check(&w->c, line, len, prev, hash, &why) &&
		 why == CHAIN_BADLINE) {
		fail(w->out, w->c.seq, nedb_errmsg());
		w->failed = true;
		return 1;
	}
	parse_rule(line, len, &r);
	if (walk_link(w, prev, hash, &r, NO_CLIENT, NULL, NULL))
		return 1;
	if (w->rules2 && !w->rwrc)
		w->rwrc = rw_line(&w->rw, w->c.seq - 1, line, len);
	w->headhex = w->mapped ? line + len - LOG_SUFFIX_LEN + 9 : NULL;
	return 0;
}

static int
walked_line(const char *line, size_t len, const struct log_loc *loc,
	    uint64_t next, void *payload)
{
	(void)loc;
	(void)next;
	return walk_line(payload, line, len);
}

/*
 * The part of the check that needs the ops before: the link, the rules,
 * the view.
 */
static int
walk_link(struct walk *w, const unsigned char *prev,
	  const unsigned char *hash, const struct rule *r, size_t cn,
	  const uint64_t *ih, const char *view)
{
	if (nedb__chain_link(&w->c, prev)) {
		fail(w->out, w->c.seq, w->c.seq ? "prev does not match the hash "
		     "of the op before it" : "genesis prev is not zero");
		goto bad;
	}
	if (check_rule(w, r, cn, ih))
		goto bad;
	/* each op the view has applied must carry the hash it recorded: a
	 * history rewritten with fresh hashes is named where it begins */
	if (view && view != VIEW_CHECKED) {
		fail(w->out, w->c.seq, view);
		goto bad;
	}
	if (!view && w->c.seq <= w->a.seq) {
		struct seqent se;

		if (w->src || w->sk.mv_size != 8 ||
		    nedb__get_be64(w->sk.mv_data) != w->c.seq) {
			fail(w->out, w->c.seq, "the view has no record of this "
			     "op");
			goto bad;
		}
		memcpy(&se, w->sd.mv_data, sizeof se);
		if (memcmp(se.hash, hash, HASH_LEN)) {
			fail(w->out, w->c.seq, "hash differs from the one the "
			     "view recorded");
			goto bad;
		}
		w->src = nedb__kv_cget(&w->sc, &w->sk, &w->sd, MDB_NEXT);
	}
	if (w->c.seq == w->a.seq) {
		memcpy(w->at_applied, hash, HASH_LEN);
		w->seen_applied = true;
	}
	nedb__chain_step(&w->c, hash);
	nedb__progress("verify", w->c.seq, w->c.seq, w->a.seq + 1);
	return 0;
bad:
	w->failed = true;
	return 1;
}

/*
 * Hashing is the cost of a walk, and every line's hash depends on that
 * line alone.  So log.aof is cut into pieces of about PIECE bytes at
 * line ends, and every thread (this one and NEDB_VERIFY_THREADS - 1, by
 * default one per core) takes the next piece and checks what each line
 * holds by itself: its shape, seq and hash, its prev against the line
 * before it in the piece, the view's record of its hash, the members
 * the rules read, the redaction rule's look.  This thread then takes
 * the pieces in order and checks what needs the ops before: the first
 * line's link, the seqs, the rules (clients' nonces, idempotency keys).
 * It takes a piece to hash itself while it waits for the next one, so
 * the cores share the work however it falls; a piece's records are
 * reused for the piece nslot later, and are still in the cache when
 * read.  An error found in a piece stops the walk at its line, where the
 * one-thread walk (walk_line) names it, as it would have.
 */
#define PIECE (512 << 10)
/* The shortest line nedb__log_check passes: {"seq":N,"prev":"<64>"}+hash */
#define MIN_LINE (7 + 1 + 10 + 64 + 1 + LOG_SUFFIX_LEN)
#define MAX_THREADS 8

struct piece {
	const char *p, *end;		/* its lines: in buf, or the map's,
					 * or opened into plain */
	char *buf;
	size_t bufcap;
	/* sealed lines: opened into plain up to rawstop, the map's place
	 * of a line that did not open (sealbad, why in err), a torn tail,
	 * or the piece's end */
	nedb_buf plain, tmp;
	const char *rawstop;
	int sealrc;			/* what ended the opening, or 0 */
	uint64_t first;			/* seq its first line claims */
	unsigned char prev[HASH_LEN];	/* its first line's prev */
	/* per line; each line's prev is the hash of the one before it */
	struct lrec {
		unsigned char hash[HASH_LEN];
		struct rule r;
		uint64_t ih;		/* set_hash of r.idem, unescaped */
	} *h;
	size_t n, cap;
	const char *stop;		/* first line not checked (bad) */
	char err[256];
	/* the first op whose record in the view is wrong, and why */
	uint64_t viewbad;
	const char *viewwhy;
	/* the redaction rule's look (rules2): lines rw_take must read,
	 * and the first put that cannot be erased (rwbad, 0: none) */
	struct pend {
		uint64_t seq;
		const char *line;
		size_t len;
	} *pend;
	size_t npend, cpend;
	uint64_t rwbad;
	bool hashed;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	const char **cut;		/* piece i: cut[i] to cut[i + 1] */
	size_t npieces;
	size_t next;			/* the next piece to hash */
	size_t done;			/* pieces walked in order */
	struct piece *slot;		/* piece i in slot i % nslot */
	size_t nslot;
	bool quit;
	/* the view's records are checked while hashing: not when it is
	 * encrypted (its cursor is the walk's then) */
	struct view *view;
	uint64_t applied;		/* ops through it have records */
	bool rules2;
	uint64_t seed;			/* the walk's idem set's */
	/*
	 * The map's bytes from the file, or -1.  On a virtual machine
	 * whose guest page tables are shadowed, the first touch of each
	 * page of a map costs microseconds: reading log.aof with pread
	 * into buffers used again and again took a fifth of the time of
	 * touching the map (0.06 s against 0.29 s for 487 MB).
	 */
	int fd;
	const char *base;		/* the map, file offset 0 */
	const struct nedb_crypt *sealed;	/* the map's */
};

/* Hashes piece i's lines into its slot; c: a cursor on the view's seqs
 * (with p->view), of the calling thread's own transaction. */
static void
hash_piece(struct pool *pl, size_t i, struct kvcur *c,
	   const struct nedb_crypt *crypt)
{
	struct piece *h = &pl->slot[i % pl->nslot];
	const char *p = pl->cut[i], *end = pl->cut[i + 1], *nl,
		   *prevhex = NULL;
	size_t len = (size_t)(end - p), cap = len / MIN_LINE + 1, got;
	MDB_val k, d;
	bool seek = true;

	/* the piece read into its buffer; if that fails, the map serves */
	if (pl->fd >= 0 && (h->bufcap >= len ||
			    (free(h->buf), h->bufcap = 0,
			     (h->buf = nedb__malloc(len)) && (h->bufcap = len)))) {
		for (got = 0; got < len;) {
			ssize_t r = pread(pl->fd, h->buf + got, len - got,
					  (off_t)(p - pl->base) + (off_t)got);

			if (r <= 0 && !(r < 0 && errno == EINTR))
				break;
			if (r > 0)
				got += (size_t)r;
		}
		if (got == len) {
			p = h->buf;
			end = h->buf + len;
		}
	}
	h->sealrc = 0;
	h->rawstop = pl->cut[i + 1];
	if (pl->sealed) {
		const char *why, *q = p;
		int rc = 0;

		/* each line opened, as stored; the rest as of a plain log */
		h->plain.len = 0;
		while (q < end && (nl = memchr(q, '\n', (size_t)(end - q)))) {
			rc = nedb__line_open_why(crypt, &h->plain, &h->tmp, q,
						 (size_t)(nl - q), &why);
			if (!rc)
				rc = nedb_buf_add(&h->plain, "\n", 1);
			if (rc)
				break;
			q = nl + 1;
		}
		h->rawstop = pl->cut[i] + (q - p);
		if ((h->sealrc = rc))
			snprintf(h->err, sizeof h->err, "%s",
				 rc == NEDB_ECORRUPT ? why : nedb_errmsg());
		p = h->plain.p ? h->plain.p : q;
		end = p + h->plain.len;
	}

	h->n = h->npend = 0;
	h->rwbad = h->viewbad = 0;
	h->viewwhy = NULL;
	h->p = p;
	h->end = end;
	h->first = 0;
	if (end - p > 7 && !memcmp(p, "{\"seq\":", 7))
		for (nl = p + 7; nl < end && *nl >= '0' && *nl <= '9' &&
		     h->first < UINT64_MAX / 10; nl++)
			h->first = h->first * 10 + (uint64_t)(*nl - '0');
	if (cap > h->cap) {
		void *x = nedb__realloc(h->h, cap * sizeof *h->h);

		if (!x)
			goto oom;
		h->h = x;
		h->cap = cap;
	}
	while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
		uint64_t s = h->first + h->n;
		unsigned char prev[HASH_LEN];
		struct lrec *l = &h->h[h->n];

		/* after the first line, the link is checked here: a line
		 * whose prev is not its predecessor's hash stops the piece
		 * there, and the walk names what is wrong with it */
		if (h->n == 0 || nedb__log_check_next(p, (size_t)(nl - p), s,
						      l[-1].hash, prevhex,
						      l->hash)) {
			if (nedb__log_check(p, (size_t)(nl - p), &s, prev,
					    l->hash)) {
				snprintf(h->err, sizeof h->err, "%s",
					 nedb_errmsg());
				break;
			}
			if (h->n) {
				snprintf(h->err, sizeof h->err, "prev does "
					 "not match");
				break;
			}
			memcpy(h->prev, prev, HASH_LEN);
		}
		prevhex = nl - LOG_SUFFIX_LEN + 9;
		if (pl->view && !h->viewbad && s <= pl->applied) {
			struct seqent se;
			unsigned char key[8];
			int rc;

			if (seek) {
				nedb__put_be64(key, s);
				k.mv_data = key;
				k.mv_size = 8;
				rc = nedb__kv_cget(c, &k, &d, MDB_SET_KEY);
				seek = false;
			} else
				rc = nedb__kv_cget(c, &k, &d, MDB_NEXT);
			if (rc || k.mv_size != 8 ||
			    nedb__get_be64(k.mv_data) != s ||
			    d.mv_size < sizeof se)
				h->viewwhy = "the view has no record of this "
					     "op";
			else if (memcpy(&se, d.mv_data, sizeof se),
				 memcmp(se.hash, l->hash, HASH_LEN))
				h->viewwhy = "hash differs from the one the "
					     "view recorded";
			if (h->viewwhy)
				h->viewbad = s;
		}
		if (pl->rules2 && !h->rwbad)
			switch (rw_scan(p, (size_t)(nl - p))) {
			case 1:
				h->rwbad = s;
				break;
			case 2:
				if (h->npend == h->cpend) {
					size_t c2 = h->cpend ? 2 * h->cpend : 16;
					void *x = nedb__realloc(h->pend,
							c2 * sizeof *h->pend);

					if (!x)
						goto oom;
					h->pend = x;
					h->cpend = c2;
				}
				h->pend[h->npend++] = (struct pend){
					s, p, (size_t)(nl - p)};
			}
		parse_rule(p, (size_t)(nl - p), &l->r);
		l->ih = 0;
		if (l->r.kind >= 0 && OP_IS_CLIENT(l->r.kind) && !l->r.bad &&
		    l->r.idem && !l->r.iesc)
			l->ih = set_hash(pl->seed, l->r.idem, l->r.ilen);
		h->n++;
		p = nl + 1;
	}
	h->stop = p;
	return;
oom:
	snprintf(h->err, sizeof h->err, "out of memory");
	h->stop = p;
}

/* Under pl->mu: the next piece some thread may hash, or SIZE_MAX. */
static size_t
claim(struct pool *pl)
{
	if (pl->next >= pl->npieces || pl->next >= pl->done + pl->nslot)
		return SIZE_MAX;
	return pl->next++;
}

static void
hashed(struct pool *pl, size_t i)
{
	pthread_mutex_lock(&pl->mu);
	pl->slot[i % pl->nslot].hashed = true;
	pthread_cond_broadcast(&pl->cv);
	pthread_mutex_unlock(&pl->mu);
}

static void *
hasher(void *arg)
{
	struct pool *pl = arg;
	struct kvcur c = {0};
	struct nedb_crypt cr = {0};
	MDB_txn *txn = NULL;
	size_t i;

	/* NEDB_TEST_FAIL=verify-thread: a thread that cannot set itself
	 * up (no memory for a cipher context) leaves the work to the others,
	 * down to the walking thread alone */
	if (nedb__test_fail("verify-thread"))
		return NULL;
	/* sealed lines: a context of its own (one serves one thread) */
	if (pl->sealed) {
		cr = *pl->sealed;
		if (nedb__aead_new(&cr.log, pl->sealed->log_key)) {
			nedb__wipe(&cr, sizeof cr);
			return NULL;	/* the other threads do the work */
		}
	}

	/* a transaction of its own: an op's record, once written, is
	 * never changed, so any snapshot from the walk's on agrees */
	if (pl->view && (mdb_txn_begin(pl->view->env, NULL, MDB_RDONLY,
				       &txn) ||
			 nedb__kv_copen(&c, pl->view, txn, DBI_SEQS))) {
		if (txn)
			mdb_txn_abort(txn);
		if (pl->sealed) {
			nedb__aead_free(cr.log);
			nedb__wipe(&cr, sizeof cr);
		}
		return NULL;		/* the other threads do the work */
	}
	pthread_mutex_lock(&pl->mu);
	for (;;) {
		while (!pl->quit && (i = claim(pl)) == SIZE_MAX &&
		       pl->next < pl->npieces)
			pthread_cond_wait(&pl->cv, &pl->mu);
		if (pl->quit || i == SIZE_MAX)
			break;
		pthread_mutex_unlock(&pl->mu);
		hash_piece(pl, i, &c, &cr);
		hashed(pl, i);
		pthread_mutex_lock(&pl->mu);
	}
	pthread_mutex_unlock(&pl->mu);
	if (txn) {
		nedb__kv_cclose(&c);
		mdb_txn_abort(txn);
	}
	if (pl->sealed) {
		nedb__aead_free(cr.log);
		nedb__wipe(&cr, sizeof cr);
	}
	return NULL;
}

/* A stored line that does not open, the op w->c.seq: it ends the walk. */
static int
sealed_bad(struct walk *w, const char *why)
{
	char msg[300];

	snprintf(msg, sizeof msg, "corrupt log at seq %llu: %s",
		 (unsigned long long)w->c.seq, why);
	fail(w->out, w->c.seq, msg);
	w->failed = true;
	return 1;
}

/*
 * Piece i's lines in order: what needs the ops before.  Returns 1 when
 * the walk ends there (w->failed, or a line left unchecked: *pp says
 * where), else 0.
 */
static int
walk_piece(struct walk *w, struct pool *pl, size_t i, const char **pp)
{
	struct piece *h = &pl->slot[i % pl->nslot];
	const char *nl;
	size_t j;

	for (j = 0; j < h->n; j++) {
		struct lrec *l = &h->h[j];
		uint64_t s = h->first + j;

		if (s != w->c.seq) {
			char why[64];

			snprintf(why, sizeof why, "found seq %llu",
				 (unsigned long long)s);
			fail(w->out, w->c.seq, why);
			w->failed = true;
			return 1;
		}
		/* the idem set is too large for the cache: ask for the
		 * slot of a key some ops ahead */
		if (j + 16 < h->n && h->h[j + 16].r.idem && w->idems.cap)
			__builtin_prefetch(&w->idems.slot[h->h[j + 16].ih &
							  (w->idems.cap - 1)]);
		if (walk_link(w, j ? w->c.head : h->prev, l->hash, &l->r,
			      NO_CLIENT, l->ih ? &l->ih : NULL,
			      !pl->view ? NULL :
			      h->viewwhy && s == h->viewbad ? h->viewwhy :
			      s <= pl->applied ? VIEW_CHECKED : NULL))
			return 1;
	}
	/* the rule's look at the piece, after the pieces before it */
	for (j = 0; w->rules2 && !w->rwrc && j < h->npend; j++)
		w->rwrc = rw_take(&w->rw, h->pend[j].seq, h->pend[j].line,
				  h->pend[j].len);
	if (w->rules2 && !w->rwrc && h->rwbad) {
		w->rw.bad = h->rwbad;
		w->rwrc = 1;
	}
	if (pl->sealed && h->stop == h->end) {
		/* every line opened was checked: then what ended them */
		*pp = h->rawstop;
		if (h->sealrc == NEDB_ECORRUPT)
			return sealed_bad(w, h->err);
		if (h->sealrc) {
			w->rc = nedb__err(h->sealrc, "%s", h->err);
			w->failed = true;
			return 1;
		}
		return h->rawstop != pl->cut[i + 1];	/* a torn tail */
	}
	*pp = pl->cut[i] + (h->stop - h->p);
	if (h->stop == h->end)
		return 0;
	if (!(nl = memchr(h->stop, '\n', (size_t)(h->end - h->stop))))
		return 1;		/* a torn tail */
	/* a bad line: report it as the one-thread walk would */
	walk_line(w, h->stop, (size_t)(nl - h->stop));
	if (!w->failed) {
		fail(w->out, w->c.seq, h->err);
		w->failed = true;
	}
	return 1;
}

static size_t
hashers(void)
{
	const char *e = getenv("NEDB_VERIFY_THREADS");
	char *end;
	long n = e && *e ? strtol(e, &end, 10) : 0;

	/* not a number: one per core */
	if (!e || !*e || *end)
		n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : (size_t)n;
}

/* Walks log.aof's complete lines from *pp; *pp ends after the last. */
static int
walk_file(struct walk *w, nedb *db, MDB_txn *txn, const struct log_map *m,
	  const char **pp, const char *end)
{
	struct pool pl = {.rules2 = w->rules2, .seed = w->idems.seed,
			  .applied = w->a.seq, .fd = m->readable ? m->fd : -1,
			  .base = m->p, .sealed = m->sealed};
	pthread_t th[MAX_THREADS];
	size_t nth = 0, n = hashers(), i, ncut = 0;
	const char *p = *pp, *nl, *q;
	struct kvcur c = {0};
	bool cursor = false;

	/* a sealed line is opened into a buffer used again */
	w->mapped = !m->sealed;
	if (n < 2 || end - p <= (16 << 20)) {
		nedb_buf plain = {0}, tmp = {0};

		while (p < end && (nl = memchr(p, '\n', (size_t)(end - p)))) {
			const char *line = p, *why;
			size_t len = (size_t)(nl - p);
			int rc;

			if (m->sealed) {
				plain.len = 0;
				rc = nedb__line_open_why(m->sealed, &plain,
							 &tmp, p, len, &why);
				if (rc == NEDB_ECORRUPT) {
					sealed_bad(w, why);
					break;
				}
				if (rc) {
					w->rc = rc;
					w->failed = true;
					break;
				}
				line = plain.p;
				len = plain.len;
			}
			if (walk_line(w, line, len))
				break;
			p = nl + 1;
		}
		nedb__wipe(plain.p, plain.cap);
		nedb_buf_free(&plain);
		nedb_buf_free(&tmp);
		*pp = p;
		return 0;
	}
	/* the cuts: a line end after each PIECE bytes */
	if (!(pl.cut = nedb__malloc(((size_t)(end - p) / PIECE + 2) *
				    sizeof *pl.cut)))
		return w->rc = nedb__err(NEDB_EIO, "out of memory");
	pl.cut[ncut++] = p;
	for (q = p + PIECE; q < end; q = nl + 1 + PIECE) {
		if (!(nl = memchr(q, '\n', (size_t)(end - q))) || nl + 1 == end)
			break;
		pl.cut[ncut++] = nl + 1;
	}
	pl.cut[ncut] = end;
	pl.npieces = ncut;
	/* the pieces' lines are in buffers used again: the walk keeps no
	 * pointer into them */
	w->mapped = false;
	pl.nslot = 2 * n + 2;
	if (!(pl.slot = nedb__calloc(pl.nslot, sizeof *pl.slot))) {
		free(pl.cut);
		return w->rc = nedb__err(NEDB_EIO, "out of memory");
	}
	if (!db->view.crypt &&
	    !nedb__kv_copen(&c, &db->view, txn, DBI_SEQS)) {
		pl.view = &db->view;
		cursor = true;
	}
	pthread_mutex_init(&pl.mu, NULL);
	pthread_cond_init(&pl.cv, NULL);
	for (i = 1; i < n; i++)
		if (!pthread_create(&th[nth], NULL, hasher, &pl))
			nth++;
	for (i = 0; i < pl.npieces; i++) {
		struct piece *h = &pl.slot[i % pl.nslot];
		size_t j;

		pthread_mutex_lock(&pl.mu);
		while (!h->hashed) {
			if ((j = claim(&pl)) != SIZE_MAX) {
				pthread_mutex_unlock(&pl.mu);
				hash_piece(&pl, j, &c, pl.sealed);
				pthread_mutex_lock(&pl.mu);
				pl.slot[j % pl.nslot].hashed = true;
				pthread_cond_broadcast(&pl.cv);
			} else
				pthread_cond_wait(&pl.cv, &pl.mu);
		}
		pthread_mutex_unlock(&pl.mu);
		if (walk_piece(w, &pl, i, &p))
			break;
		pthread_mutex_lock(&pl.mu);
		h->hashed = false;
		pl.done++;
		pthread_cond_broadcast(&pl.cv);
		pthread_mutex_unlock(&pl.mu);
	}
	pthread_mutex_lock(&pl.mu);
	pl.quit = true;
	pthread_cond_broadcast(&pl.cv);
	pthread_mutex_unlock(&pl.mu);
	for (i = 0; i < nth; i++)
		pthread_join(th[i], NULL);
	pthread_cond_destroy(&pl.cv);
	pthread_mutex_destroy(&pl.mu);
	if (cursor)
		nedb__kv_cclose(&c);
	for (i = 0; i < pl.nslot; i++) {
		free(pl.slot[i].h);
		free(pl.slot[i].pend);
		free(pl.slot[i].buf);
		nedb__wipe(pl.slot[i].plain.p, pl.slot[i].plain.cap);
		nedb_buf_free(&pl.slot[i].plain);
		nedb_buf_free(&pl.slot[i].tmp);
	}
	free(pl.slot);
	free(pl.cut);
	*pp = p;
	return 0;
}

static void
rw_free(struct rwalk *w)
{
	for (size_t i = 0; i < w->nput; i++)
		free(w->put[i].key);
	for (size_t i = 0; i < w->nop; i++) {
		free(w->op[i].key);
		free(w->op[i].seqs);
	}
	free(w->put);
	free(w->op);
}

/* The erased put seq in w, or NULL (they are in seq order). */
static struct redaction *
rw_put(struct rwalk *w, uint64_t seq)
{
	size_t lo = 0, hi = w->nput;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (w->put[mid].seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < w->nput && w->put[lo].seq == seq ? &w->put[lo] : NULL;
}

struct rw_named {
	struct rwalk *w;
	const struct redaction *op;
	uint64_t last;
	char why[160];
};

static int
rw_check_named(uint64_t seq, void *payload)
{
	struct rw_named *n = payload;
	struct redaction *p = rw_put(n->w, seq);

	if (seq <= n->last || seq >= n->op->seq)
		snprintf(n->why, sizeof n->why, "redact op names seq %llu "
			 "out of order", (unsigned long long)seq);
	else if (!p || p->by != n->op->seq)
		snprintf(n->why, sizeof n->why, "redact op names seq %llu, "
			 "whose text is not erased by it",
			 (unsigned long long)seq);
	else if (p->klen != n->op->klen ||
		 memcmp(p->key, n->op->key, p->klen))
		snprintf(n->why, sizeof n->why, "redact op names seq %llu, "
			 "a version of another document",
			 (unsigned long long)seq);
	else {
		p->by = 0;		/* accounted for */
		n->last = seq;
		return 0;
	}
	return 1;
}

/*
 * The rule over what the walk recorded (w; rc what its look ended
 * with): fills out at the first op that breaks it.  Frees w.
 */
static int
redactions(struct rwalk *rw, int rc, nedb_verify_result *out)
{
	struct rwalk w = *rw;
	uint64_t bad = UINT64_MAX;
	char why[160] = "";

	if (rc == 1 && w.bad != UINT64_MAX) {
		rc = 0;
		bad = w.bad;
		snprintf(why, sizeof why, "a put whose document cannot be "
			 "erased in a format-2 log");
	}
	if (rc)
		goto done;
	for (size_t i = 0; i < w.nop && w.op[i].seq < bad; i++) {
		struct rw_named n = {.w = &w, .op = &w.op[i]};

		if (nedb__each_seq(w.op[i].seqs, w.op[i].seqs_len,
				   rw_check_named, &n) || !n.last) {
			bad = w.op[i].seq;
			snprintf(why, sizeof why, "%s", n.last || *n.why ?
				 n.why : "redact op names no seq");
		}
	}
	/* an erased put no redact op accounted for: named first, it is
	 * the earlier damage */
	for (size_t i = 0; i < w.nput; i++)
		/* (a walk stopped early at w.bad saw no op after it) */
		if (w.put[i].by && w.put[i].seq < bad && w.put[i].by < w.bad) {
			bad = w.put[i].seq;
			snprintf(why, sizeof why, "text erased, but op %llu is "
				 "not a redact op naming this one",
				 (unsigned long long)w.put[i].by);
			break;
		}
	if (bad != UINT64_MAX)
		fail(out, bad, why);
done:
	rw_free(&w);
	return rc;
}

int
nedb_verify(nedb *db, unsigned flags, nedb_verify_result *out)
{
	struct walk w = {.out = out};
	struct log_map m = {0};
	const char *p, *end;
	MDB_txn *txn;
	bool rotated;
	int rc;

	memset(out, 0, sizeof *out);
	out->ok = 1;
	/* a seed per run: a crafted log cannot choose colliding keys */
	w.clients.set.seed = w.idems.seed = (uint64_t)(uintptr_t)&w ^
		(uint64_t)nedb__now_ms() * 0x9e3779b97f4a7c15ull;
	w.rules2 = db->log_format >= 2;
	w.rw.bad = UINT64_MAX;
	if ((rc = mdb_txn_begin(db->view.env, NULL, MDB_RDONLY, &txn)))
		return nedb__mdb(rc, "cannot read view");
	/* a prune since this handle opened the log: read the new one,
	 * which holds every line the snapshot just taken has applied */
	if ((rc = nedb__log_follow(db, &rotated)))
		goto done;
	if (rotated)
		db->size_checked = false;
	if ((rc = nedb__view_applied(&db->view, txn, &w.a))) {
		rc = nedb__err(NEDB_ECORRUPT, "view has no head");
		goto done;
	}
	if ((rc = nedb__log_map(db, &m)))
		goto done;
	if (m.n == 0 && !m.why) {
		fail(out, 0, "log is empty: no genesis op");
		goto done;
	}
	if ((rc = nedb__kv_copen(&w.sc, &db->view, txn, DBI_SEQS))) {
		rc = nedb__mdb(rc, "cannot read view");
		goto done;
	}
	w.src = nedb__kv_cget(&w.sc, &w.sk, &w.sd, MDB_FIRST);
	/* from genesis: the ops before the map (archived) first */
	if (m.seq) {
		uint64_t torn;

		rc = nedb__log_walk(db, 0, 0, m.pos, walked_line, &w, &torn);
		if (w.failed) {
			rc = w.rc;
			goto done;
		}
		if (rc == NEDB_ECORRUPT) {
			fail(out, w.c.seq, nedb_errmsg());
			rc = 0;
			goto done;
		}
		if (rc)
			goto done;
		if (w.c.seq != m.seq) {
			fail(out, w.c.seq, "the archive does not reach the "
			     "first op of log.aof");
			goto done;
		}
	}
	p = m.p;
	end = m.p + m.n;
	if ((rc = walk_file(&w, db, txn, &m, &p, end)))
		goto done;
	if (w.failed) {
		rc = w.rc;
		goto done;
	}
	if (m.why) {
		/* a line the backend could not decode ends the map */
		fail(out, w.c.seq, m.why);
		goto done;
	}
	if (p < end)
		nedb__warn("torn log tail of %zu bytes after seq %llu (the "
			   "next write repairs it)", (size_t)(end - p),
			   (unsigned long long)w.c.seq - 1);
	if (w.c.seq == 0) {
		fail(out, 0, "log has no complete genesis op");
		goto done;
	}
	if (!w.seen_applied) {
		char msg[160];

		snprintf(msg, sizeof msg, "log ends at seq %llu but the view "
			 "has ops through seq %llu",
			 (unsigned long long)w.c.seq - 1,
			 (unsigned long long)w.a.seq);
		fail(out, w.c.seq, msg);
		goto done;
	}
	if (memcmp(w.at_applied, w.a.head, HASH_LEN)) {
		fail(out, w.a.seq, "hash differs from the head the view "
		     "recorded");
		goto done;
	}
	if (db->log_format >= 2) {
		rc = redactions(&w.rw, w.rwrc, out);
		memset(&w.rw, 0, sizeof w.rw);
		if (rc || !out->ok)
			goto done;
	}
	out->seq = w.c.seq - 1;
	nedb__hex(out->head, w.c.head, HASH_LEN);
	if (flags & NEDB_VERIFY_DETERMINISM)
		rc = determinism(db, txn, &w.a, out);
done:
	if (w.sc.c)
		nedb__kv_cclose(&w.sc);
	nedb__log_unmap(db, &m);
	mdb_txn_abort(txn);
	clients_free(&w.clients);
	set_free(&w.idems);
	nedb_buf_free(&w.key);
	rw_free(&w.rw);
	return rc;
}
