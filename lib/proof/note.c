/*
 * note.c - C2SP signed notes and their keys (the format of Go's
 * golang.org/x/mod/sumdb/note), C2SP tlog-checkpoint bodies,
 * tlog-cosignature/v1 and the tlog-proof@v1 text (SPEC §9; the formats
 * are in nedb-format(5)).
 *
 * Keys (key id = the first 4 bytes of SHA-256(name || "\n" || type ||
 * public key), big-endian, printed as 8 hex digits):
 *
 *   signer    PRIVATE+KEY+<name>+<id>+<base64(0x01 || 32-byte seed)>
 *   verifier  <name>+<id>+<base64(0x01 || 32-byte Ed25519 public key)>
 *
 * A note is UTF-8 text with no control character but "\n", ending in
 * "\n"; then an empty line; then signature lines
 * "— <name> <base64(key id || signature)>\n" (U+2014, a space).  A note
 * signature (type 0x01) is Ed25519 over the text.  A cosignature (type
 * 0x04 in its key id) is Ed25519 over "cosignature/v1\ntime <t>\n" and
 * the text, its signature field the 8-byte big-endian t then the 64
 * signature bytes.
 *
 * Invariants:
 *  1. Parsing accepts exactly what sumdb/note's Open and NewVerifier /
 *     NewSigner accept (for Ed25519), so that a note nedb takes, Go takes,
 *     and the other way round.
 *  2. A key's id is recomputed from its name and public key whenever a
 *     key is parsed; a key whose id does not match is refused.
 *  3. Seeds are wiped from every buffer here that held one.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "verify.h"

#define EMDASH "\xe2\x80\x94"		/* U+2014 */
#define SIG_PREFIX EMDASH " "
#define SIG_PREFIX_LEN 4

/* Unicode's White_Space, as Go's unicode.IsSpace for a name. */
static bool
is_space(uint32_t c)
{
	switch (c) {
	case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
	case 0x85: case 0xa0: case 0x1680: case 0x2028: case 0x2029:
	case 0x202f: case 0x205f: case 0x3000:
		return true;
	}
	return c >= 0x2000 && c <= 0x200a;
}

/* Decodes the UTF-8 character at s (valid UTF-8 assumed): its length. */
static size_t
utf8_next(const unsigned char *s, uint32_t *c)
{
	if (s[0] < 0x80) {
		*c = s[0];
		return 1;
	}
	if (s[0] < 0xe0) {
		*c = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		return 2;
	}
	if (s[0] < 0xf0) {
		*c = (uint32_t)(s[0] & 0x0f) << 12 |
		     (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		return 3;
	}
	*c = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
	     (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	return 4;
}

bool
nedb__note_name_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	uint32_t c;

	if (n == 0 || n > NEDB_NOTE_MAX_NAME || !nedb__utf8_valid(u, n))
		return false;
	for (size_t i = 0; i < n;) {
		i += utf8_next(u + i, &c);
		if (c == '+' || is_space(c))
			return false;
	}
	return true;
}

int
nedb__note_keyhash(uint32_t *out, const char *name, unsigned char type,
		   const unsigned char pub[32])
{
	nedb_sha256 h;
	unsigned char d[NEDB_SHA256_LEN];
	int rc;

	if ((rc = nedb__sha256_init(&h)))
		return rc;
	nedb__sha256_update(&h, name, strlen(name));
	nedb__sha256_update(&h, "\n", 1);
	nedb__sha256_update(&h, &type, 1);
	nedb__sha256_update(&h, pub, 32);
	nedb__sha256_final(&h, d);
	*out = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
	       (uint32_t)d[2] << 8 | d[3];
	return 0;
}

/* 8 hex digits (either case, as Go's ParseUint) into *out. */
static bool
parse_hex8(uint32_t *out, const char *s, size_t n)
{
	uint32_t v = 0;

	if (n != 8)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		v = v << 4 | d;
	}
	*out = v;
	return true;
}

/* The length of s[0, n) without trailing white space (a key file's
 * newline). */
static size_t
trim_end(const char *s, size_t n)
{
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
		     s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	return n;
}

