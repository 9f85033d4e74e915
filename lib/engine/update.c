/*
 * update.c - update-many and upsert (nedb_update): the write behind
 * nedb-update(1), and what SQL's UPDATE, the shell and nedbd call.
 *
 * The operators themselves ($set, $inc...) are query/update.c's
 * nedb_update_doc, on document text; this file finds the documents,
 * changes them and stages one ordinary put per changed document.
 *
 * It works in two passes, so that a bad update writes nothing even
 * inside a caller's write transaction (a server's batch, which other
 * requests share):
 *  1. find the matches, change each one, and validate the result as a
 *     put would (nedb_put_prepare, the size limit): every failure that
 *     depends on the documents happens here, before anything is staged;
 *  2. stage the puts (prepared: not validated twice).  What can fail
 *     now is what any write can: a stale nonce or a bad client name (on
 *     the first put, which then stages nothing), or an I/O error, which
 *     leaves the transaction unusable (nedb_write_commit refuses it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "internal.h"

/* A match and what the update makes of it. */
struct change {
	char *id;
	nedb_buf doc;		/* compact, validated */
	bool patch;		/* doc is the match changed by the update
				 * (not an upsert): it may be a patch */
};

struct matches {
	char **docs;		/* copies: find's rows are borrowed */
	size_t n;
	bool many;
	int rc;			/* out of memory */
};

static int
collect(const char *json, size_t len, void *payload)
{
	struct matches *m = payload;
	char **v = nedb__realloc(m->docs, (m->n + 1) * sizeof *v);

	if (v)
		m->docs = v;
	if (!v || !(v[m->n] = nedb__memdup(json, len))) {
		m->rc = nedb__err(NEDB_EIO, "out of memory");
		return 1;
	}
	m->n++;
	return m->many ? 0 : 1;		/* one is enough without many */
}

/*
 * Validates doc as the put of coll/id would (pass 1) and keeps it in
 * c: afterwards the put can be staged as prepared.
 */
static int
prepare(struct change *c, const char *coll, const char *id, nedb_buf *doc)
{
	nedb_put p = {.coll = coll, .id = id, .doc = doc->p,
		      .doclen = doc->len};
	char *none;
	int rc;

	if ((rc = nedb_put_prepare(&p, &c->doc, &none)))
		return rc;
	/* the limit nedb_write_put checks once the text is compact */
	if (c->doc.len > MAX_DOC)
		return nedb__err(NEDB_EINPUT, "document too large: more than "
				 "%u bytes", MAX_DOC);
	if (!(c->id = nedb__strdup(id)))
		return nedb__err(NEDB_EIO, "out of memory");
	return 0;
}

/* A random id for an upserted document whose filter names none. */
static int
random_id(char out[33])
{
	unsigned char rnd[16];

	if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
		return nedb__err(NEDB_EIO, "cannot make an id");
	nedb__hex(out, rnd, sizeof rnd);
	out[32] = 0;
	return 0;
}

/*
 * Pass 1 for an upsert: the filter's equality members changed by the
 * update, with the filter's _id or a random id.
 */
static int
upsert_change(const nedb_update_opts *o, struct change *c)
{
	nedb_buf base = {0}, doc = {0};
	char *fid = NULL, idbuf[33];
	int rc;

	if ((rc = nedb_upsert_base(&base, o->filter ? o->filter : "{}")) ||
	    (rc = nedb_update_doc(&doc, base.p, base.len, o->update)))
		goto done;
	if (nedb_doc_id(base.p, base.len, &fid) && (rc = random_id(idbuf)))
		goto done;
	rc = prepare(c, o->coll, fid ? fid : idbuf, &doc);
done:
	free(fid);
	nedb_buf_free(&base);
	nedb_buf_free(&doc);
	return rc;
}

