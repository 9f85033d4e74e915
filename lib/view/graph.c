/*
 * graph.c - reading edges (now and as of any seq), collections and
 * indexes.  The tables are described in view.c.
 */
#include <stdlib.h>
#include <sys/stat.h>
#include <stdio.h>
#include <string.h>
#include "internal.h"

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
		uint64_t *v = realloc(s->v, cap * sizeof *v);

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
	unsigned char pk[8 + MAX_REL + 1];
	struct nums found = {0};
	MDB_cursor *cur = NULL;
	MDB_txn *txn;
	MDB_val k, d;
	uint64_t me;
	size_t plen = 8;
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
	nedb__put_be64(pk, me);
	if (rel) {
		size_t r = strlen(rel);

		memcpy(pk + 8, rel, r);
		pk[8 + r] = 0;
		plen += r + 1;
	}
	dbi = hist ? (inbound ? DBI_REDGEHIST : DBI_EDGEHIST) :
	      (inbound ? DBI_REDGES : DBI_EDGES);
	if ((rc = mdb_cursor_open(txn, db->view.dbi[dbi], &cur))) {
		rc = nedb__mdb(rc, "cannot read view");
		goto done;
	}
	k.mv_size = plen;
	k.mv_data = pk;
	{
		/* history: the state of an edge is its last change <= as_of */
		unsigned char group[8 + MAX_REL + 9];
		size_t glen = 0;
		bool linked = false;

		for (rc = mdb_cursor_get(cur, &k, &d, MDB_SET_RANGE); !rc;
		     rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT)) {
			size_t base = hist ? k.mv_size - 8 : k.mv_size;

			if (k.mv_size < plen || memcmp(k.mv_data, pk, plen))
				break;
			if (!hist) {
				rc = nums_add(&found, nedb__get_be64(
					(unsigned char *)k.mv_data + base - 8));
				if (rc)
					goto done;
				continue;
			}
			if (glen && (base != glen ||
				     memcmp(group, k.mv_data, glen))) {
				if (linked && (rc = nums_add(&found,
					nedb__get_be64(group + glen - 8))))
					goto done;
				linked = false;
			}
			glen = base;
			memcpy(group, k.mv_data, glen);
			if (nedb__get_be64((unsigned char *)k.mv_data + base)
			    <= as_of)
				linked = *(uint8_t *)d.mv_data == OP_LINK;
		}
		if (rc && rc != MDB_NOTFOUND) {
			rc = nedb__mdb(rc, "cannot read view");
			goto done;
		}
		rc = 0;
		if (hist && glen && linked &&
		    (rc = nums_add(&found, nedb__get_be64(group + glen - 8))))
			goto done;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if (found.n > 1)
		qsort(found.v, found.n, sizeof *found.v, cmp_u64);
	for (size_t i = 0; i < found.n; i++) {
		unsigned char nk[8];
		MDB_val kv = {8, nk}, dv;
		char name[MAX_COLL + 2 + MAX_ID];

		if (i && found.v[i] == found.v[i - 1])
			continue;
		nedb__put_be64(nk, found.v[i]);
		if ((rc = mdb_get(txn, db->view.dbi[DBI_NODEIDS], &kv, &dv))) {
			rc = nedb__mdb(rc, "cannot read view");
			goto done;
		}
		memcpy(name, dv.mv_data, dv.mv_size);
		name[dv.mv_size] = 0;
		if ((rc = fn(name, rel, payload)))
			goto done;
	}
done:
	if (cur)
		mdb_cursor_close(cur);
	nedb__txn_done(db, txn);
	free(found.v);
	return rc;
}

int
nedb_collections(nedb *db, nedb_coll_fn fn, void *payload)
{
	char name[MAX_COLL + 1];
	MDB_cursor *cur;
	MDB_txn *txn;
	MDB_val k, d;
	int rc, cb = 0;

	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if ((rc = mdb_cursor_open(txn, db->view.dbi[DBI_COLLS], &cur))) {
		nedb__txn_done(db, txn);
		return nedb__mdb(rc, "cannot read view");
	}
	while (!(rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT))) {
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = 0;
		if ((cb = fn(name, nedb__get_be64(d.mv_data), payload)))
			break;
	}
	mdb_cursor_close(cur);
	nedb__txn_done(db, txn);
	/* the callback's code as it is; LMDB's mapped, never raw */
	return cb ? cb : rc == MDB_NOTFOUND ? 0 :
	       nedb__mdb(rc, "cannot read view");
}

int
nedb_indexes(nedb *db, nedb_index_fn fn, void *payload)
{
	MDB_cursor *cur, *ic = NULL;
	MDB_txn *txn;
	MDB_val k, d;
	int rc, cb = 0;

	if ((rc = nedb__txn(db, &txn)))
		return rc;
	if ((rc = mdb_cursor_open(txn, db->view.dbi[DBI_IDXDEF], &cur)) ||
	    (rc = mdb_cursor_open(txn, db->view.dbi[DBI_IDX], &ic))) {
		nedb__txn_done(db, txn);
		return nedb__mdb(rc, "cannot read view");
	}
	/* idxdef: coll \0 field -> one datum per kind */
	while (!(rc = mdb_cursor_get(cur, &k, &d, MDB_NEXT))) {
		char key[MAX_COLL + 140], kind[16];
		unsigned char pk[MAX_COLL + 144];
		MDB_val ik, id;
		uint64_t entries = 0;
		size_t c, plen;
		int r;

		if (k.mv_size >= sizeof key)
			continue;
		memcpy(key, k.mv_data, k.mv_size);
		key[k.mv_size] = 0;
		snprintf(kind, sizeof kind, "%.*s", (int)d.mv_size,
			 (char *)d.mv_data);
		c = strlen(key);
		plen = nedb__ix_prefix(pk, key, key + c + 1,
				       nedb__index_kind(kind));
		ik.mv_size = plen;
		ik.mv_data = pk;
		for (r = mdb_cursor_get(ic, &ik, &id, MDB_SET_RANGE); !r;
		     r = mdb_cursor_get(ic, &ik, &id, MDB_NEXT_NODUP)) {
			size_t dups;

			if (ik.mv_size < plen || memcmp(ik.mv_data, pk, plen))
				break;
			mdb_cursor_count(ic, &dups);
			entries += dups;
		}
		if ((cb = fn(key, key + c + 1, kind, entries, payload)))
			break;
	}
	mdb_cursor_close(cur);
	mdb_cursor_close(ic);
	nedb__txn_done(db, txn);
	return cb ? cb : rc == MDB_NOTFOUND ? 0 :
	       nedb__mdb(rc, "cannot read view");
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
	if (!mdb_get(txn, db->view.dbi[DBI_META], &k, &d) && d.mv_size == 8) {
		out->has_checkpoint = 1;
		out->checkpoint = nedb__get_be64(d.mv_data);
	}
	nedb__txn_done(db, txn);
	out->log_bytes = nedb__log_bytes(db);
	if ((p = malloc(strlen(db->dir) + 16))) {
		sprintf(p, "%s/view.mdb", db->dir);
		if (!stat(p, &st))
			out->view_bytes = (uint64_t)st.st_size;
		free(p);
	}
	return 0;
}