/*
 * "<name>+<hex8>+<base64(type || key32)>" at s[0, n): name, hash, type
 * and the 32 key bytes (a public key or a seed).  what names the kind of
 * key in messages; the key's bytes are never quoted.
 */
static int
parse_key(char name[NEDB_NOTE_MAX_NAME + 1], uint32_t *hash,
	  unsigned char *type, unsigned char key[32], const char *s,
	  size_t n, const char *what)
{
	const char *p1 = memchr(s, '+', n), *p2;
	unsigned char raw[48];
	size_t got, b64len;

	if (!p1 || !(p2 = memchr(p1 + 1, '+', (size_t)(s + n - p1 - 1))))
		return nedb__err(NEDB_EINPUT, "malformed %s: want "
				 "NAME+HASH+KEY", what);
	if (!nedb__note_name_ok(s, (size_t)(p1 - s)))
		return nedb__err(NEDB_EINPUT, "malformed %s: bad name", what);
	if (!parse_hex8(hash, p1 + 1, (size_t)(p2 - p1 - 1)))
		return nedb__err(NEDB_EINPUT, "malformed %s: key hash is not "
				 "8 hex digits", what);
	b64len = (size_t)(s + n - p2 - 1);
	if (b64len == 0 || b64len > 4 * (sizeof raw / 3) ||
	    nedb__b64_decode(raw, p2 + 1, b64len, &got))
		return nedb__err(NEDB_EINPUT, "malformed %s: key is not "
				 "base64", what);
	if (got != 33) {
		nedb__wipe(raw, sizeof raw);
		return nedb__err(NEDB_EINPUT, "malformed %s: want a type byte "
				 "and 32 key bytes, not %zu bytes", what, got);
	}
	memcpy(name, s, (size_t)(p1 - s));
	name[p1 - s] = 0;
	*type = raw[0];
	memcpy(key, raw + 1, 32);
	nedb__wipe(raw, sizeof raw);
	return 0;
}

int
nedb__vkey_parse(struct nedb_vkey *out, const char *s, size_t n)
{
	uint32_t h;
	int rc;

	n = trim_end(s, n);
	if ((rc = parse_key(out->name, &out->hash, &out->type, out->pub, s, n,
			    "verifier key")))
		return rc;
	if (out->type != NEDB_NOTE_ED25519 && out->type != NEDB_NOTE_COSIG)
		return nedb__err(NEDB_EINPUT, "verifier key '%s': unknown "
				 "algorithm %u", out->name, out->type);
	if ((rc = nedb__note_keyhash(&h, out->name, out->type, out->pub)))
		return rc;
	if (h != out->hash)
		return nedb__err(NEDB_EINPUT, "verifier key '%s': hash %08x "
				 "is not the key's (%08x)", out->name,
				 out->hash, h);
	return 0;
}

int
nedb__skey_parse(struct nedb_skey *out, const char *s, size_t n)
{
	static const char pre[] = "PRIVATE+KEY+";
	unsigned char type;
	uint32_t h;
	int rc;

	n = trim_end(s, n);
	if (n < sizeof pre - 1 || memcmp(s, pre, sizeof pre - 1))
		return nedb__err(NEDB_EINPUT, "malformed signer key: want "
				 "PRIVATE+KEY+NAME+HASH+KEY");
	s += sizeof pre - 1;
	n -= sizeof pre - 1;
	if ((rc = parse_key(out->name, &out->hash, &type, out->seed, s, n,
			    "signer key")))
		goto fail;
	if (type != NEDB_NOTE_ED25519) {
		rc = nedb__err(NEDB_EINPUT, "signer key '%s': unknown "
			       "algorithm %u", out->name, type);
		goto fail;
	}
	if ((rc = nedb__ed25519_public(out->pub, out->seed)) ||
	    (rc = nedb__note_keyhash(&h, out->name, type, out->pub)))
		goto fail;
	if (h != out->hash) {
		rc = nedb__err(NEDB_EINPUT, "signer key '%s': hash %08x is "
			       "not the key's (%08x)", out->name, out->hash,
			       h);
		goto fail;
	}
	return 0;
fail:
	nedb__wipe(out->seed, sizeof out->seed);
	return rc;
}

