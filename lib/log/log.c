/*
 * log.c - the line format of log.aof (nedb-format(5)).
 *
 * Each op is one line of compact JSON with its members in a fixed order:
 *
 *   {"seq":N,"prev":"<hex>","op":"<kind>","ts":MS,...,"hash":"<hex>"}
 *
 * The body is the line without its newline and with the final
 * ,"hash":"<64 hex>"} replaced by }; hash = BLAKE2b-256(prev || body).
 * A put's document is always the last member before the hash and every
 * member before it is a scalar, so the document's text is the slice of
 * the line between ,"doc": and ,"hash": and can be served from the line
 * without parsing it.
 *
 * Which members a kind carries, and in what order, is its entry in the
 * op table (optab.c); the code here handles members by their type.
 *
 * Log format 2 (doc/redaction.md, nedb-format(5) "Redaction"): a put
 * carries its document right after "op", then ,"ds":"<hex>" (a random
 * salt and zeros), so that the document and salt end exactly at a
 * 128-byte block boundary of the hashed message (prev || body) and the
 * rest of the line, from ,"ts": on, is the tail.  The line is hashed
 * whole, as SPEC §3 says.  A redaction replaces the span from after
 * "op":"put" to the tail with ,"redacted":R,"mid":"<BLAKE2b chaining
 * value after the span>" and spaces; such a line's hash is finished
 * from that mid-state over its tail (midstate.c), and is unchanged.
 *
 * Invariants:
 *  1. Lines are written only by nedb__log_format; what it writes,
 *     nedb__log_check accepts and nedb__log_parse reads back into the
 *     same op.
 *  2. nedb__log_check needs no JSON parser: verification runs at the
 *     speed of hashing.
 */
#include "b2.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nedb_jv.h"

#define SUFFIX_LEN LOG_SUFFIX_LEN	/* ,"hash":"<64>"} */

void
nedb__chain_hash(unsigned char out[HASH_LEN],
		 const unsigned char prev[HASH_LEN], const char *body,
		 size_t len)
{
	blake2b_state s;

	blake2b_init(&s, HASH_LEN);
	blake2b_update(&s, prev, HASH_LEN);
	blake2b_update(&s, (const uint8_t *)body, len);
	blake2b_final(&s, out, HASH_LEN);
}

/* Hash of a line whose body is line[0, len - SUFFIX_LEN) + "}". */
static void
line_hash(unsigned char out[HASH_LEN], const unsigned char prev[HASH_LEN],
	  const char *line, size_t bodylen)
{
	/* blake2b_init(&s, HASH_LEN) as constants (RFC 7693 §2.5): its
	 * parameter block's first word xored into the IV.  The buffer needs
	 * no zeroing: final pads what update left.  A verify calls this
	 * once a line, and init was 2% of it. */
	static const uint64_t h0[8] = {
		0x6a09e667f3bcc908ull ^ 0x01010000ull ^ HASH_LEN,
		0xbb67ae8584caa73bull, 0x3c6ef372fe94f82bull,
		0xa54ff53a5f1d36f1ull, 0x510e527fade682d1ull,
		0x9b05688c2b3e6c1full, 0x1f83d9abfb41bd6bull,
		0x5be0cd19137e2179ull,
	};
	blake2b_state s;

	memcpy(s.h, h0, sizeof s.h);
	memset(s.t, 0, sizeof s.t);
	memset(s.f, 0, sizeof s.f);
	s.buflen = 0;
	s.outlen = HASH_LEN;
	s.last_node = 0;
	blake2b_update(&s, prev, HASH_LEN);
	blake2b_update(&s, (const uint8_t *)line, bodylen);
	blake2b_update(&s, (const uint8_t *)"}", 1);
	blake2b_final(&s, out, HASH_LEN);
}

static int
add_str(nedb_buf *b, const char *key, size_t klen, const char *val)
{
	if (nedb_buf_add(b, key, klen))
		return NEDB_EIO;
	return nedb_buf_json_str(b, val, strlen(val));
}

static int
add_hex(nedb_buf *b, const char *key, size_t klen,
	const unsigned char h[HASH_LEN])
{
	char hex[2 * HASH_LEN + 2];

	nedb__hex(hex + 1, h, HASH_LEN);
	hex[0] = hex[2 * HASH_LEN + 1] = '"';
	if (nedb_buf_add(b, key, klen))
		return NEDB_EIO;
	return nedb_buf_add(b, hex, sizeof hex);
}

#define K(s) s, sizeof s - 1

/*
 * A format-2 put's document and salt, right after "op":"put":
 * ,"doc":<text>,"ds":"<salt hex><zeros>", the zeros as many as make the
 * tail start at a block boundary of the hashed message (32 bytes of
 * prev before the body) with room for a redaction's mark before it.
 */
