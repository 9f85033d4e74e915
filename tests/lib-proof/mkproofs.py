#!/usr/bin/env python3
"""Test proofs for nedb-proof verify and nedb-witness, made without nedb.

An RFC 6962 tree (hashlib SHA-256) over op hashes drawn from a seed, and
C2SP signed checkpoints signed with python3-cryptography's Ed25519 in
sumdb/note's format, from a signer key file as nedb-key signer new writes.

  mkproofs.py incl N SEED            one inclusion proof (JSON) per leaf
  mkproofs.py cons N SEED            consistency proofs from every size < N
  mkproofs.py one N SEED M           the consistency proof from M to N
  mkproofs.py root N SEED            the root (hex)
  mkproofs.py checkpoint N SEED ORIGIN KEYFILE [EXT...]
                                     the signed checkpoint of the tree
  mkproofs.py tlog N SEED ORIGIN KEYFILE [--no-extra]
                                     a tlog-proof@v1 per leaf
  mkproofs.py flips FILE             every inclusion or consistency proof
                                     in FILE with one hash digit, the seq
                                     or a size changed: each must be invalid
  mkproofs.py sigflips FILE          the tlog-proofs in FILE, each with one
                                     base64 digit of a signature changed
"""
import base64
import hashlib
import json
import struct
import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives import serialization

EMDASH = "\u2014"


def sha(b):
    return hashlib.sha256(b).digest()


def ops(n, seed):
    return [sha(("%s/%d" % (seed, i)).encode()) for i in range(n)]


class Tree:
    """RFC 9162 §2.1.1 with memoised subtree hashes."""

    def __init__(self, leaves):
        self.leaves = [sha(b"\x00" + d) for d in leaves]
        self.memo = {}

    def mth(self, lo, hi):
        key = (lo, hi)
        if key not in self.memo:
            n = hi - lo
            if n == 0:
                h = sha(b"")
            elif n == 1:
                h = self.leaves[lo]
            else:
                k = 1 << ((n - 1).bit_length() - 1)
                h = sha(b"\x01" + self.mth(lo, lo + k) + self.mth(lo + k, hi))
            self.memo[key] = h
        return self.memo[key]

    def path(self, m, lo, hi):
        n = hi - lo
        if n <= 1:
            return []
        k = 1 << ((n - 1).bit_length() - 1)
        if m - lo < k:
            return self.path(m, lo, lo + k) + [self.mth(lo + k, hi)]
        return self.path(m, lo + k, hi) + [self.mth(lo, lo + k)]

    def subproof(self, m, lo, hi, b):
        n = hi - lo
        if m == n:
            return [] if b else [self.mth(lo, hi)]
        k = 1 << ((n - 1).bit_length() - 1)
        if m <= k:
            return self.subproof(m, lo, lo + k, b) + [self.mth(lo + k, hi)]
        return self.subproof(m - k, lo + k, hi, False) + [self.mth(lo, lo + k)]


def key_from_file(path):
    text = open(path).read().strip()
    parts = text.split("+", 4)
    assert parts[0] == "PRIVATE" and parts[1] == "KEY", "not a signer key"
    name, hash8, b64 = parts[2], parts[3], parts[4]
    raw = base64.b64decode(b64)
    assert raw[0] == 1 and len(raw) == 33
    return name, bytes.fromhex(hash8), Ed25519PrivateKey.from_private_bytes(raw[1:])


def sign_note(text, keyfile):
    name, kh, k = key_from_file(keyfile)
    sig = k.sign(text.encode())
    return text + "\n" + "%s %s %s\n" % (EMDASH, name, base64.b64encode(kh + sig).decode())


def checkpoint(n, seed, origin, keyfile, ext=()):
    t = Tree(ops(n, seed))
    body = "%s\n%d\n%s\n" % (origin, n, base64.b64encode(t.mth(0, n)).decode())
    body += "".join(e + "\n" for e in ext)
    return sign_note(body, keyfile)


