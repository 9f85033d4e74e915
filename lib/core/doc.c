/*
 * doc.c - documents as compact JSON text.
 *
 * A document is stored and returned as the compact text of what the user
 * gave, never re-serialized: jq 1.6 keeps numbers as doubles, and a dump
 * would turn 12345678901234567890 into 12345678901234567000.  jq's parser
 * checks the structure; it is lenient about tokens (it accepts nan, 01,
 * .5, +1 and replaces bad UTF-8), so a token pass here rejects what
 * RFC 8259 rejects before anything is stored.
 *
 * The member helpers below work on text that nedb__doc_normalize has
 * produced, so they may assume valid, compact JSON.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nql.h"
#include "nedb_jv.h"

static bool
isdigit_(char c)
{
	return c >= '0' && c <= '9';
}

/* Length of the RFC 8259 number at s (0 when there is none). */
size_t
nedb__number_len(const char *s, size_t n)
{
	size_t i = 0;

	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (i < n && s[i] >= '1' && s[i] <= '9')
		while (i < n && isdigit_(s[i]))
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		if (++i >= n || !isdigit_(s[i]))
			return 0;
		while (i < n && isdigit_(s[i]))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !isdigit_(s[i]))
			return 0;
		while (i < n && isdigit_(s[i]))
			i++;
	}
	return i;
}

static bool
is_delim(char c)
{
	return c == ',' || c == '}' || c == ']' || c == ':' || c == ' ' ||
	       c == '\t' || c == '\n' || c == '\r' || c == '{' || c == '[' ||
	       c == '"';
}

/* The value of 4 hex digits at s (a \u escape jq has validated). */
static unsigned
hex4(const char *s)
{
	unsigned u = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		u = u << 4 | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
	}
	return u;
}

static int
token_error(const char *text, size_t at, const char *what)
{
	size_t line = 1, col = 1;

	for (size_t i = 0; i < at; i++) {
		if (text[i] == '\n') {
			line++;
			col = 1;
		} else
			col++;
	}
	return nedb__err(NEDB_EINPUT, "%s at line %zu, column %zu", what,
			 line, col);
}

int
nedb__doc_normalize(nedb_buf *out, const char *text, size_t len)
{
	size_t i = 0, start = out->len;
	jv_kind kind;
	jv v;
	int rc;

	if (!nedb__utf8_valid((const unsigned char *)text, len)) {
		size_t bad = 0;

		while (bad < len && nedb__utf8_valid(
			       (const unsigned char *)text + bad, 1))
			bad++;
		return token_error(text, bad, "invalid UTF-8");
	}
	/* jq's parser judges the structure and gives positions. */
	if ((rc = nedb__jv_require()))
		return rc;
	v = jv_parse_sized(text, (int)len);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);

		if (jv_get_kind(msg) == JV_KIND_STRING) {
			/* jq appends the whole input; keep one short line */
			const char *m = jv_string_value(msg);
			const char *cut = strstr(m, " (while parsing");
			int n = cut ? (int)(cut - m) : (int)strlen(m);

			rc = nedb__err(NEDB_EINPUT, "not JSON: %.*s", n, m);
		}
		else
			rc = nedb__err(NEDB_EINPUT, "not JSON: empty input");
		jv_free(msg);
		return rc;
	}
	kind = jv_get_kind(v);
	jv_free(v);
	if (nedb_buf_grow(out, len))
		return NEDB_EIO;
	/* Token pass: strict numbers and literals, whitespace dropped. */
	while (i < len) {
		char c = text[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			i++;
		} else if (c == '"') {
			size_t j = i + 1;
			bool high = false;	/* a \uD800-\uDBFF just before */

			while (text[j] != '"') {
				unsigned u;

				if ((unsigned char)text[j] < 0x20) {
					out->len = start;
					return token_error(text, j, "not JSON: "
							   "control character "
							   "in a string");
				}
				u = text[j] == '\\' && text[j + 1] == 'u' ?
				    hex4(text + j + 2) : 0;
				if ((u >= 0xDC00 && u <= 0xDFFF) != high) {
					out->len = start;
					return token_error(text, j, "not JSON: "
							   "lone surrogate "
							   "in a string");
				}
				high = u >= 0xD800 && u <= 0xDBFF;
				j += text[j] != '\\' ? 1 : text[j + 1] == 'u' ?
				     6 : 2;
			}
			if (high) {
				out->len = start;
				return token_error(text, j, "not JSON: lone "
						   "surrogate in a string");
			}
			memcpy(out->p + out->len, text + i, j + 1 - i);
			out->len += j + 1 - i;
			i = j + 1;
		} else if (c && strchr("{}[]:,", c)) {
			out->p[out->len++] = c;
			i++;
		} else {
			size_t n = nedb__number_len(text + i, len - i);

			if (!n) {
				static const char *lit[] = {"true", "false",
							    "null"};
				for (int k = 0; k < 3; k++)
					if (len - i >= strlen(lit[k]) &&
					    !memcmp(text + i, lit[k],
						    strlen(lit[k])))
						n = strlen(lit[k]);
			}
			if (!n || (i + n < len && !is_delim(text[i + n]))) {
				out->len = start;
				return token_error(text, i,
						   "not JSON: invalid literal");
			}
			memcpy(out->p + out->len, text + i, n);
			out->len += n;
			i += n;
		}
	}
	out->p[out->len] = 0;
	/* the top-level type once the text is known to be JSON */
	if (kind != JV_KIND_OBJECT) {
		out->len = start;
		return nedb__err(NEDB_EINPUT, "not an object: got %s",
				 jv_kind_name(kind));
	}
	if (out->len - start > MAX_DOC) {
		out->len = start;
		return nedb__err(NEDB_EINPUT, "document too large: more than "
				 "%u bytes", MAX_DOC);
	}
	return 0;
}