/* "<prefix><name>+<hash>+<base64(type || key)>" into a new string. */
static char *
format_key(const char *prefix, const char *name, uint32_t hash,
	   unsigned char type, const unsigned char key[32])
{
	unsigned char raw[33];
	char b64[NEDB_B64_LEN(33) + 1];
	size_t n;
	nedb_buf b = {0};

	raw[0] = type;
	memcpy(raw + 1, key, 32);
	if (nedb__b64_encode(b64, raw, sizeof raw, &n)) {
		nedb__wipe(raw, sizeof raw);
		return NULL;
	}
	nedb_buf_printf(&b, "%s%s+%08x+%s", prefix, name, hash, b64);
	nedb__wipe(raw, sizeof raw);
	nedb__wipe(b64, sizeof b64);
	return b.p;
}

int
nedb__note_keygen(const char *name, char **skey, char **vkey)
{
	unsigned char seed[32], pub[32];
	uint32_t h;
	int rc;

	*skey = *vkey = NULL;
	if (!nedb__note_name_ok(name, strlen(name)))
		return nedb__err(NEDB_EUSAGE, "bad key name '%s': want 1-%d "
				 "bytes of UTF-8 without white space or '+'",
				 name, NEDB_NOTE_MAX_NAME);
	if ((rc = nedb__rand(seed, sizeof seed)) ||
	    (rc = nedb__ed25519_public(pub, seed)) ||
	    (rc = nedb__note_keyhash(&h, name, NEDB_NOTE_ED25519, pub)))
		goto done;
	*skey = format_key("PRIVATE+KEY+", name, h, NEDB_NOTE_ED25519, seed);
	*vkey = format_key("", name, h, NEDB_NOTE_ED25519, pub);
	if (!*skey || !*vkey) {
		if (*skey)
			nedb__wipe(*skey, strlen(*skey));
		free(*skey);
		free(*vkey);
		*skey = *vkey = NULL;
		rc = nedb__err(NEDB_EIO, "cannot encode a key");
	}
done:
	nedb__wipe(seed, sizeof seed);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Notes                                                              */

static const char *
memmem_last(const char *s, size_t n, const char *pat, size_t m)
{
	if (n < m)
		return NULL;
	for (size_t i = n - m + 1; i-- > 0;)
		if (!memcmp(s + i, pat, m))
			return s + i;
	return NULL;
}

int
nedb__note_parse(struct nedb_note *out, const char *msg, size_t len)
{
	const char *split, *p, *end = msg + len;

	out->msg = msg;
	out->len = len;
	out->nsigs = 0;
	if (!nedb__utf8_valid((const unsigned char *)msg, len))
		return nedb__err(NEDB_EINPUT, "malformed note: not UTF-8");
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)msg[i] < 0x20 && msg[i] != '\n')
			return nedb__err(NEDB_EINPUT, "malformed note: control "
					 "character at byte %zu", i);
	if (!(split = memmem_last(msg, len, "\n\n", 2)))
		return nedb__err(NEDB_EINPUT, "malformed note: no empty line "
				 "before the signatures");
	out->text_len = (size_t)(split - msg) + 1;
	p = split + 2;
	if (p == end || end[-1] != '\n')
		return nedb__err(NEDB_EINPUT, "malformed note: no signature "
				 "lines, or the last does not end in a "
				 "newline");
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *name, *sp, *b64;
		struct nedb_note_sig *s;
		unsigned char *raw;
		size_t b64len, got;

		if (out->nsigs == NEDB_NOTE_MAX_SIGS)
			return nedb__err(NEDB_EINPUT, "malformed note: more "
					 "than %d signatures",
					 NEDB_NOTE_MAX_SIGS);
		if ((size_t)(nl - p) < SIG_PREFIX_LEN ||
		    memcmp(p, SIG_PREFIX, SIG_PREFIX_LEN))
			return nedb__err(NEDB_EINPUT, "malformed note: a "
					 "signature line does not start with "
					 "'" SIG_PREFIX "'");
		name = p + SIG_PREFIX_LEN;
		sp = memchr(name, ' ', (size_t)(nl - name));
		b64 = sp ? sp + 1 : nl;
		b64len = (size_t)(nl - b64);
		if (!sp || !nedb__note_name_ok(name, (size_t)(sp - name)) ||
		    b64len == 0)
			return nedb__err(NEDB_EINPUT, "malformed note: bad "
					 "signature line");
		raw = nedb__malloc(b64len);
		if (nedb__b64_decode(raw, b64, b64len, &got) || got < 5) {
			free(raw);
			return nedb__err(NEDB_EINPUT, "malformed note: bad "
					 "signature line");
		}
		s = &out->sigs[out->nsigs++];
		s->name = name;
		s->name_len = (size_t)(sp - name);
		s->hash = (uint32_t)raw[0] << 24 | (uint32_t)raw[1] << 16 |
			  (uint32_t)raw[2] << 8 | raw[3];
		/* longer signatures (other algorithms) are kept as unknown:
		 * no key here matches them */
		s->sig_len = got - 4 <= sizeof s->sig ? got - 4 : 0;
		memcpy(s->sig, raw + 4, s->sig_len);
		free(raw);
		s->line = p;
		s->line_len = (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	return 0;
}

