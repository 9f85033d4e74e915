/*
 * verify.h - offline verification in the transparency-log formats (SPEC
 * §9): RFC 6962 / RFC 9162 §2.1 Merkle proofs, C2SP signed notes and
 * their keys (as Go's golang.org/x/mod/sumdb/note), C2SP tlog-checkpoint
 * bodies, tlog-cosignature/v1 cosignatures and the tlog-proof@v1 text.
 * Internal to libnedb; nedb.h exports what the commands use.
 *
 * Nothing here needs a database.  Hashing is SHA-256 through crypt.h
 * (libcrypto's low-level calls), signatures Ed25519 through crypt.h.
 *
 * Errors: 0, NEDB_EBROKEN for "checked, and it does not hold" (a proof
 * that leads elsewhere, a signature that does not verify), NEDB_EINPUT
 * for text that is not of the format (malformed), NEDB_EIO when
 * libcrypto cannot be loaded; each with nedb_errmsg set unless said.
 */
#ifndef NEDB_PROOF_VERIFY_H
#define NEDB_PROOF_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "nedb.h"

#define NEDB_TLOG_HASH 32		/* SHA-256 */
/* The deepest path a proof of a tree of at most 2^64 - 1 leaves has
 * (inclusion); a consistency proof may have one more hash than that. */
#define NEDB_TLOG_MAX_PATH 65

typedef unsigned char nedb_thash[NEDB_TLOG_HASH];

/* --- verify.c: RFC 6962 hashes and proofs --- */

/* SHA-256(0x00 || data[0, n)): the leaf hash of an entry (for nedb, data
 * is the 32 bytes of an op hash: Go's tlog.RecordHash). */
int nedb__tlog_leaf(nedb_thash out, const void *data, size_t n);
/* SHA-256(0x01 || l || r). */
void nedb__tlog_node(nedb_thash out, const nedb_thash l, const nedb_thash r);

/*
 * RFC 9162 §2.1.3.2: 0 when path proves the leaf hash `leaf` is entry
 * `index` of the tree of `size` leaves whose root is `root`; NEDB_EBROKEN
 * (message) when it does not (an index not below size too).
 */
int nedb__tlog_check_inclusion(uint64_t index, uint64_t size,
			       const nedb_thash leaf, const nedb_thash root,
			       const nedb_thash *path, size_t n);
/*
 * RFC 9162 §2.1.4.2: 0 when path proves that the tree of old_size leaves
 * with root old_root is a prefix of the tree of new_size leaves with root
 * new_root; NEDB_EBROKEN (message) when it does not.  Equal sizes need an
 * empty path and equal roots; an old size of 0 an empty path (every tree
 * extends the empty one).
 */
int nedb__tlog_check_consistency(uint64_t old_size, uint64_t new_size,
				 const nedb_thash old_root,
				 const nedb_thash new_root,
				 const nedb_thash *path, size_t n);

/* A consistency proof as nedb-proof consistency prints it (JSON). */
struct nedb_cproof {
	uint64_t old_size, new_size;
	nedb_thash old_root, new_root;
	nedb_thash path[NEDB_TLOG_MAX_PATH];
	size_t n;
};
/* Parses one such JSON object: NEDB_EINPUT when malformed. */
int nedb__cproof_parse(struct nedb_cproof *out, const char *text,
		       size_t len);

/* --- note.c: keys, signed notes, checkpoints --- */

/* Signature types: the byte before a key in a vkey, hashed into key ids. */
#define NEDB_NOTE_ED25519 0x01		/* signed-note Ed25519 */
#define NEDB_NOTE_COSIG 0x04		/* tlog-cosignature/v1 Ed25519 */
#define NEDB_NOTE_MAX_NAME 256
#define NEDB_NOTE_MAX_SIGS 100		/* as sumdb/note */

/* A verifier key, parsed: name, key id (big-endian uint32 of the vkey's
 * hex), type byte and Ed25519 public key. */
struct nedb_vkey {
	char name[NEDB_NOTE_MAX_NAME + 1];
	uint32_t hash;
	unsigned char type;
	unsigned char pub[32];
};

/* A signer key, parsed (seed wiped by the caller: nedb__wipe). */
struct nedb_skey {
	char name[NEDB_NOTE_MAX_NAME + 1];
	uint32_t hash;
	unsigned char seed[32];
	unsigned char pub[32];
};

/* sumdb/note's key name rule: non-empty UTF-8, no white space, no '+'. */
bool nedb__note_name_ok(const char *s, size_t n);
/* SHA-256(name || "\n" || type || pub)[:4], big-endian. */
int nedb__note_keyhash(uint32_t *out, const char *name, unsigned char type,
		       const unsigned char pub[32]);

