/*
 * optab.c - one description per op kind, and receipts.
 *
 * nedb__optab[kind] names the kind and lists the members its line
 * carries between "ts" and "hash", in their order (nedb-format(5)).
 * nedb__log_format writes a line from it, nedb__log_parse reads one back
 * with it, and the receipt of an op is its members marked M_RCPT, so
 * that none of them switches on the kind.  Apply's per-kind hook is
 * view.c's nedb__apply_kind[].
 *
 * Adding a kind: its enum op_kind value (internal.h), its entry below,
 * its apply hook (view.c), its builder (engine/db.c, over stage()), its
 * nedb.h function and its section of nedb-format(5).  tests/unit/
 * test_optab.c checks every entry round-trips and renders.
 *
 * Receipts are structs (nedb_receipt, nedb.h) filled from an op by
 * nedb__receipt_of and rendered by nedb_receipt_json, the one place
 * their JSON is written.  That text is also what apply records for an
 * idempotency key (the idem table, digested by checkpoints): it must stay
 * byte for byte what it is.
 *
 * Invariants:
 *  1. The lists are in the order the lines hold the members; M_DOC, when
 *     a kind has it, is last and every member before it is a scalar
 *     (log.c serves a document from its line by that).
 *  2. A receipt's members come in the order of the line.
 */
#include <stddef.h>
#include <string.h>
#include "internal.h"

#define KEY(nm) ",\"" nm "\":"
#define MEMBER(nm, ty, fl, f) \
	{nm, KEY(nm), sizeof KEY(nm) - 1, ty, fl, offsetof(struct op, f), 0, \
	 0, 0}
#define RAW(nm, fl, f) \
	{nm, KEY(nm), sizeof KEY(nm) - 1, M_RAW, fl, offsetof(struct op, f), \
	 offsetof(struct op, f##_len), 0, 0}
/* A member the receipt carries: rf is its field in nedb_receipt. */
#define RMEMBER(nm, ty, fl, f, rf) \
	{nm, KEY(nm), sizeof KEY(nm) - 1, ty, (fl) | M_RCPT, \
	 offsetof(struct op, f), 0, offsetof(nedb_receipt, rf), \
	 sizeof ((nedb_receipt *)0)->rf}

/* What every op a client writes carries first. */
#define CLIENT_MEMBERS \
	MEMBER("client", M_STR, 0, client), \
	MEMBER("nonce", M_U64, 0, nonce), \
	MEMBER("idem", M_STR, M_OPT, idem)

static const struct op_member genesis_m[] = {
	MEMBER("format", M_FORMAT, 0, seq),
};

static const struct op_member put_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("coll", M_STR, 0, coll, coll),
	RMEMBER("id", M_STR, 0, id, id),
	MEMBER("exp", M_I64, M_OPT, exp),
	RAW("caused_by", M_OPT, caused_by),
	MEMBER("evidence", M_STR, M_OPT, evidence),
	RAW("confidence", M_OPT, confidence),
	MEMBER("valid_from", M_STR, M_OPT, valid_from),
	MEMBER("valid_to", M_STR, M_OPT, valid_to),
	MEMBER("repl_offset", M_U64, M_OPT, repl_offset),
	MEMBER("doc", M_DOC, 0, doc),
};

/* Where an op that carries no document came from (nedb_wopts). */
#define SOURCE_MEMBERS \
	MEMBER("evidence", M_STR, M_OPT, evidence), \
	MEMBER("repl_offset", M_U64, M_OPT, repl_offset)

static const struct op_member delete_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("coll", M_STR, 0, coll, coll),
	RMEMBER("id", M_STR, 0, id, id),
	SOURCE_MEMBERS,
};

static const struct op_member checkpoint_m[] = {
	RMEMBER("state", M_HEX, 0, state, state),
};

static const struct op_member link_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("from", M_STR, 0, from, from),
	RMEMBER("rel", M_STR, 0, rel, rel),
	RMEMBER("to", M_STR, 0, to, to),
};