/* Pass 1: the changes, in _id order; unchanged documents are left out. */
static int
find_changes(nedb *db, const nedb_update_opts *o, struct change **out,
	     size_t *n, nedb_update_info *info)
{
	nedb_find_opts f = {.coll = o->coll, .filter = o->filter,
			    .as_of = NEDB_HEAD};
	struct matches m = {.many = o->many};
	struct change *cs = NULL;
	nedb_buf doc = {0};
	int rc;

	*n = 0;
	rc = nedb_find(db, &f, 0, collect, &m);
	if (m.rc)
		rc = m.rc;
	if (rc && rc != 1)
		goto done;
	rc = 0;
	info->matched = m.n;
	if (m.n + (!m.n && o->upsert) &&
	    !(cs = nedb__calloc(m.n ? m.n : 1, sizeof *cs))) {
		rc = nedb__err(NEDB_EIO, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < m.n; i++) {
		size_t len = strlen(m.docs[i]);
		char *id;

		doc.len = 0;
		if ((rc = nedb_update_doc(&doc, m.docs[i], len, o->update)))
			goto done;
		if (doc.len == len && !memcmp(doc.p, m.docs[i], len))
			continue;	/* no change: no op */
		if ((rc = nedb_doc_id(m.docs[i], len, &id)))
			goto done;
		rc = prepare(&cs[*n], o->coll, id, &doc);
		cs[*n].patch = true;
		free(id);
		(*n)++;			/* (freed with the rest on failure) */
		if (rc)
			goto done;
	}
	if (!m.n && o->upsert) {
		rc = upsert_change(o, &cs[0]);
		(*n)++;
		info->upserted = !rc;
	}
done:
	for (size_t i = 0; i < m.n; i++)
		free(m.docs[i]);
	free(m.docs);
	nedb_buf_free(&doc);
	*out = cs;
	return rc;
}

/* Pass 2: one put per change; its receipt into rs[i] (rs NULL: none). */
static int
stage_changes(nedb *db, const nedb_update_opts *o, struct change *cs,
	      size_t n, nedb_receipt *rs, nedb_update_info *info)
{
	nedb_put p = {.coll = o->coll, .w = o->w,
		      .prepared = 1,
		      .keep_ttl = 1};	/* an update changes members, not
					 * the expiry */
	nedb_buf upd = {0};
	int rc = 0;

	/* the update as a patch op would log it: compact */
	if (nedb__doc_normalize(&upd, o->update, strlen(o->update)))
		upd.len = 0;
	for (size_t i = 0; i < n; i++) {
		nedb_receipt *r = rs ? &rs[i] : NULL;

		p.id = cs[i].id;
		p.doc = cs[i].doc.p;
		p.doclen = cs[i].doc.len;
		if (cs[i].patch && upd.len)
			rc = nedb__write_change(db, &p, upd.p, upd.len, r);
		else
			rc = nedb_write_put(db, &p, r);
		if (rc)
			break;
		if (p.w.nonce)
			p.w.nonce++;
		info->changed++;
	}
	nedb_buf_free(&upd);
	return rc;
}

/* An update's changes and receipts, staged afresh at each attempt
 * (nedb_write_run). */
struct upd {
	const nedb_update_opts *o;
	bool want;		/* receipts */
	struct change *cs;
	size_t n;
	nedb_receipt *rs;
	nedb_update_info info;
};

static void
upd_free(struct upd *u)
{
	for (size_t i = 0; i < u->n; i++) {
		free(u->cs[i].id);
		nedb_buf_free(&u->cs[i].doc);
	}
	free(u->cs);
	free(u->rs);
	u->cs = NULL;
	u->rs = NULL;
	u->n = 0;
}

static int
upd_stage(nedb *db, void *payload)
{
	struct upd *u = payload;
	int rc;

	upd_free(u);
	memset(&u->info, 0, sizeof u->info);
	if ((rc = find_changes(db, u->o, &u->cs, &u->n, &u->info)))
		return rc;
	if (u->want && u->n)
		u->rs = nedb__calloc(u->n, sizeof *u->rs);
	return stage_changes(db, u->o, u->cs, u->n, u->rs, &u->info);
}

int
nedb_update(nedb *db, const nedb_update_opts *o, nedb_update_info *out,
	    nedb_receipt_fn fn, void *payload)
{
	struct upd u = {.o = o, .want = fn != NULL};
	nedb_buf probe = {0};
	int rc;

	if (out)
		memset(out, 0, sizeof *out);
	if (!o->coll || !o->update)
		return nedb__err(NEDB_EUSAGE, "an update needs a collection "
				 "and an update");
	if (o->w.idem)
		return nedb__err(NEDB_EUSAGE, "an update takes no idempotency "
				 "key: it may write several ops");
	if ((rc = nedb_check_coll(o->coll)))
		return rc;
	/* a bad update is a usage error before the database is read */
	rc = nedb_update_doc(&probe, "{}", 2, o->update);
	nedb_buf_free(&probe);
	if (rc == NEDB_EUSAGE)
		return rc;
	/* in a write of its own: on an engine, a lost seq stages it anew */
	rc = db->wtxn ? upd_stage(db, &u) : nedb_write_run(db, upd_stage, &u);
	for (size_t i = 0; u.rs && i < u.n && !rc; i++)
		rc = fn(&u.rs[i], payload);
	if (out)
		*out = u.info;
	upd_free(&u);
	return rc;
}
