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
 * commits to its document through ,"dh":"<hex BLAKE2b(salt || doc)>",
 * which ends the hashed body; the salt (,"ds":) and the document follow
 * it in the unhashed tail, or, once redacted, ,"redacted":R and spaces
 * up to the tail's old length.  Format-1 lines have no "dh" before their
 * document and are hashed as they always were: a line's shape says which
 * rule holds (doc_commitment).
 *
 * Invariants:
 *  1. Lines are written only by nedb__log_format; what it writes,
 *     nedb__log_check accepts and nedb__log_parse reads back into the
 *     same op.
 *  2. nedb__log_check needs no JSON parser: verification runs at the
 *     speed of hashing.
 */
#include <blake2.h>
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
	blake2b_state s;

	blake2b_init(&s, HASH_LEN);
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

/* dh = BLAKE2b-256(salt || doc): a format-2 document's commitment. */
static void
doc_hash(unsigned char out[HASH_LEN], const unsigned char salt[SALT_LEN],
	 const char *doc, size_t len)
{
	blake2b_state s;

	blake2b_init(&s, HASH_LEN);
	blake2b_update(&s, salt, SALT_LEN);
	blake2b_update(&s, (const uint8_t *)doc, len);
	blake2b_final(&s, out, HASH_LEN);
}

/*
 * A format-2 document: ,"dh":"<hex>" (the end of the body: *bodyend is
 * set to the length before the tail), then the tail ,"ds":"<hex>".  The
 * caller adds ,"doc": and the text.
 */
static int
format_commitment(nedb_buf *out, struct op *o, size_t start,
		  size_t *bodyend)
{
	char hex[2 * SALT_LEN + 1];	/* nedb__hex ends it with a NUL */

	doc_hash(o->dh, o->dsalt, o->doc, o->doclen);
	if (add_hex(out, K(",\"dh\":"), o->dh))
		return NEDB_EIO;
	*bodyend = out->len - start;
	nedb__hex(hex, o->dsalt, SALT_LEN);
	if (nedb_buf_add(out, K(",\"ds\":\"")) ||
	    nedb_buf_add(out, hex, 2 * SALT_LEN) ||
	    nedb_buf_add(out, "\"", 1))
		return NEDB_EIO;
	return 0;
}