static int
format_doc2(nedb_buf *out, struct op *o, size_t start)
{
	char hex[2 * SALT_LEN + 1];	/* nedb__hex ends it with a NUL */
	size_t span = out->len - start, end, zeros;

	if (nedb_buf_add(out, K(",\"doc\":")))
		return NEDB_EIO;
	o->docoff = (uint32_t)(out->len - start);
	nedb__hex(hex, o->dsalt, SALT_LEN);
	if (nedb_buf_add(out, o->doc, o->doclen) ||
	    nedb_buf_add(out, K(",\"ds\":\"")) ||
	    nedb_buf_add(out, hex, 2 * SALT_LEN))
		return NEDB_EIO;
	end = out->len - start + 1;		/* with the closing quote */
	if (end - span < LOG_MARK_MAX)
		end = span + LOG_MARK_MAX;
	end += (NEDB_B2_BLOCK - (HASH_LEN + end) % NEDB_B2_BLOCK) %
	       NEDB_B2_BLOCK;
	zeros = end - 1 - (out->len - start);
	if (nedb_buf_grow(out, zeros + 1))
		return NEDB_EIO;
	memset(out->p + out->len, '0', zeros);
	out->len += zeros;
	return nedb_buf_add(out, "\"", 1);
}

/* One member of o onto out, as its entry in the op table says. */
static int
format_member(nedb_buf *out, const struct op_member *m, struct op *o,
	      size_t start)
{
	const char *f = (const char *)o + m->off;
	const char *s = NULL;
	int64_t v;

	if (m->type == M_STR || m->type == M_RAW) {
		if (!(s = *(const char *const *)f) && (m->flags & M_OPT))
			return 0;
		if (!s)
			return nedb__err(NEDB_EUSAGE, "op %s lacks member %s",
					 nedb__op_name(o->kind), m->name);
	}
	switch (m->type) {
	case M_STR:
		return add_str(out, m->key, m->keylen, s);
	case M_U64:
	case M_I64:
		memcpy(&v, f, sizeof v);
		if (!v && (m->flags & M_OPT))
			return 0;
		if (nedb_buf_add(out, m->key, m->keylen))
			return NEDB_EIO;
		return m->type == M_U64 ? nedb__buf_u64(out, (uint64_t)v) :
		       nedb__buf_i64(out, v);
	case M_HEX:
		return add_hex(out, m->key, m->keylen,
			       (const unsigned char *)f);
	case M_RAW:
		if (nedb_buf_add(out, m->key, m->keylen))
			return NEDB_EIO;
		return nedb_buf_add(out, s, *(const size_t *)
				    ((const char *)o + m->lenoff));
	case M_DOC:
		if (!o->doc)
			return nedb__err(NEDB_EUSAGE, "op %s lacks member %s",
					 nedb__op_name(o->kind), m->name);
		if (o->format >= 2)
			return 0;	/* format_doc2 wrote it */
		if (nedb_buf_add(out, m->key, m->keylen))
			return NEDB_EIO;
		o->docoff = (uint32_t)(out->len - start);
		return nedb_buf_add(out, o->doc, o->doclen);
	case M_FORMAT:
		if (nedb_buf_add(out, m->key, m->keylen))
			return NEDB_EIO;
		return nedb__buf_u64(out, o->format ? (uint64_t)o->format : 1);
	}
	return 0;
}

/*
 * Formatted by hand, not printf: this runs once per op of a bulk load.
 * On error out is left as it was.
 */
int
nedb__log_format(nedb_buf *out, struct op *o)
{
	const struct op_desc *d = &nedb__optab[o->kind];
	size_t start = out->len;
	int rc = NEDB_EIO;

	if (nedb_buf_add(out, K("{\"seq\":")) ||
	    nedb__buf_u64(out, o->seq) ||
	    add_hex(out, K(",\"prev\":"), o->prev) ||
	    nedb_buf_add(out, K(",\"op\":\"")) ||
	    nedb_buf_puts(out, d->name) ||
	    nedb_buf_add(out, "\"", 1))
		goto fail;
	if (o->format >= 2 && OP_HAS_DOC(o->kind)) {
		if (!o->doc) {
			rc = nedb__err(NEDB_EUSAGE, "op %s lacks member doc",
				       d->name);
			goto fail;
		}
		if ((rc = format_doc2(out, o, start)))
			goto fail;
		rc = NEDB_EIO;
	}
	if (nedb_buf_add(out, K(",\"ts\":")) ||
	    nedb__buf_i64(out, o->ts))
		goto fail;
	if (o->salted) {
		char hex[2 * SALT_LEN + 1];

		nedb__hex(hex, o->salt, SALT_LEN);
		if (nedb_buf_add(out, K(",\"salt\":\"")) ||
		    nedb_buf_add(out, hex, 2 * SALT_LEN) ||
		    nedb_buf_add(out, "\"", 1))
			goto fail;
	}
	for (size_t i = 0; i < d->n; i++)
		if ((rc = format_member(out, &d->m[i], o, start)))
			goto fail;
	if (nedb_buf_grow(out, SUFFIX_LEN + 2)) {
		rc = NEDB_EIO;
		goto fail;
	}
	line_hash(o->hash, o->prev, out->p + start, out->len - start);
	add_hex(out, K(",\"hash\":"), o->hash);
	nedb_buf_add(out, "}\n", 2);	/* room was made above */
	o->len = (uint32_t)(out->len - start - 1);
	return 0;
fail:
	out->len = start;
	return rc;
}