int
nedb__note_check(const struct nedb_note *n, const struct nedb_vkey *k,
		 uint64_t *ts)
{
	size_t klen = strlen(k->name);

	for (size_t i = 0; i < n->nsigs; i++) {
		const struct nedb_note_sig *s = &n->sigs[i];
		nedb_buf m = {0};
		uint64_t t;
		int rc;

		if (s->hash != k->hash || s->name_len != klen ||
		    memcmp(s->name, k->name, klen))
			continue;
		/* the first line of a key is the one checked, as in Go */
		if (k->type == NEDB_NOTE_ED25519) {
			if (s->sig_len != NEDB_ED25519_SIG)
				goto bad;
			rc = nedb__ed25519_verify(k->pub, n->msg, n->text_len,
						  s->sig);
		} else {
			if (s->sig_len != 8 + NEDB_ED25519_SIG)
				goto bad;
			t = nedb__get_be64(s->sig);
			if (t > INT64_MAX)
				goto bad;
			nedb_buf_puts(&m, "cosignature/v1\ntime ");
			nedb__buf_u64(&m, t);
			nedb_buf_puts(&m, "\n");
			nedb_buf_add(&m, n->msg, n->text_len);
			rc = nedb__ed25519_verify(k->pub, m.p, m.len,
						  s->sig + 8);
			nedb_buf_free(&m);
			if (!rc && ts)
				*ts = t;
		}
		if (rc == NEDB_EBROKEN)
			goto bad;
		return rc;
bad:
		return nedb__err(NEDB_EBROKEN, "invalid signature for key "
				 "%s+%08x", k->name, k->hash);
	}
	return nedb__err(NEDB_ENOTFOUND, "no signature for key %s+%08x",
			 k->name, k->hash);
}

/* Appends "— name base64(hash || sig)\n". */
static int
sig_line(nedb_buf *out, const char *name, uint32_t hash,
	 const unsigned char *sig, size_t n)
{
	unsigned char raw[4 + 8 + NEDB_ED25519_SIG];
	char b64[NEDB_B64_LEN(sizeof raw) + 1];
	size_t len;
	int rc;

	raw[0] = (unsigned char)(hash >> 24);
	raw[1] = (unsigned char)(hash >> 16);
	raw[2] = (unsigned char)(hash >> 8);
	raw[3] = (unsigned char)hash;
	memcpy(raw + 4, sig, n);
	if ((rc = nedb__b64_encode(b64, raw, 4 + n, &len)))
		return rc;
	nedb_buf_puts(out, SIG_PREFIX);
	nedb_buf_puts(out, name);
	nedb_buf_puts(out, " ");
	nedb_buf_add(out, b64, len);
	nedb_buf_puts(out, "\n");
	return 0;
}

int
nedb__note_sign_line(nedb_buf *out, const struct nedb_skey *k,
		     const char *text, size_t len)
{
	unsigned char sig[NEDB_ED25519_SIG];
	int rc;

	if (!len || text[len - 1] != '\n')
		return nedb__err(NEDB_EINPUT, "note text must end in a "
				 "newline");
	if ((rc = nedb__ed25519_sign(sig, k->seed, text, len)))
		return rc;
	return sig_line(out, k->name, k->hash, sig, sizeof sig);
}

