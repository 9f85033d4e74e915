/*
 * kv.c - the encrypted view (kv.h): keys encrypted deterministically and
 * ordered by their plaintext, values sealed.
 *
 * An encrypted key (tables marked KV_DET below, and the duplicates of
 * idxdef and idx):
 *
 *     offset  size  content
 *     0       12    iv: BLAKE2b-256 keyed with the iv key (NEDB_LABEL_VKIV)
 *                   over tag ‖ k, first 12 bytes; tag is the table's
 *                   kv_tab tag, with 0x80 set for a duplicate's datum
 *     12      n     k XOR the keystream AES-256(ctr key, iv ‖ be32 i)
 *                   for block i = 0, 1, ... (CTR; NEDB_LABEL_VKCTR)
 *
 * Equal keys give equal bytes (so mdb_get finds them), and that equality
 * is all the bytes tell without the keys: the iv is a PRF of the whole
 * plaintext, so two different keys never share a keystream (but with
 * chance 2^-96).  Length is not hidden.  On the way out a key's iv is
 * recomputed from its plaintext and compared (as SIV does): a changed
 * byte of a stored key is NEDB_ECORRUPT, not a wrong name.
 *
 * A sealed value is nedb__aead_seal's nonce ‖ ciphertext ‖ tag under the
 * view value key (NEDB_LABEL_VIEW), with associated data tag ‖ plaintext
 * key.
 *
 * Order.  LMDB compares keys (and duplicates) with memcmp; an encrypted
 * table is given, with mdb_set_compare and mdb_set_dupsort, a comparator
 * that decrypts both sides and compares the plaintexts as LMDB's default
 * would (memcmp of the common length, then the shorter first).  So the
 * B-tree is in plaintext order and every scan of the view works as it
 * does on a plaintext one.  MDB_cmp_func carries no context, so each
 * open encrypted view takes a slot of a static table: slot i's keys, and
 * a comparator function of its own (kv_cmp_i, made by a macro) that
 * passes i on.  Slots are taken at view open and given back at close
 * under a lock; a slot's generation is bumped each time it is taken, so
 * that a thread's contexts keyed for an earlier user are rebuilt.
 *
 * LMDB passes the key searched for as the first argument: each thread
 * keeps the last one it decrypted (by iv and length), and the first
 * KV_HEAD bytes of the stored keys it met (kvctx's head[]), decrypting
 * the rest of one only when the heads tie.  Equal iv and length mean
 * equal plaintext but with chance 2^-96 (the iv is a PRF of it).
 *
 * Writes in key order.  A search costs an encrypted table ~15
 * comparisons that may each decrypt; a writer whose keys come past a
 * table's last one (every op's seq, time and version, and a bulk load's
 * documents in id order) puts them with MDB_APPEND, one comparison, and
 * while it does, a lookup of such a key compares it with the last key
 * before searching (nedb__kv_put_enc, past_last).  A thread also
 * remembers the small values it sealed (kvctx's sealed[]): reading one
 * back with the very bytes and associated data it sealed needs no GCM.
 *
 * Invariants:
 *  1. Only this file sees ciphertext: every value it returns has been
 *     decrypted and authenticated (keys by their iv, values by GCM), or
 *     an error is returned.
 *  2. A slot's keys are written only under slot_lock while no view uses
 *     it, and read by comparators only while the view that took it is
 *     open: the generation, stored with release order after the keys,
 *     tells a thread its contexts are stale.
 *  3. A cipher context is used by the thread that made it only (the
 *     comparators of one view may run in several threads).
 *  4. The layout of an encrypted view is fixed by the tags below and the
 *     labels: changing either makes existing views unreadable (a rebuild
 *     with a VIEW_FORMAT bump).
 *  5. Plaintext kept in memory (a thread's remembered keys, heads and
 *     sealed values, a slot's keys) is wiped when it is freed or the
 *     slot given back.
 *  6. What is remembered only spares work, never decides an answer: a
 *     remembered sealed value is returned only for stored bytes equal
 *     to the ones it was sealed into, under the same associated data,
 *     and a lookup is cut short only by a comparison with the key
 *     LMDB holds last.
 */
#include "b2.h"
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "codec.h"
#include "crypt.h"
#include "kv.h"

#if defined(__SANITIZE_ADDRESS__)
#define KV_FRESH 1		/* a fresh buffer per read (kv.h) */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KV_FRESH 1
#endif
#endif
#ifndef KV_FRESH
#define KV_FRESH 0
#endif

#define KV_SLOTS 256		/* nedbd keeps up to 128 databases open */
#define KV_BLOCK 16
#define KV_MEMO 8		/* keys remembered per thread and view */
#define KV_PAGE 4096		/* stored keys' heads remembered (kv_cmp) */
#define KV_HEAD 48		/* how much of a stored key's head */
#define KV_SEALED 512		/* small sealed values remembered */
#define KV_SEALED_PT 64		/* the largest plaintext remembered */
#define KV_SEALED_AAD 24	/* the largest associated data */
_Static_assert(KV_HEAD % KV_BLOCK == 0, "a head is whole blocks");

enum { KV_PLAIN, KV_DET, KV_SEAL };

/*
 * How each table's keys and values are stored, and its tag (fixed).
 * Keys stay plaintext where they are numbers or fixed names (seqs,
 * nodeids, meta); every value that holds a name or text is sealed.  The
 * values left plaintext hold no name: a version's kind, a be64 count,
 * nonce, node number or seq, a ttl entry's empty value, an edge
 * change's kind.  Sealing them would cost a seal per write and an open
 * per read for nothing secret; nedb-format(5) lists what they show.
 * Seqs' values (where an op is, its hash) are sealed: the hash of a
 * guessable op would confirm the guess; so are the Merkle tree's
 * hashes (tree), which are hashes of op hashes.
 */
