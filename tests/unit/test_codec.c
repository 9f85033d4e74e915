/*
 * test_codec.c - the view's keys and values (lib/view/codec.c): every
 * encoding round-trips, its bytes are the ones views already hold, and
 * keys sort as the reads that seek in LMDB rely on.
 */
#include <stdint.h>
#include <stdlib.h>
#include "codec.h"
#include "nql.h"
#include "unit.h"

/* LMDB's default key order: memcmp, then the shorter first. */
static int
keycmp(const unsigned char *a, size_t alen, const unsigned char *b,
       size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	return c ? c : (alen > blen) - (alen < blen);
}

static struct nql_span
span(const char *s)
{
	return (struct nql_span){s, strlen(s)};
}

static void
test_doc_keys_round_trip(void)
{
	unsigned char k[DOCKEY_MAX], p[MAX_COLL + 1];
	const char *coll, *id;
	size_t clen, idlen, n = nedb__dockey(k, "users", "u1");

	CHECK(n == 8 && !memcmp(k, "users\0u1", 8));
	CHECK(nedb__dockey_n(k, "users", "u1xyz", 2) == 8);
	CHECK(!memcmp(k, "users\0u1", 8));
	CHECK(nedb__dockey_split(k, n, &coll, &clen, &id, &idlen));
	CHECK(clen == 5 && !memcmp(coll, "users", 5));
	CHECK(idlen == 2 && !memcmp(id, "u1", 2));
	CHECK(!nedb__dockey_split("nozero", 6, &coll, &clen, &id, &idlen));
	/* a collection's prefix begins its documents' keys, not another's */
	CHECK(nedb__collprefix(p, "users") == 6);
	CHECK(nedb__key_in(k, n, p, 6));
	CHECK(!nedb__key_in(p, 6, p, 6));	/* the prefix alone: no id */
	n = nedb__dockey(k, "users2", "u1");
	CHECK(!nedb__key_in(k, n, p, 6));
}

static void
test_dochdr_bytes_are_little_endian(void)
{
	struct dochdr h = {0x0102030405060708ull, -2, 1700000000000, {0}}, g;
	unsigned char b[DOCHDR_LEN];

	for (int i = 0; i < HASH_LEN; i++)
		h.hash[i] = (unsigned char)(0xa0 + i);
	nedb__dochdr_put(b, &h);
	/* the bytes the state digest covers: fixed by the format */
	CHECK(b[0] == 0x08 && b[7] == 0x01);
	CHECK(b[8] == 0xfe && b[15] == 0xff);
	CHECK(b[24] == 0xa0 && b[55] == 0xa0 + HASH_LEN - 1);
	nedb__dochdr_get(&g, b);
	CHECK(g.seq == h.seq && g.ts == h.ts && g.exp == h.exp);
	CHECK(!memcmp(g.hash, h.hash, HASH_LEN));
}

static void
test_docval_round_trip_and_short_value(void)
{
	struct dochdr h = {42, 1000, 2000, {1, 2, 3}}, g;
	nedb_buf b = {0};
	const char *doc = NULL;
	size_t len = 0;

	CHECK(nedb__docval_put(&b, &h, "{\"a\":1}", 7) == 0);
	CHECK(b.len == DOCHDR_LEN + 7);
	CHECK(nedb__docval_get(b.p, b.len, &g, &doc, &len) == 0);
	CHECK(g.seq == 42 && g.ts == 1000 && g.exp == 2000);
	CHECK(g.hash[2] == 3);
	CHECK(len == 7 && !memcmp(doc, "{\"a\":1}", 7));
	CHECK(nedb__docval_get(b.p, DOCHDR_LEN - 1, &g, &doc, &len) ==
	      NEDB_ECORRUPT);
	CHECK(strstr(nedb_errmsg(), "corrupt view") != NULL);
	nedb_buf_free(&b);
}

