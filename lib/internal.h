/*
 * internal.h - declarations shared by the files of libnedb.  Not
 * installed.
 */
#ifndef NEDB_INTERNAL_H
#define NEDB_INTERNAL_H

#include <lmdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include "nedb.h"

#define HASH_LEN 32
#define MAX_DOC (16u << 20)		/* largest document, bytes */
#define MAX_ID 400
#define MAX_COLL 64
#define VIEW_FORMAT 5			/* bump to force a rebuild */
#define MAX_REL 64
#define LOG_FORMAT 1

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
void nedb__warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void nedb__put_be64(unsigned char *p, uint64_t v);
uint64_t nedb__get_be64(const unsigned char *p);

/* core/doc.c: compact, validated JSON text */
/*
 * Validates text as one JSON object (strict: RFC 8259 numbers, valid
 * UTF-8, nothing after it) and appends its compact form to out.  On
 * NEDB_EINPUT the message says what and where (line, column).
 */
int nedb__doc_normalize(nedb_buf *out, const char *text, size_t len);
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
	OP_INDEX, OP_UNINDEX, OP_DROP, OP_EXPIRE, OP__N
};

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
	int64_t exp;			/* put: expiry (ms), 0 none */
	const char *doc;		/* put: compact document text */
	size_t doclen;
	uint32_t docoff;		/* offset of doc within the line */
	unsigned char hash[HASH_LEN];
	unsigned char prev[HASH_LEN];
	uint64_t off;			/* of the line in log.aof */
	uint32_t len;			/* of the line, without "\n" */
	unsigned char state[HASH_LEN];	/* checkpoint: digest of the state */
	void *jv_owner;			/* parsed line that owns the strings */
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
	M_FORMAT	/* the constant LOG_FORMAT (genesis) */
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
/* Formats op as a line ("\n"-terminated) onto out; fills hash, docoff. */
int nedb__log_format(nedb_buf *out, struct op *o);
/*
 * Checks one line (without "\n"): its shape and its hash.  Fills seq,
 * prev and hash.  Returns 0 or NEDB_ECORRUPT with a message.
 */
int nedb__log_check(const char *line, size_t len, uint64_t *seq,
		    unsigned char prev[HASH_LEN], unsigned char hash[HASH_LEN]);
/* Parses a checked line into o (loads libjq).  nedb__op_free after. */
int nedb__log_parse(const char *line, size_t len, struct op *o);
void nedb__op_free(struct op *o);

/* view/view.c: the LMDB schema and apply() */
enum {
	DBI_META, DBI_DOCS, DBI_VERS, DBI_SEQS, DBI_NONCES, DBI_IDEM,
	DBI_TTL, DBI_COLLS, DBI_NODES, DBI_NODEIDS, DBI_EDGES, DBI_REDGES,
	DBI_EDGEHIST, DBI_REDGEHIST, DBI_IDXDEF, DBI_IDX,
	DBI_USAGE,	/* query statistics for auto-indexing: not state */
	DBI__N
};

struct view {
	MDB_env *env;
	MDB_dbi dbi[DBI__N];
};

/* Per-document header stored before its text in DBI_DOCS. */
struct dochdr {
	uint64_t seq;
	int64_t ts;
	int64_t exp;
	unsigned char hash[HASH_LEN];
};

/*
 * The header is stored as DOCHDR_LEN bytes, integers little-endian, so
 * that the state digest (which covers it) is the same on every host.
 */
#define DOCHDR_LEN 56
void nedb__dochdr_get(struct dochdr *h, const void *p);
void nedb__dochdr_put(void *p, const struct dochdr *h);

/* Per-op entry in DBI_SEQS (key: be64 seq). */
struct seqent {
	uint64_t off;
	uint32_t len;
	unsigned char hash[HASH_LEN];
} __attribute__((packed));

/* Per-version entry in DBI_VERS (key: coll \0 id \0 be64 seq). */
struct verent {
	uint8_t kind;
	uint32_t docoff;
} __attribute__((packed));

/* What the view has applied, stored under "applied" in DBI_META. */
struct applied {
	uint64_t seq;
	uint64_t off;			/* log offset after the last applied op */
	unsigned char head[HASH_LEN];
	uint32_t format;
	uint64_t ckpt;			/* seq of the last checkpoint op */
} __attribute__((packed));

int nedb__view_open(struct view *v, const char *path, unsigned envflags);
void nedb__view_close(struct view *v);
int nedb__view_dbis(struct view *v, MDB_txn *txn, bool create);
int nedb__view_applied(struct view *v, MDB_txn *txn, struct applied *a);
int nedb__view_set_applied(struct view *v, MDB_txn *txn,
			   const struct applied *a);
