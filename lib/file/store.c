/*
 * store.c - the content-addressed chunk store of a database (filestore.h,
 * nedb-format(5) "File store"): records in pack files, an index from
 * address to record, a lock that keeps gc away from its users.
 *
 *   DIR/files/lock             flock: shared by every user, exclusive
 *                              by gc
 *   DIR/files/index.mdb(-lock) LMDB: chunks (address -> where), packs
 *                              (be32 id -> committed length), marks
 *                              (gc's scratch)
 *   DIR/files/packs/ID.pack    16-byte header, then records
 *
 * A record is a 48-byte header (magic "NREC", type, encoding, stored and
 * raw lengths, address) and its stored bytes: the chunk or manifest
 * page as it is, or deflated (zlib) when that pays, and for an encrypted
 * database sealed with AES-256-GCM over the header as associated data.
 * The address is BLAKE2b-256 of the plain bytes (keyed with a sub-key of
 * the data key when encrypted), so a record read back is checked end to
 * end: header against the index, seal, inflate, hash.
 *
 * Packs, not a file per chunk: a million chunks make a few hundred packs,
 * never a directory of a million entries, and a put writes sequentially.
 * A pack is appended to by one writer at a time (flock on the pack);
 * writers of other packs run at once.
 *
 * Invariants:
 *  1. The index names only bytes that are on disk: a batch of records is
 *     written and (durable) synced before the index transaction that
 *     names them commits, together with the pack's committed length.
 *  2. Bytes of a pack beyond its committed length are garbage (a writer
 *     killed mid-batch): the next writer of the pack cuts them off under
 *     the pack's flock before appending, and gc does the same.
 *  3. A record never moves or goes while anyone holds the store's lock
 *     shared: only gc (exclusive) drops or rewrites records.  So a
 *     version that references a chunk the index has (a put deduplicating
 *     against a record of an interrupted put) keeps it: gc runs after.
 *  4. Nothing is handed out as a record's bytes before they hashed back
 *     to the address asked for.
 *  5. Every record compressed on the way in was inflated again and
 *     compared with the bytes it stands for before it was written
 *     (nedb__fcodec_deflate, on whichever thread deflated it).
 */
#include "b2.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "filestore.h"

#define REC_HDR 48
#define PACK_HDR 16
#define PACK_MAGIC "NEDBPACK"
#define REC_MAGIC "NREC"
#define PACK_MAX_DEF ((uint64_t)1 << 30)	/* a pack's size, about */
#define BATCH_BYTES ((uint64_t)64 << 20)	/* committed at least this often */
#define BATCH_RECS 16384u
#define FD_CACHE 8
#define MARK_BATCH 65536u
#define FENT_LEN 24
#define PROBE 8192			/* bytes tried before deflating all */
#define KICK_BYTES ((uint64_t)8 << 20)	/* writeback started this often */

struct fstore {
	nedb *db;
	char *dir, *packdir;
	int lockfd;
	MDB_env *env;
	MDB_dbi chunks, packs, marks;
	bool durable;
	bool sealed;
	unsigned char akey[NEDB_KEY_LEN];	/* address key (sealed) */
	nedb_aead *aead;
	uint64_t pack_max;
	MDB_txn *rtxn;			/* reads: begun on first use */
	bool rtxn_reset;
	struct {
		uint32_t pack;
		int fd;
		uint64_t used;
	} fd[FD_CACHE];
	uint64_t tick;
	struct fcodec *inf;		/* reads: inflating only */
	nedb_buf rec, plain;		/* a record read, its unsealed bytes */
	MDB_txn *mtxn;			/* gc's marks, batched */
	uint32_t nmarks;
};

/* --- encoding ------------------------------------------------------ */

static void
fent_put(unsigned char out[FENT_LEN], const struct fent *e)
{
	nedb__put_le32(out, e->pack);
	nedb__put_le64(out + 4, e->off);
	nedb__put_le32(out + 12, e->stored);
	nedb__put_le32(out + 16, e->raw);
	out[20] = e->type;
	out[21] = e->enc;
	out[22] = out[23] = 0;
}

static int
fent_get(const MDB_val *d, struct fent *e)
{
	const unsigned char *p = d->mv_data;

	if (d->mv_size != FENT_LEN)
		return nedb__err(NEDB_ECORRUPT, "corrupt file store index: an "
				 "entry of %zu bytes", d->mv_size);
	e->pack = nedb__get_le32(p);
	e->off = nedb__get_le64(p + 4);
	e->stored = nedb__get_le32(p + 12);
	e->raw = nedb__get_le32(p + 16);
	e->type = p[20];
	e->enc = p[21];
	return 0;
}

static void
hdr_put(unsigned char h[REC_HDR], int type, int enc, uint32_t stored,
	uint32_t raw, const unsigned char addr[FADDR_LEN])
{
	memcpy(h, REC_MAGIC, 4);
	h[4] = (unsigned char)type;
	h[5] = (unsigned char)enc;
	h[6] = h[7] = 0;
	nedb__put_le32(h + 8, stored);
	nedb__put_le32(h + 12, raw);
	memcpy(h + 16, addr, FADDR_LEN);
}

static void
short_hex(char out[17], const unsigned char addr[FADDR_LEN])
{
	nedb__hex(out, addr, 8);
	out[16] = 0;
}

/* --- opening ------------------------------------------------------- */

static int
mapsize(size_t *out)
{
	const char *e = getenv("NEDB_MAPSIZE");

	*out = (size_t)1 << 36;
	if (e && *e) {
		unsigned long long n = strtoull(e, NULL, 10);

		if (n >= (1u << 24))
			*out = (size_t)n;
	}
	return 0;
}

static uint64_t
pack_max(void)
{
	const char *e = getenv("NEDB_FILE_PACK_BYTES");
	unsigned long long n;

	if (!e || !*e)
		return PACK_MAX_DEF;
	n = strtoull(e, NULL, 10);
	return n >= 4096 ? n : PACK_MAX_DEF;
}

/*
 * The index's environment is the handle's, shared by every store it has
 * open (a put's, a read's, nedbd's many at once): LMDB must not have one
 * file open twice in a process, whose locks (fcntl) are the process's,
 * so that a second environment would take itself for the only user and
 * reset the first one's reader table.  Opened by the first store, closed
 * with the last; LMDB's environment itself is safe to share between the
 * threads of a put (MDB_NOTLS).
 */
struct nedb_fenv {
	MDB_env *env;
	MDB_dbi chunks, packs, marks;
	unsigned refs;
};

static int
fenv_get(nedb *db, const char *dir, bool durable)
{
	struct nedb_fenv *fe = db->fenv;
	char *index;
	MDB_txn *txn = NULL;
	size_t msize;
	int rc;

	if (fe) {
		fe->refs++;
		return 0;
	}
	fe = nedb__calloc(1, sizeof *fe);
	index = nedb__path_in(dir, "index.mdb");
	mapsize(&msize);
	if ((rc = mdb_env_create(&fe->env))) {
		fe->env = NULL;
		goto fail;
	}
	mdb_env_set_maxdbs(fe->env, 4);
	mdb_env_set_mapsize(fe->env, msize);
	if ((rc = mdb_env_open(fe->env, index, MDB_NOSUBDIR | MDB_NOTLS |
			       (durable ? 0 : MDB_NOSYNC), 0600)) ||
	    (rc = mdb_txn_begin(fe->env, NULL, 0, &txn)))
		goto fail;
	if ((rc = mdb_dbi_open(txn, "chunks", MDB_CREATE, &fe->chunks)) ||
	    (rc = mdb_dbi_open(txn, "packs", MDB_CREATE, &fe->packs)) ||
	    (rc = mdb_dbi_open(txn, "marks", MDB_CREATE, &fe->marks))) {
		mdb_txn_abort(txn);
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)))
		goto fail;
	free(index);
	fe->refs = 1;
	db->fenv = fe;
	return 0;
