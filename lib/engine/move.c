/*
 * move.c - a database's log and its engine (SPEC §10): the comparison
 * nedb-verify makes of this copy with the engine's log, and the import
 * of a log's lines (nedb-log --import) into a new database, on an engine
 * or not.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"

/* ---- nedb_engine_check -------------------------------------------------- */

struct check {
	nedb *db;
	struct chain c;
	uint64_t tail;		/* this copy's last seq */
	bool bad;
	uint64_t bad_seq;
	char why[300];
};

enum { STOP = 1 };

static int
check_op(uint64_t seq, const char *line, size_t len,
	 const unsigned char hash[HASH_LEN], void *payload)
{
	struct check *k = payload;
	unsigned char prev[HASH_LEN], h[HASH_LEN], mine[HASH_LEN];
	int why, rc;

	k->bad_seq = k->c.seq;
	if (seq != k->c.seq) {
		snprintf(k->why, sizeof k->why, "the engine lacks seq %llu "
			 "(its next op is seq %llu)",
			 (unsigned long long)k->c.seq,
			 (unsigned long long)seq);
		goto bad;
	}
	if (nedb__chain_check(&k->c, line, len, prev, h, &why)) {
		snprintf(k->why, sizeof k->why, "the engine's op is bad: %s",
			 nedb_errmsg());
		goto bad;
	}
	if (memcmp(h, hash, HASH_LEN)) {
		snprintf(k->why, sizeof k->why, "the engine's hash column "
			 "differs from its line's hash");
		goto bad;
	}
	if (seq <= k->tail) {
		if ((rc = nedb__seq_hash(k->db, seq, mine)))
			return rc;
		if (memcmp(mine, h, HASH_LEN)) {
			snprintf(k->why, sizeof k->why, "the engine's op "
				 "differs from this copy's");
			goto bad;
		}
	}
	nedb__chain_step(&k->c, h);
	return 0;
bad:
	k->bad = true;
	return STOP;
}

int
nedb_engine_check(nedb *db, int *ok, uint64_t *seq, char *why, size_t whylen)
{
	struct check k = {.db = db};
	int rc;

	*ok = 0;
	*seq = 0;
	if (whylen)
		*why = 0;
	if (!db->eng)
		return nedb__err(NEDB_EUSAGE, "database '%s' keeps its log in "
				 "its directory (no engine)", db->dir);
	if ((rc = nedb_read_begin(db)))
		return rc;
	if ((rc = nedb_head(db, &k.tail, NULL)))
		goto done;
	rc = nedb__engine_scan(db, 0, check_op, &k);
	if (rc == STOP)
		rc = 0;
	if (rc)
		goto done;
	if (!k.bad && (k.c.seq == 0 || k.c.seq - 1 < k.tail)) {
		k.bad = true;
		k.bad_seq = k.c.seq;
		snprintf(k.why, sizeof k.why, "this copy holds seqs %llu to "
			 "%llu, which the engine lacks (lost in a failover?)",
			 (unsigned long long)k.c.seq,
			 (unsigned long long)k.tail);
	}
	*ok = !k.bad;
	*seq = k.bad ? k.bad_seq : k.c.seq - 1;
	if (k.bad && whylen)
		snprintf(why, whylen, "%s", k.why);
done:
	nedb_read_end(db);
	return rc;
}

/* ---- nedb_import -------------------------------------------------------- */

static const char *const made[] = {
	"log.aof", "engine", "engine.synced", "meta.json", "view.mdb",
	"view.mdb-lock", "view.sync", "lock", NULL
};

/* Removes what a failed import made of dir. */
static void
unmake(const char *dir)
{
	for (int i = 0; made[i]; i++) {
		char *p = nedb__path_in(dir, made[i]);

		if (p)
			unlink(p);
		free(p);
	}
	rmdir(dir);
}

struct importer {
	nedb *eng;		/* a handle holding only the engine */
	int logfd;
	struct chain c;
	nedb_buf batch;		/* lines not yet written */
	size_t nbatch;
	uint64_t batch_seq;
	int64_t created, format;
};

static int
flush_batch(struct importer *im)
{
	int rc;

	if (!im->batch.len)
		return 0;
	if (im->eng && (rc = nedb__engine_insert(im->eng, im->batch.p,
						  im->batch.len,
						  im->batch_seq, im->nbatch)))
		return rc;
	if (nedb__write_all(im->logfd, im->batch.p, im->batch.len))
		return nedb__errno(NEDB_EIO, "cannot write log.aof");
	im->batch_seq += im->nbatch;
	im->batch.len = 0;
	im->nbatch = 0;
	return 0;
}

static int
import_line(struct importer *im, const char *line, size_t len,
	    uint64_t lineno)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	int why;

	if (len > 7 && !memcmp(line, "{\"enc\":", 7))
		return nedb__err(NEDB_EINPUT, "line %llu: an encrypted "
				 "database's sealed line; only a plaintext "
				 "log can be imported",
				 (unsigned long long)lineno);
	if (nedb__chain_check(&im->c, line, len, prev, hash, &why))
		return nedb__err(NEDB_EINPUT, "line %llu: %s",
				 (unsigned long long)lineno, nedb_errmsg());
	if (im->c.seq == 0) {
		const char *v;
		size_t vl;

		if (nedb__doc_member(line, len, "ts", &v, &vl))
			im->created = strtoll(v, NULL, 10);
		if (nedb__doc_member(line, len, "format", &v, &vl))
			im->format = strtoll(v, NULL, 10);
	}
	nedb__chain_step(&im->c, hash);
	if (nedb_buf_add(&im->batch, line, len) ||
	    nedb_buf_add(&im->batch, "\n", 1))
		return nedb__err(NEDB_EIO, "out of memory");
	im->nbatch++;
	if (im->nbatch >= 4096 || im->batch.len >= (8u << 20))
		return flush_batch(im);
	return 0;
}

