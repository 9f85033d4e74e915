/*
 * internal.h - declarations shared by the files of libnedb.  Not
 * installed.
 */
#ifndef NEDB_INTERNAL_H
#define NEDB_INTERNAL_H

#include <lmdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include "nedb.h"
#include "logstore.h"
#include "crypt.h"
#include "engine.h"

#define HASH_LEN 32
#define MAX_DOC (16u << 20)		/* largest document, bytes */
/* An update logs a patch, not the whole document, when the document has
 * PATCH_MIN bytes or more and the update is at most a quarter of it; a
 * put again after PATCH_MAX patches in a row, so that reading a past
 * version applies at most PATCH_MAX of them (engine/db.c) */
#define PATCH_MIN 1024
#define PATCH_MAX 64
#define MAX_ID 400
#define SALT_LEN 16		/* an encrypted op's salt member, bytes */
#define MAX_COLL 64
#define MAX_CLIENT 128		/* a client name, bytes (check_wopts) */
#define VIEW_FORMAT 11			/* bump to force a rebuild */
#define MAX_REL 64
#define LOG_FORMAT 2			/* a new database's, by default */
#define LOG_FORMAT_OLD 1		/* one whose genesis does not say */
#define LOG_FORMAT_MAX 2		/* 2: documents that can be erased */

/* core/util.c */
int nedb__err(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int nedb__errno(int code, const char *what);	/* appends strerror(errno) */
int nedb__mdb(int rc, const char *what);	/* maps an LMDB error */
void nedb__set_errpos(long pos);	/* after nedb__err: where in the text */
int nedb__mdb_end(int rc);	/* a cursor walk's end: 0, mapped, or a callback's */
bool nedb__test_fail(const char *name);	/* NEDB_TEST_FAIL hook */
void nedb__test_pause(const char *name);	/* NEDB_TEST_PAUSE hook */
bool nedb__utf8_valid(const unsigned char *s, size_t n);
int nedb__buf_u64(nedb_buf *b, uint64_t v);	/* decimal, no printf */
int nedb__buf_i64(nedb_buf *b, int64_t v);
void nedb__hex(char *out, const unsigned char *in, size_t n);
int nedb__unhex(unsigned char *out, const char *in, size_t n);
int64_t nedb__now_ms(void);
int64_t nedb__op_clock(void);	/* ops' ts: now, or NEDB_TEST_NOW */
/* Allocation: never NULL; out of memory calls nedb_set_oom's handler,
 * then aborts (one policy for the library, as Redis's zmalloc). */
void *nedb__malloc(size_t n);
void *nedb__calloc(size_t n, size_t size);
void *nedb__realloc(void *p, size_t n);
char *nedb__strdup(const char *s);
char *nedb__memdup(const char *s, size_t n);	/* n bytes + NUL */
int nedb__fsync_dir(const char *dir);	/* NEDB_EIO with a message */
/* Writes all n bytes (a short write goes on; a full disk is ENOSPC):
 * 0, or -1 with errno set. */
int nedb__write_all(int fd, const void *p, size_t n);
/* n random bytes from getrandom(2), pooled (salts; no libcrypto) */
int nedb__rand_pool(unsigned char *out, size_t n);
/* Reads the whole (small) file at path into out: 0, or -1 with errno. */
int nedb__read_file(const char *path, nedb_buf *out);
/* path replaced by p[0, n) through dir/.tmp.XXXXXX, durably (util.c) */
int nedb__replace_file(const char *dir, const char *path, const void *p,
		       size_t n, const char *hook);
char *nedb__path_in(const char *dir, const char *name);	/* dir/name */
void nedb__warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* nedb_set_progress's function (NULL: none); long loops call it every
 * NEDB__PROGRESS_EVERY ops through nedb__progress. */
extern nedb_progress_fn nedb__progress_fn;
#define NEDB__PROGRESS_EVERY 4096
#define nedb__progress(what, n, done, total) \
	do { \
		if (nedb__progress_fn && \
		    (n) % NEDB__PROGRESS_EVERY == 0) \
			nedb__progress_fn((what), (n), (done), (total)); \
	} while (0)
void nedb__put_be64(unsigned char *p, uint64_t v);
uint64_t nedb__get_be64(const unsigned char *p);
/* Little-endian, for the document header (view) and archive blocks:
 * inline, since a scan decodes a header per row. */
static inline void
nedb__put_le64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint64_t
nedb__get_le64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static inline void
nedb__put_le32(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++, v >>= 8)
		p[i] = (unsigned char)v;
}

static inline uint32_t
nedb__get_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* core/zlib.c: zlib, loaded on first use (dlopen) */
#include <zlib.h>
struct nedb_zlib {
	int (*compress2)(Bytef *, uLongf *, const Bytef *, uLong, int);
	int (*uncompress)(Bytef *, uLongf *, const Bytef *, uLong);
	uLong (*compressBound)(uLong);
	int (*deflateInit2_)(z_streamp, int, int, int, int, int,
			     const char *, int);
	int (*deflateReset)(z_streamp);
	int (*deflateParams)(z_streamp, int, int);
	int (*deflate)(z_streamp, int);
	int (*deflateEnd)(z_streamp);
	int (*inflateInit_)(z_streamp, const char *, int);
	int (*inflateReset)(z_streamp);
	int (*inflate)(z_streamp, int);
	int (*inflateEnd)(z_streamp);
	const char *(*version)(void);
};
/* Valid once nedb__zlib_load returned 0 (in any thread). */
extern struct nedb_zlib nedb__z;
int nedb__zlib_load(void);	/* 0, or NEDB_EIO with a message */
/*
 * ISA-L's igzip (Debian's libisal2), loaded on first use when it is
 * there: deflate and inflate of the same zlib format (RFC 1950) in SIMD,
 * several times faster than zlib's, for the file store's chunks (its
 * structures are igzip_lib.h's: file/store.c).  nedb__isal_load: true
 * when nedb__isal's slots are valid (in any thread), false when the
 * library is missing (or the test hook NEDB_TEST_FAIL=isal says so):
 * then zlib does it all.
 */
