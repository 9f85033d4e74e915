#!/usr/bin/env python3
"""Differential test of nedb-sql against sqlite3 on the same data.

    diff.py --seed N --dir DIR [--rows 60] [--queries 300]
    diff.py --seed N --asof --dir DIR [--steps 25]
    diff.py --seed N --print        (the script and queries, nothing run)

Generates (from the seed) a NULL-heavy table of mixed types -- integers
and reals that are equal (3 and 3.0), text that looks like numbers ('3',
' 3', '12abc'), text in upper and lower case, empty strings, LIKE's
wildcards, values beyond 2^53 -- declared with every affinity (INTEGER,
REAL, TEXT, NUMERIC, none), loads it with the same INSERT statements into
sqlite3 (Python's sqlite3 module: the library the sqlite3 command is)
and into two nedb databases, the second with CREATE INDEX on most
columns, then runs random queries on all three: projections with
arithmetic, functions and CAST, WHERE with every comparison, IN (with
NULL), NOT IN, BETWEEN, LIKE, IS [NOT] NULL, IS, NOT, AND, OR and IN
(SELECT ...), ORDER BY with NULLs, LIMIT and OFFSET, DISTINCT, GROUP BY
(on NULL too) with COUNT(*), COUNT, SUM, TOTAL, AVG, MIN, MAX and
HAVING.  Every query must give sqlite3's rows (as a multiset without
ORDER BY; ORDER BY always ends with the unique id, so the order is
sqlite3's), its values of the same types, REALs as sqlite3 prints them;
a query sqlite3 refuses must fail in nedb-sql too.

--asof: random INSERT, UPDATE and DELETE statements, each its own
nedb-sql process; after each, the head seq is noted.  Then SELECT ...
AS OF each seq (and FOR SYSTEM_TIME AS OF) must equal the table of a
fresh sqlite3 database that replayed the statements up to it.

Prints each mismatch (at most 20) and a summary; exits 1 on any.
Python 3 standard library only; nedb-sql and nedb-log come from PATH.
"""

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys

COLS = [("a", "INTEGER"), ("b", "REAL"), ("c", "TEXT"), ("d", ""),
        ("e", "NUMERIC"), ("f", "VARCHAR(10)")]


class Real(float):
    def __new__(cls, text):
        r = float.__new__(cls, float(text))
        r.text = text
        return r


def real_text(r):
    """sqlite3's text of a REAL ("%!.15g")."""
    if r != r:
        return None
    if r in (float("inf"), float("-inf")):
        return "Inf" if r > 0 else "-Inf"
    if r == 0:
        r = 0.0
    s = "%.15g" % r
    if "." not in s and "n" not in s:
        if "e" in s:
            m, e = s.split("e")
            s = m + ".0e" + e
        else:
            s += ".0"
    return s


def norm(v):
    """A value as a comparable, typed token."""
    if v is None:
        return ("null",)
    if isinstance(v, bool):
        return ("int", int(v))
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, Real):
        t = v.text
        if t in ("1e999", "-1e999"):
            t = "Inf" if t[0] == "1" else "-Inf"
        return ("real", t)
    if isinstance(v, float):
        return ("real", real_text(v))
    return ("text", v)


# ---- the data -----------------------------------------------------------------

INTS = [0, 1, -1, 2, 3, 5, 7, 10, -3, 42, 100, 9007199254740993,
        -9007199254740993, 2147483648]
REALS = [0.0, 1.0, 3.0, 2.5, -0.5, 0.1, 1e20, -2.25, 10.0, 3.5, 1e-5]
TEXTS = ["", "3", "3.0", " 3", "12abc", "abc", "ABC", "Abc", "aBc", "a%b",
         "a_b", "x", "X", "10", "2", "é", "É", "ab", "b", "1e2", "-1",
         "zz", "a", "A"]


def sql_lit(v):
    if v is None:
        return "NULL"
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, int):
        return str(v)
    return "'" + v.replace("'", "''") + "'"


