/*
 * view.c - the materialized view in LMDB, and apply().
 *
 * Tables (named LMDB databases in view.mdb):
 *   meta    "applied" -> struct applied; "ckpt" -> be64 seq
 *   docs    coll \0 id -> struct dochdr, then the compact document text
 *   vers    coll \0 id \0 be64(seq) -> struct verent (put or delete)
 *   seqs    be64(seq) -> struct seqent (where the op's line is, its hash)
 *   nonces  client -> be64 last nonce
 *   idem    key -> receipt text of the op that first used it
 *   ttl     be64(exp) coll \0 id -> (empty): documents by expiry time
 *
 * Invariants:
 *  1. nedb__apply is the only function that changes docs, vers, seqs,
 *     nonces, idem and ttl.  Writes, catch-up, --rebuild and the
 *     determinism check all call it, so the view is a pure function of
 *     the log.
 *  2. apply reads nothing but the op and the view: no clock, no
 *     environment.  The op carries its timestamp and expiry.
 *  3. "applied" is written in the same LMDB transaction as the ops it
 *     covers, so the view never claims an op it has not applied.
 */
#include <blake2.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

static const char *const dbi_names[DBI__N] = {
	"meta", "docs", "vers", "seqs", "nonces", "idem", "ttl"
};

int
nedb__view_open(struct view *v, const char *path, unsigned envflags,
		bool create)
{
	int rc;

	(void)create;
	memset(v, 0, sizeof *v);
	if ((rc = mdb_env_create(&v->env)))
		return nedb__mdb(rc, "cannot create view");
	mdb_env_set_maxdbs(v->env, 16);
	mdb_env_set_maxreaders(v->env, 1022);
	mdb_env_set_mapsize(v->env, (size_t)1 << 38);
	rc = mdb_env_open(v->env, path, MDB_NOSUBDIR | envflags, 0644);
	if (rc) {
		mdb_env_close(v->env);
		v->env = NULL;
		return nedb__mdb(rc, "cannot open view");
	}
	return 0;
}

void
nedb__view_close(struct view *v)
{
	if (v->env)
		mdb_env_close(v->env);
	v->env = NULL;
}

int
nedb__view_dbis(struct view *v, MDB_txn *txn, bool create)
{
	for (int i = 0; i < DBI__N; i++) {
		int rc = mdb_dbi_open(txn, dbi_names[i],
				      create ? MDB_CREATE : 0, &v->dbi[i]);
		if (rc)
			return rc == MDB_NOTFOUND ? NEDB_ENOTFOUND :
			       nedb__mdb(rc, "cannot open view tables");
	}
	return 0;
}

int
nedb__view_applied(struct view *v, MDB_txn *txn, struct applied *a)
{
	MDB_val k = {7, "applied"}, d;
	int rc = mdb_get(txn, v->dbi[DBI_META], &k, &d);

	memset(a, 0, sizeof *a);
	if (rc == MDB_NOTFOUND)
		return NEDB_ENOTFOUND;
	if (rc)
		return nedb__mdb(rc, "cannot read view");
	if (d.mv_size != sizeof *a)
		return NEDB_ENOTFOUND;	/* another format: rebuild */
	memcpy(a, d.mv_data, sizeof *a);
	return 0;
}

int
nedb__view_set_applied(struct view *v, MDB_txn *txn, const struct applied *a)
{
	MDB_val k = {7, "applied"}, d = {sizeof *a, (void *)a};

	return nedb__mdb(mdb_put(txn, v->dbi[DBI_META], &k, &d, 0),
			 "cannot write view");
}

int
nedb__view_clear(struct view *v, MDB_txn *txn)
{
	for (int i = 0; i < DBI__N; i++) {
		int rc = mdb_drop(txn, v->dbi[i], 0);

		if (rc)
			return nedb__mdb(rc, "cannot clear view");
	}
	return 0;
}

size_t
nedb__dockey(unsigned char *out, const char *coll, const char *id)
{
	size_t c = strlen(coll), i = strlen(id);

	memcpy(out, coll, c);
	out[c] = 0;
	memcpy(out + c + 1, id, i);
	return c + 1 + i;
}

static uint64_t
get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void
put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

void
nedb__dochdr_get(struct dochdr *h, const void *p)
{
	const unsigned char *b = p;

	h->seq = get_le64(b);
	h->ts = (int64_t)get_le64(b + 8);
	h->exp = (int64_t)get_le64(b + 16);
	memcpy(h->hash, b + 24, HASH_LEN);
}