struct isal_zstream;
struct inflate_state;
struct nedb_isal {
	void (*deflate_stateless_init)(struct isal_zstream *);
	int (*deflate_stateless)(struct isal_zstream *);
	void (*inflate_init)(struct inflate_state *);
	int (*inflate_stateless)(struct inflate_state *);
};
extern struct nedb_isal nedb__isal;
bool nedb__isal_load(void);

/* core/doc.c: compact, validated JSON text */
/*
 * Validates text as one JSON object (strict: RFC 8259 numbers, valid
 * UTF-8, nothing after it) and appends its compact form to out.  On
 * NEDB_EINPUT the message says what and where (line, column).
 */
int nedb__doc_normalize(nedb_buf *out, const char *text, size_t len);
/* the same without its one-pass fast path (tests compare the two) */
int nedb__doc_normalize_full(nedb_buf *out, const char *text, size_t len);
size_t nedb__number_len(const char *s, size_t n);	/* RFC 8259 */
/* End of the value starting at s in compact, valid JSON text. */
const char *nedb__value_end(const char *s);
/* Calls fn on each element of a compact array, or each "key":value
 * member of a compact object (c's text must be followed by more text
 * or a NUL, as stored documents are). */
struct nql_span;
void nedb__each_value(struct nql_span c,
		      void (*fn)(struct nql_span, void *), void *payload);
/* Finds a top-level member of a compact object; value span in *v,*vlen. */
bool nedb__doc_member(const char *doc, size_t len, const char *key,
		      const char **v, size_t *vlen);
/* Finds n top-level members in one walk: v[i] NULL when keys[i] is not
 * there; returns how many were found. */
size_t nedb__doc_members(const char *doc, const char *const *keys, size_t n,
			 const char **v, size_t *vlen);
/* Sets (or with val NULL removes) a top-level member; rewrites *doc. */
int nedb__doc_set(nedb_buf *doc, const char *key, const char *val,
		  size_t vlen, bool first);
/* Merges the members of patch into doc (top level, patch wins). */
int nedb__doc_merge(nedb_buf *doc, const char *patch, size_t plen);
/* Decodes a JSON string literal's value (jv). Caller frees *out. */
int nedb__json_string(const char *lit, size_t len, char **out);

/* blake2b-256 of prev || body */
void nedb__chain_hash(unsigned char out[HASH_LEN],
		      const unsigned char prev[HASH_LEN],
		      const char *body, size_t len);

/*
 * An op, as staged by a write or parsed back from a log line.  Its kinds
 * are described once, in log/optab.c (nedb__optab): a new kind is an
 * entry here, one there, its apply hook (view/view.c), its builder
 * (engine/db.c) and its section of nedb-format(5).
 */
enum op_kind {
	OP_GENESIS, OP_PUT, OP_DELETE, OP_CHECKPOINT, OP_LINK, OP_UNLINK,
	OP_INDEX, OP_UNINDEX, OP_DROP, OP_EXPIRE, OP_REDACT, OP_FILE, OP_PATCH,
	OP__N
};

/* The kinds whose line carries a payload in "doc" (format 2: erasable):
 * a put's document, a patch's update (engine/patch.c). */
#define OP_HAS_DOC(k) ((k) == OP_PUT || (k) == OP_PATCH)
/* A version of a document's text (the vers table): a put or a patch. */
#define OP_IS_VERSION(k) ((k) == OP_PUT || (k) == OP_PATCH)

/* Ops a client writes: they carry client and nonce (and maybe idem). */
#define OP_IS_CLIENT(k) ((unsigned)(k) < OP__N && nedb__optab[k].client)

struct op {
	enum op_kind kind;
	uint64_t seq;
	int64_t ts;
	const char *client;
	uint64_t nonce;
	const char *idem;
	const char *coll, *id;
	const char *from, *rel, *to;	/* link, unlink: node keys coll:id */
	const char *field, *ixkind;	/* index, unindex */
	/* put: provenance, as JSON text (caused_by an array of seqs,
	 * confidence a number) or strings; NULL when absent */
	const char *caused_by, *confidence;
	size_t caused_by_len, confidence_len;
	const char *evidence, *valid_from, *valid_to;
	/* put, delete, expire, drop: the source's replication offset
	 * (nedb_wopts.repl_offset), 0 none; evidence too on these */
	uint64_t repl_offset;
	int64_t exp;			/* put: expiry (ms), 0 none */
	uint64_t base;			/* patch: the version it changes */
	/* redact: the put seqs it erases, a JSON array of ascending
	 * numbers, and why (engine/redact.c) */
	const char *seqs, *reason;
	size_t seqs_len;
	/* file: a version of a file (lib/file): its name and number, its
	 * size and chunk count, the RFC 6962 root of its chunks' addresses
	 * and the address of its manifest's top page */
	const char *name;
	int64_t fversion;
	uint64_t fsize, fchunks;
	unsigned char froot[HASH_LEN], fman[HASH_LEN];
	const char *doc;		/* put: compact document text; patch:
					 * the update (nedb_update_doc) */
	size_t doclen;
	/* log format 2 (doc/redaction.md): a put's document and salt end
	 * at a block boundary of its hashed message, so that they can be
	 * erased; format is the genesis's "format" too */
	int format;			/* 0 or 1: format 1 */
	unsigned char dsalt[SALT_LEN];	/* format 2: filled by the writer */
	uint64_t redacted;		/* parsed: the text erased by op R */
	char *docbuf;			/* parsed, redacted: doc's marker text */
	uint32_t docoff;		/* offset of doc within the line */
	unsigned char hash[HASH_LEN];
	unsigned char prev[HASH_LEN];
	struct log_loc loc;		/* where the log keeps the line */
	uint32_t len;			/* of the line, without "\n" */
	unsigned char state[HASH_LEN];	/* checkpoint: digest of the state */
	/* encrypted databases: a random "salt" member after ts, so that a
	 * guessed op cannot be confirmed against its published hash */
	bool salted;
	unsigned char salt[SALT_LEN];
	void *jv_owner;			/* parsed line that owns the strings */
	char *own;			/* or the strings, read without it */
	const struct nedb_preop *ahead;	/* put: its line formatted ahead
					 * (engine/db.c), or NULL */
};