def value(rnd):
    k = rnd.random()
    if k < 0.3:
        return None
    if k < 0.55:
        return rnd.choice(INTS[:11] if rnd.random() < 0.9 else INTS)
    if k < 0.7:
        return rnd.choice(REALS)
    return rnd.choice(TEXTS)


def load_script(rnd, nrows):
    cols = ", ".join("%s %s" % (n, t) if t else n for n, t in COLS)
    out = ["CREATE TABLE t(id INTEGER PRIMARY KEY, %s)" % cols,
           "CREATE TABLE u(x INTEGER, y TEXT, z)"]
    rows = []
    for i in range(1, nrows + 1):
        rows.append("(%d, %s)" % (i, ", ".join(sql_lit(value(rnd))
                                               for _ in COLS)))
    for k in range(0, len(rows), 7):
        out.append("INSERT INTO t VALUES " + ", ".join(rows[k:k + 7]))
    for i in range(12):
        out.append("INSERT INTO u(x, y, z) VALUES (%s, %s, %s)" % (
            sql_lit(value(rnd)), sql_lit(value(rnd)), sql_lit(value(rnd))))
    return out


INDEXES = ["CREATE INDEX ia ON t(a)", "CREATE INDEX ib ON t(b)",
           "CREATE INDEX ic ON t(c)", "CREATE INDEX id_ ON t(d)",
           "CREATE INDEX ie ON t(e)", "CREATE INDEX iux ON u(x)"]

# ---- the queries ----------------------------------------------------------------

TCOLS = ["id", "a", "b", "c", "d", "e", "f"]


def lit(rnd):
    k = rnd.random()
    if k < 0.15:
        return "NULL"
    if k < 0.55:
        return str(rnd.choice(INTS[:11]))
    if k < 0.7:
        return repr(rnd.choice(REALS[:10]))
    return sql_lit(rnd.choice(TEXTS))


def expr(rnd, d=0):
    k = rnd.random()
    if d > 2 or k < 0.45:
        return rnd.choice(TCOLS[1:])
    if k < 0.55:
        return lit(rnd)
    if k < 0.75:
        op = rnd.choice(["+", "-", "*", "/", "%", "||"])
        return "(%s %s %s)" % (expr(rnd, d + 1), op, expr(rnd, d + 1))
    if k < 0.8:
        return "- %s" % expr(rnd, d + 1)
    if k < 0.9:
        f = rnd.choice(["abs", "length", "lower", "upper", "typeof"])
        return "%s(%s)" % (f, expr(rnd, d + 1))
    if k < 0.95:
        f = rnd.choice(["coalesce", "ifnull", "nullif"])
        return "%s(%s, %s)" % (f, expr(rnd, d + 1), expr(rnd, d + 1))
    if k < 0.97:
        t = rnd.choice(["INTEGER", "REAL", "TEXT", "NUMERIC"])
        return "CAST(%s AS %s)" % (expr(rnd, d + 1), t)
    k = rnd.random()
    if k < 0.3:
        return "CASE WHEN %s THEN %s ELSE %s END" % (
            cond(rnd, 2), expr(rnd, d + 1), expr(rnd, d + 1))
    if k < 0.5:
        return "CASE %s WHEN %s THEN %s WHEN %s THEN %s END" % (
            expr(rnd, d + 1), lit(rnd), expr(rnd, d + 1), lit(rnd),
            expr(rnd, d + 1))
    if k < 0.7:
        return "(SELECT %s(%s) FROM u)" % (rnd.choice(["MAX", "MIN", "COUNT",
                                                     "SUM"]),
                                          rnd.choice(["x", "y", "z"]))
    if k < 0.85:
        return "(%s %s %s)" % (expr(rnd, d + 1),
                               rnd.choice(["&", "|", "<<", ">>"]),
                               rnd.choice(["1", "2", "3", "-1", "a"]))
    return "~%s" % expr(rnd, d + 1)


