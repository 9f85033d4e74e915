/*
 * nedb-update - change the documents a filter matches with MongoDB-style
 * update operators; each change is an ordinary put op.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "cli.h"

static const char usage[] =
"usage: nedb-update [options] COLL FILTER UPDATE\n"
"\n"
"Applies UPDATE ($set $unset $inc $push $pull, dotted paths; or a plain\n"
"object that replaces the document) to the first document FILTER matches\n"
"(in _id order), or to all of them with --many; prints a receipt per\n"
"changed document.  Exits 1 when nothing matches.\n"
"\n"
"Options:\n"
"      --many            update every matching document\n"
"      --upsert          insert a document when nothing matches: the\n"
"                        filter's equality members changed by the\n"
"                        operators (a replacement keeps only the\n"
"                        filter's _id)\n"
"      --client C        client id for replay protection (default local)\n"
"      --nonce N         the client's first nonce\n"
"  -q, --quiet           print no receipts\n";

enum { OPT_MANY = OPT_CMD, OPT_UPSERT };

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{"many", no_argument, 0, OPT_MANY},
	{"upsert", no_argument, 0, OPT_UPSERT},
	{"client", required_argument, 0, OPT_CLIENT},
	{"nonce", required_argument, 0, OPT_NONCE},
	{"quiet", no_argument, 0, 'q'},
	{0, 0, 0, 0}
};

struct match {
	char **docs;
	size_t n;
	bool many;
};

static int
collect(const char *json, size_t len, void *payload)
{
	struct match *m = payload;
	char **v = realloc(m->docs, (m->n + 1) * sizeof *v);

	if (!v || !(v[m->n] = strndup(json, len)))
		cli_die(5, "out of memory");
	m->docs = v;
	m->n++;
	return m->many ? 0 : 1;		/* one is enough without --many */
}

int
main(int argc, char **argv)
{
	struct match m = {0};
	nedb_find_opts f = {.as_of = NEDB_HEAD};
	nedb_buf r = {0}, doc = {0};
	nedb_receipt rcpt;
	bool upsert = false, quiet = false;
	nedb_put p = {.if_seq = -1};
	nedb *db;
	int c, rc, changed = 0;

	cli_init("nedb-update", usage);
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS "q",
				longopts, NULL)) != -1) {
		if (cli_common(c, optarg) || cli_write_opt(c, optarg, &p.w))
			continue;
		switch (c) {
		case OPT_MANY: m.many = true; break;
		case OPT_UPSERT: upsert = true; break;
		case 'q': quiet = true; break;
		default: cli_bad_option(c, argv);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3)
		cli_usage("want COLL FILTER UPDATE");
	if (nedb_check_coll(argv[0]))
		cli_die(4, "%s", nedb_errmsg());
	/* check the update before touching the database */
	if ((rc = nedb_update_doc(&doc, "{}", 2, argv[2])) &&
	    rc == NEDB_EUSAGE)
		cli_die(2, "%s", nedb_errmsg());
	db = cli_open(upsert);
	if ((rc = nedb_write_begin(db)))
		cli_fail(rc);
	f.coll = argv[0];
	f.filter = argv[1];
	rc = nedb_find(db, &f, 0, collect, &m);
	if (rc == NEDB_EUSAGE)
		cli_die(2, "%s", nedb_errmsg());
	if (rc && rc != 1)
		cli_fail(rc);
	p.coll = argv[0];
	p.keep_ttl = 1;		/* an update changes members, not the expiry */
	for (size_t i = 0; i < m.n; i++) {
		char *id = NULL;

		doc.len = 0;
		if ((rc = nedb_update_doc(&doc, m.docs[i], strlen(m.docs[i]),
					  argv[2])))
			cli_die(nedb_exit_status(rc), "%s", nedb_errmsg());
		if (doc.len == strlen(m.docs[i]) &&
		    !memcmp(doc.p, m.docs[i], doc.len))
			continue;	/* no change: no op */
		if ((rc = nedb_doc_id(m.docs[i], strlen(m.docs[i]), &id)))
			cli_fail(rc);
		p.id = id;
		p.doc = doc.p;
		p.doclen = doc.len;
		rc = nedb_write_put(db, &p, quiet ? NULL : &rcpt);
		free(id);
		if (rc)
			cli_fail(rc);
		if (!quiet)
			cli_receipt_line(&r, &rcpt);
		if (p.w.nonce)
			p.w.nonce++;
		changed++;
	}
	if (!m.n && upsert) {
		nedb_buf base = {0};
		char *fid = NULL;
		char idbuf[33];
		unsigned char rnd[16];

		if ((rc = nedb_upsert_base(&base, argv[1])))
			cli_die(2, "%s", nedb_errmsg());
		doc.len = 0;
		if ((rc = nedb_update_doc(&doc, base.p, base.len, argv[2])))
			cli_die(nedb_exit_status(rc), "%s", nedb_errmsg());
		/* the id: the filter's _id, or a random one */
		if (nedb_doc_id(base.p, base.len, &fid) == 0) {
			p.id = fid;
		} else {
			if (getrandom(rnd, sizeof rnd, 0) != sizeof rnd)
				cli_die(5, "cannot make an id");
			for (int i = 0; i < 16; i++)
				snprintf(idbuf + 2 * i, 3, "%02x", rnd[i]);
			p.id = idbuf;
		}
		p.doc = doc.p;
		p.doclen = doc.len;
		if ((rc = nedb_write_put(db, &p, quiet ? NULL : &rcpt)))
			cli_fail(rc);
		if (!quiet)
			cli_receipt_line(&r, &rcpt);
		changed++;
		free(fid);
		nedb_buf_free(&base);
	}
	if ((rc = nedb_write_commit(db)))
		cli_fail(rc);
	cli_print_lines(&r);
	for (size_t i = 0; i < m.n; i++)
		free(m.docs[i]);
	free(m.docs);
	nedb_buf_free(&r);
	nedb_buf_free(&doc);
	nedb_close(db);
	cli_finish();
	if (!m.n && !upsert) {
		fprintf(stderr, "nedb-update: no document matches\n");
		return 1;
	}
	(void)changed;
	return 0;
}
