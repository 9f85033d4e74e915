#!/usr/bin/env python3
"""Differential test of NQL WHERE and ORDER BY against SPEC §6.

    diff.py --seed N --dir DIR [--docs 250] [--where 150] [--order 50]
            [--no-collisions]
    diff.py --seed N --print      (the documents and queries, nothing run)
    diff.py --selftest            (the evaluator against hand-checked cases)

Generates (from the seed) documents of mixed types -- missing members,
nulls, numbers written as 3 and 3.0 and 30e-1 and beyond double
precision, negative numbers, strings with non-ASCII characters (raw or
\\u-escaped), arrays and nested objects -- and random WHERE expressions
(= != < <= > >= IN EXISTS CONTAINS, AND OR NOT with and without
parentheses, nested paths) and ORDER BY clauses.  A small evaluator
below implements SPEC §6 literally; every query's rows from nedb-query
must equal its answer:

  a  DIR/a: the documents, no indexes
  b  DIR/a again, after eq and ordered indexes are created (backfilled)
  c  DIR/c: indexes of the other kinds created first, then decoy
     versions of the documents, the documents, and extra documents that
     are deleted again (so the indexes are kept up to date, not filled)

WHERE results compare as sets of _id, ORDER BY results as lists (SPEC's
total order, ties in _id order).  Prints each mismatch (at most 20) and
a summary; exits 1 on any mismatch or failed command, or when no sampled
query used an index.  --no-collisions leaves out the numbers that share
a double with another one (12345678901234567891, 4.999999999999999999),
to tell a bug of exact number order from others.  Python 3 standard
library only; the nedb commands come from PATH.
"""

import argparse
import concurrent.futures
import functools
import json
import os
import random
import subprocess
import sys
from decimal import Decimal

ABSENT = object()

# ---- the reference semantics (SPEC §6) ----------------------------------

RANK = {"absent": 0, "null": 1, "false": 2, "true": 3, "number": 4,
        "string": 5, "array": 6, "object": 7}


def kind(v):
    if v is ABSENT:
        return "absent"
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Decimal):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def parse(text):
    """JSON text to Python values with exact (Decimal) numbers."""
    return json.loads(text, parse_float=Decimal, parse_int=Decimal)


def get(doc, path):
    """The value at a dotted path, or ABSENT."""
    v = doc
    for part in path.split("."):
        if isinstance(v, dict) and part in v:
            v = v[part]
        elif isinstance(v, list) and part.isdigit() and int(part) < len(v):
            v = v[int(part)]
        else:
            return ABSENT
    return v


def eq(a, b):
    """'=': both present, same type and value; structural."""
    ka, kb = kind(a), kind(b)
    if ka == "absent" or kb == "absent" or ka != kb:
        return False
    if ka == "array":
        return len(a) == len(b) and all(eq(x, y) for x, y in zip(a, b))
    if ka == "object":
        return a.keys() == b.keys() and all(eq(a[k], b[k]) for k in a)
    if ka == "string":
        return a.encode() == b.encode()
    return ka in ("null", "true", "false") or a == b