def cond(rnd, d=0):
    k = rnd.random()
    if d < 2 and k < 0.2:
        return "(%s %s %s)" % (cond(rnd, d + 1), rnd.choice(["AND", "OR"]),
                               cond(rnd, d + 1))
    if d < 2 and k < 0.27:
        return "NOT %s" % cond(rnd, d + 1)
    c = rnd.choice(TCOLS[1:]) if rnd.random() < 0.8 else expr(rnd, 1)
    k = rnd.random()
    if k < 0.35:
        op = rnd.choice(["=", "==", "!=", "<>", "<", "<=", ">", ">="])
        other = lit(rnd) if rnd.random() < 0.7 else rnd.choice(TCOLS[1:])
        if rnd.random() < 0.3:
            return "%s %s %s" % (other, op, c)
        return "%s %s %s" % (c, op, other)
    if k < 0.45:
        return "%s IS %sNULL" % (c, rnd.choice(["", "NOT "]))
    if k < 0.55:
        items = ", ".join(lit(rnd) for _ in range(rnd.randint(1, 4)))
        return "%s %sIN (%s)" % (c, rnd.choice(["", "NOT "]), items)
    if k < 0.63:
        lo, hi = sorted([rnd.choice(INTS[:11]), rnd.choice(INTS[:11])])
        if rnd.random() < 0.3:
            lo, hi = sql_lit(rnd.choice(TEXTS)), sql_lit(rnd.choice(TEXTS))
        return "%s %sBETWEEN %s AND %s" % (c, rnd.choice(["", "NOT "]),
                                          lo, hi)
    if k < 0.73:
        pat = rnd.choice(["'a%'", "'%B%'", "'_bc'", "'A_C'", "'3%'", "'%'",
                          "''", "'a\\%b' ESCAPE '\\'", "'é'", "'%c'", "'1%'",
                          "'x'", "NULL"])
        return "%s %sLIKE %s" % (c, rnd.choice(["", "NOT "]), pat)
    if k < 0.8:
        return "%s IS %s%s" % (c, rnd.choice(["", "NOT "]), lit(rnd))
    if k < 0.84:
        sub = rnd.choice(["x", "y", "z"])
        w = "" if rnd.random() < 0.5 else " WHERE %s IS NOT NULL" % sub
        return "%s %sIN (SELECT %s FROM u%s)" % (
            c, rnd.choice(["", "NOT "]), sub, w)
    if k < 0.87:
        return "%sEXISTS (SELECT 1 FROM u WHERE %s %s %s)" % (
            rnd.choice(["", "NOT "]), rnd.choice(["x", "y", "z"]),
            rnd.choice(["=", ">", "<"]), lit(rnd))
    if k < 0.9:
        pat = rnd.choice(["'a*'", "'*B*'", "'?bc'", "'[a-c]*'", "'[^a]*'",
                          "'3*'", "'*'", "'[AB]??'"])
        return "%s %sGLOB %s" % (c, rnd.choice(["", "NOT "]), pat)
    if k < 0.93:
        return "%s IS %sDISTINCT FROM %s" % (c, rnd.choice(["", "NOT "]),
                                             lit(rnd))
    return "%s %s %s" % (c, rnd.choice(["<", ">=", "="]), expr(rnd, 1))