static const struct {
	unsigned char tag, key, val;
	const char *name;
} kv_tab[DBI__N] = {
	[DBI_META] = {1, KV_PLAIN, KV_SEAL, "meta"},
	[DBI_DOCS] = {2, KV_DET, KV_SEAL, "docs"},
	[DBI_VERS] = {3, KV_DET, KV_PLAIN, "vers"},
	[DBI_SEQS] = {4, KV_PLAIN, KV_SEAL, "seqs"},
	[DBI_NONCES] = {5, KV_DET, KV_PLAIN, "nonces"},
	[DBI_IDEM] = {6, KV_DET, KV_SEAL, "idem"},
	[DBI_TTL] = {7, KV_DET, KV_PLAIN, "ttl"},
	[DBI_COLLS] = {8, KV_DET, KV_PLAIN, "colls"},
	[DBI_NODES] = {9, KV_DET, KV_PLAIN, "nodes"},
	[DBI_NODEIDS] = {10, KV_PLAIN, KV_SEAL, "nodeids"},
	[DBI_EDGES] = {11, KV_DET, KV_PLAIN, "edges"},
	[DBI_REDGES] = {12, KV_DET, KV_PLAIN, "redges"},
	[DBI_EDGEHIST] = {13, KV_DET, KV_PLAIN, "edgehist"},
	[DBI_REDGEHIST] = {14, KV_DET, KV_PLAIN, "redgehist"},
	[DBI_IDXDEF] = {15, KV_DET, KV_DET, "idxdef"},
	[DBI_IDX] = {16, KV_DET, KV_DET, "idx"},
	[DBI_USAGE] = {17, KV_DET, KV_PLAIN, "usage"},
	[DBI_TREE] = {18, KV_PLAIN, KV_SEAL, "tree"},
	/* op times: a ts would tell when each op was written (timeidx.c) */
	[DBI_TIMES] = {20, KV_DET, KV_PLAIN, "times"},
	/* versions of files: a name is secret, and so is a version's
	 * record (its root and manifest would confirm a guessed file) */
	[DBI_FILES] = {21, KV_DET, KV_SEAL, "files"},
	/* big Redis values' members: never used by an encrypted view
	 * (view/elems.c), sealed as docs would be if they were */
	[DBI_ELEMS] = {22, KV_DET, KV_SEAL, "elems"},
};
#define KV_DUP 0x80		/* a duplicate's tag: its table's | this */

_Static_assert(DBI__N == 21, "a new table needs a row in kv_tab");
/* Every encrypted key and duplicate must still fit LMDB's limit with its
 * iv (codec.h has the plaintext sizes; ids are idx's duplicates, and
 * clients and idempotency keys are at most MAX_ID bytes). */
_Static_assert(IXKEY_MAX + KV_IV_LEN <= KV_KEY_MAX &&
	       VERKEY_MAX + KV_IV_LEN <= KV_KEY_MAX &&
	       TTLKEY_MAX + KV_IV_LEN <= KV_KEY_MAX &&
	       EDGEHIST_MAX + KV_IV_LEN <= KV_KEY_MAX &&
	       NODE_MAX + KV_IV_LEN <= KV_KEY_MAX &&
	       MAX_ID + KV_IV_LEN <= KV_KEY_MAX &&
	       MAX_ID + 9 + KV_IV_LEN <= KV_KEY_MAX,	/* files */
	       "an encrypted view key must fit LMDB's 511-byte key limit");

/* One open encrypted view's keys (invariant 2). */
static struct kvslot {
	unsigned gen;			/* 0: never taken */
	bool used;
	unsigned char ctr[NEDB_KEY_LEN], val[NEDB_KEY_LEN];
	blake2b_state iv;		/* keyed with the iv key, fresh */
	/* the same past its key block (iv_past), when that is right */
	blake2b_state iv_past;
	bool past;
} slots[KV_SLOTS];
static pthread_mutex_t slot_lock = PTHREAD_MUTEX_INITIALIZER;

/* A thread's contexts for one slot (invariant 3). */
struct kvctx {
	unsigned gen;			/* of the slot they were keyed for */
	nedb_ecb *ecb;
	nedb_aead *val;
	/* the comparator's last first argument: its iv, length, plaintext */
	size_t clen;
	unsigned char civ[KV_IV_LEN];
	unsigned char cpt[KV_KEY_MAX];
	/*
	 * The last keys encrypted or decrypted, plaintext beside
	 * ciphertext: one write looks up and stores the same few keys
	 * several times (a document's key in docs three times, its
	 * collection's twice), and an iv is two BLAKE2b compressions.
	 */
	struct kvmemo {
		unsigned char tag;
		size_t n;			/* plaintext bytes; 0: unused */
		unsigned char pt[KV_KEY_MAX - KV_IV_LEN];
		unsigned char ct[KV_KEY_MAX];
	} memo[KV_MEMO];
	unsigned memo_next;
	/*
	 * The heads of stored keys the comparator decrypted, by iv: a
	 * lookup meets the same branch-page keys every time (and a
	 * write's several lookups the same leaf), so most of its
	 * comparisons need no AES.  Direct-mapped; len 0 is empty.
	 */
	struct kvhead {
		unsigned char iv[KV_IV_LEN];
		unsigned short len;		/* plaintext bytes of the key */
		unsigned char pt[KV_HEAD];	/* its first ones */
	} head[KV_PAGE];
	/* which head[] entries were ever filled: ctx_free wipes those
	 * alone (the whole array, 250 kB, cost a point get 268k
	 * instructions and 62 page faults to clear) */
	uint64_t filled[KV_PAGE / 64];
	/*
	 * The small values this thread sealed lately, as stored beside
	 * their plaintext and associated data: a write reads back values
	 * it sealed a moment before (the Merkle tree's tile hashes the op
	 * hashes in the 256 seqs values of its tile, sealed by the ops'
	 * own writes), and a value whose stored bytes and associated data
	 * are the very ones sealed here opens to the plaintext sealed
	 * (GCM is a function of key, nonce, associated data and
	 * plaintext), with no GCM open (~2000 instructions for a seqs
	 * value).  Any other bytes, a changed one included, are opened
	 * and authenticated as always.  Direct-mapped by associated data;
	 * n 0 is empty; sealed_filled as filled above.
	 */
	struct kvsealed {
		unsigned char n;		/* plaintext bytes */
		unsigned char aadlen;
		unsigned char aad[KV_SEALED_AAD];
		unsigned char pt[KV_SEALED_PT];
		unsigned char raw[KV_SEALED_PT + NEDB_AEAD_OVERHEAD];
	} sealed[KV_SEALED];
	uint64_t sealed_filled[KV_SEALED / 64];
};

