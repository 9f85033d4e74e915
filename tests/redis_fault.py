#!/usr/bin/env python3
"""redis_fault.py - a seeded writer against a Redis, and the comparison
of a database that follows it (tests/redis-follow.bats).

    redis_fault.py write SOCK SEED N LOG   N mixed writes (SET, HSET, INCR,
                                           LPUSH, SADD, DEL, EXPIRE,
                                           MULTI/EXEC, EVAL); LOG gets, per
                                           key, the writes that changed it
    redis_fault.py compare SOCK [LOG]      every key of Redis against the
                                           database ($NEDB_DIR): type,
                                           value, TTL within a second, and
                                           with LOG one version per
                                           logged write

It speaks RESP over the unix socket itself, so that it needs nothing
but Python.  compare prints what differs and exits 1 when anything does.
"""
import json
import random
import socket
import subprocess
import sys
import time


class Redis:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rb")

    def __call__(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)
        return self.reply()

    def reply(self):
        line = self.f.readline()[:-2]
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            raise RuntimeError(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)[:-2]
            return data.decode()
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise RuntimeError("bad reply %r" % line)


SCRIPT = ("redis.call('INCR', KEYS[1]); "
          "redis.call('RPUSH', KEYS[2], ARGV[1]); return 1")


def write(sock, seed, n, log):
    r = Redis(sock)
    rnd = random.Random(seed)
    changed = {}

    def note(key, count=1):
        changed[key] = changed.get(key, 0) + count

    keys = ["k%d" % i for i in range(40)]
    for i in range(n):
        if i % 10 == 0:
            time.sleep(0.005)   # a pace that faults can fall into
        op = rnd.randrange(10)
        k = rnd.choice(keys)
        if op == 0:
            r("SET", "s:" + k, "v%d" % i)
            note("s:" + k)
        elif op == 1:
            r("HSET", "h:" + k, "f%d" % rnd.randrange(5), i)
            note("h:" + k)
        elif op == 2:
            r("INCR", "n:" + k)
            note("n:" + k)
        elif op == 3:
            r("LPUSH", "l:" + k, i)
            note("l:" + k)
        elif op == 4:
            if r("SADD", "t:" + k, "m%d" % rnd.randrange(8)):
                note("t:" + k)
        elif op == 5:
            victim = rnd.choice(["s:", "h:", "n:", "l:", "t:"]) + k
            if r("DEL", victim):
                note(victim)
        elif op == 6:
            victim = rnd.choice(["s:", "h:", "n:"]) + k
            # an expiry is an op, not a version of the document
            r("EXPIRE", victim, 3600 + rnd.randrange(3600))
        elif op == 7:
            a, b = "n:" + k, "l:" + rnd.choice(keys)
            r("MULTI")
            r("INCR", a)
            r("RPUSH", b, i)
            r("EXEC")
            note(a)
            note(b)
        elif op == 8:
            a, b = "n:" + k, "l:" + rnd.choice(keys)
            r("EVAL", SCRIPT, 2, a, b, i)
            note(a)
            note(b)
        else:
            r("HINCRBY", "h:" + k, "count", 1)
            note("h:" + k)
    with open(log, "w") as f:
        json.dump(changed, f)


def nedb(*args):
    p = subprocess.run(["nedb-" + args[0]] + list(args[1:]),
                       capture_output=True, text=True)
    return p.stdout


def compare(sock, log):
    r = Redis(sock)
    changed = json.load(open(log)) if log else {}
    bad = []
    docs = {}
    for line in nedb("query", "FROM redis").splitlines():
        d = json.loads(line)
        docs[d["_id"]] = d
    keys = r("KEYS", "*")
    for k in sorted(keys):
        t = r("TYPE", k)
        v = {"string": lambda: r("GET", k),
             "hash": lambda: dict(zip(*[iter(r("HGETALL", k))] * 2)),
             "list": lambda: r("LRANGE", k, 0, -1),
             "set": lambda: sorted(r("SMEMBERS", k))}[t]()
        d = docs.pop(k, None)
        if d is None:
            bad.append("%s: missing" % k)
            continue
        got = d.get("value")
        if t == "hash":
            got = dict(got or {})
        if d.get("type") != t or got != v:
            bad.append("%s: %s %r, nedb %s %r" % (k, t, v, d.get("type"),
                                                   got))
        pexp = r("PEXPIRETIME", k)
        meta = json.loads(nedb("get", "--meta", "redis", k) or "{}")
        exp = meta.get("exp") or -1
        if (pexp < 0) != (exp < 0) or (pexp > 0 and abs(pexp - exp) > 1000):
            bad.append("%s: expires at %d, nedb %d" % (k, pexp, exp))
    for k in docs:
        bad.append("%s: in nedb, not in Redis" % k)
    for k, n in sorted(changed.items()):
        h = nedb("get", "--history", "redis", k).splitlines()
        if len(h) != n:
            bad.append("%s: %d writes, %d versions" % (k, n, len(h)))
    for b in bad[:20]:
        print(b)
    print("%d keys, %d written, %d differences" % (len(keys), len(changed),
                                                   len(bad)))
    return 1 if bad else 0


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "compare":
        sys.exit(compare(sys.argv[2], sys.argv[3] if len(sys.argv) > 3
                         else None))
    else:
        sys.exit(__doc__)
