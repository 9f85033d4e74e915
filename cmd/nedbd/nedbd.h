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
 *
 * Nothing on the loop ever waits for a lock another process holds: a
 * batch begins with nedb_write_trybegin, and when a command-line writer
 * has the database's writer lock the requests that want to write there
 * wait in its lock queue (lock_wait) while the loop serves everything
 * else; locks_retry tries the lock again every LOCK_RETRY_MS.
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
	struct waiter *waiters;	/* on the batch */
	struct waiter *lockq;	/* on the writer lock, oldest first */
	uint64_t used;		/* the loop's turn when last looked up */
	uint64_t synced;	/* the turn it last caught up with its engine */
	unsigned files;		/* file puts and reads under way (http.c):
				 * the handle stays open while any is */
	struct dbent *next;
};

#define LOCK_RETRY_MS 5		/* how often a busy writer lock is tried */

struct server {
	struct sockaddr_in addr;	/* NEDBD_HOST (port 0) */
	const char *data;		/* NEDBD_DATA */
	const char *token;		/* NEDBD_TOKEN or NULL */
	const char *tmk_file;		/* --tmk-file or NULL: the master
					 * key of every database served */
	size_t token_len;
	int durability;
	size_t max_body;		/* bytes of a request (HTTP body, RESP) */
	unsigned max_conns;		/* per protocol */
	unsigned timeout;		/* NEDBD_TIMEOUT, seconds */
	const char *host;		/* NEDBD_HOST as given */
	bool loopback;			/* bound to 127.0.0.0/8 */
	const char *cors;		/* NEDBD_CORS_ORIGINS or NULL */
	int epfd;
	struct dbent *dbs;
	unsigned ndbs, max_dbs;		/* open; NEDBD_MAX_DBS */
	uint64_t turn;			/* of the event loop */
	bool stopping;
	bool stop_asked;		/* SHUTDOWN: stop as on SIGTERM */
	unsigned busy;			/* requests in flight */
};

extern struct server srv;

/* The web console's files, built in (tools/embed.sh, cmd/nedbd/console/). */
struct nedbd_asset {
	const char *path;		/* "/index.html" */
	const char *type;		/* its Content-Type */
	const unsigned char *bytes;
	size_t len;
};
extern const struct nedbd_asset nedbd_assets[];
extern const size_t nedbd_nassets;

/* main.c: databases and batches */
/*
 * The open database name, opened (with create set, created) on first
 * use.  NEDB_ENOTFOUND when it does not exist and create is not set,
 * NEDB_EINPUT for a bad name (nedb_check_dbname), NEDB_EBUSY when opening
 * it would wait for another process (NEDB_OPEN_NOWAIT); message in
 * nedb_errmsg().
 */
int db_get(const char *name, bool create, struct dbent **out);
/* Closes the database and forgets it (its batch must be committed). */
void db_forget(struct dbent *e);
/*
 * Between turns of the loop: while more than NEDBD_MAX_DBS databases are
 * open, closes the one least recently used that nothing waits on (each
 * handle maps the view's whole address space: see nedb.h).
 */
void db_reap(void);
/* Removes the database (nedb_destroy) and forgets it. */
int db_drop(struct dbent *e);
/*
 * Opens e's batch if it is not open.  NEDB_EBUSY when another process
 * holds the database's writer lock: wait with lock_wait, never block.
 */
int batch_join(struct dbent *e);
/*
 * Holds w until e's writer lock may be had: w->done(w, 0) once e's batch
 * is open (or e was closed: look the database up again), w->done(w, rc)
 * when trying the lock failed otherwise.  Called from the loop
 * (locks_retry, or the database's closing), never from inside lock_wait.
 */
void lock_wait(struct dbent *e, struct waiter *w);
/* Takes w out of the lock queue it is in, if any. */
void lock_cancel(struct waiter *w);
/* Tries the writer lock of every database with a queue. */
void locks_retry(void);
/* Releases every lock queue with rc (stopping). */
void locks_fail(int rc);
/* Whether a lock queue is waiting (the loop then wakes to retry). */
bool locks_waiting(void);
/* Holds w until e's batch ends (no-op when w already waits). */
void batch_wait(struct dbent *e, struct waiter *w);
/* Aborts e's batch: its waiters get rc. */
void batch_fail(struct dbent *e, int rc);
/* Commits every open batch and releases its waiters. */
void commit_all(void);
/* Commits e's open batch now (a step of a command that must be durable
 * before its next: MOVE), answering its waiters; 0 or the error. */
int batch_commit(struct dbent *e);
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
/* Monotonic milliseconds. */
int64_t mono_ms(void);

/* http.c */
int http_start(unsigned port);
unsigned http_port(void);
void http_run(void);		/* every turn of the loop */
/* True when a commit resumed requests: http_run answers them. */
bool http_resumed(void);
int http_timeout(void);		/* ms until http_run is due; -1 none */
void http_quiesce(void);	/* stop accepting */
void http_stop(void);
/* Closes connections whose request headers are late; ms until the next
 * is due, or -1. */
int http_sweep(int64_t now);

/* resp.c */
int resp_start(unsigned port);
void resp_event(void *ev, unsigned events);
void resp_flush(void);		/* writes replies that are free to go */
/* Connections on e forget it (it is being dropped). */
void resp_forget_db(struct dbent *e);
/* Runs again the commands that waited for a writer lock now free. */
void resp_retry(void);
/* Closes connections that did not AUTH in time; ms until the next is
 * due, or -1. */
int resp_sweep(int64_t now);
void resp_quiesce(void);	/* stop accepting and reading */
bool resp_idle(void);		/* nothing left to write */
void resp_stop(void);

#endif
