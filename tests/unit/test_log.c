/*
 * test_log.c - the log interface (lib/log/logstore.h) and the chain
 * walker (lib/log/chain.c).
 *
 * The interface tests speak only nedb__log_* on a handle whose
 * db->log.be names the backend under test (BACKENDS below): a second
 * backend runs them by adding a line there.  Lines are made with
 * nedb__log_format, as the engine makes them.
 */
#include "b2.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "internal.h"
#include "unit.h"

static const struct log_backend *const BACKENDS[] = {&nedb__log_file};
static const struct log_backend *be;

static char root[] = "/tmp/nedb-unit-log-XXXXXX";
static int ndir;

/* A bare handle with just the log open: no view. */
static nedb *
log_fresh(void)
{
	char dir[128];
	nedb *db = calloc(1, sizeof *db);
	bool w;

	snprintf(dir, sizeof dir, "%s/db%d", root, ndir++);
	CHECK(mkdir(dir, 0700) == 0);
	db->dir = strdup(dir);
	db->writable = true;
	db->log.be = be;
	CHECK(nedb__log_open(db, true, &w) == 0);
	CHECK(w);
	return db;
}

static nedb *
log_again(const nedb *other)
{
	nedb *db = calloc(1, sizeof *db);
	bool w;

	db->dir = strdup(other->dir);
	db->writable = true;
	db->log.be = be;
	CHECK(nedb__log_open(db, false, &w) == 0);
	return db;
}

static void
log_free(nedb *db)
{
	nedb__log_close(db);
	free(db->dir);
	free(db);
}

/* The ops appended so far: their lines, locators and hashes. */
struct hist {
	size_t n;
	uint64_t end;			/* position after the last */
	unsigned char head[HASH_LEN];
	struct log_loc loc[16];
	unsigned char hash[16][HASH_LEN];
	nedb_buf line[16];		/* without "\n" */
};

/* Formats op n of a chain (genesis, then puts of doc {"_id":"dN"}). */
static void
make_op(struct hist *h, nedb_buf *out, int64_t ts)
{
	char id[24], doc[64];
	struct op o = {0};

	o.seq = h->n;
	memcpy(o.prev, h->head, HASH_LEN);
	o.ts = ts;
	if (h->n == 0)
		o.kind = OP_GENESIS;
	else {
		o.kind = OP_PUT;
		o.client = "unit";
		o.nonce = h->n;
		o.coll = "c";
		snprintf(id, sizeof id, "d%zu", h->n);
		o.id = id;
		snprintf(doc, sizeof doc, "{\"_id\":\"%s\",\"n\":%zu}", id,
			 h->n);
		o.doc = doc;
		o.doclen = strlen(doc);
	}
	CHECK(nedb__log_format(out, &o) == 0);
	h->line[h->n].len = 0;
	nedb_buf_add(&h->line[h->n], out->p + out->len - o.len - 1, o.len);
	h->end = be->place(h->end, o.len, &h->loc[h->n]);
	memcpy(h->hash[h->n], o.hash, HASH_LEN);
	memcpy(h->head, o.hash, HASH_LEN);
	h->n++;
}

/* Appends a batch of n ops. */
static void
append_ops(nedb *db, struct hist *h, size_t n)
{
	nedb_buf b = {0};

	for (size_t i = 0; i < n; i++)
		make_op(h, &b, 1000 + (int64_t)h->n);
	CHECK(nedb__log_append(db, b.p, b.len, true) == 0);
	nedb_buf_free(&b);
}

static void
hist_free(struct hist *h)
{
	for (size_t i = 0; i < 16; i++)
		nedb_buf_free(&h->line[i]);
}

static const unsigned char zero[HASH_LEN];

static void
test_empty_log_has_no_tail(void)
{
	nedb *db = log_fresh();
	struct log_tail t;

	CHECK(nedb__log_end(db) == 0);
	CHECK(nedb__log_tail(db, 0, 0, zero, &t) == 0);
	CHECK(t.empty);
	CHECK(t.torn == 0);
	log_free(db);
}