/*
 * log/optab.c: one description per op kind.  Every line starts with
 * seq, prev, op and ts and ends with hash; between them come the kind's
 * members, in the order of its list.  The receipt ({"seq","hash","op"}
 * and the members marked M_RCPT, in the same order) is made from the
 * same list.
 */
enum op_mtype {
	M_STR,		/* const char *: a JSON string */
	M_U64,		/* uint64_t: digits */
	M_I64,		/* int64_t: digits, maybe a '-' */
	M_HEX,		/* unsigned char[HASH_LEN]: a string of 64 hex digits */
	M_RAW,		/* const char * and a size_t: JSON text (a number, an
			 * array of numbers) with no string in it */
	M_DOC,		/* the document: the last member, its text served
			 * from the line (docoff) */
	M_FORMAT	/* the op's format, 1 when 0 (genesis) */
};
#define M_OPT 0x1	/* may be absent: left out when NULL (M_I64: 0) */
#define M_RCPT 0x2	/* the receipt carries it */

struct op_member {
	const char *name;	/* "coll" */
	const char *key;	/* ,"coll": as the line holds it */
	uint8_t keylen;
	uint8_t type;		/* enum op_mtype */
	uint8_t flags;		/* M_OPT, M_RCPT */
	uint16_t off;		/* offsetof(struct op, ...) */
	uint16_t lenoff;	/* M_RAW: offsetof its length */
	uint16_t roff, rsize;	/* M_RCPT: offsetof(nedb_receipt, ...), size */
};

struct op_desc {
	const char *name;		/* "put": the line's "op" */
	bool client;			/* carries client, nonce, maybe idem */
	const struct op_member *m;	/* after "ts", in the line's order */
	size_t n;
};

extern const struct op_desc nedb__optab[OP__N];
const char *nedb__op_name(enum op_kind k);
/* The kind whose name is s[0, n); -1 if none. */
int nedb__op_kind(const char *s, size_t n);
/* Fills r from o (exists and replay cleared); NEDB_ECORRUPT when one of
 * its strings does not fit (only a damaged log can hold such an op). */
int nedb__receipt_of(nedb_receipt *r, const struct op *o);

/* log/log.c */
#define LOG_SUFFIX_LEN 75	/* a line's end: ,"hash":"<64 hex>"} */
/* Formats op as a line ("\n"-terminated) onto out; fills hash, docoff. */
int nedb__log_format(nedb_buf *out, struct op *o);
/*
 * Checks one line (without "\n"): its shape and its hash.  Fills seq,
 * prev and hash.  Returns 0 or NEDB_ECORRUPT with a message.
 */
int nedb__log_check(const char *line, size_t len, uint64_t *seq,
		    unsigned char prev[HASH_LEN], unsigned char hash[HASH_LEN]);
/*
 * The same check for the line after one whose hash is prev, and whose
 * text holds it as prevhex (64 digits that checked): 0 when it passes,
 * hash filled; 1 (no error set) when nedb__log_check must say why not.
 */
int nedb__log_check_next(const char *line, size_t len, uint64_t seq,
			 const unsigned char prev[HASH_LEN],
			 const char *prevhex, unsigned char hash[HASH_LEN]);
/* Parses a checked line into o (loads libjq).  nedb__op_free after. */
int nedb__log_parse(const char *line, size_t len, struct op *o);
void nedb__op_free(struct op *o);
/* What a redacted version of id reads as (SPEC §9), onto out:
 * {"_id":ID,"_redacted":{"seq":R}}. */
int nedb__redacted_doc(nedb_buf *out, const char *id, size_t idlen,
		       uint64_t r);
/* The seqs of a redact op's "seqs" array text, in order: calls fn on
 * each until it returns non-zero (returned). */
int nedb__each_seq(const char *text, size_t len,
		   int (*fn)(uint64_t seq, void *payload), void *payload);
/* The document of a put's checked line (the format puts it last, after
 * scalars only): a span of line, found without a JSON parser.  False
 * for a format-2 line whose document was redacted. */
#define LOG_MARK_MAX 169	/* ,"redacted":<20 digits>,"mid":"<128 hex>" */
#define NEDB_B2_BLOCK 128
#define NEDB_B2_MID 64		/* a chaining value: 8 words, little-endian */
/* A format-2 put line's parts (offsets in the line). */
struct log_put2 {
	size_t span;			/* after "op":"put": what erasing takes */
	size_t tail;			/* its ,"ts":, at a block boundary */
	size_t doc, doclen;		/* unredacted: the document's text */
	uint64_t redacted;		/* redacted: by op R */
	unsigned char mid[NEDB_B2_MID];	/* redacted: the chaining value */
};
/* 1 for an unredacted format-2 put, 2 for a redacted one, 0 for any
 * other line (of seq and prev first), -1 for a malformed format-2 put. */
