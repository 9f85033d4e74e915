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

static const char *const kinds[OP__N] = {
	"genesis", "put", "delete", "checkpoint", "link", "unlink", "index",
	"unindex", "drop", "expire"
};

const char *
nedb__op_name(enum op_kind k)
{
	return kinds[k];
}

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

static void
add_str(nedb_buf *b, const char *key, const char *val)
{
	nedb_buf_add(b, ",\"", 2);
	nedb_buf_puts(b, key);
	nedb_buf_add(b, "\":", 2);
	nedb_buf_json_str(b, val, strlen(val));
}

static void
add_num(nedb_buf *b, const char *key, int64_t v)
{
	nedb_buf_add(b, ",\"", 2);
	nedb_buf_puts(b, key);
	nedb_buf_add(b, "\":", 2);
	nedb__buf_i64(b, v);
}

static void
add_hex(nedb_buf *b, const char *key, const unsigned char h[HASH_LEN])
{
	char hex[2 * HASH_LEN + 1];

	nedb__hex(hex, h, HASH_LEN);
	nedb_buf_add(b, ",\"", 2);
	nedb_buf_puts(b, key);
	nedb_buf_add(b, "\":\"", 3);
	nedb_buf_add(b, hex, 2 * HASH_LEN);
	nedb_buf_add(b, "\"", 1);
}

/* Formatted by hand, not printf: this runs once per op of a bulk load. */
int
nedb__log_format(nedb_buf *out, struct op *o)
{
	size_t start = out->len;

	nedb_buf_puts(out, "{\"seq\":");
	nedb__buf_u64(out, o->seq);
	add_hex(out, "prev", o->prev);
	add_str(out, "op", kinds[o->kind]);
	add_num(out, "ts", o->ts);
	switch (o->kind) {
	case OP_GENESIS:
		add_num(out, "format", LOG_FORMAT);
		break;
	case OP_CHECKPOINT:
		add_hex(out, "state", o->state);
		break;
	default:
		add_str(out, "client", o->client);
		nedb_buf_puts(out, ",\"nonce\":");
		nedb__buf_u64(out, o->nonce);
		if (o->idem)
			add_str(out, "idem", o->idem);
		if (o->kind == OP_LINK || o->kind == OP_UNLINK) {
			add_str(out, "from", o->from);
			add_str(out, "rel", o->rel);
			add_str(out, "to", o->to);
			break;
		}
		add_str(out, "coll", o->coll);
		if (o->kind == OP_INDEX || o->kind == OP_UNINDEX) {
			add_str(out, "field", o->field);
			if (o->ixkind)	/* an unindex's: only one kind */
				add_str(out, "kind", o->ixkind);
			break;
		}
		if (o->kind == OP_DROP)
			break;
		add_str(out, "id", o->id);
		if (o->kind == OP_EXPIRE) {
			add_num(out, "exp", o->exp);
			break;
		}
		if (o->kind != OP_PUT)
			break;
		if (o->exp)
			add_num(out, "exp", o->exp);
		if (o->caused_by) {
			nedb_buf_puts(out, ",\"caused_by\":");
			nedb_buf_add(out, o->caused_by, o->caused_by_len);
		}
		if (o->evidence)
			add_str(out, "evidence", o->evidence);
		if (o->confidence) {
			nedb_buf_puts(out, ",\"confidence\":");
			nedb_buf_add(out, o->confidence, o->confidence_len);
		}
		if (o->valid_from)
			add_str(out, "valid_from", o->valid_from);
		if (o->valid_to)
			add_str(out, "valid_to", o->valid_to);
		nedb_buf_puts(out, ",\"doc\":");
		o->docoff = (uint32_t)(out->len - start);
		nedb_buf_add(out, o->doc, o->doclen);
		break;
	}
	if (nedb_buf_grow(out, SUFFIX_LEN + 2))
		return NEDB_EIO;
	line_hash(o->hash, o->prev, out->p + start, out->len - start);
	add_hex(out, "hash", o->hash);
	if (nedb_buf_add(out, "}\n", 2))
		return NEDB_EIO;
	o->len = (uint32_t)(out->len - start - 1);
	return 0;
}

static int
bad(uint64_t seq, const char *why)
{
	return nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: %s",
			 (unsigned long long)seq, why);
}