fail:
	free(index);
	if (fe->env)
		mdb_env_close(fe->env);
	free(fe);
	return nedb__mdb(rc, "cannot open the file store index");
}

static void
fenv_put(nedb *db)
{
	struct nedb_fenv *fe = db->fenv;

	if (!fe || --fe->refs)
		return;
	mdb_env_close(fe->env);
	free(fe);
	db->fenv = NULL;
}

static int
store_open(nedb *db, bool create, bool excl, struct fstore **out)
{
	struct fstore *s = nedb__calloc(1, sizeof *s);
	char *lock = NULL;
	int rc;

	*out = NULL;
	s->db = db;
	s->lockfd = -1;
	for (int i = 0; i < FD_CACHE; i++)
		s->fd[i].fd = -1;
	s->dir = nedb__path_in(db->dir, "files");
	s->packdir = nedb__path_in(s->dir, "packs");
	s->durable = db->durability == NEDB_DURABLE;
	s->pack_max = pack_max();
	if (create) {
		/* made once: then its entry in the database's directory, and
		 * packs/ in it, are synced (the index and packs sync their
		 * own entries as they are made) */
		bool made = !mkdir(s->dir, 0700);

		if ((!made && errno != EEXIST) ||
		    (mkdir(s->packdir, 0700) && errno != EEXIST)) {
			rc = nedb__err(NEDB_EIO, "cannot make the file store "
				       "'%s': %s", s->dir, strerror(errno));
			goto fail;
		}
		if (made && ((rc = nedb__fsync_dir(s->dir)) ||
			     (rc = nedb__fsync_dir(db->dir))))
			goto fail;
	}
	lock = nedb__path_in(s->dir, "lock");
	s->lockfd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW |
			 (create ? O_CREAT : 0), 0600);
	if (s->lockfd < 0) {
		if (errno == ENOENT && !create) {
			rc = NEDB_ENOTFOUND;
			goto fail;
		}
		rc = nedb__err(NEDB_EIO, "cannot open the file store '%s': %s",
			       s->dir, strerror(errno));
		goto fail;
	}
	if (flock(s->lockfd, excl ? LOCK_EX : LOCK_SH)) {
		rc = nedb__errno(NEDB_EIO, "cannot lock the file store");
		goto fail;
	}
	if ((rc = fenv_get(db, s->dir, s->durable)))
		goto fail;
	s->env = db->fenv->env;
	s->chunks = db->fenv->chunks;
	s->packs = db->fenv->packs;
	s->marks = db->fenv->marks;
	if (nedb__encrypted(db)) {
		s->sealed = true;
		memcpy(s->akey, db->crypt.file_addr, NEDB_KEY_LEN);
		if ((rc = nedb__aead_new(&s->aead, db->crypt.file_seal)))
			goto fail;
	}
	free(lock);
	*out = s;
	return 0;
fail:
	free(lock);
	nedb__fstore_close(s);
	return rc;
}

int
nedb__fstore_open(nedb *db, bool create, struct fstore **out)
{
	return store_open(db, create, false, out);
}

int
nedb__fstore_open_excl(nedb *db, struct fstore **out)
{
	return store_open(db, false, true, out);
}

void
nedb__fstore_close(struct fstore *s)
{
	if (!s)
		return;
	if (s->mtxn)
		mdb_txn_abort(s->mtxn);
	if (s->rtxn)
		mdb_txn_abort(s->rtxn);
	for (int i = 0; i < FD_CACHE; i++)
		if (s->fd[i].fd >= 0)
			close(s->fd[i].fd);
	if (s->env)
		fenv_put(s->db);
	nedb__fcodec_free(s->inf);
	if (s->lockfd >= 0)
		close(s->lockfd);	/* the flock goes with it */
	nedb__aead_free(s->aead);
	nedb__wipe(s->akey, sizeof s->akey);
	nedb_buf_free(&s->rec);
	nedb_buf_free(&s->plain);
	free(s->dir);
	free(s->packdir);
	free(s);
}

void
nedb__fstore_destroy(const char *dir)
{
	static const char *const names[] = {
		"index.mdb", "index.mdb-lock", "lock", NULL
	};
	char *fs = nedb__path_in(dir, "files"), *pd = nedb__path_in(fs, "packs");
	struct dirent *de;
	DIR *d;

	if ((d = opendir(pd))) {
		while ((de = readdir(d))) {
			unsigned id;
			char tail[8];

			if (sscanf(de->d_name, "%8u.pac%1s", &id, tail) == 2) {
				char *p = nedb__path_in(pd, de->d_name);

				unlink(p);
				free(p);
			}
		}
		closedir(d);
	}
	rmdir(pd);
	for (int i = 0; names[i]; i++) {
		char *p = nedb__path_in(fs, names[i]);

		unlink(p);
		free(p);
	}
	rmdir(fs);
	free(pd);
	free(fs);
}

bool
nedb__fstore_sealed(const struct fstore *s)
{
	return s->sealed;
}

void
nedb__fstore_addr(const struct fstore *s, unsigned char out[FADDR_LEN],
		  const void *p, size_t n)
{
	blake2b(out, p, s->sealed ? s->akey : NULL, FADDR_LEN, n,
		s->sealed ? NEDB_KEY_LEN : 0);
}

static char *
pack_path(const struct fstore *s, uint32_t id)
{
	size_t n = strlen(s->packdir) + 24;
	char *p = nedb__malloc(n);

	snprintf(p, n, "%s/%08u.pack", s->packdir, id);
	return p;
}

/* --- reading ------------------------------------------------------- */

static int
read_txn(struct fstore *s)
{
	int rc;

	if (s->rtxn && !s->rtxn_reset)
		return 0;
	rc = s->rtxn ? mdb_txn_renew(s->rtxn) :
	     mdb_txn_begin(s->env, NULL, MDB_RDONLY, &s->rtxn);
	if (rc)
		return nedb__mdb(rc, "cannot read the file store index");
	s->rtxn_reset = false;
	return 0;
}

/* Ends the read snapshot (so that the next read sees later commits). */
static void
read_done(struct fstore *s)
{
	if (s->rtxn && !s->rtxn_reset) {
		mdb_txn_reset(s->rtxn);
		s->rtxn_reset = true;
	}
}

int
nedb__fstore_has_in(struct fstore *s, struct flook *l,
		    const unsigned char addr[FADDR_LEN])
{
	MDB_val k = {FADDR_LEN, (void *)addr}, d;
	int rc;

	if (!l->txn)
		rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &l->txn);
	else if (l->reset)
		rc = mdb_txn_renew(l->txn);
	else
		rc = 0;
	if (rc) {
		if (!l->reset)
			l->txn = NULL;
		return nedb__mdb(rc, "cannot read the file store index");
	}
	l->reset = false;
	rc = mdb_get(l->txn, s->chunks, &k, &d);
	/* a new snapshot now and then: it sees the puts' commits, and an
	 * old one would keep the index from reusing its pages */
	if (++l->n >= 256) {
		l->n = 0;
		mdb_txn_reset(l->txn);
		l->reset = true;
	}
	if (rc == MDB_NOTFOUND)
		return 0;
	return rc ? nedb__mdb(rc, "cannot read the file store index") : 1;
}

void
nedb__flook_end(struct flook *l)
{
	if (l->txn)
		mdb_txn_abort(l->txn);
	memset(l, 0, sizeof *l);
}