struct kvthread {
	struct kvctx *ctx[KV_SLOTS];
};
/* initial-exec: the comparators reach it on every call, and a dynamic
 * TLS lookup (__tls_get_addr) was a visible share of a lookup's time */
static __thread struct kvthread *self
	__attribute__((tls_model("initial-exec")));
static pthread_key_t self_key;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

/* What a view holds (struct view's kv). */
struct kvview {
	unsigned slot, gen;
	struct kvbuf get[DBI__N];	/* nedb__kv_get's data, per table */
	struct kvbuf seal;		/* a sealed value being put */
	/* puts to wait, per table, before trying MDB_APPEND again
	 * (nedb__kv_put_enc) */
	unsigned char append_wait[DBI__N];
	/* whether the last MDB_APPEND tried on a table went in
	 * (nedb__kv_get_enc) */
	bool appended[DBI__N];
};

static void
ctx_free(struct kvctx *c)
{
	if (!c)
		return;
	nedb__ecb_free(c->ecb);
	nedb__aead_free(c->val);
	for (size_t w = 0; w < KV_PAGE / 64; w++)
		for (uint64_t f = c->filled[w]; f; f &= f - 1)
			nedb__wipe(&c->head[w * 64 + (size_t)__builtin_ctzll(f)],
				   sizeof *c->head);
	for (size_t w = 0; w < KV_SEALED / 64; w++)
		for (uint64_t f = c->sealed_filled[w]; f; f &= f - 1)
			nedb__wipe(&c->sealed[w * 64 +
					      (size_t)__builtin_ctzll(f)],
				   sizeof *c->sealed);
	nedb__wipe(c, offsetof(struct kvctx, head));
	free(c);
}

static void
thread_free(void *p)
{
	struct kvthread *t = p;

	for (int i = 0; i < KV_SLOTS; i++)
		ctx_free(t->ctx[i]);
	free(t);
	self = NULL;
}

static void
self_init(void)
{
	pthread_key_create(&self_key, thread_free);
}

/*
 * This thread's contexts for slot i, keyed for its current user: NULL
 * (with a message) when they cannot be made.  The comparators call it,
 * so it must be cheap when nothing changed: one load and a compare,
 * inline (kv_ctx below); kv_ctx_make, out of line, makes them.
 */
static __attribute__((noinline)) struct kvctx *
kv_ctx_make(unsigned i, unsigned gen)
{
	struct kvctx *c;

	if (!self) {
		pthread_once(&self_once, self_init);
		if (!(self = calloc(1, sizeof *self))) {
			nedb__err(NEDB_EIO, "out of memory");
			return NULL;
		}
		pthread_setspecific(self_key, self);
	}
	ctx_free(self->ctx[i]);
	self->ctx[i] = NULL;
	if (!(c = calloc(1, sizeof *c))) {
		nedb__err(NEDB_EIO, "out of memory");
		return NULL;
	}
	if (nedb__ecb_new(&c->ecb, slots[i].ctr) ||
	    nedb__aead_new(&c->val, slots[i].val)) {
		ctx_free(c);
		return NULL;
	}
	c->gen = gen;
	c->clen = SIZE_MAX;		/* no cached search key */
	self->ctx[i] = c;
	return c;
}

static inline struct kvctx *
kv_ctx(unsigned i)
{
	unsigned gen = __atomic_load_n(&slots[i].gen, __ATOMIC_ACQUIRE);
	struct kvctx *c;

	if (__builtin_expect(self && (c = self->ctx[i]) && c->gen == gen, 1))
		return c;
	return kv_ctx_make(i, gen);
}

/* The keystream of blocks [first, first + nb) for iv, XORed into out. */
static int
ctr_xor(struct kvctx *c, unsigned char *out, const unsigned char *iv,
	const unsigned char *in, size_t n, size_t first)
{
	unsigned char blk[KV_KEY_MAX + KV_BLOCK], ks[KV_KEY_MAX + KV_BLOCK];
	size_t nb = (n + KV_BLOCK - 1) / KV_BLOCK;
	int rc;

	for (size_t b = 0; b < nb; b++) {
		unsigned char *p = blk + b * KV_BLOCK;
		uint32_t ctr = (uint32_t)(first + b);

		memcpy(p, iv, KV_IV_LEN);
		p[12] = (unsigned char)(ctr >> 24);
		p[13] = (unsigned char)(ctr >> 16);
		p[14] = (unsigned char)(ctr >> 8);
		p[15] = (unsigned char)ctr;
	}
	if ((rc = nedb__ecb(c->ecb, ks, blk, nb * KV_BLOCK)))
		return rc;
	/* 8 bytes at a time (a byte loop was a third of this function) */
	size_t j = 0;

	for (; j + 8 <= n; j += 8) {
		uint64_t x, y;

		memcpy(&x, in + j, 8);
		memcpy(&y, ks + j, 8);
		x ^= y;
		memcpy(out + j, &x, 8);
	}
	for (; j < n; j++)
		out[j] = in[j] ^ ks[j];
	return 0;
}