static void
test_append_then_tail(void)
{
	nedb *db = log_fresh();
	struct hist h = {0};
	struct log_tail t;

	append_ops(db, &h, 3);
	CHECK(nedb__log_end(db) == h.end);
	CHECK(nedb__log_tail(db, 0, 0, zero, &t) == 0);
	CHECK(!t.empty);
	CHECK(t.seq == 2);
	CHECK(!memcmp(t.head, h.head, HASH_LEN));
	CHECK(t.end == h.end);
	CHECK(t.torn == 0);
	/* from a known op on: the same tail */
	CHECK(nedb__log_tail(db, 1, nedb__log_after(db, &h.loc[0]), h.hash[0],
			     &t) == 0);
	CHECK(t.seq == 2 && t.end == h.end);
	append_ops(db, &h, 2);
	CHECK(nedb__log_tail(db, 0, 0, zero, &t) == 0);
	CHECK(t.seq == 4);
	hist_free(&h);
	log_free(db);
}

static void
test_read_at_seq_returns_the_line(void)
{
	nedb *db = log_fresh();
	struct hist h = {0};
	nedb_buf b = {0};

	append_ops(db, &h, 4);
	for (size_t i = 0; i < h.n; i++) {
		CHECK(nedb__log_read(db, i, &h.loc[i], h.hash[i], &b) == 0);
		CHECK(b.len == h.line[i].len &&
		      !memcmp(b.p, h.line[i].p, b.len));
		CHECK(b.p[b.len] == 0);
		CHECK(nedb__log_after(db, &h.loc[i]) ==
		      (i + 1 < h.n ? h.loc[i + 1].a : h.end));
	}
	/* the view's record must match: another hash or seq is damage */
	CHECK(nedb__log_read(db, 2, &h.loc[2], h.hash[1], &b) ==
	      NEDB_ECORRUPT);
	CHECK(nedb__log_read(db, 3, &h.loc[2], h.hash[2], &b) ==
	      NEDB_ECORRUPT);
	/* a locator past the end leads to no line */
	{
		struct log_loc far;

		nedb__log_place(db, h.end + 100, 10, &far);
		CHECK(nedb__log_read(db, 9, &far, h.hash[2], &b) ==
		      NEDB_ECORRUPT);
	}
	nedb_buf_free(&b);
	hist_free(&h);
	log_free(db);
}

struct got {
	size_t n;
	uint64_t first;
	struct hist *h;
	int bad;
};

static int
collect(const char *line, size_t len, const struct log_loc *loc,
	uint64_t next, void *payload)
{
	struct got *g = payload;
	size_t i = (size_t)g->first + g->n++;

	if (i >= g->h->n || len != g->h->line[i].len ||
	    memcmp(line, g->h->line[i].p, len) ||
	    memcmp(loc, &g->h->loc[i], sizeof *loc) ||
	    next != (i + 1 < g->h->n ? g->h->loc[i + 1].a : g->h->end))
		g->bad++;
	return 0;
}

static void
test_walk_scans_a_range_in_order(void)
{
	nedb *db = log_fresh();
	struct hist h = {0};
	struct got g = {0};
	uint64_t torn;

	append_ops(db, &h, 5);
	g.h = &h;
	g.first = 1;
	/* [1, 3]: from the position after op 0 to the one after op 3 */
	CHECK(nedb__log_walk(db, 1, nedb__log_after(db, &h.loc[0]),
			     nedb__log_after(db, &h.loc[3]), collect, &g,
			     &torn) == 0);
	CHECK(g.n == 3);
	CHECK(g.bad == 0);
	CHECK(torn == nedb__log_after(db, &h.loc[3]));
	/* the whole log */
	memset(&g, 0, sizeof g);
	g.h = &h;
	CHECK(nedb__log_walk(db, 0, 0, nedb__log_end(db), collect, &g,
			     &torn) == 0);
	CHECK(g.n == 5 && g.bad == 0);
	hist_free(&h);
	log_free(db);
}

