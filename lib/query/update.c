/*
 * update.c - MongoDB-style update operators on compact document text:
 * $set $unset $inc $push $pull, or a whole replacement document.
 *
 * The document is edited as text (doc.c's member helpers), never parsed
 * into jv and dumped again, so members an update does not touch keep
 * their exact text (numbers included).  Dotted paths reach into nested
 * objects; $set creates the objects on the way.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nql.h"

static bool
all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int set_path(nedb_buf *obj, char **parts, size_t n, const char *val,
		    size_t vlen);

/*
 * The same inside an array: parts[0] is an element index.  Setting past
 * the end pads with nulls (as MongoDB does); removing sets null.
 */
static int
set_in_array(nedb_buf *arr, char **parts, size_t n, const char *val,
	     size_t vlen)
{
	size_t want = strtoull(parts[0], NULL, 10), i = 0;
	const char *p = arr->p + 1, *end = arr->p + arr->len - 1;
	nedb_buf out = {0}, sub = {0};
	bool done = false;
	int rc = 0;

	nedb_buf_add(&out, "[", 1);
	while (p < end) {
		const char *s = p;
		int depth = 0;

		for (; p < end; p++) {
			if (*p == '"') {
				for (p++; *p != '"'; p++)
					if (*p == '\\')
						p++;
			} else if (*p == '[' || *p == '{')
				depth++;
			else if (*p == ']' || *p == '}')
				depth--;
			else if (*p == ',' && !depth)
				break;
		}
		if (i)
			nedb_buf_add(&out, ",", 1);
		if (i == want) {
			done = true;
			if (n == 1) {
				if (val)
					nedb_buf_add(&out, val, vlen);
				else
					nedb_buf_add(&out, "null", 4);
			} else {
				sub.len = 0;
				nedb_buf_add(&sub, s, (size_t)(p - s));
				if (*s == '[' && all_digits(parts[1]))
					rc = set_in_array(&sub, parts + 1,
							  n - 1, val, vlen);
				else {
					if (*s != '{') {
						sub.len = 0;
						nedb_buf_add(&sub, "{}", 2);
					}
					rc = set_path(&sub, parts + 1, n - 1,
						      val, vlen);
				}
				nedb_buf_add(&out, sub.p, sub.len);
			}
		} else
			nedb_buf_add(&out, s, (size_t)(p - s));
		i++;
		p++;
	}
	if (!done && val) {
		for (; i < want; i++)
			nedb_buf_puts(&out, i ? ",null" : "null");
		if (i)
			nedb_buf_add(&out, ",", 1);
		if (n == 1)
			nedb_buf_add(&out, val, vlen);
		else {
			sub.len = 0;
			nedb_buf_add(&sub, "{}", 2);
			rc = set_path(&sub, parts + 1, n - 1, val, vlen);
			nedb_buf_add(&out, sub.p, sub.len);
		}
	}
	nedb_buf_add(&out, "]", 1);
	nedb_buf_free(&sub);
	if (rc || (!done && !val)) {
		nedb_buf_free(&out);
		return rc;
	}
	nedb_buf_free(arr);
	*arr = out;
	return 0;
}

/* Sets (val != NULL) or removes the member at parts[0..n) of obj;
 * a digit part inside an array is an element index. */
static int
set_path(nedb_buf *obj, char **parts, size_t n, const char *val,
	 size_t vlen)
{
	nedb_buf sub = {0};
	const char *v;
	size_t sl;
	int rc;

	if (n == 1)
		return nedb__doc_set(obj, parts[0], val, vlen, false);
	if (nedb__doc_member(obj->p, obj->len, parts[0], &v, &sl) &&
	    (*v == '{' || (*v == '[' && all_digits(parts[1]))))
		rc = nedb_buf_add(&sub, v, sl);
	else if (!val)
		return 0;		/* nothing to remove */
	else
		rc = nedb_buf_add(&sub, "{}", 2);
	if (!rc)
		rc = *sub.p == '[' ?
		     set_in_array(&sub, parts + 1, n - 1, val, vlen) :
		     set_path(&sub, parts + 1, n - 1, val, vlen);
	if (!rc)
		rc = nedb__doc_set(obj, parts[0], sub.p, sub.len, false);
	nedb_buf_free(&sub);
	return rc;
}

