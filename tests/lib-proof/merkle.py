#!/usr/bin/env python3
"""RFC 6962 Merkle tree hashes and proofs, from the RFC's recursive
definitions (section 2.1), with hashlib: an independent computation of
what nedb-proof prints.

    merkle.py HASHES < PROOFS

HASHES has the ops' hashes in hex, one per line, in seq order (from
nedb-log | jq -r .hash).  Each line of PROOFS is a JSON object as
nedb-proof prints it (root, inclusion or consistency; or a document of
nedb-get --proof, whose "_proof" is checked); each must equal the one
computed here, member for member.  Prints "ok N" (exit 0), or the first
difference (exit 1).
"""
import hashlib
import json
import sys


def leaf(data):
    return hashlib.sha256(b"\x00" + data).digest()


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n):
    """k: the largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d):
    if not d:
        return hashlib.sha256(b"").digest()
    if len(d) == 1:
        return leaf(d[0])
    k = split(len(d))
    return node(mth(d[:k]), mth(d[k:]))


def path(m, d):
    if len(d) == 1:
        return []
    k = split(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m, d, b):
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = split(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def expect(got, ops):
    if "_proof" in got:
        got = got["_proof"]
    if "seq" in got:
        s, n = got["seq"], got["size"]
        d = ops[:n]
        return got, {"seq": s, "size": n, "leaf": ops[s].hex(),
                     "root": mth(d).hex(),
                     "proof": [h.hex() for h in path(s, d)]}
    if "old" in got:
        m, n = got["old"], got["new"]
        return got, {"old": m, "new": n, "old_root": mth(ops[:m]).hex(),
                     "new_root": mth(ops[:n]).hex(),
                     "proof": [h.hex() for h in subproof(m, ops[:n], True)]}
    n = got["size"]
    return got, {"size": n, "root": mth(ops[:n]).hex()}


def main():
    with open(sys.argv[1]) as f:
        ops = [bytes.fromhex(line.strip()) for line in f if line.strip()]
    count = 0
    for line in sys.stdin:
        if not line.strip():
            continue
        got, want = expect(json.loads(line), ops)
        if got != want:
            print("differs:\n got  %s\n want %s" % (json.dumps(got),
                  json.dumps(want)))
            return 1
        count += 1
    print("ok %d" % count)
    return 0


if __name__ == "__main__":
    sys.exit(main())
