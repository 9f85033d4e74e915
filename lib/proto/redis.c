/*
 * redis.c - the Redis command table over the engine (no sockets).
 *
 * nedb-redis(1) and nedbd's RESP2 port run the same table: a command
 * arrives as an argv of byte strings, its reply leaves as RESP2 bytes,
 * and every change is an ordinary op in the chain, written as client
 * "redis" (conn->client).  The commands, their arities and their error
 * texts follow Redis 7 (src/server.c, t_string.c, t_hash.c, ...), down to
 * the order in which a command checks its arguments, so that clients see
 * the replies they expect.  Handlers are named xxxCommand; bodies that
 * several commands share are xxxGenericCommand.
 *
 * Type mapping
 * ------------
 * Every Redis key is one document of the collection "redis" whose id is
 * the key.  Keys must be valid nedb ids (1-400 bytes of UTF-8 without
 * control characters); any other key is answered with -ERR.  Documents:
 *
 *   string  {"_id":K,"type":"string","value":"V"}
 *   hash    {"_id":K,"type":"hash","value":{"F":"V",...}}  (insertion order)
 *   set     {"_id":K,"type":"set","value":["M",...]}  (sorted by bytes, unique)
 *   list    {"_id":K,"type":"list","value":["E",...]}  (head first)
 *   zset    {"_id":K,"type":"zset","value":[["M",S],...]}
 *           (ordered by score, then member bytes; each member once)
 *
 * A score S is a JSON number, the shortest of %.15g, %.16g and %.17g
 * that reads back as the same double, or the string "inf" or "-inf"
 * (JSON has no infinities); -0 is stored as 0, as a Redis listpack
 * keeps it.  Scores are replied as Redis 7.0 replies them: "%.17g",
 * "inf", "-inf".
 *
 * A connection may route keys elsewhere (nedb-redis-follow): the keys of
 * another Redis database to another collection, and the keys of its
 * registrations (nedb_redis_map) to theirs, in shapes of their own; see
 * "where keys live" below.
 * When any byte string of a value (a string, a hash field or value, a
 * member, an element) is not valid UTF-8, the document holds "b64"
 * instead of "value": the same shape with every one of those strings in
 * base64 (RFC 4648, padded; scores stay numbers).  Sets and sorted sets
 * stay ordered by their raw bytes.  Redis removes a hash, set, list or
 * sorted set that becomes empty; so does this (a delete op).  A key's TTL is the document's nedb expiry: SET (without
 * KEEPTTL), MSET and SETNX clear it as in Redis; commands that change a
 * value in place (APPEND, INCR, HSET, LPUSH, ...) keep it.  A document of
 * the collection in any other shape (written by nedb-put, say) is of type
 * "unknown": TYPE says so, every typed command answers WRONGTYPE, and
 * EXISTS, DEL, RENAME, KEYS and the TTL commands treat it as any key.
 *
 * Invariants
 * ----------
 * 1. A command stages all of its ops or none.  Arguments and sizes are
 *    checked before the first op is staged; what can still fail after
 *    that is a database error, which makes the caller's transaction
 *    unusable (nedb marks it failed) and is returned as such.
 * 2. A command's reply is built only after its reads; a database error
 *    found half way through replaces whatever reply was begun.
 * 3. Nothing here reads a value with jv: documents are taken apart as
 *    the compact text nedb stores (nedb__doc_member, nedb__string_value),
 *    so that the RESP path never loads libjq.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "internal.h"
#include "codec.h"
#include "nedb_jv.h"
#include "nql.h"
#include "redis.h"

#define REDIS_COLL "redis"
#define REDIS_VERSION "7.0.0"	/* the protocol level INFO advertises */

/* ---- objects ------------------------------------------------------------ */

enum {
	OBJ_NONE, OBJ_STRING, OBJ_HASH, OBJ_SET, OBJ_LIST, OBJ_ZSET,
	OBJ_UNKNOWN
};

static const char *const type_name[] = {
	"none", "string", "hash", "set", "list", "zset", "unknown"
};

typedef struct bstr {
	char *p;		/* owned; NUL after len bytes */
	size_t len;
} bstr;

/*
 * A value read from (or to be written to) a document.  Strings use str;
 * sets and lists their members in v; hashes field, value, field, value...
 * in v (n counts both).  A sorted set holds its members in v sorted by
 * bytes, as a set does, and the score of v[i] in sc[i]: the order of
 * the document, (score, member), is made when it is needed (zsetOrder).
 */
typedef struct robj {
	int type;
	int64_t exp;		/* expiry, ms since the epoch; 0: none */
	bstr str;
	bstr *v;
	size_t n, cap;
	double *sc;		/* OBJ_ZSET: scores, parallel to v */
	size_t sccap;
} robj;

static void
robjFree(robj *o)
{
	free(o->str.p);
	for (size_t i = 0; i < o->n; i++)
		free(o->v[i].p);
	free(o->v);
	free(o->sc);
	memset(o, 0, sizeof *o);
}

static int
bstrSet(bstr *s, const char *p, size_t len)
{
	char *q = nedb__malloc(len + 1);

	memcpy(q, p, len);
	q[len] = 0;
	free(s->p);
	s->p = q;
	s->len = len;
	return 0;
}

/* Makes room for one more entry in o->v. */
static int
robjReserve(robj *o)
{
	if (o->n == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 8;
		bstr *v = nedb__realloc(o->v, cap * sizeof *v);

		o->v = v;
		o->cap = cap;
	}
	return 0;
}

/* Inserts a copy of p at position at of o->v. */
static int
robjInsert(robj *o, size_t at, const char *p, size_t len)
{
	bstr s = {0};

	if (robjReserve(o) || bstrSet(&s, p, len))
		return -1;
	memmove(o->v + at + 1, o->v + at, (o->n - at) * sizeof *o->v);
	o->v[at] = s;
	o->n++;
	return 0;
}

static void
robjRemove(robj *o, size_t at, size_t count)
{
	for (size_t i = at; i < at + count; i++)
		free(o->v[i].p);
	memmove(o->v + at, o->v + at + count,
		(o->n - at - count) * sizeof *o->v);
	o->n -= count;
}

/* Byte order of members: memcmp, then the shorter first. */
static int
bstrCmp(const char *a, size_t an, const char *b, size_t bn)
{
	int d = memcmp(a, b, an < bn ? an : bn);

	return d ? d : (an > bn) - (an < bn);
}

static int
bstrQsortCmp(const void *x, const void *y)
{
	const bstr *a = x, *b = y;

	return bstrCmp(a->p, a->len, b->p, b->len);
}

/* Position of member p in the sorted o->v; *found says if it is there. */
static size_t
setFind(const robj *o, const char *p, size_t len, bool *found)
{
	size_t lo = 0, hi = o->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = bstrCmp(o->v[mid].p, o->v[mid].len, p, len);

		if (d == 0) {
			*found = true;
			return mid;
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Index of field p in the hash o (of its field entry), or -1. */
static long
hashFind(const robj *o, const char *p, size_t len)
{
	for (size_t i = 0; i < o->n; i += 2)
		if (o->v[i].len == len && !memcmp(o->v[i].p, p, len))
			return (long)i;
	return -1;
}

/* ---- sorted sets in memory ------------------------------------------------ */

/* One member of a sorted set seen in score order: v[i] of o, score s. */
typedef struct zent {
	const bstr *m;
	double s;
	size_t i;
} zent;

/* Redis's order of a sorted set: score, then member bytes. */
static int
zentCmp(const void *x, const void *y)
{
	const zent *a = x, *b = y;

	if (a->s < b->s)
		return -1;
	if (a->s > b->s)
		return 1;
	return bstrCmp(a->m->p, a->m->len, b->m->p, b->m->len);
}

/* The members of the sorted set o in (score, member) order; caller frees. */
static zent *
zsetOrder(const robj *o)
{
	zent *z = nedb__malloc((o->n ? o->n : 1) * sizeof *z);

	for (size_t i = 0; i < o->n; i++)
		z[i] = (zent){&o->v[i], o->sc[i], i};
	qsort(z, o->n, sizeof *z, zentCmp);
	return z;
}

/* Whether (s, m) sorts before member i of o: for ranks without a sort. */
static bool
zsetBefore(const robj *o, size_t j, size_t i)
{
	if (o->sc[j] != o->sc[i])
		return o->sc[j] < o->sc[i];
	return bstrCmp(o->v[j].p, o->v[j].len, o->v[i].p, o->v[i].len) < 0;
}

static void
zsetGrowScores(robj *o)
{
	if (o->sccap < o->cap) {
		o->sc = nedb__realloc(o->sc, o->cap * sizeof *o->sc);
		o->sccap = o->cap;
	}
}

/* Inserts member p with score at position at of the member order. */
static int
zsetInsert(robj *o, size_t at, const char *p, size_t len, double score)
{
	if (robjInsert(o, at, p, len))
		return -1;
	zsetGrowScores(o);
	memmove(o->sc + at + 1, o->sc + at, (o->n - 1 - at) * sizeof *o->sc);
	o->sc[at] = score;
	return 0;
}

static void
zsetRemove(robj *o, size_t at)
{
	robjRemove(o, at, 1);
	memmove(o->sc + at, o->sc + at + 1, (o->n - at) * sizeof *o->sc);
}

/* ---- base64 (RFC 4648) ---------------------------------------------------
 * Written out rather than taken from OpenSSL: libcrypto would cost every
 * nedb-redis start a millisecond for twenty lines of code. */

static const char b64chars[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64Encode(nedb_buf *b, const unsigned char *p, size_t n)
{
	char *o;

	if (nedb_buf_grow(b, (n + 2) / 3 * 4 + 1))
		return -1;
	o = b->p + b->len;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16;

		if (i + 1 < n)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		*o++ = b64chars[v >> 18 & 63];
		*o++ = b64chars[v >> 12 & 63];
		*o++ = i + 1 < n ? b64chars[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? b64chars[v & 63] : '=';
	}
	*o = 0;
	b->len = (size_t)(o - b->p);
	return 0;
}

static int
b64Val(unsigned char c)
{
	const char *q = c ? strchr(b64chars, c) : NULL;

	return q ? (int)(q - b64chars) : -1;
}

/* Decodes padded base64 in place; false when it is not base64. */
static bool
b64Decode(bstr *s)
{
	unsigned char *p = (unsigned char *)s->p;
	size_t n = s->len, o = 0;

	if (n % 4)
		return false;
	for (size_t i = 0; i < n; i += 4) {
		int a = b64Val(p[i]), b = b64Val(p[i + 1]);
		int c = p[i + 2] == '=' ? 0 : b64Val(p[i + 2]);
		int d = p[i + 3] == '=' ? 0 : b64Val(p[i + 3]);
		int pad = (p[i + 2] == '=') + (p[i + 3] == '=');

		if (a < 0 || b < 0 || c < 0 || d < 0 ||
		    (pad && i + 4 != n) ||
		    (p[i + 2] == '=' && p[i + 3] != '='))
			return false;
		unsigned v = (unsigned)a << 18 | (unsigned)b << 12 |
			     (unsigned)c << 6 | (unsigned)d;
		p[o++] = (unsigned char)(v >> 16);
		if (pad < 2)
			p[o++] = (unsigned char)(v >> 8);
		if (pad < 1)
			p[o++] = (unsigned char)v;
	}
	p[o] = 0;
	s->len = o;
	return true;
}

/* ---- documents ------------------------------------------------------------ */

/* End of the JSON value at p (text nedb has validated; may be compact). */
static const char *
jsonEnd(const char *p, const char *e)
{
	int depth = 0;

	while (p < e) {
		switch (*p) {
		case '"':
			for (p++; p < e && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p++;
			break;
		case '{':
		case '[':
			depth++;
			p++;
			continue;
		case '}':
		case ']':
			if (!depth)
				return p;	/* ends the enclosing value */
			depth--;
			p++;
			break;
		case ' ': case '\t': case '\n': case '\r': case ',': case ':':
			if (!depth)
				return p;
			p++;
			continue;
		default:
			p++;
			continue;
		}
		if (!depth)
			return p;
	}
	return p;
}

static const char *
skipWs(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/*
 * Decodes the JSON string literal [p, q) (base64 inside when b64) into
 * *out.  Returns 0, 1 when it is not a string of the mapping, -1 when
 * memory ran out.
 */
static int
decodeStr(const char *p, const char *q, bool b64, bstr *out)
{
	struct nql_span sp = {p, (size_t)(q - p)};
	size_t n;
	char *s;

	if (q - p < 2 || *p != '"')
		return 1;
	if (!(s = nedb__string_value(sp, &n)))
		return -1;
	free(out->p);
	out->p = s;
	out->len = n;
	return b64 && !b64Decode(out) ? 1 : 0;
}

/*
 * Reads the members of the JSON array or object v (the value of "value"
 * or "b64") into o->v: every element, or every key and value, must be a
 * string.  Returns 0, 1 when the shape is wrong, -1 when memory ran out.
 */
static int
decodeAggregate(const char *v, size_t vlen, bool object, bool b64, robj *o)
{
	const char *p = v, *e = v + vlen;
	char open = object ? '{' : '[', close = object ? '}' : ']';

	p = skipWs(p, e);
	if (p == e || *p++ != open)
		return 1;
	for (;;) {
		p = skipWs(p, e);
		if (p < e && *p == close && o->n == 0)
			return 0;
		for (int part = 0; part < (object ? 2 : 1); part++) {
			const char *q;
			bstr s = {0};
			int rc;

			p = skipWs(p, e);
			q = jsonEnd(p, e);
			if ((rc = decodeStr(p, q, b64, &s))) {
				free(s.p);
				return rc;
			}
			if (robjReserve(o)) {
				free(s.p);
				return -1;
			}
			o->v[o->n++] = s;
			p = skipWs(q, e);
			if (object && part == 0) {
				if (p == e || *p++ != ':')
					return 1;
			}
		}
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		return p < e && *p == close ? 0 : 1;
	}
}

/*
 * A score as a document holds it: a JSON number, or the string "inf" or
 * "-inf" (JSON has no infinities).  False for anything else.
 */
bool
nedb__score_parse(const char *p, const char *q, double *d)
{
	size_t n = (size_t)(q - p);
	char buf[64], *s = buf, *end;

	if (n == 5 && !memcmp(p, "\"inf\"", 5)) {
		*d = HUGE_VAL;
		return true;
	}
	if (n == 6 && !memcmp(p, "\"-inf\"", 6)) {
		*d = -HUGE_VAL;
		return true;
	}
	if (n == 0 || nedb__number_len(p, n) != n)
		return false;
	if (n >= sizeof buf)
		s = nedb__memdup(p, n);
	else {
		memcpy(buf, p, n);
		buf[n] = 0;
	}
	*d = strtod(s, &end);
	if (s != buf)
		free(s);
	if (*d == 0)
		*d = 0;		/* -0 written by hand: 0, as ZADD keeps it */
	return !isnan(*d);
}

/* The text of score d in a document (see nedb__score_parse): the shortest of
 * %.15g, %.16g and %.17g that reads back as d. */
static int
scoreJson(nedb_buf *b, double d)
{
	return nedb__score_json(b, d);
}

static int
zentMemberCmp(const void *x, const void *y)
{
	const zent *a = x, *b = y;

	return bstrCmp(a->m->p, a->m->len, b->m->p, b->m->len);
}

/* One ["member",score] at *p, moved past it: 0, 1 (a bad shape), -1. */
static int
decodePair(const char **pp, const char *e, bool b64, bstr *m, double *d)
{
	const char *p = skipWs(*pp, e), *q;
	int rc;

	if (p == e || *p++ != '[')
		return 1;
	p = skipWs(p, e);
	q = jsonEnd(p, e);
	if ((rc = decodeStr(p, q, b64, m)))
		return rc;
	p = skipWs(q, e);
	if (p == e || *p++ != ',')
		return 1;
	p = skipWs(p, e);
	q = jsonEnd(p, e);
	if (!nedb__score_parse(p, q, d))
		return 1;
	p = skipWs(q, e);
	if (p == e || *p++ != ']')
		return 1;
	*pp = p;
	return 0;
}

/*
 * Reads the pairs of a sorted set, [["member",score],...], into o: the
 * members sorted by bytes, their scores beside them.  Returns 0, 1 when
 * the shape is wrong (a member twice included), -1 when memory ran out.
 */
static int
decodeZset(const char *v, size_t vlen, bool b64, robj *o)
{
	const char *p = skipWs(v, v + vlen), *e = v + vlen;
	robj u = {.type = OBJ_ZSET};
	zent *z;
	int rc = 1;

	if (p == e || *p++ != '[')
		return 1;
	if ((p = skipWs(p, e)) < e && *p == ']')
		return 0;
	for (;;) {
		bstr m = {0};
		double d;

		if ((rc = decodePair(&p, e, b64, &m, &d))) {
			free(m.p);
			goto done;
		}
		robjReserve(&u);
		u.v[u.n++] = m;
		zsetGrowScores(&u);
		u.sc[u.n - 1] = d;
		p = skipWs(p, e);
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		if (p == e || *p != ']')
			goto done;
		break;
	}
	/* into member order, refusing repeats */
	z = nedb__malloc(u.n * sizeof *z);
	for (size_t i = 0; i < u.n; i++)
		z[i] = (zent){&u.v[i], u.sc[i], i};
	qsort(z, u.n, sizeof *z, zentMemberCmp);
	rc = 0;
	for (size_t i = 0; i < u.n && !rc; i++) {
		if (i && !zentMemberCmp(&z[i - 1], &z[i]))
			rc = 1;
		else if (zsetInsert(o, o->n, z[i].m->p, z[i].m->len, z[i].s))
			rc = -1;
	}
	free(z);
done:
	robjFree(&u);
	return rc;
}

/* ---- where keys live, and their documents -----------------------------
 * A key is a document of the connection's collection ("redis" unless it
 * says otherwise) whose id is the key, in the shape of the type mapping
 * above (CODEC_REDIS), unless a registration of the connection's map
 * claims it: then it is a document of the registration's collection,
 * its id the key or the key's suffix, in the registration's shape:
 *
 *   string  {"_id":ID,"value":"V"}   (or "b64")
 *   hash    {"_id":ID,"F":"V",...}   (fields in insertion order; every
 *                                     field and value UTF-8, no "_id")
 *   json    the string value, a JSON object, with "_id" set to ID
 *
 * A value a registration's shape cannot hold (a list where a hash is
 * registered, a string that is not a JSON object) is refused with an
 * error reply, and nothing is written.  Only the json shape needs libjq
 * (to validate the object): nedb-redis and nedbd, which have no map,
 * never load it (invariant 3). */

enum { CODEC_REDIS, CODEC_STRING, CODEC_HASH, CODEC_JSON };
static const char *const codec_name[] = {"redis", "string", "hash", "json"};

struct maprule {
	char *pattern;
	size_t patlen;
	size_t prefix;		/* bytes of the pattern before a wildcard */
	char coll[MAX_COLL + 1];
	int codec;
	bool whole_key;		/* "id":"key" */
	unsigned db;
};

struct nedb_redis_map {
	struct maprule *r;
	size_t n;
};

struct place {
	const char *coll;
	const char *id;		/* NUL-ended: the key or a suffix of it */
	int codec;
};

static bool globMatch(const char *p, size_t pn, const char *s, size_t sn);

static void
route(const nedb_redis_conn *conn, const char *key, size_t keylen,
      struct place *pl)
{
	const nedb_redis_map *m = conn->map;

	pl->coll = conn->coll ? conn->coll : REDIS_COLL;
	pl->id = key;
	pl->codec = CODEC_REDIS;
	for (size_t i = 0; m && i < m->n; i++) {
		const struct maprule *r = &m->r[i];

		if (r->db != conn->dbnum ||
		    !globMatch(r->pattern, r->patlen, key, keylen))
			continue;
		pl->coll = r->coll;
		pl->codec = r->codec;
		pl->id = r->whole_key ? key : key + r->prefix;
		return;
	}
}

/*
 * Whether doc (len bytes, NUL-ended) is exactly what buildDoc makes of a
 * UTF-8 string, {"_id":ID,"type":"string","value":V}: then *v, *vlen
 * are V, as the walk of parseObject would find them, without the walk
 * (most of a GET's cost when it was done).
 */
static bool
plainString(const char *doc, size_t len, const char **v, size_t *vlen)
{
	static const char mid[] = ",\"type\":\"string\",\"value\":";
	const char *p, *e = doc + len;

	if (len < 7 + 2 + sizeof mid - 1 + 2 + 1 ||
	    memcmp(doc, "{\"_id\":\"", 8) || e[-1] != '}')
		return false;
	p = nedb__value_end(doc + 7);
	if (p > e - (sizeof mid - 1 + 3) || memcmp(p, mid, sizeof mid - 1))
		return false;
	p += sizeof mid - 1;
	if (*p != '"' || nedb__value_end(p) != e - 1)
		return false;
	*v = p;
	*vlen = (size_t)(e - 1 - p);
	return true;
}

/*
 * Takes the document of a key apart into o (whose exp the caller sets),
 * as codec shapes it.  A shape outside the mapping is OBJ_UNKNOWN.
 * Returns 0, or -1 when memory ran out.
 */
static int
parseObject(int codec, const char *doc, size_t len, robj *o)
{
	static const struct { const char *lit; int type; } types[] = {
		{"\"string\"", OBJ_STRING}, {"\"hash\"", OBJ_HASH},
		{"\"set\"", OBJ_SET}, {"\"list\"", OBJ_LIST},
		{"\"zset\"", OBJ_ZSET},
	};
	static const char *const keys[] = {"type", "value", "b64"};
	const char *m[3], *t, *v;
	size_t mlen[3], tlen, vlen;
	bool b64 = false;
	int type = OBJ_UNKNOWN, rc;

	o->type = OBJ_UNKNOWN;
	if (codec == CODEC_JSON) {
		nedb_buf b = {0};

		/* the string is the object without its "_id" */
		if (nedb_buf_add(&b, doc, len) ||
		    nedb__doc_set(&b, "_id", NULL, 0, false) ||
		    bstrSet(&o->str, b.p, b.len)) {
			nedb_buf_free(&b);
			return -1;
		}
		nedb_buf_free(&b);
		o->type = OBJ_STRING;
		return 0;
	}
	if (codec == CODEC_HASH) {
		const char *p = skipWs(doc, doc + len), *e = doc + len;

		/* every member but "_id" is a field holding a string */
		if (p == e || *p++ != '{')
			return 0;
		for (;;) {
			const char *q;
			bstr f = {0}, val = {0};

			p = skipWs(p, e);
			if (p < e && *p == '}')
				break;
			q = jsonEnd(p, e);
			rc = decodeStr(p, q, false, &f);
			p = skipWs(q, e);
			if (!rc && (p == e || *p++ != ':'))
				rc = 1;
			p = skipWs(p, e);
			q = jsonEnd(p, e);
			if (!rc && !(f.len == 3 && !memcmp(f.p, "_id", 3))) {
				if (!(rc = decodeStr(p, q, false, &val)) &&
				    (robjReserve(o) || robjReserve(o) ||
				     (o->v[o->n++] = f, f.p = NULL,
				      o->v[o->n++] = val, val.p = NULL, 0)))
					rc = -1;
			}
			free(f.p);
			free(val.p);
			if (rc) {
				int64_t exp = o->exp;

				robjFree(o);
				o->exp = exp;
				o->type = OBJ_UNKNOWN;
				return rc < 0 ? -1 : 0;
			}
			p = skipWs(q, e);
			if (p < e && *p == ',')
				p++;
		}
		o->type = OBJ_HASH;
		return 0;
	}
	if (codec == CODEC_REDIS && plainString(doc, len, &v, &vlen)) {
		type = OBJ_STRING;	/* what the walk below finds */
		goto decode;
	}
	nedb__doc_members(doc, keys, 3, m, mlen);	/* one walk */
	if (codec == CODEC_STRING)
		type = OBJ_STRING;
	else if ((t = m[0])) {
		tlen = mlen[0];
		for (size_t i = 0; i < sizeof types / sizeof *types; i++)
			if (tlen == strlen(types[i].lit) &&
			    !memcmp(t, types[i].lit, tlen))
				type = types[i].type;
	}
	if (type == OBJ_UNKNOWN)
		return 0;
	if ((v = m[1])) {
		vlen = mlen[1];
	} else if ((v = m[2])) {
		vlen = mlen[2];
		b64 = true;
	} else
		return 0;
decode:
	if (type == OBJ_STRING)
		rc = decodeStr(v, v + vlen, b64, &o->str);
	else if (type == OBJ_ZSET)
		rc = decodeZset(v, vlen, b64, o);
	else
		rc = decodeAggregate(v, vlen, type == OBJ_HASH, b64, o);
	if (rc == 0 && type == OBJ_SET && o->n > 1) {
		/* written by hand, perhaps: sort and drop repeats */
		size_t k = 1;

		qsort(o->v, o->n, sizeof *o->v, bstrQsortCmp);
		for (size_t i = 1; i < o->n; i++) {
			if (!bstrCmp(o->v[i].p, o->v[i].len, o->v[k - 1].p,
				     o->v[k - 1].len))
				free(o->v[i].p);
			else
				o->v[k++] = o->v[i];
		}
		o->n = k;
	}
	if (rc) {
		int64_t exp = o->exp;

		robjFree(o);
		o->exp = exp;
		o->type = OBJ_UNKNOWN;
		return rc < 0 ? -1 : 0;
	}
	o->type = type;
	return 0;
}

static bool
utf8(const bstr *s)
{
	return nedb__utf8_valid((const unsigned char *)s->p, s->len);
}

static int
putStr(nedb_buf *b, const bstr *s, bool b64)
{
	if (!b64)
		return nedb_buf_json_str(b, s->p, s->len);
	return nedb_buf_add(b, "\"", 1) ||
	       b64Encode(b, (const unsigned char *)s->p, s->len) ||
	       nedb_buf_add(b, "\"", 1) ? -1 : 0;
}

/*
 * The compact text of the document of the key at pl holding o, as
 * nedb__doc_normalize would leave it (so that it may be staged as a
 * prepared put).  Returns 0, -1 when memory ran out, or 1 when pl's
 * registration cannot hold o (why, in why).
 */
static int
buildDoc(nedb_buf *b, const struct place *pl, const robj *o,
	 const char **why)
{
	bool b64 = false;
	int rc = 0;

	b->len = 0;
	if (pl->codec != CODEC_REDIS) {
		bool str = pl->codec != CODEC_HASH;

		if (o->type != (str ? OBJ_STRING : OBJ_HASH)) {
			*why = "a value of another type";
			return 1;
		}
	}
	if (pl->codec == CODEC_JSON) {
		nedb_buf id = {0};

		if (memchr(o->str.p, 0, o->str.len) ||
		    nedb_json_object(b, o->str.p, o->str.len)) {
			*why = "a string that is not a JSON object";
			return 1;
		}
		rc = nedb_buf_json_str(&id, pl->id, strlen(pl->id)) ||
		     nedb__doc_set(b, "_id", id.p, id.len, true);
		nedb_buf_free(&id);
		return rc ? -1 : 0;
	}
	if (o->type == OBJ_STRING)
		b64 = !utf8(&o->str);
	for (size_t i = 0; i < o->n && !b64; i++)
		b64 = !utf8(&o->v[i]);
	rc |= nedb_buf_puts(b, "{\"_id\":");
	rc |= nedb_buf_json_str(b, pl->id, strlen(pl->id));
	if (pl->codec == CODEC_HASH) {
		if (b64) {
			*why = "bytes that are not UTF-8";
			return 1;
		}
		for (size_t i = 0; i < o->n; i += 2) {
			if (o->v[i].len == 3 && !memcmp(o->v[i].p, "_id", 3)) {
				*why = "a field named _id";
				return 1;
			}
			rc |= nedb_buf_add(b, ",", 1);
			rc |= putStr(b, &o->v[i], false);
			rc |= nedb_buf_add(b, ":", 1);
			rc |= putStr(b, &o->v[i + 1], false);
		}
		rc |= nedb_buf_add(b, "}", 1);
		return rc ? -1 : 0;
	}
	/* appended piece by piece: printf's cost is most of a small SET's */
	if (pl->codec != CODEC_STRING) {
		rc |= nedb_buf_add(b, ",\"type\":\"", 9);
		rc |= nedb_buf_puts(b, type_name[o->type]);
		rc |= nedb_buf_add(b, "\"", 1);
	}
	rc |= b64 ? nedb_buf_add(b, ",\"b64\":", 7) :
		    nedb_buf_add(b, ",\"value\":", 9);
	switch (o->type) {
	case OBJ_STRING:
		rc |= putStr(b, &o->str, b64);
		break;
	case OBJ_HASH:
		rc |= nedb_buf_add(b, "{", 1);
		for (size_t i = 0; i < o->n; i += 2) {
			if (i)
				rc |= nedb_buf_add(b, ",", 1);
			rc |= putStr(b, &o->v[i], b64);
			rc |= nedb_buf_add(b, ":", 1);
			rc |= putStr(b, &o->v[i + 1], b64);
		}
		rc |= nedb_buf_add(b, "}", 1);
		break;
	case OBJ_ZSET: {
		zent *z = zsetOrder(o);

		rc |= nedb_buf_add(b, "[", 1);
		for (size_t i = 0; i < o->n; i++) {
			rc |= nedb_buf_add(b, i ? ",[" : "[", i ? 2 : 1);
			rc |= putStr(b, z[i].m, b64);
			rc |= nedb_buf_add(b, ",", 1);
			rc |= scoreJson(b, z[i].s);
			rc |= nedb_buf_add(b, "]", 1);
		}
		rc |= nedb_buf_add(b, "]", 1);
		free(z);
		break;
	}
	default:
		rc |= nedb_buf_add(b, "[", 1);
		for (size_t i = 0; i < o->n; i++) {
			if (i)
				rc |= nedb_buf_add(b, ",", 1);
			rc |= putStr(b, &o->v[i], b64);
		}
		rc |= nedb_buf_add(b, "]", 1);
	}
	rc |= nedb_buf_add(b, "}", 1);
	return rc ? -1 : 0;
}

/* ---- the client of one command ------------------------------------------ */

typedef struct client client;

struct redisCommand {
	const char *name;	/* lowercase */
	void (*proc)(client *c);
	int arity;		/* N: exactly N args; -N: at least N */
	unsigned flags;		/* NEDB_REDIS_* */
	int firstkey, lastkey, keystep;	/* key positions; lastkey < 0
					 * counts from the end */
};

struct client {
	nedb_redis_conn *conn;
	nedb *db;
	int argc;
	const char *const *argv;
	const size_t *argvlen;
	nedb_buf *out;
	const struct redisCommand *cmd;
	nedb_wopts w;
	int err;		/* a database error: NEDB_E* */
	bool oom;
	bool blocked;		/* a blocking command waits (no reply) */
	int64_t exp_at;		/* SET EXAT/PXAT's time, for dbPutAt */
	int resp;		/* 3: RESP3 replies (HELLO 3); else RESP2 */
	nedb *from;		/* dbFetchAt reads this database, not db's */
	char errmsg[256];
};

/* ---- replies (RESP2) ---------------------------------------------------- */

static void
addReplyRaw(client *c, const char *p, size_t n)
{
	if (nedb_buf_add(c->out, p, n))
		c->oom = true;
}

static void
addReplyStatus(client *c, const char *s)
{
	addReplyRaw(c, "+", 1);
	addReplyRaw(c, s, strlen(s));
	addReplyRaw(c, "\r\n", 2);
}

static void
addReplyOK(client *c)
{
	addReplyRaw(c, "+OK\r\n", 5);
}

/* An error line; CR and LF in it (from arguments) become spaces. */
static void
addReplyErrorLen(client *c, const char *s, size_t n)
{
	size_t at = c->out->len + 1;

	addReplyRaw(c, "-", 1);
	addReplyRaw(c, s, n);
	if (!c->oom)
		for (size_t i = at; i < c->out->len; i++)
			if (c->out->p[i] == '\r' || c->out->p[i] == '\n')
				c->out->p[i] = ' ';
	addReplyRaw(c, "\r\n", 2);
}

static void
addReplyError(client *c, const char *s)
{
	addReplyErrorLen(c, s, strlen(s));
}

__attribute__((format(printf, 2, 3)))
static void
addReplyErrorFormat(client *c, const char *fmt, ...)
{
	nedb_buf b = {0};
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || nedb_buf_grow(&b, (size_t)n + 1)) {
		c->oom = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(b.p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	addReplyErrorLen(c, b.p, (size_t)n);
	nedb_buf_free(&b);
}

/* Appends "<kind><v>\r\n" (a reply's header) without printf's cost. */
static int
bufHeader(nedb_buf *b, char kind, long long v)
{
	char tmp[24], *e = tmp + sizeof tmp, *p = e;
	unsigned long long u = v < 0 ? 0ull - (unsigned long long)v :
				       (unsigned long long)v;

	*--p = '\n';
	*--p = '\r';
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	*--p = kind;
	return nedb_buf_add(b, p, (size_t)(e - p));
}

static void
addReplyLongLong(client *c, long long v)
{
	if (bufHeader(c->out, ':', v))
		c->oom = true;
}

static void
addReplyArrayLen(client *c, long long n)
{
	if (bufHeader(c->out, '*', n))
		c->oom = true;
}

static void
addReplyBulk(client *c, const char *p, size_t n)
{
	if (bufHeader(c->out, '$', (long long)n))
		c->oom = true;
	addReplyRaw(c, p, n);
	addReplyRaw(c, "\r\n", 2);
}

static void
addReplyBulkStr(client *c, const char *s)
{
	addReplyBulk(c, s, strlen(s));
}

/* RESP3's null for both; RESP2 has a null string and a null array */
static void
addReplyNull(client *c)
{
	if (c->resp == 3)
		addReplyRaw(c, "_\r\n", 3);
	else
		addReplyRaw(c, "$-1\r\n", 5);
}

static void
addReplyNullArray(client *c)
{
	if (c->resp == 3)
		addReplyRaw(c, "_\r\n", 3);
	else
		addReplyRaw(c, "*-1\r\n", 5);
}

/* A map of n pairs (RESP2: an array of 2n), a set of n members (RESP2:
 * an array), as Redis's addReplyMapLen and addReplySetLen. */
static void
addReplyMapLen(client *c, long long n)
{
	if (bufHeader(c->out, c->resp == 3 ? '%' : '*',
		      c->resp == 3 ? n : 2 * n))
		c->oom = true;
}

static void
addReplySetLen(client *c, long long n)
{
	if (bufHeader(c->out, c->resp == 3 ? '~' : '*', n))
		c->oom = true;
}

/*
 * n (member, score) or (field, value) pairs: flat in RESP2 (2n), and in
 * RESP3 n arrays of two, each begun by addReplyPair (bufPair into a
 * buffer), as Redis replies WITHSCORES and WITHVALUES.
 */
static void
addReplyPairsLen(client *c, long long n)
{
	addReplyArrayLen(c, c->resp == 3 ? n : 2 * n);
}

static int
bufPair(nedb_buf *b, int resp)
{
	return resp == 3 ? nedb_buf_add(b, "*2\r\n", 4) : 0;
}

static void
addReplyPair(client *c)
{
	if (bufPair(c->out, c->resp))
		c->oom = true;
}

/* a null in a buffer of replies */
static int
bufNull(nedb_buf *b, int resp)
{
	return resp == 3 ? nedb_buf_add(b, "_\r\n", 3) :
			   nedb_buf_add(b, "$-1\r\n", 5);
}

/* Text for a person (INFO, CLIENT LIST): RESP3's verbatim "txt". */
static void
addReplyVerbatim(client *c, const char *p, size_t n)
{
	if (c->resp != 3) {
		addReplyBulk(c, p, n);
		return;
	}
	if (bufHeader(c->out, '=', (long long)n + 4))
		c->oom = true;
	addReplyRaw(c, "txt:", 4);
	addReplyRaw(c, p, n);
	addReplyRaw(c, "\r\n", 2);
}

static void
addReplyWrongType(client *c)
{
	addReplyError(c, "WRONGTYPE Operation against a key holding the "
		      "wrong kind of value");
}

static void
addReplySyntaxError(client *c)
{
	addReplyError(c, "ERR syntax error");
}

static void
addReplyArity(client *c)
{
	addReplyErrorFormat(c, "ERR wrong number of arguments for '%s' command",
			    c->cmd->name);
}

/* Appends a list of bulk strings already formatted in b, n of them. */
static void
addReplyArrayBuf(client *c, size_t n, const nedb_buf *b)
{
	addReplyArrayLen(c, (long long)n);
	if (b->len)
		addReplyRaw(c, b->p, b->len);
}

static int
bufBulk(nedb_buf *b, const char *p, size_t n)
{
	return bufHeader(b, '$', (long long)n) || nedb_buf_add(b, p, n) ||
	       nedb_buf_add(b, "\r\n", 2) ? -1 : 0;
}

/* A score as Redis 7.0 replies it, into buf: "%.17g", or inf and -inf;
 * returns its length. */
static size_t
scoreText(char buf[40], double d)
{
	if (isinf(d))
		return (size_t)snprintf(buf, 40, "%s", d > 0 ? "inf" : "-inf");
	return (size_t)snprintf(buf, 40, "%.17g", d);
}

/* A score: a bulk string in RESP2, a double in RESP3 (resp 3). */
static int
bufDouble(nedb_buf *b, double d, int resp)
{
	char buf[40];
	size_t n = scoreText(buf, d);

	if (resp == 3)
		return nedb_buf_add(b, ",", 1) || nedb_buf_add(b, buf, n) ||
		       nedb_buf_add(b, "\r\n", 2) ? -1 : 0;
	return bufBulk(b, buf, n);
}

/*
 * Redis's range of ranks (or indexes) start..end over len members,
 * negatives counted from the end, clamped to the members: true when it
 * holds any, [*start, *end] then within [0, len).
 */
static bool
rankRange(long long *start, long long *end, long long len)
{
	if (*start < 0)
		*start += len;
	if (*end < 0)
		*end += len;
	if (*start < 0)
		*start = 0;
	if (*end >= len)
		*end = len - 1;
	return *start <= *end && *start < len;
}

/* ---- errors -------------------------------------------------------------- */

/* Records a database error: the reply becomes "-ERR <message>". */
static int
dbFail(client *c, int rc)
{
	if (!c->err) {
		c->err = rc;
		snprintf(c->errmsg, sizeof c->errmsg, "%s", nedb_errmsg());
	}
	return -1;
}

static int
oom(client *c)
{
	c->oom = true;
	return -1;
}

/*
 * A failed library call: bad input (too large, a bad name) is the
 * client's error and answered as such; anything else is the database's.
 */
static int
failed(client *c, int rc)
{
	if (rc == NEDB_EINPUT || rc == NEDB_EUSAGE) {
		addReplyErrorFormat(c, "ERR %s", nedb_errmsg());
		return -1;
	}
	return dbFail(c, rc);
}

/* ---- arguments ------------------------------------------------------------ */

static bool
argIs(const client *c, int i, const char *s)
{
	return c->argvlen[i] == strlen(s) && !strcasecmp(c->argv[i], s);
}

/*
 * Redis's string2ll: a decimal int64 with an optional '-', no leading
 * zeros, no spaces, no '+'.  Returns false for anything else.
 */
static bool
string2ll(const char *s, size_t n, long long *out)
{
	unsigned long long v = 0;
	bool neg = false;
	size_t i = 0;

	if (n == 0 || n > 20)
		return false;
	if (n == 1 && s[0] == '0') {
		*out = 0;
		return true;
	}
	if (s[0] == '-') {
		neg = true;
		if (++i == n)
			return false;
	}
	if (s[i] < '1' || s[i] > '9')
		return false;
	for (; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');

		if (s[i] < '0' || s[i] > '9' || v > (ULLONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (neg) {
		if (v > (unsigned long long)LLONG_MAX + 1)
			return false;
		*out = v == (unsigned long long)LLONG_MAX + 1 ? LLONG_MIN :
		       -(long long)v;
	} else {
		if (v > LLONG_MAX)
			return false;
		*out = (long long)v;
	}
	return true;
}

/* Argument i as an integer, or an error reply (msg, or Redis's usual). */
static int
getLongLong(client *c, int i, long long *v, const char *msg)
{
	if (string2ll(c->argv[i], c->argvlen[i], v))
		return 0;
	addReplyError(c, msg ? msg : "ERR value is not an integer or out of "
		      "range");
	return -1;
}

/* ---- blocking ------------------------------------------------------------- *
 *
 * A blocking command that finds nothing to pop waits when the caller
 * can park it (nedb_redis_conn's can_block), and is run again with
 * conn->serve_key set when a write may have made a key of its ready:
 * it then looks at that key alone, and a key of another type than it
 * pops is passed over rather than WRONGTYPE (Redis 7.0's blocked.c
 * serves a ready key to the clients blocked on it, in the order they
 * blocked, and only to those that pop its type).
 */

static bool string2ld(const char *s, size_t n, long double *out);

/*
 * The timeout of a blocking command, argument j, as Redis 7.0 takes it
 * (getTimeoutFromObjectOrReply): seconds as a float, rounded up to whole
 * milliseconds (0: none).  An error reply and -1 when it is not one.
 */
static int
getBlockTimeout(client *c, int j, long long *ms)
{
	long double v;
	long long t;

	if (!string2ld(c->argv[j], c->argvlen[j], &v)) {
		addReplyError(c, "ERR timeout is not a float or out of range");
		return -1;
	}
	v = ceill(v * 1000.0L);
	/* past a long long, x86 makes it LLONG_MIN, so Redis says negative */
	t = v >= 0x1p63L || v < -0x1p63L ? LLONG_MIN : (long long)v;
	if (t < 0) {
		addReplyError(c, "ERR timeout is negative");
		return -1;
	}
	*ms = t;
	return 0;
}

/* Whether argument j is a key to pass over: the command is served one
 * ready key, and j is another. */
static bool
notServed(const client *c, int j)
{
	const nedb_redis_conn *n = c->conn;

	return n->serve_key && (c->argvlen[j] != n->serve_keylen ||
				memcmp(c->argv[j], n->serve_key,
				       n->serve_keylen));
}

/*
 * Nothing to pop from keys [first, first + nkeys): true when the command
 * waits for them ms (0: forever), without a reply; false when it may
 * not (the caller then answers as on a timeout).
 */
static bool
blockFor(client *c, int first, int nkeys, long long ms)
{
	nedb_redis_conn *n = c->conn;

	if (!n->can_block)
		return false;
	c->blocked = true;
	if (!n->serve_key) {
		n->block_first = first;
		n->block_keys = nkeys;
		n->block_ms = ms;
	}
	return true;
}

/* ---- the database ---------------------------------------------------------- */

/* A time to live that keeps the key's current expiry (storeKey). */
#define TTL_KEEP (-1)

/* Milliseconds of o's expiry left, for another key; 0: none. */
static int64_t
ttlLeft(const robj *o)
{
	int64_t left;

	if (!o->exp)
		return 0;
	left = o->exp - nedb_now_ms();
	return left > 0 ? left : 1;
}

/*
 * The head document at pl, expired or not, copied out as nedb_get
 * copies it: a replica's read (its source says when a key is gone).
 */
static int
headAny(client *c, const struct place *pl, nedb_doc *d)
{
	nedb *db = c->db;
	struct dochdr h;
	const char *doc;
	size_t len;
	int rc;

	if ((rc = nedb__doc_head(&db->view, db->wtxn, pl->coll, pl->id,
				 strlen(pl->id), 0, &h, &doc, &len)))
		return rc;
	db->scratch.len = 0;
	if (nedb_buf_add(&db->scratch, doc, len))
		return NEDB_EIO;
	d->doc = db->scratch.p;
	d->len = len;
	d->seq = h.seq;
	d->ts = h.ts;
	d->exp = h.exp;
	nedb__hex(d->hash, h.hash, HASH_LEN);
	return 0;
}

/*
 * Reads the head document of the key at pl: 1 when there is one (d
 * filled), 0 when there is none (or it has expired, but for a
 * replica), -1 after an error.
 */
static int
dbFetchAt(client *c, const struct place *pl, nedb_doc *d)
{
	int rc = c->from ? nedb_get(c->from, pl->coll, pl->id, NEDB_HEAD, d) :
		 c->conn->replica && c->db->wtxn ? headAny(c, pl, d) :
		 nedb_get(c->db, pl->coll, pl->id, NEDB_HEAD, d);

	if (rc == NEDB_ENOTFOUND)
		return 0;
	return rc ? failed(c, rc) : 1;
}

static int
dbFetch(client *c, const char *key, nedb_doc *d)
{
	struct place pl;

	route(c->conn, key, strlen(key), &pl);
	return dbFetchAt(c, &pl, d);
}

/* Reads key into o (OBJ_NONE when missing).  0, or -1 after an error. */
static int
lookupKey(client *c, const char *key, robj *o)
{
	struct place pl;
	nedb_doc d;
	int r;

	memset(o, 0, sizeof *o);
	route(c->conn, key, strlen(key), &pl);
	if ((r = dbFetchAt(c, &pl, &d)) <= 0)
		return r;
	o->exp = d.exp;
	return parseObject(pl.codec, d.doc, d.len, o) ? oom(c) : 0;
}

/*
 * Reads key expecting type: 1 when it holds one, 0 when it is missing
 * (o is then an empty value of that type, ready to be filled), -1 after
 * an error reply (WRONGTYPE, or a database error).
 */
static int
lookupTyped(client *c, const char *key, int type, robj *o)
{
	if (lookupKey(c, key, o))
		return -1;
	if (o->type == OBJ_NONE) {
		o->type = type;
		return 0;
	}
	if (o->type != type) {
		robjFree(o);
		addReplyWrongType(c);
		return -1;
	}
	return 1;
}

/*
 * The key at argument j for a pop of type (a blocking one, LMPOP,
 * ZMPOP): 1 when it holds one (o filled, to be freed), 0 when there is
 * none to pop from (or it is passed over: notServed, or of another type
 * while served), -1 after an error reply (WRONGTYPE, a database error).
 */
static int
popSource(client *c, int j, int type, robj *o)
{
	memset(o, 0, sizeof *o);
	if (notServed(c, j))
		return 0;
	if (lookupKey(c, c->argv[j], o))
		return -1;
	if (o->type == type && o->n)
		return 1;
	if (o->type != OBJ_NONE && o->type != type && !c->conn->serve_key) {
		robjFree(o);
		addReplyWrongType(c);
		return -1;
	}
	robjFree(o);
	return 0;
}

/*
 * The document text of the key at pl holding o, checked against the
 * size limit and pl's registration: 0, or -1 after an error reply.
 */
static int
docFor(client *c, const struct place *pl, const char *key, const robj *o,
       nedb_buf *doc)
{
	const char *why = NULL;
	int rc = buildDoc(doc, pl, o, &why);

	if (rc < 0)
		return oom(c);
	if (rc > 0) {
		addReplyErrorFormat(c, "ERR key '%.64s' is registered as %s "
				    "in collection '%s': it cannot hold %s",
				    key, codec_name[pl->codec], pl->coll, why);
		return -1;
	}
	if (doc->len > MAX_DOC) {
		addReplyErrorFormat(c, "ERR value too large: the document of "
				    "key '%.64s' would exceed %u bytes", key,
				    MAX_DOC);
		return -1;
	}
	return 0;
}

/* Stages a put of prepared document text for key at pl (ttl_ms
 * TTL_KEEP: keep the current expiry); says the key may be ready. */
static int
dbPutAt(client *c, const char *key, const struct place *pl, const char *doc,
	size_t len, int64_t ttl_ms)
{
	nedb_put p = {
		.coll = pl->coll, .id = pl->id, .doc = doc, .doclen = len,
		.ttl_ms = ttl_ms == TTL_KEEP ? 0 : ttl_ms,
		.keep_ttl = ttl_ms == TTL_KEEP, .w = c->w, .prepared = 1,
		.exp_at = ttl_ms > 0 ? c->exp_at : 0,
		.patch = 1,	/* a big value's change: the bytes changed */
	};
	int rc = nedb_write_put(c->db, &p, NULL);

	if (rc)
		return failed(c, rc);
	if (c->conn->ready)
		c->conn->ready(c->conn, key, strlen(key));
	return 0;
}

/* The document text for key (routed), checked as docFor checks it. */
static int
docForKey(client *c, const char *key, const robj *o, nedb_buf *doc)
{
	struct place pl;

	route(c->conn, key, strlen(key), &pl);
	return docFor(c, &pl, key, o, doc);
}

/* Stages a put of prepared document text for key (routed). */
static int
dbPut(client *c, const char *key, const char *doc, size_t len,
      int64_t ttl_ms)
{
	struct place pl;

	route(c->conn, key, strlen(key), &pl);
	return dbPutAt(c, key, &pl, doc, len, ttl_ms);
}

/* Stages a delete of key: 1 when it existed, 0 when not, -1 on error. */
static int
dbDelete(client *c, const char *key)
{
	struct place pl;
	int rc;

	route(c->conn, key, strlen(key), &pl);
	rc = nedb_write_delete(c->db, pl.coll, pl.id, &c->w, NULL);
	if (rc == NEDB_ENOTFOUND)
		return 0;
	return rc ? failed(c, rc) : 1;
}

/*
 * Writes o as the value of key with ttl_ms to live (0: forever,
 * TTL_KEEP: as it is); an empty hash, set, list or sorted set deletes
 * the key, as Redis does.
 */
static int
storeKey(client *c, const char *key, const robj *o, int64_t ttl_ms)
{
	nedb_buf doc = {0};
	struct place pl;
	int rc;

	if (o->type != OBJ_STRING && o->n == 0)
		return dbDelete(c, key) < 0 ? -1 : 0;
	route(c->conn, key, strlen(key), &pl);
	if ((rc = docFor(c, &pl, key, o, &doc)) == 0)
		rc = dbPutAt(c, key, &pl, doc.p, doc.len, ttl_ms);
	nedb_buf_free(&doc);
	return rc;
}

static int
dbExpire(client *c, const char *key, int64_t ttl_ms)
{
	struct place pl;
	int rc;

	route(c->conn, key, strlen(key), &pl);
	rc = nedb_write_expire(c->db, pl.coll, pl.id, ttl_ms, &c->w, NULL);
	return rc ? failed(c, rc) : 0;
}

/* ---- values kept as elements (doc/ochange.md §7) ------------------------- */

/*
 * A key whose value the view keeps as elements (a set, list, hash or
 * sorted set of more than ELEM_MIN members): the commands below change
 * or read a few of its members by key and log a Redis operator, where
 * the others take the value whole (lookupKey, storeKey).
 */
struct elx {
	struct place pl;
	MDB_txn *txn;
	unsigned char dk[DOCKEY_MAX];
	size_t dklen;
	struct dochdr h;
	struct elhdr e;
};

static const int el_of[] = {
	[OBJ_HASH] = EL_HASH, [OBJ_SET] = EL_SET, [OBJ_LIST] = EL_LIST,
	[OBJ_ZSET] = EL_ZSET,
};

static void
elemsDone(client *c, struct elx *x)
{
	nedb__txn_done(c->db, x->txn);
}

/*
 * 1 when key holds a value of type that the view keeps as elements (x
 * filled; elemsDone ends its read), 0 when it does not (the command
 * takes the value whole), -1 after an error reply (WRONGTYPE, a
 * database error).  With quiet, elements of another type are 0 too:
 * the whole path answers for them (WRONGTYPE, or a blocked pop's
 * passing over).
 */
static int
elemsKeyAs(client *c, const char *key, int type, struct elx *x, bool quiet)
{
	int rc;

	route(c->conn, key, strlen(key), &x->pl);
	if (x->pl.codec != CODEC_REDIS)
		return 0;
	if ((rc = nedb__txn(c->db, &x->txn)))
		return failed(c, rc);
	/* a replica's source says when a key is gone (headAny) */
	rc = nedb__el_head(&c->db->view, x->txn, x->pl.coll, x->pl.id,
			   strlen(x->pl.id), c->conn->replica && c->db->wtxn ?
			   0 : nedb__now_ms(), &x->h, &x->e);
	if (rc == 0 && x->e.type != el_of[type]) {
		elemsDone(c, x);
		if (quiet)
			return 0;
		addReplyWrongType(c);
		return -1;
	}
	if (rc) {
		elemsDone(c, x);
		return rc < 0 && rc != NEDB_ENOTFOUND ? failed(c, rc) : 0;
	}
	x->dklen = nedb__dockey(x->dk, x->pl.coll, x->pl.id);
	return 1;
}

static int
elemsKey(client *c, const char *key, int type, struct elx *x)
{
	return elemsKeyAs(c, key, type, x, false);
}

/* Whether arguments from..argc-1 (every step-th from the first) are
 * UTF-8, as a Redis operator's strings must be. */
static bool
argsUtf8(const client *c, int from, int step)
{
	for (int j = from; j < c->argc; j += step)
		if (!nedb__utf8_valid((const unsigned char *)c->argv[j],
				      c->argvlen[j]))
			return false;
	return true;
}

/* Whether argument j repeats one of from..j-1 (every step-th). */
static bool
argSeen(const client *c, int from, int step, int j)
{
	for (int i = from; i < j; i += step)
		if (c->argvlen[i] == c->argvlen[j] &&
		    !memcmp(c->argv[i], c->argv[j], c->argvlen[j]))
			return true;
	return false;
}

/* Whether argument j is repeated later (the last one wins: HSET). */
static bool
argLater(const client *c, int step, int j)
{
	for (int i = j + step; i < c->argc; i += step)
		if (c->argvlen[i] == c->argvlen[j] &&
		    !memcmp(c->argv[i], c->argv[j], c->argvlen[j]))
			return true;
	return false;
}

/*
 * Stages upd, a Redis operator for x's key: 0, or -1 after an error
 * reply.  A value the update would take past MAX_DOC is the caller's
 * to refuse (elemsRoom).
 */
/*
 * upd applied to the text of the value at x and written whole: for a
 * value that an earlier write of the same command left whole (its full
 * version logged at 128 members or fewer, which the view keeps whole).
 * 0, or -1 after an error reply.
 */
static int
elemsWriteWhole(client *c, const char *key, struct elx *x,
		const nedb_buf *upd)
{
	nedb_buf text = {0};
	nedb_doc d;
	int r = dbFetchAt(c, &x->pl, &d);

	if (r < 0)
		return -1;
	if (r == 0 || (r = nedb__redis_patch(&text, d.doc, d.len, upd->p,
					      upd->len))) {
		nedb_buf_free(&text);
		return failed(c, r ? r : nedb__err(NEDB_ECORRUPT, "key "
						   "'%.64s' changed under "
						   "the command", key));
	}
	r = dbPutAt(c, key, &x->pl, text.p, text.len, TTL_KEEP);
	nedb_buf_free(&text);
	return r;
}

static int
elemsWrite(client *c, const char *key, struct elx *x, const nedb_buf *upd)
{
	int rc = nedb__write_ops(c->db, x->pl.coll, x->pl.id, upd->p,
				 upd->len, &c->w, NULL);

	if (rc == 1)
		return elemsWriteWhole(c, key, x, upd);
	if (rc)
		return failed(c, rc);
	if (c->conn->ready)
		c->conn->ready(c->conn, key, strlen(key));
	return 0;
}

/* Whether x's value may grow by the strings of upd and stay a document
 * (else the whole path says why not). */
static bool
elemsRoom(const struct elx *x, const nedb_buf *upd)
{
	return nedb__el_textlen(&x->e) + upd->len <= MAX_DOC;
}

/*
 * SADD (add), SREM, HDEL and ZREM: each member named (once) that is not
 * there (add) or is, in one Redis operator.  1 when done (replied), 0 to
 * take the value whole (bytes not UTF-8, or a removal that empties it:
 * the key goes, as a whole).
 */
static int
membersElems(client *c, int type, bool add)
{
	const char *op = add ? "{\"$sadd\":[" : type == OBJ_SET ?
			 "{\"$srem\":[" : type == OBJ_HASH ? "{\"$hdel\":[" :
			 "{\"$zrem\":[";
	long long changed = 0;
	nedb_buf upd = {0};
	struct elx x;
	int r;

	if (!argsUtf8(c, 2, 1))
		return 0;
	if ((r = elemsKey(c, c->argv[1], type, &x)) <= 0)
		return r < 0;
	r = nedb_buf_puts(&upd, op);
	for (int j = 2; !r && j < c->argc; j++) {
		if (argSeen(c, 2, 1, j))
			continue;
		r = nedb__el_find(&c->db->view, x.txn, x.dk, x.dklen,
				  el_of[type], c->argv[j], c->argvlen[j], NULL,
				  NULL);
		if (r < 0)
			break;
		if (r == add) {
			r = 0;
			continue;
		}
		r = (changed++ && nedb_buf_add(&upd, ",", 1)) ||
		    nedb_buf_json_str(&upd, c->argv[j], c->argvlen[j]);
	}
	elemsDone(c, &x);
	if (r < 0)
		failed(c, r);
	else if (r || nedb_buf_add(&upd, "]}", 2))
		oom(c);
	else if (!add && (uint64_t)changed == x.e.n)
		r = 1;
	else if (add && !elemsRoom(&x, &upd))
		r = 1;
	else if (!changed || !elemsWrite(c, c->argv[1], &x, &upd))
		addReplyLongLong(c, changed);
	nedb_buf_free(&upd);
	return r != 1;
}

/* SISMEMBER, HEXISTS: 1 when done, 0 to take the value whole. */
static int
memberElems(client *c, int type)
{
	struct elx x;
	int r;

	if ((r = elemsKey(c, c->argv[1], type, &x)) <= 0)
		return r < 0;
	r = nedb__el_find(&c->db->view, x.txn, x.dk, x.dklen, el_of[type],
			  c->argv[2], c->argvlen[2], NULL, NULL);
	elemsDone(c, &x);
	if (r < 0)
		failed(c, r);
	else
		addReplyLongLong(c, r);
	return 1;
}

/* SCARD, HLEN, LLEN, ZCARD: 1 when done, 0 to take the value whole. */
static int
lenElems(client *c, int type)
{
	struct elx x;
	int r;

	if ((r = elemsKey(c, c->argv[1], type, &x)) <= 0)
		return r < 0;
	elemsDone(c, &x);
	addReplyLongLong(c, (long long)x.e.n);
	return 1;
}

/* LPUSH, RPUSH: 1 when done, 0 to take the list whole. */
static int
pushElems(client *c, bool head)
{
	nedb_buf upd = {0};
	struct elx x;
	int r;

	if (!argsUtf8(c, 2, 1))
		return 0;
	if ((r = elemsKey(c, c->argv[1], OBJ_LIST, &x)) <= 0)
		return r < 0;
	elemsDone(c, &x);
	r = nedb_buf_puts(&upd, head ? "{\"$lpush\":[" : "{\"$rpush\":[");
	for (int j = 2; !r && j < c->argc; j++)
		r = (j > 2 && nedb_buf_add(&upd, ",", 1)) ||
		    nedb_buf_json_str(&upd, c->argv[j], c->argvlen[j]);
	if (r || nedb_buf_add(&upd, "]}", 2))
		oom(c);
	else if (!elemsRoom(&x, &upd))
		r = 1;
	else if (!elemsWrite(c, c->argv[1], &x, &upd))
		addReplyLongLong(c, (long long)x.e.n + c->argc - 2);
	nedb_buf_free(&upd);
	return r != 1;
}

/* HSET, HMSET: 1 when done, 0 to take the hash whole. */
static int
hsetElems(client *c, bool hmset)
{
	long long created = 0;
	nedb_buf upd = {0};
	bool any = false;
	struct elx x;
	int r;

	if (!argsUtf8(c, 2, 1))
		return 0;
	if ((r = elemsKey(c, c->argv[1], OBJ_HASH, &x)) <= 0)
		return r < 0;
	r = nedb_buf_puts(&upd, "{\"$hset\":[");
	for (int j = 2; !r && j < c->argc; j += 2) {
		if (argLater(c, 2, j))
			continue;	/* the last value of a field wins */
		r = nedb__el_find(&c->db->view, x.txn, x.dk, x.dklen, EL_HASH,
				  c->argv[j], c->argvlen[j], NULL, NULL);
		if (r < 0)
			break;
		created += !r;
		r = (any && nedb_buf_add(&upd, ",", 1)) ||
		    nedb_buf_add(&upd, "[", 1) ||
		    nedb_buf_json_str(&upd, c->argv[j], c->argvlen[j]) ||
		    nedb_buf_add(&upd, ",", 1) ||
		    nedb_buf_json_str(&upd, c->argv[j + 1], c->argvlen[j + 1]) ||
		    nedb_buf_add(&upd, "]", 1);
		any = true;
	}
	elemsDone(c, &x);
	if (r < 0)
		failed(c, r);
	else if (r || nedb_buf_add(&upd, "]}", 2))
		oom(c);
	else if (!elemsRoom(&x, &upd))
		r = 1;
	else if (!elemsWrite(c, c->argv[1], &x, &upd)) {
		if (hmset)
			addReplyOK(c);
		else
			addReplyLongLong(c, created);
	}
	nedb_buf_free(&upd);
	return r != 1;
}

/* HGET: 1 when done, 0 to take the hash whole. */
static int
hgetElems(client *c)
{
	nedb_buf val = {0};
	struct elx x;
	int r;

	if ((r = elemsKey(c, c->argv[1], OBJ_HASH, &x)) <= 0)
		return r < 0;
	r = nedb__el_find(&c->db->view, x.txn, x.dk, x.dklen, EL_HASH,
			  c->argv[2], c->argvlen[2], &val, NULL);
	elemsDone(c, &x);
	if (r < 0)
		failed(c, r);
	else if (r)
		addReplyBulk(c, val.p ? val.p : "", val.len);
	else
		addReplyNull(c);
	nedb_buf_free(&val);
	return 1;
}

static void addReplyDouble(client *c, double d);

/*
 * SMISMEMBER and ZMSCORE on a value the view keeps as elements: each
 * member looked up by key.  1 when done, 0 to take it whole.
 */
static int
mfindElems(client *c, int type)
{
	nedb_buf b = {0};
	bool nomem = false;
	struct elx x;
	int r;

	if ((r = elemsKey(c, c->argv[1], type, &x)) <= 0)
		return r < 0;
	for (int j = 2; j < c->argc && r >= 0 && !nomem; j++) {
		double s;

		r = nedb__el_find(&c->db->view, x.txn, x.dk, x.dklen,
				  el_of[type], c->argv[j], c->argvlen[j], NULL,
				  &s);
		nomem = r >= 0 && (type == OBJ_SET ? bufHeader(&b, ':', r) :
				   r ? bufDouble(&b, s, c->resp) :
				   bufNull(&b, c->resp));
	}
	elemsDone(c, &x);
	if (nomem)
		oom(c);
	else if (r < 0)
		failed(c, r);
	else
		addReplyArrayBuf(c, (size_t)c->argc - 2, &b);
	nedb_buf_free(&b);
	return 1;
}

/* ZSCORE: 1 when done, 0 to take the sorted set whole. */
static int
zscoreElems(client *c)
{
	struct elx x;
	double s;
	int r;

	if ((r = elemsKey(c, c->argv[1], OBJ_ZSET, &x)) <= 0)
		return r < 0;
	r = nedb__el_find(&c->db->view, x.txn, x.dk, x.dklen, EL_ZSET,
			  c->argv[2], c->argvlen[2], NULL, &s);
	elemsDone(c, &x);
	if (r < 0)
		failed(c, r);
	else if (r)
		addReplyDouble(c, s);
	else
		addReplyNull(c);
	return 1;
}

#define ZADD_NX 0x01
#define ZADD_XX 0x02
#define ZADD_GT 0x04
#define ZADD_LT 0x08
#define ZADD_INCR 0x10
#define ZADD_CH 0x20

/*
 * ZADD's pairs (from argument at, scores parsed) on a sorted set kept
 * as elements, as zaddGenericCommand does them: 1 when done (replied),
 * 0 to take the set whole (a member twice, bytes not UTF-8).
 */
static int
zaddElems(client *c, unsigned flags, int at, int elements,
	  const double *scores)
{
	long long added = 0, updated = 0, processed = 0;
	nedb_buf upd = {0};
	double score = 0, old;
	bool any = false;
	struct elx x;
	int r;

	if (!argsUtf8(c, at + 1, 2))
		return 0;
	for (int j = at + 3; j < c->argc; j += 2)
		if (argSeen(c, at + 1, 2, j))
			return 0;
	if ((r = elemsKey(c, c->argv[1], OBJ_ZSET, &x)) <= 0)
		return r < 0;
	r = nedb_buf_puts(&upd, "{\"$zadd\":[");
	for (int j = 0; !r && j < elements; j++) {
		const char *m = c->argv[at + 2 * j + 1];
		size_t mlen = c->argvlen[at + 2 * j + 1];

		score = scores[j];
		r = nedb__el_find(&c->db->view, x.txn, x.dk, x.dklen, EL_ZSET,
				  m, mlen, NULL, &old);
		if (r < 0)
			break;
		if (!r) {
			if (flags & ZADD_XX)
				continue;
			added++;
		} else {
			r = 0;
			if (flags & ZADD_NX)
				continue;
			if ((flags & ZADD_INCR) && isnan(score += old)) {
				r = 2;
				break;
			}
			if (((flags & ZADD_LT) && score >= old) ||
			    ((flags & ZADD_GT) && score <= old))
				continue;
			if (score == old) {
				processed++;
				continue;
			}
			updated++;
		}
		processed++;
		r = (any && nedb_buf_add(&upd, ",", 1)) ||
		    nedb_buf_add(&upd, "[", 1) ||
		    nedb_buf_json_str(&upd, m, mlen) ||
		    nedb_buf_add(&upd, ",", 1) ||
		    nedb__score_json(&upd, score == 0 ? 0 : score) ||
		    nedb_buf_add(&upd, "]", 1);
		any = true;
	}
	elemsDone(c, &x);
	if (r < 0)
		failed(c, r);
	else if (r == 2)
		addReplyError(c, "ERR resulting score is not a number (NaN)");
	else if (r || nedb_buf_add(&upd, "]}", 2))
		oom(c);
	else if (!elemsRoom(&x, &upd))
		r = 3;
	else if (any && elemsWrite(c, c->argv[1], &x, &upd))
		;
	else if (!(flags & ZADD_INCR))
		addReplyLongLong(c, flags & ZADD_CH ? added + updated : added);
	else if (processed)
		addReplyDouble(c, score);
	else
		addReplyNull(c);
	nedb_buf_free(&upd);
	return r != 3;
}

/*
 * A field of a hash kept as elements, for a command that reads and sets
 * it (argument 2; x filled, its read ended): 1 with its value in val, 0
 * when absent, 2 when the hash is not kept so (take it whole), -1 after
 * an error reply.
 */
static int
hfieldElems(client *c, struct elx *x, nedb_buf *val)
{
	int r;

	if (!nedb__utf8_valid((const unsigned char *)c->argv[2],
			      c->argvlen[2]))
		return 2;
	if ((r = elemsKey(c, c->argv[1], OBJ_HASH, x)) <= 0)
		return r < 0 ? -1 : 2;
	r = nedb__el_find(&c->db->view, x->txn, x->dk, x->dklen, EL_HASH,
			  c->argv[2], c->argvlen[2], val, NULL);
	elemsDone(c, x);
	return r < 0 ? failed(c, r) : r;
}

/* Stages field argument 2 := v of x's hash: 0, or -1 after a reply. */
static int
hsetOneElems(client *c, struct elx *x, const char *v, size_t vn)
{
	nedb_buf upd = {0};
	int rc;

	if (!nedb__utf8_valid((const unsigned char *)v, vn))
		rc = -2;
	else if (nedb_buf_puts(&upd, "{\"$hset\":[[") ||
		 nedb_buf_json_str(&upd, c->argv[2], c->argvlen[2]) ||
		 nedb_buf_add(&upd, ",", 1) || nedb_buf_json_str(&upd, v, vn) ||
		 nedb_buf_add(&upd, "]]}", 3))
		rc = oom(c);
	else if (!elemsRoom(x, &upd))
		rc = -2;
	else
		rc = elemsWrite(c, c->argv[1], x, &upd);
	nedb_buf_free(&upd);
	return rc;
}

/* HINCRBY: 1 when done, 0 to take the hash whole. */
static int
hincrbyElems(client *c, long long incr)
{
	long long value = 0;
	nedb_buf val = {0};
	struct elx x;
	char buf[24];
	int r = hfieldElems(c, &x, &val);

	if (r == 1 && !string2ll(val.p ? val.p : "", val.len, &value)) {
		addReplyError(c, "ERR hash value is not an integer");
	} else if (r == 0 || r == 1) {
		if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
		    (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
			addReplyError(c, "ERR increment or decrement would "
				      "overflow");
		} else {
			value += incr;
			snprintf(buf, sizeof buf, "%lld", value);
			if (!(r = hsetOneElems(c, &x, buf, strlen(buf))))
				addReplyLongLong(c, value);
			r = r == -2 ? 2 : 1;
		}
	}
	nedb_buf_free(&val);
	return r != 2;
}

static size_t ld2human(char *buf, size_t size, long double v);

/* HINCRBYFLOAT: 1 when done, 0 to take the hash whole. */
static int
hincrbyfloatElems(client *c, long double incr)
{
	long double value = 0;
	nedb_buf val = {0};
	struct elx x;
	char buf[5200];
	size_t n;
	int r = hfieldElems(c, &x, &val);

	if (r == 1 && !string2ld(val.p ? val.p : "", val.len, &value)) {
		addReplyError(c, "ERR hash value is not a float");
	} else if (r == 0 || r == 1) {
		value += incr;
		if (isnan(value) || isinf(value)) {
			addReplyError(c, "ERR increment would produce NaN or "
				      "Infinity");
		} else {
			n = ld2human(buf, sizeof buf, value);
			if (!(r = hsetOneElems(c, &x, buf, n)))
				addReplyBulk(c, buf, n);
			r = r == -2 ? 2 : 1;
		}
	}
	nedb_buf_free(&val);
	return r != 2;
}

/* HSETNX: 1 when done, 0 to take the hash whole. */
static int
hsetnxElems(client *c)
{
	nedb_buf val = {0};
	struct elx x;
	int r = hfieldElems(c, &x, &val);

	if (r == 1) {
		addReplyLongLong(c, 0);
	} else if (r == 0) {
		if (!(r = hsetOneElems(c, &x, c->argv[3], c->argvlen[3])))
			addReplyLongLong(c, 1);
		r = r == -2 ? 2 : 1;
	}
	nedb_buf_free(&val);
	return r != 2;
}

/* HMGET, HSTRLEN (lengths): 1 when done, 0 to take the hash whole. */
static int
hmgetElems(client *c, bool lengths)
{
	nedb_buf val = {0}, out = {0};
	struct elx x;
	int r;

	if ((r = elemsKey(c, c->argv[1], OBJ_HASH, &x)) <= 0)
		return r < 0;
	for (int j = 2; r >= 0 && j < c->argc; j++) {
		r = nedb__el_find(&c->db->view, x.txn, x.dk, x.dklen, EL_HASH,
				  c->argv[j], c->argvlen[j], &val, NULL);
		if (r < 0)
			break;
		if (lengths)
			r = bufHeader(&out, ':', r ? (long long)val.len : 0);
		else if (r)
			r = bufBulk(&out, val.p ? val.p : "", val.len);
		else
			r = bufNull(&out, c->resp) ? -1 : 0;
		if (r) {
			r = -2;
			break;
		}
	}
	elemsDone(c, &x);
	if (r == -2)
		oom(c);
	else if (r < 0)
		failed(c, r);
	else if (lengths)
		addReplyRaw(c, out.p, out.len);
	else
		addReplyArrayBuf(c, (size_t)(c->argc - 2), &out);
	nedb_buf_free(&val);
	nedb_buf_free(&out);
	return 1;
}

/* Stages {"$OP":N} for the list at key (x): 0, or -1 after an error
 * reply. */
static int
popWrite(client *c, const char *key, struct elx *x, const char *op,
	 uint64_t n)
{
	nedb_buf upd = {0};
	int rc;

	if (nedb_buf_printf(&upd, "{\"$%s\":%llu}", op, (unsigned long long)n))
		rc = oom(c);
	else
		rc = elemsWrite(c, key, x, &upd);
	nedb_buf_free(&upd);
	return rc;
}

struct popped {
	nedb_buf out;		/* the elements as bulk replies */
	bstr first;		/* the first one's bytes, when wanted */
	bool want_first;
	int rc;
};

static int
popOne(const char *json, size_t len, void *payload)
{
	struct popped *p = payload;
	bstr e = {0};

	if (decodeStr(json, json + len, false, &e) ||
	    bufBulk(&p->out, e.p, e.len))
		p->rc = -1;
	if (!p->rc && p->want_first && !p->first.p) {
		p->first = e;
		return 0;
	}
	free(e.p);
	return p->rc;
}

/*
 * Pops n (> 0) elements from the head (or tail) of the list at key, when
 * the view keeps it as elements and keeps more than n (a pop that
 * empties the list deletes the key: the whole path's): 1 with p filled
 * (its buffers the caller's to free), 0 to take the list whole (nothing
 * replied; elements of another type included, for the whole path to
 * answer), -1 after an error reply.
 */
static int
listPopElems(client *c, const char *key, bool head, uint64_t n,
	     struct popped *p)
{
	struct elx x;
	int r;

	if ((r = elemsKeyAs(c, key, OBJ_LIST, &x, true)) <= 0)
		return r;
	if (n >= x.e.n) {
		elemsDone(c, &x);
		return 0;
	}
	r = nedb__el_walk(&c->db->view, x.txn, x.dk, x.dklen, EL_LIST, !head,
			  n, popOne, p);
	elemsDone(c, &x);
	if (r)
		return p->rc ? oom(c) : failed(c, r);
	return popWrite(c, key, &x, head ? "lpop" : "rpop", n) ? -1 : 1;
}

static void
poppedFree(struct popped *p)
{
	nedb_buf_free(&p->out);
	free(p->first.p);
}

/* LPOP, RPOP (count, when hascount): 1 when done, 0 to take the list
 * whole. */
static int
popElems(client *c, bool head, bool hascount, long long count)
{
	struct popped p = {0};
	uint64_t n = hascount ? (uint64_t)count : 1;
	int r;

	if (n == 0 || !(r = listPopElems(c, c->argv[1], head, n, &p)))
		return 0;
	if (r > 0 && hascount)
		addReplyArrayBuf(c, n, &p.out);
	else if (r > 0)
		addReplyRaw(c, p.out.p, p.out.len);
	poppedFree(&p);
	return 1;
}

/*
 * BLPOP, BRPOP, LMPOP and BLMPOP from the list at argument j (count as
 * listPopReply's): 1 when done, 0 to take the list whole.
 */
static int
mpopElems(client *c, int j, bool head, long long count)
{
	struct popped p = {0};
	uint64_t n = count < 0 ? 1 : (uint64_t)count;
	int r;

	if (n == 0 || !(r = listPopElems(c, c->argv[j], head, n, &p)))
		return 0;
	if (r > 0) {
		addReplyArrayLen(c, 2);
		addReplyBulk(c, c->argv[j], c->argvlen[j]);
		if (count < 0)
			addReplyRaw(c, p.out.p, p.out.len);
		else
			addReplyArrayBuf(c, n, &p.out);
	}
	poppedFree(&p);
	return 1;
}

/* LTRIM (start, end as given): 1 when done, 0 to take the list whole
 * (it would become empty).  The trim is pops from both ends. */
static int
ltrimElems(client *c, long long start, long long end)
{
	struct elx x;
	long long len;
	int r;

	if ((r = elemsKey(c, c->argv[1], OBJ_LIST, &x)) <= 0)
		return r < 0;
	elemsDone(c, &x);
	len = (long long)x.e.n;
	if (!rankRange(&start, &end, len))
		return 0;	/* everything goes: the key with it */
	if ((start && popWrite(c, c->argv[1], &x, "lpop", (uint64_t)start)) ||
	    (end < len - 1 && popWrite(c, c->argv[1], &x, "rpop",
				       (uint64_t)(len - 1 - end))))
		return 1;
	addReplyOK(c);
	return 1;
}

/* A sorted set's ["member",score] as kept by the view: 0, or -1. */
static int
zentParse(const char *json, size_t len, bstr *m, double *d)
{
	const char *e = json + len, *q;

	if (len < 5 || *json != '[' ||
	    (q = jsonEnd(json + 1, e)) >= e - 1 || *q != ',' ||
	    decodeStr(json + 1, q, false, m) ||
	    !nedb__score_parse(q + 1, e - 1, d))
		return -1;
	return 0;
}

struct zpopped {
	nedb_buf reply, upd;
	int rc;
	int resp;		/* the client's protocol */
	bool pairs;		/* RESP3's [member, score] arrays */
};

/* One ["member",score] of a walk: into the reply and the $zrem. */
static int
zpopOne(const char *json, size_t len, void *payload)
{
	struct zpopped *z = payload;
	bstr m = {0};
	double d;

	z->rc = -1;
	if (zentParse(json, len, &m, &d))
		goto done;
	if ((z->pairs && bufPair(&z->reply, z->resp)) ||
	    bufBulk(&z->reply, m.p, m.len) ||
	    (z->upd.len > 10 && nedb_buf_add(&z->upd, ",", 1)) ||
	    nedb_buf_json_str(&z->upd, m.p, m.len) ||
	    bufDouble(&z->reply, d, z->resp))
		goto done;
	z->rc = 0;
done:
	free(m.p);
	return z->rc;
}

/* ZPOPMIN, ZPOPMAX (count): 1 when done, 0 to take the sorted set
 * whole (it would become empty). */
static int
zpopElems(client *c, bool max, long long count)
{
	/* RESP3 pairs when a count was given (without one: one flat) */
	bool pairs = c->resp == 3 && c->argc == 3;
	struct zpopped z = {{0}, {0}, 0, c->resp, pairs};
	struct elx x;
	int r;

	if ((r = elemsKey(c, c->argv[1], OBJ_ZSET, &x)) <= 0)
		return r < 0;
	if ((uint64_t)count >= x.e.n) {
		elemsDone(c, &x);
		return 0;
	}
	if (count == 0) {
		elemsDone(c, &x);
		addReplyArrayLen(c, 0);
		return 1;
	}
	r = nedb_buf_puts(&z.upd, "{\"$zrem\":[") ? -1 :
	    nedb__el_walk(&c->db->view, x.txn, x.dk, x.dklen, EL_ZSET, max,
			  (uint64_t)count, zpopOne, &z);
	elemsDone(c, &x);
	if (r && !z.rc)
		failed(c, r);
	else if (r || nedb_buf_add(&z.upd, "]}", 2))
		oom(c);
	else if (!elemsWrite(c, c->argv[1], &x, &z.upd))
		addReplyArrayBuf(c, (pairs ? 1 : 2) * (size_t)count, &z.reply);
	nedb_buf_free(&z.reply);
	nedb_buf_free(&z.upd);
	return 1;
}

/* LRANGE, LINDEX (one): 1 when done, 0 to take the list whole. */
static int
lrangeElems(client *c, long long start, long long end, bool one)
{
	struct popped p = {0};
	struct elx x;
	long long len;
	int r;

	if ((r = elemsKey(c, c->argv[1], OBJ_LIST, &x)) <= 0)
		return r < 0;
	len = (long long)x.e.n;
	if (start < 0)
		start += len;
	if (end < 0)
		end += len;
	if (start < 0)
		start = one ? len : 0;
	if (end >= len)
		end = len - 1;
	if (start > end || start >= len) {
		elemsDone(c, &x);
		if (one)
			addReplyNull(c);
		else
			addReplyArrayLen(c, 0);
		return 1;
	}
	r = nedb__el_list(&c->db->view, x.txn, x.dk, x.dklen, x.e.lo + start,
			  (uint64_t)(end - start + 1), popOne, &p);
	elemsDone(c, &x);
	if (r && !p.rc)
		failed(c, r);
	else if (r)
		oom(c);
	else if (one)
		addReplyRaw(c, p.out.p, p.out.len);
	else
		addReplyArrayBuf(c, (size_t)(end - start + 1), &p.out);
	nedb_buf_free(&p.out);
	return 1;
}

/* A string value for key: an object that borrows p (NUL-ended, as an
 * argument is), never freed, for storeKey only reads it. */
static int
setStringKey(client *c, const char *key, const char *p, size_t n,
	     int64_t ttl_ms)
{
	robj o = {.type = OBJ_STRING, .str = {(char *)p, n}};

	return storeKey(c, key, &o, ttl_ms);
}

/*
 * The time to live of an absolute expiry at ms: what is left of it, or,
 * when it has passed, 0 (the caller deletes the key, as Redis does) or
 * for a replica 1 ms (the source deletes the key when it wants to).
 */
static int64_t
ttlUntil(client *c, long long at, long long now)
{
	if (at > now)
		return at - now;
	return c->conn->replica ? 1 : 0;
}

/* ---- keys: glob patterns and scans --------------------------------------- */

/* Matches one pattern token at p[*i] (not '*') against c; moves past it. */
static bool
globToken(const char *p, size_t n, size_t *i, unsigned char c)
{
	size_t k = *i;

	if (p[k] == '?') {
		*i = k + 1;
		return true;
	}
	if (p[k] == '\\' && k + 1 < n) {
		*i = k + 2;
		return (unsigned char)p[k + 1] == c;
	}
	if (p[k] == '[') {
		bool neg = false, hit = false;

		if (++k < n && p[k] == '^') {
			neg = true;
			k++;
		}
		while (k < n && p[k] != ']') {
			if (p[k] == '\\' && k + 1 < n) {
				hit |= (unsigned char)p[k + 1] == c;
				k += 2;
			} else if (k + 2 < n && p[k + 1] == '-') {
				unsigned char lo = (unsigned char)p[k];
				unsigned char hi = (unsigned char)p[k + 2];

				if (lo > hi) {
					unsigned char t = lo;

					lo = hi;
					hi = t;
				}
				hit |= c >= lo && c <= hi;
				k += 3;
			} else {
				hit |= (unsigned char)p[k] == c;
				k++;
			}
		}
		*i = k < n ? k + 1 : n;
		return neg ? !hit : hit;
	}
	*i = k + 1;
	return (unsigned char)p[k] == c;
}

/*
 * Redis's glob (stringmatchlen): * ? [abc] [^a-z] and \ to quote the
 * next character.  Iterative, backtracking to the last '*' only, so that
 * no pattern costs more than O(pattern * string).
 */
static bool
globMatch(const char *p, size_t pn, const char *s, size_t sn)
{
	size_t pi = 0, si = 0, star = SIZE_MAX, star_s = 0;

	while (si < sn) {
		if (pi < pn && p[pi] == '*') {
			star = ++pi;
			star_s = si;
			continue;
		}
		if (pi < pn) {
			size_t next = pi;

			if (globToken(p, pn, &next, (unsigned char)s[si])) {
				pi = next;
				si++;
				continue;
			}
		}
		if (star == SIZE_MAX)
			return false;
		pi = star;
		si = ++star_s;
	}
	while (pi < pn && p[pi] == '*')
		pi++;
	return pi == pn;
}

struct keyscan {
	const char *pat;
	size_t patlen;
	size_t n;
	nedb_buf b;
	bool oom;
};

/* The key of a row of a key scan, copied (*key, *n; the caller frees
 * it): 1, 0 when the row has no "_id" (*key NULL), -1 out of memory. */
static int
rowKey(const char *json, size_t len, char **key, size_t *n)
{
	struct nql_span v;

	*key = NULL;
	if (!nedb__doc_member(json, len, "_id", &v.p, &v.len))
		return 0;
	return (*key = nedb__string_value(v, n)) ? 1 : -1;
}

static int
keysRow(const char *json, size_t len, void *payload)
{
	struct keyscan *ks = payload;
	char *key;
	size_t n;
	int rc = rowKey(json, len, &key, &n);

	if (rc < 0)
		ks->oom = true;
	if (rc <= 0)
		return ks->oom;
	if (globMatch(ks->pat, ks->patlen, key, n)) {
		if (bufBulk(&ks->b, key, n))
			ks->oom = true;
		ks->n++;
	}
	free(key);
	return ks->oom;
}

static int
countRow(const char *json, size_t len, void *payload)
{
	(void)json;
	(void)len;
	(*(uint64_t *)payload)++;
	return 0;
}

struct collcount {
	const char *coll;
	uint64_t n;
};

static int
collCount(const char *coll, uint64_t count, void *payload)
{
	struct collcount *cc = payload;

	if (!strcmp(coll, cc->coll))
		cc->n = count;
	return 0;
}

/* The collection of the keys no registration claims. */
static const char *
keysColl(const client *c)
{
	return c->conn->coll ? c->conn->coll : REDIS_COLL;
}

/* "FROM <the keys' collection>" into q (80 bytes). */
static const char *
keysQuery(const client *c, char *q)
{
	snprintf(q, 80, "FROM %s", keysColl(c));
	return q;
}

/*
 * The number of live keys (those of the connection's collection: KEYS
 * and DBSIZE do not see the keys of registrations).
 */
static int
dbSize(client *c, uint64_t *n)
{
	struct collcount cc = {keysColl(c), 0};
	uint64_t pending;
	char q[80];
	int rc;

	*n = 0;
	/* the collection's count is exact unless expired keys await a sweep */
	if ((rc = nedb_expired_pending(c->db, nedb_now_ms(), &pending)))
		return failed(c, rc);
	if (!pending) {
		rc = nedb_collections(c->db, collCount, &cc);
		*n = cc.n;
	} else
		rc = nedb_query(c->db, keysQuery(c, q), 0, countRow, n);
	return rc ? failed(c, rc) : 0;
}

/* ---- strings ------------------------------------------------------------- */

#define SET_NX 0x01
#define SET_XX 0x02
#define SET_EX 0x04
#define SET_PX 0x08
#define SET_KEEPTTL 0x10
#define SET_GET 0x20
#define SET_EXAT 0x40
#define SET_PXAT 0x80
#define SET_PERSIST 0x100	/* GETEX */
#define SET_EXPIRY (SET_EX | SET_PX | SET_EXAT | SET_PXAT | SET_KEEPTTL)
/* An expiry option excludes the others, not itself (EX 1 EX 2 is fine) */
#define SET_TTL_CLASH(flags, self) ((flags) & (SET_EXPIRY | SET_PERSIST) & \
				    ~(unsigned)(self))

/*
 * The expiry of SET key value [EX s|PX ms|EXAT s|PXAT ms] as Redis 7
 * takes it: *ttl in ms from now (<= 0: already passed), from argument
 * j of c's.  Replies and returns -1 when it is not valid.
 */
static int
setExpiry(client *c, int j, unsigned flags, long long *ttl)
{
	bool secs = flags & (SET_EX | SET_EXAT);
	long long v, now = nedb_now_ms();

	if (getLongLong(c, j, &v, NULL))
		return -1;
	if (v <= 0 || (secs && v > LLONG_MAX / 1000))
		goto bad;
	if (secs)
		v *= 1000;
	if (flags & (SET_EX | SET_PX)) {
		if (v > LLONG_MAX - now)
			goto bad;
		*ttl = v;
	} else
		*ttl = ttlUntil(c, v, now);	/* a replica's: never passed */
	return 0;
bad:
	addReplyErrorFormat(c, "ERR invalid expire time in '%s' command",
			    c->cmd->name);
	return -1;
}

static void
setCommand(client *c)
{
	static const struct { const char *name; unsigned flag; } ttlopt[] = {
		{"ex", SET_EX}, {"px", SET_PX}, {"exat", SET_EXAT},
		{"pxat", SET_PXAT},
	};
	const char *key = c->argv[1];
	unsigned flags = 0;
	int expire = 0;
	long long ms = 0;
	robj o;
	int r;

	for (int j = 3; j < c->argc; j++) {
		bool next = j + 1 < c->argc, done = false;

		for (size_t t = 0; t < 4 && !done; t++)
			if (argIs(c, j, ttlopt[t].name) && next &&
			    !SET_TTL_CLASH(flags, ttlopt[t].flag)) {
				flags |= ttlopt[t].flag;
				expire = ++j;
				done = true;
			}
		if (done)
			continue;
		if (argIs(c, j, "nx") && !(flags & SET_XX))
			flags |= SET_NX;
		else if (argIs(c, j, "xx") && !(flags & SET_NX))
			flags |= SET_XX;
		else if (argIs(c, j, "get"))
			flags |= SET_GET;
		else if (argIs(c, j, "keepttl") &&
			 !SET_TTL_CLASH(flags, SET_KEEPTTL))
			flags |= SET_KEEPTTL;
		else {
			addReplySyntaxError(c);
			return;
		}
	}
	if (expire && setExpiry(c, expire, flags, &ms))
		return;
	/*
	 * The old value matters to NX, XX and GET, and to an absolute time
	 * that may have passed (the key is then deleted if it is there);
	 * a verified read (nedb_set_read_verify) must still check it.  A
	 * plain SET replaces the value, expiry and all, without reading.
	 */
	if (!(flags & (SET_NX | SET_XX | SET_GET | SET_EXAT | SET_PXAT)) &&
	    !c->db->read_verify)
		memset(&o, 0, sizeof o);
	else if (lookupKey(c, key, &o))
		return;
	/* an absolute time: what is left of it counted again just before
	 * the put, whose clock it is (valid: it was checked above) */
	if (expire && (flags & (SET_EXAT | SET_PXAT)))
		(void)setExpiry(c, expire, flags, &ms);
	if ((flags & SET_GET) && o.type != OBJ_NONE && o.type != OBJ_STRING) {
		robjFree(&o);
		addReplyWrongType(c);
		return;
	}
	if (((flags & SET_NX) && o.type != OBJ_NONE) ||
	    ((flags & SET_XX) && o.type == OBJ_NONE)) {
		r = 1;
	} else {
		int64_t ttl = (flags & SET_KEEPTTL) ? TTL_KEEP : ms;

		long long at = 0;
		int failed_put;

		/* an absolute time to come is kept as it is: counted from
		 * now, the op's later clock would move it by a ms or so */
		if (expire && ttl > 0 && (flags & (SET_EXAT | SET_PXAT)) &&
		    !getLongLong(c, expire, &at, NULL))
			c->exp_at = (flags & SET_EXAT) ? at * 1000 : at;
		/* a time that has passed: set and gone at once, as in Redis */
		failed_put = expire && ttl <= 0 ? o.type != OBJ_NONE &&
			     dbDelete(c, key) < 0 :
			     setStringKey(c, key, c->argv[2], c->argvlen[2],
					  ttl);
		c->exp_at = 0;
		if (failed_put) {
			robjFree(&o);
			return;
		}
		r = 0;
	}
	if (flags & SET_GET) {
		if (o.type == OBJ_STRING)
			addReplyBulk(c, o.str.p, o.str.len);
		else
			addReplyNull(c);
	} else if (r)
		addReplyNull(c);
	else
		addReplyOK(c);
	robjFree(&o);
}

/* SETEX key seconds value, PSETEX key ms value. */
static void
setexGenericCommand(client *c, bool secs)
{
	long long v;

	if (getLongLong(c, 2, &v, NULL))
		return;
	if (v <= 0 || (secs && v > LLONG_MAX / 1000) ||
	    (secs ? v * 1000 : v) > LLONG_MAX - nedb_now_ms()) {
		addReplyErrorFormat(c, "ERR invalid expire time in '%s' "
				    "command", c->cmd->name);
		return;
	}
	if (setStringKey(c, c->argv[1], c->argv[3], c->argvlen[3],
			 secs ? v * 1000 : v))
		return;
	addReplyOK(c);
}

static void
setexCommand(client *c)
{
	setexGenericCommand(c, true);
}

static void
psetexCommand(client *c)
{
	setexGenericCommand(c, false);
}

/* GETSET key value: SET key value GET, the TTL cleared. */
static void
getsetCommand(client *c)
{
	robj o;

	if (lookupKey(c, c->argv[1], &o))
		return;
	if (o.type != OBJ_NONE && o.type != OBJ_STRING) {
		robjFree(&o);
		addReplyWrongType(c);
		return;
	}
	if (setStringKey(c, c->argv[1], c->argv[2], c->argvlen[2], 0)) {
		robjFree(&o);
		return;
	}
	if (o.type == OBJ_STRING)
		addReplyBulk(c, o.str.p, o.str.len);
	else
		addReplyNull(c);
	robjFree(&o);
}

static void
setnxCommand(client *c)
{
	nedb_doc d;
	int r;

	if ((r = dbFetch(c, c->argv[1], &d)) < 0)
		return;
	if (r) {
		addReplyLongLong(c, 0);
		return;
	}
	if (setStringKey(c, c->argv[1], c->argv[2], c->argvlen[2], 0))
		return;
	addReplyLongLong(c, 1);
}

static void
getCommand(client *c)
{
	robj o;
	int r;

	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	if (r)
		addReplyBulk(c, o.str.p, o.str.len);
	else
		addReplyNull(c);
	robjFree(&o);
}

static void
getdelCommand(client *c)
{
	robj o;
	int r;

	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	if (r && dbDelete(c, c->argv[1]) >= 0)
		addReplyBulk(c, o.str.p, o.str.len);
	else if (!r)
		addReplyNull(c);
	robjFree(&o);
}

/* MSET, and MSETNX: nothing at all when one of the keys exists. */
static void
msetGenericCommand(client *c, bool nx)
{
	nedb_buf *docs;
	int n = (c->argc - 1) / 2, i;

	if (c->argc % 2 == 0) {
		addReplyArity(c);
		return;
	}
	for (i = 0; nx && i < n; i++) {
		nedb_doc d;
		int r = dbFetch(c, c->argv[1 + 2 * i], &d);

		if (r < 0)
			return;
		if (r) {
			addReplyLongLong(c, 0);
			return;
		}
	}
	/* every document first: all are put, or none */
	docs = nedb__calloc((size_t)n, sizeof *docs);
	for (i = 0; i < n; i++) {
		robj o = {.type = OBJ_STRING};
		int rc;

		if (bstrSet(&o.str, c->argv[2 + 2 * i], c->argvlen[2 + 2 * i]))
			rc = oom(c);
		else
			rc = docForKey(c, c->argv[1 + 2 * i], &o, &docs[i]);
		robjFree(&o);
		if (rc)
			break;
	}
	if (i == n) {
		for (i = 0; i < n; i++)
			if (dbPut(c, c->argv[1 + 2 * i], docs[i].p, docs[i].len,
				  0))
				break;
		if (i == n && nx)
			addReplyLongLong(c, 1);
		else if (i == n)
			addReplyOK(c);
	}
	for (i = 0; i < n; i++)
		nedb_buf_free(&docs[i]);
	free(docs);
}

static void
msetCommand(client *c)
{
	msetGenericCommand(c, false);
}

static void
msetnxCommand(client *c)
{
	msetGenericCommand(c, true);
}

static void
mgetCommand(client *c)
{
	addReplyArrayLen(c, c->argc - 1);
	for (int j = 1; j < c->argc; j++) {
		robj o;

		if (lookupKey(c, c->argv[j], &o))
			return;
		if (o.type == OBJ_STRING)
			addReplyBulk(c, o.str.p, o.str.len);
		else
			addReplyNull(c);
		robjFree(&o);
	}
}

static void
delCommand(client *c)
{
	long long n = 0;
	int r;

	for (int j = 1; j < c->argc; j++) {
		if ((r = dbDelete(c, c->argv[j])) < 0)
			return;
		n += r;
	}
	addReplyLongLong(c, n);
}

static void
existsCommand(client *c)
{
	long long n = 0;
	nedb_doc d;
	int r;

	for (int j = 1; j < c->argc; j++) {
		if ((r = dbFetch(c, c->argv[j], &d)) < 0)
			return;
		n += r;
	}
	addReplyLongLong(c, n);
}

static void
incrDecrGenericCommand(client *c, long long incr)
{
	char buf[24];
	long long value = 0;
	robj o;
	int r;

	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	if (r && !string2ll(o.str.p, o.str.len, &value)) {
		addReplyError(c, "ERR value is not an integer or out of range");
		goto done;
	}
	if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
	    (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
		addReplyError(c, "ERR increment or decrement would overflow");
		goto done;
	}
	value += incr;
	snprintf(buf, sizeof buf, "%lld", value);
	if (bstrSet(&o.str, buf, strlen(buf))) {
		oom(c);
		goto done;
	}
	if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, value);
done:
	robjFree(&o);
}

/* Redis's string2ld: the whole of s as strtold reads it, as string2d. */
static bool
string2ld(const char *s, size_t n, long double *out)
{
	char buf[5120], *end;
	long double v;

	if (n == 0 || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = 0;
	errno = 0;
	v = strtold(buf, &end);
	if (isspace((unsigned char)buf[0]) || end[0] != 0 ||
	    (size_t)(end - buf) != n || isnan(v) || errno == EINVAL ||
	    (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL ||
				 fpclassify(v) == FP_ZERO)))
		return false;
	*out = v;
	return true;
}

/*
 * A long double as Redis writes the result of INCRBYFLOAT (ld2string's
 * human mode): "%.17Lf" without trailing zeros, "-0" as "0".  The text
 * goes to buf (5200 bytes); returns its length.
 */
static size_t
ld2human(char *buf, size_t size, long double v)
{
	int l = snprintf(buf, size, "%.17Lf", v);

	if (l < 0 || (size_t)l + 1 > size)
		l = 0;	/* as Redis: no room, an empty string */
	else if (strchr(buf, '.')) {
		while (buf[l - 1] == '0')
			l--;
		if (buf[l - 1] == '.')
			l--;
	}
	if (l == 2 && buf[0] == '-' && buf[1] == '0') {
		buf[0] = '0';
		l = 1;
	}
	buf[l] = 0;
	return (size_t)l;
}

/*
 * INCRBYFLOAT key increment.  Redis replicates it as SET key value
 * KEEPTTL: the value written here is the one replied, the TTL kept.
 */
static void
incrbyfloatCommand(client *c)
{
	long double value = 0, incr;
	char buf[5200];
	size_t n;
	robj o;
	int r;

	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	if ((r && !string2ld(o.str.p, o.str.len, &value)) ||
	    !string2ld(c->argv[2], c->argvlen[2], &incr)) {
		addReplyError(c, "ERR value is not a valid float");
		goto done;
	}
	value += incr;
	if (isnan(value) || isinf(value)) {
		addReplyError(c, "ERR increment would produce NaN or Infinity");
		goto done;
	}
	n = ld2human(buf, sizeof buf, value);
	if (bstrSet(&o.str, buf, n))
		oom(c);
	else if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyBulk(c, buf, n);
done:
	robjFree(&o);
}

static void
getrangeCommand(client *c)
{
	long long start, end, len;
	robj o;
	int r;

	if (getLongLong(c, 2, &start, NULL) || getLongLong(c, 3, &end, NULL))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	len = (long long)o.str.len;
	if (!r || (start < 0 && end < 0 && start > end)) {
		addReplyBulk(c, "", 0);
		goto done;
	}
	if (start < 0)
		start += len;
	if (end < 0)
		end += len;
	if (start < 0)
		start = 0;
	if (end < 0)
		end = 0;
	if (end >= len)
		end = len - 1;
	if (start > end || len == 0)
		addReplyBulk(c, "", 0);
	else
		addReplyBulk(c, o.str.p + start, (size_t)(end - start + 1));
done:
	robjFree(&o);
}

#define PROTO_MAX_BULK_LEN (512ll << 20)	/* Redis's default */

static void
setrangeCommand(client *c)
{
	size_t vlen = c->argvlen[3];
	long long offset;
	robj o;
	int r;

	if (getLongLong(c, 2, &offset, NULL))
		return;
	if (offset < 0) {
		addReplyError(c, "ERR offset is out of range");
		return;
	}
	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	if (vlen == 0) {
		addReplyLongLong(c, (long long)o.str.len);
		goto done;
	}
	if (offset > PROTO_MAX_BULK_LEN - (long long)vlen) {
		addReplyError(c, "ERR string exceeds maximum allowed size "
			      "(proto-max-bulk-len)");
		goto done;
	}
	if ((size_t)offset + vlen > MAX_DOC) {
		addReplyErrorFormat(c, "ERR value too large: the document of "
				    "key '%.64s' would exceed %u bytes",
				    c->argv[1], MAX_DOC);
		goto done;
	}
	if ((size_t)offset + vlen > o.str.len) {
		char *p = nedb__calloc(1, (size_t)offset + vlen + 1);

		if (o.str.len)
			memcpy(p, o.str.p, o.str.len);
		free(o.str.p);
		o.str.p = p;
		o.str.len = (size_t)offset + vlen;
	}
	memcpy(o.str.p + offset, c->argv[3], vlen);
	if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, (long long)o.str.len);
done:
	robjFree(&o);
}

/* ---- bits ------------------------------------------------------------------ */

/* A bit offset as Redis takes it: 0 .. 2^32 - 1 (512 MB of bits). */
static int
bitOffset(client *c, int i, uint64_t *off)
{
	long long v;

	if (!string2ll(c->argv[i], c->argvlen[i], &v) || v < 0 ||
	    v >= 4ll * 1024 * 1024 * 1024) {
		addReplyError(c, "ERR bit offset is not an integer or out of "
			      "range");
		return -1;
	}
	*off = (uint64_t)v;
	return 0;
}

/* SETBIT key offset 0|1: the bit's old value; the string grows with
 * zero bytes to hold it (bit 0 is the high bit of byte 0). */
static void
setbitCommand(client *c)
{
	static const char err[] = "ERR bit is not an integer or out of range";
	uint64_t off;
	size_t byte;
	long long on;
	int bit, old, r;
	robj o;

	if (bitOffset(c, 2, &off) || getLongLong(c, 3, &on, err))
		return;
	if (on & ~1ll) {
		addReplyError(c, err);
		return;
	}
	byte = (size_t)(off >> 3);
	bit = 7 - (int)(off & 7);
	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	if (byte >= MAX_DOC) {
		addReplyErrorFormat(c, "ERR value too large: the document of "
				    "key '%.64s' would exceed %u bytes",
				    c->argv[1], MAX_DOC);
		goto done;
	}
	if (byte >= o.str.len) {
		char *p = nedb__calloc(1, byte + 2);

		if (o.str.len)
			memcpy(p, o.str.p, o.str.len);
		free(o.str.p);
		o.str.p = p;
		o.str.len = byte + 1;
	}
	old = (unsigned char)o.str.p[byte] >> bit & 1;
	o.str.p[byte] = (char)(((unsigned char)o.str.p[byte] & ~(1u << bit)) |
			       (unsigned)on << bit);
	if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, old);
done:
	robjFree(&o);
}

/* GETBIT key offset: 0 past the end or for a missing key. */
static void
getbitCommand(client *c)
{
	uint64_t off;
	robj o;
	int r;

	if (bitOffset(c, 2, &off))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	addReplyLongLong(c, (off >> 3) < o.str.len ?
			 (unsigned char)o.str.p[off >> 3] >> (7 - (off & 7)) & 1 :
			 0);
	robjFree(&o);
}

/* BITCOUNT key [start end [BYTE|BIT]]: the bits set, in a range of
 * bytes (or of bits) counted as GETRANGE counts them. */
static void
bitcountCommand(client *c)
{
	long long start = 0, end = -1, len;
	bool bits = false;
	long long n = 0;
	robj o;
	int r;

	if (c->argc == 3 || c->argc > 5) {
		addReplySyntaxError(c);
		return;
	}
	if (c->argc >= 4) {
		if (getLongLong(c, 2, &start, NULL) ||
		    getLongLong(c, 3, &end, NULL))
			return;
		if (c->argc == 5) {
			if (argIs(c, 4, "bit"))
				bits = true;
			else if (!argIs(c, 4, "byte")) {
				addReplySyntaxError(c);
				return;
			}
		}
	}
	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	len = (long long)o.str.len * (bits ? 8 : 1);
	if (start < 0)
		start += len;
	if (end < 0)
		end += len;
	if (start < 0)
		start = 0;
	if (end < 0)
		end = 0;
	if (end >= len)
		end = len - 1;
	for (long long i = start; r && len && i <= end; i++) {
		if (bits)
			n += (unsigned char)o.str.p[i >> 3] >> (7 - (i & 7)) & 1;
		else
			n += __builtin_popcount((unsigned char)o.str.p[i]);
	}
	addReplyLongLong(c, n);
	robjFree(&o);
}

/* TIME: the server's clock, seconds and microseconds. */
static void
timeCommand(client *c)
{
	struct timespec ts;
	char sec[24], usec[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	snprintf(sec, sizeof sec, "%lld", (long long)ts.tv_sec);
	snprintf(usec, sizeof usec, "%ld", ts.tv_nsec / 1000);
	addReplyArrayLen(c, 2);
	addReplyBulkStr(c, sec);
	addReplyBulkStr(c, usec);
}

/*
 * GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]: GET, then a new expiry
 * (an expire op; a time that has passed deletes the key) or none.
 */
static void
getexCommand(client *c)
{
	static const struct { const char *name; unsigned flag; } ttlopt[] = {
		{"ex", SET_EX}, {"px", SET_PX}, {"exat", SET_EXAT},
		{"pxat", SET_PXAT},
	};
	unsigned flags = 0;
	int expire = 0;
	long long ms = 0;
	robj o;
	int r;

	for (int j = 2; j < c->argc; j++) {
		bool next = j + 1 < c->argc, done = false;

		for (size_t t = 0; t < 4 && !done; t++)
			if (argIs(c, j, ttlopt[t].name) && next &&
			    !SET_TTL_CLASH(flags, ttlopt[t].flag)) {
				flags |= ttlopt[t].flag;
				expire = ++j;
				done = true;
			}
		if (done)
			continue;
		if (argIs(c, j, "persist") && !SET_TTL_CLASH(flags, SET_PERSIST))
			flags |= SET_PERSIST;
		else {
			addReplySyntaxError(c);
			return;
		}
	}
	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	if (!r) {
		addReplyNull(c);
		goto done;
	}
	if (expire && setExpiry(c, expire, flags, &ms))
		goto done;
	/* Redis replicates this as PEXPIREAT, DEL or PERSIST: ops alike */
	if (expire && ms <= 0)
		r = dbDelete(c, c->argv[1]) < 0 ? -1 : 0;	/* time passed */
	else if (expire)
		r = dbExpire(c, c->argv[1], ms);
	else if ((flags & SET_PERSIST) && o.exp)
		r = dbExpire(c, c->argv[1], 0);
	else
		r = 0;
	if (r == 0)
		addReplyBulk(c, o.str.p, o.str.len);
done:
	robjFree(&o);
}

static void
incrCommand(client *c)
{
	incrDecrGenericCommand(c, 1);
}

static void
decrCommand(client *c)
{
	incrDecrGenericCommand(c, -1);
}

static void
incrbyCommand(client *c)
{
	long long incr;

	if (getLongLong(c, 2, &incr, NULL) == 0)
		incrDecrGenericCommand(c, incr);
}

static void
decrbyCommand(client *c)
{
	long long incr;

	if (getLongLong(c, 2, &incr, NULL))
		return;
	if (incr == LLONG_MIN) {
		addReplyError(c, "ERR decrement would overflow");
		return;
	}
	incrDecrGenericCommand(c, -incr);
}

static void
appendCommand(client *c)
{
	nedb_buf v = {0};
	robj o;
	int r;

	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	if ((r && nedb_buf_add(&v, o.str.p, o.str.len)) ||
	    nedb_buf_add(&v, c->argv[2], c->argvlen[2]) ||
	    bstrSet(&o.str, v.p ? v.p : "", v.len)) {
		oom(c);
	} else if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, (long long)o.str.len);
	nedb_buf_free(&v);
	robjFree(&o);
}

static void
strlenCommand(client *c)
{
	robj o;
	int r;

	if ((r = lookupTyped(c, c->argv[1], OBJ_STRING, &o)) < 0)
		return;
	addReplyLongLong(c, r ? (long long)o.str.len : 0);
	robjFree(&o);
}

static void
typeCommand(client *c)
{
	robj o;

	if (lookupKey(c, c->argv[1], &o))
		return;
	addReplyStatus(c, type_name[o.type]);
	robjFree(&o);
}

/*
 * RENAME and RENAMENX.  The document moves as it is, TTL and all (put
 * rewrites its _id), or, between keys of different shapes (a
 * registration's and another), as its value.
 */
static void
renameGenericCommand(client *c, bool nx)
{
	const char *src = c->argv[1], *dst = c->argv[2];
	struct place ps, pd;
	nedb_buf doc = {0};
	nedb_doc d;
	robj t = {0};
	int r;

	route(c->conn, src, strlen(src), &ps);
	route(c->conn, dst, strlen(dst), &pd);
	if ((r = dbFetchAt(c, &ps, &d)) < 0)
		return;
	if (!r) {
		addReplyError(c, "ERR no such key");
		return;
	}
	t.exp = d.exp;
	if (ps.codec != pd.codec) {
		if (parseObject(ps.codec, d.doc, d.len, &t)) {
			oom(c);
			return;
		}
		if (t.type == OBJ_UNKNOWN) {
			addReplyErrorFormat(c, "ERR cannot move key '%.64s' to "
					    "'%.64s': its document is not a "
					    "value", src, dst);
			goto done;
		}
	} else if (nedb_buf_add(&doc, d.doc, d.len)) {
		oom(c);
		return;
	}
	if (nx || !strcmp(src, dst)) {
		if ((r = dbFetchAt(c, &pd, &d)) < 0)
			goto done;
		if (r) {
			if (nx)
				addReplyLongLong(c, 0);
			else
				addReplyOK(c);
			goto done;
		}
	}
	if (ps.codec != pd.codec) {
		if (docFor(c, &pd, dst, &t, &doc))
			goto done;
	}
	if (dbPutAt(c, dst, &pd, doc.p, doc.len, ttlLeft(&t)) == 0 &&
	    dbDelete(c, src) >= 0) {
		if (nx)
			addReplyLongLong(c, 1);
		else
			addReplyOK(c);
	}
done:
	robjFree(&t);
	nedb_buf_free(&doc);
}

static void
renameCommand(client *c)
{
	renameGenericCommand(c, false);
}

static void
renamenxCommand(client *c)
{
	renameGenericCommand(c, true);
}

/*
 * COPY source destination [DB db] [REPLACE]: the document as it is, TTL
 * and all.  Databases have names here, not numbers: DB 0 is this one,
 * and another number is refused.
 */
/*
 * COPY's work: src's document (from c->from when set: another database,
 * else c->db) put at dst in c->db, with its TTL; ":1", or ":0" when src
 * is missing or dst is there without replace.
 */
static void
copyKey(client *c, const char *src, const char *dst, bool replace)
{
	nedb *from = c->from;
	struct place ps, pd;
	nedb_buf doc = {0};
	nedb_doc d, dd;
	robj t = {0};
	int r;

	route(c->conn, src, strlen(src), &ps);
	route(c->conn, dst, strlen(dst), &pd);
	r = dbFetchAt(c, &ps, &d);
	c->from = NULL;		/* dst is c->db's */
	if (r <= 0) {
		if (r == 0)
			addReplyLongLong(c, 0);
		c->from = from;
		return;
	}
	t.exp = d.exp;
	/* between keys of different shapes (a registration's and another)
	 * the value moves, not the document */
	if (ps.codec != pd.codec) {
		if (parseObject(ps.codec, d.doc, d.len, &t)) {
			oom(c);
			goto done;
		}
		if (t.type == OBJ_UNKNOWN) {
			addReplyErrorFormat(c, "ERR cannot copy key '%.64s' to "
					    "'%.64s': its document is not a "
					    "value", src, dst);
			goto done;
		}
		if (docFor(c, &pd, dst, &t, &doc))
			goto done;
	} else if (nedb_buf_add(&doc, d.doc, d.len)) {
		oom(c);
		goto done;
	}
	if ((r = dbFetchAt(c, &pd, &dd)) > 0 && !replace)
		addReplyLongLong(c, 0);
	else if (r >= 0 &&
		 dbPutAt(c, dst, &pd, doc.p, doc.len, ttlLeft(&t)) == 0)
		addReplyLongLong(c, 1);
done:
	c->from = from;
	robjFree(&t);
	nedb_buf_free(&doc);
}

static long long dbIndexArg(client *c, int j);
static bool sameDb(const client *c, long long db);
static void addReplyOtherDb(client *c);

static void
copyCommand(client *c)
{
	const char *src = c->argv[1], *dst = c->argv[2];
	bool replace = false;

	long long db = -1;

	for (int j = 3; j < c->argc; j++) {
		if (argIs(c, j, "replace")) {
			replace = true;
		} else if (argIs(c, j, "db") && j + 1 < c->argc) {
			if ((db = dbIndexArg(c, ++j)) < 0)
				return;
		} else {
			addReplySyntaxError(c);
			return;
		}
	}
	if (db >= 0 && !sameDb(c, db)) {
		/* nedbd answers it (other_db_command) */
		addReplyOtherDb(c);
		return;
	}
	if (!strcmp(src, dst)) {
		addReplyError(c, "ERR source and destination objects are the "
			      "same");
		return;
	}
	copyKey(c, src, dst, replace);
}

static void
keysCommand(client *c)
{
	struct keyscan ks = {c->argv[1], c->argvlen[1], 0, {0}, false};
	char q[80];
	int rc;

	rc = nedb_query(c->db, keysQuery(c, q), 0, keysRow, &ks);
	if (ks.oom)
		oom(c);
	else if (rc)
		failed(c, rc);
	else
		addReplyArrayBuf(c, ks.n, &ks.b);
	nedb_buf_free(&ks.b);
}

static size_t randomBelow(size_t n);

/*
 * RANDOMKEY: a key the keys' collection holds (those KEYS sees), each
 * with the same chance, or nil when there is none.  Redis picks from its
 * hash table; this keeps one key of those read so far, the i-th in
 * place of the one kept with a chance of 1/i.
 */
struct randomkey {
	uint64_t seen;
	char *key;		/* owned */
	size_t len;
	bool oom;
};

static int
randomkeyRow(const char *json, size_t len, void *payload)
{
	struct randomkey *rk = payload;
	struct nql_span v;
	char *key;
	size_t n;

	/* not rowKey: the key is copied only when drawn */
	if (!nedb__doc_member(json, len, "_id", &v.p, &v.len))
		return 0;
	if (randomBelow((size_t)++rk->seen) != 0)
		return 0;
	if (!(key = nedb__string_value(v, &n))) {
		rk->oom = true;
		return 1;
	}
	free(rk->key);
	rk->key = key;
	rk->len = n;
	return 0;
}

static void
randomkeyCommand(client *c)
{
	struct randomkey rk = {0};
	char q[80];
	int rc;

	rc = nedb_query(c->db, keysQuery(c, q), 0, randomkeyRow, &rk);
	if (rk.oom)
		oom(c);
	else if (rc)
		failed(c, rc);
	else if (rk.key)
		addReplyBulk(c, rk.key, rk.len);
	else
		addReplyNull(c);
	free(rk.key);
}

static void
dbsizeCommand(client *c)
{
	uint64_t n;

	if (dbSize(c, &n) == 0)
		addReplyLongLong(c, (long long)n);
}

static void
flushdbCommand(client *c)
{
	int rc;

	if (c->argc > 2 || (c->argc == 2 && !argIs(c, 1, "sync") &&
			    !argIs(c, 1, "async"))) {
		addReplySyntaxError(c);
		return;
	}
	/* the keys' collection, and those of the registrations */
	rc = nedb_write_drop(c->db, keysColl(c), &c->w, NULL);
	for (size_t i = 0; c->conn->map && i < c->conn->map->n &&
	     (!rc || rc == NEDB_ENOTFOUND); i++) {
		const struct maprule *r = &c->conn->map->r[i];
		bool seen = !strcmp(r->coll, keysColl(c));

		for (size_t k = 0; k < i && !seen; k++)
			seen = c->conn->map->r[k].db == c->conn->dbnum &&
			       !strcmp(c->conn->map->r[k].coll, r->coll);
		if (r->db == c->conn->dbnum && !seen)
			rc = nedb_write_drop(c->db, r->coll, &c->w, NULL);
	}
	if (rc && rc != NEDB_ENOTFOUND) {
		failed(c, rc);
		return;
	}
	addReplyOK(c);
}

/* ---- hashes -------------------------------------------------------------- */

/* Sets field to value in hash o; 1 when the field is new. */
static int
hashSet(robj *o, const char *f, size_t fn, const char *v, size_t vn)
{
	long i = hashFind(o, f, fn);

	if (i >= 0)
		return bstrSet(&o->v[i + 1], v, vn) ? -1 : 0;
	if (robjInsert(o, o->n, f, fn) || robjInsert(o, o->n, v, vn))
		return -1;
	return 1;
}

static void
hsetGenericCommand(client *c, bool hmset)
{
	long long created = 0;
	robj o;
	int r;

	if (c->argc % 2 == 1) {
		addReplyArity(c);
		return;
	}
	if (hsetElems(c, hmset))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	for (int j = 2; j < c->argc; j += 2) {
		if ((r = hashSet(&o, c->argv[j], c->argvlen[j], c->argv[j + 1],
				 c->argvlen[j + 1])) < 0) {
			oom(c);
			goto done;
		}
		created += r;
	}
	if (storeKey(c, c->argv[1], &o, TTL_KEEP))
		goto done;
	if (hmset)
		addReplyOK(c);
	else
		addReplyLongLong(c, created);
done:
	robjFree(&o);
}

static void
hsetCommand(client *c)
{
	hsetGenericCommand(c, false);
}

static void
hmsetCommand(client *c)
{
	hsetGenericCommand(c, true);
}

static void
hsetnxCommand(client *c)
{
	robj o;

	if (hsetnxElems(c))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	if (hashFind(&o, c->argv[2], c->argvlen[2]) >= 0)
		addReplyLongLong(c, 0);
	else if (hashSet(&o, c->argv[2], c->argvlen[2], c->argv[3],
			 c->argvlen[3]) < 0)
		oom(c);
	else if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, 1);
	robjFree(&o);
}

static void
hgetCommand(client *c)
{
	robj o;
	long i;

	if (hgetElems(c))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	if ((i = hashFind(&o, c->argv[2], c->argvlen[2])) >= 0)
		addReplyBulk(c, o.v[i + 1].p, o.v[i + 1].len);
	else
		addReplyNull(c);
	robjFree(&o);
}

static void
hmgetCommand(client *c)
{
	robj o;

	if (hmgetElems(c, false))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	addReplyArrayLen(c, c->argc - 2);
	for (int j = 2; j < c->argc; j++) {
		long i = hashFind(&o, c->argv[j], c->argvlen[j]);

		if (i >= 0)
			addReplyBulk(c, o.v[i + 1].p, o.v[i + 1].len);
		else
			addReplyNull(c);
	}
	robjFree(&o);
}

#define H_KEYS 1
#define H_VALS 2

static void
hgetallGenericCommand(client *c, int what)
{
	robj o;

	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	if (what == (H_KEYS | H_VALS))
		addReplyMapLen(c, (long long)(o.n / 2));
	else
		addReplyArrayLen(c, (long long)(o.n / 2));
	for (size_t i = 0; i < o.n; i += 2) {
		if (what & H_KEYS)
			addReplyBulk(c, o.v[i].p, o.v[i].len);
		if (what & H_VALS)
			addReplyBulk(c, o.v[i + 1].p, o.v[i + 1].len);
	}
	robjFree(&o);
}

static void
hgetallCommand(client *c)
{
	hgetallGenericCommand(c, H_KEYS | H_VALS);
}

static void
hkeysCommand(client *c)
{
	hgetallGenericCommand(c, H_KEYS);
}

static void
hvalsCommand(client *c)
{
	hgetallGenericCommand(c, H_VALS);
}

static void
hdelCommand(client *c)
{
	long long deleted = 0;
	robj o;
	int r;

	if (membersElems(c, OBJ_HASH, false))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_HASH, &o)) < 0)
		return;
	for (int j = 2; r && j < c->argc; j++) {
		long i = hashFind(&o, c->argv[j], c->argvlen[j]);

		if (i >= 0) {
			robjRemove(&o, (size_t)i, 2);
			deleted++;
		}
	}
	if (!deleted || storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, deleted);
	robjFree(&o);
}

static void
hexistsCommand(client *c)
{
	robj o;

	if (memberElems(c, OBJ_HASH))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	addReplyLongLong(c, hashFind(&o, c->argv[2], c->argvlen[2]) >= 0);
	robjFree(&o);
}

static void
hlenCommand(client *c)
{
	robj o;

	if (lenElems(c, OBJ_HASH))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	addReplyLongLong(c, (long long)(o.n / 2));
	robjFree(&o);
}

static void
hincrbyCommand(client *c)
{
	long long incr, value = 0;
	char buf[24];
	robj o;
	long i;

	if (getLongLong(c, 3, &incr, NULL))
		return;
	if (hincrbyElems(c, incr))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	i = hashFind(&o, c->argv[2], c->argvlen[2]);
	if (i >= 0 && !string2ll(o.v[i + 1].p, o.v[i + 1].len, &value)) {
		addReplyError(c, "ERR hash value is not an integer");
		goto done;
	}
	if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) ||
	    (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
		addReplyError(c, "ERR increment or decrement would overflow");
		goto done;
	}
	value += incr;
	snprintf(buf, sizeof buf, "%lld", value);
	if (hashSet(&o, c->argv[2], c->argvlen[2], buf, strlen(buf)) < 0)
		oom(c);
	else if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, value);
done:
	robjFree(&o);
}

static void
hstrlenCommand(client *c)
{
	robj o;
	long i;

	if (c->argc == 3 && hmgetElems(c, true))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	i = hashFind(&o, c->argv[2], c->argvlen[2]);
	addReplyLongLong(c, i >= 0 ? (long long)o.v[i + 1].len : 0);
	robjFree(&o);
}

/* HINCRBYFLOAT key field increment; Redis replicates it as HSET with the
 * value replied, which is the value written here. */
static void
hincrbyfloatCommand(client *c)
{
	long double value = 0, incr;
	char buf[5200];
	size_t n;
	robj o;
	long i;

	if (!string2ld(c->argv[3], c->argvlen[3], &incr)) {
		addReplyError(c, "ERR value is not a valid float");
		return;
	}
	if (isnan(incr) || isinf(incr)) {
		addReplyError(c, "ERR value is NaN or Infinity");
		return;
	}
	if (hincrbyfloatElems(c, incr))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_HASH, &o) < 0)
		return;
	i = hashFind(&o, c->argv[2], c->argvlen[2]);
	if (i >= 0 && !string2ld(o.v[i + 1].p, o.v[i + 1].len, &value)) {
		addReplyError(c, "ERR hash value is not a float");
		goto done;
	}
	value += incr;
	if (isnan(value) || isinf(value)) {
		addReplyError(c, "ERR increment would produce NaN or Infinity");
		goto done;
	}
	n = ld2human(buf, sizeof buf, value);
	if (hashSet(&o, c->argv[2], c->argvlen[2], buf, n) < 0)
		oom(c);
	else if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyBulk(c, buf, n);
done:
	robjFree(&o);
}

/* A random number below n (n > 0), for the commands that pick at random
 * (HRANDFIELD, SRANDMEMBER, SPOP): xorshift64*, seeded from the clock
 * and the address of its state.  Not for secrets. */
static size_t
randomBelow(size_t n)
{
	static uint64_t s;

	if (!s)
		s = (uint64_t)nedb_now_ms() * 0x9e3779b97f4a7c15ull ^
		    (uint64_t)(uintptr_t)&s;
	s ^= s >> 12;
	s ^= s << 25;
	s ^= s >> 27;
	return (size_t)((s * 0x2545f4914f6cdd1dull) >> 11) % n;
}

/*
 * Picks with repeats that one reply may hold: Redis answers any count
 * (and allocates for it); a server shared by many must not.
 */
#define MAX_RANDOM_REPEATS (1ll << 20)

static int
randomCountOk(client *c, long long count)
{
	if (count >= -MAX_RANDOM_REPEATS)
		return 0;
	addReplyErrorFormat(c, "ERR count is too large: at most %lld picks "
			    "with repeats here", MAX_RANDOM_REPEATS);
	return -1;
}

/*
 * The picks of HRANDFIELD and SRANDMEMBER with a count, as Redis makes
 * them: count >= 0 distinct ones (all when count >= n), count < 0 that
 * many with repeats.  Positions in [0, n) into *out (caller frees).
 */
static size_t
randomPicks(long long count, size_t n, size_t **out)
{
	size_t k, *p;

	if (count >= 0) {
		k = (unsigned long long)count < n ? (size_t)count : n;
		p = nedb__malloc((n ? n : 1) * sizeof *p);
		for (size_t i = 0; i < n; i++)
			p[i] = i;
		if (k < n)	/* a partial Fisher-Yates shuffle */
			for (size_t i = 0; i < k; i++) {
				size_t j = i + randomBelow(n - i), t = p[i];

				p[i] = p[j];
				p[j] = t;
			}
	} else {
		k = (size_t)-count;
		p = nedb__malloc(k * sizeof *p);
		for (size_t i = 0; i < k; i++)
			p[i] = randomBelow(n);
	}
	*out = p;
	return k;
}

static void addReplyDouble(client *c, double d);

/* The arguments [count [WITH...]] of HRANDFIELD and ZRANDMEMBER. */
static int
randomArgs(client *c, const char *with, long long *count)
{
	bool withvalues = c->argc == 4;

	*count = 1;
	if (c->argc < 3)
		return 0;
	if (getLongLong(c, 2, count, NULL))
		return -1;
	if (*count < -LLONG_MAX) {
		addReplyError(c, "ERR value is out of range, value must "
			      "between -9223372036854775807 and "
			      "9223372036854775807");
		return -1;
	}
	if (c->argc > 4 || (withvalues && !argIs(c, 3, with))) {
		addReplySyntaxError(c);
		return -1;
	}
	if (withvalues && (*count < -LLONG_MAX / 2 ||
			   *count > LLONG_MAX / 2)) {
		addReplyError(c, "ERR value is out of range");
		return -1;
	}
	return 0;
}

/* ZRANDMEMBER key [count [WITHSCORES]]. */
static void
zrandmemberCommand(client *c)
{
	bool withscores = c->argc == 4, hascount = c->argc >= 3;
	long long count;
	size_t k, *pick;
	robj o;
	int r;

	if (randomArgs(c, "withscores", &count) ||
	    (r = lookupTyped(c, c->argv[1], OBJ_ZSET, &o)) < 0)
		return;
	if (!r || (hascount && count == 0)) {
		if (hascount)
			addReplyArrayLen(c, 0);
		else
			addReplyNull(c);
		goto done;
	}
	if (!hascount) {
		size_t i = randomBelow(o.n);

		addReplyBulk(c, o.v[i].p, o.v[i].len);
		goto done;
	}
	if (randomCountOk(c, count))
		goto done;
	k = randomPicks(count, o.n, &pick);
	if (withscores)
		addReplyPairsLen(c, (long long)k);
	else
		addReplyArrayLen(c, (long long)k);
	for (size_t j = 0; j < k; j++) {
		if (withscores)
			addReplyPair(c);
		addReplyBulk(c, o.v[pick[j]].p, o.v[pick[j]].len);
		if (withscores)
			addReplyDouble(c, o.sc[pick[j]]);
	}
	free(pick);
done:
	robjFree(&o);
}

/* HRANDFIELD key [count [WITHVALUES]]. */
static void
hrandfieldCommand(client *c)
{
	bool withvalues = c->argc == 4, hascount = c->argc >= 3;
	long long count;
	size_t k, *pick;
	robj o;
	int r;

	if (randomArgs(c, "withvalues", &count) ||
	    (r = lookupTyped(c, c->argv[1], OBJ_HASH, &o)) < 0)
		return;
	if (!r || (hascount && count == 0)) {
		if (hascount)
			addReplyArrayLen(c, 0);
		else
			addReplyNull(c);
		goto done;
	}
	if (!hascount) {
		size_t i = 2 * randomBelow(o.n / 2);

		addReplyBulk(c, o.v[i].p, o.v[i].len);
		goto done;
	}
	if (randomCountOk(c, count))
		goto done;
	k = randomPicks(count, o.n / 2, &pick);
	if (withvalues)
		addReplyPairsLen(c, (long long)k);
	else
		addReplyArrayLen(c, (long long)k);
	for (size_t j = 0; j < k; j++) {
		const bstr *f = &o.v[2 * pick[j]];

		if (withvalues)
			addReplyPair(c);
		addReplyBulk(c, f->p, f->len);
		if (withvalues)
			addReplyBulk(c, f[1].p, f[1].len);
	}
	free(pick);
done:
	robjFree(&o);
}

/* ---- sets ----------------------------------------------------------------- */

/* SADD and SREM: insert or remove each member; store only on change. */
static void
saddremGenericCommand(client *c, bool add)
{
	long long changed = 0;
	robj o;

	if (membersElems(c, OBJ_SET, add))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_SET, &o) < 0)
		return;
	for (int j = 2; j < c->argc; j++) {
		bool found;
		size_t at = setFind(&o, c->argv[j], c->argvlen[j], &found);

		if (found == add)
			continue;
		if (!add)
			robjRemove(&o, at, 1);
		else if (robjInsert(&o, at, c->argv[j], c->argvlen[j])) {
			oom(c);
			goto done;
		}
		changed++;
	}
	if (!changed || storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, changed);
done:
	robjFree(&o);
}

static void
saddCommand(client *c)
{
	saddremGenericCommand(c, true);
}

static void
sremCommand(client *c)
{
	saddremGenericCommand(c, false);
}

static void
addReplyMembers(client *c, const robj *o)
{
	addReplyArrayLen(c, (long long)o->n);
	for (size_t i = 0; i < o->n; i++)
		addReplyBulk(c, o->v[i].p, o->v[i].len);
}

/* The same as a set (RESP3's "~": SMEMBERS, SUNION, SPOP's count...) */
static void
addReplySetMembers(client *c, const robj *o)
{
	addReplySetLen(c, (long long)o->n);
	for (size_t i = 0; i < o->n; i++)
		addReplyBulk(c, o->v[i].p, o->v[i].len);
}

static void
smembersCommand(client *c)
{
	robj o;

	if (lookupTyped(c, c->argv[1], OBJ_SET, &o) < 0)
		return;
	addReplySetMembers(c, &o);
	robjFree(&o);
}

static void
sismemberCommand(client *c)
{
	bool found = false;
	robj o;

	if (memberElems(c, OBJ_SET))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_SET, &o) < 0)
		return;
	setFind(&o, c->argv[2], c->argvlen[2], &found);
	addReplyLongLong(c, found);
	robjFree(&o);
}

static void
scardCommand(client *c)
{
	robj o;

	if (lenElems(c, OBJ_SET))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_SET, &o) < 0)
		return;
	addReplyLongLong(c, (long long)o.n);
	robjFree(&o);
}

enum { SET_OP_UNION, SET_OP_INTER, SET_OP_DIFF };

/*
 * The union, intersection or difference of the sets named by the nsets
 * arguments from first on, into res (an empty set to begin with).  Every
 * key is read (and type checked) first, as Redis does; a missing key is
 * an empty set.  Sets are sorted, so the result is built sorted.
 * Returns 0, or -1 after an error reply.
 */
static int
setOpCompute(client *c, int first, int nsets, int op, robj *res)
{
	robj *sets;
	bool missing = false;
	int j, rc = -1;

	sets = nedb__calloc((size_t)nsets, sizeof *sets);
	for (j = 0; j < nsets; j++) {
		int r = lookupTyped(c, c->argv[first + j], OBJ_SET, &sets[j]);

		if (r < 0)
			goto done;
		missing |= r == 0;
	}
	if (op == SET_OP_UNION) {
		for (j = 0; j < nsets; j++)
			for (size_t i = 0; i < sets[j].n; i++) {
				bstr *m = &sets[j].v[i];
				bool found;
				size_t at = setFind(res, m->p, m->len, &found);

				if (!found &&
				    robjInsert(res, at, m->p, m->len)) {
					oom(c);
					goto done;
				}
			}
		rc = 0;
		goto done;
	}
	if (op == SET_OP_INTER && missing) {
		rc = 0;
		goto done;
	}
	/* SINTER, SDIFF: the members of the first set that the others
	 * all have, or that none of them has; in order already */
	for (size_t i = 0; i < sets[0].n; i++) {
		bstr *m = &sets[0].v[i];
		bool keep = true;

		for (j = 1; j < nsets && keep; j++) {
			bool found;

			setFind(&sets[j], m->p, m->len, &found);
			keep = op == SET_OP_INTER ? found : !found;
		}
		if (keep && robjInsert(res, res->n, m->p, m->len)) {
			oom(c);
			goto done;
		}
	}
	rc = 0;
done:
	for (j = 0; j < nsets; j++)
		robjFree(&sets[j]);
	free(sets);
	return rc;
}

/* SUNION, SINTER, SDIFF. */
static void
setOpGenericCommand(client *c, int op)
{
	robj res = {.type = OBJ_SET};

	if (setOpCompute(c, 1, c->argc - 1, op, &res) == 0)
		addReplySetMembers(c, &res);
	robjFree(&res);
}

/*
 * SUNIONSTORE, SINTERSTORE, SDIFFSTORE destination key...: the result
 * replaces destination, whatever it held, without a TTL; an empty result
 * deletes it.
 */
static void
setOpStoreGenericCommand(client *c, int op)
{
	robj res = {.type = OBJ_SET};

	if (setOpCompute(c, 2, c->argc - 2, op, &res) == 0 &&
	    storeKey(c, c->argv[1], &res, 0) == 0)
		addReplyLongLong(c, (long long)res.n);
	robjFree(&res);
}

static void
sunionstoreCommand(client *c)
{
	setOpStoreGenericCommand(c, SET_OP_UNION);
}

static void
sinterstoreCommand(client *c)
{
	setOpStoreGenericCommand(c, SET_OP_INTER);
}

static void
sdiffstoreCommand(client *c)
{
	setOpStoreGenericCommand(c, SET_OP_DIFF);
}

static bool keyArgsValid(client *c, int first, int last);

/* SINTERCARD numkeys key... [LIMIT limit]. */
static void
sintercardCommand(client *c)
{
	long long numkeys, limit = 0;
	robj res = {.type = OBJ_SET};

	if (getLongLong(c, 1, &numkeys, "ERR numkeys should be greater "
			"than 0"))
		return;
	if (numkeys < 1) {
		addReplyError(c, "ERR numkeys should be greater than 0");
		return;
	}
	if (numkeys > c->argc - 2) {
		addReplyError(c, "ERR Number of keys can't be greater than "
			      "number of args");
		return;
	}
	for (int j = 2 + (int)numkeys; j < c->argc; j++) {
		if (!argIs(c, j, "limit") || j + 1 == c->argc) {
			addReplySyntaxError(c);
			return;
		}
		if (getLongLong(c, ++j, &limit, "ERR LIMIT can't be negative"))
			return;
		if (limit < 0) {
			addReplyError(c, "ERR LIMIT can't be negative");
			return;
		}
	}
	if (!keyArgsValid(c, 2, 1 + (int)numkeys))
		return;
	if (setOpCompute(c, 2, (int)numkeys, SET_OP_INTER, &res) == 0)
		addReplyLongLong(c, limit && (size_t)limit < res.n ? limit :
				 (long long)res.n);
	robjFree(&res);
}

static void
smismemberCommand(client *c)
{
	robj o;

	if (mfindElems(c, OBJ_SET))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_SET, &o) < 0)
		return;
	addReplyArrayLen(c, c->argc - 2);
	for (int j = 2; j < c->argc; j++) {
		bool found = false;

		setFind(&o, c->argv[j], c->argvlen[j], &found);
		addReplyLongLong(c, found);
	}
	robjFree(&o);
}

/* SMOVE source destination member. */
/* {"$OP":[member]} for member m: 0, or -1 (out of memory). */
static int
memberUpd(nedb_buf *upd, const char *op, const char *m, size_t mlen)
{
	upd->len = 0;
	return nedb_buf_printf(upd, "{\"$%s\":[", op) ||
	       nedb_buf_json_str(upd, m, mlen) ||
	       nedb_buf_add(upd, "]}", 2) ? -1 : 0;
}

/*
 * SMOVE from a set the view keeps as elements: the member looked up and
 * removed by key, and added to the destination by key where it is kept
 * so too, else whole.  1 when done, 0 to take the sets whole (a member
 * that is not UTF-8, or a move that empties the source).
 */
static int
smoveElems(client *c)
{
	const char *src = c->argv[1], *dst = c->argv[2];
	const char *m = c->argv[3];
	size_t mlen = c->argvlen[3], at;
	struct elx xs, xd;
	nedb_buf upd = {0};
	robj d = {0};
	bool dfound = false;
	int r, found, ed = 0;

	if (!nedb__utf8_valid((const unsigned char *)m, mlen) ||
	    (r = elemsKeyAs(c, src, OBJ_SET, &xs, true)) == 0)
		return 0;
	if (r < 0)
		return 1;
	found = nedb__el_find(&c->db->view, xs.txn, xs.dk, xs.dklen, EL_SET,
			      m, mlen, NULL, NULL);
	elemsDone(c, &xs);
	if (found < 0) {
		failed(c, found);
		return 1;
	}
	if (found && xs.e.n < 2)
		return 0;
	/* the destination's type, before anything moves */
	if (strcmp(src, dst)) {
		if ((ed = elemsKeyAs(c, dst, OBJ_SET, &xd, true)) < 0)
			return 1;
		if (ed) {
			r = nedb__el_find(&c->db->view, xd.txn, xd.dk, xd.dklen,
					  EL_SET, m, mlen, NULL, NULL);
			elemsDone(c, &xd);
			if (r < 0) {
				failed(c, r);
				return 1;
			}
			dfound = r;
		} else if (lookupTyped(c, dst, OBJ_SET, &d) < 0) {
			goto done;
		}
	} else {
		addReplyLongLong(c, found ? 1 : 0);
		return 1;
	}
	if (!found) {
		addReplyLongLong(c, 0);
		goto done;
	}
	if (!ed)
		at = setFind(&d, m, mlen, &dfound);
	if (memberUpd(&upd, "sadd", m, mlen)) {
		oom(c);
		goto done;
	}
	if (ed && !dfound && !elemsRoom(&xd, &upd)) {
		robjFree(&d);
		nedb_buf_free(&upd);
		return 0;	/* the whole path says why not */
	}
	if (!ed && !dfound && robjInsert(&d, at, m, mlen)) {
		oom(c);
		goto done;
	}
	/* out of the source, then into the destination, as Redis */
	if (memberUpd(&upd, "srem", m, mlen)) {
		oom(c);
		goto done;
	}
	if (elemsWrite(c, src, &xs, &upd))
		goto done;
	if (!dfound && ed && (memberUpd(&upd, "sadd", m, mlen) ?
			      oom(c) : elemsWrite(c, dst, &xd, &upd)))
		goto done;
	if (!dfound && !ed && storeKey(c, dst, &d, TTL_KEEP))
		goto done;
	addReplyLongLong(c, 1);
done:
	robjFree(&d);
	nedb_buf_free(&upd);
	return 1;
}

struct spopwalk {
	uint64_t n, k;		/* members left to pass, to take */
	uint64_t skip;		/* count 1: members to pass first */
	bool one;
	nedb_buf reply, upd;
	size_t taken;
	int rc;
};

/* Knuth's selection sampling (TAOCP 3.4.2, algorithm S): each member is
 * taken with chance (to take) / (left), which takes k uniformly. */
static int
spopOne(const char *json, size_t len, void *payload)
{
	struct spopwalk *w = payload;
	bstr m = {0};
	bool take;

	if (w->one)
		take = w->skip-- == 0;
	else
		take = randomBelow(w->n) < w->k;
	w->n--;
	if (!take)
		return 0;
	w->rc = -1;
	if (decodeStr(json, json + len, false, &m) ||
	    bufBulk(&w->reply, m.p, m.len) ||
	    (w->taken && nedb_buf_add(&w->upd, ",", 1)) ||
	    nedb_buf_json_str(&w->upd, m.p, m.len)) {
		free(m.p);
		return -1;
	}
	free(m.p);
	w->rc = 0;
	w->taken++;
	return --w->k == 0 ? 1 : 0;
}

/*
 * SPOP from a set the view keeps as elements: count members chosen at
 * random in one walk (a count of one: the member at a random rank),
 * removed by one $srem.  1 when done, 0 to take it whole (a pop that
 * empties it).
 */
static int
spopElems(client *c, bool hascount, long long count)
{
	struct spopwalk w = {0};
	struct elx x;
	int r;

	if (count <= 0 ||
	    (r = elemsKey(c, c->argv[1], OBJ_SET, &x)) == 0)
		return 0;
	if (r < 0)
		return 1;
	if ((uint64_t)count >= x.e.n) {
		elemsDone(c, &x);
		return 0;
	}
	w.n = x.e.n;
	w.k = (uint64_t)count;
	w.one = count == 1;
	if (w.one)
		w.skip = randomBelow(x.e.n);
	r = nedb_buf_puts(&w.upd, "{\"$srem\":[") ? -1 :
	    nedb__el_walk(&c->db->view, x.txn, x.dk, x.dklen, EL_SET, false,
			  UINT64_MAX, spopOne, &w);
	elemsDone(c, &x);
	if (r && !w.rc)
		failed(c, r);
	else if (r || nedb_buf_add(&w.upd, "]}", 2))
		oom(c);
	else if (w.taken != (size_t)count)
		failed(c, nedb__err(NEDB_ECORRUPT, "corrupt view: a set kept "
				    "as elements has fewer than its header "
				    "says; run nedb-checkpoint --rebuild"));
	else if (!elemsWrite(c, c->argv[1], &x, &w.upd)) {
		if (hascount)
			addReplySetLen(c, (long long)w.taken);
		addReplyRaw(c, w.reply.p, w.reply.len);
	}
	nedb_buf_free(&w.reply);
	nedb_buf_free(&w.upd);
	return 1;
}

static void
smoveCommand(client *c)
{
	const char *src = c->argv[1], *dst = c->argv[2];
	const char *m = c->argv[3];
	size_t mlen = c->argvlen[3], at;
	robj s, d = {0};
	bool found;
	int r;

	if (smoveElems(c))
		return;
	if ((r = lookupKey(c, src, &s)) || s.type == OBJ_NONE) {
		if (!r)
			addReplyLongLong(c, 0);
		return;
	}
	if (s.type != OBJ_SET) {
		robjFree(&s);
		addReplyWrongType(c);
		return;
	}
	if (lookupTyped(c, dst, OBJ_SET, &d) < 0)
		goto done;
	at = setFind(&s, m, mlen, &found);
	if (!strcmp(src, dst) || !found) {
		addReplyLongLong(c, found);
		goto done;
	}
	robjRemove(&s, at, 1);
	at = setFind(&d, m, mlen, &found);
	if (!found && robjInsert(&d, at, m, mlen)) {
		oom(c);
		goto done;
	}
	if (storeKey(c, src, &s, TTL_KEEP) == 0 &&
	    (found || storeKey(c, dst, &d, TTL_KEEP) == 0))
		addReplyLongLong(c, 1);
done:
	robjFree(&s);
	robjFree(&d);
}

/* SPOP key [count]: Redis replicates it as SREM; here the set without
 * the members popped is written. */
static void
spopCommand(client *c)
{
	bool hascount = c->argc == 3;
	long long count = 1;
	size_t k;
	robj o, popped = {.type = OBJ_SET};
	int r;

	if (c->argc > 3) {
		addReplySyntaxError(c);
		return;
	}
	if (hascount && (!string2ll(c->argv[2], c->argvlen[2], &count) ||
			 count < 0)) {
		addReplyError(c, "ERR value is out of range, must be positive");
		return;
	}
	if (spopElems(c, hascount, count))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_SET, &o)) < 0)
		return;
	if (!r || count == 0) {
		if (hascount)
			addReplySetLen(c, 0);
		else
			addReplyNull(c);
		goto done;
	}
	k = (unsigned long long)count < o.n ? (size_t)count : o.n;
	for (size_t i = 0; i < k; i++) {
		size_t at = randomBelow(o.n);

		if (robjReserve(&popped)) {
			oom(c);
			goto done;
		}
		popped.v[popped.n++] = o.v[at];
		o.v[at].p = NULL;
		robjRemove(&o, at, 1);
	}
	if (storeKey(c, c->argv[1], &o, TTL_KEEP))
		goto done;
	if (hascount)
		addReplySetMembers(c, &popped);
	else
		addReplyBulk(c, popped.v[0].p, popped.v[0].len);
done:
	robjFree(&popped);
	robjFree(&o);
}

/* SRANDMEMBER key [count]. */
static void
srandmemberCommand(client *c)
{
	bool hascount = c->argc == 3;
	long long count = 1;
	size_t k, *pick;
	robj o;
	int r;

	if (c->argc > 3) {
		addReplySyntaxError(c);
		return;
	}
	if (hascount) {
		if (getLongLong(c, 2, &count, NULL))
			return;
		if (count < -LLONG_MAX) {
			addReplyError(c, "ERR value is out of range, value must "
				      "between -9223372036854775807 and "
				      "9223372036854775807");
			return;
		}
	}
	if ((r = lookupTyped(c, c->argv[1], OBJ_SET, &o)) < 0)
		return;
	if (!r || (hascount && count == 0)) {
		if (hascount)
			addReplyArrayLen(c, 0);
		else
			addReplyNull(c);
		goto done;
	}
	if (!hascount) {
		size_t i = randomBelow(o.n);

		addReplyBulk(c, o.v[i].p, o.v[i].len);
		goto done;
	}
	if (randomCountOk(c, count))
		goto done;
	k = randomPicks(count, o.n, &pick);
	addReplyArrayLen(c, (long long)k);
	for (size_t j = 0; j < k; j++)
		addReplyBulk(c, o.v[pick[j]].p, o.v[pick[j]].len);
	free(pick);
done:
	robjFree(&o);
}

static void
sunionCommand(client *c)
{
	setOpGenericCommand(c, SET_OP_UNION);
}

static void
sinterCommand(client *c)
{
	setOpGenericCommand(c, SET_OP_INTER);
}

static void
sdiffCommand(client *c)
{
	setOpGenericCommand(c, SET_OP_DIFF);
}

/* ---- sorted sets ------------------------------------------------------------ */

/*
 * Redis's string2d: the whole of s as strtod reads it (inf, nan refused,
 * hex accepted), no leading space, no overflow.
 */
static bool
string2d(const char *s, size_t n, double *out)
{
	char *end;
	double d;

	if (n == 0 || isspace((unsigned char)s[0]))
		return false;
	errno = 0;
	d = strtod(s, &end);
	if ((size_t)(end - s) != n || isnan(d) ||
	    (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL ||
				 fpclassify(d) == FP_ZERO)))
		return false;
	*out = d;
	return true;
}

static int
getDouble(client *c, int i, double *d, const char *msg)
{
	if (string2d(c->argv[i], c->argvlen[i], d))
		return 0;
	addReplyError(c, msg ? msg : "ERR value is not a valid float");
	return -1;
}

static void
addReplyDouble(client *c, double d)
{
	if (bufDouble(c->out, d, c->resp))
		c->oom = true;
}


/*
 * ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member ..., and ZINCRBY key
 * increment member (INCR): Redis's zaddGenericCommand, options first,
 * then pairs, then the incompatible options, every score, the key.
 */
static void
zaddGenericCommand(client *c, unsigned flags)
{
	static const struct { const char *name; unsigned flag; } opts[] = {
		{"nx", ZADD_NX}, {"xx", ZADD_XX}, {"ch", ZADD_CH},
		{"incr", ZADD_INCR}, {"gt", ZADD_GT}, {"lt", ZADD_LT},
	};
	long long added = 0, updated = 0, processed = 0;
	int at = 2, elements, r;
	double *scores = NULL, score = 0;
	robj o = {0};

	for (; at < c->argc; at++) {
		size_t k;

		for (k = 0; k < 6 && !argIs(c, at, opts[k].name); k++)
			;
		if (k == 6)
			break;
		flags |= opts[k].flag;
	}
	elements = c->argc - at;
	if (elements % 2 || !elements) {
		addReplySyntaxError(c);
		return;
	}
	elements /= 2;
	if ((flags & ZADD_NX) && (flags & ZADD_XX)) {
		addReplyError(c, "ERR XX and NX options at the same time are "
			      "not compatible");
		return;
	}
	if (((flags & ZADD_NX) && (flags & (ZADD_GT | ZADD_LT))) ||
	    ((flags & ZADD_GT) && (flags & ZADD_LT))) {
		addReplyError(c, "ERR GT, LT, and/or NX options at the same "
			      "time are not compatible");
		return;
	}
	if ((flags & ZADD_INCR) && elements > 1) {
		addReplyError(c, "ERR INCR option supports a single "
			      "increment-element pair");
		return;
	}
	scores = nedb__malloc((size_t)elements * sizeof *scores);
	for (int j = 0; j < elements; j++)
		if (getDouble(c, at + 2 * j, &scores[j], NULL))
			goto done;
	if (zaddElems(c, flags, at, elements, scores))
		goto done;
	if ((r = lookupTyped(c, c->argv[1], OBJ_ZSET, &o)) < 0)
		goto done;
	if (!r && (flags & ZADD_XX))
		goto reply;
	for (int j = 0; j < elements; j++) {
		const char *m = c->argv[at + 2 * j + 1];
		size_t mlen = c->argvlen[at + 2 * j + 1];
		bool found;
		size_t i = setFind(&o, m, mlen, &found);

		score = scores[j];
		if (!found) {
			if (flags & ZADD_XX)
				continue;
			/* listpacks keep -0 as the integer 0: so does this */
			if (zsetInsert(&o, i, m, mlen, score == 0 ? 0 : score)) {
				oom(c);
				goto done;
			}
			added++;
			processed++;
			continue;
		}
		if (flags & ZADD_NX)
			continue;
		if (flags & ZADD_INCR) {
			score += o.sc[i];
			if (isnan(score)) {
				addReplyError(c, "ERR resulting score is not a "
					      "number (NaN)");
				goto done;
			}
		}
		if (((flags & ZADD_LT) && score >= o.sc[i]) ||
		    ((flags & ZADD_GT) && score <= o.sc[i]))
			continue;
		processed++;
		if (score != o.sc[i]) {
			o.sc[i] = score == 0 ? 0 : score;
			updated++;
		}
	}
	if ((added || updated) && storeKey(c, c->argv[1], &o, TTL_KEEP))
		goto done;
reply:
	if (!(flags & ZADD_INCR))
		addReplyLongLong(c, flags & ZADD_CH ? added + updated : added);
	else if (processed)
		addReplyDouble(c, score);
	else
		addReplyNull(c);
done:
	free(scores);
	robjFree(&o);
}

static void
zaddCommand(client *c)
{
	zaddGenericCommand(c, 0);
}

static void
zincrbyCommand(client *c)
{
	zaddGenericCommand(c, ZADD_INCR);
}

static void
zremCommand(client *c)
{
	long long deleted = 0;
	robj o;
	int r;

	if (membersElems(c, OBJ_ZSET, false))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_ZSET, &o)) < 0)
		return;
	for (int j = 2; r && j < c->argc; j++) {
		bool found;
		size_t i = setFind(&o, c->argv[j], c->argvlen[j], &found);

		if (found) {
			zsetRemove(&o, i);
			deleted++;
		}
	}
	if (!deleted || storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, deleted);
	robjFree(&o);
}

static void
zcardCommand(client *c)
{
	robj o;

	if (lenElems(c, OBJ_ZSET))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_ZSET, &o) < 0)
		return;
	addReplyLongLong(c, (long long)o.n);
	robjFree(&o);
}

static void
zscoreCommand(client *c)
{
	bool found = false;
	size_t i;
	robj o;

	if (zscoreElems(c))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_ZSET, &o) < 0)
		return;
	i = setFind(&o, c->argv[2], c->argvlen[2], &found);
	if (found)
		addReplyDouble(c, o.sc[i]);
	else
		addReplyNull(c);
	robjFree(&o);
}

static void
zmscoreCommand(client *c)
{
	robj o;

	if (mfindElems(c, OBJ_ZSET))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_ZSET, &o) < 0)
		return;
	addReplyArrayLen(c, c->argc - 2);
	for (int j = 2; j < c->argc; j++) {
		bool found = false;
		size_t i = setFind(&o, c->argv[j], c->argvlen[j], &found);

		if (found)
			addReplyDouble(c, o.sc[i]);
		else
			addReplyNull(c);
	}
	robjFree(&o);
}

/* ZRANK and ZREVRANK: the rank counted without sorting the set. */

/* A score range: min and max, each inclusive or ("(") exclusive. */
typedef struct zrangespec {
	double min, max;
	bool minex, maxex;
} zrangespec;

/* Redis's zslParseRange: strtod up to the NUL, after an optional "(". */
static bool
zrangeItem(const char *s, double *v, bool *ex)
{
	char *end;

	*ex = s[0] == '(';
	*v = strtod(s + *ex, &end);
	return end[0] == 0 && !isnan(*v);
}

static int
zslParseRange(client *c, int imin, int imax, zrangespec *r)
{
	if (zrangeItem(c->argv[imin], &r->min, &r->minex) &&
	    zrangeItem(c->argv[imax], &r->max, &r->maxex))
		return 0;
	addReplyError(c, "ERR min or max is not a float");
	return -1;
}

static bool
zslValueGteMin(double v, const zrangespec *r)
{
	return r->minex ? v > r->min : v >= r->min;
}

static bool
zslValueLteMax(double v, const zrangespec *r)
{
	return r->maxex ? v < r->max : v <= r->max;
}

/* A lexicographic range: "-" and "+" are the ends, "[" and "(" a bound. */
typedef struct zlexspec {
	const char *min, *max;
	size_t minlen, maxlen;
	int mininf, maxinf;	/* -1: "-", 1: "+", 0: a string */
	bool minex, maxex;
} zlexspec;

static bool
zlexItem(const char *s, size_t n, const char **p, size_t *len, int *inf,
	 bool *ex)
{
	*inf = 0;
	*p = s + 1;
	*len = n ? n - 1 : 0;
	switch (n ? s[0] : 0) {
	case '+':
	case '-':
		*inf = s[0] == '+' ? 1 : -1;
		*ex = true;
		return n == 1;
	case '(':
		*ex = true;
		return true;
	case '[':
		*ex = false;
		return true;
	default:
		return false;
	}
}

static int
zslParseLexRange(client *c, int imin, int imax, zlexspec *r)
{
	if (zlexItem(c->argv[imin], c->argvlen[imin], &r->min, &r->minlen,
		     &r->mininf, &r->minex) &&
	    zlexItem(c->argv[imax], c->argvlen[imax], &r->max, &r->maxlen,
		     &r->maxinf, &r->maxex))
		return 0;
	addReplyError(c, "ERR min or max not valid string range item");
	return -1;
}

/* Redis's sdscmplex: a string against a bound (inf -1 or 1: an end). */
static int
zlexCmp(const char *a, size_t an, int ainf, const char *b, size_t bn,
	int binf)
{
	if (ainf && ainf == binf)
		return 0;
	if (ainf < 0 || binf > 0)
		return -1;
	if (ainf > 0 || binf < 0)
		return 1;
	return bstrCmp(a, an, b, bn);
}

static bool
zslLexValueGteMin(const bstr *m, const zlexspec *r)
{
	int d = zlexCmp(m->p, m->len, 0, r->min, r->minlen, r->mininf);

	return r->minex ? d > 0 : d >= 0;
}

static bool
zslLexValueLteMax(const bstr *m, const zlexspec *r)
{
	int d = zlexCmp(m->p, m->len, 0, r->max, r->maxlen, r->maxinf);

	return r->maxex ? d < 0 : d <= 0;
}

/*
 * Where a lex range starts in z (n members in order), as Redis's
 * listpack code finds it (zzlFirstInLexRange, zzlLastInLexRange): the
 * range must be possible and touch both ends' members; then the first
 * member >= min (the last <= max when rev) must also be within the
 * other bound.  -1: none.
 */
static long
zlexStart(const zent *z, size_t n, const zlexspec *r, bool rev)
{
	int d = zlexCmp(r->min, r->minlen, r->mininf, r->max, r->maxlen,
			r->maxinf);

	if (!n || d > 0 || (d == 0 && (r->minex || r->maxex)) ||
	    !zslLexValueGteMin(z[n - 1].m, r) || !zslLexValueLteMax(z[0].m, r))
		return -1;
	for (size_t k = 0; k < n; k++) {
		size_t i = rev ? n - 1 - k : k;

		if (rev ? zslLexValueLteMax(z[i].m, r) :
		    zslLexValueGteMin(z[i].m, r))
			return (rev ? zslLexValueGteMin(z[i].m, r) :
				zslLexValueLteMax(z[i].m, r)) ? (long)i : -1;
	}
	return -1;
}

/* Where a score range starts: the first member >= min (last <= max). */
static long
zscoreStart(const zent *z, size_t n, const zrangespec *r, bool rev)
{
	for (size_t k = 0; k < n; k++) {
		size_t i = rev ? n - 1 - k : k;

		if (rev ? zslValueLteMax(z[i].s, r) : zslValueGteMin(z[i].s, r))
			return (rev ? zslValueGteMin(z[i].s, r) :
				zslValueLteMax(z[i].s, r)) ? (long)i : -1;
	}
	return -1;
}

static void
zlexcountCommand(client *c)
{
	long long count = 0;
	zlexspec r;
	zent *z;
	long i;
	robj o;

	if (zslParseLexRange(c, 2, 3, &r) ||
	    lookupTyped(c, c->argv[1], OBJ_ZSET, &o) < 0)
		return;
	z = zsetOrder(&o);
	if ((i = zlexStart(z, o.n, &r, false)) >= 0)
		for (; (size_t)i < o.n && zslLexValueLteMax(z[i].m, &r); i++)
			count++;
	addReplyLongLong(c, count);
	free(z);
	robjFree(&o);
}

enum { ZRANGE_AUTO, ZRANGE_RANK, ZRANGE_SCORE, ZRANGE_LEX };
enum { ZDIR_AUTO, ZDIR_FORWARD, ZDIR_REVERSE };

/* The arguments of a ZRANGE, as Redis's zrangeGenericCommand reads them. */
typedef struct zrangeargs {
	int type, dir;
	long long start, end, offset, limit;
	bool withscores;
	zrangespec score;
	zlexspec lex;
} zrangeargs;

static int
zrangeParse(client *c, zrangeargs *a, int src, bool store)
{
	int minidx = src + 1, maxidx = src + 2;

	a->start = a->end = a->offset = 0;
	a->limit = -1;
	a->withscores = false;
	for (int j = src + 3; j < c->argc; j++) {
		int left = c->argc - j - 1;

		if (!store && argIs(c, j, "withscores")) {
			a->withscores = true;
		} else if (argIs(c, j, "limit") && left >= 2) {
			if (getLongLong(c, j + 1, &a->offset, NULL) ||
			    getLongLong(c, j + 2, &a->limit, NULL))
				return -1;
			j += 2;
		} else if (a->dir == ZDIR_AUTO && argIs(c, j, "rev")) {
			a->dir = ZDIR_REVERSE;
		} else if (a->type == ZRANGE_AUTO && argIs(c, j, "bylex")) {
			a->type = ZRANGE_LEX;
		} else if (a->type == ZRANGE_AUTO && argIs(c, j, "byscore")) {
			a->type = ZRANGE_SCORE;
		} else {
			addReplySyntaxError(c);
			return -1;
		}
	}
	if (a->dir == ZDIR_AUTO)
		a->dir = ZDIR_FORWARD;
	if (a->type == ZRANGE_AUTO)
		a->type = ZRANGE_RANK;
	if (a->limit != -1 && a->type == ZRANGE_RANK) {
		addReplyError(c, "ERR syntax error, LIMIT is only supported in "
			      "combination with either BYSCORE or BYLEX");
		return -1;
	}
	if (a->withscores && a->type == ZRANGE_LEX) {
		addReplyError(c, "ERR syntax error, WITHSCORES not supported "
			      "in combination with BYLEX");
		return -1;
	}
	if (a->dir == ZDIR_REVERSE && a->type != ZRANGE_RANK) {
		minidx = src + 2;
		maxidx = src + 1;
	}
	if (a->type == ZRANGE_RANK)
		return getLongLong(c, minidx, &a->start, NULL) ||
		       getLongLong(c, maxidx, &a->end, NULL) ? -1 : 0;
	if (a->type == ZRANGE_SCORE)
		return zslParseRange(c, minidx, maxidx, &a->score);
	return zslParseLexRange(c, minidx, maxidx, &a->lex);
}

/*
 * The positions in z (the order of o) that a range selects, in the order
 * of the reply, into *out (caller frees); returns their number.
 */
static size_t
zrangeSelect(const zrangeargs *a, const zent *z, size_t n, size_t **out)
{
	bool rev = a->dir == ZDIR_REVERSE;
	size_t *sel = nedb__malloc((n ? n : 1) * sizeof *sel), k = 0;
	long long offset = a->offset, limit = a->limit;
	long i;

	*out = sel;
	if (a->type == ZRANGE_RANK) {
		long long start = a->start, end = a->end, len = (long long)n;

		if (!rankRange(&start, &end, len))
			return 0;
		for (long long j = start; j <= end; j++)
			sel[k++] = rev ? (size_t)(len - 1 - j) : (size_t)j;
		return k;
	}
	if (offset < 0 || (offset > 0 && (size_t)offset >= n))
		return 0;
	i = a->type == ZRANGE_SCORE ? zscoreStart(z, n, &a->score, rev) :
	    zlexStart(z, n, &a->lex, rev);
	for (; i >= 0 && (size_t)i < n && offset; offset--)
		i += rev ? -1 : 1;
	for (; i >= 0 && (size_t)i < n && limit--; i += rev ? -1 : 1) {
		bool in = a->type == ZRANGE_SCORE ?
			(rev ? zslValueGteMin(z[i].s, &a->score) :
			 zslValueLteMax(z[i].s, &a->score)) :
			(rev ? zslLexValueGteMin(z[i].m, &a->lex) :
			 zslLexValueLteMax(z[i].m, &a->lex));

		if (!in)
			break;
		sel[k++] = (size_t)i;
	}
	return k;
}

struct zwalk {
	const zrangeargs *a;
	long long skip;		/* members in range to pass (rank, offset) */
	long long left;		/* members to take; -1: all */
	const char *m;		/* ZRANK: the member looked for */
	size_t mlen;
	bool rev, count_only;
	long long k;		/* taken (ZRANK: passed) */
	nedb_buf out;
	int rc;
	int resp;		/* the client's protocol (bufPair) */
};

/* One member of a walk in order: 0 on, 1 enough, -1 an error. */
static int
zwalkOne(const char *json, size_t len, void *payload)
{
	struct zwalk *w = payload;
	const zrangeargs *a = w->a;
	bstr m = {0};
	double d;
	int r = 0;

	if (zentParse(json, len, &m, &d)) {
		r = w->rc = -1;
		goto done;
	}
	if (w->m) {		/* ZRANK: members before it */
		if (m.len == w->mlen && !memcmp(m.p, w->m, m.len))
			r = 1;
		else
			w->k++;
		goto done;
	}
	if (a && a->type == ZRANGE_SCORE) {
		/* outside the near end: not yet; past the far end: done */
		if (!(w->rev ? zslValueLteMax(d, &a->score) :
		      zslValueGteMin(d, &a->score)))
			goto done;
		if (!(w->rev ? zslValueGteMin(d, &a->score) :
		      zslValueLteMax(d, &a->score))) {
			r = 1;
			goto done;
		}
	}
	if (w->skip > 0) {
		w->skip--;
		goto done;
	}
	if (w->left == 0) {
		r = 1;
		goto done;
	}
	w->k++;
	if (w->left > 0)
		w->left--;
	if (w->count_only)
		goto done;
	if ((a->withscores && bufPair(&w->out, w->resp)) ||
	    bufBulk(&w->out, m.p, m.len)) {
		r = w->rc = -1;
		goto done;
	}
	if (a->withscores && bufDouble(&w->out, d, w->resp))
		r = w->rc = -1;
done:
	free(m.p);
	return r;
}

/* Runs w over x's sorted set: forward or back (rev) from its end, or
 * from score from when from_score. */
static int
zwalkRun(client *c, struct elx *x, struct zwalk *w, bool from_score,
	 double from, uint64_t count)
{
	return from_score ?
	       nedb__el_zfrom(&c->db->view, x->txn, x->dk, x->dklen, from,
			      w->rev, count, zwalkOne, w) :
	       nedb__el_walk(&c->db->view, x->txn, x->dk, x->dklen, EL_ZSET,
			     w->rev, count, zwalkOne, w);
}

/*
 * ZRANGE (by rank or score, forward or REV, LIMIT, WITHSCORES) and the
 * forms that Redis keeps for it, on a sorted set the view keeps as
 * elements: by rank a walk from the end the range is nearer, by score
 * from where the range starts.  1 when done, 0 to take it whole (BYLEX).
 */
static int
zrangeElems(client *c, const zrangeargs *a)
{
	struct zwalk w = {.a = a, .left = -1, .out = {0}, .resp = c->resp};
	uint64_t count = UINT64_MAX;
	struct elx x;
	int r;

	if (a->type == ZRANGE_LEX ||
	    (r = elemsKey(c, c->argv[1], OBJ_ZSET, &x)) == 0)
		return 0;
	if (r < 0)
		return 1;
	w.rev = a->dir == ZDIR_REVERSE;
	if (a->type == ZRANGE_RANK) {
		long long start = a->start, end = a->end;

		if (!rankRange(&start, &end, (long long)x.e.n)) {
			elemsDone(c, &x);
			addReplyArrayLen(c, 0);
			return 1;
		}
		w.skip = start;
		count = (uint64_t)end + 1;
	} else {
		if (a->offset < 0) {
			elemsDone(c, &x);
			addReplyArrayLen(c, 0);
			return 1;
		}
		w.skip = a->offset;
		w.left = a->limit < 0 ? -1 : a->limit;
	}
	r = zwalkRun(c, &x, &w, a->type == ZRANGE_SCORE,
		     w.rev ? a->score.max : a->score.min, count);
	elemsDone(c, &x);
	if (r && !w.rc)
		failed(c, r);
	else if (r)
		oom(c);
	else
		addReplyArrayBuf(c, (size_t)(a->withscores && c->resp != 3 ?
					     2 * w.k : w.k), &w.out);
	nedb_buf_free(&w.out);
	return 1;
}

/*
 * ZRANK and ZREVRANK on a sorted set the view keeps as elements: the
 * member found by key, then the members before it counted in a walk
 * from the nearer end of its score.  1 when done, 0 to take it whole.
 */
static int
zrankElems(client *c, bool rev)
{
	struct zwalk w = {.m = c->argv[2], .mlen = c->argvlen[2]};
	struct elx x;
	double score;
	int r;

	if ((r = elemsKey(c, c->argv[1], OBJ_ZSET, &x)) <= 0)
		return r < 0;
	r = nedb__el_find(&c->db->view, x.txn, x.dk, x.dklen, EL_ZSET,
			  c->argv[2], c->argvlen[2], NULL, &score);
	if (r == 1) {
		/* those before it from its end of the order */
		w.rev = rev;
		r = nedb__el_walk(&c->db->view, x.txn, x.dk, x.dklen, EL_ZSET,
				  rev, UINT64_MAX, zwalkOne, &w);
		if (!r && !w.rc)
			r = 1;
	}
	elemsDone(c, &x);
	if (r == 1)
		addReplyLongLong(c, w.k);
	else if (r == 0)
		addReplyNull(c);
	else if (!w.rc)
		failed(c, r);
	else
		oom(c);
	return 1;
}

static void
zrankGenericCommand(client *c, bool rev)
{
	bool found = false;
	size_t i, rank = 0;
	robj o;

	if (zrankElems(c, rev))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_ZSET, &o) < 0)
		return;
	i = setFind(&o, c->argv[2], c->argvlen[2], &found);
	if (!found) {
		addReplyNull(c);
	} else {
		for (size_t j = 0; j < o.n; j++)
			rank += zsetBefore(&o, j, i);
		addReplyLongLong(c, (long long)(rev ? o.n - 1 - rank : rank));
	}
	robjFree(&o);
}

static void
zrankCommand(client *c)
{
	zrankGenericCommand(c, false);
}

static void
zrevrankCommand(client *c)
{
	zrankGenericCommand(c, true);
}

static void
zcountCommand(client *c)
{
	long long count = 0;
	zrangespec r;
	robj o;

	if (zslParseRange(c, 2, 3, &r))
		return;
	{
		/* kept as elements: counted from where the range starts */
		zrangeargs a = {.type = ZRANGE_SCORE, .score = r};
		struct zwalk w = {.a = &a, .left = -1, .count_only = true};
		struct elx x;
		int e = elemsKey(c, c->argv[1], OBJ_ZSET, &x);

		if (e < 0)
			return;
		if (e > 0) {
			e = zwalkRun(c, &x, &w, true, r.min, UINT64_MAX);
			elemsDone(c, &x);
			if (e && !w.rc)
				failed(c, e);
			else if (e)
				oom(c);
			else
				addReplyLongLong(c, w.k);
			return;
		}
	}
	if (lookupTyped(c, c->argv[1], OBJ_ZSET, &o) < 0)
		return;
	for (size_t i = 0; i < o.n; i++)
		count += zslValueGteMin(o.sc[i], &r) &&
			 zslValueLteMax(o.sc[i], &r);
	addReplyLongLong(c, count);
	robjFree(&o);
}

static void
zrangeGenericCommand(client *c, int type, int dir)
{
	zrangeargs a = {.type = type, .dir = dir};
	size_t *sel, k;
	zent *z;
	robj o;
	int r;

	if (zrangeParse(c, &a, 1, false) || zrangeElems(c, &a) ||
	    (r = lookupTyped(c, c->argv[1], OBJ_ZSET, &o)) < 0)
		return;
	z = zsetOrder(&o);
	k = zrangeSelect(&a, z, o.n, &sel);
	if (a.withscores)
		addReplyPairsLen(c, (long long)k);
	else
		addReplyArrayLen(c, (long long)k);
	for (size_t j = 0; j < k; j++) {
		if (a.withscores)
			addReplyPair(c);
		addReplyBulk(c, z[sel[j]].m->p, z[sel[j]].m->len);
		if (a.withscores)
			addReplyDouble(c, z[sel[j]].s);
	}
	free(sel);
	free(z);
	robjFree(&o);
}

/*
 * ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]:
 * the members ZRANGE would list, with their scores, replace dst (without
 * a TTL); none deletes it.
 */
static void
zrangestoreCommand(client *c)
{
	zrangeargs a = {.type = ZRANGE_AUTO, .dir = ZDIR_AUTO};
	robj o, res = {.type = OBJ_ZSET};
	size_t *sel, k;
	zent *z;

	if (zrangeParse(c, &a, 2, true) ||
	    lookupTyped(c, c->argv[2], OBJ_ZSET, &o) < 0)
		return;
	z = zsetOrder(&o);
	k = zrangeSelect(&a, z, o.n, &sel);
	for (size_t j = 0; j < k; j++) {
		bool found;
		size_t at = setFind(&res, z[sel[j]].m->p, z[sel[j]].m->len,
				    &found);

		if (zsetInsert(&res, at, z[sel[j]].m->p, z[sel[j]].m->len,
			       z[sel[j]].s)) {
			oom(c);
			goto done;
		}
	}
	if (storeKey(c, c->argv[1], &res, 0) == 0)
		addReplyLongLong(c, (long long)res.n);
done:
	free(sel);
	free(z);
	robjFree(&res);
	robjFree(&o);
}

static void
zrangeCommand(client *c)
{
	zrangeGenericCommand(c, ZRANGE_AUTO, ZDIR_AUTO);
}

static void
zrevrangeCommand(client *c)
{
	zrangeGenericCommand(c, ZRANGE_RANK, ZDIR_REVERSE);
}

static void
zrangebyscoreCommand(client *c)
{
	zrangeGenericCommand(c, ZRANGE_SCORE, ZDIR_FORWARD);
}

static void
zrevrangebyscoreCommand(client *c)
{
	zrangeGenericCommand(c, ZRANGE_SCORE, ZDIR_REVERSE);
}

static void
zrangebylexCommand(client *c)
{
	zrangeGenericCommand(c, ZRANGE_LEX, ZDIR_FORWARD);
}

static void
zrevrangebylexCommand(client *c)
{
	zrangeGenericCommand(c, ZRANGE_LEX, ZDIR_REVERSE);
}

static int
sizeDescCmp(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	return (a < b) - (a > b);
}

/* ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX key min max: the
 * members ZRANGE would list for the range go. */
struct zremwalk {
	const zrangeargs *a;
	long long start;	/* BYRANK: the first rank taken */
	long long i;		/* rank of the next member (BYRANK) */
	size_t k;		/* members taken */
	nedb_buf upd;		/* {"$zrem":[ the members */
	int rc;
};

static int
zremOne(const char *json, size_t len, void *payload)
{
	struct zremwalk *w = payload;
	bstr m = {0};
	double d;
	int r = -1;

	if (zentParse(json, len, &m, &d))
		goto done;
	r = 0;
	if (w->a->type == ZRANGE_RANK ? w->i++ < w->start :
	    !zslValueGteMin(d, &w->a->score))
		goto done;
	if (w->a->type == ZRANGE_SCORE && !zslValueLteMax(d, &w->a->score)) {
		r = 1;		/* past the range: enough */
		goto done;
	}
	if ((w->k && nedb_buf_add(&w->upd, ",", 1)) ||
	    nedb_buf_json_str(&w->upd, m.p, m.len))
		r = -1;
	w->k++;
done:
	free(m.p);
	if (r < 0)
		w->rc = -1;
	return r;
}

/*
 * ZREMRANGEBYRANK and ZREMRANGEBYSCORE (a's range, the ranks given) on a
 * sorted set the view keeps as elements: the members in range read in
 * order, removed by one $zrem.  1 when done, 0 to take it whole (BYLEX,
 * whose start Redis finds by bisecting a set of mixed scores, or a
 * removal that empties it).
 */
static int
zremrangeElems(client *c, const zrangeargs *a)
{
	struct zremwalk w = {.a = a, .upd = {0}};
	long long start = a->start, end = a->end;
	uint64_t count = UINT64_MAX;
	struct elx x;
	int r;

	if (a->type == ZRANGE_LEX ||
	    (r = elemsKey(c, c->argv[1], OBJ_ZSET, &x)) == 0)
		return 0;
	if (r < 0)
		return 1;
	if (a->type == ZRANGE_RANK) {
		if (!rankRange(&start, &end, (long long)x.e.n)) {
			elemsDone(c, &x);
			addReplyLongLong(c, 0);
			return 1;
		}
		if ((uint64_t)(end - start + 1) >= x.e.n) {
			elemsDone(c, &x);
			return 0;	/* it empties the set: whole */
		}
		w.start = start;
		count = (uint64_t)end + 1;
	}
	r = nedb_buf_puts(&w.upd, "{\"$zrem\":[") ? -1 :
	    nedb__el_walk(&c->db->view, x.txn, x.dk, x.dklen, EL_ZSET, false,
			  count, zremOne, &w);
	elemsDone(c, &x);
	if (r && !w.rc)
		failed(c, r);
	else if (r || nedb_buf_add(&w.upd, "]}", 2))
		oom(c);
	else if (w.k == x.e.n)
		r = 1;		/* it empties the set: whole */
	else if (!w.k || !elemsWrite(c, c->argv[1], &x, &w.upd))
		addReplyLongLong(c, (long long)w.k);
	nedb_buf_free(&w.upd);
	return r != 1;
}

static void
zremrangeGenericCommand(client *c, int type)
{
	zrangeargs a = {.type = type, .dir = ZDIR_FORWARD, .limit = -1};
	size_t *sel, k;
	zent *z;
	robj o;
	int r;

	if (type == ZRANGE_RANK ? getLongLong(c, 2, &a.start, NULL) ||
	    getLongLong(c, 3, &a.end, NULL) : type == ZRANGE_SCORE ?
	    zslParseRange(c, 2, 3, &a.score) :
	    zslParseLexRange(c, 2, 3, &a.lex))
		return;
	if (zremrangeElems(c, &a))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_ZSET, &o)) < 0)
		return;
	z = zsetOrder(&o);
	k = zrangeSelect(&a, z, o.n, &sel);
	/* positions in member order, highest first, so that each removal
	 * leaves the others in place */
	for (size_t j = 0; j < k; j++)
		sel[j] = z[sel[j]].i;
	qsort(sel, k, sizeof *sel, sizeDescCmp);
	for (size_t j = 0; j < k; j++)
		zsetRemove(&o, sel[j]);
	if (!k || storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, (long long)k);
	free(sel);
	free(z);
	robjFree(&o);
}

static void
zremrangebyrankCommand(client *c)
{
	zremrangeGenericCommand(c, ZRANGE_RANK);
}

static void
zremrangebyscoreCommand(client *c)
{
	zremrangeGenericCommand(c, ZRANGE_SCORE);
}

static void
zremrangebylexCommand(client *c)
{
	zremrangeGenericCommand(c, ZRANGE_LEX);
}

/* ZPOPMIN and ZPOPMAX key [count]: member, score, member, score... */
static void
zpopGenericCommand(client *c, bool max)
{
	long long count = 1;
	size_t n;
	zent *z;
	robj o, popped = {.type = OBJ_ZSET};
	int r;

	if (c->argc > 3) {
		addReplySyntaxError(c);
		return;
	}
	if (c->argc == 3 && (!string2ll(c->argv[2], c->argvlen[2], &count) ||
			     count < 0)) {
		addReplyError(c, "ERR value is out of range, must be positive");
		return;
	}
	if (zpopElems(c, max, count))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_ZSET, &o)) < 0)
		return;
	if (!r || count == 0) {
		addReplyArrayLen(c, 0);
		robjFree(&o);
		return;
	}
	n = (size_t)count < o.n ? (size_t)count : o.n;
	z = zsetOrder(&o);
	/* the reply's pairs, copied before the members leave o */
	for (size_t k = 0; k < n; k++) {
		const zent *e = &z[max ? o.n - 1 - k : k];

		if (zsetInsert(&popped, popped.n, e->m->p, e->m->len, e->s)) {
			oom(c);
			goto done;
		}
	}
	for (size_t k = 0; k < n; k++) {
		bool found;
		size_t i = setFind(&o, popped.v[k].p, popped.v[k].len, &found);

		zsetRemove(&o, i);
	}
	if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0) {
		/* RESP3 pairs when a count was given */
		bool pairs = c->resp == 3 && c->argc == 3;

		addReplyArrayLen(c, (long long)((pairs ? 1 : 2) * n));
		for (size_t k = 0; k < n; k++) {
			if (pairs)
				addReplyPair(c);
			addReplyBulk(c, popped.v[k].p, popped.v[k].len);
			addReplyDouble(c, popped.sc[k]);
		}
	}
done:
	free(z);
	robjFree(&popped);
	robjFree(&o);
}

static void
zpopminCommand(client *c)
{
	zpopGenericCommand(c, false);
}

static void
zpopmaxCommand(client *c)
{
	zpopGenericCommand(c, true);
}

/*
 * Pops count members (-1: one) of the sorted set o at key, the lowest
 * scores first (the highest with max), and replies [key, member, score]
 * for count -1 (BZPOPMIN) or [key, [[member, score]...]] (ZMPOP).
 */
static void
zsetPopReply(client *c, const char *key, size_t keylen, robj *o, bool max,
	     long long count)
{
	size_t n = count < 0 ? 1 : (size_t)count < o->n ? (size_t)count : o->n;
	robj popped = {.type = OBJ_ZSET};
	zent *z = zsetOrder(o);

	for (size_t k = 0; k < n; k++) {
		const zent *e = &z[max ? o->n - 1 - k : k];

		if (zsetInsert(&popped, popped.n, e->m->p, e->m->len, e->s)) {
			oom(c);
			goto done;
		}
	}
	for (size_t k = 0; k < n; k++) {
		bool found;
		size_t i = setFind(o, popped.v[k].p, popped.v[k].len, &found);

		zsetRemove(o, i);
	}
	if (storeKey(c, key, o, TTL_KEEP))
		goto done;
	addReplyArrayLen(c, count < 0 ? 3 : 2);
	addReplyBulk(c, key, keylen);
	if (count >= 0)
		addReplyArrayLen(c, (long long)n);
	for (size_t k = 0; k < n; k++) {
		if (count >= 0)
			addReplyArrayLen(c, 2);
		addReplyBulk(c, popped.v[k].p, popped.v[k].len);
		addReplyDouble(c, popped.sc[k]);
	}
done:
	free(z);
	robjFree(&popped);
}

/*
 * Pops from the first of keys [first, first + n) that holds a sorted
 * set; with none, blocks ms (block) or replies a null array.
 */
static void
zsetMpop(client *c, int first, int n, bool max, long long count, bool block,
	 long long ms)
{
	for (int j = first; j < first + n; j++) {
		robj o;
		int r = popSource(c, j, OBJ_ZSET, &o);

		if (r < 0)
			return;
		if (r) {
			zsetPopReply(c, c->argv[j], c->argvlen[j], &o, max,
				     count);
			robjFree(&o);
			return;
		}
	}
	if (!block || !blockFor(c, first, n, ms))
		addReplyNullArray(c);
}

/* BZPOPMIN and BZPOPMAX key [key ...] timeout */
static void
bzpopGenericCommand(client *c, bool max)
{
	long long ms;

	if (getBlockTimeout(c, c->argc - 1, &ms) == 0)
		zsetMpop(c, 1, c->argc - 2, max, -1, true, ms);
}

static void
bzpopminCommand(client *c)
{
	bzpopGenericCommand(c, false);
}

static void
bzpopmaxCommand(client *c)
{
	bzpopGenericCommand(c, true);
}

/*
 * The arguments of LMPOP, BLMPOP, ZMPOP and BZMPOP from numkeys, argument
 * at: "numkeys key [key ...] <end> [COUNT count]", where end is one of
 * ends[0] (*first set) and ends[1]; *count 1 when not given.  0, or -1
 * after an error reply, in Redis's order.
 */
static int
mpopArgs(client *c, int at, const char *const ends[2], bool *first,
	 long long *numkeys, long long *count)
{
	int where;

	if (!string2ll(c->argv[at], c->argvlen[at], numkeys) || *numkeys < 1) {
		addReplyError(c, "ERR numkeys should be greater than 0");
		return -1;
	}
	if (*numkeys >= c->argc - at - 1) {
		addReplySyntaxError(c);
		return -1;
	}
	where = at + (int)*numkeys + 1;
	if (!argIs(c, where, ends[0]) && !argIs(c, where, ends[1])) {
		addReplySyntaxError(c);
		return -1;
	}
	*first = argIs(c, where, ends[0]);
	*count = -1;
	for (int j = where + 1; j < c->argc; j++) {
		if (*count == -1 && argIs(c, j, "count") && j + 1 < c->argc) {
			j++;
			if (!string2ll(c->argv[j], c->argvlen[j], count) ||
			    *count < 1) {
				addReplyError(c, "ERR count should be greater "
					      "than 0");
				return -1;
			}
		} else {
			addReplySyntaxError(c);
			return -1;
		}
	}
	if (*count == -1)
		*count = 1;
	return keyArgsValid(c, at + 1, at + (int)*numkeys) ? 0 : -1;
}

/* ZMPOP numkeys key [key ...] MIN|MAX [COUNT count], and BZMPOP timeout
 * numkeys ... */
static void
zmpopGenericCommand(client *c, bool block)
{
	static const char *const ends[2] = {"min", "max"};
	long long ms = 0, numkeys, count;
	bool min;

	if (block && getBlockTimeout(c, 1, &ms))
		return;
	if (mpopArgs(c, block ? 2 : 1, ends, &min, &numkeys, &count) == 0)
		zsetMpop(c, block ? 3 : 2, (int)numkeys, !min, count, block,
			 ms);
}

static void
zmpopCommand(client *c)
{
	zmpopGenericCommand(c, false);
}

static void
bzmpopCommand(client *c)
{
	zmpopGenericCommand(c, true);
}

/* ---- SCAN, HSCAN, SSCAN, ZSCAN ----------------------------------------------
 *
 * SCAN walks the keys in the order of their bytes.  Its cursor is the
 * first 8 bytes of the next key to visit, big-endian, padded with zero
 * bytes (keys hold no NUL, so no key's cursor is 0): a call resumes at
 * the first key not below those bytes.  A call visits COUNT keys and
 * then every following key that shares the 8 bytes of the last, so that
 * the next cursor always moves forward; COUNT is a hint, as in Redis.
 * Every key present from the first call to the last is returned once
 * (never twice), whatever else is written in between.
 *
 * HSCAN, SSCAN and ZSCAN answer every field or member in one call, with
 * cursor 0: Redis does the same for a small hash, set or sorted set.
 */

typedef struct scanopts {
	const char *pat;	/* NULL: every one */
	size_t patlen;
	long long count;
	const char *type;	/* SCAN TYPE; NULL: any */
} scanopts;

/* Redis's parseScanCursorOrReply: strtoul's reading of the argument. */
static int
scanCursor(client *c, int i, unsigned long long *cursor)
{
	char *end;

	errno = 0;
	*cursor = strtoull(c->argv[i], &end, 10);
	if (isspace((unsigned char)c->argv[i][0]) || end[0] != 0 ||
	    errno == ERANGE) {
		addReplyError(c, "ERR invalid cursor");
		return -1;
	}
	return 0;
}

static int
scanOptions(client *c, int i, bool keys, scanopts *so)
{
	memset(so, 0, sizeof *so);
	so->count = 10;
	for (; i < c->argc; i += 2) {
		bool two = c->argc - i >= 2;

		if (argIs(c, i, "count") && two) {
			if (getLongLong(c, i + 1, &so->count, NULL))
				return -1;
			if (so->count < 1) {
				addReplySyntaxError(c);
				return -1;
			}
		} else if (argIs(c, i, "match") && two) {
			so->pat = c->argv[i + 1];
			so->patlen = c->argvlen[i + 1];
			if (so->patlen == 1 && so->pat[0] == '*')
				so->pat = NULL;
		} else if (argIs(c, i, "type") && keys && two) {
			so->type = c->argv[i + 1];
		} else {
			addReplySyntaxError(c);
			return -1;
		}
	}
	return 0;
}

static bool
scanMatch(const scanopts *so, const char *p, size_t n)
{
	return !so->pat || globMatch(so->pat, so->patlen, p, n);
}

/* The cursor of a key: its first 8 bytes, big-endian. */
static unsigned long long
scanPrefix(const char *p, size_t n)
{
	unsigned long long v = 0;

	for (size_t i = 0; i < 8; i++)
		v = v << 8 | (i < n ? (unsigned char)p[i] : 0);
	return v;
}

struct scanwalk {
	const scanopts *so;
	char from[8];
	size_t fromlen;
	long long visited;
	unsigned long long last, next;
	bool stop, oom;
	size_t n;
	nedb_buf b;		/* the keys to answer, as bulk strings */
};

static int
scanRow(const char *json, size_t len, void *payload)
{
	struct scanwalk *w = payload;
	unsigned long long pre;
	char *key;
	size_t n;
	bool keep;
	int rc = rowKey(json, len, &key, &n);

	if (rc < 0)
		w->oom = true;
	if (rc <= 0)
		return w->oom;
	pre = scanPrefix(key, n);
	if (bstrCmp(key, n, w->from, w->fromlen) < 0) {
		free(key);
		return 0;
	}
	if (w->visited >= w->so->count && pre != w->last) {
		w->next = pre;
		w->stop = true;
		free(key);
		return 1;
	}
	w->visited++;
	w->last = pre;
	keep = scanMatch(w->so, key, n);
	if (keep && w->so->type) {
		robj o = {0};

		if (parseObject(CODEC_REDIS, json, len, &o))
			w->oom = true;
		keep = !strcasecmp(w->so->type, type_name[o.type]);
		robjFree(&o);
	}
	if (keep) {
		if (bufBulk(&w->b, key, n))
			w->oom = true;
		w->n++;
	}
	free(key);
	return w->oom;
}

static void
addReplyScan(client *c, unsigned long long cursor, size_t n,
	     const nedb_buf *items)
{
	char buf[24];

	snprintf(buf, sizeof buf, "%llu", cursor);
	addReplyArrayLen(c, 2);
	addReplyBulkStr(c, buf);
	addReplyArrayBuf(c, n, items);
}

static void
scanCommand(client *c)
{
	struct scanwalk w = {0};
	unsigned long long cursor;
	scanopts so;
	char q[80];
	int rc;

	if (scanCursor(c, 1, &cursor) || scanOptions(c, 2, true, &so))
		return;
	w.so = &so;
	for (int i = 0; i < 8 && cursor >> (56 - 8 * i) & 0xff; i++)
		w.from[w.fromlen++] = (char)(cursor >> (56 - 8 * i) & 0xff);
	rc = nedb_query(c->db, keysQuery(c, q), 0, scanRow, &w);
	if (w.oom)
		oom(c);
	else if (rc && !w.stop)
		failed(c, rc);
	else
		addReplyScan(c, w.stop ? w.next : 0, w.n, &w.b);
	nedb_buf_free(&w.b);
}

/* A score as a small sorted set holds it (ZSCAN shows that text): an
 * integer when the double is one, else as Redis's d2string writes it. */
static int
bufZsetScore(nedb_buf *b, double d)
{
	char buf[40];

	if (isinf(d))
		snprintf(buf, sizeof buf, "%s", d > 0 ? "inf" : "-inf");
	else if (d >= (double)(-LLONG_MAX / 2) && d <= (double)(LLONG_MAX / 2)
		 && (double)(long long)d == d)
		snprintf(buf, sizeof buf, "%lld", (long long)d);
	else
		snprintf(buf, sizeof buf, "%.17g", d);
	return bufBulk(b, buf, strlen(buf));
}

/* HSCAN, SSCAN, ZSCAN key cursor [MATCH pattern] [COUNT count]. */
static void
scanValueGenericCommand(client *c, int type)
{
	unsigned long long cursor;
	nedb_buf b = {0};
	size_t n = 0;
	scanopts so;
	zent *z = NULL;
	robj o;
	int r;

	if (scanCursor(c, 2, &cursor))
		return;
	if ((r = lookupTyped(c, c->argv[1], type, &o)) < 0)
		return;
	if (r && scanOptions(c, 3, false, &so))
		goto done;
	if (type == OBJ_ZSET)
		z = zsetOrder(&o);
	for (size_t i = 0; r && i < o.n; i += type == OBJ_HASH ? 2 : 1) {
		const bstr *m = z ? z[i].m : &o.v[i];

		if (!scanMatch(&so, m->p, m->len))
			continue;
		if (bufBulk(&b, m->p, m->len) ||
		    (type == OBJ_HASH &&
		     bufBulk(&b, o.v[i + 1].p, o.v[i + 1].len)) ||
		    (z && bufZsetScore(&b, z[i].s))) {
			oom(c);
			goto done;
		}
		n += type == OBJ_SET ? 1 : 2;
	}
	addReplyScan(c, 0, n, &b);
done:
	free(z);
	nedb_buf_free(&b);
	robjFree(&o);
}

static void
hscanCommand(client *c)
{
	scanValueGenericCommand(c, OBJ_HASH);
}

static void
sscanCommand(client *c)
{
	scanValueGenericCommand(c, OBJ_SET);
}

static void
zscanCommand(client *c)
{
	scanValueGenericCommand(c, OBJ_ZSET);
}

enum { ZAGGR_SUM, ZAGGR_MIN, ZAGGR_MAX };

/* Redis's zunionInterAggregate: a sum of inf and -inf is 0. */
static void
zsetAggregate(double *t, double v, int aggr)
{
	if (aggr == ZAGGR_SUM) {
		*t += v;
		if (isnan(*t))
			*t = 0;
	} else if (aggr == ZAGGR_MIN)
		*t = v < *t ? v : *t;
	else
		*t = v > *t ? v : *t;
}

/* Adds member m with score s to the sorted set res, or aggregates s into
 * its score. */
static int
zsetAccumulate(robj *res, const bstr *m, double s, int aggr)
{
	bool found;
	size_t at = setFind(res, m->p, m->len, &found);

	if (found) {
		zsetAggregate(&res->sc[at], s, aggr);
		return 0;
	}
	return zsetInsert(res, at, m->p, m->len, s);
}

/* The options after the keys of ZUNION, ZINTER, ZDIFF and their STORE
 * forms, and ZINTERCARD, as Redis reads them. */
static int
zsetOpOptions(client *c, int j, long long setnum, int op, bool store,
	      bool card, double *w, int *aggr, bool *withscores,
	      long long *limit)
{
	while (j < c->argc) {
		int left = c->argc - j;

		if (op != SET_OP_DIFF && !card && left >= setnum + 1 &&
		    argIs(c, j, "weights")) {
			for (long long i = 0; i < setnum; i++)
				if (getDouble(c, ++j, &w[i], "ERR weight value "
					      "is not a float"))
					return -1;
			j++;
		} else if (op != SET_OP_DIFF && !card && left >= 2 &&
			   argIs(c, j, "aggregate")) {
			if (argIs(c, j + 1, "sum"))
				*aggr = ZAGGR_SUM;
			else if (argIs(c, j + 1, "min"))
				*aggr = ZAGGR_MIN;
			else if (argIs(c, j + 1, "max"))
				*aggr = ZAGGR_MAX;
			else {
				addReplySyntaxError(c);
				return -1;
			}
			j += 2;
		} else if (!store && !card && argIs(c, j, "withscores")) {
			*withscores = true;
			j++;
		} else if (card && left >= 2 && argIs(c, j, "limit")) {
			if (getLongLong(c, j + 1, limit, "ERR LIMIT can't be "
					"negative"))
				return -1;
			if (*limit < 0) {
				addReplyError(c, "ERR LIMIT can't be negative");
				return -1;
			}
			j += 2;
		} else {
			addReplySyntaxError(c);
			return -1;
		}
	}
	return 0;
}

/*
 * The union, intersection or difference of sorted sets (a set counts as
 * one with every score 1) into res, as Redis computes it: the inputs of
 * a union or intersection taken from the smallest up (a stable order),
 * each score times its weight (NaN: 0), then aggregated.
 */
static int
zsetOpCompute(robj *src, const double *w, long long setnum, int op, int aggr,
	      robj *res)
{
	size_t *ord = nedb__malloc((size_t)setnum * sizeof *ord);
	int rc = 0;

	for (long long i = 0; i < setnum; i++) {
		size_t k = (size_t)i;

		while (op != SET_OP_DIFF && k && src[ord[k - 1]].n > src[i].n) {
			ord[k] = ord[k - 1];
			k--;
		}
		ord[k] = (size_t)i;
	}
	if (op == SET_OP_UNION) {
		for (long long i = 0; i < setnum && !rc; i++) {
			const robj *s = &src[ord[i]];

			for (size_t k = 0; k < s->n && !rc; k++) {
				double v = w[ord[i]] * s->sc[k];

				rc = zsetAccumulate(res, &s->v[k], isnan(v) ? 0 : v,
						    aggr);
			}
		}
	} else {
		const robj *s0 = &src[ord[0]];

		for (size_t k = 0; k < s0->n && !rc; k++) {
			double v = w[ord[0]] * s0->sc[k];
			long long i;

			if (isnan(v))
				v = 0;
			for (i = 1; i < setnum; i++) {
				const robj *s = &src[ord[i]];
				bool found;
				size_t at = setFind(s, s0->v[k].p, s0->v[k].len,
						    &found);

				if (op == SET_OP_DIFF ? found : !found)
					break;
				if (op == SET_OP_INTER)
					zsetAggregate(&v, s->sc[at] * w[ord[i]],
						      aggr);
			}
			if (i == setnum)
				rc = zsetAccumulate(res, &s0->v[k], v, aggr);
		}
	}
	free(ord);
	return rc;
}

/*
 * ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE destination numkeys key...
 * [WEIGHTS w...] [AGGREGATE SUM|MIN|MAX]; ZUNION, ZINTER, ZDIFF numkeys
 * key... [...] [WITHSCORES]; ZINTERCARD numkeys key... [LIMIT limit].
 * A stored result replaces destination without a TTL; empty, deletes it.
 */
static void
zsetOpGenericCommand(client *c, int op, bool store, bool card)
{
	int numidx = store ? 2 : 1, aggr = ZAGGR_SUM;
	long long setnum, limit = 0, i;
	robj *src = NULL, res = {.type = OBJ_ZSET};
	bool withscores = false;
	double *w = NULL;

	if (getLongLong(c, numidx, &setnum, NULL))
		return;
	if (setnum < 1) {
		addReplyErrorFormat(c, "ERR at least 1 input key is needed for "
				    "'%s' command", c->cmd->name);
		return;
	}
	if (setnum > c->argc - (numidx + 1)) {
		addReplySyntaxError(c);
		return;
	}
	if (!keyArgsValid(c, numidx + 1, numidx + (int)setnum))
		return;
	src = nedb__calloc((size_t)setnum, sizeof *src);
	w = nedb__malloc((size_t)setnum * sizeof *w);
	for (i = 0; i < setnum; i++) {
		robj *s = &src[i];

		w[i] = 1;
		if (lookupKey(c, c->argv[numidx + 1 + i], s))
			goto done;
		if (s->type == OBJ_SET) {	/* every score 1 */
			s->sc = nedb__malloc((s->n ? s->n : 1) * sizeof *s->sc);
			s->sccap = s->n;
			for (size_t k = 0; k < s->n; k++)
				s->sc[k] = 1;
		} else if (s->type != OBJ_ZSET && s->type != OBJ_NONE) {
			addReplyWrongType(c);
			goto done;
		}
	}
	if (zsetOpOptions(c, numidx + 1 + (int)setnum, setnum, op, store, card,
			  w, &aggr, &withscores, &limit))
		goto done;
	if (zsetOpCompute(src, w, setnum, op, aggr, &res)) {
		oom(c);
		goto done;
	}
	if (store) {
		/* stored, -0 is 0, as a small sorted set keeps it; replied
		 * (ZUNION...), Redis keeps it */
		for (size_t k = 0; k < res.n; k++)
			if (res.sc[k] == 0)
				res.sc[k] = 0;
		if (storeKey(c, c->argv[1], &res, 0) == 0)
			addReplyLongLong(c, (long long)res.n);
	} else if (card) {
		addReplyLongLong(c, limit && (size_t)limit < res.n ? limit :
				 (long long)res.n);
	} else {
		zent *z = zsetOrder(&res);

		if (withscores)
			addReplyPairsLen(c, (long long)res.n);
		else
			addReplyArrayLen(c, (long long)res.n);
		for (size_t k = 0; k < res.n; k++) {
			if (withscores)
				addReplyPair(c);
			addReplyBulk(c, z[k].m->p, z[k].m->len);
			if (withscores)
				addReplyDouble(c, z[k].s);
		}
		free(z);
	}
done:
	for (i = 0; src && i < setnum; i++)
		robjFree(&src[i]);
	free(src);
	free(w);
	robjFree(&res);
}

static void
zunionstoreCommand(client *c)
{
	zsetOpGenericCommand(c, SET_OP_UNION, true, false);
}

static void
zinterstoreCommand(client *c)
{
	zsetOpGenericCommand(c, SET_OP_INTER, true, false);
}

static void
zdiffstoreCommand(client *c)
{
	zsetOpGenericCommand(c, SET_OP_DIFF, true, false);
}

static void
zunionCommand(client *c)
{
	zsetOpGenericCommand(c, SET_OP_UNION, false, false);
}

static void
zinterCommand(client *c)
{
	zsetOpGenericCommand(c, SET_OP_INTER, false, false);
}

static void
zdiffCommand(client *c)
{
	zsetOpGenericCommand(c, SET_OP_DIFF, false, false);
}

static void
zintercardCommand(client *c)
{
	zsetOpGenericCommand(c, SET_OP_INTER, false, true);
}

/* ---- lists ---------------------------------------------------------------- */

static void
pushGenericCommand(client *c, bool head)
{
	robj o;

	if (pushElems(c, head))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_LIST, &o) < 0)
		return;
	for (int j = 2; j < c->argc; j++)
		if (robjInsert(&o, head ? 0 : o.n, c->argv[j],
			       c->argvlen[j])) {
			oom(c);
			goto done;
		}
	if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, (long long)o.n);
done:
	robjFree(&o);
}

static void
lpushCommand(client *c)
{
	pushGenericCommand(c, true);
}

static void
rpushCommand(client *c)
{
	pushGenericCommand(c, false);
}

static void
lrangeCommand(client *c)
{
	long long start, end, len;
	robj o;

	if (getLongLong(c, 2, &start, NULL) || getLongLong(c, 3, &end, NULL))
		return;
	if (lrangeElems(c, start, end, false))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_LIST, &o) < 0)
		return;
	len = (long long)o.n;
	if (start < 0)
		start = len + start;
	if (end < 0)
		end = len + end;
	if (start < 0)
		start = 0;
	if (start > end || start >= len) {
		addReplyArrayLen(c, 0);
	} else {
		if (end >= len)
			end = len - 1;
		addReplyArrayLen(c, end - start + 1);
		for (long long i = start; i <= end; i++)
			addReplyBulk(c, o.v[i].p, o.v[i].len);
	}
	robjFree(&o);
}

static void
llenCommand(client *c)
{
	robj o;

	if (lenElems(c, OBJ_LIST))
		return;
	if (lookupTyped(c, c->argv[1], OBJ_LIST, &o) < 0)
		return;
	addReplyLongLong(c, (long long)o.n);
	robjFree(&o);
}

static void
lindexCommand(client *c)
{
	long long i;
	robj o;
	int r;

	if (string2ll(c->argv[2], c->argvlen[2], &i) &&
	    lrangeElems(c, i, i, true))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_LIST, &o)) < 0)
		return;
	if (!r)
		addReplyNull(c);
	else if (getLongLong(c, 2, &i, NULL) == 0) {
		if (i < 0)
			i += (long long)o.n;
		if (i < 0 || i >= (long long)o.n)
			addReplyNull(c);
		else
			addReplyBulk(c, o.v[i].p, o.v[i].len);
	}
	robjFree(&o);
}

/*
 * LSET on a list the view keeps as elements: the element at the index
 * replaced by its key, one $lset.  1 when done, 0 to take it whole (an
 * element that is not UTF-8).
 */
static int
lsetElems(client *c)
{
	nedb_buf upd = {0};
	struct elx x;
	long long i;
	int r;

	if (!nedb__utf8_valid((const unsigned char *)c->argv[3],
			      c->argvlen[3]) ||
	    (r = elemsKey(c, c->argv[1], OBJ_LIST, &x)) == 0)
		return 0;
	if (r < 0)
		return 1;
	elemsDone(c, &x);
	if (getLongLong(c, 2, &i, NULL))
		return 1;
	if (i < 0)
		i += (long long)x.e.n;
	if (i < 0 || i >= (long long)x.e.n) {
		addReplyError(c, "ERR index out of range");
		return 1;
	}
	if (nedb_buf_printf(&upd, "{\"$lset\":[%lld,", i) ||
	    nedb_buf_json_str(&upd, c->argv[3], c->argvlen[3]) ||
	    nedb_buf_add(&upd, "]}", 2))
		oom(c);
	else if (!elemsRoom(&x, &upd))
		r = 0;		/* the whole path says why not */
	else if (!elemsWrite(c, c->argv[1], &x, &upd))
		addReplyOK(c);
	nedb_buf_free(&upd);
	return r != 0;
}

static void
lsetCommand(client *c)
{
	long long i;
	robj o;
	int r;

	if (lsetElems(c))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_LIST, &o)) < 0)
		return;
	if (!r)
		addReplyError(c, "ERR no such key");
	else if (getLongLong(c, 2, &i, NULL) == 0) {
		if (i < 0)
			i += (long long)o.n;
		if (i < 0 || i >= (long long)o.n)
			addReplyError(c, "ERR index out of range");
		else if (bstrSet(&o.v[i], c->argv[3], c->argvlen[3]))
			oom(c);
		else if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
			addReplyOK(c);
	}
	robjFree(&o);
}

static void
popGenericCommand(client *c, bool head)
{
	long long count = 0;
	bool hascount = c->argc == 3;
	size_t n, at;
	robj o;
	int r;

	if (c->argc > 3) {
		addReplyArity(c);
		return;
	}
	if (hascount && (!string2ll(c->argv[2], c->argvlen[2], &count) ||
			 count < 0)) {
		addReplyError(c, "ERR value is out of range, must be positive");
		return;
	}
	if (popElems(c, head, hascount, count))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_LIST, &o)) < 0)
		return;
	if (!r) {
		if (hascount)
			addReplyNullArray(c);
		else
			addReplyNull(c);
		goto done;
	}
	if (hascount && count == 0) {
		addReplyArrayLen(c, 0);
		goto done;
	}
	n = hascount ? (size_t)count < o.n ? (size_t)count : o.n : 1;
	at = head ? 0 : o.n - n;
	/* the reply is built from a copy: the list loses these members */
	{
		robj popped = {.type = OBJ_LIST};

		for (size_t i = 0; i < n; i++) {
			size_t k = head ? at + i : at + n - 1 - i;

			if (robjInsert(&popped, i, o.v[k].p, o.v[k].len)) {
				robjFree(&popped);
				oom(c);
				goto done;
			}
		}
		robjRemove(&o, at, n);
		if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0) {
			if (hascount)
				addReplyMembers(c, &popped);
			else
				addReplyBulk(c, popped.v[0].p, popped.v[0].len);
		}
		robjFree(&popped);
	}
done:
	robjFree(&o);
}

static void
lpopCommand(client *c)
{
	popGenericCommand(c, true);
}

static void
rpopCommand(client *c)
{
	popGenericCommand(c, false);
}

/* LPUSHX, RPUSHX: a push onto a list that exists, else 0. */
static void
pushxGenericCommand(client *c, bool head)
{
	nedb_doc d;
	int r;

	if ((r = dbFetch(c, c->argv[1], &d)) < 0)
		return;
	if (r)
		pushGenericCommand(c, head);
	else
		addReplyLongLong(c, 0);
}

static void
lpushxCommand(client *c)
{
	pushxGenericCommand(c, true);
}

static void
rpushxCommand(client *c)
{
	pushxGenericCommand(c, false);
}

/* LINSERT key BEFORE|AFTER pivot element. */
static void
linsertCommand(client *c)
{
	bool after;
	robj o;
	int r;

	if (argIs(c, 2, "after"))
		after = true;
	else if (argIs(c, 2, "before"))
		after = false;
	else {
		addReplySyntaxError(c);
		return;
	}
	if ((r = lookupTyped(c, c->argv[1], OBJ_LIST, &o)) < 0)
		return;
	for (size_t i = 0; r && i < o.n; i++) {
		if (o.v[i].len != c->argvlen[3] ||
		    memcmp(o.v[i].p, c->argv[3], c->argvlen[3]))
			continue;
		if (robjInsert(&o, i + after, c->argv[4], c->argvlen[4]))
			oom(c);
		else if (storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
			addReplyLongLong(c, (long long)o.n);
		goto done;
	}
	addReplyLongLong(c, r ? -1 : 0);
done:
	robjFree(&o);
}

static void
ltrimCommand(client *c)
{
	long long start, end, len;
	robj o;
	int r;

	if (getLongLong(c, 2, &start, NULL) || getLongLong(c, 3, &end, NULL))
		return;
	if (ltrimElems(c, start, end))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_LIST, &o)) < 0)
		return;
	len = (long long)o.n;
	if (!rankRange(&start, &end, len)) {
		start = len;	/* everything goes */
		end = len - 1;
	}
	if (r && (start > 0 || end < len - 1)) {
		robjRemove(&o, (size_t)(end + 1), (size_t)(len - 1 - end));
		robjRemove(&o, 0, (size_t)start);
		if (storeKey(c, c->argv[1], &o, TTL_KEEP))
			goto done;
	}
	addReplyOK(c);
done:
	robjFree(&o);
}

/* LREM key count element: count > 0 from the head, < 0 from the tail,
 * 0 all of them. */
static void
lremCommand(client *c)
{
	long long toremove, removed = 0;
	unsigned long long limit;
	bool fromtail;
	robj o;
	int r;

	if (getLongLong(c, 2, &toremove, NULL))
		return;
	if ((r = lookupTyped(c, c->argv[1], OBJ_LIST, &o)) < 0)
		return;
	fromtail = toremove < 0;
	limit = fromtail ? 0ull - (unsigned long long)toremove :
		(unsigned long long)toremove;
	/* i counts the elements still to look at, from the end searched */
	for (size_t i = o.n, k = 0; r && i > 0; i--) {
		size_t at = fromtail ? i - 1 : k;

		if (o.v[at].len != c->argvlen[3] ||
		    memcmp(o.v[at].p, c->argv[3], c->argvlen[3])) {
			k++;
			continue;
		}
		robjRemove(&o, at, 1);
		if (++removed == (long long)limit && limit)
			break;
	}
	if (!removed || storeKey(c, c->argv[1], &o, TTL_KEEP) == 0)
		addReplyLongLong(c, removed);
	robjFree(&o);
}

/* LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len]. */
static void
lposCommand(client *c)
{
	long long rank = 1, count = -1, maxlen = 0, matches = 0, found = 0;
	bool fromtail = false;
	nedb_buf b = {0};
	robj o;
	int r;

	for (int j = 3; j < c->argc; j++) {
		bool more = j + 1 < c->argc;

		if (argIs(c, j, "rank") && more) {
			if (getLongLong(c, ++j, &rank, NULL))
				return;
			if (rank == 0) {
				addReplyError(c, "ERR RANK can't be zero: use 1 to "
					      "start from the first match, 2 "
					      "from the second ... or use "
					      "negative to start from the end "
					      "of the list");
				return;
			}
		} else if (argIs(c, j, "count") && more) {
			if (getLongLong(c, ++j, &count, "ERR COUNT can't be "
					"negative"))
				return;
			if (count < 0) {
				addReplyError(c, "ERR COUNT can't be negative");
				return;
			}
		} else if (argIs(c, j, "maxlen") && more) {
			if (getLongLong(c, ++j, &maxlen, "ERR MAXLEN can't be "
					"negative"))
				return;
			if (maxlen < 0) {
				addReplyError(c, "ERR MAXLEN can't be negative");
				return;
			}
		} else {
			addReplySyntaxError(c);
			return;
		}
	}
	if (rank < 0) {
		rank = rank == LLONG_MIN ? LLONG_MAX : -rank;
		fromtail = true;
	}
	if ((r = lookupTyped(c, c->argv[1], OBJ_LIST, &o)) < 0)
		return;
	for (size_t k = 0; r && k < o.n && (!maxlen || (long long)k < maxlen);
	     k++) {
		size_t i = fromtail ? o.n - 1 - k : k;

		if (o.v[i].len != c->argvlen[2] ||
		    memcmp(o.v[i].p, c->argv[2], c->argvlen[2]) ||
		    ++matches < rank)
			continue;
		if (count == -1) {
			addReplyLongLong(c, (long long)i);
			goto done;
		}
		if (bufHeader(&b, ':', (long long)i)) {
			oom(c);
			goto done;
		}
		if (++found == count)
			break;
	}
	if (count == -1)
		addReplyNull(c);
	else
		addReplyArrayBuf(c, (size_t)found, &b);
done:
	nedb_buf_free(&b);
	robjFree(&o);
}

/*
 * LMOVE source destination LEFT|RIGHT LEFT|RIGHT, and RPOPLPUSH: one
 * element from one end of source to one end of destination (the same
 * list may be both: a rotation).
 */
/*
 * LMOVE and RPOPLPUSH (BLMOVE and BRPOPLPUSH once source holds a list).
 * Each list is read and changed by its elements where the view keeps it
 * so (the element popped and pushed as Redis operators), else whole.
 * The destination's type is checked before anything moves.
 */
static void
lmoveGenericCommand(client *c, bool fromhead, bool tohead)
{
	const char *src = c->argv[1], *dst = c->argv[2];
	bool same = !strcmp(src, dst);
	struct popped p = {.want_first = true};
	struct elx xs, xd;
	robj s = {0}, d = {0};
	nedb_buf upd = {0};
	bstr e = {0};
	int es, ed, r;

	/* the source's end element */
	if ((es = elemsKeyAs(c, src, OBJ_LIST, &xs, true)) < 0)
		return;
	if (es && xs.e.n < 2) {		/* the pop deletes it: whole */
		elemsDone(c, &xs);
		es = 0;
	}
	if (es) {
		r = nedb__el_walk(&c->db->view, xs.txn, xs.dk, xs.dklen,
				  EL_LIST, !fromhead, 1, popOne, &p);
		elemsDone(c, &xs);
		if (r || !p.first.p) {
			if (r && !p.rc)
				failed(c, r);
			else
				oom(c);
			goto done;
		}
		e = p.first;
		p.first.p = NULL;
	} else {
		if ((r = lookupTyped(c, src, OBJ_LIST, &s)) < 0)
			goto done;
		if (!r) {
			addReplyNull(c);
			goto done;
		}
		e = s.v[fromhead ? 0 : s.n - 1];
		s.v[fromhead ? 0 : s.n - 1].p = NULL;
		robjRemove(&s, fromhead ? 0 : s.n - 1, 1);
	}
	/* the destination: a list (kept as elements or whole) or none */
	if (same) {
		ed = es;
		xd = xs;
	} else if ((ed = elemsKeyAs(c, dst, OBJ_LIST, &xd, true)) < 0) {
		goto done;
	} else if (ed) {
		elemsDone(c, &xd);
	}
	if (ed) {
		if (nedb_buf_puts(&upd, tohead ? "{\"$lpush\":[" :
				  "{\"$rpush\":[") ||
		    nedb_buf_json_str(&upd, e.p, e.len) ||
		    nedb_buf_add(&upd, "]}", 2)) {
			oom(c);
			goto done;
		}
		/* a destination the element would take past the size limit:
		 * whole, where storing it says so */
		if (!same && !elemsRoom(&xd, &upd))
			ed = 0;
	}
	if (!ed && !same && lookupTyped(c, dst, OBJ_LIST, &d) < 0)
		goto done;		/* WRONGTYPE: nothing moves */
	if (!ed && robjInsert(same ? &s : &d, tohead ? 0 : (same ? s.n : d.n),
			      e.p, e.len)) {
		oom(c);
		goto done;
	}
	/* the pop, then the push */
	if (es ? popWrite(c, src, &xs, fromhead ? "lpop" : "rpop", 1) :
		 !same && storeKey(c, src, &s, TTL_KEEP))
		goto done;
	if (ed ? elemsWrite(c, dst, &xd, &upd) == 0 :
		 storeKey(c, dst, same ? &s : &d, TTL_KEEP) == 0)
		addReplyBulk(c, e.p, e.len);
done:
	free(e.p);
	robjFree(&s);
	robjFree(&d);
	nedb_buf_free(&upd);
	poppedFree(&p);
}

static void
lmoveCommand(client *c)
{
	bool fromhead, tohead;

	if (!argIs(c, 3, "left") && !argIs(c, 3, "right")) {
		addReplySyntaxError(c);
		return;
	}
	if (!argIs(c, 4, "left") && !argIs(c, 4, "right")) {
		addReplySyntaxError(c);
		return;
	}
	fromhead = argIs(c, 3, "left");
	tohead = argIs(c, 4, "left");
	lmoveGenericCommand(c, fromhead, tohead);
}

static void
rpoplpushCommand(client *c)
{
	lmoveGenericCommand(c, false, true);
}

/*
 * Pops count elements (-1: one) from the head (or tail) of list o at
 * key, and replies [key, element] for count -1 (BLPOP) or [key,
 * [element ...]] (LMPOP).
 */
static void
listPopReply(client *c, const char *key, size_t keylen, robj *o, bool head,
	     long long count)
{
	size_t n = count < 0 ? 1 : (size_t)count < o->n ? (size_t)count : o->n;
	robj popped = {.type = OBJ_LIST};

	for (size_t i = 0; i < n; i++) {
		size_t k = head ? i : o->n - 1 - i;

		if (robjInsert(&popped, i, o->v[k].p, o->v[k].len)) {
			oom(c);
			goto done;
		}
	}
	robjRemove(o, head ? 0 : o->n - n, n);
	if (storeKey(c, key, o, TTL_KEEP) == 0) {
		addReplyArrayLen(c, 2);
		addReplyBulk(c, key, keylen);
		if (count < 0)
			addReplyBulk(c, popped.v[0].p, popped.v[0].len);
		else
			addReplyMembers(c, &popped);
	}
done:
	robjFree(&popped);
}

/*
 * Pops from the first of keys [first, first + n) that holds a list; with
 * none, blocks ms (block) or replies a null array.
 */
static void
listMpop(client *c, int first, int n, bool head, long long count, bool block,
	 long long ms)
{
	for (int j = first; j < first + n; j++) {
		robj o;
		int r;

		if (!notServed(c, j) && mpopElems(c, j, head, count))
			return;
		if ((r = popSource(c, j, OBJ_LIST, &o)) < 0)
			return;
		if (r) {
			listPopReply(c, c->argv[j], c->argvlen[j], &o, head,
				     count);
			robjFree(&o);
			return;
		}
	}
	if (!block || !blockFor(c, first, n, ms))
		addReplyNullArray(c);
}

/* BLPOP and BRPOP key [key ...] timeout */
static void
bpopGenericCommand(client *c, bool head)
{
	long long ms;

	if (getBlockTimeout(c, c->argc - 1, &ms) == 0)
		listMpop(c, 1, c->argc - 2, head, -1, true, ms);
}

static void
blpopCommand(client *c)
{
	bpopGenericCommand(c, true);
}

static void
brpopCommand(client *c)
{
	bpopGenericCommand(c, false);
}

/* LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count], and BLMPOP
 * timeout numkeys ... */
static void
lmpopGenericCommand(client *c, bool block)
{
	static const char *const ends[2] = {"left", "right"};
	long long ms = 0, numkeys, count;
	bool head;

	if (block && getBlockTimeout(c, 1, &ms))
		return;
	if (mpopArgs(c, block ? 2 : 1, ends, &head, &numkeys, &count) == 0)
		listMpop(c, block ? 3 : 2, (int)numkeys, head, count, block,
			 ms);
}

static void
lmpopCommand(client *c)
{
	lmpopGenericCommand(c, false);
}

static void
blmpopCommand(client *c)
{
	lmpopGenericCommand(c, true);
}

/*
 * BLMOVE and BRPOPLPUSH: LMOVE when source holds a list, else a wait
 * for one (or "$-1" where it may not wait: in MULTI, as Redis).  A
 * destination of another type is WRONGTYPE when the element would move,
 * and the element stays.
 */
static void
blmoveGenericCommand(client *c, bool fromhead, bool tohead, long long ms)
{
	struct elx x;
	robj o;
	int r;

	/* a list kept as elements is not read whole to see it is one */
	if (!notServed(c, 1) &&
	    (r = elemsKeyAs(c, c->argv[1], OBJ_LIST, &x, true)) != 0) {
		if (r > 0) {
			elemsDone(c, &x);
			lmoveGenericCommand(c, fromhead, tohead);
		}
		return;
	}
	r = popSource(c, 1, OBJ_LIST, &o);
	robjFree(&o);
	if (r > 0)
		lmoveGenericCommand(c, fromhead, tohead);
	else if (r == 0 && !blockFor(c, 1, 1, ms))
		addReplyNull(c);
}

static void
blmoveCommand(client *c)
{
	long long ms;

	if ((!argIs(c, 3, "left") && !argIs(c, 3, "right")) ||
	    (!argIs(c, 4, "left") && !argIs(c, 4, "right"))) {
		addReplySyntaxError(c);
		return;
	}
	if (getBlockTimeout(c, 5, &ms) == 0)
		blmoveGenericCommand(c, argIs(c, 3, "left"),
				     argIs(c, 4, "left"), ms);
}

static void
brpoplpushCommand(client *c)
{
	long long ms;

	if (getBlockTimeout(c, 3, &ms) == 0)
		blmoveGenericCommand(c, false, true, ms);
}

/* ---- SORT, SORT_RO and LCS -------------------------------------------------
 *
 * SORT as Redis 7.0's sort.c: the elements of a list, set or sorted set,
 * sorted as numbers (each must read as one: strtod) or, with ALPHA, as
 * bytes (a server in the C locale: strcoll is strcmp), by themselves or
 * by the value of the key (or "key->field" of a hash) that BY's pattern
 * names with the element in place of its first '*'; a pattern without a
 * '*' does not sort at all.  Equal numbers sort by the elements' bytes.
 * GET's patterns (and "#", the element) say what to reply instead of the
 * element; LIMIT offset count cuts; STORE writes the result as a list
 * (deleting destination when it is empty, clearing its TTL) and replies
 * its length.  A set's elements come in byte order (Redis's in hash
 * order), so SORT BY nosort of a set lists them so.
 */

struct sortent {
	const bstr *obj;	/* the element (in the sorted value) */
	double score;
	bstr cmp;		/* ALPHA BY: the value compared; p NULL: none */
};

struct sortctx {
	bool desc, alpha, by;
};

static struct sortctx sortCtx;	/* for qsort's comparison (one thread) */

static int
sortCompare(const void *x, const void *y)
{
	const struct sortent *a = x, *b = y;
	int cmp;

	if (!sortCtx.alpha) {
		if (a->score != b->score)
			cmp = a->score > b->score ? 1 : -1;
		else
			cmp = bstrCmp(a->obj->p, a->obj->len, b->obj->p,
				      b->obj->len);
	} else if (sortCtx.by) {
		if (!a->cmp.p || !b->cmp.p)
			cmp = a->cmp.p == b->cmp.p ? 0 : !a->cmp.p ? -1 : 1;
		else
			cmp = bstrCmp(a->cmp.p, a->cmp.len, b->cmp.p,
				      b->cmp.len);
	} else
		cmp = bstrCmp(a->obj->p, a->obj->len, b->obj->p, b->obj->len);
	return sortCtx.desc ? -cmp : cmp;
}

/*
 * The value pattern names for element e (Redis's lookupKeyByPattern),
 * copied to out: 1, or 0 when there is none (no '*', a missing key or
 * field, a key of another type, a key that cannot be a nedb id), -1
 * after a database error.
 */
static int
sortLookup(client *c, const char *pat, size_t patlen, const bstr *e, bstr *out)
{
	const char *star, *arrow = NULL;
	size_t pre, post, flen = 0;
	nedb_buf key = {0};
	robj o;
	int r = 0;

	out->p = NULL;
	out->len = 0;
	if (patlen == 1 && pat[0] == '#')
		return bstrSet(out, e->p, e->len) ? oom(c) : 1;
	if (!(star = memchr(pat, '*', strnlen(pat, patlen))))
		return 0;
	for (const char *f = star + 1; f + 2 < pat + patlen; f++)
		if (f[0] == '-' && f[1] == '>') {
			arrow = f;
			break;
		}
	if (arrow)
		flen = (size_t)(pat + patlen - arrow - 2);
	pre = (size_t)(star - pat);
	post = patlen - pre - 1 - (arrow ? flen + 2 : 0);
	if (nedb_buf_add(&key, pat, pre) || nedb_buf_add(&key, e->p, e->len) ||
	    nedb_buf_add(&key, star + 1, post) || nedb_buf_add(&key, "", 1)) {
		nedb_buf_free(&key);
		return oom(c);
	}
	if (nedb_check_id(key.p, key.len - 1)) {
		nedb_buf_free(&key);
		return 0;
	}
	if (lookupKey(c, key.p, &o)) {
		nedb_buf_free(&key);
		return -1;
	}
	if (arrow && o.type == OBJ_HASH) {
		long i = hashFind(&o, arrow + 2, flen);

		if (i >= 0)
			r = bstrSet(out, o.v[i + 1].p, o.v[i + 1].len) ?
			    oom(c) : 1;
	} else if (!arrow && o.type == OBJ_STRING)
		r = bstrSet(out, o.str.p, o.str.len) ? oom(c) : 1;
	robjFree(&o);
	nedb_buf_free(&key);
	return r;
}

static void
sortGenericCommand(client *c, bool readonly)
{
	const char *by = NULL, *store = NULL;
	size_t bylen = 0;
	int *gets = NULL, ngets = 0, storej = 0;
	bool desc = false, alpha = false, dontsort = false, numerr = false;
	long long lstart = 0, lcount = -1, start, end, n;
	struct sortent *v = NULL;
	robj o, res = {.type = OBJ_LIST};
	int r;

	gets = nedb__malloc((size_t)c->argc * sizeof *gets);
	for (int j = 2; j < c->argc; j++) {
		int left = c->argc - j - 1;

		if (argIs(c, j, "asc"))
			desc = false;
		else if (argIs(c, j, "desc"))
			desc = true;
		else if (argIs(c, j, "alpha"))
			alpha = true;
		else if (argIs(c, j, "limit") && left >= 2) {
			if (getLongLong(c, j + 1, &lstart, NULL) ||
			    getLongLong(c, j + 2, &lcount, NULL))
				goto out;
			j += 2;
		} else if (!readonly && argIs(c, j, "store") && left >= 1) {
			storej = ++j;
			store = c->argv[j];
		} else if (argIs(c, j, "by") && left >= 1) {
			by = c->argv[++j];
			bylen = c->argvlen[j];
			/* a pattern without '*' does not sort */
			dontsort = !memchr(by, '*', strnlen(by, bylen));
		} else if (argIs(c, j, "get") && left >= 1) {
			gets[ngets++] = ++j;
		} else {
			addReplySyntaxError(c);
			goto out;
		}
	}
	if (store && !keyArgsValid(c, storej, storej))
		goto out;
	if (lookupKey(c, c->argv[1], &o))
		goto out;
	if (o.type != OBJ_NONE && o.type != OBJ_LIST && o.type != OBJ_SET &&
	    o.type != OBJ_ZSET) {
		robjFree(&o);
		addReplyWrongType(c);
		goto out;
	}
	/* a set sorted for STORE is sorted, whatever BY says */
	if (dontsort && o.type == OBJ_SET && store) {
		dontsort = false;
		alpha = true;
		by = NULL;
	}
	if (o.type == OBJ_ZSET) {
		/* in the set's order, as the elements to sort */
		zent *z = zsetOrder(&o);
		robj t = {.type = OBJ_LIST};

		for (size_t i = 0; i < o.n; i++)
			if (robjInsert(&t, i, z[i].m->p, z[i].m->len)) {
				free(z);
				robjFree(&t);
				robjFree(&o);
				oom(c);
				goto out;
			}
		free(z);
		robjFree(&o);
		o = t;
		o.type = OBJ_ZSET;
	}
	n = (long long)o.n;
	start = lstart < 0 ? 0 : lstart;
	end = lcount < 0 ? n - 1 : start + lcount - 1;
	if (start >= n) {
		start = n - 1;
		end = n - 2;
	}
	if (end >= n)
		end = n - 1;
	v = nedb__malloc((o.n ? o.n : 1) * sizeof *v);
	for (size_t i = 0; i < o.n; i++) {
		/* unsorted, DESC reverses a list's or a sorted set's order */
		size_t k = dontsort && desc && o.type != OBJ_SET ?
			   o.n - 1 - i : i;

		v[i] = (struct sortent){&o.v[k], 0, {0}};
	}
	if (!dontsort) {
		for (size_t i = 0; i < o.n; i++) {
			bstr val = {0};
			const bstr *b = v[i].obj;

			if (by) {
				if ((r = sortLookup(c, by, bylen, v[i].obj,
						    &val)) < 0)
					goto done;
				if (!r)
					continue;
				b = &val;
			}
			if (alpha) {
				if (by)
					v[i].cmp = val;
				continue;
			}
			{
				char *end_;

				errno = 0;
				v[i].score = strtod(b->p, &end_);
				if (*end_ || errno == ERANGE ||
				    isnan(v[i].score))
					numerr = true;
			}
			free(val.p);
		}
		sortCtx = (struct sortctx){desc, alpha, by != NULL};
		qsort(v, o.n, sizeof *v, sortCompare);
	}
	if (numerr) {
		addReplyError(c, "ERR One or more scores can't be converted "
			      "into double");
		goto done;
	}
	for (long long j = start; j <= end; j++) {
		if (!ngets && robjInsert(&res, res.n, v[j].obj->p,
					 v[j].obj->len))
			goto oom;
		for (int g = 0; g < ngets; g++) {
			bstr val;

			if ((r = sortLookup(c, c->argv[gets[g]],
					    c->argvlen[gets[g]], v[j].obj,
					    &val)) < 0)
				goto done;
			/* a missing one: nil in the reply, "" in a list */
			if (robjInsert(&res, res.n, r ? val.p : "",
				       r ? val.len : 0)) {
				free(val.p);
				goto oom;
			}
			if (!r && !store)
				res.v[res.n - 1].len = (size_t)-1;
			free(val.p);
		}
	}
	if (store) {
		if (storeKey(c, store, &res, 0) == 0)
			addReplyLongLong(c, (long long)res.n);
	} else {
		addReplyArrayLen(c, (long long)res.n);
		for (size_t i = 0; i < res.n; i++)
			if (res.v[i].len == (size_t)-1)
				addReplyNull(c);
			else
				addReplyBulk(c, res.v[i].p, res.v[i].len);
	}
	goto done;
oom:
	oom(c);
done:
	for (size_t i = 0; v && i < o.n; i++)
		free(v[i].cmp.p);
	free(v);
	robjFree(&o);
out:
	for (size_t i = 0; i < res.n; i++)
		if (res.v[i].len == (size_t)-1)
			res.v[i].len = 0;
	robjFree(&res);
	free(gets);
}

static void
sortCommand(client *c)
{
	sortGenericCommand(c, false);
}

static void
sortroCommand(client *c)
{
	sortGenericCommand(c, true);
}

/*
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest
 * common subsequence of two strings, by Redis 7.0's dynamic programming
 * (t_string.c) and its walk back for IDX's ranges.  Its table takes 4
 * bytes per pair of bytes: past MAX_LCS_TABLE, "Insufficient memory", as
 * Redis answers when it cannot have the table.
 */
#define MAX_LCS_TABLE (256u << 20)

static void
lcsCommand(client *c)
{
	bool getlen = false, getidx = false, withlen = false;
	long long minlen = 0;
	robj oa, ob;
	const char *a, *b;
	size_t alen, blen, i, j, idx, astart, aend = 0, bstart = 0, bend = 0;
	uint32_t *t = NULL;
	nedb_buf ranges = {0};
	size_t nranges = 0;
	char *result = NULL;

	if (lookupKey(c, c->argv[1], &oa))
		return;
	if (lookupKey(c, c->argv[2], &ob)) {
		robjFree(&oa);
		return;
	}
	if ((oa.type != OBJ_NONE && oa.type != OBJ_STRING) ||
	    (ob.type != OBJ_NONE && ob.type != OBJ_STRING)) {
		addReplyError(c, "ERR The specified keys must contain string "
			      "values");
		goto done;
	}
	for (int k = 3; k < c->argc; k++) {
		if (argIs(c, k, "idx"))
			getidx = true;
		else if (argIs(c, k, "len"))
			getlen = true;
		else if (argIs(c, k, "withmatchlen"))
			withlen = true;
		else if (argIs(c, k, "minmatchlen") && k + 1 < c->argc) {
			if (getLongLong(c, ++k, &minlen, NULL))
				goto done;
			if (minlen < 0)
				minlen = 0;
		} else {
			addReplySyntaxError(c);
			goto done;
		}
	}
	if (getidx && getlen) {
		addReplyError(c, "ERR If you want both the length and indexes, "
			      "please just use IDX.");
		goto done;
	}
	a = oa.str.p ? oa.str.p : "";
	b = ob.str.p ? ob.str.p : "";
	alen = oa.str.len;
	blen = ob.str.len;
	if ((alen + 1) > MAX_LCS_TABLE / sizeof *t / (blen + 1)) {
		addReplyError(c, "ERR Insufficient memory");
		goto done;
	}
#define LCS(A, B) t[(B) + (A) * (blen + 1)]
	t = nedb__malloc((alen + 1) * (blen + 1) * sizeof *t);
	for (i = 0; i <= alen; i++)
		for (j = 0; j <= blen; j++) {
			if (!i || !j)
				LCS(i, j) = 0;
			else if (a[i - 1] == b[j - 1])
				LCS(i, j) = LCS(i - 1, j - 1) + 1;
			else
				LCS(i, j) = LCS(i - 1, j) > LCS(i, j - 1) ?
					    LCS(i - 1, j) : LCS(i, j - 1);
		}
	idx = LCS(alen, blen);
	result = nedb__malloc(idx + 1);
	astart = alen;		/* alen: no range begun */
	for (i = alen, j = blen; (getidx || !getlen) && i > 0 && j > 0;) {
		bool emit = false;

		if (a[i - 1] == b[j - 1]) {
			result[idx - 1] = a[i - 1];
			if (astart == alen) {
				astart = aend = i - 1;
				bstart = bend = j - 1;
			} else if (astart == i && bstart == j) {
				astart--;
				bstart--;
			} else
				emit = true;
			if (astart == 0 || bstart == 0)
				emit = true;
			idx--;
			i--;
			j--;
		} else {
			if (LCS(i - 1, j) > LCS(i, j - 1))
				i--;
			else
				j--;
			if (astart != alen)
				emit = true;
		}
		if (emit) {
			size_t mlen = aend - astart + 1;

			if (getidx && (minlen == 0 ||
				       mlen >= (unsigned long long)minlen)) {
				if (bufHeader(&ranges, '*', 2 + withlen) ||
				    bufHeader(&ranges, '*', 2) ||
				    bufHeader(&ranges, ':', (long long)astart) ||
				    bufHeader(&ranges, ':', (long long)aend) ||
				    bufHeader(&ranges, '*', 2) ||
				    bufHeader(&ranges, ':', (long long)bstart) ||
				    bufHeader(&ranges, ':', (long long)bend) ||
				    (withlen && bufHeader(&ranges, ':',
							  (long long)mlen))) {
					oom(c);
					goto done;
				}
				nranges++;
			}
			astart = alen;
		}
	}
	if (getidx) {
		addReplyMapLen(c, 2);
		addReplyBulkStr(c, "matches");
		addReplyArrayBuf(c, nranges, &ranges);
		addReplyBulkStr(c, "len");
		addReplyLongLong(c, LCS(alen, blen));
	} else if (getlen)
		addReplyLongLong(c, LCS(alen, blen));
	else
		addReplyBulk(c, result, LCS(alen, blen));
#undef LCS
done:
	free(result);
	free(t);
	nedb_buf_free(&ranges);
	robjFree(&oa);
	robjFree(&ob);
}

/* ---- expiry -------------------------------------------------------------- */

#define EXPIRE_NX 0x1
#define EXPIRE_XX 0x2
#define EXPIRE_GT 0x4
#define EXPIRE_LT 0x8

static void
expireGenericCommand(client *c, bool seconds, bool at)
{
	unsigned flags = 0;
	long long when, now, cur;
	nedb_doc d;
	int r;

	for (int j = 3; j < c->argc; j++) {
		if (argIs(c, j, "nx"))
			flags |= EXPIRE_NX;
		else if (argIs(c, j, "xx"))
			flags |= EXPIRE_XX;
		else if (argIs(c, j, "gt"))
			flags |= EXPIRE_GT;
		else if (argIs(c, j, "lt"))
			flags |= EXPIRE_LT;
		else {
			addReplyErrorFormat(c, "ERR Unsupported option %.128s",
					    c->argv[j]);
			return;
		}
	}
	if ((flags & EXPIRE_NX) &&
	    (flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
		addReplyError(c, "ERR NX and XX, GT or LT options at the same "
			      "time are not compatible");
		return;
	}
	if ((flags & EXPIRE_GT) && (flags & EXPIRE_LT)) {
		addReplyError(c, "ERR GT and LT options at the same time are "
			      "not compatible");
		return;
	}
	if (getLongLong(c, 2, &when, NULL))
		return;
	now = nedb_now_ms();
	if ((seconds && (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000))
	    || (!at && (seconds ? when * 1000 : when) > LLONG_MAX - now)) {
		addReplyErrorFormat(c, "ERR invalid expire time in '%s' "
				    "command", c->cmd->name);
		return;
	}
	/* absolute, ms */
	when = (seconds ? when * 1000 : when) + (at ? 0 : now);
	if ((r = dbFetch(c, c->argv[1], &d)) < 0)
		return;
	if (!r) {
		addReplyLongLong(c, 0);
		return;
	}
	cur = d.exp;	/* 0: no expiry, which counts as infinite */
	if (((flags & EXPIRE_NX) && cur) || ((flags & EXPIRE_XX) && !cur) ||
	    ((flags & EXPIRE_GT) && (!cur || when <= cur)) ||
	    ((flags & EXPIRE_LT) && cur && when >= cur)) {
		addReplyLongLong(c, 0);
		return;
	}
	/* a time that has passed deletes the key, as in Redis (but on a
	 * replica, which waits for its source's delete) */
	if (!ttlUntil(c, when, now) ? dbDelete(c, c->argv[1]) < 0 :
	    dbExpire(c, c->argv[1], ttlUntil(c, when, now)))
		return;
	addReplyLongLong(c, 1);
}

static void
expireCommand(client *c)
{
	expireGenericCommand(c, true, false);
}

static void
expireatCommand(client *c)
{
	expireGenericCommand(c, true, true);
}

static void
pexpireatCommand(client *c)
{
	expireGenericCommand(c, false, true);
}

static void
pexpireCommand(client *c)
{
	expireGenericCommand(c, false, false);
}

static void
ttlGenericCommand(client *c, bool ms, bool at)
{
	long long left;
	nedb_doc d;
	int r;

	if ((r = dbFetch(c, c->argv[1], &d)) < 0)
		return;
	if (!r) {
		addReplyLongLong(c, -2);
		return;
	}
	if (!d.exp) {
		addReplyLongLong(c, -1);
		return;
	}
	if (at) {
		addReplyLongLong(c, ms ? d.exp : d.exp / 1000);
		return;
	}
	left = d.exp - nedb_now_ms();
	if (left < 0)
		left = 0;
	addReplyLongLong(c, ms ? left : (left + 500) / 1000);
}

static void
expiretimeCommand(client *c)
{
	ttlGenericCommand(c, false, true);
}

static void
pexpiretimeCommand(client *c)
{
	ttlGenericCommand(c, true, true);
}

static void
ttlCommand(client *c)
{
	ttlGenericCommand(c, false, false);
}

static void
pttlCommand(client *c)
{
	ttlGenericCommand(c, true, false);
}

static void
persistCommand(client *c)
{
	nedb_doc d;
	int r;

	if ((r = dbFetch(c, c->argv[1], &d)) < 0)
		return;
	if (!r || !d.exp) {
		addReplyLongLong(c, 0);
		return;
	}
	if (dbExpire(c, c->argv[1], 0) == 0)
		addReplyLongLong(c, 1);
}

/* ---- server and connection ------------------------------------------------ */

static void
pingCommand(client *c)
{
	if (c->argc > 2)
		addReplyArity(c);
	else if (c->argc == 2)
		addReplyBulk(c, c->argv[1], c->argvlen[1]);
	else
		addReplyStatus(c, "PONG");
}

static void
echoCommand(client *c)
{
	addReplyBulk(c, c->argv[1], c->argvlen[1]);
}

static void
selectCommand(client *c)
{
	nedb_redis_conn *conn = c->conn;
	const char *name = c->argv[1];

	if (strlen(name) != c->argvlen[1]) {
		addReplyError(c, "ERR bad database name: it holds a NUL byte");
		return;
	}
	if (conn->select) {
		int rc = conn->select(conn, name, conn->payload);

		if (rc)
			addReplyErrorFormat(c, "ERR %s", nedb_errmsg());
		else
			addReplyOK(c);
	} else if (!strcmp(name, conn->dbname))
		addReplyOK(c);
	else
		addReplyErrorFormat(c, "ERR cannot select '%.64s': only "
				    "database '%s' is open here", name,
				    conn->dbname);
}

/*
 * SWAPDB a b: Redis's database numbers are names here (those SELECT
 * takes), and the databases are exchanged by the server, which has them
 * (nedbd: their directories); anything that is not a name is an invalid
 * index, as in Redis.
 */
static void
swapdbCommand(client *c)
{
	nedb_redis_conn *conn = c->conn;
	char err[256];

	for (int j = 1; j <= 2; j++)
		if (strlen(c->argv[j]) != c->argvlen[j] ||
		    nedb_check_dbname(c->argv[j], c->argvlen[j])) {
			addReplyErrorFormat(c, "ERR invalid %s DB index",
					    j == 1 ? "first" : "second");
			return;
		}
	if (!conn->swapdb) {
		addReplyErrorFormat(c, "ERR SWAPDB needs a server: only "
				    "database '%s' is open here",
				    conn->dbname);
		return;
	}
	if (!strcmp(c->argv[1], c->argv[2]))
		addReplyOK(c);
	else if (conn->swapdb(conn, c->argv[1], c->argv[2], err, sizeof err))
		addReplyErrorFormat(c, "ERR %s", err);
	else
		addReplyOK(c);
}

static void
quitCommand(client *c)
{
	c->conn->quit = true;
	addReplyOK(c);
}

/* Compares without an early exit, so that timing tells nothing. */
static bool
secretEqual(const char *a, size_t an, const char *b, size_t bn)
{
	unsigned char d = an != bn;

	for (size_t i = 0; i < an && bn; i++)
		d |= (unsigned char)(a[i] ^ b[i % bn]);
	return d == 0 && bn;
}

static bool authOk(client *c, int u, int pw);

static void
authCommand(client *c)
{
	nedb_redis_conn *conn = c->conn;

	if (c->argc > 3) {
		addReplySyntaxError(c);
		return;
	}
	if (!conn->password && c->argc == 2) {
		addReplyError(c, "ERR AUTH <password> called without any "
			      "password configured for the default user. Are "
			      "you sure your configuration is correct?");
		return;
	}
	if (!authOk(c, c->argc == 3 ? 1 : -1, c->argc == 3 ? 2 : 1))
		return;
	conn->authed = true;
	addReplyOK(c);
}

static void
infoCommand(client *c)
{
	static const char *const sections[] = {"server", "clients",
					       "replication", "keyspace"};
	bool want[4] = {true, true, true, true};
	const struct nedb_redis_stats *st = c->conn->stats;
	size_t mark = c->out->len;
	nedb_buf b = {0};
	int rc = 0;

	if (c->argc > 1) {
		bool all = false;

		memset(want, 0, sizeof want);
		for (int j = 1; j < c->argc; j++) {
			all |= argIs(c, j, "all") || argIs(c, j, "default") ||
			       argIs(c, j, "everything");
			for (int s = 0; s < 4; s++)
				want[s] |= argIs(c, j, sections[s]);
		}
		if (all)
			want[0] = want[1] = want[2] = want[3] = true;
	}
	if (want[0])
		rc |= nedb_buf_printf(&b, "# Server\r\nredis_version:%s\r\n"
				      "redis_mode:standalone\r\n"
				      "nedb_version:%s\r\nnedb_database:%s\r\n",
				      REDIS_VERSION, nedb_version(),
				      c->conn->dbname);
	if (want[1])
		rc |= nedb_buf_printf(&b, "%s# Clients\r\nconnected_clients:%u"
				      "\r\nblocked_clients:%u\r\n",
				      b.len ? "\r\n" : "",
				      st ? st->connected : 1,
				      st ? st->blocked : 0);
	if (want[2])
		rc |= nedb_buf_printf(&b, "%s# Replication\r\nrole:master\r\n"
				      "connected_slaves:0\r\n",
				      b.len ? "\r\n" : "");
	if (want[3]) {
		uint64_t n = 0, nexp = 0;
		int64_t avg = 0;

		if (c->db) {
			bool began = !c->db->rtxn && !c->db->wtxn;
			int r;

			if (began && (r = nedb_read_begin(c->db)))
				dbFail(c, r);
			else {
				if (!dbSize(c, &n) && n &&
				    (r = nedb_ttl_count(c->db, keysColl(c),
							nedb_now_ms(), &nexp,
							&avg)))
					dbFail(c, r);
				if (began)
					nedb_read_end(c->db);
			}
		}
		if (c->err || c->out->len != mark) {
			/* dbSize failed (and maybe replied) */
			nedb_buf_free(&b);
			return;
		}
		rc |= nedb_buf_printf(&b, "%s# Keyspace\r\n", b.len ? "\r\n" :
				      "");
		if (n)
			rc |= nedb_buf_printf(&b, "db0:keys=%llu,expires=%llu,"
					      "avg_ttl=%lld\r\n",
					      (unsigned long long)n,
					      (unsigned long long)nexp,
					      (long long)avg);
	}
	if (rc)
		oom(c);
	else
		addReplyVerbatim(c, b.p ? b.p : "", b.len);
	nedb_buf_free(&b);
}

struct evalrows {
	nedb_buf b;
	size_t n;
	bool oom;
};

static int
evalRow(const char *json, size_t len, void *payload)
{
	struct evalrows *er = payload;

	if (bufBulk(&er->b, json, len)) {
		er->oom = true;
		return 1;
	}
	er->n++;
	return 0;
}

/*
 * EVAL "<nql>" 0 runs an NQL query (nedb-nql(7)) and answers its rows,
 * each a bulk string of compact JSON.  There are no scripts: keys and
 * arguments are refused rather than ignored.
 */
static void
evalCommand(client *c)
{
	struct evalrows er = {{0}, 0, false};
	long long numkeys;
	int rc;

	if (getLongLong(c, 2, &numkeys, NULL))
		return;
	if (numkeys > c->argc - 3) {
		addReplyError(c, "ERR Number of keys can't be greater than "
			      "number of args");
		return;
	}
	if (numkeys < 0) {
		addReplyError(c, "ERR Number of keys can't be negative");
		return;
	}
	if (numkeys || c->argc > 3) {
		addReplyError(c, "ERR EVAL runs one NQL query here: it takes "
			      "numkeys 0 and no arguments");
		return;
	}
	if (strlen(c->argv[1]) != c->argvlen[1]) {
		addReplyError(c, "ERR bad query: it holds a NUL byte");
		return;
	}
	rc = nedb_query(c->db, c->argv[1], 0, evalRow, &er);
	if (er.oom)
		oom(c);
	else if (rc == NEDB_EUSAGE || rc == NEDB_EINPUT) {
		const char *m = nedb_errmsg();

		/* the caret lines of a syntax error make no sense here */
		addReplyErrorFormat(c, "ERR %.*s", (int)strcspn(m, "\n"), m);
	} else if (rc)
		failed(c, rc);
	else
		addReplyArrayBuf(c, er.n, &er.b);
	nedb_buf_free(&er.b);
}

/*
 * CLIENT ID, CLIENT UNBLOCK id [TIMEOUT|ERROR] and CLIENT LIST, of this
 * connection alone: a server with others (nedbd) answers UNBLOCK and
 * LIST itself, with the checks of nedb_redis_client_unblock.
 */
/* Whether key's value is one the view keeps as elements (elems.c). */
static bool
keptAsElements(client *c, const char *key)
{
	struct elx x;
	int rc;

	route(c->conn, key, strlen(key), &x.pl);
	if (x.pl.codec != CODEC_REDIS || nedb__txn(c->db, &x.txn))
		return false;
	rc = nedb__el_head(&c->db->view, x.txn, x.pl.coll, x.pl.id,
			   strlen(x.pl.id), c->conn->replica && c->db->wtxn ?
			   0 : nedb__now_ms(), &x.h, &x.e);
	elemsDone(c, &x);
	return rc == 0;
}

/*
 * OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP: Redis's
 * questions about a value, answered for nedb's: its encoding is
 * "elements" (kept member by member, elems.c) or "json" (one document);
 * nothing is shared (refcount 1); the idle time is the seconds since
 * the key was last written (reads are not tracked), and access
 * frequency is not tracked (Redis's error without an LFU policy).
 */
static void
objectCommand(client *c)
{
	static const char *const subs[] = {"encoding", "refcount",
					   "idletime", "freq", "help"};
	static const char *const help[] = {
		"OBJECT <subcommand> [<arg> [value] [opt] ...]. "
		"Subcommands are:",
		"ENCODING <key>",
		"    Return how the value of <key> is kept: \"elements\" (each "
		"member a row),",
		"    or \"json\" (one document).",
		"FREQ <key>",
		"    Access frequency is not tracked: an error.",
		"IDLETIME <key>",
		"    Return the seconds since <key> was last written.",
		"REFCOUNT <key>",
		"    Return 1: values are not shared.",
		"HELP",
		"    Prints this help.",
	};
	size_t s;
	nedb_doc d;
	int r;

	for (s = 0; s < sizeof subs / sizeof *subs && !argIs(c, 1, subs[s]);
	     s++)
		;
	if (s == sizeof subs / sizeof *subs) {
		addReplyErrorFormat(c, "ERR unknown subcommand '%.128s'. Try "
				    "OBJECT HELP.", c->argv[1]);
		return;
	}
	if (c->argc != (s == 4 ? 2 : 3)) {
		addReplyErrorFormat(c, "ERR wrong number of arguments for "
				    "'object|%s' command", subs[s]);
		return;
	}
	if (s == 4) {
		addReplyArrayLen(c, (long long)(sizeof help / sizeof *help));
		for (size_t i = 0; i < sizeof help / sizeof *help; i++)
			addReplyStatus(c, help[i]);
		return;
	}
	if ((r = dbFetch(c, c->argv[2], &d)) < 0)
		return;
	if (r == 0)
		addReplyNull(c);
	else if (s == 0)
		addReplyBulkStr(c, keptAsElements(c, c->argv[2]) ? "elements" :
				"json");
	else if (s == 1)
		addReplyLongLong(c, 1);
	else if (s == 2)
		addReplyLongLong(c, (nedb_now_ms() - d.ts) / 1000 > 0 ?
				 (nedb_now_ms() - d.ts) / 1000 : 0);
	else
		addReplyError(c, "ERR An LFU maxmemory policy is not selected, "
			      "access frequency not tracked. Please note that "
			      "when switching between policies at runtime LRU "
			      "and LFU data will take some time to adjust.");
}

/* A client for one command of conn, its replies into out. */
static client
clientOf(nedb_redis_conn *conn, nedb_buf *out)
{
	return (client){
		.conn = conn, .db = conn->db, .out = out, .resp = conn->resp,
		.w = {.client = conn->client ? conn->client : "redis",
		      .evidence = conn->evidence,
		      .repl_offset = conn->repl_offset,
		      .keep_expired = conn->replica},
	};
}

/* The end of a command: its database error (NEDB_E*, running out of
 * memory included) replaces any reply it began at mark (invariant 2 of
 * nedb_redis_exec); 0 when there is none. */
static int
clientError(client *c, size_t mark)
{
	if (c->oom && !c->err) {
		c->err = NEDB_EIO;
		snprintf(c->errmsg, sizeof c->errmsg, "out of memory");
	}
	if (!c->err)
		return 0;
	c->out->len = mark;
	c->oom = false;
	addReplyErrorFormat(c, "ERR %s", c->errmsg);
	return c->err;
}

int
nedb_redis_db_index(const char *s, size_t n)
{
	long long db;

	return string2ll(s, n, &db) && db >= 0 && db < 16 ? (int)db : -1;
}

/* The DB index of argument j (0 to 15, Redis's errors); -1 after one. */
static long long
dbIndexArg(client *c, int j)
{
	long long db;

	if (getLongLong(c, j, &db, NULL))
		return -1;
	if (db < INT_MIN || db > INT_MAX) {
		addReplyError(c, "ERR value is out of range");
		return -1;
	}
	if (db < 0 || db >= 16) {
		addReplyError(c, "ERR DB index is out of range");
		return -1;
	}
	return db;
}

/*
 * Whether DB index db is the connection's own database: the one SELECT
 * named with its digits; for a process alone (no SELECT), 0 is its one.
 */
static bool
sameDb(const client *c, long long db)
{
	char text[24];

	snprintf(text, sizeof text, "%lld", db);
	return !strcmp(text, c->conn->dbname) || (db == 0 && !c->conn->select);
}

/* COPY ... DB n and MOVE to another database: nedbd's, not in MULTI */
static void
addReplyOtherDb(client *c)
{
	if (c->conn->select)
		addReplyErrorFormat(c, "ERR %s to another database cannot run "
				    "inside MULTI: each database commits on "
				    "its own", c->cmd->name);
	else
		addReplyErrorFormat(c, "ERR %s to another database needs "
				    "nedbd, whose SELECT opens databases by "
				    "name", c->cmd->name);
}

/*
 * MOVE key db: nedbd's, between two of its databases (the index is the
 * name SELECT takes); here only its errors.
 */
static void
moveCommand(client *c)
{
	long long db = dbIndexArg(c, 2);

	if (db < 0)
		return;
	if (sameDb(c, db))
		addReplyError(c, "ERR source and destination objects are the "
			      "same");
	else
		addReplyOtherDb(c);
}

int
nedb_redis_copy_from(nedb_redis_conn *conn, nedb *from, const char *src,
		     const char *dst, bool replace, nedb_buf *out)
{
	client c = clientOf(conn, out);
	size_t mark = out->len;
	int rc;

	c.from = from;
	copyKey(&c, src, dst, replace);
	if ((rc = clientError(&c, mark)))
		return rc;
	return out->len > mark + 1 && out->p[mark] == ':' &&
	       out->p[mark + 1] == '1';
}

/* ---- snapshots: SAVE, BGSAVE, LASTSAVE ----------------------------------- */

/*
 * Redis's snapshot is nedb's checkpoint (nedb-checkpoint(1)): SAVE and
 * BGSAVE [SCHEDULE] stage a checkpoint op (the digest of the view,
 * committed with the command; every write is durable already), and
 * LASTSAVE answers the time of the newest checkpoint op, or of the
 * genesis when there is none.
 */
static void
saveCommand(client *c)
{
	bool bg = argIs(c, 0, "bgsave");
	int rc;

	if (bg && c->argc == 2 && !argIs(c, 1, "schedule")) {
		addReplySyntaxError(c);
		return;
	}
	if ((rc = nedb_write_checkpoint(c->db, NULL))) {
		failed(c, rc);
		return;
	}
	if (bg)
		addReplyStatus(c, "Background saving started");
	else
		addReplyOK(c);
}

/* the "ts" of one op line, through nedb_log_scan */
static int
lineTs(uint64_t seq, const char *line, size_t len, void *payload)
{
	static const char key[] = ",\"ts\":";
	const char *p = memmem(line, len, key, sizeof key - 1);

	(void)seq;
	*(long long *)payload = p ? strtoll(p + sizeof key - 1, NULL, 10) : 0;
	return 0;
}

static void
lastsaveCommand(client *c)
{
	nedb_stats st;
	long long ts = 0;
	int rc;

	if ((rc = nedb_stats_get(c->db, &st)) ||
	    (rc = nedb_log_scan(c->db, st.has_checkpoint ? st.checkpoint : 0,
				st.has_checkpoint ? st.checkpoint : 0, 0,
				lineTs, &ts))) {
		failed(c, rc);
		return;
	}
	addReplyLongLong(c, ts / 1000);
}

/* ---- SHUTDOWN ---------------------------------------------------------------- */

int
nedb_redis_shutdown_args(int argc, const char *const *argv,
			 const size_t *argvlen, nedb_buf *out)
{
	client c = {.argc = argc, .argv = argv, .argvlen = argvlen,
		    .out = out};
	bool nosave = false, save = false, abort_ = false;

	for (int j = 1; j < argc; j++) {
		if (argIs(&c, j, "nosave"))
			nosave = true;
		else if (argIs(&c, j, "save"))
			save = true;
		else if (argIs(&c, j, "abort"))
			abort_ = true;
		else if (!argIs(&c, j, "now") && !argIs(&c, j, "force")) {
			addReplySyntaxError(&c);
			return -1;
		}
	}
	if ((nosave && save) || (abort_ && argc > 2)) {
		addReplySyntaxError(&c);
		return -1;
	}
	if (abort_) {
		addReplyError(&c, "ERR No shutdown in progress.");
		return -1;
	}
	return 0;
}

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: a server's (nedbd stops
 * as on SIGTERM); here there is none to stop. */
static void
shutdownCommand(client *c)
{
	if (nedb_redis_shutdown_args(c->argc, c->argv, c->argvlen, c->out))
		return;
	addReplyError(c, "ERR SHUTDOWN stops a server: nedbd's RESP port");
}

/* ---- publish and subscribe, for a process alone ----------------------------- */

bool
nedb_redis_match(const char *pattern, size_t plen, const char *s, size_t n)
{
	return globMatch(pattern, plen, s, n);
}

/*
 * PUBLISH, PUBSUB and the subscriptions where no other client can be
 * (nedb-redis): nobody receives a message, and there is no connection
 * to keep subscribed.  nedbd answers them for its connections.
 */
static void
pubsubCommand(client *c)
{
	if (argIs(c, 0, "publish")) {
		addReplyLongLong(c, 0);
	} else if (argIs(c, 0, "pubsub")) {
		if (argIs(c, 1, "channels") && c->argc <= 3)
			addReplyArrayLen(c, 0);
		else if (argIs(c, 1, "numpat") && c->argc == 2)
			addReplyLongLong(c, 0);
		else if (argIs(c, 1, "numsub")) {
			addReplyArrayLen(c, 2 * (long long)(c->argc - 2));
			for (int j = 2; j < c->argc; j++) {
				addReplyBulk(c, c->argv[j], c->argvlen[j]);
				addReplyLongLong(c, 0);
			}
		} else if (argIs(c, 1, "numpat"))
			addReplyError(c, "ERR wrong number of arguments for "
				      "'pubsub|numpat' command");
		else if (argIs(c, 1, "channels"))
			addReplyErrorFormat(c, "ERR unknown subcommand or wrong "
					    "number of arguments for '%.128s'. "
					    "Try PUBSUB HELP.", c->argv[1]);
		else
			addReplyErrorFormat(c, "ERR unknown subcommand "
					    "'%.128s'. Try PUBSUB HELP.",
					    c->argv[1]);
	} else {
		addReplyErrorFormat(c, "ERR %s needs a connection that stays "
				    "open: nedbd's RESP port", c->cmd->name);
	}
}

/* ---- the connection: AUTH, HELLO, CLIENT ------------------------------- */

void
nedb_redis_conn_release(nedb_redis_conn *c)
{
	free(c->name);
	c->name = NULL;
}

/* "ERR wrong number of arguments for 'client|getname' command" */
static void
clientArity(client *c)
{
	char sub[32];
	size_t i;

	for (i = 0; i < sizeof sub - 1 && i < c->argvlen[1]; i++)
		sub[i] = (char)tolower((unsigned char)c->argv[1][i]);
	sub[i] = 0;
	addReplyErrorFormat(c, "ERR wrong number of arguments for "
			    "'client|%s' command", sub);
}

/*
 * CLIENT SETNAME's (and HELLO's) name, argv[j]: as Redis, printable
 * ASCII without spaces; empty clears it.  0, or -1 with the error
 * replied.  check only: validated, nothing set.
 */
static int
clientNameCheck(client *c, int j)
{
	for (size_t i = 0; i < c->argvlen[j]; i++)
		if (c->argv[j][i] < '!' || c->argv[j][i] > '~') {
			addReplyError(c, "ERR Client names cannot contain "
				      "spaces, newlines or special "
				      "characters.");
			return -1;
		}
	return 0;
}

static int
clientSetName(client *c, int j)
{
	char *name = NULL;

	if (clientNameCheck(c, j))
		return -1;
	if (c->argvlen[j] && !(name = strdup(c->argv[j]))) {
		oom(c);
		return -1;
	}
	free(c->conn->name);
	c->conn->name = name;
	return 0;
}

/* CLIENT INFO and CLIENT LIST where one client is all there is (a
 * server lists its own: nedbd) */
static void
clientInfo(client *c)
{
	nedb_buf b = {0};

	if (nedb_buf_printf(&b, "id=%llu addr= laddr= fd=-1 name=%s age=0 "
			    "idle=0 flags=N db=%s sub=0 psub=0 ssub=0 "
			    "multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 "
			    "multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 "
			    "tot-mem=0 events=r cmd=client|%s user=default "
			    "redir=-1 resp=%d\n", c->conn->id,
			    c->conn->name ? c->conn->name : "",
			    c->conn->dbname, argIs(c, 1, "info") ? "info" :
			    "list", c->resp == 3 ? 3 : 2))
		oom(c);
	else
		addReplyVerbatim(c, b.p, b.len);
	nedb_buf_free(&b);
}

static void
clientHelp(client *c)
{
	static const char *const help[] = {
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. "
		"Subcommands are:",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"LIST",
		"    Return information about client connections.",
		"NO-EVICT (ON|OFF)",
		"    Accepted; nothing is evicted.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"UNBLOCK <clientid> [TIMEOUT|ERROR]",
		"    Unblock the specified blocked client.",
		"HELP",
		"    Prints this help.",
	};

	addReplyArrayLen(c, (long long)(sizeof help / sizeof *help));
	for (size_t i = 0; i < sizeof help / sizeof *help; i++)
		addReplyStatus(c, help[i]);
}

/*
 * Whether user (argv[u], or the default user for u < 0) with password
 * argv[pw] may in: replied "WRONGPASS ..." when not.  Without a
 * password configured the default user takes any password.
 */
static bool
authOk(client *c, int u, int pw)
{
	nedb_redis_conn *conn = c->conn;
	bool user_ok = u < 0 || argIs(c, u, "default");

	if (user_ok && (!conn->password ||
			secretEqual(c->argv[pw], c->argvlen[pw],
				    conn->password, conn->password_len)))
		return true;
	addReplyError(c, "WRONGPASS invalid username-password pair or user "
		      "is disabled.");
	return false;
}

/*
 * HELLO [protover [AUTH username password] [SETNAME clientname]]: as
 * Redis 7.0, the version first (2 or 3), then the options in order (a
 * name checked as it comes), then AUTH, then the switch; the reply is
 * the server's map, in the protocol just chosen.
 */
static void
helloCommand(client *c)
{
	nedb_redis_conn *conn = c->conn;
	long long ver = 0;
	int user = -1, name = -1;

	if (c->argc >= 2) {
		if (!string2ll(c->argv[1], c->argvlen[1], &ver)) {
			addReplyError(c, "ERR Protocol version is not an "
				      "integer or out of range");
			return;
		}
		if (ver < 2 || ver > 3) {
			addReplyError(c, "NOPROTO unsupported protocol "
				      "version");
			return;
		}
	}
	for (int j = 2; j < c->argc; j++) {
		int more = c->argc - j - 1;

		if (argIs(c, j, "auth") && more >= 2) {
			user = j + 1;
			j += 2;
		} else if (argIs(c, j, "setname") && more >= 1) {
			if (clientNameCheck(c, j + 1))
				return;
			name = ++j;
		} else {
			addReplyErrorFormat(c, "ERR Syntax error in HELLO "
					    "option '%.128s'", c->argv[j]);
			return;
		}
	}
	if (user >= 0) {
		if (!authOk(c, user, user + 1))
			return;
		conn->authed = true;
	}
	if (conn->password && !conn->authed) {
		addReplyError(c, "NOAUTH HELLO must be called with the client "
			      "already authenticated, otherwise the HELLO "
			      "AUTH <user> <pass> option can be used to "
			      "authenticate the client and select the RESP "
			      "protocol version at the same time");
		return;
	}
	if (name >= 0 && clientSetName(c, name))
		return;
	if (ver)
		c->resp = conn->resp = (int)ver;
	addReplyMapLen(c, 7);
	addReplyBulkStr(c, "server");
	addReplyBulkStr(c, "redis");
	addReplyBulkStr(c, "version");
	addReplyBulkStr(c, REDIS_VERSION);
	addReplyBulkStr(c, "proto");
	addReplyLongLong(c, c->resp == 3 ? 3 : 2);
	addReplyBulkStr(c, "id");
	addReplyLongLong(c, (long long)conn->id);
	addReplyBulkStr(c, "mode");
	addReplyBulkStr(c, "standalone");
	addReplyBulkStr(c, "role");
	addReplyBulkStr(c, "master");
	addReplyBulkStr(c, "modules");
	addReplyArrayLen(c, 0);
}

static void
clientCommand(client *c)
{
	long long id;
	int reason;

	if (argIs(c, 1, "id") || argIs(c, 1, "getname") ||
	    argIs(c, 1, "info") || argIs(c, 1, "help")) {
		if (c->argc != 2) {
			clientArity(c);
			return;
		}
		if (argIs(c, 1, "id"))
			addReplyLongLong(c, (long long)c->conn->id);
		else if (argIs(c, 1, "getname")) {
			if (c->conn->name)
				addReplyBulkStr(c, c->conn->name);
			else
				addReplyNull(c);
		} else if (argIs(c, 1, "info"))
			clientInfo(c);
		else
			clientHelp(c);
	} else if (argIs(c, 1, "setname")) {
		if (c->argc != 3)
			clientArity(c);
		else if (clientSetName(c, 2) == 0)
			addReplyOK(c);
	} else if (argIs(c, 1, "no-evict")) {
		/* nothing is evicted here: accepted as Redis accepts it */
		if (c->argc != 3)
			clientArity(c);
		else if (argIs(c, 2, "on") || argIs(c, 2, "off"))
			addReplyOK(c);
		else
			addReplySyntaxError(c);
	} else if (argIs(c, 1, "unblock")) {
		if (nedb_redis_client_unblock(c->argc, c->argv, c->argvlen,
					      c->out, &id, &reason) == 0)
			addReplyLongLong(c, 0);
	} else if (argIs(c, 1, "list") && c->argc == 2) {
		clientInfo(c);
	} else {
		addReplyErrorFormat(c, "ERR unknown subcommand '%.128s'. Try "
				    "CLIENT HELP.", c->argv[1]);
	}
}

int
nedb_redis_client_unblock(int argc, const char *const *argv,
			  const size_t *argvlen, nedb_buf *out,
			  long long *id, int *reason)
{
	client c = {.argc = argc, .argv = argv, .argvlen = argvlen,
		    .out = out};

	if (argc < 3 || argc > 4) {
		addReplyError(&c, "ERR unknown subcommand or wrong number of "
			      "arguments for 'unblock'. Try CLIENT HELP.");
		return -1;
	}
	if (getLongLong(&c, 2, id, NULL))
		return -1;
	*reason = 0;
	if (argc == 4) {
		if (argIs(&c, 3, "timeout"))
			*reason = 0;
		else if (argIs(&c, 3, "error"))
			*reason = 1;
		else {
			addReplyError(&c, "ERR CLIENT UNBLOCK reason should "
				      "be TIMEOUT or ERROR");
			return -1;
		}
	}
	return c.oom ? -1 : 0;
}

static void commandCommand(client *c);

/* ---- the table ------------------------------------------------------------ */

#define W NEDB_REDIS_WRITE
#define R NEDB_REDIS_READ
#define NOAUTH NEDB_REDIS_NOAUTH
#define NOMULTI NEDB_REDIS_NOMULTI

static const struct redisCommand commandTable[] = {
	/* strings and keys */
	{"get", getCommand, 2, R, 1, 1, 1},
	{"set", setCommand, -3, W, 1, 1, 1},
	{"del", delCommand, -2, W, 1, -1, 1},
	{"unlink", delCommand, -2, W, 1, -1, 1},
	{"exists", existsCommand, -2, R, 1, -1, 1},
	{"incr", incrCommand, 2, W, 1, 1, 1},
	{"incrby", incrbyCommand, 3, W, 1, 1, 1},
	{"decr", decrCommand, 2, W, 1, 1, 1},
	{"decrby", decrbyCommand, 3, W, 1, 1, 1},
	{"mset", msetCommand, -3, W, 1, -1, 2},
	{"mget", mgetCommand, -2, R, 1, -1, 1},
	{"setnx", setnxCommand, 3, W, 1, 1, 1},
	{"setex", setexCommand, 4, W, 1, 1, 1},
	{"psetex", psetexCommand, 4, W, 1, 1, 1},
	{"getset", getsetCommand, 3, W, 1, 1, 1},
	{"getdel", getdelCommand, 2, W, 1, 1, 1},
	{"append", appendCommand, 3, W, 1, 1, 1},
	{"strlen", strlenCommand, 2, R, 1, 1, 1},
	{"type", typeCommand, 2, R, 1, 1, 1},
	{"object", objectCommand, -2, R, 2, 2, 1},
	{"rename", renameCommand, 3, W, 1, 2, 1},
	{"keys", keysCommand, 2, R, 0, 0, 0},
	{"randomkey", randomkeyCommand, 1, R, 0, 0, 0},
	{"dbsize", dbsizeCommand, 1, R, 0, 0, 0},
	{"flushdb", flushdbCommand, -1, W, 0, 0, 0},
	{"flushall", flushdbCommand, -1, W, 0, 0, 0},
	{"msetnx", msetnxCommand, -3, W, 1, -1, 2},
	{"renamenx", renamenxCommand, 3, W, 1, 2, 1},
	{"copy", copyCommand, -3, W, 1, 2, 1},
	{"move", moveCommand, 3, W, 1, 1, 1},
	{"incrbyfloat", incrbyfloatCommand, 3, W, 1, 1, 1},
	{"getrange", getrangeCommand, 4, R, 1, 1, 1},
	{"setbit", setbitCommand, 4, W, 1, 1, 1},
	{"getbit", getbitCommand, 3, R, 1, 1, 1},
	{"bitcount", bitcountCommand, -2, R, 1, 1, 1},
	{"setrange", setrangeCommand, 4, W, 1, 1, 1},
	{"getex", getexCommand, -2, W, 1, 1, 1},
	{"scan", scanCommand, -2, R, 0, 0, 0},
	{"hscan", hscanCommand, -3, R, 1, 1, 1},
	{"sscan", sscanCommand, -3, R, 1, 1, 1},
	{"zscan", zscanCommand, -3, R, 1, 1, 1},
	/* hashes */
	{"hset", hsetCommand, -4, W, 1, 1, 1},
	{"hmset", hmsetCommand, -4, W, 1, 1, 1},
	{"hsetnx", hsetnxCommand, 4, W, 1, 1, 1},
	{"hget", hgetCommand, 3, R, 1, 1, 1},
	{"hmget", hmgetCommand, -3, R, 1, 1, 1},
	{"hgetall", hgetallCommand, 2, R, 1, 1, 1},
	{"hdel", hdelCommand, -3, W, 1, 1, 1},
	{"hexists", hexistsCommand, 3, R, 1, 1, 1},
	{"hkeys", hkeysCommand, 2, R, 1, 1, 1},
	{"hvals", hvalsCommand, 2, R, 1, 1, 1},
	{"hlen", hlenCommand, 2, R, 1, 1, 1},
	{"hincrby", hincrbyCommand, 4, W, 1, 1, 1},
	{"hincrbyfloat", hincrbyfloatCommand, 4, W, 1, 1, 1},
	{"hstrlen", hstrlenCommand, 3, R, 1, 1, 1},
	{"hrandfield", hrandfieldCommand, -2, R, 1, 1, 1},
	/* sets */
	{"sadd", saddCommand, -3, W, 1, 1, 1},
	{"smembers", smembersCommand, 2, R, 1, 1, 1},
	{"sismember", sismemberCommand, 3, R, 1, 1, 1},
	{"srem", sremCommand, -3, W, 1, 1, 1},
	{"scard", scardCommand, 2, R, 1, 1, 1},
	{"sunion", sunionCommand, -2, R, 1, -1, 1},
	{"sinter", sinterCommand, -2, R, 1, -1, 1},
	{"sdiff", sdiffCommand, -2, R, 1, -1, 1},
	{"sunionstore", sunionstoreCommand, -3, W, 1, -1, 1},
	{"sinterstore", sinterstoreCommand, -3, W, 1, -1, 1},
	{"sdiffstore", sdiffstoreCommand, -3, W, 1, -1, 1},
	{"sintercard", sintercardCommand, -3, R, 0, 0, 0},
	{"smismember", smismemberCommand, -3, R, 1, 1, 1},
	{"smove", smoveCommand, 4, W, 1, 2, 1},
	{"spop", spopCommand, -2, W, 1, 1, 1},
	{"srandmember", srandmemberCommand, -2, R, 1, 1, 1},
	/* sorted sets */
	{"zadd", zaddCommand, -4, W, 1, 1, 1},
	{"zincrby", zincrbyCommand, 4, W, 1, 1, 1},
	{"zrem", zremCommand, -3, W, 1, 1, 1},
	{"zcard", zcardCommand, 2, R, 1, 1, 1},
	{"zscore", zscoreCommand, 3, R, 1, 1, 1},
	{"zmscore", zmscoreCommand, -3, R, 1, 1, 1},
	{"zrank", zrankCommand, 3, R, 1, 1, 1},
	{"zrevrank", zrevrankCommand, 3, R, 1, 1, 1},
	{"zcount", zcountCommand, 4, R, 1, 1, 1},
	{"zlexcount", zlexcountCommand, 4, R, 1, 1, 1},
	{"zrange", zrangeCommand, -4, R, 1, 1, 1},
	{"zrevrange", zrevrangeCommand, -4, R, 1, 1, 1},
	{"zrangestore", zrangestoreCommand, -5, W, 1, 2, 1},
	{"zrangebyscore", zrangebyscoreCommand, -4, R, 1, 1, 1},
	{"zrevrangebyscore", zrevrangebyscoreCommand, -4, R, 1, 1, 1},
	{"zrangebylex", zrangebylexCommand, -4, R, 1, 1, 1},
	{"zrevrangebylex", zrevrangebylexCommand, -4, R, 1, 1, 1},
	{"zremrangebyrank", zremrangebyrankCommand, 4, W, 1, 1, 1},
	{"zremrangebyscore", zremrangebyscoreCommand, 4, W, 1, 1, 1},
	{"zremrangebylex", zremrangebylexCommand, 4, W, 1, 1, 1},
	{"zrandmember", zrandmemberCommand, -2, R, 1, 1, 1},
	{"zunionstore", zunionstoreCommand, -4, W, 1, 1, 1},
	{"zinterstore", zinterstoreCommand, -4, W, 1, 1, 1},
	{"zdiffstore", zdiffstoreCommand, -4, W, 1, 1, 1},
	{"zunion", zunionCommand, -3, R, 0, 0, 0},
	{"zinter", zinterCommand, -3, R, 0, 0, 0},
	{"zdiff", zdiffCommand, -3, R, 0, 0, 0},
	{"zintercard", zintercardCommand, -3, R, 0, 0, 0},
	{"zpopmin", zpopminCommand, -2, W, 1, 1, 1},
	{"zpopmax", zpopmaxCommand, -2, W, 1, 1, 1},
	{"bzpopmin", bzpopminCommand, -3, W, 1, -2, 1},
	{"bzpopmax", bzpopmaxCommand, -3, W, 1, -2, 1},
	{"zmpop", zmpopCommand, -4, W, 0, 0, 0},
	{"bzmpop", bzmpopCommand, -5, W, 0, 0, 0},
	/* lists */
	{"lpush", lpushCommand, -3, W, 1, 1, 1},
	{"rpush", rpushCommand, -3, W, 1, 1, 1},
	{"lrange", lrangeCommand, 4, R, 1, 1, 1},
	{"llen", llenCommand, 2, R, 1, 1, 1},
	{"lindex", lindexCommand, 3, R, 1, 1, 1},
	{"lset", lsetCommand, 4, W, 1, 1, 1},
	{"lpop", lpopCommand, -2, W, 1, 1, 1},
	{"rpop", rpopCommand, -2, W, 1, 1, 1},
	{"lpushx", lpushxCommand, -3, W, 1, 1, 1},
	{"rpushx", rpushxCommand, -3, W, 1, 1, 1},
	{"linsert", linsertCommand, 5, W, 1, 1, 1},
	{"ltrim", ltrimCommand, 4, W, 1, 1, 1},
	{"lrem", lremCommand, 4, W, 1, 1, 1},
	{"lpos", lposCommand, -3, R, 1, 1, 1},
	{"lmove", lmoveCommand, 5, W, 1, 2, 1},
	{"rpoplpush", rpoplpushCommand, 3, W, 1, 2, 1},
	{"sort", sortCommand, -2, W, 1, 1, 1},
	{"sort_ro", sortroCommand, -2, R, 1, 1, 1},
	{"lcs", lcsCommand, -3, R, 1, 2, 1},
	{"blpop", blpopCommand, -3, W, 1, -2, 1},
	{"brpop", brpopCommand, -3, W, 1, -2, 1},
	{"lmpop", lmpopCommand, -4, W, 0, 0, 0},
	{"blmpop", blmpopCommand, -5, W, 0, 0, 0},
	{"blmove", blmoveCommand, 6, W, 1, 2, 1},
	{"brpoplpush", brpoplpushCommand, 4, W, 1, 2, 1},
	/* expiry */
	{"expire", expireCommand, -3, W, 1, 1, 1},
	{"pexpire", pexpireCommand, -3, W, 1, 1, 1},
	{"expireat", expireatCommand, -3, W, 1, 1, 1},
	{"pexpireat", pexpireatCommand, -3, W, 1, 1, 1},
	{"expiretime", expiretimeCommand, 2, R, 1, 1, 1},
	{"pexpiretime", pexpiretimeCommand, 2, R, 1, 1, 1},
	{"ttl", ttlCommand, 2, R, 1, 1, 1},
	{"pttl", pttlCommand, 2, R, 1, 1, 1},
	{"persist", persistCommand, 2, W, 1, 1, 1},
	/* server and connection */
	{"ping", pingCommand, -1, NOAUTH, 0, 0, 0},
	{"time", timeCommand, 1, 0, 0, 0, 0},
	{"echo", echoCommand, 2, 0, 0, 0, 0},
	{"select", selectCommand, 2, 0, 0, 0, 0},
	{"swapdb", swapdbCommand, 3, 0, 0, 0, 0},
	{"command", commandCommand, -1, 0, 0, 0, 0},
	{"client", clientCommand, -2, 0, 0, 0, 0},
	{"quit", quitCommand, -1, NOAUTH, 0, 0, 0},
	{"info", infoCommand, -1, 0, 0, 0, 0},
	{"save", saveCommand, 1, W | NOMULTI, 0, 0, 0},
	{"bgsave", saveCommand, -1, W, 0, 0, 0},
	{"lastsave", lastsaveCommand, 1, R, 0, 0, 0},
	{"shutdown", shutdownCommand, -1, NOMULTI, 0, 0, 0},
	{"auth", authCommand, -2, NOAUTH, 0, 0, 0},
	{"hello", helloCommand, -1, NOAUTH, 0, 0, 0},
	/* publish and subscribe (nedbd's own; pubsubCommand alone) */
	{"publish", pubsubCommand, 3, 0, 0, 0, 0},
	{"pubsub", pubsubCommand, -2, 0, 0, 0, 0},
	{"subscribe", pubsubCommand, -2, 0, 0, 0, 0},
	{"unsubscribe", pubsubCommand, -1, 0, 0, 0, 0},
	{"psubscribe", pubsubCommand, -2, 0, 0, 0, 0},
	{"punsubscribe", pubsubCommand, -1, 0, 0, 0, 0},
	/* NQL */
	{"eval", evalCommand, -3, R, 0, 0, 0},
};

#undef W
#undef R
#undef NOAUTH
#undef NOMULTI

#define NCOMMANDS (sizeof commandTable / sizeof *commandTable)

/*
 * The table by name: an open-addressing hash of the lowercase names
 * (entry i + 1; 0: empty), made once.  A name hashes as its lowercase
 * letters do, so a command is found in any case, as strncasecmp finds
 * it; a name twice in the table is found first where the scan of the
 * table found it (inserted first, it is first on its probe path).
 */
#define CMD_SLOTS 512		/* a power of two, over twice NCOMMANDS */
static uint16_t cmdSlot[CMD_SLOTS];
static pthread_once_t cmdOnce = PTHREAD_ONCE_INIT;

static unsigned
cmdHash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 'A' && ch <= 'Z')
			ch = (unsigned char)(ch + 'a' - 'A');
		h = (h ^ ch) * 16777619u;
	}
	return h & (CMD_SLOTS - 1);
}

static void
cmdIndex(void)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *name = commandTable[i].name;
		unsigned h = cmdHash(name, strlen(name));

		while (cmdSlot[h])
			h = (h + 1) & (CMD_SLOTS - 1);
		cmdSlot[h] = (uint16_t)(i + 1);
	}
}

static const struct redisCommand *
lookupCommand(const char *name, size_t len)
{
	_Static_assert(NCOMMANDS * 2 < CMD_SLOTS, "CMD_SLOTS too small");
	pthread_once(&cmdOnce, cmdIndex);
	for (unsigned h = cmdHash(name, len); cmdSlot[h];
	     h = (h + 1) & (CMD_SLOTS - 1)) {
		const struct redisCommand *cmd = &commandTable[cmdSlot[h] - 1];

		if (strlen(cmd->name) == len && !strncasecmp(cmd->name, name,
							     len))
			return cmd;
	}
	return NULL;
}

unsigned
nedb_redis_flags(const char *name, size_t len)
{
	const struct redisCommand *cmd = lookupCommand(name, len);

	return cmd ? cmd->flags | NEDB_REDIS_KNOWN : 0;
}

bool
nedb_redis_arity_ok(const char *name, size_t len, int argc)
{
	const struct redisCommand *cmd = lookupCommand(name, len);

	return cmd && (cmd->arity > 0 ? argc == cmd->arity :
		       argc >= -cmd->arity);
}

/* COMMAND's description of cmd, in the RESP2 form of Redis 6. */
static void
addReplyCommandInfo(client *c, const struct redisCommand *cmd)
{
	int nflags = 0;

	addReplyArrayLen(c, 7);
	addReplyBulkStr(c, cmd->name);
	addReplyLongLong(c, cmd->arity);
	nflags = !!(cmd->flags & (NEDB_REDIS_WRITE | NEDB_REDIS_READ)) +
		 !!(cmd->flags & NEDB_REDIS_NOAUTH);
	addReplyArrayLen(c, nflags);
	if (cmd->flags & NEDB_REDIS_WRITE)
		addReplyStatus(c, "write");
	else if (cmd->flags & NEDB_REDIS_READ)
		addReplyStatus(c, "readonly");
	if (cmd->flags & NEDB_REDIS_NOAUTH)
		addReplyStatus(c, "no_auth");
	addReplyLongLong(c, cmd->firstkey);
	addReplyLongLong(c, cmd->lastkey);
	addReplyLongLong(c, cmd->keystep);
	addReplyArrayLen(c, 0);
}

static void
commandCommand(client *c)
{
	static const char *const help[] = {
		"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands "
		"are:",
		"(no subcommand)",
		"    Return details about all commands.",
		"COUNT",
		"    Return the total number of commands.",
		"INFO [<command-name> ...]",
		"    Return details about the given commands, or all of them.",
		"DOCS [<command-name> ...]",
		"    Return documentation (none here: an empty map).",
		"LIST",
		"    Return the names of all commands.",
		"HELP",
		"    Print this help.",
	};

	if (c->argc == 1 || (c->argc >= 2 && argIs(c, 1, "info") &&
			     c->argc == 2)) {
		addReplyArrayLen(c, (long long)NCOMMANDS);
		for (size_t i = 0; i < NCOMMANDS; i++)
			addReplyCommandInfo(c, &commandTable[i]);
	} else if (argIs(c, 1, "info")) {
		addReplyArrayLen(c, c->argc - 2);
		for (int j = 2; j < c->argc; j++) {
			const struct redisCommand *cmd =
				lookupCommand(c->argv[j], c->argvlen[j]);

			if (cmd)
				addReplyCommandInfo(c, cmd);
			else
				addReplyNullArray(c);
		}
	} else if (argIs(c, 1, "count") && c->argc == 2) {
		addReplyLongLong(c, (long long)NCOMMANDS);
	} else if (argIs(c, 1, "docs")) {
		addReplyArrayLen(c, 0);
	} else if (argIs(c, 1, "list") && c->argc == 2) {
		addReplyArrayLen(c, (long long)NCOMMANDS);
		for (size_t i = 0; i < NCOMMANDS; i++)
			addReplyBulkStr(c, commandTable[i].name);
	} else if (argIs(c, 1, "help") && c->argc == 2) {
		addReplyArrayLen(c, (long long)(sizeof help / sizeof *help));
		for (size_t i = 0; i < sizeof help / sizeof *help; i++)
			addReplyStatus(c, help[i]);
	} else {
		addReplyErrorFormat(c, "ERR unknown subcommand or wrong number "
				    "of arguments for '%.128s'. Try COMMAND "
				    "HELP.", c->argv[1]);
	}
}

/* ---- dispatch -------------------------------------------------------------- */

static void
unknownCommand(client *c)
{
	nedb_buf args = {0};

	/* as Redis words it: the first 128 bytes or so of the arguments */
	for (int i = 1; i < c->argc && args.len < 128; i++)
		if (nedb_buf_printf(&args, "'%.*s' ", (int)(128 - args.len),
				    c->argv[i]))
			c->oom = true;
	addReplyErrorFormat(c, "ERR unknown command '%.128s', with args "
			    "beginning with: %s", c->argv[0],
			    args.p ? args.p : "");
	nedb_buf_free(&args);
}

static bool keyArgsValidStep(client *c, int first, int last, int step);

/* Checks every key argument of the command: nedb ids only. */
static bool
keysValid(client *c)
{
	const struct redisCommand *cmd = c->cmd;
	int last;

	if (!cmd->firstkey)
		return true;
	last = cmd->lastkey < 0 ? c->argc + cmd->lastkey : cmd->lastkey;
	return keyArgsValidStep(c, cmd->firstkey, last, cmd->keystep);
}

/* Checks arguments first to last (of a command whose keys the table
 * cannot place, as SINTERCARD's): nedb ids only, else an error reply. */
static bool
keyArgsValid(client *c, int first, int last)
{
	return keyArgsValidStep(c, first, last, 1);
}

static bool
keyArgsValidStep(client *c, int first, int last, int step)
{
	for (int j = first; j <= last && j < c->argc; j += step) {
		const char *coll, *id;

		if (nedb_redis_where(c->conn, c->argv[j], c->argvlen[j], &coll,
				     &id) == 0)
			continue;
		const char *m = nedb_errmsg();

		/* "bad id: ..." from the library: here it is a key */
		if (!strncmp(m, "bad id", 6))
			addReplyErrorFormat(c, "ERR bad key%s", m + 6);
		else
			addReplyErrorFormat(c, "ERR %s", m);
		return false;
	}
	return true;
}

int
nedb_redis_where(const nedb_redis_conn *c, const char *key, size_t keylen,
		 const char **coll, const char **id)
{
	struct place pl;
	int rc;

	/* the key first, so that the message says what is wrong with it */
	if ((rc = nedb_check_id(key, keylen)))
		return rc;
	route(c, key, keylen, &pl);
	if (pl.id != key && (rc = nedb_check_id(pl.id, strlen(pl.id))))
		return nedb__err(NEDB_EINPUT, "bad key: '%.64s' leaves %s "
				 "id in collection '%s'", key,
				 *pl.id ? "an invalid" : "an empty", pl.coll);
	*coll = pl.coll;
	*id = pl.id;
	return 0;
}

int
nedb_redis_exec(nedb_redis_conn *conn, int argc, const char *const *argv,
		const size_t *argvlen, nedb_buf *out, bool *wrote)
{
	client c = clientOf(conn, out);
	size_t mark = out->len, before = 0;
	bool own = false, began = false;
	const struct redisCommand *cmd;
	int rc;

	*wrote = false;
	c.argc = argc;
	c.argv = argv;
	c.argvlen = argvlen;
	if (argc <= 0)
		return 0;
	/* Redis's order: unknown command, arity, authentication */
	if (!(c.cmd = cmd = lookupCommand(argv[0], argvlen[0]))) {
		unknownCommand(&c);
		goto done;
	}
	if ((cmd->arity > 0 && argc != cmd->arity) || argc < -cmd->arity) {
		addReplyArity(&c);
		goto done;
	}
	if (conn->password && !conn->authed &&
	    !(cmd->flags & NEDB_REDIS_NOAUTH)) {
		addReplyError(&c, "NOAUTH Authentication required.");
		goto done;
	}
	if (!keysValid(&c))
		goto done;
	if (!c.db && (cmd->flags & (NEDB_REDIS_WRITE | NEDB_REDIS_READ))) {
		addReplyError(&c, "ERR no database selected: SELECT one first");
		return NEDB_ENOTFOUND;
	}
	if (cmd->flags & NEDB_REDIS_WRITE) {
		own = !c.db->wtxn;
		if (own && (rc = nedb_write_begin(c.db))) {
			dbFail(&c, rc);
			goto done;
		}
		before = nedb_write_pending(c.db);
	} else if (cmd->flags & NEDB_REDIS_READ) {
		began = !c.db->wtxn && !c.db->rtxn;
		if (began && (rc = nedb_read_begin(c.db))) {
			dbFail(&c, rc);
			goto done;
		}
	}
	if (conn->serve_key && !conn->can_block)
		conn->serve_key = NULL;	/* only a parked command is served */
	cmd->proc(&c);
	if (cmd->flags & NEDB_REDIS_WRITE) {
		*wrote = nedb_write_pending(c.db) > before;
		if (own) {
			/* an error reply stages nothing (invariant 1) */
			bool failed_reply = c.err || c.oom ||
				(out->len > mark && out->p[mark] == '-');

			if (failed_reply || !*wrote) {
				nedb_write_abort(c.db);
				*wrote = false;
			} else if ((rc = nedb_write_commit(c.db))) {
				dbFail(&c, rc);
				*wrote = false;
			}
		}
	} else if (began)
		nedb_read_end(c.db);
done:
	if ((rc = clientError(&c, mark)))
		return rc;
	return c.blocked ? NEDB_REDIS_BLOCKED : 0;
}

/* ---- WATCH ------------------------------------------------------------ */

static int
lastVersion(const nedb_doc *v, const char *op, void *payload)
{
	(void)op;
	*(uint64_t *)payload = v->seq;
	return 0;
}

int
nedb_redis_key_version(nedb *db, const char *key, size_t len, uint64_t *seq,
		       bool *present, int64_t *exp)
{
	nedb_doc d;
	int rc;

	*seq = 0;
	*present = false;
	*exp = 0;
	if (strlen(key) != len || nedb_check_id(key, len))
		return 0;
	rc = nedb_get(db, REDIS_COLL, key, NEDB_HEAD, &d);
	if (rc == 0) {
		*seq = d.seq;
		*present = true;
		*exp = d.exp;
		return 0;
	}
	if (rc != NEDB_ENOTFOUND)
		return rc;
	/* deleted, expired or dropped since: the newest version says when */
	rc = nedb_history(db, REDIS_COLL, key, lastVersion, seq);
	return rc == NEDB_ENOTFOUND ? 0 : rc;
}

/* ---- registrations ------------------------------------------------------ */

void
nedb_redis_map_free(nedb_redis_map *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->r[i].pattern);
	free(m->r);
	free(m);
}

const char *
nedb_redis_map_coll(const nedb_redis_map *m, size_t i, unsigned *db)
{
	if (!m || i >= m->n)
		return NULL;
	if (db)
		*db = m->r[i].db;
	return m->r[i].coll;
}

/* Member name of rule k as a string, or NULL with an error set. */
static const char *
ruleStr(jv rule, const char *name, size_t k, bool required, int *rc)
{
	jv v = jv_object_get(jv_copy(rule), jv_string(name));
	const char *s = NULL;

	if (jv_get_kind(v) == JV_KIND_STRING)
		s = jv_string_value(v);		/* rule keeps it alive */
	else if (jv_get_kind(v) != JV_KIND_INVALID || required)
		*rc = nedb__err(NEDB_EINPUT, "rule %zu: \"%s\" %s", k + 1,
				name, jv_get_kind(v) == JV_KIND_INVALID ?
				"is missing" : "must be a string");
	jv_free(v);
	return s;
}

/* Fills r from the rule object at k; 0 or NEDB_EINPUT. */
static int
ruleParse(jv rule, size_t k, struct maprule *r)
{
	static const char *const known[] = {"pattern", "collection", "type",
					    "id", "db"};
	const char *pat, *coll, *type, *id;
	int rc = 0;
	jv v;

	if (jv_get_kind(rule) != JV_KIND_OBJECT)
		return nedb__err(NEDB_EINPUT, "rule %zu: not an object", k + 1);
	for (int it = jv_object_iter(rule); jv_object_iter_valid(rule, it);
	     it = jv_object_iter_next(rule, it)) {
		jv key = jv_object_iter_key(rule, it);
		bool ok = false;

		for (size_t i = 0; i < sizeof known / sizeof *known; i++)
			ok |= !strcmp(jv_string_value(key), known[i]);
		if (!ok)
			rc = nedb__err(NEDB_EINPUT, "rule %zu: unknown member "
				       "\"%.64s\" (want pattern, collection, "
				       "type, id, db)", k + 1,
				       jv_string_value(key));
		jv_free(key);
		if (rc)
			return rc;
	}
	pat = ruleStr(rule, "pattern", k, true, &rc);
	coll = rc ? NULL : ruleStr(rule, "collection", k, true, &rc);
	type = rc ? NULL : ruleStr(rule, "type", k, true, &rc);
	id = rc ? NULL : ruleStr(rule, "id", k, false, &rc);
	if (rc)
		return rc;
	if (!*pat)
		return nedb__err(NEDB_EINPUT, "rule %zu: \"pattern\" is empty",
				 k + 1);
	if (nedb_check_coll(coll))
		return nedb__err(NEDB_EINPUT, "rule %zu: bad collection "
				 "'%.80s': want [A-Za-z_][A-Za-z0-9_]*, 1-64 "
				 "chars", k + 1, coll);
	if (!strcmp(type, "json"))
		r->codec = CODEC_JSON;
	else if (!strcmp(type, "hash"))
		r->codec = CODEC_HASH;
	else if (!strcmp(type, "string"))
		r->codec = CODEC_STRING;
	else
		return nedb__err(NEDB_EINPUT, "rule %zu: bad type '%.40s': "
				 "want json, hash or string", k + 1, type);
	if (id && strcmp(id, "suffix") && strcmp(id, "key"))
		return nedb__err(NEDB_EINPUT, "rule %zu: bad id '%.40s': want "
				 "suffix or key", k + 1, id);
	r->whole_key = id && !strcmp(id, "key");
	v = jv_object_get(jv_copy(rule), jv_string("db"));
	if (jv_get_kind(v) != JV_KIND_INVALID) {
		double d = jv_get_kind(v) == JV_KIND_NUMBER ?
			   jv_number_value(v) : -1;

		jv_free(v);
		if (d < 0 || d > 1e6 || d != (double)(unsigned)d)
			return nedb__err(NEDB_EINPUT, "rule %zu: bad db: want "
					 "a Redis database number", k + 1);
		r->db = (unsigned)d;
	} else
		jv_free(v);
	strcpy(r->coll, coll);
	r->patlen = strlen(pat);
	r->pattern = nedb__malloc(r->patlen + 1);
	memcpy(r->pattern, pat, r->patlen + 1);
	r->prefix = strcspn(pat, "*?[\\");
	return 0;
}

int
nedb_redis_map_parse(const char *json, size_t len, nedb_redis_map **out)
{
	nedb_redis_map *m;
	int rc;
	jv a;

	*out = NULL;
	if ((rc = nedb__jv_require()))
		return rc;
	a = jv_parse_sized(json, (int)len);
	if (!jv_is_valid(a)) {
		jv msg = jv_invalid_get_msg(a);
		const char *t = jv_get_kind(msg) == JV_KIND_STRING ?
				jv_string_value(msg) : "empty input";

		rc = nedb__err(NEDB_EINPUT, "not JSON: %.*s",
			       (int)(strstr(t, " (while parsing") ?
				     strstr(t, " (while parsing") - t :
				     (long)strlen(t)), t);
		jv_free(msg);
		return rc;
	}
	if (jv_get_kind(a) != JV_KIND_ARRAY) {
		rc = nedb__err(NEDB_EINPUT, "not an array of rules: got %s",
			       jv_kind_name(jv_get_kind(a)));
		jv_free(a);
		return rc;
	}
	m = nedb__calloc(1, sizeof *m);
	m->r = nedb__calloc((size_t)jv_array_length(jv_copy(a)) + 1,
			    sizeof *m->r);
	for (int i = 0; i < jv_array_length(jv_copy(a)); i++) {
		jv rule = jv_array_get(jv_copy(a), i);

		rc = ruleParse(rule, (size_t)i, &m->r[m->n]);
		jv_free(rule);
		if (rc) {
			free(m->r[m->n].pattern);
			nedb_redis_map_free(m);
			jv_free(a);
			return rc;
		}
		m->n++;
	}
	jv_free(a);
	*out = m;
	return 0;
}

int
nedb_redis_raw(nedb_buf *out, const char *id, unsigned db, int argc,
	       const char *const *argv, const size_t *argvlen, const char *why)
{
	int rc = 0;

	out->len = 0;
	rc |= nedb_buf_puts(out, "{\"_id\":");
	rc |= nedb_buf_json_str(out, id, strlen(id));
	rc |= nedb_buf_printf(out, ",\"db\":%u,\"argv\":[", db);
	for (int i = 0; i < argc; i++) {
		bstr a = {(char *)argv[i], argvlen[i]};

		if (i)
			rc |= nedb_buf_add(out, ",", 1);
		if (utf8(&a))
			rc |= nedb_buf_json_str(out, argv[i], argvlen[i]);
		else
			rc |= nedb_buf_puts(out, "{\"b64\":") ||
			      putStr(out, &a, true) ||
			      nedb_buf_add(out, "}", 1);
	}
	rc |= nedb_buf_add(out, "]", 1);
	if (why) {
		rc |= nedb_buf_puts(out, ",\"error\":");
		rc |= nedb_buf_json_str(out, why, strlen(why));
	}
	rc |= nedb_buf_add(out, "}", 1);
	return rc ? NEDB_EIO : 0;
}

/* ---- whole values (a snapshot's import) ---------------------------------- */

/* o from the byte strings of nedb_redis_store; NEDB_EINPUT if bad. */
static int
storeValue(robj *o, int type, size_t n, const char *const *v,
	   const size_t *vlen)
{
	static const int types[] = {
		[NEDB_REDIS_STRING] = OBJ_STRING, [NEDB_REDIS_HASH] = OBJ_HASH,
		[NEDB_REDIS_LIST] = OBJ_LIST, [NEDB_REDIS_SET] = OBJ_SET,
		[NEDB_REDIS_ZSET] = OBJ_ZSET,
	};

	if (type < NEDB_REDIS_STRING || type > NEDB_REDIS_ZSET ||
	    (type == NEDB_REDIS_STRING ? n != 1 : n == 0) ||
	    ((type == NEDB_REDIS_HASH || type == NEDB_REDIS_ZSET) && n % 2))
		return nedb__err(NEDB_EUSAGE, "bad value: type %d with %zu "
				 "strings", type, n);
	o->type = types[type];
	if (type == NEDB_REDIS_STRING)
		return bstrSet(&o->str, v[0], vlen[0]);
	for (size_t i = 0; i < n; i += type == NEDB_REDIS_ZSET ? 2 : 1) {
		bool found;
		double sc;

		switch (type) {
		case NEDB_REDIS_SET:
			{
				size_t at = setFind(o, v[i], vlen[i], &found);

				if (!found)
					robjInsert(o, at, v[i], vlen[i]);
			}
			break;
		case NEDB_REDIS_ZSET:
			if (!string2d(v[i + 1], vlen[i + 1], &sc))
				return nedb__err(NEDB_EINPUT, "bad score "
						 "'%.40s'", v[i + 1]);
			{
				/* main's order: members by bytes, scores
				 * beside them in o->sc (-0 kept as 0) */
				size_t at = setFind(o, v[i], vlen[i], &found);

				if (sc == 0)
					sc = 0;
				if (found)
					o->sc[at] = sc;
				else if (zsetInsert(o, at, v[i], vlen[i], sc))
					return NEDB_EIO;
			}
			break;
		default:	/* hash fields and values, list elements */
			robjInsert(o, o->n, v[i], vlen[i]);
		}
	}
	return 0;
}

int
nedb_redis_store(nedb_redis_conn *c, const char *key, size_t keylen,
		 int type, size_t n, const char *const *v, const size_t *vlen,
		 int64_t exp, unsigned flags)
{
	nedb_wopts w = {
		.client = c->client ? c->client : "redis",
		.evidence = c->evidence, .repl_offset = c->repl_offset,
		.keep_expired = c->replica,
	};
	client cl = {.conn = c, .db = c->db, .w = w};
	const char *coll, *id, *why = NULL;
	nedb_buf doc = {0};
	struct place pl;
	robj o = {0};
	int64_t ttl = 0;
	int rc;

	if (!c->db || !c->db->wtxn)
		return nedb__err(NEDB_EUSAGE, "no write is open");
	if ((rc = nedb_redis_where(c, key, keylen, &coll, &id)) ||
	    (rc = storeValue(&o, type, n, v, vlen)))
		goto done;
	route(c, key, keylen, &pl);
	if ((rc = buildDoc(&doc, &pl, &o, &why)) < 0) {
		rc = NEDB_EIO;
		goto done;
	}
	if (rc) {
		rc = nedb__err(NEDB_EINPUT, "key '%.64s' is registered as %s "
			       "in collection '%s': it cannot hold %s", key,
			       codec_name[pl.codec], pl.coll, why);
		goto done;
	}
	if (doc.len > MAX_DOC) {
		rc = nedb__err(NEDB_EINPUT, "value too large: the document of "
			       "key '%.64s' would exceed %u bytes", key,
			       MAX_DOC);
		goto done;
	}
	if (exp) {
		ttl = exp - nedb_now_ms();
		if (ttl <= 0)
			ttl = 1;
	}
	if (flags & NEDB_REDIS_IFCHANGED) {
		nedb_doc d;
		int r = dbFetchAt(&cl, &pl, &d);

		if (r < 0) {
			rc = cl.err;
			goto done;
		}
		if (r && d.len == doc.len && !memcmp(d.doc, doc.p, doc.len) &&
		    (d.exp ? exp && llabs(d.exp - exp) < 1000 : !exp)) {
			rc = 0;
			goto done;
		}
	}
	{
		nedb_put p = {
			.coll = pl.coll, .id = pl.id, .doc = doc.p,
			.doclen = doc.len, .ttl_ms = ttl, .w = w,
			.prepared = 1,
		};

		rc = nedb_write_put(c->db, &p, NULL);
		if (rc == 0)
			rc = 1;
	}
done:
	robjFree(&o);
	nedb_buf_free(&doc);
	return rc;
}

/* ---- command lines ---------------------------------------------------- */

int
nedb_redis_split(const char *s, nedb_buf *arena, size_t **off, size_t **len,
	   size_t *cap)
{
	int n = 0;

	arena->len = 0;
	for (;;) {
		bool inq = false, insq = false, done = false;
		size_t start;

		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' ||
		       *s == '\v' || *s == '\f')
			s++;
		if (!*s)
			return n;
		start = arena->len;
		while (!done) {
			char c = *s;

			if (inq) {
				if (c == '\\' && s[1] == 'x' &&
				    strchr("0123456789abcdefABCDEF", s[2]) &&
				    s[2] && s[3] &&
				    strchr("0123456789abcdefABCDEF", s[3])) {
					char hex[3] = {s[2], s[3], 0};
					char b = (char)strtol(hex, NULL, 16);

					nedb_buf_add(arena, &b, 1);
					s += 3;
				} else if (c == '\\' && s[1]) {
					const char *from = "nrtba", *to =
						"\n\r\t\b\a";
					const char *k = strchr(from, s[1]);
					char b = k ? to[k - from] : s[1];

					nedb_buf_add(arena, &b, 1);
					s++;
				} else if (c == '"') {
					if (s[1] && !strchr(" \t\r\n\v\f",
							    s[1]))
						return NEDB_EINPUT;
					done = true;
				} else if (!c) {
					return NEDB_EINPUT;
				} else
					nedb_buf_add(arena, &c, 1);
			} else if (insq) {
				if (c == '\\' && s[1] == '\'') {
					nedb_buf_add(arena, "'", 1);
					s++;
				} else if (c == '\'') {
					if (s[1] && !strchr(" \t\r\n\v\f",
							    s[1]))
						return NEDB_EINPUT;
					done = true;
				} else if (!c) {
					return NEDB_EINPUT;
				} else
					nedb_buf_add(arena, &c, 1);
			} else {
				switch (c) {
				case ' ': case '\n': case '\r': case '\t':
				case '\v': case '\f': case '\0':
					done = true;
					continue;
				case '"':
					inq = true;
					break;
				case '\'':
					insq = true;
					break;
				default:
					nedb_buf_add(arena, &c, 1);
				}
			}
			if (*s)
				s++;
		}
		if ((size_t)n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*off = nedb__realloc(*off, *cap * sizeof **off);
			*len = nedb__realloc(*len, *cap * sizeof **len);
		}
		(*off)[n] = start;
		(*len)[n] = arena->len - start;
		if (nedb_buf_add(arena, "", 1))	/* the NUL after it */
			return NEDB_EIO;
		n++;
	}
}

/* ---- the Redis operators of patch ops ------------------------------------
 * A patch op's update may be one Redis operator, {"$sadd":[M,...]} and
 * the nine others of doc/ochange.md §7.1 (nedb-format(5) has their exact
 * semantics): the change a command made to a set, list, hash or sorted
 * set, so that the log holds the change and not the value.  Here they
 * are applied to a document's text: view.c's apply and past versions
 * (engine/db.c nedb__version_text) go through query/update.c's
 * nedb__patch_doc, which comes here.
 *
 * Invariants:
 * 1. The document taken is exactly what buildDoc prints for a value in
 *    the "value" shape (CODEC_REDIS), and the result is what buildDoc
 *    prints for the value changed: a text in any other shape (a "b64"
 *    document, members out of order, whitespace) does not take the
 *    operators, so that the C and the format's Python script need to
 *    agree on one parse only.
 * 2. An update is checked whole before anything is printed: any string
 *    not valid UTF-8 (a lone surrogate escape included), any shape but
 *    the operator's, a count out of range, is NEDB_EINPUT.
 * 3. nedb__redis_patches parses once and prints once: each operator
 *    costs a binary search and a memmove of the member array, so a past
 *    version thousands of patches after its put is read in
 *    O(parse + patches * (log n + memmove)).  A hash carries an index
 *    of its fields by bytes for that (rpatch.hx).
 */

enum { ARG_STRS, ARG_COUNT, ARG_FIELDS, ARG_SCORES, ARG_INDEX };

static const struct ropDef {
	const char *name;	/* the member's name, quoted */
	int type;
	int arg;
} ropTable[] = {
	{"\"$sadd\"", OBJ_SET, ARG_STRS}, {"\"$srem\"", OBJ_SET, ARG_STRS},
	{"\"$lpush\"", OBJ_LIST, ARG_STRS}, {"\"$rpush\"", OBJ_LIST, ARG_STRS},
	{"\"$lpop\"", OBJ_LIST, ARG_COUNT}, {"\"$rpop\"", OBJ_LIST, ARG_COUNT},
	{"\"$hset\"", OBJ_HASH, ARG_FIELDS}, {"\"$hdel\"", OBJ_HASH, ARG_STRS},
	{"\"$zadd\"", OBJ_ZSET, ARG_SCORES}, {"\"$zrem\"", OBJ_ZSET, ARG_STRS},
	{"\"$lset\"", OBJ_LIST, ARG_INDEX},
};

/* A value being patched: its key, and for a hash its index. */
typedef struct rpatch {
	robj o;
	char *id;		/* the document's _id, decoded */
	size_t *hx;		/* OBJ_HASH: o.v's field entries, by bytes */
	size_t hxcap;
	nedb_buf text;		/* the document, NUL-ended */
	nedb_buf tmp;		/* a printed document */
} rpatch;

static void
rpatchFree(rpatch *rp)
{
	robjFree(&rp->o);
	free(rp->id);
	free(rp->hx);
	nedb_buf_free(&rp->text);
	nedb_buf_free(&rp->tmp);
	memset(rp, 0, sizeof *rp);
}

/*
 * The operator an update names by its first member (the member's text,
 * exactly: "$sadd", not an escape of it), with *arg after its colon;
 * NULL when it names none.
 */
static const struct ropDef *
ropLookup(const char *upd, size_t len, const char **arg)
{
	const char *p = skipWs(upd, upd + len), *e = upd + len;

	if (p == e || *p++ != '{')
		return NULL;
	p = skipWs(p, e);
	for (size_t i = 0; i < sizeof ropTable / sizeof *ropTable; i++) {
		size_t n = strlen(ropTable[i].name);

		if ((size_t)(e - p) < n || memcmp(p, ropTable[i].name, n))
			continue;
		p = skipWs(p + n, e);
		*arg = p < e && *p == ':' ? p + 1 : e;
		return &ropTable[i];
	}
	return NULL;
}

bool
nedb__redis_patch_is(const char *upd, size_t updlen)
{
	const char *arg;

	return ropLookup(upd, updlen, &arg) != NULL;
}

static int
hexDigits4(const char *p, const char *e)
{
	int v = 0;

	if (e - p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)p[i], d = c >= '0' && c <= '9' ? c - '0' :
			c >= 'a' && c <= 'f' ? c - 'a' + 10 :
			c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * The end of the JSON string literal at p, checked as RFC 8259 reads it
 * and with its \u escapes of surrogates in pairs (nedb would read a lone
 * one as U+FFFD, which no writer meant); NULL when it is not one.
 */
static const char *
ropStrEnd(const char *p, const char *e)
{
	if (p == e || *p++ != '"')
		return NULL;
	while (p < e && *p != '"') {
		int u;

		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p++ != '\\')
			continue;
		if (p == e)
			return NULL;
		if (strchr("\"\\/bfnrt", *p) && *p) {
			p++;
			continue;
		}
		if (*p++ != 'u' || (u = hexDigits4(p, e)) < 0)
			return NULL;
		p += 4;
		if (u >= 0xdc00 && u <= 0xdfff)
			return NULL;
		if (u >= 0xd800 && u <= 0xdbff) {
			if (e - p < 6 || p[0] != '\\' || p[1] != 'u' ||
			    (u = hexDigits4(p + 2, e)) < 0xdc00 || u > 0xdfff)
				return NULL;
			p += 6;
		}
	}
	return p < e ? p + 1 : NULL;
}

/* One string of an update's ARG at *pp, decoded into s and moved past:
 * 0, or 1 when it is not a string of valid UTF-8. */
static int
ropStr(const char **pp, const char *e, bstr *s)
{
	const char *p = skipWs(*pp, e), *q = ropStrEnd(p, e);

	if (!q || decodeStr(p, q, false, s) || !utf8(s))
		return 1;
	*pp = q;
	return 0;
}

/* A score of $zadd at *pp: a JSON number or "inf"/"-inf", as nedb__score_parse
 * reads one in a document, the string's escapes decoded first. */
static int
ropScore(const char **pp, const char *e, double *d)
{
	const char *p = skipWs(*pp, e);
	bstr s = {0};
	size_t n;
	bool ok;

	if (p < e && *p == '"') {
		if (ropStr(&p, e, &s))
			ok = false;
		else if ((ok = !strcmp(s.p, "inf") || !strcmp(s.p, "-inf")))
			*d = *s.p == '-' ? -HUGE_VAL : HUGE_VAL;
		free(s.p);
	} else if ((ok = (n = nedb__number_len(p, (size_t)(e - p))) > 0 &&
			 nedb__score_parse(p, p + n, d)))
		p += n;
	*pp = p;
	return ok ? 0 : 1;
}

/*
 * The end of the JSON value at p, checked (strings as ropStrEnd checks
 * them, at most depth arrays and objects deep); NULL when it is not one.
 * What lets parseObject, which trusts its text, take any document.
 */
static const char *
ropValueEnd(const char *p, const char *e, int depth)
{
	char close;
	size_t n;

	p = skipWs(p, e);
	if (p == e)
		return NULL;
	if (*p == '"')
		return ropStrEnd(p, e);
	if (*p != '[' && *p != '{') {
		static const char *const lit[] = {"true", "false", "null"};

		for (int i = 0; i < 3; i++)
			if ((size_t)(e - p) >= strlen(lit[i]) &&
			    !memcmp(p, lit[i], strlen(lit[i])))
				return p + strlen(lit[i]);
		n = nedb__number_len(p, (size_t)(e - p));
		return n ? p + n : NULL;
	}
	if (!depth--)
		return NULL;
	close = *p == '[' ? ']' : '}';
	if ((p = skipWs(p + 1, e)) < e && *p == close)
		return p + 1;
	for (;;) {
		if (close == '}' && (!(p = ropStrEnd(skipWs(p, e), e)) ||
				     (p = skipWs(p, e)) == e || *p++ != ':'))
			return NULL;
		if (!(p = ropValueEnd(p, e, depth)) ||
		    (p = skipWs(p, e)) == e)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

/* Past the punctuation c (after whitespace) at *pp: 0, or 1. */
static int
ropPunct(const char **pp, const char *e, char c)
{
	const char *p = skipWs(*pp, e);

	if (p == e || *p != c)
		return 1;
	*pp = p + 1;
	return 0;
}

/* Position of field p in the hash index of rp; *found says if there. */
static size_t
hashIndexFind(const rpatch *rp, const char *p, size_t len, bool *found)
{
	size_t lo = 0, hi = rp->o.n / 2;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const bstr *f = &rp->o.v[rp->hx[mid]];
		int d = bstrCmp(f->p, f->len, p, len);

		if (d == 0) {
			*found = true;
			return mid;
		}
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Builds the field index of a hash: 0, or 1 when a field is there twice
 * (a text buildDoc would print, but no hash it could hold). */
static int
hashIndexBuild(rpatch *rp)
{
	size_t n = rp->o.n / 2;
	zent *z = nedb__malloc((n ? n : 1) * sizeof *z);
	int rc = 0;

	rp->hxcap = n ? n : 1;
	rp->hx = nedb__malloc(rp->hxcap * sizeof *rp->hx);
	for (size_t i = 0; i < n; i++)
		z[i] = (zent){&rp->o.v[2 * i], 0, 2 * i};
	qsort(z, n, sizeof *z, zentMemberCmp);
	for (size_t i = 0; i < n; i++) {
		if (i && !zentMemberCmp(&z[i - 1], &z[i]))
			rc = 1;
		rp->hx[i] = z[i].i;
	}
	free(z);
	return rc;
}

/* HSET of one field: its value replaced in place, or the pair appended. */
static void
hashPatchSet(rpatch *rp, bstr *f, bstr *v)
{
	robj *o = &rp->o;
	bool found;
	size_t at = hashIndexFind(rp, f->p, f->len, &found);

	if (found) {
		free(o->v[rp->hx[at] + 1].p);
		o->v[rp->hx[at] + 1] = *v;
		free(f->p);
	} else {
		if (rp->hxcap == o->n / 2) {
			rp->hxcap *= 2;
			rp->hx = nedb__realloc(rp->hx,
					       rp->hxcap * sizeof *rp->hx);
		}
		memmove(rp->hx + at + 1, rp->hx + at,
			(o->n / 2 - at) * sizeof *rp->hx);
		rp->hx[at] = o->n;
		robjReserve(o);
		o->v[o->n++] = *f;
		robjReserve(o);
		o->v[o->n++] = *v;
	}
	*f = *v = (bstr){0};
}

/* HDEL of one field, when it is there. */
static void
hashPatchDel(rpatch *rp, const bstr *f)
{
	robj *o = &rp->o;
	bool found;
	size_t at = hashIndexFind(rp, f->p, f->len, &found), i, n;

	if (!found)
		return;
	i = rp->hx[at];
	robjRemove(o, i, 2);
	n = o->n / 2;
	memmove(rp->hx + at, rp->hx + at + 1, (n - at) * sizeof *rp->hx);
	for (size_t k = 0; k < n; k++)
		if (rp->hx[k] > i)
			rp->hx[k] -= 2;
}

/* Moves s into o->v at position at. */
static void
robjPlace(robj *o, size_t at, bstr *s)
{
	robjReserve(o);
	memmove(o->v + at + 1, o->v + at, (o->n - at) * sizeof *o->v);
	o->v[at] = *s;
	o->n++;
	*s = (bstr){0};
}

/* One member M of $sadd, $srem, $lpush, $rpush, $hdel or $zrem. */
static void
ropMember(rpatch *rp, const struct ropDef *op, bstr *m)
{
	robj *o = &rp->o;
	bool found = false;
	size_t at = 0;

	if (op->type == OBJ_SET || op->type == OBJ_ZSET)
		at = setFind(o, m->p, m->len, &found);
	if (!strcmp(op->name, "\"$sadd\"")) {
		if (!found)
			robjPlace(o, at, m);
	} else if (!strcmp(op->name, "\"$lpush\"")) {
		robjPlace(o, 0, m);
	} else if (!strcmp(op->name, "\"$rpush\"")) {
		robjPlace(o, o->n, m);
	} else if (!strcmp(op->name, "\"$hdel\"")) {
		hashPatchDel(rp, m);
	} else if (found) {	/* $srem, $zrem */
		if (op->type == OBJ_ZSET)
			zsetRemove(o, at);
		else
			robjRemove(o, at, 1);
	}
}

/* $zadd of one member: its score changed, or the member inserted. */
static void
zsetPatchAdd(robj *o, bstr *m, double score)
{
	bool found;
	size_t at = setFind(o, m->p, m->len, &found);

	if (found) {
		o->sc[at] = score;
		return;
	}
	robjPlace(o, at, m);
	zsetGrowScores(o);
	memmove(o->sc + at + 1, o->sc + at, (o->n - 1 - at) * sizeof *o->sc);
	o->sc[at] = score;
}

/* $lpop or $rpop N at *pp: 0, or 1 when N is not 1 to len. */
static int
ropCount(const char **pp, const char *e, uint64_t len, uint64_t *count)
{
	const char *p = skipWs(*pp, e);
	uint64_t n = 0;
	size_t k = 0;

	while (p + k < e && p[k] >= '0' && p[k] <= '9' && k < 19)
		n = n * 10 + (uint64_t)(p[k++] - '0');
	if (!k || *p == '0' || (p + k < e && strchr("0123456789.eE", p[k]) &&
				p[k]) || n > len)
		return 1;
	*pp = p + k;
	*count = n;
	return 0;
}

/* $lset's [INDEX,"STRING"]: an index from 0 to len - 1 (digits alone,
 * no leading zero) and one string.  0, 1 (not that), or -1. */
static int
ropIndex(struct rop *r, const char **pp, const char *e, uint64_t len)
{
	const char *p = *pp;
	bstr m = {0};
	int rc;

	if (ropPunct(&p, e, '['))
		return 1;
	p = skipWs(p, e);
	if (p < e && *p == '0' && !(p + 1 < e && p[1] >= '0' && p[1] <= '9') &&
	    !(p + 1 < e && strchr(".eE", p[1]) && p[1])) {
		r->count = 0;		/* 0 itself */
		p++;
	} else if (ropCount(&p, e, len - 1, &r->count)) {
		return 1;
	}
	if (r->count >= len || ropPunct(&p, e, ','))
		return 1;
	if ((rc = ropStr(&p, e, &m))) {
		free(m.p);	/* decoded, then not UTF-8 */
		return rc;
	}
	if (ropPunct(&p, e, ']')) {
		free(m.p);
		return 1;
	}
	if (!(r->a = nedb__malloc(sizeof *r->a))) {
		free(m.p);
		return -1;
	}
	r->a[0] = (struct rop_arg){m.p, m.len, NULL, 0, 0};
	r->n = 1;
	*pp = p;
	return 0;
}

/* The elements of an array ARG into r->a: 0, or 1. */
static int
ropArray(struct rop *r, int arg, const char **pp, const char *e)
{
	const char *p = *pp;

	if (ropPunct(&p, e, '['))
		return 1;
	if (!ropPunct(&p, e, ']')) {
		*pp = p;
		return 0;
	}
	for (;;) {
		bstr m = {0}, v = {0};
		double d = 0;
		struct rop_arg *x;
		int rc;

		if (arg == ARG_STRS)
			rc = ropStr(&p, e, &m);
		else
			rc = ropPunct(&p, e, '[') || ropStr(&p, e, &m) ||
			     ropPunct(&p, e, ',') ||
			     (arg == ARG_FIELDS ? ropStr(&p, e, &v) :
			      ropScore(&p, e, &d)) || ropPunct(&p, e, ']');
		if (!rc && r->n % 16 == 0) {
			x = nedb__realloc(r->a, (r->n + 16) * sizeof *x);
			if (x)
				r->a = x;
			else
				rc = -1;
		}
		if (rc) {
			free(m.p);
			free(v.p);
			return rc;
		}
		r->a[r->n++] = (struct rop_arg){m.p, m.len, v.p, v.len,
						d == 0 ? 0 : d};
		if (!ropPunct(&p, e, ']'))
			break;
		if (ropPunct(&p, e, ','))
			return 1;
	}
	*pp = p;
	return 0;
}

void
nedb__rop_free(struct rop *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->a[i].m);
		free(r->a[i].v);
	}
	free(r->a);
	memset(r, 0, sizeof *r);
}

/*
 * Update upd checked whole and taken apart into r, for key id holding a
 * held (OBJ_*) of n members, in the order of its checks: the operator,
 * its type, its ARG (a count: 1 to n), one member only.
 */
static int
ropParse(const char *upd, size_t len, const char *id, int held, uint64_t n,
	 struct rop *r)
{
	const char *e = upd + len, *p;
	const struct ropDef *op = ropLookup(upd, len, &p);
	int name_len, rc;

	memset(r, 0, sizeof *r);
	if (!op)
		return nedb__err(NEDB_EINPUT, "bad patch: not a Redis operator");
	r->op = (int)(op - ropTable);
	name_len = (int)strlen(op->name) - 2;
	if (held != op->type)
		return nedb__err(NEDB_EINPUT, "cannot apply %.*s to key '%s': "
				 "it holds a %s, not a %s", name_len,
				 op->name + 1, id, type_name[held],
				 type_name[op->type]);
	if (p == e)
		return nedb__err(NEDB_EINPUT, "bad %.*s patch: not an object "
				 "of one member", name_len, op->name + 1);
	rc = op->arg == ARG_COUNT ? ropCount(&p, e, n, &r->count) :
	     op->arg == ARG_INDEX ? ropIndex(r, &p, e, n) :
	     ropArray(r, op->arg, &p, e);
	if (rc < 0) {
		nedb__rop_free(r);
		return nedb__err(NEDB_EIO, "out of memory");
	}
	if (rc) {
		nedb__rop_free(r);
		return nedb__err(NEDB_EINPUT, "bad %.*s patch of key '%s': "
				 "want %s", name_len, op->name + 1, id,
				 op->arg == ARG_COUNT ?
				 "N, 1 to the list's length" :
				 op->arg == ARG_INDEX ?
				 "[INDEX,\"STRING\"], INDEX 0 to the list's "
				 "length less one" :
				 op->arg == ARG_STRS ? "[\"STRING\",...]" :
				 op->arg == ARG_FIELDS ?
				 "[[\"FIELD\",\"VALUE\"],...]" :
				 "[[\"MEMBER\",SCORE],...]");
	}
	if (ropPunct(&p, e, '}') || skipWs(p, e) != e) {
		nedb__rop_free(r);
		return nedb__err(NEDB_EINPUT, "bad %.*s patch: not an object "
				 "of one member", name_len, op->name + 1);
	}
	return 0;
}

int
nedb__rop_parse(const char *upd, size_t len, const char *id, int type,
		uint64_t n, struct rop *r)
{
	static const int obj_of[] = {
		[EL_SET] = OBJ_SET, [EL_LIST] = OBJ_LIST, [EL_HASH] = OBJ_HASH,
		[EL_ZSET] = OBJ_ZSET,
	};

	return ropParse(upd, len, id, obj_of[type], n, r);
}

/* One update applied to rp: 0, or NEDB_EINPUT with why. */
static int
ropApply(rpatch *rp, const char *upd, size_t len)
{
	const struct ropDef *op;
	struct rop r;
	int rc;

	if ((rc = ropParse(upd, len, rp->id, rp->o.type, rp->o.n, &r)))
		return rc;
	op = &ropTable[r.op];
	if (op->arg == ARG_INDEX) {
		bstr *x = &rp->o.v[r.count];

		free(x->p);
		x->p = r.a[0].m;
		x->len = r.a[0].mlen;
		r.a[0].m = NULL;
		goto done;
	}
	if (op->arg == ARG_COUNT) {
		if (r.op == ROP_LPOP)
			robjRemove(&rp->o, 0, r.count);
		else
			robjRemove(&rp->o, rp->o.n - r.count, r.count);
		goto done;
	}
	for (size_t i = 0; i < r.n; i++) {
		bstr m = {r.a[i].m, r.a[i].mlen}, v = {r.a[i].v, r.a[i].vlen};

		r.a[i].m = r.a[i].v = NULL;
		if (op->arg == ARG_STRS)
			ropMember(rp, op, &m);
		else if (op->arg == ARG_FIELDS)
			hashPatchSet(rp, &m, &v);
		else
			zsetPatchAdd(&rp->o, &m, r.a[i].score);
		free(m.p);
		free(v.p);
	}
done:
	nedb__rop_free(&r);
	return rc;
}

/* Whether JSON text has no whitespace outside its strings (what the
 * document helpers walk). */
static bool
compact(const char *p, size_t n)
{
	bool in = false;

	for (size_t i = 0; i < n; i++) {
		if (in) {
			if (p[i] == '\\')
				i++;
			else if (p[i] == '"')
				in = false;
		} else if (p[i] == '"')
			in = true;
		else if (p[i] == ' ' || p[i] == '\n' || p[i] == '\t' ||
			 p[i] == '\r')
			return false;
	}
	return true;
}

/*
 * Takes doc apart into rp (invariant 1): 0, NEDB_EINPUT when it is not
 * a document nedb-redis prints in the "value" shape, NEDB_EIO.  The
 * document helpers want valid text ended by a NUL: doc is checked and
 * copied into rp->text first.
 */
static int
rpatchLoad(rpatch *rp, const char *doc, size_t len)
{
	struct place pl = {REDIS_COLL, NULL, CODEC_REDIS};
	const char *v, *why, *t;
	size_t vlen;
	bstr id = {0};

	if (!len || *doc != '{' || ropValueEnd(doc, doc + len, 4) !=
	    doc + len || !compact(doc, len))
		return nedb__err(NEDB_EINPUT, "cannot patch a document that "
				 "is not JSON text of an object as nedb-redis "
				 "writes one");
	if (nedb_buf_add(&rp->text, doc, len))
		return nedb__err(NEDB_EIO, "out of memory");
	t = rp->text.p;
	if (nedb__doc_member(t, len, "b64", &v, &vlen))
		return nedb__err(NEDB_EINPUT, "cannot patch a value of bytes "
				 "that are not UTF-8 (\"b64\")");
	if (!nedb__doc_member(t, len, "_id", &v, &vlen) ||
	    decodeStr(v, v + vlen, false, &id) || memchr(id.p, 0, id.len)) {
		free(id.p);
		return nedb__err(NEDB_EINPUT, "cannot patch a document "
				 "without a string _id");
	}
	rp->id = id.p;
	if (parseObject(CODEC_REDIS, t, len, &rp->o))
		return nedb__err(NEDB_EIO, "out of memory");
	pl.id = rp->id;
	if (rp->o.type == OBJ_UNKNOWN)
		return nedb__err(NEDB_EINPUT, "cannot patch key '%s': its "
				 "document is not of a Redis type", rp->id);
	if (buildDoc(&rp->tmp, &pl, &rp->o, &why) < 0)
		return nedb__err(NEDB_EIO, "out of memory");
	if (rp->tmp.len != len || memcmp(rp->tmp.p, doc, len) ||
	    (rp->o.type == OBJ_HASH && hashIndexBuild(rp)))
		return nedb__err(NEDB_EINPUT, "cannot patch key '%s': its "
				 "document is not as nedb-redis writes one",
				 rp->id);
	return 0;
}

/* The text of rp appended to out. */
static int
rpatchPrint(rpatch *rp, nedb_buf *out)
{
	struct place pl = {REDIS_COLL, rp->id, CODEC_REDIS};
	const char *why;

	if (buildDoc(&rp->tmp, &pl, &rp->o, &why) ||
	    nedb_buf_add(out, rp->tmp.p, rp->tmp.len))
		return nedb__err(NEDB_EIO, "out of memory");
	return 0;
}

int
nedb__redis_patches(nedb_buf *out, const char *doc, size_t len,
		    const char *const *upds, const size_t *lens, size_t n)
{
	rpatch rp = {0};
	int rc;

	if (!(rc = rpatchLoad(&rp, doc, len)))
		for (size_t i = 0; i < n && !rc; i++)
			rc = ropApply(&rp, upds[i], lens[i]);
	if (!rc)
		rc = rpatchPrint(&rp, out);
	rpatchFree(&rp);
	return rc;
}

int
nedb__redis_patch(nedb_buf *out, const char *doc, size_t len, const char *upd,
		  size_t updlen)
{
	return nedb__redis_patches(out, doc, len, &upd, &updlen, 1);
}
