/*
 * archive.c - log segments archived by nedb-checkpoint --prune.
 *
 * Pruning moves the ops before the latest checkpoint out of log.aof into
 * archive/<first>-<last>.seg (seqs zero-padded to 20 digits), so that
 * log.aof starts at the checkpoint.  A segment is a series of blocks,
 * each independently zlib-compressed:
 *
 *   u64 first seq | u32 lines | u32 raw bytes | u32 compressed bytes |
 *   compressed lines ("\n"-terminated, exactly as they were in the log)
 *
 * (integers little-endian).  The file backend's positions and locators
 * (logfile.c) are "virtual" offsets: offsets in the concatenation of
 * every archived line and log.aof, so pruning never changes them;
 * log.aof starts at virtual offset `shift`, the raw size of the archive.
 *
 * Invariants:
 *  1. Segments are contiguous from seq 0, and the first line of log.aof
 *     is the op after the last archived one.  A segment is complete on
 *     disk (fsync, rename, fsync dir) before log.aof is replaced.
 *  2. log.aof is replaced by rename under the writer lock; a process
 *     holding the old file still reads a consistent log through it.
 *  3. Reading archived ops costs what reading log.aof does: a scan
 *     inflates each block once, in order, and single reads keep the last
 *     few blocks inflated (the cache), so that nearby reads do not
 *     inflate again.  Nothing that points into db->log.segs is kept across a
 *     call that may list the archive again (a read snapshot follows a
 *     prune's rotation, which frees the list, and the cache with it).
 *
 * zlib is loaded on first use (core/zlib.c): only pruned databases read
 * archives, and a plain read must not pay for it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

#define BLOCK_RAW (256u << 10)
#define HDR 20

#define z nedb__z
#define load_zlib nedb__zlib_load

static char *
arch_path(const nedb *db, const char *name)
{
	size_t n = strlen(db->dir) + strlen(name) + 16;
	char *p = nedb__malloc(n);

	if (p)
		snprintf(p, n, "%s/archive%s%s", db->dir, *name ? "/" : "",
			 name);
	return p;
}

/*
 * The blocks nedb__archive_line inflated last: an AS OF scan reads its
 * documents in id order, which hops between a few blocks, and nedb-log
 * --reverse reads a block's lines one after another.  The least recently
 * used slot is reused.  A slot names its block by pointer: the cache
 * lives exactly as long as the segment list (nedb__archive_free).
 */
#define CACHE_SLOTS 4

struct arch_cache {
	struct cslot {
		const struct block *b;	/* NULL: empty */
		nedb_buf raw;		/* its lines */
		uint32_t *start;	/* b->lines + 1 line offsets in raw */
		size_t cap;
		uint64_t used;		/* tick of the last use */
	} slot[CACHE_SLOTS];
	uint64_t tick;
};

static void
cache_free(nedb *db)
{
	struct arch_cache *c = db->log.arch_cache;

	if (!c)
		return;
	for (int i = 0; i < CACHE_SLOTS; i++) {
		nedb_buf_free(&c->slot[i].raw);
		free(c->slot[i].start);
	}
	free(c);
	db->log.arch_cache = NULL;
}