/* The iv of plaintext k under tag. */
static void
make_iv(unsigned slot, unsigned char tag, const void *k, size_t n,
	unsigned char iv[KV_IV_LEN])
{
	blake2b_state s = slots[slot].past ? slots[slot].iv_past :
			  slots[slot].iv;
	unsigned char h[32];

	blake2b_update(&s, &tag, 1);
	blake2b_update(&s, k, n);
	blake2b_final(&s, h, sizeof h);
	memcpy(iv, h, KV_IV_LEN);
}

/*
 * Keyed BLAKE2b compresses its key, padded to a block, before the
 * message: the same compression for every iv of a slot, and half the
 * cost of a short key's iv.  iv_past is the state after it: libb2 keeps
 * up to two blocks buffered, so 129 more bytes make it compress the key
 * block; then the buffer is emptied, the counter left at one block.
 * That leans on libb2's state layout (blake2.h declares it), so it is
 * used only if it gives the same iv as the plain way for test inputs
 * (of 1 byte or more, as every iv's is: the tag comes first).
 */
static void
iv_past_init(struct kvslot *sl)
{
	static const unsigned char zero[BLAKE2B_BLOCKBYTES + 1];
	unsigned char a[32], b[32];
	blake2b_state s = sl->iv;
	bool same = true;

	blake2b_update(&s, zero, sizeof zero);
	s.buflen = 0;
	s.t[0] = BLAKE2B_BLOCKBYTES;
	s.t[1] = 0;
	memset(s.buf, 0, sizeof s.buf);
	sl->iv_past = s;
	/* never empty: an empty message's last block is the key's */
	for (size_t n = 1; n < 300 && same; n += 37) {
		blake2b_state x = sl->iv, y = sl->iv_past;
		unsigned char m[300];

		memset(m, (int)n, n);
		blake2b_update(&x, m, n);
		blake2b_final(&x, a, sizeof a);
		blake2b_update(&y, m, n);
		blake2b_final(&y, b, sizeof b);
		same = !memcmp(a, b, sizeof a);
	}
	sl->past = same;
	nedb__wipe(&s, sizeof s);
}

/* The memo of (tag, plaintext k): its entry, or NULL. */
static struct kvmemo *
memo_find(struct kvctx *c, unsigned char tag, const void *k, size_t n)
{
	for (int i = 0; i < KV_MEMO; i++) {
		struct kvmemo *m = &c->memo[i];

		if (m->n == n && m->tag == tag && n && !memcmp(m->pt, k, n))
			return m;
	}
	return NULL;
}

static void
memo_add(struct kvctx *c, unsigned char tag, const void *k, size_t n,
	 const unsigned char *ct)
{
	struct kvmemo *m = &c->memo[c->memo_next++ % KV_MEMO];

	m->tag = tag;
	m->n = n;
	memcpy(m->pt, k, n);
	memcpy(m->ct, ct, KV_IV_LEN + n);
}

/* E(k) into out (KV_IV_LEN + n bytes, at most KV_KEY_MAX). */
static int
enc(struct view *v, unsigned char tag, const MDB_val *k, unsigned char *out,
    MDB_val *e)
{
	struct kvmemo *m;
	struct kvctx *c;
	int rc;

	if (k->mv_size > KV_KEY_MAX - KV_IV_LEN)
		return nedb__err(NEDB_EINPUT, "view key of %zu bytes too long "
				 "to encrypt (at most %d)", k->mv_size,
				 KV_KEY_MAX - KV_IV_LEN);
	if (!(c = kv_ctx(v->kv->slot)))
		return NEDB_EIO;
	e->mv_size = KV_IV_LEN + k->mv_size;
	e->mv_data = out;
	if ((m = memo_find(c, tag, k->mv_data, k->mv_size))) {
		memcpy(out, m->ct, e->mv_size);
		return 0;
	}
	make_iv(v->kv->slot, tag, k->mv_data, k->mv_size, out);
	if ((rc = ctr_xor(c, out + KV_IV_LEN, out, k->mv_data, k->mv_size, 0)))
		return rc;
	if (k->mv_size)
		memo_add(c, tag, k->mv_data, k->mv_size, out);
	return 0;
}

static int
damaged(int t, const char *what)
{
	return nedb__err(NEDB_ECORRUPT, "view is damaged: %s in table '%s' "
			 "does not decrypt; run nedb-checkpoint --rebuild",
			 what, kv_tab[t].name);
}

/* Room for n bytes in b (a fresh allocation under ASan: kv.h). */
static unsigned char *
room(struct kvbuf *b, size_t n)
{
	if (KV_FRESH) {
		free(b->p);
		b->p = NULL;
		b->cap = 0;
	}
	if (n > b->cap || !b->p) {
		size_t cap = KV_FRESH ? n + 1 : n < 256 ? 256 : 2 * n;
		unsigned char *p = KV_FRESH ? malloc(cap) : realloc(b->p, cap);

		if (!p) {
			nedb__err(NEDB_EIO, "out of memory");
			return NULL;
		}
		b->p = p;
		b->cap = cap;
	}
	return b->p;
}

