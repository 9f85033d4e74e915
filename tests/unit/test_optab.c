/*
 * test_optab.c - the op table (lib/log/optab.c): every kind has a name,
 * members, a receipt and an apply hook; every kind formats to the line
 * it always did, checks, and parses back to the same op; receipts render
 * as they always did, and NULL receipts are safe on every write path.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "unit.h"

/* The ops of the op table's tests: one or two per kind. */
#define TS 1700000000123LL
static const char DOC[] = "{\"_id\":\"x\",\"a\":[1,{\"b\":null}],\"s\":\"\\u00e9\\n\",\"n\":-1.5e3}";

static int
fixture(int i, struct op *o)
{
	memset(o, 0, sizeof *o);
	o->seq = 42;
	o->ts = TS;
	for (int b = 0; b < HASH_LEN; b++) {
		o->prev[b] = (unsigned char)(b * 7 + 1);
		o->state[b] = (unsigned char)(255 - b);
	}
	o->client = "app";
	o->nonce = 18446744073709551615ULL;
	switch (i) {
	case 0:
		o->kind = OP_GENESIS;
		o->seq = 0;
		memset(o->prev, 0, HASH_LEN);
		o->client = NULL;
		o->nonce = 0;
		break;
	case 1:	/* every member a put may carry */
		o->kind = OP_PUT;
		o->idem = "k\"1\\x";
		o->coll = "users";
		o->id = "bob \"the\" \\builder/ \xc3\xa9";
		o->exp = 1700000360000LL;
		o->caused_by = "[1,2,6]";
		o->caused_by_len = 7;
		o->evidence = "said \"so\" \\ \xc3\xbcnter";
		o->confidence = "0.75";
		o->confidence_len = 4;
		o->valid_from = "2026-01-01";
		o->valid_to = "T\"2";
		o->doc = DOC;
		o->doclen = sizeof DOC - 1;
		break;
	case 2:	/* and those it must */
		o->kind = OP_PUT;
		o->client = "local";
		o->nonce = 1;
		o->coll = "c";
		o->id = "i";
		o->doc = "{}";
		o->doclen = 2;
		break;
	case 3:
		o->kind = OP_DELETE;
		o->idem = "del1";
		o->coll = "users";
		o->id = "carol";
		break;
	case 4:
		o->kind = OP_CHECKPOINT;
		o->client = NULL;
		o->nonce = 0;
		break;
	case 5:
		o->kind = OP_LINK;
		o->from = "users:alice";
		o->rel = "likes:a-b";
		o->to = "users:bob \"x\"";
		break;
	case 6:
		o->kind = OP_UNLINK;
		o->idem = "u";
		o->from = "users:alice";
		o->rel = "knows";
		o->to = "users:dave";
		break;
	case 7:
		o->kind = OP_INDEX;
		o->coll = "users";
		o->field = "a.b";
		o->ixkind = "ordered";
		break;
	case 8:	/* of one kind */
		o->kind = OP_UNINDEX;
		o->coll = "users";
		o->field = "name";
		o->ixkind = "search";
		break;
	case 9:	/* of every kind */
		o->kind = OP_UNINDEX;
		o->coll = "users";
		o->field = "name";
		break;
	case 10:
		o->kind = OP_DROP;
		o->coll = "stream";
		break;
	case 11:
		o->kind = OP_EXPIRE;
		o->coll = "users";
		o->id = "erin";
		o->exp = 1700003600123LL;
		break;
	case 12:	/* persist: exp 0 is written */
		o->kind = OP_EXPIRE;
		o->idem = "x\"p";
		o->coll = "users";
		o->id = "erin";
		o->exp = 0;
		break;
	case 13:
		o->kind = OP_REDACT;
		o->coll = "users";
		o->id = "alice";
		o->seqs = "[3,9]";
		o->seqs_len = 5;
		o->reason = "GDPR \"art. 17\"";
		break;
	case 14:	/* log format 2: the document behind dh */
		o->kind = OP_PUT;
		o->format = 2;
		for (int b = 0; b < SALT_LEN; b++)
			o->dsalt[b] = (unsigned char)(b * 3 + 5);
		o->coll = "c";
		o->id = "i";
		o->doc = DOC;
		o->doclen = sizeof DOC - 1;
		break;
	case 15:	/* a file version (lib/file) */
		o->kind = OP_FILE;
		o->idem = "f1";
		o->name = "docs/report \"v2\".pdf";
		o->fversion = 3;
		o->fsize = 1234567;
		o->fchunks = 19;
		for (int b = 0; b < HASH_LEN; b++) {
			o->froot[b] = (unsigned char)(b * 5 + 2);
			o->fman[b] = (unsigned char)(b * 11 + 3);
		}
		break;
	case 16:	/* where they came from: a follower's ops */
		o->kind = OP_PUT;
		o->client = "redis";
		o->coll = "redis";
		o->id = "k";
		o->evidence = "shadow";
		o->repl_offset = 4711;
		o->doc = "{\"_id\":\"k\"}";
		o->doclen = 11;
		break;
	case 17:
		o->kind = OP_DELETE;
		o->client = "redis";
		o->coll = "redis";
		o->id = "k";
		o->evidence = "resync";
		o->repl_offset = 18446744073709551615ULL;
		break;
	case 18:
		o->kind = OP_EXPIRE;
		o->coll = "redis";
		o->id = "k";
		o->exp = 1700003600123LL;
		o->repl_offset = 1;
		break;
	case 19:
		o->kind = OP_DROP;
		o->coll = "redis_db2";
		o->evidence = "shadow";
		break;
	case 20:	/* a patch: the update where a put has its document */
		o->kind = OP_PATCH;
		o->format = 2;
		for (int b = 0; b < SALT_LEN; b++)
			o->dsalt[b] = (unsigned char)(b * 3 + 5);
		o->coll = "users";
		o->id = "big";
		o->base = 41;
		o->doc = "{\"$push\":{\"l\":\"\\u00e9\"},\"$inc\":{\"n\":1}}";
		o->doclen = strlen(o->doc);
		break;
	default:
		return 0;
	}
	return 1;
}

