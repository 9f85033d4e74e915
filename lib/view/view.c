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
 *   colls   coll -> be64 number of live documents
 *   nodes   node key "coll:id" -> be64 node number (in order of first use)
 *   nodeids be64 node number -> node key
 *   edges   be64(from) rel \0 be64(to) -> be64 seq of the link (HEAD)
 *   redges  be64(to) rel \0 be64(from) -> be64 seq (HEAD, reversed)
 *   edgehist, redgehist  the same keys + be64(seq) -> kind (link/unlink):
 *           every edge change, for --as-of
 *   idxdef  coll \0 field -> kind name ("eq", "ordered", "search"), one
 *           datum per kind (duplicates sorted)
 *   idx     coll \0 field \0 K \0 entry key -> id (duplicates sorted), K
 *           the kind's letter: index.c
 *   usage   coll \0 field -> be64 times a query filtered or sorted on it
 *           (auto_index; statistics, not state: not digested or compared)
 *   tree    be64 tlog StoredHashIndex(level, n) -> SHA-256 of that
 *           complete subtree of the ops' Merkle tree, for subtrees of 256
 *           ops or more (proof/tree.h): a function of the op hashes,
 *           compared but not digested
 *   times   be64(ts) -> be64 seq of the last op at that time: timeidx.c
 *           (derived: compared, not digested)
 *   files   name \0 be64(version) -> the version's record (file.h:
 *           seq, ts, size, chunks, root, manifest): lib/file
 *
 * The bytes of every key and value are codec.c's (codec.h): nothing else
 * builds or slices them.
 *
 * Node keys are numbered because two of them and a relation would not fit
 * LMDB's 511-byte key limit.  Numbers are handed out by apply, so they
 * too are a function of the log.
 *
 * Invariants:
 *  1. nedb__apply is the only function that changes docs, vers, seqs,
 *     nonces, idem, ttl and tree.  Writes, catch-up, --rebuild and the
 *     determinism check all call it, so the view is a pure function of
 *     the log.
 *  2. apply reads nothing but the op and the view: no clock, no
 *     environment.  The op carries its timestamp and expiry.
 *  3. "applied" is written in the same LMDB transaction as the ops it
 *     covers, so the view never claims an op it has not applied.
 */
#include "b2.h"
#include <stdio.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "kv.h"
#include "tree.h"
#include "filestore.h"

static const char *const dbi_names[DBI__N] = {
	"meta", "docs", "vers", "seqs", "nonces", "idem", "ttl", "colls",
	"nodes", "nodeids", "edges", "redges", "edgehist", "redgehist",
	"idxdef", "idx", "usage", "tree", "times", "files", "elems"
};

/*
 * The address space the view may grow into: 256 GiB, or NEDB_MAPSIZE
 * bytes (at least 16 MiB) where less can be reserved (valgrind, a
 * ulimit -v).  Only the pages in use take memory or disk.
 */
static int
view_mapsize(size_t *out)
{
	const char *e = getenv("NEDB_MAPSIZE");
	unsigned long long n;
	char *end;

	*out = (size_t)1 << 38;
	if (!e || !*e)
		return 0;
	errno = 0;
	n = strtoull(e, &end, 10);
	if (*end || errno || *e == '-' || n < (1u << 24))
		return nedb__err(NEDB_EUSAGE, "bad NEDB_MAPSIZE '%.40s': want a "
				 "number of bytes, at least 16777216", e);
	*out = (size_t)n;
	return 0;
}

int
nedb__view_wbegin(struct view *v, MDB_txn **txn)
{
	v->wgen++;
	return mdb_txn_begin(v->env, NULL, 0, txn);
}

int
nedb__view_open(struct view *v, const char *path, unsigned envflags,
		const struct nedb_crypt *crypt)
{
	size_t mapsize;
	int rc;

	memset(v, 0, sizeof *v);
	v->crypt = crypt;
	if ((rc = view_mapsize(&mapsize)))
		return rc;
	if ((rc = mdb_env_create(&v->env)))
		return nedb__mdb(rc, "cannot create view");
	mdb_env_set_maxdbs(v->env, 32);
	mdb_env_set_maxreaders(v->env, 1022);
	mdb_env_set_mapsize(v->env, mapsize);
	rc = mdb_env_open(v->env, path, MDB_NOSUBDIR | envflags, 0600);
	if (rc) {
		mdb_env_close(v->env);
		v->env = NULL;
		return nedb__mdb(rc, "cannot open view");
	}
	if ((rc = nedb__kv_open(v))) {
		mdb_env_close(v->env);
		v->env = NULL;
	}
	return rc;
}

void
nedb__view_close(struct view *v)
{
	if (v->env)
		mdb_env_close(v->env);
	v->env = NULL;
	nedb__kv_close(v);	/* after LMDB: its comparators use the slot */
	for (int i = 0; i < EL_RING; i++)
		nedb_buf_free(&v->elring[i]);
}