/* A descriptor of pack id for reading, from a few kept open. */
static int
pack_fd(struct fstore *s, uint32_t id, int *out)
{
	int lru = 0;
	char *p;

	for (int i = 0; i < FD_CACHE; i++) {
		if (s->fd[i].fd >= 0 && s->fd[i].pack == id) {
			s->fd[i].used = ++s->tick;
			*out = s->fd[i].fd;
			return 0;
		}
		if (s->fd[i].used < s->fd[lru].used)
			lru = i;
	}
	p = pack_path(s, id);
	if (s->fd[lru].fd >= 0)
		close(s->fd[lru].fd);
	s->fd[lru].fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (s->fd[lru].fd < 0) {
		int rc = nedb__err(errno == ENOENT ? NEDB_ECORRUPT : NEDB_EIO,
				   "%s file store pack '%s': %s",
				   errno == ENOENT ? "missing" : "cannot read",
				   p, strerror(errno));

		free(p);
		s->fd[lru].used = 0;
		return rc;
	}
	free(p);
	s->fd[lru].pack = id;
	s->fd[lru].used = ++s->tick;
	*out = s->fd[lru].fd;
	return 0;
}

static int
damaged(const unsigned char addr[FADDR_LEN], const struct fent *e,
	const char *why)
{
	char hx[17];

	short_hex(hx, addr);
	return nedb__err(NEDB_ECORRUPT, "damaged record %s in pack %u at "
			 "offset %llu: %s", hx, e->pack,
			 (unsigned long long)e->off, why);
}

/* --- compression ------------------------------------------------- */

/*
 * A codec is one thread's deflating and inflating.  The warm tier
 * deflates with ISA-L's igzip (level 1: SIMD hashing and Huffman coding,
 * several times zlib's level 1, and as small) when libisal2 is installed,
 * else with zlib's level 1; the cold tier with zlib's level 9; and every
 * record is inflated by igzip when it is there, else by zlib.  All of
 * them write and read the zlib format (RFC 1950), so a store written
 * with one reads back with the other.
 */
#if defined(__has_include)
#if __has_include(<isa-l/igzip_lib.h>)
#include <isa-l/igzip_lib.h>
#define HAVE_ISAL 1
#endif
#endif

struct fcodec {
	int tier;			/* FENC_WARM, FENC_COLD, or RAW: reads */
	bool isal;			/* igzip inflates */
	bool isal_def;			/* and deflates (warm) */
#ifdef HAVE_ISAL
	struct isal_zstream zs;
	struct inflate_state is;
	unsigned char *lvbuf;		/* level 1's hash tables */
#endif
	z_stream def, inf;
	bool def_ready, inf_ready;
	nedb_buf vbuf;			/* a deflated chunk inflated again */
};

int
nedb__fcodec_new(int tier, struct fcodec **out)
{
	struct fcodec *c = nedb__calloc(1, sizeof *c);
	int rc;

	*out = NULL;
	c->tier = tier;
#ifdef HAVE_ISAL
	if ((c->isal = nedb__isal_load()) && tier == FENC_WARM) {
		c->lvbuf = nedb__malloc(ISAL_DEF_LVL1_DEFAULT);
		c->isal_def = true;
	}
#endif
	/* zlib: cold's deflating, and all of it where igzip is not */
	if ((!c->isal || tier == FENC_COLD) && (rc = nedb__zlib_load())) {
		nedb__fcodec_free(c);
		return rc;
	}
	if (tier == FENC_COLD || (tier == FENC_WARM && !c->isal)) {
		if (nedb__z.deflateInit2_(&c->def, tier == FENC_COLD ? 9 : 1,
					  Z_DEFLATED, 15, 8,
					  Z_DEFAULT_STRATEGY,
					  nedb__z.version(),
					  (int)sizeof(z_stream)) != Z_OK) {
			nedb__fcodec_free(c);
			return nedb__err(NEDB_EIO, "cannot start zlib");
		}
		c->def_ready = true;
	}
	*out = c;
	return 0;
}

void
nedb__fcodec_free(struct fcodec *c)
{
	if (!c)
		return;
#ifdef HAVE_ISAL
	free(c->lvbuf);
#endif
	if (c->def_ready)
		nedb__z.deflateEnd(&c->def);
	if (c->inf_ready)
		nedb__z.inflateEnd(&c->inf);
	nedb_buf_free(&c->vbuf);
	free(c);
}

int
nedb__fcodec_inflate(struct fcodec *c, const void *in, size_t n, void *out,
		     size_t raw)
{
	int zr;

	if (n > UINT32_MAX || raw > UINT32_MAX)
		return 1;
#ifdef HAVE_ISAL
	if (c->isal) {
		struct inflate_state *st = &c->is;

		/* the zlib header parsed and the Adler-32 after the data
		 * checked (ISAL_ZLIB); exactly raw bytes out, and the
		 * input all used */
		nedb__isal.inflate_init(st);
		st->next_in = (uint8_t *)in;
		st->avail_in = (uint32_t)n;
		st->next_out = out;
		st->avail_out = (uint32_t)raw;
		st->crc_flag = ISAL_ZLIB;
		if (nedb__isal.inflate_stateless(st) != ISAL_DECOMP_OK ||
		    st->avail_out || st->avail_in)
			return 1;
		return 0;
	}
#endif
	if (!c->inf_ready) {
		memset(&c->inf, 0, sizeof c->inf);
		if (nedb__z.inflateInit_(&c->inf, nedb__z.version(),
					 (int)sizeof(z_stream)) != Z_OK)
			return nedb__err(NEDB_EIO, "cannot start zlib");
		c->inf_ready = true;
	} else
		nedb__z.inflateReset(&c->inf);
	c->inf.next_in = (Bytef *)in;
	c->inf.avail_in = (uInt)n;
	c->inf.next_out = out;
	c->inf.avail_out = (uInt)raw;
	zr = nedb__z.inflate(&c->inf, Z_FINISH);
	if (zr != Z_STREAM_END || c->inf.avail_out || c->inf.avail_in)
		return 1;
	return 0;
}

/* zlib: deflates p[0, n) into out; 1 when that pays, 0 when not.  The
 * probe is the stream's first PROBE bytes, flushed, and the stream goes
 * on from there when it pays (the probe is not deflated twice). */
static int
z_deflate(struct fcodec *c, const unsigned char *p, size_t n, nedb_buf *out)
{
	uLong bound = nedb__z.compressBound((uLong)n) + 64;
	size_t probe = n > 2 * PROBE ? PROBE : 0;
	int zr;

	nedb_buf_grow(out, bound);
	out->len = 0;
	nedb__z.deflateReset(&c->def);
	c->def.next_in = (Bytef *)p;
	c->def.next_out = (Bytef *)out->p;
	c->def.avail_out = (uInt)bound;
	if (probe) {
		/* a flush point costs 5 bytes */
		c->def.avail_in = (uInt)probe;
		if (nedb__z.deflate(&c->def, Z_SYNC_FLUSH) != Z_OK)
			return nedb__err(NEDB_EIO, "cannot compress a chunk");
		if (bound - c->def.avail_out > probe - probe / 32)
			return 0;
		c->def.avail_in = (uInt)(n - probe);
	} else
		c->def.avail_in = (uInt)n;
	zr = nedb__z.deflate(&c->def, Z_FINISH);
	if (zr != Z_STREAM_END) {
		if (zr == Z_OK || zr == Z_BUF_ERROR)
			return 0;	/* larger than the chunk: raw */
		return nedb__err(NEDB_EIO, "cannot compress a chunk");
	}
	out->len = bound - c->def.avail_out;
	return out->len <= n - n / 32;
}

#ifdef HAVE_ISAL
/* igzip, level 1, one shot into at most room bytes: the length, or 0
 * when it does not fit (or n is too large to try). */