#define NFIX 21

/*
 * What the code before the op table (commit da03956, a switch per
 * place) wrote for the fixtures: the table must not change a byte.
 * (13 on: the members that say where an op came from, evidence and
 * repl_offset on ops with no document, as they were added.)
 */
static const char *const want_line[] = {
	/* 0 */ "{\"seq\":0,\"prev\":\"0000000000000000000000000000000000000000000000000000000000000000\",\"op\":\"genesis\",\"ts\":1700000000123,\"format\":1,\"hash\":\"000d50d0d4840b20b24abdbeb27941c342e15ca86dd10b5078cfda86d60f4fb1\"}",
	/* 1 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"put\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"idem\":\"k\\\"1\\\\x\",\"coll\":\"users\",\"id\":\"bob \\\"the\\\" \\\\builder/ \xc3""\xa9""\",\"exp\":1700000360000,\"caused_by\":[1,2,6],\"evidence\":\"said \\\"so\\\" \\\\ \xc3""\xbc""nter\",\"confidence\":0.75,\"valid_from\":\"2026-01-01\",\"valid_to\":\"T\\\"2\",\"doc\":{\"_id\":\"x\",\"a\":[1,{\"b\":null}],\"s\":\"\\u00e9\\n\",\"n\":-1.5e3},\"hash\":\"0a414abde6e37dba8613d00da1ed2114e1ff807bd1d991ee7c464f6b746043ed\"}",
	/* 2 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"put\",\"ts\":1700000000123,\"client\":\"local\",\"nonce\":1,\"coll\":\"c\",\"id\":\"i\",\"doc\":{},\"hash\":\"7a89fa3d0c4ecbd06dea6ffa9a75c370884a51b873db125ce34297cf07d9b8bc\"}",
	/* 3 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"delete\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"idem\":\"del1\",\"coll\":\"users\",\"id\":\"carol\",\"hash\":\"a9372ba439e37485e1a18dddec8ac09bac5c199e98ecb2c10e342998949a7c7f\"}",
	/* 4 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"checkpoint\",\"ts\":1700000000123,\"state\":\"fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0\",\"hash\":\"d2a3eab55b04a9a8df7059ca19f27deac8760ad504afbf946de2fca695c4eef6\"}",
	/* 5 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"link\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"from\":\"users:alice\",\"rel\":\"likes:a-b\",\"to\":\"users:bob \\\"x\\\"\",\"hash\":\"7cbeb73184888d886b53955969e5b9514dd95df4101082ff93f15589f1e0f4d1\"}",
	/* 6 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"unlink\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"idem\":\"u\",\"from\":\"users:alice\",\"rel\":\"knows\",\"to\":\"users:dave\",\"hash\":\"ef11b214574549fcbeac442bc517059fd36d3692c84910b8377b14b92b020551\"}",
	/* 7 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"index\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"users\",\"field\":\"a.b\",\"kind\":\"ordered\",\"hash\":\"00b7e014ab6435d7cadd124272572a062d8a3ba1ec869645d60f4fcc40ddeffb\"}",
	/* 8 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"unindex\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"users\",\"field\":\"name\",\"kind\":\"search\",\"hash\":\"56719f2623bc17ea72d9da6e364bb6495f3d5cc915b92eec5480fb75558f2814\"}",
	/* 9 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"unindex\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"users\",\"field\":\"name\",\"hash\":\"83ff4a83445da1856c9314068a3ed71f305de03ecf509a2ecd53d0a6d423a001\"}",
	/* 10 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"drop\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"stream\",\"hash\":\"5e8a041f27a2c71841a9ebd3f7485cb51380afae8394ece986e20c8eca27abdc\"}",
	/* 11 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"expire\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"users\",\"id\":\"erin\",\"exp\":1700003600123,\"hash\":\"b7841181b997f9a87de140d7f7650c4b5f286bbe6b6807f0fcf531832c908e07\"}",
	/* 12 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"expire\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"idem\":\"x\\\"p\",\"coll\":\"users\",\"id\":\"erin\",\"exp\":0,\"hash\":\"594214063fa08c393f65693b4a80fe4b415d664c599253c3ed30bc6ea76e5d4b\"}",
	/* 13 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"redact\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"users\",\"id\":\"alice\",\"seqs\":[3,9],\"reason\":\"GDPR \\\"art. 17\\\"\",\"hash\":\"1c83e66d1b83165173608e93096f1ca3263dee3fe49432748299988fe08deb4e\"}",
	/* 14, format 2: its hash checked by Python's hashlib.blake2b */
	"{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"put\",\"doc\":{\"_id\":\"x\",\"a\":[1,{\"b\":null}],\"s\":\"\\u00e9\\n\",\"n\":-1.5e3},\"ds\":\"05080b0e1114171a1d202326292c2f3200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"c\",\"id\":\"i\",\"hash\":\"cffb1a8864430c0ef83ff51c5b9fdf1c523696135d9956e5b349db52a785565a\"}",
	/* 15 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"file\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"idem\":\"f1\",\"name\":\"docs/report \\\"v2\\\".pdf\",\"version\":3,\"size\":1234567,\"chunks\":19,\"root\":\"02070c11161b20252a2f34393e43484d52575c61666b70757a7f84898e93989d\",\"manifest\":\"030e19242f3a45505b66717c87929da8b3bec9d4dfeaf5000b16212c37424d58\",\"hash\":\"b01c452c9cff7385244f044923b990db3248c20ddaceee26120028400b90b1b3\"}",
	/* 16 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"put\",\"ts\":1700000000123,\"client\":\"redis\",\"nonce\":18446744073709551615,\"coll\":\"redis\",\"id\":\"k\",\"evidence\":\"shadow\",\"repl_offset\":4711,\"doc\":{\"_id\":\"k\"},\"hash\":\"d55b7715fe271f25ca669f1ccc371e6aa0c4f90b5a6d2a73608f901fdbbc7bc0\"}",
	/* 17 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"delete\",\"ts\":1700000000123,\"client\":\"redis\",\"nonce\":18446744073709551615,\"coll\":\"redis\",\"id\":\"k\",\"evidence\":\"resync\",\"repl_offset\":18446744073709551615,\"hash\":\"d6c0d1b4bccce04b252ab29a011c5efa5923f2aceb308ba8e323b051c77beb60\"}",
	/* 18 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"expire\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"redis\",\"id\":\"k\",\"exp\":1700003600123,\"repl_offset\":1,\"hash\":\"2d192505df0798fb8afef4f0105ade6d966146805c9dd37bc4bb7260177c60c5\"}",
	/* 19 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"drop\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"redis_db2\",\"evidence\":\"shadow\",\"hash\":\"5bad34081ed7e630be8afdf92240d5c1a87c0c6fa8a72d33b77dc3ea9f159a11\"}",
	/* 20 */ "{\"seq\":42,\"prev\":\"01080f161d242b323940474e555c636a71787f868d949ba2a9b0b7bec5ccd3da\",\"op\":\"patch\",\"doc\":{\"$push\":{\"l\":\"\\u00e9\"},\"$inc\":{\"n\":1}},\"ds\":\"05080b0e1114171a1d202326292c2f3200000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\",\"ts\":1700000000123,\"client\":\"app\",\"nonce\":18446744073709551615,\"coll\":\"users\",\"id\":\"big\",\"base\":41,\"hash\":\"2bb06d940891ed9e58e6d1e39a64ce47da37bb7f71295a250ba9d9f2350f8707\"}",
};