static int
bad(uint64_t seq, const char *why)
{
	return nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: %s",
			 (unsigned long long)seq, why);
}

#define REDACTED_KEY ",\"redacted\":"
#define MID_KEY ",\"mid\":\""
#define PUT_KEY ",\"op\":\"put\""
#define PATCH_KEY ",\"op\":\"patch\""
#define TS_KEY ",\"ts\":"

/* The offset just after the "op" member of a line of seq and prev
 * first; 0 when there is none there. */
static size_t
kind_end(const char *line, size_t len)
{
	const char *p = line + 7, *q;

	while (p < line + len && *p >= '0' && *p <= '9')
		p++;
	p += 9 + 2 * HASH_LEN + 1;		/* ,"prev":"<64 hex>" */
	if (p + 8 > line + len || memcmp(p, ",\"op\":\"", 7) ||
	    !(q = memchr(p + 7, '"', (size_t)(line + len - p - 7))))
		return 0;
	return (size_t)(q + 1 - line);
}

/* The offset just after "op":"put" (or "patch") if line (of seq and
 * prev first) is an op whose payload is "doc" (OP_HAS_DOC); 0
 * otherwise. */
static size_t
put_span(const char *line, size_t len)
{
	size_t e = kind_end(line, len);

	if (e > sizeof PUT_KEY && !memcmp(line + e - (sizeof PUT_KEY - 1),
					  PUT_KEY, sizeof PUT_KEY - 1))
		return e;
	return e > sizeof PATCH_KEY &&
	       !memcmp(line + e - (sizeof PATCH_KEY - 1), PATCH_KEY,
		       sizeof PATCH_KEY - 1) ? e : 0;
}

/*
 * The offset of a format-2 put's tail: the last ,"ts": at a block
 * boundary of the hashed message (32 bytes of prev before the line), at
 * or after from; 0 if there is none.  The boundaries are tried from the
 * end: a few compares.  With alone, also 0 when another ,"ts": follows
 * it: a writer's tail holds no other (its strings escape their quotes),
 * so that is a line nedb did not write (a redacted one is checked so).
 */
static size_t
tail_at(const char *line, size_t from, size_t end, bool alone)
{
	const size_t k = sizeof TS_KEY - 1;
	const char *q;
	size_t t;

	if (end < from + k || end < NEDB_B2_BLOCK)
		return 0;
	t = end - k;
	t -= (HASH_LEN + t) % NEDB_B2_BLOCK;
	for (;; t -= NEDB_B2_BLOCK) {
		if (t < from)
			return 0;
		if (!memcmp(line + t, TS_KEY, k))
			break;
		if (t < NEDB_B2_BLOCK)
			return 0;
	}
	for (q = line + t + 1; alone && (q = memchr(q, ',', (size_t)
						     (line + end - q))); q++)
		if ((size_t)(line + end - q) >= k && !memcmp(q, TS_KEY, k))
			return 0;
	return t;
}