int nedb__log_put2(const char *line, size_t len, struct log_put2 *p);
/* Erases the document and salt of format-2 put line seq (len bytes, no
 * "\n") in place, for redact op r: the mark and spaces (nedb-format(5)),
 * the same hash. */
int nedb__log_erase(char *line, size_t len, uint64_t r, uint64_t seq);
/* log/midstate.c: BLAKE2b-256 with a mid-state (RFC 7693's F) */
/* The chaining value after the first n bytes of prev || body (n a
 * multiple of NEDB_B2_BLOCK, more input to follow). */
void nedb__b2_mid(unsigned char mid[NEDB_B2_MID],
		  const unsigned char prev[HASH_LEN], const char *body,
		  size_t n);
/* The digest of a message whose first n bytes left mid, and whose rest
 * is tail || last. */
void nedb__b2_finish(unsigned char out[HASH_LEN],
		     const unsigned char mid[NEDB_B2_MID], size_t n,
		     const char *tail, size_t tlen, const char *last,
		     size_t llen);
/* Where a checked line's scalar members (ts, coll, id, ...) are: the
 * text before a format-1 document, or a format-2 put's tail. */
void nedb__log_scalars(const char *line, size_t len, const char **from,
		       size_t *n);
bool nedb__log_doc(const char *line, size_t len, const char **doc,
		   size_t *doclen);

/* view/view.c: the LMDB schema and apply() */
enum {
	DBI_META, DBI_DOCS, DBI_VERS, DBI_SEQS, DBI_NONCES, DBI_IDEM,
	DBI_TTL, DBI_COLLS, DBI_NODES, DBI_NODEIDS, DBI_EDGES, DBI_REDGES,
	DBI_EDGEHIST, DBI_REDGEHIST, DBI_IDXDEF, DBI_IDX,
	DBI_USAGE,	/* query statistics for auto-indexing: not state */
	DBI_TREE,	/* the Merkle tree's stored hashes: proof/tree.c */
	DBI_TIMES,	/* op times -> seqs: view/timeidx.c */
	DBI_FILES,	/* versions of files: lib/file */
	DBI_ELEMS,	/* big Redis values' members: view/elems.c */
	DBI__N
};

struct view {
	MDB_env *env;
	MDB_dbi dbi[DBI__N];
	/* an encrypted database's keys (the handle's db->crypt); NULL for
	 * a plaintext one */
	const struct nedb_crypt *crypt;
	struct kvview *kv;		/* its encryption state: view/kv.c */
	/* the database's log format: in format 2 the state digest leaves
	 * out document text, which the op hash commits to (dh) */
	int log_format;
	/* bumped by each write transaction begun on the view
	 * (nedb__view_wbegin): what apply remembers is good within the
	 * transaction it was learnt in only (timeidx.c's last time, a
	 * collection's count, a client's nonce) */
	uint64_t wgen;
	struct {
		uint64_t gen;		/* wgen when learnt; 0: nothing */
		int64_t ts;		/* the times table's last key */
		bool any;		/* false: the table is empty */
	} tlast;
	struct {
		uint64_t gen;		/* as tlast's */
		uint64_t n;		/* its count of documents */
		char coll[MAX_COLL + 1];
	} ccount;			/* view.c: the last collection counted */
	struct {
		uint64_t gen;		/* as tlast's */
		uint64_t nonce;
		char client[MAX_CLIENT + 1];
	} nlast;			/* the last client's nonce applied */
	/* texts of values kept as elements, rebuilt for nedb__doc_head's
	 * callers: each good for the next EL_RING calls */
#define EL_RING 8
	nedb_buf elring[EL_RING];
	unsigned elnext;
};

/* Per-op entry in DBI_SEQS (key: be64 seq): where the log keeps the
 * op (opaque: only the log's backend reads loc) and its hash. */
struct seqent {
	struct log_loc loc;
	unsigned char hash[HASH_LEN];
} __attribute__((packed));

/* Per-version entry in DBI_VERS (key: coll \0 id \0 be64 seq): its
 * kind.  The version's text is read by asking the log for op seq (the
 * view says where, only the line says what): no offset into a line. */
struct verent {
	uint8_t kind;
} __attribute__((packed));

/* What the view has applied, stored under "applied" in DBI_META: the
 * tail it has reached (seq, head) and the log position after it
 * (opaque: the log's backend gives and compares it). */
struct applied {
	uint64_t seq;
	uint64_t end;			/* log position after the last op */
	unsigned char head[HASH_LEN];
	uint32_t format;
	uint64_t ckpt;			/* seq of the last checkpoint op */
} __attribute__((packed));

/* Opens view.mdb at path; crypt: the database's keys, or NULL for a
 * plaintext view (view/kv.h). */
int nedb__view_open(struct view *v, const char *path, unsigned envflags,
		    const struct nedb_crypt *crypt);
/* Whether what v remembers under gen was learnt in the write
 * transaction at hand (wgen). */
static inline bool
nedb__view_current(const struct view *v, uint64_t gen)
{
	return gen && gen == v->wgen;
}

/* Begins a write transaction on v (mdb_txn_begin), and with it a new
 * generation of what apply remembers (wgen). */
int nedb__view_wbegin(struct view *v, MDB_txn **txn);
void nedb__view_close(struct view *v);
int nedb__view_dbis(struct view *v, MDB_txn *txn, bool create);
int nedb__view_applied(struct view *v, MDB_txn *txn, struct applied *a);
int nedb__view_set_applied(struct view *v, MDB_txn *txn,
			   const struct applied *a);