static const char *const want_receipt[] = {
	/* 0 */ "{\"seq\":0,\"hash\":\"000d50d0d4840b20b24abdbeb27941c342e15ca86dd10b5078cfda86d60f4fb1\",\"op\":\"genesis\"}",
	/* 1 */ "{\"seq\":42,\"hash\":\"0a414abde6e37dba8613d00da1ed2114e1ff807bd1d991ee7c464f6b746043ed\",\"op\":\"put\",\"coll\":\"users\",\"id\":\"bob \\\"the\\\" \\\\builder/ \xc3""\xa9""\"}",
	/* 2 */ "{\"seq\":42,\"hash\":\"7a89fa3d0c4ecbd06dea6ffa9a75c370884a51b873db125ce34297cf07d9b8bc\",\"op\":\"put\",\"coll\":\"c\",\"id\":\"i\"}",
	/* 3 */ "{\"seq\":42,\"hash\":\"a9372ba439e37485e1a18dddec8ac09bac5c199e98ecb2c10e342998949a7c7f\",\"op\":\"delete\",\"coll\":\"users\",\"id\":\"carol\"}",
	/* 4 */ "{\"seq\":42,\"hash\":\"d2a3eab55b04a9a8df7059ca19f27deac8760ad504afbf946de2fca695c4eef6\",\"op\":\"checkpoint\",\"state\":\"fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0\"}",
	/* 5 */ "{\"seq\":42,\"hash\":\"7cbeb73184888d886b53955969e5b9514dd95df4101082ff93f15589f1e0f4d1\",\"op\":\"link\",\"from\":\"users:alice\",\"rel\":\"likes:a-b\",\"to\":\"users:bob \\\"x\\\"\"}",
	/* 6 */ "{\"seq\":42,\"hash\":\"ef11b214574549fcbeac442bc517059fd36d3692c84910b8377b14b92b020551\",\"op\":\"unlink\",\"from\":\"users:alice\",\"rel\":\"knows\",\"to\":\"users:dave\"}",
	/* 7 */ "{\"seq\":42,\"hash\":\"00b7e014ab6435d7cadd124272572a062d8a3ba1ec869645d60f4fcc40ddeffb\",\"op\":\"index\",\"coll\":\"users\",\"field\":\"a.b\",\"kind\":\"ordered\"}",
	/* 8 */ "{\"seq\":42,\"hash\":\"56719f2623bc17ea72d9da6e364bb6495f3d5cc915b92eec5480fb75558f2814\",\"op\":\"unindex\",\"coll\":\"users\",\"field\":\"name\",\"kind\":\"search\"}",
	/* 9 */ "{\"seq\":42,\"hash\":\"83ff4a83445da1856c9314068a3ed71f305de03ecf509a2ecd53d0a6d423a001\",\"op\":\"unindex\",\"coll\":\"users\",\"field\":\"name\"}",
	/* 10 */ "{\"seq\":42,\"hash\":\"5e8a041f27a2c71841a9ebd3f7485cb51380afae8394ece986e20c8eca27abdc\",\"op\":\"drop\",\"coll\":\"stream\"}",
	/* 11 */ "{\"seq\":42,\"hash\":\"b7841181b997f9a87de140d7f7650c4b5f286bbe6b6807f0fcf531832c908e07\",\"op\":\"expire\",\"coll\":\"users\",\"id\":\"erin\",\"exp\":1700003600123}",
	/* 12 */ "{\"seq\":42,\"hash\":\"594214063fa08c393f65693b4a80fe4b415d664c599253c3ed30bc6ea76e5d4b\",\"op\":\"expire\",\"coll\":\"users\",\"id\":\"erin\",\"exp\":0}",
	/* 13 */ "{\"seq\":42,\"hash\":\"1c83e66d1b83165173608e93096f1ca3263dee3fe49432748299988fe08deb4e\",\"op\":\"redact\",\"coll\":\"users\",\"id\":\"alice\"}",
	/* 14 */ "{\"seq\":42,\"hash\":\"cffb1a8864430c0ef83ff51c5b9fdf1c523696135d9956e5b349db52a785565a\",\"op\":\"put\",\"coll\":\"c\",\"id\":\"i\"}",
	/* 15 */ "{\"seq\":42,\"hash\":\"b01c452c9cff7385244f044923b990db3248c20ddaceee26120028400b90b1b3\",\"op\":\"file\",\"name\":\"docs/report \\\"v2\\\".pdf\",\"version\":3,\"root\":\"02070c11161b20252a2f34393e43484d52575c61666b70757a7f84898e93989d\"}",
	/* 16 */ "{\"seq\":42,\"hash\":\"d55b7715fe271f25ca669f1ccc371e6aa0c4f90b5a6d2a73608f901fdbbc7bc0\",\"op\":\"put\",\"coll\":\"redis\",\"id\":\"k\"}",
	/* 17 */ "{\"seq\":42,\"hash\":\"d6c0d1b4bccce04b252ab29a011c5efa5923f2aceb308ba8e323b051c77beb60\",\"op\":\"delete\",\"coll\":\"redis\",\"id\":\"k\"}",
	/* 18 */ "{\"seq\":42,\"hash\":\"2d192505df0798fb8afef4f0105ade6d966146805c9dd37bc4bb7260177c60c5\",\"op\":\"expire\",\"coll\":\"redis\",\"id\":\"k\",\"exp\":1700003600123}",
	/* 19 */ "{\"seq\":42,\"hash\":\"5bad34081ed7e630be8afdf92240d5c1a87c0c6fa8a72d33b77dc3ea9f159a11\",\"op\":\"drop\",\"coll\":\"redis_db2\"}",
	/* 20 */ "{\"seq\":42,\"hash\":\"2bb06d940891ed9e58e6d1e39a64ce47da37bb7f71295a250ba9d9f2350f8707\",\"op\":\"patch\",\"coll\":\"users\",\"id\":\"big\"}",
};