int
nedb__log_put2(const char *line, size_t len, struct log_put2 *p)
{
	size_t span = put_span(line, len), end = len - SUFFIX_LEN;
	const char *q;

	memset(p, 0, sizeof *p);
	if (!span || end - span < 8)
		return 0;
	if (!memcmp(line + span, ",\"doc\":", 7)) {
		/* erasable: a tail at a block boundary, room for the mark */
		p->tail = tail_at(line, span + LOG_MARK_MAX, end, false);
		if (!p->tail)
			return -1;
		/* the salt's opening quote: hex holds none */
		q = memrchr(line + span, '"', p->tail - 1 - span);
		if (!q || (size_t)(line + p->tail - q) < 2 * SALT_LEN + 2 ||
		    q - line < (ptrdiff_t)(span + 7 + 6) ||
		    memcmp(q - 6, ",\"ds\":\"", 7))
			return -1;
		p->span = span;
		p->doc = span + 7;
		p->doclen = (size_t)(q - 6 - line) - p->doc;
		return 1;
	}
	if (memcmp(line + span, REDACTED_KEY, sizeof REDACTED_KEY - 1))
		return 0;
	q = line + span + sizeof REDACTED_KEY - 1;
	if (*q < '1' || *q > '9')
		return -1;
	while (q < line + end && *q >= '0' && *q <= '9')
		p->redacted = p->redacted * 10 + (uint64_t)(*q++ - '0');
	if (line + end - q < (ptrdiff_t)(sizeof MID_KEY + 2 * NEDB_B2_MID) ||
	    memcmp(q, MID_KEY, sizeof MID_KEY - 1) ||
	    nedb__unhex(p->mid, q + sizeof MID_KEY - 1, NEDB_B2_MID) ||
	    q[sizeof MID_KEY - 1 + 2 * NEDB_B2_MID] != '"')
		return -1;
	q += sizeof MID_KEY + 2 * NEDB_B2_MID;
	while (q < line + end && *q == ' ')
		q++;
	p->tail = (size_t)(q - line);
	/*
	 * The tail is the line's last ,"ts": and ends in a scalar, as a
	 * format-2 put's does.  A format-1 put's document comes last, so a
	 * ,"ts": inside it (which its writer could have placed at a block
	 * boundary) is never taken for a tail: the members before it could
	 * otherwise be "erased" into a line that reads differently.
	 */
	if (tail_at(line, p->tail, end, true) != p->tail ||
	    line[end - 1] == '}')
		return -1;
	p->span = span;
	return 2;
}

void
nedb__log_scalars(const char *line, size_t len, const char **from,
		  size_t *n)
{
	struct log_put2 p;
	const char *d;

	if (nedb__log_put2(line, len, &p) > 0) {
		*from = line + p.tail;
		*n = len - p.tail;
		return;
	}
	*from = line;
	d = memmem(line, len, ",\"doc\":{", 8);
	*n = d ? (size_t)(d - line) : len;
}

int
nedb__log_erase(char *line, size_t len, uint64_t r, uint64_t seq)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN], mid[NEDB_B2_MID];
	char mark[LOG_MARK_MAX + 1], hex[2 * NEDB_B2_MID + 1];
	const char *pv = memmem(line, len, ",\"prev\":\"", 9);
	struct log_put2 p;
	uint64_t s = seq;
	int m;

	if (nedb__log_put2(line, len, &p) != 1 || !pv ||
	    nedb__unhex(prev, pv + 9, HASH_LEN))
		return nedb__err(NEDB_ECORRUPT, "cannot redact seq %llu: its "
				 "line holds no document that can be erased",
				 (unsigned long long)seq);
	nedb__b2_mid(mid, prev, line, HASH_LEN + p.tail);
	nedb__hex(hex, mid, NEDB_B2_MID);
	m = snprintf(mark, sizeof mark, REDACTED_KEY "%llu" MID_KEY "%s\"",
		     (unsigned long long)r, hex);
	if (m < 0 || (size_t)m > p.tail - p.span)
		return nedb__err(NEDB_ECORRUPT, "cannot redact seq %llu: its "
				 "document leaves no room for the mark",
				 (unsigned long long)seq);
	memcpy(line + p.span, mark, (size_t)m);
	memset(line + p.span + m, ' ', p.tail - p.span - (size_t)m);
	explicit_bzero(mid, sizeof mid);
	/* the same hash, by the rule readers apply */
	if (nedb__log_check(line, len, &s, prev, hash))
		return nedb__err(NEDB_ECORRUPT, "cannot redact seq %llu: its "
				 "erased line does not check",
				 (unsigned long long)seq);
	return 0;
}

/*
 * want: the hash of a checked-shape line: BLAKE2b of prev || body (SPEC
 * §3), or for a redacted format-2 put, finished from its mid-state over
 * the tail.
 */
static int
hash_of(const char *line, size_t len, uint64_t seq,
	const unsigned char prev[HASH_LEN], unsigned char want[HASH_LEN])
{
	size_t span = put_span(line, len);
	struct log_put2 p;

	/* a redacted put says so right after "op":"put" */
	if (span && len - SUFFIX_LEN - span > sizeof REDACTED_KEY &&
	    !memcmp(line + span, REDACTED_KEY, sizeof REDACTED_KEY - 1)) {
		if (nedb__log_put2(line, len, &p) != 2)
			return bad(seq, "malformed redaction mark");
		nedb__b2_finish(want, p.mid, HASH_LEN + p.tail, line + p.tail,
				len - SUFFIX_LEN - p.tail, "}", 1);
		return 0;
	}
	line_hash(want, prev, line, len - SUFFIX_LEN);
	return 0;
}

