/*
 * pqfloor.c - the floor of a command that reads a database on
 * PostgreSQL: a process that loads libpq (linked, as any libpq client),
 * connects with the conninfo given and runs SELECT 1, nothing else.
 *
 *     pqfloor CONNINFO
 *
 * Built by tests/bench/pglog, never installed.
 */
#include <stdio.h>
#include <libpq-fe.h>

int
main(int argc, char **argv)
{
	PGconn *c;
	PGresult *r;
	int ok;

	if (argc != 2) {
		fputs("usage: pqfloor CONNINFO\n", stderr);
		return 2;
	}
	c = PQconnectdb(argv[1]);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "pqfloor: %s", PQerrorMessage(c));
		return 1;
	}
	r = PQexec(c, "SELECT 1");
	ok = PQresultStatus(r) == PGRES_TUPLES_OK;
	PQclear(r);
	PQfinish(c);
	return !ok;
}