/* Empties every table (for a rebuild). */
int nedb__view_clear(struct view *v, MDB_txn *txn);
/* The one apply(): folds op o into the view inside txn. */
int nedb__apply(struct view *v, MDB_txn *txn, const struct op *o);
/* Its hook per kind: what the op does beyond its seqs entry and its
 * client's nonce and idempotency key, which nedb__apply records. */
typedef int (*nedb__apply_fn)(struct view *v, MDB_txn *txn,
			      const struct op *o);
extern const nedb__apply_fn nedb__apply_kind[OP__N];
/* BLAKE2b digest of the logical state (everything but positions). */
int nedb__view_digest(struct view *v, MDB_txn *txn,
		      unsigned char out[HASH_LEN]);
/* Node numbers for edge keys; NEDB_ENOTFOUND if absent and !create. */
int nedb__node_number(struct view *v, MDB_txn *txn, const char *node,
		      bool create, uint64_t *out);
size_t nedb__edgekey(unsigned char *out, uint64_t a, const char *rel,
		     uint64_t b);

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
/* The key prefix of an index's entries: coll \0 field \0 K \0. */
size_t nedb__ix_prefix(unsigned char *out, const char *coll,
		       const char *field, int kind);
int nedb__check_field(const char *field);
struct nql_path;
int nedb__path_parse(struct nql_path *p, const char *dotted);

/* Compares two views table by table; describes the first difference. */
int nedb__view_compare(struct view *a, MDB_txn *ta, struct view *b,
		       MDB_txn *tb, char *why, size_t whylen);
/* Key of a document: coll \0 id; returns its length. */
size_t nedb__dockey(unsigned char *out, const char *coll, const char *id);

/* log/replay.c: reading the log into a view */
/*
 * Applies the complete, chained lines of the log (archives, then
 * log.aof) from a->off to virtual offset `to` to v inside txn, starting
 * after applied state a (updated).  Torn tail: the virtual offset of an
 * incomplete last line is put in *torn (else to).  With check_ckpt,
 * checkpoint digests are recomputed and compared.
 */
enum { CKPT_NONE, CKPT_FAIL, CKPT_WARN };	/* check_ckpt */
int nedb__replay(struct nedb *db, struct view *v, MDB_txn *txn, uint64_t to,
		 struct applied *a, uint64_t *torn, int check_ckpt);
/* The digest of the log's state at `to` plus the lines in extra. */
int nedb__replay_digest(struct nedb *db, uint64_t to, const char *extra,
			size_t elen, unsigned char out[HASH_LEN]);

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
/* Archived ops from..to in order, each checked against the view's
 * record of it before fn sees it; each block inflated once. */
int nedb__archive_range(struct nedb *db, uint64_t from, uint64_t to,
			nedb_line_fn fn, void *payload);

struct nedb {
	char *dir;
	/* log.aof holds ops from first_seq on; its byte 0 is virtual offset
	 * shift (the bytes archived before it): archive.c */
	uint64_t first_seq, shift;
	uint64_t log_ino;
	struct segment *segs;
	size_t nsegs;
	bool segs_loaded;
	int logfd;			/* O_RDWR|O_APPEND, or O_RDONLY */
	bool writable;
	int durability;
	struct view view;
	MDB_txn *rtxn;			/* read snapshot */
	int rtxn_refs;			/* rtxn is a call's own: its users */
	MDB_txn *wtxn;			/* write transaction */
	struct applied wa;		/* applied state inside wtxn */
	uint64_t wbase_off;		/* where the staged batch begins */
	nedb_buf wlog;			/* staged lines */
	size_t wcount;
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
	struct arch_cache *arch_cache;	/* archive.c: blocks last inflated */
};

/* engine/db.c */
int nedb__txn(nedb *db, MDB_txn **txn);	/* the current snapshot */
void nedb__txn_done(nedb *db, MDB_txn *txn);
int nedb__pread_line(nedb *db, uint64_t seq, nedb_buf *out,
		     struct seqent *se);
/* Reopens log.aof if a prune replaced it (after taking a snapshot). */
int nedb__follow_rotation(nedb *db);
/* The version of coll/id that op seq wrote, checked against its line. */
int nedb__read_version(nedb *db, uint64_t seq, int kind, const char *coll,
		       const char *id, size_t idlen, nedb_buf *out,
		       struct seqent *se, const char **doc, size_t *doclen);
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