static bool
same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool
same_raw(const char *a, size_t an, const char *b, size_t bn)
{
	return (!a && !b) || (a && b && an == bn && !memcmp(a, b, an));
}

static void
test_every_kind_has_a_name_members_a_receipt_and_an_apply_hook(void)
{
	bool covered[OP__N] = {false};
	struct op o;

	for (int i = 0; fixture(i, &o); i++)
		covered[o.kind] = true;
	for (int k = 0; k < OP__N; k++) {
		const struct op_desc *d = &nedb__optab[k];
		bool client = false, rcpt = false;

		CHECK(d->name && *d->name);
		CHECK_STR(nedb__op_name((enum op_kind)k), d->name);
		CHECK(nedb__op_kind(d->name, strlen(d->name)) == k);
		CHECK(d->m && d->n > 0);
		CHECK(nedb__apply_kind[k] != NULL);
		CHECK(covered[k]);	/* a fixture below tests it */
		for (int j = 0; j < k; j++)
			CHECK(strcmp(nedb__optab[j].name, d->name));
		for (size_t i = 0; i < d->n; i++) {
			const struct op_member *m = &d->m[i];
			char key[64];

			snprintf(key, sizeof key, ",\"%s\":", m->name);
			CHECK_STR(m->key, key);
			CHECK(m->keylen == strlen(key));
			/* the document is last: the line serves it */
			CHECK(m->type != M_DOC || i == d->n - 1);
			client |= !strcmp(m->name, "client");
			if (m->flags & M_RCPT) {
				rcpt = true;
				CHECK(m->rsize > 0);
				CHECK(m->type == M_STR || m->type == M_I64 ||
				      m->type == M_HEX);
			}
		}
		CHECK(client == d->client);
		CHECK(client == OP_IS_CLIENT(k));
		if (client)
			CHECK(!strcmp(d->m[0].name, "client") &&
			      !strcmp(d->m[1].name, "nonce") &&
			      !strcmp(d->m[2].name, "idem"));
		/* every kind a client writes names what it changed */
		CHECK(rcpt == (k != OP_GENESIS));
	}
	CHECK(nedb__op_kind("puts", 4) == -1);
	CHECK(nedb__op_kind("pu", 2) == -1);
	CHECK(nedb__op_kind("put", 3) == OP_PUT);
}