int
nedb__view_dbis(struct view *v, MDB_txn *txn, bool create)
{
	for (int i = 0; i < DBI__N; i++) {
		unsigned want = i == DBI_IDX || i == DBI_IDXDEF ?
				MDB_DUPSORT : 0, have = 0;
		int rc = mdb_dbi_open(txn, dbi_names[i],
				      (create ? MDB_CREATE : 0) | want,
				      &v->dbi[i]);

		/*
		 * LMDB keeps a table's flags as it was made: one of an older
		 * view format with others (idxdef before indexes of several
		 * kinds) means that view must be rebuilt.  With create the
		 * table is made again now.
		 */
		if (!rc && !(rc = mdb_dbi_flags(txn, v->dbi[i], &have)) &&
		    (have ^ want) & MDB_DUPSORT) {
			if (!create)
				return NEDB_ENOTFOUND;
			if ((rc = mdb_drop(txn, v->dbi[i], 1)) == 0)
				rc = mdb_dbi_open(txn, dbi_names[i],
						  MDB_CREATE | want,
						  &v->dbi[i]);
		}
		if (!rc)
			rc = nedb__kv_dbi(v, txn, i);
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
	int rc = nedb__kv_get(v, txn, DBI_META, &k, &d);

	memset(a, 0, sizeof *a);
	/* a view written without the key (or with another) does not
	 * open: rebuilt, as one of another format is */
	if (rc == MDB_NOTFOUND || rc == NEDB_ECORRUPT)
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

	return nedb__mdb(nedb__kv_put(v, txn, DBI_META, &k, &d, 0),
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

static int
put(struct view *v, MDB_txn *txn, int t, const void *k, size_t klen,
    const void *d, size_t dlen, unsigned flags)
{
	MDB_val kv = {klen, (void *)k}, dv = {dlen, (void *)d};

	return nedb__mdb(nedb__kv_put(v, txn, t, &kv, &dv, flags),
			 "cannot write view");
}

static int
del(struct view *v, MDB_txn *txn, int t, const void *k, size_t klen)
{
	MDB_val kv = {klen, (void *)k};
	int rc = nedb__kv_del(v, txn, t, &kv, NULL);

	return rc == MDB_NOTFOUND ? 0 : nedb__mdb(rc, "cannot write view");
}

/*
 * The HEAD read (internal.h): every read of a document's current version
 * (nedb_get, queries, a write's precondition) comes through here.
 */
int
nedb__doc_head(struct view *v, MDB_txn *txn, const char *coll,
	       const char *id, size_t idlen, int64_t now, struct dochdr *h,
	       const char **doc, size_t *len)
{
	unsigned char key[DOCKEY_MAX];
	MDB_val k, d;
	int rc;

	if (idlen > MAX_ID)
		return NEDB_ENOTFOUND;
	k.mv_size = nedb__dockey_n(key, coll, id, idlen);
	k.mv_data = key;
	if ((rc = nedb__kv_get(v, txn, DBI_DOCS, &k, &d)))
		return rc == MDB_NOTFOUND ? NEDB_ENOTFOUND :
		       nedb__mdb(rc, "cannot read view");
	if ((rc = nedb__docval_get(d.mv_data, d.mv_size, h, doc, len)))
		return rc;
	if (h->exp && h->exp <= now)
		return NEDB_ENOTFOUND;
	if (nedb__el_is(*doc, *len)) {
		nedb_buf *b = &v->elring[v->elnext++ % EL_RING];

		b->len = 0;
		if ((rc = nedb__el_doc(v, txn, key, k.mv_size, *doc, *len, b)))
			return rc;
		*doc = b->p;
		*len = b->len;
	}
	return 0;
}

int
nedb__el_doc(struct view *v, MDB_txn *txn, const unsigned char *dk,
	     size_t dklen, const char *doc, size_t len, nedb_buf *out)
{
	struct elhdr e;
	int rc;

	if ((rc = nedb__el_hdr(doc, len, &e)))
		return rc;
	return nedb__el_text(v, txn, dk, dklen, &e, out);
}

int
nedb__el_head(struct view *v, MDB_txn *txn, const char *coll,
	      const char *id, size_t idlen, int64_t now, struct dochdr *h,
	      struct elhdr *e)
{
	unsigned char key[DOCKEY_MAX];
	const char *doc;
	MDB_val k, d;
	size_t len;
	int rc;

	if (idlen > MAX_ID || v->crypt)
		return v->crypt ? 1 : NEDB_ENOTFOUND;
	k.mv_size = nedb__dockey_n(key, coll, id, idlen);
	k.mv_data = key;
	if ((rc = nedb__kv_get(v, txn, DBI_DOCS, &k, &d)))
		return rc == MDB_NOTFOUND ? NEDB_ENOTFOUND :
		       nedb__mdb(rc, "cannot read view");
	if ((rc = nedb__docval_get(d.mv_data, d.mv_size, h, &doc, &len)))
		return rc;
	if (h->exp && h->exp <= now)
		return NEDB_ENOTFOUND;
	if (!nedb__el_is(doc, len))
		return 1;
	return nedb__el_hdr(doc, len, e);
}

/* Removes the ttl entry of the current version of a document, if any. */
static int
drop_ttl(struct view *v, MDB_txn *txn, const unsigned char *key, size_t klen)
{
	unsigned char tk[TTLKEY_MAX];
	MDB_val kv = {klen, (void *)key}, d;
	struct dochdr h;
	const char *doc;
	size_t len;
	int rc = nedb__kv_get(v, txn, DBI_DOCS, &kv, &d);

	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return nedb__mdb(rc, "cannot read view");
	if ((rc = nedb__docval_get(d.mv_data, d.mv_size, &h, &doc, &len)))
		return rc;
	if (!h.exp)
		return 0;
	return del(v, txn, DBI_TTL, tk, nedb__ttlkey(tk, h.exp, key,
							  klen));
}

/* Adds delta to a collection's count of live documents. */
static int
count_coll(struct view *v, MDB_txn *txn, const char *coll, int delta)
{
	size_t len = strlen(coll);
	MDB_val k = {len, (void *)coll}, d;
	unsigned char b[NUM_LEN];
	uint64_t n = 0;
	int rc;

	/* a load into one collection reads its count once a transaction
	 * (struct view's ccount: good within the one it was read in) */
	if (nedb__view_current(v, v->ccount.gen) &&
	    !strcmp(v->ccount.coll, coll))
		n = v->ccount.n;
	else if (!(rc = nedb__kv_get(v, txn, DBI_COLLS, &k, &d))) {
		if ((rc = nedb__num_get(d.mv_data, d.mv_size, &n)))
			return rc;
	} else if (rc != MDB_NOTFOUND)
		return nedb__mdb(rc, "cannot read view");
	n += (uint64_t)(int64_t)delta;
	v->ccount.gen = 0;
	if (n == 0)
		rc = del(v, txn, DBI_COLLS, coll, len);
	else {
		nedb__num_put(b, n);
		rc = put(v, txn, DBI_COLLS, coll, len, b, sizeof b, 0);
	}
	if (!rc && len <= MAX_COLL) {
		memcpy(v->ccount.coll, coll, len + 1);
		v->ccount.n = n;
		v->ccount.gen = v->wgen;
	}
	return rc;
}

int
nedb__node_number(struct view *v, MDB_txn *txn, const char *node,
		  bool create, uint64_t *out)
{
	MDB_val k = {strlen(node), (void *)node}, d;
	unsigned char b[NUM_LEN], nk[8];
	MDB_stat st;
	int rc = nedb__kv_get(v, txn, DBI_NODES, &k, &d);

	if (rc == 0)
		return nedb__num_get(d.mv_data, d.mv_size, out);
	if (rc != MDB_NOTFOUND)
		return nedb__mdb(rc, "cannot read view");
	if (!create)
		return NEDB_ENOTFOUND;
	if ((rc = mdb_stat(txn, v->dbi[DBI_NODES], &st)))
		return nedb__mdb(rc, "cannot read view");
	*out = st.ms_entries + 1;
	nedb__num_put(b, *out);
	if ((rc = put(v, txn, DBI_NODES, node, strlen(node), b, sizeof b,
		      0)))
		return rc;
	return put(v, txn, DBI_NODEIDS, nk, nedb__nodeid_key(nk, *out),
		   node, strlen(node), MDB_APPEND);
}

static int
apply_edge(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char k[EDGEHIST_MAX], rk[EDGEHIST_MAX], sq[NUM_LEN];
	unsigned char kind = nedb__edgehist_val(o->kind);
	uint64_t from, to;
	size_t n;
	int rc;

	if ((rc = nedb__node_number(v, txn, o->from, true, &from)) ||
	    (rc = nedb__node_number(v, txn, o->to, true, &to)))
		return rc;
	n = nedb__edgekey(k, from, o->rel, to);
	nedb__edgekey(rk, to, o->rel, from);
	nedb__num_put(sq, o->seq);
	if (o->kind == OP_LINK) {
		if ((rc = put(v, txn, DBI_EDGES, k, n, sq, sizeof sq, 0)) ||
		    (rc = put(v, txn, DBI_REDGES, rk, n, sq, sizeof sq,
			      0)))
			return rc;
	} else if ((rc = del(v, txn, DBI_EDGES, k, n)) ||
		   (rc = del(v, txn, DBI_REDGES, rk, n)))
		return rc;
	nedb__edgehist_key(rk, n, o->seq);
	n = nedb__edgehist_key(k, n, o->seq);
	if ((rc = put(v, txn, DBI_EDGEHIST, k, n, &kind, 1, 0)))
		return rc;
	return put(v, txn, DBI_REDGEHIST, rk, n, &kind, 1, 0);
}

static int whole_text(struct view *v, MDB_txn *txn,
		      const unsigned char *key, size_t klen, const char **doc,
		      size_t *len, nedb_buf *buf);

/* Deletes every live document of a collection; each gets a delete
 * version at the drop's seq, so the past still sees them. */
static int
apply_drop(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char key[VERKEY_MAX];
	size_t c = nedb__collprefix(key, o->coll);
	struct kvcur cur;
	MDB_val k, d;
	nedb_buf text = {0};
	bool idx = nedb__index_any(v, txn, o->coll);
	int rc;

	k.mv_size = c;
	k.mv_data = key;
	if ((rc = nedb__kv_copen(&cur, v, txn, DBI_DOCS)))
		return nedb__mdb(rc, "cannot read view");
	for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc;
	     rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE)) {
		struct verent ve = {OP_DELETE};
		unsigned char tk[TTLKEY_MAX];
		struct dochdr h;
		const char *doc;
		size_t klen = k.mv_size, len;

		if (!nedb__key_in(k.mv_data, klen, key, c) ||
		    klen > DOCKEY_MAX)
			break;
		memcpy(key, k.mv_data, klen);
		if ((rc = nedb__docval_get(d.mv_data, d.mv_size, &h, &doc,
					   &len)))
			break;
		if (nedb__el_is(doc, len)) {
			/* its elements go; its text only for the indexes */
			if ((idx && (rc = whole_text(v, txn, key, klen, &doc,
						     &len, &text))) ||
			    (rc = nedb__el_clear(v, txn, key, klen)))
				break;
		}
		if (!nedb__el_is(doc, len) &&
		    (rc = nedb__index_doc(v, txn, o->coll,
					  (char *)key + c, klen - c, doc, len,
					  NULL, 0)))
			break;
		if (h.exp && (rc = del(v, txn, DBI_TTL, tk,
				       nedb__ttlkey(tk, h.exp, key, klen))))
			break;
		if ((rc = nedb__kv_cdel(&cur, 0))) {
			rc = nedb__mdb(rc, "cannot write view");
			break;
		}
		if ((rc = put(v, txn, DBI_VERS, key,
			      nedb__verkey_of(key, klen, o->seq), &ve,
			      sizeof ve, 0)))
			break;
		k.mv_size = nedb__collprefix(key, o->coll);
		k.mv_data = key;
	}
	nedb__kv_cclose(&cur);
	nedb_buf_free(&text);
	if ((rc = nedb__mdb_end(rc)))
		return rc;
	v->ccount.gen = 0;	/* count_coll's memory of it, if any */
	return del(v, txn, DBI_COLLS, o->coll, strlen(o->coll));
}

/* Sets (exp > 0) or clears a document's expiry; its text is unchanged,
 * so no new version is recorded. */
static int
apply_expire(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char key[DOCKEY_MAX], tk[TTLKEY_MAX];
	size_t klen = nedb__dockey(key, o->coll, o->id), len;
	MDB_val kv = {klen, key}, d;
	struct dochdr h;
	const char *doc;
	nedb_buf val = {0};
	int rc;

	if ((rc = drop_ttl(v, txn, key, klen)))
		return rc;
	if ((rc = nedb__kv_get(v, txn, DBI_DOCS, &kv, &d)))
		return rc == MDB_NOTFOUND ? 0 : nedb__mdb(rc, "cannot read "
							  "view");
	if ((rc = nedb__docval_get(d.mv_data, d.mv_size, &h, &doc, &len)))
		return rc;
	h.exp = o->exp;
	if ((rc = nedb__docval_put(&val, &h, doc, len)))
		return rc;
	rc = put(v, txn, DBI_DOCS, key, klen, val.p, val.len, 0);
	nedb_buf_free(&val);
	if (rc || !o->exp)
		return rc;
	return put(v, txn, DBI_TTL, tk, nedb__ttlkey(tk, o->exp, key,
							  klen), "", 0, 0);
}

/*
 * The text of a docs value's document in *doc: itself, or for one kept
 * as elements the whole text, rebuilt into buf.
 */
static int
whole_text(struct view *v, MDB_txn *txn, const unsigned char *key,
	   size_t klen, const char **doc, size_t *len, nedb_buf *buf)
{
	int rc;

	if (!nedb__el_is(*doc, *len))
		return 0;
	buf->len = 0;
	if ((rc = nedb__el_doc(v, txn, key, klen, *doc, *len, buf)))
		return rc;
	*doc = buf->p;
	*len = buf->len;
	return 0;
}

/*
 * Stores text as coll/id's HEAD with header h: as elements when it is a
 * big Redis value (since: patch bytes since its last put), else whole.
 * old: the header of the elements it has now, or NULL; those of them
 * that the new text repeats are kept.
 */
static int
store_doc(struct view *v, MDB_txn *txn, const unsigned char *key,
	  size_t klen, const struct dochdr *h, const char *text, size_t len,
	  uint64_t since, const struct elhdr *old)
{
	nedb_buf val = {0}, el = {0};
	int rc = 0;

	if (!v->crypt && nedb__el_candidate(text, len) &&
	    (rc = nedb__el_encode(v, txn, key, klen, text, len, since, old,
				  &el)) == 1) {
		text = el.p;
		len = el.len;
		rc = 0;
	} else if (!rc && old)
		rc = nedb__el_clear(v, txn, key, klen);
	if (!rc && !(rc = nedb__docval_put(&val, h, text, len)))
		rc = put(v, txn, DBI_DOCS, key, klen, val.p, val.len, 0);
	nedb_buf_free(&val);
	nedb_buf_free(&el);
	return rc;
}

/* Put and delete: the document's new HEAD (or none), its version, its
 * index entries, its expiry and its collection's count. */
static int
apply_doc(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char key[VERKEY_MAX];
	struct verent ve;
	struct dochdr nh = {o->seq, o->ts, o->exp, {0}};
	nedb_buf val = {0}, oldtext = {0};
	MDB_val kv, old;
	size_t klen;
	struct elhdr olde;
	bool existed, stored = false, same = false, el = false;
	bool cand = o->kind == OP_PUT && !v->crypt &&
		    nedb__el_candidate(o->doc, o->doclen);
	int rc;

	klen = nedb__dockey(key, o->coll, o->id);
	kv.mv_size = klen;
	kv.mv_data = key;
	memcpy(nh.hash, o->hash, HASH_LEN);
	if (o->kind == OP_PUT && !cand &&
	    (rc = nedb__docval_put(&val, &nh, o->doc, o->doclen)))
		goto done;
	/* A put of a new document (a bulk load's every one) stores it in
	 * one search of the table; on a plaintext view the search that
	 * finds a document there hands back the old one, to be replaced
	 * below.  An encrypted view's old one is read (and opened), and so
	 * is the old one of a big Redis value (elements). */
	if (o->kind == OP_PUT && !v->crypt && !cand) {
		old.mv_size = val.len;
		old.mv_data = val.p;
		rc = mdb_put(txn, v->dbi[DBI_DOCS], &kv, &old,
			     MDB_NOOVERWRITE);
		if (rc && rc != MDB_KEYEXIST) {
			rc = nedb__mdb(rc, "cannot write view");
			goto done;
		}
		stored = rc == 0;
		rc = stored ? MDB_NOTFOUND : 0;
	} else if ((rc = nedb__kv_get(v, txn, DBI_DOCS, &kv, &old)) &&
		   rc != MDB_NOTFOUND) {
		rc = nedb__mdb(rc, "cannot read view");
		goto done;
	}
	existed = rc == 0;
	if (existed) {
		unsigned char tk[TTLKEY_MAX];
		struct dochdr h;
		const char *doc;
		size_t len;

		if ((rc = nedb__docval_get(old.mv_data, old.mv_size, &h, &doc,
					   &len)))
			goto done;
		el = nedb__el_is(doc, len);
		if (el) {
			struct elhdr e;

			if ((rc = nedb__el_hdr(doc, len, &e)))
				goto done;
			olde = e;	/* its numbers only: pre moves */
			/* a full version repeats the text: the header only */
			same = o->kind == OP_PUT && cand &&
			       nedb__el_textlen(&e) == o->doclen;
			if ((same || nedb__index_any(v, txn, o->coll)) &&
			    (rc = whole_text(v, txn, key, klen, &doc, &len,
					     &oldtext)))
				goto done;
			same = same && len == o->doclen &&
			       !memcmp(doc, o->doc, len);
			if (same) {
				e.since = 0;
				if ((rc = nedb__el_hdr_put(&val, &e)))
					goto done;
			}
		}
		/* the old document's index entries go and a put's new ones
		 * come in one walk of the collection's indexes, while the
		 * old text is still where the search left it */
		if (!same && (!el || oldtext.len) &&
		    (rc = nedb__index_doc(v, txn, o->coll, o->id,
					  strlen(o->id), doc, len,
					  o->kind == OP_PUT ? o->doc : NULL,
					  o->kind == OP_PUT ? o->doclen : 0)))
			goto done;
		/* a big value's new text keeps what it repeats (store_doc) */
		if (el && !same && !cand &&
		    (rc = nedb__el_clear(v, txn, key, klen)))
			goto done;
		/* drop_ttl's work, from the header in hand: a second read
		 * of the document would cost a second search (and, in an
		 * encrypted view, its decryption) for the same bytes */
		if (h.exp && (rc = del(v, txn, DBI_TTL, tk, nedb__ttlkey(
				       tk, h.exp, key, klen))))
			goto done;
	}
	if (o->kind == OP_PUT) {
		if (same) {
			nedb_buf hv = {0};

			rc = nedb__docval_put(&hv, &nh, val.p, val.len);
			if (!rc)
				rc = put(v, txn, DBI_DOCS, key, klen, hv.p,
					 hv.len, 0);
			nedb_buf_free(&hv);
			if (rc)
				goto done;
		} else if (cand) {
			if ((rc = store_doc(v, txn, key, klen, &nh, o->doc,
					    o->doclen, 0, el ? &olde : NULL)))
				goto done;
		} else if (!stored && (rc = put(v, txn, DBI_DOCS, key, klen,
						val.p, val.len, 0)))
			goto done;
		if (!existed && (rc = nedb__index_doc(v, txn, o->coll, o->id,
						      strlen(o->id), NULL, 0,
						      o->doc, o->doclen)))
			goto done;
		if (!existed && (rc = count_coll(v, txn, o->coll, 1)))
			goto done;
		if (o->exp) {
			unsigned char tk[TTLKEY_MAX];

			if ((rc = put(v, txn, DBI_TTL, tk, nedb__ttlkey(
				      tk, o->exp, key, klen), "", 0, 0)))
				goto done;
		}
	} else {
		if ((rc = del(v, txn, DBI_DOCS, key, klen)))
			goto done;
		if (existed && (rc = count_coll(v, txn, o->coll, -1)))
			goto done;
	}
	ve.kind = (uint8_t)o->kind;
	rc = put(v, txn, DBI_VERS, key, nedb__verkey_of(key, klen, o->seq),
		 &ve, sizeof ve, 0);
done:
	nedb_buf_free(&val);
	nedb_buf_free(&oldtext);
	return rc;
}

static int
not_applied(const struct op *o)
{
	return nedb__err(NEDB_ECORRUPT, "corrupt log: patch op %llu does not "
			 "apply to '%s/%s': %s", (unsigned long long)o->seq,
			 o->coll, o->id, nedb_errmsg());
}

/*
 * A Redis operator on a value kept as elements (h its new header, e its
 * elements' from the old): a few entries change, and the texts are
 * rebuilt only for the collection's indexes, if it has any.  1 when the
 * elements cannot hold the result (nothing changed).
 */
static int
patch_elems(struct view *v, MDB_txn *txn, const struct op *o,
	    unsigned char *key, size_t klen, const struct dochdr *h,
	    struct elhdr *e)
{
	struct verent ve = {OP_PATCH};
	nedb_buf oldt = {0}, newt = {0}, eh = {0}, val = {0};
	bool idx = nedb__index_any(v, txn, o->coll);
	int rc;

	if (idx && (rc = nedb__el_text(v, txn, key, klen, e, &oldt)))
		goto done;
	if ((rc = nedb__el_apply(v, txn, key, klen, e, o->id, o->doc, o->doclen))) {
		if (rc < 0 && rc != NEDB_EIO)
			rc = not_applied(o);
		goto done;
	}
	e->since += o->doclen;
	if (idx && ((rc = nedb__el_text(v, txn, key, klen, e, &newt)) ||
		    (rc = nedb__index_doc(v, txn, o->coll, o->id,
					  strlen(o->id), oldt.p, oldt.len,
					  newt.p, newt.len))))
		goto done;
	if ((rc = nedb__el_hdr_put(&eh, e)) ||
	    (rc = nedb__docval_put(&val, h, eh.p, eh.len)) ||
	    (rc = put(v, txn, DBI_DOCS, key, klen, val.p, val.len, 0)))
		goto done;
	rc = put(v, txn, DBI_VERS, key, nedb__verkey_of(key, klen, o->seq),
		 &ve, sizeof ve, 0);
done:
	nedb_buf_free(&oldt);
	nedb_buf_free(&newt);
	nedb_buf_free(&eh);
	nedb_buf_free(&val);
	return rc;
}

/*
 * A patch: the document's next version is its latest (which must be op
 * base: anything else is a log that does not say what it means) changed
 * by the update (engine/patch.c), with the same expiry; then what a
 * put over it does.  A patch whose update was erased makes the erasure
 * marker the version, as a redacted put does.  A value kept as elements
 * takes a Redis operator there (view/elems.c); anything else is applied
 * to its whole text.
 */
static int
apply_patch(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char key[VERKEY_MAX];
	struct verent ve = {OP_PATCH};
	nedb_buf doc = {0}, prev = {0}, wt = {0};
	struct dochdr h;
	struct elhdr e;
	const char *old;
	size_t klen, oldlen;
	uint64_t since;
	MDB_val kv, d;
	bool el;
	int rc;

	klen = nedb__dockey(key, o->coll, o->id);
	kv.mv_size = klen;
	kv.mv_data = key;
	rc = nedb__kv_get(v, txn, DBI_DOCS, &kv, &d);
	if (rc && rc != MDB_NOTFOUND)
		return nedb__mdb(rc, "cannot read view");
	if (!rc && (rc = nedb__docval_get(d.mv_data, d.mv_size, &h, &old,
					  &oldlen)))
		return rc;
	if (rc == MDB_NOTFOUND || h.seq != o->base)
		return nedb__err(NEDB_ECORRUPT, "corrupt log: patch op %llu "
				 "changes seq %llu of '%s/%s', which is not "
				 "its latest version",
				 (unsigned long long)o->seq,
				 (unsigned long long)o->base, o->coll, o->id);
	h.seq = o->seq;
	h.ts = o->ts;
	memcpy(h.hash, o->hash, HASH_LEN);
	/* the old text outlives the puts below (index entries, the new
	 * version), which may move or reuse what the search returned */
	if (nedb_buf_add(&prev, old, oldlen)) {
		rc = nedb__mdb(ENOMEM, "cannot read view");
		goto done;
	}
	old = prev.p;
	since = o->doclen;
	if ((el = nedb__el_is(old, oldlen))) {
		if ((rc = nedb__el_hdr(old, oldlen, &e)))
			goto done;
		since += e.since;
		if (!o->redacted && nedb__redis_patch_is(o->doc, o->doclen)) {
			rc = patch_elems(v, txn, o, key, klen, &h, &e);
			if (rc != 1)
				goto done;
		}
		if ((rc = whole_text(v, txn, key, klen, &old, &oldlen,
				     &wt)))
			goto done;
	}
	if (o->redacted)
		rc = nedb_buf_add(&doc, o->doc, o->doclen);
	else
		rc = nedb__patch_doc(&doc, old, oldlen, o->doc, o->doclen);
	if (rc) {
		if (rc != NEDB_EIO)
			rc = not_applied(o);
		goto done;
	}
	if ((rc = nedb__index_doc(v, txn, o->coll, o->id, strlen(o->id), old,
				  oldlen, doc.p, doc.len)) ||
	    (rc = store_doc(v, txn, key, klen, &h, doc.p, doc.len, since,
			     el ? &e : NULL)))
		goto done;
	rc = put(v, txn, DBI_VERS, key, nedb__verkey_of(key, klen, o->seq),
		 &ve, sizeof ve, 0);
done:
	nedb_buf_free(&doc);
	nedb_buf_free(&prev);
	nedb_buf_free(&wt);
	return rc;
}

static int
apply_genesis(struct view *v, MDB_txn *txn, const struct op *o)
{
	return 0;
}

static int
apply_checkpoint(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char sk[8];

	nedb__num_put(sk, o->seq);
	return put(v, txn, DBI_META, "ckpt", 4, sk, 8, 0);
}

static int
apply_index(struct view *v, MDB_txn *txn, const struct op *o)
{
	return nedb__index_create(v, txn, o->coll, o->field, o->ixkind);
}

static int
apply_unindex(struct view *v, MDB_txn *txn, const struct op *o)
{
	return nedb__index_drop(v, txn, o->coll, o->field, o->ixkind);
}

static int
seq_is(uint64_t seq, void *payload)
{
	return seq == *(uint64_t *)payload;
}

/*
 * A redaction: when the HEAD version of the document is one it erases,
 * its row becomes the marker (header kept: seq, ts, exp and op hash),
 * and its index entries the marker's.  Older versions are read from
 * their lines, which the redaction rewrites (engine/redact.c); a put
 * replayed from a rewritten line is the marker already, and this is
 * then a no-op that writes the same bytes.
 */
static int
apply_redact(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char key[VERKEY_MAX];
	nedb_buf val = {0}, mark = {0}, text = {0};
	struct dochdr h;
	const char *doc;
	size_t klen, len;
	MDB_val kv, old;
	int rc;

	klen = nedb__dockey(key, o->coll, o->id);
	kv.mv_size = klen;
	kv.mv_data = key;
	rc = nedb__kv_get(v, txn, DBI_DOCS, &kv, &old);
	if (rc == MDB_NOTFOUND)
		return 0;		/* deleted: no HEAD text */
	if (rc)
		return nedb__mdb(rc, "cannot read view");
	if ((rc = nedb__docval_get(old.mv_data, old.mv_size, &h, &doc, &len)))
		return rc;
	if (!nedb__each_seq(o->seqs, o->seqs_len, seq_is, &h.seq))
		return 0;		/* HEAD is not one it erases */
	if (nedb__el_is(doc, len) &&
	    ((rc = whole_text(v, txn, key, klen, &doc, &len, &text)) ||
	     (rc = nedb__el_clear(v, txn, key, klen))))
		goto done;
	if ((rc = nedb__redacted_doc(&mark, o->id, strlen(o->id), o->seq)) ||
	    (rc = nedb__index_doc(v, txn, o->coll, o->id, strlen(o->id), doc,
				  len, mark.p, mark.len)) ||
	    (rc = nedb__docval_put(&val, &h, mark.p, mark.len)))
		goto done;
	rc = put(v, txn, DBI_DOCS, key, klen, val.p, val.len, 0);
done:
	nedb_buf_free(&val);
	nedb_buf_free(&mark);
	nedb_buf_free(&text);
	return rc;
}

/* A version of a file: its record under its name and number (the
 * chunks themselves are in the file store, lib/file). */
static int
apply_file(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char key[FILEKEY_MAX], val[FVER_LEN];
	struct fver f;

	f.seq = o->seq;
	f.ts = o->ts;
	f.size = o->fsize;
	f.chunks = o->fchunks;
	memcpy(f.root, o->froot, sizeof f.root);
	memcpy(f.man, o->fman, sizeof f.man);
	nedb__fver_put(val, &f);
	return put(v, txn, DBI_FILES, key,
		   nedb__filekey(key, o->name, (uint64_t)o->fversion), val,
		   sizeof val, 0);
}

/* What each kind of op does to the view (its description: optab.c). */
const nedb__apply_fn nedb__apply_kind[OP__N] = {
	[OP_GENESIS] = apply_genesis,
	[OP_PUT] = apply_doc,
	[OP_DELETE] = apply_doc,
	[OP_CHECKPOINT] = apply_checkpoint,
	[OP_LINK] = apply_edge,
	[OP_UNLINK] = apply_edge,
	[OP_INDEX] = apply_index,
	[OP_UNINDEX] = apply_unindex,
	[OP_DROP] = apply_drop,
	[OP_EXPIRE] = apply_expire,
	[OP_REDACT] = apply_redact,
	[OP_FILE] = apply_file,
	[OP_PATCH] = apply_patch,
};

int
nedb__apply(struct view *v, MDB_txn *txn, const struct op *o)
{
	unsigned char sk[8];
	struct seqent se;
	nedb_buf val = {0};
	nedb_receipt r;
	int rc;

	nedb__seqkey(sk, o->seq);
	se.loc = o->loc;
	memcpy(se.hash, o->hash, HASH_LEN);
	if ((rc = put(v, txn, DBI_SEQS, sk, 8, &se, sizeof se,
		      MDB_APPEND)) ||
	    (rc = nedb__tree_append(v, txn, o->seq)) ||
	    (rc = nedb__time_apply(v, txn, o)))
		return rc;
	if (OP_IS_CLIENT(o->kind)) {
		/* every client op: nonce and idempotency key */
		size_t n = strlen(o->client);

		nedb__num_put(sk, o->nonce);
		v->nlast.gen = 0;
		if ((rc = put(v, txn, DBI_NONCES, o->client, n, sk, 8, 0)))
			return rc;
		/* the next write's check of it reads it here (pre_write) */
		if (n <= MAX_CLIENT) {
			memcpy(v->nlast.client, o->client, n + 1);
			v->nlast.nonce = o->nonce;
			v->nlast.gen = v->wgen;
		}
		if (o->idem) {
			rc = nedb__receipt_of(&r, o);
			if (!rc)
				rc = nedb_receipt_json(&val, &r, 0);
			if (!rc)
				rc = put(v, txn, DBI_IDEM, o->idem,
					 strlen(o->idem), val.p, val.len, 0);
			nedb_buf_free(&val);
			if (rc)
				return rc;
		}
	}
	return nedb__apply_kind[o->kind](v, txn, o);
}

/*
 * The state a checkpoint commits to: what the log says, not how the view
 * stores it.  Index entries, counts and node numbers are derived from
 * these, so they are left out; edges are digested by node name.
 */
static const int state_tables[] = {
	DBI_DOCS, DBI_NONCES, DBI_IDEM, DBI_TTL, DBI_IDXDEF
};
/* Their tags in the digest: fixed numbers of the format (nedb-format(5)),
 * whatever the order of the view's tables. */
static const unsigned char state_tags[] = {1, 4, 5, 6, 14};
#define EDGES_TAG 10
#define FILES_TAG 21

static int
cmp_str(const void *a, const void *b)
{
	const nedb_buf *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->p, y->p, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static int
node_name(struct view *v, MDB_txn *txn, uint64_t num, nedb_buf *out)
{
	unsigned char nk[8];
	MDB_val k = {nedb__nodeid_key(nk, num), nk}, d;
	int rc = nedb__kv_get(v, txn, DBI_NODEIDS, &k, &d);

	if (rc)
		return nedb__mdb(rc, "cannot read view");
	return nedb_buf_add(out, d.mv_data, d.mv_size);
}

/* Edges as "from \0 rel \0 to" -> be64 seq, sorted by that key. */
static int
digest_edges(struct view *v, MDB_txn *txn, blake2b_state *s)
{
	nedb_buf *e = NULL;
	size_t n = 0, cap = 0;
	unsigned char tag = EDGES_TAG, len[8];
	struct kvcur c;
	MDB_val k, d;
	int rc;

	if ((rc = nedb__kv_copen(&c, v, txn, DBI_EDGES)))
		return nedb__mdb(rc, "cannot read view");
	while (!(rc = nedb__kv_cget(&c, &k, &d, MDB_NEXT))) {
		uint64_t from, to, seq;
		const char *rel;
		size_t r, base;
		nedb_buf b = {0};

		if (!nedb__edgekey_get(k.mv_data, k.mv_size, false, &from,
				       &rel, &r, &to, &seq, &base) ||
		    d.mv_size != NUM_LEN) {
			rc = nedb__err(NEDB_ECORRUPT, "corrupt view: a "
				       "malformed edge; run nedb-checkpoint "
				       "--rebuild");
			break;
		}
		if (n == cap) {
			nedb_buf *x = nedb__realloc(e, (cap = cap ? 2 * cap : 64) *
					      sizeof *x);

			if (!x) {
				rc = nedb__err(NEDB_EIO, "out of memory");
				break;
			}
			e = x;
		}
		if ((rc = node_name(v, txn, from, &b)) ||
		    (rc = nedb_buf_add(&b, "", 1)) ||
		    (rc = nedb_buf_add(&b, rel, r + 1)) ||
		    (rc = node_name(v, txn, to, &b)) ||
		    (rc = nedb_buf_add(&b, d.mv_data, 8))) {
			nedb_buf_free(&b);
			break;
		}
		e[n++] = b;
	}
	nedb__kv_cclose(&c);
	if (!(rc = nedb__mdb_end(rc))) {
		/* sort by key (all but the trailing 8-byte seq) */
		for (size_t i = 0; i < n; i++)
			e[i].len -= 8;
		if (n > 1)
			qsort(e, n, sizeof *e, cmp_str);
		blake2b_update(s, &tag, 1);
		for (size_t i = 0; i < n; i++) {
			nedb__put_be64(len, e[i].len);
			blake2b_update(s, len, 8);
			blake2b_update(s, (uint8_t *)e[i].p, e[i].len);
			nedb__put_be64(len, 8);
			blake2b_update(s, len, 8);
			blake2b_update(s, (uint8_t *)e[i].p + e[i].len, 8);
		}
	}
	for (size_t i = 0; i < n; i++)
		nedb_buf_free(&e[i]);
	free(e);
	return rc;
}

/*
 * The versions of files (tag FILES_TAG), entries as the other tables'.
 * Only a state that has one is fed them, tag included, so that the
 * digest of every state without files (every database before them) is
 * what it was.
 */
static int
digest_files(struct view *v, MDB_txn *txn, blake2b_state *s)
{
	unsigned char tag = FILES_TAG, len[8];
	struct kvcur c;
	MDB_val k, d;
	bool first = true;
	int rc;

	if ((rc = nedb__kv_copen(&c, v, txn, DBI_FILES)))
		return nedb__mdb(rc, "cannot read view");
	while (!(rc = nedb__kv_cget(&c, &k, &d, MDB_NEXT))) {
		if (first)
			blake2b_update(s, &tag, 1);
		first = false;
		nedb__put_be64(len, k.mv_size);
		blake2b_update(s, len, 8);
		blake2b_update(s, k.mv_data, k.mv_size);
		nedb__put_be64(len, d.mv_size);
		blake2b_update(s, len, 8);
		blake2b_update(s, d.mv_data, d.mv_size);
	}
	nedb__kv_cclose(&c);
	return rc == MDB_NOTFOUND ? 0 : nedb__mdb(rc, "cannot read view");
}

int
nedb__view_digest(struct view *v, MDB_txn *txn, unsigned char out[HASH_LEN],
		  unsigned char texts[HASH_LEN])
{
	blake2b_state s, w;
	struct kvcur c;
	MDB_val k, d;
	unsigned char len[8];
	nedb_buf whole = {0};
	int rc;

	blake2b_init(&s, HASH_LEN);
	blake2b_init(&w, HASH_LEN);
	for (size_t t = 0; t < sizeof state_tables / sizeof *state_tables;
	     t++) {
		unsigned char tag = state_tags[t];

		if ((rc = nedb__kv_copen(&c, v, txn, state_tables[t])))
			return nedb__mdb(rc, "cannot read view");
		blake2b_update(&s, &tag, 1);
		while (!(rc = nedb__kv_cget(&c, &k, &d, MDB_NEXT))) {
			/* a value kept as elements: its header and text, as
			 * if it were kept whole */
			if (state_tables[t] == DBI_DOCS &&
			    d.mv_size > DOCHDR_LEN &&
			    nedb__el_is((char *)d.mv_data + DOCHDR_LEN,
					d.mv_size - DOCHDR_LEN)) {
				whole.len = 0;
				if (nedb_buf_add(&whole, d.mv_data,
						 DOCHDR_LEN)) {
					rc = NEDB_EIO;
					break;
				}
				if ((rc = nedb__el_doc(v, txn, k.mv_data,
						k.mv_size,
						(char *)d.mv_data + DOCHDR_LEN,
						d.mv_size - DOCHDR_LEN,
						&whole)))
					break;
				d.mv_data = whole.p;
				d.mv_size = whole.len;
			}
			if (texts && state_tables[t] == DBI_DOCS) {
				blake2b_update(&w, k.mv_data, k.mv_size);
				nedb__put_be64(len, d.mv_size);
				blake2b_update(&w, len, 8);
				blake2b_update(&w, d.mv_data, d.mv_size);
			}
			/* format 2: a document's header only; its op hash
			 * there commits to the text, which a redaction may
			 * have erased since (doc/redaction.md) */
			if (state_tables[t] == DBI_DOCS &&
			    v->log_format >= 2 && d.mv_size > DOCHDR_LEN)
				d.mv_size = DOCHDR_LEN;
			nedb__put_be64(len, k.mv_size);
			blake2b_update(&s, len, 8);
			blake2b_update(&s, k.mv_data, k.mv_size);
			nedb__put_be64(len, d.mv_size);
			blake2b_update(&s, len, 8);
			blake2b_update(&s, d.mv_data, d.mv_size);
		}
		nedb__kv_cclose(&c);
		if (rc != MDB_NOTFOUND) {
			nedb_buf_free(&whole);
			return nedb__mdb(rc, "cannot read view");
		}
	}
	nedb_buf_free(&whole);
	if ((rc = digest_edges(v, txn, &s)) ||
	    (rc = digest_files(v, txn, &s)))
		return rc;
	blake2b_final(&s, out, HASH_LEN);
	if (texts)
		blake2b_final(&w, texts, HASH_LEN);
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
			 (unsigned long long)nedb__seqkey_get(p));
		return;
	}
	if (dbi == DBI_TREE && k->mv_size == 8) {
		snprintf(out, n, "stored hash %llu",
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
	struct kvcur ca = {NULL}, cb = {NULL};
	MDB_val ka, da, kb, db;
	char kbuf[160];
	int rc = 0;

	for (int t = 0; t < DBI__N; t++) {
		int ra, rb;

		if (t == DBI_USAGE)
			continue;

		if (nedb__kv_copen(&ca, a, ta, t) ||
		    nedb__kv_copen(&cb, b, tb, t)) {
			rc = nedb__err(NEDB_EIO, "cannot read view");
			goto done;
		}
		for (;;) {
			ra = nedb__kv_cget(&ca, &ka, &da, MDB_NEXT);
			rb = nedb__kv_cget(&cb, &kb, &db, MDB_NEXT);
			if (ra == MDB_NOTFOUND && rb == MDB_NOTFOUND)
				break;
			/* a key or value that does not decrypt (kv.h) */
			if ((ra && ra != MDB_NOTFOUND) ||
			    (rb && rb != MDB_NOTFOUND)) {
				rc = nedb__mdb(ra && ra != MDB_NOTFOUND ? ra :
					       rb, "cannot read view");
				goto done;
			}
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
		nedb__kv_cclose(&ca);
		nedb__kv_cclose(&cb);
		ca.c = cb.c = NULL;
	}
done:
	if (ca.c)
		nedb__kv_cclose(&ca);
	if (cb.c)
		nedb__kv_cclose(&cb);
	return rc;
}