static const struct op_member index_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("coll", M_STR, 0, coll, coll),
	RMEMBER("field", M_STR, 0, field, field),
	RMEMBER("kind", M_STR, 0, ixkind, kind),
};

/* An unindex of every kind on the field has no "kind". */
static const struct op_member unindex_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("coll", M_STR, 0, coll, coll),
	RMEMBER("field", M_STR, 0, field, field),
	RMEMBER("kind", M_STR, M_OPT, ixkind, kind),
};

static const struct op_member drop_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("coll", M_STR, 0, coll, coll),
	SOURCE_MEMBERS,
};

/* exp 0: the document never expires (persist); written even then. */
static const struct op_member expire_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("coll", M_STR, 0, coll, coll),
	RMEMBER("id", M_STR, 0, id, id),
	RMEMBER("exp", M_I64, 0, exp, exp),
	SOURCE_MEMBERS,
};

/* A redaction (engine/redact.c): which put seqs of coll/id lost their
 * text, and why.  reason is hashed and permanent. */
static const struct op_member redact_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("coll", M_STR, 0, coll, coll),
	RMEMBER("id", M_STR, 0, id, id),
	RAW("seqs", 0, seqs),
	MEMBER("reason", M_STR, M_OPT, reason),
};

/* A version of a file (lib/file, nedb-file(1)): the chunk store holds
 * its bytes; the op commits to them through the manifest's address and
 * the Merkle root of the chunk addresses. */
static const struct op_member file_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("name", M_STR, 0, name, name),
	RMEMBER("version", M_I64, 0, fversion, version),
	MEMBER("size", M_U64, 0, fsize),
	MEMBER("chunks", M_U64, 0, fchunks),
	RMEMBER("root", M_HEX, 0, froot, root),
	MEMBER("manifest", M_HEX, 0, fman),
};

/*
 * A patch: the update (nedb_update_doc's, compact) that makes the
 * document's next version from version base, its latest before it
 * (engine/patch.c).  "doc" holds the update, where a put holds its
 * document, so that format 2 can erase it the same way.
 */
static const struct op_member patch_m[] = {
	CLIENT_MEMBERS,
	RMEMBER("coll", M_STR, 0, coll, coll),
	RMEMBER("id", M_STR, 0, id, id),
	MEMBER("base", M_U64, 0, base),
	SOURCE_MEMBERS,
	MEMBER("doc", M_DOC, 0, doc),
};

#define KIND(nm, cl, list) {nm, cl, list, sizeof list / sizeof *list}

const struct op_desc nedb__optab[OP__N] = {
	[OP_GENESIS] = KIND("genesis", false, genesis_m),
	[OP_PUT] = KIND("put", true, put_m),
	[OP_DELETE] = KIND("delete", true, delete_m),
	[OP_CHECKPOINT] = KIND("checkpoint", false, checkpoint_m),
	[OP_LINK] = KIND("link", true, link_m),
	[OP_UNLINK] = KIND("unlink", true, link_m),
	[OP_INDEX] = KIND("index", true, index_m),
	[OP_UNINDEX] = KIND("unindex", true, unindex_m),
	[OP_DROP] = KIND("drop", true, drop_m),
	[OP_EXPIRE] = KIND("expire", true, expire_m),
	[OP_REDACT] = KIND("redact", true, redact_m),
	[OP_FILE] = KIND("file", true, file_m),
	[OP_PATCH] = KIND("patch", true, patch_m),
};

const char *
nedb__op_name(enum op_kind k)
{
	return nedb__optab[k].name;
}

int
nedb__op_kind(const char *s, size_t n)
{
	for (int k = 0; k < OP__N; k++)
		if (!strncmp(nedb__optab[k].name, s, n) &&
		    !nedb__optab[k].name[n])
			return k;
	return -1;
}