/* End of the JSON value starting at s (compact, valid). */
const char *
nedb__value_end(const char *s)
{
	int depth = 0;

	do {
		switch (*s) {
		case '"':
			s++;
			while (*s != '"')
				s += *s == '\\' ? 2 : 1;
			s++;
			break;
		case '{':
		case '[':
			depth++;
			s++;
			break;
		case '}':
		case ']':
			depth--;
			s++;
			break;
		default:
			if (!depth) {
				while (*s && *s != ',' && *s != '}' &&
				       *s != ']')
					s++;
				return s;
			}
			s++;
		}
	} while (depth > 0);
	return s;
}

void
nedb__each_value(struct nql_span c, void (*fn)(struct nql_span, void *),
		 void *payload)
{
	const char *p = c.p + 1, *end = c.p + c.len - 1;
	bool object = *c.p == '{';

	while (p < end) {
		const char *s = p;

		if (object)		/* the key, then ':' */
			p = nedb__value_end(p) + 1;
		p = nedb__value_end(p);
		fn((struct nql_span){s, (size_t)(p - s)}, payload);
		p++;			/* ',' or the closing bracket */
	}
}

/* Does the key literal k (with quotes) name key? */
static bool
key_is(const char *k, size_t klen, const char *key)
{
	size_t n = strlen(key);
	char *dec;
	bool eq;

	if (!memchr(k, '\\', klen))
		return klen == n + 2 && !memcmp(k + 1, key, n);
	if (nedb__json_string(k, klen, &dec))
		return false;
	eq = !strcmp(dec, key);
	free(dec);
	return eq;
}

struct member {
	const char *k, *v;
	size_t klen, vlen;
};

/* Iterates members: *pos starts at 0; returns false at the end. */
static bool
next_member(const char *doc, size_t *pos, struct member *m)
{
	const char *p = doc + *pos;

	if (*pos == 0)
		p++;			/* skip '{' */
	while (*p == ' ')
		p++;			/* a redacted log line's (log.c) */
	if (*p == '}' || !*p)
		return false;
	if (*p == ',')
		p++;
	m->k = p;
	p = nedb__value_end(p);
	m->klen = (size_t)(p - m->k);
	m->v = ++p;			/* skip ':' */
	p = nedb__value_end(p);
	m->vlen = (size_t)(p - m->v);
	*pos = (size_t)(p - doc);
	return true;
}

bool
nedb__doc_member(const char *doc, size_t len, const char *key,
		 const char **v, size_t *vlen)
{
	struct member m;
	size_t pos = 0;
	bool found = false;

	(void)len;
	while (next_member(doc, &pos, &m))
		if (key_is(m.k, m.klen, key)) {
			*v = m.v;
			*vlen = m.vlen;
			found = true;	/* the last one wins, as in jq */
		}
	return found;
}

size_t
nedb__doc_members(const char *doc, const char *const *keys, size_t n,
		  const char **v, size_t *vlen)
{
	struct member m;
	size_t pos = 0, found = 0;

	for (size_t i = 0; i < n; i++)
		v[i] = NULL;
	while (next_member(doc, &pos, &m))
		for (size_t i = 0; i < n; i++)
			if (key_is(m.k, m.klen, keys[i])) {
				found += !v[i];
				v[i] = m.v;	/* the last one wins */
				vlen[i] = m.vlen;
				break;
			}
	return found;
}