static size_t
igzip_once(struct fcodec *c, const unsigned char *p, size_t n, void *out,
	  size_t room)
{
	struct isal_zstream *zs = &c->zs;

	if (n > UINT32_MAX || room > UINT32_MAX)
		return 0;
	nedb__isal.deflate_stateless_init(zs);
	zs->level = 1;
	zs->level_buf = c->lvbuf;
	zs->level_buf_size = ISAL_DEF_LVL1_DEFAULT;
	zs->gzip_flag = IGZIP_ZLIB;
	zs->end_of_stream = 1;
	zs->flush = NO_FLUSH;
	zs->next_in = (uint8_t *)p;
	zs->avail_in = (uint32_t)n;
	zs->next_out = out;
	zs->avail_out = (uint32_t)room;
	if (nedb__isal.deflate_stateless(zs) != COMP_OK)
		return 0;	/* STATELESS_OVERFLOW: it does not pay */
	return zs->total_out;
}

/* igzip: the same as z_deflate, the probe a stream of its own (then the
 * whole chunk is deflated when it pays: an eighth more for those). */
static int
igzip_deflate(struct fcodec *c, const unsigned char *p, size_t n,
	     nedb_buf *out)
{
	size_t room = n - n / 32;	/* what pays: at least 1/32 saved */

	nedb_buf_grow(out, room ? room : 1);
	out->len = 0;
	if (n > 2 * PROBE && !igzip_once(c, p, PROBE, out->p,
					PROBE - PROBE / 32))
		return 0;
	return room && (out->len = igzip_once(c, p, n, out->p, room)) ? 1 : 0;
}
#endif

int
nedb__fcodec_deflate(struct fcodec *c, const void *p, size_t n, nedb_buf *out)
{
	int rc;

#ifdef HAVE_ISAL
	if (c->isal_def)
		rc = igzip_deflate(c, p, n, out);
	else
#endif
		rc = z_deflate(c, p, n, out);
	if (rc <= 0)
		return rc;
	/* invariant 5: inflated again and compared before it is stored */
	nedb_buf_grow(&c->vbuf, n);
	if ((rc = nedb__fcodec_inflate(c, out->p, out->len, c->vbuf.p, n)) ||
	    memcmp(c->vbuf.p, p, n) || nedb__test_fail("file-deflate-check"))
		return rc < 0 ? rc : nedb__err(NEDB_EIO, "a compressed chunk "
					       "does not inflate to its bytes "
					       "again: %s is broken; nothing "
					       "stored", c->isal_def ? "igzip" :
					       "zlib");
	return 1;
}

int
nedb__fstore_get(struct fstore *s, int type,
		 const unsigned char addr[FADDR_LEN], nedb_buf *out,
		 struct fent *ep)
{
	unsigned char want[REC_HDR], got[FADDR_LEN];
	MDB_val k = {FADDR_LEN, (void *)addr}, d;
	const unsigned char *data;
	struct fent e;
	size_t n;
	ssize_t r;
	int fd = -1, rc;

	if ((rc = read_txn(s)))
		return rc;
	rc = mdb_get(s->rtxn, s->chunks, &k, &d);
	if (rc == MDB_NOTFOUND) {
		char hx[17];

		short_hex(hx, addr);
		return nedb__err(NEDB_ENOTFOUND, "the file store has no record "
				 "%s", hx);
	}
	if (rc)
		return nedb__mdb(rc, "cannot read the file store index");
	if ((rc = fent_get(&d, &e)))
		return rc;
	if (ep)
		*ep = e;
	if ((rc = pack_fd(s, e.pack, &fd)))
		return rc;
	n = REC_HDR + (size_t)e.stored;
	s->rec.len = 0;
	nedb_buf_grow(&s->rec, n);
	r = pread(fd, s->rec.p, n, (off_t)e.off);
	if (r < 0)
		return nedb__err(NEDB_EIO, "cannot read file store pack %u: %s",
				 e.pack, strerror(errno));
	if ((size_t)r != n)
		return damaged(addr, &e, "the pack ends before it");
	hdr_put(want, e.type, e.enc, e.stored, e.raw, addr);
	if (memcmp(s->rec.p, want, REC_HDR))
		return damaged(addr, &e, "its header is not the index's");
	/* a chunk whose bytes equal a page's is that page: the type
	 * says what it was stored as, not what it may be read as */
	(void)type;
	if (e.type != FREC_CHUNK && e.type != FREC_PAGE)
		return damaged(addr, &e, "unknown type");
	data = (unsigned char *)s->rec.p + REC_HDR;
	n = e.stored;
	if (e.enc & FENC_SEALED) {
		if (!s->sealed)
			return damaged(addr, &e, "sealed, and the database "
				       "is not encrypted");
		if (n < NEDB_AEAD_OVERHEAD)
			return damaged(addr, &e, "too short to be sealed");
		s->plain.len = 0;
		nedb_buf_grow(&s->plain, n);
		if (nedb__aead_open(s->aead, (unsigned char *)s->plain.p,
				    s->rec.p + 4, REC_HDR - 4, data, n))
			return damaged(addr, &e, "it does not authenticate");
		data = (unsigned char *)s->plain.p;
		n -= NEDB_AEAD_OVERHEAD;
	} else if (s->sealed) {
		return damaged(addr, &e, "not sealed in an encrypted database");
	}
	out->len = 0;
	nedb_buf_grow(out, e.raw ? e.raw : 1);
	switch (e.enc & ~FENC_SEALED) {
	case FENC_RAW:
		if (n != e.raw)
			return damaged(addr, &e, "its length is wrong");
		memcpy(out->p, data, n);
		break;
	case FENC_WARM:
	case FENC_COLD:
		if (!s->inf && (rc = nedb__fcodec_new(FENC_RAW, &s->inf)))
			return rc;
		if ((rc = nedb__fcodec_inflate(s->inf, data, n, out->p,
					       e.raw)))
			return rc < 0 ? rc : damaged(addr, &e, "it does not "
						     "inflate");
		break;
	default:
		return damaged(addr, &e, "unknown encoding");
	}
	out->len = e.raw;
	nedb__fstore_addr(s, got, out->p, out->len);
	if (memcmp(got, addr, FADDR_LEN)) {
		out->len = 0;
		return damaged(addr, &e, "its bytes do not hash to its "
			       "address");
	}
	return 0;
}

/* --- writing ------------------------------------------------------- */

struct pend {
	unsigned char addr[FADDR_LEN];
	struct fent e;
};

struct fwriter {
	struct fstore *s;
	int tier;
	int fd;				/* the pack held (flock), or -1 */
	uint32_t pack;
	uint64_t end;			/* its length with what was written */
	bool new_pack;			/* not in the packs table yet */
	uint64_t kicked;		/* written back from here on: asked */
	bool fresh;			/* gc's: only a pack of its own */
	MDB_txn *rtxn;			/* dedup lookups */
	bool rtxn_reset;
	struct pend *pend;
	uint32_t npend, cap;
	uint32_t *slot;			/* open addressing: index + 1 */
	uint32_t nslot;
	uint64_t pend_bytes;
	struct fcodec *codec;		/* its own deflating: made on need */
	nedb_buf cbuf, sbuf;
};

static uint32_t
slot_of(const unsigned char addr[FADDR_LEN], uint32_t nslot)
{
	uint32_t h;

	memcpy(&h, addr, sizeof h);
	return h & (nslot - 1);
}

