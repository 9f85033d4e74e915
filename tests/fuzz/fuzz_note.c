/*
 * fuzz_note.c - libFuzzer target for the parsers of offline verification
 * (lib/proof): signed notes, tlog-checkpoint bodies, tlog-proof@v1 texts,
 * verifier keys and JSON consistency proofs, and the Merkle checks on
 * whatever they yield.
 *
 * The input is read as each format in turn; each parser must refuse it
 * (NEDB_EINPUT, with a message) or accept it, never crash or read past
 * the input.  On success:
 *  1. a note's text and signature lines lie within the input, the text
 *     ends in "\n" and the lines follow it in order;
 *  2. a checkpoint formats back to the first three lines of its text;
 *  3. a tlog-proof formats back (extra, index, hashes, checkpoint) to the
 *     bytes it was parsed from, and its checkpoint note is within them;
 *  4. a parsed path run through the inclusion and consistency checks
 *     returns 0 or NEDB_EBROKEN, nothing else.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "verify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_note(const char *s, size_t n)
{
	static struct nedb_note note;
	struct nedb_checkpoint cp;
	const char *prev;

	if (nedb__note_parse(&note, s, n)) {
		if (!*nedb_errmsg())
			abort();
		return;
	}
	if (note.text_len == 0 || note.text_len >= n ||
	    s[note.text_len - 1] != '\n' || s[note.text_len] != '\n' ||
	    note.nsigs == 0)
		abort();
	prev = s + note.text_len + 1;
	for (size_t i = 0; i < note.nsigs; i++) {
		if (note.sigs[i].line != prev ||
		    note.sigs[i].line + note.sigs[i].line_len > s + n ||
		    note.sigs[i].line[note.sigs[i].line_len - 1] != '\n')
			abort();
		prev += note.sigs[i].line_len;
	}
	if (prev != s + n)
		abort();
	if (nedb__checkpoint_parse(&cp, s, note.text_len) == 0) {
		nedb_buf b = {0};

		if (nedb__checkpoint_format(&b, cp.origin, cp.size, cp.root) ||
		    b.len > note.text_len || memcmp(b.p, s, b.len))
			abort();
		nedb_buf_free(&b);
	}
}

static void
check_paths(const nedb_thash *path, size_t n, uint64_t a, uint64_t b)
{
	int rc = nedb__tlog_check_inclusion(a, b, path[0], path[0], path, n);

	if (rc && rc != NEDB_EBROKEN)
		abort();
	rc = nedb__tlog_check_consistency(a, b, path[0], path[0], path, n);
	if (rc && rc != NEDB_EBROKEN)
		abort();
}

static void
check_tlog(const char *s, size_t n)
{
	static struct nedb_tlog_proof t;
	nedb_buf b = {0};
	size_t used;

	if (nedb__tlog_proof_parse(&t, s, n, &used))
		return;
	if (used > n || t.note < s || t.note + t.note_len > s + used)
		abort();
	if (nedb__tlog_proof_format(&b, t.has_extra ? t.extra : NULL,
				    t.extra_len, t.index, t.path, t.npath,
				    t.note, t.note_len))
		abort();
	/* what was parsed, less the empty lines between proofs; an empty
	 * "extra" is not written back */
	if (t.extra_len && (b.len > used || memcmp(b.p, s, b.len)))
		abort();
	nedb_buf_free(&b);
	if (t.npath)
		check_paths(t.path, t.npath, t.index, t.index + t.npath);
	check_note(t.note, t.note_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct nedb_cproof cp;
	struct nedb_vkey vk;
	struct nedb_skey sk;
	const char *s = (const char *)data;

	if (size > 1 << 16)
		return 0;
	check_note(s, size);
	check_tlog(s, size);
	if (nedb__vkey_parse(&vk, s, size) == 0 &&
	    !nedb__note_name_ok(vk.name, strlen(vk.name)))
		abort();
	if (nedb__skey_parse(&sk, s, size) == 0)
		nedb__wipe(&sk, sizeof sk);
	if (nedb__cproof_parse(&cp, s, size) == 0 && cp.n)
		check_paths(cp.path, cp.n, cp.old_size, cp.new_size);
	return 0;
}
