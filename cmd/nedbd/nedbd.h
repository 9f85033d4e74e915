/*
 * nedbd.h - what the parts of nedbd share: the server, its databases and
 * their group-commit batches.
 *
 * One thread runs everything (libjq is not thread-safe): an epoll loop
 * (main.c) wakes for the RESP2 sockets (resp.c) and libmicrohttpd's own
 * epoll descriptor (http.c).  Within one turn of the loop, every write
 * from any connection to a database joins that database's open write
 * transaction, its batch; at the end of the turn each batch commits with
 * one fsync and only then are the replies that depend on it released.
 */
#ifndef NEDBD_H
#define NEDBD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "nedb.h"

/* What epoll's data points at: the first member of each kind. */
enum ev_kind { EV_SIGNAL, EV_HTTP, EV_RESP_LISTEN, EV_RESP_CONN };

/*
 * A party waiting on a batch: its replies are held until the batch
 * commits (rc 0) or fails (rc < 0, message in nedb_errmsg()).
 */
struct waiter {
	void (*done)(struct waiter *w, int rc);
	struct waiter *next;
	bool queued;
};

/* An open database. */
struct dbent {
	char name[65];
	nedb *db;
	bool batch;		/* a write transaction is open */
	bool snap;		/* a read snapshot is open for this turn */
	struct waiter *waiters;
	struct dbent *next;
};

struct server {
	struct sockaddr_in addr;	/* NEDBD_HOST (port 0) */
	const char *data;		/* NEDBD_DATA */
	const char *token;		/* NEDBD_TOKEN or NULL */
	size_t token_len;
	int durability;
	size_t max_body;		/* bytes of an HTTP request body */
	unsigned max_conns;		/* per protocol */
	int epfd;
	struct dbent *dbs;
	bool stopping;
	unsigned busy;			/* requests in flight */
};

extern struct server srv;

/* main.c: databases and batches */
/*
 * The open database name, opened (with create set, created) on first
 * use.  NEDB_ENOTFOUND when it does not exist and create is not set,
 * NEDB_EINPUT for a bad name (nedb_check_dbname); message in nedb_errmsg().
 */
int db_get(const char *name, bool create, struct dbent **out);
/* Closes the database and forgets it (its batch must be committed). */
void db_forget(struct dbent *e);
/* Removes the database (nedb_destroy) and forgets it. */
int db_drop(struct dbent *e);
/* Opens e's batch if it is not open. */
int batch_join(struct dbent *e);
/* Holds w until e's batch ends (no-op when w already waits). */
void batch_wait(struct dbent *e, struct waiter *w);
/* Aborts e's batch: its waiters get rc. */
void batch_fail(struct dbent *e, int rc);
/* Commits every open batch and releases its waiters. */
void commit_all(void);
/*
 * Opens a read snapshot on e for the rest of this turn, shared by the
 * reads of every connection (ended by snaps_end and commit_all).
 */
void snap_begin(struct dbent *e);
void snaps_end(void);
/* Adds fd to the loop with events, data pointing at ev. */
int loop_add(int fd, unsigned events, void *ev);
int loop_mod(int fd, unsigned events, void *ev);
/* True when a constant-time comparison finds s equal to the token. */
bool token_ok(const char *s, size_t len);

/* http.c */
int http_start(unsigned port);
unsigned http_port(void);
void http_run(void);		/* every turn of the loop */
/* True when a commit resumed requests: http_run answers them. */
bool http_resumed(void);
int http_timeout(void);		/* ms until http_run is due; -1 none */
void http_quiesce(void);	/* stop accepting */
void http_stop(void);

/* resp.c */
int resp_start(unsigned port);
void resp_event(void *ev, unsigned events);
void resp_flush(void);		/* writes replies that are free to go */
/* Connections on e forget it (it is being dropped). */
void resp_forget_db(struct dbent *e);
void resp_quiesce(void);	/* stop accepting and reading */
bool resp_idle(void);		/* nothing left to write */
void resp_stop(void);

#endif