/* Empties every table (for a rebuild). */
int nedb__view_clear(struct view *v, MDB_txn *txn);
/* The one apply(): folds op o into the view inside txn. */
int nedb__apply(struct view *v, MDB_txn *txn, const struct op *o);
/* Its hook per kind: what the op does beyond its seqs entry, the
 * Merkle tree (proof/tree.h) and its client's nonce and idempotency
 * key, which nedb__apply records. */
typedef int (*nedb__apply_fn)(struct view *v, MDB_txn *txn,
			      const struct op *o);
extern const nedb__apply_fn nedb__apply_kind[OP__N];
/* BLAKE2b digest of the logical state (everything but positions): in
 * out, as a checkpoint records it; in texts (NULL: not wanted), of the
 * documents whole, which a format-2 state leaves out (a checkpoint's
 * check of the view against a replay compares both). */
int nedb__view_digest(struct view *v, MDB_txn *txn,
		      unsigned char out[HASH_LEN],
		      unsigned char texts[HASH_LEN]);
/* Node numbers for edge keys; NEDB_ENOTFOUND if absent and !create. */
int nedb__node_number(struct view *v, MDB_txn *txn, const char *node,
		      bool create, uint64_t *out);
/*
 * The HEAD document coll/id in txn, the one HEAD read: 0 with its header
 * and text (borrowed until txn ends), NEDB_ENOTFOUND with no message when
 * there is none or it expired at or before now (the caller words it), or
 * another error with a message.  The keys and values are codec.h's.
 */
struct dochdr;
int nedb__doc_head(struct view *v, MDB_txn *txn, const char *coll,
		   const char *id, size_t idlen, int64_t now, struct dochdr *h,
		   const char **doc, size_t *len);

/*
 * view/elems.c: a big Redis value kept as elements (doc/ochange.md §7).
 * Its docs text is struct elhdr's encoding: a marker (never '{'), then
 * the fields, then the text before the value (pre).
 */
#define ELEM_MIN 128		/* more members than this: elements */
enum { EL_SET = 1, EL_LIST, EL_HASH, EL_ZSET };
struct elhdr {
	int type;		/* EL_* */
	uint64_t n;		/* members (a hash's fields) */
	uint64_t sum;		/* bytes of their JSON texts */
	uint64_t since;		/* bytes of patches since the last put */
	int64_t lo, hi;		/* a list's positions [lo, hi); a hash's
				 * next order (hi) */
	const char *pre;	/* `{"_id":K,"type":T,"value":` */
	size_t prelen;
};
static inline bool
nedb__el_is(const char *doc, size_t len)
{
	return len && doc[0] == '\x01';
}
int nedb__el_hdr(const char *p, size_t n, struct elhdr *e);
int nedb__el_hdr_put(nedb_buf *out, const struct elhdr *e);
/* The length of the whole text. */
uint64_t nedb__el_textlen(const struct elhdr *e);
/* Whether doc looks like a big Redis value (a cheap test of its start). */
bool nedb__el_candidate(const char *doc, size_t len);
/* Stores doc's elements under docs key dk when it is a canonical big
 * value: 1 with its header appended to out, 0 when it is not one
 * (nothing stored), or an error.  old: the header of the elements dk
 * has now (whose entries the new ones replace, the same kept), or
 * NULL when it has none. */
int nedb__el_encode(struct view *v, MDB_txn *txn, const unsigned char *dk,
		    size_t dklen, const char *doc, size_t len, uint64_t since,
		    const struct elhdr *old, nedb_buf *out);
/* Deletes every element under dk. */
int nedb__el_clear(struct view *v, MDB_txn *txn, const unsigned char *dk,
		   size_t dklen);
/* Appends the whole text of the value e at dk to out. */
int nedb__el_text(struct view *v, MDB_txn *txn, const unsigned char *dk,
		  size_t dklen, const struct elhdr *e, nedb_buf *out);
/* Calls fn with the JSON text of up to count members in order (rev:
 * from the end): a list's element, a set's member, a hash's
 * "field":"value", a sorted set's ["member",score].  Stops at fn's
 * non-zero return: a negative one (an error) it returns, a positive one
 * (enough) is 0. */
int nedb__el_walk(struct view *v, MDB_txn *txn, const unsigned char *dk,
		  size_t dklen, int type, bool rev, uint64_t count,
		  int (*fn)(const char *json, size_t len, void *payload),
		  void *payload);
/* As nedb__el_walk, over a sorted set's members in score order from
 * the first whose score is from or more (rev: back from the last whose
 * score is from or less). */
int nedb__el_zfrom(struct view *v, MDB_txn *txn, const unsigned char *dk,
		   size_t dklen, double from, bool rev, uint64_t count,
		   int (*fn)(const char *json, size_t len, void *payload),
		   void *payload);
/* As nedb__el_walk, over a list's elements from position pos (its
 * header's lo + an index) on. */
int nedb__el_list(struct view *v, MDB_txn *txn, const unsigned char *dk,
		  size_t dklen, int64_t pos, uint64_t count,
		  int (*fn)(const char *json, size_t len, void *payload),
		  void *payload);
/* A member (set), field (hash, its value's raw bytes in val if not NULL)
 * or member (sorted set, its score in *score): 1 when there, 0 not. */
int nedb__el_find(struct view *v, MDB_txn *txn, const unsigned char *dk,
		  size_t dklen, int type, const char *m, size_t mlen,
		  nedb_buf *val, double *score);
