/*
 * graph.c - reading edges (now and as of any seq), collections and
 * indexes.  The tables are described in view.c.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include "codec.h"
#include "kv.h"

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct nums {
	uint64_t *v;
	size_t n, cap;
};

static int
nums_add(struct nums *s, uint64_t x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		uint64_t *v = nedb__realloc(s->v, cap * sizeof *v);

		if (!v)
			return nedb__err(NEDB_EIO, "out of memory");
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = x;
	return 0;
}

int
nedb_neighbors(nedb *db, const char *node, const char *rel, int inbound,
	       uint64_t as_of, nedb_node_fn fn, void *payload)
{
	unsigned char pk[EDGEKEY_MAX];
	struct nums found = {0};
	struct kvcur cur = {NULL};
	MDB_txn *txn;
	MDB_val k, d;
	uint64_t me;
	size_t plen;
	bool hist = as_of != NEDB_HEAD;
	int rc, dbi;

	if ((rc = nedb_check_node(node)))
		return rc;
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if (hist) {
		struct applied a;

		if ((rc = nedb__view_applied(&db->view, txn, &a)))
			goto done;
		if (as_of > a.seq) {
			rc = nedb__err(NEDB_EUSAGE, "no op %llu yet: the head "
				       "is seq %llu", (unsigned long long)as_of,
				       (unsigned long long)a.seq);
			goto done;
		}
	}
	rc = nedb__node_number(&db->view, txn, node, false, &me);
	if (rc == NEDB_ENOTFOUND) {
		rc = 0;			/* a node never linked: no neighbours */
		goto done;
	}
	if (rc)
		goto done;
	if (rel && strlen(rel) > MAX_REL)
		goto done;		/* no such relation: no neighbours */
	plen = nedb__edgeprefix(pk, me, rel);
	dbi = hist ? (inbound ? DBI_REDGEHIST : DBI_EDGEHIST) :
	      (inbound ? DBI_REDGES : DBI_EDGES);
	if ((rc = nedb__kv_copen(&cur, &db->view, txn, dbi))) {
		rc = nedb__mdb(rc, "cannot read view");
		goto done;
	}
	k.mv_size = plen;
	k.mv_data = pk;
	{
		/* history: the state of an edge is its last change <= as_of */
		unsigned char group[EDGEKEY_MAX];
		size_t glen = 0;
		uint64_t gnode = 0;
		bool linked = false;

		for (rc = nedb__kv_cget(&cur, &k, &d, MDB_SET_RANGE); !rc;
		     rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT)) {
			uint64_t a, b, seq;
			const char *r;
			size_t rlen, base;

			if (!nedb__key_in(k.mv_data, k.mv_size, pk, plen) ||
			    !nedb__edgekey_get(k.mv_data, k.mv_size, hist, &a,
					       &r, &rlen, &b, &seq, &base) ||
			    base > sizeof group)
				break;
			if (!hist) {
				if ((rc = nums_add(&found, b)))
					break;
				continue;
			}
			/* a key's edge (all but its seq) names its group */
			if (glen && (base != glen ||
				     memcmp(group, k.mv_data, glen))) {
				if (linked && (rc = nums_add(&found, gnode)))
					break;
				linked = false;
			}
			glen = base;
			memcpy(group, k.mv_data, glen);
			gnode = b;
			if (seq <= as_of)
				linked = nedb__edgehist_kind(d.mv_data,
							     d.mv_size) ==
					 OP_LINK;
		}
		if ((rc = nedb__mdb_end(rc)))
			goto done;
		if (hist && glen && linked &&
		    (rc = nums_add(&found, gnode)))
			goto done;
	}
	nedb__kv_cclose(&cur);
	cur.c = NULL;
	if (found.n > 1)
		qsort(found.v, found.n, sizeof *found.v, cmp_u64);
	for (size_t i = 0; i < found.n; i++) {
		unsigned char nk[8];
		MDB_val kv = {nedb__nodeid_key(nk, found.v[i]), nk}, dv;
		char name[NODE_MAX + 1];

		if (i && found.v[i] == found.v[i - 1])
			continue;
		if ((rc = nedb__kv_get(&db->view, txn, DBI_NODEIDS, &kv,
				       &dv))) {
			rc = nedb__mdb(rc, "cannot read view");
			goto done;
		}
		if ((rc = nedb__namekey_get(dv.mv_data, dv.mv_size, name,
					    NODE_MAX)) ||
		    (rc = fn(name, rel, payload)))
			goto done;
	}
done:
	if (cur.c)
		nedb__kv_cclose(&cur);
	nedb__txn_done(db, txn);
	free(found.v);
	return rc;
}

int
nedb_collections(nedb *db, nedb_coll_fn fn, void *payload)
{
	char name[MAX_COLL + 1];
	struct kvcur cur;
	MDB_txn *txn;
	MDB_val k, d;
	int rc, cb = 0;

	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if ((rc = nedb__kv_copen(&cur, &db->view, txn, DBI_COLLS))) {
		nedb__txn_done(db, txn);
		return nedb__mdb(rc, "cannot read view");
	}
	while (!(rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT))) {
		uint64_t count;

		if ((cb = nedb__namekey_get(k.mv_data, k.mv_size, name,
					    MAX_COLL)) ||
		    (cb = nedb__num_get(d.mv_data, d.mv_size, &count)) ||
		    (cb = fn(name, count, payload)))
			break;
	}
	nedb__kv_cclose(&cur);
	nedb__txn_done(db, txn);
	/* the callback's code as it is; LMDB's mapped, never raw */
	return cb ? cb : nedb__mdb_end(rc);
}