static void
test_every_kind_formats_the_line_it_always_did(void)
{
	struct op o;
	int i;

	for (i = 0; fixture(i, &o); i++) {
		nedb_buf b = {0};

		CHECK(nedb__log_format(&b, &o) == 0);
		CHECK(b.len && b.p[b.len - 1] == '\n');
		b.p[--b.len] = 0;
		CHECK_STR(b.p, want_line[i]);
		CHECK(o.len == b.len);
		if (o.kind == OP_PUT)
			CHECK(o.doclen && !memcmp(b.p + o.docoff, o.doc,
						  o.doclen));
		nedb_buf_free(&b);
	}
	CHECK(i == NFIX);
}

static void
test_every_kind_round_trips(void)
{
	struct op o, back;

	for (int i = 0; fixture(i, &o); i++) {
		unsigned char prev[HASH_LEN], hash[HASH_LEN];
		nedb_buf b = {0};
		uint64_t seq = o.seq;

		CHECK(nedb__log_format(&b, &o) == 0);
		CHECK(nedb__log_check(b.p, b.len - 1, &seq, prev, hash) == 0);
		CHECK(!memcmp(prev, o.prev, HASH_LEN));
		CHECK(!memcmp(hash, o.hash, HASH_LEN));
		if (nedb__log_parse(b.p, b.len - 1, &back)) {
			fprintf(stderr, "fixture %d: %s\n", i, nedb_errmsg());
			unit_failed++;
			nedb_buf_free(&b);
			continue;
		}
		CHECK(back.kind == o.kind);
		CHECK(back.seq == o.seq);
		CHECK(back.ts == o.ts);
		CHECK(back.len == o.len);
		CHECK(same_str(back.client, o.client));
		CHECK(back.nonce == o.nonce);
		CHECK(same_str(back.idem, o.idem));
		CHECK(same_str(back.coll, o.coll));
		CHECK(same_str(back.id, o.id));
		CHECK(same_str(back.from, o.from));
		CHECK(same_str(back.rel, o.rel));
		CHECK(same_str(back.to, o.to));
		CHECK(same_str(back.field, o.field));
		CHECK(same_str(back.ixkind, o.ixkind));
		CHECK(same_str(back.evidence, o.evidence));
		CHECK(back.repl_offset == o.repl_offset);
		CHECK(same_str(back.valid_from, o.valid_from));
		CHECK(same_str(back.valid_to, o.valid_to));
		CHECK(same_raw(back.caused_by, back.caused_by_len, o.caused_by,
			       o.caused_by_len));
		CHECK(same_raw(back.confidence, back.confidence_len,
			       o.confidence, o.confidence_len));
		CHECK(back.exp == o.exp);
		CHECK(same_raw(back.doc, back.doclen, o.doc, o.doclen));
		CHECK(back.docoff == o.docoff);
		CHECK(same_raw(back.seqs, back.seqs_len, o.seqs, o.seqs_len));
		CHECK(same_str(back.reason, o.reason));
		CHECK(back.format == (o.kind == OP_GENESIS && !o.format ? 1 :
				      o.format));
		CHECK(!memcmp(back.dsalt, o.dsalt, SALT_LEN));
		CHECK(same_str(back.name, o.name));
		CHECK(back.fversion == o.fversion && back.fsize == o.fsize &&
		      back.fchunks == o.fchunks);
		CHECK(!memcmp(back.froot, o.froot, HASH_LEN) &&
		      !memcmp(back.fman, o.fman, HASH_LEN));
		if (o.kind == OP_CHECKPOINT)
			CHECK(!memcmp(back.state, o.state, HASH_LEN));
		/* and it formats again to the same line */
		memcpy(back.prev, o.prev, HASH_LEN);
		{
			nedb_buf again = {0};

			CHECK(nedb__log_format(&again, &back) == 0);
			CHECK(again.len == b.len &&
			      !memcmp(again.p, b.p, b.len));
			nedb_buf_free(&again);
		}
		nedb__op_free(&back);
		nedb_buf_free(&b);
	}
}