/* Applies a Redis operator to the elements, updating e: 0, 1 when the
 * elements cannot hold the result (apply it to the text instead),
 * NEDB_EINPUT when it does not apply, or another error. */
int nedb__el_apply(struct view *v, MDB_txn *txn, const unsigned char *dk,
		   size_t dklen, struct elhdr *e, const char *id,
		   const char *upd, size_t n);
/* A sorted set's score as a document holds it (elems.c), and read back:
 * a number, "inf" or "-inf" (-0 read as 0); false for anything else
 * (proto/redis.c). */
int nedb__score_json(nedb_buf *b, double d);
bool nedb__score_parse(const char *p, const char *q, double *d);
/*
 * The HEAD of coll/id for a Redis command: 0 with h and e (e->pre
 * borrowed) when the view keeps it as elements, 1 when it is a whole
 * text, NEDB_ENOTFOUND when there is none live at now.
 */
int nedb__el_head(struct view *v, MDB_txn *txn, const char *coll,
		  const char *id, size_t idlen, int64_t now, struct dochdr *h,
		  struct elhdr *e);
/* Appends the whole text of docs text doc (a header of elements). */
int nedb__el_doc(struct view *v, MDB_txn *txn, const unsigned char *dk,
		 size_t dklen, const char *doc, size_t len, nedb_buf *out);
/*
 * engine/db.c: stages a patch of Redis operator upd on coll/id, which
 * the view keeps as elements (then a full version when one is due):
 * 0, 1 when it is not kept so (or has no live HEAD: nothing staged; the
 * caller writes the whole value), or an error.
 */
int nedb__write_ops(nedb *db, const char *coll, const char *id,
		    const char *upd, size_t updlen, const nedb_wopts *w,
		    nedb_receipt *receipt);
/*
 * proto/redis.c: a Redis operator (doc/ochange.md §7.1) checked whole and
 * taken apart, for the text (redis.c) and the elements (view/elems.c)
 * alike, so that both take exactly the same updates.
 */
enum {
	ROP_SADD, ROP_SREM, ROP_LPUSH, ROP_RPUSH, ROP_LPOP, ROP_RPOP,
	ROP_HSET, ROP_HDEL, ROP_ZADD, ROP_ZREM, ROP_LSET
};
struct rop_arg {
	char *m;		/* a member, element or field: raw bytes */
	size_t mlen;
	char *v;		/* $hset: the value */
	size_t vlen;
	double score;		/* $zadd (-0 read as 0) */
};
struct rop {
	int op;			/* ROP_* */
	uint64_t count;		/* $lpop, $rpop; $lset: the index */
	struct rop_arg *a;
	size_t n;
};
/* For key id holding a value of type (EL_*) of n members: 0,
 * NEDB_EINPUT (why, as the text's apply says it), or NEDB_EIO;
 * nedb__rop_free after 0. */
int nedb__rop_parse(const char *upd, size_t len, const char *id, int type,
		    uint64_t n, struct rop *r);
void nedb__rop_free(struct rop *r);
/* Whether coll has any index (so that apply needs texts for them). */
bool nedb__index_any(struct view *v, MDB_txn *txn, const char *coll);

/* view/index.c: secondary indexes, maintained by apply */
/*
 * Updates every index of coll for one document: removes the entries of
 * olddoc (if any) and adds those of newdoc (if any).
 */
int nedb__index_doc(struct view *v, MDB_txn *txn, const char *coll,
		    const char *id, size_t idlen, const char *olddoc,
		    size_t oldlen, const char *newdoc, size_t newlen);
/* Defines an index and backfills it from the collection's documents. */
int nedb__index_create(struct view *v, MDB_txn *txn, const char *coll,
		       const char *field, const char *kind);
int nedb__index_drop(struct view *v, MDB_txn *txn, const char *coll,
		     const char *field, const char *kind);
/* The kinds of index on coll.field: a mask of NEDB__IX_BIT(kind). */
#define NEDB__IX_BIT(k) (1u << ((k) == 'e' ? 0 : (k) == 'o' ? 1 : 2))
unsigned nedb__index_kinds(struct view *v, MDB_txn *txn, const char *coll,
			   const char *field);
int nedb__index_kind(const char *name);		/* 0 if not a kind */
int nedb__check_field(const char *field);
struct nql_path;
int nedb__path_parse(struct nql_path *p, const char *dotted);

/* view/timeidx.c: the index of op times (AS OF TIMESTAMP) */
/* Indexes op o's time (apply's part: nedb__apply calls it). */
int nedb__time_apply(struct view *v, MDB_txn *txn, const struct op *o);
/* Raises *ts to the latest op's indexed time: what a writer stamps a new
 * op with at least, so that times never go back. */
int nedb__time_floor(struct view *v, MDB_txn *txn, int64_t *ts);
/* The last op at or before ms (ms since the epoch) in txn: NEDB_EUSAGE
 * with a message when ms is before the first op. */
int nedb__seq_at(nedb *db, MDB_txn *txn, int64_t ms, uint64_t *seq);
/* core/time.c: ms as RFC 3339 UTC with ms ("2026-12-06T16:28:40.123Z"). */
char *nedb__time_format(char out[48], int64_t ms);

/* Compares two views table by table; describes the first difference. */
int nedb__view_compare(struct view *a, MDB_txn *ta, struct view *b,
		       MDB_txn *tb, char *why, size_t whylen);

/* log/replay.c: reading the log into a view */
/*
 * Applies the complete, chained lines of the log from position a->end to
 * position `to` to v inside txn, starting after applied state a
 * (updated).  Torn tail: the position of an incomplete last line is put
 * in *torn (else to).  With check_ckpt, checkpoint digests are
 * recomputed and compared.
 */