def query(rnd):
    k = rnd.random()
    where = " WHERE " + cond(rnd) if rnd.random() < 0.85 else ""
    if k < 0.35:
        cols = ", ".join(["id"] + [expr(rnd) for _ in range(rnd.randint(1, 3))])
        q = "SELECT %s FROM t%s" % (cols, where)
        if rnd.random() < 0.6:
            keys = []
            for _ in range(rnd.randint(1, 2)):
                key = rnd.choice(TCOLS[1:]) if rnd.random() < 0.8 else \
                    expr(rnd, 1)
                keys.append(key + rnd.choice(["", " ASC", " DESC"]) +
                            rnd.choice(["", "", "", " NULLS FIRST",
                                        " NULLS LAST"]))
            q += " ORDER BY %s, id" % ", ".join(keys)
            if rnd.random() < 0.5:
                q += " LIMIT %d" % rnd.randint(0, 20)
                if rnd.random() < 0.5:
                    q += " OFFSET %d" % rnd.randint(0, 10)
        return q
    if k < 0.5:
        return "SELECT DISTINCT %s FROM t%s" % (
            rnd.choice(TCOLS[1:] + [expr(rnd)]), where)
    if k < 0.7:
        g = rnd.choice(TCOLS[1:])
        x = rnd.choice(TCOLS[1:])
        q = ("SELECT %s, COUNT(*), COUNT(%s), SUM(%s), TOTAL(%s), AVG(%s), "
             "MIN(%s), MAX(%s) FROM t%s GROUP BY %s" % (
                 g, x, x, x, x, x, x, where, g))
        if rnd.random() < 0.4:
            q += " HAVING COUNT(*) %s %d" % (rnd.choice([">", "<", "="]),
                                             rnd.randint(0, 4))
        if rnd.random() < 0.3:
            q += " ORDER BY 2 DESC, 1"
        return q
    if k < 0.82:
        x = rnd.choice(TCOLS[1:])
        dist = "DISTINCT " if rnd.random() < 0.3 else ""
        return ("SELECT COUNT(*), COUNT(%s%s), SUM(%s%s), AVG(%s), MIN(%s), "
                "MAX(%s), TOTAL(%s) FROM t%s" % (dist, x, dist, x, x, x, x,
                                                 x, where))
    if k < 0.92:
        q = "SELECT * FROM t%s ORDER BY %s%s, id" % (
            where, rnd.choice(TCOLS[1:]), rnd.choice(["", " DESC"]))
        if rnd.random() < 0.5:
            q += " LIMIT %d OFFSET %d" % (rnd.randint(1, 10),
                                          rnd.randint(0, 5))
        return q
    return "SELECT %s, %s FROM t%s ORDER BY 1, 2" % (expr(rnd), expr(rnd),
                                                     where)


# ---- running ---------------------------------------------------------------------