int
nedb__log_check(const char *line, size_t len, uint64_t *seq,
		unsigned char prev[HASH_LEN], unsigned char hash[HASH_LEN])
{
	unsigned char want[HASH_LEN];
	const char *p = line + 7, *end = line + len;
	uint64_t n = 0;
	int rc;

	/* *seq holds the expected seq on entry, for messages. */
	if (len < 7 + 1 + 10 + 64 + 1 + SUFFIX_LEN ||
	    memcmp(line, "{\"seq\":", 7))
		return bad(*seq, "malformed line");
	if (*p < '0' || *p > '9')
		return bad(*seq, "malformed seq");
	while (p < end && *p >= '0' && *p <= '9') {
		if (n > (UINT64_MAX - 9) / 10)
			return bad(*seq, "malformed seq");
		n = n * 10 + (uint64_t)(*p++ - '0');
	}
	if (end - p < 10 + 64 || memcmp(p, ",\"prev\":\"", 9) ||
	    nedb__unhex(prev, p + 9, HASH_LEN) || p[9 + 64] != '"')
		return bad(*seq, "malformed prev");
	p = end - SUFFIX_LEN;
	if (memcmp(p, ",\"hash\":\"", 9) || memcmp(end - 2, "\"}", 2) ||
	    nedb__unhex(hash, p + 9, HASH_LEN))
		return bad(*seq, "malformed hash");
	if (n != *seq) {
		char why[64];

		snprintf(why, sizeof why, "found seq %llu",
			 (unsigned long long)n);
		return bad(*seq, why);
	}
	if ((rc = hash_of(line, len, *seq, prev, want)))
		return rc;
	if (memcmp(want, hash, HASH_LEN))
		return bad(*seq, "hash mismatch");
	return 0;
}

/*
 * The common case of a walk, without unhexing: the line after one whose
 * hash (prev) and hash text (prevhex, 64 checked digits) the caller
 * holds.  Returns 0 when the line is well formed, carries seq *seq and
 * prev's text, and its hash text is that of its hash, filled in; else 1
 * with no error set, and the caller asks nedb__log_check, whose answer
 * names what is wrong.  Verify's hashing threads spend a tenth of their
 * time unhexing otherwise.
 */
int
nedb__log_check_next(const char *line, size_t len, uint64_t seq,
		     const unsigned char prev[HASH_LEN], const char *prevhex,
		     unsigned char hash[HASH_LEN])
{
	const char *p = line + 7, *end = line + len;
	char hex[2 * HASH_LEN + 1];
	uint64_t n = 0;

	if (len < 7 + 1 + 10 + 64 + 1 + SUFFIX_LEN ||
	    memcmp(line, "{\"seq\":", 7) || *p < '0' || *p > '9')
		return 1;
	while (p < end && *p >= '0' && *p <= '9') {
		if (n > (UINT64_MAX - 9) / 10)
			return 1;
		n = n * 10 + (uint64_t)(*p++ - '0');
	}
	if (n != seq || end - p < 10 + 64 ||
	    memcmp(p, ",\"prev\":\"", 9) || memcmp(p + 9, prevhex, 64) ||
	    p[9 + 64] != '"')
		return 1;
	p = end - SUFFIX_LEN;
	if (memcmp(p, ",\"hash\":\"", 9) || memcmp(end - 2, "\"}", 2) ||
	    hash_of(line, len, seq, prev, hash))
		return 1;
	nedb__hex(hex, hash, HASH_LEN);
	return memcmp(hex, p + 9, 64) != 0;
}

static const char *
str_member(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	const char *s = NULL;

	/* obj keeps the string alive. */
	if (jv_get_kind(v) == JV_KIND_STRING)
		s = jv_string_value(v);
	jv_free(v);
	return s;
}

/*
 * Integers are read from the text, not from jv (whose numbers are
 * doubles: a nonce of 2^64-1 would not survive).  Only the members before
 * the document are searched, and no string there can hold a '"'.
 */
static bool
int_member(const char *line, size_t len, const char *key, size_t klen,
	   bool sign, uint64_t *out)
{
	const char *p;
	char *end;

	if (!(p = memmem(line, len, key, klen)))
		return false;
	p += klen;
	if (sign && *p == '-') {
		long long v;

		errno = 0;
		v = strtoll(p, &end, 10);
		*out = (uint64_t)v;
	} else {
		if (*p < '0' || *p > '9')
			return false;
		errno = 0;
		*out = strtoull(p, &end, 10);
	}
	return !errno && (*end == ',' || *end == '}');
}

/* The raw text of a number or an array of numbers before the document. */
static const char *
raw_member(const char *line, size_t len, const char *key, size_t klen,
	   size_t *n)
{
	const char *p, *e;

	if (!(p = memmem(line, len, key, klen)))
		return NULL;
	p += klen;
	for (e = p; e < line + len && *e != ',' && *e != '}'; e++)
		if (*e == '[')
			while (e < line + len && *e != ']')
				e++;
	*n = (size_t)(e - p);
	return p;
}