enum { CKPT_NONE, CKPT_FAIL, CKPT_WARN };	/* check_ckpt */
int nedb__replay(struct nedb *db, struct view *v, MDB_txn *txn, uint64_t to,
		 struct applied *a, uint64_t *torn, int check_ckpt);
/* The digests (nedb__view_digest's) of the log's state at `to` plus the
 * lines in extra. */
int nedb__replay_digest(struct nedb *db, uint64_t to, const char *extra,
			size_t elen, unsigned char out[HASH_LEN],
			unsigned char texts[HASH_LEN]);

/* log/archive.c */
struct block {
	uint64_t first;			/* seq of its first line */
	uint32_t lines, raw, zlen;
	uint64_t off;			/* of its compressed bytes */
};

struct segment {
	uint64_t first, last;		/* seqs it holds */
	uint64_t raw;			/* uncompressed bytes */
	char *path;
	struct block *blocks;
	size_t nblocks;
};

struct nedb;
int nedb__archive_load(struct nedb *db);
void nedb__archive_free(struct nedb *db);
int nedb__archive_line(struct nedb *db, uint64_t seq, nedb_buf *out);
int nedb__archive_scan(struct nedb *db, uint64_t from,
		       int (*fn)(const char *line, size_t len, uint64_t off,
				 void *payload), void *payload);
int nedb__archive_size(struct nedb *db, uint64_t upto, uint64_t *out);
int nedb__archive_write(struct nedb *db, const char *text, size_t len,
			uint64_t first, uint64_t last);
int nedb__archive_drop_from(struct nedb *db, uint64_t from);

struct nedb {
	char *dir;
	struct nedb_log log;		/* the log's backend and its state */
	bool writable;
	int durability;
	struct view view;
	MDB_txn *rtxn;			/* read snapshot */
	int rtxn_refs;			/* rtxn is a call's own: its users */
	MDB_txn *wtxn;			/* write transaction */
	struct applied wa;		/* applied state inside wtxn */
	uint64_t wbase_end;		/* log position the batch begins at */
	nedb_buf wlog;			/* staged lines */
	size_t wcount;
	uint64_t wbase_seq;		/* seq of the first staged op */
	size_t *wat, wcap;		/* where each staged line starts */
	bool wfailed;			/* the write transaction is unusable */
	bool wtouched;			/* wtxn changed more than staged ops */
	bool size_checked;
	bool readers_checked;		/* log length checked against view */
	nedb_buf scratch;		/* borrowed read results */
	uint64_t last_ts;
	/* view.sync (db.c): when this boot last synced the view */
	int64_t vsync_ms;		/* 0: not in this boot */
	int vlockfd;			/* view.mdb-lock, for nedb_compact */
	int wlockfd;			/* "lock": the writer lock (flock) */
	bool wlocked;			/* this handle holds it */
	bool broken;			/* sticky: a failed undo; no writes */
	bool read_verify;		/* nedb_set_read_verify */
	/* nedb_interrupt: set from a signal handler or another thread,
	 * read by a running query at each candidate */
	volatile sig_atomic_t interrupt;
	int64_t created;		/* meta.json, read at open */
	int log_format;			/* meta.json's "format" (1, 2) */
	uint64_t auto_index;		/* meta.json's options.auto_index */
	/* meta.json's options.file_chunk (min, avg, max; 0: defaults) and
	 * file_tier (0: default, 1 warm, 2 cold): nedb-file config */
	uint32_t fchunk[3];
	int ftier;
	/* lib/file/store.c: the file store index's LMDB environment, one
	 * per handle, shared by the stores open on it */
	struct nedb_fenv *fenv;
	bool sql_txn;			/* nedb_sql: BEGIN holds wtxn open */
	/* encryption at rest: the data key's sub-keys (crypt.h); all NULL
	 * for a plaintext database (nedb__encrypted) */
	struct nedb_crypt crypt;
	/* the log on an engine (engine.h; NULL: the directory's own) */
	struct nedb_engine *eng;
};

static inline bool
nedb__encrypted(const nedb *db)
{
	return db->crypt.log != NULL;
}

/* engine/db.c */
int nedb__dir_lock(nedb *db, int how);	/* flock of the directory: fd */
int nedb__wlock(nedb *db, bool wait);	/* the writer lock */
void nedb__wunlock(nedb *db);
/* Whether no other process has the view open (compaction's test, kept
 * while the environment stays open): 0, or NEDB_EBUSY saying what. */
int nedb__view_exclusive(nedb *db, const char *what);
/* engine/redact.c: a redaction a crash interrupted, at open */
int nedb__redact_recover(nedb *db);
/* engine/db.c: stages a redact op of coll/id (the versions to erase
 * chosen by seq, 0 for all) and hands back its line; redact.c's */
int nedb__stage_redact(nedb *db, const char *coll, const char *id,
		       uint64_t seq, const char *reason, const nedb_wopts *w,
		       nedb_receipt *receipt, nedb_buf *line,
		       nedb_buf *seqs);
/* engine/db.c: stages a file op o (name and the version's members
 * filled; lib/file/file.c's): its version number is the name's last + 1.
 * 1 when w's idempotency key was seen (the receipt is the first op's). */
int nedb__stage_file(nedb *db, struct op *o, const nedb_wopts *w,
		     nedb_receipt *receipt);
/* engine/db.c: sets the file store's options in meta.json (chunk NULL
 * or tier < 0: unchanged), under the writer lock */
int nedb__set_file_config(nedb *db, const uint32_t chunk[3], int tier);
/* engine/staged.c: a database rebuilt whole beside itself in a stage
 * directory, then swapped in (encryption in place, redaction). */