static void
test_truncate_after_a_seq(void)
{
	nedb *db = log_fresh();
	struct hist h = {0};
	struct log_tail t;
	nedb_buf b = {0};

	append_ops(db, &h, 4);
	CHECK(nedb__log_truncate(db, nedb__log_after(db, &h.loc[1])) == 0);
	CHECK(nedb__log_end(db) == nedb__log_after(db, &h.loc[1]));
	CHECK(nedb__log_tail(db, 0, 0, zero, &t) == 0);
	CHECK(t.seq == 1 && !memcmp(t.head, h.hash[1], HASH_LEN));
	CHECK(nedb__log_read(db, 2, &h.loc[2], h.hash[2], &b) ==
	      NEDB_ECORRUPT);
	/* the chain goes on from op 1 */
	h.n = 2;
	h.end = nedb__log_after(db, &h.loc[1]);
	memcpy(h.head, h.hash[1], HASH_LEN);
	append_ops(db, &h, 1);
	CHECK(nedb__log_tail(db, 0, 0, zero, &t) == 0);
	CHECK(t.seq == 2 && t.end == h.end);
	nedb_buf_free(&b);
	hist_free(&h);
	log_free(db);
}

static void
test_torn_tail_is_reported_not_read(void)
{
	nedb *db = log_fresh();
	struct hist h = {0};
	struct got g = {0};
	struct log_tail t;
	nedb_buf b = {0};
	uint64_t torn, end;

	append_ops(db, &h, 3);
	/* a crash in the middle of the next append */
	make_op(&h, &b, 5000);
	CHECK(nedb__log_append(db, b.p, b.len / 2, false) == 0);
	end = nedb__log_end(db);
	CHECK(end == h.loc[3].a + b.len / 2);
	g.h = &h;
	CHECK(nedb__log_walk(db, 0, 0, end, collect, &g, &torn) == 0);
	CHECK(g.n == 3 && g.bad == 0);
	CHECK(torn == h.loc[3].a);
	CHECK(nedb__log_tail(db, 0, 0, zero, &t) == 0);
	CHECK(t.seq == 2 && t.end == h.loc[3].a);
	CHECK(t.torn == b.len / 2);
	/* the writer cuts it off */
	CHECK(nedb__log_truncate(db, torn) == 0);
	CHECK(nedb__log_tail(db, 0, 0, zero, &t) == 0);
	CHECK(t.seq == 2 && t.torn == 0);
	nedb_buf_free(&b);
	hist_free(&h);
	log_free(db);
}

static void
test_lost_terminator_is_restored_only_where_asked(void)
{
	nedb *db = log_fresh();
	struct hist h = {0};
	struct log_tail t;
	nedb_buf b = {0};

	append_ops(db, &h, 2);
	make_op(&h, &b, 6000);
	/* the last line whole but for its newline */
	CHECK(nedb__log_append(db, b.p, b.len - 1, false) == 0);
	CHECK(nedb__log_end(db) == h.end - 1);
	CHECK(nedb__log_restore_end(db, h.end + 1) == 1);
	CHECK(nedb__log_restore_end(db, h.end - 1) == 1);
	CHECK(nedb__log_end(db) == h.end - 1);
	CHECK(nedb__log_restore_end(db, h.end) == 0);
	CHECK(nedb__log_sync(db) == 0);
	CHECK(nedb__log_tail(db, 0, 0, zero, &t) == 0);
	CHECK(t.seq == 2 && t.end == h.end && t.torn == 0);
	nedb_buf_free(&b);
	hist_free(&h);
	log_free(db);
}