/* D(e) into b, its iv checked: the plaintext in *out. */
/*
 * A stored key to plaintext.  check false skips the iv's check, for a
 * caller that opens the key's sealed value next: its associated data is
 * the plaintext key, so a changed byte of the key fails that open
 * instead (CTR keeps the iv, so the plaintext changes with the
 * ciphertext), and a key swapped whole with its value is a valid pair
 * either way.  A scan of the documents then pays one BLAKE2b less per
 * key (15% of an unindexed encrypted scan).
 */
static int
dec(struct view *v, int t, unsigned char tag, const MDB_val *e,
    struct kvbuf *b, MDB_val *out, bool check)
{
	const unsigned char *p = e->mv_data;
	unsigned char iv[KV_IV_LEN], *o;
	struct kvmemo *m;
	size_t n;
	struct kvctx *c;
	int rc;

	if (e->mv_size < KV_IV_LEN)
		return damaged(t, tag & KV_DUP ? "a datum" : "a key");
	n = e->mv_size - KV_IV_LEN;
	if (!(c = kv_ctx(v->kv->slot)) || !(o = room(b, n)))
		return NEDB_EIO;
	if ((rc = ctr_xor(c, o, p, p + KV_IV_LEN, n, 0)))
		return rc;
	/* a key remembered with these very bytes was checked already */
	if (check && (!(m = memo_find(c, tag, o, n)) ||
		      memcmp(m->ct, p, e->mv_size))) {
		make_iv(v->kv->slot, tag, o, n, iv);
		if (memcmp(iv, p, KV_IV_LEN))
			return damaged(t, tag & KV_DUP ? "a datum" : "a key");
		if (n)
			memo_add(c, tag, o, n, p);
	}
	out->mv_size = n;
	out->mv_data = o;
	return 0;
}

/* The associated data of a sealed value: tag ‖ plaintext key. */
static size_t
aad_of(unsigned char *out, int t, const MDB_val *k)
{
	out[0] = kv_tab[t].tag;
	memcpy(out + 1, k->mv_data, k->mv_size);
	return 1 + k->mv_size;
}

/* The sealed[] entry of associated data aad: its last bytes (a seqs
 * value's key is a be64 seq, so a tile's 256 fall in 256 entries) and
 * its table's tag. */
static struct kvsealed *
sealed_at(struct kvctx *c, const unsigned char *aad, size_t aadlen)
{
	size_t h = aad[0] * 131u + aad[aadlen - 1];

	if (aadlen > 1)
		h += (size_t)aad[aadlen - 2] << 8;
	return &c->sealed[h % KV_SEALED];
}

/* Remembers raw as the seal of pt[0, n) with aad, when small enough. */
static void
sealed_add(struct kvctx *c, const unsigned char *aad, size_t aadlen,
	   const void *pt, size_t n, const unsigned char *raw)
{
	struct kvsealed *e;
	size_t i;

	if (!n || n > KV_SEALED_PT || aadlen > KV_SEALED_AAD)
		return;
	e = sealed_at(c, aad, aadlen);
	i = (size_t)(e - c->sealed);
	c->sealed_filled[i / 64] |= (uint64_t)1 << i % 64;
	e->n = (unsigned char)n;
	e->aadlen = (unsigned char)aadlen;
	memcpy(e->aad, aad, aadlen);
	memcpy(e->pt, pt, n);
	memcpy(e->raw, raw, n + NEDB_AEAD_OVERHEAD);
}

/* The plaintext raw was sealed from with aad, if it was sealed here and
 * remembered; else NULL. */
static const struct kvsealed *
sealed_find(struct kvctx *c, const unsigned char *aad, size_t aadlen,
	    const MDB_val *raw)
{
	const struct kvsealed *e;

	if (aadlen > KV_SEALED_AAD || raw->mv_size > KV_SEALED_PT +
	    NEDB_AEAD_OVERHEAD)
		return NULL;
	e = sealed_at(c, aad, aadlen);
	if (!e->n || (size_t)e->n + NEDB_AEAD_OVERHEAD != raw->mv_size ||
	    e->aadlen != aadlen || memcmp(e->aad, aad, aadlen) ||
	    memcmp(e->raw, raw->mv_data, raw->mv_size))
		return NULL;
	return e;
}

/* A value as stored (raw) to plaintext in *d; pk is its plaintext key. */
static int
val_out(struct view *v, int t, const MDB_val *pk, const MDB_val *raw,
	struct kvbuf *b, MDB_val *d)
{
	unsigned char aad[1 + KV_KEY_MAX], *o;
	const struct kvsealed *e;
	struct kvctx *c;
	size_t n, aadlen;

	switch (kv_tab[t].val) {
	case KV_PLAIN:
		*d = *raw;
		return 0;
	case KV_DET:
		return dec(v, t, kv_tab[t].tag | KV_DUP, raw, b, d, true);
	}
	if (raw->mv_size < NEDB_AEAD_OVERHEAD)
		return damaged(t, "a value");
	n = raw->mv_size - NEDB_AEAD_OVERHEAD;
	if (!(c = kv_ctx(v->kv->slot)) || !(o = room(b, n)))
		return NEDB_EIO;
	aadlen = aad_of(aad, t, pk);
	if ((e = sealed_find(c, aad, aadlen, raw)))
		memcpy(o, e->pt, n);
	else if (nedb__aead_open(c->val, o, aad, aadlen, raw->mv_data,
				 raw->mv_size))
		return damaged(t, "a value");
	d->mv_size = n;
	d->mv_data = o;
	return 0;
}

/*
 * Whether stored key e is past the last key of table t (so not in it).
 * While a writer appends to a table (a bulk load: every document new,
 * each looked up before it is put), the lookup that misses searches the
 * tree, ~15 comparisons that decrypt; the last key and one comparison
 * answer it (that ingest's writer: 691M -> 658M instructions).  Asked
 * only after an append went in (appended[]): a
 * writer whose keys come in no order, and every reader, search as
 * before.  false when in doubt (the search then answers).
 */