int
nedb__note_cosign_line(nedb_buf *out, const struct nedb_skey *k,
		       const char *body, size_t len, uint64_t ts)
{
	unsigned char sig[8 + NEDB_ED25519_SIG];
	nedb_buf m = {0};
	uint32_t h;
	int rc;

	if (ts > INT64_MAX)
		return nedb__err(NEDB_EUSAGE, "cosignature time out of range");
	if ((rc = nedb__note_keyhash(&h, k->name, NEDB_NOTE_COSIG, k->pub)))
		return rc;
	nedb_buf_puts(&m, "cosignature/v1\ntime ");
	nedb__buf_u64(&m, ts);
	nedb_buf_puts(&m, "\n");
	nedb_buf_add(&m, body, len);
	nedb__put_be64(sig, ts);
	rc = nedb__ed25519_sign(sig + 8, k->seed, m.p, m.len);
	nedb_buf_free(&m);
	if (rc)
		return rc;
	return sig_line(out, k->name, h, sig, sizeof sig);
}

/* ------------------------------------------------------------------ */
/* Checkpoints                                                        */

/* A decimal with no leading zero ("0" alone), fitting 64 bits. */
static bool
parse_dec(uint64_t *out, const char *s, size_t n)
{
	uint64_t v = 0;

	if (n == 0 || n > 20 || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* The line at *p (before end), without its "\n"; false when there is no
 * "\n" before end.  Advances *p past it. */
static bool
next_line(const char **p, const char *end, const char **line, size_t *n)
{
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));

	if (!nl)
		return false;
	*line = *p;
	*n = (size_t)(nl - *p);
	*p = nl + 1;
	return true;
}

/* A base64 line of exactly one 32-byte hash. */
static bool
parse_b64_hash(nedb_thash out, const char *s, size_t n)
{
	unsigned char raw[33];
	size_t got;

	return n == NEDB_B64_LEN(NEDB_TLOG_HASH) &&
	       !nedb__b64_decode(raw, s, n, &got) && got == NEDB_TLOG_HASH &&
	       (memcpy(out, raw, NEDB_TLOG_HASH), true);
}

int
nedb__checkpoint_parse(struct nedb_checkpoint *out, const char *text,
		       size_t len)
{
	const char *p = text, *end = text + len, *l;
	size_t n;

	if (!next_line(&p, end, &l, &n) || n == 0 ||
	    n > NEDB_NOTE_MAX_NAME)
		return nedb__err(NEDB_EINPUT, "malformed checkpoint: bad "
				 "origin line");
	memcpy(out->origin, l, n);
	out->origin[n] = 0;
	if (!next_line(&p, end, &l, &n) || !parse_dec(&out->size, l, n))
		return nedb__err(NEDB_EINPUT, "malformed checkpoint: bad size "
				 "line");
	if (!next_line(&p, end, &l, &n) || !parse_b64_hash(out->root, l, n))
		return nedb__err(NEDB_EINPUT, "malformed checkpoint: bad root "
				 "hash line");
	while (p < end)
		if (!next_line(&p, end, &l, &n) || n == 0)
			return nedb__err(NEDB_EINPUT, "malformed checkpoint: "
					 "bad extension line");
	return 0;
}

int
nedb__checkpoint_format(nedb_buf *out, const char *origin, uint64_t size,
			const nedb_thash root)
{
	char b64[NEDB_B64_LEN(NEDB_TLOG_HASH) + 1];
	size_t n;
	int rc;

	if (!*origin || strchr(origin, '\n'))
		return nedb__err(NEDB_EUSAGE, "bad checkpoint origin '%s'",
				 origin);
	if ((rc = nedb__b64_encode(b64, root, NEDB_TLOG_HASH, &n)))
		return rc;
	nedb_buf_puts(out, origin);
	nedb_buf_puts(out, "\n");
	nedb__buf_u64(out, size);
	nedb_buf_puts(out, "\n");
	nedb_buf_add(out, b64, n);
	nedb_buf_puts(out, "\n");
	return 0;
}

/* ------------------------------------------------------------------ */
/* tlog-proof@v1                                                      */