static struct pend *
pend_find(struct fwriter *w, const unsigned char addr[FADDR_LEN])
{
	if (!w->nslot)
		return NULL;
	for (uint32_t i = slot_of(addr, w->nslot);; i = (i + 1) & (w->nslot - 1)) {
		uint32_t j = w->slot[i];

		if (!j)
			return NULL;
		if (!memcmp(w->pend[j - 1].addr, addr, FADDR_LEN))
			return &w->pend[j - 1];
	}
}

static void
pend_add(struct fwriter *w, const unsigned char addr[FADDR_LEN],
	 const struct fent *e)
{
	uint32_t i;

	if (w->npend == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 256;
		w->pend = nedb__realloc(w->pend, w->cap * sizeof *w->pend);
		free(w->slot);
		w->nslot = 2 * w->cap;
		w->slot = nedb__calloc(w->nslot, sizeof *w->slot);
		for (uint32_t j = 0; j < w->npend; j++) {
			for (i = slot_of(w->pend[j].addr, w->nslot); w->slot[i];
			     i = (i + 1) & (w->nslot - 1))
				;
			w->slot[i] = j + 1;
		}
	}
	memcpy(w->pend[w->npend].addr, addr, FADDR_LEN);
	w->pend[w->npend].e = *e;
	for (i = slot_of(addr, w->nslot); w->slot[i];
	     i = (i + 1) & (w->nslot - 1))
		;
	w->slot[i] = ++w->npend;
}

static void
pend_clear(struct fwriter *w)
{
	w->npend = 0;
	w->pend_bytes = 0;
	if (w->slot)
		memset(w->slot, 0, w->nslot * sizeof *w->slot);
}

int
nedb__fwriter_new(struct fstore *s, int tier, struct fwriter **out)
{
	struct fwriter *w = nedb__calloc(1, sizeof *w);

	w->s = s;
	w->fd = -1;
	w->tier = tier;
	*out = w;
	return 0;
}

/* Lets go of the pack (its flock with the descriptor). */
static void
pack_release(struct fwriter *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
	w->new_pack = false;
}

/* The committed length of pack id in a fresh snapshot (0: unknown). */
static int
committed_len(struct fstore *s, uint32_t id, uint64_t *out)
{
	unsigned char key[4];
	MDB_val k = {4, key}, d;
	MDB_txn *txn;
	int rc;

	*out = 0;
	key[0] = (unsigned char)(id >> 24);
	key[1] = (unsigned char)(id >> 16);
	key[2] = (unsigned char)(id >> 8);
	key[3] = (unsigned char)id;
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)))
		return nedb__mdb(rc, "cannot read the file store index");
	rc = mdb_get(txn, s->packs, &k, &d);
	if (!rc && d.mv_size == 8)
		*out = nedb__get_le64(d.mv_data);
	mdb_txn_abort(txn);
	return rc && rc != MDB_NOTFOUND ?
	       nedb__mdb(rc, "cannot read the file store index") : 0;
}

static uint32_t
be32(const void *p)
{
	const unsigned char *b = p;

	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/*
 * Takes a pack to append to: one of the last few in the index that has
 * room and no writer, cut back to its committed length (invariant 2);
 * else a new one.
 */
static int
pack_acquire(struct fwriter *w)
{
	struct fstore *s = w->s;
	uint32_t cand[8], ncand = 0, last = 0, seen = 0;
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val k, d;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn)))
		return nedb__mdb(rc, "cannot read the file store index");
	if ((rc = mdb_cursor_open(txn, s->packs, &c))) {
		mdb_txn_abort(txn);
		return nedb__mdb(rc, "cannot read the file store index");
	}
	/* the last few packs: the others were filled long ago */
	for (rc = mdb_cursor_get(c, &k, &d, MDB_LAST); !rc && ncand < 8 &&
	     seen++ < 32; rc = mdb_cursor_get(c, &k, &d, MDB_PREV)) {
		uint32_t id;

		if (k.mv_size != 4 || d.mv_size != 8)
			continue;
		id = be32(k.mv_data);
		if (id > last)
			last = id;
		if (nedb__get_le64(d.mv_data) < s->pack_max)
			cand[ncand++] = id;
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	if (w->fresh)
		ncand = 0;
	for (uint32_t i = 0; i < ncand; i++) {
		char *p = pack_path(s, cand[i]);
		uint64_t have;
		struct stat st;
		int fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW);

		free(p);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			close(fd);
			continue;
		}
		/* under its flock: what the last writer committed */
		if ((rc = committed_len(s, cand[i], &have)) ||
		    fstat(fd, &st)) {
			close(fd);
			return rc ? rc : nedb__errno(NEDB_EIO, "cannot read "
						     "a file store pack");
		}
		if (have < PACK_HDR || have >= s->pack_max ||
		    (uint64_t)st.st_size < have) {
			close(fd);
			continue;	/* full now, or damaged: not ours */
		}
		if ((uint64_t)st.st_size > have &&
		    ftruncate(fd, (off_t)have)) {
			close(fd);
			return nedb__errno(NEDB_EIO, "cannot cut a file store "
					   "pack");
		}
		if (lseek(fd, (off_t)have, SEEK_SET) < 0) {
			close(fd);
			return nedb__errno(NEDB_EIO, "cannot seek a pack");
		}
		w->fd = fd;
		w->pack = cand[i];
		w->end = have;
		w->kicked = have;
		return 0;
	}
	for (uint32_t id = last + 1;; id++) {
		unsigned char h[PACK_HDR];
		char *p = pack_path(s, id);
		int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
			      O_NOFOLLOW, 0600);

		free(p);
		if (fd < 0 && errno == EEXIST)
			continue;	/* another writer's, or an orphan */
		if (fd < 0)
			return nedb__errno(NEDB_EIO, "cannot make a file store "
					   "pack");
		if (flock(fd, LOCK_EX | LOCK_NB)) {
			close(fd);
			continue;
		}
		memcpy(h, PACK_MAGIC, 8);
		nedb__put_le32(h + 8, 1);
		nedb__put_le32(h + 12, id);
		if (nedb__write_all(fd, h, sizeof h)) {
			close(fd);
			return nedb__errno(NEDB_EIO, "cannot write a file "
					   "store pack");
		}
		w->fd = fd;
		w->pack = id;
		w->end = PACK_HDR;
		w->kicked = PACK_HDR;
		w->new_pack = true;
		return 0;
	}
}

int
nedb__fwriter_flush(struct fwriter *w)
{
	struct fstore *s = w->s;
	unsigned char key[4], len[8], v[FENT_LEN];
	MDB_txn *txn;
	MDB_val k, d;
	int rc;

	if (w->fd < 0 || (!w->npend && !w->new_pack))
		return 0;
	if (nedb__test_fail("file-pack-sync")) {
		errno = EIO;
		return nedb__errno(NEDB_EIO, "cannot sync a file store pack");
	}
	if (s->durable && fdatasync(w->fd))
		return nedb__errno(NEDB_EIO, "cannot sync a file store pack");
	if (w->new_pack && s->durable && (rc = nedb__fsync_dir(s->packdir)))
		return rc;
	nedb__test_pause("file-flush");
	if (w->rtxn && !w->rtxn_reset) {
		mdb_txn_reset(w->rtxn);
		w->rtxn_reset = true;
	}
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
		return nedb__mdb(rc, "cannot write the file store index");
	for (uint32_t i = 0; i < w->npend; i++) {
		k.mv_size = FADDR_LEN;
		k.mv_data = w->pend[i].addr;
		fent_put(v, &w->pend[i].e);
		d.mv_size = FENT_LEN;
		d.mv_data = v;
		rc = mdb_put(txn, s->chunks, &k, &d, MDB_NOOVERWRITE);
		if (rc && rc != MDB_KEYEXIST)
			goto fail;
	}
	key[0] = (unsigned char)(w->pack >> 24);
	key[1] = (unsigned char)(w->pack >> 16);
	key[2] = (unsigned char)(w->pack >> 8);
	key[3] = (unsigned char)w->pack;
	nedb__put_le64(len, w->end);
	k.mv_size = 4;
	k.mv_data = key;
	d.mv_size = 8;
	d.mv_data = len;
	if ((rc = mdb_put(txn, s->packs, &k, &d, 0)))
		goto fail;
	if ((rc = mdb_txn_commit(txn)))
		return nedb__mdb(rc, "cannot write the file store index");
	w->new_pack = false;
	pend_clear(w);
	return 0;
fail:
	mdb_txn_abort(txn);
	return nedb__mdb(rc, "cannot write the file store index");
}