void
nedb__archive_free(nedb *db)
{
	cache_free(db);
	for (size_t i = 0; i < db->log.nsegs; i++) {
		free(db->log.segs[i].path);
		free(db->log.segs[i].blocks);
	}
	free(db->log.segs);
	db->log.segs = NULL;
	db->log.nsegs = 0;
	db->log.segs_loaded = false;
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct segment *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

/* Reads the block headers of one segment. */
static int
load_blocks(struct segment *s)
{
	unsigned char h[HDR];
	uint64_t off = 0;
	int fd = open(s->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return nedb__errno(NEDB_ECORRUPT, "cannot open archive");
	for (;;) {
		ssize_t n = pread(fd, h, HDR, (off_t)off);
		struct block *b;

		if (n == 0)
			break;
		if (n != HDR) {
			close(fd);
			return nedb__err(NEDB_ECORRUPT, "corrupt archive '%s': "
					 "cut short", s->path);
		}
		if (s->nblocks % 64 == 0) {
			b = nedb__realloc(s->blocks, (s->nblocks + 64) * sizeof *b);
			if (!b) {
				close(fd);
				return nedb__err(NEDB_EIO, "out of memory");
			}
			s->blocks = b;
		}
		b = &s->blocks[s->nblocks++];
		b->first = nedb__get_le64(h);
		b->lines = nedb__get_le32(h + 8);
		b->raw = nedb__get_le32(h + 12);
		b->zlen = nedb__get_le32(h + 16);
		b->off = off + HDR;
		s->raw += b->raw;
		off += HDR + b->zlen;
	}
	close(fd);
	return 0;
}

/*
 * Parses a segment's name: exactly 20 digits, '-', 20 digits, ".seg".
 * Anything else in archive/ -- notably "<name>.seg.tmp", which a prune
 * in progress is writing -- is not a segment.
 */
static bool
seg_name(const char *name, uint64_t *first, uint64_t *last)
{
	uint64_t v[2] = {0, 0};

	if (strlen(name) != 45 || name[20] != '-' || strcmp(name + 41, ".seg"))
		return false;
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < 20; i++) {
			char c = name[k * 21 + i];

			if (c < '0' || c > '9' ||
			    v[k] > (UINT64_MAX - (uint64_t)(c - '0')) / 10)
				return false;
			v[k] = v[k] * 10 + (uint64_t)(c - '0');
		}
	*first = v[0];
	*last = v[1];
	return true;
}

/* Lists archive/ (once per handle). */
int
nedb__archive_load(nedb *db)
{
	char *dir;
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (db->log.segs_loaded)
		return 0;
	if (!(dir = arch_path(db, "")))
		return nedb__err(NEDB_EIO, "out of memory");
	d = opendir(dir);
	free(dir);
	if (!d) {
		db->log.segs_loaded = true;
		return 0;		/* never pruned */
	}
	while ((e = readdir(d))) {
		uint64_t first, last;
		struct segment *s;

		if (!seg_name(e->d_name, &first, &last))
			continue;	/* a prune's temp file, or not ours */
		s = nedb__realloc(db->log.segs, (db->log.nsegs + 1) * sizeof *s);
		if (!s) {
			rc = nedb__err(NEDB_EIO, "out of memory");
			break;
		}
		db->log.segs = s;
		s = &db->log.segs[db->log.nsegs++];
		memset(s, 0, sizeof *s);
		s->first = first;
		s->last = last;
		if (!(s->path = arch_path(db, e->d_name)) ||
		    (rc = load_blocks(s)))
			break;
	}
	closedir(d);
	if (!rc && db->log.nsegs > 1)
		qsort(db->log.segs, db->log.nsegs, sizeof *db->log.segs, seg_cmp);
	db->log.segs_loaded = true;
	return rc;
}

/* Inflates one block into out (its lines, "\n"-terminated). */
static int
read_block(const struct segment *s, const struct block *b, nedb_buf *out)
{
	unsigned char *zb = nedb__malloc(b->zlen ? b->zlen : 1);
	unsigned long raw = b->raw;
	int fd, rc = 0;

	if (!zb || (rc = load_zlib())) {
		free(zb);
		return rc ? rc : nedb__err(NEDB_EIO, "out of memory");
	}
	out->len = 0;
	if ((rc = nedb_buf_grow(out, b->raw))) {
		free(zb);
		return rc;
	}
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || pread(fd, zb, b->zlen, (off_t)b->off) != (ssize_t)b->zlen
	    || z.uncompress((unsigned char *)out->p, &raw, zb, b->zlen) ||
	    raw != b->raw)
		rc = nedb__err(NEDB_ECORRUPT, "corrupt archive '%s': a block "
			       "does not inflate", s->path);
	if (fd >= 0)
		close(fd);
	free(zb);
	out->len = rc ? 0 : b->raw;
	return rc;
}

/*
 * Where each of the b->lines lines of an inflated block starts (and,
 * last, where the block ends), into *start (grown as needed).
 */
static int
index_lines(const struct segment *s, const struct block *b,
	    const nedb_buf *raw, uint32_t **start, size_t *cap)
{
	const char *p = raw->p, *end = raw->p + raw->len, *nl;
	size_t k = 0;

	if (*cap < (size_t)b->lines + 1) {
		uint32_t *x = nedb__realloc(*start, ((size_t)b->lines + 1) *
				      sizeof *x);

		if (!x)
			return nedb__err(NEDB_EIO, "out of memory");
		*start = x;
		*cap = (size_t)b->lines + 1;
	}
	for (; k < b->lines && p < end &&
	       (nl = memchr(p, '\n', (size_t)(end - p))); k++) {
		(*start)[k] = (uint32_t)(p - raw->p);
		p = nl + 1;
	}
	if (k != b->lines || p != end)
		return nedb__err(NEDB_ECORRUPT, "corrupt archive '%s': a block "
				 "does not hold the lines it says", s->path);
	(*start)[k] = (uint32_t)raw->len;
	return 0;
}