/*
 * What a redacted version reads as: {"_id":ID,"_redacted":{"seq":R}}
 * (SPEC §9), owned by o (docbuf).  Its id is the line's.
 */
int
nedb__redacted_doc(nedb_buf *out, const char *id, size_t idlen, uint64_t r)
{
	if (nedb_buf_add(out, K("{\"_id\":")) ||
	    nedb_buf_json_str(out, id, idlen) ||
	    nedb_buf_add(out, K(",\"_redacted\":{\"seq\":")) ||
	    nedb__buf_u64(out, r) || nedb_buf_add(out, "}}", 2))
		return NEDB_EIO;
	return 0;
}

int
nedb__each_seq(const char *text, size_t len,
	       int (*fn)(uint64_t seq, void *payload), void *payload)
{
	const char *p = text, *end = text + len;
	int rc;

	while (p < end) {
		uint64_t v = 0;

		while (p < end && (*p < '0' || *p > '9'))
			p++;
		if (p == end)
			break;
		while (p < end && *p >= '0' && *p <= '9')
			v = v * 10 + (uint64_t)(*p++ - '0');
		if ((rc = fn(v, payload)))
			return rc;
	}
	return 0;
}

static bool
redacted_doc(struct op *o)
{
	nedb_buf b = {0};

	if (!o->id || nedb__redacted_doc(&b, o->id, strlen(o->id),
					 o->redacted) ||
	    nedb_buf_add(&b, "", 1)) {
		nedb_buf_free(&b);
		return false;
	}
	o->docbuf = b.p;
	o->doc = b.p;
	o->doclen = b.len - 1;		/* the NUL added above */
	o->docoff = 0;
	return true;
}

/*
 * One member of the line into o, as its entry in the op table says;
 * false when a member the kind needs is missing or malformed.  The
 * scalar members are searched for in [mb, mb + ml): the text before a
 * format-1 document, or a format-2 put's tail.  doc, doclen: where the
 * document's text is (doclen 0: none).
 */
static bool
parse_member(const struct op_member *m, jv v, const char *line,
	     const char *mb, size_t ml, size_t doc, size_t doclen,
	     struct op *o)
{
	char *f = (char *)o + m->off;
	const char *s;
	uint64_t u;
	size_t n = 0;

	switch (m->type) {
	case M_STR:
		s = str_member(v, m->name);
		memcpy(f, &s, sizeof s);
		return s || (m->flags & M_OPT);
	case M_U64:
	case M_I64:
		if (!int_member(mb, ml, m->key, m->keylen, m->type == M_I64,
				&u))
			return m->flags & M_OPT;
		memcpy(f, &u, sizeof u);
		return true;
	case M_HEX:
		s = str_member(v, m->name);
		return s && strlen(s) == 2 * HASH_LEN &&
		       !nedb__unhex((unsigned char *)f, s, HASH_LEN);
	case M_RAW:
		s = raw_member(mb, ml, m->key, m->keylen, &n);
		memcpy(f, &s, sizeof s);
		memcpy((char *)o + m->lenoff, &n, sizeof n);
		return s || (m->flags & M_OPT);
	case M_DOC:
		if (o->redacted)
			return redacted_doc(o);
		if (!doclen)
			return false;
		o->docoff = (uint32_t)doc;
		o->doc = line + doc;
		o->doclen = doclen;
		return true;
	case M_FORMAT:
		/* read for a round trip only: meta.json is what open checks,
		 * and verify judges a genesis by its own rules */
		if (int_member(mb, ml, m->key, m->keylen, false, &u) &&
		    u >= 1 && u <= LOG_FORMAT_MAX)
			o->format = (int)u;
		return true;
	}
	return false;
}

/*
 * A format-2 put line read without libjq, the common case of a replay
 * (a rebuild, a checkpoint's digest, a catch-up), where parsing every
 * line with jv_parse_sized was 45% of the time: its members after the
 * document are scanned as the line holds them, and each string is
 * copied out.  Only a line every one of whose members is a plain string
 * (printable ASCII, no backslash) or a number is read here, and
 * its document is held to nedb__doc_normalize's rules, so that what
 * passes is what the parser would have read; anything else returns 1,
 * and the parser reads it.  0: o filled; else an error (no memory).
 */
#define FAST_MEMBERS 24