/*
 * A line whose member is renamed (same length, so the rest stays in
 * place) lacks it: the parse refuses a member the kind needs and takes
 * one it may lack as absent.
 */
static void
test_parse_wants_the_members_a_kind_needs(void)
{
	struct op o, back;

	for (int i = 0; fixture(i, &o); i++) {
		const struct op_desc *d = &nedb__optab[o.kind];
		nedb_buf b = {0};

		CHECK(nedb__log_format(&b, &o) == 0);
		for (size_t j = 0; j < d->n; j++) {
			const struct op_member *m = &d->m[j];
			char *at = memmem(b.p, b.len, m->key, m->keylen);
			int rc;

			if (!at || m->type == M_FORMAT)
				continue;	/* optional and absent */
			at[2] ^= 0x20;		/* "coll" -> "Coll" */
			rc = nedb__log_parse(b.p, b.len - 1, &back);
			if (m->flags & M_OPT) {
				CHECK(rc == 0);
				if (!rc)
					nedb__op_free(&back);
			} else {
				CHECK(rc == NEDB_ECORRUPT);
				CHECK(strstr(nedb_errmsg(), "lacks members"));
			}
			at[2] ^= 0x20;
		}
		nedb_buf_free(&b);
	}
	/* and a kind it does not know */
	{
		const char *l = "{\"seq\":1,\"prev\":\"00\",\"op\":\"resync\","
				"\"ts\":1,\"hash\":\"00\"}";

		CHECK(nedb__log_parse(l, strlen(l), &back) == NEDB_ECORRUPT);
		CHECK(strstr(nedb_errmsg(), "op resync lacks members"));
	}
}