static void
test_rotation_keeps_locators(void)
{
	nedb *db = log_fresh(), *other;
	nedb_prune_info pi = {0};
	struct hist h = {0};
	struct got g = {0};
	nedb_buf b = {0};
	uint64_t end, torn;
	bool rotated;

	append_ops(db, &h, 6);
	other = log_again(db);
	end = nedb__log_end(db);
	CHECK(nedb__log_rotate(db, 3, &h.loc[3], &pi) == 0);
	CHECK(pi.archived == 3 && pi.first == 0 && pi.last == 2);
	CHECK(nedb__log_end(db) == end);
	CHECK(nedb__log_bytes(db) == end - h.loc[3].a);
	/* every op reads as before, by the same locator */
	for (size_t i = 0; i < h.n; i++) {
		CHECK(nedb__log_read(db, i, &h.loc[i], h.hash[i], &b) == 0);
		CHECK(b.len == h.line[i].len &&
		      !memcmp(b.p, h.line[i].p, b.len));
	}
	/* a walk crosses from the rotated part into the hot one */
	g.h = &h;
	g.first = 1;
	CHECK(nedb__log_walk(db, 1, h.loc[1].a, end, collect, &g, &torn) == 0);
	CHECK(g.n == 5 && g.bad == 0 && torn == end);
	/* another handle follows the rotation, then reads the same */
	CHECK(nedb__log_follow(other, &rotated) == 0);
	CHECK(rotated);
	CHECK(nedb__log_follow(other, &rotated) == 0);
	CHECK(!rotated);
	for (size_t i = 0; i < h.n; i++)
		CHECK(nedb__log_read(other, i, &h.loc[i], h.hash[i], &b) == 0);
	/* appends go on after a rotation */
	append_ops(db, &h, 1);
	CHECK(nedb__log_read(other, 6, &h.loc[6], h.hash[6], &b) == 0);
	/* rotating at or before the first hot op moves nothing */
	memset(&pi, 0, sizeof pi);
	CHECK(nedb__log_rotate(db, 3, &h.loc[3], &pi) == 0);
	CHECK(pi.archived == 0);
	nedb_buf_free(&b);
	hist_free(&h);
	log_free(other);
	log_free(db);
}

static void
test_failed_sync_is_sticky(void)
{
	nedb *db = log_fresh();
	struct hist h = {0};
	nedb_buf b = {0};

	append_ops(db, &h, 1);
	db->log.failed = true;		/* what a failed fsync leaves */
	make_op(&h, &b, 7000);
	CHECK(nedb__log_append(db, b.p, b.len, true) == NEDB_EIO);
	CHECK(errno == EIO);
	CHECK(nedb__log_sync(db) == NEDB_EIO);
	CHECK(nedb__log_end(db) == h.loc[1].a);
	nedb_buf_free(&b);
	hist_free(&h);
	log_free(db);
}

static void
test_map_holds_the_hot_log(void)
{
	nedb *db = log_fresh();
	struct hist h = {0};
	struct log_map m;

	append_ops(db, &h, 3);
	CHECK(nedb__log_map(db, &m) == 0);
	if (m.p) {
		CHECK(m.seq == 0 && m.pos == 0 && m.n == h.end);
		CHECK(!memcmp(m.p, h.line[0].p, h.line[0].len));
	}
	nedb__log_unmap(db, &m);
	CHECK(m.p == NULL);
	hist_free(&h);
	log_free(db);
}

/* The chain walker */

static int
count_lines(uint64_t seq, const char *line, size_t len, void *payload)
{
	(void)seq;
	(void)line;
	(void)len;
	++*(int *)payload;
	return 0;
}

static void
chain_of(struct hist *h, nedb_buf *text, size_t n)
{
	memset(h, 0, sizeof *h);
	for (size_t i = 0; i < n; i++)
		make_op(h, text, 100 + (int64_t)i);
}