/*
 * Parses "<name>+<hash hex8>+<base64(type || pub32)>" (trailing white
 * space ignored).  Type 0x01 (Ed25519 note) or 0x04 (cosignature); the
 * hash must be the key's.  NEDB_EINPUT naming what is wrong.
 */
int nedb__vkey_parse(struct nedb_vkey *out, const char *s, size_t n);
/* Parses "PRIVATE+KEY+<name>+<hash hex8>+<base64(0x01 || seed32)>"
 * (trailing white space ignored), deriving pub and checking the hash.
 * NEDB_EINPUT never quoting the key. */
int nedb__skey_parse(struct nedb_skey *out, const char *s, size_t n);
/* A new Ed25519 key named name: signer and verifier key texts (caller
 * frees; the caller wipes skey before freeing it). */
int nedb__note_keygen(const char *name, char **skey, char **vkey);

/* One signature line of a note, pointing into the note's text. */
struct nedb_note_sig {
	const char *name;
	size_t name_len;
	uint32_t hash;
	unsigned char sig[128];		/* key id stripped */
	size_t sig_len;
	const char *line;		/* the whole line with its "\n" */
	size_t line_len;
};

/* A parsed note: text is msg[0, text_len) (ends in "\n"), then "\n",
 * then the signature lines. */
struct nedb_note {
	const char *msg;
	size_t len, text_len;
	struct nedb_note_sig sigs[NEDB_NOTE_MAX_SIGS];
	size_t nsigs;
};

/*
 * Parses a signed note as sumdb/note's Open does (valid UTF-8, no control
 * character but "\n", the text up to the last blank line, then one or
 * more "— <name> <base64(keyid4 || sig)>\n" lines, at most 100).
 * Borrows msg.  NEDB_EINPUT when malformed.
 */
int nedb__note_parse(struct nedb_note *out, const char *msg, size_t len);

/*
 * Checks the signature lines of n made by key k: for type 0x01 a note
 * signature of the text, for 0x04 a tlog-cosignature/v1 (the timestamp
 * in *ts if ts is not NULL).  0 when one line matches k's name and key id
 * and verifies; NEDB_ENOTFOUND (message) when no line is k's;
 * NEDB_EBROKEN (message) when k's line does not verify.
 */
int nedb__note_check(const struct nedb_note *n, const struct nedb_vkey *k,
		     uint64_t *ts);

/* The signature line of text (ending in "\n") by k: "— name b64\n". */
int nedb__note_sign_line(nedb_buf *out, const struct nedb_skey *k,
			 const char *text, size_t len);
/* The cosignature/v1 line of a checkpoint body by k at time ts. */
int nedb__note_cosign_line(nedb_buf *out, const struct nedb_skey *k,
			   const char *body, size_t len, uint64_t ts);

/* A C2SP tlog-checkpoint body: origin, size, root (extension lines are
 * kept in the text, not parsed). */
struct nedb_checkpoint {
	char origin[NEDB_NOTE_MAX_NAME + 1];
	uint64_t size;
	nedb_thash root;
};
/* Parses a checkpoint body (a note's text). NEDB_EINPUT when malformed. */
int nedb__checkpoint_parse(struct nedb_checkpoint *out, const char *text,
			   size_t len);
/* Appends "<origin>\n<size>\n<base64 root>\n". */
int nedb__checkpoint_format(nedb_buf *out, const char *origin,
			    uint64_t size, const nedb_thash root);

/* --- note.c: C2SP tlog-proof@v1 --- */

#define NEDB_TLOG_PROOF_HEADER "c2sp.org/tlog-proof@v1"

struct nedb_tlog_proof {
	uint64_t index;
	bool has_extra;
	unsigned char extra[64];	/* nedb: the op hash, 32 bytes */
	size_t extra_len;
	nedb_thash path[NEDB_TLOG_MAX_PATH];
	size_t npath;
	const char *note;		/* the checkpoint note, borrowed */
	size_t note_len;
};
/*
 * Parses one tlog-proof@v1 from text[0, len): header, optional "extra",
 * "index", hashes, empty line, then a checkpoint note (its body, an empty
 * line and its signature lines).  *used is how many bytes it took (the
 * next proof may follow).  NEDB_EINPUT when malformed.
 */
int nedb__tlog_proof_parse(struct nedb_tlog_proof *out, const char *text,
			   size_t len, size_t *used);
/* Appends a tlog-proof@v1: extra (may be NULL), index, path, then
 * note[0, note_len) verbatim (a signed checkpoint). */
int nedb__tlog_proof_format(nedb_buf *out, const void *extra,
			    size_t extra_len, uint64_t index,
			    const nedb_thash *path, size_t n,
			    const char *note, size_t note_len);

#endif