/* Whether the store already has addr: this batch, or the index. */
static int
have(struct fwriter *w, const unsigned char addr[FADDR_LEN])
{
	MDB_val k = {FADDR_LEN, (void *)addr}, d;
	int rc;

	if (pend_find(w, addr))
		return 1;
	if (!w->rtxn)
		rc = mdb_txn_begin(w->s->env, NULL, MDB_RDONLY, &w->rtxn);
	else if (w->rtxn_reset)
		rc = mdb_txn_renew(w->rtxn);
	else
		rc = 0;
	if (rc) {
		if (!w->rtxn_reset)
			w->rtxn = NULL;
		return nedb__mdb(rc, "cannot read the file store index");
	}
	w->rtxn_reset = false;
	rc = mdb_get(w->rtxn, w->s->chunks, &k, &d);
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return nedb__mdb(rc, "cannot read the file store index");
	return 1;
}

bool
nedb__fwriter_deflates(const struct fwriter *w, int type, size_t n)
{
	return w->tier != FENC_RAW && type == FREC_CHUNK && n >= 64;
}

int
nedb__fwriter_put(struct fwriter *w, int type,
		  const unsigned char addr[FADDR_LEN], const void *p,
		  size_t n, uint64_t *added)
{
	int rc;

	*added = 0;
	if (!nedb__fwriter_deflates(w, type, n))
		return nedb__fwriter_put_enc(w, type, addr, p, n, FENC_RAW, p,
					     n, added);
	if ((rc = have(w, addr)))
		return rc < 0 ? rc : 0;
	if (!w->codec && (rc = nedb__fcodec_new(w->tier, &w->codec)))
		return rc;
	if ((rc = nedb__fcodec_deflate(w->codec, p, n, &w->cbuf)) < 0)
		return rc;
	return rc ? nedb__fwriter_put_enc(w, type, addr, p, n, w->tier,
					  w->cbuf.p, w->cbuf.len, added) :
		    nedb__fwriter_put_enc(w, type, addr, p, n, FENC_RAW, p, n,
					  added);
}

int
nedb__fwriter_put_enc(struct fwriter *w, int type,
		      const unsigned char addr[FADDR_LEN], const void *p,
		      size_t n, int enc, const void *stored, size_t dn,
		      uint64_t *added)
{
	struct fstore *s = w->s;
	unsigned char hdr[REC_HDR];
	const unsigned char *data = stored;
	struct iovec iov[2];
	struct fent e;
	int rc;

	(void)p;
	*added = 0;
	if (n > UINT32_MAX - 64)
		return nedb__err(NEDB_EINPUT, "a chunk of %zu bytes is too "
				 "large", n);
	if ((rc = have(w, addr)))
		return rc < 0 ? rc : 0;
	if (w->fd < 0 && (rc = pack_acquire(w)))
		return rc;
	if (s->sealed) {
		enc |= FENC_SEALED;
		hdr_put(hdr, type, enc, (uint32_t)(dn + NEDB_AEAD_OVERHEAD),
			(uint32_t)n, addr);
		nedb_buf_grow(&w->sbuf, dn + NEDB_AEAD_OVERHEAD);
		if ((rc = nedb__aead_seal(s->aead, (unsigned char *)w->sbuf.p,
					  hdr + 4, REC_HDR - 4, data, dn)))
			return rc;
		data = (unsigned char *)w->sbuf.p;
		dn += NEDB_AEAD_OVERHEAD;
	} else
		hdr_put(hdr, type, enc, (uint32_t)dn, (uint32_t)n, addr);
	iov[0].iov_base = hdr;
	iov[0].iov_len = REC_HDR;
	iov[1].iov_base = (void *)data;
	iov[1].iov_len = dn;
	for (size_t done = 0, want = REC_HDR + dn; done < want;) {
		ssize_t r;

		if (done < REC_HDR) {
			struct iovec v[2] = {
				{hdr + done, REC_HDR - done}, iov[1]
			};

			r = writev(w->fd, v, 2);
		} else
			r = write(w->fd, data + (done - REC_HDR),
				  want - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = ENOSPC;
			return nedb__errno(NEDB_EIO, "cannot write a file "
					   "store pack");
		}
		done += (size_t)r;
	}
	/* durable: the kernel starts writing back what is written as it
	 * goes (SYNC_FILE_RANGE_WRITE waits for nothing), so that the batch's
	 * fdatasync finds little left to write */
	if (s->durable && w->end + REC_HDR + dn >= w->kicked + KICK_BYTES) {
		sync_file_range(w->fd, (off64_t)w->kicked,
				(off64_t)(w->end + REC_HDR + dn - w->kicked),
				SYNC_FILE_RANGE_WRITE);
		w->kicked = w->end + REC_HDR + dn;
	}
	e.pack = w->pack;
	e.off = w->end;
	e.stored = (uint32_t)dn;
	e.raw = (uint32_t)n;
	e.type = (uint8_t)type;
	e.enc = (uint8_t)enc;
	pend_add(w, addr, &e);
	w->end += REC_HDR + dn;
	w->pend_bytes += REC_HDR + dn;
	*added = REC_HDR + dn;
	if (w->pend_bytes >= BATCH_BYTES || w->npend >= BATCH_RECS ||
	    w->end >= s->pack_max) {
		if ((rc = nedb__fwriter_flush(w)))
			return rc;
		if (w->end >= s->pack_max)
			pack_release(w);
	}
	return 0;
}

int
nedb__fwriter_put_fn(void *w, int type, const unsigned char addr[FADDR_LEN],
		     const void *p, size_t n, uint64_t *added)
{
	return nedb__fwriter_put(w, type, addr, p, n, added);
}

void
nedb__fwriter_free(struct fwriter *w)
{
	if (!w)
		return;
	pack_release(w);
	if (w->rtxn)
		mdb_txn_abort(w->rtxn);
	nedb__fcodec_free(w->codec);
	free(w->pend);
	free(w->slot);
	nedb_buf_free(&w->cbuf);
	nedb_buf_free(&w->sbuf);
	free(w);
}

/* --- statistics ---------------------------------------------------- */

int
nedb__fstore_stats(struct fstore *s, struct fstore_stats *out)
{
	MDB_cursor *c;
	MDB_val k, d;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = read_txn(s)))
		return rc;
	if ((rc = mdb_cursor_open(s->rtxn, s->chunks, &c)))
		return nedb__mdb(rc, "cannot read the file store index");
	while (!(rc = mdb_cursor_get(c, &k, &d, MDB_NEXT))) {
		struct fent e;
		int t;

		if ((rc = fent_get(&d, &e)))
			break;
		if (e.type == FREC_PAGE) {
			out->pages++;
			out->page_bytes += REC_HDR + e.stored;
			continue;
		}
		t = e.enc & ~FENC_SEALED;
		if (t > FENC_COLD)
			t = FENC_RAW;
		out->chunks[t]++;
		out->raw[t] += e.raw;
		out->stored[t] += REC_HDR + e.stored;
	}
	mdb_cursor_close(c);
	if (rc != MDB_NOTFOUND)
		return rc < 0 ? rc : nedb__mdb(rc, "cannot read the file "
					       "store index");
	if ((rc = mdb_cursor_open(s->rtxn, s->packs, &c)))
		return nedb__mdb(rc, "cannot read the file store index");
	while (!(rc = mdb_cursor_get(c, &k, &d, MDB_NEXT))) {
		char *p;
		struct stat st;

		if (k.mv_size != 4)
			continue;
		p = pack_path(s, be32(k.mv_data));
		out->packs++;
		if (!stat(p, &st))
			out->pack_bytes += (uint64_t)st.st_size;
		free(p);
	}
	mdb_cursor_close(c);
	read_done(s);
	return rc == MDB_NOTFOUND ? 0 : nedb__mdb(rc, "cannot read the file "
						 "store index");
}

