/*
 * test_proof.c - offline verification (lib/proof/): RFC 6962 hashes and
 * proofs, sumdb/note keys and signatures, checkpoints, cosignatures and
 * tlog-proof@v1.
 *
 * Known answers: the roots of the RFC 6962 reference tree (the eight
 * leaves of certificate-transparency's test data), and the key and
 * signed note of Go's sumdb/note tests (PeterNeumann), which Ed25519's
 * determinism lets us reproduce byte for byte.  The proofs are checked
 * exhaustively for small trees against a naive prover written here from
 * RFC 9162 §2.1.3.1 and §2.1.4.1, and every single-bit change of each is
 * refused.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "verify.h"
#include "unit.h"

static void
unhex(unsigned char *out, const char *hex)
{
	if (nedb__unhex(out, hex, strlen(hex) / 2))
		abort();
}

/* --- a naive tree (RFC 9162 §2.1.1) over leaf hashes --- */

static nedb_thash leaves[80];

static uint64_t
split(uint64_t n)
{
	uint64_t k = 1;

	while (k << 1 < n)
		k <<= 1;
	return k;
}

static void
mth(nedb_thash out, uint64_t lo, uint64_t hi)
{
	nedb_thash l, r;
	uint64_t k;

	if (hi - lo == 1) {
		memcpy(out, leaves[lo], 32);
		return;
	}
	k = split(hi - lo);
	mth(l, lo, lo + k);
	mth(r, lo + k, hi);
	nedb__tlog_node(out, l, r);
}

static size_t
path(nedb_thash *out, uint64_t m, uint64_t lo, uint64_t hi)
{
	uint64_t k;
	size_t n;

	if (hi - lo <= 1)
		return 0;
	k = split(hi - lo);
	if (m - lo < k) {
		n = path(out, m, lo, lo + k);
		mth(out[n], lo + k, hi);
	} else {
		n = path(out, m, lo + k, hi);
		mth(out[n], lo, lo + k);
	}
	return n + 1;
}

static size_t
subproof(nedb_thash *out, uint64_t m, uint64_t lo, uint64_t hi, bool b)
{
	uint64_t n = hi - lo, k;
	size_t c;

	if (m == n) {
		if (b)
			return 0;
		mth(out[0], lo, hi);
		return 1;
	}
	k = split(n);
	if (m <= k) {
		c = subproof(out, m, lo, lo + k, b);
		mth(out[c], lo + k, hi);
	} else {
		c = subproof(out, m - k, lo + k, hi, false);
		mth(out[c], lo, lo + k);
	}
	return c + 1;
}

static void
test_reference_roots(void)
{
	static const char *data[] = {
		"", "00", "10", "2021", "3031", "40414243",
		"5051525354555657", "606162636465666768696a6b6c6d6e6f",
	};
	static const char *roots[] = {
		"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
		"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
		"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
		"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
		"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
		"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
		"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
		"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
	};
	unsigned char d[16];
	nedb_thash root, want;

	for (int i = 0; i < 8; i++) {
		unhex(d, data[i]);
		CHECK(nedb__tlog_leaf(leaves[i], d, strlen(data[i]) / 2) == 0);
	}
	for (int n = 1; n <= 8; n++) {
		mth(root, 0, (uint64_t)n);
		unhex(want, roots[n - 1]);
		CHECK(!memcmp(root, want, 32));
	}
}

/* Op hashes as nedb's leaves: leaf i = SHA-256(0x00 || SHA-256(i)). */
static void
make_leaves(void)
{
	for (int i = 0; i < 80; i++) {
		unsigned char op[32];

		CHECK(nedb__sha256(op, &i, sizeof i) == 0);
		CHECK(nedb__tlog_leaf(leaves[i], op, sizeof op) == 0);
	}
}

static void
test_inclusion_all(void)
{
	nedb_thash p[NEDB_TLOG_MAX_PATH], root, other;
	int bad = 0;

	make_leaves();
	for (uint64_t n = 1; n <= 70; n++) {
		mth(root, 0, n);
		for (uint64_t i = 0; i < n; i++) {
			size_t k = path(p, i, 0, n);

			bad += nedb__tlog_check_inclusion(i, n, leaves[i], root,
							  p, k) != 0;
			/* another leaf, another index, a path too short */
			bad += nedb__tlog_check_inclusion(i, n, leaves[i + 1],
							  root, p, k) == 0;
			if (n > 1)
				bad += nedb__tlog_check_inclusion(
					(i + 1) % n, n, leaves[i], root, p,
					k) == 0;
			if (k)
				bad += nedb__tlog_check_inclusion(i, n,
					leaves[i], root, p, k - 1) == 0;
			/* every single bit of the path */
			for (size_t j = 0; j < k && n < 20; j++)
				for (int b = 0; b < 256; b++) {
					p[j][b / 8] ^= (unsigned char)(1 << b % 8);
					bad += nedb__tlog_check_inclusion(i, n,
						leaves[i], root, p, k) == 0;
					p[j][b / 8] ^= (unsigned char)(1 << b % 8);
				}
		}
		memcpy(other, root, 32);
		other[5] ^= 4;
		bad += nedb__tlog_check_inclusion(0, n, leaves[0], other, p,
						  path(p, 0, 0, n)) == 0;
		bad += nedb__tlog_check_inclusion(n, n, leaves[0], root, p,
						  0) != NEDB_EBROKEN;
	}
	CHECK(bad == 0);
}