int
nedb_indexes(nedb *db, nedb_index_fn fn, void *payload)
{
	struct kvcur cur, ic = {NULL};
	MDB_txn *txn;
	MDB_val k, d;
	int rc, cb = 0;

	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if ((rc = nedb__kv_copen(&cur, &db->view, txn, DBI_IDXDEF)) ||
	    (rc = nedb__kv_copen(&ic, &db->view, txn, DBI_IDX))) {
		nedb__txn_done(db, txn);
		return nedb__mdb(rc, "cannot read view");
	}
	/* idxdef: coll \0 field -> one datum per kind */
	while (!(rc = nedb__kv_cget(&cur, &k, &d, MDB_NEXT))) {
		char coll[MAX_COLL + 1], field[MAX_FIELD + 1], kind[16];
		unsigned char pk[IXPRE_MAX];
		MDB_val ik, id;
		uint64_t entries = 0;
		size_t plen;
		int r;

		if ((cb = nedb__ixdef_get(k.mv_data, k.mv_size, coll, field)))
			break;
		plen = nedb__ix_prefix(pk, coll, field, nedb__ixdef_kind(
					       d.mv_data, d.mv_size, kind));
		ik.mv_size = plen;
		ik.mv_data = pk;
		for (r = nedb__kv_cget(&ic, &ik, &id, MDB_SET_RANGE); !r;
		     r = nedb__kv_cget(&ic, &ik, &id, MDB_NEXT_NODUP)) {
			size_t dups = 0;

			if (!nedb__key_in(ik.mv_data, ik.mv_size, pk, plen))
				break;
			if ((r = nedb__kv_ccount(&ic, &dups)))
				break;
			entries += dups;
		}
		if ((cb = nedb__mdb_end(r)) ||
		    (cb = fn(coll, field, kind, entries, payload)))
			break;
	}
	nedb__kv_cclose(&cur);
	nedb__kv_cclose(&ic);
	nedb__txn_done(db, txn);
	return cb ? cb : nedb__mdb_end(rc);
}

/* The JSON forms of nedb_collections and nedb_indexes. */
struct listing {
	nedb_buf *out;
	const char *sep;
	size_t start;
};

static void
list_next(struct listing *l)
{
	if (l->out->len > l->start)
		nedb_buf_puts(l->out, l->sep);
}

static int
coll_json(const char *coll, uint64_t count, void *payload)
{
	struct listing *l = payload;

	list_next(l);
	nedb_buf_puts(l->out, "{\"coll\":");
	nedb_buf_json_str(l->out, coll, strlen(coll));
	return nedb_buf_printf(l->out, ",\"count\":%llu}",
			       (unsigned long long)count);
}

static int
index_json(const char *coll, const char *field, const char *kind,
	   uint64_t entries, void *payload)
{
	struct listing *l = payload;

	list_next(l);
	nedb_buf_puts(l->out, "{\"coll\":");
	nedb_buf_json_str(l->out, coll, strlen(coll));
	nedb_buf_puts(l->out, ",\"field\":");
	nedb_buf_json_str(l->out, field, strlen(field));
	return nedb_buf_printf(l->out, ",\"kind\":\"%s\",\"entries\":%llu}",
			       kind, (unsigned long long)entries);
}

int
nedb_collections_json(nedb *db, const char *sep, nedb_buf *out)
{
	struct listing l = {out, sep, out->len};

	return nedb_collections(db, coll_json, &l);
}

int
nedb_indexes_json(nedb *db, const char *sep, nedb_buf *out)
{
	struct listing l = {out, sep, out->len};

	return nedb_indexes(db, index_json, &l);
}

int
nedb_stats_get(nedb *db, nedb_stats *out)
{
	struct applied a;
	struct stat st;
	MDB_txn *txn;
	MDB_val k = {4, "ckpt"}, d;
	char *p;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if ((rc = nedb__view_applied(&db->view, txn, &a))) {
		nedb__txn_done(db, txn);
		return nedb__err(NEDB_ECORRUPT, "view has no head");
	}
	out->seq = a.seq;
	nedb__hex(out->head, a.head, HASH_LEN);
	if (!nedb__kv_get(&db->view, txn, DBI_META, &k, &d) &&
	    !nedb__num_get(d.mv_data, d.mv_size, &out->checkpoint))
		out->has_checkpoint = 1;
	nedb__txn_done(db, txn);
	out->log_bytes = nedb__log_bytes(db);
	if ((p = nedb__malloc(strlen(db->dir) + 16))) {
		sprintf(p, "%s/view.mdb", db->dir);
		if (!stat(p, &st))
			out->view_bytes = (uint64_t)st.st_size;
		free(p);
	}
	return 0;
}