/* --- gc ------------------------------------------------------------ */

int
nedb__fstore_mark_begin(struct fstore *s)
{
	MDB_txn *txn;
	int rc;

	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
		return nedb__mdb(rc, "cannot write the file store index");
	if ((rc = mdb_drop(txn, s->marks, 0)) || (rc = mdb_txn_commit(txn))) {
		if (rc)
			mdb_txn_abort(txn);
		return nedb__mdb(rc, "cannot write the file store index");
	}
	s->nmarks = 0;
	return 0;
}

static int
marks_commit(struct fstore *s)
{
	int rc = s->mtxn ? mdb_txn_commit(s->mtxn) : 0;

	s->mtxn = NULL;
	s->nmarks = 0;
	return rc ? nedb__mdb(rc, "cannot write the file store index") : 0;
}

int
nedb__fstore_mark(struct fstore *s, const unsigned char addr[FADDR_LEN])
{
	MDB_val k = {FADDR_LEN, (void *)addr}, d = {0, ""};
	int rc;

	if (!s->mtxn && (rc = mdb_txn_begin(s->env, NULL, 0, &s->mtxn))) {
		s->mtxn = NULL;
		return nedb__mdb(rc, "cannot write the file store index");
	}
	rc = mdb_put(s->mtxn, s->marks, &k, &d, MDB_NOOVERWRITE);
	if (rc == MDB_KEYEXIST)
		return 1;
	if (rc)
		return nedb__mdb(rc, "cannot write the file store index");
	if (++s->nmarks >= MARK_BATCH)
		return marks_commit(s);
	return 0;
}

/* A pack's bytes: those the index names, and the file's length. */
struct packuse {
	uint32_t id;
	uint64_t live, committed, size;
	bool listed;
};

static int
use_cmp(const void *a, const void *b)
{
	const struct packuse *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static struct packuse *
use_find(struct packuse *u, size_t n, uint32_t id)
{
	struct packuse key = {.id = id};

	return n ? bsearch(&key, u, n, sizeof *u, use_cmp) : NULL;
}

/*
 * Copies the records of pack id that the index still names to w's pack
 * and points the index at them: the pack is read in order (its records
 * are self-describing), each header held against the index.
 */
static int
rewrite_pack(struct fstore *s, struct fwriter *w, uint32_t id,
	     uint64_t committed)
{
	unsigned char hdr[REC_HDR];
	nedb_buf rec = {0};
	uint64_t off = PACK_HDR;
	char *p = pack_path(s, id);
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW), rc = 0;

	free(p);
	if (fd < 0)
		return nedb__errno(NEDB_EIO, "cannot read a file store pack");
	while (off + REC_HDR <= committed) {
		MDB_val k = {FADDR_LEN, hdr + 16}, d;
		uint32_t stored;
		struct fent e;

		if (pread(fd, hdr, REC_HDR, (off_t)off) != REC_HDR ||
		    memcmp(hdr, REC_MAGIC, 4)) {
			rc = nedb__err(NEDB_ECORRUPT, "corrupt file store pack "
				       "%u at offset %llu: not a record", id,
				       (unsigned long long)off);
			break;
		}
		stored = nedb__get_le32(hdr + 8);
		if ((rc = read_txn(s)))
			break;
		rc = mdb_get(s->rtxn, s->chunks, &k, &d);
		if (rc == MDB_NOTFOUND) {
			rc = 0;
		} else if (rc) {
			rc = nedb__mdb(rc, "cannot read the file store index");
			break;
		} else if (!(rc = fent_get(&d, &e)) && e.pack == id &&
			   e.off == off) {
			/* live: copy it as it is (sealing does not depend
			 * on where a record is) */
			ssize_t r;

			rec.len = 0;
			nedb_buf_grow(&rec, REC_HDR + stored);
			r = pread(fd, rec.p, REC_HDR + stored, (off_t)off);
			rec.len = REC_HDR + (size_t)stored;
			if (r != (ssize_t)rec.len || e.stored != stored) {
				rc = nedb__err(NEDB_ECORRUPT, "corrupt file "
					       "store pack %u at offset %llu",
					       id, (unsigned long long)off);
				break;
			}
			if (w->fd < 0 && (rc = pack_acquire(w)))
				break;
			if (nedb__write_all(w->fd, rec.p, rec.len)) {
				rc = nedb__errno(NEDB_EIO, "cannot write a "
						 "file store pack");
				break;
			}
			e.pack = w->pack;
			e.off = w->end;
			/* replaces the entry at flush (not NOOVERWRITE) */
			pend_add(w, hdr + 16, &e);
			w->end += rec.len;
			w->pend_bytes += rec.len;
		}
		if (rc)
			break;
		off += REC_HDR + (uint64_t)stored;
	}
	read_done(s);
	close(fd);
	nedb_buf_free(&rec);
	return rc;
}

/* Commits w's batch with entries replaced, and drops packs in gone. */
static int
flush_moves(struct fstore *s, struct fwriter *w, const uint32_t *gone,
	    size_t ngone)
{
	unsigned char key[4], len[8], v[FENT_LEN];
	MDB_txn *txn;
	MDB_val k, d;
	int rc;

	if (w->fd >= 0 && s->durable && fdatasync(w->fd))
		return nedb__errno(NEDB_EIO, "cannot sync a file store pack");
	if (w->fd >= 0 && w->new_pack && s->durable &&
	    (rc = nedb__fsync_dir(s->packdir)))
		return rc;
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn)))
		return nedb__mdb(rc, "cannot write the file store index");
	for (uint32_t i = 0; i < w->npend && !rc; i++) {
		k.mv_size = FADDR_LEN;
		k.mv_data = w->pend[i].addr;
		fent_put(v, &w->pend[i].e);
		d.mv_size = FENT_LEN;
		d.mv_data = v;
		rc = mdb_put(txn, s->chunks, &k, &d, 0);
	}
	if (!rc && w->fd >= 0) {
		key[0] = (unsigned char)(w->pack >> 24);
		key[1] = (unsigned char)(w->pack >> 16);
		key[2] = (unsigned char)(w->pack >> 8);
		key[3] = (unsigned char)w->pack;
		nedb__put_le64(len, w->end);
		k.mv_size = 4;
		k.mv_data = key;
		d.mv_size = 8;
		d.mv_data = len;
		rc = mdb_put(txn, s->packs, &k, &d, 0);
	}
	for (size_t i = 0; i < ngone && !rc; i++) {
		key[0] = (unsigned char)(gone[i] >> 24);
		key[1] = (unsigned char)(gone[i] >> 16);
		key[2] = (unsigned char)(gone[i] >> 8);
		key[3] = (unsigned char)gone[i];
		k.mv_size = 4;
		k.mv_data = key;
		rc = mdb_del(txn, s->packs, &k, NULL);
		if (rc == MDB_NOTFOUND)
			rc = 0;
	}
	if (rc) {
		mdb_txn_abort(txn);
		return nedb__mdb(rc, "cannot write the file store index");
	}
	if ((rc = mdb_txn_commit(txn)))
		return nedb__mdb(rc, "cannot write the file store index");
	w->new_pack = false;
	pend_clear(w);
	return 0;
}