static bool
is_int_text(struct nql_span v)
{
	for (size_t i = 0; i < v.len; i++)
		if (!(v.p[i] == '-' || (v.p[i] >= '0' && v.p[i] <= '9')))
			return false;
	return v.len > 0 && v.len < 19;
}

/*
 * Adds two JSON numbers; integers stay integers, others add as doubles
 * (the shortest text that reads back).  A sum beyond the range of a
 * double has no JSON text: -1, and the caller names the field.
 */
static int
add_numbers(nedb_buf *out, struct nql_span a, struct nql_span b)
{
	if (is_int_text(a) && is_int_text(b)) {
		long long x = strtoll(a.p, NULL, 10), y = strtoll(b.p, NULL,
								  10), r;

		if (!__builtin_add_overflow(x, y, &r))
			return nedb_buf_printf(out, "%lld", r);
	}
	return nedb__buf_double(out, strtod(a.p, NULL) + strtod(b.p, NULL));
}

struct pull {
	struct nql_span what;
	nedb_buf out;
	bool any;
};

static void
pull_one(struct nql_span e, void *payload)
{
	struct pull *p = payload;

	if (nedb__value_eq(e, p->what))
		return;
	if (p->any)
		nedb_buf_add(&p->out, ",", 1);
	nedb_buf_add(&p->out, e.p, e.len);
	p->any = true;
}

/* One operator applied to one path. */
static int
apply_op(nedb_buf *doc, const char *op, struct nql_path *path,
	 struct nql_span arg)
{
	struct nql_span cur = nedb__path_get(doc->p, doc->len, path);
	nedb_buf val = {0};
	int rc = 0;

	if (!strcmp(op, "$set")) {
		rc = set_path(doc, path->parts, path->n, arg.p, arg.len);
	} else if (!strcmp(op, "$unset")) {
		rc = set_path(doc, path->parts, path->n, NULL, 0);
	} else if (!strcmp(op, "$inc")) {
		if (nedb__type(arg) != T_NUMBER)
			return nedb__err(NEDB_EUSAGE, "$inc of '%s' needs a "
					 "number", path->dotted);
		if (cur.len && nedb__type(cur) != T_NUMBER)
			return nedb__err(NEDB_EINPUT, "cannot $inc '%s': it "
					 "is not a number", path->dotted);
		rc = cur.len ? add_numbers(&val, cur, arg) :
		     nedb_buf_add(&val, arg.p, arg.len);
		if (rc == -1) {
			nedb_buf_free(&val);
			return nedb__err(NEDB_EINPUT, "cannot $inc '%s': the "
					 "result is beyond the range of a "
					 "double (about 1.8e308)",
					 path->dotted);
		}
		if (!rc)
			rc = set_path(doc, path->parts, path->n, val.p,
				      val.len);
	} else if (!strcmp(op, "$push")) {
		if (cur.len && nedb__type(cur) != T_ARRAY)
			return nedb__err(NEDB_EINPUT, "cannot $push to '%s': "
					 "it is not an array", path->dotted);
		if (!cur.len || cur.len == 2)
			nedb_buf_add(&val, "[", 1);
		else {
			nedb_buf_add(&val, cur.p, cur.len - 1);
			nedb_buf_add(&val, ",", 1);
		}
		nedb_buf_add(&val, arg.p, arg.len);
		nedb_buf_add(&val, "]", 1);
		rc = set_path(doc, path->parts, path->n, val.p, val.len);
	} else if (!strcmp(op, "$pull")) {
		struct pull p = {.what = arg};

		if (!cur.len)
			return 0;
		if (nedb__type(cur) != T_ARRAY)
			return nedb__err(NEDB_EINPUT, "cannot $pull from '%s': "
					 "it is not an array", path->dotted);
		nedb_buf_add(&p.out, "[", 1);
		nedb__each_value(cur, pull_one, &p);
		nedb_buf_add(&p.out, "]", 1);
		rc = set_path(doc, path->parts, path->n, p.out.p, p.out.len);
		nedb_buf_free(&p.out);
	} else
		rc = nedb__err(NEDB_EUSAGE, "unknown update operator '%s': "
			       "want $set $unset $inc $push $pull", op);
	nedb_buf_free(&val);
	return rc;
}