/* One member of o onto out, as its entry in the op table says. */
static int
format_member(nedb_buf *out, const struct op_member *m, struct op *o,
	      size_t start, size_t *bodyend)
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
		if (o->format >= 2 &&
		    format_commitment(out, o, start, bodyend))
			return NEDB_EIO;
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
	size_t start = out->len, bodyend = 0;
	int rc = NEDB_EIO;

	if (nedb_buf_add(out, K("{\"seq\":")) ||
	    nedb__buf_u64(out, o->seq) ||
	    add_hex(out, K(",\"prev\":"), o->prev) ||
	    nedb_buf_add(out, K(",\"op\":\"")) ||
	    nedb_buf_puts(out, d->name) ||
	    nedb_buf_add(out, K("\",\"ts\":")) ||
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
		if ((rc = format_member(out, &d->m[i], o, start, &bodyend)))
			goto fail;
	if (nedb_buf_grow(out, SUFFIX_LEN + 2)) {
		rc = NEDB_EIO;
		goto fail;
	}
	line_hash(o->hash, o->prev, out->p + start,
		  bodyend ? bodyend : out->len - start);
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

/*
 * The end of a format-2 line's hashed body, in *bodylen (left alone for
 * a format-1 line), and the check of its unhashed tail: the salt and
 * the document under dh, or a redaction's marker.  The first ,"doc":
 * and the first ,"dh":" before it are the members themselves: every
 * member before the document is a scalar, and no string holds an
 * unescaped '"'.  A format-1 line has no "dh" member, and a document's
 * own "dh" lies after its ,"doc":.
 */
static int
doc_commitment(const char *line, size_t len, uint64_t seq, size_t *bodylen)
{
	const char *end = line + len - SUFFIX_LEN, *docat, *dh, *p, *q;
	unsigned char want[HASH_LEN], got[HASH_LEN], salt[SALT_LEN];

	docat = memmem(line, (size_t)(end - line), ",\"doc\":", 7);
	dh = memmem(line, (size_t)((docat ? docat : end) - line),
		    ",\"dh\":\"", 7);
	if (!dh)
		return 0;
	p = dh + 7;
	if (end - p < 2 * HASH_LEN + 1 || nedb__unhex(want, p, HASH_LEN) ||
	    p[2 * HASH_LEN] != '"')
		return bad(seq, "malformed document commitment");
	p += 2 * HASH_LEN + 1;
	*bodylen = (size_t)(p - line);
	if (docat && docat == p + 7 + 2 * SALT_LEN + 1 &&
	    !memcmp(p, ",\"ds\":\"", 7) &&
	    !nedb__unhex(salt, p + 7, SALT_LEN) &&
	    p[7 + 2 * SALT_LEN] == '"' && docat[7] == '{') {
		doc_hash(got, salt, docat + 7, (size_t)(end - docat - 7));
		if (memcmp(got, want, HASH_LEN))
			return bad(seq, "document does not match its hash "
				   "(dh)");
		return 0;
	}
	if (!docat && end - p > (ptrdiff_t)sizeof REDACTED_KEY &&
	    !memcmp(p, REDACTED_KEY, sizeof REDACTED_KEY - 1)) {
		q = p + sizeof REDACTED_KEY - 1;
		if (*q >= '1' && *q <= '9') {
			while (q < end && *q >= '0' && *q <= '9')
				q++;
			while (q < end && *q == ' ')
				q++;
			if (q == end)
				return 0;
		}
	}
	return bad(seq, "malformed document commitment");
}

int
nedb__log_check(const char *line, size_t len, uint64_t *seq,
		unsigned char prev[HASH_LEN], unsigned char hash[HASH_LEN])
{
	unsigned char want[HASH_LEN];
	const char *p = line + 7, *end = line + len;
	uint64_t n = 0;
	size_t bodylen;
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
	bodylen = len - SUFFIX_LEN;
	if ((rc = doc_commitment(line, len, *seq, &bodylen)))
		return rc;
	line_hash(want, prev, line, bodylen);
	if (memcmp(want, hash, HASH_LEN))
		return bad(*seq, "hash mismatch");
	return 0;
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
 * A format-2 line's commitment into o: format, dh, and the salt or the
 * redaction (nedb__log_check has checked their shape).
 */
static void
parse_commitment(const char *line, size_t len, const char *docat,
		 struct op *o)
{
	const char *dh, *p;

	dh = memmem(line, (size_t)((docat ? docat : line + len) - line),
		    ",\"dh\":\"", 7);
	if (!dh || (size_t)(dh - line) + 7 + 2 * HASH_LEN + 1 > len ||
	    nedb__unhex(o->dh, dh + 7, HASH_LEN))
		return;
	o->format = 2;
	p = dh + 7 + 2 * HASH_LEN + 1;
	if (!memcmp(p, ",\"ds\":\"", 7))
		nedb__unhex(o->dsalt, p + 7, SALT_LEN);
	else if (!memcmp(p, REDACTED_KEY, sizeof REDACTED_KEY - 1))
		o->redacted = strtoull(p + sizeof REDACTED_KEY - 1, NULL, 10);
}

/*
 * One member of the line into o, as its entry in the op table says;
 * false when a member the kind needs is missing or malformed.  head is
 * the length of the text before the document.
 */
static bool
parse_member(const struct op_member *m, jv v, const char *line, size_t len,
	     size_t head, const char *docat, struct op *o)
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
		if (!int_member(line, head, m->key, m->keylen,
				m->type == M_I64, &u))
			return m->flags & M_OPT;
		memcpy(f, &u, sizeof u);
		return true;
	case M_HEX:
		s = str_member(v, m->name);
		return s && strlen(s) == 2 * HASH_LEN &&
		       !nedb__unhex((unsigned char *)f, s, HASH_LEN);
	case M_RAW:
		s = raw_member(line, head, m->key, m->keylen, &n);
		memcpy(f, &s, sizeof s);
		memcpy((char *)o + m->lenoff, &n, sizeof n);
		return s || (m->flags & M_OPT);
	case M_DOC:
		if (o->redacted)
			return redacted_doc(o);
		if (!docat)
			return false;
		o->docoff = (uint32_t)(docat + m->keylen - line);
		o->doc = line + o->docoff;
		o->doclen = len - SUFFIX_LEN - o->docoff;
		return true;
	case M_FORMAT:
		/* read for a round trip only: meta.json is what open checks,
		 * and verify judges a genesis by its own rules */
		if (int_member(line, head, m->key, m->keylen, false, &u) &&
		    u >= 1 && u <= LOG_FORMAT_MAX)
			o->format = (int)u;
		return true;
	}
	return false;
}

int
nedb__log_parse(const char *line, size_t len, struct op *o)
{
	const struct op_desc *d;
	const char *kind, *docat;
	size_t head;
	uint64_t u;
	jv *owner;
	jv v;
	int k;

	memset(o, 0, sizeof *o);
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
	docat = memmem(line, len, ",\"doc\":{", 8);
	head = docat ? (size_t)(docat - line) : len;
	parse_commitment(line, len, docat, o);
	/* "seq" is the first member: search from its own comma-less start */
	if (len < 7 || memcmp(line, "{\"seq\":", 7))
		goto bad;
	o->seq = strtoull(line + 7, NULL, 10);
	if (!int_member(line, head, K(",\"ts\":"), true, &u))
		goto bad;
	o->ts = (int64_t)u;
	o->len = (uint32_t)len;
	for (size_t i = 0; i < d->n; i++)
		if (!parse_member(&d->m[i], v, line, len, head, docat, o))
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
	if (o->jv_owner) {
		jv_free(*(jv *)o->jv_owner);
		free(o->jv_owner);
		o->jv_owner = NULL;
	}
}

/*
 * The document of a checked put line: the slice between ,"doc": and the
 * hash.  Every member before it is a scalar, so one walk of the
 * top-level members finds it; the text after it must be the hash.
 */
bool
nedb__log_doc(const char *line, size_t len, const char **doc, size_t *doclen)
{
	if (len < SUFFIX_LEN ||
	    !nedb__doc_member(line, len, "doc", doc, doclen) || **doc != '{')
		return false;
	return *doc + *doclen == line + len - SUFFIX_LEN;
}