/* The segment and block holding archived op seq, or NULL. */
static const struct block *
find_block(const nedb *db, uint64_t seq, const struct segment **sp)
{
	for (size_t i = 0; i < db->log.nsegs; i++) {
		const struct segment *s = &db->log.segs[i];
		size_t lo = 0, hi = s->nblocks;

		if (seq < s->first || seq > s->last)
			continue;
		/* blocks are in seq order: the last one starting at or
		 * before seq */
		while (hi - lo > 1) {
			size_t mid = lo + (hi - lo) / 2;

			if (s->blocks[mid].first <= seq)
				lo = mid;
			else
				hi = mid;
		}
		if (lo < s->nblocks && seq >= s->blocks[lo].first &&
		    seq < s->blocks[lo].first + s->blocks[lo].lines) {
			*sp = s;
			return &s->blocks[lo];
		}
	}
	return NULL;
}

/* The cache slot holding block b of s, inflating it if none does. */
static int
cached_block(nedb *db, const struct segment *s, const struct block *b,
	     struct cslot **out)
{
	struct arch_cache *c = db->log.arch_cache;
	struct cslot *victim;
	int rc;

	if (!c && !(c = db->log.arch_cache = nedb__calloc(1, sizeof *c)))
		return nedb__err(NEDB_EIO, "out of memory");
	victim = &c->slot[0];
	for (int i = 0; i < CACHE_SLOTS; i++) {
		if (c->slot[i].b == b) {
			c->slot[i].used = ++c->tick;
			*out = &c->slot[i];
			return 0;
		}
		if (c->slot[i].used < victim->used)
			victim = &c->slot[i];
	}
	victim->b = NULL;
	if ((rc = read_block(s, b, &victim->raw)) ||
	    (rc = index_lines(s, b, &victim->raw, &victim->start,
			      &victim->cap)))
		return rc;
	victim->b = b;
	victim->used = ++c->tick;
	*out = victim;
	return 0;
}

/*
 * Finds the archived line of seq (without "\n") into out.  Its block
 * stays inflated in the cache for the next reads nearby.
 */
int
nedb__archive_line(nedb *db, uint64_t seq, nedb_buf *out)
{
	const struct segment *s;
	const struct block *b;
	struct cslot *cs = NULL;
	size_t k, len;
	int rc;

	if ((rc = nedb__archive_load(db)))
		return rc;
	if (!(b = find_block(db, seq, &s)))
		return nedb__err(NEDB_ECORRUPT, "corrupt archive: op %llu is "
				 "missing", (unsigned long long)seq);
	if ((rc = cached_block(db, s, b, &cs)))
		return rc;
	k = (size_t)(seq - b->first);
	len = cs->start[k + 1] - cs->start[k] - 1;
	out->len = 0;
	return nedb_buf_add(out, cs->raw.p + cs->start[k], len);
}

/*
 * Calls fn with every archived line from seq `from` on, in order, with
 * its virtual offset.  Stops early when fn returns nonzero.
 */
int
nedb__archive_scan(nedb *db, uint64_t from,
		   int (*fn)(const char *line, size_t len, uint64_t off,
			     void *payload), void *payload)
{
	nedb_buf b = {0};
	uint64_t off = 0;
	int rc;

	if ((rc = nedb__archive_load(db)))
		return rc;
	for (size_t i = 0; i < db->log.nsegs && !rc; i++) {
		const struct segment *s = &db->log.segs[i];

		/* a segment a crashed prune left behind: log.aof has it */
		if (s->first >= db->log.first_seq)
			break;
		for (size_t j = 0; j < s->nblocks && !rc; j++) {
			const struct block *bl = &s->blocks[j];
			size_t pos = 0;
			uint64_t seq = bl->first;

			if (bl->first + bl->lines <= from) {
				off += bl->raw;
				continue;
			}
			if ((rc = read_block(s, bl, &b)))
				break;
			while (pos < b.len && !rc) {
				char *nl = memchr(b.p + pos, '\n', b.len - pos);
				size_t len;

				if (!nl) {
					rc = nedb__err(NEDB_ECORRUPT, "corrupt "
						       "archive '%s'", s->path);
					break;
				}
				len = (size_t)(nl - (b.p + pos));
				if (seq >= from)
					rc = fn(b.p + pos, len, off + pos,
						payload);
				pos += len + 1;
				seq++;
			}
			off += bl->raw;
		}
	}
	nedb_buf_free(&b);
	return rc;
}

