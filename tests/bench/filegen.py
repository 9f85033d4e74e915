#!/usr/bin/env python3
"""tests/bench/filegen.py - the file store bench's corpus (tests/bench/files).

  filegen.py new SEED MIB OUT      a file of MIB MiB: 1 MiB blocks, one in
                                   two incompressible (random bytes), the
                                   others text-like (16 letters, spaces and
                                   newlines: deflate takes about half away)
  filegen.py edit SEED N IN OUT    IN with N random edits (inserts, deletes
                                   and overwrites of 1 byte to 64 KiB at
                                   random offsets)
  filegen.py insert1 SEED IN OUT   IN with one byte inserted at a random
                                   offset

Deterministic: the same arguments give the same bytes.
"""
import random
import sys

ALPHA = bytes(b"etaoinshrdlucmfw" * 14 + b" " * 24 + b"\n" * 8)
assert len(ALPHA) == 256


def block(r, i):
    b = r.randbytes(1 << 20)
    return b if i % 2 == 0 else b.translate(ALPHA)


def new(seed, mib, out):
    r = random.Random(seed)
    with open(out, "wb") as f:
        for i in range(mib):
            f.write(block(r, i))


def edit(seed, n, src, out):
    r = random.Random(seed)
    data = bytearray(open(src, "rb").read())
    for _ in range(n):
        kind = r.choice(("insert", "delete", "overwrite"))
        size = min(int(r.expovariate(1 / 4096)) + 1, 65536)
        off = r.randrange(len(data) + 1)
        new = r.randbytes(size)
        if r.random() < 0.5:
            new = new.translate(ALPHA)
        if kind == "insert":
            data[off:off] = new
        elif kind == "delete":
            del data[off:off + size]
        else:
            data[off:off + size] = new
    open(out, "wb").write(data)


def insert1(seed, src, out):
    r = random.Random(seed)
    data = bytearray(open(src, "rb").read())
    off = r.randrange(len(data) + 1)
    data[off:off] = b"!"
    open(out, "wb").write(data)


def main():
    a = sys.argv[1:]
    if a and a[0] == "new" and len(a) == 4:
        new(int(a[1]), int(a[2]), a[3])
    elif a and a[0] == "edit" and len(a) == 5:
        edit(int(a[1]), int(a[2]), a[3], a[4])
    elif a and a[0] == "insert1" and len(a) == 4:
        insert1(int(a[1]), a[2], a[3])
    else:
        sys.exit(__doc__)


main()
