/*
 * chain.c - the chain walker: the one check of a log's links.
 *
 * Replay (replay.c), log scans (nedb_log_scan) and verify (verify.c)
 * each walk lines in seq order; all of them hold each line to the same
 * rules here: the line's own shape, seq and hash (nedb__log_check, no
 * JSON parser), then its link: its prev is the hash of the op before it.
 * The walker does not read the log: callers feed it lines from wherever
 * the backend keeps them (logstore.h), and verify's second thread,
 * which checks lines itself, feeds it links alone.
 *
 * Invariant: a walker that accepted lines 0..n-1 holds in head the hash
 * of line n-1, which a replay from genesis of the same lines would give.
 */
#include <string.h>
#include "internal.h"

int
nedb__chain_link(const struct chain *c, const unsigned char prev[HASH_LEN])
{
	if (memcmp(prev, c->head, HASH_LEN))
		return nedb__err(NEDB_ECORRUPT, "corrupt log at seq %llu: "
				 "prev does not match the hash of seq %llu",
				 (unsigned long long)c->seq,
				 (unsigned long long)c->seq - 1);
	return 0;
}

int
nedb__chain_check(const struct chain *c, const char *line, size_t len,
		  unsigned char prev[HASH_LEN], unsigned char hash[HASH_LEN],
		  int *why)
{
	uint64_t s = c->seq;
	int rc;

	*why = CHAIN_OK;
	if ((rc = nedb__log_check(line, len, &s, prev, hash))) {
		*why = CHAIN_BADLINE;
		return rc;
	}
	if ((rc = nedb__chain_link(c, prev)))
		*why = CHAIN_BADLINK;
	return rc;
}

void
nedb__chain_step(struct chain *c, const unsigned char hash[HASH_LEN])
{
	memcpy(c->head, hash, HASH_LEN);
	c->seq++;
}

int
nedb__chain_text(struct chain *c, const char *text, size_t n, size_t *used,
		 int (*fn)(uint64_t seq, const char *line, size_t len,
			   void *payload), void *payload)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	size_t start = 0;
	const char *nl;
	int rc = 0, why;

	while ((nl = memchr(text + start, '\n', n - start))) {
		const char *line = text + start;
		size_t len = (size_t)(nl - line);
		uint64_t s = c->seq;

		if ((rc = nedb__chain_check(c, line, len, prev, hash, &why)))
			break;
		nedb__chain_step(c, hash);
		start += len + 1;
		if (fn && (rc = fn(s, line, len, payload)))
			break;
	}
	*used = start;
	return rc;
}