int
nedb__doc_set(nedb_buf *doc, const char *key, const char *val, size_t vlen,
	      bool first)
{
	nedb_buf out = {0};
	struct member m;
	size_t pos = 0;
	bool any = false, placed = false, exists = false;

	/* an existing member keeps its place; a new one goes first or last */
	while (next_member(doc->p, &pos, &m))
		exists |= key_is(m.k, m.klen, key);
	pos = 0;
	if (nedb_buf_add(&out, "{", 1))
		return NEDB_EIO;
	if (val && first && !exists) {
		nedb_buf_json_str(&out, key, strlen(key));
		nedb_buf_add(&out, ":", 1);
		nedb_buf_add(&out, val, vlen);
		any = placed = true;
	}
	while (next_member(doc->p, &pos, &m)) {
		if (key_is(m.k, m.klen, key)) {
			if (!val || placed)
				continue;
			if (any)
				nedb_buf_add(&out, ",", 1);
			nedb_buf_add(&out, m.k, m.klen + 1);
			nedb_buf_add(&out, val, vlen);
			any = placed = true;
			continue;
		}
		if (any)
			nedb_buf_add(&out, ",", 1);
		nedb_buf_add(&out, m.k, m.klen + 1 + m.vlen);
		any = true;
	}
	if (val && !placed) {
		if (any)
			nedb_buf_add(&out, ",", 1);
		nedb_buf_json_str(&out, key, strlen(key));
		nedb_buf_add(&out, ":", 1);
		nedb_buf_add(&out, val, vlen);
	}
	if (nedb_buf_add(&out, "}", 1)) {
		nedb_buf_free(&out);
		return NEDB_EIO;
	}
	nedb_buf_free(doc);
	*doc = out;
	return 0;
}

int
nedb__doc_merge(nedb_buf *doc, const char *patch, size_t plen)
{
	nedb_buf out = {0};
	struct member m, pm;
	size_t pos = 0, ppos;
	bool any = false;
	int rc = 0;

	(void)plen;
	nedb_buf_add(&out, "{", 1);
	/* Members of doc, each replaced by the patch's value if it has one. */
	while (next_member(doc->p, &pos, &m)) {
		const char *v = m.v;
		size_t vlen = m.vlen;

		ppos = 0;
		while (next_member(patch, &ppos, &pm))
			if (pm.klen == m.klen && !memcmp(pm.k, m.k, m.klen)) {
				v = pm.v;
				vlen = pm.vlen;
			}
		if (any)
			nedb_buf_add(&out, ",", 1);
		nedb_buf_add(&out, m.k, m.klen + 1);
		nedb_buf_add(&out, v, vlen);
		any = true;
	}
	/* Then the patch's new members. */
	ppos = 0;
	while (next_member(patch, &ppos, &pm)) {
		bool seen = false;

		pos = 0;
		while (next_member(doc->p, &pos, &m))
			if (pm.klen == m.klen && !memcmp(pm.k, m.k, m.klen))
				seen = true;
		if (seen)
			continue;
		if (any)
			nedb_buf_add(&out, ",", 1);
		nedb_buf_add(&out, pm.k, pm.klen + 1 + pm.vlen);
		any = true;
	}
	if (nedb_buf_add(&out, "}", 1))
		rc = NEDB_EIO;
	nedb_buf_free(doc);
	*doc = out;
	return rc;
}

int
nedb__json_string(const char *lit, size_t len, char **out)
{
	jv v;

	*out = NULL;
	if (nedb__jv_require())
		return NEDB_EIO;
	v = jv_parse_sized(lit, (int)len);
	if (jv_get_kind(v) != JV_KIND_STRING) {
		jv_free(v);
		return nedb__err(NEDB_EINPUT, "not a JSON string");
	}
	if (strlen(jv_string_value(v)) != (size_t)jv_string_length_bytes(
		    jv_copy(v))) {
		jv_free(v);
		return nedb__err(NEDB_EINPUT, "bad id: control character "
				 "(NUL)");
	}
	*out = nedb__strdup(jv_string_value(v));
	jv_free(v);
	return 0;
}

static void
newline(nedb_buf *out, int depth)
{
	nedb_buf_add(out, "\n", 1);
	for (int i = 0; i < depth; i++)
		nedb_buf_add(out, "  ", 2);
}

/*
 * Re-indents JSON text (two spaces, as jq does) without parsing it into
 * values, so numbers print exactly as stored.  The text must be valid
 * JSON; whitespace outside strings is dropped and re-laid.
 */
