/*
 * fuzz_logline.c - libFuzzer target for reading log lines: the shape and
 * hash check (nedb__log_check) and, for lines that pass it, the parse
 * back into an op (nedb__log_parse).  A line the check accepts must never
 * crash the parser; a formatted op must check and parse back to itself,
 * in log format 1 and 2 (doc/redaction.md), and a format-2 line whose
 * document is erased must still check, with the same hash, and parse as
 * the marker document.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char prev[HASH_LEN], hash[HASH_LEN];
	struct op o, back;
	nedb_buf line = {0}, doc = {0};
	uint64_t seq = 0;

	if (size > 1 << 16)
		return 0;
	if (nedb__log_check((const char *)data, size, &seq, prev, hash) == 0 &&
	    nedb__log_parse((const char *)data, size, &o) == 0)
		nedb__op_free(&o);
	/* Round trip: the input as a document of a put op. */
	if (nedb__doc_normalize(&doc, (const char *)data, size) == 0) {
		memset(&o, 0, sizeof o);
		o.kind = OP_PUT;
		o.seq = 7;
		o.ts = 1;
		o.client = "c";
		o.nonce = 1;
		o.coll = "t";
		o.id = "i";
		o.doc = doc.p;
		o.doclen = doc.len;
		nedb__log_format(&line, &o);
		seq = 7;
		if (nedb__log_check(line.p, line.len - 1, &seq, prev, hash) ||
		    nedb__log_parse(line.p, line.len - 1, &back))
			abort();
		if (back.doclen != doc.len || memcmp(back.doc, doc.p, doc.len) ||
		    strcmp(back.id, "i"))
			abort();
		nedb__op_free(&back);
		/* format 2: the document at a block boundary, then erased */
		o.format = 2;
		for (int i = 0; i < SALT_LEN; i++)
			o.dsalt[i] = (uint8_t)(size + (size_t)i);
		line.len = 0;
		nedb__log_format(&line, &o);
		seq = 7;
		if (nedb__log_check(line.p, line.len - 1, &seq, prev, hash) ||
		    nedb__log_parse(line.p, line.len - 1, &back) ||
		    back.format != 2 || back.doclen != doc.len ||
		    memcmp(back.doc, doc.p, doc.len))
			abort();
		nedb__op_free(&back);
		/* erased: the same hash, read as the marker */
		seq = 7;
		if (nedb__log_erase(line.p, line.len - 1, 9, 7) ||
		    nedb__log_check(line.p, line.len - 1, &seq, prev, hash) ||
		    memcmp(hash, o.hash, HASH_LEN) ||
		    nedb__log_parse(line.p, line.len - 1, &back) ||
		    back.redacted != 9 || !back.doc ||
		    strcmp(back.doc, "{\"_id\":\"i\",\"_redacted\":{\"seq\":9}}"))
			abort();
		nedb__op_free(&back);
	}
	/*
	 * The input as the strings of a format-2 put (coll, id, client,
	 * idem), its bytes mapped to printable ASCII with quotes and
	 * backslashes among them: the line must read back the same
	 * strings, whether the reader took them from the text (plain
	 * strings) or from the JSON parser (escaped ones).
	 */
	if (size >= 4 && size <= 256) {
		static const char set[] =
			"abcXYZ019_-.:/ \"\\{}[],@~";
		char str[257], *s4[4];
		size_t q = size / 4;

		for (size_t i = 0; i < size; i++)
			str[i] = set[data[i] % (sizeof set - 1)];
		str[size] = 0;
		memset(&o, 0, sizeof o);
		for (int k = 0; k < 4; k++) {
			s4[k] = strndup(str + (size_t)k * q,
					k == 3 ? size - 3 * q : q);
			if (!s4[k])
				abort();
		}
		o.kind = OP_PUT;
		o.format = 2;
		o.seq = 3;
		o.ts = 5;
		o.coll = s4[0];
		o.id = s4[1];
		o.client = s4[2];
		o.idem = s4[3];
		o.nonce = 9;
		o.doc = "{\"v\":1}";
		o.doclen = 7;
		line.len = 0;
		if (nedb__log_format(&line, &o) ||
		    nedb__log_parse(line.p, line.len - 1, &back) ||
		    strcmp(back.coll, s4[0]) || strcmp(back.id, s4[1]) ||
		    strcmp(back.client, s4[2]) || !back.idem ||
		    strcmp(back.idem, s4[3]) || back.nonce != 9 ||
		    back.doclen != 7 || memcmp(back.doc, "{\"v\":1}", 7))
			abort();
		nedb__op_free(&back);
		for (int k = 0; k < 4; k++)
			free(s4[k]);
	}
	nedb_buf_free(&line);
	nedb_buf_free(&doc);
	return 0;
}