int
nedb__log_check(const char *line, size_t len, uint64_t *seq,
		unsigned char prev[HASH_LEN], unsigned char hash[HASH_LEN])
{
	unsigned char want[HASH_LEN];
	const char *p = line + 7, *end = line + len;
	uint64_t n = 0;

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
	line_hash(want, prev, line, len - SUFFIX_LEN);
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
int_member(const char *line, size_t len, const char *key, bool sign,
	   uint64_t *out)
{
	char pat[16];
	const char *p;
	char *end;

	snprintf(pat, sizeof pat, ",\"%s\":", key);
	p = memmem(line, len, pat, strlen(pat));
	if (!p)
		return false;
	p += strlen(pat);
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
raw_member(const char *line, size_t len, const char *key, size_t *n)
{
	char pat[24];
	const char *p, *e;

	snprintf(pat, sizeof pat, ",\"%s\":", key);
	if (!(p = memmem(line, len, pat, strlen(pat))))
		return NULL;
	p += strlen(pat);
	for (e = p; e < line + len && *e != ',' && *e != '}'; e++)
		if (*e == '[')
			while (e < line + len && *e != ']')
				e++;
	*n = (size_t)(e - p);
	return p;
}

int
nedb__log_parse(const char *line, size_t len, struct op *o)
{
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
	if (!(owner = malloc(sizeof *owner))) {
		jv_free(v);
		return nedb__err(NEDB_EIO, "out of memory");
	}
	*owner = v;
	o->jv_owner = owner;
	kind = str_member(v, "op");
	for (k = 0; k < OP__N; k++)
		if (kind && !strcmp(kind, kinds[k]))
			break;
	if (k == OP__N)
		goto bad;
	o->kind = (enum op_kind)k;
	docat = memmem(line, len, ",\"doc\":{", 8);
	head = docat ? (size_t)(docat - line) : len;
	/* "seq" is the first member: search from its own comma-less start */
	if (len < 7 || memcmp(line, "{\"seq\":", 7))
		goto bad;
	o->seq = strtoull(line + 7, NULL, 10);
	if (!int_member(line, head, "ts", true, &u))
		goto bad;
	o->ts = (int64_t)u;
	o->len = (uint32_t)len;
	if (o->kind == OP_CHECKPOINT) {
		const char *st = str_member(v, "state");

		if (!st || strlen(st) != 64 || nedb__unhex(o->state, st, 32))
			goto bad;
	}
	if (!OP_IS_CLIENT(o->kind))
		return 0;
	o->client = str_member(v, "client");
	o->idem = str_member(v, "idem");
	if (!o->client || !int_member(line, head, "nonce", false, &o->nonce))
		goto bad;
	switch (o->kind) {
	case OP_LINK:
	case OP_UNLINK:
		o->from = str_member(v, "from");
		o->rel = str_member(v, "rel");
		o->to = str_member(v, "to");
		if (!o->from || !o->rel || !o->to)
			goto bad;
		return 0;
	case OP_INDEX:
	case OP_UNINDEX:
		o->coll = str_member(v, "coll");
		o->field = str_member(v, "field");
		o->ixkind = str_member(v, "kind");
		if (!o->coll || !o->field ||
		    (o->kind == OP_INDEX && !o->ixkind))
			goto bad;
		return 0;
	case OP_DROP:
		if (!(o->coll = str_member(v, "coll")))
			goto bad;
		return 0;
	default:
		break;
	}
	o->coll = str_member(v, "coll");
	o->id = str_member(v, "id");
	if (!o->coll || !o->id)
		goto bad;
	if (int_member(line, head, "exp", true, &u))
		o->exp = (int64_t)u;
	else if (o->kind == OP_EXPIRE)
		goto bad;
	if (o->kind == OP_DELETE || o->kind == OP_EXPIRE)
		return 0;
	if (!docat)
		goto bad;
	o->evidence = str_member(v, "evidence");
	o->valid_from = str_member(v, "valid_from");
	o->valid_to = str_member(v, "valid_to");
	o->caused_by = raw_member(line, head, "caused_by",
				  &o->caused_by_len);
	o->confidence = raw_member(line, head, "confidence",
				   &o->confidence_len);
	o->docoff = (uint32_t)(docat + 7 - line);
	o->doc = line + o->docoff;
	o->doclen = len - SUFFIX_LEN - o->docoff;
	return 0;
bad:
	nedb__op_free(o);
	return nedb__err(NEDB_ECORRUPT, "corrupt log: op %s lacks members "
			 "it needs", kind ? kind : "(none)");
}

void
nedb__op_free(struct op *o)
{
	if (o->jv_owner) {
		jv_free(*(jv *)o->jv_owner);
		free(o->jv_owner);
		o->jv_owner = NULL;
	}
}

int
nedb__receipt(nedb_buf *out, const struct op *o)
{
	nedb_buf_puts(out, "{\"seq\":");
	nedb__buf_u64(out, o->seq);
	add_hex(out, "hash", o->hash);
	add_str(out, "op", kinds[o->kind]);
	switch (o->kind) {
	case OP_PUT:
	case OP_DELETE:
		add_str(out, "coll", o->coll);
		add_str(out, "id", o->id);
		break;
	case OP_EXPIRE:
		add_str(out, "coll", o->coll);
		add_str(out, "id", o->id);
		add_num(out, "exp", o->exp);
		break;
	case OP_CHECKPOINT:
		add_hex(out, "state", o->state);
		break;
	case OP_LINK:
	case OP_UNLINK:
		add_str(out, "from", o->from);
		add_str(out, "rel", o->rel);
		add_str(out, "to", o->to);
		break;
	case OP_INDEX:
	case OP_UNINDEX:
		add_str(out, "coll", o->coll);
		add_str(out, "field", o->field);
		if (o->ixkind)
			add_str(out, "kind", o->ixkind);
		break;
	case OP_DROP:
		add_str(out, "coll", o->coll);
		break;
	default:
		break;
	}
	return nedb_buf_puts(out, "}\n");
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