/* Reads fd's lines into im. */
static int
import_lines(struct importer *im, int fd)
{
	nedb_buf in = {0};
	size_t start = 0;
	uint64_t lineno = 0;
	int rc = 0;

	for (;;) {
		ssize_t n;
		char *nl;

		while (in.len > start &&
		       (nl = memchr(in.p + start, '\n', in.len - start))) {
			size_t len = (size_t)(nl - in.p - start);

			if ((rc = import_line(im, in.p + start, len,
					      ++lineno)))
				goto done;
			start += len + 1;
		}
		if (start) {
			memmove(in.p, in.p + start, in.len - start);
			in.len -= start;
			start = 0;
		}
		if (nedb_buf_grow(&in, 1 << 16)) {
			rc = nedb__err(NEDB_EIO, "out of memory");
			goto done;
		}
		n = read(fd, in.p + in.len, 1 << 16);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = nedb__errno(NEDB_EIO, "cannot read the lines");
			goto done;
		}
		if (n == 0)
			break;
		in.len += (size_t)n;
	}
	if (in.len)
		rc = nedb__err(NEDB_EINPUT, "line %llu: no newline at its end "
			       "(a torn line)", (unsigned long long)lineno + 1);
	else if (lineno == 0)
		rc = nedb__err(NEDB_EINPUT, "no lines to import");
done:
	nedb_buf_free(&in);
	return rc;
}

static int
write_meta(const char *dir, int64_t created, int64_t format)
{
	char *p = nedb__path_in(dir, "meta.json"), text[160];
	int n, rc;

	n = snprintf(text, sizeof text, "{\"format\":%lld,\"created\":%lld,"
		     "\"options\":{}}\n", (long long)format,
		     (long long)created);
	rc = nedb__replace_file(dir, p, text, (size_t)n, NULL);
	free(p);
	return rc;
}

int
nedb_import(const char *dir, const char *log_url, int fd, uint64_t *seq,
	    char *head)
{
	struct importer im = {.logfd = -1, .format = LOG_FORMAT_OLD};
	struct nedb_engine *e = NULL;
	char *lp = NULL;
	nedb *db = NULL;
	bool empty;
	uint64_t last;
	int rc;

	if (mkdir(dir, 0700)) {
		if (errno != EEXIST)
			return nedb__err(NEDB_EIO, "cannot create database "
					 "'%s': %s", dir, strerror(errno));
		if (rmdir(dir) || mkdir(dir, 0700))
			return nedb__err(NEDB_EUSAGE, "cannot import into '%s': "
					 "it exists and is not an empty "
					 "directory", dir);
	}
	if (log_url && *log_url) {
		if ((rc = nedb__engine_parse(log_url, dir, &e)))
			goto fail;
		im.eng = nedb__calloc(1, sizeof *im.eng);
		im.eng->dir = nedb__strdup(dir);
		im.eng->eng = e;
		if ((rc = nedb__engine_begin(im.eng, true, true)) ||
		    (rc = nedb__engine_last(im.eng, &last, &empty)))
			goto fail;
		if (!empty) {
			rc = nedb__err(NEDB_EUSAGE, "cannot import into the "
				       "log engine: it already holds a "
				       "database named '%s' (seqs 0 to %llu)",
				       nedb__engine_name(e),
				       (unsigned long long)last);
			goto fail;
		}
		if ((rc = nedb__engine_record(dir, log_url)))
			goto fail;
	}
	lp = nedb__path_in(dir, "log.aof");
	if ((im.logfd = open(lp, O_WRONLY | O_CREAT | O_EXCL | O_APPEND |
			     O_CLOEXEC, 0600)) < 0) {
		rc = nedb__errno(NEDB_EIO, "cannot create log.aof");
		goto fail;
	}
	if ((rc = import_lines(&im, fd)) || (rc = flush_batch(&im)))
		goto fail;
	if (fsync(im.logfd)) {
		rc = nedb__errno(NEDB_EIO, "cannot write log.aof");
		goto fail;
	}
	close(im.logfd);
	im.logfd = -1;
	if ((rc = nedb__fsync_dir(dir)) ||
	    (rc = write_meta(dir, im.created, im.format)))
		goto fail;
	/* E1: the engine commits before the copy is whole */
	if (im.eng && (rc = nedb__engine_commit(im.eng)))
		goto fail;
	/* the view: a replay of the log, as at any first open */
	if ((rc = nedb_open(&db, dir, 0)))
		goto done;
	rc = nedb_head(db, seq, head);
	nedb_close(db);
	goto done;
fail:
	if (im.logfd >= 0)
		close(im.logfd);
	if (im.eng)
		nedb__engine_end(im.eng);
	unmake(dir);
done:
	if (im.eng) {
		nedb__engine_free(im.eng->eng);
		free(im.eng->dir);
		free(im.eng);
	} else
		nedb__engine_free(e);
	nedb_buf_free(&im.batch);
	free(lp);
	return rc;
}