static int
fast_parse(const char *line, size_t len, struct op *o)
{
	struct { const char *k, *v; size_t kl, vl; bool str; }
		mv[FAST_MEMBERS];
	const struct op_desc *d = &nedb__optab[OP_PUT];
	const char *p, *end = line + len - SUFFIX_LEN, *mb;
	struct log_put2 p2;
	size_t n = 0, need = 0, ml;
	nedb_buf scratch = {0};
	char *own;
	uint64_t u;
	int rc;
	jv nil;				/* what parse_member reads no string of */

	memset(&nil, 0, sizeof nil);

	if (len < 7 + 1 + 10 + 2 * HASH_LEN + 1 + SUFFIX_LEN ||
	    memcmp(line, "{\"seq\":", 7) ||
	    nedb__log_put2(line, len, &p2) < 1 ||
	    memcmp(line + p2.span - (sizeof PUT_KEY - 1), PUT_KEY,
		   sizeof PUT_KEY - 1))
		return 1;		/* a patch: the parser reads it */
	/* the members after the document: ,"key":value up to the hash */
	for (p = line + p2.tail; p < end;) {
		const char *q;

		if (n == FAST_MEMBERS || end - p < 5 || p[0] != ',' ||
		    p[1] != '"')
			return 1;
		mv[n].k = p + 2;
		if (!(q = memchr(mv[n].k, '"', (size_t)(end - mv[n].k))) ||
		    q + 1 >= end || q[1] != ':')
			return 1;
		mv[n].kl = (size_t)(q - mv[n].k);
		for (size_t j = 0; j < mv[n].kl; j++)
			if (mv[n].k[j] == '\\' ||
			    (unsigned char)mv[n].k[j] < 0x20 ||
			    (unsigned char)mv[n].k[j] >= 0x80)
				return 1;
		p = q + 2;
		if (p < end && *p == '"') {
			mv[n].v = ++p;
			/* ASCII only: the parser would mend bad UTF-8 */
			while (p < end && *p != '"' && *p != '\\' &&
			       (unsigned char)*p >= 0x20 &&
			       (unsigned char)*p < 0x80)
				p++;
			if (p >= end || *p != '"')
				return 1;
			mv[n].vl = (size_t)(p - mv[n].v);
			mv[n].str = true;
			need += mv[n].vl + 1;
			p++;
		} else {
			mv[n].v = p;
			while (p < end && (*p == '-' || *p == '+' || *p == '.' ||
					   (*p >= '0' && *p <= '9') ||
					   *p == 'e' || *p == 'E'))
				p++;
			mv[n].vl = (size_t)(p - mv[n].v);
			/* not a number as RFC 8259 writes one: an object,
			 * an array, a literal, or damage */
			if (!mv[n].vl ||
			    nedb__number_len(mv[n].v, mv[n].vl) != mv[n].vl)
				return 1;
			mv[n].str = false;
		}
		/* a name twice: the parser says which one counts */
		for (size_t j = 0; j < n; j++)
			if (mv[j].kl == mv[n].kl &&
			    !memcmp(mv[j].k, mv[n].k, mv[n].kl))
				return 1;
		n++;
	}
	if (p != end)
		return 1;
	/* the document, as strictly as the parser would */
	if (!p2.redacted) {
		rc = nedb__doc_normalize(&scratch, line + p2.doc, p2.doclen);
		nedb_buf_free(&scratch);
		if (rc == NEDB_EIO)
			return rc;
		if (rc)
			return 1;
	}
	if (!(own = nedb__malloc(need + 1)))
		return nedb__err(NEDB_EIO, "out of memory");
	o->own = own;
	o->kind = OP_PUT;
	o->format = 2;
	o->redacted = p2.redacted;
	if (!p2.redacted &&
	    nedb__unhex(o->dsalt, line + p2.doc + p2.doclen + 7, SALT_LEN))
		goto parser;
	mb = line + p2.tail;
	ml = len - p2.tail;
	o->seq = strtoull(line + 7, NULL, 10);
	if (!int_member(mb, ml, K(",\"ts\":"), true, &u))
		goto parser;
	o->ts = (int64_t)u;
	o->len = (uint32_t)len;
	for (size_t i = 0; i < d->n; i++) {
		const struct op_member *m = &d->m[i];
		size_t j, nl = strlen(m->name);
		char *f = (char *)o + m->off;

		if (m->type != M_STR && m->type != M_HEX) {
			if (!parse_member(m, nil, line, mb, ml, p2.doc,
					  p2.doclen, o))
				goto parser;
			continue;
		}
		for (j = 0; j < n; j++)
			if (mv[j].kl == nl && !memcmp(mv[j].k, m->name, nl))
				break;
		if (j == n) {
			if (!(m->flags & M_OPT))
				goto parser;
			continue;
		}
		if (!mv[j].str)
			goto parser;
		if (m->type == M_HEX) {
			if (mv[j].vl != 2 * HASH_LEN ||
			    nedb__unhex((unsigned char *)f, mv[j].v, HASH_LEN))
				goto parser;
			continue;
		}
		memcpy(own, mv[j].v, mv[j].vl);
		own[mv[j].vl] = 0;
		memcpy(f, &own, sizeof own);
		own += mv[j].vl + 1;
	}
	return 0;
parser:
	nedb__op_free(o);
	memset(o, 0, sizeof *o);
	return 1;
}