static bool
past_last(struct view *v, MDB_txn *txn, int t, MDB_val *e)
{
	MDB_cursor *c;
	MDB_val lk, ld;
	bool past;

	if (mdb_cursor_open(txn, v->dbi[t], &c))
		return false;
	past = !mdb_cursor_get(c, &lk, &ld, MDB_LAST) &&
	       mdb_cmp(txn, v->dbi[t], e, &lk) > 0;
	mdb_cursor_close(c);
	return past;
}

int
nedb__kv_get_enc(struct view *v, MDB_txn *txn, int t, MDB_val *k,
		 MDB_val *d)
{
	unsigned char ek[KV_KEY_MAX];
	MDB_val e = *k, raw;
	int rc;

	if (kv_tab[t].key == KV_DET &&
	    (rc = enc(v, kv_tab[t].tag, k, ek, &e)))
		return rc;
	if (v->kv->appended[t] && past_last(v, txn, t, &e))
		return MDB_NOTFOUND;
	if ((rc = mdb_get(txn, v->dbi[t], &e, &raw)))
		return rc;
	return val_out(v, t, k, &raw, &v->kv->get[t], d);
}

int
nedb__kv_put_enc(struct view *v, MDB_txn *txn, int t, MDB_val *k,
		 MDB_val *d, unsigned flags)
{
	unsigned char ek[KV_KEY_MAX], ed[KV_KEY_MAX], aad[1 + KV_KEY_MAX];
	MDB_val e = *k, ev = *d;
	struct kvctx *c;
	int rc;

	if (flags & MDB_RESERVE)
		return nedb__err(NEDB_EUSAGE, "MDB_RESERVE on an encrypted "
				 "view");
	if (kv_tab[t].key == KV_DET &&
	    (rc = enc(v, kv_tab[t].tag, k, ek, &e)))
		return rc;
	if (kv_tab[t].val == KV_DET) {
		if ((rc = enc(v, kv_tab[t].tag | KV_DUP, d, ed, &ev)))
			return rc;
	} else if (kv_tab[t].val == KV_SEAL) {
		size_t aadlen = aad_of(aad, t, k);
		unsigned char *o;

		if (!(c = kv_ctx(v->kv->slot)) ||
		    !(o = room(&v->kv->seal, d->mv_size + NEDB_AEAD_OVERHEAD)))
			return NEDB_EIO;
		if ((rc = nedb__aead_seal(c->val, o, aad, aadlen, d->mv_data,
					  d->mv_size)))
			return rc;
		sealed_add(c, aad, aadlen, d->mv_data, d->mv_size, o);
		ev.mv_size = d->mv_size + NEDB_AEAD_OVERHEAD;
		ev.mv_data = o;
	}
	/*
	 * A key past the table's last one (a bulk load's documents in id
	 * order, and every op's versions, times and seqs) goes in by
	 * MDB_APPEND, which compares it with the last key only, where a
	 * put searches the tree: ~15 calls of the comparator, each a
	 * decryption unless its key's head is remembered (the writer
	 * thread of a 20,000-document encrypted ingest, callgrind: 773M
	 * -> 691M instructions).  LMDB refuses the append (MDB_KEYEXIST,
	 * nothing written, ev untouched) for a key not past the last,
	 * which then goes in as asked; after such a refusal the table's
	 * next 63 puts do not try, so that keys in no order (random ids)
	 * pay one comparison in 64.  Not for the duplicates of idx and
	 * idxdef (MDB_DUPSORT), nor with the caller's own placement
	 * flags.  Pages filled by appends are split at the end, not in
	 * the middle (LMDB's append mode), so they stay full.
	 */
	if (kv_tab[t].val != KV_DET &&
	    !(flags & (MDB_APPEND | MDB_APPENDDUP | MDB_CURRENT))) {
		unsigned char *w = &v->kv->append_wait[t];

		if (*w)
			(*w)--;
		else if ((rc = mdb_put(txn, v->dbi[t], &e, &ev,
				       flags | MDB_APPEND)) != MDB_KEYEXIST) {
			v->kv->appended[t] = !rc;
			return rc;
		} else {
			*w = 63;
			v->kv->appended[t] = false;
		}
	}
	/* LMDB writes the existing datum back into ev on MDB_KEYEXIST
	 * (MDB_NOOVERWRITE): the caller's d is left as it gave it. */
	return mdb_put(txn, v->dbi[t], &e, &ev, flags);
}

int
nedb__kv_del_enc(struct view *v, MDB_txn *txn, int t, MDB_val *k,
		 MDB_val *d)
{
	unsigned char ek[KV_KEY_MAX], ed[KV_KEY_MAX];
	MDB_val e = *k, ev;
	int rc;

	if (kv_tab[t].key == KV_DET &&
	    (rc = enc(v, kv_tab[t].tag, k, ek, &e)))
		return rc;
	if (!d)
		return mdb_del(txn, v->dbi[t], &e, NULL);
	ev = *d;
	if (kv_tab[t].val == KV_SEAL)	/* random nonces: no datum to match */
		return nedb__err(NEDB_EUSAGE, "deleting one sealed value of "
				 "'%s'", kv_tab[t].name);
	if (kv_tab[t].val == KV_DET &&
	    (rc = enc(v, kv_tab[t].tag | KV_DUP, d, ed, &ev)))
		return rc;
	return mdb_del(txn, v->dbi[t], &e, &ev);
}