int
nedb_json_pretty(nedb_buf *out, const char *text, size_t len)
{
	int depth = 0;
	size_t i = 0;

	while (i < len) {
		char c = text[i];

		switch (c) {
		case ' ': case '\t': case '\n': case '\r':
			i++;
			break;
		case '"': {
			size_t j = i + 1;

			while (j < len && text[j] != '"')
				j += text[j] == '\\' ? 2 : 1;
			nedb_buf_add(out, text + i, j + 1 - i);
			i = j + 1;
			break;
		}
		case '{': case '[': {
			size_t j = i + 1;

			while (j < len && strchr(" \t\n\r", text[j]))
				j++;
			if (j < len && (text[j] == '}' || text[j] == ']')) {
				nedb_buf_add(out, text + i, 1);
				nedb_buf_add(out, text + j, 1);
				i = j + 1;
				break;
			}
			nedb_buf_add(out, &c, 1);
			newline(out, ++depth);
			i++;
			break;
		}
		case '}': case ']':
			newline(out, --depth);
			nedb_buf_add(out, &c, 1);
			i++;
			break;
		case ',':
			nedb_buf_add(out, ",", 1);
			newline(out, depth);
			i++;
			break;
		case ':':
			nedb_buf_add(out, ": ", 2);
			i++;
			break;
		default:
			nedb_buf_add(out, &c, 1);
			i++;
		}
	}
	return nedb_buf_add(out, "\n", 1);
}

int
nedb_project(nedb_buf *out, const char *doc, size_t len, const char *spec)
{
	nedb_buf s = {0};
	struct member m, sm;
	size_t pos = 0, spos;
	int include = -1, rc = 0;
	bool any = false, id_out = true;

	(void)len;
	if ((rc = nedb__doc_normalize(&s, spec, strlen(spec))))
		return nedb__err(NEDB_EUSAGE, "bad --project: %s",
				 nedb_errmsg());
	/* every member is 1/true (include) or 0/false (exclude); _id may
	 * be excluded from an inclusion */
	spos = 0;
	while (next_member(s.p, &spos, &sm)) {
		bool on = (sm.vlen == 1 && *sm.v == '1') ||
			  (sm.vlen == 4 && !memcmp(sm.v, "true", 4));
		bool off = (sm.vlen == 1 && *sm.v == '0') ||
			   (sm.vlen == 5 && !memcmp(sm.v, "false", 5));

		if (!on && !off) {
			rc = nedb__err(NEDB_EUSAGE, "bad --project: want "
				       "{\"field\":1, ...} or {\"field\":0, ...}");
			goto done;
		}
		if (key_is(sm.k, sm.klen, "_id")) {
			id_out = on;
			continue;
		}
		if (include >= 0 && include != on) {
			rc = nedb__err(NEDB_EUSAGE, "bad --project: cannot "
				       "mix inclusion and exclusion");
			goto done;
		}
		include = on;
	}
	nedb_buf_add(out, "{", 1);
	while (next_member(doc, &pos, &m)) {
		bool listed = false, keep;

		spos = 0;
		while (next_member(s.p, &spos, &sm))
			if (sm.klen == m.klen && !memcmp(sm.k, m.k, m.klen))
				listed = true;
		if (key_is(m.k, m.klen, "_id"))
			keep = id_out;
		else
			keep = include == 1 ? listed : !listed;
		if (!keep)
			continue;
		if (any)
			nedb_buf_add(out, ",", 1);
		nedb_buf_add(out, m.k, m.klen + 1 + m.vlen);
		any = true;
	}
	rc = nedb_buf_add(out, "}", 1);
done:
	nedb_buf_free(&s);
	return rc;
}

int
nedb_doc_id(const char *doc, size_t len, char **out)
{
	const char *v;
	size_t vlen;

	*out = NULL;
	if (!nedb__doc_member(doc, len, "_id", &v, &vlen) || *v != '"')
		return nedb__err(NEDB_EINPUT, "document has no string _id");
	return nedb__json_string(v, vlen, out);
}

int
nedb_json_object(nedb_buf *out, const char *text, size_t len)
{
	return nedb__doc_normalize(out, text, len);
}

int
nedb_json_member(const char *obj, size_t len, const char *key,
		 const char **v, size_t *vlen)
{
	return nedb__doc_member(obj, len, key, v, vlen);
}

int
nedb_json_string(const char *lit, size_t len, char **out)
{
	return nedb__json_string(lit, len, out);
}

int
nedb_json_each(const char *json, size_t len, nedb_json_fn fn, void *payload)
{
	const char *p, *end;
	bool object;

	if (len < 2 || (*json != '{' && *json != '[') ||
	    json[len - 1] != (*json == '{' ? '}' : ']'))
		return nedb__err(NEDB_EINPUT, "not a JSON array or object");
	object = *json == '{';
	p = json + 1;
	end = json + len - 1;
	while (p < end) {
		const char *k = NULL, *v;
		size_t klen = 0;
		int rc;

		if (object) {
			k = p;
			p = nedb__value_end(p);
			klen = (size_t)(p - k);
			p++;	/* ':' */
		}
		v = p;
		p = nedb__value_end(p);
		if ((rc = fn(k, klen, v, (size_t)(p - v), payload)))
			return rc;
		if (p < end && *p == ',')
			p++;
	}
	return 0;
}