def main():
    a = sys.argv[1:]
    cmd = a[0]
    out = sys.stdout
    if cmd in ("incl", "cons", "one", "root", "checkpoint", "tlog"):
        n, seed = int(a[1]), a[2]
        leaves = ops(n, seed)
        t = Tree(leaves)
        root = t.mth(0, n)
    if cmd == "incl":
        for i in range(n):
            out.write(json.dumps({"seq": i, "size": n, "leaf": leaves[i].hex(),
                                  "root": root.hex(),
                                  "proof": [h.hex() for h in t.path(i, 0, n)]},
                                 separators=(",", ":")) + "\n")
    elif cmd in ("cons", "one"):
        sizes = [int(a[3])] if cmd == "one" else range(1, n)
        for m in sizes:
            out.write(json.dumps({"old": m, "new": n, "old_root": t.mth(0, m).hex(),
                                  "new_root": root.hex(),
                                  "proof": [h.hex() for h in t.subproof(m, 0, n, True)]},
                                 separators=(",", ":")) + "\n")
    elif cmd == "root":
        print(root.hex())
    elif cmd == "checkpoint":
        out.write(checkpoint(n, seed, a[3], a[4], a[5:]))
    elif cmd == "tlog":
        cp = checkpoint(n, seed, a[3], a[4])
        for i in range(n):
            s = "c2sp.org/tlog-proof@v1\n"
            if "--no-extra" not in a:
                s += "extra %s\n" % base64.b64encode(leaves[i]).decode()
            s += "index %d\n" % i
            s += "".join(base64.b64encode(h).decode() + "\n" for h in t.path(i, 0, n))
            out.write(s + "\n" + cp)
    elif cmd == "flips":
        for line in open(a[1]):
            p = json.loads(line)
            keys = ["leaf", "root"] if "seq" in p else ["old_root", "new_root"]
            for k in keys:
                for pos in range(64):
                    q = dict(p)
                    q[k] = flip_hex(p[k], pos)
                    out.write(json.dumps(q, separators=(",", ":")) + "\n")
            for j in range(len(p["proof"])):
                for pos in range(64):
                    q = dict(p)
                    q["proof"] = list(p["proof"])
                    q["proof"][j] = flip_hex(p["proof"][j], pos)
                    out.write(json.dumps(q, separators=(",", ":")) + "\n")
            nums = ["seq", "size"] if "seq" in p else ["old", "new"]
            for k in nums:
                for d in (-1, 1):
                    q = dict(p)
                    q[k] = p[k] + d
                    if q[k] >= 0:
                        out.write(json.dumps(q, separators=(",", ":")) + "\n")
            # a hash too many, a hash too few
            q = dict(p)
            q["proof"] = p["proof"] + [p["proof"][0] if p["proof"] else "00" * 32]
            out.write(json.dumps(q, separators=(",", ":")) + "\n")
            if p["proof"]:
                q["proof"] = p["proof"][:-1]
                out.write(json.dumps(q, separators=(",", ":")) + "\n")
    elif cmd == "sigflips":
        text = open(a[1]).read()
        lines = text.split("\n")
        for i, l in enumerate(lines):
            if not l.startswith(EMDASH + " "):
                continue
            name, b64 = l[2:].split(" ", 1)
            raw = bytearray(base64.b64decode(b64))
            # every byte of the key id and the signature (re-encoded, so
            # that each variant is well-formed base64)
            for j in range(len(raw)):
                r = bytearray(raw)
                r[j] ^= 0x01
                v = list(lines)
                v[i] = "%s %s %s" % (EMDASH, name, base64.b64encode(bytes(r)).decode())
                out.write("\n".join(v))
    else:
        sys.exit("mkproofs.py: unknown command " + cmd)


def flip_hex(s, pos):
    c = "0123456789abcdef"
    return s[:pos] + c[(c.index(s[pos]) + 1) % 16] + s[pos + 1:]


if __name__ == "__main__":
    main()