def less(a, op, b):
    """'<' '<=' '>' '>=': only number-number or string-string."""
    ka, kb = kind(a), kind(b)
    if ka != kb or ka not in ("number", "string"):
        return False
    if ka == "string":
        a, b = a.encode(), b.encode()
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def order(a, b):
    """The total order of ORDER BY: -1, 0 or 1."""
    ka, kb = kind(a), kind(b)
    if ka != kb:
        return -1 if RANK[ka] < RANK[kb] else 1
    if ka == "number":
        return (a > b) - (a < b)
    if ka == "string":
        x, y = a.encode(), b.encode()
        return (x > y) - (x < y)
    if ka == "array":
        for x, y in zip(a, b):
            c = order(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ka == "object":
        ka_, kb_ = sorted(a, key=str.encode), sorted(b, key=str.encode)
        for x, y in zip(ka_, kb_):
            c = order(x, y)
            if c:
                return c
        if len(ka_) != len(kb_):
            return -1 if len(ka_) < len(kb_) else 1
        for k in ka_:
            c = order(a[k], b[k])
            if c:
                return c
        return 0
    return 0


def evaluate(e, doc):
    op = e[0]
    if op == "AND":
        return evaluate(e[1], doc) and evaluate(e[2], doc)
    if op == "OR":
        return evaluate(e[1], doc) or evaluate(e[2], doc)
    if op == "NOT":
        return not evaluate(e[1], doc)
    x = get(doc, e[1])
    if op == "=":
        return eq(x, e[2][1])
    if op == "!=":
        return not eq(x, e[2][1])
    if op in ("<", "<=", ">", ">="):
        return less(x, op, e[2][1])
    if op == "IN":
        return any(eq(x, v[1]) for v in e[2])
    if op == "EXISTS":
        return x is not ABSENT
    if op == "CONTAINS":
        return isinstance(x, list) and any(eq(y, e[2][1]) for y in x)
    raise ValueError(op)


def sort_rows(docs, keys):
    """Stable sort in _id (byte) order, then by each key, last first."""
    rows = sorted(docs, key=lambda d: d["_id"].encode())
    for path, desc in reversed(keys):
        rows.sort(key=functools.cmp_to_key(
            lambda x, y, p=path: order(get(x, p), get(y, p))), reverse=desc)
    return rows


# ---- generating documents -----------------------------------------------

class Num(str):
    """A JSON number kept as the text it is written with."""


NUMBERS = ["0", "-0", "0.0", "1", "1.0", "3", "3.0", "30e-1", "3e0", "-1",
           "-1.5", "-1.50", "2.5", "7", "10", "1e1", "100", "1E+2", "0.1",
           "-7", "12345678901234567890", "12345678901234567891",
           "12345678901234567890.0", "-12345678901234567890", "1e300",
           "4.999999999999999999", "5"]
# Numbers that differ but share a double; --no-collisions leaves them out.
COLLIDING = {"12345678901234567891", "4.999999999999999999"}
STRINGS = ["", "a", "b", "A", "Z", "z", "3", "10", "apple", "Apple",
           "apple pie", "banana", "é", "e", "café", "cafe", "Äpfel",
           "東京", "\U0001F600", "a\tb", 'say "hi"', "zz", "ab"]


def json_string(s, rng):
    """A JSON string literal for s, non-ASCII raw or \\u-escaped."""
    out = ['"']
    escape = rng.random() < 0.4
    for ch in s:
        o = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif o < 0x20:
            out.append("\\u%04x" % o)
        elif o >= 0x80 and escape:
            if o > 0xFFFF:
                o -= 0x10000
                out.append("\\u%04x\\u%04x" % (0xD800 + (o >> 10),
                                                0xDC00 + (o & 0x3FF)))
            else:
                out.append("\\u%04x" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def dump(v, rng):
    if isinstance(v, Num):
        return str(v)
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, str):
        return json_string(v, rng)
    if isinstance(v, list):
        return "[" + ",".join(dump(x, rng) for x in v) + "]"
    return "{" + ",".join(json_string(k, rng) + ":" + dump(x, rng)
                          for k, x in v.items()) + "}"


def scalar(rng):
    r = rng.random()
    if r < 0.45:
        return Num(rng.choice(NUMBERS))
    if r < 0.85:
        return rng.choice(STRINGS)
    return rng.choice([True, False, None])


def value(rng, depth=0):
    r = rng.random()
    if r < 0.7 or depth > 1:
        return scalar(rng)
    if r < 0.88:
        return [value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {k: value(rng, depth + 1)
            for k in rng.sample(["k", "x", "a"], rng.randrange(3))}


def member(rng, make):
    """A member's value, absent (None returned as ABSENT) or null often."""
    r = rng.random()
    if r < 0.15:
        return ABSENT
    if r < 0.22:
        return None
    return make(rng)


def number(rng):
    return Num(rng.choice(NUMBERS)) if rng.random() < 0.85 else scalar(rng)


def string(rng):
    return rng.choice(STRINGS) if rng.random() < 0.85 else scalar(rng)


def tags(rng):
    if rng.random() < 0.85:
        return [scalar(rng) for _ in range(rng.randrange(5))]
    return value(rng)


def document(rng):
    d = {}
    for name, make in (("a", number), ("b", string), ("c", value),
                       ("t", tags), ("e", lambda r: rng.choice(
                           [True, False, None, Num("0"), "true"]))):
        v = member(rng, make)
        if v is not ABSENT:
            d[name] = v
    n = member(rng, lambda r: {})
    if isinstance(n, dict):
        for name, make in (("x", number), ("y", value)):
            v = member(rng, make)
            if v is not ABSENT:
                n[name] = v
        z = member(rng, lambda r: {})
        if isinstance(z, dict):
            w = member(rng, value)
            if w is not ABSENT:
                z["w"] = w
            n["z"] = z
    if n is not ABSENT:
        d["n"] = n
    return d


def doc_ids(rng, count):
    prefixes = ["d", "D", "x", "_", "é", "k-"]
    ids = ["%s%03d" % (rng.choice(prefixes), i) for i in range(count)]
    rng.shuffle(ids)
    return ids


# ---- generating queries -------------------------------------------------

PATHS = ["a", "b", "c", "t", "e", "n.x", "n.y", "n.z.w", "n", "_id",
         "missing", "n.z"]
PREC = {"OR": 1, "AND": 2, "NOT": 3}


def literal(rng, ids):
    """(NQL text, Python value) of a scalar literal."""
    r = rng.random()
    if r < 0.45:
        t = rng.choice(NUMBERS)
        return t, parse(t)
    if r < 0.85 or not ids:
        s = rng.choice(STRINGS)
    else:
        s = rng.choice(ids)
    if r >= 0.85 or rng.random() < 0.9:
        return json_string(s, rng), s
    w = rng.choice(["true", "false", "null", "TRUE", "Null"])
    return w, {"true": True, "false": False, "null": None}[w.lower()]


def atom(rng, ids):
    path = rng.choice(PATHS)
    r = rng.random()
    if r < 0.55:
        return (rng.choice(["=", "=", "!=", "<", "<=", ">", ">="]), path,
                literal(rng, ids))
    if r < 0.72:
        return ("IN", path, [literal(rng, ids)
                             for _ in range(1 + rng.randrange(4))])
    if r < 0.84:
        return ("EXISTS", path)
    return ("CONTAINS", path, literal(rng, ids))


def expr(rng, ids, depth=0):
    r = rng.random()
    if depth >= 3 or r < 0.4:
        return atom(rng, ids)
    if r < 0.55:
        return ("NOT", expr(rng, ids, depth + 1))
    return (rng.choice(["AND", "OR"]), expr(rng, ids, depth + 1),
            expr(rng, ids, depth + 1))


def text(e, rng, parent=0):
    """NQL text of e: parentheses where precedence needs them, and
    sometimes where it does not."""
    op = e[0]
    if op in PREC:
        if op == "NOT":
            s = ("NOT " if rng.random() < 0.8 else "not ") + \
                text(e[1], rng, PREC["NOT"])
        else:
            s = "%s %s %s" % (text(e[1], rng, PREC[op]),
                              op if rng.random() < 0.8 else op.lower(),
                              text(e[2], rng, PREC[op]))
        if PREC[op] < parent or rng.random() < 0.15:
            s = "(" + s + ")"
        return s
    if op == "IN":
        return "%s IN (%s)" % (e[1], ", ".join(v[0] for v in e[2]))
    if op == "EXISTS":
        return "%s EXISTS" % e[1]
    if op == "CONTAINS":
        return "%s CONTAINS %s" % (e[1], e[2][0])
    return "%s %s %s" % (e[1], op, e[2][0])


def queries(rng, ids, nwhere, norder):
    """[(nql, kind, evaluator)] where kind is 'set' or 'list'."""
    out = []
    for _ in range(nwhere):
        e = expr(rng, ids)
        out.append(("FROM t WHERE " + text(e, rng), "set",
                    lambda docs, e=e: [d for d in docs if evaluate(e, d)]))
    order_paths = ["a", "b", "c", "t", "e", "n.x", "n.y", "n.z.w", "n",
                   "missing"]
    for i in range(norder):
        e = expr(rng, ids) if rng.random() < 0.5 else None
        keys = [(rng.choice(order_paths), rng.random() < 0.5)
                for _ in range(1 if rng.random() < 0.7 else 2)]
        limit = offset = None
        if rng.random() < 0.7:
            limit = rng.choice([1, 2, 3, 5, 10, 40, 1000])
            if rng.random() < 0.4:
                offset = rng.choice([0, 1, 3, 10])
        q = "FROM t"
        if e is not None:
            q += " WHERE " + text(e, rng)
        q += " ORDER BY " + ", ".join(
            p + (" DESC" if desc else rng.choice(["", " ASC"]))
            for p, desc in keys)
        if limit is not None:
            q += " LIMIT %d" % limit
            if offset is not None:
                q += " OFFSET %d" % offset

        def answer(docs, e=e, keys=keys, limit=limit, offset=offset):
            rows = [d for d in docs if e is None or evaluate(e, d)]
            rows = sort_rows(rows, keys)[offset or 0:]
            return rows if limit is None else rows[:limit]
        out.append((q, "list", answer))
    return out


# ---- running nedb -------------------------------------------------------

def run(args, stdin=None):
    p = subprocess.run(args, input=stdin, capture_output=True)
    if p.returncode:
        raise RuntimeError("%s exited %d: %s" % (
            " ".join(args), p.returncode,
            p.stderr.decode(errors="replace").strip()))
    return p.stdout.decode()


def query(db, nql):
    out = run(["nedb-query", "-d", db, nql])
    return [json.loads(line)["_id"] for line in out.splitlines()]


def explain(db, nql):
    return json.loads(run(["nedb-query", "-d", db, "--explain", nql]))


def put_all(db, lines):
    run(["nedb-put", "-d", db, "-q", "t"], ("\n".join(lines) + "\n").encode())


def indexes(db, spec):
    for field, kind_ in spec:
        run(["nedb-index", "-d", db, "t", field, kind_])


INDEXES_B = [("a", "eq"), ("b", "eq"), ("t", "eq"), ("e", "eq"),
             ("n.x", "eq"), ("c", "ordered"), ("n.y", "ordered"),
             ("n.z.w", "ordered"), ("n", "ordered"), ("_id", "ordered")]
INDEXES_C = [("a", "ordered"), ("b", "ordered"), ("t", "ordered"),
             ("e", "ordered"), ("n.x", "ordered"), ("c", "eq"),
             ("n.y", "eq"), ("n.z.w", "eq"), ("n", "eq"), ("_id", "eq")]


def check(mode, db, qs, docs, pool, mismatches, plans):
    def one(i):
        nql, how, answer = qs[i]
        want = [d["_id"] for d in answer(docs)]
        try:
            got = query(db, nql)
        except RuntimeError as err:
            return ("%s: %s\n    %s" % (mode, nql, err), None)
        plan = None
        if mode != "a" and i % 3 == 0:
            plan = explain(db, nql)["plan"]
        if how == "set":
            ok = sorted(got) == sorted(want)
        else:
            ok = got == want
        if ok:
            return None, plan
        missing = [x for x in want if x not in got]
        extra = [x for x in got if x not in want]
        detail = "missing %s extra %s" % (missing[:8], extra[:8])
        if how == "list" and not missing and not extra:
            k = next(k for k in range(len(want)) if want[k] != got[k])
            detail = "order from row %d: want %s\n    got  %s" % (
                k, want[k:k + 6], got[k:k + 6])
        return ("%s: %s\n    %s" % (mode, nql, detail), plan)

    for msg, plan in pool.map(one, range(len(qs))):
        if msg:
            mismatches.append(msg)
        if plan:
            plans[plan] = plans.get(plan, 0) + 1


def differential(seed, top, ndocs, nwhere, norder):
    rng = random.Random(seed)
    ids = doc_ids(rng, ndocs)
    texts = {}
    for i in ids:
        d = document(rng)
        texts[i] = dump(dict([("_id", i)] + list(d.items())), rng)
    docs = [parse(texts[i]) for i in ids]
    qs = queries(rng, ids, nwhere, norder)
    a, c = os.path.join(top, "a"), os.path.join(top, "c")
    mismatches, plans = [], {}
    workers = max(2, min(8, (os.cpu_count() or 2) * 2))
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        # a: no indexes
        put_all(a, [texts[i] for i in ids])
        check("a", a, qs, docs, pool, mismatches, plans)
        # b: the same database after indexes are created
        indexes(a, INDEXES_B)
        check("b", a, qs, docs, pool, mismatches, plans)
        # c: indexes first, then writes that replace and delete
        indexes(c, INDEXES_C)
        decoys = ids[:]
        rng.shuffle(decoys)
        put_all(c, [dump(dict([("_id", i)] + list(document(rng).items())),
                         rng) for i in decoys[: ndocs // 2]])
        extra = ["zz-extra%d" % k for k in range(20)]
        put_all(c, [dump(dict([("_id", i)] + list(document(rng).items())),
                         rng) for i in extra])
        put_all(c, [texts[i] for i in ids])
        run(["nedb-delete", "-d", c, "t"] + extra)
        check("c", c, qs, docs, pool, mismatches, plans)
    total = 3 * len(qs)
    for m in mismatches[:20]:
        print("MISMATCH " + m)
    if len(mismatches) > 20:
        print("... and %d more mismatches" % (len(mismatches) - 20))
    used = sum(n for p, n in plans.items() if p != "scan")
    print("seed %d: %d documents, %d queries x 3 modes, %d mismatches; "
          "plans sampled in b and c: %s" % (
              seed, ndocs, len(qs), len(mismatches),
              json.dumps(plans, sort_keys=True)))
    if not used:
        print("no sampled query used an index: the test proves nothing")
        return 1
    return 1 if mismatches else 0


# ---- self-test of the reference -----------------------------------------

def selftest():
    d = parse('{"_id":"x","v":3,"w":3.0,"s":"3","z":null,"arr":[1,[2],'
              '{"a":1,"b":2}],"o":{"p":{"q":"é"}},"big":12345678901234567890}')
    n = parse
    cases = [
        (("=", "v", ("3.0", n("3.0"))), True),
        (("=", "w", ("3", n("3"))), True),
        (("=", "v", ("30e-1", n("30e-1"))), True),
        (("=", "s", ('3', n("3"))), False),
        (("=", "big", ("", n("12345678901234567891"))), False),
        (("<", "big", ("", n("12345678901234567891"))), True),
        (("!=", "missing", ("1", n("1"))), True),
        (("<", "s", ('"4"', "4")), True),
        (("<", "v", ('"4"', "4")), False),
        (("<", "z", ("1", n("1"))), False),
        (("=", "z", ("null", None)), True),
        (("EXISTS", "z"), True),
        (("EXISTS", "missing"), False),
        (("CONTAINS", "arr", ("1.0", n("1.0"))), True),
        (("CONTAINS", "s", ('"3"', "3")), False),
        (("=", "o.p.q", ('"\\u00e9"', "é")), True),
        (("IN", "v", [('"3"', "3"), ("null", None)]), False),
        (("IN", "v", [('"3"', "3"), ("3.00", n("3.00"))]), True),
        (("NOT", ("EXISTS", "v")), False),
    ]
    bad = 0
    for e, want in cases:
        if evaluate(e, d) != want:
            print("selftest: %r gave %r" % (e, not want))
            bad += 1
    if not eq(n('{"a":1,"b":[1,2]}'), n('{"b":[1.0,2],"a":1}')):
        print("selftest: objects are not structural")
        bad += 1
    vals = [ABSENT] + [n(t) for t in (
        'null', 'false', 'true', '-1', '3', '""', '"Z"', '"a"', '"\u00e9"',
        '[]', '[1]', '[1,2]', '[2]', '{}', '{"a":1}', '{"b":0}')]
    for i, x in enumerate(vals):
        for j, y in enumerate(vals):
            if order(x, y) != (i > j) - (i < j):
                print("selftest: order(%r, %r)" % (x, y))
                bad += 1
    rows = sort_rows([n('{"_id":"b","k":1}'), n('{"_id":"a","k":1.0}'),
                      n('{"_id":"c","k":2}')], [("k", True)])
    if [r["_id"] for r in rows] != ["c", "a", "b"]:
        print("selftest: DESC must keep ties in _id order")
        bad += 1
    print("selftest: %d cases, %d wrong" % (len(cases), bad))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int)
    ap.add_argument("--dir")
    ap.add_argument("--docs", type=int, default=250)
    ap.add_argument("--where", type=int, default=150)
    ap.add_argument("--order", type=int, default=50)
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--no-collisions", action="store_true",
                    help="leave out numbers that share a double with "
                    "another (to tell bugs apart)")
    ap.add_argument("--print", action="store_true",
                    help="print the documents and queries, run nothing")
    o = ap.parse_args()
    if o.selftest:
        return selftest()
    if o.no_collisions:
        NUMBERS[:] = [t for t in NUMBERS if t not in COLLIDING]
    if o.seed is None or (o.dir is None and not o.print):
        ap.error("--seed and --dir are required")
    if o.print:
        rng = random.Random(o.seed)
        ids = doc_ids(rng, o.docs)
        for i in ids:
            print(dump(dict([("_id", i)] + list(document(rng).items())),
                       rng))
        for q in queries(rng, ids, o.where, o.order):
            print(q[0])
        return 0
    try:
        return differential(o.seed, o.dir, o.docs, o.where, o.order)
    except RuntimeError as err:
        print("ERROR %s" % err)
        return 1


if __name__ == "__main__":
    sys.exit(main())