/* Iterates the members of compact object text: key (decoded), value. */
struct memb {
	const char *p;
};

static bool
next_memb(struct memb *m, char **key, struct nql_span *val)
{
	const char *k, *v;
	int depth = 0;

	if (*m->p == '{')
		m->p++;
	if (*m->p == ',')
		m->p++;
	if (*m->p == '}' || !*m->p)
		return false;
	k = m->p;
	for (m->p++; *m->p != '"'; m->p++)
		if (*m->p == '\\')
			m->p++;
	m->p++;
	if (nedb__json_string(k, (size_t)(m->p - k), key))
		return false;
	v = ++m->p;
	for (; *m->p; m->p++) {
		if (*m->p == '"') {
			for (m->p++; *m->p != '"'; m->p++)
				if (*m->p == '\\')
					m->p++;
		} else if (*m->p == '[' || *m->p == '{')
			depth++;
		else if (*m->p == ']' || *m->p == '}') {
			if (!depth)
				break;
			depth--;
		} else if (*m->p == ',' && !depth)
			break;
	}
	*val = (struct nql_span){v, (size_t)(m->p - v)};
	return true;
}

int
nedb_update_doc(nedb_buf *out, const char *doc, size_t len,
		const char *update)
{
	nedb_buf u = {0}, d = {0};
	struct memb m;
	struct nql_span v;
	char *op;
	bool ops = false, plain = false;
	int rc;

	if ((rc = nedb__doc_normalize(&u, update, strlen(update)))) {
		rc = nedb__err(NEDB_EUSAGE, "bad update: %s", nedb_errmsg());
		goto done;
	}
	m.p = u.p;
	while (next_memb(&m, &op, &v)) {
		if (*op == '$')
			ops = true;
		else
			plain = true;
		free(op);
	}
	if (ops && plain) {
		rc = nedb__err(NEDB_EUSAGE, "bad update: mix of operators and "
			       "plain members");
		goto done;
	}
	if (!ops) {
		/* a replacement document keeps the _id it replaces */
		const char *id;
		size_t idlen;

		if (nedb__doc_member(doc, len, "_id", &id, &idlen))
			rc = nedb__doc_set(&u, "_id", id, idlen, true);
		if (!rc)
			rc = nedb_buf_add(out, u.p, u.len);
		goto done;
	}
	if ((rc = nedb_buf_add(&d, doc, len)))
		goto done;
	m.p = u.p;
	while (!rc && next_memb(&m, &op, &v)) {
		struct memb f = {v.p};
		struct nql_span arg;
		char *field;

		if (nedb__type(v) != T_OBJECT)
			rc = nedb__err(NEDB_EUSAGE, "bad update: %s wants an "
				       "object of fields", op);
		while (!rc && next_memb(&f, &field, &arg)) {
			struct nql_path path;

			if (!strcmp(field, "_id"))
				rc = nedb__err(NEDB_EUSAGE, "bad update: _id "
					       "cannot change");
			else if (!(rc = nedb__check_field(field)) &&
				 !(rc = nedb__path_parse(&path, field))) {
				rc = apply_op(&d, op, &path, arg);
				nql_path_free(&path);
			}
			if (rc == NEDB_EINPUT && !strncmp(nedb_errmsg(),
							  "bad field", 9))
				rc = NEDB_EUSAGE;
			free(field);
		}
		free(op);
	}
	if (!rc)
		rc = nedb_buf_add(out, d.p, d.len);
done:
	nedb_buf_free(&u);
	nedb_buf_free(&d);
	return rc;
}

