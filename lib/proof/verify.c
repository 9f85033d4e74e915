/*
 * verify.c - RFC 6962 / RFC 9162 §2.1 Merkle proofs checked offline, and
 * nedb_proof_verify: a stream of proofs (the JSON objects nedb-proof
 * prints, or C2SP tlog-proof@v1 texts) checked against a trusted root or
 * a signed checkpoint (SPEC §9).
 *
 * The tree (RFC 9162 §2.1.1): the leaf hash of entry d is
 * SHA-256(0x00 || d), an interior node SHA-256(0x01 || left || right),
 * the split at the largest power of two below the size.  For nedb, entry
 * i is the 32 raw bytes of op i's hash (Go's tlog.RecordHash of them).
 *
 * Invariants:
 *  1. A proof is accepted only when the hashes it gives, combined in the
 *     order RFC 9162 fixes for its index and sizes, reproduce exactly the
 *     trusted root(s) and consume the whole path (a path longer or shorter
 *     than the tree's shape is refused, never truncated).
 *  2. "Invalid" (NEDB_EBROKEN, exit 1) and "malformed" (NEDB_EINPUT, exit
 *     4) are told apart: input that parses but does not prove is invalid;
 *     input that is not of the format is malformed.
 *  3. The trusted root comes from the caller (--root) or from a
 *     checkpoint whose log signature, and quorum of witness cosignatures,
 *     verified before any proof is looked at; never from the proof alone.
 */
#include "b2.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "nedb_jv.h"
#include "verify.h"

int
nedb__tlog_leaf(nedb_thash out, const void *data, size_t n)
{
	static const unsigned char zero = 0x00;
	nedb_sha256 h;
	int rc;

	if ((rc = nedb__sha256_init(&h)))
		return rc;
	nedb__sha256_update(&h, &zero, 1);
	nedb__sha256_update(&h, data, n);
	nedb__sha256_final(&h, out);
	return 0;
}

/* Callers have loaded libcrypto (a leaf hash or nedb__crypt_load came
 * first): init cannot fail then. */
void
nedb__tlog_node(nedb_thash out, const nedb_thash l, const nedb_thash r)
{
	static const unsigned char one = 0x01;
	nedb_sha256 h;

	(void)nedb__sha256_init(&h);
	nedb__sha256_update(&h, &one, 1);
	nedb__sha256_update(&h, l, NEDB_TLOG_HASH);
	nedb__sha256_update(&h, r, NEDB_TLOG_HASH);
	nedb__sha256_final(&h, out);
}

static bool
hash_eq(const nedb_thash a, const nedb_thash b)
{
	return !memcmp(a, b, NEDB_TLOG_HASH);
}