/* Raw bytes archived before seq `upto` (the shift of a log from it). */
int
nedb__archive_size(nedb *db, uint64_t upto, uint64_t *out)
{
	int rc;

	*out = 0;
	if ((rc = nedb__archive_load(db)))
		return rc;
	for (size_t i = 0; i < db->log.nsegs; i++)
		if (db->log.segs[i].last < upto)
			*out += db->log.segs[i].raw;
	return 0;
}

/*
 * Writes lines [first, last] (text, "\n"-terminated each) as a segment:
 * temp file, fsync, rename, fsync of the directory.
 */
int
nedb__archive_write(nedb *db, const char *text, size_t len, uint64_t first,
		    uint64_t last)
{
	char name[64], *dir = arch_path(db, ""), *tmp = NULL, *dst = NULL;
	unsigned char *zb = NULL;
	size_t pos = 0;
	uint64_t seq = first;
	int fd = -1, rc;

	if ((rc = load_zlib()))
		goto done;
	if (!dir || (mkdir(dir, 0700) && errno != EEXIST)) {
		rc = nedb__errno(NEDB_EIO, "cannot make archive directory");
		goto done;
	}
	snprintf(name, sizeof name, "%020llu-%020llu.seg",
		 (unsigned long long)first, (unsigned long long)last);
	if (!(dst = arch_path(db, name)) ||
	    !(tmp = nedb__malloc(strlen(dst) + 8)) ||
	    !(zb = nedb__malloc(HDR + z.compressBound(BLOCK_RAW + 65536) +
			  MAX_DOC * 2))) {
		rc = nedb__err(NEDB_EIO, "out of memory");
		goto done;
	}
	sprintf(tmp, "%s.tmp", dst);
	unlink(tmp);		/* left by a prune killed here (writer lock held) */
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
		       0600)) < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot write archive");
		goto done;
	}
	while (pos < len) {
		size_t end = pos, lines = 0;
		unsigned long zlen;

		/* whole lines, about BLOCK_RAW bytes */
		while (end < len && (end - pos < BLOCK_RAW || !lines)) {
			const char *nl = memchr(text + end, '\n', len - end);

			end = (size_t)(nl - text) + 1;
			lines++;
		}
		zlen = z.compressBound((unsigned long)(end - pos));
		if (z.compress2(zb + HDR, &zlen, (const unsigned char *)text +
				pos, (unsigned long)(end - pos), 6)) {
			rc = nedb__err(NEDB_EIO, "cannot compress archive");
			goto done;
		}
		nedb__put_le64(zb, seq);
		nedb__put_le32(zb + 8, (uint32_t)lines);
		nedb__put_le32(zb + 12, (uint32_t)(end - pos));
		nedb__put_le32(zb + 16, (uint32_t)zlen);
		if (nedb__write_all(fd, zb, HDR + zlen)) {
			rc = nedb__errno(NEDB_EIO, "cannot write archive");
			goto done;
		}
		seq += lines;
		pos = end;
		if (nedb__progress_fn)	/* a block is many ops: each one */
			nedb__progress_fn("prune", seq - first, pos, len);
	}
	if (seq != last + 1) {
		rc = nedb__err(NEDB_EIO, "archive: %llu lines for ops %llu-%llu",
			       (unsigned long long)(seq - first),
			       (unsigned long long)first,
			       (unsigned long long)last);
		goto done;
	}
	if (fsync(fd)) {
		rc = nedb__errno(NEDB_EIO, "cannot write archive");
		goto done;
	}
	if (close(fd)) {
		fd = -1;
		rc = nedb__errno(NEDB_EIO, "cannot write archive");
		unlink(tmp);
		goto done;
	}
	fd = -1;
	if (rename(tmp, dst)) {
		rc = nedb__errno(NEDB_EIO, "cannot write archive");
		unlink(tmp);
		goto done;
	}
	rc = nedb__fsync_dir(dir);
	nedb__archive_free(db);		/* list it again on next use */
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(dir);
	free(tmp);
	free(dst);
	free(zb);
	return rc;
}

/* Removes segments from seq `from` on (left by an interrupted prune). */
int
nedb__archive_drop_from(nedb *db, uint64_t from)
{
	int rc;

	if ((rc = nedb__archive_load(db)))
		return rc;
	for (size_t i = 0; i < db->log.nsegs; i++)
		if (db->log.segs[i].first >= from)
			unlink(db->log.segs[i].path);
	nedb__archive_free(db);
	return 0;
}