static void
test_format_refuses_an_op_without_a_member_it_needs(void)
{
	nedb_buf b = {0};
	struct op o;

	fixture(3, &o);		/* a delete */
	o.id = NULL;
	CHECK(nedb__log_format(&b, &o) == NEDB_EUSAGE);
	CHECK(strstr(nedb_errmsg(), "op delete lacks member id"));
	CHECK(b.len == 0);	/* nothing left behind */
	fixture(2, &o);		/* a put */
	o.doc = NULL;
	CHECK(nedb__log_format(&b, &o) == NEDB_EUSAGE);
	CHECK(b.len == 0);
	nedb_buf_free(&b);
}

static void
test_every_kind_renders_the_receipt_it_always_did(void)
{
	nedb_receipt r;
	struct op o;

	for (int i = 0; fixture(i, &o); i++) {
		nedb_buf b = {0};

		CHECK(nedb__log_format(&b, &o) == 0);	/* fills the hash */
		b.len = 0;
		CHECK(nedb__receipt_of(&r, &o) == 0);
		CHECK(nedb_receipt_json(&b, &r, 0) == 0);
		CHECK_STR(b.p, want_receipt[i]);
		/* left open for a caller's members */
		b.len = 0;
		CHECK(nedb_receipt_json(&b, &r, NEDB_RECEIPT_OPEN) == 0);
		CHECK(b.len == strlen(want_receipt[i]) - 1 &&
		      !memcmp(b.p, want_receipt[i], b.len));
		/* a replay is the first op's receipt, as it was */
		r.replay = 1;
		b.len = 0;
		CHECK(nedb_receipt_json(&b, &r, 0) == 0);
		CHECK_STR(b.p, want_receipt[i]);
		nedb_buf_free(&b);
	}
}

static void
test_receipt_fields_and_the_exists_form(void)
{
	nedb_buf b = {0};
	nedb_receipt r;
	struct op o;

	fixture(11, &o);	/* an expire */
	nedb__log_format(&b, &o);
	CHECK(nedb__receipt_of(&r, &o) == 0);
	CHECK_STR(r.op, "expire");
	CHECK(r.seq == 42);
	CHECK(strlen(r.hash) == 64);
	CHECK_STR(r.coll, "users");
	CHECK_STR(r.id, "erin");
	CHECK(r.exp == 1700003600123LL);
	CHECK(!*r.from && !*r.rel && !*r.to && !*r.field && !*r.kind &&
	      !*r.state);
	CHECK(!r.exists && !r.replay);
	/* what a write that finds its index there answers */
	memset(&r, 0, sizeof r);
	r.op = "index";		/* not the table's pointer: the same name */
	strcpy(r.coll, "users");
	strcpy(r.field, "age");
	strcpy(r.kind, "ordered");
	r.exists = 1;
	b.len = 0;
	CHECK(nedb_receipt_json(&b, &r, 0) == 0);
	CHECK_STR(b.p, "{\"op\":\"index\",\"coll\":\"users\",\"field\":\"age\","
		  "\"kind\":\"ordered\",\"exists\":true}");
	memset(&r, 0, sizeof r);
	r.op = nedb__op_name(OP_LINK);
	strcpy(r.from, "users:alice");
	strcpy(r.rel, "knows");
	strcpy(r.to, "users:bob \"x\"");
	r.exists = 1;
	b.len = 0;
	CHECK(nedb_receipt_json(&b, &r, 0) == 0);
	CHECK_STR(b.p, "{\"op\":\"link\",\"from\":\"users:alice\",\"rel\":"
		  "\"knows\",\"to\":\"users:bob \\\"x\\\"\",\"exists\":true}");
	/* a receipt of no kind renders nothing */
	r.op = "resync";
	b.len = 0;
	CHECK(nedb_receipt_json(&b, &r, 0) == NEDB_EUSAGE);
	r.op = NULL;
	CHECK(nedb_receipt_json(&b, &r, 0) == NEDB_EUSAGE);
	CHECK(b.len == 0);
	nedb_buf_free(&b);
}

/* Only a damaged log holds an op whose strings no receipt can carry. */
static void
test_receipt_of_refuses_what_does_not_fit(void)
{
	char coll[200];
	nedb_receipt r;
	struct op o;

	memset(coll, 'c', sizeof coll - 1);
	coll[sizeof coll - 1] = 0;
	fixture(10, &o);	/* a drop */
	o.coll = coll;
	CHECK(nedb__receipt_of(&r, &o) == NEDB_ECORRUPT);
	coll[64] = 0;		/* the longest name there is */
	CHECK(nedb__receipt_of(&r, &o) == 0);
	CHECK(strlen(r.coll) == 64);
}

/* The public API: receipts filled, and NULL wherever one is taken. */
static char root[] = "/tmp/nedb-unit-optab-XXXXXX";