static void
test_consistency_all(void)
{
	nedb_thash p[NEDB_TLOG_MAX_PATH], r1, r2;
	int bad = 0;

	make_leaves();
	for (uint64_t n = 1; n <= 70; n++) {
		mth(r2, 0, n);
		for (uint64_t m = 1; m <= n; m++) {
			size_t k = subproof(p, m, 0, n, true);

			mth(r1, 0, m);
			bad += nedb__tlog_check_consistency(m, n, r1, r2, p,
							    k) != 0;
			/* roots swapped, sizes off by one */
			if (m < n) {
				bad += nedb__tlog_check_consistency(m, n, r2,
					r1, p, k) == 0;
				bad += nedb__tlog_check_consistency(m + 1, n,
					r1, r2, p, k) == 0;
			}
			for (size_t j = 0; j < k && n < 20; j++)
				for (int b = 0; b < 256; b++) {
					p[j][b / 8] ^= (unsigned char)(1 << b % 8);
					bad += nedb__tlog_check_consistency(m,
						n, r1, r2, p, k) == 0;
					p[j][b / 8] ^= (unsigned char)(1 << b % 8);
				}
		}
		bad += nedb__tlog_check_consistency(n, n - 1, r2, r2, p, 0) ==
		       0;
		bad += nedb__tlog_check_consistency(0, n, r2, r2, p, 0) != 0;
	}
	CHECK(bad == 0);
}

/* Go's sumdb/note test key and note. */
#define PETER_SKEY "PRIVATE+KEY+PeterNeumann+c74f20a3+" \
	"AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
#define PETER_VKEY "PeterNeumann+c74f20a3+" \
	"ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
#define PETER_TEXT "If you think cryptography is the answer to your " \
	"problem,\nthen you don't know what your problem is.\n"
#define PETER_SIG "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiF" \
	"upLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

static void
test_note_known(void)
{
	struct nedb_skey sk;
	struct nedb_vkey vk;
	struct nedb_note n;
	nedb_buf b = {0};
	static const char msg[] = PETER_TEXT "\n" PETER_SIG;
	char bad[sizeof msg];

	CHECK(nedb__skey_parse(&sk, PETER_SKEY, strlen(PETER_SKEY)) == 0);
	CHECK(nedb__vkey_parse(&vk, PETER_VKEY, strlen(PETER_VKEY)) == 0);
	CHECK(sk.hash == 0xc74f20a3 && vk.hash == 0xc74f20a3);
	CHECK(!memcmp(sk.pub, vk.pub, 32));
	CHECK(nedb__note_sign_line(&b, &sk, PETER_TEXT,
				   strlen(PETER_TEXT)) == 0);
	CHECK(b.len == strlen(PETER_SIG) && !memcmp(b.p, PETER_SIG, b.len));
	nedb_buf_free(&b);
	CHECK(nedb__note_parse(&n, msg, strlen(msg)) == 0);
	CHECK(n.nsigs == 1 && n.text_len == strlen(PETER_TEXT));
	CHECK(nedb__note_check(&n, &vk, NULL) == 0);
	/* a changed text byte */
	memcpy(bad, msg, sizeof msg);
	bad[3] ^= 1;
	CHECK(nedb__note_parse(&n, bad, strlen(bad)) == 0);
	CHECK(nedb__note_check(&n, &vk, NULL) == NEDB_EBROKEN);
	/* Go's malformed notes: no signature, no final newline, a control
	 * byte, bad UTF-8, a name with a space, a line after */
	{
		static const char *badmsgs[] = {
			PETER_TEXT,
			PETER_TEXT "\n",
			PETER_TEXT "\n" "\xe2\x80\x94 PeterNeumann x08go/ZJkuBS9UG/"
			"SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngo"
			"tpRZb6KE6RyyBwJnAM=",
			"\x01" PETER_TEXT "\n" PETER_SIG,
			"\xff" PETER_TEXT "\n" PETER_SIG,
			PETER_TEXT "\n\xe2\x80\x94 Bad Name x08go/ZJkuBS9UG/SffcvIAQ"
			"xVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6"
			"RyyBwJnAM=\n",
			PETER_TEXT "\n" PETER_SIG "Unexpected line.\n",
		};
		for (size_t i = 0; i < sizeof badmsgs / sizeof *badmsgs; i++)
			CHECK(nedb__note_parse(&n, badmsgs[i],
					       strlen(badmsgs[i])) ==
			      NEDB_EINPUT);
	}
	/* Go's bad verifier keys */
	CHECK(nedb__vkey_parse(&vk, "PeterNeumann+cc469956+ARpc2QcUPDhMQegwx"
			       "bzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==", 62) ==
	      NEDB_EINPUT);
	CHECK(nedb__vkey_parse(&vk, "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwx"
			       "bzhKqiBfsVkmqq/LDE4izWy10TW", 66) ==
	      NEDB_EINPUT);
	CHECK(nedb__vkey_parse(&vk, "Peter+Neumann+c74f20a3+ARpc2QcUPDhMQegw"
			       "xbzhKqiBfsVkmqq/LDE4izWy10TW", 67) ==
	      NEDB_EINPUT);
	nedb__wipe(&sk, sizeof sk);
}