def run_nedb(db, statements, extra=()):
    """Runs statements through one nedb-sql; per statement its rows
    (typed) or its error."""
    script = []
    for i, s in enumerate(statements):
        script.append(s + ";\nSELECT 'mark-%d';\n" % i)
    p = subprocess.run(["nedb-sql", "-d", db, "--durability", "fast"] +
                       list(extra), input="".join(script).encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    res, rows, errs = [], [], []
    for line in p.stdout.decode("utf-8", "surrogateescape").split("\n"):
        if line.startswith("{\"'mark-"):
            res.append((rows, errs))
            rows, errs = [], []
        elif line.startswith("nedb-sql: "):
            errs.append(line[10:])
        elif line:
            rows.append([norm(v) for _, v in json.loads(
                line, object_pairs_hook=list, parse_float=Real)])
    return res


def run_sqlite(con, q):
    try:
        return [[norm(v) for v in r] for r in con.execute(q).fetchall()], None
    except sqlite3.Error as e:
        return None, str(e)


def compare(q, exp, err, got, gerr):
    if err:
        if not gerr:
            return "sqlite3 fails (%s), nedb-sql answers" % err
        return None
    if gerr:
        return "nedb-sql fails: %s" % gerr[0]
    ordered = " ORDER BY " in q
    a, b = (exp, got) if ordered else (sorted(exp), sorted(got))
    if a != b:
        k = 0
        while k < min(len(a), len(b)) and a[k] == b[k]:
            k += 1
        return ("%d rows and %d rows, from row %d:\n      sqlite3:  %s\n"
                "      nedb-sql: %s" % (len(a), len(b), k, a[k:k + 4],
                                        b[k:k + 4]))
    return None


def main_queries(args):
    rnd = random.Random(args.seed)
    load = load_script(rnd, args.rows)
    queries = [query(rnd) for _ in range(args.queries)]
    if args.print:
        print(";\n".join(load + INDEXES + queries) + ";")
        return 0
    con = sqlite3.connect(":memory:")
    for s in load:
        con.execute(s)
    plain = os.path.join(args.dir, "plain")
    indexed = os.path.join(args.dir, "indexed")
    bad = 0
    for name, db, pre in (("plain", plain, load),
                          ("indexed", indexed, load[:2] + INDEXES[:3] +
                           load[2:] + INDEXES[3:])):
        res = run_nedb(db, pre + queries)
        if len(res) != len(pre) + len(queries):
            print("nedb-sql (%s) stopped after %d statements" % (name,
                                                                 len(res)))
            return 1
        for i, (rows, errs) in enumerate(res[:len(pre)]):
            if errs:
                print("%s: loading failed: %s: %s" % (name, pre[i], errs))
                return 1
        for q, (rows, errs) in zip(queries, res[len(pre):]):
            exp, err = run_sqlite(con, q)
            why = compare(q, exp, err, rows, errs)
            if why:
                bad += 1
                if bad <= 20:
                    print("MISMATCH (%s): %s\n    %s" % (name, q, why))
    print("seed %d: %d queries on %d rows, plain and indexed: %d mismatches"
          % (args.seed, len(queries), args.rows, bad))
    return 1 if bad else 0


def dml(rnd, ids):
    k = rnd.random()
    if k < 0.45 or not ids:
        n = rnd.randint(1, 3)
        rows = []
        for _ in range(n):
            i = max(ids | {0}) + 1 + rnd.randint(0, 2)
            ids.add(i)
            rows.append("(%d, %s)" % (i, ", ".join(sql_lit(value(rnd))
                                                   for _ in COLS)))
        return "INSERT INTO t VALUES " + ", ".join(rows)
    if k < 0.8:
        c = rnd.choice(TCOLS[1:])
        return "UPDATE t SET %s = %s WHERE %s" % (c, expr(rnd, 1), cond(rnd))
    return "DELETE FROM t WHERE %s" % cond(rnd)


def main_asof(args):
    rnd = random.Random(args.seed)
    load = load_script(rnd, 8)[:1] + load_script(rnd, 8)[2:3]
    ids = set(range(1, 9))
    steps = load + [dml(rnd, ids) for _ in range(args.steps)]
    if args.print:
        print(";\n".join(steps) + ";")
        return 0
    db = os.path.join(args.dir, "asof")
    seqs = []
    for s in steps:
        p = subprocess.run(["nedb-sql", "-d", db, "--durability", "fast", s],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode:
            seqs.append(None)	# a failed statement changes nothing
            continue
        log = subprocess.run(["nedb-log", "-d", db, "-n", "1"],
                             stdout=subprocess.PIPE, check=True)
        seqs.append(json.loads(log.stdout)["seq"])
    queries, expect = [], []
    con = sqlite3.connect(":memory:")
    for i, s in enumerate(steps):
        try:
            con.execute(s)
            ok = True
        except sqlite3.Error:
            ok = False
        if ok != (seqs[i] is not None):
            print("statement %d (%s): sqlite3 %s, nedb-sql %s" % (
                i, s, "ok" if ok else "fails",
                "ok" if seqs[i] is not None else "fails"))
            return 1
        if seqs[i] is None or i == 0:
            continue
        form = rnd.choice(["AS OF %d", "FOR SYSTEM_TIME AS OF %d"])
        queries.append("SELECT * FROM t %s ORDER BY id" % (form % seqs[i]))
        expect.append(run_sqlite(con, "SELECT * FROM t ORDER BY id")[0])
    res = run_nedb(db, queries)
    bad = 0
    for q, exp, (rows, errs) in zip(queries, expect, res):
        why = compare(q, exp, None, rows, errs)
        if why:
            bad += 1
            if bad <= 20:
                print("MISMATCH: %s\n    %s" % (q, why))
    print("seed %d: %d statements, %d AS OF queries: %d mismatches" % (
        args.seed, len(steps), len(queries), bad))
    return 1 if bad or len(res) != len(queries) else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--dir", default=".")
    ap.add_argument("--rows", type=int, default=60)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--asof", action="store_true")
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args()
    return main_asof(args) if args.asof else main_queries(args)


if __name__ == "__main__":
    sys.exit(main())