static void
test_version_keys_round_trip(void)
{
	unsigned char k[VERKEY_MAX], d[VERKEY_MAX], p[VERKEY_MAX];
	const char *id;
	size_t n, dn, pn, idlen;
	uint64_t seq;

	n = nedb__verkey(k, "c", "doc", 3, 0x1234);
	CHECK(n == 2 + 3 + 9 && !memcmp(k, "c\0doc\0", 6));
	CHECK(k[6] == 0 && k[12] == 0x12 && k[13] == 0x34);	/* be64 */
	/* a docs key made its version key: the same bytes */
	dn = nedb__dockey(d, "c", "doc");
	CHECK(nedb__verkey_of(d, dn, 0x1234) == n && !memcmp(d, k, n));
	/* under the collection's prefix: id and seq */
	pn = nedb__collprefix(p, "c");
	CHECK(nedb__verkey_get(k, n, p, pn, &id, &idlen, &seq));
	CHECK(idlen == 3 && !memcmp(id, "doc", 3) && seq == 0x1234);
	/* under the document's prefix: exactly its versions */
	pn = nedb__verprefix(p, "c", "doc", 3);
	CHECK(pn == 6 && nedb__verkey_seq(k, n, p, pn, &seq) && seq == 0x1234);
	n = nedb__verkey(k, "c", "docs", 4, 7);
	CHECK(!nedb__verkey_seq(k, n, p, pn, &seq));
	pn = nedb__collprefix(p, "d");
	CHECK(!nedb__verkey_get(k, n, p, pn, &id, &idlen, &seq));
}

static void
test_version_keys_sort_by_seq(void)
{
	static const uint64_t seqs[] = {1, 2, 255, 256, 65535, 65536,
					1ull << 40, UINT64_MAX - 1};
	unsigned char a[VERKEY_MAX], b[VERKEY_MAX];

	for (size_t i = 0; i + 1 < sizeof seqs / sizeof *seqs; i++) {
		size_t an = nedb__verkey(a, "c", "x", 1, seqs[i]);
		size_t bn = nedb__verkey(b, "c", "x", 1, seqs[i + 1]);

		CHECK(keycmp(a, an, b, bn) < 0);
	}
}

static void
test_version_bound_lies_between(void)
{
	unsigned char v[VERKEY_MAX], bound[VERKEY_MAX], next[VERKEY_MAX];
	size_t vn, bn, nn;

	/* as of seq 10: past version 10, before version 11 */
	bn = nedb__verkey_bound(bound, nedb__verprefix(bound, "c", "a", 1),
				10);
	vn = nedb__verkey(v, "c", "a", 1, 10);
	CHECK(keycmp(v, vn, bound, bn) < 0);
	vn = nedb__verkey(v, "c", "a", 1, 11);
	CHECK(keycmp(bound, bn, v, vn) <= 0);
	/* HEAD: past every version of "a", before any key of "ab" */
	bn = nedb__verkey_bound(bound, nedb__verprefix(bound, "c", "a", 1),
				NEDB_HEAD);
	vn = nedb__verkey(v, "c", "a", 1, UINT64_MAX);
	CHECK(keycmp(v, vn, bound, bn) < 0);
	nn = nedb__verkey(next, "c", "ab", 2, 0);
	CHECK(keycmp(bound, bn, next, nn) < 0);
	nn = nedb__verkey(next, "c", "a!", 2, 0);
	CHECK(keycmp(bound, bn, next, nn) < 0);
	/* and the prefix comes back */
	nedb__key_past(bound, bn, false);
	CHECK(bn == 4 && !memcmp(bound, "c\0a\0", 4));
}

static void
test_seq_keys_round_trip_and_sort(void)
{
	unsigned char a[8], b[8];

	CHECK(nedb__seqkey(a, 300) == 8);
	CHECK(nedb__seqkey_get(a) == 300);
	nedb__seqkey(b, 1ull << 33);
	CHECK(keycmp(a, 8, b, 8) < 0);
	CHECK(a[6] == 0x01 && a[7] == 0x2c);
}

static void
test_ttl_keys_round_trip_and_sort(void)
{
	unsigned char d[DOCKEY_MAX], a[TTLKEY_MAX], b[TTLKEY_MAX];
	unsigned char z[TTLKEY_MAX];
	size_t dn = nedb__dockey(d, "c", "x"), an, bn, zn, dklen;
	const void *dk;
	int64_t exp;

	an = nedb__ttlkey(a, 1700000000000, d, dn);
	CHECK(an == 8 + dn && !memcmp(a + 8, d, dn));
	CHECK(nedb__ttlkey_get(a, an, &exp, &dk, &dklen));
	CHECK(exp == 1700000000000 && dklen == dn && !memcmp(dk, d, dn));
	CHECK(!nedb__ttlkey_get(a, 7, &exp, &dk, &dklen));
	/* by expiry time first, whatever the document */
	dn = nedb__dockey(d, "a", "a");
	bn = nedb__ttlkey(b, 1700000000001, d, dn);
	CHECK(keycmp(a, an, b, bn) < 0);
	bn = nedb__ttlkey(b, 1800000000000, d, dn);
	CHECK(keycmp(a, an, b, bn) < 0);
	/* the start of a sweep is before every entry */
	zn = nedb__ttlkey(z, 0, NULL, 0);
	CHECK(zn == 8 && keycmp(z, zn, a, an) < 0);
}