int
nedb_upsert_base(nedb_buf *out, const char *filter)
{
	nedb_buf f = {0};
	struct memb m;
	struct nql_span v;
	char *key;
	bool any = false;
	int rc;

	if ((rc = nedb__doc_normalize(&f, filter, strlen(filter))))
		return nedb__err(NEDB_EUSAGE, "bad filter: %s", nedb_errmsg());
	nedb_buf_add(out, "{", 1);
	m.p = f.p;
	while (next_memb(&m, &key, &v)) {
		struct nql_span eq = v;
		bool take = *key != '$' && !strchr(key, '.');

		if (take && nedb__type(v) == T_OBJECT) {
			/* {"f":{"$eq":x}} counts; other operators do not */
			struct memb o = {v.p};
			char *k2;
			struct nql_span x;

			take = false;
			while (next_memb(&o, &k2, &x)) {
				if (!strcmp(k2, "$eq")) {
					eq = x;
					take = true;
				} else if (*k2 == '$') {
					take = false;
					free(k2);
					break;
				}
				free(k2);
			}
			if (!take && v.len == 2)
				take = true;	/* {} is a plain value */
		}
		if (take) {
			if (any)
				nedb_buf_add(out, ",", 1);
			nedb_buf_json_str(out, key, strlen(key));
			nedb_buf_add(out, ":", 1);
			nedb_buf_add(out, eq.p, eq.len);
			any = true;
		}
		free(key);
	}
	nedb_buf_free(&f);
	return nedb_buf_add(out, "}", 1);
}

/*
 * A patch's {"$text":[OFFSET,LENGTH,"TEXT"]} (engine/db.c's as_patch):
 * LENGTH bytes of doc at OFFSET replaced by TEXT, appended to out.
 * NEDB_EINPUT when it is malformed or does not fit the document.
 */
static int
text_splice(nedb_buf *out, const char *doc, size_t len, const char *upd)
{
	const char *p = upd + 10;
	unsigned long long off, del;
	char *end, *text = NULL;
	size_t n;
	int rc;

	off = strtoull(p, &end, 10);
	if (end == p || *end != ',')
		goto bad;
	p = end + 1;
	del = strtoull(p, &end, 10);
	if (end == p || *end != ',' || end[1] != '"' || off > len ||
	    del > len - off)
		goto bad;
	p = end + 1;
	n = strlen(p);
	if (n < 4 || memcmp(p + n - 3, "\"]}", 3) ||
	    nedb__json_string(p, n - 2, &text))
		goto bad;
	rc = nedb_buf_add(out, doc, off) ||
	     nedb_buf_puts(out, text) ||
	     nedb_buf_add(out, doc + off + del, len - off - del) ?
	     nedb__err(NEDB_EIO, "out of memory") : 0;
	free(text);
	return rc;
bad:
	return nedb__err(NEDB_EINPUT, "bad $text patch: want [OFFSET,LENGTH,"
			 "\"TEXT\"] within the document");
}

/*
 * A patch op's update applied (engine/db.c's writer, view.c's apply, the
 * past versions of nedb__version_text): the same function the writer
 * made the version with ($text, a Redis operator of proto/redis.c, or
 * nedb_update_doc, which refuses the Redis operators' names as unknown
 * operators), then the normalization a put's text gets, so that the
 * three agree byte for byte (a no-op on a Redis operator's text).
 */
int
nedb__patch_doc(nedb_buf *out, const char *doc, size_t len, const char *upd,
		size_t updlen)
{
	nedb_buf u = {0}, d = {0};
	int rc;

	/* printed as nedb-redis prints a document: normalized already
	 * (and the Redis path never loads libjq, which normalizing a
	 * \u escape would) */
	if (nedb__redis_patch_is(upd, updlen))
		return nedb__redis_patch(out, doc, len, upd, updlen);
	if (nedb_buf_add(&u, upd, updlen) || nedb_buf_add(&u, "", 1)) {
		rc = nedb__err(NEDB_EIO, "out of memory");
		goto done;
	}
	if (updlen > 10 && !memcmp(upd, "{\"$text\":[", 10))
		rc = text_splice(&d, doc, len, u.p);
	else
		rc = nedb_update_doc(&d, doc, len, u.p);
	if (!rc)
		rc = nedb__doc_normalize(out, d.p, d.len);
done:
	nedb_buf_free(&u);
	nedb_buf_free(&d);
	return rc;
}