#define TP_BAD(what) nedb__err(NEDB_EINPUT, "malformed tlog-proof: " what)

int
nedb__tlog_proof_parse(struct nedb_tlog_proof *out, const char *text,
		       size_t len, size_t *used)
{
	const char *p = text, *end = text + len, *l;
	size_t n, got;

	out->has_extra = false;
	out->extra_len = 0;
	out->npath = 0;
	if (!next_line(&p, end, &l, &n) ||
	    n != sizeof NEDB_TLOG_PROOF_HEADER - 1 ||
	    memcmp(l, NEDB_TLOG_PROOF_HEADER, n))
		return TP_BAD("first line is not '" NEDB_TLOG_PROOF_HEADER "'");
	if (!next_line(&p, end, &l, &n))
		return TP_BAD("no index line");
	if (n >= 6 && !memcmp(l, "extra ", 6)) {
		unsigned char raw[NEDB_B64_LEN(sizeof out->extra)];

		if (n - 6 > sizeof raw || n == 6 ||
		    nedb__b64_decode(raw, l + 6, n - 6, &got) ||
		    got > sizeof out->extra)
			return TP_BAD("bad extra line");
		memcpy(out->extra, raw, got);
		out->extra_len = got;
		out->has_extra = true;
		if (!next_line(&p, end, &l, &n))
			return TP_BAD("no index line");
	}
	if (n < 7 || memcmp(l, "index ", 6) ||
	    !parse_dec(&out->index, l + 6, n - 6))
		return TP_BAD("bad index line");
	for (;;) {
		if (!next_line(&p, end, &l, &n))
			return TP_BAD("no empty line before the checkpoint");
		if (n == 0)
			break;
		if (out->npath == NEDB_TLOG_MAX_PATH)
			return TP_BAD("too many hashes");
		if (!parse_b64_hash(out->path[out->npath++], l, n))
			return TP_BAD("bad hash line");
	}
	/* the checkpoint: body lines, an empty line, signature lines */
	out->note = p;
	do {
		if (!next_line(&p, end, &l, &n))
			return TP_BAD("checkpoint without signatures");
	} while (n);
	if (p == end || (size_t)(end - p) < SIG_PREFIX_LEN ||
	    memcmp(p, SIG_PREFIX, SIG_PREFIX_LEN))
		return TP_BAD("checkpoint without signatures");
	while (p < end && (size_t)(end - p) >= SIG_PREFIX_LEN &&
	       !memcmp(p, SIG_PREFIX, SIG_PREFIX_LEN))
		if (!next_line(&p, end, &l, &n))
			return TP_BAD("last line does not end in a newline");
	out->note_len = (size_t)(p - out->note);
	/* empty lines between proofs */
	while (p < end && *p == '\n')
		p++;
	*used = (size_t)(p - text);
	return 0;
}

int
nedb__tlog_proof_format(nedb_buf *out, const void *extra, size_t extra_len,
			uint64_t index, const nedb_thash *path, size_t n,
			const char *note, size_t note_len)
{
	char b64[NEDB_B64_LEN(64) + 1];
	size_t len;
	int rc;

	if (extra_len > 64)
		return nedb__err(NEDB_EUSAGE, "extra data over 64 bytes");
	nedb_buf_puts(out, NEDB_TLOG_PROOF_HEADER "\n");
	if (extra && extra_len) {
		if ((rc = nedb__b64_encode(b64, extra, extra_len, &len)))
			return rc;
		nedb_buf_puts(out, "extra ");
		nedb_buf_add(out, b64, len);
		nedb_buf_puts(out, "\n");
	}
	nedb_buf_puts(out, "index ");
	nedb__buf_u64(out, index);
	nedb_buf_puts(out, "\n");
	for (size_t i = 0; i < n; i++) {
		if ((rc = nedb__b64_encode(b64, path[i], NEDB_TLOG_HASH,
					   &len)))
			return rc;
		nedb_buf_add(out, b64, len);
		nedb_buf_puts(out, "\n");
	}
	nedb_buf_puts(out, "\n");
	nedb_buf_add(out, note, note_len);
	return 0;
}

int
nedb_signer_new(const char *name, char **skey, char **vkey)
{
	return nedb__note_keygen(name, skey, vkey);
}