static void
test_numbers_round_trip_and_wrong_size(void)
{
	unsigned char b[NUM_LEN];
	uint64_t v = 1;

	nedb__num_put(b, 0x0102030405060708ull);
	CHECK(b[0] == 0x01 && b[7] == 0x08);		/* be64 */
	CHECK(nedb__num_get(b, sizeof b, &v) == 0);
	CHECK(v == 0x0102030405060708ull);
	CHECK(nedb__num_get(b, 4, &v) == NEDB_ECORRUPT && v == 0);
}

static void
test_name_keys_refuse_overlong(void)
{
	char out[MAX_COLL + 1];

	CHECK(nedb__namekey_get("users", 5, out, MAX_COLL) == 0);
	CHECK_STR(out, "users");
	CHECK(nedb__namekey_get("0123456789", 10, out, 4) == NEDB_ECORRUPT);
}

static void
test_node_ids_are_be64(void)
{
	unsigned char a[8], b[8];

	CHECK(nedb__nodeid_key(a, 255) == 8 && a[7] == 0xff);
	nedb__nodeid_key(b, 256);
	CHECK(keycmp(a, 8, b, 8) < 0);
}

static void
test_edge_keys_round_trip(void)
{
	unsigned char k[EDGEHIST_MAX];
	uint64_t a, b, seq;
	const char *rel;
	size_t n, rlen, base;

	n = nedb__edgekey(k, 3, "knows", 7);
	CHECK(n == 17 + 5 && k[7] == 3 && !memcmp(k + 8, "knows\0", 6));
	CHECK(k[21] == 7);
	CHECK(nedb__edgekey_get(k, n, false, &a, &rel, &rlen, &b, &seq,
				&base));
	CHECK(a == 3 && b == 7 && rlen == 5 && !memcmp(rel, "knows", 5));
	CHECK(seq == 0 && base == n);
	/* its history key */
	CHECK(nedb__edgehist_key(k, n, 99) == n + 8);
	CHECK(nedb__edgekey_get(k, n + 8, true, &a, &rel, &rlen, &b, &seq,
				&base));
	CHECK(a == 3 && b == 7 && rlen == 5 && seq == 99 && base == n);
	CHECK(!nedb__edgekey_get(k, 10, false, &a, &rel, &rlen, &b, &seq,
				 &base));
	CHECK(nedb__edgehist_kind((unsigned char[]){nedb__edgehist_val(
		OP_LINK)}, 1) == OP_LINK);
	CHECK(nedb__edgehist_kind("ab", 2) == -1);
}

static void
test_edge_prefixes_and_history_order(void)
{
	unsigned char p[EDGEKEY_MAX], k[EDGEHIST_MAX], h[EDGEHIST_MAX];
	size_t pn, n, hn;

	/* a node's edges of one relation; all of them without one */
	pn = nedb__edgeprefix(p, 3, "knows");
	n = nedb__edgekey(k, 3, "knows", 7);
	CHECK(pn == 14 && nedb__key_in(k, n, p, pn));
	n = nedb__edgekey(k, 3, "knows2", 7);
	CHECK(!nedb__key_in(k, n, p, pn));
	pn = nedb__edgeprefix(p, 3, NULL);
	CHECK(pn == 8 && nedb__key_in(k, n, p, pn));
	n = nedb__edgekey(k, 4, "knows", 7);
	CHECK(!nedb__key_in(k, n, p, pn));
	/* one edge's changes sort by seq */
	n = nedb__edgehist_key(k, nedb__edgekey(k, 3, "r", 7), 256);
	hn = nedb__edgehist_key(h, nedb__edgekey(h, 3, "r", 7), 255);
	CHECK(keycmp(h, hn, k, n) < 0);
	/* and the edges of a node by the other node's number */
	n = nedb__edgekey(k, 3, "r", 256);
	hn = nedb__edgekey(h, 3, "r", 255);
	CHECK(keycmp(h, hn, k, n) < 0);
}