static void
test_keygen_and_cosign(void)
{
	char *skey, *vkey;
	struct nedb_skey sk;
	struct nedb_vkey vk, cv;
	struct nedb_note n;
	struct nedb_checkpoint cp;
	nedb_thash root;
	nedb_buf note = {0};
	uint64_t ts = 0;

	CHECK(nedb__note_keygen("bad name", &skey, &vkey) == NEDB_EUSAGE);
	CHECK(!skey && !vkey);
	CHECK(nedb__note_keygen("w.example/1", &skey, &vkey) == 0);
	CHECK(nedb__skey_parse(&sk, skey, strlen(skey)) == 0);
	CHECK(nedb__vkey_parse(&vk, vkey, strlen(vkey)) == 0);
	memset(root, 7, sizeof root);
	CHECK(nedb__checkpoint_format(&note, "log.example", 42, root) == 0);
	CHECK(nedb__checkpoint_parse(&cp, note.p, note.len) == 0);
	CHECK(cp.size == 42 && !strcmp(cp.origin, "log.example") &&
	      !memcmp(cp.root, root, 32));
	{
		size_t tl = note.len;

		nedb_buf_puts(&note, "\n");
		CHECK(nedb__note_sign_line(&note, &sk, note.p, tl) == 0);
		CHECK(nedb__note_cosign_line(&note, &sk, note.p, tl,
					     1700000000) == 0);
	}
	CHECK(nedb__note_parse(&n, note.p, note.len) == 0);
	CHECK(n.nsigs == 2);
	CHECK(nedb__note_check(&n, &vk, NULL) == 0);
	cv = vk;
	cv.type = NEDB_NOTE_COSIG;
	CHECK(nedb__note_keyhash(&cv.hash, cv.name, cv.type, cv.pub) == 0);
	CHECK(nedb__note_check(&n, &cv, &ts) == 0 && ts == 1700000000);
	cv.pub[0] ^= 1;
	CHECK(nedb__note_check(&n, &cv, NULL) == NEDB_EBROKEN);
	/* size lines: leading zero, overflow, empty */
	CHECK(nedb__checkpoint_parse(&cp, "o\n042\nBwcHBwcHBwcHBwcHBwcHBwcHB"
				     "wcHBwcHBwcHBwcHBwc=\n", 51) ==
	      NEDB_EINPUT);
	CHECK(nedb__checkpoint_parse(&cp, "o\n18446744073709551616\nBwcHBw"
				     "cHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
				     69) == NEDB_EINPUT);
	nedb_buf_free(&note);
	nedb__wipe(skey, strlen(skey));
	free(skey);
	free(vkey);
	nedb__wipe(&sk, sizeof sk);
}

static void
test_tlog_proof_roundtrip(void)
{
	static const char cpnote[] = "log.example\n3\n"
		"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n\n"
		"\xe2\x80\x94 log.example AAAAAAAA\n";
	struct nedb_tlog_proof t;
	nedb_thash p[2];
	unsigned char op[32];
	nedb_buf b = {0}, two = {0};
	size_t used;

	memset(p, 1, sizeof p);
	memset(op, 9, sizeof op);
	CHECK(nedb__tlog_proof_format(&b, op, 32, 2, p, 2, cpnote,
				      strlen(cpnote)) == 0);
	CHECK(nedb__tlog_proof_parse(&t, b.p, b.len, &used) == 0);
	CHECK(used == b.len && t.index == 2 && t.npath == 2 &&
	      t.has_extra && t.extra_len == 32 && !memcmp(t.extra, op, 32));
	CHECK(t.note_len == strlen(cpnote) && !memcmp(t.note, cpnote,
						       t.note_len));
	/* two in a row: the first ends where the second starts */
	nedb_buf_add(&two, b.p, b.len);
	nedb_buf_add(&two, b.p, b.len);
	CHECK(nedb__tlog_proof_parse(&t, two.p, two.len, &used) == 0);
	CHECK(used == b.len);
	nedb_buf_free(&b);
	nedb_buf_free(&two);
}

int
main(void)
{
	RUN(test_reference_roots);
	RUN(test_inclusion_all);
	RUN(test_consistency_all);
	RUN(test_note_known);
	RUN(test_keygen_and_cosign);
	RUN(test_tlog_proof_roundtrip);
	UNIT_DONE();
}