int
nedb__kv_cget_enc(struct kvcur *c, MDB_val *k, MDB_val *d, MDB_cursor_op op)
{
	struct view *v = c->v;
	int t = c->t, rc;
	unsigned char ek[KV_KEY_MAX], ed[KV_KEY_MAX];
	bool key_in = op == MDB_SET || op == MDB_SET_KEY ||
		      op == MDB_SET_RANGE || op == MDB_GET_BOTH ||
		      op == MDB_GET_BOTH_RANGE;
	bool data_in = op == MDB_GET_BOTH || op == MDB_GET_BOTH_RANGE;
	/* the ops after which LMDB leaves the key (and for GET_BOTH the
	 * data) as given: the caller's plaintext stands */
	bool key_out = op != MDB_SET && op != MDB_GET_BOTH;
	MDB_val e = {0}, ev = {0}, pk;

	/* these leave the key unset, or return several data at once */
	if (op == MDB_FIRST_DUP || op == MDB_LAST_DUP ||
	    op == MDB_GET_MULTIPLE || op == MDB_NEXT_MULTIPLE ||
	    op == MDB_PREV_MULTIPLE)
		return nedb__err(NEDB_EUSAGE, "cursor op %d on an encrypted "
				 "view", (int)op);

	if (key_in) {
		e = *k;
		if (kv_tab[t].key == KV_DET &&
		    (rc = enc(v, kv_tab[t].tag, k, ek, &e)))
			return rc;
	}
	if (data_in) {
		ev = *d;
		if (kv_tab[t].val != KV_DET)
			return nedb__err(NEDB_EUSAGE, "MDB_GET_BOTH on '%s'",
					 kv_tab[t].name);
		if ((rc = enc(v, kv_tab[t].tag | KV_DUP, d, ed, &ev)))
			return rc;
	}
	if ((rc = mdb_cursor_get(c->c, &e, &ev, op)))
		return rc;
	if (!key_out)
		pk = *k;
	else if (kv_tab[t].key == KV_DET) {
		if ((rc = dec(v, t, kv_tab[t].tag, &e, &c->k, &pk,
			       kv_tab[t].val != KV_SEAL || op == MDB_GET_BOTH)))
			return rc;
	} else
		pk = e;
	if (op == MDB_GET_BOTH) {
		*k = pk;
		return 0;		/* d as the caller gave it */
	}
	if ((rc = val_out(v, t, &pk, &ev, &c->d, d)))
		return rc;
	*k = pk;
	return 0;
}

void
nedb__kv_cclose_enc(struct kvcur *c)
{
	free(c->k.p);
	free(c->d.p);
	c->k.p = c->d.p = NULL;
}

/* --- the comparators --- */

/*
 * LMDB's default order (mdb_cmp_memn) of the plaintexts of a and b,
 * under slot i's keys.  A stored value shorter than an iv cannot be one
 * of ours (a damaged page, or a view written without the key): it is
 * compared as it is, which keeps LMDB consistent but finds nothing.  The
 * comparator cannot fail: if this thread cannot make its contexts (out
 * of memory), it falls back to the raw order too, and the next kv call
 * in the thread reports the error.
 */
static int
raw_cmp(const MDB_val *a, const MDB_val *b)
{
	size_t n = a->mv_size < b->mv_size ? a->mv_size : b->mv_size;
	int r = memcmp(a->mv_data, b->mv_data, n);

	return r ? r : (a->mv_size > b->mv_size) - (a->mv_size < b->mv_size);
}

/* Whether two ivs are equal: inline loads, not a memcmp call (the
 * comparators test two or three per call). */
static inline bool
iv_eq(const unsigned char *x, const unsigned char *y)
{
	uint64_t a, b;
	uint32_t c, d;

	memcpy(&a, x, 8);
	memcpy(&b, y, 8);
	memcpy(&c, x + 8, 4);
	memcpy(&d, y + 8, 4);
	return a == b && c == d;
}

static int
kv_cmp(unsigned i, const MDB_val *a, const MDB_val *b)
{
	const unsigned char *pa = a->mv_data, *pb = b->mv_data;
	unsigned char ks[KV_KEY_MAX];
	struct kvhead *h;
	size_t na, nb, n, m, k;
	struct kvctx *c;
	int r;

	if (a->mv_size < KV_IV_LEN || b->mv_size < KV_IV_LEN ||
	    a->mv_size > KV_KEY_MAX || b->mv_size > KV_KEY_MAX ||
	    !(c = kv_ctx(i)))
		return raw_cmp(a, b);
	/* same bytes, same plaintext (the iv is a function of it) */
	if (a->mv_size == b->mv_size && iv_eq(pa, pb) &&
	    !memcmp(pa + KV_IV_LEN, pb + KV_IV_LEN, a->mv_size - KV_IV_LEN))
		return 0;
	na = a->mv_size - KV_IV_LEN;
	nb = b->mv_size - KV_IV_LEN;
	/* the search key: the last one decrypted, or decrypt it now */
	if (c->clen != na || !iv_eq(c->civ, pa)) {
		if (ctr_xor(c, c->cpt, pa, pa + KV_IV_LEN, na, 0))
			return raw_cmp(a, b);
		memcpy(c->civ, pa, KV_IV_LEN);
		c->clen = na;
	}
	/* b: its head (remembered, or decrypted now and remembered),
	 * then the rest only if that ties */
	n = na < nb ? na : nb;
	k = (pb[0] | pb[1] << 8) % KV_PAGE;
	h = &c->head[k];
	m = nb < KV_HEAD ? nb : KV_HEAD;
	if (h->len != nb || !iv_eq(h->iv, pb)) {
		c->filled[k / 64] |= (uint64_t)1 << k % 64;
		if (ctr_xor(c, h->pt, pb, pb + KV_IV_LEN, m, 0)) {
			h->len = 0;
			return raw_cmp(a, b);
		}
		memcpy(h->iv, pb, KV_IV_LEN);
		h->len = (unsigned short)nb;
	}
	if ((r = memcmp(c->cpt, h->pt, n < m ? n : m)))
		return r;
	if (n > m) {
		if (ctr_xor(c, ks, pb, pb + KV_IV_LEN + m, n - m,
			    m / KV_BLOCK))
			return raw_cmp(a, b);
		if ((r = memcmp(c->cpt + m, ks, n - m)))
			return r;
	}
	return (na > nb) - (na < nb);
}