static void
test_index_definitions_round_trip(void)
{
	unsigned char k[IXDEF_MAX];
	char coll[MAX_COLL + 1], field[MAX_FIELD + 1], name[16];
	size_t n = nedb__ixdef_key(k, "users", "a.b");

	CHECK(n == 9 && !memcmp(k, "users\0a.b", 9));
	CHECK(nedb__ixdef_get(k, n, coll, field) == 0);
	CHECK_STR(coll, "users");
	CHECK_STR(field, "a.b");
	CHECK(nedb__ixdef_get("nozero", 6, coll, field) == NEDB_ECORRUPT);
	CHECK(nedb__ixdef_kind("eq", 2, name) == 'e');
	CHECK_STR(name, "eq");
	CHECK(nedb__ixdef_kind("ordered", 7, NULL) == 'o');
	CHECK(nedb__ixdef_kind("search", 6, NULL) == 's');
	CHECK(nedb__ixdef_kind("other", 5, NULL) == 0);
}

static void
test_index_keys_layout(void)
{
	unsigned char k[IXKEY_MAX], lo[IXKEY_MAX], hi[IXKEY_MAX];
	char tok[MAX_ENTRY + 50];
	size_t n = nedb__ix_prefix(k, "c", "f", 'o'), e, ln, hn;

	CHECK(n == 6 && !memcmp(k, "c\0f\0o\0", 6));
	e = nedb__ixkey_value(k, n, span("\"x\""));
	CHECK(e == n + 4 && k[n] == T_STRING && k[n + 1] == 'x');
	/* the prefix with its last byte 1 is past every entry */
	memcpy(hi, k, n);
	nedb__key_past(hi, n, true);
	CHECK(keycmp(k, e, hi, n) < 0);
	nedb__key_past(hi, n, false);
	CHECK(!memcmp(hi, k, n));
	/* tokens are cut to MAX_ENTRY */
	memset(tok, 'a', sizeof tok);
	CHECK(nedb__ixkey_token(k, n, tok, sizeof tok) == n + MAX_ENTRY);
	CHECK(nedb__ixkey_token(k, n, "ab", 2) == n + 2);
	CHECK(!memcmp(k + n, "ab", 2));
	CHECK(nedb__ixkey_entry(k, n, "zz", 2) == n + 2);
	/* different kinds and fields are apart */
	ln = nedb__ix_prefix(lo, "c", "f", 'e');
	hn = nedb__ix_prefix(hi, "c", "f.g", 'e');
	CHECK(keycmp(lo, ln, hi, hn) < 0 && !nedb__key_in(hi, hn, lo, ln));
}

static void
test_ordered_numbers_sort_numerically(void)
{
	static const char *const nums[] = {
		"-1e10", "-100", "-10", "-9.5", "-1.5", "-1", "-0.25", "0",
		"0.25", "1", "1.5", "2", "9.5", "10", "100", "1e10", "1e400"
	};
	unsigned char a[IXKEY_MAX], b[IXKEY_MAX];
	size_t p = nedb__ix_prefix(a, "c", "n", 'o');

	memcpy(b, a, p);
	for (size_t i = 0; i + 1 < sizeof nums / sizeof *nums; i++) {
		size_t an = nedb__ixkey_value(a, p, span(nums[i]));
		size_t bn = nedb__ixkey_value(b, p, span(nums[i + 1]));

		if (keycmp(a, an, b, bn) >= 0)
			fprintf(stderr, "%s not below %s\n", nums[i],
				nums[i + 1]);
		CHECK(keycmp(a, an, b, bn) < 0);
	}
	/* "=" values share a key */
	CHECK(nedb__ixkey_value(a, p, span("3")) ==
	      nedb__ixkey_value(b, p, span("3.0")));
	CHECK(!memcmp(a, b, nedb__ixkey_value(a, p, span("3"))));
}

static void
test_index_keys_follow_the_type_order(void)
{
	static const char *const vals[] = {
		"null", "false", "true", "-5", "7", "\"\"", "\"a\"", "\"ab\"",
		"\"b\"", "[1]", "{\"a\":1}"
	};
	unsigned char a[IXKEY_MAX], b[IXKEY_MAX];

	for (size_t i = 0; i + 1 < sizeof vals / sizeof *vals; i++) {
		size_t an = nedb__ixkey_value(a, 0, span(vals[i]));
		size_t bn = nedb__ixkey_value(b, 0, span(vals[i + 1]));

		CHECK(keycmp(a, an, b, bn) < 0);
	}
}