int
nedb__log_parse(const char *line, size_t len, struct op *o)
{
	const struct op_desc *d;
	const char *kind, *docat, *mb = line;
	size_t ml = len, doc = 0, doclen = 0;
	struct log_put2 p2;
	uint64_t u;
	jv *owner;
	jv v;
	int k;

	memset(o, 0, sizeof *o);
	if ((k = fast_parse(line, len, o)) != 1)
		return k;
	if (nedb__jv_require())
		return NEDB_EIO;
	v = jv_parse_sized(line, (int)len);
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		jv_free(v);
		return nedb__err(NEDB_ECORRUPT, "corrupt log: line is not "
				 "a JSON object");
	}
	if (!(owner = nedb__malloc(sizeof *owner))) {
		jv_free(v);
		return nedb__err(NEDB_EIO, "out of memory");
	}
	*owner = v;
	o->jv_owner = owner;
	kind = str_member(v, "op");
	if (!kind || (k = nedb__op_kind(kind, strlen(kind))) < 0)
		goto bad;
	o->kind = (enum op_kind)k;
	d = &nedb__optab[k];
	/* "seq" is the first member: search from its own comma-less start */
	if (len < 7 + 1 + 10 + 2 * HASH_LEN + 1 + SUFFIX_LEN ||
	    memcmp(line, "{\"seq\":", 7))
		goto bad;
	switch (nedb__log_put2(line, len, &p2)) {
	case -1:
		goto bad;
	case 0:
		/* format 1: the scalars come before the document, last */
		if ((docat = memmem(line, len, ",\"doc\":{", 8))) {
			ml = (size_t)(docat - line);
			doc = ml + 7;
			doclen = len - SUFFIX_LEN - doc;
		}
		/* a document right after "op" in another kind's line (not
		 * one nedb writes, so not aligned either): its scalars are
		 * after its last ,"ts":, for the rules to judge the line */
		if (docat && ml == kind_end(line, len)) {
			for (u = len - SUFFIX_LEN; u > ml; u--)
				if (!memcmp(line + u - (sizeof TS_KEY - 1),
					    TS_KEY, sizeof TS_KEY - 1))
					break;
			if (u > ml) {
				mb = line + u - (sizeof TS_KEY - 1);
				ml = len - (size_t)(mb - line);
			}
		}
		break;
	default:
		o->format = 2;
		o->redacted = p2.redacted;
		if (!p2.redacted &&
		    nedb__unhex(o->dsalt, line + p2.doc + p2.doclen + 7,
				SALT_LEN))
			goto bad;
		mb = line + p2.tail;
		ml = len - p2.tail;
		doc = p2.doc;
		doclen = p2.doclen;
	}
	o->seq = strtoull(line + 7, NULL, 10);
	if (!int_member(mb, ml, K(",\"ts\":"), true, &u))
		goto bad;
	o->ts = (int64_t)u;
	o->len = (uint32_t)len;
	for (size_t i = 0; i < d->n; i++)
		if (!parse_member(&d->m[i], v, line, mb, ml, doc, doclen, o))
			goto bad;
	return 0;
bad:
	/* the message first: kind is the parsed line's */
	k = nedb__err(NEDB_ECORRUPT, "corrupt log: op %s lacks members it "
		      "needs", kind ? kind : "(none)");
	nedb__op_free(o);
	return k;
}

void
nedb__op_free(struct op *o)
{
	free(o->docbuf);
	o->docbuf = NULL;
	free(o->own);
	o->own = NULL;
	if (o->jv_owner) {
		jv_free(*(jv *)o->jv_owner);
		free(o->jv_owner);
		o->jv_owner = NULL;
	}
}

/*
 * The document of a checked put line: the slice between ,"doc": and the
 * hash (format 1), or its ,"ds": (format 2); false for a redacted one.
 */
bool
nedb__log_doc(const char *line, size_t len, const char **doc, size_t *doclen)
{
	struct log_put2 p;

	if (len < SUFFIX_LEN)
		return false;
	switch (nedb__log_put2(line, len, &p)) {
	case 1:
		*doc = line + p.doc;
		*doclen = p.doclen;
		return **doc == '{';
	case 0:
		break;
	default:
		return false;
	}
	if (!nedb__doc_member(line, len, "doc", doc, doclen) || **doc != '{')
		return false;
	return *doc + *doclen == line + len - SUFFIX_LEN;
}