struct staged_kind {
	const char *stage;		/* its directory's name: ".encrypt" */
	const char *what;		/* its NEDB_TEST_PAUSE points' prefix */
	const char *noun;		/* for messages: "a redaction" */
	const char *const *copied;	/* live files copied into the stage */
	const char *const *files;	/* moved over the live ones after the
					 * segments, in order; the last is
					 * the switch */
};
struct staged {
	const struct staged_kind *k;
	nedb *db;
	char *dir;			/* the stage */
	nedb *sdb;			/* the stage's, for archive.c */
	const struct nedb_crypt *seal;	/* lines sealed with it, or NULL */
	int fd;				/* the stage's log.aof */
	size_t seg;			/* the archive segment being filled */
	uint64_t seq;			/* the next line's */
	nedb_buf out, tmp, list;	/* list: COMMIT's segment names */
};
char *nedb__staged_path(const struct staged_kind *k, const char *dir,
			const char *name);
/* Step 1: a fresh stage (a leftover one removed) with an empty log. */
int nedb__staged_begin(struct staged *s, const struct staged_kind *k,
		       nedb *db, const struct nedb_crypt *seal);
/* The next line of the log (no "\n"), in seq order from seq 0. */
int nedb__staged_line(struct staged *s, const char *line, size_t len);
/* The log synced, the copied files, the view, then COMMIT (step 2). */
int nedb__staged_commit(struct staged *s, const char *tmk_file);
/* Frees s; an uncommitted stage is removed. */
void nedb__staged_end(struct staged *s, bool committed);
int nedb__staged_roll(const struct staged_kind *k, const char *dir);
/* At open: a stage a crash left, finished (committed) or removed. */
int nedb__staged_recover(nedb *db, const struct staged_kind *k);
/* engine/convert.c: encrypting a plaintext database (at open) */
int nedb__encrypt(nedb *db, const char *tmk_file);
int nedb__encrypt_recover(nedb *db);
int nedb__txn(nedb *db, MDB_txn **txn);	/* the current snapshot */
void nedb__txn_done(nedb *db, MDB_txn *txn);
/* The line of op seq (no "\n"), found by the view's record of it (in
 * *se) and checked against it: from the log, or from the open write's
 * staged lines. */
int nedb__op_line(nedb *db, uint64_t seq, nedb_buf *out, struct seqent *se);
/* The hash of op seq as the view records it (NEDB_ENOTFOUND: none). */
int nedb__seq_hash(nedb *db, uint64_t seq, unsigned char hash[HASH_LEN]);
/* Follows the log's rotation by a prune (after taking a snapshot). */
int nedb__follow_rotation(nedb *db);
/* The version of coll/id that op seq wrote, checked against its line. */
int nedb__read_version(nedb *db, uint64_t seq, int kind, const char *coll,
		       const char *id, size_t idlen, nedb_buf *out,
		       struct seqent *se, const char **doc, size_t *doclen);
/* The text of a version of either kind (OP_PUT, OP_PATCH: its put and
 * the patches after it applied), else as nedb__read_version. */
int nedb__version_text(nedb *db, uint64_t seq, int kind, const char *coll,
		       const char *id, size_t idlen, nedb_buf *out,
		       struct seqent *se, const char **doc, size_t *doclen);
/* query/update.c: a patch's update (not NUL-ended)
 * applied to doc, as the writer made the version (compact) */
int nedb__patch_doc(nedb_buf *out, const char *doc, size_t len,
		    const char *upd, size_t updlen);
/* proto/redis.c: the Redis operators of a patch's update ($sadd $srem
 * $lpush $rpush $lpop $rpop $hset $hdel $zadd $zrem, doc/ochange.md
 * §7.1).  nedb__redis_patch_is: whether upd's first member names one.
 * nedb__redis_patch: one applied to doc, a document exactly as
 * nedb-redis prints one in the "value" shape, and the result appended
 * to out as nedb-redis prints it; 0, NEDB_EINPUT when it does not apply
 * (another type or shape, a malformed argument, a count out of range,
 * a string not UTF-8), NEDB_EIO.  nedb__redis_patches: n of them in
 * order, doc parsed and printed once (a past version's run of them). */
bool nedb__redis_patch_is(const char *upd, size_t updlen);
int nedb__redis_patch(nedb_buf *out, const char *doc, size_t len,
		      const char *upd, size_t updlen);
int nedb__redis_patches(nedb_buf *out, const char *doc, size_t len,
			const char *const *upds, const size_t *lens,
			size_t n);
/* engine/db.c: an update's change of p->id, whose new text p->doc
 * (prepared) upd makes from its latest version: a patch op when that is
 * the smaller and AS OF stays bounded, else a put (nedb_write_put) */
int nedb__write_change(nedb *db, const nedb_put *p, const char *upd,
		       size_t updlen, nedb_receipt *receipt);
/* The latest version of coll/id at or before upto (NEDB_HEAD: any);
 * MDB_NOTFOUND if none. */
int nedb__version_at(nedb *db, MDB_txn *txn, const char *coll,
		     const char *id, size_t idlen, uint64_t upto,
		     uint64_t *seq, struct verent *ve);
/* A verified read's check of one HEAD row (nedb_set_read_verify). */
int nedb__verify_row(nedb *db, MDB_txn *txn, const char *coll,
		     const char *id, size_t idlen, uint64_t seq,
		     const char *doc, size_t len);

/* value.c: the JSON text of a computed double; -1 (nothing appended)
 * for an infinity or NaN, which JSON cannot write */
int nedb__buf_double(nedb_buf *b, double d);

#endif