static void
test_chain_accepts_a_whole_chain(void)
{
	struct chain c = {0};
	struct hist h;
	nedb_buf t = {0};
	size_t used;
	int lines = 0;

	chain_of(&h, &t, 5);
	CHECK(nedb__chain_text(&c, t.p, t.len, &used, count_lines,
			       &lines) == 0);
	CHECK(used == t.len && lines == 5);
	CHECK(c.seq == 5 && !memcmp(c.head, h.head, HASH_LEN));
	nedb_buf_free(&t);
	hist_free(&h);
}

static void
test_chain_detects_a_broken_link(void)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	struct chain c = {0};
	struct hist a = {0}, b = {0};
	nedb_buf ta = {0}, tb = {0}, t = {0};
	size_t used;
	int why;

	/* two chains with another genesis: b's op 1 is well formed and
	 * hashed, but its prev is not the hash of a's genesis */
	make_op(&a, &ta, 1);
	make_op(&b, &tb, 2);
	make_op(&b, &tb, 3);
	nedb_buf_add(&t, a.line[0].p, a.line[0].len);
	nedb_buf_add(&t, "\n", 1);
	nedb_buf_add(&t, b.line[1].p, b.line[1].len);
	nedb_buf_add(&t, "\n", 1);
	CHECK(nedb__chain_text(&c, t.p, t.len, &used, NULL, NULL) ==
	      NEDB_ECORRUPT);
	CHECK(c.seq == 1 && used == a.line[0].len + 1);
	CHECK_STR(nedb_errmsg(), "corrupt log at seq 1: prev does not match "
		  "the hash of seq 0");
	CHECK(nedb__chain_check(&c, b.line[1].p, b.line[1].len, prev, hash,
				&why) == NEDB_ECORRUPT);
	CHECK(why == CHAIN_BADLINK);
	CHECK(nedb__chain_link(&c, prev) == NEDB_ECORRUPT);
	/* genesis must chain from zeros */
	c = (struct chain){0};
	c.head[0] = 1;
	CHECK(nedb__chain_check(&c, a.line[0].p, a.line[0].len, prev, hash,
				&why) == NEDB_ECORRUPT && why == CHAIN_BADLINK);
	nedb_buf_free(&ta);
	nedb_buf_free(&tb);
	nedb_buf_free(&t);
	hist_free(&a);
	hist_free(&b);
}

static void
test_chain_detects_a_wrong_seq(void)
{
	struct chain c = {0};
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	struct hist h;
	nedb_buf t = {0};
	int why;

	chain_of(&h, &t, 3);
	/* op 2 where op 1 belongs */
	CHECK(nedb__chain_check(&c, h.line[0].p, h.line[0].len, prev, hash,
				&why) == 0);
	nedb__chain_step(&c, hash);
	CHECK(nedb__chain_check(&c, h.line[2].p, h.line[2].len, prev, hash,
				&why) == NEDB_ECORRUPT);
	CHECK(why == CHAIN_BADLINE);
	CHECK_STR(nedb_errmsg(), "corrupt log at seq 1: found seq 2");
	CHECK(c.seq == 1);		/* not advanced */
	nedb_buf_free(&t);
	hist_free(&h);
}

static void
test_chain_detects_a_torn_line(void)
{
	struct chain c = {0};
	struct hist h;
	nedb_buf t = {0};
	size_t used, cut;
	int lines = 0;

	chain_of(&h, &t, 3);
	/* torn without its newline: left for the caller, not an error */
	cut = (size_t)h.loc[2].a + h.line[2].len / 2;
	CHECK(nedb__chain_text(&c, t.p, cut, &used, count_lines, &lines) ==
	      0);
	CHECK(lines == 2 && used == h.loc[2].a && c.seq == 2);
	/* torn and then a newline (a later append after a crash): the
	 * cut line is damage */
	c = (struct chain){0};
	t.p[cut] = '\n';
	CHECK(nedb__chain_text(&c, t.p, cut + 1, &used, NULL, NULL) ==
	      NEDB_ECORRUPT);
	CHECK(c.seq == 2 && used == h.loc[2].a);
	/* a flipped byte: the hash no longer matches */
	c = (struct chain){0};
	hist_free(&h);
	t.len = 0;
	chain_of(&h, &t, 2);
	t.p[h.loc[1].a + 30] ^= 1;
	CHECK(nedb__chain_text(&c, t.p, t.len, &used, NULL, NULL) ==
	      NEDB_ECORRUPT);
	CHECK(c.seq == 1);
	nedb_buf_free(&t);
	hist_free(&h);
}