int
nedb__tlog_check_inclusion(uint64_t index, uint64_t size,
			   const nedb_thash leaf, const nedb_thash root,
			   const nedb_thash *path, size_t n)
{
	uint64_t fn = index, sn;
	nedb_thash r;
	int rc;

	if (index >= size)
		return nedb__err(NEDB_EBROKEN, "index %llu is not in a tree "
				 "of size %llu", (unsigned long long)index,
				 (unsigned long long)size);
	if ((rc = nedb__crypt_load()))
		return rc;
	sn = size - 1;
	memcpy(r, leaf, NEDB_TLOG_HASH);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return nedb__err(NEDB_EBROKEN, "inclusion proof has "
					 "%zu hashes, more than the tree's "
					 "shape", n);
		if ((fn & 1) || fn == sn) {
			nedb__tlog_node(r, path[i], r);
			while (!(fn & 1) && fn) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			nedb__tlog_node(r, r, path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return nedb__err(NEDB_EBROKEN, "inclusion proof has %zu "
				 "hashes, fewer than the tree's shape", n);
	if (!hash_eq(r, root))
		return nedb__err(NEDB_EBROKEN, "inclusion proof does not lead "
				 "to the root");
	return 0;
}

int
nedb__tlog_check_consistency(uint64_t old_size, uint64_t new_size,
			     const nedb_thash old_root,
			     const nedb_thash new_root,
			     const nedb_thash *path, size_t n)
{
	uint64_t fn, sn;
	nedb_thash fr, sr;
	size_t i = 0;
	int rc;

	if (old_size > new_size)
		return nedb__err(NEDB_EBROKEN, "old size %llu is larger than "
				 "new size %llu",
				 (unsigned long long)old_size,
				 (unsigned long long)new_size);
	if (old_size == new_size || old_size == 0) {
		if (n)
			return nedb__err(NEDB_EBROKEN, "consistency proof "
					 "from size %llu to %llu must be "
					 "empty", (unsigned long long)old_size,
					 (unsigned long long)new_size);
		if (old_size == new_size && !hash_eq(old_root, new_root))
			return nedb__err(NEDB_EBROKEN, "trees of equal size "
					 "have different roots");
		return 0;
	}
	if (n == 0)
		return nedb__err(NEDB_EBROKEN, "consistency proof is empty");
	if ((rc = nedb__crypt_load()))
		return rc;
	/* An old tree of a power-of-two size is a node of the new one: its
	 * root is the path's implicit first hash. */
	if ((old_size & (old_size - 1)) == 0) {
		memcpy(fr, old_root, NEDB_TLOG_HASH);
	} else {
		memcpy(fr, path[0], NEDB_TLOG_HASH);
		i = 1;
	}
	memcpy(sr, fr, NEDB_TLOG_HASH);
	fn = old_size - 1;
	sn = new_size - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	for (; i < n; i++) {
		if (sn == 0)
			return nedb__err(NEDB_EBROKEN, "consistency proof has "
					 "%zu hashes, more than the trees' "
					 "shape", n);
		if ((fn & 1) || fn == sn) {
			nedb__tlog_node(fr, path[i], fr);
			nedb__tlog_node(sr, path[i], sr);
			while (!(fn & 1) && fn) {
				fn >>= 1;
				sn >>= 1;
			}
		} else {
			nedb__tlog_node(sr, sr, path[i]);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return nedb__err(NEDB_EBROKEN, "consistency proof has %zu "
				 "hashes, fewer than the trees' shape", n);
	if (!hash_eq(fr, old_root))
		return nedb__err(NEDB_EBROKEN, "consistency proof does not "
				 "lead to the old root");
	if (!hash_eq(sr, new_root))
		return nedb__err(NEDB_EBROKEN, "consistency proof does not "
				 "lead to the new root");
	return 0;
}

/* ------------------------------------------------------------------ */
/* nedb_proof_verify: the stream                                       */

/* What every proof is checked against, parsed once. */
struct policy {
	bool has_root;
	nedb_thash root;
	bool has_cp;			/* a verified checkpoint */
	struct nedb_checkpoint cp;
	bool has_vkey;
	struct nedb_vkey vkey;
	struct nedb_vkey *wit;
	size_t nwit, quorum;
	bool has_leaf;
	nedb_thash leaf;		/* an op hash (tlog-proof) */
};

static int
parse_hex32(nedb_thash out, const char *s, size_t n)
{
	if (n != 2 * NEDB_TLOG_HASH || nedb__unhex(out, s, NEDB_TLOG_HASH))
		return -1;
	return 0;
}

/* Checks a signed checkpoint note against the log key and the witness
 * quorum: 0 with cp filled, NEDB_EBROKEN or NEDB_EINPUT. */
static int
check_checkpoint(const struct policy *p, struct nedb_checkpoint *cp,
		 const char *note, size_t len)
{
	struct nedb_note *n = nedb__malloc(sizeof *n);
	size_t good = 0;
	int rc;

	if ((rc = nedb__note_parse(n, note, len)) ||
	    (rc = nedb__checkpoint_parse(cp, n->msg, n->text_len)))
		goto done;
	rc = nedb__note_check(n, &p->vkey, NULL);
	if (rc == NEDB_ENOTFOUND)
		rc = nedb__err(NEDB_EBROKEN, "no signature by the log key "
			       "%s+%08x", p->vkey.name, p->vkey.hash);
	if (rc)
		goto done;
	for (size_t i = 0; i < p->nwit; i++) {
		int w = nedb__note_check(n, &p->wit[i], NULL);

		if (w == 0)
			good++;
		else if (w == NEDB_EIO)
			rc = w;
	}
	if (!rc && good < p->quorum)
		rc = nedb__err(NEDB_EBROKEN, "%zu valid witness "
			       "cosignatures, the quorum is %zu", good,
			       p->quorum);
done:
	free(n);
	return rc;
}

static int
policy_init(struct policy *p, const nedb_proof_policy *in)
{
	int rc;

	memset(p, 0, sizeof *p);
	if (in->root_hex) {
		if (parse_hex32(p->root, in->root_hex, strlen(in->root_hex)))
			return nedb__err(NEDB_EUSAGE, "bad root '%s': want 64 "
					 "lowercase hex digits", in->root_hex);
		p->has_root = true;
	}
	if (in->leaf_hex) {
		if (parse_hex32(p->leaf, in->leaf_hex, strlen(in->leaf_hex)))
			return nedb__err(NEDB_EUSAGE, "bad leaf '%s': want 64 "
					 "lowercase hex digits", in->leaf_hex);
		p->has_leaf = true;
	}
	if (in->vkey) {
		if ((rc = nedb__vkey_parse(&p->vkey, in->vkey,
					   strlen(in->vkey))))
			return nedb__err(NEDB_EUSAGE, "bad log key: %s",
					 nedb_errmsg());
		if (p->vkey.type != NEDB_NOTE_ED25519)
			return nedb__err(NEDB_EUSAGE, "log key '%s' is not an "
					 "Ed25519 note key", p->vkey.name);
		p->has_vkey = true;
	}
	if (in->nwitness) {
		p->wit = nedb__calloc(in->nwitness, sizeof *p->wit);
		p->nwit = in->nwitness;
	}
	for (size_t i = 0; i < in->nwitness; i++) {
		const char *w = in->witness[i];

		if (nedb__vkey_parse(&p->wit[i], w, strlen(w)))
			return nedb__err(NEDB_EUSAGE, "bad witness key: %s",
					 nedb_errmsg());
		/* A witness's key is printed as an Ed25519 note key (type
		 * 0x01, nedb-key signer new); its cosignatures are
		 * tlog-cosignature/v1, whose key id hashes type 0x04. */
		p->wit[i].type = NEDB_NOTE_COSIG;
		if ((rc = nedb__note_keyhash(&p->wit[i].hash, p->wit[i].name,
					     NEDB_NOTE_COSIG, p->wit[i].pub)))
			return rc;
		/* one key counts once towards the quorum: a cosignature does
		 * not commit to its cosigner's name, so the same key under
		 * two names would be one witness counted twice */
		for (size_t j = 0; j < i; j++)
			if (!memcmp(p->wit[j].pub, p->wit[i].pub, 32))
				return nedb__err(NEDB_EUSAGE, "witness keys '%s' "
						 "and '%s' are the same key",
						 p->wit[j].name,
						 p->wit[i].name);
	}
	p->quorum = in->quorum_set ? in->quorum : in->nwitness;
	if (p->quorum > p->nwit)
		return nedb__err(NEDB_EUSAGE, "quorum %zu is more than the "
				 "%zu witness keys given", p->quorum, p->nwit);
	if (in->checkpoint) {
		if (!p->has_vkey)
			return nedb__err(NEDB_EUSAGE, "a checkpoint needs the "
					 "log's key (--vkey)");
		if ((rc = check_checkpoint(p, &p->cp, in->checkpoint,
					   in->checkpoint_len)))
			return nedb__err(rc, "checkpoint: %s", nedb_errmsg());
		p->has_cp = true;
	}
	return 0;
}

/* The JSON form: one object, checked.  Returns 0, NEDB_EBROKEN (r->error
 * set from the message), NEDB_EINPUT. */

static int
json_u64(jv o, const char *key, uint64_t *out)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	double d;
	int rc = -1;

	if (jv_get_kind(v) == JV_KIND_NUMBER) {
		d = jv_number_value(v);
		if (d >= 0 && d <= 9007199254740992.0 && d == (double)(uint64_t)d) {
			*out = (uint64_t)d;
			rc = 0;
		}
	}
	jv_free(v);
	if (rc)
		return nedb__err(NEDB_EINPUT, "\"%s\" is not a non-negative "
				 "integer", key);
	return 0;
}

static int
json_hash(jv o, const char *key, nedb_thash out)
{
	jv v = jv_object_get(jv_copy(o), jv_string(key));
	int rc = -1;

	if (jv_get_kind(v) == JV_KIND_STRING)
		rc = parse_hex32(out, jv_string_value(v),
				 (size_t)jv_string_length_bytes(jv_copy(v)));
	jv_free(v);
	if (rc)
		return nedb__err(NEDB_EINPUT, "\"%s\" is not 64 lowercase hex "
				 "digits", key);
	return 0;
}

static int
json_path(jv o, nedb_thash *path, size_t *n)
{
	jv v = jv_object_get(jv_copy(o), jv_string("proof"));
	int rc = 0, len;

	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		jv_free(v);
		return nedb__err(NEDB_EINPUT, "\"proof\" is not an array");
	}
	len = jv_array_length(jv_copy(v));
	if (len > NEDB_TLOG_MAX_PATH) {
		jv_free(v);
		return nedb__err(NEDB_EINPUT, "\"proof\" has %d hashes, more "
				 "than any tree needs", len);
	}
	for (int i = 0; i < len && !rc; i++) {
		jv h = jv_array_get(jv_copy(v), i);

		if (jv_get_kind(h) != JV_KIND_STRING ||
		    parse_hex32(path[i], jv_string_value(h),
				(size_t)jv_string_length_bytes(jv_copy(h))))
			rc = nedb__err(NEDB_EINPUT, "\"proof\"[%d] is not 64 "
				       "lowercase hex digits", i);
		jv_free(h);
	}
	jv_free(v);
	*n = (size_t)len;
	return rc;
}

static bool
json_has(jv o, const char *key)
{
	return jv_object_has(jv_copy(o), jv_string(key));
}

static int
check_json(const struct policy *p, jv o, nedb_proof_result *r)
{
	nedb_thash path[NEDB_TLOG_MAX_PATH], leaf, lh, root, root2;
	size_t n;
	int rc;

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return nedb__err(NEDB_EINPUT, "not a JSON object");
	if (json_has(o, "seq")) {
		r->kind = "inclusion";
		if ((rc = json_u64(o, "seq", &r->a)) ||
		    (rc = json_u64(o, "size", &r->b)) ||
		    (rc = json_hash(o, "leaf", leaf)) ||
		    (rc = json_hash(o, "root", root)) ||
		    (rc = json_path(o, path, &n)))
			return rc;
		if (p->has_cp) {
			if (r->b != p->cp.size)
				return nedb__err(NEDB_EBROKEN, "proof is for "
						 "size %llu, the checkpoint's "
						 "is %llu",
						 (unsigned long long)r->b,
						 (unsigned long long)p->cp.size);
			if (!hash_eq(root, p->cp.root))
				return nedb__err(NEDB_EBROKEN, "proof's root "
						 "is not the checkpoint's");
		} else if (!hash_eq(root, p->root)) {
			return nedb__err(NEDB_EBROKEN, "proof's root is not "
					 "the trusted root");
		}
		if ((rc = nedb__tlog_leaf(lh, leaf, sizeof leaf)))
			return rc;
		return nedb__tlog_check_inclusion(r->a, r->b, lh, root, path,
						  n);
	}
	if (json_has(o, "old")) {
		r->kind = "consistency";
		if ((rc = json_u64(o, "old", &r->a)) ||
		    (rc = json_u64(o, "new", &r->b)) ||
		    (rc = json_hash(o, "old_root", root)) ||
		    (rc = json_hash(o, "new_root", root2)) ||
		    (rc = json_path(o, path, &n)))
			return rc;
		/* The trusted tree may be either end: a client that trusts
		 * the old tree learns the new extends it, and one that trusts
		 * the new learns the old is its prefix. */
		if (p->has_cp) {
			if (!(r->a == p->cp.size && hash_eq(root, p->cp.root)) &&
			    !(r->b == p->cp.size && hash_eq(root2, p->cp.root)))
				return nedb__err(NEDB_EBROKEN, "neither of the "
						 "proof's trees is the "
						 "checkpoint's");
		} else if (!hash_eq(root, p->root) && !hash_eq(root2, p->root)) {
			return nedb__err(NEDB_EBROKEN, "neither of the proof's "
					 "roots is the trusted root");
		}
		return nedb__tlog_check_consistency(r->a, r->b, root, root2,
						    path, n);
	}
	return nedb__err(NEDB_EINPUT, "not a proof: no \"seq\" (inclusion) "
			 "or \"old\" (consistency) member");
}

int
nedb__cproof_parse(struct nedb_cproof *out, const char *text, size_t len)
{
	jv o;
	int rc;

	if (len > INT32_MAX)
		return nedb__err(NEDB_EINPUT, "consistency proof too large");
	o = jv_parse_sized(text, (int)len);
	if (!jv_is_valid(o)) {
		jv_free(o);
		return nedb__err(NEDB_EINPUT, "consistency proof is not JSON");
	}
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		rc = nedb__err(NEDB_EINPUT, "consistency proof is not a JSON "
			       "object");
	else if (!(rc = json_u64(o, "old", &out->old_size)) &&
		 !(rc = json_u64(o, "new", &out->new_size)) &&
		 !(rc = json_hash(o, "old_root", out->old_root)) &&
		 !(rc = json_hash(o, "new_root", out->new_root)))
		rc = json_path(o, out->path, &out->n);
	jv_free(o);
	return rc;
}

/*
 * A chunk's proof under its file version's root (nedb_file_prove,
 * nedb-format(5) "File store"): the same audit path as an op's, over the
 * chunks' addresses.  Members that only inform (name, op_seq, offset)
 * must have their types; what proves is chunk, chunks, leaf, root and
 * proof; length is held against data when data is given.
 */
int
nedb_file_proof_check(const char *text, size_t len, const char *root_hex,
		      uint64_t chunks, const void *data, size_t n,
		      nedb_file_proof_info *out)
{
	nedb_file_proof_info info;
	nedb_thash path[NEDB_TLOG_MAX_PATH], leaf, root, want, lh;
	uint64_t k, size, u;
	size_t np;
	jv o, v;
	int rc;

	if (root_hex && parse_hex32(want, root_hex, strlen(root_hex)))
		return nedb__err(NEDB_EUSAGE, "bad root '%.80s': want 64 "
				 "lowercase hex digits", root_hex);
	if ((rc = nedb__jv_require()))
		return rc;
	if (len > INT32_MAX)
		return nedb__err(NEDB_EINPUT, "proof too large");
	o = jv_parse_sized(text, (int)len);
	if (!jv_is_valid(o)) {
		jv_free(o);
		return nedb__err(NEDB_EINPUT, "proof is not JSON");
	}
	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		rc = nedb__err(NEDB_EINPUT, "proof is not a JSON object");
		goto done;
	}
	memset(&info, 0, sizeof info);
	if (!out)
		out = &info;
	memset(out, 0, sizeof *out);
	v = jv_object_get(jv_copy(o), jv_string("name"));
	rc = jv_get_kind(v) != JV_KIND_STRING;
	if (!rc)
		snprintf(out->name, sizeof out->name, "%s",
			 jv_string_value(v));
	jv_free(v);
	if (rc) {
		rc = nedb__err(NEDB_EINPUT, "\"name\" is not a string");
		goto done;
	}
	if ((rc = json_u64(o, "version", &out->version)) ||
	    (rc = json_u64(o, "chunk", &k)) ||
	    (rc = json_u64(o, "chunks", &size)) ||
	    (rc = json_hash(o, "leaf", leaf)) ||
	    (rc = json_hash(o, "root", root)) ||
	    (rc = json_path(o, path, &np)))
		goto done;
	out->chunk = k;
	out->chunks = size;
	out->parsed = 1;
	if ((json_has(o, "op_seq") && (rc = json_u64(o, "op_seq", &u))) ||
	    (json_has(o, "offset") && (rc = json_u64(o, "offset", &u))))
		goto done;
	if (json_has(o, "length") && (rc = json_u64(o, "length", &u)))
		goto done;
	if (data && json_has(o, "length") && u != n) {
		rc = nedb__err(NEDB_EBROKEN, "the chunk given is %zu bytes, "
			       "the proof's %llu", n, (unsigned long long)u);
		goto done;
	}
	if (chunks && size != chunks) {
		rc = nedb__err(NEDB_EBROKEN, "the proof is for a version of "
			       "%llu chunks, the trusted one has %llu",
			       (unsigned long long)size,
			       (unsigned long long)chunks);
		goto done;
	}
	if (root_hex && !hash_eq(root, want)) {
		rc = nedb__err(NEDB_EBROKEN, "proof's root is not the trusted "
			       "root");
		goto done;
	}
	if (data) {
		nedb_thash a;

		blake2b(a, data, NULL, sizeof a, n, 0);
		if (!hash_eq(a, leaf)) {
			rc = nedb__err(NEDB_EBROKEN, "the chunk given does not "
				       "hash to the proof's leaf");
			goto done;
		}
	}
	if (!(rc = nedb__tlog_leaf(lh, leaf, sizeof leaf)))
		rc = nedb__tlog_check_inclusion(k, size, lh, root, path, np);
done:
	jv_free(o);
	return rc;
}

/*
 * The last checkpoint note that verified in a stream, and what it says:
 * proofs from one log state share their checkpoint, and its signatures
 * are the costly part of a check (two Ed25519 verifications cost more
 * than the ~20 SHA-256 of a path).  A note is reused only when its bytes
 * are identical.
 */
struct cp_cache {
	nedb_buf note;
	struct nedb_checkpoint cp;
};

/* One tlog-proof@v1, parsed: checks its checkpoint, then its path. */
static int
check_tlog(const struct policy *p, const struct nedb_tlog_proof *t,
	   nedb_proof_result *r, struct cp_cache *cache)
{
	struct nedb_checkpoint cp;
	nedb_thash lh;
	const unsigned char *leaf;
	int rc;

	r->kind = "inclusion";
	r->a = t->index;
	if (t->has_extra && t->extra_len != NEDB_TLOG_HASH)
		return nedb__err(NEDB_EINPUT, "extra data is %zu bytes, not a "
				 "32-byte op hash", t->extra_len);
	if (p->has_leaf && t->has_extra &&
	    memcmp(p->leaf, t->extra, NEDB_TLOG_HASH))
		return nedb__err(NEDB_EBROKEN, "proof is for another op hash "
				 "than the one given");
	if (!p->has_leaf && !t->has_extra)
		return nedb__err(NEDB_EINPUT, "proof names no op hash (no "
				 "extra line) and none was given (--leaf)");
	leaf = p->has_leaf ? p->leaf : t->extra;
	if (cache->note.len == t->note_len && t->note_len &&
	    !memcmp(cache->note.p, t->note, t->note_len)) {
		cp = cache->cp;
	} else {
		if ((rc = check_checkpoint(p, &cp, t->note, t->note_len)))
			return nedb__err(rc, "checkpoint: %s", nedb_errmsg());
		cache->note.len = 0;
		nedb_buf_add(&cache->note, t->note, t->note_len);
		cache->cp = cp;
	}
	r->b = cp.size;
	if (p->has_root && !hash_eq(cp.root, p->root))
		return nedb__err(NEDB_EBROKEN, "checkpoint's root is not the "
				 "trusted root");
	if (p->has_cp && (cp.size != p->cp.size ||
			  !hash_eq(cp.root, p->cp.root)))
		return nedb__err(NEDB_EBROKEN, "proof's checkpoint is not the "
				 "one given (--checkpoint)");
	if ((rc = nedb__tlog_leaf(lh, leaf, NEDB_TLOG_HASH)))
		return rc;
	return nedb__tlog_check_inclusion(t->index, cp.size, lh, cp.root,
					  t->path, t->npath);
}

/* Reports one proof's outcome; returns what the stream should do with
 * rc: 0 go on (valid or invalid), else stop with rc. */
static int
report(nedb_proof_result *r, int rc, nedb_proof_cb fn, void *payload,
       size_t *nbad, char *first_bad, size_t first_len)
{
	if (rc && rc != NEDB_EBROKEN)
		return rc;
	r->ok = rc == 0;
	r->error = rc ? nedb_errmsg() : NULL;
	if (rc && (*nbad)++ == 0)
		snprintf(first_bad, first_len, "proof %llu: %s",
			 (unsigned long long)r->n, nedb_errmsg());
	if (fn)
		fn(r, payload);
	return 0;
}

/* Appends what one read of in gives (up to 64 KiB) to b: *got bytes, 0
 * at the end of the input. */
static int
read_chunk(FILE *in, nedb_buf *b, size_t *got)
{
	nedb_buf_grow(b, 65536);
	*got = fread(b->p + b->len, 1, 65536, in);
	b->len += *got;
	b->p[b->len] = 0;
	if (*got == 0 && ferror(in))
		return nedb__err(NEDB_EIO, "cannot read proofs: %s",
				 strerror(errno));
	return 0;
}

/*
 * JSON proofs, streamed: b holds what was read so far, the rest comes
 * from in 64 KiB at a time, so that memory stays that of one proof
 * however many follow (an array from --array is held whole).
 */
static int
verify_json(const struct policy *p, FILE *in, nedb_buf *b, nedb_proof_cb fn,
	    void *payload, size_t *count, size_t *nbad, char *first_bad,
	    size_t first_len)
{
	jv_parser *ps = jv_parser_new(0);
	bool eof = false;
	size_t got;
	jv v;
	int rc = 0;

	jv_parser_set_buf(ps, b->p, (int)b->len, 1);
	for (;;) {
		v = jv_parser_next(ps);
		if (!jv_is_valid(v)) {
			if (jv_invalid_has_msg(jv_copy(v))) {
				jv msg = jv_invalid_get_msg(v);

				rc = nedb__err(NEDB_EINPUT, "proof %zu: not "
					       "JSON: %s", *count + 1,
					       jv_string_value(msg));
				jv_free(msg);
				break;
			}
			jv_free(v);
			if (eof)
				break;
			/* the parser has taken all of b: read on */
			b->len = 0;
			if ((rc = read_chunk(in, b, &got)))
				break;
			if (got == 0) {
				eof = true;
				jv_parser_set_buf(ps, "", 0, 0);
			} else {
				jv_parser_set_buf(ps, b->p, (int)b->len, 1);
			}
			continue;
		}
		/* --array output: each element is a proof */
		bool arr = jv_get_kind(v) == JV_KIND_ARRAY;
		int m = arr ? jv_array_length(jv_copy(v)) : 1;

		for (int i = 0; i < m && !rc; i++) {
			jv o = arr ? jv_array_get(jv_copy(v), i) : jv_copy(v);
			nedb_proof_result r = { .n = ++*count };

			rc = check_json(p, o, &r);
			jv_free(o);
			if (rc == NEDB_EINPUT)
				rc = nedb__err(rc, "proof %zu: %s", *count,
					       nedb_errmsg());
			rc = report(&r, rc, fn, payload, nbad, first_bad,
				    first_len);
		}
		jv_free(v);
		if (rc)
			break;
	}
	jv_parser_free(ps);
	return rc;
}

static int
verify_text(const struct policy *p, const nedb_buf *b, nedb_proof_cb fn,
	    void *payload, size_t *count, size_t *nbad, char *first_bad,
	    size_t first_len)
{
	struct nedb_tlog_proof *t = nedb__malloc(sizeof *t);
	struct cp_cache cache;
	size_t off = 0, used, line = 1;
	int rc = 0;

	memset(&cache, 0, sizeof cache);
	while (off < b->len && b->p[off] == '\n') {
		off++;
		line++;
	}
	while (!rc && off < b->len) {
		nedb_proof_result r = { .n = ++*count };

		if ((rc = nedb__tlog_proof_parse(t, b->p + off, b->len - off,
						 &used))) {
			rc = nedb__err(rc, "proof %zu (line %zu): %s", *count,
				       line, nedb_errmsg());
			break;
		}
		if (!p->has_vkey) {
			rc = nedb__err(NEDB_EUSAGE, "a tlog-proof needs the "
				       "log's key (--vkey)");
			break;
		}
		rc = check_tlog(p, t, &r, &cache);
		if (rc == NEDB_EINPUT)
			rc = nedb__err(rc, "proof %zu (line %zu): %s", *count,
				       line, nedb_errmsg());
		rc = report(&r, rc, fn, payload, nbad, first_bad, first_len);
		for (size_t i = off; i < off + used; i++)
			line += b->p[i] == '\n';
		off += used;
	}
	nedb_buf_free(&cache.note);
	free(t);
	return rc;
}

int
nedb_proof_verify(FILE *in, const nedb_proof_policy *pol, nedb_proof_cb fn,
		  void *payload, size_t *count)
{
	struct policy p;
	nedb_buf b = {0};
	char first_bad[512];
	size_t nbad = 0, i = 0, n = 0;
	int rc;

	*count = 0;
	if ((rc = policy_init(&p, pol)))
		goto done;
	/* the first byte that is not white space says which form */
	for (;;) {
		size_t got;

		while (i < b.len && (b.p[i] == ' ' || b.p[i] == '\t' ||
				     b.p[i] == '\r' || b.p[i] == '\n'))
			i++;
		if (i < b.len)
			break;
		if ((rc = read_chunk(in, &b, &got)))
			goto done;
		if (got == 0) {
			rc = nedb__err(NEDB_EINPUT, "no proof in the input");
			goto done;
		}
	}
	if (b.p[i] == '{' || b.p[i] == '[') {
		if (!p.has_root && !p.has_cp) {
			rc = nedb__err(NEDB_EUSAGE, "nothing to check JSON "
				       "proofs against: give --root or "
				       "--checkpoint");
			goto done;
		}
		if (p.nwit && !p.has_cp) {
			rc = nedb__err(NEDB_EUSAGE, "witnesses cosign "
				       "checkpoints: --witness needs "
				       "--checkpoint");
			goto done;
		}
		rc = verify_json(&p, in, &b, fn, payload, &n, &nbad,
				 first_bad, sizeof first_bad);
	} else {
		/* tlog-proofs: read whole (each carries its checkpoint) */
		for (size_t got = 1; got;)
			if ((rc = read_chunk(in, &b, &got)))
				goto done;
		if (b.len > INT32_MAX) {
			rc = nedb__err(NEDB_EINPUT, "input over 2 GiB: give "
				       "the proofs in parts");
			goto done;
		}
		rc = verify_text(&p, &b, fn, payload, &n, &nbad, first_bad,
				 sizeof first_bad);
	}
	*count = n;
	if (!rc && nbad)
		rc = nedb__err(NEDB_EBROKEN, "%zu of %zu proofs invalid; %s",
			       nbad, n, first_bad);
done:
	free(p.wit);
	nedb_buf_free(&b);
	return rc;
}