/* Copies string s into the receipt's array of size n. */
static int
rstr(char *out, size_t n, const char *s, const char *what)
{
	size_t len = s ? strlen(s) : 0;

	if (len >= n)
		return nedb__err(NEDB_ECORRUPT, "corrupt log: the %s of an op "
				 "is longer than any valid one", what);
	if (len)
		memcpy(out, s, len);
	out[len] = 0;
	return 0;
}

int
nedb__receipt_of(nedb_receipt *r, const struct op *o)
{
	const struct op_desc *d = &nedb__optab[o->kind];
	int rc;

	r->op = d->name;
	r->seq = o->seq;
	nedb__hex(r->hash, o->hash, HASH_LEN);
	r->hash[2 * HASH_LEN] = 0;
	r->coll[0] = r->id[0] = r->from[0] = r->rel[0] = r->to[0] = 0;
	r->field[0] = r->kind[0] = r->state[0] = 0;
	r->name[0] = r->root[0] = 0;
	r->exp = r->version = 0;
	r->exists = r->replay = 0;
	for (size_t i = 0; i < d->n; i++) {
		const struct op_member *m = &d->m[i];
		const char *f = (const char *)o + m->off;
		char *rf = (char *)r + m->roff;

		if (!(m->flags & M_RCPT))
			continue;
		switch (m->type) {
		case M_STR:
			if ((rc = rstr(rf, m->rsize, *(const char *const *)f,
				       m->name)))
				return rc;
			break;
		case M_I64:
			memcpy(rf, f, sizeof(int64_t));
			break;
		case M_HEX:
			nedb__hex(rf, (const unsigned char *)f, HASH_LEN);
			rf[2 * HASH_LEN] = 0;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* The kind a receipt's op names: its table name, or the same text. */
static int
receipt_kind(const char *op)
{
	if (!op)
		return -1;
	for (int k = 0; k < OP__N; k++)
		if (op == nedb__optab[k].name)
			return k;
	return nedb__op_kind(op, strlen(op));
}

int
nedb_receipt_json(nedb_buf *out, const nedb_receipt *r, unsigned flags)
{
	const struct op_desc *d;
	int k = receipt_kind(r->op);
	bool bad;

	if (k < 0)
		return nedb__err(NEDB_EUSAGE, "bad receipt: no op kind '%.40s'",
				 r->op ? r->op : "(null)");
	d = &nedb__optab[k];
	if (r->exists)
		bad = nedb_buf_add(out, "{\"op\":", 6);
	else
		bad = nedb_buf_add(out, "{\"seq\":", 7) ||
		      nedb__buf_u64(out, r->seq) ||
		      nedb_buf_add(out, ",\"hash\":", 8) ||
		      nedb_buf_json_str(out, r->hash, strlen(r->hash)) ||
		      nedb_buf_add(out, ",\"op\":", 6);
	bad = bad || nedb_buf_json_str(out, d->name, strlen(d->name));
	for (size_t i = 0; i < d->n && !bad; i++) {
		const struct op_member *m = &d->m[i];
		const char *rf = (const char *)r + m->roff;

		if (!(m->flags & M_RCPT))
			continue;
		if (m->type == M_I64) {
			int64_t v;

			memcpy(&v, rf, sizeof v);
			if (v || !(m->flags & M_OPT))
				bad = nedb_buf_add(out, m->key, m->keylen) ||
				      nedb__buf_i64(out, v);
		} else if (*rf || !(m->flags & M_OPT)) {
			bad = nedb_buf_add(out, m->key, m->keylen) ||
			      nedb_buf_json_str(out, rf, strnlen(rf,
								 m->rsize));
		}
	}
	if (!bad && r->exists)
		bad = nedb_buf_add(out, ",\"exists\":true", 14);
	if (!bad && !(flags & NEDB_RECEIPT_OPEN))
		bad = nedb_buf_add(out, "}", 1);
	return bad ? NEDB_EIO : 0;
}