/* midstate.c's BLAKE2b, from a mid-state, gives libb2's digest for
 * every boundary of random messages of every length to 700 bytes. */
static void
test_midstate_finishes_as_libb2_does(void)
{
	unsigned char prev[HASH_LEN], want[HASH_LEN], got[HASH_LEN];
	unsigned char mid[NEDB_B2_MID];
	char body[700];
	unsigned seed = 7;
	int bad = 0;

	for (size_t i = 0; i < sizeof prev; i++)
		prev[i] = (unsigned char)(seed = seed * 1103515245 + 12345) >> 16;
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (char)((seed = seed * 1103515245 + 12345) >> 16);
	for (size_t len = 0; len < sizeof body; len += 13) {
		blake2b_state s;

		blake2b_init(&s, HASH_LEN);
		blake2b_update(&s, prev, HASH_LEN);
		blake2b_update(&s, (const uint8_t *)body, len);
		blake2b_update(&s, (const uint8_t *)"}", 1);
		blake2b_final(&s, want, HASH_LEN);
		/* every boundary with at least the "}" after it */
		for (size_t n = NEDB_B2_BLOCK; n <= HASH_LEN + len;
		     n += NEDB_B2_BLOCK) {
			nedb__b2_mid(mid, prev, body, n);
			nedb__b2_finish(got, mid, n, body + n - HASH_LEN,
					len - (n - HASH_LEN), "}", 1);
			bad += memcmp(got, want, HASH_LEN) != 0;
		}
	}
	CHECK(bad == 0);
}

/* The salts' random pool: a forked child never hands out the bytes its
 * parent will (it inherited the parent's pool, which it must refill). */
static void
test_rand_pool_differs_across_fork(void)
{
	unsigned char first[16], mine[16], theirs[16];
	int fd[2], st;
	pid_t pid;

	CHECK(nedb__rand_pool(first, sizeof first) == 0);
	CHECK(pipe(fd) == 0);
	if ((pid = fork()) == 0) {
		nedb__rand_pool(mine, sizeof mine);
		_exit(write(fd[1], mine, sizeof mine) != sizeof mine);
	}
	CHECK(pid > 0);
	CHECK(nedb__rand_pool(mine, sizeof mine) == 0);
	CHECK(read(fd[0], theirs, sizeof theirs) == sizeof theirs);
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	      WEXITSTATUS(st) == 0);
	CHECK(memcmp(mine, theirs, sizeof mine) != 0);
	CHECK(memcmp(mine, first, sizeof mine) != 0);
	close(fd[0]);
	close(fd[1]);
}

/*
 * A format-2 put line reads back the same whether its strings are plain
 * (read from the text, o.own) or need the JSON parser (escapes, bytes
 * beyond ASCII, a member that is an object): the fast path and the
 * parser must agree on every member.
 */