void
nedb__dochdr_put(void *p, const struct dochdr *h)
{
	unsigned char *b = p;

	put_le64(b, h->seq);
	put_le64(b + 8, (uint64_t)h->ts);
	put_le64(b + 16, (uint64_t)h->exp);
	memcpy(b + 24, h->hash, HASH_LEN);
}

static int
put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, const void *d,
    size_t dlen, unsigned flags)
{
	MDB_val kv = {klen, (void *)k}, dv = {dlen, (void *)d};

	return nedb__mdb(mdb_put(txn, dbi, &kv, &dv, flags),
			 "cannot write view");
}

static int
del(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen)
{
	MDB_val kv = {klen, (void *)k};
	int rc = mdb_del(txn, dbi, &kv, NULL);

	return rc == MDB_NOTFOUND ? 0 : nedb__mdb(rc, "cannot write view");
}

/* Removes the ttl entry of the current version of a document, if any. */
static int
drop_ttl(struct view *v, MDB_txn *txn, const unsigned char *key, size_t klen)
{
	unsigned char tk[8 + MAX_COLL + 1 + MAX_ID];
	MDB_val kv = {klen, (void *)key}, d;
	struct dochdr h;
	int rc = mdb_get(txn, v->dbi[DBI_DOCS], &kv, &d);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return nedb__mdb(rc, "cannot read view");
	nedb__dochdr_get(&h, d.mv_data);
	if (!h.exp)
		return 0;
	nedb__put_be64(tk, (uint64_t)h.exp);
	memcpy(tk + 8, key, klen);
	return del(txn, v->dbi[DBI_TTL], tk, 8 + klen);
}

int
nedb__apply(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char key[MAX_COLL + 1 + MAX_ID + 1 + 8];
	unsigned char sk[8];
	struct seqent se;
	struct verent ve;
	nedb_buf val = {0};
	size_t klen;
	int rc;

	nedb__put_be64(sk, o->seq);
	se.off = o->off;
	se.len = o->len;
	memcpy(se.hash, o->hash, HASH_LEN);
	if ((rc = put(txn, v->dbi[DBI_SEQS], sk, 8, &se, sizeof se,
		      MDB_APPEND)))
		return rc;
	if (o->kind == OP_GENESIS)
		return 0;
	if (o->kind == OP_CHECKPOINT)
		return put(txn, v->dbi[DBI_META], "ckpt", 4, sk, 8, 0);

	/* put and delete */
	nedb__put_be64(sk, o->nonce);
	if ((rc = put(txn, v->dbi[DBI_NONCES], o->client, strlen(o->client),
		      sk, 8, 0)))
		return rc;
	if (o->idem) {
		if ((rc = nedb__receipt(&val, o)) ||
		    (rc = put(txn, v->dbi[DBI_IDEM], o->idem, strlen(o->idem),
			      val.p, val.len - 1, 0)))
			goto done;
		val.len = 0;
	}
	klen = nedb__dockey(key, o->coll, o->id);
	if ((rc = drop_ttl(v, txn, key, klen)))
		goto done;
	if (o->kind == OP_PUT) {
		struct dochdr h = {o->seq, o->ts, o->exp, {0}};
		unsigned char hb[DOCHDR_LEN];

		memcpy(h.hash, o->hash, HASH_LEN);
		nedb__dochdr_put(hb, &h);
		if ((rc = nedb_buf_add(&val, hb, sizeof hb)) ||
		    (rc = nedb_buf_add(&val, o->doc, o->doclen)) ||
		    (rc = put(txn, v->dbi[DBI_DOCS], key, klen, val.p, val.len,
			      0)))
			goto done;
		if (o->exp) {
			unsigned char tk[8 + sizeof key];

			nedb__put_be64(tk, (uint64_t)o->exp);
			memcpy(tk + 8, key, klen);
			if ((rc = put(txn, v->dbi[DBI_TTL], tk, 8 + klen, "",
				      0, 0)))
				goto done;
		}
	} else if ((rc = del(txn, v->dbi[DBI_DOCS], key, klen)))
		goto done;
	ve.kind = (uint8_t)o->kind;
	ve.docoff = o->docoff;
	key[klen] = 0;
	nedb__put_be64(key + klen + 1, o->seq);
	rc = put(txn, v->dbi[DBI_VERS], key, klen + 9, &ve, sizeof ve, 0);
done:
	nedb_buf_free(&val);
	return rc;
}