int
nedb__fstore_sweep(struct fstore *s, struct fstore_gc *out)
{
	struct packuse *u = NULL;
	size_t nu = 0, cap = 0, ngone = 0;
	uint32_t *gone = NULL;
	struct fwriter *w = NULL;
	uint64_t before = 0, after = 0;
	MDB_cursor *c = NULL, *mc = NULL;
	MDB_txn *txn = NULL;
	MDB_val k, d;
	DIR *dir;
	struct dirent *de;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = marks_commit(s)))
		return rc;
	read_done(s);
	/* the packs: listed ones, and files the index does not know */
	if ((rc = mdb_txn_begin(s->env, NULL, 0, &txn))) {
		txn = NULL;
		rc = nedb__mdb(rc, "cannot write the file store index");
		goto done;
	}
	if ((rc = mdb_cursor_open(txn, s->packs, &c))) {
		rc = nedb__mdb(rc, "cannot read the file store index");
		goto done;
	}
	while (!(rc = mdb_cursor_get(c, &k, &d, MDB_NEXT))) {
		if (k.mv_size != 4 || d.mv_size != 8)
			continue;
		if (nu == cap)
			u = nedb__realloc(u, (cap = cap ? 2 * cap : 64) *
					  sizeof *u);
		memset(&u[nu], 0, sizeof *u);
		u[nu].id = be32(k.mv_data);
		u[nu].committed = nedb__get_le64(d.mv_data);
		u[nu].listed = true;
		nu++;
	}
	mdb_cursor_close(c);
	c = NULL;
	if (rc != MDB_NOTFOUND) {
		rc = nedb__mdb(rc, "cannot read the file store index");
		goto done;
	}
	if (nu)		/* (none: a store whose only put never committed) */
		qsort(u, nu, sizeof *u, use_cmp);
	/* pack files the index never listed: a killed writer's new pack
	 * (no writer runs while gc holds the store) */
	if ((dir = opendir(s->packdir))) {
		while ((de = readdir(dir))) {
			unsigned id;
			char tail[8];

			if (sscanf(de->d_name, "%8u.pac%1s", &id, tail) == 2 &&
			    !use_find(u, nu, id)) {
				char *p = nedb__path_in(s->packdir, de->d_name);
				struct stat st;

				if (!stat(p, &st))
					before += (uint64_t)st.st_size;
				unlink(p);
				free(p);
			}
		}
		closedir(dir);
	}
	/* sweep: drop every record no version marked */
	if ((rc = mdb_cursor_open(txn, s->chunks, &c)) ||
	    (rc = mdb_cursor_open(txn, s->marks, &mc))) {
		rc = nedb__mdb(rc, "cannot read the file store index");
		goto done;
	}
	while (!(rc = mdb_cursor_get(c, &k, &d, MDB_NEXT))) {
		MDB_val mk = k, md;
		struct packuse *pu;
		struct fent e;

		if ((rc = fent_get(&d, &e)))
			goto done;
		pu = use_find(u, nu, e.pack);
		rc = mdb_cursor_get(mc, &mk, &md, MDB_SET);
		if (rc == MDB_NOTFOUND) {
			out->chunks++;
			out->bytes += REC_HDR + e.stored;
			if ((rc = mdb_cursor_del(c, 0))) {
				rc = nedb__mdb(rc, "cannot write the file "
					       "store index");
				goto done;
			}
			continue;
		}
		if (rc) {
			rc = nedb__mdb(rc, "cannot read the file store index");
			goto done;
		}
		if (pu)
			pu->live += REC_HDR + e.stored;
	}
	mdb_cursor_close(c);
	mdb_cursor_close(mc);
	c = mc = NULL;
	if (rc != MDB_NOTFOUND) {
		rc = nedb__mdb(rc, "cannot read the file store index");
		goto done;
	}
	if ((rc = mdb_drop(txn, s->marks, 0)) ||
	    (rc = mdb_txn_commit(txn))) {
		rc = nedb__mdb(rc, "cannot write the file store index");
		goto done;
	}
	txn = NULL;
	for (size_t i = 0; i < nu; i++) {
		char *p = pack_path(s, u[i].id);
		struct stat st;

		if (!stat(p, &st))
			u[i].size = (uint64_t)st.st_size;
		before += u[i].size;
		free(p);
	}
	/* rewrite the packs that are mostly garbage; drop the empty ones */
	gone = nedb__calloc(nu ? nu : 1, sizeof *gone);
	if ((rc = nedb__fwriter_new(s, FENC_RAW, &w)))
		goto done;
	w->fresh = true;	/* never a pack it may rewrite or drop */
	for (size_t i = 0; i < nu; i++) {
		uint64_t dead = u[i].size > PACK_HDR + u[i].live ?
				u[i].size - PACK_HDR - u[i].live : 0;

		if (!u[i].live) {
			gone[ngone++] = u[i].id;
			out->packs_removed++;
			continue;
		}
		if (dead && (dead * 8 >= u[i].size || dead >= BATCH_BYTES)) {
			if ((rc = rewrite_pack(s, w, u[i].id, u[i].committed)))
				goto done;
			gone[ngone++] = u[i].id;
			out->packs_rewritten++;
			if (w->pend_bytes >= BATCH_BYTES ||
			    w->end >= s->pack_max) {
				if ((rc = flush_moves(s, w, gone, ngone)))
					goto done;
				for (size_t j = 0; j < ngone; j++) {
					char *p = pack_path(s, gone[j]);

					unlink(p);
					free(p);
				}
				ngone = 0;
				if (w->end >= s->pack_max)
					pack_release(w);
			}
		} else if (u[i].size > u[i].committed) {
			/* a killed writer's tail (invariant 2) */
			char *p = pack_path(s, u[i].id);

			if (truncate(p, (off_t)u[i].committed)) {
				rc = nedb__errno(NEDB_EIO, "cannot cut a file "
						 "store pack");
				free(p);
				goto done;
			}
			free(p);
		}
	}
	if ((rc = flush_moves(s, w, gone, ngone)))
		goto done;
	for (size_t j = 0; j < ngone; j++) {
		char *p = pack_path(s, gone[j]);

		unlink(p);
		free(p);
	}
	ngone = 0;
	pack_release(w);
	if (s->durable)
		(void)nedb__fsync_dir(s->packdir);
	/* what is on disk now */
	if ((rc = mdb_txn_begin(s->env, NULL, MDB_RDONLY, &txn))) {
		txn = NULL;
		rc = nedb__mdb(rc, "cannot read the file store index");
		goto done;
	}
	if (!(rc = mdb_cursor_open(txn, s->packs, &c))) {
		while (!mdb_cursor_get(c, &k, &d, MDB_NEXT)) {
			char *p;
			struct stat st;

			if (k.mv_size != 4)
				continue;
			p = pack_path(s, be32(k.mv_data));
			if (!stat(p, &st))
				after += (uint64_t)st.st_size;
			free(p);
		}
		mdb_cursor_close(c);
		c = NULL;
	}
	rc = 0;
	out->freed = before > after ? before - after : 0;
done:
	if (c)
		mdb_cursor_close(c);
	if (mc)
		mdb_cursor_close(mc);
	if (txn)
		mdb_txn_abort(txn);
	nedb__fwriter_free(w);
	free(gone);
	free(u);
	return rc;
}