static void
test_parse_reads_plain_and_escaped_lines_alike(void)
{
	static const struct {
		const char *coll, *id, *client, *idem, *caused_by;
		int64_t exp;
		bool fast;
	} c[] = {
		{"users", "u1", "cli", NULL, NULL, 0, true},
		{"users", "u2", "cli", "key-1", NULL, 1700000000123, true},
		{"users", "a\"quote", "cli", NULL, NULL, 0, false},
		{"users", "caf\xc3\xa9", "cli", NULL, NULL, 0, false},
		{"c", "back\\slash", "cl\\i", "i\"d", NULL, 0, false},
		{"c", "x", "cli", NULL, "[1,2]", 0, false},
	};

	for (size_t i = 0; i < sizeof c / sizeof *c; i++) {
		char doc[128];
		struct op o = {0}, r;
		nedb_buf b = {0}, esc = {0};

		nedb_buf_json_str(&esc, c[i].id, strlen(c[i].id));
		snprintf(doc, sizeof doc, "{\"_id\":%.*s,\"n\":%zu}",
			 (int)esc.len, esc.p, i);
		o.kind = OP_PUT;
		o.format = 2;
		o.seq = 7 + i;
		o.ts = 1700000000000 + (int64_t)i;
		o.coll = c[i].coll;
		o.id = c[i].id;
		o.client = c[i].client;
		o.nonce = 40 + i;
		o.idem = c[i].idem;
		o.exp = c[i].exp;
		if (c[i].caused_by) {
			o.caused_by = c[i].caused_by;
			o.caused_by_len = strlen(c[i].caused_by);
		}
		o.doc = doc;
		o.doclen = strlen(doc);
		memset(o.dsalt, 0x5a, SALT_LEN);
		CHECK(nedb__log_format(&b, &o) == 0);
		CHECK(nedb__log_parse(b.p, b.len - 1, &r) == 0);
		CHECK((r.own != NULL) == c[i].fast);
		CHECK((r.jv_owner != NULL) == !c[i].fast);
		CHECK(r.kind == OP_PUT && r.format == 2);
		CHECK(r.seq == o.seq && r.ts == o.ts && r.nonce == o.nonce);
		CHECK(r.exp == o.exp);
		CHECK(r.coll && !strcmp(r.coll, o.coll));
		CHECK(r.id && !strcmp(r.id, o.id));
		CHECK(r.client && !strcmp(r.client, o.client));
		CHECK(!o.idem ? !r.idem : r.idem && !strcmp(r.idem, o.idem));
		CHECK(!o.caused_by ? !r.caused_by :
		      r.caused_by_len == o.caused_by_len &&
		      !memcmp(r.caused_by, o.caused_by, o.caused_by_len));
		CHECK(r.doclen == o.doclen && !memcmp(r.doc, doc, o.doclen));
		CHECK(!memcmp(r.dsalt, o.dsalt, SALT_LEN));
		nedb__op_free(&r);
		nedb_buf_free(&b);
		nedb_buf_free(&esc);
	}
}

int
main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	for (size_t i = 0; i < sizeof BACKENDS / sizeof *BACKENDS; i++) {
		be = BACKENDS[i];
		RUN(test_empty_log_has_no_tail);
		RUN(test_append_then_tail);
		RUN(test_read_at_seq_returns_the_line);
		RUN(test_walk_scans_a_range_in_order);
		RUN(test_truncate_after_a_seq);
		RUN(test_torn_tail_is_reported_not_read);
		RUN(test_lost_terminator_is_restored_only_where_asked);
		RUN(test_rotation_keeps_locators);
		RUN(test_failed_sync_is_sticky);
		RUN(test_map_holds_the_hot_log);
	}
	RUN(test_chain_accepts_a_whole_chain);
	RUN(test_chain_detects_a_broken_link);
	RUN(test_chain_detects_a_wrong_seq);
	RUN(test_chain_detects_a_torn_line);
	RUN(test_midstate_finishes_as_libb2_does);
	RUN(test_rand_pool_differs_across_fork);
	RUN(test_parse_reads_plain_and_escaped_lines_alike);
	{
		char cmd[128];

		snprintf(cmd, sizeof cmd, "rm -rf %s", root);
		if (system(cmd))
			unit_failed++;
	}
	UNIT_DONE();
}