/* Whether entry of value v lies in range r (from lo, not past hi). */
static bool
in_range(const struct ixrange *r, const char *v)
{
	unsigned char e[MAX_ENTRY];
	size_t n = nedb__ixkey_value(e, 0, span(v));

	return keycmp(e, n, r->lo, r->lo_len) >= 0 &&
	       !nedb__ixrange_past(r, e, n);
}

static void
test_ranges_cover_their_values(void)
{
	struct ixrange r;

	nedb__ixrange(&r, CMP_GT, span("5"));
	CHECK(in_range(&r, "5") && in_range(&r, "6") && in_range(&r, "1e9"));
	CHECK(!in_range(&r, "4") && !in_range(&r, "\"a\"") &&
	      !in_range(&r, "true"));
	nedb__ixrange(&r, CMP_LE, span("5"));
	CHECK(in_range(&r, "5") && in_range(&r, "-100"));
	CHECK(!in_range(&r, "5.5") && !in_range(&r, "true") &&
	      !in_range(&r, "\"a\""));
	nedb__ixrange(&r, CMP_EQ, span("\"ab\""));
	CHECK(in_range(&r, "\"ab\"") && !in_range(&r, "\"abc\"") &&
	      !in_range(&r, "\"aa\""));
	nedb__ixrange(&r, CMP_GE, span("\"m\""));
	CHECK(in_range(&r, "\"z\"") && !in_range(&r, "\"a\"") &&
	      !in_range(&r, "[1]") && !in_range(&r, "1"));
}

static void
test_exact_entries(void)
{
	unsigned char e[MAX_ENTRY];
	char big[MAX_ENTRY + 10];
	size_t n;

	n = nedb__ixkey_value(e, 0, span("42"));
	CHECK(nedb__ixentry_exact(e, n));
	n = nedb__ixkey_value(e, 0, span("\"short\""));
	CHECK(nedb__ixentry_exact(e, n));
	n = nedb__ixkey_value(e, 0, span("[1,2]"));
	CHECK(!nedb__ixentry_exact(e, n));
	n = nedb__ixkey_value(e, 0, span("{\"a\":1}"));
	CHECK(!nedb__ixentry_exact(e, n));
	big[0] = '"';
	memset(big + 1, 'x', sizeof big - 3);
	big[sizeof big - 2] = '"';
	big[sizeof big - 1] = 0;
	n = nedb__ixkey_value(e, 0, span(big));
	CHECK(n == MAX_ENTRY && !nedb__ixentry_exact(e, n));
}

static void
test_little_endian_helpers(void)
{
	unsigned char b[8];

	nedb__put_le32(b, 0x01020304);
	CHECK(b[0] == 4 && b[3] == 1 && nedb__get_le32(b) == 0x01020304);
	nedb__put_le64(b, 0x0102030405060708ull);
	CHECK(b[0] == 8 && b[7] == 1);
	CHECK(nedb__get_le64(b) == 0x0102030405060708ull);
}

int
main(void)
{
	RUN(test_doc_keys_round_trip);
	RUN(test_dochdr_bytes_are_little_endian);
	RUN(test_docval_round_trip_and_short_value);
	RUN(test_version_keys_round_trip);
	RUN(test_version_keys_sort_by_seq);
	RUN(test_version_bound_lies_between);
	RUN(test_seq_keys_round_trip_and_sort);
	RUN(test_ttl_keys_round_trip_and_sort);
	RUN(test_numbers_round_trip_and_wrong_size);
	RUN(test_name_keys_refuse_overlong);
	RUN(test_node_ids_are_be64);
	RUN(test_edge_keys_round_trip);
	RUN(test_edge_prefixes_and_history_order);
	RUN(test_index_definitions_round_trip);
	RUN(test_index_keys_layout);
	RUN(test_ordered_numbers_sort_numerically);
	RUN(test_index_keys_follow_the_type_order);
	RUN(test_ranges_cover_their_values);
	RUN(test_exact_entries);
	RUN(test_little_endian_helpers);
	UNIT_DONE();
}