/* kv_cmp_00 ... kv_cmp_ff: slot 0xhl's comparator. */
#define KV_FN(h, l) \
static int \
kv_cmp_##h##l(const MDB_val *a, const MDB_val *b) \
{ \
	return kv_cmp(0x##h##l, a, b); \
}
#define KV_ROW(h) KV_FN(h, 0) KV_FN(h, 1) KV_FN(h, 2) KV_FN(h, 3) \
	KV_FN(h, 4) KV_FN(h, 5) KV_FN(h, 6) KV_FN(h, 7) KV_FN(h, 8) \
	KV_FN(h, 9) KV_FN(h, a) KV_FN(h, b) KV_FN(h, c) KV_FN(h, d) \
	KV_FN(h, e) KV_FN(h, f)
KV_ROW(0) KV_ROW(1) KV_ROW(2) KV_ROW(3) KV_ROW(4) KV_ROW(5) KV_ROW(6)
KV_ROW(7) KV_ROW(8) KV_ROW(9) KV_ROW(a) KV_ROW(b) KV_ROW(c) KV_ROW(d)
KV_ROW(e) KV_ROW(f)
#define KV_P(h, l) kv_cmp_##h##l,
#define KV_PROW(h) KV_P(h, 0) KV_P(h, 1) KV_P(h, 2) KV_P(h, 3) KV_P(h, 4) \
	KV_P(h, 5) KV_P(h, 6) KV_P(h, 7) KV_P(h, 8) KV_P(h, 9) KV_P(h, a) \
	KV_P(h, b) KV_P(h, c) KV_P(h, d) KV_P(h, e) KV_P(h, f)
static MDB_cmp_func *const kv_cmps[KV_SLOTS] = {
	KV_PROW(0) KV_PROW(1) KV_PROW(2) KV_PROW(3) KV_PROW(4) KV_PROW(5)
	KV_PROW(6) KV_PROW(7) KV_PROW(8) KV_PROW(9) KV_PROW(a) KV_PROW(b)
	KV_PROW(c) KV_PROW(d) KV_PROW(e) KV_PROW(f)
};
#undef KV_FN
#undef KV_ROW
#undef KV_P
#undef KV_PROW

/* --- a view's slot --- */

int
nedb__kv_open(struct view *v)
{
	const struct nedb_crypt *cr = v->crypt;
	struct kvview *kv;
	unsigned i;

	v->kv = NULL;
	if (!cr)
		return 0;
	if (!(kv = calloc(1, sizeof *kv)))
		return nedb__err(NEDB_EIO, "out of memory");
	pthread_mutex_lock(&slot_lock);
	for (i = 0; i < KV_SLOTS && slots[i].used; i++)
		;
	if (i == KV_SLOTS) {
		pthread_mutex_unlock(&slot_lock);
		free(kv);
		return nedb__err(NEDB_EBUSY, "too many encrypted views open "
				 "at once (%d)", KV_SLOTS);
	}
	slots[i].used = true;
	memcpy(slots[i].ctr, cr->view_ctr, NEDB_KEY_LEN);
	memcpy(slots[i].val, cr->view_val, NEDB_KEY_LEN);
	blake2b_init_key(&slots[i].iv, 32, cr->view_iv, NEDB_KEY_LEN);
	iv_past_init(&slots[i]);
	/* a new generation: contexts keyed for the slot's last user go */
	__atomic_store_n(&slots[i].gen, slots[i].gen + 1 ? slots[i].gen + 1 :
			 1, __ATOMIC_RELEASE);
	kv->slot = i;
	kv->gen = slots[i].gen;
	pthread_mutex_unlock(&slot_lock);
	v->kv = kv;
	if (!kv_ctx(i)) {		/* fail here rather than in a read */
		nedb__kv_close(v);
		return NEDB_EIO;
	}
	return 0;
}

void
nedb__kv_close(struct view *v)
{
	struct kvview *kv = v->kv;

	if (!kv)
		return;
	pthread_mutex_lock(&slot_lock);
	nedb__wipe(slots[kv->slot].ctr, NEDB_KEY_LEN);
	nedb__wipe(slots[kv->slot].val, NEDB_KEY_LEN);
	nedb__wipe(&slots[kv->slot].iv, sizeof slots[kv->slot].iv);
	nedb__wipe(&slots[kv->slot].iv_past, sizeof slots[kv->slot].iv_past);
	slots[kv->slot].used = false;
	pthread_mutex_unlock(&slot_lock);
	/* this thread's contexts need not wait for the slot's reuse */
	if (self) {
		ctx_free(self->ctx[kv->slot]);
		self->ctx[kv->slot] = NULL;
	}
	for (int t = 0; t < DBI__N; t++)
		free(kv->get[t].p);
	free(kv->seal.p);
	free(kv);
	v->kv = NULL;
}

int
nedb__kv_dbi(struct view *v, MDB_txn *txn, int t)
{
	MDB_cmp_func *f;
	int rc = 0;

	if (!v->kv)
		return 0;
	f = kv_cmps[v->kv->slot];
	if (kv_tab[t].key == KV_DET)
		rc = mdb_set_compare(txn, v->dbi[t], f);
	if (!rc && kv_tab[t].val == KV_DET)
		rc = mdb_set_dupsort(txn, v->dbi[t], f);
	return rc;
}