/* The tables that make up the logical state, digested in this order. */
static const int state_tables[] = {DBI_DOCS, DBI_NONCES, DBI_IDEM, DBI_TTL};

int
nedb__view_digest(struct view *v, MDB_txn *txn, unsigned char out[HASH_LEN])
{
	blake2b_state s;
	MDB_cursor *c;
	MDB_val k, d;
	unsigned char len[8];
	int rc;

	blake2b_init(&s, HASH_LEN);
	for (size_t t = 0; t < sizeof state_tables / sizeof *state_tables;
	     t++) {
		unsigned char tag = (unsigned char)state_tables[t];

		if ((rc = mdb_cursor_open(txn, v->dbi[state_tables[t]], &c)))
			return nedb__mdb(rc, "cannot read view");
		blake2b_update(&s, &tag, 1);
		while (!(rc = mdb_cursor_get(c, &k, &d, MDB_NEXT))) {
			nedb__put_be64(len, k.mv_size);
			blake2b_update(&s, len, 8);
			blake2b_update(&s, k.mv_data, k.mv_size);
			nedb__put_be64(len, d.mv_size);
			blake2b_update(&s, len, 8);
			blake2b_update(&s, d.mv_data, d.mv_size);
		}
		mdb_cursor_close(c);
		if (rc != MDB_NOTFOUND)
			return nedb__mdb(rc, "cannot read view");
	}
	blake2b_final(&s, out, HASH_LEN);
	return 0;
}

/* Renders a key for a message: NULs as '/', binary as hex. */
static void
show_key(char *out, size_t n, int dbi, const MDB_val *k)
{
	const unsigned char *p = k->mv_data;
	size_t i, o = 0;

	if (dbi == DBI_SEQS && k->mv_size == 8) {
		snprintf(out, n, "seq %llu",
			 (unsigned long long)nedb__get_be64(p));
		return;
	}
	for (i = 0; i < k->mv_size && o + 4 < n; i++) {
		if (p[i] == 0)
			out[o++] = '/';
		else if (p[i] < 0x20 || p[i] >= 0x7f)
			o += (size_t)snprintf(out + o, n - o, "\\x%02x", p[i]);
		else
			out[o++] = (char)p[i];
	}
	out[o] = 0;
}

int
nedb__view_compare(struct view *a, MDB_txn *ta, struct view *b, MDB_txn *tb,
		   char *why, size_t whylen)
{
	MDB_cursor *ca = NULL, *cb = NULL;
	MDB_val ka, da, kb, db;
	char kbuf[160];
	int rc = 0;

	for (int t = 0; t < DBI__N; t++) {
		int ra, rb;

		if (mdb_cursor_open(ta, a->dbi[t], &ca) ||
		    mdb_cursor_open(tb, b->dbi[t], &cb)) {
			rc = nedb__err(NEDB_EIO, "cannot read view");
			goto done;
		}
		for (;;) {
			ra = mdb_cursor_get(ca, &ka, &da, MDB_NEXT);
			rb = mdb_cursor_get(cb, &kb, &db, MDB_NEXT);
			if (ra == MDB_NOTFOUND && rb == MDB_NOTFOUND)
				break;
			if (ra == MDB_NOTFOUND) {
				show_key(kbuf, sizeof kbuf, t, &kb);
				snprintf(why, whylen, "view lacks %s '%s'",
					 dbi_names[t], kbuf);
				rc = 1;
				goto done;
			}
			if (rb == MDB_NOTFOUND || ka.mv_size != kb.mv_size ||
			    memcmp(ka.mv_data, kb.mv_data, ka.mv_size)) {
				show_key(kbuf, sizeof kbuf, t, &ka);
				snprintf(why, whylen, "view has extra %s '%s'",
					 dbi_names[t], kbuf);
				rc = 1;
				goto done;
			}
			if (da.mv_size != db.mv_size ||
			    memcmp(da.mv_data, db.mv_data, da.mv_size)) {
				show_key(kbuf, sizeof kbuf, t, &ka);
				snprintf(why, whylen, "view differs from the log "
					 "in %s '%s'", dbi_names[t], kbuf);
				rc = 1;
				goto done;
			}
		}
		mdb_cursor_close(ca);
		mdb_cursor_close(cb);
		ca = cb = NULL;
	}
done:
	if (ca)
		mdb_cursor_close(ca);
	if (cb)
		mdb_cursor_close(cb);
	return rc;
}