static int
put(nedb *db, const char *id, const char *idem, nedb_receipt *r)
{
	nedb_put p = {.coll = "c", .id = id, .doc = "{\"v\":1}", .doclen = 7,
		      .w = {.idem = idem}};

	return nedb_write_put(db, &p, r);
}

static void
test_writes_fill_receipts_and_take_null_on_every_path(void)
{
	nedb_wopts wi = {.idem = "k-link"}, wd = {.idem = "k-del"};
	nedb_receipt r, first;
	char dir[128];
	nedb *db = NULL;

	snprintf(dir, sizeof dir, "%s/db", root);
	CHECK(nedb_open(&db, dir, NEDB_OPEN_CREATE) == 0);
	if (!db)
		return;
	CHECK(nedb_write_begin(db) == 0);
	CHECK(put(db, "a", "k-put", &first) == 0);
	CHECK_STR(first.op, "put");
	CHECK(first.seq == 1 && strlen(first.hash) == 64);
	CHECK_STR(first.coll, "c");
	CHECK_STR(first.id, "a");
	CHECK(!first.exists && !first.replay);
	CHECK(put(db, "b", NULL, NULL) == 0);
	CHECK(nedb_write_link(db, "c:a", "r", "c:b", 0, &wi, NULL) == 0);
	CHECK(nedb_write_index(db, "c", "v", "eq", NULL, NULL) == 0);
	CHECK(nedb_write_expire(db, "c", "b", 1000, NULL, NULL) == 0);
	CHECK(nedb_write_delete(db, "c", "b", &wd, NULL) == 0);
	CHECK(nedb_write_checkpoint(db, NULL) == 0);
	CHECK(nedb_write_commit(db) == 0);
	CHECK(nedb_write_begin(db) == 0);
	/* idempotent retries, with and without a receipt */
	CHECK(put(db, "a", "k-put", NULL) == 0);
	CHECK(put(db, "a", "k-put", &r) == 0);
	CHECK(r.replay && !r.exists);
	CHECK(r.seq == first.seq && !strcmp(r.hash, first.hash));
	CHECK_STR(r.id, "a");
	CHECK(nedb_write_link(db, "c:a", "r", "c:b", 0, &wi, NULL) == 0);
	CHECK(nedb_write_delete(db, "c", "b", &wd, NULL) == 0);
	CHECK(nedb_write_delete(db, "c", "b", &wd, &r) == 0);
	CHECK(r.replay && !strcmp(r.op, "delete") && !strcmp(r.id, "b"));
	/* what is there already: nothing staged, with or without one */
	CHECK(nedb_write_link(db, "c:a", "r", "c:b", 0, NULL, NULL) == 0);
	CHECK(nedb_write_index(db, "c", "v", "eq", NULL, NULL) == 0);
	CHECK(nedb_write_link(db, "c:a", "r", "c:b", 0, NULL, &r) == 0);
	CHECK(r.exists && r.seq == 0 && !*r.hash && !strcmp(r.op, "link"));
	CHECK(nedb_write_index(db, "c", "v", "eq", NULL, &r) == 0);
	CHECK(r.exists && !strcmp(r.kind, "eq") && !strcmp(r.field, "v"));
	CHECK(nedb_write_pending(db) == 0);
	CHECK(nedb_write_link(db, "c:a", "r", "c:b", 1, NULL, NULL) == 0);
	CHECK(nedb_write_unindex(db, "c", "v", NULL, NULL, NULL) == 0);
	CHECK(nedb_write_drop(db, "c", NULL, NULL) == 0);
	CHECK(nedb_write_pending(db) == 3);
	CHECK(nedb_write_commit(db) == 0);
	nedb_close(db);
}

int
main(void)
{
	if (!mkdtemp(root))
		return 2;
	RUN(test_every_kind_has_a_name_members_a_receipt_and_an_apply_hook);
	RUN(test_every_kind_formats_the_line_it_always_did);
	RUN(test_every_kind_round_trips);
	RUN(test_parse_wants_the_members_a_kind_needs);
	RUN(test_format_refuses_an_op_without_a_member_it_needs);
	RUN(test_every_kind_renders_the_receipt_it_always_did);
	RUN(test_receipt_fields_and_the_exists_form);
	RUN(test_receipt_of_refuses_what_does_not_fit);
	RUN(test_writes_fill_receipts_and_take_null_on_every_path);
	{
		char cmd[256];

		snprintf(cmd, sizeof cmd, "rm -rf %s", root);
		if (system(cmd))
			unit_failed++;
	}
	UNIT_DONE();
}
